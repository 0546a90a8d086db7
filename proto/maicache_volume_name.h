/* SPDX-License-Identifier: (GPL-2.0 WITH Linux-syscall-note) OR MIT */
/*
 * The name of a volume (MAICACHE_ATTR_VOLUME_NAME): the name the user
 * attached it under (maicachectl attach --name). The module shows it in
 * /sys/block/maicacheN/maicache/name, and dist/60-maicache.rules makes
 * /dev/disk/by-maicache/<name> from it, so it must be a safe path
 * component wherever it ends up (a udev symlink, a shell word):
 *
 *   - 1 to MAICACHE_VOLUME_NAME_MAX - 1 bytes, then one NUL that ends the
 *     attribute (no byte after it);
 *   - each byte an ASCII letter or digit, or one of MAICACHE_VOLUME_NAME_PUNCT
 *     (so no '/', no white space, nothing udev or a shell would expand);
 *   - the first byte neither '.' nor '-' (no ".", "..", hidden files or
 *     names that read as options).
 *
 * An empty name, like an absent attribute, means "no name": the device
 * gets no link (what an older daemon that never sends the attribute gets).
 * The module refuses a name another device already has (EEXIST).
 *
 * Both the module and user space check names with the one function below.
 */
#ifndef _UAPI_LINUX_MAICACHE_VOLUME_NAME_H
#define _UAPI_LINUX_MAICACHE_VOLUME_NAME_H

#define MAICACHE_VOLUME_NAME_MAX	64	/* bytes, the NUL included */
#define MAICACHE_VOLUME_NAME_PUNCT	"._-+:@"

/*
 * Why the @len bytes at @s (the whole attribute payload, its NUL included)
 * are not a volume name, or NULL when they are one (the empty one too).
 * Reads no byte past @len, whatever the bytes are.
 */
static inline const char *maicache_volume_name_error(const char *s,
						     unsigned int len)
{
	static const char punct[] = MAICACHE_VOLUME_NAME_PUNCT;
	unsigned int i, j;

	for (i = 0; i < len && s[i]; i++) {
		char c = s[i];

		if (i >= MAICACHE_VOLUME_NAME_MAX - 1)
			return "volume name longer than 63 bytes";
		if (i == 0 && (c == '.' || c == '-'))
			return "volume name must not start with '.' or '-'";
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9'))
			continue;
		for (j = 0; punct[j] && punct[j] != c; j++)
			;
		if (!punct[j])
			return "volume name may hold only ASCII letters, digits and ._-+:@";
	}
	if (i == len)
		return "volume name not NUL-terminated";
	if (i + 1 != len)
		return "volume name has bytes after its NUL";
	return 0;
}

#endif /* _UAPI_LINUX_MAICACHE_VOLUME_NAME_H */
