/* SPDX-License-Identifier: GPL-2.0-only */
/* What the kernel and the process must offer before any BPF is loaded. */
#ifndef TCL_PREFLIGHT_H
#define TCL_PREFLIGHT_H

#include <stdbool.h>
#include <stddef.h>

/* 0, or -1 with a one-line reason and what to do in why. */
int preflight_check(char *why, size_t len);
/* Mount tracefs at /sys/kernel/tracing if no tracing directory exists:
 * classic tracepoints are attached through it. 0 or -errno.
 */
int ensure_tracefs(bool verbose);
/* Where tracefs is: /sys/kernel/tracing, or the older debugfs path. */
const char *tracefs_root(void);
/* Does the kernel (vmlinux BTF) have this function? */
bool kernel_has_function(const char *name);

#endif
