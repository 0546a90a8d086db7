// SPDX-License-Identifier: MIT
/*
 * maicachectl top: a live view of every device, refreshed each second:
 * hit ratio, bytes per second served from DRAM and filled from the source
 * over the last second, fills in flight, fill-latency percentiles from the
 * kernel's histogram (top_calc.h does the arithmetic).
 *
 * On a terminal it is a full-screen view drawn with ncurses, which leaves
 * the terminal as it found it on q, ^C or an error. With --once,
 * --iterations N, --json or an output that is not a terminal it prints
 * frames (JSON lines with --json) instead, for scripts.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <curses.h>

#include "json.h"
#include "maicachectl.h"
#include "nlclient.h"
#include "parse.h"
#include "progress.h"
#include "top_calc.h"

#define TOP_INTERVAL_S	1.0
#define TOP_LINE	160

/* One reading of every disk device. */
struct top_sample {
	struct mc_dev_info *d;
	size_t n, cap;
	struct mc_pool_info pool;
	double t;
};

static volatile sig_atomic_t top_stop;

static void on_signal(int sig)
{
	(void)sig;
	top_stop = 1;
}

static int sample_one(const struct mc_dev_info *d, void *arg)
{
	struct top_sample *s = arg;

	/* The group's extents (maicachectl peers), not a block device. */
	if (d->held)
		return 0;
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 8;
		struct mc_dev_info *p = realloc(s->d, cap * sizeof(*p));

		if (!p)
			return -ENOMEM;
		s->d = p;
		s->cap = cap;
	}
	s->d[s->n++] = *d;
	return 0;
}

static int take_sample(struct mc_nl *nl, struct top_sample *s, char *err, size_t errlen)
{
	s->n = 0;
	s->t = mc_now_s();
	if (mc_nl_dev_list(nl, sample_one, s, err, errlen))
		return -1;
	return mc_nl_pool_get(nl, &s->pool, err, errlen) ? -1 : 0;
}

static const struct mc_dev_info *find_dev(const struct top_sample *s, uint32_t id)
{
	size_t i;

	for (i = 0; i < s->n; i++)
		if (s->d[i].id == id)
			return &s->d[i];
	return NULL;
}

/* The row of device d over the interval from prev (where it may be new). */
static void row_of(const struct top_sample *prev, const struct top_sample *cur,
		   const struct mc_dev_info *d, struct mc_top_row *row)
{
	const struct mc_dev_info *p = find_dev(prev, d->id);
	const struct mc_dev_stats zero = { 0 };

	mc_top_row(p ? &p->stats : &zero, &d->stats, cur->t - prev->t, row);
}

static void json_num_or_null(const char *key, double v, const char *fmt)
{
	printf(",\"%s\":", key);
	if (v < 0)
		printf("null");
	else
		printf(fmt, v);
}

static void print_json(const struct top_sample *prev, const struct top_sample *cur, double t0)
{
	struct mc_top_row row;
	size_t i;

	printf("{\"time_s\":%.3f,\"interval_s\":%.3f,\"pool_size\":%" PRIu64 ",\"pool_used\":%" PRIu64
	       ",\"daemon_attached\":%s,\"devices\":[",
	       cur->t - t0, cur->t - prev->t, cur->pool.size, cur->pool.used,
	       cur->pool.daemon_attached ? "true" : "false");
	for (i = 0; i < cur->n; i++) {
		const struct mc_dev_info *d = &cur->d[i];

		row_of(prev, cur, d, &row);
		printf("%s{\"id\":%u", i ? "," : "", d->id);
		mc_json_member(stdout, "name", d->name);
		mc_json_member(stdout, "volume", d->volume_name);
		printf(",\"hits\":%" PRIu64 ",\"misses\":%" PRIu64, row.hits, row.misses);
		json_num_or_null("hit_ratio", row.hit_ratio, "%.4f");
		printf(",\"dram_bytes_per_s\":%.0f,\"fill_bytes_per_s\":%.0f,\"fills_in_flight\":%"
		       PRIu64 ",\"fills\":%" PRIu64, row.dram_bps, row.fill_bps, row.in_flight,
		       row.fills);
		json_num_or_null("fill_p50_us", row.p50_us, "%.1f");
		json_num_or_null("fill_p99_us", row.p99_us, "%.1f");
		printf("}");
	}
	printf("]}\n");
	fflush(stdout);
}

/* The frame as lines of text: a header, a column line, a row per device. */
static size_t frame_lines(const struct top_sample *prev, const struct top_sample *cur,
			  bool keys, char (**out)[TOP_LINE])
{
	char (*lines)[TOP_LINE] = calloc(cur->n + 3, sizeof(*lines));
	char size[16], used[16];
	struct mc_top_row row;
	size_t i, n = 0;

	*out = lines;
	if (!lines)
		return 0;
	mc_fmt_bytes(size, sizeof(size), (double)cur->pool.size);
	mc_fmt_bytes(used, sizeof(used), (double)cur->pool.used);
	snprintf(lines[n++], TOP_LINE, "maicache top: pool %s, %s used, daemon %s%s", size, used,
		 cur->pool.daemon_attached ? "attached" : "not attached",
		 keys ? "   (q quits)" : "");
	snprintf(lines[n++], TOP_LINE, "%-12s %-16s %6s %11s %11s %9s %9s %9s", "DEVICE", "VOLUME",
		 "HIT%", "DRAM MiB/s", "FILL MiB/s", "IN FLIGHT", "FILL p50", "FILL p99");
	for (i = 0; i < cur->n; i++) {
		const struct mc_dev_info *d = &cur->d[i];
		char hit[16], p50[16], p99[16];

		row_of(prev, cur, d, &row);
		if (row.hit_ratio < 0)
			snprintf(hit, sizeof(hit), "-");
		else
			snprintf(hit, sizeof(hit), "%.1f", row.hit_ratio * 100);
		mc_fmt_us(p50, sizeof(p50), row.p50_us);
		mc_fmt_us(p99, sizeof(p99), row.p99_us);
		snprintf(lines[n++], TOP_LINE, "%-12s %-16.16s %6s %11.1f %11.1f %9" PRIu64 " %9s %9s",
			 d->name, d->volume_name[0] ? d->volume_name : "-", hit,
			 row.dram_bps / (1 << 20), row.fill_bps / (1 << 20), row.in_flight, p50, p99);
	}
	if (!cur->n)
		snprintf(lines[n++], TOP_LINE, "(no devices)");
	return n;
}

