/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pdk-testpmd: forwards packets between ports on dedicated lcores, like
 * dpdk-testpmd, and reports rates, totals and cycles per packet.
 *
 *   pdk-testpmd -l 0-1 --no-huge --vdev net_null0 --vdev net_null1 -- \
 *       --forward-mode io --stats-period 1 --run-time 10
 *
 * The main lcore runs this file (setup, stats, the shell); the forwarding
 * loops run on the worker lcores (fwd.c).
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pdk_eal.h>
#include <pdk_ethdev.h>

#include "testpmd.h"

static _Atomic int signalled; /* lock-free: safe to set in a handler */

static void on_signal(int sig)
{
	atomic_store(&signalled, sig);
}

bool tp_signalled(void)
{
	return atomic_load(&signalled) != 0;
}

/* No SA_RESTART: a blocked read in the shell returns EINTR at once. */
static void signals_install(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
}

static double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void sleep_s(double s)
{
	struct timespec ts = {(time_t)s, (long)((s - (double)(time_t)s) * 1e9)};

	nanosleep(&ts, NULL); /* a signal cuts it short: fine */
}

static int collect_ports(struct testpmd *tp)
{
	uint16_t p;

	PDK_ETH_FOREACH_DEV(p)
		tp->ports[tp->nb_ports++] = p;
	if (tp->nb_ports == 0) {
		fprintf(stderr, "pdk-testpmd: no ports; create some with EAL options, "
			"e.g. --vdev net_null0 --vdev net_null1, or "
			"--vdev net_ring0 --vdev net_ring1,peer=net_ring0\n");
		return -ENODEV;
	}
	return 0;
}

static unsigned default_mbufs(const struct testpmd *tp)
{
	const struct tp_config *c = &tp->cfg;
	unsigned rxd = c->nb_rxd ? c->nb_rxd : 1024, txd = c->nb_txd ? c->nb_txd : 1024;
	unsigned n = tp->nb_ports * c->nb_rxq * (rxd + txd) +
		     (pdk_lcore_count() + 1) * c->mbcache +
		     tp->nb_ports * c->nb_rxq * c->burst * 2;

	return PDK_MAX(n, 8192u);
}

/* Data room for every port's Rx needs and for --txpkts. */
static unsigned mbuf_room(const struct testpmd *tp)
{
	unsigned need = tp->cfg.txpkts;
	struct pdk_eth_dev_info info;

	for (unsigned i = 0; i < tp->nb_ports; i++)
		if (pdk_eth_dev_info_get(tp->ports[i], &info) == 0)
			need = PDK_MAX(need, info.min_rx_bufsize);
	return PDK_MAX((unsigned)PDK_MBUF_DEFAULT_BUF_SIZE, need + PDK_PKTMBUF_HEADROOM);
}

static int pool_create(struct testpmd *tp)
{
	unsigned n = tp->cfg.total_mbufs ? tp->cfg.total_mbufs : default_mbufs(tp);
	unsigned room = mbuf_room(tp);

	tp->mp = pdk_pktmbuf_pool_create("mb_pool_0", n, tp->cfg.mbcache, 0,
					 (uint16_t)room, PDK_SOCKET_ANY);
	if (tp->mp == NULL) {
		fprintf(stderr, "pdk-testpmd: cannot create a pool of %u mbufs of %u "
			"bytes: %s; give EAL more memory (-m) or ask for fewer "
			"(--total-num-mbufs)\n", n, room, strerror(errno));
		return -ENOMEM;
	}
	return 0;
}

static int port_fail(uint16_t port, const char *what, int rc)
{
	fprintf(stderr, "pdk-testpmd: port %u (%s): %s failed: %s (the message "
		"above says what is valid)\n", port, pdk_eth_dev_name(port), what,
		strerror(-rc));
	return rc;
}

static int port_setup(struct testpmd *tp, uint16_t p)
{
	const struct tp_config *c = &tp->cfg;
	int rc;

	if ((rc = pdk_eth_dev_configure(p, c->nb_rxq, c->nb_txq, NULL)) < 0)
		return port_fail(p, "configure", rc);
	for (uint16_t q = 0; q < c->nb_rxq; q++) {
		rc = pdk_eth_rx_queue_setup(p, q, c->nb_rxd, PDK_SOCKET_ANY, NULL, tp->mp);
		if (rc < 0)
			return port_fail(p, "Rx queue setup", rc);
		rc = pdk_eth_tx_queue_setup(p, q, c->nb_txd, PDK_SOCKET_ANY, NULL);
		if (rc < 0)
			return port_fail(p, "Tx queue setup", rc);
	}
	rc = pdk_eth_promiscuous_enable(p);
	if (rc < 0 && rc != -ENOTSUP)
		return port_fail(p, "promiscuous mode", rc);
	if ((rc = pdk_eth_dev_start(p)) < 0)
		return port_fail(p, "start", rc);
	return 0;
}

