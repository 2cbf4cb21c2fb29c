/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A fake VFIO kernel for the unit tests: installed as lib/vfio's syscall
 * table, it answers the container, group and device ioctls from the state
 * below (including malformed replies), backs the device fd with a memfd so
 * mmap/pread/pwrite really reach "BAR" bytes, and records what it was asked.
 * Paths outside /dev/vfio go to the real open (lock files).
 * The device's sysfs side comes from fake_sysfs.h.
 */
#ifndef FAKE_KERNEL_H
#define FAKE_KERNEL_H

#include <stdbool.h>
#include <stdint.h>
#include <sys/resource.h>

#include <linux/vfio.h>

#include "fake_sysfs.h"

#define FK_BDF "0000:03:00.0"
#define FK_GROUP 7
#define FK_MAX_MAPS 128
#define FK_CFG_OFF 0x40 /* first standard capability */

struct fk_region {
	uint32_t flags;        /* VFIO_REGION_INFO_FLAG_* (CAPS is added) */
	uint64_t size;
	uint64_t offset;       /* in the device fd; fk_reset sets (i + 1) << 24 */
	uint8_t caps[512];     /* capability chain, as built by fk_cap_* */
	uint32_t caps_len;
	/* Malformed replies: when raw_len is set the reply is exactly raw
	 * (fixed struct included), cut to argsz like the kernel does. */
	uint8_t raw[512];
	uint32_t raw_len;
};

struct fk_map {
	uint64_t vaddr, iova, size;
};

struct fake_kernel {
	/* container */
	int api_version;
	bool type1v2;
	int set_iommu_errno;
	/* group */
	bool viable;
	int group_open_errno;      /* e.g. EBUSY, EACCES */
	/* device */
	uint32_t dev_flags;        /* VFIO_DEVICE_FLAGS_* */
	uint32_t num_regions, num_irqs;
	struct fk_region regions[VFIO_PCI_NUM_REGIONS];
	uint8_t config[4096];      /* region 7 content, written at open */
	struct vfio_irq_info irqs[VFIO_PCI_NUM_IRQS];
	uint32_t region_grow;      /* >0: each reply asks for this many more bytes */
	bool master_ro;            /* COMMAND's bus master bit does not stick */
	/* IOMMU */
	uint64_t pgsizes;
	int nr_ranges;             /* <0: no IOVA_RANGE capability */
	struct vfio_iova_range ranges[16];
	int64_t dma_avail;         /* <0: no DMA_AVAIL capability */
	uint16_t iova_cap_version;
	int map_errno;             /* next MAP_DMA fails with this */
	uint64_t unmap_short;      /* UNMAP_DMA reports this many bytes less */
	/* process */
	struct rlimit memlock;
	bool can_pin_unlimited;
	long page_size;
	/* records */
	struct fk_map maps[FK_MAX_MAPS];
	int nr_maps;
	int map_calls, unmap_calls, region_info_calls, reset_calls, set_irqs_calls;
	uint32_t last_irq_index, last_irq_flags, last_irq_count;
	int irq_fds[VFIO_PCI_NUM_IRQS][64]; /* eventfds given per index */
	int nr_mmaps;
	struct { uint64_t off, len; } mmaps[64]; /* device mmaps, region-relative to fd */
	int container_fd, group_fd, dev_fd; /* -1 when not open */
	bool group_attached, iommu_set;
};

extern struct fake_kernel fk;

/* Defaults: a viable group with an NVMe-like device (BAR0 16 KiB with the
 * MSI-X table at 0x2000 and PBA at 0x3000, 4 vectors; BAR2 8 KiB; config
 * space with PM, MSI-X and PCIe capabilities and AER), x86-like IOVA ranges
 * (the MSI window cut out), 4 KiB pages, no memlock limit. */
void fk_reset(void);
/* Put the fake in place of the kernel / restore the real one. */
void fk_install(void);
void fk_uninstall(void);

/* The usual fixture: fk_reset, a fake sysfs with FK_BDF bound to vfio-pci
 * in group FK_GROUP, the fake installed; and its undoing. */
void fk_start(void);

void fk_stop(void);

/* Capability builders, appended to a region's chain in order. */
void fk_cap_msix_mappable(struct fk_region *r);
void fk_cap_sparse(struct fk_region *r, uint32_t n, const struct vfio_region_sparse_mmap_area *a);
void fk_cap_raw(struct fk_region *r, uint16_t id, uint16_t version, const void *body,
		uint32_t body_len);

/* Config space: put MSI-X table/PBA at bar/offset. */
void fk_set_msix(uint32_t table_bar, uint32_t table_off, uint32_t pba_bar, uint32_t pba_off,
		 uint32_t nvec);
/* Remove the MSI-X capability from the chain. */
void fk_no_msix(void);

/* A temporary PDK_RUN_DIR for lock files. */
const char *fk_run_dir(void);

/* Byte offset of region `index` offset `off` in the device memfd, for
 * checking what a write did. */
uint32_t fk_dev_read32(uint32_t index, uint64_t off);
void fk_dev_write32(uint32_t index, uint64_t off, uint32_t v);

#ifdef PDK_TEST_H
#include <pdk_eal.h>

/* pdk_eal_init with 8 MiB of ordinary memory and no PCI scan, then fk_start(). */
static inline void fk_start_with_eal(void)
{
	TEST_ARGV(av, "prog", "-l", "0", "--no-huge", "-m", "8", "--no-pci",
		  "--log-level", "err");

	assert_true(pdk_eal_init(av_c, av) > 0);
	fk_start();
}
#endif

#endif /* FAKE_KERNEL_H */
