// SPDX-License-Identifier: GPL-2.0-only
// Unit tests for dns_tcp.c: DNS-over-TCP streams cut back into messages,
// however the segments split them, and reset on gaps and duplicates.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <linux/types.h>

#include "dns_tcp.h"

#define MSGS_MAX 16

/* what the callback got, in order */
struct got {
	unsigned int n;
	size_t len[MSGS_MAX];
	__u8 data[MSGS_MAX][512];
};

static void on_msg(void *ctx, const __u8 *msg, size_t len)
{
	struct got *g = ctx;

	assert_true(g->n < MSGS_MAX);
	assert_true(len <= sizeof(g->data[0]));
	memcpy(g->data[g->n], msg, len);
	g->len[g->n++] = len;
}

/* A stream of three framed messages of 5, 0x101 and 1 bytes: the second's
 * length needs both prefix bytes. The messages' offsets go to off[].
 */
static size_t stream3(__u8 *s, size_t off[3])
{
	static const size_t lens[3] = { 5, 0x101, 1 };
	size_t n = 0;

	for (int m = 0; m < 3; m++) {
		s[n++] = (__u8)(lens[m] >> 8);
		s[n++] = (__u8)lens[m];
		off[m] = n;
		for (size_t i = 0; i < lens[m]; i++)
			s[n++] = (__u8)(m * 100 + i);
	}
	return n;
}

static void assert_got3(const struct got *g, const __u8 *s, const size_t off[3])
{
	static const size_t lens[3] = { 5, 0x101, 1 };

	assert_int_equal(g->n, 3);
	for (int m = 0; m < 3; m++) {
		assert_int_equal(g->len[m], lens[m]);
		assert_memory_equal(g->data[m], s + off[m], lens[m]);
	}
}

/* Each test's stream of three messages and what the callback got */
struct fx {
	__u8 s[600];
	size_t off[3];
	size_t len;
	struct got g;
	struct dns_tcp *d;	/* freed after the test */
};

/* the test's dns_tcp, with these bounds, in place of any before */
static struct dns_tcp *fx_tcp(struct fx *f, size_t max_streams, size_t max_bytes)
{
	dns_tcp_free(f->d);
	f->d = dns_tcp_new_bounded(max_streams, max_bytes);
	assert_non_null(f->d);
	return f->d;
}

static int fx_setup(void **state)
{
	struct fx *f = calloc(1, sizeof(*f));

	if (!f)
		return -1;
	f->len = stream3(f->s, f->off);
	*state = f;
	return 0;
}

static int fx_teardown(void **state)
{
	struct fx *f = *state;

	dns_tcp_free(f->d);
	free(f);
	return 0;
}

/* the figures so far: messages handed over, resets, evictions, streams */
static void assert_stats(const struct dns_tcp *d, __u64 messages, __u64 resets,
			 __u64 evicted, size_t streams)
{
	struct dns_tcp_stats st;

	dns_tcp_stats(d, &st);
	assert_int_equal(st.messages, messages);
	assert_int_equal(st.resets, resets);
	assert_int_equal(st.evicted, evicted);
	assert_int_equal(st.streams, streams);
}

/* Fed in one segment, in two split at every offset, in three split at
 * every pair of offsets, and a byte at a time: the same three messages.
 * Each split copied into a buffer of its exact size (ASan).
 */
static void feed_split(struct dns_tcp *d, __u64 key, __u32 seq0, const __u8 *s,
		       const size_t *cuts, size_t n_cuts, size_t len, struct got *g)
{
	size_t from = 0;

	for (size_t c = 0; c <= n_cuts; c++) {
		size_t to = c < n_cuts ? cuts[c] : len;
		__u8 *seg = malloc(to - from + 1);

		assert_non_null(seg);
		memcpy(seg, s + from, to - from);
		dns_tcp_feed(d, key, seq0 + (__u32)from, seg, to - from, on_msg, g);
		free(seg);
		from = to;
	}
}

