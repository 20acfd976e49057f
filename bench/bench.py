#!/usr/bin/env python3
# SPDX-License-Identifier: GPL-2.0-only
"""tcpconnlog's benchmarks, each against a baseline or a peer measured in
the same run: overhead on a connect storm, loss at full rate and with the
reader stopped, user-space throughput and instructions per record,
start-up and exit time, memory. Prints one table and writes it as JSON
(build/bench/results.json). See bench/README.md.

  bench/bench.py [--reps N] [--connections N] [--quick] [--only NAME,...]
                 [--before BINARY]

--before runs every tcpconnlog configuration a second time with another
build of the tool (e.g. one from the commit before a change), in the same
rounds: the before and after of a change, measured side by side.

--vm-part runs the peers that need kprobes (tcpconnlog -b kprobe and -b
fentry, libbpf-tools' tcpconnect) inside a stock kernel under QEMU and
prints its results as one JSON line: bench.py starts it with
tests/vm/vmtest.py when --vm KERNEL is given.
"""
import argparse
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BUILD = os.path.join(REPO, "build")
TOOL = os.path.join(BUILD, "tcpconnlog")
LOADGEN = os.path.join(BUILD, "bench", "loadgen")
CONSUME = os.path.join(BUILD, "bench", "consume")
FLOOR = os.path.join(BUILD, "bench", "floor")
RESULTS = os.path.join(BUILD, "bench", "results.json")
LOAD_COMM = "tcl-loadgen"
READY_RE = re.compile(r"^Tracing TCP connects \((\w+) backend\)")
VM_MARK = "BENCH-VM-RESULT "

# The bpftrace peer: the same hook, the same fields (pid and comm as the
# attempt starts, addresses, ports, result, latency), one line each.
BPFTRACE_PROG = r"""
tracepoint:sock:inet_sock_set_state
/args->protocol == 6 && args->newstate == 2 && args->oldstate == 7/
{
  @start[args->skaddr] = nsecs; @pid[args->skaddr] = pid; @comm[args->skaddr] = comm;
}
tracepoint:sock:inet_sock_set_state
/args->protocol == 6 && args->oldstate == 2 && @start[args->skaddr]/
{
  $lat = (nsecs - @start[args->skaddr]) / 1000;
  if (args->family == 2) {
    printf("%d %s 4 %s %d %s %d %d %d\n", @pid[args->skaddr], @comm[args->skaddr],
           ntop(2, args->saddr), args->sport, ntop(2, args->daddr), args->dport,
           args->newstate, $lat);
  } else {
    printf("%d %s 6 %s %d %s %d %d %d\n", @pid[args->skaddr], @comm[args->skaddr],
           ntop(10, args->saddr_v6), args->sport, ntop(10, args->daddr_v6), args->dport,
           args->newstate, $lat);
  }
  delete(@start[args->skaddr]); delete(@pid[args->skaddr]); delete(@comm[args->skaddr]);
}
"""


def log(msg):
    print("bench: " + msg, file=sys.stderr, flush=True)


# --- a tracer in the background ---------------------------------------------------

