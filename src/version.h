/* SPDX-License-Identifier: GPL-2.0-only */
/* --version: what this binary is and what it can do on this kernel. */
#ifndef TCL_VERSION_H
#define TCL_VERSION_H

/* Prints the version, the libbpf built with and running, and (when the
 * tool links version_backends.c) the backends this kernel accepts.
 */
void version_print(void);
/* The backends part (version_backends.c): it starts BPF programs, so the
 * unit tests, which link cli.c without the BPF object, leave it out.
 */
void version_backends(void);

#endif
