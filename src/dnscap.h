/* SPDX-License-Identifier: GPL-2.0-only */
/* -d: DNS answers captured in the kernel (dnscap.bpf.c), parsed into the
 * answer table, and the name of each connect's destination from it.
 */
#ifndef TCL_DNSCAP_H
#define TCL_DNSCAP_H

#include <stddef.h>
#include <linux/types.h>
#include "recnames.h"
#include "tcpconnlog.h"

struct dnscap;

/* What -d could not keep, for the summary and the JSON lost line. */
struct dnscap_losses {
	__u64 dropped;		/* answers not captured: ring buffer full, too big
				 * (UDP over 8 KiB), asker table full, TCP stream
				 * broken (a gap, or pushed out of its table)
				 */
	__u64 malformed;	/* captured messages the parser rejected */
	__u64 evicted;		/* addresses pushed out of the full answer table */
};

/* Load the capture and attach it to the cgroup v2 root, with a table of
 * table_size addresses. NULL after a one-line message on stderr.
 */
struct dnscap *dnscap_start(size_t table_size);
/* Take what the kernel captured into the table: 0, or a negative errno. */
int dnscap_drain(struct dnscap *d);
/* The answer that named the destination of connect ev, after a drain
 * (every answer committed before the connect is then in the table).
 * NULL when none matched; valid until the next call.
 */
const struct dns_match *dnscap_name(struct dnscap *d, const struct tcl_event *ev);
/* Detach the capture; the table stays for the records still to come. */
void dnscap_detach(struct dnscap *d);
void dnscap_losses(const struct dnscap *d, struct dnscap_losses *l);
void dnscap_free(struct dnscap *d);

#endif
