# SPDX-License-Identifier: GPL-2.0-only
"""Shared machinery of the tcpconnlog end-to-end tests: running the tool,
network namespaces, client agents, and checks of what the tool printed
against what the test did."""
import ctypes
import datetime
import itertools
import json
import os
import re
import select
import shutil
import signal
import socket
import struct
import subprocess
import tempfile
import time

import tclschema

HERE = os.path.dirname(os.path.abspath(__file__))
BIN = os.path.abspath(os.environ.get("TCPCONNLOG_BIN")
                      or os.path.join(HERE, "..", "..", "build", "tcpconnlog"))
BACKEND = os.environ.get("TCPCONNLOG_BACKEND") or "auto"
# set by tests/vm/vmtest.py: a guest emulated by QEMU's TCG, 10-20 times
# slower than the host, where repetitions that only vary timing cost most
IN_GUEST = os.environ.get("TCPCONNLOG_GUEST") == "1"
PYTHON = "/usr/bin/python3"
CLIENT = os.path.join(HERE, "tclclient.py")

READY_RE = re.compile(r"^Tracing TCP connects \((\S+) backend\)\.\.\. Ctrl-C to stop\.$")
# where the process runs: the last keys of every record (-r, -d add theirs after)
PROCESS_KEYS = ["cgroup_id", "cgroup", "container", "netns", "mntns"]
RECORD_KEYS = ["event", "run", "time", "id", "pid", "tid", "uid", "comm", "ip", "saddr", "sport",
               "daddr", "dport", "result", "errno", "latency_us", "call_us"] + PROCESS_KEYS
TIME_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z$")
SUMMARY_HEADER = ["COMM", "ATTEMPTS", "ESTAB", "FAILED", "PENDING",
                  "AVG(ms)", "P50(ms)", "P99(ms)"]
# clock conversions and microsecond truncation: allowed error on time stamps
CLOCK_SLACK = 0.002
# Every process a test starts, so that teardown can end what is left.
LIVE = []


# --- the kernel, seen independently of the tool ---------------------------

def kprobes_supported():
    return os.path.exists("/sys/bus/event_source/devices/kprobe")


def _btf_func_id(name, path="/sys/kernel/btf/vmlinux"):
    """Type id of the BTF FUNC `name` in the kernel's BTF, or None."""
    with open(path, "rb") as f:
        data = f.read()
    magic, _ver, _flags, hdr_len, type_off, type_len, str_off, _str_len = \
        struct.unpack_from("<HBBIIIII", data, 0)
    assert magic == 0xEB9F, "not BTF"
    off = hdr_len + type_off
    end = off + type_len
    strs = hdr_len + str_off
    want = name.encode() + b"\0"
    fixed = {1: 4, 3: 12, 14: 4, 17: 4}                 # INT ARRAY VAR DECL_TAG
    per_member = {4: 12, 5: 12, 6: 8, 13: 8, 15: 12, 19: 12}
    tid = 1
    while off < end:
        name_off, info = struct.unpack_from("<II", data, off)
        kind = (info >> 24) & 0x1F
        off += 12
        if kind == 12 and data.startswith(want, strs + name_off):   # FUNC
            return tid
        off += fixed.get(kind, 0) + per_member.get(kind, 0) * (info & 0xFFFF)
        tid += 1
    return None


_fentry_probe = None


def fentry_probe():
    """Load a two-instruction fentry program on tcp_v4_connect with the bpf()
    syscall. Returns (allowed, errno)."""
    global _fentry_probe
    if _fentry_probe is not None:
        return _fentry_probe
    btf_id = _btf_func_id("tcp_v4_connect")
    assert btf_id, "tcp_v4_connect not in the kernel BTF"
    libc = ctypes.CDLL(None, use_errno=True)
    libc.syscall.restype = ctypes.c_long
    # r0 = 0; exit
    insns = struct.pack("<BBhi", 0xB7, 0, 0, 0) + struct.pack("<BBhi", 0x95, 0, 0, 0)
    insn_buf = ctypes.create_string_buffer(insns, len(insns))
    license_buf = ctypes.create_string_buffer(b"GPL")
    attr = bytearray(120)
    # prog_type BPF_PROG_TYPE_TRACING, insn_cnt, insns, license
    struct.pack_into("<IIQQ", attr, 0, 26, 2, ctypes.addressof(insn_buf),
                     ctypes.addressof(license_buf))
    struct.pack_into("<I", attr, 68, 24)        # expected_attach_type BPF_TRACE_FENTRY
    struct.pack_into("<I", attr, 108, btf_id)   # attach_btf_id
    attr_buf = ctypes.create_string_buffer(bytes(attr), len(attr))
    nr_bpf = {"x86_64": 321, "aarch64": 280}[os.uname().machine]
    fd = libc.syscall(nr_bpf, 5, attr_buf, len(attr))   # BPF_PROG_LOAD
    err = ctypes.get_errno()
    if fd >= 0:
        os.close(fd)
        _fentry_probe = (True, 0)
    else:
        _fentry_probe = (False, err)
    return _fentry_probe


