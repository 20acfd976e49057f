# SPDX-License-Identifier: GPL-2.0-only
"""The tool built and installed as a distribution does it: compiled with
dpkg-buildflags' hardening flags (checked on every compile and link line
and in the binary's ELF), installed into a DESTDIR with directories of
our choosing, run from there, and uninstalled without a trace. Each build
goes to its own OUTPUT directory; the worktree's build/ is not touched."""
import os
import re
import stat
import subprocess

import pytest

import tcltest

pytestmark = pytest.mark.host

REPO = os.path.abspath(os.path.join(tcltest.HERE, "..", ".."))
FLAG_VARS = ("CFLAGS", "CPPFLAGS", "LDFLAGS")
# the flags a distribution build adds, and what each leaves in the ELF
HARDENING = "hardening=+all"


def make(*args, env=None, check=True):
    """make -C REPO ARGS; returns the CompletedProcess (stdout+stderr)."""
    res = subprocess.run(["make", "-C", REPO, "--no-print-directory"] + list(args),
                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, text=True, env=env, timeout=300)
    if check:
        assert res.returncode == 0, "make %s failed:\n%s" % (" ".join(args), res.stdout)
    return res


def build_flags():
    env = dict(os.environ, DEB_BUILD_MAINT_OPTIONS=HARDENING)
    return {v: subprocess.run(["dpkg-buildflags", "--get", v], env=env, check=True,
                              stdout=subprocess.PIPE, text=True).stdout.strip()
            for v in FLAG_VARS}


def plain_env():
    """The environment without build flags of its own."""
    return {k: v for k, v in os.environ.items() if k not in FLAG_VARS + ("MAKEFLAGS",)}


@pytest.fixture(scope="module")
def builds(tmp_path_factory):
    """Two builds: this tree with dpkg-buildflags' values on the command
    line, and make dist's tarball unpacked and built with no flags (the
    control that shows what the flags add, and the tarball's own test)."""
    top = tmp_path_factory.mktemp("builds")
    flags = build_flags()
    hard = str(top / "hardened")
    log = make("-j2", "OUTPUT=" + hard, "all",
               *["%s=%s" % (k, v) for k, v in flags.items()], env=plain_env()).stdout
    # make dist: HEAD as committed, its version stamped in
    stamped = version_of(REPO).replace("-dirty", "")
    dist_log = make("OUTPUT=" + str(top / "dist"), "dist").stdout
    tarball = top / "dist" / ("tcpconnlog-%s.tar.gz" % stamped)
    assert tarball.is_file(), dist_log
    subprocess.run(["tar", "-xzf", str(tarball), "-C", str(top)], check=True)
    unpacked = top / ("tcpconnlog-" + stamped)
    res = subprocess.run(["make", "-C", str(unpacked), "-j2", "--no-print-directory", "all"],
                         env=plain_env(), stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, timeout=300)
    assert res.returncode == 0, res.stdout
    return {"flags": flags, "log": log, "hardened": hard, "plain": str(unpacked / "build"),
            "unpacked": unpacked, "stamped": stamped}


def readelf(*args):
    return subprocess.run(["readelf", "-W"] + list(args), check=True,
                          stdout=subprocess.PIPE, text=True).stdout


def elf_facts(path):
    head, dyn, segs, syms = (readelf(o, path) for o in ("-h", "-d", "-l", "--dyn-syms"))
    flags = " ".join(l for l in dyn.splitlines() if "(FLAGS" in l)
    return {
        "pie": re.search(r"Type:\s+DYN", head) is not None and "PIE" in flags,
        "relro": "GNU_RELRO" in segs,
        "bindnow": "BIND_NOW" in flags or re.search(r"\bNOW\b", flags) is not None,
        "stack_protector": "__stack_chk_fail" in syms,
        "fortify": re.search(r"\b__\w+_chk\b", syms.replace("__stack_chk_fail", "")) is not None,
    }


