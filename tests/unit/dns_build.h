/* SPDX-License-Identifier: GPL-2.0-only */
/* Building DNS messages for the tests of the DNS units: the question from
 * libresolv's res_mkquery, the rest (answers, hostile bytes) by hand.
 */
#ifndef TCL_TEST_DNS_BUILD_H
#define TCL_TEST_DNS_BUILD_H

#include <stdint.h>
#include <string.h>
#include <resolv.h>
#include <unistd.h>
#include <sys/mman.h>
#include <linux/types.h>

struct dnsb {
	__u8 b[8192];
	size_t len;
};

#define QNAME_OFF 12	/* where a query's name starts: after the header */

static inline void b_u8(struct dnsb *m, __u8 v)
{
	if (m->len < sizeof(m->b))
		m->b[m->len++] = v;
}

static inline void b_u16(struct dnsb *m, __u16 v)
{
	b_u8(m, v >> 8);
	b_u8(m, v & 0xff);
}

static inline void b_u32(struct dnsb *m, __u32 v)
{
	b_u16(m, v >> 16);
	b_u16(m, v & 0xffff);
}

static inline void b_bytes(struct dnsb *m, const void *p, size_t n)
{
	for (size_t i = 0; i < n; i++)
		b_u8(m, ((const __u8 *)p)[i]);
}

/* one label of any bytes */
static inline void b_label(struct dnsb *m, const void *p, size_t n)
{
	b_u8(m, (__u8)n);
	b_bytes(m, p, n);
}

/* a dotted name of plain labels, uncompressed, with its root */
static inline void b_name(struct dnsb *m, const char *dotted)
{
	const char *p = dotted;

	while (*p) {
		size_t n = strcspn(p, ".");

		b_label(m, p, n);
		p += n + (p[n] == '.');
	}
	b_u8(m, 0);
}

/* a compression pointer to offset off */
static inline void b_ptr(struct dnsb *m, __u16 off)
{
	b_u16(m, 0xc000 | off);
}

/* A response to a query for name, type, made by res_mkquery: QR and RA
 * set, one question, no records yet (set them with b_counts).
 */
static inline int b_response(struct dnsb *m, const char *name, int type)
{
	int n = res_mkquery(ns_o_query, name, ns_c_in, type, NULL, 0, NULL,
			    m->b, sizeof(m->b));

	if (n < 0)
		return -1;
	m->len = (size_t)n;
	m->b[2] |= 0x80;	/* QR: a response */
	m->b[3] |= 0x80;	/* RA */
	return 0;
}

/* The header of a response by hand: NOERROR, qd questions, an answers */
static inline void b_header(struct dnsb *m, __u16 qd, __u16 an)
{
	b_u16(m, 1);		/* id */
	b_u16(m, 0x8180);	/* QR RD RA */
	b_u16(m, qd);
	b_u16(m, an);
	b_u16(m, 0);
	b_u16(m, 0);
}

/* After a question's name: type A, class IN */
static inline void b_qtail(struct dnsb *m)
{
	b_u16(m, ns_t_a);
	b_u16(m, ns_c_in);
}

static inline void b_rcode(struct dnsb *m, __u8 rcode)
{
	m->b[3] = (m->b[3] & 0xf0) | rcode;
}

static inline void b_counts(struct dnsb *m, __u16 qd, __u16 an, __u16 ns, __u16 ar)
{
	const __u16 c[4] = { qd, an, ns, ar };

	for (int i = 0; i < 4; i++) {
		m->b[4 + 2 * i] = c[i] >> 8;
		m->b[5 + 2 * i] = c[i] & 0xff;
	}
}

/* The fixed part of a record whose owner was just written; returns where
 * its data length is, for b_rr_end after the data.
 */
static inline size_t b_rr(struct dnsb *m, __u16 type, __u16 class, __u32 ttl)
{
	size_t at;

	b_u16(m, type);
	b_u16(m, class);
	b_u32(m, ttl);
	at = m->len;
	b_u16(m, 0);
	return at;
}

static inline void b_rr_end(struct dnsb *m, size_t at)
{
	size_t n = m->len - at - 2;

	m->b[at] = n >> 8;
	m->b[at + 1] = n & 0xff;
}

/* owner at offset owner (a pointer), type A or AAAA, the address bytes */
static inline void b_addr_rr(struct dnsb *m, __u16 owner, __u16 type, __u32 ttl,
			     const void *addr)
{
	size_t at;

	b_ptr(m, owner);
	at = b_rr(m, type, ns_c_in, ttl);
	b_bytes(m, addr, type == ns_t_a ? 4 : 16);
	b_rr_end(m, at);
}

/* a CNAME owned by the name at offset owner; returns where its target
 * starts, for later records to point at
 */
static inline __u16 b_cname_rr(struct dnsb *m, __u16 owner, const char *target)
{
	size_t at, t;

	b_ptr(m, owner);
	at = b_rr(m, ns_t_cname, ns_c_in, 60);
	t = m->len;
	b_name(m, target);
	b_rr_end(m, at);
	return (__u16)t;
}

/* EDNS: an OPT record, 4096-byte payload */
static inline void b_opt(struct dnsb *m)
{
	b_u8(m, 0);
	b_rr_end(m, b_rr(m, ns_t_opt, 4096, 0));
}

/* A copy of len bytes that ends where an unreadable page begins, with
 * another before it: libresolv is not built with ASan, so a read past the
 * message there is a crash only this way. NULL on failure; free it with
 * guarded_free(p, len).
 */
static inline size_t guarded_span(size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);

	return ((len + page - 1) / page + 2) * page;
}

static inline __u8 *guarded_copy(const void *p, size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), span = guarded_span(len);
	__u8 *map = mmap(NULL, span, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	__u8 *end = map + span - page;

	if (map == MAP_FAILED)
		return NULL;
	if (mprotect(map + page, span - 2 * page, PROT_READ | PROT_WRITE)) {
		munmap(map, span);
		return NULL;
	}
	memcpy(end - len, p, len);
	return end - len;
}

static inline void guarded_free(__u8 *copy, size_t len)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE), span = guarded_span(len);

	/* the mapping starts a page before the first whole page of copy */
	munmap(copy + len + page - span, span);
}

#endif