def expected_backend(requested=None):
    """The backend a run with -b REQUESTED must report in its ready line."""
    requested = requested or BACKEND
    if requested != "auto":
        return requested
    # the VM harness knows what its stock kernels allow: hold auto to that
    if os.environ.get("TCPCONNLOG_EXPECT_AUTO"):
        return os.environ["TCPCONNLOG_EXPECT_AUTO"]
    if fentry_probe()[0]:
        return "fentry"
    if kprobes_supported():
        return "kprobe"
    return "tracepoint"


# --- small things ---------------------------------------------------------

def canon(addr):
    """An address as inet_ntop writes it."""
    fam = socket.AF_INET6 if ":" in addr else socket.AF_INET
    return socket.inet_ntop(fam, socket.inet_pton(fam, addr))


def parse_time(text):
    assert TIME_RE.match(text), "time %r is not RFC 3339 UTC with microseconds" % text
    dt = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")
    return dt.replace(tzinfo=datetime.timezone.utc).timestamp()


def is_number(v):
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def free_port(host="127.0.0.1"):
    """A TCP port nothing listens on (and nothing is bound to) right now."""
    fam = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(fam, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def free_ports(n):
    """n distinct free ports."""
    ports = set()
    while len(ports) < n:
        ports.add(free_port())
    return sorted(ports)


def free_port_run(n):
    """First of n consecutive ports that are all free on 127.0.0.1 and ::1."""
    for _ in range(200):
        base = free_port()
        if base + n > 65535:
            continue
        if all(free_on_loopback(p) for p in range(base, base + n)):
            return base
    raise RuntimeError("no run of %d free ports" % n)


def free_on_loopback(port):
    """Whether port can be bound on both 127.0.0.1 and ::1 right now."""
    try:
        for host, fam in (("127.0.0.1", socket.AF_INET), ("::1", socket.AF_INET6)):
            with socket.socket(fam, socket.SOCK_STREAM) as s:
                s.bind((host, port))
    except OSError:
        return False
    return True


class Listener:
    """A listening socket in the test process that accepts everything.
    keep=False closes each connection at once instead of keeping it (a
    soak would run out of descriptors); avoid: ports a random (port 0)
    bind must not get."""

    def __init__(self, host="127.0.0.1", port=0, backlog=1024, keep=True, avoid=()):
        fam = socket.AF_INET6 if ":" in host else socket.AF_INET
        while True:
            self.sock = socket.socket(fam, socket.SOCK_STREAM)
            self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            if fam == socket.AF_INET6:
                self.sock.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 1)
            self.sock.bind((host, port))
            self.port = self.sock.getsockname()[1]
            if self.port not in avoid:
                break
            self.sock.close()
        self.sock.listen(backlog)
        self.keep = keep
        self.conns = []
        import threading
        self.thread = threading.Thread(target=self._accept, daemon=True)
        self.thread.start()

    def _accept(self):
        while True:
            try:
                c, _ = self.sock.accept()
            except OSError:
                return
            if self.keep:
                self.conns.append(c)
            else:
                c.close()

    def close(self):
        try:
            self.sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass
        self.sock.close()
        for c in self.conns:
            c.close()


def listener_pair(port=0):
    """Listeners on 127.0.0.1 and ::1 with the same port number."""
    for _ in range(50):
        v4 = Listener("127.0.0.1", port)
        try:
            v6 = Listener("::1", v4.port)
        except OSError:
            v4.close()
            if port:
                raise
            continue
        return v4, v6
    raise RuntimeError("no common port for 127.0.0.1 and ::1")


