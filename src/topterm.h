/* SPDX-License-Identifier: GPL-2.0-only */
/* --top's terminal: raw keys, the alternate screen, window resizes. */
#ifndef TCL_TOPTERM_H
#define TCL_TOPTERM_H

#include <stdbool.h>
#include <stddef.h>
#include <termios.h>
#include <sys/types.h>

struct topterm {
	bool raw;		/* stdin's terminal settings are ours */
	bool screen;		/* the alternate screen is in use */
	bool keys;		/* stdin is watched for keys */
	struct termios saved;
	int wait_fd;		/* epoll: readable on a key or a resize */
};

/* stdout is a terminal that understands escape sequences: not TERM=dumb
 * and not without TERM (an editor's shell buffer, a serial console).
 */
bool topterm_usable(void);
/* The TERM part of that: set, not empty and not dumb. */
bool topterm_draws_on(const char *term);
/* Take the terminal: keys one at a time without echo, the alternate
 * screen, SIGWINCH noted. 0 or -1 (errno set).
 */
int topterm_open(struct topterm *tt);
/* Pending keys, without waiting: how many bytes, 0 if none. */
size_t topterm_keys(struct topterm *tt, char *buf, size_t size);
/* The window changed size since the last call. */
bool topterm_resized(struct topterm *tt);
void topterm_size(int *rows, int *cols);
/* Give the terminal back as it was; safe to call again. */
void topterm_close(struct topterm *tt);

#endif
