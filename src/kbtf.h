/* SPDX-License-Identifier: GPL-2.0-only */
/* Finding a few functions in the kernel's BTF by walking it once, without
 * libbpf's full parse: that takes tens of milliseconds and several MB,
 * and libbpf does it again anyway to load the object.
 */
#ifndef TCL_KBTF_H
#define TCL_KBTF_H

#include <stddef.h>

/* ids[i] = the BTF id of the FUNC named names[i], or -1 if there is none.
 * 0, or -1 if data is not BTF this walk understands (then ask libbpf).
 */
int btf_func_ids(const void *data, size_t len, const char *const names[], int ids[],
		 int n);

/* The same over a BTF file (NULL: /sys/kernel/btf/vmlinux). */
int file_func_ids(const char *path, const char *const names[], int ids[], int n);

#endif
