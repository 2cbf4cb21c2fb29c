/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ring fast path. Do not include directly: include <pdk_ring.h>.
 *
 * An operation has three steps on its own side (prod or cons):
 *  1. reserve: move `head` forward by n, bounded by the other side's `tail`
 *     (CAS loop for multi, a plain store for single);
 *  2. copy the elements into (or out of) the reserved slots;
 *  3. publish: wait until `tail` reaches our old head (earlier reservations
 *     on our side are published first, so `tail` only ever covers finished
 *     slots), then store the new `tail`.
 * The memory-ordering comments name the edge each acquire/release pairs with.
 */
#ifndef PDK_RING_INLINE_H
#define PDK_RING_INLINE_H

/* Pauses a multi-producer/consumer spends waiting for a preempted
 * predecessor before it yields the CPU. */
#define PDK_RING_SPINS_BEFORE_YIELD 1024

/* Included directly anyway: pdk_ring.h defines the types and includes us
 * back (a no-op thanks to the guard), then the definitions below follow. */
#include <pdk_ring.h>

/*
 * Step 1. `room` is what the other side's tail leaves us: capacity + tail
 * for producers, tail for consumers. Returns the number reserved (0 when
 * `fixed` and fewer than n fit), the old head, and what is left after it.
 */
static PDK_ALWAYS_INLINE uint32_t
pdk__ring_move_head(struct pdk_ring_headtail *me,
		    const struct pdk_ring_headtail *other, uint32_t capacity,
		    uint32_t n, bool fixed, uint32_t *old_head, uint32_t *left)
{
	uint32_t head, avail, want;

	/* acquire: pairs with the release of a successful CAS below by another
	 * thread of this side, so the other side's tail we read next is not
	 * older than the one that bounded its reservation. */
	head = atomic_load_explicit(&me->head, memory_order_acquire);
	for (;;) {
		/* acquire: pairs with the release store of other->tail in
		 * pdk__ring_update_tail(): the other side is done with the
		 * slots up to that tail (consumers read them / producers wrote
		 * them) before we reuse them. */
		uint32_t tail = atomic_load_explicit(&other->tail,
						     memory_order_acquire);

		avail = capacity + tail - head; /* unsigned: exact mod 2^32 */
		want = n <= avail ? n : (fixed ? 0 : avail);
		if (want == 0)
			break;
		if (me->single) {
			/* Only this thread writes our head. */
			atomic_store_explicit(&me->head, head + want,
					      memory_order_relaxed);
			break;
		}
		/* acq_rel on success: release pairs with the acquire load of
		 * head above in the next thread of this side; acquire pairs
		 * with the previous one's release. Failure reloads `head`.
		 * `seen`, not `head`, takes the value the CAS read: on success
		 * the copy and the tail wait then use the head loaded before
		 * it instead of waiting for the locked instruction's result. */
		uint32_t seen = head;

		if (pdk_likely(atomic_compare_exchange_weak_explicit(
			    &me->head, &seen, head + want,
			    memory_order_acq_rel, memory_order_acquire)))
			break;
		head = seen;
	}
	*old_head = head;
	*left = avail - want;
	return want;
}

/*
 * Step 3's wait, out of line (ring.c): pauses until ht->tail reaches
 * old_head, then acquire-loads it once more. A pinned lcore waits a few
 * dozen cycles; a long wait means the thread that reserved before us was
 * preempted mid-operation (more threads than cores), so after
 * PDK_RING_SPINS_BEFORE_YIELD pauses it yields the CPU instead of spinning
 * out its time slice. Out of line because a call (sched_yield) inside the
 * inline code made the compiler keep the ring's addresses in callee-saved
 * registers and spill others to the stack on every operation.
 */
PDK_API __attribute__((cold)) void
pdk__ring_wait_tail(struct pdk_ring_headtail *ht, uint32_t old_head);

