/* SPDX-License-Identifier: MIT */
/*
 * The kinds behind source.h, for source.c only: it picks the kind of a URL
 * and calls these. A kind may include its client's headers (source_blob.c
 * the Azure ones); nothing else in the daemon does.
 */
#ifndef MAICACHE_SOURCE_KIND_H
#define MAICACHE_SOURCE_KIND_H

#include "source.h"

/* source_file.c: opens at once, so cb-less; file_parallel, file_split of opts. */
int mc_file_source_open(struct mc_loop *loop, const struct mc_source_opts *opts,
			const char *url, struct mc_source **out, char *err,
			size_t errlen);

/* source_blob.c */
struct mc_blob_kind;

int mc_blob_kind_new(struct mc_blob_kind **out, struct mc_loop *loop,
		     const struct mc_source_opts *opts, char *err, size_t errlen);
void mc_blob_kind_free(struct mc_blob_kind *k);
void mc_blob_kind_stats(const struct mc_blob_kind *k,
			struct mc_source_stats *out);
int mc_blob_args_from_msg(const struct mc_msg *m, struct mc_source_args **out,
			  char *err, size_t errlen);
int mc_blob_args_to_msg(const struct mc_source_args *a, struct mc_msg *m);
const char *mc_blob_args_auth(const struct mc_source_args *a);
void mc_blob_args_free(struct mc_source_args *a);
int mc_blob_source_open(struct mc_blob_kind *k, const char *url,
			const struct mc_source_args *args,
			const char *expect_version, mc_source_open_cb cb,
			void *arg, struct mc_source **pending,
			char *err, size_t errlen);

#endif /* MAICACHE_SOURCE_KIND_H */
