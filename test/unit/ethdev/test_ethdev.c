/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ethdev API over net_null ports made by --vdev: bad port and queue ids,
 * queue and descriptor counts, configure/setup/start/stop/close ordering,
 * stats and their reset, link, promiscuous mode, MAC address, vdev
 * creation errors, and the driver registration API.
 */
#include "pdk_test.h"

#include <pdk_ethdev.h>
#include <pdk_ethdev_driver.h>
#include <pdk_vdev.h>

#define NB_MBUF 512
#define CACHE 32

static struct pdk_mempool *mp;

/* Configure 1 Rx + 1 Tx queue with defaults and start. */
static void port_up(uint16_t port)
{
	assert_int_equal(pdk_eth_dev_configure(port, 1, 1, NULL), 0);
	assert_int_equal(pdk_eth_rx_queue_setup(port, 0, 0, PDK_SOCKET_ANY, NULL, mp), 0);
	assert_int_equal(pdk_eth_tx_queue_setup(port, 0, 0, PDK_SOCKET_ANY, NULL), 0);
	assert_int_equal(pdk_eth_dev_start(port), 0);
}

static int pool_setup(void **state)
{
	(void)state;
	mp = pdk_pktmbuf_pool_create("ethdev_mb", NB_MBUF, CACHE, 0,
				     PDK_MBUF_DEFAULT_BUF_SIZE, PDK_SOCKET_ANY);
	return mp == NULL ? -1 : 0;
}

static int pool_teardown(void **state)
{
	(void)state;
	pdk_eth_dev_stop(0);
	pdk_eth_dev_stop(1);
	pdk_mempool_cache_flush(mp);
	assert_int_equal(pdk_mempool_avail_count(mp), NB_MBUF);
	pdk_mempool_free(mp);
	return 0;
}

static void test_vdev_ports_from_eal(void **state)
{
	struct pdk_eth_dev_info info;
	uint16_t p, n = 0;

	(void)state;
	assert_int_equal(pdk_eth_dev_count_avail(), 2);
	assert_int_equal(pdk_eth_dev_lookup("net_null0"), 0);
	assert_int_equal(pdk_eth_dev_lookup("net_null1"), 1);
	assert_int_equal(pdk_eth_dev_lookup("net_null7"), -ENODEV);
	assert_string_equal(pdk_eth_dev_name(1), "net_null1");
	PDK_ETH_FOREACH_DEV(p)
		n++;
	assert_int_equal(n, 2);
	assert_int_equal(pdk_eth_dev_info_get(1, &info), 0);
	assert_string_equal(info.driver_name, "net_null");
	assert_string_equal(info.name, "net_null1");
	assert_int_equal(info.max_rx_queues, 16);
	assert_int_equal(info.rx_desc_lim.nb_max, 4096);
	assert_int_equal(info.min_rx_bufsize, 128); /* size=128 */
	assert_true(info.link_up_down);
}

