/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pdk_eal.h>
#include <pdk_mbuf.h>
#include <pdk_mempool.h>

#include "bench_common.h"
#include "gbench_mempool_ops.h"

#define GB_POOL_N 8191
#define GB_ELT_SIZE 2048
#define GB_MAX_BULK 128

static char *pool_name(const char *base)
{
	static char name[PDK_MEMPOOL_NAMESIZE];
	static unsigned seq;

	snprintf(name, sizeof(name), "%s_%u", base, seq++);
	return name;
}

static struct pdk_mempool *checked(struct pdk_mempool *mp, const char *what)
{
	if (mp == NULL)
		fprintf(stderr, "%s: %s\n", what, strerror(errno));
	return mp;
}

struct pdk_mempool *gb_mempool_new(unsigned cache)
{
	return checked(pdk_mempool_create(pool_name("gb_mp"), GB_POOL_N,
					  GB_ELT_SIZE, cache, 0, NULL, NULL,
					  pdk_socket_id(), 0),
		       "pdk_mempool_create");
}

struct pdk_mempool *gb_mbuf_pool_new(void)
{
	return checked(pdk_pktmbuf_pool_create(pool_name("gb_mbuf"), GB_POOL_N,
					       256, 0, PDK_MBUF_DEFAULT_BUF_SIZE,
					       pdk_socket_id()),
		       "pdk_pktmbuf_pool_create");
}

void gb_mempool_free(struct pdk_mempool *mp)
{
	pdk_mempool_free(mp);
}

static PDK_ALWAYS_INLINE int get_put_loop(struct pdk_mempool *mp,
					  unsigned bulk, unsigned reps)
{
	void *objs[GB_MAX_BULK];

	for (unsigned i = 0; i < reps; i++) {
		if (pdk_unlikely(pdk_mempool_get_bulk(mp, objs, bulk) != 0))
			return -ENOENT;
		pdk_mempool_put_bulk(mp, objs, bulk);
	}
	return 0;
}

static PDK_ALWAYS_INLINE int mbuf_loop(struct pdk_mempool *mp, unsigned bulk,
				       unsigned reps)
{
	struct pdk_mbuf *m[GB_MAX_BULK];

	for (unsigned i = 0; i < reps; i++) {
		if (bulk == 1) {
			m[0] = pdk_pktmbuf_alloc(mp);
			if (pdk_unlikely(m[0] == NULL))
				return -ENOENT;
			pdk_pktmbuf_free(m[0]);
			continue;
		}
		if (pdk_unlikely(pdk_pktmbuf_alloc_bulk(mp, m, bulk) != 0))
			return -ENOENT;
		pdk_pktmbuf_free_bulk(m, bulk);
	}
	return 0;
}

/* TSC ticks of `loop`, with the bulk sizes the benchmarks use as
 * compile-time constants; UINT64_MAX when it failed. */
#define TIMED_BY_BULK(loop, mp, bulk, reps)                                   \
	__extension__({                                                       \
		int rc_ = -EINVAL;                                            \
		uint64_t t_ = BENCH_TICKS(switch (bulk) {                     \
			case 1: rc_ = loop(mp, 1, reps); break;               \
			case 4: rc_ = loop(mp, 4, reps); break;               \
			case 8: rc_ = loop(mp, 8, reps); break;               \
			case 32: rc_ = loop(mp, 32, reps); break;             \
			case 128: rc_ = loop(mp, 128, reps); break;           \
			default:                                              \
				if (bulk <= GB_MAX_BULK)                      \
					rc_ = loop(mp, bulk, reps);           \
			});                                                   \
		rc_ == 0 ? t_ : UINT64_MAX;                                   \
	})

uint64_t gb_mempool_get_put(struct pdk_mempool *mp, unsigned bulk,
			    unsigned reps)
{
	return TIMED_BY_BULK(get_put_loop, mp, bulk, reps);
}

uint64_t gb_mbuf_alloc_free(struct pdk_mempool *mp, unsigned bulk,
			    unsigned reps)
{
	return TIMED_BY_BULK(mbuf_loop, mp, bulk, reps);
}

void **gb_objs_get(struct pdk_mempool *mp, unsigned n)
{
	void **objs = calloc(n, sizeof(*objs));

	if (objs != NULL && pdk_mempool_get_bulk(mp, objs, n) != 0) {
		free(objs);
		objs = NULL;
	}
	return objs;
}

void gb_objs_put(struct pdk_mempool *mp, void **objs, unsigned n)
{
	if (objs == NULL)
		return;
	pdk_mempool_put_bulk(mp, objs, n);
	free(objs);
}

static PDK_ALWAYS_INLINE uint64_t
virt2iova_loop(void *const *objs, unsigned n, unsigned reps, uint64_t *sink,
	       pdk_iova_t (*lookup)(const void *))
{
	uint64_t t0 = pdk_rdtsc(), sum = 0;

	for (unsigned r = 0; r < reps; r++)
		for (unsigned i = 0; i < n; i++)
			sum += lookup(objs[i]);
	*sink += sum;
	return pdk_rdtsc() - t0;
}

uint64_t gb_virt2iova_hdr(void *const *objs, unsigned n, unsigned reps,
			  uint64_t *sink)
{
	return virt2iova_loop(objs, n, reps, sink, pdk_mempool_virt2iova);
}

uint64_t gb_virt2iova_memseg(void *const *objs, unsigned n, unsigned reps,
			     uint64_t *sink)
{
	return virt2iova_loop(objs, n, reps, sink, pdk_mem_virt2iova);
}
