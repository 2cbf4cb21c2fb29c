/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The modern PCI transport (virtio 1.2, 4.1.4, 4.1.5). The capabilities
 * come from the device and are checked like any untrusted data: a BAR
 * that exists, a range inside it without overflow, a length that holds the
 * structure, the first capability of each type (4.1.4.1: a driver uses the
 * first it can). Registers are read through lib/vfio's BAR accessors, so a
 * trapped or unmapped register still works (slow path, counted).
 *
 * 64-bit fields are written as two 32-bit halves, which 4.1.4.3.1 allows
 * and devices that take only 32-bit accesses need.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include <pdk_log.h>

#include "virtio_pci.h"

#define LOG "virtio"
#define RESET_TIMEOUT_MS 1000
#define CFG_RETRIES 10
#define VENDOR_CAP 0x09

#define COMMON(f) PDK_VIRTIO_COMMON_OFF(f)

static uint8_t rd8(const struct vpci *t, size_t f)
{
	return pdk_vfio_bar_read8(t->common.bar, t->common.off + f);
}

static uint16_t rd16(const struct vpci *t, size_t f)
{
	return pdk_vfio_bar_read16(t->common.bar, t->common.off + f);
}

static uint32_t rd32(const struct vpci *t, size_t f)
{
	return pdk_vfio_bar_read32(t->common.bar, t->common.off + f);
}

static void wr8(const struct vpci *t, size_t f, uint8_t v)
{
	pdk_vfio_bar_write8(t->common.bar, t->common.off + f, v);
}

static void wr16(const struct vpci *t, size_t f, uint16_t v)
{
	pdk_vfio_bar_write16(t->common.bar, t->common.off + f, v);
}

static void wr32(const struct vpci *t, size_t f, uint32_t v)
{
	pdk_vfio_bar_write32(t->common.bar, t->common.off + f, v);
}

static void wr64(const struct vpci *t, size_t f, uint64_t v)
{
	wr32(t, f, (uint32_t)v);
	wr32(t, f + 4, (uint32_t)(v >> 32));
}

/* ---- capabilities ---- */

struct cap_walk {
	struct vpci *t;
	unsigned seen;
};

/* The smallest structure of each type that we can use. */
static uint64_t min_len(uint8_t type)
{
	switch (type) {
	case PDK_VIRTIO_PCI_CAP_COMMON_CFG:
		return sizeof(struct pdk_virtio_pci_common_cfg);
	case PDK_VIRTIO_PCI_CAP_NOTIFY_CFG:
		return 2;
	case PDK_VIRTIO_PCI_CAP_ISR_CFG:
		return 1;
	default:
		return 0;
	}
}

static struct vpci_region *slot(struct vpci *t, uint8_t type)
{
	switch (type) {
	case PDK_VIRTIO_PCI_CAP_COMMON_CFG:
		return &t->common;
	case PDK_VIRTIO_PCI_CAP_NOTIFY_CFG:
		return &t->notify;
	case PDK_VIRTIO_PCI_CAP_ISR_CFG:
		return &t->isr;
	case PDK_VIRTIO_PCI_CAP_DEVICE_CFG:
		return &t->device;
	default:
		return NULL; /* PCI_CFG access window, shared memory, vendor: unused */
	}
}

/* One vendor capability: keep it when it is sound and the first of its
 * type; say why when it is not. */
