// SPDX-License-Identifier: GPL-2.0-only
// Unit tests for cgroup.c: the cgroup2 mount in mountinfo, and ids (inode
// numbers of directories) to paths over trees the tests make.
#include <limits.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <setjmp.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "cgroup.h"

#define CID "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

static char tree[64];

static void write_file(const char *path, const char *text)
{
	FILE *f = fopen(path, "w");

	assert_non_null(f);
	fputs(text, f);
	fclose(f);
}

static __u64 ino_of(const char *rel)
{
	char p[512];
	struct stat st;

	snprintf(p, sizeof(p), "%s%s", tree, rel);
	assert_int_equal(stat(p, &st), 0);
	return st.st_ino;
}

static void make_dir(const char *rel)
{
	char p[512];

	snprintf(p, sizeof(p), "%s%s", tree, rel);
	assert_int_equal(mkdir(p, 0755), 0);
}

static int setup_tree(void **state)
{
	(void)state;
	snprintf(tree, sizeof(tree), "/tmp/tcl-cgroup-XXXXXX");
	assert_non_null(mkdtemp(tree));
	return 0;
}

static int remove_tree(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf %s", tree);
	return system(cmd);
}

static void test_find_mount(void **state)
{
	char mi[] = "/tmp/tcl-mountinfo-XXXXXX", mnt[256], root[256];
	int fd = mkstemp(mi);

	(void)state;
	assert_true(fd >= 0);
	close(fd);
	/* the hybrid layout of this host: v1 controllers, cgroup2 in unified */
	write_file(mi,
		"25 1 0:23 / /sys rw,nosuid - sysfs sysfs rw\n"
		"31 25 0:27 / /sys/fs/cgroup ro - tmpfs tmpfs ro,mode=755\n"
		"33 31 0:29 / /sys/fs/cgroup/memory rw shared:9 - cgroup cgroup rw,memory\n"
		"41 31 0:38 / /sys/fs/cgroup/unified rw,relatime shared:8 - cgroup2 cgroup2 rw\n"
		"42 31 0:39 / /other rw - cgroup2 cgroup2 rw\n");
	assert_true(cgroups_find_mount(mi, mnt, sizeof(mnt), root, sizeof(root)));
	assert_string_equal(mnt, "/sys/fs/cgroup/unified");
	assert_string_equal(root, "");
	/* pure v2; a mount point with a space; a root below the top (a
	 * cgroup namespace, a bind mount)
	 */
	write_file(mi, "30 1 0:26 /sub/dir /sys/fs/cg\\040two rw - cgroup2 cgroup2 rw\n");
	assert_true(cgroups_find_mount(mi, mnt, sizeof(mnt), root, sizeof(root)));
	assert_string_equal(mnt, "/sys/fs/cg two");
	assert_string_equal(root, "/sub/dir");
	/* v1 only, a cgroup2 look-alike type, nothing */
	write_file(mi, "33 31 0:29 / /sys/fs/cgroup/memory rw - cgroup cgroup rw,memory\n"
		       "34 31 0:30 / /x rw - cgroup2x cgroup2 rw\n");
	assert_false(cgroups_find_mount(mi, mnt, sizeof(mnt), root, sizeof(root)));
	write_file(mi, "");
	assert_false(cgroups_find_mount(mi, mnt, sizeof(mnt), root, sizeof(root)));
	unlink(mi);
	assert_false(cgroups_find_mount(mi, mnt, sizeof(mnt), root, sizeof(root)));
}

static void test_paths_and_containers(void **state)
{
	struct cgroups cg;
	const char *container;

	(void)state;
	make_dir("/a");
	make_dir("/a/b");
	make_dir("/sp ace");
	make_dir("/libpod_parent");
	make_dir("/libpod_parent/libpod-" CID);
	make_dir("/libpod_parent/libpod-conmon-" CID);
	assert_int_equal(cgroups_open_dir(&cg, tree), 0);
	assert_string_equal(cgroups_path(&cg, ino_of(""), 0, 0, &container), "/");
	assert_null(container);
	assert_string_equal(cgroups_path(&cg, ino_of("/a/b"), 0, 0, &container), "/a/b");
	assert_null(container);
	assert_string_equal(cgroups_path(&cg, ino_of("/sp ace"), 0, 0, NULL), "/sp ace");
	assert_string_equal(cgroups_path(&cg, ino_of("/libpod_parent/libpod-" CID), 0, 0, &container),
			    "/libpod_parent/libpod-" CID);
	assert_string_equal(container, CID);
	assert_non_null(cgroups_path(&cg, ino_of("/libpod_parent/libpod-conmon-" CID), 0, 0,
				     &container));
	assert_null(container);
	/* one walk found them all */
	assert_int_equal(cg.walks, 1);
	/* 0 is no cgroup; an id no directory has is unknown */
	assert_null(cgroups_path(&cg, 0, 0, 0, &container));
	assert_null(cgroups_path(&cg, (__u64)-5, 0, 0, &container));
	assert_null(container);
	assert_int_equal(cg.misses, 1);
	cgroups_close(&cg);
	cgroups_close(&cg);
}

