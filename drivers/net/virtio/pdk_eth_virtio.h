/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_virtio: virtio-net ports (virtio 1.x, modern PCI transport) on any
 * lib/vfio device, kernel vfio-pci or vfio-user. Ports appear when the PCI
 * bus probes a matching device (`-a 0000:00:03.0`, `-a vfio-user:/path`).
 *
 * Besides the ethdev counters (a malformed used entry counts as an Rx or
 * Tx error of its queue), the driver keeps its own, for the device it
 * does not trust: see doc/virtio.md.
 */
#ifndef PDK_ETH_VIRTIO_H
#define PDK_ETH_VIRTIO_H

#include <stdint.h>

#include <pdk_common.h>

#ifdef __cplusplus
extern "C" {
#endif

struct pdk_eth_virtio_xstats {
	/* used entries that broke a ring (summed over the port's queues) */
	uint64_t rx_bad_used_idx;   /* used index ahead of what was outstanding */
	uint64_t rx_bad_used_id;    /* id out of range */
	uint64_t rx_bad_used_stale; /* id not an outstanding chain */
	uint64_t rx_bad_used_len;   /* length beyond the buffer */
	uint64_t tx_bad_used_idx;
	uint64_t tx_bad_used_id;
	uint64_t tx_bad_used_stale;
	uint64_t tx_bad_used_len;
	uint64_t rx_bad_hdr;        /* num_buffers 0 or beyond the queue: broke it */
	uint64_t rx_short;          /* used length below the header: dropped */
	uint64_t tx_too_many_segs;  /* packets of more than 63 segments: dropped */
	uint64_t queues_broken;     /* rings broken now (stop/start repairs) */
	uint64_t kicks;             /* notifications sent */
	uint64_t kicks_saved;       /* notifications the device did not need */
	uint64_t config_irqs;       /* configuration change interrupts */
	uint64_t needs_reset;       /* DEVICE_NEEDS_RESET seen */
	uint64_t removed;           /* surprise removals */
	uint64_t link_changes;
	uint64_t features;          /* negotiated feature bits */
	uint16_t queue_pairs;       /* in use */
	uint16_t max_queue_pairs;   /* the device has */
};

/* The driver's counters of a virtio port, while other threads burst (but
 * not while the control thread sets queues up). 0, -ENODEV (no such
 * port), -EINVAL (not a virtio port). */
PDK_API int pdk_eth_virtio_xstats_get(uint16_t port, struct pdk_eth_virtio_xstats *x);

#ifdef __cplusplus
}
#endif
#endif /* PDK_ETH_VIRTIO_H */
