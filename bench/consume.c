// SPDX-License-Identifier: GPL-2.0-only
/*
 * The user-space half of tcpconnlog without the kernel: records like the
 * ring buffer hands over go through the tool's own consumer (records.c:
 * tally, filter what is due, format, write to stdout), as fast as it
 * takes them. Also a printf-per-field JSON writer of the same lines, the
 * way a straightforward tool would do it, as the yardstick.
 *
 *   consume [--text | --json | --printf] [-n EVENTS]
 *
 * Prints one JSON line on stderr: {"mode":..,"events":N,"seconds":S,
 * "per_second":R}. Send stdout to /dev/null.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "records.h"

#define DISTINCT 1024	/* records cycled through: varied, and cache-resident */

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* Established outbound attempts, a quarter of them IPv6, a few commands. */
static void make_records(struct tcl_event *evs, size_t n)
{
	static const char *comms[] = { "curl", "nginx", "python3", "postgres" };

	for (size_t i = 0; i < n; i++) {
		struct tcl_event *ev = &evs[i];

		memset(ev, 0, sizeof(*ev));
		ev->ts_ns = 1000000000ULL + i * 1000;
		ev->latency_ns = 40000 + i * 37;
		ev->conn_id = (i + 1) << 12;
		ev->pid = ev->tid = 1000 + i % 50;
		ev->uid = 1000;
		ev->sport = 32768 + i;
		ev->dport = i % 3 ? 443 : 5432;
		ev->result = TCL_ESTABLISHED;
		ev->stage = TCL_STAGE_OUTCOME;
		strcpy(ev->comm, comms[i % 4]);
		if (i % 4 == 3) {
			ev->ip = 6;
			inet_pton(AF_INET6, "2001:db8::10", ev->saddr.v6);
			inet_pton(AF_INET6, "2001:db8:1:2::443", ev->daddr.v6);
		} else {
			ev->ip = 4;
			ev->saddr.v4 = htonl(0x0a000001 + i % 200);
			ev->daddr.v4 = htonl(0xc0a80101 + i % 17);
		}
	}
}

/* The yardstick: the same JSON line, one printf call per field. */
static void printf_record(const struct tcl_event *ev)
{
	char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
	int af = ev->ip == 6 ? AF_INET6 : AF_INET;

	inet_ntop(af, &ev->saddr, s, sizeof(s));
	inet_ntop(af, &ev->daddr, d, sizeof(d));
	printf("{\"event\":\"connect\"");
	printf(",\"time\":\"%s\"", "2026-11-23T09:08:40.343084Z");
	printf(",\"id\":%llu", (unsigned long long)ev->conn_id);
	printf(",\"pid\":%u", ev->pid);
	printf(",\"tid\":%u", ev->tid);
	printf(",\"uid\":%u", ev->uid);
	printf(",\"comm\":\"%s\"", ev->comm);
	printf(",\"ip\":%u", ev->ip);
	printf(",\"saddr\":\"%s\"", s);
	printf(",\"sport\":%u", ev->sport);
	printf(",\"daddr\":\"%s\"", d);
	printf(",\"dport\":%u", ev->dport);
	printf(",\"result\":\"%s\"", "established");
	printf(",\"errno\":null");
	printf(",\"latency_us\":%.3f", ev->latency_ns / 1e3);
	printf(",\"call_us\":null}\n");
}

static int usage(const char *why)
{
	fprintf(stderr, "consume: %s\nusage: consume [--text | --json | --printf] [-n EVENTS]\n",
		why);
	return 2;
}

int main(int argc, char **argv)
{
	static struct tcl_event evs[DISTINCT];
	struct tcl_config cfg = { .json = true };
	const char *mode = "json";
	unsigned long long n = 1000000;
	struct records r;
	double t0, t1;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--text") || !strcmp(argv[i], "--json") ||
		    !strcmp(argv[i], "--printf")) {
			mode = argv[i] + 2;
		} else if (!strcmp(argv[i], "-n") && i + 1 < argc) {
			char *end;

			errno = 0;
			n = strtoull(argv[++i], &end, 10);
			if (errno || *end || end == argv[i])
				return usage("-n needs a count");
		} else {
			return usage("unknown argument");
		}
	}
	cfg.json = strcmp(mode, "text") != 0;
	make_records(evs, DISTINCT);
	if (records_init(&r, &cfg))
		return usage("out of memory");
	r.fmt = (struct format_opts){ .addr_width = 39, .start_ns = 1000000000ULL,
				      .mono_to_real_ns = 1763888920000000000LL };

	t0 = now_s();
	for (unsigned long long i = 0; i < n; i++) {
		if (!strcmp(mode, "printf"))
			printf_record(&evs[i % DISTINCT]);
		else
			records_take(&r, &evs[i % DISTINCT]);
	}
	output_flush(&r.out);
	t1 = now_s();
	records_free(&r);
	fprintf(stderr, "{\"mode\":\"%s\",\"events\":%llu,\"seconds\":%.6f,\"per_second\":%.1f}\n",
		mode, n, t1 - t0, n / (t1 - t0));
	return 0;
}
