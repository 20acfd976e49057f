// SPDX-License-Identifier: GPL-2.0-only
// Unit tests for hist.c: log-linear buckets, percentiles, log2 slots and the log2 histogram printout.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include "hist.h"

/* ---- hist_index / hist_bucket_max ---- */

static void test_exact_below_32(void **state)
{
	(void)state;
	for (__u64 v = 0; v < HIST_EXACT; v++) {
		assert_int_equal(hist_index(v), v);
		assert_true(hist_bucket_max(v) == v);
	}
	/* the first log-linear buckets: two values each between 32 and 63 */
	assert_int_equal(hist_index(32), 32);
	assert_int_equal(hist_index(33), 32);
	assert_true(hist_bucket_max(32) == 33);
	assert_int_equal(hist_index(34), 33);
	assert_int_equal(hist_index(63), 47);
	assert_true(hist_bucket_max(47) == 63);
	/* then four values each between 64 and 127 */
	assert_int_equal(hist_index(64), 48);
	assert_int_equal(hist_index(67), 48);
	assert_int_equal(hist_index(68), 49);
	assert_true(hist_bucket_max(48) == 67);
	assert_int_equal(HIST_BUCKETS, 976);
}

static void check_value(__u64 v)
{
	unsigned int i = hist_index(v);

	if (i >= HIST_BUCKETS)
		fail_msg("hist_index(%llu) = %u, not below %d", (unsigned long long)v, i,
			 HIST_BUCKETS);
	if (v > hist_bucket_max(i))
		fail_msg("%llu above the max %llu of its bucket %u", (unsigned long long)v,
			 (unsigned long long)hist_bucket_max(i), i);
	if (i > 0 && v <= hist_bucket_max(i - 1))
		fail_msg("%llu not above the max %llu of bucket %u", (unsigned long long)v,
			 (unsigned long long)hist_bucket_max(i - 1), i - 1);
}

static void test_index_sweep(void **state)
{
	(void)state;
	for (__u64 v = 0; v <= 100000; v++)
		check_value(v);
	for (unsigned int k = 0; k < 64; k++) {
		__u64 p = 1ULL << k;

		check_value(p);
		check_value(p - 1);
		check_value(p + 1);
	}
	check_value(UINT64_MAX);
	check_value(UINT64_MAX - 1);
	assert_int_equal(hist_index(UINT64_MAX), HIST_BUCKETS - 1);
	assert_true(hist_bucket_max(HIST_BUCKETS - 1) == UINT64_MAX);
}

static void test_buckets_contiguous_and_narrow(void **state)
{
	(void)state;
	for (unsigned int i = 0; i < HIST_BUCKETS; i++) {
		__u64 hi = hist_bucket_max(i);
		__u64 lo = i ? hist_bucket_max(i - 1) + 1 : 0;

		/* both edges map back to the bucket, the next value to the next one */
		assert_int_equal(hist_index(lo), i);
		assert_int_equal(hist_index(hi), i);
		if (i + 1 < HIST_BUCKETS)
			assert_int_equal(hist_index(hi + 1), i + 1);
		if (i < HIST_EXACT) {
			assert_true(lo == hi);
		} else {
			__u64 width = hi - lo + 1;

			if (width > lo / HIST_SUB)
				fail_msg("bucket %u [%llu, %llu]: width %llu over 1/16 of %llu", i,
					 (unsigned long long)lo, (unsigned long long)hi,
					 (unsigned long long)width, (unsigned long long)lo);
		}
	}
}

/* ---- hist_add / hist_percentile ---- */

static void test_add_counts(void **state)
{
	struct latency_hist h = {};

	(void)state;
	hist_add(&h, 5);
	hist_add(&h, 1000);
	hist_add(&h, 7);
	assert_true(h.count == 3);
	assert_true(h.sum == 1012);
	assert_true(h.max == 1000);
	assert_int_equal(h.buckets[5], 1);
	assert_int_equal(h.buckets[7], 1);
	assert_int_equal(h.buckets[hist_index(1000)], 1);
}

/* A bucket past 2^32 samples (a day at 50k connects/s into one bucket):
 * hist_add counts one at a time, so the test adds the bulk directly.
 */
static void test_bucket_beyond_32_bits(void **state)
{
	const __u64 bulk = (1ULL << 32) + 3;
	struct latency_hist h = {};
	unsigned int fast = hist_index(10), slow = hist_index(1000);

	(void)state;
	hist_add(&h, 10);
	hist_add(&h, 1000);
	h.buckets[fast] += bulk;
	h.count += bulk;
	h.sum += bulk * 10;
	assert_true(h.buckets[fast] == bulk + 1);
	assert_true(h.buckets[slow] == 1);
	/* all but one sample are 10: every percentile below 1 is 10 */
	assert_true(hist_percentile(&h, 0.50) == 10);
	assert_true(hist_percentile(&h, 0.99) == 10);
	assert_true(hist_percentile(&h, 1.0) == 1000);

	/* as many slow ones: the median stays fast, P99 is slow */
	h.buckets[slow] += bulk;
	h.count += bulk;
	assert_true(h.buckets[slow] == bulk + 1);
	assert_true(hist_percentile(&h, 0.50) == 10);
	assert_true(hist_percentile(&h, 0.99) == 1000);
}

