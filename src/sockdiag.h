/* SPDX-License-Identifier: GPL-2.0-only */
/* Live counters of the TCP connections in this network namespace, read
 * with sock_diag (NETLINK_SOCK_DIAG) and looked up by 4-tuple.
 */
#ifndef TCL_SOCKDIAG_H
#define TCL_SOCKDIAG_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "tcpconnlog.h"

/* A connection as seen from one end. An IPv4-mapped IPv6 address pair is
 * kept as IPv4, so that a record and sock_diag agree however each one
 * names the socket's family.
 */
struct diag_key {
	union tcl_addr saddr;	/* local */
	union tcl_addr daddr;	/* remote */
	__u16 sport;		/* host byte order */
	__u16 dport;
	__u8 ip;		/* 4 or 6 */
	__u8 pad[3];
};

/* What tcp_info says about it. */
struct diag_info {
	__u64 bytes_acked;	/* tcpi_bytes_acked: sent and acknowledged */
	__u64 bytes_received;	/* tcpi_bytes_received */
	__u32 rtt_us;		/* tcpi_rtt: smoothed round-trip time */
	__u8 state;		/* TCP_ESTABLISHED, TCP_FIN_WAIT1... */
};

struct diag_entry {
	struct diag_key key;
	struct diag_info info;
};

/* One dump's answer, sorted by key for lookups. */
struct sockdiag {
	struct diag_entry *v;
	size_t len;
	size_t cap;
	bool sorted;
};

void diag_key_make(struct diag_key *k, __u8 ip, const union tcl_addr *saddr,
		   __u16 sport, const union tcl_addr *daddr, __u16 dport);

void sockdiag_init(struct sockdiag *d);
void sockdiag_free(struct sockdiag *d);
void sockdiag_clear(struct sockdiag *d);
/* Add one connection (the dump does; tests add their own). -ENOMEM on failure. */
int sockdiag_add(struct sockdiag *d, const struct diag_key *k,
		 const struct diag_info *info);
/* The counters of the connection k, or NULL if the dump did not list it. */
const struct diag_info *sockdiag_find(struct sockdiag *d, const struct diag_key *k);

/* The data bytes of i's connection, sent and acknowledged, and received.
 * The kernel's counters also count the SYN of a connect (outbound) and
 * each FIN once it was acknowledged or taken, as sequence numbers do.
 */
void diag_data_bytes(const struct diag_info *i, bool outbound, __u64 *sent,
		     __u64 *received);

/* Replace d's contents with every open TCP connection of this network
 * namespace, IPv4 and IPv6. 0, or -errno (d then holds a partial answer).
 */
int sockdiag_dump(struct sockdiag *d);

#endif