def run(cmd, check=True, **kw):
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       text=True, timeout=30, **kw)
    if check and r.returncode != 0:
        raise AssertionError("%s failed (%d): %s%s" % (" ".join(cmd), r.returncode,
                                                       r.stdout, r.stderr))
    return r


def wait_until(pred, timeout, what, step=0.01):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return
        time.sleep(step)
    raise AssertionError("timed out after %.1fs waiting for %s" % (timeout, what))


def _end(proc):
    """End a process this test started, if it still runs."""
    if proc.poll() is None:
        proc.kill()
    try:
        proc.wait(10)
    except subprocess.TimeoutExpired:
        pass


def end_all():
    while LIVE:
        _end(LIVE.pop())


# --- the tool ---------------------------------------------------------------

class Result:
    """What a finished run left: status, output, parsed JSON lines."""

    def __init__(self, tracer, rc, stdout, stderr):
        self.argv = tracer.argv
        self.rc = rc
        self.stdout = stdout
        self.stderr = stderr
        self.backend = tracer.backend
        self.t_spawn = tracer.t_spawn
        self.t_ready = tracer.t_ready
        self.t_ready_mono = tracer.t_ready_mono
        self.t_stop = tracer.t_stop
        self.t_exit = time.time()
        self.t_exit_mono = time.monotonic()
        self.records = []
        self.start = None
        if tracer.json_mode:
            try:
                self.start, self.records = split_start(
                    [json_record(line) for line in stdout.splitlines()])
            except AssertionError as e:
                raise AssertionError("%s\n%s" % (e, self))
        self.connects = [r for r in self.records if r.get("event") == "connect"]

    def __str__(self):
        return ("command: %s\nexit status: %s\n--- stdout ---\n%s--- stderr ---\n%s"
                % (" ".join(self.argv), self.rc, self.stdout, self.stderr))

    def stderr_lines(self):
        return self.stderr.splitlines()

    def summary(self):
        return parse_summary(self.stderr)

    def skipped(self):
        """Probe runs the tool said the kernel skipped (0 if it said none):
        up to as many records may lack call_us, on a preemptible kernel."""
        m = re.search(r"^Probe runs skipped by the kernel: (\d+)$", self.stderr, re.M)
        return int(m.group(1)) if m else 0


# --- the JSON contract (schema/tcpconnlog.schema.json) ---------------------

SCHEMA_PATH = os.path.join(HERE, "..", "..", "schema", "tcpconnlog.schema.json")


_SCHEMA = []


def schema():
    """The Schema of SCHEMA_PATH, compiled at its first use."""
    if not _SCHEMA:
        _SCHEMA.append(tclschema.Schema(SCHEMA_PATH))
    return _SCHEMA[0]


def json_record(line):
    """One line of the tool's -j output, parsed and validated against the
    schema: every test reads the tool's JSON through here."""
    try:
        rec = json.loads(line)
    except ValueError:
        raise AssertionError("not JSON: %r" % (line,))
    schema().check(rec, line)
    return rec


def split_start(records):
    """(start record, the others): the start record must come first, once,
    and every record carry its run id. (None, []) for no records."""
    if not records:
        return None, []
    start, rest = records[0], records[1:]
    assert start["event"] == "start", "the first JSON line is not the start record: %s" % start
    others = [r for r in rest if r["event"] == "start" or r["run"] != start["run"]]
    assert not others, "records of another run or a second start: %s" % others[:3]
    return start, rest


def json_lines(text):
    """The whole lines of -j output (a last one still being written is left
    for later), validated, without the start record that opens them."""
    return split_start([json_record(line)
                        for line in text[:text.rfind("\n") + 1].splitlines()])[1]


