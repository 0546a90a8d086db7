// SPDX-License-Identifier: MIT
/*
 * maicachectl: control CLI for the maicache module and daemon.
 */
#include <getopt.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "maicache_version.h"
#include "nlclient.h"

static void usage(FILE *f)
{
	fprintf(f,
		"usage: maicachectl [--json] <command>\n"
		"\n"
		"commands:\n"
		"  version    print the versions of maicachectl and of the loaded module\n"
		"\n"
		"options:\n"
		"  -j, --json  machine-readable output\n"
		"  -h, --help  this text\n");
}

static int cmd_version(bool json)
{
	struct mc_version v;
	char err[256];
	struct mc_nl *nl;
	int ret;

	nl = mc_nl_open(err, sizeof(err));
	if (!nl) {
		fprintf(stderr, "maicachectl: %s\n", err);
		return 1;
	}
	ret = mc_nl_get_version(nl, &v, err, sizeof(err));
	mc_nl_close(nl);
	if (ret) {
		fprintf(stderr, "maicachectl: %s\n", err);
		return 1;
	}
	if (json)
		printf("{\"maicachectl\":\"%s\",\"module\":\"%s\",\"genl_version\":%u}\n",
		       MAICACHE_VERSION, v.version, v.genl_version);
	else
		printf("maicachectl %s\nmodule %s (netlink family v%u)\n",
		       MAICACHE_VERSION, v.version, v.genl_version);
	return 0;
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	bool json = false;
	int c;

	while ((c = getopt_long(argc, argv, "jh", opts, NULL)) != -1) {
		switch (c) {
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		default:
			usage(stderr);
			return 2;
		}
	}
	if (optind >= argc) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[optind], "version"))
		return cmd_version(json);
	fprintf(stderr, "maicachectl: unknown command '%s'\n", argv[optind]);
	usage(stderr);
	return 2;
}
