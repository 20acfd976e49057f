// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include "outfile.h"
#include "output.h"
#include "parse.h"

volatile sig_atomic_t outfile_reopen_requested;

#define OPEN_FLAGS (O_WRONLY | O_APPEND | O_CREAT | O_CLOEXEC | O_NOCTTY)

int outfile_parse_rotate(const char *s, unsigned long long *size, unsigned int *keep,
			 char *why, size_t len)
{
	static const char units[] = "kMG";
	char digits[32];
	const char *colon = strchr(s, ':'), *unit;
	size_t n = colon ? (size_t)(colon - s) : strlen(s);
	unsigned long long v, k = OUTFILE_KEEP_DEFAULT;
	unsigned int shift = 0;

	if (n && (unit = strchr(units, s[n - 1])) && *unit) {
		shift = 10 * (unsigned int)(unit - units + 1);
		n--;
	}
	if (n && n < sizeof(digits)) {
		memcpy(digits, s, n);
		digits[n] = '\0';
	}
	if (!n || n >= sizeof(digits) ||
	    parse_u64(digits, 0, (1ULL << 50) >> shift, &v) || (v << shift) < OUTFILE_SIZE_MIN) {
		snprintf(why, len, "SIZE is a number of bytes from 1024 to 1024T, with k, M or G");
		return -1;
	}
	if (colon && parse_u64(colon + 1, 1, OUTFILE_KEEP_MAX, &k)) {
		snprintf(why, len, "KEEP is a count of old files from 1 to %d", OUTFILE_KEEP_MAX);
		return -1;
	}
	*size = v << shift;
	*keep = (unsigned int)k;
	return 0;
}

int outfile_rotated_name(char *buf, size_t len, const char *name, unsigned int n)
{
	int w = snprintf(buf, len, "%s.%u", name, n);

	return w < 0 || (size_t)w >= len ? -1 : 0;
}

/* A new descriptor for the path (O_APPEND, created if gone) in place of
 * the current one; 0 or the errno, the current one kept then.
 */
static int reopen(struct outfile *f)
{
	struct stat st;
	int fd = openat(f->dirfd, f->name, OPEN_FLAGS, OUTFILE_MODE);

	if (fd < 0)
		return errno;
	if (fstat(fd, &st)) {
		int err = errno;

		close(fd);
		return err;
	}
	if (f->fd >= 0)
		close(f->fd);
	f->fd = fd;
	f->size = S_ISREG(st.st_mode) ? (unsigned long long)st.st_size : 0;
	if (st.st_dev != f->dev || st.st_ino != f->ino || !f->size)
		f->head_due = true;
	f->dev = st.st_dev;
	f->ino = st.st_ino;
	return 0;
}

/* FILE.KEEP-1 → FILE.KEEP (replacing the oldest) ... FILE → FILE.1, then
 * a new FILE. 0 or the errno.
 */
static int rotate(struct outfile *f)
{
	char from[sizeof(f->name) + 8], to[sizeof(f->name) + 8];

	for (unsigned int i = f->keep; i > 1; i--) {
		if (outfile_rotated_name(from, sizeof(from), f->name, i - 1) ||
		    outfile_rotated_name(to, sizeof(to), f->name, i))
			return ENAMETOOLONG;
		if (renameat(f->dirfd, from, f->dirfd, to) && errno != ENOENT)
			return errno;
	}
	if (outfile_rotated_name(to, sizeof(to), f->name, 1))
		return ENAMETOOLONG;
	if (renameat(f->dirfd, f->name, f->dirfd, to))
		return errno;
	return reopen(f);
}

/* Reopening or rotating failed: say so once per kind of failure, and go
 * on with the file already open.
 */
static void warn_once(struct outfile *f, int *last, int err, const char *what)
{
	if (err && err != *last)
		fprintf(stderr, "tcpconnlog: warning: cannot %s %s: %s (records go on to the "
			"file already open; the directory must be writable by the --user)\n",
			what, f->path, strerror(err));
	*last = err;
}

