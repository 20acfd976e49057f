/* SPDX-License-Identifier: GPL-2.0-only */
/* --top's rows: what top.c keeps of an open connection, and one row as
 * a text line or a JSON object (shared by snapshots and the screen).
 */
#ifndef TCL_TOPROW_H
#define TCL_TOPROW_H

#include <stdbool.h>
#include <linux/types.h>
#include "addr.h"
#include "sockdiag.h"
#include "strbuf.h"
#include "tcpconnlog.h"
#include "topkeys.h"

enum { W_COMM = 16, W_PID = 7, W_ADDR = 21, W_AGE = 8, W_BYTES = 12 };

struct top_row {
	__u64 conn_id;		/* also the table's key */
	__u64 opened_ns;	/* the record's ts_ns */
	union tcl_addr saddr;
	union tcl_addr daddr;
	__u32 pid;
	__u16 sport;
	__u16 dport;
	__u8 ip;
	__u8 flags;
	bool live;		/* the last dump listed it: info is valid */
	bool seen;		/* some dump listed it */
	__u8 misses;		/* dumps in a row that did not, since */
	struct diag_info info;
	char comm[TCL_COMM_LEN];
};

struct view {
	struct top_row r;	/* a copy: the table changes under a snapshot */
	char local[TCL_ADDR_STRLEN + 8];	/* [addr]:port */
	char remote[TCL_ADDR_STRLEN + 8];
};

void toprow_data_bytes(const struct top_row *r, __u64 *sent, __u64 *received);
__u64 toprow_age_ns(const struct top_row *r, __u64 now_ns);
/* "addr:port", "[v6 addr]:port"; out holds TCL_ADDR_STRLEN + 8 bytes. */
void toprow_endpoint(char *out, __u8 ip, const union tcl_addr *a, __u16 port);
/* The column names; sort's columns marked with *, none for TOP_SORT_N. */
void toprow_header(struct strbuf *sb, size_t addr_width, enum top_sort sort);
void toprow_text(struct strbuf *sb, const struct view *v, size_t addr_width, __u64 now_ns);
void toprow_json(struct strbuf *sb, const struct top_row *r, __u64 now_ns);
/* "N open connection(s)" */
void toprow_count_phrase(struct strbuf *sb, size_t n);

#endif
