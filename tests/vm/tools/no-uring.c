// SPDX-License-Identifier: MIT
/*
 * no-uring: run a program with io_uring blocked by seccomp, the way a
 * container runtime's default profile blocks it.
 *
 *   no-uring PROG [ARGS...]
 *
 * io_uring_setup, io_uring_enter and io_uring_register fail with ENOSYS in
 * PROG and everything it starts; every other system call works. Exit
 * status: PROG's, or 2 on usage or filter errors, 127 when PROG cannot be
 * executed.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "seccomp_no_uring.h"

int main(int argc, char **argv)
{
	int rc;

	if (argc < 2) {
		fprintf(stderr, "usage: no-uring PROG [ARGS...]\n");
		return 2;
	}
	rc = seccomp_no_uring();
	if (rc) {
		fprintf(stderr, "no-uring: installing the seccomp filter: %s\n",
			strerror(-rc));
		return 2;
	}
	execvp(argv[1], argv + 1);
	fprintf(stderr, "no-uring: %s: %s\n", argv[1], strerror(errno));
	return 127;
}