/* a cgroup made after the last walk is found by the next one, but not
 * before the walks' spacing allows it
 */
static void test_new_cgroup_rate_limited(void **state)
{
	struct cgroups cg;
	unsigned long long walks;

	(void)state;
	assert_int_equal(cgroups_open_dir(&cg, tree), 0);
	assert_string_equal(cgroups_path(&cg, ino_of(""), 0, 0, NULL), "/");
	make_dir("/later");
	walks = cg.walks;
	cg.next_walk_ns = ~0ULL;
	assert_null(cgroups_path(&cg, ino_of("/later"), 0, 0, NULL));
	assert_int_equal(cg.walks, walks);
	assert_int_equal(cg.misses, 1);
	cg.next_walk_ns = 0;
	assert_string_equal(cgroups_path(&cg, ino_of("/later"), 0, 0, NULL), "/later");
	assert_int_equal(cg.walks, walks + 1);
	/* the spacing is ten walks' time from the walk's start */
	assert_true(cg.next_walk_ns > 0);
	cgroups_close(&cg);
}

/* no cgroup2 mount, or none at the path: every path unknown, no error */
static void test_no_mount(void **state)
{
	struct cgroups cg;

	(void)state;
	assert_int_equal(cgroups_open_dir(&cg, "/nonexistent/dir"), 0);
	assert_null(cgroups_path(&cg, 1, 0, 0, NULL));
	cgroups_close(&cg);
	/* a struct never opened */
	memset(&cg, 0, sizeof(cg));
	cgroups_close(&cg);
}

/* more cgroups than the cache holds: it stays bounded, the one asked for
 * is still found; and what a walk of many costs
 */
static void test_bounded_cache_and_walk_cost(void **state)
{
	enum { N = TCL_CGROUP_CACHE_MAX + 300 };
	struct cgroups cg;
	struct timespec t0, t1;
	char rel[64];

	(void)state;
	make_dir("/many");
	for (int i = 0; i < N; i++) {
		snprintf(rel, sizeof(rel), "/many/c%d", i);
		make_dir(rel);
	}
	assert_int_equal(cgroups_open_dir(&cg, tree), 0);
	snprintf(rel, sizeof(rel), "/many/c%d", N - 1);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	assert_string_equal(cgroups_path(&cg, ino_of(rel), 0, 0, NULL), rel);
	clock_gettime(CLOCK_MONOTONIC, &t1);
	assert_true(cg.used <= TCL_CGROUP_CACHE_MAX + 1);
	/* one the walk left out: the next walk starts over and finds it */
	cg.next_walk_ns = ~0ULL;
	for (int i = 0; i < N; i++) {
		snprintf(rel, sizeof(rel), "/many/c%d", i);
		if (!cgroups_path(&cg, ino_of(rel), 0, 0, NULL))
			break;
	}
	assert_int_equal(cg.misses, 1);
	cg.next_walk_ns = 0;
	assert_string_equal(cgroups_path(&cg, ino_of(rel), 0, 0, NULL), rel);
	assert_true(cg.used <= TCL_CGROUP_CACHE_MAX + 1);
	print_message("one walk of %d directories: %.3f ms\n", N + 10,
		      (t1.tv_sec - t0.tv_sec) * 1e3 + (t1.tv_nsec - t0.tv_nsec) / 1e6);
	cgroups_close(&cg);
}

/* This process's cgroup v2 line of /proc/self/cgroup, "0::/path" */
static void own_cgroup_line(char *line, int len)
{
	FILE *f = fopen("/proc/self/cgroup", "r");
	bool found = false;

	assert_non_null(f);
	while (!found && fgets(line, len, f))
		found = strncmp(line, "0::/", 4) == 0;
	fclose(f);
	assert_true(found);
	line[strcspn(line, "\n")] = '\0';
}

