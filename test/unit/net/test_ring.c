/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_ring: two ports wired back to back (packets sent on one arrive on
 * the other, intact, counted), loopback, multiqueue, a full ring, ports
 * over application rings, peer errors, and closing one side first.
 */
#include "pdk_test.h"

#include <pdk_eth_ring.h>
#include <pdk_ethdev.h>
#include <pdk_vdev.h>

#define NB_MBUF 512
#define BURST 32

static struct pdk_mempool *mp;

static int setup(void **state)
{
	(void)state;
	mp = pdk_pktmbuf_pool_create("ring_mb", NB_MBUF, 0, 0,
				     PDK_MBUF_DEFAULT_BUF_SIZE, PDK_SOCKET_ANY);
	return mp == NULL ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	pdk_mempool_free(mp);
	return 0;
}

static void start(uint16_t port, uint16_t nq)
{
	assert_int_equal(pdk_eth_dev_configure(port, nq, nq, NULL), 0);
	for (uint16_t q = 0; q < nq; q++) {
		assert_int_equal(pdk_eth_rx_queue_setup(port, q, 0, PDK_SOCKET_ANY,
							NULL, mp), 0);
		assert_int_equal(pdk_eth_tx_queue_setup(port, q, 0, PDK_SOCKET_ANY,
							NULL), 0);
	}
	assert_int_equal(pdk_eth_dev_start(port), 0);
}

static uint16_t port_of(const char *name)
{
	int p = pdk_eth_dev_lookup(name);

	assert_true(p >= 0);
	return (uint16_t)p;
}

/* n packets of len bytes; byte j of packet i is (tag + i + j). */
static void make_pkts(struct pdk_mbuf **pkts, unsigned n, uint16_t len, uint8_t tag)
{
	for (unsigned i = 0; i < n; i++) {
		uint8_t *d;

		pkts[i] = pdk_pktmbuf_alloc(mp);
		assert_non_null(pkts[i]);
		d = (uint8_t *)pdk_pktmbuf_append(pkts[i], len);
		assert_non_null(d);
		for (unsigned j = 0; j < len; j++)
			d[j] = (uint8_t)(tag + i + j);
	}
}

static void check_pkts(struct pdk_mbuf **pkts, unsigned n, uint16_t len,
		       uint8_t tag, uint16_t port)
{
	for (unsigned i = 0; i < n; i++) {
		const uint8_t *d = pdk_pktmbuf_mtod(pkts[i], const uint8_t *);

		assert_int_equal(pkts[i]->pkt_len, len);
		assert_int_equal(pkts[i]->port, port);
		for (unsigned j = 0; j < len; j++)
			if (d[j] != (uint8_t)(tag + i + j))
				fail_msg("packet %u byte %u: %u", i, j, d[j]);
	}
}

static void send_and_receive(uint16_t from, uint16_t to, uint16_t q, uint8_t tag)
{
	struct pdk_mbuf *tx[BURST], *rx[BURST];

	make_pkts(tx, BURST, 100, tag);
	assert_int_equal(pdk_eth_tx_burst(from, q, tx, BURST), BURST);
	assert_int_equal(pdk_eth_rx_burst(from, q, rx, BURST), 0);
	assert_int_equal(pdk_eth_rx_burst(to, q, rx, BURST), BURST);
	for (int i = 0; i < BURST; i++)
		assert_ptr_equal(rx[i], tx[i]); /* same mbufs, same order */
	check_pkts(rx, BURST, 100, tag, to);
	pdk_pktmbuf_free_bulk(rx, BURST);
}

static void test_back_to_back(void **state)
{
	struct pdk_eth_stats s0, s1;
	uint16_t a = port_of("net_ring0"), b = port_of("net_ring1");

	(void)state;
	start(a, 1);
	start(b, 1);
	send_and_receive(a, b, 0, 1);
	send_and_receive(b, a, 0, 7);
	send_and_receive(a, b, 0, 9);
	assert_int_equal(pdk_eth_stats_get(a, &s0), 0);
	assert_int_equal(pdk_eth_stats_get(b, &s1), 0);
	assert_int_equal(s0.opackets, 2 * BURST);
	assert_int_equal(s1.ipackets, 2 * BURST);
	assert_int_equal(s0.obytes, 2 * BURST * 100);
	assert_int_equal(s1.ibytes, s0.obytes);
	assert_int_equal(s1.opackets, BURST);
	assert_int_equal(s0.ipackets, BURST);
	assert_int_equal(pdk_mempool_avail_count(mp), NB_MBUF);
	assert_int_equal(pdk_eth_dev_stop(a), 0);
	assert_int_equal(pdk_eth_dev_stop(b), 0);
}

static void test_loopback_and_full_ring(void **state)
{
	struct pdk_mbuf *pkts[BURST];
	struct pdk_eth_dev_info info;
	uint16_t p;

	(void)state;
	assert_int_equal(pdk_vdev_create("net_ring2,size=16"), 0);
	p = port_of("net_ring2");
	assert_int_equal(pdk_eth_dev_info_get(p, &info), 0);
	assert_int_equal(info.tx_desc_lim.nb_max, 16);
	test_log_capture(PDK_LOG_ERR);
	assert_int_equal(pdk_eth_dev_configure(p, 1, 1, NULL), 0);
	assert_int_equal(pdk_eth_tx_queue_setup(p, 0, 32, PDK_SOCKET_ANY, NULL), -EINVAL);
	assert_log_contains("valid counts are 1-16");
	test_log_release();
	start(p, 1);
	make_pkts(pkts, BURST, 60, 3);
	/* The ring holds 16: the rest stay ours. */
	assert_int_equal(pdk_eth_tx_burst(p, 0, pkts, BURST), 16);
	pdk_pktmbuf_free_bulk(pkts + 16, BURST - 16);
	assert_int_equal(pdk_eth_rx_burst(p, 0, pkts, BURST), 16);
	check_pkts(pkts, 16, 60, 3, p);
	pdk_pktmbuf_free_bulk(pkts, 16);
	assert_int_equal(pdk_vdev_remove("net_ring2"), 0);
	assert_int_equal(pdk_mempool_avail_count(mp), NB_MBUF);
}

