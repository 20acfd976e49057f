// SPDX-License-Identifier: GPL-2.0-only
// Unit tests for dns_table.c: scopes, the most recent answer, expiry,
// LRU eviction, one address for two names, loopback.
#include <arpa/inet.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <linux/types.h>

#include "dns_table.h"

#define SEC 1000000000ULL

static struct dns_answer ans;

/* an answer for name with one address (text), TTL ttl, and chain */
static const struct dns_answer *answer(const char *name, const char *addr, __u32 ttl,
				       const char *chain0, const char *chain1)
{
	memset(&ans, 0, sizeof(ans));
	snprintf(ans.name, sizeof(ans.name), "%s", name);
	if (chain0)
		snprintf(ans.chain[ans.chain_len++], NS_MAXDNAME, "%s", chain0);
	if (chain1)
		snprintf(ans.chain[ans.chain_len++], NS_MAXDNAME, "%s", chain1);
	if (inet_pton(AF_INET, addr, &ans.addrs[0].addr.v4) == 1)
		ans.addrs[0].ip = 4;
	else if (inet_pton(AF_INET6, addr, ans.addrs[0].addr.v6) == 1)
		ans.addrs[0].ip = 6;
	else
		fail();
	ans.addrs[0].ttl = ttl;
	ans.n_addrs = 1;
	return &ans;
}

static union tcl_addr addr_of(const char *text, __u8 *ip)
{
	union tcl_addr a;

	memset(&a, 0, sizeof(a));
	*ip = inet_pton(AF_INET, text, &a.v4) == 1 ? 4 : 6;
	if (*ip == 6)
		assert_int_equal(inet_pton(AF_INET6, text, a.v6), 1);
	return a;
}

/* The match for a connect to text by tgid in netns at when: its name, or
 * NULL when none
 */
static const char *match(struct dns_table *t, const char *text, __u32 tgid, __u32 netns,
			 __u64 when, struct dns_match *m)
{
	__u8 ip;
	union tcl_addr a = addr_of(text, &ip);

	if (!dns_table_match(t, ip, &a, tgid, netns, when, m)) {
		assert_null(m->name);
		return NULL;
	}
	return m->name;
}

/* match() that must find name, in scope */
static void expect(struct dns_table *t, const char *text, __u32 tgid, __u32 netns,
		   __u64 when, const char *name, enum dns_scope scope, struct dns_match *m)
{
	const char *got = match(t, text, tgid, netns, when, m);

	assert_non_null(got);
	assert_string_equal(got, name);
	assert_int_equal(m->scope, scope);
}

static void test_loopback(void **state)
{
	struct dns_table *t = dns_table_new(16);
	struct dns_match m;

	assert_non_null(t);
	expect(t, "127.0.0.1", 1, 1, SEC, "localhost", DNS_SCOPE_LOOPBACK, &m);
	assert_int_equal(m.chain_len, 0);
	assert_int_equal(m.age_ns, 0);
	assert_false(m.expired);
	expect(t, "::1", 1, 1, SEC, "localhost", DNS_SCOPE_LOOPBACK, &m);
	assert_string_equal(match(t, "::ffff:127.0.0.1", 1, 1, SEC, &m), "localhost");
	/* other loopback addresses have no name unless an answer gave one */
	assert_null(match(t, "127.0.0.53", 1, 1, SEC, &m));
	assert_null(match(t, "192.0.2.1", 1, 1, SEC, &m));
	dns_table_free(t);
}

/* received by tgid 100 in netns 1: process for it, netns for its
 * neighbours, host for the rest
 */
static void test_scopes(void **state)
{
	struct dns_table *t = dns_table_new(64);
	struct dns_match m;
	struct dns_table_stats st;

	dns_table_add(t, answer("www.example.com", "192.0.2.1", 60, "web.cdn.test", "edge.cdn.test"),
		      100, 1, 10 * SEC);
	expect(t, "192.0.2.1", 100, 1, 10 * SEC + 2500000, "www.example.com", DNS_SCOPE_PROCESS, &m);
	assert_int_equal(m.age_ns, 2500000);
	assert_false(m.expired);
	assert_int_equal(m.chain_len, 2);
	assert_string_equal(m.chain[0], "web.cdn.test");
	assert_string_equal(m.chain[1], "edge.cdn.test");
	expect(t, "192.0.2.1", 200, 1, 11 * SEC, "www.example.com", DNS_SCOPE_NETNS, &m);
	assert_int_equal(m.age_ns, SEC);
	expect(t, "192.0.2.1", 300, 2, 11 * SEC, "www.example.com", DNS_SCOPE_HOST, &m);
	/* another address, another family: nothing */
	assert_null(match(t, "192.0.2.2", 100, 1, 11 * SEC, &m));
	assert_null(match(t, "::c000:201", 100, 1, 11 * SEC, &m));
	/* an IPv6 socket's connect to the IPv4 address: the A record's name;
	 * an AAAA record of a v4-mapped address names the IPv4 one (found by
	 * fuzz_dns: it was kept where no connect looked)
	 */
	expect(t, "::ffff:192.0.2.1", 100, 1, 11 * SEC, "www.example.com", DNS_SCOPE_PROCESS, &m);
	dns_table_add(t, answer("mapped.test", "::ffff:192.0.2.77", 60, NULL, NULL), 100, 1, 11 * SEC);
	expect(t, "192.0.2.77", 100, 1, 11 * SEC, "mapped.test", DNS_SCOPE_PROCESS, &m);
	expect(t, "::ffff:192.0.2.77", 100, 1, 11 * SEC, "mapped.test", DNS_SCOPE_PROCESS, &m);
	dns_table_stats(t, &st);
	assert_int_equal(st.answers, 2);
	assert_int_equal(st.addresses, 2);
	assert_int_equal(st.evicted, 0);
	assert_int_equal(st.entries, 6);
	dns_table_free(t);
}

