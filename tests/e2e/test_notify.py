# SPDX-License-Identifier: GPL-2.0-only
"""systemd readiness (NOTIFY_SOCKET): the test plays systemd's side with a
datagram socket of its own and reads what the tracer tells it; and
systemd-analyze verify accepts contrib/tcpconnlog.service."""
import os
import re
import select
import shutil
import signal
import socket
import subprocess
import tempfile

import pytest

import tcltest

pytestmark = pytest.mark.host

NOBODY = 65534
UNIT = os.path.join(tcltest.HERE, "..", "..", "contrib", "tcpconnlog.service")
STATUS_RE = re.compile(r"^STATUS=(tracing|stopping) \((\S+) backend\): (\d+) attempts, "
                       r"(\d+) established, (\d+) failed, (\d+) lost$")


class Systemd:
    """The receiving end of NOTIFY_SOCKET: a path in a root-only directory
    (as systemd's /run/systemd/notify is), or an abstract name."""

    def __init__(self, abstract=False):
        self.dir = tempfile.mkdtemp(prefix="tcl-notify-")
        os.chmod(self.dir, 0o700)
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        if abstract:
            name = "tcl-notify-%d-%s" % (os.getpid(), os.path.basename(self.dir))
            self.sock.bind("\0" + name)
            self.address = "@" + name
        else:
            self.address = os.path.join(self.dir, "notify")
            self.sock.bind(self.address)
        self.messages = []

    def receive(self, timeout):
        """The next datagram as a list of lines, or None after timeout."""
        r, _, _ = select.select([self.sock], [], [], timeout)
        if not r:
            return None
        msg = self.sock.recv(4096).decode().split("\n")
        self.messages.append(msg)
        return msg

    def wait_for(self, key, timeout=10):
        """Datagrams up to the one with line key; that one."""
        while True:
            msg = self.receive(timeout)
            assert msg is not None, "no %s within %ss; got %s" % (key, timeout, self.messages)
            if key in msg:
                return msg

    def close(self):
        self.sock.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture(params=["path", "abstract"])
def systemd(request, monkeypatch):
    sd = Systemd(abstract=request.param == "abstract")
    monkeypatch.setenv("NOTIFY_SOCKET", sd.address)
    yield sd
    sd.close()


def status_of(msg):
    lines = [l for l in msg if l.startswith("STATUS=")]
    assert len(lines) == 1, "one STATUS= line in %s" % msg
    m = STATUS_RE.match(lines[0])
    assert m, "STATUS= line as documented: %r" % lines[0]
    return {"doing": m.group(1), "backend": m.group(2), "attempts": int(m.group(3)),
            "established": int(m.group(4)), "failed": int(m.group(5)),
            "lost": int(m.group(6))}


def held_port():
    """A port bound here and never listened on: connects to it are refused,
    and no other test on the host (they run at the same time) can listen
    there or make its counters move."""
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    return s


def connect_to(port):
    s = socket.create_connection(("127.0.0.1", port), timeout=5)
    s.close()


