# SPDX-License-Identifier: GPL-2.0-only
"""The filters on where a process runs: --cgroup (a cgroup v2 directory and
those below it), --container, --netns, and bcc's --cgroupmap and --mntnsmap
(pinned maps the test makes with bpftool). Clients are put where the test
wants them (cgroup directories it makes, a network namespace, a mount
namespace of their own, podman containers); each wanted attempt must be
printed once with every field right, where it ran included, and nothing
else at all."""
import json
import os
import random
import socket
import struct
import time

import pytest

import tclcgroup
import tcltest

BPFFS = "/sys/fs/bpf"
_serial = iter(range(1, 1 << 30))


def ns_inode(pid, kind):
    return os.stat("/proc/%s/ns/%s" % (pid, kind)).st_ino


HOST_NETNS = ns_inode("self", "net")
HOST_MNTNS = ns_inode("self", "mnt")


class PinnedSets:
    """bcc-style pinned hash maps keyed by u64, made and filled with
    bpftool as bcc's docs show; unpinned at the end."""

    def __init__(self):
        self.paths = []

    def make(self, value_size=8, kind="hash", key_size=8):
        path = os.path.join(BPFFS, "tcl-e2e-%d-%d" % (os.getpid(), next(_serial)))
        tcltest.run(["bpftool", "map", "create", path, "type", kind, "key", str(key_size),
                     "value", str(value_size), "entries", "128", "name", "tcle2eset"])
        self.paths.append(path)
        return path

    @staticmethod
    def add(path, key, value_size=8):
        tcltest.run(["bpftool", "map", "update", "pinned", path,
                     "key"] + ["%d" % b for b in struct.pack("<Q", key)]
                    + ["value"] + ["1"] + ["0"] * (value_size - 1))

    def cleanup(self):
        for p in self.paths:
            try:
                os.unlink(p)
            except FileNotFoundError:
                pass


@pytest.fixture
def pinned():
    ps = PinnedSets()
    try:
        yield ps
    finally:
        ps.cleanup()


def refused(agent_proc, port):
    c = agent_proc.connect(4, "127.0.0.1", port)
    assert c["errno"] == "ECONNREFUSED", c
    return c


def check_place(rec, *, cgroup_id, netns=HOST_NETNS, mntns=HOST_MNTNS):
    """Where the record says the process ran, against where the test put it."""
    want = {"cgroup_id": cgroup_id, "netns": netns, "mntns": mntns}
    got = {k: rec.get(k) for k in want}
    assert got == want, "record of %s: %s, expected %s\n%s" % (
        rec.get("event"), got, want, json.dumps(rec))


def check_wanted(res, attempts, **place):
    """Each attempt printed once and right (tcltest.check_attempts), and
    its record says where it ran."""
    tcltest.check_attempts(res, attempts, result="refused", errno="ECONNREFUSED",
                           saddr="127.0.0.1")
    for c in attempts:
        for rec in tcltest.records_of(res.records, c, by_sport=True):
            check_place(rec, **place)


def check_absent(res, attempts):
    for c in attempts:
        assert not tcltest.records_of(res.records, c, by_sport=True), (
            "filtered-out attempt printed: %s\n%s" % (tcltest.public(c), res))


def check_only(res, attempts):
    """Nothing printed but the attempts wanted (and the skipped-run
    allowance of check_attempts)."""
    wanted = {(c["pid"], c["sport"]) for c in attempts}
    others = [r for r in res.connects if (r["pid"], r["sport"]) not in wanted]
    assert not others, "records of processes the filter leaves out:\n%s\n%s" % (
        "\n".join(map(json.dumps, others)), res)


def only_one_traced(tracer, args, wanted, others, **place):
    """The tool started with args; wanted and each of others connect
    (refused): only wanted's attempt is printed, and it ran at place."""
    port = tcltest.free_port()
    t = tracer(*args)
    mine = refused(wanted, port)
    theirs = [refused(o, port) for o in others]
    res = t.stop()
    assert res.rc == 0, res
    check_wanted(res, [mine], **place)
    check_absent(res, theirs)
    check_only(res, [mine])


