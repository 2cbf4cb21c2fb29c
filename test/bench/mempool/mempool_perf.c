/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DPDK 22.11's mempool_perf_autotest measured the same way on PDK's mempool,
 * so that the two can be compared row by row (usertools/pdk-bench-compare):
 *  - pools of lcores * (512 + 512) - 1 objects of 2048 bytes, without a
 *    cache and with a 512-object per-lcore cache, objects initialised with
 *    their index;
 *  - each lcore gets n_keep objects n_get_bulk at a time, then puts them
 *    back n_put_bulk at a time, 65536 objects per round, rounds until 5 s of
 *    TSC time have passed; "constant_n" rows call the same loop with the
 *    bulk sizes as compile-time constants; its cache looked up once
 *    (pdk_mempool_default_cache(), rte_mempool_default_cache() in DPDK's)
 *    and passed to every get and put (pdk_mempool_generic_get/_put);
 *  - rate_persec = objects got and put per second, summed over the lcores.
 * DPDK's other two sections (a pool from the default mbuf ops, which is the
 * same ring-backed pool as "without cache", and a user-owned cache) have no
 * PDK counterpart and are not run.
 *
 *   pdk-mempool-perf [EAL options] [-- [--row C:N:G:P:K:X]... [--seconds S]]
 * Without --row: DPDK's whole sequence (about 30 min on two lcores). Each
 * --row runs one row: cache size C (0 or 512), N cores, get bulk G, put
 * bulk P, keep K, constant X (0 or 1). --seconds changes the 5 s per row
 * (then the rate is no longer comparable with DPDK's).
 * Prints lines in dpdk-test's format.
 */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pdk_eal.h>
#include <pdk_mempool.h>

#include "bench_common.h"

#define N 65536
#define MEMPOOL_ELT_SIZE 2048
#define MAX_KEEP 512
#define CACHE_SIZE PDK_MEMPOOL_CACHE_MAX_SIZE
#define CACHE_LINE_BURST (PDK_CACHE_LINE / sizeof(uintptr_t))
#define MAX_ROWS 512

/* One row of the table: what a test run does. */
struct row {
	unsigned cache, cores, get, put, keep, constant;
};

static unsigned time_s = 5;
static _Atomic unsigned synchro;
/* The row the lcores run (written by the main lcore before the launch). */
static struct row cur;

static struct {
	alignas(PDK_CACHE_LINE) uint64_t enq_count;
} stats[PDK_MAX_LCORES];

static unsigned mempool_size(void)
{
	return pdk_lcore_count() * (MAX_KEEP + CACHE_SIZE) - 1;
}

/* Number the object in its first 4 bytes, zero the rest. */
static void obj_init(struct pdk_mempool *mp, void *arg, void *obj,
		     unsigned idx)
{
	(void)arg;
	memset(obj, 0, mp->elt_size);
	*(uint32_t *)obj = idx;
}

static PDK_ALWAYS_INLINE int test_loop(struct pdk_mempool *mp,
				       struct pdk_mempool_lcore *cache,
				       unsigned x_keep, unsigned x_get_bulk,
				       unsigned x_put_bulk)
{
	void *obj_table[MAX_KEEP] PDK_CACHE_ALIGNED;
	unsigned idx;
	int ret;

	for (unsigned i = 0; pdk_likely(i < N / x_keep); i++) {
		for (idx = 0; idx < x_keep; idx += x_get_bulk) {
			ret = pdk_mempool_generic_get(mp, &obj_table[idx],
						      x_get_bulk, cache);
			if (pdk_unlikely(ret < 0))
				return ret;
		}
		for (idx = 0; idx < x_keep; idx += x_put_bulk)
			pdk_mempool_generic_put(mp, &obj_table[idx], x_put_bulk,
						cache);
	}
	return 0;
}

static int run_loop(struct pdk_mempool *mp, struct pdk_mempool_lcore *cache)
{
	if (!cur.constant)
		return test_loop(mp, cache, cur.keep, cur.get, cur.put);
	if (cur.get == 1)
		return test_loop(mp, cache, cur.keep, 1, 1);
	if (cur.get == 4)
		return test_loop(mp, cache, cur.keep, 4, 4);
	if (cur.get == CACHE_LINE_BURST)
		return test_loop(mp, cache, cur.keep, CACHE_LINE_BURST,
				 CACHE_LINE_BURST);
	if (cur.get == 32)
		return test_loop(mp, cache, cur.keep, 32, 32);
	return -EINVAL;
}

static int per_lcore_test(void *arg)
{
	struct pdk_mempool *mp = arg;
	unsigned lcore = pdk_lcore_id();
	/* Looked up once, as DPDK's test does (rte_mempool_default_cache()). */
	struct pdk_mempool_lcore *cache = pdk_mempool_default_cache(mp);
	uint64_t start, hz = pdk_get_tsc_hz(), diff = 0;
	int ret = 0;

	stats[lcore].enq_count = 0;
	if (lcore != pdk_lcore_main())
		while (atomic_load_explicit(&synchro, memory_order_relaxed) != 1)
			pdk_pause();
	start = pdk_rdtsc();
	while (diff / hz < time_s) {
		ret = run_loop(mp, cache);
		if (ret < 0) {
			fprintf(stderr, "lcore %u: get failed: %s\n", lcore,
				strerror(-ret));
			break;
		}
		diff = pdk_rdtsc() - start;
		stats[lcore].enq_count += N;
	}
	return ret;
}

static int launch_cores(struct pdk_mempool *mp, const struct row *rw)
{
	unsigned lc, left = rw->cores;
	uint64_t rate = 0;
	int ret;

	cur = *rw;
	atomic_store(&synchro, 0);
	memset(stats, 0, sizeof(stats));
	printf("mempool_autotest cache=%u cores=%u n_get_bulk=%u n_put_bulk=%u "
	       "n_keep=%u constant_n=%u ", rw->cache, rw->cores, rw->get, rw->put,
	       rw->keep, rw->constant);
	fflush(stdout);
	if (pdk_mempool_avail_count(mp) != mempool_size()) {
		printf("mempool is not full\n");
		return -1;
	}
	PDK_LCORE_FOREACH_WORKER(lc) {
		if (left-- == 1)
			break;
		pdk_eal_remote_launch(per_lcore_test, mp, lc);
	}
	atomic_store(&synchro, 1);
	ret = per_lcore_test(mp);
	if (pdk_eal_mp_wait_lcore() != 0 || ret < 0) {
		printf("per-lcore test returned -1\n");
		return -1;
	}
	for (lc = 0; lc < PDK_MAX_LCORES; lc++)
		rate += stats[lc].enq_count / time_s;
	printf("rate_persec=%" PRIu64 "\n", rate);
	fflush(stdout);
	return 0;
}

static bool row_valid(const struct row *rw)
{
	return rw->get && rw->put && rw->keep <= MAX_KEEP &&
	       rw->keep % rw->get == 0 && rw->keep % rw->put == 0 &&
	       (rw->cache == 0 || rw->cache == CACHE_SIZE) && rw->cores >= 1 &&
	       (!rw->constant || rw->get == rw->put);
}

/* DPDK's order for one pool and one number of cores. */
static unsigned sequence_rows(struct row *out, unsigned cache, unsigned cores)
{
	static const unsigned bulks[] = {1, 4, CACHE_LINE_BURST, 32};
	static const unsigned keeps[] = {32, 128, 512};
	unsigned n = 0;

	for (unsigned g = 0; g < PDK_DIM(bulks); g++)
		for (unsigned p = 0; p < PDK_DIM(bulks); p++)
			for (unsigned k = 0; k < PDK_DIM(keeps); k++) {
				struct row rw = {cache, cores, bulks[g], bulks[p],
						 keeps[k], 0};

				out[n++] = rw;
				if (bulks[g] == bulks[p]) {
					rw.constant = 1;
					out[n++] = rw;
				}
			}
	return n;
}

static unsigned full_sequence(struct row *out)
{
	const unsigned cores[] = {1, 2, pdk_lcore_count()};
	unsigned n = 0;

	for (unsigned cache = 0; cache <= CACHE_SIZE; cache += CACHE_SIZE)
		for (unsigned c = 0; c < PDK_DIM(cores); c++)
			n += sequence_rows(out + n, cache, cores[c]);
	return n;
}

static const char usage[] =
	"usage: pdk-mempool-perf [EAL options] [-- [--row C:N:G:P:K:X]... "
	"[--seconds S]]\n"
	"  --row C:N:G:P:K:X  run one row: cache 0|512, cores, get bulk, put "
	"bulk,\n"
	"                     keep, constant 0|1 (default: DPDK's sequence)\n"
	"  --seconds S        seconds per row (default 5, as DPDK)\n";

static int parse_args(int argc, char **argv, struct row *rows)
{
	static const struct option opts[] = {{"row", required_argument, 0, 'r'},
					     {"seconds", required_argument, 0, 's'},
					     {0, 0, 0, 0}};
	unsigned n = 0;
	int c;

	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		struct row rw;

		if (c == 's' && sscanf(optarg, "%u", &time_s) == 1 && time_s > 0)
			continue;
		if (c == 'r' && n < MAX_ROWS &&
		    sscanf(optarg, "%u:%u:%u:%u:%u:%u", &rw.cache, &rw.cores,
			   &rw.get, &rw.put, &rw.keep, &rw.constant) == 6 &&
		    row_valid(&rw)) {
			rows[n++] = rw;
			continue;
		}
		fprintf(stderr, "bad option %s %s\n%s", argv[optind - 1],
			optarg ? optarg : "", usage);
		exit(1);
	}
	return (int)n;
}

