// SPDX-License-Identifier: GPL-2.0-only
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "addr.h"
#include "format.h"
#include "names.h"
#include "runinfo.h"
#include "sockdiag.h"
#include "table.h"
#include "top.h"
#include "toprow.h"
#include "topkeys.h"
#include "topterm.h"
#include "waitms.h"

/* A row that sock_diag listed once and then missed in this many dumps in
 * a row has closed: its close record was lost. One miss alone is not
 * enough: a dump can skip a socket that moves in the hash table meanwhile.
 */
#define MISSES_GONE	2

struct top {
	struct top_opts o;
	struct table rows;	/* conn_id -> struct top_row */
	struct sockdiag diag;
	int diag_err;		/* of the last dump, 0 if it worked */
	bool warned;		/* about a failed dump or allocation */
	bool term_open;		/* term is ours to give back */
	struct topterm term;
	struct top_ui ui;
	__u64 next_ns;		/* the next refresh is due */
	/* the rows as they were at snap_ns: what the screen shows (and
	 * keeps while paused), sorted again when the sort key changes
	 */
	struct view *snap;
	size_t snap_n, snap_width;
	__u64 snap_ns;
	int snap_diag_err;
};

/* ---- the set of open connections ---- */

/* The row in slot i of the table, or NULL; i < t->rows.cap. */
static struct top_row *row_at(const struct top *t, size_t i)
{
	return table_val_at(&t->rows, i);
}

static void warn_once(struct top *t, const char *what)
{
	if (t->warned || t->o.terminal)
		return;
	fprintf(stderr, "tcpconnlog: --top: %s\n", what);
	t->warned = true;
}

static void add_row(struct top *t, const struct tcl_event *ev)
{
	struct top_row *r = table_upsert(&t->rows, &ev->conn_id);

	if (!r) {
		warn_once(t, "out of memory: connections are missing from the table");
		return;
	}
	*r = (struct top_row){
		.conn_id = ev->conn_id,
		.opened_ns = ev->ts_ns,
		.saddr = ev->saddr,
		.daddr = ev->daddr,
		.pid = ev->pid,
		.sport = ev->sport,
		.dport = ev->dport,
		.ip = ev->ip,
		.flags = ev->flags,
	};
	memcpy(r->comm, ev->comm, TCL_COMM_LEN);
}

static bool opens_row(const struct tcl_event *ev)
{
	if (ev->kind == TCL_KIND_ACCEPT)
		return true;
	return ev->kind == TCL_KIND_CONNECT && ev->result == TCL_ESTABLISHED &&
	       ev->stage == TCL_STAGE_OUTCOME;
}

void top_on_event(struct top *t, const struct tcl_event *ev)
{
	if (!ev->conn_id)
		return;
	if (opens_row(ev))
		add_row(t, ev);
	else if (ev->kind == TCL_KIND_CLOSE)
		table_remove(&t->rows, &ev->conn_id);
}

size_t top_count(const struct top *t)
{
	return t->rows.len;
}

/* ---- live counters ---- */

static void take_live(struct top_row *r, struct sockdiag *live)
{
	const struct diag_info *info;
	struct diag_key k;

	diag_key_make(&k, r->ip, &r->saddr, r->sport, &r->daddr, r->dport);
	info = sockdiag_find(live, &k);
	r->live = info != NULL;
	if (info) {
		r->info = *info;
		r->seen = true;
		r->misses = 0;
	} else if (r->seen && r->misses < MISSES_GONE) {
		r->misses++;
	}
}

void top_update(struct top *t, struct sockdiag *live)
{
	for (size_t i = 0; i < t->rows.cap; i++) {
		struct top_row *r = row_at(t, i);

		if (r && live)
			take_live(r, live);
		else if (r)
			r->live = false;
	}
	/* a removal can pull a later row into slot i: look at i again */
	for (size_t i = 0; i < t->rows.cap;) {
		const struct top_row *r = row_at(t, i);

		if (r && r->misses >= MISSES_GONE)
			table_remove_at(&t->rows, i);
		else
			i++;
	}
}

/* ---- sorting and snapshots ---- */

/* A counter of a sort key; 0 when sock_diag did not list the row. */
static __u64 counter(const struct top_row *r, enum top_sort key)
{
	__u64 sent, received;

	if (!r->live)
		return 0;
	if (key == TOP_SORT_RTT)
		return r->info.rtt_us;
	toprow_data_bytes(r, &sent, &received);
	return key == TOP_SORT_TX ? sent : key == TOP_SORT_RX ? received : sent + received;
}

