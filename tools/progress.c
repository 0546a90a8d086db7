// SPDX-License-Identifier: MIT
/*
 * Progress lines: sizes, durations, rates, ETA.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "progress.h"

double mc_now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void mc_sleep_s(double s)
{
	struct timespec ts;

	if (s <= 0)
		return;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	nanosleep(&ts, NULL);
}

void mc_fmt_bytes(char *buf, size_t len, double bytes)
{
	static const char *const units[] = { "KiB", "MiB", "GiB", "TiB", "PiB" };
	int u = -1;

	if (bytes < 1024) {
		snprintf(buf, len, "%.0f B", bytes < 0 ? 0 : bytes);
		return;
	}
	while (bytes >= 1024 && u < 4) {
		bytes /= 1024;
		u++;
	}
	/* Three significant digits: 4.00 GiB, 12.3 MiB, 512 KiB. */
	snprintf(buf, len, bytes < 10 ? "%.2f %s" : bytes < 100 ? "%.1f %s" : "%.0f %s",
		 bytes, units[u]);
}

void mc_fmt_duration(char *buf, size_t len, double secs)
{
	unsigned long long s;

	if (secs < 0 || !isfinite(secs)) {
		snprintf(buf, len, "--:--");
		return;
	}
	s = (unsigned long long)(secs + 0.5);
	if (s >= 3600)
		snprintf(buf, len, "%llu:%02llu:%02llu", s / 3600, s / 60 % 60, s % 60);
	else
		snprintf(buf, len, "%llu:%02llu", s / 60, s % 60);
}

double mc_eta(uint64_t done, uint64_t total, double rate)
{
	if (done >= total)
		return 0;
	if (rate <= 0)
		return -1;
	return (double)(total - done) / rate;
}

void mc_rate_init(struct mc_rate *r, double window)
{
	memset(r, 0, sizeof(*r));
	r->window = window;
}

void mc_rate_add(struct mc_rate *r, double t, uint64_t v)
{
	unsigned int newest;

	if (r->n == MC_RATE_SAMPLES) {
		r->head = (r->head + 1) % MC_RATE_SAMPLES;
		r->n--;
	}
	newest = (r->head + r->n) % MC_RATE_SAMPLES;
	r->t[newest] = t;
	r->v[newest] = v;
	r->n++;
	/* Keep one sample at or before the window's start, so the window is whole. */
	while (r->n > 2 && r->t[(r->head + 1) % MC_RATE_SAMPLES] <= t - r->window) {
		r->head = (r->head + 1) % MC_RATE_SAMPLES;
		r->n--;
	}
}

double mc_rate_get(const struct mc_rate *r)
{
	unsigned int newest = (r->head + r->n - 1) % MC_RATE_SAMPLES;
	double dt;

	if (r->n < 2)
		return 0;
	dt = r->t[newest] - r->t[r->head];
	if (dt <= 0 || r->v[newest] < r->v[r->head])
		return 0;
	return (double)(r->v[newest] - r->v[r->head]) / dt;
}

char *mc_progress_line(char *buf, size_t len, int bar, uint64_t done, uint64_t total,
		       double rate)
{
	char d[16], t[16], rt[16], eta[16];
	double frac = total ? (double)(done > total ? total : done) / (double)total : 1;
	int fill = (int)(frac * bar), i;
	size_t off = 0;

	if (!len)
		return buf;
	buf[0] = '\0';
	if (bar > 0 && len > (size_t)bar + 3) {
		buf[off++] = '[';
		for (i = 0; i < bar; i++)
			buf[off++] = i < fill ? '#' : '.';
		buf[off++] = ']';
		buf[off] = '\0';
	}
	mc_fmt_bytes(d, sizeof(d), (double)done);
	mc_fmt_bytes(t, sizeof(t), (double)total);
	mc_fmt_bytes(rt, sizeof(rt), rate);
	mc_fmt_duration(eta, sizeof(eta), mc_eta(done, total, rate));
	snprintf(buf + off, len - off, "%s%3d%%  %s / %s  %s/s  ETA %s", off ? "  " : "",
		 (int)(frac * 100), d, t, rt, eta);
	return buf;
}
