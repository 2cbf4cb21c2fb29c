/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ethdev control path: the port table, configure/setup/start/stop/close,
 * MAC, link, promiscuous mode and stats. Every entry point checks the port
 * id, queue ids, counts and state before a driver op runs, and logs what
 * was wrong and what is valid.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pdk_log.h>

#include "ethdev_private.h"
#include "pdk_ethdev_driver.h"

struct pdk_eth_fp_ops pdk_eth_fp_ops[PDK_ETH_MAX_PORTS];
static struct pdk_eth_dev devs[PDK_ETH_MAX_PORTS];

/* "0-1", "0, 2, 5" or "none": the ports that exist, for error messages. */
static void valid_ports(char *buf, size_t size)
{
	size_t len = 0;
	int n;

	buf[0] = '\0';
	for (unsigned p = 0; p < PDK_ETH_MAX_PORTS && len < size; p++) {
		if (devs[p].state != PDK_ETH_DEV_ATTACHED)
			continue;
		n = snprintf(buf + len, size - len, "%s%u", len ? ", " : "", p);
		if (n > 0)
			len += (size_t)n;
	}
	if (len == 0)
		snprintf(buf, size, "none; create one with --vdev net_null0");
}

/* The attached port `port`, or NULL after logging which ports exist. */
struct pdk_eth_dev *ethdev_port(uint16_t port, const char *fn)
{
	char ports[128];

	if (port < PDK_ETH_MAX_PORTS && devs[port].state == PDK_ETH_DEV_ATTACHED)
		return &devs[port];
	valid_ports(ports, sizeof(ports));
	PDK_LOG(ERR, ETHDEV_LOG, "%s: port %u does not exist (ports: %s)", fn,
		port, ports);
	return NULL;
}

struct pdk_eth_dev *pdk_eth_dev_get(uint16_t port)
{
	if (port >= PDK_ETH_MAX_PORTS || devs[port].state == PDK_ETH_DEV_UNUSED)
		return NULL;
	return &devs[port];
}

struct pdk_eth_dev *pdk_eth_dev_find(const char *name)
{
	for (unsigned p = 0; name != NULL && p < PDK_ETH_MAX_PORTS; p++)
		if (devs[p].state != PDK_ETH_DEV_UNUSED &&
		    strcmp(devs[p].name, name) == 0)
			return &devs[p];
	return NULL;
}

uint16_t pdk_eth_dev_count_avail(void)
{
	uint16_t n = 0;

	for (unsigned p = 0; p < PDK_ETH_MAX_PORTS; p++)
		n += devs[p].state == PDK_ETH_DEV_ATTACHED;
	return n;
}

bool pdk_eth_dev_is_valid_port(uint16_t port)
{
	return port < PDK_ETH_MAX_PORTS && devs[port].state == PDK_ETH_DEV_ATTACHED;
}

uint16_t pdk_eth_dev_next(uint16_t port)
{
	while (port < PDK_ETH_MAX_PORTS && !pdk_eth_dev_is_valid_port(port))
		port++;
	return port;
}

int pdk_eth_dev_lookup(const char *name)
{
	struct pdk_eth_dev *dev = pdk_eth_dev_find(name);

	if (dev == NULL || dev->state != PDK_ETH_DEV_ATTACHED)
		return -ENODEV;
	return dev->port_id;
}

const char *pdk_eth_dev_name(uint16_t port)
{
	if (!pdk_eth_dev_is_valid_port(port)) {
		errno = ENODEV;
		return NULL;
	}
	return devs[port].name;
}

static int check_new_name(const char *name)
{
	if (name == NULL || name[0] == '\0') {
		PDK_LOG(ERR, ETHDEV_LOG, "a port needs a name");
		return -EINVAL;
	}
	if (strlen(name) >= PDK_ETH_NAME_MAX) {
		PDK_LOG(ERR, ETHDEV_LOG, "port name %s is longer than %d bytes",
			name, PDK_ETH_NAME_MAX - 1);
		return -ENAMETOOLONG;
	}
	if (pdk_eth_dev_find(name) != NULL) {
		PDK_LOG(ERR, ETHDEV_LOG, "a port called %s exists already", name);
		return -EEXIST;
	}
	return 0;
}

static struct pdk_eth_dev *free_slot(void)
{
	for (unsigned p = 0; p < PDK_ETH_MAX_PORTS; p++)
		if (devs[p].state == PDK_ETH_DEV_UNUSED)
			return &devs[p];
	PDK_LOG(ERR, ETHDEV_LOG, "all %d port ids are in use; close a port first",
		PDK_ETH_MAX_PORTS);
	return NULL;
}

