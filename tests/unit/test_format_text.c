// SPDX-License-Identifier: GPL-2.0-only
// Unit tests for format_text.c: the header and record lines of the text output.
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "format.h"
#include "names.h"
#include "tcpconnlog.h"
#include "hostile_names.h"
#include "widest.h"

static char hdr[512], line[512];

/* ts_ns 5 s on the monotonic clock; start at 1 s; real time 1700000000 s
 * (2023-11-14 22:13:20 UTC) at ts_ns 5 s.
 */
#define START_NS 1000000000ULL
#define MONO_TO_REAL (1700000000LL * 1000000000LL - 5000000000LL)

static struct format_opts opts(bool t, bool T, bool U, bool L, int width)
{
	return (struct format_opts){
		.timestamp = t, .wallclock = T, .uid = U, .lport = L,
		.addr_width = width, .start_ns = START_NS,
		.mono_to_real_ns = MONO_TO_REAL,
	};
}

static const char *header_of(const struct format_opts *o)
{
	struct strbuf sb;

	sb_init(&sb, hdr, sizeof(hdr) - 1);
	format_text_header(o, &sb);
	assert_false(sb.overflow);
	hdr[sb.len] = '\0';
	return hdr;
}

/* the line of ev, with what is known of its names (NULL: nothing) */
static const char *names_line_of(const struct format_opts *o, const struct tcl_event *ev,
				 const struct record_names *n)
{
	struct strbuf sb;

	sb_init(&sb, line, sizeof(line) - 1);
	format_text_event(o, ev, n, &sb);
	assert_false(sb.overflow);
	line[sb.len] = '\0';
	return line;
}

static const char *line_of(const struct format_opts *o, const struct tcl_event *ev)
{
	return names_line_of(o, ev, NULL);
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

/* A plain record: curl, v4 127.0.0.1:48240 -> 127.0.0.1:8080, established. */
static struct tcl_event base_event(void)
{
	struct tcl_event ev = {
		.ts_ns = START_NS + 1399000000ULL,
		.latency_ns = 275000,
		.pid = 4619, .tid = 4619, .uid = 1000,
		.sport = 48240, .dport = 8080, .ip = 4,
		.result = TCL_ESTABLISHED,
		.comm = "curl",
	};

	set_v4(&ev.saddr, "127.0.0.1");
	set_v4(&ev.daddr, "127.0.0.1");
	return ev;
}

/* Expected text built independently: s left-aligned in w, then one space. */
static void col(char *dst, size_t cap, const char *s, int w)
{
	size_t n = strlen(dst);

	snprintf(dst + n, cap - n, "%-*s ", w, s);
}

/* Every column of the header starts where a field of the line starts:
 * a non-blank after a blank (or at 0), the same number of fields.
 */
static void assert_aligned(const char *h, const char *l)
{
	size_t hl = strlen(h), ll = strlen(l), fields_h = 0, fields_l = 0;

	assert_true(hl > 0 && h[hl - 1] == '\n');
	assert_true(ll > 0 && l[ll - 1] == '\n');
	for (size_t i = 0; i + 1 < hl; i++) {
		bool starts = h[i] != ' ' && (i == 0 || h[i - 1] == ' ');

		if (!starts)
			continue;
		fields_h++;
		if (i >= ll - 1 || l[i] == ' ' || (i > 0 && l[i - 1] != ' '))
			fail_msg("header column at %zu (%s) has no field under it in:\n%s%s",
				 i, h + i, h, l);
	}
	for (size_t i = 0; i + 1 < ll; i++)
		if (l[i] != ' ' && (i == 0 || l[i - 1] == ' '))
			fields_l++;
	assert_int_equal(fields_h, fields_l);
}

static void assert_no_control_bytes(const char *l)
{
	size_t n = strlen(l);

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)l[i];

		if ((c < 0x20 || c == 0x7f) && !(c == '\n' && i == n - 1))
			fail_msg("control byte 0x%02x at offset %zu of the line", c, i);
	}
}

static void setup_tz(void)
{
	setenv("TZ", "UTC", 1);
	tzset();
}

/* ---- header ---- */

static void test_header_default(void **state)
{
	(void)state;
	struct format_opts o = opts(false, false, false, false, 39);

	assert_string_equal(header_of(&o),
		"PID     COMM             IP SADDR                                   "
		"DADDR                                   DPORT RESULT                LAT(ms)\n");
}

static void test_header_timestamp_and_lport(void **state)
{
	(void)state;
	struct format_opts o = opts(true, false, false, true, 39);

	/* -tL: the README example's columns */
	assert_string_equal(header_of(&o),
		"TIME(s)   PID     COMM             IP SADDR                                   LPORT "
		"DADDR                                   DPORT RESULT                LAT(ms)\n");
}

static void test_header_ipv4_width(void **state)
{
	(void)state;
	struct format_opts o = opts(false, false, false, false, 15);

	assert_string_equal(header_of(&o),
		"PID     COMM             IP SADDR           DADDR           DPORT RESULT                LAT(ms)\n");
}

static void test_header_all_columns(void **state)
{
	(void)state;
	struct format_opts o = opts(true, true, true, true, 15);

	assert_string_equal(header_of(&o),
		"TIME(s)   TIME     UID    PID     COMM             IP SADDR           LPORT "
		"DADDR           DPORT RESULT                LAT(ms)\n");
}

