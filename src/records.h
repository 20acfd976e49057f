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
#include "delayq.h"
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
	struct rdns *rdns;	/* -r, once started */
	struct delayq held;	/* -r: records waiting for their names */
};

/* 0, or -1 when out of memory. fmt is the caller's to fill. */
int records_init(struct records *r, const struct tcl_config *cfg);
void records_free(struct records *r);
/* One record: count it, and print it (to stdout) if it is due. */
void records_take(struct records *r, const struct tcl_event *ev);
/* -r: start the resolver's threads. After the privileges are dropped:
 * capabilities belong to each thread. 0, or -1 with errno set.
 */
int records_resolve_start(struct records *r);
/* -r: print the held records that may go now. */
void records_release(struct records *r);
/* -r: at exit, every held record out (within --resolve-timeout). */
void records_drain(struct records *r);
/* How long the reader may sleep before records_release() is due (at most
 * max_ms), and a descriptor that wakes it when names arrive (-1: none).
 */
int records_wait_ms(const struct records *r, int max_ms);
int records_wait_fd(const struct records *r);
/* --max-events was reached: nothing more is printed. */
bool records_limit_reached(const struct records *r);

#endif
