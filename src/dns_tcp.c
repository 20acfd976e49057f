// SPDX-License-Identifier: GPL-2.0-only
/* A stream is the bytes expected next (its sequence number), the length
 * prefix being read and the part of a message read so far. A segment
 * that holds whole messages is handed over in place; only a message cut
 * by a segment's end is copied.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "dns_tcp.h"
#include "lru.h"
#include "table.h"

struct stream {
	__u64 key;
	__u32 next_seq;		/* of the next byte expected */
	__u8 prefix[2];		/* the length prefix, big endian */
	__u8 prefix_len;	/* bytes of it read */
	__u8 *buf;		/* the message read so far, NULL outside one */
	size_t want;		/* its length, from the prefix */
	size_t have;		/* bytes of it in buf */
	size_t skip;		/* bytes of a message too large to keep, to pass over */
};

struct dns_tcp {
	struct lru lru;		/* of struct stream */
	struct table index;	/* key -> __u32 index in lru */
	size_t max_bytes;
	size_t bytes;		/* in every stream's buf */
	struct dns_tcp_stats stats;
};

struct dns_tcp *dns_tcp_new_bounded(size_t max_streams, size_t max_bytes)
{
	struct dns_tcp *d = calloc(1, sizeof(*d));

	if (!d)
		return NULL;
	d->max_bytes = max_bytes;
	if (lru_init(&d->lru, sizeof(struct stream), max_streams) ||
	    table_init(&d->index, sizeof(__u64), sizeof(__u32), SIZE_MAX)) {
		dns_tcp_free(d);
		return NULL;
	}
	return d;
}

struct dns_tcp *dns_tcp_new(size_t max_streams)
{
	return dns_tcp_new_bounded(max_streams, DNS_TCP_BYTES_MAX);
}

static void drop_buf(struct dns_tcp *d, struct stream *s)
{
	free(s->buf);
	s->buf = NULL;
	d->bytes -= s->want;
	s->want = s->have = s->skip = 0;
	s->prefix_len = 0;
}

/* lru_take's callback: stream i goes, to make room */
static void evict(void *ctx, __u32 i)
{
	struct dns_tcp *d = ctx;
	struct stream *s = lru_elem(&d->lru, i);

	drop_buf(d, s);
	table_remove(&d->index, &s->key);
	d->stats.evicted++;
}

void dns_tcp_free(struct dns_tcp *d)
{
	if (!d)
		return;
	for (__u32 i = lru_oldest(&d->lru); i != LRU_NONE; i = lru_oldest(&d->lru)) {
		drop_buf(d, lru_elem(&d->lru, i));
		lru_remove(&d->lru, i);
	}
	lru_free(&d->lru);
	table_free(&d->index);
	free(d);
}

static void remove_stream(struct dns_tcp *d, __u32 i)
{
	struct stream *s = lru_elem(&d->lru, i);

	drop_buf(d, s);
	table_remove(&d->index, &s->key);
	lru_remove(&d->lru, i);
}

void dns_tcp_close(struct dns_tcp *d, __u64 key)
{
	const __u32 *slot = table_find(&d->index, &key);

	if (slot)
		remove_stream(d, *slot);
}

/* The stream of key, the most recent, started at seq when new; LRU_NONE
 * when out of memory.
 */
static __u32 stream_of(struct dns_tcp *d, __u64 key, __u32 seq)
{
	__u32 *slot = table_find(&d->index, &key);
	struct stream *s;
	bool evicted;
	__u32 i;

	if (slot) {
		lru_touch(&d->lru, *slot);
		return *slot;
	}
	i = lru_take(&d->lru, evict, d, &evicted);
	if (i == LRU_NONE)
		return LRU_NONE;
	slot = table_upsert(&d->index, &key);
	if (!slot) {
		lru_remove(&d->lru, i);
		return LRU_NONE;
	}
	*slot = i;
	s = lru_elem(&d->lru, i);
	s->key = key;
	s->next_seq = seq;
	return i;
}

/* A buffer for a message of want bytes in stream i: older streams go
 * while the total is over the bound. NULL when it cannot fit (the bound
 * is smaller than the message, or out of memory).
 */
static __u8 *make_room(struct dns_tcp *d, __u32 i, size_t want)
{
	struct stream *s;

	if (want > d->max_bytes)
		return NULL;
	while (d->bytes + want > d->max_bytes) {
		__u32 old = lru_oldest(&d->lru);

		if (old == i)
			return NULL;	/* i is the most recent: nothing else is left */
		remove_stream(d, old);
		d->stats.evicted++;
	}
	s = lru_elem(&d->lru, i);
	s->buf = malloc(want);
	if (!s->buf)
		return NULL;
	s->want = want;
	d->bytes += want;
	return s->buf;
}

void dns_tcp_feed(struct dns_tcp *d, __u64 key, __u32 seq, const __u8 *data,
		  size_t len, dns_tcp_msg_fn on_msg, void *ctx)
{
	__u32 i;
	struct stream *s;

	if (!len)
		return;
	i = stream_of(d, key, seq);
	if (i == LRU_NONE)
		return;
	s = lru_elem(&d->lru, i);
	/* a gap, a retransmission or a reordering: what was read cannot be
	 * trusted to line up; start again at this segment
	 */
	if (seq != s->next_seq) {
		drop_buf(d, s);
		d->stats.resets++;
	}
	s->next_seq = seq + (__u32)len;
	/* a stream is passing over a message (skip), filling one (buf) or
	 * reading a length prefix (neither)
	 */
	while (len) {
		__u8 *buf = s->buf;
		size_t n;

		if (s->skip) {
			n = s->skip < len ? s->skip : len;
			s->skip -= n;
			data += n;
			len -= n;
			continue;
		}
		if (!buf) {
			s->prefix[s->prefix_len++] = *data++;
			len--;
			if (s->prefix_len < 2)
				continue;
			s->prefix_len = 0;
			n = (size_t)s->prefix[0] << 8 | s->prefix[1];
			/* whole in this segment: hand it over in place */
			if (len >= n) {
				d->stats.messages++;
				on_msg(ctx, data, n);
				data += n;
				len -= n;
				continue;
			}
			buf = make_room(d, i, n);
			if (!buf) {
				/* no room: pass over it, keep the framing */
				d->stats.skipped++;
				s->skip = n;
				continue;
			}
		}
		n = s->want - s->have < len ? s->want - s->have : len;
		memcpy(buf + s->have, data, n);
		s->have += n;
		data += n;
		len -= n;
		if (s->have == s->want) {
			d->stats.messages++;
			on_msg(ctx, buf, s->want);
			drop_buf(d, s);
		}
	}
}

void dns_tcp_stats(const struct dns_tcp *d, struct dns_tcp_stats *st)
{
	*st = d->stats;
	st->streams = d->lru.len;
}
