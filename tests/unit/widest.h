/* SPDX-License-Identifier: GPL-2.0-only */
/* Records with every part at its widest, for the tests that check that
 * a line of any record fits TCL_LINE_MAX (test_json.c, test_format_text.c).
 */
#ifndef TCL_TEST_WIDEST_H
#define TCL_TEST_WIDEST_H

#include <arpa/inet.h>
#include <limits.h>
#include <string.h>
#include "format.h"
#include "tcpconnlog.h"

/* errno values to try: every small one, the kernel's own, the extremes */
static const int widest_errnos[] = { 1, 2, 11, 71, 95, 94, 131, 133, 512, 513, 4095,
				     INT_MAX, INT_MIN };

/* kind: TCL_KIND_*; the command name is 16 bytes of 0xff (no NUL), each
 * of which becomes an escape; the addresses are the longest IPv6 text
 */
static inline struct tcl_event widest_event(__u8 kind, int err)
{
	struct tcl_event ev;

	memset(&ev, 0xff, sizeof(ev));
	ev.ts_ns = (__u64)LLONG_MAX;	/* the year 2262 */
	ev.err = err;
	ev.ip = 6;
	inet_pton(AF_INET6, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", ev.saddr.v6);
	inet_pton(AF_INET6, "fffe:ffff:ffff:ffff:ffff:ffff:ffff:ffff", ev.daddr.v6);
	ev.kind = kind;
	ev.result = TCL_ERROR;
	ev.stage = TCL_STAGE_OUTCOME;
	ev.flags = TCL_F_CALL_MEASURED;
	ev.closer = TCL_CLOSER_REMOTE;
	return ev;
}

/* every column on: -tTUL with -l, -C, -r, -d */
static const struct format_opts widest_opts = {
	.timestamp = true, .wallclock = true, .uid = true, .lport = true,
	.events = true, .lifecycle = true, .container = true, .rdns = true, .dns = true,
	.addr_width = 39, .start_ns = 0, .mono_to_real_ns = 0,
};

/* bytes of 0xff past every bound the formatters cut names at: each byte
 * printed becomes an escape
 */
#define WIDEST_NAME_LEN (TCL_PATH_MAX + 100)
static char widest_name_bytes[WIDEST_NAME_LEN + 1];

/* every name known and longer than printed, the oldest expired answer
 * with the longest chain (and a chain_len past what it holds)
 */
static inline struct record_names widest_names(void)
{
	static struct dns_match m;

	memset(widest_name_bytes, 0xff, WIDEST_NAME_LEN);
	widest_name_bytes[WIDEST_NAME_LEN] = '\0';
	m.name = widest_name_bytes;
	for (int i = 0; i < TCL_DNS_CHAIN_MAX; i++)
		m.chain[i] = widest_name_bytes;
	m.chain_len = UINT_MAX;
	m.age_ns = ULLONG_MAX;
	m.expired = true;
	m.scope = DNS_SCOPE_PROCESS;
	return (struct record_names){
		.cgroup = widest_name_bytes, .container = widest_name_bytes,
		.dns = &m, .rdns = widest_name_bytes,
	};
}

#endif
