# SPDX-License-Identifier: GPL-2.0-only
# Sanitisers and valgrind (included by the top-level Makefile).
#
#   make unit-asan       every unit test built with ASan+UBSan, run
#   make e2e-asan        the host end-to-end suite against an ASan+UBSan
#                        build of the binary (PYTEST_ARGS as for make e2e)
#   make unit-valgrind   every unit test of the normal build under memcheck
#
# The sanitiser build lives in its own tree, $(OUTPUT)/asan/, with the same
# sources, warnings and includes as the normal build. It takes the skeleton
# header (and the BPF object inside it) from the normal build: the BPF side
# is not built twice.

SANITIZE_OUT := $(OUTPUT)/asan
SANITIZE_FLAGS := -fsanitize=address,undefined -fno-sanitize-recover=all \
	-fno-omit-frame-pointer -g -O1
# the normal flags (warnings, -std, -D) without their optimisation level
SANITIZE_CFLAGS := $(filter-out -O%,$(CFLAGS)) $(SANITIZE_FLAGS)
# Both runtimes linked in: gcc's shared libubsan.so is a runtime of its own
# beside libasan.so, and its reports ignore log_path (they go to stderr
# whatever UBSAN_OPTIONS says); linked statically, ASan and UBSan share one
# report file, as with clang. e2e-asan relies on that (see below).
SANITIZE_LDFLAGS := -static-libasan -static-libubsan
SANITIZE_LIB_OBJS := $(patsubst src/%.c,$(SANITIZE_OUT)/%.o,$(LIB_SRCS))
SANITIZE_APP_OBJS := $(patsubst src/%.c,$(SANITIZE_OUT)/%.o,$(APP_SRCS))
SANITIZE_UNIT_TESTS := $(patsubst $(OUTPUT)/tests/%,$(SANITIZE_OUT)/tests/%,$(UNIT_TESTS))

# Any report fails the run. halt_on_error: the first report ends the process
# (UBSan cannot go on anyway: -fno-sanitize-recover=all).
SANITIZE_ASAN_OPTIONS := detect_leaks=1:abort_on_error=0:halt_on_error=1
SANITIZE_UBSAN_OPTIONS := halt_on_error=1:print_stacktrace=1
# A process that reports exits with this status, which no path of the tool
# uses (0, 1 and 2 are its own), so an e2e test that checks the status
# cannot mistake a report for an expected error exit.
SANITIZE_EXITCODE := 86

VALGRIND ?= valgrind
# Every kind of leak but "still reachable" fails, "possible" included: a
# possibly lost block is one that only a pointer into its middle reaches,
# which in this C code means a leak (a pointer advanced past the start
# of what was allocated). None of the unit tests has one, libbpf's and
# cmocka's allocations included (they are freed or still reachable, which
# does not count): should a library ever bring one, suppress that stack
# (--suppressions) rather than the kind.
SANITIZE_VALGRIND := $(VALGRIND) --quiet --error-exitcode=1 --leak-check=full \
	--errors-for-leak-kinds=definite,indirect,possible \
	--show-leak-kinds=definite,indirect,possible --track-origins=yes --num-callers=30

.PHONY: unit-asan e2e-asan unit-valgrind

$(SANITIZE_OUT) $(SANITIZE_OUT)/tests:
	mkdir -p $@

# The command lines of this tree: what is built here is rebuilt when they
# change (the file changes only then).
SANITIZE_CMDLINE := $(CC) $(SANITIZE_CFLAGS) $(SANITIZE_LDFLAGS) $(INCLUDES) $(LIBS)
$(SANITIZE_OUT)/.flags: sanitize-flags-check | $(SANITIZE_OUT)
	@echo '$(SANITIZE_CMDLINE)' | cmp -s - $@ || echo '$(SANITIZE_CMDLINE)' > $@
.PHONY: sanitize-flags-check
sanitize-flags-check:

