// SPDX-License-Identifier: GPL-2.0-only
// Unit tests for rdns.c (the -r cache and its worker threads) and
// delayq.c (records held in order until named, each for at most the
// bound), with a fake resolver whose answers the test holds back.
#include <arpa/inet.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <cmocka.h>
#include <linux/types.h>

#include "delayq.h"
#include "rdns.h"

#define MS 1000000ULL

/* ---- the fake resolver: 10.0.0.N is "hN.test" for N < 100, has no
 * name from 100 on; while the gate is shut, lookups of 10.0.0.N with
 * N >= 200 wait for it to open
 */

static pthread_mutex_t fake_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t fake_cond = PTHREAD_COND_INITIALIZER;
static bool gate_shut;
static unsigned int fake_calls;
static __u64 fake_delay_ns;	/* every lookup takes this long */

static int fake_resolve(const struct rdns_key *key, char *name, size_t len)
{
	unsigned int n = ntohl(key->addr.v4) & 0xff;

	pthread_mutex_lock(&fake_lock);
	fake_calls++;
	while (gate_shut && n >= 200)
		pthread_cond_wait(&fake_cond, &fake_lock);
	pthread_mutex_unlock(&fake_lock);
	if (fake_delay_ns)
		nanosleep(&(struct timespec){ .tv_sec = fake_delay_ns / 1000000000ULL,
					      .tv_nsec = fake_delay_ns % 1000000000ULL }, NULL);
	if (n >= 100 && n < 200)
		return -1;
	snprintf(name, len, "h%u.test", n);
	return 0;
}

static void gate(bool shut)
{
	pthread_mutex_lock(&fake_lock);
	gate_shut = shut;
	pthread_cond_broadcast(&fake_cond);
	pthread_mutex_unlock(&fake_lock);
}

static unsigned int calls(void)
{
	unsigned int n;

	pthread_mutex_lock(&fake_lock);
	n = fake_calls;
	pthread_mutex_unlock(&fake_lock);
	return n;
}

static int setup(void **state)
{
	(void)state;
	gate(false);
	fake_calls = 0;
	fake_delay_ns = 0;
	return 0;
}

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

static struct rdns_opts opts(unsigned int threads, size_t cache_max, size_t queue_max)
{
	return (struct rdns_opts){ .resolve = fake_resolve, .threads = threads,
		.cache_max = cache_max, .queue_max = queue_max,
		.positive_ttl_ns = 1000 * MS, .negative_ttl_ns = 100 * MS };
}

static struct rdns_key key4(unsigned int n)
{
	struct rdns_key k;

	memset(&k, 0, sizeof(k));
	k.ip = 4;
	k.addr.v4 = htonl(0x0a000000 | n);
	return k;
}

static struct tcl_event event4(unsigned int n, __u64 id)
{
	struct tcl_event ev;

	memset(&ev, 0, sizeof(ev));
	ev.ip = 4;
	ev.daddr.v4 = htonl(0x0a000000 | n);
	ev.saddr.v4 = htonl(0x7f000001);
	ev.conn_id = id;
	return ev;
}

/* Collect answers until key's lookup is done (2 s at most). */
static enum rdns_answer settle(struct rdns *r, const struct rdns_key *key, __u64 now,
			       const char **name)
{
	__u64 until = mono_ns() + 2000 * MS;
	enum rdns_answer a;

	while ((a = rdns_get(r, key, now, name)) == RDNS_WAIT && mono_ns() < until) {
		struct pollfd p = { .fd = rdns_fd(r), .events = POLLIN };

		poll(&p, 1, 100);
		rdns_collect(r, now);
	}
	return a;
}

/* ---- the cache ---- */

static void test_cache_names_once(void **state)
{
	struct rdns_opts o = opts(2, 16, 16);
	struct rdns *r = rdns_new(&o);
	struct rdns_key k = key4(7), none = key4(150);
	const char *name;

	(void)state;
	assert_non_null(r);
	assert_int_equal(rdns_get(r, &k, 0, &name), RDNS_WAIT);
	assert_null(name);
	assert_int_equal(settle(r, &k, 0, &name), RDNS_NAME);
	assert_string_equal(name, "h7.test");
	/* no name: cached as such */
	assert_int_equal(settle(r, &none, 0, &name), RDNS_NONE);
	assert_null(name);
	for (int i = 0; i < 5; i++) {
		assert_int_equal(rdns_get(r, &k, 10 * MS, &name), RDNS_NAME);
		assert_string_equal(name, "h7.test");
		assert_int_equal(rdns_get(r, &none, 10 * MS, &name), RDNS_NONE);
	}
	assert_int_equal(calls(), 2);
	assert_int_equal(rdns_counts(r).lookups, 2);
	rdns_free(r);
}

