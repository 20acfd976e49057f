# SPDX-License-Identifier: GPL-2.0-only
"""-l and -A: accept records of inbound connections and close records of
traced ones. The test process connects to its own listener, exchanges a
known number of bytes each way, holds the connection, and closes it in a
known way; every field of the records is checked against that."""
import json
import os
import re
import socket
import threading
import time

import pytest

import tclconn
import tcltest

HEAD_KEYS = ["event", "run", "time", "id", "pid", "tid", "uid", "comm", "ip", "saddr", "sport",
             "daddr", "dport"]
ACCEPT_KEYS = HEAD_KEYS + tcltest.PROCESS_KEYS
CLOSE_KEYS = HEAD_KEYS + ["direction", "duration_ms", "bytes_sent", "bytes_received",
                          "segs_out", "segs_in", "srtt_us", "min_rtt_us", "retransmits",
                          "closed_by"] + tcltest.PROCESS_KEYS
# bytes each way: several segments, not a multiple of anything
TO_SERVER = 70001
TO_CLIENT = 123457
# how long the connection stays open: its duration must show it
HOLD = 0.3
# the records print times to the microsecond and durations to the microsecond
# of a millisecond: a kernel-derived difference may be off by one of each
ROUNDING_MS = 0.002


def records_now(t):
    return tcltest.json_lines(t.stdout_now())


def wait_record(t, what, pred, timeout=10):
    """The one record pred accepts, and the time the test had seen it by."""
    found = []

    def seen():
        found[:] = [r for r in records_now(t) if pred(r)]
        return bool(found)
    tcltest.wait_until(seen, timeout, what)
    t_seen = time.time()
    assert len(found) == 1, "expected one %s, got %s" % (what, found)
    return found[0], t_seen


def of_port(event, sport, dport):
    return lambda r: r.get("event") == event and r.get("sport") == sport \
        and r.get("dport") == dport


def ends(conn):
    """(sport, dport) of the client's and of the server's end."""
    client = (conn.c["sport"], conn.listener.port)
    return client, client[::-1]


def check_identity(rec, keys, conn, *, pid, tid, uid, comm, outbound, window):
    problems = []

    def expect(field, ok, want):
        if not ok:
            problems.append("%s: got %r, expected %s" % (field, rec.get(field), want))

    expect("keys", list(rec) == keys, "keys %s in this order" % keys)
    t = tcltest.parse_time(rec["time"])
    lo, hi = window
    expect("time", lo - tcltest.CLOCK_SLACK <= t <= hi + tcltest.CLOCK_SLACK,
           "between %.6f and %.6f" % window)
    expect("id", type(rec.get("id")) is int and rec["id"] > 0, "a positive integer")
    for k, want in (("pid", pid), ("tid", tid), ("uid", uid), ("comm", comm)):
        expect(k, rec.get(k) == want and type(rec.get(k)) is type(want), repr(want))
    client, server = tcltest.canon(conn.c["saddr"]), tcltest.canon(conn.host)
    (sport, dport) = ends(conn)[0 if outbound else 1]
    saddr, daddr = (client, server) if outbound else (server, client)
    for k, want in (("ip", conn.fam), ("saddr", saddr), ("sport", sport),
                    ("daddr", daddr), ("dport", dport)):
        expect(k, rec.get(k) == want, repr(want))
    assert not problems, "%s record does not match the connection:\n  %s\nrecord: %s" % (
        rec.get("event"), "\n  ".join(problems), json.dumps(rec))


