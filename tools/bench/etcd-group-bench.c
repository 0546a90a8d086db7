// SPDX-License-Identifier: MIT
/*
 * etcd-group-bench: the control plane of one cache group, measured. N
 * members' etcd sessions (peer/etcd_session.c, the code every daemon runs)
 * share one event loop in this process and join one prefix of a real etcd
 * at once, as a group does when its nodes boot together. Reported:
 *
 *   join     the time until every member sees all N, the watch events
 *            that took (each join reaches every watcher: about N x N / 2
 *            when they come one by one), and etcd's CPU for it
 *   steady   over --seconds: lease keepalives a second (etcd's writes
 *            from a group at rest; each member every TTL/3), etcd's CPU
 *            and resident memory
 *   one join the time until all N see one more member (the median and
 *            the slowest)
 *   state    the membership and placement state one node holds for N
 *
 * etcd's CPU and memory are read from /proc/ETCD_PID. This process plays
 * all N clients, so its own CPU (also printed) is the clients' share, not
 * etcd's: the client side is N times cheaper on real nodes.
 *
 *   etcd-group-bench URL ETCD_PID [--members N] [--ttl S] [--seconds S]
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "etcd_session.h"
#include "loop.h"
#include "placement.h"

struct member {
	struct mc_etcd_session *s;
	size_t n;		/* members seen last */
	uint64_t saw_ms;	/* when it first saw `want` members */
};

static struct mc_loop *loop;
static struct member *mem;
static size_t want;		/* the membership every member should reach */
static uint64_t errors, warnings;

static void on_members(void *arg, const struct mc_members *ms)
{
	struct member *m = arg;

	m->n = ms->n;
	if (ms->n == want && !m->saw_ms)
		m->saw_ms = mc_now_ms();
}

static void on_log(void *arg, int level, const char *msg)
{
	(void)arg;
	if (level == 0 && errors++ < 5)
		fprintf(stderr, "etcd-group-bench: %s\n", msg);
	/* A session says a failure once per outage: the first few show why. */
	if (level == 1 && warnings++ < 5)
		fprintf(stderr, "etcd-group-bench: %s\n", msg);
}

static const struct mc_etcd_session_ops ops = { on_members, on_log };

static int start(struct member *m, const char *url, unsigned int ttl, size_t i)
{
	struct mc_etcd_session_opts o = {
		.endpoint = url, .prefix = "/maicache-bench/g", .ttl_s = ttl,
	};
	char err[256];

	memcpy(o.me.id.b, &i, sizeof(i) < sizeof(o.me.id.b) ? sizeof(i) : sizeof(o.me.id.b));
	snprintf(o.me.host, sizeof(o.me.host), "10.%zu.%zu.%zu", (i >> 16) & 255,
		 (i >> 8) & 255, i & 255);
	strcpy(o.me.port, "7117");
	m->n = 0;
	m->saw_ms = 0;
	if (mc_etcd_session_new(&m->s, loop, &o, &ops, m, err, sizeof(err))) {
		fprintf(stderr, "etcd-group-bench: member %zu: %s\n", i, err);
		return -1;
	}
	return 0;
}

/* CPU seconds (user + system) of pid, from /proc/pid/stat. */
static double cpu_s(pid_t pid)
{
	unsigned long long ut = 0, st = 0;
	char path[64], buf[1024], *p;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/stat", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	if (!fgets(buf, sizeof(buf), f)) {
		fclose(f);
		return -1;
	}
	fclose(f);
	/* After the command name's closing parenthesis: fields 3 on. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %llu %llu",
			 &ut, &st) != 2)
		return -1;
	return (double)(ut + st) / sysconf(_SC_CLK_TCK);
}

static double rss_mib(pid_t pid)
{
	char path[64], line[256];
	double kib = -1;
	FILE *f;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	f = fopen(path, "r");
	if (!f)
		return -1;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "VmRSS: %lf kB", &kib) == 1)
			break;
	fclose(f);
	return kib / 1024;
}

static double self_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec +
	       (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Run the loop until the first k members see `want`, or secs pass. */
static bool run_until_seen(size_t k, unsigned int secs)
{
	uint64_t end = mc_now_ms() + secs * 1000ULL;

	for (;;) {
		size_t i;

		for (i = 0; i < k && mem[i].saw_ms; i++)
			;
		if (i == k)
			return true;
		if (mc_now_ms() >= end)
			return false;
		mc_loop_run_once(loop, 50);
	}
}

static void run_for(unsigned int ms)
{
	uint64_t end = mc_now_ms() + ms;

	while (mc_now_ms() < end)
		mc_loop_run_once(loop, 50);
}

static void sum_stats(size_t k, uint64_t *keepalives, uint64_t *events, uint64_t *failures)
{
	struct mc_etcd_session_stats st;

	*keepalives = *events = *failures = 0;
	for (size_t i = 0; i < k; i++) {
		mc_etcd_session_stats(mem[i].s, &st);
		*keepalives += st.keepalives;
		*events += st.events;
		*failures += st.failures;
	}
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return x < y ? -1 : x > y;
}

