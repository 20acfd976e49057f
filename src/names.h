/* SPDX-License-Identifier: GPL-2.0-only */
/* Names of results and errno values as printed. */
#ifndef TCL_NAMES_H
#define TCL_NAMES_H

#include <stddef.h>

/* "established", "refused", ...; "unknown" out of range. */
const char *result_name(unsigned int result);
/* "connect", "accept" or "close" (enum tcl_kind). */
const char *kind_name(unsigned int kind);
/* "local" or "remote" (enum tcl_closer); NULL when unknown. */
const char *closer_name(unsigned int closer);

/* "ECONNREFUSED"; numbers without a name as "E<n>" in buf. */
const char *errno_name(int err, char *buf, size_t len);

/* A command name (at most len - 1 bytes, NUL-terminated or not) for a
 * terminal: control characters become '?', one per byte, so that a process
 * cannot forge lines or escape sequences and the columns stay in place.
 */
const char *comm_printable(const char *comm, char *out, size_t len);

#endif
