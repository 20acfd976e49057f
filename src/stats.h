/* SPDX-License-Identifier: GPL-2.0-only */
/* The per-command summary and latency histogram printed on exit. */
#ifndef TCL_STATS_H
#define TCL_STATS_H

#include <stdbool.h>
#include <stdio.h>
#include "connstats.h"
#include "hist.h"
#include "table.h"
#include "tcpconnlog.h"

/* Distinct commands (or containers) tallied one by one; the rest go
 * under "[other]".
 */
#define STATS_MAX_COMMS 1024
/* Distinct (result, errno, command) failures tallied one by one */
#define STATS_MAX_FAILURES 4096
/* A group's name: a command, or a container's full id */
#define STATS_GROUP_LEN 65

struct comm_stats {
	__u64 attempts;
	__u64 established;
	__u64 failed;
	__u64 pending;
	struct latency_hist latency_ns;	/* of established attempts */
};

struct stats {
	bool by_container;	/* --by container: groups are containers, not commands */
	struct table by_comm;	/* group name -> struct comm_stats */
	struct comm_stats other;
	__u64 latency_log2_us[LOG2_SLOTS];
	struct table failures;	/* (result, errno, group) -> count */
	__u64 failures_other;	/* past STATS_MAX_FAILURES keys */
	__u64 by_result[TCL_RESULT_MAX];	/* attempts by result (--stats-interval) */
};

int stats_init(struct stats *s);
void stats_free(struct stats *s);
/* Count one attempt: an outcome record, or one still pending at exit.
 * container: its container's id, NULL when none (used --by container).
 */
void stats_add(struct stats *s, const struct tcl_event *ev, const char *container);

struct loss_report {
	__u64 lost;		/* records the ring buffer had no room for */
	__u64 untracked;	/* attempts pushed out of the in-flight table, or
				 * removed with their socket, their end not seen
				 */
	__u64 skipped;		/* probe runs the kernel skipped */
	__u64 untracked_conns;	/* connections pushed out of the conns table (-l, -A) */
	__u64 map_full;		/* kernel table updates that failed */
	__u64 rdns_timeouts;	/* -r: records out without a name, its lookup not done */
	/* -d (dnscap.h): answers not captured, rejected by the parser,
	 * addresses pushed out of the answer table
	 */
	__u64 dns_dropped, dns_malformed, dns_evicted;
};

/* The attempts by command (or container) and their latency histogram,
 * the failures by result and errno with who had them; with conns (-l)
 * the closed connections' summary; then what was lost.
 */
void stats_print(const struct stats *s, const struct connstats *conns,
		 const struct loss_report *loss, FILE *out);

#endif
