// SPDX-License-Identifier: GPL-2.0-only
/*
 * bcc's tools disagree among themselves: -L is a column in tcpconnect and
 * tcpconnlat but a local-port filter in tcplife; -C is libbpf-tools'
 * --cgroupmap. Here -L and -C stay columns and take no value, so
 * "tcpconnlog -L 22" would otherwise fail with a bare "unexpected
 * argument": say instead what the user most likely meant.
 */
#include <stdbool.h>
#include <string.h>
#include "cli_traps.h"

static const char trap_L[] =
	"-L adds the LPORT column (as in tcpconnect and tcpconnlat) and takes no "
	"value; for tcplife's -L PORTS (local ports) use -A -P PORTS";
static const char trap_C[] =
	"-C adds the CONTAINER column and takes no value; libbpf-tools' -C MAP "
	"is --cgroupmap MAP here";
static const char trap_s[] =
	"-s is not an option here: for tcplife's -s (CSV) use -j (JSON lines); "
	"-c counts per source address, destination and port, not per source port "
	"(libbpf-tools' tcpconnect -s)";

static bool short_takes_value(char c, const char *short_options)
{
	const char *p = c == ':' ? NULL : strchr(short_options, c);

	return p && p[1] == ':' && p[2] != ':';
}

/* "--name" without "=": does it take the next word as its value? */
static bool long_takes_value(const char *name, const struct option *long_options)
{
	size_t len = strlen(name);

	for (const struct option *o = long_options; o->name; o++)
		if (o->has_arg == required_argument && !strncmp(o->name, name, len))
			return true;
	return false;
}

static bool is_operand(const char *word)
{
	return word && (word[0] != '-' || !word[1]);
}

const char *cli_trap_in_args(int argc, char *const argv[], const char *short_options,
			     const struct option *long_options)
{
	for (int i = 1; i < argc; i++) {
		const char *w = argv[i];

		if (!strcmp(w, "--"))
			return NULL;
		if (!strncmp(w, "--", 2)) {
			if (!strchr(w, '=') && long_takes_value(w + 2, long_options))
				i++;
			continue;
		}
		if (w[0] != '-' || !w[1])
			continue;
		/* a group of short flags: the first that takes a value ends it */
		for (const char *c = w + 1; *c; c++) {
			if (short_takes_value(*c, short_options)) {
				if (!c[1])
					i++;
				break;
			}
			if (!c[1] && (*c == 'L' || *c == 'C') && i + 1 < argc &&
			    is_operand(argv[i + 1]))
				return *c == 'L' ? trap_L : trap_C;
		}
	}
	return NULL;
}

const char *cli_trap_unknown(int opt)
{
	return opt == 's' ? trap_s : NULL;
}
