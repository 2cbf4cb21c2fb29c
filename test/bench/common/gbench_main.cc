// SPDX-License-Identifier: BSD-3-Clause
// main() of the Google Benchmark programs: Google Benchmark takes its
// --benchmark_* options, EAL gets the rest (default: --no-huge -m 256 -l 0-1).
#include <benchmark/benchmark.h>

#include "bench_common.h"

int main(int argc, char **argv)
{
	benchmark::Initialize(&argc, argv);
	bench_eal_init(argc, argv,
		       "usage: pdk-gbench-* [--benchmark_* options] [EAL options]\n"
		       "(--benchmark_list_tests, --benchmark_filter=REGEX, "
		       "--benchmark_format=json, ...)");
	benchmark::RunSpecifiedBenchmarks();
	benchmark::Shutdown();
	bench_eal_cleanup();
	return 0;
}
