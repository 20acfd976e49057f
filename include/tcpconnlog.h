/* SPDX-License-Identifier: GPL-2.0-only */
/* The records the BPF side hands to user space: one per connect attempt,
 * and with -l/-A one per accepted connection and one per close.
 */
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

/* What a record is about. */
enum tcl_kind {
	TCL_KIND_CONNECT = 0,	/* an outbound attempt */
	TCL_KIND_ACCEPT,	/* an inbound connection (-A) */
	TCL_KIND_CLOSE,		/* a traced connection ended (-l) */
};

/* Which side ended a connection first (close records). */
enum tcl_closer {
	TCL_CLOSER_UNKNOWN = 0,	/* the state sequence does not tell */
	TCL_CLOSER_LOCAL,	/* we sent FIN (or reset it) first */
	TCL_CLOSER_REMOTE,	/* the peer sent FIN or RST first */
};

/* Record flags. */
#define TCL_F_CALL_FAILED	0x1	/* the connect call itself returned the error */
#define TCL_F_CALL_MEASURED	0x2	/* call_ns is valid */
#define TCL_F_CALL_REPORTED	0x4	/* a TCL_STAGE_CALL record was made (-i) */
#define TCL_F_NO_PROCESS	0x8	/* accept/close: no process is known
					 * (pid, tid, uid, comm are not set)
					 */
#define TCL_F_INBOUND		0x10	/* close: of an accepted connection */

union tcl_addr {
	__u32 v4;		/* network byte order */
	__u8 v6[16];
};

/* Fixed-width fields, widest first, so that BPF and user space agree
 * on the layout without padding. Addresses and ports: s* is the local
 * end, d* the remote one (for an accept, d* is the client).
 */
struct tcl_event {
	__u64 ts_ns;		/* bpf_ktime_get_ns() when the record was made */
	__u64 latency_ns;	/* attempt start to outcome; 0 while pending */
	__u64 call_ns;		/* time inside tcp_v{4,6}_connect (TCL_F_CALL_MEASURED) */
	__u64 sock_id;		/* kernel socket address: never printed */
	__u64 conn_id;		/* links a close to its connect or accept; not 0 */
	/* close records only, read from the socket as it closes */
	__u64 duration_ns;	/* established to closed */
	__u64 bytes_sent;	/* data bytes acknowledged by the peer */
	__u64 bytes_received;	/* data bytes received in order */
	/* the caller's cgroup v2 id (the inode of its cgroup directory), 0 if
	 * no process is known
	 */
	__u64 cgroup_id;
	union tcl_addr saddr;
	union tcl_addr daddr;
	__u32 pid;		/* tgid */
	__u32 tid;
	__u32 uid;
	__s32 err;		/* positive errno, 0 if none */
	__u32 segs_out;		/* close: segments sent, retransmissions included */
	__u32 segs_in;
	__u32 srtt_us;		/* close: smoothed round-trip time */
	__u32 min_rtt_us;	/* close: smallest round-trip time seen, 0 if unknown */
	__u32 retransmits;	/* close: segments retransmitted in all */
	__u32 netns;		/* the caller's network namespace inode, 0 if unknown */
	__u32 mntns;		/* the caller's mount namespace inode, 0 if unknown */
	__u16 sport;		/* host byte order */
	__u16 dport;		/* host byte order */
	__u8 ip;		/* 4 or 6 */
	__u8 result;		/* enum tcl_result */
	__u8 stage;		/* enum tcl_stage */
	__u8 flags;		/* TCL_F_* */
	__u8 kind;		/* enum tcl_kind */
	__u8 closer;		/* enum tcl_closer (close records) */
	__u8 pad[2];
	char comm[TCL_COMM_LEN];
};

/* How far an attempt got: the states of the machine described at the top
 * of the attempt code in tcpconnlog.bpf.c. Its end is no state: the entry
 * is removed then.
 */
enum tcl_attempt_state {
	TCL_AS_CALLED = 0,	/* connect entered, no SYN sent yet */
	TCL_AS_SYN_SENT,	/* CLOSE -> SYN_SENT seen: a SYN went out */
	TCL_AS_SYN_RECV,	/* SYN_SENT -> SYN_RECV: simultaneous open */
	TCL_AS_CLOSED_IN_CALL,	/* closed while the connect function still
				 * ran: its return value is the errno
				 */
};

/* An attempt in flight, as kept in the BPF `attempts` table (keyed by the
 * socket's address): the record being built plus its state. User space
 * reads the table at exit to report attempts still pending.
 */
struct tcl_attempt {
	struct tcl_event ev;
	__u64 start_ns;
	/* connect functions (kprobe, fentry) or connect(2) calls (tracepoint)
	 * the thread ev.tid is still inside: 2 while tcp_v6_connect runs
	 * tcp_v4_connect for a v4-mapped address, 0 once returned
	 */
	__u32 calls;
	__u32 state;		/* enum tcl_attempt_state */
};

/* An open connection followed to its close (-l) or an accepted one
 * waiting for its accept(2) (-A), as kept in the BPF `conns` table.
 */
struct tcl_conn {
	struct tcl_event ev;	/* identity as in its connect or accept record */
	__u64 established_ns;
	/* the socket's byte counters at establishment: they count the SYN's
	 * sequence number too (bytes_acked of a connect starts at 1)
	 */
	__u32 acked_at_open;
	__u32 received_at_open;
	__u8 accept_pending;	/* accept record not made yet */
	__u8 fin_sent;		/* we sent a FIN (FIN_WAIT1 or LAST_ACK seen) */
	__u8 pad[6];
};

/* Counters the BPF side keeps for user space (per CPU, summed there). */
struct tcl_counters {
	__u64 lost;		/* records the ring buffer had no room for */
	__u64 started;		/* attempts entered into the in-flight table */
	__u64 finished;		/* attempts removed from it with an outcome */
	__u64 conns_opened;	/* connections entered into the conns table */
	__u64 conns_closed;	/* removed from it at their close */
	/* failures after the SYN that the outcome hook never saw, found
	 * when connect(2) returned (tracepoint backend)
	 */
	__u64 outcomes_unseen;
	/* map updates that failed (no free entry, or the map busy on this
	 * CPU): each may have cost a record or a connection's close
	 */
	__u64 map_full;
};

#endif /* TCPCONNLOG_H */
