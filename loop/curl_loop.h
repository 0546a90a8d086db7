/* SPDX-License-Identifier: MIT */
/*
 * libcurl's multi interface on the event loop: curl's sockets are watched
 * and its timeout armed on the loop, and each finished transfer is handed
 * to done(). The Blob client and the cache group's etcd session both run
 * their HTTP this way, so neither blocks the loop nor polls.
 *
 * done() runs from the loop with the easy handle already removed from the
 * multi handle: it may free the handle, add new ones, or free the whole
 * curl loop (nothing of it is touched after done() returns while transfers
 * remain reported: see mc_curl_loop_free()).
 */
#ifndef MAICACHE_CURL_LOOP_H
#define MAICACHE_CURL_LOOP_H

#include <curl/curl.h>

#include "loop.h"

struct mc_curl_loop;

typedef void (*mc_curl_done_fn)(void *arg, CURL *easy, CURLcode rc);

/* maxconnects: idle connections curl keeps for reuse. 0 or -ENOMEM. */
int mc_curl_loop_new(struct mc_curl_loop **out, struct mc_loop *loop, long maxconnects,
		     mc_curl_done_fn done, void *arg);
/* Transfers still added are dropped without done(); remove them first. */
void mc_curl_loop_free(struct mc_curl_loop *cl);
/* Start a transfer. 0, or -ENOMEM (curl refused it; done() never runs). */
int mc_curl_loop_add(struct mc_curl_loop *cl, CURL *easy);
/* Stop a transfer that has not finished; done() never runs for it. */
void mc_curl_loop_remove(struct mc_curl_loop *cl, CURL *easy);

#endif /* MAICACHE_CURL_LOOP_H */
