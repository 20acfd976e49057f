// SPDX-License-Identifier: GPL-2.0-only
// Unit tests for dns_answer.c: what dns_parse keeps of real-shaped answers
// and how it refuses broken and hostile ones.
#include <arpa/inet.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>
#include <linux/types.h>

#include "dns_answer.h"
#include "dns_build.h"

static struct dns_answer ans;	/* 10 KB: not on cmocka's stack */

/* Parse a copy of exactly len bytes followed by an unreadable page: a
 * read past the end, in our code or libresolv's, crashes the test.
 */
static enum dns_parse_result parse_n(const __u8 *msg, size_t len)
{
	__u8 *copy = guarded_copy(msg, len);
	enum dns_parse_result r;

	assert_non_null(copy);
	r = dns_parse(copy, len, &ans);
	guarded_free(copy, len);
	return r;
}

static enum dns_parse_result parse(const struct dnsb *m)
{
	return parse_n(m->b, m->len);
}

/* m parses as an answer for name with a chain of chain_len and n_addrs addresses */
static void assert_parsed(const struct dnsb *m, const char *name, unsigned int chain_len,
			  unsigned int n_addrs)
{
	assert_int_equal(parse(m), DNS_OK);
	assert_string_equal(ans.name, name);
	assert_int_equal(ans.chain_len, chain_len);
	assert_int_equal(ans.n_addrs, n_addrs);
}

static void assert_v4(const struct dns_addr *a, const char *dotted, __u32 ttl)
{
	struct in_addr want;

	assert_int_equal(inet_pton(AF_INET, dotted, &want), 1);
	assert_int_equal(a->ip, 4);
	assert_int_equal(a->addr.v4, want.s_addr);
	assert_int_equal(a->ttl, ttl);
}

static void assert_v6(const struct dns_addr *a, const char *text)
{
	__u8 want[16];

	assert_int_equal(inet_pton(AF_INET6, text, want), 1);
	assert_int_equal(a->ip, 6);
	assert_memory_equal(a->addr.v6, want, 16);
}

static const __u8 v4_1[4] = { 192, 0, 2, 1 }, v4_2[4] = { 192, 0, 2, 2 },
		  v4_3[4] = { 198, 51, 100, 7 };
static const __u8 v6_1[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };

/* example.com A 192.0.2.1, TTL 300 */
static void build_a(struct dnsb *m)
{
	assert_int_equal(b_response(m, "example.com", ns_t_a), 0);
	b_addr_rr(m, QNAME_OFF, ns_t_a, 300, v4_1);
	b_counts(m, 1, 1, 0, 0);
}

/* www.example.com CNAME web.cdn.test, which has two A and an AAAA; an
 * OPT record in the additional section, as EDNS resolvers send
 */
static void build_chain_edns(struct dnsb *m)
{
	__u16 t;

	assert_int_equal(b_response(m, "www.example.com", ns_t_a), 0);
	t = b_cname_rr(m, QNAME_OFF, "web.cdn.test");
	b_addr_rr(m, t, ns_t_a, 20, v4_1);
	b_addr_rr(m, t, ns_t_a, 20, v4_2);
	b_addr_rr(m, t, ns_t_aaaa, 30, v6_1);
	b_opt(m);
	b_counts(m, 1, 4, 0, 1);
}

static void test_a(void **state)
{
	struct dnsb m = { 0 };

	build_a(&m);
	assert_parsed(&m, "example.com", 0, 1);
	assert_v4(&ans.addrs[0], "192.0.2.1", 300);
}

/* a TTL over 2^31 - 1 counts as 0 */
static void test_ttl_top_bit(void **state)
{
	struct dnsb m = { 0 };

	assert_int_equal(b_response(&m, "example.com", ns_t_a), 0);
	b_addr_rr(&m, QNAME_OFF, ns_t_a, 0x80000000u, v4_1);
	b_addr_rr(&m, QNAME_OFF, ns_t_a, 0x7fffffffu, v4_2);
	b_counts(&m, 1, 2, 0, 0);
	assert_parsed(&m, "example.com", 0, 2);
	assert_int_equal(ans.addrs[0].ttl, 0);
	assert_int_equal(ans.addrs[1].ttl, 0x7fffffffu);
}

