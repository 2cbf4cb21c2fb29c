/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Library-private state of lib/vfio: devices, domains, and the backend ops
 * table that the kernel (type1v2) and vfio-user client backends implement.
 *
 * Split of work: a backend answers questions about one device or domain
 * (region info, IRQ info, map this DMA range) in its own transport; the
 * common code (vfio_dev.c, vfio_bar.c, vfio_dma.c, vfio_irq.c) owns the
 * policy: BAR mapping plans, IOVA allocation, EAL memory, interrupts,
 * events, and the messages users read.
 */
#ifndef VFIO_PRIVATE_H
#define VFIO_PRIVATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "pdk_log.h"
#include "pdk_vfio.h"

#define VFIO_LOG "vfio"
#define VFIO_MAX_REGIONS 8  /* BAR0-5, ROM, config (VGA is never used) */
#define VFIO_ERR_MAX 512

struct pdk_vfio_domain;

/* One DMA mapping request, backend-neutral. A vfio-user backend shares the
 * memory by (fd, fd_offset); the kernel pins va. */
struct vfio_dma_req {
	void *va;
	uint64_t iova;
	uint64_t len;
	int fd;              /* -1 when the memory has no backing file */
	uint64_t fd_offset;
};

struct vfio_backend_ops {
	const char *name;          /* "kernel", "vfio-user" */
	bool pins_memory;          /* DMA mapping pins pages: RLIMIT_MEMLOCK applies */
	const char *entry_limit_hint; /* how to raise the DMA entry limit */

	/* Open `name`: set dev->domain (new or shared), dev->info, dev->priv,
	 * dev->page_size. Log the reason and fix on failure. 0 or -errno. */
	int (*open)(struct pdk_vfio_dev *dev, const char *name);
	/* Release the device (the domain stays: see domain_release). */
	void (*close)(struct pdk_vfio_dev *dev);

	/* Parsed, checked info of one region. 0 or -errno. */
	int (*region_info)(struct pdk_vfio_dev *dev, uint32_t index,
			   struct pdk_vfio_region *out);
	/* Slow path: exactly len bytes at off in the region; len or -errno. */
	ssize_t (*region_read)(struct pdk_vfio_dev *dev, const struct pdk_vfio_region *r,
			       void *buf, size_t len, uint64_t off);
	ssize_t (*region_write)(struct pdk_vfio_dev *dev, const struct pdk_vfio_region *r,
				const void *buf, size_t len, uint64_t off);
	/* Map [off, off+len) of the region at `fixed` (MAP_FIXED over our
	 * reservation). The address or MAP_FAILED with errno. */
	void *(*region_mmap)(struct pdk_vfio_dev *dev, const struct pdk_vfio_region *r,
			     uint64_t off, size_t len, int prot, void *fixed);

	int (*irq_info)(struct pdk_vfio_dev *dev, uint32_t index,
			struct pdk_vfio_irq_info *out);
	/* VFIO_DEVICE_SET_IRQS: flags are VFIO_IRQ_SET_*; fds has `count`
	 * entries for DATA_EVENTFD, else NULL. */
	int (*set_irqs)(struct pdk_vfio_dev *dev, uint32_t index, uint32_t flags,
			uint32_t start, uint32_t count, const int32_t *fds);
	int (*reset)(struct pdk_vfio_dev *dev);

	/* Domain: IOMMU info (ranges, page sizes, DMA_AVAIL). */
	int (*iommu_info)(struct pdk_vfio_domain *dom, struct pdk_vfio_iommu_info *out);
	/* Map: 0 or the raw -errno (the common code explains it). */
	int (*dma_map)(struct pdk_vfio_domain *dom, const struct vfio_dma_req *req);
	/* Unmap; *unmapped gets the size the backend says it removed. */
	int (*dma_unmap)(struct pdk_vfio_domain *dom, uint64_t iova, uint64_t len,
			 uint64_t *unmapped);
	/* The last device has left and every mapping is gone. */
	void (*domain_release)(struct pdk_vfio_domain *dom);
};

extern const struct vfio_backend_ops vfio_kernel_ops;
extern const struct vfio_backend_ops vfio_user_ops;

