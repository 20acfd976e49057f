# SPDX-License-Identifier: GPL-2.0-only
# Soak test (included by the top-level Makefile): the real tracer under
# mixed connects from many threads for SOAK_SECONDS; its memory must stay
# flat, every attempt be printed or counted lost, and it must exit cleanly.
# tests/e2e/test_soak.py says what is checked and why.
#
#   make soak                    10 minutes, on demand
#   make soak SOAK_SECONDS=30    the short run make test does
#
# -rA prints the test's figures (connects per kind, RSS) even when it passes.

SOAK_SECONDS ?= 600

.PHONY: soak
soak: $(OUTPUT)/tcpconnlog
	cd tests/e2e && TCL_SOAK_SECONDS=$(SOAK_SECONDS) $(PYTHON) -m pytest -v -p no:cacheprovider -rA -m soak
