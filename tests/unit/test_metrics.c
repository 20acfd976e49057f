// SPDX-License-Identifier: GPL-2.0-only
// Unit tests for metrics.c and metrics_addr.c: the registry of --metrics,
// its text exposition (format 0.0.4), label escaping, the series bound,
// and the parsing of --metrics and --metrics-labels.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <cmocka.h>

#include "hostile_names.h"
#include "metrics.h"
#include "metrics_addr.h"
#include "names.h"

static struct metrics m;
static char *text;

static void setup(unsigned int labels, size_t max_series)
{
	struct metrics_opts o = {
		.labels = labels, .max_series = max_series, .lifecycle = true, .accepts = true,
		.backend = "tracepoint", .version = "1.2.3", .libbpf = "1.1",
	};

	assert_int_equal(metrics_init(&m, &o), 0);
}

static const char *render(void)
{
	size_t len = 0;

	free(text);
	text = metrics_render(&m, &len);
	assert_non_null(text);
	text = realloc(text, len + 1);
	text[len] = 0;
	assert_int_equal(strlen(text), len);
	return text;
}

static void done(void)
{
	metrics_free(&m);
	free(text);
	text = NULL;
}

static struct tcl_event connect_ev(const char *comm, __u16 dport, unsigned int result,
				   __u64 latency_ns)
{
	struct tcl_event ev = { .kind = TCL_KIND_CONNECT, .stage = TCL_STAGE_OUTCOME,
				.result = (__u8)result, .dport = dport, .sport = 40000,
				.latency_ns = latency_ns };

	snprintf(ev.comm, sizeof(ev.comm), "%s", comm);
	return ev;
}

/* the line that starts with prefix, whole */
static void assert_line(const char *t, const char *line)
{
	size_t n = strlen(line);

	for (const char *p = t; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL)
		if (!strncmp(p, line, n) && (p[n] == '\n' || !p[n]))
			return;
	fail_msg("no line '%s' in:\n%s", line, t);
}

static void assert_no(const char *t, const char *part)
{
	if (strstr(t, part))
		fail_msg("'%s' should not be in:\n%s", part, t);
}

static void test_unlabelled_start(void **state)
{
	const char *t;

	(void)state;
	setup(0, METRICS_MAX_SERIES_DEFAULT);
	t = render();
	assert_line(t, "# TYPE tcpconnlog_connect_attempts_total counter");
	assert_line(t, "# TYPE tcpconnlog_connect_latency_seconds histogram");
	/* every result from the start, so that rate() has a series */
	assert_line(t, "tcpconnlog_connect_attempts_total{result=\"established\"} 0");
	assert_line(t, "tcpconnlog_connect_attempts_total{result=\"refused\"} 0");
	assert_line(t, "tcpconnlog_connect_attempts_total{result=\"timeout\"} 0");
	assert_line(t, "tcpconnlog_connect_attempts_total{result=\"unreachable\"} 0");
	assert_line(t, "tcpconnlog_connect_attempts_total{result=\"closed\"} 0");
	assert_line(t, "tcpconnlog_connect_attempts_total{result=\"error\"} 0");
	assert_line(t, "tcpconnlog_connect_latency_seconds_bucket{le=\"+Inf\"} 0");
	assert_line(t, "tcpconnlog_connect_latency_seconds_sum 0.000000000");
	assert_line(t, "tcpconnlog_accepts_total 0");
	assert_line(t, "tcpconnlog_closes_total 0");
	assert_line(t, "tcpconnlog_lost_events_total 0");
	assert_line(t, "tcpconnlog_metrics_series_dropped_total 0");
	assert_line(t, "tcpconnlog_backend_info{backend=\"tracepoint\"} 1");
	assert_line(t, "tcpconnlog_build_info{version=\"1.2.3\",libbpf=\"1.1\"} 1");
	/* not asked for: -r and -d are off */
	assert_no(t, "rdns_timeouts");
	assert_no(t, "dns_dropped");
	assert_no(t, "pending");
	done();
}

