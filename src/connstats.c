// SPDX-License-Identifier: GPL-2.0-only
#include <stdlib.h>
#include <string.h>
#include "connstats.h"
#include "names.h"

int connstats_init(struct connstats *c)
{
	memset(c, 0, sizeof(*c));
	return table_init(&c->by_comm, TCL_COMM_LEN, sizeof(struct conn_totals),
			  CONNSTATS_MAX_COMMS);
}

void connstats_free(struct connstats *c)
{
	table_free(&c->by_comm);
}

void connstats_add(struct connstats *c, const struct tcl_event *close)
{
	char key[TCL_COMM_LEN] = {};
	struct conn_totals *t;

	if (!(close->flags & TCL_F_NO_PROCESS))
		memcpy(key, close->comm, TCL_COMM_LEN - 1);	/* last byte stays NUL */
	t = table_upsert(&c->by_comm, key);
	if (!t)
		t = &c->other;
	t->closed++;
	t->bytes_sent += close->bytes_sent;
	t->bytes_received += close->bytes_received;
	hist_add(&t->duration_ns, close->duration_ns);
	if (close->srtt_us)
		c->srtt_log2_us[log2_slot(close->srtt_us)]++;
}

static __u64 bytes_of(const struct conn_totals *t)
{
	return t->bytes_sent + t->bytes_received;
}

static int by_bytes_desc(const void *a, const void *b)
{
	const struct table_entry *x = a, *y = b;

	if (bytes_of(x->val) != bytes_of(y->val))
		return bytes_of(x->val) < bytes_of(y->val) ? 1 : -1;
	return strcmp(x->key, y->key);
}

static void print_row(FILE *out, const char *comm, const struct conn_totals *t)
{
	char name[COMM_PRINTABLE_SIZE];

	if (*comm)
		comm_printable(comm, name, sizeof(name));
	else
		strcpy(name, "[unknown]");
	fprintf(out, "%-*s %8llu %14llu %14llu", text_pad(name, 16), name,
		(unsigned long long)t->closed, (unsigned long long)t->bytes_sent,
		(unsigned long long)t->bytes_received);
	hist_print_ms(out, &t->duration_ns);
	fputc('\n', out);
}

void connstats_print(const struct connstats *c, FILE *out)
{
	size_t n;
	struct table_entry *rows = table_sorted(&c->by_comm, by_bytes_desc, &n);

	if (!rows)
		return;

	fprintf(out, "\nClosed connections, data bytes and time from established to closed:\n");
	fprintf(out, "%-16s %8s %14s %14s %10s %10s %10s\n", "COMM", "CLOSED", "TX", "RX",
		"AVG(ms)", "P50(ms)", "P99(ms)");
	for (size_t i = 0; i < n; i++)
		print_row(out, rows[i].key, rows[i].val);
	if (c->other.closed)
		print_row(out, "[other]", &c->other);
	free(rows);
	fprintf(out, "Still open at exit: %llu\n", (unsigned long long)c->open_at_exit);

	fprintf(out, "\nSmoothed RTT of closed connections:\n");
	log2_print(out, c->srtt_log2_us, "usecs");
}
