// SPDX-License-Identifier: GPL-2.0-only
/* Each answered address is kept three times, under three keys: with the
 * process and netns that received it, with the netns only and alone.
 * Each key holds the most recent answer for it, so a match is three hash
 * lookups at most. All keys share one LRU bound (max_entries); an answer's
 * names are shared by its entries and freed with the last of them.
 */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include "addr.h"
#include "dns_table.h"
#include "lru.h"
#include "table.h"

/* One answer's names, one reference per entry: the question's, then the chain's, each ending in a NUL */
struct dns_names {
	unsigned int refs;
	unsigned int chain_len;
	const char *chain[TCL_DNS_CHAIN_MAX];
	char name[];
};

/* Padding is explicit and zeroed: the hash table compares keys as bytes */
struct dns_key {
	__u8 scope;		/* enum dns_scope: PROCESS, NETNS or HOST */
	__u8 ip;
	__u8 pad[2];
	__u32 tgid;		/* 0 unless scope PROCESS */
	__u32 netns;		/* 0 when scope HOST */
	__u8 addr[16];
};

struct dns_entry {
	struct dns_key key;
	struct dns_names *names;
	__u64 at_ns;		/* when the answer arrived */
	__u32 ttl;
};

struct dns_table {
	struct lru lru;		/* of struct dns_entry */
	struct table index;	/* struct dns_key -> __u32 index in lru */
	struct dns_table_stats stats;
};

static struct dns_names *names_new(const struct dns_answer *a)
{
	size_t size = strlen(a->name) + 1;
	unsigned int n = a->chain_len;
	struct dns_names *d;
	char *p;

	if (n > TCL_DNS_CHAIN_MAX)
		n = TCL_DNS_CHAIN_MAX;

	for (unsigned int i = 0; i < n; i++)
		size += strlen(a->chain[i]) + 1;
	d = malloc(sizeof(*d) + size);
	if (!d)
		return NULL;
	d->refs = 1;	/* dns_table_add's, while entries take theirs */
	d->chain_len = n;
	p = stpcpy(d->name, a->name) + 1;
	for (unsigned int i = 0; i < n; i++) {
		d->chain[i] = p;
		p = stpcpy(p, a->chain[i]) + 1;
	}
	return d;
}

static void names_put(struct dns_names *d)
{
	if (!d)
		return;
	d->refs--;
	if (d->refs == 0)
		free(d);
}

struct dns_table *dns_table_new(size_t max_entries)
{
	struct dns_table *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	if (lru_init(&t->lru, sizeof(struct dns_entry), max_entries) ||
	    table_init(&t->index, sizeof(struct dns_key), sizeof(__u32), SIZE_MAX)) {
		dns_table_free(t);
		return NULL;
	}
	return t;
}

void dns_table_free(struct dns_table *t)
{
	if (!t)
		return;
	for (__u32 i = lru_oldest(&t->lru); i != LRU_NONE; i = lru_oldest(&t->lru)) {
		names_put(((struct dns_entry *)lru_elem(&t->lru, i))->names);
		lru_remove(&t->lru, i);
	}
	lru_free(&t->lru);
	table_free(&t->index);
	free(t);
}

/* lru_take's callback: entry i goes, to make room */
static void evict(void *ctx, __u32 i)
{
	struct dns_table *t = ctx;
	struct dns_entry *e = lru_elem(&t->lru, i);

	table_remove(&t->index, &e->key);
	names_put(e->names);
	t->stats.evicted++;
}

static void put(struct dns_table *t, const struct dns_key *key, struct dns_names *names,
		__u64 now_ns, __u32 ttl)
{
	__u32 *slot = table_find(&t->index, key);
	struct dns_entry *e;
	bool evicted;
	__u32 i;

	if (slot) {
		e = lru_elem(&t->lru, *slot);
		/* answers may be handed over out of order: the newest stays */
		if (e->at_ns > now_ns)
			return;
		lru_touch(&t->lru, *slot);
		names_put(e->names);
	} else {
		i = lru_take(&t->lru, evict, t, &evicted);
		if (i == LRU_NONE)
			return;
		slot = table_upsert(&t->index, key);
		if (!slot) {
			lru_remove(&t->lru, i);
			return;
		}
		*slot = i;
		e = lru_elem(&t->lru, i);
		e->key = *key;
	}
	names->refs++;
	e->names = names;
	e->at_ns = now_ns;
	e->ttl = ttl;
}

