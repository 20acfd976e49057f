// SPDX-License-Identifier: GPL-2.0-only
/*
 * Kernel side of tcpconnlog.
 *
 * An attempt is entered into the `attempts` table when a connect starts
 * (one of three probe sets, chosen by user space) and concluded by the
 * inet_sock_set_state hook, shared by all of them, when the handshake ends:
 * see "The life of an attempt" below. Filters run when the attempt starts,
 * so filtered attempts cost neither a table entry nor ring-buffer space.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>
#include "tcpconnlog.h"

#define AF_INET		2
#define AF_INET6	10
#define S_IFMT		00170000
#define S_IFSOCK	0140000
#define ETIMEDOUT	110
#define ECONNREFUSED	111
#define EHOSTUNREACH	113
#define ENETUNREACH	101

/* Set by user space before load; unused filters are pruned by the verifier. */
const volatile __u32 filter_pid;
const volatile __u32 filter_uid;
const volatile bool filter_uid_set;
const volatile __u8 filter_ip;
const volatile bool filter_ports_set;
const volatile __u64 filter_ports[65536 / 64];
const volatile bool filter_comm_set;
const volatile char filter_comm[TCL_COMM_LEN];
/* --cgroup/--container, --netns, --cgroupmap, --mntnsmap */
const volatile bool filter_cgroup_set;
const volatile __u32 filter_netns;
const volatile bool filter_cgroupmap_set;
const volatile bool filter_mntnsmap_set;
const volatile bool failed_only;
const volatile bool immediate;
const volatile bool measure_call;

/* -l: follow established connections to their close; -A: accepts too */
const volatile bool lifecycle;
const volatile bool accepts;

/* wake the reader once this much is waiting in the ring buffer */
const volatile __u64 wakeup_bytes = 1;

/* One set per CPU: increments from two CPUs never fight over a cache
 * line, as a shared counter's did on every connect. Still atomic: on a
 * preemptible kernel two programs can interleave on one CPU.
 */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct tcl_counters);
} counters SEC(".maps");

#define COUNT(field)								\
	do {									\
		__u32 zero_ = 0;						\
		struct tcl_counters *c_ = bpf_map_lookup_elem(&counters, &zero_);	\
		if (c_)								\
			__sync_fetch_and_add(&c_->field, 1);			\
	} while (0)

/* Where connection ids come from, per CPU: see new_conn_id(). */
struct id_source {
	__u64 next;		/* ids handed out alone */
	__u64 claimed_next;	/* ids handed out by claim */
	__u64 busy;		/* programs inside new_conn_id() on this CPU */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct id_source);
} id_counter SEC(".maps");

/* Ids handed out by claim lately: see claimed_conn_id(). An LRU list per
 * CPU, as ids of one CPU are claimed on it: its own oldest go first.
 */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(map_flags, BPF_F_NO_COMMON_LRU);
	__uint(max_entries, 4096);
	__type(key, __u64);
	__type(value, __u8);
} ids_taken SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 8192);	/* resized by user space */
	__type(key, __u64);		/* struct sock * */
	__type(value, struct tcl_attempt);
} attempts SEC(".maps");

/* A connect the thread is inside, for return probes that do not see the
 * arguments (kretprobe, sys_exit_connect). sock_id comes first: a test
 * writes entries by hand.
 */
struct tcl_call {
	__u64 sock_id;		/* its attempt's socket; 0 until one is made
				 * (sys_enter_connect: at the SYN)
				 */
	__u64 uaddr;		/* sys_enter_connect: the sockaddr, in user memory */
	__u64 start_ns;		/* sys_enter_connect: when it was entered */
	__s32 fd;		/* sys_enter_connect: the socket's descriptor */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);		/* thread id */
	__type(value, struct tcl_call);
} connect_by_tid SEC(".maps");

/* socket -> open connection (-l, -A) */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1);		/* resized by user space */
	__type(key, __u64);		/* struct sock * */
	__type(value, struct tcl_conn);
} conns SEC(".maps");

/* --cgroup, --container: the directory whose processes, and those of
 * the directories below it, are wanted (user space puts it at index 0).
 * bpf_current_task_under_cgroup() is the one subtree test that every
 * program type here may call on 5.10: tracing programs may call
 * bpf_get_current_ancestor_cgroup_id() only from Linux 5.14.
 */
struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} filter_cgroup SEC(".maps");

/* bcc's --cgroupmap and --mntnsmap: the user's pinned hash maps replace
 * these (bpf_map__reuse_fd()); a process whose cgroup id, or mount
 * namespace inode, is not a key is not wanted. The values are never read.
 */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u64);
	__type(value, __u64);
} cgroup_set SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1);
	__type(key, __u64);
	__type(value, __u32);
} mntns_set SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);	/* resized by user space */
} events SEC(".maps");

/* Every table update goes through here: a failure (an LRU map with no
 * free entry on this CPU, or busy) is counted, never silent.
 */
static __always_inline long map_put(void *map, const void *key, const void *val,
				    __u64 flags)
{
	long err = bpf_map_update_elem(map, key, val, flags);

	if (err)
		COUNT(map_full);
	return err;
}

/* A wake-up per record (an IPI, a context switch) costs a connect storm
 * more than everything else we do: the reader is woken only when a batch
 * is waiting, and otherwise reads on its own timer. False if the record
 * was lost (counted).
 */
static __always_inline bool emit(const struct tcl_event *ev)
{
	__u64 flags = bpf_ringbuf_query(&events, BPF_RB_AVAIL_DATA) + sizeof(*ev) >=
		      wakeup_bytes ? BPF_RB_FORCE_WAKEUP : BPF_RB_NO_WAKEUP;

	if (bpf_ringbuf_output(&events, (void *)ev, sizeof(*ev), flags)) {
		COUNT(lost);
		return false;
	}
	return true;
}

