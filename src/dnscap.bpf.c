// SPDX-License-Identifier: GPL-2.0-only
/*
 * DNS capture for -d: a separate object, loaded only with -d.
 *
 * Two cgroup_skb programs on the cgroup v2 root see every packet a local
 * socket sends or receives, in every network namespace:
 * - egress: a query to port 53 notes which process asked on that socket
 *   (the first packet of a UDP send or a TCP connect leaves in the
 *   sender's own context, so the current task is the asker);
 * - ingress: the payload of a packet from port 53 goes to user space with
 *   the receiving socket's cookie, its network namespace and the asker.
 * An application asking a local forwarder (127.0.0.53) thus gets the
 * forwarder's reply on its own socket, and the forwarder the upstream one.
 * Both programs let every packet pass.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>
#include "dnscap_event.h"

#define ETH_P_IP	0x0800
#define ETH_P_IPV6	0x86DD
#define IP_OFFSET	0x1fff
#define TCP_FIN		0x01
#define TCP_RST		0x04
#define DNS_PORT	53
#define PASS		1

char LICENSE[] SEC("license") = "GPL";

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4 << 20);
} dns_events SEC(".maps");

/* socket cookie -> tgid of the process that sent its first query */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 16384);
	__type(key, __u64);
	__type(value, __u32);
} askers SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct dnscap_counters);
} dns_counters SEC(".maps");

/* a record is built here: too big for the 512-byte stack */
struct scratch {
	struct dnscap_event h;
	__u8 data[DNSCAP_CHUNK];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} scratch SEC(".maps");

#define COUNT(field)								\
	do {									\
		__u32 zero_ = 0;						\
		struct dnscap_counters *c_ = bpf_map_lookup_elem(&dns_counters, &zero_); \
		if (c_)								\
			__sync_fetch_and_add(&c_->field, 1);			\
	} while (0)

/* The transport header of a packet: where its payload starts. */
struct l4 {
	__u32 off;		/* of the payload, from the network header */
	__u32 end;		/* of the payload */
	__u32 seq;		/* TCP */
	__u16 sport, dport;
	__u8 proto;
	__u8 tcp_flags;
};

/* IPv4 or IPv6 (without extension headers), then UDP or TCP. False for
 * anything else, and for a fragment past the first (none reaches a
 * socket: they are reassembled before).
 */
static __always_inline bool read_l4(struct __sk_buff *skb, struct l4 *p)
{
	__u32 off;

	if (skb->protocol == bpf_htons(ETH_P_IP)) {
		struct iphdr ip;

		if (bpf_skb_load_bytes(skb, 0, &ip, sizeof(ip)) ||
		    (ip.frag_off & bpf_htons(IP_OFFSET)))
			return false;
		p->proto = ip.protocol;
		off = ip.ihl * 4;
		p->end = bpf_ntohs(ip.tot_len);
	} else if (skb->protocol == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr ip6;

		if (bpf_skb_load_bytes(skb, 0, &ip6, sizeof(ip6)))
			return false;
		p->proto = ip6.nexthdr;
		off = sizeof(ip6);
		p->end = off + bpf_ntohs(ip6.payload_len);
	} else {
		return false;
	}
	if (p->end > skb->len)
		p->end = skb->len;
	if (p->proto == DNSCAP_PROTO_UDP) {
		struct udphdr udp;

		if (bpf_skb_load_bytes(skb, off, &udp, sizeof(udp)))
			return false;
		p->sport = bpf_ntohs(udp.source);
		p->dport = bpf_ntohs(udp.dest);
		p->off = off + sizeof(udp);
		return true;
	}
	if (p->proto == DNSCAP_PROTO_TCP) {
		struct tcphdr tcp;
		__u8 flags;

		if (bpf_skb_load_bytes(skb, off, &tcp, sizeof(tcp)) ||
		    bpf_skb_load_bytes(skb, off + 13, &flags, 1))
			return false;
		p->sport = bpf_ntohs(tcp.source);
		p->dport = bpf_ntohs(tcp.dest);
		p->seq = bpf_ntohl(tcp.seq);
		p->tcp_flags = flags;
		p->off = off + tcp.doff * 4;
		return true;
	}
	return false;
}

