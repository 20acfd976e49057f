# SPDX-License-Identifier: GPL-2.0-only
"""What the user reads: the text layout with each column flag, -i, count
mode, the stop conditions and the summary on exit."""
import os
import signal
import subprocess
import time

import pytest

import tcltest
from tcltest import check_record, spec

BASE_COLUMNS = ["PID", "COMM", "IP", "SADDR", "DADDR", "DPORT", "RESULT", "LAT(ms)"]


def columns_for(flags):
    cols = list(BASE_COLUMNS)
    if "U" in flags:
        cols.insert(0, "UID")
    if "T" in flags:
        cols.insert(0, "TIME")
    if "t" in flags:
        cols.insert(0, "TIME(s)")
    if "L" in flags:
        cols.insert(cols.index("DADDR"), "LPORT")
    return cols


def split_aligned(header, line):
    """{column: value} of a text line, checking that every value starts
    exactly under its column name."""
    names, starts, pos = [], [], 0
    for name in header.split():
        pos = header.index(name, pos)
        names.append(name)
        starts.append(pos)
        pos += len(name)
    values = line.split()
    assert len(values) == len(names), "line %r has %d fields for header %r" % (
        line, len(values), header)
    for name, start, value in zip(names, starts, values):
        assert line[start:start + len(value)] == value and (start == 0 or line[start - 1] == " "), (
            "%s value %r is not aligned under its header\n%s\n%s" % (name, value, header, line))
    return dict(zip(names, values))


def check_text_line(row, c, res, *, result, saddr):
    """Every column of a text line against the client's attempt."""
    assert row["PID"] == str(c["pid"]) and row["COMM"] == c["comm"], row
    assert row["IP"] == str(c["fam"]), row
    assert row["SADDR"] == tcltest.canon(saddr) and row["DADDR"] == tcltest.canon(c["host"]), row
    assert row["DPORT"] == str(c["port"]), row
    assert row["RESULT"] == result, row
    lat = float(row["LAT(ms)"])
    assert row["LAT(ms)"].count(".") == 1 and len(row["LAT(ms)"].split(".")[1]) == 3, row
    assert 0 <= lat <= c["wall_us"] / 1000 + 0.001, (row, c["wall_us"])
    if "UID" in row:
        assert row["UID"] == str(c["uid"]), row
    if "LPORT" in row:
        assert row["LPORT"] == str(c["sport"]), row
    if "TIME(s)" in row:
        since = float(row["TIME(s)"])
        assert c["t0w"] - res.t_ready - 0.002 <= since <= c["t1w"] - res.t_spawn + 0.002, (
            row, c["t0w"] - res.t_spawn)
    if "TIME" in row:
        allowed = {time.strftime("%H:%M:%S", time.localtime(int(t)))
                   for t in (c["t0w"], c["t1w"])}
        assert row["TIME"] in allowed, (row, allowed)


@pytest.mark.view
@pytest.mark.parametrize("flags", ["", "t", "T", "U", "L", "tTUL"])
def test_text_columns(tracer, listeners, agent, flags):
    lst = listeners.one("127.0.0.1")
    a = agent(comm="tcltext")
    args = ["-n", "tcltext"] + (["-" + flags] if flags else [])
    t = tracer(*args, json_mode=False)
    ok = a.connect(4, "127.0.0.1", lst.port)
    bad = a.connect(6, "::1", tcltest.free_port("::1"))
    res = t.stop()
    assert res.rc == 0, res
    lines = res.stdout.splitlines()
    assert len(lines) == 3, res
    header = lines[0]
    assert header.split() == columns_for(flags), header
    # IPv6 addresses need 39 characters: SADDR and DADDR are that wide
    assert header.index("DADDR") - header.index("SADDR") >= 40, header
    check_text_line(split_aligned(header, lines[1]), ok, res, result="established",
                    saddr="127.0.0.1")
    check_text_line(split_aligned(header, lines[2]), bad, res, result="refused", saddr="::1")