struct vfio_dma_entry {
	void *va;
	uint64_t iova;
	uint64_t len;
	bool eal;
	bool pinned;   /* counted against RLIMIT_MEMLOCK */
};

struct pdk_vfio_domain {
	const struct vfio_backend_ops *be;
	void *priv;                 /* the backend's */
	int refs;                   /* open devices */
	bool eal_mapped;
	struct pdk_vfio_iommu_info info; /* ranges and page sizes, at creation */
	struct vfio_dma_entry *maps;
	unsigned nr_maps, cap_maps;
};

struct vfio_bar_state {
	struct pdk_vfio_bar pub;
	struct pdk_vfio_plan plan;
	void *reserve;              /* PROT_NONE reservation, NULL when unmapped */
	size_t reserve_len;
};

struct pdk_vfio_dev {
	char name[PDK_PCI_NAME_MAX];
	const struct vfio_backend_ops *be;
	void *priv;                 /* the backend's */
	struct pdk_vfio_domain *domain;
	unsigned open_flags;
	pid_t owner;                /* a forked child does not own it */
	struct pdk_vfio_dev_info info;
	uint64_t page_size;

	struct pdk_vfio_region regions[VFIO_MAX_REGIONS];
	struct pdk_pci_cfg cfg;
	bool has_msix;
	struct pdk_pci_msix_info msix;
	struct vfio_bar_state bars[PDK_VFIO_PCI_BAR_COUNT];
	bool bars_mapped;
	_Atomic uint64_t slow_reads[PDK_VFIO_PCI_BAR_COUNT];
	_Atomic uint64_t slow_writes[PDK_VFIO_PCI_BAR_COUNT];

	int *msix_fds;
	unsigned msix_nvec;
	/* request and error IRQs, watched by the control thread */
	struct vfio_ctl_src {
		struct pdk_vfio_dev *dev;
		enum pdk_vfio_event ev;
		uint32_t irq_index;
		int fd;             /* eventfd, -1 when not registered */
	} ctl[2];

	struct pdk_vfio_dev *next;
};

/* vfio_dev.c: the global lock of the control path, and the open devices. */
extern pthread_mutex_t vfio_lock;
struct pdk_vfio_dev *vfio_dev_first(void);
bool vfio_va_in_bar(const void *va, size_t len);

/* vfio_info.c: capability chains (backend-neutral: vfio-user replies use
 * the same layout). */
typedef int (*vfio_cap_fn)(const uint8_t *buf, uint32_t len, uint32_t off,
			   uint16_t id, uint16_t version, void *arg);
int vfio_cap_walk(const void *buf, uint32_t len, uint32_t fixed, uint32_t first,
		  vfio_cap_fn fn, void *arg, char *err, size_t errlen);
int vfio_region_parse(const void *buf, uint32_t len, struct pdk_vfio_region *out,
		      char *err, size_t errlen);
int vfio_iommu_parse(const void *buf, uint32_t len, struct pdk_vfio_iommu_info *out,
		     char *err, size_t errlen);
/* VFIO_IRQ_INFO_* flags (kernel and vfio-user alike) as PDK_VFIO_IRQ_*. */
uint32_t vfio_irq_flags(uint32_t vfio_flags);

/* vfio_bar.c */
void vfio_bars_unmap(struct pdk_vfio_dev *dev);

/* vfio_dma.c: a device joins its domain (the first one fetches the IOMMU
 * info; EAL memory is mapped unless PDK_VFIO_OPEN_NO_DMA) and leaves it
 * (the last one unmaps everything, before the backend closes the device). */
int vfio_domain_attach(struct pdk_vfio_dev *dev);
void vfio_domain_detach(struct pdk_vfio_dev *dev);
/* After the backend closed the last device of the domain. */
void vfio_domain_release(struct pdk_vfio_domain *dom);

/* vfio_irq.c */
void vfio_irq_ctl_setup(struct pdk_vfio_dev *dev);
void vfio_irq_teardown(struct pdk_vfio_dev *dev);
int vfio_ctl_add(int fd, void (*fn)(int fd, void *arg), void *arg);
int vfio_ctl_del(int fd);

#endif /* VFIO_PRIVATE_H */
