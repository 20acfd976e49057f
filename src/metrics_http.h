/* SPDX-License-Identifier: GPL-2.0-only */
/* --metrics: the HTTP server (libmicrohttpd) of GET /metrics and GET /ready.
 * The socket is bound at start, before the probes are attached and while
 * privileges last, so that a bad or taken address stops the run at once.
 * The server's thread runs without capabilities from its first request.
 */
#ifndef TCL_METRICS_HTTP_H
#define TCL_METRICS_HTTP_H

#include <stddef.h>
#include "metrics.h"
#include "metrics_addr.h"

struct MHD_Daemon;

struct metrics_server {
	int fd;			/* the listening socket, until the daemon owns it */
	struct MHD_Daemon *daemon;
	struct metrics *m;
	int err;		/* of the thread that started the daemon */
};

/* Bind and listen on a; 0, or -1 with why. */
int metrics_server_listen(struct metrics_server *srv, const struct metrics_addr *a,
			  char *why, size_t len);
/* Serve m from a thread of its own without capabilities; 0, or -1 with why. */
int metrics_server_start(struct metrics_server *srv, struct metrics *m, char *why, size_t len);
void metrics_server_stop(struct metrics_server *srv);
/* "tcpconnlog_build_info"'s version label */
const char *metrics_version(void);

#endif
