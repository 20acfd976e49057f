// SPDX-License-Identifier: GPL-2.0-only
/* loadgen: a connect storm for benchmarks. It listens on loopback, and its
 * client threads connect there and close, as fast as they can, N times in
 * all; one JSON line gives the rate. Run it with and without tcpconnlog to
 * measure what the tracer costs each connect.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define ACCEPTORS	2	/* so that one busy in close() does not stall the queue */
#define BACKLOG		4096	/* a full queue drops SYNs: 1 s retransmit stalls */
#define MAX_THREADS	1024
#define MAX_CONNECTIONS	(ULONG_MAX / 2)	/* the claim counter runs past it */
#define COMM_LEN	16	/* the kernel's TASK_COMM_LEN, NUL included */

struct config {
	unsigned int threads;
	unsigned long connections;
	bool v6;
	bool graceful;
	const char *comm;
};

union addr {
	struct sockaddr sa;
	struct sockaddr_in in;
	struct sockaddr_in6 in6;
};

struct run {
	const struct config *cfg;
	union addr addr;		/* the listener's, port included */
	socklen_t addrlen;
	int listen_fd;
	pthread_barrier_t start;
	struct timespec t0;		/* when the barrier opened */
	atomic_ulong claimed;		/* attempts handed out so far */
	atomic_int first_err;		/* errno of the first failure, 0 if none */
	atomic_bool stopping;		/* the listener is being shut down */
};

struct tally {
	unsigned long established;
	unsigned long failed;
	struct timespec end;		/* when the (last) client finished */
};

struct client {
	pthread_t tid;
	struct run *run;
	struct tally tally;
};

static const char usage_text[] =
"Usage: loadgen [-t THREADS] [-n CONNECTIONS] [-6] [--graceful] [--comm NAME]\n"
"Defaults: 2 threads, 100000 connections to 127.0.0.1, RST on close, comm tcl-loadgen\n";

__attribute__((format(printf, 1, 2), noreturn))
static void usage_error(const char *fmt, ...)
{
	va_list ap;

	fputs("loadgen: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputs(" (see loadgen --help)\n", stderr);
	exit(2);
}

/* A whole decimal number in [1, max]; strtoul alone takes blanks and signs. */
static bool parse_count(const char *s, unsigned long max, unsigned long *out)
{
	unsigned long v;
	char *end;

	if (*s < '0' || *s > '9')
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v == 0 || v > max)
		return false;
	*out = v;
	return true;
}

