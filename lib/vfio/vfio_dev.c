/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Devices, whatever backend serves them: open/close, cached region info,
 * config space, the BAR plans, reset, bus mastering, statistics.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "pdk_eal_internal.h"
#include "vfio_private.h"

/* Serialises the control path (open, close, map BARs, DMA map/unmap). */
pthread_mutex_t vfio_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pdk_vfio_dev *devs; /* open devices */

struct pdk_vfio_dev *vfio_dev_first(void)
{
	return devs;
}

static bool is_vfio_user(const char *name)
{
	return strncmp(name, "vfio-user:", 10) == 0;
}

/* The canonical name: PCI addresses in full form, sockets as given. */
static int canonical_name(const char *name, char *out, size_t len)
{
	if (is_vfio_user(name)) {
		if (name[10] == '\0' || strlen(name) >= len)
			return -EINVAL;
		snprintf(out, len, "%s", name);
		return 0;
	}
	return pdk_pci_addr_parse(name, out, len);
}

static struct pdk_vfio_dev *find_open(const char *name)
{
	for (struct pdk_vfio_dev *d = devs; d; d = d->next)
		if (strcmp(d->name, name) == 0 && d->owner == getpid())
			return d;
	return NULL;
}

static int cfg_read(void *ctx, void *buf, size_t len, uint32_t off)
{
	struct pdk_vfio_dev *dev = ctx;
	ssize_t n = dev->be->region_read(dev, &dev->regions[PDK_VFIO_PCI_CONFIG_REGION], buf,
					 len, off);

	return n < 0 ? (int)n : 0;
}

static int cfg_write(void *ctx, const void *buf, size_t len, uint32_t off)
{
	struct pdk_vfio_dev *dev = ctx;
	ssize_t n = dev->be->region_write(dev, &dev->regions[PDK_VFIO_PCI_CONFIG_REGION], buf,
					  len, off);

	return n < 0 ? (int)n : 0;
}

static int load_regions(struct pdk_vfio_dev *dev)
{
	uint32_t n = PDK_MIN(dev->info.num_regions, (uint32_t)VFIO_MAX_REGIONS);
	const struct pdk_vfio_region *cfg = &dev->regions[PDK_VFIO_PCI_CONFIG_REGION];

	for (uint32_t i = 0; i < n; i++) {
		int rc = dev->be->region_info(dev, i, &dev->regions[i]);

		if (rc < 0)
			return rc; /* a BAR or config space we cannot describe */
	}
	if (cfg->size < PDK_PCI_CFG_SIZE || !(cfg->flags & PDK_VFIO_REGION_READ)) {
		PDK_LOG(ERR, VFIO_LOG, "%s: config space region is %llu bytes (flags 0x%x); "
			"expected at least 256 readable bytes", dev->name,
			(unsigned long long)cfg->size, cfg->flags);
		return -EPROTO;
	}
	dev->cfg = (struct pdk_pci_cfg){
		.read = cfg_read,
		.write = (cfg->flags & PDK_VFIO_REGION_WRITE) ? cfg_write : NULL,
		.ctx = dev,
		.size = cfg->size >= PDK_PCI_CFG_EXP_SIZE ? PDK_PCI_CFG_EXP_SIZE : PDK_PCI_CFG_SIZE,
	};
	return 0;
}

/* Where the MSI-X table is decides the BAR plans. */
static int load_msix(struct pdk_vfio_dev *dev)
{
	int rc = pdk_pci_msix_info(&dev->cfg, &dev->msix);

	dev->has_msix = rc == 0;
	if (rc == -ENODEV) {
		PDK_LOG(ERR, VFIO_LOG, "%s: config space reads all-ones: the device is gone "
			"or not responding", dev->name);
		return rc;
	}
	if (rc == -EINVAL)
		PDK_LOG(WARNING, VFIO_LOG, "%s: the MSI-X capability names a reserved BAR "
			"indicator: MSI-X ignored", dev->name);
	else if (rc < 0 && rc != -ENOENT) {
		/* not knowing where the table is would map it with its BAR */
		PDK_LOG(ERR, VFIO_LOG, "%s: cannot read the MSI-X capability from config "
			"space: %s", dev->name, strerror(-rc));
		return rc;
	}
	return 0;
}