static void test_bad_port_ids(void **state)
{
	struct pdk_eth_stats st;
	struct pdk_eth_link link;
	struct pdk_ether_addr mac;
	struct pdk_mbuf *pkts[4];
	const uint16_t bad[] = {2, 31, 32, 999, UINT16_MAX};

	(void)state;
	test_log_capture(PDK_LOG_ERR);
	for (size_t i = 0; i < PDK_DIM(bad); i++) {
		uint16_t p = bad[i];

		assert_false(pdk_eth_dev_is_valid_port(p));
		assert_int_equal(pdk_eth_dev_configure(p, 1, 1, NULL), -ENODEV);
		assert_int_equal(pdk_eth_rx_queue_setup(p, 0, 0, 0, NULL, mp), -ENODEV);
		assert_int_equal(pdk_eth_tx_queue_setup(p, 0, 0, 0, NULL), -ENODEV);
		assert_int_equal(pdk_eth_dev_start(p), -ENODEV);
		assert_int_equal(pdk_eth_dev_stop(p), -ENODEV);
		assert_int_equal(pdk_eth_dev_close(p), -ENODEV);
		assert_int_equal(pdk_eth_stats_get(p, &st), -ENODEV);
		assert_int_equal(pdk_eth_stats_reset(p), -ENODEV);
		assert_int_equal(pdk_eth_link_get(p, &link), -ENODEV);
		assert_int_equal(pdk_eth_link_up(p), -ENODEV);
		assert_int_equal(pdk_eth_macaddr_get(p, &mac), -ENODEV);
		assert_int_equal(pdk_eth_promiscuous_enable(p), -ENODEV);
		assert_int_equal(pdk_eth_promiscuous_get(p), -ENODEV);
		assert_null(pdk_eth_dev_name(p));
		/* The fast path answers 0, never crashes. */
		assert_int_equal(pdk_eth_rx_burst(p, 0, pkts, 4), 0);
		assert_int_equal(pdk_eth_tx_burst(p, 0, pkts, 4), 0);
	}
	assert_log_contains("pdk_eth_dev_start: port 999 does not exist (ports: 0, 1)");
	test_log_release();
}

static void test_configure_checks(void **state)
{
	(void)state;
	test_log_capture(PDK_LOG_ERR);
	assert_int_equal(pdk_eth_dev_configure(0, 0, 0, NULL), -EINVAL);
	assert_log_contains("at least one Rx or Tx queue (up to 16 Rx and 16 Tx)");
	assert_int_equal(pdk_eth_dev_configure(0, 17, 1, NULL), -EINVAL);
	assert_log_contains("17 Rx queues requested; it has at most 16");
	assert_int_equal(pdk_eth_dev_configure(0, 1, 99, NULL), -EINVAL);
	assert_log_contains("99 Tx queues requested");
	test_log_release();
}

static void test_queue_setup_checks(void **state)
{
	struct pdk_mempool *small;

	(void)state;
	test_log_capture(PDK_LOG_ERR);
	assert_int_equal(pdk_eth_dev_configure(0, 2, 1, NULL), 0);
	assert_int_equal(pdk_eth_rx_queue_setup(0, 2, 0, PDK_SOCKET_ANY, NULL, mp), -EINVAL);
	assert_log_contains("Rx queue 2 does not exist; valid queues are 0-1");
	assert_int_equal(pdk_eth_tx_queue_setup(0, 1, 0, PDK_SOCKET_ANY, NULL), -EINVAL);
	assert_log_contains("Tx queue 1 does not exist; valid queues are 0-0");
	assert_int_equal(pdk_eth_rx_queue_setup(0, 0, 5000, PDK_SOCKET_ANY, NULL, mp), -EINVAL);
	assert_log_contains("5000 Rx descriptors is impossible; valid counts are 1-4096 (0 means 1024)");
	assert_int_equal(pdk_eth_tx_queue_setup(0, 0, 4097, PDK_SOCKET_ANY, NULL), -EINVAL);
	assert_int_equal(pdk_eth_rx_queue_setup(0, 0, 0, PDK_SOCKET_ANY, NULL, NULL), -EINVAL);
	assert_log_contains("needs an mbuf pool");
	/* Port 1 makes 128-byte packets: 64 bytes of data room are too few. */
	small = pdk_pktmbuf_pool_create("ethdev_small", 64, 0, 0,
					PDK_PKTMBUF_HEADROOM + 64, PDK_SOCKET_ANY);
	assert_non_null(small);
	assert_int_equal(pdk_eth_dev_configure(1, 1, 1, NULL), 0);
	assert_int_equal(pdk_eth_rx_queue_setup(1, 0, 0, PDK_SOCKET_ANY, NULL, small), -EINVAL);
	assert_log_contains("this port needs at least 256");
	pdk_mempool_free(small);
	/* Start refuses a queue that is not set up and names it. */
	assert_int_equal(pdk_eth_rx_queue_setup(0, 0, 0, PDK_SOCKET_ANY, NULL, mp), 0);
	assert_int_equal(pdk_eth_dev_start(0), -EINVAL);
	assert_log_contains("Rx queue 1 is not set up");
	test_log_release();
}

