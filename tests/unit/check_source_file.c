// SPDX-License-Identifier: MIT
/*
 * The daemon's file source (userd/source_file.c) through source.h, on both
 * event-loop engines: a fill read whole or in file_split pieces at once
 * (MC_IO_PARALLEL or not) lands every byte in its place, zeros after the
 * data; a file that shrank under it fails the fill with a message that
 * says so, once, however many pieces came back short.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "source.h"
#include "check_run.h"

static const enum mc_engine engines[] = { MC_ENGINE_URING, MC_ENGINE_AIO };
#define NENGINES 2

struct fixture {
	struct mc_loop *loop;
	struct mc_sources *ss;
	struct mc_source *src;
	char path[64];
	int fd;
};

struct done {
	int calls, res;
	char msg[512];
};

static void open_cb(void *arg, int res, struct mc_source *s, const char *msg)
{
	struct mc_source **out = arg;

	ck_assert_msg(res == 0, "open: %d %s", res, msg ? msg : "");
	*out = s;
}

static void read_cb(void *arg, int res, const char *msg)
{
	struct done *d = arg;

	d->calls++;
	d->res = res;
	snprintf(d->msg, sizeof(d->msg), "%s", msg ? msg : "");
}

static unsigned char byte_at(uint64_t off)
{
	return (unsigned char)(off * 7 + (off >> 12));
}

/* A file of size bytes; a source on it with these options; NULL without io_uring. */
static bool fixture_up(struct fixture *f, int engine, uint64_t size, bool parallel,
		       uint64_t split)
{
	struct mc_source_opts opts = {
		.max_parallel = 4, .max_retries = 0, .backoff_base_ms = 1,
		.backoff_max_ms = 1, .request_timeout_ms = 1000,
		.file_parallel = parallel, .file_split = split,
	};
	struct mc_source *pending = NULL;
	unsigned char *buf;
	char err[256] = "";
	uint64_t i;
	int rc;

	memset(f, 0, sizeof(*f));
	rc = mc_loop_new(&f->loop, engines[engine], 16, err, sizeof(err));
	if (rc && engines[engine] == MC_ENGINE_URING) {
		printf("skipping io_uring: %s\n", err);
		return false;
	}
	ck_assert_msg(rc == 0, "mc_loop_new: %s", err);
	ck_assert_int_eq(mc_sources_new(&f->ss, f->loop, &opts, err, sizeof(err)), 0);
	snprintf(f->path, sizeof(f->path), "/var/tmp/check_source_file.XXXXXX");
	f->fd = mkstemp(f->path);
	ck_assert_int_ge(f->fd, 0);
	buf = malloc(size);
	ck_assert_ptr_nonnull(buf);
	for (i = 0; i < size; i++)
		buf[i] = byte_at(i);
	ck_assert_int_eq(pwrite(f->fd, buf, size, 0), (ssize_t)size);
	free(buf);
	ck_assert_int_eq(mc_source_open(f->ss, f->path, NULL, NULL, open_cb, &f->src,
					&pending, err, sizeof(err)), 0);
	ck_assert_ptr_nonnull(f->src);
	ck_assert_uint_eq(f->src->size, size);
	return true;
}

static void fixture_down(struct fixture *f)
{
	mc_source_close(f->src);
	mc_sources_free(f->ss);
	mc_loop_free(f->loop);
	close(f->fd);
	unlink(f->path);
}

static void wait_done(struct fixture *f, struct done *d)
{
	int runs;

	for (runs = 0; !d->calls && runs < 1000; runs++)
		ck_assert_int_ge(mc_loop_run_once(f->loop, 1000), 0);
	ck_assert_int_eq(d->calls, 1);
}

/* Read [off, off + len) into a 4 KiB-aligned buffer; check the bytes. */
static void read_and_check(struct fixture *f, uint64_t off, size_t len)
{
	struct mc_source_req rq;
	struct done d = { 0 };
	unsigned char *dst;
	size_t i;

	ck_assert_int_eq(posix_memalign((void **)&dst, 4096, len), 0);
	memset(dst, 0xa5, len);
	ck_assert_int_eq(mc_source_read(f->src, &rq, off, dst, len, read_cb, &d), 0);
	ck_assert_int_eq(d.calls, 0);	/* never inside the call */
	wait_done(f, &d);
	ck_assert_msg(d.res == 0, "read %llu+%zu: %d %s", (unsigned long long)off, len,
		      d.res, d.msg);
	for (i = 0; i < len; i++) {
		unsigned char want = off + i < f->src->size ? byte_at(off + i) : 0;

		ck_assert_msg(dst[i] == want, "byte %llu: %#x, want %#x",
			      (unsigned long long)(off + i), dst[i], want);
	}
	free(dst);
}

