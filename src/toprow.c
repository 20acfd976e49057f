// SPDX-License-Identifier: GPL-2.0-only
#include <string.h>
#include "format.h"
#include "names.h"
#include "toprow.h"

void toprow_data_bytes(const struct top_row *r, __u64 *sent, __u64 *received)
{
	diag_data_bytes(&r->info, !(r->flags & TCL_F_INBOUND), sent, received);
}

void toprow_endpoint(char *out, __u8 ip, const union tcl_addr *a, __u16 port)
{
	char addr[TCL_ADDR_STRLEN];
	struct strbuf sb;

	sb_init(&sb, out, TCL_ADDR_STRLEN + 7);
	addr_to_str(ip, a, addr);
	if (ip == 6)
		sb_char(&sb, '[');
	sb_str(&sb, addr);
	if (ip == 6)
		sb_char(&sb, ']');
	sb_char(&sb, ':');
	sb_u64(&sb, port);
	out[sb.len] = '\0';
}

/* A column name, marked with * when the table is sorted by it; the last
 * column (width 0) has no padding.
 */
static void head(struct strbuf *sb, const char *name, size_t width, bool mark)
{
	size_t start = sb->len;

	sb_str(sb, name);
	if (mark)
		sb_char(sb, '*');
	if (width) {
		sb_pad(sb, start, width);
		sb_char(sb, ' ');
	}
}

/* sort: the marked key, or TOP_SORT_N for none (snapshots) */
void toprow_header(struct strbuf *sb, size_t addr_width, enum top_sort sort)
{
	head(sb, "COMM", W_COMM, sort == TOP_SORT_COMM);
	head(sb, "PID", W_PID, sort == TOP_SORT_PID);
	head(sb, "LOCAL", addr_width, sort == TOP_SORT_LOCAL);
	head(sb, "REMOTE", addr_width, sort == TOP_SORT_REMOTE);
	head(sb, "AGE(s)", W_AGE, sort == TOP_SORT_AGE);
	head(sb, "TX", W_BYTES, sort == TOP_SORT_TX || sort == TOP_SORT_BYTES);
	head(sb, "RX", W_BYTES, sort == TOP_SORT_RX || sort == TOP_SORT_BYTES);
	head(sb, "RTT(ms)", 0, sort == TOP_SORT_RTT);
}

__u64 toprow_age_ns(const struct top_row *r, __u64 now_ns)
{
	return now_ns > r->opened_ns ? now_ns - r->opened_ns : 0;
}

void toprow_text(struct strbuf *sb, const struct view *v, size_t addr_width,
		 __u64 now_ns)
{
	const struct top_row *r = &v->r;
	bool known = !(r->flags & TCL_F_NO_PROCESS);
	char comm[COMM_PRINTABLE_SIZE];
	__u64 age = toprow_age_ns(r, now_ns), sent, received;
	size_t start;

	text_column(sb, known ? comm_printable(r->comm, comm, sizeof(comm)) : "-", W_COMM);
	if (known)
		sb_column_u64(sb, r->pid, W_PID);
	else
		sb_column(sb, "-", W_PID);
	sb_column(sb, v->local, addr_width);
	sb_column(sb, v->remote, addr_width);
	/* seconds to a tenth, truncated */
	start = sb->len;
	sb_u64(sb, age / 1000000000ULL);
	sb_char(sb, '.');
	sb_char(sb, (char)('0' + age / 100000000ULL % 10));
	sb_pad(sb, start, W_AGE);
	sb_char(sb, ' ');
	if (!r->live) {
		sb_column(sb, "-", W_BYTES);
		sb_column(sb, "-", W_BYTES);
		sb_char(sb, '-');
		return;
	}
	toprow_data_bytes(r, &sent, &received);
	sb_column_u64(sb, sent, W_BYTES);
	sb_column_u64(sb, received, W_BYTES);
	sb_milli(sb, r->info.rtt_us);
}

void toprow_count_phrase(struct strbuf *sb, size_t n)
{
	sb_u64(sb, n);
	sb_str(sb, n == 1 ? " open connection" : " open connections");
}

void toprow_json(struct strbuf *sb, const struct top_row *r, __u64 now_ns)
{
	bool known = !(r->flags & TCL_F_NO_PROCESS);
	__u64 sent, received;

	sb_str(sb, "{\"id\":");
	sb_u64(sb, r->conn_id);
	sb_str(sb, ",\"pid\":");
	if (known)
		sb_u64(sb, r->pid);
	else
		sb_str(sb, "null");
	sb_str(sb, ",\"comm\":");
	if (known)
		json_string(sb, r->comm, TCL_COMM_LEN);
	else
		sb_str(sb, "null");
	json_tuple(sb, r->ip, &r->saddr, r->sport, &r->daddr, r->dport);
	sb_str(sb, ",\"age_s\":");
	sb_milli(sb, toprow_age_ns(r, now_ns) / 1000000);
	if (!r->live) {
		sb_str(sb, ",\"bytes_sent\":null,\"bytes_received\":null,\"srtt_us\":null}");
		return;
	}
	toprow_data_bytes(r, &sent, &received);
	sb_str(sb, ",\"bytes_sent\":");
	sb_u64(sb, sent);
	sb_str(sb, ",\"bytes_received\":");
	sb_u64(sb, received);
	sb_str(sb, ",\"srtt_us\":");
	sb_u64(sb, r->info.rtt_us);
	sb_char(sb, '}');
}
