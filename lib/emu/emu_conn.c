/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The socket: listen, accept one client at a time (a second one is told
 * EBUSY, as a second open of a vfio device would fail), and hang up. When
 * a client goes the device is reset, its DMA mappings and eventfds are
 * dropped, and the next client finds a device fresh from power-on.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/un.h>
#include <unistd.h>

#include "emu_private.h"

#define SEND_TIMEOUT_S 5      /* a client that stops reading is dropped */
#define BUSY_WAIT_MS 200      /* for the VERSION of a client we turn away */

/* A socket file left behind by a dead server is removed; a live one kept. */
static int clear_stale(const struct sockaddr_un *sa)
{
	struct stat st;
	int fd, rc;

	if (lstat(sa->sun_path, &st))
		return errno == ENOENT ? 0 : -errno;
	if (!S_ISSOCK(st.st_mode))
		return -EEXIST;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	rc = connect(fd, (const struct sockaddr *)sa, sizeof(*sa));
	close(fd);
	if (rc == 0)
		return -EADDRINUSE;
	PDK_LOG(INFO, "emu", "removing stale socket %s", sa->sun_path);
	return unlink(sa->sun_path) ? -errno : 0;
}

int pdk_emu_listen(const char *path, int flags)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, rc;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path));
	rc = clear_stale(&sa);
	if (rc)
		return rc;
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | flags, 0);
	if (fd < 0)
		return -errno;
	if (bind(fd, (struct sockaddr *)&sa, sizeof(sa))) {
		rc = -errno;
		close(fd);
		return rc;
	}
	if (listen(fd, 8)) {
		rc = -errno;
		close(fd);
		unlink(path); /* ours: bind made it */
		return rc;
	}
	return fd;
}

int emu_listen(struct pdk_emu_dev *dev)
{
	int fd = pdk_emu_listen(dev->opts.socket, SOCK_NONBLOCK);

	if (fd < 0) {
		pdk_emu_dev_error(dev, "socket %s: %s%s", dev->opts.socket, strerror(-fd),
				  fd == -EADDRINUSE ? " (another server is listening on it)" :
				  fd == -EEXIST ? " (a file that is not a socket is in the way)" :
						  "");
		return fd;
	}
	dev->socket_ours = true;
	dev->listen_fd = fd;
	EMU_LOG(INFO, dev, "listening on %s", dev->opts.socket);
	return 0;
}

/* Answer the first command of a client we cannot serve, then hang up. */
static void turn_away(struct pdk_emu_dev *dev, int fd, int err)
{
	struct pdk_vfio_user_msg m;

	if (pdk_vfio_user_recv(fd, &m, PDK_VFIO_USER_JSON_MAX + 64, 0,
			       BUSY_WAIT_MS) == 0) {
		pdk_vfio_user_send_error(fd, &m.hdr, err);
		pdk_vfio_user_msg_release(&m);
	}
	close(fd);
	EMU_LOG(NOTICE, dev, "turned a second client away (%s)", strerror(err));
}

void emu_accept(struct pdk_emu_dev *dev)
{
	struct timeval tv = {.tv_sec = SEND_TIMEOUT_S};
	int fd = accept4(dev->listen_fd, NULL, NULL, SOCK_CLOEXEC);

	if (fd < 0)
		return;
	if (dev->conn_fd >= 0) {
		turn_away(dev, fd, EBUSY);
		return;
	}
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	dev->conn_fd = fd;
	dev->negotiated = false;
	dev->next_id = 0;
	pdk_vfio_user_caps_init(&dev->peer);
	emu_stat_add(dev, &dev->stats.clients, 1);
	EMU_LOG(INFO, dev, "client connected");
}

void emu_conn_close(struct pdk_emu_dev *dev, const char *why)
{
	bool was = dev->negotiated;

	if (dev->conn_fd < 0)
		return;
	close(dev->conn_fd);
	dev->conn_fd = -1;
	dev->negotiated = false;
	while (dev->pending.n) {
		struct pdk_vfio_user_msg *m = dev->pending.q[dev->pending.head];

		dev->pending.head = (dev->pending.head + 1) % EMU_PENDING_MAX;
		dev->pending.n--;
		pdk_vfio_user_msg_release(m);
		free(m);
	}
	if (was && dev->model->client)
		dev->model->client(dev, false);
	EMU_LOG(INFO, dev, "client gone (%s): device reset, DMA mappings and "
		"eventfds dropped", why);
	emu_reset_full(dev);
}