/* every combination of -t -T -U -L, both widths: the column names in order */
static void test_header_every_flag_combination(void **state)
{
	(void)state;
	for (int m = 0; m < 32; m++) {
		bool t = m & 1, T = m & 2, U = m & 4, L = m & 8;
		int w = (m & 16) ? 39 : 15;
		struct format_opts o = opts(t, T, U, L, w);
		char want[512] = "";

		if (t)
			col(want, sizeof(want), "TIME(s)", 9);
		if (T)
			col(want, sizeof(want), "TIME", 8);
		if (U)
			col(want, sizeof(want), "UID", 6);
		col(want, sizeof(want), "PID", 7);
		col(want, sizeof(want), "COMM", 16);
		col(want, sizeof(want), "IP", 2);
		col(want, sizeof(want), "SADDR", w);
		if (L)
			col(want, sizeof(want), "LPORT", 5);
		col(want, sizeof(want), "DADDR", w);
		col(want, sizeof(want), "DPORT", 5);
		col(want, sizeof(want), "RESULT", 21);
		strcat(want, "LAT(ms)\n");
		assert_string_equal(header_of(&o), want);
	}
}

/* ---- record lines ---- */

static void test_line_timestamp_and_lport(void **state)
{
	(void)state;
	struct format_opts o = opts(true, false, false, true, 39);
	struct tcl_event ev = base_event();

	assert_string_equal(line_of(&o, &ev),
		"1.399     4619    curl             4  127.0.0.1                               48240 "
		"127.0.0.1                               8080  established           0.275\n");

	ev.ts_ns = START_NS + 1440000000ULL;
	ev.pid = 4623;
	ev.sport = 35240;
	ev.dport = 9;
	ev.result = TCL_REFUSED;
	ev.err = ECONNREFUSED;
	ev.latency_ns = 151000;
	assert_string_equal(line_of(&o, &ev),
		"1.440     4623    curl             4  127.0.0.1                               35240 "
		"127.0.0.1                               9     refused               0.151\n");
}

static void test_line_default_v4_narrow(void **state)
{
	(void)state;
	struct format_opts o = opts(false, false, false, false, 15);
	struct tcl_event ev = base_event();

	set_v4(&ev.saddr, "192.168.100.200");	/* 15 characters: fills the column */
	set_v4(&ev.daddr, "10.0.0.1");
	assert_string_equal(line_of(&o, &ev),
		"4619    curl             4  192.168.100.200 10.0.0.1        8080  established           0.275\n");
	assert_aligned(header_of(&o), line);
}

static void test_line_ipv6_39_chars_not_truncated(void **state)
{
	(void)state;
	struct format_opts o = opts(false, false, false, true, 39);
	struct tcl_event ev = base_event();

	ev.ip = 6;
	set_v6(&ev.saddr, "fe80:1234:5678:9abc:def0:1234:5678:9abc");
	set_v6(&ev.daddr, "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff");
	assert_string_equal(line_of(&o, &ev),
		"4619    curl             6  fe80:1234:5678:9abc:def0:1234:5678:9abc 48240 "
		"ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 8080  established           0.275\n");
	assert_aligned(header_of(&o), line);
}

static void test_line_ipv4_mapped_and_short_v6(void **state)
{
	(void)state;
	struct format_opts o = opts(false, false, false, false, 39);
	struct tcl_event ev = base_event();

	ev.ip = 6;
	set_v6(&ev.saddr, "::ffff:10.1.2.3");
	set_v6(&ev.daddr, "::1");
	assert_string_equal(line_of(&o, &ev),
		"4619    curl             6  ::ffff:10.1.2.3                         "
		"::1                                     8080  established           0.275\n");
	assert_aligned(header_of(&o), line);
}

/* every combination of -t -T -U -L with v4 and the widest v6 stays aligned */
static void test_line_every_flag_combination_aligned(void **state)
{
	(void)state;
	setup_tz();
	for (int m = 0; m < 32; m++) {
		bool v6 = m & 16;
		struct format_opts o = opts(m & 1, m & 2, m & 4, m & 8, v6 ? 39 : 15);
		struct tcl_event ev = base_event();
		char want[512] = "";

		ev.uid = 65534;
		ev.pid = 4194304;	/* the largest PID, 7 digits */
		ev.sport = 65535;
		ev.dport = 65535;
		if (v6) {
			ev.ip = 6;
			set_v6(&ev.saddr, "fe80:1234:5678:9abc:def0:1234:5678:9abc");
			set_v6(&ev.daddr, "2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff");
		} else {
			set_v4(&ev.saddr, "255.255.255.255");
			set_v4(&ev.daddr, "1.2.3.4");
		}
		if (m & 1)
			col(want, sizeof(want), "1.399", 9);
		if (m & 2)
			col(want, sizeof(want), "22:13:17", 8);
		if (m & 4)
			col(want, sizeof(want), "65534", 6);
		col(want, sizeof(want), "4194304", 7);
		col(want, sizeof(want), "curl", 16);
		col(want, sizeof(want), v6 ? "6" : "4", 2);
		col(want, sizeof(want), v6 ? "fe80:1234:5678:9abc:def0:1234:5678:9abc"
					   : "255.255.255.255", v6 ? 39 : 15);
		if (m & 8)
			col(want, sizeof(want), "65535", 5);
		col(want, sizeof(want), v6 ? "2001:db8:aaaa:bbbb:cccc:dddd:eeee:ffff"
					   : "1.2.3.4", v6 ? 39 : 15);
		col(want, sizeof(want), "65535", 5);
		col(want, sizeof(want), "established", 21);
		strcat(want, "0.275\n");
		assert_string_equal(line_of(&o, &ev), want);
		assert_aligned(header_of(&o), line);
	}
}

