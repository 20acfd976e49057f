// SPDX-License-Identifier: GPL-2.0-only
// Unit tests for topterm.c: which TERM values --top draws on (the rest
// of topterm.c is the terminal itself, driven by tests/e2e/test_top.py).
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <cmocka.h>

#include "topterm.h"

static void test_draws_on_terms_with_escapes(void **state)
{
	(void)state;
	assert_true(topterm_draws_on("xterm-256color"));
	assert_true(topterm_draws_on("screen"));
	assert_true(topterm_draws_on("linux"));
	assert_true(topterm_draws_on("vt100"));
}

static void test_plain_without_term_or_on_dumb(void **state)
{
	(void)state;
	assert_false(topterm_draws_on(NULL));
	assert_false(topterm_draws_on(""));
	assert_false(topterm_draws_on("dumb"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_draws_on_terms_with_escapes),
		cmocka_unit_test(test_plain_without_term_or_on_dumb),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