def test_ready_after_attach_then_status_then_stopping(systemd):
    listener = tcltest.Listener()
    holder = held_port()
    refused = holder.getsockname()[1]
    tracer = tcltest.Tracer("-P", "%d,%d" % (listener.port, refused))
    try:
        ready = systemd.wait_for("READY=1", timeout=20)
        # READY is the last step of the start: the ready line is out, the
        # privileges are gone (the root-only socket was reached before)
        pid = tracer.proc.pid
        assert tcltest.READY_RE.search(tracer.stderr_now()), tracer.stderr_now()
        with open("/proc/%d/status" % pid) as f:
            uids = [l.split()[1:] for l in f if l.startswith("Uid:")][0]
        assert uids == [str(NOBODY)] * 4, uids
        st = status_of(ready)
        assert st == {"doing": "tracing", "backend": tcltest.expected_backend(),
                      "attempts": 0, "established": 0, "failed": 0, "lost": 0}, st
        # a connect made right after READY is traced: the probes were attached
        connect_to(listener.port)
        for _ in range(2):
            with pytest.raises(ConnectionRefusedError):
                connect_to(refused)
        while True:
            msg = systemd.receive(10)
            assert msg is not None, "no STATUS= with 3 attempts; got %s" % systemd.messages
            assert "READY=1" not in msg and "STOPPING=1" not in msg, msg
            st = status_of(msg)
            if st["attempts"] == 3:
                break
            assert st["attempts"] < 3, st
        assert (st["established"], st["failed"], st["lost"]) == (1, 2, 0), st
        tracer.send_signal(signal.SIGTERM)
        stopping = systemd.wait_for("STOPPING=1")
        # STOPPING comes before the exit, with the counters as they were
        assert status_of(stopping)["doing"] == "stopping", stopping
        assert status_of(stopping)["attempts"] == 3, stopping
        res = tracer.wait_exit()
    finally:
        listener.close()
        holder.close()
    assert res.rc == 0, res
    assert len(res.connects) == 3, res
    assert sorted(r["result"] for r in res.connects) == ["established", "refused", "refused"]
    assert systemd.receive(0.2) is None, "nothing after STOPPING: %s" % systemd.messages
    assert sum("READY=1" in m for m in systemd.messages) == 1, systemd.messages
    assert "NOTIFY_SOCKET" not in res.stderr, res


def test_status_not_repeated_when_nothing_changed(systemd):
    # a port nobody connects to: the counters stay at 0
    holder = held_port()
    tracer = tcltest.Tracer("-P", holder.getsockname()[1])
    systemd.wait_for("READY=1", timeout=20)
    # STATUS= goes out when the counters change (at most once a second)
    extra = systemd.receive(2.5)
    res = tracer.stop(signal.SIGTERM)
    holder.close()
    assert extra is None, systemd.messages
    assert "STOPPING=1" in systemd.wait_for("STOPPING=1"), systemd.messages
    assert res.rc == 0, res


def test_check_sends_nothing(systemd):
    r = tcltest.run_tool("--check")
    assert r.returncode == 0, r.stderr
    assert systemd.receive(0.5) is None, systemd.messages
    assert "NOTIFY_SOCKET" not in r.stderr, r.stderr


def test_nothing_without_notify_socket(monkeypatch):
    sd = Systemd()
    try:
        monkeypatch.delenv("NOTIFY_SOCKET", raising=False)
        tracer = tcltest.start()
        assert sd.receive(0.3) is None
        res = tracer.stop(signal.SIGTERM)
        assert res.rc == 0, res
        assert sd.receive(0.2) is None, sd.messages
    finally:
        sd.close()


@pytest.mark.parametrize("value", ["/nonexistent/tcl-notify", "relative/path"])
def test_unreachable_notify_socket_is_one_warning(monkeypatch, value):
    """A socket that cannot be reached is not a reason to stop tracing:
    under systemd a missing READY=1 fails the start there, with its own
    message; elsewhere (a variable inherited by a shell) the tool runs."""
    monkeypatch.setenv("NOTIFY_SOCKET", value)
    listener = tcltest.Listener()
    try:
        tracer = tcltest.start("-P", listener.port)
        connect_to(listener.port)
        tcltest.wait_until(lambda: '"connect"' in tracer.stdout_now() or
                           tracer.proc.poll() is not None, 10, "the connect record")
        res = tracer.stop(signal.SIGTERM)
    finally:
        listener.close()
    assert res.rc == 0, res
    assert len(res.connects) == 1, res
    warnings = [l for l in res.stderr_lines() if "NOTIFY_SOCKET" in l]
    assert warnings == [l for l in res.stderr_lines() if l.startswith("tcpconnlog: warning:")]
    assert len(warnings) == 1, res
    assert warnings[0].startswith("tcpconnlog: warning: ") and value in warnings[0], warnings


def unit_setting(name):
    """The values of a setting in the unit file (space-separated)."""
    with open(UNIT) as f:
        values = [l.split("=", 1)[1].split() for l in f if l.startswith(name + "=")]
    assert len(values) == 1, "one %s= line in the unit" % name
    return values[0]


