// SPDX-License-Identifier: MIT
/*
 * maicache-agent: the node agent of the Kubernetes deployment
 * (docs/kubernetes.md). It attaches the datasets of its datasets file
 * through maicached, mounts them read-only where the host (and so the
 * training pods) sees them, keeps them so while it runs, and takes them
 * away again on SIGTERM (reconcile.h).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "alive.h"
#include "datasets.h"
#include "log.h"
#include "parse.h"
#include "reconcile.h"

#define DATASETS_DEFAULT	"/etc/maicache-agent/datasets"
#define STATE_DIR_DEFAULT	"/var/lib/maicache-agent"
/* A pass that left something wrong is tried again this soon. */
#define RETRY_MS		5000

static void usage(FILE *f)
{
	fprintf(f,
		"usage: maicache-agent [options]          attach and mount the datasets, keep them\n"
		"       maicache-agent --check [options]  is every dataset attached and mounted? (0: yes)\n"
		"       maicache-agent --alive [--state-dir DIR] [--interval DURATION]\n"
		"                                         did the running agent's loop turn lately? (0: yes)\n"
		"       maicache-agent --check-file [-f FILE] [--mount-root DIR]\n"
		"                                         is the datasets file valid? (0: yes)\n"
		"options:\n"
		"  -f, --datasets FILE     the datasets file (default " DATASETS_DEFAULT ")\n"
		"  --mount-root DIR        mounts must lie under DIR (the host directory the pod shares)\n"
		"  --state-dir DIR         the agent's record (default " STATE_DIR_DEFAULT ")\n"
		"  --socket PATH           maicached's control socket (default $MAICACHE_SOCKET,\n"
		"                          else /run/maicache/maicached.sock)\n"
		"  --interval DURATION     re-read the file and check every dataset this often (30s)\n"
		"  --device-timeout DUR    wait this long for a device node to appear (10s)\n"
		"  --grace DURATION        on SIGTERM, retry busy unmounts this long (20s)\n"
		"SIGHUP: re-read the file now. SIGTERM, SIGINT: unmount and detach every dataset, exit.\n"
		"Durations: milliseconds, or a number with ms or s.\n");
}

static int parse_duration(const char *opt, const char *s, unsigned int *out)
{
	uint64_t v;

	if (mc_parse_ms(s, &v) || v < 100 || v > 3600 * 1000) {
		fprintf(stderr, "maicache-agent: %s: '%s' is not a duration from 100ms to 3600s\n",
			opt, s);
		return -1;
	}
	*out = (unsigned int)v;
	return 0;
}

struct options {
	const char *datasets, *mount_root, *state_dir, *socket;
	unsigned int interval_ms, device_timeout_ms, grace_ms;
	bool check, check_file, alive;
};

