// SPDX-License-Identifier: GPL-2.0-only
// Unit tests for output.c: the record stream's buffer and write(2) loop.
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>
#include <cmocka.h>

#include "format.h"
#include "output.h"

static struct output out;

/* Line i: "line NNNNN " padded with x to 100 bytes, then a newline. */
static void add_line(struct output *o, unsigned int i)
{
	struct strbuf sb;
	char text[101];

	snprintf(text, sizeof(text), "line %05u %-89s", i, "");
	memset(text + 11, 'x', 89);
	output_line_begin(o, &sb);
	sb_mem(&sb, text, 100);
	sb_char(&sb, '\n');
	output_line_end(o, &sb);
}

/* What a reader of the pipe got: n lines, each whole and in order. */
static void assert_lines(const char *got, size_t len, unsigned int n)
{
	assert_int_equal(len, (size_t)n * 101);
	for (unsigned int i = 0; i < n; i++) {
		char want[16];

		snprintf(want, sizeof(want), "line %05u ", i);
		assert_memory_equal(got + (size_t)i * 101, want, 11);
		assert_int_equal(got[(size_t)i * 101 + 100], '\n');
	}
}

/* Read all of fd until EOF into a malloc'd buffer. */
static char *read_all(int fd, size_t *len)
{
	size_t cap = 1 << 20;
	char *buf = malloc(cap);
	ssize_t n;

	assert_non_null(buf);
	*len = 0;
	while ((n = read(fd, buf + *len, cap - *len)) > 0)
		*len += (size_t)n;
	return buf;
}

static void on_alarm(int sig)
{
	(void)sig;
}

/* A child writes n lines through the output to a pipe (non-blocking if
 * asked; with a signal handled every 2 ms if asked, without SA_RESTART,
 * so that write returns EINTR or a partial count); the reader starts late,
 * when the pipe is long full, and must get every line whole.
 */
static void write_through_full_pipe(unsigned int n, bool nonblocking, bool signals)
{
	struct sigaction sa = { .sa_handler = on_alarm };
	struct itimerval tick = { .it_interval = { 0, 2000 }, .it_value = { 0, 2000 } };
	int p[2], status;
	pid_t pid;
	size_t len;
	char *got;

	assert_int_equal(pipe(p), 0);
	if (nonblocking)
		assert_int_equal(fcntl(p[1], F_SETFL, O_NONBLOCK), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		close(p[0]);
		if (signals) {
			sigaction(SIGALRM, &sa, NULL);
			setitimer(ITIMER_REAL, &tick, NULL);
		}
		output_init(&out, p[1]);
		for (unsigned int i = 0; i < n; i++)
			add_line(&out, i);
		_exit(output_flush(&out) || out.unwritten ? 1 : 0);
	}
	close(p[1]);
	usleep(200000);
	got = read_all(p[0], &len);
	close(p[0]);
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	assert_lines(got, len, n);
	free(got);
}

/* 400 KB through a 64 KiB pipe, interrupted again and again */
static void test_signals_during_blocked_write_lose_nothing(void **state)
{
	(void)state;
	write_through_full_pipe(4000, false, true);
}

/* Someone made stdout non-blocking: a full pipe (EAGAIN) is waited for. */
static void test_nonblocking_full_pipe_waits(void **state)
{
	(void)state;
	write_through_full_pipe(3000, true, false);
}

/* A write that fails (a full disk): the errno, and every line from then
 * on counted as not written, none cut into the output.
 */
static void test_write_error_counts_lines(void **state)
{
	int fd = open("/dev/full", O_WRONLY);

	(void)state;
	assert_true(fd >= 0);
	output_init(&out, fd);
	for (unsigned int i = 0; i < 10; i++)
		add_line(&out, i);
	assert_int_equal(output_flush(&out), ENOSPC);
	assert_int_equal(out.unwritten, 10);
	add_line(&out, 10);
	assert_int_equal(output_flush(&out), ENOSPC);
	assert_int_equal(out.unwritten, 11);
	close(fd);
}

/* A line that would not fit is counted, never cut or glued to the next;
 * the buffer flushes by itself before it runs short of TCL_LINE_MAX.
 */
static void test_line_overflow_counted_not_cut(void **state)
{
	int p[2];
	struct strbuf sb;
	char big[OUTPUT_BUF_SIZE + 1];
	size_t len;
	char *got;

	(void)state;
	assert_int_equal(pipe(p), 0);
	output_init(&out, p[1]);
	add_line(&out, 0);
	output_line_begin(&out, &sb);
	memset(big, 'y', sizeof(big));
	sb_mem(&sb, big, sizeof(big));
	output_line_end(&out, &sb);
	assert_int_equal(out.unwritten, 1);
	add_line(&out, 1);
	for (unsigned int i = 0; i < 2 * OUTPUT_BUF_SIZE / TCL_LINE_MAX; i++) {
		output_line_begin(&out, &sb);
		assert_true(sb.cap >= TCL_LINE_MAX);
		output_line_end(&out, &sb);
	}
	assert_int_equal(output_flush(&out), 0);
	close(p[1]);
	got = read_all(p[0], &len);
	close(p[0]);
	assert_int_equal(len, 2 * 101);
	assert_memory_equal(got + 101, "line 00001 ", 11);
	free(got);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_signals_during_blocked_write_lose_nothing),
		cmocka_unit_test(test_nonblocking_full_pipe_waits),
		cmocka_unit_test(test_write_error_counts_lines),
		cmocka_unit_test(test_line_overflow_counted_not_cut),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