static struct pdk_mempool *make_pool(const char *name, unsigned cache)
{
	struct pdk_mempool *mp = pdk_mempool_create(
		name, mempool_size(), MEMPOOL_ELT_SIZE, cache, 0, obj_init, NULL,
		PDK_SOCKET_ANY, 0);

	if (mp == NULL) {
		fprintf(stderr, "pdk_mempool_create(%s): %s\n", name,
			strerror(errno));
		exit(1);
	}
	return mp;
}

int main(int argc, char **argv)
{
	static struct row rows[MAX_ROWS];
	struct pdk_mempool *pools[2];
	unsigned section = 2; /* none printed yet */
	int n;

	argc = bench_eal_init(argc, argv, usage) + 1;
	n = parse_args(argc, argv, rows);
	if (n == 0)
		n = (int)full_sequence(rows);
	pools[0] = make_pool("perf_test_nocache", 0);
	pools[1] = make_pool("perf_test_cache", CACHE_SIZE);
	for (int i = 0; i < n; i++) {
		unsigned s = rows[i].cache ? 1 : 0;

		if (s != section)
			printf("start performance test (%s cache)\n",
			       s ? "with" : "without");
		section = s;
		if (launch_cores(pools[s], &rows[i]) < 0)
			return 1;
	}
	pdk_mempool_free(pools[0]);
	pdk_mempool_free(pools[1]);
	pdk_eal_cleanup();
	return 0;
}