static void test_ordering(void **state)
{
	struct pdk_mbuf *pkts[8];

	(void)state;
	test_log_capture(PDK_LOG_ERR);
	/* A fresh port from a vdev: setup before configure is refused. */
	assert_int_equal(pdk_vdev_create("net_null9"), 0);
	assert_int_equal(pdk_eth_rx_queue_setup(2, 0, 0, PDK_SOCKET_ANY, NULL, mp), -EINVAL);
	assert_log_contains("is not configured; call pdk_eth_dev_configure first");
	assert_int_equal(pdk_eth_dev_start(2), -EINVAL);
	assert_int_equal(pdk_vdev_remove("net_null9"), 0);
	assert_int_equal(pdk_eth_dev_lookup("net_null9"), -ENODEV);

	port_up(0);
	assert_true(pdk_eth_dev_is_started(0));
	assert_int_equal(pdk_eth_dev_start(0), 0); /* again: nothing to do */
	assert_int_equal(pdk_eth_dev_configure(0, 1, 1, NULL), -EBUSY);
	assert_log_contains("is started; stop it first");
	assert_int_equal(pdk_eth_rx_queue_setup(0, 0, 0, PDK_SOCKET_ANY, NULL, mp), -EBUSY);
	/* Queue ids out of range on a started port: 0, no crash. */
	assert_int_equal(pdk_eth_rx_burst(0, 1, pkts, 8), 0);
	assert_int_equal(pdk_eth_tx_burst(0, 16, pkts, 8), 0);
	assert_int_equal(pdk_eth_rx_burst(0, 0, pkts, 8), 8);
	assert_int_equal(pdk_eth_tx_burst(0, 0, pkts, 8), 8);
	assert_int_equal(pdk_eth_dev_stop(0), 0);
	assert_int_equal(pdk_eth_dev_stop(0), 0);
	/* Stopped: bursts return 0. */
	assert_int_equal(pdk_eth_rx_burst(0, 0, pkts, 8), 0);
	/* Restart without setting up again. */
	assert_int_equal(pdk_eth_dev_start(0), 0);
	assert_int_equal(pdk_eth_rx_burst(0, 0, pkts, 8), 8);
	pdk_pktmbuf_free_bulk(pkts, 8);
	assert_int_equal(pdk_eth_dev_stop(0), 0);
	test_log_release();
}

static void test_stats(void **state)
{
	struct pdk_mbuf *pkts[32];
	struct pdk_eth_stats st;

	(void)state;
	assert_int_equal(pdk_eth_dev_configure(1, 2, 2, NULL), 0);
	for (uint16_t q = 0; q < 2; q++) {
		assert_int_equal(pdk_eth_rx_queue_setup(1, q, 64, PDK_SOCKET_ANY, NULL, mp), 0);
		assert_int_equal(pdk_eth_tx_queue_setup(1, q, 64, PDK_SOCKET_ANY, NULL), 0);
	}
	assert_int_equal(pdk_eth_dev_start(1), 0);
	assert_int_equal(pdk_eth_stats_reset(1), 0);
	assert_int_equal(pdk_eth_rx_burst(1, 1, pkts, 32), 32);
	assert_int_equal(pdk_eth_tx_burst(1, 0, pkts, 20), 20);
	assert_int_equal(pdk_eth_tx_burst(1, 1, pkts + 20, 12), 12);
	assert_int_equal(pdk_eth_stats_get(1, &st), 0);
	assert_int_equal(st.ipackets, 32);
	assert_int_equal(st.ibytes, 32 * 128);
	assert_int_equal(st.q_ipackets[0], 0);
	assert_int_equal(st.q_ipackets[1], 32);
	assert_int_equal(st.opackets, 32);
	assert_int_equal(st.obytes, 32 * 128);
	assert_int_equal(st.q_opackets[0], 20);
	assert_int_equal(st.q_obytes[1], 12 * 128);
	assert_int_equal(st.imissed + st.ierrors + st.oerrors + st.rx_nombuf, 0);
	assert_int_equal(pdk_eth_stats_reset(1), 0);
	assert_int_equal(pdk_eth_stats_get(1, &st), 0);
	assert_int_equal(st.ipackets + st.opackets + st.q_ipackets[1], 0);
	assert_int_equal(pdk_eth_rx_burst(1, 0, pkts, 5), 5);
	pdk_pktmbuf_free_bulk(pkts, 5);
	assert_int_equal(pdk_eth_stats_get(1, &st), 0);
	assert_int_equal(st.ipackets, 5);
	assert_int_equal(st.q_ipackets[0], 5);
	assert_int_equal(pdk_eth_stats_get(1, NULL), -EINVAL);
	assert_int_equal(pdk_eth_dev_stop(1), 0);
}

