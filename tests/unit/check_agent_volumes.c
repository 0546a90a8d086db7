// SPDX-License-Identifier: MIT
/*
 * Unit tests for maicache-agent's requests to maicached (agent/volumes.h)
 * against a fake daemon on a real control socket: what list gives, what
 * attach sends (name, URL, extent size; a credential for a blob source and
 * none for a file), errors passed on with the daemon's errno and message,
 * answers that break the protocol, and no daemon at all.
 */
#include <check.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "ctl_msg.h"
#include "volumes.h"
#include "check_run.h"

static char tmpdir[64], sock_path[128], sas_path[128];
static int listen_fd = -1;
static pthread_t server;
/* What the fake daemon answers to list: 0 good, 1 no count, 2 cut short. */
static int list_mode;
static struct mc_msg last_req;	/* the last request it got */

static void reply(int fd, const char *const *kv)
{
	struct mc_msg m;

	mc_msg_init(&m);
	for (; kv[0]; kv += 2)
		mc_msg_add(&m, kv[0], kv[1]);
	ck_assert_int_eq(mc_msg_send(fd, &m), 0);
}

/* false once asked to stop (op=quit, from teardown()). */
static bool serve_one(int fd)
{
	static const char *const vol0[] = { "id", "0", "dev", "/dev/maicache0", "name", "train",
		"url", "file:///srv/train.img", "state", "ready", NULL };
	static const char *const vol1[] = { "id", "3", "dev", "/dev/maicache3", "name", "eval",
		"url", "https://acct.blob.core.windows.net/datasets/eval.erofs", "state", "stale", NULL };
	char err[256];
	const char *op, *v;
	struct mc_msg req;

	if (mc_msg_recv(fd, &req, err, sizeof(err)))
		return true;
	op = mc_msg_get(&req, "op");
	if (!strcmp(op, "quit"))
		return false;
	last_req = req;
	if (!strcmp(op, "list")) {
		if (list_mode == 1) {
			reply(fd, (const char *const[]){ "ok", "1", NULL });
			return true;
		}
		reply(fd, (const char *const[]){ "ok", "1", "count", "2", NULL });
		reply(fd, vol0);
		if (list_mode == 0)
			reply(fd, vol1);
	} else if (!strcmp(op, "attach")) {
		v = mc_msg_get(&req, "url");
		if (strstr(v, "missing"))
			reply(fd, (const char *const[]){ "ok", "0", "errno", "2", "error",
				"/srv/missing.img: No such file or directory", NULL });
		else if (strstr(v, "nodev"))
			reply(fd, (const char *const[]){ "ok", "1", "dev", "/tmp/evil", NULL });
		else
			reply(fd, (const char *const[]){ "ok", "1", "dev", "/dev/maicache7", "id", "7", NULL });
	} else if (!strcmp(op, "detach")) {
		if (!strcmp(mc_msg_get(&req, "dev"), "gone"))
			reply(fd, (const char *const[]){ "ok", "0", "errno", "2", "error",
				"'gone' is not attached: see `maicachectl list`", NULL });
		else
			reply(fd, (const char *const[]){ "ok", "1", NULL });
	}
	return true;
}

static void *serve(void *arg)
{
	bool more = true;
	int fd;

	(void)arg;
	while (more && (fd = accept(listen_fd, NULL, NULL)) >= 0) {
		more = serve_one(fd);
		close(fd);
	}
	return NULL;
}

