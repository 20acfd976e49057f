# SPDX-License-Identifier: GPL-2.0-only
"""TCP clients whose every detail the tests know.

Imported by the tests to connect from the test process itself, and run as a
script ("agent") to connect from a child process: in another network
namespace (ip netns exec NS python3 tclclient.py), as another user (--uid),
under another command name (--comm) or from several threads at once.

Agents are forked by a "spawner" (tclclient.py --spawner FD), started once
per test session: under emulation starting python and importing costs about
a second, a fork a few milliseconds.

The agent reads one JSON command per line on stdin and answers with one
JSON line per command on stdout (commands that report progress write more
lines first, each with an "event" key).
"""
import ctypes
import errno
import json
import os
import select
import socket
import sys
import threading
import time
import traceback

PR_SET_NAME = 15
CLONE_NEWNET = 0x40000000


def errname(code):
    """errno name for a non-zero code, None for 0 or None."""
    if not code:
        return None
    return errno.errorcode.get(code, "E%d" % code)


def identity():
    """Who is calling: as the kernel will see this thread."""
    with open("/proc/thread-self/comm") as f:
        comm = f.read().rstrip("\n")
    return {
        "pid": os.getpid(),
        "tid": threading.get_native_id(),
        "uid": os.getuid(),
        "comm": comm,
    }


def set_comm(name):
    """Name the calling thread (and threads it creates later)."""
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.prctl(PR_SET_NAME, name.encode(), 0, 0, 0) != 0:
        raise OSError(ctypes.get_errno(), "prctl(PR_SET_NAME)")


def _family(fam):
    return socket.AF_INET if fam == 4 else socket.AF_INET6


class Watcher(threading.Thread):
    """Polls getsockname() of a socket whose blocking connect runs in another
    thread, and reports the source port as soon as the kernel assigned it."""

    def __init__(self, sock, report):
        super().__init__(daemon=True)
        self.sock = sock
        self.report = report
        self.stop = False

    def run(self):
        deadline = time.monotonic() + 30
        while not self.stop and time.monotonic() < deadline:
            try:
                name = self.sock.getsockname()
            except OSError:
                return
            if name[1]:
                self.report(name)
                return
            time.sleep(0.005)


def connect_once(fam, host, port, mode="block", then="wait", timeout=15.0,
                 on_sport=None, proto=0, bind=None):
    """One connect attempt, with everything the client can see of it.

    mode: "block" (connect blocks until the outcome) or "nonblock"
    (EINPROGRESS, then `then`: "wait" for the outcome with poll(),
    "close" the socket at once, or "keep" it open and pending).
    on_sport: for a blocking connect, called from a watcher thread with
    getsockname() as soon as the source port is assigned.
    proto: the socket's protocol (0: TCP; 262: MPTCP); bind: a local
    (host, port) to bind before connecting.

    Returns (info, sock); sock is None unless it stays open ("keep", or an
    established connection, which the caller closes).
    """
    s = socket.socket(_family(fam), socket.SOCK_STREAM, proto)
    if bind:
        s.bind(bind)
    info = identity()
    info.update(fam=fam, host=host, port=port, mode=mode, then=then)
    watcher = None
    if on_sport:
        watcher = Watcher(s, on_sport)
        watcher.start()
    addr = (host, port)
    t0w = time.time()
    t0 = time.monotonic()
    final = None
    if mode == "block":
        err = s.connect_ex(addr)
        t1 = time.monotonic()
        t1w = time.time()
        call_t1, call_t1w = t1, t1w
        final = err
        name = s.getsockname()
    else:
        s.setblocking(False)
        err = s.connect_ex(addr)
        call_t1 = time.monotonic()
        call_t1w = time.time()
        name = s.getsockname()
        t1, t1w = call_t1, call_t1w
        if err != errno.EINPROGRESS:
            final = err
        elif then == "wait":
            p = select.poll()
            p.register(s, select.POLLOUT)
            if not p.poll(timeout * 1000):
                raise TimeoutError("non-blocking connect did not finish")
            final = s.getsockopt(socket.SOL_SOCKET, socket.SO_ERROR)
            t1 = time.monotonic()
            t1w = time.time()
        elif then == "close":
            s.close()
            t1 = time.monotonic()
            t1w = time.time()
        elif then != "keep":
            raise ValueError(then)
    if watcher:
        watcher.stop = True
    info.update(
        call_errno=errname(err),
        errno=errname(final),
        saddr=name[0],
        sport=name[1],
        t0=t0, t0w=t0w,
        call_t1=call_t1, call_t1w=call_t1w,
        t1=t1, t1w=t1w,
        call_us=(call_t1 - t0) * 1e6,
        wall_us=(t1 - t0) * 1e6,
    )
    keep = (then == "keep" and final is None) or (final == 0)
    if not keep and then != "close":
        s.close()
    return info, (s if keep else None)


# --- agent -------------------------------------------------------------