class Tracer:
    """tcpconnlog running in the background, as a user would start it."""

    def __init__(self, *args, json_mode=True, backend=None, wrap=()):
        self.backend_requested = backend or BACKEND
        self.json_mode = json_mode
        # wrap: a command that execs the tool (setpriv ...), so that the
        # process is still the one started here
        self.argv = list(wrap) + [BIN, "-b", self.backend_requested] \
            + (["-j"] if json_mode else []) + [str(a) for a in args]
        self.dir = tempfile.mkdtemp(prefix="tcpconnlog-e2e-")
        self.out_path = os.path.join(self.dir, "stdout")
        self.err_path = os.path.join(self.dir, "stderr")
        self.backend = None
        self.t_ready = self.t_ready_mono = self.t_stop = None
        self.t_spawn = time.time()
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                         stdout=out, stderr=err)
        LIVE.append(self.proc)
        self.result = None

    def _read(self, path):
        with open(path, "rb") as f:
            return f.read().decode("utf-8", errors="replace")

    def stderr_now(self):
        return self._read(self.err_path)

    def stdout_now(self):
        return self._read(self.out_path)

    def wait_ready(self, timeout=20):
        """Wait for the ready line; note the backend it names."""
        deadline = time.monotonic() + timeout
        while True:
            for line in self.stderr_now().splitlines():
                m = READY_RE.match(line)
                if m:
                    self.t_ready = time.time()
                    self.t_ready_mono = time.monotonic()
                    self.backend = m.group(1)
                    want = expected_backend(self.backend_requested)
                    assert self.backend == want, (
                        "ready line names the %s backend, expected %s (-b %s)\n%s"
                        % (self.backend, want, self.backend_requested, self.stderr_now()))
                    return self
            if self.proc.poll() is not None:
                raise AssertionError("tcpconnlog exited (%s) before it was ready\n"
                                     "command: %s\nstderr:\n%s"
                                     % (self.proc.returncode, " ".join(self.argv),
                                        self.stderr_now()))
            if time.monotonic() > deadline:
                raise AssertionError("tcpconnlog not ready after %ss\ncommand: %s\nstderr:\n%s"
                                     % (timeout, " ".join(self.argv), self.stderr_now()))
            time.sleep(0.01)

    def send_signal(self, sig):
        self.proc.send_signal(sig)

    def wait_exit(self, timeout=15):
        """Wait for the tool to exit by itself."""
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            raise AssertionError("tcpconnlog still running after %ss\ncommand: %s\nstderr:\n%s"
                                 % (timeout, " ".join(self.argv), self.stderr_now()))
        return self._finish()

    def stop(self, sig=signal.SIGINT, timeout=15):
        """Stop it the way a user does (Ctrl-C) and collect everything."""
        self.t_stop = time.time()
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
        return self.wait_exit(timeout)

    def _finish(self):
        if self.result is None:
            self.result = Result(self, self.proc.returncode, self.stdout_now(),
                                 self.stderr_now())
            shutil.rmtree(self.dir, ignore_errors=True)
        return self.result


def start(*args, json_mode=True, backend=None, wrap=()):
    """Start the tool and wait until it is ready."""
    return Tracer(*args, json_mode=json_mode, backend=backend, wrap=wrap).wait_ready()


def run_tool(*args, timeout=30, **kw):
    """Run the tool to completion (for runs that end by themselves)."""
    return subprocess.run([BIN] + [str(a) for a in args], stdin=subprocess.DEVNULL,
                          stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                          timeout=timeout, **kw)


def tracer_map_id(pid, name):
    """The id of the BPF map `name` that the tracer with this pid holds
    (its map ids from /proc/PID/fdinfo, their names from bpftool)."""
    ids = []
    fdinfo = "/proc/%d/fdinfo" % pid
    for fd in os.listdir(fdinfo):
        try:
            with open(os.path.join(fdinfo, fd)) as f:
                ids += [int(l.split()[1]) for l in f if l.startswith("map_id:")]
        except FileNotFoundError:
            continue    # a short-lived fd (not a map's: those stay open)
    maps = json.loads(run(["bpftool", "-j", "map", "show"]).stdout)
    mine = [m["id"] for m in maps if m["id"] in ids and m.get("name") == name]
    assert len(mine) == 1, "one %s map among the map fds of pid %d: %s" % (name, pid, ids)
    return str(mine[0])


def map_dump(map_id):
    """A BPF map's entries, as bpftool -j dumps them."""
    return json.loads(run(["bpftool", "-j", "map", "dump", "id", map_id]).stdout)


# --- summary (stderr) --------------------------------------------------------

