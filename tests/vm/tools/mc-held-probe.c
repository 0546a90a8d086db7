// SPDX-License-Identifier: MIT
/*
 * mc-held-probe: attach to /dev/maicache as the daemon and drive the held
 * extents ABI (proto/maicache_genl.h) the way maicached's group store
 * does, checking what the module must answer:
 *
 *   - held devices: ids from MAICACHE_HELD_DEV_ID_MIN, no block device,
 *     DEV_ID and DEV_BLOCK_SIZE refused;
 *   - EXTENT_FILL: bad lengths and extents refused with their errno, a
 *     disk device refused, a second fill of one extent refused; the bytes
 *     become pinnable only once the fill is completed on the ring, and a
 *     fill completed with an error leaves nothing;
 *   - EXTENT_PIN: the slot and bytes the fill wrote, counted in the pool's
 *     pins, a pinned device not removable, UNPIN of an unknown pin
 *     refused; with --max-pins 2 (the module's max_pins, set by the
 *     caller) a third pin is refused;
 *   - another process than the daemon: EPERM for all three.
 *
 * --disk N names a disk device to try EXTENT_FILL on. --leave: end with a
 * pin and a fill outstanding and a held device left, for the caller to
 * check that they end with the process. Prints one line per check; exit
 * 0 when all passed, 1 when one failed, 2 on setup errors.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "miss_ring.h"
#include "nlclient.h"
#include "ring_map.h"

#define EXT	(256U << 10)

static int failures, checks;
static struct mc_nl *nl;
static struct mc_ring_map map;
static struct mc_miss_ring ring;
static char err[512];

static void result(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void result(bool ok, const char *fmt, ...)
{
	va_list ap;

	checks++;
	failures += !ok;
	printf("%s: ", ok ? "ok" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	if (!ok && err[0])
		printf(" (last error: %s)", err);
	putchar('\n');
}

static void fatal(const char *what)
{
	fprintf(stderr, "mc-held-probe: %s: %s\n", what, err);
	exit(2);
}

static int kick(struct mc_miss_ring *r)
{
	(void)r;
	return mc_ring_kick_fd(map.fd);
}

static uint32_t held_dev(void)
{
	struct mc_dev_spec spec = { .size = 8ULL * EXT - 4096, .extent_size = EXT,
				    .cookie = 0x4e1d, .held = true };
	struct mc_dev_info info;

	if (mc_nl_dev_add(nl, &spec, &info, err, sizeof(err)))
		fatal("add a held device");
	result(info.id >= MAICACHE_HELD_DEV_ID_MIN && info.held,
	       "a held device gets id %u (>= %u), held", info.id, MAICACHE_HELD_DEV_ID_MIN);
	return info.id;
}

static uint32_t pins_now(void)
{
	struct mc_pool_info p;

	if (mc_nl_pool_get(nl, &p, err, sizeof(err)))
		fatal("pool");
	return p.pins;
}

static void pattern(uint8_t *p, uint32_t len, uint8_t seed)
{
	for (uint32_t i = 0; i < len; i++)
		p[i] = (uint8_t)(i * 31 + seed);
}

/* Fill extent ext with len bytes of seed and complete it with status. */
static int fill(uint32_t id, uint64_t ext, uint32_t len, uint8_t seed, uint32_t status,
		struct mc_extent_slot *s)
{
	int ret = mc_nl_extent_fill(nl, id, ext, len, s, err, sizeof(err));

	if (ret)
		return ret;
	pattern((uint8_t *)map.pool + s->slot_off, len, seed);
	mc_miss_ring_complete(&ring, s->fill_id, status);
	mc_miss_ring_flush(&ring);
	return 0;
}

static bool bytes_are(const struct mc_extent_slot *s, uint32_t len, uint8_t seed)
{
	uint8_t *want = malloc(len);
	bool ok;

	pattern(want, len, seed);
	ok = s->len == len && !memcmp((uint8_t *)map.pool + s->slot_off, want, len);
	free(want);
	return ok;
}

/* In a child, which is not the daemon: every held call is EPERM. */
static void other_process(uint32_t id)
{
	struct mc_extent_slot s;
	pid_t pid = fork();
	int st;

	if (pid == 0) {
		struct mc_nl *n2 = mc_nl_open(err, sizeof(err));
		int a, b, c;

		if (!n2)
			_exit(3);
		a = mc_nl_extent_fill(n2, id, 5, 100, &s, err, sizeof(err));
		b = mc_nl_extent_pin(n2, id, 0, &s, err, sizeof(err));
		c = mc_nl_extent_unpin(n2, 1, err, sizeof(err));
		_exit(a == -EPERM && b == -EPERM && c == -EPERM ? 0 : 1);
	}
	result(pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st) && !WEXITSTATUS(st),
	       "another process than the daemon gets EPERM for fill, pin and unpin");
}

