// SPDX-License-Identifier: GPL-2.0-only
/*
 * Attaches the empty programs of floor.bpf.c, says "ready" on stdout and
 * waits for SIGINT or SIGTERM. With kernel.bpf_stats_enabled=1, their run
 * time per run is the floor under every figure of bench.py's "BPF run
 * time": the cost of a program that returns at once, on the same hooks.
 */
#include <signal.h>
#include <stdio.h>
#include <unistd.h>
#include "floor.skel.h"

static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

int main(void)
{
	struct floor_bpf *skel = floor_bpf__open_and_load();

	if (!skel || floor_bpf__attach(skel)) {
		fprintf(stderr, "floor: cannot load or attach the empty programs\n");
		return 1;
	}
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	printf("ready\n");
	fflush(stdout);
	while (!stop)
		pause();
	floor_bpf__destroy(skel);
	return 0;
}
