// SPDX-License-Identifier: GPL-2.0-only
// Unit tests for parse.c: parse_u64 and parse_ports (strict command-line value parsing).
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "parse.h"

/* ---- parse_u64 ---- */

static void expect_u64(const char *s, unsigned long long min, unsigned long long max,
		       unsigned long long want)
{
	unsigned long long v = 0xdeadbeefULL;

	assert_int_equal(parse_u64(s, min, max, &v), 0);
	assert_true(v == want);
}

static void expect_u64_rejected(const char *s, unsigned long long min,
				unsigned long long max)
{
	unsigned long long v = 0;

	assert_int_equal(parse_u64(s, min, max, &v), -1);
}

static void test_u64_good_values(void **state)
{
	(void)state;
	expect_u64("0", 0, 100, 0);
	expect_u64("1", 0, 100, 1);
	expect_u64("42", 0, 100, 42);
	expect_u64("100", 0, 100, 100);
	expect_u64("007", 0, 100, 7);
	expect_u64("4194304", 1, 4194304, 4194304);
	expect_u64("18446744073709551615", 0, UINT64_MAX, UINT64_MAX);
	expect_u64("18446744073709551614", 0, UINT64_MAX, UINT64_MAX - 1);
}

static void test_u64_boundaries(void **state)
{
	(void)state;
	/* [10, 20]: both ends in, one past each end out */
	expect_u64("10", 10, 20, 10);
	expect_u64("20", 10, 20, 20);
	expect_u64_rejected("9", 10, 20);
	expect_u64_rejected("21", 10, 20);
	expect_u64_rejected("0", 10, 20);
	/* a one-value range */
	expect_u64("5", 5, 5, 5);
	expect_u64_rejected("4", 5, 5);
	expect_u64_rejected("6", 5, 5);
	/* min 1 refuses 0 */
	expect_u64_rejected("0", 1, 65535);
	expect_u64("65535", 1, 65535, 65535);
	expect_u64_rejected("65536", 1, 65535);
}

static void test_u64_rejects_malformed(void **state)
{
	static const char *const bad[] = {
		"", "-1", "+1", " 1", "1 ", "\t1", "1\n", "0x10", "0X10", "12abc",
		"abc", "1.5", "1e3", "1,000", "-0", "+0", "--1",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		unsigned long long v = 0;

		if (parse_u64(bad[i], 0, UINT64_MAX, &v) != -1)
			fail_msg("parse_u64(\"%s\") accepted, value %llu", bad[i], v);
	}
	expect_u64_rejected(NULL, 0, UINT64_MAX);
}

static void test_u64_rejects_overflow(void **state)
{
	(void)state;
	expect_u64_rejected("99999999999999999999", 0, UINT64_MAX);
	expect_u64_rejected("18446744073709551616", 0, UINT64_MAX);	/* 2^64 */
	expect_u64_rejected("184467440737095516150", 0, UINT64_MAX);
}

static void test_u64_rejects_out_of_range(void **state)
{
	(void)state;
	expect_u64_rejected("101", 0, 100);
	expect_u64_rejected("4194305", 1, 4194304);
	expect_u64_rejected("18446744073709551615", 0, UINT64_MAX - 1);
	expect_u64_rejected("4095", 4096, 1ULL << 30);
	expect_u64_rejected("1073741825", 4096, 1ULL << 30);
}

/* ---- parse_ports ---- */

static unsigned int count_bits(const __u64 bitmap[TCL_PORT_WORDS])
{
	unsigned int n = 0;

	for (unsigned int i = 0; i < TCL_PORT_WORDS; i++)
		n += __builtin_popcountll(bitmap[i]);
	return n;
}

static void parse_ok(const char *s, __u64 bitmap[TCL_PORT_WORDS])
{
	char err[128] = "";

	/* garbage first: parse_ports must clear the whole map */
	memset(bitmap, 0xa5, TCL_PORT_WORDS * sizeof(__u64));
	if (parse_ports(s, bitmap, err, sizeof(err)) != 0)
		fail_msg("parse_ports(\"%s\") failed: %s", s, err);
}

static void test_ports_single(void **state)
{
	__u64 map[TCL_PORT_WORDS];

	(void)state;
	parse_ok("80", map);
	assert_int_equal(count_bits(map), 1);
	assert_true(port_in_set(map, 80));
	assert_false(port_in_set(map, 79));
	assert_false(port_in_set(map, 81));
	assert_true(map[1] == (1ULL << (80 - 64)));

	parse_ok("1", map);
	assert_int_equal(count_bits(map), 1);
	assert_true(port_in_set(map, 1));
	assert_false(port_in_set(map, 0));

	parse_ok("65535", map);
	assert_int_equal(count_bits(map), 1);
	assert_true(port_in_set(map, 65535));
	assert_true(map[TCL_PORT_WORDS - 1] == 1ULL << 63);
}

