/* SPDX-License-Identifier: GPL-2.0-only */
/* Wall-clock time of the monotonic clock BPF stamps records with. The
 * offset between the two changes when the wall clock is stepped (NTP,
 * settimeofday) or across a suspend, so it is taken again while running.
 */
#ifndef TCL_WALLCLOCK_H
#define TCL_WALLCLOCK_H

#include <linux/types.h>

#define WALLCLOCK_REFRESH_NS	1000000000ULL	/* how often to take it again */

/* One CLOCK_REALTIME read between two CLOCK_MONOTONIC ones. */
struct clock_pair {
	__u64 mono_before, real, mono_after;
};

/* Wall clock minus monotonic clock, from the pair whose monotonic reads
 * lie closest together (the least preempted), against their midpoint.
 * 0 when n is 0.
 */
__s64 wallclock_offset(const struct clock_pair *pairs, int n);

#endif
