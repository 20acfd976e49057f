# SPDX-License-Identifier: GPL-2.0-only
"""The man page and the bash completion against the tool itself: mandoc's
lint, the options of --help, the man page's OPTIONS entries and the
completion's words as one set, the completion driven in a real bash, and
the JSON keys and exit statuses the man page lists against a real run."""
import os
import re
import signal
import subprocess
import tempfile

import pytest

import tclcgroup
import tcltest

pytestmark = pytest.mark.host

ROOT = os.path.abspath(os.path.join(tcltest.HERE, "..", ".."))
MAN = os.path.join(ROOT, "man", "tcpconnlog.8")
COMPLETION = os.path.join(ROOT, "completion", "tcpconnlog")
BASH_COMPLETION = "/usr/share/bash-completion/bash_completion"
BACKENDS = ["auto", "fentry", "kprobe", "tracepoint"]
# messages of -T lint about the system, not the page: the peers' pages
# (tcpconnect(8), tcplife(8)) are not installed everywhere, and mandoc's
# own database may be older than the pages it has
LINT_ENVIRONMENT = re.compile(r"referenced manual not found|outdated mandoc\.db")


# --- the three lists of options ------------------------------------------------

def help_options():
    """Every -X and --long of --help's option lines (the lines that begin,
    indented a little, with a dash; descriptions start at column 25)."""
    r = tcltest.run_tool("--help")
    assert r.returncode == 0, r.stderr
    opts = set()
    for line in r.stdout.splitlines():
        m = re.match(r"^ {1,8}(-.*)$", line)
        if not m:
            continue
        column = re.split(r" {2,}", m.group(1))[0]
        opts.update(re.findall(r"(?<![\w-])(--?[A-Za-z0-9][\w-]*)", column))
    assert {"-h", "--help", "-j", "--json"} <= opts, "--help not parsed: %s" % sorted(opts)
    return opts


def man_sections():
    """{section name: its lines} of the man page source."""
    sections, name = {}, None
    with open(MAN) as f:
        for line in f:
            if line.startswith(".Sh "):
                name = line[4:].strip()
                sections[name] = []
            elif name:
                sections[name].append(line.rstrip("\n"))
    return sections


def man_options():
    """The options of the .It entries of OPTIONS ("Fl b" is -b, "Fl \\-json"
    --json)."""
    opts = set()
    for line in man_sections()["OPTIONS"]:
        if line.startswith(".It "):
            for flag in re.findall(r"\bFl\s+(\S+)", line):
                opts.add("-" + flag.replace("\\-", "-"))
    return opts


def man_keys(section="OUTPUT"):
    """Every key the section names in bold (.It Sy pid , tid / .Sy lost)."""
    keys = set()
    for line in man_sections()[section]:
        if not line.startswith("."):
            continue
        words = line[1:].split()
        for i, w in enumerate(words):
            if w != "Sy":
                continue
            for k in words[i + 1:]:
                if re.fullmatch(r"[a-z][a-z0-9_]*", k):
                    keys.add(k)
                elif k != ",":
                    break
    return keys


def bash(script, with_bash_completion):
    """Run a script in a bash without rc files, with the completion (and
    bash-completion's main script before it) sourced."""
    prelude = ""
    if with_bash_completion:
        assert os.path.exists(BASH_COMPLETION), (
            "%s missing: install the bash-completion package" % BASH_COMPLETION)
        prelude = "source %s\n" % BASH_COMPLETION
    prelude += "source %s\n" % COMPLETION
    r = subprocess.run(["bash", "--norc", "--noprofile", "-c", prelude + script],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                       timeout=30, stdin=subprocess.DEVNULL)
    assert r.returncode == 0 and not r.stderr, "bash: %d\n%s%s" % (r.returncode, r.stdout,
                                                                 r.stderr)
    return r.stdout


def complete(line, with_bash_completion):
    """COMPREPLY for the end of `line`, as bash hands it to the function:
    words split at blanks and at '=' (COMP_WORDBREAKS), the cursor at the
    end."""
    words = [w for w in re.split(r"(=)|\s+", line) if w]
    if line.endswith(" "):
        words.append("")
    quoted = " ".join("'%s'" % w for w in words)
    out = bash("""
COMP_LINE=%s
COMP_POINT=${#COMP_LINE}
COMP_WORDS=(%s)
COMP_CWORD=$(( ${#COMP_WORDS[@]} - 1 ))
_tcpconnlog tcpconnlog "${COMP_WORDS[COMP_CWORD]}" "${COMP_WORDS[COMP_CWORD-1]}"
printf '%%s\\n' "${COMPREPLY[@]}"
""" % ("'%s'" % line, quoted), with_bash_completion)
    return [w for w in out.split("\n") if w]


