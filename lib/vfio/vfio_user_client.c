/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The vfio-user client backend ("vfio-user:/path/to.sock"): the device lives
 * in a server process (pdk-emud, or any vfio-user server). Each operation is
 * one request and its reply on the device's socket, framed and checked in
 * both directions by lib/vfio_user. Region info replies have the kernel's
 * layout, so they are parsed by the same vfio_region_parse() and mapped by
 * the same BAR plans as kernel devices.
 *
 * Each device is its own DMA domain: the server's table is its IOMMU (the
 * spec's suggestion: one group and container per device). Memory is shared
 * by fd: EAL memory is file-backed and its (fd, offset) travel with
 * DMA_MAP; memory without a file cannot be shared and is refused.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include <linux/vfio.h>
#include <pdk_vfio_user.h>

#include "vfio_private.h"
#include "vfio_sys.h"

#define UC_TIMEOUT_MS 10000         /* for any reply: a reset can take a while */
#define UC_MAX_XFER (1u << 20)      /* the largest read we accept in a reply */
#define UC_MAX_FDS 8                /* fds we accept in one message */
#define UC_INFO_RETRIES 3           /* region info asked again as argsz grows */

struct udev {
	struct pdk_vfio_domain dom; /* lives until domain_release */
	char name[PDK_PCI_NAME_MAX];
	int sock;
	uint16_t next_id;
	pthread_mutex_t lock;       /* one request in flight on the socket */
	struct pdk_vfio_user_caps server;
	int region_fd[VFIO_MAX_REGIONS];
	uint32_t nr_dma;            /* mappings the server holds for us */
	bool gone;
};

/* ------------------------------------------------------- transport -- */

static int sock_connect(const char *name, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, e;

	if (strlen(path) >= sizeof(sa.sun_path)) {
		PDK_LOG(ERR, VFIO_LOG, "%s: socket path longer than %zu bytes", name,
			sizeof(sa.sun_path) - 1);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, strlen(path));
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0)
		return fd;
	e = errno;
	close(fd);
	PDK_LOG(ERR, VFIO_LOG, "%s: cannot connect: %s (%s)", name, strerror(e),
		e == ENOENT ? "no such socket: start the server, e.g. pdk-emud --device "
			      "TYPE,socket=<path>" :
		e == ECONNREFUSED ? "nobody listens there: the server is gone" :
				    "check the path and its permissions");
	return -e;
}

/* The server broke the protocol or went away: no more requests. */
static int lost(struct udev *u, int cmd, int rc)
{
	if (!u->gone)
		PDK_LOG(ERR, VFIO_LOG, "%s: vfio-user server lost during %s: %s; the "
			"device is gone (close it, restart the server)", u->name,
			pdk_vfio_user_cmd_name((unsigned)cmd), strerror(-rc));
	u->gone = true;
	return -ENODEV;
}

/* Wait for the reply to `id`. A server request in between is refused: we
 * never share memory without an fd, so DMA_READ/WRITE have no business. */
static int wait_reply(struct udev *u, uint16_t id, uint16_t cmd,
		      struct pdk_vfio_user_msg *reply)
{
	for (;;) {
		struct pdk_vfio_user_msg m;
		int rc = pdk_vfio_user_recv(u->sock, &m, UC_MAX_XFER + 64, UC_MAX_FDS,
					    UC_TIMEOUT_MS);

		if (rc)
			return lost(u, cmd, rc);
		if ((m.hdr.flags & VFIO_USER_F_TYPE_MASK) == VFIO_USER_F_TYPE_COMMAND) {
			if (!(m.hdr.flags & VFIO_USER_F_NO_REPLY))
				pdk_vfio_user_send_error(u->sock, &m.hdr, EFAULT);
			pdk_vfio_user_msg_release(&m);
			continue;
		}
		if (m.hdr.msg_id != id) {
			pdk_vfio_user_msg_release(&m); /* stale: not ours */
			continue;
		}
		rc = pdk_vfio_user_reply_check(&m, id, cmd);
		if (rc == -EPROTO) {
			pdk_vfio_user_msg_release(&m);
			return lost(u, cmd, rc);
		}
		if (rc == 0)
			*reply = m;
		else
			pdk_vfio_user_msg_release(&m);
		return rc;
	}
}

/*
 * One request and its reply. 0 with `reply` to release (when not NULL),
 * the server's -errno, or -ENODEV once the server is gone.
 */