static void test_counts_and_histogram(void **state)
{
	struct tcl_event ok = connect_ev("curl", 443, TCL_ESTABLISHED, 300000);	/* 300 us */
	struct tcl_event slow = connect_ev("curl", 443, TCL_ESTABLISHED, 3000000000ULL);
	struct tcl_event refused = connect_ev("curl", 1, TCL_REFUSED, 50000);
	struct tcl_event call = connect_ev("curl", 443, TCL_PENDING, 0);
	const char *t;

	(void)state;
	call.stage = TCL_STAGE_CALL;	/* -i's early record: not an outcome */
	setup(0, METRICS_MAX_SERIES_DEFAULT);
	metrics_take(&m, &ok, NULL);
	metrics_take(&m, &slow, NULL);
	metrics_take(&m, &refused, NULL);
	metrics_take(&m, &refused, NULL);
	metrics_take(&m, &call, NULL);
	t = render();
	assert_line(t, "tcpconnlog_connect_attempts_total{result=\"established\"} 2");
	assert_line(t, "tcpconnlog_connect_attempts_total{result=\"refused\"} 2");
	/* cumulative buckets; the failure's latency is not a handshake's */
	assert_line(t, "tcpconnlog_connect_latency_seconds_bucket{le=\"0.00025\"} 0");
	assert_line(t, "tcpconnlog_connect_latency_seconds_bucket{le=\"0.0005\"} 1");
	assert_line(t, "tcpconnlog_connect_latency_seconds_bucket{le=\"2.5\"} 1");
	assert_line(t, "tcpconnlog_connect_latency_seconds_bucket{le=\"5\"} 2");
	assert_line(t, "tcpconnlog_connect_latency_seconds_bucket{le=\"+Inf\"} 2");
	assert_line(t, "tcpconnlog_connect_latency_seconds_sum 3.000300000");
	assert_line(t, "tcpconnlog_connect_latency_seconds_count 2");
	done();
}

static void test_labels_and_closes(void **state)
{
	struct tcl_event a = connect_ev("curl", 443, TCL_ESTABLISHED, 1000);
	struct tcl_event b = connect_ev("wget", 80, TCL_TIMEOUT, 0);
	struct tcl_event acc = { .kind = TCL_KIND_ACCEPT, .sport = 8080, .dport = 51234 };
	struct tcl_event in_close = { .kind = TCL_KIND_CLOSE, .flags = TCL_F_INBOUND,
				      .sport = 8080, .dport = 51234, .bytes_sent = 10,
				      .bytes_received = 20 };
	struct tcl_event out_close = { .kind = TCL_KIND_CLOSE, .sport = 40000, .dport = 443,
				       .bytes_sent = 5, .bytes_received = 7 };
	const char *t;

	(void)state;
	strcpy(acc.comm, "srv");
	strcpy(in_close.comm, "srv");
	strcpy(out_close.comm, "curl");
	setup(METRICS_LABEL_COMM | METRICS_LABEL_DPORT | METRICS_LABEL_CONTAINER, 100);
	metrics_take(&m, &a, "3f2a");
	metrics_take(&m, &b, NULL);
	metrics_take(&m, &acc, NULL);
	metrics_take(&m, &in_close, NULL);
	metrics_take(&m, &out_close, "3f2a");
	t = render();
	assert_line(t, "tcpconnlog_connect_attempts_total{comm=\"curl\",dport=\"443\",container=\"3f2a\",result=\"established\"} 1");
	assert_line(t, "tcpconnlog_connect_attempts_total{comm=\"wget\",dport=\"80\",container=\"\",result=\"timeout\"} 1");
	/* labelled series show what they counted, no zeros */
	assert_no(t, "comm=\"wget\",dport=\"80\",container=\"\",result=\"established\"");
	assert_line(t, "tcpconnlog_connect_latency_seconds_count{comm=\"curl\",dport=\"443\",container=\"3f2a\"} 1");
	/* an accepted connection's port is the local one */
	assert_line(t, "tcpconnlog_accepts_total{comm=\"srv\",dport=\"8080\",container=\"\"} 1");
	assert_line(t, "tcpconnlog_closes_total{comm=\"srv\",dport=\"8080\",container=\"\"} 1");
	assert_line(t, "tcpconnlog_sent_bytes_total{comm=\"srv\",dport=\"8080\",container=\"\"} 10");
	assert_line(t, "tcpconnlog_received_bytes_total{comm=\"curl\",dport=\"443\",container=\"3f2a\"} 7");
	assert_line(t, "tcpconnlog_metrics_series 3");
	assert_no(t, "{overflow");
	done();
}

