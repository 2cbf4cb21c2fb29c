/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Environment abstraction layer: command-line options, lcores, memory.
 *
 *   int n = pdk_eal_init(argc, argv);
 *   if (n < 0) exit(1);            // the reason was logged
 *   argc -= n; argv += n;          // argv[0] is the program name again
 *   ... parse the application's own options ...
 *   pdk_eal_cleanup();
 */
#ifndef PDK_EAL_H
#define PDK_EAL_H

#include <stdbool.h>
#include <stdint.h>

#include <pdk_common.h>
#include <pdk_lcore.h>
#include <pdk_log.h>
#include <pdk_memory.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Parse the EAL options, start one pinned thread per worker lcore and set up
 * DMA memory. Options stop at the first "--" or the first argument that is
 * not an EAL option. Returns the number of arguments consumed (argv[n] is
 * set to argv[0]), -ECANCELED when -h/--help was given (print
 * pdk_eal_usage() and exit 0), or another negative errno after logging why.
 */
PDK_API int pdk_eal_init(int argc, char **argv);

/* Stop worker threads and release memory. Safe to call after a failed init. */
PDK_API int pdk_eal_cleanup(void);

/* The text that -h shows: every EAL option and its valid forms. */
PDK_API const char *pdk_eal_usage(void);

/* The message of the last pdk_eal_init() failure ("" when none). */
PDK_API const char *pdk_eal_last_error(void);

enum pdk_iova_mode {
	PDK_IOVA_DC = 0, /* not decided (auto) */
	PDK_IOVA_VA = 1,
	PDK_IOVA_PA = 2,
};

PDK_API enum pdk_iova_mode pdk_eal_iova_mode(void);

/* True when DMA memory is backed by hugepages (no --no-huge). */
PDK_API bool pdk_eal_has_hugepages(void);

/* The --file-prefix in effect (default "pdk"). */
PDK_API const char *pdk_eal_file_prefix(void);

/*
 * Device lists from -a/--allow and -b/--block. A device is a PCI address
 * ("0000:03:00.0") or a vfio-user socket ("vfio-user:/run/pdk/nvme0.sock").
 * With an allow list only listed devices are allowed; a blocked one never is.
 */
PDK_API bool pdk_eal_dev_allowed(const char *name);
/* Number of -a entries, and the i-th device name and its ",key=value" args
 * (NULL when none). */
PDK_API int pdk_eal_allow_count(void);
PDK_API const char *pdk_eal_allow_name(int i);
PDK_API const char *pdk_eal_allow_args(int i);

/* --vdev entries: full string "net_null0,size=64". */
PDK_API int pdk_eal_vdev_count(void);
PDK_API const char *pdk_eal_vdev(int i);

/* --no-pci was given: do not scan the PCI bus. */
PDK_API bool pdk_eal_no_pci(void);

/* Monotonic time stamp counter and its frequency (ticks per second). */
PDK_API uint64_t pdk_get_tsc_hz(void);
static inline uint64_t pdk_rdtsc(void)
{
#if defined(__x86_64__) || defined(__i386__)
	return __builtin_ia32_rdtsc();
#else
	uint64_t v;
	__asm__ volatile("mrs %0, cntvct_el0" : "=r"(v));
	return v;
#endif
}

#ifdef __cplusplus
}
#endif
#endif /* PDK_EAL_H */
