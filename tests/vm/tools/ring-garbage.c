// SPDX-License-Identifier: MIT
/*
 * ring-garbage: attach to /dev/maicache as a "daemon" that never fills
 * anything and check what the kernel must refuse, then feed it garbage.
 *
 *   1. Refusals: a second open (EBUSY); the MISS region mapped writable
 *      (EPERM) or made writable later (mprotect: EACCES); private mappings of
 *      any region (EINVAL); offsets that are no region or past its end and
 *      lengths larger than a region (EINVAL); writes (kicks) of a size other
 *      than 8 bytes (EINVAL); read() (EINVAL).
 *   2. Garbage: for --rounds rounds, random bytes over the whole completion
 *      region (header and entries), random or plausible cpl.head and
 *      cpl.miss_tail, each followed by a kick that must be accepted, and a
 *      poll now and then. The pool is never written: its data is trusted.
 *
 * Prints one line per check and a summary; exit 0 when every check passed,
 * 1 when one failed, 2 on setup errors.
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <poll.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "maicache_ring.h"
#include "splitmix64.h"

static int failures, checks;
static size_t page;

static void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fatal(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "ring-garbage: ");
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static void result(bool ok, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void result(bool ok, const char *fmt, ...)
{
	va_list ap;

	checks++;
	if (!ok)
		failures++;
	printf("%s ", ok ? "PASS" : "FAIL");
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
	fflush(stdout);
}

/* An mmap that must fail with errno want (or want2, if non-zero). */
static void mmap_refused(int fd, const char *what, size_t len, int prot, int flags,
			 uint64_t off, int want, int want2)
{
	void *p = mmap(NULL, len, prot, flags, fd, (off_t)off);
	int e = errno;

	if (p != MAP_FAILED) {
		munmap(p, len);
		result(false, "mmap %s (offset 0x%" PRIx64 ", %zu bytes): succeeded, want %s",
		       what, off, len, strerrorname_np(want));
		return;
	}
	result(e == want || (want2 && e == want2),
	       "mmap %s (offset 0x%" PRIx64 ", %zu bytes): %s%s%s", what, off, len,
	       strerrorname_np(e), e == want || (want2 && e == want2) ? "" : ", want ",
	       e == want || (want2 && e == want2) ? "" : strerrorname_np(want));
}

static void *mmap_ok(int fd, const char *what, size_t len, int prot, uint64_t off)
{
	void *p = mmap(NULL, len, prot, MAP_SHARED, fd, (off_t)off);

	result(p != MAP_FAILED, "mmap %s (offset 0x%" PRIx64 ", %zu bytes): %s", what, off, len,
	       p == MAP_FAILED ? strerrorname_np(errno) : "mapped");
	return p == MAP_FAILED ? NULL : p;
}

static uint64_t rng;

static uint64_t rnd(void)
{
	return splitmix64_next(&rng);
}

static void fill_random(void *buf, size_t len)
{
	uint8_t *b = buf;

	for (size_t i = 0; i < len; i += 8) {
		uint64_t v = rnd();

		memcpy(b + i, &v, len - i < 8 ? len - i : 8);
	}
}

static size_t align_page(size_t n)
{
	return (n + page - 1) / page * page;
}

