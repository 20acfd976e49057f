// SPDX-License-Identifier: GPL-2.0-only
// Unit tests for notify.c: NOTIFY_SOCKET's value as a socket address.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "notify.h"

#define PATH_OFF offsetof(struct sockaddr_un, sun_path)

static void test_path_keeps_its_nul(void **state)
{
	struct sockaddr_un sa;
	socklen_t len = 0;

	(void)state;
	assert_int_equal(notify_address("/run/systemd/notify", &sa, &len), 0);
	assert_int_equal(sa.sun_family, AF_UNIX);
	assert_string_equal(sa.sun_path, "/run/systemd/notify");
	assert_int_equal(len, PATH_OFF + strlen("/run/systemd/notify") + 1);
}

static void test_abstract_name_has_no_nul_at_the_end(void **state)
{
	struct sockaddr_un sa;
	socklen_t len = 0;

	(void)state;
	assert_int_equal(notify_address("@tcl/notify", &sa, &len), 0);
	assert_int_equal(sa.sun_path[0], '\0');
	assert_memory_equal(sa.sun_path + 1, "tcl/notify", 10);
	/* the name's own length: a trailing NUL would be another name */
	assert_int_equal(len, PATH_OFF + 11);
}

static void test_rejected_values(void **state)
{
	char longest[sizeof(((struct sockaddr_un *)0)->sun_path) + 1];
	struct sockaddr_un sa;
	socklen_t len = 0;

	(void)state;
	assert_int_equal(notify_address("", &sa, &len), -1);
	assert_int_equal(notify_address("@", &sa, &len), -1);
	assert_int_equal(notify_address("/", &sa, &len), -1);
	assert_int_equal(notify_address("relative/path", &sa, &len), -1);
	assert_int_equal(notify_address("vsock:2:1234", &sa, &len), -1);
	/* sun_path must hold a path and its NUL */
	memset(longest, 'a', sizeof(longest) - 1);
	longest[0] = '/';
	longest[sizeof(longest) - 1] = '\0';
	assert_int_equal(notify_address(longest, &sa, &len), -1);
	longest[sizeof(longest) - 2] = '\0';
	assert_int_equal(notify_address(longest, &sa, &len), 0);
	assert_int_equal(len, sizeof(sa));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_path_keeps_its_nul),
		cmocka_unit_test(test_abstract_name_has_no_nul_at_the_end),
		cmocka_unit_test(test_rejected_values),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
