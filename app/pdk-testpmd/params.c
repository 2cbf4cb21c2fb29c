/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pdk-testpmd options (after the EAL options and "--"), named as in
 * dpdk-testpmd. "--opt=value" and "--opt value" both work; every error
 * says which option, what was wrong and what is valid.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testpmd.h"

const char *const fwd_mode_names[FWD_NB_MODES] = {
	[FWD_IO] = "io",           [FWD_MAC] = "mac",
	[FWD_MACSWAP] = "macswap", [FWD_RXONLY] = "rxonly",
	[FWD_TXONLY] = "txonly",   [FWD_FLOWGEN] = "flowgen",
};

enum opt_id {
	O_FWD, O_PORT_MODE, O_TOPO, O_CORES, O_RXQ, O_TXQ, O_RXD, O_TXD,
	O_BURST, O_TXPKTS, O_FLOWS, O_STATS, O_RUNTIME, O_INTERACTIVE,
	O_AUTOSTART, O_TXFIRST, O_JSON, O_CAPTURE, O_MBUFS, O_MBCACHE, O_PEER, O_HELP,
};

struct opt {
	const char *name;
	char short_name;
	bool has_arg;
	enum opt_id id;
	const char *forms;
};

static const struct opt opts[] = {
	{"forward-mode", 0, true, O_FWD, "--forward-mode io|mac|macswap|rxonly|txonly|flowgen"},
	{"port-mode", 0, true, O_PORT_MODE,
	 "--port-mode 0=txonly (mode of the streams that receive on port 0)"},
	{"port-topology", 0, true, O_TOPO, "--port-topology paired|chained|loop"},
	{"nb-cores", 0, true, O_CORES, "--nb-cores N (1..worker lcores)"},
	{"rxq", 0, true, O_RXQ, "--rxq N (1..16, same as --txq)"},
	{"txq", 0, true, O_TXQ, "--txq N (1..16, same as --rxq)"},
	{"rxd", 0, true, O_RXD, "--rxd N (0: the driver's default)"},
	{"txd", 0, true, O_TXD, "--txd N (0: the driver's default)"},
	{"burst", 0, true, O_BURST, "--burst N (1..512, default 32)"},
	{"txpkts", 0, true, O_TXPKTS, "--txpkts BYTES (42..9000, default 64)"},
	{"flows", 0, true, O_FLOWS, "--flows N (flowgen, 1..65536, default 1024)"},
	{"stats-period", 0, true, O_STATS, "--stats-period SECONDS (e.g. 1 or 0.5)"},
	{"run-time", 0, true, O_RUNTIME, "--run-time SECONDS (stop and exit after that)"},
	{"interactive", 'i', false, O_INTERACTIVE, "-i | --interactive"},
	{"auto-start", 'a', false, O_AUTOSTART, "--auto-start (with -i: forward at once)"},
	{"tx-first", 0, false, O_TXFIRST, "--tx-first (send a burst on every stream first)"},
	{"json", 0, false, O_JSON, "--json (stats as one JSON object per line)"},
	{"capture", 0, true, O_CAPTURE,
	 "--capture N (0..16: keep 64 bytes of the first N packets each stream receives)"},
	{"total-num-mbufs", 0, true, O_MBUFS, "--total-num-mbufs N (1024..4194304)"},
	{"mbcache", 0, true, O_MBCACHE, "--mbcache N (0..512, default 250)"},
	{"eth-peer", 0, true, O_PEER, "--eth-peer 0,02:00:00:00:00:01"},
	{"help", 'h', false, O_HELP, "-h | --help"},
};

void params_usage(const char *prog)
{
	printf("usage: %s [EAL options] -- [options]\n\n"
	       "EAL options: see %s -h before \"--\" (e.g. -l 0-1 --no-huge "
	       "--vdev net_null0 --vdev net_null1).\n\noptions:\n", prog, prog);
	for (size_t i = 0; i < PDK_DIM(opts); i++)
		printf("  %s\n", opts[i].forms);
	printf("\nWithout -i, forwarding starts at once and runs until SIGINT/"
	       "SIGTERM or --run-time;\nthe final statistics are printed on "
	       "exit.\n");
}