def check_close(rec, conn, opened, t_seen, *, outbound, closed_by):
    """A close record against its connection: opened is the connect or
    accept record it closes; t_seen when the test had seen the close."""
    sent, received = (TO_SERVER, TO_CLIENT) if outbound else (TO_CLIENT, TO_SERVER)
    who = {k: opened[k] for k in ("pid", "tid", "uid", "comm")}
    check_identity(rec, CLOSE_KEYS, conn, outbound=outbound, window=(conn.t_close, t_seen),
                   **who)
    assert rec["id"] == opened["id"], "the close names its connection's id"
    want = {"direction": "out" if outbound else "in", "bytes_sent": sent,
            "bytes_received": received, "closed_by": closed_by}
    assert {k: rec[k] for k in want} == want, json.dumps(rec)
    # the kernel's counters as the test read them (TCP_INFO) just before
    # closing; the close adds a few segments (FIN, ACKs), and only they
    # can add retransmissions (an emulated loopback does retransmit)
    before = conn.info_client if outbound else conn.info_server
    after_close = rec["segs_out"] - before["segs_out"]
    assert 0 <= after_close <= 10, (before, json.dumps(rec))
    assert 0 <= rec["segs_in"] - before["segs_in"] <= 10, (before, json.dumps(rec))
    assert before["total_retrans"] <= rec["retransmits"] <= \
        before["total_retrans"] + after_close, (before, json.dumps(rec))
    # established when the opening record was made, closed when this one was
    span_ms = (tcltest.parse_time(rec["time"]) - tcltest.parse_time(opened["time"])) * 1000
    assert abs(rec["duration_ms"] - span_ms) <= ROUNDING_MS, (span_ms, json.dumps(rec))
    # and within what the test itself measured: established before the
    # connect (or the accept) returned, closed after the test began closing
    established_by = conn.c["t1w"] if outbound else conn.t_accepted
    lo = (conn.t_close - established_by) * 1000
    hi = (t_seen - conn.c["t0w"]) * 1000
    assert lo - 2 <= rec["duration_ms"] <= hi + 2, (lo, hi, json.dumps(rec))
    assert rec["duration_ms"] >= HOLD * 1000, json.dumps(rec)
    # a round trip on loopback: positive, below the connection's lifetime
    assert type(rec["srtt_us"]) is int and 0 < rec["srtt_us"] < rec["duration_ms"] * 1000, rec
    # the smallest sample only goes down
    assert type(rec["min_rtt_us"]) is int and 0 < rec["min_rtt_us"] <= before["min_rtt"], (
        before, json.dumps(rec))


def hold_and_close(conn, first):
    time.sleep(HOLD)
    conn.close(first)


@pytest.mark.parametrize("fam,first,closed_by", [
    (4, "client", "local"),
    (6, "server", "remote"),
    (4, "reset", "remote"),
], ids=["v4-local-close", "v6-peer-close", "v4-peer-reset"])
@pytest.mark.arm64
def test_close_of_a_connect(tracer, listeners, fam, first, closed_by):
    """-l: the connect's close record, bytes exact each way (data only: not
    the SYN or FIN the kernel counts), duration within the test's bounds."""
    t = tracer("-l", "-p", str(os.getpid()))
    conn = tclconn.Conn(listeners, fam, TO_SERVER, TO_CLIENT)
    hold_and_close(conn, first)
    (cport, lport), _ = ends(conn)
    opened, _ = wait_record(t, "the connect record", of_port("connect", cport, lport))
    assert opened["result"] == "established", opened
    closed, t_seen = wait_record(t, "the close record", of_port("close", cport, lport))
    check_close(closed, conn, opened, t_seen, outbound=True, closed_by=closed_by)
    res = t.stop()
    assert res.rc == 0, res
    # without -A, the server's end is not traced: no accept, no second close
    assert [r["event"] for r in res.records if r.get("id") == opened["id"]] == \
        ["connect", "close"], res
    assert not [r for r in res.records if r["event"] == "accept"], res


@pytest.mark.arm64
@pytest.mark.parametrize("lifecycle", [False, True], ids=["accept", "accept-and-close"])
def test_accept_names_the_accepting_thread(tracer, listeners, lifecycle):
    """-A: an accept record for the server's end, naming the thread whose
    accept(2) returned it; with -l the close records of both ends (the
    client closed first)."""
    t = tracer("-A", *(["-l"] if lifecycle else []), "-p", str(os.getpid()))
    conn = tclconn.Conn(listeners, 4, TO_SERVER, TO_CLIENT)
    hold_and_close(conn, "client")
    (cport, lport), _ = ends(conn)
    acc, _ = wait_record(t, "the accept record", of_port("accept", lport, cport))
    # established when the client's ACK came in: before accept() returned
    check_identity(acc, ACCEPT_KEYS, conn, outbound=False, pid=os.getpid(),
                   tid=conn.accept_tid, uid=os.getuid(), comm=conn.accept_comm,
                   window=(conn.c["t0w"], conn.t_accepted))
    opened, _ = wait_record(t, "the connect record", of_port("connect", cport, lport))
    assert acc["id"] != opened["id"], "two connections, two ids"
    if lifecycle:
        closed, t_seen = wait_record(t, "the server end's close", of_port("close", lport, cport))
        check_close(closed, conn, acc, t_seen, outbound=False, closed_by="remote")
        closed, t_seen = wait_record(t, "the client end's close", of_port("close", cport, lport))
        check_close(closed, conn, opened, t_seen, outbound=True, closed_by="local")
    res = t.stop()
    assert res.rc == 0, res
    assert [r["event"] for r in res.records if r["id"] == acc["id"]] == \
        ["accept"] + (["close"] if lifecycle else []), res