# the two forms differ in user space only: the second runs with the view tests
@pytest.mark.parametrize("form", ["cgroup-path", pytest.param("file-path", marks=pytest.mark.view)])
def test_cgroup_directory_and_below(tracer, cgroups, agent, form):
    """--cgroup: a process in the directory and one in a directory below it
    are traced, one outside is not."""
    top = cgroups.make()
    child = cgroups.make(top)
    inside, below, outside = agent(), agent(), agent()
    cgroups.move(inside.pid, top)
    cgroups.move(below.pid, child)
    port = tcltest.free_port()
    t = tracer("--cgroup", top.path if form == "cgroup-path" else top.dir)
    mine = refused(inside, port)
    deeper = refused(below, port)
    theirs = refused(outside, port)
    res = t.stop()
    assert res.rc == 0, res
    check_wanted(res, [mine], cgroup_id=top.id)
    check_wanted(res, [deeper], cgroup_id=child.id)
    check_absent(res, [theirs])
    check_only(res, [mine, deeper])


def test_cgroup_filters_accepts_and_their_closes(tracer, cgroups, agent):
    """-A -l --cgroup: the accept (and close) of a listener in the cgroup
    are traced; those of a listener outside are not, nor a connection
    nobody accepted, whose process is unknown."""
    d = cgroups.make()
    server_in, server_out = agent(), agent()
    cgroups.move(server_in.pid, d)
    port_in = server_in.call("listen", host="127.0.0.1", port=0)["port"]
    port_out = server_out.call("listen", host="127.0.0.1", port=0)["port"]
    t = tracer("-A", "-l", "--cgroup", d.path)
    c_in = tcltest.connect(4, "127.0.0.1", port_in)
    c_out = tcltest.connect(4, "127.0.0.1", port_out)
    assert c_in["errno"] is None and c_out["errno"] is None, (c_in, c_out)
    # established and queued, never taken by accept(2): closed unaccepted
    raw = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    raw.bind(("127.0.0.1", 0))
    raw.listen(4)
    c_queued = tcltest.connect(4, "127.0.0.1", raw.getsockname()[1])
    assert c_queued["errno"] is None, c_queued

    def accept_of(c):
        return [r for r in t_records() if r.get("event") == "accept"
                and r.get("dport") == c["sport"]]

    def t_records():
        return tcltest.json_lines(t.stdout_now())
    tcltest.wait_until(lambda: accept_of(c_in), 15, "the accept record in the cgroup")
    for c in (c_in, c_out, c_queued):
        c["_sock"].close()
    raw.close()
    # the servers keep what they accepted until they exit
    server_ids = (server_in.pid, server_in.uid, server_in.comm)
    server_tasks = os.listdir("/proc/%d/task" % server_in.pid)
    server_in.close()
    server_out.close()
    tcltest.wait_until(lambda: [r for r in t_records() if r.get("event") == "close"
                                and r.get("sport") == port_in], 15,
                       "the close record of the accepted connection")
    time.sleep(0.3)     # anything else would have come by now
    res = t.stop()
    assert res.rc == 0, res
    events = [(r["event"], r["sport"], r["dport"]) for r in res.records]
    assert sorted(events) == sorted([("accept", port_in, c_in["sport"]),
                                     ("close", port_in, c_in["sport"])]), res
    acc = [r for r in res.records if r["event"] == "accept"][0]
    close = [r for r in res.records if r["event"] == "close"][0]
    for rec in (acc, close):
        assert (rec["pid"], rec["uid"], rec["comm"]) == server_ids, json.dumps(rec)
        assert str(rec["tid"]) in server_tasks, json.dumps(rec)
        assert (rec["saddr"], rec["daddr"]) == ("127.0.0.1", "127.0.0.1"), json.dumps(rec)
        check_place(rec, cgroup_id=d.id)
    assert close["id"] == acc["id"] and close["direction"] == "in", json.dumps(close)


# the two forms differ in user space only: the second runs with the view tests
@pytest.mark.parametrize("form", ["path", pytest.param("inode", marks=pytest.mark.view)])
def test_netns(tracer, net, agent, form):
    """--netns: a client in the test's namespace is traced, one in the
    host's is not (both connect to 127.0.0.1, refused)."""
    ns = net.bare()
    there, here = agent(netns=ns), agent()
    ino = os.stat("/run/netns/" + ns.name).st_ino
    assert ns_inode(there.pid, "net") == ino != HOST_NETNS
    only_one_traced(tracer, ["--netns", "/run/netns/" + ns.name if form == "path" else ino],
                    there, [here], cgroup_id=tclcgroup.id_of(there.pid), netns=ino)


