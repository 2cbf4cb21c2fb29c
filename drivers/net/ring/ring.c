/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_ring: ports whose queues are pdk rings (see pdk_eth_ring.h).
 *
 * Each port has, per queue index, the ring its Rx queue reads and the ring
 * its Tx queue writes. A vdev port creates one ring per queue and reads
 * what it writes (loopback); `peer=` rewires two ports so each reads the
 * other's rings. A port frees the rings it created when it closes, unless
 * its peer still reads or writes them: then the peer takes them over.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <pdk_ethdev_driver.h>
#include <pdk_log.h>
#include <pdk_memory.h>
#include <pdk_vdev.h>

#include "pdk_eth_ring.h"

#define DRV_NAME "net_ring"
#define LOG_COMP "net_ring"
#define USAGE "queues=<1-16>, size=<power of two 2-65536, default 1024>, peer=<port name>"
#define MAX_QUEUES 16
#define DEFAULT_SIZE 1024
#define NO_PEER UINT16_MAX

struct ring_port {
	uint16_t nb_rx, nb_tx;              /* rings given per direction */
	struct pdk_ring *rx[MAX_QUEUES];    /* what Rx queue q reads */
	struct pdk_ring *tx[MAX_QUEUES];    /* what Tx queue q writes */
	struct pdk_ring *owned[MAX_QUEUES * 2]; /* freed at close */
	unsigned nb_owned;
	uint16_t peer;                      /* port id or NO_PEER */
};

struct ring_queue {
	struct pdk_ring *ring;
	struct pdk_eth_queue_counters *cnt;
	uint16_t port;
};

static uint16_t ring_rx(void *queue, struct pdk_mbuf **pkts, uint16_t n)
{
	struct ring_queue *q = queue;
	uint64_t bytes = 0;
	uint16_t got = (uint16_t)pdk_ring_dequeue_burst(q->ring, (void **)pkts, n, NULL);

	for (uint16_t i = 0; i < got; i++) {
		pkts[i]->port = q->port;
		bytes += pkts[i]->pkt_len;
	}
	pdk_eth_counter_add(&q->cnt->packets, got);
	pdk_eth_counter_add(&q->cnt->bytes, bytes);
	return got;
}

static uint16_t ring_tx(void *queue, struct pdk_mbuf **pkts, uint16_t n)
{
	struct ring_queue *q = queue;
	uint64_t bytes = 0;
	uint16_t sent;

	/* Read the lengths first: once enqueued, the mbufs are the reader's. */
	for (uint16_t i = 0; i < n; i++)
		bytes += pkts[i]->pkt_len;
	sent = (uint16_t)pdk_ring_enqueue_burst(q->ring, (void *const *)pkts, n, NULL);
	for (uint16_t i = sent; i < n; i++)
		bytes -= pkts[i]->pkt_len; /* still ours: not sent */
	pdk_eth_counter_add(&q->cnt->packets, sent);
	pdk_eth_counter_add(&q->cnt->bytes, bytes);
	return sent;
}

/* Smallest ring capacity among `rings`: no queue can hold more. */
static uint16_t min_capacity(struct pdk_ring *const *rings, unsigned n)
{
	unsigned cap = UINT16_MAX;

	for (unsigned i = 0; i < n; i++)
		cap = PDK_MIN(cap, pdk_ring_capacity(rings[i]));
	return (uint16_t)cap;
}

static void ring_dev_info(struct pdk_eth_dev *dev, struct pdk_eth_dev_info *info)
{
	const struct ring_port *p = dev->priv;

	info->max_rx_queues = p->nb_rx;
	info->max_tx_queues = p->nb_tx;
	info->rx_desc_lim = (struct pdk_eth_desc_lim){min_capacity(p->rx, p->nb_rx), 1, 1};
	info->tx_desc_lim = (struct pdk_eth_desc_lim){min_capacity(p->tx, p->nb_tx), 1, 1};
	info->default_rxd = info->rx_desc_lim.nb_max;
	info->default_txd = info->tx_desc_lim.nb_max;
	info->speed_capa = PDK_ETH_SPEED_NUM_10G;
}

static int queue_setup(struct pdk_eth_dev *dev, void **slot, int socket,
		       struct pdk_eth_queue_counters *cnt)
{
	struct ring_queue *q;

