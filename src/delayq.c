// SPDX-License-Identifier: GPL-2.0-only
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "delayq.h"

#define DELAYQ_FIRST_CAP 64

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

int delayq_init(struct delayq *q, struct rdns *rdns, __u64 bound_ns, size_t max,
		delayq_print_fn print, void *ctx)
{
	memset(q, 0, sizeof(*q));
	q->rdns = rdns;
	q->bound_ns = bound_ns;
	q->max = max ? max : 1;
	q->print = print;
	q->ctx = ctx;
	q->cap = q->max < DELAYQ_FIRST_CAP ? q->max : DELAYQ_FIRST_CAP;
	q->items = calloc(q->cap, sizeof(*q->items));
	return q->items ? 0 : -1;
}

void delayq_free(struct delayq *q)
{
	free(q->items);
	q->items = NULL;
}

/* Where the i-th held record is (i < q->cap; no division: the analyser
 * cannot see that cap is never 0)
 */
static size_t slot(const struct delayq *q, size_t i)
{
	size_t j = q->head + i;

	return j >= q->cap ? j - q->cap : j;
}

/* The first held record out: with its name when known, else without
 * (late) if force or it is due. False when it must wait still.
 */
static bool release_head(struct delayq *q, __u64 now, bool force)
{
	struct delayq_item *it = &q->items[q->head];
	struct rdns_key key = rdns_key_of(&it->ev);
	const char *name;
	enum rdns_answer a = rdns_get(q->rdns, &key, now, &name);

	if (a == RDNS_WAIT && now < it->due_ns && !force)
		return false;
	if (a == RDNS_WAIT || a == RDNS_BUSY)
		q->late++;
	q->print(q->ctx, &it->ev, name);
	q->head = slot(q, 1);
	q->len--;
	return true;
}

/* Room for one more record: a larger ring, or the oldest out early. */
static void make_room(struct delayq *q, __u64 now)
{
	struct delayq_item *bigger = NULL;
	size_t cap = q->cap * 2 < q->max ? q->cap * 2 : q->max;

	if (q->len < q->cap)
		return;
	if (cap > q->cap)
		bigger = malloc(cap * sizeof(*bigger));
	if (!bigger) {
		release_head(q, now, true);
		return;
	}
	for (size_t i = 0; i < q->len; i++)
		bigger[i] = q->items[slot(q, i)];
	free(q->items);
	q->items = bigger;
	q->cap = cap;
	q->head = 0;
}

void delayq_push(struct delayq *q, const struct tcl_event *ev, __u64 now)
{
	struct rdns_key key = rdns_key_of(ev);
	const char *name;
	enum rdns_answer a = rdns_get(q->rdns, &key, now, &name);

	if (!q->len && a != RDNS_WAIT) {
		/* no lookup could start (too many wait): out now, unnamed */
		if (a == RDNS_BUSY)
			q->late++;
		q->print(q->ctx, ev, name);
		return;
	}
	make_room(q, now);
	q->items[slot(q, q->len)] = (struct delayq_item){
		.ev = *ev,
		.due_ns = now + q->bound_ns,
	};
	q->len++;
}

void delayq_release(struct delayq *q, __u64 now)
{
	rdns_collect(q->rdns, now);
	while (q->len && release_head(q, now, false))
		;
}

__s64 delayq_wait_ns(const struct delayq *q, __u64 now)
{
	__u64 due;

	if (!q->len)
		return -1;
	due = q->items[q->head].due_ns;
	return due > now ? (__s64)(due - now) : 0;
}

void delayq_drain(struct delayq *q)
{
	for (;;) {
		__u64 now = mono_ns();
		struct pollfd p = { .fd = rdns_fd(q->rdns), .events = POLLIN };
		__s64 wait;

		delayq_release(q, now);
		wait = delayq_wait_ns(q, now);
		if (wait < 0)
			return;
		/* an answer or the head's due time, whichever comes first */
		(void)poll(&p, 1, (int)((wait + 999999) / 1000000));
	}
}
