/* SPDX-License-Identifier: MIT */
/*
 * maicached's Prometheus endpoint: GET /metrics on metrics_listen
 * (default 127.0.0.1:9464; "" or "off": none), served by libmicrohttpd.
 *
 * Threading contract: MHD runs inside the daemon's event loop, on the
 * loop's thread, never in a thread of its own. It is started in external
 * polling mode with epoll; the loop watches MHD's one epoll fd for POLLIN
 * and arms a timer from MHD_get_timeout(); both call MHD_run(), which
 * never blocks. A request is answered from inside MHD_run(): the module's
 * counters are read then with synchronous netlink calls on d->nl (the
 * kernel answers them without waiting for the daemon), the daemon's own
 * counters straight from its structures. So there is no snapshot to keep
 * consistent, no lock anywhere, and the fill path is untouched; the cost
 * is that a scrape holds the loop for its netlink round trips and the
 * formatting (tens of microseconds per device), which is why connections
 * are few and bounded in time.
 *
 * Only GET (and HEAD) of /metrics answers 200; other paths 404, other
 * methods 405. The text is metrics_text.h's.
 */
#ifndef MAICACHE_METRICS_H
#define MAICACHE_METRICS_H

#include <stddef.h>

struct mc_daemon;

/*
 * Listen on d->cfg.metrics_listen, unless it is "". 0, or a negative
 * errno with "metrics_listen ADDR: ..." in err (the daemon stops: a
 * configured endpoint that is not there would go unnoticed).
 */
int mc_metrics_start(struct mc_daemon *d, char *err, size_t errlen);
/* Close the endpoint and its connections; again, or never started: nothing. */
void mc_metrics_stop(struct mc_daemon *d);

#endif /* MAICACHE_METRICS_H */