static void usage(void)
{
	fprintf(stderr, "usage: etcd-group-bench URL ETCD_PID [--members N] [--ttl S] "
		"[--seconds S]\n");
	exit(2);
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "members", required_argument, NULL, 'n' },
		{ "ttl", required_argument, NULL, 't' },
		{ "seconds", required_argument, NULL, 's' },
		{ 0 }
	};
	unsigned int ttl = 10, seconds = 30;
	size_t n = 100;
	uint64_t t0, ka0, ka1, ev, fails, *lat;
	double ecpu0, ecpu1, scpu0, scpu1;
	struct mc_placement pl = { 0 };
	struct mc_node_id *ids;
	const char *url;
	char err[256];
	pid_t etcd;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 'n')
			n = strtoull(optarg, NULL, 10);
		else if (c == 't')
			ttl = (unsigned int)strtoul(optarg, NULL, 10);
		else if (c == 's')
			seconds = (unsigned int)strtoul(optarg, NULL, 10);
		else
			usage();
	}
	if (argc - optind != 2 || n < 2 || !ttl || !seconds)
		usage();
	url = argv[optind];
	etcd = (pid_t)atoi(argv[optind + 1]);
	mem = calloc(n + 1, sizeof(*mem));
	lat = calloc(n + 1, sizeof(*lat));
	ids = calloc(n, sizeof(*ids));
	if (!mem || !lat || !ids || cpu_s(etcd) < 0 ||
	    mc_loop_new(&loop, MC_ENGINE_AUTO, 64, err, sizeof(err))) {
		fprintf(stderr, "etcd-group-bench: cannot start (no memory, no etcd pid %d, "
			"or the loop)\n", (int)etcd);
		return 1;
	}

	/* The group boots: every member joins at once. */
	want = n;
	ecpu0 = cpu_s(etcd);
	scpu0 = self_cpu_s();
	t0 = mc_now_ms();
	for (size_t i = 0; i < n; i++)
		if (start(&mem[i], url, ttl, i))
			return 1;
	if (!run_until_seen(n, 600)) {
		size_t short_of = 0;

		for (size_t i = 0; i < n; i++)
			short_of += !mem[i].saw_ms;
		fprintf(stderr, "etcd-group-bench: %zu of %zu members did not see all %zu in 600 s\n",
			short_of, n, n);
		return 1;
	}
	ecpu1 = cpu_s(etcd);
	scpu1 = self_cpu_s();
	sum_stats(n, &ka0, &ev, &fails);
	printf("etcd-group-bench: %zu members, lease TTL %u s\n", n, ttl);
	printf("  join: all see all %zu after %.2f s; %llu watch events delivered "
	       "(%.0f per member); etcd %.1f CPU-s; the clients %.1f CPU-s; %llu failed requests\n",
	       n, (mc_now_ms() - t0) / 1e3, (unsigned long long)ev, (double)ev / n,
	       ecpu1 - ecpu0, scpu1 - scpu0, (unsigned long long)fails);

	/* At rest: keepalives only. */
	ecpu0 = cpu_s(etcd);
	scpu0 = self_cpu_s();
	t0 = mc_now_ms();
	run_for(seconds * 1000);
	sum_stats(n, &ka1, &ev, &fails);
	ecpu1 = cpu_s(etcd);
	scpu1 = self_cpu_s();
	{
		double secs = (mc_now_ms() - t0) / 1e3;

		printf("  steady (%.0f s): %.0f lease keepalives/s (%.0f expected: N x 3 / TTL); "
		       "etcd %.1f%% of a core, %.0f MiB resident; the clients %.1f%% of a core\n",
		       secs, (ka1 - ka0) / secs, n * 3.0 / ttl, 100 * (ecpu1 - ecpu0) / secs,
		       rss_mib(etcd), 100 * (scpu1 - scpu0) / secs);
	}

	/* One more member joins: how long until every member has seen it. */
	want = n + 1;
	for (size_t i = 0; i < n; i++)
		mem[i].saw_ms = 0;
	t0 = mc_now_ms();
	if (start(&mem[n], url, ttl, n))
		return 1;
	if (!run_until_seen(n + 1, 120)) {
		fprintf(stderr, "etcd-group-bench: a join did not reach every member in 120 s\n");
		return 1;
	}
	for (size_t i = 0; i < n; i++)
		lat[i] = mem[i].saw_ms - t0;
	qsort(lat, n, sizeof(*lat), cmp_u64);
	printf("  one join: seen by all %zu after %llu ms (median %llu ms; it registers "
	       "first: a grant and a put)\n", n, (unsigned long long)lat[n - 1],
	       (unsigned long long)lat[n / 2]);

	/* What one node keeps for the group: members and the placement. */
	for (size_t i = 0; i < n; i++)
		memcpy(&ids[i], &i, sizeof(i) < sizeof(ids[i]) ? sizeof(i) : sizeof(ids[i]));
	if (!mc_placement_set(&pl, ids, n))
		printf("  state per node: %.1f KiB of members (%zu B each) and %.1f KiB of "
		       "placement (%zu B each)\n", n * sizeof(struct mc_member) / 1024.0,
		       sizeof(struct mc_member), n * sizeof(*pl.nodes) / 1024.0, sizeof(*pl.nodes));
	mc_placement_free(&pl);
	printf("  %llu errors and %llu warnings logged by the sessions\n",
	       (unsigned long long)errors, (unsigned long long)warnings);
	for (size_t i = 0; i <= n; i++)
		mc_etcd_session_free(mem[i].s);
	mc_loop_free(loop);
	free(mem);
	free(lat);
	free(ids);
	return 0;
}
