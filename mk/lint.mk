# SPDX-License-Identifier: GPL-2.0-only
# Static analysis (included by the top-level Makefile).
#
#   make lint    clang-tidy and cppcheck over src/; any finding fails
#
# clang-tidy takes its checks from .clang-tidy, cppcheck its suppressions
# (each with its reason) from .cppcheck-suppressions. Both run over every
# user-space unit, src/*.c, with the build's includes and flags; clang-tidy
# also over the BPF program (src/tcpconnlog.bpf.c with src/lifecycle.bpf.h),
# as the BPF build compiles it. A finding that a code change cannot fix is
# silenced where it is (NOLINT(check), cppcheck-suppress id), with its
# reason on that line.
#
# cppcheck leaves the BPF program out: it does not understand libbpf's
# helper declarations (constant function pointers, `= (void *)1`) and takes
# the result of every map lookup for a pointer to its key, and reading
# vmlinux.h costs it most of a minute. The verifier checks the BPF side's
# memory accesses at every load anyway.

CLANG_TIDY ?= clang-tidy
CPPCHECK ?= cppcheck
# clang-tidy processes at once: one per core
LINT_JOBS ?= $(shell nproc 2>/dev/null || echo 2)

LINT_SRCS := $(filter-out %.bpf.c,$(sort $(wildcard src/*.c)))
LINT_BPF_SRC := src/tcpconnlog.bpf.c src/dnscap.bpf.c
LINT_OUT := $(OUTPUT)/lint

# The build's includes and warning flags. libbpf's headers are taken as
# our own, not as system headers: the analyzer assumes that a function of
# a system header never frees what it is passed, and so reports the
# skeleton's bpf_object__destroy_skeleton(s) as a leak of s.
LINT_TIDY_FLAGS := $(INCLUDES) --no-system-header-prefix=bpf/ -D_GNU_SOURCE -std=gnu11 \
	-Wall -Wextra -Wno-unused-parameter
LINT_TIDY_BPF_FLAGS := -target bpf -D__TARGET_ARCH_$(ARCH) -Wall -Iinclude -Ivmlinux/$(ARCH)

# cppcheck reads our sources and headers only (no system headers: what it
# needs of libc, POSIX and libbpf comes from its --library files). The
# skeleton it reads is the build's without the BPF object inside, a 900 KB
# string literal that took it over two minutes per unit. (Should bpftool
# change how it writes that literal, sed leaves the copy whole: slow, but
# still right.)
CPPCHECK_FLAGS := --enable=warning,style,performance,portability --error-exitcode=1 \
	--inline-suppr --suppressions-list=.cppcheck-suppressions \
	--library=posix --library=gnu --library=.cppcheck-libbpf.cfg \
	--language=c --std=c11 -D_GNU_SOURCE -Iinclude -Isrc -I$(LINT_OUT) --quiet

.PHONY: lint

$(LINT_OUT):
	mkdir -p $@

$(LINT_OUT)/tcpconnlog.skel.h: $(OUTPUT)/tcpconnlog.skel.h | $(LINT_OUT)
	sed '/^\treturn (const void \*)"\\$$/,/";$$/c\	return (const void *)"";' $< > $@

# One clang-tidy run over file $$1, with the flags its side is built with;
# its report printed whole, so that parallel runs do not interleave, and
# without clang's "N warnings generated." (warnings in system headers,
# never reported).
LINT_TIDY_ONE := case "$$1" in \
	*.bpf.c) set -- --checks=-performance-no-int-to-ptr "$$1" -- $(LINT_TIDY_BPF_FLAGS) ;; \
	*) set -- "$$1" -- $(LINT_TIDY_FLAGS) ;; \
	esac; \
	out=$$($(CLANG_TIDY) --quiet "$$@" 2>&1); status=$$?; \
	printf "%s\n" "$$out" | grep -v -e "^[0-9]* warnings\{0,1\} generated\.$$" -e "^$$"; \
	exit $$status

# Each tool runs to the end, so that one run lists every finding. The BPF
# program goes first: it takes longest.
lint: $(OUTPUT)/tcpconnlog.skel.h $(OUTPUT)/dnscap.skel.h $(LINT_OUT)/tcpconnlog.skel.h \
		$(OUTPUT)/tcl_version.h
	@status=0; \
	echo "clang-tidy: $(LINT_BPF_SRC) and $(words $(LINT_SRCS)) user-space units"; \
	printf '%s\n' $(LINT_BPF_SRC) $(LINT_SRCS) | \
		xargs -P$(LINT_JOBS) -I{} sh -c '$(LINT_TIDY_ONE)' clang-tidy {} || status=1; \
	echo "cppcheck: $(words $(LINT_SRCS)) user-space units"; \
	$(CPPCHECK) $(CPPCHECK_FLAGS) $(LINT_SRCS) || status=1; \
	if [ $$status -ne 0 ]; then echo "lint: FAILED" >&2; fi; \
	exit $$status
