// SPDX-License-Identifier: MIT
/*
 * maicachectl: control CLI for the maicache module and daemon.
 */
#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dev_claim.h"
#include "parse.h"
#include "json.h"
#include "maicache_version.h"
#include "maicachectl.h"
#include "nlclient.h"

bool json;

static void usage(FILE *f)
{
	fprintf(f,
		"usage: maicachectl [--json] [--socket PATH] <command> [args]\n"
		"\n"
		"commands (through maicached):\n"
		"  attach SOURCE [--extent-size N] [--name NAME] [credentials]\n"
		"                                serve a blob or file as /dev/maicacheN;\n"
		"                                prints the path (attach --help: credentials)\n"
		"  detach DEVICE|ID|NAME|URL [--force]\n"
		"                                stop serving it and remove the device (--force:\n"
		"                                even while mounted; its readers get EIO)\n"
		"\n"
		"commands (the module):\n"
		"  version                       versions of maicachectl and the module\n"
		"  add --size N --cookie C [--extent-size N] [--block-size N] [--id N]\n"
		"                                create /dev/maicacheN and print its path\n"
		"  remove ID [--force]           remove /dev/maicacheID (--force: even while mounted)\n"
		"  list                          the devices (and their sources)\n"
		"  stats [ID]                    counters of a device, or of the daemon\n"
		"  peers                         the daemon's cache group: members, shares, bytes\n"
		"                                and every device\n"
		"  pool [--size N] [--daemon-timeout-ms MS]\n"
		"                                show (or set) the pool and daemon state\n"
		"  monitor                       print events as they happen\n"
		"  warmup NAME|/dev/maicacheN|ID [--range START-END]\n"
		"  warmup PATH...                fetch a device's extents, or those of files on\n"
		"                                it, into the pool before they are read\n"
		"  top [--once | --iterations N] every device live: hit ratio, MiB/s, fills\n"
		"\n"
		"Sizes take K, M, G or T suffixes (powers of 1024).\n"
		"options:\n"
		"  -j, --json  machine-readable output\n"
		"  --socket PATH  maicached's control socket (default $MAICACHE_SOCKET,\n"
		"                 else /run/maicache/maicached.sock)\n"
		"  -h, --help  this text\n");
}

int fail(const char *err)
{
	fprintf(stderr, "maicachectl: %s\n", err);
	return 1;
}

/* "64K", "1M", "4096" (config.c's rule) or "0x..." : bytes, or -1 with a message. */
int parse_size(const char *opt, const char *s, uint64_t *out)
{
	char *end;

	if (s[0] == '0' && (s[1] == 'x' || s[1] == 'X') && isxdigit((unsigned char)s[2])) {
		errno = 0;
		*out = strtoull(s + 2, &end, 16);
		if (!errno && !*end)
			return 0;
	} else if (!mc_parse_size(s, out)) {
		return 0;
	}
	fprintf(stderr, "maicachectl: %s: '%s' is not a size (e.g. 4096, 64K, 1G, 0x1000)\n",
		opt, s);
	return -1;
}

int parse_u32(const char *opt, const char *s, uint32_t *out)
{
	uint64_t v;

	if (parse_size(opt, s, &v))
		return -1;
	if (v > UINT32_MAX) {
		fprintf(stderr, "maicachectl: %s: '%s' is too large\n", opt, s);
		return -1;
	}
	*out = (uint32_t)v;
	return 0;
}

static struct mc_nl *connect_or_die(void)
{
	char err[256];
	struct mc_nl *nl = mc_nl_open(err, sizeof(err));

	if (!nl) {
		fail(err);
		exit(1);
	}
	return nl;
}

static int cmd_version(void)
{
	struct mc_nl *nl = connect_or_die();
	struct mc_version v;
	char err[256];
	int ret;

	ret = mc_nl_get_version(nl, &v, err, sizeof(err));
	mc_nl_close(nl);
	if (ret)
		return fail(err);
	if (json) {
		printf("{\"maicachectl\":");
		mc_json_str(stdout, MAICACHE_VERSION);
		mc_json_member(stdout, "module", v.version);
		printf(",\"genl_version\":%u}\n", v.genl_version);
	} else
		printf("maicachectl %s\nmodule %s (netlink family v%u)\n",
		       MAICACHE_VERSION, v.version, v.genl_version);
	return 0;
}

