# SPDX-License-Identifier: GPL-2.0-only
# Build: BPF object -> skeleton header -> one binary with the object inside.

HOST_ARCH := $(shell uname -m | sed -e 's/x86_64/x86/' -e 's/aarch64/arm64/')
ARCH := $(HOST_ARCH)
# make ARCH=arm64 on an x86-64 host: build/arm64, the cross toolchain
# and the arm64 sysroot (mk/cross.mk; nothing when ARCH is the host's)
include mk/cross.mk
OUTPUT ?= build
CLANG ?= clang
BPFTOOL ?= bpftool
CC ?= cc
PYTHON ?= /usr/bin/python3
VMLINUX := vmlinux/$(ARCH)/vmlinux.h

# The usual variables: CFLAGS, CPPFLAGS and LDFLAGS from the command line
# or the environment (a distribution's hardening flags) reach every
# compile and link of the tool. The project's own flags are appended with
# override, so that a CFLAGS given on the command line cannot drop -std
# or -D_GNU_SOURCE.
CFLAGS ?= -g -O2
override CFLAGS += -Wall -Wextra -Wno-unused-parameter -std=gnu11 -D_GNU_SOURCE -pthread
CPPFLAGS ?=
LDFLAGS ?=
INCLUDES := -Iinclude -Isrc -I$(OUTPUT)
# Libraries as pkg-config knows them; the resolver (-r) is part of libc
# and has no .pc file. pkg-config is asked when make starts (empty if it
# or a .pc file is missing: the link then says so, see PKG_CHECK).
PKG_CONFIG ?= pkg-config
# libmicrohttpd (--metrics) is not linked into the dynamic binary, which
# loads it only when asked (src/mhd_dlopen.c); the static one has it.
PKGS_LINKED := libbpf libelf zlib libcap-ng
PKGS := $(PKGS_LINKED) libmicrohttpd
PKG_CFLAGS := $(shell $(PKG_CONFIG) --cflags $(PKGS) 2>/dev/null)
PKG_LIBS := $(shell $(PKG_CONFIG) --libs $(PKGS_LINKED) 2>/dev/null)
override CPPFLAGS += $(PKG_CFLAGS)
# p11-kit's headers, for src/metrics_p11stub.c (make static; see there)
INCLUDES += $(shell $(PKG_CONFIG) --cflags p11-kit-1 2>/dev/null)
LIBS := $(PKG_LIBS) -lresolv
PKG_CHECK = @test -n "$(PKG_LIBS)" || { echo "make: pkg-config ($(PKG_CONFIG)) does not know $(PKGS): install them with make deps" >&2; exit 1; }
BPF_CFLAGS := -g -O2 -target bpf -D__TARGET_ARCH_$(ARCH) -Wall

# User-space units; main.c is left out of the list the unit tests link.
LIB_SRCS := src/cli.c src/cli_traps.c src/parse.c src/names.c src/addr.c src/table.c \
	src/hist.c src/stats.c src/counts.c src/format_text.c src/format_json.c \
	src/sockdiag.c src/top.c src/connstats.c src/records.c src/output.c src/outfile.c src/kbtf.c \
	src/topkeys.c src/toprow.c src/topterm.c \
	src/wallclock.c src/lru.c src/dns_answer.c src/dns_table.c src/dns_tcp.c \
	src/container.c src/rdns.c src/delayq.c src/cgroup.c src/cgfilter.c src/version.c \
	src/livestats.c src/notify.c src/runinfo.c src/metrics.c src/metrics_addr.c src/metrics_http.c \
	src/mhd_dlopen.c
APP_SRCS := src/main.c src/backend.c src/kretprobe.c src/preflight.c src/privs.c \
	src/tracer.c src/dnscap.c src/version_backends.c
LIB_OBJS := $(patsubst src/%.c,$(OUTPUT)/%.o,$(LIB_SRCS))
APP_OBJS := $(patsubst src/%.c,$(OUTPUT)/%.o,$(APP_SRCS))
UNIT_TESTS := $(patsubst tests/unit/%.c,$(OUTPUT)/tests/%,$(wildcard tests/unit/test_*.c))

.PHONY: all deps test-deps vm-deps cross-deps bench-deps run test unit e2e vmtest bench vmlinux clean \
	install uninstall static dist version-check image
all: $(OUTPUT)/tcpconnlog

$(OUTPUT) $(OUTPUT)/tests:
	mkdir -p $@

$(OUTPUT)/tcpconnlog.bpf.o: src/tcpconnlog.bpf.c src/lifecycle.bpf.h include/tcpconnlog.h $(VMLINUX) | $(OUTPUT)
	$(CLANG) $(BPF_CFLAGS) -Iinclude -Ivmlinux/$(ARCH) -c $< -o $@