/* The one place ports are converted: every port read here is in network
 * order (sockaddr, skc_dport, inet_sport); skc_num, the one kept in host
 * order, is not used.
 */
static __always_inline __u16 port_from_net(__be16 port)
{
	return bpf_ntohs(port);
}

static __always_inline bool wanted_port(__u16 port)
{
	return filter_ports[port >> 6] & (1ULL << (port & 63));
}

static __always_inline bool wanted_comm(const char *comm)
{
	for (int i = 0; i < TCL_COMM_LEN; i++) {
		if (comm[i] != filter_comm[i])
			return false;
		if (!comm[i])
			break;
	}
	return true;
}

/* A field of a kernel object: a plain load where the verifier knows the
 * pointer's type (a BTF pointer: the arguments of the tp_btf hooks), else
 * bpf_probe_read_kernel(), a helper call per field and several times the
 * cost. direct must be a constant where the function is inlined.
 */
#define KREAD(direct, p, field) ((direct) ? (p)->field : BPF_CORE_READ(p, field))

/* An IPv6 address out of a socket, as for KREAD(). */
static __always_inline void read_in6(__u8 *dst, const struct in6_addr *src, bool direct)
{
	__u32 *words = (__u32 *)dst;

	if (!direct) {
		bpf_probe_read_kernel(dst, 16, src);
		return;
	}
	for (int i = 0; i < 4; i++)
		words[i] = src->in6_u.u6_addr32[i];
}

/* Destination of a connect from its sockaddr; user says where it lives. */
static __always_inline bool read_sockaddr(const void *sa, bool user,
					  struct tcl_event *ev)
{
	struct sockaddr_in6 sin6;
	long err;

	/* sockaddr_in fits in the first bytes of sockaddr_in6 */
	if (user)
		err = bpf_probe_read_user(&sin6, sizeof(sin6), sa);
	else
		err = bpf_probe_read_kernel(&sin6, sizeof(sin6), sa);
	if (err) {
		/* a short user buffer: retry with the IPv4 size */
		struct sockaddr_in sin;

		if (!user || bpf_probe_read_user(&sin, sizeof(sin), sa))
			return false;
		__builtin_memcpy(&sin6, &sin, sizeof(sin));
	}
	if (sin6.sin6_family == AF_INET) {
		struct sockaddr_in *sin = (void *)&sin6;

		ev->ip = 4;
		ev->daddr.v4 = sin->sin_addr.s_addr;
		ev->dport = port_from_net(sin->sin_port);
		return true;
	}
	if (sin6.sin6_family == AF_INET6) {
		ev->ip = 6;
		__builtin_memcpy(ev->daddr.v6, &sin6.sin6_addr, 16);
		ev->dport = port_from_net(sin6.sin6_port);
		return true;
	}
	return false;
}

/* Destination from the socket itself (direct: as for KREAD()). */
static __always_inline bool read_sock_dest(const struct sock *sk,
					   struct tcl_event *ev, bool direct)
{
	__u16 family = KREAD(direct, sk, __sk_common.skc_family);

	if (family == AF_INET) {
		ev->ip = 4;
		ev->daddr.v4 = KREAD(direct, sk, __sk_common.skc_daddr);
	} else if (family == AF_INET6 &&
		   /* absent without CONFIG_IPV6 (and then so are such sockets) */
		   bpf_core_field_exists(sk->__sk_common.skc_v6_daddr)) {
		ev->ip = 6;
		read_in6(ev->daddr.v6, &sk->__sk_common.skc_v6_daddr, direct);
	} else {
		return false;
	}
	ev->dport = port_from_net(KREAD(direct, sk, __sk_common.skc_dport));
	return true;
}

/* Whether a table entry found at this socket's address was made for it.
 * An entry outlives its socket when the socket's end was missed (a
 * skipped close, a skipped destroy), and sockets are reused from their
 * slab at once: the next socket there must not take it for its own. The
 * peer's port tells them apart: set before the first change we enter a
 * socket at, and never rewritten (unlike a wildcard address, which the
 * connect resolves).
 */
static __always_inline bool entry_is_this_sockets(const struct sock *sk,
						  const struct tcl_event *ev)
{
	return ev->dport == port_from_net(sk->__sk_common.skc_dport);
}

static __always_inline bool is_v4_mapped(const __u8 *a)
{
	for (int i = 0; i < 10; i++)
		if (a[i])
			return false;
	return a[10] == 0xff && a[11] == 0xff;
}

/* The source address, which the connect chose before the SYN went out.
 * A v4-mapped destination's source is in the IPv4 field first:
 * tcp_v6_connect() copies it to the IPv6 one only once the inner
 * tcp_v4_connect() has returned.
 */
static __always_inline void read_sock_saddr(const struct sock *sk,
					    struct tcl_event *ev, bool direct)
{
	if (ev->ip == 4) {
		ev->saddr.v4 = KREAD(direct, sk, __sk_common.skc_rcv_saddr);
	} else if (is_v4_mapped(ev->daddr.v6)) {
		__u32 v4 = KREAD(direct, sk, __sk_common.skc_rcv_saddr);

		__builtin_memset(ev->saddr.v6, 0, 10);
		ev->saddr.v6[10] = ev->saddr.v6[11] = 0xff;
		__builtin_memcpy(&ev->saddr.v6[12], &v4, 4);
	} else if (bpf_core_field_exists(sk->__sk_common.skc_v6_rcv_saddr)) {
		read_in6(ev->saddr.v6, &sk->__sk_common.skc_v6_rcv_saddr, direct);
	}
}

/* not skc_num: going to CLOSE releases the port and zeroes skc_num
 * before the tracepoint runs, while inet_sport stays set
 */
