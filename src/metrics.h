/* SPDX-License-Identifier: GPL-2.0-only */
/* --metrics: the counters Prometheus scrapes, and their text exposition
 * (format 0.0.4). The reader thread adds records (metrics_take); the HTTP
 * thread renders (metrics_render): a mutex, held to add one record or to
 * copy the series, keeps them apart.
 *
 * A series is one label set: the labels --metrics-labels chose (command,
 * destination port, container). At most max_series of them; a record
 * whose label set would pass the bound is counted in one overflow series
 * (label overflow="true" instead of the chosen labels), so that every sum
 * stays right, and in tcpconnlog_metrics_series_dropped_total.
 */
#ifndef TCL_METRICS_H
#define TCL_METRICS_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "stats.h"
#include "strbuf.h"
#include "table.h"
#include "tcpconnlog.h"

#define METRICS_LABEL_COMM	0x1
#define METRICS_LABEL_DPORT	0x2
#define METRICS_LABEL_CONTAINER	0x4

#define METRICS_MAX_SERIES_DEFAULT 1000
#define METRICS_MAX_SERIES_LIMIT 1000000

/* connect latency buckets, upper bounds in ns: 100 us to 10 s */
#define METRICS_BUCKETS 16

struct metrics_key {
	char comm[TCL_COMM_LEN];
	char container[72];
	__u16 dport;
	__u8 overflow;		/* the series past the bound */
	__u8 pad[5];
};

struct metrics_series {
	__u64 attempts[TCL_RESULT_MAX];
	__u64 latency_buckets[METRICS_BUCKETS];	/* not cumulative */
	__u64 latency_count;
	__u64 latency_sum_ns;
	__u64 accepts;
	__u64 closes;
	__u64 bytes_sent, bytes_received;
};

struct metrics_opts {
	unsigned int labels;	/* METRICS_LABEL_* */
	size_t max_series;
	bool lifecycle;		/* -l: closes and bytes */
	bool accepts;		/* -A */
	bool resolve, dns;	/* -r, -d: their loss counters */
	const char *backend;	/* NULL until known */
	const char *version;
	const char *libbpf;
};

struct metrics {
	pthread_mutex_t lock;
	struct metrics_opts o;
	struct table series;	/* metrics_key -> metrics_series */
	struct metrics_series none;	/* no label chosen: the only series */
	struct metrics_series overflow;
	__u64 dropped;		/* records counted in overflow */
	struct loss_report loss;
	bool ready;
};

int metrics_init(struct metrics *m, const struct metrics_opts *o);
void metrics_free(struct metrics *m);
/* One record from the kernel: a connect's outcome, an accept or a close;
 * container is its container id or NULL.
 */
void metrics_take(struct metrics *m, const struct tcl_event *ev, const char *container);
/* The loss counters so far (tracer.c's count_loss) */
void metrics_set_loss(struct metrics *m, const struct loss_report *loss);
void metrics_set_backend(struct metrics *m, const char *backend);
void metrics_set_ready(struct metrics *m);
bool metrics_ready(struct metrics *m);
/* The exposition into a buffer the caller frees; NULL when out of memory. */
char *metrics_render(struct metrics *m, size_t *len);
/* A label value as the exposition format wants it: the command name's
 * characters as JSON decodes them (invalid bytes as U+0000-U+00FF, see
 * json_string()), in UTF-8, with backslash, double quote and newline
 * escaped.
 */
void metrics_label_value(struct strbuf *sb, const char *s, size_t n);

#endif
