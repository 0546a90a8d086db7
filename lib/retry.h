/* SPDX-License-Identifier: MIT */
/*
 * Retry policy of the blob client: exponential backoff with "equal jitter".
 *
 * Retry n (0 for the first retry) waits
 *
 *	cap(n) = min(max_ms, base_ms * 2^n)
 *	delay  = cap(n) / 2 + uniform[0, cap(n) - cap(n) / 2]
 *
 * Equal jitter keeps half of the exponential delay, so the wait still grows
 * with n (a struggling service gets real relief), while the random half
 * spreads the retries of many clients that failed at the same instant.
 * The random numbers come from a seedable splitmix64 generator, so tests
 * (and a daemon under a fixed seed) see the same delays every run.
 *
 * A retry is refused once max_retries retries were made, or when the
 * attempt would start at or after the overall deadline. A Retry-After of
 * the service raises the delay to at least what it asks, within the same
 * bounds (mc_retry_next_after). Pure functions: no
 * clock is read here, the caller passes the elapsed time.
 */
#ifndef MAICACHE_RETRY_H
#define MAICACHE_RETRY_H

#include <stdint.h>

struct mc_retry_policy {
	unsigned int max_retries;	/* retries after the first attempt */
	uint64_t base_ms;		/* cap of retry 0 */
	uint64_t max_ms;		/* cap of any one delay */
	uint64_t deadline_ms;		/* all attempts of one request; 0: none */
};

struct mc_rng {
	uint64_t state;
};

void mc_rng_seed(struct mc_rng *r, uint64_t seed);
uint64_t mc_rng_next(struct mc_rng *r);
/* Uniform in [0, n]; n may be UINT64_MAX. */
uint64_t mc_rng_upto(struct mc_rng *r, uint64_t n);

/* min(max_ms, base_ms * 2^retry), without overflow. */
uint64_t mc_retry_cap(const struct mc_retry_policy *p, unsigned int retry);

/* The jittered delay of retry `retry`: in [cap / 2, cap]. */
uint64_t mc_retry_delay(const struct mc_retry_policy *p, unsigned int retry,
			struct mc_rng *r);

/*
 * After `retries_done` retries and `elapsed_ms` since the request began:
 * the delay before the next attempt (>= 0), or -1 when no retry is left
 * (max_retries reached, or the attempt would begin at or past the deadline).
 */
int64_t mc_retry_next(const struct mc_retry_policy *p, unsigned int retries_done,
		      uint64_t elapsed_ms, struct mc_rng *r);

/*
 * The same with a floor on the delay: the service's Retry-After, in ms (0:
 * none). The wait is max(jittered delay, after_ms), and still -1 when that
 * would begin the attempt at or past the deadline: a service that asks for
 * more time than is left gets a failure now, not a sleep into the deadline.
 */
int64_t mc_retry_next_after(const struct mc_retry_policy *p,
			    unsigned int retries_done, uint64_t elapsed_ms,
			    uint64_t after_ms, struct mc_rng *r);

#endif /* MAICACHE_RETRY_H */
