# SPDX-License-Identifier: GPL-2.0-only
"""-r/--resolve: remote addresses named by reverse DNS.

Each test has its own network namespace with its own resolver: a dnsmasq
answering PTR records for addresses on the namespace's lo, or a UDP
socket that reads queries and never answers. The tracer runs under
`ip netns exec NS`, which bind-mounts /etc/netns/NS/resolv.conf (and
hosts) over /etc's for it alone: the host's files stay untouched. The
tracer drops to nobody once attached, so every name here was found by
the unprivileged resolver threads.
"""
import json
import os
import re
import shutil
import subprocess
import time

import pytest

import tcltest

# user space only (the records that feed it are checked on every backend):
# one kernel's pass in the VM stage
pytestmark = pytest.mark.view

DNSMASQ = shutil.which("dnsmasq") or "/usr/sbin/dnsmasq"
LATE_RE = re.compile(r"^Records printed without a name, its reverse lookup not done in "
                     r"time: (\d+)$", re.M)


class Resolver:
    """A namespace (lo with the test's addresses) whose resolv.conf names
    127.0.0.1, where the test's resolver listens; hosts: lines for the
    namespace's own /etc/hosts."""

    def __init__(self, net, v4, v6=(), hosts="", options=""):
        self.ns = net.bare()
        for a in v4:
            self.ns.ip("addr", "add", a + "/32", "dev", "lo")
        for a in v6:
            self.ns.ip("addr", "add", a + "/128", "dev", "lo", "nodad")
        self.etc = "/etc/netns/" + self.ns.name
        os.makedirs(self.etc)
        with open(self.etc + "/resolv.conf", "w") as f:
            f.write("nameserver 127.0.0.1\n" + options)
        with open(self.etc + "/hosts", "w") as f:
            f.write("127.0.0.1 localhost\n" + hosts)
        for name in ("resolv.conf", "hosts"):
            os.chmod(os.path.join(self.etc, name), 0o644)
        self.proc = None

    def start(self, cmd, ready):
        """Run the resolver in the namespace; wait for `ready` on its stderr."""
        self.log = open(os.path.join(self.etc, "resolver.log"), "w+b")
        self.proc = subprocess.Popen(["ip", "netns", "exec", self.ns.name] + cmd,
                                     stdin=subprocess.DEVNULL, stdout=self.log,
                                     stderr=subprocess.STDOUT)
        tcltest.LIVE.append(self.proc)
        tcltest.wait_until(lambda: ready in self.output() or self.proc.poll() is not None,
                           10, "the resolver in %s" % self.ns.name)
        assert self.proc.poll() is None, "resolver exited:\n" + self.output()

    def output(self):
        self.log.seek(0)
        return self.log.read().decode(errors="replace")

    def getent(self, addr):
        """The name getent finds for addr in the namespace (None if none)."""
        r = self.ns.exec("getent", "hosts", addr, check=False)
        return r.stdout.split()[1] if r.returncode == 0 else None

    def close(self):
        if self.proc:
            tcltest._end(self.proc)
            self.log.close()
        shutil.rmtree(self.etc, ignore_errors=True)


@pytest.fixture
def resolvers(net):
    made = []

    def make(*args, **kw):
        r = Resolver(net, *args, **kw)
        made.append(r)
        return r

    yield make
    for r in made:
        r.close()


def start_in(res, *args, json_mode=True):
    return tcltest.start(*args, json_mode=json_mode,
                         wrap=["ip", "netns", "exec", res.ns.name])


def refused(agent, host, port):
    info = agent.connect(4 if ":" not in host else 6, host, port)
    assert info["errno"] == "ECONNREFUSED", info
    return info


def check(res, rec, client, name):
    """A refused connect's record: who, where, and the name."""
    assert rec["pid"] == client["pid"] and rec["tid"] == client["tid"], (rec, client)
    assert rec["daddr"] == tcltest.canon(client["host"]) and rec["dport"] == client["port"]
    assert rec["result"] == "refused" and rec["errno"] == "ECONNREFUSED", rec
    assert rec["rdns"] == name, "rdns of %s: %r, expected %r\n%s" % (
        client["host"], rec["rdns"], name, res)


def dnsmasq(resolver, records):
    resolver.start([DNSMASQ, "--keep-in-foreground", "--conf-file=/dev/null",
                    "--no-resolv", "--no-hosts", "--bogus-priv", "--bind-interfaces",
                    "--listen-address=127.0.0.1", "--port=53", "--user=nobody",
                    "--group=nogroup", "--pid-file=" + resolver.etc + "/dnsmasq.pid",
                    "--log-facility=-"] + records, "started")


