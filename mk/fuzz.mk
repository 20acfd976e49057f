# SPDX-License-Identifier: GPL-2.0-only
# libFuzzer targets for the parsers of outside input (tests/fuzz/README.md).
#   make fuzz-smoke   each target FUZZ_SMOKE_SECONDS on a fresh copy of its
#                     corpus; part of make test
#   make fuzz         each target FUZZ_SECONDS; what it finds is kept in
#                     $(OUTPUT)/fuzz/work/, never written to tests/fuzz/corpus/
# Any crash, leak or sanitizer report fails the run, with the input saved
# under $(OUTPUT)/fuzz/artifacts/.

FUZZ_CC ?= clang
FUZZ_SECONDS ?= 600
FUZZ_SMOKE_SECONDS ?= 15
FUZZ_CFLAGS ?= -g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined
# the DNS parser's (fuzz_dns); libbpf for the version cli.c prints (version.c)
FUZZ_LIBS ?= -lresolv -lbpf
# -timeout: one input running 10 s is a hang, report it
FUZZ_FLAGS ?= -timeout=10 -print_final_stats=1

# tests/fuzz/fuzz_NAME.c -> $(OUTPUT)/fuzz/fuzz_NAME, seeds in tests/fuzz/corpus/fuzz_NAME,
# a libFuzzer dictionary in tests/fuzz/fuzz_NAME.dict if there is one
FUZZ_NAMES := $(patsubst tests/fuzz/fuzz_%.c,%,$(wildcard tests/fuzz/fuzz_*.c))
FUZZ_BINS := $(patsubst %,$(OUTPUT)/fuzz/fuzz_%,$(FUZZ_NAMES))

# The library units built again with clang and the sanitizers, in an archive:
# the linker takes only the members a target needs, so cli.c may come to call
# into other units without this file changing.
FUZZ_OBJS := $(patsubst src/%.c,$(OUTPUT)/fuzz/obj/%.o,$(LIB_SRCS))
FUZZ_LIB := $(OUTPUT)/fuzz/libtcl.a

.PHONY: fuzz-build fuzz-smoke fuzz $(addprefix fuzz-smoke-,$(FUZZ_NAMES)) \
	$(addprefix fuzz-,$(FUZZ_NAMES))

fuzz-build: $(FUZZ_BINS)
fuzz-smoke: $(addprefix fuzz-smoke-,$(FUZZ_NAMES))
fuzz: $(addprefix fuzz-,$(FUZZ_NAMES))

$(OUTPUT)/fuzz/obj $(OUTPUT)/fuzz/artifacts:
	mkdir -p $@

$(FUZZ_OBJS): $(OUTPUT)/fuzz/obj/%.o: src/%.c $(wildcard src/*.h) include/tcpconnlog.h | $(OUTPUT)/fuzz/obj
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Iinclude -Isrc -I$(OUTPUT) -D_GNU_SOURCE -c $< -o $@
$(patsubst %,$(OUTPUT)/fuzz/obj/%.o,$(VERSION_H_UNITS)): $(OUTPUT)/tcl_version.h

$(FUZZ_LIB): $(FUZZ_OBJS)
	rm -f $@
	$(AR) rcs $@ $^

$(FUZZ_BINS): $(OUTPUT)/fuzz/%: tests/fuzz/%.c $(FUZZ_LIB)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -Iinclude -Isrc -D_GNU_SOURCE $< $(FUZZ_LIB) $(FUZZ_LIBS) -o $@

# $(call fuzz_run,NAME,SECONDS,CORPUS DIRS): the log goes to a file; on
# failure its tail (the report, the saved input) is shown, else the figures.
# libFuzzer writes new inputs to the first directory only.
define fuzz_run
	@log=$(OUTPUT)/fuzz/fuzz_$(1).log; echo "== fuzz_$(1): $(2) s, log in $$log"; \
	if ! $(OUTPUT)/fuzz/fuzz_$(1) $(FUZZ_FLAGS) -max_total_time=$(2) \
		$(if $(wildcard tests/fuzz/fuzz_$(1).dict),-dict=tests/fuzz/fuzz_$(1).dict) \
		-artifact_prefix=$(OUTPUT)/fuzz/artifacts/fuzz_$(1)- $(3) >$$log 2>&1; then \
		tail -n 60 $$log; echo "fuzz_$(1): FAILED (input saved in $(OUTPUT)/fuzz/artifacts/)"; exit 1; \
	fi; \
	grep -E '^#[0-9]+[[:space:]]+DONE|^stat::(number_of_executed_units|average_exec_per_sec|peak_rss_mb)' \
		$$log | sed 's/^/fuzz_$(1): /'
endef

$(addprefix fuzz-smoke-,$(FUZZ_NAMES)): fuzz-smoke-%: $(OUTPUT)/fuzz/fuzz_% | $(OUTPUT)/fuzz/artifacts
	rm -rf $(OUTPUT)/fuzz/smoke/$*
	mkdir -p $(OUTPUT)/fuzz/smoke
	cp -r tests/fuzz/corpus/fuzz_$* $(OUTPUT)/fuzz/smoke/$*
	$(call fuzz_run,$*,$(FUZZ_SMOKE_SECONDS),$(OUTPUT)/fuzz/smoke/$*)

# The work directory grows from run to run; the committed seeds are read only.
$(addprefix fuzz-,$(FUZZ_NAMES)): fuzz-%: $(OUTPUT)/fuzz/fuzz_% | $(OUTPUT)/fuzz/artifacts
	mkdir -p $(OUTPUT)/fuzz/work/$*
	$(call fuzz_run,$*,$(FUZZ_SECONDS),$(OUTPUT)/fuzz/work/$* tests/fuzz/corpus/fuzz_$*)
