// SPDX-License-Identifier: GPL-2.0-only
/*
 * Return probes with room for many threads at once.
 *
 * A kretprobe holds one "instance" per call in flight; a call that finds
 * none free loses its return. The default number is the CPU count on
 * kernels without CONFIG_PREEMPTION (Debian 5.10: 2 here), which a handful
 * of threads connecting at once exceed. The perf kprobe PMU cannot ask for
 * more, the tracefs kprobe_events interface can ("r<N>:"). So the return
 * probes are made there, in a group named after our pid, and removed when
 * we exit; groups left by a process that was killed are removed at start.
 * The files used after the attach stay open from then on: by the time we
 * remove the probes, we no longer have the rights to open tracefs.
 *
 * kill -9 runs none of our code, and these probes are not held by a
 * descriptor: a small helper process, forked once they exist, waits for
 * our end and removes them then (see start_reaper()).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <bpf/libbpf.h>
#include "kretprobe.h"
#include "parse.h"
#include "preflight.h"

#define GROUP_PREFIX	"tcpconnlog_"
#define MAX_EVENTS	4
#define MAXACTIVE_MIN	256
#define MAXACTIVE_MAX	4096	/* the kernel's KRETPROBE_MAXACTIVE_MAX */

static char made[MAX_EVENTS][64];	/* "group/event" of our probes */
static int n_made;
static int events_fd = -1;	/* kprobe_events, for writing */
static FILE *profile;		/* kprobe_profile: hits and misses */

static int open_tracefs_files(void)
{
	char path[128];

	if (events_fd >= 0)
		return 0;
	snprintf(path, sizeof(path), "%s/kprobe_events", tracefs_root());
	events_fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (events_fd < 0)
		return -errno;
	snprintf(path, sizeof(path), "%s/kprobe_profile", tracefs_root());
	profile = fopen(path, "re");
	return 0;
}

static int write_kprobe_events(const char *line)
{
	if (events_fd < 0)
		return -EBADF;
	return write(events_fd, line, strlen(line)) < 0 ? -errno : 0;
}

static int remove_event(const char *group_event)
{
	char line[160];

	snprintf(line, sizeof(line), "-:%.150s\n", group_event);
	return write_kprobe_events(line);
}

static int event_id(const char *group_event)
{
	char path[192], line[32];
	unsigned long long v;
	FILE *f;
	int id;

	snprintf(path, sizeof(path), "%s/events/%s/id", tracefs_root(), group_event);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	line[strcspn(line, "\n")] = '\0';
	if (parse_u64(line, 0, INT_MAX, &v))
		id = -EINVAL;
	else
		id = (int)v;
	(void)fclose(f);	/* read only */
	return id;
}

/* TCPCONNLOG_KRETPROBE_MAXACTIVE=N (1 to 4096), not documented for
 * users, replaces the computed number: tests set it below the number of
 * calls in flight to make the kernel miss returns, and check they are
 * counted.
 */
static int maxactive(void)
{
	const char *forced = getenv("TCPCONNLOG_KRETPROBE_MAXACTIVE");
	long n = 16 * sysconf(_SC_NPROCESSORS_CONF);
	unsigned long long v;

	if (forced && !parse_u64(forced, 1, MAXACTIVE_MAX, &v))
		return (int)v;

	return n < MAXACTIVE_MIN ? MAXACTIVE_MIN : n > MAXACTIVE_MAX ? MAXACTIVE_MAX : (int)n;
}

void kretprobes_sweep_stale(void)
{
	char path[128], line[256];
	FILE *f;

	if (open_tracefs_files())
		return;
	snprintf(path, sizeof(path), "%s/kprobe_events", tracefs_root());
	f = fopen(path, "re");
	if (!f)
		return;
	/* lines look like "r256:tcpconnlog_1234/tcp_v4_connect tcp_v4_connect" */
	while (fgets(line, sizeof(line), f)) {
		char *group = strchr(line, ':'), *slash;
		unsigned long long pid;
		int bad;

		if (!group || strncmp(++group, GROUP_PREFIX, strlen(GROUP_PREFIX)) != 0)
			continue;
		group[strcspn(group, " \n")] = '\0';
		slash = strchr(group, '/');
		if (!slash)
			continue;
		*slash = '\0';
		bad = parse_u64(group + strlen(GROUP_PREFIX), 1, INT_MAX, &pid);
		*slash = '/';
		if (bad || (pid_t)pid == getpid() || !(kill((pid_t)pid, 0) && errno == ESRCH))
			continue;
		remove_event(group);
	}
	(void)fclose(f);	/* read only */
}

struct bpf_link *kretprobe_attach(struct bpf_program *prog, const char *func)
{
	struct perf_event_attr attr = { .size = sizeof(attr), .type = PERF_TYPE_TRACEPOINT };
	char *group_event, line[192];
	struct bpf_link *link;
	int id, pfd, err;

