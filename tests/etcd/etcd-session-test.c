// SPDX-License-Identifier: MIT
/*
 * peer/etcd_session.c on the event loop against a real etcd (tests/etcd/
 * run.sh starts it and passes its URL and pid): two members see each
 * other, and a third that lists the group in pages of one member sees
 * it whole; one that stops is dropped when its lease ends and is seen again
 * when it comes back with the same id; etcd frozen (SIGSTOP) for less than
 * the TTL changes nothing, and for longer than the TTL the members keep the
 * membership they saw while it is away, then register again and end up
 * seeing each other. One line per check, PASS or FAIL.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>

#include "check_line.h"
#include "etcd_session.h"
#include "loop.h"

#define TTL	2

static struct mc_loop *loop;

struct member {
	struct mc_etcd_session *s;
	size_t n;		/* members seen last */
	size_t min_n;		/* the fewest seen since reset */
	unsigned int calls;
	char name;
};

static void check(bool ok, const char *name, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	check_line(false, ok, name, fmt, ap);
	va_end(ap);
}

static void on_members(void *arg, const struct mc_members *ms)
{
	struct member *m = arg;

	m->n = ms->n;
	if (ms->n < m->min_n)
		m->min_n = ms->n;
	m->calls++;
}

static void on_log(void *arg, int level, const char *msg)
{
	printf("  [%c] %d %s\n", ((struct member *)arg)->name, level, msg);
}

static const struct mc_etcd_session_ops ops = { on_members, on_log };

static void start(struct member *m, const char *url, char name)
{
	struct mc_etcd_session_opts o = {
		.endpoint = url, .prefix = "/maicache-test/g", .ttl_s = TTL,
		/* c lists in pages of one member */
		.list_page = name == 'c' ? 1 : 0,
	};
	char err[256];

	memset(o.me.id.b, name, sizeof(o.me.id.b));
	snprintf(o.me.host, sizeof(o.me.host), "10.0.0.%d", name & 0x7f);
	strcpy(o.me.port, "7117");
	m->name = name;
	m->n = 0;
	m->min_n = SIZE_MAX;
	if (mc_etcd_session_new(&m->s, loop, &o, &ops, m, err, sizeof(err))) {
		printf("FAIL cannot start a session: %s\n", err);
		exit(1);
	}
}

/* Run the loop until cond or secs pass; the result of cond. */
#define RUN_UNTIL(cond, secs) ({					\
	uint64_t end_ = mc_now_ms() + (secs) * 1000ULL;			\
	while (!(cond) && mc_now_ms() < end_)				\
		mc_loop_run_once(loop, 50);				\
	(cond);								\
})

static void run_for(unsigned int ms)
{
	uint64_t end = mc_now_ms() + ms;

	while (mc_now_ms() < end)
		mc_loop_run_once(loop, 50);
}

int main(int argc, char **argv)
{
	struct member a = { 0 }, b = { 0 }, c = { 0 };
	struct mc_etcd_session_stats st;
	char err[256];
	pid_t etcd;

	if (argc != 3) {
		fprintf(stderr, "usage: etcd-session-test URL ETCD_PID\n");
		return 2;
	}
	etcd = (pid_t)atoi(argv[2]);
	if (mc_loop_new(&loop, MC_ENGINE_AUTO, 64, err, sizeof(err))) {
		fprintf(stderr, "loop: %s\n", err);
		return 1;
	}
	start(&a, argv[1], 'a');
	start(&b, argv[1], 'b');
	check(RUN_UNTIL(a.n == 2 && b.n == 2, 10), "two sessions see each other",
	      "a sees %zu, b sees %zu", a.n, b.n);
	/* A third that lists in pages of one: three pages, one list, the whole group. */
	start(&c, argv[1], 'c');
	check(RUN_UNTIL(c.n == 3 && a.n == 3, 10) &&
	      (mc_etcd_session_stats(c.s, &st), st.pages >= 3 && st.lists >= 1),
	      "a member that lists in pages of one sees the whole group",
	      "c sees %zu in %llu pages, %llu lists", c.n, (unsigned long long)st.pages,
	      (unsigned long long)st.lists);
	mc_etcd_session_free(c.s);

	mc_etcd_session_free(b.s);
	check(RUN_UNTIL(a.n == 1, TTL + 5), "a member that stops is dropped when its lease ends",
	      "a sees %zu", a.n);
	start(&b, argv[1], 'b');
	check(RUN_UNTIL(a.n == 2 && b.n == 2, 10), "it comes back with the same id",
	      "a sees %zu, b sees %zu", a.n, b.n);

	/* etcd frozen for less than the TTL: nothing changes. */
	a.min_n = SIZE_MAX;
	kill(etcd, SIGSTOP);
	run_for(TTL * 1000 / 2);
	kill(etcd, SIGCONT);
	run_for(TTL * 1000);
	check(a.min_n == SIZE_MAX || a.min_n == 2, "a short etcd outage changes no membership",
	      "a saw %zu at the least", a.min_n);

	/* Frozen past the TTL: the last membership holds while it is away... */
	a.min_n = b.min_n = SIZE_MAX;
	kill(etcd, SIGSTOP);
	run_for(TTL * 1000 * 3);
	mc_etcd_session_stats(a.s, &st);
	check(a.n == 2 && b.n == 2 && (a.min_n == SIZE_MAX || a.min_n == 2),
	      "etcd away past the TTL: the membership last seen is kept",
	      "a sees %zu (least %zu), b sees %zu", a.n, a.min_n, b.n);
	check(!st.reachable && st.failures > 0, "the outage is noticed",
	      "reachable %d, failures %llu", st.reachable, (unsigned long long)st.failures);
	kill(etcd, SIGCONT);
	/* ...and once it is back, both register again and see each other. */
	check(RUN_UNTIL(a.n == 2 && b.n == 2, 15) &&
	      RUN_UNTIL((mc_etcd_session_stats(a.s, &st), st.registered && st.reachable), 15),
	      "after the outage both are registered and see each other",
	      "a sees %zu, b sees %zu, a registered %d", a.n, b.n, st.registered);
	run_for(TTL * 1000 * 2);
	check(a.n == 2 && b.n == 2, "the membership is stable after the outage",
	      "a sees %zu, b sees %zu", a.n, b.n);

	mc_etcd_session_free(a.s);
	mc_etcd_session_free(b.s);
	mc_loop_free(loop);
	printf("%s: %d failed\n", failures ? "FAIL" : "PASS", failures);
	return failures ? 1 : 0;
}