static void test_percentile_empty(void **state)
{
	struct latency_hist h = {};

	(void)state;
	assert_true(hist_percentile(&h, 0.5) == 0);
	assert_true(hist_percentile(&h, 0.99) == 0);
	assert_true(hist_percentile(&h, 1.0) == 0);
}

static void test_percentile_single(void **state)
{
	static const __u64 values[] = { 0, 7, 31, 32, 12345, 1000000, UINT64_MAX };
	static const double ps[] = { 0.01, 0.5, 0.99, 1.0 };

	(void)state;
	for (size_t i = 0; i < sizeof(values) / sizeof(*values); i++) {
		struct latency_hist h = {};

		hist_add(&h, values[i]);
		for (size_t j = 0; j < sizeof(ps) / sizeof(*ps); j++)
			if (hist_percentile(&h, ps[j]) != values[i])
				fail_msg("single %llu: p%g = %llu", (unsigned long long)values[i],
					 ps[j] * 100,
					 (unsigned long long)hist_percentile(&h, ps[j]));
	}
}

static void test_percentile_1_to_100(void **state)
{
	struct latency_hist h = {};
	__u64 p50, p99;

	(void)state;
	for (__u64 v = 1; v <= 100; v++)
		hist_add(&h, v);
	p50 = hist_percentile(&h, 0.50);
	p99 = hist_percentile(&h, 0.99);
	/* at or above the true value, less than 6.25% more, never past the max */
	assert_in_range(p50, 50, 53);
	assert_in_range(p99, 99, 100);
	/* 50 lies in the bucket 50..51, 99 in 96..99 */
	assert_true(p50 == 51);
	assert_true(p99 == 99);
	assert_true(hist_percentile(&h, 1.0) == 100);
	/* small fractions: 1..31 sit in exact buckets */
	assert_true(hist_percentile(&h, 0.01) == 1);
	assert_true(hist_percentile(&h, 0.10) == 10);
	assert_true(hist_percentile(&h, 0.25) == 25);
	assert_true(hist_percentile(&h, 0.30) == 30);
}

static void test_percentile_exact_below_32(void **state)
{
	struct latency_hist h = {};

	(void)state;
	for (__u64 v = 0; v < 32; v++)
		hist_add(&h, v);
	/* k/32 of 32 samples: the k-th smallest, k-1 */
	for (unsigned int k = 1; k <= 32; k++)
		if (hist_percentile(&h, k / 32.0) != k - 1)
			fail_msg("p(%u/32) = %llu, want %u", k,
				 (unsigned long long)hist_percentile(&h, k / 32.0), k - 1);
	/* nearest rank rounds up: 0.1 * 32 = 3.2 -> 4th smallest */
	assert_true(hist_percentile(&h, 0.10) == 3);
	assert_true(hist_percentile(&h, 0.90) == 28);
	assert_true(hist_percentile(&h, 0.95) == 30);
	assert_true(hist_percentile(&h, 0.001) == 0);

	/* repeated values */
	struct latency_hist r = {};

	for (int i = 0; i < 10; i++)
		hist_add(&r, 5);
	hist_add(&r, 20);
	assert_true(hist_percentile(&r, 0.50) == 5);
	assert_true(hist_percentile(&r, 0.90) == 5);
	assert_true(hist_percentile(&r, 10 / 11.0) == 5);
	assert_true(hist_percentile(&r, 0.95) == 20);
	assert_true(hist_percentile(&r, 1.0) == 20);
}

static int cmp_u64(const void *a, const void *b)
{
	__u64 x = *(const __u64 *)a, y = *(const __u64 *)b;

	return x < y ? -1 : x > y;
}

static void test_percentile_error_bound(void **state)
{
	enum { N = 1024 };
	__u64 *v = malloc(N * sizeof(*v));
	struct latency_hist *h = calloc(1, sizeof(*h));
	__u64 x = 88172645463325252ULL;

	(void)state;
	assert_non_null(v);
	assert_non_null(h);
	/* xorshift values of every magnitude, in nanoseconds up to about an hour */
	for (int i = 0; i < N; i++) {
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		v[i] = x >> (22 + i % 40);
		hist_add(h, v[i]);
	}
	qsort(v, N, sizeof(*v), cmp_u64);
	for (unsigned int k = 1; k <= N; k++) {
		__u64 want = v[k - 1], got = hist_percentile(h, (double)k / N);

		if (got < want || got > want + want / HIST_SUB || got > v[N - 1])
			fail_msg("p(%u/%d) = %llu, true %llu, max %llu", k, N,
				 (unsigned long long)got, (unsigned long long)want,
				 (unsigned long long)v[N - 1]);
	}
	free(v);
	free(h);
}