int main(int argc, char **argv)
{
	const char *dev = "/dev/maicache";
	unsigned long rounds = 3000;
	const struct maicache_miss_hdr *h;
	uint32_t entries, miss_head0;
	size_t miss_len, cpl_len, pool_len;
	uint64_t pool_size, kicks = 0, refused_kicks = 0, polls = 0, pollin = 0;
	volatile uint8_t *cpl;
	void *miss, *pool;
	int fd, fd2, opt;
	uint64_t k;
	char buf[4096];

	rng = 1;
	while ((opt = getopt(argc, argv, "d:r:s:")) != -1) {
		switch (opt) {
		case 'd': dev = optarg; break;
		case 'r': rounds = strtoul(optarg, NULL, 0); break;
		case 's': rng = strtoull(optarg, NULL, 0); break;
		default: fatal("usage: ring-garbage [-d DEV] [-r ROUNDS] [-s SEED]");
		}
	}
	page = (size_t)sysconf(_SC_PAGESIZE);

	fd = open(dev, O_RDWR | O_CLOEXEC);
	if (fd < 0)
		fatal("%s: %s", dev, strerror(errno));
	fd2 = open(dev, O_RDWR | O_CLOEXEC);
	result(fd2 < 0 && errno == EBUSY, "second open while attached: %s",
	       fd2 < 0 ? strerrorname_np(errno) : "succeeded, want EBUSY");
	if (fd2 >= 0)
		close(fd2);

	h = mmap(NULL, page, PROT_READ, MAP_SHARED, fd, MAICACHE_MMAP_MISS);
	if (h == MAP_FAILED)
		fatal("mmap the miss header: %s", strerror(errno));
	if (le32toh(h->magic) != MAICACHE_RING_MAGIC || le32toh(h->version) != MAICACHE_RING_VERSION)
		fatal("bad ring header: magic %#x version %u (want %#x %u), attach_seq %" PRIu64,
		      le32toh(h->magic), le32toh(h->version), MAICACHE_RING_MAGIC,
		      MAICACHE_RING_VERSION, (uint64_t)le64toh(h->attach_seq));
	entries = le32toh(h->miss_entries);
	pool_size = le64toh(h->pool_size);
	miss_len = align_page(MAICACHE_RING_ENTRIES_OFF + (size_t)entries * sizeof(struct maicache_miss));
	cpl_len = align_page(MAICACHE_RING_ENTRIES_OFF + (size_t)le32toh(h->cpl_entries) *
			     sizeof(struct maicache_cpl));
	pool_len = align_page(pool_size);
	miss_head0 = le32toh(h->head);
	printf("attached: %u entries, miss region %zu, cpl region %zu, pool %" PRIu64
	       " bytes, attach_seq %" PRIu64 ", miss.head %u\n", entries, miss_len, cpl_len,
	       pool_size, (uint64_t)le64toh(h->attach_seq), miss_head0);
	munmap((void *)h, page);

	/* 1. What the kernel must refuse. */
	mmap_refused(fd, "MISS writable", miss_len, PROT_READ | PROT_WRITE, MAP_SHARED,
		     MAICACHE_MMAP_MISS, EPERM, 0);
	mmap_refused(fd, "MISS write-only", page, PROT_WRITE, MAP_SHARED, MAICACHE_MMAP_MISS,
		     EPERM, 0);
	miss = mmap_ok(fd, "MISS read-only", miss_len, PROT_READ, MAICACHE_MMAP_MISS);
	if (!miss)
		fatal("cannot go on without the miss region");
	{
		int r = mprotect(miss, miss_len, PROT_READ | PROT_WRITE);

		result(r < 0 && errno == EACCES, "mprotect MISS to writable: %s",
		       r < 0 ? strerrorname_np(errno) : "succeeded, want EACCES");
	}
	mmap_refused(fd, "MISS MAP_PRIVATE", page, PROT_READ, MAP_PRIVATE, MAICACHE_MMAP_MISS,
		     EINVAL, 0);
	mmap_refused(fd, "CPL MAP_PRIVATE", page, PROT_READ | PROT_WRITE, MAP_PRIVATE,
		     MAICACHE_MMAP_CPL, EINVAL, 0);
	mmap_refused(fd, "POOL MAP_PRIVATE", pool_len, PROT_READ | PROT_WRITE, MAP_PRIVATE,
		     MAICACHE_MMAP_POOL, EINVAL, 0);
	mmap_refused(fd, "POOL MAP_PRIVATE read-only", page, PROT_READ, MAP_PRIVATE,
		     MAICACHE_MMAP_POOL, EINVAL, 0);
	mmap_refused(fd, "MISS longer than the region", miss_len + page, PROT_READ, MAP_SHARED,
		     MAICACHE_MMAP_MISS, EINVAL, 0);
	mmap_refused(fd, "CPL longer than the region", cpl_len + page, PROT_READ | PROT_WRITE,
		     MAP_SHARED, MAICACHE_MMAP_CPL, EINVAL, 0);
	mmap_refused(fd, "POOL longer than the pool", pool_len + page, PROT_READ | PROT_WRITE,
		     MAP_SHARED, MAICACHE_MMAP_POOL, EINVAL, 0);
	mmap_refused(fd, "inside MISS (page 1)", page, PROT_READ, MAP_SHARED,
		     MAICACHE_MMAP_MISS + page, EINVAL, 0);
	mmap_refused(fd, "inside CPL (page 1)", page, PROT_READ | PROT_WRITE, MAP_SHARED,
		     MAICACHE_MMAP_CPL + page, EINVAL, 0);
	mmap_refused(fd, "between CPL and POOL", page, PROT_READ, MAP_SHARED, 0x20000000ULL,
		     EINVAL, 0);
	mmap_refused(fd, "just below POOL", page, PROT_READ, MAP_SHARED,
		     MAICACHE_MMAP_POOL - page, EINVAL, 0);
	mmap_refused(fd, "POOL at its end", page, PROT_READ | PROT_WRITE, MAP_SHARED,
		     MAICACHE_MMAP_POOL + pool_len, EINVAL, 0);
	mmap_refused(fd, "POOL across its end", 2 * page, PROT_READ | PROT_WRITE, MAP_SHARED,
		     MAICACHE_MMAP_POOL + pool_len - page, EINVAL, 0);
	mmap_refused(fd, "POOL far past its end", page, PROT_READ, MAP_SHARED,
		     MAICACHE_MMAP_POOL + (1ULL << 40), EINVAL, 0);
	mmap_refused(fd, "offset 2^63-page", page, PROT_READ, MAP_SHARED,
		     (1ULL << 63) - page, EINVAL, EOVERFLOW);
	{
		void *p = mmap_ok(fd, "POOL last page", page, PROT_READ | PROT_WRITE,
				  MAICACHE_MMAP_POOL + pool_len - page);

		if (p)
			munmap(p, page);
	}
	pool = mmap_ok(fd, "POOL whole", pool_len, PROT_READ | PROT_WRITE, MAICACHE_MMAP_POOL);
	if (pool)
		munmap(pool, pool_len);

	static const size_t bad_sizes[] = { 1, 4, 7, 9, 16, 4096 };
	memset(buf, 0, sizeof(buf));
	for (size_t i = 0; i < sizeof(bad_sizes) / sizeof(bad_sizes[0]); i++) {
		ssize_t r = write(fd, buf, bad_sizes[i]);

		result(r < 0 && errno == EINVAL, "write of %zu bytes: %s", bad_sizes[i],
		       r < 0 ? strerrorname_np(errno) : "accepted, want EINVAL");
	}
	{
		ssize_t r = read(fd, buf, 8);

		result(r < 0 && errno == EINVAL, "read of 8 bytes: %s",
		       r < 0 ? strerrorname_np(errno) : "succeeded, want EINVAL");
	}

	/* 2. Garbage. */
	cpl = mmap_ok(fd, "CPL read-write", cpl_len, PROT_READ | PROT_WRITE, MAICACHE_MMAP_CPL);
	if (!cpl)
		fatal("cannot go on without the completion region");
	h = miss;
	for (unsigned long r = 0; r < rounds; r++) {
		volatile struct maicache_cpl_hdr *ch = (volatile void *)cpl;
		uint32_t mhead = le32toh(__atomic_load_n(&h->head, __ATOMIC_ACQUIRE));
		uint32_t ctail = le32toh(__atomic_load_n(&h->cpl_tail, __ATOMIC_ACQUIRE));
		uint64_t roll = rnd();
		ssize_t w;

		/* Everything the daemon may write, including both indices. */
		fill_random((void *)cpl, cpl_len);
		switch (roll % 6) {
		case 0:	/* plausible: the kernel walks up to a ring of garbage entries */
			ch->head = htole32(ctail + (uint32_t)(rnd() % (entries + 1)));
			break;
		case 1:	/* just out of range */
			ch->head = htole32(ctail + entries + 1 + (uint32_t)(rnd() % 16));
			break;
		case 2:	/* behind */
			ch->head = htole32(ctail - 1 - (uint32_t)(rnd() % 16));
			break;
		default: /* random */
			break;
		}
		switch ((roll >> 8) % 4) {
		case 0:	/* plausible: all misses consumed, so the kernel posts more */
			ch->miss_tail = htole32(mhead);
			break;
		case 1:	/* ahead of the kernel */
			ch->miss_tail = htole32(mhead + 1 + (uint32_t)(rnd() % 1000));
			break;
		default: /* random */
			break;
		}
		k = rnd();
		w = write(fd, &k, 8);
		kicks++;
		if (w != 8) {
			refused_kicks++;
			if (refused_kicks <= 5)
				printf("kick %" PRIu64 " refused: %s\n", kicks,
				       w < 0 ? strerror(errno) : "short write");
		}
		if ((roll >> 16) % 8 == 0) {
			struct pollfd p = { .fd = fd, .events = POLLIN | POLLOUT };

			polls++;
			if (poll(&p, 1, 0) == 1 && (p.revents & POLLIN))
				pollin++;
			if (p.revents & (POLLERR | POLLHUP | POLLNVAL)) {
				result(false, "poll reports 0x%x after garbage", p.revents);
				break;
			}
		}
	}
	result(refused_kicks == 0, "%" PRIu64 " kicks after garbage, %" PRIu64 " refused",
	       kicks, refused_kicks);
	printf("%" PRIu64 " polls, %" PRIu64 " with POLLIN; miss.head %u -> %u, miss.cpl_tail %u\n",
	       polls, pollin, miss_head0, le32toh(h->head), le32toh(h->cpl_tail));
	result(le32toh(h->magic) == MAICACHE_RING_MAGIC &&
	       le32toh(h->miss_entries) == entries && le64toh(h->pool_size) == pool_size,
	       "the kernel's ring header is intact after the garbage");

	munmap((void *)cpl, cpl_len);
	munmap(miss, miss_len);
	close(fd);
	printf("%d checks, %d failed\n", checks, failures);
	return failures ? 1 : 0;
}
