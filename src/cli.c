// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <getopt.h>
#include <pwd.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include "cli.h"
#include "cli_traps.h"
#include "metrics.h"
#include "outfile.h"
#include "strbuf.h"
#include "version.h"

enum {
	OPT_MAX_EVENTS = 256,
	OPT_NO_SUMMARY,
	OPT_RINGBUF_SIZE,
	OPT_CHECK,
	OPT_TOP,
	OPT_USER,
	OPT_NO_DROP_PRIVILEGES,
	OPT_BTF,
	OPT_CGROUP,
	OPT_CONTAINER,
	OPT_NETNS,
	OPT_CGROUPMAP,
	OPT_MNTNSMAP,
	OPT_DNS_TABLE,
	OPT_BY,
	OPT_RESOLVE_TIMEOUT,
	OPT_DURATION,
	OPT_ROTATE,
	OPT_STATS_INTERVAL,
	OPT_METRICS,
	OPT_METRICS_LABELS,
	OPT_METRICS_MAX_SERIES,
};

static const char usage_text[] =
"Usage: tcpconnlog [OPTION...]\n"
"Log every outbound TCP connect attempt: who made it, where it went,\n"
"whether it worked and how long it took.\n"
"\n"
"Probes:\n"
"  -b, --backend=NAME     auto (default), fentry, kprobe or tracepoint\n"
"      --check            start the backend (load and attach its BPF programs;\n"
"                         all three with auto), stop it, say whether it works,\n"
"                         and exit (status 0 if the backend, or for auto any,\n"
"                         works)\n"
"      --btf=FILE         the kernel's types from FILE (raw BTF or an ELF file with\n"
"                         .BTF) instead of /sys/kernel/btf/vmlinux\n"
"Filters (combined with AND, applied in the kernel):\n"
"  -p, --pid=PID          only this process (all its threads)\n"
"  -u, --uid=UID          only this user (number or name)\n"
"  -P, --port=PORTS       only these destination ports: 80,443,8000-8100\n"
"                         (repeat to add: -P 80 -P 443)\n"
"  -D PORTS               the same as -P (tcplife's remote ports); the run\n"
"                         time is --duration\n"
"  -n, --comm=NAME        only this command name (exact, as in ps -o comm)\n"
"  -4, --ipv4             only IPv4\n"
"  -6, --ipv6             only IPv6 (including IPv4-mapped ::ffff:a.b.c.d)\n"
"  -x, --failed           only attempts that did not establish\n"
"      --cgroup=PATH      only processes in this cgroup v2 directory or below it\n"
"                         (a path under the cgroup2 mount, or relative to it)\n"
"      --container=ID     only processes of the running container whose id\n"
"                         starts with ID (Docker, containerd, CRI-O, Podman)\n"
"  -N, --netns=NS         only processes in this network namespace: an inode\n"
"                         number or a path (/proc/PID/ns/net, /run/netns/NAME)\n"
"      --cgroupmap=MAP    only processes whose cgroup id is a key of this pinned\n"
"                         BPF hash map (as bcc's tools take it)\n"
"  -M, --mntnsmap=MAP     only processes whose mount namespace inode is a key\n"
"                         of this pinned BPF hash map (as bcc's tools take it)\n"
"Output:\n"
"  -j, --json             one JSON object per line, no header\n"
"  -t, --timestamp        TIME(s) column: seconds since start\n"
"  -T, --time             TIME column: wall clock HH:MM:SS\n"
"  -U, --print-uid        UID column\n"
"  -L, --lport            LPORT column: source port\n"
"  -w, --wide             accepted for tcplife's users: the columns always fit\n"
"                         IPv6 addresses\n"
"  -C, --show-container   CONTAINER column: the container's id (12 characters),\n"
"                         - when none (JSON has \"container\" always)\n"
"  -i, --immediate        print each attempt when its connect call returns\n"
"                         (result pending or error), not at its outcome\n"
"  -c, --count            no per-attempt lines: at exit, connects per source,\n"
"                         destination and port\n"
"      --no-summary       no per-command summary and histogram at exit\n"
"      --by=WHAT          group the summary by command (default) or container;\n"
"                         with container, -c counts per container too\n"
"  -o, --output=FILE      append the records to FILE (created mode 0640) instead\n"
"                         of stdout; SIGHUP then reopens FILE (after logrotate\n"
"                         renamed it) instead of stopping\n"
"      --rotate=SIZE[:KEEP]  with -o: before FILE would grow past SIZE bytes\n"
"                         (k, M, G), rename it FILE.1 (FILE.1 to FILE.2 ... up\n"
"                         to FILE.KEEP, default 5) and start a new FILE\n"
"Names:\n"
"  -d, --dns              QUERY column: the name each destination was looked up\n"
"                         as, from the DNS answers (UDP and TCP port 53) this\n"
"                         host's sockets receive while tracing\n"
"      --dns-table=N      DNS answer addresses kept for -d (least recently used\n"
"                         go first; default 8192)\n"
"  -r, --resolve          RDNS column (JSON \"rdns\"): the remote address's name by\n"
"                         reverse DNS, looked up aside; a record waits for it at\n"
"                         most --resolve-timeout, then goes out without it (counted)\n"
"      --resolve-timeout=MS  that wait, 1 to 60000 ms (default 200)\n"
"Connections:\n"
"  -l, --lifecycle        also a close record when a traced connection ends:\n"
"                         duration, bytes each way, segments, RTT, retransmits\n"
"                         and who closed first\n"
"  -A, --accept           also inbound connections (accept records; with -l\n"
"                         their closes too); -P and -4/-6 match their local end\n"
"      --top[=SECS]       a live table of the open traced connections, by bytes,\n"
"                         refreshed every SECS (default 1); keys as in top: h\n"
"                         help, q quit, p pause, d delay, s < > r sort. Snapshots\n"
"                         (JSON with -j) when stdout is not a terminal or TERM\n"
"                         is dumb or unset\n"
"Stopping:\n"
"      --duration=SECS    stop after SECS seconds\n"
"      --max-events=N     stop after printing N records\n"
"Tuning:\n"
"      --ringbuf-size=BYTES  kernel-to-user buffer (power of two, default 4194304)\n"
"      --stats-interval=SECS  every SECS, the counters since the start: a stats\n"
"                         record (-j) or a line on stderr\n"
"Prometheus:\n"
"      --metrics=ADDR:PORT  serve GET /metrics (Prometheus text format) and\n"
"                         GET /ready (200 once tracing) over HTTP on ADDR:PORT;\n"
"                         PORT alone is 127.0.0.1:PORT, [::1]:PORT is IPv6,\n"
"                         0.0.0.0:PORT every interface; it counts what the\n"
"                         filters let through, as the records do\n"
"      --metrics-labels=LIST  label the counters with comm, dport and/or\n"
"                         container as well as result (comma-separated)\n"
"      --metrics-max-series=N  label sets kept for --metrics-labels (default\n"
"                         1000: each is up to 29 series in Prometheus, and a\n"
"                         busy host's commands and ports would not end); the\n"
"                         rest are counted under overflow=\"true\"\n"
"Other:\n"
"      --user=USER        once attached, run as USER (name or UID) with no\n"
"                         capabilities (default nobody)\n"
"      --no-drop-privileges  keep the privileges it started with\n"
"  -v, --verbose          say which backend was chosen; show libbpf messages\n"
"  -V, --version          print the version\n"
"  -h, --help             this help\n"
"\n"
"Flags of bcc's tools keep their meaning (-t -T -U -L -c -p -P -u -4 -6 -d);\n"
"-D, -M, -N and -w mean what they mean in tcplife, tcpconnect and tcptracer;\n"
"-L and -C take no value, and -s is refused with what to use instead.\n"
"\n"
"The summary (stderr) and lost-event warnings never mix with records (stdout).\n"
"\n"
"Examples:\n"
"  tcpconnlog                       # every attempt, with its outcome and latency\n"
"  tcpconnlog -tUL                  # with timestamps, UID and source port\n"
"  tcpconnlog -j | jq .             # JSON lines\n"
"  tcpconnlog -j -o /var/log/tcpconnlog/connects.json --rotate 100M:10\n"
"                                   # JSON lines to a file, 10 x 100 MiB kept\n"
"  tcpconnlog -x                    # only failures: refused, timeout, ...\n"
"  tcpconnlog -p 181 -P 80,443      # process 181, ports 80 and 443\n"
"  tcpconnlog -n curl -6            # IPv6 connects by commands named curl\n"
"  tcpconnlog --container 3f2a      # connects made in that container\n"
"  tcpconnlog -c --duration 10      # count destinations for 10 seconds\n"
"  tcpconnlog -lA -j                # connects, accepts and closes as JSON\n"
"  tcpconnlog -d                    # with the DNS name of each destination\n"
"  tcpconnlog --top                 # the open connections, live\n"
"  tcpconnlog -b kprobe -v          # force the kprobe backend\n";