static void test_ports_list_and_range(void **state)
{
	__u64 map[TCL_PORT_WORDS];

	(void)state;
	parse_ok("80,443,8000-8100", map);
	assert_int_equal(count_bits(map), 103);
	for (unsigned int p = 0; p < 65536; p++) {
		bool want = p == 80 || p == 443 || (p >= 8000 && p <= 8100);

		if (port_in_set(map, p) != want)
			fail_msg("port %u: in set %d, want %d", p, port_in_set(map, p), want);
	}
}

static void test_ports_one_port_range_and_overlap(void **state)
{
	__u64 map[TCL_PORT_WORDS];

	(void)state;
	parse_ok("22-22", map);
	assert_int_equal(count_bits(map), 1);
	assert_true(port_in_set(map, 22));

	/* overlapping items count once */
	parse_ok("10-20,15-25,20", map);
	assert_int_equal(count_bits(map), 16);
	assert_true(port_in_set(map, 10));
	assert_true(port_in_set(map, 25));
	assert_false(port_in_set(map, 9));
	assert_false(port_in_set(map, 26));

	/* word boundaries of the bitmap */
	parse_ok("63-64,127-128", map);
	assert_int_equal(count_bits(map), 4);
	assert_true(map[0] == 1ULL << 63);
	assert_true(map[1] == (1ULL | 1ULL << 63));
	assert_true(map[2] == 1ULL);
}

static void test_ports_all(void **state)
{
	__u64 map[TCL_PORT_WORDS];

	(void)state;
	parse_ok("1-65535", map);
	assert_int_equal(count_bits(map), 65535);
	assert_false(port_in_set(map, 0));
	assert_true(map[0] == ~1ULL);
	for (unsigned int i = 1; i < TCL_PORT_WORDS; i++)
		assert_true(map[i] == ~0ULL);
}

static void expect_ports_rejected(const char *s, const char *mention)
{
	__u64 map[TCL_PORT_WORDS];
	char err[128];

	memset(err, 0, sizeof(err));
	if (parse_ports(s, map, err, sizeof(err)) != -1)
		fail_msg("parse_ports(\"%s\") accepted", s);
	if (!err[0])
		fail_msg("parse_ports(\"%s\"): empty error message", s);
	if (mention && !strstr(err, mention))
		fail_msg("parse_ports(\"%s\"): error \"%s\" does not mention \"%s\"", s, err,
			 mention);
}

static void test_ports_rejects(void **state)
{
	(void)state;
	expect_ports_rejected("", NULL);
	expect_ports_rejected(",", ",");
	expect_ports_rejected("80,", "80,");
	expect_ports_rejected(",80", ",80");
	expect_ports_rejected("80,,443", "80,,443");
	/* bad items: the message names the offending item */
	expect_ports_rejected("0", "'0'");
	expect_ports_rejected("70000", "'70000'");
	expect_ports_rejected("65536", "'65536'");
	expect_ports_rejected("100-90", "'100-90'");
	expect_ports_rejected("a", "'a'");
	expect_ports_rejected("80-", "'80-'");
	expect_ports_rejected("-80", "'-80'");
	expect_ports_rejected("1-2-3", "'1-2-3'");
	expect_ports_rejected("80 ", "'80 '");
	expect_ports_rejected(" 80", "' 80'");
	expect_ports_rejected("0-10", "'0-10'");
	expect_ports_rejected("10-65536", "'10-65536'");
	expect_ports_rejected("+80", "'+80'");
	expect_ports_rejected("0x50", "'0x50'");
	/* the bad item among good ones is the one named */
	expect_ports_rejected("80,abc,443", "'abc'");
	expect_ports_rejected("80,443,9-1", "'9-1'");
}

static void test_ports_error_fits_small_buffer(void **state)
{
	__u64 map[TCL_PORT_WORDS];
	char err[8];

	(void)state;
	memset(err, 'X', sizeof(err));
	assert_int_equal(parse_ports("80,nope", map, err, sizeof(err)), -1);
	/* truncated, NUL-terminated inside the buffer */
	assert_int_equal(strlen(err), sizeof(err) - 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_u64_good_values),
		cmocka_unit_test(test_u64_boundaries),
		cmocka_unit_test(test_u64_rejects_malformed),
		cmocka_unit_test(test_u64_rejects_overflow),
		cmocka_unit_test(test_u64_rejects_out_of_range),
		cmocka_unit_test(test_ports_single),
		cmocka_unit_test(test_ports_list_and_range),
		cmocka_unit_test(test_ports_one_port_range_and_overlap),
		cmocka_unit_test(test_ports_all),
		cmocka_unit_test(test_ports_rejects),
		cmocka_unit_test(test_ports_error_fits_small_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