#define CMP(a, b) ((a) < (b) ? -1 : (a) > (b))

static int cmp_endpoint(const struct top_row *x, const struct top_row *y, bool local)
{
	int c = CMP(x->ip, y->ip);

	if (!c)
		/* network order: the bytes compare as the numbers do */
		c = memcmp(local ? x->saddr.v6 : x->daddr.v6, local ? y->saddr.v6 : y->daddr.v6,
			   sizeof(x->saddr.v6));
	if (!c)
		c = local ? CMP(x->sport, y->sport) : CMP(x->dport, y->dport);
	return c;
}

/* x against y by the key alone, smallest first */
static int cmp_key(const struct view *a, const struct view *b, enum top_sort key)
{
	const struct top_row *x = &a->r, *y = &b->r;
	char cx[COMM_PRINTABLE_SIZE], cy[COMM_PRINTABLE_SIZE];

	switch (key) {
	case TOP_SORT_COMM:
		return strcmp(comm_printable(x->comm, cx, sizeof(cx)),
			      comm_printable(y->comm, cy, sizeof(cy)));
	case TOP_SORT_PID:
		return CMP(x->pid, y->pid);
	case TOP_SORT_LOCAL:
	case TOP_SORT_REMOTE:
		return cmp_endpoint(x, y, key == TOP_SORT_LOCAL);
	case TOP_SORT_AGE:
		return CMP(y->opened_ns, x->opened_ns);
	default:
		return CMP(counter(x, key), counter(y, key));
	}
}

/* the key, in its direction; ties the oldest first */
static int by_ui(const void *a, const void *b, void *arg)
{
	const struct top_ui *ui = arg;
	const struct top_row *x = &((const struct view *)a)->r;
	const struct top_row *y = &((const struct view *)b)->r;
	int c = cmp_key(a, b, ui->sort);

	if (c)
		return topkeys_descending(ui) ? -c : c;
	c = CMP(x->opened_ns, y->opened_ns);
	if (!c)
		c = CMP(x->conn_id, y->conn_id);
	return ui->reverse ? -c : c;
}

/* The rows now, with their endpoints as text, in place of the last
 * snapshot; snap_width gets the widest endpoint. Out of memory: the
 * last snapshot stays (false).
 */
static bool take_snapshot(struct top *t, __u64 now_ns)
{
	struct view *v = calloc(t->rows.len + 1, sizeof(*v));
	size_t n = 0, width = W_ADDR;

	if (!v) {
		warn_once(t, "out of memory: no table");
		return false;
	}
	for (size_t i = 0; i < t->rows.cap; i++) {
		const struct top_row *r = row_at(t, i);

		if (!r)
			continue;
		v[n].r = *r;
		toprow_endpoint(v[n].local, r->ip, &r->saddr, r->sport);
		toprow_endpoint(v[n].remote, r->ip, &r->daddr, r->dport);
		if (strlen(v[n].local) > width)
			width = strlen(v[n].local);
		if (strlen(v[n].remote) > width)
			width = strlen(v[n].remote);
		n++;
	}
	free(t->snap);
	t->snap = v;
	t->snap_n = n;
	t->snap_width = width;
	t->snap_ns = now_ns;
	t->snap_diag_err = t->diag_err;
	return true;
}

static void sort_snapshot(struct top *t)
{
	qsort_r(t->snap, t->snap_n, sizeof(*t->snap), by_ui, &t->ui);
}

/* ---- snapshots: one per refresh, for files and pipes ---- */

static void print_text(struct top *t, FILE *out, __u64 now_ns,
		       const struct view *v, size_t n, size_t width)
{
	char line[512];
	struct strbuf sb;

	sb_init(&sb, line, sizeof(line));
	sb_str(&sb, "--- ");
	rfc3339_utc(&sb, (__s64)now_ns + t->o.mono_to_real_ns);
	sb_char(&sb, ' ');
	toprow_count_phrase(&sb, n);
	sb_char(&sb, '\n');
	toprow_header(&sb, width, TOP_SORT_N);
	sb_char(&sb, '\n');
	fwrite(line, 1, sb.len, out);
	for (size_t i = 0; i < n; i++) {
		sb_init(&sb, line, sizeof(line));
		toprow_text(&sb, &v[i], width, now_ns);
		sb_char(&sb, '\n');
		fwrite(line, 1, sb.len, out);
	}
}