/* The process of the record tells its cgroup: found without a walk, on
 * the real cgroup2 mount. A process that has moved since is not believed.
 */
static void test_from_proc_without_walk(void **state)
{
	char mnt[PATH_MAX], root[256], line[PATH_MAX + 8], dir[2 * PATH_MAX];
	struct cgroups cg;
	struct stat st;

	(void)state;
	assert_true(cgroups_find_mount(NULL, mnt, sizeof(mnt), root, sizeof(root)));
	own_cgroup_line(line, sizeof(line));
	snprintf(dir, sizeof(dir), "%s%s", mnt, line + 3 + strlen(root));
	assert_int_equal(stat(dir, &st), 0);

	assert_int_equal(cgroups_open(&cg, NULL), 0);
	cg.next_walk_ns = ~0ULL;
	assert_string_equal(cgroups_path(&cg, st.st_ino, (__u32)getpid(), (__u32)gettid(), NULL),
			    line + 3);
	assert_int_equal(cg.walks, 0);
	assert_int_equal(cg.proc_reads, 1);
	/* cached: no second read */
	assert_string_equal(cgroups_path(&cg, st.st_ino, (__u32)getpid(), (__u32)gettid(), NULL),
			    line + 3);
	assert_int_equal(cg.proc_reads, 1);
	/* an id that is not the process's cgroup: not taken from it */
	assert_null(cgroups_path(&cg, st.st_ino + 1000000, (__u32)getpid(), (__u32)gettid(),
				 NULL));
	assert_int_equal(cg.walks, 0);
	cgroups_close(&cg);
}

/* In a cgroup namespace of its own with the hierarchy's root bound in
 * (a DaemonSet's pod), mountinfo names the mount's root "/../..": paths
 * are shown from the hierarchy's root, as on the host. The same root
 * over a directory that is not the hierarchy's root is left alone.
 */
static void test_namespace_root_shown_from_hierarchy(void **state)
{
	char mnt[PATH_MAX], root[256], info[PATH_MAX + 64], line[PATH_MAX + 8];
	char want[2 * PATH_MAX + 8];
	char fake[96];
	struct cgroups cg;
	struct stat st;

	(void)state;
	assert_true(cgroups_find_mount(NULL, mnt, sizeof(mnt), root, sizeof(root)));
	assert_string_equal(root, "");	/* the host's mount of the hierarchy */
	own_cgroup_line(line, sizeof(line));
	snprintf(want, sizeof(want), "%s%s", mnt, line + 3);
	assert_int_equal(stat(want, &st), 0);

	snprintf(fake, sizeof(fake), "%s/mountinfo", tree);
	snprintf(info, sizeof(info), "41 31 0:38 /../.. %s rw,relatime - cgroup2 cgroup2 rw\n", mnt);
	write_file(fake, info);
	assert_int_equal(cgroups_open(&cg, fake), 0);
	assert_string_equal(cg.root, "/../..");
	assert_string_equal(cgroups_path(&cg, 1, 0, 0, NULL), "/");
	cg.next_walk_ns = 0;
	assert_string_equal(cgroups_path(&cg, st.st_ino, 0, 0, NULL), line + 3);
	cgroups_close(&cg);

	/* the control: a directory of the tests' own is not a hierarchy's root */
	make_dir("/ns");
	make_dir("/ns/a");
	snprintf(info, sizeof(info), "41 31 0:38 /../.. %s/ns rw - cgroup2 cgroup2 rw\n", tree);
	write_file(fake, info);
	assert_int_equal(cgroups_open(&cg, fake), 0);
	assert_string_equal(cgroups_path(&cg, ino_of("/ns/a"), 0, 0, NULL), "/../../a");
	cgroups_close(&cg);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_find_mount),
		cmocka_unit_test(test_paths_and_containers),
		cmocka_unit_test(test_new_cgroup_rate_limited),
		cmocka_unit_test(test_no_mount),
		cmocka_unit_test(test_bounded_cache_and_walk_cost),
		cmocka_unit_test(test_from_proc_without_walk),
		cmocka_unit_test(test_namespace_root_shown_from_hierarchy),
	};

	return cmocka_run_group_tests(tests, setup_tree, remove_tree);
}
