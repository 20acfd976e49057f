/* SPDX-License-Identifier: GPL-2.0-only */
/* What user space finds out about a record before it prints it: the
 * names of where it went (-d, -r) and of where its process runs (cgroup
 * path, container). Every part is optional: NULL when unknown or not
 * asked for.
 */
#ifndef TCL_RECNAMES_H
#define TCL_RECNAMES_H

#include <stdbool.h>
#include <linux/types.h>

/* CNAMEs kept per answer; a longer chain is cut there */
#define TCL_DNS_CHAIN_MAX 8

/* The longest -r name kept, in bytes (a host name's presentation form);
 * a longer answer counts as no name
 */
#define TCL_RDNS_MAX 253

/* Whose DNS answer named the destination (-d). */
enum dns_scope {
	DNS_SCOPE_PROCESS = 0,	/* an answer the connecting process received */
	DNS_SCOPE_NETNS,	/* one received in its network namespace */
	DNS_SCOPE_HOST,		/* one received anywhere on the host */
	DNS_SCOPE_LOOPBACK,	/* 127.0.0.1 or ::1: "localhost", no answer */
};

/* The DNS answer matched to a connect. Strings are in presentation form
 * (ns_name_ntop's, so printable ASCII) and owned by the DNS table.
 */
struct dns_match {
	const char *name;			/* the name asked for */
	const char *chain[TCL_DNS_CHAIN_MAX];	/* the CNAMEs followed, in order */
	unsigned int chain_len;
	__u64 age_ns;		/* answer received to the connect */
	bool expired;		/* the connect came after the record's TTL */
	enum dns_scope scope;
};

struct record_names {
	const char *cgroup;		/* cgroup v2 path, e.g. "/libpod_parent/libpod-ID" */
	const char *container;		/* the container's full id */
	const struct dns_match *dns;	/* -d: NULL when no answer matched */
	const char *rdns;		/* -r: the PTR name, NULL if none in time */
};

#endif
