/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The virtio-net model's registers (virtio 1.2, 4.1.4): the common
 * configuration (trapped, so a selector write changes what the next read
 * shows before that read), the ISR (trapped, read to clear) and the device
 * configuration (mapped; we rewrite it when it changes). The model keeps
 * the truth in struct vnet and writes the register image into BAR memory
 * (vnet_regs_publish) after every change; a write lands in BAR memory
 * first (the framework stores it), and is then taken field by field.
 *
 * Device status (2.1, 3.1.1): 0 resets; FEATURES_OK only sticks when the
 * features are acceptable (the driver reads it back); DRIVER_OK without
 * FEATURES_OK, or a bad queue at queue_enable, sets DEVICE_NEEDS_RESET.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "virtio_net_private.h"

#define COMMON_LEN sizeof(struct pdk_virtio_pci_common_cfg)

static bool touches(uint64_t off, uint32_t len, size_t field, size_t size)
{
	return off < field + size && field < off + len;
}

#define TOUCHED(off, len, f) \
	touches(off, len, PDK_VIRTIO_COMMON_OFF(f), sizeof(((struct pdk_virtio_pci_common_cfg *)0)->f))

static struct pdk_virtio_pci_common_cfg *common(struct vnet *vn)
{
	return (struct pdk_virtio_pci_common_cfg *)(void *)(vn->bar + VNET_EMU_COMMON_OFF);
}

static uint32_t half(uint64_t v, uint32_t sel)
{
	return sel == 0 ? (uint32_t)v : sel == 1 ? (uint32_t)(v >> 32) : 0;
}

/* The common configuration as the driver should read it now. */
void vnet_regs_publish(struct vnet *vn)
{
	struct pdk_virtio_pci_common_cfg c = {0};
	unsigned sel = vn->queue_select;

	c.device_feature_select = vn->dev_feat_sel;
	c.device_feature = half(vn->offer, vn->dev_feat_sel);
	c.driver_feature_select = vn->drv_feat_sel;
	c.driver_feature = half(vn->drv_features, vn->drv_feat_sel);
	c.config_msix_vector = vn->msix_config;
	c.num_queues = (uint16_t)vnet_num_queues(vn);
	c.device_status = vn->status | (vn->failed ? PDK_VIRTIO_STATUS_NEEDS_RESET : 0);
	c.config_generation = vn->generation;
	c.queue_select = vn->queue_select;
	if (sel < vnet_num_queues(vn)) {
		const struct vnet_vq *q = &vn->vq[sel];

		c.queue_size = q->size;
		c.queue_msix_vector = q->msix;
		c.queue_enable = q->enabled;
		c.queue_notify_off = (uint16_t)sel;
		c.queue_desc = q->desc_iova;
		c.queue_driver = q->avail_iova;
		c.queue_device = q->used_iova;
	}
	memcpy(common(vn), &c, sizeof(c));
}

/* struct virtio_net_config (5.1.4). The status word is the one field
 * that changes while a driver runs: one 16-bit store. */
void vnet_devcfg_publish(struct vnet *vn)
{
	uint8_t *p = vn->bar + VNET_EMU_DEVCFG_OFF;
	uint16_t status = vn->link_up ? PDK_VIRTIO_NET_S_LINK_UP : 0;

	memcpy(p + PDK_VIRTIO_NET_CFG_OFF(mac), vn->mac, sizeof(vn->mac));
	__atomic_store_n((uint16_t *)(void *)(p + PDK_VIRTIO_NET_CFG_OFF(status)), status,
			 __ATOMIC_RELEASE);
	memcpy(p + PDK_VIRTIO_NET_CFG_OFF(max_virtqueue_pairs), &vn->max_pairs,
	       sizeof(vn->max_pairs));
	memset(p + PDK_VIRTIO_NET_CFG_OFF(mtu), 0, 2); /* MTU not offered */
}

/* Device reset (status 0, FLR, VFIO reset, client gone): as from power on. */
void vnet_regs_reset(struct vnet *vn)
{
	vn->drv_features = 0;
	vn->dev_feat_sel = vn->drv_feat_sel = 0;
	vn->status = 0;
	vn->isr = 0;
	vn->msix_config = PDK_VIRTIO_MSI_NO_VECTOR;
	vn->queue_select = 0;
	vn->active_pairs = 1;
	vn->failed = false;
	for (unsigned i = 0; i < VNET_VQ_MAX; i++) {
		vnet_vq_reset(&vn->vq[i]);
		vn->vq[i].size = vn->qsize_max;
	}
	vnet_wire_reset(vn);
	vnet_notify_reset(vn);
	vnet_devcfg_publish(vn);
	vnet_regs_publish(vn);
}

