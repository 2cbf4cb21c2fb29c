/* SPDX-License-Identifier: BSD-3-Clause */
#include <assert.h>
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pdk_eal.h>
#include <pdk_ring.h>

#include "bench_common.h"
#include "bench_ring_api.h"
#include "gbench_ring_ops.h"

static_assert(GB_RING_SINGLE == (int)BENCH_RING_SINGLE &&
		      GB_RING_BULK == (int)BENCH_RING_BULK &&
		      GB_RING_BURST == (int)BENCH_RING_BURST,
	      "gb_ring_api is bench_ring_api for C++");

#define GB_RING_SLOTS 4096
#define GB_MAX_SIZE 128

struct gb_ring {
	struct pdk_ring *r;
	unsigned worker;
	enum gb_ring_api api;
	unsigned size;
	_Atomic bool stop;
	void *objs[GB_MAX_SIZE];
};

struct gb_ring *gb_ring_new(bool multi)
{
	static unsigned seq;
	char name[PDK_RING_NAMESIZE];
	struct gb_ring *g = calloc(1, sizeof(*g));

	if (g == NULL)
		return NULL;
	snprintf(name, sizeof(name), "gb_ring_%u", seq++);
	g->r = pdk_ring_create(name, GB_RING_SLOTS, pdk_socket_id(),
			       multi ? 0 : PDK_RING_F_SP_ENQ | PDK_RING_F_SC_DEQ);
	if (g->r == NULL) {
		fprintf(stderr, "pdk_ring_create: %s\n", strerror(errno));
		free(g);
		return NULL;
	}
	g->worker = PDK_MAX_LCORES;
	return g;
}

void gb_ring_free(struct gb_ring *g)
{
	if (g == NULL)
		return;
	pdk_ring_free(g->r);
	free(g);
}

/* One enqueue or dequeue of `size` through `api`; returns how many moved.
 * Inlined with a constant size where the callers below pass one. */
static PDK_ALWAYS_INLINE unsigned op(struct pdk_ring *r, void **objs,
				     enum gb_ring_api api, unsigned size,
				     bool dequeue)
{
	enum bench_ring_api a = (enum bench_ring_api)api;

	return dequeue ? bench_ring_dequeue(r, objs, size, a)
		       : bench_ring_enqueue(r, objs, size, a);
}

static PDK_ALWAYS_INLINE void enq_deq_loop(struct gb_ring *g,
					   enum gb_ring_api api, unsigned size,
					   unsigned reps)
{
	for (unsigned i = 0; i < reps; i++) {
		op(g->r, g->objs, api, size, false);
		op(g->r, g->objs, api, size, true);
	}
}

/* The sizes the benchmarks use become compile-time constants, as a
 * driver's burst size usually is: call(api, size) with both constant. */
#define BY_SIZE(call, api, size)                                              \
	do {                                                                  \
		switch (size) {                                               \
		case 1: call(api, 1); break;                                  \
		case 8: call(api, 8); break;                                  \
		case 32: call(api, 32); break;                                \
		case 128: call(api, 128); break;                              \
		default: call(api, size); break;                              \
		}                                                             \
	} while (0)
#define BY_API_SIZE(call, api, size)                                          \
	do {                                                                  \
		if ((api) == GB_RING_SINGLE)                                  \
			call(GB_RING_SINGLE, 1);                              \
		else if ((api) == GB_RING_BULK)                               \
			BY_SIZE(call, GB_RING_BULK, size);                    \
		else                                                          \
			BY_SIZE(call, GB_RING_BURST, size);                   \
	} while (0)

uint64_t gb_ring_enq_deq(struct gb_ring *g, enum gb_ring_api api,
			 unsigned size, unsigned reps)
{
#define ENQ_DEQ(a, s) enq_deq_loop(g, a, s, reps)
	return BENCH_TICKS(BY_API_SIZE(ENQ_DEQ, api, size));
#undef ENQ_DEQ
}

static PDK_ALWAYS_INLINE void produce_loop(struct gb_ring *g,
					   enum gb_ring_api api, unsigned size)
{
	void *objs[GB_MAX_SIZE] = {0};

	while (!atomic_load_explicit(&g->stop, memory_order_relaxed))
		if (op(g->r, objs, api, size, false) == 0)
			pdk_pause();
}

static int producer(void *arg)
{
	struct gb_ring *g = arg;

#define PRODUCE(a, s) produce_loop(g, a, s)
	BY_API_SIZE(PRODUCE, g->api, g->size);
#undef PRODUCE
	return 0;
}

bool gb_ring_producer_start(struct gb_ring *g, enum gb_ring_api api,
			    unsigned size)
{
	unsigned worker = pdk_lcore_next((unsigned)-1, true);

	if (worker >= PDK_MAX_LCORES)
		return false;
	g->api = api;
	g->size = size;
	atomic_store(&g->stop, false);
	if (pdk_eal_remote_launch(producer, g, worker) != 0)
		return false;
	g->worker = worker;
	return true;
}

static PDK_ALWAYS_INLINE uint64_t consume_loop(struct gb_ring *g,
					       enum gb_ring_api api,
					       unsigned size, uint64_t elems)
{
	uint64_t got = 0;

	while (got < elems) {
		unsigned n = op(g->r, g->objs, api, size, true);

		if (n == 0)
			pdk_pause();
		got += n;
	}
	return got;
}

uint64_t gb_ring_consume(struct gb_ring *g, enum gb_ring_api api,
			 unsigned size, uint64_t elems)
{
#define CONSUME(a, s) consume_loop(g, a, s, elems)
	return BENCH_TICKS(BY_API_SIZE(CONSUME, api, size));
#undef CONSUME
}

void gb_ring_producer_stop(struct gb_ring *g)
{
	if (g->worker >= PDK_MAX_LCORES)
		return;
	atomic_store(&g->stop, true);
	pdk_eal_wait_lcore(g->worker);
	g->worker = PDK_MAX_LCORES;
}
