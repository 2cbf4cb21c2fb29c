/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pdk_eal.h>

#include "bench_common.h"

static char *default_args[] = {"--no-huge", "-m", "256", "-l", "0-1",
			       "--log-level=warning"};

int bench_eal_init(int argc, char **argv, const char *usage)
{
	char **eal = calloc((size_t)argc + PDK_DIM(default_args) + 1,
			    sizeof(char *));
	int n = 0, rest, rc;

	if (eal == NULL) {
		fprintf(stderr, "out of memory\n");
		exit(1);
	}
	eal[n++] = argv[0];
	for (rest = 1; rest < argc && strcmp(argv[rest], "--") != 0; rest++)
		eal[n++] = argv[rest];
	if (n == 1) {
		if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
			default_args[4] = "0";
		for (unsigned i = 0; i < PDK_DIM(default_args); i++)
			eal[n++] = default_args[i];
	}
	rc = pdk_eal_init(n, eal);
	free(eal);
	if (rc == -ECANCELED) {
		printf("%s\nEAL options:\n%s", usage, pdk_eal_usage());
		exit(0);
	}
	if (rc < 0) {
		fprintf(stderr, "pdk_eal_init failed: %s\n%s", pdk_eal_last_error(),
			usage);
		exit(1);
	}
	/* Skip "--"; what follows is the program's. */
	rest = rest < argc ? rest + 1 : argc;
	for (int i = rest; i < argc; i++)
		argv[1 + i - rest] = argv[i];
	return argc - rest;
}

void bench_eal_cleanup(void)
{
	pdk_eal_cleanup();
}

uint64_t bench_rdtsc(void)
{
	return pdk_rdtsc();
}

uint64_t bench_tsc_hz(void)
{
	return pdk_get_tsc_hz();
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

double bench_median(double *v, unsigned n)
{
	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}
