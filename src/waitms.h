/* SPDX-License-Identifier: GPL-2.0-only */
/* How long the reader may sleep before something falls due. */
#ifndef TCL_WAITMS_H
#define TCL_WAITMS_H

#include <linux/types.h>

/* Milliseconds from now_ns until deadline_ns, rounded up (waking early
 * would only spin), 0 if it has passed, at most max_ms.
 */
static inline int ms_until(__u64 deadline_ns, __u64 now_ns, int max_ms)
{
	__u64 ms;

	if (now_ns >= deadline_ns)
		return 0;
	ms = (deadline_ns - now_ns + 999999) / 1000000;
	return ms < (__u64)max_ms ? (int)ms : max_ms;
}

#endif
