/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fixed-size objects in DMA memory, each with a known IOVA.
 *
 *   struct pdk_mempool *mp = pdk_mempool_create("bufs", 4096, 2048, 256, 0,
 *                                               NULL, NULL, PDK_SOCKET_ANY, 0);
 *   void *obj;
 *   if (pdk_mempool_get(mp, &obj) == 0) {        // -ENOENT when exhausted
 *           pdk_iova_t iova = pdk_mempool_virt2iova(obj);
 *           ...
 *           pdk_mempool_put(mp, obj);
 *   }
 *   pdk_mempool_free(mp);
 *
 * Objects live in one memzone. Each is cache-line aligned, preceded by a
 * header that holds its IOVA and its pool, and never crosses an IOVA
 * discontinuity, so a device can DMA to the whole object. The free objects
 * sit in a ring; a get that finds none returns -ENOENT at once, never waits.
 *
 * Per-lcore caches. Each EAL lcore has its own cache of at most
 * `cache_size` objects (exactly what was asked: the cache never holds more).
 * Policy, for a get or put of n objects on an lcore with cache size N:
 *  - get, cache holds >= n: served from the cache (a "cache hit");
 *  - get, cache holds fewer: the cache is refilled from the ring so that
 *    min(N/2, N - n) objects remain after the get; if the ring cannot
 *    supply that many it takes just enough; if not even that, -ENOENT and
 *    nothing moves;
 *  - put that fits: goes into the cache;
 *  - put that would take the cache above N: the cache first flushes to the
 *    ring so that it holds max(N/2, n) objects after the put;
 *  - n > N, N == 0, or a thread that is not an EAL lcore
 *    (pdk_lcore_id() == PDK_LCORE_ID_ANY): straight to/from the ring.
 * So a stream of gets or puts on one lcore touches the ring about once per
 * N/2 objects. Objects cached by one lcore are invisible to the others: size
 * the pool for n + lcores * N. pdk_mempool_cache_flush() empties a cache.
 *
 * A cache is used only by the thread of its lcore; get/put from two threads
 * with the same lcore id at once is a bug.
 */
#ifndef PDK_MEMPOOL_H
#define PDK_MEMPOOL_H

#include <errno.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <pdk_common.h>
#include <pdk_lcore.h>
#include <pdk_memory.h>
#include <pdk_ring.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The pool's memzone is named "mp_<name>". */
#define PDK_MEMPOOL_NAMESIZE (PDK_MEMZONE_NAMESIZE - 3)
#define PDK_MEMPOOL_CACHE_MAX_SIZE 512

/* Flags for pdk_mempool_create(). */
#define PDK_MEMPOOL_F_SP_PUT 0x1 /* one thread puts to the ring at a time */
#define PDK_MEMPOOL_F_SC_GET 0x2 /* one thread gets from the ring at a time */
#define PDK_MEMPOOL_F_STATS 0x4  /* count every get and put (see below) */
#define PDK_MEMPOOL_F_ALL                                                     \
	(PDK_MEMPOOL_F_SP_PUT | PDK_MEMPOOL_F_SC_GET | PDK_MEMPOOL_F_STATS)

/* Precedes every object; one cache line so objects stay aligned. */
struct pdk_mempool_objhdr {
	alignas(PDK_CACHE_LINE) struct pdk_mempool_objhdr *next; /* iteration */
	struct pdk_mempool *mp;
	pdk_iova_t iova; /* of the object (not of this header) */
};

/*
 * Statistics of one lcore (or of every non-EAL thread, or of all). The
 * slow-path counters (get_fail*, cache_refill, cache_flush) always count;
 * the fast-path ones (get_ok*, put*, cache_hit) only in a pool created
 * with PDK_MEMPOOL_F_STATS, and stay 0 otherwise: five counter updates
 * cost about a third of a cached get+put (as in DPDK, whose mempool stats
 * are a build option).
 */
struct pdk_mempool_stats {
	uint64_t get_ok;        /* successful get calls (F_STATS) */
	uint64_t get_ok_objs;   /* (F_STATS) */
	uint64_t get_fail;      /* get calls that returned -ENOENT */
	uint64_t get_fail_objs;
	uint64_t put;           /* put calls (F_STATS) */
	uint64_t put_objs;      /* (F_STATS) */
	uint64_t cache_hit;     /* get calls served from the cache alone (F_STATS) */
	uint64_t cache_refill;  /* cache refills from the ring */
	uint64_t cache_flush;   /* cache flushes to the ring */
};

enum pdk__mempool_stat {
	PDK__MP_GET_OK, PDK__MP_GET_OK_OBJS, PDK__MP_GET_FAIL,
	PDK__MP_GET_FAIL_OBJS, PDK__MP_PUT, PDK__MP_PUT_OBJS,
	PDK__MP_CACHE_HIT, PDK__MP_CACHE_REFILL, PDK__MP_CACHE_FLUSH,
	PDK__MP_NB_STATS
};