static uint16_t vector(const struct vnet *vn, uint16_t v)
{
	return v < pdk_emu_msix_vectors(vn->dev) ? v : PDK_VIRTIO_MSI_NO_VECTOR;
}

/* NULL when the features the driver accepted are fine, else why not. */
static const char *features_refused(const struct vnet *vn)
{
	uint64_t f = vn->drv_features;

	if (f & ~vn->offer)
		return "it accepted features the device does not offer";
	if (!(f & PDK_VIRTIO_BIT(PDK_VIRTIO_F_VERSION_1)))
		return "VERSION_1 not accepted: this device has no legacy interface";
	if ((vn->offer & PDK_VIRTIO_BIT(PDK_VIRTIO_F_ACCESS_PLATFORM)) &&
	    !(f & PDK_VIRTIO_BIT(PDK_VIRTIO_F_ACCESS_PLATFORM)))
		return "ACCESS_PLATFORM not accepted: the device reaches memory only "
		       "through the IOMMU";
	if ((f & PDK_VIRTIO_BIT(PDK_VIRTIO_NET_F_MQ)) &&
	    !(f & PDK_VIRTIO_BIT(PDK_VIRTIO_NET_F_CTRL_VQ)))
		return "MQ without CTRL_VQ";
	return NULL;
}

static void features_ok(struct vnet *vn)
{
	const char *why = features_refused(vn);

	if (why) {
		VNET_LOG(NOTICE, vn, "FEATURES_OK refused (driver features 0x%" PRIx64
			 "): %s", vn->drv_features, why);
		return;
	}
	vn->status |= PDK_VIRTIO_STATUS_FEATURES_OK;
	VNET_LOG(INFO, vn, "features 0x%" PRIx64 " accepted", vn->drv_features);
}

static void driver_ok(struct vnet *vn)
{
	if (!(vn->status & PDK_VIRTIO_STATUS_FEATURES_OK)) {
		vn->status |= PDK_VIRTIO_STATUS_DRIVER_OK;
		vnet_fail(vn, "DRIVER_OK without FEATURES_OK");
		return;
	}
	vn->status |= PDK_VIRTIO_STATUS_DRIVER_OK;
	vnet_ready_update(vn);
	VNET_LOG(INFO, vn, "driver ready, link %s", vn->link_up ? "up" : "down");
}

static void status_write(struct vnet *vn, uint8_t v)
{
	uint8_t add = (uint8_t)(v & ~vn->status & ~PDK_VIRTIO_STATUS_NEEDS_RESET);

	if (v == 0) {
		VNET_LOG(DEBUG, vn, "reset by the driver");
		vnet_count(&vn->st.resets, 1);
		vnet_regs_reset(vn);
		return;
	}
	if (vn->status & ~v & ~PDK_VIRTIO_STATUS_NEEDS_RESET)
		VNET_LOG(INFO, vn, "status 0x%x written over 0x%x: a driver may not clear "
			 "bits but by writing 0; kept", v, vn->status);
	vn->status |= add & (PDK_VIRTIO_STATUS_ACKNOWLEDGE | PDK_VIRTIO_STATUS_DRIVER |
			     PDK_VIRTIO_STATUS_FAILED);
	if (add & PDK_VIRTIO_STATUS_FEATURES_OK)
		features_ok(vn);
	if (add & PDK_VIRTIO_STATUS_DRIVER_OK)
		driver_ok(vn);
	if (add & PDK_VIRTIO_STATUS_FAILED)
		VNET_LOG(NOTICE, vn, "the driver gave up on the device (FAILED)");
}

static void driver_feature_write(struct vnet *vn, uint32_t v)
{
	unsigned sh = vn->drv_feat_sel == 1 ? 32 : 0;

	if (vn->status & PDK_VIRTIO_STATUS_FEATURES_OK || vn->drv_feat_sel > 1)
		return; /* fixed once FEATURES_OK is set; no bits past 63 */
	vn->drv_features = (vn->drv_features & ~(0xffffffffull << sh)) | (uint64_t)v << sh;
}

