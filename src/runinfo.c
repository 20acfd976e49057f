// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <sys/random.h>
#include "format.h"
#include "runinfo.h"
#include "tcl_version.h"

/* this run's, printed in every record */
static struct runinfo info = { .run = RUNINFO_NIL_UUID };

void runinfo_uuid_text(const unsigned char b[16], char out[RUNINFO_UUID_LEN + 1])
{
	static const char hex[] = "0123456789abcdef";
	char *p = out;

	for (int i = 0; i < 16; i++) {
		if (i == 4 || i == 6 || i == 8 || i == 10)
			*p++ = '-';
		*p++ = hex[b[i] >> 4];
		*p++ = hex[b[i] & 15];
	}
	*p = '\0';
}

int runinfo_random_uuid(unsigned char b[16])
{
	size_t got = 0;

	/* blocks only until the kernel's generator is first seeded */
	while (got < 16) {
		ssize_t n = getrandom(b + got, 16 - got, 0);

		if (n < 0 && errno != EINTR)
			return -1;
		if (n > 0)
			got += (size_t)n;
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);	/* version 4: random */
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);	/* RFC 4122 variant */
	return 0;
}

static int is_uuid_text(const char *s)
{
	for (int i = 0; i < RUNINFO_UUID_LEN; i++) {
		int dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? s[i] != '-' : !((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return 0;
	}
	return 1;
}

int runinfo_read_boot_id(const char *path, char out[RUNINFO_UUID_LEN + 1])
{
	char line[64] = "";
	FILE *f = fopen(path, "re");
	int ok;

	out[0] = '\0';
	if (!f)
		return -1;
	ok = fgets(line, sizeof(line), f) != NULL;
	(void)fclose(f);
	line[strcspn(line, "\n")] = '\0';
	if (!ok || strlen(line) != RUNINFO_UUID_LEN || !is_uuid_text(line))
		return -1;
	memcpy(out, line, RUNINFO_UUID_LEN + 1);
	return 0;
}

int runinfo_init(const char *boot_id_path)
{
	unsigned char b[16];

	if (runinfo_random_uuid(b))
		return -1;
	runinfo_uuid_text(b, info.run);
	/* either may be unknown (a sandbox hiding /proc/sys): null then */
	(void)runinfo_read_boot_id(boot_id_path, info.boot_id);
	if (gethostname(info.hostname, sizeof(info.hostname)))
		info.hostname[0] = '\0';
	info.hostname[sizeof(info.hostname) - 1] = '\0';
	return 0;
}

const char *runinfo_run_id(void)
{
	return info.run;
}

void json_run(struct strbuf *sb)
{
	sb_str(sb, ",\"run\":\"");
	sb_str(sb, info.run);
	sb_char(sb, '"');
}

static void string_or_null(struct strbuf *sb, const char *key, const char *s, size_t max)
{
	sb_str(sb, key);
	if (*s)
		json_string(sb, s, max);
	else
		sb_str(sb, "null");
}

void runinfo_format_start(struct strbuf *sb, const struct runinfo *ri, const char *backend,
			  __s64 real_ns)
{
	sb_str(sb, "{\"event\":\"start\",\"run\":\"");
	sb_str(sb, ri->run);
	sb_str(sb, "\",\"time\":\"");
	rfc3339_utc(sb, real_ns);
	sb_str(sb, "\",\"schema\":");
	sb_u64(sb, TCL_SCHEMA_VERSION);
	sb_str(sb, ",\"version\":");
	json_string(sb, TCL_VERSION, sizeof(TCL_VERSION));
	sb_str(sb, ",\"backend\":");
	json_string(sb, backend, strlen(backend));
	string_or_null(sb, ",\"hostname\":", ri->hostname, sizeof(ri->hostname));
	string_or_null(sb, ",\"boot_id\":", ri->boot_id, sizeof(ri->boot_id));
	sb_str(sb, "}\n");
}

void runinfo_json_start(struct strbuf *sb, const char *backend, __s64 real_ns)
{
	runinfo_format_start(sb, &info, backend, real_ns);
}
