# SPDX-License-Identifier: GPL-2.0-only
"""-o FILE, SIGHUP's reopen and --rotate: during a storm of connects, the
lines of all the files together are exactly the attempts made, each one
whole JSON, including after the drop to nobody (the default)."""
import json
import os
import pwd
import shutil
import signal
import subprocess
import tempfile

import pytest

import tcltest

pytestmark = pytest.mark.host

STORM_COMM = "tcl-ostorm"
# refused connects to a closed loopback port, one socket each, paced a
# little so that renames and SIGHUPs land while it runs
STORM = r"""
import ctypes, socket, sys, time
ctypes.CDLL(None).prctl(15, sys.argv[1].encode(), 0, 0, 0)
port, n = int(sys.argv[2]), int(sys.argv[3])
refused = 0
for i in range(n):
    s = socket.socket()
    try:
        s.connect(("127.0.0.1", port))
    except ConnectionRefusedError:
        refused += 1
    s.close()
    if i % 50 == 49:
        time.sleep(0.01)
print(refused)
"""


@pytest.fixture
def outdir():
    """A directory the tool can still write in as nobody."""
    d = tempfile.mkdtemp(prefix="tcpconnlog-outfile-")
    os.chown(d, pwd.getpwnam("nobody").pw_uid, -1)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def storm(n):
    port = tcltest.free_port()
    return subprocess.Popen([tcltest.PYTHON, "-c", STORM, STORM_COMM, str(port), str(n)],
                            stdout=subprocess.PIPE, text=True)


def storm_done(p, n):
    out, _ = p.communicate(timeout=60)
    assert p.returncode == 0 and int(out) == n, (p.returncode, out)


def file_lines(path, earlier=0):
    """The records of one file: each line whole (ends in a newline) and
    valid, the start record first (after `earlier` lines the test wrote,
    returned as they are) and left out."""
    with open(path, "rb") as f:
        data = f.read()
    assert not data or data.endswith(b"\n"), "%s ends in a cut line: %r" % (path, data[-80:])
    lines = data.decode().splitlines()
    try:
        return [json.loads(line) for line in lines[:earlier]] + \
            tcltest.split_start([tcltest.json_record(line) for line in lines[earlier:]])[1]
    except AssertionError as e:
        raise AssertionError("%s: %s" % (path, e))


def all_lines(d):
    return {name: file_lines(os.path.join(d, name)) for name in sorted(os.listdir(d))}


def check_storm_records(files, n):
    """n refused connects of the storm, each once, nothing else."""
    recs = [r for lines in files.values() for r in lines]
    assert len(recs) == n, "%d lines in %s for %d attempts" % (
        len(recs), {k: len(v) for k, v in files.items()}, n)
    assert all(r["event"] == "connect" and r["comm"] == STORM_COMM and
               r["result"] == "refused" and r["daddr"] == "127.0.0.1" for r in recs)
    assert len({r["id"] for r in recs}) == n, "a record is in two files"


def record_lines(path):
    """Lines in the file, the start records at its heads left out."""
    with open(path, "rb") as f:
        data = f.read()
    return data.count(b"\n") - data.count(b'{"event":"start",')


def total_lines(d):
    return sum(record_lines(os.path.join(d, name)) for name in os.listdir(d))


def stop_after(t, d, n):
    """Stop once the n records are in the files (no record waits)."""
    tcltest.wait_until(lambda: total_lines(d) >= n, 20, "%d lines in %s" % (n, d))
    res = t.stop()
    assert res.rc == 0, res
    assert res.stdout == "", "records on stdout with -o: %r" % res.stdout[:200]
    assert res.summary()["lost"] == 0, res
    return res


