/* SPDX-License-Identifier: GPL-2.0-only */
/* The container id in a cgroup v2 path (Docker, containerd, CRI-O, Podman). */
#ifndef TCL_CONTAINER_H
#define TCL_CONTAINER_H

#include <stdbool.h>
#include <stddef.h>

/* the runtimes' ids: 64 lowercase hex digits */
#define TCL_CONTAINER_ID_LEN 64

/* Find the container id in CGROUP_PATH ("/docker/<id>",
 * "/system.slice/docker-<id>.scope", "...cri-containerd-<id>.scope",
 * "/kubepods/.../<id>", "crio-<id>.scope", "libpod-<id>[.scope]"); the
 * deepest one wins (a container nested in another). Copies it to ID
 * (IDSZ > 64) and returns true; false, ID set to "", when there is none.
 */
bool container_id_from_path(const char *cgroup_path, char *id, size_t idsz);

#endif
