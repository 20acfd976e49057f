# SPDX-License-Identifier: GPL-2.0-only
"""--version on this kernel: the version, the libbpf built with and
running, and which backends the kernel accepts, the same answer as
--check's (and, without privileges, one line saying they were not
checked). The VM stage runs it on every kernel of the matrix (once:
marked kernel_once), where fentry and kprobe must be accepted; the host
accepts the tracepoint only."""
import ctypes
import os
import re
import subprocess

import pytest

import tcltest

BACKENDS = ("fentry", "kprobe", "tracepoint")


def run(argv, **kw):
    return subprocess.run(argv, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                          stderr=subprocess.PIPE, text=True, timeout=60, **kw)


def loaded_libbpf():
    """major.minor of the libbpf the tool runs with, as the loader finds it."""
    lib = ctypes.CDLL("libbpf.so.1")
    lib.libbpf_version_string.restype = ctypes.c_char_p
    return lib.libbpf_version_string().decode().lstrip("v")


def accepted():
    """What each backend must say here, seen without the tool."""
    fentry = os.environ.get("TCPCONNLOG_EXPECT_AUTO") == "fentry" or tcltest.fentry_probe()[0]
    return {"fentry": fentry, "kprobe": tcltest.kprobes_supported(), "tracepoint": True}


@pytest.mark.kernel_once
def test_version_names_the_backends_this_kernel_accepts():
    res = run([tcltest.BIN, "--version"])
    assert res.returncode == 0 and res.stderr == "", res
    lines = res.stdout.splitlines()
    assert re.fullmatch(r"tcpconnlog \d+(\.\d+)+(\+git\.\d+\.[0-9a-f]{12})?(-dirty)?", lines[0]), lines
    m = re.fullmatch(r"libbpf (\d+\.\d+) \(built with\), (\d+\.\d+) \(running\)", lines[1])
    assert m, lines
    assert m.group(2) == loaded_libbpf(), lines
    assert lines[2] == "backends on this kernel (as --check):", lines
    said = {}
    for line in lines[3:]:
        name, _, verdict = line.partition(": ")
        said[name] = verdict
    assert sorted(said) == sorted(BACKENDS), lines
    want = accepted()
    for b in BACKENDS:
        assert (said[b] == "ok") == want[b], "%s: %r, expected %s\n%s" % (
            b, said[b], "ok" if want[b] else "a reason", res.stdout)


def test_version_without_privileges_says_so_and_succeeds():
    res = run(["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups",
               "--inh-caps=-all", "--bounding-set=-all", tcltest.BIN, "--version"])
    assert res.returncode == 0 and res.stderr == "", res
    lines = res.stdout.splitlines()
    assert len(lines) == 3 and lines[0].startswith("tcpconnlog "), lines
    assert lines[2].startswith("backends: not checked: missing privileges: "), lines
