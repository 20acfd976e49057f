// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include "rdns.h"
#include "table.h"

/* How long rdns_free() waits for workers inside a lookup before leaving
 * them to finish on their own.
 */
#define RDNS_EXIT_GRACE_NS 50000000L

/* A finished lookup, on its way back to the owner. */
struct answer {
	struct answer *next;
	struct rdns_key key;
	bool named;
	char name[TCL_RDNS_MAX + 1];
};

/* What the owner and the workers share. A worker stuck in a lookup at
 * exit keeps it alive: the last one out frees it.
 */
struct shared {
	pthread_mutex_t lock;
	pthread_cond_t work;	/* a key was queued, or stop */
	pthread_cond_t gone;	/* a worker left */
	rdns_resolve_fn resolve;
	struct rdns_key *queue;	/* ring of keys to look up */
	size_t queue_max, queue_head, queue_len;
	struct answer *answers;	/* finished, newest first */
	int efd;		/* written when an answer is added */
	bool stop;
	unsigned int refs;	/* the owner and every worker still running */
	unsigned int workers;
	bool *exited;		/* per worker */
};

/* A cache entry, in the LRU list (most recent first). */
struct entry {
	struct entry *prev, *next;
	struct rdns_key key;
	__u64 expires_ns;	/* of the answer; 0 while being looked up */
	bool pending;
	char *name;		/* NULL: no name */
};

struct rdns {
	struct shared *sh;
	pthread_t *threads;
	bool *done;		/* rdns_free(): which workers left in time */
	struct table by_key;	/* struct rdns_key -> struct entry * */
	struct entry *newest, *oldest;
	size_t cache_max;
	__u64 positive_ttl_ns, negative_ttl_ns;
	struct rdns_counts counts;
};

static bool is_v4_mapped(const __u8 *a)
{
	static const __u8 prefix[12] = { [10] = 0xff, [11] = 0xff };

	return !memcmp(a, prefix, sizeof(prefix));
}

int rdns_resolve_system(const struct rdns_key *key, char *name, size_t len)
{
	struct sockaddr_in sin = { .sin_family = AF_INET };
	struct sockaddr_in6 sin6 = { .sin6_family = AF_INET6 };
	const struct sockaddr *sa = (const struct sockaddr *)&sin;
	socklen_t salen = sizeof(sin);

	/* a mapped address is asked for as the IPv4 address it is */
	if (key->ip == 4) {
		sin.sin_addr.s_addr = key->addr.v4;
	} else if (is_v4_mapped(key->addr.v6)) {
		memcpy(&sin.sin_addr, key->addr.v6 + 12, 4);
	} else {
		memcpy(&sin6.sin6_addr, key->addr.v6, 16);
		sa = (const struct sockaddr *)&sin6;
		salen = sizeof(sin6);
	}
	return getnameinfo(sa, salen, name, len, NULL, 0, NI_NAMEREQD) ? -1 : 0;
}

static void shared_unref(struct shared *sh)
{
	bool last;

	pthread_mutex_lock(&sh->lock);
	last = --sh->refs == 0;
	pthread_mutex_unlock(&sh->lock);
	if (!last)
		return;
	while (sh->answers) {
		struct answer *a = sh->answers;

		sh->answers = a->next;
		free(a);
	}
	close(sh->efd);
	pthread_cond_destroy(&sh->work);
	pthread_cond_destroy(&sh->gone);
	pthread_mutex_destroy(&sh->lock);
	free(sh->queue);
	free(sh->exited);
	free(sh);
}

struct worker_arg {
	struct shared *sh;
	unsigned int id;
};

static void *worker(void *p)
{
	struct worker_arg *arg = p;
	struct shared *sh = arg->sh;
	unsigned int id = arg->id;
	char buf[NI_MAXHOST];
	size_t n;

	free(arg);
	pthread_mutex_lock(&sh->lock);
	for (;;) {
		struct answer *a;

		while (!sh->stop && !sh->queue_len)
			pthread_cond_wait(&sh->work, &sh->lock);
		if (sh->stop)
			break;
		a = calloc(1, sizeof(*a));
		if (!a) {
			/* the key stays queued; its records time out */
			pthread_mutex_unlock(&sh->lock);
			nanosleep(&(struct timespec){ .tv_nsec = 10000000L }, NULL);
			pthread_mutex_lock(&sh->lock);
			continue;
		}
		a->key = sh->queue[sh->queue_head];
		sh->queue_head = (sh->queue_head + 1) % sh->queue_max;
		sh->queue_len--;
		pthread_mutex_unlock(&sh->lock);

		/* a name too long to keep counts as none */
		buf[sizeof(buf) - 1] = '\0';
		if (!sh->resolve(&a->key, buf, sizeof(buf) - 1) &&
		    (n = strlen(buf)) <= TCL_RDNS_MAX) {
			a->named = true;
			memcpy(a->name, buf, n + 1);
		}

		pthread_mutex_lock(&sh->lock);
		a->next = sh->answers;
		sh->answers = a;
		(void)!write(sh->efd, &(__u64){ 1 }, sizeof(__u64));
	}
	sh->exited[id] = true;
	pthread_cond_broadcast(&sh->gone);
	pthread_mutex_unlock(&sh->lock);
	shared_unref(sh);
	return NULL;
}