static void test_link(void **state)
{
	struct pdk_eth_link link;
	char text[64];

	(void)state;
	assert_int_equal(pdk_eth_link_get(0, &link), 0);
	assert_int_equal(link.link_status, PDK_ETH_LINK_DOWN);
	pdk_eth_link_format(text, sizeof(text), &link);
	assert_string_equal(text, "down");
	port_up(0);
	assert_int_equal(pdk_eth_link_get(0, &link), 0);
	assert_int_equal(link.link_status, PDK_ETH_LINK_UP);
	assert_int_equal(link.link_speed, 10000);
	pdk_eth_link_format(text, sizeof(text), &link);
	assert_string_equal(text, "up 10000 Mbps full-duplex");
	assert_int_equal(pdk_eth_link_down(0), 0);
	assert_int_equal(pdk_eth_link_get(0, &link), 0);
	assert_int_equal(link.link_status, PDK_ETH_LINK_DOWN);
	assert_int_equal(pdk_eth_link_up(0), 0);
	assert_int_equal(pdk_eth_link_get(0, &link), 0);
	assert_int_equal(link.link_status, PDK_ETH_LINK_UP);
	assert_int_equal(pdk_eth_dev_stop(0), 0);
	assert_int_equal(pdk_eth_link_get(0, &link), 0);
	assert_int_equal(link.link_status, PDK_ETH_LINK_DOWN);
	assert_int_equal(pdk_eth_link_get(0, NULL), -EINVAL);
}

static void test_promiscuous(void **state)
{
	(void)state;
	assert_int_equal(pdk_eth_promiscuous_get(0), 0);
	assert_int_equal(pdk_eth_promiscuous_enable(0), 0);
	assert_int_equal(pdk_eth_promiscuous_get(0), 1);
	assert_int_equal(pdk_eth_promiscuous_disable(0), 0);
	assert_int_equal(pdk_eth_promiscuous_get(0), 0);
}

