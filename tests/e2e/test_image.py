# SPDX-License-Identifier: GPL-2.0-only
"""The OCI image (make image, image/Containerfile): built offline in a
network namespace with no network, FROM scratch with only the binary and
the user database, labelled; run with podman as the DaemonSet runs it
(host PID namespace, the host's cgroup2 mounted read-only), it traces
connects made on the host, checked field by field, and labels those of a
podman container with its id and none of the host's. Once with
--privileged, once with only the capabilities of contrib/kubernetes/.

podman's storage is the podman fixture's own (vfs, a temporary
directory); runc, as crun refuses this host's hybrid cgroups.
"""
import hashlib
import itertools
import json
import os
import re
import subprocess
import tarfile
import tempfile
import time

import pytest

import tclcgroup
import tclimage
import tcltest
from tcltest import check_record

pytestmark = [pytest.mark.podman, pytest.mark.host]

# what the scratch image holds, and nothing else
IMAGE_FILES = {"etc/passwd", "etc/group", "usr/sbin/tcpconnlog"}
# the DaemonSet's capabilities (contrib/kubernetes/daemonset.yaml) less
# CAP_SYS_RESOURCE (only before Linux 5.11)
CAPS = "bpf,perfmon,dac_read_search,setuid,setgid,setpcap"
COMM = "tclimgclient"
_serial = itertools.count(1)
podman_cmd = tclimage.podman_cmd


@pytest.fixture(scope="module")
def image(podman):
    return tclimage.build(podman)


def test_image_contents_labels_and_defaults(podman, image, tmp_path):
    """Both tags name one image; its labels say what it is; ENTRYPOINT is
    the tool and CMD -j; its one layer holds the binary make static built
    (byte for byte) and the user database, nothing else; built again, it
    is the same image."""
    info = tclimage.inspect(podman, "image", image["ref"])
    assert tclimage.inspect(podman, "image", "localhost/tcpconnlog:latest")["Id"] == info["Id"]
    cfg = info["Config"]
    assert cfg["Entrypoint"] == ["/usr/sbin/tcpconnlog"], cfg
    assert cfg["Cmd"] == ["-j"], cfg
    labels = cfg["Labels"]
    # the commit the binary was built from: the hash in its version, or
    # the release's (HEAD at a tag)
    m = re.search(r"\+git\.\d+\.([0-9a-f]{12})", image["version"])
    commit = tcltest.run(["git", "-C", tclimage.ROOT, "rev-parse",
                          m.group(1) if m else "HEAD"]).stdout.strip()
    assert labels["org.opencontainers.image.version"] == image["version"], labels
    assert labels["org.opencontainers.image.revision"] == commit, labels
    assert labels["org.opencontainers.image.title"] == "tcpconnlog", labels
    assert labels["org.opencontainers.image.licenses"] == "GPL-2.0-only", labels
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ",
                        labels["org.opencontainers.image.created"]), labels
    archive = tmp_path / "image.tar"
    podman_cmd(podman, "save", "--format", "docker-archive", "-o", str(archive), image["ref"])
    with tarfile.open(archive) as outer:
        manifest = json.load(outer.extractfile("manifest.json"))
        layers = manifest[0]["Layers"]
        assert len(layers) == 1, manifest
        with tarfile.open(fileobj=outer.extractfile(layers[0])) as layer:
            members = {m.name.lstrip("./"): m for m in layer.getmembers()}
            files = {n for n, m in members.items() if not m.isdir()}
            assert files == IMAGE_FILES, sorted(members)
            binary = layer.extractfile(members["usr/sbin/tcpconnlog"]).read()
            assert members["usr/sbin/tcpconnlog"].mode & 0o111, members
            passwd = layer.extractfile(members["etc/passwd"]).read().decode()
    with open(tclimage.STATIC, "rb") as f:
        assert hashlib.sha256(binary).digest() == hashlib.sha256(f.read()).digest()
    assert "nobody:x:65534:65534:" in passwd, passwd
    # the same commit and binary: the same image, byte for byte
    again = tcltest.run([os.path.join(tclimage.ROOT, "image", "build"), tclimage.STATIC]
                        + podman.base)
    assert again.stdout.strip().splitlines()[-1] == image["ref"], again.stdout
    assert tclimage.inspect(podman, "image", image["ref"])["Id"] == info["Id"], again.stdout


