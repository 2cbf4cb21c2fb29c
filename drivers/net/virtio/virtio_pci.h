/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The virtio 1.x modern PCI transport (virtio 1.2, 4.1) over lib/vfio:
 * where the common, notify, ISR and device configuration structures are
 * (vendor capabilities, checked against the BARs), the device status
 * protocol, feature bits, virtqueue set-up and configuration reads. Control
 * path only; the data path writes notifications itself (vpci_notify).
 */
#ifndef VIRTIO_PCI_H
#define VIRTIO_PCI_H

#include <stdbool.h>
#include <stdint.h>

#include <pdk_vfio.h>
#include <pdk_virtio_spec.h>

/* One configuration structure: a range of a BAR. */
struct vpci_region {
	struct pdk_vfio_bar *bar; /* NULL when the device has none */
	uint64_t off;
	uint64_t len;
};

struct vpci {
	struct pdk_vfio_dev *vdev;
	const char *name;
	struct vpci_region common, notify, isr, device;
	uint32_t notify_mult;
};

/* Find and check the capabilities. 0, -ENOTSUP (no modern interface),
 * -ENODEV (the device is gone). */
int vpci_init(struct vpci *t, struct pdk_vfio_dev *vdev, const char *name);

uint8_t vpci_status(const struct vpci *t);
void vpci_status_add(const struct vpci *t, uint8_t bits);
/* Write 0 and wait until the device reads 0 (1 s). 0, -ETIMEDOUT, -ENODEV. */
int vpci_reset(const struct vpci *t);

uint64_t vpci_features(const struct vpci *t);
/* Write the driver's features and FEATURES_OK; 0 or -EPROTO when the
 * device did not keep FEATURES_OK (it refused them). */
int vpci_features_set(const struct vpci *t, uint64_t features);

uint16_t vpci_num_queues(const struct vpci *t);
/* The largest size of queue qi (0: the queue does not exist). */
uint16_t vpci_queue_max(const struct vpci *t, uint16_t qi);

struct vpci_ring {
	uint16_t size;
	uint64_t desc, avail, used; /* IOVAs */
};
/* Program and enable queue qi; *notify gets the offset of its notify
 * address in the notify BAR. 0, -EINVAL (device gave a notify offset
 * outside its structure) or -EIO (the queue did not enable). */
int vpci_queue_enable(const struct vpci *t, uint16_t qi, const struct vpci_ring *r,
		      uint64_t *notify);

/* Route configuration changes to MSI-X vector `vec` (NO_VECTOR: none).
 * 0, or -EIO when the device refused the vector. */
int vpci_config_vector(const struct vpci *t, uint16_t vec);

/* Read a field of the device configuration at off, consistently: the
 * generation is read before and after (4.1.4.3.1); 2-byte fields in one
 * access, others byte by byte. 0, -EINVAL (beyond the structure),
 * -EAGAIN (kept changing). */
int vpci_cfg_read(const struct vpci *t, uint32_t off, void *buf, uint32_t len);

/* Read and clear the ISR (4.1.4.5). */
uint8_t vpci_isr(const struct vpci *t);

/* Tell the device queue qi has buffers: a 16-bit write of its index at
 * the queue's notify address (4.1.4.4). */
static inline void vpci_notify(const struct pdk_vfio_bar *bar, uint64_t off, uint16_t qi)
{
	pdk_vfio_bar_write16(bar, off, qi);
}

#endif /* VIRTIO_PCI_H */
