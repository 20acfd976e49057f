// SPDX-License-Identifier: GPL-2.0-only
// Unit tests for table.c (hash table), stats.c (per-command summary),
// connstats.c (-l: closed connections) and counts.c (-c: connects per
// source, destination and port).
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "capture.h"
#include <linux/types.h>	/* counts.h and tcpconnlog.h use __u32 without it */

#include "counts.h"
#include "stats.h"
#include "table.h"
#include "tcpconnlog.h"
#include "runinfo.h"

/* ---- helpers ---- */

/* What the statement writes to stderr (fd 2), as a string. */
static char *stderr_of_counts_print(const struct counts *c, bool json, int width,
				    char **out)
{
	FILE *tmp = tmpfile();
	int saved = dup(2);
	long n;
	char *buf;

	assert_non_null(tmp);
	assert_true(saved >= 0);
	fflush(stderr);
	assert_int_equal(dup2(fileno(tmp), 2), 2);
	CAPTURE(counts_print(c, json, width, f));
	fflush(stderr);
	assert_int_equal(dup2(saved, 2), 2);
	close(saved);
	*out = captured;
	n = ftell(tmp);
	buf = calloc(1, n + 1);
	rewind(tmp);
	assert_int_equal(fread(buf, 1, n, tmp), (size_t)n);
	fclose(tmp);
	return buf;
}

static struct tcl_event event(const char *comm, unsigned int result, __u64 latency_ns)
{
	struct tcl_event ev;

	memset(&ev, 0, sizeof(ev));
	memcpy(ev.comm, comm, strnlen(comm, sizeof(ev.comm)));
	ev.result = result;
	ev.latency_ns = latency_ns;
	ev.ip = 4;
	return ev;
}

static struct tcl_event dest(const char *saddr, const char *daddr, __u16 dport,
			     unsigned int result)
{
	struct tcl_event ev;
	int af = strchr(daddr, ':') ? AF_INET6 : AF_INET;

	memset(&ev, 0, sizeof(ev));
	ev.ip = af == AF_INET ? 4 : 6;
	assert_int_equal(inet_pton(af, saddr, &ev.saddr), 1);
	assert_int_equal(inet_pton(af, daddr, &ev.daddr), 1);
	ev.dport = dport;
	ev.sport = 40000;
	ev.result = result;
	ev.latency_ns = 1000;
	strcpy(ev.comm, "curl");
	return ev;
}

/* ================= table.c ================= */

static void test_table_starts_empty(void **state)
{
	struct table t;

	(void)state;
	assert_int_equal(table_init(&t, 4, 8, 100), 0);
	assert_int_equal(t.cap, 16);
	assert_int_equal(t.len, 0);
	for (size_t i = 0; i < t.cap; i++) {
		assert_null(table_key_at(&t, i));
		assert_null(table_val_at(&t, i));
	}
	table_free(&t);
	assert_null(t.slots);
}

static void test_table_insert_then_lookup(void **state)
{
	struct table t;
	__u32 k1 = 7, k2 = 8;
	__u64 *v1, *v2;

	(void)state;
	assert_int_equal(table_init(&t, sizeof(k1), sizeof(*v1), 100), 0);
	v1 = table_upsert(&t, &k1);
	assert_non_null(v1);
	assert_true(*v1 == 0);		/* a new value starts zeroed */
	*v1 = 111;
	v2 = table_upsert(&t, &k2);
	assert_non_null(v2);
	assert_true(v2 != v1);
	assert_true(*v2 == 0);
	*v2 = 222;
	/* the same key again: the same value, not a new entry */
	assert_ptr_equal(table_upsert(&t, &k1), v1);
	assert_true(*(__u64 *)table_upsert(&t, &k1) == 111);
	assert_true(*(__u64 *)table_upsert(&t, &k2) == 222);
	assert_int_equal(t.len, 2);
	table_free(&t);
}

/* Keys and values come back aligned for the types the callers give them
 * (__u64 counters after a 16-byte comm, a 36-byte address key, ...), and
 * stay so when the table grows.
 */
static size_t align_for(size_t size)
{
	size_t a = size & -size;

	return a < _Alignof(max_align_t) ? a : _Alignof(max_align_t);
}

static void test_table_keys_and_values_aligned(void **state)
{
	static const size_t sizes[][2] = {
		{ 16, 40 }, { 36, 16 }, { 1, 8 }, { 4, 8 }, { 8, 4 }, { 3, 2 }, { 2, 16 },
	};

	(void)state;
	for (size_t n = 0; n < sizeof(sizes) / sizeof(sizes[0]); n++) {
		size_t ks = sizes[n][0], vs = sizes[n][1];
		unsigned char key[64] = {};
		struct table t;

		assert_int_equal(table_init(&t, ks, vs, 100), 0);
		for (unsigned int k = 0; k < 40; k++) {
			unsigned char *v;

			memcpy(key, &k, sizeof(k) < ks ? sizeof(k) : ks);
			v = table_upsert(&t, key);
			assert_non_null(v);
			memset(v, 0xff, vs);	/* the value does not spill into the next key */
		}
		assert_int_equal(t.len, 40);
		for (size_t i = 0; i < t.cap; i++) {
			const void *k = table_key_at(&t, i), *v = table_val_at(&t, i);

			if (!k)
				continue;
			/* the alignment a type of that size may have: its lowest
			 * bit, up to what malloc gives
			 */
			assert_int_equal((uintptr_t)k % align_for(ks), 0);
			assert_int_equal((uintptr_t)v % align_for(vs), 0);
		}
		table_free(&t);
	}
}