int main(int argc, char **argv)
{
	struct mc_dev_spec bad = { .size = EXT, .held = true };
	struct mc_extent_slot s, p, p2, extra;
	struct mc_dev_info info;
	long disk = -1, max_pins = 0;
	bool leave = false;
	uint32_t id;
	int opt, n;

	static const struct option opts[] = {
		{ "disk", required_argument, NULL, 'd' },
		{ "max-pins", required_argument, NULL, 'm' },
		{ "leave", no_argument, NULL, 'l' },
		{ NULL, 0, NULL, 0 },
	};
	while ((opt = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		if (opt == 'd')
			disk = strtol(optarg, NULL, 0);
		else if (opt == 'm')
			max_pins = strtol(optarg, NULL, 0);
		else if (opt == 'l')
			leave = true;
		else
			return 2;
	}
	if (mc_ring_open(&map, MC_RING_DEVICE, err, sizeof(err)) ||
	    mc_ring_map(&map, MC_RING_DEVICE, err, sizeof(err)))
		fatal("ring");
	ring.kick = kick;
	mc_miss_ring_start(&ring, map.miss, map.cpl, map.pool);
	nl = mc_nl_open(err, sizeof(err));
	if (!nl)
		fatal("netlink");

	bad.has_id = true;
	bad.id = 3;
	result(mc_nl_dev_add(nl, &bad, &info, err, sizeof(err)) == -EINVAL,
	       "a held device with an id is refused (EINVAL)");
	bad.has_id = false;
	bad.block_size = 4096;
	result(mc_nl_dev_add(nl, &bad, &info, err, sizeof(err)) == -EINVAL,
	       "a held device with a block size is refused (EINVAL)");
	id = held_dev();
	other_process(id);

	/* The attribute's policy (at least 1) answers before the command. */
	result(mc_nl_extent_fill(nl, id, 0, 0, &s, err, sizeof(err)) == -ERANGE,
	       "a fill of 0 bytes is refused (ERANGE)");
	result(mc_nl_extent_fill(nl, id, 0, EXT + 1, &s, err, sizeof(err)) == -EINVAL,
	       "a fill longer than the extent is refused (EINVAL)");
	result(mc_nl_extent_fill(nl, id, 7, EXT, &s, err, sizeof(err)) == -EINVAL,
	       "a full fill of the short last extent is refused (EINVAL)");
	result(mc_nl_extent_fill(nl, id, 8, 100, &s, err, sizeof(err)) == -ERANGE,
	       "a fill past the device's size is refused (ERANGE)");
	result(mc_nl_extent_fill(nl, 99999, 0, 100, &s, err, sizeof(err)) == -ENODEV,
	       "a fill of no device is refused (ENODEV)");
	if (disk >= 0)
		result(mc_nl_extent_fill(nl, (uint32_t)disk, 0, 100, &s, err, sizeof(err)) ==
		       -EOPNOTSUPP, "a fill of a disk device is refused (EOPNOTSUPP)");

	n = mc_nl_extent_fill(nl, id, 1, 1000, &s, err, sizeof(err));
	result(!n && s.slot_off < map.pool_size, "a fill of extent 1 is given a slot in the pool");
	result(mc_nl_extent_pin(nl, id, 1, &p, err, sizeof(err)) == -ENOENT,
	       "a filling extent cannot be pinned (ENOENT)");
	result(mc_nl_extent_fill(nl, id, 1, 1000, &p, err, sizeof(err)) == -EEXIST,
	       "a second fill of a filling extent is refused (EEXIST)");
	pattern((uint8_t *)map.pool + s.slot_off, 1000, 9);
	mc_miss_ring_complete(&ring, s.fill_id, 0);
	mc_miss_ring_flush(&ring);
	result(mc_nl_extent_pin(nl, id, 1, &p, err, sizeof(err)) == 0 && p.slot_off == s.slot_off &&
	       bytes_are(&p, 1000, 9), "once completed it pins at its slot with its 1000 bytes");
	result(pins_now() == 1, "the pool counts 1 pin");
	result(mc_nl_dev_del(nl, id, err, sizeof(err)) == -EBUSY,
	       "a device with a pinned extent cannot be removed (EBUSY)");
	result(mc_nl_extent_unpin(nl, p.pin_id, err, sizeof(err)) == 0 && pins_now() == 0,
	       "unpin: 0 pins");
	result(mc_nl_extent_unpin(nl, p.pin_id, err, sizeof(err)) == -ENOENT,
	       "a second unpin is refused (ENOENT)");

	result(fill(id, 2, EXT, 3, 5, &s) == 0 &&
	       mc_nl_extent_pin(nl, id, 2, &p, err, sizeof(err)) == -ENOENT,
	       "a fill completed with an error leaves nothing to pin");
	result(fill(id, 2, EXT, 4, 0, &s) == 0 &&
	       mc_nl_extent_pin(nl, id, 2, &p, err, sizeof(err)) == 0 && bytes_are(&p, EXT, 4),
	       "the extent fills again, and pins with its bytes");
	result(fill(id, 7, EXT - 4096, 6, 0, &s) == 0 &&
	       mc_nl_extent_pin(nl, id, 7, &p2, err, sizeof(err)) == 0 &&
	       bytes_are(&p2, EXT - 4096, 6), "the short last extent holds its length");
	/* Two pins are held now (extents 2 and 7). */
	if (max_pins == 2)
		result(mc_nl_extent_pin(nl, id, 1, &extra, err, sizeof(err)) == -ENOSPC,
		       "a third pin past max_pins 2 is refused (ENOSPC)");
	mc_nl_extent_unpin(nl, p2.pin_id, err, sizeof(err));

	if (leave) {
		result(mc_nl_extent_fill(nl, id, 3, 100, &s, err, sizeof(err)) == 0,
		       "leaving with extent 3 filling and extent 2 pinned");
		printf("held device %u left\n", id);
	} else {
		mc_nl_extent_unpin(nl, p.pin_id, err, sizeof(err));
		result(mc_nl_dev_del(nl, id, err, sizeof(err)) == 0, "the held device is removed");
	}
	printf("%d checks, %d failed\n", checks, failures);
	fflush(stdout);
	return failures ? 1 : 0;
}
