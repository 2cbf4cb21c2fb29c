/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Mbuf fast path: allocation, reference counts, data pointers and lengths.
 * Do not include directly: include <pdk_mbuf.h>.
 */
#ifndef PDK_MBUF_INLINE_H
#define PDK_MBUF_INLINE_H

/* Included directly anyway: pdk_mbuf.h defines the types first. */
#include <pdk_mbuf.h>

/* Pointer to the data of m, plus `o` bytes, as type t. */
#define pdk_pktmbuf_mtod_offset(m, t, o) \
	((t)(void *)((char *)(m)->buf_addr + (m)->data_off + (o)))
#define pdk_pktmbuf_mtod(m, t) pdk_pktmbuf_mtod_offset(m, t, 0)

/* IOVA of the data of m, plus `o` bytes: what a device gets. */
static inline pdk_iova_t pdk_pktmbuf_iova_offset(const struct pdk_mbuf *m,
						 uint32_t o)
{
	return m->buf_iova + m->data_off + o;
}

static inline pdk_iova_t pdk_pktmbuf_iova(const struct pdk_mbuf *m)
{
	return pdk_pktmbuf_iova_offset(m, 0);
}

static inline struct pdk_pktmbuf_pool_private *
pdk_pktmbuf_pool_priv(struct pdk_mempool *mp)
{
	return (struct pdk_pktmbuf_pool_private *)pdk_mempool_get_priv(mp);
}

static inline uint16_t pdk_pktmbuf_data_room_size(struct pdk_mempool *mp)
{
	return pdk_pktmbuf_pool_priv(mp)->mbuf_data_room_size;
}

static inline uint16_t pdk_pktmbuf_priv_size(struct pdk_mempool *mp)
{
	return pdk_pktmbuf_pool_priv(mp)->mbuf_priv_size;
}

/* The private area right after struct pdk_mbuf (priv_size bytes). */
static inline void *pdk_mbuf_to_priv(struct pdk_mbuf *m)
{
	return m + 1;
}

static inline uint16_t pdk_mbuf_refcnt_read(const struct pdk_mbuf *m)
{
	/* relaxed: a snapshot; ordering comes with pdk_mbuf_refcnt_update(). */
	return atomic_load_explicit(&m->refcnt, memory_order_relaxed);
}

/* Only while no other thread holds a reference. */
static inline void pdk_mbuf_refcnt_set(struct pdk_mbuf *m, uint16_t v)
{
	atomic_store_explicit(&m->refcnt, v, memory_order_relaxed);
}

/* Add v (may be negative) and return the new count. */
static inline uint16_t pdk_mbuf_refcnt_update(struct pdk_mbuf *m, int16_t v)
{
	/* acq_rel: release orders this holder's accesses to the mbuf before
	 * its reference goes; acquire lets the holder that drops the last
	 * reference see every other holder's accesses before reuse. */
	return (uint16_t)(atomic_fetch_add_explicit(&m->refcnt, (uint16_t)v,
						    memory_order_acq_rel) +
			  (uint16_t)v);
}

static inline uint16_t pdk_pktmbuf_headroom(const struct pdk_mbuf *m)
{
	return m->data_off;
}

static inline uint16_t pdk_pktmbuf_tailroom(const struct pdk_mbuf *m)
{
	return (uint16_t)(m->buf_len - m->data_off - m->data_len);
}

static inline struct pdk_mbuf *pdk_pktmbuf_lastseg(struct pdk_mbuf *m)
{
	while (m->next != NULL)
		m = m->next;
	return m;
}

static inline bool pdk_pktmbuf_is_contiguous(const struct pdk_mbuf *m)
{
	return m->nb_segs == 1;
}

/* Packet fields back to a fresh single segment (refcnt is not touched). */
static inline void pdk_pktmbuf_reset(struct pdk_mbuf *m)
{
	m->next = NULL;
	m->pkt_len = 0;
	m->data_len = 0;
	m->nb_segs = 1;
	m->port = PDK_MBUF_PORT_INVALID;
	m->ol_flags = 0;
	m->packet_type = 0;
	m->vlan_tci = 0;
	m->vlan_tci_outer = 0;
	m->hash.fdir.lo = m->hash.fdir.hi = 0;
	m->l2_len = m->l4_len = m->outer_l2_len = 0;
	m->l3_len = m->tso_segsz = m->outer_l3_len = 0;
	m->data_off = PDK_MIN((uint16_t)PDK_PKTMBUF_HEADROOM, m->buf_len);
}

/* A fresh mbuf, or NULL with errno ENOENT when the pool is empty. */
static inline struct pdk_mbuf *pdk_pktmbuf_alloc(struct pdk_mempool *mp)
{
	void *obj;

	if (pdk_unlikely(pdk_mempool_get(mp, &obj) != 0)) {
		errno = ENOENT;
		return NULL;
	}
	pdk_pktmbuf_reset((struct pdk_mbuf *)obj);
	return (struct pdk_mbuf *)obj;
}

