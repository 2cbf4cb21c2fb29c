/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * VFIO devices and DMA domains, behind one interface whatever serves them:
 * the kernel's vfio-pci (type1v2 IOMMU) for "0000:03:00.0", or a vfio-user
 * server for "vfio-user:/run/pdk/nvme0.sock". Drivers never know which.
 *
 *   struct pdk_vfio_dev *d = pdk_vfio_dev_open("0000:03:00.0", 0);
 *   pdk_vfio_dev_map_bars(d);
 *   struct pdk_vfio_bar *bar0 = pdk_vfio_dev_bar(d, 0);
 *   uint32_t csts = pdk_vfio_bar_read32(bar0, 0x1c);
 *   pdk_vfio_dev_set_bus_master(d, true);
 *   ...
 *   pdk_vfio_dev_close(d);
 *
 * Opening the first device of a DMA domain maps all EAL DMA memory into it
 * (pdk_mem_virt2iova() gives the IOVA to program). BARs are mapped by the
 * policy of doc/vfio.md; registers outside every mapping are reached by
 * read/write on the device (slow, counted), never an MSI-X table through a
 * mapping. Every failure is logged with its reason and fix.
 */
#ifndef PDK_VFIO_H
#define PDK_VFIO_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include <pdk_common.h>
#include <pdk_pci.h>

