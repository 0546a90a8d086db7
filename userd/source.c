// SPDX-License-Identifier: MIT
/*
 * Sources: the kind of a URL, and what every kind shares (the zeros past
 * the end of the data). See source.h.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_msg.h"
#include "errmsg.h"
#include "source_kind.h"

struct mc_sources {
	struct mc_loop *loop;
	struct mc_blob_kind *blob;
	struct mc_source_opts opts;
};

bool mc_source_is_file(const char *url)
{
	return url[0] == '/' || strncmp(url, "file://", 7) == 0;
}

int mc_sources_new(struct mc_sources **out, struct mc_loop *loop,
		   const struct mc_source_opts *opts, char *err, size_t errlen)
{
	struct mc_sources *ss = calloc(1, sizeof(*ss));
	int ret;

	if (!ss)
		return mc_errf(err, errlen, -ENOMEM, "out of memory");
	ss->loop = loop;
	ss->opts = *opts;
	ret = mc_blob_kind_new(&ss->blob, loop, opts, err, errlen);
	if (ret) {
		free(ss);
		return ret;
	}
	*out = ss;
	return 0;
}

void mc_sources_free(struct mc_sources *ss)
{
	if (!ss)
		return;
	mc_blob_kind_free(ss->blob);
	free(ss);
}

void mc_sources_stats(const struct mc_sources *ss, struct mc_source_stats *out)
{
	memset(out, 0, sizeof(*out));
	if (ss)
		mc_blob_kind_stats(ss->blob, out);
}

int mc_source_args_from_msg(const char *url, const struct mc_msg *m,
			    struct mc_source_args **out, char *err, size_t errlen)
{
	const char *key, *auth;
	unsigned int i;

	*out = NULL;
	if (!mc_source_is_file(url))
		return mc_blob_args_from_msg(m, out, err, errlen);
	/* A file needs no credential: cred.auth=none at most. */
	for (i = 0; i < mc_msg_count(m); i++) {
		key = mc_msg_key(m, i);
		if (strncmp(key, "cred.", 5) || !strcmp(key, "cred.auth"))
			continue;
		return mc_errf(err, errlen, -EINVAL, "%s: a file source takes no credential",
			       key);
	}
	auth = mc_msg_get(m, "cred.auth");
	if (auth && strcmp(auth, "none"))
		return mc_errf(err, errlen, -EINVAL,
			       "cred.auth must be none for a file source");
	return 0;
}

int mc_source_args_to_msg(const struct mc_source_args *a, struct mc_msg *m)
{
	return a ? mc_blob_args_to_msg(a, m) : 0;
}

const char *mc_source_args_auth(const struct mc_source_args *a)
{
	return a ? mc_blob_args_auth(a) : "none";
}

void mc_source_args_free(struct mc_source_args *a)
{
	if (a)
		mc_blob_args_free(a);
}

int mc_source_open(struct mc_sources *ss, const char *url,
		   const struct mc_source_args *args, const char *expect_version,
		   mc_source_open_cb cb, void *arg, struct mc_source **pending,
		   char *err, size_t errlen)
{
	struct mc_source *s;
	int ret;

	if (mc_source_is_file(url)) {
		ret = mc_file_source_open(ss->loop, &ss->opts, url, &s, err,
					  errlen);
		if (!ret)
			cb(arg, 0, s, NULL);
		return ret;
	}
	return mc_blob_source_open(ss->blob, url, args, expect_version, cb, arg,
				   pending, err, errlen);
}

static void read_done(void *arg, int res, const char *msg)
{
	struct mc_source_req *rq = arg;

	if (!res && rq->want < rq->len)
		memset(rq->dst + rq->want, 0, rq->len - rq->want);
	rq->cb(rq->arg, res, msg);
}

int mc_source_read(struct mc_source *s, struct mc_source_req *rq, uint64_t off,
		   void *dst, size_t len, mc_source_cb cb, void *arg)
{
	if (off >= s->size)
		return -ERANGE;
	rq->dst = dst;
	rq->len = len;
	rq->want = s->size - off < len ? s->size - off : len;
	rq->cb = cb;
	rq->arg = arg;
	return s->ops->read(s, off, dst, rq->want, read_done, rq);
}
