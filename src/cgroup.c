// SPDX-License-Identifier: GPL-2.0-only
// cgroup v2 ids to paths, by walks of the cgroup2 tree (cgroup.h says why).
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include "cgroup.h"

#define SLOTS ((size_t)2 * TCL_CGROUP_CACHE_MAX)	/* a power of two */
/* deeper directories are left out (no runtime nests this deep) */
#define WALK_DEPTH_MAX 32
/* the time between walks, in walks' costs */
#define WALK_SPACING 10
/* the inode (and id) of the cgroup2 hierarchy's root directory */
#define CGROUP2_ROOT_INO 1

struct cgroup_entry {
	__u64 id;		/* 0: a free slot */
	char *path;
	bool has_container;
	char container[TCL_CONTAINER_ID_LEN + 1];
};

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (__u64)ts.tv_sec * 1000000000ULL + (__u64)ts.tv_nsec;
}

static struct cgroup_entry *slot_of(struct cgroups *cg, __u64 id)
{
	unsigned int i = (unsigned int)((id * 0x9e3779b97f4a7c15ULL) >> 40) & (SLOTS - 1);

	while (cg->slots[i].id && cg->slots[i].id != id)
		i = (i + 1) & (SLOTS - 1);
	return &cg->slots[i];
}

static void clear_cache(struct cgroups *cg)
{
	for (unsigned int i = 0; i < SLOTS; i++) {
		free(cg->slots[i].path);
		cg->slots[i].path = NULL;
		cg->slots[i].id = 0;
	}
	cg->used = 0;
}

/* Cache id's path; when full, only the id the walk looks for (one past
 * the bound: the table has room).
 */
static void remember(struct cgroups *cg, __u64 id, const char *path, __u64 want)
{
	struct cgroup_entry *e = slot_of(cg, id);
	char *copy;

	path += cg->shown_from;
	if (!*path)
		path = "/";
	if (e->id && strcmp(e->path, path) == 0)
		return;
	if (!e->id && cg->used >= TCL_CGROUP_CACHE_MAX && id != want)
		return;
	copy = strdup(path);
	if (!copy)
		return;
	if (!e->id)
		cg->used++;
	free(e->path);
	e->id = id;
	e->path = copy;
	e->has_container = container_id_from_path(path, e->container, sizeof(e->container));
}

/* Every directory below dirfd (taken over and closed), path its name
 * with len bytes in a PATH_MAX buffer.
 */
// NOLINTNEXTLINE(misc-no-recursion): as deep as the tree, WALK_DEPTH_MAX at most
static void walk(struct cgroups *cg, int fd, char *path, size_t len, int depth, __u64 want)
{
	DIR *d = fdopendir(fd);
	struct dirent *de;

	if (!d) {
		close(fd);
		return;
	}
	/* cppcheck-suppress readdirCalled ; one thread reads each DIR (readdir_r is deprecated) */
	while ((de = readdir(d))) {
		size_t n = strlen(de->d_name);
		struct stat st;

		if (de->d_name[0] == '.' && (n == 1 || (n == 2 && de->d_name[1] == '.')))
			continue;
		if (de->d_type == DT_UNKNOWN &&
		    fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		    S_ISDIR(st.st_mode))
			de->d_type = DT_DIR;
		if (de->d_type != DT_DIR || len + 1 + n >= PATH_MAX)
			continue;
		path[len] = '/';
		memcpy(path + len + 1, de->d_name, n + 1);
		remember(cg, de->d_ino, path, want);
		/* a directory's links are 2 and one per subdirectory: a
		 * leaf (most cgroups) costs a stat, not an open and a read
		 * of its dozens of files
		 */
		if (depth < WALK_DEPTH_MAX &&
		    !(fstatat(dirfd(d), de->d_name, &st, AT_SYMLINK_NOFOLLOW) == 0 &&
		      st.st_nlink == 2)) {
			int sub = openat(dirfd(d), de->d_name,
					 O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);

			if (sub >= 0)
				walk(cg, sub, path, len + 1 + n, depth + 1, want);
		}
		path[len] = '\0';
	}
	closedir(d);
}

/* A walk for id want: every cgroup cached, up to the bound. */
static void walk_all(struct cgroups *cg, __u64 want)
{
	static char path[PATH_MAX];
	size_t len = strlen(cg->root);
	struct stat st;
	int fd;

	cg->walks++;
	/* full (of cgroups since removed, or of a host with more than it
	 * holds): start over, so that it holds those of now
	 */
	if (cg->used >= TCL_CGROUP_CACHE_MAX)
		clear_cache(cg);
	memcpy(path, cg->root, len + 1);
	if (fstat(cg->root_fd, &st) == 0)
		remember(cg, st.st_ino, len ? path : "/", want);
	/* a descriptor of its own: each walk reads the root from its start */
	fd = openat(cg->root_fd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0)
		walk(cg, fd, path, len, 0, want);
}

/* The cgroup of thread tid of process pid, as /proc tells it: cached
 * when it is still id's (the thread may have moved or gone since).
 */
