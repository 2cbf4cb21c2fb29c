/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Queues and bursts (virtio 1.2, 5.1.6). Receive buffers are mbufs, each
 * one descriptor starting 12 bytes before the mbuf's data so that the
 * device's struct virtio_net_hdr lands in the headroom; with MRG_RXBUF a
 * packet may span several, as the first header's num_buffers says. On
 * transmit the header is pushed into the headroom of a plain mbuf, or a
 * shared header of zeros leads the chain. Refill and reclaim go in batches
 * of free_thresh; the device is notified only when it asks (EVENT_IDX or
 * NO_NOTIFY, in virtio_ring.h).
 *
 * A malformed used entry breaks the queue (virtio_ring.h): the burst
 * counts an error and returns what it had; the queue stays silent until
 * the port is stopped (device reset, every mbuf the rings held freed once)
 * and started again.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pdk_log.h>

#include "virtio_ethdev.h"

#define TX_FREE_BATCH 64

/* ---- queue memory ---- */

int vnet_queue_alloc(struct vnet_queue *q, const char *what, uint16_t port,
		     uint16_t qid, uint16_t size, size_t extra, int socket)
{
	char name[PDK_MEMZONE_NAMESIZE];

	vq_ring_layout(size, &q->layout);
	snprintf(name, sizeof(name), "vnet%u_%s%u", port, what, qid);
	q->mz = pdk_memzone_reserve_aligned(name, q->layout.bytes + extra, socket,
					    PDK_MEMZONE_IOVA_CONTIG, 4096);
	q->priv = pdk_zmalloc_socket("vnet_ring", vq_ring_priv_bytes(size),
				     PDK_CACHE_LINE, socket);
	if (q->mz == NULL || q->priv == NULL) {
		PDK_LOG(ERR, VNET_LOG, "port %u: no memory for %s queue %u of %u entries "
			"(%zu bytes of DMA memory): give EAL more (-m)", port, what, qid,
			size, q->layout.bytes + extra);
		vnet_queue_free(q);
		return -ENOMEM;
	}
	q->iova = q->mz->iova;
	q->qid = qid;
	return vq_ring_init(&q->r, size, q->mz->addr, q->priv, false);
}

void vnet_queue_free(struct vnet_queue *q)
{
	if (q->mz)
		pdk_memzone_free(q->mz);
	pdk_free(q->priv);
	q->mz = NULL;
	q->priv = NULL;
}

/* A power of two within the device's and our limits. */
static uint16_t ring_size(const struct vnet_dev *vd, uint16_t qid, uint16_t nb_desc,
			  const char *what)
{
	uint16_t size = (uint16_t)pdk_align64pow2(nb_desc);

	if (size > nb_desc)
		size >>= 1;
	size = PDK_MIN(size, vd->qsize_max);
	if (size != nb_desc)
		PDK_LOG(INFO, VNET_LOG, "%s: %s queue %u: %u descriptors (a power of two "
			"up to %u) instead of %u", vd->name, what, qid, size, vd->qsize_max,
			nb_desc);
	return size;
}

static uint16_t thresh(uint16_t asked, uint16_t size)
{
	return PDK_MAX((uint16_t)1, PDK_MIN(asked ? asked : (uint16_t)VNET_FREE_THRESH,
					    (uint16_t)(size / 2)));
}

/*
 * A queue structure of `bytes` (struct vnet_queue first) with its rings,
 * `extra` bytes of DMA memory after them. NULL after logging.
 */
static void *queue_new(struct pdk_eth_dev *dev, size_t bytes, bool rx, uint16_t qid,
		       uint16_t nb_desc, uint16_t asked_thresh, size_t extra, int socket)
{
	struct vnet_dev *vd = vnet_of(dev);
	uint16_t size = ring_size(vd, qid, nb_desc, rx ? "Rx" : "Tx");
	struct vnet_queue *q = pdk_zmalloc_socket(rx ? "vnet_rxq" : "vnet_txq", bytes,
						  PDK_CACHE_LINE, socket);

	if (q == NULL)
		return NULL;
	if (vnet_queue_alloc(q, rx ? "rx" : "tx", dev->port_id, qid, size, extra, socket)) {
		pdk_free(q);
		return NULL;
	}
	q->vq_index = (uint16_t)(rx ? pdk_virtio_net_rxq(qid) : pdk_virtio_net_txq(qid));
	q->free_thresh = thresh(asked_thresh, size);
	q->flags = &vd->flags;
	q->cnt = rx ? pdk_eth_dev_rxq_counters(dev, qid) : pdk_eth_dev_txq_counters(dev, qid);
	return q;
}

