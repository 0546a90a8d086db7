// SPDX-License-Identifier: MIT
/*
 * mc-filler: the small, deterministic test daemon of maicache.
 *
 * Attaches to /dev/maicache, maps the miss ring, the completion ring and the
 * pool, and fills every miss from a file (--source) or with a pattern
 * (--pattern), posting completions and kicking the kernel once per batch.
 * The event loop is io_uring: a POLL_ADD on the device, one on a signalfd,
 * and the kicks as 8-byte WRITEs. See usage() for the options; the ring logic
 * itself is in filler.c.
 *
 * A sparse regular file can stand in for the device (see
 * tests/unit/check_filler.c and the report of the filler): the kick then
 * lands at MC_FILE_KICK_OFF as a little-endian kick counter.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <liburing.h>

#include "filler.h"
#include "ring_map.h"

/* Where kicks go when the "device" is a regular file: unused, before CPL. */
#define MC_FILE_KICK_OFF (MAICACHE_MMAP_CPL - 4096)

enum { UD_POLL_DEV = 1, UD_POLL_SIG, UD_KICK };
#define KICK_BUFS 64

struct daemon {
	const char *dev;
	struct mc_ring_map map;
	int fd;		/* map.fd */
	bool is_file;
	int sigfd;
	struct io_uring ring;
	bool dev_armed, sig_armed, dev_ready;
	bool stop;
	int stop_sig;
	unsigned int kicks_out;
	int kick_err;		/* first failed async kick */
	uint64_t kick_seq;
	uint64_t kick_buf[KICK_BUFS];
	unsigned int delay_ms;
	const char *stats_file;
	bool stats_warned;
	struct timespec last_stats;
	struct timespec stall_since;
	int stall_ms;
	bool stall_warned;
	bool quiet;
	bool verbose;
	uint64_t lost_wakeups;
	struct mc_filler f;
};

