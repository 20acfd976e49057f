/* SPDX-License-Identifier: GPL-2.0-only */
/* CAPTURE(stmt): what stmt writes to the FILE *f it is given, as the string
 * `captured` (freed by the next CAPTURE). For tests of printers.
 */
#ifndef TCL_TEST_CAPTURE_H
#define TCL_TEST_CAPTURE_H

#include <stdio.h>
#include <stdlib.h>

static char *captured;

#define CAPTURE(stmt_with_f) do {					\
		size_t cap_len;						\
		FILE *f;						\
		free(captured);						\
		captured = NULL;					\
		f = open_memstream(&captured, &cap_len);		\
		assert_non_null(f);					\
		stmt_with_f;						\
		assert_int_equal(fclose(f), 0);				\
	} while (0)

#endif
