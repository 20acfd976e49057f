// SPDX-License-Identifier: GPL-2.0-only
// Unit tests for outfile.c: --rotate's value, the rotated names, and
// rotation and reopening in a real directory.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/stat.h>
#include <cmocka.h>

#include "outfile.h"

static void expect_rotate(const char *s, unsigned long long size, unsigned int keep)
{
	unsigned long long got_size = 0;
	unsigned int got_keep = 0;
	char why[128];

	assert_int_equal(outfile_parse_rotate(s, &got_size, &got_keep, why, sizeof(why)), 0);
	assert_true(got_size == size);
	assert_int_equal(got_keep, keep);
}

static void expect_rotate_rejected(const char *s, const char *reason)
{
	unsigned long long size = 7;
	unsigned int keep = 7;
	char why[128] = "";

	assert_int_equal(outfile_parse_rotate(s, &size, &keep, why, sizeof(why)), -1);
	assert_non_null(strstr(why, reason));
	assert_true(size == 7 && keep == 7);	/* untouched */
}

static void test_rotate_values(void **state)
{
	(void)state;
	expect_rotate("1024", 1024, OUTFILE_KEEP_DEFAULT);
	expect_rotate("1k", 1024, OUTFILE_KEEP_DEFAULT);
	expect_rotate("64k:2", 65536, 2);
	expect_rotate("100M:10", 100ULL << 20, 10);
	expect_rotate("3G:1", 3ULL << 30, 1);
	expect_rotate("1048576G", 1ULL << 50, OUTFILE_KEEP_DEFAULT);
	expect_rotate("5M:999", 5ULL << 20, 999);
}

static void test_rotate_rejected(void **state)
{
	(void)state;
	expect_rotate_rejected("", "SIZE");
	expect_rotate_rejected("k", "SIZE");
	expect_rotate_rejected("1023", "from 1024");
	expect_rotate_rejected("0k", "from 1024");
	expect_rotate_rejected("10x", "SIZE");
	expect_rotate_rejected("10K", "SIZE");	/* k, M, G only */
	expect_rotate_rejected("10kk", "SIZE");
	expect_rotate_rejected("-1M", "SIZE");
	expect_rotate_rejected("1048577G", "SIZE");	/* past 2^50 */
	expect_rotate_rejected("99999999999999999999999999999999k", "SIZE");
	expect_rotate_rejected("10k:0", "KEEP");
	expect_rotate_rejected("10k:1000", "KEEP");
	expect_rotate_rejected("10k:", "KEEP");
	expect_rotate_rejected("10k:x", "KEEP");
	expect_rotate_rejected(":5", "SIZE");
}

static void test_rotated_name(void **state)
{
	char buf[16];

	(void)state;
	assert_int_equal(outfile_rotated_name(buf, sizeof(buf), "c.json", 1), 0);
	assert_string_equal(buf, "c.json.1");
	assert_int_equal(outfile_rotated_name(buf, sizeof(buf), "c.json", 999), 0);
	assert_string_equal(buf, "c.json.999");
	assert_int_equal(outfile_rotated_name(buf, sizeof(buf), "longer.json", 9999), -1);
	assert_int_equal(outfile_rotated_name(buf, sizeof(buf), "c.json.1234", 9), 0);
}

/* ---- files in a temporary directory ---- */

static char dir[64], path[128];

static int make_dir(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/test_outfile.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/c.log", dir);
	return 0;
}

static int remove_dir(void **state)
{
	char cmd[128];

	(void)state;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
	return system(cmd) ? -1 : 0;
}

/* Lines "NNNN" + x's, each `width` bytes with its newline. */
static size_t lines(char *buf, unsigned int first, unsigned int n, size_t width)
{
	for (unsigned int i = 0; i < n; i++) {
		char *l = buf + i * width;

		memset(l, 'x', width - 1);
		memcpy(l, (char[5]){ '0' + (first + i) / 1000 % 10, '0' + (first + i) / 100 % 10,
				     '0' + (first + i) / 10 % 10, '0' + (first + i) % 10, 'x' }, 5);
		l[width - 1] = '\n';
	}
	return n * width;
}

