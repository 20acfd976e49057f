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
#include "cgfilter.h"
#include "cli.h"
#include "dnscap.h"
#include "metrics_http.h"
#include "outfile.h"
#include "output.h"
#include "preflight.h"
#include "tracer.h"
#include "tcpconnlog.skel.h"

static bool verbose;
static bool hup_reopens;	/* -o: SIGHUP reopens the file */
static char stdout_buffer[1 << 16];

static int libbpf_print(enum libbpf_print_level level, const char *fmt, va_list args)
{
	if (!verbose)
		return 0;
	return vfprintf(stderr, fmt, args);
}

static void on_stop_signal(int sig);

static void handle_stop_signals(int flags)
{
	struct sigaction sa = { .sa_handler = on_stop_signal, .sa_flags = flags };

	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* a closed terminal or session ends the trace as cleanly as Ctrl-C;
	 * with -o, SIGHUP is logrotate's "reopen the file" (on_hup)
	 */
	if (!hup_reopens)
		sigaction(SIGHUP, &sa, NULL);
}

/* The first signal asks to stop once stdout has taken every record; a
 * second one, to stop now: a write still blocked on a stdout nobody reads
 * gives up, and the lines it could not write are counted (output.c).
 */
static void on_stop_signal(int sig)
{
	if (tracer_stop_requested) {
		output_abandon = 1;
		return;
	}
	tracer_stop_requested = 1;
	/* from now on a signal interrupts a blocked write (sigaction is
	 * async-signal-safe)
	 */
	handle_stop_signals(0);
}

static void on_hup(int sig)
{
	outfile_reopen_requested = 1;
}

static void install_signals(void)
{
	struct sigaction hup = { .sa_handler = on_hup, .sa_flags = SA_RESTART };

	/* a stop request, not an error: a write or a wait it interrupts is
	 * resumed, and what is still owed to stdout is written (output.c)
	 */
	handle_stop_signals(SA_RESTART);
	if (hup_reopens)
		sigaction(SIGHUP, &hup, NULL);
	/* a closed stdout shows up as EPIPE from the write instead */
	(void)signal(SIGPIPE, SIG_IGN);
}

/* --check: each backend, and with -d the DNS capture, started and
 * stopped as a run would; 0 when a run would start.
 */
static int check(const struct tcl_config *cfg)
{
	int status = backend_check(cfg) ? 1 : 0;
	struct dnscap *dns;

	if (!cfg->dns)
		return status;
	dns = dnscap_start(cfg->dns_table_size);
	if (!dns)
		return 1;
	dnscap_free(dns);
	printf("dns: ok\n");
	return status;
}

/* --metrics: bound and served before the probes are attached, so that a
 * bad or taken address stops the run now; /ready says 503 until tracing.
 */
static int start_metrics(const struct tcl_config *cfg, struct metrics *m,
			 struct metrics_server *srv)
{
	const char *libbpf = libbpf_version_string();
	struct metrics_opts o = {
		.labels = cfg->metrics_labels,
		.max_series = cfg->metrics_max_series,
		.lifecycle = cfg->lifecycle,
		.accepts = cfg->accepts,
		.resolve = cfg->resolve,
		.dns = cfg->dns,
		.version = metrics_version(),
		.libbpf = libbpf[0] == 'v' ? libbpf + 1 : libbpf,
	};
	char why[256];

	if (metrics_init(m, &o)) {
		fprintf(stderr, "tcpconnlog: out of memory\n");
		return -1;
	}
	if (metrics_server_listen(srv, &cfg->metrics_addr, why, sizeof(why)) ||
	    metrics_server_start(srv, m, why, sizeof(why))) {
		fprintf(stderr, "tcpconnlog: %s\n", why);
		metrics_server_stop(srv);
		metrics_free(m);
		return -1;
	}
	return 0;
}

int main(int argc, char **argv)
{
	static struct metrics metrics;
	struct metrics_server metrics_srv = { .fd = -1 };
	struct tcpconnlog_bpf *skel = NULL;
	struct tcl_config cfg;
	enum tcl_backend chosen;
	char why[256], place_why[512];
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
	hup_reopens = cfg.output_path != NULL;
	libbpf_set_print(libbpf_print);
	/* --top and -c write with stdio (records have their own buffer,
	 * output.c): full buffering, flushed with the records. glibc takes
	 * the size only with a buffer: without one it used 4 KiB.
	 */
	/* on failure stdout keeps glibc's buffering: slower, still right */
	(void)setvbuf(stdout, stdout_buffer, _IOFBF, sizeof(stdout_buffer));

	if (preflight_check(cfg.btf_path, why, sizeof(why))) {
		fprintf(stderr, "tcpconnlog: %s\n", why);
		return 1;
	}
	status = cgfilter_open(&cfg, place_why, sizeof(place_why));
	if (status) {
		fprintf(stderr, "tcpconnlog: %s\n", place_why);
		return status;
	}
	if (cfg.check_only)
		return check(&cfg);

	if (cfg.metrics && start_metrics(&cfg, &metrics, &metrics_srv))
		return 1;
	install_signals();
	status = 1;
	if (backend_start(&cfg, &skel, &chosen))
		goto out;
	if (verbose)
		fprintf(stderr, "tcpconnlog: using the %s backend\n", backend_name(chosen));
	if (cfg.metrics)
		metrics_set_backend(&metrics, backend_name(chosen));
	status = tracer_run(&cfg, skel, backend_name(chosen), cfg.metrics ? &metrics : NULL);
	backend_stop(skel);
out:
	if (cfg.metrics) {
		metrics_server_stop(&metrics_srv);
		metrics_free(&metrics);
	}
	return status;
}