static void test_mac(void **state)
{
	struct pdk_ether_addr a, b, set = {{0x02, 0x11, 0x22, 0x33, 0x44, 0x55}};
	struct pdk_ether_addr group = {{0x01, 0, 0x5e, 0, 0, 1}}, zero = {{0}};
	char text[PDK_ETHER_ADDR_FMT_SIZE];

	(void)state;
	assert_int_equal(pdk_eth_macaddr_get(0, &a), 0);
	assert_int_equal(pdk_eth_macaddr_get(1, &b), 0);
	assert_true(pdk_ether_addr_is_valid_assigned(&a));
	assert_false(pdk_ether_addr_equal(&a, &b)); /* unique per port */
	assert_int_equal(pdk_eth_macaddr_set(0, &set), 0);
	assert_int_equal(pdk_eth_macaddr_get(0, &b), 0);
	assert_true(pdk_ether_addr_equal(&b, &set));
	test_log_capture(PDK_LOG_ERR);
	assert_int_equal(pdk_eth_macaddr_set(0, &group), -EINVAL);
	assert_log_contains("01:00:5e:00:00:01 cannot be a port address");
	assert_int_equal(pdk_eth_macaddr_set(0, &zero), -EINVAL);
	test_log_release();
	assert_int_equal(pdk_eth_macaddr_set(0, &a), 0);
	pdk_ether_addr_format(text, sizeof(text), &set);
	assert_string_equal(text, "02:11:22:33:44:55");
	assert_int_equal(pdk_ether_addr_parse("02:11:22:33:44:55", &b), 0);
	assert_true(pdk_ether_addr_equal(&b, &set));
	assert_int_equal(pdk_ether_addr_parse("02-11-22-33-44-55", &b), 0);
	assert_int_equal(pdk_ether_addr_parse("02:11:22:33:44", &b), -EINVAL);
	assert_int_equal(pdk_ether_addr_parse("02:11:22:33:44:5g", &b), -EINVAL);
	assert_int_equal(pdk_ether_addr_parse("02:11-22:33:44:55", &b), -EINVAL);
}

static void test_vdev_errors(void **state)
{
	(void)state;
	test_log_capture(PDK_LOG_ERR);
	assert_int_equal(pdk_vdev_create("net_bogus0"), -ENOENT);
	assert_log_contains("no driver for vdev net_bogus0");
	assert_log_contains("net_null");
	assert_int_equal(pdk_vdev_create("net_null0"), -EEXIST);
	assert_log_contains("vdev net_null0 exists already");
	assert_int_equal(pdk_vdev_create("net_null5,bogus=1"), -EINVAL);
	assert_log_contains("net_null5: unknown option 'bogus'; valid options: size=");
	assert_int_equal(pdk_vdev_create("net_null5,size=0"), -EINVAL);
	assert_log_contains("bad value '0' for size");
	assert_int_equal(pdk_vdev_create("net_null5,copy"), -EINVAL);
	assert_log_contains("option 'copy' has no value");
	assert_int_equal(pdk_vdev_create(",size=1"), -EINVAL);
	assert_int_equal(pdk_vdev_remove("net_null5"), -ENOENT);
	test_log_release();
	assert_int_equal(pdk_eth_dev_count_avail(), 2);
}

static void test_close_frees_the_id(void **state)
{
	(void)state;
	assert_int_equal(pdk_vdev_create("net_null5"), 0);
	assert_int_equal(pdk_eth_dev_lookup("net_null5"), 2);
	port_up(2);
	assert_int_equal(pdk_eth_dev_close(2), 0); /* stops it first */
	assert_false(pdk_eth_dev_is_valid_port(2));
	assert_int_equal(pdk_eth_dev_count_avail(), 2);
	/* The vdev bus forgets it without complaint. */
	assert_int_equal(pdk_vdev_remove("net_null5"), 0);
	assert_int_equal(pdk_vdev_create("net_null5"), 0);
	assert_int_equal(pdk_eth_dev_lookup("net_null5"), 2);
	assert_int_equal(pdk_vdev_remove("net_null5"), 0);
}

/* A driver of our own through the registration API. */
static int fake_closed;
static void fake_info(struct pdk_eth_dev *dev, struct pdk_eth_dev_info *info)
{
	(void)dev;
	info->max_rx_queues = 1;
	info->max_tx_queues = 1;
	info->rx_desc_lim = (struct pdk_eth_desc_lim){256, 64, 32};
	info->tx_desc_lim = info->rx_desc_lim;
}
static int fake_setup_rx(struct pdk_eth_dev *d, uint16_t q, uint16_t n, int s,
			 const struct pdk_eth_rxconf *c, struct pdk_mempool *m)
{
	(void)n, (void)s, (void)c, (void)m;
	d->rxq[q] = d;
	return 0;
}
static int fake_setup_tx(struct pdk_eth_dev *d, uint16_t q, uint16_t n, int s,
			 const struct pdk_eth_txconf *c)
{
	(void)n, (void)s, (void)c;
	d->txq[q] = d;
	return 0;
}
static void fake_close(struct pdk_eth_dev *d)
{
	(void)d;
	fake_closed++;
}
static const struct pdk_eth_dev_ops fake_ops = {
	.dev_info = fake_info,
	.rx_queue_setup = fake_setup_rx,
	.tx_queue_setup = fake_setup_tx,
	.close = fake_close,
};

