/* SPDX-License-Identifier: MIT */
/*
 * Progress of a long command (maicachectl warmup, top): the clock, sizes,
 * durations, the rate over the last seconds and the line a terminal shows.
 */
#ifndef MAICACHE_PROGRESS_H
#define MAICACHE_PROGRESS_H

#include <stddef.h>
#include <stdint.h>

/* CLOCK_MONOTONIC in seconds. */
double mc_now_s(void);
/* Sleep s seconds, or less when a signal arrives (the caller looks at its flag). */
void mc_sleep_s(double s);

/* "512 B", "1.5 KiB", "12.3 MiB", "4.00 GiB" (powers of 1024). */
void mc_fmt_bytes(char *buf, size_t len, double bytes);
/* "0:07", "12:34", "1:02:03"; "--:--" for a negative (unknown) duration. */
void mc_fmt_duration(char *buf, size_t len, double secs);
/* Seconds left at rate units/s: 0 when done, -1 when unknown (no rate). */
double mc_eta(uint64_t done, uint64_t total, double rate);

/* A counter's rate over its samples of the last `window` seconds. */
#define MC_RATE_SAMPLES 64
struct mc_rate {
	double window;
	double t[MC_RATE_SAMPLES];
	uint64_t v[MC_RATE_SAMPLES];
	unsigned int head, n;		/* oldest sample, samples kept */
};

void mc_rate_init(struct mc_rate *r, double window);
/* The counter is v at time t (seconds, non-decreasing). */
void mc_rate_add(struct mc_rate *r, double t, uint64_t v);
/* Units per second from the oldest kept sample to the newest; 0 with fewer than two. */
double mc_rate_get(const struct mc_rate *r);

/*
 * "[#######.............]  35%  44.8 MiB / 128.0 MiB  12.1 MiB/s  ETA 0:07"
 * into buf, the bar `bar` characters wide (at least 0). Returns buf.
 */
char *mc_progress_line(char *buf, size_t len, int bar, uint64_t done, uint64_t total,
		       double rate);

#endif /* MAICACHE_PROGRESS_H */
