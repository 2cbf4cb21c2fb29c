/* SPDX-License-Identifier: BSD-3-Clause */
/* EAL start-up as every tool in app/ does it. Header-only. */
#ifndef APP_EAL_H
#define APP_EAL_H

#include <errno.h>
#include <stdio.h>

#include <pdk_eal.h>

/*
 * Start the EAL. Returns the number of arguments it consumed (>= 0), or -1
 * with *exit_code set: 0 after printing the EAL usage (-h before "--"),
 * 1 after printing why init failed.
 */
static inline int app_eal_start(const char *prog, int argc, char **argv, int *exit_code)
{
	int n = pdk_eal_init(argc, argv);

	if (n >= 0)
		return n;
	if (n == -ECANCELED) {
		printf("%s", pdk_eal_usage());
		*exit_code = 0;
	} else {
		fprintf(stderr, "%s: %s\n", prog, pdk_eal_last_error());
		*exit_code = 1;
	}
	return -1;
}

#endif /* APP_EAL_H */
