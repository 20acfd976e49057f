/* SPDX-License-Identifier: GPL-2.0-only */
/* --top's keys: what each key does to the view's state, with no I/O, so
 * that the unit tests can drive it byte by byte.
 */
#ifndef TCL_TOPKEYS_H
#define TCL_TOPKEYS_H

#include <stdbool.h>
#include <stddef.h>
#include "strbuf.h"

/* The sort keys, left to right as the columns are; TX+RX (the default)
 * sits between its two columns, so < and > pass through it.
 */
enum top_sort {
	TOP_SORT_COMM,
	TOP_SORT_PID,
	TOP_SORT_LOCAL,
	TOP_SORT_REMOTE,
	TOP_SORT_AGE,
	TOP_SORT_TX,
	TOP_SORT_BYTES,		/* TX+RX */
	TOP_SORT_RX,
	TOP_SORT_RTT,
	TOP_SORT_N,
};

enum top_mode {
	TOP_TABLE,
	TOP_HELP,		/* the key list; any key returns */
	TOP_ASK_DELAY,		/* the status line edits a new delay */
	TOP_ASK_SORT,		/* ... a column name */
};

#define TOP_EDIT_MAX	16
#define TOP_DELAY_MIN_MS	100
#define TOP_DELAY_MAX_MS	3600000u

struct top_ui {
	enum top_mode mode;
	enum top_sort sort;
	bool reverse;		/* the other way round from the column's own */
	bool paused;		/* the screen keeps its snapshot */
	unsigned int delay_ms;
	char edit[TOP_EDIT_MAX + 1];	/* what the prompt has been given */
	size_t edit_len;
	char msg[128];		/* on the status line until the next key */
	int esc;		/* inside an escape sequence (arrow keys...) */
};

/* What the caller must do after a key (a bit set). */
enum {
	TOP_DO_REDRAW = 1,	/* the frame changed */
	TOP_DO_REFRESH = 2,	/* take a new snapshot now (resume, new delay) */
	TOP_DO_QUIT = 4,
};

void topkeys_init(struct top_ui *ui, unsigned int delay_ms);
/* The bytes of one read(): an ESC that ends them is the Esc key, one
 * followed by [ or O starts a sequence that is skipped whole.
 */
int topkeys_feed(struct top_ui *ui, const char *keys, size_t n);

/* Seconds as typed ("2", "0.5", ".25") into ms; -1 unless within
 * [TOP_DELAY_MIN_MS, TOP_DELAY_MAX_MS].
 */
int topkeys_parse_delay(const char *s, unsigned int *ms);
/* A column name, any case, or the start of exactly one ("a" is AGE, "rx"
 * is RX); -1 when none or several match.
 */
int topkeys_parse_sort(const char *s, enum top_sort *out);
const char *topkeys_sort_name(enum top_sort s);
/* Text columns sort A to Z, numbers largest first. */
bool topkeys_descending(const struct top_ui *ui);

/* The status line under the title: a prompt, a message, or how the
 * table is sorted and refreshed.
 */
void topkeys_status(const struct top_ui *ui, struct strbuf *sb);
/* The help screen, NULL-terminated. */
extern const char *const topkeys_help[];

#endif
