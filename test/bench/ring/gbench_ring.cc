// SPDX-License-Identifier: BSD-3-Clause
// Ring throughput with Google Benchmark: SP/SC and MP/MC; single, bulk and
// burst of 8, 32 and 128; enqueue+dequeue on one lcore, and a producer
// lcore feeding the consumer (the main lcore) on two.
//
//   pdk-gbench-ring [--benchmark_filter=REGEX] [EAL options]
// "cycles/elem": TSC ticks per element (one enqueue and one dequeue); times
// are wall-clock (the producer lcore works too).
#include <string>

#include "gbench_common.hpp"
#include "gbench_ring_ops.h"

namespace {

constexpr unsigned kReps = 64; // operations per benchmark iteration

using gbench::report;

void one_lcore(benchmark::State &st, bool multi, gb_ring_api api,
	       unsigned size)
{
	gb_ring *g = gb_ring_new(multi);
	uint64_t ticks = 0;

	if (g == nullptr) {
		st.SkipWithError("cannot create the ring");
		return;
	}
	for (auto _ : st)
		ticks += gb_ring_enq_deq(g, api, size, kReps);
	report(st, ticks, st.iterations() * uint64_t{kReps} * size);
	gb_ring_free(g);
}

void two_lcores(benchmark::State &st, bool multi, gb_ring_api api,
		unsigned size)
{
	gb_ring *g = gb_ring_new(multi);
	uint64_t ticks = 0;

	if (g == nullptr || !gb_ring_producer_start(g, api, size)) {
		st.SkipWithError("needs a ring and a worker lcore (-l 0-1)");
		gb_ring_free(g);
		return;
	}
	for (auto _ : st)
		ticks += gb_ring_consume(g, api, size, uint64_t{kReps} * size);
	gb_ring_producer_stop(g);
	report(st, ticks, st.iterations() * uint64_t{kReps} * size);
	gb_ring_free(g);
}

int register_all()
{
	struct Api {
		const char *name;
		gb_ring_api api;
	};
	const Api apis[] = {{"bulk", GB_RING_BULK}, {"burst", GB_RING_BURST}};

	for (bool two : {false, true}) {
		auto fn = two ? two_lcores : one_lcore;
		const std::string where = two ? "/2_lcores" : "/1_lcore";

		for (bool multi : {false, true}) {
			const std::string mode = multi ? "ring/MP_MC/" : "ring/SP_SC/";

			gbench::add(mode + "single" + where, fn, multi,
				    GB_RING_SINGLE, 1u);
			for (const Api &a : apis)
				for (unsigned size : {8u, 32u, 128u})
					gbench::add(mode + a.name + "/" +
						    std::to_string(size) + where,
						    fn, multi, a.api, size);
		}
	}
	return 0;
}

const int registered = register_all();

} // namespace
