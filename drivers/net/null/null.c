/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_null: a port with no wire. Receive allocates mbufs from the queue's
 * pool and hands them over as packets of `size` bytes without touching the
 * data; transmit frees what it is given. That is the work DPDK's net_null
 * does by default (size 64, no copy), so forwarding numbers compare fairly.
 *
 *   --vdev net_null0[,size=<1-65407>][,copy=0|1][,no_rx=0|1]
 *
 * copy=1 makes receive fill each packet from a template and transmit read
 * each packet; no_rx=1 makes receive return nothing.
 */
#include <errno.h>
#include <string.h>

#include <pdk_ethdev_driver.h>
#include <pdk_log.h>
#include <pdk_memory.h>
#include <pdk_vdev.h>

#define DRV_NAME "net_null"
#define LOG_COMP "net_null"
#define USAGE "size=<1-65407> (packet bytes, default 64), copy=0|1, no_rx=0|1"
#define DEFAULT_SIZE 64
#define MAX_QUEUES 16
/* A packet and the headroom fit in an mbuf (data room is 16 bits). */
#define TEMPLATE_MAX (UINT16_MAX - PDK_PKTMBUF_HEADROOM)

struct null_opts {
	unsigned long size;
	unsigned long copy;
	unsigned long no_rx;
};

struct null_port {
	struct null_opts opts;
};

struct null_rxq {
	struct pdk_mempool *mp;
	struct pdk_eth_queue_counters *cnt;
	uint32_t size;
	uint16_t port;
	bool copy;
	bool no_rx;
	const uint8_t *template; /* size bytes, for copy=1 */
};

struct null_txq {
	struct pdk_eth_queue_counters *cnt;
	bool copy;
	uint8_t sink[PDK_CACHE_LINE]; /* copy=1 reads packets into this */
};

/* Packet bytes copy=1 writes: an all-ones destination, a made-up source,
 * then a counting pattern (the same for every port). */
static uint8_t template_bytes[TEMPLATE_MAX];

static void template_init(void)
{
	for (unsigned i = 0; i < TEMPLATE_MAX; i++)
		template_bytes[i] = i < 6 ? 0xff : (uint8_t)i;
}

static void rx_fill(const struct null_rxq *q, struct pdk_mbuf **pkts, uint16_t n)
{
	for (uint16_t i = 0; i < n; i++)
		memcpy(pdk_pktmbuf_mtod(pkts[i], void *), q->template, q->size);
}

static uint16_t null_rx(void *queue, struct pdk_mbuf **pkts, uint16_t n)
{
	struct null_rxq *q = queue;
	/* Locals: stores to the mbufs could alias *q (no strict aliasing). */
	uint32_t size = q->size;
	uint16_t port = q->port;

	if (pdk_unlikely(q->no_rx))
		return 0;
	if (pdk_unlikely(pdk_mempool_get_bulk(q->mp, (void **)pkts, n) != 0)) {
		/* The device "had" n packets and nowhere to put them. */
		pdk_eth_counter_add(&q->cnt->nombuf, n);
		return 0;
	}
	/* pdk_pktmbuf_alloc_bulk() and the fields set in one pass: the
	 * compiler drops the reset's stores that we overwrite. */
	for (uint16_t i = 0; i < n; i++) {
		struct pdk_mbuf *m = pkts[i];

		pdk_pktmbuf_reset(m);
		m->data_len = (uint16_t)size;
		m->pkt_len = size;
		m->port = port;
	}
	if (pdk_unlikely(q->copy))
		rx_fill(q, pkts, n);
	pdk_eth_counter_add(&q->cnt->packets, n);
	pdk_eth_counter_add(&q->cnt->bytes, (uint64_t)n * size);
	return n;
}

static void tx_read(struct null_txq *q, struct pdk_mbuf *m)
{
	uint32_t len = PDK_MIN((uint32_t)m->data_len, (uint32_t)sizeof(q->sink));

	memcpy(q->sink, pdk_pktmbuf_mtod(m, void *), len);
}

/* True when m can go straight back to `mp`: one segment, one reference. */
static inline bool plain_mbuf(const struct pdk_mbuf *m, const struct pdk_mempool *mp)
{
	return m->pool == mp && m->next == NULL && pdk_mbuf_refcnt_read(m) == 1;
}

static uint16_t null_tx(void *queue, struct pdk_mbuf **pkts, uint16_t n)
{
	struct null_txq *q = queue;
	struct pdk_mempool *mp;
	uint64_t bytes = 0;
	bool plain = true;

	if (pdk_unlikely(n == 0))
		return 0;
	mp = pkts[0]->pool;
	for (uint16_t i = 0; i < n; i++) {
		bytes += pkts[i]->pkt_len;
		plain &= plain_mbuf(pkts[i], mp);
		if (pdk_unlikely(q->copy))
			tx_read(q, pkts[i]);
	}
	/* The usual burst goes back to its pool in one put; anything else
	 * (chains, shared references, several pools) the general way. */
	if (pdk_likely(plain))
		pdk_mempool_put_bulk(mp, (void *const *)pkts, n);
	else
		pdk_pktmbuf_free_bulk(pkts, n);
	pdk_eth_counter_add(&q->cnt->packets, n);
	pdk_eth_counter_add(&q->cnt->bytes, bytes);
	return n;
}

