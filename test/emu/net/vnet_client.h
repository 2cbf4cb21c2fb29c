/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A small virtio-net driver for testing the emulated device, on the emu
 * tests' vfio-user client (../common/vu_client.h) and the PDK driver's own
 * split virtqueue (drivers/net/virtio/virtio_ring.h). Blocking and plain:
 * the common configuration through messages, notifications and the device
 * configuration through the mapped BAR, rings and buffers in one memfd
 * mapped for DMA.
 */
#ifndef VNET_CLIENT_H
#define VNET_CLIENT_H

#include <stdalign.h>
#include <stdbool.h>
#include <stdint.h>

#include <pdk_emu_virtio_net.h>
#include <virtio_ring.h>

#include "vu_client.h"

#define VNC_DMA_IOVA 0x40000000ull
#define VNC_DMA_SIZE (64u << 20)
#define VNC_BUF 2048u             /* bytes per receive buffer */
#define VNC_TXBUF 16384u          /* bytes per transmit (and control) slot */
#define VNC_VQ_MAX (2 * VNET_EMU_PAIRS_MAX + 1)

struct vnc_q {
	struct vq_ring r;
	uint16_t size;
	uint32_t bufsz;         /* VNC_BUF (receive queues) or VNC_TXBUF */
	uint8_t *bufs;          /* size buffers of bufsz bytes */
	uint64_t bufs_iova;
	uint16_t free[PDK_VIRTQ_SIZE_MAX]; /* free buffer slots (tx) */
	unsigned nfree;
	alignas(8) uint8_t priv[1 << 20]; /* vq_ring private arrays */
};

struct vnc {
	bool open;
	struct vuc c;
	uint8_t *bar;           /* BAR4, mapped where the device allows */
	struct pdk_vfio_user_region reg;
	uint8_t *dma;
	int dma_fd;
	size_t dma_used;
	uint64_t features;      /* offered */
	uint64_t accepted;
	struct vnc_q *q[VNC_VQ_MAX];
};

/* Connect, map BAR4 and the DMA memory, turn bus mastering on. */
int vnc_open(struct vnc *v, const char *sock);
void vnc_close(struct vnc *v);

/* Common configuration fields (through messages: the page is trapped). */
uint32_t vnc_rd(struct vnc *v, size_t off, unsigned size);
void vnc_wr(struct vnc *v, size_t off, unsigned size, uint32_t val);
#define VNC_RD(v, f) vnc_rd(v, PDK_VIRTIO_COMMON_OFF(f), \
			    sizeof(((struct pdk_virtio_pci_common_cfg *)0)->f))
#define VNC_WR(v, f, x) vnc_wr(v, PDK_VIRTIO_COMMON_OFF(f), \
			       sizeof(((struct pdk_virtio_pci_common_cfg *)0)->f), x)

/* Reset, ACKNOWLEDGE|DRIVER, offer `want` (intersected with what the
 * device offers unless `exact`), FEATURES_OK. 0 or -EPROTO when the
 * device refused them (FEATURES_OK did not stick). */
int vnc_negotiate(struct vnc *v, uint64_t want, bool exact);
/* Set queue qi up with `size` entries; vector `msix` (or NO_VECTOR). */
int vnc_queue(struct vnc *v, unsigned qi, uint16_t size, uint16_t msix);
void vnc_driver_ok(struct vnc *v);
uint8_t vnc_status(struct vnc *v);

/* Post every free receive buffer of queue qi, and kick if needed. */
void vnc_rx_fill(struct vnc *v, unsigned qi);
/* Send a frame on transmit queue qi (header added). 0 or -ENOSPC. */
int vnc_send(struct vnc *v, unsigned qi, const void *frame, uint32_t len);
/* The same as a chain: the header, then the frame in pieces of seg bytes. */
int vnc_send_segs(struct vnc *v, unsigned qi, const void *frame, uint32_t len,
		  uint32_t seg);
/* Publish and kick if the device asks for it; true when kicked. */
bool vnc_kick(struct vnc *v, unsigned qi);
/* Take transmit completions back; how many. */
unsigned vnc_reclaim(struct vnc *v, unsigned qi);
/* Receive a frame from queue qi within `ms` (merged buffers joined):
 * its length, 0 on timeout, -EIO when the ring broke. *nbufs gets the
 * header's num_buffers. */
int vnc_recv(struct vnc *v, unsigned qi, void *buf, uint32_t max, int ms,
	     unsigned *nbufs);

/* The control queue's index for the accepted features, -1 without. */
int vnc_ctrl_index(const struct vnc *v);
/* VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET on the control queue: the ack byte,
 * or -ETIMEDOUT / -EIO. */
int vnc_ctrl_mq(struct vnc *v, uint16_t pairs);

/* MSI-X vector eventfds (all of them). */
int vnc_irqs(struct vnc *v, int *fds, unsigned n);
/* ISR (read to clear). */
uint8_t vnc_isr(struct vnc *v);
/* The device configuration's link status. */
uint16_t vnc_link(struct vnc *v);

/* A test frame: dst, src, EtherType 0x88b5, then bytes from seed. */
void vnc_frame(uint8_t *f, uint32_t len, uint32_t seed);

#endif /* VNET_CLIENT_H */
