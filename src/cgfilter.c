// SPDX-License-Identifier: GPL-2.0-only
/*
 * The filters on where a process runs. The kernel side tests them with
 * maps: a CGROUP_ARRAY holding the cgroup of --cgroup or --container (its
 * subtree test covers the directories below), and for --cgroupmap and
 * --mntnsmap the user's own pinned hash maps, as bcc's tools take them.
 */
#include <errno.h>
#include <fcntl.h>
#include <fts.h>
#include <limits.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <linux/magic.h>
#include <linux/nsfs.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "cgfilter.h"
#include "cgroup.h"
#include "container.h"
#include "strbuf.h"

/* cgroup trees are shallow; this only bounds a pathological one */
#define WALK_DEPTH_MAX 64
/* candidates listed when a prefix is ambiguous */
#define LISTED_MAX 4

static int cgroup2_mount(char *path, size_t len, char *why, size_t whylen)
{
	char root[PATH_MAX];

	if (cgroups_find_mount(NULL, path, len, root, sizeof(root)))
		return 0;
	snprintf(why, whylen, "no cgroup2 file system is mounted: --cgroup and --container "
		 "need one (mount -t cgroup2 none /sys/fs/cgroup)");
	return 1;
}

/* dir, opened, if it is a directory of a cgroup2 file system */
static int open_cgroup2_dir(const char *dir)
{
	struct statfs st;
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

	if (fd >= 0 && (fstatfs(fd, &st) || st.f_type != CGROUP2_SUPER_MAGIC)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* --cgroup: a cgroup2 directory as a file path, or a path under the
 * cgroup2 mount ("/a/b" as /proc/PID/cgroup writes it, or "a/b").
 */
static int open_cgroup_arg(const char *arg, int *fd, char *why, size_t len)
{
	char mnt[PATH_MAX], dir[PATH_MAX];
	const char *rel = arg;
	int err;

	if (arg[0] == '/') {
		*fd = open_cgroup2_dir(arg);
		if (*fd >= 0)
			return 0;
	}
	err = cgroup2_mount(mnt, sizeof(mnt), why, len);
	if (err)
		return err;
	while (*rel == '/')
		rel++;
	if (snprintf(dir, sizeof(dir), "%s/%s", mnt, rel) >= (int)sizeof(dir)) {
		snprintf(why, len, "--cgroup path too long");
		return 2;
	}
	*fd = open_cgroup2_dir(dir);
	if (*fd >= 0)
		return 0;
	snprintf(why, len, "no cgroup v2 directory '%s' (nor %s): give one under %s, "
		 "or a path relative to it", arg, dir, mnt);
	return 2;
}

/* "populated 1" in cgroup.events: some process runs in it or below */
static bool populated(const char *dir)
{
	char path[PATH_MAX], buf[256];
	ssize_t n;
	int fd;

	if (snprintf(path, sizeof(path), "%s/cgroup.events", dir) >= (int)sizeof(path))
		return false;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	return strstr(buf, "populated 1") != NULL;
}

struct container_hits {
	unsigned int found;	/* distinct ids (counted again past the list) */
	struct {
		char id[TCL_CONTAINER_ID_LEN + 1];
		char dir[PATH_MAX];
	} hit[LISTED_MAX];
};

/* A cgroup named after a container whose id starts with the prefix; its
 * topmost directory is kept (below it are the container's own cgroups).
 */
static void note_container(struct container_hits *h, const char *id, const char *dir)
{
	unsigned int i;

	for (i = 0; i < LISTED_MAX && i < h->found; i++) {
		if (strcmp(h->hit[i].id, id) != 0)
			continue;
		if (strlen(dir) < strlen(h->hit[i].dir))
			snprintf(h->hit[i].dir, sizeof(h->hit[i].dir), "%s", dir);
		return;
	}
	if (i < LISTED_MAX) {
		snprintf(h->hit[i].id, sizeof(h->hit[i].id), "%s", id);
		snprintf(h->hit[i].dir, sizeof(h->hit[i].dir), "%s", dir);
	}
	h->found++;
}

/* Every directory below root, by fts(3): no recursion of ours. */
static void find_containers(const char *root, const char *prefix, struct container_hits *h)
{
	char *roots[] = { (char *)root, NULL };
	size_t root_len = strlen(root), plen = strlen(prefix);
	FTS *fts = fts_open(roots, FTS_PHYSICAL | FTS_NOCHDIR | FTS_XDEV, NULL);
	FTSENT *e;

	if (!fts)
		return;
	while ((e = fts_read(fts))) {
		char id[TCL_CONTAINER_ID_LEN + 1];

		if (e->fts_info != FTS_D)
			continue;
		if (e->fts_level >= WALK_DEPTH_MAX)
			(void)fts_set(fts, e, FTS_SKIP);
		if (container_id_from_path(e->fts_path + root_len, id, sizeof(id)) &&
		    !strncmp(id, prefix, plen) && populated(e->fts_path))
			note_container(h, id, e->fts_path);
	}
	(void)fts_close(fts);	/* read only */
}

/* The hits as a one-line error: none, or several. */
static void describe_hits(const struct container_hits *h, const char *root,
			  const char *prefix, char *why, size_t whylen)
{
	char text[128 + LISTED_MAX * (TCL_CONTAINER_ID_LEN + 2) + TCL_CONTAINER_ID_LEN];
	struct strbuf sb;

	if (!h->found) {
		snprintf(why, whylen, "no running container's id starts with '%s' "
			 "(looked in the cgroups under %s)", prefix, root);
		return;
	}
	/* large enough for it all: then cut to the caller's buffer */
	sb_init(&sb, text, sizeof(text) - 1);
	sb_str(&sb, "container id '");
	sb_str(&sb, prefix);
	sb_str(&sb, "' is ambiguous: ");
	for (unsigned int i = 0; i < LISTED_MAX && i < h->found; i++) {
		sb_str(&sb, i ? ", " : "");
		sb_str(&sb, h->hit[i].id);
	}
	if (h->found > LISTED_MAX) {
		sb_str(&sb, " and ");
		sb_u64(&sb, h->found - LISTED_MAX);
		sb_str(&sb, " more");
	}
	sb_str(&sb, " start with it: give more of the id");
	text[sb.len] = '\0';
	snprintf(why, whylen, "%s", text);
}

int container_cgroup(const char *root, const char *prefix, char *dir, size_t dirlen,
		     char *why, size_t whylen)
{
	struct container_hits *h = calloc(1, sizeof(*h));	/* 16 KiB */
	int err = 2;

	if (!h) {
		snprintf(why, whylen, "out of memory");
		return 1;
	}
	find_containers(root, prefix, h);
	if (h->found == 1) {
		snprintf(dir, dirlen, "%s", h->hit[0].dir);
		err = 0;
	} else {
		describe_hits(h, root, prefix, why, whylen);
	}
	free(h);
	return err;
}

static int open_container_arg(const char *prefix, int *fd, char *why, size_t len)
{
	char mnt[PATH_MAX], dir[PATH_MAX];
	int err = cgroup2_mount(mnt, sizeof(mnt), why, len);

	if (!err)
		err = container_cgroup(mnt, prefix, dir, sizeof(dir), why, len);
	if (err)
		return err;
	*fd = open_cgroup2_dir(dir);
	if (*fd >= 0)
		return 0;
	snprintf(why, len, "the cgroup of container '%s' (%s) went away: is it still running?",
		 prefix, dir);
	return 2;
}

/* A CGROUP_ARRAY with the cgroup at index 0, for the subtree test. */
static int cgroup_array(int cgroup_fd, int *map_fd, char *why, size_t len)
{
	__u32 zero = 0, value = cgroup_fd;
	int fd = bpf_map_create(BPF_MAP_TYPE_CGROUP_ARRAY, "tcl_cgroup", sizeof(zero),
				sizeof(value), 1, NULL);

	if (fd < 0 || bpf_map_update_elem(fd, &zero, &value, BPF_ANY)) {
		snprintf(why, len, "cannot make the cgroup filter's map: %s", strerror(errno));
		if (fd >= 0)
			close(fd);
		return 1;
	}
	*map_fd = fd;
	return 0;
}

/* --netns PATH: its inode, if it is a network namespace. */
static int netns_of_path(const char *path, __u32 *ino, char *why, size_t len)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0) {
		int err = errno;

		snprintf(why, len, "cannot open --netns '%s': %s", path, strerror(err));
		return err == EACCES || err == EPERM ? 1 : 2;
	}
	if (ioctl(fd, NS_GET_NSTYPE) != CLONE_NEWNET || fstat(fd, &st)) {
		close(fd);
		snprintf(why, len, "--netns '%s' is not a network namespace: give /proc/PID/ns/net, "
			 "/run/netns/NAME or an inode number", path);
		return 2;
	}
	close(fd);
	*ino = st.st_ino;
	return 0;
}

