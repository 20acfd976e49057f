/* SPDX-License-Identifier: GPL-2.0-only */
/* Who printed a JSON record: the run (a random 128-bit id, in every
 * record as "run"), and the start record that opens every -j output with
 * the schema version, the tool's version, the backend, the host name and
 * the boot id. (run, id) names one connection across runs and hosts.
 */
#ifndef TCL_RUNINFO_H
#define TCL_RUNINFO_H

#include <limits.h>
#include <linux/types.h>
#include "strbuf.h"

/* The JSON contract's version (schema/tcpconnlog.schema.json): bumped
 * whenever a line valid under one version is not under the next (the
 * schema is closed: a new key or record kind bumps it too).
 */
#define TCL_SCHEMA_VERSION	1
#define RUNINFO_BOOT_ID_PATH	"/proc/sys/kernel/random/boot_id"
#define RUNINFO_UUID_LEN	36
/* the run id printed before runinfo_init() (unit tests) */
#define RUNINFO_NIL_UUID	"00000000-0000-0000-0000-000000000000"

struct runinfo {
	char run[RUNINFO_UUID_LEN + 1];
	char boot_id[RUNINFO_UUID_LEN + 1];	/* "" when unknown */
	char hostname[HOST_NAME_MAX + 1];	/* "" when unknown */
};

/* 16 bytes as a UUID's text (8-4-4-12 lowercase hex), NUL-terminated. */
void runinfo_uuid_text(const unsigned char b[16], char out[RUNINFO_UUID_LEN + 1]);
/* A random (version 4) UUID's 16 bytes from getrandom(2): 0, or -1 with
 * errno.
 */
int runinfo_random_uuid(unsigned char b[16]);
/* The boot id in path (a UUID's text and a newline) into out: 0, or -1
 * when it cannot be read or is not a UUID.
 */
int runinfo_read_boot_id(const char *path, char out[RUNINFO_UUID_LEN + 1]);

/* Take a new run id, the host name and the boot id (from boot_id_path):
 * 0, or -1 with errno when no random id could be had.
 */
int runinfo_init(const char *boot_id_path);
/* The run id's text (RUNINFO_NIL_UUID before runinfo_init()). */
const char *runinfo_run_id(void);
/* ,"run":"<run id>" of a JSON object */
void json_run(struct strbuf *sb);
/* The start record's line, newline included: at most RUNINFO_START_MAX
 * bytes (a host name of 64 bytes, each escaped, is the widest part).
 * runinfo_json_start() prints this run's, runinfo_format_start() ri's.
 */
#define RUNINFO_START_MAX	1024
void runinfo_json_start(struct strbuf *sb, const char *backend, __s64 real_ns);
void runinfo_format_start(struct strbuf *sb, const struct runinfo *ri, const char *backend,
			  __s64 real_ns);

#endif
