/* SPDX-License-Identifier: GPL-2.0-only */
/* Count mode (-c): attempts per source address, destination and port
 * (and container, --by container).
 */
#ifndef TCL_COUNTS_H
#define TCL_COUNTS_H

#include <stdbool.h>
#include <stdio.h>
#include "table.h"
#include <linux/types.h>
#include "tcpconnlog.h"

#define COUNTS_MAX_KEYS 65536

struct counts {
	bool by_container;	/* --by container: the container is part of the key */
	struct table by_dest;
	__u64 overflowed;	/* attempts past COUNTS_MAX_KEYS distinct keys */
};

int counts_init(struct counts *c);
void counts_free(struct counts *c);
/* container: the attempt's container id, NULL when none */
void counts_add(struct counts *c, const struct tcl_event *ev, const char *container);
/* Table (or JSON lines) sorted by connects, most first. */
void counts_print(const struct counts *c, bool json, int addr_width, FILE *out);

#endif