static void test_splits(void **state)
{
	struct fx *f = *state;
	__u64 key = 1, messages = 0;
	struct dns_tcp *d = fx_tcp(f, 4, DNS_TCP_BYTES_MAX);
	struct got *g = &f->g;

	assert_non_null(d);
	for (size_t a = 0; a <= f->len; a++) {
		for (size_t b = a; b <= f->len; b += (a < 8 || b < 8 ? 1 : 37)) {
			const size_t cuts[2] = { a, b };

			memset(g, 0, sizeof(*g));
			/* a new stream each time, its sequence numbers near the wrap */
			key++;
			feed_split(d, key, 0xfffffff0u + (__u32)key, f->s, cuts, 2, f->len, g);
			assert_got3(g, f->s, f->off);
			messages += 3;
			dns_tcp_close(d, key);
		}
	}
	memset(g, 0, sizeof(*g));
	for (size_t i = 0; i < f->len; i++)
		dns_tcp_feed(d, 0, 7 + (__u32)i, f->s + i, 1, on_msg, g);
	assert_got3(g, f->s, f->off);
	assert_stats(d, messages + 3, 0, 0, 1);
}

/* A gap: the message it cut is never handed over; the stream starts
 * again at the segment after the gap
 */
static void test_gap(void **state)
{
	struct fx *f = *state;
	struct dns_tcp *d = fx_tcp(f, 4, DNS_TCP_BYTES_MAX);
	struct got *g = &f->g;

	/* the first message and part of the second; the rest of the second
	 * missing; the third
	 */
	dns_tcp_feed(d, 9, 1000, f->s, f->off[1] + 10, on_msg, g);
	dns_tcp_feed(d, 9, 1000 + (__u32)f->off[2] - 2, f->s + f->off[2] - 2, f->len - f->off[2] + 2, on_msg, g);
	assert_int_equal(g->n, 2);
	assert_int_equal(g->len[0], 5);
	assert_int_equal(g->len[1], 1);
	assert_memory_equal(g->data[1], f->s + f->off[2], 1);
	assert_stats(d, 2, 1, 0, 1);
}

/* A duplicate (a retransmission) resets; data after it goes on from it */
static void test_duplicate_and_reorder(void **state)
{
	struct fx *f = *state;
	struct dns_tcp *d = fx_tcp(f, 4, DNS_TCP_BYTES_MAX);
	struct got *g = &f->g;

	/* the first message twice: handed over twice, one reset */
	dns_tcp_feed(d, 3, 50, f->s, f->off[1] - 2, on_msg, g);
	dns_tcp_feed(d, 3, 50, f->s, f->off[1] - 2, on_msg, g);
	assert_int_equal(g->n, 2);
	/* half of the second, then its first bytes again: the half is dropped */
	dns_tcp_feed(d, 3, 50 + (__u32)f->off[1] - 2, f->s + f->off[1] - 2, 100, on_msg, g);
	dns_tcp_feed(d, 3, 50 + (__u32)f->off[1] - 2, f->s + f->off[1] - 2, 50, on_msg, g);
	dns_tcp_feed(d, 3, 50 + (__u32)f->off[1] + 48, f->s + f->off[1] + 48, f->len - f->off[1] - 48, on_msg, g);
	assert_int_equal(g->n, 4);
	assert_int_equal(g->len[2], 0x101);
	assert_memory_equal(g->data[2], f->s + f->off[1], 0x101);
	assert_int_equal(g->len[3], 1);
	/* out of order: the end before the start */
	memset(g, 0, sizeof(*g));
	dns_tcp_feed(d, 4, 1000 + (__u32)f->off[2] - 2, f->s + f->off[2] - 2, 3, on_msg, g);
	dns_tcp_feed(d, 4, 1000, f->s, f->off[2] - 2, on_msg, g);
	assert_stats(d, 7, 3, 0, 2);
	assert_int_equal(g->n, 3);	/* the end as a stream of its own, then the start */
}

