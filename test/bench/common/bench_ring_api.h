/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Which ring call a benchmark loop makes, picked by a switch as DPDK's
 * ring_perf_autotest does (its test_ring_enqueue/_dequeue): one pointer,
 * bulk or burst. SP/SC or MP/MC is the ring's (PDK fixes it at creation).
 * Shared by pdk-ring-perf, pdk-ring-icount and pdk-gbench-ring, so that
 * what is timed and what is counted is the same code.
 */
#ifndef PDK_BENCH_RING_API_H
#define PDK_BENCH_RING_API_H

#include <pdk_ring.h>

enum bench_ring_api { BENCH_RING_SINGLE, BENCH_RING_BULK, BENCH_RING_BURST };

/* Pointers moved (1 or 0 for a single one). */
static PDK_ALWAYS_INLINE unsigned
bench_ring_enqueue(struct pdk_ring *r, void **objs, unsigned n,
		   enum bench_ring_api api)
{
	switch (api) {
	case BENCH_RING_SINGLE:
		return pdk_ring_enqueue(r, objs[0]) == 0;
	case BENCH_RING_BULK:
		return pdk_ring_enqueue_bulk(r, objs, n, NULL);
	case BENCH_RING_BURST:
		return pdk_ring_enqueue_burst(r, objs, n, NULL);
	}
	return 0;
}

static PDK_ALWAYS_INLINE unsigned
bench_ring_dequeue(struct pdk_ring *r, void **objs, unsigned n,
		   enum bench_ring_api api)
{
	switch (api) {
	case BENCH_RING_SINGLE:
		return pdk_ring_dequeue(r, objs) == 0;
	case BENCH_RING_BULK:
		return pdk_ring_dequeue_bulk(r, objs, n, NULL);
	case BENCH_RING_BURST:
		return pdk_ring_dequeue_burst(r, objs, n, NULL);
	}
	return 0;
}

#endif