struct pdk_eth_dev *pdk_eth_dev_allocate(const char *name,
					 const char *driver_name,
					 const struct pdk_eth_dev_ops *ops,
					 size_t priv_size, int socket)
{
	struct pdk_eth_dev *dev;
	void *priv = NULL;
	int rc = check_new_name(name);

	if (rc == 0 && (ops == NULL || ops->dev_info == NULL ||
			ops->rx_queue_setup == NULL || ops->tx_queue_setup == NULL)) {
		PDK_LOG(ERR, ETHDEV_LOG, "port %s: driver ops lack dev_info or queue setup",
			name);
		rc = -EINVAL;
	}
	if (rc < 0) {
		errno = -rc;
		return NULL;
	}
	dev = free_slot();
	if (dev == NULL) {
		errno = ENOSPC;
		return NULL;
	}
	if (priv_size != 0 &&
	    posix_memalign(&priv, PDK_CACHE_LINE, PDK_ALIGN_CEIL(priv_size, PDK_CACHE_LINE)) != 0) {
		PDK_LOG(ERR, ETHDEV_LOG, "port %s: no memory for %zu private bytes",
			name, priv_size);
		errno = ENOMEM;
		return NULL;
	}
	memset(dev, 0, sizeof(*dev));
	if (priv != NULL)
		memset(priv, 0, priv_size);
	dev->port_id = (uint16_t)(dev - devs);
	snprintf(dev->name, sizeof(dev->name), "%s", name);
	dev->driver_name = driver_name ? driver_name : "unknown";
	dev->ops = ops;
	dev->priv = priv;
	dev->socket = socket;
	dev->link.link_speed = PDK_ETH_SPEED_NUM_NONE;
	dev->link.link_duplex = PDK_ETH_LINK_FULL_DUPLEX;
	dev->state = PDK_ETH_DEV_ALLOCATED;
	return dev;
}

void pdk_eth_dev_probing_finish(struct pdk_eth_dev *dev)
{
	dev->state = PDK_ETH_DEV_ATTACHED;
	PDK_LOG(INFO, ETHDEV_LOG, "port %u: %s (%s)", dev->port_id, dev->name,
		dev->driver_name);
}

void pdk_eth_dev_release(struct pdk_eth_dev *dev)
{
	if (dev == NULL || dev->state == PDK_ETH_DEV_UNUSED)
		return;
	memset(&pdk_eth_fp_ops[dev->port_id], 0, sizeof(pdk_eth_fp_ops[0]));
	free(dev->priv);
	memset(dev, 0, sizeof(*dev));
}

static void fill_info(struct pdk_eth_dev *dev, struct pdk_eth_dev_info *info)
{
	memset(info, 0, sizeof(*info));
	info->rx_desc_lim.nb_max = info->tx_desc_lim.nb_max = UINT16_MAX;
	info->rx_desc_lim.nb_align = info->tx_desc_lim.nb_align = 1;
	info->max_rx_pktlen = PDK_ETHER_MTU + PDK_ETHER_HDR_LEN + PDK_ETHER_CRC_LEN;
	dev->ops->dev_info(dev, info);
	info->driver_name = dev->driver_name;
	info->name = dev->name;
	info->socket = dev->socket;
	info->max_rx_queues = PDK_MIN(info->max_rx_queues, PDK_ETH_MAX_QUEUES);
	info->max_tx_queues = PDK_MIN(info->max_tx_queues, PDK_ETH_MAX_QUEUES);
	info->link_up_down = dev->ops->link_up != NULL && dev->ops->link_down != NULL;
}

int pdk_eth_dev_info_get(uint16_t port, struct pdk_eth_dev_info *info)
{
	struct pdk_eth_dev *dev;

	PORT_OR_RETURN(dev, port);
	if (info == NULL)
		return -EINVAL;
	fill_info(dev, info);
	return 0;
}

/* Free what queue slot q held (Rx or Tx) through the driver. */
static void queue_release(struct pdk_eth_dev *dev, bool rx, uint16_t q)
{
	void **slot = rx ? &dev->rxq[q] : &dev->txq[q];
	void (*op)(struct pdk_eth_dev *, uint16_t) =
		rx ? dev->ops->rx_queue_release : dev->ops->tx_queue_release;

	if (*slot != NULL && op != NULL)
		op(dev, q);
	*slot = NULL;
}

static void release_queues(struct pdk_eth_dev *dev)
{
	for (uint16_t q = 0; q < PDK_ETH_MAX_QUEUES; q++) {
		queue_release(dev, true, q);
		queue_release(dev, false, q);
	}
}

static int check_stopped(const struct pdk_eth_dev *dev, const char *fn)
{
	if (!dev->started)
		return 0;
	PDK_LOG(ERR, ETHDEV_LOG, "%s: port %u (%s) is started; stop it first",
		fn, dev->port_id, dev->name);
	return -EBUSY;
}

