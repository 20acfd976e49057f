# SPDX-License-Identifier: GPL-2.0-only
"""Where the process of each record runs: cgroup_id, cgroup, container,
netns, mntns; -C's CONTAINER column and --by container.

Plain cgroup2 directories the test makes (a client moved into one by
writing its pid to cgroup.procs), and clients in namespaces of their own
(unshare), run on every backend, on the host and in the VM. A real
container runs with podman (Debian's, runc: crun refuses this host's
hybrid cgroups) from a busybox-static image the test imports offline;
those tests are marked podman and run on the host only: the VM stage
leaves them out (tests/vm/vmtest.py), as podman's storage and runtime
were not set up in the guest's overlay root.
"""
import os
import re
import shutil
import subprocess
import tarfile
import tempfile
import time
import uuid

import pytest

import tcltest

# A client: connects to 127.0.0.1:PORT (argv[1]), or, with "self", to a
# listener of its own (in a network namespace of its own nothing else
# listens); prints its pid, source port and namespaces' inodes.
CLIENT_CODE = r"""
import os, socket, sys
if sys.argv[1] == "self":
    l = socket.socket()
    l.bind(("127.0.0.1", 0))
    l.listen()
    port = l.getsockname()[1]
else:
    port = int(sys.argv[1])
s = socket.create_connection(("127.0.0.1", port), 5)
print(os.getpid(), s.getsockname()[1], port,
      os.stat("/proc/self/ns/net").st_ino, os.stat("/proc/self/ns/mnt").st_ino, flush=True)
"""


def cgroup2_mount():
    """The cgroup2 mount point and its root in the hierarchy (mountinfo)."""
    with open("/proc/self/mountinfo") as f:
        for line in f:
            left, _, right = line.partition(" - ")
            if right.split()[0] == "cgroup2":
                fields = left.split()
                return fields[4], fields[3]
    raise AssertionError("no cgroup2 file system mounted")


class Cgroup:
    """A cgroup2 directory made by the test (nested under its parent)."""

    def __init__(self, rel):
        self.mount, root = cgroup2_mount()
        self.rel = rel
        self.dir = os.path.join(self.mount, rel)
        os.makedirs(self.dir)
        # the path the tool prints: from the hierarchy's root
        self.path = ("" if root == "/" else root) + "/" + rel
        self.id = os.stat(self.dir).st_ino

    def remove(self):
        # deepest first; a directory with a process left is kept (EBUSY)
        rel = self.rel
        while rel:
            try:
                os.rmdir(os.path.join(self.mount, rel))
            except OSError:
                return
            rel = os.path.dirname(rel)


@pytest.fixture
def cgroups():
    made = []

    def make(name):
        cg = Cgroup("tcltest-%d-%s" % (os.getpid(), name))
        made.append(cg)
        return cg
    yield make
    tcltest.end_all()
    for cg in made:
        cg.remove()


def client(port, cgroup=None, unshare=()):
    """Run CLIENT_CODE, in cgroup (moved there before it starts) and in
    new namespaces (unshare flags); returns its (pid, sport, dport, netns,
    mntns)."""
    script = ""
    if cgroup:
        script += 'echo $$ > "$1"/cgroup.procs || exit 9; '
    if unshare:
        script += "ip link set lo up || exit 8; "
    script += 'exec "$2" -c "$3" "$4"'
    cmd = ["sh", "-c", script, "sh", cgroup.dir if cgroup else "", tcltest.PYTHON,
           CLIENT_CODE, str(port)]
    if unshare:
        cmd = ["unshare"] + list(unshare) + ["--"] + cmd
    r = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=30)
    assert r.returncode == 0, "client failed (%d): %s" % (r.returncode, r.stderr)
    return tuple(int(x) for x in r.stdout.split())


def record_of(result, pid, sport):
    recs = [r for r in result.connects if r["pid"] == pid and r["sport"] == sport]
    assert len(recs) == 1, "one record of pid %d port %d expected:\n%s" % (pid, sport, result)
    return recs[0]


