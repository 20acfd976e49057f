// SPDX-License-Identifier: GPL-2.0-only
#include <arpa/inet.h>
#include <string.h>
#include "addr.h"

/* Dotted quad without glibc's inet_ntop, which formats with sprintf: that
 * was the largest single cost of a JSON record.
 */
static char *ipv4_to_str(const __u8 *b, char *out)
{
	for (int i = 0; i < 4; i++) {
		unsigned int v = b[i];

		if (v >= 100)
			*out++ = (char)('0' + v / 100);
		if (v >= 10)
			*out++ = (char)('0' + v / 10 % 10);
		*out++ = (char)('0' + v % 10);
		*out++ = i < 3 ? '.' : '\0';
	}
	return out;
}

const char *addr_to_str(__u8 ip, const union tcl_addr *addr, char *buf)
{
	if (ip == 4)
		ipv4_to_str((const __u8 *)&addr->v4, buf);
	else if (!inet_ntop(AF_INET6, addr, buf, TCL_ADDR_STRLEN))
		buf[0] = '\0';
	return buf;
}

bool addr_v4_mapped(const union tcl_addr *addr)
{
	static const __u8 prefix[12] = { [10] = 0xff, [11] = 0xff };

	return !memcmp(addr->v6, prefix, sizeof(prefix));
}
