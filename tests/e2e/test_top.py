# SPDX-License-Identifier: GPL-2.0-only
"""--top: the table of open connections. On a file, one snapshot per
refresh (text or JSON); in a terminal (tmux), a screen redrawn in place
that q ends, leaving the terminal as it was. The test process holds a
loopback connection with known bytes each way and checks every column."""
import itertools
import json
import os
import re
import shutil
import tempfile
import time

import pytest

import tclconn
import tcltest

pytestmark = pytest.mark.view

TOP_COLUMNS = ["COMM", "PID", "LOCAL", "REMOTE", "AGE(s)", "TX", "RX", "RTT(ms)"]
JSON_KEYS = ["event", "run", "time", "connections"]
CONN_KEYS = ["id", "pid", "comm", "ip", "saddr", "sport", "daddr", "dport", "age_s",
             "bytes_sent", "bytes_received", "srtt_us"]
SNAP_RE = re.compile(r"^--- (\S+) (\d+) open connections?$")
TITLE_RE = re.compile(r"^tcpconnlog --top: (\d+) open connections?, "
                      r"(\d\d:\d\d:\d\d) - h for help, q to quit")
RTT_RE = re.compile(r"^\d+\.\d{3}$")
AGE_RE = re.compile(r"^\d+\.\d$")
# bytes each way: under the socket buffers, so one thread can send then read
TO_SERVER = 12345
TO_CLIENT = 23456
# after the last byte, time for the acknowledgements before a snapshot counts
SETTLE = 0.3
# what the pane's shell prints after the tool (not the command line it
# echoes, where $? follows). Not anchored at the start of a line: tmux put
# the cursor back after "# " once, when the window had been resized with
# the alternate screen on, and a terminal echoes ^C before it.
EXIT_RE = re.compile(r"EXIT=(\d+)$", re.M)
_tmux_counter = itertools.count(1)


# --- a connection whose every detail the test knows ---------------------------

def endpoint(fam, addr, port):
    addr = tcltest.canon(addr)
    return "[%s]:%d" % (addr, port) if fam == 6 else "%s:%d" % (addr, port)


class Held(tclconn.Conn):
    """A loopback connection held open, to_server and to_client bytes
    exchanged, as --top rows name its two ends."""

    def __init__(self, listeners, fam, to_server=TO_SERVER, to_client=TO_CLIENT):
        super().__init__(listeners, fam, to_server, to_client)
        self.local = endpoint(fam, self.c["saddr"], self.c["sport"])
        self.remote = endpoint(fam, self.host, self.listener.port)

    def sides(self, accepts=True):
        """(name, local, remote, pid, comm, tx, rx, earliest, latest open time)
        of the connect row and, when accepts are traced (-A), the accept row."""
        pid = self.c["pid"]
        both = [
            ("connect", self.local, self.remote, pid, self.c["comm"],
             self.to_server, self.to_client, self.c["t0w"], self.c["t1w"]),
            # the server end is established when the client's ACK comes in:
            # after the client's connect returned, before accept() did
            ("accept", self.remote, self.local, pid, self.accept_comm,
             self.to_client, self.to_server, self.c["t0w"], self.t_accepted),
        ]
        return both if accepts else both[:1]


# --- text snapshots -----------------------------------------------------------

def split_columns(header, line):
    """{column: value} of a table line; each value must start exactly under
    its column name (COMM may hold spaces, so widths come from the header)."""
    starts, pos = [], 0
    for name in TOP_COLUMNS:
        pos = header.index(name, pos)
        starts.append(pos)
        pos += len(name)
    row = {}
    for i, name in enumerate(TOP_COLUMNS):
        end = starts[i + 1] if i + 1 < len(starts) else len(line)
        cell = line[starts[i]:end]
        assert cell and cell[0] != " " and (i == 0 or line[starts[i] - 1] == " "), (
            "%s value is not aligned under its header\n%s\n%s" % (name, header, line))
        assert i + 1 == len(starts) or cell.endswith(" "), (
            "%s value runs into the next column\n%s\n%s" % (name, header, line))
        row[name] = cell.rstrip()
    assert " " not in row["RTT(ms)"], "text after the last column: %r" % line
    return row


