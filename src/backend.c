// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/libbpf.h>
#include "backend.h"
#include "cgfilter.h"
#include "cli.h"
#include "kretprobe.h"
#include "preflight.h"
#include "tcpconnlog.skel.h"

/* Size of the in-flight table: attempts between connect and outcome. */
#define ATTEMPTS_MAX 8192
/* Size of the open-connection table (-l, -A); the oldest are evicted past
 * it, and counted as untracked at exit.
 */
#define CONNS_MAX 16384

struct failure {
	const char *step;	/* "open", "load" or "attach" */
	int err;		/* positive errno */
};

static void select_programs(struct tcpconnlog_bpf *skel, enum tcl_backend b, bool v6,
			    bool accepts)
{
	struct bpf_program *fentry[] = { skel->progs.fentry_tcp_v4_connect,
		skel->progs.fexit_tcp_v4_connect, skel->progs.fentry_tcp_v6_connect,
		skel->progs.fexit_tcp_v6_connect };
	struct bpf_program *kprobe[] = { skel->progs.kprobe_tcp_v4_connect,
		skel->progs.kretprobe_tcp_v4_connect, skel->progs.kprobe_tcp_v6_connect,
		skel->progs.kretprobe_tcp_v6_connect };

	/* the v6 pair (last two) only where the kernel and the filters want it */
	for (int i = 0; i < 4; i++) {
		bool wanted = i < 2 || v6;

		bpf_program__set_autoload(fentry[i], b == BACKEND_FENTRY && wanted);
		bpf_program__set_autoload(kprobe[i], b == BACKEND_KPROBE && wanted);
	}
	/* attached by attach_kretprobes() instead */
	bpf_program__set_autoattach(skel->progs.kretprobe_tcp_v4_connect, false);
	bpf_program__set_autoattach(skel->progs.kretprobe_tcp_v6_connect, false);
	bpf_program__set_autoload(skel->progs.tp_sys_enter_connect, b == BACKEND_TRACEPOINT);
	bpf_program__set_autoload(skel->progs.tp_sys_exit_connect, b == BACKEND_TRACEPOINT);
	bpf_program__set_autoload(skel->progs.tp_sys_exit_accept4, accepts);
	bpf_program__set_autoload(skel->progs.tp_sys_exit_accept, accepts);
}

static void set_filters(struct tcpconnlog_bpf *skel, const struct tcl_config *cfg,
			enum tcl_backend b)
{
	struct tcpconnlog_bpf__rodata *ro = skel->rodata;

	ro->filter_pid = cfg->pid_set ? cfg->pid : 0;
	ro->filter_uid = cfg->uid;
	ro->filter_uid_set = cfg->uid_set;
	ro->filter_ip = cfg->ip;
	ro->filter_ports_set = cfg->ports_set;
	memcpy((void *)ro->filter_ports, cfg->ports, sizeof(cfg->ports));
	ro->filter_comm_set = cfg->comm_set;
	memcpy((void *)ro->filter_comm, cfg->comm, sizeof(cfg->comm));
	ro->filter_cgroup_set = cfg->cgroup || cfg->container;
	ro->filter_netns = cfg->netns;
	ro->filter_cgroupmap_set = cfg->cgroupmap;
	ro->filter_mntnsmap_set = cfg->mntnsmap;
	ro->failed_only = cfg->failed_only;
	ro->immediate = cfg->immediate;
	ro->measure_call = b != BACKEND_TRACEPOINT;
	ro->lifecycle = cfg->lifecycle;
	ro->accepts = cfg->accepts;
	/* an eighth of the buffer: the reader has seven eighths of headroom
	 * to wake up in, besides its own timer
	 */
	ro->wakeup_bytes = cfg->ringbuf_bytes / 8;
}

/* Probed once: auto may load three backends, and each probe parses the
 * kernel's BTF.
 */
static const struct kernel_support *support(const struct tcl_config *cfg)
{
	static struct kernel_support ks;
	static bool probed;

	if (!probed) {
		kernel_support_probe(&ks, cfg->btf_path);
		probed = true;
	}
	return &ks;
}

/* IPv6 probes only where the kernel has tcp_v6_connect. */
static bool v6_probes(const struct tcl_config *cfg)
{
	return cfg->ip != 4 && support(cfg)->v6;
}

/* auto skips a backend the kernel cannot run, without loading it: the
 * whole object costs tens of milliseconds to load and verify. 0 or why.
 */