static const struct option long_options[] = {
	{ "backend", required_argument, NULL, 'b' },
	{ "pid", required_argument, NULL, 'p' },
	{ "uid", required_argument, NULL, 'u' },
	{ "port", required_argument, NULL, 'P' },
	{ "comm", required_argument, NULL, 'n' },
	{ "ipv4", no_argument, NULL, '4' },
	{ "ipv6", no_argument, NULL, '6' },
	{ "failed", no_argument, NULL, 'x' },
	{ "json", no_argument, NULL, 'j' },
	{ "timestamp", no_argument, NULL, 't' },
	{ "time", no_argument, NULL, 'T' },
	{ "print-uid", no_argument, NULL, 'U' },
	{ "lport", no_argument, NULL, 'L' },
	{ "show-container", no_argument, NULL, 'C' },
	{ "by", required_argument, NULL, OPT_BY },
	{ "output", required_argument, NULL, 'o' },
	{ "rotate", required_argument, NULL, OPT_ROTATE },
	{ "immediate", no_argument, NULL, 'i' },
	{ "count", no_argument, NULL, 'c' },
	{ "resolve", no_argument, NULL, 'r' },
	{ "resolve-timeout", required_argument, NULL, OPT_RESOLVE_TIMEOUT },
	{ "duration", required_argument, NULL, OPT_DURATION },
	{ "stats-interval", required_argument, NULL, OPT_STATS_INTERVAL },
	{ "metrics", required_argument, NULL, OPT_METRICS },
	{ "metrics-labels", required_argument, NULL, OPT_METRICS_LABELS },
	{ "metrics-max-series", required_argument, NULL, OPT_METRICS_MAX_SERIES },
	{ "wide", no_argument, NULL, 'w' },
	{ "max-events", required_argument, NULL, OPT_MAX_EVENTS },
	{ "no-summary", no_argument, NULL, OPT_NO_SUMMARY },
	{ "ringbuf-size", required_argument, NULL, OPT_RINGBUF_SIZE },
	{ "check", no_argument, NULL, OPT_CHECK },
	{ "btf", required_argument, NULL, OPT_BTF },
	{ "cgroup", required_argument, NULL, OPT_CGROUP },
	{ "container", required_argument, NULL, OPT_CONTAINER },
	{ "netns", required_argument, NULL, OPT_NETNS },
	{ "cgroupmap", required_argument, NULL, OPT_CGROUPMAP },
	{ "mntnsmap", required_argument, NULL, OPT_MNTNSMAP },
	{ "dns", no_argument, NULL, 'd' },
	{ "dns-table", required_argument, NULL, OPT_DNS_TABLE },
	{ "lifecycle", no_argument, NULL, 'l' },
	{ "accept", no_argument, NULL, 'A' },
	{ "top", optional_argument, NULL, OPT_TOP },
	{ "user", required_argument, NULL, OPT_USER },
	{ "no-drop-privileges", no_argument, NULL, OPT_NO_DROP_PRIVILEGES },
	{ "verbose", no_argument, NULL, 'v' },
	{ "version", no_argument, NULL, 'V' },
	{ "help", no_argument, NULL, 'h' },
	{}
};

