/* SPDX-License-Identifier: GPL-2.0-only */
/* What the kernel and the process must offer before any BPF is loaded. */
#ifndef TCL_PREFLIGHT_H
#define TCL_PREFLIGHT_H

#include <stdbool.h>
#include <stddef.h>

/* 0, or -1 with a one-line reason and what to do in why. btf_path
 * (--btf) replaces the kernel's own BTF, and must be BTF libbpf reads.
 */
int preflight_check(const char *btf_path, char *why, size_t len);
/* Mount tracefs at /sys/kernel/tracing if no tracing directory exists:
 * classic tracepoints are attached through it. 0 or -errno.
 */
int ensure_tracefs(bool verbose);
/* Where tracefs is: /sys/kernel/tracing, or the older debugfs path. */
const char *tracefs_root(void);
/* kernel.perf_event_paranoid, or -1 if unknown. Debian's kernels read 3
 * as "no perf_event_open without CAP_SYS_ADMIN", CAP_PERFMON or not.
 */
int perf_event_paranoid(void);
/* What the kernel offers, learnt in a few milliseconds, so that auto need
 * not load and verify the whole object for a backend that cannot work.
 */
struct kernel_support {
	bool v6;		/* it has tcp_v6_connect (no CONFIG_IPV6: none;
				 * CONFIG_IPV6=m: in the ipv6 module)
				 */
	bool kprobes;		/* a kprobe PMU or tracefs kprobe_events */
	int fentry_err;		/* 0, or the errno of loading a minimal fentry
				 * program on tcp_v4_connect
				 */
};

/* Parses the kernel's BTF once, and frees it; btf_path (--btf, or NULL)
 * also answers v6 where the kernel has no BTF of its own.
 */
void kernel_support_probe(struct kernel_support *ks, const char *btf_path);

#endif
