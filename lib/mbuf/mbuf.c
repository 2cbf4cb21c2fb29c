/* SPDX-License-Identifier: BSD-3-Clause */
/* Mbuf pools, bulk free and invariant checks; the fast path is inline. */
#include <errno.h>
#include <string.h>

#include <pdk_log.h>

#include "pdk_mbuf.h"

#define LOG_COMP "mbuf"
#define FREE_BATCH 64

struct pool_args {
	uint16_t priv_size;
	uint16_t data_room;
};

/* Runs once per object at pool creation: the fixed fields of an mbuf. */
static void mbuf_init(struct pdk_mempool *mp, void *arg, void *obj,
		      unsigned idx)
{
	const struct pool_args *a = arg;
	struct pdk_mbuf *m = obj;
	size_t hdr = sizeof(*m) + a->priv_size;

	(void)idx;
	memset(m, 0, hdr);
	m->priv_size = a->priv_size;
	m->buf_addr = (char *)m + hdr;
	m->buf_iova = pdk_mempool_virt2iova(m) + hdr;
	m->buf_len = a->data_room;
	m->pool = mp;
	atomic_init(&m->refcnt, 1);
	pdk_pktmbuf_reset(m);
}

struct pdk_mempool *pdk_pktmbuf_pool_create(const char *name, unsigned n,
					    unsigned cache_size,
					    uint16_t priv_size,
					    uint16_t data_room_size, int socket)
{
	struct pool_args a = {priv_size, data_room_size};
	struct pdk_pktmbuf_pool_private *priv;
	struct pdk_mempool *mp;

	if (priv_size % PDK_MBUF_PRIV_ALIGN != 0) {
		PDK_LOG(ERR, LOG_COMP, "mbuf pool %s: priv_size %u is not a "
			"multiple of %d", name ? name : "(null)", priv_size,
			PDK_MBUF_PRIV_ALIGN);
		errno = EINVAL;
		return NULL;
	}
	mp = pdk_mempool_create(name, n,
				(unsigned)sizeof(struct pdk_mbuf) + priv_size +
					data_room_size,
				cache_size, sizeof(*priv), mbuf_init, &a, socket,
				0);
	if (mp == NULL)
		return NULL;
	priv = pdk_pktmbuf_pool_priv(mp);
	priv->mbuf_data_room_size = data_room_size;
	priv->mbuf_priv_size = priv_size;
	return mp;
}

/* Put `n` segments of one pool back in one call. */
static void put_batch(struct pdk_mbuf **batch, unsigned n)
{
	if (n != 0)
		pdk_mempool_put_bulk(batch[0]->pool, (void *const *)batch, n);
}

void pdk_pktmbuf_free_bulk(struct pdk_mbuf **mbufs, unsigned n)
{
	struct pdk_mbuf *batch[FREE_BATCH];
	unsigned nb = 0;

	for (unsigned i = 0; i < n; i++) {
		for (struct pdk_mbuf *m = mbufs[i], *next; m != NULL; m = next) {
			next = m->next;
			m = pdk__pktmbuf_prefree_seg(m);
			if (m == NULL)
				continue;
			if (nb == FREE_BATCH ||
			    (nb != 0 && batch[0]->pool != m->pool)) {
				put_batch(batch, nb);
				nb = 0;
			}
			batch[nb++] = m;
		}
	}
	put_batch(batch, nb);
}

static const char *check_seg(const struct pdk_mbuf *m)
{
	if (m->pool == NULL || pdk_mempool_from_obj(m) != m->pool)
		return "pool is not the mempool holding the mbuf";
	if (m->buf_addr != (const char *)(m + 1) + m->priv_size)
		return "buf_addr is not right after the private area";
	if (m->buf_iova != pdk_mempool_virt2iova(m) + sizeof(*m) + m->priv_size)
		return "buf_iova does not match buf_addr";
	if (pdk_mbuf_refcnt_read(m) == 0)
		return "refcnt is 0 (mbuf is free)";
	if ((uint32_t)m->data_off + m->data_len > m->buf_len)
		return "data_off + data_len exceeds buf_len";
	return NULL;
}

int pdk_mbuf_check(const struct pdk_mbuf *m, bool is_header,
		   const char **reason)
{
	const char *why = m == NULL ? "mbuf is NULL" : check_seg(m);
	uint64_t len = 0;
	unsigned segs = 0;

	for (const struct pdk_mbuf *s = m; why == NULL && is_header && s != NULL;
	     s = s->next) {
		why = check_seg(s);
		len += s->data_len;
		if (++segs > m->nb_segs)
			why = "chain is longer than nb_segs";
	}
	if (why == NULL && is_header && segs != m->nb_segs)
		why = "chain is shorter than nb_segs";
	if (why == NULL && is_header && len != m->pkt_len)
		why = "pkt_len is not the sum of data_len";
	if (reason != NULL)
		*reason = why;
	return why == NULL ? 0 : -EINVAL;
}
