/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * BAR accessors: the fast path. Do not include directly; include
 * <pdk_vfio.h>.
 *
 * A BAR that the plan maps whole is accessed with one load or store, no
 * syscall. Otherwise (holes around an MSI-X table, sparse areas, no mmap)
 * the out-of-line pdk_vfio_bar_*_slow() uses the mapping when it covers the
 * register and falls back to read/write on the device, counting those.
 *
 * Ordering: a write is preceded by an I/O write barrier, so descriptors
 * written to DMA memory before a doorbell write are visible to the device
 * first; a read is followed by an I/O read barrier, so DMA memory read after
 * a status register is at least as new. Registers are little-endian.
 */
#ifndef PDK_VFIO_INLINE_H
#define PDK_VFIO_INLINE_H

/* Normally reached from the end of pdk_vfio.h; a direct include still
 * gets the declarations it needs. */
#include <pdk_vfio.h>

#include <endian.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Barriers between memory accesses and MMIO (x86 keeps stores and loads in
 * order with respect to uncached MMIO, so a compiler barrier suffices). */
static inline void pdk_io_wmb(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__asm__ volatile("" ::: "memory");
#elif defined(__aarch64__)
	__asm__ volatile("dmb oshst" ::: "memory");
#else
	__sync_synchronize();
#endif
}

static inline void pdk_io_rmb(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__asm__ volatile("" ::: "memory");
#elif defined(__aarch64__)
	__asm__ volatile("dmb oshld" ::: "memory");
#else
	__sync_synchronize();
#endif
}

/* True when [off, off+size) is inside a BAR mapped whole. */
static inline bool pdk_vfio_bar_fast(const struct pdk_vfio_bar *bar, uint64_t off,
				     unsigned size)
{
	return pdk_likely(bar->whole && off < bar->size && bar->size - off >= size &&
			  (off & (size - 1)) == 0);
}

static inline uint8_t pdk_vfio_bar_read8(const struct pdk_vfio_bar *bar, uint64_t off)
{
	uint8_t v;

	if (!pdk_vfio_bar_fast(bar, off, 1))
		return (uint8_t)pdk_vfio_bar_read_slow(bar, off, 1);
	v = *(const volatile uint8_t *)(bar->addr + off);
	pdk_io_rmb();
	return v;
}

static inline uint16_t pdk_vfio_bar_read16(const struct pdk_vfio_bar *bar, uint64_t off)
{
	uint16_t v;

	if (!pdk_vfio_bar_fast(bar, off, 2))
		return (uint16_t)pdk_vfio_bar_read_slow(bar, off, 2);
	v = *(const volatile uint16_t *)(const void *)(bar->addr + off);
	pdk_io_rmb();
	return le16toh(v);
}

static inline uint32_t pdk_vfio_bar_read32(const struct pdk_vfio_bar *bar, uint64_t off)
{
	uint32_t v;

	if (!pdk_vfio_bar_fast(bar, off, 4))
		return (uint32_t)pdk_vfio_bar_read_slow(bar, off, 4);
	v = *(const volatile uint32_t *)(const void *)(bar->addr + off);
	pdk_io_rmb();
	return le32toh(v);
}

static inline uint64_t pdk_vfio_bar_read64(const struct pdk_vfio_bar *bar, uint64_t off)
{
	uint64_t v;

	if (!pdk_vfio_bar_fast(bar, off, 8))
		return pdk_vfio_bar_read_slow(bar, off, 8);
	v = *(const volatile uint64_t *)(const void *)(bar->addr + off);
	pdk_io_rmb();
	return le64toh(v);
}

static inline void pdk_vfio_bar_write8(const struct pdk_vfio_bar *bar, uint64_t off,
				       uint8_t val)
{
	if (!pdk_vfio_bar_fast(bar, off, 1)) {
		pdk_vfio_bar_write_slow(bar, off, 1, val);
		return;
	}
	pdk_io_wmb();
	*(volatile uint8_t *)(bar->addr + off) = val;
}

static inline void pdk_vfio_bar_write16(const struct pdk_vfio_bar *bar, uint64_t off,
					uint16_t val)
{
	if (!pdk_vfio_bar_fast(bar, off, 2)) {
		pdk_vfio_bar_write_slow(bar, off, 2, val);
		return;
	}
	pdk_io_wmb();
	*(volatile uint16_t *)(void *)(bar->addr + off) = htole16(val);
}

static inline void pdk_vfio_bar_write32(const struct pdk_vfio_bar *bar, uint64_t off,
					uint32_t val)
{
	if (!pdk_vfio_bar_fast(bar, off, 4)) {
		pdk_vfio_bar_write_slow(bar, off, 4, val);
		return;
	}
	pdk_io_wmb();
	*(volatile uint32_t *)(void *)(bar->addr + off) = htole32(val);
}

static inline void pdk_vfio_bar_write64(const struct pdk_vfio_bar *bar, uint64_t off,
					uint64_t val)
{
	if (!pdk_vfio_bar_fast(bar, off, 8)) {
		pdk_vfio_bar_write_slow(bar, off, 8, val);
		return;
	}
	pdk_io_wmb();
	*(volatile uint64_t *)(void *)(bar->addr + off) = htole64(val);
}

#ifdef __cplusplus
}
#endif
#endif /* PDK_VFIO_INLINE_H */
