/* SPDX-License-Identifier: GPL-2.0-only */
/* The per-command summary and latency histogram printed on exit. */
#ifndef TCL_STATS_H
#define TCL_STATS_H

#include <stdio.h>
#include "connstats.h"
#include "hist.h"
#include "table.h"
#include "tcpconnlog.h"

/* Distinct commands tallied one by one; the rest go under "[other]". */
#define STATS_MAX_COMMS 1024

struct comm_stats {
	__u64 attempts;
	__u64 established;
	__u64 failed;
	__u64 pending;
	struct latency_hist latency_ns;	/* of established attempts */
};

struct stats {
	struct table by_comm;
	struct comm_stats other;
	__u64 latency_log2_us[LOG2_SLOTS];
};

int stats_init(struct stats *s);
void stats_free(struct stats *s);
/* Count one attempt: an outcome record, or one still pending at exit. */
void stats_add(struct stats *s, const struct tcl_event *ev);

struct loss_report {
	__u64 lost;		/* records the ring buffer had no room for */
	__u64 untracked;	/* attempts pushed out of the in-flight table, or
				 * removed with their socket, their end not seen
				 */
	__u64 skipped;		/* probe runs the kernel skipped */
	__u64 untracked_conns;	/* connections pushed out of the conns table (-l, -A) */
	__u64 map_full;		/* kernel table updates that failed */
	/* -d (dnscap.h): answers not captured, rejected by the parser,
	 * addresses pushed out of the answer table
	 */
	__u64 dns_dropped, dns_malformed, dns_evicted;
};

/* The attempts by command and their latency histogram; with conns (-l)
 * the closed connections' summary; then what was lost.
 */
void stats_print(const struct stats *s, const struct connstats *conns,
		 const struct loss_report *loss, FILE *out);

#endif
