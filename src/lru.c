// SPDX-License-Identifier: GPL-2.0-only
#include <stdlib.h>
#include <string.h>
#include "lru.h"

struct lru_links {
	__u32 prev;	/* the more recent neighbour */
	__u32 next;	/* the older one */
};

static struct lru_links *links(const struct lru *l, __u32 i)
{
	return (struct lru_links *)(l->nodes + (size_t)i * l->node_size);
}

void *lru_elem(const struct lru *l, __u32 i)
{
	return l->nodes + (size_t)i * l->node_size + sizeof(struct lru_links);
}

int lru_init(struct lru *l, size_t elem_size, size_t max)
{
	const size_t a = _Alignof(max_align_t);

	memset(l, 0, sizeof(*l));
	l->newest = l->oldest = l->free = LRU_NONE;	/* empty, also on failure */
	if (!max || max >= LRU_NONE)
		return -1;
	l->elem_size = elem_size;
	/* elements aligned for any type; struct lru_links is 8 bytes */
	l->node_size = (sizeof(struct lru_links) + elem_size + a - 1) / a * a;
	l->max = max;
	return 0;
}

void lru_free(struct lru *l)
{
	free(l->nodes);
	l->nodes = NULL;
}

static void unlink_node(struct lru *l, __u32 i)
{
	struct lru_links *n = links(l, i);

	if (n->prev != LRU_NONE)
		links(l, n->prev)->next = n->next;
	else
		l->newest = n->next;
	if (n->next != LRU_NONE)
		links(l, n->next)->prev = n->prev;
	else
		l->oldest = n->prev;
	l->len--;
}

static void push_newest(struct lru *l, __u32 i)
{
	struct lru_links *n = links(l, i);

	n->prev = LRU_NONE;
	n->next = l->newest;
	if (l->newest != LRU_NONE)
		links(l, l->newest)->prev = i;
	else
		l->oldest = i;
	l->newest = i;
	l->len++;
}

/* A node never handed out, growing the array; LRU_NONE when out of memory */
static __u32 fresh(struct lru *l)
{
	if (l->used == l->cap) {
		size_t cap = l->cap ? l->cap * 2 : 16;
		unsigned char *nodes;

		if (cap > l->max)
			cap = l->max;
		nodes = realloc(l->nodes, cap * l->node_size);
		if (!nodes)
			return LRU_NONE;
		l->nodes = nodes;
		l->cap = cap;
	}
	return (__u32)l->used++;
}

__u32 lru_take(struct lru *l, void (*evict)(void *ctx, __u32 i), void *ctx,
	       bool *evicted)
{
	__u32 i;

	*evicted = false;
	if (l->free != LRU_NONE) {
		i = l->free;
		l->free = links(l, i)->next;
	} else if (l->used < l->max) {
		i = fresh(l);
		if (i == LRU_NONE)
			return LRU_NONE;
	} else {
		i = l->oldest;
		*evicted = true;
		evict(ctx, i);
		unlink_node(l, i);
	}
	memset(lru_elem(l, i), 0, l->elem_size);
	push_newest(l, i);
	return i;
}

void lru_touch(struct lru *l, __u32 i)
{
	if (l->newest == i)
		return;
	unlink_node(l, i);
	push_newest(l, i);
}

void lru_remove(struct lru *l, __u32 i)
{
	unlink_node(l, i);
	links(l, i)->next = l->free;
	l->free = i;
}