static int call(struct udev *u, uint16_t cmd, const struct iovec *iov, int iovcnt,
		const int *fds, unsigned nfds, struct pdk_vfio_user_msg *reply)
{
	struct vfio_user_header h = {.command = cmd};
	struct pdk_vfio_user_msg m;
	int rc;

	pthread_mutex_lock(&u->lock);
	if (u->gone) {
		pthread_mutex_unlock(&u->lock);
		return -ENODEV;
	}
	h.msg_id = u->next_id++;
	rc = pdk_vfio_user_sendv(u->sock, &h, iov, iovcnt, fds, nfds);
	rc = rc ? lost(u, cmd, rc) : wait_reply(u, h.msg_id, cmd, &m);
	pthread_mutex_unlock(&u->lock);
	if (rc == 0 && reply)
		*reply = m;
	else if (rc == 0)
		pdk_vfio_user_msg_release(&m);
	return rc;
}

static int call1(struct udev *u, uint16_t cmd, const void *p, size_t len,
		 struct pdk_vfio_user_msg *reply)
{
	struct iovec iov = {(void *)(uintptr_t)p, len};

	return call(u, cmd, &iov, 1, NULL, 0, reply);
}

/* ------------------------------------------------------ the device -- */

static int negotiate(struct udev *u)
{
	struct pdk_vfio_user_caps ours;
	struct pdk_vfio_user_msg m;
	uint8_t buf[PDK_VFIO_USER_JSON_MAX];
	uint16_t major, minor;
	int n, rc;

	pdk_vfio_user_caps_init(&ours);
	ours.max_msg_fds = UC_MAX_FDS;
	ours.max_data_xfer_size = UC_MAX_XFER;
	n = pdk_vfio_user_version_encode(buf, sizeof(buf), VFIO_USER_MAJOR,
					 VFIO_USER_MINOR, &ours);
	rc = n < 0 ? n : call1(u, VFIO_USER_VERSION, buf, (size_t)n, &m);
	if (rc) {
		if (rc != -ENODEV) /* lost() has said why */
			PDK_LOG(ERR, VFIO_LOG, "%s: VERSION refused: %s", u->name,
				rc == -EBUSY ? "the server serves another client (one "
					       "user at a time, as with vfio-pci)" :
					       strerror(-rc));
		return rc;
	}
	rc = pdk_vfio_user_version_decode(&m, &major, &minor, &u->server);
	pdk_vfio_user_msg_release(&m);
	if (rc == 0 && (major != VFIO_USER_MAJOR || minor > VFIO_USER_MINOR))
		rc = -EPROTONOSUPPORT;
	if (rc)
		PDK_LOG(ERR, VFIO_LOG, "%s: VERSION reply %s (we speak vfio-user %u.%u)",
			u->name, rc == -EPROTONOSUPPORT ? "names another version" :
			"is malformed", VFIO_USER_MAJOR, VFIO_USER_MINOR);
	u->server.max_msg_fds = PDK_MIN(u->server.max_msg_fds, (uint32_t)PDK_VFIO_USER_FDS_MAX);
	u->server.max_data_xfer_size = PDK_MIN(u->server.max_data_xfer_size, (uint64_t)UC_MAX_XFER);
	return rc;
}

static int device_info(struct udev *u, struct pdk_vfio_dev *dev)
{
	struct vfio_user_device_info info = {.argsz = sizeof(info)};
	struct pdk_vfio_user_msg m;
	int rc = call1(u, VFIO_USER_DEVICE_GET_INFO, &info, sizeof(info), &m);

	if (rc == 0) {
		rc = pdk_vfio_user_device_info_decode(&m, &info);
		pdk_vfio_user_msg_release(&m);
	}
	if (rc == 0 && (!(info.flags & VFIO_DEVICE_FLAGS_PCI) ||
			info.num_regions <= VFIO_PCI_CONFIG_REGION_INDEX))
		rc = -ENODEV;
	if (rc) {
		PDK_LOG(ERR, VFIO_LOG, "%s: %s", u->name, rc == -ENODEV ?
			"the server's device is not a PCI device" :
			"DEVICE_GET_INFO failed");
		return rc;
	}
	dev->info.flags = PDK_VFIO_DEV_PCI |
			  (info.flags & VFIO_DEVICE_FLAGS_RESET ? PDK_VFIO_DEV_RESET : 0);
	dev->info.num_regions = info.num_regions;
	dev->info.num_irqs = info.num_irqs;
	dev->info.iommu_group = -1;
	return 0;
}

static struct udev *udev_new(const char *name)
{
	struct udev *u = calloc(1, sizeof(*u));

