/* SPDX-License-Identifier: GPL-2.0-only */
/* Turning records into output lines: text columns or JSON objects. */
#ifndef TCL_FORMAT_H
#define TCL_FORMAT_H

#include <arpa/nameser.h>
#include <limits.h>
#include <stdbool.h>
#include <linux/types.h>
#include "recnames.h"
#include "strbuf.h"
#include "tcpconnlog.h"

/* The longest line a record can make, from the widest form of each part.
 * The unit tests format records with every part at its widest and check
 * that they fit.
 */
enum {
	TCL_U32_CHARS = 10,
	TCL_U64_CHARS = 20,
	TCL_MILLI_CHARS = TCL_U64_CHARS - 3 + 4,	/* a u64 of thousandths: n.ddd */
	TCL_ADDR_CHARS = 45,		/* ffff:ffff:ffff:ffff:ffff:ffff:255.255.255.255 */
	TCL_PORT_CHARS = 5,
	TCL_TIME_CHARS = 27,		/* 2026-11-23T09:00:00.123456Z */
	TCL_RUN_CHARS = 36,		/* a UUID's text (runinfo.h) */
	TCL_CLOCK_CHARS = 8,		/* 09:00:00 */
	TCL_WORD_CHARS = 21,		/* a name: error:ENOTRECOVERABLE, established, ... */
	TCL_COMM_TEXT_CHARS = 4 * TCL_COMM_LEN,	/* every byte as \xHH */
	TCL_COMM_JSON_CHARS = 6 * TCL_COMM_LEN,	/* every byte as \u00XX */
	/* names are printed up to these many bytes (longer ones are cut):
	 * a DNS name in presentation form (ns_name_ntop's, getnameinfo's),
	 * a cgroup path, the 12 bytes of a container id in text
	 */
	TCL_NAME_MAX = NS_MAXDNAME - 1,
	TCL_PATH_MAX = PATH_MAX - 1,
	TCL_CONTAINER_SHORT = 12,
	TCL_CONTAINER_MAX = 64,
	/* a name as a quoted JSON string, every byte escaped */
	TCL_NAME_JSON_CHARS = 6 * TCL_NAME_MAX + 2,
	TCL_NAME_TEXT_CHARS = 4 * TCL_NAME_MAX,
	/* JSON: head, connect, close, process and name fields all at once
	 * (a superset of any record), each with its key, quotes, colon and
	 * comma in 20 bytes, plus the braces and the newline
	 */
	TCL_JSON_FIELDS = 13 + 4 + 10 + 5 + 6,
	TCL_JSON_KEY_CHARS = 20,
	TCL_JSON_LINE_MAX = TCL_JSON_FIELDS * TCL_JSON_KEY_CHARS + 3 +
		/* event run time id pid tid uid comm ip saddr sport daddr dport */
		TCL_WORD_CHARS + TCL_RUN_CHARS + TCL_TIME_CHARS + TCL_U64_CHARS + 3 * TCL_U32_CHARS +
		TCL_COMM_JSON_CHARS + 1 + 2 * (TCL_ADDR_CHARS + TCL_PORT_CHARS) +
		/* result errno latency_us call_us */
		2 * TCL_WORD_CHARS + 2 * TCL_MILLI_CHARS +
		/* direction duration_ms bytes_sent bytes_received segs_out segs_in
		 * srtt_us min_rtt_us retransmits closed_by
		 */
		TCL_WORD_CHARS + TCL_MILLI_CHARS + 2 * TCL_U64_CHARS + 5 * TCL_U32_CHARS +
		TCL_WORD_CHARS +
		/* cgroup_id cgroup container netns mntns */
		TCL_U64_CHARS + 6 * TCL_PATH_MAX + 2 + 6 * TCL_CONTAINER_MAX + 2 +
		2 * TCL_U32_CHARS +
		/* rdns dns dns_chain ([a,b,...]) dns_age_ms dns_scope dns_expired */
		2 * TCL_NAME_JSON_CHARS + TCL_DNS_CHAIN_MAX * (TCL_NAME_JSON_CHARS + 1) + 1 +
		TCL_MILLI_CHARS + TCL_WORD_CHARS + 5,
	/* text with every column: each value at its widest and a space (the
	 * last one a newline)
	 */
	TCL_TEXT_COLUMNS = 20,
	TCL_TEXT_LINE_MAX = TCL_TEXT_COLUMNS +
		/* TIME(s) TIME UID EVENT PID COMM IP */
		TCL_MILLI_CHARS + TCL_CLOCK_CHARS + TCL_U32_CHARS + TCL_WORD_CHARS +
		TCL_U32_CHARS + TCL_COMM_TEXT_CHARS + 1 +
		/* SADDR LPORT DADDR DPORT RESULT */
		2 * (TCL_ADDR_CHARS + TCL_PORT_CHARS) + TCL_WORD_CHARS +
		/* LAT(ms) DUR(ms) TX RX RTT(ms) */
		3 * TCL_MILLI_CHARS + 2 * TCL_U64_CHARS +
		/* CONTAINER RDNS QUERY ("name (n.nnns, expired)") */
		4 * TCL_CONTAINER_SHORT + TCL_NAME_TEXT_CHARS + TCL_NAME_TEXT_CHARS + 2 +
		TCL_MILLI_CHARS + 11,
	TCL_LINE_MAX = TCL_JSON_LINE_MAX > TCL_TEXT_LINE_MAX ? TCL_JSON_LINE_MAX
							      : TCL_TEXT_LINE_MAX,
};

