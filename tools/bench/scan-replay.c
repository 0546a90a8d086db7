// SPDX-License-Identifier: GPL-2.0
/*
 * scan-replay: replays policy-sim's hot-set-plus-scan trace on a real
 * /dev/maicacheN with O_DIRECT reads, and classifies every access as a hit
 * or a miss from the device's own counters.
 *
 * The trace is generated exactly as tools/sim/policy-sim.c does it (same
 * splitmix64 PRNG, same draws in the same order, same defaults), so
 * `policy-sim` run with the same -c/-H/-s/-m/-n/-r replays the very same
 * access sequence against kmod/policy.c and against a plain LRU. Extent k of
 * the trace is device extent k (1 MiB extents): the hot set is extents
 * [0, H), the scan reads extents [H, H + S) once, in 128 KiB requests.
 *
 * Reads are synchronous (one at a time), so the misses counter in
 * /sys/block/<dev>/maicache/misses moves by exactly one for an access that
 * missed and by zero for one that hit. The first and last 8 bytes of every
 * read are checked against the mc-filler --pattern of --cookie.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "splitmix64.h"

#define EXTENT_SIZE	(1u << 20)
#define SCAN_REQ	(128u << 10)
#define HOT_REQ		(4u << 10)
#define PATTERN_MULT	0x9E3779B97F4A7C15ull

/* policy-sim's PRNG, draw for draw. */
static uint64_t rng_state;

static uint32_t rng_below(uint32_t n)
{
	return splitmix64_below(&rng_state, n);
}

struct access {
	uint64_t key;
	uint32_t off, len;
};

struct params {
	uint32_t capacity, hot, scan, mix;
	uint64_t accesses, seed;
};

/* Same construction as policy-sim's make_trace(). */
static struct access *make_trace(const struct params *pr)
{
	struct access *t = calloc(pr->accesses ? pr->accesses : 1, sizeof(*t));
	uint64_t scan_left = (uint64_t)pr->scan * (EXTENT_SIZE / SCAN_REQ);
	uint64_t scan_pos = 0, i;