	q = pdk_zmalloc_socket("net_ring_q", sizeof(*q), PDK_CACHE_LINE, socket);
	if (q == NULL)
		return -ENOMEM;
	q->cnt = cnt;
	q->port = dev->port_id;
	*slot = q; /* the ring is picked at start: peers may rewire until then */
	return 0;
}

static int ring_rxq_setup(struct pdk_eth_dev *dev, uint16_t qid, uint16_t nb_desc,
			  int socket, const struct pdk_eth_rxconf *conf,
			  struct pdk_mempool *mp)
{
	(void)nb_desc;
	(void)conf;
	(void)mp; /* packets arrive as mbufs already */
	return queue_setup(dev, &dev->rxq[qid], socket,
			   pdk_eth_dev_rxq_counters(dev, qid));
}

static int ring_txq_setup(struct pdk_eth_dev *dev, uint16_t qid, uint16_t nb_desc,
			  int socket, const struct pdk_eth_txconf *conf)
{
	(void)nb_desc;
	(void)conf;
	return queue_setup(dev, &dev->txq[qid], socket,
			   pdk_eth_dev_txq_counters(dev, qid));
}

static void ring_rxq_release(struct pdk_eth_dev *dev, uint16_t qid)
{
	pdk_free(dev->rxq[qid]);
}

static void ring_txq_release(struct pdk_eth_dev *dev, uint16_t qid)
{
	pdk_free(dev->txq[qid]);
}

static int ring_start(struct pdk_eth_dev *dev)
{
	const struct ring_port *p = dev->priv;

	for (uint16_t q = 0; q < dev->nb_rxq; q++)
		((struct ring_queue *)dev->rxq[q])->ring = p->rx[q];
	for (uint16_t q = 0; q < dev->nb_txq; q++)
		((struct ring_queue *)dev->txq[q])->ring = p->tx[q];
	dev->link.link_status = PDK_ETH_LINK_UP;
	dev->link.link_speed = PDK_ETH_SPEED_NUM_10G;
	return 0;
}

static int ring_stop(struct pdk_eth_dev *dev)
{
	dev->link.link_status = PDK_ETH_LINK_DOWN;
	return 0;
}

static bool uses_ring(const struct ring_port *p, const struct pdk_ring *r)
{
	for (unsigned i = 0; i < MAX_QUEUES; i++)
		if (p->rx[i] == r || p->tx[i] == r)
			return true;
	return false;
}

/* Free a ring this driver made, and the packets still in it. */
static void free_ring(struct pdk_ring *r)
{
	struct pdk_mbuf *pkts[64];
	unsigned n;

	while ((n = pdk_ring_dequeue_burst(r, (void **)pkts, PDK_DIM(pkts), NULL)) > 0)
		pdk_pktmbuf_free_bulk(pkts, n);
	pdk_ring_free(r);
}

static void ring_close(struct pdk_eth_dev *dev)
{
	struct ring_port *p = dev->priv;
	struct pdk_eth_dev *peer = p->peer == NO_PEER ? NULL : pdk_eth_dev_get(p->peer);
	struct ring_port *pp = peer ? peer->priv : NULL;

	for (unsigned i = 0; i < p->nb_owned; i++) {
		if (pp != NULL && uses_ring(pp, p->owned[i]))
			pp->owned[pp->nb_owned++] = p->owned[i];
		else
			free_ring(p->owned[i]);
	}
	if (pp != NULL)
		pp->peer = NO_PEER;
	p->nb_owned = 0;
}

static int ring_promiscuous_set(struct pdk_eth_dev *dev, bool on)
{
	(void)dev;
	(void)on; /* a ring delivers every packet */
	return 0;
}

static const struct pdk_eth_dev_ops ring_ops = {
	.dev_info = ring_dev_info,
	.rx_queue_setup = ring_rxq_setup,
	.tx_queue_setup = ring_txq_setup,
	.rx_queue_release = ring_rxq_release,
	.tx_queue_release = ring_txq_release,
	.start = ring_start,
	.stop = ring_stop,
	.close = ring_close,
	.link_up = ring_start,
	.link_down = ring_stop,
	.promiscuous_set = ring_promiscuous_set,
};

