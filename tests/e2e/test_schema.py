# SPDX-License-Identifier: GPL-2.0-only
"""The JSON contract: the start record opens every -j output (stdout, and
each file -o opens) and says the truth about this host and run; every
record carries the run id; run ids differ between runs; and the schema the
tests validate with (tcltest.json_record) catches what breaks it."""
import copy
import json
import os
import pwd
import signal
import socket
import subprocess
import tempfile
import uuid

import pytest

import tclschema
import tcltest
from test_docs import man_keys

START_KEYS = ["event", "run", "time", "schema", "version", "backend", "hostname", "boot_id"]


def schema_version():
    return tcltest.schema().doc["$defs"]["start"]["properties"]["schema"]["const"]


def refused_connect():
    port = tcltest.free_port()
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.0.1", port), timeout=5)
    return port


@pytest.mark.kernel_once
def test_start_record_is_first_and_true_to_the_host(tracer):
    """Keys in order, the schema's version, the version --version prints,
    the backend of the ready line, this host's name and boot id, a random
    (v4) run id that every other record carries, a time within the run."""
    t = tracer()
    port = refused_connect()
    tcltest.wait_until(lambda: '"dport":%d,' % port in t.stdout_now(), 10, "the connect")
    res = t.stop()
    assert res.rc == 0, res
    first = res.stdout.splitlines()[0]
    start = tcltest.json_record(first)
    assert start == res.start and list(start) == START_KEYS, res
    with open("/proc/sys/kernel/random/boot_id") as f:
        boot_id = f.read().strip()
    version = tcltest.run_tool("--version").stdout.splitlines()[0]
    want = {"event": "start", "schema": schema_version(), "version": version.split()[1],
            "backend": res.backend, "hostname": socket.gethostname(), "boot_id": boot_id}
    assert {k: start[k] for k in want} == want, (want, res)
    assert version == "tcpconnlog %s" % start["version"], version
    run = uuid.UUID(start["run"])
    assert run.version == 4 and str(run) == start["run"], start
    when = tcltest.parse_time(start["time"])
    assert res.t_spawn - tcltest.CLOCK_SLACK <= when <= res.t_ready + tcltest.CLOCK_SLACK, (
        res.t_spawn, when, res.t_ready)
    mine = [r for r in res.connects if r["dport"] == port]
    assert len(mine) == 1 and mine[0]["run"] == start["run"], res


@pytest.mark.host
def test_run_ids_differ_between_runs(tracer):
    """Three runs at once: three run ids, each a version 4 UUID, and the
    records of one connect in each carry their run's."""
    ts = [tracer() for _ in range(3)]
    port = refused_connect()
    for t in ts:
        tcltest.wait_until(lambda: '"dport":%d,' % port in t.stdout_now(), 10, "the connect")
    results = [t.stop() for t in ts]
    runs = [r.start["run"] for r in results]
    assert len(set(runs)) == 3 and all(uuid.UUID(r).version == 4 for r in runs), runs
    for res in results:
        rec = [r for r in res.connects if r["dport"] == port]
        assert [r["run"] for r in rec] == [res.start["run"]], res


@pytest.mark.host
def test_count_and_top_open_with_the_start_record(tracer):
    """-c -j and --top -j: the start record first, the run in each line."""
    srv = tcltest.Listener()
    try:
        tc = tracer("-c")
        tt = tracer("--top", "1")
        conn = socket.create_connection(("127.0.0.1", srv.port))
        tcltest.wait_until(lambda: '"connections":[{' in tt.stdout_now(), 10, "a top snapshot")
        conn.close()
        for t, kind in ((tc, "count"), (tt, "top")):
            res = t.stop()
            assert res.rc == 0 and res.start, res
            assert res.stdout.startswith('{"event":"start",'), res
            assert res.records and {r["event"] for r in res.records} == {kind}, res
    finally:
        srv.close()


STORM = r"""
import socket, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
for _ in range(n):
    s = socket.socket()
    try:
        s.connect(("127.0.0.1", port))
    except ConnectionRefusedError:
        pass
    s.close()
"""