int vnet_rxq_setup(struct pdk_eth_dev *dev, uint16_t qid, uint16_t nb_desc, int socket,
		   const struct pdk_eth_rxconf *conf, struct pdk_mempool *mp)
{
	struct vnet_rxq *rxq;

	if (pdk_pktmbuf_data_room_size(mp) < PDK_PKTMBUF_HEADROOM + 64 ||
	    PDK_PKTMBUF_HEADROOM < VNET_HDR) {
		PDK_LOG(ERR, VNET_LOG, "%s: Rx queue %u: mbufs of %u bytes are too small",
			vnet_of(dev)->name, qid, pdk_pktmbuf_data_room_size(mp));
		return -EINVAL;
	}
	rxq = queue_new(dev, sizeof(*rxq), true, qid, nb_desc,
			conf ? conf->rx_free_thresh : 0, 0, socket);
	if (rxq == NULL)
		return -ENOMEM;
	rxq->mp = mp;
	rxq->port = dev->port_id;
	dev->rxq[qid] = rxq;
	return 0;
}

int vnet_txq_setup(struct pdk_eth_dev *dev, uint16_t qid, uint16_t nb_desc, int socket,
		   const struct pdk_eth_txconf *conf)
{
	/* the shared header of zeros sits after the rings */
	struct vnet_txq *txq = queue_new(dev, sizeof(*txq), false, qid, nb_desc,
					 conf ? conf->tx_free_thresh : 0, PDK_CACHE_LINE,
					 socket);

	if (txq == NULL)
		return -ENOMEM;
	txq->zero_hdr = txq->q.iova + txq->q.layout.bytes;
	memset((uint8_t *)txq->q.mz->addr + txq->q.layout.bytes, 0, VNET_HDR);
	dev->txq[qid] = txq;
	return 0;
}

void vnet_rxq_release(struct pdk_eth_dev *dev, uint16_t qid)
{
	struct vnet_rxq *rxq = dev->rxq[qid];

	vnet_rxq_drain(rxq);
	vnet_queue_free(&rxq->q);
	pdk_free(rxq);
}

void vnet_txq_release(struct pdk_eth_dev *dev, uint16_t qid)
{
	struct vnet_txq *txq = dev->txq[qid];

	vnet_txq_drain(txq);
	vnet_queue_free(&txq->q);
	pdk_free(txq);
}

/* Program the queue into the device (after a reset). */
int vnet_queue_enable(struct vnet_dev *vd, struct vnet_queue *q)
{
	struct vpci_ring ring = {.size = q->r.size, .desc = q->iova,
				 .avail = q->iova + q->layout.avail_off,
				 .used = q->iova + q->layout.used_off};

	uint16_t max = vpci_queue_max(&vd->t, q->vq_index);

	if (max < q->r.size) {
		PDK_LOG(ERR, VNET_LOG, "%s: virtqueue %u holds %u entries, not %u: set the "
			"queue up with fewer descriptors", vd->name, q->vq_index, max, q->r.size);
		return -EINVAL;
	}
	q->r.event_idx = vnet_has(vd, PDK_VIRTIO_F_EVENT_IDX);
	q->notify_bar = vd->t.notify.bar;
	return vpci_queue_enable(&vd->t, q->vq_index, &ring, &q->notify_off);
}

static void free_cookie(void *cookie, void *arg)
{
	(void)arg;
	pdk_pktmbuf_free(cookie);
}

/* After the device was reset: every mbuf the ring held goes back. */
void vnet_rxq_drain(struct vnet_rxq *rxq)
{
	vq_ring_drain(&rxq->q.r, free_cookie, NULL);
	if (rxq->head)
		pdk_pktmbuf_free(rxq->head);
	rxq->head = rxq->tail = NULL;
	rxq->left = 0;
}

void vnet_txq_drain(struct vnet_txq *txq)
{
	vq_ring_drain(&txq->q.r, free_cookie, NULL);
}

/* ---- receive ---- */

