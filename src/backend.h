/* SPDX-License-Identifier: GPL-2.0-only */
/* Choosing, loading and attaching a probe set. */
#ifndef TCL_BACKEND_H
#define TCL_BACKEND_H

#include "config.h"

struct tcpconnlog_bpf;

/* Load and attach cfg->backend (trying fentry, kprobe, tracepoint in turn
 * for auto). On failure prints one line saying why and returns -1.
 */
int backend_start(const struct tcl_config *cfg, struct tcpconnlog_bpf **out,
		  enum tcl_backend *chosen);
/* Detach and free what backend_start made. */
void backend_stop(struct tcpconnlog_bpf *skel);
/* --check: start the backend as a run would (load, attach), or each of
 * them for auto, stop it again, and report on stdout "NAME: ok" or the
 * step that failed. 0 when it started (for auto: when any of them did).
 */
int backend_check(const struct tcl_config *cfg);

#endif