def test_records_go_to_the_file_appended(tracer, outdir):
    """Records land in the file, not on stdout; a second run appends."""
    path = os.path.join(outdir, "c.json")
    with open(path, "w") as f:
        f.write('{"earlier":"run"}\n')
    t = tracer("-n", STORM_COMM, "-o", path)
    p = storm(20)
    storm_done(p, 20)
    stop_after(t, outdir, 21)
    st = os.stat(path)
    assert st.st_uid == 0, "the file that existed keeps its owner"
    lines = file_lines(path, earlier=1)
    assert lines[0] == {"earlier": "run"}
    check_storm_records({"c.json": lines[1:]}, 20)

    # a new file: created 0640 (less the umask) by root before the drop
    path2 = os.path.join(outdir, "new.json")
    t = tracer("-n", STORM_COMM, "--output=" + path2)
    storm_done(storm(5), 5)
    tcltest.wait_until(lambda: len(file_lines(path2)) == 5, 10, "5 lines in new.json")
    assert t.stop().rc == 0
    assert os.stat(path2).st_mode & 0o777 == 0o640 & ~0o022
    check_storm_records({"new.json": file_lines(path2)}, 5)


def test_sighup_reopens_during_a_storm(tracer, outdir):
    """logrotate's convention: the file is renamed, SIGHUP, and the next
    line goes to a new file at the path, created as nobody. Over several
    renames during 3000 connects, no line is lost, split or doubled."""
    n = 3000
    path = os.path.join(outdir, "c.json")
    t = tracer("-n", STORM_COMM, "-o", path)
    p = storm(n)
    rounds = 0
    while p.poll() is None and rounds < 6:
        tcltest.wait_until(lambda: os.path.exists(path) and record_lines(path) > 0 or
                           p.poll() is not None, 10, "records in the reopened file")
        if p.poll() is not None:
            break
        os.rename(path, "%s.%d" % (path, rounds))
        t.send_signal(signal.SIGHUP)
        rounds += 1
    storm_done(p, n)
    res = stop_after(t, outdir, n)
    assert rounds >= 4, "only %d renames happened during the storm" % rounds
    files = all_lines(outdir)
    check_storm_records(files, n)
    assert all(files["c.json.%d" % i] for i in range(rounds)), "a renamed file got no line"
    nobody = pwd.getpwnam("nobody").pw_uid
    assert all(os.stat(os.path.join(outdir, "c.json.%d" % i)).st_uid == nobody
               for i in range(1, rounds)), "reopened files are made by nobody"
    assert "warning" not in res.stderr, res


def test_rotate_during_a_storm(tracer, outdir):
    """--rotate 64k:12: every file at most 64 KiB of whole lines, no more
    than KEEP+1 files, and together exactly the attempts."""
    n, size, keep = 2000, 64 * 1024, 12
    path = os.path.join(outdir, "c.json")
    t = tracer("-n", STORM_COMM, "-o", path, "--rotate", "64k:%d" % keep)
    storm_done(storm(n), n)
    stop_after(t, outdir, n)
    names = sorted(os.listdir(outdir))
    assert len(names) <= keep + 1, names
    assert set(names) <= {"c.json"} | {"c.json.%d" % i for i in range(1, keep + 1)}, names
    assert len(names) >= 4, "2000 records of ~300 bytes rotate more than 3 times: %s" % names
    for name in names:
        assert os.path.getsize(os.path.join(outdir, name)) <= size, name
    files = all_lines(outdir)
    check_storm_records(files, n)


def test_rotate_drops_the_oldest(tracer, outdir):
    """Past KEEP old files the oldest go: 1 KiB:2 keeps three files of
    whole lines."""
    path = os.path.join(outdir, "c.json")
    t = tracer("-n", STORM_COMM, "-o", path, "--rotate", "1k:2")
    storm_done(storm(60), 60)
    tcltest.wait_until(lambda: os.path.exists(path + ".2"), 10, "c.json.2")
    res = t.stop()
    assert res.rc == 0 and res.summary()["lost"] == 0, res
    names = sorted(os.listdir(outdir))
    assert names == ["c.json", "c.json.1", "c.json.2"], names
    recs = [r for name in names for r in file_lines(os.path.join(outdir, name))]
    assert 3 <= len(recs) < 60 and all(r["comm"] == STORM_COMM for r in recs)
    assert all(os.path.getsize(os.path.join(outdir, s)) <= 1024 for s in names)


