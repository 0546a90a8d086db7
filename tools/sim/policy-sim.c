// SPDX-License-Identifier: GPL-2.0
/*
 * policy-sim: replays a synthetic trace against kmod/policy.c (S3-FIFO) and a
 * plain LRU of the same capacity, and prints both hit ratios.
 *
 * Trace: extents of 1 MiB. A hot set of H extents is read with random 4 KiB
 * reads; interleaved with it, a one-pass sequential scan reads S other extents
 * in 128 KiB requests (8 accesses per extent). While the scan lasts, an access
 * belongs to it with probability --mix percent. Every access is one lookup; a
 * miss inserts the extent, evicting one when the cache is full.
 *
 * Build (from the repository root):
 *   cc -O2 -Wall -Wextra -Werror -std=gnu11 -I tools/sim -I kmod \
 *      -o build/policy-sim tools/sim/policy-sim.c kmod/policy.c
 */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "policy.h"
#include "splitmix64.h"

#define EXTENT_SIZE	(1u << 20)
#define SCAN_REQ	(128u << 10)
#define HOT_REQ		(4u << 10)
#define NIL		UINT32_MAX

/* ---- deterministic PRNG: splitmix64 ---- */

static uint64_t rng_state;

static u32 rng_below(u32 n)
{
	return splitmix64_below(&rng_state, n);
}

/* ---- key -> slot map, shared by both caches ---- */

struct slot_map {
	u32 *buckets;	/* nr_buckets heads */
	u32 *next;	/* per slot chain */
	u64 *key;	/* per slot */
	u32 mask;
};

static void *xcalloc(size_t n, size_t size)
{
	void *p = calloc(n, size);

	if (!p) {
		fprintf(stderr, "policy-sim: out of memory\n");
		exit(2);
	}
	return p;
}

static u32 map_hash(const struct slot_map *m, u64 key)
{
	return (u32)((key * 0x9E3779B97F4A7C15ull) >> 32) & m->mask;
}

static void map_init(struct slot_map *m, u32 slots)
{
	u32 nb = 2;

	while (nb < slots)
		nb <<= 1;
	m->buckets = xcalloc(nb, sizeof(*m->buckets));
	memset(m->buckets, 0xff, nb * sizeof(*m->buckets));
	m->next = xcalloc(slots, sizeof(*m->next));
	m->key = xcalloc(slots, sizeof(*m->key));
	m->mask = nb - 1;
}

static void map_free(struct slot_map *m)
{
	free(m->buckets);
	free(m->next);
	free(m->key);
}

static u32 map_find(const struct slot_map *m, u64 key)
{
	u32 s;

	for (s = m->buckets[map_hash(m, key)]; s != NIL; s = m->next[s])
		if (m->key[s] == key)
			return s;
	return NIL;
}

static void map_add(struct slot_map *m, u32 slot, u64 key)
{
	u32 *b = &m->buckets[map_hash(m, key)];

	m->key[slot] = key;
	m->next[slot] = *b;
	*b = slot;
}

static void map_del(struct slot_map *m, u32 slot)
{
	u32 *p = &m->buckets[map_hash(m, m->key[slot])];

	while (*p != slot)
		p = &m->next[*p];
	*p = m->next[slot];
}

/* ---- cache interface ---- */

struct cache {
	struct slot_map map;
	u32 capacity;
	u32 used;
	/* S3-FIFO */
	struct mc_policy policy;
	struct mc_policy_node *nodes;
	/* LRU: slot-indexed doubly linked list, head = most recent */
	u32 *prev, *next;
	u32 head, tail;
	bool lru;
};

static void cache_init(struct cache *c, u32 capacity, u32 ghost, bool lru)
{
	memset(c, 0, sizeof(*c));
	c->capacity = capacity;
	c->lru = lru;
	map_init(&c->map, capacity);
	if (lru) {
		c->prev = xcalloc(capacity, sizeof(*c->prev));
		c->next = xcalloc(capacity, sizeof(*c->next));
		c->head = NIL;
		c->tail = NIL;
		return;
	}
	c->nodes = xcalloc(capacity, sizeof(*c->nodes));
	if (mc_policy_init(&c->policy, ghost)) {
		fprintf(stderr, "policy-sim: mc_policy_init failed\n");
		exit(2);
	}
	mc_policy_set_capacity(&c->policy, capacity);
}

