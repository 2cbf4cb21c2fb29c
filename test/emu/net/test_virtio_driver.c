/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_virtio against the emulated virtio-net device in the same process
 * (its own device thread), through lib/vfio's vfio-user client and the PCI
 * bus of pdk_eal_init: probe and limits, frames in loopback (plain and
 * merged over several receive buffers, chained on transmit), multiqueue
 * through the control queue, devices without EVENT_IDX or MRG_RXBUF, link
 * down and up, DEVICE_NEEDS_RESET, malformed used entries (dropped,
 * counted, the queue broken, every mbuf back in its pool after a stop,
 * over and over), surprise removal, and devices the driver refuses.
 *
 * VNET_MALFORMED_ROUNDS sets how many break-and-repair rounds to run
 * (default 300; the 100,000 entries take VNET_MALFORMED_ROUNDS=
 * 100000, several minutes).
 */
#include "emu_test.h"

#include <pdk_bus.h>
#include <pdk_eth_virtio.h>
#include <pdk_ethdev.h>
#include <pdk_emu_virtio_net.h>
#include <pdk_virtio_spec.h>

#define NB_MBUF 4096
#define BURST 32

/* The PCI bus registers from a constructor in a static library: name it so
 * the linker keeps it. */
extern struct pdk_bus vfio_pci_bus;
struct pdk_bus *const test_pci_bus = &vfio_pci_bus;

static struct pdk_emu_dev *dev;
static struct pdk_mempool *mp;
static uint16_t port;

/* EAL with the device `knobs` describe; port 0 is it. */
static void up(const char *knobs)
{
	char allow[256];

	dev = emu_start("virtio-net", emu_path("drv.sock"), knobs);
	snprintf(allow, sizeof(allow), "vfio-user:%s", pdk_emu_dev_socket(dev));
	{
		TEST_ARGV(argv, "prog", "-l", "0", "--no-huge", "-m", "128", "--no-pci",
			  "-a", allow);

		assert_true(pdk_eal_init(argv_c, argv) > 0);
	}
	mp = pdk_pktmbuf_pool_create("vnet_mb", NB_MBUF, 0, 0, PDK_MBUF_DEFAULT_BUF_SIZE,
				     PDK_SOCKET_ANY);
	assert_non_null(mp);
	assert_int_equal(pdk_eth_dev_count_avail(), 1);
	port = pdk_eth_dev_next(0);
}

static int down(void **state)
{
	(void)state;
	if (pdk_eth_dev_is_valid_port(port))
		pdk_eth_dev_close(port);
	pdk_mempool_free(mp);
	mp = NULL;
	pdk_eal_cleanup();
	pdk_emu_dev_destroy(dev);
	dev = NULL;
	return 0;
}

static void start(uint16_t nq, uint16_t nb_desc)
{
	assert_int_equal(pdk_eth_dev_configure(port, nq, nq, NULL), 0);
	for (uint16_t q = 0; q < nq; q++) {
		assert_int_equal(pdk_eth_rx_queue_setup(port, q, nb_desc, PDK_SOCKET_ANY,
							NULL, mp), 0);
		assert_int_equal(pdk_eth_tx_queue_setup(port, q, nb_desc, PDK_SOCKET_ANY,
							NULL), 0);
	}
	assert_int_equal(pdk_eth_dev_start(port), 0);
}

/* A frame of len bytes (one mbuf, or a chain of seg-byte mbufs). */
static struct pdk_mbuf *frame(uint32_t len, uint32_t seed, uint32_t seg)
{
	struct pdk_mbuf *head = NULL, *m;

	for (uint32_t off = 0; off < len; off += seg) {
		uint16_t n = (uint16_t)PDK_MIN(seg, len - off);
		uint8_t *p;

		m = pdk_pktmbuf_alloc(mp);
		assert_non_null(m);
		p = (uint8_t *)pdk_pktmbuf_append(m, n);
		assert_non_null(p);
		for (uint16_t i = 0; i < n; i++)
			p[i] = (uint8_t)(seed + (off + i) * 13);
		if (off == 0)
			memset(p, 0xff, PDK_MIN(n, (uint16_t)12)); /* broadcast */
		if (head)
			assert_int_equal(pdk_pktmbuf_chain(head, m), 0);
		else
			head = m;
	}
	return head;
}

static void check_frame(const struct pdk_mbuf *m, uint32_t len, uint32_t seed)
{
	uint32_t off = 0;

	assert_int_equal(m->pkt_len, len);
	for (; m; m = m->next) {
		const uint8_t *p = pdk_pktmbuf_mtod(m, const uint8_t *);

		for (uint16_t i = 0; i < m->data_len; i++, off++)
			if (off >= 12 && p[i] != (uint8_t)(seed + off * 13))
				fail_msg("byte %u of the frame: 0x%02x", off, p[i]);
	}
	assert_int_equal(off, len);
}

