/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DPDK 22.11's ring_perf_autotest (its pointer-ring part, "legacy APIs"),
 * measured the same way on PDK's ring, so that the two can be compared line
 * by line (usertools/pdk-bench-compare does):
 *  - a ring of 4096 slots, the burst buffer from EAL memory;
 *  - the same loops, iteration counts and bulk sizes (read through a
 *    volatile so the compiler cannot specialise on them), the operation
 *    picked by a switch on the API type as DPDK's test does;
 *  - rdtsc around each loop; one lcore, then two lcores on different CPUs
 *    (main enqueues, the worker dequeues), then every lcore for 100 ms;
 *  - the same units: cycles per enqueue+dequeue call pair for single,
 *    burst and bulk; cycles per call for the empty dequeue; cycles per
 *    element (enqueue side + dequeue side) on two lcores; calls in 100 ms
 *    per lcore for "all lcores".
 * DPDK chooses SP/SC or MP/MC per call; PDK fixes it when the ring is
 * created, so there is one ring of each.
 *
 *   pdk-ring-perf [EAL options]     (default: --no-huge -m 256 -l 0-1)
 * Prints lines in dpdk-test's format with "PDK APIs" for "legacy APIs".
 */
#include <errno.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pdk_eal.h>
#include <pdk_ring.h>

#include "bench_common.h"
#include "bench_ring_api.h"

#define RING_SIZE 4096
#define MAX_BURST 32
#define ALL_LCORES_MS 100

static const volatile unsigned bulk_sizes[] = {8, 32};

struct rings {
	struct pdk_ring *spsc, *mpmc;
};

/* Like DPDK's test_ring_enqueue()/_dequeue(): inline functions with the
 * switch, which the compiler may keep out of line. */
static inline unsigned ring_enqueue(struct pdk_ring *r, void **obj,
				    unsigned n, enum bench_ring_api api)
{
	return bench_ring_enqueue(r, obj, n, api);
}

static inline unsigned ring_dequeue(struct pdk_ring *r, void **obj,
				    unsigned n, enum bench_ring_api api)
{
	return bench_ring_dequeue(r, obj, n, api);
}

static void print_row(const char *mode, enum bench_ring_api api, unsigned size,
		      double value)
{
	static const char *const kind[] = {"single", "bulk", "burst"};

	printf("PDK APIs: %s: %s", mode, kind[api]);
	if (api != BENCH_RING_SINGLE)
		printf(" (size: %u)", size);
	printf(": %.2f\n", value);
}

static void *burst_buf(void)
{
	void **b = pdk_zmalloc("ring_perf", MAX_BURST * sizeof(void *),
			       PDK_CACHE_LINE);

	if (b == NULL) {
		fprintf(stderr, "pdk_zmalloc of the burst buffer failed\n");
		exit(1);
	}
	return b;
}

static void test_single(struct pdk_ring *r, const char *mode)
{
	const unsigned iterations = 1u << 24;
	void **burst = burst_buf();

	const uint64_t start = pdk_rdtsc();
	for (unsigned i = 0; i < iterations; i++) {
		ring_enqueue(r, burst, 1, BENCH_RING_SINGLE);
		ring_dequeue(r, burst, 1, BENCH_RING_SINGLE);
	}
	const uint64_t end = pdk_rdtsc();

	print_row(mode, BENCH_RING_SINGLE, 1, (double)(end - start) / iterations);
	pdk_free(burst);
}

static void test_burst_bulk(struct pdk_ring *r, const char *mode,
			    enum bench_ring_api api)
{
	const unsigned iterations = 1u << 23;
	void **burst = burst_buf();

	for (unsigned sz = 0; sz < PDK_DIM(bulk_sizes); sz++) {
		const uint64_t start = pdk_rdtsc();
		for (unsigned i = 0; i < iterations; i++) {
			ring_enqueue(r, burst, bulk_sizes[sz], api);
			ring_dequeue(r, burst, bulk_sizes[sz], api);
		}
		const uint64_t end = pdk_rdtsc();

		print_row(mode, api, bulk_sizes[sz],
			  (double)(end - start) / iterations);
	}
	pdk_free(burst);
}

