/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Common macros for every PDK library and application: export marker,
 * branch hints, alignment and size helpers.
 */
#ifndef PDK_COMMON_H
#define PDK_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <assert.h>

#include <pdk_config.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Every exported function is declared with PDK_API; the rest is hidden. */
#define PDK_API __attribute__((visibility("default")))

#define pdk_likely(x)   __builtin_expect(!!(x), 1)
#define pdk_unlikely(x) __builtin_expect(!!(x), 0)

#define PDK_CACHE_LINE PDK_CACHE_LINE_SIZE
#define PDK_CACHE_ALIGNED __attribute__((aligned(PDK_CACHE_LINE_SIZE)))
#define PDK_ALWAYS_INLINE inline __attribute__((always_inline))
#define PDK_UNUSED __attribute__((unused))
#define PDK_FORMAT(a, b) __attribute__((format(printf, a, b)))

#define PDK_MIN(a, b) ((a) < (b) ? (a) : (b))
#define PDK_MAX(a, b) ((a) > (b) ? (a) : (b))
#define PDK_DIM(a) (sizeof(a) / sizeof((a)[0]))

/* Round to a power-of-two alignment `a`. */
#define PDK_ALIGN_FLOOR(v, a) ((v) & ~((__typeof__(v))(a) - 1))
#define PDK_ALIGN_CEIL(v, a) PDK_ALIGN_FLOOR((v) + ((__typeof__(v))(a) - 1), a)
#define PDK_IS_POWER_OF_2(n) ((n) != 0 && (((n) & ((n) - 1)) == 0))

#define PDK_KB (1024ULL)
#define PDK_MB (1024ULL * 1024)
#define PDK_GB (1024ULL * 1024 * 1024)

#define PDK_STR_(x) #x
#define PDK_STRINGIFY(x) PDK_STR_(x)

/* An I/O virtual address: what a device puts on the bus. */
typedef uint64_t pdk_iova_t;
#define PDK_BAD_IOVA ((pdk_iova_t)-1)

/* Pointer from a base and a byte offset. */
#define PDK_PTR_ADD(p, off) ((void *)((uintptr_t)(p) + (off)))
#define PDK_PTR_DIFF(a, b) ((uintptr_t)(a) - (uintptr_t)(b))

/* Smallest power of two >= v (v <= 2^63); 0 maps to 1. */
static inline uint64_t pdk_align64pow2(uint64_t v)
{
	if (v <= 1)
		return 1;
	return 1ULL << (64 - __builtin_clzll(v - 1));
}

/* Spin-wait hint for polling loops. */
static inline void pdk_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ volatile("yield" ::: "memory");
#endif
}

#ifdef __cplusplus
}
#endif
#endif /* PDK_COMMON_H */
