// SPDX-License-Identifier: MIT
/*
 * maicached: the maicache daemon. One per node. It attaches to the
 * module's pool and miss ring (/dev/maicache), fills each miss by reading
 * the extent from the device's source (an Azure blob or a local file)
 * straight into its pool slot, and takes requests from maicachectl on a
 * Unix socket. See docs/architecture.md.
 *
 * Start-up: configuration, the event loop (io_uring, or libaio + epoll),
 * the volumes of the state directory (re-attached: the module kept their
 * devices and cached extents), then the ring and the control socket.
 * SIGTERM/SIGINT: stop taking misses, let running fills finish (bounded),
 * post their completions and exit; fills not taken go to the next daemon.
 */
#include <endian.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/signalfd.h>
#include <time.h>
#include <unistd.h>

#include "ctl_server.h"
#include "daemon.h"
#include "ring_hdr.h"

/* Running fills get this long to finish at shutdown. */
#define SHUTDOWN_GRACE_MS 10000

static void usage(FILE *f)
{
	fprintf(f,
		"usage: maicached [options]\n"
		"  -c, --config FILE    configuration (default /etc/maicache/maicached.conf;\n"
		"                       a missing default file means defaults)\n"
		"  -s, --set KEY=VALUE  override one configuration key (repeatable)\n"
		"  -e, --engine E       event loop: auto, io_uring or aio\n"
		"  -v, --verbose        log level debug\n"
		"  -h, --help\n"
		"Keys: engine socket state_dir device max_parallel max_retries backoff_base\n"
		"backoff_max request_timeout read_deadline log_level (docs/operations.md).\n");
}