def test_cgroupmap(tracer, cgroups, agent, pinned):
    """--cgroupmap: bcc's recipe, a pinned hash of cgroup ids. Exactly the
    ids in it (not the directories below them); ids added while the
    tool runs count from then on."""
    d = cgroups.make()
    child = cgroups.make(d)
    listed, below, outside = agent(), agent(), agent()
    cgroups.move(listed.pid, d)
    cgroups.move(below.pid, child)
    cgset = pinned.make(value_size=8)
    pinned.add(cgset, d.id)
    port = tcltest.free_port()
    t = tracer("--cgroupmap", cgset)
    mine = [refused(listed, port)]
    theirs = [refused(below, port), refused(outside, port)]
    pinned.add(cgset, child.id)
    later = [refused(below, port)]
    theirs.append(refused(outside, port))
    res = t.stop()
    assert res.rc == 0, res
    check_wanted(res, mine, cgroup_id=d.id)
    check_wanted(res, later, cgroup_id=child.id)
    check_absent(res, theirs)
    check_only(res, mine + later)


def test_mntnsmap(tracer, agent, pinned):
    """--mntnsmap: bcc's recipe, a pinned hash of mount namespace inodes
    (u32 values, as bcc makes it). A client in a mount namespace of its
    own (unshare -m) is traced, one in the host's is not."""
    alone, host = agent(wrap=["unshare", "-m"]), agent()
    mnt = ns_inode(alone.pid, "mnt")
    assert mnt != HOST_MNTNS and ns_inode(host.pid, "mnt") == HOST_MNTNS
    mntset = pinned.make(value_size=4)
    pinned.add(mntset, mnt, value_size=4)
    only_one_traced(tracer, ["--mntnsmap", mntset], alone, [host],
                    cgroup_id=tclcgroup.id_of(alone.pid), mntns=mnt)


def test_filters_combine(tracer, cgroups, net, agent, pinned):
    """The place filters AND each other and the process filters."""
    ns = net.bare()
    d = cgroups.make()
    # every filter fits both and twin, but -p only both; one place misses
    # for each of the others
    both, twin = agent(netns=ns), agent(netns=ns)
    cg_only, ns_only = agent(), agent(netns=ns)
    for a in (both, twin, cg_only):
        cgroups.move(a.pid, d)
    ino = os.stat("/run/netns/" + ns.name).st_ino
    cgset = pinned.make()
    pinned.add(cgset, d.id)
    only_one_traced(tracer, ["--cgroup", d.dir, "--netns", ino, "--cgroupmap", cgset,
                             "-p", both.pid],
                    both, [twin, cg_only, ns_only], cgroup_id=d.id, netns=ino)


# --- containers -------------------------------------------------------------

def fake_id(prefix):
    return prefix + "".join(random.choice("0123456789abcdef") for _ in range(64 - len(prefix)))


@pytest.mark.view
def test_container_by_cgroup_name(tracer, cgroups, agent):
    """--container: cgroups named as Podman's cgroupfs driver names them,
    two ids sharing their first 10 digits. A unique prefix selects one;
    the shared one is ambiguous, and both are listed; a prefix of no
    running container is an error too."""
    shared = fake_id("7c1e")[:10]
    ids = [fake_id(shared), fake_id(shared)]
    while ids[0][10] == ids[1][10]:
        ids[1] = fake_id(shared)
    parent = cgroups.make()
    dirs = [cgroups.make(parent, "libpod-" + i) for i in ids]
    a, b, outside = agent(), agent(), agent()
    cgroups.move(a.pid, dirs[0])
    cgroups.move(b.pid, dirs[1])
    only_one_traced(tracer, ["--container", ids[0][:12]], a, [b, outside],
                    cgroup_id=dirs[0].id)

    r = tcltest.run_tool("--container", shared)
    assert r.returncode == 2 and r.stdout == "", r
    assert r.stderr.startswith("tcpconnlog: container id '%s' is ambiguous: " % shared), r
    assert r.stderr.endswith(" start with it: give more of the id\n"), r
    assert sorted(r.stderr.split(": ")[2].split(" start")[0].split(", ")) == sorted(ids), r
    # a container whose processes are gone is not running
    a.close()
    r = tcltest.run_tool("--container", ids[0][:12])
    assert (r.returncode, r.stdout) == (2, ""), r
    assert r.stderr == ("tcpconnlog: no running container's id starts with '%s' (looked in "
                        "the cgroups under %s)\n" % (ids[0][:12], cgroups.mount)), r


