// SPDX-License-Identifier: GPL-2.0-only
// Unit tests for top.c (--top): rows opened and closed by conn_id, their
// order, the text and JSON snapshots and the terminal frame, with
// sock_diag's answer made up by the test (sockdiag_add).
#include <arpa/inet.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>

#include "capture.h"

#include <linux/types.h>
#include "sockdiag.h"
#include "tcpconnlog.h"
#include "top.h"
#include "runinfo.h"

#define SEC 1000000000ULL
/* top_show's clock reading in the tests, and its wall-clock time:
 * 2026-01-02T03:04:05.678901Z
 */
#define NOW (100 * SEC)
#define NOW_REAL (1767323045 * SEC + 678901000ULL)
#define NOW_TEXT "2026-01-02T03:04:05.678901Z"

/* the columns as the tool must print them, written another way */
#define ROW_FMT "%-16s %-7s %-*s %-*s %-8s %-12s %-12s %s\n"


static struct top *new_top(bool json)
{
	struct top_opts o = {
		.json = json,
		.start_ns = 1 * SEC,
		.mono_to_real_ns = (__s64)(NOW_REAL - NOW),
	};
	struct top *t = top_new(&o);

	assert_non_null(t);
	return t;
}

static void set_addr(__u8 ip, const char *text, union tcl_addr *a)
{
	assert_int_equal(inet_pton(ip == 4 ? AF_INET : AF_INET6, text, a), 1);
}

static struct tcl_event conn(__u64 id, const char *saddr, __u16 sport,
			     const char *daddr, __u16 dport, __u64 ts_ns)
{
	struct tcl_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.ip = strchr(daddr, ':') ? 6 : 4;
	set_addr(ev.ip, saddr, &ev.saddr);
	set_addr(ev.ip, daddr, &ev.daddr);
	ev.sport = sport;
	ev.dport = dport;
	ev.ts_ns = ts_ns;
	ev.conn_id = id;
	ev.kind = TCL_KIND_CONNECT;
	ev.result = TCL_ESTABLISHED;
	ev.stage = TCL_STAGE_OUTCOME;
	ev.pid = 4242;
	ev.tid = 4243;
	strcpy(ev.comm, "curl");
	return ev;
}

static struct tcl_event closing(__u64 id)
{
	struct tcl_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.kind = TCL_KIND_CLOSE;
	ev.conn_id = id;
	ev.ip = 4;
	return ev;
}

/* sock_diag lists the established connection of ev, with these data
 * bytes: counted as the kernel does, with the SYN of a connect
 */
static void diag_has(struct sockdiag *d, const struct tcl_event *ev,
		     __u64 sent, __u64 received, __u32 rtt_us)
{
	__u64 syn = ev->flags & TCL_F_INBOUND ? 0 : 1;
	struct diag_info info = { sent + syn, received, rtt_us, 1 /* ESTABLISHED */ };
	struct diag_key k;

	diag_key_make(&k, ev->ip, &ev->saddr, ev->sport, &ev->daddr, ev->dport);
	assert_int_equal(sockdiag_add(d, &k, &info), 0);
}

/* printf into a growing string */
static char *expected;

