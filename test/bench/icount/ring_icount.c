/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Instructions per ring operation, PDK's or DPDK's (built with
 * -DICOUNT_DPDK), for callgrind: where the cycle counters of the machine
 * are not available (perf stat shows "<not supported>" in many VMs),
 * instruction counts still say which side executes more, and where.
 *
 *   valgrind --tool=callgrind --collect-atstart=no \
 *            --toggle-collect=icount_loop --callgrind-out-file=OUT \
 *            pdk-ring-icount OP ITERATIONS
 * then Ir of "totals:" in OUT / ITERATIONS. OP is one of the rows below;
 * the loop is ring_perf_autotest's (the same as pdk-ring-perf): an
 * enqueue then a dequeue of `size` pointers, the size read through a
 * volatile, the call picked by a switch on the API type. No EAL: the
 * rings live in ordinary memory (rte_ring_init / pdk_ring_init).
 * With --cycles (and without valgrind) it times the loop with rdtsc
 * instead: DPDK's inline ring code and PDK's, built by the same compiler
 * with the same flags, in the same loop.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RING_SIZE 4096

enum api { API_SINGLE, API_BULK, API_BURST };

static const struct row {
	const char *name;
	bool multi;
	enum api api;
	unsigned size;
	bool empty; /* dequeue from an empty ring only */
} rows[] = {
	{"sp_single", false, API_SINGLE, 1, false},
	{"mp_single", true, API_SINGLE, 1, false},
	{"sp_burst_8", false, API_BURST, 8, false},
	{"sp_burst_32", false, API_BURST, 32, false},
	{"mp_burst_8", true, API_BURST, 8, false},
	{"mp_burst_32", true, API_BURST, 32, false},
	{"sp_bulk_8", false, API_BULK, 8, false},
	{"sp_bulk_32", false, API_BULK, 32, false},
	{"mp_bulk_8", true, API_BULK, 8, false},
	{"mp_bulk_32", true, API_BULK, 32, false},
	{"sc_empty_8", false, API_BULK, 8, true},
	{"mc_empty_8", true, API_BULK, 8, true},
};

#ifdef ICOUNT_DPDK
#include <rte_cycles.h>
#include <rte_ring.h>

#define tsc_now() rte_rdtsc()

typedef struct rte_ring ring_t;

static ring_t *ring_new(bool multi)
{
	ring_t *r = aligned_alloc(64, (size_t)rte_ring_get_memsize(RING_SIZE));

	(void)multi; /* DPDK picks SP or MP per call */
	if (r == NULL || rte_ring_init(r, "icount", RING_SIZE, 0) != 0)
		exit(1);
	return r;
}

static inline unsigned enq(ring_t *r, void **o, unsigned n, enum api api,
			   bool multi)
{
	switch (api) {
	case API_SINGLE:
		return (multi ? rte_ring_mp_enqueue(r, *o)
			      : rte_ring_sp_enqueue(r, *o)) == 0;
	case API_BULK:
		return multi ? rte_ring_mp_enqueue_bulk(r, o, n, NULL)
			     : rte_ring_sp_enqueue_bulk(r, o, n, NULL);
	case API_BURST:
		return multi ? rte_ring_mp_enqueue_burst(r, o, n, NULL)
			     : rte_ring_sp_enqueue_burst(r, o, n, NULL);
	}
	return 0;
}

static inline unsigned deq(ring_t *r, void **o, unsigned n, enum api api,
			   bool multi)
{
	switch (api) {
	case API_SINGLE:
		return (multi ? rte_ring_mc_dequeue(r, o)
			      : rte_ring_sc_dequeue(r, o)) == 0;
	case API_BULK:
		return multi ? rte_ring_mc_dequeue_bulk(r, o, n, NULL)
			     : rte_ring_sc_dequeue_bulk(r, o, n, NULL);
	case API_BURST:
		return multi ? rte_ring_mc_dequeue_burst(r, o, n, NULL)
			     : rte_ring_sc_dequeue_burst(r, o, n, NULL);
	}
	return 0;
}
#else
#include <assert.h>
#include <pdk_eal.h>
#include <pdk_ring.h>

#define tsc_now() pdk_rdtsc()

#include "bench_ring_api.h"

typedef struct pdk_ring ring_t;

static ring_t *ring_new(bool multi)
{
	unsigned flags = multi ? 0 : PDK_RING_F_SP_ENQ | PDK_RING_F_SC_DEQ;
	ring_t *r = aligned_alloc(64, (size_t)pdk_ring_get_memsize(RING_SIZE,
								   flags));

	if (r == NULL || pdk_ring_init(r, "icount", RING_SIZE, flags) != 0)
		exit(1);
	return r;
}

/* The thread mode is the ring's; the switch is pdk-ring-perf's. */
static_assert(API_SINGLE == (int)BENCH_RING_SINGLE &&
		      API_BULK == (int)BENCH_RING_BULK &&
		      API_BURST == (int)BENCH_RING_BURST,
	      "one API numbering for both");

static inline unsigned enq(ring_t *r, void **o, unsigned n, enum api api,
			   bool multi)
{
	(void)multi;
	return bench_ring_enqueue(r, o, n, (enum bench_ring_api)api);
}

static inline unsigned deq(ring_t *r, void **o, unsigned n, enum api api,
			   bool multi)
{
	(void)multi;
	return bench_ring_dequeue(r, o, n, (enum bench_ring_api)api);
}
#endif

/* What callgrind counts (--toggle-collect=icount_loop). */
__attribute__((noinline)) void icount_loop(ring_t *r, const struct row *row,
					   void **burst, unsigned iters);
__attribute__((noinline)) void icount_loop(ring_t *r, const struct row *row,
					   void **burst, unsigned iters)
{
	const volatile unsigned size = row->size;

	for (unsigned i = 0; i < iters; i++) {
		if (!row->empty)
			enq(r, burst, size, row->api, row->multi);
		deq(r, burst, size, row->api, row->multi);
	}
}

int main(int argc, char **argv)
{
	void *burst[32] = {0};
	unsigned iters = argc > 2 ? (unsigned)strtoul(argv[2], NULL, 0) : 0;

	for (size_t i = 0; argc > 2 && i < sizeof(rows) / sizeof(rows[0]); i++) {
		ring_t *r;
		uint64_t t0;

		if (strcmp(argv[1], rows[i].name) != 0)
			continue;
		r = ring_new(rows[i].multi);
		t0 = tsc_now();
		icount_loop(r, &rows[i], burst, iters);
		/* Without callgrind, the same loop timed: both rings' code
		 * built by the same compiler with the same flags. */
		if (argc > 3 && strcmp(argv[3], "--cycles") == 0)
			printf("%s: %.2f cycles per iteration\n", rows[i].name,
			       (double)(tsc_now() - t0) / iters);
		return 0;
	}
	fprintf(stderr, "usage: %s OP ITERATIONS [--cycles]\nOP:", argv[0]);
	for (size_t i = 0; i < sizeof(rows) / sizeof(rows[0]); i++)
		fprintf(stderr, " %s", rows[i].name);
	fprintf(stderr, "\n");
	return 2;
}
