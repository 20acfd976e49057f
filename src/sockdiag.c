// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <linux/inet_diag.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <linux/sock_diag.h>
#include <linux/tcp.h>
#include "addr.h"
#include "sockdiag.h"

/* TCP states as the kernel numbers them (include/net/tcp_states.h) */
enum {
	STATE_ESTABLISHED = 1,
	STATE_FIN_WAIT1 = 4,
	STATE_FIN_WAIT2 = 5,
	STATE_CLOSE_WAIT = 8,
	STATE_LAST_ACK = 9,
	STATE_CLOSING = 11,
};
/* Those of a connection that is open. Listeners, request and time-wait
 * sockets carry no tcp_info.
 */
#define OPEN_STATES	(1 << STATE_ESTABLISHED | 1 << STATE_FIN_WAIT1 | 1 << STATE_FIN_WAIT2 | \
			 1 << STATE_CLOSE_WAIT | 1 << STATE_LAST_ACK | 1 << STATE_CLOSING)
/* the kernel fills dump messages up to 32 KiB: room for any of them */
#define RECV_BUF	65536
/* tcpi_bytes_received came last of what we read (Linux 4.1) */
#define TCP_INFO_NEEDED	(offsetof(struct tcp_info, tcpi_bytes_received) + sizeof(__u64))

void diag_key_make(struct diag_key *k, __u8 ip, const union tcl_addr *saddr,
		   __u16 sport, const union tcl_addr *daddr, __u16 dport)
{
	memset(k, 0, sizeof(*k));
	k->sport = sport;
	k->dport = dport;
	if (ip == 6 && addr_v4_mapped(saddr) && addr_v4_mapped(daddr)) {
		k->ip = 4;
		memcpy(&k->saddr.v4, saddr->v6 + 12, 4);
		memcpy(&k->daddr.v4, daddr->v6 + 12, 4);
		return;
	}
	k->ip = ip;
	if (ip == 4) {
		k->saddr.v4 = saddr->v4;
		k->daddr.v4 = daddr->v4;
	} else {
		k->saddr = *saddr;
		k->daddr = *daddr;
	}
}

void sockdiag_init(struct sockdiag *d)
{
	memset(d, 0, sizeof(*d));
}

void sockdiag_free(struct sockdiag *d)
{
	free(d->v);
	sockdiag_init(d);
}

void sockdiag_clear(struct sockdiag *d)
{
	d->len = 0;
	d->sorted = false;
}

int sockdiag_add(struct sockdiag *d, const struct diag_key *k,
		 const struct diag_info *info)
{
	if (d->len == d->cap) {
		size_t cap = d->cap ? d->cap * 2 : 256;
		struct diag_entry *v = realloc(d->v, cap * sizeof(*v));

		if (!v)
			return -ENOMEM;
		d->v = v;
		d->cap = cap;
	}
	d->v[d->len++] = (struct diag_entry){ *k, *info };
	d->sorted = false;
	return 0;
}

static int by_key(const void *a, const void *b)
{
	return memcmp(a, b, sizeof(struct diag_key));
}

const struct diag_info *sockdiag_find(struct sockdiag *d, const struct diag_key *k)
{
	const struct diag_entry *e;

	if (!d->len)
		return NULL;
	if (!d->sorted) {
		qsort(d->v, d->len, sizeof(*d->v), by_key);
		d->sorted = true;
	}
	/* the key is the entry's first member */
	e = bsearch(k, d->v, d->len, sizeof(*d->v), by_key);
	return e ? &e->info : NULL;
}

static int send_request(int fd, __u8 family)
{
	struct {
		struct nlmsghdr nlh;
		struct inet_diag_req_v2 req;
	} msg = {
		.nlh = {
			.nlmsg_len = sizeof(msg),
			.nlmsg_type = SOCK_DIAG_BY_FAMILY,
			.nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
		},
		.req = {
			.sdiag_family = family,
			.sdiag_protocol = IPPROTO_TCP,
			.idiag_ext = 1 << (INET_DIAG_INFO - 1),
			.idiag_states = OPEN_STATES,
		},
	};
	struct sockaddr_nl kernel = { .nl_family = AF_NETLINK };

	if (sendto(fd, &msg, sizeof(msg), 0, (struct sockaddr *)&kernel,
		   sizeof(kernel)) < 0)
		return -errno;
	return 0;
}