static void test_percentile_never_above_max(void **state)
{
	struct latency_hist h = {};
	__u64 p;

	(void)state;
	hist_add(&h, 1000000);
	hist_add(&h, 1000001);
	/* the bucket of 1000000 reaches 1015807; the answer stops at the max */
	p = hist_percentile(&h, 0.5);
	assert_true(p == 1000001);
	assert_true(hist_percentile(&h, 1.0) == 1000001);
}

/* ---- log2 ---- */

static void test_log2_slot(void **state)
{
	(void)state;
	assert_int_equal(log2_slot(0), 0);
	assert_int_equal(log2_slot(1), 1);
	assert_int_equal(log2_slot(2), 2);
	assert_int_equal(log2_slot(3), 2);
	assert_int_equal(log2_slot(4), 3);
	assert_int_equal(log2_slot(7), 3);
	assert_int_equal(log2_slot(8), 4);
	assert_int_equal(log2_slot(1023), 10);
	assert_int_equal(log2_slot(1024), 11);
	assert_int_equal(log2_slot((1ULL << 63) - 1), 63);
	assert_int_equal(log2_slot(1ULL << 63), 64);
	assert_int_equal(log2_slot(UINT64_MAX), 64);
	assert_true(log2_slot(UINT64_MAX) < LOG2_SLOTS);
}

static char *print_slots(const __u64 slots[LOG2_SLOTS], const char *unit)
{
	char *buf = NULL;
	size_t len = 0;
	FILE *f = open_memstream(&buf, &len);

	assert_non_null(f);
	log2_print(f, slots, unit);
	assert_int_equal(fclose(f), 0);
	assert_non_null(buf);
	return buf;
}

static void test_log2_print_rows(void **state)
{
	__u64 slots[LOG2_SLOTS] = {};
	char *got;

	(void)state;
	slots[2] = 5;
	slots[4] = 10;
	slots[5] = 1;
	got = print_slots(slots, "usecs");
	assert_string_equal(got,
		"                 usecs : count      distribution\n"
		"        2 -> 3         : 5          |********************                    |\n"
		"        4 -> 7         : 0          |                                        |\n"
		"        8 -> 15        : 10         |****************************************|\n"
		"       16 -> 31        : 1          |****                                    |\n");
	free(got);
}

static void test_log2_print_ends(void **state)
{
	__u64 slots[LOG2_SLOTS] = {};
	char *got, *line, *save = NULL;
	int n = 0;

	(void)state;
	slots[0] = 3;
	slots[64] = 1;
	got = print_slots(slots, "msecs");
	/* header plus slots 0..64 */
	for (line = strtok_r(got, "\n", &save); line; line = strtok_r(NULL, "\n", &save), n++) {
		if (n == 0)
			assert_string_equal(line, "                 msecs : count      distribution");
		else if (n == 1)
			assert_string_equal(line,
				"        0 -> 0         : 3          |****************************************|");
		else if (n == 2)
			assert_string_equal(line,
				"        1 -> 1         : 0          |                                        |");
		else if (n == 11)
			assert_string_equal(line,
				"      512 -> 1023      : 0          |                                        |");
		else if (n == 65)
			assert_string_equal(line,
				"9223372036854775808 -> 18446744073709551615 : 1          |*************                           |");
	}
	assert_int_equal(n, 66);
	free(got);
}

static void test_log2_print_empty(void **state)
{
	__u64 slots[LOG2_SLOTS] = {};
	char *got;

	(void)state;
	got = print_slots(slots, "usecs");
	assert_string_equal(got, "");
	free(got);
}

static void test_log2_print_single(void **state)
{
	__u64 slots[LOG2_SLOTS] = {};
	char *got;

	(void)state;
	slots[11] = 1;
	got = print_slots(slots, "usecs");
	assert_string_equal(got,
		"                 usecs : count      distribution\n"
		"     1024 -> 2047      : 1          |****************************************|\n");
	free(got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exact_below_32),
		cmocka_unit_test(test_index_sweep),
		cmocka_unit_test(test_buckets_contiguous_and_narrow),
		cmocka_unit_test(test_add_counts),
		cmocka_unit_test(test_bucket_beyond_32_bits),
		cmocka_unit_test(test_percentile_empty),
		cmocka_unit_test(test_percentile_single),
		cmocka_unit_test(test_percentile_1_to_100),
		cmocka_unit_test(test_percentile_exact_below_32),
		cmocka_unit_test(test_percentile_error_bound),
		cmocka_unit_test(test_percentile_never_above_max),
		cmocka_unit_test(test_log2_slot),
		cmocka_unit_test(test_log2_print_rows),
		cmocka_unit_test(test_log2_print_ends),
		cmocka_unit_test(test_log2_print_empty),
		cmocka_unit_test(test_log2_print_single),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
