/* SPDX-License-Identifier: GPL-2.0-only */
/* The record the BPF side hands to user space: one per connect attempt. */
#ifndef TCPCONNLOG_H
#define TCPCONNLOG_H

#define TCL_COMM_LEN 16

/* What became of an attempt. */
enum tcl_result {
	TCL_PENDING = 0,	/* no outcome yet */
	TCL_ESTABLISHED,	/* SYN_SENT -> ESTABLISHED */
	TCL_REFUSED,		/* ECONNREFUSED: the peer answered with RST */
	TCL_TIMEOUT,		/* ETIMEDOUT: no answer to the SYNs */
	TCL_UNREACHABLE,	/* EHOSTUNREACH/ENETUNREACH from ICMP */
	TCL_CLOSED,		/* the application closed it before the handshake ended */
	TCL_ERROR,		/* any other error, errno in .err */
	TCL_RESULT_MAX,
};

/* When the record was made. */
enum tcl_stage {
	TCL_STAGE_OUTCOME = 0,	/* the attempt is over (or failed inside the call) */
	TCL_STAGE_CALL,		/* the connect call returned, outcome unknown (-i) */
};

/* Record flags. */
#define TCL_F_CALL_FAILED	0x1	/* the connect call itself returned the error */
#define TCL_F_CALL_MEASURED	0x2	/* call_ns is valid */
#define TCL_F_CALL_REPORTED	0x4	/* a TCL_STAGE_CALL record was made (-i) */

union tcl_addr {
	__u32 v4;		/* network byte order */
	__u8 v6[16];
};

/* Fixed-width fields, widest first, so that BPF and user space agree
 * on the layout without padding.
 */
struct tcl_event {
	__u64 ts_ns;		/* bpf_ktime_get_ns() when the record was made */
	__u64 latency_ns;	/* attempt start to outcome; 0 while pending */
	__u64 call_ns;		/* time inside tcp_v{4,6}_connect (TCL_F_CALL_MEASURED) */
	__u64 sock_id;		/* kernel socket address: links records of one socket */
	union tcl_addr saddr;
	union tcl_addr daddr;
	__u32 pid;		/* tgid */
	__u32 tid;
	__u32 uid;
	__s32 err;		/* positive errno, 0 if none */
	__u16 sport;		/* host byte order */
	__u16 dport;		/* host byte order */
	__u8 ip;		/* 4 or 6 */
	__u8 result;		/* enum tcl_result */
	__u8 stage;		/* enum tcl_stage */
	__u8 flags;		/* TCL_F_* */
	char comm[TCL_COMM_LEN];
};

/* An attempt in flight, as kept in the BPF `attempts` table (keyed by the
 * socket's address): the record being built plus its bookkeeping. User
 * space reads the table at exit to report attempts still pending.
 */
struct tcl_attempt {
	struct tcl_event ev;
	__u64 start_ns;
	/* >0 while inside the connect function (kprobe/fentry; the nested
	 * tcp_v6_connect -> tcp_v4_connect of a v4-mapped address counts 2)
	 * or inside connect(2) (tracepoint backend)
	 */
	__u32 depth;
	/* the socket closed while the connect function was still running:
	 * the record waits for the return value, which is its errno
	 */
	__u32 failed_in_call;
};

/* Counters the BPF side keeps for user space (in .bss). */
struct tcl_counters {
	__u64 lost;		/* records the ring buffer had no room for */
	__u64 started;		/* attempts entered into the in-flight table */
	__u64 finished;		/* attempts removed from it with an outcome */
};

#endif /* TCPCONNLOG_H */
