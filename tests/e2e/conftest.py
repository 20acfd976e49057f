# SPDX-License-Identifier: GPL-2.0-only
"""Fixtures of the tcpconnlog end-to-end tests.

Environment:
  TCPCONNLOG_BIN      the binary (default ../../build/tcpconnlog from here)
  TCPCONNLOG_BACKEND  passed as -b to every run (default auto)
  TCPCONNLOG_EXPECT_AUTO  the backend auto must pick (default: what this
                      kernel allows, probed independently of the tool)
  TCL_SOAK_SECONDS    length of the soak test (test_soak.py, default 30);
                      setting it also selects that test
"""
import os
import re
import shutil
import time

import pytest

import tclcgroup
import tcltest


def soak_requested(config):
    """The soak test runs only when asked for: a -m expression that names
    it (`-m soak`, as make soak does) or TCL_SOAK_SECONDS. Other -m
    expressions, such as the VM stage's, do not name it and leave it out."""
    markexpr = config.getoption("markexpr") or ""
    return bool(re.search(r"\bsoak\b", markexpr) or os.environ.get("TCL_SOAK_SECONDS"))


def pytest_collection_modifyitems(config, items):
    # the VM stage leaves out tests marked podman, and only those
    unmarked = [item.nodeid for item in items if "podman" in getattr(item, "fixturenames", ())
                and not item.get_closest_marker("podman")]
    if unmarked:
        raise pytest.UsageError("mark these tests podman, as they use it: %s"
                                % " ".join(unmarked))
    if soak_requested(config):
        return
    soak = [item for item in items if item.get_closest_marker("soak")]
    if soak:
        config.hook.pytest_deselected(items=soak)
        items[:] = [item for item in items if item not in soak]


@pytest.fixture(scope="session", autouse=True)
def _session():
    assert os.access(tcltest.BIN, os.X_OK), (
        "no tcpconnlog binary at %s: build it (make) or set TCPCONNLOG_BIN" % tcltest.BIN)
    assert os.geteuid() == 0, "the end-to-end tests load BPF programs: run them as root"
    tcltest.sweep_stale_namespaces()
    yield
    tcltest.end_all()
    tcltest.stop_spawner()


@pytest.fixture(autouse=True)
def _end_processes():
    """Whatever a test started (tools, agents) ends with it, even on failure."""
    yield
    tcltest.end_all()


@pytest.fixture
def tracer():
    """start(*args, json_mode=True): tcpconnlog -b BACKEND [-j] ARGS, ready."""
    started = []

    def start(*args, **kw):
        t = tcltest.start(*args, **kw)
        started.append(t)
        return t

    yield start
    for t in started:
        tcltest._end(t.proc)


class Net:
    """Network namespaces of one test, removed when it ends."""

    def __init__(self):
        self.namespaces = []
        self.agents = []

    def pair(self):
        return tcltest.NetPair(self.namespaces)

    def bare(self):
        """A fresh namespace with only lo, up: no route anywhere else."""
        ns = tcltest.NetNS("b")
        self.namespaces.append(ns)
        return ns

    def agent(self, netns=None, comm=None, uid=None, wrap=()):
        a = tcltest.AgentProc(netns=netns, comm=comm, uid=uid, wrap=wrap)
        self.agents.append(a)
        return a

    def cleanup(self):
        for a in self.agents:
            a.close()
        for ns in self.namespaces:
            ns.delete()


@pytest.fixture
def net():
    n = Net()
    try:
        yield n
    finally:
        tcltest.end_all()
        n.cleanup()


@pytest.fixture
def cgroups():
    """cgroups.make(parent=None, name=None), cgroups.move(pid, cg): cgroup
    v2 directories (tclcgroup.Cgroups), removed when the test ends."""
    cg = tclcgroup.Cgroups()
    try:
        yield cg
    finally:
        tcltest.end_all()
        cg.cleanup()


@pytest.fixture(scope="session")
def podman():
    """tclcgroup.Podman, for tests marked podman (the host suite only)."""
    assert shutil.which("podman") and shutil.which("runc"), \
        "podman and runc are needed (scripts/install-deps test)"
    p = tclcgroup.Podman()
    try:
        yield p
    finally:
        p.close()


@pytest.fixture
def agent(net):
    """agent(netns=None, comm=None, uid=None, wrap=()): a client child process
    (wrap: a command that execs it, such as unshare -m)."""
    return net.agent


@pytest.fixture
def listeners():
    """Listening sockets in the test process, closed when the test ends."""
    made = []

    class Factory:
        def one(self, host="127.0.0.1", port=0):
            l = tcltest.Listener(host, port)
            made.append(l)
            return l

        def pair(self, port=0):
            v4, v6 = tcltest.listener_pair(port)
            made.extend([v4, v6])
            return v4, v6

    yield Factory()
    for l in made:
        l.close()


@pytest.fixture
def clients():
    """A list for client infos whose sockets are closed when the test ends."""
    lst = []
    yield lst
    tcltest.close_all(lst)


class LiveTracer:
    """One tracer, no filters, shared by the tests of a module: each test
    makes its attempts and waits for their records to appear on stdout
    while the tool runs (which also proves records are flushed promptly).
    """

    def __init__(self):
        self.t = tcltest.start()
        # not ended between tests, as the processes of one test are
        tcltest.LIVE.remove(self.t.proc)

    def records(self):
        # only whole lines: the tool may be halfway through writing one
        return tcltest.json_lines(self.t.stdout_now())

    def await_records(self, client, n=1, by_sport=False, timeout=15, settle=0.3, since=None):
        """Wait for n records of the client's attempt (or of its thread's
        attempts to that destination since `since`, see records_of); then
        wait `settle` seconds more so that a duplicate would be seen too."""
        tcltest.wait_until(
            lambda: len(tcltest.records_of(self.records(), client, by_sport, since)) >= n,
            timeout, "the record of %s -> [%s]:%s on stdout\nstderr:\n%s"
            % (client["mode"], client["host"], client["port"], self.t.stderr_now()))
        time.sleep(settle)
        recs = tcltest.records_of(self.records(), client, by_sport, since)
        assert len(recs) == n, "expected %d record(s) for the attempt, got %d: %s" % (
            n, len(recs), recs)
        return recs

    def await_one(self, client, by_sport=False, **kw):
        return self.await_records(client, 1, by_sport, **kw)[0]

    @property
    def backend(self):
        return self.t.backend

    def stop(self):
        return self.t.stop()


@pytest.fixture(scope="module")
def live():
    lt = LiveTracer()
    try:
        yield lt
    finally:
        res = lt.stop()
        assert res.rc == 0, "the shared tracer did not exit cleanly\n%s" % res


@pytest.fixture(scope="module")
def pair():
    """Client and peer namespaces (see tcltest.NetPair), shared by a module."""
    namespaces = []
    try:
        yield tcltest.NetPair(namespaces)
    finally:
        for ns in namespaces:
            ns.delete()