/* Streams interleaved do not mix; the oldest goes past max_streams */
static void test_streams_and_eviction(void **state)
{
	struct fx *f = *state;
	struct dns_tcp *d = fx_tcp(f, 2, DNS_TCP_BYTES_MAX);
	struct got *g = &f->g;

	dns_tcp_feed(d, 1, 0, f->s, f->off[1] + 1, on_msg, g);
	dns_tcp_feed(d, 2, 0, f->s, f->off[1] + 1, on_msg, g);
	dns_tcp_feed(d, 1, (__u32)f->off[1] + 1, f->s + f->off[1] + 1, f->len - f->off[1] - 1, on_msg, g);
	dns_tcp_feed(d, 2, (__u32)f->off[1] + 1, f->s + f->off[1] + 1, f->len - f->off[1] - 1, on_msg, g);
	assert_int_equal(g->n, 6);
	assert_int_equal(g->len[2], 0x101);
	assert_int_equal(g->len[4], 0x101);
	/* 1, 2 half way through their second message; 3 evicts 1, the oldest */
	dns_tcp_feed(d, 1, (__u32)f->len, f->s, f->off[1] + 1, on_msg, g);
	dns_tcp_feed(d, 2, (__u32)f->len, f->s, f->off[1] + 1, on_msg, g);
	dns_tcp_feed(d, 3, 0, f->s, f->off[1] + 1, on_msg, g);
	assert_stats(d, 9, 0, 1, 2);
	memset(g, 0, sizeof(*g));
	dns_tcp_feed(d, 2, (__u32)(f->len + f->off[1] + 1), f->s + f->off[1] + 1, f->len - f->off[1] - 1, on_msg, g);
	assert_int_equal(g->n, 2);
	assert_int_equal(g->len[0], 0x101);
	assert_null(dns_tcp_new(0));
}

/* The byte bound: a message larger than it is passed over with the
 * framing kept; partial messages of older streams go to make room
 */
static void test_byte_bound(void **state)
{
	struct fx *f = *state;
	struct dns_tcp *d = fx_tcp(f, 8, 0x100);
	struct got *g = &f->g;

	/* the 0x101-byte message in two segments does not fit */
	for (size_t i = 0; i < f->len; i += 100)
		dns_tcp_feed(d, 1, (__u32)i, f->s + i, f->len - i < 100 ? f->len - i : 100, on_msg, g);
	assert_int_equal(g->n, 2);
	assert_int_equal(g->len[0], 5);
	assert_int_equal(g->len[1], 1);
	assert_stats(d, 2, 0, 0, 1);
	{
		struct dns_tcp_stats st;

		dns_tcp_stats(d, &st);
		assert_int_equal(st.skipped, 1);
	}
	/* in one segment it is handed over in place: no bytes kept */
	memset(g, 0, sizeof(*g));
	dns_tcp_feed(d, 2, 0, f->s, f->len, on_msg, g);
	assert_int_equal(g->n, 3);

	/* two partial 200-byte messages do not fit together in 0x100 */
	d = fx_tcp(f, 8, 0x100);
	f->s[0] = 0;
	f->s[1] = 200;
	memset(g, 0, sizeof(*g));
	dns_tcp_feed(d, 1, 0, f->s, 100, on_msg, g);
	dns_tcp_feed(d, 2, 0, f->s, 100, on_msg, g);
	assert_stats(d, 0, 0, 1, 1);
	dns_tcp_feed(d, 2, 100, f->s + 100, 102, on_msg, g);
	assert_int_equal(g->n, 1);
	assert_int_equal(g->len[0], 200);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_splits, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_gap, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_duplicate_and_reorder, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_streams_and_eviction, fx_setup, fx_teardown),
		cmocka_unit_test_setup_teardown(test_byte_bound, fx_setup, fx_teardown),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
