// SPDX-License-Identifier: GPL-2.0-only
/* libFuzzer target: the whole command line through cli_parse(). The input
 * is argv[1..], its NUL-separated pieces; argv[0] is "tcpconnlog".
 */
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "cli.h"

/* getopt sees nothing new in a longer command line, only slower runs */
#define MAX_ARGS 64

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
	/* cli.c writes its errors, --help and --version through the stdio
	 * streams: point those at /dev/null. File descriptors 1 and 2 stay as
	 * they are, for libFuzzer's statistics and the sanitizers' reports.
	 */
	FILE *null = fopen("/dev/null", "w");

	if (!null)
		abort();
	stdout = stderr = null;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static char prog[] = "tcpconnlog";
	char *argv[MAX_ARGS + 2] = { prog };
	struct tcl_config cfg;
	int argc = 1;
	size_t i = 0;

	/* each argument its own allocation, so ASan sees a read past its end */
	while (i < size && argc <= MAX_ARGS) {
		const uint8_t *nul = memchr(data + i, 0, size - i);
		size_t len = nul ? (size_t)(nul - data) - i : size - i;

		argv[argc] = strndup((const char *)data + i, len);
		if (!argv[argc])
			break;
		argc++;
		i += len + 1;
	}
	argv[argc] = NULL;	/* the --top lookahead reads argv[argc] */

	optind = 0;	/* cli_parse does this too; no state from the last input */
	if (cli_parse(argc, argv, &cfg) == CLI_RUN) {
		/* what the rest of the program takes for granted */
		if (memchr(cfg.comm, 0, sizeof(cfg.comm)) == NULL ||
		    (cfg.ip != 0 && cfg.ip != 4 && cfg.ip != 6) ||
		    cfg.ringbuf_bytes < 4096 || cfg.ringbuf_bytes > 1ULL << 30 ||
		    (cfg.ringbuf_bytes & (cfg.ringbuf_bytes - 1)) ||
		    (cfg.top_interval_s && !cfg.lifecycle))
			abort();
	}
	/* getopt only reorders the pointers, so these are still ours to free */
	for (int a = 1; a < argc; a++)
		free(argv[a]);
	return 0;
}
