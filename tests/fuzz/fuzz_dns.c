// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer target: DNS answers (-d). The whole input goes to dns_parse as
 * one message; then it is read as a list of TCP segments fed to dns_tcp,
 * each message that comes out parsed and, when it is an answer, added to
 * a small dns_table and matched back.
 * Segment: key (1 byte, 4 streams), sequence step (1 byte: 0 the next
 * byte expected, else a signed jump), length (2 bytes), then the data.
 * Segments are exactly sized heap copies, so ASan sees dns_tcp's reads.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "dns_answer.h"
#include "dns_table.h"
#include "dns_tcp.h"
#include "../unit/dns_build.h"	/* guarded_copy */

static struct dns_answer ans;

/* a name as dns_parse promises it: NUL-terminated, printable ASCII */
static void check_name(const char *name)
{
	size_t n = strnlen(name, NS_MAXDNAME);

	if (n == NS_MAXDNAME)
		abort();
	for (size_t i = 0; i < n; i++) {
		if (name[i] <= ' ' || name[i] >= 0x7f)
			abort();
	}
}

/* msg is parsed from a copy that ends at an unreadable page: libresolv is
 * not built with ASan, so that is how a read past the message shows there
 */
static void check_and_keep(struct dns_table *t, const __u8 *msg, size_t len, __u64 now)
{
	struct dns_match m;
	const struct dns_addr *last;
	__u8 *copy = guarded_copy(msg, len);
	enum dns_parse_result r;

	if (!copy)
		abort();
	r = dns_parse(copy, len, &ans);
	guarded_free(copy, len);
	if (r != DNS_OK)
		return;
	if (!ans.n_addrs || ans.n_addrs > DNS_ADDRS_MAX || ans.chain_len > TCL_DNS_CHAIN_MAX)
		abort();
	check_name(ans.name);
	for (unsigned int i = 0; i < ans.chain_len; i++)
		check_name(ans.chain[i]);
	if (!t)
		return;
	dns_table_add(t, &ans, (__u32)len, (__u32)len & 1, now);
	for (unsigned int i = 0; i < ans.n_addrs; i++) {
		if (ans.addrs[i].ip != 4 && ans.addrs[i].ip != 6)
			abort();
	}
	/* the last address was added last, so the table of 16 still has it:
	 * it names a connect of this process (or is a loopback address)
	 */
	last = &ans.addrs[ans.n_addrs - 1];
	if (!dns_table_match(t, last->ip, &last->addr, (__u32)len, (__u32)len & 1, now, &m) ||
	    (m.scope != DNS_SCOPE_PROCESS && m.scope != DNS_SCOPE_LOOPBACK))
		abort();
	check_name(m.name);
}

struct feed_ctx {
	struct dns_table *t;
	__u64 now;
};

static void on_msg(void *ctx, const __u8 *msg, size_t len)
{
	struct feed_ctx *c = ctx;

	if (len > 0xffff)
		abort();
	check_and_keep(c->t, msg, len, c->now++);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct feed_ctx c = { .t = dns_table_new(16), .now = 1 };
	struct dns_tcp *d = dns_tcp_new_bounded(3, 600);
	__u32 seq[4] = { 0, 0, 0, 0 };

	check_and_keep(NULL, data, size, 0);
	while (d && c.t && size >= 4) {
		unsigned int key = data[0] & 3;
		size_t len = (size_t)data[2] << 8 | data[3];
		__u8 *seg;

		seq[key] += (__u32)(__s32)(__s8)data[1];
		data += 4;
		size -= 4;
		if (len > size)
			len = size;
		seg = malloc(len ? len : 1);
		if (!seg)
			break;
		memcpy(seg, data, len);
		dns_tcp_feed(d, key, seq[key], seg, len, on_msg, &c);
		free(seg);
		seq[key] += (__u32)len;
		data += len;
		size -= len;
		if (data[-1] == 0xff)	/* now and then a stream closes */
			dns_tcp_close(d, key);
	}
	dns_tcp_free(d);
	dns_table_free(c.t);
	return 0;
}