int outfile_open(struct outfile *f, const char *path, unsigned long long max_size,
		 unsigned int keep, char *why, size_t len)
{
	const char *slash = strrchr(path, '/');
	const char *name = slash ? slash + 1 : path;
	char dir[4096];
	int err;

	memset(f, 0, sizeof(*f));
	f->fd = f->dirfd = -1;
	f->path = path;
	f->max_size = max_size;
	f->keep = keep;
	if (!*name || !strcmp(name, ".") || !strcmp(name, "..")) {
		snprintf(why, len, "cannot open output file '%s': not a file name", path);
		return -1;
	}
	/* room for ".KEEP" after the name */
	if (strlen(name) + 5 > sizeof(f->name) - 1 ||
	    (slash && (size_t)(slash - path) >= sizeof(dir))) {
		snprintf(why, len, "cannot open output file '%s': %s", path, strerror(ENAMETOOLONG));
		return -1;
	}
	memcpy(f->name, name, strlen(name) + 1);
	if (slash == path)
		snprintf(dir, sizeof(dir), "/");
	else
		snprintf(dir, sizeof(dir), "%.*s", slash ? (int)(slash - path) : 1,
			 slash ? path : ".");
	f->dirfd = open(dir, O_PATH | O_DIRECTORY | O_CLOEXEC);
	err = f->dirfd < 0 ? errno : reopen(f);
	if (err) {
		snprintf(why, len, "cannot open output file '%s': %s", path, strerror(err));
		outfile_close(f);
		return -1;
	}
	return 0;
}

void outfile_close(struct outfile *f)
{
	if (f->fd >= 0)
		close(f->fd);
	if (f->dirfd >= 0)
		close(f->dirfd);
	f->fd = f->dirfd = -1;
}

/* How much of p[0..n) to write before a rotation: the whole lines that
 * fit in the room left; if none does, the first line alone when the file
 * is empty (a line longer than SIZE gets a file to itself), else 0.
 */
static size_t fitting(const struct outfile *f, const char *p, size_t n)
{
	unsigned long long room = f->size < f->max_size ? f->max_size - f->size : 0;
	const char *nl;

	if (!f->max_size || n <= room)
		return n;
	nl = room ? memrchr(p, '\n', (size_t)room) : NULL;
	if (nl)
		return (size_t)(nl - p) + 1;
	if (f->size)
		return 0;
	nl = memchr(p, '\n', n);
	return nl ? (size_t)(nl - p) + 1 : n;
}

void outfile_set_head(struct outfile *f, const char *line, size_t len)
{
	f->head = line;
	f->head_len = len;
	f->head_due = true;
}

static int write_head(struct outfile *f)
{
	size_t w = 0;
	int err;

	if (!f->head || !f->head_due)
		return 0;
	err = output_write_all(f->fd, f->head, f->head_len, &w);
	f->size += w;
	f->head_due = err != 0;
	return err;
}

int outfile_write(struct outfile *f, const char *p, size_t n, size_t *done)
{
	if (!n)
		return write_head(f);
	while (*done < n) {
		size_t chunk, w = 0;
		int err;

		if (outfile_reopen_requested) {
			outfile_reopen_requested = 0;
			warn_once(f, &f->reopen_err, reopen(f), "reopen");
		}
		err = write_head(f);
		if (err)
			return err;
		chunk = fitting(f, p + *done, n - *done);
		if (!chunk) {
			err = rotate(f);
			warn_once(f, &f->rotate_err, err, "rotate");
			if (!err)
				continue;
			/* not rotated: the lines go on in this file */
			chunk = n - *done;
		}
		err = output_write_all(f->fd, p + *done, chunk, &w);
		*done += w;
		f->size += w;
		if (err)
			return err;
	}
	return 0;
}
