/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * PCI devices and drivers.
 *
 * - Devices: pdk_pci_scan() reads /sys/bus/pci/devices (ids, class, NUMA
 *   node, kernel driver, IOMMU group), keeping those -a/-b allow. The PCI bus
 *   (lib/vfio) opens each device that a registered driver matches and calls
 *   the driver's probe with `vdev` filled in.
 * - Drivers: a static const struct pdk_pci_driver registered with
 *   PDK_PCI_DRIVER_REGISTER(); matched by an id table.
 * - Config space: accessors and capability walks over a read/write callback,
 *   so the same code runs over a vfio device, a byte buffer or a fuzzer.
 *
 *   static const struct pdk_pci_id ids[] = {
 *       {PDK_PCI_CLASS(0x010802, 0xffffff)},  // any NVMe controller
 *       {0},
 *   };
 *   static const struct pdk_pci_driver nvme = {
 *       .name = "nvme", .id_table = ids, .probe = nvme_probe,
 *       .remove = nvme_remove,
 *   };
 *   PDK_PCI_DRIVER_REGISTER(nvme)
 */
#ifndef PDK_PCI_H
#define PDK_PCI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pdk_common.h>
#include <pdk_pci_spec.h>

#ifdef __cplusplus
extern "C" {
#endif

struct pdk_vfio_dev;

/* ---------------------------------------------------------------- ids -- */

#define PDK_PCI_ANY_ID 0xffff

/*
 * One line of a driver's id table, and a device's own ids. A line matches
 * when each of vendor, device, subsystem vendor and subsystem device equals
 * the device's or is PDK_PCI_ANY_ID, and (class ^ device class) & class_mask
 * is 0. The table ends with a line whose vendor_id is 0.
 */
struct pdk_pci_id {
	uint16_t vendor_id;
	uint16_t device_id;
	uint16_t subsystem_vendor_id;
	uint16_t subsystem_device_id;
	uint32_t class_id;   /* base << 16 | sub-class << 8 | prog-if */
	uint32_t class_mask; /* 0: any class */
};

#define PDK_PCI_DEVICE(vend, dev)                                             \
	.vendor_id = (vend), .device_id = (dev),                              \
	.subsystem_vendor_id = PDK_PCI_ANY_ID,                                \
	.subsystem_device_id = PDK_PCI_ANY_ID, .class_id = 0, .class_mask = 0
#define PDK_PCI_CLASS(cls, mask)                                              \
	.vendor_id = PDK_PCI_ANY_ID, .device_id = PDK_PCI_ANY_ID,             \
	.subsystem_vendor_id = PDK_PCI_ANY_ID,                                \
	.subsystem_device_id = PDK_PCI_ANY_ID, .class_id = (cls),             \
	.class_mask = (mask)

/* True when table line `line` matches the device ids `id`. */
PDK_API bool pdk_pci_id_match(const struct pdk_pci_id *line,
			      const struct pdk_pci_id *id);

/* ------------------------------------------------------------ devices -- */

#define PDK_PCI_NAME_MAX 128
#define PDK_PCI_DRIVER_NAME_MAX 64

struct pdk_pci_addr {
	uint32_t domain;
	uint8_t bus;
	uint8_t devid;
	uint8_t function;
};

struct pdk_pci_driver;

struct pdk_pci_device {
	/* "0000:03:00.0", or "vfio-user:/run/pdk/nvme0.sock" */
	char name[PDK_PCI_NAME_MAX];
	struct pdk_pci_addr addr;  /* zero for vfio-user devices */
	struct pdk_pci_id id;      /* class_mask is unused */
	uint8_t revision;
	int numa_node;             /* -1 when unknown */
	char kdriver[PDK_PCI_DRIVER_NAME_MAX]; /* kernel driver now, "" none */
	int iommu_group;           /* -1 when the device has none */
	bool vfio_user;            /* served over a vfio-user socket */
	bool listed;               /* named with -a */

	struct pdk_vfio_dev *vdev; /* set by the bus before probe */
	const struct pdk_pci_driver *driver;
	void *driver_data;         /* the driver's own */

	struct pdk_pci_device *next; /* owned by lib/pci */
};

/*
 * Root of sysfs: $PDK_SYS_ROOT when set (tests point it at a fake tree),
 * else "/sys".
 */
PDK_API const char *pdk_pci_sysfs_root(void);

/*
 * Read one device's sysfs attributes into *dev (the device need not be in
 * the list). `bdf` may be short ("03:00.0"). 0, -EINVAL (bad address) or
 * -ENODEV (no such device).
 */
PDK_API int pdk_pci_device_read(const char *bdf, struct pdk_pci_device *dev);

/*
 * Scan sysfs and add every device that -a/-b allow to the device list.
 * Returns the number of devices added, or a negative errno. No PCI sysfs at
 * all (a container) is not an error: 0 devices.
 */
PDK_API int pdk_pci_scan(void);

/* Add a copy of *tmpl to the list (vfio-user devices); NULL + errno. */
PDK_API struct pdk_pci_device *pdk_pci_device_add(const struct pdk_pci_device *tmpl);

/* The listed device named `name` (PCI addresses are normalised), or NULL. */
PDK_API struct pdk_pci_device *pdk_pci_device_find(const char *name);

/* Iterate: pdk_pci_device_next(NULL) is the first device. */
PDK_API struct pdk_pci_device *pdk_pci_device_next(const struct pdk_pci_device *prev);

/* Forget every listed device (after the bus has detached them). */
PDK_API void pdk_pci_device_list_clear(void);

/* The kernel driver `bdf` is bound to now ("" when none). 0 or -errno. */
PDK_API int pdk_pci_kdriver(const char *bdf, char *buf, size_t len);

/* True when a device bound to `kdriver` leaves its IOMMU group usable by
 * VFIO: no driver, a vfio driver, pci-stub, or pcieport (which does no
 * DMA). */
PDK_API bool pdk_pci_kdriver_keeps_viable(const char *kdriver);

struct pdk_pci_group_member {
	char name[PDK_PCI_NAME_MAX];
	char kdriver[PDK_PCI_DRIVER_NAME_MAX];
};

/*
 * The devices of IOMMU group `group` and their drivers, sorted by name.
 * Fills at most `max` entries and returns how many the group has, or
 * -errno.
 */
PDK_API int pdk_pci_group_members(int group, struct pdk_pci_group_member *out,
				  int max);

/* ------------------------------------------------------------ drivers -- */

/* Reset the device (when it offers a reset) before probe. */
#define PDK_PCI_DRV_RESET          0x1
/* Leave bus mastering off: the device does no DMA. */
#define PDK_PCI_DRV_NO_BUS_MASTER  0x2

struct pdk_pci_driver {
	const char *name;
	const struct pdk_pci_id *id_table;
	/* Called with dev->vdev open, BARs mapped, DMA memory mapped and bus
	 * mastering on. Return 0 or a negative errno (logged by the bus). */
	int (*probe)(struct pdk_pci_device *dev);
	/* Undo probe; the bus closes the device afterwards. */
	void (*remove)(struct pdk_pci_device *dev);
	uint32_t flags; /* PDK_PCI_DRV_* */
};

#define PDK_PCI_MAX_DRIVERS 64

/* 0, -EEXIST (same name), -ENOSPC, -EINVAL. */
PDK_API int pdk_pci_driver_register(const struct pdk_pci_driver *drv);

#define PDK_PCI_DRIVER_REGISTER(drv)                                          \
	static void __attribute__((constructor)) pdk_pci_drv_reg_##drv(void)  \
	{                                                                     \
		pdk_pci_driver_register(&(drv));                              \
	}

/* The first registered driver whose table matches dev (NULL when none). */
PDK_API const struct pdk_pci_driver *pdk_pci_driver_find(const struct pdk_pci_device *dev);

/* The i-th registered driver (NULL past the end). */
PDK_API const struct pdk_pci_driver *pdk_pci_driver_get(int i);

/* ------------------------------------------------------- config space -- */

/*
 * Access to one device's configuration space. `read`/`write` move `len`
 * bytes (1, 2 or 4, naturally aligned) at `off`, little-endian as on the
 * wire, and return 0 or -errno. `write` may be NULL (read-only). `size` is
 * 256 (conventional) or 4096 (PCI Express).
 */
struct pdk_pci_cfg {
	int (*read)(void *ctx, void *buf, size_t len, uint32_t off);
	int (*write)(void *ctx, const void *buf, size_t len, uint32_t off);
	void *ctx;
	uint32_t size;
};

/* A config space held in a byte buffer (tests, fuzzing, emulation). */
PDK_API void pdk_pci_cfg_init_buffer(struct pdk_pci_cfg *cfg, void *buf, uint32_t size);

/* Aligned reads and writes, converted from/to little-endian. 0, -EINVAL
 * (misaligned or past `size`), -EROFS (no write callback) or the
 * callback's error. The values are raw: all-ones is not interpreted here. */
PDK_API int pdk_pci_cfg_read8(const struct pdk_pci_cfg *cfg, uint32_t off, uint8_t *val);
PDK_API int pdk_pci_cfg_read16(const struct pdk_pci_cfg *cfg, uint32_t off, uint16_t *val);
PDK_API int pdk_pci_cfg_read32(const struct pdk_pci_cfg *cfg, uint32_t off, uint32_t *val);
PDK_API int pdk_pci_cfg_write8(const struct pdk_pci_cfg *cfg, uint32_t off, uint8_t val);
PDK_API int pdk_pci_cfg_write16(const struct pdk_pci_cfg *cfg, uint32_t off, uint16_t val);
PDK_API int pdk_pci_cfg_write32(const struct pdk_pci_cfg *cfg, uint32_t off, uint32_t val);

/*
 * Capability walks. The callback gets each capability's id, offset and (for
 * extended capabilities) version; a nonzero return stops the walk and is
 * returned. Otherwise the walk returns the number of capabilities seen, or
 * -ENODEV when a read returns all-ones (the device is gone).
 *
 * Standard list: from the pointer at 0x34 when STATUS has CAP_LIST; a
 * pointer below 0x40 ends it; at most 48 steps (a loop stops there).
 * Extended list: from 0x100 when size is 4096; id 0 is skipped ("follow
 * next", not the end); at most 480 steps.
 */
typedef int (*pdk_pci_cap_cb)(const struct pdk_pci_cfg *cfg, uint16_t id,
			      uint8_t version, uint32_t off, void *arg);
PDK_API int pdk_pci_cap_foreach(const struct pdk_pci_cfg *cfg, pdk_pci_cap_cb cb,
				void *arg);
PDK_API int pdk_pci_ext_cap_foreach(const struct pdk_pci_cfg *cfg, pdk_pci_cap_cb cb,
				    void *arg);

/* Offset of the first capability with `id` (> 0), -ENOENT or -ENODEV. */
PDK_API int pdk_pci_cap_find(const struct pdk_pci_cfg *cfg, uint8_t id);
PDK_API int pdk_pci_ext_cap_find(const struct pdk_pci_cfg *cfg, uint16_t id);

/* Short names for display ("MSI-X", "PCIe", "AER"); "?" when unknown. */
PDK_API const char *pdk_pci_cap_name(uint8_t id);
PDK_API const char *pdk_pci_ext_cap_name(uint16_t id);

/* Where the MSI-X table and PBA live (from the MSI-X capability). */
struct pdk_pci_msix_info {
	uint32_t cap_off;
	uint32_t nr_vectors;
	uint32_t table_bar;
	uint64_t table_offset;
	uint64_t table_size;   /* nr_vectors * 16 */
	uint32_t pba_bar;
	uint64_t pba_offset;
	uint64_t pba_size;     /* one bit per vector, in 8-byte units */
};

/* 0, -ENOENT (no MSI-X), -ENODEV (gone), -EINVAL (BIR names no BAR). */
PDK_API int pdk_pci_msix_info(const struct pdk_pci_cfg *cfg, struct pdk_pci_msix_info *info);

/* Vendor, device, subsystem and class ids, and revision, from config
 * space. 0, -ENODEV (vendor reads all-ones) or -errno. */
PDK_API int pdk_pci_id_read(const struct pdk_pci_cfg *cfg, struct pdk_pci_id *id,
			    uint8_t *revision);

#ifdef __cplusplus
}
#endif
#endif /* PDK_PCI_H */