static struct shared *shared_new(const struct rdns_opts *o)
{
	struct shared *sh = calloc(1, sizeof(*sh));

	if (!sh)
		return NULL;
	sh->resolve = o->resolve;
	sh->queue_max = o->queue_max ? o->queue_max : 1;
	sh->queue = calloc(sh->queue_max, sizeof(*sh->queue));
	sh->exited = calloc(o->threads, sizeof(*sh->exited));
	sh->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	sh->refs = 1;
	pthread_mutex_init(&sh->lock, NULL);
	pthread_cond_init(&sh->work, NULL);
	pthread_cond_init(&sh->gone, NULL);
	if (!sh->queue || !sh->exited || sh->efd < 0) {
		shared_unref(sh);
		return NULL;
	}
	return sh;
}

/* Workers with every signal blocked, so that SIGINT and the rest reach
 * the main thread's waits. 0, or an errno.
 */
static int start_workers(struct rdns *r, unsigned int n)
{
	sigset_t all, old;
	int err = 0;

	sigfillset(&all);
	pthread_sigmask(SIG_BLOCK, &all, &old);
	for (unsigned int i = 0; i < n && !err; i++) {
		struct worker_arg *arg = malloc(sizeof(*arg));

		if (!arg) {
			err = ENOMEM;
			break;
		}
		*arg = (struct worker_arg){ .sh = r->sh, .id = i };
		r->sh->refs++;	/* no worker runs yet that could race */
		err = pthread_create(&r->threads[i], NULL, worker, arg);
		if (err) {
			r->sh->refs--;
			free(arg);
		} else {
			r->sh->workers++;
		}
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return err;
}

struct rdns *rdns_new(const struct rdns_opts *o)
{
	struct rdns *r = calloc(1, sizeof(*r));
	int err;

	if (!r)
		return NULL;
	if (!o->threads) {
		free(r);
		errno = EINVAL;
		return NULL;
	}
	r->cache_max = o->cache_max ? o->cache_max : 1;
	r->positive_ttl_ns = o->positive_ttl_ns;
	r->negative_ttl_ns = o->negative_ttl_ns;
	r->threads = calloc(o->threads, sizeof(*r->threads));
	r->done = calloc(o->threads, sizeof(*r->done));
	if (!r->threads || !r->done || table_init(&r->by_key, sizeof(struct rdns_key),
				      sizeof(struct entry *), r->cache_max)) {
		free(r->threads);
		free(r->done);
		free(r);
		errno = ENOMEM;
		return NULL;
	}
	r->sh = shared_new(o);
	err = r->sh ? start_workers(r, o->threads) : ENOMEM;
	if (err) {
		rdns_free(r);
		errno = err;
		return NULL;
	}
	return r;
}

static void unlink_entry(struct rdns *r, struct entry *e)
{
	if (e->prev)
		e->prev->next = e->next;
	else
		r->newest = e->next;
	if (e->next)
		e->next->prev = e->prev;
	else
		r->oldest = e->prev;
	e->prev = e->next = NULL;
}

static void push_newest(struct rdns *r, struct entry *e)
{
	e->next = r->newest;
	if (r->newest)
		r->newest->prev = e;
	r->newest = e;
	if (!r->oldest)
		r->oldest = e;
}

static void drop_entry(struct rdns *r, struct entry *e)
{
	unlink_entry(r, e);
	table_remove(&r->by_key, &e->key);
	free(e->name);
	free(e);
}

/* now + ns on CLOCK_REALTIME, a condition variable's clock */
static struct timespec realtime_after(long ns)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ns += ts.tv_nsec;
	ts.tv_sec += ns / 1000000000L;
	ts.tv_nsec = ns % 1000000000L;
	return ts;
}