static const char short_options[] = ":b:p:u:P:D:n:46xjtTULwCicrdlAM:N:o:vVh";

static const char *const backend_names[] = {
	[BACKEND_AUTO] = "auto",
	[BACKEND_FENTRY] = "fentry",
	[BACKEND_KPROBE] = "kprobe",
	[BACKEND_TRACEPOINT] = "tracepoint",
};

const char *backend_name(enum tcl_backend b)
{
	return backend_names[b];
}

/* One line on stderr, pointing at --help. */
static enum cli_status usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("tcpconnlog: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see tcpconnlog --help)\n", stderr);
	return CLI_USAGE;
}

static int parse_backend(const char *s, enum tcl_backend *out)
{
	for (unsigned int i = 0; i < sizeof(backend_names) / sizeof(*backend_names); i++) {
		if (!strcmp(s, backend_names[i])) {
			*out = i;
			return 0;
		}
	}
	return -1;
}

/* A user by name or number, with its primary group (for a number without
 * an entry in the user database, the group of the same number).
 */
static int parse_user(const char *s, __u32 *uid, __u32 *gid)
{
	unsigned long long v;
	struct passwd *pw;

	if (!parse_u64(s, 0, 0xfffffffeULL, &v)) {
		pw = getpwuid(v);
		*uid = v;
		*gid = pw ? pw->pw_gid : v;
		return 0;
	}
	pw = getpwnam(s);
	if (!pw)
		return -1;
	*uid = pw->pw_uid;
	*gid = pw->pw_gid;
	return 0;
}

