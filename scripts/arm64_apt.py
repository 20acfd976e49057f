# SPDX-License-Identifier: GPL-2.0-only
"""arm64 packages from Debian's archive without touching the host's apt or dpkg.

apt runs with its own state under one directory (lists, cache, an empty
dpkg status) and arm64 as its only architecture, so it resolves and
downloads arm64 packages as if on an arm64 machine with nothing
installed. The host never gets a foreign architecture (dpkg
--add-architecture) nor an arm64 package: installing libbpf-dev:arm64
through multiarch would upgrade host libraries (shared/kernel-facts.md).
Used by scripts/arm64-sysroot and scripts/arm64-vmlinux.
"""

import re
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "vm"))
from vmtest import host_archive  # noqa: E402  (the host's Debian URI and key)


class AptError(Exception):
    """A failure with a one-line message for the user."""


def log(prog, msg):
    print("%s: %s" % (prog, msg), file=sys.stderr, flush=True)


def options(state, suite=None):
    """apt options keeping all state under `state`. suite None: the host's
    own sources (the same suite and security updates as its libraries);
    else that suite of the host's Debian archive, main only."""
    for d in (state / "lists" / "partial", state / "cache", state / "empty.d"):
        d.mkdir(parents=True, exist_ok=True)
    (state / "status").touch()  # nothing installed: every dependency counts
    settings = {
        "Dir::State::Lists": state / "lists",
        "Dir::State::status": state / "status",
        "Dir::Cache": state / "cache",
        "APT::Architecture": "arm64",
        "APT::Architectures": "arm64",
        "Acquire::Languages": "none",
        # the _apt user cannot write into a root-owned build tree
        "APT::Sandbox::User": "root",
    }
    if suite:
        uri, signed_by = host_archive()
        signed = "[signed-by=%s] " % signed_by if signed_by else ""
        (state / "sources.list").write_text("deb %s%s %s main\n" % (signed, uri, suite))
        settings.update({"Dir::Etc::sourcelist": state / "sources.list",
                         "Dir::Etc::sourceparts": state / "empty.d"})
    opts = []
    for name, value in settings.items():
        opts += ["-o", "%s=%s" % (name, value)]
    return opts


def run(argv, what, **kw):
    r = subprocess.run(argv, capture_output=True, text=True, **kw)
    if r.returncode != 0:
        err = " / ".join(l for l in r.stderr.splitlines() if l.startswith(("E:", "W:"))) \
            or r.stderr.strip().replace("\n", " / ")
        raise AptError("%s failed: %s" % (what, err))
    return r.stdout


def update(opts):
    run(["apt-get", "-q", "--error-on=any", *opts, "update"],
        "apt-get update (offline, or a source without arm64?)")


def closure(opts, packages):
    """{name: version} of the packages and everything they depend on
    (no recommends), as apt would install them on an empty arm64 system."""
    out = run(["apt-get", "-s", "-q", "--no-install-recommends", *opts, "install", *packages],
              "resolving " + " ".join(packages))
    found = dict(re.findall(r"^Inst (\S+) \((\S+) ", out, re.M))
    if not found:
        raise AptError("resolving %s gave no package to download" % " ".join(packages))
    return found


def deb_id(deb):
    """(package, version) from a .deb's control file."""
    out = subprocess.run(["dpkg-deb", "-f", str(deb), "Package", "Version"],
                         capture_output=True, text=True, check=True).stdout
    fields = dict(l.split(": ", 1) for l in out.splitlines() if ": " in l)
    return fields["Package"], fields["Version"]


def download(opts, packages, dest, prog):
    """The .deb of each {name: version} in dest, which then holds only
    those: what is there already is not fetched again."""
    dest.mkdir(parents=True, exist_ok=True)
    have = {}
    for deb in dest.glob("*.deb"):
        pv = deb_id(deb)
        if packages.get(pv[0]) == pv[1]:
            have[pv[0]] = deb
        else:
            deb.unlink()
    missing = ["%s=%s" % pv for pv in sorted(packages.items()) if pv[0] not in have]
    if missing:
        log(prog, "downloading %d packages into %s" % (len(missing), dest))
        run(["apt-get", "-q", *opts, "download", *missing], "apt-get download", cwd=dest)
    debs = {deb_id(deb)[0]: deb for deb in dest.glob("*.deb")}
    lost = sorted(set(packages) - set(debs))
    if lost:
        raise AptError("apt-get download left out %s" % " ".join(lost))
    return debs
