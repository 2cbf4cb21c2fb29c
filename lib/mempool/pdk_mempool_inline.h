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

/*
 * The calling thread's cache of mp: its lcore's, or for a thread that is
 * not an EAL lcore the shared slot, which has no cache. A loop that gets
 * and puts many times can look it up once and pass it to
 * pdk_mempool_generic_get()/_put() (pdk_mempool_get_bulk() and
 * pdk_mempool_put_bulk() look it up on every call). Only the calling
 * thread may use it.
 */
static inline struct pdk_mempool_lcore *
pdk_mempool_default_cache(const struct pdk_mempool *mp)
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

/*
 * The fast paths below are small and always inlined: a get the cache can
 * serve, a put the cache can hold. Everything else (refill, flush, the
 * ring when there is no cache or n exceeds it) is one call to the library,
 * so that an inlined get or put stays a few instructions, as DPDK's do
 * (where the ring is behind a function pointer of the pool's ops).
 */
PDK_API int pdk__mempool_get_slow(struct pdk_mempool *mp,
				  struct pdk_mempool_lcore *lc, void **objs,
				  unsigned n);
PDK_API void pdk__mempool_put_slow(struct pdk_mempool *mp,
				   struct pdk_mempool_lcore *lc,
				   void *const *objs, unsigned n);

/* Two pointers swapped (a vector shuffle). */
#if defined(__clang__)
#define PDK__MEMPOOL_SWAP2(v) __builtin_shufflevector(v, v, 1, 0)
#else
#define PDK__MEMPOOL_SWAP2(v) __builtin_shuffle(v, (pdk__ring_ptr2){1, 0})
#endif

/* Pop n objects off the top of the cache (it holds len >= n): the newest
 * first, the ones most likely still in the CPU's caches. Two at a time:
 * one load, a swap and one store, where single pointers cost a load and a
 * store each. */
static PDK_ALWAYS_INLINE void
pdk__mempool_cache_pop(struct pdk_mempool_lcore *lc, uint32_t len,
		       void **objs, unsigned n)
{
	void *const *top = &lc->objs[len]; /* one past the newest */
	unsigned i = 0;

	for (; i + 2 <= n; i += 2) {
		pdk__ring_ptr2 v = *(const pdk__ring_ptr2 *)(top - i - 2);

		*(pdk__ring_ptr2 *)&objs[i] = PDK__MEMPOOL_SWAP2(v);
	}
	if (n & 1)
		objs[i] = *(top - i - 1);
	/* relaxed: only this thread writes len; readers just sample it. */
	atomic_store_explicit(&lc->len, len - n, memory_order_relaxed);
}

/*
 * Get n objects through `lc` (from pdk_mempool_default_cache(mp) on this
 * thread), all or none: 0, or -ENOENT when the pool (the cache plus the
 * ring) cannot supply n. Never blocks. n == 0 returns 0.
 */
static PDK_ALWAYS_INLINE int
pdk_mempool_generic_get(struct pdk_mempool *mp, void **objs, unsigned n,
			struct pdk_mempool_lcore *lc)
{
	uint32_t len = atomic_load_explicit(&lc->len, memory_order_relaxed);

	/* n > len also covers n > the cache size and a pool without one. */
	if (pdk_unlikely(n > len))
		return pdk__mempool_get_slow(mp, lc, objs, n);
	pdk__mempool_cache_pop(lc, len, objs, n);
	if (pdk_unlikely(lc->count_all)) {
		pdk__mempool_stat_add(lc, PDK__MP_CACHE_HIT, n != 0);
		pdk__mempool_stat_add(lc, PDK__MP_GET_OK, 1);
		pdk__mempool_stat_add(lc, PDK__MP_GET_OK_OBJS, n);
	}
	return 0;
}

/* pdk_mempool_generic_get() through the calling thread's cache. */
static PDK_ALWAYS_INLINE int
pdk_mempool_get_bulk(struct pdk_mempool *mp, void **objs, unsigned n)
{
	return pdk_mempool_generic_get(mp, objs, n,
				       pdk_mempool_default_cache(mp));
}

static PDK_ALWAYS_INLINE int pdk_mempool_get(struct pdk_mempool *mp,
					     void **obj)
{
	return pdk_mempool_get_bulk(mp, obj, 1);
}

/* Return n objects to their pool through `lc` (from
 * pdk_mempool_default_cache(mp) on this thread). */
static PDK_ALWAYS_INLINE void
pdk_mempool_generic_put(struct pdk_mempool *mp, void *const *objs,
			unsigned n, struct pdk_mempool_lcore *lc)
{
	uint32_t len = atomic_load_explicit(&lc->len, memory_order_relaxed);

	/* Also covers n > the cache size and a pool without one. */
	if (pdk_unlikely(len + n > lc->size)) {
		pdk__mempool_put_slow(mp, lc, objs, n);
		return;
	}
	/* The ring's wide copy: n pointers, two per move. */
	pdk__ring_copy(&lc->objs[len], objs, n);
	/* relaxed: only this thread writes len; readers just sample it. */
	atomic_store_explicit(&lc->len, len + n, memory_order_relaxed);
	if (pdk_unlikely(lc->count_all)) {
		pdk__mempool_stat_add(lc, PDK__MP_PUT, 1);
		pdk__mempool_stat_add(lc, PDK__MP_PUT_OBJS, n);
	}
}

/* Return n objects to their pool through the calling thread's cache. */
static PDK_ALWAYS_INLINE void
pdk_mempool_put_bulk(struct pdk_mempool *mp, void *const *objs, unsigned n)
{
	pdk_mempool_generic_put(mp, objs, n, pdk_mempool_default_cache(mp));
}

static PDK_ALWAYS_INLINE void pdk_mempool_put(struct pdk_mempool *mp,
					      void *obj)
{
	pdk_mempool_put_bulk(mp, &obj, 1);
}

#endif /* PDK_MEMPOOL_INLINE_H */
