/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Logical cores: one pinned thread per lcore given with -l/--lcores.
 * The first lcore of the list is the main lcore (the thread that called
 * pdk_eal_init); the others are workers waiting for pdk_eal_remote_launch().
 */
#ifndef PDK_LCORE_H
#define PDK_LCORE_H

#include <stdbool.h>

#include <pdk_common.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PDK_MAX_LCORES PDK_MAX_LCORE
/* lcore id of a thread that is not an EAL lcore. */
#define PDK_LCORE_ID_ANY UINT32_MAX

/* Thread-local lcore id; read it through pdk_lcore_id(). */
PDK_API extern _Thread_local unsigned pdk_lcore_id_tls;

/* The calling thread's lcore id, or PDK_LCORE_ID_ANY. */
static inline unsigned pdk_lcore_id(void)
{
	return pdk_lcore_id_tls;
}

PDK_API unsigned pdk_lcore_count(void);
PDK_API unsigned pdk_lcore_main(void);
PDK_API bool pdk_lcore_is_enabled(unsigned lcore);
/* The CPU an lcore is pinned to, and that CPU's NUMA node (-1 if unknown). */
PDK_API int pdk_lcore_to_cpu(unsigned lcore);
PDK_API int pdk_lcore_to_socket(unsigned lcore);
/* NUMA node of the calling thread's lcore (node 0 for non-EAL threads). */
PDK_API int pdk_socket_id(void);
/* Number of NUMA nodes the machine has (at least 1). */
PDK_API int pdk_socket_count(void);

/* Next enabled lcore after `i` (PDK_MAX_LCORES when none); starts at -1. */
PDK_API unsigned pdk_lcore_next(unsigned i, bool skip_main);

#define PDK_LCORE_FOREACH(i)                                                  \
	for ((i) = pdk_lcore_next((unsigned)-1, false); (i) < PDK_MAX_LCORES;  \
	     (i) = pdk_lcore_next((i), false))
#define PDK_LCORE_FOREACH_WORKER(i)                                           \
	for ((i) = pdk_lcore_next((unsigned)-1, true); (i) < PDK_MAX_LCORES;   \
	     (i) = pdk_lcore_next((i), true))

typedef int (*pdk_lcore_fn)(void *arg);

/*
 * Run fn(arg) on worker `lcore`. Returns 0, -EINVAL for a bad or main lcore,
 * -EBUSY when that lcore is still running something.
 */
PDK_API int pdk_eal_remote_launch(pdk_lcore_fn fn, void *arg, unsigned lcore);
/* Wait for `lcore` to finish; returns fn's return value (0 when idle). */
PDK_API int pdk_eal_wait_lcore(unsigned lcore);
/* Launch on every worker, then run fn on the main lcore too unless
 * skip_main. Returns a negative errno when a launch failed, else the main
 * lcore's return value (0 when skipped). */
PDK_API int pdk_eal_mp_remote_launch(pdk_lcore_fn fn, void *arg, bool skip_main);
/* Wait for every worker; returns the first nonzero return value, or 0. */
PDK_API int pdk_eal_mp_wait_lcore(void);

#ifdef __cplusplus
}
#endif
#endif /* PDK_LCORE_H */
