// SPDX-License-Identifier: GPL-2.0-only
// Unit tests for livestats.c: the --stats-interval record and line, and
// the readers of kernel.bpf_stats_enabled and of the programs' run time.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "livestats.h"
#include "runinfo.h"

#define SEC 1000000000LL

static __u64 results[TCL_RESULT_MAX];

static struct livestats sample(void)
{
	memset(results, 0, sizeof(results));
	results[TCL_ESTABLISHED] = 3;
	results[TCL_REFUSED] = 2;
	results[TCL_ERROR] = 1;
	return (struct livestats){
		.real_ns = 1700000000 * SEC + 123456000,
		.interval_s = 10,
		.by_result = results,
		.loss = { .lost = 7, .skipped = 1, .untracked = 4, .untracked_conns = 5,
			  .map_full = 6, .rdns_timeouts = 8, .dns_dropped = 9,
			  .dns_malformed = 10, .dns_evicted = 11 },
		.inflight = 12,
		.inflight_max = 8192,
	};
}

static const char *json_of(const struct livestats *ls)
{
	static char buf[2048];
	struct strbuf sb;

	sb_init(&sb, buf, sizeof(buf) - 1);
	livestats_json(ls, &sb);
	assert_false(sb.overflow);
	buf[sb.len] = 0;
	return buf;
}

static const char *text_of(const struct livestats *ls)
{
	static char buf[2048];
	struct strbuf sb;

	sb_init(&sb, buf, sizeof(buf) - 1);
	livestats_text(ls, &sb);
	assert_false(sb.overflow);
	buf[sb.len] = 0;
	return buf;
}

static void test_json_unknown_bpf_time(void **state)
{
	struct livestats ls = sample();

	(void)state;
	assert_string_equal(json_of(&ls),
		"{\"event\":\"stats\",\"run\":\"" RUNINFO_NIL_UUID "\",\"time\":\"2023-11-14T22:13:20.123456Z\",\"interval_s\":10,"
		"\"attempts\":{\"established\":3,\"refused\":2,\"timeout\":0,\"unreachable\":0,"
		"\"closed\":0,\"error\":1},\"lost\":7,\"skipped\":1,\"untracked\":4,"
		"\"untracked_connections\":5,\"map_full\":6,"
		"\"table\":{\"inflight\":12,\"inflight_max\":8192},"
		"\"bpf_run_time_ns\":null,\"bpf_run_count\":null,\"bpf_ns_per_connect\":null}\n");
}

/* -r, -d and -l add their counters; run time divided over the attempts */
static void test_json_everything(void **state)
{
	struct livestats ls = sample();

	(void)state;
	ls.resolve = ls.dns = ls.conns_shown = true;
	ls.conns = 3;
	ls.conns_max = 65536;
	ls.bpf_known = true;
	ls.bpf_run_time_ns = 10000;	/* over 6 attempts: 1666.666 */
	ls.bpf_run_cnt = 42;
	assert_string_equal(json_of(&ls),
		"{\"event\":\"stats\",\"run\":\"" RUNINFO_NIL_UUID "\",\"time\":\"2023-11-14T22:13:20.123456Z\",\"interval_s\":10,"
		"\"attempts\":{\"established\":3,\"refused\":2,\"timeout\":0,\"unreachable\":0,"
		"\"closed\":0,\"error\":1},\"lost\":7,\"skipped\":1,\"untracked\":4,"
		"\"untracked_connections\":5,\"map_full\":6,\"rdns_timeouts\":8,"
		"\"dns_dropped\":9,\"dns_malformed\":10,\"dns_evicted\":11,"
		"\"table\":{\"inflight\":12,\"inflight_max\":8192,\"connections\":3,"
		"\"connections_max\":65536},"
		"\"bpf_run_time_ns\":10000,\"bpf_run_count\":42,\"bpf_ns_per_connect\":1666.666}\n");
}

