/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Virtio structures and constants, from the Virtual I/O Device (VIRTIO)
 * specification 1.2 (section numbers cite it): the modern PCI transport,
 * split virtqueues and the network device. Shared by the virtio-net driver
 * (drivers/net/virtio) and the emulated device (lib/emu/virtio_net*.c);
 * every size is checked at compile time. Fields are little-endian; PDK
 * runs on little-endian hosts only (x86-64, arm64), so they are plain
 * integers here.
 */
#ifndef PDK_VIRTIO_SPEC_H
#define PDK_VIRTIO_SPEC_H

#include <assert.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* 4.1.2 PCI Device Discovery: vendor 0x1af4; modern ids are 0x1040 + the
 * device type (1 = network), transitional network devices are 0x1000. */
#define PDK_VIRTIO_PCI_VENDOR 0x1af4
#define PDK_VIRTIO_PCI_DEVICE_NET_MODERN 0x1041
#define PDK_VIRTIO_PCI_DEVICE_NET_TRANSITIONAL 0x1000
#define PDK_VIRTIO_ID_NET 1

/* 2.1 Device Status Field */
#define PDK_VIRTIO_STATUS_ACKNOWLEDGE 0x01
#define PDK_VIRTIO_STATUS_DRIVER 0x02
#define PDK_VIRTIO_STATUS_DRIVER_OK 0x04
#define PDK_VIRTIO_STATUS_FEATURES_OK 0x08
#define PDK_VIRTIO_STATUS_NEEDS_RESET 0x40
#define PDK_VIRTIO_STATUS_FAILED 0x80

/* 6 Reserved Feature Bits (device-independent) */
#define PDK_VIRTIO_F_INDIRECT_DESC 28
#define PDK_VIRTIO_F_EVENT_IDX 29
#define PDK_VIRTIO_F_VERSION_1 32
#define PDK_VIRTIO_F_ACCESS_PLATFORM 33
#define PDK_VIRTIO_F_RING_PACKED 34
#define PDK_VIRTIO_F_IN_ORDER 35

/* 5.1.3 Network device feature bits */
#define PDK_VIRTIO_NET_F_CSUM 0
#define PDK_VIRTIO_NET_F_MTU 3
#define PDK_VIRTIO_NET_F_MAC 5
#define PDK_VIRTIO_NET_F_MRG_RXBUF 15
#define PDK_VIRTIO_NET_F_STATUS 16
#define PDK_VIRTIO_NET_F_CTRL_VQ 17
#define PDK_VIRTIO_NET_F_CTRL_RX 18
#define PDK_VIRTIO_NET_F_MQ 22

#define PDK_VIRTIO_BIT(f) (1ull << (f))

/* 4.1.4 Virtio Structure PCI Capabilities: cfg_type values */
#define PDK_VIRTIO_PCI_CAP_COMMON_CFG 1
#define PDK_VIRTIO_PCI_CAP_NOTIFY_CFG 2
#define PDK_VIRTIO_PCI_CAP_ISR_CFG 3
#define PDK_VIRTIO_PCI_CAP_DEVICE_CFG 4
#define PDK_VIRTIO_PCI_CAP_PCI_CFG 5

/* 4.1.4 struct virtio_pci_cap: a vendor-specific (id 0x09) capability. */
struct pdk_virtio_pci_cap {
	uint8_t cap_vndr;   /* 0x09 */
	uint8_t cap_next;
	uint8_t cap_len;    /* at least sizeof(struct pdk_virtio_pci_cap) */
	uint8_t cfg_type;   /* PDK_VIRTIO_PCI_CAP_* */
	uint8_t bar;        /* 0..5 */
	uint8_t id;         /* several of one type: which one */
	uint8_t padding[2];
	uint32_t offset;    /* in the BAR */
	uint32_t length;    /* bytes of the structure */
};
static_assert(sizeof(struct pdk_virtio_pci_cap) == 16, "4.1.4 virtio_pci_cap");

/* 4.1.4.4 Notification structure layout */
struct pdk_virtio_pci_notify_cap {
	struct pdk_virtio_pci_cap cap;
	uint32_t notify_off_multiplier; /* queue_notify_off times this */
};
static_assert(sizeof(struct pdk_virtio_pci_notify_cap) == 20,
	      "4.1.4.4 virtio_pci_notify_cap");

