/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Mempool creation, object placement, statistics and iteration. The
 * get/put fast path is inline (pdk_mempool_inline.h).
 *
 * One memzone holds everything:
 *   [struct pdk_mempool + private area][lcore slots][ring][objects...]
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include <pdk_log.h>

#include "mempool_private.h"
#include "pdk_mempool.h"

#define LOG_COMP "mempool"
#define MEMPOOL_MAGIC 0x6d706f6fU /* "mpoo" */
#define HDR_SIZE sizeof(struct pdk_mempool_objhdr)
#define CL ((size_t)PDK_CACHE_LINE)

struct layout {
	size_t head;         /* struct pdk_mempool + private area */
	size_t lcore_stride; /* one pdk_mempool_lcore and its cache */
	size_t ring_off;     /* where the ring starts */
	size_t meta;         /* head + lcore slots + ring */
	size_t obj_stride;   /* object header + object */
	size_t objs;         /* bytes reserved for objects */
};

static_assert(sizeof(struct pdk_mempool_objhdr) == PDK_CACHE_LINE,
	      "objects stay cache-line aligned");

static int check_args(const char *name, unsigned n, unsigned elt_size,
		      unsigned cache_size, unsigned flags)
{
	if (name == NULL || n == 0 || n > PDK_RING_SZ_MAX || elt_size == 0 ||
	    (flags & ~PDK_MEMPOOL_F_ALL)) {
		PDK_LOG(ERR, LOG_COMP,
			"mempool %s: n=%u elt_size=%u flags=0x%x: need a name, "
			"1 <= n <= %u, elt_size >= 1, flags within 0x%x",
			name ? name : "(null)", n, elt_size, flags,
			PDK_RING_SZ_MAX, PDK_MEMPOOL_F_ALL);
		return -EINVAL;
	}
	if (strlen(name) >= PDK_MEMPOOL_NAMESIZE) {
		PDK_LOG(ERR, LOG_COMP, "mempool name '%s' is longer than %d "
			"characters", name, PDK_MEMPOOL_NAMESIZE - 1);
		return -ENAMETOOLONG;
	}
	if (cache_size > PDK_MEMPOOL_CACHE_MAX_SIZE || cache_size > n) {
		PDK_LOG(ERR, LOG_COMP, "mempool %s: cache_size %u is too big: "
			"use 0..%u and at most n (%u)", name, cache_size,
			PDK_MEMPOOL_CACHE_MAX_SIZE, n);
		return -EINVAL;
	}
	return 0;
}

/* Sizes of everything but the objects' slack; -EINVAL on overflow. */
static int layout_compute(struct layout *lay, unsigned n, unsigned elt_size,
			  unsigned cache_size, unsigned priv_size)
{
	ssize_t ring = pdk_ring_get_memsize(n, PDK_RING_F_EXACT_SZ);
	size_t slots = (size_t)PDK_MAX_LCORES + 1, lcores;

	lay->head = PDK_ALIGN_CEIL(sizeof(struct pdk_mempool), CL) +
		    PDK_ALIGN_CEIL((size_t)priv_size, CL);
	lay->lcore_stride = PDK_ALIGN_CEIL(sizeof(struct pdk_mempool_lcore) +
					   cache_size * sizeof(void *), CL);
	lay->obj_stride = HDR_SIZE + PDK_ALIGN_CEIL((size_t)elt_size, CL);
	if (ring < 0 ||
	    __builtin_mul_overflow(slots, lay->lcore_stride, &lcores) ||
	    __builtin_add_overflow(lay->head, lcores, &lay->ring_off) ||
	    __builtin_add_overflow(lay->ring_off, (size_t)ring, &lay->meta) ||
	    __builtin_mul_overflow((size_t)n, lay->obj_stride, &lay->objs) ||
	    lay->obj_stride > UINT32_MAX || lay->meta + lay->objs < lay->meta) {
		PDK_LOG(ERR, LOG_COMP, "mempool of %u objects of %u bytes does "
			"not fit in memory: use fewer or smaller objects",
			n, elt_size);
		return -EINVAL;
	}
	return 0;
}

