# SPDX-License-Identifier: GPL-2.0-only
"""--stats-interval: the counters so far, every SECS, as a stats record on
stdout (-j) or a line on stderr, equal to what was done and to the exit
summary; the BPF run time per connect when the kernel counts it."""
import os
import re
import time

import pytest

import tcltest

pytestmark = pytest.mark.host

RESULTS = ["established", "refused", "timeout", "unreachable", "closed", "error"]
SYSCTL = "/proc/sys/kernel/bpf_stats_enabled"


def connect_some(established, refused):
    """Connects of this process: `established` to a listener, `refused` to
    a closed port."""
    srv = tcltest.Listener()
    port = tcltest.free_port()
    try:
        for _ in range(established):
            tcltest.socket.create_connection(("127.0.0.1", srv.port), timeout=5).close()
        for _ in range(refused):
            with pytest.raises(ConnectionRefusedError):
                tcltest.socket.create_connection(("127.0.0.1", port), timeout=5)
    finally:
        srv.close()


def json_lines(text):
    """The complete lines of stdout so far, parsed (a line still being
    written is left for later)."""
    return tcltest.json_lines(text)


def stats_after(t, pred, what, timeout=5):
    """The first stats record that satisfies pred."""
    found = []

    def seen():
        found[:] = [r for r in json_lines(t.stdout_now())
                    if r["event"] == "stats" and pred(r)]
        return found
    tcltest.wait_until(seen, timeout, what)
    return found[0]


def want_attempts(established, refused):
    return dict({r: 0 for r in RESULTS}, established=established, refused=refused)


def set_bpf_stats(value):
    with open(SYSCTL, "w") as f:
        f.write("%d\n" % value)


@pytest.fixture
def bpf_stats():
    """kernel.bpf_stats_enabled as the test sets it, restored after."""
    with open(SYSCTL) as f:
        saved = int(f.read())
    yield set_bpf_stats
    set_bpf_stats(saved)


def test_json_stats_count_what_was_done(tracer):
    t = tracer("--stats-interval", "1", "-p", os.getpid())
    connect_some(3, 2)
    last = stats_after(t, lambda r: r["attempts"] == want_attempts(3, 2),
                       "a stats record with 3 established and 2 refused")
    res = t.stop()
    assert res.rc == 0, res

    stats = [r for r in res.records if r["event"] == "stats"]
    assert stats[-1]["attempts"] == want_attempts(3, 2), res
    for s in stats:
        assert list(s) == ["event", "run", "time", "interval_s", "attempts", "lost", "skipped",
                           "untracked", "untracked_connections", "map_full", "table",
                           "bpf_run_time_ns", "bpf_run_count", "bpf_ns_per_connect"], s
        assert s["interval_s"] == 1
        assert list(s["attempts"]) == RESULTS, s
        assert s["lost"] == s["skipped"] == s["untracked"] == s["map_full"] == 0, s
        assert s["untracked_connections"] == 0, s
        assert list(s["table"]) == ["inflight", "inflight_max"], s
        assert s["table"]["inflight_max"] > 0 and s["table"]["inflight"] == 0, s
        tcltest.parse_time(s["time"])
    # each counts exactly the records before it: records first, then the
    # counters that include them
    for i, r in enumerate(res.records):
        if r["event"] != "stats":
            continue
        before = [c["result"] for c in res.records[:i] if c["event"] == "connect"]
        assert r["attempts"] == {k: before.count(k) for k in RESULTS}, (i, res)
    # one a second, on the grid of the first
    times = [tcltest.parse_time(s["time"]) for s in stats]
    for i, when in enumerate(times):
        assert abs(when - times[0] - i) < 0.5, times
    # the exit summary has the same numbers
    summary = res.summary()
    assert summary["lost"] == last["lost"]
    rows = summary["rows"].values()
    assert sum(r["attempts"] for r in rows) == 5, res.stderr
    assert sum(r["estab"] for r in rows) == last["attempts"]["established"], res.stderr
    assert sum(r["failed"] for r in rows) == last["attempts"]["refused"], res.stderr
    assert re.search(r"^refused\s+2\s", res.stderr, re.M), res.stderr