static void print_json(struct top *t, FILE *out, __u64 now_ns,
		       const struct view *v, size_t n)
{
	char line[512];
	struct strbuf sb;

	sb_init(&sb, line, sizeof(line));
	sb_str(&sb, "{\"event\":\"top\"");
	json_run(&sb);
	sb_str(&sb, ",\"time\":\"");
	rfc3339_utc(&sb, (__s64)now_ns + t->o.mono_to_real_ns);
	sb_str(&sb, "\",\"connections\":[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			sb_char(&sb, ',');
		toprow_json(&sb, &v[i].r, now_ns);
		/* a row never fills the buffer alone: write out before it might */
		fwrite(line, 1, sb.len, out);
		sb_init(&sb, line, sizeof(line));
	}
	sb_str(&sb, "]}\n");
	fwrite(line, 1, sb.len, out);
}

void top_print_snapshot(struct top *t, FILE *out, __u64 now_ns)
{
	if (!take_snapshot(t, now_ns))
		return;
	sort_snapshot(t);
	if (t->o.json)
		print_json(t, out, now_ns, t->snap, t->snap_n);
	else
		print_text(t, out, now_ns, t->snap, t->snap_n, t->snap_width);
}

/* ---- the terminal: one screen, redrawn in place ---- */

/* One screen line: at most cols - 1 columns, so that the cursor never
 * waits at the right margin (where erasing would eat the last column),
 * and without splitting a UTF-8 character. No newline after the last
 * line: on the bottom line it would scroll the title away.
 */
static void screen_line(FILE *out, struct strbuf *sb, int cols, bool first)
{
	size_t len = sb->len;

	if (cols > 0 && len > (size_t)cols - 1) {
		len = cols - 1;
		while (len && ((unsigned char)sb->buf[len] & 0xc0) == 0x80)
			len--;
	}
	if (!first)
		fputc('\n', out);
	fwrite(sb->buf, 1, len, out);
	fputs("\033[K", out);
}

static void title_line(struct top *t, struct strbuf *sb)
{
	time_t secs = (time_t)(((__s64)t->snap_ns + t->o.mono_to_real_ns) / 1000000000LL);
	struct tm tm;
	char hms[16];

	/* as in format_text.c: cannot fail, but never prints undefined bytes */
	if (!localtime_r(&secs, &tm) || !strftime(hms, sizeof(hms), "%H:%M:%S", &tm))
		hms[0] = '\0';
	sb_str(sb, "tcpconnlog --top: ");
	toprow_count_phrase(sb, t->snap_n);
	sb_str(sb, ", ");
	sb_str(sb, hms);
	sb_str(sb, " - h for help, q to quit");
	if (t->snap_diag_err) {
		sb_str(sb, " (no TX/RX/RTT: sock_diag: ");
		sb_str(sb, strerror(-t->snap_diag_err));
		sb_char(sb, ')');
	}
}

static void draw_help(FILE *out, int rows, int cols)
{
	char line[512];
	struct strbuf sb;

	for (int i = 0; i < rows && topkeys_help[i]; i++) {
		sb_init(&sb, line, sizeof(line));
		sb_str(&sb, topkeys_help[i]);
		screen_line(out, &sb, cols, i == 0);
	}
}

static void draw_table(struct top *t, FILE *out, int rows, int cols)
{
	size_t n = t->snap_n, width = t->snap_width, fit, shown;
	char line[512];
	struct strbuf sb;

	/* the title, the status line and the header take three lines; a
	 * cut table ends with a line that says how much is left out
	 */
	fit = rows > 3 ? rows - 3 : 0;
	shown = n <= fit ? n : fit ? fit - 1 : 0;
	sb_init(&sb, line, sizeof(line));
	title_line(t, &sb);
	screen_line(out, &sb, cols, true);
	if (rows > 1) {
		sb_init(&sb, line, sizeof(line));
		topkeys_status(&t->ui, &sb);
		screen_line(out, &sb, cols, false);
	}
	if (rows > 2) {
		sb_init(&sb, line, sizeof(line));
		toprow_header(&sb, width, t->ui.sort);
		screen_line(out, &sb, cols, false);
	}
	for (size_t i = 0; i < shown; i++) {
		sb_init(&sb, line, sizeof(line));
		toprow_text(&sb, &t->snap[i], width, t->snap_ns);
		screen_line(out, &sb, cols, false);
	}
	if (shown < n && fit) {
		sb_init(&sb, line, sizeof(line));
		sb_str(&sb, "... and ");
		sb_u64(&sb, n - shown);
		sb_str(&sb, " more");
		screen_line(out, &sb, cols, false);
	}
}

