/* SPDX-License-Identifier: GPL-2.0-only */
/* DNS answers (-d): the name asked, the CNAMEs followed and the A/AAAA
 * addresses it resolved to, read from one DNS message with libresolv.
 * Everything in the message is untrusted.
 */
#ifndef TCL_DNS_ANSWER_H
#define TCL_DNS_ANSWER_H

#include <stddef.h>
#include <arpa/nameser.h>
#include <linux/types.h>
#include "tcpconnlog.h"
#include "recnames.h"

/* Addresses kept per answer; more are dropped */
#define DNS_ADDRS_MAX 32

struct dns_addr {
	__u8 ip;		/* 4 or 6 */
	union tcl_addr addr;
	__u32 ttl;		/* seconds, as in the record */
};

/* Names are in presentation form (ns_name_ntop's: printable ASCII,
 * odd bytes escaped), in the case the message has them, without the
 * trailing dot; compare them with strcasecmp.
 */
struct dns_answer {
	char name[NS_MAXDNAME];				/* the question's */
	char chain[TCL_DNS_CHAIN_MAX][NS_MAXDNAME];	/* CNAME targets, in order */
	unsigned int chain_len;
	struct dns_addr addrs[DNS_ADDRS_MAX];
	unsigned int n_addrs;
};

enum dns_parse_result {
	DNS_OK,
	DNS_NOT_ANSWER,	/* a query, an error rcode, no A/AAAA: nothing to keep */
	DNS_MALFORMED,	/* truncated, bad counts, pointer loops...: count and skip */
};

/* Read msg (len bytes, a whole DNS message without the TCP length
 * prefix) into out. Only DNS_OK leaves out meaningful.
 */
enum dns_parse_result dns_parse(const __u8 *msg, size_t len, struct dns_answer *out);

#endif