struct format_opts {
	bool timestamp;		/* -t: TIME(s) since start */
	bool wallclock;		/* -T: local HH:MM:SS */
	bool uid;		/* -U */
	bool lport;		/* -L */
	bool events;		/* EVENT column (-l, -A) */
	bool lifecycle;		/* DUR(ms) TX RX RTT(ms) columns (-l) */
	bool container;		/* -C: CONTAINER column (JSON has it always) */
	bool rdns;		/* -r: RDNS column, "rdns" key */
	bool dns;		/* -d: QUERY column, "dns*" keys */
	int addr_width;		/* address columns: 15 (IPv4 only) or 39 */
	__u64 start_ns;		/* bpf_ktime_get_ns() clock at start */
	__s64 mono_to_real_ns;	/* add to that clock for wall-clock time */
};

/* A text column of s padded to width terminal columns (one per code
 * point), then the space that separates it.
 */
void text_column(struct strbuf *sb, const char *s, size_t width);
void format_text_header(const struct format_opts *o, struct strbuf *sb);
/* names: what is known of the record's names (recnames.h); NULL when
 * nothing is
 */
void format_text_event(const struct format_opts *o, const struct tcl_event *ev,
		       const struct record_names *names, struct strbuf *sb);
void format_json_event(const struct format_opts *o, const struct tcl_event *ev,
		       const struct record_names *names, struct strbuf *sb);

/* JSON string literal of s (at most n bytes, stops at NUL), quotes included.
 * Valid UTF-8 passes, except the controls of cp_is_control() (C0, DEL, C1,
 * bidi, invisible), which become \uXXXX; a byte that is not valid UTF-8
 * becomes \u00XX (U+00XX in the parsed string), so that output always parses.
 */
void json_string(struct strbuf *sb, const char *s, size_t n);
/* ,"ip":..,"saddr":..,"sport":..,"daddr":..,"dport":.. of a JSON object */
void json_tuple(struct strbuf *sb, __u8 ip, const union tcl_addr *saddr, __u16 sport,
		const union tcl_addr *daddr, __u16 dport);
/* RFC 3339 UTC with microseconds, e.g. 2026-11-23T09:00:00.123456Z */
void rfc3339_utc(struct strbuf *sb, __s64 real_ns);

#endif