def parse_summary(stderr):
    """{"rows": {comm: {...}}, "hist": [(lo, hi, count)], "lost": N}"""
    lines = stderr.splitlines()
    heads = [i for i, l in enumerate(lines) if l.split() == SUMMARY_HEADER]
    assert len(heads) == 1, "expected one summary header %s in stderr:\n%s" % (
        " ".join(SUMMARY_HEADER), stderr)
    rows = {}
    i = heads[0] + 1
    while i < len(lines) and lines[i].strip():
        f = lines[i].split()
        assert len(f) == 8, "summary row %r" % lines[i]
        vals = {"attempts": int(f[1]), "estab": int(f[2]), "failed": int(f[3]),
                "pending": int(f[4])}
        for k, v in zip(("avg", "p50", "p99"), f[5:]):
            vals[k] = None if v == "-" else float(v)
        rows[f[0]] = vals
        i += 1
    hist = []
    try:
        h = lines.index("Latency of established connects:")
    except ValueError:
        raise AssertionError("no histogram heading in stderr:\n" + stderr)
    for line in lines[h + 1:]:
        m = re.match(r"^\s*(\d+) -> (\d+)\s*: (\d+)\s*\|[* ]*\|$", line)
        if m:
            hist.append(tuple(int(x) for x in m.groups()))
        elif not line.strip() or "distribution" in line:
            continue
        else:
            break
    lost = re.findall(r"^Lost events: (\d+)$", stderr, re.M)
    assert len(lost) == 1, "expected one 'Lost events: N' line in stderr:\n" + stderr
    return {"rows": rows, "hist": hist, "lost": int(lost[0])}


# --- network namespaces ------------------------------------------------------

_ns_counter = itertools.count(1)
NS_PREFIX = "tce2e"


def sweep_stale_namespaces():
    """Delete namespaces left by earlier runs whose pytest is gone."""
    r = run(["ip", "netns", "list"], check=False)
    for line in r.stdout.splitlines():
        name = line.split()[0] if line.split() else ""
        m = re.match(NS_PREFIX + r"(\d+)-", name)
        if m and not os.path.exists("/proc/%s" % m.group(1)):
            run(["ip", "netns", "del", name], check=False)


class NetNS:
    def __init__(self, tag):
        self.name = "%s%d-%s%d" % (NS_PREFIX, os.getpid(), tag, next(_ns_counter))
        run(["ip", "netns", "add", self.name])
        self.ip("link", "set", "lo", "up")

    def ip(self, *args):
        return run(["ip", "-n", self.name] + list(args))

    def exec(self, *cmd, **kw):
        return run(["ip", "netns", "exec", self.name] + list(cmd), **kw)

    def sysctl(self, key, value):
        self.exec("sysctl", "-q", "-w", "%s=%s" % (key, value))
        got = self.exec("sysctl", "-n", key).stdout.split()
        assert got == str(value).split(), "%s is %s in %s" % (key, got, self.name)

    def nft(self, ruleset):
        run(["ip", "netns", "exec", self.name, "nft", "-f", "-"], input=ruleset)

    def delete(self):
        run(["ip", "netns", "del", self.name], check=False)


class NetPair:
    """Two namespaces joined by a veth pair: a client side (SYN retries 1,
    so an unanswered connect times out after about 3 s) and a peer side
    whose nftables rules drop SYNs to `drop_port` and answer SYNs to
    `reject_port` with ICMP host-unreachable (IPv4) / address-unreachable
    (IPv6). Other ports on the peer have no listener: connects are refused.
    The IPv6 addresses have all eight groups, 39 characters."""

    def __init__(self, namespaces):
        n = next(_ns_counter)
        self.idx = n % 250 + 1
        self.client = NetNS("c")
        namespaces.append(self.client)
        self.server = NetNS("s")
        namespaces.append(self.server)
        self.client_v4 = "10.200.%d.1" % self.idx
        self.server_v4 = "10.200.%d.2" % self.idx
        prefix = "fdcc:1234:5678:%04x:aaaa:bbbb:cccc" % (0x9000 + self.idx)
        self.client_v6 = prefix + ":dd01"
        self.server_v6 = prefix + ":dd02"
        ca, sa = "tcla%d" % n, "tclb%d" % n
        run(["ip", "link", "add", ca, "netns", self.client.name, "type", "veth",
             "peer", "name", sa, "netns", self.server.name])
        self.client.ip("addr", "add", self.client_v4 + "/24", "dev", ca)
        self.server.ip("addr", "add", self.server_v4 + "/24", "dev", sa)
        self.client.ip("addr", "add", self.client_v6 + "/64", "dev", ca, "nodad")
        self.server.ip("addr", "add", self.server_v6 + "/64", "dev", sa, "nodad")
        self.client.ip("link", "set", ca, "up")
        self.server.ip("link", "set", sa, "up")
        self.client.sysctl("net.ipv4.tcp_syn_retries", 1)
        self.drop_port, self.reject_port, self.closed_port = free_ports(3)
        self.server.nft("""
table inet tcpconnlog_e2e {
  chain input {
    type filter hook input priority 0; policy accept;
    tcp dport %(drop)d drop
    meta nfproto ipv4 tcp dport %(rej)d reject with icmp type host-unreachable
    meta nfproto ipv6 tcp dport %(rej)d reject with icmpv6 type addr-unreachable
  }
}
""" % {"drop": self.drop_port, "rej": self.reject_port})

    def addr(self, fam, side="server"):
        if side == "server":
            return self.server_v4 if fam == 4 else self.server_v6
        return self.client_v4 if fam == 4 else self.client_v6