@pytest.mark.arm64
def test_accept_nobody_took_has_no_process(tracer, listeners):
    """A connection that waited in the accept queue and died there (the
    listener closed) was never returned by an accept(2): its accept record
    names no process rather than a guess, and its close counts what the
    client sent."""
    to_server = 1000    # stays in the receive buffer: no one reads it
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.bind(("127.0.0.1", 0))
    ls.listen(8)
    port = ls.getsockname()[1]
    try:
        t = tracer("-A", "-l", "-P", str(port))
        c = tcltest.connect(4, "127.0.0.1", port)
        assert c["errno"] is None, c
        c["_sock"].sendall(b"c" * to_server)
        time.sleep(HOLD)
        c["_sock"].close()
        time.sleep(0.1)     # the FIN reaches the queued socket: CLOSE_WAIT
        t_close = time.time()
    finally:
        ls.close()
    acc, _ = wait_record(t, "the accept record", of_port("accept", port, c["sport"]))
    assert list(acc) == ACCEPT_KEYS, acc
    assert {k: acc[k] for k in ("pid", "tid", "uid", "comm")} == \
        {"pid": None, "tid": None, "uid": None, "comm": None}, acc
    assert (acc["saddr"], acc["daddr"], acc["ip"]) == ("127.0.0.1", "127.0.0.1", 4), acc
    assert c["t0w"] - tcltest.CLOCK_SLACK <= tcltest.parse_time(acc["time"]) <= t_close, acc
    closed, t_seen = wait_record(t, "the close record", of_port("close", port, c["sport"]))
    assert list(closed) == CLOSE_KEYS, closed
    assert closed["id"] == acc["id"], closed
    want = {"pid": None, "comm": None, "direction": "in", "bytes_sent": 0,
            "bytes_received": to_server, "closed_by": "remote"}
    assert {k: closed[k] for k in want} == want, closed
    assert t_close <= tcltest.parse_time(closed["time"]) <= t_seen + tcltest.CLOCK_SLACK
    assert closed["duration_ms"] >= HOLD * 1000, closed
    res = t.stop()
    assert res.rc == 0, res


@pytest.mark.parametrize("lifecycle", [False, True], ids=["accept", "accept-and-close"])
def test_accept_of_a_connection_established_before_the_start(tracer, lifecycle):
    """A connection established before the tracer started and accepted
    after: the hook never saw its establishment, so its accept record is
    made when accept(2) returns it, naming that thread, at that time. The
    same path makes the record of one whose establishment the kernel did
    not show the hook. Its close is not followed (-l): its counters at
    establishment are unknown."""
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.bind(("127.0.0.1", 0))
    ls.listen(8)
    port = ls.getsockname()[1]
    try:
        c = tcltest.connect(4, "127.0.0.1", port)
        assert c["errno"] is None, c
        t = tracer("-A", *(["-l"] if lifecycle else []), "-P", str(port))
        t_before = time.time()
        served, _ = ls.accept()
        t_after = time.time()
        served.close()
        c["_sock"].close()
        acc, _ = wait_record(t, "the accept record", of_port("accept", port, c["sport"]))
        time.sleep(0.2)     # a close record, were there one, would be out
        res = t.stop()
    finally:
        ls.close()
    assert res.rc == 0, res
    tid = threading.get_native_id()
    want = {"pid": os.getpid(), "tid": tid, "uid": os.getuid(),
            "comm": tclconn.thread_comm(tid), "ip": 4, "saddr": "127.0.0.1", "sport": port,
            "daddr": "127.0.0.1", "dport": c["sport"]}
    assert list(acc) == ACCEPT_KEYS, acc
    assert {k: acc[k] for k in want} == want, acc
    assert t_before - tcltest.CLOCK_SLACK <= tcltest.parse_time(acc["time"]) <= \
        t_after + tcltest.CLOCK_SLACK, (t_before, acc, t_after)
    assert type(acc["id"]) is int and acc["id"] > 0, acc
    mine = [r for r in res.records if r.get("id") == acc["id"]]
    assert mine == [acc], res
    # the client's connect came before the start: no record of it either
    assert not [r for r in res.records if r["event"] in ("connect", "close")], res