static void key_of(struct dns_key *k, enum dns_scope scope, __u8 ip,
		   const union tcl_addr *addr, __u32 tgid, __u32 netns)
{
	memset(k, 0, sizeof(*k));
	k->scope = (__u8)scope;
	k->ip = ip;
	if (ip == 4) {
		memcpy(k->addr, &addr->v4, sizeof(addr->v4));
	} else if (addr_v4_mapped(addr)) {
		/* ::ffff:a.b.c.d is a.b.c.d, whether an IPv6 socket connects
		 * to it or an AAAA record holds it
		 */
		k->ip = 4;
		memcpy(k->addr, &addr->v6[12], sizeof(addr->v4));
	} else {
		memcpy(k->addr, addr->v6, sizeof(addr->v6));
	}
	if (scope != DNS_SCOPE_HOST)
		k->netns = netns;
	if (scope == DNS_SCOPE_PROCESS)
		k->tgid = tgid;
}

void dns_table_add(struct dns_table *t, const struct dns_answer *a,
		   __u32 tgid, __u32 netns, __u64 now_ns)
{
	struct dns_names *names;
	unsigned int n = a->n_addrs;

	if (n > DNS_ADDRS_MAX)
		n = DNS_ADDRS_MAX;
	t->stats.answers++;
	names = names_new(a);
	if (!names)
		return;
	for (unsigned int i = 0; i < n; i++) {
		const struct dns_addr *d = &a->addrs[i];

		if (d->ip != 4 && d->ip != 6)
			continue;
		t->stats.addresses++;
		for (int s = DNS_SCOPE_PROCESS; s <= DNS_SCOPE_HOST; s++) {
			struct dns_key k;

			key_of(&k, s, d->ip, &d->addr, tgid, netns);
			put(t, &k, names, now_ns, d->ttl);
		}
	}
	names_put(names);
	/* NOLINTNEXTLINE(clang-analyzer-unix.Malloc): names_put just dropped the last reference unless an entry holds one; the analyzer does not follow the count */
}

static bool is_loopback(__u8 ip, const union tcl_addr *a)
{
	static const __u8 v6_lo[16] = { [15] = 1 };
	__u32 v4 = htonl(INADDR_LOOPBACK);

	if (ip == 4)
		return a->v4 == v4;
	return ip == 6 && (!memcmp(a->v6, v6_lo, sizeof(v6_lo)) ||
			   (addr_v4_mapped(a) && !memcmp(&a->v6[12], &v4, sizeof(v4))));
}

bool dns_table_match(struct dns_table *t, __u8 ip, const union tcl_addr *daddr,
		     __u32 tgid, __u32 netns, __u64 when_ns, struct dns_match *m)
{
	memset(m, 0, sizeof(*m));
	if (is_loopback(ip, daddr)) {
		m->name = "localhost";
		m->scope = DNS_SCOPE_LOOPBACK;
		return true;
	}
	if (ip != 4 && ip != 6)
		return false;
	for (int s = DNS_SCOPE_PROCESS; s <= DNS_SCOPE_HOST; s++) {
		struct dns_key k;
		const __u32 *slot;
		const struct dns_entry *e;

		key_of(&k, s, ip, daddr, tgid, netns);
		slot = table_find(&t->index, &k);
		if (!slot)
			continue;
		lru_touch(&t->lru, *slot);
		e = lru_elem(&t->lru, *slot);
		m->name = e->names->name;
		m->chain_len = e->names->chain_len;
		memcpy(m->chain, e->names->chain, sizeof(m->chain));
		/* an answer handed over after the connect: age 0, never negative */
		m->age_ns = when_ns > e->at_ns ? when_ns - e->at_ns : 0;
		m->expired = m->age_ns > (__u64)e->ttl * 1000000000ULL;
		m->scope = (enum dns_scope)s;
		return true;
	}
	return false;
}

void dns_table_stats(const struct dns_table *t, struct dns_table_stats *s)
{
	*s = t->stats;
	s->entries = t->lru.len;
}
