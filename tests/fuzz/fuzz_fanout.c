// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: the fan-out table (peer/fanout.c) driven by a stream
 * of operations, as peers' requests, sends ending, HAVEs, expiry and
 * closing connections would drive it, in any order and with any lies (a
 * HAVE for a lend that never was, an end for a send that never was).
 * After every operation the table must hold: no extent sent to more than
 * K at once, no holder handed out to itself, no verdict for a requester
 * that is not waiting, and nothing leaks (ASan).
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "fanout.h"

#define NODES	8
#define KEYS	3
#define K	2

static int conns[NODES];
static bool waiting[NODES][KEYS];	/* told QUEUE, no verdict since */
static bool serving[NODES][KEYS];	/* told SERVE, not ended since */

static struct mc_node_id id(unsigned int n)
{
	struct mc_node_id x;

	memset(x.b, 0, sizeof(x.b));
	x.b[0] = (uint8_t)(n + 1);
	return x;
}

static struct mc_extent_key key(unsigned int k)
{
	struct mc_extent_key x = { .extent_shift = 20, .index = k };

	memset(x.blob, 0x42, sizeof(x.blob));
	return x;
}

static void verdict(void *arg, const struct mc_extent_key *k, struct mc_flight_who who,
		    enum mc_fanout_verdict v, const struct mc_node_id *holder)
{
	unsigned int n = (unsigned int)((int *)who.conn - conns), e = (unsigned int)k->index;

	if (n >= NODES || e >= KEYS || !waiting[n][e])
		__builtin_trap();	/* a verdict for someone not waiting */
	waiting[n][e] = false;
	if (v == MC_FANOUT_SERVE) {
		if (serving[n][e] || mc_fanout_sending(arg, k) > K)
			__builtin_trap();
		serving[n][e] = true;
	} else if (v == MC_FANOUT_HOLDER && holder->b[0] == n + 1) {
		__builtin_trap();	/* sent to itself */
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mc_fanout_opts o = { .self = id(NODES), .serve_max = K, .holders = 4,
				    .holder_ms = 50, .lend_ms = 20, .max_waiters = 4,
				    .max_extents = 2 };
	struct mc_fanout *t;
	uint64_t now = 0;

	memset(waiting, 0, sizeof(waiting));
	memset(serving, 0, sizeof(serving));
	if (mc_fanout_new(&t, &o))
		return 0;
	for (size_t i = 0; i + 1 < size; i += 2) {
		unsigned int op = data[i] >> 5, n = data[i] & 7, e = (data[i + 1] & 3) % KEYS;
		unsigned int other = (data[i + 1] >> 2) & 7;
		struct mc_flight_who who = { .conn = &conns[n], .seq = e };
		struct mc_extent_key k = key(e);
		struct mc_node_id me = id(n), from = id(other), h;
		int v;

		now += data[i + 1] >> 5;
		switch (op) {
		case 0:
		case 1:
			/* A second request while one is open is not what a peer does. */
			if (waiting[n][e] || serving[n][e])
				break;
			v = mc_fanout_ask(t, &k, who, &me, op == 0, now, &h);
			if (v == MC_FANOUT_SERVE && mc_fanout_sending(t, &k) > K)
				__builtin_trap();
			if (v == MC_FANOUT_SERVE) {
				serving[n][e] = true;
			} else if (v == MC_FANOUT_QUEUE) {
				waiting[n][e] = true;
			} else if (v == MC_FANOUT_HOLDER && (op != 0 || h.b[0] == n + 1)) {
				__builtin_trap();
			}
			break;
		case 2:
		case 3:
			serving[n][e] = false;
			mc_fanout_end(t, &k, who, op == 2, now, verdict, t);
			break;
		case 4:
			mc_fanout_have(t, &k, &me, other == NODES - 1 ? &o.self : &from, now,
				       verdict, t);
			break;
		case 5:
			mc_fanout_expire(t, now, verdict, t);
			break;
		case 6:
			mc_fanout_forget(t, &conns[n]);
			for (unsigned int j = 0; j < KEYS; j++)
				waiting[n][j] = false;
			break;
		default:
			/* Evicted: the waiters hear BUSY (checked in verdict()). */
			mc_fanout_forget_key(t, &k, verdict, t);
			break;
		}
		if (mc_fanout_sending(t, &k) > K)
			__builtin_trap();
	}
	mc_fanout_free(t);
	return 0;
}
