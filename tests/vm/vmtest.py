#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-only
"""Run commands and the end-to-end suite of tcpconnlog on stock Debian kernels.

The host kernel here cannot run the kprobe and fentry backends, so this
harness boots a stock Debian kernel under QEMU (software emulation: KVM hangs
on the development host) and runs commands in it against the host's own root
filesystem: the guest sees the host's files through a read-only 9p share
with an in-memory overlay on top, so the freshly built tool, python3, pytest,
nft and ip run unchanged and nothing the guest writes reaches the host.

Usage (as root, from the repository; Python 3 standard library only):

  tests/vm/vmtest.py fetch 6.1        download/refresh the newest kernel of a suite
  tests/vm/vmtest.py version 6.1      print its release and Debian version
  tests/vm/vmtest.py prepare --kernels 5.10,arm64-6.1
                                      what suite needs (kernels as cached, their
                                      initramfs, arm64's root), no guest booted
  tests/vm/vmtest.py run --kernel 6.1 [--timeout S] [--tag NAME] [--root R] -- COMMAND...
  tests/vm/vmtest.py suite --kernels 5.10,6.1,6.12,7.2 \\
        [--backends kprobe,fentry,tracepoint] [--tests tests/e2e] [--jobs 2]

Kernels: 5.10 (bullseye), 6.1 (bookworm), 6.12 (trixie), 7.2 (sid) for
x86-64; arm64-6.1 (arm64-bookworm) and arm64-6.12 (arm64-trixie) for arm64,
booted with qemu-system-aarch64 (-M virt) into an arm64 Debian root
(below); the Debian suite names are accepted too.

fetch: a private apt configuration under build/vm/apt/KERNEL/ (same archive
URI and key as the host's Debian entry in /etc/apt, another suite) resolves
linux-image-ARCH to its versioned packages (for arm64, with busybox-static
of the same suite) and downloads them into build/vm/kernels/KERNEL/ (apt
set to the guest's architecture alone); the host's apt state is never
touched. They are
unpacked into build/vm/kernels/KERNEL/root and depmod is run there;
stamp.json records what was unpacked. `run` and `suite` reuse a stamped
kernel without the network; only `fetch` looks for a newer one. For an
arm64 kernel, fetch also resolves the Debian root (DEBIAN_ROOT_PACKAGES of
bookworm and all they depend on, one root for both arm64 kernels) with
another private apt state, downloads it into build/vm/userland/arm64-
bookworm/debs only when a package changed, and unpacks it there into root
(merged /usr; the files maintainer scripts would make that the tests
need; python modules compiled by the host's python3.11).

run: the guest runs COMMAND with /bin/sh -c (several words are quoted and
joined, one word is taken as a shell string) in the directory vmtest.py was
started from, with stdin from /dev/null, as root, with proc, sysfs,
devtmpfs, devpts, tracefs, debugfs, securityfs, cgroup2 (at /sys/fs/cgroup),
bpffs, and tmpfs on /run mounted, lo up, and the kernel's module
autoloader working (nft, veth, netns). The command's output is streamed; the
whole console goes to build/vm/logs/KERNEL-TAG.log. The exit status is the
command's; 125 when the guest did not finish (time limit, boot failure:
the end of the console log is printed) or the harness failed (download,
bad argument). The guest sees the host's files everywhere, /tmp included;
whatever it writes stays in guest memory, except in the results directory.
The guest has no network interface but lo.
An arm64 guest cannot run the host's programs: its root (--root debian,
the default) is the arm64 Debian root seen through the host share with an
in-memory overlay, /tmp a tmpfs, and the checkout at its own path
(through the host's overlay: writable, in memory); run it from inside the
checkout, with an arm64 static binary (TCPCONNLOG_BIN for the pytest
suite). --root busybox is a tmpfs with the arm64 busybox (every applet
linked), /etc/passwd with root and nobody, and the checkout
(tests/vm/smoke.sh is a check of every backend made for that root).
The root's modprobe is the module autoloader there (veth and nf_tables
load, .ko.xz included).

suite: one guest per kernel runs the pytest suite once per backend
(TCPCONNLOG_BACKEND=B) with JUnit XML written to build/vm/results/, a host
directory shared writable into the guest at the same path; prints the
matrix and writes it to build/vm/results/matrix.json; exits 1 if any backend
had a failure or error or ran no test, 125 if a guest did not finish.
Build the tool first (make all static: test_static.py runs the static one).
arm64 kernels run ARM64_TESTS (--tests is for x86-64 ones) with the
static arm64 binary (make ARCH=arm64), every backend their kernel can
attach, no cross-check.
"""

import argparse
import concurrent.futures
import gzip
import json
import lzma
import os
import re
import selectors
import shlex
import shutil
import subprocess
import sys
import threading
import time
import xml.etree.ElementTree as ET
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
VM_DIR = REPO / "build" / "vm"
RESULTS_DIR = VM_DIR / "results"

SUITES = {"5.10": "bullseye", "6.1": "bookworm", "6.12": "trixie", "7.2": "sid"}
# arm64 kernels, booted with qemu-system-aarch64. A guest there cannot run
# the host's x86-64 programs, so its root is the arm64 busybox with the
# checkout: `run` works, the pytest `suite` needs python there (not yet).
# 6.12 from trixie, the suite whose linux-image-arm64 it is (bookworm's
# backport of it was the one measured first).
ARM64_SUITES = {"arm64-6.1": "bookworm", "arm64-6.12": "trixie"}
# Per architecture of the guest: the emulator and its machine, the
# console, and the root the command runs in by default ("host": the
# host's own, over 9p; "debian": a Debian root of the guest's
# architecture unpacked under build/vm/userland, with the checkout at its
# own path; "busybox": a tmpfs with busybox and the checkout).
ARCHES = {
    "amd64": {"qemu": ["qemu-system-x86_64"], "console": "ttyS0", "root": "host"},
    # virt: a PCI bus for virtio-9p and the PL011 console, no firmware needed
    "arm64": {"qemu": ["qemu-system-aarch64", "-M", "virt"], "console": "ttyAMA0",
              "root": "debian"},
}
GUEST_ROOTS = ("host", "debian", "busybox")
# The initramfs's busybox for a guest that cannot run the host's, and
# what a busybox root is made of: fetched with the kernel from its suite.
BUSYBOX_PACKAGE = "busybox-static"
# What a Debian root is made of, with all it depends on (no recommends):
# what the end-to-end tests run (python3 and its modules, ip, nft, sysctl,
# bpftool, modprobe for the kernel's autoloader), and the essential
# packages nothing declares a dependency on (sh, env, cat, mount...).
# usr-is-merged (the root is unpacked merged) stands for usrmerge, which
# would bring perl.
DEBIAN_ROOT_PACKAGES = (
    "base-files", "bash", "coreutils", "dash", "diffutils", "findutils", "grep",
    "sed", "tar", "gzip", "util-linux", "mount", "procps", "iproute2", "nftables",
    "kmod", "bpftool", "python3", "python3-pytest", "python3-jsonschema", "usr-is-merged")
# Left out of the unpacked root: nothing in a guest reads them.
DEBIAN_ROOT_DROP = ("usr/share/doc", "usr/share/man", "usr/share/info", "usr/share/locale")
# One Debian root serves both arm64 kernels (user space does not depend on
# the kernel): bookworm's, whose python3.11 is the host's, so that the host
# byte-compiles its modules (each guest would, under TCG).
DEBIAN_ROOT_SUITE = "bookworm"
# Host entries naming one of these suites point at the main Debian archive.
DEBIAN_SUITES = set(SUITES.values()) | {
    "buster", "forky", "oldstable", "stable", "testing", "unstable"}