static inline void kick(struct vnet_queue *q)
{
	vq_publish(&q->r);
	if (vq_kick_needed(&q->r))
		vpci_notify(q->notify_bar, q->notify_off, q->vq_index);
}

/* Post up to n fresh mbufs; how many. */
static unsigned refill(struct vnet_rxq *rxq, unsigned n)
{
	struct pdk_mbuf *m[VNET_FREE_THRESH * 4];
	unsigned done = 0;

	n = PDK_MIN(n, (unsigned)PDK_DIM(m));
	if (pdk_unlikely(pdk_pktmbuf_alloc_bulk(rxq->mp, m, n) != 0)) {
		pdk_eth_counter_add(&rxq->q.cnt->nombuf, n);
		return 0;
	}
	for (; done < n; done++) {
		struct pdk_mbuf *b = m[done];
		uint32_t len = (uint32_t)(b->buf_len - b->data_off) + VNET_HDR;

		/* the header lands in the headroom, the packet at data_off */
		vq_add1(&rxq->q.r, b, b->buf_iova + b->data_off - VNET_HDR, len, true);
	}
	return done;
}

/* Fill the whole ring (start). 0 or -ENOMEM. */
int vnet_rxq_fill(struct vnet_rxq *rxq)
{
	while (rxq->q.r.nb_free)
		if (refill(rxq, rxq->q.r.nb_free) == 0)
			return -ENOMEM;
	vq_publish(&rxq->q.r);
	return 0;
}

static void rx_refill(struct vnet_rxq *rxq)
{
	unsigned done = 0;

	while (rxq->q.r.nb_free >= rxq->q.free_thresh) {
		unsigned n = refill(rxq, rxq->q.r.nb_free);

		if (n == 0)
			break;
		done += n;
	}
	if (done)
		kick(&rxq->q);
}

/* The first buffer of a packet: header checked, fields set. NULL when it
 * was dropped (or broke the ring). */
static struct pdk_mbuf *rx_first(struct vnet_rxq *rxq, struct pdk_mbuf *m, uint32_t len)
{
	const struct pdk_virtio_net_hdr *h;
	uint16_t nbuf = 1;

	if (pdk_unlikely(len < VNET_HDR)) {
		vq_count(&rxq->short_len, 1);
		pdk_eth_counter_add(&rxq->q.cnt->errors, 1);
		pdk_pktmbuf_free(m);
		return NULL;
	}
	h = pdk_pktmbuf_mtod_offset(m, const struct pdk_virtio_net_hdr *, -(int)VNET_HDR);
	if (rxq->mrg)
		nbuf = __atomic_load_n(&h->num_buffers, __ATOMIC_RELAXED);
	if (pdk_unlikely(nbuf == 0 || nbuf > rxq->q.r.size)) {
		/* packet boundaries are lost: nothing after this can be trusted */
		vq_break(&rxq->q.r, &rxq->bad_hdr);
		pdk_eth_counter_add(&rxq->q.cnt->errors, 1);
		pdk_pktmbuf_free(m);
		return NULL;
	}
	m->data_len = (uint16_t)(len - VNET_HDR);
	m->pkt_len = len - VNET_HDR;
	m->port = rxq->port;
	rxq->left = (uint16_t)(nbuf - 1);
	return m;
}

/* A further buffer of a merged packet: its data starts where the header
 * would (no header in it). True when the packet is complete. */
static bool rx_more(struct vnet_rxq *rxq, struct pdk_mbuf *m, uint32_t len)
{
	m->data_off = (uint16_t)(m->data_off - VNET_HDR);
	m->data_len = (uint16_t)len;
	rxq->tail->next = m;
	rxq->tail = m;
	rxq->head->nb_segs++;
	rxq->head->pkt_len += len;
	return --rxq->left == 0;
}

