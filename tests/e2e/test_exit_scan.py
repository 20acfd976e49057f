# SPDX-License-Identifier: GPL-2.0-only
"""The report of attempts still pending at exit: each printed once, and
the summary counts what was printed, even while the applications keep
closing their sockets after Ctrl-C."""
import collections
import os
import signal
import subprocess
import tempfile
import time

import tcltest

# N non-blocking connects that stay in SYN_SENT; on "close K", K of those
# still open (a random choice) are closed; on EOF, all of them
CLIENT = r"""
import ctypes, os, random, resource, socket, sys
ctypes.CDLL(None).prctl(15, sys.argv[4].encode(), 0, 0, 0)    # PR_SET_NAME
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
socks = []
for _ in range(n):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setblocking(False)
    assert s.connect_ex((host, port)) == 115, "not EINPROGRESS"
    socks.append(s)
print("opened", os.getpid(), flush=True)
random.shuffle(socks)
for line in sys.stdin:
    k = int(line.split()[1])
    for s in socks[:k]:
        s.close()
    del socks[:k]
    print("closed", len(socks), flush=True)
"""

COMM = "tcl-exit-scan"
STUCK = 1500        # pending lines of ~270 bytes: far more than a pipe holds
ROUNDS = 5          # closes of half the open sockets while the scan runs


def _probe_fds(pid):
    """Descriptors that keep probes attached: BPF links, perf events."""
    fd_dir = "/proc/%d/fd" % pid
    out = []
    for fd in os.listdir(fd_dir):
        try:
            target = os.readlink(os.path.join(fd_dir, fd))
        except FileNotFoundError:
            continue
        if target in ("anon_inode:bpf_link", "anon_inode:[perf_event]"):
            out.append(target)
    return out


def _wait_ready(proc, err_path):
    def ready():
        assert proc.poll() is None, open(err_path).read()
        return "Ctrl-C to stop" in open(err_path).read()
    tcltest.wait_until(ready, 20, "the tracer to be ready")


def _read_some(pipe, limit):
    """Up to limit bytes, or what comes within half a second."""
    got = b""
    deadline = time.monotonic() + 0.5
    while len(got) < limit and time.monotonic() < deadline:
        chunk = os.read(pipe.fileno(), limit - len(got))
        if not chunk:
            break
        got += chunk
    return got


def _one_run(pair):
    err = tempfile.NamedTemporaryFile(prefix="tcpconnlog-e2e-", suffix=".err")
    # only the client: other processes' records would fill the pipe early
    tracer = subprocess.Popen([tcltest.BIN, "-b", tcltest.BACKEND, "-j", "-n", COMM],
                              stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                              stderr=err)
    tcltest.LIVE.append(tracer)
    _wait_ready(tracer, err.name)
    client = subprocess.Popen(["ip", "netns", "exec", pair.client.name, tcltest.PYTHON, "-c",
                               CLIENT, pair.server_v4, str(pair.drop_port), str(STUCK), COMM],
                              stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    tcltest.LIVE.append(client)
    word, client_pid = client.stdout.readline().split()
    assert word == "opened", word
    # the tracer stops, and blocks writing its pending report into the
    # pipe nobody reads yet; meanwhile the client closes sockets
    tracer.send_signal(signal.SIGINT)
    # the closes are to come once the probes are detached: before, they
    # are outcomes like any other (the code before the fix never detached
    # before its scan: go on after a while, and see what it printed)
    try:
        tcltest.wait_until(lambda: not _probe_fds(tracer.pid), 10, "the probes to go")
    except AssertionError:
        pass
    out = b""
    left = STUCK
    for _ in range(ROUNDS):
        client.stdin.write("close %d\n" % (left // 2))
        client.stdin.flush()
        left = int(client.stdout.readline().split()[1])
        out += _read_some(tracer.stdout, 65536)
    client.stdin.close()
    client.wait(10)
    out += tracer.stdout.read()
    tracer.wait(20)
    with open(err.name) as f:
        stderr = f.read()
    return tracer.returncode, int(client_pid), out.decode(), stderr


def test_pending_attempts_are_reported_once_while_sockets_close(net):
    pair = net.pair()
    # SYNs are dropped: the connects stay in SYN_SENT for a minute
    pair.client.sysctl("net.ipv4.tcp_syn_retries", 5)
    for _ in range(3):
        rc, pid, out, stderr = _one_run(pair)
        where = "exit status %s\n--- stderr ---\n%s" % (rc, stderr)
        assert rc == 0, where
        recs = tcltest.json_lines(out)
        mine = [r for r in recs if r.get("event") == "connect" and r["pid"] == pid]
        pending = [r for r in mine if r["result"] == "pending"]
        ids = collections.Counter(r["id"] for r in pending)
        twice = {i: n for i, n in ids.items() if n > 1}
        assert not twice, "%d pending lines for %d ids; printed more than once: %s\n%s" % (
            len(pending), len(ids), sorted(twice.items())[:10], where)
        # stopped before the closes: every attempt was pending then
        assert len(pending) == len(mine) == STUCK, (
            "%d records of the client, %d pending, %d attempts\n%s"
            % (len(mine), len(pending), STUCK, where))
        row = tcltest.parse_summary(stderr)["rows"][COMM]
        assert row["pending"] == len(pending) and row["attempts"] == STUCK, where
