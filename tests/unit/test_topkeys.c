// SPDX-License-Identifier: GPL-2.0-only
// Unit tests for topkeys.c: what each --top key does to the view's state,
// the delay and column prompts, escape sequences, and the status line.
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <string.h>
#include <cmocka.h>

#include "topkeys.h"

static struct top_ui ui;

static void setup_ui(void)
{
	topkeys_init(&ui, 1000);
}

static int feed(const char *keys)
{
	return topkeys_feed(&ui, keys, strlen(keys));
}

static const char *status(void)
{
	static char line[256];
	struct strbuf sb;

	sb_init(&sb, line, sizeof(line) - 1);
	topkeys_status(&ui, &sb);
	line[sb.len] = '\0';
	return line;
}

static void test_defaults(void **state)
{
	(void)state;
	setup_ui();
	assert_int_equal(ui.mode, TOP_TABLE);
	assert_int_equal(ui.sort, TOP_SORT_BYTES);
	assert_false(ui.reverse);
	assert_false(ui.paused);
	assert_string_equal(status(), "sorted by TX+RX, descending; every 1 s");
	/* keys bound to nothing change nothing */
	assert_int_equal(feed("xyz1 \r"), 0);
	assert_int_equal(ui.mode, TOP_TABLE);
}

static void test_quit(void **state)
{
	(void)state;
	setup_ui();
	assert_int_equal(feed("q"), TOP_DO_QUIT);
	assert_int_equal(feed("Q"), TOP_DO_QUIT);
	/* nothing after q is looked at */
	assert_int_equal(feed("qh"), TOP_DO_QUIT);
	assert_int_equal(ui.mode, TOP_TABLE);
}

static void test_help_any_key_returns(void **state)
{
	(void)state;
	setup_ui();
	assert_int_equal(feed("h"), TOP_DO_REDRAW);
	assert_int_equal(ui.mode, TOP_HELP);
	/* q returns from help without quitting; the key does nothing else */
	assert_int_equal(feed("q"), TOP_DO_REDRAW);
	assert_int_equal(ui.mode, TOP_TABLE);
	assert_int_equal(feed("?"), TOP_DO_REDRAW);
	assert_int_equal(ui.mode, TOP_HELP);
	assert_int_equal(feed("p"), TOP_DO_REDRAW);
	assert_false(ui.paused);
	assert_int_equal(ui.mode, TOP_TABLE);
}

static void test_help_names_every_key(void **state)
{
	const char *keys[] = { "h ?", "q", "p", "d", "s", "< >", "r R" };

	(void)state;
	for (size_t k = 0; k < sizeof(keys) / sizeof(keys[0]); k++) {
		bool found = false;

		for (size_t i = 0; topkeys_help[i]; i++) {
			const char *l = topkeys_help[i] + strspn(topkeys_help[i], " ");

			if (!strncmp(l, keys[k], strlen(keys[k])) && l[strlen(keys[k])] == ' ')
				found = true;
		}
		assert_true(found);
	}
}

static void test_pause_and_resume(void **state)
{
	(void)state;
	setup_ui();
	assert_int_equal(feed("p"), TOP_DO_REDRAW);
	assert_true(ui.paused);
	assert_string_equal(status(), "PAUSED (p resumes) - sorted by TX+RX, descending; every 1 s");
	/* resuming takes a new snapshot at once */
	assert_int_equal(feed("p"), TOP_DO_REDRAW | TOP_DO_REFRESH);
	assert_false(ui.paused);
}

static void test_sort_left_right_stops_at_the_ends(void **state)
{
	/* keys typed one after the other, and the sort key after each */
	static const struct {
		const char *keys;
		enum top_sort sort;
	} steps[] = {
		{ "<", TOP_SORT_TX },
		{ ">>", TOP_SORT_RX },
		{ ">>>>", TOP_SORT_RTT },
		{ "<<<<<<<<<<<<", TOP_SORT_COMM },
	};

	(void)state;
	setup_ui();
	for (size_t i = 0; i < sizeof(steps) / sizeof(steps[0]); i++) {
		assert_int_equal(feed(steps[i].keys), TOP_DO_REDRAW);
		assert_int_equal(ui.sort, steps[i].sort);
	}
	assert_string_equal(status(), "sorted by COMM, ascending; every 1 s");
}