static __always_inline __u16 read_sock_sport(const struct sock *sk, bool direct)
{
	const struct inet_sock *inet = (const struct inet_sock *)sk;
	struct tcp_sock *tp;

	if (!direct)
		return port_from_net(BPF_CORE_READ(inet, inet_sport));
	/* the verifier knows sk as a struct sock: the cast it checks */
	tp = bpf_skc_to_tcp_sock((void *)sk);
	return tp ? port_from_net(tp->inet_conn.icsk_inet.inet_sport) : 0;
}

static __always_inline void read_sock_source(const struct sock *sk,
					     struct tcl_event *ev, bool direct)
{
	read_sock_saddr(sk, ev, direct);
	ev->sport = read_sock_sport(sk, direct);
}

/* Probed reads, although from 5.11 bpf_get_current_task_btf() would make
 * them plain loads: the verifier then walks struct task_struct at each of
 * them on every path, and loading took 2.5 times as long (the three copies
 * of the outcome hook 14 ms each instead of 6, 50 ms more before the tool
 * is ready) to save about 50 ns a connect.
 */
static __always_inline __u32 current_netns(void)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	return BPF_CORE_READ(task, nsproxy, net_ns, ns.inum);
}

static __always_inline __u32 current_mntns(void)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();

	return BPF_CORE_READ(task, nsproxy, mnt_ns, ns.inum);
}

/* The calling thread's identity, into ev: who it is, and where (its
 * cgroup and namespaces, which name its container). What the filters
 * read already (caller_filtered_out()) is in ev: not read twice.
 */
static __always_inline void take_caller(struct tcl_event *ev)
{
	__u64 pid_tgid = bpf_get_current_pid_tgid();

	ev->pid = pid_tgid >> 32;
	ev->tid = (__u32)pid_tgid;
	ev->uid = (__u32)bpf_get_current_uid_gid();
	bpf_get_current_comm(ev->comm, sizeof(ev->comm));
	if (!filter_cgroupmap_set)
		ev->cgroup_id = bpf_get_current_cgroup_id();
	if (!filter_netns)
		ev->netns = current_netns();
	if (!filter_mntnsmap_set)
		ev->mntns = current_mntns();
}

/* Ids handed out by claim have this bit (of the count) set, so that they
 * never meet those handed out alone: 2^40 connects on one CPU would be
 * needed, and ids stay below 2^53, exact as JSON numbers.
 */
#define CLAIMED_IDS (1ULL << 40)

/* An id for a program that found another inside new_conn_id() on its
 * CPU (an interrupt, or preemption on 7.x), rare: both may read the same
 * count, so each value is claimed in ids_taken, whose insert with
 * BPF_NOEXIST is atomic, and the loser of a race moves on to the next.
 * Only ids within a few increments of each other can collide, so a
 * small table remembers enough.
 */
static __always_inline __u64 claimed_conn_id(struct id_source *src, __u32 cpu)
{
	__u8 taken = 1;
	__u64 id = 0;

	for (int i = 0; i < 8; i++) {
		__u64 next = ++src->claimed_next;

		id = (CLAIMED_IDS | next) << 12 | cpu;
		if (bpf_map_update_elem(&ids_taken, &id, &taken, BPF_NOEXIST) == 0)
			return id;
	}
	/* no claim: the id is unique unless a race came with it */
	COUNT(map_full);
	return id;
}

/* A per-CPU count with the CPU number in the low 12 bits. Its increment
 * is not atomic: the fetch-and-add that would make it so is Linux 5.12+,
 * and 5.10's verifier rejects the instruction even where it cannot run.
 * The plain atomic add every kernel has marks the count busy instead: a
 * program that finds itself alone there (busy is its own 1) takes the
 * next value, which no other can then read before it is written; one
 * that finds company takes a claimed id. A table insert for every
 * connect cost more than the rest of the connect's id-keeping together.
 */
static __always_inline __u64 new_conn_id(void)
{
	__u32 zero = 0, cpu = bpf_get_smp_processor_id() & 0xfff;
	struct id_source *src = bpf_map_lookup_elem(&id_counter, &zero);
	__u64 id;

	if (!src)
		return 0;
	__sync_fetch_and_add(&src->busy, 1);
	if (*(volatile __u64 *)&src->busy == 1)
		id = ++src->next << 12 | cpu;
	else
		id = claimed_conn_id(src, cpu);
	__sync_fetch_and_add(&src->busy, -1);
	return id;
}

/* Whether any filter asks about the process: an accept whose process is
 * unknown cannot satisfy it.
 */
static __always_inline bool process_filtered(void)
{
	return filter_pid || filter_uid_set || filter_comm_set || filter_cgroup_set ||
	       filter_netns || filter_cgroupmap_set || filter_mntnsmap_set;
}

/* The filters on where the process runs: its cgroup, its namespaces. The
 * ids they read go into ev, the record being made, for take_caller().
 * Cheapest first: a helper call, a map lookup, pointer reads, the walk
 * up the cgroup tree.
 */
static __always_inline bool place_filtered_out(struct tcl_event *ev)
{
	__u64 key;

	if (filter_cgroupmap_set) {
		key = ev->cgroup_id = bpf_get_current_cgroup_id();
		if (!bpf_map_lookup_elem(&cgroup_set, &key))
			return true;
	}
	if (filter_netns) {
		ev->netns = current_netns();
		if (ev->netns != filter_netns)
			return true;
	}
	if (filter_mntnsmap_set) {
		key = ev->mntns = current_mntns();
		if (!bpf_map_lookup_elem(&mntns_set, &key))
			return true;
	}
	/* 1: under it; 0: not; negative: no directory set (never here) */
	return filter_cgroup_set && bpf_current_task_under_cgroup(&filter_cgroup, 0) != 1;
}

