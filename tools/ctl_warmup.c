// SPDX-License-Identifier: MIT
/*
 * maicachectl warmup: fetch a device's extents, or those holding files of
 * a filesystem on it, into the kernel's pool before a job reads them.
 *
 * The module fetches them with no reader (EXTENT_WARM, kmod/warm.c): each
 * call sends the daemon what is not cached of up to 1024 extents, while
 * the device has less than its warmup share of fills in flight, and says
 * where it stopped. This command keeps that share in flight: it calls
 * again from where the last call stopped as soon as room frees, and polls
 * the device's counters (bytes filled) meanwhile for its progress. A pass
 * over the extents is followed by passes over the stretches not yet found
 * all cached, until every extent is (complete) or the pool keeps losing
 * them (incomplete). ^C stops it; what arrived stays cached, and the
 * fills already sent still arrive.
 *
 * Files are mapped to the device with FIEMAP: their filesystem must be
 * on a maicache device (or a partition of one), which st_dev and sysfs
 * tell.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include <linux/fs.h>

#include "errmsg.h"
#include "json.h"
#include "maicachectl.h"
#include "nlclient.h"
#include "parse.h"
#include "progress.h"
#include "warm_plan.h"

/* FIEMAP extents asked for per ioctl. */
#define FIEMAP_BATCH		256
/* Passes over what is left that may fetch again before giving up. */
#define REFETCH_PASSES		3
/* How long to wait when the device has its share in flight, and between passes. */
#define BUSY_WAIT_S		0.02
#define PASS_WAIT_S		0.1

enum warm_result { WARM_COMPLETE, WARM_INCOMPLETE, WARM_INTERRUPTED, WARM_ERROR };

static const char *const result_names[] = {
	[WARM_COMPLETE] = "complete",
	[WARM_INCOMPLETE] = "incomplete",
	[WARM_INTERRUPTED] = "interrupted",
	[WARM_ERROR] = "error",
};

/* One device and what of it to fetch. */
struct warm_target {
	struct mc_dev_info dev;
	struct mc_warm_plan plan;
	uint64_t files;			/* files mapped onto it */
};

struct warm_run {
	struct mc_nl *nl;
	struct warm_target *t;
	size_t n;
	char err[768];
	bool json, tty;

	/* Totals over every device, for the progress lines and the end. */
	uint64_t extents, bytes;
	uint64_t were_cached;		/* extents cached at the first look */
	uint64_t fetched;		/* fills sent */
	uint64_t confirmed, confirmed_bytes;	/* found cached since */
	uint64_t fill_errors;
	uint64_t errors_before;		/* fill errors of the devices already warmed */
	uint64_t done_before;		/* bytes of the devices already warmed */

	/* The device being warmed. */
	struct warm_target *cur;
	uint64_t cached_bytes;		/* of it, cached at the first look */
	uint64_t base_filled, base_errors;
	uint64_t estimate;		/* bytes of it in the pool by now */

	double t0, next_print;
	struct mc_rate rate;
};

static volatile sig_atomic_t warm_stop;

static void on_signal(int sig)
{
	(void)sig;
	warm_stop = 1;
}

static uint64_t read_sysfs_u64(const char *dir, const char *name, bool *ok)
{
	char path[PATH_MAX + 32];
	unsigned long long v = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "r");
	if (!f || fscanf(f, "%llu", &v) != 1)
		*ok = false;
	if (f)
		fclose(f);
	return v;
}

/*
 * The maicache device behind block device @d (a disk or a partition):
 * its id, and where the filesystem starts on it and how long it is
 * (*part_size 0: the whole disk). 0, or -1 with a message naming @what.
 */
static int maicache_of(dev_t d, const char *what, uint32_t *id, uint64_t *part_start,
		       uint64_t *part_size, char *err, size_t errlen)
{
	char link[64], real[PATH_MAX], disk[PATH_MAX], f[PATH_MAX + 32];
	const char *name, *base;
	bool ok = true;
	char extra;

	snprintf(link, sizeof(link), "/sys/dev/block/%u:%u", major(d), minor(d));
	if (!realpath(link, real))
		return mc_errf(err, errlen, -1,
			       "%s: is on no block device (device %u:%u), so not on a maicache device",
			       what, major(d), minor(d));
	base = strrchr(real, '/') + 1;
	snprintf(disk, sizeof(disk), "%s", real);
	*part_start = 0;
	*part_size = 0;
	snprintf(f, sizeof(f), "%s/partition", real);
	if (!access(f, F_OK)) {
		*part_start = read_sysfs_u64(real, "start", &ok) * 512;
		*part_size = read_sysfs_u64(real, "size", &ok) * 512;
		*strrchr(disk, '/') = '\0';
		if (!ok)
			return mc_errf(err, errlen, -1, "%s: cannot read the partition of /dev/%s",
				       what, base);
	}
	name = strrchr(disk, '/') + 1;
	snprintf(f, sizeof(f), "%s/maicache/cookie", disk);
	if (access(f, F_OK) || sscanf(name, "maicache%" SCNu32 "%c", id, &extra) != 1)
		return mc_errf(err, errlen, -1, "%s: is on /dev/%s, not on a maicache device",
			       what, base);
	return 0;
}

