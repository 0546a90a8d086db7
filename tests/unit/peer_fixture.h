/* SPDX-License-Identifier: MIT */
/*
 * What the peer tests share: a group whose key is a file in a test
 * directory, and a connected TCP pair on loopback (the connecting side's
 * fd, and the accepted one).
 */
#ifndef MC_PEER_FIXTURE_H
#define MC_PEER_FIXTURE_H

#include <check.h>
#include <poll.h>
#include <stdio.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "auth.h"
#include "conn.h"

#define FIXTURE_KEY "0123456789abcdef0123456789abcdef0123456789abcdef\n"

/* Group name with key text, its key file written in dir. */
static inline struct mc_group fixture_group(const char *dir, const char *name, const char *key)
{
	char path[128], err[256];
	struct mc_group g;
	FILE *f;

	snprintf(path, sizeof(path), "%s/group.key", dir);
	f = fopen(path, "w");
	ck_assert_ptr_nonnull(f);
	fputs(key, f);
	fclose(f);
	ck_assert_int_eq(chmod(path, 0600), 0);
	ck_assert_msg(mc_group_load(&g, name, path, err, sizeof(err)) == 0, "%s", err);
	return g;
}

/* A connected loopback pair: *client connected, the accepted fd returned. */
static inline int fixture_tcp_pair(int *client)
{
	unsigned int port;
	char err[256], ports[16];
	struct pollfd p;
	int lfd, afd;

	lfd = mc_peer_tcp_listen("127.0.0.1", "0", &port, err, sizeof(err));
	ck_assert_msg(lfd >= 0, "%s", err);
	snprintf(ports, sizeof(ports), "%u", port);
	*client = mc_peer_tcp_connect("127.0.0.1", ports, err, sizeof(err));
	ck_assert_msg(*client >= 0, "%s", err);
	p.fd = lfd;
	p.events = POLLIN;
	ck_assert_int_eq(poll(&p, 1, 5000), 1);
	afd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
	ck_assert_int_ge(afd, 0);
	close(lfd);
	return afd;
}

#endif /* MC_PEER_FIXTURE_H */
