// SPDX-License-Identifier: GPL-2.0-only
// Container ids from cgroup v2 paths: each runtime names the cgroup of a
// container after its id, with a prefix and suffix that say whose it is.
#include <stdbool.h>
#include <string.h>

#include "container.h"

/* "<prefix><id><suffix>" component shapes; a suffix NULL means ".scope" is
 * optional (Podman's cgroupfs driver leaves it off)
 */
static const struct {
	const char *prefix;
	const char *suffix;
} shapes[] = {
	{ "docker-", ".scope" },		/* Docker, systemd driver */
	{ "cri-containerd-", ".scope" },	/* containerd, systemd driver */
	{ "crio-", NULL },			/* CRI-O (crio-conmon- is not) */
	{ "libpod-", NULL },			/* Podman (libpod-conmon- is not) */
};

static bool is_id(const char *s, size_t len)
{
	if (len != TCL_CONTAINER_ID_LEN)
		return false;
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

static bool starts(const char *s, size_t len, const char *prefix)
{
	size_t n = strlen(prefix);

	return len >= n && memcmp(s, prefix, n) == 0;
}

/* the id in one path component, or NULL; PARENT/UNDER_KUBEPODS say where
 * it is, since a bare id is a container only under docker or kubepods
 */
static const char *component_id(const char *c, size_t len, const char *parent,
				size_t parent_len, bool under_kubepods)
{
	if (is_id(c, len))
		return under_kubepods || (parent_len == 6 && memcmp(parent, "docker", 6) == 0)
			? c : NULL;
	for (size_t i = 0; i < sizeof(shapes) / sizeof(shapes[0]); i++) {
		size_t plen = strlen(shapes[i].prefix);

		if (!starts(c, len, shapes[i].prefix))
			continue;
		if (is_id(c + plen, len - plen))
			return shapes[i].suffix ? NULL : c + plen;
		if (len - plen == TCL_CONTAINER_ID_LEN + 6 && is_id(c + plen, TCL_CONTAINER_ID_LEN) &&
		    memcmp(c + plen + TCL_CONTAINER_ID_LEN, ".scope", 6) == 0)
			return c + plen;
	}
	return NULL;
}

bool container_id_from_path(const char *cgroup_path, char *id, size_t idsz)
{
	const char *found = NULL, *parent = "", *p = cgroup_path;
	size_t parent_len = 0;
	bool kubepods = false;

	if (idsz > 0)
		id[0] = '\0';
	if (!cgroup_path || idsz <= TCL_CONTAINER_ID_LEN)
		return false;
	while (*p) {
		const char *c;
		size_t len;

		while (*p == '/')
			p++;
		c = p;
		len = strcspn(c, "/");
		if (len == 0)
			break;
		const char *hit = component_id(c, len, parent, parent_len, kubepods);

		if (hit)
			found = hit;
		if (starts(c, len, "kubepods"))
			kubepods = true;
		parent = c;
		parent_len = len;
		p = c + len;
	}
	if (!found)
		return false;
	memcpy(id, found, TCL_CONTAINER_ID_LEN);
	id[TCL_CONTAINER_ID_LEN] = '\0';
	return true;
}