class Agent:
    def __init__(self):
        self.kept = []
        self.listeners = []
        self.lock = threading.Lock()

    def write(self, obj):
        with self.lock:
            sys.stdout.write(json.dumps(obj) + "\n")
            sys.stdout.flush()

    def op_connect(self, spec):
        info, sock = connect_once(**spec)
        if sock:
            self.kept.append(sock)
        return info

    def op_concurrent(self, specs):
        """Each spec in its own thread, all started together."""
        results = [None] * len(specs)
        barrier = threading.Barrier(len(specs))

        def run(i):
            try:
                barrier.wait(10)
                results[i] = self.op_connect(specs[i])
            except Exception:
                results[i] = {"error": traceback.format_exc()}

        threads = [threading.Thread(target=run, args=(i,)) for i in range(len(specs))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        for r in results:
            if r is None or "error" in r:
                raise RuntimeError("thread failed: %r" % (r,))
        return {"results": results}

    def op_watch_connect(self, spec):
        """Blocking connect; report the source port while it blocks."""
        def report(name):
            ev = identity()
            ev.update(tid=main_tid, event="sport", saddr=name[0], sport=name[1],
                      t0=t0[0], t0w=t0[1])
            self.write(ev)

        main_tid = threading.get_native_id()
        t0 = (time.monotonic(), time.time())
        info, sock = connect_once(on_sport=report, **spec)
        if sock:
            self.kept.append(sock)
        return info

    def op_until_error(self, spec, limit=50):
        """Connect again and again, holding every connection, until one
        connect fails (for EADDRNOTAVAIL)."""
        out = []
        for _ in range(limit):
            info = self.op_connect(spec)
            out.append(info)
            if info["errno"]:
                break
        return {"results": out}

    def op_connect_many(self, spec, n):
        """n attempts one after another, as fast as possible; only the
        tally of errnos comes back."""
        tally = {}
        for _ in range(n):
            info, sock = connect_once(**spec)
            if sock:
                sock.close()
            key = info["errno"] or "OK"
            tally[key] = tally.get(key, 0) + 1
        return {"tally": tally}

    def op_listen(self, host, port, backlog=1024):
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        s = socket.socket(fam, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        if fam == socket.AF_INET6 and host == "::":
            s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
        s.bind((host, port))
        s.listen(backlog)
        self.listeners.append(s)
        threading.Thread(target=_accept_forever, args=(s,), daemon=True).start()
        return {"port": s.getsockname()[1]}

    def op_close_kept(self):
        n = len(self.kept)
        for s in self.kept:
            s.close()
        self.kept = []
        return {"closed": n}

    def serve(self):
        hello = identity()
        hello["event"] = "hello"
        self.write(hello)
        for line in sys.stdin:
            if not line.strip():
                continue
            cmd = json.loads(line)
            op = cmd.pop("op")
            if op == "exit":
                self.write({"ok": True})
                return
            try:
                reply = getattr(self, "op_" + op)(**cmd)
            except Exception:
                reply = {"error": traceback.format_exc()}
            self.write(reply)


def _accept_forever(s):
    conns = []
    while True:
        try:
            c, _ = s.accept()
        except OSError:
            return
        conns.append(c)


def enter_netns(name):
    """Join the network namespace `ip netns add NAME` made."""
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open("/run/netns/" + name, os.O_RDONLY | os.O_CLOEXEC)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns(%s)" % name)
    finally:
        os.close(fd)


def run_agent(comm=None, uid=None):
    if uid is not None:
        os.setgroups([])
        os.setgid(uid)
        os.setuid(uid)
    if comm:
        set_comm(comm)
    Agent().serve()


def _become_agent(fds, req):
    """In the forked child: stdin, stdout, stderr from the request, nothing
    else of the spawner's open, then the agent."""
    for target, fd in enumerate(fds):
        os.dup2(fd, target)
    for name in os.listdir("/proc/self/fd"):
        if int(name) > 2:
            try:
                os.close(int(name))
            except OSError:
                pass
    if req.get("netns"):
        enter_netns(req["netns"])
    run_agent(req.get("comm"), req.get("uid"))


def spawner(ctl_fd):
    """Fork an agent for each request on the control socket (a JSON
    {netns, comm, uid} with the agent's stdin, stdout and stderr attached)
    and answer with its pid; exit when the socket closes."""
    import signal

    signal.signal(signal.SIGCHLD, signal.SIG_IGN)  # the kernel reaps them
    ctl = socket.socket(fileno=ctl_fd)
    while True:
        msg, fds, _, _ = socket.recv_fds(ctl, 65536, 3)
        if not msg:
            return
        pid = os.fork()
        if pid == 0:
            code = 1
            try:
                _become_agent(fds, json.loads(msg))
                code = 0
            except BaseException:
                traceback.print_exc()
            finally:
                sys.stdout.flush()
                sys.stderr.flush()
                os._exit(code)
        for fd in fds:
            os.close(fd)
        ctl.send(json.dumps({"pid": pid}).encode())


def main(argv):
    import argparse

    ap = argparse.ArgumentParser()
    ap.add_argument("--comm")
    ap.add_argument("--uid", type=int)
    ap.add_argument("--spawner", type=int, metavar="FD")
    args = ap.parse_args(argv)
    if args.spawner is not None:
        spawner(args.spawner)
    else:
        run_agent(args.comm, args.uid)


if __name__ == "__main__":
    main(sys.argv[1:])