/* Step 3. */
static PDK_ALWAYS_INLINE void
pdk__ring_update_tail(struct pdk_ring_headtail *ht, uint32_t old_head,
		      uint32_t new_head)
{
	/* Earlier reservations on our side publish first. acquire: pairs with
	 * the release store below by the thread that reserved just before us,
	 * so its slot accesses happen before our release publishes both. */
	if (!ht->single &&
	    pdk_unlikely(atomic_load_explicit(&ht->tail, memory_order_acquire) !=
			 old_head))
		pdk__ring_wait_tail(ht, old_head);
	/* release: pairs with the acquire load of this tail in the other
	 * side's pdk__ring_move_head(): our slot writes (producer) or reads
	 * (consumer) happen before the other side touches those slots. */
	atomic_store_explicit(&ht->tail, new_head, memory_order_release);
}

/* Two pointers as one value, so that copies use 16-byte moves (8-byte on
 * 32-bit) where a loop of single pointers costs a load and a store each.
 * Fewer stores also means less to drain before a multi-producer/consumer
 * CAS. may_alias: it reads and writes arrays of void *; aligned like
 * them. (A 4-pointer vector would not fit a baseline x86-64 register and
 * go through the stack.) */
typedef uintptr_t pdk__ring_ptr2
	__attribute__((vector_size(2 * sizeof(void *)), may_alias,
		       aligned(sizeof(void *))));

static PDK_ALWAYS_INLINE void pdk__ring_copy(void **dst, void *const *src,
					     uint32_t n)
{
	uint32_t i = 0;

	for (; i + 4 <= n; i += 4) {
		*(pdk__ring_ptr2 *)&dst[i] = *(const pdk__ring_ptr2 *)&src[i];
		*(pdk__ring_ptr2 *)&dst[i + 2] =
			*(const pdk__ring_ptr2 *)&src[i + 2];
	}
	if (n & 2) {
		*(pdk__ring_ptr2 *)&dst[i] = *(const pdk__ring_ptr2 *)&src[i];
		i += 2;
	}
	if (n & 1)
		dst[i] = src[i];
}

/* Copy in or out: wide copies while the n slots are contiguous, one
 * pointer at a time across the end of the slots (once per trip around the
 * ring; keeping that path simple keeps the fast one small). */
static PDK_ALWAYS_INLINE void
pdk__ring_copy_in(struct pdk_ring *r, uint32_t head, void *const *objs,
		  uint32_t n)
{
	uint32_t idx = head & r->mask;

	if (pdk_likely(n <= r->size - idx)) {
		pdk__ring_copy(&r->slots[idx], objs, n);
		return;
	}
	for (uint32_t i = 0; i < n; i++)
		r->slots[(idx + i) & r->mask] = objs[i];
}

static PDK_ALWAYS_INLINE void
pdk__ring_copy_out(const struct pdk_ring *r, uint32_t head, void **objs,
		   uint32_t n)
{
	uint32_t idx = head & r->mask;

	if (pdk_likely(n <= r->size - idx)) {
		pdk__ring_copy(objs, &r->slots[idx], n);
		return;
	}
	for (uint32_t i = 0; i < n; i++)
		objs[i] = r->slots[(idx + i) & r->mask];
}

static PDK_ALWAYS_INLINE unsigned
pdk__ring_enqueue(struct pdk_ring *r, void *const *objs, unsigned n,
		  bool fixed, unsigned *free_space)
{
	uint32_t head, left;
	uint32_t got = pdk__ring_move_head(&r->prod, &r->cons, r->capacity, n,
					   fixed, &head, &left);

	if (got != 0) {
		/* A bulk moves exactly n: with a constant n the copy
		 * specialises (one store for a single pointer). */
		got = fixed ? n : got;
		pdk__ring_copy_in(r, head, objs, got);
		pdk__ring_update_tail(&r->prod, head, head + got);
	}
	if (free_space != NULL)
		*free_space = left;
	return got;
}