static void test_reverse(void **state)
{
	(void)state;
	setup_ui();
	assert_true(topkeys_descending(&ui));
	feed("r");
	assert_false(topkeys_descending(&ui));
	assert_string_equal(status(), "sorted by TX+RX, ascending; every 1 s");
	feed("R");
	assert_true(topkeys_descending(&ui));
	/* text columns: A to Z first, reversed Z to A */
	ui.sort = TOP_SORT_LOCAL;
	assert_false(topkeys_descending(&ui));
	feed("r");
	assert_true(topkeys_descending(&ui));
}

static void test_sort_prompt(void **state)
{
	(void)state;
	setup_ui();
	assert_int_equal(feed("s"), TOP_DO_REDRAW);
	assert_int_equal(ui.mode, TOP_ASK_SORT);
	feed("ag");
	assert_string_equal(status(), "Sort by (COMM PID LOCAL REMOTE AGE TX TX+RX RX RTT): ag_");
	assert_int_equal(feed("\r"), TOP_DO_REDRAW);
	assert_int_equal(ui.mode, TOP_TABLE);
	assert_int_equal(ui.sort, TOP_SORT_AGE);
	/* keys typed at the prompt are text, not commands */
	feed("sq\x7fRTT\n");
	assert_int_equal(ui.sort, TOP_SORT_RTT);
	/* ambiguous: a message until the next key, the key as it was */
	feed("sr\r");
	assert_int_equal(ui.sort, TOP_SORT_RTT);
	assert_string_equal(status(), "no single column 'r': COMM PID LOCAL REMOTE AGE TX TX+RX RX RTT");
	assert_int_equal(feed("x"), TOP_DO_REDRAW);
	assert_string_equal(status(), "sorted by RTT, descending; every 1 s");
	/* Esc cancels; Enter on nothing too */
	feed("scomm\x1b");
	assert_int_equal(ui.sort, TOP_SORT_RTT);
	assert_int_equal(ui.mode, TOP_TABLE);
	feed("s\r");
	assert_int_equal(ui.sort, TOP_SORT_RTT);
	assert_int_equal(ui.mode, TOP_TABLE);
}

static void test_delay_prompt(void **state)
{
	(void)state;
	setup_ui();
	feed("d");
	assert_int_equal(ui.mode, TOP_ASK_DELAY);
	feed("0.55\x08");
	assert_string_equal(status(), "Delay in seconds (now 1 s; Enter accepts, Esc cancels): 0.5_");
	assert_int_equal(feed("\r"), TOP_DO_REDRAW | TOP_DO_REFRESH);
	assert_int_equal(ui.delay_ms, 500);
	assert_string_equal(status(), "sorted by TX+RX, descending; every 0.5 s");
	/* refused: the message, the delay kept */
	assert_int_equal(feed("dabc\r"), TOP_DO_REDRAW);
	assert_int_equal(ui.delay_ms, 500);
	assert_string_equal(status(), "invalid delay 'abc': seconds from 0.1 to 3600, such as 2 "
			    "or 0.5; still every 0.5 s");
	feed("d0.05\r");
	assert_int_equal(ui.delay_ms, 500);
	/* Esc cancels what was typed; Ctrl-U clears it */
	feed("d9\x1b");
	assert_int_equal(ui.delay_ms, 500);
	assert_int_equal(ui.mode, TOP_TABLE);
	feed("d77\x15" "2\r");
	assert_int_equal(ui.delay_ms, 2000);
}

static void test_delay_prompt_is_bounded(void **state)
{
	(void)state;
	setup_ui();
	feed("d");
	for (int i = 0; i < 3 * TOP_EDIT_MAX; i++)
		feed("1");
	assert_int_equal(ui.edit_len, TOP_EDIT_MAX);
	feed("\r");
	assert_int_equal(ui.delay_ms, 1000);
}