def text_snapshots(out):
    """The complete snapshots of a text stdout: [{when, rows, text}]. Every
    line must belong to one (nothing else is printed)."""
    lines = out.split("\n")[:-1]        # the last piece is still being written
    snaps, i = [], 0
    while i < len(lines):
        m = SNAP_RE.match(lines[i])
        assert m, "stdout line %d is not the first line of a snapshot: %r\n%s" % (
            i + 1, lines[i], out)
        n = int(m.group(2))
        if i + 2 + n > len(lines):
            break
        header = lines[i + 1]
        assert header.split() == TOP_COLUMNS, "header %r" % header
        rows = [split_columns(header, l) for l in lines[i + 2:i + 2 + n]]
        snaps.append({"when": tcltest.parse_time(m.group(1)), "rows": rows,
                      "text": "\n".join(lines[i:i + 2 + n])})
        i += 2 + n
    return snaps


def json_snapshots(out):
    """The complete JSON lines of stdout, each with its time as "when"."""
    snaps = []
    for n, obj in enumerate(tcltest.json_lines(out), 2):   # line 1: the start record
        assert list(obj) == JSON_KEYS, "line %d keys %s, expected %s" % (n, list(obj), JSON_KEYS)
        assert obj["event"] == "top", obj
        for conn in obj["connections"]:
            assert list(conn) == CONN_KEYS, "keys %s, expected %s" % (list(conn), CONN_KEYS)
        snaps.append(dict(obj, when=tcltest.parse_time(obj["time"])))
    return snaps


def first_snapshot_after(t, parse, when, timeout=15):
    """The first complete snapshot made at or after `when` (wall clock)."""
    found = []

    def ready():
        found[:] = [s for s in parse(t.stdout_now()) if s["when"] >= when][:1]
        return bool(found)
    tcltest.wait_until(ready, timeout, "a snapshot made after %s\nstdout:\n%s\nstderr:\n%s"
                       % (when, t.stdout_now()[-3000:], t.stderr_now()), step=0.05)
    return found[0]


def text_row(snap, local, remote):
    rows = [r for r in snap["rows"] if r["LOCAL"] == local and r["REMOTE"] == remote]
    assert len(rows) <= 1, "two rows for %s -> %s\n%s" % (local, remote, snap["text"])
    return rows[0] if rows else None


def check_age(age, snap_time, earliest, latest, resolution):
    """The row's age against the test's clock: the connection opened
    between earliest and latest, the snapshot was made at snap_time."""
    lo = snap_time - latest - resolution - tcltest.CLOCK_SLACK
    hi = snap_time - earliest + tcltest.CLOCK_SLACK
    assert lo <= age <= hi, "age %s not in [%.3f, %.3f]" % (age, lo, hi)


def check_text_rows(snap, held, accepts):
    for name, local, remote, pid, comm, tx, rx, t0, t1 in held.sides(accepts):
        row = text_row(snap, local, remote)
        assert row, "no %s row %s -> %s in the snapshot\n%s" % (name, local, remote, snap["text"])
        want = {"COMM": comm, "PID": str(pid), "LOCAL": local, "REMOTE": remote,
                "TX": str(tx), "RX": str(rx)}
        got = {k: row[k] for k in want}
        assert got == want, "%s row\n%s" % (name, snap["text"])
        assert RTT_RE.match(row["RTT(ms)"]) and float(row["RTT(ms)"]) > 0, row
        assert AGE_RE.match(row["AGE(s)"]), row
        check_age(float(row["AGE(s)"]), snap["when"], t0, t1, 0.1)


