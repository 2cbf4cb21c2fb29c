/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The vfio-user server side of a device: the listening socket, one client
 * at a time, and a handler per command. Handlers run on the device thread;
 * each checks its payload with the lib/vfio_user decoder, does the work
 * and fills in the reply, which the dispatcher sends (or an error reply).
 * A message we cannot frame closes the connection; anything else gets an
 * answer and the server keeps serving.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>
#include <poll.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "emu_private.h"

#define MSG_TIMEOUT_MS 2000   /* the rest of a message once it started */
#define REPLY_TIMEOUT_MS 5000 /* a client's answer to DMA_READ/WRITE */

struct emu_reply {
	struct iovec iov[2];
	int niov;
	int fd; /* sent with the reply when >= 0, not owned */
	uint8_t small[512];
	void *heap;
};

typedef int (*emu_handler)(struct pdk_emu_dev *dev, struct pdk_vfio_user_msg *m,
			   struct emu_reply *r);

static void reply_set(struct emu_reply *r, const void *p, size_t len)
{
	r->iov[0].iov_base = (void *)(uintptr_t)p;
	r->iov[0].iov_len = len;
	r->niov = 1;
}

static void *reply_buf(struct emu_reply *r, size_t len)
{
	void *p = len <= sizeof(r->small) ? r->small : (r->heap = malloc(len));

	if (p)
		reply_set(r, p, len);
	return p;
}

static int h_version(struct pdk_emu_dev *dev, struct pdk_vfio_user_msg *m,
		     struct emu_reply *r)
{
	struct pdk_vfio_user_caps ours = {.max_msg_fds = dev->opts.max_fds,
					  .max_data_xfer_size = dev->opts.max_xfer,
					  .pgsizes = dev->opts.pgsizes,
					  .max_dma_maps = dev->opts.max_dma_maps,
					  .nr_iova_ranges = dev->opts.nr_iova_ranges};
	uint16_t major, minor;
	int n;

	memcpy(ours.iova_ranges, dev->opts.iova_ranges, sizeof(ours.iova_ranges));
	if (dev->negotiated)
		return -EINVAL; /* only once per connection */
	if (pdk_vfio_user_version_decode(m, &major, &minor, &dev->peer))
		return -EINVAL;
	if (major != VFIO_USER_MAJOR) {
		EMU_LOG(NOTICE, dev, "client speaks vfio-user %u.%u, we speak %u.x",
			major, minor, VFIO_USER_MAJOR);
		return -ENOTSUP;
	}
	minor = PDK_MIN(minor, (uint16_t)VFIO_USER_MINOR);
	dev->peer.max_msg_fds = PDK_MIN(dev->peer.max_msg_fds,
					(uint32_t)PDK_VFIO_USER_FDS_MAX);
	n = pdk_vfio_user_version_encode(r->small, sizeof(r->small), major, minor,
					 &ours);
	if (n < 0)
		return n;
	reply_set(r, r->small, (size_t)n);
	dev->negotiated = true;
	if (dev->connected_ms == 0)
		dev->connected_ms = emu_now_ms();
	EMU_LOG(INFO, dev, "client speaks vfio-user %u.%u (max_msg_fds %u, "
		"max_data_xfer_size %" PRIu64 ")", major, minor,
		dev->peer.max_msg_fds, dev->peer.max_data_xfer_size);
	if (dev->model->client)
		dev->model->client(dev, true);
	return 0;
}

static int h_dma_map(struct pdk_emu_dev *dev, struct pdk_vfio_user_msg *m,
		     struct emu_reply *r)
{
	struct vfio_user_dma_map map;
	int rc = pdk_vfio_user_dma_map_decode(m, &map);

	(void)r;
	if (rc == 0)
		rc = emu_dma_map(dev, &map,
				 m->nfds ? pdk_vfio_user_msg_take_fd(m, 0) : -1);
	if (rc)
		EMU_LOG(INFO, dev, "DMA_MAP iova 0x%" PRIx64 " size 0x%" PRIx64
			" refused: %s", map.addr, map.size,
			rc == -EEXIST ? "overlaps a mapping" :
			rc == -ENOSPC ? "too many mappings" : strerror(-rc));
	return rc;
}

static int h_dma_unmap(struct pdk_emu_dev *dev, struct pdk_vfio_user_msg *m,
		       struct emu_reply *r)
{
	struct vfio_user_dma_unmap u;
	int rc = pdk_vfio_user_dma_unmap_decode(m, &u);

