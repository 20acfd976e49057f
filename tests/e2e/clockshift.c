// SPDX-License-Identifier: GPL-2.0-only
/* LD_PRELOAD for test_clock.py: CLOCK_REALTIME as the process sees it,
 * moved by the whole seconds written in the file $TCL_CLOCKSHIFT_FILE
 * (read at every call, so the test can step this one process's wall
 * clock while it runs; the host's clock is never touched).
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

static long long shift_seconds(void)
{
	const char *path = getenv("TCL_CLOCKSHIFT_FILE");
	char buf[32];
	ssize_t n;
	int fd;

	if (!path || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	return strtoll(buf, NULL, 10);
}

int clock_gettime(clockid_t clock, struct timespec *ts)
{
	static int (*real)(clockid_t, struct timespec *);
	int ret;

	if (!real)
		real = (int (*)(clockid_t, struct timespec *))dlsym(RTLD_NEXT, "clock_gettime");
	ret = real(clock, ts);
	if (!ret && clock == CLOCK_REALTIME)
		ts->tv_sec += shift_seconds();
	return ret;
}