static int parse_args(struct mc_daemon *d, int argc, char **argv)
{
	static const struct option opts[] = {
		{ "config", required_argument, NULL, 'c' },
		{ "set", required_argument, NULL, 's' },
		{ "engine", required_argument, NULL, 'e' },
		{ "verbose", no_argument, NULL, 'v' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *config = NULL;
	char *sets[64];
	unsigned int nsets = 0, i;
	char err[512];
	int c;

	while ((c = getopt_long(argc, argv, "c:s:e:vh", opts, NULL)) != -1) {
		switch (c) {
		case 'c':
			config = optarg;
			break;
		case 's':
		case 'e':
		case 'v':
			if (nsets == sizeof(sets) / sizeof(sets[0])) {
				fprintf(stderr, "maicached: too many --set options\n");
				return -1;
			}
			if (c == 'e') {
				static char buf[64][80];

				snprintf(buf[nsets], sizeof(buf[0]), "engine=%s", optarg);
				sets[nsets] = buf[nsets];
				nsets++;
			} else if (c == 'v') {
				sets[nsets++] = (char *)"log_level=debug";
			} else {
				sets[nsets++] = optarg;
			}
			break;
		case 'h':
			usage(stdout);
			exit(0);
		default:
			usage(stderr);
			return -1;
		}
	}
	if (optind != argc) {
		fprintf(stderr, "maicached: unexpected argument '%s'\n", argv[optind]);
		usage(stderr);
		return -1;
	}
	if (mc_config_load(config, &d->cfg, err, sizeof(err))) {
		fprintf(stderr, "maicached: %s\n", err);
		return -1;
	}
	for (i = 0; i < nsets; i++) {
		if (mc_config_set_arg(&d->cfg, sets[i], err, sizeof(err))) {
			fprintf(stderr, "maicached: --set %s: %s\n", sets[i], err);
			return -1;
		}
	}
	if (mc_config_check(&d->cfg, err, sizeof(err))) {
		fprintf(stderr, "maicached: %s\n", err);
		return -1;
	}
	return 0;
}

static int kick(struct mc_miss_ring *r)
{
	struct mc_daemon *d = r->priv;
	uint64_t one = 1;
	ssize_t n;

	do {
		n = write(d->ring_fd, &one, sizeof(one));
	} while (n < 0 && errno == EINTR);
	if (n < 0)
		return -errno;
	return n == sizeof(one) ? 0 : -EIO;
}

static int map_region(int fd, uint64_t off, size_t len, int prot, void **out)
{
	void *p = mmap(NULL, len, prot, MAP_SHARED, fd, (off_t)off);

	if (p == MAP_FAILED)
		return -errno;
	*out = p;
	return 0;
}

/* Open /dev/maicache, check the ring header, map the three regions. */
static int ring_open(struct mc_daemon *d, char *err, size_t errlen)
{
	size_t page = (size_t)sysconf(_SC_PAGESIZE);
	struct maicache_miss_hdr h;
	const char *why;
	void *p;
	int ret;

	d->ring_fd = open(d->cfg.device, O_RDWR | O_CLOEXEC);
	if (d->ring_fd < 0) {
		ret = -errno;
		if (errno == EBUSY)
			snprintf(err, errlen, "%.256s: another daemon is attached", d->cfg.device);
		else if (errno == ENOENT)
			snprintf(err, errlen, "%.256s: no such device: is the maicache module loaded?",
				 d->cfg.device);
		else
			snprintf(err, errlen, "%.256s: %s", d->cfg.device, strerror(errno));
		return ret;
	}
	ret = map_region(d->ring_fd, MAICACHE_MMAP_MISS, page, PROT_READ, &p);
	if (ret)
		goto fail_map;
	memcpy(&h, p, sizeof(h));
	munmap(p, page);
	why = mc_hdr_check(&h);
	if (why) {
		snprintf(err, errlen, "%.256s: %s", d->cfg.device, why);
		return -EPROTO;
	}
	d->miss_len = mc_miss_region_size(&h, page);
	d->cpl_len = mc_cpl_region_size(&h, page);
	d->pool_len = le64toh(h.pool_size);
	ret = map_region(d->ring_fd, MAICACHE_MMAP_MISS, d->miss_len, PROT_READ,
			 &d->miss_map);
	if (!ret)
		ret = map_region(d->ring_fd, MAICACHE_MMAP_CPL, d->cpl_len,
				 PROT_READ | PROT_WRITE, &d->cpl_map);
	if (!ret)
		ret = map_region(d->ring_fd, MAICACHE_MMAP_POOL, d->pool_len,
				 PROT_READ | PROT_WRITE, &d->pool_map);
	if (ret)
		goto fail_map;
	d->ring.kick = kick;
	d->ring.priv = d;
	if (mc_miss_ring_start(&d->ring, d->miss_map, d->cpl_map, d->pool_map))
		mc_log(d, 1, "ring indices left by the last daemon were out of range: repaired");
	return 0;
fail_map:
	snprintf(err, errlen, "%.256s: mmap: %s", d->cfg.device, strerror(-ret));
	return ret;
}

static void ring_close(struct mc_daemon *d)
{
	if (d->ring_watched)
		mc_loop_forget(d->loop, d->ring_fd);
	d->ring_watched = false;
	if (d->pool_map)
		munmap(d->pool_map, d->pool_len);
	if (d->cpl_map)
		munmap(d->cpl_map, d->cpl_len);
	if (d->miss_map)
		munmap(d->miss_map, d->miss_len);
	d->pool_map = d->cpl_map = d->miss_map = NULL;
	if (d->ring_fd >= 0)
		close(d->ring_fd);
	d->ring_fd = -1;
	mc_miss_ring_free(&d->ring);
}

static void signal_ready(void *arg, int fd, unsigned int revents)
{
	struct mc_daemon *d = arg;
	struct signalfd_siginfo si;

	(void)revents;
	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		if (!d->stopping)
			mc_log(d, 2, "signal %u: shutting down", si.ssi_signo);
		d->stopping = true;
	}
}

static int signals_open(struct mc_daemon *d, char *err, size_t errlen)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	d->sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d->sig_fd < 0)
		return snprintf(err, errlen, "signalfd: %s", strerror(errno)), -errno;
	return mc_loop_watch(d->loop, d->sig_fd, POLLIN, signal_ready, d);
}

