# SPDX-License-Identifier: GPL-2.0-only
"""contrib/kubernetes/: the manifests parse and hang together, say what
the README's Privileges table says, and pass the tool's own parser
(--check); the DaemonSet's pod template, played as a Pod by podman 4.3
(`podman kube play`, the nearest to a kubelet this host has), really
runs: /ready answers 200 once it traces, /metrics counts, and a host
process's connects come out on its stdout, checked field by field.

What podman 4.3 does not take from the template, the test adds or does
without, and says so where it does: it plays no DaemonSet (the template
becomes a Pod), reads seccomp from the alpha annotation, not from
securityContext.seccompProfile, and ignores hostPID (the pod gets a PID
namespace of its own: the records' pids come from the kernel and are
the host's all the same).
"""
import copy
import os
import re
import shutil
import time
import urllib.error
import urllib.request

import pytest
import yaml

import tclimage
import tcltest
from tcltest import check_record

KUBE = os.path.join(tclimage.ROOT, "contrib", "kubernetes")
README = os.path.join(tclimage.ROOT, "README.md")
COMM = "tclkubeclient"


def load(name):
    with open(os.path.join(KUBE, name)) as f:
        docs = list(yaml.safe_load_all(f))
    assert len(docs) == 1, "%s: one object per file" % name
    return docs[0]


def daemonset():
    return load("daemonset.yaml")


def container_of(ds):
    cs = ds["spec"]["template"]["spec"]["containers"]
    assert len(cs) == 1, cs
    return cs[0]


def metrics_port(args):
    i = args.index("--metrics")
    m = re.fullmatch(r"0\.0\.0\.0:(\d+)", args[i + 1])
    assert m, "--metrics %s: the pod's every address" % args[i + 1]
    return int(m.group(1))


def readme_capabilities():
    """CAP_X of the Privileges table, less those it says are for -d."""
    caps = {}
    for line in open(README):
        m = re.match(r"^\| (CAP_[A-Z_]+) \| (.*) \|$", line.strip())
        if m:
            caps[m.group(1)] = m.group(2)
    assert "CAP_BPF" in caps and "CAP_PERFMON" in caps, caps
    return {c for c, why in caps.items() if "with `-d`" not in why}


@pytest.mark.host
def test_manifests_hang_together():
    """Every file is in the kustomization; one namespace; the DaemonSet's
    service account exists and gets no token."""
    files = sorted(f for f in os.listdir(KUBE) if f.endswith(".yaml"))
    kust = load("kustomization.yaml")
    assert sorted(kust["resources"] + ["kustomization.yaml"]) == files, (kust, files)
    ns = load("namespace.yaml")
    sa = load("serviceaccount.yaml")
    ds = daemonset()
    assert ns["kind"] == "Namespace" and sa["kind"] == "ServiceAccount", (ns, sa)
    assert ds["apiVersion"] == "apps/v1" and ds["kind"] == "DaemonSet", ds
    name = ns["metadata"]["name"]
    assert sa["metadata"]["namespace"] == ds["metadata"]["namespace"] == name
    pod = ds["spec"]["template"]
    assert ds["spec"]["selector"]["matchLabels"].items() <= pod["metadata"]["labels"].items()
    assert pod["spec"]["serviceAccountName"] == sa["metadata"]["name"], pod
    assert sa["automountServiceAccountToken"] is False, sa
    assert pod["spec"]["automountServiceAccountToken"] is False, pod


