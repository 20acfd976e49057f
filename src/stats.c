// SPDX-License-Identifier: GPL-2.0-only
#include <stdlib.h>
#include <string.h>
#include "names.h"
#include "stats.h"

int stats_init(struct stats *s)
{
	memset(s, 0, sizeof(*s));
	return table_init(&s->by_comm, TCL_COMM_LEN, sizeof(struct comm_stats),
			  STATS_MAX_COMMS);
}

void stats_free(struct stats *s)
{
	table_free(&s->by_comm);
}

void stats_add(struct stats *s, const struct tcl_event *ev)
{
	char key[TCL_COMM_LEN] = {};
	struct comm_stats *c;

	memcpy(key, ev->comm, TCL_COMM_LEN - 1);	/* last byte stays NUL */
	c = table_upsert(&s->by_comm, key);
	if (!c)
		c = &s->other;
	c->attempts++;
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

static void print_row(FILE *out, const char *comm, const struct comm_stats *c)
{
	char name[COMM_PRINTABLE_SIZE];

	comm_printable(comm, name, sizeof(name));
	fprintf(out, "%-*s %8llu %8llu %8llu %8llu", text_pad(name, 16), name,
		(unsigned long long)c->attempts, (unsigned long long)c->established,
		(unsigned long long)c->failed, (unsigned long long)c->pending);
	hist_print_ms(out, &c->latency_ns);
	fputc('\n', out);
}

void stats_print(const struct stats *s, const struct connstats *conns,
		 const struct loss_report *loss, FILE *out)
{
	size_t n;
	struct table_entry *rows = table_sorted(&s->by_comm, by_attempts_desc, &n);

	if (!rows)
		return;

	fprintf(out, "\n%-16s %8s %8s %8s %8s %10s %10s %10s\n", "COMM", "ATTEMPTS",
		"ESTAB", "FAILED", "PENDING", "AVG(ms)", "P50(ms)", "P99(ms)");
	for (size_t i = 0; i < n; i++)
		print_row(out, rows[i].key, rows[i].val);
	if (s->other.attempts)
		print_row(out, "[other]", &s->other);
	free(rows);

	fprintf(out, "\nLatency of established connects:\n");
	log2_print(out, s->latency_log2_us, "usecs");
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
