// SPDX-License-Identifier: BSD-3-Clause
// Helpers of the Google Benchmark programs.
#ifndef PDK_GBENCH_COMMON_HPP
#define PDK_GBENCH_COMMON_HPP

#include <cstdint>
#include <string>
#include <utility>

#include <benchmark/benchmark.h>

namespace gbench {

// Register a benchmark timed by the wall clock: rdtsc-based counters and
// work on other lcores are wall-clock too.
template <class... Args> void add(const std::string &name, Args &&...args)
{
	benchmark::RegisterBenchmark(name.c_str(), std::forward<Args>(args)...)
		->UseRealTime();
}

// items_per_second, and "cycles/elem": TSC ticks per element.
inline void report(benchmark::State &st, uint64_t ticks, uint64_t elems)
{
	st.SetItemsProcessed(static_cast<int64_t>(elems));
	st.counters["cycles/elem"] =
		elems ? static_cast<double>(ticks) / static_cast<double>(elems) : 0;
}

} // namespace gbench

#endif