/* An answer added, a connect matched */
struct added {
	const char *name, *addr;
	__u32 tgid, netns;
	__u64 at;
};

struct wanted {
	const char *addr;
	__u32 tgid, netns;
	const char *name;	/* matched at 10 s */
	enum dns_scope scope;
};

/* Which answer names a connect. One address, two names: each process and
 * each netns gets the name it asked for, a third party the most recent.
 * Among answers of one scope the most recent, whatever order they came
 * in (an older one handed over late does not replace a newer); a
 * process's own answer beats a newer one of its netns.
 */
static void test_which_answer(void **state)
{
	static const struct added add[] = {
		/* two processes of netns 1 */
		{ "a.test", "2001:db8::7", 100, 1, 1 * SEC },
		{ "b.test", "2001:db8::7", 101, 1, 2 * SEC },
		/* two netns (the same tgid number in each, as pid namespaces allow) */
		{ "one.test", "192.0.2.9", 7, 11, 4 * SEC },
		{ "two.test", "192.0.2.9", 7, 12, 5 * SEC },
		/* newer, older */
		{ "old.test", "192.0.2.1", 100, 1, 1 * SEC },
		{ "new.test", "192.0.2.1", 100, 1, 2 * SEC },
		{ "late.test", "192.0.2.1", 100, 1, 1 * SEC + 1 },
		{ "mine.test", "192.0.2.2", 100, 1, 1 * SEC },
		{ "theirs.test", "192.0.2.2", 200, 1, 2 * SEC },
	};
	static const struct wanted want[] = {
		{ "2001:db8::7", 100, 1, "a.test", DNS_SCOPE_PROCESS },
		{ "2001:db8::7", 101, 1, "b.test", DNS_SCOPE_PROCESS },
		{ "2001:db8::7", 102, 1, "b.test", DNS_SCOPE_NETNS },
		{ "192.0.2.9", 9, 11, "one.test", DNS_SCOPE_NETNS },
		{ "192.0.2.9", 7, 11, "one.test", DNS_SCOPE_PROCESS },
		{ "192.0.2.9", 9, 12, "two.test", DNS_SCOPE_NETNS },
		{ "192.0.2.9", 7, 12, "two.test", DNS_SCOPE_PROCESS },
		{ "192.0.2.9", 9, 13, "two.test", DNS_SCOPE_HOST },
		{ "192.0.2.1", 100, 1, "new.test", DNS_SCOPE_PROCESS },
		{ "192.0.2.1", 5, 1, "new.test", DNS_SCOPE_NETNS },
		{ "192.0.2.1", 5, 5, "new.test", DNS_SCOPE_HOST },
		{ "192.0.2.2", 100, 1, "mine.test", DNS_SCOPE_PROCESS },
		{ "192.0.2.2", 300, 1, "theirs.test", DNS_SCOPE_NETNS },
		{ "192.0.2.2", 300, 2, "theirs.test", DNS_SCOPE_HOST },
	};
	struct dns_table *t = dns_table_new(64);
	struct dns_match m;

	assert_non_null(t);
	for (size_t i = 0; i < sizeof(add) / sizeof(add[0]); i++)
		dns_table_add(t, answer(add[i].name, add[i].addr, 60, NULL, NULL),
			      add[i].tgid, add[i].netns, add[i].at);
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		expect(t, want[i].addr, want[i].tgid, want[i].netns, 10 * SEC, want[i].name,
		       want[i].scope, &m);
	/* the age is the newest answer's */
	assert_non_null(match(t, "192.0.2.1", 100, 1, 3 * SEC, &m));
	assert_int_equal(m.age_ns, SEC);
	dns_table_free(t);
}