struct page_query {
	int socket;
	size_t page;
};

static int smallest_page(const struct pdk_memseg *seg, void *arg)
{
	struct page_query *q = arg;

	if ((q->socket == PDK_SOCKET_ANY || seg->socket == q->socket) &&
	    (q->page == 0 || seg->page_size < q->page))
		q->page = seg->page_size;
	return 0;
}

/*
 * Room for objects placed page by page, for memory without contiguous
 * IOVAs across pages: an object never straddles a page, so each page holds
 * page / obj_stride objects, plus one page for the start offset.
 */
static int layout_paged(struct layout *lay, unsigned n, int socket)
{
	struct page_query q = {.socket = socket};
	size_t per_page, pages;

	pdk_memseg_walk(smallest_page, &q);
	if (q.page == 0)
		q.page = (size_t)sysconf(_SC_PAGESIZE);
	per_page = q.page / lay->obj_stride;
	if (per_page == 0) {
		PDK_LOG(ERR, LOG_COMP, "objects of %zu bytes (with header) need "
			"IOVA-contiguous memory larger than a %zu-byte page: use "
			"hugepages or IOVA-as-VA (--iova-mode va)",
			lay->obj_stride, q.page);
		return -ENOMEM;
	}
	pages = (n + per_page - 1) / per_page + 1;
	if (__builtin_mul_overflow(pages, q.page, &lay->objs))
		return -ENOMEM;
	PDK_LOG(INFO, LOG_COMP, "no IOVA-contiguous room for %u objects: "
		"placing them page by page (%zu-byte pages)", n, q.page);
	return 0;
}

static const struct pdk_memzone *reserve_zone(const char *zname,
					      struct layout *lay, unsigned n,
					      int socket)
{
	const struct pdk_memzone *mz;
	int rc;

	mz = pdk_memzone_reserve_aligned(zname, lay->meta + lay->objs, socket,
					 PDK_MEMZONE_IOVA_CONTIG, PDK_CACHE_LINE);
	if (mz != NULL || errno != ENOMEM)
		return mz;
	rc = layout_paged(lay, n, socket);
	if (rc < 0) {
		errno = -rc;
		return NULL;
	}
	return pdk_memzone_reserve_aligned(zname, lay->meta + lay->objs, socket,
					   0, PDK_CACHE_LINE);
}

static void lcores_init(struct pdk_mempool *mp, const struct layout *lay,
			unsigned cache_size)
{
	mp->lcores = PDK_PTR_ADD(mp, lay->head);
	mp->lcore_stride = lay->lcore_stride;
	for (unsigned i = 0; i <= PDK_MAX_LCORES; i++) {
		struct pdk_mempool_lcore *lc =
			PDK_PTR_ADD(mp->lcores, i * lay->lcore_stride);

		lc->size = i < PDK_MAX_LCORES ? cache_size : 0;
		lc->shared = i == PDK_MAX_LCORES;
		lc->count_all = mp->flags & PDK_MEMPOOL_F_STATS;
		atomic_init(&lc->len, 0);
		for (unsigned s = 0; s < PDK__MP_NB_STATS; s++)
			atomic_init(&lc->stats[s], 0);
	}
}

char *mempool_obj_slot(char *pos, const char *end, size_t elt_size,
		       mempool_contig_fn contig)
{
	for (; pos + HDR_SIZE + elt_size <= end; pos += CL)
		if (contig(pos + HDR_SIZE, elt_size))
			return pos;
	return NULL;
}