/* the home slot of key in a fresh 16-slot table */
static size_t home_slot(__u32 key)
{
	struct table t;
	size_t home = SIZE_MAX;

	assert_int_equal(table_init(&t, sizeof(key), 4, 100), 0);
	assert_non_null(table_upsert(&t, &key));
	for (size_t i = 0; i < t.cap; i++)
		if (table_key_at(&t, i))
			home = i;
	table_free(&t);
	return home;
}

static size_t slot_of(const struct table *t, __u32 key)
{
	for (size_t i = 0; i < t->cap; i++) {
		const void *k = table_key_at(t, i);

		if (k && !memcmp(k, &key, sizeof(key)))
			return i;
	}
	fail_msg("key %u not in the table", key);
	return SIZE_MAX;
}

static void test_table_colliding_keys_stay_distinct(void **state)
{
	__u32 first = 0, second, third;
	size_t h;
	struct table t;

	(void)state;
	/* find three keys with the same home slot, that slot being the last one,
	 * so that probing also wraps round to slot 0
	 */
	while (home_slot(first) != 15)
		first++;
	h = home_slot(first);
	for (second = first + 1; home_slot(second) != h; second++)
		;
	for (third = second + 1; home_slot(third) != h; third++)
		;

	assert_int_equal(table_init(&t, sizeof(__u32), sizeof(__u32), 100), 0);
	*(__u32 *)table_upsert(&t, &first) = 1;
	*(__u32 *)table_upsert(&t, &second) = 2;
	*(__u32 *)table_upsert(&t, &third) = 3;
	assert_int_equal(t.len, 3);
	assert_int_equal(slot_of(&t, first), 15);
	assert_int_equal(slot_of(&t, second), 0);	/* wrapped */
	assert_int_equal(slot_of(&t, third), 1);
	assert_int_equal(*(__u32 *)table_upsert(&t, &first), 1);
	assert_int_equal(*(__u32 *)table_upsert(&t, &second), 2);
	assert_int_equal(*(__u32 *)table_upsert(&t, &third), 3);
	assert_int_equal(t.len, 3);
	table_free(&t);
}

static void test_table_grows_at_three_quarters(void **state)
{
	struct table t;

	(void)state;
	assert_int_equal(table_init(&t, sizeof(__u32), sizeof(__u32), 1000), 0);
	for (__u32 k = 0; k < 12; k++)
		*(__u32 *)table_upsert(&t, &k) = k + 100;
	assert_int_equal(t.cap, 16);		/* 12 of 16: 3/4, not above */
	{
		__u32 k = 12;

		*(__u32 *)table_upsert(&t, &k) = k + 100;
	}
	assert_int_equal(t.cap, 32);
	assert_int_equal(t.len, 13);
	for (__u32 k = 0; k < 13; k++)
		assert_int_equal(*(__u32 *)table_upsert(&t, &k), k + 100);
	assert_int_equal(t.len, 13);
	table_free(&t);
}

static void test_table_many_keys(void **state)
{
	enum { N = 100000 };
	struct table t;
	size_t seen = 0;

	(void)state;
	/* 16-byte keys, as the per-command table uses */
	assert_int_equal(table_init(&t, 16, sizeof(__u64), N), 0);
	for (__u64 i = 0; i < N; i++) {
		char key[16] = {};

		snprintf(key, sizeof(key), "k%llu", (unsigned long long)i);
		*(__u64 *)table_upsert(&t, key) = i * 3;
	}
	assert_int_equal(t.len, N);
	assert_int_equal(t.cap, 262144);	/* smallest power of two keeping 3/4 */
	for (__u64 i = 0; i < N; i++) {
		char key[16] = {};

		snprintf(key, sizeof(key), "k%llu", (unsigned long long)i);
		assert_true(*(__u64 *)table_upsert(&t, key) == i * 3);
	}
	assert_int_equal(t.len, N);
	/* walking the slots finds each key once, with its own value */
	for (size_t i = 0; i < t.cap; i++) {
		const char *k = table_key_at(&t, i);
		unsigned long long n;

		if (!k)
			continue;
		seen++;
		assert_int_equal(sscanf(k, "k%llu", &n), 1);
		assert_true(*(__u64 *)table_val_at(&t, i) == n * 3);
	}
	assert_int_equal(seen, N);
	table_free(&t);
}

static void test_table_refuses_past_max_len(void **state)
{
	struct table t;
	__u32 k;

	(void)state;
	assert_int_equal(table_init(&t, sizeof(k), sizeof(k), 3), 0);
	for (k = 1; k <= 3; k++)
		assert_non_null(table_upsert(&t, &k));
	k = 4;
	assert_null(table_upsert(&t, &k));
	assert_int_equal(t.len, 3);
	/* keys already in still answer */
	k = 2;
	assert_non_null(table_upsert(&t, &k));
	assert_int_equal(t.len, 3);
	table_free(&t);
}

