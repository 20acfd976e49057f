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
import subprocess

import pytest

import tclcgroup
import tcltest

# A client named CLIENT_COMM: connects to 127.0.0.1:PORT (argv[1]), or,
# with "self", to a listener of its own (in a network namespace of its own
# nothing else listens); prints its pid, source port and namespaces' inodes.
CLIENT_COMM = "tclcgclient"
CLIENT_CODE = r"""
import ctypes, os, socket, sys
ctypes.CDLL(None).prctl(15, b"%s", 0, 0, 0)
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
""" % CLIENT_COMM


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
    top = cgroups.make()
    nested = cgroups.make(top, "inner b")
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
    assert rec["cgroup_id"] == tclcgroup.id_of("self"), rec
    # new namespaces: their inodes, not the test's
    rec = record_of(res, c_ns[0], c_ns[1])
    assert rec["dport"] == c_ns[2], rec
    assert rec["netns"] == c_ns[3] and rec["netns"] != own_ns("net"), rec
    assert rec["mntns"] == c_ns[4] and rec["mntns"] != own_ns("mnt"), rec
    assert rec["cgroup_id"] == top.id and rec["cgroup"] == top.path, rec
    assert rec["container"] is None, rec


def traced_clients(cg, *args, n=1, json_mode=True):
    """n clients in cgroup cg traced with args: (the run, the clients)."""
    listener = tcltest.Listener()
    t = tcltest.start(*args, json_mode=json_mode)
    try:
        cs = [client(listener.port, cg) for _ in range(n)]
    finally:
        res = t.stop()
        listener.close()
    assert res.rc == 0, res
    return res, cs


@pytest.mark.view
def test_cgroup_with_records_held_for_rdns(cgroups):
    """-r holds records for their names (their process may be gone when
    they are printed): the cgroup is still theirs."""
    cg = cgroups.make()
    res, (c,) = traced_clients(cg, "-r")
    rec = record_of(res, c[0], c[1])
    assert "rdns" in rec, rec
    assert rec["cgroup_id"] == cg.id and rec["cgroup"] == cg.path, rec


@pytest.mark.view
def test_text_container_column_dash_outside_containers(cgroups):
    """-C: a CONTAINER column, '-' for a process in no container."""
    res, (c,) = traced_clients(cgroups.make(), "-C", json_mode=False)
    lines = res.stdout.splitlines()
    assert lines[0].split()[-1] == "CONTAINER", lines[0]
    mine = [l for l in lines[1:] if l.split()[0] == str(c[0])]
    assert len(mine) == 1, res
    assert mine[0].split()[-1] == "-", mine


@pytest.mark.view
def test_by_container_summary_outside_containers(cgroups):
    """--by container: one summary row for processes in no container."""
    res, _ = traced_clients(cgroups.make(), "--by", "container", "-n", CLIENT_COMM,
                            n=3)
    lines = res.stderr.splitlines()
    head = [i for i, l in enumerate(lines) if l.split()[:2] == ["CONTAINER", "ATTEMPTS"]]
    assert len(head) == 1, res
    row = lines[head[0] + 1].split()
    assert row[0] == "-" and int(row[1]) == 3 and int(row[2]) == 3, res


@pytest.mark.view
def test_summary_failures_by_result_and_errno(cgroups):
    """The summary's failures: refused ones and a call that failed
    (ENETUNREACH: no route, in a network namespace with only lo), each
    with the count and the command that had them."""
    code = ("import ctypes, socket\n"
            "ctypes.CDLL(None).prctl(15, b'tclfail', 0, 0, 0)\n"
            "for _ in range(3):\n"
            "    socket.socket().connect_ex(('127.0.0.1', 9))\n"
            "socket.socket().connect_ex(('10.255.255.1', 80))\n")
    t = tcltest.start("-n", "tclfail")
    try:
        r = subprocess.run(["unshare", "--net", "--", "sh", "-c",
                            'ip link set lo up && exec "$0" -c "$1"', tcltest.PYTHON, code],
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                           timeout=30)
    finally:
        res = t.stop()
    assert r.returncode == 0, r.stderr
    assert res.rc == 0, res
    results = sorted((c["result"], c["errno"]) for c in res.connects)
    lines = res.stderr.splitlines()
    head = lines.index("Failures by result:")
    assert lines[head + 1].split() == ["RESULT", "COUNT", "COMMANDS"], res
    rows = []
    for line in lines[head + 2:]:
        if not line.strip():
            break
        rows.append(line.split(None, 2))
    want = {}
    for result, err in results:
        if result != "established":
            label = result + (":" + err if result == "error" else "")
            want[label] = want.get(label, 0) + 1
    assert [r[:2] for r in rows] == [["refused", "3"], ["error:ENETUNREACH", "1"]], res
    assert {r[0]: int(r[1]) for r in rows} == want, res
    for r in rows:
        assert r[2] == "tclfail %s" % r[1], res


# --- podman ---------------------------------------------------------------

def traced_container(podman, *args, json_mode=True):
    """A container's connect traced with args: (the run, the id, the port).
    The container stays a second after it (its cgroup outlives the
    record)."""
    listener = tcltest.Listener(keep=False)
    t = tcltest.start("-P", listener.port, *args, json_mode=json_mode)
    try:
        cid = podman.run("nc 127.0.0.1 %d </dev/null; sleep 1" % listener.port)
    finally:
        res = t.stop()
        listener.close()
    assert res.rc == 0, res
    return res, cid, listener.port


@pytest.mark.podman
def test_podman_container_json_and_summary(podman):
    """The record of a connect made in a podman container has the id
    podman inspect gives, in its cgroup path; --by container lists it."""
    res, cid, port = traced_container(podman, "--by", "container")
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
def test_podman_count_by_container(podman):
    """-c --by container: the container's attempts in a row of their own."""
    res, cid, port = traced_container(podman, "-c", "--by", "container")
    rows = [r for r in res.records if r.get("event") == "count" and r["dport"] == port]
    assert len(rows) == 1, res
    assert rows[0]["container"] == cid and rows[0]["connects"] == 1, res


@pytest.mark.podman
def test_podman_container_text_column(podman):
    """-C shows the container's first 12 characters."""
    res, cid, _ = traced_container(podman, "-C", json_mode=False)
    lines = [l for l in res.stdout.splitlines()[1:] if l.strip()]
    assert len(lines) == 1, res
    assert lines[0].split()[-1] == cid[:12], lines