static int is_power_of_two(unsigned long long v)
{
	return v && !(v & (v - 1));
}

/* The option as the user wrote it, for messages. */
static const char *option_text(char **argv)
{
	return argv[optind - 1];
}

/* getopt_long's '?' came from a long option: optopt is 0 (unknown or
 * ambiguous) or a known option's value (a flag given "=VALUE"); an unknown
 * short option leaves its own character, which no option has (':' is
 * in short_options only as punctuation).
 */
static bool is_long_option_error(void)
{
	return optopt == 0 || optopt >= 0x100 ||
	       (optopt != ':' && strchr(short_options + 1, optopt));
}

/* What was wrong with a long option, named as typed ("--js=1"), since
 * getopt_long tells only its short letter or nothing.
 */
static enum cli_status long_option_error(const char *text)
{
	const char *name = text + 2;
	size_t len = strcspn(name, "=");
	const struct option *hit = NULL;
	char list[512];
	struct strbuf sb;
	int matches = 0;

	sb_init(&sb, list, sizeof(list));
	for (const struct option *o = long_options; o->name && len; o++) {
		if (strncmp(o->name, name, len) != 0)
			continue;
		if (!o->name[len]) {	/* an exact name is never ambiguous */
			hit = o;
			matches = 1;
			break;
		}
		hit = o;
		sb_str(&sb, matches++ ? ", --" : "--");
		sb_str(&sb, o->name);
	}
	if (matches > 1)
		return usage_error("option '--%.*s' is ambiguous: %.*s", (int)len, name,
				   (int)sb.len, list);
	if (matches && name[len] == '=' && hit->has_arg == no_argument) {
		if (hit->name[len])
			return usage_error("option '--%.*s' (--%s) takes no value", (int)len,
					   name, hit->name);
		return usage_error("option '--%s' takes no value", hit->name);
	}
	return usage_error("unknown option '%s'", text);
}

static bool is_id_prefix(const char *s)
{
	size_t n = strspn(s, "0123456789abcdef");

	return n && n <= 64 && !s[n];
}

/* The filters on where the process runs; what they name is opened by
 * cgfilter_open().
 */
static enum cli_status parse_place(int opt, struct tcl_config *cfg)
{
	unsigned long long v;

	switch (opt) {
	case OPT_CGROUP:
		if (!*optarg)
			return usage_error("empty --cgroup: give a cgroup v2 directory");
		cfg->cgroup = optarg;
		break;
	case OPT_CONTAINER:
		if (!is_id_prefix(optarg))
			return usage_error("invalid container id '%s': 1 to 64 of its lowercase hex digits", optarg);
		cfg->container = optarg;
		break;
	case OPT_NETNS:
		/* a number is an inode; anything else a path to one */
		cfg->netns = 0;
		cfg->netns_path = NULL;
		if (*optarg >= '0' && *optarg <= '9') {
			if (parse_u64(optarg, 1, 0xffffffffULL, &v))
				return usage_error("invalid --netns inode '%s': a number from 1 to 4294967295, or a path", optarg);
			cfg->netns = v;
		} else if (*optarg) {
			cfg->netns_path = optarg;
		} else {
			return usage_error("empty --netns: give an inode number or a path such as /proc/PID/ns/net");
		}
		break;
	case OPT_CGROUPMAP:
	case OPT_MNTNSMAP:
		if (!*optarg)
			return usage_error("empty --%s: give the path of a pinned BPF map",
					   opt == OPT_CGROUPMAP ? "cgroupmap" : "mntnsmap");
		*(opt == OPT_CGROUPMAP ? &cfg->cgroupmap : &cfg->mntnsmap) = optarg;
		break;
	}
	if (cfg->cgroup && cfg->container)
		return usage_error("--cgroup and --container both choose the cgroup: give one of them");
	return CLI_RUN;
}