static int cannot_run(const struct tcl_config *cfg, enum tcl_backend b, struct failure *f)
{
	if (b == BACKEND_FENTRY && support(cfg)->fentry_err) {
		*f = (struct failure){ "load", support(cfg)->fentry_err };
		return -1;
	}
	if (b == BACKEND_KPROBE && !support(cfg)->kprobes) {
		*f = (struct failure){ "attach", ENOENT };
		return -1;
	}
	return 0;
}

/* Open and load backend b; NULL with *f filled in on failure. */
static struct tcpconnlog_bpf *load(const struct tcl_config *cfg, enum tcl_backend b,
				   struct failure *f)
{
	/* --btf: CO-RE relocations against that file's types */
	LIBBPF_OPTS(bpf_object_open_opts, opts, .btf_custom_path = cfg->btf_path);
	struct tcpconnlog_bpf *skel = tcpconnlog_bpf__open_opts(&opts);
	bool v6 = v6_probes(cfg);
	int err;

	if (cfg->verbose && !v6 && cfg->ip != 4 && b != BACKEND_TRACEPOINT)
		fprintf(stderr, "tcpconnlog: no tcp_v6_connect in the kernel: "
			"IPv6 connects are not probed\n");
	if (!skel) {
		*f = (struct failure){ "open", errno };
		return NULL;
	}
	select_programs(skel, b, v6, cfg->accepts);
	set_filters(skel, cfg, b);
	bpf_map__set_max_entries(skel->maps.events, cfg->ringbuf_bytes);
	bpf_map__set_max_entries(skel->maps.attempts, ATTEMPTS_MAX);
	if (cfg->lifecycle || cfg->accepts)
		bpf_map__set_max_entries(skel->maps.conns, CONNS_MAX);
	err = cgfilter_use_maps(cfg, skel->maps.filter_cgroup, skel->maps.cgroup_set,
				skel->maps.mntns_set);
	if (!err)
		err = tcpconnlog_bpf__load(skel);
	if (err) {
		*f = (struct failure){ "load", -err };
		tcpconnlog_bpf__destroy(skel);
		return NULL;
	}
	return skel;
}

/* Through tracefs, for enough instances (see kretprobe.c); where that is
 * not allowed, through libbpf with the kernel's default number.
 */
static int attach_kretprobe(struct bpf_program *prog, const char *func,
			    struct bpf_link **link, bool verbose)
{
	*link = kretprobe_attach(prog, func);
	if (*link)
		return 0;
	if (verbose)
		fprintf(stderr, "tcpconnlog: kretprobe on %s through tracefs failed (%s); "
			"using the kernel's default number of instances\n", func, strerror(errno));
	*link = bpf_program__attach_kprobe(prog, true, func);
	return *link ? 0 : -errno;
}

static int attach_kretprobes(struct tcpconnlog_bpf *skel, bool verbose)
{
	int err;

	kretprobes_sweep_stale();
	err = attach_kretprobe(skel->progs.kretprobe_tcp_v4_connect, "tcp_v4_connect",
			       &skel->links.kretprobe_tcp_v4_connect, verbose);
	if (!err && bpf_program__autoload(skel->progs.kretprobe_tcp_v6_connect))
		err = attach_kretprobe(skel->progs.kretprobe_tcp_v6_connect, "tcp_v6_connect",
				       &skel->links.kretprobe_tcp_v6_connect, verbose);
	if (!err)
		kretprobes_start_reaper();
	return err;
}

static int attach(struct tcpconnlog_bpf *skel, enum tcl_backend b,
		  const struct tcl_config *cfg, struct failure *f)
{
	bool verbose = cfg->verbose;
	int err;

	/* syscall tracepoints and kprobe_events live in tracefs */
	if (b == BACKEND_TRACEPOINT || b == BACKEND_KPROBE || cfg->accepts) {
		err = ensure_tracefs(verbose);
		if (err) {
			*f = (struct failure){ "mount tracefs for", -err };
			return -1;
		}
	}
	err = tcpconnlog_bpf__attach(skel);
	if (!err && b == BACKEND_KPROBE)
		err = attach_kretprobes(skel, verbose);
	if (err) {
		*f = (struct failure){ "attach", -err };
		return -1;
	}
	return 0;
}

void backend_stop(struct tcpconnlog_bpf *skel)
{
	tcpconnlog_bpf__destroy(skel);
	kretprobes_remove();
}