/* ================= stats.c ================= */

#define STARS20 "********************"
#define STATS_HEADER \
	"\nCOMM             ATTEMPTS    ESTAB   FAILED  PENDING    AVG(ms)    P50(ms)    P99(ms)\n"

static void test_stats_summary_exact(void **state)
{
	struct stats s;
	struct loss_report loss = { .lost = 0, .untracked = 0 };
	struct tcl_event evs[] = {
		event("curl", TCL_ESTABLISHED, 1000000),
		event("curl", TCL_ESTABLISHED, 2000000),
		event("curl", TCL_ESTABLISHED, 3000000),
		event("curl", TCL_REFUSED, 150000),
		event("curl", TCL_PENDING, 0),
		event("ssh", TCL_TIMEOUT, 127000000000ULL),
		event("wget", TCL_ESTABLISHED, 500000),
		event("wget", TCL_ESTABLISHED, 500000),
	};

	(void)state;
	assert_int_equal(stats_init(&s), 0);
	for (size_t i = 0; i < sizeof(evs) / sizeof(*evs); i++)
		stats_add(&s, &evs[i], NULL);
	CAPTURE(stats_print(&s, NULL, &loss, f));
	/* curl: avg 2 ms; p50 is the 2nd of 3, reported as the top of its
	 * bucket (1966080..2031615 ns); p99 the largest, 3 ms exactly.
	 * wget: both samples 0.5 ms. ssh: no established attempt, no latency.
	 * log2 of established latencies in us: 500,500 | 1000 | 2000 | 3000.
	 */
	assert_string_equal(captured,
		STATS_HEADER
		"curl                    5        3        1        1      2.000      2.032      3.000\n"
		"wget                    2        2        0        0      0.500      0.500      0.500\n"
		"ssh                     1        0        1        0          -          -          -\n"
		"\nLatency of established connects:\n"
		"                 usecs : count      distribution\n"
		"      256 -> 511       : 2          |" STARS20 STARS20 "|\n"
		"      512 -> 1023      : 1          |" STARS20 "                    |\n"
		"     1024 -> 2047      : 1          |" STARS20 "                    |\n"
		"     2048 -> 4095      : 1          |" STARS20 "                    |\n"
		"\nFailures by result:\n"
		"RESULT                   COUNT  COMMANDS\n"
		"refused                      1  curl 1\n"
		"timeout                      1  ssh 1\n"
		"\nLost events: 0\n");
	assert_int_equal(s.by_result[TCL_ESTABLISHED], 5);
	assert_int_equal(s.by_result[TCL_REFUSED], 1);
	assert_int_equal(s.by_result[TCL_TIMEOUT], 1);
	assert_int_equal(s.by_result[TCL_PENDING], 1);
	stats_free(&s);
}

static void test_stats_every_failure_counts_as_failed(void **state)
{
	struct stats s;
	struct loss_report loss = { 0 };
	unsigned int results[] = { TCL_REFUSED, TCL_TIMEOUT, TCL_UNREACHABLE,
				   TCL_CLOSED, TCL_ERROR };

	(void)state;
	assert_int_equal(stats_init(&s), 0);
	for (size_t i = 0; i < 5; i++) {
		struct tcl_event ev = event("nc", results[i], 1000);

		stats_add(&s, &ev, NULL);
	}
	CAPTURE(stats_print(&s, NULL, &loss, f));
	/* no established attempt: no histogram at all */
	assert_string_equal(captured,
		STATS_HEADER
		"nc                      5        0        5        0          -          -          -\n"
		"\nLatency of established connects:\n"
		"\nFailures by result:\n"
		"RESULT                   COUNT  COMMANDS\n"
		"refused                      1  nc 1\n"
		"timeout                      1  nc 1\n"
		"unreachable                  1  nc 1\n"
		"closed                       1  nc 1\n"
		"error:E0                     1  nc 1\n"
		"\nLost events: 0\n");
	stats_free(&s);
}

static void test_stats_empty_and_losses(void **state)
{
	struct stats s;
	struct loss_report loss = { .lost = 17, .untracked = 3, .map_full = 2 };

	(void)state;
	assert_int_equal(stats_init(&s), 0);
	CAPTURE(stats_print(&s, NULL, &loss, f));
	assert_string_equal(captured,
		STATS_HEADER
		"\nLatency of established connects:\n"
		"\nLost events: 17\n"
		"Attempts untracked (dropped from the full in-flight table, or their end "
		"not seen): 3\n"
		"Kernel table updates that failed: 2\n");
	stats_free(&s);
}