static int check_rings(const char *name, struct pdk_ring *const rx[],
		       unsigned nb_rx, struct pdk_ring *const tx[], unsigned nb_tx)
{
	if ((nb_rx == 0 && nb_tx == 0) || nb_rx > MAX_QUEUES || nb_tx > MAX_QUEUES ||
	    (nb_rx && rx == NULL) || (nb_tx && tx == NULL)) {
		PDK_LOG(ERR, LOG_COMP, "%s: give 0-%d Rx and 0-%d Tx rings, at "
			"least one in all (got %u and %u)", name ? name : "(null)",
			MAX_QUEUES, MAX_QUEUES, nb_rx, nb_tx);
		return -EINVAL;
	}
	for (unsigned i = 0; i < nb_rx + nb_tx; i++)
		if ((i < nb_rx ? rx[i] : tx[i - nb_rx]) == NULL) {
			PDK_LOG(ERR, LOG_COMP, "%s: %s ring %u is NULL", name,
				i < nb_rx ? "Rx" : "Tx", i < nb_rx ? i : i - nb_rx);
			return -EINVAL;
		}
	return 0;
}

/* A port over the given rings; *out gets its private area. */
static int port_create(const char *name, struct pdk_ring *const rx[],
		       unsigned nb_rx, struct pdk_ring *const tx[], unsigned nb_tx,
		       struct pdk_eth_dev **out)
{
	struct pdk_eth_dev *dev;
	struct ring_port *p;
	int rc = check_rings(name, rx, nb_rx, tx, nb_tx);

	if (rc < 0)
		return rc;
	dev = pdk_eth_dev_allocate(name, DRV_NAME, &ring_ops, sizeof(*p),
				   PDK_SOCKET_ANY);
	if (dev == NULL)
		return -errno;
	p = dev->priv;
	p->nb_rx = (uint16_t)nb_rx;
	p->nb_tx = (uint16_t)nb_tx;
	memcpy(p->rx, rx, nb_rx * sizeof(*rx));
	memcpy(p->tx, tx, nb_tx * sizeof(*tx));
	p->peer = NO_PEER;
	dev->rx_burst = ring_rx;
	dev->tx_burst = ring_tx;
	/* Locally administered, unique per port: 02:52:49:4e:47:<port>. */
	dev->mac_addr = (struct pdk_ether_addr){{0x02, 'R', 'I', 'N', 'G',
						 (uint8_t)dev->port_id}};
	*out = dev;
	return dev->port_id;
}

int pdk_eth_ring_port_create(const char *name, struct pdk_ring *const rx[],
			     unsigned nb_rx, struct pdk_ring *const tx[],
			     unsigned nb_tx)
{
	struct pdk_eth_dev *dev;
	int port = port_create(name, rx, nb_rx, tx, nb_tx, &dev);

	if (port >= 0)
		pdk_eth_dev_probing_finish(dev);
	return port;
}

/* vdev options. */
struct ring_opts {
	unsigned long queues; /* 0: not given */
	unsigned long size;
	char peer[PDK_ETH_NAME_MAX];
};

static int parse_queues(const char *v, void *ctx)
{
	return pdk_vdev_arg_uint(v, 1, MAX_QUEUES, &((struct ring_opts *)ctx)->queues);
}

static int parse_size(const char *v, void *ctx)
{
	struct ring_opts *o = ctx;

	if (pdk_vdev_arg_uint(v, 2, 65536, &o->size) < 0 || !PDK_IS_POWER_OF_2(o->size))
		return -EINVAL;
	return 0;
}

static int parse_peer(const char *v, void *ctx)
{
	struct ring_opts *o = ctx;

	if (v[0] == '\0' || strlen(v) >= sizeof(o->peer))
		return -EINVAL;
	snprintf(o->peer, sizeof(o->peer), "%s", v);
	return 0;
}

static const struct pdk_vdev_arg ring_args[] = {
	{"queues", parse_queues},
	{"size", parse_size},
	{"peer", parse_peer},
	{NULL, NULL},
};

/* n new single-producer single-consumer rings in rings[]; 0 or -errno
 * (then none is left). */
