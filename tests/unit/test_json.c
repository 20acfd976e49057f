// SPDX-License-Identifier: GPL-2.0-only
// Unit tests for format_json.c: json_string escaping, rfc3339_utc and format_json_event lines.
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <string.h>
#include <cmocka.h>

#include "format.h"
#include "tcpconnlog.h"
#include "hostile_names.h"
#include "widest.h"
#include "runinfo.h"

/* Output of the last call as a C string. */
static char out[1024];

static const char *json_of(const char *s, size_t n)
{
	struct strbuf sb;

	sb_init(&sb, out, sizeof(out) - 1);
	json_string(&sb, s, n);
	assert_false(sb.overflow);
	out[sb.len] = '\0';
	return out;
}

/* NUL-terminated input, limit well past its end */
#define JSON(s) json_of((s), sizeof(s) + 8)

static const char *time_of(__s64 ns)
{
	struct strbuf sb;

	sb_init(&sb, out, sizeof(out) - 1);
	rfc3339_utc(&sb, ns);
	assert_false(sb.overflow);
	out[sb.len] = '\0';
	return out;
}

/* ---- json_string ---- */

static void test_json_plain_ascii(void **state)
{
	(void)state;
	assert_string_equal(JSON(""), "\"\"");
	assert_string_equal(JSON("curl"), "\"curl\"");
	assert_string_equal(JSON("hello world"), "\"hello world\"");
	assert_string_equal(JSON(" !#$%&'()*+,-./09:;<=>?@AZ[]^_`az{|}~"),
			    "\" !#$%&'()*+,-./09:;<=>?@AZ[]^_`az{|}~\"");
}

static void test_json_quote_backslash(void **state)
{
	(void)state;
	assert_string_equal(JSON("\""), "\"\\\"\"");
	assert_string_equal(JSON("\\"), "\"\\\\\"");
	assert_string_equal(JSON("a\"b\\c"), "\"a\\\"b\\\\c\"");
	assert_string_equal(JSON("\\\""), "\"\\\\\\\"\"");
}

static void test_json_control_chars(void **state)
{
	(void)state;
	/* \u00XX with lowercase hex is valid JSON for every control character */
	assert_string_equal(JSON("\n"), "\"\\u000a\"");
	assert_string_equal(JSON("\t"), "\"\\u0009\"");
	assert_string_equal(JSON("\r"), "\"\\u000d\"");
	assert_string_equal(JSON("\x01"), "\"\\u0001\"");
	assert_string_equal(JSON("\x1f"), "\"\\u001f\"");
	assert_string_equal(JSON("\x7f"), "\"\\u007f\"");
	assert_string_equal(JSON("a\nb"), "\"a\\u000ab\"");
	assert_string_equal(JSON("\x1b[0m"), "\"\\u001b[0m\"");
}

static void test_json_every_control_byte(void **state)
{
	static const char hex[] = "0123456789abcdef";

	(void)state;
	for (unsigned int c = 1; c < 0x20; c++) {
		char in[2] = { (char)c, 0 }, want[16];

		snprintf(want, sizeof(want), "\"\\u00%c%c\"", hex[c >> 4], hex[c & 15]);
		assert_string_equal(json_of(in, 2), want);
	}
}

static void test_json_valid_utf8_unchanged(void **state)
{
	static const char *const valid[] = {
		"\xc2\xa0",		/* U+00A0, the first after the C1 controls */
		"\xc3\xa9",		/* U+00E9 e acute */
		"\xdf\xbf",		/* U+07FF, largest 2-byte */
		"\xe0\xa0\x80",		/* U+0800, smallest 3-byte */
		"\xe2\x82\xac",		/* U+20AC euro */
		"\xed\x9f\xbf",		/* U+D7FF, just below the surrogates */
		"\xee\x80\x80",		/* U+E000, just above them */
		"\xef\xbf\xbf",		/* U+FFFF */
		"\xf0\x90\x80\x80",	/* U+10000, smallest 4-byte */
		"\xf0\x9f\x98\x80",	/* U+1F600 */
		"\xf4\x8f\xbf\xbf",	/* U+10FFFF, the last code point */
		"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80!",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(valid) / sizeof(*valid); i++) {
		char want[64];

		snprintf(want, sizeof(want), "\"%s\"", valid[i]);
		assert_string_equal(json_of(valid[i], strlen(valid[i]) + 1), want);
	}
}