static void print_text(const struct top_sample *prev, const struct top_sample *cur)
{
	char (*lines)[TOP_LINE];
	size_t i, n = frame_lines(prev, cur, false, &lines);

	for (i = 0; i < n; i++)
		printf("%s\n", lines[i]);
	printf("\n");
	fflush(stdout);
	free(lines);
}

static void draw(const struct top_sample *prev, const struct top_sample *cur)
{
	char (*lines)[TOP_LINE];
	size_t i, n = frame_lines(prev, cur, true, &lines);

	erase();
	for (i = 0; i < n && (int)i < LINES; i++)
		mvaddnstr((int)i, 0, lines[i], COLS);
	refresh();
	free(lines);
}

static void draw_waiting(void)
{
	erase();
	mvaddstr(0, 0, "maicache top: reading the counters...");
	refresh();
}

/*
 * Wait until @until on the terminal, redrawing the frame of @prev and
 * @cur (NULL: none yet) when the terminal is resized; true when the user
 * asked to quit.
 */
static bool wait_keys(double until, const struct top_sample *prev, const struct top_sample *cur)
{
	double left;
	int ch;

	while (!top_stop && (left = until - mc_now_s()) > 0) {
		timeout((int)(left * 1000) + 1);
		ch = getch();
		if (ch == 'q' || ch == 'Q')
			return true;
		if (ch == KEY_RESIZE && prev)
			draw(prev, cur);
		else if (ch == KEY_RESIZE)
			draw_waiting();
	}
	return top_stop;
}

static void top_usage(FILE *f)
{
	fprintf(f,
		"usage: maicachectl [--json] top [--once | --iterations N]\n"
		"Every device, refreshed each second: hit ratio, MiB/s served from DRAM and\n"
		"filled from the source over the last second, fills in flight, fill latency\n"
		"(p50, p99). q or ^C quits. --once: one frame (after one second) and exit;\n"
		"--iterations N: N frames. Frames are printed, not drawn, with these, with\n"
		"--json (a JSON line each) or when the output is not a terminal.\n");
}

int cmd_top(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "once", no_argument, NULL, 'o' },
		{ "iterations", required_argument, NULL, 'n' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct top_sample a = { 0 }, b = { 0 }, *prev = &a, *cur = &b, *swap;
	uint64_t iterations = 0, done;
	bool as_json = json, screen;
	SCREEN *scr = NULL;
	struct sigaction sa;
	struct mc_nl *nl;
	char err[512];
	double t0;
	int c, ret = 0;

	optind = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'o':
			iterations = 1;
			break;
		case 'n':
			if (mc_parse_uint(optarg, &iterations) || !iterations) {
				fprintf(stderr, "maicachectl: --iterations: '%s' is not a count of 1 or more\n",
					optarg);
				return 2;
			}
			break;
		case 'j':
			as_json = true;
			break;
		case 'h':
			top_usage(stdout);
			return 0;
		default:
			top_usage(stderr);
			return 2;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "maicachectl: top takes no argument ('%s')\n", argv[optind]);
		return 2;
	}
	nl = mc_nl_open(err, sizeof(err));
	if (!nl)
		return fail(err);
	if (take_sample(nl, prev, err, sizeof(err))) {
		mc_nl_close(nl);
		return fail(err);
	}
	t0 = prev->t;
	screen = !as_json && !iterations && isatty(STDOUT_FILENO);

	/* Not restarted: ^C ends the wait for a key or a second. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	if (screen) {
		/* newterm(), unlike initscr(), returns when TERM is unknown. */
		scr = newterm(NULL, stdout, stdin);
		if (!scr) {
			mc_nl_close(nl);
			return fail("top: cannot draw on this terminal (TERM unknown?): try --once or --json");
		}
		cbreak();
		noecho();
		keypad(stdscr, TRUE);
		curs_set(0);
		draw_waiting();
	}
	for (done = 0; !top_stop && (!iterations || done < iterations); done++) {
		double until = prev->t + TOP_INTERVAL_S;

		if (screen) {
			/* After a swap, cur holds the older sample of the frame shown. */
			if (wait_keys(until, done ? cur : NULL, prev))
				break;
		} else {
			mc_sleep_s(until - mc_now_s());
			if (top_stop)
				break;
		}
		if (take_sample(nl, cur, err, sizeof(err))) {
			ret = -1;
			break;
		}
		if (screen)
			draw(prev, cur);
		else if (as_json)
			print_json(prev, cur, t0);
		else
			print_text(prev, cur);
		swap = prev;
		prev = cur;
		cur = swap;
	}
	if (screen) {
		endwin();
		delscreen(scr);
	}
	mc_nl_close(nl);
	free(a.d);
	free(b.d);
	return ret ? fail(err) : 0;
}