static void cache_free(struct cache *c)
{
	map_free(&c->map);
	free(c->prev);
	free(c->next);
	free(c->nodes);
	if (!c->lru)
		mc_policy_destroy(&c->policy);
}

static void lru_unlink(struct cache *c, u32 s)
{
	if (c->prev[s] != NIL)
		c->next[c->prev[s]] = c->next[s];
	else
		c->head = c->next[s];
	if (c->next[s] != NIL)
		c->prev[c->next[s]] = c->prev[s];
	else
		c->tail = c->prev[s];
}

static void lru_push(struct cache *c, u32 s)
{
	c->prev[s] = NIL;
	c->next[s] = c->head;
	if (c->head != NIL)
		c->prev[c->head] = s;
	else
		c->tail = s;
	c->head = s;
}

static bool claim_any(struct mc_policy_node *n, void *arg)
{
	(void)n;
	(void)arg;
	return true;
}

/* One access; returns true on a hit. */
static bool cache_access(struct cache *c, u64 key, u32 off, u32 len)
{
	u32 s = map_find(&c->map, key);
	struct mc_policy_node *victim;

	if (s != NIL) {
		if (c->lru) {
			lru_unlink(c, s);
			lru_push(c, s);
		} else {
			mc_policy_hit(&c->nodes[s], off, len);
		}
		return true;
	}

	if (c->used < c->capacity) {
		s = c->used++;
	} else if (c->lru) {
		s = c->tail;
		lru_unlink(c, s);
		map_del(&c->map, s);
	} else {
		victim = mc_policy_evict(&c->policy, claim_any, NULL);
		if (!victim) {
			fprintf(stderr, "policy-sim: nothing to evict\n");
			exit(2);
		}
		s = (u32)(victim - c->nodes);
		map_del(&c->map, s);
	}
	map_add(&c->map, s, key);
	if (c->lru)
		lru_push(c, s);
	else
		mc_policy_insert(&c->policy, &c->nodes[s], key, off, len);
	return false;
}

/* ---- trace ---- */

struct params {
	u32 capacity, hot, scan, mix, ghost;
	u64 accesses, seed;
};

struct access {
	u64 key;
	u32 off, len;
};

/* Generates the trace once so both caches see exactly the same accesses. */
static struct access *make_trace(const struct params *pr)
{
	struct access *t = xcalloc(pr->accesses, sizeof(*t));
	u64 scan_left = (u64)pr->scan * (EXTENT_SIZE / SCAN_REQ);
	u64 scan_pos = 0, i;

	rng_state = pr->seed;
	for (i = 0; i < pr->accesses; i++) {
		if (scan_left && (!pr->hot || rng_below(100) < pr->mix)) {
			t[i].key = pr->hot + scan_pos / (EXTENT_SIZE / SCAN_REQ);
			t[i].off = (u32)(scan_pos % (EXTENT_SIZE / SCAN_REQ)) *
				   SCAN_REQ;
			t[i].len = SCAN_REQ;
			scan_pos++;
			scan_left--;
		} else {
			t[i].key = rng_below(pr->hot);
			t[i].off = rng_below(EXTENT_SIZE / HOT_REQ) * HOT_REQ;
			t[i].len = HOT_REQ;
		}
	}
	return t;
}

struct result {
	double all;	/* hits / accesses */
	double hot;	/* hits / accesses, hot-set accesses only */
};

static struct result replay(const struct params *pr, const struct access *t,
			    bool lru)
{
	u64 hits = 0, hot = 0, hot_hits = 0, i;
	struct result r = { 0, 0 };
	struct cache c;
	bool hit;

	cache_init(&c, pr->capacity, pr->ghost, lru);
	for (i = 0; i < pr->accesses; i++) {
		hit = cache_access(&c, t[i].key, t[i].off, t[i].len);
		hits += hit;
		if (t[i].key < pr->hot) {
			hot++;
			hot_hits += hit;
		}
	}
	cache_free(&c);
	if (pr->accesses)
		r.all = (double)hits / (double)pr->accesses;
	if (hot)
		r.hot = (double)hot_hits / (double)hot;
	return r;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: policy-sim [options]\n"
		"  -c, --capacity C   cache slots (1 MiB extents), default 1000\n"
		"  -H, --hot H        hot-set extents, default C/2\n"
		"  -s, --scan S       extents in the one-pass scan, default 10*C\n"
		"  -m, --mix P        %% of accesses that are scan reads while the\n"
		"                     scan lasts, default 90\n"
		"  -n, --accesses N   default: 8*S*100/P (the scan spans the trace)\n"
		"  -g, --ghost G      ghost FIFO keys, default C\n"
		"  -r, --seed X       PRNG seed, default 1\n"
		"      --check        exit 1 unless s3fifo hit ratio >= lru's\n");
}