static void print_dev(const struct mc_dev_info *d, bool stats)
{
	const struct mc_dev_stats *s = &d->stats;
	int i;

	if (json) {
		char path[64];

		snprintf(path, sizeof(path), "/dev/%s", d->name);
		printf("{\"id\":%u", d->id);
		mc_json_member(stdout, "name", d->name);
		mc_json_member(stdout, "path", path);
		printf(",\"size\":%" PRIu64 ",\"block_size\":%u,\"extent_size\":%u,\"cookie\":%" PRIu64,
		       d->size, d->block_size, d->extent_size, d->cookie);
		if (stats) {
			printf(",\"hits\":%" PRIu64 ",\"misses\":%" PRIu64
			       ",\"bytes_hit\":%" PRIu64 ",\"bytes_filled\":%" PRIu64
			       ",\"evictions\":%" PRIu64 ",\"fill_errors\":%" PRIu64
			       ",\"prefetched\":%" PRIu64 ",\"prefetch_used\":%" PRIu64
			       ",\"prefetch_unused\":%" PRIu64 ",\"warmed\":%" PRIu64
			       ",\"fill_latency_ns\":%" PRIu64 ",\"fill_latency_us\":[",
			       s->hits, s->misses, s->bytes_hit, s->bytes_filled,
			       s->evictions, s->fill_errors, s->prefetched, s->prefetch_used,
			       s->prefetch_unused, s->warmed, s->fill_latency_ns);
			for (i = 0; i < MAICACHE_FILL_LATENCY_BUCKETS; i++)
				printf("%s%" PRIu64, i ? "," : "", s->fill_latency[i]);
			printf("]");
		}
		/* The caller closes the object: it may add fields. */
		return;
	}
	printf("/dev/%s size %" PRIu64 " block %u extent %u cookie 0x%" PRIx64 "\n",
	       d->name, d->size, d->block_size, d->extent_size, d->cookie);
	if (!stats)
		return;
	printf("  hits %" PRIu64 " misses %" PRIu64 " hit ratio %.3f\n",
	       s->hits, s->misses,
	       s->hits + s->misses ? (double)s->hits / (s->hits + s->misses) : 0.0);
	printf("  bytes from DRAM %" PRIu64 " bytes filled %" PRIu64 "\n",
	       s->bytes_hit, s->bytes_filled);
	printf("  evictions %" PRIu64 " fill errors %" PRIu64 "\n",
	       s->evictions, s->fill_errors);
	printf("  fetched ahead %" PRIu64 " read since %" PRIu64 " evicted unread %" PRIu64 "\n",
	       s->prefetched, s->prefetch_used, s->prefetch_unused);
	printf("  warmed %" PRIu64 " (fetched by maicachectl warmup)\n", s->warmed);
	printf("  fill latency (us: count):");
	for (i = 0; i < MAICACHE_FILL_LATENCY_BUCKETS; i++) {
		if (!s->fill_latency[i])
			continue;
		if (i == MAICACHE_FILL_LATENCY_BUCKETS - 1)
			printf(" >=%llu:%" PRIu64, 1ULL << (i - 1), s->fill_latency[i]);
		else
			printf(" <%llu:%" PRIu64, 1ULL << i, s->fill_latency[i]);
	}
	printf("\n");
}

static int cmd_add(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "size", required_argument, NULL, 's' },
		{ "cookie", required_argument, NULL, 'c' },
		{ "extent-size", required_argument, NULL, 'e' },
		{ "block-size", required_argument, NULL, 'b' },
		{ "id", required_argument, NULL, 'i' },
		{ NULL, 0, NULL, 0 },
	};
	struct mc_dev_spec spec = { 0 };
	bool has_size = false, has_cookie = false;
	struct mc_dev_info d;
	struct mc_nl *nl;
	char err[256];
	int c, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's':
			if (parse_size("--size", optarg, &spec.size))
				return 2;
			has_size = true;
			break;
		case 'c':
			if (parse_size("--cookie", optarg, &spec.cookie))
				return 2;
			has_cookie = true;
			break;
		case 'e':
			if (parse_u32("--extent-size", optarg, &spec.extent_size))
				return 2;
			break;
		case 'b':
			if (parse_u32("--block-size", optarg, &spec.block_size))
				return 2;
			break;
		case 'i':
			if (parse_u32("--id", optarg, &spec.id))
				return 2;
			spec.has_id = true;
			break;
		default:
			return 2;
		}
	}
	if (!has_size || !has_cookie) {
		fprintf(stderr, "maicachectl: add needs --size and --cookie\n");
		return 2;
	}
	nl = connect_or_die();
	ret = mc_nl_dev_add(nl, &spec, &d, err, sizeof(err));
	mc_nl_close(nl);
	if (ret)
		return fail(err);
	if (json) {
		print_dev(&d, false);
		printf("}\n");
	} else {
		printf("/dev/%s\n", d.name);
	}
	return 0;
}

