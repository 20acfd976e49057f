/* SPDX-License-Identifier: GPL-2.0-only */
/* cgroup v2 ids (the kernel's, in each record) as paths, and the
 * container each path names.
 *
 * The id of a cgroup is the inode number of its directory in the cgroup2
 * file system. An id not cached yet is looked up first in the process
 * that made the record (/proc/PID/task/TID/cgroup names the path, the
 * directory's inode confirms it): one small read. When the process is
 * gone or has moved, a walk of the tree maps every id to its path: at
 * most one walk per ten times the last walk's cost, so that walks never
 * take more than a tenth of the time however many records miss.
 *
 * open_by_handle_at() would find one id without a walk, but it needs
 * CAP_DAC_READ_SEARCH, which the tracer drops before it reads records;
 * the walk needs only the root directory's descriptor, opened before the
 * drop, and the read and search rights every user has on cgroup
 * directories.
 */
#ifndef TCL_CGROUP_H
#define TCL_CGROUP_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "container.h"

/* ids cached at once (and the one looked for); a walk that finds the
 * cache full starts it over */
#define TCL_CGROUP_CACHE_MAX 4096

struct cgroup_entry;

struct cgroups {
	int root_fd;		/* the cgroup2 mount's root, -1 when none */
	char root[256];		/* its root within the hierarchy (mountinfo), "" for "/" */
	size_t shown_from;	/* paths are shown from this byte of root on (below) */
	struct cgroup_entry *slots;	/* open addressing, 2 * TCL_CGROUP_CACHE_MAX */
	unsigned int used;
	__u64 next_walk_ns;	/* no walk before this (CLOCK_MONOTONIC) */
	unsigned long long proc_reads, walks, misses;
};

/* The cgroup2 mount in MOUNTINFO (/proc/self/mountinfo when NULL), its
 * root opened now (before privileges go). 0, also when there is no
 * cgroup2 mount (every path is then unknown); -1 when out of memory.
 */
int cgroups_open(struct cgroups *cg, const char *mountinfo);
/* The same over any directory taken as the root (the tests' trees). */
int cgroups_open_dir(struct cgroups *cg, const char *dir);
/* Also right for a zeroed struct that was never opened. */
void cgroups_close(struct cgroups *cg);

/* The path of cgroup ID ("/", "/libpod_parent/libpod-<id>"), NULL when
 * unknown; *container (if not NULL) the container id in it, or NULL.
 * PID and TID: the process and thread the record is of (0 when none).
 * Both stay valid until the next call.
 */
const char *cgroups_path(struct cgroups *cg, __u64 id, __u32 pid, __u32 tid,
			 const char **container);

/* The mount point of the first cgroup2 file system in MOUNTINFO, with
 * its root within the hierarchy; false when there is none.
 */
bool cgroups_find_mount(const char *mountinfo, char *mnt, size_t mntsz, char *root,
			size_t rootsz);

#endif
