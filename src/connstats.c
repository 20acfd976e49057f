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

struct row {
	const char *comm;
	const struct conn_totals *t;
};

static __u64 bytes_of(const struct conn_totals *t)
{
	return t->bytes_sent + t->bytes_received;
}

static int by_bytes_desc(const void *a, const void *b)
{
	const struct row *x = a, *y = b;

	if (bytes_of(x->t) != bytes_of(y->t))
		return bytes_of(x->t) < bytes_of(y->t) ? 1 : -1;
	return strcmp(x->comm, y->comm);
}

static void print_row(FILE *out, const char *comm, const struct conn_totals *t)
{
	char name[TCL_COMM_LEN + 1];

	fprintf(out, "%-16s %8llu %14llu %14llu", *comm ? comm_printable(comm, name, sizeof(name))
							: "[unknown]",
		(unsigned long long)t->closed, (unsigned long long)t->bytes_sent,
		(unsigned long long)t->bytes_received);
	hist_print_ms(out, &t->duration_ns);
	fputc('\n', out);
}

void connstats_print(const struct connstats *c, FILE *out)
{
	size_t n = 0;
	struct row *rows = calloc(c->by_comm.len + 1, sizeof(*rows));

	if (!rows)
		return;
	for (size_t i = 0; i < c->by_comm.cap; i++) {
		const char *comm = table_key_at(&c->by_comm, i);

		if (comm)
			rows[n++] = (struct row){ comm, table_val_at(&c->by_comm, i) };
	}
	qsort(rows, n, sizeof(*rows), by_bytes_desc);

	fprintf(out, "\nClosed connections, data bytes and time from established to closed:\n");
	fprintf(out, "%-16s %8s %14s %14s %10s %10s %10s\n", "COMM", "CLOSED", "TX", "RX",
		"AVG(ms)", "P50(ms)", "P99(ms)");
	for (size_t i = 0; i < n; i++)
		print_row(out, rows[i].comm, rows[i].t);
	if (c->other.closed)
		print_row(out, "[other]", &c->other);
	free(rows);
	fprintf(out, "Still open at exit: %llu\n", (unsigned long long)c->open_at_exit);

	fprintf(out, "\nSmoothed RTT of closed connections:\n");
	log2_print(out, c->srtt_log2_us, "usecs");
}