static void test_multiqueue_pair(void **state)
{
	uint16_t a, b;

	(void)state;
	assert_int_equal(pdk_vdev_create("net_ring3,queues=2"), 0);
	assert_int_equal(pdk_vdev_create("net_ring4,peer=net_ring3"), 0);
	a = port_of("net_ring3");
	b = port_of("net_ring4");
	start(a, 2);
	start(b, 2);
	send_and_receive(a, b, 1, 11);
	send_and_receive(b, a, 0, 12);
	send_and_receive(b, a, 1, 13);
	/* Close one side first: the other still works; packets left in
	 * rings are freed with them. */
	assert_int_equal(pdk_vdev_remove("net_ring3"), 0);
	{
		struct pdk_mbuf *pkts[4];

		make_pkts(pkts, 4, 10, 0);
		assert_int_equal(pdk_eth_tx_burst(b, 0, pkts, 4), 4);
		assert_int_equal(pdk_eth_rx_burst(b, 0, pkts, 4), 0);
	}
	assert_int_equal(pdk_mempool_avail_count(mp), NB_MBUF - 4);
	assert_int_equal(pdk_vdev_remove("net_ring4"), 0);
	assert_int_equal(pdk_mempool_avail_count(mp), NB_MBUF);
}

static void test_peer_errors(void **state)
{
	(void)state;
	test_log_capture(PDK_LOG_ERR);
	assert_int_equal(pdk_vdev_create("net_ring5,peer=net_ring9"), -EINVAL);
	assert_log_contains("create it first (--vdev net_ring9 before --vdev net_ring5,peer=net_ring9)");
	/* net_ring0 is wired to net_ring1 already. */
	assert_int_equal(pdk_vdev_create("net_ring5,peer=net_ring0"), -EINVAL);
	assert_log_contains("net_ring0 is wired already");
	assert_int_equal(pdk_vdev_create("net_ring5,size=1000"), -EINVAL);
	assert_log_contains("bad value '1000' for size");
	assert_int_equal(pdk_vdev_create("net_ring5,queues=17"), -EINVAL);
	assert_int_equal(pdk_vdev_create("net_ring5"), 0);
	assert_int_equal(pdk_vdev_create("net_ring6,queues=2,peer=net_ring5"), -EINVAL);
	assert_log_contains("queues=2 but peer net_ring5 has 1");
	test_log_release();
	assert_int_equal(pdk_vdev_remove("net_ring5"), 0);
	assert_int_equal(pdk_eth_dev_lookup("net_ring6"), -ENODEV);
}

static void test_ports_over_app_rings(void **state)
{
	struct pdk_ring *ab = pdk_ring_create("app_ab", 64, PDK_SOCKET_ANY, 0);
	struct pdk_ring *ba = pdk_ring_create("app_ba", 64, PDK_SOCKET_ANY, 0);
	struct pdk_ring *none[1] = {NULL};
	int a, b;

	(void)state;
	assert_non_null(ab);
	assert_non_null(ba);
	a = pdk_eth_ring_port_create("app_a", &ba, 1, &ab, 1);
	b = pdk_eth_ring_port_create("app_b", &ab, 1, &ba, 1);
	assert_true(a >= 0 && b >= 0);
	start((uint16_t)a, 1);
	start((uint16_t)b, 1);
	send_and_receive((uint16_t)a, (uint16_t)b, 0, 21);
	send_and_receive((uint16_t)b, (uint16_t)a, 0, 22);
	test_log_capture(PDK_LOG_ERR);
	assert_int_equal(pdk_eth_ring_port_create("app_c", none, 1, NULL, 0), -EINVAL);
	assert_int_equal(pdk_eth_ring_port_create("app_c", NULL, 0, NULL, 0), -EINVAL);
	assert_int_equal(pdk_eth_ring_port_create("app_a", &ab, 1, &ab, 1), -EEXIST);
	test_log_release();
	assert_int_equal(pdk_eth_dev_close((uint16_t)a), 0);
	assert_int_equal(pdk_eth_dev_close((uint16_t)b), 0);
	/* The rings are still the application's. */
	assert_ptr_equal(pdk_ring_lookup("app_ab"), ab);
	pdk_ring_free(ab);
	pdk_ring_free(ba);
}

int main(void)
{
	TEST_ARGV(argv, "test_net_ring", "--no-huge", "-l", "0", "-m", "64",
		  "--log-level=warning", "--vdev", "net_ring0", "--vdev",
		  "net_ring1,peer=net_ring0");
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_back_to_back),
		cmocka_unit_test(test_loopback_and_full_ring),
		cmocka_unit_test(test_multiqueue_pair),
		cmocka_unit_test(test_peer_errors),
		cmocka_unit_test(test_ports_over_app_rings),
	};
	int rc;

	if (pdk_eal_init(argv_c, argv) < 0) {
		fprintf(stderr, "pdk_eal_init failed: %s\n", pdk_eal_last_error());
		return 1;
	}
	rc = cmocka_run_group_tests(tests, setup, teardown);
	pdk_eal_cleanup();
	return rc;
}
