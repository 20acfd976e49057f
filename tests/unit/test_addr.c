// SPDX-License-Identifier: GPL-2.0-only
// Unit tests for addr.c: addresses as text, checked against inet_ntop.
#include <arpa/inet.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <linux/types.h>
#include "addr.h"

static void check_v4(__u32 host_order)
{
	union tcl_addr a = { .v4 = htonl(host_order) };
	char got[TCL_ADDR_STRLEN], want[INET_ADDRSTRLEN];

	assert_non_null(inet_ntop(AF_INET, &a.v4, want, sizeof(want)));
	assert_string_equal(addr_to_str(4, &a, got), want);
}

/* every byte value in every position, and the edges */
static void test_ipv4_matches_inet_ntop(void **state)
{
	(void)state;
	for (__u32 v = 0; v < 256; v++) {
		check_v4(v);
		check_v4(v << 8 | 7);
		check_v4(v << 16 | 99 << 8 | 100);
		check_v4(v << 24 | 10);
	}
	check_v4(0);
	check_v4(0xffffffff);
	check_v4(0x7f000001);
}

/* a pseudo-random walk over the whole space */
static void test_ipv4_random_matches_inet_ntop(void **state)
{
	__u32 x = 2463534242u;

	(void)state;
	for (int i = 0; i < 100000; i++) {
		x ^= x << 13;
		x ^= x >> 17;
		x ^= x << 5;
		check_v4(x);
	}
}

static void test_ipv6_forms(void **state)
{
	const char *forms[] = { "::", "::1", "2001:db8::10", "::ffff:10.0.0.1",
				"fe80::1:2:3:4", "2001:db8:1:2:3:4:5:6" };
	union tcl_addr a;
	char got[TCL_ADDR_STRLEN];

	(void)state;
	for (size_t i = 0; i < sizeof(forms) / sizeof(*forms); i++) {
		assert_int_equal(inet_pton(AF_INET6, forms[i], a.v6), 1);
		assert_string_equal(addr_to_str(6, &a, got), forms[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ipv4_matches_inet_ntop),
		cmocka_unit_test(test_ipv4_random_matches_inet_ntop),
		cmocka_unit_test(test_ipv6_forms),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