# --- agents: clients in child processes ---------------------------------------

class SpawnedProc:
    """A process the spawner forked, handled like a Popen: through a pidfd,
    which names it even after its pid is reused. Its exit status goes to
    the spawner, so returncode only says that it ended."""

    def __init__(self, pid, stdin, stdout):
        self.pid, self.stdin, self.stdout = pid, stdin, stdout
        self.pidfd = os.pidfd_open(pid)
        self.returncode = None

    def poll(self):
        if self.returncode is None and select.select([self.pidfd], [], [], 0)[0]:
            self.returncode = "ended"
            os.close(self.pidfd)
        return self.returncode

    def wait(self, timeout=None):
        if self.returncode is None:
            if not select.select([self.pidfd], [], [], timeout)[0]:
                raise subprocess.TimeoutExpired("agent %d" % self.pid, timeout)
            self.poll()
        return self.returncode

    def send_signal(self, sig):
        if self.poll() is None:
            signal.pidfd_send_signal(self.pidfd, sig)

    def kill(self):
        self.send_signal(signal.SIGKILL)


class Spawner:
    """tclclient.py --spawner, started once per session: it forks agents,
    which is much cheaper than starting python for each (a second under
    emulation)."""

    def __init__(self):
        ours, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        self.proc = subprocess.Popen([PYTHON, "-S", CLIENT, "--spawner", str(theirs.fileno())],
                                     stdin=subprocess.DEVNULL, pass_fds=[theirs.fileno()])
        theirs.close()
        self.ctl = ours
        self.ctl.settimeout(20)

    def spawn(self, netns, comm, uid, stderr_fd):
        """A new agent: (pid, its stdin to write, its stdout to read)."""
        in_r, in_w = os.pipe()
        out_r, out_w = os.pipe()
        req = json.dumps({"netns": netns, "comm": comm, "uid": uid}).encode()
        try:
            socket.send_fds(self.ctl, [req], [in_r, out_w, stderr_fd])
            pid = json.loads(self.ctl.recv(4096))["pid"]
        finally:
            os.close(in_r)
            os.close(out_w)
        return SpawnedProc(pid, os.fdopen(in_w, "wb", buffering=0),
                           os.fdopen(out_r, "rb", buffering=0))

    def close(self):
        self.ctl.close()
        self.proc.wait(10)


_spawner = None


def spawner():
    global _spawner
    if _spawner is None or _spawner.proc.poll() is not None:
        _spawner = Spawner()
    return _spawner


def stop_spawner():
    global _spawner
    if _spawner is not None:
        _spawner.close()
        _spawner = None