static void ask_proc(struct cgroups *cg, __u64 id, __u32 pid, __u32 tid)
{
	char file[64], line[PATH_MAX + 8];
	size_t rootlen = strlen(cg->root);
	const char *rel;
	struct stat st;
	FILE *f;
	bool found = false;

	snprintf(file, sizeof(file), "/proc/%u/task/%u/cgroup", pid, tid);
	f = fopen(file, "re");
	if (!f)
		return;
	/* the v2 hierarchy's line is "0::/path" */
	while (!found && fgets(line, sizeof(line), f))
		found = strncmp(line, "0::/", 4) == 0;
	(void)fclose(f);
	if (!found)
		return;
	line[strcspn(line, "\n")] = '\0';
	rel = line + 3;
	if (rootlen) {
		if (strncmp(rel, cg->root, rootlen) != 0 || (rel[rootlen] && rel[rootlen] != '/'))
			return;
		rel += rootlen;
	}
	while (*rel == '/')
		rel++;
	if (fstatat(cg->root_fd, *rel ? rel : ".", &st, AT_SYMLINK_NOFOLLOW) == 0 &&
	    st.st_ino == id)
		remember(cg, id, line + 3, id);
}

const char *cgroups_path(struct cgroups *cg, __u64 id, __u32 pid, __u32 tid,
			 const char **container)
{
	struct cgroup_entry *e;

	if (container)
		*container = NULL;
	if (!id || cg->root_fd < 0)
		return NULL;
	e = slot_of(cg, id);
	if (!e->id && pid) {
		cg->proc_reads++;
		ask_proc(cg, id, pid, tid);
		e = slot_of(cg, id);
	}
	if (!e->id) {
		__u64 start = mono_ns();

		if (start < cg->next_walk_ns) {
			cg->misses++;
			return NULL;
		}
		walk_all(cg, id);
		cg->next_walk_ns = start + (mono_ns() - start) * (WALK_SPACING + 1);
		e = slot_of(cg, id);
		if (!e->id) {
			cg->misses++;
			return NULL;
		}
	}
	if (container && e->has_container)
		*container = e->container;
	return e->path;
}

/* mountinfo escapes space, tab, newline and backslash as \ooo */
static void unescape(char *s)
{
	char *o = s;

	for (; *s; s++) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' && s[2] >= '0' && s[2] <= '7' &&
		    s[3] >= '0' && s[3] <= '7') {
			*o++ = (char)((s[1] - '0') << 6 | (s[2] - '0') << 3 | (s[3] - '0'));
			s += 3;
		} else {
			*o++ = *s;
		}
	}
	*o = '\0';
}

bool cgroups_find_mount(const char *mountinfo, char *mnt, size_t mntsz, char *root,
			size_t rootsz)
{
	FILE *f = fopen(mountinfo ? mountinfo : "/proc/self/mountinfo", "re");
	char *line = NULL;
	size_t cap = 0;
	bool found = false;

	if (!f)
		return false;
	while (!found && getline(&line, &cap, f) > 0) {
		char *save = NULL, *field[5], *tok, *dash;
		int n = 0;

		/* id parent major:minor root mount-point ... - fstype source ... */
		dash = strstr(line, " - ");
		if (!dash || strncmp(dash + 3, "cgroup2 ", 8) != 0)
			continue;
		*dash = '\0';
		for (tok = strtok_r(line, " ", &save); tok && n < 5; tok = strtok_r(NULL, " ", &save))
			field[n++] = tok;
		if (n < 5)
			continue;
		unescape(field[3]);
		unescape(field[4]);
		if (!strcmp(field[3], "/"))
			field[3][0] = '\0';
		if (strlen(field[4]) >= mntsz || strlen(field[3]) >= rootsz)
			continue;
		memcpy(mnt, field[4], strlen(field[4]) + 1);
		memcpy(root, field[3], strlen(field[3]) + 1);
		found = true;
	}
	free(line);
	(void)fclose(f);
	return found;
}

int cgroups_open_dir(struct cgroups *cg, const char *dir)
{
	memset(cg, 0, sizeof(*cg));
	cg->root_fd = -1;
	cg->slots = calloc(SLOTS, sizeof(*cg->slots));
	if (!cg->slots)
		return -1;
	if (dir)
		cg->root_fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	return 0;
}

int cgroups_open(struct cgroups *cg, const char *mountinfo)
{
	char mnt[PATH_MAX], root[sizeof(cg->root)];
	struct stat st;
	bool found = cgroups_find_mount(mountinfo, mnt, sizeof(mnt), root, sizeof(root));

	if (!found)
		root[0] = '\0';
	if (cgroups_open_dir(cg, found ? mnt : NULL))
		return -1;
	memcpy(cg->root, root, sizeof(root));
	/* In a cgroup namespace of its own (a container's), /proc and
	 * mountinfo give paths from the namespace's root: "/../.." for
	 * the node's hierarchy bound in, as a DaemonSet does. When that
	 * mount is the hierarchy's root (inode 1), paths are shown from
	 * it, as the host names them.
	 */
	if (found && strncmp(root, "/..", 3) == 0 && (!root[3] || root[3] == '/') &&
	    fstat(cg->root_fd, &st) == 0 && st.st_ino == CGROUP2_ROOT_INO)
		cg->shown_from = strlen(root);
	return 0;
}

void cgroups_close(struct cgroups *cg)
{
	/* never opened (a zeroed struct): nothing to close, fd 0 least of all */
	if (!cg->slots)
		return;
	clear_cache(cg);
	free(cg->slots);
	cg->slots = NULL;
	if (cg->root_fd >= 0)
		close(cg->root_fd);
	cg->root_fd = -1;
}