class ImageRun:
    """The image running attached (podman run), its stdout and stderr in
    files."""

    def __init__(self, podman, ref, flags, args=()):
        self.podman = podman
        self.name = "tcl-e2e-img-%d-%d" % (os.getpid(), next(_serial))
        self.argv = podman.base + ["run", "--rm", "--name", self.name, "--runtime", "runc",
                                   "--ulimit", "nofile=1024:1024", "--ulimit",
                                   "nproc=1024:1024"] + list(flags) + [ref] + list(args)
        self.dir = tempfile.mkdtemp(prefix="tcl-e2e-img-")
        self.out_path = os.path.join(self.dir, "stdout")
        self.err_path = os.path.join(self.dir, "stderr")
        self.backend = self.t_stop = None
        self.t_spawn = time.time()
        with open(self.out_path, "wb") as out, open(self.err_path, "wb") as err:
            self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL,
                                         stdout=out, stderr=err)
        tcltest.LIVE.append(self.proc)

    def _read(self, path):
        with open(path, "rb") as f:
            return f.read().decode("utf-8", errors="replace")

    def wait_ready(self, timeout=30):
        def ready():
            self.backend = tclimage.ready_backend(self._read(self.err_path))
            assert self.backend or self.proc.poll() is None, (
                "the container exited (%s) before it was ready:\n%s"
                % (self.proc.returncode, self._read(self.err_path)))
            return self.backend is not None
        tcltest.wait_until(ready, timeout, "the tool in the container to be ready:\n%s"
                           % " ".join(self.argv))
        assert self.backend == tcltest.expected_backend(), self._read(self.err_path)
        return self

    def host_pid(self):
        return int(podman_cmd(self.podman, "inspect", "-f", "{{.State.Pid}}",
                              self.name).stdout.strip())

    def stop(self):
        """podman stop: SIGTERM to the tool, which ends with its summary."""
        self.t_stop = time.time()
        podman_cmd(self.podman, "stop", "-t", "15", self.name, timeout=30)
        rc = self.proc.wait(30)
        return tclimage.result(self.argv, rc, self._read(self.out_path),
                               self._read(self.err_path), self.backend, self.t_spawn,
                               self.t_stop)

    def close(self):
        if self.proc.poll() is None:
            podman_cmd(self.podman, "rm", "-f", "-t", "0", self.name, check=False)
        tcltest._end(self.proc)


@pytest.fixture
def image_run(podman, image):
    runs = []

    def start(flags, args=()):
        r = ImageRun(podman, image["ref"], flags, args)
        runs.append(r)
        return r.wait_ready()

    yield start
    for r in runs:
        r.close()


def host_cgroup2():
    """The host's cgroup2 mount, to bind into the container as the
    DaemonSet binds the node's /sys/fs/cgroup."""
    mount, root = tclcgroup.cgroup2_mount()
    assert root == "/", "the host's cgroup2 mount is not its hierarchy's root: %s" % root
    return mount


def trace_host_and_container(podman, image_run, agent, flags, while_running=None):
    """The image traced: an established and a refused connect of a host
    process (another uid, its own command name) and one from a podman
    container; while_running(the tool's host pid) once it is ready.
    Returns (result, [established, refused], container id, its port)."""
    run = image_run(flags)
    if while_running:
        while_running(run.host_pid())
    listener = tcltest.Listener(keep=False)	# closes at once: nc then ends
    cli = agent(comm=COMM, uid=65534)
    try:
        ok = cli.connect(4, "127.0.0.1", listener.port)
        bad = cli.connect(4, "127.0.0.1", tcltest.free_port())
        cid = podman.run("nc 127.0.0.1 %d </dev/null; sleep 1" % listener.port)
    finally:
        res = run.stop()
        listener.close()
    assert res.rc == 0, res
    assert ok["errno"] is None and bad["errno"] == "ECONNREFUSED", (ok, bad)
    # the start record names the image's tool and the backend it chose
    assert res.start["version"] == tclimage.static_version(), res.start
    assert res.start["backend"] == res.backend, res.start
    return res, [ok, bad], cid, listener.port


def check_host_and_container(res, clients, cid, port):
    ok, bad = clients
    host_cg = tclcgroup.path_of(ok["pid"])
    for c, result, errno in ((ok, "established", None), (bad, "refused", "ECONNREFUSED")):
        rec = tcltest.only_record(res, c, by_sport=True)
        check_record(rec, c, res.backend, result=result, errno=errno, saddr="127.0.0.1")
        assert rec["uid"] == 65534 and rec["comm"] == COMM, rec
        # a host process: never in a container, whatever the tool's cgroupns
        assert rec["container"] is None, rec
        assert rec["cgroup_id"] == tclcgroup.id_of(ok["pid"]), rec
        assert rec["cgroup"] == host_cg, rec
        assert rec["netns"] == os.stat("/proc/self/ns/net").st_ino, rec
        assert rec["mntns"] == os.stat("/proc/self/ns/mnt").st_ino, rec
    theirs = [r for r in res.connects if r["dport"] == port and r["comm"] == "nc"]
    assert len(theirs) == 1, res
    assert theirs[0]["container"] == cid, theirs
    assert theirs[0]["cgroup"] == "/libpod_parent/libpod-" + cid, theirs
    assert theirs[0]["result"] == "established", theirs
    # every other record of the run: a container id only in a libpod cgroup
    for r in res.connects:
        assert r["container"] is None or r["cgroup"].endswith("/libpod-" + r["container"]), r