static void test_wallclock_hh_mm_ss(void **state)
{
	(void)state;
	struct format_opts o = opts(false, true, false, false, 15);
	struct tcl_event ev = base_event();

	setup_tz();
	ev.ts_ns = 5000000000ULL;	/* 1700000000 s: 22:13:20 UTC */
	assert_string_equal(line_of(&o, &ev),
		"22:13:20 4619    curl             4  127.0.0.1       127.0.0.1       8080  established           0.275\n");
	ev.ts_ns = 5999999999ULL;	/* the fraction is cut, not rounded */
	assert_memory_equal(line_of(&o, &ev), "22:13:20 ", 9);
	ev.ts_ns = 6000000000ULL;
	assert_memory_equal(line_of(&o, &ev), "22:13:21 ", 9);
	ev.ts_ns = 5000000000ULL + 6399ULL * 1000000000ULL;
	assert_memory_equal(line_of(&o, &ev), "23:59:59 ", 9);
	ev.ts_ns = 5000000000ULL + 6400ULL * 1000000000ULL;	/* midnight */
	assert_memory_equal(line_of(&o, &ev), "00:00:00 ", 9);
}

static void test_wallclock_follows_tz(void **state)
{
	(void)state;
	struct format_opts o = opts(false, true, false, false, 15);
	struct tcl_event ev = base_event();

	setenv("TZ", "XXX-2", 1);	/* fixed UTC+2, no data files needed */
	tzset();
	ev.ts_ns = 5000000000ULL;
	assert_memory_equal(line_of(&o, &ev), "00:13:20 ", 9);
	setup_tz();
}

static void test_timestamp_seconds_since_start(void **state)
{
	(void)state;
	struct format_opts o = opts(true, false, false, false, 15);
	struct tcl_event ev = base_event();

	ev.ts_ns = START_NS;
	assert_memory_equal(line_of(&o, &ev), "0.000     4619 ", 15);
	ev.ts_ns = START_NS + 999999;		/* under 1 ms: still 0.000 */
	assert_memory_equal(line_of(&o, &ev), "0.000     ", 10);
	ev.ts_ns = START_NS + 1000000;
	assert_memory_equal(line_of(&o, &ev), "0.001     ", 10);
	ev.ts_ns = START_NS + 59999999999ULL;	/* truncated, not rounded */
	assert_memory_equal(line_of(&o, &ev), "59.999    ", 10);
	ev.ts_ns = START_NS + 12345678000000ULL;	/* 3.4 hours */
	assert_memory_equal(line_of(&o, &ev), "12345.678 4619 ", 15);
	/* a record from before the start (a pending one) shows 0 */
	ev.ts_ns = START_NS - 5;
	assert_memory_equal(line_of(&o, &ev), "0.000     4619 ", 15);
}

static void test_timestamp_past_27_hours_not_truncated(void **state)
{
	(void)state;
	struct format_opts o = opts(true, false, false, false, 15);
	struct tcl_event ev = base_event();

	/* 100000 s no longer fits 9 characters; the value is kept whole */
	ev.ts_ns = START_NS + 100000000000000ULL;
	assert_memory_equal(line_of(&o, &ev), "100000.000 4619 ", 16);
}

static void test_uid_column(void **state)
{
	(void)state;
	struct format_opts o = opts(false, false, true, false, 15);
	struct tcl_event ev = base_event();

	ev.uid = 0;
	assert_string_equal(line_of(&o, &ev),
		"0      4619    curl             4  127.0.0.1       127.0.0.1       8080  established           0.275\n");
	ev.uid = 999999;	/* the widest UID that fits the column */
	assert_memory_equal(line_of(&o, &ev), "999999 4619 ", 12);
	assert_aligned(header_of(&o), line);
	/* a 10-digit UID is printed whole */
	ev.uid = 4294967294U;
	assert_memory_equal(line_of(&o, &ev), "4294967294 4619 ", 16);
}

static void test_lport_column_zero_port(void **state)
{
	(void)state;
	struct format_opts o = opts(false, false, false, true, 15);
	struct tcl_event ev = base_event();

	/* a call that failed before choosing a source: 0.0.0.0 port 0 */
	set_v4(&ev.saddr, "0.0.0.0");
	ev.sport = 0;
	ev.result = TCL_ERROR;
	ev.err = EADDRNOTAVAIL;
	ev.latency_ns = 12000;
	assert_string_equal(line_of(&o, &ev),
		"4619    curl             4  0.0.0.0         0     127.0.0.1       8080  "
		"error:EADDRNOTAVAIL   0.012\n");
}

/* ---- results ---- */

