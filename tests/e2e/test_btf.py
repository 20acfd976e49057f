# SPDX-License-Identifier: GPL-2.0-only
"""--btf FILE: the kernel's types from a file instead of
/sys/kernel/btf/vmlinux (kernels without embedded BTF). With it, a kernel
built without IPv6 is imitated: the same BTF with the two IPv6 address
members of sock_common renamed, as if CONFIG_IPV6 were off. Every backend
must still load, and IPv4 connects must still be reported right."""
import os
import struct
import tempfile

import pytest

import tcltest

VMLINUX = "/sys/kernel/btf/vmlinux"
# same length, so that no offset in the file moves
RENAMES = {b"skc_v6_daddr": b"xkc_v6_daddr", b"skc_v6_rcv_saddr": b"xkc_v6_rcv_saddr"}


def btf_without_ipv6_members(path):
    """Copy of the kernel's BTF, with the names of skc_v6_daddr and
    skc_v6_rcv_saddr changed in its string section."""
    with open(VMLINUX, "rb") as f:
        data = bytearray(f.read())
    magic, _ver, _flags, hdr_len, _toff, _tlen, str_off, str_len = \
        struct.unpack_from("<HBBIIIII", data, 0)
    assert magic == 0xEB9F, "not BTF"
    lo = hdr_len + str_off
    strs = bytes(data[lo:lo + str_len])
    for old, new in RENAMES.items():
        at = strs.find(b"\0" + old + b"\0")
        assert at >= 0, "no string %s in the kernel's BTF" % old
        assert strs.find(b"\0" + old + b"\0", at + 1) < 0, "%s twice" % old
        data[lo + at + 1:lo + at + 1 + len(new)] = new
    with open(path, "wb") as f:
        f.write(data)
    return path


@pytest.fixture(scope="module")
def no_ipv6_btf():
    d = tempfile.mkdtemp(prefix="tcpconnlog-e2e-btf-")
    path = btf_without_ipv6_members(os.path.join(d, "vmlinux-no-ipv6"))
    with open(path, "rb") as f:
        data = f.read()
    assert b"\0skc_v6_daddr\0" not in data and b"\0skc_v6_rcv_saddr\0" not in data
    assert b"\0skc_daddr\0" in data
    yield path
    os.unlink(path)
    os.rmdir(d)


@pytest.mark.kernel_once
@pytest.mark.parametrize("backend", ["fentry", "kprobe", "tracepoint"])
def test_check_with_btf_is_the_check_without(backend, no_ipv6_btf):
    """Renamed IPv6 members change nothing in what works: the reads of
    them are guarded, not required."""
    plain = tcltest.run_tool("--check", "-b", backend)
    other = tcltest.run_tool("--check", "-b", backend, "--btf", no_ipv6_btf)
    assert other.returncode == plain.returncode and other.stdout == plain.stdout, (plain, other)


def test_check_with_btf_of_the_running_backend(no_ipv6_btf):
    r = tcltest.run_tool("--check", "-b", tcltest.BACKEND, "--btf", no_ipv6_btf)
    assert r.returncode == 0, r
    if tcltest.BACKEND != "auto":
        assert r.stdout == "%s: ok\n" % tcltest.BACKEND, r


def test_ipv4_connects_with_a_btf_without_ipv6(tracer, listeners, no_ipv6_btf):
    lst = listeners.one("127.0.0.1")
    t = tracer("--btf", no_ipv6_btf)
    c = tcltest.connect(4, "127.0.0.1", lst.port)
    tcltest.close_all([c])
    res = t.stop()
    assert res.rc == 0, res
    tcltest.check_attempts(res, [c], result="established", errno=None, saddr="127.0.0.1")


def test_missing_btf_file_is_a_usage_error():
    r = tcltest.run_tool("--btf", "/nonexistent/vmlinux", "--check")
    assert r.returncode == 2 and r.stdout == "", r
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and "--btf" in lines[0] and "/nonexistent/vmlinux" in lines[0], r


def test_file_that_is_not_btf_is_a_runtime_error():
    with tempfile.NamedTemporaryFile(prefix="tcpconnlog-e2e-") as f:
        f.write(b"not BTF at all\n" * 10)
        f.flush()
        r = tcltest.run_tool("--btf", f.name, "--check")
    assert r.returncode == 1 and r.stdout == "", r
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("tcpconnlog: --btf %s " % f.name), r
