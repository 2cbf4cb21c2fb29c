/* SPDX-License-Identifier: BSD-3-Clause */
/* Mempool, mbuf and virt2iova loops for the Google Benchmark programs (C,
 * so that C++ need not include PDK's C11-atomics headers). */
#ifndef GBENCH_MEMPOOL_OPS_H
#define GBENCH_MEMPOOL_OPS_H

#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

struct pdk_mempool;

/* A pool of 8191 objects of 2048 bytes with a per-lcore cache of
 * `cache` objects (0: none); NULL when it cannot be made. */
struct pdk_mempool *gb_mempool_new(unsigned cache);
/* A pool of 8191 mbufs with 2048-byte data rooms and a 256-mbuf cache. */
struct pdk_mempool *gb_mbuf_pool_new(void);
void gb_mempool_free(struct pdk_mempool *mp);

/* `reps` times get `bulk` objects then put them back. Returns the TSC
 * ticks spent, or UINT64_MAX when a get failed. */
uint64_t gb_mempool_get_put(struct pdk_mempool *mp, unsigned bulk,
			    unsigned reps);
/* The same with pdk_pktmbuf_alloc()/_free() (bulk 1) or
 * pdk_pktmbuf_alloc_bulk()/_free_bulk(). */
uint64_t gb_mbuf_alloc_free(struct pdk_mempool *mp, unsigned bulk,
			    unsigned reps);

/* virt2iova of `n` objects taken from mp (kept until gb_objs_put()),
 * `reps` times over: through the object header (pdk_mempool_virt2iova) or
 * EAL's memory map (pdk_mem_virt2iova). Returns the ticks; *sink gets a
 * sum of the IOVAs so that nothing is optimised away. */
void **gb_objs_get(struct pdk_mempool *mp, unsigned n);
void gb_objs_put(struct pdk_mempool *mp, void **objs, unsigned n);
uint64_t gb_virt2iova_hdr(void *const *objs, unsigned n, unsigned reps,
			  uint64_t *sink);
uint64_t gb_virt2iova_memseg(void *const *objs, unsigned n, unsigned reps,
			     uint64_t *sink);

#ifdef __cplusplus
}
#endif
#endif