uint16_t vnet_rx_burst(void *queue, struct pdk_mbuf **pkts, uint16_t n)
{
	struct vnet_rxq *rxq = queue;
	struct vq_ring *r = &rxq->q.r;
	uint16_t avail, got = 0;
	uint64_t bytes = 0;

	if (pdk_unlikely(atomic_load_explicit(rxq->q.flags, memory_order_relaxed)))
		return 0;
	avail = vq_used_count(r);
	while (avail && got < n) {
		uint32_t len;
		struct pdk_mbuf *m = vq_get(r, &len);

		avail--;
		if (pdk_unlikely(m == NULL)) {
			pdk_eth_counter_add(&rxq->q.cnt->errors, 1);
			break;
		}
		if (rxq->left == 0) {
			m = rx_first(rxq, m, len);
			if (m == NULL)
				continue;
			rxq->head = rxq->tail = m;
			if (rxq->left)
				continue;
		} else if (!rx_more(rxq, m, len)) {
			continue;
		}
		bytes += rxq->head->pkt_len;
		pkts[got++] = rxq->head;
		rxq->head = NULL;
	}
	rx_refill(rxq);
	pdk_eth_counter_add(&rxq->q.cnt->packets, got);
	pdk_eth_counter_add(&rxq->q.cnt->bytes, bytes);
	return got;
}

/* ---- transmit ---- */

/* Take completed packets back and free them in batches. */
void vnet_txq_reclaim(struct vnet_txq *txq)
{
	struct pdk_mbuf *done[TX_FREE_BATCH];
	uint16_t n = vq_used_count(&txq->q.r);
	unsigned k = 0;
	uint32_t len;

	while (n--) {
		struct pdk_mbuf *m = vq_get(&txq->q.r, &len);

		if (pdk_unlikely(m == NULL)) {
			pdk_eth_counter_add(&txq->q.cnt->errors, 1);
			break;
		}
		done[k++] = m;
		if (k == TX_FREE_BATCH) {
			pdk_pktmbuf_free_bulk(done, k);
			k = 0;
		}
	}
	if (k)
		pdk_pktmbuf_free_bulk(done, k);
}

/* The header can go into the headroom: one reference, room for it. */
static inline bool can_push(const struct pdk_mbuf *m)
{
	return pdk_mbuf_refcnt_read(m) == 1 && pdk_pktmbuf_headroom(m) >= VNET_HDR;
}

/* The chain for one packet into s[]; how many descriptors. */
static unsigned tx_segs(const struct vnet_txq *txq, struct pdk_mbuf *m, struct vq_seg *s)
{
	unsigned n = 0;

	if (can_push(m)) {
		memset(pdk_pktmbuf_mtod_offset(m, uint8_t *, -(int)VNET_HDR), 0, VNET_HDR);
		s[n++] = (struct vq_seg){pdk_pktmbuf_iova(m) - VNET_HDR,
					 (uint32_t)m->data_len + VNET_HDR, false};
		m = m->next;
	} else {
		s[n++] = (struct vq_seg){txq->zero_hdr, VNET_HDR, false};
	}
	for (; m; m = m->next)
		s[n++] = (struct vq_seg){pdk_pktmbuf_iova(m), m->data_len, false};
	return n;
}

uint16_t vnet_tx_burst(void *queue, struct pdk_mbuf **pkts, uint16_t n)
{
	struct vnet_txq *txq = queue;
	struct vq_ring *r = &txq->q.r;
	struct vq_seg s[VNET_TX_SEGS];
	uint64_t bytes = 0;
	uint16_t taken = 0, dropped = 0;

	if (pdk_unlikely(atomic_load_explicit(txq->q.flags, memory_order_relaxed)))
		return 0;
	if (r->nb_free < txq->q.free_thresh)
		vnet_txq_reclaim(txq);
	for (; taken < n && !r->broken; taken++) {
		struct pdk_mbuf *m = pkts[taken];

		if (pdk_unlikely(m->nb_segs >= VNET_TX_SEGS)) {
			vq_count(&txq->too_many_segs, 1);
			pdk_pktmbuf_free(m); /* taken: the caller must not retry it */
			dropped++;
			continue;
		}
		if (r->nb_free < m->nb_segs + 1u) {
			vnet_txq_reclaim(txq);
			if (r->nb_free < m->nb_segs + 1u || r->broken)
				break;
		}
		vq_add(r, m, s, tx_segs(txq, m, s), m->pkt_len + VNET_HDR);
		bytes += m->pkt_len;
	}
	if (taken > dropped)
		kick(&txq->q);
	pdk_eth_counter_add(&txq->q.cnt->packets, (uint64_t)(taken - dropped));
	pdk_eth_counter_add(&txq->q.cnt->bytes, bytes);
	if (dropped)
		pdk_eth_counter_add(&txq->q.cnt->errors, dropped);
	return taken;
}
