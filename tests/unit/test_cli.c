// SPDX-License-Identifier: GPL-2.0-only
// Unit tests for cli.c: what each option sets, and the one-line errors.
#include <getopt.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include "cli.h"
#include "metrics.h"

#define MSG(text) "tcpconnlog: " text " (see tcpconnlog --help)\n"

static struct tcl_config cfg;
static char out_text[16384], err_text[4096];

/* Forget whatever getopt remembers from an earlier call (a cluster such as
 * "-Vt" left half read): optind 0 makes glibc start from scratch.
 */
static void reset_getopt(void)
{
	char *argv[] = { "tcpconnlog", NULL };

	optind = 0;
	opterr = 0;
	assert_int_equal(getopt(1, argv, ""), -1);
}

static void read_back(FILE *f, char *buf, size_t cap)
{
	size_t n;

	rewind(f);
	n = fread(buf, 1, cap - 1, f);
	buf[n] = '\0';
	fclose(f);
}

/* cli_parse on "tcpconnlog" + the NULL-terminated arguments, with stdout
 * and stderr caught in out_text and err_text.
 */
static enum cli_status parse_v(bool reset, va_list ap)
{
	char *argv[32];
	int argc = 0, saved_out, saved_err;
	FILE *fo = tmpfile(), *fe = tmpfile();
	enum cli_status st;
	const char *a;

	assert_non_null(fo);
	assert_non_null(fe);
	argv[argc++] = "tcpconnlog";
	while ((a = va_arg(ap, const char *)))
		argv[argc++] = (char *)a;
	argv[argc] = NULL;

	if (reset)
		reset_getopt();
	fflush(stdout);
	fflush(stderr);
	saved_out = dup(1);
	saved_err = dup(2);
	dup2(fileno(fo), 1);
	dup2(fileno(fe), 2);
	st = cli_parse(argc, argv, &cfg);
	fflush(stdout);
	fflush(stderr);
	dup2(saved_out, 1);
	dup2(saved_err, 2);
	close(saved_out);
	close(saved_err);
	read_back(fo, out_text, sizeof(out_text));
	read_back(fe, err_text, sizeof(err_text));
	return st;
}

static enum cli_status parse(const char *first, ...)
{
	va_list ap;
	enum cli_status st;

	va_start(ap, first);
	/* first is a dummy so that parse(NULL) means no arguments */
	(void)first;
	st = parse_v(true, ap);
	va_end(ap);
	return st;
}

#define PARSE(...) parse("", __VA_ARGS__, NULL)

/* parsed fine, nothing printed */
static void assert_run(enum cli_status st)
{
	assert_int_equal(st, CLI_RUN);
	assert_string_equal(err_text, "");
	assert_string_equal(out_text, "");
}

/* rejected with exactly this one line on stderr and nothing on stdout */
static void assert_usage(enum cli_status st, const char *line)
{
	assert_int_equal(st, CLI_USAGE);
	assert_string_equal(err_text, line);
	assert_string_equal(out_text, "");
	assert_non_null(strchr(err_text, '\n'));
	assert_ptr_equal(strchr(err_text, '\n'), err_text + strlen(err_text) - 1);
}

/* ---- defaults ---- */

static void test_no_arguments_defaults(void **state)
{
	struct tcl_config want;

	(void)state;
	assert_run(parse("", NULL));
	memset(&want, 0, sizeof(want));
	want.ringbuf_bytes = 4194304;
	want.resolve_timeout_ms = 200;	/* used only with -r */
	want.dns_table_size = 8192;
	/* once attached, it becomes nobody */
	strcpy(want.run_as, "nobody");
	want.run_uid = 65534;
	want.run_gid = 65534;
	assert_memory_equal(&cfg, &want, sizeof(want));
	assert_int_equal(cfg.backend, BACKEND_AUTO);
}

static void test_config_cleared_between_calls(void **state)
{
	(void)state;
	assert_run(PARSE("-j", "-p", "5", "--ringbuf-size", "8192"));
	assert_true(cfg.json && cfg.pid_set);
	assert_run(parse("", NULL));
	assert_false(cfg.json);
	assert_false(cfg.pid_set);
	assert_int_equal(cfg.pid, 0);
	assert_true(cfg.ringbuf_bytes == 4194304);
}

/* ---- each option ---- */

static void test_backend_names(void **state)
{
	(void)state;
	assert_run(PARSE("-b", "fentry"));
	assert_int_equal(cfg.backend, BACKEND_FENTRY);
	assert_run(PARSE("-bkprobe"));
	assert_int_equal(cfg.backend, BACKEND_KPROBE);
	assert_run(PARSE("--backend=tracepoint"));
	assert_int_equal(cfg.backend, BACKEND_TRACEPOINT);
	assert_run(PARSE("--backend", "auto"));
	assert_int_equal(cfg.backend, BACKEND_AUTO);
	assert_string_equal(backend_name(BACKEND_AUTO), "auto");
	assert_string_equal(backend_name(BACKEND_FENTRY), "fentry");
	assert_string_equal(backend_name(BACKEND_KPROBE), "kprobe");
	assert_string_equal(backend_name(BACKEND_TRACEPOINT), "tracepoint");
}