/* a failure is asked again after the negative TTL, a name after its own */
static void test_cache_ttls(void **state)
{
	struct rdns_opts o = opts(1, 16, 16);
	struct rdns *r = rdns_new(&o);
	struct rdns_key k = key4(7), none = key4(150);
	const char *name;

	(void)state;
	assert_int_equal(settle(r, &k, 0, &name), RDNS_NAME);
	assert_int_equal(settle(r, &none, 0, &name), RDNS_NONE);
	assert_int_equal(rdns_get(r, &none, 99 * MS, &name), RDNS_NONE);
	assert_int_equal(calls(), 2);
	assert_int_equal(rdns_get(r, &none, 100 * MS, &name), RDNS_WAIT);
	assert_int_equal(settle(r, &none, 100 * MS, &name), RDNS_NONE);
	assert_int_equal(calls(), 3);
	assert_int_equal(rdns_get(r, &k, 999 * MS, &name), RDNS_NAME);
	assert_int_equal(calls(), 3);
	assert_int_equal(rdns_get(r, &k, 1000 * MS, &name), RDNS_WAIT);
	assert_int_equal(settle(r, &k, 1000 * MS, &name), RDNS_NAME);
	assert_string_equal(name, "h7.test");
	assert_int_equal(calls(), 4);
	rdns_free(r);
}

/* bounded: the least recently used entry goes first */
static void test_cache_lru_bound(void **state)
{
	struct rdns_opts o = opts(1, 2, 16);
	struct rdns *r = rdns_new(&o);
	struct rdns_key a = key4(1), b = key4(2), c = key4(3);
	const char *name;

	(void)state;
	assert_int_equal(settle(r, &a, 0, &name), RDNS_NAME);
	assert_int_equal(settle(r, &b, 0, &name), RDNS_NAME);
	/* a used again: b is now the oldest */
	assert_int_equal(rdns_get(r, &a, 0, &name), RDNS_NAME);
	assert_int_equal(settle(r, &c, 0, &name), RDNS_NAME);
	assert_int_equal(rdns_counts(r).evictions, 1);
	assert_int_equal(rdns_get(r, &a, 0, &name), RDNS_NAME);
	assert_string_equal(name, "h1.test");
	assert_int_equal(rdns_get(r, &c, 0, &name), RDNS_NAME);
	assert_int_equal(calls(), 3);
	assert_int_equal(rdns_get(r, &b, 0, &name), RDNS_WAIT);
	assert_int_equal(settle(r, &b, 0, &name), RDNS_NAME);
	assert_string_equal(name, "h2.test");
	assert_int_equal(calls(), 4);
	rdns_free(r);
}

/* lookups waiting for a worker are bounded too: past it, BUSY */
static void test_busy_when_queue_full(void **state)
{
	struct rdns_opts o = opts(1, 16, 1);
	struct rdns *r;
	struct rdns_key k1 = key4(201), k2 = key4(202), k3 = key4(203);
	const char *name;
	__u64 until = mono_ns() + 2000 * MS;

	(void)state;
	gate(true);
	r = rdns_new(&o);
	assert_int_equal(rdns_get(r, &k1, 0, &name), RDNS_WAIT);
	/* the worker has taken k1: the queue has room for one */
	while (calls() < 1 && mono_ns() < until)
		nanosleep(&(struct timespec){ .tv_nsec = MS }, NULL);
	assert_int_equal(rdns_get(r, &k2, 0, &name), RDNS_WAIT);
	assert_int_equal(rdns_get(r, &k3, 0, &name), RDNS_BUSY);
	/* the same key is not asked twice */
	assert_int_equal(rdns_get(r, &k1, 0, &name), RDNS_WAIT);
	gate(false);
	assert_int_equal(settle(r, &k1, 0, &name), RDNS_NAME);
	assert_int_equal(settle(r, &k2, 0, &name), RDNS_NAME);
	assert_int_equal(settle(r, &k3, 0, &name), RDNS_NAME);
	assert_string_equal(name, "h203.test");
	assert_int_equal(calls(), 3);
	rdns_free(r);
}