static void test_stats_ties_sorted_by_name(void **state)
{
	struct stats s;
	struct loss_report loss = { 0 };
	const char *names[] = { "zsh", "apt", "Xorg", "bash", "apt" };

	(void)state;
	assert_int_equal(stats_init(&s), 0);
	for (size_t i = 0; i < 5; i++) {
		struct tcl_event ev = event(names[i], TCL_PENDING, 0);

		stats_add(&s, &ev, NULL);
	}
	CAPTURE(stats_print(&s, NULL, &loss, f));
	/* most attempts first, then byte order of the name */
	assert_string_equal(captured,
		STATS_HEADER
		"apt                     2        0        0        2          -          -          -\n"
		"Xorg                    1        0        0        1          -          -          -\n"
		"bash                    1        0        0        1          -          -          -\n"
		"zsh                     1        0        0        1          -          -          -\n"
		"\nLatency of established connects:\n"
		"\nLost events: 0\n");
	stats_free(&s);
}

static void test_stats_average_of_ns_values(void **state)
{
	struct stats s;
	struct loss_report loss = { 0 };
	__u64 lat[] = { 10, 20, 40 };	/* ns: avg 23, all exact buckets */

	(void)state;
	assert_int_equal(stats_init(&s), 0);
	for (size_t i = 0; i < 3; i++) {
		struct tcl_event ev = event("tiny", TCL_ESTABLISHED, lat[i]);

		stats_add(&s, &ev, NULL);
	}
	CAPTURE(stats_print(&s, NULL, &loss, f));
	assert_string_equal(captured,
		STATS_HEADER
		"tiny                    3        3        0        0      0.000      0.000      0.000\n"
		"\nLatency of established connects:\n"
		"                 usecs : count      distribution\n"
		"        0 -> 0         : 3          |" STARS20 STARS20 "|\n"
		"\nLost events: 0\n");
	stats_free(&s);
}

static void test_stats_16th_comm_byte_ignored(void **state)
{
	struct stats s;
	struct loss_report loss = { 0 };
	struct tcl_event a = event("", TCL_PENDING, 0), b = a;

	(void)state;
	memcpy(a.comm, "0123456789abcdeX", TCL_COMM_LEN);	/* no NUL */
	memcpy(b.comm, "0123456789abcdeY", TCL_COMM_LEN);
	assert_int_equal(stats_init(&s), 0);
	stats_add(&s, &a, NULL);
	stats_add(&s, &b, NULL);
	CAPTURE(stats_print(&s, NULL, &loss, f));
	assert_string_equal(captured,
		STATS_HEADER
		"0123456789abcde         2        0        0        2          -          -          -\n"
		"\nLatency of established connects:\n"
		"\nLost events: 0\n");
	stats_free(&s);
}

static void test_stats_other_past_max_comms(void **state)
{
	struct stats s;
	struct loss_report loss = { 0 };
	char name[16];
	const char *other, *last_named;

	(void)state;
	assert_int_equal(stats_init(&s), 0);
	for (int i = 0; i < STATS_MAX_COMMS; i++) {
		struct tcl_event ev;

		snprintf(name, sizeof(name), "c%04d", i);
		ev = event(name, TCL_ESTABLISHED, 1000);
		stats_add(&s, &ev, NULL);
	}
	{
		struct tcl_event late = event("late", TCL_PENDING, 0);
		struct tcl_event late2 = event("later", TCL_REFUSED, 5);
		struct tcl_event again = event("c0000", TCL_ESTABLISHED, 1000);

		stats_add(&s, &late, NULL);
		stats_add(&s, &late2, NULL);
		stats_add(&s, &again, NULL);	/* a known name still has its row */
	}
	CAPTURE(stats_print(&s, NULL, &loss, f));
	assert_non_null(strstr(captured, STATS_HEADER
		"c0000                   2        2        0        0      0.001      0.001      0.001\n"
		"c0001                   1        1        0        0      0.001      0.001      0.001\n"));
	static const char last_row[] =
		"c1023                   1        1        0        0      0.001      0.001      0.001\n";

	last_named = strstr(captured, last_row);
	other = strstr(captured,
		"[other]                 2        0        1        1          -          -          -\n"
		"\nLatency");
	assert_non_null(last_named);
	assert_non_null(other);
	assert_ptr_equal(last_named + strlen(last_row), other);	/* right after the last named row */
	assert_null(strstr(captured, "late"));
	/* the totals by result (STATUS=, stats records) count [other] too */
	assert_int_equal(s.by_result[TCL_ESTABLISHED], STATS_MAX_COMMS + 1);
	assert_int_equal(s.by_result[TCL_PENDING], 1);
	assert_int_equal(s.by_result[TCL_REFUSED], 1);
	stats_free(&s);
}

/* The summary goes to a terminal (stderr): a command name is chosen by the
 * process itself and must not put raw control bytes there.
 */
static void test_stats_comm_control_bytes_not_raw(void **state)
{
	struct stats s;
	struct loss_report loss = { 0 };
	struct tcl_event ev = event("a\nb\x1b[2J", TCL_PENDING, 0);
	size_t n;

	(void)state;
	assert_int_equal(stats_init(&s), 0);
	stats_add(&s, &ev, NULL);
	CAPTURE(stats_print(&s, NULL, &loss, f));
	n = strlen(captured);
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)captured[i];

		if ((c < 0x20 && c != '\n') || c == 0x7f)
			fail_msg("control byte 0x%02x at offset %zu of the summary", c, i);
	}
	/* the header, one row, the histogram title, the loss line: 7 lines */
	n = 0;
	for (const char *p = captured; *p; p++)
		n += *p == '\n';
	assert_int_equal(n, 7);
	stats_free(&s);
}