static int check_queue_count(const struct pdk_eth_dev *dev, const char *dir,
			     uint16_t n, uint16_t max)
{
	if (n <= max)
		return 0;
	PDK_LOG(ERR, ETHDEV_LOG,
		"port %u (%s): %u %s queues requested; it has at most %u",
		dev->port_id, dev->name, n, dir, max);
	return -EINVAL;
}

int pdk_eth_dev_configure(uint16_t port, uint16_t nb_rxq, uint16_t nb_txq,
			  const struct pdk_eth_conf *conf)
{
	struct pdk_eth_dev_info info;
	struct pdk_eth_dev *dev;
	int rc;

	PORT_OR_RETURN(dev, port);
	if ((rc = check_stopped(dev, __func__)) < 0)
		return rc;
	fill_info(dev, &info);
	if (nb_rxq == 0 && nb_txq == 0) {
		PDK_LOG(ERR, ETHDEV_LOG,
			"port %u (%s): configure needs at least one Rx or Tx queue "
			"(up to %u Rx and %u Tx)", port, dev->name,
			info.max_rx_queues, info.max_tx_queues);
		return -EINVAL;
	}
	if ((rc = check_queue_count(dev, "Rx", nb_rxq, info.max_rx_queues)) < 0 ||
	    (rc = check_queue_count(dev, "Tx", nb_txq, info.max_tx_queues)) < 0)
		return rc;
	release_queues(dev);
	dev->nb_rxq = nb_rxq;
	dev->nb_txq = nb_txq;
	memset(&dev->conf, 0, sizeof(dev->conf));
	if (conf != NULL)
		dev->conf = *conf;
	if (dev->conf.mtu == 0)
		dev->conf.mtu = PDK_ETHER_MTU;
	dev->configured = false;
	if (dev->ops->configure && (rc = dev->ops->configure(dev)) < 0)
		return rc;
	dev->configured = true;
	return 0;
}

/* Queue setup preconditions common to Rx and Tx. */
static int check_queue_setup(struct pdk_eth_dev *dev, const char *fn,
			     const char *dir, uint16_t q, uint16_t nb_q)
{
	int rc = check_stopped(dev, fn);

	if (rc < 0)
		return rc;
	if (!dev->configured) {
		PDK_LOG(ERR, ETHDEV_LOG, "%s: port %u (%s) is not configured; "
			"call pdk_eth_dev_configure first", fn, dev->port_id, dev->name);
		return -EINVAL;
	}
	if (q >= nb_q) {
		if (nb_q == 0)
			PDK_LOG(ERR, ETHDEV_LOG, "%s: port %u (%s) was configured "
				"with no %s queues", fn, dev->port_id, dev->name, dir);
		else
			PDK_LOG(ERR, ETHDEV_LOG, "%s: port %u (%s): %s queue %u "
				"does not exist; valid queues are 0-%u", fn,
				dev->port_id, dev->name, dir, q, nb_q - 1);
		return -EINVAL;
	}
	return 0;
}

/* nb_desc with 0 meaning the default; -EINVAL when outside the limits. */
static int desc_count(const struct pdk_eth_dev *dev, const char *dir,
		      uint16_t nb, uint16_t def, const struct pdk_eth_desc_lim *lim)
{
	uint16_t align = lim->nb_align ? lim->nb_align : 1;
	char mult[32] = "";

	if (nb == 0)
		nb = def ? def : lim->nb_min;
	if (nb >= lim->nb_min && nb <= lim->nb_max && nb % align == 0)
		return nb;
	if (align > 1)
		snprintf(mult, sizeof(mult), ", a multiple of %u", align);
	PDK_LOG(ERR, ETHDEV_LOG,
		"port %u (%s): %u %s descriptors is impossible; valid counts are "
		"%u-%u%s (0 means %u)", dev->port_id, dev->name, nb, dir,
		lim->nb_min, lim->nb_max, mult, def ? def : lim->nb_min);
	return -EINVAL;
}

/*
 * What Rx and Tx setup share: the port is stopped and configured, the
 * queue id and descriptor count are valid; then the old queue goes.
 * Returns the descriptor count (0 resolved) or a negative errno.
 */
static int queue_prepare(struct pdk_eth_dev *dev, const char *fn, bool rx,
			 uint16_t q, uint16_t nb_desc, struct pdk_eth_dev_info *info)
{
	const char *dir = rx ? "Rx" : "Tx";
	int rc = check_queue_setup(dev, fn, dir, q, rx ? dev->nb_rxq : dev->nb_txq);

	if (rc < 0)
		return rc;
	fill_info(dev, info);
	return desc_count(dev, dir, nb_desc, rx ? info->default_rxd : info->default_txd,
			  rx ? &info->rx_desc_lim : &info->tx_desc_lim);
}

