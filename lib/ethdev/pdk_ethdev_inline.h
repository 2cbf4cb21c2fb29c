/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ethdev fast path: Rx/Tx bursts forwarded straight into the driver. Do not
 * include directly: include <pdk_ethdev.h>.
 *
 * Everything a burst needs sits in one flat array indexed by port: the
 * driver's burst functions and each queue's data. A stopped or absent port
 * has zero queues there, so a burst on it, or on a queue id out of range,
 * returns 0 instead of crashing; the checks cost a few compares that the
 * branch predictor always gets right. (nb_rxq/nb_txq never exceed
 * PDK_ETH_MAX_QUEUES; the second compare says so to the compiler.)
 */
#ifndef PDK_ETHDEV_INLINE_H
#define PDK_ETHDEV_INLINE_H

/* Included directly anyway: pdk_ethdev.h defines the types first. */
#include <pdk_ethdev.h>

/* A driver's burst function: `queue` is that queue's data pointer. */
typedef uint16_t (*pdk_eth_burst_t)(void *queue, struct pdk_mbuf **pkts,
				    uint16_t n);

struct pdk_eth_fp_ops {
	pdk_eth_burst_t rx_burst;
	pdk_eth_burst_t tx_burst;
	uint16_t nb_rxq; /* 0 unless the port is started */
	uint16_t nb_txq;
	void *rxq[PDK_ETH_MAX_QUEUES];
	void *txq[PDK_ETH_MAX_QUEUES];
} PDK_CACHE_ALIGNED;

/* Written by the control path when a port starts or stops (never during a
 * burst on that port); read by the bursts. */
PDK_API extern struct pdk_eth_fp_ops pdk_eth_fp_ops[PDK_ETH_MAX_PORTS];

/*
 * Receive up to n packets from Rx queue `queue` of `port` into pkts.
 * Returns how many (0..n); the mbufs are the caller's to free or send.
 */
static inline uint16_t pdk_eth_rx_burst(uint16_t port, uint16_t queue,
					struct pdk_mbuf **pkts, uint16_t n)
{
	const struct pdk_eth_fp_ops *fp;

	if (pdk_unlikely(port >= PDK_ETH_MAX_PORTS))
		return 0;
	fp = &pdk_eth_fp_ops[port];
	if (pdk_unlikely(queue >= fp->nb_rxq || queue >= PDK_ETH_MAX_QUEUES))
		return 0;
	return fp->rx_burst(fp->rxq[queue], pkts, n);
}

/*
 * Send up to n packets on Tx queue `queue` of `port`. Returns how many the
 * driver took (0..n): those are the driver's now; pkts[ret..n-1] stay the
 * caller's (send them again or free them).
 */
static inline uint16_t pdk_eth_tx_burst(uint16_t port, uint16_t queue,
					struct pdk_mbuf **pkts, uint16_t n)
{
	const struct pdk_eth_fp_ops *fp;

	if (pdk_unlikely(port >= PDK_ETH_MAX_PORTS))
		return 0;
	fp = &pdk_eth_fp_ops[port];
	if (pdk_unlikely(queue >= fp->nb_txq || queue >= PDK_ETH_MAX_QUEUES))
		return 0;
	return fp->tx_burst(fp->txq[queue], pkts, n);
}

#endif /* PDK_ETHDEV_INLINE_H */
