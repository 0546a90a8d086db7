// SPDX-License-Identifier: MIT
/*
 * maicached: the maicache daemon. One per node. It attaches to the
 * module's pool and miss ring (/dev/maicache), fills each miss by reading
 * the extent from the device's source (an Azure blob or a local file)
 * straight into its pool slot, and takes requests from maicachectl on a
 * Unix socket. See docs/architecture.md.
 *
 * Start-up: configuration, the ring device first (the module lets one
 * daemon open it: a second one stops there, before any netlink call or
 * source request), the event loop (io_uring, or libaio + epoll), netlink,
 * the volumes of the state directory (re-attached: the module kept their
 * devices and cached extents; their misses are held until their source
 * opens), then misses and the control socket.
 *
 * SIGHUP: read the group's static membership file again (group.h).
 *
 * SIGTERM/SIGINT: stop taking misses and requests, let running fills
 * finish for shutdown_grace, post their completions; then cancel the fills
 * still running (no completion: the kernel hands them to the next daemon)
 * and wait out the loop's I/O, and only then unmap the pool they read into.
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
#include "errmsg.h"
#include "group.h"
#include "metrics.h"
#include "pool_store.h"

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
		"backoff_max request_timeout read_deadline verify_md5 blob_split file_parallel\n"
		"file_split pool_prefault shutdown_grace log_level group group_key\n"
		"group_members peer_listen group_store group_store_size peer_rdma peer_timeout\n"
		"peer_tries fetch_lease metrics_listen\n"
		"(docs/operations.md).\n");
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

	return mc_ring_kick_fd(d->map.fd);
}

/* Map the regions of the ring opened first, and take over its indices. */
static int ring_start(struct mc_daemon *d, char *err, size_t errlen)
{
	int ret = mc_ring_map(&d->map, d->cfg.device, err, errlen);

	if (ret)
		return ret;
	d->ring.kick = kick;
	d->ring.priv = d;
	if (mc_miss_ring_start(&d->ring, d->map.miss, d->map.cpl, d->map.pool))
		mc_log(d, MC_LOG_WARN, "ring indices left by the last daemon were out of range: repaired");
	if (d->cfg.pool_prefault) {
		ret = mc_prefault_start(&d->prefault, d->map.pool, d->map.pool_len);
		if (ret)
			mc_log(d, MC_LOG_WARN, "pool prefault not started (%s): first fills fault the pool in",
			       strerror(-ret));
	}
	return 0;
}

static void ring_close(struct mc_daemon *d)
{
	int ret;

	if (d->ring_watched)
		mc_loop_forget(d->loop, d->map.fd);
	d->ring_watched = false;
	ret = mc_prefault_stop(&d->prefault);
	if (ret)
		mc_log(d, MC_LOG_WARN, "pool prefault ended after %zu of %zu MiB: %s",
		       d->prefault.done >> 20, d->prefault.len >> 20, strerror(ret));
	mc_ring_close(&d->map);
	mc_miss_ring_free(&d->ring);
}

static void signal_ready(void *arg, int fd, unsigned int revents)
{
	struct mc_daemon *d = arg;
	struct signalfd_siginfo si;

	(void)revents;
	while (read(fd, &si, sizeof(si)) == sizeof(si)) {
		if (si.ssi_signo == SIGHUP) {
			mc_group_reload(d);
			continue;
		}
		if (!d->stopping)
			mc_log(d, MC_LOG_INFO, "signal %u: shutting down", si.ssi_signo);
		d->stopping = true;
	}
}

static int signals_open(struct mc_daemon *d, char *err, size_t errlen)
{
	sigset_t set;

	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGHUP);
	sigprocmask(SIG_BLOCK, &set, NULL);
	signal(SIGPIPE, SIG_IGN);
	d->sig_fd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
	if (d->sig_fd < 0)
		return mc_errf(err, errlen, -errno, "signalfd: %s", strerror(errno));
	return mc_loop_watch(d->loop, d->sig_fd, POLLIN, signal_ready, d);
}

