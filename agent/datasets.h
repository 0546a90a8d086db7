/* SPDX-License-Identifier: MIT */
/*
 * The datasets file of maicache-agent: which datasets a node attaches
 * through maicached and where it mounts them. In Kubernetes it is a key of
 * the agent's ConfigMap (deploy/kubernetes, docs/kubernetes.md).
 *
 *   # comment
 *   [dataset imagenet]
 *   source = https://ACCOUNT.blob.core.windows.net/datasets/imagenet.erofs
 *   mount = /mnt/maicache/imagenet
 *   fstype = erofs
 *   extent_size = 1M
 *   sas_file = /etc/maicache-agent/secrets/imagenet.sas
 *
 * One section per dataset; its NAME is the volume's name (the module's
 * rule, proto/maicache_volume_name.h) and so /dev/disk/by-maicache/NAME.
 * Keys: source and mount (required); fstype: auto (the default: what the
 * image holds), erofs, ext4, squashfs or xfs; options: the file system's
 * mount data (e.g. norecovery); extent_size as maicachectl attach
 * --extent-size; and for blob sources at most one credential file:
 * account_key_file, sas_file, token_file, credentials_file, or anonymous =
 * yes; without one the agent's environment and /etc/maicache/credentials
 * apply, as for maicachectl attach (azure/cred.h). Secrets never appear in the file itself: the
 * inline forms (key, sas, connection_string, a SAS in the URL) are
 * refused, since a ConfigMap is no place for them.
 *
 * A '#' starts a comment only at the start of a line. Every error names
 * the file, the line, the dataset and the key; a file with an error loads
 * nothing. An empty file is no datasets.
 */
#ifndef MAICACHE_AGENT_DATASETS_H
#define MAICACHE_AGENT_DATASETS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "maicache_volume_name.h"

#define MC_DS_MAX		256	/* datasets in one file */
#define MC_DS_URL_MAX		4096
#define MC_DS_PATH_MAX		1024
#define MC_DS_OPTIONS_MAX	256
#define MC_DS_FSTYPE_MAX	16
#define MC_DS_FILE_MAX		(1024 * 1024)	/* bytes */

struct mc_dataset {
	char name[MAICACHE_VOLUME_NAME_MAX];
	char source[MC_DS_URL_MAX];
	char mount[MC_DS_PATH_MAX];
	char fstype[MC_DS_FSTYPE_MAX];		/* "auto" or a type of mc_ds_fstypes */
	char options[MC_DS_OPTIONS_MAX];	/* "" for none */
	uint32_t extent_size;			/* 0: the daemon's default */
	/* Blob sources: at most one of these. */
	char account_key_file[MC_DS_PATH_MAX];
	char sas_file[MC_DS_PATH_MAX];
	char token_file[MC_DS_PATH_MAX];
	char credentials_file[MC_DS_PATH_MAX];
	bool anonymous;
	unsigned int line;			/* of its [dataset NAME] line */
};

struct mc_datasets {
	size_t n;
	struct mc_dataset *ds;
};

/* The file system types a dataset may name, NULL-terminated. */
extern const char *const mc_ds_fstypes[];

/*
 * Parse len bytes of text (a datasets file; what names it in messages).
 * mount_root, if set, is the one directory mounts may go under (the host
 * directory the agent's pod shares with the node). 0 and out filled (freed
 * by the caller), or -EINVAL with "WHAT:LINE: dataset NAME: KEY: why" and
 * out empty.
 */
int mc_datasets_parse(const char *text, size_t len, const char *what,
		      const char *mount_root, struct mc_datasets *out,
		      char *err, size_t errlen);
/* The same for a file: -errno with "PATH: why" when it cannot be read. */
int mc_datasets_load(const char *path, const char *mount_root,
		     struct mc_datasets *out, char *err, size_t errlen);
void mc_datasets_free(struct mc_datasets *s);

const struct mc_dataset *mc_datasets_find(const struct mc_datasets *s,
					  const char *name);
/* Whether a and b attach and mount alike (every field but the line). */
bool mc_dataset_same(const struct mc_dataset *a, const struct mc_dataset *b);
/* Append a copy of d: 0 or -ENOMEM (-E2BIG past MC_DS_MAX). */
int mc_datasets_add(struct mc_datasets *s, const struct mc_dataset *d);
/* Remove the dataset named name, if there is one. */
void mc_datasets_remove(struct mc_datasets *s, const char *name);

/*
 * Write s to path in the format above (mode 0600, through a temporary file
 * and rename, so a reader sees the old file or the new one). 0 or -errno
 * with a message.
 */
int mc_datasets_save(const char *path, const struct mc_datasets *s,
		     char *err, size_t errlen);

#endif /* MAICACHE_AGENT_DATASETS_H */
