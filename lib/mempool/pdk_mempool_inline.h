/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Mempool fast path: get/put through the per-lcore cache. Do not include
 * directly: include <pdk_mempool.h>. The cache policy is described there.
 */
#ifndef PDK_MEMPOOL_INLINE_H
#define PDK_MEMPOOL_INLINE_H

/* Included directly anyway: pdk_mempool.h defines the types first. */
#include <pdk_mempool.h>

static inline struct pdk_mempool_objhdr *pdk__mempool_hdr(const void *obj)
{
	return (struct pdk_mempool_objhdr *)((uintptr_t)obj -
					     sizeof(struct pdk_mempool_objhdr));
}

/* IOVA of an object of any pool (O(1): read from its header). */
static inline pdk_iova_t pdk_mempool_virt2iova(const void *obj)
{
	return pdk__mempool_hdr(obj)->iova;
}

/* The pool an object belongs to. */
static inline struct pdk_mempool *pdk_mempool_from_obj(const void *obj)
{
	return pdk__mempool_hdr(obj)->mp;
}

static inline void *pdk_mempool_get_priv(struct pdk_mempool *mp)
{
	return PDK_PTR_ADD(mp, PDK_ALIGN_CEIL(sizeof(*mp), (size_t)PDK_CACHE_LINE));
}

/* The calling thread's slot: its lcore's, or the shared non-EAL slot. */
static inline struct pdk_mempool_lcore *
pdk__mempool_lcore(const struct pdk_mempool *mp)
{
	unsigned id = pdk_lcore_id();

	if (id >= PDK_MAX_LCORES)
		id = PDK_MAX_LCORES;
	return (struct pdk_mempool_lcore *)((uintptr_t)mp->lcores +
					    id * mp->lcore_stride);
}

/* Counters: the owner adds without a locked instruction (it is the only
 * writer); the shared slot has many writers. relaxed: readers only need
 * each value, not an order between them. */
static inline void pdk__mempool_stat_add(struct pdk_mempool_lcore *lc,
					 enum pdk__mempool_stat s, uint64_t v)
{
	if (lc->shared) {
		atomic_fetch_add_explicit(&lc->stats[s], v, memory_order_relaxed);
		return;
	}
	atomic_store_explicit(&lc->stats[s],
			      atomic_load_explicit(&lc->stats[s],
						   memory_order_relaxed) + v,
			      memory_order_relaxed);
}

/* A counter of the fast path: only with PDK_MEMPOOL_F_STATS. */
static inline void pdk__mempool_stat_fast(struct pdk_mempool_lcore *lc,
					  enum pdk__mempool_stat s, uint64_t v)
{
	if (lc->count_all)
		pdk__mempool_stat_add(lc, s, v);
}

/* Pop n objects off the top of the cache (it holds at least n). */
static inline void pdk__mempool_cache_pop(struct pdk_mempool_lcore *lc,
					  uint32_t len, void **objs, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		objs[i] = lc->objs[len - 1 - i];
	/* relaxed: only this thread writes len; readers just sample it. */
	atomic_store_explicit(&lc->len, len - n, memory_order_relaxed);
}

/* Get through the cache; 0 < n <= lc->size. */
static inline int pdk__mempool_cache_get(struct pdk_mempool *mp,
					 struct pdk_mempool_lcore *lc,
					 void **objs, unsigned n)
{
	uint32_t len = atomic_load_explicit(&lc->len, memory_order_relaxed);
	uint32_t want, got;

	if (pdk_likely(n <= len)) {
		pdk__mempool_stat_fast(lc, PDK__MP_CACHE_HIT, 1);
		pdk__mempool_cache_pop(lc, len, objs, n);
		return 0;
	}
	/* Refill so that min(N/2, N - n) remain after this get. */
	want = PDK_MIN(n + lc->size / 2, lc->size) - len;
	got = pdk_ring_dequeue_bulk(mp->ring, &lc->objs[len], want, NULL);
	if (got == 0 && want > n - len)
		got = pdk_ring_dequeue_bulk(mp->ring, &lc->objs[len], n - len,
					    NULL);
	if (got == 0)
		return -ENOENT;
	pdk__mempool_stat_add(lc, PDK__MP_CACHE_REFILL, 1);
	pdk__mempool_cache_pop(lc, len + got, objs, n);
	return 0;
}