static void test_aaaa(void **state)
{
	struct dnsb m = { 0 };

	assert_int_equal(b_response(&m, "v6.example.com", ns_t_aaaa), 0);
	b_addr_rr(&m, QNAME_OFF, ns_t_aaaa, 7, v6_1);
	b_counts(&m, 1, 1, 0, 0);
	assert_parsed(&m, "v6.example.com", 0, 1);
	assert_v6(&ans.addrs[0], "2001:db8::1");
	assert_int_equal(ans.addrs[0].ttl, 7);
}

static void test_one_cname_edns(void **state)
{
	struct dnsb m = { 0 };

	build_chain_edns(&m);
	assert_parsed(&m, "www.example.com", 1, 3);
	assert_string_equal(ans.chain[0], "web.cdn.test");
	assert_v4(&ans.addrs[0], "192.0.2.1", 20);
	assert_v4(&ans.addrs[1], "192.0.2.2", 20);
	assert_v6(&ans.addrs[2], "2001:db8::1");
}

/* a -> b -> c -> d, the records in the order c, a, d's A, b, with an
 * address of an unrelated name among them: the chain comes out in order
 * and only d's address is kept
 */
static void test_chain_out_of_order(void **state)
{
	struct dnsb m = { 0 };
	__u16 b_off, c_off, d_off, x_off;
	size_t at;

	assert_int_equal(b_response(&m, "a.test", ns_t_a), 0);
	/* c.test CNAME d.test: the owner written in full */
	c_off = (__u16)m.len;
	b_name(&m, "c.test");
	at = b_rr(&m, ns_t_cname, ns_c_in, 60);
	d_off = (__u16)m.len;
	b_name(&m, "d.test");
	b_rr_end(&m, at);
	b_off = b_cname_rr(&m, QNAME_OFF, "b.test");
	b_addr_rr(&m, d_off, ns_t_a, 5, v4_3);
	x_off = (__u16)m.len;
	b_name(&m, "elsewhere.test");
	at = b_rr(&m, ns_t_a, ns_c_in, 5);
	b_bytes(&m, v4_1, 4);
	b_rr_end(&m, at);
	b_ptr(&m, b_off);
	at = b_rr(&m, ns_t_cname, ns_c_in, 60);
	b_ptr(&m, c_off);
	b_rr_end(&m, at);
	b_counts(&m, 1, 5, 0, 0);
	(void)x_off;

	assert_int_equal(parse(&m), DNS_OK);
	assert_string_equal(ans.name, "a.test");
	assert_int_equal(ans.chain_len, 3);
	assert_string_equal(ans.chain[0], "b.test");
	assert_string_equal(ans.chain[1], "c.test");
	assert_string_equal(ans.chain[2], "d.test");
	assert_int_equal(ans.n_addrs, 1);
	assert_v4(&ans.addrs[0], "198.51.100.7", 5);
}

/* n CNAMEs q.test -> n1.test -> ... -> nN.test, then nN's A */
static void build_chain(struct dnsb *m, unsigned int n)
{
	__u16 owner = QNAME_OFF;
	char name[32];

	assert_int_equal(b_response(m, "q.test", ns_t_a), 0);
	for (unsigned int i = 1; i <= n; i++) {
		snprintf(name, sizeof(name), "n%u.test", i);
		owner = b_cname_rr(m, owner, name);
	}
	b_addr_rr(m, owner, ns_t_a, 5, v4_1);
	b_counts(m, 1, (__u16)(n + 1), 0, 0);
}

static void test_long_chains(void **state)
{
	struct dnsb m = { 0 };

	build_chain(&m, TCL_DNS_CHAIN_MAX);
	assert_int_equal(parse(&m), DNS_OK);
	assert_int_equal(ans.chain_len, TCL_DNS_CHAIN_MAX);
	assert_string_equal(ans.chain[TCL_DNS_CHAIN_MAX - 1], "n8.test");
	assert_int_equal(ans.n_addrs, 1);
	/* one more than kept: cut there, and the address is not the cut
	 * chain's last name's, so nothing is kept
	 */
	memset(&m, 0, sizeof(m));
	build_chain(&m, TCL_DNS_CHAIN_MAX + 1);
	assert_int_equal(parse(&m), DNS_NOT_ANSWER);
	assert_int_equal(ans.chain_len, TCL_DNS_CHAIN_MAX);
}

