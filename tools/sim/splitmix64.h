/* SPDX-License-Identifier: MIT */
/*
 * splitmix64: the small deterministic PRNG of maicache's simulators and test
 * tools. policy-sim and scan-replay must draw identical sequences from one
 * seed, so both use this one definition.
 */
#ifndef MAICACHE_SPLITMIX64_H
#define MAICACHE_SPLITMIX64_H

#include <stdint.h>

static inline uint64_t splitmix64_next(uint64_t *state)
{
	uint64_t z = (*state += 0x9E3779B97F4A7C15ull);

	z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
	z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
	return z ^ (z >> 31);
}

/* Uniform in [0, n), from the high half of one draw. */
static inline uint32_t splitmix64_below(uint64_t *state, uint32_t n)
{
	return (uint32_t)((splitmix64_next(state) >> 32) * n >> 32);
}

#endif /* MAICACHE_SPLITMIX64_H */
