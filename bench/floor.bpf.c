// SPDX-License-Identifier: GPL-2.0-only
/*
 * Programs that do nothing, on the hooks tcpconnlog uses: what the kernel
 * charges a run before the program does any work (bench/floor.c).
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(floor_tp_btf, const struct sock *sk, int oldstate, int newstate)
{
	return 0;
}

SEC("tracepoint/syscalls/sys_enter_connect")
int floor_tracepoint(void *ctx)
{
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