/* ================= counts.c ================= */

static void add_all(struct counts *c, const struct tcl_event *evs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		counts_add(c, &evs[i], NULL);
}

static void test_counts_text_v4(void **state)
{
	struct counts c;
	struct tcl_event evs[] = {
		dest("10.0.0.1", "93.184.216.34", 443, TCL_ESTABLISHED),
		dest("10.0.0.1", "93.184.216.34", 443, TCL_ESTABLISHED),
		dest("10.0.0.1", "93.184.216.34", 443, TCL_REFUSED),
		dest("10.0.0.1", "93.184.216.34", 443, TCL_TIMEOUT),
		dest("10.0.0.1", "10.0.0.2", 22, TCL_PENDING),	/* not a failure */
		dest("10.0.0.1", "10.0.0.2", 22, TCL_ESTABLISHED),
		dest("192.168.100.200", "255.255.255.255", 65535, TCL_ERROR),
	};
	char *err, *out;

	(void)state;
	evs[1].sport = 50000;	/* the source port does not split a row */
	assert_int_equal(counts_init(&c), 0);
	add_all(&c, evs, sizeof(evs) / sizeof(*evs));
	err = stderr_of_counts_print(&c, false, 15, &out);
	assert_string_equal(out,
		"IP SADDR           DADDR           DPORT   CONNECTS     FAILED\n"
		"4  10.0.0.1        93.184.216.34   443            4          2\n"
		"4  10.0.0.1        10.0.0.2        22             2          0\n"
		"4  192.168.100.200 255.255.255.255 65535          1          1\n");
	assert_string_equal(err, "");
	free(err);
	counts_free(&c);
}

static void test_counts_splits_by_source_address_and_port(void **state)
{
	struct counts c;
	struct tcl_event evs[] = {
		dest("10.0.0.1", "10.0.0.9", 80, TCL_ESTABLISHED),
		dest("10.0.0.2", "10.0.0.9", 80, TCL_CLOSED),
		dest("10.0.0.2", "10.0.0.9", 80, TCL_UNREACHABLE),
		dest("10.0.0.2", "10.0.0.9", 8080, TCL_ESTABLISHED),
		dest("10.0.0.2", "10.0.0.9", 8080, TCL_ESTABLISHED),
		dest("10.0.0.2", "10.0.0.9", 8080, TCL_ESTABLISHED),
	};
	char *err, *out;

	(void)state;
	assert_int_equal(counts_init(&c), 0);
	add_all(&c, evs, sizeof(evs) / sizeof(*evs));
	err = stderr_of_counts_print(&c, false, 15, &out);
	assert_string_equal(out,
		"IP SADDR           DADDR           DPORT   CONNECTS     FAILED\n"
		"4  10.0.0.2        10.0.0.9        8080           3          0\n"
		"4  10.0.0.2        10.0.0.9        80             2          2\n"
		"4  10.0.0.1        10.0.0.9        80             1          0\n");
	free(err);
	counts_free(&c);
}

static void test_counts_text_v6_wide(void **state)
{
	struct counts c;
	struct tcl_event evs[] = {
		dest("fe80:1234:5678:9abc:def0:1234:5678:9abc",
		     "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", 443, TCL_REFUSED),
		dest("::ffff:10.0.0.1", "::ffff:10.0.0.2", 80, TCL_ESTABLISHED),
		dest("::ffff:10.0.0.1", "::ffff:10.0.0.2", 80, TCL_ESTABLISHED),
	};
	char *err, *out;

	(void)state;
	assert_int_equal(counts_init(&c), 0);
	add_all(&c, evs, sizeof(evs) / sizeof(*evs));
	err = stderr_of_counts_print(&c, false, 39, &out);
	assert_string_equal(out,
		"IP SADDR                                   DADDR                                   "
		"DPORT   CONNECTS     FAILED\n"
		"6  ::ffff:10.0.0.1                         ::ffff:10.0.0.2                         "
		"80             2          0\n"
		"6  fe80:1234:5678:9abc:def0:1234:5678:9abc ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
		"443            1          1\n");
	free(err);
	counts_free(&c);
}

static void test_counts_json(void **state)
{
	struct counts c;
	struct tcl_event evs[] = {
		dest("10.0.0.1", "10.0.0.2", 22, TCL_TIMEOUT),
		dest("::1", "::1", 8080, TCL_ESTABLISHED),
		dest("::1", "::1", 8080, TCL_PENDING),
	};
	char *err, *out;

	(void)state;
	assert_int_equal(counts_init(&c), 0);
	add_all(&c, evs, sizeof(evs) / sizeof(*evs));
	err = stderr_of_counts_print(&c, true, 39, &out);
	/* no header line in JSON */
	assert_string_equal(out,
		"{\"event\":\"count\",\"run\":\"" RUNINFO_NIL_UUID "\",\"ip\":6,\"saddr\":\"::1\",\"daddr\":\"::1\","
		"\"dport\":8080,\"connects\":2,\"failed\":0}\n"
		"{\"event\":\"count\",\"run\":\"" RUNINFO_NIL_UUID "\",\"ip\":4,\"saddr\":\"10.0.0.1\",\"daddr\":\"10.0.0.2\","
		"\"dport\":22,\"connects\":1,\"failed\":1}\n");
	assert_string_equal(err, "");
	free(err);
	counts_free(&c);
}

