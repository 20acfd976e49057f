// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <bpf/btf.h>
#include "preflight.h"

#define CAP_SYS_ADMIN_BIT	21
#define CAP_PERFMON_BIT		38
#define CAP_BPF_BIT		39

/* Effective capability set of this process, from /proc. */
static int effective_caps(unsigned long long *caps)
{
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	int ret = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		if (sscanf(line, "CapEff: %llx", caps) == 1) {
			ret = 0;
			break;
		}
	}
	fclose(f);
	return ret;
}

int preflight_check(char *why, size_t len)
{
	unsigned long long caps;

	if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		snprintf(why, len, "this kernel has no BTF (/sys/kernel/btf/vmlinux is missing): "
			 "tcpconnlog needs Linux 5.8+ built with CONFIG_DEBUG_INFO_BTF=y");
		return -1;
	}
	if (effective_caps(&caps) == 0 &&
	    !(caps & (1ULL << CAP_SYS_ADMIN_BIT)) &&
	    !((caps & (1ULL << CAP_BPF_BIT)) && (caps & (1ULL << CAP_PERFMON_BIT)))) {
		snprintf(why, len, "missing privileges: loading BPF programs needs CAP_BPF and "
			 "CAP_PERFMON (or CAP_SYS_ADMIN); run it as root, e.g. sudo tcpconnlog");
		return -1;
	}
	return 0;
}

const char *tracefs_root(void)
{
	if (!access("/sys/kernel/tracing/events", F_OK))
		return "/sys/kernel/tracing";
	return "/sys/kernel/debug/tracing";
}

int ensure_tracefs(bool verbose)
{
	if (!access("/sys/kernel/tracing/events", F_OK) ||
	    !access("/sys/kernel/debug/tracing/events", F_OK))
		return 0;
	if (mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL))
		return -errno;
	if (verbose)
		fprintf(stderr, "tcpconnlog: mounted tracefs at /sys/kernel/tracing\n");
	return 0;
}

bool kernel_has_function(const char *name)
{
	/* parsed once: auto may load up to three backends */
	static struct btf *vmlinux;

	if (!vmlinux)
		vmlinux = btf__load_vmlinux_btf();
	return vmlinux && btf__find_by_name_kind(vmlinux, name, BTF_KIND_FUNC) >= 0;
}
