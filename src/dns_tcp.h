/* SPDX-License-Identifier: GPL-2.0-only */
/* DNS over TCP (-d): the byte streams of port-53 connections cut back
 * into messages (each framed by a 2-byte length, RFC 1035 4.2.2).
 * Streams are keyed by the socket cookie; anything but the next
 * expected byte (a gap, a duplicate, out of order) resets the stream.
 * Bounded in streams and bytes; the least recently fed stream goes first.
 */
#ifndef TCL_DNS_TCP_H
#define TCL_DNS_TCP_H

#include <stddef.h>
#include <linux/types.h>

struct dns_tcp;

/* Bytes of partial messages kept across all streams (dns_tcp_new) */
#define DNS_TCP_BYTES_MAX (4u << 20)

typedef void (*dns_tcp_msg_fn)(void *ctx, const __u8 *msg, size_t len);

struct dns_tcp_stats {
	__u64 messages;		/* whole messages passed to the callback */
	__u64 resets;		/* streams dropped: gap, duplicate, out of order */
	__u64 evicted;		/* streams dropped to stay within the bounds */
	__u64 skipped;		/* messages passed over: larger than the byte bound */
	size_t streams;		/* streams now */
};

/* At most max_streams streams and DNS_TCP_BYTES_MAX bytes buffered.
 * NULL when out of memory or max_streams is 0.
 */
struct dns_tcp *dns_tcp_new(size_t max_streams);
/* The same with max_bytes in place of DNS_TCP_BYTES_MAX */
struct dns_tcp *dns_tcp_new_bounded(size_t max_streams, size_t max_bytes);
void dns_tcp_free(struct dns_tcp *d);

/* Data of stream key starting at TCP sequence number seq. on_msg gets
 * each whole message (without its length prefix); msg is valid only
 * during the call.
 */
void dns_tcp_feed(struct dns_tcp *d, __u64 key, __u32 seq, const __u8 *data,
		  size_t len, dns_tcp_msg_fn on_msg, void *ctx);

/* Forget stream key (its connection closed). */
void dns_tcp_close(struct dns_tcp *d, __u64 key);

void dns_tcp_stats(const struct dns_tcp *d, struct dns_tcp_stats *s);

#endif