static void test_series_bound(void **state)
{
	const char *names[] = { "a", "b", "c", "d", "b" };
	const char *t;

	(void)state;
	setup(METRICS_LABEL_COMM, 2);
	for (size_t i = 0; i < 5; i++) {
		struct tcl_event ev = connect_ev(names[i], 80, TCL_REFUSED, 0);

		metrics_take(&m, &ev, NULL);
	}
	t = render();
	assert_line(t, "tcpconnlog_connect_attempts_total{comm=\"a\",result=\"refused\"} 1");
	assert_line(t, "tcpconnlog_connect_attempts_total{comm=\"b\",result=\"refused\"} 2");
	/* c and d past the bound: counted, in the overflow series */
	assert_line(t, "tcpconnlog_connect_attempts_total{overflow=\"true\",result=\"refused\"} 2");
	assert_no(t, "comm=\"c\"");
	assert_line(t, "tcpconnlog_metrics_series 2");
	assert_line(t, "tcpconnlog_metrics_series_dropped_total 2");
	done();
}

static void test_loss_never_goes_down(void **state)
{
	struct loss_report high = { .lost = 5, .untracked = 9, .skipped = 2 };
	struct loss_report low = { .lost = 6, .untracked = 7, .skipped = 2 };
	const char *t;

	(void)state;
	setup(0, 10);
	metrics_set_loss(&m, &high);
	metrics_set_loss(&m, &low);
	t = render();
	assert_line(t, "tcpconnlog_lost_events_total 6");
	assert_line(t, "tcpconnlog_untracked_attempts_total 9");
	assert_line(t, "tcpconnlog_skipped_events_total 2");
	done();
}

static void test_ready_flag(void **state)
{
	(void)state;
	setup(0, 10);
	assert_false(metrics_ready(&m));
	metrics_set_ready(&m);
	assert_true(metrics_ready(&m));
	done();
}

static const char *label_of(const char *s, size_t n)
{
	static char buf[256];
	struct strbuf sb;

	sb_init(&sb, buf, sizeof(buf) - 1);
	metrics_label_value(&sb, s, n);
	assert_false(sb.overflow);
	buf[sb.len] = 0;
	return buf;
}

static void test_label_escaping(void **state)
{
	(void)state;
	assert_string_equal(label_of("a\"b\\c\nd", 16), "a\\\"b\\\\c\\nd");
	/* invalid bytes become U+00XX, as JSON has them */
	assert_string_equal(label_of("\xff\xfe", 16), "\xc3\xbf\xc3\xbe");
	assert_string_equal(label_of("caf\xc3\xa9", 16), "caf\xc3\xa9");
	/* a tab is a character of a label value like any other */
	assert_string_equal(label_of("a\tb", 16), "a\tb");
	/* stops at the NUL or at n */
	assert_string_equal(label_of("abcdef", 3), "abc");
}

/* Every hostile command name: valid UTF-8, no raw newline, no quote
 * or backslash left unescaped; the longest fits a label of the exposition
 */
static void test_hostile_names_stay_one_label(void **state)
{
	(void)state;
	for (size_t i = 0; i < HOSTILE_COUNT; i++) {
		const char *v = label_of(hostile[i].name, TCL_COMM_LEN);
		size_t n = strlen(v);

		for (size_t j = 0; j < n;) {
			unsigned int cp;
			size_t seq = utf8_decode((const unsigned char *)v + j, n - j, &cp);

			assert_true(seq > 0);
			assert_true(cp != '\n');
			if (cp == '\\') {
				assert_true(j + 1 < n && strchr("\\\"n", v[j + 1]));
				j += 2;
				continue;
			}
			assert_true(cp != '"');
			j += seq;
		}
	}
}