def own_ns(kind):
    return os.stat("/proc/self/ns/%s" % kind).st_ino


def test_plain_cgroups_and_namespaces(cgroups):
    """Clients in cgroups made after the tool started (nested, and in new
    namespaces): each record has the cgroup's id and path, no container,
    and the client's own namespaces."""
    listener = tcltest.Listener()
    top = cgroups("a")
    nested = Cgroup(top.rel + "/inner b")
    t = tcltest.start()
    try:
        c_root = client(listener.port)
        c_top = client(listener.port, top)
        c_nested = client(listener.port, nested)
        # a network namespace and a mount namespace of its own, in a cgroup
        c_ns = client("self", top, unshare=("--net", "--mount"))
    finally:
        res = t.stop()
        listener.close()
        nested.remove()
    assert res.rc == 0, res
    for c, cg in ((c_top, top), (c_nested, nested)):
        rec = record_of(res, c[0], c[1])
        assert rec["cgroup_id"] == cg.id, rec
        assert rec["cgroup"] == cg.path, rec
        assert rec["container"] is None, rec
        assert rec["netns"] == c[3] == own_ns("net"), rec
        assert rec["mntns"] == c[4] == own_ns("mnt"), rec
    # the test's own cgroup: whatever /proc says it is
    rec = record_of(res, c_root[0], c_root[1])
    with open("/proc/self/cgroup") as f:
        mine = [l.strip()[3:] for l in f if l.startswith("0::")][0]
    assert rec["cgroup"] == mine, rec
    mount, root = cgroup2_mount()
    rel = mine[len(root):] if root != "/" else mine
    assert rec["cgroup_id"] == os.stat(mount + rel).st_ino, rec
    # new namespaces: their inodes, not the test's
    rec = record_of(res, c_ns[0], c_ns[1])
    assert rec["dport"] == c_ns[2], rec
    assert rec["netns"] == c_ns[3] and rec["netns"] != own_ns("net"), rec
    assert rec["mntns"] == c_ns[4] and rec["mntns"] != own_ns("mnt"), rec
    assert rec["cgroup_id"] == top.id and rec["cgroup"] == top.path, rec
    assert rec["container"] is None, rec


def test_text_container_column_dash_outside_containers(cgroups):
    """-C: a CONTAINER column, '-' for a process in no container."""
    listener = tcltest.Listener()
    cg = cgroups("text")
    t = tcltest.start("-C", json_mode=False)
    try:
        c = client(listener.port, cg)
    finally:
        res = t.stop()
        listener.close()
    assert res.rc == 0, res
    lines = res.stdout.splitlines()
    assert lines[0].split()[-1] == "CONTAINER", lines[0]
    mine = [l for l in lines[1:] if l.split()[0] == str(c[0])]
    assert len(mine) == 1, res
    assert mine[0].split()[-1] == "-", mine


def test_by_container_summary_outside_containers(cgroups):
    """--by container: one summary row for processes in no container."""
    listener = tcltest.Listener()
    cg = cgroups("by")
    t = tcltest.start("--by", "container", "-n", "python3")
    try:
        for _ in range(3):
            client(listener.port, cg)
    finally:
        res = t.stop()
        listener.close()
    assert res.rc == 0, res
    lines = res.stderr.splitlines()
    head = [i for i, l in enumerate(lines) if l.split()[:2] == ["CONTAINER", "ATTEMPTS"]]
    assert len(head) == 1, res
    row = lines[head[0] + 1].split()
    assert row[0] == "-" and int(row[1]) == 3 and int(row[2]) == 3, res


# --- podman ---------------------------------------------------------------