def storm(port, n):
    subprocess.run([tcltest.PYTHON, "-c", STORM, str(port), str(n)], check=True, timeout=60)


@pytest.mark.host
def test_start_heads_each_file_of_o(tracer):
    """--rotate and SIGHUP after a rename: every file the tool opens begins
    with the same start record, and holds no other; stdout stays empty."""
    d = tempfile.mkdtemp(prefix="tcpconnlog-schema-")
    os.chown(d, pwd.getpwnam("nobody").pw_uid, -1)     # renamed in as nobody
    try:
        path = os.path.join(d, "c.json")
        port = tcltest.free_port()
        t = tracer("-P", port, "-o", path, "--rotate", "2k:20")
        tcltest.wait_until(lambda: os.path.exists(path) and os.path.getsize(path), 10,
                           "the start record in the file at start, before any connect")
        storm(port, 20)
        tcltest.wait_until(lambda: os.path.exists(path + ".3"), 10, "three rotations")
        os.rename(path, path + ".moved")
        t.send_signal(signal.SIGHUP)
        storm(port, 2)
        tcltest.wait_until(lambda: os.path.exists(path), 10, "a new file after SIGHUP")
        res = t.stop()
        assert res.rc == 0 and res.stdout == "", res
        heads, total = set(), 0
        for name in sorted(os.listdir(d)):
            with open(os.path.join(d, name)) as f:
                lines = f.read().splitlines()
            heads.add(lines[0])
            recs = [tcltest.json_record(line) for line in lines]
            start, rest = tcltest.split_start(recs)
            assert start and rest and all(r["event"] == "connect" for r in rest), (name, lines)
            total += len(rest)
        assert len(heads) == 1, "the files begin differently: %s" % heads
        assert total == 22, total
    finally:
        subprocess.run(["rm", "-rf", d], check=True)


# --- the schema itself ---------------------------------------------------------

def real_records(tracer):
    """One run's start, connect, accept, close and stats records, as printed."""
    srv = tcltest.Listener()
    t = tracer("-lA", "--stats-interval", "1")
    socket.create_connection(("127.0.0.1", srv.port)).close()
    tcltest.wait_until(lambda: '"event":"close"' in t.stdout_now(), 10, "a close")
    tcltest.wait_until(lambda: '"event":"stats"' in t.stdout_now(), 10, "a stats record")
    srv.close()
    res = t.stop()
    assert res.rc == 0, res
    lines = res.stdout.splitlines()
    by_event = {}
    for line in lines:
        by_event.setdefault(json.loads(line)["event"], line)
    assert set(by_event) >= {"start", "connect", "accept", "close", "stats"}, res
    return by_event


def rejected(rec):
    """True when json_record refuses rec; the compiled checks, jsonschema
    per record kind and jsonschema on the whole document must all agree."""
    s = tcltest.schema()
    line = json.dumps(rec)
    verdicts = {"compiled": s.fast_error(rec) is None,
                "jsonschema": s.reference_error(rec) is None,
                "whole document": s.full.is_valid(rec)}
    assert len(set(verdicts.values())) == 1, "%s disagree on %s" % (verdicts, line)
    try:
        tcltest.json_record(line)
    except AssertionError:
        assert not verdicts["compiled"], line
        return True
    assert verdicts["compiled"], line
    return False