static void test_result_names(void **state)
{
	static const struct {
		unsigned int result;
		int err;
		const char *text;	/* RESULT column and LAT(ms) */
	} cases[] = {
		{ TCL_ESTABLISHED, 0, "established           1.500\n" },
		{ TCL_REFUSED, ECONNREFUSED, "refused               1.500\n" },
		{ TCL_TIMEOUT, ETIMEDOUT, "timeout               1.500\n" },
		{ TCL_UNREACHABLE, EHOSTUNREACH, "unreachable           1.500\n" },
		{ TCL_UNREACHABLE, ENETUNREACH, "unreachable           1.500\n" },
		{ TCL_CLOSED, 0, "closed                1.500\n" },
		{ TCL_ERROR, ECONNRESET, "error:ECONNRESET      1.500\n" },
		{ TCL_ERROR, ENETDOWN, "error:ENETDOWN        1.500\n" },
		{ TCL_ERROR, 512, "error:ERESTARTSYS     1.500\n" },
		{ TCL_ERROR, 4000, "error:E4000           1.500\n" },
		{ TCL_ERROR, 0, "error:E0              1.500\n" },
		{ TCL_RESULT_MAX, 0, "unknown               1.500\n" },
		{ 200, 0, "unknown               1.500\n" },
	};
	struct format_opts o = opts(false, false, false, false, 15);
	const char *prefix =
		"4619    curl             4  127.0.0.1       127.0.0.1       8080  ";

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct tcl_event ev = base_event();
		char want[256];

		ev.result = cases[i].result;
		ev.err = cases[i].err;
		ev.latency_ns = 1500000;
		snprintf(want, sizeof(want), "%s%s", prefix, cases[i].text);
		assert_string_equal(line_of(&o, &ev), want);
	}
}

static void test_pending_latency_dash(void **state)
{
	(void)state;
	struct format_opts o = opts(false, false, false, false, 15);
	struct tcl_event ev = base_event();

	ev.result = TCL_PENDING;
	ev.stage = TCL_STAGE_CALL;
	ev.latency_ns = 0;
	assert_string_equal(line_of(&o, &ev),
		"4619    curl             4  127.0.0.1       127.0.0.1       8080  pending               -\n");
	/* a pending record never shows a number, whatever latency_ns holds */
	ev.latency_ns = 123456789;
	line_of(&o, &ev);
	assert_string_equal(line + strlen(line) - 24, "pending               -\n");
}

/* every errno the C library names, and the kernel's restart codes: the
 * latency starts under LAT(ms)
 */
static void test_result_column_fits_every_errno_name(void **state)
{
	struct format_opts o = opts(false, false, false, false, 15);
	int errs[200], n = 0;

	(void)state;
	for (int e = 1; e < 134; e++)
		errs[n++] = e;
	errs[n++] = 512;
	errs[n++] = 513;
	errs[n++] = -2147483647 - 1;	/* unnamed and widest: E-2147483648 */
	header_of(&o);
	for (int i = 0; i < n; i++) {
		struct tcl_event ev = base_event();
		const char *lat = strstr(hdr, "LAT(ms)");

		ev.result = TCL_ERROR;
		ev.err = errs[i];
		ev.latency_ns = 2000000;
		line_of(&o, &ev);
		if (strcmp(line + (lat - hdr), "2.000\n"))
			fail_msg("errno %d: latency not under LAT(ms):\n%s%s", errs[i], hdr, line);
		assert_memory_equal(line + 66, "error:E", 7);
	}
}

/* ---- latency ---- */

static void test_latency_ms_three_decimals(void **state)
{
	static const struct {
		__u64 ns;
		const char *text;
	} cases[] = {
		{ 0, "0.000" },
		{ 999, "0.000" },			/* below 1 us: cut */
		{ 1000, "0.001" },
		{ 999000, "0.999" },			/* 999 us */
		{ 999999, "0.999" },			/* cut, not rounded to 1.000 */
		{ 1000000, "1.000" },
		{ 1001000, "1.001" },
		{ 10010000, "10.010" },
		{ 3600000000000ULL, "3600000.000" },	/* an hour */
		{ UINT64_MAX, "18446744073709.551" },
	};
	struct format_opts o = opts(false, false, false, false, 15);

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(*cases); i++) {
		struct tcl_event ev = base_event();
		char want[256];

		ev.latency_ns = cases[i].ns;
		snprintf(want, sizeof(want),
			 "4619    curl             4  127.0.0.1       127.0.0.1       8080  established           %s\n",
			 cases[i].text);
		assert_string_equal(line_of(&o, &ev), want);
	}
}

/* ---- command names ---- */

static void test_comm_full_16_bytes_no_nul(void **state)
{
	(void)state;
	struct format_opts o = opts(false, false, false, false, 15);
	struct tcl_event ev = base_event();

	memcpy(ev.comm, "0123456789abcdef", TCL_COMM_LEN);	/* no NUL */
	assert_string_equal(line_of(&o, &ev),
		"4619    0123456789abcdef 4  127.0.0.1       127.0.0.1       8080  established           0.275\n");
	assert_aligned(header_of(&o), line);
}

static void test_comm_15_chars_and_empty(void **state)
{
	(void)state;
	struct format_opts o = opts(false, false, false, false, 15);
	struct tcl_event ev = base_event();

	memset(ev.comm, 0, sizeof(ev.comm));
	memcpy(ev.comm, "systemd-resolve", 15);
	assert_string_equal(line_of(&o, &ev),
		"4619    systemd-resolve  4  127.0.0.1       127.0.0.1       8080  established           0.275\n");
	/* an empty name is a placeholder, so that COMM stays one field */
	memset(ev.comm, 0, sizeof(ev.comm));
	assert_string_equal(line_of(&o, &ev),
		"4619    -                4  127.0.0.1       127.0.0.1       8080  established           0.275\n");
	/* and a real "-" is told apart from it */
	strcpy(ev.comm, "-");
	assert_string_equal(line_of(&o, &ev),
		"4619    \\x2d             4  127.0.0.1       127.0.0.1       8080  established           0.275\n");
}

