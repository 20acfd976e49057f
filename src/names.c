// SPDX-License-Identifier: GPL-2.0-only
#include <stdio.h>
#include <string.h>
#include <linux/types.h>
#include "names.h"
#include "tcpconnlog.h"

static const char *const result_names[TCL_RESULT_MAX] = {
	[TCL_PENDING] = "pending",
	[TCL_ESTABLISHED] = "established",
	[TCL_REFUSED] = "refused",
	[TCL_TIMEOUT] = "timeout",
	[TCL_UNREACHABLE] = "unreachable",
	[TCL_CLOSED] = "closed",
	[TCL_ERROR] = "error",
};

const char *result_name(unsigned int result)
{
	return result < TCL_RESULT_MAX ? result_names[result] : "unknown";
}

const char *kind_name(unsigned int kind)
{
	switch (kind) {
	case TCL_KIND_CONNECT:
		return "connect";
	case TCL_KIND_ACCEPT:
		return "accept";
	case TCL_KIND_CLOSE:
		return "close";
	}
	return "unknown";
}

const char *closer_name(unsigned int closer)
{
	switch (closer) {
	case TCL_CLOSER_LOCAL:
		return "local";
	case TCL_CLOSER_REMOTE:
		return "remote";
	}
	return NULL;
}

const char *errno_name(int err, char *buf, size_t len)
{
	/* kernel-internal codes that can leak out of a connect path */
	switch (err) {
	case 512:
		return "ERESTARTSYS";
	case 513:
		return "ERESTARTNOINTR";
	}
	const char *name = err > 0 ? strerrorname_np(err) : NULL;

	if (name)
		return name;
	snprintf(buf, len, "E%d", err);
	return buf;
}

const char *comm_printable(const char *comm, char *out, size_t len)
{
	size_t n = strnlen(comm, len - 1);

	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)comm[i];

		/* C0 controls, DEL, and C1 controls as UTF-8 (0xc2 0x80-0x9f) */
		if (c < 0x20 || c == 0x7f) {
			out[i] = '?';
		} else if (c == 0xc2 && i + 1 < n &&
			   (unsigned char)comm[i + 1] >= 0x80 &&
			   (unsigned char)comm[i + 1] <= 0x9f) {
			out[i] = out[i + 1] = '?';
			i++;
		} else {
			out[i] = (char)c;
		}
	}
	out[n] = '\0';
	return out;
}
