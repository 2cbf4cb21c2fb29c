/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_virtio internals, shared by its files:
 *   virtio_ethdev.c  PCI probe/remove, ethdev ops, start/stop, link, events
 *   virtio_rxtx.c    queue set-up and the Rx/Tx bursts
 *   virtio_pci.c     the modern PCI transport
 *   virtio_ring.h    the split virtqueue (inline)
 */
#ifndef VIRTIO_ETHDEV_H
#define VIRTIO_ETHDEV_H

#include <stdatomic.h>

#include <pdk_ethdev_driver.h>
#include <pdk_memory.h>
#include <pdk_pci.h>

#include "pdk_eth_virtio.h"
#include "virtio_pci.h"
#include "virtio_ring.h"

#define VNET_DRV "net_virtio"
#define VNET_LOG "virtio"
#define VNET_HDR ((uint32_t)sizeof(struct pdk_virtio_net_hdr))
#define VNET_TX_SEGS 64          /* descriptors one packet may take */
#define VNET_FREE_THRESH 32      /* refill/reclaim batch by default */
#define VNET_DESC_MIN 64
#define VNET_MAX_PKTLEN 9728     /* with MRG_RXBUF */

/* Port flags, set by the control thread, read by the bursts (relaxed: a
 * stop sign, not an ordering edge). */
#define VNET_F_GONE 0x1          /* surprise removal */
#define VNET_F_NEEDS_RESET 0x2   /* the device gave up: stop and start again */

/* What both queue kinds hold. The ring comes first: the bursts live in it. */
struct vnet_queue {
	struct vq_ring r;
	struct pdk_vfio_bar *notify_bar;
	uint64_t notify_off;
	uint16_t vq_index;       /* the virtqueue's number on the device */
	uint16_t qid;            /* the ethdev queue */
	uint16_t free_thresh;
	const _Atomic uint32_t *flags;
	struct pdk_eth_queue_counters *cnt;
	const struct pdk_memzone *mz; /* rings (and the Tx header) */
	void *priv;              /* vq_ring_priv_bytes() */
	pdk_iova_t iova;         /* of the rings */
	struct vq_layout layout;
};

struct vnet_rxq {
	struct vnet_queue q;
	struct pdk_mempool *mp;
	uint16_t port;
	bool mrg;                /* MRG_RXBUF: packets over several buffers */
	struct pdk_mbuf *head;   /* a merged packet being put together */
	struct pdk_mbuf *tail;
	uint16_t left;           /* buffers it still needs */
	uint64_t bad_hdr;        /* num_buffers nonsense (breaks the ring) */
	uint64_t short_len;      /* used length below the header: dropped */
};

struct vnet_txq {
	struct vnet_queue q;
	pdk_iova_t zero_hdr;     /* a header of zeros, for packets we cannot
				    push one into */
	uint64_t too_many_segs;  /* dropped */
};

/* A device this driver attached; outlives its ethdev port (which the
 * application may close first). */
struct vnet_dev {
	struct vpci t;
	struct pdk_pci_device *pdev;
	struct pdk_eth_dev *eth;  /* NULL once the port is closed */
	char name[PDK_ETH_NAME_MAX];
	uint64_t offered;
	uint64_t features;        /* negotiated at the last start */
	uint16_t max_pairs;
	uint16_t qsize_max;
	uint16_t nb_pairs;        /* in use since the last start */
	bool running;             /* started (DRIVER_OK) and not stopped */
	bool phys_addrs;          /* no ACCESS_PLATFORM: IOVA must be PA */
	_Atomic uint32_t flags;   /* VNET_F_* */
	int cfg_fd;               /* MSI-X vector 0: configuration changes */
	struct vnet_queue *ctrl;  /* the control queue with MQ */
	uint8_t *ctrl_buf;        /* its command buffer (DMA) */
	pdk_iova_t ctrl_iova;
	_Atomic uint64_t cfg_irqs;
	_Atomic uint64_t needs_reset;
	_Atomic uint64_t removed;
	uint64_t link_changes;
	struct vnet_dev *next;
};

/* dev->priv of the ethdev port. */
struct vnet_port {
	struct vnet_dev *vd;
};

static inline struct vnet_dev *vnet_of(const struct pdk_eth_dev *dev)
{
	return ((const struct vnet_port *)dev->priv)->vd;
}

static inline bool vnet_has(const struct vnet_dev *vd, unsigned feature)
{
	return vd->features & PDK_VIRTIO_BIT(feature);
}

/* virtio_rxtx.c */
int vnet_rxq_setup(struct pdk_eth_dev *dev, uint16_t qid, uint16_t nb_desc, int socket,
		   const struct pdk_eth_rxconf *conf, struct pdk_mempool *mp);
int vnet_txq_setup(struct pdk_eth_dev *dev, uint16_t qid, uint16_t nb_desc, int socket,
		   const struct pdk_eth_txconf *conf);
void vnet_rxq_release(struct pdk_eth_dev *dev, uint16_t qid);
void vnet_txq_release(struct pdk_eth_dev *dev, uint16_t qid);
int vnet_queue_enable(struct vnet_dev *vd, struct vnet_queue *q);
int vnet_rxq_fill(struct vnet_rxq *rxq);
void vnet_rxq_drain(struct vnet_rxq *rxq);
void vnet_txq_drain(struct vnet_txq *txq);
void vnet_txq_reclaim(struct vnet_txq *txq);
int vnet_queue_alloc(struct vnet_queue *q, const char *what, uint16_t port,
		     uint16_t qid, uint16_t size, size_t extra, int socket);
void vnet_queue_free(struct vnet_queue *q);
uint16_t vnet_rx_burst(void *queue, struct pdk_mbuf **pkts, uint16_t n);
uint16_t vnet_tx_burst(void *queue, struct pdk_mbuf **pkts, uint16_t n);

#endif /* VIRTIO_ETHDEV_H */