$(OUTPUT)/tcpconnlog.skel.h: $(OUTPUT)/tcpconnlog.bpf.o
	$(BPFTOOL) gen skeleton $< name tcpconnlog_bpf > $@

# -d: the DNS capture, its own object, loaded only when asked for
$(OUTPUT)/dnscap.bpf.o: src/dnscap.bpf.c include/dnscap_event.h $(VMLINUX) | $(OUTPUT)
	$(CLANG) $(BPF_CFLAGS) -Iinclude -Ivmlinux/$(ARCH) -c $< -o $@

$(OUTPUT)/dnscap.skel.h: $(OUTPUT)/dnscap.bpf.o
	$(BPFTOOL) gen skeleton $< name dnscap_bpf > $@

$(OUTPUT)/%.o: src/%.c $(wildcard src/*.h) include/tcpconnlog.h | $(OUTPUT)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(INCLUDES) -c $< -o $@

# The version (scripts/version), in a header rewritten only when it
# changes: a commit rebuilds version.o and runinfo.o (the start record's
# version) and relinks, nothing else.
VERSION_STRING = $(shell scripts/version)
$(OUTPUT)/tcl_version.h: version-check | $(OUTPUT)
	@test -n '$(VERSION_STRING)' || { echo "make: scripts/version printed no version: is VERSION there?" >&2; exit 1; }
	@echo '#define TCL_VERSION "$(VERSION_STRING)"' | cmp -s - $@ || \
		echo '#define TCL_VERSION "$(VERSION_STRING)"' > $@
version-check:
# the units that include it, in every tree that builds them (asan, fuzz)
VERSION_H_UNITS := version runinfo metrics_http
$(patsubst %,$(OUTPUT)/%.o,$(VERSION_H_UNITS)): $(OUTPUT)/tcl_version.h

# units that include the skeleton
$(OUTPUT)/backend.o $(OUTPUT)/tracer.o $(OUTPUT)/main.o: $(OUTPUT)/tcpconnlog.skel.h
$(OUTPUT)/dnscap.o: $(OUTPUT)/dnscap.skel.h include/dnscap_event.h

$(OUTPUT)/tcpconnlog: $(LIB_OBJS) $(APP_OBJS)
	$(PKG_CHECK)
	$(CC) $(CFLAGS) $(LDFLAGS) $^ $(LIBS) -o $@

# One binary that needs no shared library: the same objects, linked with
# the static archives (pkg-config --static adds what they need in turn,
# e.g. zstd where libelf is built with it). glibc's getpwnam (-u) and
# getnameinfo (-r) still load NSS modules at run time: with the default
# "files" and "dns" sources of /etc/nsswitch.conf they work as in the
# dynamic binary; sources such as sss or systemd need the glibc of the
# build (the linker warns about it).
# libmicrohttpd (--metrics) needs GnuTLS, and GnuTLS p11-kit, of which
# Debian ships no static archive: src/metrics_p11stub.c stands in for it
# (the server speaks plain HTTP; GnuTLS calls p11-kit only for PKCS #11).
STATIC_LIBS = $(filter-out -lp11-kit,$(shell $(PKG_CONFIG) --static --libs $(PKGS) 2>/dev/null)) -lresolv
# libmicrohttpd is linked in here (src/mhd_linked.c), not loaded.
STATIC_OBJS := $(OUTPUT)/metrics_p11stub.o $(OUTPUT)/mhd_linked.o
$(STATIC_OBJS): $(OUTPUT)/%.o: src/%.c | $(OUTPUT)
	$(PKG_CHECK)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(INCLUDES) -c $< -o $@
static: $(OUTPUT)/tcpconnlog-static
$(OUTPUT)/tcpconnlog-static: $(filter-out $(OUTPUT)/mhd_dlopen.o,$(LIB_OBJS)) $(APP_OBJS) \
		$(STATIC_OBJS)
	$(PKG_CHECK)
	$(CC) $(CFLAGS) $(LDFLAGS) -static $^ $(STATIC_LIBS) -o $@

# make image [PODMAN="podman --root DIR ..."]: the OCI image FROM scratch
# around the static binary (image/Containerfile), built offline; tagged
# localhost/tcpconnlog:VERSION and :latest (README, "Running on a fleet").
PODMAN ?= podman
image: $(OUTPUT)/tcpconnlog-static
	image/build $(OUTPUT)/tcpconnlog-static $(PODMAN)

$(OUTPUT)/tests/%: tests/unit/%.c $(LIB_OBJS) | $(OUTPUT)/tests
	$(CC) $(CPPFLAGS) $(CFLAGS) $(INCLUDES) $(LDFLAGS) $< $(LIB_OBJS) -lcmocka $(LIBS) -o $@

# Regenerate the committed vmlinux.h from the running kernel's BTF
# (another ARCH's: mk/cross.mk).
ifeq ($(ARCH),$(HOST_ARCH))
vmlinux:
	mkdir -p vmlinux/$(ARCH)
	{ printf '/* SPDX-License-Identifier: GPL-2.0-only */\n/* Generated by `make vmlinux` (bpftool btf dump) from this kernel BTF: %s %s */\n' \
		"$$(uname -r)" "$$(uname -m)"; \
	  $(BPFTOOL) btf dump file /sys/kernel/btf/vmlinux format c; } > $(VMLINUX)
endif

# Install what building (deps) or testing (test-deps) needs, if missing.
deps:
	@scripts/install-deps build
test-deps:
	@scripts/install-deps test
vm-deps:
	@scripts/install-deps vm
cross-deps:
	@scripts/install-deps cross

run: deps
	$(MAKE) all
	$(OUTPUT)/tcpconnlog $(ARGS)

unit: $(UNIT_TESTS)
	@set -e; for t in $(UNIT_TESTS); do echo "== $$t"; $$t; done

# the JUnit file feeds the host row of the README's kernel table. Every
# JSON line is checked with python3-jsonschema here (about 6 s of CPU a
# run); the sanitized run and the VM guests, 20 times slower, use the
# schema's compiled checks (tests/e2e/tclschema.py), which this run
# compares with jsonschema on every line.
e2e: $(OUTPUT)/tcpconnlog $(OUTPUT)/tcpconnlog-static
	mkdir -p $(OUTPUT)/vm/results
	cd tests/e2e && TCL_SCHEMA_JSONSCHEMA=1 $(PYTHON) -m pytest -v -p no:cacheprovider \
		--junitxml=$(CURDIR)/$(OUTPUT)/vm/results/host-auto.xml $(PYTEST_ARGS)

# The end-to-end suite per backend on stock Debian kernels under QEMU:
#   make vmtest KERNELS="5.10 7.2"   (default: the whole matrix)
# A run of the whole matrix rewrites the kernel table in README.md.
KERNELS ?= 5.10 6.1 6.12 7.2 arm64-6.1 arm64-6.12
# guests at once: each runs on one emulation thread, which keeps a core
# busy 80-90% of the time (two guests used 625 s of CPU in 445 s); three
# on the two cores run each pass about 1.35 times slower, and finish the
# six guests sooner than two at a time
VM_JOBS ?= 3
comma := ,
empty :=
space := $(empty) $(empty)
vmtest: vm-prep $(OUTPUT)/tcpconnlog $(OUTPUT)/tcpconnlog-static
	$(PYTHON) tests/vm/vmtest.py suite --jobs $(VM_JOBS) \
		--kernels $(subst $(space),$(comma),$(strip $(KERNELS))) --readme README.md

# What the VM stage needs before a guest boots: the kernels (downloaded
# once), their initramfs, arm64's root and binary. make test does it while
# lint runs: mostly downloads, it took 100 s of the run's wall time after
# the soak.
vm-prep: vm-deps
	$(if $(filter arm64-%,$(KERNELS)),$(MAKE) cross-deps && $(MAKE) ARCH=arm64 static)
	$(PYTHON) tests/vm/vmtest.py prepare --kernels $(subst $(space),$(comma),$(strip $(KERNELS)))

# Everything, cheapest first (21 to 29 minutes on 2 cores; see README):
# the analysers; the unit tests plain; then, two at a time (one per core),
# the unit tests under valgrind and with ASan+UBSan and the fuzz targets
# briefly (15 s each, however busy the machine); the host suite plain and
# sanitized; a 30 s soak; then the kernel matrix.
test: test-deps vm-deps
	$(MAKE) all static
	$(MAKE) -j2 --output-sync=target lint vm-prep
	$(MAKE) unit
	$(MAKE) -j2 --output-sync=target unit-valgrind unit-asan fuzz-smoke
	$(MAKE) e2e
	$(MAKE) e2e-asan
	$(MAKE) soak SOAK_SECONDS=30
	$(MAKE) vmtest

# Benchmarks (bench/README.md): BENCH_ARGS="--quick", "--vm 6.12"
BENCH_BINS := $(OUTPUT)/bench/loadgen $(OUTPUT)/bench/consume $(OUTPUT)/bench/floor
$(OUTPUT)/bench:
	mkdir -p $@
$(OUTPUT)/bench/floor.bpf.o: bench/floor.bpf.c $(VMLINUX) | $(OUTPUT)/bench
	$(CLANG) $(BPF_CFLAGS) -Ivmlinux/$(ARCH) -c $< -o $@
$(OUTPUT)/bench/floor.skel.h: $(OUTPUT)/bench/floor.bpf.o
	$(BPFTOOL) gen skeleton $< name floor_bpf > $@
$(OUTPUT)/bench/floor: bench/floor.c $(OUTPUT)/bench/floor.skel.h
	$(PKG_CHECK)
	$(CC) $(CFLAGS) -I$(OUTPUT)/bench $< $(PKG_LIBS) -o $@
$(OUTPUT)/bench/loadgen: bench/loadgen.c | $(OUTPUT)/bench
	$(CC) $(CFLAGS) -pthread $< -o $@
$(OUTPUT)/bench/consume: bench/consume.c $(LIB_OBJS) | $(OUTPUT)/bench
	$(CC) $(CFLAGS) $(INCLUDES) $< $(LIB_OBJS) $(LIBS) -o $@
bench-deps:
	@scripts/install-deps bench
bench: bench-deps
	$(MAKE) all $(BENCH_BINS)
	$(PYTHON) bench/bench.py $(BENCH_ARGS)

# Checks with their own tools (sanitisers, analysers, fuzzing, soak): mk/*.mk
include $(sort $(filter-out mk/cross.mk,$(wildcard mk/*.mk)))

# make install [DESTDIR=/tmp/stage] [PREFIX=/usr] [SBINDIR=...] [MANDIR=...]
#   [BASHCOMPDIR=...] [DATADIR=...]: the binary, its man page, its bash
# completion and the JSON schema of its records (for log pipelines that
# validate). All four are required: a tree without one of them is not one
# to install from. make uninstall removes the three files and
# leaves the directories (shared with other packages, e.g. /usr/local/sbin).
PREFIX ?= /usr/local
SBINDIR ?= $(PREFIX)/sbin
MANDIR ?= $(PREFIX)/share/man
BASHCOMPDIR ?= $(PREFIX)/share/bash-completion/completions
DATADIR ?= $(PREFIX)/share
INSTALL ?= install
MANPAGE := man/tcpconnlog.8
COMPLETION := completion/tcpconnlog
SCHEMA := schema/tcpconnlog.schema.json
install: $(OUTPUT)/tcpconnlog
	@for f in $(MANPAGE) $(COMPLETION) $(SCHEMA); do test -f $$f || \
		{ echo "make install: $$f is missing from this tree; take a complete checkout or tarball" >&2; exit 1; }; done
	$(INSTALL) -d $(DESTDIR)$(SBINDIR) $(DESTDIR)$(MANDIR)/man8 $(DESTDIR)$(BASHCOMPDIR) \
		$(DESTDIR)$(DATADIR)/tcpconnlog
	$(INSTALL) -m 0755 $(OUTPUT)/tcpconnlog $(DESTDIR)$(SBINDIR)/tcpconnlog
	$(INSTALL) -m 0644 $(MANPAGE) $(DESTDIR)$(MANDIR)/man8/tcpconnlog.8
	$(INSTALL) -m 0644 $(COMPLETION) $(DESTDIR)$(BASHCOMPDIR)/tcpconnlog
	$(INSTALL) -m 0644 $(SCHEMA) $(DESTDIR)$(DATADIR)/tcpconnlog/tcpconnlog.schema.json

uninstall:
	rm -f $(DESTDIR)$(SBINDIR)/tcpconnlog $(DESTDIR)$(MANDIR)/man8/tcpconnlog.8 \
		$(DESTDIR)$(BASHCOMPDIR)/tcpconnlog $(DESTDIR)$(DATADIR)/tcpconnlog/tcpconnlog.schema.json

# make dist: $(OUTPUT)/tcpconnlog-VERSION.tar.gz of the committed tree
# (HEAD; uncommitted changes are not in it), its VERSION file stamped with
# the version HEAD has here, so that a build from it says the same.
DIST_VERSION = $(subst -dirty,,$(VERSION_STRING))
DIST_NAME = tcpconnlog-$(DIST_VERSION)
dist: | $(OUTPUT)
	@test "$$(git rev-parse --show-toplevel 2>/dev/null)" = "$$(pwd -P)" || \
		{ echo "make dist: needs this tree's git checkout (a tarball has no history to archive)" >&2; exit 1; }
	rm -rf $(OUTPUT)/dist && mkdir -p $(OUTPUT)/dist/$(DIST_NAME)
	git archive HEAD | tar -x -C $(OUTPUT)/dist/$(DIST_NAME)
	echo '$(DIST_VERSION)' > $(OUTPUT)/dist/$(DIST_NAME)/VERSION
	tar -C $(OUTPUT)/dist --sort=name --owner=0 --group=0 --numeric-owner \
		--mtime="@$$(git log -1 --format=%ct HEAD)" -czf $(OUTPUT)/$(DIST_NAME).tar.gz $(DIST_NAME)
	rm -rf $(OUTPUT)/dist
	@echo $(OUTPUT)/$(DIST_NAME).tar.gz

clean:
	rm -rf $(OUTPUT)
