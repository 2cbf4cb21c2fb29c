/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The device side of a split virtqueue (virtio 1.2, 2.7). Everything read
 * from the driver's memory is checked before it is used: the rings must lie
 * in memory the client mapped (through the emulated IOMMU), the available
 * index may not run more than a queue ahead, a head and every `next` must
 * be below the queue size, a chain may not be longer than the queue (a
 * loop), readable buffers come before writable ones, and indirect
 * descriptors were not offered. A violation is the driver's fault: the
 * device sets DEVICE_NEEDS_RESET (2.1.2) and stops, it never guesses.
 *
 * Notification suppression (2.7.7, 2.7.10): while a queue has work the
 * device does not want kicks (avail_event left behind, or NO_NOTIFY); when
 * it runs dry it asks for one (avail_event = next entry, or clears
 * NO_NOTIFY), then looks once more, so a buffer made available in between
 * is never missed. Used-buffer notifications go out only when the driver
 * asked (used_event, or no NO_INTERRUPT) and the queue has a vector.
 */
#include <errno.h>
#include <string.h>

#include "virtio_net_private.h"

#define NOTIFY_IDLE 0xffffffffu /* a notify word nobody wrote */

void vnet_vq_reset(struct vnet_vq *q)
{
	uint32_t *hist = q->hist;

	memset(q, 0, sizeof(*q));
	q->hist = hist;
	q->msix = PDK_VIRTIO_MSI_NO_VECTOR;
}

static uint16_t ld16(const uint16_t *p)
{
	return __atomic_load_n(p, __ATOMIC_RELAXED);
}

static void st16(uint16_t *p, uint16_t v)
{
	__atomic_store_n(p, v, __ATOMIC_RELAXED);
}

static unsigned vq_index(const struct vnet *vn, const struct vnet_vq *q)
{
	return (unsigned)(q - vn->vq);
}

/* Point at the rings again after the DMA table changed. */
static bool vq_resolve(struct vnet *vn, struct vnet_vq *q)
{
	struct pdk_emu_dev *dev = vn->dev;
	void *d = pdk_emu_dma_ptr(dev, q->desc_iova, pdk_virtq_desc_bytes(q->size), false);
	void *a = d ? pdk_emu_dma_ptr(dev, q->avail_iova, pdk_virtq_avail_bytes(q->size),
				      false) : NULL;
	void *u = a ? pdk_emu_dma_ptr(dev, q->used_iova, pdk_virtq_used_bytes(q->size),
				      true) : NULL;

	if (u == NULL) {
		if (errno != EPERM) /* bus master off: wait, as hardware would */
			vnet_fail(vn, "virtqueue %u: rings at 0x%llx/0x%llx/0x%llx are not "
				  "all in fd-backed memory the client mapped for the device "
				  "(%s)", vq_index(vn, q), (unsigned long long)q->desc_iova,
				  (unsigned long long)q->avail_iova,
				  (unsigned long long)q->used_iova, strerror(errno));
		return false;
	}
	q->desc = d;
	q->avail = a;
	q->used = u;
	q->gen = pdk_emu_dma_gen(dev);
	return true;
}

/* The queue can run: enabled, driver ready, rings reachable. */
bool vnet_vq_ready(struct vnet *vn, struct vnet_vq *q)
{
	if (!q->enabled || !vnet_driver_ok(vn))
		return false;
	if (q->used && q->gen == pdk_emu_dma_gen(vn->dev))
		return true;
	return vq_resolve(vn, q);
}

/* Entries made available and not taken yet. Acquire: the ring entries and
 * descriptors they name were written first (pairs with the driver's
 * release store of avail->idx). */
uint16_t vnet_vq_pending(struct vnet *vn, struct vnet_vq *q)
{
	uint16_t idx = __atomic_load_n(&q->avail->idx, __ATOMIC_ACQUIRE);
	uint16_t n = (uint16_t)(idx - q->last_avail);

	if (n > q->size) {
		vnet_fail(vn, "virtqueue %u: available index %u is %u entries ahead of "
			  "%u, more than the queue size %u", vq_index(vn, q), idx, n,
			  q->last_avail, q->size);
		return 0;
	}
	return n;
}

