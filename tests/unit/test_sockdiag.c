// SPDX-License-Identifier: GPL-2.0-only
// Unit tests for sockdiag.c: the lookup table, and a real sock_diag dump
// of loopback connections this test makes, with known bytes each way.
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>
#include <cmocka.h>

#include <linux/tcp.h>
#include <linux/types.h>
#include "sockdiag.h"
#include "tcpconnlog.h"

/* bytes each way: more than one segment, not a multiple of anything */
#define TO_SERVER	70001
#define TO_CLIENT	123457

static void key_of(struct diag_key *k, const char *saddr, __u16 sport,
		   const char *daddr, __u16 dport)
{
	union tcl_addr s = {}, d = {};
	__u8 ip = strchr(saddr, ':') ? 6 : 4;
	int af = ip == 4 ? AF_INET : AF_INET6;

	assert_int_equal(inet_pton(af, saddr, &s), 1);
	assert_int_equal(inet_pton(af, daddr, &d), 1);
	diag_key_make(k, ip, &s, sport, &d, dport);
}

/* ---- the table ---- */

static void test_find_in_empty(void **state)
{
	struct sockdiag d;
	struct diag_key k;

	(void)state;
	sockdiag_init(&d);
	key_of(&k, "10.0.0.1", 1, "10.0.0.2", 2);
	assert_null(sockdiag_find(&d, &k));
	sockdiag_free(&d);
}

static void test_add_then_find_many(void **state)
{
	struct sockdiag d;
	struct diag_key k;
	const struct diag_info *got;

	(void)state;
	sockdiag_init(&d);
	for (unsigned int i = 0; i < 3000; i++) {
		struct diag_info info = { i, i * 2, i * 3, 0 };

		key_of(&k, "10.0.0.1", (__u16)(1000 + i), "10.0.0.2", 443);
		assert_int_equal(sockdiag_add(&d, &k, &info), 0);
	}
	for (unsigned int i = 0; i < 3000; i += 7) {
		key_of(&k, "10.0.0.1", (__u16)(1000 + i), "10.0.0.2", 443);
		got = sockdiag_find(&d, &k);
		assert_non_null(got);
		assert_int_equal(got->bytes_acked, i);
		assert_int_equal(got->bytes_received, i * 2);
		assert_int_equal(got->rtt_us, i * 3);
	}
	key_of(&k, "10.0.0.1", 999, "10.0.0.2", 443);
	assert_null(sockdiag_find(&d, &k));
	/* added after a lookup sorted the table: still found */
	key_of(&k, "10.0.0.9", 5, "10.0.0.2", 443);
	assert_int_equal(sockdiag_add(&d, &k, &(struct diag_info){ 42, 0, 0, 0 }), 0);
	assert_non_null(sockdiag_find(&d, &k));
	assert_int_equal(sockdiag_find(&d, &k)->bytes_acked, 42);
	sockdiag_clear(&d);
	assert_null(sockdiag_find(&d, &k));
	sockdiag_free(&d);
}

static void test_key_mapped_is_ipv4(void **state)
{
	struct diag_key a, b, c;

	(void)state;
	key_of(&a, "::ffff:10.0.0.1", 1, "::ffff:10.0.0.2", 2);
	key_of(&b, "10.0.0.1", 1, "10.0.0.2", 2);
	assert_memory_equal(&a, &b, sizeof(a));
	assert_int_equal(a.ip, 4);
	/* a real IPv6 pair stays IPv6 */
	key_of(&c, "::1", 1, "::1", 2);
	assert_int_equal(c.ip, 6);
	/* ports in host order, nothing else set */
	assert_int_equal(b.sport, 1);
	assert_int_equal(b.dport, 2);
	assert_int_equal(b.pad[0] | b.pad[1] | b.pad[2], 0);
}

/* ---- a real dump ---- */

struct conn {
	int client, server;
	char caddr[INET6_ADDRSTRLEN], saddr[INET6_ADDRSTRLEN];
	__u16 cport, sport;
};