static int parse_id(const char *s, uint32_t *id)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || end == s || *end || v > UINT32_MAX) {
		fprintf(stderr, "maicachectl: '%s' is not a device id (N of /dev/maicacheN)\n", s);
		return -1;
	}
	*id = (uint32_t)v;
	return 0;
}

static int cmd_remove(int argc, char **argv)
{
	bool force = argc == 3 && !strcmp(argv[2], "--force");
	int ret, claim = -1;
	struct mc_nl *nl;
	char err[256];
	uint32_t id;

	if (argc != 2 && !force) {
		fprintf(stderr, "maicachectl: usage: remove ID [--force]\n");
		return 2;
	}
	if (parse_id(argv[1], &id))
		return 2;
	/* Held until the device is gone (lib/dev_claim.h). */
	if (!force && mc_dev_claim(id, &claim, err, sizeof(err)))
		return fail(err);
	nl = connect_or_die();
	ret = mc_nl_dev_del(nl, id, err, sizeof(err));
	mc_nl_close(nl);
	mc_dev_unclaim(claim);
	return ret ? fail(err) : 0;
}

struct list_ctx {
	int n;
	bool stats;
	struct mc_vols vols;
};

/* A device, then what maicached says about it, if anything. */
static void print_dev_vol(const struct mc_dev_info *d, bool stats,
			  const struct mc_vols *vs)
{
	const struct mc_msg *v = mc_vols_by_id(vs, d->id);

	if (!json) {
		print_dev(d, stats);
		if (v)
			mc_vol_print(v);
		if (d->stale)
			printf("  STALE: the source changed; reads that miss fail\n");
		return;
	}
	print_dev(d, stats);
	printf(",\"stale\":%s", d->stale ? "true" : "false");
	if (v)
		mc_vol_print(v);
	printf("}");
}

static int list_one(const struct mc_dev_info *d, void *arg)
{
	struct list_ctx *ctx = arg;

	/* The group's extents (maicachectl peers), not a block device. */
	if (d->held)
		return 0;
	if (json && ctx->n++)
		printf(",");
	print_dev_vol(d, ctx->stats, &ctx->vols);
	return 0;
}

static int list_devices(bool stats)
{
	struct mc_nl *nl = connect_or_die();
	struct list_ctx ctx = { .stats = stats };
	char err[256];
	int ret;

	mc_vols_get(&ctx.vols, stats);
	if (json) {
		printf("{\"daemon\":");
		mc_daemon_print(&ctx.vols);
		printf(",\"devices\":[");
	} else if (stats) {
		mc_daemon_print(&ctx.vols);
	}
	ret = mc_nl_dev_list(nl, list_one, &ctx, err, sizeof(err));
	mc_nl_close(nl);
	if (json)
		printf("]}\n");
	mc_vols_free(&ctx.vols);
	return ret ? fail(err) : 0;
}

static int cmd_list(void)
{
	return list_devices(false);
}

static int cmd_stats(int argc, char **argv)
{
	struct mc_dev_info d;
	struct mc_nl *nl;
	char err[256];
	uint32_t id;
	int ret;

	struct mc_vols vs;

	if (argc == 1)
		return list_devices(true);
	if (argc != 2) {
		fprintf(stderr, "maicachectl: stats takes at most a device id\n");
		return 2;
	}
	if (parse_id(argv[1], &id))
		return 2;
	nl = connect_or_die();
	ret = mc_nl_dev_get(nl, id, &d, err, sizeof(err));
	mc_nl_close(nl);
	if (ret)
		return fail(err);
	mc_vols_get(&vs, false);
	print_dev_vol(&d, true, &vs);
	mc_vols_free(&vs);
	if (json)
		printf("\n");
	return 0;
}