SEC("cgroup_skb/egress")
int dns_query(struct __sk_buff *skb)
{
	struct task_struct *task;
	struct l4 p = {};
	__u64 cookie;
	__u32 tgid;

	if (!read_l4(skb, &p) || p.dport != DNS_PORT)
		return PASS;
	cookie = bpf_get_socket_cookie(skb);
	if (!cookie)
		return PASS;
	/* bpf_get_current_pid_tgid() is refused here before Linux 6.10;
	 * the task (with CAP_PERFMON) works from 5.10 on
	 */
	task = (struct task_struct *)bpf_get_current_task();
	tgid = BPF_CORE_READ(task, tgid);
	/* the first packet only: later TCP ones may leave from softirq,
	 * where the current task is whoever was interrupted
	 */
	if (bpf_map_update_elem(&askers, &cookie, &tgid, BPF_NOEXIST) &&
	    !bpf_map_lookup_elem(&askers, &cookie))
		COUNT(map_full);
	return PASS;
}

/* The network namespace of the socket receiving skb. skb->sk is the
 * kernel's struct sock, but no helper reaches its netns for a UDP socket
 * on every kernel: its address is taken as a plain number (allowed with
 * CAP_PERFMON) and read with CO-RE.
 */
static __always_inline __u32 receiver_netns(struct __sk_buff *skb)
{
	struct bpf_sock *sk = skb->sk;
	__u64 addr = 0;

	if (!sk)
		return 0;
	bpf_probe_read_kernel(&addr, sizeof(addr), &sk);
	return BPF_CORE_READ((struct sock *)addr, __sk_common.skc_net.net, ns.inum);
}

/* One record of up to DNSCAP_CHUNK payload bytes from off. */
static __always_inline void emit(struct __sk_buff *skb, struct scratch *s, __u32 off,
				 __u64 len)
{
	/* the bound on the whole register the helper gets, where the
	 * verifier sees it
	 */
	asm volatile("" : "+r"(len));
	if (len > DNSCAP_CHUNK)
		return;
	/* the same len, but 5.10 learns 1..DNSCAP_CHUNK (a power of two)
	 * only from the mask, not from the test against 0
	 */
	if (len && bpf_skb_load_bytes(skb, off, s->data, ((len - 1) & (DNSCAP_CHUNK - 1)) + 1))
		return;
	s->h.len = len;
	if (bpf_ringbuf_output(&dns_events, s, sizeof(s->h) + len, BPF_RB_NO_WAKEUP))
		COUNT(ring_full);
}

SEC("cgroup_skb/ingress")
int dns_answer(struct __sk_buff *skb)
{
	struct l4 p = {};
	struct scratch *s;
	__u32 zero = 0, len, *tgid;
	__u64 cookie;
	bool end;

	if (!read_l4(skb, &p) || p.sport != DNS_PORT || p.off > p.end)
		return PASS;
	len = p.end - p.off;
	end = p.proto == DNSCAP_PROTO_TCP && (p.tcp_flags & (TCP_FIN | TCP_RST));
	if (!len && !end)
		return PASS;
	s = bpf_map_lookup_elem(&scratch, &zero);
	if (!s)
		return PASS;
	cookie = bpf_get_socket_cookie(skb);
	tgid = bpf_map_lookup_elem(&askers, &cookie);
	s->h.ts_ns = bpf_ktime_get_ns();
	s->h.cookie = cookie;
	s->h.tgid = tgid ? *tgid : 0;
	s->h.netns = receiver_netns(skb);
	s->h.proto = p.proto;
	s->h.flags = 0;
	s->h.seq = p.seq;
	if (p.proto == DNSCAP_PROTO_UDP) {
		if (len > DNSCAP_CHUNK)
			COUNT(too_big);
		else
			emit(skb, s, p.off, len);
		return PASS;
	}
	for (int i = 0; i < DNSCAP_TCP_CHUNKS; i++) {
		__u32 n = len > DNSCAP_CHUNK ? DNSCAP_CHUNK : len;

		len -= n;
		if (!len && end)
			s->h.flags = DNSCAP_F_TCP_END;
		emit(skb, s, p.off, n);
		if (!len)
			return PASS;
		p.off += n;
		s->h.seq += n;
	}
	COUNT(too_big);
	return PASS;
}
