/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Streams, forwarding lcores and the forwarding engines.
 *
 * A stream receives on one (port, queue) and sends on one (port, queue);
 * each stream belongs to exactly one forwarding lcore, so every queue is
 * used by one thread and the loops need no locks. The loops make no
 * syscalls: they burst, count into their streams' counters (single
 * writer, relaxed atomics) and poll their lcore's stop flag.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <pdk_eal.h>

#include "testpmd.h"

/* Counter with one writer: no locked instruction. relaxed: the main
 * thread reads each counter on its own. */
static inline void stat_add(_Atomic uint64_t *c, uint64_t v)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + v,
			      memory_order_relaxed);
}

/* Send n packets; free and count what the port did not take. */
static inline void send_burst(struct fwd_stream *fs, struct pdk_mbuf **pkts,
			      uint16_t n)
{
	uint16_t sent = pdk_eth_tx_burst(fs->tx_port, fs->tx_queue, pkts, n);

	stat_add(&fs->tx_packets, sent);
	if (pdk_unlikely(sent < n)) {
		stat_add(&fs->dropped, (uint64_t)(n - sent));
		pdk_pktmbuf_free_bulk(pkts + sent, (unsigned)(n - sent));
	}
}

/* Keep the start of the first packets received (--capture); no syscall:
 * the main thread prints them after the lcore stopped. */
static void capture(struct fwd_stream *fs, struct pdk_mbuf **pkts, uint16_t n)
{
	for (uint16_t i = 0; i < n && fs->cap_n < fs->cap_want; i++) {
		struct capture *c = &fs->cap[fs->cap_n++];

		c->len = PDK_MIN(pkts[i]->data_len, (uint16_t)TP_CAPTURE_BYTES);
		memcpy(c->bytes, pdk_pktmbuf_mtod(pkts[i], void *), c->len);
	}
}

static inline uint16_t recv_burst(struct fwd_stream *fs, struct pdk_mbuf **pkts)
{
	uint16_t n = pdk_eth_rx_burst(fs->rx_port, fs->rx_queue, pkts, fs->burst);

	if (n == 0)
		return 0;
	stat_add(&fs->rx_packets, n);
	if (pdk_unlikely(fs->cap_n < fs->cap_want))
		capture(fs, pkts, n);
	return n;
}

static inline void fwd_io(struct fwd_stream *fs)
{
	struct pdk_mbuf *pkts[TP_MAX_BURST];
	uint16_t n = recv_burst(fs, pkts);

	if (n != 0)
		send_burst(fs, pkts, n);
}

/*
 * mac (swap false): source := the Tx port's address, destination := its
 * peer's. macswap (swap true): exchange exactly the two addresses. Frames
 * too short to hold an Ethernet header go out untouched.
 */
static PDK_ALWAYS_INLINE void fwd_rewrite(struct fwd_stream *fs, bool swap)
{
	struct pdk_mbuf *pkts[TP_MAX_BURST];
	uint16_t n = recv_burst(fs, pkts);

	for (uint16_t i = 0; i < n; i++) {
		struct pdk_ether_hdr *eth = pdk_pktmbuf_mtod(pkts[i], struct pdk_ether_hdr *);
		struct pdk_ether_addr tmp;

		if (pdk_unlikely(pkts[i]->data_len < PDK_ETHER_HDR_LEN))
			continue;
		tmp = swap ? eth->dst_addr : fs->dst;
		eth->dst_addr = swap ? eth->src_addr : tmp;
		eth->src_addr = swap ? tmp : fs->src;
	}
	if (n != 0)
		send_burst(fs, pkts, n);
}

static inline void fwd_mac(struct fwd_stream *fs)
{
	fwd_rewrite(fs, false);
}

static inline void fwd_macswap(struct fwd_stream *fs)
{
	fwd_rewrite(fs, true);
}

static inline void fwd_rxonly(struct fwd_stream *fs)
{
	struct pdk_mbuf *pkts[TP_MAX_BURST];
	uint16_t n = recv_burst(fs, pkts);

	if (n != 0)
		pdk_pktmbuf_free_bulk(pkts, n);
}

/* A burst of template packets; 0 when the pool is empty. */
static inline uint16_t make_burst(struct fwd_stream *fs, struct pdk_mbuf **pkts)
{
	if (pdk_unlikely(pdk_pktmbuf_alloc_bulk(fs->mp, pkts, fs->burst) != 0))
		return 0;
	for (uint16_t i = 0; i < fs->burst; i++) {
		memcpy(pdk_pktmbuf_mtod(pkts[i], void *), fs->hdr, TP_HDR_LEN);
		pkts[i]->data_len = fs->pkt_len;
		pkts[i]->pkt_len = fs->pkt_len;
	}
	return fs->burst;
}