static void null_dev_info(struct pdk_eth_dev *dev, struct pdk_eth_dev_info *info)
{
	const struct null_port *p = dev->priv;

	info->max_rx_queues = info->max_tx_queues = MAX_QUEUES;
	/* No descriptors really; limits of a typical NIC keep apps honest. */
	info->rx_desc_lim = (struct pdk_eth_desc_lim){4096, 1, 1};
	info->tx_desc_lim = info->rx_desc_lim;
	info->default_rxd = info->default_txd = 1024;
	info->min_rx_bufsize = (uint32_t)p->opts.size;
	info->max_rx_pktlen = (uint32_t)p->opts.size;
	info->speed_capa = PDK_ETH_SPEED_NUM_10G;
}

static int null_rxq_setup(struct pdk_eth_dev *dev, uint16_t qid, uint16_t nb_desc,
			  int socket, const struct pdk_eth_rxconf *conf,
			  struct pdk_mempool *mp)
{
	const struct null_port *p = dev->priv;
	struct null_rxq *q;

	(void)nb_desc;
	(void)conf;
	q = pdk_zmalloc_socket("net_null_rxq", sizeof(*q), PDK_CACHE_LINE, socket);
	if (q == NULL)
		return -ENOMEM;
	q->mp = mp;
	q->cnt = pdk_eth_dev_rxq_counters(dev, qid);
	q->size = (uint32_t)p->opts.size;
	q->port = dev->port_id;
	q->copy = p->opts.copy != 0;
	q->no_rx = p->opts.no_rx != 0;
	q->template = template_bytes;
	dev->rxq[qid] = q;
	return 0;
}

static int null_txq_setup(struct pdk_eth_dev *dev, uint16_t qid, uint16_t nb_desc,
			  int socket, const struct pdk_eth_txconf *conf)
{
	const struct null_port *p = dev->priv;
	struct null_txq *q;

	(void)nb_desc;
	(void)conf;
	q = pdk_zmalloc_socket("net_null_txq", sizeof(*q), PDK_CACHE_LINE, socket);
	if (q == NULL)
		return -ENOMEM;
	q->cnt = pdk_eth_dev_txq_counters(dev, qid);
	q->copy = p->opts.copy != 0;
	dev->txq[qid] = q;
	return 0;
}

static void null_rxq_release(struct pdk_eth_dev *dev, uint16_t qid)
{
	pdk_free(dev->rxq[qid]);
}

static void null_txq_release(struct pdk_eth_dev *dev, uint16_t qid)
{
	pdk_free(dev->txq[qid]);
}

static int null_start(struct pdk_eth_dev *dev)
{
	dev->link.link_status = PDK_ETH_LINK_UP;
	dev->link.link_speed = PDK_ETH_SPEED_NUM_10G;
	return 0;
}

static int null_stop(struct pdk_eth_dev *dev)
{
	dev->link.link_status = PDK_ETH_LINK_DOWN;
	return 0;
}

static int null_promiscuous_set(struct pdk_eth_dev *dev, bool on)
{
	(void)dev;
	(void)on; /* every packet is for us anyway */
	return 0;
}

static const struct pdk_eth_dev_ops null_ops = {
	.dev_info = null_dev_info,
	.rx_queue_setup = null_rxq_setup,
	.tx_queue_setup = null_txq_setup,
	.rx_queue_release = null_rxq_release,
	.tx_queue_release = null_txq_release,
	.start = null_start,
	.stop = null_stop,
	.link_up = null_start,
	.link_down = null_stop,
	.promiscuous_set = null_promiscuous_set,
};

static int parse_size(const char *v, void *ctx)
{
	return pdk_vdev_arg_uint(v, 1, TEMPLATE_MAX, &((struct null_opts *)ctx)->size);
}

static int parse_copy(const char *v, void *ctx)
{
	return pdk_vdev_arg_uint(v, 0, 1, &((struct null_opts *)ctx)->copy);
}

static int parse_no_rx(const char *v, void *ctx)
{
	return pdk_vdev_arg_uint(v, 0, 1, &((struct null_opts *)ctx)->no_rx);
}

static const struct pdk_vdev_arg null_args[] = {
	{"size", parse_size},
	{"copy", parse_copy},
	{"no_rx", parse_no_rx},
	{NULL, NULL},
};

static int null_probe(const char *name, const char *args)
{
	struct null_opts opts = {.size = DEFAULT_SIZE};
	struct pdk_eth_dev *dev;
	struct null_port *p;
	int rc;

	if ((rc = pdk_vdev_args_parse(name, args, null_args, USAGE, &opts)) < 0)
		return rc;
	dev = pdk_eth_dev_allocate(name, DRV_NAME, &null_ops, sizeof(*p),
				   PDK_SOCKET_ANY);
	if (dev == NULL)
		return -errno;
	p = dev->priv;
	p->opts = opts;
	dev->rx_burst = null_rx;
	dev->tx_burst = null_tx;
	/* Locally administered, unique per port: 02:4e:55:4c:4c:<port>. */
	dev->mac_addr = (struct pdk_ether_addr){{0x02, 'N', 'U', 'L', 'L',
						 (uint8_t)dev->port_id}};
	if (opts.copy)
		template_init();
	pdk_eth_dev_probing_finish(dev);
	return 0;
}

static struct pdk_vdev_driver null_driver = {
	.name = DRV_NAME,
	.usage = USAGE,
	.probe = null_probe,
};
PDK_VDEV_REGISTER(null_driver)
