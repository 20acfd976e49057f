// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <poll.h>
#include <string.h>
#include <unistd.h>
#include "format.h"
#include "outfile.h"
#include "output.h"

_Static_assert(OUTPUT_BUF_SIZE >= 2 * TCL_LINE_MAX, "room for lines of any record");

volatile sig_atomic_t output_abandon;

void output_init(struct output *o, int fd)
{
	o->fd = fd;
	o->file = NULL;
	o->err = 0;
	o->unwritten = 0;
	o->len = 0;
}

int output_write_all(int fd, const char *p, size_t n, size_t *done)
{
	while (*done < n) {
		ssize_t w;

		if (output_abandon)
			return ECANCELED;
		w = write(fd, p + *done, n - *done);

		if (w > 0) {
			*done += (size_t)w;
		} else if (w < 0 && errno == EAGAIN) {
			/* someone made stdout non-blocking: wait for room */
			struct pollfd pfd = { .fd = fd, .events = POLLOUT };

			(void)poll(&pfd, 1, -1);
		} else if (w == 0 || errno != EINTR) {
			return w ? errno : EIO;
		}
	}
	return 0;
}

static unsigned long long count_lines(const char *p, size_t n)
{
	unsigned long long lines = 0;

	for (const char *end = p + n; (p = memchr(p, '\n', (size_t)(end - p))); p++)
		lines++;
	return lines;
}

int output_flush(struct output *o)
{
	size_t done = 0;

	if (!o->err)
		o->err = o->file ? outfile_write(o->file, o->buf, o->len, &done) :
				   output_write_all(o->fd, o->buf, o->len, &done);
	/* a line cut by the failed write counts as not written */
	if (o->err)
		o->unwritten += count_lines(o->buf + done, o->len - done);
	o->len = 0;
	return o->err;
}

void output_line_begin(struct output *o, struct strbuf *sb)
{
	if (sizeof(o->buf) - o->len < TCL_LINE_MAX)
		(void)output_flush(o);
	sb_init(sb, o->buf + o->len, sizeof(o->buf) - o->len);
}

void output_line_end(struct output *o, const struct strbuf *sb)
{
	if (sb->overflow)
		o->unwritten++;
	else
		o->len += sb->len;
}