static int setup(struct mc_daemon *d, char *err, size_t errlen)
{
	struct mc_blob_opts bo;
	int ret;

	err[0] = 0;
	ret = mc_loop_new(&d->loop, d->cfg.engine, 256, err, errlen);
	if (ret)
		return ret;
	if (err[0])
		mc_log(d, 1, "%s", err);	/* why io_uring is not used */
	mc_log(d, 2, "event loop: %s", mc_loop_engine_name(d->loop));
	ret = signals_open(d, err, errlen);
	if (ret)
		return ret;
	mc_blob_opts_default(&bo);
	bo.max_parallel = d->cfg.max_parallel;
	bo.max_retries = d->cfg.max_retries;
	bo.backoff_base_ms = d->cfg.backoff_base_ms;
	bo.backoff_max_ms = d->cfg.backoff_max_ms;
	bo.request_timeout_ms = d->cfg.request_timeout_ms;
	bo.deadline_ms = d->cfg.read_deadline_ms;
	ret = mc_blob_client_new(&d->blob, d->loop, &bo, err, errlen);
	if (ret)
		return ret;
	d->nl = mc_nl_open(err, errlen);
	if (!d->nl)
		return -ENOENT;
	/* Volumes first: misses for them are held until their source opens. */
	ret = mc_vol_restore(d);
	if (ret)
		return snprintf(err, errlen, "cannot restore volumes from %.256s",
				d->cfg.state_dir), ret;
	ret = ring_open(d, err, errlen);
	if (ret)
		return ret;
	ret = mc_loop_watch(d->loop, d->ring_fd, POLLIN, mc_fill_ring_ready, d);
	if (ret)
		return snprintf(err, errlen, "cannot watch the ring: %s", strerror(-ret)), ret;
	d->ring_watched = true;
	return mc_ctl_listen(d, err, errlen);
}

static void run(struct mc_daemon *d)
{
	uint64_t deadline = 0;
	int ret;

	for (;;) {
		ret = mc_loop_run_once(d->loop, d->stopping ? 100 : -1);
		if (ret < 0) {
			mc_log(d, 0, "event loop failed: %s", strerror(-ret));
			d->stopping = true;
		}
		ret = mc_miss_ring_flush(&d->ring);
		if (ret && ret != -EAGAIN)
			mc_log(d, 1, "kick failed: %s", strerror(-ret));
		if (!d->stopping)
			continue;
		if (!deadline) {
			/* Take no new misses and no new requests. */
			if (d->ring_watched)
				mc_loop_watch(d->loop, d->ring_fd, 0, NULL, NULL);
			d->ring_watched = false;
			mc_ctl_close(d);
			deadline = mc_now_ms() + SHUTDOWN_GRACE_MS;
		}
		if (!d->inflight)
			break;
		if (mc_now_ms() > deadline) {
			mc_log(d, 1, "%u fills still running after %u ms: leaving them to the next daemon",
			       d->inflight, SHUTDOWN_GRACE_MS);
			break;
		}
	}
}

int main(int argc, char **argv)
{
	struct mc_daemon *d = calloc(1, sizeof(*d));
	char err[1024];
	int ret;

	if (!d)
		return 1;
	d->ring_fd = d->sig_fd = d->ctl_fd = -1;
	d->start_ms = mc_now_ms();
	if (parse_args(d, argc, argv))
		return 2;
	ret = setup(d, err, sizeof(err));
	if (ret) {
		mc_log(d, 0, "%s", err);
	} else {
		mc_log(d, 2, "ready: ring %s, control socket %s, pool %" PRIu64 " MiB",
		       d->cfg.device, d->cfg.socket, d->ring.pool_size >> 20);
		run(d);
		mc_miss_ring_flush(&d->ring);
	}
	mc_ctl_close(d);
	/* Fills not completed go back to the kernel's queue for the next daemon. */
	ring_close(d);
	if (d->inflight) {
		/* Their callbacks would write into the unmapped pool: just go. */
		fprintf(stderr, "maicached: stopped\n");
		_exit(0);
	}
	mc_vol_free_all(d);
	if (d->blob)
		mc_blob_client_free(d->blob);
	if (d->nl)
		mc_nl_close(d->nl);
	if (d->sig_fd >= 0)
		close(d->sig_fd);
	if (d->loop)
		mc_loop_free(d->loop);
	free(d);
	if (!ret)
		fprintf(stderr, "maicached: stopped\n");
	return ret ? 1 : 0;
}
