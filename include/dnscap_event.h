/* SPDX-License-Identifier: GPL-2.0-only */
/* What the DNS capture (-d, src/dnscap.bpf.c) hands to user space: the
 * payload of each packet from port 53 that a local socket receives, with
 * who received it.
 */
#ifndef DNSCAP_EVENT_H
#define DNSCAP_EVENT_H

/* DNS payload bytes per record: a larger UDP answer is dropped (counted
 * in too_big); a larger TCP segment is cut into records of this size
 */
#define DNSCAP_CHUNK		8192	/* a power of two */
/* records per TCP segment: 64 KiB, the largest DNS message, and more */
#define DNSCAP_TCP_CHUNKS	8

#define DNSCAP_PROTO_UDP	17
#define DNSCAP_PROTO_TCP	6

/* Record flags. */
#define DNSCAP_F_TCP_END	0x1	/* TCP FIN or RST: the stream is over */

struct dnscap_event {
	__u64 ts_ns;		/* bpf_ktime_get_ns() when the packet arrived */
	__u64 cookie;		/* the receiving socket's cookie */
	__u32 tgid;		/* the process that sent a query on that socket,
				 * 0 if none was seen
				 */
	__u32 netns;		/* the receiving socket's network namespace inode */
	__u32 seq;		/* TCP: sequence number of data[0] */
	__u16 len;		/* bytes in data */
	__u8 proto;		/* DNSCAP_PROTO_* */
	__u8 flags;		/* DNSCAP_F_* */
	/* followed by len bytes of DNS payload (TCP: of the stream) */
};

/* Counters for user space (per CPU, summed there). */
struct dnscap_counters {
	__u64 ring_full;	/* records the ring buffer had no room for */
	__u64 too_big;		/* UDP answers over DNSCAP_CHUNK, TCP segments
				 * over DNSCAP_TCP_CHUNKS records: dropped
				 */
	__u64 map_full;		/* askers that could not be noted */
};

#endif /* DNSCAP_EVENT_H */
