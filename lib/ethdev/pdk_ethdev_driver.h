/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The driver side of ethdev: what a poll-mode driver implements and the
 * calls it makes to become a port. For drivers, not applications.
 *
 * A driver has a `static const struct pdk_eth_dev_ops` table. To create a
 * port (from a vdev probe or a PCI probe) it calls pdk_eth_dev_allocate(),
 * fills dev->mac_addr and the burst functions, and calls
 * pdk_eth_dev_probing_finish(); on removal pdk_eth_dev_close() or, before
 * probing finished, pdk_eth_dev_release().
 *
 * Ethdev checks every id, count and state before calling an op, so ops see
 * only valid arguments: a queue id below the configured count, a descriptor
 * count within the driver's limits, a stopped port for configure/setup.
 */
#ifndef PDK_ETHDEV_DRIVER_H
#define PDK_ETHDEV_DRIVER_H

#include <stdalign.h>
#include <stdatomic.h>

#include <pdk_ethdev.h>

#ifdef __cplusplus
extern "C" {
#endif

struct pdk_eth_dev;

/*
 * Per-queue counters, kept by the driver's burst functions and summed by
 * pdk_eth_stats_get(). One writer (the thread bursting on the queue);
 * atomics so the control thread may read them at any time. One cache line
 * each so queues on different lcores never share one.
 */
struct pdk_eth_queue_counters {
	alignas(PDK_CACHE_LINE) _Atomic uint64_t packets;
	_Atomic uint64_t bytes;
	_Atomic uint64_t errors;  /* Rx: ierrors; Tx: oerrors */
	_Atomic uint64_t missed;  /* Rx: imissed */
	_Atomic uint64_t nombuf;  /* Rx: rx_nombuf */
};

/* Add v to a counter only the calling thread writes: a plain load and
 * store, no locked instruction. relaxed: readers need each value, not an
 * order between them. */
static inline void pdk_eth_counter_add(_Atomic uint64_t *c, uint64_t v)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + v,
			      memory_order_relaxed);
}

/* Ops. Those marked optional may be NULL. */
struct pdk_eth_dev_ops {
	/* Limits and defaults; ethdev fills driver_name, name and socket. */
	void (*dev_info)(struct pdk_eth_dev *dev, struct pdk_eth_dev_info *info);
	/* Optional: check dev->nb_rxq, dev->nb_txq and dev->conf. */
	int (*configure)(struct pdk_eth_dev *dev);
	/* Create queue data and store it in dev->rxq[q] / dev->txq[q]. */
	int (*rx_queue_setup)(struct pdk_eth_dev *dev, uint16_t q, uint16_t nb_desc,
			      int socket, const struct pdk_eth_rxconf *conf,
			      struct pdk_mempool *mp);
	int (*tx_queue_setup)(struct pdk_eth_dev *dev, uint16_t q, uint16_t nb_desc,
			      int socket, const struct pdk_eth_txconf *conf);
	/* Free dev->rxq[q] / dev->txq[q] (ethdev then clears the slot). */
	void (*rx_queue_release)(struct pdk_eth_dev *dev, uint16_t q);
	void (*tx_queue_release)(struct pdk_eth_dev *dev, uint16_t q);
	/* Optional: bring the device up or down (queues are set up). */
	int (*start)(struct pdk_eth_dev *dev);
	int (*stop)(struct pdk_eth_dev *dev);
	/* Optional: free what the driver allocated for the port (queues are
	 * released already); dev->priv is freed by ethdev. */
	void (*close)(struct pdk_eth_dev *dev);
	/* Optional: refresh dev->link (the device may change it on its own). */
	int (*link_update)(struct pdk_eth_dev *dev);
	/* Optional: administrative link up/down. */
	int (*link_up)(struct pdk_eth_dev *dev);
	int (*link_down)(struct pdk_eth_dev *dev);
	/* Optional (then promiscuous mode is -ENOTSUP). */
	int (*promiscuous_set)(struct pdk_eth_dev *dev, bool on);
	/* Optional (then the address is only recorded). */
	int (*mac_addr_set)(struct pdk_eth_dev *dev, const struct pdk_ether_addr *mac);
	/* Optional: add device-level counters (e.g. imissed a device counts). */
	void (*stats_add)(struct pdk_eth_dev *dev, struct pdk_eth_stats *stats);
};

enum pdk_eth_dev_state {
	PDK_ETH_DEV_UNUSED = 0,
	PDK_ETH_DEV_ALLOCATED, /* between allocate and probing_finish */
	PDK_ETH_DEV_ATTACHED,
};

struct pdk_eth_dev {
	uint16_t port_id;
	enum pdk_eth_dev_state state;
	char name[PDK_ETH_NAME_MAX];
	const char *driver_name;
	const struct pdk_eth_dev_ops *ops;
	void *priv;                      /* driver private area, zeroed */
	int socket;

	/* Set by the driver before probing_finish. */
	pdk_eth_burst_t rx_burst;
	pdk_eth_burst_t tx_burst;
	struct pdk_ether_addr mac_addr;
	struct pdk_eth_link link;        /* the driver keeps it current */

	/* Kept by ethdev; drivers read them. */
	bool configured;
	bool started;
	bool promiscuous;
	uint16_t nb_rxq;
	uint16_t nb_txq;
	struct pdk_eth_conf conf;
	void *rxq[PDK_ETH_MAX_QUEUES];
	void *txq[PDK_ETH_MAX_QUEUES];

	/* Bursts count here (pdk_eth_dev_rxq_counters()). */
	struct pdk_eth_queue_counters rx_counters[PDK_ETH_MAX_QUEUES];
	struct pdk_eth_queue_counters tx_counters[PDK_ETH_MAX_QUEUES];
	struct pdk_eth_stats stats_base; /* values at the last reset */
	/* Called by the vdev bus or PCI bus to let go of the device. */
	void (*on_close)(struct pdk_eth_dev *dev);
};

/*
 * Take a free port id for a device called `name` (unique) with a zeroed
 * private area of priv_size bytes. Returns NULL and sets errno: EINVAL,
 * ENAMETOOLONG, EEXIST (name in use), ENOSPC (every port id is taken),
 * ENOMEM.
 */
PDK_API struct pdk_eth_dev *pdk_eth_dev_allocate(const char *name,
						 const char *driver_name,
						 const struct pdk_eth_dev_ops *ops,
						 size_t priv_size, int socket);

/* The device is ready: its port id becomes visible to applications. */
PDK_API void pdk_eth_dev_probing_finish(struct pdk_eth_dev *dev);

/* Give the port id back without calling any op (a failed probe). */
PDK_API void pdk_eth_dev_release(struct pdk_eth_dev *dev);

/* The device behind a port id (any state but unused), or NULL. */
PDK_API struct pdk_eth_dev *pdk_eth_dev_get(uint16_t port);
PDK_API struct pdk_eth_dev *pdk_eth_dev_find(const char *name);

/* The counters of a queue; the burst functions add to them. */
static inline struct pdk_eth_queue_counters *
pdk_eth_dev_rxq_counters(struct pdk_eth_dev *dev, uint16_t q)
{
	return &dev->rx_counters[q];
}

static inline struct pdk_eth_queue_counters *
pdk_eth_dev_txq_counters(struct pdk_eth_dev *dev, uint16_t q)
{
	return &dev->tx_counters[q];
}

#ifdef __cplusplus
}
#endif
#endif /* PDK_ETHDEV_DRIVER_H */