static void test_backend_bogus(void **state)
{
	(void)state;
	assert_usage(PARSE("-b", "bogus"),
		     MSG("unknown backend 'bogus': use auto, fentry, kprobe or tracepoint"));
	/* names are exact: no case folding, no prefixes */
	assert_usage(PARSE("-b", "KPROBE"),
		     MSG("unknown backend 'KPROBE': use auto, fentry, kprobe or tracepoint"));
	assert_usage(PARSE("--backend=k"),
		     MSG("unknown backend 'k': use auto, fentry, kprobe or tracepoint"));
}

static void test_resolve(void **state)
{
	static const struct {
		const char *a, *b, *c, *msg;
	} bad[] = {
		{ "-r", "--resolve-timeout", "0",
		  MSG("invalid --resolve-timeout '0': milliseconds from 1 to 60000") },
		{ "-r", "--resolve-timeout", "60001",
		  MSG("invalid --resolve-timeout '60001': milliseconds from 1 to 60000") },
		{ "--resolve-timeout", "100", NULL,
		  MSG("--resolve-timeout bounds the wait of -r: give -r too") },
		{ "-r", "-c", NULL,
		  MSG("-r names the addresses of records, and -c and --top print none") },
		{ "-r", "--top", NULL,
		  MSG("-r names the addresses of records, and -c and --top print none") },
	};

	(void)state;
	assert_run(PARSE("-r"));
	assert_true(cfg.resolve);
	assert_true(cfg.resolve_timeout_ms == 200);
	assert_run(PARSE("--resolve", "--resolve-timeout", "1"));
	assert_true(cfg.resolve && cfg.resolve_timeout_ms == 1);
	assert_run(PARSE("-rlA", "--resolve-timeout=60000"));
	assert_true(cfg.resolve && cfg.resolve_timeout_ms == 60000);
	/* wrong values, and -r where nothing is printed to name */
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		assert_usage(parse("", bad[i].a, bad[i].b, bad[i].c, NULL), bad[i].msg);
}

static void test_metrics_options(void **state)
{
	(void)state;
	assert_run(PARSE("--metrics", "9476"));
	assert_true(cfg.metrics && cfg.metrics_labels == 0);
	assert_string_equal(cfg.metrics_addr.text, "127.0.0.1:9476");
	assert_true(cfg.metrics_max_series == 1000);
	assert_run(PARSE("--metrics=[::1]:80", "--metrics-labels", "container,comm",
			 "--metrics-max-series=5"));
	assert_string_equal(cfg.metrics_addr.text, "[::1]:80");
	assert_true(cfg.metrics_labels == (METRICS_LABEL_COMM | METRICS_LABEL_CONTAINER));
	assert_true(cfg.metrics_max_series == 5);
	assert_usage(PARSE("--metrics", ":9476"),
		     MSG("invalid --metrics ':9476' names no address: give 127.0.0.1:9476 "
			 "(this host only) or 0.0.0.0:9476 (every interface; [::]:9476 for IPv6)"));
	assert_usage(PARSE("--metrics-labels", "comm"),
		     MSG("--metrics-labels and --metrics-max-series shape what --metrics "
			 "serves: give --metrics too"));
	assert_usage(PARSE("--metrics", "1", "--metrics-max-series", "1000001"),
		     MSG("invalid --metrics-max-series '1000001': a count from 1 to 1000000"));
}

static void test_pid(void **state)
{
	(void)state;
	assert_run(PARSE("-p", "1"));
	assert_true(cfg.pid_set);
	assert_int_equal(cfg.pid, 1);
	assert_run(PARSE("--pid=4194304"));
	assert_int_equal(cfg.pid, 4194304);
	assert_run(PARSE("-p181"));
	assert_int_equal(cfg.pid, 181);
}

static void test_pid_bad_values(void **state)
{
	(void)state;
	assert_usage(PARSE("-p", "0"),
		     MSG("invalid PID '0': a process ID from 1 to 4194304"));
	assert_usage(PARSE("-p", "abc"),
		     MSG("invalid PID 'abc': a process ID from 1 to 4194304"));
	assert_usage(PARSE("-p", "4194305"),
		     MSG("invalid PID '4194305': a process ID from 1 to 4194304"));
	assert_usage(PARSE("-p", "-1"),
		     MSG("invalid PID '-1': a process ID from 1 to 4194304"));
	assert_usage(PARSE("-p", " 5"),
		     MSG("invalid PID ' 5': a process ID from 1 to 4194304"));
	assert_usage(PARSE("--pid="),
		     MSG("invalid PID '': a process ID from 1 to 4194304"));
}

static void test_uid_number_and_name(void **state)
{
	(void)state;
	assert_run(PARSE("-u", "0"));
	assert_true(cfg.uid_set);
	assert_int_equal(cfg.uid, 0);
	assert_run(PARSE("--uid=4294967294"));
	assert_true(cfg.uid == 4294967294U);
	assert_run(PARSE("-u", "root"));
	assert_int_equal(cfg.uid, 0);
	assert_run(PARSE("-u", "nobody"));
	assert_int_equal(cfg.uid, 65534);
}

