// SPDX-License-Identifier: MIT
/*
 * maicache-agent's requests to maicached; see volumes.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include "cred.h"
#include "ctl_client.h"
#include "errmsg.h"
#include "volumes.h"

/* An attach opens the source (a Blob HEAD, with retries): wait this long. */
#define CALL_TIMEOUT_S	120

static int open_call(const char *socket, const struct mc_msg *req, struct mc_msg *reply,
		     char *err, size_t errlen)
{
	struct timeval tv = { .tv_sec = CALL_TIMEOUT_S };
	int fd, ret;

	fd = mc_ctl_connect(mc_ctl_socket_path(socket), err, errlen);
	if (fd < 0)
		return fd;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	ret = mc_ctl_call(fd, req, reply, err, errlen);
	if (ret == -EAGAIN)
		snprintf(err, errlen, "maicached did not answer within %d s", CALL_TIMEOUT_S);
	if (ret) {
		close(fd);
		return ret;
	}
	return fd;
}

void mc_agent_vols_free(struct mc_agent_vols *vs)
{
	free(vs->v);
	vs->v = NULL;
	vs->n = 0;
}

static void copy_field(char *dst, size_t len, const struct mc_msg *m, const char *key)
{
	const char *v = mc_msg_get(m, key);

	snprintf(dst, len, "%s", v ? v : "");
}

int mc_agent_list(const char *socket, struct mc_agent_vols *out, char *err, size_t errlen)
{
	struct mc_msg *req = malloc(sizeof(*req)), *m = malloc(sizeof(*m));
	uint64_t count = 0, i;
	int fd = -1, ret;

	memset(out, 0, sizeof(*out));
	if (!req || !m) {
		ret = mc_errf(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}
	mc_msg_init(req);
	mc_msg_add(req, "op", "list");
	ret = fd = open_call(socket, req, m, err, errlen);
	if (fd < 0)
		goto out;
	ret = 0;
	if (mc_msg_get_u64(m, "count", &count) || count > 65536) {
		ret = mc_errf(err, errlen, -EBADMSG, "maicached's list has no count");
		goto out;
	}
	out->v = calloc(count ? count : 1, sizeof(*out->v));
	if (!out->v) {
		ret = mc_errf(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}
	for (i = 0; i < count; i++) {
		struct mc_agent_vol *v = &out->v[out->n];

		ret = mc_msg_recv(fd, m, err, errlen);
		if (ret)
			goto out;
		copy_field(v->name, sizeof(v->name), m, "name");
		copy_field(v->url, sizeof(v->url), m, "url");
		copy_field(v->dev, sizeof(v->dev), m, "dev");
		copy_field(v->state, sizeof(v->state), m, "state");
		out->n++;
	}
out:
	if (ret)
		mc_agent_vols_free(out);
	if (fd >= 0)
		close(fd);
	free(req);
	free(m);
	return ret;
}

const struct mc_agent_vol *mc_agent_vol_named(const struct mc_agent_vols *vs,
					      const char *name)
{
	for (size_t i = 0; i < vs->n; i++)
		if (!strcmp(vs->v[i].name, name))
			return &vs->v[i];
	return NULL;
}

int mc_agent_attach(const char *socket, const struct mc_dataset *d,
		    char *dev, size_t devlen, char *err, size_t errlen)
{
	struct mc_cred_opts co = {
		.account_key_file = d->account_key_file[0] ? d->account_key_file : NULL,
		.sas_file = d->sas_file[0] ? d->sas_file : NULL,
		.token_file = d->token_file[0] ? d->token_file : NULL,
		.credentials_file = d->credentials_file[0] ? d->credentials_file : NULL,
		.anonymous = d->anonymous,
	};
	struct mc_msg *req = malloc(sizeof(*req)), *reply = malloc(sizeof(*reply));
	struct az_cred *cred = calloc(1, sizeof(*cred));
	const char *p;
	int fd, ret;

	if (!req || !reply || !cred) {
		ret = mc_errf(err, errlen, -ENOMEM, "out of memory");
		goto out;
	}
	mc_msg_init(req);
	mc_msg_add(req, "op", "attach");
	mc_msg_add(req, "url", d->source);
	mc_msg_add(req, "name", d->name);
	if (d->extent_size)
		mc_msg_add_u64(req, "extent_size", d->extent_size);
	/* A file needs no credential (as for maicachectl attach). */
	if (strncmp(d->source, "file://", 7)) {
		ret = mc_cred_resolve(d->source, &co, cred, err, errlen);
		if (ret)
			goto out;
		if (az_cred_to_msg(cred, req, "cred.")) {
			ret = mc_errf(err, errlen, -E2BIG, "cannot encode the credential");
			goto out;
		}
	}
	fd = open_call(socket, req, reply, err, errlen);
	if (fd < 0) {
		ret = fd;
		goto out;
	}
	close(fd);
	ret = 0;
	p = mc_msg_get(reply, "dev");
	if (!p || strncmp(p, "/dev/maicache", 13) || strlen(p) >= devlen)
		ret = mc_errf(err, errlen, -EBADMSG, "maicached's attach answer names no device");
	else
		strcpy(dev, p);
out:
	if (req)
		mc_msg_wipe(req);
	if (cred)
		az_cred_wipe(cred);
	free(req);
	free(reply);
	free(cred);
	return ret;
}

int mc_agent_detach(const char *socket, const char *name, char *err, size_t errlen)
{
	struct mc_msg *req = malloc(sizeof(*req)), *reply = malloc(sizeof(*reply));
	int fd = -ENOMEM;

	if (req && reply) {
		mc_msg_init(req);
		mc_msg_add(req, "op", "detach");
		mc_msg_add(req, "dev", name);
		fd = open_call(socket, req, reply, err, errlen);
		if (fd >= 0)
			close(fd);
	} else {
		mc_errf(err, errlen, -ENOMEM, "out of memory");
	}
	free(req);
	free(reply);
	return fd < 0 ? fd : 0;
}
