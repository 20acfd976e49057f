// SPDX-License-Identifier: GPL-2.0-only
// Unit tests for lru.c: the order of eviction, touch, remove and reuse,
// growth keeping the elements.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>
#include <linux/types.h>

#include "lru.h"

struct evictions {
	__u32 last;
	unsigned int n;
};

static void on_evict(void *ctx, __u32 i)
{
	struct evictions *e = ctx;

	e->last = i;
	e->n++;
}

/* take one, storing v in it; returns its index */
static __u32 take(struct lru *l, struct evictions *e, __u64 v, bool *evicted)
{
	__u32 i = lru_take(l, on_evict, e, evicted);

	assert_int_not_equal(i, LRU_NONE);
	assert_int_equal(*(__u64 *)lru_elem(l, i), 0);	/* handed out zeroed */
	*(__u64 *)lru_elem(l, i) = v;
	return i;
}

static void test_order(void **state)
{
	struct lru l;
	struct evictions e = { LRU_NONE, 0 };
	__u32 idx[100];
	bool evicted;

	assert_int_equal(lru_init(&l, sizeof(__u64), 100), 0);
	assert_int_equal(lru_oldest(&l), LRU_NONE);
	/* past the first allocation: the array grows, the values stay */
	for (int i = 0; i < 100; i++) {
		idx[i] = take(&l, &e, 1000 + (__u64)i, &evicted);
		assert_false(evicted);
	}
	for (int i = 0; i < 100; i++)
		assert_int_equal(*(__u64 *)lru_elem(&l, idx[i]), 1000 + (__u64)i);
	assert_int_equal(lru_oldest(&l), idx[0]);
	/* touched, 0 is the newest: 1 goes first, then 2 */
	lru_touch(&l, idx[0]);
	take(&l, &e, 1, &evicted);
	assert_true(evicted);
	assert_int_equal(e.last, idx[1]);
	/* removed, 5's index is handed out again before any eviction */
	lru_remove(&l, idx[5]);
	assert_int_equal(l.len, 99);
	assert_int_equal(take(&l, &e, 2, &evicted), idx[5]);
	assert_false(evicted);
	take(&l, &e, 3, &evicted);
	assert_int_equal(e.last, idx[2]);
	assert_int_equal(e.n, 2);
	/* the oldest and the newest removed: the order mends */
	lru_remove(&l, lru_oldest(&l));
	assert_int_equal(lru_oldest(&l), idx[4]);
	lru_free(&l);
}

static void test_bounds(void **state)
{
	struct lru l;
	struct evictions e = { LRU_NONE, 0 };
	bool evicted;
	__u32 i;

	assert_int_equal(lru_init(&l, 8, 0), -1);
	assert_int_equal(lru_oldest(&l), LRU_NONE);
	assert_int_equal(lru_init(&l, 8, 1), 0);
	i = take(&l, &e, 1, &evicted);
	assert_int_equal(take(&l, &e, 2, &evicted), i);
	assert_true(evicted);
	lru_remove(&l, i);
	assert_int_equal(lru_oldest(&l), LRU_NONE);
	assert_int_equal(l.len, 0);
	lru_free(&l);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_bounds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
