/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: EAL option parsing. The input is split on NUL bytes into
 * argv; the parser must return a count or -EINVAL with an error message,
 * never crash, and must not leak what it allocated.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "eal_private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *argv[64];
	char *buf = malloc(size + 1);
	struct eal_args a;
	char err[512];
	int argc = 1, rc;

	if (buf == NULL)
		return 0;
	memcpy(buf, data, size);
	buf[size] = '\0';
	argv[0] = "fuzz";
	for (size_t i = 0; i <= size && argc < 63;) {
		argv[argc++] = buf + i;
		i += strlen(buf + i) + 1;
	}
	argv[argc] = NULL;
	rc = eal_parse_args(argc, argv, &a, err, sizeof(err));
	if (rc >= 0) {
		if (rc >= argc || a.cfg.lcore_count == 0)
			abort(); /* consumed more than given, or no lcore */
		eal_args_release(&a);
	} else if (err[0] == '\0') {
		abort(); /* every failure says why */
	}
	free(buf);
	return 0;
}