static const char *prog = "mc-filler";

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2), noreturn));
static void die(const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static void say(struct daemon *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void say(struct daemon *d, const char *fmt, ...)
{
	va_list ap;

	if (d->quiet)
		return;
	fprintf(stderr, "%s: ", prog);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static void usage(FILE *out, int rc)
{
	fprintf(out,
		"Usage: %s [OPTIONS]\n"
		"Test daemon for maicache: fills misses of the ring on /dev/maicache.\n"
		"\n"
		"  --dev PATH            the ring device (default /dev/maicache)\n"
		"  --source COOKIE=PATH  fill misses of devices with COOKIE from PATH (file or\n"
		"                        block device) at byte extent << extent_shift; repeatable\n"
		"  --pattern             fill cookies without a --source with the test pattern:\n"
		"                        LE64 word at device offset o = o ^ (cookie * 0x9E3779B97F4A7C15)\n"
		"  --delay-ms N          sleep N ms before completing each batch\n"
		"  --fail-every N        complete every Nth miss with EIO\n"
		"  --hostile             also post garbage completions and index games\n"
		"  --seed N              seed of the --hostile PRNG (default 1)\n"
		"  --exit-after N        exit 0 once N misses were completed\n"
		"  --stats-file PATH     write counters (key value lines) at start, every second\n"
		"                        and on exit\n"
		"  --quiet               no messages but errors\n"
		"  --verbose             a line per batch\n"
		"\n"
		"SIGTERM/SIGINT finish the current batch and exit 0. Cookies are decimal or 0x hex.\n",
		prog);
	exit(rc);
}

static uint64_t parse_u64(const char *opt, const char *s)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *end || *s == '-')
		die("%s: '%s' is not a number", opt, s);
	return v;
}

/* ------------------------------------------------------------------------ */
/* io_uring plumbing. */

static struct io_uring_sqe *get_sqe(struct daemon *d)
{
	struct io_uring_sqe *sqe = io_uring_get_sqe(&d->ring);

	if (!sqe) {
		io_uring_submit(&d->ring);
		sqe = io_uring_get_sqe(&d->ring);
		if (!sqe)
			die("io_uring: no free submission entry");
	}
	return sqe;
}

static void arm_poll(struct daemon *d, int fd, uint64_t ud)
{
	struct io_uring_sqe *sqe = get_sqe(d);

	io_uring_prep_poll_add(sqe, fd, POLLIN);
	io_uring_sqe_set_data64(sqe, ud);
}

static void handle_cqe(struct daemon *d, struct io_uring_cqe *cqe)
{
	uint64_t ud = io_uring_cqe_get_data64(cqe);
	int res = cqe->res;

	switch (ud) {
	case LIBURING_UDATA_TIMEOUT:	/* old kernels: liburing's own timeout */
		break;
	case UD_POLL_DEV:
		d->dev_armed = false;
		if (res < 0)
			die("%s: poll failed: %s", d->dev, strerror(-res));
		if (res & (POLLERR | POLLHUP | POLLNVAL))
			die("%s: the device reports %s%s%s: the module dropped this daemon",
			    d->dev, res & POLLERR ? "POLLERR " : "",
			    res & POLLHUP ? "POLLHUP " : "", res & POLLNVAL ? "POLLNVAL" : "");
		if (res & POLLIN)
			d->dev_ready = true;
		break;
	case UD_POLL_SIG: {
		struct signalfd_siginfo si;

		d->sig_armed = false;
		if (read(d->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
			d->stop_sig = (int)si.ssi_signo;
		d->stop = true;
		break;
	}
	case UD_KICK:
		d->kicks_out--;
		if (res != 8 && !d->kick_err)
			d->kick_err = res < 0 ? res : -EIO;
		break;
	default:
		die("io_uring: unexpected completion %" PRIu64, ud);
	}
}

static void reap(struct daemon *d)
{
	struct io_uring_cqe *cqe;
	unsigned int head, n = 0;

	io_uring_for_each_cqe(&d->ring, head, cqe) {
		handle_cqe(d, cqe);
		n++;
	}
	io_uring_cq_advance(&d->ring, n);
}

static void wait_one(struct daemon *d)
{
	struct io_uring_cqe *cqe;
	int err;

	do
		err = io_uring_wait_cqe(&d->ring, &cqe);
	while (err == -EINTR);
	if (err < 0)
		die("io_uring: wait failed: %s", strerror(-err));
	reap(d);
}

static int take_kick_err(struct daemon *d)
{
	int err = d->kick_err;

	d->kick_err = 0;
	return err;
}

/* The one way the kernel hears about completions: write 8 bytes. */
static int do_kick(struct mc_filler *f, bool wait)
{
	struct daemon *d = f->priv;
	struct io_uring_sqe *sqe;
	uint64_t *buf;
	int err;

	while (d->kicks_out >= KICK_BUFS)
		wait_one(d);
	buf = &d->kick_buf[d->kick_seq % KICK_BUFS];
	*buf = htole64(++d->kick_seq);
	sqe = get_sqe(d);
	io_uring_prep_write(sqe, d->fd, buf, 8, d->is_file ? MC_FILE_KICK_OFF : 0);
	/*
	 * Straight to an io-wq worker: /dev/maicache has no FMODE_NOWAIT, so
	 * io_uring would otherwise poll it for POLLOUT (always ready) first
	 * and end up there anyway.
	 */
	io_uring_sqe_set_flags(sqe, IOSQE_ASYNC);
	io_uring_sqe_set_data64(sqe, UD_KICK);
	d->kicks_out++;
	err = io_uring_submit(&d->ring);
	if (err < 0)
		die("io_uring: submit failed: %s", strerror(-err));
	if (!wait)
		return 0;
	while (d->kicks_out)
		wait_one(d);
	return take_kick_err(d);
}

static double since(const struct timespec *t)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (double)(now.tv_sec - t->tv_sec) + (now.tv_nsec - t->tv_nsec) / 1e9;
}

/* Sleep ms, cut short by SIGTERM/SIGINT (which then stops us after the batch). */
static void nap(struct daemon *d, int ms)
{
	struct pollfd p = { .fd = d->sigfd, .events = POLLIN };
	struct signalfd_siginfo si;

	if (poll(&p, 1, ms) > 0) {
		d->stop = true;
		if (read(d->sigfd, &si, sizeof(si)) == (ssize_t)sizeof(si))
			d->stop_sig = (int)si.ssi_signo;
	}
}

static void check_signals(struct daemon *d)
{
	sigset_t set;

	if (sigpending(&set) == 0 && (sigismember(&set, SIGTERM) || sigismember(&set, SIGINT)))
		nap(d, 0);
}

static int do_stall(struct mc_filler *f)
{
	struct daemon *d = f->priv;

	if (d->stall_since.tv_sec == 0 && d->stall_since.tv_nsec == 0) {
		clock_gettime(CLOCK_MONOTONIC, &d->stall_since);
		d->stall_ms = 1;
	}
	/* The kernel consumes on kicks: retry soon, then back off a little. */
	nap(d, d->stall_ms);
	if (d->stall_ms < 50)
		d->stall_ms *= 2;
	if (d->stop)
		return 1;
	if (!d->stall_warned && since(&d->stall_since) > 10) {
		say(d, "%s: the completion ring has been full for 10 s: is the kernel consuming completions?",
		    d->dev);
		d->stall_warned = true;
	}
	return 0;
}

static void do_log(struct mc_filler *f, const char *msg)
{
	say(f->priv, "%s", msg);
}

/* ------------------------------------------------------------------------ */

static void write_stats(struct daemon *d)
{
	char tmp[PATH_MAX];
	const struct mc_counters *c = &d->f.c;
	FILE *out;

	clock_gettime(CLOCK_MONOTONIC, &d->last_stats);
	if (!d->stats_file)
		return;
	if (snprintf(tmp, sizeof(tmp), "%s.tmp", d->stats_file) >= (int)sizeof(tmp))
		die("--stats-file: path too long");
	out = fopen(tmp, "w");
	if (out) {
		fprintf(out,
			"misses %" PRIu64 "\nbytes %" PRIu64 "\nerrors %" PRIu64
			"\nhostile_posted %" PRIu64 "\nhostile_cpl %" PRIu64 "\nhostile_idx %" PRIu64
			"\nbatches %" PRIu64 "\nkicks %" PRIu64 "\nring_full %" PRIu64
			"\nlost_wakeups %" PRIu64 "\n",
			c->misses, c->bytes, c->errors, c->hostile_posted, c->hostile_cpl,
			c->hostile_idx, c->batches, c->kicks, c->ring_full, d->lost_wakeups);
		if (fclose(out) == 0 && rename(tmp, d->stats_file) == 0)
			return;
	}
	if (!d->stats_warned)
		fprintf(stderr, "%s: cannot write --stats-file %s: %s\n", prog, d->stats_file,
			strerror(errno));
	d->stats_warned = true;
}

/* The ring device, or a regular file standing in for it. */
static void open_device(struct daemon *d)
{
	struct stat st;
	char err[512];

	if (mc_ring_open(&d->map, d->dev, err, sizeof(err)))
		die("%s", err);
	d->fd = d->map.fd;
	if (fstat(d->fd, &st) < 0)
		die("%s: fstat: %s", d->dev, strerror(errno));
	d->is_file = S_ISREG(st.st_mode);
}

static void map_rings(struct daemon *d)
{
	const struct maicache_miss_hdr *h;
	char err[512];

	if (mc_ring_map(&d->map, d->dev, err, sizeof(err)))
		die("%s", err);
	h = d->map.miss;
	mc_filler_start(&d->f, d->map.miss, d->map.cpl, d->map.pool);
	say(d, "attached to %s: miss ring %u, completion ring %u, pool %" PRIu64
	    " bytes, attach_seq %" PRIu64,
	    d->dev, d->f.ring.miss_entries, d->f.ring.cpl_entries, d->map.pool_size,
	    le64toh(h->attach_seq));
}

static void add_source(struct daemon *d, const char *arg)
{
	const char *eq = strchr(arg, '=');
	struct mc_source *s;
	char num[64];

	if (!eq || eq == arg || !eq[1] || (size_t)(eq - arg) >= sizeof(num))
		die("--source: want COOKIE=PATH, got '%s'", arg);
	memcpy(num, arg, (size_t)(eq - arg));
	num[eq - arg] = 0;
	s = realloc(d->f.sources, (d->f.nsources + 1) * sizeof(*s));
	if (!s)
		die("out of memory");
	d->f.sources = s;
	s = &s[d->f.nsources];
	s->cookie = parse_u64("--source", num);
	for (size_t i = 0; i < d->f.nsources; i++)
		if (d->f.sources[i].cookie == s->cookie)
			die("--source: cookie %s given twice", num);
	s->path = eq + 1;
	s->fd = open(s->path, O_RDONLY | O_CLOEXEC);
	if (s->fd < 0)
		die("--source %s: cannot open %s: %s", arg, s->path, strerror(errno));
	d->f.nsources++;
}

static void parse_args(struct daemon *d, int argc, char **argv)
{
	enum { O_DEV = 256, O_SOURCE, O_PATTERN, O_DELAY, O_FAIL, O_HOSTILE, O_SEED,
	       O_EXIT, O_STATS, O_QUIET, O_VERBOSE, O_HELP };
	static const struct option opts[] = {
		{ "dev", required_argument, NULL, O_DEV },
		{ "source", required_argument, NULL, O_SOURCE },
		{ "pattern", no_argument, NULL, O_PATTERN },
		{ "delay-ms", required_argument, NULL, O_DELAY },
		{ "fail-every", required_argument, NULL, O_FAIL },
		{ "hostile", no_argument, NULL, O_HOSTILE },
		{ "seed", required_argument, NULL, O_SEED },
		{ "exit-after", required_argument, NULL, O_EXIT },
		{ "stats-file", required_argument, NULL, O_STATS },
		{ "quiet", no_argument, NULL, O_QUIET },
		{ "verbose", no_argument, NULL, O_VERBOSE },
		{ "help", no_argument, NULL, O_HELP },
		{ 0 },
	};
	uint64_t v;
	int c;

	d->dev = "/dev/maicache";
	d->f.seed = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case O_DEV: d->dev = optarg; break;
		case O_SOURCE: add_source(d, optarg); break;
		case O_PATTERN: d->f.pattern = true; break;
		case O_DELAY:
			v = parse_u64("--delay-ms", optarg);
			if (v > INT_MAX)
				die("--delay-ms: %s is too long", optarg);
			d->delay_ms = (unsigned int)v;
			break;
		case O_FAIL: d->f.fail_every = parse_u64("--fail-every", optarg); break;
		case O_HOSTILE: d->f.hostile = true; break;
		case O_SEED: d->f.seed = parse_u64("--seed", optarg); break;
		case O_EXIT:
			d->f.exit_after = parse_u64("--exit-after", optarg);
			if (!d->f.exit_after)
				die("--exit-after: want at least 1");
			break;
		case O_STATS: d->stats_file = optarg; break;
		case O_QUIET: d->quiet = true; break;
		case O_VERBOSE: d->verbose = true; break;
		case O_HELP: usage(stdout, 0); break;
		default: usage(stderr, 2);
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", prog, argv[optind]);
		usage(stderr, 2);
	}
	if (!d->f.nsources && !d->f.pattern)
		fprintf(stderr, "%s: warning: neither --source nor --pattern: every miss fails with EIO\n",
			prog);
}

static void setup_signals(struct daemon *d)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	if (sigprocmask(SIG_BLOCK, &set, NULL) < 0)
		die("sigprocmask: %s", strerror(errno));
	d->sigfd = signalfd(-1, &set, SFD_CLOEXEC | SFD_NONBLOCK);
	if (d->sigfd < 0)
		die("signalfd: %s", strerror(errno));
	/* A closed log pipe must not kill us mid-batch. */
	signal(SIGPIPE, SIG_IGN);
}