/* Place every object, initialise it and put it in the ring. */
static int populate(struct pdk_mempool *mp, const struct layout *lay,
		    pdk_mempool_obj_cb obj_init, void *arg)
{
	struct pdk_mempool_objhdr **link = &mp->first;
	char *pos = PDK_PTR_ADD(mp, lay->meta);
	const char *end = pos + lay->objs;

	for (unsigned i = 0; i < mp->size; i++) {
		struct pdk_mempool_objhdr *hdr = (void *)mempool_obj_slot(
			pos, end, mp->elt_size, pdk_mem_iova_contig);

		if (hdr == NULL) {
			PDK_LOG(ERR, LOG_COMP, "mempool %s: placed %u of %u "
				"objects before IOVA-contiguous room ran out",
				mp->name, i, mp->size);
			return -ENOMEM;
		}
		hdr->mp = mp;
		hdr->iova = pdk_mem_virt2iova(hdr + 1);
		*link = hdr;
		link = &hdr->next;
		if (obj_init != NULL)
			obj_init(mp, arg, hdr + 1, i);
		pdk_ring_enqueue(mp->ring, hdr + 1); /* room for all: cannot fail */
		pos = (char *)hdr + mp->obj_stride;
	}
	return 0;
}

static int pool_init(struct pdk_mempool *mp, const struct pdk_memzone *mz,
		     const struct layout *lay, const char *name, unsigned n,
		     unsigned elt_size, unsigned cache_size, unsigned priv_size,
		     unsigned flags)
{
	unsigned ring_flags = PDK_RING_F_EXACT_SZ;

	snprintf(mp->name, sizeof(mp->name), "%s", name);
	mp->magic = MEMPOOL_MAGIC;
	mp->size = n;
	mp->elt_size = elt_size;
	mp->obj_stride = (unsigned)lay->obj_stride;
	mp->cache_size = cache_size;
	mp->priv_size = priv_size;
	mp->flags = flags;
	mp->mz = mz;
	lcores_init(mp, lay, cache_size);
	if (flags & PDK_MEMPOOL_F_SP_PUT)
		ring_flags |= PDK_RING_F_SP_ENQ;
	if (flags & PDK_MEMPOOL_F_SC_GET)
		ring_flags |= PDK_RING_F_SC_DEQ;
	mp->ring = PDK_PTR_ADD(mp, lay->ring_off);
	return pdk_ring_init(mp->ring, name, n, ring_flags);
}

struct pdk_mempool *pdk_mempool_create(const char *name, unsigned n,
				       unsigned elt_size, unsigned cache_size,
				       unsigned priv_size,
				       pdk_mempool_obj_cb obj_init,
				       void *obj_init_arg, int socket,
				       unsigned flags)
{
	char zname[PDK_MEMZONE_NAMESIZE];
	const struct pdk_memzone *mz;
	struct layout lay;
	int rc;

	rc = check_args(name, n, elt_size, cache_size, flags);
	if (rc < 0)
		goto fail;
	rc = layout_compute(&lay, n, elt_size, cache_size, priv_size);
	if (rc < 0)
		goto fail;
	snprintf(zname, sizeof(zname), "mp_%s", name);
	mz = reserve_zone(zname, &lay, n, socket);
	if (mz == NULL) {
		rc = -errno;
		PDK_LOG(ERR, LOG_COMP, "mempool %s: cannot reserve %zu bytes on "
			"socket %d: %s%s", name, lay.meta + lay.objs, socket,
			strerror(-rc), rc == -EEXIST ? " (name taken)" :
			" (give EAL more memory with -m/--socket-mem)");
		goto fail;
	}
	rc = pool_init(mz->addr, mz, &lay, name, n, elt_size, cache_size,
		       priv_size, flags);
	if (rc < 0)
		goto free_zone;
	rc = populate(mz->addr, &lay, obj_init, obj_init_arg);
	if (rc < 0)
		goto free_zone;
	return mz->addr;

free_zone:
	pdk_memzone_free(mz);
fail:
	errno = -rc;
	return NULL;
}

void pdk_mempool_free(struct pdk_mempool *mp)
{
	const struct pdk_memzone *mz;

	if (mp == NULL)
		return;
	mz = mp->mz;
	mp->magic = 0;
	pdk_memzone_free(mz);
}

struct pdk_mempool *pdk_mempool_lookup(const char *name)
{
	char zname[PDK_MEMZONE_NAMESIZE];
	const struct pdk_memzone *mz;
	struct pdk_mempool *mp;