static void ports_close(struct testpmd *tp)
{
	for (unsigned i = 0; i < tp->nb_ports; i++) {
		pdk_eth_dev_stop(tp->ports[i]);
		pdk_eth_dev_close(tp->ports[i]);
	}
}

static void announce(const struct testpmd *tp)
{
	char mac[PDK_ETHER_ADDR_FMT_SIZE];
	struct pdk_ether_addr a;

	if (tp->cfg.json)
		printf("{\"event\":\"start\",\"mode\":\"%s\",\"burst\":%u,\"streams\":%u,"
		       "\"lcores\":%u,\"ports\":[", fwd_mode_names[tp->cfg.mode],
		       tp->cfg.burst, tp->nb_streams, tp->nb_lcores);
	else
		printf("pdk-testpmd: %s forwarding, burst %u, %u stream(s) on %u "
		       "lcore(s)\n", fwd_mode_names[tp->cfg.mode], tp->cfg.burst,
		       tp->nb_streams, tp->nb_lcores);
	for (unsigned i = 0; i < tp->nb_ports; i++) {
		pdk_eth_macaddr_get(tp->ports[i], &a);
		pdk_ether_addr_format(mac, sizeof(mac), &a);
		if (tp->cfg.json)
			printf("%s{\"port\":%u,\"name\":\"%s\",\"mac\":\"%s\"}", i ? "," : "",
			       tp->ports[i], pdk_eth_dev_name(tp->ports[i]), mac);
		else
			printf("  port %u: %s, MAC %s\n", tp->ports[i],
			       pdk_eth_dev_name(tp->ports[i]), mac);
	}
	if (tp->cfg.json)
		fputs("]}\n", stdout);
	fflush(stdout);
}

/* Forward until a signal or --run-time, showing stats every period. */
static void run_batch(struct testpmd *tp)
{
	const struct tp_config *c = &tp->cfg;
	double start = now_s(), next = start + c->stats_period, t;

	while (!tp_signalled()) {
		t = now_s();
		if (c->run_time > 0 && t >= start + c->run_time)
			break;
		if (c->stats_period > 0 && t >= next) {
			stats_show(tp, -1, false);
			next += c->stats_period;
		}
		sleep_s(0.01);
	}
}

static int run(struct testpmd *tp)
{
	int rc = 0;

	announce(tp);
	if (tp_signalled())
		return 0; /* stopped before forwarding began */
	if (!tp->cfg.interactive || tp->cfg.auto_start)
		rc = fwd_start(tp, tp->cfg.tx_first);
	if (rc == 0 && tp->cfg.interactive)
		shell_run(tp);
	else if (rc == 0)
		run_batch(tp);
	if (tp->forwarding) {
		fwd_stop(tp);
		stats_forward(tp);
	}
	if (tp_signalled() && !tp->cfg.json)
		printf("\nSignal %d received: stopped.\n", atomic_load(&signalled));
	return rc;
}

static int setup(struct testpmd *tp)
{
	int rc;

	if ((rc = collect_ports(tp)) < 0 || (rc = pool_create(tp)) < 0)
		return rc;
	for (unsigned i = 0; i < tp->nb_ports; i++)
		if ((rc = port_setup(tp, tp->ports[i])) < 0)
			return rc;
	return fwd_setup(tp);
}

int main(int argc, char **argv)
{
	static struct testpmd tp;
	int n, rc;

	/* First: a signal during init must not kill us before cleanup. */
	signals_install();
	n = pdk_eal_init(argc, argv);
	if (n == -ECANCELED) {
		printf("%s\n", pdk_eal_usage());
		params_usage(argv[0]);
		return 0;
	}
	if (n < 0) {
		fprintf(stderr, "pdk-testpmd: EAL: %s\n", pdk_eal_last_error());
		return 1;
	}
	rc = params_parse(argc - n, argv + n, &tp.cfg);
	if (rc == 1)
		params_usage(argv[0]);
	if (rc == 0) {
		rc = setup(&tp);
		if (rc == 0)
			rc = run(&tp);
	}
	fwd_teardown(&tp);
	ports_close(&tp);
	pdk_mempool_free(tp.mp);
	pdk_eal_cleanup();
	return rc < 0 ? 1 : 0;
}