static int chain_bad(struct vnet *vn, struct vnet_vq *q, uint16_t head,
		     const char *why, unsigned v)
{
	vnet_fail(vn, "virtqueue %u: chain at head %u: %s (%u; queue size %u)",
		  vq_index(vn, q), head, why, v, q->size);
	return -EIO;
}

/* Add one descriptor to the chain, checking its place in it. */
static int chain_add(struct vnet *vn, struct vnet_vq *q, struct vnet_chain *c,
		     const struct pdk_virtq_desc *d)
{
	struct vnet_seg *s = &c->seg[c->nr + c->nw];

	if (d->flags & PDK_VIRTQ_DESC_F_INDIRECT)
		return chain_bad(vn, q, c->head, "indirect descriptor, not offered",
				 d->flags);
	if (d->flags & PDK_VIRTQ_DESC_F_WRITE) {
		c->nw++;
		c->wlen += d->len;
	} else if (c->nw) {
		return chain_bad(vn, q, c->head, "readable buffer after a writable one",
				 c->nr + c->nw);
	} else {
		c->nr++;
		c->rlen += d->len;
	}
	s->iova = d->addr;
	s->len = d->len;
	return 0;
}

/*
 * Take the next available chain into c (c->seg must have room for a queue
 * size of segments). 0, or -EIO after marking the device broken.
 */
int vnet_vq_pop(struct vnet *vn, struct vnet_vq *q, struct vnet_chain *c)
{
	uint16_t head = ld16(&q->avail->ring[q->last_avail & (q->size - 1)]);
	uint16_t id = head;
	struct pdk_virtq_desc d;

	c->head = head;
	c->nr = c->nw = 0;
	c->rlen = c->wlen = 0;
	if (head >= q->size)
		return chain_bad(vn, q, head, "head out of range", head);
	for (;;) {
		if (c->nr + c->nw == q->size)
			return chain_bad(vn, q, head, "longer than the queue: a loop",
					 c->nr + c->nw);
		memcpy(&d, &q->desc[id], sizeof(d)); /* once: the driver may change it */
		if (chain_add(vn, q, c, &d))
			return -EIO;
		if (!(d.flags & PDK_VIRTQ_DESC_F_NEXT))
			break;
		id = d.next;
		if (id >= q->size)
			return chain_bad(vn, q, head, "next out of range", id);
	}
	q->last_avail++;
	return 0;
}

void vnet_vq_unpop(struct vnet_vq *q, unsigned n)
{
	q->last_avail = (uint16_t)(q->last_avail - n);
}

/* ---- malformed used entries on request (the driver's tests) ---- */

static enum vnet_bad bad_due(struct vnet *vn)
{
	enum vnet_bad k;

	for (k = VNET_BAD_ID_RANGE; k < VNET_BAD_MIX; k++)
		if (vn->bad_pending[k])
			return k;
	if (vn->bad_kind == VNET_BAD_NONE || vn->bad_every == 0 ||
	    (vn->bad_max && vn->bad_done >= vn->bad_max) ||
	    vn->used_count % vn->bad_every != 0)
		return VNET_BAD_NONE;
	if (vn->bad_kind != VNET_BAD_MIX)
		return vn->bad_kind;
	vn->bad_next = vn->bad_next % 3 + 1;
	return (enum vnet_bad)vn->bad_next;
}

/* An id below the queue size that the driver cannot have outstanding: not
 * among the available entries we have not taken, nor among the last
 * `size` used entries (which it may not have read yet). -1 when none. */
static int stale_id(struct vnet *vn, struct vnet_vq *q, uint16_t head)
{
	uint8_t *seen = vn->seen;
	uint16_t avail = ld16(&q->avail->idx);
	unsigned hist = PDK_MIN((unsigned)q->used_idx, (unsigned)q->size);

	memset(seen, 0, q->size);
	seen[head] = 1;
	for (uint16_t i = q->last_avail; i != avail; i++)
		seen[ld16(&q->avail->ring[i & (q->size - 1)]) & (q->size - 1)] = 1;
	for (unsigned i = 0; i < hist; i++)
		seen[q->hist[i] & (q->size - 1)] = 1;
	for (unsigned i = 0; i < q->size; i++) {
		unsigned id = (i + (unsigned)vn->bad_done * 7) & (q->size - 1u);

		if (!seen[id])
			return (int)id;
	}
	return -1;
}

