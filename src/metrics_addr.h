/* SPDX-License-Identifier: GPL-2.0-only */
/* --metrics ADDR:PORT, --metrics-labels: what the command line says */
#ifndef TCL_METRICS_ADDR_H
#define TCL_METRICS_ADDR_H

#include <stddef.h>
#include <sys/socket.h>

struct metrics_addr {
	struct sockaddr_storage ss;
	socklen_t len;
	char text[60];		/* as shown in messages: 127.0.0.1:9476, [::1]:9476 */
};

/* PORT (loopback), A.B.C.D:PORT or [IPV6]:PORT; 0, or -1 with why. */
int metrics_parse_addr(const char *s, struct metrics_addr *out, char *why, size_t len);
/* "comm,dport,container", any subset: METRICS_LABEL_* bits; 0, or -1 with why. */
int metrics_parse_labels(const char *s, unsigned int *labels, char *why, size_t len);

#endif
