// SPDX-License-Identifier: MIT
/*
 * mc-regmr: show that the maicache pool mapping can be registered for RDMA.
 *
 *   mc-regmr [--dev /dev/maicache] [--ibdev NAME] [--hold SECS]
 *
 * Attaches to the ring device, reads pool_size from the ring header, maps
 * the whole pool (MAP_SHARED at MAICACHE_MMAP_POOL) and registers with
 * ibv_reg_mr(LOCAL_WRITE | REMOTE_READ | REMOTE_WRITE) on the verbs device
 * NAME (default: the first one): one MiB in the middle, the last page, then
 * the whole mapping, all at the same time. Each MR must cover what was asked
 * and the pool must still read back what was written through the mapping.
 * With --hold, it then prints "holding" and sleeps SECS seconds (or until
 * SIGTERM/SIGINT) with everything registered, for the caller to look. Then
 * everything is deregistered, unmapped and closed before exit.
 *
 * Exit 0: every registration worked; 1: one failed; 2: setup error.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <signal.h>
#include <unistd.h>

#include <infiniband/verbs.h>

#include "maicache_ring.h"

static int failures;
static volatile sig_atomic_t stop;

static void on_signal(int sig)
{
	(void)sig;
	stop = 1;
}

static void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fatal(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "mc-regmr: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static struct ibv_mr *reg(struct ibv_pd *pd, const char *what, uint8_t *base, size_t off,
			  size_t len)
{
	int access = IBV_ACCESS_LOCAL_WRITE | IBV_ACCESS_REMOTE_READ | IBV_ACCESS_REMOTE_WRITE;
	struct ibv_mr *mr = ibv_reg_mr(pd, base + off, len, access);

	if (!mr) {
		printf("FAIL ibv_reg_mr %s (pool offset %zu, %zu bytes): %s\n", what, off, len,
		       strerror(errno));
		failures++;
		return NULL;
	}
	if (mr->addr != base + off || mr->length != len) {
		printf("FAIL ibv_reg_mr %s: MR covers %p+%zu, asked %p+%zu\n", what, mr->addr,
		       mr->length, (void *)(base + off), len);
		failures++;
	} else {
		printf("PASS ibv_reg_mr %s (pool offset %zu, %zu bytes): lkey 0x%x rkey 0x%x\n",
		       what, off, len, mr->lkey, mr->rkey);
	}
	fflush(stdout);
	return mr;
}

static void dereg(const char *what, struct ibv_mr *mr)
{
	int err;

	if (!mr)
		return;
	err = ibv_dereg_mr(mr);
	if (err) {
		printf("FAIL ibv_dereg_mr %s: %s\n", what, strerror(err));
		failures++;
	} else {
		printf("PASS ibv_dereg_mr %s\n", what);
	}
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "dev", required_argument, NULL, 'd' },
		{ "ibdev", required_argument, NULL, 'i' },
		{ "hold", required_argument, NULL, 'h' },
		{ 0 },
	};
	const char *dev = "/dev/maicache", *ibname = NULL;
	size_t page = (size_t)sysconf(_SC_PAGESIZE), pool_len, mid;
	struct ibv_device **list, *ibdev = NULL;
	const struct maicache_miss_hdr *h;
	struct ibv_mr *part, *last, *whole;
	struct ibv_context *ctx;
	uint64_t pool_size;
	struct ibv_pd *pd;
	uint8_t *pool;
	unsigned int hold = 0;
	int fd, n, c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'd': dev = optarg; break;
		case 'i': ibname = optarg; break;
		case 'h': hold = (unsigned int)strtoul(optarg, NULL, 0); break;
		default: fatal("usage: mc-regmr [--dev PATH] [--ibdev NAME] [--hold SECS]");
		}
	}

	fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		fatal("%s: %s", dev, strerror(errno));
	h = mmap(NULL, page, PROT_READ, MAP_SHARED, fd, MAICACHE_MMAP_MISS);
	if (h == MAP_FAILED)
		fatal("mmap the ring header: %s", strerror(errno));
	if (le32toh(h->magic) != MAICACHE_RING_MAGIC)
		fatal("bad ring magic 0x%x", le32toh(h->magic));
	pool_size = le64toh(h->pool_size);
	munmap((void *)h, page);
	pool_len = (size_t)(pool_size + page - 1) / page * page;
	pool = mmap(NULL, pool_len, PROT_READ | PROT_WRITE, MAP_SHARED, fd, MAICACHE_MMAP_POOL);
	if (pool == MAP_FAILED)
		fatal("mmap the pool (%zu bytes): %s", pool_len, strerror(errno));
	printf("pool: %" PRIu64 " bytes mapped at %p\n", pool_size, (void *)pool);

	list = ibv_get_device_list(&n);
	if (!list)
		fatal("ibv_get_device_list: %s", strerror(errno));
	for (int i = 0; i < n; i++)
		if (!ibname || !strcmp(ibv_get_device_name(list[i]), ibname))
			ibdev = list[i];
	if (!ibdev)
		fatal("no verbs device%s%s (%d found): is rdma_rxe set up and ib_uverbs loaded?",
		      ibname ? " named " : "", ibname ? ibname : "", n);
	ctx = ibv_open_device(ibdev);
	if (!ctx)
		fatal("ibv_open_device %s: %s", ibv_get_device_name(ibdev), strerror(errno));
	pd = ibv_alloc_pd(ctx);
	if (!pd)
		fatal("ibv_alloc_pd: %s", strerror(errno));
	printf("verbs device %s opened\n", ibv_get_device_name(ibdev));

	/* A mark through the mapping, to see that pinning keeps the same pages. */
	mid = pool_len / 2 / page * page;
	memset(pool + mid, 0xa5, 4096);
	pool[pool_len - 1] = 0x5a;

	part = reg(pd, "1 MiB in the middle", pool, mid, 1 << 20 < pool_len - mid ? 1 << 20 : pool_len - mid);
	last = reg(pd, "last page", pool, pool_len - page, page);
	whole = reg(pd, "whole pool", pool, 0, pool_len);

	if (pool[mid] != 0xa5 || pool[mid + 4095] != 0xa5 || pool[pool_len - 1] != 0x5a) {
		printf("FAIL the pool no longer reads back what was written before registration\n");
		failures++;
	} else {
		printf("PASS the pool reads back the marks while registered\n");
	}
	if (hold) {
		struct sigaction sa = { .sa_handler = on_signal };

		sigaction(SIGTERM, &sa, NULL);
		sigaction(SIGINT, &sa, NULL);
		printf("holding for %u s\n", hold);
		fflush(stdout);
		for (unsigned int i = 0; i < hold * 10 && !stop; i++)
			usleep(100000);
	}
	memset(pool + mid, 0, 4096);
	pool[pool_len - 1] = 0;

	dereg("whole pool", whole);
	dereg("last page", last);
	dereg("1 MiB in the middle", part);
	if (ibv_dealloc_pd(pd))
		fatal("ibv_dealloc_pd failed");
	ibv_close_device(ctx);
	ibv_free_device_list(list);
	if (munmap(pool, pool_len))
		fatal("munmap the pool: %s", strerror(errno));
	close(fd);
	printf("%s: %d failure(s)\n", failures ? "FAIL" : "PASS", failures);
	return failures ? 1 : 0;
}
