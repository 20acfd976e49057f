# SPDX-License-Identifier: GPL-2.0-only
"""Command names a process chooses for itself (prctl PR_SET_NAME), as the
text and JSON output print them: one line per record, COMM one field in
its column, nothing a terminal would act on, the rules of the README.

Run as a script, this file is the client: for each name (hex on the
command line) it renames itself, connects once to a loopback listener,
and prints one JSON line with the source ports and the names the kernel
kept.
"""
import ctypes
import json
import os
import socket
import subprocess
import sys

import tcltest

PR_SET_NAME = 15

# name -> (COMM field of a text line, "comm" string literal in a JSON line)
NAMES = [
    (b"", "-", '""'),
    (b"a b", "a\\x20b", '"a b"'),
    (b"a\tb\nc", "a\\x09b\\x0ac", '"a\\u0009b\\u000ac"'),
    (b"\x1b[31m", "\\x1b[31m", '"\\u001b[31m"'),
    (b"x\xc2\x9by", "x\\xc2\\x9by", '"x\\u009by"'),
    (b"\xff\xfe", "\\xff\\xfe", '"\\u00ff\\u00fe"'),
    (b"a\xe2\x80\xaecba", "a\\xe2\\x80\\xaecba", '"a\\u202ecba"'),
    ("café".encode(), "café", '"café"'),
    ("日本語".encode(), "日本語", '"日本語"'),
    (b"\xff" * 15, "\\xff" * 15, '"' + "\\u00ff" * 15 + '"'),
    (b"-", "\\x2d", '"-"'),
    (b"back\\slash", "back\\\\slash", '"back\\\\slash"'),
]


def client(port, names):
    """The client: wait for a line on stdin, then one connect per name."""
    libc = ctypes.CDLL(None, use_errno=True)
    sys.stdin.readline()
    out = []
    for name in names:
        if libc.prctl(PR_SET_NAME, ctypes.c_char_p(name), 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_SET_NAME)")
        with open("/proc/thread-self/comm", "rb") as f:
            kept = f.read()[:-1]
        s = socket.create_connection(("127.0.0.1", port))
        out.append({"sport": s.getsockname()[1], "comm": kept.hex()})
        s.close()
    print(json.dumps(out), flush=True)


def test_hostile_names_text_and_json(tracer, listeners):
    from test_output import split_aligned   # not in the client, which has no pytest

    listener = listeners.one()
    names = [n for n, _, _ in NAMES]
    proc = subprocess.Popen([tcltest.PYTHON, "-S", os.path.abspath(__file__), "client",
                             str(listener.port)] + [n.hex() for n in names],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    tcltest.LIVE.append(proc)
    text = tracer("-L", "-p", proc.pid, json_mode=False)
    js = tracer("-p", proc.pid)
    proc.stdin.write("go\n")
    proc.stdin.flush()
    done = json.loads(proc.stdout.readline())
    proc.wait(10)
    # the kernel kept each name as set (the last byte of 16 is its NUL)
    assert [bytes.fromhex(d["comm"]) for d in done] == names
    by_sport = {d["sport"]: i for i, d in enumerate(done)}

    def wait_for(t, n):
        tcltest.wait_until(lambda: t.stdout_now().count("\n") >= n, 15,
                           "%d lines\n%s" % (n, t.stderr_now()))

    wait_for(text, len(names) + 1)
    wait_for(js, len(names) + 1)     # and the start record
    res_text, res_json = text.stop(), js.stop()
    assert res_text.rc == 0 and res_json.rc == 0, (res_text, res_json)

    # JSON: one object per line (Result parses each), the comm literal as
    # the rule says, and after parsing the name with U+00XX for a raw byte
    raw_lines = res_json.stdout.splitlines()[1:]    # after the start record
    assert len(raw_lines) == len(names) == len(res_json.connects), res_json
    for raw, rec in zip(raw_lines, res_json.records):
        i = by_sport[rec["sport"]]
        name, _, literal = NAMES[i]
        assert ',"comm":%s,"ip":' % literal in raw, (name, raw)
        assert rec["comm"] == json.loads(literal), (name, rec)

    # text: a header and one line per record, each with the header's
    # fields, COMM one of them; the others where the header says (in code
    # points: one terminal column each)
    lines = res_text.stdout.splitlines()
    assert len(lines) == len(names) + 1, res_text
    header = lines[0]
    for line in lines[1:]:
        assert line.isprintable(), "not printable: %r" % line
        fields = line.split()
        assert len(fields) == len(header.split()), (header, line)
        row = dict(zip(header.split(), fields))
        i = by_sport[int(row["LPORT"])]
        # a name wider than the column pushes the rest, as a long address
        # does: nothing is cut
        if len(row["COMM"]) <= 16:
            assert split_aligned(header, line) == row
        assert row["COMM"] == NAMES[i][1], (NAMES[i][0], line)
        assert row["PID"] == str(proc.pid) and row["RESULT"] == "established", line
    # the summary has one row per name, keyed the same way
    assert sorted(res_text.summary()["rows"]) == sorted(t for _, t, _ in NAMES), res_text.stderr


if __name__ == "__main__" and sys.argv[1:2] == ["client"]:
    client(int(sys.argv[2]), [bytes.fromhex(h) for h in sys.argv[3:]])
