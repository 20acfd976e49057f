/* SPDX-License-Identifier: GPL-2.0-only */
/* Names as printed: of results, errno values, and command names (the
 * rules for text and the UTF-8 decoding JSON shares).
 */
#ifndef TCL_NAMES_H
#define TCL_NAMES_H

#include <stdbool.h>
#include <stddef.h>
#include <linux/types.h>
#include "tcpconnlog.h"

/* "established", "refused", ...; "unknown" out of range. */
const char *result_name(unsigned int result);
/* "connect", "accept" or "close" (enum tcl_kind). */
const char *kind_name(unsigned int kind);
/* "local" or "remote" (enum tcl_closer); NULL when unknown. */
const char *closer_name(unsigned int closer);

/* "ECONNREFUSED"; numbers without a name as "E<n>" in buf. */
const char *errno_name(int err, char *buf, size_t len);

/* Length of the valid UTF-8 sequence at s (n bytes left, n > 0), with its
 * code point in *cp; 0 when the bytes there are not valid UTF-8.
 */
size_t utf8_decode(const unsigned char *s, size_t n, unsigned int *cp);
/* Code points that change how the text around them shows or reads:
 * C0 and C1 controls, DEL, bidirectional controls, zero-width and other
 * invisible format characters, line and paragraph separators.
 */
bool cp_is_control(unsigned int cp);
/* White space besides the controls: it would split a text field. */
bool cp_is_space(unsigned int cp);

/* Room comm_printable() needs for any command name: each byte as \xHH. */
#define COMM_PRINTABLE_SIZE (4 * TCL_COMM_LEN + 1)

/* A command name (at most TCL_COMM_LEN bytes, NUL-terminated or not) for
 * text output, as one field without white space that a terminal shows as
 * it is: printable ASCII and printable valid UTF-8 pass; a backslash
 * becomes \\; white space, controls (C0, DEL, C1, bidi, invisible) and
 * invalid bytes become \xHH, one per byte. An empty name is "-" (and a
 * name that is "-" is \x2d). out holds len bytes (COMM_PRINTABLE_SIZE
 * fits every name; a smaller one cuts between characters).
 */
const char *comm_printable(const char *comm, char *out, size_t len);
/* The same for any name of at most max bytes (a host name, a container
 * id): out needs 4 * max + 1 bytes for every name to fit.
 */
const char *name_printable(const char *name, size_t max, char *out, size_t len);
/* Columns that text takes on a terminal, counted as one per code point. */
size_t text_width(const char *s);
/* printf width for s (from comm_printable) to fill `width` columns */
int text_pad(const char *s, int width);

#endif