static void test_counts_empty(void **state)
{
	struct counts c;
	char *err, *out;

	(void)state;
	assert_int_equal(counts_init(&c), 0);
	err = stderr_of_counts_print(&c, false, 15, &out);
	assert_string_equal(out,
		"IP SADDR           DADDR           DPORT   CONNECTS     FAILED\n");
	free(err);
	err = stderr_of_counts_print(&c, true, 15, &out);
	assert_string_equal(out, "");
	free(err);
	counts_free(&c);
}

static void test_counts_overflow_reported_on_stderr(void **state)
{
	struct counts c;
	struct tcl_event ev = dest("10.0.0.1", "10.0.0.2", 1, TCL_ESTABLISHED);
	char *err, *out;

	(void)state;
	assert_int_equal(counts_init(&c), 0);
	/* 65536 distinct destinations fill the table; 3 more are not counted */
	for (__u32 i = 0; i < COUNTS_MAX_KEYS + 3; i++) {
		ev.daddr.v4 = htonl(0x0a000000 + i);
		counts_add(&c, &ev, NULL);
	}
	/* a destination already there is still counted */
	ev.daddr.v4 = htonl(0x0a000000);
	counts_add(&c, &ev, NULL);
	assert_true(c.overflowed == 3);
	err = stderr_of_counts_print(&c, true, 15, &out);
	assert_string_equal(err,
		"tcpconnlog: 3 attempts not counted: more than 65536 distinct destinations\n");
	{
		static const char first[] =
			"{\"event\":\"count\",\"run\":\"" RUNINFO_NIL_UUID "\",\"ip\":4,\"saddr\":\"10.0.0.1\",\"daddr\":\"10.0.0.0\","
			"\"dport\":1,\"connects\":2,\"failed\":0}\n";
		size_t lines = 0;

		assert_memory_equal(out, first, sizeof(first) - 1);
		for (const char *p = out; *p; p++)
			lines += *p == '\n';
		assert_int_equal(lines, COUNTS_MAX_KEYS);
	}
	free(err);
	counts_free(&c);
}

/* ================= connstats.c ================= */

static struct tcl_event closed(const char *comm, __u64 sent, __u64 received,
			       __u64 duration_ns, __u32 srtt_us)
{
	struct tcl_event ev = event(comm, TCL_ESTABLISHED, 0);

	ev.kind = TCL_KIND_CLOSE;
	ev.bytes_sent = sent;
	ev.bytes_received = received;
	ev.duration_ns = duration_ns;
	ev.srtt_us = srtt_us;
	return ev;
}

#define CONNS_HEADER \
	"\nClosed connections, data bytes and time from established to closed:\n" \
	"COMM               CLOSED             TX             RX    AVG(ms)    P50(ms)    P99(ms)\n"

static void test_connstats_in_summary_exact(void **state)
{
	struct stats s;
	struct connstats c;
	struct loss_report loss = { .untracked_conns = 2 };
	struct tcl_event unknown = closed("", 0, 300, 5000000, 0);
	struct tcl_event evs[] = {
		closed("curl", 100, 1000, 1000000, 100),
		closed("curl", 50, 500, 3000000, 3000),
		closed("nginx", 5000000000ULL, 7, 2000000000ULL, 150),
	};

	(void)state;
	assert_int_equal(stats_init(&s), 0);
	assert_int_equal(connstats_init(&c), 0);
	for (size_t i = 0; i < sizeof(evs) / sizeof(*evs); i++)
		connstats_add(&c, &evs[i]);
	/* an accepted connection no accept(2) took: no process, no RTT sample */
	unknown.flags = TCL_F_NO_PROCESS | TCL_F_INBOUND;
	memcpy(unknown.comm, "stale", 5);	/* not a name to print */
	connstats_add(&c, &unknown);
	c.open_at_exit = 3;
	CAPTURE(stats_print(&s, &c, &loss, f));
	/* most bytes first; curl: durations 1 and 3 ms, avg 2, p50 the
	 * top of 1 ms's bucket (983040..1015807 ns); srtt log2: 100 and 150
	 * in 64-127 and 128-255, 3000 in 2048-4095; none for the unknown one
	 */
	assert_string_equal(captured,
		STATS_HEADER
		"\nLatency of established connects:\n"
		CONNS_HEADER
		"nginx                   1     5000000000              7   2000.000   2000.000   2000.000\n"
		"curl                    2            150           1500      2.000      1.016      3.000\n"
		"[unknown]               1              0            300      5.000      5.000      5.000\n"
		"Still open at exit: 3\n"
		"\nSmoothed RTT of closed connections:\n"
		"                 usecs : count      distribution\n"
		"       64 -> 127       : 1          |" STARS20 STARS20 "|\n"
		"      128 -> 255       : 1          |" STARS20 STARS20 "|\n"
		"      256 -> 511       : 0          |                                        |\n"
		"      512 -> 1023      : 0          |                                        |\n"
		"     1024 -> 2047      : 0          |                                        |\n"
		"     2048 -> 4095      : 1          |" STARS20 STARS20 "|\n"
		"\nLost events: 0\n"
		"Connections dropped from the full table, no close record: 2\n");
	connstats_free(&c);
	stats_free(&s);
}