/* A hint for the failures users meet most. */
static const char *hint(enum tcl_backend b, const struct failure *f)
{
	if (b == BACKEND_FENTRY && !strcmp(f->step, "load") && f->err == EPERM)
		return " (this kernel refuses fentry/fexit programs)";
	if (b == BACKEND_KPROBE && !strcmp(f->step, "attach") &&
	    (f->err == ENOENT || f->err == EOPNOTSUPP || f->err == ENODEV))
		return " (no kprobe support: kernel built without CONFIG_KPROBES?)";
	if (!strcmp(f->step, "load") && f->err == EPERM)
		return " (missing privileges or locked down)";
	if (!strcmp(f->step, "attach") && f->err == EACCES && perf_event_paranoid() > 2)
		return " (kernel.perf_event_paranoid is above 2, which Debian's kernels read as "
		       "no perf events without CAP_SYS_ADMIN: set it to 2, or run as root)";
	if (!strcmp(f->step, "mount tracefs for") && f->err == EPERM)
		return geteuid() == 0 ?
		       /* root without CAP_SYS_ADMIN: a container's */
		       " (mounting it needs CAP_SYS_ADMIN: mount tracefs first; a "
		       "container binds the host's)" :
		       " (tracefs is root's: without root, CAP_DAC_READ_SEARCH lets us in)";
	return "";
}

/* The kernel's own ENOTSUPP, which user space headers lack: Debian's
 * arm64 6.1 kernel loads fentry programs but fails their attach with it.
 */
#define KERNEL_ENOTSUPP 524

/* strerror, except for the kernel-internal code it calls "Unknown error". */
static const char *error_text(int err)
{
	if (err == KERNEL_ENOTSUPP)
		return "not supported by this kernel (ENOTSUPP)";
	return strerror(err);
}

static void describe(char *buf, size_t len, enum tcl_backend b, const struct failure *f)
{
	snprintf(buf, len, "%s: %s failed: %s%s", backend_name(b), f->step,
		 error_text(f->err), hint(b, f));
}

static struct tcpconnlog_bpf *start_one(const struct tcl_config *cfg, enum tcl_backend b,
					struct failure *f)
{
	struct tcpconnlog_bpf *skel = load(cfg, b, f);

	if (skel && attach(skel, b, cfg, f)) {
		backend_stop(skel);
		skel = NULL;
	}
	return skel;
}

/* What a run does with b: auto skips a backend it knows cannot work. */
static struct tcpconnlog_bpf *try_backend(const struct tcl_config *cfg, enum tcl_backend b,
					  bool for_auto, struct failure *f)
{
	if (for_auto && cannot_run(cfg, b, f))
		return NULL;
	return start_one(cfg, b, f);
}

int backend_start(const struct tcl_config *cfg, struct tcpconnlog_bpf **out,
		  enum tcl_backend *chosen)
{
	static const enum tcl_backend order[] = { BACKEND_FENTRY, BACKEND_KPROBE,
						  BACKEND_TRACEPOINT };
	char tried[3][160];
	struct failure f;

	if (cfg->backend != BACKEND_AUTO) {
		*out = start_one(cfg, cfg->backend, &f);
		if (!*out) {
			describe(tried[0], sizeof(tried[0]), cfg->backend, &f);
			fprintf(stderr, "tcpconnlog: cannot use backend %s; "
				"try --backend auto, or -v for libbpf's messages\n", tried[0]);
			return -1;
		}
		*chosen = cfg->backend;
		return 0;
	}
	for (int i = 0; i < 3; i++) {
		*out = try_backend(cfg, order[i], true, &f);
		if (*out) {
			*chosen = order[i];
			return 0;
		}
		describe(tried[i], sizeof(tried[i]), order[i], &f);
		if (cfg->verbose)
			fprintf(stderr, "tcpconnlog: backend %s\n", tried[i]);
	}
	fprintf(stderr, "tcpconnlog: no backend could attach (%s; %s; %s)\n",
		tried[0], tried[1], tried[2]);
	return -1;
}

int backend_check(const struct tcl_config *cfg)
{
	enum tcl_backend first = cfg->backend, last = cfg->backend;
	bool for_auto = cfg->backend == BACKEND_AUTO;
	int usable = 0;

	if (for_auto) {
		first = BACKEND_FENTRY;
		last = BACKEND_TRACEPOINT;
	}
	for (enum tcl_backend b = first; b <= last; b++) {
		struct failure f;
		/* the steps of a run, detached at once: what passes here
		 * passes there
		 */
		struct tcpconnlog_bpf *skel = try_backend(cfg, b, for_auto, &f);
		char line[200];

		if (skel) {
			backend_stop(skel);
			printf("%s: ok\n", backend_name(b));
			usable++;
			continue;
		}
		describe(line, sizeof(line), b, &f);
		printf("%s\n", line);
	}
	/* a forced backend is the only one tried; auto is usable when any
	 * of its candidates is
	 */
	return usable ? 0 : -1;
}
