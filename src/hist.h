/* SPDX-License-Identifier: GPL-2.0-only */
/* Latency histograms: a log-linear one (16 buckets per power of two, under
 * 6.25% error) for percentiles, and the classic log2 one for display.
 */
#ifndef TCL_HIST_H
#define TCL_HIST_H

#include <stdio.h>
#include <linux/types.h>

#define HIST_EXACT	32	/* values below this have a bucket each */
#define HIST_SUB	16	/* buckets per power of two above that */
#define HIST_BUCKETS	(HIST_EXACT + (64 - 5) * HIST_SUB)
#define LOG2_SLOTS	65

struct latency_hist {
	__u64 count;
	__u64 sum;
	__u64 max;
	__u64 buckets[HIST_BUCKETS];	/* 64-bit like count: no wrap in a long run */
};

unsigned int hist_index(__u64 v);
/* Largest value that falls in bucket i. */
__u64 hist_bucket_max(unsigned int i);
void hist_add(struct latency_hist *h, __u64 v);
/* Value at or below which a fraction p (0..1] of the samples lie: the
 * upper edge of its bucket, never above the largest sample. 0 when empty.
 */
__u64 hist_percentile(const struct latency_hist *h, double p);

/* " AVG P50 P99" of h's samples (ns) as milliseconds, in 11-wide columns;
 * "-" in each when h is empty.
 */
void hist_print_ms(FILE *out, const struct latency_hist *h);

/* Slot of v in a log2 histogram: 0 for 0, 1 for 1, 2 for 2-3, 3 for 4-7... */
unsigned int log2_slot(__u64 v);
/* Print a log2 histogram in bcc's layout, value column named unit. */
void log2_print(FILE *out, const __u64 slots[LOG2_SLOTS], const char *unit);

#endif
