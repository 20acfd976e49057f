// SPDX-License-Identifier: GPL-2.0-only
// Unit tests for cgfilter.c: a container's cgroup found by id prefix in a
// tree shaped like the runtimes' (a temporary directory standing in for
// the cgroup2 mount).
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <setjmp.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "cgfilter.h"

#define ID1 "3f4e9c0b1a2d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7"
#define ID2 "3f4e9c0b1a2d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e8"
#define ID3 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"

/* --- a cgroup tree in a temporary directory --- */

static char root[64];

static void make_dir(const char *rel, int populated)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", root, rel);
	assert_int_equal(mkdir(path, 0755), 0);
	if (populated < 0)
		return;
	snprintf(path, sizeof(path), "%s/%s/cgroup.events", root, rel);
	f = fopen(path, "w");
	assert_non_null(f);
	fprintf(f, "populated %d\nfrozen 0\n", populated);
	fclose(f);
}

static int setup_tree(void **state)
{
	(void)state;
	snprintf(root, sizeof(root), "/tmp/tcl-cgfilter-XXXXXX");
	assert_non_null(mkdtemp(root));
	make_dir("libpod_parent", 1);
	make_dir("libpod_parent/libpod-" ID1, 1);
	/* the container's own cgroups below: the same container */
	make_dir("libpod_parent/libpod-" ID1 "/init", 1);
	make_dir("libpod_parent/libpod-conmon-" ID1, 1);
	make_dir("system.slice", 1);
	make_dir("system.slice/docker-" ID2 ".scope", 1);
	/* stopped: its cgroup is left, empty */
	make_dir("docker", 0);
	make_dir("docker/" ID3, 0);
	return 0;
}

static int teardown_tree(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", root);
	assert_int_equal(system(cmd), 0);
	return 0;
}

static void test_container_unique_prefix(void **state)
{
	char dir[512], why[512] = "", want[512];

	(void)state;
	assert_int_equal(container_cgroup(root, ID1, dir, sizeof(dir), why, sizeof(why)), 0);
	snprintf(want, sizeof(want), "%s/libpod_parent/libpod-" ID1, root);
	assert_string_equal(dir, want);
	assert_int_equal(container_cgroup(root, "3f4e9c0b1a2d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e8",
					  dir, sizeof(dir), why, sizeof(why)), 0);
	snprintf(want, sizeof(want), "%s/system.slice/docker-" ID2 ".scope", root);
	assert_string_equal(dir, want);
	assert_string_equal(why, "");
}

static void test_container_none(void **state)
{
	char dir[512] = "", why[512], want[512];

	(void)state;
	/* ID3's cgroup has no process left: not a running container */
	assert_int_equal(container_cgroup(root, "0123", dir, sizeof(dir), why, sizeof(why)), 2);
	snprintf(want, sizeof(want), "no running container's id starts with '0123' "
		 "(looked in the cgroups under %s)", root);
	assert_string_equal(why, want);
	assert_string_equal(dir, "");
	assert_int_equal(container_cgroup(root, "ff", dir, sizeof(dir), why, sizeof(why)), 2);
}

static void test_container_ambiguous(void **state)
{
	char dir[512] = "", why[512];

	(void)state;
	assert_int_equal(container_cgroup(root, "3f4e", dir, sizeof(dir), why, sizeof(why)), 2);
	/* listed in the order found: both, whichever first */
	if (strstr(why, ID1) > strstr(why, ID2))
		assert_string_equal(why, "container id '3f4e' is ambiguous: " ID2 ", " ID1
				    " start with it: give more of the id");
	else
		assert_string_equal(why, "container id '3f4e' is ambiguous: " ID1 ", " ID2
				    " start with it: give more of the id");
	assert_string_equal(dir, "");
}

/* past four candidates the rest are counted; a short buffer truncates */
static void test_container_many(void **state)
{
	char dir[512], why[512], rel[128], small[40];

	(void)state;
	make_dir("many", 1);
	for (int i = 0; i < 7; i++) {
		snprintf(rel, sizeof(rel), "many/crio-abc%061d.scope", i);
		make_dir(rel, 1);
	}
	assert_int_equal(container_cgroup(root, "abc", dir, sizeof(dir), why, sizeof(why)), 2);
	assert_non_null(strstr(why, " and 3 more start with it: give more of the id"));
	assert_int_equal(container_cgroup(root, "abc", dir, sizeof(dir), small, sizeof(small)), 2);
	assert_int_equal(strlen(small), sizeof(small) - 1);
	assert_memory_equal(small, "container id 'abc' is ambiguous: abc000", 39);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_container_unique_prefix, setup_tree, teardown_tree),
		cmocka_unit_test_setup_teardown(test_container_none, setup_tree, teardown_tree),
		cmocka_unit_test_setup_teardown(test_container_ambiguous, setup_tree, teardown_tree),
		cmocka_unit_test_setup_teardown(test_container_many, setup_tree, teardown_tree),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