static void write_lines(struct outfile *f, unsigned int first, unsigned int n, size_t width)
{
	static char buf[1 << 16];
	size_t len = lines(buf, first, n, width), done = 0;

	assert_int_equal(outfile_write(f, buf, len, &done), 0);
	assert_true(done == len);
}

/* The file `suffix` ("" or ".N") holds exactly want[0..len). */
static void expect_content(const char *suffix, const char *want, size_t len)
{
	static char got[1 << 16];
	char name[160];
	FILE *fp;
	size_t got_len;

	snprintf(name, sizeof(name), "%s%s", path, suffix);
	fp = fopen(name, "r");
	assert_non_null(fp);
	got_len = fread(got, 1, sizeof(got), fp);
	fclose(fp);
	assert_true(got_len == len);
	assert_memory_equal(got, want, len);
}

/* The file `suffix` holds lines first..first+n-1, nothing else. */
static void expect_file(const char *suffix, unsigned int first, unsigned int n, size_t width)
{
	static char want[1 << 16];

	expect_content(suffix, want, lines(want, first, n, width));
}

static void expect_absent(const char *suffix)
{
	char name[160];

	snprintf(name, sizeof(name), "%s%s", path, suffix);
	assert_int_equal(access(name, F_OK), -1);
}

static void test_rotation_names_and_boundaries(void **state)
{
	struct outfile f;
	char why[256];
	struct stat st;

	(void)state;
	assert_int_equal(outfile_open(&f, path, 300, 2, why, sizeof(why)), 0);
	assert_int_equal(stat(path, &st), 0);
	assert_int_equal(st.st_mode & 0777, OUTFILE_MODE & ~0022);
	/* 3 lines of 100 bytes fill a file of 300: the 4th starts the next */
	write_lines(&f, 0, 7, 100);
	expect_file(".2", 0, 3, 100);
	expect_file(".1", 3, 3, 100);
	expect_file("", 6, 1, 100);
	/* KEEP 2: the oldest goes, every file keeps whole lines */
	write_lines(&f, 7, 1, 100);
	write_lines(&f, 8, 2, 100);
	expect_file(".2", 3, 3, 100);
	expect_file(".1", 6, 3, 100);
	expect_file("", 9, 1, 100);
	expect_absent(".3");
	/* lines of 120: two fit in 300, never a third cut in two */
	write_lines(&f, 10, 3, 120);
	{
		static char want[400];
		size_t len = lines(want, 9, 1, 100);

		len += lines(want + len, 10, 1, 120);
		expect_file(".2", 6, 3, 100);
		expect_content(".1", want, len);	/* 220: one more is 340 */
		expect_file("", 11, 2, 120);
	}
	outfile_close(&f);
}

static void test_line_longer_than_size(void **state)
{
	/* the 400-byte line alone in a file of its own, none cut */
	static const size_t width[] = { 100, 400, 100 };
	static const char *const in[] = { ".2", ".1", "" };
	struct outfile f;
	char why[256];

	(void)state;
	assert_int_equal(outfile_open(&f, path, 250, 3, why, sizeof(why)), 0);

	for (unsigned int i = 0; i < 3; i++)
		write_lines(&f, i, 1, width[i]);
	for (unsigned int i = 0; i < 3; i++)
		expect_file(in[i], i, 1, width[i]);
	outfile_close(&f);
}

static void test_append_and_reopen(void **state)
{
	struct outfile f;
	char why[256], moved[160];
	FILE *fp = fopen(path, "w");

	(void)state;
	assert_non_null(fp);
	fputs("0000xxxxx\n", fp);	/* what an earlier run left: line 0, width 10 */
	fclose(fp);
	assert_int_equal(outfile_open(&f, path, 0, 0, why, sizeof(why)), 0);
	assert_true(f.size == 10);
	write_lines(&f, 1, 2, 10);
	expect_file("", 0, 3, 10);
	/* logrotate renames it, then SIGHUP */
	snprintf(moved, sizeof(moved), "%s.old", path);
	assert_int_equal(rename(path, moved), 0);
	write_lines(&f, 3, 1, 10);	/* still the renamed file until asked */
	outfile_reopen_requested = 1;
	write_lines(&f, 4, 2, 10);
	assert_int_equal(outfile_reopen_requested, 0);
	expect_file(".old", 0, 4, 10);
	expect_file("", 4, 2, 10);
	outfile_close(&f);
}

