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

/* rdns_get() on 10.0.0.n at now answers want, with this name (NULL:
 * none); settled: once its lookup finished
 */
static void expect(struct rdns *r, unsigned int n, __u64 now, bool settled,
		   enum rdns_answer want, const char *name)
{
	struct rdns_key k = key4(n);
	const char *got;
	enum rdns_answer a = settled ? settle(r, &k, now, &got) : rdns_get(r, &k, now, &got);

	assert_int_equal(a, want);
	if (name)
		assert_string_equal(got, name);
	else
		assert_null(got);
}

/* Until the fake was called n times in all (2 s at most). */
static void wait_calls(unsigned int n)
{
	__u64 until = mono_ns() + 2000 * MS;

	while (calls() < n && mono_ns() < until)
		nanosleep(&(struct timespec){ .tv_nsec = MS }, NULL);
	assert_int_equal(calls(), n);
}

static void test_cache_names_once(void **state)
{
	struct rdns_opts o = opts(2, 16, 16);
	struct rdns *r = rdns_new(&o);

	(void)state;
	assert_non_null(r);
	expect(r, 7, 0, false, RDNS_WAIT, NULL);
	expect(r, 7, 0, true, RDNS_NAME, "h7.test");
	/* no name: cached as such */
	expect(r, 150, 0, true, RDNS_NONE, NULL);
	for (int i = 0; i < 5; i++) {
		expect(r, 7, 10 * MS, false, RDNS_NAME, "h7.test");
		expect(r, 150, 10 * MS, false, RDNS_NONE, NULL);
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

	(void)state;
	expect(r, 7, 0, true, RDNS_NAME, "h7.test");
	expect(r, 150, 0, true, RDNS_NONE, NULL);
	expect(r, 150, 99 * MS, false, RDNS_NONE, NULL);
	assert_int_equal(calls(), 2);
	expect(r, 150, 100 * MS, false, RDNS_WAIT, NULL);
	expect(r, 150, 100 * MS, true, RDNS_NONE, NULL);
	assert_int_equal(calls(), 3);
	expect(r, 7, 999 * MS, false, RDNS_NAME, "h7.test");
	assert_int_equal(calls(), 3);
	expect(r, 7, 1000 * MS, false, RDNS_WAIT, NULL);
	expect(r, 7, 1000 * MS, true, RDNS_NAME, "h7.test");
	assert_int_equal(calls(), 4);
	rdns_free(r);
}

/* bounded: the least recently used entry goes first */
static void test_cache_lru_bound(void **state)
{
	struct rdns_opts o = opts(1, 2, 16);
	struct rdns *r = rdns_new(&o);

	(void)state;
	expect(r, 1, 0, true, RDNS_NAME, "h1.test");
	expect(r, 2, 0, true, RDNS_NAME, "h2.test");
	/* 1 used again: 2 is now the oldest, and goes for 3 */
	expect(r, 1, 0, false, RDNS_NAME, "h1.test");
	expect(r, 3, 0, true, RDNS_NAME, "h3.test");
	assert_int_equal(rdns_counts(r).evictions, 1);
	expect(r, 1, 0, false, RDNS_NAME, "h1.test");
	expect(r, 3, 0, false, RDNS_NAME, "h3.test");
	assert_int_equal(calls(), 3);
	expect(r, 2, 0, false, RDNS_WAIT, NULL);
	expect(r, 2, 0, true, RDNS_NAME, "h2.test");
	assert_int_equal(calls(), 4);
	rdns_free(r);
}

/* lookups waiting for a worker are bounded too: past it, BUSY */
static void test_busy_when_queue_full(void **state)
{
	struct rdns_opts o = opts(1, 16, 1);
	struct rdns *r;

	(void)state;
	gate(true);
	r = rdns_new(&o);
	expect(r, 201, 0, false, RDNS_WAIT, NULL);
	/* the worker has taken it: the queue has room for one */
	wait_calls(1);
	expect(r, 202, 0, false, RDNS_WAIT, NULL);
	expect(r, 203, 0, false, RDNS_BUSY, NULL);
	/* the same address is not asked twice */
	expect(r, 201, 0, false, RDNS_WAIT, NULL);
	gate(false);
	expect(r, 201, 0, true, RDNS_NAME, "h201.test");
	expect(r, 202, 0, true, RDNS_NAME, "h202.test");
	expect(r, 203, 0, true, RDNS_NAME, "h203.test");
	assert_int_equal(calls(), 3);
	rdns_free(r);
}

/* a worker stuck in a lookup does not hold up rdns_free() */
static void test_free_with_stuck_worker(void **state)
{
	struct rdns_opts o = opts(1, 16, 16);
	struct rdns *r;
	__u64 t0;

	(void)state;
	gate(true);
	r = rdns_new(&o);
	expect(r, 201, 0, false, RDNS_WAIT, NULL);
	wait_calls(1);
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

/* A queue over its own cache, and what it printed. */
static struct {
	struct rdns *r;
	struct delayq q;
	__u64 id[PRINTED_MAX];
	char name[PRINTED_MAX][32];
	size_t n;
} t;

static void record_print(void *ctx, const struct tcl_event *ev, const char *rdns)
{
	(void)ctx;
	assert_true(t.n < PRINTED_MAX);
	t.id[t.n] = ev->conn_id;
	snprintf(t.name[t.n], sizeof(t.name[0]), "%s", rdns ? rdns : "-");
	t.n++;
}

static void queue_start(unsigned int threads, __u64 bound_ns, size_t max)
{
	struct rdns_opts o = opts(threads, 16, 16);

	memset(&t, 0, sizeof(t));
	t.r = rdns_new(&o);
	assert_non_null(t.r);
	assert_int_equal(delayq_init(&t.q, t.r, bound_ns, max, record_print, NULL), 0);
}

static void queue_end(void)
{
	gate(false);
	delayq_free(&t.q);
	rdns_free(t.r);
}

static void push(unsigned int n, __u64 id, __u64 now)
{
	struct tcl_event ev = event4(n, id);

	delayq_push(&t.q, &ev, now);
}

/* the i-th record printed was id, with this name ("-": none) */
static void assert_printed(size_t i, __u64 id, const char *name)
{
	assert_true(i < t.n);
	assert_int_equal(t.id[i], id);
	assert_string_equal(t.name[i], name);
}

/* Waits until the cache has an answer for 10.0.0.n, taken at now. */
static void warm(unsigned int n, __u64 now)
{
	struct rdns_key k = key4(n);
	const char *name;

	assert_int_not_equal(settle(t.r, &k, now, &name), RDNS_WAIT);
}

static void test_queue_cached_out_at_once(void **state)
{
	(void)state;
	queue_start(1, 200 * MS, 16);
	warm(1, 0);
	warm(150, 0);
	push(1, 1, 0);
	push(150, 2, 0);
	assert_int_equal(t.n, 2);
	assert_printed(0, 1, "h1.test");
	assert_printed(1, 2, "-");
	assert_int_equal(t.q.late, 0);
	assert_int_equal(delayq_wait_ns(&t.q, 0), -1);
	queue_end();
}

/* a record waiting for its name holds back those after it, cached or not */
static void test_queue_keeps_order(void **state)
{
	__u64 until = mono_ns() + 2000 * MS;

	(void)state;
	queue_start(2, 200 * MS, 16);
	warm(1, 0);
	gate(true);
	push(201, 1, 0);
	push(1, 2, 0);
	push(2, 3, 0);
	assert_int_equal(t.n, 0);
	assert_int_equal(delayq_wait_ns(&t.q, 50 * MS), 150 * MS);
	/* 10.0.0.2 is answered meanwhile: still behind the first */
	wait_calls(3);
	nanosleep(&(struct timespec){ .tv_nsec = 20 * MS }, NULL);
	delayq_release(&t.q, 50 * MS);
	assert_int_equal(t.n, 0);
	gate(false);
	while (t.n < 3 && mono_ns() < until) {
		nanosleep(&(struct timespec){ .tv_nsec = MS }, NULL);
		delayq_release(&t.q, 60 * MS);
	}
	assert_int_equal(t.n, 3);
	assert_printed(0, 1, "h201.test");
	assert_printed(1, 2, "h1.test");
	assert_printed(2, 3, "h2.test");
	assert_int_equal(t.q.late, 0);
	queue_end();
}

/* at the bound the waiting record goes out unnamed, counted; those behind
 * it go with it, named when their answers are in
 */
static void test_queue_bound(void **state)
{
	(void)state;
	queue_start(2, 200 * MS, 16);
	warm(1, 1000 * MS);
	gate(true);
	push(201, 1, 1000 * MS);
	push(1, 2, 1100 * MS);
	delayq_release(&t.q, 1199 * MS);
	assert_int_equal(t.n, 0);
	assert_int_equal(delayq_wait_ns(&t.q, 1199 * MS), 1 * MS);
	delayq_release(&t.q, 1200 * MS);
	assert_int_equal(t.n, 2);
	assert_printed(0, 1, "-");
	assert_printed(1, 2, "h1.test");
	assert_int_equal(t.q.late, 1);
	assert_int_equal(delayq_wait_ns(&t.q, 1200 * MS), -1);
	/* nothing waits now: a cached name goes out at once */
	push(1, 3, 1201 * MS);
	assert_int_equal(t.n, 3);
	assert_printed(2, 3, "h1.test");
	/* the same slow address again: still being looked up, waits again */
	push(201, 4, 1300 * MS);
	assert_int_equal(t.n, 3);
	delayq_release(&t.q, 1500 * MS);
	assert_printed(3, 4, "-");
	assert_int_equal(t.q.late, 2);
	queue_end();
}

/* more records held than the queue takes: the oldest goes out early */
static void test_queue_full_releases_oldest(void **state)
{
	(void)state;
	queue_start(1, 1000 * MS, 3);
	gate(true);
	/* on the real clock: the drain below waits on it */
	for (unsigned int i = 0; i < 5; i++)
		push(201, i + 1, mono_ns());
	assert_int_equal(t.n, 2);
	assert_printed(0, 1, "-");
	assert_printed(1, 2, "-");
	assert_int_equal(t.q.late, 2);
	assert_int_equal(t.q.len, 3);
	gate(false);
	delayq_drain(&t.q);
	assert_int_equal(t.n, 5);
	for (unsigned int i = 2; i < 5; i++)
		assert_printed(i, i + 1, "h201.test");
	queue_end();
}

/* the ring grows past its first size, wrapped, and keeps the order */
static void test_queue_grows(void **state)
{
	unsigned int i;

	(void)state;
	queue_start(1, 200 * MS, 1000);
	warm(1, 0);
	gate(true);
	/* 40 in and out: the ring's start moves on */
	for (i = 0; i < 40; i++)
		push(201, i + 1, 0);
	delayq_release(&t.q, 200 * MS);
	assert_int_equal(t.n, 40);
	for (; i < 200; i++)
		push(i % 2 ? 1 : 201, i + 1, 300 * MS);
	assert_true(t.q.cap > 64);
	delayq_release(&t.q, 500 * MS);
	assert_int_equal(t.n, 200);
	for (i = 0; i < 200; i++)
		assert_printed(i, i + 1, i >= 40 && i % 2 ? "h1.test" : "-");
	assert_int_equal(t.q.late, 40 + 80);
	queue_end();
}

/* at exit: a dead lookup costs at most the bound, then the record is out */
static void test_drain_waits_at_most_the_bound(void **state)
{
	__u64 t0, took;

	(void)state;
	queue_start(1, 100 * MS, 16);
	t0 = mono_ns();
	warm(1, t0);
	gate(true);
	push(201, 1, t0);
	push(1, 2, t0);
	delayq_drain(&t.q);
	took = mono_ns() - t0;
	assert_int_equal(t.n, 2);
	assert_printed(0, 1, "-");
	assert_printed(1, 2, "h1.test");
	assert_int_equal(t.q.late, 1);
	assert_true(took >= 100 * MS);
	assert_true(took < 400 * MS);
	queue_end();
}

/* at exit: an answer that comes in time is waited for, and no longer */
static void test_drain_takes_late_answers(void **state)
{
	__u64 t0, took;

	(void)state;
	fake_delay_ns = 30 * MS;
	queue_start(1, 2000 * MS, 16);
	t0 = mono_ns();
	push(5, 1, t0);
	delayq_drain(&t.q);
	took = mono_ns() - t0;
	assert_int_equal(t.n, 1);
	assert_printed(0, 1, "h5.test");
	assert_int_equal(t.q.late, 0);
	assert_true(took >= 30 * MS);
	assert_true(took < 1000 * MS);
	queue_end();
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