int fwd_mode_parse(const char *s)
{
	for (int m = 0; m < FWD_NB_MODES; m++)
		if (strcmp(s, fwd_mode_names[m]) == 0)
			return m;
	return -1;
}

static int bad(const struct opt *o, const char *val, const char *why)
{
	fprintf(stderr, "pdk-testpmd: --%s %s: %s; valid: %s\n", o->name,
		val ? val : "", why, o->forms);
	return -1;
}

static int num(const struct opt *o, const char *v, unsigned long min,
	       unsigned long max, unsigned long *out)
{
	char *end;

	errno = 0;
	*out = strtoul(v, &end, 10);
	if (v[0] < '0' || v[0] > '9' || errno || *end || *out < min || *out > max) {
		char why[64];

		snprintf(why, sizeof(why), "not a number in %lu..%lu", min, max);
		return bad(o, v, why);
	}
	return 0;
}

static int seconds(const struct opt *o, const char *v, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(v, &end);
	if (errno || *end || v == end || !(*out >= 0 && *out <= 86400 * 365))
		return bad(o, v, "not a number of seconds");
	return 0;
}

static int port_mode(const struct opt *o, const char *v, struct tp_config *cfg)
{
	char *end;
	unsigned long p = strtoul(v, &end, 10);
	int m = *end == '=' ? fwd_mode_parse(end + 1) : -1;

	if (end == v || p >= PDK_ETH_MAX_PORTS || m < 0)
		return bad(o, v, "expected PORT=MODE");
	cfg->port_mode[p] = m;
	return 0;
}

static int peer(const struct opt *o, const char *v, struct tp_config *cfg)
{
	char *end;
	unsigned long p = strtoul(v, &end, 10);

	if (end == v || *end != ',' || p >= PDK_ETH_MAX_PORTS ||
	    pdk_ether_addr_parse(end + 1, &cfg->peer[p]) < 0)
		return bad(o, v, "expected PORT,MAC");
	return 0;
}

static int topology(const struct opt *o, const char *v, struct tp_config *cfg)
{
	static const char *const names[] = {"paired", "chained", "loop"};

	for (unsigned i = 0; i < PDK_DIM(names); i++)
		if (strcmp(v, names[i]) == 0) {
			cfg->topology = (enum topology)i;
			return 0;
		}
	return bad(o, v, "unknown topology");
}

/* Numeric options: their range and where they go. */
static int numeric(const struct opt *o, const char *v, struct tp_config *c)
{
	unsigned long n;
	int rc = 0;

	switch (o->id) {
	case O_CORES: rc = num(o, v, 1, PDK_MAX_LCORES, &n); c->nb_cores = (unsigned)n; break;
	case O_RXQ: rc = num(o, v, 1, PDK_ETH_MAX_QUEUES, &n); c->nb_rxq = (uint16_t)n; break;
	case O_TXQ: rc = num(o, v, 1, PDK_ETH_MAX_QUEUES, &n); c->nb_txq = (uint16_t)n; break;
	case O_RXD: rc = num(o, v, 0, UINT16_MAX, &n); c->nb_rxd = (uint16_t)n; break;
	case O_TXD: rc = num(o, v, 0, UINT16_MAX, &n); c->nb_txd = (uint16_t)n; break;
	case O_BURST: rc = num(o, v, 1, TP_MAX_BURST, &n); c->burst = (uint16_t)n; break;
	case O_TXPKTS: rc = num(o, v, TP_HDR_LEN, 9000, &n); c->txpkts = (uint16_t)n; break;
	case O_FLOWS: rc = num(o, v, 1, 65536, &n); c->flows = (unsigned)n; break;
	case O_CAPTURE: rc = num(o, v, 0, TP_CAPTURE_MAX, &n); c->capture = (unsigned)n; break;
	case O_MBUFS: rc = num(o, v, 1024, 4194304, &n); c->total_mbufs = (unsigned)n; break;
	case O_MBCACHE: rc = num(o, v, 0, PDK_MEMPOOL_CACHE_MAX_SIZE, &n); c->mbcache = (unsigned)n; break;
	default: rc = -1;
	}
	return rc;
}

