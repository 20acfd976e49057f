# SPDX-License-Identifier: GPL-2.0-only
"""Clean teardown: nothing of ours outlives the process, however it ends;
signals end the trace with a summary; a failing output is reported."""
import json
import os
import re
import signal
import subprocess
import time

import tcltest


def bpf_objects():
    """{kind: set of ids} of every BPF program, link and map loaded now."""
    out = {}
    for kind in ("prog", "link", "map"):
        r = subprocess.run(["bpftool", "-j", kind, "show"], capture_output=True, text=True,
                           timeout=30, check=True)
        out[kind] = {o["id"] for o in json.loads(r.stdout or "[]")}
    return out


def test_kill_9_leaves_no_program_link_or_map(tracer, listeners):
    """Every probe is held through a descriptor (a BPF link or a perf event
    with its program), so SIGKILL, which runs no code of ours, still frees
    everything. Compared by id with what existed before the start, so
    other BPF users on the machine do not matter."""
    lst = listeners.one("127.0.0.1")
    before = bpf_objects()
    t = tracer("-l")
    ours = {k: v - before[k] for k, v in bpf_objects().items()}
    # the object's programs, its maps and, on kernels with BPF links for
    # them, the links
    assert len(ours["prog"]) >= 3 and len(ours["map"]) >= 5, ours
    c = tcltest.connect(4, "127.0.0.1", lst.port)
    t.send_signal(signal.SIGKILL)
    t.proc.wait(10)
    tcltest.close_all([c])

    def gone():
        now = bpf_objects()
        return all(not (ours[k] & now[k]) for k in ours)
    # the kernel frees them after an RCU grace period
    tcltest.wait_until(gone, 10, "the killed tracer's programs, links and maps to go")


def test_sighup_ends_the_trace_like_ctrl_c(tracer, listeners):
    """A closed terminal or session (SIGHUP) gets the same clean end as
    Ctrl-C: the records, the summary, status 0."""
    lst = listeners.one("127.0.0.1")
    t = tracer()
    c = tcltest.connect(4, "127.0.0.1", lst.port)
    tcltest.close_all([c])
    res = t.stop(signal.SIGHUP)
    assert res.rc == 0, res
    tcltest.check_record(tcltest.only_record(res, c), c, res.backend, result="established",
                         errno=None, saddr="127.0.0.1")
    assert res.summary()["lost"] == 0, res


def test_full_output_device_is_reported_and_stops_the_trace(listeners):
    """stdout on a full disk (/dev/full): the first failed write stops the
    trace with one line naming the error and status 1, without waiting
    for a signal."""
    lst = listeners.one("127.0.0.1")
    with open("/dev/full", "w") as full:
        p = subprocess.Popen([tcltest.BIN, "-b", tcltest.BACKEND, "-j", "--no-summary"],
                             stdin=subprocess.DEVNULL, stdout=full, stderr=subprocess.PIPE,
                             text=True)
    tcltest.LIVE.append(p)
    ready = p.stderr.readline()
    assert "Ctrl-C to stop" in ready, ready
    c = tcltest.connect(4, "127.0.0.1", lst.port)
    tcltest.close_all([c])
    t0 = time.monotonic()
    try:
        p.wait(5)
    except subprocess.TimeoutExpired:
        raise AssertionError("still running 5 s after its output failed")
    rest = p.stderr.read()
    assert p.returncode == 1, (p.returncode, rest)
    # the lines that failed are counted: at least the connect's (the
    # trace is not filtered: other traffic may add some)
    lines = rest.splitlines()
    m = re.match(r"^tcpconnlog: writing output: No space left on device "
                 r"\((\d+) lines not written\)$", lines[0]) if len(lines) == 1 else None
    assert m and int(m.group(1)) >= 1, rest
    assert time.monotonic() - t0 < 5