static void setup(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	FILE *f;

	strcpy(tmpdir, "/tmp/check_agent.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(sock_path, sizeof(sock_path), "%s/maicached.sock", tmpdir);
	snprintf(sas_path, sizeof(sas_path), "%s/eval.sas", tmpdir);
	f = fopen(sas_path, "w");
	ck_assert_ptr_nonnull(f);
	fputs("sv=2022-11-02&sr=b&sp=r&sig=c2lnbmF0dXJl\n", f);
	fclose(f);
	strcpy(sa.sun_path, sock_path);
	listen_fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
	ck_assert_int_ge(listen_fd, 0);
	ck_assert_int_eq(bind(listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	ck_assert_int_eq(listen(listen_fd, 4), 0);
	list_mode = 0;
	mc_msg_init(&last_req);
	ck_assert_int_eq(pthread_create(&server, NULL, serve, NULL), 0);
}

static void teardown(void)
{
	struct sockaddr_un sa = { .sun_family = AF_UNIX };
	struct mc_msg quit;
	int fd = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);

	strcpy(sa.sun_path, sock_path);
	ck_assert_int_eq(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	mc_msg_init(&quit);
	mc_msg_add(&quit, "op", "quit");
	ck_assert_int_eq(mc_msg_send(fd, &quit), 0);
	pthread_join(server, NULL);
	close(fd);
	close(listen_fd);
	unlink(sock_path);
	unlink(sas_path);
	rmdir(tmpdir);
}

static struct mc_dataset dataset(const char *name, const char *source)
{
	struct mc_dataset d;

	memset(&d, 0, sizeof(d));
	snprintf(d.name, sizeof(d.name), "%s", name);
	snprintf(d.source, sizeof(d.source), "%s", source);
	snprintf(d.mount, sizeof(d.mount), "/mnt/maicache/%s", name);
	strcpy(d.fstype, "auto");
	return d;
}

START_TEST(list_volumes)
{
	struct mc_agent_vols vs;
	const struct mc_agent_vol *v;
	char err[512] = "";

	ck_assert_msg(mc_agent_list(sock_path, &vs, err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(mc_msg_get(&last_req, "op"), "list");
	ck_assert_uint_eq(vs.n, 2);
	v = mc_agent_vol_named(&vs, "eval");
	ck_assert_ptr_nonnull(v);
	ck_assert_str_eq(v->dev, "/dev/maicache3");
	ck_assert_str_eq(v->url, "https://acct.blob.core.windows.net/datasets/eval.erofs");
	ck_assert_str_eq(v->state, "stale");
	ck_assert_str_eq(mc_agent_vol_named(&vs, "train")->dev, "/dev/maicache0");
	ck_assert_ptr_null(mc_agent_vol_named(&vs, "tra"));
	mc_agent_vols_free(&vs);
	ck_assert_uint_eq(vs.n, 0);
}
END_TEST

START_TEST(list_broken_answers)
{
	struct mc_agent_vols vs;
	char err[512] = "";

	list_mode = 1;
	ck_assert_int_eq(mc_agent_list(sock_path, &vs, err, sizeof(err)), -EBADMSG);
	ck_assert_msg(strstr(err, "maicached's list has no count"), "%s", err);
	ck_assert_ptr_null(vs.v);
	/* Two volumes announced, one sent, then the connection closed. */
	list_mode = 2;
	ck_assert_int_eq(mc_agent_list(sock_path, &vs, err, sizeof(err)), -ECONNRESET);
	ck_assert_uint_eq(vs.n, 0);
	ck_assert_ptr_null(vs.v);
}
END_TEST

START_TEST(no_daemon)
{
	struct mc_agent_vols vs;
	struct mc_dataset d = dataset("train", "file:///srv/train.img");
	char err[512] = "", dev[MC_AGENT_DEV_MAX], nosock[160];

	snprintf(nosock, sizeof(nosock), "%s/none.sock", tmpdir);
	ck_assert_int_eq(mc_agent_list(nosock, &vs, err, sizeof(err)), -ENOENT);
	ck_assert_msg(strstr(err, "maicached is not running (no one listens on ") && strstr(err, nosock),
		      "%s", err);
	ck_assert_int_eq(mc_agent_attach(nosock, &d, dev, sizeof(dev), err, sizeof(err)), -ENOENT);
	ck_assert_int_eq(mc_agent_detach(nosock, "train", err, sizeof(err)), -ENOENT);
}
END_TEST

START_TEST(attach_file)
{
	struct mc_dataset d = dataset("train", "file:///srv/train.img");
	char err[512] = "", dev[MC_AGENT_DEV_MAX] = "";

	d.extent_size = 256 << 10;
	ck_assert_msg(mc_agent_attach(sock_path, &d, dev, sizeof(dev), err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(dev, "/dev/maicache7");
	ck_assert_str_eq(mc_msg_get(&last_req, "op"), "attach");
	ck_assert_str_eq(mc_msg_get(&last_req, "url"), "file:///srv/train.img");
	ck_assert_str_eq(mc_msg_get(&last_req, "name"), "train");
	ck_assert_str_eq(mc_msg_get(&last_req, "extent_size"), "262144");
	/* A file source carries no credential. */
	ck_assert_ptr_null(mc_msg_get(&last_req, "cred.auth"));
	d.extent_size = 0;
	ck_assert_int_eq(mc_agent_attach(sock_path, &d, dev, sizeof(dev), err, sizeof(err)), 0);
	ck_assert_ptr_null(mc_msg_get(&last_req, "extent_size"));
}
END_TEST

START_TEST(attach_blob_credential)
{
	struct mc_dataset d = dataset("eval", "https://acct.blob.core.windows.net/datasets/eval.erofs");
	char err[512] = "", dev[MC_AGENT_DEV_MAX] = "";

	snprintf(d.sas_file, sizeof(d.sas_file), "%s", sas_path);
	ck_assert_msg(mc_agent_attach(sock_path, &d, dev, sizeof(dev), err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(mc_msg_get(&last_req, "cred.auth"), "sas");
	ck_assert_str_eq(mc_msg_get(&last_req, "cred.sas"), "sv=2022-11-02&sr=b&sp=r&sig=c2lnbmF0dXJl");
	/* anonymous: a credential of kind none. */
	memset(d.sas_file, 0, sizeof(d.sas_file));
	d.anonymous = true;
	ck_assert_msg(mc_agent_attach(sock_path, &d, dev, sizeof(dev), err, sizeof(err)) == 0, "%s", err);
	ck_assert_str_eq(mc_msg_get(&last_req, "cred.auth"), "none");
	/* A credential file that is not there: nothing sent, the file named. */
	d.anonymous = false;
	strcpy(d.sas_file, "/nonexistent/eval.sas");
	mc_msg_init(&last_req);
	ck_assert_int_lt(mc_agent_attach(sock_path, &d, dev, sizeof(dev), err, sizeof(err)), 0);
	ck_assert_msg(strstr(err, "/nonexistent/eval.sas"), "%s", err);
	ck_assert_uint_eq(mc_msg_count(&last_req), 0);
}
END_TEST

START_TEST(attach_errors)
{
	struct mc_dataset d = dataset("gone", "file:///srv/missing.img");
	char err[512] = "", dev[MC_AGENT_DEV_MAX] = "";

	/* The daemon's errno and message come back as they are. */
	ck_assert_int_eq(mc_agent_attach(sock_path, &d, dev, sizeof(dev), err, sizeof(err)), -ENOENT);
	ck_assert_str_eq(err, "/srv/missing.img: No such file or directory");
	/* An answer naming no maicache device is refused. */
	d = dataset("odd", "file:///srv/nodev.img");
	ck_assert_int_eq(mc_agent_attach(sock_path, &d, dev, sizeof(dev), err, sizeof(err)), -EBADMSG);
	ck_assert_msg(strstr(err, "names no device"), "%s", err);
}
END_TEST

START_TEST(detach)
{
	char err[512] = "";

	ck_assert_int_eq(mc_agent_detach(sock_path, "train", err, sizeof(err)), 0);
	ck_assert_str_eq(mc_msg_get(&last_req, "op"), "detach");
	ck_assert_str_eq(mc_msg_get(&last_req, "dev"), "train");
	ck_assert_int_eq(mc_agent_detach(sock_path, "gone", err, sizeof(err)), -ENOENT);
	ck_assert_msg(strstr(err, "'gone' is not attached"), "%s", err);
}
END_TEST

static Suite *agent_volumes_suite(void)
{
	Suite *s = suite_create("agent_volumes");
	TCase *tc = tcase_create("agent_volumes");

	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, list_volumes);
	tcase_add_test(tc, list_broken_answers);
	tcase_add_test(tc, no_daemon);
	tcase_add_test(tc, attach_file);
	tcase_add_test(tc, attach_blob_credential);
	tcase_add_test(tc, attach_errors);
	tcase_add_test(tc, detach);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return mc_check_run(agent_volumes_suite());
}