/* bcc's sets: hash maps keyed by a u64 (a cgroup id, a mount namespace
 * inode), pinned by the user; the values do not matter.
 */
static int open_pinned_set(const char *opt, const char *path, const char *key,
			   int *out, char *why, size_t len)
{
	struct bpf_map_info info = {};
	__u32 info_len = sizeof(info);
	char link[64], target[32] = "";
	struct statfs fs;
	struct stat st;
	int fd;

	if (statfs(path, &fs)) {
		snprintf(why, len, "no pinned BPF map at '%s' (--%s): %s; pin one first, e.g. "
			 "bpftool map create %s type hash key 8 value 8 entries 128 name %s",
			 path, opt, strerror(errno), path, opt);
		return 2;
	}
	if (fs.f_type != BPF_FS_MAGIC || (!stat(path, &st) && S_ISDIR(st.st_mode))) {
		snprintf(why, len, "'%s' (--%s) is not a pinned BPF map: give the path of one, "
			 "as under /sys/fs/bpf", path, opt);
		return 2;
	}
	fd = bpf_obj_get(path);
	if (fd < 0) {
		snprintf(why, len, "cannot open the pinned map '%s' (--%s): %s", path, opt,
			 strerror(errno));
		return 1;
	}
	snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
	if (readlink(link, target, sizeof(target) - 1) < 0 ||
	    strcmp(target, "anon_inode:bpf-map") != 0) {
		close(fd);
		snprintf(why, len, "'%s' (--%s) is a pinned BPF object but not a map", path, opt);
		return 2;
	}
	if (bpf_obj_get_info_by_fd(fd, &info, &info_len)) {
		snprintf(why, len, "cannot read the pinned map '%s' (--%s): %s", path, opt,
			 strerror(errno));
		close(fd);
		return 1;
	}
	if ((info.type != BPF_MAP_TYPE_HASH && info.type != BPF_MAP_TYPE_LRU_HASH) ||
	    info.key_size != 8) {
		const char *type = libbpf_bpf_map_type_str(info.type);

		snprintf(why, len, "the pinned map '%s' (--%s) has type %s and %u-byte keys: "
			 "it must be a hash map keyed by 8-byte %s", path, opt,
			 type ? type : "unknown", info.key_size, key);
		close(fd);
		return 2;
	}
	*out = fd;
	return 0;
}

