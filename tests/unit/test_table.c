// SPDX-License-Identifier: GPL-2.0-only
// Unit tests for table.c: insert, find, remove (no tombstones), growth.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <cmocka.h>
#include <linux/types.h>

#include "table.h"

#define N 3000

struct val {
	__u64 a;
	__u32 b;
};

static void test_upsert_find_remove(void **state)
{
	struct table t;
	__u64 k = 42, other = 43;
	struct val *v;

	(void)state;
	assert_int_equal(table_init(&t, sizeof(__u64), sizeof(struct val), SIZE_MAX), 0);
	assert_null(table_find(&t, &k));
	assert_false(table_remove(&t, &k));
	v = table_upsert(&t, &k);
	assert_non_null(v);
	assert_true(v->a == 0 && v->b == 0);
	v->a = 7;
	assert_ptr_equal(table_find(&t, &k), v);
	assert_null(table_find(&t, &other));
	assert_int_equal(t.len, 1);
	assert_true(table_remove(&t, &k));
	assert_int_equal(t.len, 0);
	assert_null(table_find(&t, &k));
	/* back again: its value starts zeroed, not as it was left */
	v = table_upsert(&t, &k);
	assert_true(v->a == 0);
	table_free(&t);
}

/* sequential keys (as conn_ids are), removed in a shuffled order while the
 * table grows: every key left is found with its value, every removed one
 * is gone
 */
static void test_many_keys_removed_in_any_order(void **state)
{
	static __u64 order[N];
	static bool present[N];
	struct table t;

	(void)state;
	srand(1);
	assert_int_equal(table_init(&t, sizeof(__u64), sizeof(struct val), SIZE_MAX), 0);
	for (__u64 k = 0; k < N; k++) {
		struct val *v = table_upsert(&t, &k);

		assert_non_null(v);
		v->a = k * 3;
		order[k] = k;
		present[k] = true;
	}
	for (size_t i = N - 1; i > 0; i--) {
		size_t j = (size_t)rand() % (i + 1);
		__u64 tmp = order[i];

		order[i] = order[j];
		order[j] = tmp;
	}
	for (size_t i = 0; i < N; i++) {
		assert_true(table_remove(&t, &order[i]));
		present[order[i]] = false;
		if (i % 97)
			continue;
		for (__u64 k = 0; k < N; k++) {
			struct val *v = table_find(&t, &k);

			if (present[k])
				assert_true(v && v->a == k * 3);
			else
				assert_null(v);
		}
		assert_int_equal(t.len, N - 1 - i);
	}
	assert_int_equal(t.len, 0);
	table_free(&t);
}

/* removing during a walk: slot i is looked at again, nothing is skipped */
static void test_remove_at_while_walking(void **state)
{
	struct table t;
	size_t kept = 0;

	(void)state;
	assert_int_equal(table_init(&t, sizeof(__u64), sizeof(struct val), SIZE_MAX), 0);
	for (__u64 k = 1; k <= 500; k++)
		((struct val *)table_upsert(&t, &k))->a = k;
	for (size_t i = 0; i < t.cap;) {
		const __u64 *k = table_key_at(&t, i);

		if (k && *k % 3)
			table_remove_at(&t, i);
		else
			i++;
	}
	for (__u64 k = 1; k <= 500; k++) {
		struct val *v = table_find(&t, &k);

		if (k % 3) {
			assert_null(v);
		} else {
			assert_true(v && v->a == k);
			kept++;
		}
	}
	assert_int_equal(t.len, kept);
	assert_int_equal(kept, 166);
	table_free(&t);
}

/* a full table refuses new keys, still finds and updates old ones */
static void test_max_len(void **state)
{
	struct table t;
	__u64 k3 = 3, k1 = 1;

	(void)state;
	assert_int_equal(table_init(&t, sizeof(__u64), sizeof(struct val), 2), 0);
	for (__u64 k = 1; k <= 2; k++)
		assert_non_null(table_upsert(&t, &k));
	assert_null(table_upsert(&t, &k3));
	assert_non_null(table_upsert(&t, &k1));
	assert_true(table_remove(&t, &k1));
	assert_non_null(table_upsert(&t, &k3));
	table_free(&t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_upsert_find_remove),
		cmocka_unit_test(test_many_keys_removed_in_any_order),
		cmocka_unit_test(test_remove_at_while_walking),
		cmocka_unit_test(test_max_len),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
