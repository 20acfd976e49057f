/* SPDX-License-Identifier: GPL-2.0-only */
/* What becomes of each record from the kernel: tallied for the summary
 * and -c, fed to --top, or formatted and written to stdout. Kept apart
 * from the BPF session so that benchmarks can drive it with records of
 * their own.
 */
#ifndef TCL_RECORDS_H
#define TCL_RECORDS_H

#include <stdbool.h>
#include "cgroup.h"
#include "config.h"
#include "connstats.h"
#include "counts.h"
#include "format.h"
#include "output.h"
#include "recnames.h"
#include "stats.h"
#include "top.h"

struct dnscap;

struct records {
	const struct tcl_config *cfg;
	struct format_opts fmt;
	struct stats stats;
	struct connstats conns;	/* -l: of the close records */
	struct counts counts;
	struct top *top;	/* --top: records feed the table, not stdout */
	struct cgroups cgroups;	/* cgroup ids as paths and containers */
	/* -d: the answer that named a connect's destination, or NULL:
	 * dnscap_name(dns, ev), called through a pointer since unit tests
	 * and benchmarks link records without the BPF side
	 */
	struct dnscap *dns;	/* the owner's */
	const struct dns_match *(*dns_name)(struct dnscap *dns, const struct tcl_event *ev);
	unsigned long long printed;
	struct output out;	/* stdout; the owner flushes it */
};

/* 0, or -1 when out of memory. fmt is the caller's to fill. */
int records_init(struct records *r, const struct tcl_config *cfg);
void records_free(struct records *r);
/* One record: count it, and print it (to stdout) if it is due. */
void records_take(struct records *r, const struct tcl_event *ev);
/* --max-events was reached: nothing more is printed. */
bool records_limit_reached(const struct records *r);

#endif
