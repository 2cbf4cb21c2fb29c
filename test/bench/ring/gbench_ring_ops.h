/* SPDX-License-Identifier: BSD-3-Clause */
/* Ring loops for the Google Benchmark program (C, so that C++ need not
 * include PDK's C11-atomics headers). */
#ifndef GBENCH_RING_OPS_H
#define GBENCH_RING_OPS_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* The values of bench_ring_api (bench_ring_api.h). */
enum gb_ring_api { GB_RING_SINGLE, GB_RING_BULK, GB_RING_BURST };

struct gb_ring;

/* A ring of 4096 slots, SP/SC or MP/MC; NULL when it cannot be made. */
struct gb_ring *gb_ring_new(bool multi);
void gb_ring_free(struct gb_ring *g);

/* One lcore: `reps` times enqueue then dequeue `size` pointers through
 * `api` (size 1 for single). Returns the TSC ticks spent. */
uint64_t gb_ring_enq_deq(struct gb_ring *g, enum gb_ring_api api,
			 unsigned size, unsigned reps);

/* Two lcores: a worker lcore enqueues `size` at a time until stopped.
 * false when there is no worker lcore. */
bool gb_ring_producer_start(struct gb_ring *g, enum gb_ring_api api,
			    unsigned size);
/* Dequeue `elems` pointers here, `size` at a time; returns the ticks. */
uint64_t gb_ring_consume(struct gb_ring *g, enum gb_ring_api api,
			 unsigned size, uint64_t elems);
void gb_ring_producer_stop(struct gb_ring *g);

#ifdef __cplusplus
}
#endif
#endif
