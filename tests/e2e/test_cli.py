# SPDX-License-Identifier: GPL-2.0-only
"""Bad input, missing privileges and probe selection: one line saying
what is wrong, exit status 2 for usage errors and 1 for runtime ones."""
import os
import re
import signal
import subprocess
import time

import pytest

import tcltest

# arguments, and what the one line must name
BAD_USAGE = [
    (["-P", "0"], ["--port", "'0'"]),
    (["-P", "70000"], ["--port", "'70000'"]),
    (["-P", "90-80"], ["--port", "'90-80'"]),
    (["-p", "abc"], ["PID", "'abc'"]),
    (["-u", "no-such-user-here"], ["UID", "'no-such-user-here'"]),
    (["-b", "ebpf"], ["backend", "'ebpf'"]),
    (["--ringbuf-size", "1000"], ["--ringbuf-size", "1000"]),
    (["--duration", "soon"], ["duration", "'soon'"]),
    (["-D", "soon"], ["-D ports", "'soon'"]),
    (["--max-events", "-1"], ["--max-events", "-1"]),
    (["--bogus"], ["bogus"]),
    (["-i", "-c"], ["-c"]),
    (["unexpected"], ["'unexpected'"]),
    # bcc's and libbpf-tools' flags that mean something else here
    (["-l", "-L", "22"], ["-L", "-A -P PORTS"]),
    (["-C", "/sys/fs/bpf/cgroup_set"], ["-C", "--cgroupmap MAP"]),
    (["-c", "-s"], ["-s", "-j", "-c"]),
    (["100"], ["'100'", "--duration 100"]),
]


@pytest.mark.parametrize("args,names", BAD_USAGE, ids=[" ".join(a) for a, _ in BAD_USAGE])
def test_bad_usage_is_one_line_and_status_2(args, names):
    r = tcltest.run_tool(*args)
    assert r.returncode == 2, r
    assert r.stdout == "", r
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and lines[0].startswith("tcpconnlog: "), r.stderr
    for name in names:
        assert name in lines[0], (name, r.stderr)


# long options wrong in form: the exact line, naming the option as typed
OPTION_ERRORS = [
    (["--json=1"], "option '--json' takes no value"),
    (["--lifecycle=yes"], "option '--lifecycle' takes no value"),
    (["--js=1"], "option '--js' (--json) takes no value"),
    (["--t"], "option '--t' is ambiguous: --timestamp, --time, --top"),
    (["--bogus=1"], "unknown option '--bogus=1'"),
]


@pytest.mark.parametrize("args,line", OPTION_ERRORS, ids=[" ".join(a) for a, _ in OPTION_ERRORS])
def test_option_error_names_the_option_as_typed(args, line):
    r = tcltest.run_tool(*args)
    assert (r.returncode, r.stdout) == (2, ""), r
    assert r.stderr == "tcpconnlog: %s (see tcpconnlog --help)\n" % line, r.stderr


def test_help_documents_every_flag():
    r = tcltest.run_tool("-h")
    assert r.returncode == 0 and r.stderr == ""
    for flag in ["--backend", "--check", "--pid", "--uid", "--port", "--comm", "--ipv4",
                 "--ipv6", "--failed", "--json", "--timestamp", "--time", "--print-uid",
                 "--lport", "--immediate", "--count", "--no-summary", "--duration",
                 "--max-events", "--ringbuf-size", "--dns", "--dns-table", "--verbose",
                 "--version", "--help"]:
        assert flag in r.stdout, flag
    assert "Examples:" in r.stdout


@pytest.mark.kernel_once
def test_version():
    # the first line; test_version.py checks the rest (libbpf, backends)
    r = tcltest.run_tool("-V")
    assert r.returncode == 0 and r.stderr == "", r
    assert re.fullmatch(r"tcpconnlog \d+(\.\d+)+(\+git\.\d+\.[0-9a-f]{12})?(-dirty)?",
                        r.stdout.splitlines()[0]), r


