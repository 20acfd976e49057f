// SPDX-License-Identifier: GPL-2.0-only
// Unit tests for names.c: result_name and errno_name as printed in records.
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <linux/types.h>
#include "names.h"
#include "tcpconnlog.h"

static void test_result_names(void **state)
{
	(void)state;
	assert_string_equal(result_name(TCL_PENDING), "pending");
	assert_string_equal(result_name(TCL_ESTABLISHED), "established");
	assert_string_equal(result_name(TCL_REFUSED), "refused");
	assert_string_equal(result_name(TCL_TIMEOUT), "timeout");
	assert_string_equal(result_name(TCL_UNREACHABLE), "unreachable");
	assert_string_equal(result_name(TCL_CLOSED), "closed");
	assert_string_equal(result_name(TCL_ERROR), "error");
}

static void test_result_name_values(void **state)
{
	(void)state;
	/* the numbering is shared with the BPF side: pin it */
	assert_int_equal(TCL_PENDING, 0);
	assert_int_equal(TCL_ESTABLISHED, 1);
	assert_int_equal(TCL_REFUSED, 2);
	assert_int_equal(TCL_TIMEOUT, 3);
	assert_int_equal(TCL_UNREACHABLE, 4);
	assert_int_equal(TCL_CLOSED, 5);
	assert_int_equal(TCL_ERROR, 6);
	assert_int_equal(TCL_RESULT_MAX, 7);
}

static void test_result_name_out_of_range(void **state)
{
	(void)state;
	assert_string_equal(result_name(TCL_RESULT_MAX), "unknown");
	assert_string_equal(result_name(TCL_RESULT_MAX + 1), "unknown");
	assert_string_equal(result_name(255), "unknown");
	assert_string_equal(result_name(~0U), "unknown");
}

static void test_errno_names(void **state)
{
	char buf[16];

	(void)state;
	assert_string_equal(errno_name(ECONNREFUSED, buf, sizeof(buf)), "ECONNREFUSED");
	assert_string_equal(errno_name(ETIMEDOUT, buf, sizeof(buf)), "ETIMEDOUT");
	assert_string_equal(errno_name(EHOSTUNREACH, buf, sizeof(buf)), "EHOSTUNREACH");
	assert_string_equal(errno_name(ENETUNREACH, buf, sizeof(buf)), "ENETUNREACH");
	assert_string_equal(errno_name(EADDRNOTAVAIL, buf, sizeof(buf)), "EADDRNOTAVAIL");
	assert_string_equal(errno_name(EINPROGRESS, buf, sizeof(buf)), "EINPROGRESS");
	assert_string_equal(errno_name(ECONNRESET, buf, sizeof(buf)), "ECONNRESET");
	assert_string_equal(errno_name(EPERM, buf, sizeof(buf)), "EPERM");
}

static void test_errno_kernel_internal(void **state)
{
	char buf[16];

	(void)state;
	assert_string_equal(errno_name(512, buf, sizeof(buf)), "ERESTARTSYS");
	assert_string_equal(errno_name(513, buf, sizeof(buf)), "ERESTARTNOINTR");
}

static void test_errno_unknown(void **state)
{
	char buf[16];
	const char *s;

	(void)state;
	memset(buf, 'X', sizeof(buf));
	s = errno_name(4000, buf, sizeof(buf));
	assert_string_equal(s, "E4000");
	assert_ptr_equal(s, buf);

	assert_string_equal(errno_name(0, buf, sizeof(buf)), "E0");
	assert_string_equal(errno_name(-5, buf, sizeof(buf)), "E-5");
	assert_string_equal(errno_name(2147483647, buf, sizeof(buf)), "E2147483647");
}

static void test_errno_unknown_truncates_to_buffer(void **state)
{
	char buf[4];

	(void)state;
	memset(buf, 'X', sizeof(buf));
	assert_string_equal(errno_name(4000, buf, sizeof(buf)), "E40");
}

/* Command names for a terminal: controls become '?', byte for byte. */
static void test_comm_printable(void **state)
{
	char out[17];

	(void)state;
	assert_string_equal(comm_printable("curl", out, sizeof(out)), "curl");
	assert_string_equal(comm_printable("a\nb\tc\x1b[1m\x7f", out, sizeof(out)),
			    "a?b?c?[1m?");
	/* U+009B (CSI) as UTF-8 is two bytes, both replaced */
	assert_string_equal(comm_printable("x\xc2\x9by", out, sizeof(out)), "x??y");
	/* U+00E9 is printable and kept */
	assert_string_equal(comm_printable("caf\xc3\xa9", out, sizeof(out)), "caf\xc3\xa9");
	/* a 16-byte name without NUL stops at 16 bytes */
	assert_string_equal(comm_printable("0123456789abcdefXYZ", out, sizeof(out)),
			    "0123456789abcdef");
	/* a trailing 0xc2 with nothing after it is kept as it is */
	assert_string_equal(comm_printable("ab\xc2", out, sizeof(out)), "ab\xc2");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_result_names),
		cmocka_unit_test(test_result_name_values),
		cmocka_unit_test(test_result_name_out_of_range),
		cmocka_unit_test(test_errno_names),
		cmocka_unit_test(test_errno_kernel_internal),
		cmocka_unit_test(test_errno_unknown),
		cmocka_unit_test(test_errno_unknown_truncates_to_buffer),
		cmocka_unit_test(test_comm_printable),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
