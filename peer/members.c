// SPDX-License-Identifier: MIT
/* See members.h. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "errmsg.h"
#include "members.h"
#include "parse.h"

#define FILE_MAX	(16U << 20)

int mc_member_parse_addr(const char *s, struct mc_member *m)
{
	const char *colon, *host = s;
	size_t hlen;
	uint64_t port;
	unsigned char bin[16];

	if (*s == '[') {
		const char *close = strchr(s, ']');

		if (!close || close[1] != ':')
			return -EINVAL;
		host = s + 1;
		hlen = (size_t)(close - host);
		colon = close + 1;
	} else {
		colon = strrchr(s, ':');
		if (!colon)
			return -EINVAL;
		hlen = (size_t)(colon - s);
	}
	if (!hlen || hlen >= sizeof(m->host) || strlen(colon + 1) >= sizeof(m->port))
		return -EINVAL;
	memcpy(m->host, host, hlen);
	m->host[hlen] = '\0';
	if (mc_parse_uint(colon + 1, &port) || !port || port > 65535)
		return -EINVAL;
	snprintf(m->port, sizeof(m->port), "%u", (unsigned int)port);
	/* Numeric only: a member list never waits on DNS. */
	if (inet_pton(*s == '[' ? AF_INET6 : AF_INET, m->host, bin) != 1)
		return -EINVAL;
	return 0;
}

bool mc_member_region_ok(const char *r)
{
	if (!*r || strlen(r) >= MC_MEMBER_REGION_MAX)
		return false;
	for (; *r; r++)
		if (!((*r >= 'a' && *r <= 'z') || (*r >= '0' && *r <= '9') || *r == '-'))
			return false;
	return true;
}

static int member_cmp(const void *a, const void *b)
{
	return memcmp(&((const struct mc_member *)a)->id, &((const struct mc_member *)b)->id,
		      sizeof(struct mc_node_id));
}

/* One line's words: at most 4 (one more than allowed, to say so). */
static int split(char *line, char **w)
{
	int n = 0;
	char *save = NULL, *t;

	for (t = strtok_r(line, " \t\r", &save); t && n < 4; t = strtok_r(NULL, " \t\r", &save))
		w[n++] = t;
	return n;
}

int mc_members_parse(const char *text, const char *what, struct mc_members *out,
		     char *err, size_t errlen)
{
	struct mc_members ms = { 0 };
	size_t cap = 0, lineno = 0;
	char *copy = strdup(text), *line, *next;
	int ret = 0;

	if (!copy)
		return mc_errf(err, errlen, -ENOMEM, "out of memory");
	for (line = copy; line && !ret; line = next) {
		struct mc_member *m;
		char *w[4];
		int n;

		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		lineno++;
		if (strchr(line, '#'))
			*strchr(line, '#') = '\0';
		n = split(line, w);
		if (!n)
			continue;
		if (n < 2 || n > 3) {
			ret = mc_errf(err, errlen, -EINVAL,
				      "%s:%zu: want NODE-ID ADDRESS:PORT [REGION]", what, lineno);
			break;
		}
		if (ms.n == MC_MEMBERS_MAX) {
			ret = mc_errf(err, errlen, -E2BIG, "%s: more than %d members", what,
				      MC_MEMBERS_MAX);
			break;
		}
		if (ms.n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			struct mc_member *grown = realloc(ms.m, ncap * sizeof(*grown));

			if (!grown) {
				ret = mc_errf(err, errlen, -ENOMEM, "out of memory");
				break;
			}
			ms.m = grown;
			cap = ncap;
		}
		m = memset(&ms.m[ms.n], 0, sizeof(*m));
		if (mc_node_id_parse(w[0], strlen(w[0]), &m->id))
			ret = mc_errf(err, errlen, -EINVAL, "%s:%zu: '%.40s' is not a node id (32 hex digits)",
				      what, lineno, w[0]);
		else if (mc_member_parse_addr(w[1], m))
			ret = mc_errf(err, errlen, -EINVAL,
				      "%s:%zu: '%.64s' is not a numeric address with a port (10.0.0.5:7117, [fd00::5]:7117)",
				      what, lineno, w[1]);
		else if (n == 3 && !mc_member_region_ok(w[2]))
			ret = mc_errf(err, errlen, -EINVAL, "%s:%zu: region '%.40s': want [a-z0-9-], at most %d",
				      what, lineno, w[2], MC_MEMBER_REGION_MAX - 1);
		else if (n == 3)
			strcpy(m->region, w[2]);
		if (!ret)
			ms.n++;
	}
	free(copy);
	if (!ret && ms.n > 1) {
		qsort(ms.m, ms.n, sizeof(*ms.m), member_cmp);
		for (size_t i = 1; i < ms.n && !ret; i++)
			if (!member_cmp(&ms.m[i - 1], &ms.m[i])) {
				char hex[33];

				mc_node_id_hex(&ms.m[i].id, hex);
				ret = mc_errf(err, errlen, -EINVAL, "%s: node id %s is listed twice",
					      what, hex);
			}
	}
	if (ret) {
		free(ms.m);
		return ret;
	}
	mc_members_free(out);
	*out = ms;
	return 0;
}

int mc_members_load(const char *path, struct mc_members *out, char *err,
		    size_t errlen)
{
	struct stat st;
	char *text;
	ssize_t n;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return mc_errf(err, errlen, -errno, "%s: %s", path, strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode) || st.st_size > FILE_MAX) {
		close(fd);
		return mc_errf(err, errlen, -EINVAL, "%s: not a regular file of at most %u bytes",
			       path, FILE_MAX);
	}
	text = malloc((size_t)st.st_size + 1);
	if (!text) {
		close(fd);
		return mc_errf(err, errlen, -ENOMEM, "out of memory");
	}
	n = read(fd, text, (size_t)st.st_size);
	close(fd);
	if (n != st.st_size) {
		free(text);
		return mc_errf(err, errlen, -EIO, "%s: short read", path);
	}
	text[n] = '\0';
	if (memchr(text, '\0', (size_t)n))
		ret = mc_errf(err, errlen, -EINVAL, "%s: holds a NUL byte", path);
	else
		ret = mc_members_parse(text, path, out, err, errlen);
	free(text);
	return ret;
}

void mc_members_free(struct mc_members *ms)
{
	free(ms->m);
	ms->m = NULL;
	ms->n = 0;
}

const struct mc_member *mc_members_find(const struct mc_members *ms,
					const struct mc_node_id *id)
{
	struct mc_member key;

	if (!ms->n)
		return NULL;
	key.id = *id;
	return bsearch(&key, ms->m, ms->n, sizeof(*ms->m), member_cmp);
}

int mc_members_placement(const struct mc_members *ms, struct mc_placement *p)
{
	struct mc_node_id *ids = ms->n ? calloc(ms->n, sizeof(*ids)) : NULL;
	int ret;

	if (ms->n && !ids)
		return -ENOMEM;
	for (size_t i = 0; i < ms->n; i++)
		ids[i] = ms->m[i].id;
	ret = mc_placement_set(p, ids, ms->n);
	free(ids);
	return ret;
}