def test_text_stats_line_on_stderr(tracer):
    t = tracer("--stats-interval", "1", "-p", os.getpid(), json_mode=False)
    connect_some(2, 1)
    want = ("tcpconnlog: stats: established=2 refused=1 timeout=0 unreachable=0 closed=0 "
            "error=0 lost=0 skipped=0 untracked=0 untracked_connections=0 map_full=0 "
            "inflight=0/")
    tcltest.wait_until(lambda: want in t.stderr_now(), 5, "the stats line: " + want)
    res = t.stop()
    assert res.rc == 0, res
    assert "stats" not in res.stdout, res
    lines = [l for l in res.stderr_lines() if l.startswith("tcpconnlog: stats: ")]
    assert lines, res
    assert re.fullmatch(r"tcpconnlog: stats: (\w+=\S+ )+bpf_ns_per_connect=(null|[0-9.]+)",
                        lines[-1]), lines[-1]
    assert lines[-1].startswith(want), res
    summary = res.summary()
    rows = summary["rows"].values()
    assert sum(r["attempts"] for r in rows) == 3, res.stderr
    assert sum(r["estab"] for r in rows) == 2, res.stderr
    assert summary["lost"] == 0


def test_bpf_run_time_only_when_the_kernel_counts_it(tracer, bpf_stats):
    """With the default privilege drop: the run time is still read."""
    bpf_stats(1)
    t = tracer("--stats-interval", "1", "-p", os.getpid())
    connect_some(2, 0)
    on = stats_after(t, lambda r: r["attempts"]["established"] == 2,
                     "a stats record with the 2 connects")
    assert isinstance(on["bpf_ns_per_connect"], float), on
    assert on["bpf_ns_per_connect"] > 0, on
    assert on["bpf_run_time_ns"] > 0 and on["bpf_run_count"] >= 2, on
    # the per-connect figure is the run time over the attempts counted
    assert abs(on["bpf_ns_per_connect"] - on["bpf_run_time_ns"] / 2) < 0.01, on
    # read after the privilege drop: the tool runs as nobody now
    with open("/proc/%d/status" % t.proc.pid) as f:
        uid = re.search(r"^Uid:\s+(\d+)", f.read(), re.M).group(1)
    assert uid != "0", "the tracer still runs as root"
    # every record read after the switch off says null
    bpf_stats(0)
    switched = time.time()
    off = stats_after(t, lambda r: tcltest.parse_time(r["time"]) > switched + 0.01,
                      "a stats record after bpf_stats_enabled=0")
    assert off["bpf_ns_per_connect"] is None, off
    assert off["bpf_run_time_ns"] is None and off["bpf_run_count"] is None, off
    res = t.stop()
    assert res.rc == 0, res


def test_bpf_run_time_null_when_off(tracer, bpf_stats):
    bpf_stats(0)
    t = tracer("--stats-interval", "1", "-p", os.getpid())
    connect_some(1, 0)
    s = stats_after(t, lambda r: r["attempts"]["established"] == 1, "a stats record")
    assert s["bpf_ns_per_connect"] is None and s["bpf_run_time_ns"] is None, s
    assert t.stop().rc == 0


@pytest.mark.parametrize("value", ["0", "86401", "-1", "1.5", "1s", "", "x"])
def test_bad_interval_is_a_usage_error(value):
    r = tcltest.run_tool("--stats-interval", value)
    assert r.returncode == 2, r
    assert r.stderr.startswith("tcpconnlog: invalid --stats-interval '%s'" % value), r.stderr
    assert r.stderr.count("\n") == 1, r.stderr


def test_not_with_top_or_without_value():
    r = tcltest.run_tool("--stats-interval", "1", "--top")
    assert r.returncode == 2 and "--stats-interval" in r.stderr, r
    r = tcltest.run_tool("--stats-interval")
    assert r.returncode == 2 and "--stats-interval" in r.stderr, r
