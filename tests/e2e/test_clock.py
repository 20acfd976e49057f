# SPDX-License-Identifier: GPL-2.0-only
"""Record times follow the wall clock when it is stepped while the tool
runs (NTP, settimeofday, a resume from suspend). The host's clock must not
be changed by a test: the tool's own view of CLOCK_REALTIME is moved with
an LD_PRELOAD shim (clockshift.c) instead."""
import os
import shutil
import subprocess
import tempfile
import time

import pytest

import tcltest
from tcltest import check_record

STEP = 3600


@pytest.fixture
def clockshift():
    """(wrap, set_shift): a command prefix that runs the tool with the
    shim, and a function that moves its wall clock by whole seconds."""
    # not under pytest's tmp_path: the tool reads the file after dropping
    # to nobody, and that path's parents are private to root
    d = tempfile.mkdtemp(prefix="tcpconnlog-clock-")
    os.chmod(d, 0o755)
    lib, shift = os.path.join(d, "clockshift.so"), os.path.join(d, "shift")
    subprocess.run(["cc", "-shared", "-fPIC", "-O2", "-o", lib,
                    os.path.join(tcltest.HERE, "clockshift.c"), "-ldl"], check=True)

    def set_shift(seconds):
        tmp = shift + ".tmp"
        with open(tmp, "w") as f:
            f.write("%d\n" % seconds)
        os.chmod(tmp, 0o644)
        os.replace(tmp, shift)      # never half written when read

    set_shift(0)
    yield ["env", "LD_PRELOAD=" + lib, "TCL_CLOCKSHIFT_FILE=" + shift], set_shift
    shutil.rmtree(d, ignore_errors=True)


@pytest.mark.view
def test_record_time_follows_a_stepped_wall_clock(tracer, listeners, agent, clockshift):
    wrap, set_shift = clockshift
    lst = listeners.one("127.0.0.1")
    a = agent()
    t = tracer("-p", a.pid, wrap=wrap)
    tried = [(a.connect(4, "127.0.0.1", lst.port), 0)]
    for shift in (STEP, 0):
        set_shift(shift)
        time.sleep(2.2)     # the tool reads the clocks again once a second
        tried.append((a.connect(4, "127.0.0.1", lst.port), shift))
    res = t.stop()
    assert res.rc == 0, res
    for c, shift in tried:
        check_record(tcltest.only_record(res, c, by_sport=True), c, res.backend,
                     result="established", errno=None, saddr="127.0.0.1",
                     window=(c["t0w"] + shift, c["t1w"] + shift))


@pytest.mark.view
def test_top_snapshot_time_follows_a_stepped_wall_clock(tracer, clockshift):
    """--top -j on a file: each snapshot's time is the wall clock at that
    moment, before and after a step."""
    wrap, set_shift = clockshift
    t = tracer("--top", "1", wrap=wrap)

    def times():
        return [tcltest.parse_time(r["time"]) for r in tcltest.json_lines(t.stdout_now())]
    tcltest.wait_until(lambda: times(), 10, "a first snapshot\n%s" % t.stderr_now())
    first, now = times()[0], time.time()
    assert t.t_ready - 1.1 - tcltest.CLOCK_SLACK <= first <= now + tcltest.CLOCK_SLACK, (
        first, t.t_ready, now)
    set_shift(STEP)
    t_set = time.time()
    tcltest.wait_until(lambda: times()[-1] > t_set + STEP / 2, 10,
                       "a snapshot an hour ahead\n%s" % t.stdout_now())
    last, now = times()[-1], time.time()
    assert t_set + STEP - tcltest.CLOCK_SLACK <= last <= now + STEP + tcltest.CLOCK_SLACK, (
        last - STEP, t_set, now)
    assert t.stop().rc == 0