@pytest.mark.view
def test_text_error_and_long_ipv6(tracer, net, agent):
    """An error from the call shows its errno; a full-length IPv6 address
    keeps the columns aligned."""
    a = agent(netns=net.bare(), comm="tcltext6")
    t = tracer("-n", "tcltext6", "-L", json_mode=False)
    dest = "fdcc:1234:5678:9abc:aaaa:bbbb:cccc:dd02"
    c = a.connect(6, dest, 443)
    assert c["errno"] == "ENETUNREACH"
    res = t.stop()
    lines = res.stdout.splitlines()
    assert len(lines) == 2, res
    row = split_aligned(lines[0], lines[1])
    c["sport"] = 0
    check_text_line(row, c, res, result="error:ENETUNREACH", saddr="::")


@pytest.mark.view
def test_text_ipv4_only_narrows_address_columns(tracer, agent):
    a = agent(comm="tcltext4")
    t = tracer("-4", "-n", "tcltext4", json_mode=False)
    c = a.connect(4, "127.0.0.1", tcltest.free_port())
    res = t.stop()
    lines = res.stdout.splitlines()
    assert len(lines) == 2, res
    assert lines[0].index("DADDR") - lines[0].index("SADDR") == 16, lines[0]
    check_text_line(split_aligned(lines[0], lines[1]), c, res, result="refused",
                    saddr="127.0.0.1")


def test_immediate_prints_when_the_call_returns(tracer, pair, net, agent):
    a = agent(netns=pair.client)
    b = agent(netns=net.bare())
    t = tracer("-i", "-p", a.pid)
    t2 = tracer("-i", "-p", b.pid)
    c = a.connect(4, pair.server_v4, pair.drop_port, mode="nonblock", then="keep")
    assert c["call_errno"] == "EINPROGRESS"

    # the line is there while the handshake is still unanswered
    def printed():
        return tcltest.records_of(parse_json_lines(t.stdout_now()), c)
    tcltest.wait_until(printed, 10, "the -i record of a pending connect")
    err = b.connect(4, "10.201.0.9", 80)
    a.call("close_kept")
    res, res2 = t.stop(), t2.stop()
    check_record(tcltest.only_record(res, c), c, res.backend, result="pending", errno=None,
                 saddr=pair.client_v4)
    assert len(res.connects) == 1, "the outcome (closed) is not printed again\n%s" % res
    check_record(tcltest.only_record(res2, err), err, res2.backend, result="error",
                 errno="ENETUNREACH", saddr="0.0.0.0", sport=0)
    # the outcome still feeds the summary
    row = res.summary()["rows"]["python3"]
    assert (row["attempts"], row["failed"], row["pending"]) == (1, 1, 0), res.stderr


def parse_json_lines(text):
    return tcltest.json_lines(text)


@pytest.mark.view
def test_count_mode(tracer, listeners, agent):
    lst = listeners.one("127.0.0.1")
    closed = tcltest.free_port_run(1)
    a = agent()
    tj = tracer("-c", "-p", a.pid)
    tt = tracer("-c", "-p", a.pid, json_mode=False)
    for _ in range(3):
        a.connect(4, "127.0.0.1", lst.port)
    for _ in range(2):
        a.connect(4, "127.0.0.1", closed)
    a.connect(6, "::1", closed)
    rj, rt = tj.stop(), tt.stop()
    assert rj.rc == 0 and rt.rc == 0, (rj, rt)
    want = [(4, "127.0.0.1", "127.0.0.1", lst.port, 3, 0),
            (4, "127.0.0.1", "127.0.0.1", closed, 2, 2),
            (6, "::1", "::1", closed, 1, 1)]
    got = [(r["ip"], r["saddr"], r["daddr"], r["dport"], r["connects"], r["failed"])
           for r in rj.records]
    assert [r["event"] for r in rj.records] == ["count"] * 3, rj
    assert got == want, rj
    lines = rt.stdout.splitlines()
    assert lines[0].split() == ["IP", "SADDR", "DADDR", "DPORT", "CONNECTS", "FAILED"], rt
    assert [tuple(l.split()) for l in lines[1:]] == [tuple(map(str, w)) for w in want], rt


