/* SPDX-License-Identifier: GPL-2.0-only */
/* Appending text to a fixed buffer without printf on the per-event path.
 * Writes past the end are dropped and remembered in .overflow.
 */
#ifndef TCL_STRBUF_H
#define TCL_STRBUF_H

#include <stdbool.h>
#include <stddef.h>
#include <string.h>

struct strbuf {
	char *buf;
	size_t len;
	size_t cap;
	bool overflow;
};

static inline void sb_init(struct strbuf *sb, char *buf, size_t cap)
{
	sb->buf = buf;
	sb->len = 0;
	sb->cap = cap;
	sb->overflow = false;
}

static inline void sb_mem(struct strbuf *sb, const char *s, size_t n)
{
	if (sb->len + n > sb->cap) {
		sb->overflow = true;
		return;
	}
	memcpy(sb->buf + sb->len, s, n);
	sb->len += n;
}

static inline void sb_str(struct strbuf *sb, const char *s)
{
	sb_mem(sb, s, strlen(s));
}

static inline void sb_char(struct strbuf *sb, char c)
{
	sb_mem(sb, &c, 1);
}

static inline void sb_u64(struct strbuf *sb, unsigned long long v)
{
	char tmp[20];
	int i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	sb_mem(sb, tmp + i, sizeof(tmp) - i);
}

/* v thousandths as "v/1000.vvv" (0.001 resolution, no rounding surprises) */
static inline void sb_milli(struct strbuf *sb, unsigned long long v)
{
	char frac[4] = { '.', (char)('0' + (v / 100) % 10), (char)('0' + (v / 10) % 10),
			  (char)('0' + v % 10) };

	sb_u64(sb, v / 1000);
	sb_mem(sb, frac, 4);
}

static inline void sb_pad(struct strbuf *sb, size_t from, size_t width)
{
	/* a full buffer drops the spaces without growing: stop there */
	while (sb->len - from < width && !sb->overflow)
		sb_char(sb, ' ');
}

/* A text column: s padded to width, then the space that separates it. */
static inline void sb_column(struct strbuf *sb, const char *s, size_t width)
{
	size_t start = sb->len;

	sb_str(sb, s);
	sb_pad(sb, start, width);
	sb_char(sb, ' ');
}

static inline void sb_column_u64(struct strbuf *sb, unsigned long long v, size_t width)
{
	size_t start = sb->len;

	sb_u64(sb, v);
	sb_pad(sb, start, width);
	sb_char(sb, ' ');
}

#endif