static void make_plans(struct pdk_vfio_dev *dev)
{
	for (uint32_t i = 0; i < PDK_VFIO_PCI_BAR_COUNT; i++) {
		struct vfio_bar_state *b = &dev->bars[i];

		pdk_vfio_plan_bar(&dev->regions[i], dev->has_msix ? &dev->msix : NULL,
				  dev->page_size, &b->plan);
		b->pub = (struct pdk_vfio_bar){.size = dev->regions[i].size, .index = i,
					       .dev = dev};
	}
}

/* Undo an open from whatever point it reached. */
static void dev_teardown(struct pdk_vfio_dev *dev, bool attached)
{
	struct pdk_vfio_domain *dom = dev->domain;

	vfio_bars_unmap(dev);
	if (attached)
		vfio_domain_detach(dev); /* the last device unmaps all DMA first */
	dev->be->close(dev);
	if (dom->refs == 0)
		vfio_domain_release(dom);
}

static int dev_setup(struct pdk_vfio_dev *dev)
{
	int rc = dev->be->open(dev, dev->name);

	if (rc < 0)
		return rc;
	if ((rc = load_regions(dev)) < 0 || (rc = load_msix(dev)) < 0) {
		dev_teardown(dev, false);
		return rc;
	}
	if (dev->page_size == 0 || !PDK_IS_POWER_OF_2(dev->page_size))
		dev->page_size = 4096;
	make_plans(dev);
	if ((rc = vfio_domain_attach(dev)) < 0) {
		dev_teardown(dev, false);
		return rc;
	}
	return 0;
}

struct pdk_vfio_dev *pdk_vfio_dev_open(const char *name, unsigned flags)
{
	struct pdk_vfio_dev *dev;
	int rc;

	if (name == NULL || (dev = calloc(1, sizeof(*dev))) == NULL) {
		errno = name ? ENOMEM : EINVAL;
		return NULL;
	}
	dev->ctl[0].fd = dev->ctl[1].fd = -1;
	dev->open_flags = flags;
	dev->owner = getpid();
	dev->be = is_vfio_user(name) ? &vfio_user_ops : &vfio_kernel_ops;
	if (canonical_name(name, dev->name, sizeof(dev->name)) < 0) {
		PDK_LOG(ERR, VFIO_LOG, "'%s' is neither a PCI address (0000:03:00.0) nor "
			"vfio-user:<socket path>", name);
		free(dev);
		errno = EINVAL;
		return NULL;
	}
	pthread_mutex_lock(&vfio_lock);
	if (find_open(dev->name)) {
		PDK_LOG(ERR, VFIO_LOG, "%s is already open in this process", dev->name);
		rc = -EBUSY;
	} else {
		rc = dev_setup(dev);
	}
	if (rc == 0) {
		dev->next = devs;
		devs = dev;
	}
	pthread_mutex_unlock(&vfio_lock);
	if (rc < 0) {
		free(dev);
		errno = -rc;
		return NULL;
	}
	vfio_irq_ctl_setup(dev);
	return dev;
}

void pdk_vfio_dev_close(struct pdk_vfio_dev *dev)
{
	struct pdk_vfio_dev **p;

	if (dev == NULL)
		return;
	/* before vfio_lock: this waits for a running event callback, which
	 * may itself take vfio_lock */
	vfio_irq_teardown(dev);
	pthread_mutex_lock(&vfio_lock);
	for (p = &devs; *p && *p != dev; p = &(*p)->next)
		;
	if (*p)
		*p = dev->next;
	dev_teardown(dev, true);
	pthread_mutex_unlock(&vfio_lock);
	free(dev);
}

const char *pdk_vfio_dev_name(const struct pdk_vfio_dev *dev)
{
	return dev->name;
}

const char *pdk_vfio_dev_backend(const struct pdk_vfio_dev *dev)
{
	return dev->be->name;
}

struct pdk_vfio_domain *pdk_vfio_dev_domain(struct pdk_vfio_dev *dev)
{
	return dev->domain;
}

int pdk_vfio_dev_info(const struct pdk_vfio_dev *dev, struct pdk_vfio_dev_info *info)
{
	*info = dev->info;
	info->page_size = dev->page_size;
	return 0;
}

const struct pdk_pci_cfg *pdk_vfio_dev_cfg(struct pdk_vfio_dev *dev)
{
	return &dev->cfg;
}

int pdk_vfio_dev_region(const struct pdk_vfio_dev *dev, uint32_t index,
			struct pdk_vfio_region *out)
{
	if (index >= VFIO_MAX_REGIONS)
		return -EINVAL;
	if (index >= dev->info.num_regions)
		return -ENOENT;
	*out = dev->regions[index];
	return 0;
}

