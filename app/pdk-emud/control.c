/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pdk-emud --control PATH: a UNIX stream socket for tests in other
 * processes to inject faults at the moment they choose and read the
 * devices' counters. One request per line, one reply line each:
 *
 *   list                      ok [{"index":0,"name":"nvme@a.sock","socket":"..."}]
 *   inject DEV FAULT          ok | error ...   (the model's faults, e.g. cfs-at=5)
 *   fault DEV allones|remove  ok | error ...   (framework faults)
 *   stats DEV                 ok {"clients":1,...,"nvme":{"commands":...}}
 *                             (or "virtio_net":{"tx_frames":...})
 *
 * DEV is the device's index on the command line, its socket path or its
 * name. Requests are served one client at a time on a thread of their
 * own; injections wait for the device thread, as pdk_emu_dev_inject does.
 */
#include <assert.h>
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <pdk_emu.h>
#include <pdk_emu_nvme.h>
#include <pdk_emu_virtio_net.h>

#include "control.h"

#define LINE_MAX_LEN 512
#define REPLY_MAX 4096
#define CLIENT_TIMEOUT_S 5

static struct {
	struct pdk_emu_dev *const *devs;
	unsigned n;
	int listen_fd;
	int stop_fd;
	char path[108];
	pthread_t thread;
	bool running;
} ctl = {.listen_fd = -1, .stop_fd = -1};

static struct pdk_emu_dev *find_dev(const char *key)
{
	char *end;
	unsigned long i = strtoul(key, &end, 10);

	if (*key && *end == '\0')
		return i < ctl.n ? ctl.devs[i] : NULL;
	for (unsigned d = 0; d < ctl.n; d++)
		if (!strcmp(key, pdk_emu_dev_socket(ctl.devs[d])) ||
		    !strcmp(key, pdk_emu_dev_name(ctl.devs[d])))
			return ctl.devs[d];
	return NULL;
}

static void reply_list(char *out, size_t len)
{
	size_t n = (size_t)snprintf(out, len, "ok [");

	for (unsigned d = 0; d < ctl.n && n < len; d++)
		n += (size_t)snprintf(out + n, len - n,
				      "%s{\"index\":%u,\"name\":\"%s\",\"socket\":\"%s\"}",
				      d ? "," : "", d, pdk_emu_dev_name(ctl.devs[d]),
				      pdk_emu_dev_socket(ctl.devs[d]));
	if (n < len)
		snprintf(out + n, len - n, "]");
}

/* The counters, in the order of their structures (checked below). */
static const char *const emu_names[] = {
	"clients", "msgs", "msg_errors", "slow_reads", "slow_writes", "dma_maps",
	"dma_faults", "irqs", "irqs_lost", "resets"};
static const char *const nvme_names[] = {
	"commands", "completions", "errors", "dma_errors", "cq_full",
	"bad_doorbells", "aer_events", "ctrl_resets", "shutdowns", "flushes",
	"aborted", "inj_cfs", "inj_stuck", "inj_unknown_cid", "inj_dup_cid",
	"inj_stale_phase", "inj_bad_sqhd", "inj_allones", "inj_remove"};
static const char *const vnet_names[] = {
	"tx_frames", "tx_bytes", "tx_dropped", "rx_frames", "rx_bytes", "rx_dropped",
	"kicks", "irqs", "config_irqs", "ctrl_cmds", "bad_used", "needs_reset", "resets",
	"link_changes"};
static_assert(sizeof(struct pdk_emu_stats) == sizeof(emu_names) / sizeof(char *) * 8,
	      "a pdk_emu_stats field without a name here");
static_assert(sizeof(struct pdk_emu_nvme_stats) ==
	      sizeof(nvme_names) / sizeof(char *) * 8,
	      "a pdk_emu_nvme_stats field without a name here");
static_assert(sizeof(struct pdk_emu_virtio_net_stats) ==
	      sizeof(vnet_names) / sizeof(char *) * 8,
	      "a pdk_emu_virtio_net_stats field without a name here");

/* "name":value pairs of a structure of uint64_t counters. */
static size_t json_fields(char *out, size_t len, const char *const *names,
			  unsigned n, const void *st)
{
	const uint64_t *v = st;
	size_t w = 0;

	for (unsigned i = 0; i < n && w < len; i++)
		w += (size_t)snprintf(out + w, len - w, "%s\"%s\":%llu", i ? "," : "",
				      names[i], (unsigned long long)v[i]);
	return w;
}

/* ,"model":{...} after the framework's counters. */
static size_t json_model(char *out, size_t len, const char *model,
			 const char *const *names, unsigned n, const void *st)
{
	size_t w = (size_t)snprintf(out, len, ",\"%s\":{", model);

	if (w < len)
		w += json_fields(out + w, len - w, names, n, st);
	if (w < len)
		w += (size_t)snprintf(out + w, len - w, "}");
	return w;
}

static void reply_stats(struct pdk_emu_dev *dev, char *out, size_t len)
{
	struct pdk_emu_stats st;
	struct pdk_emu_nvme_stats nv;
	struct pdk_emu_virtio_net_stats vn;
	size_t n = (size_t)snprintf(out, len, "ok {");

	pdk_emu_dev_stats(dev, &st);
	n += json_fields(out + n, len - n, emu_names, PDK_DIM(emu_names), &st);
	if (n < len && pdk_emu_nvme_stats(dev, &nv) == 0)
		n += json_model(out + n, len - n, "nvme", nvme_names, PDK_DIM(nvme_names), &nv);
	if (n < len && pdk_emu_virtio_net_stats(dev, &vn) == 0)
		n += json_model(out + n, len - n, "virtio_net", vnet_names,
				PDK_DIM(vnet_names), &vn);
	if (n < len)
		snprintf(out + n, len - n, "}");
}

static void handle(char *line, char *out, size_t len)
{
	char *save = NULL, *verb = strtok_r(line, " \t", &save);
	char *key = strtok_r(NULL, " \t", &save), *arg = strtok_r(NULL, " \t", &save);
	struct pdk_emu_dev *dev = key ? find_dev(key) : NULL;
	int rc;

	if (verb && !strcmp(verb, "list")) {
		reply_list(out, len);
		return;
	}
	if (verb == NULL || key == NULL) {
		snprintf(out, len, "error: expected list, inject, fault or stats");
		return;
	}
	if (dev == NULL) {
		snprintf(out, len, "error: no device '%s' (see list)", key);
		return;
	}
	if (!strcmp(verb, "stats")) {
		reply_stats(dev, out, len);
		return;
	}
	if (!strcmp(verb, "inject") && arg)
		rc = pdk_emu_dev_inject(dev, arg);
	else if (!strcmp(verb, "fault") && arg && !strcmp(arg, "allones"))
		rc = pdk_emu_dev_fault(dev, PDK_EMU_FAULT_ALLONES);
	else if (!strcmp(verb, "fault") && arg && !strcmp(arg, "remove"))
		rc = pdk_emu_dev_fault(dev, PDK_EMU_FAULT_REMOVE);
	else
		rc = -EINVAL;
	if (rc)
		snprintf(out, len, "error: %s %s %s: %s", verb, key, arg ? arg : "",
			 strerror(-rc));
	else
		snprintf(out, len, "ok");
}

/* Serve one client until it hangs up or goes quiet. */
static void serve_client(int fd)
{
	struct timeval tv = {.tv_sec = CLIENT_TIMEOUT_S};
	char buf[LINE_MAX_LEN], out[REPLY_MAX];
	size_t have = 0;

	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	for (;;) {
		char *nl = memchr(buf, '\n', have);
		ssize_t r;

		if (nl) {
			*nl = '\0';
			handle(buf, out, sizeof(out));
			strcat(out, "\n");
			if (send(fd, out, strlen(out), MSG_NOSIGNAL) < 0)
				return;
			have -= (size_t)(nl + 1 - buf);
			memmove(buf, nl + 1, have);
			continue;
		}
		if (have == sizeof(buf))
			return; /* a line too long: hang up */
		r = recv(fd, buf + have, sizeof(buf) - have, 0);
		if (r <= 0)
			return;
		have += (size_t)r;
	}
}

static void *control_thread(void *arg)
{
	struct pollfd p[2] = {{.fd = ctl.listen_fd, .events = POLLIN},
			      {.fd = ctl.stop_fd, .events = POLLIN}};

	(void)arg;
	while (poll(p, 2, -1) >= 0 || errno == EINTR) {
		int fd;

		if (p[1].revents)
			break;
		if (!(p[0].revents & POLLIN))
			continue;
		fd = accept4(ctl.listen_fd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0) {
			serve_client(fd);
			close(fd);
		}
	}
	return NULL;
}

static int control_listen(const char *path)
{
	int fd = pdk_emu_listen(path, 0);

	if (fd < 0)
		return fd;
	ctl.listen_fd = fd;
	snprintf(ctl.path, sizeof(ctl.path), "%s", path);
	return 0;
}

int control_start(const char *path, struct pdk_emu_dev *const *devs, unsigned n)
{
	int rc;

	ctl.devs = devs;
	ctl.n = n;
	rc = control_listen(path);
	ctl.stop_fd = rc ? -1 : eventfd(0, EFD_CLOEXEC);
	if (rc == 0 && ctl.stop_fd < 0)
		rc = -errno;
	if (rc == 0)
		rc = -pthread_create(&ctl.thread, NULL, control_thread, NULL);
	ctl.running = rc == 0;
	if (rc)
		control_stop();
	return rc;
}

void control_stop(void)
{
	uint64_t one = 1;

	if (ctl.running && write(ctl.stop_fd, &one, sizeof(one)) == sizeof(one))
		pthread_join(ctl.thread, NULL);
	ctl.running = false;
	if (ctl.listen_fd >= 0)
		close(ctl.listen_fd);
	if (ctl.stop_fd >= 0)
		close(ctl.stop_fd);
	if (ctl.path[0])
		unlink(ctl.path);
	ctl.listen_fd = ctl.stop_fd = -1;
	ctl.path[0] = '\0';
}