	if (u == NULL)
		return NULL;
	snprintf(u->name, sizeof(u->name), "%s", name);
	pthread_mutex_init(&u->lock, NULL);
	for (int i = 0; i < VFIO_MAX_REGIONS; i++)
		u->region_fd[i] = -1;
	u->dom.be = &vfio_user_ops;
	u->dom.priv = u;
	return u;
}

static void udev_free(struct udev *u)
{
	pthread_mutex_destroy(&u->lock);
	free(u);
}

static int user_open(struct pdk_vfio_dev *dev, const char *name)
{
	struct udev *u = udev_new(name);
	int rc;

	if (u == NULL)
		return -ENOMEM;
	u->sock = sock_connect(name, name + strlen("vfio-user:"));
	if (u->sock < 0) {
		rc = u->sock;
		udev_free(u);
		return rc;
	}
	rc = negotiate(u);
	if (rc == 0)
		rc = device_info(u, dev);
	if (rc < 0) {
		close(u->sock);
		udev_free(u);
		return rc;
	}
	dev->priv = u;
	dev->domain = &u->dom;
	dev->page_size = (uint64_t)vfio_sys->page_size();
	return 0;
}

/* The domain (and u) stays until domain_release: the common code releases
 * it after this, once its mappings are gone. */
static void user_close(struct pdk_vfio_dev *dev)
{
	struct udev *u = dev->priv;

	if (u == NULL)
		return;
	for (int i = 0; i < VFIO_MAX_REGIONS; i++)
		if (u->region_fd[i] >= 0)
			close(u->region_fd[i]);
	close(u->sock);
	u->sock = -1;
	u->gone = true;
	dev->priv = NULL;
}

static void user_domain_release(struct pdk_vfio_domain *dom)
{
	udev_free(dom->priv);
}

/* ------------------------------------------------------- regions -- */

/* REGION_INFO, asked again while the reply needs more room. */
static int region_query(struct udev *u, uint32_t index, struct pdk_vfio_user_msg *m)
{
	uint32_t argsz = sizeof(struct vfio_user_region_info);

	for (int tries = 0; tries <= UC_INFO_RETRIES; tries++) {
		struct vfio_user_region_info req = {.argsz = argsz, .index = index};
		struct pdk_vfio_user_region r;
		int rc = call1(u, VFIO_USER_DEVICE_GET_REGION_INFO, &req, sizeof(req), m);

		if (rc)
			return rc;
		rc = pdk_vfio_user_region_info_decode(m, index, argsz, &r);
		if (rc == 0 && r.info.argsz <= argsz)
			return 0;
		pdk_vfio_user_msg_release(m);
		if (rc)
			return rc;
		argsz = r.info.argsz;
	}
	return -EPROTO;
}

static int user_region_info(struct pdk_vfio_dev *dev, uint32_t index,
			    struct pdk_vfio_region *out)
{
	struct udev *u = dev->priv;
	struct pdk_vfio_user_msg m;
	char err[VFIO_ERR_MAX] = "";
	int rc = region_query(u, index, &m);

	if (rc == 0) {
		rc = vfio_region_parse(m.payload, (uint32_t)m.len, out, err, sizeof(err));
		if (rc == 0 && m.nfds) {
			if (u->region_fd[index] >= 0)
				close(u->region_fd[index]);
			u->region_fd[index] = pdk_vfio_user_msg_take_fd(&m, 0);
		}
		out->fd = u->region_fd[index];
		pdk_vfio_user_msg_release(&m);
	}
	if (rc == 0 && (out->flags & PDK_VFIO_REGION_MMAP) && out->fd < 0) {
		PDK_LOG(WARNING, VFIO_LOG, "%s: region %u is mappable but the server sent "
			"no fd for it: its registers go through the slow path", dev->name,
			index);
		out->flags &= ~(uint32_t)(PDK_VFIO_REGION_MMAP | PDK_VFIO_REGION_SPARSE);
	}
	if (rc < 0)
		PDK_LOG(ERR, VFIO_LOG, "%s: region %u info: %s", dev->name, index,
			err[0] ? err : strerror(-rc));
	return rc;
}

