# SPDX-License-Identifier: GPL-2.0-only
"""No silent loss: with the reader stopped, the ring buffer fills, and
every attempt is either printed or counted as lost."""
import signal

import tcltest


def test_full_ring_buffer_is_accounted_exactly(tracer, agent):
    a = agent()
    port = tcltest.free_port()
    # one page: room for a few dozen records
    t = tracer("--ringbuf-size", "4096", "-p", a.pid)
    n = 300
    t.send_signal(signal.SIGSTOP)
    try:
        tally = a.call("connect_many", timeout=120, n=n,
                       spec=tcltest.spec(4, "127.0.0.1", port))["tally"]
    finally:
        t.send_signal(signal.SIGCONT)
    assert tally == {"ECONNREFUSED": n}, tally
    res = t.stop()
    assert res.rc == 0, res
    printed = [r for r in res.connects if r["pid"] == a.pid]
    assert len(printed) == len(res.connects)
    assert {r["result"] for r in printed} == {"refused"}, res
    assert len({r["sport"] for r in printed}) == len(printed), "one record per attempt"
    lost_lines = [r for r in res.records if r["event"] == "lost"]
    assert len(lost_lines) == 1, res
    lost = lost_lines[0]
    assert list(lost) == ["event", "run", "time", "lost", "untracked", "skipped",
                          "untracked_connections", "map_full"], lost
    assert lost["untracked"] == 0, lost
    assert lost["lost"] > 0, "a 4 KiB buffer cannot hold %d records" % n
    assert len(printed) + lost["lost"] == n, (len(printed), lost)
    summary = res.summary()
    assert summary["lost"] == lost["lost"], res.stderr
    # the summary counts what was printed (lost records never reached it)
    assert summary["rows"]["python3"]["attempts"] == len(printed), res.stderr
    # and the user was told, while it ran, which flag helps
    assert any("--ringbuf-size" in l and "lost" in l for l in res.stderr_lines()), res.stderr
