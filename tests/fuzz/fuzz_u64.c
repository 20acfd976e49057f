// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer target: parse_u64() against a plain reference parser, for the
 * ranges the command line uses. The input is the string, up to any NUL.
 */
#include <limits.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "parse.h"

/* Nonempty, decimal digits only, no overflow: what parse.h promises. */
static int ref_u64(const char *s, unsigned long long *out)
{
	unsigned long long v = 0;

	if (!*s)
		return -1;
	for (; *s; s++) {
		unsigned int d = (unsigned char)*s - '0';

		if (d > 9 || v > (ULLONG_MAX - d) / 10)
			return -1;
		v = v * 10 + d;
	}
	*out = v;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const unsigned long long ranges[][2] = {
		{ 0, ULLONG_MAX }, { 1, 65535 }, { 1, 4194304 },
		{ 0, 0xfffffffeULL }, { 4096, 1ULL << 30 },
	};
	/* exactly sized, so ASan sees a read past the terminating NUL */
	char *s = strndup((const char *)data, size);
	unsigned long long want = 0, got;
	int ref_ok;

	if (!s)
		return 0;
	ref_ok = !ref_u64(s, &want);
	for (size_t i = 0; i < sizeof(ranges) / sizeof(ranges[0]); i++) {
		int ok = ref_ok && want >= ranges[i][0] && want <= ranges[i][1];
		int rc = parse_u64(s, ranges[i][0], ranges[i][1], &got);

		if (rc != (ok ? 0 : -1) || (ok && got != want))
			abort();	/* disagrees with the reference */
	}
	free(s);
	return 0;
}