/* Split an access into counts the server accepts. */
static ssize_t region_rw(struct pdk_vfio_dev *dev, const struct pdk_vfio_region *r,
			 void *buf, size_t len, uint64_t off, bool write)
{
	struct udev *u = dev->priv;
	uint8_t *p = buf;

	for (size_t done = 0; done < len;) {
		struct vfio_user_region_rw rw = {
			.offset = off + done, .region = r->index,
			.count = (uint32_t)PDK_MIN((uint64_t)(len - done),
						   u->server.max_data_xfer_size)};
		struct iovec iov[2] = {{&rw, sizeof(rw)}, {p + done, write ? rw.count : 0}};
		struct pdk_vfio_user_msg m;
		const void *data;
		int rc = call(u, write ? VFIO_USER_REGION_WRITE : VFIO_USER_REGION_READ,
			      iov, 2, NULL, 0, &m);

		if (rc == 0) {
			rc = pdk_vfio_user_region_rw_reply_decode(&m, write, &rw, &data);
			if (rc == 0 && !write)
				memcpy(p + done, data, rw.count);
			pdk_vfio_user_msg_release(&m);
		}
		if (rc)
			return rc;
		done += rw.count;
	}
	return (ssize_t)len;
}

static ssize_t user_region_read(struct pdk_vfio_dev *dev, const struct pdk_vfio_region *r,
				void *buf, size_t len, uint64_t off)
{
	return region_rw(dev, r, buf, len, off, false);
}

static ssize_t user_region_write(struct pdk_vfio_dev *dev, const struct pdk_vfio_region *r,
				 const void *buf, size_t len, uint64_t off)
{
	return region_rw(dev, r, (void *)(uintptr_t)buf, len, off, true);
}

static void *user_region_mmap(struct pdk_vfio_dev *dev, const struct pdk_vfio_region *r,
			      uint64_t off, size_t len, int prot, void *fixed)
{
	(void)dev;
	if (r->fd < 0) {
		errno = EBADF;
		return MAP_FAILED;
	}
	return vfio_sys->mmap(fixed, len, prot, MAP_SHARED | MAP_FIXED, r->fd,
			      (off_t)(r->offset + off));
}

/* ------------------------------------------------ interrupts, reset -- */

static int user_irq_info(struct pdk_vfio_dev *dev, uint32_t index,
			 struct pdk_vfio_irq_info *out)
{
	struct vfio_user_irq_info info = {.argsz = sizeof(info), .index = index};
	struct pdk_vfio_user_msg m;
	int rc = call1(dev->priv, VFIO_USER_DEVICE_GET_IRQ_INFO, &info, sizeof(info), &m);

	if (rc)
		return rc;
	rc = pdk_vfio_user_irq_info_decode(&m, index, &info);
	pdk_vfio_user_msg_release(&m);
	if (rc)
		return rc;
	out->index = index;
	out->count = info.count;
	out->flags = vfio_irq_flags(info.flags);
	return 0;
}

static int set_irqs_one(struct udev *u, uint32_t index, uint32_t flags, uint32_t start,
			uint32_t count, const int *fds, unsigned nfds)
{
	struct vfio_user_irq_set s = {.argsz = sizeof(s), .flags = flags, .index = index,
				      .start = start, .count = count};
	struct iovec iov = {&s, sizeof(s)};

	return call(u, VFIO_USER_DEVICE_SET_IRQS, &iov, 1, fds, nfds, NULL);
}

/*
 * Eventfds travel as SCM_RIGHTS, at most the server's max_msg_fds at a time;
 * the kernel's "-1: de-assign this vector" becomes a message without fds.
 */
static int user_set_irqs(struct pdk_vfio_dev *dev, uint32_t index, uint32_t flags,
			 uint32_t start, uint32_t count, const int32_t *fds)
{
	struct udev *u = dev->priv;
	uint32_t max = PDK_MAX(u->server.max_msg_fds, 1u);

	if (!(flags & VFIO_IRQ_SET_DATA_EVENTFD) || fds == NULL)
		return (flags & VFIO_IRQ_SET_DATA_BOOL) ? -EINVAL :
		       set_irqs_one(u, index, flags, start, count, NULL, 0);
	for (uint32_t i = 0; i < count;) {
		bool none = fds[i] < 0;
		uint32_t n = 1;
		int rc;

		while (i + n < count && (fds[i + n] < 0) == none && (none || n < max))
			n++;
		rc = set_irqs_one(u, index, flags, start + i, n, none ? NULL : &fds[i],
				  none ? 0 : n);
		if (rc)
			return rc;
		i += n;
	}
	return 0;
}

static int user_reset(struct pdk_vfio_dev *dev)
{
	return call1(dev->priv, VFIO_USER_DEVICE_RESET, NULL, 0, NULL);
}

/* ------------------------------------------------------------- DMA -- */

