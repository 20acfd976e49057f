// SPDX-License-Identifier: GPL-2.0-only
#include <string.h>
#include <unistd.h>
#include "records.h"

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
}

bool records_limit_reached(const struct records *r)
{
	return r->cfg->max_events && r->printed >= r->cfg->max_events;
}

/* What is known of the names of the record (recnames.h); each finder
 * fills its part here.
 */
static void record_names_of(struct records *r, const struct tcl_event *ev,
			    struct record_names *names)
{
	memset(names, 0, sizeof(*names));
	/* text without -C shows neither: no need to look */
	if (r->cfg->json || r->fmt.container)
		names->cgroup = cgroups_path(&r->cgroups, ev->cgroup_id,
					     ev->flags & TCL_F_NO_PROCESS ? 0 : ev->pid, ev->tid,
					     &names->container);
	if (r->dns && ev->kind == TCL_KIND_CONNECT)
		names->dns = r->dns_name(r->dns, ev);
}

static void print_record(struct records *r, const struct tcl_event *ev)
{
	struct record_names names;
	struct strbuf sb;

	if (records_limit_reached(r))
		return;
	record_names_of(r, ev, &names);
	output_line_begin(&r->out, &sb);
	if (r->cfg->json)
		format_json_event(&r->fmt, ev, &names, &sb);
	else
		format_text_event(&r->fmt, ev, &names, &sb);
	output_line_end(&r->out, &sb);
	r->printed++;
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
			cgroups_path(&r->cgroups, ev->cgroup_id,
				     ev->flags & TCL_F_NO_PROCESS ? 0 : ev->pid, ev->tid, &container);
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