static void name_of(int fd, bool peer, char *addr, __u16 *port)
{
	struct sockaddr_storage ss;
	socklen_t len = sizeof(ss);

	assert_int_equal((peer ? getpeername : getsockname)(fd, (struct sockaddr *)&ss, &len), 0);
	if (ss.ss_family == AF_INET) {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		inet_ntop(AF_INET, &in->sin_addr, addr, INET6_ADDRSTRLEN);
		*port = ntohs(in->sin_port);
	} else {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		inet_ntop(AF_INET6, &in6->sin6_addr, addr, INET6_ADDRSTRLEN);
		*port = ntohs(in6->sin6_port);
	}
}

/* A loopback connection: listen on `listen_at`, connect to `connect_to`. */
static void open_conn(struct conn *c, int af, const char *listen_at, const char *connect_to)
{
	struct sockaddr_storage ss = {};
	socklen_t len = sizeof(ss);
	int off = 0, l;

	l = socket(af, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(l >= 0);
	if (af == AF_INET6) {
		struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)&ss;

		/* "::" takes IPv4 too: connections as v4-mapped addresses */
		assert_int_equal(setsockopt(l, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off)), 0);
		in6->sin6_family = AF_INET6;
		assert_int_equal(inet_pton(AF_INET6, listen_at, &in6->sin6_addr), 1);
	} else {
		struct sockaddr_in *in = (struct sockaddr_in *)&ss;

		in->sin_family = AF_INET;
		assert_int_equal(inet_pton(AF_INET, listen_at, &in->sin_addr), 1);
	}
	assert_int_equal(bind(l, (struct sockaddr *)&ss, sizeof(ss)), 0);
	assert_int_equal(listen(l, 4), 0);
	assert_int_equal(getsockname(l, (struct sockaddr *)&ss, &len), 0);
	if (af == AF_INET6)
		assert_int_equal(inet_pton(AF_INET6, connect_to,
					   &((struct sockaddr_in6 *)&ss)->sin6_addr), 1);
	else
		assert_int_equal(inet_pton(AF_INET, connect_to,
					   &((struct sockaddr_in *)&ss)->sin_addr), 1);

	c->client = socket(af, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(c->client >= 0);
	assert_int_equal(connect(c->client, (struct sockaddr *)&ss, len), 0);
	c->server = accept4(l, NULL, NULL, SOCK_CLOEXEC);
	assert_true(c->server >= 0);
	close(l);
	name_of(c->client, false, c->caddr, &c->cport);
	name_of(c->client, true, c->saddr, &c->sport);
}

/* Move n bytes from one socket to the other, reading as we go so that
 * neither side's buffer has to hold all of it.
 */
static void transfer(int from, int to, size_t n)
{
	static char buf[65536];
	size_t sent = 0, got = 0;

	memset(buf, 'x', sizeof(buf));
	while (got < n) {
		struct pollfd p[2] = { { from, sent < n ? POLLOUT : 0, 0 }, { to, POLLIN, 0 } };
		ssize_t k;

		assert_true(poll(p, 2, 5000) > 0);
		if (p[0].revents & POLLOUT) {
			size_t want = n - sent < sizeof(buf) ? n - sent : sizeof(buf);

			k = send(from, buf, want, MSG_DONTWAIT);
			assert_true(k > 0 || errno == EAGAIN);
			if (k > 0)
				sent += k;
		}
		if (p[1].revents & POLLIN) {
			k = recv(to, buf, sizeof(buf), MSG_DONTWAIT);
			assert_true(k > 0 || errno == EAGAIN);
			if (k > 0)
				got += k;
		}
	}
	assert_int_equal(sent, n);
	assert_int_equal(got, n);
}

static struct tcp_info info_of(int fd)
{
	struct tcp_info ti = {};
	socklen_t len = sizeof(ti);

	assert_int_equal(getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len), 0);
	return ti;
}

/* until every byte sent is acknowledged */
static void await_acks(int fd)
{
	for (int i = 0; i < 500 && info_of(fd).tcpi_unacked; i++)
		usleep(10000);
	assert_int_equal(info_of(fd).tcpi_unacked, 0);
}

