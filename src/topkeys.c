// SPDX-License-Identifier: GPL-2.0-only
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include "topkeys.h"

#define KEY_ESC		0x1b
#define KEY_BS		0x08
#define KEY_DEL		0x7f
#define KEY_CTRL_U	0x15

static const char *const sort_names[TOP_SORT_N] = {
	[TOP_SORT_COMM] = "COMM",	[TOP_SORT_PID] = "PID",
	[TOP_SORT_LOCAL] = "LOCAL",	[TOP_SORT_REMOTE] = "REMOTE",
	[TOP_SORT_AGE] = "AGE",		[TOP_SORT_TX] = "TX",
	[TOP_SORT_BYTES] = "TX+RX",	[TOP_SORT_RX] = "RX",
	[TOP_SORT_RTT] = "RTT",
};

const char *const topkeys_help[] = {
	"tcpconnlog --top: keys",
	"",
	"  h ?     this help; any key returns",
	"  q       quit (Ctrl-C too)",
	"  p       pause: the screen keeps this table (records are still read); p resumes",
	"  d       delay between refreshes, in seconds (0.1 to 3600): type it, Enter",
	"          accepts, Esc cancels",
	"  s       sort by the column you name: COMM PID LOCAL REMOTE AGE TX TX+RX RX RTT",
	"          (the start of a name is enough: a, rx, rt)",
	"  < >     sort by the column left or right of the marked one (*)",
	"  r R     reverse the order (text columns sort A to Z, numbers largest first)",
	"",
	"Press any key to return.",
	NULL,
};

void topkeys_init(struct top_ui *ui, unsigned int delay_ms)
{
	memset(ui, 0, sizeof(*ui));
	ui->sort = TOP_SORT_BYTES;
	ui->delay_ms = delay_ms;
}

const char *topkeys_sort_name(enum top_sort s)
{
	return s < TOP_SORT_N ? sort_names[s] : "?";
}

bool topkeys_descending(const struct top_ui *ui)
{
	bool text = ui->sort == TOP_SORT_COMM || ui->sort == TOP_SORT_LOCAL ||
		    ui->sort == TOP_SORT_REMOTE;

	return text == ui->reverse;
}

int topkeys_parse_delay(const char *s, unsigned int *ms)
{
	unsigned long long whole = 0, frac = 0, scale = 1000;
	bool digits = false;

	for (; *s >= '0' && *s <= '9'; s++, digits = true) {
		whole = whole * 10 + (unsigned int)(*s - '0');
		if (whole > TOP_DELAY_MAX_MS / 1000)
			return -1;
	}
	if (*s == '.') {
		/* thousandths; finer digits are dropped */
		for (s++; *s >= '0' && *s <= '9'; s++, digits = true) {
			scale /= 10;
			frac += (unsigned int)(*s - '0') * scale;
		}
	}
	if (*s || !digits)
		return -1;
	whole = whole * 1000 + frac;
	if (whole < TOP_DELAY_MIN_MS || whole > TOP_DELAY_MAX_MS)
		return -1;
	*ms = (unsigned int)whole;
	return 0;
}

int topkeys_parse_sort(const char *s, enum top_sort *out)
{
	size_t len = strlen(s);
	int found = -1;

	if (!len)
		return -1;
	for (int i = 0; i < TOP_SORT_N; i++) {
		if (!strcasecmp(s, sort_names[i])) {
			*out = (enum top_sort)i;
			return 0;
		}
		if (!strncasecmp(s, sort_names[i], len)) {
			if (found >= 0)
				return -1;
			found = i;
		}
	}
	if (found < 0)
		return -1;
	*out = (enum top_sort)found;
	return 0;
}

static void u_seconds(struct strbuf *sb, unsigned int ms);

/* ---- the prompts ---- */

static int prompt(struct top_ui *ui, enum top_mode mode)
{
	ui->mode = mode;
	ui->edit_len = 0;
	ui->edit[0] = '\0';
	return TOP_DO_REDRAW;
}

static int accept_delay(struct top_ui *ui)
{
	unsigned int ms;

	if (topkeys_parse_delay(ui->edit, &ms)) {
		struct strbuf sb;

		sb_init(&sb, ui->msg, sizeof(ui->msg) - 1);
		sb_str(&sb, "invalid delay '");
		sb_str(&sb, ui->edit);
		sb_str(&sb, "': seconds from 0.1 to 3600, such as 2 or 0.5; still every ");
		u_seconds(&sb, ui->delay_ms);
		ui->msg[sb.len] = '\0';
		return TOP_DO_REDRAW;
	}
	ui->delay_ms = ms;
	return TOP_DO_REDRAW | TOP_DO_REFRESH;
}

static int accept_sort(struct top_ui *ui)
{
	enum top_sort s;

	if (topkeys_parse_sort(ui->edit, &s)) {
		snprintf(ui->msg, sizeof(ui->msg), "no single column '%s': COMM PID LOCAL "
			 "REMOTE AGE TX TX+RX RX RTT", ui->edit);
		return TOP_DO_REDRAW;
	}
	ui->sort = s;
	return TOP_DO_REDRAW;
}

