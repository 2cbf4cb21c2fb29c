/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_ring: ports backed by pdk rings. A packet sent on Tx queue q is
 * enqueued on that queue's ring; Rx queue q dequeues from its ring.
 *
 * From the command line:
 *   --vdev net_ring0                     loopback: Tx queue q feeds Rx queue q
 *   --vdev net_ring0 --vdev net_ring1,peer=net_ring0
 *                                        a wire: what one sends, the other
 *                                        receives (net_ring0 must come first)
 *   options: queues=<1-16> (default 1, or the peer's), size=<ring entries,
 *            a power of two, 2-65536, default 1024>, peer=<port name>
 *
 * From code, over rings of your own (they stay yours: closing the port does
 * not free them):
 *   struct pdk_ring *r = pdk_ring_create("wire", 1024, PDK_SOCKET_ANY,
 *                                        PDK_RING_F_SP_ENQ | PDK_RING_F_SC_DEQ);
 *   int port = pdk_eth_ring_port_create("net_ring_app0", &r, 1, &r, 1);
 */
#ifndef PDK_ETH_RING_H
#define PDK_ETH_RING_H

#include <pdk_ring.h>

#ifdef __cplusplus
extern "C" {
#endif

/*
 * Create port `name` whose Rx queue q dequeues from rx[q] (q < nb_rx) and
 * whose Tx queue q enqueues on tx[q] (q < nb_tx). A ring may appear in
 * both lists or in two ports' lists. Returns the port id or a negative
 * errno (-EINVAL, -EEXIST, -ENOSPC, -ENOMEM) after logging why.
 */
PDK_API int pdk_eth_ring_port_create(const char *name,
				     struct pdk_ring *const rx[], unsigned nb_rx,
				     struct pdk_ring *const tx[], unsigned nb_tx);

#ifdef __cplusplus
}
#endif
#endif /* PDK_ETH_RING_H */