/* The device @id among the run's targets, added (DEV_GET) if new. */
static struct warm_target *run_target(struct warm_run *r, uint32_t id)
{
	struct warm_target *t;
	size_t i;

	for (i = 0; i < r->n; i++)
		if (r->t[i].dev.id == id)
			return &r->t[i];
	t = realloc(r->t, (r->n + 1) * sizeof(*t));
	if (!t) {
		snprintf(r->err, sizeof(r->err), "out of memory");
		return NULL;
	}
	r->t = t;
	t = &r->t[r->n];
	memset(t, 0, sizeof(*t));
	if (mc_nl_dev_get(r->nl, id, &t->dev, r->err, sizeof(r->err))) {
		const char *msg = strchr(r->err, ':');
		char why[256];

		/* "stats: no such device (...)" is the lookup's; say what warmup looked up. */
		snprintf(why, sizeof(why), "%.255s", msg && msg[1] ? msg + 2 : r->err);
		snprintf(r->err, sizeof(r->err), "device %u: %s", id, why);
		return NULL;
	}
	mc_plan_init(&t->plan, t->dev.size, t->dev.extent_size);
	r->n++;
	return t;
}

/* Add the extents of the file @path (stat @st) to its device's plan. */
static int map_file(struct warm_run *r, const char *path, const struct stat *st)
{
	uint64_t part_start, part_size, start = 0;
	struct warm_target *t;
	struct fiemap *fm;
	uint32_t id, i;
	int fd, ret = -1;

	if (maicache_of(st->st_dev, path, &id, &part_start, &part_size, r->err, sizeof(r->err)))
		return -1;
	t = run_target(r, id);
	if (!t)
		return -1;
	if (!part_size)
		part_size = t->dev.size;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		snprintf(r->err, sizeof(r->err), "%s: %s", path, strerror(errno));
		return -1;
	}
	fm = malloc(sizeof(*fm) + FIEMAP_BATCH * sizeof(struct fiemap_extent));
	if (!fm) {
		snprintf(r->err, sizeof(r->err), "out of memory");
		goto out;
	}
	for (;;) {
		struct fiemap_extent *last;

		memset(fm, 0, sizeof(*fm));
		fm->fm_start = start;
		fm->fm_length = FIEMAP_MAX_OFFSET - start;
		fm->fm_extent_count = FIEMAP_BATCH;
		if (ioctl(fd, FS_IOC_FIEMAP, fm)) {
			if (errno == EOPNOTSUPP || errno == ENOTTY)
				snprintf(r->err, sizeof(r->err),
					 "%s: its filesystem cannot map files to the device (no FIEMAP): warm the whole device instead (maicachectl warmup /dev/%s)",
					 path, t->dev.name);
			else
				snprintf(r->err, sizeof(r->err), "%s: FIEMAP: %s", path,
					 strerror(errno));
			goto out;
		}
		if (!fm->fm_mapped_extents)
			break;
		for (i = 0; i < fm->fm_mapped_extents; i++) {
			int err = mc_plan_add_fiemap(&t->plan, &fm->fm_extents[i], part_start,
						     part_size);

			if (err == -ENOMEM) {
				snprintf(r->err, sizeof(r->err), "out of memory");
				goto out;
			}
			if (err) {
				snprintf(r->err, sizeof(r->err),
					 "%s: an extent at byte %llu lies outside the filesystem's device /dev/%s: the filesystem and the device disagree",
					 path, (unsigned long long)fm->fm_extents[i].fe_physical,
					 t->dev.name);
				goto out;
			}
		}
		last = &fm->fm_extents[fm->fm_mapped_extents - 1];
		if (last->fe_flags & FIEMAP_EXTENT_LAST)
			break;
		start = last->fe_logical + last->fe_length;
	}
	t->files++;
	ret = 0;