static const struct diag_info *lookup(struct sockdiag *d, const char *saddr, __u16 sport,
				      const char *daddr, __u16 dport)
{
	struct diag_key k;

	key_of(&k, saddr, sport, daddr, dport);
	return sockdiag_find(d, &k);
}

/* A dump, and both ends of c in it. */
static void dump_both_ends(struct sockdiag *d, const struct conn *c,
			   const struct diag_info **cl, const struct diag_info **sv)
{
	sockdiag_init(d);
	assert_int_equal(sockdiag_dump(d), 0);
	*cl = lookup(d, c->caddr, c->cport, c->saddr, c->sport);
	*sv = lookup(d, c->saddr, c->sport, c->caddr, c->cport);
	assert_non_null(*cl);
	assert_non_null(*sv);
}

/* Data bytes: without the connect's SYN, nor a FIN acknowledged or taken. */
static void check_data_bytes(const struct diag_info *i, bool outbound,
			     __u64 want_sent, __u64 want_received)
{
	__u64 sent, received;

	diag_data_bytes(i, outbound, &sent, &received);
	assert_int_equal(sent, want_sent);
	assert_int_equal(received, want_received);
}

static void check_dump(int af, const char *listen_at, const char *connect_to)
{
	const struct diag_info *cl, *sv;
	struct tcp_info ti;
	struct sockdiag d;
	struct conn c;
	struct linger abort_close = { 1, 0 };

	open_conn(&c, af, listen_at, connect_to);
	transfer(c.client, c.server, TO_SERVER);
	transfer(c.server, c.client, TO_CLIENT);
	await_acks(c.client);
	await_acks(c.server);

	dump_both_ends(&d, &c, &cl, &sv);
	/* the kernel counts the SYN among the bytes acked on the active side */
	assert_int_equal(cl->bytes_acked, TO_SERVER + 1);
	assert_int_equal(cl->bytes_received, TO_CLIENT);
	assert_int_equal(cl->state, 1);	/* ESTABLISHED */
	check_data_bytes(cl, true, TO_SERVER, TO_CLIENT);
	check_data_bytes(sv, false, TO_CLIENT, TO_SERVER);
	assert_int_equal(sv->bytes_acked, TO_CLIENT);
	assert_int_equal(sv->bytes_received, TO_SERVER);
	assert_true(cl->rtt_us > 0);
	assert_true(sv->rtt_us > 0);
	/* and what each socket says of itself */
	ti = info_of(c.client);
	assert_int_equal(cl->bytes_acked, ti.tcpi_bytes_acked);
	assert_int_equal(cl->bytes_received, ti.tcpi_bytes_received);
	ti = info_of(c.server);
	assert_int_equal(sv->bytes_acked, ti.tcpi_bytes_acked);
	assert_int_equal(sv->bytes_received, ti.tcpi_bytes_received);

	/* reset, both gone at once: the next dump does not list them */
	setsockopt(c.client, SOL_SOCKET, SO_LINGER, &abort_close, sizeof(abort_close));
	setsockopt(c.server, SOL_SOCKET, SO_LINGER, &abort_close, sizeof(abort_close));
	close(c.client);
	close(c.server);
	assert_int_equal(sockdiag_dump(&d), 0);
	assert_null(lookup(&d, c.caddr, c.cport, c.saddr, c.sport));
	assert_null(lookup(&d, c.saddr, c.sport, c.caddr, c.cport));
	sockdiag_free(&d);
}

static void test_dump_ipv4(void **state)
{
	(void)state;
	check_dump(AF_INET, "127.0.0.1", "127.0.0.1");
}

static void test_dump_ipv6(void **state)
{
	(void)state;
	check_dump(AF_INET6, "::1", "::1");
}