static void test_comm_bytes_after_nul_ignored(void **state)
{
	(void)state;
	struct format_opts o = opts(false, false, false, false, 15);
	struct tcl_event ev = base_event();

	memcpy(ev.comm, "sh\0garbage-here", TCL_COMM_LEN);
	assert_string_equal(line_of(&o, &ev),
		"4619    sh               4  127.0.0.1       127.0.0.1       8080  established           0.275\n");
}

static void test_comm_with_spaces_keeps_columns(void **state)
{
	(void)state;
	struct format_opts o = opts(false, false, false, false, 15);
	struct tcl_event ev = base_event();

	/* a space would split the field: escaped like a control */
	strcpy(ev.comm, "Web Content");
	assert_string_equal(line_of(&o, &ev),
		"4619    Web\\x20Content   4  127.0.0.1       127.0.0.1       8080  established           0.275\n");
	/* the IP column starts where the header's does */
	assert_int_equal(strstr(header_of(&o), "IP ") - hdr, 25);
	assert_int_equal(line[25], '4');
}

static void test_comm_non_utf8_bytes_one_per_column(void **state)
{
	(void)state;
	struct format_opts o = opts(false, false, false, false, 15);
	struct tcl_event ev = base_event();

	/* invalid UTF-8 is escaped byte for byte, padded to 16 columns */
	strcpy(ev.comm, "a\xff\xfe" "b");
	assert_string_equal(line_of(&o, &ev),
		"4619    a\\xff\\xfeb       4  127.0.0.1       127.0.0.1       8080  established           0.275\n");
	assert_no_control_bytes(line);
}

/* A process chooses its own name (prctl PR_SET_NAME, or the file name it
 * runs as): control bytes in it must not reach a terminal raw, nor start a
 * new line that looks like a record, nor move the columns after it.
 */
static void test_comm_control_bytes_not_emitted_raw(void **state)
{
	static const char *const names[] = {
		"a\nb",			/* a line break: forges a second record line */
		"x\ry",			/* carriage return: overwrites the line start */
		"\x1b[31mred",		/* ANSI escape: recolours the terminal */
		"tab\there",
		"bell\a",
		"del\x7f",
	};
	struct format_opts o = opts(false, false, false, false, 15);

	(void)state;
	header_of(&o);
	for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
		struct tcl_event ev = base_event();

		memset(ev.comm, 0, sizeof(ev.comm));
		strcpy(ev.comm, names[i]);
		line_of(&o, &ev);
		assert_no_control_bytes(line);
		/* the fields after COMM are where the header says */
		assert_string_equal(line + 25,
			"4  127.0.0.1       127.0.0.1       8080  established           0.275\n");
	}
}

/* Run fn in a child with a 2 s alarm: true when it returned, false when it
 * hung (so that a regression fails the test instead of hanging make unit).
 */
