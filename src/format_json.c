// SPDX-License-Identifier: GPL-2.0-only
#include <time.h>
#include "addr.h"
#include "format.h"
#include "names.h"

void json_string(struct strbuf *sb, const char *str, size_t n)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)str;
	size_t i = 0;

	sb_char(sb, '"');
	while (i < n && s[i]) {
		unsigned int cp;
		size_t seq, run = i;

		/* the common case first: a run of printable ASCII, as it is */
		while (run < n && s[run] >= 0x20 && s[run] < 0x7f && s[run] != '"' &&
		       s[run] != '\\')
			run++;
		if (run > i) {
			sb_mem(sb, (const char *)s + i, run - i);
			i = run;
			continue;
		}
		seq = utf8_decode(s + i, n - i, &cp);

		if (seq && (cp == '"' || cp == '\\')) {
			sb_char(sb, '\\');
			sb_char(sb, (char)cp);
		} else if (seq && !cp_is_control(cp)) {
			sb_mem(sb, (const char *)s + i, seq);
		} else {
			/* a control as its code point (all are below U+10000);
			 * an invalid byte as U+00XX, the byte's value
			 */
			unsigned int v = seq ? cp : s[i];
			char esc[6] = { '\\', 'u', hex[v >> 12], hex[v >> 8 & 15], hex[v >> 4 & 15],
					hex[v & 15] };

			sb_mem(sb, esc, sizeof(esc));
		}
		i += seq ? seq : 1;
	}
	sb_char(sb, '"');
}

void rfc3339_utc(struct strbuf *sb, __s64 real_ns)
{
	/* gmtime_r once per second of output, not once per record */
	static __thread time_t cached_sec = -1;
	static __thread char cached[20];
	time_t sec = real_ns / 1000000000LL;
	unsigned long usec = (real_ns % 1000000000LL) / 1000;
	char frac[8];

	if (sec != cached_sec) {
		struct tm tm;

		/* an __s64 of ns spans the years 1677-2262, which fit; were
		 * one not to, strftime would leave cached undefined
		 */
		if (!gmtime_r(&sec, &tm) ||
		    !strftime(cached, sizeof(cached), "%Y-%m-%dT%H:%M:%S", &tm))
			cached[0] = '\0';
		cached_sec = sec;
	}
	sb_str(sb, cached);
	frac[0] = '.';
	for (int i = 6; i >= 1; i--, usec /= 10)
		frac[i] = (char)('0' + usec % 10);
	frac[7] = 'Z';
	sb_mem(sb, frac, sizeof(frac));
}

void json_tuple(struct strbuf *sb, __u8 ip, const union tcl_addr *saddr, __u16 sport,
		const union tcl_addr *daddr, __u16 dport)
{
	char addr[TCL_ADDR_STRLEN];

	sb_str(sb, ",\"ip\":");
	sb_u64(sb, ip);
	sb_str(sb, ",\"saddr\":\"");
	sb_str(sb, addr_to_str(ip, saddr, addr));
	sb_str(sb, "\",\"sport\":");
	sb_u64(sb, sport);
	sb_str(sb, ",\"daddr\":\"");
	sb_str(sb, addr_to_str(ip, daddr, addr));
	sb_str(sb, "\",\"dport\":");
	sb_u64(sb, dport);
}

/* A quoted name (no escaping needed), or null. */
static void json_name_or_null(struct strbuf *sb, const char *name)
{
	if (!name) {
		sb_str(sb, "null");
		return;
	}
	sb_char(sb, '"');
	sb_str(sb, name);
	sb_char(sb, '"');
}

/* What every record has: kind, time, id, who, where. */
static void json_head(const struct format_opts *o, const struct tcl_event *ev,
		      struct strbuf *sb)
{
	sb_str(sb, "{\"event\":\"");
	sb_str(sb, kind_name(ev->kind));
	sb_str(sb, "\",\"time\":\"");
	rfc3339_utc(sb, (__s64)ev->ts_ns + o->mono_to_real_ns);
	sb_str(sb, "\",\"id\":");
	sb_u64(sb, ev->conn_id);
	if (ev->flags & TCL_F_NO_PROCESS) {
		sb_str(sb, ",\"pid\":null,\"tid\":null,\"uid\":null,\"comm\":null");
	} else {
		sb_str(sb, ",\"pid\":");
		sb_u64(sb, ev->pid);
		sb_str(sb, ",\"tid\":");
		sb_u64(sb, ev->tid);
		sb_str(sb, ",\"uid\":");
		sb_u64(sb, ev->uid);
		sb_str(sb, ",\"comm\":");
		json_string(sb, ev->comm, TCL_COMM_LEN);
	}
	json_tuple(sb, ev->ip, &ev->saddr, ev->sport, &ev->daddr, ev->dport);
}

static void json_connect_tail(const struct tcl_event *ev, struct strbuf *sb)
{
	char errbuf[16];

	sb_str(sb, ",\"result\":\"");
	sb_str(sb, result_name(ev->result));
	sb_str(sb, "\",\"errno\":");
	json_name_or_null(sb, ev->err ? errno_name(ev->err, errbuf, sizeof(errbuf)) : NULL);
	sb_str(sb, ",\"latency_us\":");
	if (ev->result == TCL_PENDING)
		sb_str(sb, "null");
	else
		sb_milli(sb, ev->latency_ns);
	sb_str(sb, ",\"call_us\":");
	if (ev->flags & TCL_F_CALL_MEASURED)
		sb_milli(sb, ev->call_ns);
	else
		sb_str(sb, "null");
}

static void json_close_tail(const struct tcl_event *ev, struct strbuf *sb)
{
	sb_str(sb, ",\"direction\":\"");
	sb_str(sb, ev->flags & TCL_F_INBOUND ? "in" : "out");
	sb_str(sb, "\",\"duration_ms\":");
	sb_milli(sb, ev->duration_ns / 1000);
	sb_str(sb, ",\"bytes_sent\":");
	sb_u64(sb, ev->bytes_sent);
	sb_str(sb, ",\"bytes_received\":");
	sb_u64(sb, ev->bytes_received);
	sb_str(sb, ",\"segs_out\":");
	sb_u64(sb, ev->segs_out);
	sb_str(sb, ",\"segs_in\":");
	sb_u64(sb, ev->segs_in);
	sb_str(sb, ",\"srtt_us\":");
	sb_u64(sb, ev->srtt_us);
	sb_str(sb, ",\"min_rtt_us\":");
	if (ev->min_rtt_us)
		sb_u64(sb, ev->min_rtt_us);
	else
		sb_str(sb, "null");
	sb_str(sb, ",\"retransmits\":");
	sb_u64(sb, ev->retransmits);
	sb_str(sb, ",\"closed_by\":");
	json_name_or_null(sb, closer_name(ev->closer));
}

void format_json_event(const struct format_opts *o, const struct tcl_event *ev,
		       struct strbuf *sb)
{
	json_head(o, ev, sb);
	if (ev->kind == TCL_KIND_CONNECT)
		json_connect_tail(ev, sb);
	else if (ev->kind == TCL_KIND_CLOSE)
		json_close_tail(ev, sb);
	sb_str(sb, "}\n");
}
