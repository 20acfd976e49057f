/* SPDX-License-Identifier: GPL-2.0-only */
/* The record stream to stdout (or to -o's file, outfile.h): lines are formatted straight into one
 * buffer, which is written with write(2), retried after a signal
 * (EINTR), a partial write, or a non-blocking descriptor that is full.
 * A signal therefore never costs a line; a real write error stops the
 * output, and every line not written from then on is counted.
 */
#ifndef TCL_OUTPUT_H
#define TCL_OUTPUT_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include "strbuf.h"

/* two of the longest lines (TCL_LINE_MAX, ~90 KB with every name) */
#define OUTPUT_BUF_SIZE (1 << 18)

/* Set (from a signal handler) to give up on a stdout that does not take
 * what is owed: a blocked write stops, and every line not written is
 * counted, with ECANCELED as the error.
 */
extern volatile sig_atomic_t output_abandon;

struct outfile;

struct output {
	int fd;
	struct outfile *file;		/* -o: written through outfile.c instead of fd */
	int err;			/* errno of the write that failed, 0 if none */
	unsigned long long unwritten;	/* lines lost to err (or too long) */
	size_t len;
	char buf[OUTPUT_BUF_SIZE];
};

void output_init(struct output *o, int fd);
/* sb over the free end of the buffer, with room for a line of any record
 * (TCL_LINE_MAX): format one line into it, then output_line_end().
 */
void output_line_begin(struct output *o, struct strbuf *sb);
/* The line in sb joins the output; one that overflowed is counted in
 * .unwritten instead of being cut.
 */
void output_line_end(struct output *o, const struct strbuf *sb);
/* 0 once all n bytes are written to fd, else the errno; *done says how
 * many were.
 */
int output_write_all(int fd, const char *p, size_t n, size_t *done);
/* Write out what is buffered: 0, or the errno that stopped the output. */
int output_flush(struct output *o);

#endif