@pytest.mark.parametrize("accepts", [False, True], ids=["connects", "accepts"])
def test_text_snapshots(tracer, listeners, accepts):
    """--top 1 on a file: the held connection's connect row (and with -A
    its accept row), every column exact; gone once closed."""
    t = tracer(*(["-A"] if accepts else []), "--top", "1", json_mode=False)
    held = Held(listeners, 4)
    snap = first_snapshot_after(t, text_snapshots, held.t_done + SETTLE)
    assert snap["when"] <= time.time() + tcltest.CLOCK_SLACK
    check_text_rows(snap, held, accepts)

    held.close()
    snap = first_snapshot_after(t, text_snapshots, held.t_closed + SETTLE)
    for name, local, remote, *_ in held.sides():
        assert not text_row(snap, local, remote), (
            "the %s row is still listed after the close\n%s" % (name, snap["text"]))
    res = t.stop()
    assert res.rc == 0, res
    # whatever came before the stop: all of it snapshots
    text_snapshots(res.stdout)


# --- JSON snapshots -------------------------------------------------------------

def json_row(snap, held, local_is_client):
    cport, lport = held.c["sport"], held.listener.port
    sport, dport = (cport, lport) if local_is_client else (lport, cport)
    rows = [c for c in snap["connections"] if c["sport"] == sport and c["dport"] == dport
            and c["saddr"] == tcltest.canon(held.c["saddr"])]
    assert len(rows) <= 1, "two rows for port %d -> %d: %s" % (sport, dport, snap)
    return rows[0] if rows else None


def check_json_rows(snap, held):
    """Both ends (-A)."""
    ids = set()
    for (name, local, remote, pid, comm, tx, rx, t0, t1), is_client in zip(
            held.sides(), (True, False)):
        row = json_row(snap, held, is_client)
        assert row, "no %s row %s -> %s: %s" % (name, local, remote, json.dumps(snap))
        host = tcltest.canon(held.c["host"])
        ports = (held.c["sport"], held.listener.port)
        want = {"pid": pid, "comm": comm, "ip": held.fam, "saddr": host, "daddr": host,
                "sport": ports[0] if is_client else ports[1],
                "dport": ports[1] if is_client else ports[0],
                "bytes_sent": tx, "bytes_received": rx}
        got = {k: row[k] for k in want}
        assert got == want, "%s row: %s" % (name, json.dumps(row))
        assert type(row["id"]) is int and row["id"] > 0, row
        ids.add(row["id"])
        assert type(row["srtt_us"]) is int and row["srtt_us"] > 0, row
        assert tcltest.is_number(row["age_s"]), row
        check_age(row["age_s"], snap["when"], t0, t1, 0.001)
    assert len(ids) == 2, "the two ends share an id: %s" % json.dumps(snap)


def test_json_snapshots(tracer, listeners):
    """-A --top=1 -j: one JSON line per refresh; an IPv6 connection's two
    ends, every field exact; gone once closed."""
    t = tracer("-A", "--top=1")
    held = Held(listeners, 6)
    snap = first_snapshot_after(t, json_snapshots, held.t_done + SETTLE)
    check_json_rows(snap, held)

    held.close()
    snap = first_snapshot_after(t, json_snapshots, held.t_closed + SETTLE)
    assert json_row(snap, held, True) is None and json_row(snap, held, False) is None, (
        "still listed after the close: %s" % json.dumps(snap))
    res = t.stop()
    assert res.rc == 0, res
    assert all(r["event"] == "top" for r in res.records), res


@pytest.mark.parametrize("args,interval", [(("--top",), 1.0), (("--top", "2"), 2.0)],
                         ids=["default", "2s"])