static void test_user_to_run_as(void **state)
{
	(void)state;
	assert_run(PARSE("--user", "daemon"));
	assert_string_equal(cfg.run_as, "daemon");
	assert_int_equal(cfg.run_uid, 1);
	assert_int_equal(cfg.run_gid, 1);
	assert_false(cfg.keep_privileges);
	/* a number without an entry: the group of the same number */
	assert_run(PARSE("--user=4242"));
	assert_int_equal(cfg.run_uid, 4242);
	assert_int_equal(cfg.run_gid, 4242);
	assert_run(PARSE("--no-drop-privileges"));
	assert_true(cfg.keep_privileges);
	assert_string_equal(cfg.run_as, "");
}

static void test_user_bad_values(void **state)
{
	(void)state;
	assert_usage(PARSE("--user", "nosuchuser"),
		     MSG("unknown user 'nosuchuser' for --user: a user name or UID"));
	assert_usage(PARSE("--user="),
		     MSG("unknown user '' for --user: a user name or UID"));
	assert_usage(PARSE("--user", "daemon", "--no-drop-privileges"),
		     MSG("--user and --no-drop-privileges exclude each other"));
	assert_usage(PARSE("--user"), MSG("option '--user' needs a value"));
}

static void test_uid_bad_values(void **state)
{
	(void)state;
	assert_usage(PARSE("-u", "nosuchuser"),
		     MSG("invalid UID 'nosuchuser': a number or an existing user name"));
	/* (uid_t)-1 means "no user" to the kernel */
	assert_usage(PARSE("-u", "4294967295"),
		     MSG("invalid UID '4294967295': a number or an existing user name"));
	assert_usage(PARSE("-u", "-1"),
		     MSG("invalid UID '-1': a number or an existing user name"));
	assert_false(cfg.uid_set);
}

static void test_ports(void **state)
{
	(void)state;
	assert_run(PARSE("-P", "80,443,8000-8100"));
	assert_true(cfg.ports_set);
	assert_true(port_in_set(cfg.ports, 80));
	assert_true(port_in_set(cfg.ports, 443));
	assert_true(port_in_set(cfg.ports, 8000));
	assert_true(port_in_set(cfg.ports, 8050));
	assert_true(port_in_set(cfg.ports, 8100));
	assert_false(port_in_set(cfg.ports, 79));
	assert_false(port_in_set(cfg.ports, 81));
	assert_false(port_in_set(cfg.ports, 7999));
	assert_false(port_in_set(cfg.ports, 8101));
	assert_false(port_in_set(cfg.ports, 0));
	assert_run(PARSE("--port=65535"));
	assert_true(port_in_set(cfg.ports, 65535));
	assert_false(port_in_set(cfg.ports, 80));
}

/* -P adds to the set: "-P 80 -P 443" watches both, like "-P 80,443" */
static void test_ports_repeated_add_up(void **state)
{
	(void)state;
	assert_run(PARSE("-P", "80", "-P", "443"));
	assert_true(cfg.ports_set);
	assert_true(port_in_set(cfg.ports, 80));
	assert_true(port_in_set(cfg.ports, 443));
	assert_false(port_in_set(cfg.ports, 81));
	assert_run(PARSE("-P", "8000-8001", "--port=22", "-P", "8000"));
	assert_true(port_in_set(cfg.ports, 8000));
	assert_true(port_in_set(cfg.ports, 8001));
	assert_true(port_in_set(cfg.ports, 22));
	assert_false(port_in_set(cfg.ports, 8002));
	assert_false(port_in_set(cfg.ports, 80));
	/* a bad list after a good one is still refused */
	assert_usage(PARSE("-P", "80", "-P", "0"),
		     MSG("invalid --port: '0' is not a port (1-65535) or range of ports"));
}

static void test_ports_bad_values(void **state)
{
	(void)state;
	assert_usage(PARSE("-P", "0"),
		     MSG("invalid --port: '0' is not a port (1-65535) or range of ports"));
	assert_usage(PARSE("-P", "70000"),
		     MSG("invalid --port: '70000' is not a port (1-65535) or range of ports"));
	assert_usage(PARSE("-P", "80-70"),
		     MSG("invalid --port: range '80-70' runs backwards"));
	assert_usage(PARSE("-P", "http"),
		     MSG("invalid --port: 'http' is not a port (1-65535) or range of ports"));
	assert_usage(PARSE("--port="), MSG("invalid --port: empty port list"));
	assert_usage(PARSE("-P", "80,"),
		     MSG("invalid --port: empty element in port list '80,'"));
	assert_false(cfg.ports_set);
}

static void test_comm(void **state)
{
	(void)state;
	assert_run(PARSE("-n", "curl"));
	assert_true(cfg.comm_set);
	assert_string_equal(cfg.comm, "curl");
	assert_run(PARSE("--comm=systemd-resolve"));	/* 15: the kernel's limit */
	assert_string_equal(cfg.comm, "systemd-resolve");
}

