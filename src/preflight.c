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
#include <bpf/libbpf.h>
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

/* Whether libbpf reads the file as BTF; a reason in why if not. */
static int btf_file_usable(const char *path, char *why, size_t len)
{
	struct btf *btf = btf__parse(path, NULL);

	if (!btf) {
		char err[128];

		/* libbpf's own codes (bad format) are beyond strerror */
		libbpf_strerror(errno, err, sizeof(err));
		snprintf(why, len, "--btf %s is not BTF libbpf can read (%s): give the "
			 "kernel's BTF, raw or in an ELF file's .BTF section", path, err);
		return -1;
	}
	btf__free(btf);
	return 0;
}

int preflight_check(const char *btf_path, char *why, size_t len)
{
	unsigned long long caps;

	if (btf_path) {
		if (btf_file_usable(btf_path, why, len))
			return -1;
	} else if (access("/sys/kernel/btf/vmlinux", R_OK)) {
		snprintf(why, len, "this kernel has no BTF (/sys/kernel/btf/vmlinux is missing): "
			 "tcpconnlog needs Linux 5.8+ built with CONFIG_DEBUG_INFO_BTF=y, "
			 "or its BTF in a file given with --btf");
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

/* ids of the functions in the BTF file (NULL: the kernel's): by a quick
 * walk, or where that does not understand it, by libbpf's full parse
 * (freed at once)
 */
static void find_funcs(const char *path, const char *const names[], int ids[], int n)
{
	struct btf *btf;

	if (!file_func_ids(path, names, ids, n))
		return;
	btf = path ? btf__parse(path, NULL) : btf__load_vmlinux_btf();
	for (int i = 0; i < n; i++)
		ids[i] = btf ? btf__find_by_name_kind(btf, names[i], BTF_KIND_FUNC) : -1;
	btf__free(btf);
}

/* Is func in a loaded module's BTF (split on the kernel's)? Parses both,
 * so only asked where the kernel's own BTF lacks func.
 */
static bool in_module_btf(const char *module, const char *func)
{
	struct btf *vmlinux, *mod = NULL;
	char path[128];
	bool found;

	snprintf(path, sizeof(path), "/sys/kernel/btf/%s", module);
	if (!exists(path))
		return false;
	vmlinux = btf__load_vmlinux_btf();
	if (vmlinux)
		mod = btf__load_module_btf(module, vmlinux);
	found = mod && btf__find_by_name_kind(mod, func, BTF_KIND_FUNC) > 0;
	btf__free(mod);
	btf__free(vmlinux);
	return found;
}

void kernel_support_probe(struct kernel_support *ks, const char *btf_path)
{
	static const char *const funcs[] = { "tcp_v4_connect", "tcp_v6_connect" };
	int ids[2], file_ids[2];
	char path[256];

	/* the kernel's ids: fentry attaches by them whatever --btf says */
	find_funcs(NULL, funcs, ids, 2);
	snprintf(path, sizeof(path), "%s/kprobe_events", tracefs_root());
	ks->kprobes = exists("/sys/bus/event_source/devices/kprobe/type") || exists(path);
	/* CONFIG_IPV6=m puts it in the ipv6 module; a kernel without BTF
	 * of its own has it only in the --btf file
	 */
	ks->v6 = ids[1] >= 0 || in_module_btf("ipv6", funcs[1]);
	if (!ks->v6 && btf_path) {
		find_funcs(btf_path, funcs, file_ids, 2);
		ks->v6 = file_ids[1] >= 0;
	}
	ks->fentry_err = fentry_loads(ids[0]);
}
