// SPDX-License-Identifier: GPL-2.0-only
#include <time.h>
#include "addr.h"
#include "format.h"
#include "names.h"

enum { W_TIMESTAMP = 9, W_CLOCK = 8, W_UID = 6, W_PID = 7, W_COMM = 16,
       W_IP = 2, W_PORT = 5, W_EVENT = 7, W_MS = 10, W_BYTES = 12,
       /* "error:" and the longest errno name (15) */
       W_RESULT = 21, W_CONTAINER = TCL_CONTAINER_SHORT, W_RDNS = 30 };

/* DNS answers older than this show their age in QUERY (as bcc's -d) */
#define QUERY_AGE_SHOWN_NS 100000000ULL

static bool has_trailing(const struct format_opts *o)
{
	return o->container || o->rdns || o->dns;
}

/* The end of a column that began at start: padded and a space, or the
 * newline when it is the last one.
 */
static void column_end(struct strbuf *sb, size_t start, size_t width, bool last)
{
	if (last) {
		sb_char(sb, '\n');
		return;
	}
	sb_pad(sb, start, width);
	sb_char(sb, ' ');
}

static void word_column(struct strbuf *sb, const char *name, size_t width, bool last)
{
	size_t start = sb->len;

	sb_str(sb, name);
	column_end(sb, start, width, last);
}

/* CONTAINER RDNS QUERY, in that order, as the options ask */
static void trailing_header(const struct format_opts *o, struct strbuf *sb)
{
	if (o->container)
		word_column(sb, "CONTAINER", W_CONTAINER, !o->rdns && !o->dns);
	if (o->rdns)
		word_column(sb, "RDNS", W_RDNS, !o->dns);
	if (o->dns)
		word_column(sb, "QUERY", 0, true);
}

void format_text_header(const struct format_opts *o, struct strbuf *sb)
{
	if (o->timestamp)
		sb_column(sb, "TIME(s)", W_TIMESTAMP);
	if (o->wallclock)
		sb_column(sb, "TIME", W_CLOCK);
	if (o->uid)
		sb_column(sb, "UID", W_UID);
	if (o->events)
		sb_column(sb, "EVENT", W_EVENT);
	sb_column(sb, "PID", W_PID);
	sb_column(sb, "COMM", W_COMM);
	sb_column(sb, "IP", W_IP);
	sb_column(sb, "SADDR", o->addr_width);
	if (o->lport)
		sb_column(sb, "LPORT", W_PORT);
	sb_column(sb, "DADDR", o->addr_width);
	sb_column(sb, "DPORT", W_PORT);
	sb_column(sb, "RESULT", W_RESULT);
	if (o->lifecycle) {
		sb_column(sb, "LAT(ms)", W_MS);
		sb_column(sb, "DUR(ms)", W_MS);
		sb_column(sb, "TX", W_BYTES);
		sb_column(sb, "RX", W_BYTES);
	}
	word_column(sb, o->lifecycle ? "RTT(ms)" : "LAT(ms)", W_MS, !has_trailing(o));
	trailing_header(o, sb);
}

void text_column(struct strbuf *sb, const char *s, size_t width)
{
	size_t w = text_width(s);

	sb_str(sb, s);
	while (w < width && !sb->overflow) {
		sb_char(sb, ' ');
		w++;
	}
	sb_char(sb, ' ');
}

static void wallclock(const struct format_opts *o, __u64 ts_ns, struct strbuf *sb)
{
	time_t secs = (time_t)(((__s64)ts_ns + o->mono_to_real_ns) / 1000000000LL);
	struct tm tm;
	char hms[16];

	/* cannot fail for a time an __s64 of ns holds; if it did, an empty
	 * column rather than whatever hms held
	 */
	if (!localtime_r(&secs, &tm) || !strftime(hms, sizeof(hms), "%H:%M:%S", &tm))
		hms[0] = '\0';
	sb_column(sb, hms, W_CLOCK);
}

/* RESULT: the attempt's outcome; for a close, who closed first. One word
 * each (closed:remote, like error:ECONNRESET), so that awk's fields hold.
 */
static void result_column(const struct tcl_event *ev, struct strbuf *sb)
{
	size_t start = sb->len;
	char errbuf[16];

	if (ev->kind == TCL_KIND_CLOSE) {
		const char *closer = closer_name(ev->closer);

		sb_str(sb, "closed");
		if (closer) {
			sb_char(sb, ':');
			sb_str(sb, closer);
		}
	} else if (ev->kind == TCL_KIND_ACCEPT) {
		sb_str(sb, "accepted");
	} else {
		sb_str(sb, result_name(ev->result));
		if (ev->result == TCL_ERROR) {
			sb_char(sb, ':');
			sb_str(sb, errno_name(ev->err, errbuf, sizeof(errbuf)));
		}
	}
	sb_pad(sb, start, W_RESULT);
	sb_char(sb, ' ');
}

