# SPDX-License-Identifier: GPL-2.0-only
"""The OCI image in the tests (test_image.py, test_kube.py): make image
into the podman fixture's storage, once per session, offline; podman
commands on that storage; a finished container's output as a
tcltest.Result, so that its JSON lines are parsed as the tool's are."""
import json
import os
import subprocess
import types

import tcltest

ROOT = os.path.abspath(os.path.join(tcltest.HERE, "..", ".."))
STATIC = os.path.join(ROOT, "build", "tcpconnlog-static")


def podman_cmd(podman, *args, check=True, timeout=60, env=None):
    r = subprocess.run(podman.base + list(args), stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=timeout, env=env)
    assert not check or r.returncode == 0, "podman %s failed (%d): %s%s" % (
        " ".join(args), r.returncode, r.stdout, r.stderr)
    return r


def static_version():
    """The version the static binary says it is."""
    out = tcltest.run([STATIC, "--version"], check=False).stdout.splitlines()
    assert out and out[0].startswith("tcpconnlog "), out
    return out[0][len("tcpconnlog "):]


def build(podman):
    """make image in a network namespace with no network (nothing may be
    pulled), into podman's storage; once per podman fixture. The static
    binary is taken as it is (-o: not relinked for a newer tree, which
    would leave it unlike the dynamic one the other tests compare it
    with). Returns {"ref": the versioned tag, "version": the binary's}."""
    if getattr(podman, "tcl_image", None):
        return podman.tcl_image
    assert os.path.isfile(STATIC), "%s is missing: build it with make static" % STATIC
    r = subprocess.run(["unshare", "--net", "--", "make", "-C", ROOT, "--no-print-directory",
                        "-o", os.path.relpath(STATIC, ROOT), "image",
                        "PODMAN=" + " ".join(podman.base)],
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                       timeout=300)
    assert r.returncode == 0, "make image failed (%d):\n%s" % (r.returncode, r.stdout)
    ref = r.stdout.strip().splitlines()[-1]
    version = static_version()
    assert ref == "localhost/tcpconnlog:" + version.replace("+", "-"), r.stdout
    podman.tcl_image = {"ref": ref, "version": version}
    return podman.tcl_image


def inspect(podman, kind, name):
    return json.loads(podman_cmd(podman, kind, "inspect", name).stdout)[0]


def result(argv, rc, stdout, stderr, backend, t_spawn, t_stop):
    """A tcltest.Result of a run in a container (its JSON lines parsed
    and checked as every run's are)."""
    run = types.SimpleNamespace(argv=argv, json_mode=True, backend=backend, t_spawn=t_spawn,
                                t_ready=None, t_ready_mono=None, t_stop=t_stop)
    return tcltest.Result(run, rc, stdout, stderr)


def ready_backend(stderr):
    """The backend the ready line names, None before it."""
    for line in stderr.splitlines():
        m = tcltest.READY_RE.match(line)
        if m:
            return m.group(1)
    return None