static void test_json_invalid_bytes_escaped(void **state)
{
	(void)state;
	/* lone continuation byte, bytes never valid in UTF-8 */
	assert_string_equal(JSON("\x80"), "\"\\u0080\"");
	assert_string_equal(JSON("\xbf"), "\"\\u00bf\"");
	assert_string_equal(JSON("\xff"), "\"\\u00ff\"");
	assert_string_equal(JSON("\xfe"), "\"\\u00fe\"");
	assert_string_equal(JSON("a\xff" "b"), "\"a\\u00ffb\"");
	/* sequence cut short by the end of the string, or by another byte */
	assert_string_equal(JSON("a\xe2\x82"), "\"a\\u00e2\\u0082\"");
	assert_string_equal(JSON("\xc3"), "\"\\u00c3\"");
	assert_string_equal(JSON("\xc3" "A"), "\"\\u00c3A\"");
	assert_string_equal(JSON("\xf0\x9f\x98"), "\"\\u00f0\\u009f\\u0098\"");
	/* overlong forms */
	assert_string_equal(JSON("\xc0\x80"), "\"\\u00c0\\u0080\"");
	assert_string_equal(JSON("\xc1\xbf"), "\"\\u00c1\\u00bf\"");
	assert_string_equal(JSON("\xe0\x80\x80"), "\"\\u00e0\\u0080\\u0080\"");
	assert_string_equal(JSON("\xf0\x80\x80\x80"),
			    "\"\\u00f0\\u0080\\u0080\\u0080\"");
	/* UTF-16 surrogates, high and low */
	assert_string_equal(JSON("\xed\xa0\x80"), "\"\\u00ed\\u00a0\\u0080\"");
	assert_string_equal(JSON("\xed\xbf\xbf"), "\"\\u00ed\\u00bf\\u00bf\"");
	/* past U+10FFFF */
	assert_string_equal(JSON("\xf4\x90\x80\x80"),
			    "\"\\u00f4\\u0090\\u0080\\u0080\"");
	assert_string_equal(JSON("\xf5\x80\x80\x80"),
			    "\"\\u00f5\\u0080\\u0080\\u0080\"");
	/* a valid sequence right after an invalid byte still passes */
	assert_string_equal(JSON("\x80\xc3\xa9"), "\"\\u0080\xc3\xa9\"");
}

static void test_json_length_limit(void **state)
{
	const char comm[20] = "ABCDEFGHIJKLMNOPQRS";
	char nonul[16];

	(void)state;
	assert_string_equal(json_of(comm, 16), "\"ABCDEFGHIJKLMNOP\"");
	assert_string_equal(json_of(comm, 1), "\"A\"");
	assert_string_equal(json_of(comm, 0), "\"\"");

	/* exactly 16 bytes and not a NUL among them */
	memset(nonul, 'z', sizeof(nonul));
	assert_string_equal(json_of(nonul, sizeof(nonul)), "\"zzzzzzzzzzzzzzzz\"");

	/* the NUL stops it before the limit */
	assert_string_equal(json_of("ab\0cd", 5), "\"ab\"");

	/* a sequence cut by the limit is not valid UTF-8 within the limit */
	assert_string_equal(json_of("\xc3\xa9", 1), "\"\\u00c3\"");
	assert_string_equal(json_of("x\xe2\x82\xac", 3), "\"x\\u00e2\\u0082\"");
	assert_string_equal(json_of("x\xe2\x82\xac", 4), "\"x\xe2\x82\xac\"");
}

static void test_json_overflow_flagged(void **state)
{
	char small[4];
	struct strbuf sb;

	(void)state;
	sb_init(&sb, small, sizeof(small));
	json_string(&sb, "abcdef", 7);
	assert_true(sb.overflow);
	assert_true(sb.len <= sizeof(small));
}

/* ---- rfc3339_utc ---- */

static void test_time_epoch(void **state)
{
	(void)state;
	assert_string_equal(time_of(0), "1970-01-01T00:00:00.000000Z");
	assert_string_equal(time_of(999), "1970-01-01T00:00:00.000000Z");
	assert_string_equal(time_of(1000), "1970-01-01T00:00:00.000001Z");
}

static void test_time_known_instants(void **state)
{
	(void)state;
	assert_string_equal(time_of(1700000000123456789LL), "2023-11-14T22:13:20.123456Z");
	assert_string_equal(time_of(946684799999999999LL), "1999-12-31T23:59:59.999999Z");
	assert_string_equal(time_of(1709164800000000000LL), "2024-02-29T00:00:00.000000Z");
	assert_string_equal(time_of(4102444800000001000LL), "2100-01-01T00:00:00.000001Z");
}

