// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <linux/bpf.h>
#include "kbtf.h"
#include "preflight.h"

#define CAP_SYS_ADMIN_BIT	21
#define CAP_PERFMON_BIT		38
#define CAP_BPF_BIT		39

/* Effective capability set of this process, from /proc. */
static int effective_caps(unsigned long long *caps)
{
	static const char key[] = "CapEff:";
	FILE *f = fopen("/proc/self/status", "r");
	char line[256];
	int ret = -1;

	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f)) {
		const char *hex = line + sizeof(key) - 1;
		char *end;

		if (strncmp(line, key, sizeof(key) - 1) != 0)
			continue;
		/* strtoull, not sscanf: a number out of range is an error
		 * here, where sscanf's behaviour is undefined
		 */
		errno = 0;
		*caps = strtoull(hex, &end, 16);
		if (!errno && end != hex) {
			ret = 0;
			break;
		}
	}
	(void)fclose(f);	/* read only: nothing to lose */
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

/* stat, not access(2): access checks the real user and, for a process that
 * is not root, ignores capabilities such as CAP_DAC_READ_SEARCH that let
 * it into tracefs
 */
static bool exists(const char *path)
{
	struct stat st;

	return !stat(path, &st);
}

int perf_event_paranoid(void)
{
	FILE *f = fopen("/proc/sys/kernel/perf_event_paranoid", "re");
	char line[32];
	int level = -1;

	if (!f)
		return -1;
	/* strtol, not fscanf: see effective_caps() */
	if (fgets(line, sizeof(line), f)) {
		char *end;
		long v;

		errno = 0;
		v = strtol(line, &end, 10);
		if (!errno && end != line && v >= INT_MIN && v <= INT_MAX)
			level = (int)v;
	}
	(void)fclose(f);	/* read only: nothing to lose */
	return level;
}

const char *tracefs_root(void)
{
	if (exists("/sys/kernel/tracing/events"))
		return "/sys/kernel/tracing";
	return "/sys/kernel/debug/tracing";
}

int ensure_tracefs(bool verbose)
{
	if (exists("/sys/kernel/tracing/events") || exists("/sys/kernel/debug/tracing/events"))
		return 0;
	if (mount("tracefs", "/sys/kernel/tracing", "tracefs", 0, NULL))
		return -errno;
	if (verbose)
		fprintf(stderr, "tcpconnlog: mounted tracefs at /sys/kernel/tracing\n");
	return 0;
}

/* Does a fentry program on the function with this BTF id load? The
 * kernel checks attachment rights at load, where fentry is refused.
 */
static int fentry_loads(int btf_id)
{
	struct bpf_insn ret0[] = {
		{ .code = BPF_ALU64 | BPF_MOV | BPF_K, .dst_reg = BPF_REG_0, .imm = 0 },
		{ .code = BPF_JMP | BPF_EXIT },
	};
	LIBBPF_OPTS(bpf_prog_load_opts, opts, .expected_attach_type = BPF_TRACE_FENTRY,
		    .attach_btf_id = btf_id);
	int fd;

	if (btf_id < 0)
		return ENOENT;
	fd = bpf_prog_load(BPF_PROG_TYPE_TRACING, "tcl_probe", "GPL", ret0, 2, &opts);
	if (fd < 0)
		return errno;
	close(fd);
	return 0;
}

/* ids of the functions: by a quick walk of the kernel's BTF, or where
 * that does not understand it, by libbpf's full parse (freed at once)
 */
static void find_funcs(const char *const names[], int ids[], int n)
{
	struct btf *vmlinux;

	if (!kernel_func_ids(names, ids, n))
		return;
	vmlinux = btf__load_vmlinux_btf();
	for (int i = 0; i < n; i++)
		ids[i] = vmlinux ? btf__find_by_name_kind(vmlinux, names[i], BTF_KIND_FUNC) : -1;
	btf__free(vmlinux);
}

void kernel_support_probe(struct kernel_support *ks)
{
	static const char *const funcs[] = { "tcp_v4_connect", "tcp_v6_connect" };
	int ids[2];
	char path[256];

	find_funcs(funcs, ids, 2);
	snprintf(path, sizeof(path), "%s/kprobe_events", tracefs_root());
	ks->kprobes = exists("/sys/bus/event_source/devices/kprobe/type") || exists(path);
	ks->v6 = ids[1] >= 0;
	ks->fentry_err = fentry_loads(ids[0]);
}