/* n fresh mbufs, all or none: 0 or -ENOENT. */
static inline int pdk_pktmbuf_alloc_bulk(struct pdk_mempool *mp,
					 struct pdk_mbuf **mbufs, unsigned n)
{
	int rc = pdk_mempool_get_bulk(mp, (void **)mbufs, n);

	if (pdk_unlikely(rc != 0))
		return rc;
	for (unsigned i = 0; i < n; i++)
		pdk_pktmbuf_reset(mbufs[i]);
	return 0;
}

/*
 * Drop one reference to segment m. Returns m when it was the last (m is
 * then ready to go back to its pool: refcnt 1, next NULL), else NULL.
 */
static inline struct pdk_mbuf *pdk__pktmbuf_prefree_seg(struct pdk_mbuf *m)
{
	/* acquire: pairs with the release in other holders' decrements, so a
	 * sole owner sees their accesses before the mbuf is reused. */
	if (atomic_load_explicit(&m->refcnt, memory_order_acquire) != 1) {
		if (pdk_mbuf_refcnt_update(m, -1) != 0)
			return NULL;
		pdk_mbuf_refcnt_set(m, 1);
	}
	if (m->next != NULL) {
		m->next = NULL;
		m->nb_segs = 1;
	}
	return m;
}

/* Free one segment (not the rest of its chain). */
static inline void pdk_pktmbuf_free_seg(struct pdk_mbuf *m)
{
	m = pdk__pktmbuf_prefree_seg(m);
	if (m != NULL)
		pdk_mempool_put(m->pool, m);
}

/* Free every segment of a packet (NULL is a no-op). */
static inline void pdk_pktmbuf_free(struct pdk_mbuf *m)
{
	while (m != NULL) {
		struct pdk_mbuf *next = m->next;

		pdk_pktmbuf_free_seg(m);
		m = next;
	}
}

/* Free n packets (NULL entries are skipped); defined in mbuf.c. */
PDK_API void pdk_pktmbuf_free_bulk(struct pdk_mbuf **mbufs, unsigned n);

/* Make room for len bytes before the data; NULL if the headroom is short. */
static inline char *pdk_pktmbuf_prepend(struct pdk_mbuf *m, uint16_t len)
{
	if (pdk_unlikely(len > pdk_pktmbuf_headroom(m)))
		return NULL;
	m->data_off = (uint16_t)(m->data_off - len);
	m->data_len = (uint16_t)(m->data_len + len);
	m->pkt_len += len;
	return pdk_pktmbuf_mtod(m, char *);
}

/* Add len bytes at the end of the last segment; returns where they start,
 * or NULL if its tailroom is short. */
static inline char *pdk_pktmbuf_append(struct pdk_mbuf *m, uint16_t len)
{
	struct pdk_mbuf *last = pdk_pktmbuf_lastseg(m);
	char *tail;

	if (pdk_unlikely(len > pdk_pktmbuf_tailroom(last)))
		return NULL;
	tail = pdk_pktmbuf_mtod_offset(last, char *, last->data_len);
	last->data_len = (uint16_t)(last->data_len + len);
	m->pkt_len += len;
	return tail;
}

/* Remove len bytes from the front of the first segment; returns the new
 * data start, or NULL if it holds fewer than len. */
static inline char *pdk_pktmbuf_adj(struct pdk_mbuf *m, uint16_t len)
{
	if (pdk_unlikely(len > m->data_len))
		return NULL;
	m->data_off = (uint16_t)(m->data_off + len);
	m->data_len = (uint16_t)(m->data_len - len);
	m->pkt_len -= len;
	return pdk_pktmbuf_mtod(m, char *);
}

/* Remove len bytes from the end of the last segment: 0, or -EINVAL if it
 * holds fewer than len. */
static inline int pdk_pktmbuf_trim(struct pdk_mbuf *m, uint16_t len)
{
	struct pdk_mbuf *last = pdk_pktmbuf_lastseg(m);

	if (pdk_unlikely(len > last->data_len))
		return -EINVAL;
	last->data_len = (uint16_t)(last->data_len - len);
	m->pkt_len -= len;
	return 0;
}

/* Append packet `tail` to packet `head`: 0, or -EOVERFLOW when nb_segs or
 * pkt_len would overflow (nothing changes then). */
static inline int pdk_pktmbuf_chain(struct pdk_mbuf *head,
				    struct pdk_mbuf *tail)
{
	if ((uint32_t)head->nb_segs + tail->nb_segs > UINT16_MAX ||
	    (uint64_t)head->pkt_len + tail->pkt_len > UINT32_MAX)
		return -EOVERFLOW;
	pdk_pktmbuf_lastseg(head)->next = tail;
	head->nb_segs = (uint16_t)(head->nb_segs + tail->nb_segs);
	head->pkt_len += tail->pkt_len;
	tail->pkt_len = tail->data_len; /* no longer a packet head */
	return 0;
}

#endif /* PDK_MBUF_INLINE_H */
