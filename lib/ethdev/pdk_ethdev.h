/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ethernet ports, the shape DPDK users know:
 *
 *   pdk_eal_init(argc, argv);                  // --vdev net_null0 creates port 0
 *   struct pdk_mempool *mp = pdk_pktmbuf_pool_create("mb", 8191, 256, 0,
 *                              PDK_MBUF_DEFAULT_BUF_SIZE, PDK_SOCKET_ANY);
 *   pdk_eth_dev_configure(0, 1, 1, NULL);      // one Rx, one Tx queue
 *   pdk_eth_rx_queue_setup(0, 0, 1024, PDK_SOCKET_ANY, NULL, mp);
 *   pdk_eth_tx_queue_setup(0, 0, 1024, PDK_SOCKET_ANY, NULL);
 *   pdk_eth_dev_start(0);
 *   n = pdk_eth_rx_burst(0, 0, pkts, 32);      // inline, no syscall
 *   sent = pdk_eth_tx_burst(0, 0, pkts, n);    // the rest stay the caller's
 *   pdk_eth_dev_stop(0);
 *   pdk_eth_dev_close(0);
 *
 * Ports are created by drivers: virtual ones from --vdev (net_null,
 * net_ring), PCI ones when a PCI driver probes a device. Control functions
 * are for one thread at a time (the application's control thread) and
 * never while another thread bursts on the same port; the burst functions
 * are for one thread per queue. Control functions return 0 or a negative
 * errno and log why: -ENODEV for a port that does not exist, -EINVAL for a
 * bad queue id, queue count or descriptor count (the log names the valid
 * range), -EBUSY for a change a started port cannot take, -ENOTSUP for
 * something the driver cannot do.
 */
#ifndef PDK_ETHDEV_H
#define PDK_ETHDEV_H

#include <errno.h>
#include <stdbool.h>
#include <stdint.h>

#include <pdk_common.h>
#include <pdk_ether.h>
#include <pdk_mbuf.h>
#include <pdk_mempool.h>

#ifdef __cplusplus
extern "C" {
#endif

#define PDK_ETH_MAX_PORTS 32
#define PDK_ETH_MAX_QUEUES 16 /* per direction and port */
#define PDK_ETH_NAME_MAX 64
/* Per-queue counters in struct pdk_eth_stats (same as DPDK's default). */
#define PDK_ETH_QUEUE_STAT_CNTRS PDK_ETH_MAX_QUEUES

/* Descriptor counts a queue accepts: nb_min..nb_max, a multiple of nb_align. */
struct pdk_eth_desc_lim {
	uint16_t nb_max;
	uint16_t nb_min;
	uint16_t nb_align;
};

struct pdk_eth_dev_info {
	const char *driver_name;  /* "net_null", "net_ring", "net_virtio" */
	const char *name;         /* the port's device name ("net_null0") */
	uint16_t max_rx_queues;
	uint16_t max_tx_queues;
	struct pdk_eth_desc_lim rx_desc_lim;
	struct pdk_eth_desc_lim tx_desc_lim;
	uint16_t default_rxd;     /* what a descriptor count of 0 means */
	uint16_t default_txd;
	uint32_t min_rx_bufsize;  /* data room an Rx mbuf needs at least */
	uint32_t max_rx_pktlen;
	uint32_t speed_capa;      /* Mbps of the fastest link it can have */
	bool link_up_down;        /* pdk_eth_link_up()/down() are supported */
	int socket;               /* NUMA node, PDK_SOCKET_ANY if unknown */
};

/* Port settings for pdk_eth_dev_configure() (NULL: defaults). */
struct pdk_eth_conf {
	uint32_t mtu;             /* 0: PDK_ETHER_MTU */
};

/* Queue settings (NULL: the driver's defaults). */
struct pdk_eth_rxconf {
	uint16_t rx_free_thresh;  /* refill in batches of this many; 0: default */
};

struct pdk_eth_txconf {
	uint16_t tx_free_thresh;  /* reclaim when fewer are free; 0: default */
};

#define PDK_ETH_LINK_DOWN 0
#define PDK_ETH_LINK_UP 1
#define PDK_ETH_LINK_HALF_DUPLEX 0
#define PDK_ETH_LINK_FULL_DUPLEX 1
#define PDK_ETH_SPEED_NUM_NONE 0
#define PDK_ETH_SPEED_NUM_10G 10000
#define PDK_ETH_SPEED_NUM_UNKNOWN UINT32_MAX

struct pdk_eth_link {
	uint32_t link_speed;  /* Mbps; PDK_ETH_SPEED_NUM_UNKNOWN if unknown */
	uint8_t link_duplex;  /* PDK_ETH_LINK_{HALF,FULL}_DUPLEX */
	uint8_t link_autoneg;
	uint8_t link_status;  /* PDK_ETH_LINK_{DOWN,UP} */
};

/*
 * Counters since the port was created or last reset. i = received,
 * o = sent. imissed: packets the device dropped for want of room in an Rx
 * queue; ierrors: bad packets received; oerrors: packets the device failed
 * to send; rx_nombuf: packets not received for want of an mbuf. Per-queue
 * arrays cover queues 0..PDK_ETH_QUEUE_STAT_CNTRS-1; q_errors counts Rx
 * errors of that queue (as in DPDK).
 */
struct pdk_eth_stats {
	uint64_t ipackets;
	uint64_t opackets;
	uint64_t ibytes;
	uint64_t obytes;
	uint64_t imissed;
	uint64_t ierrors;
	uint64_t oerrors;
	uint64_t rx_nombuf;
	uint64_t q_ipackets[PDK_ETH_QUEUE_STAT_CNTRS];
	uint64_t q_opackets[PDK_ETH_QUEUE_STAT_CNTRS];
	uint64_t q_ibytes[PDK_ETH_QUEUE_STAT_CNTRS];
	uint64_t q_obytes[PDK_ETH_QUEUE_STAT_CNTRS];
	uint64_t q_errors[PDK_ETH_QUEUE_STAT_CNTRS];
};

/* Number of ports that exist. */
PDK_API uint16_t pdk_eth_dev_count_avail(void);
/* True when `port` names a port that exists. */
PDK_API bool pdk_eth_dev_is_valid_port(uint16_t port);
/* The next existing port at or after `port`, or PDK_ETH_MAX_PORTS. */
PDK_API uint16_t pdk_eth_dev_next(uint16_t port);

#define PDK_ETH_FOREACH_DEV(p)                                                \
	for ((p) = pdk_eth_dev_next(0); (p) < PDK_ETH_MAX_PORTS;               \
	     (p) = pdk_eth_dev_next((uint16_t)((p) + 1)))

/* Port id of the port called `name` ("net_null0"), or -ENODEV. */
PDK_API int pdk_eth_dev_lookup(const char *name);
/* The port's device name, or NULL with errno ENODEV. */
PDK_API const char *pdk_eth_dev_name(uint16_t port);

PDK_API int pdk_eth_dev_info_get(uint16_t port, struct pdk_eth_dev_info *info);

/*
 * Set the number of Rx and Tx queues (at least one in total, each at most
 * the driver's max) and the port settings. The port must be stopped;
 * queues set up before are released.
 */
PDK_API int pdk_eth_dev_configure(uint16_t port, uint16_t nb_rxq,
				  uint16_t nb_txq,
				  const struct pdk_eth_conf *conf);

/*
 * Set up Rx queue `queue` with `nb_desc` descriptors (0: the driver's
 * default) taking mbufs from `mp`. The port must be configured and
 * stopped. Setting up a queue again replaces it.
 */
PDK_API int pdk_eth_rx_queue_setup(uint16_t port, uint16_t queue,
				   uint16_t nb_desc, int socket,
				   const struct pdk_eth_rxconf *conf,
				   struct pdk_mempool *mp);
PDK_API int pdk_eth_tx_queue_setup(uint16_t port, uint16_t queue,
				   uint16_t nb_desc, int socket,
				   const struct pdk_eth_txconf *conf);

/* Start the port: every configured queue must be set up. Starting a
 * started port does nothing. */
PDK_API int pdk_eth_dev_start(uint16_t port);
/* Stop it: bursts return 0 from now on. Stopping a stopped port does
 * nothing. */
PDK_API int pdk_eth_dev_stop(uint16_t port);
/* Release the port and its queues; its id becomes free. A started port is
 * stopped first. */
PDK_API int pdk_eth_dev_close(uint16_t port);
PDK_API bool pdk_eth_dev_is_started(uint16_t port);

PDK_API int pdk_eth_macaddr_get(uint16_t port, struct pdk_ether_addr *mac);
/* Set the port's address: -EINVAL for a group or all-zero address. */
PDK_API int pdk_eth_macaddr_set(uint16_t port, const struct pdk_ether_addr *mac);

/* Link state now (never waits). */
PDK_API int pdk_eth_link_get(uint16_t port, struct pdk_eth_link *link);
/* Bring the link up or down where the driver can (-ENOTSUP otherwise). */
PDK_API int pdk_eth_link_up(uint16_t port);
PDK_API int pdk_eth_link_down(uint16_t port);

PDK_API int pdk_eth_promiscuous_enable(uint16_t port);
PDK_API int pdk_eth_promiscuous_disable(uint16_t port);
/* 1 when enabled, 0 when not, or -ENODEV. */
PDK_API int pdk_eth_promiscuous_get(uint16_t port);

/* Read the counters (any thread may, while others burst). */
PDK_API int pdk_eth_stats_get(uint16_t port, struct pdk_eth_stats *stats);
/* Count from zero again. Safe while other threads burst: a reset records
 * the current values and later reads subtract them. */
PDK_API int pdk_eth_stats_reset(uint16_t port);

/* "up 10000 Mbps full-duplex" / "down" into buf. */
PDK_API void pdk_eth_link_format(char *buf, size_t size,
				 const struct pdk_eth_link *link);

#include <pdk_ethdev_inline.h>

#ifdef __cplusplus
}
#endif
#endif /* PDK_ETHDEV_H */