static void test_driver_api(void **state)
{
	struct pdk_eth_dev *dev;
	int port;

	(void)state;
	test_log_capture(PDK_LOG_ERR);
	dev = pdk_eth_dev_allocate("fake0", "net_fake", &fake_ops, 100, PDK_SOCKET_ANY);
	assert_non_null(dev);
	assert_non_null(dev->priv);
	/* Not visible until probing finishes. */
	assert_int_equal(pdk_eth_dev_lookup("fake0"), -ENODEV);
	assert_null(pdk_eth_dev_allocate("fake0", "net_fake", &fake_ops, 0, 0));
	assert_int_equal(errno, EEXIST);
	assert_null(pdk_eth_dev_allocate("fake1", "net_fake", NULL, 0, 0));
	assert_int_equal(errno, EINVAL);
	pdk_eth_dev_probing_finish(dev);
	port = pdk_eth_dev_lookup("fake0");
	assert_true(port >= 0);
	assert_int_equal(pdk_eth_dev_configure((uint16_t)port, 1, 1, NULL), 0);
	/* Alignment: 64-256 in steps of 32. */
	assert_int_equal(pdk_eth_tx_queue_setup((uint16_t)port, 0, 100, 0, NULL), -EINVAL);
	assert_log_contains("valid counts are 64-256, a multiple of 32 (0 means 64)");
	assert_int_equal(pdk_eth_tx_queue_setup((uint16_t)port, 0, 96, 0, NULL), 0);
	/* Optional ops missing: -ENOTSUP, named. */
	assert_int_equal(pdk_eth_promiscuous_enable((uint16_t)port), -ENOTSUP);
	assert_log_contains("driver net_fake has no promiscuous mode");
	assert_int_equal(pdk_eth_link_down((uint16_t)port), -ENOTSUP);
	assert_int_equal(pdk_eth_dev_close((uint16_t)port), 0);
	assert_int_equal(fake_closed, 1);
	/* A failed probe gives the id back without calling ops. */
	dev = pdk_eth_dev_allocate("fake2", "net_fake", &fake_ops, 0, 0);
	assert_non_null(dev);
	pdk_eth_dev_release(dev);
	assert_null(pdk_eth_dev_find("fake2"));
	assert_int_equal(fake_closed, 1);
	test_log_release();
}

int main(void)
{
	TEST_ARGV(argv, "test_ethdev", "--no-huge", "-l", "0", "-m", "64",
		  "--log-level=warning", "--vdev", "net_null0", "--vdev",
		  "net_null1,size=128");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vdev_ports_from_eal),
		cmocka_unit_test(test_bad_port_ids),
		cmocka_unit_test(test_configure_checks),
		cmocka_unit_test(test_queue_setup_checks),
		cmocka_unit_test(test_ordering),
		cmocka_unit_test(test_stats),
		cmocka_unit_test(test_link),
		cmocka_unit_test(test_promiscuous),
		cmocka_unit_test(test_mac),
		cmocka_unit_test(test_vdev_errors),
		cmocka_unit_test(test_close_frees_the_id),
		cmocka_unit_test(test_driver_api),
	};
	int rc;

	if (pdk_eal_init(argv_c, argv) < 0) {
		fprintf(stderr, "pdk_eal_init failed: %s\n", pdk_eal_last_error());
		return 1;
	}
	rc = cmocka_run_group_tests(tests, pool_setup, pool_teardown);
	pdk_eal_cleanup();
	return rc;
}
