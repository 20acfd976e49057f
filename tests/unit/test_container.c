// SPDX-License-Identifier: GPL-2.0-only
// Unit tests for container.c: container ids in cgroup v2 paths shaped like
// those of Docker, containerd (Kubernetes), CRI-O and Podman, with the
// cgroupfs and the systemd drivers, nested, and look-alikes.
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "container.h"

#define ID1 "3f4e9c0b1a2d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7"
#define ID2 "0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef"
#define POD "pod8f2b1c3d_4e5f_6071_8293_a4b5c6d7e8f9"

static void expect_id(const char *path, const char *want)
{
	char id[TCL_CONTAINER_ID_LEN + 1];

	if (!container_id_from_path(path, id, sizeof(id)))
		fail_msg("no id found in %s", path);
	assert_string_equal(id, want);
}

static void expect_none(const char *path)
{
	char id[TCL_CONTAINER_ID_LEN + 1] = "junk";

	if (container_id_from_path(path, id, sizeof(id)))
		fail_msg("id %s found in %s", id, path);
	assert_string_equal(id, "");
}

static void test_docker(void **state)
{
	(void)state;
	expect_id("/docker/" ID1, ID1);				/* cgroupfs */
	expect_id("/system.slice/docker-" ID1 ".scope", ID1);	/* systemd */
	expect_id("/user.slice/user-1000.slice/user@1000.service/docker-" ID1 ".scope", ID1);
	expect_id("/docker/" ID1 "/init", ID1);			/* a sub-cgroup inside */
}

static void test_containerd_kubernetes(void **state)
{
	(void)state;
	expect_id("/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-" POD
		  ".slice/cri-containerd-" ID1 ".scope", ID1);
	expect_id("/kubepods.slice/kubepods-" POD ".slice/cri-containerd-" ID2 ".scope", ID2);
	expect_id("/kubepods/besteffort/" POD "/" ID1, ID1);	/* cgroupfs */
	expect_id("/kubepods/" POD "/" ID2, ID2);
	expect_id("/system.slice/cri-containerd-" ID1 ".scope", ID1);
}

static void test_crio(void **state)
{
	(void)state;
	expect_id("/kubepods.slice/kubepods-besteffort.slice/kubepods-besteffort-" POD
		  ".slice/crio-" ID1 ".scope", ID1);
	expect_id("/kubepods/burstable/" POD "/crio-" ID2, ID2);
	expect_id("/kubepods.slice/kubepods-" POD ".slice/crio-" ID1 ".scope/container", ID1);
}

static void test_podman(void **state)
{
	(void)state;
	expect_id("/libpod_parent/libpod-" ID1, ID1);			/* cgroupfs */
	expect_id("/machine.slice/libpod-" ID1 ".scope", ID1);		/* systemd */
	expect_id("/machine.slice/libpod-" ID1 ".scope/container", ID1);
	expect_id("/user.slice/user-1000.slice/user@1000.service/user.slice/libpod-" ID2
		  ".scope", ID2);						/* rootless */
	expect_id("/machine.slice/machine-libpod_pod_" ID2 ".slice/libpod-" ID1 ".scope", ID1);
}

/* a container in a container: the innermost is the one that connected */
static void test_deepest_wins(void **state)
{
	(void)state;
	expect_id("/docker/" ID1 "/docker/" ID2, ID2);
	expect_id("/system.slice/docker-" ID1 ".scope/libpod_parent/libpod-" ID2, ID2);
	expect_id("/kubepods/" POD "/" ID1 "/system.slice/docker-" ID2 ".scope", ID2);
	expect_id("/libpod_parent/libpod-" ID2 "/docker/" ID1, ID1);
}

static void test_not_containers(void **state)
{
	(void)state;
	expect_none("/");
	expect_none("");
	expect_none("/user.slice/user-1000.slice/session-3.scope");
	expect_none("/system.slice/docker.service");
	expect_none("/system.slice/containerd.service");
	expect_none("/libpod_parent/conmon");
	expect_none("/libpod_parent");
	expect_none("/kubepods.slice/kubepods-burstable.slice");
	/* conmon watches a container, it is not one */
	expect_none("/libpod_parent/libpod-conmon-" ID1);
	expect_none("/machine.slice/libpod-conmon-" ID1 ".scope");
	expect_none("/kubepods.slice/kubepods-" POD ".slice/crio-conmon-" ID1 ".scope");
	/* a bare id is a container only under docker or kubepods */
	expect_none("/" ID1);
	expect_none("/system.slice/" ID1);
	expect_none("/notdocker/" ID1);
	expect_none("/dockers/" ID1);
	expect_none("/" ID1 "/kubepods");
	/* wrong lengths, case, characters, suffixes */
	expect_none("/docker/" "3f4e9c0b1a2d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e");
	expect_none("/docker/" ID1 "0");
	expect_none("/docker/" "3F4E9C0B1A2D5E6F708192A3B4C5D6E7F8091A2B3C4D5E6F708192A3B4C5D6E7");
	expect_none("/docker/" "3f4e9c0b1a2d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6eg");
	expect_none("/docker/" ID1 ".scope");
	expect_none("/system.slice/docker-" ID1);
	expect_none("/system.slice/docker-" ID1 ".scopex");
	expect_none("/system.slice/docker-" ID1 ".service");
	expect_none("/system.slice/xdocker-" ID1 ".scope");
	expect_none("/system.slice/cri-containerd-" ID1);
	expect_none("/libpod_parent/libpod-" ID1 "x");
	expect_none("/libpod_parent/libpod-" ID1 ".scope.x");
	expect_none("/libpod_parent/libpod-");
}

static void test_odd_slashes(void **state)
{
	(void)state;
	expect_id("//docker//" ID1 "/", ID1);
	expect_id("libpod_parent/libpod-" ID1, ID1);
}

static void test_small_buffer(void **state)
{
	char id[TCL_CONTAINER_ID_LEN] = "junk";

	(void)state;
	assert_false(container_id_from_path("/docker/" ID1, id, sizeof(id)));
	assert_string_equal(id, "");
	assert_false(container_id_from_path(NULL, id, sizeof(id)));
	assert_false(container_id_from_path("/docker/" ID1, id, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_docker),
		cmocka_unit_test(test_containerd_kubernetes),
		cmocka_unit_test(test_crio),
		cmocka_unit_test(test_podman),
		cmocka_unit_test(test_deepest_wins),
		cmocka_unit_test(test_not_containers),
		cmocka_unit_test(test_odd_slashes),
		cmocka_unit_test(test_small_buffer),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
