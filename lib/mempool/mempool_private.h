/* SPDX-License-Identifier: BSD-3-Clause */
/* Library-private mempool helpers (reachable from unit tests). */
#ifndef PDK_MEMPOOL_PRIVATE_H
#define PDK_MEMPOOL_PRIVATE_H

#include <stdbool.h>
#include <stddef.h>

#include "pdk_mempool.h"

/* pdk_mem_iova_contig() in production; tests pass a fake memory map. */
typedef bool (*mempool_contig_fn)(const void *va, size_t len);

/*
 * The first object header at or after `pos` (cache-line steps) whose object
 * of elt_size bytes lies in IOVA-contiguous memory and ends by `end`; NULL
 * when there is none.
 */
char *mempool_obj_slot(char *pos, const char *end, size_t elt_size,
		       mempool_contig_fn contig);

#endif /* PDK_MEMPOOL_PRIVATE_H */