static int cap_cb(const struct pdk_pci_cfg *cfg, uint16_t id, uint8_t ver, uint32_t pos,
		  void *arg)
{
	struct cap_walk *w = arg;
	struct vpci *t = w->t;
	uint8_t len = 0, type = 0, bar = 0xff;
	uint32_t off = 0, size = 0, mult = 0;
	struct vpci_region *r;
	struct pdk_vfio_bar *b;

	(void)ver;
	if (id != VENDOR_CAP)
		return 0;
	w->seen++;
	if (pdk_pci_cfg_read8(cfg, pos + 2, &len) || pdk_pci_cfg_read8(cfg, pos + 3, &type) ||
	    pdk_pci_cfg_read8(cfg, pos + 4, &bar) || pdk_pci_cfg_read32(cfg, pos + 8, &off) ||
	    pdk_pci_cfg_read32(cfg, pos + 12, &size))
		return 0;
	r = slot(t, type);
	if (r == NULL || r->bar != NULL)
		return 0;
	if (len < sizeof(struct pdk_virtio_pci_cap) ||
	    (type == PDK_VIRTIO_PCI_CAP_NOTIFY_CFG &&
	     (len < sizeof(struct pdk_virtio_pci_notify_cap) ||
	      pdk_pci_cfg_read32(cfg, pos + 16, &mult)))) {
		PDK_LOG(NOTICE, LOG, "%s: virtio capability at 0x%x (type %u) is %u bytes: "
			"too short, ignored", t->name, pos, type, len);
		return 0;
	}
	b = bar < PDK_VFIO_PCI_BAR_COUNT ? pdk_vfio_dev_bar(t->vdev, bar) : NULL;
	if (b == NULL || off > b->size || size > b->size - off || size < min_len(type)) {
		PDK_LOG(NOTICE, LOG, "%s: virtio capability at 0x%x (type %u) names BAR %u "
			"0x%x+0x%x, which %s: ignored", t->name, pos, type, bar, off, size,
			b == NULL ? "does not exist" : size < min_len(type) ?
			"is too small for the structure" : "runs past the BAR");
		return 0;
	}
	*r = (struct vpci_region){b, off, size};
	if (type == PDK_VIRTIO_PCI_CAP_NOTIFY_CFG)
		t->notify_mult = mult;
	return 0;
}

int vpci_init(struct vpci *t, struct pdk_vfio_dev *vdev, const char *name)
{
	struct cap_walk w = {.t = t};
	int rc;

	*t = (struct vpci){.vdev = vdev, .name = name};
	rc = pdk_pci_cap_foreach(pdk_vfio_dev_cfg(vdev), cap_cb, &w);
	if (rc < 0) {
		PDK_LOG(ERR, LOG, "%s: cannot walk the PCI capabilities: %s", name,
			strerror(-rc));
		return rc;
	}
	if (t->common.bar == NULL || t->notify.bar == NULL) {
		PDK_LOG(ERR, LOG, "%s: no usable virtio 1.x %s capability (%u vendor "
			"capabilities seen): a legacy-only device, which this driver does "
			"not support", name, t->common.bar ? "notify" : "common configuration",
			w.seen);
		return -ENOTSUP;
	}
	return 0;
}

/* ---- status and features ---- */

uint8_t vpci_status(const struct vpci *t)
{
	return rd8(t, COMMON(device_status));
}

void vpci_status_add(const struct vpci *t, uint8_t bits)
{
	wr8(t, COMMON(device_status), (uint8_t)(vpci_status(t) | bits));
}

static void sleep_ms(unsigned ms)
{
	struct timespec ts = {0, (long)ms * 1000000};

	nanosleep(&ts, NULL);
}

int vpci_reset(const struct vpci *t)
{
	uint8_t s;

	wr8(t, COMMON(device_status), 0);
	for (unsigned waited = 0; waited <= RESET_TIMEOUT_MS; waited++) {
		s = vpci_status(t);
		if (s == 0)
			return 0;
		if (s == 0xff && rd32(t, COMMON(device_feature_select)) == UINT32_MAX)
			return -ENODEV; /* all-ones everywhere: gone */
		sleep_ms(1);
	}
	PDK_LOG(ERR, LOG, "%s: device status still 0x%x %u ms after a reset", t->name, s,
		RESET_TIMEOUT_MS);
	return -ETIMEDOUT;
}

