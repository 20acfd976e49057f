// SPDX-License-Identifier: GPL-2.0-only
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <sys/ioctl.h>
#include "addr.h"
#include "format.h"
#include "names.h"
#include "sockdiag.h"
#include "table.h"
#include "top.h"

/* A row that sock_diag listed once and then missed in this many dumps in
 * a row has closed: its close record was lost. One miss alone is not
 * enough: a dump can skip a socket that moves in the hash table meanwhile.
 */
#define MISSES_GONE	2

enum { W_COMM = 16, W_PID = 7, W_ADDR = 21, W_AGE = 8, W_BYTES = 12 };

struct top_row {
	__u64 conn_id;		/* also the table's key */
	__u64 opened_ns;	/* the record's ts_ns */
	union tcl_addr saddr;
	union tcl_addr daddr;
	__u32 pid;
	__u16 sport;
	__u16 dport;
	__u8 ip;
	__u8 flags;
	bool live;		/* the last dump listed it: info is valid */
	bool seen;		/* some dump listed it */
	__u8 misses;		/* dumps in a row that did not, since */
	struct diag_info info;
	char comm[TCL_COMM_LEN];
};

struct top {
	struct top_opts o;
	struct table rows;	/* conn_id -> struct top_row */
	struct sockdiag diag;
	int diag_err;		/* of the last dump, 0 if it worked */
	bool warned;		/* about a failed dump or allocation */
	bool raw;		/* stdin's terminal settings are ours */
	bool screen;		/* the alternate screen is in use */
	struct termios saved;
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

/* ---- the rows as text ---- */

struct view {
	const struct top_row *r;
	char local[TCL_ADDR_STRLEN + 8];	/* [addr]:port */
	char remote[TCL_ADDR_STRLEN + 8];
};

static void data_bytes(const struct top_row *r, __u64 *sent, __u64 *received)
{
	diag_data_bytes(&r->info, !(r->flags & TCL_F_INBOUND), sent, received);
}

static __u64 bytes_of(const struct top_row *r)
{
	__u64 sent, received;

	if (!r->live)
		return 0;
	data_bytes(r, &sent, &received);
	return sent + received;
}

/* most bytes first, then the oldest */
static int by_bytes_then_age(const void *a, const void *b)
{
	const struct top_row *x = ((const struct view *)a)->r;
	const struct top_row *y = ((const struct view *)b)->r;

	if (bytes_of(x) != bytes_of(y))
		return bytes_of(x) < bytes_of(y) ? 1 : -1;
	if (x->opened_ns != y->opened_ns)
		return x->opened_ns < y->opened_ns ? -1 : 1;
	return x->conn_id < y->conn_id ? -1 : x->conn_id > y->conn_id;
}

static void endpoint(char *out, __u8 ip, const union tcl_addr *a, __u16 port)
{
	char addr[TCL_ADDR_STRLEN];
	struct strbuf sb;

	sb_init(&sb, out, TCL_ADDR_STRLEN + 7);
	addr_to_str(ip, a, addr);
	if (ip == 6)
		sb_char(&sb, '[');
	sb_str(&sb, addr);
	if (ip == 6)
		sb_char(&sb, ']');
	sb_char(&sb, ':');
	sb_u64(&sb, port);
	out[sb.len] = '\0';
}

/* The rows in display order, with their endpoints as text; *width gets
 * the widest endpoint. NULL when out of memory (or no rows: then *n is 0).
 */
static struct view *sorted_views(struct top *t, size_t *n, size_t *width)
{
	struct view *v = calloc(t->rows.len + 1, sizeof(*v));

