/* SPDX-License-Identifier: GPL-2.0-only */
/* Addresses of a record as text. */
#ifndef TCL_ADDR_H
#define TCL_ADDR_H

#include <stdbool.h>
#include <linux/types.h>
#include "tcpconnlog.h"

/* Longest text form: an IPv6 address with an embedded IPv4 one. */
#define TCL_ADDR_STRLEN 46

/* ip is 4 or 6; writes "127.0.0.1", "::1", "::ffff:10.0.0.1". */
const char *addr_to_str(__u8 ip, const union tcl_addr *addr, char *buf);

/* An IPv6 address of the form ::ffff:a.b.c.d (an IPv4 peer of an IPv6 socket) */
bool addr_v4_mapped(const union tcl_addr *addr);

#endif
