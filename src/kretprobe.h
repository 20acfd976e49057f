/* SPDX-License-Identifier: GPL-2.0-only */
/* Return probes made through tracefs, with room for many calls in flight. */
#ifndef TCL_KRETPROBE_H
#define TCL_KRETPROBE_H

struct bpf_program;
struct bpf_link;

/* Remove the probes of tcpconnlog processes that no longer exist. */
void kretprobes_sweep_stale(void);
/* A return probe on func running prog; NULL with errno set on failure. */
struct bpf_link *kretprobe_attach(struct bpf_program *prog, const char *func);
/* Returns our probes could not catch since they were made. */
unsigned long long kretprobes_missed(void);
/* Remove our probes; their links must have been destroyed already. */
void kretprobes_start_reaper(void);
void kretprobes_remove(void);

#endif