static void test_comm_bad_values(void **state)
{
	(void)state;
	assert_usage(PARSE("-n", ""),
		     MSG("invalid command name '': 1 to 15 characters, as the kernel keeps them"));
	assert_usage(PARSE("-n", "systemd-resolved"),
		     MSG("invalid command name 'systemd-resolved': 1 to 15 characters, "
			 "as the kernel keeps them"));
	assert_false(cfg.comm_set);
}

static void test_address_family(void **state)
{
	(void)state;
	assert_run(PARSE("-4"));
	assert_int_equal(cfg.ip, 4);
	assert_run(PARSE("--ipv6"));
	assert_int_equal(cfg.ip, 6);
	assert_run(PARSE("-4", "-4"));		/* repeating one is harmless */
	assert_int_equal(cfg.ip, 4);
}

static void test_ipv4_and_ipv6_exclusive(void **state)
{
	(void)state;
	assert_usage(PARSE("-4", "-6"),
		     MSG("-4 and -6 exclude each other: give neither to see both"));
	assert_usage(PARSE("-64"),
		     MSG("-4 and -6 exclude each other: give neither to see both"));
	assert_usage(PARSE("--ipv4", "--ipv6"),
		     MSG("-4 and -6 exclude each other: give neither to see both"));
}

static void test_boolean_flags_short(void **state)
{
	(void)state;
	assert_run(PARSE("-x", "-j", "-t", "-T", "-U", "-L", "-v"));
	assert_true(cfg.failed_only && cfg.json && cfg.timestamp && cfg.wallclock &&
		    cfg.print_uid && cfg.print_lport && cfg.verbose);
	assert_false(cfg.immediate || cfg.count || cfg.no_summary || cfg.check_only);
	assert_run(PARSE("-i"));
	assert_true(cfg.immediate);
	assert_false(cfg.count);
	assert_run(PARSE("-c"));
	assert_true(cfg.count);
	assert_false(cfg.immediate);
}

static void test_boolean_flags_clustered(void **state)
{
	(void)state;
	assert_run(PARSE("-tUL"));
	assert_true(cfg.timestamp && cfg.print_uid && cfg.print_lport);
	assert_false(cfg.wallclock || cfg.json);
	/* a flag and a value in one word */
	assert_run(PARSE("-jp42"));
	assert_true(cfg.json);
	assert_int_equal(cfg.pid, 42);
}

static void test_boolean_flags_long(void **state)
{
	(void)state;
	assert_run(PARSE("--failed", "--json", "--timestamp", "--time", "--print-uid",
			 "--lport", "--verbose", "--no-summary", "--check"));
	assert_true(cfg.failed_only && cfg.json && cfg.timestamp && cfg.wallclock &&
		    cfg.print_uid && cfg.print_lport && cfg.verbose && cfg.no_summary &&
		    cfg.check_only);
	assert_run(PARSE("--immediate"));
	assert_true(cfg.immediate);
	assert_run(PARSE("--count"));
	assert_true(cfg.count);
}

static void test_duration(void **state)
{
	(void)state;
	assert_run(PARSE("--duration", "10"));
	assert_true(cfg.duration_s == 10);
	assert_run(PARSE("--duration=315360000"));	/* ten years */
	assert_true(cfg.duration_s == 315360000);
	assert_usage(PARSE("--duration", "0"),
		     MSG("invalid duration '0': whole seconds, at least 1"));
	assert_usage(PARSE("--duration", "1.5"),
		     MSG("invalid duration '1.5': whole seconds, at least 1"));
	assert_usage(PARSE("--duration", "315360001"),
		     MSG("invalid duration '315360001': whole seconds, at least 1"));
}

/* The flags of bcc's and libbpf-tools' tools: the same meaning, or a
 * message that says what to use.
 */
