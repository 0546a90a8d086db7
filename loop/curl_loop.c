// SPDX-License-Identifier: MIT
/* See curl_loop.h: curl's socket and timer callbacks on mc_loop. */
#include <errno.h>
#include <poll.h>
#include <stdbool.h>
#include <stdlib.h>

#include "curl_loop.h"

struct mc_curl_loop {
	struct mc_loop *loop;
	CURLM *multi;
	struct mc_timer timer;		/* curl's timeout */
	mc_curl_done_fn done;
	void *arg;
	bool *freed;			/* set by mc_curl_loop_free() inside drain() */
};

/* Hand every finished transfer to done(); false when done() freed cl. */
static bool drain(struct mc_curl_loop *cl)
{
	bool freed = false;
	CURLMsg *m;
	int left;

	cl->freed = &freed;
	while ((m = curl_multi_info_read(cl->multi, &left))) {
		CURL *e = m->easy_handle;
		CURLcode rc = m->data.result;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_multi_remove_handle(cl->multi, e);
		cl->done(cl->arg, e, rc);
		if (freed)
			return false;
	}
	cl->freed = NULL;
	return true;
}

static void on_fd(void *arg, int fd, unsigned int revents)
{
	struct mc_curl_loop *cl = arg;
	int flags = 0, running;

	if (revents & POLLIN)
		flags |= CURL_CSELECT_IN;
	if (revents & POLLOUT)
		flags |= CURL_CSELECT_OUT;
	if (revents & (POLLERR | POLLHUP))
		flags |= CURL_CSELECT_ERR;
	curl_multi_socket_action(cl->multi, fd, flags, &running);
	drain(cl);
}

static int on_socket(CURL *e, curl_socket_t s, int what, void *userp, void *socketp)
{
	struct mc_curl_loop *cl = userp;
	unsigned int ev = 0;

	(void)e;
	(void)socketp;
	if (what == CURL_POLL_REMOVE) {
		mc_loop_forget(cl->loop, s);
		return 0;
	}
	if (what & CURL_POLL_IN)
		ev |= POLLIN;
	if (what & CURL_POLL_OUT)
		ev |= POLLOUT;
	return mc_loop_watch(cl->loop, s, ev, on_fd, cl) < 0 ? -1 : 0;
}

static void on_timeout(void *arg)
{
	struct mc_curl_loop *cl = arg;
	int running;

	curl_multi_socket_action(cl->multi, CURL_SOCKET_TIMEOUT, 0, &running);
	drain(cl);
}

static int on_timer_set(CURLM *m, long timeout_ms, void *userp)
{
	struct mc_curl_loop *cl = userp;

	(void)m;
	if (timeout_ms < 0)
		mc_timer_cancel(cl->loop, &cl->timer);
	else
		mc_timer_arm(cl->loop, &cl->timer, (uint64_t)timeout_ms, on_timeout, cl);
	return 0;
}

int mc_curl_loop_new(struct mc_curl_loop **out, struct mc_loop *loop, long maxconnects,
		     mc_curl_done_fn done, void *arg)
{
	struct mc_curl_loop *cl;

	if (curl_global_init(CURL_GLOBAL_DEFAULT))
		return -ENOMEM;
	cl = calloc(1, sizeof(*cl));
	if (cl)
		cl->multi = curl_multi_init();
	if (!cl || !cl->multi) {
		free(cl);
		curl_global_cleanup();
		return -ENOMEM;
	}
	cl->loop = loop;
	cl->done = done;
	cl->arg = arg;
	curl_multi_setopt(cl->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(cl->multi, CURLMOPT_SOCKETDATA, cl);
	curl_multi_setopt(cl->multi, CURLMOPT_TIMERFUNCTION, on_timer_set);
	curl_multi_setopt(cl->multi, CURLMOPT_TIMERDATA, cl);
	curl_multi_setopt(cl->multi, CURLMOPT_MAXCONNECTS, maxconnects);
	*out = cl;
	return 0;
}

void mc_curl_loop_free(struct mc_curl_loop *cl)
{
	if (!cl)
		return;
	if (cl->freed)
		*cl->freed = true;
	mc_timer_cancel(cl->loop, &cl->timer);
	curl_multi_cleanup(cl->multi);
	free(cl);
	curl_global_cleanup();
}

int mc_curl_loop_add(struct mc_curl_loop *cl, CURL *easy)
{
	return curl_multi_add_handle(cl->multi, easy) ? -ENOMEM : 0;
}

void mc_curl_loop_remove(struct mc_curl_loop *cl, CURL *easy)
{
	curl_multi_remove_handle(cl->multi, easy);
}
