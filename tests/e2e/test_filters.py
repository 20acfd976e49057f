# SPDX-License-Identifier: GPL-2.0-only
"""Each filter on a mix of matching and non-matching traffic: every
matching attempt is printed once and correctly, nothing else is printed
at all (whatever else the machine does while the test runs)."""
import os
import socket

import pytest

import tcltest
from tcltest import check_record, spec


def connect_refused(agent_proc, fam, host, port):
    c = agent_proc.connect(fam, host, port)
    assert c["errno"] == "ECONNREFUSED", c
    return c


def assert_printed_once(res, attempts, result, saddr):
    tcltest.check_attempts(res, attempts, result=result, saddr=saddr,
                           errno="ECONNREFUSED" if result == "refused" else None)


def assert_absent(res, attempts):
    for c in attempts:
        assert not tcltest.records_of(res.records, c), (
            "filtered-out attempt printed: %s\n%s" % (tcltest.public(c), res))


@pytest.mark.arm64
def test_pid_covers_every_thread_of_the_process(tracer, listeners, agent):
    lst = listeners.one("127.0.0.1")
    wanted, other = agent(), agent()
    t = tracer("-p", wanted.pid)
    mine = wanted.concurrent([spec(4, "127.0.0.1", lst.port) for _ in range(6)])
    theirs = other.concurrent([spec(4, "127.0.0.1", lst.port) for _ in range(6)])
    res = t.stop()
    assert res.rc == 0, res
    assert len({c["tid"] for c in mine}) == 6 and wanted.main_tid not in {c["tid"] for c in mine}
    assert {r["pid"] for r in res.connects} == {wanted.pid}, res
    assert_printed_once(res, mine, "established", "127.0.0.1")
    assert_absent(res, theirs)


@pytest.mark.arm64
def test_uid(tracer, agent):
    port = tcltest.free_port()
    nobody, root = agent(uid=65534), agent()
    assert nobody.uid == 65534 and root.uid == 0
    t = tracer("-u", "65534")
    mine = [connect_refused(nobody, 4, "127.0.0.1", port) for _ in range(2)]
    theirs = [connect_refused(root, 4, "127.0.0.1", port) for _ in range(2)]
    res = t.stop()
    assert {r["uid"] for r in res.connects} == {65534}, res
    assert_printed_once(res, mine, "refused", "127.0.0.1")
    assert_absent(res, theirs)


def test_uid_by_name(tracer, agent):
    port = tcltest.free_port()
    nobody = agent(uid=65534)
    t = tracer("-u", "nobody")
    mine = [connect_refused(nobody, 4, "127.0.0.1", port)]
    res = t.stop()
    assert {r["uid"] for r in res.connects} == {65534}, res
    assert_printed_once(res, mine, "refused", "127.0.0.1")


@pytest.mark.arm64
def test_ports_list_and_range(tracer, agent):
    base = tcltest.free_port_run(5)
    a = agent()
    t = tracer("-P", "%d,%d-%d" % (base, base + 2, base + 3), "-p", a.pid)
    tried = {p: connect_refused(a, 4, "127.0.0.1", p) for p in range(base, base + 5)}
    res = t.stop()
    assert sorted(r["dport"] for r in res.connects) == [base, base + 2, base + 3], res
    assert_printed_once(res, [tried[base], tried[base + 2], tried[base + 3]],
                        "refused", "127.0.0.1")
    assert_absent(res, [tried[base + 1], tried[base + 4]])


def test_port_repeated_adds(tracer, listeners, agent):
    """-P a -P b watches both ports (a second -P once replaced the first)."""
    a_lst, b_lst, c_lst = (listeners.one("127.0.0.1") for _ in range(3))
    a = agent()
    t = tracer("-P", a_lst.port, "-P", b_lst.port, "-p", a.pid)
    tried = {l.port: a.connect(4, "127.0.0.1", l.port) for l in (a_lst, b_lst, c_lst)}
    res = t.stop()
    assert sorted(r["dport"] for r in res.connects) == sorted([a_lst.port, b_lst.port]), res
    assert_printed_once(res, [tried[a_lst.port], tried[b_lst.port]], "established",
                        "127.0.0.1")
    assert_absent(res, [tried[c_lst.port]])