static int region_check(const struct pdk_vfio_dev *dev, uint32_t index, size_t len,
			uint64_t off)
{
	if (index >= VFIO_MAX_REGIONS || index >= dev->info.num_regions)
		return -EINVAL;
	if (off > dev->regions[index].size || len > dev->regions[index].size - off)
		return -EINVAL;
	return 0;
}

ssize_t pdk_vfio_dev_region_read(struct pdk_vfio_dev *dev, uint32_t index, void *buf,
				 size_t len, uint64_t off)
{
	int rc = region_check(dev, index, len, off);

	return rc ? rc : dev->be->region_read(dev, &dev->regions[index], buf, len, off);
}

ssize_t pdk_vfio_dev_region_write(struct pdk_vfio_dev *dev, uint32_t index,
				  const void *buf, size_t len, uint64_t off)
{
	int rc = region_check(dev, index, len, off);

	return rc ? rc : dev->be->region_write(dev, &dev->regions[index], buf, len, off);
}

int pdk_vfio_dev_plan(const struct pdk_vfio_dev *dev, uint32_t bar, struct pdk_vfio_plan *plan)
{
	if (bar >= PDK_VFIO_PCI_BAR_COUNT)
		return -EINVAL;
	*plan = dev->bars[bar].plan;
	return 0;
}

int pdk_vfio_dev_reset(struct pdk_vfio_dev *dev)
{
	int rc;

	if (!(dev->info.flags & PDK_VFIO_DEV_RESET)) {
		PDK_LOG(INFO, VFIO_LOG, "%s offers no reset", dev->name);
		return -ENOTSUP;
	}
	rc = dev->be->reset(dev);
	if (rc < 0)
		PDK_LOG(ERR, VFIO_LOG, "%s: reset failed: %s", dev->name, strerror(-rc));
	return rc;
}

int pdk_vfio_dev_set_bus_master(struct pdk_vfio_dev *dev, bool on)
{
	uint16_t cmd, want;
	int rc = pdk_pci_cfg_read16(&dev->cfg, PDK_PCI_COMMAND, &cmd);

	if (rc == 0 && cmd == 0xffff)
		rc = -ENODEV;
	want = on ? cmd | PDK_PCI_COMMAND_MASTER : cmd & ~PDK_PCI_COMMAND_MASTER;
	if (rc == 0 && want != cmd)
		rc = pdk_pci_cfg_write16(&dev->cfg, PDK_PCI_COMMAND, want);
	/* writes to bits the kernel does not let through are dropped: check */
	if (rc == 0)
		rc = pdk_pci_cfg_read16(&dev->cfg, PDK_PCI_COMMAND, &cmd);
	if (rc == 0 && !!(cmd & PDK_PCI_COMMAND_MASTER) != on)
		rc = -EIO;
	if (rc < 0)
		PDK_LOG(ERR, VFIO_LOG, "%s: cannot turn bus mastering %s: %s", dev->name,
			on ? "on" : "off", rc == -EIO ? "the COMMAND bit did not stick" :
			strerror(-rc));
	return rc;
}

int pdk_vfio_dev_stats(const struct pdk_vfio_dev *dev, struct pdk_vfio_dev_stats *st)
{
	for (int i = 0; i < PDK_VFIO_PCI_BAR_COUNT; i++) {
		/* plain counters: no ordering with anything else */
		st->slow_reads[i] = atomic_load_explicit(&dev->slow_reads[i],
							 memory_order_relaxed);
		st->slow_writes[i] = atomic_load_explicit(&dev->slow_writes[i],
							  memory_order_relaxed);
	}
	return 0;
}

/* True when [va, va+len) lies in a BAR mapping of an open device: DMA to it
 * is peer-to-peer and pins no memory. */
bool vfio_va_in_bar(const void *va, size_t len)
{
	uintptr_t a = (uintptr_t)va;

	for (struct pdk_vfio_dev *d = devs; d; d = d->next)
		for (int i = 0; i < PDK_VFIO_PCI_BAR_COUNT; i++) {
			uintptr_t base = (uintptr_t)d->bars[i].reserve;

			if (base && a >= base && a - base <= d->bars[i].reserve_len &&
			    len <= d->bars[i].reserve_len - (a - base))
				return true;
		}
	return false;
}