/* queue_enable = 1: the size and the ring addresses must make sense. */
static void queue_enable(struct vnet *vn, struct vnet_vq *q, unsigned qi)
{
	const char *why = NULL;

	if (!PDK_IS_POWER_OF_2(q->size) || q->size > vn->qsize_max)
		why = "size is not a power of two up to the maximum";
	else if (q->desc_iova % PDK_VIRTQ_DESC_ALIGN || q->avail_iova % PDK_VIRTQ_AVAIL_ALIGN ||
		 q->used_iova % PDK_VIRTQ_USED_ALIGN)
		why = "a ring is misaligned (descriptors 16, available 2, used 4 bytes)";
	if (why) {
		vnet_fail(vn, "virtqueue %u enabled with size %u, rings 0x%" PRIx64 "/0x%"
			  PRIx64 "/0x%" PRIx64 ": %s", qi, q->size, q->desc_iova,
			  q->avail_iova, q->used_iova, why);
		return;
	}
	q->enabled = true;
}

/* Writes to the selected queue's fields, from the image in `c`. */
static void queue_write(struct vnet *vn, const struct pdk_virtio_pci_common_cfg *c,
			uint64_t off, uint32_t len)
{
	unsigned qi = vn->queue_select;
	struct vnet_vq *q = &vn->vq[qi];

	if (qi >= vnet_num_queues(vn))
		return;
	if (q->enabled) {
		if (!TOUCHED(off, len, queue_select))
			VNET_LOG(INFO, vn, "virtqueue %u is enabled: its configuration "
				 "cannot change until a reset", qi);
		return;
	}
	if (TOUCHED(off, len, queue_size))
		q->size = c->queue_size;
	if (TOUCHED(off, len, queue_msix_vector))
		q->msix = vector(vn, c->queue_msix_vector);
	if (TOUCHED(off, len, queue_desc))
		q->desc_iova = c->queue_desc;
	if (TOUCHED(off, len, queue_driver))
		q->avail_iova = c->queue_driver;
	if (TOUCHED(off, len, queue_device))
		q->used_iova = c->queue_device;
	if (TOUCHED(off, len, queue_enable) && c->queue_enable == 1)
		queue_enable(vn, q, qi);
}

static void common_write(struct vnet *vn, uint64_t off, uint32_t len)
{
	struct pdk_virtio_pci_common_cfg c;

	memcpy(&c, common(vn), sizeof(c));
	if (TOUCHED(off, len, device_feature_select))
		vn->dev_feat_sel = c.device_feature_select;
	if (TOUCHED(off, len, driver_feature_select))
		vn->drv_feat_sel = c.driver_feature_select;
	if (TOUCHED(off, len, driver_feature))
		driver_feature_write(vn, c.driver_feature);
	if (TOUCHED(off, len, config_msix_vector))
		vn->msix_config = vector(vn, c.config_msix_vector);
	if (TOUCHED(off, len, queue_select))
		vn->queue_select = c.queue_select;
	queue_write(vn, &c, off, len);
	if (TOUCHED(off, len, device_status))
		status_write(vn, c.device_status);
}

/* A slow-path read of BAR4 is about to be served. */
void vnet_regs_read(struct vnet *vn, uint64_t off, uint32_t len)
{
	if (off < VNET_EMU_COMMON_OFF + COMMON_LEN) {
		vnet_regs_publish(vn);
	} else if (off >= VNET_EMU_ISR_OFF && off < VNET_EMU_ISR_OFF + 4096) {
		/* read to clear: this read sees the bits, the next one not */
		memset(vn->bar + VNET_EMU_ISR_OFF, 0, 4);
		vn->bar[VNET_EMU_ISR_OFF] = vn->isr;
		if (off == VNET_EMU_ISR_OFF)
			vn->isr = 0;
	}
	(void)len;
}

/* A slow-path write of BAR4 was stored in BAR memory. */
void vnet_regs_write(struct vnet *vn, uint64_t off, uint32_t len)
{
	if (off < VNET_EMU_COMMON_OFF + COMMON_LEN)
		common_write(vn, off - VNET_EMU_COMMON_OFF, len);
	if (off < VNET_EMU_ISR_OFF + 4096) /* read-only: put them back */
		vnet_regs_publish(vn);
	else if (off >= VNET_EMU_DEVCFG_OFF && off < VNET_EMU_DEVCFG_OFF + 4096)
		vnet_devcfg_publish(vn);
}
