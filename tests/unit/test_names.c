// SPDX-License-Identifier: GPL-2.0-only
// Unit tests for names.c: result_name, errno_name and command names as printed.
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include <linux/types.h>
#include "hostile_names.h"
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

/* Each hostile name in text: one field, no white space, nothing a
 * terminal acts on, every byte told apart.
 */
static void test_comm_printable_hostile_names(void **state)
{
	char out[COMM_PRINTABLE_SIZE];

	(void)state;
	for (size_t i = 0; i < HOSTILE_COUNT; i++) {
		const char *s = comm_printable(hostile[i].name, out, sizeof(out));

		assert_string_equal(s, hostile[i].text);
		assert_int_equal(text_width(s), hostile[i].width);
		assert_int_equal(text_pad(s, 16), 16 + strlen(s) - hostile[i].width);
	}
}

static void test_comm_printable_escapes(void **state)
{
	char out[COMM_PRINTABLE_SIZE];

	(void)state;
	assert_string_equal(comm_printable("curl", out, sizeof(out)), "curl");
	/* a backslash is doubled, so that "\x41" written by a process is not A */
	assert_string_equal(comm_printable("\\x41", out, sizeof(out)), "\\\\x41");
	/* "-" is the empty name's placeholder: a real one is escaped */
	assert_string_equal(comm_printable("-", out, sizeof(out)), "\\x2d");
	assert_string_equal(comm_printable("--", out, sizeof(out)), "--");
	assert_string_equal(comm_printable("del\x7f", out, sizeof(out)), "del\\x7f");
	/* bidi controls, invisible characters, Unicode spaces */
	assert_string_equal(comm_printable("\xe2\x81\xa6x", out, sizeof(out)), "\\xe2\\x81\\xa6x");
	assert_string_equal(comm_printable("\xe2\x80\x8fx", out, sizeof(out)), "\\xe2\\x80\\x8fx");
	assert_string_equal(comm_printable("a\xc2\xa0" "b", out, sizeof(out)), "a\\xc2\\xa0b");
	assert_string_equal(comm_printable("a\xe3\x80\x80" "b", out, sizeof(out)),
			    "a\\xe3\\x80\\x80b");
	/* a truncated sequence is escaped byte by byte */
	assert_string_equal(comm_printable("ab\xc2", out, sizeof(out)), "ab\\xc2");
	/* a 16-byte name without NUL stops at 16 bytes */
	assert_string_equal(comm_printable("0123456789abcdefXYZ", out, sizeof(out)),
			    "0123456789abcdef");
	/* a short buffer cuts between characters, never inside an escape */
	assert_string_equal(comm_printable("a\xff" "b", out, 5), "a");
	assert_string_equal(comm_printable("a\xff" "b", out, 6), "a\\xff");
}

static void test_utf8_and_controls(void **state)
{
	unsigned int cp = 0;

	(void)state;
	assert_int_equal(utf8_decode((const unsigned char *)"A", 1, &cp), 1);
	assert_int_equal(cp, 'A');
	assert_int_equal(utf8_decode((const unsigned char *)"\xe2\x80\xae", 3, &cp), 3);
	assert_int_equal(cp, 0x202e);
	assert_int_equal(utf8_decode((const unsigned char *)"\xe2\x80\xae", 2, &cp), 0);
	assert_int_equal(utf8_decode((const unsigned char *)"\xc0\x80", 2, &cp), 0);
	assert_int_equal(utf8_decode((const unsigned char *)"\xed\xa0\x80", 3, &cp), 0);
	/* every bidi control of Unicode's Bidi_Control property */
	static const unsigned int bidi[] = { 0x061c, 0x200e, 0x200f, 0x202a, 0x202b, 0x202c,
					     0x202d, 0x202e, 0x2066, 0x2067, 0x2068, 0x2069 };
	for (size_t i = 0; i < sizeof(bidi) / sizeof(*bidi); i++)
		assert_true(cp_is_control(bidi[i]));
	for (unsigned int c = 0; c < 0x20; c++)
		assert_true(cp_is_control(c));
	for (unsigned int c = 0x7f; c <= 0x9f; c++)
		assert_true(cp_is_control(c));
	assert_false(cp_is_control(' '));
	assert_false(cp_is_control(0xa0));
	assert_false(cp_is_control(0xe9));
	assert_false(cp_is_control(0x65e5));
	assert_true(cp_is_space(' '));
	assert_true(cp_is_space(0x3000));
	assert_false(cp_is_space('a'));
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
		cmocka_unit_test(test_comm_printable_hostile_names),
		cmocka_unit_test(test_comm_printable_escapes),
		cmocka_unit_test(test_utf8_and_controls),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
