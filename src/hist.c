// SPDX-License-Identifier: GPL-2.0-only
#include <string.h>
#include "hist.h"

static unsigned int top_bit(__u64 v)
{
	return 63 - __builtin_clzll(v);
}

unsigned int hist_index(__u64 v)
{
	unsigned int e;

	if (v < HIST_EXACT)
		return v;
	e = top_bit(v);			/* >= 5 */
	return HIST_EXACT + (e - 5) * HIST_SUB + ((v >> (e - 4)) - HIST_SUB);
}

__u64 hist_bucket_max(unsigned int i)
{
	unsigned int e, sub;
	__u64 lo;

	if (i < HIST_EXACT)
		return i;
	e = (i - HIST_EXACT) / HIST_SUB + 5;
	sub = (i - HIST_EXACT) % HIST_SUB;
	lo = (__u64)(HIST_SUB + sub) << (e - 4);
	return lo + ((1ULL << (e - 4)) - 1);
}

void hist_add(struct latency_hist *h, __u64 v)
{
	h->count++;
	h->sum += v;
	if (v > h->max)
		h->max = v;
	h->buckets[hist_index(v)]++;
}

__u64 hist_percentile(const struct latency_hist *h, double p)
{
	__u64 rank, seen = 0;

	if (!h->count)
		return 0;
	/* nearest-rank: the smallest sample with at least p of them at or below */
	rank = (__u64)(p * h->count);
	if ((double)rank < p * h->count)
		rank++;
	if (rank < 1)
		rank = 1;
	for (unsigned int i = 0; i < HIST_BUCKETS; i++) {
		seen += h->buckets[i];
		if (seen >= rank) {
			__u64 edge = hist_bucket_max(i);

			return edge < h->max ? edge : h->max;
		}
	}
	return h->max;
}

void hist_print_ms(FILE *out, const struct latency_hist *h)
{
	__u64 avg_ns;

	if (!h->count) {
		fprintf(out, " %10s %10s %10s", "-", "-", "-");
		return;
	}
	avg_ns = h->sum / h->count;	/* whole ns, finer than the column's us */
	fprintf(out, " %10.3f %10.3f %10.3f", avg_ns / 1e6,
		hist_percentile(h, 0.50) / 1e6, hist_percentile(h, 0.99) / 1e6);
}

unsigned int log2_slot(__u64 v)
{
	return v ? top_bit(v) + 1 : 0;
}

void log2_print(FILE *out, const __u64 slots[LOG2_SLOTS], const char *unit)
{
	const int width = 40;
	int first = -1, last = -1;
	__u64 most = 0;

	for (int i = 0; i < LOG2_SLOTS; i++) {
		if (!slots[i])
			continue;
		if (first < 0)
			first = i;
		last = i;
		if (slots[i] > most)
			most = slots[i];
	}
	if (first < 0)
		return;
	fprintf(out, "%22s : %-10s distribution\n", unit, "count");
	for (int i = first; i <= last; i++) {
		__u64 lo = i ? 1ULL << (i - 1) : 0;
		__u64 hi = i ? (i == 64 ? ~0ULL : (1ULL << i) - 1) : 0;
		int stars = (int)(slots[i] * width / most);
		char bar[41];

		memset(bar, '*', stars);
		memset(bar + stars, ' ', width - stars);
		bar[width] = '\0';
		fprintf(out, "%9llu -> %-9llu : %-10llu |%s|\n",
			(unsigned long long)lo, (unsigned long long)hi,
			(unsigned long long)slots[i], bar);
	}
}