def test_reopen_refused_keeps_the_open_file(tracer):
    """A directory nobody cannot write: SIGHUP cannot make a new file, so
    one warning says so and the records go on to the renamed file."""
    d = tempfile.mkdtemp(prefix="tcpconnlog-outfile-")
    os.chmod(d, 0o755)
    try:
        path = os.path.join(d, "c.json")
        t = tracer("-n", STORM_COMM, "-o", path)
        storm_done(storm(10), 10)
        tcltest.wait_until(lambda: total_lines(d) == 10, 10, "10 lines")
        os.rename(path, path + ".old")
        t.send_signal(signal.SIGHUP)
        storm_done(storm(10), 10)
        tcltest.wait_until(lambda: total_lines(d) == 20, 10, "20 lines")
        t.send_signal(signal.SIGHUP)
        storm_done(storm(10), 10)
        res = stop_after(t, d, 30)
        assert os.listdir(d) == ["c.json.old"]
        check_storm_records(all_lines(d), 30)
        warnings = [l for l in res.stderr_lines() if "warning" in l]
        assert warnings == ["tcpconnlog: warning: cannot reopen %s: Permission denied "
                            "(records go on to the file already open; the directory "
                            "must be writable by the --user)" % path], res
    finally:
        shutil.rmtree(d, ignore_errors=True)


def test_write_error_is_counted():
    """-o /dev/full: the first failed write stops the trace, one line
    with the error and the count, status 1."""
    p = subprocess.Popen([tcltest.BIN, "-b", tcltest.BACKEND, "-j", "-n", STORM_COMM,
                          "-o", "/dev/full"], stdin=subprocess.DEVNULL,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    tcltest.LIVE.append(p)
    try:
        tcltest.wait_until(lambda: p.poll() is None, 1, "start")
        deadline_ok = False
        for _ in range(200):
            storm_done(storm(1), 1)
            try:
                p.wait(0.05)
                deadline_ok = True
                break
            except subprocess.TimeoutExpired:
                pass
        out, err = p.communicate(timeout=10)
    finally:
        tcltest._end(p)
    assert deadline_ok, err
    assert p.returncode == 1 and out == "", (p.returncode, out, err)
    msg = [l for l in err.splitlines() if l.startswith("tcpconnlog: writing output")]
    assert len(msg) == 1, err
    assert msg[0].startswith("tcpconnlog: writing output: No space left on device (")
    assert int(msg[0].split("(")[1].split()[0]) >= 1, msg


@pytest.mark.parametrize("args,rc,message", [
    (["-o", "/nonexistent-dir/c.json"], 1,
     "tcpconnlog: cannot open output file '/nonexistent-dir/c.json': No such file or directory"),
    (["-o", "/proc"], 1, "tcpconnlog: cannot open output file '/proc': Is a directory"),
    (["--rotate", "1M"], 2, "tcpconnlog: --rotate rotates the file of -o: give -o too "
     "(see tcpconnlog --help)"),
    (["-o", "x", "--rotate", "1M:0"], 2, "tcpconnlog: invalid --rotate '1M:0': KEEP is a "
     "count of old files from 1 to 999 (see tcpconnlog --help)"),
    (["-o", "x", "--rotate", "12q"], 2, "tcpconnlog: invalid --rotate '12q': SIZE is a "
     "number of bytes from 1024 to 1024T, with k, M or G (see tcpconnlog --help)"),
    (["-o", "x", "--rotate", "100"], 2, "tcpconnlog: invalid --rotate '100': SIZE is a "
     "number of bytes from 1024 to 1024T, with k, M or G (see tcpconnlog --help)"),
    (["-o", "x", "-c"], 2, "tcpconnlog: -o writes records to a file, and -c and --top "
     "print none (see tcpconnlog --help)"),
    (["-o", ""], 2, "tcpconnlog: empty --output: give a file name (see tcpconnlog --help)"),
])
def test_errors(args, rc, message):
    r = tcltest.run_tool("-b", tcltest.BACKEND, *args)
    assert r.returncode == rc and r.stdout == "", r
    assert r.stderr.splitlines() == [message], r.stderr
