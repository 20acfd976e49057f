# SPDX-License-Identifier: GPL-2.0-only
"""The statically linked binary (make static): no interpreter and no
shared library, and it does what the dynamic one does on this kernel:
--check, a traced connect checked field by field, the user it drops to
(-u, read through glibc's NSS in a static binary) and -r's reverse
lookup. Not marked host: the VM stage runs it on every kernel."""
import os
import socket
import struct
import subprocess

import pytest

import tcltest
from tcltest import check_record, connect

STATIC = os.path.abspath(os.environ.get("TCPCONNLOG_STATIC_BIN")
                         or os.path.join(tcltest.HERE, "..", "..", "build", "tcpconnlog-static"))
DYNAMIC = tcltest.BIN
PT_INTERP, PT_DYNAMIC = 3, 2


@pytest.fixture
def static_bin(monkeypatch):
    assert os.path.isfile(STATIC), "%s is missing: build it with make static" % STATIC
    monkeypatch.setattr(tcltest, "BIN", STATIC)
    return STATIC


def program_headers(path):
    """The p_type of each program header of a 64-bit little-endian ELF."""
    with open(path, "rb") as f:
        data = f.read(1 << 16)
    assert data[:6] == b"\x7fELF\x02\x01", "not a 64-bit little-endian ELF: %s" % path
    phoff, = struct.unpack_from("<Q", data, 0x20)
    phentsize, phnum = struct.unpack_from("<HH", data, 0x36)
    return [struct.unpack_from("<I", data, phoff + i * phentsize)[0] for i in range(phnum)]


def test_static_binary_needs_no_loader(static_bin):
    types = program_headers(static_bin)
    assert PT_INTERP not in types and PT_DYNAMIC not in types, types
    # the control: the dynamic build has both, so the reading is right
    dyn = program_headers(DYNAMIC)
    assert PT_INTERP in dyn and PT_DYNAMIC in dyn, dyn


def test_static_check(static_bin):
    res = tcltest.run_tool("-b", tcltest.BACKEND, "--check")
    want = tcltest.expected_backend() + ": ok"
    assert res.returncode == 0 and want in res.stdout.splitlines(), res


def uid_of(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("Uid:"):
                return [int(x) for x in line.split()[1:]]
    raise AssertionError("no Uid line for %d" % pid)


def test_static_traces_a_connect(static_bin, listeners, clients):
    nobody = 65534
    # -u NAME and --user NAME: both looked up with getpwnam, through
    # glibc's NSS in a static binary
    t = tcltest.start("-r", "-u", "root", "--user", "nobody")
    assert uid_of(t.proc.pid) == [nobody] * 4, uid_of(t.proc.pid)
    lst = listeners.one("127.0.0.1")
    # another user's connect, which -u root leaves out (bash: quicker
    # to start than python under emulation)
    subprocess.run(["setpriv", "--reuid=%d" % nobody, "--regid=%d" % nobody, "--clear-groups",
                    "bash", "-c", "exec 3<>/dev/tcp/127.0.0.1/%d" % lst.port],
                   timeout=10, check=True)
    c = connect(4, "127.0.0.1", lst.port)
    clients.append(c)
    assert c["errno"] is None
    tcltest.wait_until(lambda: tcltest.records_of(records(t.stdout_now()), c),
                       15, "the record of the connect\n" + t.stderr_now())
    res = t.stop()
    assert res.rc == 0, res
    rec = tcltest.only_record(res, c)
    # -r appends its key; the rest is the ordinary record
    rdns = rec.pop("rdns")
    check_record(rec, c, res.backend, result="established", errno=None, saddr="127.0.0.1")
    # the name the test's own resolver gives (the same NSS files)
    assert rdns == socket.gethostbyaddr("127.0.0.1")[0], rec
    assert [r for r in res.connects if r["uid"] != 0] == [], res


def records(text):
    """The whole JSON lines written so far."""
    return tcltest.json_lines(text)
