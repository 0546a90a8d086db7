// SPDX-License-Identifier: MIT
/*
 * libFuzzer target: a control-socket message as maicachectl (or anyone
 * who can reach the socket) sends it; state records on disk are the same
 * format (lib/ctl_msg.c). A message that decodes encodes back to bytes
 * that decode to the same fields; one that does not says why.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ctl_msg.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct mc_msg m, again;
static char buf[MC_MSG_MAX];

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char err[256] = "";
	long n;

	if (mc_msg_decode(&m, (const char *)data, size, err, sizeof(err))) {
		if (!err[0])
			__builtin_trap();	/* a refusal says why */
		return 0;
	}
	n = mc_msg_encode(&m, buf, sizeof(buf));
	if (n < 0 || mc_msg_decode(&again, buf, (size_t)n, err, sizeof(err)) ||
	    again.nfields != m.nfields)
		__builtin_trap();
	for (unsigned int i = 0; i < m.nfields; i++)
		if (strcmp(mc_msg_key(&m, i), mc_msg_key(&again, i)) ||
		    strcmp(mc_msg_val(&m, i), mc_msg_val(&again, i)))
			__builtin_trap();
	return 0;
}