static void parse_args(int argc, char **argv, struct config *cfg)
{
	static const struct option longopts[] = {
		{ "graceful", no_argument, NULL, 'g' },
		{ "comm", required_argument, NULL, 'c' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	unsigned long v;
	int opt;

	/* the leading ':' lets us tell a missing value from an unknown option */
	while ((opt = getopt_long(argc, argv, ":t:n:6h", longopts, NULL)) != -1) {
		switch (opt) {
		case 't':
			if (!parse_count(optarg, MAX_THREADS, &v))
				usage_error("-t: '%s' is not a thread count from 1 to %d",
					    optarg, MAX_THREADS);
			cfg->threads = v;
			break;
		case 'n':
			if (!parse_count(optarg, MAX_CONNECTIONS, &cfg->connections))
				usage_error("-n: '%s' is not a count from 1 to %lu",
					    optarg, MAX_CONNECTIONS);
			break;
		case '6':
			cfg->v6 = true;
			break;
		case 'g':
			cfg->graceful = true;
			break;
		case 'c':
			/* longer names would be cut short, and a filter on them miss */
			if (!*optarg || strlen(optarg) >= COMM_LEN)
				usage_error("--comm: '%s' must be 1 to %d characters",
					    optarg, COMM_LEN - 1);
			cfg->comm = optarg;
			break;
		case 'h':
			fputs(usage_text, stdout);
			exit(0);
		case ':':
			usage_error("%s needs a value", argv[optind - 1]);
		default:
			usage_error("unknown option '%s'", argv[optind - 1]);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
}

/* Harmless if it fails: a run holds only a few sockets per thread. */
static void raise_nofile_limit(void)
{
	struct rlimit rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}

/* Port 0: the kernel picks a free one, and getsockname says which. */
static int open_listener(struct run *run)
{
	bool v6 = run->cfg->v6;
	int fd;

	if (v6)
		run->addr.in6 = (struct sockaddr_in6){ .sin6_family = AF_INET6,
						       .sin6_addr = IN6ADDR_LOOPBACK_INIT };
	else
		run->addr.in = (struct sockaddr_in){ .sin_family = AF_INET,
						     .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	run->addrlen = sizeof(run->addr);
	fd = socket(run->addr.sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || bind(fd, &run->addr.sa, run->addrlen) || listen(fd, BACKLOG) ||
	    getsockname(fd, &run->addr.sa, &run->addrlen)) {
		fprintf(stderr, "loadgen: cannot listen on %s: %s%s\n", v6 ? "::1" : "127.0.0.1",
			strerror(errno), v6 ? " (is IPv6 disabled? drop -6)" : "");
		if (fd >= 0)
			close(fd);
		return -1;
	}
	run->listen_fd = fd;
	return 0;
}

/* The barrier's serial thread notes the start time as it lets the others go. */
static void wait_for_start(struct run *run)
{
	if (pthread_barrier_wait(&run->start) == PTHREAD_BARRIER_SERIAL_THREAD)
		clock_gettime(CLOCK_MONOTONIC, &run->t0);
}

/* Accept and close at once: what is measured is the client's connect. */
static void *acceptor_main(void *arg)
{
	struct run *run = arg;
	int fd;

	wait_for_start(run);
	for (;;) {
		fd = accept4(run->listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0)
			close(fd);
		else if (atomic_load(&run->stopping))
			return NULL;
	}
}

/* One attempt: 0 if connect() succeeded, else its errno (or socket()'s). */
static int connect_once(const struct run *run)
{
	static const struct linger abortive = { .l_onoff = 1, .l_linger = 0 };
	int fd, err = 0;

	fd = socket(run->addr.sa.sa_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return errno;
	if (connect(fd, &run->addr.sa, run->addrlen))
		err = errno;
	/* RST, not FIN: no TIME_WAIT, so long runs do not run out of ports */
	if (!run->cfg->graceful)
		setsockopt(fd, SOL_SOCKET, SO_LINGER, &abortive, sizeof(abortive));
	close(fd);
	return err;
}

static void *client_main(void *arg)
{
	struct client *c = arg;
	struct run *run = c->run;
	int err, none;

	prctl(PR_SET_NAME, run->cfg->comm);
	wait_for_start(run);
	/* one claim per attempt: the total is exact however the threads race */
	while (atomic_fetch_add(&run->claimed, 1) < run->cfg->connections) {
		err = connect_once(run);
		if (!err) {
			c->tally.established++;
			continue;
		}
		c->tally.failed++;
		none = 0;
		atomic_compare_exchange_strong(&run->first_err, &none, err);
	}
	clock_gettime(CLOCK_MONOTONIC, &c->tally.end);
	return NULL;
}

static void start_thread(pthread_t *tid, void *(*fn)(void *), void *arg)
{
	int err = pthread_create(tid, NULL, fn, arg);

	if (err) {
		fprintf(stderr, "loadgen: cannot start a thread: %s (try a smaller -t)\n",
			strerror(err));
		exit(1);
	}
}

/* The clients, the acceptors and this thread meet at the barrier. */
static void start_threads(struct run *run, pthread_t *acceptors, struct client *clients)
{
	unsigned int n = run->cfg->threads;

	pthread_barrier_init(&run->start, NULL, n + ACCEPTORS + 1);
	for (int i = 0; i < ACCEPTORS; i++)
		start_thread(&acceptors[i], acceptor_main, run);
	for (unsigned int i = 0; i < n; i++) {
		clients[i].run = run;
		start_thread(&clients[i].tid, client_main, &clients[i]);
	}
}

static double seconds_between(const struct timespec *a, const struct timespec *b)
{
	return (b->tv_sec - a->tv_sec) + (b->tv_nsec - a->tv_nsec) / 1e9;
}

/* Sums the clients' counts; the end is the last one's. */
static void join_clients(struct client *clients, unsigned int n, struct tally *sum)
{
	for (unsigned int i = 0; i < n; i++) {
		struct tally *t = &clients[i].tally;

		pthread_join(clients[i].tid, NULL);
		sum->established += t->established;
		sum->failed += t->failed;
		if (seconds_between(&sum->end, &t->end) > 0)
			sum->end = t->end;
	}
}

/* Shutting the listener down wakes accept4() with EINVAL. */
static void stop_acceptors(struct run *run, pthread_t *acceptors)
{
	atomic_store(&run->stopping, true);
	shutdown(run->listen_fd, SHUT_RD);
	for (int i = 0; i < ACCEPTORS; i++)
		pthread_join(acceptors[i], NULL);
	close(run->listen_fd);
}

static void report(const struct run *run, const struct tally *sum)
{
	double secs = seconds_between(&run->t0, &sum->end);
	unsigned long n = run->cfg->connections;

	if (sum->failed) {
		int err = atomic_load(&run->first_err);
		const char *name = strerrorname_np(err);

		fprintf(stderr, "loadgen: %lu connects failed, the first with %s (%s)\n",
			sum->failed, name ? name : "an unknown errno", strerror(err));
	}
	printf("{\"connections\":%lu,\"established\":%lu,\"failed\":%lu,\"threads\":%u,"
	       "\"seconds\":%.6f,\"per_second\":%.1f,\"pid\":%d}\n",
	       n, sum->established, sum->failed, run->cfg->threads, secs,
	       secs > 0 ? n / secs : 0.0, (int)getpid());
}

int main(int argc, char **argv)
{
	struct config cfg = { .threads = 2, .connections = 100000, .comm = "tcl-loadgen" };
	struct run run = { .cfg = &cfg };
	pthread_t acceptors[ACCEPTORS];
	struct tally sum = { 0 };
	static struct client clients[MAX_THREADS];

	parse_args(argc, argv, &cfg);
	/* before any thread starts, so that the acceptors inherit it too */
	prctl(PR_SET_NAME, cfg.comm);
	raise_nofile_limit();
	if (open_listener(&run))
		return 1;
	start_threads(&run, acceptors, clients);
	wait_for_start(&run);
	join_clients(clients, cfg.threads, &sum);
	/* after the acceptors' join: one of them may have written run.t0 */
	stop_acceptors(&run, acceptors);
	report(&run, &sum);
	return sum.failed ? 1 : 0;
}
