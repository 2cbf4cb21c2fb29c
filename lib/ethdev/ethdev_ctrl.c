/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ethdev port settings and counters: MAC address, link, promiscuous mode,
 * stats; Ethernet address text forms; the Rx pool check.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include <pdk_log.h>

#include "ethdev_private.h"

int ethdev_check_rx_pool(const struct pdk_eth_dev *dev, struct pdk_mempool *mp,
			 uint32_t min_bufsize)
{
	uint32_t room;

	if (mp == NULL || mp->priv_size < sizeof(struct pdk_pktmbuf_pool_private)) {
		PDK_LOG(ERR, ETHDEV_LOG, "port %u (%s): an Rx queue needs an mbuf "
			"pool (pdk_pktmbuf_pool_create)", dev->port_id, dev->name);
		return -EINVAL;
	}
	room = pdk_pktmbuf_data_room_size(mp);
	if (room < PDK_PKTMBUF_HEADROOM + min_bufsize) {
		PDK_LOG(ERR, ETHDEV_LOG, "port %u (%s): mbufs of pool %s have %u "
			"bytes of data room; this port needs at least %u (headroom "
			"%d + %u)", dev->port_id, dev->name, mp->name, room,
			PDK_PKTMBUF_HEADROOM + min_bufsize, PDK_PKTMBUF_HEADROOM,
			min_bufsize);
		return -EINVAL;
	}
	return 0;
}

int pdk_eth_macaddr_get(uint16_t port, struct pdk_ether_addr *mac)
{
	struct pdk_eth_dev *dev;

	PORT_OR_RETURN(dev, port);
	if (mac == NULL)
		return -EINVAL;
	*mac = dev->mac_addr;
	return 0;
}

int pdk_eth_macaddr_set(uint16_t port, const struct pdk_ether_addr *mac)
{
	char text[PDK_ETHER_ADDR_FMT_SIZE];
	struct pdk_eth_dev *dev;
	int rc;

	PORT_OR_RETURN(dev, port);
	if (mac == NULL)
		return -EINVAL;
	if (!pdk_ether_addr_is_valid_assigned(mac)) {
		pdk_ether_addr_format(text, sizeof(text), mac);
		PDK_LOG(ERR, ETHDEV_LOG, "port %u (%s): %s cannot be a port address "
			"(group bit set or all zeros); use a unicast address such "
			"as 02:00:00:00:00:01", port, dev->name, text);
		return -EINVAL;
	}
	if (dev->ops->mac_addr_set && (rc = dev->ops->mac_addr_set(dev, mac)) < 0)
		return rc;
	dev->mac_addr = *mac;
	return 0;
}

int pdk_eth_link_get(uint16_t port, struct pdk_eth_link *link)
{
	struct pdk_eth_dev *dev;
	int rc;

	PORT_OR_RETURN(dev, port);
	if (link == NULL)
		return -EINVAL;
	if (dev->ops->link_update && (rc = dev->ops->link_update(dev)) < 0)
		return rc;
	*link = dev->link;
	return 0;
}

static int link_set(uint16_t port, bool up, const char *fn)
{
	struct pdk_eth_dev *dev = ethdev_port(port, fn);
	int (*op)(struct pdk_eth_dev *);

	if (dev == NULL)
		return -ENODEV;
	op = up ? dev->ops->link_up : dev->ops->link_down;
	if (op == NULL) {
		PDK_LOG(ERR, ETHDEV_LOG, "%s: port %u (%s): driver %s cannot set "
			"the link up or down", fn, port, dev->name, dev->driver_name);
		return -ENOTSUP;
	}
	return op(dev);
}

int pdk_eth_link_up(uint16_t port)
{
	return link_set(port, true, __func__);
}

int pdk_eth_link_down(uint16_t port)
{
	return link_set(port, false, __func__);
}

void pdk_eth_link_format(char *buf, size_t size, const struct pdk_eth_link *link)
{
	if (link->link_status != PDK_ETH_LINK_UP)
		snprintf(buf, size, "down");
	else if (link->link_speed == PDK_ETH_SPEED_NUM_UNKNOWN ||
		 link->link_speed == PDK_ETH_SPEED_NUM_NONE)
		snprintf(buf, size, "up, speed unknown, %s-duplex",
			 link->link_duplex ? "full" : "half");
	else
		snprintf(buf, size, "up %u Mbps %s-duplex", link->link_speed,
			 link->link_duplex ? "full" : "half");
}