def test_refresh_interval(tracer, args, interval):
    """SECONDS between snapshots; 1 when left out."""
    t = tracer(*args)
    tcltest.wait_until(lambda: len(json_snapshots(t.stdout_now())) >= 4,
                       4 * interval + 10, "four snapshots\n%s" % t.stderr_now(), step=0.1)
    times = [s["when"] for s in json_snapshots(t.stdout_now())]
    gaps = [b - a for a, b in zip(times, times[1:])]
    assert all(0.9 * interval <= g <= interval + 1.0 for g in gaps), (
        "snapshots %s apart, expected about %s s" % (gaps, interval))
    assert t.stop().rc == 0


# --- the terminal ------------------------------------------------------------------

class Tmux:
    """A private tmux server with one pane (200x50 unless asked) running
    sh (no line editing, so the terminal stays in canonical mode at its
    prompt)."""

    def __init__(self, cols=200, rows=50):
        assert shutil.which("tmux"), "tmux is not installed (scripts/install-deps test)"
        # a server of its own per test: one being killed may still hold a name
        self.sock = "tcpconnlog-e2e-%d-%d" % (os.getpid(), next(_tmux_counter))
        self.dir = tempfile.mkdtemp(prefix="tcpconnlog-e2e-tmux-")
        self.err_path = os.path.join(self.dir, "stderr")
        self.tmux("new-session", "-d", "-x", str(cols), "-y", str(rows), "-s", "top", "sh")
        # a shell that exits (as on a terminal left returning no input)
        # leaves its screen to look at
        self.tmux("set-option", "-w", "-t", "top", "remain-on-exit", "on")
        self.tty, self.socket_path = self.tmux(
            "display-message", "-p", "-t", "top", "#{pane_tty} #{socket_path}").stdout.split()

    def tmux(self, *args, check=True):
        return tcltest.run(["tmux", "-L", self.sock, "-f", "/dev/null"] + list(args),
                           check=check)

    def type_line(self, text):
        self.tmux("send-keys", "-t", "top", "-l", text)
        self.tmux("send-keys", "-t", "top", "Enter")

    def key(self, key):
        self.tmux("send-keys", "-t", "top", key)

    def text(self, text):
        """Keys as typed, one byte each."""
        self.tmux("send-keys", "-t", "top", "-l", text)

    def screen(self):
        return self.tmux("capture-pane", "-p", "-t", "top").stdout

    def stty(self):
        """The pane terminal's settings, as tokens, seen from outside."""
        return tcltest.run(["stty", "-F", self.tty, "-a"]).stdout.split()

    def stderr_now(self):
        try:
            with open(self.err_path) as f:
                return f.read()
        except FileNotFoundError:
            return ""

    def close(self):
        self.tmux("kill-server", check=False)
        # the server leaves its socket file behind
        try:
            os.unlink(self.socket_path)
        except (AttributeError, OSError):
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def tmux():
    tm = Tmux()
    try:
        yield tm
    finally:
        tm.close()


def canonical_echo(tokens):
    return "icanon" in tokens and "echo" in tokens


def start_in_pane(tm, secs=1, env="", keys=True):
    """env tcpconnlog --top SECS in the pane; then its status and stty -a.
    keys: the terminal must be taken for keys while it runs (else left
    as it was)."""
    assert canonical_echo(tm.stty()), "the pane's terminal does not start canonical: %s" % (
        tm.stty())
    tm.type_line('%s %s -b %s --top %d 2>%s; echo "EXIT=$?"; stty -a'
                 % (env, tcltest.BIN, tcltest.BACKEND, secs, tm.err_path))
    ready = []

    def is_ready():
        for line in tm.stderr_now().splitlines():
            m = tcltest.READY_RE.match(line)
            if m:
                ready.append(m.group(1))
                return True
        return False
    tcltest.wait_until(is_ready, 20, "the ready line\nscreen:\n%s" % tm.screen(), step=0.05)
    assert ready[0] == tcltest.expected_backend(), ready
    tokens = tm.stty()
    if not keys:
        assert canonical_echo(tokens), "--top took a terminal it does not draw on: %s" % tokens
        return
    # keys one by one, not echoed, while it runs
    assert "-icanon" in tokens and "-echo" in tokens, (
        "the terminal is not in non-canonical no-echo mode while --top runs: %s" % tokens)