/* Maybe replace the entry about to be written by a malformed one. */
static void bad_entry(struct vnet *vn, struct vnet_vq *q, uint16_t head, uint64_t cap,
		      uint32_t *id, uint32_t *len)
{
	enum vnet_bad k = bad_due(vn);
	int stale;

	if (k == VNET_BAD_NONE)
		return;
	if (k == VNET_BAD_ID_RANGE) {
		*id = q->size + (uint32_t)(vn->bad_done % 4096);
	} else if (k == VNET_BAD_LEN) {
		*len = (uint32_t)PDK_MIN(cap + 1, (uint64_t)UINT32_MAX);
	} else {
		stale = stale_id(vn, q, head);
		if (stale < 0)
			return; /* every id is in use now: at a later entry */
		*id = (uint32_t)stale;
	}
	if (vn->bad_pending[k])
		vn->bad_pending[k]--;
	vn->bad_done++;
	vnet_count(&vn->st.bad_used, 1);
	VNET_LOG(INFO, vn, "fault: malformed used entry on virtqueue %u: id %u len %u "
		 "(chain %u of %llu bytes)", vq_index(vn, q), *id, *len, head,
		 (unsigned long long)cap);
}

/*
 * Return the chain at `head`, whose buffers hold `cap` bytes, with `len`
 * bytes written (visible at vnet_vq_flush).
 */
void vnet_vq_push(struct vnet *vn, struct vnet_vq *q, uint16_t head, uint64_t cap,
		  uint32_t len)
{
	struct pdk_virtq_used_elem *e = &q->used->ring[q->used_idx & (q->size - 1)];
	uint32_t id = head;

	vn->used_count++;
	bad_entry(vn, q, head, cap, &id, &len);
	__atomic_store_n(&e->id, id, __ATOMIC_RELAXED);
	__atomic_store_n(&e->len, len, __ATOMIC_RELAXED);
	q->hist[q->used_idx & (q->size - 1)] = head;
	q->used_idx++;
	q->dirty = true;
}

/* Should the driver hear that used entries arrived (2.7.7)? */
static bool irq_wanted(struct vnet *vn, struct vnet_vq *q)
{
	uint16_t old = q->signalled;

	q->signalled = q->used_idx;
	if (vnet_has(vn, PDK_VIRTIO_F_EVENT_IDX))
		return pdk_virtq_need_event(ld16(pdk_virtq_used_event(q->avail, q->size)),
					    q->used_idx, old);
	return !(ld16(&q->avail->flags) & PDK_VIRTQ_AVAIL_F_NO_INTERRUPT);
}

/*
 * Publish the used entries pushed so far. Release: entries and buffer
 * contents before the index (pairs with the driver's acquire load). The
 * full fence orders that store before we read the driver's suppression
 * state (pairs with the driver's fence before it reads used->idx when it
 * re-enables notifications).
 */
void vnet_vq_flush(struct vnet *vn, struct vnet_vq *q)
{
	if (!q->dirty)
		return; /* (and q->used may be stale: not resolved this time) */
	q->dirty = false;
	__atomic_store_n(&q->used->idx, q->used_idx, __ATOMIC_RELEASE);
	if (q->msix == PDK_VIRTIO_MSI_NO_VECTOR)
		return;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (!irq_wanted(vn, q))
		return;
	vn->isr |= PDK_VIRTIO_ISR_QUEUE;
	if (pdk_emu_irq_raise(vn->dev, q->msix) == 0)
		vnet_count(&vn->st.irqs, 1);
}

/* Busy (the queue is ready): the driver need not kick. With EVENT_IDX
 * avail_event stays behind, so no kick comes until we re-arm. */
void vnet_vq_busy(struct vnet *vn, struct vnet_vq *q)
{
	q->armed = false;
	if (!vnet_has(vn, PDK_VIRTIO_F_EVENT_IDX) && ld16(&q->used->flags) == 0)
		st16(&q->used->flags, PDK_VIRTQ_USED_F_NO_NOTIFY);
}

