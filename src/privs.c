// SPDX-License-Identifier: GPL-2.0-only
/*
 * Once the BPF programs are loaded and attached and every file the run
 * needs is open, nothing left needs privileges: reading the ring buffer,
 * the maps and sock_diag goes through descriptors we hold. So the process
 * drops to an ordinary user before it reads a single record.
 */
#include <cap-ng.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/prctl.h>
#include "privs.h"

/* Started as root, or with the capabilities to change user. */
static bool may_change_user(void)
{
	return capng_have_capability(CAPNG_EFFECTIVE, CAP_SETUID) &&
	       capng_have_capability(CAPNG_EFFECTIVE, CAP_SETGID) &&
	       capng_have_capability(CAPNG_EFFECTIVE, CAP_SETPCAP);
}

static bool dropped_everything(const struct tcl_config *cfg, bool changed_user)
{
	uid_t r, e, s;

	if (capng_get_caps_process() ||
	    capng_have_capabilities(CAPNG_SELECT_CAPS) != CAPNG_NONE)
		return false;
	if (!changed_user)
		return true;
	return !getresuid(&r, &e, &s) && r == cfg->run_uid && e == cfg->run_uid &&
	       s == cfg->run_uid && getgid() == cfg->run_gid && getegid() == cfg->run_gid;
}

int privs_drop(const struct tcl_config *cfg, char *why, size_t len)
{
	bool change_user;
	int err;

	if (capng_get_caps_process()) {
		snprintf(why, len, "cannot read this process's capabilities");
		return -1;
	}
	change_user = may_change_user();
	capng_clear(CAPNG_SELECT_ALL);
	if (change_user)
		/* groups, then the ids, keeping no capability across the change;
		 * the bounding set is emptied as well
		 */
		/* ids fit: cli.c takes none above 0xfffffffe */
		err = capng_change_id((int)cfg->run_uid, (int)cfg->run_gid,
				      CAPNG_DROP_SUPP_GRP | CAPNG_CLEAR_BOUNDING);
	else
		/* started as an ordinary user with capabilities: already the
		 * user it is, only the capabilities go (ambient ones with them)
		 */
		err = capng_apply(CAPNG_SELECT_CAPS);
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
	if (!dropped_everything(cfg, change_user)) {
		snprintf(why, len, "capabilities or user ids remain after dropping them");
		return -1;
	}
	return 0;
}