	if (rc == 0 && u.flags == VFIO_USER_DMA_UNMAP_F_ALL)
		emu_dma_clear(dev);
	else if (rc == 0)
		rc = emu_dma_unmap(dev, u.addr, u.size);
	if (rc)
		return rc;
	memcpy(r->small, &u, sizeof(u)); /* the reply echoes the entry */
	reply_set(r, r->small, sizeof(u));
	return 0;
}

static int h_get_info(struct pdk_emu_dev *dev, struct pdk_vfio_user_msg *m,
		      struct emu_reply *r)
{
	struct vfio_user_device_info info;
	int rc = pdk_vfio_user_info_req_decode(m, &info, sizeof(info));

	(void)dev;
	if (rc)
		return rc;
	info = (struct vfio_user_device_info){
		.argsz = sizeof(info),
		.flags = VFIO_DEVICE_FLAGS_RESET | VFIO_DEVICE_FLAGS_PCI,
		.num_regions = VFIO_PCI_NUM_REGIONS,
		.num_irqs = VFIO_PCI_NUM_IRQS};
	memcpy(r->small, &info, sizeof(info));
	reply_set(r, r->small, sizeof(info));
	return 0;
}

static int h_region_info(struct pdk_emu_dev *dev, struct pdk_vfio_user_msg *m,
			 struct emu_reply *r)
{
	struct vfio_user_region_info req;
	struct pdk_vfio_user_region reg;
	int rc = pdk_vfio_user_info_req_decode(m, &req, sizeof(req));

	if (rc == 0)
		rc = emu_region_info(dev, req.index, &reg);
	if (rc)
		return rc;
	if (dev->peer.max_msg_fds == 0) /* it cannot receive the fd */
		reg.info.flags &= ~(uint32_t)VFIO_REGION_INFO_FLAG_MMAP;
	rc = pdk_vfio_user_region_info_encode(r->small, sizeof(r->small),
					      req.argsz, &reg);
	if (rc < 0)
		return rc;
	reply_set(r, r->small, (size_t)rc);
	/* the fd goes with the complete reply only: a client that asked with
	 * too small an argsz may not expect one (libvfio-user's does not) */
	memcpy(&reg.info.argsz, r->small, sizeof(reg.info.argsz));
	if ((reg.info.flags & VFIO_REGION_INFO_FLAG_MMAP) && reg.info.argsz <= req.argsz)
		r->fd = dev->memfd;
	return 0;
}

static int h_irq_info(struct pdk_emu_dev *dev, struct pdk_vfio_user_msg *m,
		      struct emu_reply *r)
{
	struct vfio_user_irq_info info;
	int rc = pdk_vfio_user_info_req_decode(m, &info, sizeof(info));

	if (rc == 0)
		rc = emu_irq_info(dev, info.index, &info);
	if (rc)
		return rc;
	memcpy(r->small, &info, sizeof(info));
	reply_set(r, r->small, sizeof(info));
	return 0;
}

static int h_set_irqs(struct pdk_emu_dev *dev, struct pdk_vfio_user_msg *m,
		      struct emu_reply *r)
{
	struct vfio_user_irq_set s;
	const uint8_t *bools;
	int rc = pdk_vfio_user_set_irqs_decode(m, &s, &bools);

	(void)r;
	return rc ? rc : emu_set_irqs(dev, m, &s, bools);
}

static int h_region_read(struct pdk_emu_dev *dev, struct pdk_vfio_user_msg *m,
			 struct emu_reply *r)
{
	struct vfio_user_region_rw rw;
	const void *data;
	uint8_t *out;
	int rc = pdk_vfio_user_region_rw_decode(m, false, dev->opts.max_xfer, &rw,
						&data);

	if (rc)
		return rc;
	out = reply_buf(r, sizeof(rw) + rw.count);
	if (out == NULL)
		return -ENOMEM;
	rc = emu_region_read(dev, rw.region, rw.offset, out + sizeof(rw), rw.count);
	memcpy(out, &rw, sizeof(rw));
	return rc;
}

static int h_region_write(struct pdk_emu_dev *dev, struct pdk_vfio_user_msg *m,
			  struct emu_reply *r)
{
	struct vfio_user_region_rw rw;
	const void *data;
	int rc = pdk_vfio_user_region_rw_decode(m, true, dev->opts.max_xfer, &rw,
						&data);

	if (rc == 0)
		rc = emu_region_write(dev, rw.region, rw.offset, data, rw.count);
	if (rc)
		return rc;
	memcpy(r->small, &rw, sizeof(rw));
	reply_set(r, r->small, sizeof(rw));
	return 0;
}

static int h_reset(struct pdk_emu_dev *dev, struct pdk_vfio_user_msg *m,
		   struct emu_reply *r)
{
	(void)r;
	if (m->len || m->nfds || m->fds_dropped)
		return -EINVAL;
	EMU_LOG(INFO, dev, "device reset requested");
	emu_reset_function(dev);
	return 0;
}