static void test_expiry(void **state)
{
	struct dns_table *t = dns_table_new(64);
	struct dns_match m;

	dns_table_add(t, answer("short.test", "192.0.2.3", 5, NULL, NULL), 1, 1, 10 * SEC);
	assert_non_null(match(t, "192.0.2.3", 1, 1, 15 * SEC, &m));
	assert_false(m.expired);			/* exactly the TTL */
	assert_int_equal(m.age_ns, 5 * SEC);
	assert_non_null(match(t, "192.0.2.3", 1, 1, 15 * SEC + 1, &m));
	assert_true(m.expired);
	assert_int_equal(m.age_ns, 5 * SEC + 1);
	/* a connect stamped before the answer: age 0, not a huge number */
	assert_non_null(match(t, "192.0.2.3", 1, 1, 9 * SEC, &m));
	assert_int_equal(m.age_ns, 0);
	assert_false(m.expired);
	/* TTL 0: expired as soon as any time has passed */
	dns_table_add(t, answer("zero.test", "192.0.2.4", 0, NULL, NULL), 1, 1, 10 * SEC);
	assert_non_null(match(t, "192.0.2.4", 1, 1, 10 * SEC + 1, &m));
	assert_true(m.expired);
	/* the largest TTL does not wrap */
	dns_table_add(t, answer("long.test", "192.0.2.5", UINT32_MAX, NULL, NULL), 1, 1, SEC);
	assert_non_null(match(t, "192.0.2.5", 1, 1, 1000000 * SEC, &m));
	assert_false(m.expired);
	dns_table_free(t);
}

/* 6 entries: two addresses (three keys each). A third evicts the three
 * least recently used keys; a match counts as a use.
 */
static void test_lru_eviction(void **state)
{
	struct dns_table *t = dns_table_new(6);
	struct dns_match m;
	struct dns_table_stats st;

	dns_table_add(t, answer("x1.test", "192.0.2.1", 60, "c.test", NULL), 100, 1, 1 * SEC);
	dns_table_add(t, answer("x2.test", "192.0.2.2", 60, NULL, NULL), 100, 1, 2 * SEC);
	dns_table_stats(t, &st);
	assert_int_equal(st.entries, 6);
	assert_int_equal(st.evicted, 0);
	/* x1's process key used: the oldest are now x1's netns and host
	 * keys, then x2's process key
	 */
	assert_string_equal(match(t, "192.0.2.1", 100, 1, 3 * SEC, &m), "x1.test");
	dns_table_add(t, answer("x3.test", "192.0.2.3", 60, NULL, NULL), 100, 1, 4 * SEC);
	dns_table_stats(t, &st);
	assert_int_equal(st.entries, 6);
	assert_int_equal(st.evicted, 3);
	assert_int_equal(st.answers, 3);
	assert_int_equal(st.addresses, 3);
	assert_string_equal(match(t, "192.0.2.1", 100, 1, 5 * SEC, &m), "x1.test");
	assert_int_equal(m.chain_len, 1);
	assert_string_equal(m.chain[0], "c.test");
	assert_null(match(t, "192.0.2.1", 200, 1, 5 * SEC, &m));
	expect(t, "192.0.2.2", 100, 1, 5 * SEC, "x2.test", DNS_SCOPE_NETNS, &m);
	expect(t, "192.0.2.3", 100, 1, 5 * SEC, "x3.test", DNS_SCOPE_PROCESS, &m);

	/* many more than fit, with a table of one: always the last, and
	 * every answer's names freed with its last entry (ASan, valgrind)
	 */
	dns_table_free(t);
	t = dns_table_new(1);
	for (unsigned int i = 0; i < 1000; i++) {
		char name[32], addr[32];

		snprintf(name, sizeof(name), "n%u.test", i);
		snprintf(addr, sizeof(addr), "10.0.%u.%u", i / 256, i % 256);
		dns_table_add(t, answer(name, addr, 60, "chain.test", NULL), i, 1, i * SEC);
	}
	dns_table_stats(t, &st);
	assert_int_equal(st.entries, 1);
	assert_int_equal(st.evicted, 2999);
	expect(t, "10.0.3.231", 1, 2, 1000 * SEC, "n999.test", DNS_SCOPE_HOST, &m);
	assert_null(dns_table_new(0));
	dns_table_free(t);
}

/* an answer with several addresses: each names its name */
static void test_several_addresses(void **state)
{
	struct dns_table *t = dns_table_new(64);
	struct dns_match m;
	struct dns_table_stats st;

	answer("multi.test", "192.0.2.1", 60, NULL, NULL);
	ans.addrs[1] = ans.addrs[0];
	ans.addrs[1].addr.v4 = htonl(0xc0000202);
	ans.addrs[2].ip = 6;
	ans.addrs[2].addr.v6[0] = 0x20;
	ans.addrs[2].addr.v6[15] = 0x05;
	ans.addrs[2].ttl = 1;
	ans.addrs[3].ip = 5;	/* not a family: skipped */
	ans.n_addrs = 4;
	dns_table_add(t, &ans, 1, 1, SEC);
	assert_string_equal(match(t, "192.0.2.1", 1, 1, SEC, &m), "multi.test");
	assert_string_equal(match(t, "192.0.2.2", 1, 1, SEC, &m), "multi.test");
	assert_string_equal(match(t, "2000::5", 1, 1, 3 * SEC, &m), "multi.test");
	assert_true(m.expired);
	dns_table_stats(t, &st);
	assert_int_equal(st.addresses, 3);
	assert_int_equal(st.entries, 9);
	dns_table_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_loopback),
		cmocka_unit_test(test_scopes),
		cmocka_unit_test(test_which_answer),
		cmocka_unit_test(test_expiry),
		cmocka_unit_test(test_lru_eviction),
		cmocka_unit_test(test_several_addresses),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