static int cmd_pool(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "size", required_argument, NULL, 's' },
		{ "daemon-timeout-ms", required_argument, NULL, 't' },
		{ NULL, 0, NULL, 0 },
	};
	uint32_t timeout = UINT32_MAX;
	struct mc_pool_info p;
	uint64_t size = 0;
	struct mc_nl *nl;
	char err[256];
	int c, ret;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (c == 's' && !parse_size("--size", optarg, &size))
			continue;
		if (c == 't' && !parse_u32("--daemon-timeout-ms", optarg, &timeout))
			continue;
		return 2;
	}
	nl = connect_or_die();
	if (size || timeout != UINT32_MAX) {
		ret = mc_nl_pool_set(nl, size, timeout, err, sizeof(err));
		if (ret) {
			mc_nl_close(nl);
			return fail(err);
		}
	}
	ret = mc_nl_pool_get(nl, &p, err, sizeof(err));
	mc_nl_close(nl);
	if (ret)
		return fail(err);
	if (json)
		printf("{\"size\":%" PRIu64 ",\"used\":%" PRIu64 ",\"daemon_attached\":%s,"
		       "\"daemon_pid\":%u,\"bad_completions\":%" PRIu64
		       ",\"daemon_timeout_ms\":%u,\"pins\":%u,\"max_pins\":%u}\n",
		       p.size, p.used, p.daemon_attached ? "true" : "false",
		       p.daemon_pid, p.bad_completions, p.daemon_timeout_ms, p.pins, p.max_pins);
	else
		printf("pool %" PRIu64 " MiB, %" PRIu64 " MiB used\n"
		       "daemon %s (pid %u), timeout %u ms, bad completions %" PRIu64 "\n"
		       "pins %u of %u (extents the daemon is sending to peers)\n",
		       p.size >> 20, p.used >> 20,
		       p.daemon_attached ? "attached" : "not attached",
		       p.daemon_pid, p.daemon_timeout_ms, p.bad_completions, p.pins, p.max_pins);
	return 0;
}

static int print_event(int cmd, struct nlattr **tb, void *arg)
{
	static const char *const names[] = {
		[MAICACHE_CMD_EVT_DEV_ADDED] = "device-added",
		[MAICACHE_CMD_EVT_DEV_REMOVED] = "device-removed",
		[MAICACHE_CMD_EVT_DAEMON_ATTACHED] = "daemon-attached",
		[MAICACHE_CMD_EVT_DAEMON_DETACHED] = "daemon-detached",
		[MAICACHE_CMD_EVT_DEV_STALE] = "device-stale",
	};
	const char *name = cmd >= 0 && cmd <= MAICACHE_CMD_MAX && names[cmd] ?
			   names[cmd] : "unknown";

	(void)arg;
	printf("%s", name);
	if (tb[MAICACHE_ATTR_DEV_NAME])
		printf(" /dev/%s", nla_get_string(tb[MAICACHE_ATTR_DEV_NAME]));
	if (tb[MAICACHE_ATTR_DEV_COOKIE])
		printf(" cookie 0x%" PRIx64, (uint64_t)nla_get_u64(tb[MAICACHE_ATTR_DEV_COOKIE]));
	if (tb[MAICACHE_ATTR_DAEMON_PID])
		printf(" pid %u", nla_get_u32(tb[MAICACHE_ATTR_DAEMON_PID]));
	printf("\n");
	fflush(stdout);
	return 0;
}

static int cmd_monitor(void)
{
	struct mc_nl *nl = connect_or_die();
	char err[256];
	int ret;

	ret = mc_nl_monitor(nl, print_event, NULL, err, sizeof(err));
	mc_nl_close(nl);
	return ret ? fail(err) : 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "socket", required_argument, NULL, 'S' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *cmd;
	int c;

	/* Options after the command belong to the command. */
	while ((c = getopt_long(argc, argv, "+jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'S':
			mc_ctl_set_socket(optarg);
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	cmd = argv[optind];
	argc -= optind;
	argv += optind;
	if (!strcmp(cmd, "version"))
		return cmd_version();
	if (!strcmp(cmd, "attach"))
		return cmd_attach(argc, argv);
	if (!strcmp(cmd, "detach"))
		return cmd_detach(argc, argv);
	if (!strcmp(cmd, "add"))
		return cmd_add(argc, argv);
	if (!strcmp(cmd, "remove"))
		return cmd_remove(argc, argv);
	if (!strcmp(cmd, "list"))
		return cmd_list();
	if (!strcmp(cmd, "stats"))
		return cmd_stats(argc, argv);
	if (!strcmp(cmd, "pool"))
		return cmd_pool(argc, argv);
	if (!strcmp(cmd, "peers"))
		return cmd_peers(argc, argv);
	if (!strcmp(cmd, "monitor"))
		return cmd_monitor();
	if (!strcmp(cmd, "warmup"))
		return cmd_warmup(argc, argv);
	if (!strcmp(cmd, "top"))
		return cmd_top(argc, argv);
	fprintf(stderr, "maicachectl: unknown command '%s'\n", cmd);
	usage(stderr);
	return 2;
}