static void test_cname_loops(void **state)
{
	struct dnsb m = { 0 };
	__u16 b_off;

	/* a -> a */
	assert_int_equal(b_response(&m, "a.test", ns_t_a), 0);
	b_cname_rr(&m, QNAME_OFF, "a.test");
	b_counts(&m, 1, 1, 0, 0);
	assert_int_equal(parse(&m), DNS_MALFORMED);
	/* a -> b -> A.TEST (names compare without case) */
	memset(&m, 0, sizeof(m));
	assert_int_equal(b_response(&m, "a.test", ns_t_a), 0);
	b_off = b_cname_rr(&m, QNAME_OFF, "b.test");
	b_cname_rr(&m, b_off, "A.TEST");
	b_addr_rr(&m, b_off, ns_t_a, 5, v4_1);
	b_counts(&m, 1, 3, 0, 0);
	assert_int_equal(parse(&m), DNS_MALFORMED);
	/* a -> b -> c -> b */
	memset(&m, 0, sizeof(m));
	assert_int_equal(b_response(&m, "a.test", ns_t_a), 0);
	b_off = b_cname_rr(&m, QNAME_OFF, "b.test");
	b_cname_rr(&m, b_cname_rr(&m, b_off, "c.test"), "b.test");
	b_counts(&m, 1, 3, 0, 0);
	assert_int_equal(parse(&m), DNS_MALFORMED);
}

/* addresses of the question's name and of the chain's end are kept, in
 * order, up to DNS_ADDRS_MAX; a name's case does not matter
 */
static void test_many_addresses(void **state)
{
	struct dnsb m = { 0 };
	size_t at;

	assert_int_equal(b_response(&m, "Many.Example.COM", ns_t_a), 0);
	for (int i = 0; i < DNS_ADDRS_MAX + 8; i++) {
		const __u8 a[4] = { 10, 0, (__u8)(i >> 8), (__u8)i };

		if (i == 3) {
			/* the owner written in full, in another case */
			b_name(&m, "many.example.com");
			at = b_rr(&m, ns_t_a, ns_c_in, 1);
			b_bytes(&m, a, 4);
			b_rr_end(&m, at);
		} else {
			b_addr_rr(&m, QNAME_OFF, ns_t_a, 1, a);
		}
	}
	b_counts(&m, 1, DNS_ADDRS_MAX + 8, 0, 0);
	assert_int_equal(parse(&m), DNS_OK);
	assert_string_equal(ans.name, "Many.Example.COM");
	assert_int_equal(ans.n_addrs, DNS_ADDRS_MAX);
	for (int i = 0; i < DNS_ADDRS_MAX; i++)
		assert_int_equal(ans.addrs[i].addr.v4, htonl(0x0a000000u | (__u32)i));
}

/* An A in class CH, and an address of a name outside the chain, are not kept */
static void test_other_class_and_owner(void **state)
{
	struct dnsb m = { 0 };
	size_t at;

	assert_int_equal(b_response(&m, "example.com", ns_t_a), 0);
	b_ptr(&m, QNAME_OFF);
	at = b_rr(&m, ns_t_a, ns_c_chaos, 5);
	b_bytes(&m, v4_2, 4);
	b_rr_end(&m, at);
	b_name(&m, "other.test");
	at = b_rr(&m, ns_t_a, ns_c_in, 5);
	b_bytes(&m, v4_3, 4);
	b_rr_end(&m, at);
	b_addr_rr(&m, QNAME_OFF, ns_t_a, 5, v4_1);
	b_counts(&m, 1, 3, 0, 0);
	assert_int_equal(parse(&m), DNS_OK);
	assert_int_equal(ans.n_addrs, 1);
	assert_v4(&ans.addrs[0], "192.0.2.1", 5);
}

/* Every prefix of valid answers, and the whole plus one byte: never a
 * crash or a read past the end, never a wrong success
 */
static void test_truncated_everywhere(void **state)
{
	struct dnsb m = { 0 };

	build_chain_edns(&m);
	for (size_t n = 0; n < m.len; n++)
		assert_int_equal(parse_n(m.b, n), DNS_MALFORMED);
	m.b[m.len++] = 0;
	assert_int_equal(parse(&m), DNS_MALFORMED);
	memset(&m, 0, sizeof(m));
	build_a(&m);
	for (size_t n = 0; n < m.len; n++)
		assert_int_equal(parse_n(m.b, n), DNS_MALFORMED);
}

