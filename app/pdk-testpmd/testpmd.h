/* SPDX-License-Identifier: BSD-3-Clause */
/* pdk-testpmd: shared types of the forwarding test application. */
#ifndef TESTPMD_H
#define TESTPMD_H

#include <stdalign.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <pdk_ethdev.h>
#include <pdk_lcore.h>

#define TP_MAX_BURST 512
#define TP_MAX_STREAMS (PDK_ETH_MAX_PORTS * PDK_ETH_MAX_QUEUES)
#define TP_HDR_LEN 42 /* Ethernet + IPv4 + UDP */
#define TP_CAPTURE_MAX 16   /* --capture: packets kept per stream */
#define TP_CAPTURE_BYTES 64 /* and bytes kept of each */

/* The start of a packet a stream received (--capture). */
struct capture {
	uint16_t len; /* bytes kept */
	uint8_t bytes[TP_CAPTURE_BYTES];
};

enum fwd_mode {
	FWD_IO,
	FWD_MAC,
	FWD_MACSWAP,
	FWD_RXONLY,
	FWD_TXONLY,
	FWD_FLOWGEN,
	FWD_NB_MODES,
};

/* Which port a port's streams send to. */
enum topology {
	TOPO_PAIRED,  /* 0<->1, 2<->3; an odd last port to itself */
	TOPO_CHAINED, /* 0->1->2->...->0 */
	TOPO_LOOP,    /* each port to itself */
};

struct tp_config {
	enum fwd_mode mode;
	int port_mode[PDK_ETH_MAX_PORTS]; /* -1: use `mode` */
	enum topology topology;
	unsigned nb_cores;
	uint16_t nb_rxq, nb_txq;
	uint16_t nb_rxd, nb_txd;
	uint16_t burst;
	uint16_t txpkts;
	unsigned flows;          /* flowgen */
	double stats_period;     /* seconds; 0: none */
	double run_time;         /* seconds; 0: until a signal or quit */
	bool interactive;
	bool auto_start;
	bool json;
	bool tx_first;
	unsigned capture;        /* packets to keep per stream */
	unsigned total_mbufs;    /* 0: computed */
	unsigned mbcache;
	struct pdk_ether_addr peer[PDK_ETH_MAX_PORTS];
};

/*
 * One stream: receive on (rx_port, rx_queue), send on (tx_port, tx_queue).
 * Written only by the forwarding lcore that owns it; the counters are
 * atomics so the main thread may read them at any time.
 */
struct fwd_stream {
	uint16_t rx_port, rx_queue;
	uint16_t tx_port, tx_queue;
	enum fwd_mode mode;
	uint16_t burst;
	uint16_t pkt_len;
	uint32_t flow;           /* flowgen: next flow */
	uint32_t nb_flows;
	struct pdk_mempool *mp;  /* txonly/flowgen allocate from it */
	struct pdk_ether_addr src, dst; /* mac mode: tx port's and its peer's */
	uint8_t hdr[TP_HDR_LEN]; /* txonly/flowgen template */
	uint16_t cap_want, cap_n; /* --capture: wanted, kept so far */
	struct capture *cap;      /* [cap_want] */
	alignas(PDK_CACHE_LINE) _Atomic uint64_t rx_packets;
	_Atomic uint64_t tx_packets;
	_Atomic uint64_t dropped;
} PDK_CACHE_ALIGNED;

/* A forwarding lcore and the streams it runs. */
struct fwd_lcore {
	unsigned lcore;
	struct fwd_stream *streams;  /* all of them; ours start at `first` */
	unsigned first, count;       /* streams[first .. first+count-1] */
	bool mixed;                  /* streams of different modes */
	alignas(PDK_CACHE_LINE) _Atomic bool stop;
	_Atomic bool running;        /* set by the worker when it begins */
} PDK_CACHE_ALIGNED;

/* Counters as the main thread last saw them, for "since last show". */
struct port_snap {
	uint64_t tsc, rx, tx, rxb, txb;
};

struct core_snap {
	uint64_t tsc, pkts;
};

struct snapshot {
	struct port_snap port[PDK_ETH_MAX_PORTS]; /* by port id */
	struct core_snap core[PDK_MAX_LCORES];    /* by forwarding lcore index */
};

struct testpmd {
	struct tp_config cfg;
	uint16_t ports[PDK_ETH_MAX_PORTS];
	unsigned nb_ports;
	struct pdk_mempool *mp;
	struct fwd_stream *streams;  /* [nb_streams] */
	unsigned nb_streams;
	struct fwd_lcore *lcores;    /* [nb_lcores] */
	unsigned nb_lcores;
	bool forwarding;
	uint64_t start_tsc;          /* forwarding started (0: never) */
	uint64_t stop_tsc;           /* forwarding stopped (0: not yet) */
	struct snapshot last;        /* at the last show */
	struct snapshot start;       /* when forwarding started */
};

extern const char *const fwd_mode_names[FWD_NB_MODES];

/* params.c: 0, 1 when help was printed, or -1 after printing why. */
int params_parse(int argc, char **argv, struct tp_config *cfg);
int fwd_mode_parse(const char *s);
void params_usage(const char *prog);

/* fwd.c */
int fwd_setup(struct testpmd *tp);
void fwd_teardown(struct testpmd *tp);
/* Launch the forwarding lcores; tx_first: send one burst of txonly
 * packets on every stream first (to get a loop of ports going). */
int fwd_start(struct testpmd *tp, bool tx_first);
void fwd_stop(struct testpmd *tp);
void fwd_set_mode(struct testpmd *tp, enum fwd_mode mode);
/* Packets a stream's lcore handled (what cycles/packet divides by). */
uint64_t fwd_stream_packets(const struct fwd_stream *fs);

/* stats.c */
void stats_show(struct testpmd *tp, int port, bool final);
void stats_forward(struct testpmd *tp);
void stats_port_info(struct testpmd *tp, int port);
void stats_mark(struct testpmd *tp, struct snapshot *s);

/* shell.c: returns when the user quits (or on a signal / EOF). */
void shell_run(struct testpmd *tp);

/* main.c */
bool tp_signalled(void);

#endif /* TESTPMD_H */
