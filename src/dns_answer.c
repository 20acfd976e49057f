// SPDX-License-Identifier: GPL-2.0-only
/* DNS answers read with libresolv's ns_* parser, which checks every count,
 * length and compression pointer against the message's end.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <resolv.h>
#include "dns_answer.h"

/* DNS names are equal without regard to ASCII case (RFC 4343) */
static bool same_name(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

/* The CNAME that rr (of the answer section) holds, when its owner is
 * name: 1 and the target in presentation form in target, 0 when rr is
 * something else, -1 when its data is not a name of exactly its length.
 */
static int cname_of(ns_msg *h, const ns_rr *rr, const char *name,
		    char target[NS_MAXDNAME])
{
	int n;

	if (ns_rr_type(*rr) != ns_t_cname || ns_rr_class(*rr) != ns_c_in ||
	    !same_name(ns_rr_name(*rr), name))
		return 0;
	n = ns_name_uncompress(ns_msg_base(*h), ns_msg_end(*h), ns_rr_rdata(*rr),
			       target, NS_MAXDNAME);
	return n >= 0 && n == ns_rr_rdlen(*rr) ? 1 : -1;
}

/* Follow the CNAMEs from out->name through the answer section, in any
 * order of the records, into out->chain; *last is the name they end at.
 * Each step scans the section once; at most TCL_DNS_CHAIN_MAX steps, so a
 * hostile answer costs a bounded number of passes. DNS_MALFORMED on a
 * loop or a record libresolv refuses.
 */
static enum dns_parse_result follow_chain(ns_msg *h, struct dns_answer *out,
					  const char **last)
{
	char target[NS_MAXDNAME];
	int count = ns_msg_count(*h, ns_s_an);

	*last = out->name;
	for (;;) {
		int found = 0;
		ns_rr rr;

		for (int i = 0; i < count && !found; i++) {
			if (ns_parserr(h, ns_s_an, i, &rr) < 0)
				return DNS_MALFORMED;
			found = cname_of(h, &rr, *last, target);
			if (found < 0)
				return DNS_MALFORMED;
		}
		if (!found)
			return DNS_OK;
		/* a name met before: a loop, which no resolver answers NOERROR */
		if (same_name(target, out->name))
			return DNS_MALFORMED;
		for (unsigned int c = 0; c < out->chain_len; c++) {
			if (same_name(target, out->chain[c]))
				return DNS_MALFORMED;
		}
		/* longer than we keep: cut there (its addresses are not kept) */
		if (out->chain_len == TCL_DNS_CHAIN_MAX)
			return DNS_OK;
		memcpy(out->chain[out->chain_len], target, sizeof(target));
		*last = out->chain[out->chain_len++];
	}
}

/* The A and AAAA records owned by the question's name or last into out */
static enum dns_parse_result take_addrs(ns_msg *h, struct dns_answer *out,
					const char *last)
{
	int count = ns_msg_count(*h, ns_s_an);
	ns_rr rr;

	for (int i = 0; i < count; i++) {
		struct dns_addr *a;
		size_t size;

		if (ns_parserr(h, ns_s_an, i, &rr) < 0)
			return DNS_MALFORMED;
		if (ns_rr_type(rr) == ns_t_a)
			size = 4;
		else if (ns_rr_type(rr) == ns_t_aaaa)
			size = 16;
		else
			continue;
		if (ns_rr_rdlen(rr) != size)
			return DNS_MALFORMED;
		if (ns_rr_class(rr) != ns_c_in || out->n_addrs == DNS_ADDRS_MAX ||
		    (!same_name(ns_rr_name(rr), out->name) && !same_name(ns_rr_name(rr), last)))
			continue;
		a = &out->addrs[out->n_addrs++];
		memset(a, 0, sizeof(*a));
		a->ip = size == 4 ? 4 : 6;
		memcpy(&a->addr, ns_rr_rdata(rr), size);
		/* a TTL with the top bit set is 0 (RFC 2181 8) */
		a->ttl = ns_rr_ttl(rr) > INT32_MAX ? 0 : ns_rr_ttl(rr);
	}
	return out->n_addrs ? DNS_OK : DNS_NOT_ANSWER;
}

enum dns_parse_result dns_parse(const __u8 *msg, size_t len, struct dns_answer *out)
{
	const char *last;
	enum dns_parse_result r;
	ns_msg h;
	ns_rr q;

	out->name[0] = '\0';
	out->chain_len = 0;
	out->n_addrs = 0;
	/* ns_initparse walks every section: counts larger than the message,
	 * records cut short and trailing bytes are refused here
	 */
	if (len > NS_MAXMSG || ns_initparse(msg, (int)len, &h) < 0)
		return DNS_MALFORMED;
	if (!ns_msg_getflag(h, ns_f_qr) || ns_msg_getflag(h, ns_f_opcode) != ns_o_query ||
	    ns_msg_getflag(h, ns_f_rcode) != ns_r_noerror || ns_msg_count(h, ns_s_qd) != 1 ||
	    ns_msg_count(h, ns_s_an) == 0)
		return DNS_NOT_ANSWER;
	/* ns_parserr expands the owner name, checking each pointer */
	if (ns_parserr(&h, ns_s_qd, 0, &q) < 0)
		return DNS_MALFORMED;
	if (ns_rr_class(q) != ns_c_in)
		return DNS_NOT_ANSWER;
	/* ns_rr_name is "." (a 2-byte literal) for the root: copy the string */
	snprintf(out->name, sizeof(out->name), "%s", ns_rr_name(q));
	r = follow_chain(&h, out, &last);
	if (r != DNS_OK)
		return r;
	return take_addrs(&h, out, last);
}
