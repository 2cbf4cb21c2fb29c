/* SPDX-License-Identifier: BSD-3-Clause */
/* Library-private ethdev helpers. */
#ifndef ETHDEV_PRIVATE_H
#define ETHDEV_PRIVATE_H

#include "pdk_ethdev_driver.h"

#define ETHDEV_LOG "ethdev"

/* The attached port `port`, or NULL after logging (as `fn`) which exist. */
struct pdk_eth_dev *ethdev_port(uint16_t port, const char *fn);

/* In a public function: `dev` = the port, or return -ENODEV. */
#define PORT_OR_RETURN(dev, port)                                             \
	do {                                                                  \
		(dev) = ethdev_port((port), __func__);                        \
		if ((dev) == NULL)                                            \
			return -ENODEV;                                       \
	} while (0)

/* mp is an mbuf pool whose buffers hold min_bufsize: 0 or -EINVAL. */
int ethdev_check_rx_pool(const struct pdk_eth_dev *dev, struct pdk_mempool *mp,
			 uint32_t min_bufsize);

#endif /* ETHDEV_PRIVATE_H */