@pytest.mark.host
def test_daemonset_pod_spec():
    """hostPID, every node, not privileged: root with the README's
    capabilities (and those to drop to nobody) and no others, seccomp
    unconfined, read-only root; the node's cgroup2 and tracefs bound in;
    the metrics port in the args, the annotations, the port and the
    readiness probe; requests and limits."""
    ds = daemonset()
    pod = ds["spec"]["template"]
    spec = pod["spec"]
    c = container_of(ds)
    assert spec["hostPID"] is True, spec
    assert not spec.get("hostNetwork"), spec
    assert spec["tolerations"] == [{"operator": "Exists"}], spec
    sc = c["securityContext"]
    assert sc["privileged"] is False and sc["runAsUser"] == 0, sc
    assert sc["allowPrivilegeEscalation"] is False, sc
    assert sc["readOnlyRootFilesystem"] is True, sc
    assert sc["capabilities"]["drop"] == ["ALL"], sc
    added = {"CAP_" + x for x in sc["capabilities"]["add"]}
    assert added == readme_capabilities() | {"CAP_SETUID", "CAP_SETGID", "CAP_SETPCAP"}, added
    assert sc["seccompProfile"] == {"type": "Unconfined"}, sc
    mounts = {m["name"]: m for m in c["volumeMounts"]}
    hostpaths = {v["name"]: v["hostPath"]["path"] for v in spec["volumes"]}
    assert hostpaths == {"cgroup": "/sys/fs/cgroup", "tracefs": "/sys/kernel/tracing"}, hostpaths
    assert mounts["cgroup"]["mountPath"] == "/sys/fs/cgroup" and mounts["cgroup"]["readOnly"]
    assert mounts["tracefs"]["mountPath"] == "/sys/kernel/tracing", mounts
    assert c["image"] == "localhost/tcpconnlog:latest", c	# what make image tags
    args = c["args"]
    assert args[0] == "-j", args
    port = metrics_port(args)
    assert port == 9476, args
    ann = pod["metadata"]["annotations"]
    assert ann == {"prometheus.io/scrape": "true", "prometheus.io/port": str(port),
                   "prometheus.io/path": "/metrics"}, ann
    assert c["ports"] == [{"name": "metrics", "containerPort": port, "protocol": "TCP"}], c
    probe = c["readinessProbe"]["httpGet"]
    assert probe == {"path": "/ready", "port": "metrics"}, probe
    for kind in ("requests", "limits"):
        assert set(c["resources"][kind]) == {"cpu", "memory"}, c["resources"]


@pytest.mark.host
def test_daemonset_args_pass_the_tool():
    """The args as the tool takes them: --check parses them all (a bad
    one exits 2) and says the backend attaches."""
    args = container_of(daemonset())["args"]
    r = tcltest.run_tool(*args, "--check")
    assert r.returncode == 0, r
    assert tcltest.expected_backend() + ": ok" in r.stdout.splitlines(), r
    # the control: a flag it does not know fails the same check
    bad = tcltest.run_tool(*args, "--no-such-flag", "--check")
    assert bad.returncode == 2, bad


# --- the pod template played by podman ----------------------------------------

INFRA = "localhost/tcl-e2e-kube-infra:1"


def infra_image(podman, tmp):
    """A pod's infra container: busybox sleeping (podman's own pause image
    needs catatonit, which Debian's podman leaves out)."""
    rootfs = os.path.join(tmp, "infra")
    os.makedirs(os.path.join(rootfs, "bin"))
    tcltest.run(["cp", podman_busybox(), os.path.join(rootfs, "bin", "busybox")])
    for cmd in ("sh", "sleep"):
        os.symlink("busybox", os.path.join(rootfs, "bin", cmd))
    with open(os.path.join(rootfs, "pause"), "w") as f:
        # PID 1 gets no default signal action: SIGTERM must be trapped, or
        # every pod stop waits for its SIGKILL
        f.write("#!/bin/sh\ntrap 'exit 0' TERM INT\nsleep 2147483647 &\nwait $!\n")
    os.chmod(os.path.join(rootfs, "pause"), 0o755)
    tar = os.path.join(tmp, "infra.tar")
    tcltest.run(["tar", "-C", rootfs, "-cf", tar, "."])
    tclimage.podman_cmd(podman, "import", "-q", "--change", 'CMD=["/pause"]', tar, INFRA)


def podman_busybox():
    path = shutil.which("busybox")
    assert path, "busybox-static is not installed (scripts/install-deps test)"
    return path


def pod_of(ds, name, image, port):
    """The DaemonSet's pod template as a Pod podman 4.3 plays: the image
    the test built, a free metrics port (tests run side by side), and
    seccomp as the alpha annotation (the only form podman 4.3 reads)."""
    tmpl = copy.deepcopy(ds["spec"]["template"])
    c = tmpl["spec"]["containers"][0]
    c["image"] = image
    i = c["args"].index("--metrics")
    c["args"][i + 1] = "0.0.0.0:%d" % port
    c["ports"][0]["containerPort"] = port
    ann = tmpl["metadata"]["annotations"]
    ann["prometheus.io/port"] = str(port)
    assert c["securityContext"]["seccompProfile"] == {"type": "Unconfined"}
    ann["container.seccomp.security.alpha.kubernetes.io/" + c["name"]] = "unconfined"
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "labels": tmpl["metadata"]["labels"],
                         "annotations": ann},
            "spec": tmpl["spec"]}