int pdk_eth_rx_queue_setup(uint16_t port, uint16_t queue, uint16_t nb_desc,
			   int socket, const struct pdk_eth_rxconf *conf,
			   struct pdk_mempool *mp)
{
	struct pdk_eth_dev_info info;
	struct pdk_eth_dev *dev;
	int rc, nb;

	PORT_OR_RETURN(dev, port);
	if ((nb = queue_prepare(dev, __func__, true, queue, nb_desc, &info)) < 0)
		return nb;
	if ((rc = ethdev_check_rx_pool(dev, mp, info.min_rx_bufsize)) < 0)
		return rc;
	queue_release(dev, true, queue);
	return dev->ops->rx_queue_setup(dev, queue, (uint16_t)nb,
					socket == PDK_SOCKET_ANY ? dev->socket : socket,
					conf, mp);
}

int pdk_eth_tx_queue_setup(uint16_t port, uint16_t queue, uint16_t nb_desc,
			   int socket, const struct pdk_eth_txconf *conf)
{
	struct pdk_eth_dev_info info;
	struct pdk_eth_dev *dev;
	int nb;

	PORT_OR_RETURN(dev, port);
	if ((nb = queue_prepare(dev, __func__, false, queue, nb_desc, &info)) < 0)
		return nb;
	queue_release(dev, false, queue);
	return dev->ops->tx_queue_setup(dev, queue, (uint16_t)nb,
					socket == PDK_SOCKET_ANY ? dev->socket : socket,
					conf);
}

static int check_queues_ready(const struct pdk_eth_dev *dev)
{
	for (uint16_t q = 0; q < dev->nb_rxq; q++)
		if (dev->rxq[q] == NULL) {
			PDK_LOG(ERR, ETHDEV_LOG, "port %u (%s): Rx queue %u is not "
				"set up; call pdk_eth_rx_queue_setup first",
				dev->port_id, dev->name, q);
			return -EINVAL;
		}
	for (uint16_t q = 0; q < dev->nb_txq; q++)
		if (dev->txq[q] == NULL) {
			PDK_LOG(ERR, ETHDEV_LOG, "port %u (%s): Tx queue %u is not "
				"set up; call pdk_eth_tx_queue_setup first",
				dev->port_id, dev->name, q);
			return -EINVAL;
		}
	return 0;
}

/* Make the queues reachable from the bursts (and unreachable again). */
static void fp_publish(const struct pdk_eth_dev *dev)
{
	struct pdk_eth_fp_ops *fp = &pdk_eth_fp_ops[dev->port_id];

	fp->rx_burst = dev->rx_burst;
	fp->tx_burst = dev->tx_burst;
	memcpy(fp->rxq, dev->rxq, sizeof(fp->rxq));
	memcpy(fp->txq, dev->txq, sizeof(fp->txq));
	fp->nb_rxq = dev->nb_rxq;
	fp->nb_txq = dev->nb_txq;
}

int pdk_eth_dev_start(uint16_t port)
{
	struct pdk_eth_dev *dev;
	int rc;

	PORT_OR_RETURN(dev, port);
	if (dev->started)
		return 0;
	if (!dev->configured) {
		PDK_LOG(ERR, ETHDEV_LOG, "port %u (%s) is not configured; call "
			"pdk_eth_dev_configure and set up its queues first",
			port, dev->name);
		return -EINVAL;
	}
	if ((rc = check_queues_ready(dev)) < 0)
		return rc;
	if (dev->ops->start && (rc = dev->ops->start(dev)) < 0)
		return rc;
	dev->started = true;
	fp_publish(dev);
	return 0;
}

int pdk_eth_dev_stop(uint16_t port)
{
	struct pdk_eth_dev *dev;
	int rc = 0;

	PORT_OR_RETURN(dev, port);
	if (!dev->started)
		return 0;
	pdk_eth_fp_ops[port].nb_rxq = pdk_eth_fp_ops[port].nb_txq = 0;
	if (dev->ops->stop)
		rc = dev->ops->stop(dev);
	dev->started = false;
	return rc;
}

bool pdk_eth_dev_is_started(uint16_t port)
{
	return pdk_eth_dev_is_valid_port(port) && devs[port].started;
}

int pdk_eth_dev_close(uint16_t port)
{
	struct pdk_eth_dev *dev;

	PORT_OR_RETURN(dev, port);
	pdk_eth_dev_stop(port);
	release_queues(dev);
	if (dev->ops->close)
		dev->ops->close(dev);
	PDK_LOG(INFO, ETHDEV_LOG, "port %u (%s) closed", port, dev->name);
	pdk_eth_dev_release(dev);
	return 0;
}
