/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Lock-free FIFO of pointers with a fixed capacity.
 *
 *   struct pdk_ring *r = pdk_ring_create("rx", 1024, PDK_SOCKET_ANY, 0);
 *   if (r == NULL) ...                     // errno says why, the log says more
 *   n = pdk_ring_enqueue_burst(r, objs, 32, NULL);
 *   n = pdk_ring_dequeue_bulk(r, objs, 32, &left);  // 32 or 0
 *   pdk_ring_free(r);
 *
 * Producers and consumers are each either single (one thread at a time, the
 * caller guarantees it) or multi (any number of threads), chosen at creation.
 * A ring created for `count` elements holds exactly `count` elements; `count`
 * must be a power of two unless PDK_RING_F_EXACT_SZ is given. (DPDK's rings
 * hold count - 1; ours do not lose a slot.)
 *
 * Bulk operations move all `n` elements or none; burst operations move as
 * many as they can. Elements come out in the order they went in (per ring,
 * in the order producers reserved their slots).
 */
#ifndef PDK_RING_H
#define PDK_RING_H

#include <errno.h>
#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <pdk_common.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PDK_RING_NAMESIZE 32

/* Flags for pdk_ring_create()/pdk_ring_init(). Default: multi-producer,
 * multi-consumer, power-of-two count. */
#define PDK_RING_F_SP_ENQ 0x1   /* a single producer enqueues at a time */
#define PDK_RING_F_SC_DEQ 0x2   /* a single consumer dequeues at a time */
#define PDK_RING_F_EXACT_SZ 0x4 /* count may be any value in 1..2^31-1 */
#define PDK_RING_F_ALL (PDK_RING_F_SP_ENQ | PDK_RING_F_SC_DEQ | PDK_RING_F_EXACT_SZ)

/* Largest count accepted (with PDK_RING_F_EXACT_SZ; without it, 2^30). */
#define PDK_RING_SZ_MAX 0x7fffffffU

/*
 * One side of the ring. `head` is where the next reservation starts;
 * `tail` is how far the previous reservations are complete and visible to
 * the other side. Both are free-running 32-bit counters (never masked), so
 * `prod.tail - cons.tail` is the number of elements even after wrapping.
 */
struct pdk_ring_headtail {
	_Atomic uint32_t head;
	_Atomic uint32_t tail;
	bool single; /* single producer (or consumer): no CAS, no tail wait */
};

struct pdk_ring {
	char name[PDK_RING_NAMESIZE];
	unsigned flags;
	uint32_t size;     /* slots: a power of two >= capacity */
	uint32_t mask;     /* size - 1 */
	uint32_t capacity; /* elements the ring holds when full */
	bool owned;        /* memory from pdk_ring_create(): freed by pdk_ring_free() */

	/*
	 * Producer, consumer and slots each on their own cache line, with an
	 * empty line after prod and after cons: the adjacent-line prefetcher
	 * moves lines in 128-byte pairs, so neighbouring lines would still
	 * travel between the producer's and the consumer's cores.
	 */
	alignas(PDK_CACHE_LINE) struct pdk_ring_headtail prod;
	char guard_prod[PDK_CACHE_LINE];
	alignas(PDK_CACHE_LINE) struct pdk_ring_headtail cons;
	char guard_cons[PDK_CACHE_LINE];
	alignas(PDK_CACHE_LINE) void *slots[];
};

/*
 * Bytes needed for a ring of `count` elements with `flags` (only
 * PDK_RING_F_EXACT_SZ matters). Returns -EINVAL for a count that is 0,
 * above the maximum, not a power of two without PDK_RING_F_EXACT_SZ, or
 * whose memory size would overflow.
 */
PDK_API ssize_t pdk_ring_get_memsize(unsigned count, unsigned flags);

/*
 * Initialise a ring in caller memory of at least pdk_ring_get_memsize()
 * bytes, aligned to PDK_CACHE_LINE. Returns 0 or -EINVAL. The ring is not
 * registered for pdk_ring_lookup(); pdk_ring_free() does not free it.
 */
PDK_API int pdk_ring_init(struct pdk_ring *r, const char *name, unsigned count,
			  unsigned flags);

/*
 * Allocate a ring from DMA memory on `socket` (or PDK_SOCKET_ANY) and
 * register it under `name`. Returns NULL and sets errno: EINVAL (bad count,
 * flags or name), ENAMETOOLONG, EEXIST (name taken), ENOMEM.
 */
PDK_API struct pdk_ring *pdk_ring_create(const char *name, unsigned count,
					 int socket, unsigned flags);

/* Free a ring from pdk_ring_create() (NULL is a no-op); for a ring from
 * pdk_ring_init() it only forgets it. No thread may still use it. */
PDK_API void pdk_ring_free(struct pdk_ring *r);

/* The ring created under `name`, or NULL with errno ENOENT. */
PDK_API struct pdk_ring *pdk_ring_lookup(const char *name);

#include <pdk_ring_inline.h>

#ifdef __cplusplus
}
#endif
#endif /* PDK_RING_H */