class Tracer:
    """A tracing process, started and waited on until it says it is ready
    (tcpconnlog's "Tracing TCP connects" line; bpftrace's "Attaching N
    probes"; tcpconnect's header)."""

    def __init__(self, argv, ready, stdout_path=os.devnull, ready_on="stderr"):
        self.argv = argv
        self.err = tempfile.TemporaryFile()
        self.out = open(stdout_path, "wb")
        self.t0 = time.monotonic()
        if ready_on == "attached":
            self._start_until_attached()
            return
        self.proc = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=self.out
                                     if ready_on == "stderr" else subprocess.PIPE,
                                     stderr=subprocess.PIPE if ready_on == "stderr"
                                     else self.err)
        stream = self.proc.stderr if ready_on == "stderr" else self.proc.stdout
        self.first_lines = []
        while True:
            line = stream.readline()
            if not line:
                raise RuntimeError("%s exited before it was ready: %s" % (
                    argv[0], b"".join(self.first_lines).decode(errors="replace")))
            self.first_lines.append(line)
            if ready.search(line.decode(errors="replace")):
                break
        self.ready_s = time.monotonic() - self.t0
        # the rest of the stream goes on being drained into a file
        self.rest = tempfile.TemporaryFile()
        self.drain = subprocess.Popen(["cat"], stdin=stream, stdout=self.rest
                                      if ready_on == "stderr" else self.out)
        stream.close()

    def _start_until_attached(self, timeout=60, settled=0.3):
        """For a tool whose ready line sits in its stdout buffer (output
        to a pipe is not line-buffered, and forcing that would cost it a
        write per record): ready at its last new BPF link or perf event,
        once none came for `settled` seconds."""
        self.proc = subprocess.Popen(self.argv, stdin=subprocess.DEVNULL, stdout=self.out,
                                     stderr=self.err)
        self.first_lines, self.rest, self.drain = [], tempfile.TemporaryFile(), None
        deadline = time.monotonic() + timeout
        count, changed = 0, None
        while not (count and time.monotonic() - changed >= settled):
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("%s did not attach" % self.argv[0])
            n = self._attachments()
            if n != count:
                count, changed = n, time.monotonic()
            time.sleep(0.002)
        self.ready_s = changed - self.t0

    def _attachments(self):
        fds = "/proc/%d/fd" % self.proc.pid
        try:
            links = [os.readlink(os.path.join(fds, f)) for f in os.listdir(fds)]
        except OSError:
            return 0
        return sum(l in ("anon_inode:bpf_link", "anon_inode:[perf_event]") for l in links)

    def pid(self):
        return self.proc.pid

    def peak_rss_kib(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            m = re.search(r"^VmHWM:\s+(\d+) kB", f.read(), re.M)
        return int(m.group(1))

    def stop(self, sig=signal.SIGINT, timeout=30):
        t = time.monotonic()
        self.proc.send_signal(sig)
        self.proc.wait(timeout)
        self.exit_s = time.monotonic() - t
        if self.drain:
            self.drain.wait(timeout)
        self.out.close()
        self.rest.seek(0)
        self.err.seek(0)
        text = b"".join(self.first_lines) + self.rest.read() + self.err.read()
        return self.proc.returncode, text.decode(errors="replace")


def summary_count(stderr, label):
    """A count from tcpconnlog's exit summary ("Lost events: N", "Probe
    runs skipped by the kernel: N"); 0 when the line is absent (printed
    only when not 0, and never by the peers)."""
    m = re.search(r"^%s: (\d+)$" % re.escape(label), stderr, re.M)
    return int(m.group(1)) if m else 0


def load(connections, threads=2, extra=()):
    out = subprocess.run([LOADGEN, "-n", str(connections), "-t", str(threads), *extra],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, check=False)
    if out.returncode != 0:
        raise RuntimeError("loadgen failed (%d): %s" % (out.returncode, out.stderr))
    return json.loads(out.stdout)


# --- 1. overhead on a connect storm ------------------------------------------------

def host_configs(bpftrace, before=None):
    cfgs = [
        ("baseline", None),
        ("tcpconnlog -j", [TOOL, "-j"]),
        # -d adds two cgroup_skb programs that see every packet of the storm
        ("tcpconnlog -d -j", [TOOL, "-d", "-j"]),
        # JSON resolves cgroup paths and containers always; -C asks it of text too
        ("tcpconnlog -j -C", [TOOL, "-j", "-C"]),
        ("tcpconnlog -j, filter matching nothing", [TOOL, "-j", "-n", "no-such-comm"]),
        ("tcpconnlog -l -j", [TOOL, "-l", "-j"]),
    ]
    if before:
        cfgs += [("before: " + name, [before] + argv[1:]) for name, argv in cfgs
                 if argv and argv[0] == TOOL]
    if bpftrace:
        cfgs.append(("bpftrace inet_sock_set_state", [bpftrace, "-e", BPFTRACE_PROG]))
    return cfgs


def cpu_ns(pid):
    """CPU time of all of a process's threads so far, in ns (schedstat:
    exact, where /proc/PID/stat counts in clock ticks)."""
    total = 0
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/schedstat" % (pid, tid)) as f:
                total += int(f.read().split()[0])
        except (OSError, ValueError, IndexError):
            pass
    return total


def start_config(name, argv):
    if argv[0].endswith("bpftrace"):
        return Tracer(argv, re.compile(r"^Attaching \d+ probe"), ready_on="stdout")
    if argv[0].endswith("tcpconnect"):
        return Tracer(argv, None, ready_on="attached")
    return Tracer(argv, READY_RE)


def overhead(cfgs, reps, connections):
    """Interleaved repetitions: each round runs every configuration once,
    in a rotated order. A configuration's ratio is the median, over the
    rounds, of its rate over the baseline's in the same round: the
    machine's drift (wide here, a VM itself) cancels out. Also the
    tracer's own CPU time per connect of the storm (its reader)."""
    runs = {name: [] for name, _ in cfgs}
    lost = {name: 0 for name, _ in cfgs}
    skipped = {name: 0 for name, _ in cfgs}
    reader = {name: [] for name, _ in cfgs}
    for rep in range(reps):
        order = cfgs[rep % len(cfgs):] + cfgs[:rep % len(cfgs)]
        for name, argv in order:
            t = start_config(name, argv) if argv else None
            cpu0 = cpu_ns(t.pid()) if t else 0
            r = load(connections)
            if t:
                reader[name].append((cpu_ns(t.pid()) - cpu0) / connections)
                rc, text = t.stop()
                if rc not in (0, 130):
                    raise RuntimeError("%s exited %d: %s" % (name, rc, text[-2000:]))
                lost[name] += summary_count(text, "Lost events")
                skipped[name] += summary_count(text, "Probe runs skipped by the kernel")
            runs[name].append(r["per_second"])
            log("overhead %d/%d %-40s %10.0f connects/s" % (rep + 1, reps, name,
                                                            r["per_second"]))
    rows = []
    for name, _ in cfgs:
        ratios = [r / b for r, b in zip(runs[name], runs["baseline"])]
        row = {"figure": "connect storm: connects/s", "who": name,
               "value": round(statistics.median(runs[name])),
               "min": round(min(runs[name])), "max": round(max(runs[name])),
               "ratio_to_baseline": round(statistics.median(ratios), 3),
               "ratio_min": round(min(ratios), 3), "ratio_max": round(max(ratios), 3),
               "lost": lost[name], "reps": reps}
        if argv_of(cfgs, name) and "tcpconnlog" in os.path.basename(argv_of(cfgs, name)[0]):
            row["skipped"] = skipped[name]
        if reader[name]:
            row["reader_ns_per_connect"] = round(statistics.median(reader[name]))
        rows.append(row)
    return rows


def progs():
    """Every loaded BPF program: {id: (name, type, run_time_ns, run_cnt)}."""
    out = subprocess.run(["bpftool", "-j", "prog", "show"], stdout=subprocess.PIPE,
                         text=True, check=True)
    return {p["id"]: (p.get("name", ""), p.get("type", ""), p.get("run_time_ns", 0),
                      p.get("run_cnt", 0)) for p in json.loads(out.stdout)}


def program_costs(tracer, connections):
    """A storm under a started tracer: {program name: (ns, runs)} per
    connection, for the programs that came with it (bpftrace keeps no
    program fds open to find them by), and their types."""
    ids = new_programs(tracer.progs_before)
    before = progs()
    load(connections)
    after = progs()
    tracer.stop()
    costs, types = {}, {}
    for i in ids:
        name, ptype = after[i][0], after[i][1]
        ns, runs = costs.get(name, (0, 0))
        costs[name] = (ns + (after[i][2] - before[i][2]) / connections,
                       runs + (after[i][3] - before[i][3]) / connections)
        types[name] = ptype
    return costs, types


def new_programs(before, settled=0.3, timeout=30):
    """Programs loaded since `before`, once no new one came for `settled`
    seconds: bpftrace says it is attaching before it loads them."""
    deadline = time.monotonic() + timeout
    ids, changed = set(), time.monotonic()
    while time.monotonic() < deadline:
        now = set(progs()) - before
        if now != ids:
            ids, changed = now, time.monotonic()
        elif ids and time.monotonic() - changed >= settled:
            return ids
        time.sleep(0.05)
    raise RuntimeError("no BPF programs appeared")


class Floor:
    """bench/floor: empty programs on the hooks tcpconnlog uses."""

    def __init__(self):
        self.proc = subprocess.Popen([FLOOR], stdout=subprocess.PIPE, text=True)
        if self.proc.stdout.readline().strip() != "ready":
            raise RuntimeError("bench/floor did not attach")

    def stop(self):
        self.proc.send_signal(signal.SIGINT)
        self.proc.wait(30)


def bpf_cost(cfgs, connections, reps=3):
    """Kernel-side cost: the run time of each tool's own BPF programs
    (kernel.bpf_stats_enabled) per connection of the storm, in total and
    per program, median of reps interleaved rounds. Repeatable where
    throughput is not. Beside them the floor: programs that return at
    once, on the same hooks (bench/floor), per run; so that a total can
    be read as runs x floor + the work done."""
    cfgs = [c for c in cfgs if c[1]] + [("floor: empty programs", None)]
    samples = {name: [] for name, _ in cfgs}
    types = {}
    subprocess.run(["sysctl", "-qw", "kernel.bpf_stats_enabled=1"], check=True)
    try:
        for rep in range(reps):
            for name, argv in cfgs:
                before = set(progs())
                t = start_config(name, argv) if argv else Floor()
                t.progs_before = before
                costs, kinds = program_costs(t, connections)
                samples[name].append(costs)
                types.update(kinds)
                log("bpf cost %d/%d %-40s %6d ns per connect" % (
                    rep + 1, reps, name, sum(ns for ns, _ in costs.values())))
    finally:
        subprocess.run(["sysctl", "-qw", "kernel.bpf_stats_enabled=0"], check=True)
    floor = {}
    for prog, (ns, runs) in median_costs(samples["floor: empty programs"]).items():
        floor["tracing" if prog == "floor_tp_btf" else "tracepoint"] = ns / runs if runs else 0
    rows = []
    for name, _ in cfgs:
        if not argv_of(cfgs, name):
            continue
        per_prog = median_costs(samples[name])
        total = statistics.median(sum(ns for ns, _ in c.values()) for c in samples[name])
        floor_ns = sum(runs * floor.get(types.get(p), 0) for p, (_, runs) in per_prog.items())
        rows.append({"figure": "BPF run time per connect (ns)", "who": name,
                     "value": round(total), "runs": round(sum(r for _, r in per_prog.values()), 1),
                     "floor_ns": round(floor_ns), "reps": reps})
        for p, (ns, runs) in sorted(per_prog.items()):
            rows.append({"figure": "  per program (ns per connect)", "who": name,
                         "program": p, "value": round(ns), "runs": round(runs, 2)})
    for kind, ns in sorted(floor.items()):
        rows.append({"figure": "floor: an empty program, one run (ns)",
                     "who": "tp_btf" if kind == "tracing" else "tracepoint",
                     "value": round(ns, 1)})
    return rows


def argv_of(cfgs, name):
    return next(argv for n, argv in cfgs if n == name)


def median_costs(samples):
    """Per program, the median over rounds of its ns and runs per connect."""
    names = {p for s in samples for p in s}
    return {p: (statistics.median(s.get(p, (0, 0))[0] for s in samples),
                statistics.median(s.get(p, (0, 0))[1] for s in samples)) for p in names}


# --- 2. loss -------------------------------------------------------------------------

def count_records(path):
    printed, lost = 0, None
    with open(path) as f:
        for line in f:
            rec = json.loads(line)
            if rec["event"] == "connect" and rec["comm"] == LOAD_COMM:
                printed += 1
            elif rec["event"] == "lost":
                lost = rec
    return printed, lost


def loss(connections, stop_reader_s, ringbuf=None):
    """The storm traced to a file; with stop_reader_s the tool is stopped
    (SIGSTOP) that long while the storm runs. Every attempt must be either
    printed or counted as lost."""
    with tempfile.NamedTemporaryFile(suffix=".json") as out:
        argv = [TOOL, "-j", "-n", LOAD_COMM] + (["--ringbuf-size", str(ringbuf)] if ringbuf
                                                  else [])
        t = Tracer(argv, READY_RE, stdout_path=out.name)
        gen = subprocess.Popen([LOADGEN, "-n", str(connections), "-t", "2"],
                               stdout=subprocess.PIPE, text=True)
        if stop_reader_s:
            time.sleep(0.05)
            t.proc.send_signal(signal.SIGSTOP)
            time.sleep(stop_reader_s)
            t.proc.send_signal(signal.SIGCONT)
        r = json.loads(gen.communicate()[0])
        rc, text = t.stop()
        printed, lost_line = count_records(out.name)
    lost = lost_line["lost"] if lost_line else 0
    untracked = lost_line["untracked"] if lost_line else 0
    skipped = lost_line["skipped"] if lost_line else 0
    return {"figure": "loss" + (", reader stopped %.0f s" % stop_reader_s if stop_reader_s
                                else " at full rate"),
            "who": "tcpconnlog -j" + (" --ringbuf-size %d" % ringbuf if ringbuf else ""),
            "generated": r["connections"], "printed": printed, "lost": lost,
            "untracked": untracked, "skipped": skipped, "connects_per_s": round(r["per_second"]),
            "accounted": printed + lost + untracked + skipped == r["connections"],
            "exit": rc}


# --- 3. user space -------------------------------------------------------------------

def consume(mode, n):
    out = subprocess.run(["taskset", "-c", "0", CONSUME, "--" + mode, "-n", str(n)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=True)
    return json.loads(out.stderr.strip().splitlines()[-1])


def instructions(mode, n):
    """Instructions executed for n records, from callgrind's total."""
    out = subprocess.run(["valgrind", "--tool=callgrind", "--callgrind-out-file=/dev/null",
                          CONSUME, "--" + mode, "-n", str(n)],
                         stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, check=True)
    m = re.search(r"Collected : (\d+)", out.stderr)
    return int(m.group(1))


def user_space(reps, n, n_callgrind):
    rows = []
    for mode, who in (("json", "tcpconnlog JSON"), ("text", "tcpconnlog text"),
                      ("printf", "printf per field (JSON)")):
        rates = [consume(mode, n)["per_second"] for _ in range(reps)]
        per_event = (instructions(mode, n_callgrind) - instructions(mode, 0)) / n_callgrind
        rows.append({"figure": "user space: records/s on one core", "who": who,
                     "value": round(statistics.median(rates)), "min": round(min(rates)),
                     "max": round(max(rates)), "instructions_per_record": round(per_event)})
    base = next(r for r in rows if r["who"].startswith("printf"))
    for r in rows:
        r["ratio_to_printf"] = round(r["value"] / base["value"], 2)
    return rows


# --- 4 and 5. start-up, exit, memory ---------------------------------------------------

def maps_memlock(pid):
    """Kernel memory of the BPF maps a process holds open: the memlock
    line of each map fd's fdinfo, once per map id."""
    total, seen = 0, set()
    fddir = "/proc/%d/fdinfo" % pid
    for fd in os.listdir(fddir):
        try:
            with open(os.path.join(fddir, fd)) as f:
                info = dict(l.rstrip("\n").split(":\t", 1) for l in f if ":\t" in l)
        except OSError:
            continue
        if "map_id" in info and info["map_id"] not in seen:
            seen.add(info["map_id"])
            total += int(info.get("memlock", 0))
    return total


def startup(cfgs, reps, connections):
    rows = []
    for name, argv in cfgs:
        if not argv:
            continue
        ready, exits, rss, maps = [], [], [], None
        for _ in range(reps):
            t = start_config(name, argv)
            load(connections)
            rss.append(t.peak_rss_kib())
            if maps is None:
                maps = maps_memlock(t.pid())
            ready.append(t.ready_s)
            t.stop()
            exits.append(t.exit_s)
        rows.append({"figure": "start-up, exit, memory", "who": name,
                     "ready_ms": round(statistics.median(ready) * 1000, 1),
                     "exit_ms": round(statistics.median(exits) * 1000, 1),
                     "peak_rss_kib": max(rss), "maps_kib": round(maps / 1024)})
    return rows


# --- the VM part -------------------------------------------------------------------------

def vm_configs(before=None):
    tcpconnect = shutil.which("tcpconnect", path="/usr/sbin:/usr/bin") or \
        "/usr/sbin/tcpconnect"
    cfgs = [
        ("baseline", None),
        ("tcpconnlog -j", [TOOL, "-j"]),
        ("tcpconnlog -b kprobe -j", [TOOL, "-b", "kprobe", "-j"]),
        ("tcpconnlog -b fentry -j", [TOOL, "-b", "fentry", "-j"]),
    ]
    if before:
        cfgs += [("before: " + name, [before] + argv[1:]) for name, argv in cfgs if argv]
    return cfgs + [("libbpf-tools tcpconnect", [tcpconnect])]


def vm_part(args):
    cfgs = vm_configs(args.before or None)
    rows = overhead(cfgs, args.reps, args.connections) + \
        bpf_cost(cfgs, args.connections, args.cost_reps) + startup(cfgs, 1, 1000)
    print(VM_MARK + json.dumps(rows), flush=True)


def run_vm(kernel, args):
    cmd = "cd %s && python3 bench/bench.py --vm-part --reps %d --cost-reps %d " \
        "--connections %d" % (REPO, args.reps, args.cost_reps, args.vm_connections)
    if args.before:
        # the guest sees the checkout, not the rest of the host
        if not os.path.abspath(args.before).startswith(REPO + os.sep):
            raise RuntimeError("--before with --vm: the binary must be inside %s" % REPO)
        cmd += " --before %s" % os.path.abspath(args.before)
    out = subprocess.run([sys.executable, os.path.join(REPO, "tests/vm/vmtest.py"), "run",
                          "--kernel", kernel, "--tag", "bench", "--", cmd],
                         stdout=subprocess.PIPE, text=True, check=False)
    for line in out.stdout.splitlines():
        if line.startswith(VM_MARK):
            rows = json.loads(line[len(VM_MARK):])
            for r in rows:
                r["where"] = "VM %s (TCG)" % kernel
            return rows
    raise RuntimeError("no results from the VM (exit %d):\n%s" % (out.returncode,
                                                                    out.stdout[-3000:]))


# --- report ------------------------------------------------------------------------------

def print_table(rows):
    cols = ["where", "figure", "who", "program", "value", "runs", "floor_ns", "min", "max",
            "ratio_to_baseline", "ratio_min", "ratio_max", "lost", "skipped",
            "reader_ns_per_connect",
            "ratio_to_printf", "instructions_per_record", "ready_ms", "exit_ms",
            "peak_rss_kib", "maps_kib", "generated", "printed", "accounted"]
    used = [c for c in cols if any(c in r for r in rows)]
    table = [used] + [[str(r.get(c, "")) for c in used] for r in rows]
    widths = [max(len(t[i]) for t in table) for i in range(len(used))]
    for t in table:
        print("  ".join(v.ljust(w) for v, w in zip(t, widths)).rstrip())


def main(argv):
    ap = argparse.ArgumentParser()
    ap.add_argument("--reps", type=int, default=9, help="storm rounds (default 9)")
    ap.add_argument("--cost-reps", type=int, default=3, help="BPF run time rounds (default 3)")
    ap.add_argument("--before", default="", help="another build of the tool, run beside it")
    ap.add_argument("--connections", type=int, default=50000)
    ap.add_argument("--vm-connections", type=int, default=3000)
    ap.add_argument("--vm", default="", help="kernels for the VM part, e.g. 6.12")
    ap.add_argument("--vm-part", action="store_true", help=argparse.SUPPRESS)
    ap.add_argument("--quick", action="store_true", help="fewer and smaller runs")
    ap.add_argument("--only", default="overhead,loss,user,startup",
                    help="sections to run (default all): overhead,loss,user,startup")
    args = ap.parse_args(argv)
    if args.quick:
        args.reps, args.cost_reps, args.connections, args.vm_connections = 3, 1, 10000, 1000
    if args.vm_part:
        return vm_part(args)

    bpftrace = shutil.which("bpftrace")
    if not bpftrace:
        log("bpftrace not found: the host peer is left out")
    cfgs = host_configs(bpftrace, os.path.abspath(args.before) if args.before else None)
    only = set(args.only.split(","))
    rows = []
    if "overhead" in only:
        rows += overhead(cfgs, args.reps, args.connections)
        rows += bpf_cost(cfgs, args.connections, args.cost_reps)
    if "loss" in only:
        rows += [loss(args.connections * 2, 0), loss(args.connections, 1.0),
                 loss(args.connections, 1.0, ringbuf=65536)]
    if "user" in only:
        rows += user_space(args.reps, 2000000 if not args.quick else 300000, 20000)
    if "startup" in only:
        rows += startup(cfgs, min(args.reps, 5), 1000)
    rows = [dict(r, where="host") for r in rows]
    for k in filter(None, args.vm.split(",")):
        rows.extend(run_vm(k, args))
    os.makedirs(os.path.dirname(RESULTS), exist_ok=True)
    with open(RESULTS, "w") as f:
        json.dump({"date": time.strftime("%Y-%m-%d"), "rows": rows}, f, indent=1)
    print_table(rows)
    log("written to %s" % os.path.relpath(RESULTS, REPO))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]) or 0)