out:
	free(fm);
	close(fd);
	return ret;
}

/* nftw() has no argument for its callback. */
static struct warm_run *walk_run;

static int walk_one(const char *path, const struct stat *st, int type, struct FTW *ftw)
{
	(void)ftw;
	if (type == FTW_DNR || type == FTW_NS) {
		snprintf(walk_run->err, sizeof(walk_run->err), "%s: cannot read it", path);
		return 1;
	}
	if (type == FTW_F && S_ISREG(st->st_mode))
		return map_file(walk_run, path, st) ? 1 : 0;
	return 0;
}

/* A file, or every regular file under a directory (one filesystem). */
static int map_path(struct warm_run *r, const char *path)
{
	struct stat st;

	if (stat(path, &st)) {
		snprintf(r->err, sizeof(r->err), "%s: %s", path, strerror(errno));
		return -1;
	}
	if (S_ISREG(st.st_mode))
		return map_file(r, path, &st);
	if (!S_ISDIR(st.st_mode)) {
		snprintf(r->err, sizeof(r->err), "%s: %s", path, S_ISBLK(st.st_mode) ?
			 "a device is warmed alone, not with files" :
			 "not a regular file or a directory");
		return -1;
	}
	walk_run = r;
	r->err[0] = '\0';
	if (nftw(path, walk_one, 16, FTW_PHYS | FTW_MOUNT)) {
		if (!r->err[0])
			snprintf(r->err, sizeof(r->err), "%s: %s", path, strerror(errno));
		return -1;
	}
	return 0;
}

struct find_name {
	const char *name;
	int64_t id;
};

static int find_name_one(const struct mc_dev_info *d, void *arg)
{
	struct find_name *f = arg;

	if (!d->held && d->volume_name[0] && !strcmp(d->volume_name, f->name))
		f->id = d->id;
	return 0;
}

/*
 * The device an argument names: a block device (/dev/maicacheN, a
 * partition of it, /dev/disk/by-maicache/NAME), a volume name, or a
 * device id. 1 when it names none of those (then it is a path), 0 with
 * the device in *id and the stretch of it (*part_size 0: all), -1 on error.
 */
static int device_arg(struct warm_run *r, const char *arg, uint32_t *id, uint64_t *part_start,
		      uint64_t *part_size)
{
	struct find_name f = { .name = arg, .id = -1 };
	struct stat st;
	uint64_t v;

	if (!stat(arg, &st)) {
		if (!S_ISBLK(st.st_mode))
			return 1;
		return maicache_of(st.st_rdev, arg, id, part_start, part_size, r->err,
				   sizeof(r->err)) ? -1 : 0;
	}
	if (errno != ENOENT) {
		snprintf(r->err, sizeof(r->err), "%s: %s", arg, strerror(errno));
		return -1;
	}
	if (strchr(arg, '/')) {
		snprintf(r->err, sizeof(r->err), "%s: no such file or maicache device", arg);
		return -1;
	}
	*part_start = 0;
	*part_size = 0;
	if (mc_nl_dev_list(r->nl, find_name_one, &f, r->err, sizeof(r->err)))
		return -1;
	if (f.id >= 0) {
		*id = (uint32_t)f.id;
		return 0;
	}
	if (!mc_parse_uint(arg, &v) && v <= UINT32_MAX) {
		*id = (uint32_t)v;
		return 0;
	}
	snprintf(r->err, sizeof(r->err), "%s: no such file, maicache device or volume name", arg);
	return -1;
}

/* Read the device's counters: what it filled since the start, and errors. */
static void run_sample(struct warm_run *r)
{
	struct mc_dev_info d;
	char err[256];
	uint64_t filled, total;

	if (!r->cur || mc_nl_dev_get(r->nl, r->cur->dev.id, &d, err, sizeof(err)))
		return;
	filled = d.stats.bytes_filled >= r->base_filled ? d.stats.bytes_filled - r->base_filled : 0;
	total = mc_plan_bytes(&r->cur->plan);
	/*
	 * Counts what readers filled meanwhile too: an estimate, capped at
	 * the device's part; the passes say exactly what is cached.
	 */
	r->estimate = r->cached_bytes + filled;
	if (r->estimate < r->confirmed_bytes - r->done_before)
		r->estimate = r->confirmed_bytes - r->done_before;
	if (r->estimate > total)
		r->estimate = total;
	r->fill_errors = r->errors_before + d.stats.fill_errors - r->base_errors;
}