# The unit as far as it can be played without systemd as PID 1: a user of
# its own (not nobody, not root) with only the unit's capabilities, in all
# sets, no_new_privs, and /sys (tracefs, cgroups) and / read-only.
SANDBOX = """set -e
mount --make-rprivate /
mount -o remount,bind,ro /
mount --rbind /sys /sys
for m in $(awk '$5 == "/sys" || $5 ~ "^/sys/" {print $5}' /proc/self/mountinfo); do
    mount -o remount,bind,ro "$m"
done
exec setpriv --reuid=%(uid)d --regid=%(uid)d --clear-groups --no-new-privs \
    --inh-caps=-all,%(caps)s --ambient-caps=-all,%(caps)s --bounding-set=-all,%(caps)s "$@"
"""


def test_unit_capabilities_and_sandbox_suffice(monkeypatch):
    caps = unit_setting("AmbientCapabilities")
    assert caps == unit_setting("CapabilityBoundingSet"), caps
    assert caps == ["CAP_BPF", "CAP_PERFMON", "CAP_DAC_READ_SEARCH"], caps
    assert unit_setting("DynamicUser") == ["yes"]
    setpriv_caps = ",".join("+" + c[len("CAP_"):].lower() for c in caps)
    script = SANDBOX % {"uid": 61234, "caps": setpriv_caps}
    wrap = ["unshare", "--mount", "sh", "-c", script, "sandbox"]
    sd = Systemd(abstract=True)   # the process starts unprivileged: any socket it may reach
    monkeypatch.setenv("NOTIFY_SOCKET", sd.address)
    listener = tcltest.Listener()
    try:
        check = subprocess.run(wrap + [tcltest.BIN, "--check"], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT, text=True, timeout=60)
        assert check.returncode == 0, check.stdout
        assert sd.receive(0.3) is None, sd.messages
        tracer = tcltest.Tracer("-P", listener.port, wrap=wrap)
        ready = sd.wait_for("READY=1", timeout=20)
        assert status_of(ready)["attempts"] == 0, ready
        with open("/proc/%d/status" % tracer.proc.pid) as f:
            status = dict(l.split(":", 1) for l in f)
        # the same user (no CAP_SETUID to change it), no capability left
        assert status["Uid"].split() == ["61234"] * 4, status["Uid"]
        # CAP_BPF alone stays where the kernel refuses bpf() without it
        # (README, Privileges); nothing else
        for cap_set in ("CapEff", "CapPrm", "CapAmb"):
            assert int(status[cap_set], 16) in (0, 1 << 39), (cap_set, status[cap_set])
        # the bounding set is the unit's (no_new_privs: nothing regains it)
        assert int(status["CapBnd"], 16) == (1 << 39) | (1 << 38) | (1 << 2), status["CapBnd"]
        assert int(status["NoNewPrivs"]) == 1
        connect_to(listener.port)
        assert status_of(next_status(sd, 1))["established"] == 1, sd.messages
        res = tracer.stop(signal.SIGTERM)
    finally:
        listener.close()
        sd.close()
    assert res.rc == 0, res
    assert [r["result"] for r in res.connects] == ["established"], res


def next_status(sd, attempts, timeout=10):
    """The first STATUS= message with this many attempts."""
    while True:
        msg = sd.receive(timeout)
        assert msg is not None, "no STATUS= with %d attempts: %s" % (attempts, sd.messages)
        if status_of(msg)["attempts"] == attempts:
            return msg


def test_unit_file_verifies():
    """systemd-analyze verify on the unit, its binary the one built here."""
    tmp = tempfile.mkdtemp(prefix="tcl-unit-")
    try:
        with open(UNIT) as f:
            text = f.read()
        assert "/usr/local/sbin/tcpconnlog" in text
        with open(os.path.join(tmp, "tcpconnlog.service"), "w") as f:
            f.write(text.replace("/usr/local/sbin/tcpconnlog", tcltest.BIN))
        r = subprocess.run(["systemd-analyze", "verify", "--man=no",
                            os.path.join(tmp, "tcpconnlog.service")],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                           timeout=60)
        assert r.returncode == 0 and "tcpconnlog.service" not in r.stdout, r.stdout
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
