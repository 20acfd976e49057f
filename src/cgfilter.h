/* SPDX-License-Identifier: GPL-2.0-only */
/* The filters on where a process runs (--cgroup, --container, --netns,
 * --cgroupmap, --mntnsmap): what they name, found and opened in user
 * space, and handed to the kernel side as maps.
 */
#ifndef TCL_CGFILTER_H
#define TCL_CGFILTER_H

#include <stddef.h>
#include "config.h"

struct bpf_map;

/* Open what the options name, into cfg (the maps' descriptors, --netns
 * PATH's inode). 0, or the exit status with one line in why: 2 when the
 * user named something that is not there or not fit (no such cgroup, no
 * or several matching containers, a pinned map of the wrong kind), 1 when
 * the system failed.
 */
int cgfilter_open(struct tcl_config *cfg, char *why, size_t len);

/* Before the object is loaded: its maps for the filters set become the
 * ones cgfilter_open() opened. 0 or -errno.
 */
int cgfilter_use_maps(const struct tcl_config *cfg, struct bpf_map *cgroup_array,
		      struct bpf_map *cgroup_set, struct bpf_map *mntns_set);

/* The one running container (a cgroup below ROOT that has processes)
 * whose id starts with PREFIX: its cgroup directory (the topmost named
 * after it) into dir. 0, or 2 with why (none, or several: listed).
 */
int container_cgroup(const char *root, const char *prefix, char *dir, size_t dirlen,
		     char *why, size_t whylen);

#endif