static int user_iommu_info(struct pdk_vfio_domain *dom, struct pdk_vfio_iommu_info *out)
{
	struct udev *u = dom->priv;

	memset(out, 0, sizeof(*out));
	out->pgsizes = u->server.pgsizes;
	/* any IOVA unless the server stated windows (a PDK extension) */
	out->ranges_known = u->server.nr_iova_ranges > 0;
	out->nr_ranges = PDK_MIN(u->server.nr_iova_ranges, (uint32_t)PDK_VFIO_MAX_IOVA_RANGES);
	for (uint32_t i = 0; i < out->nr_ranges; i++)
		out->ranges[i] = (struct pdk_vfio_iova_range){u->server.iova_ranges[i].start,
							      u->server.iova_ranges[i].end};
	out->dma_avail = u->server.max_dma_maps > u->nr_dma ?
				 (int64_t)(u->server.max_dma_maps - u->nr_dma) : 0;
	return 0;
}

/*
 * Memory without an EAL file may still be a BAR of a vfio-user device (a
 * peer, or the device itself): its region fd shares it.
 */
static int bar_backing(const void *va, size_t len, int *fd, uint64_t *off)
{
	uintptr_t a = (uintptr_t)va;

	for (struct pdk_vfio_dev *d = vfio_dev_first(); d; d = d->next) {
		if (d->be != &vfio_user_ops)
			continue;
		for (int i = 0; i < PDK_VFIO_PCI_BAR_COUNT; i++) {
			uintptr_t base = (uintptr_t)d->bars[i].reserve;

			if (base == 0 || a < base || a - base > d->regions[i].size ||
			    len > d->regions[i].size - (a - base) || d->regions[i].fd < 0)
				continue;
			*fd = d->regions[i].fd;
			*off = d->regions[i].offset + (a - base);
			return 0;
		}
	}
	return -EBADF;
}

static int user_dma_map(struct pdk_vfio_domain *dom, const struct vfio_dma_req *req)
{
	struct udev *u = dom->priv;
	struct vfio_user_dma_map m = {.argsz = sizeof(m), .addr = req->iova, .size = req->len,
				      .flags = VFIO_USER_DMA_F_READ | VFIO_USER_DMA_F_WRITE,
				      .offset = req->fd_offset};
	struct iovec iov = {&m, sizeof(m)};
	int fd = req->fd, rc;

	if (fd < 0 && bar_backing(req->va, req->len, &fd, &m.offset) < 0) {
		PDK_LOG(ERR, VFIO_LOG, "%s: VA %p (0x%" PRIx64 " bytes) has no backing file: "
			"vfio-user shares DMA memory by fd; use EAL memory (pdk_malloc, "
			"memzones)", u->name, req->va, req->len);
		return -EBADF;
	}
	rc = call(u, VFIO_USER_DMA_MAP, &iov, 1, &fd, 1, NULL);
	if (rc == 0)
		u->nr_dma++;
	return rc;
}

static int user_dma_unmap(struct pdk_vfio_domain *dom, uint64_t iova, uint64_t len,
			  uint64_t *unmapped)
{
	struct udev *u = dom->priv;
	struct vfio_user_dma_unmap req = {.argsz = sizeof(req), .addr = iova, .size = len};
	struct pdk_vfio_user_msg m;
	int rc = call1(u, VFIO_USER_DMA_UNMAP, &req, sizeof(req), &m);

	*unmapped = 0;
	if (rc)
		return rc;
	rc = pdk_vfio_user_dma_unmap_reply_decode(&m, &req);
	pdk_vfio_user_msg_release(&m);
	if (rc == 0) {
		*unmapped = len; /* the server echoes exactly what it removed */
		u->nr_dma--;
	}
	return rc;
}

const struct vfio_backend_ops vfio_user_ops = {
	.name = "vfio-user",
	.pins_memory = false, /* memory is shared by fd, the server maps it */
	.entry_limit_hint = "raise the vfio-user server's DMA map limit (pdk-emud: "
			    "max-dma-maps=N)",
	.open = user_open,
	.close = user_close,
	.region_info = user_region_info,
	.region_read = user_region_read,
	.region_write = user_region_write,
	.region_mmap = user_region_mmap,
	.irq_info = user_irq_info,
	.set_irqs = user_set_irqs,
	.reset = user_reset,
	.iommu_info = user_iommu_info,
	.dma_map = user_dma_map,
	.dma_unmap = user_dma_unmap,
	.domain_release = user_domain_release,
};
