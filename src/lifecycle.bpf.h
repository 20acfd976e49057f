/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * Connections after the handshake (-l) and accepted ones (-A), included by
 * tcpconnlog.bpf.c. All of it hangs off the inet_sock_set_state hook (and,
 * for accepts, the accept syscalls' exits), so it costs nothing per packet:
 * the counters of a close record are read from the socket as it closes.
 * In the hook sk is a BTF pointer, read with plain loads; the verifier
 * knows it as a struct sock, so TCP's fields come through
 * bpf_skc_to_tcp_sock().
 */
#ifndef TCL_LIFECYCLE_BPF_H
#define TCL_LIFECYCLE_BPF_H

#define ECONNRESET	104
#define EPIPE		32

/* The kernel's byte counters count sequence numbers, and so the SYN and
 * FIN too: note where they stand at establishment (bytes_acked of a
 * connect is 1 by then) so that close records can give data bytes.
 */
static __always_inline void open_connection(const struct sock *sk, struct tcl_conn *c)
{
	const struct tcp_sock *tp = bpf_skc_to_tcp_sock((void *)sk);
	__u64 skid = (__u64)sk;

	/* NULL only for what is not a full TCP socket: entered all the same
	 * (its close record then counts from 0), never dropped unseen
	 */
	if (tp) {
		c->acked_at_open = tp->bytes_acked;
		c->received_at_open = tp->bytes_received;
	}
	if (map_put(&conns, &skid, c, BPF_ANY) == 0)
		COUNT(conns_opened);
}

/* An outbound attempt established: follow it to its close (-l). */
static __always_inline void follow_connection(const struct sock *sk,
					      const struct tcl_event *ev, __u64 now)
{
	struct tcl_conn c = {};

	c.ev = *ev;
	c.established_ns = now;
	open_connection(sk, &c);
}

/* The record of an accepted connection, made once. Without a known
 * process, the process filters cannot be satisfied: no record.
 */
static __always_inline bool report_accept(struct tcl_conn *c)
{
	bool unknown = c->ev.flags & TCL_F_NO_PROCESS;

	c->accept_pending = 0;
	if (unknown && process_filtered())
		return false;
	emit(&c->ev);
	return true;
}

/* The entry of a connection whose socket was freed without its close
 * being seen. An accept record not made yet is made now, without its
 * process, rather than lost. With -l its close record is lost: counted
 * untracked (opened, never closed); without, nothing was.
 */
static __always_inline void stale_connection(__u64 skid, struct tcl_conn *c)
{
	if (c->accept_pending)
		report_accept(c);
	if (bpf_map_delete_elem(&conns, &skid) == 0 && !lifecycle)
		COUNT(conns_closed);
}

/* Whether a connect(2) is moving the socket: it has a struct socket,
 * which accept(2) has not made connected. A passive socket has none until
 * accept(2) returns it (or is SS_CONNECTED, accepted in SYN_RECV with TCP
 * Fast Open).
 */
static __always_inline bool being_connected(const struct sock *sk)
{
	struct socket *sock = sk->sk_socket;

	return sock && sock->state != SS_CONNECTED;
}

/* An accept record, as yet without its process, of a connection the
 * filters want (direct: as for KREAD()).
 */
static __always_inline bool accept_event(const struct sock *sk, struct tcl_event *ev,
					 bool direct)
{
	if (!read_sock_dest(sk, ev, direct))
		return false;
	read_sock_source(sk, ev, direct);
	/* -P and -4/-6 apply to the local (listening) end of an accept */
	if (filter_ip && ev->ip != filter_ip)
		return false;
	if (filter_ports_set && !wanted_port(ev->sport))
		return false;
	ev->kind = TCL_KIND_ACCEPT;
	ev->result = TCL_ESTABLISHED;
	ev->flags = TCL_F_NO_PROCESS | TCL_F_INBOUND;
	ev->sock_id = (__u64)sk;
	ev->conn_id = new_conn_id();
	ev->ts_ns = bpf_ktime_get_ns();
	return true;
}

/* SYN_RECV -> ESTABLISHED of a passive socket (-A). It happens in softirq
 * context, on whatever task was running: the process is learnt later,
 * from the accept(2) that returns the socket.
 */
static __always_inline void accepted(const struct sock *sk)
{
	struct tcl_conn c = {}, *old;
	struct tcl_event *ev = &c.ev;
	__u64 skid = (__u64)sk;

	/* a later copy of the hook may find it entered already */
	old = bpf_map_lookup_elem(&conns, &skid);
	if (old && entry_is_this_sockets(sk, &old->ev))
		return;
	if (old)
		stale_connection(skid, old);
	/* a connect to itself (simultaneous open) is an outbound attempt,
	 * not an accept
	 */
	if (being_connected(sk) || !accept_event(sk, ev, true))
		return;
	c.established_ns = ev->ts_ns;
	c.accept_pending = 1;
	open_connection(sk, &c);
}

/* The TCP socket behind what accept(2) returned: on an MPTCP listener
 * that is an MPTCP socket, and the connection entered at SYN_RECV ->
 * ESTABLISHED is its first subflow (kernels without MPTCP: no such type).
 */
static __always_inline struct sock *accepted_tcp_sock(struct sock *sk)
{
	struct mptcp_sock *msk = (struct mptcp_sock *)sk;

	if (sk && bpf_core_field_exists(msk->first) &&
	    BPF_CORE_READ(sk, sk_protocol) == IPPROTO_MPTCP)
		return BPF_CORE_READ(msk, first);
	return sk;
}

/* accept(2) returned a connection the hook never entered: one
 * established before we started, or whose establishment the hook missed
 * (a run the kernel skipped, or never made: seen on the host, where BPF
 * programs do not run in softirqs taken on one thread of its init). Its
 * record is made now, from the socket, rather than never. Its close is
 * not followed (-l): its counters are not at hand here. One already
 * closed had its record made then.
 */
static __always_inline void accept_unseen(const struct sock *sk)
{
	struct tcl_event ev = {};

	if (BPF_CORE_READ(sk, __sk_common.skc_state) == TCP_CLOSE ||
	    BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP ||
	    caller_filtered_out(&ev) || !accept_event(sk, &ev, false))
		return;
	take_caller(&ev);
	ev.flags &= ~TCL_F_NO_PROCESS;
	emit(&ev);
}

/* accept(2) or accept4(2) returned fd on this thread (-A). */
static __always_inline void accept_returned(int fd)
{
	struct sock *sk = accepted_tcp_sock(fd >= 0 ? sock_of_fd(fd) : NULL);
	__u64 skid = (__u64)sk;
	struct tcl_conn *c;

	if (!sk)
		return;
	c = bpf_map_lookup_elem(&conns, &skid);
	if (!c) {
		accept_unseen(sk);
		return;
	}
	if (!c->accept_pending)
		return;
	if (caller_filtered_out(&c->ev)) {
		/* not a process the filters want: nothing more of it */
		if (bpf_map_delete_elem(&conns, &skid) == 0)
			COUNT(conns_closed);
		return;
	}
	take_caller(&c->ev);
	c->ev.flags &= ~TCL_F_NO_PROCESS;
	report_accept(c);
}

static __always_inline void read_close_counters(const struct sock *sk,
						const struct tcl_conn *c,
						struct tcl_event *ev)
{
	const struct tcp_sock *tp = bpf_skc_to_tcp_sock((void *)sk);
	__u64 sent, received;

	if (!tp)
		return;
	sent = tp->bytes_acked - c->acked_at_open;
	received = tp->bytes_received - c->received_at_open;

	/* our FIN was acknowledged: all up to write_seq, the FIN's own
	 * sequence number included, is
	 */
	if (c->fin_sent && sent &&
	    tp->snd_una == tp->write_seq)
		sent--;
	/* the peer's FIN, taken in order (tcp_fin() marks the socket done) */
	if (received && (sk->__sk_common.skc_flags & (1UL << SOCK_DONE)))
		received--;
	ev->bytes_sent = sent;
	ev->bytes_received = received;
	ev->segs_out = tp->segs_out;
	ev->segs_in = tp->segs_in;
	ev->srtt_us = tp->srtt_us >> 3;	/* kept scaled by 8 */
	/* no sample yet reads as ~0: leave it 0, "unknown" */
	if (bpf_core_field_exists(tp->rtt_min)) {
		__u32 min_rtt = tp->rtt_min.s[0].v;

		ev->min_rtt_us = min_rtt == ~0U ? 0 : min_rtt;
	}
	ev->retransmits = tp->total_retrans;
}

/* Who ended it, when no FIN said so before: a reset from the peer leaves
 * ECONNRESET (EPIPE in CLOSE_WAIT); a local abort leaves no error; a
 * timeout tells nothing about the peer.
 */
static __always_inline __u8 closer_at_close(const struct sock *sk)
{
	int err = sk->sk_err;

	if (err == ECONNRESET || err == EPIPE)
		return TCL_CLOSER_REMOTE;
	return err ? TCL_CLOSER_UNKNOWN : TCL_CLOSER_LOCAL;
}

static __always_inline void connection_closed(const struct sock *sk, __u64 skid,
					      struct tcl_conn *c)
{
	struct tcl_event *ev = &c->ev;
	__u64 now = bpf_ktime_get_ns();

	/* accepted, then closed before any accept(2) took it */
	if (c->accept_pending && !report_accept(c))
		goto out;
	if (!lifecycle)
		goto out;
	if (ev->closer == TCL_CLOSER_UNKNOWN)
		ev->closer = closer_at_close(sk);
	read_close_counters(sk, c, ev);
	ev->kind = TCL_KIND_CLOSE;
	ev->stage = TCL_STAGE_OUTCOME;
	ev->ts_ns = now;
	ev->duration_ns = now - c->established_ns;
	emit(ev);
out:
	if (bpf_map_delete_elem(&conns, &skid) == 0)
		COUNT(conns_closed);
}

/* Any state change of a socket past its handshake (-l, -A). */
static __always_inline void connection_state_changed(const struct sock *sk,
						     int oldstate, int newstate)
{
	__u64 skid = (__u64)sk;
	struct tcl_conn *c;

	if (accepts && oldstate == TCP_SYN_RECV && newstate == TCP_ESTABLISHED) {
		accepted(sk);
		return;
	}
	c = bpf_map_lookup_elem(&conns, &skid);
	if (!c)
		return;
	/* the first FIN tells who closed first */
	if (c->ev.closer == TCL_CLOSER_UNKNOWN && oldstate == TCP_ESTABLISHED) {
		if (newstate == TCP_FIN_WAIT1)
			c->ev.closer = TCL_CLOSER_LOCAL;
		else if (newstate == TCP_CLOSE_WAIT)
			c->ev.closer = TCL_CLOSER_REMOTE;
	}
	if (newstate == TCP_FIN_WAIT1 || newstate == TCP_LAST_ACK)
		c->fin_sent = 1;
	if (newstate == TCP_CLOSE)
		connection_closed(sk, skid, c);
}

#endif
