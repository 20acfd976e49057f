// SPDX-License-Identifier: GPL-2.0-only
#include <errno.h>
#include <poll.h>
#include <sys/epoll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <linux/membarrier.h>
#include <sys/syscall.h>
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include "dnscap.h"
#include "kretprobe.h"
#include "metrics.h"
#include "notify.h"
#include "outfile.h"
#include "livestats.h"
#include "privs.h"
#include "records.h"
#include "runinfo.h"
#include "tracer.h"
#include "waitms.h"
#include "wallclock.h"
#include "tcpconnlog.skel.h"

#define POLL_MS			100
#define LOSS_WARN_EVERY_NS	1000000000ULL
#define STATUS_EVERY_NS		1000000000ULL

volatile sig_atomic_t tracer_stop_requested;

struct session {
	const struct tcl_config *cfg;
	struct tcpconnlog_bpf *skel;
	struct records rec;
	struct outfile file;	/* -o */
	__u64 next_clock_ns;	/* when to read the wall clock again */
	__u64 lost_reported;
	__u64 last_warning_ns;
	__u64 next_stats_ns;	/* --stats-interval: when the next is due, 0 = off */
	bool output_closed;	/* stdout went away: stop quietly */
	int write_errno;	/* stdout failed otherwise */
	const char *backend;
	__u64 next_status_ns;	/* NOTIFY_SOCKET: STATUS= sent at most this often */
	__u64 status_sent[4];	/* attempts, established, failed, lost */
	struct metrics *metrics;	/* --metrics, or NULL */
	__u64 next_metrics_ns;	/* its loss counters: read at most this often */
	char start_line[RUNINFO_START_MAX];	/* -j: the start record (-o: each file's head) */
	__s64 start_real_ns;	/* the start record's time: when the ready line was printed */
};

