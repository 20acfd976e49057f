/* SPDX-License-Identifier: GPL-2.0-only */
/* -o FILE: the record stream appended to a file that can be reopened
 * (SIGHUP, after logrotate renamed it) and rotated by size (--rotate).
 * The file's directory is held open (O_PATH) from the start, while the
 * tool still has its privileges: every later open and rename is made
 * relative to it, so after the drop to --user the directory itself must
 * be writable by that user (the path above it need not be reachable).
 * Rotation and reopening happen only between whole lines; one that fails
 * leaves the output on the file already open, with a warning, so no line
 * is lost for it.
 */
#ifndef TCL_OUTFILE_H
#define TCL_OUTFILE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

#define OUTFILE_MODE		0640	/* records name processes: not for all */
#define OUTFILE_KEEP_DEFAULT	5
#define OUTFILE_KEEP_MAX	999
#define OUTFILE_SIZE_MIN	1024ULL

/* Set from the SIGHUP handler: reopen the path before the next write. */
extern volatile sig_atomic_t outfile_reopen_requested;

struct outfile {
	int fd;			/* the file written now */
	int dirfd;		/* its directory, O_PATH */
	const char *path;	/* as given, for messages */
	char name[256];		/* the last component, opened relative to dirfd */
	unsigned long long size;	/* bytes in fd's file (fstat at open, then counted) */
	unsigned long long max_size;	/* --rotate SIZE, 0 = never rotate */
	unsigned int keep;		/* --rotate KEEP: FILE.1 .. FILE.KEEP */
	int reopen_err, rotate_err;	/* the last failure warned about, 0 if none */
	dev_t dev;		/* fd's file, to tell a new file from the same one */
	ino_t ino;
	const char *head;	/* -j: the start record, at the head of each file */
	size_t head_len;
	bool head_due;		/* fd's file still lacks it */
};

/* "SIZE[:KEEP]": SIZE in bytes with an optional k, M or G (powers of
 * 1024), at least OUTFILE_SIZE_MIN; KEEP 1..OUTFILE_KEEP_MAX (default
 * OUTFILE_KEEP_DEFAULT). 0, or -1 with the reason in why.
 */
int outfile_parse_rotate(const char *s, unsigned long long *size, unsigned int *keep,
			 char *why, size_t len);

/* "NAME.N" into buf (the name of rotated file n); -1 if it does not fit. */
int outfile_rotated_name(char *buf, size_t len, const char *name, unsigned int n);

/* Open path for appending (created OUTFILE_MODE), and its directory.
 * 0, or -1 with the reason in why.
 */
int outfile_open(struct outfile *f, const char *path, unsigned long long max_size,
		 unsigned int keep, char *why, size_t len);
void outfile_close(struct outfile *f);
/* A line (the caller's, kept) written first into the file open now and
 * into every other one opened after it: a new file after a rotation or a
 * reopen, or the same one found empty. Written at the next outfile_write(),
 * even one of no bytes.
 */
void outfile_set_head(struct outfile *f, const char *line, size_t len);

/* Write n bytes of whole lines, reopening first if asked and rotating
 * between lines as --rotate says. 0 once all are written, else the errno;
 * *done says how many were.
 */
int outfile_write(struct outfile *f, const char *p, size_t n, size_t *done);

#endif