static void test_bcc_flags(void **state)
{
	(void)state;
	/* tcplife's -D: remote ports, the same set as -P; no duration */
	assert_run(PARSE("-l", "-D", "443"));
	assert_true(cfg.ports_set && cfg.duration_s == 0);
	assert_true(cfg.ports[443 / 64] == 1ULL << (443 % 64));
	assert_run(PARSE("-D", "80", "-P", "443"));
	assert_true(cfg.ports[80 / 64] & 1ULL << (80 % 64));
	assert_true(cfg.ports[443 / 64] & 1ULL << (443 % 64));
	assert_usage(PARSE("-D", "0"),
		     MSG("invalid -D ports: '0' is not a port (1-65535) or range of ports"));
	/* -M and -N: libbpf-tools' tcpconnect and bcc's tcptracer */
	assert_run(PARSE("-M", "/sys/fs/bpf/mnt_ns_set", "-N", "4026531840"));
	assert_string_equal(cfg.mntnsmap, "/sys/fs/bpf/mnt_ns_set");
	assert_true(cfg.netns == 4026531840U);
	assert_run(PARSE("-N", "/run/netns/blue"));
	assert_string_equal(cfg.netns_path, "/run/netns/blue");
	/* tcplife's -w: accepted, changes nothing */
	assert_run(PARSE("-w", "-j"));
	assert_true(cfg.json);
	/* -L and -C take no value, wherever they stand in a group */
	assert_usage(PARSE("-l", "-L", "22"),
		     MSG("-L adds the LPORT column (as in tcpconnect and tcpconnlat) and takes "
			 "no value; for tcplife's -L PORTS (local ports) use -A -P PORTS"));
	assert_usage(PARSE("-jL", "22,80", "-l"),
		     MSG("-L adds the LPORT column (as in tcpconnect and tcpconnlat) and takes "
			 "no value; for tcplife's -L PORTS (local ports) use -A -P PORTS"));
	assert_usage(PARSE("-C", "/sys/fs/bpf/cgroup_set"),
		     MSG("-C adds the CONTAINER column and takes no value; libbpf-tools' "
			 "-C MAP is --cgroupmap MAP here"));
	/* ... but a value of another option may look like one */
	assert_run(PARSE("-n", "L", "-C", "-j"));
	assert_string_equal(cfg.comm, "L");
	assert_run(PARSE("-nC", "-L"));
	assert_string_equal(cfg.comm, "C");
	assert_usage(PARSE("-n", "x", "-L", "--", "22"),
		     MSG("unexpected argument '22': options only (to stop after 22 seconds: "
			 "--duration 22)"));
	assert_run(PARSE("--comm", "-L", "-C"));
	assert_string_equal(cfg.comm, "-L");
	assert_run(PARSE("--top", "5", "-C"));
	assert_true(cfg.top_interval_s == 5 && cfg.show_container);
	/* libbpf-tools' tcpconnect -s and bcc's tcplife -s differ: refused */
	assert_usage(PARSE("-c", "-s"),
		     MSG("-s is not an option here: for tcplife's -s (CSV) use -j (JSON lines); "
			 "-c counts per source address, destination and port, not per source "
			 "port (libbpf-tools' tcpconnect -s)"));
	/* tcpconnlat's minimum latency operand */
	assert_usage(PARSE("10"),
		     MSG("unexpected argument '10': options only (to stop after 10 seconds: "
			 "--duration 10)"));
}

static void test_max_events(void **state)
{
	(void)state;
	assert_run(PARSE("--max-events=5"));
	assert_true(cfg.max_events == 5);
	assert_run(PARSE("--max-events", "9223372036854775807"));
	assert_true(cfg.max_events == 9223372036854775807ULL);
	assert_usage(PARSE("--max-events=0"),
		     MSG("invalid --max-events '0': a count of at least 1"));
	assert_usage(PARSE("--max-events=9223372036854775808"),
		     MSG("invalid --max-events '9223372036854775808': a count of at least 1"));
}

static void test_ringbuf_size(void **state)
{
	(void)state;
	assert_run(PARSE("--ringbuf-size", "4096"));
	assert_true(cfg.ringbuf_bytes == 4096);
	assert_run(PARSE("--ringbuf-size=1073741824"));
	assert_true(cfg.ringbuf_bytes == 1073741824ULL);
}

static void test_ringbuf_size_bad_values(void **state)
{
	static const char *const bad[] = {
		"1000", "0", "2048", "4097", "6144", "2147483648", "4k", "",
	};

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++) {
		char want[200];

		snprintf(want, sizeof(want),
			 MSG("invalid --ringbuf-size '%s': a power of two from 4096 to 1073741824"),
			 bad[i]);
		assert_usage(PARSE("--ringbuf-size", bad[i]), want);
		assert_true(cfg.ringbuf_bytes == 4194304);
	}
}

/* -d and the size of its table, which means nothing without it */
static void test_dns(void **state)
{
	(void)state;
	assert_run(PARSE("-d"));
	assert_true(cfg.dns && cfg.dns_table_size == 8192);
	assert_run(PARSE("--dns", "--dns-table", "1"));
	assert_true(cfg.dns && cfg.dns_table_size == 1);
	assert_run(PARSE("-d", "--dns-table=16777216"));
	assert_true(cfg.dns_table_size == 16777216);
	assert_usage(PARSE("--dns-table", "100"),
		     MSG("--dns-table sizes the table of -d: give -d too"));
	assert_usage(PARSE("-d", "--dns-table", "0"),
		     MSG("invalid --dns-table '0': a count of addresses from 1 to 16777216"));
	assert_usage(PARSE("-d", "--dns-table", "16777217"),
		     MSG("invalid --dns-table '16777217': a count of addresses from 1 to 16777216"));
	assert_usage(PARSE("-d", "--dns-table", "1k"),
		     MSG("invalid --dns-table '1k': a count of addresses from 1 to 16777216"));
}

/* ---- combinations refused ---- */

/* --btf: a file that can be read, kept by reference; whether it is BTF
 * is a runtime question
 */
static void test_btf(void **state)
{
	(void)state;
	assert_run(PARSE("--btf", "/etc/passwd"));
	assert_string_equal(cfg.btf_path, "/etc/passwd");
	assert_run(PARSE("--btf=/dev/null", "--check"));
	assert_string_equal(cfg.btf_path, "/dev/null");
	assert_run(PARSE("-v"));
	assert_null(cfg.btf_path);
	assert_usage(PARSE("--btf", "/nonexistent/vmlinux"),
		     MSG("cannot read --btf file '/nonexistent/vmlinux': No such file or directory"));
	assert_usage(PARSE("--btf"), MSG("option '--btf' needs a value"));
}