static __u64 now_ns(clockid_t clock)
{
	struct timespec ts;

	clock_gettime(clock, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

/* Make what was written visible; note why if stdout is gone. --top and
 * -c write with stdio, before any record line that is still buffered
 * (the lost line at exit), so stdio goes first.
 */
static void flush_output(struct session *s)
{
	int err = fflush(stdout) ? errno : 0;

	if (!err)
		err = output_flush(&s->rec.out);
	if (!err)
		return;
	if (err == EPIPE)
		s->output_closed = true;
	else if (!s->write_errno)
		s->write_errno = err;
}

/* --metrics: a record counted as it comes, whatever the output mode */
static void count_metrics(struct session *s, const struct tcl_event *ev)
{
	const char *container = NULL;

	if (s->cfg->metrics_labels & METRICS_LABEL_CONTAINER)
		cgroups_path(&s->rec.cgroups, ev->cgroup_id,
			     ev->flags & TCL_F_NO_PROCESS ? 0 : ev->pid, ev->tid, &container);
	metrics_take(s->metrics, ev, container);
}

static int on_ringbuf_record(void *ctx, void *data, size_t len)
{
	struct session *s = ctx;

	if (len < sizeof(struct tcl_event))
		return 0;
	if (s->metrics)
		count_metrics(s, data);
	records_take(&s->rec, data);
	return 0;
}

/* The sum of the per-CPU counters; zeros if they cannot be read. */
static struct tcl_counters read_counters(const struct session *s)
{
	int ncpus = libbpf_num_possible_cpus();
	struct tcl_counters sum = {}, *per_cpu;
	__u32 zero = 0;

	per_cpu = ncpus > 0 ? calloc(ncpus, sizeof(*per_cpu)) : NULL;
	if (per_cpu && !bpf_map_lookup_elem(bpf_map__fd(s->skel->maps.counters), &zero,
					    per_cpu)) {
		for (int i = 0; i < ncpus; i++) {
			sum.lost += per_cpu[i].lost;
			sum.started += per_cpu[i].started;
			sum.finished += per_cpu[i].finished;
			sum.conns_opened += per_cpu[i].conns_opened;
			sum.conns_closed += per_cpu[i].conns_closed;
			sum.outcomes_unseen += per_cpu[i].outcomes_unseen;
			sum.map_full += per_cpu[i].map_full;
		}
	}
	free(per_cpu);
	return sum;
}

/* While running at most once a second; at exit (final) whenever there is
 * loss not yet warned about, as when the reader was stopped right until
 * the end.
 */
static void warn_about_loss(struct session *s, bool final)
{
	__u64 lost = read_counters(s).lost, now = now_ns(CLOCK_MONOTONIC);

	if (lost == s->lost_reported ||
	    (!final && now - s->last_warning_ns < LOSS_WARN_EVERY_NS))
		return;
	fprintf(stderr, "tcpconnlog: warning: %llu events lost so far: the ring buffer "
		"was full (a larger --ringbuf-size helps)\n", (unsigned long long)lost);
	s->lost_reported = lost;
	s->last_warning_ns = now;
}

static __u64 recursion_misses(struct bpf_program *prog)
{
	struct bpf_prog_info info = {};
	__u32 len = sizeof(info);
	int fd = bpf_program__fd(prog);

	/* the field exists from Linux 5.12; older kernels leave it 0 */
	if (fd < 0 || bpf_obj_get_info_by_fd(fd, &info, &len))
		return 0;
	return info.recursion_misses;
}

static bool is_state_hook(const struct tcpconnlog_bpf *skel,
			  const struct bpf_program *prog)
{
	return prog == skel->progs.on_inet_sock_set_state ||
	       prog == skel->progs.on_inet_sock_set_state2 ||
	       prog == skel->progs.on_inet_sock_set_state3;
}

/* Runs of our probes the kernel skipped: returns our kretprobes missed,
 * and runs skipped as "recursion" (another run of the same program was
 * active on the CPU, as when it was preempted). The outcome hook has
 * three copies, and a state change is lost only when all were skipped:
 * the smallest count bounds that. Failures the hook never saw, though
 * nothing was counted skipped, are added: their records were made from
 * connect(2)'s return, without a source address.
 */
static __u64 probe_runs_skipped(const struct session *s)
{
	struct tcpconnlog_bpf *skel = s->skel;
	__u64 n = kretprobes_missed(), fewest = ~0ULL;
	struct bpf_program *prog;

	bpf_object__for_each_program(prog, skel->obj) {
		__u64 misses = recursion_misses(prog);

		/* a skipped destroy costs no record: it only leaves an entry
		 * for the next connect on that address to replace
		 */
		if (prog == skel->progs.on_tcp_destroy_sock)
			continue;
		if (!is_state_hook(skel, prog))
			n += misses;
		else if (misses < fewest)
			fewest = misses;
	}
	return n + fewest + read_counters(s).outcomes_unseen;
}

/* Attempts still in the kernel's table at exit are reported as pending.
 * Runs once the probes are detached: the walk needs a table nothing
 * deletes from. Returns how many there were.
 */
static __u64 report_pending(struct session *s)
{
	int fd = bpf_map__fd(s->skel->maps.attempts);
	__u64 key, next, *prev = NULL, n = 0, now = now_ns(CLOCK_MONOTONIC);

	while (bpf_map_get_next_key(fd, prev, &next) == 0) {
		struct tcl_attempt a;

		key = next;
		prev = &key;
		if (bpf_map_lookup_elem(fd, &key, &a))
			continue;
		n++;
		a.ev.result = TCL_PENDING;
		a.ev.stage = TCL_STAGE_OUTCOME;
		a.ev.err = 0;
		a.ev.ts_ns = now;
		a.ev.latency_ns = 0;
		records_take(&s->rec, &a.ev);
	}
	return n;
}

static __u64 map_entries(struct bpf_map *map)
{
	int fd = bpf_map__fd(map);
	__u64 key, next, *prev = NULL, n = 0;

	/* a walk of a map that programs still change (--stats-interval)
	 * may meet an entry twice: never more than the map holds
	 */
	while (n < bpf_map__max_entries(map) && bpf_map_get_next_key(fd, prev, &next) == 0) {
		key = next;
		prev = &key;
		n++;
	}
	return n;
}

/* ,"key":v of the lost line */
static void lost_count(struct strbuf *sb, const char *key, __u64 v)
{
	sb_str(sb, ",\"");
	sb_str(sb, key);
	sb_str(sb, "\":");
	sb_u64(sb, v);
}

static void print_lost_json(struct session *s, const struct loss_report *loss)
{
	struct strbuf sb;

	output_line_begin(&s->rec.out, &sb);
	sb_str(&sb, "{\"event\":\"lost\"");
	json_run(&sb);
	sb_str(&sb, ",\"time\":\"");
	rfc3339_utc(&sb, (__s64)now_ns(CLOCK_REALTIME));
	sb_str(&sb, "\"");
	lost_count(&sb, "lost", loss->lost);
	lost_count(&sb, "untracked", loss->untracked);
	lost_count(&sb, "skipped", loss->skipped);
	lost_count(&sb, "untracked_connections", loss->untracked_conns);
	lost_count(&sb, "map_full", loss->map_full);
	if (s->cfg->resolve)
		lost_count(&sb, "rdns_timeouts", loss->rdns_timeouts);
	if (s->rec.dns) {
		lost_count(&sb, "dns_dropped", loss->dns_dropped);
		lost_count(&sb, "dns_malformed", loss->dns_malformed);
		lost_count(&sb, "dns_evicted", loss->dns_evicted);
	}
	sb_str(&sb, "}\n");
	output_line_end(&s->rec.out, &sb);
}

/* Records or table entries the tool knows it lost (skipped runs, which
 * only may have cost records, are warned about on their own).
 */
static bool loss_counted(const struct loss_report *l)
{
	return l->lost || l->untracked || l->untracked_conns || l->map_full ||
	       l->dns_dropped || l->dns_malformed || l->dns_evicted;
}

/* What was lost so far, given the attempts (pending) and connections
 * (open) still in the kernel's tables: the exit summary's numbers, and
 * --stats-interval's while running.
 */
static void count_loss(const struct session *s, __u64 pending, __u64 open,
		       struct loss_report *loss)
{
	struct tcl_counters c = read_counters(s);
	__u64 gone;

	memset(loss, 0, sizeof(*loss));
	loss->rdns_timeouts = s->rec.held.late;
	/* entries neither concluded nor still present were evicted (LRU) */
	gone = c.started - c.finished;
	loss->lost = c.lost;
	loss->map_full = c.map_full;
	loss->untracked = gone > pending ? gone - pending : 0;
	loss->skipped = probe_runs_skipped(s);
	if (s->rec.dns) {
		struct dnscap_losses dl;

		dnscap_losses(s->rec.dns, &dl);
		loss->dns_dropped = dl.dropped;
		loss->dns_malformed = dl.malformed;
		loss->dns_evicted = dl.evicted;
	}
	/* connections neither closed nor still followed were evicted (LRU) */
	if (s->cfg->lifecycle || s->cfg->accepts) {
		gone = c.conns_opened - c.conns_closed;
		loss->untracked_conns = gone > open ? gone - open : 0;
	}
}

static void finish(struct session *s)
{
	struct loss_report loss;
	__u64 pending = report_pending(s), open = 0;

	/* -r: the records still waiting for names, before any counter */
	records_drain(&s->rec);
	warn_about_loss(s, true);
	if (s->cfg->lifecycle || s->cfg->accepts) {
		open = map_entries(s->skel->maps.conns);
		s->rec.conns.open_at_exit = open;
	}
	count_loss(s, pending, open, &loss);
	if (loss.skipped)
		fprintf(stderr, "tcpconnlog: warning: the kernel skipped %llu runs of our probes "
			"(one was already running on that CPU, e.g. preempted): up to as many "
			"records may be missing, pending, without call_us or without their source\n",
			(unsigned long long)loss.skipped);

	if (s->cfg->count)
		counts_print(&s->rec.counts, s->cfg->json, s->rec.fmt.addr_width, stdout);
	if (s->cfg->json && (loss_counted(&loss) || loss.skipped || loss.rdns_timeouts))
		print_lost_json(s, &loss);
	flush_output(s);
	if (!s->cfg->no_summary) {
		stats_print(&s->rec.stats, s->cfg->lifecycle ? &s->rec.conns : NULL, &loss, stderr);
	} else if (loss_counted(&loss)) {
		fprintf(stderr, "tcpconnlog: %llu events lost, %llu attempts untracked",
			(unsigned long long)loss.lost, (unsigned long long)loss.untracked);
		if (loss.untracked_conns)
			fprintf(stderr, ", %llu connections untracked",
				(unsigned long long)loss.untracked_conns);
		if (loss.map_full)
			fprintf(stderr, ", %llu kernel table updates failed",
				(unsigned long long)loss.map_full);
		if (loss.dns_dropped || loss.dns_malformed || loss.dns_evicted)
			fprintf(stderr, ", DNS: %llu answers not captured, %llu malformed, "
				"%llu evicted", (unsigned long long)loss.dns_dropped,
				(unsigned long long)loss.dns_malformed,
				(unsigned long long)loss.dns_evicted);
		fputc('\n', stderr);
	}
}

/* The run time of our programs, when the kernel counts it: bpf_prog_info
 * needs no capability of its own (the bpf() syscall may need CAP_BPF, which
 * privs.c then keeps), and kernel.bpf_stats_enabled is world-readable.
 */
static void read_bpf_time(const struct session *s, struct livestats *ls)
{
	struct bpf_program *prog;
	int fds[64], n = 0;

	if (livestats_bpf_stats_enabled(LIVESTATS_SYSCTL) != 1)
		return;
	bpf_object__for_each_program(prog, s->skel->obj)
		if (n < (int)(sizeof(fds) / sizeof(fds[0])))
			fds[n++] = bpf_program__fd(prog);
	ls->bpf_known = !livestats_bpf_time(fds, n, &ls->bpf_run_time_ns, &ls->bpf_run_cnt);
}

/* --stats-interval: the counters so far, after the records they count
 * (the caller consumed the ring and flushed). The tables are walked while
 * the probes change them: inflight, and untracked computed from it, may
 * be off by the attempts that began or ended during the walk.
 */
static void print_live_stats(struct session *s)
{
	const struct tcl_config *cfg = s->cfg;
	struct livestats ls = {
		.real_ns = (__s64)now_ns(CLOCK_REALTIME),
		.interval_s = cfg->stats_interval_s,
		.by_result = s->rec.stats.by_result,
		.resolve = cfg->resolve,
		.dns = s->rec.dns != NULL,
		.inflight = map_entries(s->skel->maps.attempts),
		.inflight_max = bpf_map__max_entries(s->skel->maps.attempts),
		.conns_shown = cfg->lifecycle || cfg->accepts,
	};
	struct strbuf sb;
	char line[1024];

	if (ls.conns_shown) {
		ls.conns = map_entries(s->skel->maps.conns);
		ls.conns_max = bpf_map__max_entries(s->skel->maps.conns);
	}
	count_loss(s, ls.inflight, ls.conns, &ls.loss);
	read_bpf_time(s, &ls);
	if (cfg->json) {
		output_line_begin(&s->rec.out, &sb);
		livestats_json(&ls, &sb);
		output_line_end(&s->rec.out, &sb);
		flush_output(s);
		return;
	}
	sb_init(&sb, line, sizeof(line));
	livestats_text(&ls, &sb);
	if (!sb.overflow)
		fwrite(sb.buf, 1, sb.len, stderr);
}

/* --metrics: the loss counters, once a second (the tables are walked) */
static void metrics_loss_due(struct session *s)
{
	__u64 now = now_ns(CLOCK_MONOTONIC), open = 0;
	struct loss_report loss;

	if (!s->metrics || now < s->next_metrics_ns)
		return;
	s->next_metrics_ns = now + STATUS_EVERY_NS;
	if (s->cfg->lifecycle || s->cfg->accepts)
		open = map_entries(s->skel->maps.conns);
	count_loss(s, map_entries(s->skel->maps.attempts), open, &loss);
	metrics_set_loss(s->metrics, &loss);
}

static void live_stats_due(struct session *s)
{
	__u64 now = now_ns(CLOCK_MONOTONIC);

	if (!s->next_stats_ns || now < s->next_stats_ns)
		return;
	print_live_stats(s);
	/* on the interval's grid; one record for intervals missed (a stopped reader) */
	s->next_stats_ns += s->cfg->stats_interval_s * 1000000000ULL;
	if (s->next_stats_ns <= now)
		s->next_stats_ns = now + s->cfg->stats_interval_s * 1000000000ULL;
}

/* Wall-clock time minus the monotonic clock BPF stamps records with. The
 * two clocks cannot be read at once, and a preemption between the reads
 * (milliseconds on a busy or emulated machine) would shift every record's
 * time: several tries, the tightest one wins (wallclock_offset()).
 */
static __s64 mono_to_real_offset(void)
{
	struct clock_pair p[8];

	for (int i = 0; i < 8; i++) {
		p[i].mono_before = now_ns(CLOCK_MONOTONIC);
		p[i].real = now_ns(CLOCK_REALTIME);
		p[i].mono_after = now_ns(CLOCK_MONOTONIC);
	}
	return wallclock_offset(p, 8);
}

/* The wall clock steps (NTP, settimeofday, a resume from suspend) while
 * the monotonic one does not: take the offset again once a second, so
 * records are printed with the wall clock as it is now.
 */
static void refresh_wall_clock(struct session *s)
{
	__u64 now = now_ns(CLOCK_MONOTONIC);

	if (now < s->next_clock_ns)
		return;
	s->next_clock_ns = now + WALLCLOCK_REFRESH_NS;
	s->rec.fmt.mono_to_real_ns = mono_to_real_offset();
	if (s->rec.top)
		top_set_mono_to_real(s->rec.top, s->rec.fmt.mono_to_real_ns);
}

static void init_format(struct session *s)
{
	const struct tcl_config *cfg = s->cfg;
	__u64 mono = now_ns(CLOCK_MONOTONIC);

	s->rec.fmt = (struct format_opts){
		.timestamp = cfg->timestamp,
		.wallclock = cfg->wallclock,
		.uid = cfg->print_uid,
		/* an accept is known by its listening port: shown with -A */
		.lport = cfg->print_lport || cfg->accepts,
		.events = cfg->lifecycle || cfg->accepts,
		.lifecycle = cfg->lifecycle,
		.container = cfg->show_container,
		.rdns = cfg->resolve,
		.dns = cfg->dns,
		.addr_width = cfg->ip == 4 ? 15 : 39,
		.start_ns = mono,
		.mono_to_real_ns = mono_to_real_offset(),
	};
	s->next_clock_ns = mono + WALLCLOCK_REFRESH_NS;
}

/* -j: the start record, the first line of stdout or of each -o file. */
static void print_start(struct session *s)
{
	struct strbuf sb;
	size_t len;

	sb_init(&sb, s->start_line, sizeof(s->start_line));
	runinfo_json_start(&sb, s->backend, s->start_real_ns);
	len = sb.len;
	if (s->rec.out.file) {
		outfile_set_head(s->rec.out.file, s->start_line, len);
		return;
	}
	output_line_begin(&s->rec.out, &sb);
	sb_mem(&sb, s->start_line, len);
	output_line_end(&s->rec.out, &sb);
}

static void print_header(struct session *s)
{
	struct strbuf sb;

	/* --top on a terminal draws a screen, no JSON line */
	if (s->cfg->json) {
		if (!s->rec.top || !top_terminal_usable())
			print_start(s);
		return;
	}
	if (s->cfg->count || s->rec.top)
		return;
	output_line_begin(&s->rec.out, &sb);
	format_text_header(&s->rec.fmt, &sb);
	output_line_end(&s->rec.out, &sb);
}

/* A pipe whose reader went away (tcpconnlog -j | head -1) reports POLLERR
 * on our end: notice it without waiting for the next record to fail.
 */
static void check_reader(struct session *s)
{
	struct pollfd p = { .fd = STDOUT_FILENO };

	if (s->rec.out.file)
		return;		/* -o: stdout carries no records */
	if (poll(&p, 1, 0) == 1 && (p.revents & POLLERR))
		s->output_closed = true;
}

/* --top: the table at start, then every interval; its keys and window
 * resizes wake the reader (start_top); true when q was pressed.
 */
static bool run_top(struct session *s)
{
	return top_run(s->rec.top, stdout, now_ns(CLOCK_MONOTONIC));
}

static int start_top(struct session *s, int wake_fd)
{
	struct epoll_event e = { .events = EPOLLIN };
	struct top_opts o = {
		.terminal = top_terminal_usable(),
		.json = s->cfg->json,
		.start_ns = s->rec.fmt.start_ns,
		.mono_to_real_ns = s->rec.fmt.mono_to_real_ns,
		.delay_ms = (unsigned int)(s->cfg->top_interval_s * 1000),
	};

	s->rec.top = top_new(&o);
	if (!s->rec.top)
		return -1;
	if (top_wait_fd(s->rec.top) >= 0 &&
	    epoll_ctl(wake_fd, EPOLL_CTL_ADD, top_wait_fd(s->rec.top), &e))
		return -1;
	return 0;
}

/* The reader's longest sleep: POLL_MS, or less when --top refreshes sooner. */
static int wait_ms(const struct session *s)
{
	int ms = POLL_MS;

	if (s->rec.top)
		ms = top_wait_ms(s->rec.top, now_ns(CLOCK_MONOTONIC), ms);
	if (s->next_stats_ns)
		ms = ms_until(s->next_stats_ns, now_ns(CLOCK_MONOTONIC), ms);
	return records_wait_ms(&s->rec, ms);
}

/* The reader sleeps until the BPF side wakes it for a batch (see emit())
 * or POLL_MS pass. libbpf's own poll is level-triggered: it returns at
 * once while any record waits, and a storm then kept the reader spinning
 * on a few records at a time. An edge-triggered watch sleeps until the
 * next wake-up, whatever is waiting.
 */
static int watch_ring(int map_fd)
{
	struct epoll_event e = { .events = EPOLLIN | EPOLLET };
	int fd = epoll_create1(EPOLL_CLOEXEC);

	if (fd >= 0 && epoll_ctl(fd, EPOLL_CTL_ADD, map_fd, &e)) {
		close(fd);
		return -1;
	}
	return fd;
}

static void wait_for_batch(int wake_fd, int ms)
{
	struct epoll_event e;

	/* a signal (EINTR) ends the wait too: the loop then looks at why */
	epoll_wait(wake_fd, &e, 1, ms);
}

/* -r: resolver threads, and their answers wake the reader (which also
 * wakes when the first held record is due: records_wait_ms())
 */
static int start_resolver(struct session *s, int wake_fd)
{
	struct epoll_event e = { .events = EPOLLIN };

	if (records_resolve_start(&s->rec) ||
	    epoll_ctl(wake_fd, EPOLL_CTL_ADD, records_wait_fd(&s->rec), &e)) {
		fprintf(stderr, "tcpconnlog: cannot start the -r resolver: %s\n", strerror(errno));
		return -1;
	}
	return 0;
}

static bool should_stop(const struct session *s, __u64 deadline)
{
	return tracer_stop_requested || s->output_closed || s->write_errno ||
	       records_limit_reached(&s->rec) || (deadline && now_ns(CLOCK_MONOTONIC) >= deadline);
}

/* systemd's STATUS= (shown by systemctl status): the counters so far,
 * after prefix (READY=1, STOPPING=1); on their own when they changed, at
 * most once a second.
 */
static void send_status(struct session *s, const char *prefix, const char *doing)
{
	const __u64 *by_result = s->rec.stats.by_result;
	__u64 now, c[4] = { 0 };	/* attempts, established, failed, lost */
	char msg[256];

	if (!notify_enabled())
		return;
	now = now_ns(CLOCK_MONOTONIC);
	if (!*prefix && now < s->next_status_ns)
		return;
	s->next_status_ns = now + STATUS_EVERY_NS;
	/* pending attempts are counted only at exit, after STOPPING */
	for (int r = TCL_ESTABLISHED; r < TCL_RESULT_MAX; r++)
		c[r == TCL_ESTABLISHED ? 1 : 2] += by_result[r];
	c[0] = c[1] + c[2];
	c[3] = read_counters(s).lost;
	if (!*prefix && !memcmp(c, s->status_sent, sizeof(c)))
		return;
	memcpy(s->status_sent, c, sizeof(c));
	snprintf(msg, sizeof(msg), "%sSTATUS=%s (%s backend): %llu attempts, %llu established, "
		 "%llu failed, %llu lost", prefix, doing, s->backend, (unsigned long long)c[0],
		 (unsigned long long)c[1], (unsigned long long)c[2], (unsigned long long)c[3]);
	notify_send(msg, *prefix);
}

static int drop_privileges(const struct tcl_config *cfg)
{
	char why[256];
	bool kept_bpf;

	if (privs_drop(cfg, &kept_bpf, why, sizeof(why))) {
		fprintf(stderr, "tcpconnlog: dropping privileges to user %s: %s "
			"(--no-drop-privileges keeps them)\n", cfg->run_as, why);
		return -1;
	}
	if (cfg->verbose) {
		const char *left = kept_bpf ? "CAP_BPF alone (this kernel refuses bpf() "
					      "without it, reading maps included)" :
					      "no capabilities";

		if (getuid() == cfg->run_uid)
			fprintf(stderr, "tcpconnlog: running as %s (uid %u) with %s\n",
				cfg->run_as, getuid(), left);
		else	/* e.g. root in a container without those capabilities */
			fprintf(stderr, "tcpconnlog: running as uid %u with %s, not as %s: "
				"changing user needs CAP_SETUID, CAP_SETGID and CAP_SETPCAP\n",
				getuid(), left, cfg->run_as);
	}
	return 0;
}

/* Runs of our programs that began before the detach may still be going
 * on other CPUs. They run in RCU read-side sections, and membarrier's
 * global command waits for a grace period: after it, none is left to add
 * a record past the final drain or change the table during the scan.
 * Where it is refused (nohz_full), a pause stands in.
 */
static void wait_for_running_probes(void)
{
	if (syscall(__NR_membarrier, MEMBARRIER_CMD_GLOBAL, 0, 0))
		nanosleep(&(struct timespec){ .tv_nsec = 20000000L }, NULL);
}

int tracer_run(const struct tcl_config *cfg, struct tcpconnlog_bpf *skel,
	       const char *backend, struct metrics *metrics)
{
	struct session s = { .cfg = cfg, .skel = skel, .backend = backend, .file = { .fd = -1, .dirfd = -1 },
			     .metrics = metrics };
	char why[512];
	struct ring_buffer *rb = NULL;
	__u64 deadline = 0;
	int status = 1, err = 0, wake_fd = -1;

	if (records_init(&s.rec, cfg)) {
		fprintf(stderr, "tcpconnlog: out of memory\n");
		goto cleanup;
	}
	if (cfg->json && runinfo_init(RUNINFO_BOOT_ID_PATH)) {
		fprintf(stderr, "tcpconnlog: cannot take a random run id: %s\n", strerror(errno));
		goto cleanup;
	}
	rb = ring_buffer__new(bpf_map__fd(skel->maps.events), on_ringbuf_record, &s, NULL);
	wake_fd = watch_ring(bpf_map__fd(skel->maps.events));
	if (!rb || wake_fd < 0) {
		fprintf(stderr, "tcpconnlog: cannot set up the ring buffer: %s\n", strerror(errno));
		goto cleanup;
	}
	if (cfg->dns && !(s.rec.dns = dnscap_start(cfg->dns_table_size)))
		goto cleanup;
	s.rec.dns_name = dnscap_name;
	/* -o: the file and its directory, opened while privileges last */
	if (cfg->output_path) {
		if (outfile_open(&s.file, cfg->output_path, cfg->rotate_size, cfg->rotate_keep,
				 why, sizeof(why))) {
			fprintf(stderr, "tcpconnlog: %s\n", why);
			goto cleanup;
		}
		s.rec.out.file = &s.file;
	}
	/* systemd's socket may be root's: reached while we still may */
	notify_open();
	/* the ring buffer is mapped (Linux 5.10 refuses that afterwards) and
	 * every descriptor is held: from here on, no privileges
	 */
	if (!cfg->keep_privileges && drop_privileges(cfg))
		goto cleanup;
	if (cfg->resolve && start_resolver(&s, wake_fd))
		goto cleanup;
	init_format(&s);
	if (cfg->duration_s)
		deadline = s.rec.fmt.start_ns + cfg->duration_s * 1000000000ULL;
	if (cfg->stats_interval_s)
		s.next_stats_ns = s.rec.fmt.start_ns + cfg->stats_interval_s * 1000000000ULL;
	/* the start record's time: no later than the ready line, which a
	 * reader may see before the record is written
	 */
	s.start_real_ns = (__s64)now_ns(CLOCK_REALTIME);
	fprintf(stderr, "Tracing TCP connects (%s backend)... Ctrl-C to stop.\n", backend);
	if (cfg->top_interval_s && start_top(&s, wake_fd)) {
		fprintf(stderr, "tcpconnlog: cannot start --top: %s\n", strerror(errno));
		goto cleanup;
	}
	print_header(&s);
	flush_output(&s);
	send_status(&s, "READY=1\n", "tracing");
	if (metrics) {
		metrics_loss_due(&s);
		metrics_set_ready(metrics);
	}

	while (!should_stop(&s, deadline)) {
		wait_for_batch(wake_fd, wait_ms(&s));
		refresh_wall_clock(&s);
		/* each connect reads the answers before it (dnscap_name);
		 * this keeps their ring from filling while none comes
		 */
		if (s.rec.dns && (err = dnscap_drain(s.rec.dns)) < 0) {
			fprintf(stderr, "tcpconnlog: reading the DNS ring buffer: %s\n",
				strerror(-err));
			goto cleanup;
		}
		err = ring_buffer__consume(rb);
		if (err < 0) {
			fprintf(stderr, "tcpconnlog: reading the ring buffer: %s\n", strerror(-err));
			goto cleanup;
		}
		records_release(&s.rec);
		if (s.rec.top && run_top(&s))
			break;
		flush_output(&s);
		live_stats_due(&s);
		check_reader(&s);
		warn_about_loss(&s, false);
		send_status(&s, "", "tracing");
		metrics_loss_due(&s);
	}
	send_status(&s, "STOPPING=1\n", "stopping");
	/* the summary goes to the normal screen */
	if (s.rec.top)
		top_restore_terminal(s.rec.top);
	/* Stop the probes first, keeping maps and ring buffer: the records
	 * they made are drained, then the table of attempts is scanned while
	 * nothing changes it (a key deleted during bpf_map_get_next_key's
	 * walk restarts it, and entries were printed twice), and the
	 * counters read after that agree with what was printed.
	 */
	tcpconnlog_bpf__detach(skel);
	if (s.rec.dns)
		dnscap_detach(s.rec.dns);
	wait_for_running_probes();
	if (!s.output_closed && !records_limit_reached(&s.rec))
		ring_buffer__consume(rb);
	if (!s.output_closed)
		finish(&s);
	if (s.write_errno == ECANCELED) {
		fprintf(stderr, "tcpconnlog: stopped by a second signal before stdout took "
			"every record: %llu lines not written\n", s.rec.out.unwritten);
		goto cleanup;
	}
	if (s.write_errno) {
		fprintf(stderr, "tcpconnlog: writing output: %s (%llu lines not written)\n",
			strerror(s.write_errno), s.rec.out.unwritten);
		goto cleanup;
	}
	status = 0;
cleanup:
	if (s.rec.top)
		top_free(s.rec.top);
	ring_buffer__free(rb);
	if (wake_fd >= 0)
		close(wake_fd);
	dnscap_free(s.rec.dns);
	records_free(&s.rec);
	outfile_close(&s.file);
	notify_close();
	return status;
}
