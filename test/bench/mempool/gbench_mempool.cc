// SPDX-License-Identifier: BSD-3-Clause
// Mempool, mbuf and IOVA lookups with Google Benchmark, on the main lcore:
//  - mempool get+put of 1, 4, 8, 32 and 128 objects, without a cache and
//    with a 256-object per-lcore cache;
//  - mbuf alloc+free, one at a time and in bulks of 8 and 32;
//  - virt2iova of 1024 pool objects: from the object header
//    (pdk_mempool_virt2iova) and from EAL's memory map (pdk_mem_virt2iova).
//
//   pdk-gbench-mempool [--benchmark_filter=REGEX] [EAL options]
// "cycles/elem": TSC ticks per object (one get and one put, one alloc and
// one free, or one lookup).
#include <cstdint>
#include <string>

#include "gbench_common.hpp"
#include "gbench_mempool_ops.h"

namespace {

constexpr unsigned kReps = 64;     // operations per benchmark iteration
constexpr unsigned kObjs = 1024;   // objects virt2iova walks over

using gbench::report;

using PoolNew = pdk_mempool *(*)(unsigned);
using Loop = uint64_t (*)(pdk_mempool *, unsigned, unsigned);

pdk_mempool *mbuf_pool(unsigned) { return gb_mbuf_pool_new(); }

void pool_loop(benchmark::State &st, PoolNew make, unsigned cache, Loop loop,
	       unsigned bulk)
{
	pdk_mempool *mp = make(cache);
	uint64_t ticks = 0;

	if (mp == nullptr) {
		st.SkipWithError("cannot create the pool");
		return;
	}
	for (auto _ : st) {
		uint64_t t = loop(mp, bulk, kReps);

		if (t == UINT64_MAX) {
			st.SkipWithError("the pool ran out of objects");
			break;
		}
		ticks += t;
	}
	report(st, ticks, st.iterations() * uint64_t{kReps} * bulk);
	gb_mempool_free(mp);
}

using Lookup = uint64_t (*)(void *const *, unsigned, unsigned, uint64_t *);

void virt2iova(benchmark::State &st, Lookup lookup)
{
	pdk_mempool *mp = gb_mempool_new(0);
	void **objs = mp ? gb_objs_get(mp, kObjs) : nullptr;
	uint64_t ticks = 0, sink = 0;

	if (objs == nullptr) {
		st.SkipWithError("cannot create the pool");
		gb_mempool_free(mp);
		return;
	}
	for (auto _ : st)
		ticks += lookup(objs, kObjs, 1, &sink);
	benchmark::DoNotOptimize(sink);
	report(st, ticks, st.iterations() * uint64_t{kObjs});
	gb_objs_put(mp, objs, kObjs);
	gb_mempool_free(mp);
}

int register_all()
{
	for (unsigned cache : {0u, 256u})
		for (unsigned bulk : {1u, 4u, 8u, 32u, 128u})
			gbench::add(std::string("mempool/get_put/") +
					    (cache ? "cache_256/" : "no_cache/") +
					    std::to_string(bulk),
				    pool_loop, gb_mempool_new, cache,
				    gb_mempool_get_put, bulk);
	for (unsigned bulk : {1u, 8u, 32u})
		gbench::add("mbuf/alloc_free/" + std::to_string(bulk), pool_loop,
			    mbuf_pool, 0u, gb_mbuf_alloc_free, bulk);
	gbench::add("virt2iova/mempool_header", virt2iova, gb_virt2iova_hdr);
	gbench::add("virt2iova/eal_memseg", virt2iova, gb_virt2iova_memseg);
	return 0;
}

const int registered = register_all();

} // namespace
