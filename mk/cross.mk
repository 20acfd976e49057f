# SPDX-License-Identifier: GPL-2.0-only
# The arm64 build from an x86-64 host (included by the top-level Makefile
# before it sets OUTPUT and the toolchain; nothing here when ARCH is the
# host's own):
#
#   make ARCH=arm64              build/arm64/: the BPF objects built for arm64
#                                (vmlinux/arm64/vmlinux.h), their skeletons and
#                                tcpconnlog-static, a static aarch64 binary
#   make ARCH=arm64 cross-check  proves it: file(1), the binary run under
#                                qemu-aarch64-static, the kprobe programs read
#                                arm64's user_pt_regs (scripts/cross-check)
#   make ARCH=arm64 vmlinux      regenerates vmlinux/arm64/vmlinux.h from Debian's
#                                arm64 kernel package (scripts/arm64-vmlinux)
#   make ARCH=arm64 sysroot      downloads and unpacks the sysroot again
#
# The compiler is the host's clang (--target, --sysroot, lld), the libraries
# those of the arm64 sysroot build/arm64/sysroot (scripts/arm64-sysroot,
# a private apt state: nothing arm64 is installed on the host), which the
# first build makes by itself (as root). Host tools: make cross-deps.

ifneq ($(ARCH),$(HOST_ARCH))
ifneq ($(HOST_ARCH)-$(ARCH),x86-arm64)
$(error make ARCH=$(ARCH): this tree builds for arm64 from x86 only (this host is $(HOST_ARCH)))
endif
OUTPUT ?= build/arm64
# Everything else (all, unit, e2e, install, lint, ...) is for this host or
# runs what it builds here: refused, rather than built for arm64 quietly.
CROSS_GOALS := static cross-check vmlinux sysroot clean cross-deps
CROSS_OTHER := $(filter-out $(CROSS_GOALS) $(OUTPUT)/%,$(MAKECMDGOALS))
ifneq ($(CROSS_OTHER),)
$(error make ARCH=arm64 $(CROSS_OTHER): not for arm64 (it makes $(CROSS_GOALS) and files under $(OUTPUT)/))
endif

CROSS_TRIPLE := aarch64-linux-gnu
CROSS_SYSROOT := $(abspath $(OUTPUT)/sysroot)
CC := clang --target=$(CROSS_TRIPLE) --sysroot=$(CROSS_SYSROOT)
override LDFLAGS += -fuse-ld=lld
# The sysroot's own directories are system ones, as /usr/include is for the
# host build: no -I or -L for them (clang --sysroot searches them), so that
# warnings in the macros of libc's headers stay silenced as there.
CROSS_LIBDIR := $(CROSS_SYSROOT)/usr/lib/$(CROSS_TRIPLE)
PKG_CONFIG := env PKG_CONFIG_SYSROOT_DIR=$(CROSS_SYSROOT) \
	PKG_CONFIG_LIBDIR=$(CROSS_LIBDIR)/pkgconfig:$(CROSS_SYSROOT)/usr/share/pkgconfig \
	PKG_CONFIG_SYSTEM_INCLUDE_PATH=$(CROSS_SYSROOT)/usr/include \
	PKG_CONFIG_SYSTEM_LIBRARY_PATH=$(CROSS_LIBDIR):$(CROSS_SYSROOT)/usr/lib \
	pkg-config
.DEFAULT_GOAL := static

# The Makefile asks pkg-config for the libraries as it reads itself, so the
# sysroot must be there before: make builds an included makefile it has a
# rule for, then starts again with it. Not for the goals that need no
# sysroot.
ifneq ($(filter-out clean vmlinux sysroot cross-deps,$(or $(MAKECMDGOALS),static)),)
include $(CROSS_SYSROOT)/sysroot.mk
endif
$(CROSS_SYSROOT)/sysroot.mk: scripts/arm64-sysroot scripts/arm64_apt.py
	scripts/arm64-sysroot $(CROSS_SYSROOT)

.PHONY: sysroot cross-check
sysroot:
	scripts/arm64-sysroot $(CROSS_SYSROOT)

QEMU_AARCH64 ?= qemu-aarch64-static
cross-check: $(OUTPUT)/tcpconnlog-static $(OUTPUT)/tcpconnlog.bpf.o
	scripts/cross-check $(QEMU_AARCH64) $^

vmlinux:
	scripts/arm64-vmlinux $(OUTPUT)/kernel $(VMLINUX)
endif
