/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Statistics: port counters with packets per second since the last show,
 * forwarding totals per port, and cycles per packet per forwarding lcore.
 * Text for people (laid out like dpdk-testpmd's) or, with --json, one JSON
 * object per line. Only the main thread runs this; it reads the lcores'
 * counters without stopping them.
 */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include <pdk_eal.h>

#include "testpmd.h"

static uint64_t core_packets(const struct testpmd *tp, unsigned l)
{
	const struct fwd_lcore *fc = &tp->lcores[l];
	uint64_t n = 0;

	for (unsigned s = fc->first; s < fc->first + fc->count; s++)
		n += fwd_stream_packets(&tp->streams[s]);
	return n;
}

/* Now, or when forwarding stopped: rates over a stopped run end there. */
static uint64_t tp_now(const struct testpmd *tp)
{
	return tp->forwarding || tp->stop_tsc == 0 ? pdk_rdtsc() : tp->stop_tsc;
}

static void port_mark(uint16_t port, uint64_t tsc, struct port_snap *ps)
{
	struct pdk_eth_stats st;

	memset(ps, 0, sizeof(*ps));
	ps->tsc = tsc;
	if (pdk_eth_stats_get(port, &st) == 0) {
		ps->rx = st.ipackets;
		ps->tx = st.opackets;
		ps->rxb = st.ibytes;
		ps->txb = st.obytes;
	}
}

void stats_mark(struct testpmd *tp, struct snapshot *s)
{
	uint64_t now = tp_now(tp);

	for (unsigned i = 0; i < tp->nb_ports; i++)
		port_mark(tp->ports[i], now, &s->port[tp->ports[i]]);
	for (unsigned l = 0; l < tp->nb_lcores; l++) {
		s->core[l].tsc = now;
		s->core[l].pkts = core_packets(tp, l);
	}
}

/* Events per second between two snapshots. */
static uint64_t rate(uint64_t d, uint64_t dtsc)
{
	return dtsc ? (uint64_t)((double)d * (double)pdk_get_tsc_hz() / (double)dtsc) : 0;
}

static double per_packet(uint64_t dtsc, uint64_t dpkts)
{
	return dpkts ? (double)dtsc / (double)dpkts : 0.0;
}

struct port_view {
	uint16_t port;
	struct pdk_eth_stats st;
	uint64_t rx_pps, tx_pps, rx_bps, tx_bps;
};

/* Counters of a port and its rates since `since`; moves `since` to now. */
static void port_view(const struct testpmd *tp, uint16_t port,
		      struct port_snap *since, struct port_view *v)
{
	struct port_snap now;
	uint64_t dt;

	memset(v, 0, sizeof(*v));
	v->port = port;
	pdk_eth_stats_get(port, &v->st);
	port_mark(port, tp_now(tp), &now);
	dt = now.tsc - since->tsc;
	v->rx_pps = rate(now.rx - since->rx, dt);
	v->tx_pps = rate(now.tx - since->tx, dt);
	v->rx_bps = rate((now.rxb - since->rxb) * 8, dt);
	v->tx_bps = rate((now.txb - since->txb) * 8, dt);
	*since = now;
}

static void port_text(const struct port_view *v)
{
	const struct pdk_eth_stats *s = &v->st;

	printf("\n  ######################## NIC statistics for port %-2u "
	       "########################\n", v->port);
	printf("  %s\n", pdk_eth_dev_name(v->port));
	printf("  RX-packets: %-12" PRIu64 " RX-missed: %-10" PRIu64 " RX-bytes:  %" PRIu64 "\n",
	       s->ipackets, s->imissed, s->ibytes);
	printf("  RX-errors: %" PRIu64 "\n  RX-nombuf:  %-10" PRIu64 "\n", s->ierrors,
	       s->rx_nombuf);
	printf("  TX-packets: %-12" PRIu64 " TX-errors: %-10" PRIu64 " TX-bytes:  %" PRIu64 "\n",
	       s->opackets, s->oerrors, s->obytes);
	printf("\n  Throughput (since last show)\n");
	printf("  Rx-pps: %12" PRIu64 "          Rx-bps: %12" PRIu64 "\n", v->rx_pps, v->rx_bps);
	printf("  Tx-pps: %12" PRIu64 "          Tx-bps: %12" PRIu64 "\n", v->tx_pps, v->tx_bps);
	printf("  ##########################################################"
	       "##################\n");
}

static void port_json(const struct port_view *v, bool first)
{
	const struct pdk_eth_stats *s = &v->st;

	printf("%s{\"port\":%u,\"name\":\"%s\",\"rx_packets\":%" PRIu64
	       ",\"tx_packets\":%" PRIu64 ",\"rx_bytes\":%" PRIu64 ",\"tx_bytes\":%" PRIu64
	       ",\"rx_missed\":%" PRIu64 ",\"rx_errors\":%" PRIu64 ",\"tx_errors\":%" PRIu64
	       ",\"rx_nombuf\":%" PRIu64 ",\"rx_pps\":%" PRIu64 ",\"tx_pps\":%" PRIu64 "}",
	       first ? "" : ",", v->port, pdk_eth_dev_name(v->port), s->ipackets,
	       s->opackets, s->ibytes, s->obytes, s->imissed, s->ierrors, s->oerrors,
	       s->rx_nombuf, v->rx_pps, v->tx_pps);
}

/* Cycles per packet of lcore l since `since` (moved to now). */
static double core_cpp(struct testpmd *tp, unsigned l, struct core_snap *since)
{
	struct core_snap now = {tp_now(tp), core_packets(tp, l)};
	double cpp = per_packet(now.tsc - since->tsc, now.pkts - since->pkts);

	*since = now;
	return cpp;
}

static void cores_out(struct testpmd *tp, struct snapshot *since, bool json)
{
	const char *what = since == &tp->start ? "since start" : "since last show";

	for (unsigned l = 0; l < tp->nb_lcores && tp->start_tsc != 0; l++) {
		struct core_snap *cs = &since->core[l];
		uint64_t pkts = core_packets(tp, l);
		double cpp = core_cpp(tp, l, cs);

		if (json)
			printf("%s{\"lcore\":%u,\"streams\":%u,\"packets\":%" PRIu64
			       ",\"cycles_per_packet\":%.1f}", l ? "," : "",
			       tp->lcores[l].lcore, tp->lcores[l].count, pkts, cpp);
		else
			printf("  Forwarding lcore %u: %u stream(s), %" PRIu64 " packets, "
			       "%.1f cycles/packet (%s)\n", tp->lcores[l].lcore,
			       tp->lcores[l].count, pkts, cpp, what);
	}
}

/* Per-port forwarding totals from the streams since forwarding started. */
struct fwd_totals {
	uint64_t rx[PDK_ETH_MAX_PORTS], tx[PDK_ETH_MAX_PORTS], drop[PDK_ETH_MAX_PORTS];
	uint64_t all_rx, all_tx, all_drop;
};

static void fwd_totals(const struct testpmd *tp, struct fwd_totals *t)
{
	memset(t, 0, sizeof(*t));
	for (unsigned s = 0; s < tp->nb_streams; s++) {
		const struct fwd_stream *fs = &tp->streams[s];
		uint64_t rx = atomic_load(&fs->rx_packets);
		uint64_t tx = atomic_load(&fs->tx_packets);
		uint64_t drop = atomic_load(&fs->dropped);

		t->rx[fs->rx_port] += rx;
		t->tx[fs->tx_port] += tx;
		t->drop[fs->tx_port] += drop;
		t->all_rx += rx;
		t->all_tx += tx;
		t->all_drop += drop;
	}
}

static void forward_json(const struct testpmd *tp, const struct fwd_totals *t)
{
	printf(",\"forward\":{\"rx_packets\":%" PRIu64 ",\"tx_packets\":%" PRIu64
	       ",\"dropped\":%" PRIu64 ",\"ports\":[", t->all_rx, t->all_tx, t->all_drop);
	for (unsigned i = 0; i < tp->nb_ports; i++) {
		uint16_t p = tp->ports[i];

		printf("%s{\"port\":%u,\"rx_packets\":%" PRIu64 ",\"tx_packets\":%" PRIu64
		       ",\"dropped\":%" PRIu64 "}", i ? "," : "", p, t->rx[p], t->tx[p],
		       t->drop[p]);
	}
	printf("]}");
}

/* --capture: what each stream kept, as hex. */
static void captures_out(const struct testpmd *tp, bool json)
{
	bool first = true;

	for (unsigned s = 0; s < tp->nb_streams; s++) {
		const struct fwd_stream *fs = &tp->streams[s];

		for (unsigned i = 0; i < fs->cap_n; i++) {
			const struct capture *c = &fs->cap[i];

			if (json)
				printf("%s{\"port\":%u,\"queue\":%u,\"len\":%u,\"hex\":\"",
				       first ? "" : ",", fs->rx_port, fs->rx_queue, c->len);
			else
				printf("  captured on port %u queue %u: ", fs->rx_port,
				       fs->rx_queue);
			for (unsigned b = 0; b < c->len; b++)
				printf("%02x", c->bytes[b]);
			printf(json ? "\"}" : "\n");
			first = false;
		}
	}
}

static void show_json(struct testpmd *tp, int port, bool final)
{
	struct snapshot *since = final ? &tp->start : &tp->last;
	struct fwd_totals t;
	struct port_view v;
	bool first = true;

	printf("{\"event\":\"%s\",\"mode\":\"%s\",\"elapsed_s\":%.3f,\"ports\":[",
	       final ? "final" : "stats", fwd_mode_names[tp->cfg.mode],
	       tp->start_tsc ? (double)(tp_now(tp) - tp->start_tsc) / (double)pdk_get_tsc_hz()
			     : 0.0);
	for (unsigned i = 0; i < tp->nb_ports; i++) {
		if (port >= 0 && tp->ports[i] != port)
			continue;
		port_view(tp, tp->ports[i], &since->port[tp->ports[i]], &v);
		port_json(&v, first);
		first = false;
	}
	printf("],\"cores\":[");
	cores_out(tp, since, true);
	printf("]");
	fwd_totals(tp, &t);
	forward_json(tp, &t);
	if (final && tp->cfg.capture) {
		printf(",\"captured\":[");
		captures_out(tp, true);
		printf("]");
	}
	printf("}\n");
}

void stats_show(struct testpmd *tp, int port, bool final)
{
	struct port_view v;

	if (tp->cfg.json) {
		show_json(tp, port, final);
	} else {
		for (unsigned i = 0; i < tp->nb_ports; i++) {
			if (port >= 0 && tp->ports[i] != port)
				continue;
			port_view(tp, tp->ports[i], &tp->last.port[tp->ports[i]], &v);
			port_text(&v);
		}
		cores_out(tp, &tp->last, false);
	}
	fflush(stdout);
}

/* The totals since forwarding started (text; --json uses show_json). */
void stats_forward(struct testpmd *tp)
{
	struct fwd_totals t;

	if (tp->cfg.json) {
		show_json(tp, -1, true);
		fflush(stdout);
		return;
	}
	fwd_totals(tp, &t);
	for (unsigned i = 0; i < tp->nb_ports; i++) {
		uint16_t p = tp->ports[i];

		printf("\n  ---------------------- Forward statistics for port %-2u "
		       "----------------------\n", p);
		printf("  RX-packets: %-14" PRIu64 " TX-packets: %-14" PRIu64
		       " TX-dropped: %" PRIu64 "\n", t.rx[p], t.tx[p], t.drop[p]);
	}
	printf("\n  +++++++++++++++ Accumulated forward statistics for all ports"
	       " +++++++++++++++\n");
	printf("  RX-packets: %-14" PRIu64 " TX-packets: %-14" PRIu64 " TX-dropped: %"
	       PRIu64 "\n", t.all_rx, t.all_tx, t.all_drop);
	cores_out(tp, &tp->start, false);
	captures_out(tp, false);
	fflush(stdout);
}

void stats_port_info(struct testpmd *tp, int port)
{
	char mac[PDK_ETHER_ADDR_FMT_SIZE], link_text[64];
	struct pdk_eth_dev_info info;
	struct pdk_ether_addr addr;
	struct pdk_eth_link link;

	for (unsigned i = 0; i < tp->nb_ports; i++) {
		uint16_t p = tp->ports[i];

		if ((port >= 0 && p != port) || pdk_eth_dev_info_get(p, &info) < 0)
			continue;
		pdk_eth_macaddr_get(p, &addr);
		pdk_ether_addr_format(mac, sizeof(mac), &addr);
		pdk_eth_link_get(p, &link);
		pdk_eth_link_format(link_text, sizeof(link_text), &link);
		printf("\n  Port %u: %s (driver %s)\n  MAC %s, link %s, promiscuous %s\n"
		       "  queues: Rx %u/%u, Tx %u/%u; descriptors Rx %u-%u, Tx %u-%u\n",
		       p, info.name, info.driver_name, mac, link_text,
		       pdk_eth_promiscuous_get(p) == 1 ? "on" : "off", tp->cfg.nb_rxq,
		       info.max_rx_queues, tp->cfg.nb_txq, info.max_tx_queues,
		       info.rx_desc_lim.nb_min, info.rx_desc_lim.nb_max,
		       info.tx_desc_lim.nb_min, info.tx_desc_lim.nb_max);
	}
	fflush(stdout);
}