static void test_empty_dequeue(struct pdk_ring *r, const char *mode)
{
	const unsigned iterations = 1u << 26;
	void *burst[MAX_BURST];

	const uint64_t start = pdk_rdtsc();
	for (unsigned i = 0; i < iterations; i++)
		ring_dequeue(r, burst, bulk_sizes[0], BENCH_RING_BULK);
	const uint64_t end = pdk_rdtsc();

	print_row(mode, BENCH_RING_BULK, bulk_sizes[0],
		  (double)(end - start) / iterations);
}

/* Two lcores: one enqueues, the other dequeues, SP/SC then MP/MC. */
struct pair_params {
	const struct rings *rings;
	unsigned size;
	bool dequeue;
	double spsc, mpmc; /* cycles per element on this side */
};

static _Atomic unsigned pair_ready;

static double pair_phase(struct pdk_ring *r, void **burst, unsigned size,
			 bool dequeue)
{
	const unsigned iterations = 1u << 15;
	unsigned ret;

	const uint64_t start = pdk_rdtsc();
	for (unsigned i = 0; i < iterations; i++)
		do {
			ret = dequeue ? ring_dequeue(r, burst, size, BENCH_RING_BULK)
				      : ring_enqueue(r, burst, size, BENCH_RING_BULK);
			if (ret == 0)
				pdk_pause();
		} while (ret == 0);
	const uint64_t end = pdk_rdtsc();

	return (double)(end - start) / ((double)iterations * size);
}

static int pair_side(void *arg)
{
	struct pair_params *p = arg;
	void **burst;

	/* Start together: the last of the two to arrive releases both. */
	if (atomic_fetch_add(&pair_ready, 1) + 1 != 2)
		while (atomic_load_explicit(&pair_ready, memory_order_relaxed) != 2)
			pdk_pause();
	burst = burst_buf();
	p->spsc = pair_phase(p->rings->spsc, burst, p->size, p->dequeue);
	p->mpmc = pair_phase(p->rings->mpmc, burst, p->size, p->dequeue);
	pdk_free(burst);
	return 0;
}

static void run_on_pair(const struct rings *rings, unsigned c1, unsigned c2)
{
	for (unsigned i = 0; i < PDK_DIM(bulk_sizes); i++) {
		struct pair_params enq = {rings, bulk_sizes[i], false, 0, 0};
		struct pair_params deq = {rings, bulk_sizes[i], true, 0, 0};

		atomic_store(&pair_ready, 0);
		if (c1 == pdk_lcore_main()) {
			pdk_eal_remote_launch(pair_side, &deq, c2);
			pair_side(&enq);
			pdk_eal_wait_lcore(c2);
		} else {
			pdk_eal_remote_launch(pair_side, &enq, c1);
			pdk_eal_remote_launch(pair_side, &deq, c2);
			pdk_eal_wait_lcore(c1);
			pdk_eal_wait_lcore(c2);
		}
		print_row("SP/SC", BENCH_RING_BULK, bulk_sizes[i], enq.spsc + deq.spsc);
		print_row("MP/MC", BENCH_RING_BULK, bulk_sizes[i], enq.mpmc + deq.mpmc);
	}
}

/* First pair of lcores (c1 before c2 in lcore order) on the same CPU or
 * not, on the same socket or not. */
static bool find_pair(bool same_cpu, bool same_socket, unsigned *c1,
		      unsigned *c2)
{
	unsigned a, b;

	PDK_LCORE_FOREACH(a) {
		PDK_LCORE_FOREACH(b) {
			if (a == b)
				continue;
			if (same_cpu != (pdk_lcore_to_cpu(a) == pdk_lcore_to_cpu(b)))
				continue;
			if (same_socket !=
			    (pdk_lcore_to_socket(a) == pdk_lcore_to_socket(b)))
				continue;
			*c1 = a;
			*c2 = b;
			return true;
		}
	}
	return false;
}

/* Every lcore: MP/MC bulk enqueue+dequeue for 100 ms, counting calls. */
struct all_params {
	struct pdk_ring *r;
	unsigned size;
};

static _Atomic unsigned all_go;
static uint64_t all_count[PDK_MAX_LCORES];