/* The process filters (-p, -u, -n, then the place filters), checked
 * before anything of the socket is read: an attempt they drop costs
 * little more than this. ev is the record to be, if they pass.
 */
static __always_inline bool caller_filtered_out(struct tcl_event *ev)
{
	char comm[TCL_COMM_LEN];

	if (filter_pid && (bpf_get_current_pid_tgid() >> 32) != filter_pid)
		return true;
	if (filter_uid_set && (__u32)bpf_get_current_uid_gid() != filter_uid)
		return true;
	if (filter_comm_set) {
		bpf_get_current_comm(comm, sizeof(comm));
		if (!wanted_comm(comm))
			return true;
	}
	return place_filtered_out(ev);
}

/* Enter an attempt whose destination is already in *proto, if the address
 * filters want it; every caller has applied the process filters first
 * (caller_filtered_out()). Returns the table entry, or NULL.
 */
static __always_inline struct tcl_attempt *begin_attempt(__u64 skid,
						     struct tcl_attempt *proto)
{
	struct tcl_event *ev = &proto->ev;

	if (filter_ip && ev->ip != filter_ip)
		return NULL;
	if (filter_ports_set && !wanted_port(ev->dport))
		return NULL;
	take_caller(ev);
	ev->sock_id = skid;
	ev->conn_id = new_conn_id();
	if (!proto->start_ns)
		proto->start_ns = bpf_ktime_get_ns();
	if (map_put(&attempts, &skid, proto, BPF_ANY))
		return NULL;
	COUNT(started);
	return bpf_map_lookup_elem(&attempts, &skid);
}

/* The socket behind a file descriptor of the current task, or NULL. */
static __always_inline struct sock *sock_of_fd(int fd)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct fdtable *fdt = BPF_CORE_READ(task, files, fdt);
	struct file **fds;
	struct file *file = NULL;
	struct socket *sock;

	if (fd < 0 || (unsigned int)fd >= BPF_CORE_READ(fdt, max_fds))
		return NULL;
	fds = BPF_CORE_READ(fdt, fd);
	bpf_probe_read_kernel(&file, sizeof(struct file *), &fds[fd]);	/* the pointer */
	if (!file)
		return NULL;
	if ((BPF_CORE_READ(file, f_inode, i_mode) & S_IFMT) != S_IFSOCK)
		return NULL;
	sock = BPF_CORE_READ(file, private_data);
	return BPF_CORE_READ(sock, sk);
}

#include "lifecycle.bpf.h"

/*
 * The life of an attempt
 * ======================
 *
 * An attempt is an entry of `attempts`, keyed by its socket, from the start
 * of a connect to its outcome. Its state (enum tcl_attempt_state) says how
 * far the handshake got; `calls` how many connect calls its thread is
 * still inside. Each event below is one function, and every backend goes
 * through the same ones: only the probes that call them differ. "done"
 * means: the record is made (conclude()) and the entry removed.
 *
 * event                      function              state before     after
 * -------------------------  --------------------  ---------------  ----------------------------
 * connect entered:           connect_entered()     none, or any     CALLED, calls 1; an entry
 *   fentry/kprobe on                                                already there was left by a
 *   tcp_v{4,6}_connect                                              connect whose end was missed:
 *                                                                   replaced (counted untracked)
 * connect(2) entered         tp_sys_enter_connect  -                - (the call noted in
 *   (tracepoint backend)                                            connect_by_tid, no attempt)
 * nested tcp_v4_connect of   nested_call_entered() any, calls > 0,  calls + 1 (one attempt: the
 *   a v4-mapped address                             same thread      outer call's)
 * CLOSE -> SYN_SENT          syn_sent()            CALLED           SYN_SENT, source noted
 *                                                  none, or         SYN_SENT, replacing it
 *                                                  another          (attempt_at_syn()): inside a
 *                                                  thread's         noted connect(2), calls 1 and
 *                                                                   its start; else a connect not
 *                                                                   seen entering: calls 1 where
 *                                                                   the backend measures the call
 *                                                  SYN_SENT...      - (a later copy of the hook)
 * SYN_SENT -> SYN_RECV       syn_recv()            SYN_SENT         SYN_RECV (simultaneous open,
 *                                                                   a connect to itself)
 * -> ESTABLISHED             established()         SYN_SENT/RECV    done: established
 * -> CLOSE inside the call   closed()              SYN_SENT/RECV    CLOSED_IN_CALL (the socket
 *                                                                   not yet SS_CONNECTING)
 * -> CLOSE after the call    closed()              SYN_SENT/RECV    done: sk_err's result
 * SYN_RECV -> FIN_WAIT1      closed()              SYN_RECV         done: closed
 * connect(2) failed before   call_without_syn()    none             CALLED, calls 1, if a TCP
 *   SYN_SENT (tracepoint                                            socket still in CLOSE: then
 *   backend)                                                        as connect returned, below
 * connect returned           connect_returned()    none, or         - (not this thread's attempt)
 *                                                  another thread's
 * connect returned, nested   connect_returned()    any, calls > 1   calls - 1
 * connect returned ok (or    connect_returned()    CALLED,          calls 0, source noted, -i:
 *   failed, socket not                             SYN_SENT/RECV    the call record
 *   closed: in progress)
 * connect returned error,    connect_returned()    CALLED,          done: error, errno from the
 *   socket closed                                  CLOSED_IN_CALL   call (TCL_F_CALL_FAILED)
 *                                                  SYN_SENT/RECV    tracepoint: the hook missed
 *                                                                   the close: done, sk_err's
 *                                                                   result (outcomes_unseen);
 *                                                                   kprobe, fentry: as above
 * socket destroyed           destroyed()           any              removed (counted untracked:
 *                                                                   its return or its close was
 *                                                                   missed), and the thread's
 *                                                                   connect_by_tid entry
 * exit scan (user space)     report_pending()      any              a pending record
 *
 * The outcome hook runs three times per state change (STATE_HOOK below):
 * each step finds its work done when an earlier copy did it.
 */

