/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_null semantics: receive allocates from the queue's pool without
 * touching data (copy=1 fills it), transmit frees (the pool returns to
 * full), exhaustion counts rx_nombuf, size= sets the packet length,
 * no_rx=1 receives nothing.
 */
#include "pdk_test.h"

#include <pdk_ethdev.h>
#include <pdk_vdev.h>

#define NB_MBUF 256
#define BURST 32

static struct pdk_mempool *mp;

static int setup(void **state)
{
	(void)state;
	mp = pdk_pktmbuf_pool_create("null_mb", NB_MBUF, 16, 0,
				     PDK_MBUF_DEFAULT_BUF_SIZE, PDK_SOCKET_ANY);
	return mp == NULL ? -1 : 0;
}

static int teardown(void **state)
{
	(void)state;
	pdk_mempool_free(mp);
	return 0;
}

/* Create vdev `args`, start it with one queue pair over `pool`. */
static uint16_t null_port(const char *args, struct pdk_mempool *pool)
{
	char name[32];
	int port;

	assert_int_equal(pdk_vdev_create(args), 0);
	snprintf(name, sizeof(name), "%.*s", (int)strcspn(args, ","), args);
	port = pdk_eth_dev_lookup(name);
	assert_true(port >= 0);
	assert_int_equal(pdk_eth_dev_configure((uint16_t)port, 1, 1, NULL), 0);
	assert_int_equal(pdk_eth_rx_queue_setup((uint16_t)port, 0, 0, PDK_SOCKET_ANY,
						NULL, pool), 0);
	assert_int_equal(pdk_eth_tx_queue_setup((uint16_t)port, 0, 0, PDK_SOCKET_ANY,
						NULL), 0);
	assert_int_equal(pdk_eth_dev_start((uint16_t)port), 0);
	return (uint16_t)port;
}

static unsigned pool_free(struct pdk_mempool *pool)
{
	return pdk_mempool_avail_count(pool);
}

/* Receive every mbuf of the pool; count those whose data is `mark`. */
static unsigned count_marked(uint16_t port, const uint8_t *mark)
{
	struct pdk_mbuf *all[NB_MBUF];
	unsigned n = 0, marked = 0;

	while (n < NB_MBUF)
		n += pdk_eth_rx_burst(port, 0, all + n, 1);
	assert_int_equal(pdk_eth_rx_burst(port, 0, all, 1), 0);
	for (unsigned i = 0; i < n; i++)
		marked += memcmp(pdk_pktmbuf_mtod(all[i], void *), mark, 64) == 0;
	for (unsigned i = 0; i < n; i += BURST)
		assert_int_equal(pdk_eth_tx_burst(port, 0, all + i, BURST), BURST);
	return marked;
}

static void test_rx_allocates_tx_frees(void **state)
{
	struct pdk_mbuf *pkts[BURST];
	uint16_t port = null_port("net_null0", mp);
	struct pdk_eth_stats st;
	uint8_t before[64];

	(void)state;
	assert_int_equal(pool_free(mp), NB_MBUF);
	assert_int_equal(pdk_eth_rx_burst(port, 0, pkts, BURST), BURST);
	assert_int_equal(pool_free(mp), NB_MBUF - BURST);
	for (int i = 0; i < BURST; i++) {
		assert_ptr_equal(pkts[i]->pool, mp);
		assert_int_equal(pkts[i]->data_len, 64);
		assert_int_equal(pkts[i]->pkt_len, 64);
		assert_int_equal(pkts[i]->nb_segs, 1);
		assert_int_equal(pkts[i]->port, port);
		assert_int_equal(pdk_mbuf_check(pkts[i], true, NULL), 0);
	}
	/* Data is not touched: what we write survives a tx/rx round. */
	for (int i = 0; i < BURST; i++)
		memset(pdk_pktmbuf_mtod(pkts[i], void *), 0xa5, 64);
	memset(before, 0xa5, sizeof(before));
	assert_int_equal(pdk_eth_tx_burst(port, 0, pkts, BURST), BURST);
	assert_int_equal(pool_free(mp), NB_MBUF);
	assert_int_equal(count_marked(port, before), BURST);
	assert_int_equal(pdk_eth_stats_get(port, &st), 0);
	assert_int_equal(st.ipackets, BURST + NB_MBUF);
	assert_int_equal(st.opackets, BURST + NB_MBUF);
	assert_int_equal(st.obytes, (BURST + NB_MBUF) * 64);
	assert_int_equal(st.rx_nombuf, 1); /* count_marked's probe of an empty pool */
	assert_int_equal(pdk_vdev_remove("net_null0"), 0);
}