PODMAN_RUN = ["podman", "run", "--runtime", "runc", "--network", "host",
              "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]


@pytest.fixture(scope="module")
def busybox_image():
    """An image of busybox-static alone, imported from a tarball made here
    (no registry); removed when the module's tests are done."""
    busybox = shutil.which("busybox")
    assert busybox, "busybox-static is not installed (scripts/install-deps test)"
    assert shutil.which("podman"), "podman is not installed (scripts/install-deps test)"
    tag = "localhost/tcl-containers-test:%d" % os.getpid()
    d = tempfile.mkdtemp(prefix="tcl-image-")
    tar = os.path.join(d, "rootfs.tar")
    with tarfile.open(tar, "w") as tf:
        tf.add(busybox, arcname="bin/busybox")
        for applet in ("sh", "nc", "sleep"):
            info = tarfile.TarInfo("bin/" + applet)
            info.type = tarfile.SYMTYPE
            info.linkname = "busybox"
            tf.addfile(info)
    r = subprocess.run(["podman", "import", tar, tag], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, timeout=120)
    shutil.rmtree(d, ignore_errors=True)
    assert r.returncode == 0, "podman import: %s" % r.stderr
    yield tag
    subprocess.run(["podman", "rmi", "-f", tag], stdout=subprocess.DEVNULL,
                   stderr=subprocess.DEVNULL, timeout=120)


def run_container(image, port):
    """A container that connects to 127.0.0.1:port and stays a second
    (its cgroup outlives the record); returns its full id."""
    name = "tcltest-%s" % uuid.uuid4().hex[:12]
    r = subprocess.run(PODMAN_RUN + ["--name", name, image, "sh", "-c",
                                     "nc 127.0.0.1 %d </dev/null; sleep 1" % port],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=120)
    try:
        assert r.returncode == 0, "podman run: %s" % r.stderr
        i = subprocess.run(["podman", "inspect", "--format", "{{.Id}}", name],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=60)
        assert i.returncode == 0, "podman inspect: %s" % i.stderr
        cid = i.stdout.strip()
        assert re.fullmatch(r"[0-9a-f]{64}", cid), cid
        return cid
    finally:
        subprocess.run(["podman", "rm", "-f", name], stdout=subprocess.DEVNULL,
                       stderr=subprocess.DEVNULL, timeout=60)


def traced_container(image, *args, json_mode=True):
    """A container's connect traced with args: (the run, the id, the port)."""
    listener = tcltest.Listener(keep=False)
    t = tcltest.start("-P", listener.port, *args, json_mode=json_mode)
    try:
        cid = run_container(image, listener.port)
    finally:
        res = t.stop()
        listener.close()
    assert res.rc == 0, res
    return res, cid, listener.port


@pytest.mark.podman
def test_podman_container_json_and_summary(busybox_image):
    """The record of a connect made in a podman container has the id
    podman inspect gives, in its cgroup path; --by container lists it."""
    res, cid, port = traced_container(busybox_image, "--by", "container")
    recs = [r for r in res.connects if r["dport"] == port]
    assert len(recs) == 1, res
    rec = recs[0]
    assert rec["container"] == cid, rec
    assert ("/libpod-" + cid) in rec["cgroup"], rec
    assert rec["result"] == "established", rec
    assert rec["netns"] == own_ns("net"), rec	# --network host
    assert rec["mntns"] not in (None, own_ns("mnt")), rec
    lines = res.stderr.splitlines()
    head = [i for i, l in enumerate(lines) if l.split()[:2] == ["CONTAINER", "ATTEMPTS"]]
    assert len(head) == 1, res
    row = lines[head[0] + 1].split()
    assert row[0] == cid[:12] and int(row[1]) == 1 and int(row[2]) == 1, res


@pytest.mark.podman
def test_podman_container_text_column(busybox_image):
    """-C shows the container's first 12 characters."""
    res, cid, _ = traced_container(busybox_image, "-C", json_mode=False)
    lines = [l for l in res.stdout.splitlines()[1:] if l.strip()]
    assert len(lines) == 1, res
    assert lines[0].split()[-1] == cid[:12], lines