uint64_t vpci_features(const struct vpci *t)
{
	uint64_t f;

	wr32(t, COMMON(device_feature_select), 0);
	f = rd32(t, COMMON(device_feature));
	wr32(t, COMMON(device_feature_select), 1);
	return f | (uint64_t)rd32(t, COMMON(device_feature)) << 32;
}

int vpci_features_set(const struct vpci *t, uint64_t features)
{
	wr32(t, COMMON(driver_feature_select), 0);
	wr32(t, COMMON(driver_feature), (uint32_t)features);
	wr32(t, COMMON(driver_feature_select), 1);
	wr32(t, COMMON(driver_feature), (uint32_t)(features >> 32));
	vpci_status_add(t, PDK_VIRTIO_STATUS_FEATURES_OK);
	return vpci_status(t) & PDK_VIRTIO_STATUS_FEATURES_OK ? 0 : -EPROTO;
}

/* ---- queues ---- */

uint16_t vpci_num_queues(const struct vpci *t)
{
	return rd16(t, COMMON(num_queues));
}

uint16_t vpci_queue_max(const struct vpci *t, uint16_t qi)
{
	wr16(t, COMMON(queue_select), qi);
	return rd16(t, COMMON(queue_size));
}

int vpci_queue_enable(const struct vpci *t, uint16_t qi, const struct vpci_ring *r,
		      uint64_t *notify)
{
	uint64_t at;

	wr16(t, COMMON(queue_select), qi);
	at = (uint64_t)rd16(t, COMMON(queue_notify_off)) * t->notify_mult;
	if (at > t->notify.len || t->notify.len - at < 2) {
		PDK_LOG(ERR, LOG, "%s: queue %u's notify offset 0x%" PRIx64 " lies outside "
			"the 0x%" PRIx64 "-byte notify structure", t->name, qi, at,
			t->notify.len);
		return -EINVAL;
	}
	*notify = t->notify.off + at;
	wr16(t, COMMON(queue_size), r->size);
	wr16(t, COMMON(queue_msix_vector), PDK_VIRTIO_MSI_NO_VECTOR); /* we poll */
	wr64(t, COMMON(queue_desc), r->desc);
	wr64(t, COMMON(queue_driver), r->avail);
	wr64(t, COMMON(queue_device), r->used);
	wr16(t, COMMON(queue_enable), 1);
	if (rd16(t, COMMON(queue_enable)) != 1) {
		PDK_LOG(ERR, LOG, "%s: queue %u did not enable (size %u; status 0x%x)",
			t->name, qi, r->size, vpci_status(t));
		return -EIO;
	}
	return 0;
}

int vpci_config_vector(const struct vpci *t, uint16_t vec)
{
	wr16(t, COMMON(config_msix_vector), vec);
	return rd16(t, COMMON(config_msix_vector)) == vec ? 0 : -EIO;
}

int vpci_cfg_read(const struct vpci *t, uint32_t off, void *buf, uint32_t len)
{
	uint8_t *p = buf, gen;

	if (t->device.bar == NULL || off > t->device.len || len > t->device.len - off)
		return -EINVAL;
	for (int tries = 0; tries < CFG_RETRIES; tries++) {
		gen = rd8(t, COMMON(config_generation));
		if (len == 2 && off % 2 == 0) { /* 4.1.3.1: fields at their width */
			uint16_t v = pdk_vfio_bar_read16(t->device.bar, t->device.off + off);

			memcpy(p, &v, 2);
		} else {
			for (uint32_t i = 0; i < len; i++)
				p[i] = pdk_vfio_bar_read8(t->device.bar, t->device.off + off + i);
		}
		if (rd8(t, COMMON(config_generation)) == gen)
			return 0;
	}
	return -EAGAIN;
}

uint8_t vpci_isr(const struct vpci *t)
{
	return t->isr.bar ? pdk_vfio_bar_read8(t->isr.bar, t->isr.off) : 0;
}
