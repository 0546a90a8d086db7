// SPDX-License-Identifier: MIT
/* See tier_read.h. */
#include <stdio.h>

#include "tier_read.h"

static void local_end(struct mc_tier_read *t, int res)
{
	t->local = false;
	mc_peer_fetch_local_done(&t->f, res);
}

static void served_later(void *arg)
{
	local_end(arg, 0);
}

static void keep_msg(struct mc_tier_read *t, const char *msg)
{
	snprintf(t->msg, sizeof(t->msg), "%s", msg ? msg : "");
}

static void local_sourced(void *arg, int res, const char *msg)
{
	struct mc_tier_read *t = arg;

	keep_msg(t, msg);
	if (t->local_put)
		mc_peer_server_local_put(t->srv, &t->lr, res);
	local_end(t, res);
}

static void local_source(struct mc_tier_read *t, bool keep)
{
	int ret;

	t->local_put = keep;
	ret = t->source(t, local_sourced);
	if (ret) {
		if (keep)
			mc_peer_server_local_put(t->srv, &t->lr, ret);
		keep_msg(t, "cannot start the source read");
		local_end(t, ret);
	}
}

static void local_verdict(struct mc_tier_read *t, enum mc_peer_local_verdict v)
{
	switch (v) {
	case MC_PEER_LOCAL_SERVED:
		/* Never inside the caller's call. */
		mc_timer_arm(t->loop, &t->defer, 0, served_later, t);
		break;
	case MC_PEER_LOCAL_FETCH:
		local_source(t, true);
		break;
	case MC_PEER_LOCAL_SOURCE:
		local_source(t, false);
		break;
	case MC_PEER_LOCAL_WAIT:
		break;
	}
}

static void local_cb(void *arg, struct mc_peer_local *lr, enum mc_peer_local_verdict v)
{
	(void)lr;
	local_verdict(arg, v);
}

void mc_tier_local(struct mc_tier_read *t)
{
	t->local = true;
	t->lr.key = t->f.key;
	t->lr.dst = t->f.dst;
	t->lr.len = t->f.len;
	t->lr.cb = local_cb;
	t->lr.arg = t;
	local_verdict(t, mc_peer_server_local_get(t->srv, &t->lr));
}

static void sourced(void *arg, int res, const char *msg)
{
	struct mc_tier_read *t = arg;

	keep_msg(t, msg);
	mc_peer_fetch_sourced(&t->f, res);
}

void mc_tier_source(struct mc_tier_read *t)
{
	int ret = t->source(t, sourced);

	if (ret) {
		keep_msg(t, "cannot start the source read");
		mc_peer_fetch_sourced(&t->f, ret);
	}
}

void mc_tier_cancel(struct mc_tier_read *t)
{
	mc_timer_cancel(t->loop, &t->defer);
	if (t->local)
		mc_peer_server_local_cancel(t->srv, &t->lr);
	t->local = false;
}
