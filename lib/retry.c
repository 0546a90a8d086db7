// SPDX-License-Identifier: MIT
/*
 * Exponential backoff with equal jitter; see retry.h for the formula and why.
 */
#include "retry.h"

void mc_rng_seed(struct mc_rng *r, uint64_t seed)
{
	r->state = seed;
}

/* splitmix64: small, fast, and every seed (0 included) gives a good stream. */
uint64_t mc_rng_next(struct mc_rng *r)
{
	uint64_t z = (r->state += 0x9e3779b97f4a7c15ULL);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

/* Rejection sampling: a plain modulo would favour the low values. */
uint64_t mc_rng_upto(struct mc_rng *r, uint64_t n)
{
	uint64_t span, limit, x;

	if (n == UINT64_MAX)
		return mc_rng_next(r);
	span = n + 1;
	limit = UINT64_MAX - UINT64_MAX % span;
	do
		x = mc_rng_next(r);
	while (x >= limit);
	return x % span;
}

uint64_t mc_retry_cap(const struct mc_retry_policy *p, unsigned int retry)
{
	uint64_t cap = p->base_ms;

	while (retry-- > 0 && cap < p->max_ms) {
		if (cap > UINT64_MAX / 2)
			return p->max_ms;
		cap *= 2;
	}
	return cap < p->max_ms ? cap : p->max_ms;
}

uint64_t mc_retry_delay(const struct mc_retry_policy *p, unsigned int retry,
			struct mc_rng *r)
{
	uint64_t cap = mc_retry_cap(p, retry);
	uint64_t half = cap / 2;

	return half + mc_rng_upto(r, cap - half);
}

int64_t mc_retry_next(const struct mc_retry_policy *p, unsigned int retries_done,
		      uint64_t elapsed_ms, struct mc_rng *r)
{
	return mc_retry_next_after(p, retries_done, elapsed_ms, 0, r);
}

int64_t mc_retry_next_after(const struct mc_retry_policy *p,
			    unsigned int retries_done, uint64_t elapsed_ms,
			    uint64_t after_ms, struct mc_rng *r)
{
	uint64_t delay;

	if (retries_done >= p->max_retries)
		return -1;
	delay = mc_retry_delay(p, retries_done, r);
	if (delay < after_ms)
		delay = after_ms;
	if (delay > INT64_MAX)
		delay = INT64_MAX;
	if (p->deadline_ms) {
		if (elapsed_ms >= p->deadline_ms ||
		    delay >= p->deadline_ms - elapsed_ms)
			return -1;
	}
	return (int64_t)delay;
}