@pytest.mark.arm64
def test_comm(tracer, agent):
    port = tcltest.free_port()
    named, other = agent(comm="tclfiltered"), agent(comm="tclfilteredx")
    assert named.comm == "tclfiltered"
    t = tracer("-n", "tclfiltered")
    mine = [connect_refused(named, 4, "127.0.0.1", port)]
    theirs = [connect_refused(other, 4, "127.0.0.1", port)]
    res = t.stop()
    assert {r["comm"] for r in res.connects} == {"tclfiltered"}, res
    assert_printed_once(res, mine, "refused", "127.0.0.1")
    assert_absent(res, theirs)


# (flag, families printed: 4, 6, and "m" for IPv4-mapped on an IPv6 socket)
FAMILIES = [("-4", {4}), ("-6", {6, "m"})]


@pytest.mark.arm64
@pytest.mark.parametrize("flag,printed", FAMILIES)
def test_address_family(tracer, agent, flag, printed):
    port = tcltest.free_port_run(1)
    a = agent()
    t = tracer(flag, "-p", a.pid)
    tried = {4: connect_refused(a, 4, "127.0.0.1", port),
             6: connect_refused(a, 6, "::1", port),
             "m": connect_refused(a, 6, "::ffff:127.0.0.1", port)}
    res = t.stop()
    saddr = {4: "127.0.0.1", 6: "::1", "m": "::ffff:127.0.0.1"}
    for kind, c in tried.items():
        if kind in printed:
            check_record(tcltest.only_record(res, c), c, res.backend, result="refused",
                         errno="ECONNREFUSED", saddr=saddr[kind])
        else:
            assert_absent(res, [c])
    assert len(res.connects) == len(printed), res


@pytest.mark.arm64
def test_failed_only(tracer, listeners, clients, agent):
    lst = listeners.one("127.0.0.1")
    a = agent()
    t = tracer("-x", "-p", a.pid)
    ok = a.connect(4, "127.0.0.1", lst.port)
    bad = connect_refused(a, 4, "127.0.0.1", tcltest.free_port())
    res = t.stop()
    assert [r["result"] for r in res.connects] == ["refused"], res
    assert_printed_once(res, [bad], "refused", "127.0.0.1")
    assert_absent(res, [ok])
    # like every filter, -x applies in the kernel: the summary covers the
    # attempts it let through
    row = res.summary()["rows"]["python3"]
    assert (row["attempts"], row["estab"], row["failed"]) == (1, 0, 1), res.stderr


@pytest.mark.arm64
def test_filters_combine_with_and(tracer, agent):
    p1, p2 = tcltest.free_ports(2)
    a, b = agent(comm="tclandA"), agent(comm="tclandB")
    t = tracer("-p", a.pid, "-P", p1, "-4")
    hit = connect_refused(a, 4, "127.0.0.1", p1)
    misses = [connect_refused(a, 4, "127.0.0.1", p2),     # other port
              connect_refused(a, 6, "::1", p1),           # other family
              connect_refused(b, 4, "127.0.0.1", p1)]     # other process
    res = t.stop()
    assert len(res.connects) == 1, res
    assert_printed_once(res, [hit], "refused", "127.0.0.1")
    assert_absent(res, misses)



def test_tcplife_remote_ports_flag(tracer, listeners):
    """-D PORTS is tcplife's remote-port filter, the same as -P: a tcplife
    user's "-l -D PORT" traces that port (it once ran PORT seconds,
    unfiltered)."""
    wanted, other = listeners.one("127.0.0.1"), listeners.one("127.0.0.1")
    t = tracer("-l", "-D", wanted.port, "-p", os.getpid())
    for lst in (wanted, other):
        with socket.create_connection(("127.0.0.1", lst.port)):
            pass

    def closes():
        return [line for line in t.stdout_now().splitlines() if '"event":"close"' in line]
    tcltest.wait_until(closes, 10, "the close of the connection to the -D port")
    res = t.stop()
    assert res.rc == 0, res
    for kind in ("connect", "close"):
        assert [(r["dport"], r["pid"]) for r in res.records if r["event"] == kind] == \
            [(wanted.port, os.getpid())], res
