// SPDX-License-Identifier: MIT
/*
 * Test helper: Create Container and Put Blob with Shared Key (see blob-put.h).
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "az_sign.h"
#include "blob-put.h"

struct body {
	const char *p;
	size_t left;
};

static size_t read_body(char *buf, size_t size, size_t nmemb, void *arg)
{
	struct body *b = arg;
	size_t n = size * nmemb < b->left ? size * nmemb : b->left;

	memcpy(buf, b->p, n);
	b->p += n;
	b->left -= n;
	return n;
}

static size_t discard(char *p, size_t size, size_t nmemb, void *arg)
{
	(void)p;
	(void)arg;
	return size * nmemb;
}

static long put(const struct bp_account *a, const char *path, const char *query,
		const void *data, size_t len, int blob)
{
	char date[AZ_DATE_LEN], clen[32], auth[AZ_AUTH_LEN], url[4096], line[512];
	struct az_hdr h[4];
	size_t nh = 0, i;
	struct curl_slist *hl = NULL;
	struct body body = { data, len };
	CURL *e;
	long status = -1;
	CURLcode rc;

	az_http_date(time(NULL), date);
	snprintf(clen, sizeof(clen), "%zu", len);
	h[nh++] = (struct az_hdr){ "x-ms-date", date };
	h[nh++] = (struct az_hdr){ "x-ms-version", AZ_API_VERSION };
	h[nh++] = (struct az_hdr){ "Content-Length", clen };
	if (blob)
		h[nh++] = (struct az_hdr){ "x-ms-blob-type", "BlockBlob" };
	const struct az_sign_req sr = {
		.verb = "PUT", .account = a->name, .path = path, .query = query,
		.hdrs = h, .nhdrs = nh,
	};
	if (az_sign_shared_key(&sr, a->key, a->key_len, auth, sizeof(auth)) < 0) {
		fprintf(stderr, "blob-put: cannot sign %s\n", path);
		return -1;
	}
	for (i = 0; i < nh; i++) {
		if (!strcmp(h[i].name, "Content-Length"))
			continue;	/* curl sends it from INFILESIZE */
		snprintf(line, sizeof(line), "%s: %s", h[i].name, h[i].value);
		hl = curl_slist_append(hl, line);
	}
	snprintf(line, sizeof(line), "Authorization: %s", auth);
	hl = curl_slist_append(hl, line);
	hl = curl_slist_append(hl, "Expect:");
	snprintf(url, sizeof(url), "%s%s%s%s", a->endpoint, path,
		 query ? "?" : "", query ? query : "");

	e = curl_easy_init();
	if (!e || !hl) {
		fprintf(stderr, "blob-put: out of memory\n");
		goto out;
	}
	curl_easy_setopt(e, CURLOPT_URL, url);
	curl_easy_setopt(e, CURLOPT_UPLOAD, 1L);
	curl_easy_setopt(e, CURLOPT_READFUNCTION, read_body);
	curl_easy_setopt(e, CURLOPT_READDATA, &body);
	curl_easy_setopt(e, CURLOPT_INFILESIZE_LARGE, (curl_off_t)len);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, hl);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, discard);
	curl_easy_setopt(e, CURLOPT_TIMEOUT, 120L);
	rc = curl_easy_perform(e);
	if (rc) {
		fprintf(stderr, "blob-put: PUT %s: %s\n", path, curl_easy_strerror(rc));
		goto out;
	}
	curl_easy_getinfo(e, CURLINFO_RESPONSE_CODE, &status);
out:
	curl_easy_cleanup(e);
	curl_slist_free_all(hl);
	return status;
}

long bp_create_container(const struct bp_account *a, const char *container)
{
	char path[512];

	snprintf(path, sizeof(path), "/%s/%s", a->name, container);
	return put(a, path, "restype=container", NULL, 0, 0);
}

long bp_put_blob(const struct bp_account *a, const char *container,
		 const char *blob, const void *data, size_t len)
{
	char path[4096];

	if (len > 256u << 20) {
		fprintf(stderr, "blob-put: %zu bytes is more than one Put Blob takes here\n", len);
		return -1;
	}
	snprintf(path, sizeof(path), "/%s/%s/%s", a->name, container, blob);
	return put(a, path, NULL, data, len, 1);
}