int main(int argc, char **argv)
{
	static struct daemon dd;
	struct daemon *d = &dd;
	struct mc_filler *f = &d->f;
	struct __kernel_timespec tick = { .tv_sec = 1 };
	int err;

	parse_args(d, argc, argv);
	setup_signals(d);
	open_device(d);

	err = io_uring_queue_init(16, &d->ring, 0);
	if (err < 0)
		die("io_uring_queue_init: %s%s", strerror(-err),
		    err == -EPERM || err == -ENOSYS ?
		    ": io_uring is disabled (sysctl kernel.io_uring_disabled)" : "");

	f->priv = d;
	f->kick = do_kick;
	f->stall = do_stall;
	f->log = do_log;
	map_rings(d);
	if (f->ring.unkicked && (err = do_kick(f, false)))
		die("%s: kick failed: %s", d->dev, strerror(-err));
	write_stats(d);

	while (!d->stop && !mc_filler_done(f)) {
		struct io_uring_cqe *cqe;
		int waited;

		if (!d->dev_armed) {
			arm_poll(d, d->fd, UD_POLL_DEV);
			d->dev_armed = true;
		}
		if (!d->sig_armed) {
			arm_poll(d, d->sigfd, UD_POLL_SIG);
			d->sig_armed = true;
		}
		waited = io_uring_submit_and_wait_timeout(&d->ring, &cqe, 1, &tick, NULL);
		if (waited < 0 && waited != -ETIME && waited != -EINTR)
			die("io_uring: wait failed: %s", strerror(-waited));
		reap(d);
		if (!d->stop)
			check_signals(d);	/* belt and braces for the signalfd poll */
		if ((err = take_kick_err(d))) {
			if (!f->hostile)
				die("%s: kick (8-byte write) failed: %s", d->dev, strerror(-err));
			say(d, "kick refused: %s (hostile mode: going on)", strerror(-err));
		}
		if (d->verbose && waited == -ETIME)
			say(d, "idle: miss.head %u cpl.miss_tail %u cpl.head %u miss.cpl_tail %u, %u kicks in flight",
			    le32toh(f->ring.mhdr->head), f->ring.miss_tail, f->ring.cpl_head,
			    le32toh(f->ring.mhdr->cpl_tail), d->kicks_out);
		if (!d->dev_ready && waited == -ETIME && !d->is_file && mc_filler_pending(f)) {
			/*
			 * A second without POLLIN while misses wait: the kernel
			 * lost a wakeup. Say so (tests check lost_wakeups) and
			 * serve them anyway.
			 */
			d->lost_wakeups++;
			say(d, "warning: %u misses waiting but no POLLIN for 1 s: lost wakeup in the kernel?",
			    mc_filler_pending(f));
			d->dev_ready = true;
		}
		if (d->dev_ready) {
			uint32_t pending = mc_filler_pending(f);
			long n;

			d->dev_ready = false;
			if (d->delay_ms)
				nap(d, (int)d->delay_ms);
			n = mc_filler_batch(f);
			if (n < 0)
				die("%s: kick (8-byte write) failed: %s", d->dev, strerror((int)-n));
			if (d->verbose)
				say(d, "batch: %ld misses completed (%u were waiting at POLLIN), total %" PRIu64,
				    n, pending, f->c.misses);
			memset(&d->stall_since, 0, sizeof(d->stall_since));
		}
		if (since(&d->last_stats) >= 1)
			write_stats(d);
	}

	/* Let the last kick land before the fd goes. */
	while (d->kicks_out)
		wait_one(d);
	if ((err = take_kick_err(d)) && !f->hostile)
		die("%s: kick (8-byte write) failed: %s", d->dev, strerror(-err));
	write_stats(d);
	if (d->stop)
		say(d, "%s: stopping: %" PRIu64 " misses, %" PRIu64 " errors",
		    d->stop_sig ? strsignal(d->stop_sig) : "signal", f->c.misses, f->c.errors);
	else
		say(d, "exiting after %" PRIu64 " misses (%" PRIu64 " errors)", f->c.misses,
		    f->c.errors);
	io_uring_queue_exit(&d->ring);
	return 0;
}
