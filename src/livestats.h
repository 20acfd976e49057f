/* SPDX-License-Identifier: GPL-2.0-only */
/* --stats-interval: the counters so far, every SECS, as a "stats" JSON
 * record (-j, on stdout with the records) or one line on stderr (text).
 * Every count is cumulative since the start, like a Prometheus counter:
 * a reader takes differences itself, and a line it missed costs nothing.
 * The numbers are the exit summary's (stats.c, tracer.c's loss report),
 * read as they are now; this unit only formats them.
 */
#ifndef TCL_LIVESTATS_H
#define TCL_LIVESTATS_H

#include <stdbool.h>
#include <linux/types.h>
#include "stats.h"
#include "strbuf.h"
#include "tcpconnlog.h"

struct livestats {
	__s64 real_ns;			/* when, wall clock */
	unsigned long long interval_s;
	const __u64 *by_result;		/* [TCL_RESULT_MAX]: the summary's (stats.by_result) */
	struct loss_report loss;
	bool resolve, dns;		/* -r, -d: their loss counters are shown */
	__u64 inflight, inflight_max;	/* the kernel's table of attempts */
	bool conns_shown;		/* -l, -A: the table of connections */
	__u64 conns, conns_max;
	/* BPF run time of our programs (bpf_prog_info), when the kernel
	 * counts it (kernel.bpf_stats_enabled=1); otherwise null
	 */
	bool bpf_known;
	__u64 bpf_run_time_ns, bpf_run_cnt;
};

/* {"event":"stats",...}\n */
void livestats_json(const struct livestats *ls, struct strbuf *sb);
/* tcpconnlog: stats: ...\n */
void livestats_text(const struct livestats *ls, struct strbuf *sb);
/* Attempts with an outcome: the sum over the results */
__u64 livestats_attempts(const struct livestats *ls);
/* kernel.bpf_stats_enabled: 1 on, 0 off, -1 unreadable */
int livestats_bpf_stats_enabled(const char *path);
/* The sum of run_time_ns and run_cnt over the programs' fds (those < 0
 * left out); -1 when one could not be read.
 */
int livestats_bpf_time(const int *fds, int n, __u64 *run_time_ns, __u64 *run_cnt);

#define LIVESTATS_SYSCTL "/proc/sys/kernel/bpf_stats_enabled"

#endif