static int all_side(void *arg)
{
	const struct all_params *p = arg;
	uint64_t hz = pdk_get_tsc_hz(), diff = 0, count = 0, begin;
	void **burst = burst_buf();

	if (pdk_lcore_id() != pdk_lcore_main())
		while (atomic_load_explicit(&all_go, memory_order_relaxed) != 1)
			pdk_pause();
	begin = pdk_rdtsc();
	while (diff < hz * ALL_LCORES_MS / 1000) {
		ring_enqueue(p->r, burst, p->size, BENCH_RING_BULK);
		ring_dequeue(p->r, burst, p->size, BENCH_RING_BULK);
		count++;
		diff = pdk_rdtsc() - begin;
	}
	all_count[pdk_lcore_id()] = count;
	pdk_free(burst);
	return 0;
}

static void run_on_all(struct pdk_ring *r)
{
	for (unsigned i = 0; i < PDK_DIM(bulk_sizes); i++) {
		struct all_params p = {r, bulk_sizes[i]};
		uint64_t total = 0;
		unsigned lc;

		printf("\nBulk enq/dequeue count on size %u\n", p.size);
		atomic_store(&all_go, 0);
		pdk_eal_mp_remote_launch(all_side, &p, true);
		atomic_store(&all_go, 1);
		all_side(&p);
		pdk_eal_mp_wait_lcore();
		PDK_LCORE_FOREACH(lc) {
			printf("Core [%u] count = %" PRIu64 "\n", lc, all_count[lc]);
			total += all_count[lc];
		}
		printf("Total count (size: %u): %" PRIu64 "\n", p.size, total);
	}
}

static struct pdk_ring *make_ring(const char *name, unsigned flags)
{
	struct pdk_ring *r = pdk_ring_create(name, RING_SIZE, pdk_socket_id(),
					     flags);

	if (r == NULL) {
		fprintf(stderr, "pdk_ring_create(%s): %s\n", name,
			strerror(errno));
		exit(1);
	}
	return r;
}

static void run_pairs(const struct rings *rings)
{
	static const struct {
		const char *title;
		bool same_cpu, same_socket;
	} kinds[] = {
		{"two hyperthreads", true, true},
		{"two physical cores", false, true},
		{"two NUMA nodes", false, false},
	};
	unsigned c1, c2;

	for (unsigned k = 0; k < PDK_DIM(kinds); k++) {
		if (!find_pair(kinds[k].same_cpu, kinds[k].same_socket, &c1, &c2))
			continue;
		printf("\n### Testing using %s ###\n", kinds[k].title);
		run_on_pair(rings, c1, c2);
	}
}

int main(int argc, char **argv)
{
	struct rings rings;

	bench_eal_init(argc, argv, "usage: pdk-ring-perf [EAL options]");
	rings.spsc = make_ring("RING_PERF_SPSC",
			       PDK_RING_F_SP_ENQ | PDK_RING_F_SC_DEQ);
	rings.mpmc = make_ring("RING_PERF_MPMC", 0);

	printf("\n### Testing single element enq/deq ###\n");
	test_single(rings.spsc, "SP/SC");
	test_single(rings.mpmc, "MP/MC");

	printf("\n### Testing burst enq/deq ###\n");
	test_burst_bulk(rings.spsc, "SP/SC", BENCH_RING_BURST);
	test_burst_bulk(rings.mpmc, "MP/MC", BENCH_RING_BURST);

	printf("\n### Testing bulk enq/deq ###\n");
	test_burst_bulk(rings.spsc, "SP/SC", BENCH_RING_BULK);
	test_burst_bulk(rings.mpmc, "MP/MC", BENCH_RING_BULK);

	printf("\n### Testing empty bulk deq ###\n");
	test_empty_dequeue(rings.spsc, "SP/SC");
	test_empty_dequeue(rings.mpmc, "MP/MC");

	run_pairs(&rings);

	printf("\n### Testing using all worker nodes ###\n");
	run_on_all(rings.mpmc);

	pdk_ring_free(rings.spsc);
	pdk_ring_free(rings.mpmc);
	pdk_eal_cleanup();
	return 0;
}
