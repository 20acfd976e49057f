/* SPDX-License-Identifier: GPL-2.0-only */
/* Flags that users of bcc's and libbpf-tools' TCP tools carry over with a
 * meaning they do not have here (see cli_traps.c).
 */
#ifndef TCL_CLI_TRAPS_H
#define TCL_CLI_TRAPS_H

#include <getopt.h>

/* What is wrong, as one line without the program name, if argv uses -L or
 * -C with a value (tcplife's -L PORTS, libbpf-tools' -C MAP); else NULL.
 * Reads argv in the order the user wrote it: call before getopt_long
 * permutes it.
 */
const char *cli_trap_in_args(int argc, char *const argv[], const char *short_options,
			     const struct option *long_options);

/* The message for a short option this tool does not have but a peer does
 * (-s), or NULL.
 */
const char *cli_trap_unknown(int opt);

#endif