/* Receive one packet on queue q within 2 s. */
static struct pdk_mbuf *recv1(uint16_t q)
{
	struct pdk_mbuf *m = NULL;
	int64_t end = emu_test_ms() + 2000;

	while (pdk_eth_rx_burst(port, q, &m, 1) == 0) {
		if (emu_test_ms() > end)
			fail_msg("nothing received on queue %u", q);
		usleep(50);
	}
	return m;
}

static void loop1(uint16_t q, uint32_t len, uint32_t seed, uint32_t seg)
{
	struct pdk_mbuf *m = frame(len, seed, seg);

	assert_int_equal(pdk_eth_tx_burst(port, q, &m, 1), 1);
	m = recv1(q);
	check_frame(m, len, seed);
	pdk_pktmbuf_free(m);
}

static struct pdk_eth_virtio_xstats xstats(void)
{
	struct pdk_eth_virtio_xstats x;

	assert_int_equal(pdk_eth_virtio_xstats_get(port, &x), 0);
	return x;
}

static void test_probe(void **state)
{
	struct pdk_eth_dev_info info;
	struct pdk_ether_addr mac;
	struct pdk_eth_link link;

	(void)state;
	up("mac=02:00:00:00:00:42,queue-size=512,queue-pairs=3");
	assert_int_equal(pdk_eth_dev_info_get(port, &info), 0);
	assert_string_equal(info.driver_name, "net_virtio");
	assert_int_equal(strncmp(info.name, "vfio-user:", 10), 0);
	assert_int_equal(info.max_rx_queues, 3);
	assert_int_equal(info.rx_desc_lim.nb_max, 512);
	assert_int_equal(info.default_rxd, 512);
	assert_int_equal(pdk_eth_macaddr_get(port, &mac), 0);
	assert_int_equal(mac.addr_bytes[5], 0x42);
	assert_int_equal(pdk_eth_link_get(port, &link), 0);
	assert_int_equal(link.link_status, PDK_ETH_LINK_DOWN); /* not started */
	assert_int_equal(pdk_eth_dev_configure(port, 4, 4, NULL), -EINVAL);
	start(1, 0);
	assert_int_equal(pdk_eth_link_get(port, &link), 0);
	assert_int_equal(link.link_status, PDK_ETH_LINK_UP);
	assert_int_equal(xstats().queue_pairs, 1);
	assert_int_equal(xstats().max_queue_pairs, 3);
	assert_int_equal(pdk_eth_promiscuous_enable(port), 0);
}

static void test_loopback(void **state)
{
	struct pdk_eth_stats st;

	(void)state;
	up(NULL);
	start(1, 256);
	for (uint32_t i = 0; i < 200; i++)
		loop1(0, 60 + (i * 37) % 1455, i, 2048);
	loop1(0, 4000, 1, 2000);                /* two buffers on receive */
	loop1(0, 9000, 2, 1000);                /* a 9-segment chain, 5 buffers */
	loop1(0, 3000, 3, 100);                 /* 30 segments */
	assert_int_equal(pdk_eth_stats_get(port, &st), 0);
	assert_int_equal(st.ipackets, 203);
	assert_int_equal(st.opackets, 203);
	assert_int_equal(st.ierrors + st.oerrors + st.rx_nombuf, 0);
	assert_int_equal(xstats().features & PDK_VIRTIO_BIT(PDK_VIRTIO_NET_F_MRG_RXBUF),
			 PDK_VIRTIO_BIT(PDK_VIRTIO_NET_F_MRG_RXBUF));
	/* stop: every mbuf back in the pool (those the Tx ring held too) */
	assert_int_equal(pdk_eth_dev_stop(port), 0);
	assert_int_equal(pdk_mempool_in_use_count(mp), 0);
	assert_int_equal(pdk_eth_dev_start(port), 0);
	loop1(0, 100, 9, 2048);
}

/* Without EVENT_IDX and MRG_RXBUF (kicks by NO_NOTIFY, one buffer a
 * packet) nor ACCESS_PLATFORM (a vfio-user server sees IOVAs anyway). */
static void test_plain_features(void **state)
{
	struct pdk_eth_stats st;

	(void)state;
	up("features-off=0x220008000");
	start(1, 128);
	for (uint32_t i = 0; i < 300; i++)
		loop1(0, 1514, i, 2048);
	assert_int_equal(xstats().features & (PDK_VIRTIO_BIT(PDK_VIRTIO_F_EVENT_IDX) |
					      PDK_VIRTIO_BIT(PDK_VIRTIO_NET_F_MRG_RXBUF)), 0);
	assert_true(xstats().kicks > 0);
	assert_int_equal(pdk_eth_stats_get(port, &st), 0);
	assert_int_equal(st.ierrors + st.oerrors, 0);
}