static int h_unsupported(struct pdk_emu_dev *dev, struct pdk_vfio_user_msg *m,
			 struct emu_reply *r)
{
	(void)dev, (void)m, (void)r;
	return -ENOTSUP;
}

static int h_wrong_way(struct pdk_emu_dev *dev, struct pdk_vfio_user_msg *m,
		       struct emu_reply *r)
{
	(void)dev, (void)m, (void)r;
	return -EINVAL; /* DMA_READ/WRITE go from server to client */
}

static const emu_handler handlers[VFIO_USER_MAX_COMMAND + 1] = {
	[VFIO_USER_VERSION] = h_version,
	[VFIO_USER_DMA_MAP] = h_dma_map,
	[VFIO_USER_DMA_UNMAP] = h_dma_unmap,
	[VFIO_USER_DEVICE_GET_INFO] = h_get_info,
	[VFIO_USER_DEVICE_GET_REGION_INFO] = h_region_info,
	[VFIO_USER_DEVICE_GET_REGION_IO_FDS] = h_unsupported,
	[VFIO_USER_DEVICE_GET_IRQ_INFO] = h_irq_info,
	[VFIO_USER_DEVICE_SET_IRQS] = h_set_irqs,
	[VFIO_USER_REGION_READ] = h_region_read,
	[VFIO_USER_REGION_WRITE] = h_region_write,
	[VFIO_USER_DMA_READ] = h_wrong_way,
	[VFIO_USER_DMA_WRITE] = h_wrong_way,
	[VFIO_USER_DEVICE_RESET] = h_reset,
	[VFIO_USER_REGION_WRITE_MULTI] = h_unsupported,
	[VFIO_USER_DEVICE_FEATURE] = h_unsupported,
	[VFIO_USER_MIG_DATA_READ] = h_unsupported,
	[VFIO_USER_MIG_DATA_WRITE] = h_unsupported,
};

/* Run one command; `*hangup` when the connection cannot go on. */
static int dispatch(struct pdk_emu_dev *dev, struct pdk_vfio_user_msg *m,
		    struct emu_reply *r, bool *hangup)
{
	uint16_t cmd = m->hdr.command;
	int rc;

	if (!dev->negotiated && cmd != VFIO_USER_VERSION) {
		EMU_LOG(NOTICE, dev, "%s before VERSION: hanging up",
			pdk_vfio_user_cmd_name(cmd));
		*hangup = true;
		return -EINVAL;
	}
	if (cmd > VFIO_USER_MAX_COMMAND || handlers[cmd] == NULL)
		return -ENOSYS;
	rc = handlers[cmd](dev, m, r);
	if (cmd == VFIO_USER_VERSION && rc && !dev->negotiated)
		*hangup = true; /* no agreement on a version */
	return rc;
}

/* Handle one received command and send its reply. */
static void handle(struct pdk_emu_dev *dev, struct pdk_vfio_user_msg *m)
{
	struct emu_reply r = {.fd = -1};
	bool close_after = false;
	int rc;

	if ((m->hdr.flags & VFIO_USER_F_TYPE_MASK) != VFIO_USER_F_TYPE_COMMAND) {
		EMU_LOG(INFO, dev, "stray reply id %u dropped", m->hdr.msg_id);
		return;
	}
	emu_stat_add(dev, &dev->stats.msgs, 1);
	rc = dispatch(dev, m, &r, &close_after);
	if (rc) {
		emu_stat_add(dev, &dev->stats.msg_errors, 1);
		EMU_LOG(DEBUG, dev, "%s id %u: error %d", pdk_vfio_user_cmd_name(m->hdr.command),
			m->hdr.msg_id, -rc);
	}
	if (!(m->hdr.flags & VFIO_USER_F_NO_REPLY)) {
		int src = rc ? pdk_vfio_user_send_error(dev->conn_fd, &m->hdr, -rc) :
			  pdk_vfio_user_send_reply(dev->conn_fd, &m->hdr,
						   r.niov ? r.iov[0].iov_base : NULL,
						   r.niov ? r.iov[0].iov_len : 0,
						   &r.fd, r.fd >= 0 ? 1 : 0);
		if (src)
			close_after = true;
	}
	free(r.heap);
	if (close_after)
		emu_conn_close(dev, rc ? "protocol error" : "client stopped reading");
}