/* LAT(ms), then with -l DUR(ms) TX RX RTT(ms): "-" where they do not apply */
static void figures(const struct format_opts *o, const struct tcl_event *ev,
		    struct strbuf *sb)
{
	bool has_latency = ev->kind == TCL_KIND_CONNECT && ev->result != TCL_PENDING;
	bool closed = ev->kind == TCL_KIND_CLOSE;
	size_t start = sb->len;

	bool last = !has_trailing(o);

	if (has_latency)
		sb_milli(sb, ev->latency_ns / 1000);
	else
		sb_char(sb, '-');
	if (!o->lifecycle) {
		column_end(sb, start, W_MS, last);
		return;
	}
	sb_pad(sb, start, W_MS);
	sb_char(sb, ' ');
	if (!closed) {
		sb_column(sb, "-", W_MS);
		sb_column(sb, "-", W_BYTES);
		sb_column(sb, "-", W_BYTES);
		word_column(sb, "-", W_MS, last);
		return;
	}
	start = sb->len;
	sb_milli(sb, ev->duration_ns / 1000);
	sb_pad(sb, start, W_MS);
	sb_char(sb, ' ');
	sb_column_u64(sb, ev->bytes_sent, W_BYTES);
	sb_column_u64(sb, ev->bytes_received, W_BYTES);
	start = sb->len;
	sb_milli(sb, ev->srtt_us);
	column_end(sb, start, W_MS, last);
}

/* A name column: the name as one printable field (names.c's rules), cut
 * at max bytes; "-" when unknown
 */
static void name_column(struct strbuf *sb, const char *name, size_t max, size_t width,
			bool last)
{
	char buf[4 * TCL_NAME_MAX + 1];
	const char *s = name ? name_printable(name, max, buf, sizeof(buf)) : "-";

	if (last) {
		sb_str(sb, s);
		sb_char(sb, '\n');
	} else {
		text_column(sb, s, width);
	}
}

/* QUERY: the name asked, with the answer's age when it is not fresh */
static void query_column(const struct dns_match *m, struct strbuf *sb)
{
	char buf[4 * TCL_NAME_MAX + 1];

	if (!m || !m->name) {
		sb_str(sb, "-\n");
		return;
	}
	sb_str(sb, name_printable(m->name, TCL_NAME_MAX, buf, sizeof(buf)));
	if (m->scope != DNS_SCOPE_LOOPBACK && (m->expired || m->age_ns > QUERY_AGE_SHOWN_NS)) {
		sb_str(sb, " (");
		sb_milli(sb, m->age_ns / 1000000);
		sb_str(sb, m->expired ? "s, expired)" : "s)");
	}
	sb_char(sb, '\n');
}

static void trailing(const struct format_opts *o, const struct record_names *names,
		     struct strbuf *sb)
{
	if (o->container)
		name_column(sb, names ? names->container : NULL, TCL_CONTAINER_SHORT,
			    W_CONTAINER, !o->rdns && !o->dns);
	if (o->rdns)
		name_column(sb, names ? names->rdns : NULL, TCL_NAME_MAX, W_RDNS, !o->dns);
	if (o->dns)
		query_column(names ? names->dns : NULL, sb);
}

void format_text_event(const struct format_opts *o, const struct tcl_event *ev,
		       const struct record_names *names, struct strbuf *sb)
{
	char addr[TCL_ADDR_STRLEN];
	bool unknown = ev->flags & TCL_F_NO_PROCESS;

	if (o->timestamp) {
		__s64 since = (__s64)(ev->ts_ns - o->start_ns);
		size_t start = sb->len;

		sb_milli(sb, since > 0 ? (__u64)since / 1000000 : 0);
		sb_pad(sb, start, W_TIMESTAMP);
		sb_char(sb, ' ');
	}
	if (o->wallclock)
		wallclock(o, ev->ts_ns, sb);
	if (o->uid) {
		if (unknown)
			sb_column(sb, "-", W_UID);
		else
			sb_column_u64(sb, ev->uid, W_UID);
	}
	if (o->events)
		sb_column(sb, kind_name(ev->kind), W_EVENT);
	if (unknown) {
		sb_column(sb, "-", W_PID);
		sb_column(sb, "-", W_COMM);
	} else {
		char comm[COMM_PRINTABLE_SIZE];

		sb_column_u64(sb, ev->pid, W_PID);
		text_column(sb, comm_printable(ev->comm, comm, sizeof(comm)), W_COMM);
	}
	sb_column_u64(sb, ev->ip, W_IP);
	sb_column(sb, addr_to_str(ev->ip, &ev->saddr, addr), o->addr_width);
	if (o->lport)
		sb_column_u64(sb, ev->sport, W_PORT);
	sb_column(sb, addr_to_str(ev->ip, &ev->daddr, addr), o->addr_width);
	sb_column_u64(sb, ev->dport, W_PORT);
	result_column(ev, sb);
	figures(o, ev, sb);
	trailing(o, names, sb);
}