@pytest.mark.parametrize("cgroupns", ["host", "private"])
def test_privileged_pid_host_traces_host_connects(podman, image, image_run, agent, cgroupns):
    """podman run --privileged --pid=host IMAGE (CMD -j): the host's
    connects, every field; a container's connect labelled with its id.
    The host's cgroup2 is bound in read-only (podman mounts none on this
    hybrid host); with a private cgroup namespace (Kubernetes on cgroup
    v2) the paths are still the host's (not "/../..", as /proc shows
    them in that namespace)."""
    cg2 = host_cgroup2()
    flags = ["--privileged", "--pid=host", "--network=none", "--cgroupns=" + cgroupns,
             "-v", "%s:%s:ro" % (cg2, cg2)]
    res, clients, cid, port = trace_host_and_container(podman, image_run, agent, flags)
    check_host_and_container(res, clients, cid, port)


def dropped_to_nobody(pid):
    """Once attached, the tool (pid on the host) is nobody with empty
    capability sets, as the host's /proc shows it."""
    status = {}

    def dropped():
        with open("/proc/%d/status" % pid) as f:
            status.update(l.split(":", 1) for l in f.read().splitlines())
        return status["Uid"].split() == ["65534"] * 4
    tcltest.wait_until(dropped, 10, "the tool (pid %d) to become nobody" % pid)
    assert status["Gid"].split() == ["65534"] * 4, status
    for key in ("CapInh", "CapPrm", "CapEff", "CapBnd", "CapAmb"):
        assert int(status[key], 16) == 0, (key, status[key])


def host_tracefs():
    """The host's tracefs, mounted if it is not (the tool, as root, would
    mount it itself; in the container it cannot)."""
    if not os.path.isdir("/sys/kernel/tracing/events"):
        tcltest.run(["mount", "-t", "tracefs", "tracefs", "/sys/kernel/tracing"])
    return "/sys/kernel/tracing:/sys/kernel/tracing"


def test_daemonset_capabilities(podman, image, image_run, agent):
    """The DaemonSet's set instead of --privileged: --cap-drop=all plus
    CAP_BPF, CAP_PERFMON, CAP_DAC_READ_SEARCH (tracefs) and CAP_SETUID,
    CAP_SETGID, CAP_SETPCAP (to become nobody and empty the bounding set:
    src/privs.c), seccomp unconfined, the host's tracefs
    and cgroup2 bound in, a private cgroup namespace (as Kubernetes makes
    on cgroup v2). It traces as with --privileged, and once attached runs
    as nobody with no capability."""
    cg2 = host_cgroup2()
    flags = ["--cap-drop=all", "--cap-add=" + CAPS, "--security-opt", "seccomp=unconfined",
             "--pid=host", "--network=none", "--cgroupns=private",
             "-v", "%s:%s:ro" % (cg2, cg2), "-v", host_tracefs()]
    res, clients, cid, port = trace_host_and_container(podman, image_run, agent, flags,
                                                       while_running=dropped_to_nobody)
    check_host_and_container(res, clients, cid, port)


def test_default_seccomp_refuses_bpf(podman, image):
    """Without seccomp=unconfined podman's default profile refuses bpf()
    to a container without CAP_SYS_ADMIN: the tool says so in its line
    and exits 1 (why the DaemonSet sets seccompProfile Unconfined)."""
    r = podman_cmd(podman, "run", "--rm", "--runtime", "runc", "--ulimit", "nofile=1024:1024",
                   "--ulimit", "nproc=1024:1024", "--cap-drop=all", "--cap-add=" + CAPS,
                   "--pid=host", "--network=none", "-v", host_tracefs(), image["ref"], check=False)
    assert r.returncode == 1, r
    last = r.stderr.strip().splitlines()[-1]
    assert last.startswith("tcpconnlog: ") and "Operation not permitted" in last, r.stderr


def test_messages_when_the_container_lacks_something(podman, image, image_run):
    """What a pod missing part of the DaemonSet's set is told: without the
    host's tracefs bound in, that root cannot mount it (exit 1, the line
    says to bind it); without CAP_SETPCAP, -v says it stays uid 0 rather
    than naming a user it did not become."""
    r = podman_cmd(podman, "run", "--rm", "--runtime", "runc", "--ulimit", "nofile=1024:1024",
                   "--ulimit", "nproc=1024:1024", "--cap-drop=all", "--cap-add=" + CAPS,
                   "--security-opt", "seccomp=unconfined", "--pid=host", "--network=none",
                   image["ref"], "-b", "tracepoint", check=False)
    assert r.returncode == 1, r
    assert r.stderr.strip().splitlines() == [
        "tcpconnlog: cannot use backend tracepoint: mount tracefs for failed: Operation not "
        "permitted (mounting it needs CAP_SYS_ADMIN: mount tracefs first; a container binds "
        "the host's); try --backend auto, or -v for libbpf's messages"], r.stderr
    caps = CAPS.replace(",setpcap", "")
    run = image_run(["--cap-drop=all", "--cap-add=" + caps, "--security-opt",
                     "seccomp=unconfined", "--pid=host", "--network=none",
                     "-v", host_tracefs()], ["-j", "-v"])
    res = run.stop()
    assert res.rc == 0, res
    said = [l for l in res.stderr_lines() if l.startswith("tcpconnlog: running as")]
    assert said == ["tcpconnlog: running as uid 0 with no capabilities, not as nobody: "
                    "changing user needs CAP_SETUID, CAP_SETGID and CAP_SETPCAP"], res.stderr