/* The INET_DIAG_INFO attribute of a socket, if it has the fields we read. */
static bool info_of(struct inet_diag_msg *m, int len, struct diag_info *out)
{
	struct rtattr *a = (struct rtattr *)((char *)m + NLMSG_ALIGN(sizeof(*m)));

	for (; RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		struct tcp_info ti = {};
		size_t n = RTA_PAYLOAD(a);

		if (a->rta_type != INET_DIAG_INFO)
			continue;
		if (n < TCP_INFO_NEEDED)
			return false;
		/* newer kernels send a longer struct than this header knows */
		memcpy(&ti, RTA_DATA(a), n < sizeof(ti) ? n : sizeof(ti));
		*out = (struct diag_info){
			.bytes_acked = ti.tcpi_bytes_acked,
			.bytes_received = ti.tcpi_bytes_received,
			.rtt_us = ti.tcpi_rtt,
		};
		return true;
	}
	return false;
}

void diag_data_bytes(const struct diag_info *i, bool outbound, __u64 *sent,
		     __u64 *received)
{
	/* FIN_WAIT2: our FIN was acknowledged; CLOSE_WAIT, LAST_ACK and
	 * CLOSING: the peer's FIN was taken
	 */
	bool fin_acked = i->state == STATE_FIN_WAIT2;
	bool fin_taken = i->state == STATE_CLOSE_WAIT || i->state == STATE_LAST_ACK ||
			 i->state == STATE_CLOSING;
	__u64 control = (outbound ? 1 : 0) + fin_acked;

	*sent = i->bytes_acked > control ? i->bytes_acked - control : 0;
	*received = i->bytes_received > fin_taken ? i->bytes_received - fin_taken : 0;
}

static int take(struct sockdiag *d, struct nlmsghdr *nlh)
{
	struct inet_diag_msg *m = NLMSG_DATA(nlh);
	/* in int: a message shorter than its header comes out negative */
	int len = (int)nlh->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*m));
	union tcl_addr saddr = {}, daddr = {};
	struct diag_info info;
	struct diag_key k;
	__u8 ip;

	if (len < 0 || !info_of(m, len, &info))
		return 0;
	info.state = m->idiag_state;
	if (m->idiag_family == AF_INET) {
		ip = 4;
		memcpy(&saddr.v4, m->id.idiag_src, 4);
		memcpy(&daddr.v4, m->id.idiag_dst, 4);
	} else {
		ip = 6;
		memcpy(saddr.v6, m->id.idiag_src, 16);
		memcpy(daddr.v6, m->id.idiag_dst, 16);
	}
	diag_key_make(&k, ip, &saddr, ntohs(m->id.idiag_sport),
		      &daddr, ntohs(m->id.idiag_dport));
	return sockdiag_add(d, &k, &info);
}

static int error_of(struct nlmsghdr *nlh)
{
	struct nlmsgerr *e = NLMSG_DATA(nlh);

	if (nlh->nlmsg_len < NLMSG_LENGTH(sizeof(*e)))
		return -EIO;
	return e->error;
}

/* Read the answer to one dump request up to NLMSG_DONE. */
static int receive(int fd, struct sockdiag *d, void *buf)
{
	for (;;) {
		struct iovec iov = { buf, RECV_BUF };
		struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
		ssize_t n = recvmsg(fd, &mh, 0);
		struct nlmsghdr *nlh;
		int len, err;

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0)
			return -EIO;
		if (mh.msg_flags & MSG_TRUNC)
			return -EMSGSIZE;
		len = (int)n;
		for (nlh = buf; NLMSG_OK(nlh, len); nlh = NLMSG_NEXT(nlh, len)) {
			if (nlh->nlmsg_type == NLMSG_DONE)
				return 0;
			if (nlh->nlmsg_type == NLMSG_ERROR)
				return error_of(nlh);
			if (nlh->nlmsg_type != SOCK_DIAG_BY_FAMILY)
				continue;
			err = take(d, nlh);
			if (err)
				return err;
		}
	}
}

int sockdiag_dump(struct sockdiag *d)
{
	static const __u8 families[] = { AF_INET, AF_INET6 };
	void *buf = malloc(RECV_BUF);
	int fd, err = 0;

	sockdiag_clear(d);
	if (!buf)
		return -ENOMEM;
	fd = socket(AF_NETLINK, SOCK_DGRAM | SOCK_CLOEXEC, NETLINK_SOCK_DIAG);
	if (fd < 0) {
		err = -errno;
		goto out;
	}
	for (size_t i = 0; i < sizeof(families) && !err; i++) {
		err = send_request(fd, families[i]);
		if (!err)
			err = receive(fd, d, buf);
	}
	close(fd);
out:
	free(buf);
	return err;
}