static void test_multiqueue(void **state)
{
	struct pdk_eth_stats st;

	(void)state;
	up("queue-pairs=4");
	start(3, 128);
	assert_int_equal(xstats().queue_pairs, 3);
	for (uint16_t q = 0; q < 3; q++)
		for (uint32_t i = 0; i < 50; i++)
			loop1(q, 64 + q, i, 2048); /* steered back to the same pair */
	assert_int_equal(pdk_eth_stats_get(port, &st), 0);
	for (uint16_t q = 0; q < 3; q++)
		assert_int_equal(st.q_ipackets[q], 50);
	assert_int_equal(pdk_eth_dev_stop(port), 0);
	start(1, 128); /* back to one pair */
	assert_int_equal(xstats().queue_pairs, 1);
	loop1(0, 64, 1, 2048);
}

static int link_status(void)
{
	struct pdk_eth_link link;

	assert_int_equal(pdk_eth_link_get(port, &link), 0);
	return link.link_status;
}

static void test_link(void **state)
{
	(void)state;
	up(NULL);
	start(1, 0);
	assert_int_equal(link_status(), PDK_ETH_LINK_UP);
	assert_int_equal(pdk_emu_dev_inject(dev, "link-down"), 0);
	assert_int_equal(link_status(), PDK_ETH_LINK_DOWN);
	/* the configuration interrupt reached the driver's control thread */
	for (int i = 0; i < 2000 && xstats().config_irqs == 0; i++)
		usleep(1000);
	assert_int_equal(xstats().config_irqs, 1);
	assert_int_equal(pdk_emu_dev_inject(dev, "link-up"), 0);
	assert_int_equal(link_status(), PDK_ETH_LINK_UP);
	assert_int_equal(xstats().link_changes, 3); /* up at start, down, up */
	loop1(0, 64, 1, 2048);
}

static void test_needs_reset(void **state)
{
	struct pdk_mbuf *m;

	(void)state;
	up(NULL);
	start(1, 0);
	assert_int_equal(pdk_emu_dev_inject(dev, "needs-reset"), 0);
	for (int i = 0; i < 2000 && xstats().needs_reset == 0; i++)
		usleep(1000);
	assert_int_equal(xstats().needs_reset, 1);
	m = frame(64, 1, 2048);
	assert_int_equal(pdk_eth_tx_burst(port, 0, &m, 1), 0); /* stopped */
	pdk_pktmbuf_free(m);
	assert_int_equal(pdk_eth_dev_stop(port), 0);
	assert_int_equal(pdk_eth_dev_start(port), 0);
	loop1(0, 64, 2, 2048);
	assert_int_equal(xstats().needs_reset, 1);
}

static uint64_t bad_total(const struct pdk_eth_virtio_xstats *x)
{
	return x->rx_bad_used_idx + x->rx_bad_used_id + x->rx_bad_used_stale +
	       x->rx_bad_used_len + x->tx_bad_used_idx + x->tx_bad_used_id +
	       x->tx_bad_used_stale + x->tx_bad_used_len;
}

/* Traffic until a queue breaks (within 20 s: the device thread shares a
 * busy machine); how many bursts it took. */
static unsigned until_broken(void)
{
	struct pdk_mbuf *pkts[BURST];
	int64_t end = emu_test_ms() + 20000;
	unsigned bursts = 0;

	while (xstats().queues_broken == 0) {
		uint16_t n = 0, got;

		for (; n < 8; n++)
			pkts[n] = frame(64, n, 2048);
		got = pdk_eth_tx_burst(port, 0, pkts, n);
		pdk_pktmbuf_free_bulk(pkts + got, n - got);
		got = pdk_eth_rx_burst(port, 0, pkts, BURST);
		pdk_pktmbuf_free_bulk(pkts, got);
		if (got == 0)
			usleep(20); /* let the device thread run */
		bursts++;
		if (emu_test_ms() > end) {
			struct pdk_emu_virtio_net_stats d;
			struct pdk_eth_virtio_xstats x = xstats();

			pdk_emu_virtio_net_stats(dev, &d);
			fail_msg("no queue broke in %u bursts: device tx %llu rx %llu dropped "
				 "%llu/%llu bad_used %llu needs_reset %llu resets %llu; driver "
				 "kicks %llu saved %llu", bursts, (unsigned long long)d.tx_frames,
				 (unsigned long long)d.rx_frames,
				 (unsigned long long)d.tx_dropped, (unsigned long long)d.rx_dropped,
				 (unsigned long long)d.bad_used, (unsigned long long)d.needs_reset,
				 (unsigned long long)d.resets, (unsigned long long)x.kicks,
				 (unsigned long long)x.kicks_saved);
		}
	}
	return bursts;
}