static unsigned long long parse_num(const char *opt, const char *s)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end) {
		fprintf(stderr, "policy-sim: bad value for %s: %s\n", opt, s);
		exit(2);
	}
	return v;
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "capacity", required_argument, NULL, 'c' },
		{ "hot", required_argument, NULL, 'H' },
		{ "scan", required_argument, NULL, 's' },
		{ "mix", required_argument, NULL, 'm' },
		{ "accesses", required_argument, NULL, 'n' },
		{ "ghost", required_argument, NULL, 'g' },
		{ "seed", required_argument, NULL, 'r' },
		{ "check", no_argument, NULL, 'C' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	long long hot = -1, scan = -1, ghost = -1, accesses = -1;
	struct params pr = { .capacity = 1000, .mix = 90, .seed = 1 };
	struct access *trace;
	struct result s3, lru;
	bool check = false;
	int opt;

	while ((opt = getopt_long(argc, argv, "c:H:s:m:n:g:r:h", longopts,
				  NULL)) != -1) {
		switch (opt) {
		case 'c':
			pr.capacity = (u32)parse_num("--capacity", optarg);
			break;
		case 'H':
			hot = (long long)parse_num("--hot", optarg);
			break;
		case 's':
			scan = (long long)parse_num("--scan", optarg);
			break;
		case 'm':
			pr.mix = (u32)parse_num("--mix", optarg);
			break;
		case 'n':
			accesses = (long long)parse_num("--accesses", optarg);
			break;
		case 'g':
			ghost = (long long)parse_num("--ghost", optarg);
			break;
		case 'r':
			pr.seed = parse_num("--seed", optarg);
			break;
		case 'C':
			check = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind != argc || !pr.capacity || pr.mix > 100) {
		usage(stderr);
		return 2;
	}
	pr.hot = hot >= 0 ? (u32)hot : pr.capacity / 2;
	pr.scan = scan >= 0 ? (u32)scan : pr.capacity * 10;
	pr.ghost = ghost > 0 ? (u32)ghost : pr.capacity;
	if (accesses >= 0)
		pr.accesses = (u64)accesses;
	else if (pr.mix)
		pr.accesses = (u64)pr.scan * (EXTENT_SIZE / SCAN_REQ) * 100 /
			      pr.mix;
	else
		pr.accesses = (u64)pr.scan * (EXTENT_SIZE / SCAN_REQ);
	if (!pr.hot && !pr.scan) {
		fprintf(stderr, "policy-sim: empty trace (hot = scan = 0)\n");
		return 2;
	}

	trace = make_trace(&pr);
	s3 = replay(&pr, trace, false);
	lru = replay(&pr, trace, true);
	free(trace);

	printf("trace hot=%u scan=%u capacity=%u accesses=%llu\n", pr.hot,
	       pr.scan, pr.capacity, (unsigned long long)pr.accesses);
	printf("s3fifo hit ratio %.3f\n", s3.all);
	printf("lru    hit ratio %.3f\n", lru.all);
	printf("s3fifo/lru %.2f\n", lru.all > 0 ? s3.all / lru.all : 0.0);
	/* The scan's 7 of 8 hits are the same for both: the hot set decides. */
	printf("hot-set hit ratio s3fifo %.3f lru %.3f\n", s3.hot, lru.hot);

	if (check && s3.all < lru.all) {
		fprintf(stderr, "policy-sim: check failed: s3fifo %.3f < lru %.3f\n",
			s3.all, lru.all);
		return 1;
	}
	return 0;
}
