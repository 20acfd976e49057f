/* SPDX-License-Identifier: GPL-2.0-only */
/* Turning records into output lines: text columns or JSON objects. */
#ifndef TCL_FORMAT_H
#define TCL_FORMAT_H

#include <stdbool.h>
#include <linux/types.h>
#include "strbuf.h"
#include "tcpconnlog.h"

struct format_opts {
	bool timestamp;		/* -t: TIME(s) since start */
	bool wallclock;		/* -T: local HH:MM:SS */
	bool uid;		/* -U */
	bool lport;		/* -L */
	bool events;		/* EVENT column (-l, -A) */
	bool lifecycle;		/* DUR(ms) TX RX RTT(ms) columns (-l) */
	int addr_width;		/* address columns: 15 (IPv4 only) or 39 */
	__u64 start_ns;		/* bpf_ktime_get_ns() clock at start */
	__s64 mono_to_real_ns;	/* add to that clock for wall-clock time */
};

void format_text_header(const struct format_opts *o, struct strbuf *sb);
void format_text_event(const struct format_opts *o, const struct tcl_event *ev,
		       struct strbuf *sb);
void format_json_event(const struct format_opts *o, const struct tcl_event *ev,
		       struct strbuf *sb);

/* JSON string literal of s (at most n bytes, stops at NUL), quotes included.
 * Bytes that are not valid UTF-8 become \u00XX so that output always parses.
 */
void json_string(struct strbuf *sb, const char *s, size_t n);
/* ,"ip":..,"saddr":..,"sport":..,"daddr":..,"dport":.. of a JSON object */
void json_tuple(struct strbuf *sb, __u8 ip, const union tcl_addr *saddr, __u16 sport,
		const union tcl_addr *daddr, __u16 dport);
/* RFC 3339 UTC with microseconds, e.g. 2026-11-23T09:00:00.123456Z */
void rfc3339_utc(struct strbuf *sb, __s64 real_ns);

#endif
