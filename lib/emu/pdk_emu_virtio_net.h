/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * "virtio-net": an emulated virtio 1.x network device, modern PCI
 * transport (vendor 0x1af4, device 0x1041, revision 1), split virtqueues.
 * Drivers find everything through the vendor capabilities in config space
 * (virtio 1.2, 4.1.4); the layout below is for tests and for people.
 *
 * BAR4 (64-bit, 32 KiB):
 *   0x0000  common configuration (trapped: every access is a message)
 *   0x1000  ISR status (trapped: read to clear)
 *   0x2000  device configuration: struct pdk_virtio_net_config (mapped)
 *   0x3000  notifications: queue N at 0x3000 + 4 * N (mapped, polled)
 *   0x4000  MSI-X table and PBA with msix=shared (kept out of the
 *           mappable areas either way)
 * BAR1: the MSI-X table and PBA with msix=own.
 * Vectors: 1 (configuration) + one per virtqueue by default.
 *
 * Wiring (`wire=`): `loopback` (frames sent come back on the same
 * device), `pair` (two devices with the same `pair=NAME`, each receiving
 * what the other sends), `gen` (receive frames of `gen-size` bytes at
 * `gen-pps`, transmitted frames are counted and dropped).
 */
#ifndef PDK_EMU_VIRTIO_NET_H
#define PDK_EMU_VIRTIO_NET_H

#include <stdint.h>

#include <pdk_emu.h>

#ifdef __cplusplus
extern "C" {
#endif

#define VNET_EMU_BAR 4
#define VNET_EMU_BAR_SIZE 0x8000
#define VNET_EMU_COMMON_OFF 0x0000
#define VNET_EMU_ISR_OFF 0x1000
#define VNET_EMU_DEVCFG_OFF 0x2000
#define VNET_EMU_NOTIFY_OFF 0x3000
#define VNET_EMU_NOTIFY_MULT 4
#define VNET_EMU_MSIX_SHARED_OFF 0x4000
#define VNET_EMU_MSIX_OWN_BAR 1
#define VNET_EMU_PAIRS_MAX 16

/* What the device did, since it was created. */
struct pdk_emu_virtio_net_stats {
	uint64_t tx_frames;     /* taken from transmit queues and sent on */
	uint64_t tx_bytes;
	uint64_t tx_dropped;    /* link down, nobody to receive, too large */
	uint64_t rx_frames;     /* written into receive queues */
	uint64_t rx_bytes;
	uint64_t rx_dropped;    /* driver not ready, no buffer (gen), too large */
	uint64_t kicks;         /* available-buffer notifications seen */
	uint64_t irqs;          /* used-buffer notifications sent */
	uint64_t config_irqs;   /* configuration change notifications sent */
	uint64_t ctrl_cmds;     /* control queue commands handled */
	uint64_t bad_used;      /* malformed used entries written (fault) */
	uint64_t needs_reset;   /* times DEVICE_NEEDS_RESET was set */
	uint64_t resets;        /* device resets (status 0, FLR, client gone) */
	uint64_t link_changes;
};

/* Counters of a virtio-net device (any thread). 0 or -EINVAL. */
PDK_API int pdk_emu_virtio_net_stats(struct pdk_emu_dev *dev,
				     struct pdk_emu_virtio_net_stats *st);

#ifdef __cplusplus
}
#endif
#endif /* PDK_EMU_VIRTIO_NET_H */