void rdns_free(struct rdns *r)
{
	struct shared *sh;
	struct timespec ts;

	if (!r)
		return;
	sh = r->sh;
	if (sh) {
		pthread_mutex_lock(&sh->lock);
		sh->stop = true;
		pthread_cond_broadcast(&sh->work);
		ts = realtime_after(RDNS_EXIT_GRACE_NS);
		for (;;) {
			unsigned int left = 0;

			for (unsigned int i = 0; i < sh->workers; i++)
				left += !sh->exited[i];
			if (!left || pthread_cond_timedwait(&sh->gone, &sh->lock, &ts) == ETIMEDOUT)
				break;
		}
		/* joined without the lock: a worker takes it once more to leave */
		for (unsigned int i = 0; i < sh->workers; i++)
			r->done[i] = sh->exited[i];
		pthread_mutex_unlock(&sh->lock);
		for (unsigned int i = 0; i < sh->workers; i++) {
			if (r->done[i])
				pthread_join(r->threads[i], NULL);
			else
				pthread_detach(r->threads[i]);
		}
		shared_unref(sh);
	}
	while (r->newest)
		drop_entry(r, r->newest);
	table_free(&r->by_key);
	free(r->threads);
	free(r->done);
	free(r);
}

struct rdns_key rdns_key_of(const struct tcl_event *ev)
{
	struct rdns_key k;

	memset(&k, 0, sizeof(k));
	k.ip = ev->ip;
	if (ev->ip == 4)
		k.addr.v4 = ev->daddr.v4;
	else
		memcpy(k.addr.v6, ev->daddr.v6, 16);
	return k;
}

int rdns_fd(const struct rdns *r)
{
	return r->sh->efd;
}

struct rdns_counts rdns_counts(const struct rdns *r)
{
	return r->counts;
}

/* Queue key for a worker: false when the queue is full. */
static bool request(struct rdns *r, const struct rdns_key *key)
{
	struct shared *sh = r->sh;
	bool queued = false;

	pthread_mutex_lock(&sh->lock);
	if (sh->queue_len < sh->queue_max) {
		sh->queue[(sh->queue_head + sh->queue_len) % sh->queue_max] = *key;
		sh->queue_len++;
		pthread_cond_signal(&sh->work);
		queued = true;
	}
	pthread_mutex_unlock(&sh->lock);
	return queued;
}

/* A new entry for key, the oldest one evicted to make room. */
static struct entry *add_entry(struct rdns *r, const struct rdns_key *key)
{
	struct entry *e, **slot;

	if (r->by_key.len >= r->cache_max && r->oldest) {
		drop_entry(r, r->oldest);
		r->counts.evictions++;
	}
	e = calloc(1, sizeof(*e));
	slot = e ? table_upsert(&r->by_key, key) : NULL;
	if (!slot) {
		free(e);
		return NULL;
	}
	e->key = *key;
	*slot = e;
	push_newest(r, e);
	return e;
}

static struct entry *find_entry(struct rdns *r, const struct rdns_key *key)
{
	struct entry **slot = table_find(&r->by_key, key);

	return slot ? *slot : NULL;
}

enum rdns_answer rdns_get(struct rdns *r, const struct rdns_key *key, __u64 now,
			  const char **name)
{
	struct entry *e = find_entry(r, key);

	*name = NULL;
	if (e && !e->pending && now >= e->expires_ns) {
		drop_entry(r, e);
		e = NULL;
	}
	if (!e) {
		/* looked up while the queue has room; else asked again by the
		 * next record that needs it
		 */
		if (!request(r, key))
			return RDNS_BUSY;
		r->counts.lookups++;
		e = add_entry(r, key);
		if (!e)
			return RDNS_WAIT;	/* the answer finds no entry: the record times out */
		e->pending = true;
		return RDNS_WAIT;
	}
	unlink_entry(r, e);
	push_newest(r, e);
	if (e->pending)
		return RDNS_WAIT;
	*name = e->name;
	return e->name ? RDNS_NAME : RDNS_NONE;
}

void rdns_collect(struct rdns *r, __u64 now)
{
	struct shared *sh = r->sh;
	struct answer *list;
	__u64 count;

	(void)!read(sh->efd, &count, sizeof(count));
	pthread_mutex_lock(&sh->lock);
	list = sh->answers;
	sh->answers = NULL;
	pthread_mutex_unlock(&sh->lock);

	while (list) {
		struct answer *a = list;
		struct entry *e = find_entry(r, &a->key);

		list = a->next;
		/* evicted while it was looked up: the answer is kept anyway */
		if (!e)
			e = add_entry(r, &a->key);
		if (e) {
			free(e->name);
			e->name = a->named ? strdup(a->name) : NULL;
			e->pending = false;
			e->expires_ns = now + (e->name ? r->positive_ttl_ns : r->negative_ttl_ns);
		}
		free(a);
	}
}
