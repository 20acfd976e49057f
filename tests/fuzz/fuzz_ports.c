// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer target: parse_ports(), the -P/--port list ("80,443,8000-8100").
 * The input is the string, up to any NUL.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "parse.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* exactly sized, so ASan sees a read past the terminating NUL */
	char *s = strndup((const char *)data, size);
	__u64 bitmap[TCL_PORT_WORDS];
	char err[128] = "";	/* the size cli.c passes */
	unsigned int set = 0;

	if (!s)
		return 0;
	if (parse_ports(s, bitmap, err, sizeof(err))) {
		if (!err[0])
			abort();	/* an error must come with its reason */
	} else {
		/* accepted: only digits, commas and dashes, ports 1..65535 */
		if (s[strspn(s, "0123456789,-")] || port_in_set(bitmap, 0))
			abort();
		for (unsigned int w = 0; w < TCL_PORT_WORDS; w++)
			set |= bitmap[w] != 0;
		if (!set)
			abort();	/* a valid list names at least one port */
	}
	free(s);
	return 0;
}
