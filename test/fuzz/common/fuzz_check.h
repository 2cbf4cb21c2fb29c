/* SPDX-License-Identifier: BSD-3-Clause */
/* Fuzz targets: say which invariant broke before aborting (optimised
 * builds merge abort calls, so the stack alone does not tell). */
#ifndef FUZZ_CHECK_H
#define FUZZ_CHECK_H

#include <stdio.h>
#include <stdlib.h>

#define FUZZ_CHECK(cond)                                                      \
	do {                                                                  \
		if (!(cond)) {                                                \
			fprintf(stderr, "%s:%d: %s\n", __FILE__, __LINE__, #cond); \
			abort();                                              \
		}                                                             \
	} while (0)

#endif /* FUZZ_CHECK_H */