def test_build_flags_reach_every_compile_and_link(builds):
    flags = builds["flags"]
    want = {"CFLAGS": ["-fstack-protector-strong", "-Werror=format-security"],
            "CPPFLAGS": ["-D_FORTIFY_SOURCE=2"],
            "LDFLAGS": ["-Wl,-z,relro", "-Wl,-z,now"]}
    for var, needed in want.items():
        for f in needed:
            assert f in flags[var].split(), "dpkg-buildflags %s lacks %s: %s" % (var, f, flags[var])
    lines = builds["log"].splitlines()
    compiles = [l for l in lines if re.search(r" -c src/\S+\.c ", l) and ".bpf.c" not in l]
    links = [l for l in lines if re.search(r" -o \S+/tcpconnlog$", l)]
    assert len(compiles) >= 30 and len(links) == 1, builds["log"]
    for l in compiles:
        words = l.split()
        for f in flags["CFLAGS"].split() + flags["CPPFLAGS"].split():
            assert f in words, "%s missing from a compile:\n%s" % (f, l)
        # the project's own flags stay, whatever CFLAGS says
        for f in ("-std=gnu11", "-D_GNU_SOURCE", "-Wall"):
            assert f in words, "%s missing from a compile:\n%s" % (f, l)
    for f in flags["LDFLAGS"].split() + flags["CFLAGS"].split():
        assert f in links[0].split(), "%s missing from the link:\n%s" % (f, links[0])


def test_hardened_binary_elf(builds):
    hard = elf_facts(os.path.join(builds["hardened"], "tcpconnlog"))
    assert hard == {"pie": True, "relro": True, "bindnow": True,
                    "stack_protector": True, "fortify": True}, hard
    # without the flags (the build from the tarball) two of them are
    # missing: what is seen above is their doing, not the compiler's
    # defaults (Debian's gcc: PIE and RELRO by default, BIND_NOW and
    # _FORTIFY_SOURCE not; Ubuntu's turns those on too)
    plain = elf_facts(os.path.join(builds["plain"], "tcpconnlog"))
    assert not plain["bindnow"] and not plain["fortify"], plain


def tree(root):
    """(files, directories) under root, relative."""
    files, dirs = [], []
    for d, sub, names in os.walk(root):
        dirs += [os.path.relpath(os.path.join(d, s), root) for s in sub]
        files += [os.path.relpath(os.path.join(d, n), root) for n in names]
    return sorted(files), sorted(dirs)


def test_install_run_uninstall(builds, tmp_path):
    dest = str(tmp_path / "stage")
    man, comp = os.path.join(REPO, "man/tcpconnlog.8"), os.path.join(REPO, "completion/tcpconnlog")
    schema = os.path.join(REPO, "schema/tcpconnlog.schema.json")
    where = ["PREFIX=/opt/tcl", "SBINDIR=/opt/tcl/bin", "MANDIR=/opt/tcl/doc/man",
             "BASHCOMPDIR=/etc/tcl-completions", "DATADIR=/opt/tcl/data"]
    common = ["OUTPUT=" + builds["hardened"], "DESTDIR=" + dest] + where
    log = make("install", *common).stdout
    assert "cc " not in log, "install rebuilt the binary:\n" + log
    files, _ = tree(dest)
    assert files == ["etc/tcl-completions/tcpconnlog", "opt/tcl/bin/tcpconnlog",
                     "opt/tcl/data/tcpconnlog/tcpconnlog.schema.json",
                     "opt/tcl/doc/man/man8/tcpconnlog.8"], files
    for rel, src, mode in (("opt/tcl/bin/tcpconnlog", os.path.join(builds["hardened"], "tcpconnlog"), 0o755),
                           ("opt/tcl/doc/man/man8/tcpconnlog.8", man, 0o644),
                           ("etc/tcl-completions/tcpconnlog", comp, 0o644),
                           ("opt/tcl/data/tcpconnlog/tcpconnlog.schema.json", schema, 0o644)):
        st = os.stat(os.path.join(dest, rel))
        assert stat.S_IMODE(st.st_mode) == mode, "%s: mode %o" % (rel, st.st_mode)
        with open(os.path.join(dest, rel), "rb") as a, open(src, "rb") as b:
            assert a.read() == b.read(), rel

    # the installed binary, run from there
    binary = os.path.join(dest, "opt/tcl/bin/tcpconnlog")
    version = subprocess.run([os.path.join(REPO, "scripts/version")], check=True,
                             stdout=subprocess.PIPE, text=True).stdout.strip()
    res = subprocess.run([binary, "--version"], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE, text=True, timeout=30)
    assert res.returncode == 0 and res.stderr == "", res
    version_lines = res.stdout.splitlines()
    assert version_lines[0] == "tcpconnlog " + version, res.stdout
    res = subprocess.run([binary, "--help"], stdout=subprocess.PIPE, text=True, timeout=10)
    assert res.returncode == 0 and res.stdout.startswith("Usage: tcpconnlog "), res.stdout
    res = subprocess.run([binary, "--check"], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                         text=True, timeout=60)
    want = tcltest.expected_backend("auto") + ": ok"
    assert res.returncode == 0 and want in res.stdout.splitlines(), res
    # --version's backend lines are --check's
    assert version_lines[3:] == res.stdout.splitlines(), (version_lines, res.stdout)

    # uninstall: no file left; the directories install made stay, empty
    # (make uninstall never removes a directory: /usr/local/sbin and the
    # like are shared with other packages)
    make("uninstall", *common)
    files, dirs = tree(dest)
    assert files == [], files
    assert set(dirs) <= {"etc", "etc/tcl-completions", "opt", "opt/tcl", "opt/tcl/bin",
                         "opt/tcl/doc", "opt/tcl/doc/man", "opt/tcl/doc/man/man8",
                         "opt/tcl/data", "opt/tcl/data/tcpconnlog"}, dirs