static __always_inline __u32 current_tid(void)
{
	return (__u32)bpf_get_current_pid_tgid();
}

static __always_inline __u8 result_of(int err)
{
	switch (err) {
	case 0:
		return TCL_CLOSED;
	case ECONNREFUSED:
		return TCL_REFUSED;
	case ETIMEDOUT:
		return TCL_TIMEOUT;
	case EHOSTUNREACH:
	case ENETUNREACH:
		return TCL_UNREACHABLE;
	default:
		return TCL_ERROR;
	}
}

/* Hand the finished record to user space and free its entry. */
static __always_inline void conclude(struct tcl_attempt *a, __u64 skid,
				     __u8 result, int err, __u64 now)
{
	struct tcl_event *ev = &a->ev;

	if (!(failed_only && result == TCL_ESTABLISHED)) {
		ev->result = result;
		ev->err = err;
		ev->ts_ns = now;
		ev->latency_ns = now - a->start_ns;
		ev->stage = TCL_STAGE_OUTCOME;
		emit(ev);
	}
	bpf_map_delete_elem(&attempts, &skid);
	COUNT(finished);
}

/* connect entered, with the destination in proto->ev: a new attempt. */
static __always_inline struct tcl_attempt *connect_entered(__u64 skid,
							   struct tcl_attempt *proto)
{
	proto->calls = 1;
	proto->state = TCL_AS_CALLED;
	return begin_attempt(skid, proto);
}

/* tcp_v4_connect called by tcp_v6_connect for a v4-mapped destination:
 * part of the outer call's attempt, if that one is traced.
 */
static __always_inline struct tcl_attempt *nested_call_entered(__u64 skid)
{
	struct tcl_attempt *a = bpf_map_lookup_elem(&attempts, &skid);

	if (!a || a->calls == 0 || a->ev.tid != current_tid())
		return NULL;
	a->calls++;
	return a;
}

/* Whether user space holds the socket: what a connect(2) moves. The
 * subflows MPTCP connects inside a connect(2) of its own socket are the
 * kernel's. Plain loads: sk is a BTF pointer in the outcome hook.
 */
static __always_inline bool user_socket(const struct sock *sk)
{
	struct socket *sock = sk->sk_socket;

	return sock && sock->file;
}

/* An attempt first seen as its SYN goes out: one whose connect(2) the
 * tracepoint backend only noted (tp_sys_enter_connect), or a connect not
 * seen entering (its probe skipped, or not through connect(2)). Its
 * filters apply here, in the connecting task's context.
 */
static __always_inline struct tcl_attempt *attempt_at_syn(const struct sock *sk)
{
	__u32 tid = current_tid();
	struct tcl_call *call = bpf_map_lookup_elem(&connect_by_tid, &tid);
	struct tcl_attempt proto = { .calls = measure_call }, *a;
	__u64 skid = (__u64)sk;
	bool in_call = call && !call->sock_id && user_socket(sk);

	if (caller_filtered_out(&proto.ev) || !read_sock_dest(sk, &proto.ev, true))
		return NULL;
	if (in_call) {
		proto.calls = 1;
		proto.start_ns = call->start_ns;
	}
	a = begin_attempt(skid, &proto);
	if (a && in_call)
		call->sock_id = skid;
	return a;
}

/* CLOSE -> SYN_SENT, in the connecting task's context. */
static __always_inline void syn_sent(const struct sock *sk)
{
	__u64 skid = (__u64)sk;
	struct tcl_attempt *a = bpf_map_lookup_elem(&attempts, &skid);

	/* none, or one another thread left on this address */
	if (!a || a->ev.tid != current_tid()) {
		a = attempt_at_syn(sk);
		if (!a)
			return;
	}
	if (a->state != TCL_AS_CALLED)
		return;
	a->state = TCL_AS_SYN_SENT;
	/* kept for an outcome seen only at connect's return */
	read_sock_saddr(sk, &a->ev, true);
}

/* SYN_SENT -> SYN_RECV: our SYN met a SYN (a connect to itself). */
static __always_inline void syn_recv(struct tcl_attempt *a)
{
	a->state = TCL_AS_SYN_RECV;
}

static __always_inline void established(struct tcl_attempt *a, const struct sock *sk,
					__u64 now)
{
	if (lifecycle)
		follow_connection(sk, &a->ev, now);
	conclude(a, (__u64)sk, TCL_ESTABLISHED, 0, now);
}

/* Did the socket close while connect's own code was still running (as
 * opposed to during the wait for the handshake)? The socket layer moves
 * to SS_CONNECTING only once the protocol's connect returned success.
 */
static __always_inline bool closed_inside_call(const struct tcl_attempt *a,
					       const struct sock *sk)
{
	struct socket *sock = sk->sk_socket;

	return a->calls > 0 && sock && sock->state == SS_UNCONNECTED;
}

/* The handshake ended without success: to CLOSE (a reset, a timeout, an
 * ICMP error, the application's close), or from SYN_RECV to FIN_WAIT1
 * (the application closed it: our FIN goes out).
 */
static __always_inline void closed(struct tcl_attempt *a, const struct sock *sk,
				   __u64 skid, int newstate, __u64 now)
{
	int err = sk->sk_err;

	if (newstate != TCP_CLOSE) {
		conclude(a, skid, TCL_CLOSED, 0, now);
		return;
	}
	if (closed_inside_call(a, sk)) {
		/* the return value is the errno */
		a->state = TCL_AS_CLOSED_IN_CALL;
		return;
	}
	conclude(a, skid, result_of(err), err, now);
}