/* a worker stuck in a lookup does not hold up rdns_free() */
static void test_free_with_stuck_worker(void **state)
{
	struct rdns_opts o = opts(1, 16, 16);
	struct rdns *r;
	struct rdns_key k = key4(201);
	const char *name;
	__u64 t0;

	(void)state;
	gate(true);
	r = rdns_new(&o);
	assert_int_equal(rdns_get(r, &k, 0, &name), RDNS_WAIT);
	while (calls() < 1)
		nanosleep(&(struct timespec){ .tv_nsec = MS }, NULL);
	t0 = mono_ns();
	rdns_free(r);
	assert_true(mono_ns() - t0 < 500 * MS);
	/* let it finish, and free what it shares, before the test ends */
	gate(false);
	nanosleep(&(struct timespec){ .tv_nsec = 100 * MS }, NULL);
}

static void test_key_is_the_remote_address(void **state)
{
	struct tcl_event ev = event4(9, 1);
	struct rdns_key k = rdns_key_of(&ev), want = key4(9);
	struct tcl_event ev6;

	(void)state;
	assert_memory_equal(&k, &want, sizeof(k));
	memset(&ev6, 0, sizeof(ev6));
	ev6.ip = 6;
	inet_pton(AF_INET6, "fd00::1", ev6.daddr.v6);
	inet_pton(AF_INET6, "fd00::2", ev6.saddr.v6);
	k = rdns_key_of(&ev6);
	assert_int_equal(k.ip, 6);
	assert_memory_equal(k.addr.v6, ev6.daddr.v6, 16);
}

/* ---- the queue ---- */

#define PRINTED_MAX 256

struct printed {
	__u64 id[PRINTED_MAX];
	char name[PRINTED_MAX][32];
	size_t n;
};

static void record_print(void *ctx, const struct tcl_event *ev, const char *rdns)
{
	struct printed *p = ctx;

	assert_true(p->n < PRINTED_MAX);
	p->id[p->n] = ev->conn_id;
	snprintf(p->name[p->n], sizeof(p->name[0]), "%s", rdns ? rdns : "-");
	p->n++;
}

/* Waits until the cache has an answer for 10.0.0.n, taken at now. */
static void warm(struct rdns *r, unsigned int n, __u64 now)
{
	struct rdns_key k = key4(n);
	const char *name;

	assert_int_not_equal(settle(r, &k, now, &name), RDNS_WAIT);
}

static void test_queue_cached_out_at_once(void **state)
{
	struct rdns_opts o = opts(1, 16, 16);
	struct rdns *r = rdns_new(&o);
	struct printed p = { 0 };
	struct delayq q;
	struct tcl_event e1 = event4(1, 1), e2 = event4(150, 2);

	(void)state;
	assert_int_equal(delayq_init(&q, r, 200 * MS, 16, record_print, &p), 0);
	warm(r, 1, 0);
	warm(r, 150, 0);
	delayq_push(&q, &e1, 0);
	delayq_push(&q, &e2, 0);
	assert_int_equal(p.n, 2);
	assert_string_equal(p.name[0], "h1.test");
	assert_string_equal(p.name[1], "-");
	assert_int_equal(q.late, 0);
	assert_int_equal(delayq_wait_ns(&q, 0), -1);
	delayq_free(&q);
	rdns_free(r);
}