# The versioned packages that make up a kernel. sid splits the image:
# linux-image-VER is a meta package of linux-binary-VER (vmlinuz),
# linux-modules-VER and linux-base-VER (modules.builtin, modules.order,
# config); linux-base and linux-base-amd64 (tools) are not needed.
KERNEL_PACKAGE = re.compile(r"linux-(image|binary|modules|base)-[0-9]")
# What the initramfs needs to mount the host root: 9p over virtio, overlay.
INITRD_MODULES = ("virtio_pci", "9pnet_virtio", "9p", "overlay")
# No separate auto pass: every pass runs test_auto_picks_the_best_backend
# with TCPCONNLOG_EXPECT_AUTO=fentry, and a whole pass of auto repeated the
# fentry one (a fifth of each guest's time).
BACKENDS = ("kprobe", "fentry", "tracepoint", "crosscheck")
# The tests of user space (marked view: --top, the output path, the
# summary) run on one kernel, in its fentry pass: run on all four they
# cost 2-3 min of each guest, and put make test over its 30 min.
VIEW_KERNEL = "7.2"
# The tracepoint backend is what the host runs natively (make e2e, a 6.x
# kernel): in the VM it runs on the oldest kernel only, the one most
# likely to differ; another 3-4 min of guest time saved per kernel. The
# other backends run on every kernel.
TRACEPOINT_KERNELS = ("5.10",)
# The tests of -d (marked dns) run in the kprobe pass of these kernels:
# the capture is its own BPF object, the same whatever the backend, and
# what its cgroup_skb programs may call changed in between (the current
# pid, from 6.10).
DNS_KERNELS = ("5.10", "7.2")
# Guests in order of their cost, the longest first (7.2 with the view
# tests, 5.10 with its tracepoint pass, the 6.x kernels, then the arm64
# ones with part of the suite): the workers then end about together.
GUEST_ORDER = ("7.2", "5.10", "6.1", "6.12", "arm64-6.12", "arm64-6.1")
# arm64 guests run the static arm64 binary on the tests marked arm64, in
# every pass: every outcome, IPv6, the filters, -l and -A. The rest of the
# suite runs the host's x86 binaries, a compiler, podman or libbpf-tools,
# which their root does not have, or checks user space that the x86
# passes check (option parsing, text layout); a whole pass there costs 2-3
# times an x86 one (fentry's attach and detach take 4 s a run).
ARM64_BIN = "build/arm64/tcpconnlog-static"
ARM64_TESTS = ("tests/e2e/test_outcomes.py", "tests/e2e/test_filters.py",
               "tests/e2e/test_lifecycle.py")
# Kernels that load fentry programs but cannot attach them (arm64 6.1:
# error 524): no fentry pass there, and auto picks kprobe.
NO_FENTRY_KERNELS = ("arm64-6.1",)

START_MARK = "VMTEST-COMMAND-START"
EXIT_MARK = re.compile(r"VMTEST-EXIT-STATUS=(\d+)")
GUEST_UNFINISHED = 125
TAIL_LINES = 80
EXIT_GRACE_S = 30
ECHO_LOCK = threading.Lock()


class VmError(Exception):
    """A harness failure with a message for the user."""


def log(msg):
    print("vmtest: " + msg, file=sys.stderr, flush=True)


def kernel_key(name):
    """Accept "6.1" or "bookworm", "arm64-6.1" or "arm64-bookworm"; return
    the key."""
    for key in [*SUITES, *ARM64_SUITES]:
        if name in (key, suite_name(key)):
            return key
    raise VmError("unknown kernel %r: one of %s (or their suite names: %s)" % (
        name, ", ".join([*SUITES, *ARM64_SUITES]),
        ", ".join(suite_name(k) for k in [*SUITES, *ARM64_SUITES])))


def arch_of(key):
    """The Debian architecture of a kernel key."""
    return "arm64" if key in ARM64_SUITES else "amd64"


def suite_of(key):
    return ARM64_SUITES[key] if key in ARM64_SUITES else SUITES[key]


def suite_name(key):
    """The suite as a user may name the kernel: arm64 ones keep their prefix."""
    return ("arm64-" if key in ARM64_SUITES else "") + suite_of(key)


def meta_package(key):
    return "linux-image-" + arch_of(key)


# ---------------------------------------------------------------- apt

def parse_one_line_sources(text):
    """Entries of a one-line-format sources.list: dicts like deb822 ones."""
    entries = []
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        m = re.match(r"(deb)\s+(?:\[([^\]]*)\]\s+)?(\S+)\s+(\S+)", line)
        if not m:
            continue
        options = dict(o.split("=", 1) for o in (m.group(2) or "").split() if "=" in o)
        entries.append({"types": "deb", "uris": m.group(3), "suites": m.group(4),
                        "signed-by": options.get("signed-by", "")})
    return entries


def parse_deb822_sources(text):
    """Entries of a deb822 .sources file; keys lower-cased."""
    entries = []
    for para in re.split(r"\n\s*\n", text):
        entry, key = {}, None
        for line in para.splitlines():
            if line.startswith("#"):
                continue
            if line[:1] in (" ", "\t") and key:
                entry[key] += " " + line.strip()
            elif ":" in line:
                key, value = line.split(":", 1)
                key = key.strip().lower()
                entry[key] = value.strip()
        if entry and entry.get("enabled", "yes").lower() != "no":
            entries.append(entry)
    return entries


def host_archive():
    """(uri, signed_by) of the host's Debian archive entry."""
    etc = Path("/etc/apt")
    files = [etc / "sources.list"] + sorted((etc / "sources.list.d").glob("*"))
    entries = []
    for path in files:
        # apt itself reads only these two suffixes (".disabled" files are skipped)
        if path.suffix == ".list" and path.is_file():
            entries += parse_one_line_sources(path.read_text())
        elif path.suffix == ".sources" and path.is_file():
            entries += parse_deb822_sources(path.read_text())
    for entry in entries:
        if "deb" in entry.get("types", "").split() and \
                DEBIAN_SUITES & set(entry.get("suites", "").split()):
            return entry["uris"].split()[0], entry.get("signed-by", "")
    raise VmError("no Debian archive entry (suite %s) in /etc/apt/sources.list{,.d}"
                  % "/".join(sorted(DEBIAN_SUITES)))


def apt_options(key):
    """apt options that keep every piece of state under build/vm/apt/KEY."""
    return apt_state_options(VM_DIR / "apt" / key, suite_of(key), arch_of(key))


def apt_state_options(base, suite, arch):
    """apt options for one suite and architecture of the host's Debian
    archive, as if on an empty system of that architecture, with every
    piece of state under base."""
    empty = base / "empty.d"
    for d in (empty, base / "lists" / "partial", base / "cache"):
        d.mkdir(parents=True, exist_ok=True)
    (base / "status").touch()  # no installed packages: candidates come from the lists only
    uri, signed_by = host_archive()
    signed = "[signed-by=%s] " % signed_by if signed_by else ""
    (base / "sources.list").write_text("deb %s%s %s main\n" % (signed, uri, suite))
    settings = {
        "Dir::Etc::sourcelist": base / "sources.list",
        "Dir::Etc::sourceparts": empty,
        "Dir::Etc::preferences": "/dev/null",
        "Dir::Etc::preferencesparts": empty,
        "Dir::State::Lists": base / "lists",
        "Dir::State::status": base / "status",
        "Dir::Cache": base / "cache",
        # the guest's architecture alone, as if it were the host's
        "APT::Architecture": arch,
        "APT::Architectures": arch,
        "Acquire::Languages": "none",
        # the _apt user cannot write into a root-owned build tree
        "APT::Sandbox::User": "root",
    }
    opts = []
    for name, value in settings.items():
        opts += ["-o", "%s=%s" % (name, value)]
    return opts


