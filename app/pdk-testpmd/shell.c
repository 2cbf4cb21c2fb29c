/* SPDX-License-Identifier: BSD-3-Clause */
/* The interactive shell (-i): a few of dpdk-testpmd's commands. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testpmd.h"

#define MAX_WORDS 8

static const char help_text[] =
	"commands:\n"
	"  start [tx_first]           start forwarding (tx_first: send a burst\n"
	"                             on every stream first)\n"
	"  stop                       stop forwarding and show the totals\n"
	"  show port stats all|N      counters and rates since the last show\n"
	"  show port info all|N       driver, MAC, link, queues\n"
	"  show config fwd            streams and forwarding lcores\n"
	"  clear port stats all|N     count from zero\n"
	"  set fwd MODE               io|mac|macswap|rxonly|txonly|flowgen\n"
	"  quit                       stop, show the totals and exit\n";

/* "all" -> -1, a port number -> it, anything else -> -2 (after saying so). */
static int port_arg(const struct testpmd *tp, const char *w)
{
	char *end;
	unsigned long p;

	if (w == NULL || strcmp(w, "all") == 0)
		return -1;
	p = strtoul(w, &end, 10);
	if (*end == '\0' && end != w && p < PDK_ETH_MAX_PORTS && pdk_eth_dev_is_valid_port((uint16_t)p))
		for (unsigned i = 0; i < tp->nb_ports; i++)
			if (tp->ports[i] == p)
				return (int)p;
	printf("Invalid port '%s': use 'all' or a port number (0..%u)\n", w,
	       tp->nb_ports ? tp->nb_ports - 1 : 0);
	return -2;
}

static void cmd_start(struct testpmd *tp, bool tx_first)
{
	if (tp->forwarding) {
		printf("Packet forwarding already started\n");
		return;
	}
	if (fwd_start(tp, tx_first) == 0)
		printf("Forwarding started: %s mode, %u stream(s) on %u lcore(s)\n",
		       fwd_mode_names[tp->cfg.mode], tp->nb_streams, tp->nb_lcores);
}

static void cmd_stop(struct testpmd *tp)
{
	if (!tp->forwarding) {
		printf("Packet forwarding not started\n");
		return;
	}
	fwd_stop(tp);
	stats_forward(tp);
}

static void cmd_config(const struct testpmd *tp)
{
	for (unsigned l = 0; l < tp->nb_lcores; l++) {
		const struct fwd_lcore *fc = &tp->lcores[l];

		printf("  lcore %u:\n", fc->lcore);
		for (unsigned s = fc->first; s < fc->first + fc->count; s++) {
			const struct fwd_stream *fs = &tp->streams[s];

			printf("    %s: RX P=%u/Q=%u -> TX P=%u/Q=%u\n",
			       fwd_mode_names[fs->mode], fs->rx_port, fs->rx_queue,
			       fs->tx_port, fs->tx_queue);
		}
	}
}

static void cmd_clear(struct testpmd *tp, int port)
{
	for (unsigned i = 0; i < tp->nb_ports; i++)
		if (port < 0 || tp->ports[i] == port)
			pdk_eth_stats_reset(tp->ports[i]);
	stats_mark(tp, &tp->last);
	printf("Port statistics cleared\n");
}

static void cmd_set_fwd(struct testpmd *tp, const char *mode)
{
	int m = mode ? fwd_mode_parse(mode) : -1;

	if (m < 0) {
		printf("Unknown mode '%s': use io|mac|macswap|rxonly|txonly|flowgen\n",
		       mode ? mode : "");
		return;
	}
	if (tp->forwarding) {
		printf("Forwarding is running: stop it first\n");
		return;
	}
	fwd_set_mode(tp, (enum fwd_mode)m);
	printf("Set %s packet forwarding mode\n", fwd_mode_names[m]);
}

static bool is(const char *a, const char *b)
{
	return strcmp(a, b) == 0;
}

/* show|clear port stats|info [all|N] */
static void cmd_port(struct testpmd *tp, char **w, int n)
{
	int port = port_arg(tp, n > 3 ? w[3] : NULL);

	if (port < -1)
		return;
	if (is(w[0], "show") && is(w[2], "stats"))
		stats_show(tp, port, false);
	else if (is(w[0], "show") && is(w[2], "info"))
		stats_port_info(tp, port);
	else if (is(w[0], "clear") && is(w[2], "stats"))
		cmd_clear(tp, port);
	else
		printf("Unknown command; type help\n");
}

/* 1 when the command asks to quit. */
static int run(struct testpmd *tp, char **w, int n)
{
	if (n == 0)
		return 0;
	if (is(w[0], "quit") || is(w[0], "exit"))
		return 1;
	if (is(w[0], "start") && (n == 1 || is(w[1], "tx_first")))
		cmd_start(tp, n > 1);
	else if (is(w[0], "stop"))
		cmd_stop(tp);
	else if (is(w[0], "help"))
		fputs(help_text, stdout);
	else if (n >= 2 && is(w[0], "set") && is(w[1], "fwd"))
		cmd_set_fwd(tp, n > 2 ? w[2] : NULL);
	else if (n >= 3 && (is(w[0], "show") || is(w[0], "clear")) && is(w[1], "port"))
		cmd_port(tp, w, n);
	else if (n >= 2 && is(w[0], "show") && is(w[1], "config"))
		cmd_config(tp);
	else
		printf("Unknown command '%s'; type help\n", w[0]);
	fflush(stdout);
	return 0;
}

void shell_run(struct testpmd *tp)
{
	char line[512], *w[MAX_WORDS], *save;
	int n;

	while (!tp_signalled()) {
		printf("testpmd> ");
		fflush(stdout);
		if (fgets(line, sizeof(line), stdin) == NULL) {
			if (errno == EINTR && !tp_signalled()) {
				clearerr(stdin);
				continue;
			}
			printf("\n");
			return; /* EOF or a signal */
		}
		n = 0;
		for (char *t = strtok_r(line, " \t\r\n", &save); t && n < MAX_WORDS;
		     t = strtok_r(NULL, " \t\r\n", &save))
			w[n++] = t;
		if (run(tp, w, n))
			return;
	}
}