static int parse_options(int argc, char **argv, struct options *o)
{
	static const struct option opts[] = {
		{ "datasets", required_argument, NULL, 'f' },
		{ "mount-root", required_argument, NULL, 'r' },
		{ "state-dir", required_argument, NULL, 'd' },
		{ "socket", required_argument, NULL, 'S' },
		{ "interval", required_argument, NULL, 'i' },
		{ "device-timeout", required_argument, NULL, 't' },
		{ "grace", required_argument, NULL, 'g' },
		{ "check", no_argument, NULL, 'c' },
		{ "check-file", no_argument, NULL, 'C' },
		{ "alive", no_argument, NULL, 'A' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	int c;

	*o = (struct options){
		.datasets = DATASETS_DEFAULT, .state_dir = STATE_DIR_DEFAULT,
		.interval_ms = 30000, .device_timeout_ms = 10000, .grace_ms = 20000,
	};
	while ((c = getopt_long(argc, argv, "f:h", opts, NULL)) != -1) {
		switch (c) {
		case 'f': o->datasets = optarg; break;
		case 'r': o->mount_root = optarg; break;
		case 'd': o->state_dir = optarg; break;
		case 'S': o->socket = optarg; break;
		case 'i':
			if (parse_duration("--interval", optarg, &o->interval_ms))
				return 2;
			break;
		case 't':
			if (parse_duration("--device-timeout", optarg, &o->device_timeout_ms))
				return 2;
			break;
		case 'g':
			if (parse_duration("--grace", optarg, &o->grace_ms))
				return 2;
			break;
		case 'c': o->check = true; break;
		case 'C': o->check_file = true; break;
		case 'A': o->alive = true; break;
		case 'h': usage(stdout); exit(0);
		default: usage(stderr); return 2;
		}
	}
	if (optind != argc) {
		usage(stderr);
		return 2;
	}
	return 0;
}

static bool same_sets(const struct mc_datasets *a, const struct mc_datasets *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++)
		if (!mc_dataset_same(&a->ds[i], &b->ds[i]))
			return false;
	return true;
}

/*
 * Read the file again. A file that does not load changes nothing: the
 * datasets of the last good one stay (its error is logged once).
 */
static void reload(struct mc_agent *a, const struct options *o, char *last_err, size_t len)
{
	struct mc_datasets fresh;
	char err[1024];

	if (mc_datasets_load(o->datasets, o->mount_root, &fresh, err, sizeof(err))) {
		if (strcmp(err, last_err))
			mc_agent_log(MC_AGENT_ERROR, "%s; keeping the %zu dataset(s) of the last good file",
				     err, a->want.n);
		snprintf(last_err, len, "%s", err);
		return;
	}
	last_err[0] = '\0';
	if (same_sets(&fresh, &a->want)) {
		mc_datasets_free(&fresh);
		return;
	}
	mc_agent_log(MC_AGENT_INFO, "%s changed: %zu dataset(s)", o->datasets, fresh.n);
	mc_datasets_free(&a->want);
	a->want = fresh;
}

/* The heartbeat of the liveness probe (alive.h); a failure is said once. */
static void beat(const struct options *o)
{
	static int last_err;
	int ret = mc_agent_beat(o->state_dir);

	if (ret && ret != last_err)
		mc_agent_log(MC_AGENT_WARN, "%s/%s: %s: the liveness probe will fail",
			     o->state_dir, MC_ALIVE_FILE, strerror(-ret));
	last_err = ret;
}

static int run(const struct options *o, struct mc_datasets *initial)
{
	struct mc_agent a = { .socket = o->socket, .device_timeout_ms = o->device_timeout_ms };
	char err[1024], last_err[1024] = "";
	struct timespec ts;
	sigset_t set;
	unsigned int wait_ms;
	int sig, bad, left;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	if (mc_agent_init(&a, o->state_dir, err, sizeof(err))) {
		fprintf(stderr, "maicache-agent: the record: %s\n", err);
		mc_agent_free(&a);
		mc_datasets_free(initial);
		return 2;
	}
	a.want = *initial;
	mc_agent_log(MC_AGENT_INFO, "started: %zu dataset(s) in %s, %zu recorded in %s",
		     a.want.n, o->datasets, a.have.n, a.state_path);
	beat(o);
	for (;;) {
		bad = mc_agent_reconcile(&a);
		beat(o);
		wait_ms = bad && RETRY_MS < o->interval_ms ? RETRY_MS : o->interval_ms;
		ts.tv_sec = wait_ms / 1000;
		ts.tv_nsec = (long)(wait_ms % 1000) * 1000000;
		sig = sigtimedwait(&set, NULL, &ts);
		if (sig == SIGTERM || sig == SIGINT)
			break;
		reload(&a, o, last_err, sizeof(last_err));
	}
	mc_agent_log(MC_AGENT_INFO, "%s: unmounting and detaching %zu dataset(s)",
		     strsignal(sig), a.have.n);
	left = mc_agent_teardown(&a, o->grace_ms);
	if (!left)
		mc_agent_log(MC_AGENT_INFO, "stopped: every dataset unmounted and detached");
	mc_agent_free(&a);
	return left ? 1 : 0;
}

int main(int argc, char **argv)
{
	struct mc_datasets want;
	struct options o;
	char err[1024];
	int ret;

	ret = parse_options(argc, argv, &o);
	if (ret)
		return ret;
	/* The liveness probe needs no datasets file: only the heartbeat. */
	if (o.alive) {
		ret = mc_agent_alive(o.state_dir, o.interval_ms, err, sizeof(err));
		printf("%s\n", err);
		return ret;
	}
	if (mc_datasets_load(o.datasets, o.mount_root, &want, err, sizeof(err))) {
		fprintf(stderr, "maicache-agent: %s\n", err);
		return 2;
	}
	if (o.check_file) {
		printf("%s: %zu dataset(s)", o.datasets, want.n);
		for (size_t i = 0; i < want.n; i++)
			printf("%s %s", i ? "," : ":", want.ds[i].name);
		printf("\n");
		mc_datasets_free(&want);
		return 0;
	}
	if (o.check) {
		ret = mc_agent_check(o.socket, &want);
		mc_datasets_free(&want);
		return ret ? 1 : 0;
	}
	return run(&o, &want);
}