#ifdef __cplusplus
extern "C" {
#endif

struct pdk_vfio_dev;
struct pdk_vfio_domain;

/* --------------------------------------------------------- devices -- */

/* Do not map EAL memory into the device's domain (inspection tools). */
#define PDK_VFIO_OPEN_NO_DMA 0x1

/*
 * Open a device by PCI address or "vfio-user:" socket path. NULL with errno
 * set on failure (the reason is logged: EBUSY in use by another process,
 * EPERM group not viable, ENODEV not bound to vfio-pci, ENOTSUP no backend,
 * ...).
 */
PDK_API struct pdk_vfio_dev *pdk_vfio_dev_open(const char *name, unsigned flags);

/* Disable interrupts, unmap BARs, release the device (and its domain when
 * it was the last device). NULL is ignored. */
PDK_API void pdk_vfio_dev_close(struct pdk_vfio_dev *dev);

PDK_API const char *pdk_vfio_dev_name(const struct pdk_vfio_dev *dev);
/* "kernel" or "vfio-user". */
PDK_API const char *pdk_vfio_dev_backend(const struct pdk_vfio_dev *dev);
PDK_API struct pdk_vfio_domain *pdk_vfio_dev_domain(struct pdk_vfio_dev *dev);

#define PDK_VFIO_DEV_RESET 0x1 /* the device offers a reset */
#define PDK_VFIO_DEV_PCI   0x2

struct pdk_vfio_dev_info {
	uint32_t flags;       /* PDK_VFIO_DEV_* */
	uint32_t num_regions;
	uint32_t num_irqs;
	int iommu_group;      /* -1 when not a kernel device */
	uint64_t page_size;   /* host page size the BAR plans use */
};
PDK_API int pdk_vfio_dev_info(const struct pdk_vfio_dev *dev, struct pdk_vfio_dev_info *info);

/* Reset the device. -ENOTSUP when it offers no reset. */
PDK_API int pdk_vfio_dev_reset(struct pdk_vfio_dev *dev);

/* Set or clear bus mastering in COMMAND and read it back. -EIO when the bit
 * did not stick. */
PDK_API int pdk_vfio_dev_set_bus_master(struct pdk_vfio_dev *dev, bool on);

/* The device's config space (region 7) as a lib/pci accessor. */
PDK_API const struct pdk_pci_cfg *pdk_vfio_dev_cfg(struct pdk_vfio_dev *dev);

/* --------------------------------------------------------- regions -- */

/* Region indexes of a PCI device: BAR0..5, ROM, config space, VGA. */
#define PDK_VFIO_PCI_BAR_COUNT     6
#define PDK_VFIO_PCI_ROM_REGION    6
#define PDK_VFIO_PCI_CONFIG_REGION 7

#define PDK_VFIO_REGION_READ          0x01
#define PDK_VFIO_REGION_WRITE         0x02
#define PDK_VFIO_REGION_MMAP          0x04
#define PDK_VFIO_REGION_MSIX_MAPPABLE 0x08 /* capability: table may be mapped */
#define PDK_VFIO_REGION_SPARSE        0x10 /* capability: only `areas` map */
#define PDK_VFIO_REGION_SPARSE_BAD    0x20 /* sparse capability unusable */
#define PDK_VFIO_REGION_TYPE          0x40 /* type/subtype are valid */

#define PDK_VFIO_MAX_SPARSE 16

struct pdk_vfio_area {
	uint64_t offset;
	uint64_t size;
};

/* A region as the backend reported it, parsed and checked. */
struct pdk_vfio_region {
	uint32_t index;
	uint32_t flags;      /* PDK_VFIO_REGION_* */
	uint64_t size;
	int fd;              /* what to mmap/pread: the kernel's device fd, or a
				region fd from a vfio-user server (-1: none) */
	uint64_t offset;     /* the region's offset in `fd`, as reported: never
				computed */
	uint32_t nr_areas;   /* sparse areas (with REGION_SPARSE) */
	struct pdk_vfio_area areas[PDK_VFIO_MAX_SPARSE];
	uint32_t type, subtype;
	uint32_t cap_ids;    /* bit n: a capability with id n was present */
};

/* Info of region `index` (cached at open). 0, -EINVAL or -ENOENT. */
PDK_API int pdk_vfio_dev_region(const struct pdk_vfio_dev *dev, uint32_t index,
				struct pdk_vfio_region *out);

/* Read/write `len` bytes of a region through the backend (no mapping).
 * Returns len or -errno. */
PDK_API ssize_t pdk_vfio_dev_region_read(struct pdk_vfio_dev *dev, uint32_t index,
					 void *buf, size_t len, uint64_t off);
PDK_API ssize_t pdk_vfio_dev_region_write(struct pdk_vfio_dev *dev, uint32_t index,
					  const void *buf, size_t len, uint64_t off);

/* ------------------------------------------------- BAR mapping plan -- */

/* Which rule of the policy decided a BAR's mapping. */
enum pdk_vfio_policy {
	PDK_VFIO_POLICY_ABSENT = 0,    /* no such BAR (size 0) */
	PDK_VFIO_POLICY_MSIX_MAPPABLE, /* 1: MSI-X BAR the kernel lets us map whole */
	PDK_VFIO_POLICY_SPARSE,        /* 2: only the kernel's sparse areas */
	PDK_VFIO_POLICY_AROUND_MSIX,   /* 3: around the MSI-X table and PBA pages */
	PDK_VFIO_POLICY_WHOLE,         /* 4: the whole BAR */
	PDK_VFIO_POLICY_SLOW_ONLY,     /* no mmap: read/write only */
};

/* Why a range is mapped or left to the slow path. */
enum pdk_vfio_why {
	PDK_VFIO_WHY_WHOLE = 0,        /* mapped: no MSI-X table in this BAR */
	PDK_VFIO_WHY_MSIX_MAPPABLE,    /* mapped: kernel allows mapping the table page */
	PDK_VFIO_WHY_SPARSE_AREA,      /* mapped: a sparse area */
	PDK_VFIO_WHY_OUTSIDE_MSIX,     /* mapped: clear of MSI-X table/PBA pages */
	PDK_VFIO_WHY_NO_MMAP,          /* slow: region cannot be mapped */
	PDK_VFIO_WHY_NOT_SPARSE,       /* slow: outside every sparse area */
	PDK_VFIO_WHY_BAD_AREA,         /* slow: a sparse area we had to reject
					  (misaligned, overlapping, over the MSI-X
					  table, outside the BAR) */
	PDK_VFIO_WHY_SPARSE_UNUSABLE,  /* slow: sparse capability not understood */
	PDK_VFIO_WHY_MSIX_TABLE,       /* slow: page(s) of the MSI-X table */
	PDK_VFIO_WHY_MSIX_PBA,         /* slow: page(s) of the PBA */
	PDK_VFIO_WHY_MSIX_TABLE_PBA,   /* slow: pages of both */
};

struct pdk_vfio_range {
	uint64_t offset;
	uint64_t len;
	enum pdk_vfio_why why;
};

#define PDK_VFIO_PLAN_MAX (2 * PDK_VFIO_MAX_SPARSE + 2)

struct pdk_vfio_plan {
	uint32_t bar;
	uint64_t size;
	uint64_t page_size;
	enum pdk_vfio_policy policy;
	uint32_t nr_mapped;
	struct pdk_vfio_range mapped[PDK_VFIO_PLAN_MAX];
	uint32_t nr_slow;
	struct pdk_vfio_range slow[PDK_VFIO_PLAN_MAX];
};

/*
 * The mapping policy as a pure function: region info, where the MSI-X
 * table and PBA are (NULL: no MSI-X) and the host page size give the plan.
 * Mapped and slow ranges are sorted, disjoint and together cover the BAR.
 * 0 or -EINVAL (page size not a power of two, region not a BAR).
 */
PDK_API int pdk_vfio_plan_bar(const struct pdk_vfio_region *region,
			      const struct pdk_pci_msix_info *msix, uint64_t page_size,
			      struct pdk_vfio_plan *plan);

/* The plan of an open device's BAR. */
PDK_API int pdk_vfio_dev_plan(const struct pdk_vfio_dev *dev, uint32_t bar,
			      struct pdk_vfio_plan *plan);

PDK_API const char *pdk_vfio_policy_str(enum pdk_vfio_policy p);
PDK_API const char *pdk_vfio_why_str(enum pdk_vfio_why w);

/* ------------------------------------------------------------- BARs -- */

/* A BAR as the accessors see it. Read-only for users. */
struct pdk_vfio_bar {
	uint8_t *addr;            /* base of the BAR's mapping, NULL if none */
	uint64_t size;
	bool whole;               /* every offset is mapped */
	uint32_t index;
	struct pdk_vfio_dev *dev;
};

/* Map every BAR by its plan (idempotent). 0 or -errno. */
PDK_API int pdk_vfio_dev_map_bars(struct pdk_vfio_dev *dev);

/* BAR `index` (0..5), mapped or not; NULL + errno ENOENT when absent. */
PDK_API struct pdk_vfio_bar *pdk_vfio_dev_bar(struct pdk_vfio_dev *dev, unsigned index);

/* Out-of-line part of the BAR accessors (pdk_vfio_inline.h): uses the
 * mapping when a mapped range covers [off, off+size), else reads/writes
 * the region (counted). size is 1, 2, 4 or 8 and off must be aligned to
 * it. A failed read returns all-ones (as a gone device would). */
PDK_API uint64_t pdk_vfio_bar_read_slow(const struct pdk_vfio_bar *bar, uint64_t off,
					unsigned size);
PDK_API void pdk_vfio_bar_write_slow(const struct pdk_vfio_bar *bar, uint64_t off,
				     unsigned size, uint64_t val);

struct pdk_vfio_dev_stats {
	uint64_t slow_reads[PDK_VFIO_PCI_BAR_COUNT];  /* BAR accesses that */
	uint64_t slow_writes[PDK_VFIO_PCI_BAR_COUNT]; /* went through read/write */
};
PDK_API int pdk_vfio_dev_stats(const struct pdk_vfio_dev *dev, struct pdk_vfio_dev_stats *st);

/* ------------------------------------------------------- interrupts -- */

/* IRQ indexes of a PCI device. */
#define PDK_VFIO_PCI_INTX_IRQ 0
#define PDK_VFIO_PCI_MSI_IRQ  1
#define PDK_VFIO_PCI_MSIX_IRQ 2
#define PDK_VFIO_PCI_ERR_IRQ  3
#define PDK_VFIO_PCI_REQ_IRQ  4
#define PDK_VFIO_PCI_NUM_IRQS 5

#define PDK_VFIO_IRQ_EVENTFD    0x1
#define PDK_VFIO_IRQ_MASKABLE   0x2
#define PDK_VFIO_IRQ_AUTOMASKED 0x4
#define PDK_VFIO_IRQ_NORESIZE   0x8

struct pdk_vfio_irq_info {
	uint32_t index;
	uint32_t flags; /* PDK_VFIO_IRQ_* */
	uint32_t count;
};
PDK_API int pdk_vfio_dev_irq_info(const struct pdk_vfio_dev *dev, uint32_t index,
				  struct pdk_vfio_irq_info *out);

/*
 * Enable `nvec` MSI-X vectors, each signalling its own eventfd (nonblocking,
 * owned by the library), returned in fds[0..nvec). 0, -EINVAL (more vectors
 * than the device has), -EBUSY (already enabled) or -errno.
 */
PDK_API int pdk_vfio_msix_enable(struct pdk_vfio_dev *dev, unsigned nvec, int *fds);
PDK_API int pdk_vfio_msix_disable(struct pdk_vfio_dev *dev);

/*
 * Control events, delivered on the one control thread shared by every
 * device: the kernel asking for the device back (unbind, hot-unplug) and
 * device errors (AER). A callback must not block and must not close the
 * device: to give it back, tell another thread, which calls
 * pdk_vfio_dev_close() (that waits for a running callback to return).
 */
enum pdk_vfio_event {
	PDK_VFIO_EVENT_REQUEST = 1,
	PDK_VFIO_EVENT_ERROR = 2,
};
typedef void (*pdk_vfio_event_cb)(struct pdk_vfio_dev *dev, enum pdk_vfio_event ev,
				  void *arg);
/* 0, -EEXIST, -ENOSPC (8 callbacks at most). */
PDK_API int pdk_vfio_event_register(pdk_vfio_event_cb cb, void *arg);
PDK_API int pdk_vfio_event_unregister(pdk_vfio_event_cb cb, void *arg);
PDK_API const char *pdk_vfio_event_str(enum pdk_vfio_event ev);

/* Watch another fd (a driver's link interrupt) on the control thread:
 * fn runs each time it is readable. 0 or -errno. */
PDK_API int pdk_vfio_ctl_fd_register(int fd, void (*fn)(int fd, void *arg), void *arg);
PDK_API int pdk_vfio_ctl_fd_unregister(int fd);

/* ------------------------------------------------------ DMA domains -- */

#define PDK_VFIO_MAX_IOVA_RANGES 64

struct pdk_vfio_iova_range {
	uint64_t start;
	uint64_t end; /* inclusive */
};

struct pdk_vfio_iommu_info {
	uint64_t pgsizes;        /* bitmap of IOMMU page sizes, 0 unknown */
	bool ranges_known;       /* else any IOVA is assumed valid */
	uint32_t nr_ranges;
	struct pdk_vfio_iova_range ranges[PDK_VFIO_MAX_IOVA_RANGES];
	int64_t dma_avail;       /* mappings the IOMMU still allows, -1 unknown */
	uint32_t nr_mappings;    /* ours, in this domain */
	uint64_t mapped_bytes;
};

/* Current IOMMU info of a domain (queried afresh). 0 or -errno. */
PDK_API int pdk_vfio_domain_info(struct pdk_vfio_domain *dom, struct pdk_vfio_iommu_info *info);

/*
 * Make [va, va+len) reachable by the domain's devices: a user buffer, or
 * another device's mapped BAR (peer-to-peer). va and len must be multiples
 * of the IOMMU page size. *iova receives the address to program: va itself
 * when it fits the IOMMU's ranges, else one allocated inside them.
 * 0 or -errno (the reason, and the fix, is logged).
 */
PDK_API int pdk_vfio_dma_map(struct pdk_vfio_domain *dom, void *va, size_t len,
			     pdk_iova_t *iova);
/* Undo exactly one pdk_vfio_dma_map (same va and len). 0, -ENOENT. */
PDK_API int pdk_vfio_dma_unmap(struct pdk_vfio_domain *dom, void *va, size_t len);

struct pdk_vfio_dma_mapping {
	void *va;
	pdk_iova_t iova;
	uint64_t len;
	bool eal;       /* EAL memory (mapped at open) rather than pdk_vfio_dma_map */
};
/* Copy at most `max` mappings of the domain; returns how many it has. */
PDK_API int pdk_vfio_domain_mappings(struct pdk_vfio_domain *dom,
				     struct pdk_vfio_dma_mapping *out, int max);

#ifdef __cplusplus
}
#endif

#include <pdk_vfio_inline.h>

#endif /* PDK_VFIO_H */
