/* SPDX-License-Identifier: GPL-2.0-only */
/* The running session: ring-buffer consumer, output, stop conditions,
 * and what is printed on exit.
 */
#ifndef TCL_TRACER_H
#define TCL_TRACER_H

#include <signal.h>
#include "config.h"

struct tcpconnlog_bpf;
struct metrics;

/* Set by the signal handler: stop at the next wake-up. */
extern volatile sig_atomic_t tracer_stop_requested;

/* Trace until a stop condition, then print pending attempts, counts and
 * summary; metrics (--metrics, or NULL) counts the records as they come.
 * Returns the process exit status.
 */
int tracer_run(const struct tcl_config *cfg, struct tcpconnlog_bpf *skel,
	       const char *backend, struct metrics *metrics);

#endif
