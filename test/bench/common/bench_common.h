/* SPDX-License-Identifier: BSD-3-Clause */
/* Helpers shared by the benchmark programs (C and C++). */
#ifndef PDK_BENCH_COMMON_H
#define PDK_BENCH_COMMON_H

#include <stdbool.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Start EAL. Arguments up to the first "--" (all of them when there is
 * none) go to EAL; when there are none, the defaults are
 * `--no-huge -m 256 -l 0-1 --log-level=warning` (`-l 0` on one CPU).
 * Prints why and exits 1 when EAL fails; prints `usage` and EAL's options
 * and exits 0 for -h/--help. Returns the number of arguments after "--"
 * (they are moved to argv[1..], argv[0] stays).
 */
int bench_eal_init(int argc, char **argv, const char *usage);

/* Stop EAL (after bench_eal_init()). */
void bench_eal_cleanup(void);

/* TSC ticks now, and per second (C++ cannot include the EAL headers). */
uint64_t bench_rdtsc(void);
uint64_t bench_tsc_hz(void);

/* Median of v[0..n-1] (sorts v); 0 when n is 0. */
double bench_median(double *v, unsigned n);

#ifndef __cplusplus
/* TSC ticks `stmt` takes, read inline (for C files with pdk_eal.h). */
#define BENCH_TICKS(stmt)                                                     \
	__extension__({                                                       \
		uint64_t t0_ = pdk_rdtsc();                                   \
		stmt;                                                         \
		pdk_rdtsc() - t0_;                                            \
	})
#endif

#ifdef __cplusplus
}
#endif
#endif /* PDK_BENCH_COMMON_H */