@pytest.mark.podman
def test_container_podman(tracer, podman, listeners, agent):
    """--container with a real runtime: of two podman containers (host
    network, each waiting for a go file before connecting to a listener
    of the test), only the one named is traced, and its record is its
    process's, in its cgroup."""
    lst = [listeners.one("127.0.0.1") for _ in range(2)]
    script = "while [ ! -e /go ]; do sleep 0.05; done; exec nc 127.0.0.1 %d </dev/null"
    (cid, pid), (other, _) = (podman.start(script % l.port) for l in lst)
    # read while it runs: nc ends once connected (stdin empty)
    cg_dir, mntns = tclcgroup.dir_of(pid), ns_inode(pid, "mnt")
    assert os.path.basename(cg_dir) == "libpod-" + cid, (cid, cg_dir)
    host = agent()
    t = tracer("--container", cid[:12])
    t0w = time.time()
    for c in (cid, other):
        podman.podman("exec", c, "touch", "/go")
    tcltest.wait_until(lambda: all(l.conns for l in lst), 15, "both containers' connects")
    t1w = time.time()
    theirs = host.connect(4, "127.0.0.1", lst[0].port)
    res = t.stop()
    assert res.rc == 0, res
    sport = lst[0].conns[0].getpeername()[1]
    client = {"pid": pid, "tid": pid, "uid": 0, "comm": "nc", "fam": 4, "mode": "block",
              "host": "127.0.0.1", "port": lst[0].port, "sport": sport, "t0w": t0w,
              "t1w": t1w, "wall_us": (t1w - t0w) * 1e6}
    tcltest.check_attempts(res, [client], result="established", errno=None,
                           saddr="127.0.0.1")
    for rec in tcltest.records_of(res.records, client):
        check_place(rec, cgroup_id=os.stat(cg_dir).st_ino, mntns=mntns)
        assert rec["container"] == cid, json.dumps(rec)
    check_absent(res, [theirs])
    assert [r for r in res.connects if r["dport"] == lst[1].port] == [], res
    check_only(res, [client])


# --- errors -----------------------------------------------------------------

@pytest.mark.view
def test_errors_of_what_the_filters_name(pinned):
    """One line and exit 2 when what an option names is missing or unfit;
    nothing on stdout, nothing loaded."""
    root = tclcgroup.cgroup2_mount()[0]
    wrong_key = pinned.make(kind="hash", key_size=4)
    array = pinned.make(kind="array", key_size=4)
    missing = os.path.join(BPFFS, "tcl-e2e-missing-%d" % os.getpid())
    cases = [
        (["--cgroup", "/tcl-e2e-no-such"],
         "no cgroup v2 directory '/tcl-e2e-no-such' (nor %s/tcl-e2e-no-such): give one "
         "under %s, or a path relative to it" % (root, root)),
        (["--container", "7c1effffff"],
         "no running container's id starts with '7c1effffff' (looked in the cgroups "
         "under %s)" % root),
        (["--netns", "/etc/hostname"],
         "--netns '/etc/hostname' is not a network namespace: give /proc/PID/ns/net, "
         "/run/netns/NAME or an inode number"),
        (["--netns", "/run/netns/tcl-e2e-no-such"],
         "cannot open --netns '/run/netns/tcl-e2e-no-such': No such file or directory"),
        (["--cgroupmap", missing],
         "no pinned BPF map at '%s' (--cgroupmap): No such file or directory; pin one "
         "first, e.g. bpftool map create %s type hash key 8 value 8 entries 128 name "
         "cgroupmap" % (missing, missing)),
        (["--mntnsmap", "/etc/hostname"],
         "'/etc/hostname' (--mntnsmap) is not a pinned BPF map: give the path of one, "
         "as under /sys/fs/bpf"),
        (["--cgroupmap", wrong_key],
         "the pinned map '%s' (--cgroupmap) has type hash and 4-byte keys: it must be a "
         "hash map keyed by 8-byte cgroup ids" % wrong_key),
        (["--mntnsmap", array],
         "the pinned map '%s' (--mntnsmap) has type array and 4-byte keys: it must be a "
         "hash map keyed by 8-byte mount namespace inodes" % array),
    ]
    for args, line in cases:
        r = tcltest.run_tool(*args)
        assert (r.returncode, r.stdout, r.stderr) == (2, "", "tcpconnlog: %s\n" % line), (
            args, r)