def parse_screen(screen):
    """A --top table on the screen: {title (match), status (the line under
    it), marked (the columns marked * as the sort key), order [(local,
    remote)] top to bottom, rows {(local, remote): row}}, or None."""
    lines = screen.split("\n")
    for i, line in enumerate(lines):
        m = TITLE_RE.match(line)
        if not m or i + 2 >= len(lines):
            continue
        header = lines[i + 2]
        names = header.split()
        if [n.rstrip("*") for n in names] != TOP_COLUMNS:
            continue
        # the mark takes the place of a space: columns stay aligned
        plain = header.replace("*", " ")
        order, rows = [], {}
        for l in lines[i + 3:]:
            if not l.strip() or l.startswith("... and "):
                break
            r = split_columns(plain, l)
            order.append((r["LOCAL"], r["REMOTE"]))
            rows[order[-1]] = r
        return {"title": m, "status": lines[i + 1], "order": order, "rows": rows,
                "marked": [n.rstrip("*") for n in names if n.endswith("*")]}
    return None


def screen_rows(screen):
    """(title match, {(local, remote): row}) of a --top screen, or None."""
    parsed = parse_screen(screen)
    return parsed and (parsed["title"], parsed["rows"])


def await_screen(tm, pred, what, timeout=10):
    """The first parsed table on the screen for which pred is true."""
    last = [None]

    def ok():
        last[0] = tm.screen()
        parsed = parse_screen(last[0])
        if parsed and pred(parsed):
            last[:] = [last[0], parsed]
            return True
        return False
    try:
        tcltest.wait_until(ok, timeout, what, step=0.05)
    except AssertionError as e:
        raise AssertionError("%s\nscreen:\n%s\nstderr:\n%s"
                             % (e, last[0], tm.stderr_now()))
    return last[1]


def await_row_on_screen(tm, held):
    """The screen once it shows the connect row with all bytes counted."""
    name, local, remote, pid, comm, tx, rx, _, _ = held.sides()[0]
    last = []

    def shown():
        last[:] = [tm.screen()]
        parsed = screen_rows(last[0])
        row = parsed and parsed[1].get((local, remote))
        return bool(row) and row["TX"] == str(tx) and row["RX"] == str(rx)
    tcltest.wait_until(shown, 15, "the connect row %s -> %s with TX %d RX %d"
                       % (local, remote, tx, rx), step=0.1)
    title, rows = screen_rows(last[0])
    row = rows[(local, remote)]
    assert (row["COMM"], row["PID"]) == (comm, str(pid)), row
    assert RTT_RE.match(row["RTT(ms)"]) and float(row["RTT(ms)"]) > 0, row
    assert AGE_RE.match(row["AGE(s)"]), row
    assert int(title.group(1)) == len(rows), "title %r, %d rows" % (title.group(0), len(rows))
    return last[0]


def await_exit(tm):
    """The status the pane's shell printed, and what stty -a printed after."""
    def stty_done(screen):
        m = EXIT_RE.search(screen)
        return m and "icanon" in screen[m.end():] and "echo" in screen[m.end():]

    screens = []

    def exited():
        screens[:] = [tm.screen()]
        return stty_done(screens[0])
    try:
        tcltest.wait_until(exited, 15, "tcpconnlog to exit, then stty -a", step=0.1)
    except AssertionError as e:
        raise AssertionError("%s\nscreen:\n%s\nstderr:\n%s"
                             % (e, screens[0].rstrip("\n"), tm.stderr_now()))
    m = EXIT_RE.search(screens[0])
    return int(m.group(1)), screens[0][m.end():]


def check_restored(tm, after_exit):
    after = after_exit.split()
    assert canonical_echo(after), "stty -a in the pane after the exit: %s" % after
    assert canonical_echo(tm.stty()), tm.stty()