/* The socket of attempt a left SYN_SENT or SYN_RECV. */
static __always_inline void handshake_moved(struct tcl_attempt *a, const struct sock *sk,
					    int newstate)
{
	__u64 skid = (__u64)sk, now;

	/* the later copies of the hook find it waiting for the return */
	if (a->state == TCL_AS_CLOSED_IN_CALL)
		return;
	if (newstate == TCP_SYN_RECV) {
		syn_recv(a);
		return;
	}
	now = bpf_ktime_get_ns();
	/* the source port is still assigned here, not after CLOSE */
	read_sock_source(sk, &a->ev, true);
	if (newstate == TCP_ESTABLISHED)
		established(a, sk, now);
	else
		closed(a, sk, skid, newstate, now);
}

/* connect(2) returned a failure on a closed socket (tracepoint backend,
 * where the return comes after the wait for the handshake), yet a SYN went
 * out and the hook never saw the socket close inside the call: the close
 * was an outcome the hook missed (rare: seen on the host under load, with
 * no run counted skipped). The error is then the outcome's. The source
 * address was reset at the close: it is the one read when the SYN went
 * out; the port is still set.
 */
static __always_inline bool outcome_missed(const struct tcl_attempt *a)
{
	return !measure_call &&
	       (a->state == TCL_AS_SYN_SENT || a->state == TCL_AS_SYN_RECV);
}

/* connect(2) returned success (tracepoint backend) on a socket past its
 * handshake, which the hook never saw end: the establishment was missed.
 * (A TCP_FASTOPEN_CONNECT socket returns success still in SYN_SENT.)
 */
static __always_inline bool establishment_missed(const struct tcl_attempt *a,
						 const struct sock *sk)
{
	int state = BPF_CORE_READ(sk, __sk_common.skc_state);

	return outcome_missed(a) && state != TCP_SYN_SENT && state != TCP_SYN_RECV &&
	       state != TCP_CLOSE;
}

/* The connect function (or syscall) returned ret on this thread. Returns
 * the number of calls the thread is still inside.
 */
static __always_inline __u32 connect_returned(__u64 skid, int ret)
{
	struct tcl_attempt *a = bpf_map_lookup_elem(&attempts, &skid);
	const struct sock *sk = (const struct sock *)skid;
	__u64 now;

	/* none, or another thread's on this address */
	if (!a || a->ev.tid != current_tid())
		return 0;
	if (a->calls > 1)
		return --a->calls;
	a->calls = 0;
	now = bpf_ktime_get_ns();
	if (measure_call) {
		a->ev.call_ns = now - a->start_ns;
		a->ev.flags |= TCL_F_CALL_MEASURED;
	}
	if (ret < 0 && (a->state == TCL_AS_CLOSED_IN_CALL ||
			BPF_CORE_READ(sk, __sk_common.skc_state) == TCP_CLOSE)) {
		if (outcome_missed(a)) {
			/* a non-blocking call leaves the error on the socket */
			int err = BPF_CORE_READ(sk, sk_err) ?: -ret;

			COUNT(outcomes_unseen);
			a->ev.sport = read_sock_sport(sk, false);
			conclude(a, skid, result_of(err), err, now);
			return 0;
		}
		a->ev.flags |= TCL_F_CALL_FAILED;
		conclude(a, skid, TCL_ERROR, -ret, now);
		return 0;
	}
	/* source address and port are set once the call succeeded: keep them
	 * for an attempt still pending at exit
	 */
	read_sock_source(sk, &a->ev, false);
	if (ret == 0 && establishment_missed(a, sk)) {
		/* not followed with -l: its counters are not at hand here */
		COUNT(outcomes_unseen);
		conclude(a, skid, TCL_ESTABLISHED, 0, now);
		return 0;
	}
	if (immediate) {
		a->ev.stage = TCL_STAGE_CALL;
		a->ev.result = TCL_PENDING;
		a->ev.ts_ns = now;
		/* the outcome record then only feeds the summary: unless this
		 * one was lost
		 */
		if (emit(&a->ev))
			a->ev.flags |= TCL_F_CALL_REPORTED;
	}
	return 0;
}

/* The socket is freed: whatever is left of it in our tables lost its end
 * (a return or a state change the kernel skipped), and its address may
 * soon be another socket's. An accept record still to be made is made.
 */
static __always_inline void destroyed(__u64 skid)
{
	struct tcl_attempt *a = bpf_map_lookup_elem(&attempts, &skid);

	if (a) {
		__u32 tid = a->ev.tid;
		struct tcl_call *inside = bpf_map_lookup_elem(&connect_by_tid, &tid);

		if (inside && inside->sock_id == skid)
			bpf_map_delete_elem(&connect_by_tid, &tid);
		bpf_map_delete_elem(&attempts, &skid);
	}
	if (lifecycle || accepts) {
		struct tcl_conn *c = bpf_map_lookup_elem(&conns, &skid);

		if (c)
			stale_connection(skid, c);
	}
}

/* --- the probes of each backend, feeding the functions above --- */

/* kprobe and fentry entry. tcp_v4_connect on an IPv6 socket is the inner
 * call of a v4-mapped destination (or, with -4, of an outer call left
 * untraced: then an IPv6 attempt, not an IPv4 one, and no record).
 */
static __always_inline struct tcl_attempt *function_entered(struct sock *sk,
							    const void *uaddr)
{
	__u64 skid = (__u64)sk;
	struct tcl_attempt proto = {};

	if (caller_filtered_out(&proto.ev) || !read_sockaddr(uaddr, false, &proto.ev))
		return NULL;
	if (proto.ev.ip == 4 && BPF_CORE_READ(sk, __sk_common.skc_family) == AF_INET6)
		return nested_call_entered(skid);
	return connect_entered(skid, &proto);
}

