// SPDX-License-Identifier: GPL-2.0-only
#include <time.h>
#include "addr.h"
#include "format.h"
#include "names.h"
#include "runinfo.h"

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

/* What every record has: kind, run, time, id, who, where. */
static void json_head(const struct format_opts *o, const struct tcl_event *ev,
		      struct strbuf *sb)
{
	sb_str(sb, "{\"event\":\"");
	sb_str(sb, kind_name(ev->kind));
	sb_char(sb, '"');
	json_run(sb);
	sb_str(sb, ",\"time\":\"");
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

/* a number, null when 0 (unknown) */
static void json_id(struct strbuf *sb, const char *key, __u64 v)
{
	sb_str(sb, key);
	if (v)
		sb_u64(sb, v);
	else
		sb_str(sb, "null");
}

/* a name of at most max bytes (cut there), null when unknown */
static void json_name(struct strbuf *sb, const char *key, const char *name, size_t max)
{
	sb_str(sb, key);
	if (name)
		json_string(sb, name, max);
	else
		sb_str(sb, "null");
}

/* Where the process runs: every record has these keys. */
static void json_process_names(const struct tcl_event *ev, const struct record_names *names,
			       struct strbuf *sb)
{
	json_id(sb, ",\"cgroup_id\":", ev->cgroup_id);
	json_name(sb, ",\"cgroup\":", names ? names->cgroup : NULL, TCL_PATH_MAX);
	json_name(sb, ",\"container\":", names ? names->container : NULL, TCL_CONTAINER_MAX);
	json_id(sb, ",\"netns\":", ev->netns);
	json_id(sb, ",\"mntns\":", ev->mntns);
}

static const char *const scope_names[] = {
	[DNS_SCOPE_PROCESS] = "process",
	[DNS_SCOPE_NETNS] = "netns",
	[DNS_SCOPE_HOST] = "host",
	[DNS_SCOPE_LOOPBACK] = "loopback",
};

/* -d: the DNS answer that named the destination, all null without one */
static void json_dns(const struct dns_match *m, struct strbuf *sb)
{
	if (!m || !m->name) {
		sb_str(sb, ",\"dns\":null,\"dns_chain\":null,\"dns_age_ms\":null,"
			   "\"dns_scope\":null,\"dns_expired\":null");
		return;
	}
	json_name(sb, ",\"dns\":", m->name, TCL_NAME_MAX);
	sb_str(sb, ",\"dns_chain\":[");
	for (unsigned int i = 0; i < m->chain_len && i < TCL_DNS_CHAIN_MAX; i++) {
		if (i)
			sb_char(sb, ',');
		json_string(sb, m->chain[i] ? m->chain[i] : "", TCL_NAME_MAX);
	}
	sb_str(sb, "],\"dns_age_ms\":");
	if (m->scope == DNS_SCOPE_LOOPBACK)
		sb_str(sb, "null");
	else
		sb_milli(sb, m->age_ns / 1000);
	sb_str(sb, ",\"dns_scope\":");
	json_name_or_null(sb, (unsigned int)m->scope < sizeof(scope_names) / sizeof(scope_names[0])
				      ? scope_names[m->scope] : NULL);
	sb_str(sb, m->expired ? ",\"dns_expired\":true" : ",\"dns_expired\":false");
}

void format_json_event(const struct format_opts *o, const struct tcl_event *ev,
		       const struct record_names *names, struct strbuf *sb)
{
	json_head(o, ev, sb);
	if (ev->kind == TCL_KIND_CONNECT)
		json_connect_tail(ev, sb);
	else if (ev->kind == TCL_KIND_CLOSE)
		json_close_tail(ev, sb);
	json_process_names(ev, names, sb);
	if (o->rdns)
		json_name(sb, ",\"rdns\":", names ? names->rdns : NULL, TCL_NAME_MAX);
	if (o->dns)
		json_dns(names ? names->dns : NULL, sb);
	sb_str(sb, "}\n");
}