class AgentProc:
    """A client child process (tclclient.py's agent); pid known, commands
    over pipes."""

    def __init__(self, netns=None, comm=None, uid=None, wrap=()):
        self.err_file = tempfile.TemporaryFile()
        netns = netns.name if hasattr(netns, "name") else netns
        if wrap:
            # a command that execs the agent (unshare -m): started, not forked
            self.proc = subprocess.Popen(list(wrap) + [PYTHON, "-S", CLIENT],
                                         stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=self.err_file, bufsize=0)
        else:
            self.proc = spawner().spawn(netns, comm, uid, self.err_file.fileno())
        LIVE.append(self.proc)
        self.buf = b""
        hello = self.read(20)
        assert hello.get("event") == "hello", hello
        assert hello["pid"] == self.proc.pid, "agent pid %s, spawner said %s" % (
            hello["pid"], self.proc.pid)
        self.pid = hello["pid"]
        self.uid = hello["uid"]
        self.comm = hello["comm"]
        self.main_tid = hello["tid"]

    def _stderr(self):
        self.err_file.seek(0)
        return self.err_file.read().decode(errors="replace")

    def send(self, op, **kw):
        kw["op"] = op
        self.proc.stdin.write((json.dumps(kw) + "\n").encode())
        self.proc.stdin.flush()

    def read(self, timeout=20):
        deadline = time.monotonic() + timeout
        while b"\n" not in self.buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise AssertionError("agent %s: no answer after %ss; stderr:\n%s"
                                     % (self.proc.pid, timeout, self._stderr()))
            r, _, _ = select.select([self.proc.stdout], [], [], left)
            if r:
                chunk = os.read(self.proc.stdout.fileno(), 65536)
                if not chunk:
                    raise AssertionError("agent %s exited (%s); stderr:\n%s"
                                         % (self.proc.pid, self.proc.poll(), self._stderr()))
                self.buf += chunk
        line, self.buf = self.buf.split(b"\n", 1)
        reply = json.loads(line)
        if "error" in reply:
            raise AssertionError("agent %s failed:\n%s" % (self.proc.pid, reply["error"]))
        return reply

    def call(self, op, timeout=20, **kw):
        self.send(op, **kw)
        return self.read(timeout)

    def connect(self, fam, host, port, mode="block", then="wait", timeout=20):
        return self.call("connect", timeout=timeout + 5,
                         spec=dict(fam=fam, host=host, port=port, mode=mode, then=then))

    def concurrent(self, specs, timeout=20):
        return self.call("concurrent", timeout=timeout, specs=specs)["results"]

    def kill(self, sig=signal.SIGKILL):
        self.proc.send_signal(sig)
        self.proc.wait(10)

    def close(self):
        if self.proc.poll() is None:
            try:
                self.send("exit")
                self.proc.wait(5)
            except Exception:
                pass
        _end(self.proc)
        self.err_file.close()


def spec(fam, host, port, mode="block", then="wait"):
    return dict(fam=fam, host=host, port=port, mode=mode, then=then)


# --- checking records ---------------------------------------------------------

def records_of(records, client, by_sport=False, since=None):
    """Records of one client attempt: same process, thread and destination
    (and source port when one thread made several such attempts), made
    once the attempt had begun (or since the wall-clock time `since`, for
    several attempts to one destination). A tracer that serves several
    tests can hold an earlier attempt from the same client process to a
    listener whose port the kernel has since handed to this test's
    listener (seen on 7.2: two records for one non-blocking connect, 18 s
    apart)."""
    since = (client["t0w"] if since is None else since) - CLOCK_SLACK
    out = [r for r in records
           if r.get("event") == "connect" and r.get("pid") == client["pid"]
           and r.get("tid") == client["tid"] and r.get("dport") == client["port"]
           and r.get("daddr") == canon(client["host"])
           and parse_time(r["time"]) >= since]
    if by_sport:
        out = [r for r in out if r.get("sport") == client["sport"]]
    return out


def only_record(result, client, by_sport=False):
    recs = records_of(result.records, client, by_sport)
    assert len(recs) == 1, ("expected exactly one record for the attempt %s -> [%s]:%s "
                            "(pid %s tid %s sport %s), found %d\n%s"
                            % (client["mode"], client["host"], client["port"], client["pid"],
                               client["tid"], client["sport"], len(recs), result))
    return recs[0]


