/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pdk-devinfo [EAL options --] [--json] DEVICE
 *
 * Without "--" no EAL is started: the device is inspected on its own. With
 * EAL options (log levels, --file-prefix) the EAL starts with --no-pci, so
 * the PCI bus leaves the device to us.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pdk_eal.h>

#include "devinfo.h"

static bool has_dashdash(int argc, char **argv)
{
	for (int i = 1; i < argc; i++)
		if (strcmp(argv[i], "--") == 0)
			return true;
	return false;
}

int main(int argc, char **argv)
{
	char **eargv;
	int n, rc;

	if (!has_dashdash(argc, argv))
		return devinfo_main(argc, argv, stdout, stderr);
	eargv = calloc((size_t)argc + 2, sizeof(*eargv));
	if (eargv == NULL)
		return DEVINFO_EXIT_FAIL;
	eargv[0] = argv[0];
	eargv[1] = "--no-pci"; /* the device is ours to open, not the bus's */
	memcpy(&eargv[2], &argv[1], (size_t)(argc - 1) * sizeof(*argv));
	n = pdk_eal_init(argc + 1, eargv);
	if (n == -ECANCELED) {
		printf("%s", pdk_eal_usage());
		free(eargv);
		return 0;
	}
	if (n < 0) {
		fprintf(stderr, "pdk-devinfo: %s\n", pdk_eal_last_error());
		free(eargv);
		return DEVINFO_EXIT_FAIL;
	}
	rc = devinfo_main(argc + 1 - n, eargv + n, stdout, stderr);
	pdk_eal_cleanup();
	free(eargv);
	return rc;
}
