/* SPDX-License-Identifier: GPL-2.0-only */
/* -r: records held back, in their order, until their remote address is
 * named. A record goes out when its name (or the lack of one) is known,
 * or when it has waited the bound, without a name then (counted as late);
 * records behind a waiting one wait with it, so the output keeps the
 * order records came in. A record whose name is cached goes out at once
 * when nothing waits before it.
 */
#ifndef TCL_DELAYQ_H
#define TCL_DELAYQ_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "rdns.h"
#include "tcpconnlog.h"

/* Records held at most; past it the oldest goes out early, unnamed if its
 * lookup has not finished (counted as late).
 */
#define DELAYQ_MAX 65536

/* Prints one record, with its name or NULL. */
typedef void (*delayq_print_fn)(void *ctx, const struct tcl_event *ev, const char *rdns);

struct delayq_item {
	struct tcl_event ev;
	__u64 due_ns;		/* out by then, named or not */
};

struct delayq {
	struct rdns *rdns;
	__u64 bound_ns;
	delayq_print_fn print;
	void *ctx;
	struct delayq_item *items;	/* a ring */
	size_t cap, max, head, len;
	__u64 late;	/* records printed without a name their lookup had not given yet */
};

/* max: the most records held (DELAYQ_MAX). 0, or -1 when out of memory. */
int delayq_init(struct delayq *q, struct rdns *rdns, __u64 bound_ns, size_t max,
		delayq_print_fn print, void *ctx);
void delayq_free(struct delayq *q);
/* A record to print, taken at now (CLOCK_MONOTONIC): out at once if it
 * may go, else held. Starts its lookup.
 */
void delayq_push(struct delayq *q, const struct tcl_event *ev, __u64 now);
/* Takes the lookups that finished, then prints the records that may go. */
void delayq_release(struct delayq *q, __u64 now);
/* Nanoseconds until the first held record is due (0 if it is); -1 when
 * none is held.
 */
__s64 delayq_wait_ns(const struct delayq *q, __u64 now);
/* At exit: every held record out, each by its due time. */
void delayq_drain(struct delayq *q);

#endif