	*n = 0;
	*width = W_ADDR;
	if (!v) {
		warn_once(t, "out of memory: no table");
		return NULL;
	}
	for (size_t i = 0; i < t->rows.cap; i++) {
		const struct top_row *r = row_at(t, i);

		if (!r)
			continue;
		v[*n].r = r;
		endpoint(v[*n].local, r->ip, &r->saddr, r->sport);
		endpoint(v[*n].remote, r->ip, &r->daddr, r->dport);
		if (strlen(v[*n].local) > *width)
			*width = strlen(v[*n].local);
		if (strlen(v[*n].remote) > *width)
			*width = strlen(v[*n].remote);
		(*n)++;
	}
	qsort(v, *n, sizeof(*v), by_bytes_then_age);
	return v;
}

static void header_line(struct strbuf *sb, size_t addr_width)
{
	sb_column(sb, "COMM", W_COMM);
	sb_column(sb, "PID", W_PID);
	sb_column(sb, "LOCAL", addr_width);
	sb_column(sb, "REMOTE", addr_width);
	sb_column(sb, "AGE(s)", W_AGE);
	sb_column(sb, "TX", W_BYTES);
	sb_column(sb, "RX", W_BYTES);
	sb_str(sb, "RTT(ms)");
}

static __u64 age_ns(const struct top_row *r, __u64 now_ns)
{
	return now_ns > r->opened_ns ? now_ns - r->opened_ns : 0;
}

static void row_line(struct strbuf *sb, const struct view *v, size_t addr_width,
		     __u64 now_ns)
{
	const struct top_row *r = v->r;
	bool known = !(r->flags & TCL_F_NO_PROCESS);
	char comm[COMM_PRINTABLE_SIZE];
	__u64 age = age_ns(r, now_ns), sent, received;
	size_t start;

	text_column(sb, known ? comm_printable(r->comm, comm, sizeof(comm)) : "-", W_COMM);
	if (known)
		sb_column_u64(sb, r->pid, W_PID);
	else
		sb_column(sb, "-", W_PID);
	sb_column(sb, v->local, addr_width);
	sb_column(sb, v->remote, addr_width);
	/* seconds to a tenth, truncated */
	start = sb->len;
	sb_u64(sb, age / 1000000000ULL);
	sb_char(sb, '.');
	sb_char(sb, (char)('0' + age / 100000000ULL % 10));
	sb_pad(sb, start, W_AGE);
	sb_char(sb, ' ');
	if (!r->live) {
		sb_column(sb, "-", W_BYTES);
		sb_column(sb, "-", W_BYTES);
		sb_char(sb, '-');
		return;
	}
	data_bytes(r, &sent, &received);
	sb_column_u64(sb, sent, W_BYTES);
	sb_column_u64(sb, received, W_BYTES);
	sb_milli(sb, r->info.rtt_us);
}

static void count_phrase(struct strbuf *sb, size_t n)
{
	sb_u64(sb, n);
	sb_str(sb, n == 1 ? " open connection" : " open connections");
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
	count_phrase(&sb, n);
	sb_char(&sb, '\n');
	header_line(&sb, width);
	sb_char(&sb, '\n');
	fwrite(line, 1, sb.len, out);
	for (size_t i = 0; i < n; i++) {
		sb_init(&sb, line, sizeof(line));
		row_line(&sb, &v[i], width, now_ns);
		sb_char(&sb, '\n');
		fwrite(line, 1, sb.len, out);
	}
}

static void json_row(struct strbuf *sb, const struct top_row *r, __u64 now_ns)
{
	bool known = !(r->flags & TCL_F_NO_PROCESS);
	__u64 sent, received;

	sb_str(sb, "{\"id\":");
	sb_u64(sb, r->conn_id);
	sb_str(sb, ",\"pid\":");
	if (known)
		sb_u64(sb, r->pid);
	else
		sb_str(sb, "null");
	sb_str(sb, ",\"comm\":");
	if (known)
		json_string(sb, r->comm, TCL_COMM_LEN);
	else
		sb_str(sb, "null");
	json_tuple(sb, r->ip, &r->saddr, r->sport, &r->daddr, r->dport);
	sb_str(sb, ",\"age_s\":");
	sb_milli(sb, age_ns(r, now_ns) / 1000000);
	if (!r->live) {
		sb_str(sb, ",\"bytes_sent\":null,\"bytes_received\":null,\"srtt_us\":null}");
		return;
	}
	data_bytes(r, &sent, &received);
	sb_str(sb, ",\"bytes_sent\":");
	sb_u64(sb, sent);
	sb_str(sb, ",\"bytes_received\":");
	sb_u64(sb, received);
	sb_str(sb, ",\"srtt_us\":");
	sb_u64(sb, r->info.rtt_us);
	sb_char(sb, '}');
}

static void print_json(struct top *t, FILE *out, __u64 now_ns,
		       const struct view *v, size_t n)
{
	char line[512];
	struct strbuf sb;

	sb_init(&sb, line, sizeof(line));
	sb_str(&sb, "{\"event\":\"top\",\"time\":\"");
	rfc3339_utc(&sb, (__s64)now_ns + t->o.mono_to_real_ns);
	sb_str(&sb, "\",\"connections\":[");
	for (size_t i = 0; i < n; i++) {
		if (i)
			sb_char(&sb, ',');
		json_row(&sb, v[i].r, now_ns);
		/* a row never fills the buffer alone: write out before it might */
		fwrite(line, 1, sb.len, out);
		sb_init(&sb, line, sizeof(line));
	}
	sb_str(&sb, "]}\n");
	fwrite(line, 1, sb.len, out);
}

void top_print_snapshot(struct top *t, FILE *out, __u64 now_ns)
{
	size_t n, width;
	struct view *v = sorted_views(t, &n, &width);

	if (!v)
		return;
	if (t->o.json)
		print_json(t, out, now_ns, v, n);
	else
		print_text(t, out, now_ns, v, n, width);
	free(v);
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

static void title_line(struct top *t, struct strbuf *sb, size_t n, __u64 now_ns)
{
	time_t secs = (time_t)(((__s64)now_ns + t->o.mono_to_real_ns) / 1000000000LL);
	struct tm tm;
	char hms[16];

	/* as in format_text.c: cannot fail, but never prints undefined bytes */
	if (!localtime_r(&secs, &tm) || !strftime(hms, sizeof(hms), "%H:%M:%S", &tm))
		hms[0] = '\0';
	sb_str(sb, "tcpconnlog --top: ");
	count_phrase(sb, n);
	sb_str(sb, ", ");
	sb_str(sb, hms);
	sb_str(sb, " - q to quit");
	if (t->diag_err) {
		sb_str(sb, " (no TX/RX/RTT: sock_diag: ");
		sb_str(sb, strerror(-t->diag_err));
		sb_char(sb, ')');
	}
}

void top_draw(struct top *t, FILE *out, __u64 now_ns, int rows, int cols)
{
	size_t n, width, fit, shown;
	struct view *v = sorted_views(t, &n, &width);
	char line[512];
	struct strbuf sb;

	if (!v)
		return;
	/* the title and the header take two lines; a cut table ends with
	 * a line that says how much is left out
	 */
	fit = rows > 2 ? rows - 2 : 0;
	shown = n <= fit ? n : fit ? fit - 1 : 0;
	fputs("\033[H", out);
	sb_init(&sb, line, sizeof(line));
	title_line(t, &sb, n, now_ns);
	screen_line(out, &sb, cols, true);
	if (rows > 1) {
		sb_init(&sb, line, sizeof(line));
		header_line(&sb, width);
		screen_line(out, &sb, cols, false);
	}
	for (size_t i = 0; i < shown; i++) {
		sb_init(&sb, line, sizeof(line));
		row_line(&sb, &v[i], width, now_ns);
		screen_line(out, &sb, cols, false);
	}
	if (shown < n && fit) {
		sb_init(&sb, line, sizeof(line));
		sb_str(&sb, "... and ");
		sb_u64(&sb, n - shown);
		sb_str(&sb, " more");
		screen_line(out, &sb, cols, false);
	}
	fputs("\033[J", out);
	free(v);
}

static void window_size(int *rows, int *cols)
{
	struct winsize ws;

	if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row && ws.ws_col) {
		*rows = ws.ws_row;
		*cols = ws.ws_col;
	} else {
		*rows = 24;
		*cols = 80;
	}
}

void top_show(struct top *t, FILE *out, __u64 now_ns)
{
	int rows, cols;

	t->diag_err = sockdiag_dump(&t->diag);
	if (t->diag_err)
		warn_once(t, "sock_diag dump failed: TX, RX and RTT unknown");
	top_update(t, t->diag_err ? NULL : &t->diag);
	if (!t->o.terminal) {
		top_print_snapshot(t, out, now_ns);
		return;
	}
	window_size(&rows, &cols);
	top_draw(t, out, now_ns, rows, cols);
	/* drawing on the terminal is best effort: a frame that cannot be
	 * written is not seen, and there is nowhere else to say so
	 */
	(void)fflush(out);
}

/* ---- keys and terminal settings ---- */

/* Keys one at a time without echo; Ctrl-C still signals. */
static void take_terminal(struct top *t)
{
	struct termios raw;

	if (!isatty(STDIN_FILENO) || tcgetattr(STDIN_FILENO, &t->saved))
		return;
	raw = t->saved;
	raw.c_lflag &= ~(ICANON | ECHO);
	raw.c_cc[VMIN] = 0;	/* read() returns at once, with or without keys */
	raw.c_cc[VTIME] = 0;
	t->raw = tcsetattr(STDIN_FILENO, TCSANOW, &raw) == 0;
}

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
	sockdiag_init(&t->diag);
	if (o->terminal) {
		take_terminal(t);
		/* the alternate screen: the shell's screen comes back on exit */
		fputs("\033[?1049h\033[?25l", stdout);
		(void)fflush(stdout);	/* best effort, as the frames are */
		t->screen = true;
	}
	return t;
}

