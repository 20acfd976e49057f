// SPDX-License-Identifier: GPL-2.0-only
#include <stdio.h>
#include <string.h>
#include <bpf/bpf.h>
#include "format.h"
#include "livestats.h"
#include "names.h"
#include "parse.h"
#include "runinfo.h"

/* the results an attempt ends with while running (pending only at exit) */
static const unsigned int shown_results[] = {
	TCL_ESTABLISHED, TCL_REFUSED, TCL_TIMEOUT, TCL_UNREACHABLE, TCL_CLOSED, TCL_ERROR,
};
#define N_SHOWN (sizeof(shown_results) / sizeof(shown_results[0]))

__u64 livestats_attempts(const struct livestats *ls)
{
	__u64 n = 0;

	for (unsigned int r = 0; r < TCL_RESULT_MAX; r++)
		n += ls->by_result[r];
	return n;
}

/* One counter: "key":v (JSON) or key=v (text), sep before it */
static void count(struct strbuf *sb, bool json, const char *sep, const char *key, __u64 v)
{
	sb_str(sb, sep);
	if (json)
		sb_char(sb, '"');
	sb_str(sb, key);
	sb_str(sb, json ? "\":" : "=");
	sb_u64(sb, v);
}

static void losses(const struct livestats *ls, struct strbuf *sb, bool json)
{
	const char *sep = json ? "," : " ";
	const struct loss_report *l = &ls->loss;

	count(sb, json, sep, "lost", l->lost);
	count(sb, json, sep, "skipped", l->skipped);
	count(sb, json, sep, "untracked", l->untracked);
	count(sb, json, sep, "untracked_connections", l->untracked_conns);
	count(sb, json, sep, "map_full", l->map_full);
	if (ls->resolve)
		count(sb, json, sep, "rdns_timeouts", l->rdns_timeouts);
	if (ls->dns) {
		count(sb, json, sep, "dns_dropped", l->dns_dropped);
		count(sb, json, sep, "dns_malformed", l->dns_malformed);
		count(sb, json, sep, "dns_evicted", l->dns_evicted);
	}
}

/* run time per attempt in ns, three decimals; null when not known */
static void per_connect(const struct livestats *ls, struct strbuf *sb)
{
	__u64 n = livestats_attempts(ls);

	if (!ls->bpf_known || !n)
		sb_str(sb, "null");
	else
		sb_milli(sb, ls->bpf_run_time_ns * 1000 / n);
}

static void u64_or_null(struct strbuf *sb, bool known, __u64 v)
{
	if (known)
		sb_u64(sb, v);
	else
		sb_str(sb, "null");
}

void livestats_json(const struct livestats *ls, struct strbuf *sb)
{
	sb_str(sb, "{\"event\":\"stats\"");
	json_run(sb);
	sb_str(sb, ",\"time\":\"");
	rfc3339_utc(sb, ls->real_ns);
	sb_str(sb, "\"");
	count(sb, true, ",", "interval_s", ls->interval_s);
	sb_str(sb, ",\"attempts\":{");
	for (size_t i = 0; i < N_SHOWN; i++)
		count(sb, true, i ? "," : "", result_name(shown_results[i]),
		      ls->by_result[shown_results[i]]);
	sb_str(sb, "}");
	losses(ls, sb, true);
	sb_str(sb, ",\"table\":{");
	count(sb, true, "", "inflight", ls->inflight);
	count(sb, true, ",", "inflight_max", ls->inflight_max);
	if (ls->conns_shown) {
		count(sb, true, ",", "connections", ls->conns);
		count(sb, true, ",", "connections_max", ls->conns_max);
	}
	sb_str(sb, "},\"bpf_run_time_ns\":");
	u64_or_null(sb, ls->bpf_known, ls->bpf_run_time_ns);
	sb_str(sb, ",\"bpf_run_count\":");
	u64_or_null(sb, ls->bpf_known, ls->bpf_run_cnt);
	sb_str(sb, ",\"bpf_ns_per_connect\":");
	per_connect(ls, sb);
	sb_str(sb, "}\n");
}

void livestats_text(const struct livestats *ls, struct strbuf *sb)
{
	sb_str(sb, "tcpconnlog: stats:");
	for (size_t i = 0; i < N_SHOWN; i++)
		count(sb, false, " ", result_name(shown_results[i]),
		      ls->by_result[shown_results[i]]);
	losses(ls, sb, false);
	sb_str(sb, " inflight=");
	sb_u64(sb, ls->inflight);
	sb_char(sb, '/');
	sb_u64(sb, ls->inflight_max);
	if (ls->conns_shown) {
		sb_str(sb, " connections=");
		sb_u64(sb, ls->conns);
		sb_char(sb, '/');
		sb_u64(sb, ls->conns_max);
	}
	sb_str(sb, " bpf_ns_per_connect=");
	per_connect(ls, sb);
	sb_char(sb, '\n');
}

int livestats_bpf_stats_enabled(const char *path)
{
	FILE *f = fopen(path, "re");
	char line[32] = "";
	unsigned long long v;
	bool read;

	if (!f)
		return -1;
	read = fgets(line, sizeof(line), f) != NULL;
	(void)fclose(f);
	line[strcspn(line, "\n")] = 0;
	if (!read || parse_u64(line, 0, 1, &v))
		return -1;
	return (int)v;
}

int livestats_bpf_time(const int *fds, int n, __u64 *run_time_ns, __u64 *run_cnt)
{
	*run_time_ns = *run_cnt = 0;
	for (int i = 0; i < n; i++) {
		struct bpf_prog_info info = {};
		__u32 len = sizeof(info);

		if (fds[i] < 0)
			continue;
		if (bpf_obj_get_info_by_fd(fds[i], &info, &len))
			return -1;
		*run_time_ns += info.run_time_ns;
		*run_cnt += info.run_cnt;
	}
	return 0;
}
