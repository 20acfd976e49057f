// SPDX-License-Identifier: GPL-2.0-only
#include <string.h>
#include <time.h>
#include <unistd.h>
#include "records.h"

static __u64 mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000ULL + ts.tv_nsec;
}

int records_init(struct records *r, const struct tcl_config *cfg)
{
	memset(r, 0, sizeof(*r));
	r->cfg = cfg;
	output_init(&r->out, STDOUT_FILENO);
	/* the cgroup2 root is opened now, while privileges last */
	if (stats_init(&r->stats) || connstats_init(&r->conns) || counts_init(&r->counts) ||
	    cgroups_open(&r->cgroups, NULL)) {
		records_free(r);
		return -1;
	}
	r->stats.by_container = cfg->by_container;
	r->counts.by_container = cfg->by_container;
	return 0;
}

void records_free(struct records *r)
{
	stats_free(&r->stats);
	connstats_free(&r->conns);
	counts_free(&r->counts);
	cgroups_close(&r->cgroups);
	delayq_free(&r->held);
	rdns_free(r->rdns);
	r->rdns = NULL;
}

bool records_limit_reached(const struct records *r)
{
	return r->cfg->max_events && r->printed >= r->cfg->max_events;
}

/* The record's cgroup path and container (cgroup.h) */
static const char *cgroup_of(struct records *r, const struct tcl_event *ev,
			     const char **container)
{
	return cgroups_path(&r->cgroups, ev->cgroup_id,
			    ev->flags & TCL_F_NO_PROCESS ? 0 : ev->pid, ev->tid, container);
}

/* text without -C shows neither cgroup nor container: no need to look */
static bool cgroup_shown(const struct records *r)
{
	return r->cfg->json || r->fmt.container;
}

/* What is known of the names of the record (recnames.h); each finder
 * fills its part here.
 */
static void record_names_of(struct records *r, const struct tcl_event *ev,
			    struct record_names *names)
{
	memset(names, 0, sizeof(*names));
	if (cgroup_shown(r))
		names->cgroup = cgroup_of(r, ev, &names->container);
	if (r->dns && ev->kind == TCL_KIND_CONNECT)
		names->dns = r->dns_name(r->dns, ev);
}

/* rdns: the name of the remote address (-r), NULL when none */
static void format_record(struct records *r, const struct tcl_event *ev, const char *rdns)
{
	struct record_names names;
	struct strbuf sb;

	if (records_limit_reached(r))
		return;
	record_names_of(r, ev, &names);
	names.rdns = rdns;
	output_line_begin(&r->out, &sb);
	if (r->cfg->json)
		format_json_event(&r->fmt, ev, &names, &sb);
	else
		format_text_event(&r->fmt, ev, &names, &sb);
	output_line_end(&r->out, &sb);
	r->printed++;
}

static void on_released(void *ctx, const struct tcl_event *ev, const char *rdns)
{
	format_record(ctx, ev, rdns);
}

/* With -r through the queue of records waiting for their names: one
 * path to stdout, in the order records came
 */
static void print_record(struct records *r, const struct tcl_event *ev)
{
	if (r->rdns && !records_limit_reached(r)) {
		/* the cgroup now, while the process is there: cached for
		 * when the record leaves the queue
		 */
		if (cgroup_shown(r))
			cgroup_of(r, ev, NULL);
		delayq_push(&r->held, ev, mono_ns());
	} else {
		format_record(r, ev, NULL);
	}
}

int records_resolve_start(struct records *r)
{
	struct rdns_opts o = RDNS_OPTS_DEFAULT;

	r->rdns = rdns_new(&o);
	if (!r->rdns)
		return -1;
	if (delayq_init(&r->held, r->rdns, r->cfg->resolve_timeout_ms * 1000000ULL, DELAYQ_MAX,
			on_released, r)) {
		rdns_free(r->rdns);
		r->rdns = NULL;
		return -1;
	}
	return 0;
}

void records_release(struct records *r)
{
	if (r->rdns)
		delayq_release(&r->held, mono_ns());
}

void records_drain(struct records *r)
{
	/* past --max-events nothing held will be printed: no wait */
	if (r->rdns && !records_limit_reached(r))
		delayq_drain(&r->held);
}

int records_wait_ms(const struct records *r, int max_ms)
{
	__s64 ns = r->rdns ? delayq_wait_ns(&r->held, mono_ns()) : -1;

	if (ns < 0 || ns >= max_ms * 1000000LL)
		return max_ms;
	return (int)((ns + 999999) / 1000000);
}

int records_wait_fd(const struct records *r)
{
	return r->rdns ? rdns_fd(r->rdns) : -1;
}

void records_take(struct records *r, const struct tcl_event *ev)
{
	const struct tcl_config *cfg = r->cfg;
	bool outcome = ev->stage == TCL_STAGE_OUTCOME;
	bool show;

	if (r->top)
		top_on_event(r->top, ev);
	if (ev->kind != TCL_KIND_CONNECT) {
		if (ev->kind == TCL_KIND_CLOSE)
			connstats_add(&r->conns, ev);
		if (!r->top)
			print_record(r, ev);
		return;
	}

	if (outcome) {
		const char *container = NULL;

		if (cfg->by_container)
			cgroup_of(r, ev, &container);
		stats_add(&r->stats, ev, container);
		if (cfg->count)
			counts_add(&r->counts, ev, container);
	}
	if (cfg->count || r->top)
		return;
	/* with -i a line is due when the call returns, or at the outcome if
	 * that came first (a call that failed, a blocking connect)
	 */
	if (cfg->immediate)
		show = !outcome || !(ev->flags & TCL_F_CALL_REPORTED);
	else
		show = outcome;
	if (show)
		print_record(r, ev);
}
