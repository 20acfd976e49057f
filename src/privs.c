// SPDX-License-Identifier: GPL-2.0-only
/*
 * Once the BPF programs are loaded and attached and every file the run
 * needs is open, nothing left needs privileges: reading the ring buffer,
 * the maps and sock_diag goes through descriptors we hold. So the process
 * drops to an ordinary user before it reads a single record.
 *
 * One exception: kernels before 6.x refuse every bpf() call, reading a
 * map included, to a process without CAP_BPF while
 * kernel.unprivileged_bpf_disabled is set (Debian's default). There
 * CAP_BPF alone is kept, or the tracer could not count its losses.
 */
#include <cap-ng.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <linux/bpf.h>
#include <sys/prctl.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include "privs.h"

/* Started as root, or with the capabilities to change user. */
static bool may_change_user(void)
{
	return capng_have_capability(CAPNG_EFFECTIVE, CAP_SETUID) &&
	       capng_have_capability(CAPNG_EFFECTIVE, CAP_SETGID) &&
	       capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP);
}

/* libcap-ng's state: nothing, or CAP_BPF alone; then applied, with the
 * user changed where we may. 0 or libcap-ng's error.
 */
static int become_unprivileged(const struct tcl_config *cfg, bool change_user, bool keep_bpf)
{
	capng_clear(CAPNG_SELECT_ALL);
	if (keep_bpf &&
	    capng_update(CAPNG_ADD, CAPNG_EFFECTIVE | CAPNG_PERMITTED, CAP_BPF))
		return -1;
	if (change_user)
		/* groups, then the ids, keeping no other capability across
		 * the change; the bounding set is emptied as well. The ids
		 * fit: cli.c takes none above 0xfffffffe.
		 */
		return capng_change_id((int)cfg->run_uid, (int)cfg->run_gid,
				       CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING);
	/* started as an ordinary user with capabilities: already the user it
	 * is, only the capabilities go (ambient ones with them)
	 */
	return capng_apply(CAPNG_SELECT_CAPS);
}

/* Would the unprivileged tracer be refused bpf() altogether? A child that
 * dropped everything asks for a lookup in no map: the kernel answers
 * EBADF where the call is allowed, EPERM where it is not.
 */
static bool bpf_refused_without_capability(const struct tcl_config *cfg, bool change_user)
{
	int status;
	pid_t pid = fork();

	if (pid < 0)
		return true;	/* keep CAP_BPF rather than go blind */
	if (pid == 0) {
		union bpf_attr attr;

		memset(&attr, 0, sizeof(attr));
		attr.map_fd = (__u32)-1;
		if (become_unprivileged(cfg, change_user, false))
			_exit(2);
		_exit(syscall(__NR_bpf, BPF_MAP_LOOKUP_ELEM, &attr, sizeof(attr)) < 0 &&
		      errno == EPERM ? 1 : 0);
	}
	if (waitpid(pid, &status, 0) != pid)
		return true;
	return !WIFEXITED(status) || WEXITSTATUS(status) != 0;
}

static bool dropped_all_but(const struct tcl_config *cfg, bool changed_user, bool keep_bpf)
{
	uid_t r, e, s;

	if (capng_get_caps_process() ||
	    capng_have_capability(CAPNG_EFFECTIVE, CAP_BPF) != keep_bpf)
		return false;
	/* the read-back state, less what we meant to keep, must be empty */
	if (keep_bpf &&
	    capng_update(CAPNG_DROP, CAPNG_EFFECTIVE | CAPNG_PERMITTED, CAP_BPF))
		return false;
	if (capng_have_capabilities(CAPNG_SELECT_CAPS) != CAPNG_NONE)
		return false;
	if (!changed_user)
		return true;
	return !getresuid(&r, &e, &s) && r == cfg->run_uid && e == cfg->run_uid &&
	       s == cfg->run_uid && getgid() == cfg->run_gid && getegid() == cfg->run_gid;
}

int privs_drop(const struct tcl_config *cfg, bool *kept_bpf, char *why, size_t len)
{
	bool change_user;
	int err;

	if (capng_get_caps_process()) {
		snprintf(why, len, "cannot read this process's capabilities");
		return -1;
	}
	change_user = may_change_user();
	*kept_bpf = bpf_refused_without_capability(cfg, change_user);
	err = become_unprivileged(cfg, change_user, *kept_bpf);
	if (err) {
		snprintf(why, len, "libcap-ng could not %s (code %d, %s)",
			 change_user ? "change user and clear capabilities" :
				       "clear capabilities", err, strerror(errno));
		return -1;
	}
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0)) {
		snprintf(why, len, "cannot set no_new_privs: %s", strerror(errno));
		return -1;
	}
	if (!dropped_all_but(cfg, change_user, *kept_bpf)) {
		snprintf(why, len, "capabilities or user ids remain after dropping them");
		return -1;
	}
	return 0;
}