/* 4.1.4.3 Common configuration structure layout */
struct pdk_virtio_pci_common_cfg {
	/* about the whole device */
	uint32_t device_feature_select; /* read-write */
	uint32_t device_feature;        /* read-only for driver */
	uint32_t driver_feature_select; /* read-write */
	uint32_t driver_feature;        /* read-write */
	uint16_t config_msix_vector;    /* read-write */
	uint16_t num_queues;            /* read-only for driver */
	uint8_t device_status;          /* read-write */
	uint8_t config_generation;      /* read-only for driver */
	/* about a specific virtqueue */
	uint16_t queue_select;          /* read-write */
	uint16_t queue_size;            /* read-write */
	uint16_t queue_msix_vector;     /* read-write */
	uint16_t queue_enable;          /* read-write */
	uint16_t queue_notify_off;      /* read-only for driver */
	uint64_t queue_desc;            /* read-write */
	uint64_t queue_driver;          /* read-write: the available ring */
	uint64_t queue_device;          /* read-write: the used ring */
};
static_assert(sizeof(struct pdk_virtio_pci_common_cfg) == 56,
	      "4.1.4.3 virtio_pci_common_cfg (1.0 layout)");

#define PDK_VIRTIO_COMMON_OFF(f) offsetof(struct pdk_virtio_pci_common_cfg, f)
static_assert(PDK_VIRTIO_COMMON_OFF(device_status) == 20 &&
		      PDK_VIRTIO_COMMON_OFF(queue_select) == 22 &&
		      PDK_VIRTIO_COMMON_OFF(queue_desc) == 32,
	      "4.1.4.3 field offsets");

/* 4.1.4.3: an MSI-X vector register reads this when none is mapped. */
#define PDK_VIRTIO_MSI_NO_VECTOR 0xffff

/* 4.1.4.5 ISR status: read to clear */
#define PDK_VIRTIO_ISR_QUEUE 0x1
#define PDK_VIRTIO_ISR_CONFIG 0x2

/* 2.7 Split Virtqueues: the largest queue, a power of two. */
#define PDK_VIRTQ_SIZE_MAX 32768

/* 2.7.5 The Virtqueue Descriptor Table */
#define PDK_VIRTQ_DESC_F_NEXT 1
#define PDK_VIRTQ_DESC_F_WRITE 2
#define PDK_VIRTQ_DESC_F_INDIRECT 4

struct pdk_virtq_desc {
	uint64_t addr;  /* IOVA of the buffer */
	uint32_t len;
	uint16_t flags; /* PDK_VIRTQ_DESC_F_* */
	uint16_t next;  /* with F_NEXT */
};
static_assert(sizeof(struct pdk_virtq_desc) == 16, "2.7.5 virtq_desc");

/* 2.7.6 The Virtqueue Available Ring: flags, idx, ring[size], used_event */
#define PDK_VIRTQ_AVAIL_F_NO_INTERRUPT 1

struct pdk_virtq_avail {
	uint16_t flags;
	uint16_t idx;
	uint16_t ring[]; /* then le16 used_event (with EVENT_IDX) */
};
static_assert(sizeof(struct pdk_virtq_avail) == 4, "2.7.6 virtq_avail header");

/* 2.7.8 The Virtqueue Used Ring: flags, idx, ring[size], avail_event */
#define PDK_VIRTQ_USED_F_NO_NOTIFY 1

struct pdk_virtq_used_elem {
	uint32_t id;  /* head of the descriptor chain */
	uint32_t len; /* bytes written into its device-writable part */
};
static_assert(sizeof(struct pdk_virtq_used_elem) == 8, "2.7.8 virtq_used_elem");

struct pdk_virtq_used {
	uint16_t flags;
	uint16_t idx;
	struct pdk_virtq_used_elem ring[]; /* then le16 avail_event */
};
static_assert(sizeof(struct pdk_virtq_used) == 4, "2.7.8 virtq_used header");

/* The event fields after each ring (2.7.7, 2.7.10; with EVENT_IDX). */
static inline uint16_t *pdk_virtq_used_event(struct pdk_virtq_avail *a, unsigned size)
{
	return &a->ring[size];
}

