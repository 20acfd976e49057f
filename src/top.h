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
	bool terminal;		/* top_terminal_usable(): redraw in place, read keys */
	bool json;		/* snapshots as JSON lines (-j) */
	__u64 start_ns;		/* bpf_ktime_get_ns() clock at start */
	__s64 mono_to_real_ns;	/* add to that clock for wall-clock time */
	unsigned int delay_ms;	/* between refreshes; 0: 1 s. The d key changes it */
};

/* stdout is a terminal top can draw on (not TERM=dumb, TERM set). */
bool top_terminal_usable(void);

struct top *top_new(const struct top_opts *o);
void top_free(struct top *t);
/* The wall clock was read again: times from now on use this offset. */
void top_set_mono_to_real(struct top *t, __s64 mono_to_real_ns);
/* Feed every record: established connects and accepts open a row, close
 * records remove it; anything else is ignored.
 */
void top_on_event(struct top *t, const struct tcl_event *ev);
/* Everything due at now_ns (the bpf_ktime_get_ns() clock), once the
 * reader has fed the records: in a terminal the keys pressed and a new
 * window size; a refresh when the delay has passed (one sock_diag dump
 * for live bytes and RTT, then a frame, or a snapshot on stdout when not
 * a terminal). True when the user asked to quit (q).
 */
bool top_run(struct top *t, FILE *out, __u64 now_ns);
/* How long the reader may sleep: until the next refresh, at most max_ms. */
int top_wait_ms(const struct top *t, __u64 now_ns, int max_ms);
/* Terminal mode: a descriptor readable when a key or a resize waits, for
 * the reader's epoll to wake on; -1 otherwise.
 */
int top_wait_fd(const struct top *t);
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
/* The keys of one read from the terminal (top_run's): TOP_DO_* of
 * topkeys.h, what they ask the caller to do.
 */
int top_feed_keys(struct top *t, const char *keys, size_t n);
/* One snapshot, text or JSON (what top_run prints when not a terminal). */
void top_print_snapshot(struct top *t, FILE *out, __u64 now_ns);
/* Terminal mode: the rows as they are at now_ns, for the next frames. */
void top_snapshot(struct top *t, __u64 now_ns);
/* One frame of a rows x cols terminal from the last snapshot: the table
 * sorted as the keys asked, or the help screen.
 */
void top_draw(struct top *t, FILE *out, int rows, int cols);

#endif