MUTATIONS = [
    ("start", lambda r: r.pop("run")),
    ("start", lambda r: r.update(schema=r["schema"] + 1)),
    ("start", lambda r: r.update(boot_id="not-a-uuid")),
    ("start", lambda r: r.update(backend="ebpf")),
    ("start", lambda r: r.update(pid=1)),
    ("connect", lambda r: r.pop("run")),
    ("connect", lambda r: r.update(run=r["run"].upper())),
    ("connect", lambda r: r.update(extra=1)),
    ("connect", lambda r: r.pop("call_us")),
    ("connect", lambda r: r.update(pid=str(r["pid"]))),
    ("connect", lambda r: r.update(sport=65536)),
    ("connect", lambda r: r.update(id=0)),
    ("connect", lambda r: r.update(result="ok")),
    ("connect", lambda r: r.update(errno=111)),
    ("connect", lambda r: r.update(latency_us=-1)),
    ("connect", lambda r: r.update(time=r["time"].replace("Z", "+00:00"))),
    ("connect", lambda r: r.update(ip=5)),
    ("connect", lambda r: r.update(dns="example.com")),   # -d's keys come all together
    ("connect", lambda r: r.update(event="connected")),
    ("accept", lambda r: r.update(result="established")),
    ("close", lambda r: r.update(srtt_us=None)),
    ("close", lambda r: r.update(closed_by="peer")),
    ("close", lambda r: r.pop("retransmits")),
    ("close", lambda r: r.update(duration_ms=True)),
    ("stats", lambda r: r["attempts"].pop("refused")),
    ("stats", lambda r: r["table"].pop("connections_max")),  # -l and -A: both or neither
    ("stats", lambda r: r.update(rdns_timeouts=-1)),
    ("stats", lambda r: r.update(dns_dropped=0)),            # -d's three come together
    ("stats", lambda r: r.update(interval_s=0)),
]


@pytest.mark.host
def test_schema_catches_mutated_records(tracer):
    """Each real record passes; each one broken in a way the man page rules
    out (a key missing or added, a wrong type, range, value or null) is
    refused, by the per-kind validators the tests use and by the whole
    schema alike."""
    lines = real_records(tracer)
    for line in lines.values():
        assert not rejected(json.loads(line)), line
    passed = []
    for kind, mutate in MUTATIONS:
        rec = json.loads(lines[kind])
        mutate(rec)
        if not rejected(rec):
            passed.append(json.dumps(rec))
    assert not passed, "mutated records the schema accepts:\n%s" % "\n".join(passed)


def mutated_schema(tmp_path, mutate):
    doc = copy.deepcopy(tcltest.schema().doc)
    mutate(doc)
    path = tmp_path / "mutated.schema.json"
    path.write_text(json.dumps(doc))
    return tclschema.Schema(str(path))


@pytest.mark.host
def test_schema_file_is_what_the_tests_check(tracer, tmp_path):
    """A schema changed under the tool's feet (a key dropped, a type
    narrowed, a record kind removed) fails the tool's real lines: the
    tests depend on the file, not on a copy of it."""
    lines = real_records(tracer)
    defs = "$defs"
    changes = {
        "connect": lambda d: d[defs]["connect"]["properties"].pop("run"),
        "close": lambda d: d[defs]["close"]["properties"].pop("direction"),
        "start": lambda d: d[defs].pop("start"),
        "accept": lambda d: d[defs]["accept"]["properties"]["comm"].update(type="null"),
    }
    for kind, change in changes.items():
        schema = mutated_schema(tmp_path, change)
        with pytest.raises(AssertionError, match="does not match|not a record kind"):
            schema.check(json.loads(lines[kind]), lines[kind])
            print("the %s record passes a changed schema: %s" % (kind, lines[kind]))
        tcltest.schema().check(json.loads(lines[kind]), lines[kind])


def test_a_keyword_the_checks_do_not_compile_fails(tmp_path):
    """A schema keyword tclschema.py does not implement is an error, never
    a check silently skipped."""
    with pytest.raises(ValueError, match="keyword format is not compiled"):
        mutated_schema(tmp_path, lambda d: d["$defs"]["start"]["properties"]["run"].update(
            format="uuid"))


def test_schema_keys_are_documented():
    """Every key the schema allows is named in the man page's OUTPUT, and
    its version is the one the start record's documentation gives."""
    keys = set()

    def walk(node):
        if isinstance(node, dict):
            keys.update(node.get("properties", {}))
            for v in node.values():
                walk(v)
        elif isinstance(node, list):
            for v in node:
                walk(v)
    walk(tcltest.schema().doc)
    missing = sorted(keys - man_keys())
    assert not missing, "in the schema, not in the man page's OUTPUT: %s" % missing
    assert tcltest.schema().doc["title"].endswith("schema %d" % schema_version())