static void test_dump_ipv4_mapped(void **state)
{
	const struct diag_info *info;
	struct sockdiag d;
	struct conn c;

	(void)state;
	/* the addresses as the sockets name them: ::ffff:127.0.0.1 */
	check_dump(AF_INET6, "::", "::ffff:127.0.0.1");

	/* and found by the plain IPv4 tuple too */
	open_conn(&c, AF_INET6, "::", "::ffff:127.0.0.1");
	assert_non_null(strstr(c.caddr, "::ffff:"));
	sockdiag_init(&d);
	assert_int_equal(sockdiag_dump(&d), 0);
	info = lookup(&d, c.caddr + strlen("::ffff:"), c.cport,
		      c.saddr + strlen("::ffff:"), c.sport);
	assert_non_null(info);
	assert_int_equal(info->bytes_acked, 1);
	assert_int_equal(info->bytes_received, 0);
	close(c.client);
	close(c.server);
	sockdiag_free(&d);
}

static void test_data_bytes_of_states(void **state)
{
	/* state: 1 ESTABLISHED, 4 FIN_WAIT1, 5 FIN_WAIT2, 8 CLOSE_WAIT,
	 * 9 LAST_ACK, 11 CLOSING
	 */
	struct diag_info estab = { .bytes_acked = 11, .bytes_received = 20, .state = 1 };
	struct diag_info fin_wait1 = { .bytes_acked = 11, .bytes_received = 20, .state = 4 };
	struct diag_info fin_wait2 = { .bytes_acked = 12, .bytes_received = 20, .state = 5 };
	struct diag_info close_wait = { .bytes_acked = 11, .bytes_received = 21, .state = 8 };
	struct diag_info last_ack = { .bytes_acked = 11, .bytes_received = 21, .state = 9 };
	struct diag_info closing = { .bytes_acked = 11, .bytes_received = 21, .state = 11 };
	struct diag_info fresh = { .bytes_acked = 0, .bytes_received = 0, .state = 1 };

	(void)state;
	check_data_bytes(&estab, true, 10, 20);
	check_data_bytes(&estab, false, 11, 20);
	check_data_bytes(&fin_wait1, true, 10, 20);
	check_data_bytes(&fin_wait2, true, 10, 20);
	check_data_bytes(&fin_wait2, false, 11, 20);
	check_data_bytes(&close_wait, true, 10, 20);
	check_data_bytes(&last_ack, true, 10, 20);
	check_data_bytes(&closing, false, 11, 20);
	/* never below zero, whatever the kernel said */
	check_data_bytes(&fresh, true, 0, 0);
}

/* A real half-closed connection: the client's FIN acknowledged (its end
 * in FIN_WAIT2), the server holding it (CLOSE_WAIT).
 */
static void test_dump_half_closed(void **state)
{
	const struct diag_info *cl, *sv;
	struct sockdiag d;
	struct conn c;
	char byte;

	(void)state;
	open_conn(&c, AF_INET, "127.0.0.1", "127.0.0.1");
	transfer(c.client, c.server, TO_SERVER);
	transfer(c.server, c.client, TO_CLIENT);
	assert_int_equal(shutdown(c.client, SHUT_WR), 0);
	assert_int_equal(read(c.server, &byte, 1), 0);	/* the FIN arrived */
	await_acks(c.client);

	dump_both_ends(&d, &c, &cl, &sv);
	assert_int_equal(cl->state, 5);
	assert_int_equal(sv->state, 8);
	/* SYN and FIN counted by the kernel, not by us */
	assert_int_equal(cl->bytes_acked, TO_SERVER + 2);
	assert_int_equal(sv->bytes_received, TO_SERVER + 1);
	check_data_bytes(cl, true, TO_SERVER, TO_CLIENT);
	check_data_bytes(sv, false, TO_CLIENT, TO_SERVER);
	close(c.client);
	close(c.server);
	sockdiag_free(&d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find_in_empty),
		cmocka_unit_test(test_add_then_find_many),
		cmocka_unit_test(test_key_mapped_is_ipv4),
		cmocka_unit_test(test_dump_ipv4),
		cmocka_unit_test(test_dump_ipv6),
		cmocka_unit_test(test_dump_ipv4_mapped),
		cmocka_unit_test(test_data_bytes_of_states),
		cmocka_unit_test(test_dump_half_closed),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