static bool returns_in_time(void (*fn)(void))
{
	int status;
	pid_t pid = fork();

	assert_true(pid >= 0);
	if (pid == 0) {
		alarm(2);
		fn();
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	if (WIFSIGNALED(status) && WTERMSIG(status) == SIGALRM)
		return false;
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	return true;
}

static void fill_small_line(void)
{
	struct format_opts o = opts(true, true, true, true, 39);
	struct tcl_event ev = base_event();
	char small[40];
	struct strbuf sb;

	sb_init(&sb, small, sizeof(small));
	format_text_event(&o, &ev, NULL, &sb);
	if (!sb.overflow || sb.len > sizeof(small))
		_exit(3);
}

static void fill_small_header(void)
{
	struct format_opts o = opts(true, true, true, true, 39);
	char small[40];
	struct strbuf sb;

	sb_init(&sb, small, sizeof(small));
	format_text_header(&o, &sb);
	if (!sb.overflow || sb.len > sizeof(small))
		_exit(3);
}

/* strbuf.h promises that writes past the end are dropped and flagged: a
 * line longer than its buffer must come back with .overflow set.
 */
static void test_overflow_flagged_small_buffer(void **state)
{
	(void)state;
	if (!returns_in_time(fill_small_line))
		fail_msg("format_text_event never returned once the buffer was full");
	if (!returns_in_time(fill_small_header))
		fail_msg("format_text_header never returned once the buffer was full");
}

/* ---- -l and -A: the EVENT column, accept and close lines ---- */

static struct format_opts lifecycle_opts(bool U)
{
	struct format_opts o = opts(false, false, U, false, 15);

	o.events = true;
	o.lifecycle = true;
	return o;
}

static struct tcl_event close_event(void)
{
	struct tcl_event ev = base_event();

	ev.kind = TCL_KIND_CLOSE;
	ev.closer = TCL_CLOSER_REMOTE;
	ev.duration_ns = 1234567890ULL;
	ev.bytes_sent = 70001;
	ev.bytes_received = 123456789012ULL;
	ev.srtt_us = 2500;
	return ev;
}

static void test_lifecycle_header_exact(void **state)
{
	struct format_opts o = lifecycle_opts(false);
	char want[512] = "";

	(void)state;
	col(want, sizeof(want), "EVENT", 7);
	col(want, sizeof(want), "PID", 7);
	col(want, sizeof(want), "COMM", 16);
	col(want, sizeof(want), "IP", 2);
	col(want, sizeof(want), "SADDR", 15);
	col(want, sizeof(want), "DADDR", 15);
	col(want, sizeof(want), "DPORT", 5);
	col(want, sizeof(want), "RESULT", 21);
	col(want, sizeof(want), "LAT(ms)", 10);
	col(want, sizeof(want), "DUR(ms)", 10);
	col(want, sizeof(want), "TX", 12);
	col(want, sizeof(want), "RX", 12);
	strcat(want, "RTT(ms)\n");
	assert_string_equal(header_of(&o), want);
}

static void test_close_line_exact(void **state)
{
	struct format_opts o = lifecycle_opts(false);
	struct tcl_event ev = close_event();
	char want[512] = "";

	(void)state;
	col(want, sizeof(want), "close", 7);
	col(want, sizeof(want), "4619", 7);
	col(want, sizeof(want), "curl", 16);
	col(want, sizeof(want), "4", 2);
	col(want, sizeof(want), "127.0.0.1", 15);
	col(want, sizeof(want), "127.0.0.1", 15);
	col(want, sizeof(want), "8080", 5);
	col(want, sizeof(want), "closed:remote", 21);
	col(want, sizeof(want), "-", 10);		/* no latency of its own */
	col(want, sizeof(want), "1234.567", 10);	/* truncated to the us */
	col(want, sizeof(want), "70001", 12);
	col(want, sizeof(want), "123456789012", 12);
	strcat(want, "2.500\n");
	assert_string_equal(line_of(&o, &ev), want);
	assert_aligned(header_of(&o), line_of(&o, &ev));

	ev.closer = TCL_CLOSER_LOCAL;
	assert_non_null(strstr(line_of(&o, &ev), " closed:local "));
	ev.closer = TCL_CLOSER_UNKNOWN;
	assert_non_null(strstr(line_of(&o, &ev), " closed                "));
}

static void test_connect_line_with_lifecycle_columns(void **state)
{
	struct format_opts o = lifecycle_opts(false);
	struct tcl_event ev = base_event();
	const char *l;

	(void)state;
	l = line_of(&o, &ev);
	assert_aligned(header_of(&o), l);
	assert_true(strncmp(l, "connect ", 8) == 0);
	/* latency, then "-" for the figures only a close has */
	assert_non_null(strstr(l, " established           0.275      - "));
	assert_non_null(strstr(l, " -            -            -\n"));
}

static void test_accept_line_unknown_process(void **state)
{
	struct format_opts o = lifecycle_opts(true);
	struct tcl_event ev = base_event();
	char want[512] = "";

	(void)state;
	ev.kind = TCL_KIND_ACCEPT;
	ev.flags = TCL_F_NO_PROCESS | TCL_F_INBOUND;
	ev.sport = 8080;
	ev.dport = 48240;
	col(want, sizeof(want), "-", 6);	/* UID */
	col(want, sizeof(want), "accept", 7);
	col(want, sizeof(want), "-", 7);
	col(want, sizeof(want), "-", 16);
	col(want, sizeof(want), "4", 2);
	col(want, sizeof(want), "127.0.0.1", 15);
	col(want, sizeof(want), "127.0.0.1", 15);
	col(want, sizeof(want), "48240", 5);
	col(want, sizeof(want), "accepted", 21);
	col(want, sizeof(want), "-", 10);
	col(want, sizeof(want), "-", 10);
	col(want, sizeof(want), "-", 12);
	col(want, sizeof(want), "-", 12);
	strcat(want, "-\n");
	assert_string_equal(line_of(&o, &ev), want);
	assert_aligned(header_of(&o), line_of(&o, &ev));
}

/* -A alone: the EVENT column without the -l figures */
static void test_accept_only_has_event_column(void **state)
{
	struct format_opts o = opts(false, false, false, false, 15);
	struct tcl_event ev = base_event();

	(void)state;
	o.events = true;
	assert_true(strncmp(header_of(&o), "EVENT   PID ", 12) == 0);
	assert_non_null(strstr(header_of(&o), " RESULT                LAT(ms)\n"));
	ev.kind = TCL_KIND_ACCEPT;
	assert_true(strncmp(line_of(&o, &ev), "accept  4619 ", 13) == 0);
	assert_non_null(strstr(line_of(&o, &ev), " accepted              -\n"));
	assert_aligned(header_of(&o), line_of(&o, &ev));
}

/* ---- the longest line ---- */

static size_t fields_of(const char *line, size_t len)
{
	size_t n = 0;

	for (size_t i = 0; i < len; i++)
		n += line[i] != ' ' && line[i] != '\n' && (i == 0 || line[i - 1] == ' ');
	return n;
}

/* Every column on and every part at its widest: the line fits
 * TCL_LINE_MAX whole, with all 20 columns, and so does the header.
 */
static void test_widest_records_fit(void **state)
{
	static char buf[TCL_LINE_MAX];
	struct strbuf sb;
	size_t longest = 0;

	(void)state;
	sb_init(&sb, buf, sizeof(buf));
	format_text_header(&widest_opts, &sb);
	assert_false(sb.overflow);
	assert_int_equal(fields_of(buf, sb.len), TCL_TEXT_COLUMNS);
	for (__u8 kind = TCL_KIND_CONNECT; kind <= TCL_KIND_CLOSE; kind++) {
		for (size_t i = 0; i < sizeof(widest_errnos) / sizeof(*widest_errnos); i++) {
			struct tcl_event ev = widest_event(kind, widest_errnos[i]);
			struct record_names names = widest_names();

			sb_init(&sb, buf, sizeof(buf));
			format_text_event(&widest_opts, &ev, &names, &sb);
			assert_false(sb.overflow);
			assert_ptr_equal(memchr(buf, '\n', sb.len), buf + sb.len - 1);
			/* QUERY's " (n.nnns, expired)" is two fields more */
			assert_int_equal(fields_of(buf, sb.len), TCL_TEXT_COLUMNS + 2);
			if (sb.len > longest)
				longest = sb.len;
		}
	}
	assert_true(longest <= TCL_TEXT_LINE_MAX);
	print_message("longest text record: %zu bytes of TCL_TEXT_LINE_MAX %d\n", longest,
		      TCL_TEXT_LINE_MAX);
}

/* The nine kinds of names a process can choose: the COMM field is the
 * name as comm_printable() writes it, one field, and the columns after it
 * start where the header's do (padding counts code points).
 */
static void test_comm_hostile_names_one_field(void **state)
{
	struct format_opts o = opts(false, false, false, false, 15);

	(void)state;
	for (size_t i = 0; i < HOSTILE_COUNT; i++) {
		struct tcl_event ev = base_event();
		char want[128];

		memset(ev.comm, 0, sizeof(ev.comm));
		strcpy(ev.comm, hostile[i].name);
		line_of(&o, &ev);
		assert_no_control_bytes(line);
		assert_int_equal(fields_of(line, strlen(line)), 8);
		snprintf(want, sizeof(want), "4619    %s ", hostile[i].text);
		assert_memory_equal(line, want, strlen(want));
		/* the space before IP is 16 terminal columns after COMM's start
		 * (a wider name pushes it, as a long address does)
		 */
		assert_int_equal(text_width(strstr(line, hostile[i].text)) -
				 text_width(strstr(line, " 4  127.0.0.1")),
				 hostile[i].width > 16 ? hostile[i].width : 16);
	}
}

/* ---- -C, -r, -d: CONTAINER RDNS QUERY, always last and in that order ---- */

#define CID "3f4e9c0b1a2d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7"

static struct format_opts names_opts(bool C, bool r, bool d, bool lifecycle)
{
	struct format_opts o = opts(false, false, false, false, 15);

	o.container = C;
	o.rdns = r;
	o.dns = d;
	o.lifecycle = lifecycle;
	o.events = lifecycle;
	return o;
}


/* the part of the line after its LAT(ms) value "0.275" */
static const char *after_latency(const char *l)
{
	const char *p = strstr(l, "0.275");

	assert_non_null(p);
	p += strlen("0.275");
	while (*p == ' ')
		p++;
	return p;
}

static void test_names_header_order(void **state)
{
	(void)state;
	for (int m = 0; m < 16; m++) {
		struct format_opts o = names_opts(m & 1, m & 2, m & 4, m & 8);
		const char *h = header_of(&o), *c = strstr(h, "CONTAINER"),
			   *r = strstr(h, "RDNS"), *q = strstr(h, "QUERY"),
			   *last = strstr(h, m & 8 ? "RTT(ms)" : "LAT(ms)");

		assert_true(!c == !(m & 1));
		assert_true(!r == !(m & 2));
		assert_true(!q == !(m & 4));
		assert_non_null(last);
		assert_true(!c || c > last);
		assert_true(!r || r > (c ? c : last));
		/* QUERY is the last column */
		assert_true(!q || strcmp(q, "QUERY\n") == 0);
	}
	{
		struct format_opts o = names_opts(true, true, true, false);

		assert_string_equal(strstr(header_of(&o), "LAT(ms)"),
			"LAT(ms)    CONTAINER    RDNS                           QUERY\n");
	}
}

static void test_container_column(void **state)
{
	struct format_opts o = names_opts(true, false, false, false);
	struct tcl_event ev = base_event();
	struct record_names n = { .container = CID, .cgroup = "/docker/" CID };

	(void)state;
	/* the first 12 characters, as docker ps shows them */
	assert_string_equal(after_latency(names_line_of(&o, &ev, &n)), "3f4e9c0b1a2d\n");
	assert_aligned(header_of(&o), line);
	n.container = NULL;
	assert_string_equal(after_latency(names_line_of(&o, &ev, &n)), "-\n");
	assert_aligned(header_of(&o), line);
	assert_string_equal(after_latency(names_line_of(&o, &ev, NULL)), "-\n");
	/* a short or hostile id stays one field */
	n.container = "a b\x1b";
	assert_string_equal(after_latency(names_line_of(&o, &ev, &n)), "a\\x20b\\x1b\n");
	/* without -C no column, whatever is known */
	o.container = false;
	n.container = CID;
	assert_null(strstr(names_line_of(&o, &ev, &n), "3f4e9c0b1a2d"));
}

static void test_rdns_column(void **state)
{
	struct format_opts o = names_opts(false, true, false, false);
	struct tcl_event ev = base_event();
	struct record_names n = { .rdns = "localhost" };

	(void)state;
	assert_string_equal(after_latency(names_line_of(&o, &ev, &n)), "localhost\n");
	n.rdns = NULL;
	assert_string_equal(after_latency(names_line_of(&o, &ev, &n)), "-\n");
	/* a name that is "-" is not mistaken for none */
	n.rdns = "-";
	assert_string_equal(after_latency(names_line_of(&o, &ev, &n)), "\\x2d\n");
	/* followed by QUERY: padded, the columns aligned */
	o.dns = true;
	n.rdns = "h.example";
	assert_string_equal(after_latency(names_line_of(&o, &ev, &n)),
			    "h.example                      -\n");
	assert_aligned(header_of(&o), line);
}

static void test_query_column(void **state)
{
	struct format_opts o = names_opts(false, false, true, false);
	struct tcl_event ev = base_event();
	struct dns_match m = { .name = "www.example.test", .age_ns = 100000000,
			       .scope = DNS_SCOPE_PROCESS };
	struct record_names n = { .dns = &m };

	(void)state;
	assert_string_equal(after_latency(names_line_of(&o, &ev, NULL)), "-\n");
	/* 100 ms old: fresh, no age */
	assert_string_equal(after_latency(names_line_of(&o, &ev, &n)), "www.example.test\n");
	m.age_ns = 1234567890;
	assert_string_equal(after_latency(names_line_of(&o, &ev, &n)),
			    "www.example.test (1.234s)\n");
	m.age_ns = 95000000000ULL;
	m.expired = true;
	assert_string_equal(after_latency(names_line_of(&o, &ev, &n)),
			    "www.example.test (95.000s, expired)\n");
	/* expired says so even when young (a TTL of 0) */
	m.age_ns = 5000000;
	assert_string_equal(after_latency(names_line_of(&o, &ev, &n)),
			    "www.example.test (0.005s, expired)\n");
	m = (struct dns_match){ .name = "localhost", .scope = DNS_SCOPE_LOOPBACK };
	assert_string_equal(after_latency(names_line_of(&o, &ev, &n)), "localhost\n");
	/* a match without a name is none */
	m.name = NULL;
	assert_string_equal(after_latency(names_line_of(&o, &ev, &n)), "-\n");
}

/* Every name through names.c's rules: one field, no control bytes */
static void test_names_hostile_one_field(void **state)
{
	struct format_opts o = names_opts(true, true, true, true);
	struct tcl_event ev = base_event();
	struct dns_match m = { .scope = DNS_SCOPE_HOST };
	struct record_names n = { .dns = &m };

	(void)state;
	for (size_t i = 0; i < HOSTILE_COUNT; i++) {
		char want[256];

		n.container = hostile[i].name;
		n.rdns = hostile[i].name;
		m.name = hostile[i].name;
		header_of(&o);
		names_line_of(&o, &ev, &n);
		assert_no_control_bytes(line);
		/* one field each (a wider name pushes the next, as a comm does) */
		assert_int_equal(fields_of(line, strlen(line)), fields_of(hdr, strlen(hdr)));
		/* the QUERY field is the last one, the name as comm_printable() has it */
		snprintf(want, sizeof(want), " %s\n", hostile[i].text);
		assert_string_equal(line + strlen(line) - strlen(want), want);
	}
}

/* the lifecycle columns before the names: padded now, and aligned */
static void test_names_after_lifecycle(void **state)
{
	struct format_opts o = names_opts(true, true, true, true);
	struct tcl_event ev = close_event();
	struct record_names n = { .container = CID, .rdns = "r", };

	(void)state;
	names_line_of(&o, &ev, &n);
	assert_aligned(header_of(&o), line);
	ev = base_event();
	names_line_of(&o, &ev, &n);
	assert_aligned(header_of(&o), line);
	assert_non_null(strstr(line, " 3f4e9c0b1a2d r "));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_header_default),
		cmocka_unit_test(test_header_timestamp_and_lport),
		cmocka_unit_test(test_header_ipv4_width),
		cmocka_unit_test(test_header_all_columns),
		cmocka_unit_test(test_header_every_flag_combination),
		cmocka_unit_test(test_line_timestamp_and_lport),
		cmocka_unit_test(test_line_default_v4_narrow),
		cmocka_unit_test(test_line_ipv6_39_chars_not_truncated),
		cmocka_unit_test(test_line_ipv4_mapped_and_short_v6),
		cmocka_unit_test(test_line_every_flag_combination_aligned),
		cmocka_unit_test(test_wallclock_hh_mm_ss),
		cmocka_unit_test(test_wallclock_follows_tz),
		cmocka_unit_test(test_timestamp_seconds_since_start),
		cmocka_unit_test(test_timestamp_past_27_hours_not_truncated),
		cmocka_unit_test(test_uid_column),
		cmocka_unit_test(test_lport_column_zero_port),
		cmocka_unit_test(test_result_names),
		cmocka_unit_test(test_pending_latency_dash),
		cmocka_unit_test(test_result_column_fits_every_errno_name),
		cmocka_unit_test(test_latency_ms_three_decimals),
		cmocka_unit_test(test_comm_full_16_bytes_no_nul),
		cmocka_unit_test(test_comm_15_chars_and_empty),
		cmocka_unit_test(test_comm_bytes_after_nul_ignored),
		cmocka_unit_test(test_comm_with_spaces_keeps_columns),
		cmocka_unit_test(test_comm_non_utf8_bytes_one_per_column),
		cmocka_unit_test(test_comm_control_bytes_not_emitted_raw),
		cmocka_unit_test(test_widest_records_fit),
		cmocka_unit_test(test_comm_hostile_names_one_field),
		cmocka_unit_test(test_overflow_flagged_small_buffer),
		cmocka_unit_test(test_lifecycle_header_exact),
		cmocka_unit_test(test_close_line_exact),
		cmocka_unit_test(test_connect_line_with_lifecycle_columns),
		cmocka_unit_test(test_accept_line_unknown_process),
		cmocka_unit_test(test_accept_only_has_event_column),
		cmocka_unit_test(test_names_header_order),
		cmocka_unit_test(test_container_column),
		cmocka_unit_test(test_rdns_column),
		cmocka_unit_test(test_query_column),
		cmocka_unit_test(test_names_hostile_one_field),
		cmocka_unit_test(test_names_after_lifecycle),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