/* --cgroup, --container, --netns, --cgroupmap, --mntnsmap: kept as given
 * (opened at run time, cgfilter.c); --netns a number or a path
 */
static void test_place_filters(void **state)
{
	(void)state;
	assert_run(PARSE("--cgroup", "/sys/fs/cgroup/unified/a b", "--netns", "4026531840",
			 "--cgroupmap=/sys/fs/bpf/cg", "--mntnsmap", "/sys/fs/bpf/mnt"));
	assert_string_equal(cfg.cgroup, "/sys/fs/cgroup/unified/a b");
	assert_null(cfg.container);
	assert_true(cfg.netns == 4026531840U);
	assert_null(cfg.netns_path);
	assert_string_equal(cfg.cgroupmap, "/sys/fs/bpf/cg");
	assert_string_equal(cfg.mntnsmap, "/sys/fs/bpf/mnt");
	assert_run(PARSE("--container", "3f2a", "--netns", "/proc/1/ns/net"));
	assert_string_equal(cfg.container, "3f2a");
	assert_null(cfg.cgroup);
	assert_true(cfg.netns == 0);
	assert_string_equal(cfg.netns_path, "/proc/1/ns/net");
	assert_null(cfg.cgroupmap);
	assert_null(cfg.mntnsmap);
	/* a later --netns replaces an earlier one, number or path */
	assert_run(PARSE("--netns", "/run/netns/x", "--netns=4294967295"));
	assert_true(cfg.netns == 4294967295U);
	assert_null(cfg.netns_path);
	assert_run(PARSE("--netns", "5", "--netns", "net"));
	assert_true(cfg.netns == 0);
	assert_string_equal(cfg.netns_path, "net");
	assert_run(PARSE("--container=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"));
	assert_string_equal(cfg.container,
			    "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef");
	assert_usage(PARSE("--cgroup"), MSG("option '--cgroup' needs a value"));
}

static void test_place_filters_bad_values(void **state)
{
	static const char *const bad_inodes[] = { "0", "4294967296", "12ab", "1 " };
	/* upper case, empty, not hex, one digit too many */
	static const char *const bad_ids[] = { "3F2A", "", "3f2a-",
		"0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef0" };
	char want[256];

	(void)state;
	assert_usage(PARSE("--cgroup="), MSG("empty --cgroup: give a cgroup v2 directory"));
	for (size_t i = 0; i < sizeof(bad_ids) / sizeof(*bad_ids); i++) {
		snprintf(want, sizeof(want), MSG("invalid container id '%s': 1 to 64 of its "
						 "lowercase hex digits"), bad_ids[i]);
		assert_usage(PARSE("--container", bad_ids[i]), want);
	}
	/* starting with a digit, it is a number */
	for (size_t i = 0; i < sizeof(bad_inodes) / sizeof(*bad_inodes); i++) {
		snprintf(want, sizeof(want), MSG("invalid --netns inode '%s': a number from 1 "
						 "to 4294967295, or a path"), bad_inodes[i]);
		assert_usage(PARSE("--netns", bad_inodes[i]), want);
	}
	assert_usage(PARSE("--netns="),
		     MSG("empty --netns: give an inode number or a path such as /proc/PID/ns/net"));
	assert_usage(PARSE("--cgroupmap", ""),
		     MSG("empty --cgroupmap: give the path of a pinned BPF map"));
	assert_usage(PARSE("--mntnsmap="), MSG("empty --mntnsmap: give the path of a pinned BPF map"));
	assert_usage(PARSE("--cgroup", "/a", "--container", "3f"),
		     MSG("--cgroup and --container both choose the cgroup: give one of them"));
	assert_usage(PARSE("--container", "3f", "--cgroup", "a"),
		     MSG("--cgroup and --container both choose the cgroup: give one of them"));
	/* the exact name wins; a shorter prefix is ambiguous */
	assert_usage(PARSE("--cg", "x"), MSG("option '--cg' is ambiguous: --cgroup, --cgroupmap"));
}

static void test_immediate_excludes_failed_and_count(void **state)
{
	(void)state;
	assert_usage(PARSE("-i", "-x"),
		     MSG("-i prints attempts before their outcome is known, so it cannot be combined with -x"));
	assert_usage(PARSE("-x", "-i"),
		     MSG("-i prints attempts before their outcome is known, so it cannot be combined with -x"));
	assert_usage(PARSE("-ic"),
		     MSG("-c prints no per-attempt lines, so -i has nothing to change"));
	assert_usage(PARSE("--count", "--immediate"),
		     MSG("-c prints no per-attempt lines, so -i has nothing to change"));
	/* -x and -c go together */
	assert_run(PARSE("-x", "-c"));
}

/* ---- unknown options, missing values, stray words ---- */

