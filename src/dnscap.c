// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "dns_answer.h"
#include "dns_table.h"
#include "dns_tcp.h"
#include "dnscap.h"
#include "dnscap_event.h"
#include "dnscap.skel.h"

/* DNS-over-TCP connections followed at once */
#define TCP_STREAMS 256

struct dnscap {
	struct dnscap_bpf *skel;
	struct bpf_link *ingress, *egress;
	struct ring_buffer *rb;
	struct dns_table *table;
	struct dns_tcp *tcp;
	__u64 malformed;
	struct dns_match match;
	/* the record being read: who received it, and when */
	const struct dnscap_event *cur;
	struct dns_answer answer;	/* ~9 KiB: not on the stack */
};

/* Where cgroup v2 is mounted (/sys/fs/cgroup, or /sys/fs/cgroup/unified
 * on a hybrid layout), from the fields of /proc/self/mountinfo:
 * "ID PARENT MAJ:MIN ROOT MOUNTPOINT OPTIONS... - FSTYPE SOURCE ...".
 */
static int cgroup2_root(char *path, size_t size)
{
	FILE *f = fopen("/proc/self/mountinfo", "r");
	char line[4096], root[PATH_MAX], mnt[PATH_MAX];
	int found = -1;

	if (!f)
		return -1;
	while (found && fgets(line, sizeof(line), f)) {
		const char *sep = strstr(line, " - cgroup2 ");

		/* the root of the hierarchy, not a bind mount of a part */
		if (sep && sscanf(line, "%*s %*s %*s %4095s %4095s", root, mnt) == 2 &&
		    !strcmp(root, "/") && strlen(mnt) < size) {
			memcpy(path, mnt, strlen(mnt) + 1);
			found = 0;
		}
	}
	(void)fclose(f);	/* read only */
	return found;
}

static void on_message(void *ctx, const __u8 *msg, size_t len)
{
	struct dnscap *d = ctx;

	switch (dns_parse(msg, len, &d->answer)) {
	case DNS_OK:
		dns_table_add(d->table, &d->answer, d->cur->tgid, d->cur->netns,
			      d->cur->ts_ns);
		break;
	case DNS_MALFORMED:
		d->malformed++;
		break;
	case DNS_NOT_ANSWER:
		break;
	}
}

static int on_record(void *ctx, void *data, size_t size)
{
	const struct dnscap_event *ev = data;
	const __u8 *payload = (const __u8 *)(ev + 1);
	struct dnscap *d = ctx;

	if (size < sizeof(*ev) || size - sizeof(*ev) < ev->len)
		return 0;
	d->cur = ev;
	if (ev->proto == DNSCAP_PROTO_UDP) {
		on_message(d, payload, ev->len);
		return 0;
	}
	if (ev->len)
		dns_tcp_feed(d->tcp, ev->cookie, ev->seq, payload, ev->len, on_message, d);
	if (ev->flags & DNSCAP_F_TCP_END)
		dns_tcp_close(d->tcp, ev->cookie);
	return 0;
}

static int attach(struct dnscap *d, const char *cgroup)
{
	int fd = open(cgroup, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd < 0)
		return -errno;
	/* links: the kernel detaches them when the descriptors close, so
	 * even a killed tracer leaves nothing attached; they run alongside
	 * any other program on the root (as BPF_F_ALLOW_MULTI ones)
	 */
	d->ingress = bpf_program__attach_cgroup(d->skel->progs.dns_answer, fd);
	if (d->ingress)
		d->egress = bpf_program__attach_cgroup(d->skel->progs.dns_query, fd);
	close(fd);
	return d->ingress && d->egress ? 0 : -errno;
}

struct dnscap *dnscap_start(size_t table_size)
{
	struct dnscap *d = calloc(1, sizeof(*d));
	char cgroup[PATH_MAX];
	int err;

	if (!d) {
		fprintf(stderr, "tcpconnlog: -d: out of memory\n");
		return NULL;
	}
	d->table = dns_table_new(table_size);
	d->tcp = dns_tcp_new(TCP_STREAMS);
	if (!d->table || !d->tcp) {
		fprintf(stderr, "tcpconnlog: -d: out of memory for the DNS tables "
			"(a smaller --dns-table helps)\n");
		goto fail;
	}
	if (cgroup2_root(cgroup, sizeof(cgroup))) {
		fprintf(stderr, "tcpconnlog: -d needs cgroup v2, which is not mounted: "
			"mount -t cgroup2 none /sys/fs/cgroup\n");
		goto fail;
	}
	d->skel = dnscap_bpf__open_and_load();
	if (!d->skel) {
		fprintf(stderr, "tcpconnlog: -d: cannot load the DNS capture: %s "
			"(it needs CAP_BPF and CAP_PERFMON; -v shows why)\n", strerror(errno));
		goto fail;
	}
	err = attach(d, cgroup);
	if (err) {
		fprintf(stderr, "tcpconnlog: -d: cannot attach the DNS capture to %s: %s%s\n",
			cgroup, strerror(-err),
			err == -EPERM ? " (a cgroup hook needs CAP_NET_ADMIN)" : "");
		goto fail;
	}
	d->rb = ring_buffer__new(bpf_map__fd(d->skel->maps.dns_events), on_record, d, NULL);
	if (!d->rb) {
		fprintf(stderr, "tcpconnlog: -d: cannot set up the DNS ring buffer: %s\n",
			strerror(errno));
		goto fail;
	}
	return d;
fail:
	dnscap_free(d);
	return NULL;
}

int dnscap_drain(struct dnscap *d)
{
	int n = ring_buffer__consume(d->rb);

	return n < 0 ? n : 0;
}

const struct dns_match *dnscap_name(struct dnscap *d, const struct tcl_event *ev)
{
	/* the attempt began latency_ns before its record */
	__u64 start = ev->ts_ns - ev->latency_ns;

	dnscap_drain(d);
	if (!dns_table_match(d->table, ev->ip, &ev->daddr, ev->pid, ev->netns, start,
			     &d->match))
		return NULL;
	return &d->match;
}

void dnscap_detach(struct dnscap *d)
{
	bpf_link__destroy(d->ingress);
	bpf_link__destroy(d->egress);
	d->ingress = d->egress = NULL;
}

void dnscap_losses(const struct dnscap *d, struct dnscap_losses *l)
{
	int ncpus = libbpf_num_possible_cpus();
	struct dnscap_counters *c = ncpus > 0 ? calloc(ncpus, sizeof(*c)) : NULL;
	struct dns_table_stats ts;
	struct dns_tcp_stats tcp;
	__u32 zero = 0;

	memset(l, 0, sizeof(*l));
	if (c && !bpf_map_lookup_elem(bpf_map__fd(d->skel->maps.dns_counters), &zero, c))
		for (int i = 0; i < ncpus; i++)
			l->dropped += c[i].ring_full + c[i].too_big + c[i].map_full;
	free(c);
	dns_tcp_stats(d->tcp, &tcp);
	l->dropped += tcp.resets + tcp.evicted;
	dns_table_stats(d->table, &ts);
	l->evicted = ts.evicted;
	l->malformed = d->malformed;
}

void dnscap_free(struct dnscap *d)
{
	if (!d)
		return;
	dnscap_detach(d);
	ring_buffer__free(d->rb);
	dnscap_bpf__destroy(d->skel);
	dns_table_free(d->table);
	dns_tcp_free(d->tcp);
	free(d);
}