/*
 * Per-lcore state: the cache and the counters. Written only by its lcore
 * (the slot of non-EAL threads has no cache and counts with atomic adds);
 * atomics so other threads may read them.
 */
struct pdk_mempool_lcore {
	alignas(PDK_CACHE_LINE) _Atomic uint32_t len; /* objects in the cache */
	uint32_t size;                                /* the cache size, N */
	bool shared;                                  /* non-EAL threads' slot */
	bool count_all; /* PDK_MEMPOOL_F_STATS: count the fast path too */
	_Atomic uint64_t stats[PDK__MP_NB_STATS];
	void *objs[];                                 /* [size], top is newest */
};

struct pdk_mempool {
	char name[PDK_MEMPOOL_NAMESIZE];
	uint32_t magic;
	unsigned size;       /* objects */
	unsigned elt_size;   /* bytes the user asked for per object */
	unsigned obj_stride; /* header + object, cache-line aligned */
	unsigned cache_size;
	unsigned priv_size;
	unsigned flags;
	size_t lcore_stride; /* bytes between two pdk_mempool_lcore */
	const struct pdk_memzone *mz;
	struct pdk_ring *ring; /* free objects */
	struct pdk_mempool_objhdr *first;
	/* PDK_MAX_LCORES + 1 slots; the last is for non-EAL threads. */
	struct pdk_mempool_lcore *lcores;
};

/* Object init and iteration callback: obj is the idx-th object. */
typedef void (*pdk_mempool_obj_cb)(struct pdk_mempool *mp, void *arg,
				   void *obj, unsigned idx);

/*
 * Create a pool of n objects of elt_size bytes in DMA memory on `socket`
 * (or PDK_SOCKET_ANY), with per-lcore caches of cache_size objects (0: no
 * cache; at most PDK_MEMPOOL_CACHE_MAX_SIZE and at most n) and a private
 * area of priv_size bytes (pdk_mempool_get_priv()). obj_init (may be NULL)
 * runs once on each object. Returns NULL and sets errno: EINVAL,
 * ENAMETOOLONG, EEXIST (name taken), ENOMEM.
 */
PDK_API struct pdk_mempool *
pdk_mempool_create(const char *name, unsigned n, unsigned elt_size,
		   unsigned cache_size, unsigned priv_size,
		   pdk_mempool_obj_cb obj_init, void *obj_init_arg, int socket,
		   unsigned flags);

/* Free the pool and its memory (NULL is a no-op). Objects still in use and
 * cached objects become invalid; no thread may still use the pool. */
PDK_API void pdk_mempool_free(struct pdk_mempool *mp);

/* The pool created under `name`, or NULL with errno ENOENT. */
PDK_API struct pdk_mempool *pdk_mempool_lookup(const char *name);

/* Call cb on every object (free or not) in memory order; returns the
 * number of objects. */
PDK_API unsigned pdk_mempool_obj_iter(struct pdk_mempool *mp,
				      pdk_mempool_obj_cb cb, void *arg);

/* Objects free in the ring and in every cache; and the others. Exact only
 * when no get/put runs meanwhile. */
PDK_API unsigned pdk_mempool_avail_count(const struct pdk_mempool *mp);
PDK_API unsigned pdk_mempool_in_use_count(const struct pdk_mempool *mp);

/* Objects in the cache of `lcore` (0 for PDK_LCORE_ID_ANY). */
PDK_API unsigned pdk_mempool_cache_count(const struct pdk_mempool *mp,
					 unsigned lcore);

/* Move every object of the calling lcore's cache back to the ring. */
PDK_API void pdk_mempool_cache_flush(struct pdk_mempool *mp);

/*
 * Counters of `lcore` (PDK_LCORE_ID_ANY: of all non-EAL threads). Returns
 * 0 or -EINVAL for an lcore id out of range.
 */
PDK_API int pdk_mempool_stats_get(const struct pdk_mempool *mp,
				  unsigned lcore,
				  struct pdk_mempool_stats *out);
/* Sum over every lcore and non-EAL threads. */
PDK_API void pdk_mempool_stats_total(const struct pdk_mempool *mp,
				     struct pdk_mempool_stats *out);
/* Zero every counter; call when no get/put runs. */
PDK_API void pdk_mempool_stats_reset(struct pdk_mempool *mp);

/* Cold path of a put that overflows the pool (double free): logs it. */
PDK_API void pdk__mempool_put_overflow(struct pdk_mempool *mp, unsigned n);

#include <pdk_mempool_inline.h>

#ifdef __cplusplus
}
#endif
#endif /* PDK_MEMPOOL_H */