$(SANITIZE_OUT)/%.o: src/%.c $(wildcard src/*.h) include/tcpconnlog.h $(SANITIZE_OUT)/.flags \
		| $(SANITIZE_OUT)
	$(CC) $(SANITIZE_CFLAGS) $(INCLUDES) -c $< -o $@

# the version header and the skeleton come from the normal build (-I$(OUTPUT))
$(patsubst %,$(SANITIZE_OUT)/%.o,$(VERSION_H_UNITS)): $(OUTPUT)/tcl_version.h
$(SANITIZE_APP_OBJS): $(OUTPUT)/tcpconnlog.skel.h $(OUTPUT)/dnscap.skel.h

$(SANITIZE_OUT)/tcpconnlog: $(SANITIZE_LIB_OBJS) $(SANITIZE_APP_OBJS) $(SANITIZE_OUT)/.flags
	$(CC) $(SANITIZE_CFLAGS) $(SANITIZE_LDFLAGS) $(filter %.o,$^) $(LIBS) -o $@

$(SANITIZE_OUT)/tests/%: tests/unit/%.c $(SANITIZE_LIB_OBJS) $(SANITIZE_OUT)/.flags \
		| $(SANITIZE_OUT)/tests
	$(CC) $(SANITIZE_CFLAGS) $(SANITIZE_LDFLAGS) $(INCLUDES) $< $(SANITIZE_LIB_OBJS) \
		-lcmocka $(LIBS) -o $@

# Runs every test, then names those that failed.
unit-asan: $(SANITIZE_UNIT_TESTS)
	@failed=; for t in $(SANITIZE_UNIT_TESTS); do echo "== $$t"; \
		ASAN_OPTIONS=$(SANITIZE_ASAN_OPTIONS) UBSAN_OPTIONS=$(SANITIZE_UBSAN_OPTIONS) \
		$$t || failed="$$failed $$t"; done; \
	if [ -n "$$failed" ]; then echo "unit-asan: FAILED:$$failed" >&2; exit 1; fi

unit-valgrind: $(UNIT_TESTS)
	@failed=; for t in $(UNIT_TESTS); do echo "== $$t"; \
		$(SANITIZE_VALGRIND) $$t || failed="$$failed $$t"; done; \
	if [ -n "$$failed" ]; then echo "unit-valgrind: FAILED:$$failed" >&2; exit 1; fi

# The e2e tests read the tool's stderr and send it signals, so a report is
# caught two ways, either of which fails the run:
#  - the status: a reporting process exits $(SANITIZE_EXITCODE); the tests
#    check the status of every run they stop with SIGINT/SIGTERM or let end;
#  - report files: log_path sends every report (and LeakSanitizer's own
#    fatal errors) to a file per process in a fresh directory instead of
#    stderr, so the tests that check stderr see what they would without
#    sanitisers, and a report from a run whose status no test looks at
#    (one killed by the test's teardown after it reported) still fails the
#    target. The directory is world-writable (sticky): the tool writes its
#    report after it has become nobody. A directory with reports is kept.
# A process killed with SIGKILL reports nothing, with or without this.
# The tests that never run this binary run once, in make e2e:
# test_install.py builds and installs binaries of its own, test_static.py
# runs the static one, test_image.py and test_kube.py the static one in
# the image.
E2E_ASAN_IGNORE := test_install.py test_static.py test_image.py test_kube.py
e2e-asan: $(SANITIZE_OUT)/tcpconnlog
	@dir=$$(mktemp -d $(abspath $(SANITIZE_OUT))/e2e-reports.XXXXXX) && chmod 1777 $$dir && \
	echo "e2e-asan: sanitizer reports go to $$dir" && status=0 && \
	( cd tests/e2e && \
	  ASAN_OPTIONS=$(SANITIZE_ASAN_OPTIONS):exitcode=$(SANITIZE_EXITCODE):log_path=$$dir/asan \
	  UBSAN_OPTIONS=$(SANITIZE_UBSAN_OPTIONS):exitcode=$(SANITIZE_EXITCODE):log_path=$$dir/ubsan \
	  TCPCONNLOG_BIN=$(abspath $(SANITIZE_OUT)/tcpconnlog) \
	  $(PYTHON) -m pytest -v -p no:cacheprovider $(addprefix --ignore=,$(E2E_ASAN_IGNORE)) \
		--junitxml=$(abspath $(SANITIZE_OUT))/e2e-asan.xml $(PYTEST_ARGS) ) || status=$$?; \
	if [ -n "$$(ls -A $$dir)" ]; then \
		for f in $$dir/*; do echo "=== $$f"; cat $$f; done >&2; \
		echo "e2e-asan: FAILED: sanitizer reports in $$dir" >&2; exit 1; \
	fi; \
	rmdir $$dir; \
	if [ $$status -ne 0 ]; then echo "e2e-asan: FAILED: pytest exit status $$status" >&2; fi; \
	exit $$status
