// SPDX-License-Identifier: MIT
/*
 * mc-pattern-check DEV COOKIE [--offset O] [--length L] [--bs N]
 * mc-pattern-check FILE COOKIE --make SIZE
 *
 * Reads DEV with O_DIRECT and checks every byte against the pattern that
 * `mc-filler --pattern` fills: the little-endian 64-bit word at device byte
 * offset o (o a multiple of 8) holds o ^ (COOKIE * 0x9E3779B97F4A7C15).
 * With --make, writes SIZE bytes of that pattern to a new FILE instead: a
 * source for maicached whose every byte a reader can check.
 *
 * Exit 0: all match (or FILE written). 1: a mismatch (the first one is
 * printed). 2: usage or I/O error (e.g. the read failed with EIO).
 */
#define _GNU_SOURCE
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "filler.h"

static const char *prog = "mc-pattern-check";

static void fail(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void fail(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(2);
}

static void usage(FILE *out, int rc)
{
	fprintf(out,
		"Usage: %s DEV COOKIE [--offset O] [--length L] [--bs N]\n"
		"       %s FILE COOKIE --make SIZE\n"
		"Check DEV (read with O_DIRECT) against the mc-filler --pattern of COOKIE,\n"
		"or write SIZE bytes of it to FILE, which must not exist.\n"
		"O, L, N and SIZE take K/M/G suffixes (powers of 1024); L defaults to the\n"
		"rest of DEV, N (the read size) to 1M. Exit 0: all match; 1: mismatch; 2: error.\n",
		prog, prog);
	exit(rc);
}

static uint64_t parse_size(const char *opt, const char *s)
{
	char *end;
	unsigned long long v;
	unsigned int shift = 0;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *s == '-')
		fail("%s: '%s' is not a size", opt, s);
	switch (*end) {
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	case 't': case 'T': shift = 40; end++; break;
	}
	if (*end || (shift && v > (UINT64_MAX >> shift)))
		fail("%s: '%s' is not a size", opt, s);
	return (uint64_t)v << shift;
}