/*
 * Get n objects, all or none: 0, or -ENOENT when the pool (this lcore's
 * cache plus the ring) cannot supply n. Never blocks. n == 0 returns 0.
 */
static inline int pdk_mempool_get_bulk(struct pdk_mempool *mp, void **objs,
				       unsigned n)
{
	struct pdk_mempool_lcore *lc = pdk__mempool_lcore(mp);
	int rc;

	if (pdk_likely(n <= lc->size))
		rc = n == 0 ? 0 : pdk__mempool_cache_get(mp, lc, objs, n);
	else
		rc = pdk_ring_dequeue_bulk(mp->ring, objs, n, NULL) == n ? 0
									 : -ENOENT;
	if (pdk_likely(rc == 0)) {
		pdk__mempool_stat_fast(lc, PDK__MP_GET_OK, 1);
		pdk__mempool_stat_fast(lc, PDK__MP_GET_OK_OBJS, n);
	} else {
		pdk__mempool_stat_add(lc, PDK__MP_GET_FAIL, 1);
		pdk__mempool_stat_add(lc, PDK__MP_GET_FAIL_OBJS, n);
	}
	return rc;
}

static inline int pdk_mempool_get(struct pdk_mempool *mp, void **obj)
{
	return pdk_mempool_get_bulk(mp, obj, 1);
}

static inline void pdk__mempool_ring_put(struct pdk_mempool *mp,
					 void *const *objs, unsigned n)
{
	/* The ring holds every object of the pool: only a double free or a
	 * foreign object can overflow it. */
	if (pdk_unlikely(pdk_ring_enqueue_bulk(mp->ring, objs, n, NULL) != n))
		pdk__mempool_put_overflow(mp, n);
}

/* Put through the cache; n <= lc->size. */
static inline void pdk__mempool_cache_put(struct pdk_mempool *mp,
					  struct pdk_mempool_lcore *lc,
					  void *const *objs, unsigned n)
{
	uint32_t len = atomic_load_explicit(&lc->len, memory_order_relaxed);

	if (pdk_unlikely(len + n > lc->size)) {
		/* Flush the newest so that max(N/2, n) remain after the put. */
		uint32_t keep = PDK_MAX(lc->size / 2, n) - n;

		pdk__mempool_ring_put(mp, &lc->objs[keep], len - keep);
		pdk__mempool_stat_add(lc, PDK__MP_CACHE_FLUSH, 1);
		len = keep;
	}
	for (unsigned i = 0; i < n; i++)
		lc->objs[len + i] = objs[i];
	/* relaxed: only this thread writes len; readers just sample it. */
	atomic_store_explicit(&lc->len, len + n, memory_order_relaxed);
}

/* Return n objects to their pool. */
static inline void pdk_mempool_put_bulk(struct pdk_mempool *mp,
					void *const *objs, unsigned n)
{
	struct pdk_mempool_lcore *lc = pdk__mempool_lcore(mp);

	if (pdk_likely(n <= lc->size))
		pdk__mempool_cache_put(mp, lc, objs, n);
	else
		pdk__mempool_ring_put(mp, objs, n);
	pdk__mempool_stat_fast(lc, PDK__MP_PUT, 1);
	pdk__mempool_stat_fast(lc, PDK__MP_PUT_OBJS, n);
}

static inline void pdk_mempool_put(struct pdk_mempool *mp, void *obj)
{
	pdk_mempool_put_bulk(mp, &obj, 1);
}

#endif /* PDK_MEMPOOL_INLINE_H */