static uint64_t run_done(const struct warm_run *r)
{
	return r->done_before + r->estimate;
}

static void print_progress(struct warm_run *r, double t)
{
	double rate = mc_rate_get(&r->rate), eta = mc_eta(run_done(r), r->bytes, rate);
	char line[160];

	if (r->json) {
		printf("{\"event\":\"progress\",\"elapsed_s\":%.3f,\"bytes_done\":%" PRIu64
		       ",\"bytes_total\":%" PRIu64 ",\"extents_total\":%" PRIu64
		       ",\"extents_were_cached\":%" PRIu64 ",\"extents_fetched\":%" PRIu64
		       ",\"extents_confirmed\":%" PRIu64 ",\"fill_errors\":%" PRIu64
		       ",\"rate_bytes_per_s\":%.0f,\"eta_s\":",
		       t - r->t0, run_done(r), r->bytes, r->extents, r->were_cached, r->fetched,
		       r->confirmed, r->fill_errors, rate);
		if (eta < 0)
			printf("null}\n");
		else
			printf("%.1f}\n", eta);
	} else {
		printf("\r%s\033[K", mc_progress_line(line, sizeof(line), 30, run_done(r),
						      r->bytes, rate));
	}
	fflush(stdout);
}

/* Between calls: sample and print when due (each second as JSON, 4 times a second on a terminal). */
static void run_tick(struct warm_run *r)
{
	double t = mc_now_s();

	if (t < r->next_print)
		return;
	run_sample(r);
	mc_rate_add(&r->rate, t, run_done(r));
	print_progress(r, t);
	r->next_print = t + (r->json ? 1.0 : 0.25);
}

static void run_wait(struct warm_run *r, double s)
{
	mc_sleep_s(s);
	run_tick(r);
}

/* Append [first, last] to runs, merging with the last run it touches. */
static int push_run(struct mc_extent_run **runs, size_t *n, size_t *cap, uint64_t first,
		    uint64_t last)
{
	if (*n && (*runs)[*n - 1].last + 1 == first) {
		(*runs)[*n - 1].last = last;
		return 0;
	}
	if (*n == *cap) {
		size_t c = *cap ? *cap * 2 : 16;
		struct mc_extent_run *p = realloc(*runs, c * sizeof(*p));

		if (!p)
			return -1;
		*runs = p;
		*cap = c;
	}
	(*runs)[(*n)++] = (struct mc_extent_run){ first, last };
	return 0;
}

/* Warm one device; its plan is finished. */
static enum warm_result warm_target(struct warm_run *r, struct warm_target *t)
{
	struct mc_extent_run *todo = NULL, *left = NULL, *swap;
	size_t ntodo = 0, nleft = 0, captodo = 0, capleft = 0, i;
	enum warm_result res = WARM_ERROR;
	int pass, refetches = 0;
	struct mc_dev_info d;

	if (mc_nl_dev_get(r->nl, t->dev.id, &d, r->err, sizeof(r->err)))
		return WARM_ERROR;
	r->cur = t;
	r->cached_bytes = 0;
	r->estimate = 0;
	r->base_filled = d.stats.bytes_filled;
	r->base_errors = d.stats.fill_errors;
	for (i = 0; i < t->plan.n; i++)
		if (push_run(&todo, &ntodo, &captodo, t->plan.runs[i].first, t->plan.runs[i].last))
			goto oom;