static void test_time_same_and_other_seconds(void **state)
{
	(void)state;
	/* same second twice: the cached date part, a new fraction */
	assert_string_equal(time_of(1700000000000000000LL), "2023-11-14T22:13:20.000000Z");
	assert_string_equal(time_of(1700000000999999999LL), "2023-11-14T22:13:20.999999Z");
	/* the next second */
	assert_string_equal(time_of(1700000001000000000LL), "2023-11-14T22:13:21.000000Z");
	/* back to an earlier second, and far away */
	assert_string_equal(time_of(1699999999500000000LL), "2023-11-14T22:13:19.500000Z");
	assert_string_equal(time_of(0), "1970-01-01T00:00:00.000000Z");
	assert_string_equal(time_of(1700000000654321000LL), "2023-11-14T22:13:20.654321Z");
	assert_string_equal(time_of(1700000000654321000LL), "2023-11-14T22:13:20.654321Z");
}

/* ---- format_json_event ---- */

/* the keys of where a process runs, with nothing known of it */
#define NO_NAMES ",\"cgroup_id\":null,\"cgroup\":null,\"container\":null," \
		 "\"netns\":null,\"mntns\":null"

/* ts_ns 5.123456789 s on the monotonic clock is 1700000000.123456789 real */
static const struct format_opts json_opts = {
	.addr_width = 39,
	.start_ns = 1000000000ULL,
	.mono_to_real_ns = 1699999995000000000LL,
};

static const char *event_line(const struct tcl_event *ev)
{
	struct strbuf sb;

	sb_init(&sb, out, sizeof(out) - 1);
	format_json_event(&json_opts, ev, NULL, &sb);
	assert_false(sb.overflow);
	out[sb.len] = '\0';
	return out;
}

static void set_v4(union tcl_addr *a, const char *s)
{
	memset(a, 0, sizeof(*a));
	assert_int_equal(inet_pton(AF_INET, s, &a->v4), 1);
}

static void set_v6(union tcl_addr *a, const char *s)
{
	assert_int_equal(inet_pton(AF_INET6, s, a->v6), 1);
}

static void test_event_established_v4(void **state)
{
	struct tcl_event ev = {
		.ts_ns = 5123456789ULL,
		.latency_ns = 1234567,
		.call_ns = 0,
		.sock_id = 0xffff888012345678ULL,
		.conn_id = 1ULL,
		.pid = 1234,
		.tid = 1235,
		.uid = 1000,
		.err = 0,
		.sport = 54321,
		.dport = 443,
		.ip = 4,
		.result = TCL_ESTABLISHED,
		.stage = TCL_STAGE_OUTCOME,
		.flags = 0,
		.comm = "curl",
	};

	(void)state;
	set_v4(&ev.saddr, "10.0.0.1");
	set_v4(&ev.daddr, "93.184.216.34");
	assert_string_equal(event_line(&ev),
		"{\"event\":\"connect\",\"run\":\"" RUNINFO_NIL_UUID "\",\"time\":\"2023-11-14T22:13:20.123456Z\","
		"\"id\":1,"
		"\"pid\":1234,\"tid\":1235,\"uid\":1000,\"comm\":\"curl\",\"ip\":4,"
		"\"saddr\":\"10.0.0.1\",\"sport\":54321,\"daddr\":\"93.184.216.34\","
		"\"dport\":443,\"result\":\"established\",\"errno\":null,"
		"\"latency_us\":1234.567,\"call_us\":null" NO_NAMES "}\n");
}