def test_terminal_q_quits_and_restores(tmux, listeners):
    """In a terminal: the table with the held connection, redrawn in
    place; q ends it with status 0 and the terminal as it was."""
    start_in_pane(tmux)
    held = Held(listeners, 4)
    screen = await_row_on_screen(tmux, held)
    assert len([l for l in screen.split("\n") if TITLE_RE.match(l)]) == 1, screen
    tmux.key("q")
    status, after = await_exit(tmux)
    assert status == 0, "exit status %d\nstderr:\n%s" % (status, tmux.stderr_now())
    check_restored(tmux, after)
    # the table went with the alternate screen
    assert not re.search(TITLE_RE.pattern, tmux.screen(), re.M), tmux.screen()
    held.close()


def test_terminal_ctrl_c_restores(tmux, listeners):
    """Ctrl-C instead of q: the terminal is restored all the same."""
    start_in_pane(tmux)
    held = Held(listeners, 4)
    await_row_on_screen(tmux, held)
    tmux.key("C-c")
    status, after = await_exit(tmux)
    assert status == 0, "exit status %d\nstderr:\n%s" % (status, tmux.stderr_now())
    check_restored(tmux, after)
    held.close()


# --- the keys ------------------------------------------------------------------------

HELP_TITLE = "tcpconnlog --top: keys"
# each key the help screen must name, at the start of its line
HELP_KEYS = ["h ?", "q", "p", "d", "s", "< >", "r R"]


def quit_pane(tm):
    """q: status 0, the terminal as it was, and no line of the table left
    on the shell's screen (tmux copied some there after a resize)."""
    tm.key("q")
    status, after = await_exit(tm)
    assert status == 0, "exit status %d\nstderr:\n%s" % (status, tm.stderr_now())
    check_restored(tm, after)
    assert not re.search(TITLE_RE.pattern, tm.screen(), re.M), tm.screen()


def await_help(tm):
    def shown():
        lines = [l.strip() for l in tm.screen().split("\n")]
        return HELP_TITLE in lines and all(
            any(l.startswith(k + " ") for l in lines) for k in HELP_KEYS)
    tcltest.wait_until(shown, 5, "the help screen naming the keys %s\nscreen:\n%s"
                       % (HELP_KEYS, tm.screen()), step=0.05)


def check_help(tmux):
    """h and ? show the keys; any key returns to the table, q included
    (it does not quit from the help screen)."""
    await_screen(tmux, lambda s: True, "the table")
    for show, leave in (("h", "x"), ("?", "q")):
        tmux.key(show)
        await_help(tmux)
        assert not parse_screen(tmux.screen()), tmux.screen()
        tmux.key(leave)
        await_screen(tmux, lambda s: True, "the table back after %r" % leave)
    assert not EXIT_RE.search(tmux.screen()), "q on the help screen quit"


def order_of(screen, held):
    """Our connections' names in the order the table lists them."""
    names = {(h.local, h.remote): name for name, h in held.items()}
    return [names[k] for k in screen["order"] if k in names]