bool top_quit_requested(struct top *t)
{
	struct pollfd p = { .fd = STDIN_FILENO, .events = POLLIN };
	bool quit = false;
	char keys[64];

	if (!t->raw)
		return false;
	while (poll(&p, 1, 0) == 1 && (p.revents & POLLIN)) {
		ssize_t n = read(STDIN_FILENO, keys, sizeof(keys));

		if (n <= 0)
			break;
		if (memchr(keys, 'q', n) || memchr(keys, 'Q', n))
			quit = true;
	}
	return quit;
}

void top_restore_terminal(struct top *t)
{
	if (t->raw) {
		tcsetattr(STDIN_FILENO, TCSANOW, &t->saved);
		t->raw = false;
	}
	if (t->screen) {
		/* best effort, as the frames are */
		(void)fflush(stdout);
		fputs("\033[?25h\033[?1049l", stdout);
		(void)fflush(stdout);
		t->screen = false;
	}
}

void top_free(struct top *t)
{
	if (!t)
		return;
	top_restore_terminal(t);
	sockdiag_free(&t->diag);
	table_free(&t->rows);
	free(t);
}

void top_set_mono_to_real(struct top *t, __s64 mono_to_real_ns)
{
	t->o.mono_to_real_ns = mono_to_real_ns;
}
