# SPDX-License-Identifier: GPL-2.0-only
"""-d: connects named from the DNS answers of real resolvers.

Each namespace the tests make has its own dnsmasq with its own names on
127.0.0.1 and a second one forwarding to it on 127.0.0.53 (as
systemd-resolved's stub does); ip netns exec bind-mounts
/etc/netns/NAME/resolv.conf over /etc/resolv.conf for the resolving
commands, so the host's resolver is untouched. All of 10.53.0.0/16 and
fd53::/64 is local in each namespace, with one listener on every address.
"""
import json
import os
import re
import shutil
import subprocess
import tempfile
import time

import pytest

import tclcgroup
import tcltest

pytestmark = pytest.mark.dns

PORT = 8053
DNSMASQ = "/usr/sbin/dnsmasq"
# 32 A records (16 bytes each): an answer of 542 bytes, over the 512 of
# UDP without EDNS, so glibc gets a truncated one and asks again over TCP;
# and as many as the table keeps per answer (DNS_ADDRS_MAX)
BIG = ["10.53.2.%d" % i for i in range(1, 33)]

# Names of namespace A, as dnsmasq options (hosts file lines in HOSTS)
HOSTS_A = """\
10.53.1.1 a.dns.test
10.53.1.2 multi.dns.test
10.53.1.3 multi.dns.test
10.53.1.4 real.dns.test
10.53.1.5 one.dns.test
10.53.1.5 two.dns.test
10.53.3.1 same.dns.test
""" + "".join("%s big.dns.test\n" % a for a in BIG)
OPTS_A = ["--host-record=v6.dns.test,fd53::11",
          "--cname=web.dns.test,mid.dns.test", "--cname=mid.dns.test,real.dns.test",
          "--host-record=short.dns.test,10.53.1.6,1"]
HOSTS_B = "10.53.3.2 same.dns.test\n"

# resolve NAME (getaddrinfo, as an application does) or take the
# addresses given, then connect to each; print what it did, with times
# of CLOCK_MONOTONIC (bpf_ktime_get_ns's clock)
CLIENT = r"""
import json, os, socket, sys, time
mode, what, port, pause = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
t0 = time.monotonic()
if mode == "resolve":
    addrs = []
    for info in socket.getaddrinfo(what, port, type=socket.SOCK_STREAM):
        if info[4][0] not in addrs:
            addrs.append(info[4][0])
else:
    addrs = what.split(",")
t1 = time.monotonic()
if pause.startswith("/"):
    # a directory: say "resolved" there, wait for "go"
    open(pause + "/resolved", "w").close()
    while not os.path.exists(pause + "/go"):
        time.sleep(0.01)
else:
    time.sleep(float(pause))
conns = []
for a in addrs:
    s = socket.socket(socket.AF_INET6 if ":" in a else socket.AF_INET)
    c0 = time.monotonic()
    s.connect((a, port))
    c1 = time.monotonic()
    conns.append({"addr": a, "sport": s.getsockname()[1], "t": [c0, c1]})
    s.close()
print(json.dumps({"pid": os.getpid(), "resolved": [t0, t1], "conns": conns}))
"""

# one question over UDP without EDNS: the answer's length, TC flag and
# answer count
UDP_QUERY = r"""
import socket, struct, sys
q = struct.pack(">6H", 0x1234, 0x0100, 1, 0, 0, 0) + b"".join(
    bytes([len(p)]) + p.encode() for p in sys.argv[1].split(".")) + b"\0" + struct.pack(">2H", 1, 1)
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(5)
s.sendto(q, (sys.argv[2], 53))
r = s.recv(4096)
flags, _, answers = struct.unpack(">3H", r[2:8])
print(len(r), bool(flags & 0x200), answers)
"""

# from 127.0.0.2:53 to a socket of its own: a truncated answer (one
# question and one answer announced, the answer missing) and a datagram
# over the 8 KiB the capture takes
BAD_ANSWERS = r"""
import socket, struct
rx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
rx.bind(("127.0.0.1", 0))
tx = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
tx.bind(("127.0.0.2", 53))
truncated = struct.pack(">6H", 0x4321, 0x8180, 1, 1, 0, 0) + b"\x03bad\x00" + struct.pack(">2H", 1, 1)
big = struct.pack(">6H", 0x4322, 0x8180, 0, 0, 0, 0) + bytes(9000)
for m in (truncated, big):
    tx.sendto(m, rx.getsockname())
    assert len(rx.recv(65536)) == len(m)
"""