def test_text_lines_and_summary(tracer, listeners):
    """Text output with -l -A: the EVENT column, LPORT (an accept is known
    by its listening port), close lines with DUR(ms), TX, RX, RTT(ms); and
    the summary's closed-connections table adds up."""
    t = tracer("-l", "-A", "-p", str(os.getpid()), json_mode=False)
    conn = tclconn.Conn(listeners, 4, TO_SERVER, TO_CLIENT)
    hold_and_close(conn, "server")
    (cport, lport), _ = ends(conn)

    def closes():
        return [l.split() for l in t.stdout_now().splitlines() if l.startswith("close ")]
    tcltest.wait_until(lambda: len(closes()) == 2, 10, "two close lines")
    t_seen = time.time()
    res = t.stop()
    assert res.rc == 0, res
    lines = res.stdout.splitlines()
    assert lines[0].split() == ["EVENT", "PID", "COMM", "IP", "SADDR", "LPORT", "DADDR",
                                "DPORT", "RESULT", "LAT(ms)", "DUR(ms)", "TX", "RX",
                                "RTT(ms)"], lines
    rows = {}
    for f in (l.split() for l in lines[1:]):
        assert len(f) == 14, "14 columns: %r" % f
        rows.setdefault((f[0], int(f[7])), []).append(f)
    pid = str(os.getpid())
    # the client's end: to the listener's port; the server's: to the client's
    for (event, dport), sport, comm, tx, rx, result in (
            (("close", lport), cport, conn.c["comm"], TO_SERVER, TO_CLIENT, "closed:remote"),
            (("close", cport), lport, conn.accept_comm, TO_CLIENT, TO_SERVER, "closed:local")):
        assert len(rows.get((event, dport), [])) == 1, (event, dport, res.stdout)
        f = rows[(event, dport)][0]
        assert f[1:7] == [pid, comm, "4", "127.0.0.1", str(sport), "127.0.0.1"], f
        assert f[8:10] == [result, "-"], f
        assert HOLD * 1000 <= float(f[10]) <= (t_seen - conn.c["t0w"]) * 1000, f
        assert [int(f[11]), int(f[12])] == [tx, rx], f
        assert re.match(r"^\d+\.\d{3}$", f[13]) and float(f[13]) > 0, f
    assert rows[("connect", lport)][0][8] == "established", res.stdout
    accept = rows[("accept", cport)][0]
    assert accept[5] == str(lport), "the listening port, in LPORT: %r" % accept
    assert accept[8:] == ["accepted", "-", "-", "-", "-", "-"], res.stdout

    # summary: one row per command, both ends added up
    want = {}
    for comm, tx, rx in ((conn.c["comm"], TO_SERVER, TO_CLIENT),
                         (conn.accept_comm, TO_CLIENT, TO_SERVER)):
        n, a, b = want.get(comm, (0, 0, 0))
        want[comm] = (n + 1, a + tx, b + rx)
    got = closed_summary(res.stderr)
    assert {k: v[:3] for k, v in got["rows"].items()} == want, res.stderr
    assert got["open"] == 0, res.stderr
    assert sum(c for _, _, c in got["rtt"]) == 2, res.stderr


def closed_summary(stderr):
    """The -l part of the summary: {"rows": {comm: (closed, tx, rx, avg,
    p50, p99)}, "open": N, "rtt": [(lo, hi, count)]}"""
    lines = stderr.splitlines()
    i = lines.index("Closed connections, data bytes and time from established to closed:")
    assert lines[i + 1].split() == ["COMM", "CLOSED", "TX", "RX", "AVG(ms)", "P50(ms)",
                                    "P99(ms)"], stderr
    rows, i = {}, i + 2
    while not lines[i].startswith("Still open at exit: "):
        f = lines[i].split()
        rows[f[0]] = (int(f[1]), int(f[2]), int(f[3])) + tuple(float(x) for x in f[4:])
        i += 1
    still_open = int(lines[i].split(": ")[1])
    j = lines.index("Smoothed RTT of closed connections:")
    rtt = []
    for line in lines[j + 1:]:
        m = re.match(r"^\s*(\d+) -> (\d+)\s*: (\d+)\s*\|[* ]*\|$", line)
        if m:
            rtt.append(tuple(int(x) for x in m.groups()))
        elif line.strip() and "distribution" not in line:
            break
    return {"rows": rows, "open": still_open, "rtt": rtt}