/* a record waiting for its name holds back those after it, cached or not */
static void test_queue_keeps_order(void **state)
{
	struct rdns_opts o = opts(2, 16, 16);
	struct rdns *r = rdns_new(&o);
	struct printed p = { 0 };
	struct delayq q;
	struct tcl_event slow = event4(201, 1), cached = event4(1, 2), fresh = event4(2, 3);
	__u64 until = mono_ns() + 2000 * MS;

	(void)state;
	assert_int_equal(delayq_init(&q, r, 200 * MS, 16, record_print, &p), 0);
	warm(r, 1, 0);
	gate(true);
	delayq_push(&q, &slow, 0);
	delayq_push(&q, &cached, 0);
	delayq_push(&q, &fresh, 0);
	assert_int_equal(p.n, 0);
	assert_int_equal(delayq_wait_ns(&q, 50 * MS), 150 * MS);
	/* fresh is answered meanwhile: still behind slow */
	while (calls() < 3 && mono_ns() < until)
		nanosleep(&(struct timespec){ .tv_nsec = MS }, NULL);
	nanosleep(&(struct timespec){ .tv_nsec = 20 * MS }, NULL);
	delayq_release(&q, 50 * MS);
	assert_int_equal(p.n, 0);
	gate(false);
	while (p.n < 3 && mono_ns() < until) {
		nanosleep(&(struct timespec){ .tv_nsec = MS }, NULL);
		delayq_release(&q, 60 * MS);
	}
	assert_int_equal(p.n, 3);
	assert_int_equal(p.id[0], 1);
	assert_string_equal(p.name[0], "h201.test");
	assert_int_equal(p.id[1], 2);
	assert_string_equal(p.name[1], "h1.test");
	assert_int_equal(p.id[2], 3);
	assert_string_equal(p.name[2], "h2.test");
	assert_int_equal(q.late, 0);
	delayq_free(&q);
	rdns_free(r);
}

/* at the bound the waiting record goes out unnamed, counted; those behind
 * it go with it, named when their answers are in
 */
static void test_queue_bound(void **state)
{
	struct rdns_opts o = opts(2, 16, 16);
	struct rdns *r = rdns_new(&o);
	struct printed p = { 0 };
	struct delayq q;
	struct tcl_event slow = event4(201, 1), cached = event4(1, 2), later = event4(1, 3);

	(void)state;
	assert_int_equal(delayq_init(&q, r, 200 * MS, 16, record_print, &p), 0);
	warm(r, 1, 1000 * MS);
	gate(true);
	delayq_push(&q, &slow, 1000 * MS);
	delayq_push(&q, &cached, 1100 * MS);
	delayq_release(&q, 1199 * MS);
	assert_int_equal(p.n, 0);
	assert_int_equal(delayq_wait_ns(&q, 1199 * MS), 1 * MS);
	delayq_release(&q, 1200 * MS);
	assert_int_equal(p.n, 2);
	assert_string_equal(p.name[0], "-");
	assert_string_equal(p.name[1], "h1.test");
	assert_int_equal(q.late, 1);
	assert_int_equal(delayq_wait_ns(&q, 1200 * MS), -1);
	/* nothing waits now: a cached name goes out at once */
	delayq_push(&q, &later, 1201 * MS);
	assert_int_equal(p.n, 3);
	assert_string_equal(p.name[2], "h1.test");
	/* the same slow address again: still being looked up, waits again */
	delayq_push(&q, &slow, 1300 * MS);
	assert_int_equal(p.n, 3);
	delayq_release(&q, 1500 * MS);
	assert_int_equal(p.n, 4);
	assert_int_equal(q.late, 2);
	gate(false);
	delayq_free(&q);
	rdns_free(r);
}

/* more records held than the queue takes: the oldest goes out early */
static void test_queue_full_releases_oldest(void **state)
{
	struct rdns_opts o = opts(1, 16, 16);
	struct rdns *r = rdns_new(&o);
	struct printed p = { 0 };
	struct delayq q;

	(void)state;
	assert_int_equal(delayq_init(&q, r, 200 * MS, 3, record_print, &p), 0);
	gate(true);
	for (unsigned int i = 0; i < 5; i++) {
		struct tcl_event ev = event4(201, i + 1);

		delayq_push(&q, &ev, 0);
	}
	assert_int_equal(p.n, 2);
	assert_int_equal(p.id[0], 1);
	assert_int_equal(p.id[1], 2);
	assert_int_equal(q.late, 2);
	assert_int_equal(q.len, 3);
	gate(false);
	delayq_drain(&q);
	assert_int_equal(p.n, 5);
	for (unsigned int i = 0; i < 5; i++)
		assert_int_equal(p.id[i], i + 1);
	delayq_free(&q);
	rdns_free(r);
}

