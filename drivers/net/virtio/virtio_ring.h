/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The driver side of a split virtqueue (virtio 1.2, 2.7), free of mbufs and
 * of the transport so that unit tests, the fuzz target and the emu tests'
 * little client drive the very code the port uses. Inline: it is the fast
 * path of every burst.
 *
 * The device is untrusted. Everything that decides what we free or hand
 * up lives in private arrays (free descriptor ids, chain links, chain
 * lengths, buffer sizes, the caller's cookie per chain); shared memory is
 * only read for the used index and the used entries, each copied once and
 * checked before use:
 *   - the used index may not run ahead of the chains outstanding,
 *   - an id must be below the queue size (bad_id),
 *   - and name the head of a chain that is outstanding (bad_stale: never
 *     given, or given back already: a double completion),
 *   - its length may not exceed what the chain can hold (bad_len).
 * The first violation marks the ring broken and counts it; a broken ring
 * gives nothing back until vq_ring_reset(), after the device was reset, so
 * no cookie is ever returned twice.
 */
#ifndef VIRTIO_RING_H
#define VIRTIO_RING_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include <pdk_common.h>
#include <pdk_virtio_spec.h>

/* One buffer of a chain. */
struct vq_seg {
	uint64_t iova;
	uint32_t len;
	bool write; /* device-writable (Rx) or readable (Tx) */
};

/* Counters: one writer (the thread using the ring), read by others. */
struct vq_ring_stats {
	uint64_t bad_idx;   /* used index ran ahead of the chains outstanding */
	uint64_t bad_id;    /* used id out of range */
	uint64_t bad_stale; /* used id not an outstanding chain head */
	uint64_t bad_len;   /* used length beyond the chain's buffers */
	uint64_t kicks;     /* notifications sent */
	uint64_t kicks_saved; /* notifications the device said it did not need */
};

struct vq_ring {
	/* shared with the device */
	struct pdk_virtq_desc *desc;
	struct pdk_virtq_avail *avail;
	struct pdk_virtq_used *used;
	/* ours */
	uint16_t size;      /* power of two */
	uint16_t mask;
	uint16_t avail_idx; /* next avail->idx to publish */
	uint16_t kick_idx;  /* avail_idx when the device last heard from us */
	uint16_t used_last; /* next used entry to read */
	uint16_t nb_free;   /* free descriptors (free_ids[0..nb_free)) */
	uint16_t inflight;  /* chains the device holds */
	bool event_idx;
	bool broken;
	uint16_t *free_ids;
	uint16_t *next;     /* chain links as we wrote them */
	uint16_t *ndesc;    /* at a head: descriptors in its chain */
	uint32_t *blen;     /* at a head: the most the device may report */
	void **cookie;      /* at a head: the caller's, set while outstanding */
	struct vq_ring_stats st;
};

/* Where the three parts go in one block of DMA memory: the descriptor
 * table, the available ring right after it, the used ring on its own cache
 * line (the device writes it, we write the rest). */
struct vq_layout {
	size_t avail_off;
	size_t used_off;
	size_t bytes;
};

static inline void vq_ring_layout(unsigned size, struct vq_layout *l)
{
	l->avail_off = pdk_virtq_desc_bytes(size);
	l->used_off = PDK_ALIGN_CEIL(l->avail_off + pdk_virtq_avail_bytes(size),
				     (size_t)PDK_CACHE_LINE);
	l->bytes = PDK_ALIGN_CEIL(l->used_off + pdk_virtq_used_bytes(size),
				  (size_t)PDK_CACHE_LINE);
}

/* Bytes of private memory vq_ring_init() wants for `size` entries. */
static inline size_t vq_ring_priv_bytes(unsigned size)
{
	return (size_t)size * (sizeof(void *) + sizeof(uint32_t) +
			       3 * sizeof(uint16_t));
}

/* Every descriptor free, nothing outstanding, indexes at 0: a new ring,
 * or one whose device was reset (cookies must have been drained). */
static inline void vq_ring_reset(struct vq_ring *r)
{
	r->avail_idx = r->kick_idx = r->used_last = 0;
	r->inflight = 0;
	r->broken = false;
	r->nb_free = r->size;
	for (unsigned i = 0; i < r->size; i++)
		r->free_ids[i] = (uint16_t)(r->size - 1 - i); /* pop 0 first */
	memset(r->cookie, 0, r->size * sizeof(void *));
	memset(r->desc, 0, pdk_virtq_desc_bytes(r->size));
	memset(r->avail, 0, pdk_virtq_avail_bytes(r->size));
	memset(r->used, 0, pdk_virtq_used_bytes(r->size));
	/*
	 * We poll: ask for no used-buffer notifications (2.7.7). With
	 * EVENT_IDX the flag is ignored and used_event rules; 0xffff is only
	 * reached after 65536 entries, and no vector is assigned anyway.
	 */
	r->avail->flags = PDK_VIRTQ_AVAIL_F_NO_INTERRUPT;
	*pdk_virtq_used_event(r->avail, r->size) = 0xffff;
}

/*
 * Set up a ring over `mem` (vq_ring_layout(size) bytes of DMA memory,
 * 16-byte aligned) and `priv` (vq_ring_priv_bytes(size), 8-byte aligned).
 * 0 or -EINVAL when size is not a power of two in 1..32768 or a block is
 * misaligned.
 */
static inline int vq_ring_init(struct vq_ring *r, unsigned size, void *mem,
			       void *priv, bool event_idx)
{
	struct vq_layout l;
	uint8_t *p = priv;

	if (!PDK_IS_POWER_OF_2(size) || size > PDK_VIRTQ_SIZE_MAX ||
	    (uintptr_t)mem % PDK_VIRTQ_DESC_ALIGN || (uintptr_t)priv % sizeof(void *))
		return -EINVAL;
	vq_ring_layout(size, &l);
	memset(r, 0, sizeof(*r));
	r->desc = mem;
	r->avail = PDK_PTR_ADD(mem, l.avail_off);
	r->used = PDK_PTR_ADD(mem, l.used_off);
	r->size = (uint16_t)size; /* 32768 fits; mask is what indexes */
	r->mask = (uint16_t)(size - 1);
	r->event_idx = event_idx;
	r->cookie = (void **)(void *)p;
	r->blen = (uint32_t *)(void *)(p + size * sizeof(void *));
	r->free_ids = (uint16_t *)(void *)(p + size * (sizeof(void *) + sizeof(uint32_t)));
	r->next = r->free_ids + size;
	r->ndesc = r->next + size;
	vq_ring_reset(r);
	return 0;
}

/* A plain counter bump readable from other threads (one writer). */
static inline void vq_count(uint64_t *c, uint64_t n)
{
	__atomic_store_n(c, __atomic_load_n(c, __ATOMIC_RELAXED) + n, __ATOMIC_RELAXED);
}

static inline uint64_t vq_counter(const uint64_t *c)
{
	return __atomic_load_n(c, __ATOMIC_RELAXED);
}

/*
 * Queue a chain of n buffers for the device (not yet visible: see
 * vq_publish). `cookie` (non-NULL) comes back from vq_get(); `blen` is
 * the most its used length may say: the writable bytes for Rx, all bytes
 * for Tx. The head id, or -ENOSPC when fewer than n descriptors are free.
 */
static inline int vq_add(struct vq_ring *r, void *cookie, const struct vq_seg *s,
			 unsigned n, uint32_t blen)
{
	uint16_t head, id, prev = 0;

	if (pdk_unlikely(n == 0 || n > r->nb_free))
		return -ENOSPC;
	head = r->free_ids[r->nb_free - 1];
	for (unsigned i = 0; i < n; i++) {
		id = r->free_ids[--r->nb_free];
		if (i > 0) {
			r->desc[prev].next = id;
			r->desc[prev].flags |= PDK_VIRTQ_DESC_F_NEXT;
			r->next[prev] = id;
		}
		r->desc[id].addr = s[i].iova;
		r->desc[id].len = s[i].len;
		r->desc[id].flags = s[i].write ? PDK_VIRTQ_DESC_F_WRITE : 0;
		r->desc[id].next = 0;
		prev = id;
	}
	r->ndesc[head] = (uint16_t)n;
	r->blen[head] = blen;
	r->cookie[head] = cookie;
	r->inflight++;
	r->avail->ring[r->avail_idx & r->mask] = head;
	r->avail_idx++;
	return head;
}

/* One-buffer chain: the Rx refill path. */
static inline int vq_add1(struct vq_ring *r, void *cookie, uint64_t iova,
			  uint32_t len, bool write)
{
	struct vq_seg s = {iova, len, write};

	return vq_add(r, cookie, &s, 1, len);
}

/*
 * Make the chains queued so far visible. Release: the descriptors and ring
 * entries are written before the index that announces them; pairs with the
 * device's acquire load of avail->idx.
 */
static inline void vq_publish(struct vq_ring *r)
{
	__atomic_store_n(&r->avail->idx, r->avail_idx, __ATOMIC_RELEASE);
}

/*
 * After vq_publish(): does the device want to hear about it (2.7.10)?
 * With EVENT_IDX, when avail_event lies in the stretch published since the
 * last time; without, unless the device set NO_NOTIFY. The full fence
 * orders our avail->idx store before the loads of the device's
 * suppression state; it pairs with the device's fence between publishing
 * avail_event (or clearing NO_NOTIFY) and reading avail->idx again, so
 * one of the two sides always sees the other and no kick is lost.
 */
static inline bool vq_kick_needed(struct vq_ring *r)
{
	uint16_t old = r->kick_idx;
	bool need;

	if (r->avail_idx == old)
		return false;
	__atomic_thread_fence(__ATOMIC_SEQ_CST);
	if (r->event_idx) {
		uint16_t ev = __atomic_load_n(pdk_virtq_avail_event(r->used, r->size),
					      __ATOMIC_RELAXED);

		need = pdk_virtq_need_event(ev, r->avail_idx, old);
	} else {
		need = !(__atomic_load_n(&r->used->flags, __ATOMIC_RELAXED) &
			 PDK_VIRTQ_USED_F_NO_NOTIFY);
	}
	r->kick_idx = r->avail_idx;
	vq_count(need ? &r->st.kicks : &r->st.kicks_saved, 1);
	return need;
}

/* Broken: other threads may look (vq_ring_broken), relaxed. */
static inline void vq_break(struct vq_ring *r, uint64_t *counter)
{
	__atomic_store_n(&r->broken, true, __ATOMIC_RELAXED);
	vq_count(counter, 1);
}

static inline bool vq_ring_broken(const struct vq_ring *r)
{
	return __atomic_load_n(&r->broken, __ATOMIC_RELAXED);
}

/*
 * Used entries waiting, at most what is outstanding. Acquire: the entries
 * are read after the index; pairs with the device's release store of
 * used->idx. An index further ahead breaks the ring (returns 0).
 */
static inline uint16_t vq_used_count(struct vq_ring *r)
{
	uint16_t idx, n;

	if (pdk_unlikely(r->broken))
		return 0;
	idx = __atomic_load_n(&r->used->idx, __ATOMIC_ACQUIRE);
	n = (uint16_t)(idx - r->used_last);
	if (pdk_unlikely(n > r->inflight)) {
		vq_break(r, &r->st.bad_idx);
		return 0;
	}
	return n;
}

/* Give the descriptors of the chain at `head` back to the free list. */
static inline void vq_free_chain(struct vq_ring *r, uint16_t head)
{
	uint16_t id = head;

	for (uint16_t i = r->ndesc[head]; i > 0; i--) {
		r->free_ids[r->nb_free++] = id;
		id = r->next[id];
	}
	r->cookie[head] = NULL;
	r->inflight--;
}

/*
 * Take the next used entry (call at most vq_used_count() times): its
 * cookie and *len, or NULL when the entry is malformed, which breaks the
 * ring. The entry is copied once: the device cannot change what we check.
 */
static inline void *vq_get(struct vq_ring *r, uint32_t *len)
{
	const struct pdk_virtq_used_elem *e = &r->used->ring[r->used_last & r->mask];
	uint32_t id = __atomic_load_n(&e->id, __ATOMIC_RELAXED);
	uint32_t l = __atomic_load_n(&e->len, __ATOMIC_RELAXED);
	void *cookie;

	if (pdk_unlikely(id >= r->size)) {
		vq_break(r, &r->st.bad_id);
		return NULL;
	}
	cookie = r->cookie[id];
	if (pdk_unlikely(cookie == NULL)) {
		vq_break(r, &r->st.bad_stale);
		return NULL;
	}
	if (pdk_unlikely(l > r->blen[id])) {
		vq_break(r, &r->st.bad_len);
		return NULL;
	}
	vq_free_chain(r, (uint16_t)id);
	r->used_last++;
	*len = l;
	return cookie;
}

/*
 * After the device was reset: hand every outstanding cookie to fn (once
 * each) and start the ring afresh. Entries the device used but we did not
 * read are outstanding still, so they are drained here too.
 */
static inline unsigned vq_ring_drain(struct vq_ring *r, void (*fn)(void *cookie, void *arg),
				     void *arg)
{
	unsigned n = 0;

	for (unsigned i = 0; i < r->size; i++)
		if (r->cookie[i]) {
			fn(r->cookie[i], arg);
			r->cookie[i] = NULL;
			n++;
		}
	vq_ring_reset(r);
	return n;
}

#endif /* VIRTIO_RING_H */
