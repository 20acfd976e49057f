// SPDX-License-Identifier: GPL-2.0-only
#include "wallclock.h"

__s64 wallclock_offset(const struct clock_pair *pairs, int n)
{
	__u64 best_gap = ~0ULL;
	__s64 best = 0;

	for (int i = 0; i < n; i++) {
		const struct clock_pair *p = &pairs[i];
		__u64 gap = p->mono_after - p->mono_before;

		if (gap < best_gap) {
			best_gap = gap;
			best = (__s64)(p->real - (p->mono_before + gap / 2));
		}
	}
	return best;
}
