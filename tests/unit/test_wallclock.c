// SPDX-License-Identifier: GPL-2.0-only
// Unit tests for wallclock.c: the monotonic-to-wall-clock offset from clock readings.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "wallclock.h"

#define SEC 1000000000ULL

static void test_no_readings(void **state)
{
	(void)state;
	assert_true(wallclock_offset(NULL, 0) == 0);
}

/* the real read is taken against the midpoint of the monotonic ones */
static void test_midpoint(void **state)
{
	const struct clock_pair p = { 100 * SEC, 1700000000 * SEC + 50, 100 * SEC + 100 };

	(void)state;
	assert_true(wallclock_offset(&p, 1) == (__s64)(1700000000 * SEC - 100 * SEC));
}

/* a read preempted between the clocks (a wide gap) is not the one used */
static void test_tightest_pair_wins(void **state)
{
	const struct clock_pair p[] = {
		{ 10 * SEC, 5000 * SEC + 3000000, 10 * SEC + 6000000 },	/* 6 ms gap */
		{ 11 * SEC, 5001 * SEC + 20, 11 * SEC + 40 },		/* 40 ns */
		{ 12 * SEC, 5002 * SEC + 900, 12 * SEC + 1000 },	/* 1 us */
	};

	(void)state;
	assert_true(wallclock_offset(p, 3) == (__s64)(4990 * SEC));
}

/* a wall clock behind the monotonic one (set to 1970) is a negative offset */
static void test_negative_offset(void **state)
{
	const struct clock_pair p = { 5000 * SEC, 10 * SEC, 5000 * SEC };

	(void)state;
	assert_true(wallclock_offset(&p, 1) == -(__s64)(4990 * SEC));
}

/* what a refresh sees after the wall clock was stepped an hour ahead */
static void test_step_moves_the_offset(void **state)
{
	const struct clock_pair before = { 20 * SEC, 9000 * SEC, 20 * SEC };
	const struct clock_pair after = { 21 * SEC, 9001 * SEC + 3600 * SEC, 21 * SEC };

	(void)state;
	assert_true(wallclock_offset(&after, 1) - wallclock_offset(&before, 1) ==
		    (__s64)(3600 * SEC));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_readings),
		cmocka_unit_test(test_midpoint),
		cmocka_unit_test(test_tightest_pair_wins),
		cmocka_unit_test(test_negative_offset),
		cmocka_unit_test(test_step_moves_the_offset),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