static __always_inline int kprobe_entered(struct sock *sk, const void *uaddr)
{
	__u32 tid = current_tid();
	struct tcl_call call = { .sock_id = (__u64)sk };

	if (function_entered(sk, uaddr))
		map_put(&connect_by_tid, &tid, &call, BPF_ANY);
	return 0;
}

/* connect(2) failed and its socket never reached SYN_SENT (tracepoint
 * backend): refused before any packet, e.g. no route, or a cgroup hook's
 * veto. Its attempt is made now, from what the entry noted: the
 * destination from the caller's sockaddr (the kernel has read it, so it
 * is in memory), the start from the entry. Only a TCP socket still in
 * CLOSE had one: not a connect(2) on a socket already connecting or
 * connected. (TCP connects that succeed all pass SYN_SENT inside the
 * call, TCP_FASTOPEN_CONNECT's and TCP_REPAIR's too: a successful
 * connect(2) of another protocol, a UDP socket's, costs no walk here.)
 */
static __always_inline void call_without_syn(struct tcl_call *call)
{
	struct tcl_attempt proto = { .state = TCL_AS_CALLED, .calls = 1,
				     .start_ns = call->start_ns };
	struct sock *sk = sock_of_fd(call->fd);

	if (!sk || BPF_CORE_READ(sk, sk_protocol) != IPPROTO_TCP ||
	    BPF_CORE_READ(sk, __sk_common.skc_state) != TCP_CLOSE)
		return;
	if (caller_filtered_out(&proto.ev) ||
	    !read_sockaddr((const void *)call->uaddr, true, &proto.ev))
		return;
	if (begin_attempt((__u64)sk, &proto))
		call->sock_id = (__u64)sk;
}

static __always_inline int returned_on_this_thread(int ret, bool syscall)
{
	__u32 tid = current_tid();
	struct tcl_call *call = bpf_map_lookup_elem(&connect_by_tid, &tid);

	if (!call)
		return 0;
	if (syscall && !call->sock_id && ret < 0)
		call_without_syn(call);
	if (!call->sock_id || connect_returned(call->sock_id, ret) == 0)
		bpf_map_delete_elem(&connect_by_tid, &tid);
	return 0;
}

SEC("kprobe/tcp_v4_connect")
int BPF_KPROBE(kprobe_tcp_v4_connect, struct sock *sk, struct sockaddr *uaddr)
{
	return kprobe_entered(sk, uaddr);
}

SEC("kprobe/tcp_v6_connect")
int BPF_KPROBE(kprobe_tcp_v6_connect, struct sock *sk, struct sockaddr *uaddr)
{
	return kprobe_entered(sk, uaddr);
}

SEC("kretprobe/tcp_v4_connect")
int BPF_KRETPROBE(kretprobe_tcp_v4_connect, int ret)
{
	return returned_on_this_thread(ret, false);
}

SEC("kretprobe/tcp_v6_connect")
int BPF_KRETPROBE(kretprobe_tcp_v6_connect, int ret)
{
	return returned_on_this_thread(ret, false);
}

SEC("fentry/tcp_v4_connect")
int BPF_PROG(fentry_tcp_v4_connect, struct sock *sk, struct sockaddr *uaddr)
{
	function_entered(sk, uaddr);
	return 0;
}

SEC("fentry/tcp_v6_connect")
int BPF_PROG(fentry_tcp_v6_connect, struct sock *sk, struct sockaddr *uaddr)
{
	function_entered(sk, uaddr);
	return 0;
}

SEC("fexit/tcp_v4_connect")
int BPF_PROG(fexit_tcp_v4_connect, struct sock *sk, struct sockaddr *uaddr,
	     int addr_len, int ret)
{
	connect_returned((__u64)sk, ret);
	return 0;
}

SEC("fexit/tcp_v6_connect")
int BPF_PROG(fexit_tcp_v6_connect, struct sock *sk, struct sockaddr *uaddr,
	     int addr_len, int ret)
{
	connect_returned((__u64)sk, ret);
	return 0;
}

/* tracepoint backend: a connect(2) is only noted here, with its time. Most
 * send a SYN, and the outcome hook makes their attempt then, from the
 * socket, with plain loads (attempt_at_syn()); one that sends none is
 * looked at when it returns (call_without_syn()). Walking from the
 * descriptor to the socket and reading the sockaddr here, for every
 * call, cost more than all the rest of a connect's tracing.
 */
