/* SPDX-License-Identifier: GPL-2.0-only */
/* The summary of closed connections on exit (-l): per command, how many,
 * their data bytes each way and how long they lived; and a histogram of
 * their smoothed round-trip times.
 */
#ifndef TCL_CONNSTATS_H
#define TCL_CONNSTATS_H

#include <stdio.h>
#include "hist.h"
#include "table.h"
#include "tcpconnlog.h"

/* Distinct commands tallied one by one; the rest go under "[other]". */
#define CONNSTATS_MAX_COMMS 1024

struct conn_totals {
	__u64 closed;
	__u64 bytes_sent;
	__u64 bytes_received;
	struct latency_hist duration_ns;
};

struct connstats {
	struct table by_comm;		/* "" for accepts of an unknown process */
	struct conn_totals other;
	__u64 srtt_log2_us[LOG2_SLOTS];	/* connections with an RTT sample */
	__u64 open_at_exit;		/* still open when tracing stopped */
};

int connstats_init(struct connstats *c);
void connstats_free(struct connstats *c);
/* Count one close record. */
void connstats_add(struct connstats *c, const struct tcl_event *close);
/* The table, most bytes first, then the RTT histogram. */
void connstats_print(const struct connstats *c, FILE *out);

#endif