/* Write @size bytes of @cookie's pattern to @path, a new file. */
static int make_file(const char *path, uint64_t cookie, uint64_t size, uint64_t bs)
{
	uint64_t pos, n;
	uint8_t *buf;
	int fd;

	bs = (bs + 7) & ~7ULL;
	buf = malloc(bs);
	if (!buf)
		fail("out of memory for --bs %" PRIu64, bs);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644);
	if (fd < 0)
		fail("%s: cannot create: %s", path, strerror(errno));
	for (pos = 0; pos < size; pos += n) {
		n = size - pos < bs ? size - pos : bs;
		mc_pattern_fill(buf, cookie, pos, (size_t)n);
		if (write(fd, buf, n) != (ssize_t)n)
			fail("%s: write at offset %" PRIu64 ": %s", path, pos,
			     errno ? strerror(errno) : "short write");
	}
	if (close(fd) < 0)
		fail("%s: close: %s", path, strerror(errno));
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "offset", required_argument, NULL, 'o' },
		{ "length", required_argument, NULL, 'l' },
		{ "bs", required_argument, NULL, 'b' },
		{ "make", required_argument, NULL, 'm' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 },
	};
	uint64_t off = 0, len = 0, bs = 1 << 20, size, cookie, pos, end, align, end_al;
	bool have_len = false, direct = true, make = false;
	const char *dev;
	uint8_t *buf, *want;
	struct stat st;
	char *e;
	int c, fd;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'o': off = parse_size("--offset", optarg); break;
		case 'l': len = parse_size("--length", optarg); have_len = true; break;
		case 'b': bs = parse_size("--bs", optarg); break;
		case 'm': size = parse_size("--make", optarg); make = true; break;
		case 'h': usage(stdout, 0); break;
		default: usage(stderr, 2);
		}
	}
	if (argc - optind != 2)
		usage(stderr, 2);
	dev = argv[optind];
	errno = 0;
	cookie = strtoull(argv[optind + 1], &e, 0);
	if (errno || e == argv[optind + 1] || *e || argv[optind + 1][0] == '-')
		fail("COOKIE: '%s' is not a number", argv[optind + 1]);
	if (!bs)
		fail("--bs: want more than 0");
	if (make)
		return make_file(dev, cookie, size, bs);

	fd = open(dev, O_RDONLY | O_DIRECT | O_CLOEXEC);
	if (fd < 0 && errno == EINVAL) {
		/* tmpfs and friends: fine for self-tests, not for the cache. */
		fprintf(stderr, "%s: %s: O_DIRECT not supported, reading through the page cache\n",
			prog, dev);
		direct = false;
		fd = open(dev, O_RDONLY | O_CLOEXEC);
	}
	if (fd < 0)
		fail("%s: cannot open: %s", dev, strerror(errno));
	if (fstat(fd, &st) < 0)
		fail("%s: fstat: %s", dev, strerror(errno));
	if (S_ISBLK(st.st_mode)) {
		int ssz;

		if (ioctl(fd, BLKGETSIZE64, &size) < 0 || ioctl(fd, BLKSSZGET, &ssz) < 0)
			fail("%s: cannot get the device size: %s", dev, strerror(errno));
		align = (uint64_t)ssz;
	} else if (S_ISREG(st.st_mode)) {
		size = (uint64_t)st.st_size;
		align = 4096;
	} else {
		fail("%s: neither a block device nor a file", dev);
	}
	if (!direct)
		align = 8;
	if (off > size)
		fail("--offset %" PRIu64 " is past the end of %s (%" PRIu64 " bytes)", off, dev, size);
	if (!have_len)
		len = size - off;
	if (len > size - off)
		fail("--offset %" PRIu64 " --length %" PRIu64 " runs past the end of %s (%" PRIu64 " bytes)",
		     off, len, dev, size);
	bs = (bs + align - 1) / align * align;
	if (posix_memalign((void **)&buf, 4096, bs) || posix_memalign((void **)&want, 4096, bs))
		fail("out of memory for --bs %" PRIu64, bs);

	end = off + len;
	end_al = (end + align - 1) / align * align;
	for (pos = off / align * align; pos < end;) {
		/* Never read outside the aligned range: that would cause misses. */
		uint64_t want_bytes = end_al - pos < bs ? end_al - pos : bs, lo, hi;
		ssize_t n;

		n = pread(fd, buf, want_bytes, (off_t)pos);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			fail("%s: read of %" PRIu64 " bytes at offset %" PRIu64 " failed: %s",
			     dev, want_bytes, pos, strerror(errno));
		if (n == 0)
			fail("%s: unexpected end at offset %" PRIu64, dev, pos);
		lo = pos < off ? off : pos;
		hi = pos + (uint64_t)n < end ? pos + (uint64_t)n : end;
		/* pos is a multiple of 8, so the buffer starts on a pattern word. */
		mc_pattern_fill(want, cookie, pos, (size_t)(hi - pos));
		if (memcmp(buf + (lo - pos), want + (lo - pos), hi - lo)) {
			uint64_t i = lo - pos, w, exp, got = 0;
			size_t wn;

			while (buf[i] == want[i])
				i++;
			w = i & ~7ULL;
			wn = n - w < 8 ? (size_t)(n - w) : 8;
			exp = mc_pattern_word(cookie, pos + w);
			memcpy(&got, buf + w, wn);
			got = le64toh(got);
			printf("MISMATCH at offset %" PRIu64 " (0x%" PRIx64 "): word at %" PRIu64
			       ": expected 0x%016" PRIx64 ", got 0x%016" PRIx64 "\n",
			       pos + i, pos + i, pos + w, exp, got);
			return 1;
		}
		pos += (uint64_t)n;
		if ((uint64_t)n < want_bytes && pos < end)
			fail("%s: short read: %zd of %" PRIu64 " bytes at offset %" PRIu64,
			     dev, n, want_bytes, pos - (uint64_t)n);
	}
	printf("OK: %" PRIu64 " bytes at offset %" PRIu64 " of %s match cookie %" PRIu64 "\n",
	       len, off, dev, cookie);
	free(buf);
	free(want);
	close(fd);
	return 0;
}
