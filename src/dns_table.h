/* SPDX-License-Identifier: GPL-2.0-only */
/* The DNS answers seen (-d), per address, to name the destinations of
 * connects. Bounded: the least recently used entries go first.
 */
#ifndef TCL_DNS_TABLE_H
#define TCL_DNS_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "tcpconnlog.h"
#include "dns_answer.h"
#include "recnames.h"

struct dns_table;

struct dns_table_stats {
	__u64 answers;		/* dns_table_add calls */
	__u64 addresses;	/* addresses added */
	__u64 evicted;		/* entries dropped to stay within the bound */
	size_t entries;		/* entries now */
};

/* At most max_entries entries: an answered address takes up to three
 * (for its process, its netns and the host; processes of one netns share
 * the last two). NULL when out of memory or max_entries is 0.
 */
struct dns_table *dns_table_new(size_t max_entries);
void dns_table_free(struct dns_table *t);

/* Remember answer a, received by process tgid in network namespace netns
 * at now_ns (CLOCK_MONOTONIC, as bpf_ktime_get_ns()).
 */
void dns_table_add(struct dns_table *t, const struct dns_answer *a,
		   __u32 tgid, __u32 netns, __u64 now_ns);

/* The answer that named daddr (ip 4 or 6) for a connect by tgid in netns
 * at when_ns: the same process's first, then the same netns's, then
 * anyone's; the most recent among those. An IPv4-mapped daddr
 * (::ffff:a.b.c.d) is looked up as a.b.c.d. 127.0.0.1 and ::1 are
 * "localhost". The strings in *m stay valid until the next dns_table_add
 * or dns_table_free. False when nothing matched.
 */
bool dns_table_match(struct dns_table *t, __u8 ip, const union tcl_addr *daddr,
		     __u32 tgid, __u32 netns, __u64 when_ns, struct dns_match *m);

void dns_table_stats(const struct dns_table *t, struct dns_table_stats *s);

#endif