def check_record(rec, client, backend, *, result, errno, saddr, sport=None,
                 window=None, wall_us=None, also_saddr=(), call_skipped=False):
    """Compare every field of a connect record with what the client did.

    saddr: the source address the kernel must have chosen (the test knows
    its interfaces); also_saddr: other values accepted (e.g. "0.0.0.0" for
    a call that failed before a source was fixed). sport defaults to the
    client's own getsockname() view. window: (lo, hi) wall-clock bounds of
    the record's time, by default the client's connect start and end.
    wall_us: upper bound of latency_us, by default the client's own
    measurement of the attempt. call_skipped: call_us may be null (the
    tool reported skipped probe runs; the caller bounds how many).
    """
    problems = []

    def expect(field, ok, want):
        if not ok:
            problems.append("%s: got %r, expected %s" % (field, rec.get(field), want))

    expect("keys", list(rec) == RECORD_KEYS, "keys %s in this order" % RECORD_KEYS)
    expect("event", rec.get("event") == "connect", "'connect'")
    lo, hi = window or (client["t0w"], client["t1w"])
    try:
        t = parse_time(rec.get("time"))
        expect("time", lo - CLOCK_SLACK <= t <= hi + CLOCK_SLACK,
               "between %s and %s" % (_iso(lo), _iso(hi)))
    except (AssertionError, TypeError) as e:
        problems.append("time: %s" % e)
    expect("id", type(rec.get("id")) is int and rec["id"] > 0, "a positive integer")
    for k in ("pid", "tid", "uid", "comm"):
        expect(k, rec.get(k) == client[k] and type(rec.get(k)) is type(client[k]),
               repr(client[k]))
    expect("ip", rec.get("ip") == client["fam"], client["fam"])
    accepted = [canon(saddr)] + [canon(a) for a in also_saddr]
    expect("saddr", rec.get("saddr") in accepted, " or ".join(map(repr, accepted)))
    want_sport = client["sport"] if sport is None else sport
    expect("sport", rec.get("sport") == want_sport and is_number(rec.get("sport")),
           "%r (the client's source port)" % want_sport)
    expect("daddr", rec.get("daddr") == canon(client["host"]), repr(canon(client["host"])))
    expect("dport", rec.get("dport") == client["port"] and is_number(rec.get("dport")),
           repr(client["port"]))
    expect("result", rec.get("result") == result, repr(result))
    expect("errno", rec.get("errno") == errno, repr(errno))
    bound = client["wall_us"] if wall_us is None else wall_us
    lat = rec.get("latency_us")
    if result == "pending":
        expect("latency_us", lat is None, "null (pending)")
    else:
        expect("latency_us", is_number(lat) and 0 < lat < bound,
               "a number in (0, %.3f) (the client's own measurement)" % bound)
    call = rec.get("call_us")
    if backend in ("kprobe", "fentry"):
        top = lat if is_number(lat) else bound
        expect("call_us", (is_number(call) and 0 < call <= top) or
               (call is None and call_skipped),
               "a number in (0, %.3f] on the %s backend" % (top, backend))
    else:
        expect("call_us", call is None, "null on the %s backend" % backend)
    assert not problems, "record does not match the attempt:\n  %s\nrecord: %s\nclient: %s" % (
        "\n  ".join(problems), json.dumps(rec), json.dumps(public(client)))


def check_attempts(res, attempts, *, result, errno, saddr):
    """Each attempt printed once and right, except what the tool said the
    kernel skipped. On a preemptible kernel (7.x) the kernel skips runs of
    our probes while another task is preempted inside them, and the tool
    counts them (res.skipped()): each such run may cost one attempt its
    call_us, its outcome (then printed as pending at exit) or, when every
    probe that could start it was skipped, its record; no more than were
    counted. Returns how many attempts were so affected.
    """
    skipped = res.skipped()
    affected = []
    for c in attempts:
        recs = records_of(res.records, c, by_sport=True)
        if not recs and skipped:
            affected.append("no record: %s" % json.dumps(public(c)))
            continue
        rec = only_record(res, c, by_sport=True)
        if skipped and result != "pending" and rec.get("result") == "pending":
            # outcome never seen: reported at exit, like any attempt in flight
            check_record(rec, c, res.backend, result="pending", errno=None, saddr=saddr,
                         window=(c["t0w"], res.t_exit), call_skipped=True)
            affected.append("pending: %s" % json.dumps(rec))
            continue
        check_record(rec, c, res.backend, result=result, errno=errno, saddr=saddr,
                     call_skipped=skipped > 0)
        if rec["call_us"] is None and res.backend in ("kprobe", "fentry"):
            affected.append("no call_us: %s" % json.dumps(rec))
    assert len(affected) <= skipped, "%d attempts affected, %d probe runs reported skipped:\n  %s\n%s" % (
        len(affected), skipped, "\n  ".join(affected), res)
    return len(affected)


def _iso(t):
    return datetime.datetime.fromtimestamp(t, datetime.timezone.utc).isoformat()


def connect(fam, host, port, mode="block", then="wait", **kw):
    """Connect from the test process; returns the client info (sockets
    that stay open are kept on the info under "_sock")."""
    import tclclient
    info, sock = tclclient.connect_once(fam, host, port, mode=mode, then=then, **kw)
    info["_sock"] = sock
    return info


def close_all(clients):
    for c in clients:
        s = c.get("_sock")
        if s:
            s.close()


def public(client):
    return {k: v for k, v in client.items() if not k.startswith("_")}