	for (pass = 1; ntodo; pass++) {
		uint64_t queued = 0;

		nleft = 0;
		for (i = 0; i < ntodo && !warm_stop; i++) {
			uint64_t at = todo[i].first;

			while (at <= todo[i].last && !warm_stop) {
				struct mc_warm_reply w;
				uint64_t seg;

				if (mc_nl_extent_warm(r->nl, t->dev.id, at, todo[i].last, &w,
						      r->err, sizeof(r->err)))
					goto out;
				if (w.next < at || w.next > todo[i].last + 1) {
					snprintf(r->err, sizeof(r->err),
						 "warmup: the module answered extent %" PRIu64
						 " for a call from %" PRIu64, w.next, at);
					goto out;
				}
				seg = w.next - at;
				if (pass == 1) {
					r->were_cached += w.ready;
					r->cached_bytes += (uint64_t)w.ready << t->plan.extent_shift;
				}
				r->fetched += w.queued;
				queued += w.queued;
				if (seg && w.ready == seg) {
					r->confirmed += seg;
					r->confirmed_bytes += mc_plan_run_bytes(&t->plan, at, w.next - 1);
				} else if (seg &&
					   push_run(&left, &nleft, &capleft, at, w.next - 1)) {
					goto oom;
				}
				at = w.next;
				if (w.busy)
					run_wait(r, BUSY_WAIT_S);
				else
					run_tick(r);
			}
		}
		if (warm_stop) {
			res = WARM_INTERRUPTED;
			goto out;
		}
		/* Fetched again: evicted before it was found, or its fill failed. */
		if (pass > 1 && queued && ++refetches > REFETCH_PASSES) {
			uint64_t lost = 0;

			for (i = 0; i < nleft; i++)
				lost += left[i].last - left[i].first + 1;
			run_sample(r);
			snprintf(r->err, sizeof(r->err),
				 "%" PRIu64 " extent(s) of /dev/%s could not be kept cached after %d passes: %s",
				 lost, t->dev.name, pass,
				 r->fill_errors ? "fills failed (see fill_errors and the daemon's log)" :
				 "the pool is too small to hold them with what else it holds");
			res = WARM_INCOMPLETE;
			goto out;
		}
		swap = todo;
		todo = left;
		left = swap;
		ntodo = nleft;
		i = captodo;
		captodo = capleft;
		capleft = i;
		if (ntodo)
			run_wait(r, PASS_WAIT_S);
	}
	res = WARM_COMPLETE;
	r->estimate = mc_plan_bytes(&t->plan);
	goto out;
oom:
	snprintf(r->err, sizeof(r->err), "out of memory");
out:
	run_sample(r);
	r->done_before += res == WARM_COMPLETE ? mc_plan_bytes(&t->plan) : r->estimate;
	r->errors_before = r->fill_errors;
	r->estimate = 0;
	r->cur = NULL;
	free(todo);
	free(left);
	return res;
}

static void print_end(struct warm_run *r, enum warm_result res)
{
	double t = mc_now_s() - r->t0;
	uint64_t done = res == WARM_COMPLETE ? r->bytes : r->done_before;
	char a[16], b[16], c[16];
	size_t i;

	if (r->json) {
		printf("{\"event\":\"done\",\"result\":\"%s\",\"elapsed_s\":%.3f,\"bytes_done\":%" PRIu64
		       ",\"bytes_total\":%" PRIu64 ",\"extents_total\":%" PRIu64
		       ",\"extents_were_cached\":%" PRIu64 ",\"extents_fetched\":%" PRIu64
		       ",\"extents_confirmed\":%" PRIu64 ",\"fill_errors\":%" PRIu64
		       ",\"rate_bytes_per_s\":%.0f",
		       result_names[res], t, done, r->bytes, r->extents, r->were_cached,
		       r->fetched, r->confirmed, r->fill_errors, t > 0 ? (double)done / t : 0.0);
		mc_json_member(stdout, "error", res == WARM_COMPLETE ? NULL : r->err);
		printf(",\"devices\":[");
		for (i = 0; i < r->n; i++) {
			printf("%s{\"id\":%u", i ? "," : "", r->t[i].dev.id);
			mc_json_member(stdout, "name", r->t[i].dev.name);
			printf(",\"files\":%" PRIu64 ",\"extents\":%" PRIu64 ",\"bytes\":%" PRIu64
			       ",\"fiemap_unmapped\":%" PRIu64 ",\"fiemap_unwritten\":%" PRIu64 "}",
			       r->t[i].files, mc_plan_extents(&r->t[i].plan),
			       mc_plan_bytes(&r->t[i].plan), r->t[i].plan.unmapped,
			       r->t[i].plan.unwritten);
		}
		printf("]}\n");
		return;
	}
	if (r->tty)
		printf("\r\033[K");
	mc_fmt_bytes(a, sizeof(a), (double)done);
	mc_fmt_bytes(b, sizeof(b), (double)r->bytes);
	mc_fmt_bytes(c, sizeof(c), t > 0 ? (double)done / t : 0);
	printf("warmup %s: %s of %s in %.1f s (%s/s); %" PRIu64 " extent(s): %" PRIu64
	       " were cached, %" PRIu64 " fetched",
	       result_names[res], a, b, t, c, r->extents, r->were_cached, r->fetched);
	if (r->fill_errors)
		printf(", %" PRIu64 " fill error(s)", r->fill_errors);
	printf("\n");
	for (i = 0; i < r->n; i++)
		if (r->t[i].plan.unmapped || r->t[i].plan.unwritten)
			printf("  /dev/%s: %" PRIu64 " file extent(s) with no place on the device yet, %"
			       PRIu64 " preallocated (zeros): nothing to fetch for them\n",
			       r->t[i].dev.name, r->t[i].plan.unmapped, r->t[i].plan.unwritten);
	if (res == WARM_INTERRUPTED)
		printf("  interrupted: what arrived stays cached; fills already sent still arrive\n");
}

