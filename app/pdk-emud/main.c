/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pdk-emud: serve emulated PCI devices over vfio-user sockets.
 *
 *   pdk-emud --device testdev,socket=/tmp/td.sock,vectors=8 [--device ...]
 *
 * Every device gets its own thread (lib/emu); this program only parses the
 * command line, starts the devices, and waits for signals: SIGTERM/SIGINT
 * shut down and remove the sockets, SIGUSR1 surprise-removes every device,
 * SIGUSR2 injects each device's `fault=` now; --control PATH takes fault
 * injections and counter requests from other processes (control.c).
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pdk_emu.h>
#include <pdk_log.h>

#include "control.h"

#define MAX_DEVICES 64

struct emud {
	const char *specs[MAX_DEVICES];
	struct pdk_emu_dev *devs[MAX_DEVICES];
	unsigned n;
	const char *ready_file;
	const char *control;
	int log_level;
};

static void usage(FILE *f)
{
	fprintf(f,
		"usage: pdk-emud --device TYPE,socket=PATH[,key=value...] [--device ...]\n"
		"                [--ready-file PATH] [--control PATH] [--log-level LEVEL]\n"
		"Serves emulated PCI devices over vfio-user sockets.\n"
		"  --device SPEC      a device to serve (repeat for more)\n"
		"  --ready-file PATH  written with the socket paths once all listen\n"
		"  --control PATH     a socket taking 'list', 'inject DEV FAULT',\n"
		"                     'fault DEV allones|remove', 'stats DEV' lines\n"
		"  --log-level LEVEL  err|warning|notice|info|debug (default info)\n"
		"  --help             this text, device types and their knobs\n"
		"Signals: TERM/INT stop and remove the sockets; USR1 surprise-removes\n"
		"every device; USR2 injects each device's fault= now.\n");
}

static void print_knobs(const struct pdk_emu_knob *k)
{
	for (; k && k->name; k++)
		printf("    %-18s %s%s%s%s\n", k->name, k->help, k->def ? " [" : "",
		       k->def ? k->def : "", k->def ? "]" : "");
}

static void help(void)
{
	usage(stdout);
	printf("\nKnobs of every device:\n");
	print_knobs(pdk_emu_common_knobs());
	printf("\nDevice types:\n");
	for (const struct pdk_emu_model *m = pdk_emu_model_next(NULL); m;
	     m = pdk_emu_model_next(m)) {
		printf("  %s: %s\n", m->name, m->help ? m->help : "");
		print_knobs(m->knobs);
	}
}

/* 0 to run, 1 to exit successfully (--help), -1 on a usage error. */
static int parse_args(struct emud *e, int argc, char **argv)
{
	static const struct option opts[] = {
		{"device", required_argument, NULL, 'd'},
		{"ready-file", required_argument, NULL, 'r'},
		{"control", required_argument, NULL, 'c'},
		{"log-level", required_argument, NULL, 'l'},
		{"help", no_argument, NULL, 'h'},
		{NULL, 0, NULL, 0},
	};
	int c;

	while ((c = getopt_long(argc, argv, "d:r:c:l:h", opts, NULL)) != -1) {
		if (c == 'h') {
			help();
			return 1;
		}
		if (c == 'd' && e->n < MAX_DEVICES) {
			e->specs[e->n++] = optarg;
		} else if (c == 'd') {
			fprintf(stderr, "pdk-emud: at most %d devices\n", MAX_DEVICES);
			return -1;
		} else if (c == 'r') {
			e->ready_file = optarg;
		} else if (c == 'c') {
			e->control = optarg;
		} else if (c == 'l') {
			e->log_level = pdk_log_parse_level(optarg);
			if (e->log_level > 0)
				continue;
			fprintf(stderr, "pdk-emud: bad --log-level '%s': use err, "
				"warning, notice, info or debug\n", optarg);
			return -1;
		} else {
			fprintf(stderr, "pdk-emud: bad arguments (see --help)\n");
			return -1;
		}
	}
	if (optind < argc || e->n == 0) {
		fprintf(stderr, "pdk-emud: %s (see --help)\n",
			e->n ? "unexpected argument" : "no --device given");
		return -1;
	}
	return 0;
}