static void test_rx_nombuf(void **state)
{
	struct pdk_mempool *tiny = pdk_pktmbuf_pool_create(
		"null_tiny", 40, 0, 0, PDK_MBUF_DEFAULT_BUF_SIZE, PDK_SOCKET_ANY);
	struct pdk_mbuf *a[BURST], *b[BURST];
	struct pdk_eth_stats st;
	uint16_t port;

	(void)state;
	assert_non_null(tiny);
	port = null_port("net_null1", tiny);
	assert_int_equal(pdk_eth_rx_burst(port, 0, a, BURST), BURST);
	/* 8 left: a burst of 32 cannot be served. */
	assert_int_equal(pdk_eth_rx_burst(port, 0, b, BURST), 0);
	assert_int_equal(pdk_eth_rx_burst(port, 0, b, BURST), 0);
	assert_int_equal(pdk_eth_stats_get(port, &st), 0);
	assert_int_equal(st.rx_nombuf, 2 * BURST);
	assert_int_equal(st.ipackets, BURST);
	assert_int_equal(pdk_eth_rx_burst(port, 0, b, 8), 8);
	assert_int_equal(pdk_eth_tx_burst(port, 0, a, BURST), BURST);
	assert_int_equal(pdk_eth_tx_burst(port, 0, b, 8), 8);
	assert_int_equal(pool_free(tiny), 40);
	assert_int_equal(pdk_vdev_remove("net_null1"), 0);
	pdk_mempool_free(tiny);
}

static void test_options(void **state)
{
	struct pdk_mbuf *pkts[4];
	uint16_t p2, p3;
	const uint8_t *d;

	(void)state;
	p2 = null_port("net_null2,size=200,copy=1", mp);
	assert_int_equal(pdk_eth_rx_burst(p2, 0, pkts, 4), 4);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(pkts[i]->pkt_len, 200);
		d = pdk_pktmbuf_mtod(pkts[i], const uint8_t *);
		/* copy=1 writes a broadcast destination and a pattern. */
		assert_int_equal(d[0] & d[5], 0xff);
		assert_int_equal(d[199], 199);
	}
	assert_int_equal(pdk_eth_tx_burst(p2, 0, pkts, 4), 4);
	p3 = null_port("net_null3,no_rx=1", mp);
	assert_int_equal(pdk_eth_rx_burst(p3, 0, pkts, 4), 0);
	assert_int_equal(pool_free(mp), NB_MBUF);
	test_log_capture(PDK_LOG_ERR);
	assert_int_equal(pdk_vdev_create("net_null4,size=70000"), -EINVAL);
	assert_log_contains("size=<1-65407>");
	assert_int_equal(pdk_vdev_create("net_null4,copy=2"), -EINVAL);
	test_log_release();
	assert_int_equal(pdk_vdev_remove("net_null2"), 0);
	assert_int_equal(pdk_vdev_remove("net_null3"), 0);
}

static void test_tx_frees_chains_shared_and_mixed(void **state)
{
	uint16_t port = null_port("net_null5", mp);
	struct pdk_mbuf *head, *seg, *shared;
	struct pdk_mbuf *pkts[2];

	(void)state;
	head = pdk_pktmbuf_alloc(mp);
	seg = pdk_pktmbuf_alloc(mp);
	shared = pdk_pktmbuf_alloc(mp);
	assert_non_null(head);
	assert_non_null(seg);
	assert_non_null(shared);
	assert_non_null(pdk_pktmbuf_append(head, 10));
	assert_non_null(pdk_pktmbuf_append(seg, 20));
	assert_int_equal(pdk_pktmbuf_chain(head, seg), 0);
	pdk_mbuf_refcnt_update(shared, 1); /* we keep a reference */
	pkts[0] = head;
	pkts[1] = shared;
	assert_int_equal(pdk_eth_tx_burst(port, 0, pkts, 2), 2);
	assert_int_equal(pool_free(mp), NB_MBUF - 1);
	assert_int_equal(pdk_mbuf_refcnt_read(shared), 1);
	pdk_pktmbuf_free(shared);
	assert_int_equal(pool_free(mp), NB_MBUF);
	/* An empty burst, and a burst mixing two pools. */
	assert_int_equal(pdk_eth_tx_burst(port, 0, pkts, 0), 0);
	{
		struct pdk_mempool *other = pdk_pktmbuf_pool_create(
			"null_other", 16, 0, 0, PDK_MBUF_DEFAULT_BUF_SIZE, PDK_SOCKET_ANY);

		assert_non_null(other);
		pkts[0] = pdk_pktmbuf_alloc(mp);
		pkts[1] = pdk_pktmbuf_alloc(other);
		assert_non_null(pkts[0]);
		assert_non_null(pkts[1]);
		assert_int_equal(pdk_eth_tx_burst(port, 0, pkts, 2), 2);
		assert_int_equal(pool_free(other), 16);
		pdk_mempool_free(other);
	}
	assert_int_equal(pool_free(mp), NB_MBUF);
	assert_int_equal(pdk_vdev_remove("net_null5"), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_rx_allocates_tx_frees),
		cmocka_unit_test(test_rx_nombuf),
		cmocka_unit_test(test_options),
		cmocka_unit_test(test_tx_frees_chains_shared_and_mixed),
	};
	int rc;

	if (test_eal_init_nohuge("0") < 0) {
		fprintf(stderr, "pdk_eal_init failed: %s\n", pdk_eal_last_error());
		return 1;
	}
	rc = cmocka_run_group_tests(tests, setup, teardown);
	pdk_eal_cleanup();
	return rc;
}