/* 1 MiB and a bit: the last extent ends 300 bytes into a block. */
#define FILE_SIZE ((1ULL << 20) + (1ULL << 20) + 12288 + 300)

START_TEST(whole_fills)
{
	struct fixture f;

	if (!fixture_up(&f, _i, FILE_SIZE, false, 0))
		return;
	read_and_check(&f, 0, 1 << 20);
	read_and_check(&f, 1 << 20, 1 << 20);	/* the data ends inside */
	fixture_down(&f);
}
END_TEST

START_TEST(split_fills_in_parallel)
{
	struct fixture f;

	if (!fixture_up(&f, _i, FILE_SIZE, true, 64 << 10))
		return;
	read_and_check(&f, 0, 1 << 20);		/* 16 pieces */
	read_and_check(&f, 1 << 20, 1 << 20);	/* the data ends in piece 1 */
	read_and_check(&f, 64 << 10, 200 << 10);	/* 3 whole pieces and a part */
	read_and_check(&f, 4096, 4096);		/* smaller than a piece */
	fixture_down(&f);
}
END_TEST

START_TEST(split_not_a_multiple_of_blocks)
{
	struct fixture f;

	/* 100000 bytes per piece: taken as whole blocks (24 of 4 KiB). */
	if (!fixture_up(&f, _i, FILE_SIZE, true, 100000))
		return;
	read_and_check(&f, 0, 1 << 20);
	read_and_check(&f, 1 << 20, 1 << 20);
	fixture_down(&f);
}
END_TEST

/* Pieces smaller than a fill allows (256 of 4 KiB): wider ones, all read. */
START_TEST(split_finer_than_the_piece_bound)
{
	struct fixture f;

	if (!fixture_up(&f, _i, FILE_SIZE, true, 4096))
		return;
	read_and_check(&f, 0, 1 << 20);
	read_and_check(&f, 1 << 20, 1 << 20);
	fixture_down(&f);
}
END_TEST

START_TEST(shrunk_file_fails_once)
{
	struct mc_source_req rq;
	struct done d = { 0 };
	struct fixture f;
	unsigned char *dst;

	if (!fixture_up(&f, _i, FILE_SIZE, true, 64 << 10))
		return;
	/* Half the first extent is gone: 8 pieces come back short or empty. */
	ck_assert_int_eq(ftruncate(f.fd, 512 << 10), 0);
	ck_assert_int_eq(posix_memalign((void **)&dst, 4096, 1 << 20), 0);
	ck_assert_int_eq(mc_source_read(f.src, &rq, 0, dst, 1 << 20, read_cb, &d), 0);
	wait_done(&f, &d);
	ck_assert_int_eq(d.res, -EIO);
	ck_assert_msg(strstr(d.msg, "short read") && strstr(d.msg, "did the file shrink?") &&
		      strstr(d.msg, f.path), "message: %s", d.msg);
	/* Nothing more comes: one callback per fill. */
	ck_assert_int_eq(mc_loop_run_once(f.loop, 50), 0);
	ck_assert_int_eq(d.calls, 1);
	free(dst);
	fixture_down(&f);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("source_file");
	TCase *tc = tcase_create("both engines");

	tcase_set_timeout(tc, 30);
	tcase_add_loop_test(tc, whole_fills, 0, NENGINES);
	tcase_add_loop_test(tc, split_fills_in_parallel, 0, NENGINES);
	tcase_add_loop_test(tc, split_not_a_multiple_of_blocks, 0, NENGINES);
	tcase_add_loop_test(tc, split_finer_than_the_piece_bound, 0, NENGINES);
	tcase_add_loop_test(tc, shrunk_file_fails_once, 0, NENGINES);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mc_check_run(suite());
}
