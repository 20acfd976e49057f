// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include "addr.h"

const char *addr_to_str(__u8 ip, const union tcl_addr *addr, char *buf)
{
	if (!inet_ntop(ip == 4 ? AF_INET : AF_INET6, addr, buf, TCL_ADDR_STRLEN))
		buf[0] = '\0';
	return buf;
}
