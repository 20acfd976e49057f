// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "parse.h"

int parse_u64(const char *s, unsigned long long min, unsigned long long max,
	      unsigned long long *out)
{
	unsigned long long v;
	char *end;

	/* strtoull accepts blanks, signs and "0x": refuse them up front */
	if (!s || *s < '0' || *s > '9')
		return -1;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || *end || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

/* One element of a port list: "N" or "N-M". */
static int parse_port_item(const char *item, unsigned int *lo, unsigned int *hi,
			   char *err, size_t errlen)
{
	unsigned long long a, b;
	char first[16];
	const char *dash = strchr(item, '-');
	size_t n = dash ? (size_t)(dash - item) : strlen(item);

	if (n == 0 || n >= sizeof(first)) {
		snprintf(err, errlen, "'%s' is not a port or range", item);
		return -1;
	}
	memcpy(first, item, n);
	first[n] = '\0';
	if (parse_u64(first, 1, 65535, &a) ||
	    (dash && parse_u64(dash + 1, 1, 65535, &b))) {
		snprintf(err, errlen, "'%s' is not a port (1-65535) or range of ports", item);
		return -1;
	}
	if (!dash)
		b = a;
	if (a > b) {
		snprintf(err, errlen, "range '%s' runs backwards", item);
		return -1;
	}
	*lo = a;
	*hi = b;
	return 0;
}

int parse_ports(const char *s, __u64 bitmap[TCL_PORT_WORDS], char *err,
		size_t errlen)
{
	char *copy, *item, *save = NULL;
	int ret = 0;

	if (!s || !*s) {
		snprintf(err, errlen, "empty port list");
		return -1;
	}
	if (s[strlen(s) - 1] == ',' || s[0] == ',' || strstr(s, ",,")) {
		snprintf(err, errlen, "empty element in port list '%s'", s);
		return -1;
	}
	copy = strdup(s);
	if (!copy) {
		snprintf(err, errlen, "out of memory");
		return -1;
	}
	memset(bitmap, 0, TCL_PORT_WORDS * sizeof(__u64));
	for (item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		unsigned int lo, hi;

		if (parse_port_item(item, &lo, &hi, err, errlen)) {
			ret = -1;
			break;
		}
		for (unsigned int p = lo; p <= hi; p++)
			bitmap[p >> 6] |= 1ULL << (p & 63);
	}
	free(copy);
	return ret;
}
