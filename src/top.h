/* SPDX-License-Identifier: GPL-2.0-only */
/* --top: a live table of the traced connections that are open now. */
#ifndef TCL_TOP_H
#define TCL_TOP_H

#include <stdbool.h>
#include <stdio.h>
#include <linux/types.h>
#include "tcpconnlog.h"

struct top;
struct sockdiag;

struct top_opts {
	bool terminal;		/* stdout is a tty: redraw in place, read keys */
	bool json;		/* snapshots as JSON lines (-j) */
	__u64 start_ns;		/* bpf_ktime_get_ns() clock at start */
	__s64 mono_to_real_ns;	/* add to that clock for wall-clock time */
};

struct top *top_new(const struct top_opts *o);
void top_free(struct top *t);
/* The wall clock was read again: times from now on use this offset. */
void top_set_mono_to_real(struct top *t, __s64 mono_to_real_ns);
/* Feed every record: established connects and accepts open a row, close
 * records remove it; anything else is ignored.
 */
void top_on_event(struct top *t, const struct tcl_event *ev);
/* Draw the table (terminal) or print one snapshot, at now_ns (the
 * bpf_ktime_get_ns() clock). Live bytes and RTT come from sock_diag.
 */
void top_show(struct top *t, FILE *out, __u64 now_ns);
/* Terminal mode: read pending keys from stdin; true when the user asked
 * to quit (q).
 */
bool top_quit_requested(struct top *t);
/* Terminal mode: put the terminal back as it was. Safe to call again;
 * top_free calls it too.
 */
void top_restore_terminal(struct top *t);

/* ---- the steps of top_show, for tests: no network, no terminal ---- */
/* Open connections now in the table. */
size_t top_count(const struct top *t);
/* Take live counters from a sock_diag answer (NULL: the dump failed, all
 * unknown). A row that sock_diag listed before and now misses twice in a
 * row has closed without its close record (lost): it is dropped.
 */
void top_update(struct top *t, struct sockdiag *live);
/* One snapshot, text or JSON (what top_show prints when not a terminal). */
void top_print_snapshot(struct top *t, FILE *out, __u64 now_ns);
/* One frame of a rows x cols terminal (what top_show draws in one). */
void top_draw(struct top *t, FILE *out, __u64 now_ns, int rows, int cols);

#endif