	if (n_made == MAX_EVENTS) {
		errno = ENOSPC;
		return NULL;
	}
	err = open_tracefs_files();
	if (err) {
		errno = -err;
		return NULL;
	}
	group_event = made[n_made];
	/* the event's name is unique too: kprobe_profile names only the
	 * event on older kernels (5.10), the group also on newer ones
	 */
	snprintf(group_event, sizeof(made[0]), GROUP_PREFIX "%d/%s_%d", getpid(), func,
		 getpid());
	snprintf(line, sizeof(line), "r%d:%s %s\n", maxactive(), group_event, func);
	err = write_kprobe_events(line);
	if (err) {
		errno = -err;
		return NULL;
	}
	n_made++;
	id = event_id(group_event);
	if (id < 0) {
		errno = -id;
		return NULL;
	}
	attr.config = id;
	pfd = (int)syscall(__NR_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
	if (pfd < 0)
		return NULL;
	link = bpf_program__attach_perf_event(prog, pfd);
	if (!link) {
		err = errno;
		close(pfd);
		errno = err;
	}
	return link;
}

/* Is the kprobe_profile line's name ours? The line names the event
 * ("  event  hits  misses", Linux 5.10) or its group too ("  group
 * event  hits  misses", newer kernels).
 */
static bool is_ours(const char *group, const char *event)
{
	for (int i = 0; i < n_made; i++) {
		const char *slash = strchr(made[i], '/');

		if (!slash || strcmp(slash + 1, event) != 0)
			continue;
		if (!group || ((size_t)(slash - made[i]) == strlen(group) &&
			       !strncmp(made[i], group, slash - made[i])))
			return true;
	}
	return false;
}

unsigned long long kretprobes_missed(void)
{
	char line[256];
	unsigned long long total = 0;

	if (!profile || n_made == 0)
		return 0;
	/* a fresh read of the kernel's table each time */
	rewind(profile);
	while (fgets(line, sizeof(line), profile)) {
		char *field[5], *save = NULL;
		unsigned long long n;
		int nf = 0;

		for (char *f = strtok_r(line, " \n", &save); f && nf < 5;
		     f = strtok_r(NULL, " \n", &save))
			field[nf++] = f;
		if ((nf != 3 && nf != 4) || parse_u64(field[nf - 1], 0, ~0ULL, &n))
			continue;
		if (is_ours(nf == 4 ? field[0] : NULL, field[nf - 3]))
			total += n;
	}
	return total;
}

/* Remove our probes. Each stays busy (EBUSY) while a perf event on it
 * is open anywhere (a dead tracer's until the kernel releases them; ours
 * in the helper until it has closed its copies, just after the fork), so
 * it is retried for up to 5 s; ENOENT means it is gone already.
 */
static void remove_made(void)
{
	int left = n_made;

	for (int tries = 0; left && tries < 250; tries++) {
		left = 0;
		for (int i = 0; i < n_made; i++) {
			int err = made[i][0] ? remove_event(made[i]) : 0;

			if (err == -EBUSY)
				left++;
			else
				made[i][0] = '\0';
		}
		if (left)
			nanosleep(&(struct timespec){ .tv_nsec = 20000000L }, NULL);
	}
}

/* In the helper: once the tracer is gone, remove its probes. */
_Noreturn static void reap_after_tracer(int pipe_fd)
{
	char c;

	while (read(pipe_fd, &c, 1) != 0 && errno == EINTR)
		;
	remove_made();
	_exit(0);
}

/* The helper keeps only the write end of kprobe_events and the read end of
 * a pipe whose other end the tracer holds: it sees EOF when the tracer
 * exits, however it exits. It keeps no BPF descriptor, which would keep
 * the programs attached, and ignores the terminal's signals, which are
 * for the tracer.
 */
void kretprobes_start_reaper(void)
{
	int fds[2];
	pid_t pid;

	if (!n_made || pipe2(fds, O_CLOEXEC))
		return;
	pid = fork();
	if (pid == 0) {
		int devnull = open("/dev/null", O_RDWR);
		int lo = fds[0] < events_fd ? fds[0] : events_fd;
		int hi = fds[0] < events_fd ? events_fd : fds[0];

		(void)signal(SIGINT, SIG_IGN);
		(void)signal(SIGTERM, SIG_IGN);
		(void)signal(SIGHUP, SIG_IGN);
		prctl(PR_SET_NAME, "tcpconnlog-reap");
		for (int fd = 0; fd < 3; fd++)
			dup2(devnull, fd);
		/* everything but the pipe's read end and kprobe_events */
		close_range(3, lo - 1, 0);
		close_range(lo + 1, hi - 1, 0);
		close_range(hi + 1, ~0U, 0);
		reap_after_tracer(fds[0]);
	}
	close(fds[0]);
	/* held open until we exit; close-on-exec */
	if (pid < 0)
		close(fds[1]);
}

void kretprobes_remove(void)
{
	/* the links (and their perf events) must be gone first: an event in
	 * use cannot be removed
	 */
	remove_made();
	n_made = 0;
	if (profile)
		(void)fclose(profile);	/* read only */
	profile = NULL;
	if (events_fd >= 0)
		close(events_fd);
	events_fd = -1;
}