int cgfilter_open(struct tcl_config *cfg, char *why, size_t len)
{
	int err = 0, dir = -1;

	if (cfg->cgroup)
		err = open_cgroup_arg(cfg->cgroup, &dir, why, len);
	else if (cfg->container)
		err = open_container_arg(cfg->container, &dir, why, len);
	if (!err && dir >= 0)
		err = cgroup_array(dir, &cfg->cgroup_array_fd, why, len);
	if (dir >= 0)
		close(dir);	/* the map holds the cgroup */
	if (!err && cfg->netns_path)
		err = netns_of_path(cfg->netns_path, &cfg->netns, why, len);
	if (!err && cfg->cgroupmap)
		err = open_pinned_set("cgroupmap", cfg->cgroupmap, "cgroup ids",
				      &cfg->cgroupmap_fd, why, len);
	if (!err && cfg->mntnsmap)
		err = open_pinned_set("mntnsmap", cfg->mntnsmap, "mount namespace inodes",
				      &cfg->mntnsmap_fd, why, len);
	return err;
}

int cgfilter_use_maps(const struct tcl_config *cfg, struct bpf_map *cgroup_array,
		      struct bpf_map *cgroup_set, struct bpf_map *mntns_set)
{
	int err = 0;

	if (cfg->cgroup || cfg->container)
		err = bpf_map__reuse_fd(cgroup_array, cfg->cgroup_array_fd);
	if (!err && cfg->cgroupmap)
		err = bpf_map__reuse_fd(cgroup_set, cfg->cgroupmap_fd);
	if (!err && cfg->mntnsmap)
		err = bpf_map__reuse_fd(mntns_set, cfg->mntnsmap_fd);
	return err;
}