static int promisc_set(uint16_t port, bool on, const char *fn)
{
	struct pdk_eth_dev *dev = ethdev_port(port, fn);
	int rc;

	if (dev == NULL)
		return -ENODEV;
	if (dev->ops->promiscuous_set == NULL) {
		PDK_LOG(ERR, ETHDEV_LOG, "%s: port %u (%s): driver %s has no "
			"promiscuous mode", fn, port, dev->name, dev->driver_name);
		return -ENOTSUP;
	}
	if ((rc = dev->ops->promiscuous_set(dev, on)) < 0)
		return rc;
	dev->promiscuous = on;
	return 0;
}

int pdk_eth_promiscuous_enable(uint16_t port)
{
	return promisc_set(port, true, __func__);
}

int pdk_eth_promiscuous_disable(uint16_t port)
{
	return promisc_set(port, false, __func__);
}

int pdk_eth_promiscuous_get(uint16_t port)
{
	struct pdk_eth_dev *dev;

	PORT_OR_RETURN(dev, port);
	return dev->promiscuous ? 1 : 0;
}

static uint64_t rd(_Atomic uint64_t *c)
{
	/* relaxed: each counter is read on its own; pairs with nothing. */
	return atomic_load_explicit(c, memory_order_relaxed);
}

/* The counters as the bursts left them, without the reset base. */
static void stats_raw(struct pdk_eth_dev *dev, struct pdk_eth_stats *s)
{
	memset(s, 0, sizeof(*s));
	for (unsigned q = 0; q < PDK_ETH_MAX_QUEUES; q++) {
		struct pdk_eth_queue_counters *rx = &dev->rx_counters[q];
		struct pdk_eth_queue_counters *tx = &dev->tx_counters[q];

		s->q_ipackets[q] = rd(&rx->packets);
		s->q_ibytes[q] = rd(&rx->bytes);
		s->q_errors[q] = rd(&rx->errors);
		s->q_opackets[q] = rd(&tx->packets);
		s->q_obytes[q] = rd(&tx->bytes);
		s->ipackets += s->q_ipackets[q];
		s->ibytes += s->q_ibytes[q];
		s->ierrors += s->q_errors[q];
		s->imissed += rd(&rx->missed);
		s->rx_nombuf += rd(&rx->nombuf);
		s->opackets += s->q_opackets[q];
		s->obytes += s->q_obytes[q];
		s->oerrors += rd(&tx->errors);
	}
	if (dev->ops->stats_add)
		dev->ops->stats_add(dev, s);
}

/* Every field is a uint64_t counter: subtract field by field. */
#define STATS_WORDS (sizeof(struct pdk_eth_stats) / sizeof(uint64_t))
static_assert(sizeof(struct pdk_eth_stats) % sizeof(uint64_t) == 0,
	      "pdk_eth_stats holds only uint64_t counters");

int pdk_eth_stats_get(uint16_t port, struct pdk_eth_stats *stats)
{
	struct pdk_eth_dev *dev;
	uint64_t *out = (uint64_t *)stats;
	const uint64_t *base;

	PORT_OR_RETURN(dev, port);
	if (stats == NULL)
		return -EINVAL;
	stats_raw(dev, stats);
	base = (const uint64_t *)&dev->stats_base;
	for (size_t i = 0; i < STATS_WORDS; i++)
		out[i] -= base[i];
	return 0;
}

int pdk_eth_stats_reset(uint16_t port)
{
	struct pdk_eth_dev *dev;

	PORT_OR_RETURN(dev, port);
	stats_raw(dev, &dev->stats_base);
	return 0;
}

void pdk_ether_addr_format(char *buf, size_t size, const struct pdk_ether_addr *a)
{
	const uint8_t *b = a->addr_bytes;

	snprintf(buf, size, "%02x:%02x:%02x:%02x:%02x:%02x", b[0], b[1], b[2],
		 b[3], b[4], b[5]);
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	c = (char)tolower((unsigned char)c);
	return c >= 'a' && c <= 'f' ? c - 'a' + 10 : -1;
}

int pdk_ether_addr_parse(const char *s, struct pdk_ether_addr *a)
{
	struct pdk_ether_addr out;

	if (s == NULL || a == NULL || strlen(s) != 17)
		return -EINVAL;
	for (int i = 0; i < PDK_ETHER_ADDR_LEN; i++) {
		int hi = hexval(s[3 * i]), lo = hexval(s[3 * i + 1]);
		char sep = s[3 * i + 2];

		if (hi < 0 || lo < 0 || (i < 5 && sep != ':' && sep != '-') ||
		    (i > 0 && sep != '\0' && sep != s[2]))
			return -EINVAL;
		out.addr_bytes[i] = (uint8_t)(hi << 4 | lo);
	}
	*a = out;
	return 0;
}
