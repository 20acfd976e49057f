/* SPDX-License-Identifier: GPL-2.0-only */
/* Reverse DNS for -r: the name of an address (a PTR record, or a line of
 * /etc/hosts), found by getnameinfo(NI_NAMEREQD) on worker threads so
 * that a slow resolver never blocks the reader, and kept in a bounded
 * cache (least recently used out first). Failures are cached too, for a
 * shorter while, so that a dead resolver is not asked again at every
 * connect.
 *
 * Only the thread that made it calls these functions: the cache is its
 * alone; the workers see a queue of addresses to look up and hand back
 * their answers through another, with an eventfd to wake the owner.
 */
#ifndef TCL_RDNS_H
#define TCL_RDNS_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "recnames.h"
#include "tcpconnlog.h"

#define RDNS_THREADS		4
#define RDNS_CACHE_MAX		4096
#define RDNS_QUEUE_MAX		256	/* lookups waiting for a worker */
#define RDNS_POSITIVE_TTL_NS	(300 * 1000000000ULL)
#define RDNS_NEGATIVE_TTL_NS	(30 * 1000000000ULL)

struct rdns_key {
	union tcl_addr addr;
	__u8 ip;		/* 4 or 6 */
	__u8 pad[3];		/* zero: the key is hashed whole */
};

/* The name of key->addr into name (len bytes): 0, or -1 when it has none
 * (or the resolver did not answer). Runs on a worker thread.
 */
typedef int (*rdns_resolve_fn)(const struct rdns_key *key, char *name, size_t len);

struct rdns_opts {
	rdns_resolve_fn resolve;	/* rdns_resolve_system, or a test's */
	unsigned int threads;
	size_t cache_max;
	size_t queue_max;
	__u64 positive_ttl_ns;
	__u64 negative_ttl_ns;
};

/* The defaults above, with getnameinfo. */
#define RDNS_OPTS_DEFAULT ((struct rdns_opts){ .resolve = rdns_resolve_system,	\
	.threads = RDNS_THREADS, .cache_max = RDNS_CACHE_MAX,			\
	.queue_max = RDNS_QUEUE_MAX, .positive_ttl_ns = RDNS_POSITIVE_TTL_NS,	\
	.negative_ttl_ns = RDNS_NEGATIVE_TTL_NS })

enum rdns_answer {
	RDNS_WAIT,	/* being looked up */
	RDNS_NAME,	/* *name is set */
	RDNS_NONE,	/* the address has no name (or the lookup failed) */
	RDNS_BUSY,	/* not cached, and too many lookups wait already */
};

struct rdns_counts {
	__u64 lookups;		/* handed to a worker */
	__u64 evictions;	/* cache entries pushed out by newer ones */
};

int rdns_resolve_system(const struct rdns_key *key, char *name, size_t len);

/* Starts the workers (with every signal blocked: they stay the main
 * thread's). NULL with errno set on failure.
 */
struct rdns *rdns_new(const struct rdns_opts *o);
/* Workers still inside a lookup are left to finish on their own. */
void rdns_free(struct rdns *r);
/* The key of ev's remote address (the destination, an accept's client). */
struct rdns_key rdns_key_of(const struct tcl_event *ev);
/* What the cache knows of key at now (CLOCK_MONOTONIC); a lookup starts
 * when it knows nothing or its answer is older than its TTL. *name stays
 * valid until the next call on r.
 */
enum rdns_answer rdns_get(struct rdns *r, const struct rdns_key *key, __u64 now,
			  const char **name);
/* Readable when lookups have finished: rdns_collect() takes them. */
int rdns_fd(const struct rdns *r);
void rdns_collect(struct rdns *r, __u64 now);
struct rdns_counts rdns_counts(const struct rdns *r);

#endif
