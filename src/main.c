// SPDX-License-Identifier: GPL-2.0-only
/*
 * tcpconnlog: log every outbound TCP connect attempt with its outcome and
 * latency. This file wires the steps together: options, checks, probes,
 * the tracing session.
 */
#include <malloc.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <bpf/libbpf.h>
#include "backend.h"
#include "cli.h"
#include "preflight.h"
#include "tracer.h"
#include "tcpconnlog.skel.h"

static bool verbose;
static char stdout_buffer[1 << 16];

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (!verbose)
		return 0;
	return vfprintf(stderr, fmt, args);
}

static void on_stop_signal(int sig)
{
	tracer_stop_requested = 1;
}

static void install_signals(void)
{
	struct sigaction sa = { .sa_handler = on_stop_signal };

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* a closed terminal or session ends the trace as cleanly as Ctrl-C */
	sigaction(SIGHUP, &sa, NULL);
	/* a closed stdout shows up as EPIPE from the write instead */
	(void)signal(SIGPIPE, SIG_IGN);
}

int main(int argc, char **argv)
{
	struct tcpconnlog_bpf *skel = NULL;
	struct tcl_config cfg;
	enum tcl_backend chosen;
	char why[256];
	int status;

	/* libbpf parses the kernel's BTF (several MB) for each object it
	 * loads: keep such blocks in their own mappings, given back when
	 * freed, instead of letting glibc raise its threshold and grow the
	 * heap for good
	 */
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);

	switch (cli_parse(argc, argv, &cfg)) {
	case CLI_DONE:
		return 0;
	case CLI_USAGE:
		return 2;
	case CLI_RUN:
		break;
	}
	verbose = cfg.verbose;
	libbpf_set_print(libbpf_print);
	/* full buffering: lines are flushed when the ring buffer is drained.
	 * glibc takes the size only with a buffer: without one it used 4 KiB,
	 * a write(2) every 15 records of a storm.
	 */
	/* on failure stdout keeps glibc's buffering: slower, still right */
	(void)setvbuf(stdout, stdout_buffer, _IOFBF, sizeof(stdout_buffer));

	if (preflight_check(cfg.btf_path, why, sizeof(why))) {
		fprintf(stderr, "tcpconnlog: %s\n", why);
		return 1;
	}
	if (cfg.check_only)
		return backend_check(&cfg) ? 1 : 0;

	install_signals();
	if (backend_start(&cfg, &skel, &chosen))
		return 1;
	if (verbose)
		fprintf(stderr, "tcpconnlog: using the %s backend\n", backend_name(chosen));
	status = tracer_run(&cfg, skel, backend_name(chosen));
	backend_stop(skel);
	return status;
}