def test_names_from_ptr_records(net, resolvers):
    """A name from a host record (A and PTR), one from a bare PTR record,
    an IPv6 one, and none (dnsmasq answers NXDOMAIN): each record gets
    its own, JSON and text."""
    named, ptr_only, nameless = "10.231.0.1", "10.231.0.2", "10.231.0.3"
    six = "fd00:231::1"
    res = resolvers([named, ptr_only, nameless], [six])
    dnsmasq(res, ["--host-record=one.rdns.test," + named,
                  "--ptr-record=2.0.231.10.in-addr.arpa,two.rdns.test",
                  "--host-record=six.rdns.test," + six])
    # the namespace's resolver answers as the test set it up
    assert res.getent(named) == "one.rdns.test"
    assert res.getent(ptr_only) == "two.rdns.test"
    assert res.getent(six) == "six.rdns.test"
    assert res.getent(nameless) is None

    want = {named: "one.rdns.test", ptr_only: "two.rdns.test", six: "six.rdns.test",
            nameless: None}
    agent = net.agent(netns=res.ns)
    t = start_in(res, "-r")
    clients = [refused(agent, host, tcltest.free_port()) for host in want]
    # twice: the second from the cache
    clients += [refused(agent, host, tcltest.free_port()) for host in want]
    out = t.stop()
    assert out.rc == 0, out
    for c in clients:
        check(out, tcltest.only_record(out, c), c, want[c["host"]])
    assert not LATE_RE.search(out.stderr), out

    t = start_in(res, "-r", json_mode=False)
    clients = [refused(agent, host, tcltest.free_port()) for host in want]
    out = t.stop()
    assert out.rc == 0, out
    lines = out.stdout.splitlines()
    assert lines[0].split()[-1] == "RDNS", lines[0]
    for c in clients:
        row = [l.split() for l in lines[1:]
               if tcltest.canon(c["host"]) in l.split() and str(c["port"]) in l.split()]
        assert len(row) == 1, (c, out)
        assert row[0][-1] == (want[c["host"]] or "-"), (c, row)


def test_max_events_counts_records_printed(net, resolvers):
    """--max-events: the tool stops once N records are out, named, and not
    before (held records are not printed yet)."""
    named, nameless = "10.231.2.1", "10.231.2.2"
    res = resolvers([named, nameless])
    dnsmasq(res, ["--host-record=max.rdns.test," + named])
    agent = net.agent(netns=res.ns)
    t = start_in(res, "-r", "--max-events", 2, "-p", agent.pid)
    clients = [refused(agent, named, tcltest.free_port()),
               refused(agent, nameless, tcltest.free_port())]
    out = t.wait_exit(10)
    assert out.rc == 0, out
    assert len(out.connects) == 2, out
    for c, name in zip(clients, ("max.rdns.test", None)):
        check(out, tcltest.only_record(out, c), c, name)


ACCEPT_CLIENT = r"""
import json, socket, sys
server, client, port = sys.argv[1], sys.argv[2], int(sys.argv[3])
l = socket.socket(); l.bind((server, port)); l.listen()
c = socket.socket(); c.bind((client, 0)); c.connect((server, port))
a, _ = l.accept()
print(json.dumps({"sport": c.getsockname()[1]}), flush=True)
c.close(); a.close(); l.close()
"""


def test_accepts_name_the_client_closes_the_peer(net, resolvers):
    """-A -l: a connect from one named address to another; the connect
    and its close name the server, the accept and its close the client."""
    server, client = "10.231.1.1", "10.231.1.2"
    res = resolvers([server, client])
    dnsmasq(res, ["--host-record=server.rdns.test," + server,
                  "--host-record=client.rdns.test," + client])
    port = tcltest.free_port()
    t = start_in(res, "-r", "-A", "-l")
    sport = json.loads(res.ns.exec(tcltest.PYTHON, "-c", ACCEPT_CLIENT, server, client,
                                   str(port)).stdout)["sport"]
    tcltest.wait_until(lambda: t.stdout_now().count('"event":"close"') >= 2, 10,
                       "the two close records")
    out = t.stop()
    assert out.rc == 0, out
    mine = [r for r in out.records if {r.get("sport"), r.get("dport")} == {sport, port}]
    by_event = {}
    for r in mine:
        kind = r["event"] if r["event"] != "close" else (
            "close-in" if r["sport"] == port else "close-out")
        by_event.setdefault(kind, []).append(r)
    assert sorted(by_event) == ["accept", "close-in", "close-out", "connect"], out
    for kind, peer, name in (("connect", server, "server.rdns.test"),
                             ("close-out", server, "server.rdns.test"),
                             ("accept", client, "client.rdns.test"),
                             ("close-in", client, "client.rdns.test")):
        [rec] = by_event[kind]
        assert rec["daddr"] == peer and rec["rdns"] == name, (kind, rec)