void top_snapshot(struct top *t, __u64 now_ns)
{
	take_snapshot(t, now_ns);
}

void top_draw(struct top *t, FILE *out, int rows, int cols)
{
	if (!t->snap)
		return;
	fputs("\033[H", out);
	if (t->ui.mode == TOP_HELP) {
		draw_help(out, rows, cols);
	} else {
		sort_snapshot(t);
		draw_table(t, out, rows, cols);
	}
	fputs("\033[J", out);
}

/* ---- refreshes, keys and resizes ---- */

static void redraw(struct top *t, FILE *out)
{
	int rows, cols;

	topterm_size(&rows, &cols);
	top_draw(t, out, rows, cols);
	/* drawing on the terminal is best effort: a frame that cannot be
	 * written is not seen, and there is nowhere else to say so
	 */
	(void)fflush(out);
}

/* Ask sock_diag, and show the rows: a snapshot on a file, a frame on
 * the terminal.
 */
static void refresh(struct top *t, FILE *out, __u64 now_ns)
{
	t->diag_err = sockdiag_dump(&t->diag);
	if (t->diag_err)
		warn_once(t, "sock_diag dump failed: TX, RX and RTT unknown");
	top_update(t, t->diag_err ? NULL : &t->diag);
	t->next_ns = now_ns + t->ui.delay_ms * 1000000ULL;
	if (!t->o.terminal) {
		top_print_snapshot(t, out, now_ns);
		return;
	}
	take_snapshot(t, now_ns);
	redraw(t, out);
}

int top_feed_keys(struct top *t, const char *keys, size_t n)
{
	return topkeys_feed(&t->ui, keys, n);
}

bool top_run(struct top *t, FILE *out, __u64 now_ns)
{
	int act = 0;

	if (t->term_open) {
		char keys[64];
		size_t n;

		while ((n = topterm_keys(&t->term, keys, sizeof(keys))))
			act |= top_feed_keys(t, keys, n);
		if (topterm_resized(&t->term))
			act |= TOP_DO_REDRAW;
	}
	if (act & TOP_DO_QUIT)
		return true;
	/* paused: the snapshot stays, and so do the rows' live counters
	 * (top_update's misses count dumps, so none are made)
	 */
	if (!t->ui.paused && (now_ns >= t->next_ns || (act & TOP_DO_REFRESH)))
		refresh(t, out, now_ns);
	else if (act & TOP_DO_REDRAW)
		redraw(t, out);
	return false;
}

int top_wait_ms(const struct top *t, __u64 now_ns, int max_ms)
{
	return t->ui.paused ? max_ms : ms_until(t->next_ns, now_ns, max_ms);
}

int top_wait_fd(const struct top *t)
{
	return t->term_open ? t->term.wait_fd : -1;
}

bool top_terminal_usable(void)
{
	return topterm_usable();
}

/* ---- setting up and tearing down ---- */

struct top *top_new(const struct top_opts *o)
{
	struct top *t = calloc(1, sizeof(*t));

	if (!t)
		return NULL;
	if (table_init(&t->rows, sizeof(__u64), sizeof(struct top_row), SIZE_MAX)) {
		free(t);
		return NULL;
	}
	t->o = *o;
	topkeys_init(&t->ui, o->delay_ms ? o->delay_ms : 1000);
	sockdiag_init(&t->diag);
	if (o->terminal) {
		if (topterm_open(&t->term)) {
			top_free(t);
			return NULL;
		}
		t->term_open = true;
	}
	return t;
}

void top_restore_terminal(struct top *t)
{
	if (t->term_open)
		topterm_close(&t->term);
	t->term_open = false;
}

void top_free(struct top *t)
{
	if (!t)
		return;
	top_restore_terminal(t);
	free(t->snap);
	sockdiag_free(&t->diag);
	table_free(&t->rows);
	free(t);
}

void top_set_mono_to_real(struct top *t, __s64 mono_to_real_ns)
{
	t->o.mono_to_real_ns = mono_to_real_ns;
}