LISTENER = r"""
import socket, sys
s = socket.socket(socket.AF_INET6)
s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.setsockopt(socket.IPPROTO_IPV6, socket.IPV6_V6ONLY, 0)
s.setsockopt(socket.SOL_IP, 19, 1)  # IP_FREEBIND: any local address
s.bind(("::", int(sys.argv[1])))
s.listen(1024)
print("ready", flush=True)
while True:
    s.accept()[0].close()
"""


class DnsNS:
    """A namespace with its resolvers, its names and a listener."""

    def __init__(self, tag, hosts, opts, listen="127.0.0.1", forwarder=True, edns=False):
        self.ns = tcltest.NetNS(tag)
        self.name = self.ns.name
        self.procs = []
        self.dir = tempfile.mkdtemp(prefix="tcl-dns-")
        self.etc = "/etc/netns/" + self.name
        self.ns.ip("route", "add", "local", "10.53.0.0/16", "dev", "lo")
        self.ns.ip("-6", "route", "add", "local", "fd53::/64", "dev", "lo")
        hosts_file = os.path.join(self.dir, "hosts")
        with open(hosts_file, "w") as f:
            f.write(hosts)
        common = ["--keep-in-foreground", "--conf-file=/dev/null", "--no-resolv",
                  "--no-hosts", "--bind-interfaces", "--user=root", "--pid-file=",
                  "--local-ttl=300"]
        self.start(common + ["--listen-address=" + listen, "--addn-hosts=" + hosts_file]
                   + opts)
        nameserver = listen
        if forwarder:
            # no cache: every question goes upstream, every answer comes back
            self.start(common + ["--listen-address=127.0.0.53", "--cache-size=0",
                                 "--server=" + listen])
            nameserver = "127.0.0.53"
        os.makedirs(self.etc, exist_ok=True)
        with open(os.path.join(self.etc, "resolv.conf"), "w") as f:
            f.write("nameserver %s\n%s" % (nameserver, "options edns0\n" if edns else ""))
        self.listener = self.popen([tcltest.PYTHON, "-c", LISTENER, str(PORT)])
        assert self.listener.stdout.readline().strip() == b"ready"
        want = {"127.0.0.1:53", "127.0.0.53:53"} if forwarder else {"[::1]:53"}
        tcltest.wait_until(lambda: want <= self.udp_listening(), 10,
                           "dnsmasq listening on %s in %s" % (want, self.name))

    def popen(self, cmd):
        p = subprocess.Popen(["ip", "netns", "exec", self.name] + cmd,
                             stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.DEVNULL)
        self.procs.append(p)
        return p

    def start(self, args):
        p = self.popen([DNSMASQ] + args)
        time.sleep(0.05)
        assert p.poll() is None, "dnsmasq %s exited (%s)" % (args, p.returncode)

    def udp_listening(self):
        out = self.ns.exec("ss", "-Hlun").stdout
        return {line.split()[3] for line in out.splitlines() if len(line.split()) > 3}

    def client(self, mode, what, pause=0.0, background=False):
        """Run CLIENT here; its report (or, background, the process)."""
        cmd = ["ip", "netns", "exec", self.name, tcltest.PYTHON, "-c", CLIENT, mode,
               what, str(PORT), str(pause)]
        p = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                             stderr=subprocess.PIPE, text=True)
        return p if background else report(p)

    def getent(self, name):
        """getent ahosts NAME here: its addresses and the time around it."""
        t0 = time.monotonic()
        r = self.ns.exec("getent", "ahosts", name)
        t1 = time.monotonic()
        return sorted({line.split()[0] for line in r.stdout.splitlines()}), (t0, t1)

    def close(self):
        for p in self.procs:
            p.kill()
            p.wait()
        shutil.rmtree(self.etc, ignore_errors=True)
        shutil.rmtree(self.dir, ignore_errors=True)
        self.ns.delete()


def report(p):
    out, err = p.communicate(timeout=30)
    assert p.returncode == 0, "client failed (%d): %s" % (p.returncode, err)
    return json.loads(out)


