// SPDX-License-Identifier: GPL-2.0-only
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <linux/btf.h>
#include "kbtf.h"

#define VMLINUX_BTF	"/sys/kernel/btf/vmlinux"

/* Bytes that follow a type's common part, by kind; -1 for a kind this
 * walk does not know (a newer kernel's).
 */
static long extra_bytes(__u32 kind, __u32 vlen)
{
	switch (kind) {
	case BTF_KIND_PTR: case BTF_KIND_FWD: case BTF_KIND_TYPEDEF:
	case BTF_KIND_VOLATILE: case BTF_KIND_CONST: case BTF_KIND_RESTRICT:
	case BTF_KIND_FUNC: case BTF_KIND_FLOAT: case BTF_KIND_TYPE_TAG:
		return 0;
	case BTF_KIND_INT: case BTF_KIND_VAR: case BTF_KIND_DECL_TAG:
		return 4;
	case BTF_KIND_ARRAY:
		return sizeof(struct btf_array);
	case BTF_KIND_STRUCT: case BTF_KIND_UNION:
		return vlen * (long)sizeof(struct btf_member);
	case BTF_KIND_ENUM:
		return vlen * (long)sizeof(struct btf_enum);
	case BTF_KIND_FUNC_PROTO:
		return vlen * (long)sizeof(struct btf_param);
	case BTF_KIND_DATASEC:
		return vlen * (long)sizeof(struct btf_var_secinfo);
	case BTF_KIND_ENUM64:
		return (long)vlen * 12;	/* struct btf_enum64 */
	default:
		return -1;
	}
}

static const char *name_at(const char *strs, __u32 str_len, __u32 off)
{
	return off < str_len && memchr(strs + off, '\0', str_len - off) ? strs + off : NULL;
}

int btf_func_ids(const void *data, size_t len, const char *const names[], int ids[],
		 int n)
{
	const struct btf_header *h = data;
	const char *types, *strs;
	size_t pos = 0;
	int id = 1;

	if (len < sizeof(*h) || h->magic != BTF_MAGIC || h->version != BTF_VERSION ||
	    h->hdr_len > len || (size_t)h->type_off + h->type_len > len - h->hdr_len ||
	    (size_t)h->str_off + h->str_len > len - h->hdr_len)
		return -1;
	types = (const char *)data + h->hdr_len + h->type_off;
	strs = (const char *)data + h->hdr_len + h->str_off;
	for (int i = 0; i < n; i++)
		ids[i] = -1;
	while (pos + sizeof(struct btf_type) <= h->type_len) {
		const struct btf_type *t = (const void *)(types + pos);
		long extra = extra_bytes(BTF_INFO_KIND(t->info), BTF_INFO_VLEN(t->info));

		if (extra < 0)
			return -1;
		if (BTF_INFO_KIND(t->info) == BTF_KIND_FUNC) {
			const char *name = name_at(strs, h->str_len, t->name_off);

			for (int i = 0; name && i < n; i++)
				if (ids[i] < 0 && !strcmp(name, names[i]))
					ids[i] = id;
		}
		pos += sizeof(*t) + extra;
		id++;
	}
	return pos == h->type_len ? 0 : -1;
}

/* The whole file, or NULL, growing the buffer as reads come in. */
static char *read_all(const char *path, size_t *len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	size_t cap = 8 << 20, n = 0;
	char *buf = fd >= 0 ? malloc(cap) : NULL;
	ssize_t got = 0;

	while (buf && (got = read(fd, buf + n, cap - n)) > 0) {
		n += got;
		if (n == cap) {
			char *bigger = realloc(buf, cap *= 2);

			if (!bigger)
				free(buf);
			buf = bigger;
		}
	}
	if (fd >= 0)
		close(fd);
	if (got < 0) {
		free(buf);
		buf = NULL;
	}
	*len = n;
	return buf;
}

int file_func_ids(const char *path, const char *const names[], int ids[], int n)
{
	int fd;
	struct stat st;
	size_t len;
	void *map;
	char *copy;
	int err;

	if (!path)
		path = VMLINUX_BTF;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	/* newer kernels (6.16) map it: a few ms instead of ~25 ms of reads,
	 * which sysfs serves a page at a time
	 */
	map = fstat(fd, &st) || st.st_size <= 0 ? MAP_FAILED :
	      mmap(NULL, st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (map != MAP_FAILED) {
		err = btf_func_ids(map, st.st_size, names, ids, n);
		munmap(map, st.st_size);
		return err;
	}
	copy = read_all(path, &len);
	err = copy ? btf_func_ids(copy, len, names, ids, n) : -1;
	free(copy);
	return err;
}