static int edit_key(struct top_ui *ui, int c)
{
	enum top_mode mode = ui->mode;

	if (c == '\r' || c == '\n') {
		ui->mode = TOP_TABLE;
		/* nothing typed: nothing changes, as with Esc */
		if (!ui->edit_len)
			return TOP_DO_REDRAW;
		return mode == TOP_ASK_DELAY ? accept_delay(ui) : accept_sort(ui);
	}
	if (c == KEY_ESC) {
		ui->mode = TOP_TABLE;
	} else if (c == KEY_DEL || c == KEY_BS) {
		if (ui->edit_len)
			ui->edit[--ui->edit_len] = '\0';
	} else if (c == KEY_CTRL_U) {
		ui->edit[ui->edit_len = 0] = '\0';
	} else if (c >= 0x20 && c < 0x7f && ui->edit_len < TOP_EDIT_MAX) {
		ui->edit[ui->edit_len++] = (char)c;
		ui->edit[ui->edit_len] = '\0';
	} else {
		return 0;
	}
	return TOP_DO_REDRAW;
}

/* ---- one key ---- */

static int table_key(struct top_ui *ui, int c)
{
	switch (c) {
	case 'q':
	case 'Q':
		return TOP_DO_QUIT;
	case 'h':
	case '?':
		ui->mode = TOP_HELP;
		return TOP_DO_REDRAW;
	case 'p':
	case 'P':
		ui->paused = !ui->paused;
		return TOP_DO_REDRAW | (ui->paused ? 0 : TOP_DO_REFRESH);
	case 'd':
		return prompt(ui, TOP_ASK_DELAY);
	case 's':
		return prompt(ui, TOP_ASK_SORT);
	case '<':
		if (ui->sort > 0)
			ui->sort--;
		return TOP_DO_REDRAW;
	case '>':
		if (ui->sort + 1 < TOP_SORT_N)
			ui->sort++;
		return TOP_DO_REDRAW;
	case 'r':
	case 'R':
		ui->reverse = !ui->reverse;
		return TOP_DO_REDRAW;
	default:
		return 0;
	}
}

static int key(struct top_ui *ui, int c)
{
	int act = 0;

	if (ui->msg[0]) {
		ui->msg[0] = '\0';
		act = TOP_DO_REDRAW;
	}
	switch (ui->mode) {
	case TOP_HELP:
		ui->mode = TOP_TABLE;
		return TOP_DO_REDRAW;
	case TOP_ASK_DELAY:
	case TOP_ASK_SORT:
		return act | edit_key(ui, c);
	case TOP_TABLE:
	default:
		return act | table_key(ui, c);
	}
}

/* After ESC [ (or ESC O): parameters, then one final byte. */
static bool ends_sequence(int c)
{
	return c >= 0x40 && c <= 0x7e;
}

int topkeys_feed(struct top_ui *ui, const char *keys, size_t n)
{
	int act = 0;

	for (size_t i = 0; i < n && !(act & TOP_DO_QUIT); i++) {
		int c = (unsigned char)keys[i];

		if (ui->esc) {
			/* the [ or O right after ESC is not the final byte */
			if (ui->esc == 2 && ends_sequence(c))
				ui->esc = 0;
			else
				ui->esc = 2;
			continue;
		}
		if (c == KEY_ESC && i + 1 < n && (keys[i + 1] == '[' || keys[i + 1] == 'O')) {
			ui->esc = 1;
			continue;
		}
		act |= key(ui, c);
	}
	return act;
}

/* ---- the status line ---- */

static void u_seconds(struct strbuf *sb, unsigned int ms)
{
	sb_u64(sb, ms / 1000);
	if (ms % 1000) {
		char frac[5];

		snprintf(frac, sizeof(frac), ".%03u", ms % 1000);
		/* 0.500 as 0.5 */
		for (size_t len = strlen(frac); frac[len - 1] == '0'; len--)
			frac[len - 1] = '\0';
		sb_str(sb, frac);
	}
	sb_str(sb, " s");
}

void topkeys_status(const struct top_ui *ui, struct strbuf *sb)
{
	if (ui->mode == TOP_ASK_DELAY || ui->mode == TOP_ASK_SORT) {
		if (ui->mode == TOP_ASK_DELAY) {
			sb_str(sb, "Delay in seconds (now ");
			u_seconds(sb, ui->delay_ms);
			sb_str(sb, "; Enter accepts, Esc cancels): ");
		} else {
			/* short: what is typed must fit 80 columns too */
			sb_str(sb, "Sort by (COMM PID LOCAL REMOTE AGE TX TX+RX RX RTT): ");
		}
		sb_str(sb, ui->edit);
		sb_char(sb, '_');
		return;
	}
	if (ui->msg[0]) {
		sb_str(sb, ui->msg);
		return;
	}
	if (ui->paused)
		sb_str(sb, "PAUSED (p resumes) - ");
	sb_str(sb, "sorted by ");
	sb_str(sb, topkeys_sort_name(ui->sort));
	sb_str(sb, topkeys_descending(ui) ? ", descending" : ", ascending");
	sb_str(sb, "; every ");
	u_seconds(sb, ui->delay_ms);
}
