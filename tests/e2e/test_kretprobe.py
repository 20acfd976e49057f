# SPDX-License-Identifier: GPL-2.0-only
"""Returns a kretprobe misses are counted. A kretprobe has a fixed number
of instances (maxactive), one per call in flight; a call that finds none
free loses its return, and its record its call_us. The tool must say how
many (the `skipped` count), so that no record lacks call_us unexplained.
Needs kprobes: it runs in the VM (tests/vm), e.g. on 5.10."""
import subprocess

import pytest

import tcltest

THREADS = 64
EACH = 20
# connects that overlap inside tcp_v4_connect: the call returns once the
# SYN is out (the wait for the answer is outside it), so it is many
# threads connecting at once, not blocked connects, that fill maxactive
CLIENT = r"""
import socket, sys, threading
host, port, threads, each = sys.argv[1], int(sys.argv[2]), int(sys.argv[3]), int(sys.argv[4])
barrier = threading.Barrier(threads)
def run():
    barrier.wait()
    for _ in range(each):
        socket.create_connection((host, port)).close()
ts = [threading.Thread(target=run) for _ in range(threads)]
for t in ts:
    t.start()
for t in ts:
    t.join()
"""


@pytest.mark.skipif(not tcltest.kprobes_supported(),
                    reason="no kprobes on this kernel: runs in the VM guests")
def test_missed_returns_are_counted(monkeypatch):
    lst = tcltest.Listener("127.0.0.1", keep=False)
    try:
        monkeypatch.setenv("TCPCONNLOG_KRETPROBE_MAXACTIVE", "1")
        t = tcltest.Tracer(backend="kprobe").wait_ready()
        client = subprocess.run([tcltest.PYTHON, "-c", CLIENT, "127.0.0.1", str(lst.port),
                                 str(THREADS), str(EACH)], timeout=300)
        assert client.returncode == 0
        res = t.stop(timeout=60)
    finally:
        lst.close()
    assert res.rc == 0, res
    mine = [r for r in res.connects if r["comm"] == "python3" and r["dport"] == lst.port]
    assert len(mine) == THREADS * EACH, "%d records for %d connects\n%s" % (
        len(mine), THREADS * EACH, res.stderr)
    assert {r["result"] for r in mine} == {"established"}, res.stderr
    no_call = sum(1 for r in mine if r["call_us"] is None)
    lost = [r for r in res.records if r.get("event") == "lost"]
    skipped = lost[0]["skipped"] if lost else 0
    assert no_call > 0, ("maxactive 1 with %d threads lost no return: the test proves "
                         "nothing here\n%s" % (THREADS, res.stderr))
    assert skipped == no_call == res.skipped(), (
        "%d records without call_us, %d runs reported skipped (JSON), %d (summary)\n%s"
        % (no_call, skipped, res.skipped(), res.stderr))