static int make_rings(struct pdk_ring **rings, unsigned n, unsigned size)
{
	static unsigned seq;
	char rname[PDK_RING_NAMESIZE];

	for (unsigned i = 0; i < n; i++) {
		snprintf(rname, sizeof(rname), "net_ring_%u", seq++);
		rings[i] = pdk_ring_create(rname, size, PDK_SOCKET_ANY,
					   PDK_RING_F_SP_ENQ | PDK_RING_F_SC_DEQ);
		if (rings[i] == NULL) {
			int rc = -errno;

			while (i-- > 0)
				pdk_ring_free(rings[i]);
			return rc;
		}
	}
	return 0;
}

/* A vdev port over new rings `mine` (its Tx rings) and `rx`; it owns mine. */
static int vdev_port(const char *name, struct pdk_ring *const rx[], unsigned nq,
		     unsigned size, struct pdk_eth_dev **out)
{
	struct pdk_ring *mine[MAX_QUEUES];
	struct ring_port *p;
	int rc;

	if ((rc = make_rings(mine, nq, size)) < 0)
		return rc;
	rc = port_create(name, rx ? rx : mine, nq, mine, nq, out);
	if (rc < 0) {
		for (unsigned i = 0; i < nq; i++)
			pdk_ring_free(mine[i]);
		return rc;
	}
	p = (*out)->priv;
	memcpy(p->owned, mine, nq * sizeof(*mine));
	p->nb_owned = nq;
	return 0;
}

/* The port `peer` names, if it can take a peer now. */
static struct pdk_eth_dev *find_peer(const char *name, const char *peer)
{
	struct pdk_eth_dev *pd = pdk_eth_dev_find(peer);
	const struct ring_port *pp;

	if (pd == NULL || pd->ops != &ring_ops) {
		PDK_LOG(ERR, LOG_COMP, "%s: peer %s is not a net_ring port; create "
			"it first (--vdev %s before --vdev %s,peer=%s)", name,
			peer, peer, name, peer);
		return NULL;
	}
	pp = pd->priv;
	if (pp->peer != NO_PEER || pp->nb_owned == 0) {
		PDK_LOG(ERR, LOG_COMP, "%s: %s is wired already (or made from "
			"application rings); give each pair its own ports", name, peer);
		return NULL;
	}
	if (pd->started) {
		PDK_LOG(ERR, LOG_COMP, "%s: peer %s is started; stop it first",
			name, peer);
		return NULL;
	}
	return pd;
}

/* The new port reads what `pd` writes; `pd` now reads what it writes. */
static int wire_to_peer(const char *name, const struct ring_opts *o,
			struct pdk_eth_dev *pd)
{
	struct ring_port *pp = pd->priv, *p;
	struct pdk_eth_dev *dev;
	int rc;

	if (o->queues != 0 && o->queues != pp->nb_tx) {
		PDK_LOG(ERR, LOG_COMP, "%s: queues=%lu but peer %s has %u; drop the "
			"option or make them equal", name, o->queues, pd->name, pp->nb_tx);
		return -EINVAL;
	}
	if ((rc = vdev_port(name, pp->tx, pp->nb_tx, (unsigned)o->size, &dev)) < 0)
		return rc;
	p = dev->priv;
	memcpy(pp->rx, p->tx, pp->nb_tx * sizeof(p->tx[0]));
	p->peer = pd->port_id;
	pp->peer = dev->port_id;
	pdk_eth_dev_probing_finish(dev);
	return 0;
}

static int loopback_port(const char *name, const struct ring_opts *o)
{
	struct pdk_eth_dev *dev;
	int rc = vdev_port(name, NULL, o->queues ? (unsigned)o->queues : 1,
			   (unsigned)o->size, &dev);

	if (rc == 0)
		pdk_eth_dev_probing_finish(dev);
	return rc;
}

static int ring_probe(const char *name, const char *args)
{
	struct ring_opts o = {.size = DEFAULT_SIZE};
	struct pdk_eth_dev *pd;
	int rc;

	if ((rc = pdk_vdev_args_parse(name, args, ring_args, USAGE, &o)) < 0)
		return rc;
	if (o.peer[0] == '\0')
		return loopback_port(name, &o);
	if ((pd = find_peer(name, o.peer)) == NULL)
		return -EINVAL;
	return wire_to_peer(name, &o, pd);
}

static struct pdk_vdev_driver ring_driver = {
	.name = DRV_NAME,
	.usage = USAGE,
	.probe = ring_probe,
};
PDK_VDEV_REGISTER(ring_driver)