@pytest.mark.view
def test_max_events_stops_after_n_records(tracer, agent):
    a = agent()
    t = tracer("--max-events", "2", "-p", a.pid)
    port = tcltest.free_port()
    tried = [a.connect(4, "127.0.0.1", port) for _ in range(2)]
    res = t.wait_exit(10)
    assert res.rc == 0, res
    assert len(res.connects) == 2, res
    for c in tried:
        check_record(tcltest.only_record(res, c, by_sport=True), c, res.backend,
                     result="refused", errno="ECONNREFUSED", saddr="127.0.0.1")
    assert res.summary()["rows"]["python3"]["attempts"] == 2, res.stderr


@pytest.mark.view
def test_duration_stops_by_itself(tracer):
    t = tracer("--duration", "1")
    res = t.wait_exit(10)
    assert res.rc == 0, res
    assert res.summary()["lost"] == 0


@pytest.mark.view
@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM])
def test_summary_on_exit(tracer, listeners, agent, sig):
    lst = listeners.one("127.0.0.1")
    a = agent(comm="tclsum")
    t = tracer("-n", "tclsum")
    # the same attempts as before, in the same order: one established, one
    # refused over IPv6, one more established, one refused over IPv4
    a.connect(4, "127.0.0.1", lst.port)
    a.connect(6, "::1", tcltest.free_port("::1"))
    a.connect(4, "127.0.0.1", lst.port)
    bad = a.connect(4, "127.0.0.1", tcltest.free_port())
    res = t.stop(sig)
    assert res.rc == 0, res
    assert res.stdout.count("\n") == 1 + 4, res    # the start record, the attempts
    s = res.summary()
    row = s["rows"]["tclsum"]
    assert (row["attempts"], row["estab"], row["failed"], row["pending"]) == (4, 2, 2, 0), res
    lats = sorted(r["latency_us"] for r in res.connects if r["result"] == "established")
    assert len(lats) == 2 and bad["errno"] == "ECONNREFUSED"
    # average, p50 and p99 of the two established latencies (the histogram's
    # bucket resolution is under 1/16 of the value)
    assert row["avg"] == pytest.approx(sum(lats) / 2 / 1000, rel=0.07, abs=0.002), res
    assert lats[0] / 1000 * 0.93 - 0.002 <= row["p50"] <= row["p99"] <= lats[1] / 1000 * 1.07 + 0.002, res
    assert sum(n for _, _, n in s["hist"]) == 2, res.stderr
    for lo, hi, n in s["hist"]:
        if n:
            assert any(lo <= v < hi + 1 for v in lats), (s["hist"], lats)
    assert s["lost"] == 0


@pytest.mark.view
def test_no_summary(tracer):
    res = tracer("--no-summary").stop()
    assert res.rc == 0 and "ATTEMPTS" not in res.stderr and "Lost" not in res.stderr, res


@pytest.mark.view
def test_closed_stdout_exits_promptly_and_quietly(listeners):
    """tcpconnlog -j | head -2 (the start record and one record): once head
    has its lines, the tool exits 0."""
    lst = listeners.one("127.0.0.1")
    err_path = os.path.join(os.environ.get("TMPDIR", "/tmp"), "tcl-head-%d" % os.getpid())
    cmd = "%s -b %s -j 2>%s | head -2; echo \"${PIPESTATUS[0]}\"" % (
        tcltest.BIN, tcltest.BACKEND, err_path)
    p = subprocess.Popen(["bash", "-c", cmd], stdout=subprocess.PIPE, text=True)
    tcltest.LIVE.append(p)
    try:
        tcltest.wait_until(lambda: os.path.exists(err_path) and
                           "Ctrl-C to stop" in open(err_path).read(), 20, "the ready line")
        c = tcltest.connect(4, "127.0.0.1", lst.port)
        c["_sock"].close()
        out, _ = p.communicate(timeout=10)
        with open(err_path) as f:
            err = f.read()
    finally:
        os.unlink(err_path)
    start, first, status = out.splitlines()
    assert tcltest.json_record(start)["event"] == "start", out
    assert tcltest.json_record(first)["event"] == "connect", out
    assert status == "0", (out, err)
    assert err.splitlines()[1:] == [], "nothing but the ready line on stderr: %r" % err