static void test_unknown_options(void **state)
{
	(void)state;
	assert_usage(PARSE("--bogus"), MSG("unknown option '--bogus'"));
	assert_usage(PARSE("--bogus=1"), MSG("unknown option '--bogus=1'"));
	assert_usage(PARSE("-Z"), MSG("unknown option '-Z'"));
	assert_usage(PARSE("-tZ"), MSG("unknown option '-Z'"));
}

/* getopt_long reports a value given to a flag as the flag's short letter
 * and an ambiguous prefix as unknown: the messages name what was typed.
 */
static void test_long_option_errors_named_as_typed(void **state)
{
	(void)state;
	assert_usage(PARSE("--json=1"), MSG("option '--json' takes no value"));
	assert_usage(PARSE("--lifecycle=yes"), MSG("option '--lifecycle' takes no value"));
	assert_usage(PARSE("--check=1"), MSG("option '--check' takes no value"));
	assert_usage(PARSE("--json="), MSG("option '--json' takes no value"));
	assert_usage(PARSE("--js=1"), MSG("option '--js' (--json) takes no value"));
	assert_usage(PARSE("-t", "--no-summary=0"),
		     MSG("option '--no-summary' takes no value"));
	assert_usage(PARSE("--t"),
		     MSG("option '--t' is ambiguous: --timestamp, --time, --top"));
	assert_usage(PARSE("--ti=3"), MSG("option '--ti' is ambiguous: --timestamp, --time"));
	assert_usage(PARSE("--no"),
		     MSG("option '--no' is ambiguous: --no-summary, --no-drop-privileges"));
	/* a short option after a long one is named by itself */
	assert_usage(PARSE("--json", "-Zt"), MSG("unknown option '-Z'"));
	assert_usage(PARSE("--json", "-tZ"), MSG("unknown option '-Z'"));
	/* ':' only marks the letters that take a value (found by fuzzing) */
	assert_usage(PARSE("--json", "-v:"), MSG("unknown option '-:'"));
	assert_usage(PARSE("-:"), MSG("unknown option '-:'"));
}

/* exact names win over longer ones, unique prefixes still work */
static void test_long_option_prefixes(void **state)
{
	(void)state;
	assert_run(PARSE("--time"));
	assert_true(cfg.wallclock);
	assert_false(cfg.timestamp);
	assert_run(PARSE("--top"));
	assert_true(cfg.top_interval_s == 1);
	assert_run(PARSE("--lif", "--js"));
	assert_true(cfg.lifecycle);
	assert_true(cfg.json);
	assert_run(PARSE("--times"));
	assert_true(cfg.timestamp);
}

static void test_missing_values(void **state)
{
	(void)state;
	assert_usage(PARSE("-p"), MSG("option '-p' needs a value"));
	assert_usage(PARSE("-j", "-D"), MSG("option '-D' needs a value"));
	assert_usage(PARSE("--max-events"), MSG("option '--max-events' needs a value"));
	assert_usage(PARSE("--ringbuf-size"), MSG("option '--ringbuf-size' needs a value"));
	/* named as typed, long or short, even when grouped */
	assert_usage(PARSE("--pid"), MSG("option '--pid' needs a value"));
	assert_usage(PARSE("--backend"), MSG("option '--backend' needs a value"));
	assert_usage(PARSE("-jp"), MSG("option '-p' needs a value"));
}

static void test_extra_arguments(void **state)
{
	(void)state;
	assert_usage(PARSE("foo"), MSG("unexpected argument 'foo'"));
	/* GNU getopt moves words after the options: still refused */
	assert_usage(PARSE("-j", "foo", "-t"), MSG("unexpected argument 'foo'"));
	assert_usage(PARSE("--", "-j"), MSG("unexpected argument '-j'"));
	assert_usage(PARSE("-p", "1", "2"),
		     MSG("unexpected argument '2': options only (to stop after 2 seconds: "
			 "--duration 2)"));
}

static void test_first_error_wins(void **state)
{
	(void)state;
	assert_usage(PARSE("-p", "0", "--bogus", "extra"),
		     MSG("invalid PID '0': a process ID from 1 to 4194304"));
}

/* ---- help and version ---- */

static void test_help(void **state)
{
	static const char *const longs[] = {
		"--backend", "--check", "--pid", "--uid", "--port", "--comm", "--ipv4",
		"--ipv6", "--failed", "--json", "--timestamp", "--time", "--print-uid",
		"--lport", "--immediate", "--count", "--no-summary", "--duration",
		"--max-events", "--ringbuf-size", "--verbose", "--version", "--help",
		"--btf",
	};

	(void)state;
	assert_int_equal(PARSE("-h"), CLI_DONE);
	assert_string_equal(err_text, "");
	assert_memory_equal(out_text, "Usage: tcpconnlog [OPTION...]\n", 30);
	assert_int_equal(out_text[strlen(out_text) - 1], '\n');
	for (size_t i = 0; i < sizeof(longs) / sizeof(*longs); i++)
		if (!strstr(out_text, longs[i]))
			fail_msg("--help does not mention %s", longs[i]);
	{
		char first[sizeof(out_text)];

		strcpy(first, out_text);
		assert_int_equal(PARSE("--help"), CLI_DONE);
		assert_string_equal(out_text, first);
		/* libbpf-tools' tools take -? for help */
		assert_int_equal(PARSE("-?"), CLI_DONE);
		assert_string_equal(out_text, first);
		/* help comes as soon as it is seen: what follows is not looked at */
		assert_int_equal(PARSE("-t", "-h", "--bogus", "extra"), CLI_DONE);
		assert_string_equal(out_text, first);
		assert_string_equal(err_text, "");
	}
}