static void test_event_refused_v6(void **state)
{
	struct tcl_event ev = {
		.ts_ns = 6000000000ULL,
		.latency_ns = 250,
		.sock_id = 1,
		.conn_id = 18446744073709551615ULL,
		.pid = 4194304,
		.tid = 4194304,
		.uid = 0,
		.err = ECONNREFUSED,
		.sport = 40000,
		.dport = 8080,
		.ip = 6,
		.result = TCL_REFUSED,
		.stage = TCL_STAGE_OUTCOME,
		.comm = "python3",
	};

	(void)state;
	set_v6(&ev.saddr, "2001:db8::1");
	set_v6(&ev.daddr, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	assert_string_equal(event_line(&ev),
		"{\"event\":\"connect\",\"run\":\"" RUNINFO_NIL_UUID "\",\"time\":\"2023-11-14T22:13:21.000000Z\","
		"\"id\":18446744073709551615,"
		"\"pid\":4194304,\"tid\":4194304,\"uid\":0,\"comm\":\"python3\",\"ip\":6,"
		"\"saddr\":\"2001:db8::1\",\"sport\":40000,"
		"\"daddr\":\"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff\","
		"\"dport\":8080,\"result\":\"refused\",\"errno\":\"ECONNREFUSED\","
		"\"latency_us\":0.250,\"call_us\":null" NO_NAMES "}\n");
}

static void test_event_pending(void **state)
{
	struct tcl_event ev = {
		.ts_ns = 5000000999ULL,
		.latency_ns = 0,
		.conn_id = 7ULL,
		.pid = 77,
		.tid = 78,
		.uid = 65534,
		.err = 0,
		.sport = 0,
		.dport = 22,
		.ip = 6,
		.result = TCL_PENDING,
		.stage = TCL_STAGE_CALL,
		.flags = 0,
		.comm = "ssh",
	};

	(void)state;
	set_v6(&ev.saddr, "::ffff:192.168.1.2");
	set_v6(&ev.daddr, "::1");
	assert_string_equal(event_line(&ev),
		"{\"event\":\"connect\",\"run\":\"" RUNINFO_NIL_UUID "\",\"time\":\"2023-11-14T22:13:20.000000Z\","
		"\"id\":7,"
		"\"pid\":77,\"tid\":78,\"uid\":65534,\"comm\":\"ssh\",\"ip\":6,"
		"\"saddr\":\"::ffff:192.168.1.2\",\"sport\":0,\"daddr\":\"::1\","
		"\"dport\":22,\"result\":\"pending\",\"errno\":null,"
		"\"latency_us\":null,\"call_us\":null" NO_NAMES "}\n");
}

static void test_event_error_call_measured(void **state)
{
	struct tcl_event ev = {
		.ts_ns = 7000001000ULL,
		.latency_ns = 16000,
		.call_ns = 15001,
		.conn_id = 2ULL,
		.pid = 1,
		.tid = 2,
		.uid = 4294967294U,
		.err = EADDRNOTAVAIL,
		.sport = 0,
		.dport = 65535,
		.ip = 4,
		.result = TCL_ERROR,
		.stage = TCL_STAGE_OUTCOME,
		.flags = TCL_F_CALL_FAILED | TCL_F_CALL_MEASURED,
		/* 14 characters with a quote, a backslash and a tab in them */
		.comm = "my\"app\\x\tyz123",
	};

	(void)state;
	set_v4(&ev.saddr, "0.0.0.0");
	set_v4(&ev.daddr, "255.255.255.255");
	assert_string_equal(event_line(&ev),
		"{\"event\":\"connect\",\"run\":\"" RUNINFO_NIL_UUID "\",\"time\":\"2023-11-14T22:13:22.000001Z\","
		"\"id\":2,"
		"\"pid\":1,\"tid\":2,\"uid\":4294967294,"
		"\"comm\":\"my\\\"app\\\\x\\u0009yz123\",\"ip\":4,"
		"\"saddr\":\"0.0.0.0\",\"sport\":0,\"daddr\":\"255.255.255.255\","
		"\"dport\":65535,\"result\":\"error\",\"errno\":\"EADDRNOTAVAIL\","
		"\"latency_us\":16.000,\"call_us\":15.001" NO_NAMES "}\n");
}

static void test_event_full_comm_no_nul(void **state)
{
	struct tcl_event ev = {
		.ts_ns = 5123456789ULL,
		.latency_ns = 1000,
		.conn_id = 3ULL,
		.pid = 10,
		.tid = 10,
		.uid = 10,
		.dport = 80,
		.ip = 4,
		.result = TCL_TIMEOUT,
		.err = ETIMEDOUT,
		.flags = TCL_F_CALL_MEASURED,
		.call_ns = 0,
	};

	(void)state;
	memcpy(ev.comm, "0123456789abcdef", TCL_COMM_LEN);	/* no NUL */
	set_v4(&ev.saddr, "127.0.0.1");
	set_v4(&ev.daddr, "127.0.0.1");
	assert_string_equal(event_line(&ev),
		"{\"event\":\"connect\",\"run\":\"" RUNINFO_NIL_UUID "\",\"time\":\"2023-11-14T22:13:20.123456Z\","
		"\"id\":3,"
		"\"pid\":10,\"tid\":10,\"uid\":10,\"comm\":\"0123456789abcdef\",\"ip\":4,"
		"\"saddr\":\"127.0.0.1\",\"sport\":0,\"daddr\":\"127.0.0.1\","
		"\"dport\":80,\"result\":\"timeout\",\"errno\":\"ETIMEDOUT\","
		"\"latency_us\":1.000,\"call_us\":0.000" NO_NAMES "}\n");
}

static void test_accept_with_and_without_process(void **state)
{
	struct tcl_event ev = {
		.ts_ns = 5000000000ULL,
		.conn_id = 42,
		.pid = 300,
		.tid = 301,
		.uid = 33,
		.sport = 8080,
		.dport = 51000,
		.ip = 4,
		.result = TCL_ESTABLISHED,
		.kind = TCL_KIND_ACCEPT,
		.flags = TCL_F_INBOUND,
		.comm = "nginx",
	};

	(void)state;
	set_v4(&ev.saddr, "10.1.0.1");
	set_v4(&ev.daddr, "10.1.0.2");
	assert_string_equal(event_line(&ev),
		"{\"event\":\"accept\",\"run\":\"" RUNINFO_NIL_UUID "\",\"time\":\"2023-11-14T22:13:20.000000Z\","
		"\"id\":42,\"pid\":300,\"tid\":301,\"uid\":33,\"comm\":\"nginx\",\"ip\":4,"
		"\"saddr\":\"10.1.0.1\",\"sport\":8080,\"daddr\":\"10.1.0.2\","
		"\"dport\":51000" NO_NAMES "}\n");
	ev.flags |= TCL_F_NO_PROCESS;
	assert_string_equal(event_line(&ev),
		"{\"event\":\"accept\",\"run\":\"" RUNINFO_NIL_UUID "\",\"time\":\"2023-11-14T22:13:20.000000Z\","
		"\"id\":42,\"pid\":null,\"tid\":null,\"uid\":null,\"comm\":null,\"ip\":4,"
		"\"saddr\":\"10.1.0.1\",\"sport\":8080,\"daddr\":\"10.1.0.2\","
		"\"dport\":51000" NO_NAMES "}\n");
}

static void test_close_record(void **state)
{
	struct tcl_event ev = {
		.ts_ns = 6000000000ULL,
		.conn_id = 9,
		.duration_ns = 1500250000ULL,
		.bytes_sent = 1ULL << 40,
		.bytes_received = 0,
		.pid = 5,
		.tid = 6,
		.uid = 0,
		.segs_out = 4294967295U,
		.segs_in = 3,
		.srtt_us = 48,
		.min_rtt_us = 0,
		.retransmits = 2,
		.sport = 40000,
		.dport = 443,
		.ip = 6,
		.kind = TCL_KIND_CLOSE,
		.closer = TCL_CLOSER_REMOTE,
		.comm = "curl",
	};

	(void)state;
	set_v6(&ev.saddr, "fd00::1");
	set_v6(&ev.daddr, "fd00::2");
	assert_string_equal(event_line(&ev),
		"{\"event\":\"close\",\"run\":\"" RUNINFO_NIL_UUID "\",\"time\":\"2023-11-14T22:13:21.000000Z\","
		"\"id\":9,\"pid\":5,\"tid\":6,\"uid\":0,\"comm\":\"curl\",\"ip\":6,"
		"\"saddr\":\"fd00::1\",\"sport\":40000,\"daddr\":\"fd00::2\",\"dport\":443,"
		"\"direction\":\"out\",\"duration_ms\":1500.250,"
		"\"bytes_sent\":1099511627776,\"bytes_received\":0,"
		"\"segs_out\":4294967295,\"segs_in\":3,\"srtt_us\":48,\"min_rtt_us\":null,"
		"\"retransmits\":2,\"closed_by\":\"remote\"" NO_NAMES "}\n");
	ev.closer = TCL_CLOSER_UNKNOWN;
	ev.flags = TCL_F_INBOUND;
	ev.min_rtt_us = 20;
	assert_non_null(strstr(event_line(&ev),
		"\"direction\":\"in\",\"duration_ms\":1500.250,"));
	assert_non_null(strstr(event_line(&ev),
		"\"min_rtt_us\":20,\"retransmits\":2,\"closed_by\":null" NO_NAMES "}\n"));
}

/* ---- where the process runs, and the names (recnames.h) ---- */

#define CID "3f4e9c0b1a2d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7"

static const char *names_line(bool rdns, bool dns, const struct tcl_event *ev,
			      const struct record_names *names)
{
	static char big[TCL_LINE_MAX + 1];
	struct format_opts o = json_opts;
	struct strbuf sb;

	o.rdns = rdns;
	o.dns = dns;
	sb_init(&sb, big, sizeof(big) - 1);
	format_json_event(&o, ev, names, &sb);
	assert_false(sb.overflow);
	big[sb.len] = '\0';
	assert_ptr_equal(strchr(big, '\n'), big + sb.len - 1);
	return big;
}

static struct tcl_event plain_connect(void)
{
	struct tcl_event ev = {
		.ts_ns = 5123456789ULL, .conn_id = 7, .pid = 10, .tid = 10, .ip = 4,
		.sport = 1, .dport = 2, .result = TCL_ESTABLISHED,
		.stage = TCL_STAGE_OUTCOME, .comm = "c",
		.cgroup_id = 18446744073709551615ULL, .netns = 4026531840U, .mntns = 4294967295U,
	};

	set_v4(&ev.saddr, "127.0.0.1");
	set_v4(&ev.daddr, "127.0.0.1");
	return ev;
}

/* the keys and values key_value are in line, in that order */
static void assert_key(const char *line, const char *key_value)
{
	if (!strstr(line, key_value))
		fail_msg("%s not in %s", key_value, line);
}

static void test_process_names_known(void **state)
{
	struct tcl_event ev = plain_connect();
	struct record_names n = { .cgroup = "/libpod_parent/libpod-" CID, .container = CID };

	(void)state;
	assert_key(names_line(false, false, &ev, &n),
		   "\"call_us\":null,\"cgroup_id\":18446744073709551615,"
		   "\"cgroup\":\"/libpod_parent/libpod-" CID "\",\"container\":\"" CID "\","
		   "\"netns\":4026531840,\"mntns\":4294967295}\n");
	/* every kind of record has them, the close too */
	ev.kind = TCL_KIND_CLOSE;
	assert_key(names_line(false, false, &ev, &n), ",\"cgroup_id\":18446744073709551615,");
	ev.kind = TCL_KIND_ACCEPT;
	assert_key(names_line(false, false, &ev, &n), ",\"mntns\":4294967295}\n");
}

static void test_process_names_unknown_are_null(void **state)
{
	struct tcl_event ev = plain_connect();
	struct record_names none = { 0 };

	(void)state;
	ev.cgroup_id = 0;
	ev.netns = 0;
	ev.mntns = 0;
	assert_key(names_line(false, false, &ev, NULL), "\"call_us\":null" NO_NAMES "}\n");
	assert_key(names_line(false, false, &ev, &none), "\"call_us\":null" NO_NAMES "}\n");
	/* a cgroup known without a container (the root, a plain directory) */
	ev.cgroup_id = 1;
	none.cgroup = "/";
	assert_key(names_line(false, false, &ev, &none),
		   ",\"cgroup_id\":1,\"cgroup\":\"/\",\"container\":null,");
	/* no -r, no -d: none of their keys */
	assert_null(strstr(names_line(false, false, &ev, &none), "dns"));
}

/* a directory name can hold any byte but '/' and NUL */
static void test_cgroup_path_hostile(void **state)
{
	struct tcl_event ev = plain_connect();
	struct record_names n = { 0 };

	(void)state;
	for (size_t i = 0; i < HOSTILE_COUNT; i++) {
		char path[64], want[128];

		snprintf(path, sizeof(path), "/x/%s", hostile[i].name);
		/* "/x/" then the name's literal without its opening quote */
		snprintf(want, sizeof(want), ",\"cgroup\":\"/x/%s,", hostile[i].json + 1);
		n.cgroup = path;
		assert_key(names_line(false, false, &ev, &n), want);
	}
	n.cgroup = "/a\"b\\c";
	assert_key(names_line(false, false, &ev, &n), ",\"cgroup\":\"/a\\\"b\\\\c\",");
	n.container = "\x1b[2J";
	assert_key(names_line(false, false, &ev, &n), ",\"container\":\"\\u001b[2J\",");
}

/* names longer than any real one are cut at the bound, never past it */
static void test_names_cut_at_bounds(void **state)
{
	static char long_name[TCL_PATH_MAX + 50];
	struct tcl_event ev = plain_connect();
	struct dns_match m = { .name = long_name };
	struct record_names n = { .cgroup = long_name, .rdns = long_name, .dns = &m };
	const char *line, *v;

	(void)state;
	memset(long_name, 'a', sizeof(long_name) - 1);
	line = names_line(true, true, &ev, &n);
	v = strstr(line, ",\"cgroup\":\"");
	assert_non_null(v);
	v += strlen(",\"cgroup\":\"");
	assert_int_equal(strcspn(v, "\""), TCL_PATH_MAX);
	v = strstr(line, ",\"rdns\":\"");
	assert_non_null(v);
	v += strlen(",\"rdns\":\"");
	assert_int_equal(strcspn(v, "\""), TCL_NAME_MAX);
	v = strstr(line, ",\"dns\":\"");
	assert_non_null(v);
	v += strlen(",\"dns\":\"");
	assert_int_equal(strcspn(v, "\""), TCL_NAME_MAX);
}

static void test_rdns(void **state)
{
	struct tcl_event ev = plain_connect();
	struct record_names n = { .rdns = "host.example." };

	(void)state;
	assert_key(names_line(true, false, &ev, &n), ",\"rdns\":\"host.example.\"}\n");
	assert_null(strstr(names_line(false, false, &ev, &n), "rdns"));
	n.rdns = NULL;
	assert_key(names_line(true, false, &ev, &n), ",\"rdns\":null}\n");
	assert_key(names_line(true, false, &ev, NULL), ",\"rdns\":null}\n");
	n.rdns = "a\tb\xff";
	assert_key(names_line(true, false, &ev, &n), ",\"rdns\":\"a\\u0009b\\u00ff\"}\n");
	/* both: rdns first, the dns keys last */
	assert_key(names_line(true, true, &ev, &n), ",\"rdns\":\"a\\u0009b\\u00ff\",\"dns\":null,");
}

static void test_dns_no_match_all_null(void **state)
{
	struct tcl_event ev = plain_connect();
	struct record_names n = { 0 };

	(void)state;
	assert_key(names_line(false, true, &ev, &n),
		   ",\"dns\":null,\"dns_chain\":null,\"dns_age_ms\":null,\"dns_scope\":null,"
		   "\"dns_expired\":null}\n");
	assert_key(names_line(false, true, &ev, NULL),
		   ",\"dns\":null,\"dns_chain\":null,\"dns_age_ms\":null,\"dns_scope\":null,"
		   "\"dns_expired\":null}\n");
}

static void test_dns_match(void **state)
{
	struct tcl_event ev = plain_connect();
	struct dns_match m = {
		.name = "www.example.test", .chain = { "edge.example.test", "a.cdn.test" },
		.chain_len = 2, .age_ns = 1234567890, .expired = false,
		.scope = DNS_SCOPE_NETNS,
	};
	struct record_names n = { .dns = &m };

	(void)state;
	assert_key(names_line(false, true, &ev, &n),
		   ",\"dns\":\"www.example.test\",\"dns_chain\":[\"edge.example.test\","
		   "\"a.cdn.test\"],\"dns_age_ms\":1234.567,\"dns_scope\":\"netns\","
		   "\"dns_expired\":false}\n");
	m.chain_len = 0;
	m.age_ns = 999;
	m.expired = true;
	m.scope = DNS_SCOPE_PROCESS;
	assert_key(names_line(false, true, &ev, &n),
		   ",\"dns_chain\":[],\"dns_age_ms\":0.000,\"dns_scope\":\"process\","
		   "\"dns_expired\":true}\n");
	m.scope = DNS_SCOPE_HOST;
	assert_key(names_line(false, true, &ev, &n), ",\"dns_scope\":\"host\",");
	/* the longest chain; a count past it prints what is held */
	for (int i = 0; i < TCL_DNS_CHAIN_MAX; i++)
		m.chain[i] = "c";
	m.chain_len = TCL_DNS_CHAIN_MAX + 5;
	assert_key(names_line(false, true, &ev, &n),
		   ",\"dns_chain\":[\"c\",\"c\",\"c\",\"c\",\"c\",\"c\",\"c\",\"c\"],");
	/* an out-of-range scope is no scope, not a read past the table */
	m.scope = (enum dns_scope)77;
	assert_key(names_line(false, true, &ev, &n), ",\"dns_scope\":null,");
}

static void test_dns_loopback_no_age(void **state)
{
	struct tcl_event ev = plain_connect();
	struct dns_match m = { .name = "localhost", .scope = DNS_SCOPE_LOOPBACK };
	struct record_names n = { .dns = &m };

	(void)state;
	assert_key(names_line(false, true, &ev, &n),
		   ",\"dns\":\"localhost\",\"dns_chain\":[],\"dns_age_ms\":null,"
		   "\"dns_scope\":\"loopback\",\"dns_expired\":false}\n");
}

static void test_dns_hostile_names(void **state)
{
	struct tcl_event ev = plain_connect();
	struct dns_match m = { .chain_len = 1, .scope = DNS_SCOPE_HOST };
	struct record_names n = { .dns = &m };

	(void)state;
	for (size_t i = 0; i < HOSTILE_COUNT; i++) {
		char want[256];

		m.name = hostile[i].name;
		m.chain[0] = hostile[i].name;
		snprintf(want, sizeof(want), ",\"dns\":%s,\"dns_chain\":[%s],", hostile[i].json,
			 hostile[i].json);
		assert_key(names_line(false, true, &ev, &n), want);
	}
}

/* ---- the longest line ---- */

/* Each kind of record with every part at its widest fits TCL_LINE_MAX
 * whole: not cut (a cut line lost its newline, and the next record was
 * glued to it).
 */
static void test_widest_records_fit(void **state)
{
	static char line[TCL_LINE_MAX];
	size_t longest = 0;

	(void)state;
	for (__u8 kind = TCL_KIND_CONNECT; kind <= TCL_KIND_CLOSE; kind++) {
		for (size_t i = 0; i < sizeof(widest_errnos) / sizeof(*widest_errnos); i++) {
			struct tcl_event ev = widest_event(kind, widest_errnos[i]);
			struct record_names names = widest_names();
			struct strbuf sb;

			sb_init(&sb, line, sizeof(line));
			format_json_event(&widest_opts, &ev, &names, &sb);
			assert_false(sb.overflow);
			/* one line, whole: its only newline at the end */
			assert_ptr_equal(memchr(line, '\n', sb.len), line + sb.len - 1);
			assert_non_null(memmem(line, sb.len, "\\u00ff\\u00ff\\u00ff\\u00ff\\u00ff"
					       "\\u00ff\\u00ff\\u00ff\\u00ff\\u00ff\\u00ff\\u00ff"
					       "\\u00ff\\u00ff\\u00ff\\u00ff\"", 97));
			if (sb.len > longest)
				longest = sb.len;
		}
	}
	/* the fixed 512 bytes of before did not hold the longest */
	assert_true(longest > 512);
	print_message("longest JSON record: %zu bytes of TCL_LINE_MAX %d\n", longest,
		      TCL_LINE_MAX);
}

/* The nine kinds of names a process can choose, in JSON: valid UTF-8 as
 * it is, controls (C0, DEL, C1, bidi) as \uXXXX, invalid bytes as \u00XX.
 */
static void test_json_hostile_names(void **state)
{
	static const struct {
		const char *name;
		const char *json;
	} more[] = {
		/* the other bidi and invisible controls */
		{ "\xe2\x81\xa6\xe2\x81\xa9", "\"\\u2066\\u2069\"" },
		{ "\xe2\x80\x8e\xd8\x9c\xef\xbb\xbf", "\"\\u200e\\u061c\\ufeff\"" },
		{ "\xe2\x80\xa8", "\"\\u2028\"" },
	};

	(void)state;
	for (size_t i = 0; i < HOSTILE_COUNT; i++)
		assert_string_equal(json_of(hostile[i].name, TCL_COMM_LEN), hostile[i].json);
	for (size_t i = 0; i < sizeof(more) / sizeof(*more); i++)
		assert_string_equal(json_of(more[i].name, TCL_COMM_LEN), more[i].json);
	/* every C1 control */
	for (unsigned int c = 0x80; c <= 0x9f; c++) {
		char in[3] = { (char)0xc2, (char)c, 0 }, want[16];

		snprintf(want, sizeof(want), "\"\\u00%02x\"", c);
		assert_string_equal(json_of(in, 3), want);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_plain_ascii),
		cmocka_unit_test(test_process_names_known),
		cmocka_unit_test(test_process_names_unknown_are_null),
		cmocka_unit_test(test_cgroup_path_hostile),
		cmocka_unit_test(test_names_cut_at_bounds),
		cmocka_unit_test(test_rdns),
		cmocka_unit_test(test_dns_no_match_all_null),
		cmocka_unit_test(test_dns_match),
		cmocka_unit_test(test_dns_loopback_no_age),
		cmocka_unit_test(test_dns_hostile_names),
		cmocka_unit_test(test_json_quote_backslash),
		cmocka_unit_test(test_json_control_chars),
		cmocka_unit_test(test_json_every_control_byte),
		cmocka_unit_test(test_json_valid_utf8_unchanged),
		cmocka_unit_test(test_json_invalid_bytes_escaped),
		cmocka_unit_test(test_json_length_limit),
		cmocka_unit_test(test_json_overflow_flagged),
		cmocka_unit_test(test_time_epoch),
		cmocka_unit_test(test_time_known_instants),
		cmocka_unit_test(test_time_same_and_other_seconds),
		cmocka_unit_test(test_event_established_v4),
		cmocka_unit_test(test_event_refused_v6),
		cmocka_unit_test(test_event_pending),
		cmocka_unit_test(test_event_error_call_measured),
		cmocka_unit_test(test_event_full_comm_no_nul),
		cmocka_unit_test(test_accept_with_and_without_process),
		cmocka_unit_test(test_close_record),
		cmocka_unit_test(test_widest_records_fit),
		cmocka_unit_test(test_json_hostile_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
