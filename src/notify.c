// SPDX-License-Identifier: GPL-2.0-only
/*
 * sd_notify(3) without libsystemd: each message is one datagram to the
 * AF_UNIX socket NOTIFY_SOCKET names. The socket is connected once, at
 * start, while the process may still reach a root-only path; after the
 * privileges are dropped, sends go through that connection.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "notify.h"

static int notify_fd = -1;

int notify_address(const char *value, struct sockaddr_un *sa, socklen_t *len)
{
	size_t n = strlen(value);

	/* an abstract name has no NUL at its end: its length is the name's */
	if ((value[0] != '/' && value[0] != '@') || n < 2 || n >= sizeof(sa->sun_path))
		return -1;
	memset(sa, 0, sizeof(*sa));
	sa->sun_family = AF_UNIX;
	memcpy(sa->sun_path, value, n);
	if (value[0] == '@')
		sa->sun_path[0] = '\0';
	*len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + n + (value[0] == '/'));
	return 0;
}

void notify_open(void)
{
	const char *value = getenv("NOTIFY_SOCKET");
	struct sockaddr_un sa;
	socklen_t len;
	int fd;

	if (!value || !*value)
		return;
	if (notify_address(value, &sa, &len)) {
		fprintf(stderr, "tcpconnlog: warning: NOTIFY_SOCKET=%s is not a socket path "
			"or @name: systemd is not told when tracing starts\n", value);
		goto out;
	}
	fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, len)) {
		fprintf(stderr, "tcpconnlog: warning: cannot reach NOTIFY_SOCKET=%s: %s: "
			"systemd is not told when tracing starts\n", value, strerror(errno));
		if (fd >= 0)
			close(fd);
		goto out;
	}
	notify_fd = fd;
out:
	/* as sd_notify's unset_environment: nothing this process might
	 * start speaks for it
	 */
	unsetenv("NOTIFY_SOCKET");
}

void notify_send(const char *msg, bool wait)
{
	int flags = MSG_NOSIGNAL | (wait ? 0 : MSG_DONTWAIT);
	ssize_t n;

	if (notify_fd < 0)
		return;
	do
		n = send(notify_fd, msg, strlen(msg), flags);
	while (n < 0 && errno == EINTR);
	if (n < 0 && wait)
		fprintf(stderr, "tcpconnlog: warning: cannot tell systemd %.*s: %s\n",
			(int)strcspn(msg, "\n"), msg, strerror(errno));
}

void notify_close(void)
{
	if (notify_fd >= 0)
		close(notify_fd);
	notify_fd = -1;
}

bool notify_enabled(void)
{
	return notify_fd >= 0;
}