	if (name == NULL || strlen(name) >= PDK_MEMPOOL_NAMESIZE) {
		errno = ENOENT;
		return NULL;
	}
	snprintf(zname, sizeof(zname), "mp_%s", name);
	mz = pdk_memzone_lookup(zname);
	mp = mz != NULL ? mz->addr : NULL;
	if (mp == NULL || mp->magic != MEMPOOL_MAGIC) {
		errno = ENOENT;
		return NULL;
	}
	return mp;
}

unsigned pdk_mempool_obj_iter(struct pdk_mempool *mp, pdk_mempool_obj_cb cb,
			      void *arg)
{
	unsigned i = 0;

	for (struct pdk_mempool_objhdr *h = mp->first; h != NULL; h = h->next)
		cb(mp, arg, h + 1, i++);
	return i;
}

static struct pdk_mempool_lcore *slot(const struct pdk_mempool *mp,
				      unsigned i)
{
	return PDK_PTR_ADD(mp->lcores, i * mp->lcore_stride);
}

unsigned pdk_mempool_cache_count(const struct pdk_mempool *mp, unsigned lcore)
{
	if (lcore >= PDK_MAX_LCORES)
		return 0;
	return atomic_load_explicit(&slot(mp, lcore)->len, memory_order_relaxed);
}

unsigned pdk_mempool_avail_count(const struct pdk_mempool *mp)
{
	unsigned count = pdk_ring_count(mp->ring);

	for (unsigned i = 0; i < PDK_MAX_LCORES; i++)
		count += pdk_mempool_cache_count(mp, i);
	return PDK_MIN(count, mp->size); /* racing gets/puts can overcount */
}

unsigned pdk_mempool_in_use_count(const struct pdk_mempool *mp)
{
	return mp->size - pdk_mempool_avail_count(mp);
}

/* A fast-path counter: only with PDK_MEMPOOL_F_STATS. */
static void stat_fast(struct pdk_mempool_lcore *lc, enum pdk__mempool_stat s,
		      uint64_t v)
{
	if (lc->count_all)
		pdk__mempool_stat_add(lc, s, v);
}

/* The ring holds every object of the pool: only a double free or a
 * foreign object can overflow it. */
static PDK_ALWAYS_INLINE void ring_put(struct pdk_mempool *mp,
				     void *const *objs, unsigned n)
{
	if (pdk_unlikely(pdk_ring_enqueue_bulk(mp->ring, objs, n, NULL) != n))
		pdk__mempool_put_overflow(mp, n);
}

/* A get the cache cannot serve; 0 < n <= lc->size, the cache holds len < n.
 * Refill so that min(N/2, N - n) remain after this get; if the ring has
 * fewer, just enough for it. */