static int cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;

	return x < y ? -1 : x > y;
}

/* Every mbuf is in the pool, once: take them all out, look for doubles. */
static void assert_pool_whole(void)
{
	static void *objs[NB_MBUF + 64];
	unsigned n = 0;

	while (n < PDK_DIM(objs) && pdk_mempool_get(mp, &objs[n]) == 0)
		n++;
	qsort(objs, n, sizeof(objs[0]), cmp_ptr);
	for (unsigned i = 1; i < n; i++)
		if (objs[i] == objs[i - 1])
			fail_msg("mbuf %p is in the pool twice: a double free", objs[i]);
	pdk_mempool_put_bulk(mp, objs, n);
	assert_int_equal(n, NB_MBUF);
}

/*
 * Malformed used entries of each kind, round after round: each breaks a
 * queue and is counted once, the bursts keep returning, and a stop frees
 * every mbuf exactly once.
 */
static void test_malformed_rounds(void **state)
{
	const char *env = getenv("VNET_MALFORMED_ROUNDS");
	unsigned rounds = env ? (unsigned)atoi(env) : 300;
	struct pdk_eth_virtio_xstats x;
	struct pdk_eth_stats st;
	uint64_t before;

	(void)state;
	up("bad-used=mix,bad-used-every=97,queue-size=64");
	start(1, 64);
	for (unsigned i = 0; i < rounds; i++) {
		x = xstats();
		before = bad_total(&x);
		until_broken();
		x = xstats();
		assert_int_equal(bad_total(&x), before + x.queues_broken);
		assert_int_equal(pdk_eth_dev_stop(port), 0);
		assert_int_equal(pdk_mempool_in_use_count(mp), 0);
		if (i % 50 == 0)
			assert_pool_whole();
		assert_int_equal(pdk_eth_dev_start(port), 0);
	}
	x = xstats();
	assert_true(bad_total(&x) >= rounds);
	assert_int_equal(pdk_eth_stats_get(port, &st), 0);
	assert_true(st.ierrors + st.oerrors >= rounds);
	assert_int_equal(x.needs_reset, 0);
	assert_int_equal(pdk_eth_dev_stop(port), 0);
	assert_pool_whole();
}

static void test_surprise_removal(void **state)
{
	struct pdk_mbuf *m;

	(void)state;
	up("remove-grace-ms=5000");
	start(1, 0);
	loop1(0, 64, 1, 2048);
	assert_int_equal(pdk_emu_dev_fault(dev, PDK_EMU_FAULT_REMOVE), 0);
	for (int i = 0; i < 2000 && xstats().removed == 0; i++)
		usleep(1000);
	assert_int_equal(xstats().removed, 1);
	m = frame(64, 1, 2048);
	assert_int_equal(pdk_eth_tx_burst(port, 0, &m, 1), 0);
	pdk_pktmbuf_free(m);
	assert_int_equal(link_status(), PDK_ETH_LINK_DOWN);
	assert_int_equal(pdk_eth_dev_start(port), 0); /* started already: nothing */
	assert_int_equal(pdk_eth_dev_close(port), 0); /* lets go, no hang */
	assert_int_equal(pdk_mempool_in_use_count(mp), 0);
}

/* A device without VERSION_1 (legacy only): init fails, saying so. */
static void test_refused(void **state)
{
	char allow[256];

	(void)state;
	dev = emu_start("virtio-net", emu_path("bad.sock"), "features-off=0x100000000");
	snprintf(allow, sizeof(allow), "vfio-user:%s", pdk_emu_dev_socket(dev));
	test_log_capture(PDK_LOG_ERR);
	{
		TEST_ARGV(argv, "prog", "-l", "0", "--no-huge", "-m", "64", "--no-pci",
			  "-a", allow);

		assert_true(pdk_eal_init(argv_c, argv) < 0);
	}
	assert_log_contains("does not offer VIRTIO_F_VERSION_1");
	test_log_release();
	pdk_eal_cleanup();
	pdk_emu_dev_destroy(dev);
	dev = NULL;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_probe, down),
		cmocka_unit_test_teardown(test_loopback, down),
		cmocka_unit_test_teardown(test_plain_features, down),
		cmocka_unit_test_teardown(test_multiqueue, down),
		cmocka_unit_test_teardown(test_link, down),
		cmocka_unit_test_teardown(test_needs_reset, down),
		cmocka_unit_test_teardown(test_malformed_rounds, down),
		cmocka_unit_test_teardown(test_surprise_removal, down),
		cmocka_unit_test(test_refused),
	};

	return EMU_TEST_MAIN(tests);
}
