/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DMA memory: hugepage (or --no-huge memfd) memory set up by pdk_eal_init(),
 * one file-backed segment per NUMA node so it can be shared by fd and mapped
 * for DMA; IOVA translation; a DMA-safe allocator; named memzones.
 */
#ifndef PDK_MEMORY_H
#define PDK_MEMORY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pdk_common.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PDK_SOCKET_ANY (-1)

/* A contiguous virtual range of DMA memory on one NUMA node, backed by one
 * file (fd, offset). */
struct pdk_memseg {
	void *va;
	size_t len;
	size_t page_size;  /* 4 KiB with --no-huge, else the hugepage size */
	int socket;        /* NUMA node */
	int fd;            /* backing file, for sharing (vfio-user); -1 in PA
			      mode when pages were reordered by PA */
	uint64_t fd_offset;/* offset of `va` in that file */
	pdk_iova_t iova;   /* IOVA of va when the segment is IOVA-contiguous,
			      else PDK_BAD_IOVA (PA mode: per page) */
};

/* Call cb for each segment; stops at and returns the first nonzero result. */
typedef int (*pdk_memseg_cb)(const struct pdk_memseg *seg, void *arg);
PDK_API int pdk_memseg_walk(pdk_memseg_cb cb, void *arg);

/* The segment holding `va`, or NULL when it is not DMA memory. */
PDK_API const struct pdk_memseg *pdk_mem_virt2memseg(const void *va);

/*
 * IOVA of a byte of DMA memory in O(1); PDK_BAD_IOVA when `va` is not DMA
 * memory.
 */
PDK_API pdk_iova_t pdk_mem_virt2iova(const void *va);

/* True when [va, va+len) is DMA memory with contiguous IOVAs. */
PDK_API bool pdk_mem_iova_contig(const void *va, size_t len);

/* Physical address of any mapped byte from /proc/self/pagemap (root only);
 * PDK_BAD_IOVA on failure. */
PDK_API pdk_iova_t pdk_mem_virt2phys(const void *va);

/* Bytes of DMA memory in total and still free in the allocator. */
PDK_API size_t pdk_mem_total(void);
PDK_API size_t pdk_mem_free(void);

/*
 * DMA-safe allocation from EAL memory, cache-line aligned at least; `align`
 * is 0 or a power of two. `type` is a label for statistics (may be NULL).
 * Return NULL and set errno (ENOMEM, EINVAL) on failure.
 */
PDK_API void *pdk_malloc(const char *type, size_t size, unsigned align);
PDK_API void *pdk_zmalloc(const char *type, size_t size, unsigned align);
PDK_API void *pdk_malloc_socket(const char *type, size_t size, unsigned align,
				int socket);
PDK_API void *pdk_zmalloc_socket(const char *type, size_t size, unsigned align,
				 int socket);
PDK_API void pdk_free(void *ptr);

#define PDK_MEMZONE_NAMESIZE 32
/* The zone must have contiguous IOVAs (always true in VA mode). Without
 * it, in PA mode, a zone may span physically discontiguous hugepages: its
 * iova is then PDK_BAD_IOVA and each byte's IOVA comes from
 * pdk_mem_virt2iova(). pdk_malloc() always returns contiguous blocks. */
#define PDK_MEMZONE_IOVA_CONTIG 0x1

struct pdk_memzone {
	char name[PDK_MEMZONE_NAMESIZE];
	void *addr;
	pdk_iova_t iova; /* PDK_BAD_IOVA unless IOVA-contiguous */
	size_t len;
	int socket;
	unsigned flags;
};

/*
 * Reserve a named, zeroed zone of DMA memory. NULL with errno EEXIST (name
 * taken), ENAMETOOLONG, ENOMEM, EINVAL.
 */
PDK_API const struct pdk_memzone *pdk_memzone_reserve(const char *name,
						      size_t len, int socket,
						      unsigned flags);
PDK_API const struct pdk_memzone *
pdk_memzone_reserve_aligned(const char *name, size_t len, int socket,
			    unsigned flags, unsigned align);
PDK_API const struct pdk_memzone *pdk_memzone_lookup(const char *name);
PDK_API int pdk_memzone_free(const struct pdk_memzone *mz);

#ifdef __cplusplus
}
#endif
#endif /* PDK_MEMORY_H */