	if (!t) {
		fprintf(stderr, "scan-replay: out of memory\n");
		exit(2);
	}
	rng_state = pr->seed;
	for (i = 0; i < pr->accesses; i++) {
		if (scan_left && (!pr->hot || rng_below(100) < pr->mix)) {
			t[i].key = pr->hot + scan_pos / (EXTENT_SIZE / SCAN_REQ);
			t[i].off = (uint32_t)(scan_pos % (EXTENT_SIZE / SCAN_REQ)) *
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

static uint64_t read_counter(int fd, const char *name)
{
	char buf[32];
	ssize_t n = pread(fd, buf, sizeof(buf) - 1, 0);

	if (n <= 0) {
		fprintf(stderr, "scan-replay: cannot read %s: %s\n", name,
			n < 0 ? strerror(errno) : "empty");
		exit(2);
	}
	buf[n] = 0;
	return strtoull(buf, NULL, 10);
}

/*
 * Extents the reads themselves missed: misses less what readahead sent
 * (pfd -1 on a module without readahead). An access that finds its extent
 * fetched ahead, filled or in flight, is a hit: it did not send a miss.
 */
static uint64_t demand_misses(int mfd, int pfd)
{
	uint64_t m = read_counter(mfd, "misses");

	return pfd < 0 ? m : m - read_counter(pfd, "prefetched");
}

static unsigned long long parse_num(const char *opt, const char *s)
{
	unsigned long long v;
	char *end;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end) {
		fprintf(stderr, "scan-replay: bad value for %s: %s\n", opt, s);
		exit(2);
	}
	return v;
}

static void usage(FILE *f)
{
	fprintf(f,
		"usage: scan-replay --dev /dev/maicacheN [options]\n"
		"Replays policy-sim's trace on the device (O_DIRECT) and prints the\n"
		"hit ratios measured from the device's counters.\n"
		"  -d, --dev PATH     the maicache device (1 MiB extents)\n"
		"  -c, --capacity C   cache slots, default 1000 (only for the defaults below)\n"
		"  -H, --hot H        hot-set extents, default C/2\n"
		"  -s, --scan S       extents in the one-pass scan, default 10*C\n"
		"  -m, --mix P        %% of accesses that are scan reads while the scan\n"
		"                     lasts, default 90\n"
		"  -n, --accesses N   default: 8*S*100/P\n"
		"  -r, --seed X       PRNG seed, default 1\n"
		"  -k, --cookie C     check the data against mc-filler --pattern of C\n"
		"  -l, --log FILE     write one line per access: i key off len hit\n"
		"options -c -H -s -m -n -r mean exactly what they mean to policy-sim.\n");
}

int main(int argc, char **argv)
{
	static const struct option longopts[] = {
		{ "dev", required_argument, NULL, 'd' },
		{ "capacity", required_argument, NULL, 'c' },
		{ "hot", required_argument, NULL, 'H' },
		{ "scan", required_argument, NULL, 's' },
		{ "mix", required_argument, NULL, 'm' },
		{ "accesses", required_argument, NULL, 'n' },
		{ "seed", required_argument, NULL, 'r' },
		{ "cookie", required_argument, NULL, 'k' },
		{ "log", required_argument, NULL, 'l' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct params pr = { .capacity = 1000, .mix = 90, .seed = 1 };
	long long hot = -1, scan = -1, accesses = -1;
	const char *dev = NULL, *logpath = NULL;
	uint64_t cookie = 0, i, m0, m_prev, h0, h1, m1;
	bool check = false;
	uint64_t n_hot = 0, hot_hits = 0, n_scan = 0, scan_hits = 0;
	uint64_t post = 0, post_hits = 0, scan_end = 0, bad = 0;
	char path[512], *name;
	int fd, mfd, hfd, pfd, opt;
	struct timespec t0, t1;
	struct access *t;
	FILE *logf = NULL;
	uint8_t *buf;

	while ((opt = getopt_long(argc, argv, "d:c:H:s:m:n:r:k:l:h", longopts,
				  NULL)) != -1) {
		switch (opt) {
		case 'd': dev = optarg; break;
		case 'c': pr.capacity = (uint32_t)parse_num("--capacity", optarg); break;
		case 'H': hot = (long long)parse_num("--hot", optarg); break;
		case 's': scan = (long long)parse_num("--scan", optarg); break;
		case 'm': pr.mix = (uint32_t)parse_num("--mix", optarg); break;
		case 'n': accesses = (long long)parse_num("--accesses", optarg); break;
		case 'r': pr.seed = parse_num("--seed", optarg); break;
		case 'k': cookie = parse_num("--cookie", optarg); check = true; break;
		case 'l': logpath = optarg; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc || !dev || !pr.capacity || pr.mix > 100) {
		usage(stderr);
		return 2;
	}
	pr.hot = hot >= 0 ? (uint32_t)hot : pr.capacity / 2;
	pr.scan = scan >= 0 ? (uint32_t)scan : pr.capacity * 10;
	if (accesses >= 0)
		pr.accesses = (uint64_t)accesses;
	else if (pr.mix)
		pr.accesses = (uint64_t)pr.scan * (EXTENT_SIZE / SCAN_REQ) * 100 / pr.mix;
	else
		pr.accesses = (uint64_t)pr.scan * (EXTENT_SIZE / SCAN_REQ);
	if (!pr.hot && !pr.scan) {
		fprintf(stderr, "scan-replay: empty trace (hot = scan = 0)\n");
		return 2;
	}

	fd = open(dev, O_RDONLY | O_DIRECT);
	if (fd < 0) {
		fprintf(stderr, "scan-replay: %s: %s\n", dev, strerror(errno));
		return 2;
	}
	name = strrchr(dev, '/');
	name = name ? name + 1 : (char *)dev;
	snprintf(path, sizeof(path), "/sys/block/%s/maicache/misses", name);
	mfd = open(path, O_RDONLY);
	snprintf(path, sizeof(path), "/sys/block/%s/maicache/hits", name);
	hfd = open(path, O_RDONLY);
	snprintf(path, sizeof(path), "/sys/block/%s/maicache/prefetched", name);
	pfd = open(path, O_RDONLY);
	if (mfd < 0 || hfd < 0) {
		fprintf(stderr, "scan-replay: no maicache counters for %s\n", dev);
		return 2;
	}
	if (logpath && !(logf = fopen(logpath, "w"))) {
		fprintf(stderr, "scan-replay: %s: %s\n", logpath, strerror(errno));
		return 2;
	}
	if (posix_memalign((void **)&buf, 4096, SCAN_REQ)) {
		fprintf(stderr, "scan-replay: out of memory\n");
		return 2;
	}

	t = make_trace(&pr);
	h0 = read_counter(hfd, "hits");
	m0 = m_prev = demand_misses(mfd, pfd);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (i = 0; i < pr.accesses; i++) {
		uint64_t pos = t[i].key * EXTENT_SIZE + t[i].off, m, w0, w1;
		ssize_t n = pread(fd, buf, t[i].len, (off_t)pos);
		bool hit;

		if (n != (ssize_t)t[i].len) {
			fprintf(stderr, "scan-replay: read %u at %" PRIu64 ": %s\n",
				t[i].len, pos, n < 0 ? strerror(errno) : "short");
			return 1;
		}
		if (check) {
			memcpy(&w0, buf, 8);
			memcpy(&w1, buf + t[i].len - 8, 8);
			if (le64toh(w0) != (pos ^ (cookie * PATTERN_MULT)) ||
			    le64toh(w1) != ((pos + t[i].len - 8) ^ (cookie * PATTERN_MULT)))
				bad++;
		}
		m = demand_misses(mfd, pfd);
		if (m - m_prev > 1) {
			fprintf(stderr, "scan-replay: access %" PRIu64 " moved misses by %" PRIu64
				" (someone else is reading the device?)\n", i, m - m_prev);
			return 1;
		}
		hit = m == m_prev;
		m_prev = m;
		if (t[i].key < pr.hot) {
			n_hot++;
			hot_hits += hit;
			if (scan_end) {
				post++;
				post_hits += hit;
			}
		} else {
			n_scan++;
			scan_hits += hit;
			if (t[i].key == pr.hot + pr.scan - 1 &&
			    t[i].off == EXTENT_SIZE - SCAN_REQ)
				scan_end = i + 1;
		}
		if (logf)
			fprintf(logf, "%" PRIu64 " %" PRIu64 " %u %u %d\n", i,
				t[i].key, t[i].off, t[i].len, hit);
	}
	clock_gettime(CLOCK_MONOTONIC, &t1);
	h1 = read_counter(hfd, "hits");
	m1 = demand_misses(mfd, pfd);
	if (logf)
		fclose(logf);

	printf("trace hot=%u scan=%u capacity=%u accesses=%" PRIu64 " mix=%u seed=%" PRIu64 "\n",
	       pr.hot, pr.scan, pr.capacity, pr.accesses, pr.mix, pr.seed);
	printf("device %s: %" PRIu64 " hits, %" PRIu64 " misses of the reads (counter deltas) in %.1f s\n",
	       dev, h1 - h0, m1 - m0,
	       (double)(t1.tv_sec - t0.tv_sec) + (double)(t1.tv_nsec - t0.tv_nsec) / 1e9);
	printf("maicache hit ratio %.3f\n",
	       pr.accesses ? 1.0 - (double)(m1 - m0) / (double)pr.accesses : 0.0);
	printf("scan accesses %" PRIu64 ", hits %" PRIu64 ", ratio %.3f\n", n_scan,
	       scan_hits, n_scan ? (double)scan_hits / (double)n_scan : 0.0);
	printf("hot-set accesses %" PRIu64 ", hits %" PRIu64 ", hit ratio maicache %.3f\n",
	       n_hot, hot_hits, n_hot ? (double)hot_hits / (double)n_hot : 0.0);
	if (post)
		printf("hot-set after the scan: accesses %" PRIu64 ", hits %" PRIu64 ", ratio %.3f\n",
		       post, post_hits, (double)post_hits / (double)post);
	if (check)
		printf("data check: %" PRIu64 " bad reads\n", bad);
	return bad ? 1 : 0;
}