def check_sort_keys(tmux, listeners):
    """< and > move the sort key a column left or right, s takes a column
    by name, r reverses; the header marks the key, the status line names
    it, and the rows follow it."""
    # opened in this order: ages a > b > c
    held = {"a": Held(listeners, 4, 1000, 1000),
            "b": Held(listeners, 4, 30000, 100),
            "c": Held(listeners, 4, 200, 20000)}
    want_bytes = {n: (h.to_server, h.to_client) for n, h in held.items()}

    def counted(s):
        return all(s["rows"].get((h.local, h.remote), {}).get("TX") == str(want_bytes[n][0])
                   and s["rows"][(h.local, h.remote)]["RX"] == str(want_bytes[n][1])
                   for n, h in held.items())
    steps = [
        # (keys, marked columns, status, order of a b c)
        (None, ["TX", "RX"], "sorted by TX+RX, descending", ["b", "c", "a"]),
        ("<", ["TX"], "sorted by TX, descending", ["b", "a", "c"]),
        (">>", ["RX"], "sorted by RX, descending", ["c", "a", "b"]),
        ("sage\r", ["AGE(s)"], "sorted by AGE, descending", ["a", "b", "c"]),
        ("r", ["AGE(s)"], "sorted by AGE, ascending", ["c", "b", "a"]),
        ("R", ["AGE(s)"], "sorted by AGE, descending", ["a", "b", "c"]),
        ("sTx+rX\r", ["TX", "RX"], "sorted by TX+RX, descending", ["b", "c", "a"]),
    ]
    for keys, marked, status, order in steps:
        if keys:
            tmux.text(keys)
        screen = await_screen(
            tmux, lambda s: counted(s) and s["marked"] == marked and
            s["status"].startswith(status) and order_of(s, held) == order,
            "after %r: %s marked, status %r, rows in the order %s"
            % (keys, marked, status, order))
    # s with no single column: a message, the sort key as it was
    tmux.text("sr\r")
    screen = await_screen(tmux, lambda s: s["status"].startswith("no single column 'r'"),
                          "the message about the ambiguous column")
    assert screen["marked"] == ["TX", "RX"] and order_of(screen, held) == ["b", "c", "a"], screen
    for h in held.values():
        h.close()


def check_pause(tmux, listeners):
    """p holds the screen as it is while connections open and close; the
    records are read meanwhile, so p again shows the table as it is.
    After check_delay: refreshes every 0.2 s."""
    first = Held(listeners, 4)
    await_row_on_screen(tmux, first)
    tmux.key("p")
    paused = await_screen(tmux, lambda s: s["status"].startswith("PAUSED"), "PAUSED")
    frame = tmux.screen()
    first.close()
    second = Held(listeners, 4, 777, 888)
    # five refreshes at check_delay's 0.2 s: the frame must not change at all
    deadline = time.monotonic() + 1.0
    while time.monotonic() < deadline:
        now = tmux.screen()
        assert now == frame, "the paused screen changed\nbefore:\n%s\nnow:\n%s" % (frame, now)
        time.sleep(0.1)
    assert (first.local, first.remote) in paused["rows"]
    tmux.key("p")
    after = await_screen(
        tmux, lambda s: not s["status"].startswith("PAUSED") and
        (first.local, first.remote) not in s["rows"] and
        s["rows"].get((second.local, second.remote), {}).get("TX") == "777",
        "the table after p: the first connection gone, the second listed with TX 777")
    assert after["rows"][(second.local, second.remote)]["RX"] == "888", after
    second.close()


def age_of(tm, held):
    parsed = parse_screen(tm.screen())
    row = parsed and parsed["rows"].get((held.local, held.remote))
    return row and row["AGE(s)"]


def check_delay(tmux, listeners):
    """d takes a new delay: Enter refreshes at once, then every 0.2 s (the
    row's age steps by about that); a wrong delay is refused with a
    message, the delay kept; Esc leaves it too."""
    await_screen(tmux, lambda s: s["status"].endswith("every 5 s"), "the first frame")
    held = Held(listeners, 4)
    tmux.text("d")
    await_screen(tmux, lambda s: s["status"].startswith("Delay in seconds (now 5 s"),
                 "the delay prompt")
    tmux.text("0.2")
    tmux.key("Enter")
    t0 = time.monotonic()
    # the connection opened after the first frame: only a refresh at once
    # shows it before the 5 s are up
    await_row_on_screen(tmux, held)
    assert time.monotonic() - t0 < 2.5, "no refresh at once after the new delay"
    ages, deadline = [], time.monotonic() + 1.5
    while time.monotonic() < deadline:
        age = age_of(tmux, held)
        if age and (not ages or ages[-1] != age):
            ages.append(age)
        time.sleep(0.02)
    steps = [round(float(b) - float(a), 1) for a, b in zip(ages, ages[1:])]
    # 0.2 s steps (a tenth either way: ages are cut to tenths), or two at
    # once when a capture came late; a delay of 1 s would show 2 ages
    assert len(ages) >= 4 and all(0.1 <= s <= 0.6 for s in steps), (
        "ages seen in 1.5 s at a 0.2 s delay: %s" % ages)

    tmux.text("d1x")
    tmux.key("Enter")
    await_screen(tmux, lambda s: s["status"].startswith("invalid delay '1x'"),
                 "the message about the wrong delay")
    tmux.text("d9")
    tmux.key("Escape")
    await_screen(tmux, lambda s: s["status"].startswith("sorted by ") and
                 s["status"].endswith("every 0.2 s"), "the delay left at 0.2 s")
    held.close()