static enum cli_status parse_metrics(int opt, struct tcl_config *cfg)
{
	char why[256];

	switch (opt) {
	case OPT_METRICS:
		if (metrics_parse_addr(optarg, &cfg->metrics_addr, why, sizeof(why)))
			return usage_error("invalid --metrics %s", why);
		cfg->metrics = true;
		break;
	case OPT_METRICS_LABELS:
		if (metrics_parse_labels(optarg, &cfg->metrics_labels, why, sizeof(why)))
			return usage_error("invalid --metrics-labels '%s': %s", optarg, why);
		break;
	case OPT_METRICS_MAX_SERIES:
		if (parse_u64(optarg, 1, METRICS_MAX_SERIES_LIMIT, &cfg->metrics_max_series))
			return usage_error("invalid --metrics-max-series '%s': a count from 1 to %d",
					   optarg, METRICS_MAX_SERIES_LIMIT);
		break;
	}
	return CLI_RUN;
}

static enum cli_status parse_one(int opt, char **argv, struct tcl_config *cfg)
{
	unsigned long long v;
	__u32 v32;

	switch (opt) {
	case 'b':
		if (parse_backend(optarg, &cfg->backend))
			return usage_error("unknown backend '%s': use auto, fentry, kprobe or tracepoint", optarg);
		break;
	case 'p':
		if (parse_u64(optarg, 1, 4194304, &v))
			return usage_error("invalid PID '%s': a process ID from 1 to 4194304", optarg);
		cfg->pid = v;
		cfg->pid_set = true;
		break;
	case 'u':
		if (parse_user(optarg, &cfg->uid, &v32))
			return usage_error("invalid UID '%s': a number or an existing user name", optarg);
		cfg->uid_set = true;
		break;
	case 'P':
	case 'D': {	/* tcplife's -D: remote ports */
		__u64 more[TCL_PORT_WORDS];
		char why[128];

		if (parse_ports(optarg, more, why, sizeof(why)))
			return usage_error("invalid %s: %s", opt == 'D' ? "-D ports" : "--port", why);
		/* repeated -P adds ports, as "-P 80,443" would */
		for (unsigned int i = 0; i < TCL_PORT_WORDS; i++)
			cfg->ports[i] |= more[i];
		cfg->ports_set = true;
		break;
	}
	case 'n':
		if (!*optarg || strlen(optarg) >= TCL_COMM_LEN)
			return usage_error("invalid command name '%s': 1 to 15 characters, as the kernel keeps them", optarg);
		memcpy(cfg->comm, optarg, strlen(optarg) + 1);
		cfg->comm_set = true;
		break;
	case '4':
	case '6':
		if (cfg->ip && cfg->ip != opt - '0')
			return usage_error("-4 and -6 exclude each other: give neither to see both");
		cfg->ip = opt - '0';
		break;
	case 'M':	/* libbpf-tools' tcpconnect -M */
		return parse_place(OPT_MNTNSMAP, cfg);
	case 'N':	/* bcc's tcptracer -N */
		return parse_place(OPT_NETNS, cfg);
	case OPT_CGROUP:
	case OPT_CONTAINER:
	case OPT_NETNS:
	case OPT_CGROUPMAP:
	case OPT_MNTNSMAP:
		return parse_place(opt, cfg);
	case 'x': cfg->failed_only = true; break;
	case 'j': cfg->json = true; break;
	case 't': cfg->timestamp = true; break;
	case 'T': cfg->wallclock = true; break;
	case 'U': cfg->print_uid = true; break;
	case 'L': cfg->print_lport = true; break;
	case 'w': break;	/* our columns are always wide */
	case 'C': cfg->show_container = true; break;
	case OPT_BY:
		if (strcmp(optarg, "command") != 0 && strcmp(optarg, "container") != 0)
			return usage_error("invalid --by '%s': command or container", optarg);
		cfg->by_container = strcmp(optarg, "container") == 0;
		break;
	case 'o':
		if (!*optarg)
			return usage_error("empty --output: give a file name");
		cfg->output_path = optarg;
		break;
	case OPT_ROTATE: {
		char why[128];

		if (outfile_parse_rotate(optarg, &cfg->rotate_size, &cfg->rotate_keep, why,
					 sizeof(why)))
			return usage_error("invalid --rotate '%s': %s", optarg, why);
		break;
	}
	case 'i': cfg->immediate = true; break;
	case 'c': cfg->count = true; break;
	case 'r': cfg->resolve = true; break;
	case OPT_RESOLVE_TIMEOUT:
		if (parse_u64(optarg, 1, 60000, &cfg->resolve_timeout_ms))
			return usage_error("invalid --resolve-timeout '%s': milliseconds from 1 to 60000", optarg);
		cfg->resolve_timeout_set = true;
		break;
	case 'l': cfg->lifecycle = true; break;
	case 'A': cfg->accepts = true; break;
	case 'd': cfg->dns = true; break;
	case OPT_DNS_TABLE:
		if (parse_u64(optarg, 1, 1ULL << 24, &cfg->dns_table_size))
			return usage_error("invalid --dns-table '%s': a count of addresses from 1 to 16777216", optarg);
		break;
	case OPT_TOP:
		/* also "--top 5", as a user would write it */
		if (!optarg && argv[optind] && argv[optind][0] >= '0' && argv[optind][0] <= '9')
			optarg = argv[optind++];
		cfg->top_interval_s = 1;
		if (optarg && parse_u64(optarg, 1, 3600, &cfg->top_interval_s))
			return usage_error("invalid --top interval '%s': whole seconds from 1 to 3600", optarg);
		break;
	case OPT_USER:
		if (strlen(optarg) >= sizeof(cfg->run_as) ||
		    parse_user(optarg, &cfg->run_uid, &cfg->run_gid))
			return usage_error("unknown user '%s' for --user: a user name or UID", optarg);
		memcpy(cfg->run_as, optarg, strlen(optarg) + 1);
		break;
	case OPT_NO_DROP_PRIVILEGES: cfg->keep_privileges = true; break;
	case 'v': cfg->verbose = true; break;
	case OPT_NO_SUMMARY: cfg->no_summary = true; break;
	case OPT_CHECK: cfg->check_only = true; break;
	case OPT_BTF:
		/* whether it is BTF is known once libbpf reads it (exit 1) */
		if (access(optarg, R_OK))
			return usage_error("cannot read --btf file '%s': %s", optarg, strerror(errno));
		cfg->btf_path = optarg;
		break;
	case OPT_DURATION:
		if (parse_u64(optarg, 1, 315360000, &cfg->duration_s))
			return usage_error("invalid duration '%s': whole seconds, at least 1", optarg);
		break;
	case OPT_STATS_INTERVAL:
		if (parse_u64(optarg, 1, 86400, &cfg->stats_interval_s))
			return usage_error("invalid --stats-interval '%s': whole seconds from 1 to 86400", optarg);
		break;
	case OPT_METRICS:
	case OPT_METRICS_LABELS:
	case OPT_METRICS_MAX_SERIES:
		return parse_metrics(opt, cfg);
	case OPT_MAX_EVENTS:
		if (parse_u64(optarg, 1, ~0ULL >> 1, &cfg->max_events))
			return usage_error("invalid --max-events '%s': a count of at least 1", optarg);
		break;
	case OPT_RINGBUF_SIZE:
		if (parse_u64(optarg, 4096, 1ULL << 30, &v) || !is_power_of_two(v))
			return usage_error("invalid --ringbuf-size '%s': a power of two from 4096 to 1073741824", optarg);
		cfg->ringbuf_bytes = v;
		break;
	case 'V':
		version_print();
		return CLI_DONE;
	case 'h':
		fputs(usage_text, stdout);
		return CLI_DONE;
	case ':':
		/* named as typed: --pid, not the -p that getopt reports */
		if (strncmp(option_text(argv), "--", 2) != 0 && optopt >= 0x20 && optopt < 0x7f)
			return usage_error("option '-%c' needs a value", optopt);
		return usage_error("option '%s' needs a value", option_text(argv));
	default:
		if (is_long_option_error())
			return long_option_error(option_text(argv));
		if (optopt == '?') {	/* -?, as libbpf-tools' tools take it */
			fputs(usage_text, stdout);
			return CLI_DONE;
		}
		if (cli_trap_unknown(optopt))
			return usage_error("%s", cli_trap_unknown(optopt));
		if (optopt >= 0x20 && optopt < 0x7f)
			return usage_error("unknown option '-%c'", optopt);
		return usage_error("unknown option '%s'", option_text(argv));
	}
	return CLI_RUN;
}

