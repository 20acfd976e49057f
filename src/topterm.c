// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/epoll.h>
#include <sys/ioctl.h>
#include "topterm.h"

/* SIGWINCH: a flag, and a byte in a pipe that wakes the reader's wait
 * (a signal that lands just before the wait would not end it).
 */
static volatile sig_atomic_t winched;
static int winch_pipe[2] = { -1, -1 };

static void on_winch(int sig)
{
	int saved = errno;

	(void)sig;
	winched = 1;
	/* a full pipe has a wake-up pending already */
	(void)!write(winch_pipe[1], "w", 1);
	errno = saved;
}

bool topterm_draws_on(const char *term)
{
	return term && *term && strcmp(term, "dumb") != 0;
}

bool topterm_usable(void)
{
	return isatty(STDOUT_FILENO) && topterm_draws_on(getenv("TERM"));
}

static int watch(int epfd, int fd)
{
	struct epoll_event e = { .events = EPOLLIN, .data.fd = fd };

	return epoll_ctl(epfd, EPOLL_CTL_ADD, fd, &e);
}

/* Keys one at a time without echo; Ctrl-C still signals. */
static void take_keys(struct topterm *tt)
{
	struct termios raw;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &tt->saved))
		return;
	raw = tt->saved;
	raw.c_lflag &= ~(ICANON | ECHO);
	raw.c_cc[VMIN] = 0;	/* read() returns at once, with or without keys */
	raw.c_cc[VTIME] = 0;
	tt->raw = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
	tt->keys = tt->raw && watch(tt->wait_fd, STDIN_FILENO) == 0;
}

int topterm_open(struct topterm *tt)
{
	struct sigaction sa = { .sa_handler = on_winch, .sa_flags = SA_RESTART };

	memset(tt, 0, sizeof(*tt));
	tt->wait_fd = epoll_create1(EPOLL_CLOEXEC);
	if (tt->wait_fd < 0)
		return -1;
	if (pipe2(winch_pipe, O_NONBLOCK | O_CLOEXEC) || watch(tt->wait_fd, winch_pipe[0])) {
		topterm_close(tt);
		return -1;
	}
	take_keys(tt);
	winched = 0;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGWINCH, &sa, NULL);
	/* the alternate screen: the shell's screen comes back on exit */
	fputs("\033[?1049h\033[?25l", stdout);
	(void)fflush(stdout);	/* best effort, as the frames are */
	tt->screen = true;
	return 0;
}

static void stop_keys(struct topterm *tt)
{
	epoll_ctl(tt->wait_fd, EPOLL_CTL_DEL, STDIN_FILENO, NULL);
	tt->keys = false;
}

size_t topterm_keys(struct topterm *tt, char *buf, size_t size)
{
	struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
	size_t got = 0;

	while (tt->keys && got < size && poll(&p, 1, 0) == 1) {
		ssize_t n = (p.revents & POLLIN) ? read(STDIN_FILENO, buf + got, size - got) : 0;

		/* readable yet nothing to read: the terminal hung up; stop
		 * watching it, or every wait would return at once
		 */
		if (n <= 0) {
			if (n == 0 || (errno != EINTR && errno != EAGAIN))
				stop_keys(tt);
			break;
		}
		got += (size_t)n;
	}
	return got;
}

bool topterm_resized(struct topterm *tt)
{
	char drain[64];
	bool was = winched;

	(void)tt;
	winched = 0;
	while (winch_pipe[0] >= 0 && read(winch_pipe[0], drain, sizeof(drain)) > 0)
		;
	return was;
}

void topterm_size(int *rows, int *cols)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col) {
		*rows = ws.ws_row;
		*cols = ws.ws_col;
	} else {
		*rows = 24;
		*cols = 80;
	}
}

void topterm_close(struct topterm *tt)
{
	if (tt->raw) {
		tcsetattr(STDIN_FILENO, TCSANOW, &tt->saved);
		tt->raw = false;
	}
	if (tt->screen) {
		/* best effort, as the frames are */
		(void)fflush(stdout);
		/* cleared first: tmux, when the window was resized meanwhile,
		 * copies lines of the alternate screen into the one it restores
		 */
		fputs("\033[H\033[2J\033[?25h\033[?1049l", stdout);
		(void)fflush(stdout);
		tt->screen = false;
		(void)signal(SIGWINCH, SIG_DFL);
	}
	for (int i = 0; i < 2; i++) {
		if (winch_pipe[i] >= 0)
			close(winch_pipe[i]);
		winch_pipe[i] = -1;
	}
	if (tt->wait_fd >= 0)
		close(tt->wait_fd);
	tt->wait_fd = -1;
	tt->keys = false;
}