static inline uint16_t *pdk_virtq_avail_event(struct pdk_virtq_used *u, unsigned size)
{
	return (uint16_t *)(void *)&u->ring[size];
}

/* 2.7 alignment of each part, and the bytes each takes for `size` entries
 * (with the event fields, which EVENT_IDX adds). */
#define PDK_VIRTQ_DESC_ALIGN 16
#define PDK_VIRTQ_AVAIL_ALIGN 2
#define PDK_VIRTQ_USED_ALIGN 4

static inline size_t pdk_virtq_desc_bytes(unsigned size)
{
	return 16u * size;
}

static inline size_t pdk_virtq_avail_bytes(unsigned size)
{
	return 4u + 2u * size + 2u;
}

static inline size_t pdk_virtq_used_bytes(unsigned size)
{
	return 4u + 8u * size + 2u;
}

/*
 * 2.7.7 / 2.7.10 notification suppression with EVENT_IDX: the other side
 * asked to hear once index `event` is passed. Having moved the index from
 * `old_idx` to `new_idx`, notify when `event` lies in [old_idx, new_idx),
 * all in 16-bit wrap-around arithmetic.
 */
static inline int pdk_virtq_need_event(uint16_t event, uint16_t new_idx,
				       uint16_t old_idx)
{
	return (uint16_t)(new_idx - event - 1) < (uint16_t)(new_idx - old_idx);
}

/* 5.1.4 Network device configuration layout */
#define PDK_VIRTIO_NET_S_LINK_UP 1
#define PDK_VIRTIO_NET_S_ANNOUNCE 2

struct pdk_virtio_net_config {
	uint8_t mac[6];
	uint16_t status;              /* with VIRTIO_NET_F_STATUS */
	uint16_t max_virtqueue_pairs; /* with VIRTIO_NET_F_MQ */
	uint16_t mtu;                 /* with VIRTIO_NET_F_MTU */
};
static_assert(sizeof(struct pdk_virtio_net_config) == 12, "5.1.4 virtio_net_config");
#define PDK_VIRTIO_NET_CFG_OFF(f) offsetof(struct pdk_virtio_net_config, f)

/* 5.1.6 struct virtio_net_hdr: before every packet, both directions. With
 * VERSION_1 it always has num_buffers (12 bytes). */
#define PDK_VIRTIO_NET_HDR_F_NEEDS_CSUM 1
#define PDK_VIRTIO_NET_HDR_GSO_NONE 0

struct pdk_virtio_net_hdr {
	uint8_t flags;
	uint8_t gso_type;
	uint16_t hdr_len;
	uint16_t gso_size;
	uint16_t csum_start;
	uint16_t csum_offset;
	uint16_t num_buffers; /* Rx with MRG_RXBUF: buffers this packet spans */
};
static_assert(sizeof(struct pdk_virtio_net_hdr) == 12, "5.1.6 virtio_net_hdr");

/* 5.1.6.5 Control Virtqueue: class, command, data, then an ack byte the
 * device writes. */
#define PDK_VIRTIO_NET_OK 0
#define PDK_VIRTIO_NET_ERR 1

struct pdk_virtio_net_ctrl_hdr {
	uint8_t cls; /* class */
	uint8_t cmd;
};
static_assert(sizeof(struct pdk_virtio_net_ctrl_hdr) == 2, "5.1.6.5 virtio_net_ctrl");

/* 5.1.6.5.5 Automatic receive steering in multiqueue mode */
#define PDK_VIRTIO_NET_CTRL_MQ 4
#define PDK_VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET 0
#define PDK_VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN 1
#define PDK_VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MAX 0x8000

/* 5.1.2 Virtqueues: receiveq N = 2N, transmitq N = 2N + 1; the control
 * queue follows the last pair (2 x max_virtqueue_pairs with MQ, else 2). */
static inline unsigned pdk_virtio_net_rxq(unsigned pair)
{
	return 2 * pair;
}

static inline unsigned pdk_virtio_net_txq(unsigned pair)
{
	return 2 * pair + 1;
}

#ifdef __cplusplus
}
#endif
#endif /* PDK_VIRTIO_SPEC_H */