static void test_pointer_loops(void **state)
{
	struct dnsb m = { 0 };

	/* the question's name a pointer to itself */
	b_header(&m, 1, 1);
	b_ptr(&m, QNAME_OFF);
	b_qtail(&m);
	b_addr_rr(&m, QNAME_OFF, ns_t_a, 5, v4_1);
	assert_int_equal(parse(&m), DNS_MALFORMED);

	/* two pointers that point at each other: the question's name is a
	 * label and a pointer to the answer's owner, which points back
	 */
	memset(&m, 0, sizeof(m));
	b_header(&m, 1, 1);
	b_label(&m, "x", 1);
	b_ptr(&m, QNAME_OFF + 2 + 2 + 4);	/* the answer's owner, after type and class */
	b_qtail(&m);
	assert_int_equal(m.len, QNAME_OFF + 8);
	b_addr_rr(&m, QNAME_OFF, ns_t_a, 5, v4_1);
	assert_int_equal(parse(&m), DNS_MALFORMED);
	/* the answer's owner a pointer to itself */
	m.b[QNAME_OFF + 9] = QNAME_OFF + 8;
	assert_int_equal(parse(&m), DNS_MALFORMED);

	/* a CNAME whose target points at itself */
	memset(&m, 0, sizeof(m));
	assert_int_equal(b_response(&m, "a.test", ns_t_a), 0);
	{
		size_t at;
		__u16 self;

		b_ptr(&m, QNAME_OFF);
		at = b_rr(&m, ns_t_cname, ns_c_in, 5);
		self = (__u16)m.len;
		b_label(&m, "x", 1);
		b_ptr(&m, self);
		b_rr_end(&m, at);
	}
	b_counts(&m, 1, 1, 0, 0);
	assert_int_equal(parse(&m), DNS_MALFORMED);
}

static void test_counts(void **state)
{
	struct dnsb m = { 0 };

	build_a(&m);
	b_counts(&m, 1, 5, 0, 0);		/* more answers than there are */
	assert_int_equal(parse(&m), DNS_MALFORMED);
	b_counts(&m, 1, 1, 0, 3);
	assert_int_equal(parse(&m), DNS_MALFORMED);
	b_counts(&m, 0xffff, 0xffff, 0xffff, 0xffff);
	assert_int_equal(parse(&m), DNS_MALFORMED);
	b_counts(&m, 2, 1, 0, 0);
	assert_int_equal(parse(&m), DNS_MALFORMED);
	b_counts(&m, 1, 0, 0, 0);		/* fewer: bytes left over */
	assert_int_equal(parse(&m), DNS_MALFORMED);
}

/* example.com's response with one record of type and the raw data given */
static void response_with(struct dnsb *m, __u16 type, const void *rdata, size_t n)
{
	memset(m, 0, sizeof(*m));
	assert_int_equal(b_response(m, "example.com", ns_t_a), 0);
	b_ptr(m, QNAME_OFF);
	b_rr_end(m, b_rr(m, type, ns_c_in, 5));
	b_bytes(m, rdata, n);
	m->b[m->len - n - 1] = (__u8)n;
	b_counts(m, 1, 1, 0, 0);
}

static void test_bad_rdata(void **state)
{
	static const __u8 a5[5] = { 192, 0, 2, 1, 9 };
	static const __u8 aaaa4[4] = { 192, 0, 2, 1 };
	static const __u8 cname_long[] = "\1t\4test\0";	/* a name and a byte after it */
	static const __u8 cname_cut[] = { 1, 't', 4, 't', 'e' };
	struct dnsb m;

	response_with(&m, ns_t_a, a5, sizeof(a5));
	assert_int_equal(parse(&m), DNS_MALFORMED);
	response_with(&m, ns_t_aaaa, aaaa4, sizeof(aaaa4));
	assert_int_equal(parse(&m), DNS_MALFORMED);
	response_with(&m, ns_t_cname, cname_long, sizeof(cname_long));
	assert_int_equal(parse(&m), DNS_MALFORMED);
	response_with(&m, ns_t_cname, cname_cut, sizeof(cname_cut));
	assert_int_equal(parse(&m), DNS_MALFORMED);
	/* the helper makes good records too */
	response_with(&m, ns_t_a, aaaa4, sizeof(aaaa4));
	assert_int_equal(parse(&m), DNS_OK);
}

