# SPDX-License-Identifier: GPL-2.0-only
"""--metrics: the Prometheus endpoint, scraped by Debian's real prometheus
and read back through its query API: known numbers of connects of each
result, a filter applied, labels with their bound and overflow series,
hostile command names; promtool's lint on a scrape; /ready before and
after the probes are attached; bad and taken addresses; the static
binary's server. Host only: user-space plumbing the VM stage's records
already cover on every kernel."""
import json
import os
import shutil
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

import pytest

import tcltest
from tcltest import spec
from test_names import NAMES

pytestmark = pytest.mark.host

PROMETHEUS = shutil.which("prometheus")
PROMTOOL = shutil.which("promtool")
STATIC = os.path.join(tcltest.HERE, "..", "..", "build", "tcpconnlog-static")
RESULTS = ("established", "refused", "timeout", "unreachable", "closed", "error")


def http_get(url, timeout=5):
    """(status, body text) of a GET, error statuses included."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode("utf-8"), r.headers.get("Content-Type")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode("utf-8"), e.headers.get("Content-Type")


def samples(text):
    """{'name{labels}': value} of an exposition, comments left out."""
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            key, value = line.rsplit(" ", 1)
            out[key] = float(value)
    return out


class Prometheus:
    """Debian's prometheus scraping one target every second."""

    def __init__(self, target):
        self.dir = tempfile.mkdtemp(prefix="tcpconnlog-prom-")
        self.port = tcltest.free_port()
        cfg = os.path.join(self.dir, "prometheus.yml")
        with open(cfg, "w") as f:
            f.write("global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n"
                    "scrape_configs:\n  - job_name: tcpconnlog\n    static_configs:\n"
                    "      - targets: ['%s']\n" % target)
        self.log = open(os.path.join(self.dir, "log"), "w+")
        self.proc = subprocess.Popen(
            [PROMETHEUS, "--config.file", cfg, "--storage.tsdb.path",
             os.path.join(self.dir, "data"), "--web.listen-address",
             "127.0.0.1:%d" % self.port, "--log.level", "warn"],
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        tcltest.LIVE.append(self.proc)
        tcltest.wait_until(self._ready, 30, "prometheus ready\n%s" % self.log_text(), step=0.1)

    def log_text(self):
        self.log.seek(0)
        return self.log.read()

    def _ready(self):
        assert self.proc.poll() is None, "prometheus exited:\n%s" % self.log_text()
        try:
            return http_get("http://127.0.0.1:%d/-/ready" % self.port, 1)[0] == 200
        except OSError:
            return False

    def query(self, expr):
        """The instant vector of expr as [(labels without __name__, value)]."""
        url = "http://127.0.0.1:%d/api/v1/query?%s" % (
            self.port, urllib.parse.urlencode({"query": expr}))
        status, body, _ = http_get(url)
        reply = json.loads(body)
        assert status == 200 and reply["status"] == "success", body
        return [({k: v for k, v in r["metric"].items() if k not in ("__name__", "job", "instance")},
                 float(r["value"][1])) for r in reply["data"]["result"]]

    def target_error(self):
        reply = json.loads(http_get("http://127.0.0.1:%d/api/v1/targets" % self.port)[1])
        return [(t["health"], t["lastError"]) for t in reply["data"]["activeTargets"]]

    def wait_for(self, expr, want, timeout=20):
        """Poll until query(expr), as {frozenset(labels): value}, is want."""
        got = None
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            got = {frozenset(l.items()): v for l, v in self.query(expr)}
            if got == want:
                return
            time.sleep(0.2)
        raise AssertionError("%s: got %s, want %s\ntargets: %s"
                             % (expr, got, want, self.target_error()))

    def close(self):
        tcltest._end(self.proc)
        self.log.close()
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def prometheus():
    assert PROMETHEUS and PROMTOOL, "prometheus and promtool are needed (scripts/install-deps test)"
    made = []

    def start(target):
        p = Prometheus(target)
        made.append(p)
        return p

    yield start
    for p in made:
        p.close()


def by_labels(**want):
    return frozenset(want.items())


def test_counts_by_result_through_prometheus(tracer, prometheus, pair, net, agent, listeners):
    """Known numbers of each result, by agents with one command name; the
    test's own connects (another name) are filtered out with -n."""
    comm = "tclmet%d" % (os.getpid() % 100000)
    port = tcltest.free_port()
    t = tracer("-n", comm, "--metrics", port)
    prom = prometheus("127.0.0.1:%d" % port)
    lst = listeners.one()
    local, remote = agent(comm=comm), agent(netns=pair.client, comm=comm)
    for _ in range(3):
        assert local.connect(4, "127.0.0.1", lst.port)["errno"] is None
    closed = tcltest.free_port()
    for _ in range(2):
        assert local.connect(4, "127.0.0.1", closed)["errno"] == "ECONNREFUSED"
    both = remote.concurrent([spec(4, pair.addr(4), pair.drop_port),
                              spec(4, pair.addr(4), pair.reject_port)])
    assert sorted(c["errno"] for c in both) == ["EHOSTUNREACH", "ETIMEDOUT"], both
    # closed before the handshake ended, and failed in the call (no route)
    c = remote.connect(4, pair.addr(4), pair.drop_port, mode="nonblock", then="close")
    assert c["call_errno"] == "EINPROGRESS", c
    c = agent(netns=net.bare(), comm=comm).connect(4, "10.201.0.9", 80)
    assert c["call_errno"] == "ENETUNREACH", c
    # the filter: these are not the agents' name
    for _ in range(4):
        tcltest.connect(4, "127.0.0.1", lst.port)["_sock"].close()

    want = {"established": 3, "refused": 2, "timeout": 1, "unreachable": 1,
            "closed": 1, "error": 1}
    prom.wait_for("tcpconnlog_connect_attempts_total",
                  {by_labels(result=r): float(n) for r, n in want.items()})
    prom.wait_for("tcpconnlog_connect_latency_seconds_count", {by_labels(): 3.0})
    prom.wait_for('tcpconnlog_connect_latency_seconds_bucket{le="+Inf"}',
                  {by_labels(le="+Inf"): 3.0})
    prom.wait_for("tcpconnlog_backend_info", {by_labels(backend=t.backend): 1.0})
    prom.wait_for("tcpconnlog_lost_events_total", {by_labels(): 0.0})
    # the records say the same
    res = t.stop()
    assert res.rc == 0, res
    got = {r: sum(1 for c in res.connects if c["result"] == r) for r in RESULTS}
    assert got == want, res


def test_labels_bound_and_hostile_names_through_prometheus(tracer, prometheus, listeners):
    """One process renames itself before each connect (test_names.py's
    client): comm labels as JSON decodes the names, the first ten label
    sets kept, the last two names counted in the overflow series."""
    listener = listeners.one()
    names = [n for n, _, _ in NAMES]
    proc = subprocess.Popen([tcltest.PYTHON, "-S", os.path.join(tcltest.HERE, "test_names.py"),
                             "client", str(listener.port)] + [n.hex() for n in names],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
    tcltest.LIVE.append(proc)
    port = tcltest.free_port()
    t = tracer("-p", proc.pid, "--metrics", port, "--metrics-labels", "comm,dport",
               "--metrics-max-series", 10)
    prom = prometheus("127.0.0.1:%d" % port)
    proc.stdin.write("go\n")
    proc.stdin.flush()
    json.loads(proc.stdout.readline())
    proc.wait(10)

    kept = [json.loads(literal) for _, _, literal in NAMES[:10]]
    # an empty label value is no label at all to Prometheus
    want = {frozenset(({"comm": c} if c else {}).items()) |
            by_labels(dport=str(listener.port), result="established"): 1.0 for c in kept}
    want[by_labels(overflow="true", result="established")] = 2.0
    prom.wait_for("tcpconnlog_connect_attempts_total", want)
    prom.wait_for("tcpconnlog_metrics_series_dropped_total", {by_labels(): 2.0})
    prom.wait_for("tcpconnlog_metrics_series", {by_labels(): 10.0})
    # the scrape is healthy: Prometheus took every hostile label value
    assert prom.target_error() == [("up", "")]
    res = t.stop()
    assert res.rc == 0 and [c["comm"] for c in res.connects] == \
        [json.loads(literal) for _, _, literal in NAMES], res


# A client and a server in one process: 1000 bytes one way, 300 back,
# both ends closed; started before the tool (-p), it waits for a line
EXCHANGE = """
import socket, sys
sys.stdin.readline()
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(1)
c = socket.create_connection(srv.getsockname()); a, _ = srv.accept()
c.sendall(b"x" * 1000)
n = 0
while n < 1000:
    n += len(a.recv(4096))
a.sendall(b"y" * 300)
n = 0
while n < 300:
    n += len(c.recv(4096))
c.close(); a.close(); srv.close()
print("done", flush=True)
"""


def test_promtool_and_lifecycle_counters(tracer):
    """-l -A: accepts, closes and bytes equal the records' own; promtool's
    lint finds nothing in the scrape; the content type is 0.0.4's."""
    proc = subprocess.Popen([tcltest.PYTHON, "-S", "-c", EXCHANGE], stdin=subprocess.PIPE,
                            stdout=subprocess.PIPE, text=True)
    tcltest.LIVE.append(proc)
    port = tcltest.free_port()
    t = tracer("-l", "-A", "-p", proc.pid, "--metrics", "127.0.0.1:%d" % port)
    proc.stdin.write("go\n")
    proc.stdin.flush()
    assert proc.stdout.readline() == "done\n"
    proc.wait(10)

    def closes():
        return samples(http_get("http://127.0.0.1:%d/metrics" % port)[1]).get(
            "tcpconnlog_closes_total", 0)

    tcltest.wait_until(lambda: closes() == 2, 10, "two closes counted")
    status, text, ctype = http_get("http://127.0.0.1:%d/metrics" % port)
    assert status == 200 and ctype == "text/plain; version=0.0.4; charset=utf-8", ctype
    lint = subprocess.run([PROMTOOL, "check", "metrics"], input=text, text=True,
                          stdout=subprocess.PIPE, stderr=subprocess.STDOUT, timeout=30)
    assert lint.returncode == 0 and not lint.stdout.strip(), lint.stdout + text
    s = samples(text)
    res = t.stop()
    assert res.rc == 0, res
    ours = [r for r in res.records if r.get("event") in ("accept", "close")]
    recs = [r for r in ours if r["event"] == "close"]
    assert len(recs) == 2 and sum(r["event"] == "accept" for r in ours) == 1, res
    assert s["tcpconnlog_accepts_total"] == 1
    assert s["tcpconnlog_sent_bytes_total"] == sum(r["bytes_sent"] for r in recs) == 1300
    assert s["tcpconnlog_received_bytes_total"] == sum(r["bytes_received"] for r in recs) == 1300
    assert s["tcpconnlog_untracked_connections_total"] == 0
    assert s['tcpconnlog_connect_attempts_total{result="established"}'] == 1


# Connects to each port given, once; started before the tool (-p), it
# waits for a line
CONNECTS = """
import socket, sys
sys.stdin.readline()
for port in sys.argv[1:]:
    try:
        socket.create_connection(("127.0.0.1", int(port))).close()
    except ConnectionRefusedError:
        pass
print("done", flush=True)
"""


@pytest.mark.parametrize("mode", [["-c"], ["--top", "1"], ["-j", "-o", "FILE"], []],
                         ids=["count", "top", "json-file", "text"])
def test_every_output_mode_counts(mode, tracer, listeners, tmp_path):
    """--metrics counts where the summary does, whatever is printed."""
    lst = listeners.one()
    refused = tcltest.free_port()
    proc = subprocess.Popen([tcltest.PYTHON, "-S", "-c", CONNECTS, str(lst.port), str(lst.port),
                             str(refused)], stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            text=True)
    tcltest.LIVE.append(proc)
    port = tcltest.free_port()
    args = [str(tmp_path / "out.json") if a == "FILE" else a for a in mode]
    t = tracer(*args, "-p", proc.pid, "--metrics", port, json_mode=False)
    proc.stdin.write("go\n")
    proc.stdin.flush()
    assert proc.stdout.readline() == "done\n"

    def counted():
        s = samples(http_get("http://127.0.0.1:%d/metrics" % port)[1])
        return (s['tcpconnlog_connect_attempts_total{result="established"}'],
                s['tcpconnlog_connect_attempts_total{result="refused"}'])

    tcltest.wait_until(lambda: counted() == (2, 1), 10, "2 established and 1 refused counted")
    res = t.stop()
    assert res.rc == 0, res


def test_ready_before_and_after_attach(tmp_path):
    """-o onto a FIFO holds the tool after binding and attaching, before it
    traces (the open waits for a reader): /ready says 503 then, 200 once
    the reader came. Other paths 404, other methods 405."""
    fifo = str(tmp_path / "out")
    os.mkfifo(fifo)
    port = tcltest.free_port()
    # -n: no record of this busy host's connects is written to a FIFO
    # nobody reads (a full one would hold the tool at exit)
    proc = subprocess.Popen([tcltest.BIN, "-b", tcltest.BACKEND, "-j", "-o", fifo,
                             "-n", "tclmet-nobody", "--metrics", str(port)],
                            stdin=subprocess.DEVNULL,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    tcltest.LIVE.append(proc)
    base = "http://127.0.0.1:%d" % port

    def answers():
        try:
            return http_get(base + "/ready", 1)[0]
        except OSError:
            return None

    tcltest.wait_until(lambda: answers() is not None, 20, "the server")
    assert http_get(base + "/ready")[:2] == (503, "not ready: the probes are not attached yet\n")
    early = samples(http_get(base + "/metrics")[1])
    assert early['tcpconnlog_connect_attempts_total{result="established"}'] == 0
    assert http_get(base + "/nope")[0] == 404
    req = urllib.request.Request(base + "/metrics", data=b"x", method="POST")
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(req, timeout=5)
    assert e.value.code == 405
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        tcltest.wait_until(lambda: answers() == 200, 20, "/ready 200")
        assert http_get(base + "/ready")[1] == "ready\n"
        assert proc.poll() is None
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=15)
        os.close(reader)
    assert proc.returncode == 0, err


@pytest.mark.parametrize("how", ["taken", "not local"])
def test_bad_or_taken_address_stops_the_start(how, listeners):
    if how == "taken":
        lst = listeners.one()
        addr, say = "127.0.0.1:%d" % lst.port, "Address already in use"
    else:
        addr, say = "192.0.2.1:9476", "Cannot assign requested address"
    res = tcltest.run_tool("-b", tcltest.BACKEND, "--metrics", addr, "--duration", "5")
    lines = res.stderr.splitlines()
    assert res.returncode == 1 and lines == [
        "tcpconnlog: --metrics %s: cannot listen there: %s" % (addr, say)], res
    assert not res.stdout


def mapped_files(pid):
    with open("/proc/%d/maps" % pid) as f:
        return {os.path.basename(line.split()[-1]) for line in f if "/" in line}


def test_http_library_loaded_only_for_metrics(tracer):
    """The dynamic binary maps libmicrohttpd and GnuTLS only when --metrics
    asks for the server, not at every start."""
    t = tracer()
    plain = mapped_files(t.proc.pid)
    assert t.stop().rc == 0
    assert "libc.so.6" in plain, plain   # the control: maps are read right
    assert not {f for f in plain if f.startswith(("libmicrohttpd", "libgnutls"))}, plain
    t = tracer("--metrics", str(tcltest.free_port()))
    served = mapped_files(t.proc.pid)
    assert t.stop().rc == 0
    assert any(f.startswith("libmicrohttpd.so.12") for f in served), served
    assert any(f.startswith("libgnutls") for f in served), served


def test_http_library_that_cannot_load_stops_the_start(tmp_path):
    """libmicrohttpd unusable (here: its file emptied, in a mount namespace
    of the run's own): one line naming it and the package, exit 1."""
    lib = subprocess.run(["/sbin/ldconfig", "-p"], stdout=subprocess.PIPE, text=True,
                         check=True).stdout
    path = [l.split(" => ")[1] for l in lib.splitlines() if "libmicrohttpd.so.12 " in l][0]
    empty = tmp_path / "empty"
    empty.write_bytes(b"")
    res = subprocess.run(["unshare", "-m", "sh", "-c", 'mount --bind "$1" "$2" && shift 2 && exec "$@"',
                          "sh", str(empty), os.path.realpath(path), tcltest.BIN, "-b", tcltest.BACKEND,
                          "--metrics", str(tcltest.free_port()), "--duration", "5"],
                         stdin=subprocess.DEVNULL, capture_output=True, text=True, timeout=30)
    lines = res.stderr.splitlines()
    assert res.returncode == 1 and len(lines) == 1, res
    assert lines[0].startswith("tcpconnlog: --metrics needs libmicrohttpd.so.12 "
                               "(Debian: libmicrohttpd12): "), res
    assert not res.stdout, res


@pytest.mark.parametrize("args,say", [
    (["--metrics", ":9476"], "names no address: give 127.0.0.1:9476"),
    (["--metrics", "localhost:9476"], "not a name"),
    (["--metrics", "127.0.0.1:0"], "1 to 65535"),
    (["--metrics", "::1:9476"], "brackets"),
    (["--metrics", "9476", "--metrics-labels", "comm,pid"], "unknown label 'pid'"),
    (["--metrics", "9476", "--metrics-max-series", "0"], "1 to 1000000"),
    (["--metrics-labels", "comm"], "give --metrics too"),
])
def test_usage_errors(args, say):
    res = tcltest.run_tool(*args)
    lines = res.stderr.splitlines()
    assert res.returncode == 2 and len(lines) == 1 and say in lines[0], res


def test_ipv6_loopback_and_static_binary(tracer):
    """[::1]:PORT serves over IPv6; the static binary (make static, the
    container image's) serves as the dynamic one does."""
    port = tcltest.free_port("::1")
    tracer("--metrics", "[::1]:%d" % port)
    status, text, _ = http_get("http://[::1]:%d/metrics" % port)
    assert status == 200 and 'tcpconnlog_connect_attempts_total{result="refused"}' in text

    assert os.path.isfile(STATIC), "%s is missing: build it with make static" % STATIC
    port = tcltest.free_port()
    proc = subprocess.Popen([STATIC, "-b", tcltest.BACKEND, "--metrics", str(port)],
                            stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                            stderr=subprocess.PIPE)
    tcltest.LIVE.append(proc)

    def ready():
        try:
            return http_get("http://127.0.0.1:%d/ready" % port, 1)[0] == 200
        except OSError:
            return False

    tcltest.wait_until(ready, 20, "the static binary's /ready")
    s = samples(http_get("http://127.0.0.1:%d/metrics" % port)[1])
    version, libbpf = versions(STATIC)
    assert [k for k in s if k.startswith("tcpconnlog_build_info")] == [
        'tcpconnlog_build_info{version="%s",libbpf="%s"}' % (version, libbpf)]
    proc.terminate()
    _, err = proc.communicate(timeout=15)
    assert proc.returncode == 0, err


def versions(binary):
    """The tool's version and the libbpf it runs with, as --version says."""
    out = subprocess.run([binary, "--version"], stdout=subprocess.PIPE, text=True,
                         timeout=30, check=True).stdout.splitlines()
    libbpf = [l for l in out if l.startswith("libbpf ")]
    assert out[0].startswith("tcpconnlog ") and libbpf, out
    return out[0].split()[1], libbpf[0].split(", ")[1].split()[0]