def apt_update(suite, what, opts):
    log("updating the package lists of %s (%s)" % (suite, what))
    r = subprocess.run(["apt-get", "-q", "--error-on=any", *opts, "update"],
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise VmError("apt-get update for suite %s failed (offline, or the suite is "
                      "gone from the archive?):\n%s" % (suite, r.stderr.strip()))


def package_version(opts, package):
    r = subprocess.run(["apt-cache", *opts, "show", "--no-all-versions", package],
                       capture_output=True, text=True)
    m = re.search(r"^Version: (\S+)", r.stdout, re.M)
    if r.returncode != 0 or not m:
        raise VmError("package %s is not in the archive (any more)" % package)
    return m.group(1)


def kernel_dependencies(opts, package):
    r = subprocess.run(["apt-cache", *opts, "depends", "--no-recommends", "--no-suggests",
                        "--no-conflicts", "--no-breaks", "--no-replaces", "--no-enhances",
                        package], capture_output=True, text=True)
    if r.returncode != 0:
        raise VmError("package %s is not in the archive (any more)" % package)
    deps = []
    for m in re.finditer(r"^\s+\|?(?:Pre)?Depends: (\S+)", r.stdout, re.M):
        name = m.group(1)
        if KERNEL_PACKAGE.match(name.strip("<>")):
            if name.startswith("<"):  # referenced, but no package has that name
                raise VmError("%s needs %s, which is not in the archive (any more)"
                              % (package, name.strip("<>")))
            deps.append(name)
    return deps


def resolve_kernel(key, opts):
    """{package: version} of the kernel linux-image-ARCH points at now."""
    meta = meta_package(key)
    package_version(opts, meta)
    todo, seen = [meta], {meta}
    while todo:
        for dep in kernel_dependencies(opts, todo.pop()):
            if dep not in seen:
                seen.add(dep)
                todo.append(dep)
    seen.discard(meta)
    if not seen:
        raise VmError("%s of suite %s depends on no kernel package" % (meta, suite_of(key)))
    return {p: package_version(opts, p) for p in sorted(seen)}


def download(opts, packages, dest):
    """The packages' .deb files in dest, which holds nothing else after; a
    failed download leaves the previous ones alone."""
    new = dest.with_name(dest.name + ".new")
    if new.exists():
        shutil.rmtree(new)
    new.mkdir(parents=True)
    specs = ["%s=%s" % pv for pv in packages.items()]
    log("downloading " + " ".join(specs))
    r = subprocess.run(["apt-get", "-q", *opts, "download", *specs], cwd=new,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    if r.returncode != 0:
        raise VmError("downloading %s failed (no longer in the archive?):\n%s"
                      % (" ".join(specs), r.stderr.strip()))
    if dest.exists():
        shutil.rmtree(dest)
    new.rename(dest)
    return sorted(dest.glob("*.deb"))


# ---------------------------------------------------------------- kernel tree

def kernel_dir(key):
    return VM_DIR / "kernels" / key


def read_stamp(key):
    try:
        return json.loads((kernel_dir(key) / "stamp.json").read_text())
    except (OSError, ValueError):
        return None


def extract(debs, root):
    """The packages' files in a fresh directory root."""
    if root.exists():
        shutil.rmtree(root)
    root.mkdir(parents=True)
    for deb in debs:
        subprocess.run(["dpkg-deb", "-x", str(deb), str(root)], check=True)


def unpack(key, debs):
    """Unpack the packages into a fresh root; return its kernel release."""
    root = kernel_dir(key) / "root"
    extract(debs, root)
    # Newer packages install into usr/lib; depmod -b and the guest look in lib.
    if (root / "usr/lib/modules").is_dir() and not (root / "lib").exists():
        (root / "lib").symlink_to("usr/lib")
    releases = [d.name for d in (root / "lib/modules").iterdir() if d.is_dir()]
    if len(releases) != 1:
        raise VmError("expected one kernel in %s/lib/modules, found %s" % (root, releases))
    subprocess.run(["depmod", "-b", str(root), releases[0]], check=True)
    return releases[0]


def find_vmlinuz(root, release):
    for candidate in (root / "boot" / ("vmlinuz-" + release),
                      root / "lib/modules" / release / "vmlinuz"):
        if candidate.is_file():
            return candidate
    raise VmError("no vmlinuz for %s under %s" % (release, root))


def foreign(key):
    """Whether the guest cannot run the host's programs."""
    return ARCHES[arch_of(key)]["root"] != "host"


def userland_packages(key):
    """What comes with the kernel: nothing for amd64 (the host's busybox
    and root serve), busybox of the kernel's suite and architecture for
    arm64 (its initramfs, and the busybox root)."""
    return [BUSYBOX_PACKAGE] if foreign(key) else []


def unpack_userland(key, debs):
    """Unpack busybox; return its path relative to the userland directory."""
    root = kernel_dir(key) / "userland"
    extract(debs, root)
    for rel in ("bin/busybox", "usr/bin/busybox"):  # merged /usr moved it
        if (root / rel).is_file():
            return rel
    raise VmError("no busybox in %s (%s)" % (root, ", ".join(d.name for d in debs)))


def fetch(key, refresh):
    """The stamp of an unpacked kernel; goes to the archive only when asked or
    when nothing is cached."""
    stamp = read_stamp(key)
    if stamp and not refresh:
        return stamp
    opts = apt_options(key)
    try:
        apt_update(suite_of(key), key, opts)
    except VmError as e:
        if stamp:
            raise VmError("%s\n(a cached kernel %s is in %s)" % (e, stamp["release"], kernel_dir(key)))
        raise VmError("%s\nno kernel for %s is cached in %s" % (e, key, kernel_dir(key)))
    packages = resolve_kernel(key, opts)
    userland = {p: package_version(opts, p) for p in userland_packages(key)}
    if stamp and stamp["packages"] == packages and stamp.get("userland", {}) == userland:
        log("kernel %s is up to date: %s" % (key, stamp["release"]))
        return stamp
    debs = download(opts, {**packages, **userland}, kernel_dir(key) / "debs")
    (kernel_dir(key) / "stamp.json").unlink(missing_ok=True)
    # apt names a file PACKAGE_VERSION_ARCH.deb
    is_userland = [d.name.split("_")[0] in userland for d in debs]
    release = unpack(key, [d for d, u in zip(debs, is_userland) if not u])
    root = kernel_dir(key) / "root"
    stamp = {"kernel": key, "suite": suite_of(key), "arch": arch_of(key), "release": release,
             "packages": packages, "userland": userland,
             "vmlinuz": str(find_vmlinuz(root, release).relative_to(root))}
    if userland:
        stamp["busybox"] = unpack_userland(key, [d for d, u in zip(debs, is_userland) if u])
    (kernel_dir(key) / "stamp.json").write_text(json.dumps(stamp, indent=1) + "\n")
    log("kernel %s: %s unpacked in %s" % (key, release, root))
    return stamp


# ---------------------------------------------------------------- Debian root

def debian_root_dir(arch):
    return VM_DIR / "userland" / ("%s-%s" % (arch, DEBIAN_ROOT_SUITE))


def resolve_closure(opts, packages):
    """{name: version} of the packages and all they depend on (no
    recommends), as apt would install them on an empty system."""
    r = subprocess.run(["apt-get", "-s", "-q", "--no-install-recommends", *opts, "install",
                        *packages], capture_output=True, text=True)
    found = dict(re.findall(r"^Inst (\S+) \((\S+) ", r.stdout, re.M))
    if r.returncode != 0 or not found:
        raise VmError("resolving %s failed:\n%s" % (" ".join(packages), r.stderr.strip()))
    return found


def extract_merged(deb, root):
    """Unpack a package into root, whose bin, sbin and lib are links into
    usr (as on an installed Debian): tar keeps those links."""
    tar = subprocess.Popen(["tar", "-x", "--keep-directory-symlink", "-C", str(root)],
                           stdin=subprocess.PIPE)
    r = subprocess.run(["dpkg-deb", "--fsys-tarfile", str(deb)], stdout=tar.stdin)
    tar.stdin.close()
    if tar.wait() != 0 or r.returncode != 0:
        raise VmError("unpacking %s failed" % deb)


# What maintainer scripts (not run by dpkg-deb -x) would have written that
# the tests need: users to drop privileges to, name lookups in files.
DEBIAN_ROOT_FILES = {
    "etc/passwd": "root:x:0:0:root:/root:/bin/bash\n"
                  "nobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n",
    "etc/group": "root:x:0:\nnogroup:x:65534:\n",
    "etc/nsswitch.conf": "passwd: files\ngroup: files\nshadow: files\nhosts: files\n"
                         "networks: files\nprotocols: files\nservices: files\n",
    "etc/hosts": "127.0.0.1 localhost\n::1 localhost ip6-localhost ip6-loopback\n",
}
# What the guest's init and the tests run: missing means a broken root.
DEBIAN_ROOT_NEEDS = ("lib/ld-linux-aarch64.so.1", "bin/sh", "usr/bin/env", "usr/bin/python3",
                     "sbin/modprobe", "sbin/ip", "usr/sbin/nft", "sbin/sysctl", "usr/sbin/bpftool")


def exists_in(root, rel):
    """Whether rel exists in root, its absolute links read as the guest
    reads them (sbin/modprobe -> /bin/kmod)."""
    path = root / rel
    for _ in range(20):
        if not path.is_symlink():
            return path.exists()
        target = os.readlink(path)
        path = root / target.lstrip("/") if target.startswith("/") else path.parent / target
    return False


def python_version(root):
    """"3.11" from the root's /usr/bin/python3 link, or None."""
    m = re.fullmatch(r"python(\d+\.\d+)", os.readlink(root / "usr/bin/python3"))
    return m.group(1) if m else None


def byte_compile(root):
    """Compile the root's python modules with the host's python when it is
    the same version (the same bytecode): the guest would, at each boot,
    emulated; else leave them to the guest."""
    version = python_version(root)
    host = "%d.%d" % sys.version_info[:2]
    if version != host:
        log("python %s in the root, %s here: modules left to compile in the guest"
            % (version, host))
        return
    dirs = [str(root / "usr/lib" / ("python" + version)), str(root / "usr/lib/python3")]
    subprocess.run([sys.executable, "-m", "compileall", "-q", "-j", "0", "-s", str(root),
                    "-p", "/", *dirs], stdout=subprocess.DEVNULL, check=False)


def make_debian_root(debs, root):
    """A fresh root of the packages, with what their maintainer scripts
    would have made and the mount points of the guest's init."""
    if root.exists():
        shutil.rmtree(root)
    for d in ("bin", "sbin", "lib"):
        (root / "usr" / d).mkdir(parents=True)
        (root / d).symlink_to("usr/" + d)
    for deb in debs:
        extract_merged(deb, root)
    for rel in DEBIAN_ROOT_DROP:
        shutil.rmtree(root / rel, ignore_errors=True)
    for rel, text in DEBIAN_ROOT_FILES.items():
        (root / rel).write_text(text)
    for d in ("proc", "sys", "dev", "run", "tmp", "root", "var"):
        (root / d).mkdir(exist_ok=True)
    (root / "tmp").chmod(0o1777)
    # as base-files' postinst makes them: ip netns keeps its files in
    # /var/run/netns, which must be the guest's /run
    for rel, target in (("var/run", "/run"), ("var/lock", "/run/lock")):
        if (root / rel).is_dir() and not any((root / rel).iterdir()):
            (root / rel).rmdir()
        if not os.path.lexists(root / rel):
            (root / rel).symlink_to(target)
    if not os.path.lexists(root / "bin/sh"):   # dash's postinst, in older suites
        (root / "bin/sh").symlink_to("dash")
    missing = [rel for rel in DEBIAN_ROOT_NEEDS if not exists_in(root, rel)]
    if missing:
        raise VmError("the Debian root %s lacks %s" % (root, " ".join(missing)))
    byte_compile(root)


def fetch_debian_root(arch, refresh):
    """The stamp of the Debian root of arch; goes to the archive only when
    asked or when nothing is cached, downloads only when a package changed."""
    base = debian_root_dir(arch)
    try:
        stamp = json.loads((base / "stamp.json").read_text())
    except (OSError, ValueError):
        stamp = None
    if stamp and not refresh:
        return stamp
    what = "the %s Debian root" % arch
    opts = apt_state_options(VM_DIR / "apt" / base.name, DEBIAN_ROOT_SUITE, arch)
    apt_update(DEBIAN_ROOT_SUITE, what, opts)
    packages = resolve_closure(opts, DEBIAN_ROOT_PACKAGES)
    if stamp and stamp["packages"] == packages:
        log("%s is up to date: %d packages" % (what, len(packages)))
        return stamp
    start = time.monotonic()
    debs = download(opts, packages, base / "debs")
    fetched = time.monotonic() - start
    (base / "stamp.json").unlink(missing_ok=True)
    make_debian_root(debs, base / "root")
    stamp = {"suite": DEBIAN_ROOT_SUITE, "arch": arch, "packages": packages, "deb_bytes": sum(d.stat().st_size for d in debs),
             "download_s": round(fetched, 1),  # unpack_s: with the byte-compiling
             "unpack_s": round(time.monotonic() - start - fetched, 1)}
    (base / "stamp.json").write_text(json.dumps(stamp, indent=1) + "\n")
    log("%s: %d packages (%.1f MB of .deb, downloaded in %.0f s) unpacked in %s in %.0f s"
        % (what, len(debs), stamp["deb_bytes"] / 1e6, fetched, base / "root", stamp["unpack_s"]))
    return stamp


def debian_version(stamp):
    return sorted(stamp["packages"].values())[0]


# ---------------------------------------------------------------- initramfs

def module_name(path):
    return Path(path).name.split(".ko")[0].replace("-", "_")


def module_load_order(moddir, wanted):
    """Module files (relative to moddir) to insmod, dependencies first;
    modules built into the kernel are left out."""
    deps = {}
    for line in (moddir / "modules.dep").read_text().splitlines():
        path, _, needs = line.partition(":")
        deps[path] = needs.split()
    by_name = {module_name(p): p for p in deps}
    builtin = {module_name(p) for p in (moddir / "modules.builtin").read_text().split()}
    order = []

    def visit(path):
        if path in order:
            return
        # modules.dep lists a module's needs so that loading them from the
        # last to the first works
        for dep in reversed(deps[path]):
            visit(dep)
        order.append(path)

    for name in wanted:
        if name in by_name:
            visit(by_name[name])
        elif name not in builtin:
            raise VmError("module %s is neither built into %s nor a module of it"
                          % (name, moddir.name))
    return order


def module_bytes(path):
    """busybox insmod takes only uncompressed modules."""
    if path.name.endswith(".ko.xz"):
        return lzma.decompress(path.read_bytes())
    if path.name.endswith(".ko.gz"):
        return gzip.decompress(path.read_bytes())
    if path.name.endswith(".ko"):
        return path.read_bytes()
    raise VmError("cannot decompress module %s" % path)


INIT_SCRIPT = r"""#!/bin/busybox sh
# SPDX-License-Identifier: GPL-2.0-only
# vmtest guest init: host root (9p, read-only) + tmpfs overlay at /mnt (or,
# for ROOT=debian, the Debian root $USERLAND of the host + a tmpfs overlay
# at /mnt; for ROOT=busybox, a tmpfs root at /mnt with busybox; both with
# the checkout from the host's overlay), then runs $RUN/cmd.sh chrooted in
# /mnt and reports its exit status on the console.
/bin/busybox --install -s /bin
export PATH=/bin
mount -t proc proc /proc
mount -t sysfs sysfs /sys
mount -t devtmpfs devtmpfs /dev
exec </dev/console >/dev/console 2>&1

die() {
    echo "vmtest-init: $*"
    poweroff -f
    echo o > /proc/sysrq-trigger
    exit 1
}

for m in /modules/*.ko; do
    [ -e "$m" ] || continue
    insmod "$m" || die "insmod $m failed"
done

for word in $(cat /proc/cmdline); do
    case "$word" in vmtest.run=*) RUN="${word#vmtest.run=}" ;; esac
done
[ -n "$RUN" ] || die "no vmtest.run= on the kernel command line"

mkdir -p /lower /rw /mnt
mount -t 9p -o trans=virtio,version=9p2000.L,ro hostroot /lower || die "mount hostroot"
# KERNEL RELEASE MODULES CWD ROOT CHECKOUT USERLAND SHARES (tag:path ...)
. "/lower$RUN/guest.conf" || die "no $RUN/guest.conf"
HOST=/mnt
[ "$ROOT" = host ] || HOST=/host
mkdir -p "$HOST"
mount -t tmpfs -o mode=0755 tmpfs /rw
mkdir -p /rw/upper /rw/work
mount -t overlay overlay -o lowerdir=/lower,upperdir=/rw/upper,workdir=/rw/work "$HOST" ||
    die "mount overlay"
if [ "$ROOT" = debian ]; then
    # the guest architecture's own Debian root, writable in memory
    mkdir -p /rw/root-upper /rw/root-work
    mount -t overlay overlay \
        -o "lowerdir=/lower$USERLAND,upperdir=/rw/root-upper,workdir=/rw/root-work" /mnt ||
        die "mount the Debian root $USERLAND"
    # its own /tmp, before the checkout is bound: a checkout under /tmp
    # must stay visible
    mount -t tmpfs -o mode=1777 tmpfs /mnt/tmp
    mkdir -p "/mnt$CHECKOUT"
    mount --bind "/host$CHECKOUT" "/mnt$CHECKOUT" || die "bind the checkout"
elif [ "$ROOT" = busybox ]; then
    # the host's programs cannot run here (another architecture): a root of
    # this busybox, with the checkout (writable in memory) at its own path
    mount -t tmpfs -o mode=0755 tmpfs /mnt
    for d in bin sbin usr/bin usr/sbin usr/lib etc root run tmp proc sys dev; do
        mkdir -p "/mnt/$d"
    done
    ln -s usr/lib /mnt/lib
    chmod 1777 /mnt/tmp
    cp /bin/busybox /mnt/bin/busybox
    chroot /mnt /bin/busybox --install -s || die "busybox --install in the root"
    # the tool drops its privileges to nobody, looked up by name
    printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' \
        > /mnt/etc/passwd
    printf 'root:x:0:\nnogroup:x:65534:\n' > /mnt/etc/group
    mkdir -p "/mnt$CHECKOUT"
    mount --bind "/host$CHECKOUT" "/mnt$CHECKOUT" || die "bind the checkout"
fi

# the kernel's own modules, where the root's modprobe looks for them
mkdir -p "/mnt/usr/lib/modules/$RELEASE"
mount --bind "$HOST$MODULES" "/mnt/usr/lib/modules/$RELEASE" || die "bind modules"
for share in $SHARES; do
    mkdir -p "/mnt${share#*:}"
    mount -t 9p -o trans=virtio,version=9p2000.L,rw "${share%%:*}" "/mnt${share#*:}" ||
        die "mount $share"
done

mount -t proc proc /mnt/proc
mount -t sysfs sysfs /mnt/sys
mount -t devtmpfs devtmpfs /mnt/dev
mkdir -p /mnt/dev/pts /mnt/dev/shm
mount -t devpts -o newinstance,ptmxmode=0666 devpts /mnt/dev/pts
mount -t tmpfs tmpfs /mnt/dev/shm
mount -t tracefs tracefs /mnt/sys/kernel/tracing
mount -t debugfs debugfs /mnt/sys/kernel/debug 2>/dev/null
mount -t securityfs securityfs /mnt/sys/kernel/security 2>/dev/null
mount -t cgroup2 cgroup2 /mnt/sys/fs/cgroup
mount -t bpf bpf /mnt/sys/fs/bpf
# /tmp stays the host's, seen through the overlay (writes land in guest
# memory): a repository cloned under /tmp must stay visible; another
# root has its own, made above
mount -t tmpfs -o mode=0755 tmpfs /mnt/run

# the kernel's module autoloader (nft, veth, ...) runs modprobe in the chroot
echo /modprobe-chroot > /proc/sys/kernel/modprobe
ip link set lo up
hostname "vmtest-$KERNEL"

echo VMTEST-COMMAND-START
chroot /mnt /usr/bin/env -i PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin \
    HOME=/root LANG=C.UTF-8 TERM=dumb VMTEST_KERNEL="$KERNEL" \
    /bin/sh -c 'cd "$1" && exec /bin/sh "$2"' vmtest "$CWD" "$RUN/cmd.sh" </dev/null
echo "VMTEST-EXIT-STATUS=$?"
sync
poweroff -f
echo o > /proc/sysrq-trigger
"""

MODPROBE_SCRIPT = """#!/bin/busybox sh
exec /bin/busybox chroot /mnt /sbin/modprobe "$@"
"""


def write_cpio(stage, out):
    """gzip'ed newc archive of the stage directory, replaced atomically."""
    names = sorted(str(p.relative_to(stage)) for p in stage.rglob("*"))
    r = subprocess.run(["cpio", "-o", "-H", "newc", "-R", "0:0", "--quiet"], cwd=stage,
                       input="\n".join(names).encode(), capture_output=True)
    if r.returncode != 0:
        raise VmError("cpio failed: " + r.stderr.decode())
    tmp = out.with_suffix(".tmp%d" % os.getpid())
    tmp.write_bytes(gzip.compress(r.stdout, compresslevel=6))
    tmp.replace(out)


def build_initrd(key, stamp):
    """The initramfs for this kernel: busybox (the host's, or the guest
    architecture's), its 9p/virtio/overlay modules, init. Rebuilt each time:
    it takes well under a second."""
    moddir = kernel_dir(key) / "root/lib/modules" / stamp["release"]
    busybox = Path("/bin/busybox")
    if foreign(key):
        if "busybox" not in stamp:
            raise VmError("kernel %s was fetched without busybox: vmtest.py fetch %s" % (key, key))
        busybox = kernel_dir(key) / "userland" / stamp["busybox"]
    stage = VM_DIR / "initrd" / key
    if stage.exists():
        shutil.rmtree(stage)
    for d in ("bin", "modules", "proc", "sys", "dev"):
        (stage / d).mkdir(parents=True)
    shutil.copy2(busybox, stage / "bin/busybox")
    for i, rel in enumerate(module_load_order(moddir, INITRD_MODULES)):
        target = stage / "modules" / ("%02d-%s.ko" % (i, module_name(rel)))
        target.write_bytes(module_bytes(moddir / rel))
    for name, text in (("init", INIT_SCRIPT), ("modprobe-chroot", MODPROBE_SCRIPT)):
        (stage / name).write_text(text)
        (stage / name).chmod(0o755)
    out = VM_DIR / "initrd" / (key + ".cpio.gz")
    write_cpio(stage, out)
    return out


# ---------------------------------------------------------------- guest run

class GuestResult:
    def __init__(self, status, boot_s, total_s, why, log_path):
        self.status, self.boot_s, self.total_s = status, boot_s, total_s
        self.why, self.log_path = why, log_path


def guest_root(key, root=None):
    """The root a guest of this kernel runs its command in (GUEST_ROOTS):
    root, checked, or the default of its architecture."""
    default = ARCHES[arch_of(key)]["root"]
    root = root or default
    if (root == "host") != (default == "host"):
        raise VmError("an %s guest cannot run in a %s root" % (arch_of(key), root))
    return root


def prepare_run_dir(key, tag, stamp, command, cwd, shares, root):
    """The guest reads its orders from here, through the host root share."""
    run_dir = VM_DIR / "runs" / ("%s-%s" % (key, tag))
    run_dir.mkdir(parents=True, exist_ok=True)
    moddir = (kernel_dir(key) / "root/lib/modules" / stamp["release"]).resolve()
    if root != "host" and not Path(cwd).resolve().is_relative_to(REPO):
        raise VmError("an %s guest sees the checkout %s only: run from inside it, not %s"
                      % (arch_of(key), REPO, cwd))
    userland = ""
    if root == "debian":
        fetch_debian_root(arch_of(key), refresh=False)
        userland = str(debian_root_dir(arch_of(key)) / "root")
    conf = {"KERNEL": key, "RELEASE": stamp["release"], "MODULES": str(moddir),
            "CWD": str(cwd), "ROOT": root, "CHECKOUT": str(REPO), "USERLAND": userland,
            "SHARES": " ".join("rw%d:%s" % (i, p) for i, p in enumerate(shares))}
    (run_dir / "guest.conf").write_text(
        "".join("%s=%s\n" % (k, shlex.quote(v)) for k, v in conf.items()))
    (run_dir / "cmd.sh").write_text(command + "\n")
    return run_dir


def tcg_accel():
    """One emulation thread for both vCPUs, on every kernel. Under
    multi-threaded TCG a vCPU can run stale code after the other one
    patched it: the static branches in syscall_trace_enter flip as syscall
    tracepoints attach and detach, and a guest then spins for ever there
    (seen on 5.10: soft lockup at syscall_trace_enter+0xed) or takes the
    int3 of a patch that is already over (6.12.117: "Oops: int3" at
    syscall_trace_enter+0xd8, in the bpf() syscall). A single thread keeps
    code patching coherent, and costs no time here (the passes are about
    as fast)."""
    return "tcg,thread=single"


def qemu_command(key, stamp, initrd, run_dir, shares):
    for p in [run_dir, *shares]:
        if re.search(r"[\s,]", str(p)):
            raise VmError("path %s has a space or comma: the guest cannot be told it" % p)
    vmlinuz = kernel_dir(key) / "root" / stamp["vmlinuz"]
    arch = ARCHES[arch_of(key)]
    cmd = [*arch["qemu"], "-accel", tcg_accel(), "-cpu", "max", "-m", "2G", "-smp", "2",
           "-nographic", "-no-reboot", "-nic", "none",
           "-kernel", str(vmlinuz), "-initrd", str(initrd),
           # a locked-up guest panics (and so exits) at once, with its stack
           # traces on the console, instead of idling until the time limit
           # rcu_expedited: each detach of a kprobe or tracepoint waits for
           # a grace period, which under emulation took 0.1-0.2 s of every
           # tool's stop; expedited, half that (fentry's trampolines wait
           # for RCU-tasks, which it does not change)
           "-append", "console=%s quiet loglevel=5 softlockup_panic=1 rcupdate.rcu_expedited=1 "
                      "sysctl.kernel.panic_on_rcu_stall=1 panic=-1 vmtest.run=%s"
                      % (arch["console"], run_dir),
           "-virtfs", "local,path=/,mount_tag=hostroot,security_model=none,readonly=on,"
                      "multidevs=remap"]
    for i, share in enumerate(shares):
        cmd += ["-virtfs", "local,path=%s,mount_tag=rw%d,security_model=none,multidevs=remap"
                % (share, i)]
    return cmd


def watch_console(proc, log_file, timeout, echo):
    """Copy the console to the log (and the command's part to echo) until
    qemu exits or the time is up; return (status, boot_s, why)."""
    start = time.monotonic()
    deadline = start + timeout
    status, boot_s, why, pending = None, None, None, b""
    sel = selectors.DefaultSelector()
    sel.register(proc.stdout, selectors.EVENT_READ)
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            why = "no exit status within %d s" % timeout
            break
        if not sel.select(min(left, 1.0)):
            continue
        chunk = os.read(proc.stdout.fileno(), 65536)
        if not chunk:
            break
        pending += chunk
        *lines, pending = pending.split(b"\n")
        for raw in lines:
            line = raw.decode("utf-8", "replace").rstrip("\r")
            log_file.write(line + "\n")
            m = EXIT_MARK.search(line)
            if m:
                status = int(m.group(1))
                # qemu is powering off; do not wait for it beyond a grace period
                deadline = min(deadline, time.monotonic() + EXIT_GRACE_S)
            elif boot_s is None and line.endswith(START_MARK):
                boot_s = time.monotonic() - start
            elif boot_s is not None and status is None and echo:
                echo(line)
        log_file.flush()
    if pending:
        log_file.write(pending.decode("utf-8", "replace") + "\n")
    if status is None and why is None:
        why = "the guest stopped without an exit status"
    return status, boot_s, why


def run_guest(key, stamp, command, tag, timeout, cwd, shares=(), echo=None, root=None):
    initrd = build_initrd(key, stamp)
    run_dir = prepare_run_dir(key, tag, stamp, command, cwd, shares, guest_root(key, root))
    cmd = qemu_command(key, stamp, initrd, run_dir, shares)
    log_path = VM_DIR / "logs" / ("%s-%s.log" % (key, tag))
    log_path.parent.mkdir(parents=True, exist_ok=True)
    log("booting %s (%s), console log %s" % (key, stamp["release"], log_path))
    start = time.monotonic()
    with open(log_path, "w") as log_file:
        log_file.write("# " + shlex.join(cmd) + "\n")
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT)
        try:
            status, boot_s, why = watch_console(proc, log_file, timeout, echo)
        finally:
            if proc.poll() is None:
                proc.kill()
            proc.wait()
    return GuestResult(status, boot_s, time.monotonic() - start, why, log_path)


def print_tail(path, n=TAIL_LINES):
    lines = path.read_text(errors="replace").splitlines()
    print("---- last %d lines of %s ----" % (min(n, len(lines)), path), file=sys.stderr)
    for line in lines[-n:]:
        print(line, file=sys.stderr)
    print("----", file=sys.stderr, flush=True)


def report_guest(key, stamp, res):
    boot = "%.1f s" % res.boot_s if res.boot_s is not None else "-"
    log("%s (%s): boot %s, total %.1f s, %s" % (
        key, stamp["release"], boot, res.total_s,
        "exit status %d" % res.status if res.status is not None else res.why))
    if res.status != 0:
        print_tail(res.log_path)


# ---------------------------------------------------------------- suite

def junit_counts(path):
    """passed/failed/errors/skipped/seconds from a pytest JUnit XML file."""
    root = ET.parse(path).getroot()
    suites = [root] if root.tag == "testsuite" else root.findall("testsuite")
    total = {"tests": 0, "failures": 0, "errors": 0, "skipped": 0, "time": 0.0}
    for s in suites:
        for k in total:
            total[k] += type(total[k])(s.get(k, 0))
    return {"passed": total["tests"] - total["failures"] - total["errors"] - total["skipped"],
            "failed": total["failures"], "errors": total["errors"],
            "skipped": total["skipped"], "seconds": round(total["time"], 1)}


def suite_command(key, backends, tests):
    """The guest's script: pytest once per backend. Every stock kernel of
    the matrix allows fentry, so auto must pick it there (each pass checks
    that). "crosscheck" is the comparison with libbpf-tools' tcpconnect
    (tests marked crosscheck). The tests of user space (marked view) run
    in the fentry pass of VIEW_KERNEL only: the records that feed them are
    checked in every pass. Those of the kretprobes (marked kretprobe) run
    in the kprobe pass only, as do those marked kernel_once (they ask
    the kernel about every backend), and those of -d (marked dns) in the kprobe
    pass of DNS_KERNELS: its capture is its own BPF object, the same
    whatever the backend, and its tests cost a minute of guest time per
    pass."""
    lines = []
    auto = "kprobe" if key in NO_FENTRY_KERNELS else "fentry"
    if foreign(key):   # the arm64 binary, and the tests that run there
        tests = " ".join(ARM64_TESTS)
        lines.append("export TCPCONNLOG_BIN=%s" % ARM64_BIN)
    else:
        tests = shlex.quote(tests)
    for b in backends:
        xml = (RESULTS_DIR / ("%s-%s.xml" % (key, b))).relative_to(REPO)
        lines.append("echo '== %s'" % b)
        if b == "fentry" and key in NO_FENTRY_KERNELS:
            lines.append(refusal_check(key))
            continue
        if b == "crosscheck":
            env, select = "TCPCONNLOG_BACKEND=kprobe", "-m crosscheck"
        else:
            env = "TCPCONNLOG_BACKEND=%s TCPCONNLOG_EXPECT_AUTO=%s" % (b, auto)
            view = b == "fentry" and key == VIEW_KERNEL
            # podman is not set up in the guest (test_containers.py); the
            # tests marked host are about files, not the kernel
            select = "-m 'not crosscheck and not podman and not host%s%s%s%s'" % (
                "" if view else " and not view",
                "" if b == "kprobe" else " and not kretprobe and not kernel_once",
                "" if b == "kprobe" and key in DNS_KERNELS else " and not dns",
                " and arm64" if foreign(key) else "")
        lines.append("TCPCONNLOG_GUEST=1 %s /usr/bin/python3 -m pytest -q -p no:cacheprovider %s %s "
                     "--junitxml=%s" % (env, select, tests, xml))
    lines.append("exit 0")  # the verdict comes from the XML files
    return "\n".join(lines)


def refusal_check(key):
    """The guest's line proving that the kernel refuses fentry, in place of
    its pass: what --check says of it and its exit status (refusal_row())."""
    out = (RESULTS_DIR / ("%s-fentry.check" % key)).relative_to(REPO)
    return "%s --check -b fentry > %s 2>&1; echo \"exit status $?\" >> %s; cat %s" % (
        ARM64_BIN if foreign(key) else "build/tcpconnlog", out, out, out)


def refusal_row(key):
    """The fentry cell of a kernel that refuses it: proven only if --check
    failed (status 1) saying that the kernel does not support it."""
    try:
        text = (RESULTS_DIR / ("%s-fentry.check" % key)).read_text()
    except OSError:
        return {"result": "missing"}
    refused = "not supported by this kernel" in text and \
        text.rstrip().endswith("exit status 1")
    return {"result": "unsupported" if refused else "FAIL", "passed": 0,
            "failed": 0 if refused else 1, "errors": 0, "skipped": 0}


def kernel_backends(key, backends):
    """The passes one kernel's guest runs (see TRACEPOINT_KERNELS). An
    arm64 guest runs every backend (the host runs no arm64 tracepoint
    pass; on NO_FENTRY_KERNELS the fentry one is --check proving the
    refusal), and no cross-check (no libbpf-tools there)."""
    if foreign(key):
        return [b for b in backends if b != "crosscheck"]
    return [b for b in backends if b != "tracepoint" or key in TRACEPOINT_KERNELS]


def suite_one_kernel(key, stamp, backends, tests, timeout, tag):
    for b in backends:
        (RESULTS_DIR / ("%s-%s.xml" % (key, b))).unlink(missing_ok=True)
    (RESULTS_DIR / ("%s-fentry.check" % key)).unlink(missing_ok=True)

    def echo(line):
        with ECHO_LOCK:  # guests run in parallel with --jobs
            print("[%s] %s" % (key, line), flush=True)

    res = run_guest(key, stamp, suite_command(key, backends, tests), tag, timeout,
                    cwd=REPO, shares=[RESULTS_DIR], echo=echo)
    report_guest(key, stamp, res)
    rows = []
    for b in backends:
        row = {"kernel": key, "release": stamp["release"], "backend": b}
        xml = RESULTS_DIR / ("%s-%s.xml" % (key, b))
        if b == "fentry" and key in NO_FENTRY_KERNELS:
            row.update(refusal_row(key))
            rows.append(row)
            continue
        try:
            row.update(junit_counts(xml))
            # a skip is a defect here: a test that needs a feature runs where it exists
            row["result"] = "ok" if row["failed"] + row["errors"] + row["skipped"] == 0 and \
                row["passed"] + row["skipped"] > 0 else "FAIL"
        except (OSError, ET.ParseError):
            row["result"] = "missing"
        rows.append(row)
    return res, rows


def print_matrix(rows):
    cols = ("kernel", "backend", "passed", "failed", "errors", "skipped", "seconds", "result")
    table = [cols] + [tuple(str(r.get(c, "-")) for c in cols) for r in rows]
    widths = [max(len(t[i]) for t in table) for i in range(len(cols))]
    for t in table:
        print("  ".join(v.ljust(w) for v, w in zip(t, widths)).rstrip())


# ---------------------------------------------------------------- commands

README_BEGIN = "<!-- kernel-matrix:begin: written by tests/vm/vmtest.py suite --readme -->"
README_END = "<!-- kernel-matrix:end -->"
HOST_XML = RESULTS_DIR / "host-auto.xml"   # written by make e2e on the host
MATRIX_COLUMNS = BACKENDS


def cell(row):
    if row is None:
        return "not run"
    if row["result"] == "ok":
        return "pass (%d)" % row["passed"]
    if row["result"] == "missing":
        return "**no result**"
    if row["result"] == "unsupported":
        return "not supported by this kernel (`--check`)"
    return "**FAIL** (%d failed, %d errors, %d skipped)" % (
        row["failed"], row["errors"], row["skipped"])


def host_cells():
    """The host's own kernel, tested natively by make e2e: auto there, and
    whether the other backends can attach at all."""
    cells = {b: "cannot attach here" for b in ("kprobe", "fentry")}
    if Path("/sys/bus/event_source/devices/kprobe").exists():
        cells["kprobe"] = "not run natively"
    try:
        row = {"backend": "auto"}
        row.update(junit_counts(HOST_XML))
        row["result"] = "ok" if row["failed"] + row["errors"] + row["skipped"] == 0 \
            and row["passed"] > 0 else "FAIL"
        cells["tracepoint"] = cell(row) + ", as auto"
    except (OSError, ET.ParseError):
        cells["tracepoint"] = "**no result** (make e2e first)"
    cells["crosscheck"] = "needs kprobes"
    return cells


ARCH_NAMES = {"amd64": "x86-64", "arm64": "arm64"}


def not_in_matrix(key):
    """A cell a kernel's guest does not run."""
    if foreign(key):
        return "x86-64 only"
    return "not in the matrix (%s)" % ", ".join(TRACEPOINT_KERNELS)


def matrix_markdown(rows, times):
    """The README table: architecture and kernel x backend, from this
    run's results."""
    head = ["arch", "kernel", "release"] + [
        "`%s`" % b if b != "crosscheck" else "vs libbpf-tools" for b in MATRIX_COLUMNS] + [
        "guest time"]
    out = ["| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    hc = host_cells()
    out.append("| x86-64 | host | %s (native) | %s | — |" % (
        os.uname().release, " | ".join(hc[b] for b in MATRIX_COLUMNS)))
    for key in [*SUITES, *ARM64_SUITES]:
        kr = {r["backend"]: r for r in rows if r["kernel"] == key}
        if not kr:
            continue
        release = next(iter(kr.values()))["release"]
        out.append("| %s | %s | %s | %s | %d s |" % (
            ARCH_NAMES[arch_of(key)], key.replace("arm64-", ""), release, " | ".join(
                cell(kr.get(b)) if b in kernel_backends(key, MATRIX_COLUMNS)
                else not_in_matrix(key) for b in MATRIX_COLUMNS),
            round(times.get(key, 0))))
    out.append("")
    out.append("arm64 rows: the tests marked `arm64` in %s (every outcome, IPv6, the "
               "filters, `-l` and `-A`; `ARM64_TESTS` in tests/vm/vmtest.py: the rest of "
               "the suite needs x86 binaries, a compiler, podman or libbpf-tools)." %
               ", ".join("`%s`" % Path(t).name for t in ARM64_TESTS))
    out.append("")
    out.append("Last run: %s UTC by `make test` (`tests/vm/vmtest.py suite --readme`); "
               "pass (N): N tests passed, none failed or skipped." %
               time.strftime("%Y-%m-%d %H:%M", time.gmtime()))
    return "\n".join(out)


def update_readme(path, text):
    doc = Path(path).read_text()
    if README_BEGIN not in doc or README_END not in doc:
        raise VmError("%s has no %s ... %s block" % (path, README_BEGIN, README_END))
    head, rest = doc.split(README_BEGIN, 1)
    _, tail = rest.split(README_END, 1)
    Path(path).write_text(head + README_BEGIN + "\n" + text + "\n" + README_END + tail)
    log("kernel matrix written to %s" % path)


def guest_visible_tests(path):
    """The pytest path as the guest (cwd: the repository) must be given it."""
    path = Path(path).resolve()
    if not path.exists():
        raise VmError("no tests at %s" % path)
    return os.path.relpath(path, REPO) if path.is_relative_to(REPO) else str(path)


def cmd_prepare(args):
    """What suite needs before it boots, with no guest run: the kernels
    (cached ones kept), their initramfs and, for arm64, the Debian root.
    make test does this while the host's own checks run."""
    for key in [kernel_key(k) for k in args.kernels.split(",") if k]:
        stamp = fetch(key, refresh=False)
        build_initrd(key, stamp)
        if guest_root(key) == "debian":
            fetch_debian_root(arch_of(key), refresh=False)
    return 0


def cmd_fetch(args):
    key = kernel_key(args.kernel)
    stamp = fetch(key, refresh=True)
    if guest_root(key) == "debian":
        fetch_debian_root(arch_of(key), refresh=True)
    print("%s %s" % (stamp["release"], debian_version(stamp)))
    return 0


def cmd_version(args):
    stamp = fetch(kernel_key(args.kernel), refresh=False)
    print("%s %s" % (stamp["release"], debian_version(stamp)))
    return 0


def cmd_run(args):
    if not args.command:
        raise VmError("no command given: vmtest.py run --kernel K -- COMMAND...")
    key = kernel_key(args.kernel)
    stamp = fetch(key, refresh=False)
    command = args.command[0] if len(args.command) == 1 else shlex.join(args.command)
    res = run_guest(key, stamp, command, args.tag, args.timeout, cwd=Path.cwd(),
                    echo=lambda line: print(line, flush=True), root=args.root)
    report_guest(key, stamp, res)
    return res.status if res.status is not None else GUEST_UNFINISHED


def cmd_suite(args):
    keys = [kernel_key(k) for k in args.kernels.split(",") if k]
    backends = [b for b in args.backends.split(",") if b]
    for b in backends:
        if b not in BACKENDS:
            raise VmError("unknown backend %r: one of %s" % (b, ",".join(BACKENDS)))
    if not keys or not backends:
        raise VmError("no kernel or no backend given")
    tests = guest_visible_tests(args.tests)
    # the suite runs both binaries (test_static.py): say so before booting
    needed = {"build/tcpconnlog": "make all static", "build/tcpconnlog-static": "make all static"}
    if all(foreign(k) for k in keys):
        needed = {}
    if any(foreign(k) for k in keys):
        needed[ARM64_BIN] = "make ARCH=arm64"
    for path, how in needed.items():
        if not (REPO / path).is_file():
            raise VmError("%s is missing: run %s first" % (path, how))
    # a pass takes under 100 s: five times that is a hang, not a slow guest
    timeout = args.timeout or 500 * len(backends)
    RESULTS_DIR.mkdir(parents=True, exist_ok=True)
    stamps = {k: fetch(k, refresh=False) for k in keys}  # apt runs one at a time
    with concurrent.futures.ThreadPoolExecutor(max_workers=args.jobs) as pool:
        order = sorted(keys, key=GUEST_ORDER.index)
        futures = {k: pool.submit(suite_one_kernel, k, stamps[k], kernel_backends(k, backends),
                                  tests, timeout, args.tag) for k in order}
        outcomes = [futures[k].result() for k in keys]
    rows = [row for _, kernel_rows in outcomes for row in kernel_rows]
    unfinished = [k for k, (res, _) in zip(keys, outcomes) if res.status is None]
    print_matrix(rows)
    times = {k: res.total_s for k, (res, _) in zip(keys, outcomes)}
    for k in keys:
        log("%s took %.0f s" % (k, times[k]))
    if args.readme:
        if set(keys) == set(SUITES) | set(ARM64_SUITES) and backends == list(BACKENDS):
            update_readme(args.readme, matrix_markdown(rows, times))
        else:
            log("%s left as it is: only a full matrix run rewrites its table" % args.readme)
    (RESULTS_DIR / "matrix.json").write_text(json.dumps(
        {"rows": rows, "unfinished": unfinished}, indent=1) + "\n")
    if unfinished:
        return GUEST_UNFINISHED
    # a refusal proven by --check (refusal_row()) is the right result there
    return 0 if all(r["result"] in ("ok", "unsupported") for r in rows) else 1


def parse_args(argv):
    p = argparse.ArgumentParser(description="Run tcpconnlog tests on Debian kernels under QEMU.",
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog="kernels: " + ", ".join(
                                    "%s (%s)" % (k, suite_name(k))
                                    for k in [*SUITES, *ARM64_SUITES]))
    sub = p.add_subparsers(dest="cmd", required=True)
    for name, func, text in (("fetch", cmd_fetch, "download the newest kernel of a suite"),
                             ("version", cmd_version, "print the kernel release to be used")):
        s = sub.add_parser(name, help=text)
        s.add_argument("kernel", nargs="?")
        s.add_argument("--kernel", dest="kernel_option", help="the same as KERNEL")
        s.set_defaults(func=func)
    s = sub.add_parser("prepare", help="fetch kernels, initramfs and roots that suite needs")
    s.add_argument("--kernels", "--kernel", required=True, help="comma-separated")
    s.set_defaults(func=cmd_prepare)
    s = sub.add_parser("run", help="run one command in a guest")
    s.add_argument("--kernel", required=True)
    s.add_argument("--timeout", type=float, default=600, help="seconds (default 600)")
    s.add_argument("--tag", default="run", help="names the console log (default run)")
    s.add_argument("--root", choices=GUEST_ROOTS,
                   help="arm64: debian (default) or busybox (tests/vm/smoke.sh's)")
    s.add_argument("command", nargs=argparse.REMAINDER)
    s.set_defaults(func=cmd_run)
    s = sub.add_parser("suite", help="run the pytest suite per backend, one guest per kernel")
    s.add_argument("--kernels", "--kernel", default="6.1", help="comma-separated (default 6.1)")
    s.add_argument("--backends", default=",".join(BACKENDS))
    s.add_argument("--tests", default=str(REPO / "tests/e2e"),
                   help="pytest path (default tests/e2e of this repository)")
    s.add_argument("--timeout", type=float, help="seconds per guest (default 600 per backend)")
    s.add_argument("--jobs", type=int, default=1, help="guests at once (2 GiB each)")
    s.add_argument("--tag", default="suite", help="names the console logs (default suite)")
    s.add_argument("--readme", help="after a full-matrix run, rewrite the kernel table in this file")
    s.set_defaults(func=cmd_suite)
    args = p.parse_args(argv)
    if args.cmd in ("fetch", "version"):
        args.kernel = args.kernel or args.kernel_option
        if not args.kernel:
            p.error("%s: no kernel given" % args.cmd)
    if getattr(args, "command", None) and args.command[0] == "--":
        args.command = args.command[1:]
    return args


def main(argv):
    args = parse_args(argv)
    try:
        return args.func(args)
    except VmError as e:
        log("error: %s" % e)
        return GUEST_UNFINISHED
    except subprocess.CalledProcessError as e:
        log("error: %s" % e)
        return GUEST_UNFINISHED


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