static PDK_ALWAYS_INLINE unsigned
pdk__ring_dequeue(struct pdk_ring *r, void **objs, unsigned n, bool fixed,
		  unsigned *available)
{
	uint32_t head, left;
	uint32_t got = pdk__ring_move_head(&r->cons, &r->prod, 0, n, fixed,
					   &head, &left);

	if (got != 0) {
		got = fixed ? n : got; /* as in pdk__ring_enqueue() */
		pdk__ring_copy_out(r, head, objs, got);
		pdk__ring_update_tail(&r->cons, head, head + got);
	}
	if (available != NULL)
		*available = left;
	return got;
}

/*
 * Enqueue all n pointers or none. Returns n or 0. `free_space` (may be NULL)
 * gets the free slots left after the operation, as seen by it.
 */
static PDK_ALWAYS_INLINE unsigned
pdk_ring_enqueue_bulk(struct pdk_ring *r, void *const *objs, unsigned n,
		      unsigned *free_space)
{
	return pdk__ring_enqueue(r, objs, n, true, free_space);
}

/* Enqueue as many of the n pointers as fit. Returns how many (0..n). */
static PDK_ALWAYS_INLINE unsigned
pdk_ring_enqueue_burst(struct pdk_ring *r, void *const *objs, unsigned n,
		       unsigned *free_space)
{
	return pdk__ring_enqueue(r, objs, n, false, free_space);
}

/* Dequeue n pointers or none. Returns n or 0. `available` (may be NULL)
 * gets the elements left after the operation, as seen by it. */
static PDK_ALWAYS_INLINE unsigned
pdk_ring_dequeue_bulk(struct pdk_ring *r, void **objs, unsigned n,
		      unsigned *available)
{
	return pdk__ring_dequeue(r, objs, n, true, available);
}

/* Dequeue up to n pointers. Returns how many (0..n). */
static PDK_ALWAYS_INLINE unsigned
pdk_ring_dequeue_burst(struct pdk_ring *r, void **objs, unsigned n,
		       unsigned *available)
{
	return pdk__ring_dequeue(r, objs, n, false, available);
}

/* One pointer: 0, or -ENOBUFS when the ring is full. */
static PDK_ALWAYS_INLINE int pdk_ring_enqueue(struct pdk_ring *r, void *obj)
{
	return pdk__ring_enqueue(r, &obj, 1, true, NULL) ? 0 : -ENOBUFS;
}

/* One pointer: 0, or -ENOENT when the ring is empty. */
static PDK_ALWAYS_INLINE int pdk_ring_dequeue(struct pdk_ring *r, void **obj)
{
	return pdk__ring_dequeue(r, obj, 1, true, NULL) ? 0 : -ENOENT;
}

/*
 * Elements in the ring. Exact when no operation is in flight; otherwise a
 * value the ring held at some point during the call.
 */
static inline unsigned pdk_ring_count(const struct pdk_ring *r)
{
	/* Read the consumer tail first: the producer tail read after it is at
	 * least as new, so the difference cannot go negative. acquire on the
	 * first load orders the second after it. */
	uint32_t cons = atomic_load_explicit(&r->cons.tail, memory_order_acquire);
	uint32_t prod = atomic_load_explicit(&r->prod.tail, memory_order_acquire);
	uint32_t count = prod - cons;

	return count > r->capacity ? r->capacity : count;
}

static inline unsigned pdk_ring_capacity(const struct pdk_ring *r)
{
	return r->capacity;
}

static inline unsigned pdk_ring_free_count(const struct pdk_ring *r)
{
	return r->capacity - pdk_ring_count(r);
}

static inline bool pdk_ring_empty(const struct pdk_ring *r)
{
	return pdk_ring_count(r) == 0;
}

static inline bool pdk_ring_full(const struct pdk_ring *r)
{
	return pdk_ring_count(r) == r->capacity;
}

static inline const char *pdk_ring_name(const struct pdk_ring *r)
{
	return r->name;
}

#endif /* PDK_RING_INLINE_H */