static void expect(const char *fmt, ...)
{
	size_t len = expected ? strlen(expected) : 0;
	char line[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	expected = realloc(expected, len + strlen(line) + 1);
	assert_non_null(expected);
	strcpy(expected + len, line);
}

static void expect_reset(void)
{
	free(expected);
	expected = NULL;
}

static void expect_header(int w)
{
	expect(ROW_FMT, "COMM", "PID", w, "LOCAL", w, "REMOTE", "AGE(s)", "TX", "RX",
	       "RTT(ms)");
}

/* ---- rows ---- */

static void test_rows_open_and_close_by_conn_id(void **state)
{
	struct top *t = new_top(false);
	struct tcl_event a = conn(1, "10.0.0.1", 40000, "10.0.0.2", 443, 1 * SEC);
	struct tcl_event b = conn(2, "10.0.0.1", 40001, "10.0.0.2", 443, 2 * SEC);
	struct tcl_event acc = conn(3, "10.0.0.1", 22, "10.0.0.9", 50000, 3 * SEC);
	struct tcl_event other = closing(99);

	(void)state;
	acc.kind = TCL_KIND_ACCEPT;
	assert_int_equal(top_count(t), 0);
	top_on_event(t, &a);
	top_on_event(t, &b);
	top_on_event(t, &acc);
	assert_int_equal(top_count(t), 3);
	/* a close of a connection opened before the start changes nothing */
	top_on_event(t, &other);
	assert_int_equal(top_count(t), 3);
	/* the close carries only the id: its addresses do not matter */
	other = closing(2);
	top_on_event(t, &other);
	assert_int_equal(top_count(t), 2);
	top_on_event(t, &other);
	assert_int_equal(top_count(t), 2);
	other = closing(3);
	top_on_event(t, &other);
	other = closing(1);
	top_on_event(t, &other);
	assert_int_equal(top_count(t), 0);
	top_free(t);
}

static void test_rows_only_from_open_connections(void **state)
{
	struct top *t = new_top(false);
	struct tcl_event ev;

	(void)state;
	/* failed, pending and -i call records do not open a row */
	for (unsigned int r = TCL_PENDING; r < TCL_RESULT_MAX; r++) {
		if (r == TCL_ESTABLISHED)
			continue;
		ev = conn(10 + r, "10.0.0.1", 40000 + r, "10.0.0.2", 80, SEC);
		ev.result = r;
		top_on_event(t, &ev);
	}
	ev = conn(30, "10.0.0.1", 41000, "10.0.0.2", 80, SEC);
	ev.stage = TCL_STAGE_CALL;
	top_on_event(t, &ev);
	/* id 0 is never handed out: such a record cannot be closed */
	ev = conn(0, "10.0.0.1", 41001, "10.0.0.2", 80, SEC);
	top_on_event(t, &ev);
	assert_int_equal(top_count(t), 0);

	/* the same record twice is one row */
	ev = conn(31, "10.0.0.1", 41002, "10.0.0.2", 80, SEC);
	top_on_event(t, &ev);
	top_on_event(t, &ev);
	assert_int_equal(top_count(t), 1);
	top_free(t);
}

static void test_rows_many_opened_and_closed(void **state)
{
	struct top *t = new_top(false);
	struct tcl_event ev;
	const __u64 n = 5000;

	(void)state;
	for (__u64 id = 1; id <= n; id++) {
		ev = conn(id, "10.0.0.1", 1000 + id, "10.0.0.2", 80, id);
		top_on_event(t, &ev);
	}
	assert_int_equal(top_count(t), n);
	/* every other one, then the rest: each close must find its row
	 * after the removals before it moved rows around
	 */
	for (__u64 id = 1; id <= n; id += 2) {
		ev = closing(id);
		top_on_event(t, &ev);
	}
	assert_int_equal(top_count(t), n / 2);
	for (__u64 id = n; id >= 2; id -= 2) {
		ev = closing(id);
		top_on_event(t, &ev);
		assert_int_equal(top_count(t), id / 2 - 1);
	}
	top_free(t);
}

/* ---- text snapshots ---- */

static void test_text_snapshot_exact(void **state)
{
	struct top *t = new_top(false);
	struct tcl_event a = conn(1, "10.0.0.1", 40000, "93.184.216.34", 443, NOW - 12350 * 1000000ULL);
	struct tcl_event b = conn(2, "10.0.0.1", 40001, "10.0.0.2", 8080, NOW - 250 * 1000000ULL);
	struct sockdiag d;

	(void)state;
	sockdiag_init(&d);
	b.pid = 7;
	strcpy(b.comm, "wget");
	top_on_event(t, &a);
	top_on_event(t, &b);
	diag_has(&d, &a, 3001, 5000, 1234);
	diag_has(&d, &b, 1, 70000, 45);
	top_update(t, &d);
	CAPTURE(top_print_snapshot(t, f, NOW));

	expect_reset();
	expect("--- " NOW_TEXT " 2 open connections\n");
	expect_header(21);
	/* b has more bytes: first */
	expect(ROW_FMT, "wget", "7", 21, "10.0.0.1:40001", 21, "10.0.0.2:8080", "0.2",
	       "1", "70000", "0.045");
	expect(ROW_FMT, "curl", "4242", 21, "10.0.0.1:40000", 21, "93.184.216.34:443",
	       "12.3", "3001", "5000", "1.234");
	assert_string_equal(captured, expected);
	sockdiag_free(&d);
	top_free(t);
}

static void test_text_snapshot_empty(void **state)
{
	struct top *t = new_top(false);

	(void)state;
	CAPTURE(top_print_snapshot(t, f, NOW));
	expect_reset();
	expect("--- " NOW_TEXT " 0 open connections\n");
	expect_header(21);
	assert_string_equal(captured, expected);
	top_free(t);
}

static void test_text_unknown_counters_and_process(void **state)
{
	struct top *t = new_top(false);
	struct tcl_event a = conn(1, "127.0.0.1", 5000, "127.0.0.1", 40000, NOW - 3 * SEC);
	struct sockdiag d;

	(void)state;
	sockdiag_init(&d);
	a.kind = TCL_KIND_ACCEPT;
	a.flags = TCL_F_NO_PROCESS;
	memset(a.comm, 0, sizeof(a.comm));
	a.pid = 0;
	top_on_event(t, &a);
	/* sock_diag answered, without this connection (another namespace) */
	top_update(t, &d);
	CAPTURE(top_print_snapshot(t, f, NOW));
	expect_reset();
	expect("--- " NOW_TEXT " 1 open connection\n");
	expect_header(21);
	expect(ROW_FMT, "-", "-", 21, "127.0.0.1:5000", 21, "127.0.0.1:40000", "3.0",
	       "-", "-", "-");
	assert_string_equal(captured, expected);

	/* a failed dump: the same */
	top_update(t, NULL);
	CAPTURE(top_print_snapshot(t, f, NOW));
	assert_string_equal(captured, expected);
	sockdiag_free(&d);
	top_free(t);
}

static void test_text_ipv6_widens_address_columns(void **state)
{
	const char *far = "fdcc:1234:5678:9001:aaaa:bbbb:cccc:dd02";
	struct top *t = new_top(false);
	struct tcl_event a = conn(1, "fdcc:1234:5678:9001:aaaa:bbbb:cccc:dd01", 51234,
				  far, 443, NOW - SEC);
	struct tcl_event b = conn(2, "10.1.2.3", 3333, "10.3.2.1", 80, NOW - 2 * SEC);
	struct sockdiag d;
	char local[64], remote[64];

	(void)state;
	sockdiag_init(&d);
	top_on_event(t, &a);
	top_on_event(t, &b);
	diag_has(&d, &a, 10, 20, 1);
	top_update(t, &d);
	CAPTURE(top_print_snapshot(t, f, NOW));
	/* "[" 39 "]:" 5 */
	snprintf(local, sizeof(local), "[%s]:%u", "fdcc:1234:5678:9001:aaaa:bbbb:cccc:dd01", 51234);
	snprintf(remote, sizeof(remote), "[%s]:%u", far, 443);
	expect_reset();
	expect("--- " NOW_TEXT " 2 open connections\n");
	expect_header(47);
	expect(ROW_FMT, "curl", "4242", 47, local, 47, remote, "1.0", "10", "20", "0.001");
	expect(ROW_FMT, "curl", "4242", 47, "10.1.2.3:3333", 47, "10.3.2.1:80", "2.0",
	       "-", "-", "-");
	assert_string_equal(captured, expected);
	sockdiag_free(&d);
	top_free(t);
}

static void test_text_comm_control_bytes_not_raw(void **state)
{
	struct top *t = new_top(false);
	struct tcl_event a = conn(1, "10.0.0.1", 1, "10.0.0.2", 2, NOW);

	(void)state;
	memcpy(a.comm, "ev\nil\033[2Jxxxxxxx", TCL_COMM_LEN);	/* 16 bytes, no NUL */
	top_on_event(t, &a);
	top_update(t, NULL);
	CAPTURE(top_print_snapshot(t, f, NOW));
	assert_non_null(strstr(captured, "\nev\\x0ail\\x1b[2Jxxxxxxx 4242 "));
	assert_null(strchr(captured, '\033'));
	top_free(t);
}

/* ---- order ---- */

/* The ids of a text snapshot's rows, top to bottom, by their source port. */
static void order_of(struct top *t, __u16 *ports, size_t n)
{
	char *line;
	size_t i = 0;

	CAPTURE(top_print_snapshot(t, f, NOW));
	line = strchr(captured, '\n') + 1;	/* past the --- line */
	line = strchr(line, '\n') + 1;		/* and the header */
	for (; *line; line = strchr(line, '\n') + 1) {
		char *colon = strchr(line, ':');

		assert_true(i < n);
		ports[i++] = (__u16)atoi(colon + 1);
	}
	assert_int_equal(i, n);
}

static void test_sorted_by_bytes_then_age(void **state)
{
	struct top *t = new_top(false);
	struct sockdiag d;
	/* sport: its place in the expected order */
	struct tcl_event ev[] = {
		conn(1, "10.0.0.1", 6, "10.0.0.2", 80, 50 * SEC),	/* unknown, newer */
		conn(2, "10.0.0.1", 3, "10.0.0.2", 80, 60 * SEC),	/* 100 bytes, newest */
		conn(3, "10.0.0.1", 1, "10.0.0.2", 80, 90 * SEC),	/* 1000 bytes */
		conn(4, "10.0.0.1", 2, "10.0.0.2", 80, 10 * SEC),	/* 100 bytes, oldest */
		conn(5, "10.0.0.1", 5, "10.0.0.2", 80, 20 * SEC),	/* unknown, older */
		conn(6, "10.0.0.1", 4, "10.0.0.2", 80, 1 * SEC),	/* 0 bytes, oldest of all */
	};
	__u16 ports[6];

	(void)state;
	sockdiag_init(&d);
	for (size_t i = 0; i < 6; i++)
		top_on_event(t, &ev[i]);
	diag_has(&d, &ev[1], 60, 40, 1);
	diag_has(&d, &ev[2], 0, 1000, 1);
	diag_has(&d, &ev[3], 99, 1, 1);
	diag_has(&d, &ev[5], 0, 0, 1);
	top_update(t, &d);
	order_of(t, ports, 6);
	/* unknown counts as 0 bytes: ties with ev[5] go by age */
	for (size_t i = 0; i < 6; i++)
		assert_int_equal(ports[i], i + 1);
	sockdiag_free(&d);
	top_free(t);
}

/* ---- JSON ---- */

static void test_sorted_by_the_keys(void **state)
{
	struct top *t = new_top(false);
	struct sockdiag d;
	/* sport: the connection's number */
	struct tcl_event ev[] = {
		conn(1, "10.0.0.3", 1, "10.0.0.7", 443, 10 * SEC),
		conn(2, "10.0.0.1", 2, "10.0.0.9", 80, 20 * SEC),
		conn(3, "10.0.0.2", 3, "10.0.0.8", 22, 30 * SEC),
	};
	static const char *const comms[] = { "curl", "apt", "wget" };
	static const __u32 pids[] = { 300, 100, 200 };
	/* keys typed one after the other, and the order after each */
	static const struct {
		const char *keys;
		__u16 order[3];
	} steps[] = {
		{ "", { 1, 2, 3 } },		/* TX+RX: 1005, 900, 600 */
		{ "<", { 2, 3, 1 } },		/* TX: 900, 300, 10 */
		{ ">>", { 1, 3, 2 } },		/* RX: 995, 300, 0 */
		{ ">", { 3, 1, 2 } },		/* RTT: 3, 2, 1 ms */
		{ "r", { 2, 1, 3 } },
		{ "r", { 3, 1, 2 } },
		{ "scomm\r", { 2, 1, 3 } },	/* apt, curl, wget */
		{ "spid\r", { 1, 3, 2 } },	/* 300, 200, 100 */
		{ "slocal\r", { 2, 3, 1 } },	/* 10.0.0.1, .2, .3 */
		{ "sremote\r", { 1, 3, 2 } },	/* 10.0.0.7, .8, .9 */
		{ "r", { 2, 3, 1 } },
		{ "sage\r", { 3, 2, 1 } },	/* reversed: the newest first */
		{ "R", { 1, 2, 3 } },		/* the oldest first */
	};
	__u16 ports[3];

	(void)state;
	sockdiag_init(&d);
	for (size_t i = 0; i < 3; i++) {
		strcpy(ev[i].comm, comms[i]);
		ev[i].pid = pids[i];
		top_on_event(t, &ev[i]);
	}
	diag_has(&d, &ev[0], 10, 995, 2000);
	diag_has(&d, &ev[1], 900, 0, 1000);
	diag_has(&d, &ev[2], 300, 300, 3000);
	top_update(t, &d);
	for (size_t s = 0; s < sizeof(steps) / sizeof(steps[0]); s++) {
		top_feed_keys(t, steps[s].keys, strlen(steps[s].keys));
		order_of(t, ports, 3);
		for (size_t i = 0; i < 3; i++)
			assert_int_equal(ports[i], steps[s].order[i]);
	}
	sockdiag_free(&d);
	top_free(t);
}

static void test_json_snapshot_exact(void **state)
{
	struct top *t = new_top(true);
	struct tcl_event a = conn(7, "10.0.0.1", 40000, "93.184.216.34", 443, NOW - 12345678901ULL);
	struct tcl_event b = conn(9, "::1", 8080, "::1", 50001, NOW - 2 * SEC);
	struct tcl_event c = conn(8, "10.0.0.1", 40002, "10.0.0.2", 80, NOW - SEC);
	struct sockdiag d;

	(void)state;
	sockdiag_init(&d);
	b.kind = TCL_KIND_ACCEPT;
	b.flags = TCL_F_NO_PROCESS;
	strcpy(c.comm, "a\"b\\c");
	top_on_event(t, &a);
	top_on_event(t, &b);
	top_on_event(t, &c);
	diag_has(&d, &a, 3001, 5000, 1234);
	diag_has(&d, &b, 10, 10, 7);
	top_update(t, &d);
	CAPTURE(top_print_snapshot(t, f, NOW));
	assert_string_equal(captured,
		"{\"event\":\"top\",\"run\":\"" RUNINFO_NIL_UUID "\",\"time\":\"" NOW_TEXT "\",\"connections\":["
		"{\"id\":7,\"pid\":4242,\"comm\":\"curl\",\"ip\":4,\"saddr\":\"10.0.0.1\","
		"\"sport\":40000,\"daddr\":\"93.184.216.34\",\"dport\":443,\"age_s\":12.345,"
		"\"bytes_sent\":3001,\"bytes_received\":5000,\"srtt_us\":1234},"
		"{\"id\":9,\"pid\":null,\"comm\":null,\"ip\":6,\"saddr\":\"::1\","
		"\"sport\":8080,\"daddr\":\"::1\",\"dport\":50001,\"age_s\":2.000,"
		"\"bytes_sent\":10,\"bytes_received\":10,\"srtt_us\":7},"
		"{\"id\":8,\"pid\":4242,\"comm\":\"a\\\"b\\\\c\",\"ip\":4,\"saddr\":\"10.0.0.1\","
		"\"sport\":40002,\"daddr\":\"10.0.0.2\",\"dport\":80,\"age_s\":1.000,"
		"\"bytes_sent\":null,\"bytes_received\":null,\"srtt_us\":null}"
		"]}\n");
	sockdiag_free(&d);
	top_free(t);
}

static void test_json_snapshot_empty(void **state)
{
	struct top *t = new_top(true);

	(void)state;
	CAPTURE(top_print_snapshot(t, f, NOW));
	assert_string_equal(captured,
		"{\"event\":\"top\",\"run\":\"" RUNINFO_NIL_UUID "\",\"time\":\"" NOW_TEXT "\",\"connections\":[]}\n");
	top_free(t);
}

static void test_json_many_rows_one_line(void **state)
{
	struct top *t = new_top(true);
	struct tcl_event ev;
	size_t lines = 0, objects = 0;

	(void)state;
	for (__u64 id = 1; id <= 200; id++) {
		ev = conn(id, "fdcc:1234:5678:9001:aaaa:bbbb:cccc:dd01", id,
			  "fdcc:1234:5678:9001:aaaa:bbbb:cccc:dd02", 443, SEC);
		top_on_event(t, &ev);
	}
	top_update(t, NULL);
	CAPTURE(top_print_snapshot(t, f, NOW));
	for (char *p = captured; *p; p++) {
		lines += *p == '\n';
		objects += !strncmp(p, "{\"id\":", 6);
	}
	assert_int_equal(lines, 1);
	assert_int_equal(objects, 200);
	assert_int_equal(captured[strlen(captured) - 2], '}');
	top_free(t);
}

/* ---- sock_diag matching ---- */

static void test_mapped_ipv6_matches_ipv4_tuple(void **state)
{
	struct top *t = new_top(true);
	struct tcl_event mapped = conn(1, "::ffff:127.0.0.1", 40000, "::ffff:127.0.0.1", 80, NOW);
	struct tcl_event plain = conn(2, "127.0.0.1", 40000, "127.0.0.1", 80, NOW);
	struct sockdiag d;

	(void)state;
	sockdiag_init(&d);
	/* sock_diag names the same connection the other way round */
	top_on_event(t, &mapped);
	diag_has(&d, &plain, 11, 22, 33);
	top_update(t, &d);
	CAPTURE(top_print_snapshot(t, f, NOW));
	assert_non_null(strstr(captured, "\"saddr\":\"::ffff:127.0.0.1\""));
	assert_non_null(strstr(captured, "\"bytes_sent\":11,\"bytes_received\":22,\"srtt_us\":33"));
	sockdiag_free(&d);
	top_free(t);
}

static void test_tuple_must_match_exactly(void **state)
{
	struct top *t = new_top(true);
	struct tcl_event row = conn(1, "10.0.0.1", 40000, "10.0.0.2", 80, NOW);
	struct tcl_event near[4];
	struct sockdiag d;

	(void)state;
	sockdiag_init(&d);
	for (int i = 0; i < 4; i++)
		near[i] = row;
	near[0].sport++;
	near[1].dport++;
	set_addr(4, "10.0.0.3", &near[2].saddr);
	/* the other end of the same connection */
	near[3].saddr = row.daddr;
	near[3].daddr = row.saddr;
	near[3].sport = row.dport;
	near[3].dport = row.sport;
	top_on_event(t, &row);
	for (int i = 0; i < 4; i++)
		diag_has(&d, &near[i], 1, 1, 1);
	top_update(t, &d);
	CAPTURE(top_print_snapshot(t, f, NOW));
	assert_non_null(strstr(captured, "\"bytes_sent\":null"));
	sockdiag_free(&d);
	top_free(t);
}

static void test_row_gone_from_diag_is_dropped(void **state)
{
	struct top *t = new_top(false);
	struct tcl_event here = conn(1, "10.0.0.1", 40000, "10.0.0.2", 80, NOW);
	struct tcl_event elsewhere = conn(2, "10.0.0.1", 40001, "10.0.0.2", 80, NOW);
	struct sockdiag d;

	(void)state;
	sockdiag_init(&d);
	top_on_event(t, &here);
	top_on_event(t, &elsewhere);
	diag_has(&d, &here, 1, 1, 1);
	top_update(t, &d);
	sockdiag_clear(&d);
	/* a failed dump proves nothing */
	top_update(t, NULL);
	top_update(t, NULL);
	assert_int_equal(top_count(t), 2);
	/* one miss may be a socket the dump skipped */
	top_update(t, &d);
	assert_int_equal(top_count(t), 2);
	/* back again: the misses start over */
	diag_has(&d, &here, 2, 2, 1);
	top_update(t, &d);
	sockdiag_clear(&d);
	top_update(t, &d);
	assert_int_equal(top_count(t), 2);
	/* the second miss in a row: its close record was lost */
	top_update(t, &d);
	assert_int_equal(top_count(t), 1);
	/* never seen (another namespace): kept until its close record */
	for (int i = 0; i < 5; i++)
		top_update(t, &d);
	assert_int_equal(top_count(t), 1);
	here = closing(2);
	top_on_event(t, &here);
	assert_int_equal(top_count(t), 0);
	sockdiag_free(&d);
	top_free(t);
}

/* ---- the terminal frame ---- */

/* The lines of a frame, escape sequences kept; returns how many. */
static size_t frame_lines(char *frame, char **lines, size_t max)
{
	size_t n = 0;

	for (char *p = frame; p && n < max; n++) {
		lines[n] = p;
		p = strchr(p, '\n');
		if (p)
			*p++ = '\0';
	}
	return n;
}

static void test_draw_fits_the_screen(void **state)
{
	struct top *t = new_top(false);
	struct tcl_event ev;
	struct sockdiag d;
	char *lines[32];
	size_t n;

	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	sockdiag_init(&d);
	for (__u64 id = 1; id <= 10; id++) {
		ev = conn(id, "10.0.0.1", 40000 + id, "10.0.0.2", 80, NOW - id * SEC);
		top_on_event(t, &ev);
		diag_has(&d, &ev, id * 100, 0, 5);
	}
	top_update(t, &d);
	top_snapshot(t, NOW);
	CAPTURE(top_draw(t, f, 7, 200));
	/* home first, erase below last, no newline that would scroll */
	assert_memory_equal(captured, "\033[H", 3);
	assert_string_equal(captured + strlen(captured) - 3, "\033[J");
	n = frame_lines(captured, lines, 32);
	assert_int_equal(n, 7);
	assert_string_equal(lines[0], "\033[Htcpconnlog --top: 10 open connections, "
			    "03:04:05 - h for help, q to quit\033[K");
	assert_string_equal(lines[1], "sorted by TX+RX, descending; every 1 s\033[K");
	/* the sort key's columns marked */
	assert_memory_equal(lines[2], "COMM ", 5);
	assert_non_null(strstr(lines[2], " TX* "));
	assert_non_null(strstr(lines[2], " RX* "));
	assert_non_null(strstr(lines[3], "10.0.0.1:40010 "));
	assert_non_null(strstr(lines[4], "10.0.0.1:40009 "));
	assert_non_null(strstr(lines[5], "10.0.0.1:40008 "));
	assert_string_equal(lines[6], "... and 7 more\033[K\033[J");

	/* room for all: no "more" line */
	CAPTURE(top_draw(t, f, 13, 200));
	n = frame_lines(captured, lines, 32);
	assert_int_equal(n, 13);
	assert_non_null(strstr(lines[12], "10.0.0.1:40001 "));
	assert_null(strstr(lines[12], "more"));
	sockdiag_free(&d);
	top_free(t);
}

static void test_draw_cuts_long_lines(void **state)
{
	struct top *t = new_top(false);
	struct tcl_event ev = conn(1, "10.0.0.1", 40000, "10.0.0.2", 80, NOW);
	char *lines[8];
	size_t n;

	(void)state;
	top_on_event(t, &ev);
	top_update(t, NULL);
	top_snapshot(t, NOW);
	CAPTURE(top_draw(t, f, 24, 30));
	n = frame_lines(captured, lines, 8);
	assert_int_equal(n, 4);
	/* 29 columns, then erase to the end of the line */
	assert_string_equal(lines[1], "sorted by TX+RX, descending; \033[K");
	assert_string_equal(lines[2], "COMM             PID     LOCA\033[K");
	assert_string_equal(lines[3], "curl             4242    10.0\033[K\033[J");

	/* a screen of one line: the title alone */
	CAPTURE(top_draw(t, f, 1, 80));
	n = frame_lines(captured, lines, 8);
	assert_int_equal(n, 1);
	top_free(t);
}

static void test_draw_empty(void **state)
{
	struct top *t = new_top(false);
	char *lines[8];

	(void)state;
	setenv("TZ", "UTC", 1);
	tzset();
	top_snapshot(t, NOW);
	CAPTURE(top_draw(t, f, 24, 200));
	assert_int_equal(frame_lines(captured, lines, 8), 3);
	assert_string_equal(lines[0], "\033[Htcpconnlog --top: 0 open connections, "
			    "03:04:05 - h for help, q to quit\033[K");
	assert_string_equal(lines[2] + strlen(lines[2]) - 6, "\033[K\033[J");
	top_free(t);
}

static void test_not_a_terminal_reads_no_keys(void **state)
{
	struct top *t = new_top(false);

	(void)state;
	assert_int_equal(top_wait_fd(t), -1);
	/* nothing refreshed yet: the first one is due now */
	assert_int_equal(top_wait_ms(t, NOW, 100), 0);
	top_restore_terminal(t);
	top_restore_terminal(t);
	top_free(t);
	top_free(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rows_open_and_close_by_conn_id),
		cmocka_unit_test(test_rows_only_from_open_connections),
		cmocka_unit_test(test_rows_many_opened_and_closed),
		cmocka_unit_test(test_text_snapshot_exact),
		cmocka_unit_test(test_text_snapshot_empty),
		cmocka_unit_test(test_text_unknown_counters_and_process),
		cmocka_unit_test(test_text_ipv6_widens_address_columns),
		cmocka_unit_test(test_text_comm_control_bytes_not_raw),
		cmocka_unit_test(test_sorted_by_bytes_then_age),
		cmocka_unit_test(test_sorted_by_the_keys),
		cmocka_unit_test(test_json_snapshot_exact),
		cmocka_unit_test(test_json_snapshot_empty),
		cmocka_unit_test(test_json_many_rows_one_line),
		cmocka_unit_test(test_mapped_ipv6_matches_ipv4_tuple),
		cmocka_unit_test(test_tuple_must_match_exactly),
		cmocka_unit_test(test_row_gone_from_diag_is_dropped),
		cmocka_unit_test(test_draw_fits_the_screen),
		cmocka_unit_test(test_draw_cuts_long_lines),
		cmocka_unit_test(test_draw_empty),
		cmocka_unit_test(test_not_a_terminal_reads_no_keys),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	free(captured);
	free(expected);
	return rc;
}