/*
 * Nothing to do: ask for a kick at the next entry, then look again. The
 * fence orders the request before the second look; it pairs with the
 * driver's fence between publishing avail->idx and reading avail_event,
 * so either we see its new entries or it sees our request. True when the
 * queue is idle and armed.
 */
bool vnet_vq_idle(struct vnet *vn, struct vnet_vq *q)
{
	if (vnet_has(vn, PDK_VIRTIO_F_EVENT_IDX))
		st16(pdk_virtq_avail_event(q->used, q->size), q->last_avail);
	else
		st16(&q->used->flags, 0);
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (vnet_vq_pending(vn, q)) {
		vnet_vq_busy(vn, q);
		return false;
	}
	q->armed = true;
	return true;
}

/*
 * A driver-fed queue's turn (transmit, control): the entries to take now,
 * or 0 when it is waiting for a kick, not ready, or idle (then armed).
 */
unsigned vnet_vq_begin(struct vnet *vn, struct vnet_vq *q)
{
	unsigned n;

	if (q->armed || !vnet_vq_ready(vn, q))
		return 0;
	n = vnet_vq_pending(vn, q);
	if (n == 0)
		vnet_vq_idle(vn, q);
	else
		vnet_vq_busy(vn, q);
	return n;
}

/*
 * Read and clear queue qi's notify word (it holds NOTIFY_IDLE until the
 * driver writes its 16-bit queue index). A kick wakes an armed queue.
 */
bool vnet_vq_kicked(struct vnet *vn, unsigned qi)
{
	uint32_t v = pdk_emu_xchg32(vn->bar, VNET_EMU_NOTIFY_OFF +
				    (uint64_t)VNET_EMU_NOTIFY_MULT * qi, NOTIFY_IDLE);

	if (v == NOTIFY_IDLE)
		return false;
	vnet_count(&vn->st.kicks, 1);
	vn->vq[qi].armed = false;
	return true;
}

void vnet_notify_reset(struct vnet *vn)
{
	for (unsigned qi = 0; qi < vnet_num_queues(vn); qi++)
		pdk_emu_wr32(vn->bar, VNET_EMU_NOTIFY_OFF + (uint64_t)VNET_EMU_NOTIFY_MULT * qi,
			     NOTIFY_IDLE);
}

/* Walk the segments of one kind (readable or writable) at byte `off`,
 * moving `len` bytes through DMA. */
static int chain_rw(struct vnet *vn, const struct vnet_chain *c, bool write,
		    uint64_t off, void *buf, uint32_t len)
{
	const struct vnet_seg *s = write ? c->seg + c->nr : c->seg;
	uint32_t n = write ? c->nw : c->nr;
	uint8_t *p = buf;

	for (uint32_t i = 0; i < n && len; i++) {
		uint32_t take;
		int rc;

		if (off >= s[i].len) {
			off -= s[i].len;
			continue;
		}
		take = (uint32_t)PDK_MIN((uint64_t)len, s[i].len - off);
		rc = write ? pdk_emu_dma_write(vn->dev, s[i].iova + off, p, take) :
			     pdk_emu_dma_read(vn->dev, s[i].iova + off, p, take);
		if (rc) {
			vnet_fail(vn, "DMA %s of a buffer at 0x%llx (%u bytes) failed: %s",
				  write ? "write" : "read",
				  (unsigned long long)(s[i].iova + off), take, strerror(-rc));
			return rc;
		}
		p += take;
		len -= take;
		off = 0;
	}
	return len ? -EINVAL : 0;
}

int vnet_chain_read(struct vnet *vn, const struct vnet_chain *c, uint64_t skip,
		    void *buf, uint32_t len)
{
	return chain_rw(vn, c, false, skip, buf, len);
}

int vnet_chain_write(struct vnet *vn, const struct vnet_chain *c, uint64_t off,
		     const void *buf, uint32_t len)
{
	return chain_rw(vn, c, true, off, (void *)(uintptr_t)buf, len);
}
