// SPDX-License-Identifier: GPL-2.0-only
#include <stdlib.h>
#include <string.h>
#include "names.h"
#include "stats.h"

/* shown of a container's id, as docker ps does */
#define SHORT_ID 12
/* groups named on a failure's line; the rest are counted */
#define FAILURE_GROUPS_SHOWN 4

struct failure_key {
	__u32 result;
	__s32 err;		/* for TCL_ERROR; 0 otherwise */
	char group[STATS_GROUP_LEN];
};

int stats_init(struct stats *s)
{
	memset(s, 0, sizeof(*s));
	if (table_init(&s->by_comm, STATS_GROUP_LEN, sizeof(struct comm_stats),
		       STATS_MAX_COMMS))
		return -1;
	if (table_init(&s->failures, sizeof(struct failure_key), sizeof(__u64),
		       STATS_MAX_FAILURES)) {
		table_free(&s->by_comm);
		return -1;
	}
	return 0;
}

void stats_free(struct stats *s)
{
	table_free(&s->by_comm);
	table_free(&s->failures);
}

/* The group of a record: its command, or its container's id ("" for none) */
static void group_of(const struct stats *s, const struct tcl_event *ev, const char *container,
		     char group[STATS_GROUP_LEN])
{
	memset(group, 0, STATS_GROUP_LEN);
	if (!s->by_container)
		memcpy(group, ev->comm, TCL_COMM_LEN - 1);	/* a NUL stays after */
	else if (container)
		strncpy(group, container, STATS_GROUP_LEN - 1);
}

static void add_failure(struct stats *s, const struct tcl_event *ev, const char *group)
{
	struct failure_key k;
	__u64 *n;

	memset(&k, 0, sizeof(k));
	k.result = ev->result;
	k.err = ev->result == TCL_ERROR ? ev->err : 0;
	memcpy(k.group, group, STATS_GROUP_LEN);
	n = table_upsert(&s->failures, &k);
	if (n)
		(*n)++;
	else
		s->failures_other++;
}

void stats_add(struct stats *s, const struct tcl_event *ev, const char *container)
{
	char key[STATS_GROUP_LEN];
	struct comm_stats *c;

	group_of(s, ev, container, key);
	c = table_upsert(&s->by_comm, key);
	if (!c)
		c = &s->other;
	c->attempts++;
	if (ev->result < TCL_RESULT_MAX)
		s->by_result[ev->result]++;
	switch (ev->result) {
	case TCL_ESTABLISHED:
		c->established++;
		hist_add(&c->latency_ns, ev->latency_ns);
		s->latency_log2_us[log2_slot(ev->latency_ns / 1000)]++;
		break;
	case TCL_PENDING:
		c->pending++;
		break;
	default:
		c->failed++;
		/* a group without a row of its own is not named here either */
		if (c == &s->other) {
			memset(key, 0, sizeof(key));
			memcpy(key, "[other]", sizeof("[other]"));
		}
		add_failure(s, ev, key);
	}
}

static int by_attempts_desc(const void *a, const void *b)
{
	const struct table_entry *x = a, *y = b;
	const struct comm_stats *cx = x->val, *cy = y->val;

	if (cx->attempts != cy->attempts)
		return cx->attempts < cy->attempts ? 1 : -1;
	return strcmp(x->key, y->key);
}

/* A group's name as printed: a command's escapes, a container's short id,
 * "-" for no container
 */
static const char *group_name(const struct stats *s, const char *group, char *buf, size_t len)
{
	if (!s->by_container || !strcmp(group, "[other]"))
		return comm_printable(group, buf, len);
	return name_printable(group, SHORT_ID, buf, len);
}

static void print_row(FILE *out, const struct stats *s, const char *group,
		      const struct comm_stats *c)
{
	char name[4 * STATS_GROUP_LEN + 1];

	group_name(s, group, name, sizeof(name));
	fprintf(out, "%-*s %8llu %8llu %8llu %8llu", text_pad(name, 16), name,
		(unsigned long long)c->attempts, (unsigned long long)c->established,
		(unsigned long long)c->failed, (unsigned long long)c->pending);
	hist_print_ms(out, &c->latency_ns);
	fputc('\n', out);
}

/* failures of one kind together, most first within it, then by group */
static int by_kind_then_count(const void *a, const void *b)
{
	const struct table_entry *x = a, *y = b;
	const struct failure_key *kx = x->key, *ky = y->key;
	__u64 nx = *(const __u64 *)x->val, ny = *(const __u64 *)y->val;

	if (kx->result != ky->result)
		return kx->result < ky->result ? -1 : 1;
	if (kx->err != ky->err)
		return kx->err < ky->err ? -1 : 1;
	if (nx != ny)
		return nx < ny ? 1 : -1;
	return strcmp(kx->group, ky->group);
}

struct failure_kind {
	size_t first, n;	/* rows of it */
	__u64 total;
};

static int by_total_desc(const void *a, const void *b)
{
	const struct failure_kind *x = a, *y = b;

	if (x->total != y->total)
		return x->total < y->total ? 1 : -1;
	return x->first < y->first ? -1 : 1;
}

