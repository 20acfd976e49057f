// SPDX-License-Identifier: GPL-2.0-only
#include <stdlib.h>
#include <string.h>
#include "addr.h"
#include "counts.h"
#include "format.h"
#include "names.h"
#include "runinfo.h"

struct dest_key {
	union tcl_addr saddr;
	union tcl_addr daddr;
	__u16 dport;
	__u8 ip;
	char container[66];	/* --by container; "" when none */
	__u8 pad;
};

struct dest_count {
	__u64 connects;
	__u64 failed;
};

int counts_init(struct counts *c)
{
	c->overflowed = 0;
	c->by_container = false;
	return table_init(&c->by_dest, sizeof(struct dest_key),
			  sizeof(struct dest_count), COUNTS_MAX_KEYS);
}

void counts_free(struct counts *c)
{
	table_free(&c->by_dest);
}

void counts_add(struct counts *c, const struct tcl_event *ev, const char *container)
{
	struct dest_key k;
	struct dest_count *v;

	memset(&k, 0, sizeof(k));
	k.saddr = ev->saddr;
	k.daddr = ev->daddr;
	k.dport = ev->dport;
	k.ip = ev->ip;
	if (c->by_container && container)
		strncpy(k.container, container, sizeof(k.container) - 1);
	v = table_upsert(&c->by_dest, &k);
	if (!v) {
		c->overflowed++;
		return;
	}
	v->connects++;
	if (ev->result != TCL_ESTABLISHED && ev->result != TCL_PENDING)
		v->failed++;
}

static int by_connects_desc(const void *a, const void *b)
{
	const struct table_entry *x = a, *y = b;
	const struct dest_count *cx = x->val, *cy = y->val;

	if (cx->connects != cy->connects)
		return cx->connects < cy->connects ? 1 : -1;
	return memcmp(x->key, y->key, sizeof(struct dest_key));
}

void counts_print(const struct counts *c, bool json, int addr_width, FILE *out)
{
	size_t n;
	struct table_entry *rows = table_sorted(&c->by_dest, by_connects_desc, &n);

	if (!rows)
		return;
	if (!json && c->by_container)
		fprintf(out, "%-12s ", "CONTAINER");
	if (!json)
		fprintf(out, "%-2s %-*s %-*s %-5s %10s %10s\n", "IP", addr_width, "SADDR",
			addr_width, "DADDR", "DPORT", "CONNECTS", "FAILED");
	for (size_t i = 0; i < n; i++) {
		char sa[TCL_ADDR_STRLEN], da[TCL_ADDR_STRLEN];
		const struct dest_key *k = rows[i].key;
		const struct dest_count *v = rows[i].val;
		/* the id as it came: runtimes' ids are hex, anything else
		 * escaped (names.c's rules), "-" when none
		 */
		char id[4 * sizeof(k->container) + 1];

		addr_to_str(k->ip, &k->saddr, sa);
		addr_to_str(k->ip, &k->daddr, da);
		if (c->by_container && json) {
			struct strbuf sb;

			sb_init(&sb, id, sizeof(id) - 1);
			if (k->container[0])
				json_string(&sb, k->container, sizeof(k->container));
			else
				sb_str(&sb, "null");
			id[sb.len] = '\0';
			fprintf(out, "{\"event\":\"count\",\"run\":\"%s\",\"container\":%s,"
				"\"ip\":%u,\"saddr\":\"%s\",\"daddr\":\"%s\",\"dport\":%u,"
				"\"connects\":%llu,\"failed\":%llu}\n", runinfo_run_id(), id, k->ip,
				sa, da, k->dport,
				(unsigned long long)v->connects, (unsigned long long)v->failed);
			continue;
		}
		if (c->by_container)
			fprintf(out, "%-12s ", name_printable(k->container, 12, id, sizeof(id)));
		if (json)
			fprintf(out, "{\"event\":\"count\",\"run\":\"%s\",\"ip\":%u,\"saddr\":\"%s\","
				"\"daddr\":\"%s\",\"dport\":%u,\"connects\":%llu,\"failed\":%llu}\n",
				runinfo_run_id(), k->ip, sa, da, k->dport,
				(unsigned long long)v->connects,
				(unsigned long long)v->failed);
		else
			fprintf(out, "%-2u %-*s %-*s %-5u %10llu %10llu\n", k->ip,
				addr_width, sa, addr_width, da, k->dport,
				(unsigned long long)v->connects,
				(unsigned long long)v->failed);
	}
	if (c->overflowed)
		fprintf(stderr, "tcpconnlog: %llu attempts not counted: more than %d distinct destinations\n",
			(unsigned long long)c->overflowed, COUNTS_MAX_KEYS);
	free(rows);
}