def completion_options(with_bash_completion):
    """The options the completion offers for a lone dash ('--top=' is
    --top with its value)."""
    return {w.rstrip("=") for w in complete("tcpconnlog -", with_bash_completion)}


# --- lint and rendering --------------------------------------------------------

def test_man_page_lints_clean():
    """mandoc -T lint: nothing at level warning or above, and no style
    message but those about the system's own set of pages."""
    strict = subprocess.run(["mandoc", "-T", "lint", "-W", "warning", MAN],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    assert strict.returncode == 0 and not strict.stdout, strict.stdout
    every = subprocess.run(["mandoc", "-T", "lint", MAN], stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, text=True)
    left = [l for l in every.stdout.splitlines() if not LINT_ENVIRONMENT.search(l)]
    assert not left, "\n".join(left)


def test_man_renders_with_man_l():
    """man -l (groff) formats it without warnings, with every section."""
    r = subprocess.run(["man", "--warnings", "-l", MAN], stdout=subprocess.PIPE,
                       stderr=subprocess.PIPE, text=True, env=dict(os.environ, MANWIDTH="80"),
                       timeout=30)
    assert r.returncode == 0 and not r.stderr, r.stderr
    heads = [l for l in r.stdout.splitlines() if re.match(r"^[A-Z][A-Z ]+$", l)]
    for want in ["NAME", "SYNOPSIS", "DESCRIPTION", "OPTIONS", "OUTPUT", "PRIVILEGES",
                 "OVERHEAD", "ENVIRONMENT", "FILES", "EXIT STATUS", "EXAMPLES", "SEE ALSO"]:
        assert want in heads, "no %s section in man -l's output: %s" % (want, heads)
    assert max(len(l) for l in r.stdout.splitlines()) <= 80
    see_also = r.stdout.split("SEE ALSO", 1)[1]
    for page in ["tcpconnect(8)", "tcplife(8)", "bpftool(8)"]:
        assert page in see_also


# --- --help, man page and completion: one set ---------------------------------------

def test_man_page_documents_every_option_of_help():
    """Each option of --help has an entry in OPTIONS, and OPTIONS has no entry
    that --help does not know."""
    helped, documented = help_options(), man_options()
    assert not helped - documented, "in --help, not in the man page's OPTIONS: %s" % sorted(
        helped - documented)
    assert not documented - helped, "in the man page's OPTIONS, not in --help: %s" % sorted(
        documented - helped)


@pytest.mark.parametrize("with_bash_completion", [True, False],
                         ids=["bash-completion", "plain-bash"])
def test_completion_offers_every_option_of_help(with_bash_completion):
    helped, offered = help_options(), completion_options(with_bash_completion)
    assert not helped - offered, "in --help, not completed: %s" % sorted(helped - offered)
    assert not offered - helped, "completed, not in --help: %s" % sorted(offered - helped)
    longs = {w for w in complete("tcpconnlog --", with_bash_completion)}
    assert longs and all(w.startswith("--") for w in longs), longs


# --- the completion in a real bash ---------------------------------------------

def test_completion_passes_shellcheck():
    r = subprocess.run(["shellcheck", "-s", "bash", COMPLETION], stdout=subprocess.PIPE,
                       stderr=subprocess.STDOUT, text=True)
    assert r.returncode == 0, r.stdout


@pytest.mark.parametrize("with_bash_completion", [True, False],
                         ids=["bash-completion", "plain-bash"])
def test_completion_registered(with_bash_completion):
    out = bash("complete -p tcpconnlog", with_bash_completion)
    assert out.strip() == "complete -F _tcpconnlog tcpconnlog", out


def test_completion_found_where_make_install_puts_it(tmp_path):
    """bash-completion loads it on first use from a completions directory
    (BASHCOMPDIR), named after the command."""
    d = tmp_path / "bash-completion" / "completions"
    d.mkdir(parents=True)
    (d / "tcpconnlog").write_text(open(COMPLETION).read())
    r = subprocess.run(["bash", "--norc", "--noprofile", "-c",
                        "source %s; complete -p tcpconnlog 2>/dev/null && exit 3; "
                        "__load_completion tcpconnlog && complete -p tcpconnlog"
                        % BASH_COMPLETION],
                       stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, timeout=30,
                       env=dict(os.environ, BASH_COMPLETION_USER_DIR=str(tmp_path /
                                                                         "bash-completion")))
    assert r.returncode == 0 and r.stdout.strip() == "complete -F _tcpconnlog tcpconnlog", (
        r.returncode, r.stdout, r.stderr)


@pytest.fixture(scope="module")
def places():
    """A file, a pinned BPF map, a cgroup directory and a named network
    namespace for the completion to find, removed afterwards."""
    tag = "tcldocs%d" % os.getpid()
    tmp = tempfile.mkdtemp(prefix="tcl-docs-")
    for name in ["btf-a", "btf-b"]:
        with open(os.path.join(tmp, name), "w") as f:
            f.write("x")
    pinned = "/sys/fs/bpf/%s" % tag
    tcltest.run(["bpftool", "map", "create", pinned, "type", "hash", "key", "8", "value", "8",
                 "entries", "4", "name", "tcldocs"])
    cgroups = tclcgroup.Cgroups()
    cg = cgroups.make(name=tag)
    netns = tcltest.NetNS("docs")
    try:
        yield {"tmp": tmp, "pinned": pinned, "cgroup": cg, "mount": cgroups.mount,
               "netns": netns.name}
    finally:
        netns.delete()
        cgroups.cleanup()
        os.unlink(pinned)
        for name in os.listdir(tmp):
            os.unlink(os.path.join(tmp, name))
        os.rmdir(tmp)


@pytest.mark.parametrize("with_bash_completion", [True, False],
                         ids=["bash-completion", "plain-bash"])
def test_completion_values(with_bash_completion, places):
    def comp(line):
        return complete(line, with_bash_completion)

    cg_longs = {w.rstrip("=") for w in help_options() if w.startswith("--cg")}
    assert {w.rstrip("=") for w in comp("tcpconnlog --cg")} == cg_longs == {
        "--cgroup", "--cgroupmap"}
    assert comp("tcpconnlog --backe") == ["--backend="]
    for line in ["tcpconnlog -b ", "tcpconnlog --backend ", "tcpconnlog --backend=",
                 "tcpconnlog -j --backend="]:
        assert comp(line) == BACKENDS, line
    assert comp("tcpconnlog -b k") == ["kprobe"]
    assert comp("tcpconnlog --by ") == ["command", "container"]
    assert comp("tcpconnlog --by=co") == ["command", "container"]
    for line in ["tcpconnlog -u ro", "tcpconnlog --uid=ro", "tcpconnlog --user ro"]:
        got = comp(line)
        assert "root" in got and all(u.startswith("ro") for u in got), (line, got)
    tmp = places["tmp"]
    for line in ["tcpconnlog --btf %s/btf-" % tmp, "tcpconnlog --btf=%s/btf-" % tmp]:
        assert comp(line) == ["%s/btf-a" % tmp, "%s/btf-b" % tmp], line
    pinned = places["pinned"]
    for opt in ["-M ", "--mntnsmap=", "--cgroupmap "]:
        assert pinned in comp("tcpconnlog " + opt), opt
        assert comp("tcpconnlog %s%s" % (opt, pinned[:-2])) == [pinned], opt
    name = os.path.basename(places["cgroup"].dir)
    # as /proc/PID/cgroup writes it, or as a file path under the mount
    assert comp("tcpconnlog --cgroup /%s" % name[:-2]) == ["/%s/" % name]
    assert comp("tcpconnlog --cgroup=%s/%s" % (places["mount"], name[:-2])) == [
        "%s/%s/" % (places["mount"], name)]
    netns = "/run/netns/" + places["netns"]
    assert comp("tcpconnlog -N /run/netns/" + places["netns"][:-2]) == [netns]
    assert comp("tcpconnlog --netns=/proc/%d/" % os.getpid()) == [
        "/proc/%d/ns/net" % os.getpid()]
    # numbers: nothing to offer
    for opt in ["-p ", "--pid=", "-P ", "--port ", "-D ", "--duration=", "--max-events ",
                "--ringbuf-size=", "--dns-table=", "--resolve-timeout ", "--top="]:
        assert comp("tcpconnlog " + opt) == [], opt
    # a flag without a value is followed by options again
    assert "--json" in comp("tcpconnlog -l --")
    assert "--json" in comp("tcpconnlog --top --")


@pytest.mark.parametrize("with_bash_completion", [True, False],
                         ids=["bash-completion", "plain-bash"])
def test_completion_through_readline(with_bash_completion, places):
    """Tab pressed in an interactive bash in tmux: '=' and the space after a
    value come out as a user sees them."""
    # a server of its own per run: one ending may still hold a shared name
    sock = "tcl-docs-%d-%s" % (os.getpid(), "bc" if with_bash_completion else "plain")
    tmux = ["tmux", "-L", sock]
    prelude = "source %s; " % COMPLETION
    if with_bash_completion:
        prelude = "source %s; " % BASH_COMPLETION + prelude
    tcltest.run(tmux + ["-f", "/dev/null", "new-session", "-d", "-x", "200", "-y", "10",
                        "bash --norc --noprofile"])

    def line():
        # -N keeps the space a completion leaves; the rows below are empty
        rows = tcltest.run(tmux + ["capture-pane", "-p", "-N"]).stdout.split("\n")
        return ([r for r in rows if r] or [""])[-1]

    def typed(text, want):
        tcltest.run(tmux + ["send-keys", "-l", "--", text])
        tcltest.run(tmux + ["send-keys", "Tab"])
        tcltest.wait_until(lambda: line() == want, 5, "the line %r (it is %r)" % (want, line()))

    try:
        tcltest.run(tmux + ["send-keys", "-l", "--", prelude + "PS1='$ '; clear"])
        tcltest.run(tmux + ["send-keys", "Enter"])
        tcltest.wait_until(lambda: line() == "$ ", 5, "the prompt")
        typed("tcpconnlog --backe", "$ tcpconnlog --backend=")
        typed("kp", "$ tcpconnlog --backend=kprobe ")
        typed("--btf=%s/btf-" % places["tmp"],
              "$ tcpconnlog --backend=kprobe --btf=%s/btf-" % places["tmp"])
        typed("a", "$ tcpconnlog --backend=kprobe --btf=%s/btf-a " % places["tmp"])
        typed("-u ro", "$ tcpconnlog --backend=kprobe --btf=%s/btf-a -u root "
              % places["tmp"])
    finally:
        tcltest.run(tmux + ["kill-server"], check=False)


# --- what the man page says against what the tool does ----------------------------

def test_exit_statuses_as_documented():
    items = [l.split()[1] for l in man_sections()["EXIT STATUS"] if l.startswith(".It ")]
    assert items == ["0", "1", "2"], items
    assert tcltest.run_tool("--help").returncode == 0
    assert tcltest.run_tool("--no-such-option").returncode == 2
    assert tcltest.run_tool("-b", "nosuch").returncode == 2
    assert tcltest.run_tool("--btf=/nonexistent/vmlinux").returncode == 2
    # readable, but not BTF: stops before loading
    assert tcltest.run_tool("--btf=%s" % MAN).returncode == 1


def keys_of(records, event):
    found = [r for r in records if r.get("event") == event]
    assert found, "no %s record" % event
    return set().union(*(r.keys() for r in found))


def test_every_json_key_is_documented(tracer):
    """Run the tracer for real with every record kind's keys on and check
    that the man page's OUTPUT names each key it printed."""
    documented = man_keys()
    printed = {}

    srv = tcltest.Listener()
    refused = tcltest.free_port()
    t = tracer("-lA", "-d", "-r", "--stats-interval=1")
    for port in [srv.port, refused]:
        try:
            with tcltest.socket.create_connection(("127.0.0.1", port), timeout=5):
                pass
        except ConnectionRefusedError:
            pass
    tcltest.wait_until(lambda: t.stdout_now().count('"event":"close"') >= 1, 10,
                       "a close record")
    tcltest.wait_until(lambda: '"event":"stats"' in t.stdout_now(), 10, "a stats record")
    srv.close()
    res = t.stop()
    assert res.rc == 0, res
    for event in ["connect", "accept", "close"]:
        printed[event] = keys_of(res.records, event)
    printed["start"] = set(res.start)
    stats = [r for r in res.records if r["event"] == "stats"]
    printed["stats"] = keys_of(res.records, "stats") | set().union(
        *(set(r["attempts"]) | set(r["table"]) for r in stats))

    # -c per container, --top snapshots and the lost line
    t = tracer("-c", "--by=container")
    srv = tcltest.Listener()
    tcltest.socket.create_connection(("127.0.0.1", srv.port)).close()
    res = t.stop()
    srv.close()
    printed["count"] = keys_of(res.records, "count")
    t = tracer("--top=1")
    srv = tcltest.Listener()
    conn = tcltest.socket.create_connection(("127.0.0.1", srv.port))
    tcltest.wait_until(lambda: '"connections":[{' in t.stdout_now(), 10, "a top snapshot")
    res = t.stop()
    conn.close()
    srv.close()
    top = [r for r in res.records if r["event"] == "top"]
    printed["top"] = set(top[0].keys()) | set().union(
        *(c.keys() for r in top for c in r["connections"]))

    t = tracer("--ringbuf-size=4096", "-r", "-d")
    t.send_signal(signal.SIGSTOP)
    srv = tcltest.Listener(keep=False)
    for _ in range(300):
        tcltest.socket.create_connection(("127.0.0.1", srv.port)).close()
    t.send_signal(signal.SIGCONT)
    res = t.stop()
    srv.close()
    printed["lost"] = keys_of(res.records, "lost")

    missing = {e: sorted(k - documented) for e, k in printed.items() if k - documented}
    assert not missing, "printed, not in the man page's OUTPUT: %s" % missing