static void test_version(void **state)
{
	const char *line;
	size_t n;

	(void)state;
	assert_int_equal(PARSE("-V"), CLI_DONE);
	assert_string_equal(err_text, "");
	/* "tcpconnlog X.Y.Z[+git.N.HASH][-dirty]\n": a release of digits
	 * and dots, how far from it in git (scripts/version)
	 */
	assert_memory_equal(out_text, "tcpconnlog ", 11);
	n = strspn(out_text + 11, "0123456789.");
	assert_true(n >= 1);
	assert_true(out_text[11] >= '0' && out_text[11] <= '9');
	line = out_text + 11 + n;
	if (strncmp(line, "+git.", 5) == 0) {
		line += 5;
		n = strspn(line, "0123456789");
		assert_true(n >= 1 && line[n] == '.');
		line += n + 1;
		n = strspn(line, "0123456789abcdef");
		assert_int_equal(n, 12);
		line += n;
	}
	if (strncmp(line, "-dirty", 6) == 0)
		line += 6;
	assert_int_equal(*line, '\n');
	/* then the libbpf built with and running; the backends are not
	 * linked here (version_backends.c needs the BPF object)
	 */
	line++;
	assert_memory_equal(line, "libbpf ", 7);
	assert_non_null(strstr(line, " (built with), "));
	assert_int_equal(strchr(line, '\n')[1], '\0');
	assert_non_null(strstr(line, " (running)\n"));
	{
		char first[sizeof(out_text)];

		strcpy(first, out_text);
		assert_int_equal(PARSE("--version"), CLI_DONE);
		assert_string_equal(out_text, first);
	}
}

/* cli_parse may be called more than once (these tests do): an earlier call
 * that stopped inside a cluster of short options must not leak into the
 * next. Here without resetting getopt from outside.
 */
static enum cli_status parse_no_reset(const char *first, ...)
{
	va_list ap;
	enum cli_status st;

	va_start(ap, first);
	(void)first;
	st = parse_v(false, ap);
	va_end(ap);
	return st;
}

static void test_reparse_after_early_return_starts_clean(void **state)
{
	(void)state;
	reset_getopt();		/* as in a fresh process */
	/* stops after -V, with "t" of the same word not yet read */
	assert_int_equal(parse_no_reset("", "-Vt", NULL), CLI_DONE);
	assert_run(parse_no_reset("", "-j", NULL));
	assert_true(cfg.json);
	assert_false(cfg.timestamp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_no_arguments_defaults),
		cmocka_unit_test(test_dns),
		cmocka_unit_test(test_config_cleared_between_calls),
		cmocka_unit_test(test_backend_names),
		cmocka_unit_test(test_backend_bogus),
		cmocka_unit_test(test_resolve),
		cmocka_unit_test(test_pid),
		cmocka_unit_test(test_pid_bad_values),
		cmocka_unit_test(test_uid_number_and_name),
		cmocka_unit_test(test_uid_bad_values),
		cmocka_unit_test(test_user_to_run_as),
		cmocka_unit_test(test_user_bad_values),
		cmocka_unit_test(test_ports),
		cmocka_unit_test(test_ports_repeated_add_up),
		cmocka_unit_test(test_ports_bad_values),
		cmocka_unit_test(test_comm),
		cmocka_unit_test(test_comm_bad_values),
		cmocka_unit_test(test_address_family),
		cmocka_unit_test(test_ipv4_and_ipv6_exclusive),
		cmocka_unit_test(test_boolean_flags_short),
		cmocka_unit_test(test_boolean_flags_clustered),
		cmocka_unit_test(test_boolean_flags_long),
		cmocka_unit_test(test_duration),
		cmocka_unit_test(test_max_events),
		cmocka_unit_test(test_ringbuf_size),
		cmocka_unit_test(test_ringbuf_size_bad_values),
		cmocka_unit_test(test_btf),
		cmocka_unit_test(test_place_filters),
		cmocka_unit_test(test_place_filters_bad_values),
		cmocka_unit_test(test_immediate_excludes_failed_and_count),
		cmocka_unit_test(test_unknown_options),
		cmocka_unit_test(test_long_option_errors_named_as_typed),
		cmocka_unit_test(test_long_option_prefixes),
		cmocka_unit_test(test_missing_values),
		cmocka_unit_test(test_bcc_flags),
		cmocka_unit_test(test_extra_arguments),
		cmocka_unit_test(test_first_error_wins),
		cmocka_unit_test(test_metrics_options),
		cmocka_unit_test(test_help),
		cmocka_unit_test(test_version),
		cmocka_unit_test(test_reparse_after_early_return_starts_clean),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