static int setup(struct mc_daemon *d, char *err, size_t errlen)
{
	struct mc_source_opts so = {
		.max_parallel = d->cfg.max_parallel,
		.max_retries = d->cfg.max_retries,
		.backoff_base_ms = d->cfg.backoff_base_ms,
		.backoff_max_ms = d->cfg.backoff_max_ms,
		.request_timeout_ms = d->cfg.request_timeout_ms,
		.read_deadline_ms = d->cfg.read_deadline_ms,
		.verify_md5 = d->cfg.verify_md5 != 0,
		.blob_split = d->cfg.blob_split,
		.file_parallel = d->cfg.file_parallel != 0,
		.file_split = d->cfg.file_split,
	};
	int ret;

	err[0] = 0;
	/* First: a second daemon must stop here, having touched nothing. */
	ret = mc_ring_open(&d->map, d->cfg.device, err, errlen);
	if (ret)
		return ret;
	ret = ring_start(d, err, errlen);
	if (ret)
		return ret;
	ret = mc_loop_new(&d->loop, d->cfg.engine, 256, err, errlen);
	if (ret)
		return ret;
	if (err[0])
		mc_log(d, MC_LOG_WARN, "%s", err);	/* why io_uring is not used */
	mc_log(d, MC_LOG_INFO, "event loop: %s", mc_loop_engine_name(d->loop));
	ret = signals_open(d, err, errlen);
	if (ret)
		return ret;
	ret = mc_sources_new(&d->sources, d->loop, &so, err, errlen);
	if (ret)
		return ret;
	d->nl = mc_nl_open(err, errlen);
	if (!d->nl)
		return -ENOENT;
	/* A crashed daemon's held extents cannot be named any more. */
	ret = mc_pool_store_sweep(d);
	if (ret > 0)
		mc_log(d, MC_LOG_INFO, "removed %d held devices a previous daemon left", ret);
	ret = mc_group_start(d, err, errlen);
	if (ret)
		return ret;
	/* Misses for restored volumes are held until their source opens. */
	ret = mc_vol_restore(d);
	if (ret)
		return mc_errf(err, errlen, ret, "cannot restore volumes from %.256s",
			       d->cfg.state_dir);
	ret = mc_loop_watch(d->loop, d->map.fd, POLLIN, mc_fill_ring_ready, d);
	if (ret)
		return mc_errf(err, errlen, ret, "cannot watch the ring: %s", strerror(-ret));
	d->ring_watched = true;
	ret = mc_ctl_listen(d, err, errlen);
	if (ret)
		return ret;
	return mc_metrics_start(d, err, errlen);
}

static void run(struct mc_daemon *d)
{
	uint64_t deadline = 0;
	int ret;

	for (;;) {
		ret = mc_loop_run_once(d->loop, d->stopping ? 100 : -1);
		if (ret < 0) {
			mc_log(d, MC_LOG_ERROR, "event loop failed: %s", strerror(-ret));
			d->stopping = true;
		}
		mc_fill_run_held(d);
		ret = mc_miss_ring_flush(&d->ring);
		if (ret && ret != -EAGAIN)
			mc_log(d, MC_LOG_WARN, "kick failed: %s", strerror(-ret));
		if (!d->stopping)
			continue;
		if (!deadline) {
			/* Take no new misses and no new requests. */
			if (d->ring_watched)
				mc_loop_watch(d->loop, d->map.fd, 0, NULL, NULL);
			d->ring_watched = false;
			mc_ctl_close(d);
			mc_metrics_stop(d);
			deadline = mc_now_ms() + d->cfg.shutdown_grace_ms;
		}
		if (!d->inflight)
			break;
		if (mc_now_ms() >= deadline) {
			mc_log(d, MC_LOG_WARN, "%u fills still running after %" PRIu64 " ms: cancelling them for the next daemon",
			       d->inflight, d->cfg.shutdown_grace_ms);
			break;
		}
	}
}

/*
 * Nothing may write into the pool once it is unmapped: the fills still
 * running are cancelled (their sources closed, the loop's own I/O waited
 * out) and post no completion, so the kernel gives them to the next daemon.
 */
static void stop_fills(struct mc_daemon *d)
{
	unsigned int left = d->inflight;

	d->ring_closing = true;
	mc_vol_cancel_all(d);
	mc_sources_free(d->sources);
	d->sources = NULL;
	/* Reads waiting on peers; their sources' reads ended above. */
	mc_group_stop(d);
	if (d->loop)
		mc_loop_free(d->loop);
	d->loop = NULL;
	if (left)
		mc_log(d, MC_LOG_INFO, "%u fills cancelled, %u still running", left, d->inflight);
}

int main(int argc, char **argv)
{
	struct mc_daemon *d = calloc(1, sizeof(*d));
	char err[1024];
	int ret;

	if (!d)
		return 1;
	d->map.fd = d->sig_fd = d->ctl_fd = -1;
	mc_list_init(&d->vols);
	d->start_ms = mc_now_ms();
	if (parse_args(d, argc, argv))
		return 2;
	ret = setup(d, err, sizeof(err));
	if (ret) {
		mc_log(d, MC_LOG_ERROR, "%s", err);
	} else {
		mc_log(d, MC_LOG_INFO, "ready: ring %s, control socket %s, pool %" PRIu64 " MiB",
		       d->cfg.device, d->cfg.socket, d->ring.pool_size >> 20);
		run(d);
		mc_miss_ring_flush(&d->ring);
	}
	mc_ctl_close(d);
	mc_metrics_stop(d);
	if (d->ring_watched)
		mc_loop_forget(d->loop, d->map.fd);
	d->ring_watched = false;
	stop_fills(d);
	/* Fills not completed go back to the kernel's queue for the next daemon. */
	ring_close(d);
	mc_vol_free_all(d);
	mc_fill_free(d);
	if (d->nl)
		mc_nl_close(d->nl);
	if (d->sig_fd >= 0)
		close(d->sig_fd);
	free(d);
	if (!ret)
		fprintf(stderr, "maicached: stopped\n");
	return ret ? 1 : 0;
}