def check_resize(tm):
    """A window made larger is drawn again at its new size at once, not at
    the next refresh (5 s away): the header cut at 59 columns shows whole."""
    def cut(screen):
        return [l for l in screen.split("\n") if l.startswith("COMM ")]
    tcltest.wait_until(lambda: cut(tm.screen()), 5, "the first frame\n%s" % tm.screen(),
                       step=0.05)
    assert "RTT(ms)" not in cut(tm.screen())[0], tm.screen()
    t0 = time.monotonic()
    tm.tmux("resize-window", "-t", "top", "-x", "200", "-y", "50")
    screen = await_screen(tm, lambda s: True, "the whole header after the resize",
                          timeout=3)
    took = time.monotonic() - t0
    assert took < 1.5, "redrawn %.1f s after the resize" % took
    assert screen["title"].group(0).endswith("q to quit"), screen


def test_terminal_keys(listeners):
    """--top 5 in a 60x12 window: a resize, d (to 0.2 s), h, the sort
    keys, p, then q; one run, as a start takes about 5 s in a VM guest."""
    tm = Tmux(cols=60, rows=12)
    try:
        start_in_pane(tm, secs=5)
        check_resize(tm)
        check_delay(tm, listeners)
        check_help(tm)
        check_sort_keys(tm, listeners)
        check_pause(tm, listeners)
        quit_pane(tm)
    finally:
        tm.close()


def test_terminal_dumb_without_escapes(tmux):
    """TERM=dumb: plain snapshots as on a file, no escape sequence at all,
    the terminal left alone (q is only typed text). No TERM takes the same
    path (topterm_draws_on(NULL), tests/unit/test_topterm.c): a second
    run here would cost 5 s more in the VM."""
    out = os.path.join(tmux.dir, "pane-output")
    tmux.tmux("pipe-pane", "-o", "-t", "top", "cat > %s" % out)
    start_in_pane(tmux, env="env TERM=dumb", keys=False)

    def output():
        try:
            with open(out, "rb") as f:
                return f.read()
        except FileNotFoundError:       # pipe-pane's cat has not started yet
            return b""

    def snapshots():
        return len(re.findall(rb"^--- \S+ \d+ open connections?\r?$", output(), re.M))
    tcltest.wait_until(lambda: snapshots() >= 1, 10, "a snapshot on the terminal", step=0.05)
    tmux.key("q")
    seen = snapshots()
    tcltest.wait_until(lambda: snapshots() > seen, 5, "more snapshots after q", step=0.05)
    tmux.key("C-c")
    status, after = await_exit(tmux)
    assert status == 0, "exit status %d\nstderr:\n%s" % (status, tmux.stderr_now())
    data = output()
    assert b"\x1b" not in data, "an escape byte at %d: %r" % (
        data.index(b"\x1b"), data[max(0, data.index(b"\x1b") - 80):data.index(b"\x1b") + 20])
    assert b"COMM " in data and b"RTT(ms)" in data, data[-2000:]
