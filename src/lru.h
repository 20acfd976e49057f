/* SPDX-License-Identifier: GPL-2.0-only */
/* A bounded pool of fixed-size elements kept in least-recently-used
 * order, for the tables of -d (DNS answers, DNS-over-TCP streams). An
 * element is named by its index, which stays valid while it is in the
 * pool; its address may change when the pool grows (lru_take).
 */
#ifndef TCL_LRU_H
#define TCL_LRU_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#define LRU_NONE ((__u32)-1)

struct lru {
	unsigned char *nodes;	/* [prev][next][element], repeated */
	size_t node_size;
	size_t elem_size;
	size_t cap;		/* nodes allocated */
	size_t used;		/* nodes ever handed out, <= cap */
	size_t len;		/* nodes in the order now */
	size_t max;		/* at most this many in the order */
	__u32 newest, oldest, free;	/* free: removed nodes, linked by next */
};

/* 0, or -1 when max is 0 or too large for a __u32 index. */
int lru_init(struct lru *l, size_t elem_size, size_t max);
void lru_free(struct lru *l);

/* A new element, the most recent, zeroed: when max are in use, the oldest
 * one, after *evicted was set and evict(ctx, index) called so the caller
 * can drop what it held. LRU_NONE when out of memory.
 */
__u32 lru_take(struct lru *l, void (*evict)(void *ctx, __u32 i), void *ctx,
	       bool *evicted);
/* Make element i the most recent. */
void lru_touch(struct lru *l, __u32 i);
/* Take element i out of the pool; its index may be handed out again. */
void lru_remove(struct lru *l, __u32 i);
void *lru_elem(const struct lru *l, __u32 i);
/* The least recently used element, LRU_NONE when empty */
static inline __u32 lru_oldest(const struct lru *l)
{
	return l->oldest;
}

#endif