static void print_kind(FILE *out, const struct stats *s, const struct table_entry *rows,
		       const struct failure_kind *k)
{
	const struct failure_key *key = rows[k->first].key;
	char label[48], errbuf[16], name[4 * STATS_GROUP_LEN + 1];

	snprintf(label, sizeof(label), "%s%s%s", result_name(key->result),
		 key->result == TCL_ERROR ? ":" : "",
		 key->result == TCL_ERROR ? errno_name(key->err, errbuf, sizeof(errbuf)) : "");
	fprintf(out, "%-21s %8llu  ", label, (unsigned long long)k->total);
	for (size_t i = 0; i < k->n && i < FAILURE_GROUPS_SHOWN; i++) {
		const struct failure_key *g = rows[k->first + i].key;

		fprintf(out, "%s%s %llu", i ? ", " : "", group_name(s, g->group, name, sizeof(name)),
			(unsigned long long)*(const __u64 *)rows[k->first + i].val);
	}
	if (k->n > FAILURE_GROUPS_SHOWN)
		fprintf(out, ", %zu more", k->n - FAILURE_GROUPS_SHOWN);
	fputc('\n', out);
}

/* Which failures, how often, and whose: one line per result (and errno) */
static void print_failures(const struct stats *s, FILE *out)
{
	struct failure_kind *kinds;
	struct table_entry *rows;
	size_t n, nk = 0;

	if (!s->failures.len && !s->failures_other)
		return;
	rows = table_sorted(&s->failures, by_kind_then_count, &n);
	kinds = calloc(n ? n : 1, sizeof(*kinds));
	if (!rows || !kinds) {
		free(rows);
		free(kinds);
		return;
	}
	for (size_t i = 0; i < n; i++) {
		const struct failure_key *k = rows[i].key, *prev = i ? rows[i - 1].key : NULL;

		if (!prev || k->result != prev->result || k->err != prev->err)
			kinds[nk++].first = i;
		kinds[nk - 1].n++;
		kinds[nk - 1].total += *(const __u64 *)rows[i].val;
	}
	qsort(kinds, nk, sizeof(*kinds), by_total_desc);
	fprintf(out, "\nFailures by result:\n%-21s %8s  %s\n", "RESULT", "COUNT",
		s->by_container ? "CONTAINERS" : "COMMANDS");
	for (size_t i = 0; i < nk; i++)
		print_kind(out, s, rows, &kinds[i]);
	if (s->failures_other)
		fprintf(out, "%-21s %8llu\n", "[other]", (unsigned long long)s->failures_other);
	free(rows);
	free(kinds);
}

void stats_print(const struct stats *s, const struct connstats *conns,
		 const struct loss_report *loss, FILE *out)
{
	size_t n;
	struct table_entry *rows = table_sorted(&s->by_comm, by_attempts_desc, &n);

	if (!rows)
		return;

	fprintf(out, "\n%-16s %8s %8s %8s %8s %10s %10s %10s\n",
		s->by_container ? "CONTAINER" : "COMM", "ATTEMPTS",
		"ESTAB", "FAILED", "PENDING", "AVG(ms)", "P50(ms)", "P99(ms)");
	for (size_t i = 0; i < n; i++)
		print_row(out, s, rows[i].key, rows[i].val);
	if (s->other.attempts)
		print_row(out, s, "[other]", &s->other);
	free(rows);

	fprintf(out, "\nLatency of established connects:\n");
	log2_print(out, s->latency_log2_us, "usecs");
	print_failures(s, out);
	if (conns)
		connstats_print(conns, out);
	fprintf(out, "\nLost events: %llu\n", (unsigned long long)loss->lost);
	if (loss->untracked)
		fprintf(out, "Attempts untracked (dropped from the full in-flight table, "
			"or their end not seen): %llu\n",
			(unsigned long long)loss->untracked);
	if (loss->untracked_conns)
		fprintf(out, "Connections dropped from the full table, no close record: %llu\n",
			(unsigned long long)loss->untracked_conns);
	if (loss->skipped)
		fprintf(out, "Probe runs skipped by the kernel: %llu\n",
			(unsigned long long)loss->skipped);
	if (loss->map_full)
		fprintf(out, "Kernel table updates that failed: %llu\n",
			(unsigned long long)loss->map_full);
	if (loss->rdns_timeouts)
		fprintf(out, "Records printed without a name, its reverse lookup not done in "
			"time: %llu\n", (unsigned long long)loss->rdns_timeouts);
	if (loss->dns_dropped)
		fprintf(out, "DNS answers not captured (ring buffer full, too big, "
			"TCP stream broken): %llu\n", (unsigned long long)loss->dns_dropped);
	if (loss->dns_malformed)
		fprintf(out, "DNS messages malformed: %llu\n",
			(unsigned long long)loss->dns_malformed);
	if (loss->dns_evicted)
		fprintf(out, "DNS answer addresses evicted from the full table "
			"(a larger --dns-table helps): %llu\n",
			(unsigned long long)loss->dns_evicted);
}