def test_install_refuses_a_tree_without_its_man_page(builds, tmp_path):
    dest = str(tmp_path / "stage")
    res = make("install", "OUTPUT=" + builds["hardened"], "DESTDIR=" + dest,
               "MANPAGE=" + str(tmp_path / "missing.8"), check=False)
    assert res.returncode != 0
    assert "missing.8 is missing from this tree" in res.stdout, res.stdout
    assert not os.path.exists(dest), tree(dest)


def test_pkg_config_missing_fails_the_link_clearly(builds):
    # the objects are there: only the link of the static binary is left
    res = make("OUTPUT=" + builds["plain"], "PKG_CONFIG=false", "static", check=False)
    assert res.returncode != 0
    assert "pkg-config (false) does not know libbpf libelf zlib libcap-ng" in res.stdout, res.stdout


# --- the version: scripts/version in git, make dist's tarball without ----

def git(repo, *args):
    return subprocess.run(["git", "-C", repo, "-c", "user.name=t", "-c", "user.email=t@t"]
                          + list(args), check=True, stdout=subprocess.PIPE, text=True).stdout.strip()


def version_of(tree_dir):
    return subprocess.run(["sh", os.path.join(REPO, "scripts/version"), tree_dir], check=True,
                          stdout=subprocess.PIPE, text=True).stdout.strip()


def test_version_string_from_git(tmp_path):
    repo = str(tmp_path / "repo")
    os.mkdir(repo)
    with open(os.path.join(repo, "VERSION"), "w") as f:
        f.write("2.3.4\n")
    # outside git: VERSION as it is
    assert version_of(repo) == "2.3.4"
    git(repo, "init", "-q")
    git(repo, "add", "VERSION")
    git(repo, "commit", "-q", "-m", "one")
    head = git(repo, "rev-parse", "--short=12", "HEAD")
    # no tag yet: every commit counts
    assert version_of(repo) == "2.3.4+git.1.%s" % head
    git(repo, "tag", "v2.3.4")
    assert version_of(repo) == "2.3.4"
    with open(os.path.join(repo, "VERSION"), "a") as f:
        f.write("\n")
    assert version_of(repo) == "2.3.4-dirty"
    git(repo, "commit", "-q", "-am", "two")
    head = git(repo, "rev-parse", "--short=12", "HEAD")
    assert version_of(repo) == "2.3.4+git.1.%s" % head
    # a tree inside another checkout, not its own: the tarball case
    inner = os.path.join(repo, "unpacked")
    os.mkdir(inner)
    with open(os.path.join(inner, "VERSION"), "w") as f:
        f.write("2.3.4+git.1.%s\n" % head)
    assert version_of(inner) == "2.3.4+git.1.%s" % head


def test_dist_tarball_builds_and_says_its_version(builds):
    top, stamped = builds["unpacked"], builds["stamped"]
    assert (top / "VERSION").read_text() == stamped + "\n"
    assert not (top / ".git").exists()
    with open(os.path.join(REPO, "VERSION")) as f:
        release = f.read().strip()
    assert stamped == release or stamped.startswith(release + "+git."), stamped
    res = subprocess.run([str(top / "build/tcpconnlog"), "--version"], stdout=subprocess.PIPE,
                         text=True, timeout=30)
    assert res.returncode == 0
    assert res.stdout.splitlines()[0] == "tcpconnlog " + stamped, res.stdout