/* Receive the next message from the client, or say why we cannot. */
static int receive(struct pdk_emu_dev *dev, struct pdk_vfio_user_msg *m)
{
	int rc = pdk_vfio_user_recv(dev->conn_fd, m, dev->opts.max_xfer + 64,
				    dev->opts.max_fds, MSG_TIMEOUT_MS);

	if (rc == -EMSGSIZE) {
		EMU_LOG(NOTICE, dev, "%s of %u bytes is over the limit: hanging up",
			pdk_vfio_user_cmd_name(m->hdr.command), m->hdr.msg_size);
		pdk_vfio_user_send_error(dev->conn_fd, &m->hdr, E2BIG);
	}
	if (rc == 0 && m->fds_dropped)
		EMU_LOG(INFO, dev, "%s id %u carried more than %u fds: all closed",
			pdk_vfio_user_cmd_name(m->hdr.command), m->hdr.msg_id,
			dev->opts.max_fds);
	return rc;
}

static void pending_push(struct pdk_emu_dev *dev, struct pdk_vfio_user_msg *m)
{
	struct emu_pending *p = &dev->pending;

	p->q[(p->head + p->n) % EMU_PENDING_MAX] = m;
	p->n++;
}

static struct pdk_vfio_user_msg *pending_pop(struct pdk_emu_dev *dev)
{
	struct emu_pending *p = &dev->pending;
	struct pdk_vfio_user_msg *m;

	if (p->n == 0)
		return NULL;
	m = p->q[p->head];
	p->head = (p->head + 1) % EMU_PENDING_MAX;
	p->n--;
	return m;
}

static bool readable(int fd)
{
	struct pollfd pfd = {.fd = fd, .events = POLLIN};

	return poll(&pfd, 1, 0) > 0;
}

int emu_conn_service(struct pdk_emu_dev *dev, int budget)
{
	int done = 0;

	while (dev->conn_fd >= 0 && done < budget) {
		struct pdk_vfio_user_msg *q = pending_pop(dev), m;
		int rc;

		if (q) {
			handle(dev, q);
			pdk_vfio_user_msg_release(q);
			free(q);
			done++;
			continue;
		}
		if (!readable(dev->conn_fd))
			break;
		rc = receive(dev, &m);
		if (rc) {
			emu_conn_close(dev, rc == -ECONNRESET ? "client closed" :
					    "malformed message");
			break;
		}
		handle(dev, &m);
		pdk_vfio_user_msg_release(&m);
		done++;
	}
	return done;
}

/*
 * Send a server-to-client command and wait for its reply. Commands that
 * arrive meanwhile are queued (the spec lets the two directions interleave)
 * and handled afterwards. Returns 0 with `reply` to release, the client's
 * -errno for an error reply, or -ECONNRESET once the client is dropped.
 */
int emu_request(struct pdk_emu_dev *dev, uint16_t cmd, const void *payload,
		size_t len, const void *data, size_t dlen,
		struct pdk_vfio_user_msg *reply)
{
	struct vfio_user_header hdr = {.msg_id = dev->next_id++, .command = cmd};
	struct iovec iov[2] = {{(void *)(uintptr_t)payload, len},
			       {(void *)(uintptr_t)data, dlen}};
	int rc = dev->conn_fd < 0 ? -ECONNRESET :
		 pdk_vfio_user_sendv(dev->conn_fd, &hdr, iov, 2, NULL, 0);

	while (rc == 0) {
		struct pdk_vfio_user_msg *m = malloc(sizeof(*m));

		rc = m ? pdk_vfio_user_recv(dev->conn_fd, m, dev->opts.max_xfer + 64,
					    dev->opts.max_fds, REPLY_TIMEOUT_MS) :
			 -ENOMEM;
		if (rc == 0 && (m->hdr.flags & VFIO_USER_F_TYPE_MASK) ==
				       VFIO_USER_F_TYPE_COMMAND) {
			if (dev->pending.n == EMU_PENDING_MAX) {
				pdk_vfio_user_msg_release(m);
				rc = -ENOBUFS;
			} else {
				pending_push(dev, m);
				continue;
			}
		}
		if (rc == 0 && m->hdr.msg_id == hdr.msg_id) {
			*reply = *m;
			free(m);
			rc = pdk_vfio_user_reply_check(reply, hdr.msg_id, cmd);
			if (rc)
				pdk_vfio_user_msg_release(reply);
			return rc;
		}
		if (rc == 0)
			pdk_vfio_user_msg_release(m); /* a stale reply */
		free(m);
	}
	EMU_LOG(NOTICE, dev, "%s to the client failed: %s",
		pdk_vfio_user_cmd_name(cmd), strerror(-rc));
	emu_conn_close(dev, "no answer to a DMA request");
	return -ECONNRESET;
}