static int cache_refill_get(struct pdk_mempool *mp,
			    struct pdk_mempool_lcore *lc, void **objs,
			    unsigned n)
{
	uint32_t len = atomic_load_explicit(&lc->len, memory_order_relaxed);
	uint32_t want = PDK_MIN(n + lc->size / 2, lc->size) - len, got;

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

int pdk__mempool_get_slow(struct pdk_mempool *mp,
			  struct pdk_mempool_lcore *lc, void **objs, unsigned n)
{
	int rc;

	if (n <= lc->size)
		rc = cache_refill_get(mp, lc, objs, n);
	else /* no cache, or more than it holds: straight from the ring */
		rc = pdk_ring_dequeue_bulk(mp->ring, objs, n, NULL) == n ? 0
									 : -ENOENT;
	if (rc == 0) {
		stat_fast(lc, PDK__MP_GET_OK, 1);
		stat_fast(lc, PDK__MP_GET_OK_OBJS, n);
	} else {
		pdk__mempool_stat_add(lc, PDK__MP_GET_FAIL, 1);
		pdk__mempool_stat_add(lc, PDK__MP_GET_FAIL_OBJS, n);
	}
	return rc;
}

void pdk__mempool_put_slow(struct pdk_mempool *mp,
			   struct pdk_mempool_lcore *lc, void *const *objs,
			   unsigned n)
{
	uint32_t len = atomic_load_explicit(&lc->len, memory_order_relaxed);

	if (n <= lc->size) {
		/* Flush the newest so that max(N/2, n) remain after the put. */
		uint32_t keep = PDK_MAX(lc->size / 2, n) - n;

		ring_put(mp, &lc->objs[keep], len - keep);
		pdk__mempool_stat_add(lc, PDK__MP_CACHE_FLUSH, 1);
		pdk__ring_copy(&lc->objs[keep], objs, n);
		/* relaxed: only this thread writes len. */
		atomic_store_explicit(&lc->len, keep + n, memory_order_relaxed);
	} else { /* no cache, or more than it holds: straight to the ring */
		ring_put(mp, objs, n);
	}
	stat_fast(lc, PDK__MP_PUT, 1);
	stat_fast(lc, PDK__MP_PUT_OBJS, n);
}

void pdk_mempool_cache_flush(struct pdk_mempool *mp)
{
	struct pdk_mempool_lcore *lc = pdk_mempool_default_cache(mp);
	uint32_t len = atomic_load_explicit(&lc->len, memory_order_relaxed);

	if (len == 0)
		return;
	ring_put(mp, lc->objs, len);
	pdk__mempool_stat_add(lc, PDK__MP_CACHE_FLUSH, 1);
	atomic_store_explicit(&lc->len, 0, memory_order_relaxed);
}

static void stats_add(struct pdk_mempool_stats *out,
		      const struct pdk_mempool_lcore *lc)
{
	uint64_t v[PDK__MP_NB_STATS];

	for (unsigned s = 0; s < PDK__MP_NB_STATS; s++)
		v[s] = atomic_load_explicit(&lc->stats[s], memory_order_relaxed);
	out->get_ok += v[PDK__MP_GET_OK];
	out->get_ok_objs += v[PDK__MP_GET_OK_OBJS];
	out->get_fail += v[PDK__MP_GET_FAIL];
	out->get_fail_objs += v[PDK__MP_GET_FAIL_OBJS];
	out->put += v[PDK__MP_PUT];
	out->put_objs += v[PDK__MP_PUT_OBJS];
	out->cache_hit += v[PDK__MP_CACHE_HIT];
	out->cache_refill += v[PDK__MP_CACHE_REFILL];
	out->cache_flush += v[PDK__MP_CACHE_FLUSH];
}

int pdk_mempool_stats_get(const struct pdk_mempool *mp, unsigned lcore,
			  struct pdk_mempool_stats *out)
{
	if (lcore == PDK_LCORE_ID_ANY)
		lcore = PDK_MAX_LCORES; /* the non-EAL threads' slot */
	else if (lcore >= PDK_MAX_LCORES)
		return -EINVAL;
	memset(out, 0, sizeof(*out));
	stats_add(out, slot(mp, lcore));
	return 0;
}

void pdk_mempool_stats_total(const struct pdk_mempool *mp,
			     struct pdk_mempool_stats *out)
{
	memset(out, 0, sizeof(*out));
	for (unsigned i = 0; i <= PDK_MAX_LCORES; i++)
		stats_add(out, slot(mp, i));
}

void pdk_mempool_stats_reset(struct pdk_mempool *mp)
{
	for (unsigned i = 0; i <= PDK_MAX_LCORES; i++)
		for (unsigned s = 0; s < PDK__MP_NB_STATS; s++)
			atomic_store_explicit(&slot(mp, i)->stats[s], 0,
					      memory_order_relaxed);
}

void pdk__mempool_put_overflow(struct pdk_mempool *mp, unsigned n)
{
	PDK_LOG(ERR, LOG_COMP, "mempool %s: put of %u objects found all %u "
		"objects already free: an object was put twice or belongs to "
		"another pool; these %u are dropped", mp->name, n, mp->size, n);
}
