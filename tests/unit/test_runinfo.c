// SPDX-License-Identifier: GPL-2.0-only
// Unit tests for runinfo.c: run ids, the boot id reader and the start record.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mman.h>
#include <cmocka.h>

#include "runinfo.h"
#include "tcl_version.h"

#define SEC 1000000000LL
#define BOOT "4cbe6273-b876-45c7-bf4f-0a089a572dc9"

static char out[2 * RUNINFO_START_MAX];

/* A file holding content, as /proc/self/fd/N of a memfd (no temporary
 * file to remove); drop_tmp() closes it.
 */
static int tmp_fd = -1;

static char *write_tmp(const char *content)
{
	static char path[32];

	tmp_fd = memfd_create("boot_id", MFD_CLOEXEC);
	assert_true(tmp_fd >= 0);
	assert_int_equal(write(tmp_fd, content, strlen(content)), (ssize_t)strlen(content));
	snprintf(path, sizeof(path), "/proc/self/fd/%d", tmp_fd);
	return path;
}

static void drop_tmp(void)
{
	close(tmp_fd);
	tmp_fd = -1;
}

static const char *start_of(const struct runinfo *ri, const char *backend)
{
	struct strbuf sb;

	sb_init(&sb, out, RUNINFO_START_MAX);
	runinfo_format_start(&sb, ri, backend, 1700000000 * SEC + 123456000);
	assert_false(sb.overflow);
	out[sb.len] = '\0';
	return out;
}

static void test_uuid_text(void **state)
{
	const unsigned char b[16] = { 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77,
				      0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff };
	char t[RUNINFO_UUID_LEN + 1];

	(void)state;
	runinfo_uuid_text(b, t);
	assert_string_equal(t, "00112233-4455-6677-8899-aabbccddeeff");
}

/* version 4, RFC 4122 variant, and two never alike */
static void test_random_uuid(void **state)
{
	unsigned char a[16], b[16];

	(void)state;
	assert_int_equal(runinfo_random_uuid(a), 0);
	assert_int_equal(runinfo_random_uuid(b), 0);
	assert_int_equal(a[6] >> 4, 4);
	assert_int_equal(a[8] >> 6, 2);
	assert_int_equal(b[6] >> 4, 4);
	assert_memory_not_equal(a, b, 16);
}

static void test_boot_id_reader(void **state)
{
	char id[RUNINFO_UUID_LEN + 1];
	char *p;

	(void)state;
	p = write_tmp(BOOT "\n");
	assert_int_equal(runinfo_read_boot_id(p, id), 0);
	assert_string_equal(id, BOOT);
	drop_tmp();
	/* not a UUID's text: refused, left empty */
	const char *bad[] = { "", "\n", "4CBE6273-B876-45C7-BF4F-0A089A572DC9\n",
			      "4cbe6273-b876-45c7-bf4f-0a089a572dc\n",
			      "4cbe6273-b876-45c7-bf4f-0a089a572dc99\n",
			      "4cbe6273xb876-45c7-bf4f-0a089a572dc9\n",
			      "4cbe6273-b876-45c7-bf4f-0a089a572dcg\n" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		p = write_tmp(bad[i]);
		assert_int_equal(runinfo_read_boot_id(p, id), -1);
		assert_string_equal(id, "");
		drop_tmp();
	}
	assert_int_equal(runinfo_read_boot_id("/nonexistent/boot_id", id), -1);
	assert_string_equal(id, "");
}

static void test_start_record(void **state)
{
	struct runinfo ri = { .run = "00112233-4455-4677-8899-aabbccddeeff", .boot_id = BOOT,
			      .hostname = "node-1.example" };

	(void)state;
	assert_string_equal(start_of(&ri, "fentry"),
			    "{\"event\":\"start\",\"run\":\"00112233-4455-4677-8899-aabbccddeeff\","
			    "\"time\":\"2023-11-14T22:13:20.123456Z\",\"schema\":1,"
			    "\"version\":\"" TCL_VERSION "\",\"backend\":\"fentry\","
			    "\"hostname\":\"node-1.example\",\"boot_id\":\"" BOOT "\"}\n");
	/* unknown: null */
	ri.boot_id[0] = ri.hostname[0] = '\0';
	assert_non_null(strstr(start_of(&ri, "kprobe"), ",\"hostname\":null,\"boot_id\":null}\n"));
}

/* a host name of control bytes, each \u00XX: the widest start record fits */
static void test_widest_start_fits(void **state)
{
	struct runinfo ri = { .run = RUNINFO_NIL_UUID, .boot_id = BOOT };
	const char *line;

	(void)state;
	memset(ri.hostname, 0x01, sizeof(ri.hostname) - 1);
	line = start_of(&ri, "tracepoint");
	assert_true(strlen(line) > 6 * (sizeof(ri.hostname) - 1));
	assert_non_null(strstr(line, "\"hostname\":\"\\u0001\\u0001"));
}

/* init: a fresh run id in every record, the host's name and boot id */
static void test_init(void **state)
{
	char first[RUNINFO_UUID_LEN + 1], host[HOST_NAME_MAX + 1] = "", want[256];
	struct strbuf sb;
	char *p = write_tmp(BOOT "\n");

	(void)state;
	assert_string_equal(runinfo_run_id(), RUNINFO_NIL_UUID);
	assert_int_equal(runinfo_init(p), 0);
	strcpy(first, runinfo_run_id());
	assert_string_not_equal(first, RUNINFO_NIL_UUID);
	assert_int_equal(runinfo_init(p), 0);
	assert_string_not_equal(first, runinfo_run_id());
	drop_tmp();

	sb_init(&sb, out, RUNINFO_START_MAX);
	json_run(&sb);
	out[sb.len] = '\0';
	snprintf(want, sizeof(want), ",\"run\":\"%s\"", runinfo_run_id());
	assert_string_equal(out, want);

	assert_int_equal(gethostname(host, sizeof(host) - 1), 0);
	sb_init(&sb, out, RUNINFO_START_MAX);
	runinfo_json_start(&sb, "tracepoint", 0);
	out[sb.len] = '\0';
	snprintf(want, sizeof(want), "\"hostname\":\"%s\",\"boot_id\":\"" BOOT "\"}\n", host);
	assert_non_null(strstr(out, want));
	snprintf(want, sizeof(want), "{\"event\":\"start\",\"run\":\"%s\",", runinfo_run_id());
	assert_memory_equal(out, want, strlen(want));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_uuid_text),
		cmocka_unit_test(test_random_uuid),
		cmocka_unit_test(test_boot_id_reader),
		cmocka_unit_test(test_start_record),
		cmocka_unit_test(test_widest_start_fits),
		cmocka_unit_test(test_init),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