@pytest.fixture(scope="module")
def nets():
    made = []
    try:
        made.append(DnsNS("da", HOSTS_A, OPTS_A))
        # B asks its resolver over IPv6, with no forwarder, with EDNS (an
        # OPT record in every answer)
        made.append(DnsNS("db", HOSTS_B, [], listen="::1", forwarder=False, edns=True))
        yield made
    finally:
        for n in made:
            n.close()


@pytest.fixture(scope="module")
def dns_tracer(nets):
    t = tcltest.start("-d", "--dns-table", 4096)
    tcltest.LIVE.remove(t.proc)
    yield t
    res = t.stop()
    assert res.rc == 0, "the -d tracer did not exit cleanly\n%s" % res


def records_now(t):
    return tcltest.json_lines(t.stdout_now())


def record_of(t, pid, conn):
    """The one connect record of a client's connect."""
    def mine():
        return [r for r in records_now(t) if r.get("event") == "connect"
                and r["pid"] == pid and r["sport"] == conn["sport"]
                and r["daddr"] == tcltest.canon(conn["addr"])]
    tcltest.wait_until(lambda: mine(), 10, "the record of %s\nstderr:\n%s"
                       % (conn, t.stderr_now()))
    recs = mine()
    assert len(recs) == 1, recs
    assert recs[0]["dport"] == PORT and recs[0]["result"] == "established", recs[0]
    return recs[0]


def check_named(rec, name, scope, answered, conn, chain=(), expired=False):
    """rec names `name` with this scope; its age lies between the end of
    the resolution (`answered`: monotonic times around it) and the
    connect (conn["t"])."""
    assert rec["dns"] == name, rec
    assert rec["dns_chain"] == list(chain), rec
    assert rec["dns_scope"] == scope, rec
    assert rec["dns_expired"] is expired, rec
    age = rec["dns_age_ms"]
    assert tcltest.is_number(age), rec
    low = (conn["t"][0] - answered[1]) * 1000 - 2
    high = (conn["t"][1] - answered[0]) * 1000 + 2
    assert low <= age <= high, "dns_age_ms %s not within [%.3f, %.3f]: %s" % (
        age, low, high, rec)


def test_own_answers_through_the_forwarder(nets, dns_tracer):
    """A, AAAA, a CNAME chain, several addresses: each connect is named
    from the answer its own process got from the stub on 127.0.0.53."""
    a = nets[0]
    cases = [("a.dns.test", ["10.53.1.1"], ()),
             ("v6.dns.test", ["fd53::11"], ()),
             ("web.dns.test", ["10.53.1.4"], ("mid.dns.test", "real.dns.test")),
             ("multi.dns.test", ["10.53.1.2", "10.53.1.3"], ())]
    for name, addrs, chain in cases:
        rep = a.client("resolve", name)
        assert sorted(c["addr"] for c in rep["conns"]) == addrs
        for conn in rep["conns"]:
            rec = record_of(dns_tracer, rep["pid"], conn)
            check_named(rec, name, "process", rep["resolved"], conn, chain)


def test_answer_of_another_process_in_the_namespace(nets, dns_tracer):
    a = nets[0]
    addrs, answered = a.getent("a.dns.test")
    assert addrs == ["10.53.1.1"]
    rep = a.client("connect", "10.53.1.1")
    check_named(record_of(dns_tracer, rep["pid"], rep["conns"][0]), "a.dns.test",
                "netns", answered, rep["conns"][0])


def test_namespaces_keep_their_own_answers(nets, dns_tracer):
    """same.dns.test is 10.53.3.1 in A and 10.53.3.2 in B (whose resolver
    is asked over IPv6); an address only A resolved is named in B from
    A's answer, as the host's."""
    a, b = nets
    assert a.getent("same.dns.test")[0] == ["10.53.3.1"]
    addrs, answered_b = b.getent("same.dns.test")
    assert addrs == ["10.53.3.2"]
    rep = b.client("connect", "10.53.3.2")
    check_named(record_of(dns_tracer, rep["pid"], rep["conns"][0]), "same.dns.test",
                "netns", answered_b, rep["conns"][0])
    addrs, answered_a = a.getent("multi.dns.test")
    rep = b.client("connect", "10.53.1.2")
    check_named(record_of(dns_tracer, rep["pid"], rep["conns"][0]), "multi.dns.test",
                "host", answered_a, rep["conns"][0])


