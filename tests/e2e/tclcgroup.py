# SPDX-License-Identifier: GPL-2.0-only
"""Where the end-to-end tests put processes: cgroup v2 directories they
make (the `cgroups` fixture) and podman containers run from an image
imported offline (the `podman` fixture, tests marked podman)."""
import itertools
import os
import re
import shutil
import tempfile
import time

import tcltest

_serial = itertools.count(1)


def cgroup2_mount():
    """(mount point, its root in the hierarchy) of cgroup2, from
    mountinfo; the mount of the hierarchy's root when there is one."""
    found = []
    with open("/proc/self/mountinfo") as f:
        for line in f:
            pre, _, post = line.partition(" - ")
            fields = pre.split()
            if post.split()[:1] == ["cgroup2"]:
                found.append((fields[4], fields[3]))
    assert found, "no cgroup2 file system mounted: the cgroup tests need one"
    return ([m for m in found if m[1] == "/"] or found)[0]


def path_of(pid):
    """The cgroup v2 path of process pid, as /proc/PID/cgroup names it."""
    with open("/proc/%s/cgroup" % pid) as f:
        path = [l[3:] for l in f.read().splitlines() if l.startswith("0::")]
    assert path, "process %s is in no cgroup v2 directory" % pid
    return path[0]


def dir_of(pid):
    """The cgroup v2 directory process pid is in."""
    mount, root = cgroup2_mount()
    path = path_of(pid)
    if root != "/":
        assert path.startswith(root + "/") or path == root, (path, root)
        path = path[len(root):]
    return os.path.join(mount, path.lstrip("/"))


def id_of(pid):
    return os.stat(dir_of(pid)).st_ino


class Cgroup:
    """One directory: dir in the file system, path as /proc and the tool
    name it (from the hierarchy's root), id (its inode)."""

    def __init__(self, d, mount, root):
        self.dir = d
        self.path = ("" if root == "/" else root) + "/" + os.path.relpath(d, mount)
        self.id = os.stat(d).st_ino


class Cgroups:
    """The cgroup v2 directories of one test and the processes moved into
    them; at the end the processes left go back to the mount's root and
    the directories are removed, deepest first."""

    def __init__(self):
        self.mount, self.root = cgroup2_mount()
        self.made = []

    def make(self, parent=None, name=None):
        """A directory under parent (a Cgroup; default the mount's root),
        named name (default a unique one)."""
        name = name or "tcl-e2e-%d-%d" % (os.getpid(), next(_serial))
        d = os.path.join(parent.dir if parent else self.mount, name)
        os.mkdir(d)
        self.made.append(d)
        return Cgroup(d, self.mount, self.root)

    @staticmethod
    def move(pid, cg):
        with open(os.path.join(cg.dir, "cgroup.procs"), "w") as f:
            f.write(str(pid))
        assert os.path.samefile(dir_of(pid), cg.dir), (pid, cg.dir)

    def cleanup(self):
        for d in reversed(self.made):
            with open(os.path.join(d, "cgroup.procs")) as f:
                pids = f.read().split()
            for pid in pids:
                try:
                    with open(os.path.join(self.mount, "cgroup.procs"), "w") as f:
                        f.write(pid)
                except OSError:
                    pass  # gone meanwhile
            for _ in range(100):
                try:
                    os.rmdir(d)
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    time.sleep(0.02)   # an exited process still counted
            else:
                raise AssertionError("cannot remove the test's cgroup %s" % d)


class Podman:
    """podman with storage of its own (vfs, in a temporary directory) and
    an image of busybox-static alone: no registry, no network. runc, as
    crun refuses hybrid cgroups; --network host."""

    IMAGE = "localhost/tcl-e2e-busybox:1"
    APPLETS = ("sh", "nc", "sleep", "touch")

    def __init__(self):
        busybox = shutil.which("busybox")
        assert busybox, "busybox-static is not installed (scripts/install-deps test)"
        self.running = []
        self.dir = tempfile.mkdtemp(prefix="tcl-e2e-podman-")
        self.base = ["podman", "--root", os.path.join(self.dir, "root"),
                     "--runroot", os.path.join(self.dir, "run"), "--storage-driver", "vfs",
                     "--cgroup-manager", "cgroupfs", "--events-backend", "file"]
        rootfs = os.path.join(self.dir, "rootfs")
        os.makedirs(os.path.join(rootfs, "bin"))
        shutil.copy(busybox, os.path.join(rootfs, "bin", "busybox"))
        for cmd in self.APPLETS:
            os.symlink("busybox", os.path.join(rootfs, "bin", cmd))
        tar = os.path.join(self.dir, "rootfs.tar")
        tcltest.run(["tar", "-C", rootfs, "-cf", tar, "."])
        self.podman("import", "-q", tar, self.IMAGE)

    def podman(self, *args):
        return tcltest.run(self.base + list(args)).stdout.strip()

    def start(self, script):
        """A container running script in the background: its full id and
        its host pid."""
        cid = self.podman("run", "-d", "--runtime", "runc", "--network", "host",
                          "--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024",
                          self.IMAGE, "sh", "-c", script)
        self.running.append(cid)
        assert re.fullmatch(r"[0-9a-f]{64}", cid), cid
        return cid, int(self.podman("inspect", "-f", "{{.State.Pid}}", cid))

    def run(self, script):
        """A container running script to its end (exit 0), then removed:
        its full id."""
        cid, _ = self.start(script)
        try:
            code = self.podman("wait", cid)
            assert code == "0", "the container's script exited %s: %s\n%s" % (
                code, script, tcltest.run(self.base + ["logs", cid], check=False))
            return cid
        finally:
            self.remove(cid)

    def remove(self, cid):
        tcltest.run(self.base + ["rm", "-f", "-t", "0", cid], check=False)
        self.running.remove(cid)

    def close(self):
        for cid in list(self.running):
            self.remove(cid)
        tcltest.run(self.base + ["rmi", "-a", "-f"], check=False)
        shutil.rmtree(self.dir, ignore_errors=True)