SINK = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.bind(("127.0.0.1", 53))
print("listening", file=sys.stderr, flush=True)
while True:
    s.recv(65536)
    print("query", file=sys.stderr, flush=True)
"""

BOUND_MS = 500
# the reader takes records every 100 ms (POLL_MS), and a test machine
# may be slow: how much later than its due time a line may appear
MARGIN_S = 0.4


def line_for(t, client):
    """Seconds from now until the tracer prints client's record (10 s at most)."""
    key = '"daddr":"%s","dport":%d,' % (client["host"], client["port"])
    deadline = time.monotonic() + 10
    while key not in t.stdout_now():
        assert time.monotonic() < deadline, "no record for %s\n%s" % (client, t.stderr_now())
        time.sleep(0.002)
    return time.monotonic()


def timed(agent, t, host):
    """Connect (refused) and wait for the record: (client, seconds)."""
    t0 = time.monotonic()
    c = refused(agent, host, tcltest.free_port())
    return c, line_for(t, c) - t0


def test_dead_resolver_delays_records_at_most_the_bound(net, resolvers):
    """A resolver that never answers: each record waits the bound, no
    more, and goes out without a name, counted; a name from the hosts file
    (cached once looked up) is not held when nothing waits before it, and
    waits behind a record that does; Ctrl-C right after a connect still
    prints its record, within the bound."""
    cached = "10.232.0.1"
    dead = ["10.232.0.%d" % i for i in range(2, 6)]
    # queries time out after 2 s: the workers are stuck four times the bound
    res = resolvers([cached] + dead, hosts="%s cached.rdns.test\n" % cached,
                    options="options timeout:2 attempts:1\n")
    res.start([tcltest.PYTHON, "-c", SINK], "listening")
    bound = BOUND_MS / 1000
    agent = net.agent(netns=res.ns)
    # only the agent: records of other processes (other tests) would wait
    # for their own names, and hold the agent's back
    t = start_in(res, "-r", "--resolve-timeout", BOUND_MS, "-p", agent.pid)

    first, _ = timed(agent, t, cached)
    late, took = timed(agent, t, dead[0])
    assert bound <= took < bound + MARGIN_S, "dead lookup: line after %.3f s" % took
    again, took = timed(agent, t, cached)
    assert took < bound / 2, "cached name held %.3f s" % took

    # behind a waiting record: out with it, in order
    t0 = time.monotonic()
    behind = refused(agent, dead[1], tcltest.free_port())
    after = refused(agent, cached, tcltest.free_port())
    took = line_for(t, after) - t0
    assert bound <= took < bound + MARGIN_S, "record behind: line after %.3f s" % took

    # Ctrl-C while a record waits: it is printed, the exit waits no longer
    last = refused(agent, dead[2], tcltest.free_port())
    out = t.stop()
    assert out.rc == 0, out
    assert out.t_exit - out.t_stop < bound + 1.0, "exit took %.3f s" % (out.t_exit - out.t_stop)

    order = [first, late, again, behind, after, last]
    recs = [tcltest.only_record(out, c) for c in order]
    assert [out.records.index(r) for r in recs] == sorted(out.records.index(r) for r in recs)
    for c, r in zip(order, recs):
        check(out, r, c, "cached.rdns.test" if c["host"] == cached else None)
    m = LATE_RE.search(out.stderr)
    assert m and int(m.group(1)) == 3, out
    lost = [r for r in out.records if r.get("event") == "lost"]
    assert len(lost) == 1 and lost[0]["rdns_timeouts"] == 3, out
    # the queries went to the test's sink, not to the host's resolver
    assert res.output().count("query") >= 3, res.output()


def test_resolve_usage_errors():
    for args, what in ((["-r", "-c"], "-c and --top"),
                       (["-r", "--top"], "-c and --top"),
                       (["--resolve-timeout", "100"], "give -r too"),
                       (["-r", "--resolve-timeout", "0"], "1 to 60000"),
                       (["-r", "--resolve-timeout", "60001"], "1 to 60000"),
                       (["-r", "--resolve-timeout", "5x"], "1 to 60000")):
        r = tcltest.run_tool(*args)
        assert r.returncode == 2, (args, r)
        assert r.stdout == "" and what in r.stderr and r.stderr.count("\n") == 1, (args, r)
