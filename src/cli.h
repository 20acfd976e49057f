/* SPDX-License-Identifier: GPL-2.0-only */
/* Command-line parsing. */
#ifndef TCL_CLI_H
#define TCL_CLI_H

#include "config.h"

enum cli_status {
	CLI_RUN,	/* config filled in: go on */
	CLI_DONE,	/* --help or --version printed: exit 0 */
	CLI_USAGE,	/* a one-line error printed on stderr: exit 2 */
};

enum cli_status cli_parse(int argc, char **argv, struct tcl_config *cfg);
const char *backend_name(enum tcl_backend b);

#endif