static void test_connstats_empty(void **state)
{
	struct stats s;
	struct connstats c;
	struct loss_report loss = { 0 };

	(void)state;
	assert_int_equal(stats_init(&s), 0);
	assert_int_equal(connstats_init(&c), 0);
	CAPTURE(stats_print(&s, &c, &loss, f));
	assert_string_equal(captured,
		STATS_HEADER
		"\nLatency of established connects:\n"
		CONNS_HEADER
		"Still open at exit: 0\n"
		"\nSmoothed RTT of closed connections:\n"
		"\nLost events: 0\n");
	connstats_free(&c);
	stats_free(&s);
}

static void test_connstats_other_past_max_comms(void **state)
{
	struct connstats c;
	char name[TCL_COMM_LEN];

	(void)state;
	assert_int_equal(connstats_init(&c), 0);
	for (int i = 0; i < CONNSTATS_MAX_COMMS + 5; i++) {
		struct tcl_event ev;

		snprintf(name, sizeof(name), "c%d", i);
		ev = closed(name, 1, 2, 1000, 0);
		connstats_add(&c, &ev);
	}
	assert_int_equal(c.by_comm.len, CONNSTATS_MAX_COMMS);
	assert_int_equal(c.other.closed, 5);
	assert_int_equal(c.other.bytes_sent, 5);
	assert_int_equal(c.other.bytes_received, 10);
	CAPTURE(connstats_print(&c, f));
	assert_non_null(strstr(captured, "\n[other]                 5              5             10 "));
	connstats_free(&c);
}

/* ---- --by container, and the failures by result and errno ---- */

#define CID_A "aaaaaaaaaaaa0123456789abcdef0123456789abcdef0123456789abcdef0123"
#define CID_B "bbbbbbbbbbbb0123456789abcdef0123456789abcdef0123456789abcdef0123"

static struct tcl_event failed_with(const char *comm, int err)
{
	struct tcl_event ev = event(comm, TCL_ERROR, 0);

	ev.err = err;
	return ev;
}

/* which errors, how often, from whom: most frequent first, the commands
 * of each most first, past four counted
 */
static void test_stats_failures_by_result_and_errno(void **state)
{
	struct stats s;
	struct loss_report loss = { 0 };
	const char *many[] = { "a", "b", "c", "d", "e", "f" };
	const char *l;

	(void)state;
	assert_int_equal(stats_init(&s), 0);
	for (int i = 0; i < 3; i++) {
		struct tcl_event ev = failed_with("curl", ENETUNREACH);

		stats_add(&s, &ev, NULL);
	}
	{
		struct tcl_event ev = failed_with("wget", ENETUNREACH);

		stats_add(&s, &ev, NULL);
		ev = failed_with("wget", EACCES);
		stats_add(&s, &ev, NULL);
		ev = event("ssh", TCL_REFUSED, 0);
		ev.err = ECONNREFUSED;
		stats_add(&s, &ev, NULL);
		ev = event("ssh", TCL_ESTABLISHED, 1000);	/* not a failure */
		stats_add(&s, &ev, NULL);
	}
	for (size_t i = 0; i < 6; i++) {
		struct tcl_event ev = event(many[i], TCL_TIMEOUT, 0);

		stats_add(&s, &ev, NULL);
		if (i == 5)
			stats_add(&s, &ev, NULL);
	}
	CAPTURE(stats_print(&s, NULL, &loss, f));
	l = strstr(captured, "\nFailures by result:\n");
	assert_non_null(l);
	assert_string_equal(l,
		"\nFailures by result:\n"
		"RESULT                   COUNT  COMMANDS\n"
		"timeout                      7  f 2, a 1, b 1, c 1, 2 more\n"
		"error:ENETUNREACH            4  curl 3, wget 1\n"
		"refused                      1  ssh 1\n"
		"error:EACCES                 1  wget 1\n"
		"\nLost events: 0\n");
	stats_free(&s);
}

/* no failure, no section */
static void test_stats_no_failures_no_section(void **state)
{
	struct stats s;
	struct loss_report loss = { 0 };
	struct tcl_event ev = event("curl", TCL_ESTABLISHED, 1000);

	(void)state;
	assert_int_equal(stats_init(&s), 0);
	stats_add(&s, &ev, NULL);
	CAPTURE(stats_print(&s, NULL, &loss, f));
	assert_null(strstr(captured, "Failures"));
	stats_free(&s);
}