static void test_parse_delay(void **state)
{
	unsigned int ms = 0;

	(void)state;
	assert_int_equal(topkeys_parse_delay("2", &ms), 0);
	assert_int_equal(ms, 2000);
	assert_int_equal(topkeys_parse_delay(".25", &ms), 0);
	assert_int_equal(ms, 250);
	assert_int_equal(topkeys_parse_delay("0.1", &ms), 0);
	assert_int_equal(ms, 100);
	assert_int_equal(topkeys_parse_delay("1.2345", &ms), 0);
	assert_int_equal(ms, 1234);
	assert_int_equal(topkeys_parse_delay("3600", &ms), 0);
	assert_int_equal(ms, 3600000);
	assert_int_equal(topkeys_parse_delay("3600.001", &ms), -1);
	assert_int_equal(topkeys_parse_delay("99999999999999999999", &ms), -1);
	assert_int_equal(topkeys_parse_delay("0.09", &ms), -1);
	assert_int_equal(topkeys_parse_delay("0", &ms), -1);
	assert_int_equal(topkeys_parse_delay("", &ms), -1);
	assert_int_equal(topkeys_parse_delay(".", &ms), -1);
	assert_int_equal(topkeys_parse_delay("1.2.3", &ms), -1);
	assert_int_equal(topkeys_parse_delay("-1", &ms), -1);
	assert_int_equal(topkeys_parse_delay(" 1", &ms), -1);
	assert_int_equal(topkeys_parse_delay("1s", &ms), -1);
}

static void test_parse_sort(void **state)
{
	enum top_sort s;

	(void)state;
	assert_int_equal(topkeys_parse_sort("tx", &s), 0);
	assert_int_equal(s, TOP_SORT_TX);	/* exact beats the prefix of TX+RX */
	assert_int_equal(topkeys_parse_sort("TX+", &s), 0);
	assert_int_equal(s, TOP_SORT_BYTES);
	assert_int_equal(topkeys_parse_sort("Rem", &s), 0);
	assert_int_equal(s, TOP_SORT_REMOTE);
	assert_int_equal(topkeys_parse_sort("p", &s), 0);
	assert_int_equal(s, TOP_SORT_PID);
	assert_int_equal(topkeys_parse_sort("r", &s), -1);
	assert_int_equal(topkeys_parse_sort("", &s), -1);
	assert_int_equal(topkeys_parse_sort("ages", &s), -1);
	for (int i = 0; i < TOP_SORT_N; i++) {
		assert_int_equal(topkeys_parse_sort(topkeys_sort_name((enum top_sort)i), &s), 0);
		assert_int_equal(s, i);
	}
}

static void test_escape_sequences_skipped(void **state)
{
	(void)state;
	setup_ui();
	/* arrows and F-keys: no key of theirs acts (the A of ESC [ A is not
	 * a command, nor the q inside ESC O q)
	 */
	assert_int_equal(feed("\x1b[A\x1b[1;5D\x1bOq\x1b[15~"), 0);
	assert_int_equal(ui.mode, TOP_TABLE);
	assert_int_equal(feed("q"), TOP_DO_QUIT);
	/* a sequence split across two reads */
	setup_ui();
	assert_int_equal(feed("\x1b["), 0);
	assert_int_equal(feed("1;2P"), 0);
	assert_int_equal(feed("p"), TOP_DO_REDRAW);
	/* a lone Esc ends a prompt; an arrow at the prompt is no text */
	setup_ui();
	feed("d1\x1b[D2");
	assert_string_equal(ui.edit, "12");
	feed("\x1b");
	assert_int_equal(ui.mode, TOP_TABLE);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_quit),
		cmocka_unit_test(test_help_any_key_returns),
		cmocka_unit_test(test_help_names_every_key),
		cmocka_unit_test(test_pause_and_resume),
		cmocka_unit_test(test_sort_left_right_stops_at_the_ends),
		cmocka_unit_test(test_reverse),
		cmocka_unit_test(test_sort_prompt),
		cmocka_unit_test(test_delay_prompt),
		cmocka_unit_test(test_delay_prompt_is_bounded),
		cmocka_unit_test(test_parse_delay),
		cmocka_unit_test(test_parse_sort),
		cmocka_unit_test(test_escape_sequences_skipped),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
