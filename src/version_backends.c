// SPDX-License-Identifier: GPL-2.0-only
/* The backends part of --version: --check's own steps (load, attach,
 * detach) for each backend, reported on one line.
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <bpf/libbpf.h>
#include "backend.h"
#include "config.h"
#include "preflight.h"
#include "version.h"

static int quiet(enum libbpf_print_level level, const char *fmt, va_list args)
{
	return 0;
}

void version_backends(void)
{
	struct tcl_config cfg;
	libbpf_print_fn_t old;
	char why[256];

	if (preflight_check(NULL, why, sizeof(why))) {
		/* --version still succeeds: it says what it could not check */
		printf("backends: not checked: %s\n", why);
		return;
	}
	memset(&cfg, 0, sizeof(cfg));
	cfg.backend = BACKEND_AUTO;
	cfg.ringbuf_bytes = TCL_RINGBUF_DEFAULT;
	cfg.dns_table_size = TCL_DNS_TABLE_DEFAULT;
	/* a line per backend, "NAME: ok" or why not; none is an error here */
	printf("backends on this kernel (as --check):\n");
	old = libbpf_set_print(quiet);
	(void)backend_check(&cfg);
	libbpf_set_print(old);
}