def test_shared_address_named_per_process(nets, dns_tracer):
    """one and two are both 10.53.1.5: the process that asked for one
    and connects after two was asked for still gets one."""
    a = nets[0]
    steps = tempfile.mkdtemp(prefix="tcl-dns-")
    try:
        slow = a.client("resolve", "one.dns.test", pause=steps, background=True)
        tcltest.wait_until(lambda: os.path.exists(steps + "/resolved"), 30,
                           "the first client's lookup")
        fast = a.client("resolve", "two.dns.test")
        open(steps + "/go", "w").close()
        slow = report(slow)
    finally:
        shutil.rmtree(steps, ignore_errors=True)
    for rep, name in ((slow, "one.dns.test"), (fast, "two.dns.test")):
        conn = rep["conns"][0]
        check_named(record_of(dns_tracer, rep["pid"], conn), name, "process",
                    rep["resolved"], conn)
    assert slow["conns"][0]["t"][0] > fast["conns"][0]["t"][1]


def test_expired_answer_still_names(nets, dns_tracer):
    """short.dns.test has a TTL of 1 s; the connect comes 1.5 s later."""
    rep = nets[0].client("resolve", "short.dns.test", pause=1.5)
    conn = rep["conns"][0]
    check_named(record_of(dns_tracer, rep["pid"], conn), "short.dns.test", "process",
                rep["resolved"], conn, expired=True)


def test_answer_over_tcp(nets, dns_tracer):
    """32 addresses do not fit in 512 bytes: glibc asks again over TCP,
    and every address (most of them in no UDP answer) is named."""
    udp = nets[0].ns.exec(tcltest.PYTHON, "-c", UDP_QUERY, "big.dns.test",
                          "127.0.0.53").stdout.split()
    assert udp[1:] == ["True", "0"], "the UDP answer is not truncated and empty: %s" % udp
    rep = nets[0].client("resolve", "big.dns.test")
    assert sorted(c["addr"] for c in rep["conns"]) == sorted(BIG)
    for conn in rep["conns"]:
        check_named(record_of(dns_tracer, rep["pid"], conn), "big.dns.test", "process",
                    rep["resolved"], conn)


def test_loopback_and_unnamed(nets, dns_tracer):
    a = nets[0]
    rep = a.client("connect", "127.0.0.1,::1,10.53.9.9")
    for conn in rep["conns"]:
        rec = record_of(dns_tracer, rep["pid"], conn)
        if conn["addr"] == "10.53.9.9":
            assert rec["dns"] is None and rec["dns_chain"] is None, rec
            assert rec["dns_age_ms"] is None and rec["dns_scope"] is None, rec
            assert rec["dns_expired"] is None, rec
        else:
            assert rec["dns"] == "localhost" and rec["dns_scope"] == "loopback", rec
            assert rec["dns_chain"] == [] and rec["dns_age_ms"] is None, rec


def test_what_it_could_not_keep_is_counted(nets):
    """A malformed answer, one too big for the capture, addresses pushed
    out of a table of one: counted in the JSON lost line and the summary."""
    t = tcltest.start("-d", "--dns-table", 1)
    nets[1].ns.exec(tcltest.PYTHON, "-c", BAD_ANSWERS)
    assert nets[0].getent("multi.dns.test")[0] == ["10.53.1.2", "10.53.1.3"]
    time.sleep(0.3)
    res = t.stop()
    assert res.rc == 0, res
    lost = [r for r in res.records if r.get("event") == "lost"]
    assert len(lost) == 1, res
    # other tests on this host may resolve meanwhile: at least ours
    assert lost[0]["dns_malformed"] >= 1 and lost[0]["dns_dropped"] >= 1, lost
    assert lost[0]["dns_evicted"] >= 1, lost
    m = re.search(r"^DNS answer addresses evicted from the full table \(a larger "
                  r"--dns-table helps\): (\d+)$", res.stderr, re.M)
    assert m and int(m.group(1)) == lost[0]["dns_evicted"], res.stderr
    m = re.search(r"^DNS messages malformed: (\d+)$", res.stderr, re.M)
    assert m and int(m.group(1)) == lost[0]["dns_malformed"], res.stderr
    m = re.search(r"^DNS answers not captured \(ring buffer full, too big, TCP stream "
                  r"broken\): (\d+)$", res.stderr, re.M)
    assert m and int(m.group(1)) == lost[0]["dns_dropped"], res.stderr