static inline void fwd_txonly(struct fwd_stream *fs)
{
	struct pdk_mbuf *pkts[TP_MAX_BURST];
	uint16_t n = make_burst(fs, pkts);

	if (n != 0)
		send_burst(fs, pkts, n);
}

/* RFC 1071 checksum of an IPv4 header of 20 bytes. */
static uint16_t ip_csum(const uint8_t *ip)
{
	uint32_t sum = 0;

	for (int i = 0; i < 20; i += 2)
		if (i != 10) /* the checksum field itself */
			sum += (uint32_t)(ip[i] << 8 | ip[i + 1]);
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

/* Destination IPv4 address := template's + flow number (big-endian). */
static void set_flow(uint8_t *ip, const uint8_t *tmpl_ip, uint32_t flow)
{
	uint32_t dst = (uint32_t)tmpl_ip[16] << 24 | tmpl_ip[17] << 16 |
		       tmpl_ip[18] << 8 | tmpl_ip[19];
	uint16_t csum;

	dst += flow;
	ip[16] = (uint8_t)(dst >> 24);
	ip[17] = (uint8_t)(dst >> 16);
	ip[18] = (uint8_t)(dst >> 8);
	ip[19] = (uint8_t)dst;
	csum = ip_csum(ip);
	ip[10] = (uint8_t)(csum >> 8);
	ip[11] = (uint8_t)csum;
}

/* Drop what arrives; send template packets over nb_flows destinations. */
static void fwd_flowgen(struct fwd_stream *fs)
{
	struct pdk_mbuf *pkts[TP_MAX_BURST];
	uint16_t n = recv_burst(fs, pkts);

	if (n != 0)
		pdk_pktmbuf_free_bulk(pkts, n);
	n = make_burst(fs, pkts);
	for (uint16_t i = 0; i < n; i++) {
		uint8_t *ip = pdk_pktmbuf_mtod_offset(pkts[i], uint8_t *, PDK_ETHER_HDR_LEN);

		set_flow(ip, fs->hdr + PDK_ETHER_HDR_LEN, fs->flow);
		fs->flow = fs->flow + 1 == fs->nb_flows ? 0 : fs->flow + 1;
	}
	if (n != 0)
		send_burst(fs, pkts, n);
}

static PDK_ALWAYS_INLINE void run_stream(struct fwd_stream *fs, enum fwd_mode mode)
{
	switch (mode) {
	case FWD_IO: fwd_io(fs); break;
	case FWD_MAC: fwd_mac(fs); break;
	case FWD_MACSWAP: fwd_macswap(fs); break;
	case FWD_RXONLY: fwd_rxonly(fs); break;
	case FWD_TXONLY: fwd_txonly(fs); break;
	case FWD_FLOWGEN: fwd_flowgen(fs); break;
	default: break;
	}
}

/* With `mode` a constant the engine is inlined into the loop; a mixed
 * lcore (per-port modes) dispatches per stream. */
static PDK_ALWAYS_INLINE int fwd_loop(struct fwd_lcore *fc,
				     struct fwd_stream *s, int mode)
{
	/* relaxed: the flag only has to be seen eventually; the main thread
	 * reads the counters after pdk_eal_wait_lcore(), which orders them. */
	while (!atomic_load_explicit(&fc->stop, memory_order_relaxed))
		for (unsigned i = 0; i < fc->count; i++)
			run_stream(&s[i], mode < 0 ? s[i].mode : (enum fwd_mode)mode);
	return 0;
}

static int lcore_main(void *arg)
{
	struct fwd_lcore *fc = arg;
	struct fwd_stream *s = fc->streams + fc->first;

	/* release: pairs with the acquire in wait_running() */
	atomic_store_explicit(&fc->running, true, memory_order_release);
	if (fc->mixed)
		return fwd_loop(fc, s, -1);
	switch (s[0].mode) {
	case FWD_IO: return fwd_loop(fc, s, FWD_IO);
	case FWD_MAC: return fwd_loop(fc, s, FWD_MAC);
	case FWD_MACSWAP: return fwd_loop(fc, s, FWD_MACSWAP);
	case FWD_RXONLY: return fwd_loop(fc, s, FWD_RXONLY);
	case FWD_TXONLY: return fwd_loop(fc, s, FWD_TXONLY);
	case FWD_FLOWGEN: return fwd_loop(fc, s, FWD_FLOWGEN);
	default: return -EINVAL;
	}
}

uint64_t fwd_stream_packets(const struct fwd_stream *fs)
{
	uint64_t rx = atomic_load_explicit(&fs->rx_packets, memory_order_relaxed);
	uint64_t tx = atomic_load_explicit(&fs->tx_packets, memory_order_relaxed);

	/* txonly/flowgen work per packet sent, the others per packet received */
	return fs->mode == FWD_TXONLY || fs->mode == FWD_FLOWGEN ? tx : rx;
}

/* Index (into tp->ports) of the port that port index i sends to. */
static unsigned peer_index(const struct testpmd *tp, unsigned i)
{
	switch (tp->cfg.topology) {
	case TOPO_LOOP: return i;
	case TOPO_CHAINED: return (i + 1) % tp->nb_ports;
	default: return (i ^ 1) < tp->nb_ports ? (i ^ 1) : i;
	}
}

/* Ether/IPv4/UDP header for packets of fs->pkt_len bytes. */
static void build_template(struct fwd_stream *fs)
{
	uint8_t *h = fs->hdr, *ip = h + PDK_ETHER_HDR_LEN, *udp = ip + 20;
	uint16_t ip_len = (uint16_t)(fs->pkt_len - PDK_ETHER_HDR_LEN);
	uint16_t udp_len = (uint16_t)(ip_len - 20);
	static const uint8_t addrs[8] = {198, 18, 0, 1, 198, 18, 0, 2}; /* RFC 2544 */

	memset(h, 0, TP_HDR_LEN);
	memcpy(h, &fs->dst, 6);
	memcpy(h + 6, &fs->src, 6);
	h[12] = 0x08; /* IPv4 */
	ip[0] = 0x45;
	ip[2] = (uint8_t)(ip_len >> 8);
	ip[3] = (uint8_t)ip_len;
	ip[8] = 64;   /* TTL */
	ip[9] = 17;   /* UDP */
	memcpy(ip + 12, addrs, sizeof(addrs));
	set_flow(ip, ip, 0); /* fills the checksum */
	udp[1] = udp[3] = 9; /* discard port */
	udp[4] = (uint8_t)(udp_len >> 8);
	udp[5] = (uint8_t)udp_len;
}

static void stream_init(struct testpmd *tp, struct fwd_stream *fs, unsigned i,
			uint16_t q)
{
	const struct tp_config *c = &tp->cfg;
	unsigned peer = peer_index(tp, i);

	memset(fs, 0, sizeof(*fs));
	fs->rx_port = tp->ports[i];
	fs->rx_queue = q;
	fs->tx_port = tp->ports[peer];
	fs->tx_queue = q;
	fs->mode = c->port_mode[fs->rx_port] >= 0 ? (enum fwd_mode)c->port_mode[fs->rx_port]
						 : c->mode;
	fs->burst = c->burst;
	fs->pkt_len = c->txpkts;
	fs->nb_flows = c->flows;
	fs->mp = tp->mp;
	pdk_eth_macaddr_get(fs->tx_port, &fs->src);
	fs->dst = c->peer[fs->tx_port];
	build_template(fs);
	fs->cap_want = (uint16_t)c->capture;
	fs->cap = c->capture ? calloc(c->capture, sizeof(*fs->cap)) : NULL;
	if (c->capture && fs->cap == NULL)
		fs->cap_want = 0;
}

/* Streams split over nb_lcores, the first lcores taking one more. */
static void assign_lcores(struct testpmd *tp, const unsigned *ids)
{
	unsigned per = tp->nb_streams / tp->nb_lcores;
	unsigned extra = tp->nb_streams % tp->nb_lcores, next = 0;

	for (unsigned l = 0; l < tp->nb_lcores; l++) {
		struct fwd_lcore *fc = &tp->lcores[l];

		fc->lcore = ids[l];
		fc->streams = tp->streams;
		fc->first = next;
		fc->count = per + (l < extra);
		next += fc->count;
		fc->mixed = false;
		for (unsigned s = fc->first + 1; s < next; s++)
			fc->mixed |= tp->streams[s].mode != tp->streams[fc->first].mode;
	}
}

static int worker_ids(const struct testpmd *tp, unsigned *ids)
{
	unsigned n = 0, l;

	PDK_LCORE_FOREACH_WORKER(l)
		if (n < tp->cfg.nb_cores)
			ids[n++] = l;
	if (n < tp->cfg.nb_cores) {
		fprintf(stderr, "pdk-testpmd: --nb-cores %u needs %u worker lcores "
			"but -l gives %u (the first lcore runs the main thread); "
			"list more with -l (e.g. -l 0-%u) or lower --nb-cores\n",
			tp->cfg.nb_cores, tp->cfg.nb_cores, n, tp->cfg.nb_cores);
		return -EINVAL;
	}
	return (int)n;
}

int fwd_setup(struct testpmd *tp)
{
	unsigned ids[PDK_MAX_LCORES];
	int n = worker_ids(tp, ids);

	if (n < 0)
		return n;
	tp->nb_streams = tp->nb_ports * tp->cfg.nb_rxq;
	tp->streams = aligned_alloc(PDK_CACHE_LINE, tp->nb_streams * sizeof(*tp->streams));
	tp->nb_lcores = PDK_MIN((unsigned)n, tp->nb_streams);
	tp->lcores = aligned_alloc(PDK_CACHE_LINE, tp->nb_lcores * sizeof(*tp->lcores));
	if (tp->streams == NULL || tp->lcores == NULL) {
		fprintf(stderr, "pdk-testpmd: out of memory for %u streams\n", tp->nb_streams);
		return -ENOMEM;
	}
	memset(tp->lcores, 0, tp->nb_lcores * sizeof(*tp->lcores));
	for (unsigned i = 0, s = 0; i < tp->nb_ports; i++)
		for (uint16_t q = 0; q < tp->cfg.nb_rxq; q++)
			stream_init(tp, &tp->streams[s++], i, q);
	assign_lcores(tp, ids);
	return 0;
}

void fwd_teardown(struct testpmd *tp)
{
	for (unsigned s = 0; tp->streams && s < tp->nb_streams; s++)
		free(tp->streams[s].cap);
	free(tp->streams);
	free(tp->lcores);
	tp->streams = NULL;
	tp->lcores = NULL;
}

void fwd_set_mode(struct testpmd *tp, enum fwd_mode mode)
{
	unsigned ids[PDK_MAX_LCORES];

	tp->cfg.mode = mode;
	for (unsigned p = 0; p < PDK_ETH_MAX_PORTS; p++)
		tp->cfg.port_mode[p] = -1;
	for (unsigned s = 0; s < tp->nb_streams; s++)
		tp->streams[s].mode = mode;
	for (unsigned l = 0; l < tp->nb_lcores; l++)
		ids[l] = tp->lcores[l].lcore;
	assign_lcores(tp, ids);
}

/* Wait until every worker runs its loop, so that --run-time and the first
 * "since last show" count forwarding time, not a busy machine's scheduling
 * delay; give up waiting after 10 s (the workers still run). */
static void wait_running(struct testpmd *tp)
{
	for (int ms = 0; ms < 10000; ms++) {
		unsigned l = 0;

		while (l < tp->nb_lcores &&
		       atomic_load_explicit(&tp->lcores[l].running, memory_order_acquire))
			l++;
		if (l == tp->nb_lcores)
			return;
		nanosleep(&(struct timespec){.tv_nsec = 1000000}, NULL);
	}
	fprintf(stderr, "pdk-testpmd: warning: forwarding lcores not running after 10 s "
		"(is the machine overloaded?)\n");
}

int fwd_start(struct testpmd *tp, bool tx_first)
{
	int rc;

	for (unsigned s = 0; s < tp->nb_streams; s++) {
		struct fwd_stream *fs = &tp->streams[s];

		atomic_store(&fs->rx_packets, 0);
		atomic_store(&fs->tx_packets, 0);
		atomic_store(&fs->dropped, 0);
		fs->cap_n = 0;
	}
	/* Workers are idle: this thread may use their streams. */
	for (unsigned s = 0; tx_first && s < tp->nb_streams; s++)
		fwd_txonly(&tp->streams[s]);
	tp->stop_tsc = 0;
	tp->start_tsc = pdk_rdtsc();
	stats_mark(tp, &tp->start);
	tp->last = tp->start;
	for (unsigned l = 0; l < tp->nb_lcores; l++) {
		atomic_store(&tp->lcores[l].stop, false);
		atomic_store(&tp->lcores[l].running, false);
		rc = pdk_eal_remote_launch(lcore_main, &tp->lcores[l], tp->lcores[l].lcore);
		if (rc < 0) {
			fprintf(stderr, "pdk-testpmd: cannot launch lcore %u: %s\n",
				tp->lcores[l].lcore, strerror(-rc));
			tp->forwarding = true;
			fwd_stop(tp);
			return rc;
		}
	}
	tp->forwarding = true;
	wait_running(tp);
	return 0;
}

void fwd_stop(struct testpmd *tp)
{
	if (!tp->forwarding)
		return;
	for (unsigned l = 0; l < tp->nb_lcores; l++)
		atomic_store(&tp->lcores[l].stop, true);
	for (unsigned l = 0; l < tp->nb_lcores; l++)
		pdk_eal_wait_lcore(tp->lcores[l].lcore);
	tp->stop_tsc = pdk_rdtsc();
	tp->forwarding = false;
}
