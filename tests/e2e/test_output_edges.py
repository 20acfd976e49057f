# SPDX-License-Identifier: GPL-2.0-only
"""Where stdout does not simply take what is written. Ctrl-C (or SIGTERM)
while stdout is a pipe nobody reads yet: the tool is blocked writing when
the signal comes. Every record must still come out, whole, once the pipe
is read; the signal is a request to stop, not a write error. Timing
decides where the signal lands, so the test loops. (A stdout that fails,
a full disk: test_teardown.py.)

Run as a script, this file is the client: it connects N times to a
loopback listener as fast as it can (closing with RST, so that no
TIME_WAIT piles up) and prints its source ports as one JSON line.
"""
import json
import os
import re
import signal
import socket
import struct
import subprocess
import sys
import threading
import time

import pytest

import tcltest

# Each round lands the signal on a different point of the blocked write;
# in a guest a round takes 7 s (1000 connects from Python under TCG), and
# the output path there is the same user space the host runs 16 rounds of.
ROUNDS = 4 if tcltest.IN_GUEST else 16
CONNECTS = 1000


def storm(port, n):
    """The client: wait for a line on stdin, connect n times, report."""
    linger = struct.pack("ii", 1, 0)
    sys.stdin.readline()
    sports = []
    for _ in range(n):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, linger)
        s.connect(("127.0.0.1", port))
        sports.append(s.getsockname()[1])
        s.close()
    print(json.dumps(sports), flush=True)


def in_write_to_stdout(pid):
    """Whether the process sits in write(1, ...) (x86-64 and arm64 numbers)."""
    nr = {"x86_64": "1", "aarch64": "64"}[os.uname().machine]
    try:
        with open("/proc/%d/syscall" % pid) as f:
            fields = f.read().split()
    except OSError:
        return False
    return len(fields) > 1 and fields[0] == nr and int(fields[1], 16) == 1


def one_round(listener, sig, tmpdir, second=None):
    client = subprocess.Popen([tcltest.PYTHON, os.path.abspath(__file__), "storm",
                               str(listener.port), str(CONNECTS)],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    tcltest.LIVE.append(client)
    rd, wr = os.pipe()
    err_path = os.path.join(tmpdir, "stderr")
    argv = [tcltest.BIN, "-b", tcltest.BACKEND, "-j", "--no-summary", "-p", str(client.pid)]
    with open(err_path, "wb") as err:
        tool = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=wr, stderr=err)
    os.close(wr)
    tcltest.LIVE.append(tool)

    def stderr():
        with open(err_path, errors="replace") as f:
            return f.read()

    try:
        tcltest.wait_until(lambda: "Ctrl-C to stop" in stderr() or tool.poll() is not None,
                           20, "the ready line")
        assert tool.poll() is None, stderr()
        client.stdin.write("go\n")
        client.stdin.flush()
        sports = json.loads(client.stdout.readline())
        client.wait(10)
        # 1000 records (270 KB) fill the pipe (64 KiB) and the tool's
        # buffer (64 KiB): it waits in write(1) for a reader
        tcltest.wait_until(lambda: in_write_to_stdout(tool.pid), 10,
                           "tcpconnlog blocked writing to stdout")
        tool.send_signal(sig)
        if second:
            # still blocked (nobody reads): the second signal gives up
            time.sleep(0.2)
            assert in_write_to_stdout(tool.pid), stderr()
            tool.send_signal(second)
            rc = tool.wait(10)
        time.sleep(0.05)
        with os.fdopen(rd, "rb") as pipe:
            out = pipe.read()
        rc = tool.wait(15)
    finally:
        tcltest._end(tool)
        tcltest._end(client)
    return rc, out, stderr(), sports


def check_round(rc, out, err, sports, sig):
    what = "round with %s: exit %s, stderr:\n%s" % (signal.Signals(sig).name, rc, err)
    assert rc == 0, what
    assert out.endswith(b"\n"), what + "\nlast bytes: %r" % out[-200:]
    try:
        records = tcltest.json_lines(out.decode())
    except AssertionError as e:
        raise AssertionError("%s\n%s" % (e, what))
    lost = [r for r in records if r["event"] == "lost"]
    assert not lost, "nothing may be lost from a 4 MiB ring buffer: %s\n%s" % (lost, what)
    connects = [r for r in records if r["event"] == "connect"]
    assert len(connects) == len(records), what
    assert len(connects) == len(sports), "%d records for %d connects\n%s" % (
        len(connects), len(sports), what)
    assert sorted(r["sport"] for r in connects) == sorted(sports), what
    assert len({r["id"] for r in connects}) == len(connects), "ids repeat\n" + what
    assert {r["result"] for r in connects} == {"established"}, what


@pytest.mark.view
def test_second_signal_gives_up_and_counts_what_was_not_written(tmp_path):
    """Nobody will ever read: a second signal ends the tool at once, and
    every record is either read whole from the pipe or counted."""
    listener = tcltest.Listener("127.0.0.1", keep=False, backlog=4096)
    try:
        for first, second in ((signal.SIGINT, signal.SIGINT),
                              (signal.SIGTERM, signal.SIGINT)):
            rc, out, err, sports = one_round(listener, first, str(tmp_path), second)
            what = "exit %s, stderr:\n%s" % (rc, err)
            assert rc == 1, what
            m = re.search(r"^tcpconnlog: stopped by a second signal before stdout took "
                          r"every record: (\d+) lines not written$", err, re.M)
            assert m, what
            # a line the interrupted write cut is counted, not read
            records = tcltest.json_lines(out.decode())
            assert {r["event"] for r in records} == {"connect"}, what
            assert len({r["sport"] for r in records}) == len(records), what
            assert set(r["sport"] for r in records) <= set(sports), what
            assert len(records) + int(m.group(1)) == len(sports), (
                "%d read + %s counted for %d connects\n%s"
                % (len(records), m.group(1), len(sports), what))
    finally:
        listener.close()


# the output path is user space, the same whatever backend fed it: the VM
# stage runs it once per kernel (fentry pass), not once per backend
@pytest.mark.view
def test_signal_while_stdout_blocked_loses_nothing(tmp_path):
    listener = tcltest.Listener("127.0.0.1", keep=False, backlog=4096)
    try:
        for i in range(ROUNDS):
            sig = signal.SIGINT if i % 2 == 0 else signal.SIGTERM
            check_round(*one_round(listener, sig, str(tmp_path)), sig)
    finally:
        listener.close()


if __name__ == "__main__" and sys.argv[1:2] == ["storm"]:
    storm(int(sys.argv[2]), int(sys.argv[3]))
