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
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <linux/perf_event.h>
#include <sys/syscall.h>
#include <bpf/libbpf.h>
#include "kretprobe.h"
#include "preflight.h"

#define GROUP_PREFIX	"tcpconnlog_"
#define MAX_EVENTS	4
#define MAXACTIVE_MIN	256
#define MAXACTIVE_MAX	4096	/* the kernel's KRETPROBE_MAXACTIVE_MAX */

static char made[MAX_EVENTS][64];	/* "group/event" of our probes */
static int n_made;

static int write_kprobe_events(const char *line)
{
	char path[128];
	int fd, err = 0;

	snprintf(path, sizeof(path), "%s/kprobe_events", tracefs_root());
	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	if (write(fd, line, strlen(line)) < 0)
		err = -errno;
	close(fd);
	return err;
}

static void remove_event(const char *group_event)
{
	char line[160];

	snprintf(line, sizeof(line), "-:%.150s\n", group_event);
	write_kprobe_events(line);
}

static int event_id(const char *group_event)
{
	char path[192];
	FILE *f;
	int id = -1;

	snprintf(path, sizeof(path), "%s/events/%s/id", tracefs_root(), group_event);
	f = fopen(path, "re");
	if (!f)
		return -errno;
	if (fscanf(f, "%d", &id) != 1)
		id = -EINVAL;
	fclose(f);
	return id;
}

static int maxactive(void)
{
	long n = 16 * sysconf(_SC_NPROCESSORS_CONF);

	return n < MAXACTIVE_MIN ? MAXACTIVE_MIN : n > MAXACTIVE_MAX ? MAXACTIVE_MAX : n;
}

void kretprobes_sweep_stale(void)
{
	char path[128], line[256], group_event[128];
	FILE *f;
	int pid;

	snprintf(path, sizeof(path), "%s/kprobe_events", tracefs_root());
	f = fopen(path, "re");
	if (!f)
		return;
	/* lines look like "r256:tcpconnlog_1234/tcp_v4_connect tcp_v4_connect" */
	while (fgets(line, sizeof(line), f)) {
		char *colon = strchr(line, ':');

		if (!colon || sscanf(colon + 1, "%127s", group_event) != 1 ||
		    sscanf(group_event, GROUP_PREFIX "%d/", &pid) != 1 || pid <= 0)
			continue;
		if (pid == getpid() || !(kill(pid, 0) && errno == ESRCH))
			continue;
		remove_event(group_event);
	}
	fclose(f);
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
	group_event = made[n_made];
	snprintf(group_event, sizeof(made[0]), GROUP_PREFIX "%d/%s", getpid(), func);
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
	pfd = syscall(__NR_perf_event_open, &attr, -1, 0, -1, PERF_FLAG_FD_CLOEXEC);
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

unsigned long long kretprobes_missed(void)
{
	char path[128], line[256], name[128];
	unsigned long long hits, misses, total = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/kprobe_profile", tracefs_root());
	f = fopen(path, "re");
	if (!f)
		return 0;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "%127s %llu %llu", name, &hits, &misses) != 3)
			continue;
		for (int i = 0; i < n_made; i++)
			if (!strcmp(name, made[i]))
				total += misses;
	}
	fclose(f);
	return total;
}

void kretprobes_remove(void)
{
	/* the links (and their perf events) must be gone first: an event in
	 * use cannot be removed
	 */
	for (int i = 0; i < n_made; i++)
		remove_event(made[i]);
	n_made = 0;
}