/* -l, -A and --top against the options that cannot go with them. */
static enum cli_status check_connection_options(struct tcl_config *cfg)
{
	bool following = cfg->lifecycle || cfg->accepts;

	if (following && cfg->failed_only)
		return usage_error("-x shows only attempts that failed, so -l and -A have nothing to follow");
	if (following && cfg->count)
		return usage_error("-c prints only a table of connects, so it cannot be combined with -l or -A");
	if (cfg->resolve && (cfg->count || cfg->top_interval_s))
		return usage_error("-r names the addresses of records, and -c and --top print none");
	if (!cfg->top_interval_s)
		return CLI_RUN;
	if (cfg->stats_interval_s)
		return usage_error("--top shows its own table: it cannot be combined with --stats-interval");
	if (cfg->count || cfg->immediate || cfg->failed_only || cfg->max_events)
		return usage_error("--top shows a table, not records: it cannot be combined with -c, -i, -x or --max-events");
	/* the table needs the closes */
	cfg->lifecycle = true;
	return CLI_RUN;
}

enum cli_status cli_parse(int argc, char **argv, struct tcl_config *cfg)
{
	int opt;

	memset(cfg, 0, sizeof(*cfg));
	cfg->ringbuf_bytes = TCL_RINGBUF_DEFAULT;
	cfg->resolve_timeout_ms = TCL_RESOLVE_TIMEOUT_DEFAULT_MS;
	cfg->dns_table_size = TCL_DNS_TABLE_DEFAULT;
	optind = 0;	/* 0: glibc resets its scanning state too */
	opterr = 0;	/* our own one-line messages */
	if (cli_trap_in_args(argc, argv, short_options, long_options))
		return usage_error("%s", cli_trap_in_args(argc, argv, short_options,
							 long_options));
	while ((opt = getopt_long(argc, argv, short_options, long_options, NULL)) != -1) {
		enum cli_status st = parse_one(opt, argv, cfg);

		if (st != CLI_RUN)
			return st;
	}
	if (optind < argc && argv[optind][0] &&
	    argv[optind][strspn(argv[optind], "0123456789")] == '\0')
		return usage_error("unexpected argument '%s': options only (to stop after "
				   "%s seconds: --duration %s)", argv[optind], argv[optind],
				   argv[optind]);
	if (optind < argc)
		return usage_error("unexpected argument '%s'", argv[optind]);
	if (cfg->keep_privileges && cfg->run_as[0])
		return usage_error("--user and --no-drop-privileges exclude each other");
	if (!cfg->keep_privileges && !cfg->run_as[0]) {
		if (parse_user(TCL_DEFAULT_USER, &cfg->run_uid, &cfg->run_gid))
			return usage_error("this system has no user '" TCL_DEFAULT_USER "' to run as "
					   "once attached: name one with --user, or give --no-drop-privileges");
		memcpy(cfg->run_as, TCL_DEFAULT_USER, sizeof(TCL_DEFAULT_USER));
	}
	if (!cfg->dns && cfg->dns_table_size != TCL_DNS_TABLE_DEFAULT)
		return usage_error("--dns-table sizes the table of -d: give -d too");
	if (cfg->immediate && cfg->failed_only)
		return usage_error("-i prints attempts before their outcome is known, so it cannot be combined with -x");
	if (cfg->resolve_timeout_set && !cfg->resolve)
		return usage_error("--resolve-timeout bounds the wait of -r: give -r too");
	if (cfg->immediate && cfg->count)
		return usage_error("-c prints no per-attempt lines, so -i has nothing to change");
	if (cfg->rotate_size && !cfg->output_path)
		return usage_error("--rotate rotates the file of -o: give -o too");
	if (!cfg->metrics && (cfg->metrics_labels || cfg->metrics_max_series))
		return usage_error("--metrics-labels and --metrics-max-series shape what --metrics serves: give --metrics too");
	if (cfg->metrics && !cfg->metrics_max_series)
		cfg->metrics_max_series = METRICS_MAX_SERIES_DEFAULT;
	if (cfg->output_path && (cfg->count || cfg->top_interval_s))
		return usage_error("-o writes records to a file, and -c and --top print none");
	return check_connection_options(cfg);
}