/* the ring grows past its first size, wrapped, and keeps the order */
static void test_queue_grows(void **state)
{
	struct rdns_opts o = opts(1, 16, 16);
	struct rdns *r = rdns_new(&o);
	static struct printed p;
	struct delayq q;
	unsigned int i;

	(void)state;
	memset(&p, 0, sizeof(p));
	assert_int_equal(delayq_init(&q, r, 200 * MS, 1000, record_print, &p), 0);
	warm(r, 1, 0);
	gate(true);
	/* 40 in and out: the ring's start moves on */
	for (i = 0; i < 40; i++) {
		struct tcl_event ev = event4(201, i + 1);

		delayq_push(&q, &ev, 0);
	}
	delayq_release(&q, 200 * MS);
	assert_int_equal(p.n, 40);
	for (; i < 200; i++) {
		struct tcl_event ev = event4(i % 2 ? 1 : 201, i + 1);

		delayq_push(&q, &ev, 300 * MS);
	}
	assert_true(q.cap > 64);
	delayq_release(&q, 500 * MS);
	assert_int_equal(p.n, 200);
	for (i = 0; i < 200; i++) {
		assert_int_equal(p.id[i], i + 1);
		assert_string_equal(p.name[i], i >= 40 && i % 2 ? "h1.test" : "-");
	}
	assert_int_equal(q.late, 40 + 80);
	gate(false);
	delayq_free(&q);
	rdns_free(r);
}

/* at exit: a dead lookup costs at most the bound, then the record is out */
static void test_drain_waits_at_most_the_bound(void **state)
{
	struct rdns_opts o = opts(1, 16, 16);
	struct rdns *r = rdns_new(&o);
	struct printed p = { 0 };
	struct delayq q;
	struct tcl_event slow = event4(201, 1), cached = event4(1, 2);
	__u64 t0, took;

	(void)state;
	assert_int_equal(delayq_init(&q, r, 100 * MS, 16, record_print, &p), 0);
	t0 = mono_ns();
	warm(r, 1, t0);
	gate(true);
	delayq_push(&q, &slow, t0);
	delayq_push(&q, &cached, t0);
	delayq_drain(&q);
	took = mono_ns() - t0;
	assert_int_equal(p.n, 2);
	assert_string_equal(p.name[0], "-");
	assert_string_equal(p.name[1], "h1.test");
	assert_int_equal(q.late, 1);
	assert_true(took >= 100 * MS);
	assert_true(took < 400 * MS);
	gate(false);
	delayq_free(&q);
	rdns_free(r);
}

/* at exit: an answer that comes in time is waited for, and no longer */
static void test_drain_takes_late_answers(void **state)
{
	struct rdns_opts o = opts(1, 16, 16);
	struct rdns *r = rdns_new(&o);
	struct printed p = { 0 };
	struct delayq q;
	struct tcl_event ev = event4(5, 1);
	__u64 t0, took;

	(void)state;
	fake_delay_ns = 30 * MS;
	assert_int_equal(delayq_init(&q, r, 2000 * MS, 16, record_print, &p), 0);
	t0 = mono_ns();
	delayq_push(&q, &ev, t0);
	delayq_drain(&q);
	took = mono_ns() - t0;
	assert_int_equal(p.n, 1);
	assert_string_equal(p.name[0], "h5.test");
	assert_int_equal(q.late, 0);
	assert_true(took >= 30 * MS);
	assert_true(took < 1000 * MS);
	delayq_free(&q);
	rdns_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_cache_names_once, setup),
		cmocka_unit_test_setup(test_cache_ttls, setup),
		cmocka_unit_test_setup(test_cache_lru_bound, setup),
		cmocka_unit_test_setup(test_busy_when_queue_full, setup),
		cmocka_unit_test_setup(test_free_with_stuck_worker, setup),
		cmocka_unit_test_setup(test_key_is_the_remote_address, setup),
		cmocka_unit_test_setup(test_queue_cached_out_at_once, setup),
		cmocka_unit_test_setup(test_queue_keeps_order, setup),
		cmocka_unit_test_setup(test_queue_bound, setup),
		cmocka_unit_test_setup(test_queue_full_releases_oldest, setup),
		cmocka_unit_test_setup(test_queue_grows, setup),
		cmocka_unit_test_setup(test_drain_waits_at_most_the_bound, setup),
		cmocka_unit_test_setup(test_drain_takes_late_answers, setup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