static int write_ready(const struct emud *e)
{
	char tmp[4096];
	FILE *f;

	snprintf(tmp, sizeof(tmp), "%s.tmp", e->ready_file);
	f = fopen(tmp, "w");
	if (f == NULL)
		return -errno;
	for (unsigned i = 0; i < e->n; i++)
		fprintf(f, "%s\n", pdk_emu_dev_socket(e->devs[i]));
	/* rename: a reader never sees half the file */
	if (fclose(f) || rename(tmp, e->ready_file))
		return -errno;
	return 0;
}

static int start_devices(struct emud *e)
{
	char err[1024];

	for (unsigned i = 0; i < e->n; i++) {
		e->devs[i] = pdk_emu_dev_create(e->specs[i], err, sizeof(err));
		if (e->devs[i] == NULL) {
			fprintf(stderr, "pdk-emud: --device %s: %s\n", e->specs[i], err);
			return 2;
		}
	}
	for (unsigned i = 0; i < e->n; i++) {
		int rc = pdk_emu_dev_start(e->devs[i]);

		if (rc) {
			fprintf(stderr, "pdk-emud: --device %s: cannot start: %s\n",
				e->specs[i], strerror(-rc));
			return 1;
		}
		printf("pdk-emud: %s listening on %s\n", pdk_emu_dev_name(e->devs[i]),
		       pdk_emu_dev_socket(e->devs[i]));
	}
	fflush(stdout);
	if (e->control && (errno = -control_start(e->control, e->devs, e->n))) {
		fprintf(stderr, "pdk-emud: --control %s: %s (a live pdk-emud's socket, "
			"or not a socket?)\n", e->control, strerror(errno));
		return 1;
	}
	/* last: a test that sees the ready file finds the control socket */
	if (e->ready_file && write_ready(e)) {
		fprintf(stderr, "pdk-emud: --ready-file %s: %s\n", e->ready_file,
			strerror(errno));
		return 1;
	}
	return 0;
}

/* Wait for signals until TERM or INT. */
static void serve(struct emud *e, const sigset_t *set)
{
	for (;;) {
		int sig;

		if (sigwait(set, &sig))
			continue;
		if (sig == SIGTERM || sig == SIGINT) {
			PDK_LOG(NOTICE, "emud", "signal %d: shutting down", sig);
			return;
		}
		for (unsigned i = 0; i < e->n; i++) {
			if (sig == SIGUSR1)
				pdk_emu_dev_fault(e->devs[i], PDK_EMU_FAULT_REMOVE);
			else if (pdk_emu_dev_knob(e->devs[i], "fault"))
				pdk_emu_dev_inject(e->devs[i],
						   pdk_emu_dev_knob(e->devs[i], "fault"));
		}
	}
}

int main(int argc, char **argv)
{
	struct emud e = {.log_level = PDK_LOG_INFO};
	sigset_t set;
	int rc = parse_args(&e, argc, argv);

	if (rc)
		return rc > 0 ? 0 : 2;
	pdk_log_set_level(NULL, e.log_level);
	/* blocked before any device thread exists, so only sigwait sees them */
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGUSR1);
	sigaddset(&set, SIGUSR2);
	sigaddset(&set, SIGPIPE);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	sigdelset(&set, SIGPIPE);
	rc = start_devices(&e);
	if (rc == 0)
		serve(&e, &set);
	control_stop();
	for (unsigned i = 0; i < e.n; i++)
		pdk_emu_dev_destroy(e.devs[i]);
	if (e.ready_file && rc == 0)
		unlink(e.ready_file);
	return rc;
}
