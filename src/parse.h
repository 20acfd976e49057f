/* SPDX-License-Identifier: GPL-2.0-only */
/* Strict parsing of command-line values. */
#ifndef TCL_PARSE_H
#define TCL_PARSE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>

#define TCL_PORT_WORDS (65536 / 64)

/* Whole string, decimal digits only, within [min, max]. 0 or -1. */
int parse_u64(const char *s, unsigned long long min, unsigned long long max,
	      unsigned long long *out);

/* "80,443,8000-8100" into a bitmap of ports 1..65535. On error returns -1
 * and writes a reason into err.
 */
int parse_ports(const char *s, __u64 bitmap[TCL_PORT_WORDS], char *err,
		size_t errlen);

static inline bool port_in_set(const __u64 bitmap[TCL_PORT_WORDS], unsigned int port)
{
	return bitmap[port >> 6] & (1ULL << (port & 63));
}

#endif