static void warmup_usage(FILE *f)
{
	fprintf(f,
		"usage: maicachectl [--json] warmup NAME|/dev/maicacheN|ID [--range START-END]\n"
		"       maicachectl [--json] warmup PATH...\n"
		"Fetch a device's extents (START-END: bytes, END exclusive, e.g. 0-1G, 512M-),\n"
		"or those of files and directories on a filesystem mounted from one, into\n"
		"the pool before they are read. A progress bar on a terminal, else (or with\n"
		"--json) one JSON line a second and a last one with the totals.\n"
		"Exit status: 0 all cached, 1 not all (error, pool too small), 130 interrupted.\n");
}

int cmd_warmup(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "range", required_argument, NULL, 'r' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct warm_run r = { .json = json };
	enum warm_result res = WARM_ERROR;
	uint64_t part_start = 0, part_size = 0;
	const char *range = NULL;
	struct sigaction sa;
	int c, i, kind;
	uint32_t id;
	size_t k;

	optind = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'r': range = optarg; break;
		case 'j': r.json = true; break;
		case 'h': warmup_usage(stdout); return 0;
		default: warmup_usage(stderr); return 2;
		}
	}
	if (optind >= argc) {
		warmup_usage(stderr);
		return 2;
	}
	r.tty = isatty(STDOUT_FILENO);
	if (!r.tty)
		r.json = true;
	r.nl = mc_nl_open(r.err, sizeof(r.err));
	if (!r.nl)
		return fail(r.err);

	kind = device_arg(&r, argv[optind], &id, &part_start, &part_size);
	if (kind < 0)
		goto fail;
	if (!kind) {
		struct warm_target *t;
		uint64_t start = 0, end;

		if (argc - optind > 1) {
			snprintf(r.err, sizeof(r.err),
				 "warmup: a device is warmed alone: give one argument (--range for part of it)");
			goto usage;
		}
		t = run_target(&r, id);
		if (!t)
			goto fail;
		if (!part_size)
			part_size = t->dev.size;
		end = part_size;
		if (range && mc_parse_range(range, part_size, &start, &end, r.err, sizeof(r.err)))
			goto usage;
		if (mc_plan_add_bytes(&t->plan, part_start + start, end - start)) {
			snprintf(r.err, sizeof(r.err), "%s: the partition lies past the end of /dev/%s",
				 argv[optind], t->dev.name);
			goto fail;
		}
	} else {
		if (range) {
			snprintf(r.err, sizeof(r.err),
				 "--range goes with a device, not with files (%s)", argv[optind]);
			goto usage;
		}
		for (i = optind; i < argc; i++)
			if (map_path(&r, argv[i]))
				goto fail;
	}
	for (k = 0; k < r.n; k++) {
		mc_plan_finish(&r.t[k].plan);
		r.extents += mc_plan_extents(&r.t[k].plan);
		r.bytes += mc_plan_bytes(&r.t[k].plan);
	}

	/* ^C ends the warmup, not the process: the last line still goes out. */
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	r.t0 = mc_now_s();
	mc_rate_init(&r.rate, 3.0);
	mc_rate_add(&r.rate, r.t0, 0);
	res = WARM_COMPLETE;
	for (k = 0; k < r.n && res == WARM_COMPLETE; k++)
		res = warm_target(&r, &r.t[k]);
	if (warm_stop)
		res = WARM_INTERRUPTED;
	print_end(&r, res);
	if (res == WARM_INCOMPLETE || res == WARM_ERROR)
		fprintf(stderr, "maicachectl: %s\n", r.err);
	goto out;

usage:
	fprintf(stderr, "maicachectl: %s\n", r.err);
	res = WARM_ERROR;
	c = 2;
	goto close;
fail:
	fprintf(stderr, "maicachectl: %s\n", r.err);
	res = WARM_ERROR;
out:
	c = res == WARM_COMPLETE ? 0 : res == WARM_INTERRUPTED ? 130 : 1;
close:
	for (k = 0; k < r.n; k++)
		mc_plan_free(&r.t[k].plan);
	free(r.t);
	mc_nl_close(r.nl);
	return c;
}