/* want = the head, then lines first..first+n-1 of width 10 */
static size_t headed(char *want, const char *head, unsigned int first, unsigned int n)
{
	memcpy(want, head, 10);
	return 10 + lines(want + 10, first, n, 10);
}

/* -j's start record heads the file at start (after an earlier run's
 * lines), each file a rotation opens, and a new file after a reopen; not
 * the same file reopened.
 */
static void test_head_of_each_file(void **state)
{
	static const char head[] = "HEADxxxxx\n";	/* width 10, as the lines */
	static char want[400];
	struct outfile f;
	char why[256], moved[160];
	size_t len, done = 0;
	FILE *fp = fopen(path, "w");

	(void)state;
	assert_non_null(fp);
	fputs("0000xxxxx\n", fp);
	fclose(fp);
	assert_int_equal(outfile_open(&f, path, 40, 3, why, sizeof(why)), 0);
	outfile_set_head(&f, head, strlen(head));
	/* the flush at start, of nothing, puts it out */
	assert_int_equal(outfile_write(&f, "", 0, &done), 0);
	len = lines(want, 0, 1, 10);
	expect_content("", want, len + headed(want + len, head, 0, 0));
	/* 40 bytes a file: 2 more lines, then a new file with its own head */
	write_lines(&f, 1, 5, 10);
	len = lines(want, 0, 1, 10);
	len += headed(want + len, head, 1, 2);
	expect_content(".1", want, len);
	expect_content("", want, headed(want, head, 3, 3));
	outfile_close(&f);

	/* no rotation: a reopen of the same file adds no head, of a new one does */
	assert_int_equal(outfile_open(&f, path, 0, 0, why, sizeof(why)), 0);
	outfile_set_head(&f, head, strlen(head));
	write_lines(&f, 6, 1, 10);
	outfile_reopen_requested = 1;
	write_lines(&f, 7, 1, 10);
	len = headed(want, head, 3, 3);
	len += headed(want + len, head, 6, 2);
	expect_content("", want, len);
	snprintf(moved, sizeof(moved), "%s.old", path);
	assert_int_equal(rename(path, moved), 0);
	outfile_reopen_requested = 1;
	write_lines(&f, 8, 1, 10);
	expect_content("", want, headed(want, head, 8, 1));
	outfile_close(&f);
}

static void test_open_errors(void **state)
{
	struct outfile f;
	char why[256], bad[160];

	(void)state;
	snprintf(bad, sizeof(bad), "%s/no/such/dir/c.log", dir);
	assert_int_equal(outfile_open(&f, bad, 0, 0, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "No such file or directory"));
	assert_int_equal(f.fd, -1);
	assert_int_equal(f.dirfd, -1);
	snprintf(bad, sizeof(bad), "%s/", dir);
	assert_int_equal(outfile_open(&f, bad, 0, 0, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "not a file name"));
	assert_int_equal(outfile_open(&f, dir, 0, 0, why, sizeof(why)), -1);
	assert_non_null(strstr(why, "Is a directory"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rotate_values),
		cmocka_unit_test(test_rotate_rejected),
		cmocka_unit_test(test_rotated_name),
		cmocka_unit_test_setup_teardown(test_rotation_names_and_boundaries, make_dir,
						remove_dir),
		cmocka_unit_test_setup_teardown(test_line_longer_than_size, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_append_and_reopen, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_head_of_each_file, make_dir, remove_dir),
		cmocka_unit_test_setup_teardown(test_open_errors, make_dir, remove_dir),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