static void test_not_answers(void **state)
{
	struct dnsb m = { 0 };

	/* a query */
	build_a(&m);
	m.b[2] &= 0x7f;
	assert_int_equal(parse(&m), DNS_NOT_ANSWER);
	/* NXDOMAIN, SERVFAIL */
	memset(&m, 0, sizeof(m));
	build_a(&m);
	b_rcode(&m, ns_r_nxdomain);
	assert_int_equal(parse(&m), DNS_NOT_ANSWER);
	b_rcode(&m, ns_r_servfail);
	assert_int_equal(parse(&m), DNS_NOT_ANSWER);
	/* NOERROR with no records (NODATA) */
	memset(&m, 0, sizeof(m));
	assert_int_equal(b_response(&m, "example.com", ns_t_aaaa), 0);
	assert_int_equal(parse(&m), DNS_NOT_ANSWER);
	/* a chain with no address at its end */
	memset(&m, 0, sizeof(m));
	assert_int_equal(b_response(&m, "a.test", ns_t_a), 0);
	b_cname_rr(&m, QNAME_OFF, "b.test");
	b_counts(&m, 1, 1, 0, 0);
	assert_int_equal(parse(&m), DNS_NOT_ANSWER);
	/* a query as res_mkquery makes it */
	memset(&m, 0, sizeof(m));
	m.len = (size_t)res_mkquery(ns_o_query, "example.com", ns_c_in, ns_t_a, NULL, 0,
				    NULL, m.b, sizeof(m.b));
	assert_int_equal(parse(&m), DNS_NOT_ANSWER);
	/* no question */
	memset(&m, 0, sizeof(m));
	b_header(&m, 0, 1);
	b_name(&m, "example.com");
	b_rr_end(&m, b_rr(&m, ns_t_a, ns_c_in, 5));
	m.b[m.len - 2] = 0;
	m.b[m.len - 1] = 4;
	b_bytes(&m, v4_1, 4);
	assert_int_equal(parse(&m), DNS_NOT_ANSWER);
}

/* Bytes that are not letters in labels come out escaped, as ns_name_ntop
 * writes them: printable ASCII only
 */
static void test_odd_bytes(void **state)
{
	static const __u8 odd[] = { 'a', '.', 'b', ' ', 0x01, 0xff, '\\', '"', ';' };
	struct dnsb m = { 0 };

	b_header(&m, 1, 1);
	b_label(&m, odd, sizeof(odd));
	b_name(&m, "test");
	b_qtail(&m);
	b_addr_rr(&m, QNAME_OFF, ns_t_a, 5, v4_1);
	assert_int_equal(parse(&m), DNS_OK);
	assert_string_equal(ans.name, "a\\.b\\032\\001\\255\\\\\\\"\\;.test");
	for (const char *p = ans.name; *p; p++)
		assert_true(*p > ' ' && *p < 0x7f);
}

/* The root as the question (a name libresolv gives as a 2-byte "."),
 * with an answer: found by the fuzzer, a copy of NS_MAXDNAME bytes read
 * past that literal
 */
static void test_root_question(void **state)
{
	struct dnsb m = { 0 };

	b_header(&m, 1, 1);
	b_u8(&m, 0);
	b_qtail(&m);
	b_addr_rr(&m, QNAME_OFF, ns_t_a, 5, v4_1);
	assert_int_equal(parse(&m), DNS_OK);
	assert_string_equal(ans.name, ".");
	assert_int_equal(ans.n_addrs, 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_a),
		cmocka_unit_test(test_aaaa),
		cmocka_unit_test(test_ttl_top_bit),
		cmocka_unit_test(test_one_cname_edns),
		cmocka_unit_test(test_chain_out_of_order),
		cmocka_unit_test(test_long_chains),
		cmocka_unit_test(test_cname_loops),
		cmocka_unit_test(test_many_addresses),
		cmocka_unit_test(test_other_class_and_owner),
		cmocka_unit_test(test_truncated_everywhere),
		cmocka_unit_test(test_pointer_loops),
		cmocka_unit_test(test_counts),
		cmocka_unit_test(test_bad_rdata),
		cmocka_unit_test(test_not_answers),
		cmocka_unit_test(test_odd_bytes),
		cmocka_unit_test(test_root_question),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
