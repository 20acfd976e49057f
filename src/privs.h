/* SPDX-License-Identifier: GPL-2.0-only */
/* Least privilege once the probes are attached. */
#ifndef TCL_PRIVS_H
#define TCL_PRIVS_H

#include <stdbool.h>
#include <stddef.h>
#include "config.h"

/* Give up every capability and, where we may change user, become
 * cfg->run_uid/run_gid with no supplementary groups; no execve can regain
 * anything. *kept_bpf: CAP_BPF was kept, because this kernel refuses
 * bpf() to a process without it. 0, or -1 with the reason in why.
 */
int privs_drop(const struct tcl_config *cfg, bool *kept_bpf, char *why, size_t len);

#endif