SEC("tracepoint/syscalls/sys_enter_connect")
int tp_sys_enter_connect(struct trace_event_raw_sys_enter *ctx)
{
	__u32 tid = current_tid();
	struct tcl_call call = {};
	struct tcl_event ids;	/* what the place filters read: unused here */

	if (caller_filtered_out(&ids))
		return 0;
	call.fd = (int)ctx->args[0];
	call.uaddr = ctx->args[1];
	call.start_ns = bpf_ktime_get_ns();
	map_put(&connect_by_tid, &tid, &call, BPF_ANY);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_connect")
int tp_sys_exit_connect(struct trace_event_raw_sys_exit *ctx)
{
	return returned_on_this_thread((int)ctx->ret, true);
}

/* Whether a transition can concern us, from the arguments alone: the hook
 * runs on every state change of every TCP socket of the machine, most of
 * them none of ours, so this comes before any read or lookup.
 */
static __always_inline bool transition_wanted(int oldstate, int newstate)
{
	/* an attempt starts, or its handshake ends */
	if ((oldstate == TCP_CLOSE && newstate == TCP_SYN_SENT) ||
	    oldstate == TCP_SYN_SENT || oldstate == TCP_SYN_RECV)
		return true;
	/* past the handshake: a socket in conns is neither closed nor a
	 * listener
	 */
	return (lifecycle || accepts) && oldstate != TCP_CLOSE && oldstate != TCP_LISTEN;
}

/* The outcome hook: the attempt's transitions, and after them those of
 * connections (-l, -A).
 */
static __always_inline int state_changed(const struct sock *sk, int oldstate,
					 int newstate)
{
	__u64 skid = (__u64)sk;
	struct tcl_attempt *a;

	/* MPTCP sockets change state through this tracepoint too: an
	 * mptcp_sock, not a tcp_sock. Their subflows are TCP sockets, and
	 * each is reported as such. A plain load: sk is a BTF pointer here.
	 */
	if (sk->sk_protocol != IPPROTO_TCP)
		return 0;
	if (oldstate == TCP_CLOSE && newstate == TCP_SYN_SENT) {
		syn_sent(sk);
		return 0;
	}
	if (oldstate == TCP_SYN_SENT || oldstate == TCP_SYN_RECV) {
		a = bpf_map_lookup_elem(&attempts, &skid);
		if (a && entry_is_this_sockets(sk, &a->ev)) {
			handshake_moved(a, sk, newstate);
			return 0;
		}
		/* an earlier socket's, whose end was missed: counted
		 * untracked (started, never finished)
		 */
		if (a)
			bpf_map_delete_elem(&attempts, &skid);
	}
	if (lifecycle || accepts)
		connection_state_changed(sk, oldstate, newstate);
	return 0;
}

/* The same hook three times. On preemptible kernels (7.x) a program can
 * be preempted while it runs, and the kernel then skips that program for
 * every other task on the CPU as if it were recursion (counted in
 * recursion_misses): a copy runs when the one before it is skipped. Under
 * load two copies were not enough: a task preempted in each, and the state
 * change of a third was lost (about 1 in 1000 connects in an emulated
 * guest with CPU hogs). Each step of state_changed() finds the work
 * already done when an earlier copy ran; but finding that out costs map
 * lookups, so a copy that handled a change marks it in hook_handled, and
 * the later copies return when they find their change marked. The last
 * copy clears the mark, so that it is not found again should the same
 * change come again to the same socket (a reconnect) while the first copy
 * is being skipped.
 */
#define HOOK_COPIES 3

/* The state change a copy of the hook handled last on this CPU. */
struct handled_change {
	__u64 sock;	/* written last, cleared first: see mark_handled() */
	__u32 states;	/* oldstate << 16 | newstate */
	/* the socket's ports: a mark left behind (its last copy skipped)
	 * must not pass for the same change of the next socket the slab
	 * puts at that address
	 */
	__u32 ports;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct handled_change);
} hook_handled SEC(".maps");

#define compiler_barrier() __asm__ __volatile__("" ::: "memory")

/* Separate words, as 5.10's verifier refuses arithmetic that would fold
 * the socket's address and the states into one. A copy interrupting
 * mark_handled() on this CPU reads the socket as 0, or as two equal
 * reads around the rest. A mark whose writing was interrupted by another
 * one may end up with one change's socket and another's states: no
 * change matches it, and the next copy does the work again. (Two changes
 * of one socket cannot be in the hook at once: the socket's lock orders
 * them.)
 */
static __always_inline void mark_handled(struct handled_change *h, const struct sock *sk,
					 __u32 states, __u32 ports)
{
	h->sock = 0;
	compiler_barrier();
	h->states = states;
	h->ports = ports;
	compiler_barrier();
	h->sock = (__u64)sk;
}

static __always_inline bool change_handled(const struct handled_change *h,
					   const struct sock *sk, __u32 states, __u32 ports)
{
	__u64 before = h->sock, after;
	__u32 seen, seen_ports;

	compiler_barrier();
	seen = h->states;
	seen_ports = h->ports;
	compiler_barrier();
	after = h->sock;
	return before == (__u64)sk && after == before && seen == states &&
	       seen_ports == ports;
}

static __always_inline int state_hook(const struct sock *sk, int oldstate, int newstate,
				      int copy)
{
	__u32 zero = 0, states = (__u32)oldstate << 16 | (__u16)newstate, ports;
	struct handled_change *handled;

	if (!transition_wanted(oldstate, newstate))
		return 0;
	handled = bpf_map_lookup_elem(&hook_handled, &zero);
	if (!handled)
		return 0;
	ports = sk->__sk_common.skc_portpair;
	if (copy > 1 && change_handled(handled, sk, states, ports)) {
		if (copy == HOOK_COPIES)
			handled->sock = 0;
		return 0;
	}
	state_changed(sk, oldstate, newstate);
	if (copy < HOOK_COPIES)
		mark_handled(handled, sk, states, ports);
	else
		handled->sock = 0;
	return 0;
}

#define STATE_HOOK(name, copy)							\
	SEC("tp_btf/inet_sock_set_state")					\
	int BPF_PROG(name, const struct sock *sk, int oldstate, int newstate)	\
	{									\
		return state_hook(sk, oldstate, newstate, copy);		\
	}

STATE_HOOK(on_inet_sock_set_state, 1)
STATE_HOOK(on_inet_sock_set_state2, 2)
STATE_HOOK(on_inet_sock_set_state3, 3)

/* Every TCP socket passes here once, when it is freed. */
SEC("tp_btf/tcp_destroy_sock")
int BPF_PROG(on_tcp_destroy_sock, struct sock *sk)
{
	destroyed((__u64)sk);
	return 0;
}

/* -A: the process an accepted connection goes to is the one whose
 * accept(2) returns it
 */
SEC("tracepoint/syscalls/sys_exit_accept4")
int tp_sys_exit_accept4(struct trace_event_raw_sys_exit *ctx)
{
	accept_returned((int)ctx->ret);
	return 0;
}

SEC("tracepoint/syscalls/sys_exit_accept")
int tp_sys_exit_accept(struct trace_event_raw_sys_exit *ctx)
{
	accept_returned((int)ctx->ret);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
