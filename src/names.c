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

size_t utf8_decode(const unsigned char *s, size_t n, unsigned int *cp)
{
	size_t len;
	unsigned int c;

	if (s[0] < 0x80) {
		*cp = s[0];
		return 1;
	}
	if (s[0] < 0xc2 || s[0] > 0xf4)
		return 0;
	len = s[0] >= 0xf0 ? 4 : s[0] >= 0xe0 ? 3 : 2;
	if (len > n)
		return 0;
	c = s[0] & (0x7f >> len);
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		c = c << 6 | (s[i] & 0x3f);
	}
	/* overlong forms, surrogates and values past U+10FFFF are invalid */
	if ((len == 3 && c < 0x800) || (len == 4 && c < 0x10000) ||
	    (c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff)
		return 0;
	*cp = c;
	return len;
}

bool cp_is_control(unsigned int cp)
{
	return cp < 0x20 || (cp >= 0x7f && cp <= 0x9f) ||
	       cp == 0xad ||			/* soft hyphen */
	       cp == 0x061c ||			/* Arabic letter mark */
	       cp == 0x180e ||			/* Mongolian vowel separator */
	       (cp >= 0x200b && cp <= 0x200f) ||	/* zero width, LRM, RLM */
	       (cp >= 0x2028 && cp <= 0x202e) ||	/* separators, embeddings, overrides */
	       (cp >= 0x2060 && cp <= 0x206f) ||	/* joiners, isolates, deprecated */
	       cp == 0xfeff ||			/* zero-width no-break space */
	       (cp >= 0xfff9 && cp <= 0xfffb);	/* interlinear annotation */
}

bool cp_is_space(unsigned int cp)
{
	return cp == ' ' || cp == 0xa0 || cp == 0x1680 || (cp >= 0x2000 && cp <= 0x200a) ||
	       cp == 0x202f || cp == 0x205f || cp == 0x3000;
}

const char *comm_printable(const char *comm, char *out, size_t len)
{
	return name_printable(comm, TCL_COMM_LEN, out, len);
}

const char *name_printable(const char *name, size_t max, char *out, size_t len)
{
	static const char hex[] = "0123456789abcdef";
	const unsigned char *s = (const unsigned char *)name;
	size_t n = strnlen(name, max), o = 0;

	if (n == 0 || (n == 1 && s[0] == '-')) {
		/* "-" stands for the empty name, so a real "-" is escaped */
		snprintf(out, len, "%s", n ? "\\x2d" : "-");
		return out;
	}
	for (size_t i = 0; i < n;) {
		unsigned int cp;
		size_t seq;
		char esc[4 * 4];
		size_t k = 0;

		/* the common case first: printable ASCII but space and backslash */
		if (s[i] > ' ' && s[i] < 0x7f && s[i] != '\\') {
			if (o + 1 >= len)
				break;
			out[o++] = (char)s[i++];
			continue;
		}
		seq = utf8_decode(s + i, n - i, &cp);
		if (seq && cp != '\\' && !cp_is_control(cp) && !cp_is_space(cp)) {
			memcpy(esc, s + i, seq);
			k = seq;
		} else if (seq == 1 && cp == '\\') {
			esc[k++] = '\\';
			esc[k++] = '\\';
		} else {
			/* the bytes of a hidden character, or one invalid byte */
			for (size_t j = 0; j < (seq ? seq : 1); j++) {
				esc[k++] = '\\';
				esc[k++] = 'x';
				esc[k++] = hex[s[i + j] >> 4];
				esc[k++] = hex[s[i + j] & 15];
			}
		}
		if (o + k >= len)
			break;
		memcpy(out + o, esc, k);
		o += k;
		i += seq ? seq : 1;
	}
	out[o] = '\0';
	return out;
}

size_t text_width(const char *s)
{
	size_t w = 0;

	/* UTF-8 continuation bytes (10xxxxxx) do not start a code point */
	for (; *s; s++)
		w += ((unsigned char)*s & 0xc0) != 0x80;
	return w;
}

int text_pad(const char *s, int width)
{
	return width + (int)(strlen(s) - text_width(s));
}