/* no attempt yet: no per-connect figure, though the run time is known */
static void test_per_connect_without_attempts(void **state)
{
	struct livestats ls = sample();

	(void)state;
	memset(results, 0, sizeof(results));
	ls.bpf_known = true;
	ls.bpf_run_time_ns = 500;
	assert_non_null(strstr(json_of(&ls), "\"bpf_run_time_ns\":500,"));
	assert_non_null(strstr(json_of(&ls), "\"bpf_ns_per_connect\":null}"));
	assert_true(livestats_attempts(&ls) == 0);
}

static void test_text_line(void **state)
{
	struct livestats ls = sample();

	(void)state;
	assert_string_equal(text_of(&ls),
		"tcpconnlog: stats: established=3 refused=2 timeout=0 unreachable=0 closed=0 "
		"error=1 lost=7 skipped=1 untracked=4 untracked_connections=5 map_full=6 "
		"inflight=12/8192 bpf_ns_per_connect=null\n");
	ls.conns_shown = true;
	ls.conns = 2;
	ls.conns_max = 100;
	ls.bpf_known = true;
	ls.bpf_run_time_ns = 600;
	assert_string_equal(strstr(text_of(&ls), " inflight="),
		" inflight=12/8192 connections=2/100 bpf_ns_per_connect=100.000\n");
}

/* the largest counters still fit a line of the buffer the tracer uses */
static void test_widest_text_fits(void **state)
{
	struct livestats ls = sample();
	__u64 max[TCL_RESULT_MAX];
	char buf[1024];
	struct strbuf sb;

	(void)state;
	for (int i = 0; i < TCL_RESULT_MAX; i++)
		max[i] = ~0ULL;
	ls.by_result = max;
	memset(&ls.loss, 0xff, sizeof(ls.loss));
	ls.resolve = ls.dns = ls.conns_shown = true;
	ls.inflight = ls.inflight_max = ls.conns = ls.conns_max = ~0ULL;
	ls.bpf_known = true;
	ls.bpf_run_time_ns = 1;
	sb_init(&sb, buf, sizeof(buf));
	livestats_text(&ls, &sb);
	assert_false(sb.overflow);
}

static char *write_tmp(const char *content)
{
	static char path[] = "/tmp/test_livestats.XXXXXX";
	int fd;

	strcpy(path, "/tmp/test_livestats.XXXXXX");
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, content, strlen(content)), (ssize_t)strlen(content));
	close(fd);
	return path;
}

static void test_sysctl_reader(void **state)
{
	char *p;

	(void)state;
	p = write_tmp("1\n");
	assert_int_equal(livestats_bpf_stats_enabled(p), 1);
	unlink(p);
	p = write_tmp("0\n");
	assert_int_equal(livestats_bpf_stats_enabled(p), 0);
	unlink(p);
	p = write_tmp("garbage\n");
	assert_int_equal(livestats_bpf_stats_enabled(p), -1);
	unlink(p);
	assert_int_equal(livestats_bpf_stats_enabled("/nonexistent/bpf_stats_enabled"), -1);
}

/* programs not loaded (fd -1) are left out; a descriptor that is not a
 * program makes the sum unknown
 */
static void test_bpf_time_fds(void **state)
{
	int none[] = { -1, -1 }, bad[] = { STDIN_FILENO };
	__u64 ns = 1, cnt = 1;

	(void)state;
	assert_int_equal(livestats_bpf_time(none, 2, &ns, &cnt), 0);
	assert_true(ns == 0 && cnt == 0);
	assert_int_equal(livestats_bpf_time(bad, 1, &ns, &cnt), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_unknown_bpf_time),
		cmocka_unit_test(test_json_everything),
		cmocka_unit_test(test_per_connect_without_attempts),
		cmocka_unit_test(test_text_line),
		cmocka_unit_test(test_widest_text_fits),
		cmocka_unit_test(test_sysctl_reader),
		cmocka_unit_test(test_bpf_time_fds),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