def test_unprivileged_user_is_told_what_is_missing():
    r = subprocess.run(["setpriv", "--reuid", "65534", "--regid", "65534", "--clear-groups",
                        tcltest.BIN, "-b", tcltest.BACKEND], stdin=subprocess.DEVNULL,
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 1, r
    lines = r.stderr.splitlines()
    assert len(lines) == 1 and "CAP_BPF" in lines[0] and "root" in lines[0], r.stderr


def _backend_works(backend):
    """Whether this kernel runs the backend, probed independently of the tool."""
    if backend == "kprobe":
        return tcltest.kprobes_supported()
    if backend == "fentry":
        return tcltest.fentry_probe()[0]
    return True


CHECK_LINE_RE = re.compile(r"^(fentry|kprobe|tracepoint): (ok|(open|load|attach|mount "
                           r"tracefs for) failed: .+)$")


@pytest.mark.kernel_once
@pytest.mark.parametrize("backend", ["fentry", "kprobe", "tracepoint"])
def test_check_attaches_like_a_run(backend):
    """--check is a pre-start check: it loads, attaches and detaches, so a
    backend the kernel loads but cannot attach (kprobe without
    CONFIG_KPROBES) fails it with the step that failed; and it leaves no
    return probe of ours in kprobe_events."""
    r = tcltest.run_tool("--check", "-b", backend)
    lines = r.stdout.splitlines()
    assert len(lines) == 1 and CHECK_LINE_RE.match(lines[0]), r
    if _backend_works(backend):
        assert r.returncode == 0 and lines == ["%s: ok" % backend], r
    elif backend == "kprobe":
        assert r.returncode == 1, r
        assert lines[0].startswith("kprobe: attach failed: "), r
        assert "CONFIG_KPROBES" in lines[0], r
    else:
        err = tcltest.fentry_probe()[1]
        assert r.returncode == 1, r
        assert lines[0].startswith("fentry: load failed: %s" % os.strerror(err)), r
    assert _our_kprobe_events() == [], "--check left return probes behind"


@pytest.mark.kernel_once
@pytest.mark.parametrize("backend", ["auto", "fentry", "kprobe", "tracepoint"])
def test_check_status_is_whether_a_run_starts(backend):
    """The answer --check gives is the answer a run gets."""
    check = tcltest.run_tool("--check", "-b", backend)
    run = tcltest.run_tool("-b", backend, "--duration", "1", "--no-summary")
    assert check.returncode in (0, 1) and run.returncode in (0, 1), (check, run)
    assert check.returncode == run.returncode, (check, run)
    assert (run.returncode == 0) == ("Ctrl-C to stop" in run.stderr), run


@pytest.mark.kernel_once
def test_check_auto_reports_each_backend():
    """auto is usable when any candidate is: the status of a run of auto."""
    r = tcltest.run_tool("--check")
    assert r.returncode == 0, r
    lines = r.stdout.splitlines()
    assert all(CHECK_LINE_RE.match(l) for l in lines), r
    assert [l.split(":")[0] for l in lines] == ["fentry", "kprobe", "tracepoint"], r
    for line in lines:
        name = line.split(":")[0]
        assert line.endswith(": ok") == _backend_works(name), (name, r)


@pytest.mark.kernel_once
def test_auto_picks_the_best_backend(tracer):
    """fentry where the kernel allows it, else kprobe, else tracepoint; -v
    says which."""
    t = tracer("-v", backend="auto")
    res = t.stop()
    want = tcltest.expected_backend("auto")
    assert res.backend == want
    assert "tcpconnlog: using the %s backend" % want in res.stderr_lines(), res


@pytest.mark.kernel_once
@pytest.mark.parametrize("backend", ["kprobe", "fentry"])
def test_forced_backend_that_cannot_attach_is_an_error(backend):
    """No silent fallback: where the kernel refuses the backend, exit 1 with
    one line naming it; where it works, it runs."""
    works = (tcltest.kprobes_supported() if backend == "kprobe"
             else tcltest.fentry_probe()[0])
    if works:
        r = tcltest.run_tool("-b", backend, "--duration", "1", "--no-summary")
        assert r.returncode == 0, r
        assert "(%s backend)" % backend in r.stderr, r
    else:
        r = tcltest.run_tool("-b", backend, "--duration", "1")
        assert r.returncode == 1, r
        lines = r.stderr.splitlines()
        assert len(lines) == 1 and ("backend %s" % backend) in lines[0], r.stderr


def _our_kprobe_events():
    """Lines of kprobe_events made by tcpconnlog processes ([] where the
    kernel has no such file, as without kprobes)."""
    for root in ("/sys/kernel/tracing", "/sys/kernel/debug/tracing"):
        path = os.path.join(root, "kprobe_events")
        if os.path.exists(path):
            with open(path) as f:
                return [l.strip() for l in f if ":tcpconnlog_" in l]
    return []


def _children(pid):
    """{pid: comm} of a process's children."""
    out = {}
    try:
        with open("/proc/%d/task/%d/children" % (pid, pid)) as f:
            kids = [int(p) for p in f.read().split()]
    except FileNotFoundError:
        return out
    for kid in kids:
        try:
            with open("/proc/%d/comm" % kid) as f:
                out[kid] = f.read().strip()
        except FileNotFoundError:
            pass
    return out


def _check_return_probes(left, pid):
    want = {"tcp_v4_connect", "tcp_v6_connect"}
    seen = set()
    for line in left:
        m = re.fullmatch(r"r(\d+):tcpconnlog_(\d+)/(\w+) (\w+)", line)
        assert m and int(m.group(1)) >= 256 and int(m.group(2)) == pid, line
        # the event named after the function and the pid: unique, as
        # kprobe_profile (which counts misses) names only the event on 5.10
        assert m.group(3) == "%s_%d" % (m.group(4), pid), line
        seen.add(m.group(4))
    assert seen == want, left


def test_return_probes_have_room_and_do_not_outlive_the_tool(tracer):
    """The kprobe backend makes its return probes in tracefs with room for
    many calls at once (r<N>, N >= 256) under a group named after its pid.
    They are no BPF link, so a helper process waits for the tracer's end
    and removes them even after kill -9; a clean exit removes them itself;
    and if the helper was killed too, the next start removes what is left.
    The other backends make neither probes nor helper."""
    killed = tracer()
    left = _our_kprobe_events()
    helpers = _children(killed.proc.pid)
    if killed.backend != "kprobe":
        assert left == [] and helpers == {}, (left, helpers)
        assert tracer().stop().rc == 0
        return
    _check_return_probes(left, killed.proc.pid)
    assert list(helpers.values()) == ["tcpconnlog-reap"], helpers
    killed.send_signal(signal.SIGKILL)
    killed.proc.wait(10)
    tcltest.wait_until(lambda: _our_kprobe_events() == [], 10,
                       "the helper to remove the killed tracer's probes")
    tcltest.wait_until(lambda: not any(os.path.exists("/proc/%d" % h) for h in helpers), 10,
                       "the helper to exit")

    # tracer and helper both killed: the probes stay until the next start
    both = tracer()
    left = _our_kprobe_events()
    _check_return_probes(left, both.proc.pid)
    for h in _children(both.proc.pid):
        os.kill(h, signal.SIGKILL)
    both.send_signal(signal.SIGKILL)
    both.proc.wait(10)
    time.sleep(0.5)
    assert _our_kprobe_events() == left, "nothing of ours was left to remove them"
    second = tracer()
    assert all(("tcpconnlog_%d/" % both.proc.pid) not in l for l in _our_kprobe_events())
    res = second.stop()
    assert res.rc == 0, res
    assert _our_kprobe_events() == [], "probes left after a clean exit"