def test_text_query_column(nets):
    """QUERY, the last column: the name, its age past 100 ms, - for none."""
    a = nets[0]
    t = tcltest.start("-d", json_mode=False)
    rep = a.client("resolve", "a.dns.test", pause=0.5)
    fresh = a.client("resolve", "multi.dns.test")
    none = a.client("connect", "10.53.9.8")
    expired = a.client("resolve", "short.dns.test", pause=1.5)
    time.sleep(0.5)
    res = t.stop()
    assert res.rc == 0, res
    lines = res.stdout.splitlines()
    assert lines[0].split()[-1] == "QUERY", lines[0]

    def line_of(rep):
        addr = rep["conns"][0]["addr"]
        mine = [l for l in lines[1:] if str(rep["pid"]) in l.split() and addr in l.split()]
        assert len(mine) == 1, (rep, lines)
        return mine[0]

    m = re.search(r" a\.dns\.test \((\d+\.\d{3})s\)$", line_of(rep))
    assert m, line_of(rep)
    conn = rep["conns"][0]
    assert (conn["t"][0] - rep["resolved"][1]) - 0.002 <= float(m.group(1)) <= \
        (conn["t"][1] - rep["resolved"][0]) + 0.002
    # no age under 100 ms (unless this machine was too slow to be that fast)
    conn = fresh["conns"][0]
    if conn["t"][1] - fresh["resolved"][0] < 0.1:
        assert line_of(fresh).endswith(" multi.dns.test"), line_of(fresh)
    else:
        assert re.search(r" multi\.dns\.test( \(\d+\.\d{3}s\))?$", line_of(fresh))
    assert line_of(none).endswith(" -"), line_of(none)
    m = re.search(r" short\.dns\.test \((\d+\.\d{3})s, expired\)$", line_of(expired))
    assert m and float(m.group(1)) >= 1.5, line_of(expired)


def capture_links():
    """Ids of the links that attach the DNS capture's programs to the
    cgroup v2 root (bpftool cgroup show fails on 5.10: links it is)."""
    names = {p["id"]: p.get("name") for p in
             json.loads(tcltest.run(["bpftool", "-j", "prog", "show"]).stdout)}
    root = os.stat(tclcgroup.cgroup2_mount()[0]).st_ino
    return {l["id"] for l in json.loads(tcltest.run(["bpftool", "-j", "link", "show"]).stdout)
            if l.get("type") == "cgroup" and l.get("cgroup_id") == root
            and names.get(l["prog_id"]) in ("dns_query", "dns_answer")}


@pytest.mark.parametrize("how", ["SIGINT", "SIGKILL"])
def test_capture_detached_at_exit(how):
    """Attached at the root while it runs; gone once it exits, even
    killed (other tracers with -d may run meanwhile: only its own)."""
    before = capture_links()
    t = tcltest.start("-d")
    mine = capture_links() - before
    assert len(mine) == 2, "expected its two links on the cgroup v2 root: %s" % mine
    if how == "SIGKILL":
        t.send_signal(9)
        t.proc.wait(10)
    else:
        assert t.stop().rc == 0
    tcltest.wait_until(lambda: not capture_links() & mine, 5,
                       "the programs of the ended tracer to be detached")


def test_check_starts_and_stops_the_capture():
    """--check -d attaches the DNS capture as a run would, says so, and
    leaves nothing attached."""
    before = capture_links()
    r = tcltest.run_tool("--check", "-d")
    assert r.returncode == 0, r
    assert r.stdout.splitlines()[-1] == "dns: ok", r
    assert not capture_links() - before, "--check -d left its programs attached"


def test_dns_table_flag_needs_d():
    r = tcltest.run_tool("--dns-table", "10")
    assert r.returncode == 2 and "give -d too" in r.stderr, r
    r = tcltest.run_tool("-d", "--dns-table", "0")
    assert r.returncode == 2 and "--dns-table" in r.stderr, r