static void parse_ok(const char *s, const char *text, int family)
{
	struct metrics_addr a;
	char why[256] = "";

	if (metrics_parse_addr(s, &a, why, sizeof(why)))
		fail_msg("'%s' refused: %s", s, why);
	assert_string_equal(a.text, text);
	assert_int_equal(a.ss.ss_family, family);
	assert_int_equal(a.len, family == AF_INET ? sizeof(struct sockaddr_in) :
			 sizeof(struct sockaddr_in6));
}

static void parse_bad(const char *s, const char *says)
{
	struct metrics_addr a;
	char why[256] = "";

	assert_int_equal(metrics_parse_addr(s, &a, why, sizeof(why)), -1);
	if (!strstr(why, says))
		fail_msg("'%s': '%s' does not say '%s'", s, why, says);
}

static void test_parse_addr(void **state)
{
	struct metrics_addr a;
	char why[256];

	(void)state;
	parse_ok("9476", "127.0.0.1:9476", AF_INET);
	parse_ok("0.0.0.0:9476", "0.0.0.0:9476", AF_INET);
	parse_ok("[::1]:9476", "[::1]:9476", AF_INET6);
	parse_ok("[::]:1", "[::]:1", AF_INET6);
	assert_int_equal(metrics_parse_addr("10.1.2.3:65535", &a, why, sizeof(why)), 0);
	assert_int_equal(ntohs(((struct sockaddr_in *)&a.ss)->sin_port), 65535);
	assert_int_equal(ntohl(((struct sockaddr_in *)&a.ss)->sin_addr.s_addr), 0x0a010203);
	parse_bad(":9476", "give 127.0.0.1:9476");
	parse_bad("localhost:9476", "not a name");
	parse_bad("::1:9476", "brackets");
	parse_bad("[::1]", "port");
	parse_bad("1.2.3.4:0", "1 to 65535");
	parse_bad("1.2.3.4:65536", "1 to 65535");
	parse_bad("1.2.3.4:", "1 to 65535");
	parse_bad("", "1 to 65535");
	parse_bad("1.2.3.4:80x", "1 to 65535");
	parse_bad("[::1:80", "brackets");
}

static void test_parse_labels(void **state)
{
	unsigned int l;
	char why[256];

	(void)state;
	assert_int_equal(metrics_parse_labels("comm", &l, why, sizeof(why)), 0);
	assert_int_equal(l, METRICS_LABEL_COMM);
	assert_int_equal(metrics_parse_labels("container,dport,comm", &l, why, sizeof(why)), 0);
	assert_int_equal(l, METRICS_LABEL_COMM | METRICS_LABEL_DPORT | METRICS_LABEL_CONTAINER);
	assert_int_equal(metrics_parse_labels("dport,dport", &l, why, sizeof(why)), 0);
	assert_int_equal(l, METRICS_LABEL_DPORT);
	assert_int_equal(metrics_parse_labels("comm,pid", &l, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "unknown label 'pid'"));
	assert_int_equal(metrics_parse_labels("", &l, why, sizeof(why)), -1);
	assert_int_equal(metrics_parse_labels("comm,", &l, why, sizeof(why)), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_unlabelled_start),
		cmocka_unit_test(test_counts_and_histogram),
		cmocka_unit_test(test_labels_and_closes),
		cmocka_unit_test(test_series_bound),
		cmocka_unit_test(test_loss_never_goes_down),
		cmocka_unit_test(test_ready_flag),
		cmocka_unit_test(test_label_escaping),
		cmocka_unit_test(test_hostile_names_stay_one_label),
		cmocka_unit_test(test_parse_addr),
		cmocka_unit_test(test_parse_labels),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
