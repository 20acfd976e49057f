/* SPDX-License-Identifier: GPL-2.0-only */
/* The nine kinds of command names a process can choose for itself, and
 * what the output makes of each: the text field (comm_printable()) and
 * the JSON string literal (json_string()). Shared by test_names.c,
 * test_format_text.c and test_json.c.
 */
#ifndef TCL_TEST_HOSTILE_NAMES_H
#define TCL_TEST_HOSTILE_NAMES_H

#include <stddef.h>

static const struct {
	const char *name;
	const char *text;
	size_t width;		/* terminal columns of text */
	const char *json;
} hostile[] = {
	{ "", "-", 1, "\"\"" },
	{ "a b", "a\\x20b", 6, "\"a b\"" },
	{ "a\tb\nc", "a\\x09b\\x0ac", 11, "\"a\\u0009b\\u000ac\"" },
	{ "\x1b[31m", "\\x1b[31m", 8, "\"\\u001b[31m\"" },
	{ "x\xc2\x9by", "x\\xc2\\x9by", 10, "\"x\\u009by\"" },		/* C1 CSI */
	{ "\xff\xfe", "\\xff\\xfe", 8, "\"\\u00ff\\u00fe\"" },		/* not UTF-8 */
	{ "a\xe2\x80\xae" "cba", "a\\xe2\\x80\\xaecba", 16, "\"a\\u202ecba\"" },	/* U+202E */
	{ "caf\xc3\xa9", "caf\xc3\xa9", 4, "\"caf\xc3\xa9\"" },
	{ "\xe6\x97\xa5\xe6\x9c\xac", "\xe6\x97\xa5\xe6\x9c\xac", 2,
	  "\"\xe6\x97\xa5\xe6\x9c\xac\"" },					/* CJK */
	{ "\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff\xff",
	  "\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff\\xff", 60,
	  "\"\\u00ff\\u00ff\\u00ff\\u00ff\\u00ff\\u00ff\\u00ff\\u00ff\\u00ff\\u00ff"
	  "\\u00ff\\u00ff\\u00ff\\u00ff\\u00ff\"" },
};

#define HOSTILE_COUNT (sizeof(hostile) / sizeof(*hostile))

#endif