static void test_stats_by_container(void **state)
{
	struct stats s;
	struct loss_report loss = { 0 };
	struct tcl_event a = event("curl", TCL_ESTABLISHED, 1000000);
	struct tcl_event b = event("wget", TCL_REFUSED, 0);
	struct tcl_event host = event("curl", TCL_ESTABLISHED, 1000000);

	(void)state;
	assert_int_equal(stats_init(&s), 0);
	s.by_container = true;
	stats_add(&s, &a, CID_A);
	stats_add(&s, &a, CID_A);
	stats_add(&s, &b, CID_A);	/* another command, the same container */
	stats_add(&s, &b, CID_B);
	stats_add(&s, &host, NULL);	/* in no container */
	CAPTURE(stats_print(&s, NULL, &loss, f));
	assert_non_null(strstr(captured,
		"\nCONTAINER        ATTEMPTS    ESTAB   FAILED  PENDING    AVG(ms)    P50(ms)    P99(ms)\n"
		"aaaaaaaaaaaa            3        2        1        0      1.000      1.000      1.000\n"
		"-                       1        1        0        0      1.000      1.000      1.000\n"
		"bbbbbbbbbbbb            1        0        1        0          -          -          -\n"));
	assert_non_null(strstr(captured,
		"RESULT                   COUNT  CONTAINERS\n"
		"refused                      2  aaaaaaaaaaaa 1, bbbbbbbbbbbb 1\n"));
	stats_free(&s);
}

/* -c --by container: a container column (text), key (JSON) */
static void test_counts_by_container(void **state)
{
	struct counts c;
	struct tcl_event a = dest("10.0.0.1", "10.0.0.9", 80, TCL_ESTABLISHED);
	char *err, *out;

	(void)state;
	assert_int_equal(counts_init(&c), 0);
	c.by_container = true;
	counts_add(&c, &a, CID_A);
	counts_add(&c, &a, CID_A);
	counts_add(&c, &a, CID_B);
	counts_add(&c, &a, NULL);
	counts_add(&c, &a, NULL);
	counts_add(&c, &a, NULL);
	err = stderr_of_counts_print(&c, false, 15, &out);
	assert_string_equal(out,
		"CONTAINER    IP SADDR           DADDR           DPORT   CONNECTS     FAILED\n"
		"-            4  10.0.0.1        10.0.0.9        80             3          0\n"
		"aaaaaaaaaaaa 4  10.0.0.1        10.0.0.9        80             2          0\n"
		"bbbbbbbbbbbb 4  10.0.0.1        10.0.0.9        80             1          0\n");
	free(err);
	err = stderr_of_counts_print(&c, true, 15, &out);
	assert_string_equal(out,
		"{\"event\":\"count\",\"run\":\"" RUNINFO_NIL_UUID "\",\"container\":null,\"ip\":4,\"saddr\":\"10.0.0.1\","
		"\"daddr\":\"10.0.0.9\",\"dport\":80,\"connects\":3,\"failed\":0}\n"
		"{\"event\":\"count\",\"run\":\"" RUNINFO_NIL_UUID "\",\"container\":\"" CID_A "\",\"ip\":4,\"saddr\":\"10.0.0.1\","
		"\"daddr\":\"10.0.0.9\",\"dport\":80,\"connects\":2,\"failed\":0}\n"
		"{\"event\":\"count\",\"run\":\"" RUNINFO_NIL_UUID "\",\"container\":\"" CID_B "\",\"ip\":4,\"saddr\":\"10.0.0.1\","
		"\"daddr\":\"10.0.0.9\",\"dport\":80,\"connects\":1,\"failed\":0}\n");
	free(err);
	counts_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stats_failures_by_result_and_errno),
		cmocka_unit_test(test_stats_no_failures_no_section),
		cmocka_unit_test(test_stats_by_container),
		cmocka_unit_test(test_counts_by_container),
		cmocka_unit_test(test_table_starts_empty),
		cmocka_unit_test(test_table_insert_then_lookup),
		cmocka_unit_test(test_table_keys_and_values_aligned),
		cmocka_unit_test(test_table_colliding_keys_stay_distinct),
		cmocka_unit_test(test_table_grows_at_three_quarters),
		cmocka_unit_test(test_table_many_keys),
		cmocka_unit_test(test_table_refuses_past_max_len),
		cmocka_unit_test(test_stats_summary_exact),
		cmocka_unit_test(test_connstats_in_summary_exact),
		cmocka_unit_test(test_connstats_empty),
		cmocka_unit_test(test_connstats_other_past_max_comms),
		cmocka_unit_test(test_stats_every_failure_counts_as_failed),
		cmocka_unit_test(test_stats_empty_and_losses),
		cmocka_unit_test(test_stats_ties_sorted_by_name),
		cmocka_unit_test(test_stats_average_of_ns_values),
		cmocka_unit_test(test_stats_16th_comm_byte_ignored),
		cmocka_unit_test(test_stats_other_past_max_comms),
		cmocka_unit_test(test_stats_comm_control_bytes_not_raw),
		cmocka_unit_test(test_counts_text_v4),
		cmocka_unit_test(test_counts_splits_by_source_address_and_port),
		cmocka_unit_test(test_counts_text_v6_wide),
		cmocka_unit_test(test_counts_json),
		cmocka_unit_test(test_counts_empty),
		cmocka_unit_test(test_counts_overflow_reported_on_stderr),
	};
	int rc = cmocka_run_group_tests(tests, NULL, NULL);

	free(captured);
	return rc;
}