static int apply(const struct opt *o, const char *v, struct tp_config *c)
{
	int m;

	switch (o->id) {
	case O_FWD:
		if ((m = fwd_mode_parse(v)) < 0)
			return bad(o, v, "unknown mode");
		c->mode = (enum fwd_mode)m;
		return 0;
	case O_PORT_MODE: return port_mode(o, v, c);
	case O_TOPO: return topology(o, v, c);
	case O_PEER: return peer(o, v, c);
	case O_STATS: return seconds(o, v, &c->stats_period);
	case O_RUNTIME: return seconds(o, v, &c->run_time);
	case O_INTERACTIVE: c->interactive = true; return 0;
	case O_AUTOSTART: c->auto_start = true; return 0;
	case O_TXFIRST: c->tx_first = true; return 0;
	case O_JSON: c->json = true; return 0;
	default: return numeric(o, v, c);
	}
}

static const struct opt *find(const char *arg, const char **val)
{
	size_t len;

	*val = NULL;
	if (arg[0] == '-' && arg[1] != '-' && arg[1] != '\0' && arg[2] == '\0') {
		for (size_t i = 0; i < PDK_DIM(opts); i++)
			if (opts[i].short_name == arg[1])
				return &opts[i];
		return NULL;
	}
	if (strncmp(arg, "--", 2) != 0)
		return NULL;
	arg += 2;
	len = strcspn(arg, "=");
	for (size_t i = 0; i < PDK_DIM(opts); i++)
		if (strlen(opts[i].name) == len && strncmp(arg, opts[i].name, len) == 0) {
			if (arg[len] == '=')
				*val = arg + len + 1;
			return &opts[i];
		}
	return NULL;
}

static void defaults(struct tp_config *c)
{
	memset(c, 0, sizeof(*c));
	c->mode = FWD_IO;
	for (unsigned p = 0; p < PDK_ETH_MAX_PORTS; p++) {
		c->port_mode[p] = -1;
		/* DPDK testpmd's default peer: 02:00:00:00:00:<port>. */
		c->peer[p] = (struct pdk_ether_addr){{0x02, 0, 0, 0, 0, (uint8_t)p}};
	}
	c->nb_cores = 1;
	c->nb_rxq = c->nb_txq = 1;
	c->burst = 32;
	c->txpkts = 64;
	c->flows = 1024;
	c->mbcache = 250;
}

int params_parse(int argc, char **argv, struct tp_config *cfg)
{
	int i = 1;

	defaults(cfg);
	if (i < argc && strcmp(argv[i], "--") == 0)
		i++;
	for (; i < argc; i++) {
		const char *val;
		const struct opt *o = find(argv[i], &val);

		if (o == NULL) {
			fprintf(stderr, "pdk-testpmd: unknown option '%s'; see "
				"pdk-testpmd -- --help (EAL options go before \"--\")\n",
				argv[i]);
			return -1;
		}
		if (o->id == O_HELP)
			return 1;
		if (o->has_arg && val == NULL) {
			if (i + 1 >= argc)
				return bad(o, NULL, "needs a value");
			val = argv[++i];
		} else if (!o->has_arg && val != NULL) {
			return bad(o, val, "takes no value");
		}
		if (apply(o, val, cfg) < 0)
			return -1;
	}
	if (cfg->nb_rxq != cfg->nb_txq) {
		fprintf(stderr, "pdk-testpmd: --rxq %u and --txq %u differ: stream q "
			"receives on Rx queue q and sends on Tx queue q; give both "
			"the same count\n", cfg->nb_rxq, cfg->nb_txq);
		return -1;
	}
	return 0;
}