def http_get(port, path):
    """(status, body) of GET http://127.0.0.1:PORT/PATH, or (None, why)."""
    try:
        with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=2) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()
    except OSError as e:
        return None, str(e)


@pytest.mark.podman
@pytest.mark.host
def test_pod_template_plays_and_traces(podman, agent, tmp_path):
    """podman kube play of the template: the pod runs, becomes ready,
    serves metrics, traces a host process's connects (every field) and
    ends with status 0 when the pod is stopped."""
    image = tclimage.build(podman)
    infra_image(podman, str(tmp_path))
    port = tcltest.free_port()
    name = "tcl-e2e-kube-%d-%d" % (os.getpid(), port)
    ctr = name + "-tcpconnlog"
    pod = pod_of(daemonset(), name, image["ref"], port)
    path = tmp_path / "pod.yaml"
    path.write_text(yaml.safe_dump(pod))
    conf = tmp_path / "containers.conf"
    # what `podman run` gets as flags elsewhere (runc, this host's ulimits)
    conf.write_text('[containers]\ndefault_ulimits = ["nofile=1024:1024", "nproc=1024:1024"]\n'
                    '[engine]\nruntime = "runc"\ninfra_image = "%s"\n' % INFRA)
    env = dict(os.environ, CONTAINERS_CONF=str(conf))
    listener = tcltest.Listener()
    t_spawn = time.time()
    try:
        tclimage.podman_cmd(podman, "kube", "play", str(path), env=env)
        info = tclimage.inspect(podman, "container", ctr)
        assert info["Config"]["User"] == "0", info["Config"]
        assert info["HostConfig"]["ReadonlyRootfs"] is True, info["HostConfig"]
        assert "no-new-privileges" in info["HostConfig"]["SecurityOpt"], info["HostConfig"]
        status = {}

        def ready():
            status["ready"] = http_get(port, "/ready")
            return status["ready"][0] == 200
        tcltest.wait_until(ready, 30, "/ready to answer 200 (last: %s)\n%s" % (
            status.get("ready"), logs(podman, ctr)))
        stderr = logs(podman, ctr)[1]
        backend = tclimage.ready_backend(stderr)
        assert backend == tcltest.expected_backend(), stderr
        cli = agent(comm=COMM, uid=65534)
        ok = cli.connect(4, "127.0.0.1", listener.port)
        bad = cli.connect(4, "127.0.0.1", tcltest.free_port())
        code, body = http_get(port, "/metrics")
        assert code == 200 and "tcpconnlog_build_info{" in body, (code, body)
        assert 'tcpconnlog_backend_info{backend="%s"} 1' % backend in body, body
        t_stop = time.time()
        tclimage.podman_cmd(podman, "pod", "stop", "-t", "15", name, timeout=40)
        state = tclimage.inspect(podman, "container", ctr)["State"]
        assert state["Status"] == "exited" and state["ExitCode"] == 0, state
        stdout, stderr = logs(podman, ctr)
    finally:
        listener.close()
        tclimage.podman_cmd(podman, "pod", "rm", "-f", "-t", "0", name, check=False, env=env)
    res = tclimage.result(["podman", "kube", "play", str(path)], 0, stdout, stderr, backend,
                          t_spawn, t_stop)
    # the start record: the image's tool, and the pod's name as hostname
    # (no host network; README, Shipping the JSON)
    assert res.start["version"] == image["version"], res.start
    assert res.start["backend"] == backend, res.start
    assert res.start["hostname"] == name, res.start
    for c, result, errno in ((ok, "established", None), (bad, "refused", "ECONNREFUSED")):
        rec = tcltest.only_record(res, c, by_sport=True)
        check_record(rec, c, backend, result=result, errno=errno, saddr="127.0.0.1")
        assert rec["comm"] == COMM and rec["uid"] == 65534, rec
        assert rec["container"] is None, rec


def logs(podman, ctr):
    """(stdout, stderr) of the container, each stream apart."""
    r = tclimage.podman_cmd(podman, "logs", ctr)
    return r.stdout, r.stderr
