/* SPDX-License-Identifier: BSD-3-Clause */
/* The emu tests' minimal vfio-user client; see vu_client.h. */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>
#include <linux/pci_regs.h>

#include "vu_client.h"

int vuc_connect_raw(struct vuc *c, const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	memset(c, 0, sizeof(*c));
	c->next_id = 1;
	pdk_vfio_user_caps_init(&c->server);
	strncpy(sa.sun_path, path, sizeof(sa.sun_path) - 1);
	c->sock = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (c->sock < 0)
		return -errno;
	if (connect(c->sock, (struct sockaddr *)&sa, sizeof(sa))) {
		int rc = -errno;

		close(c->sock);
		c->sock = -1;
		return rc;
	}
	return 0;
}

int vuc_connect(struct vuc *c, const char *path)
{
	int rc = vuc_connect_raw(c, path);

	if (rc == 0)
		rc = vuc_version(c, VFIO_USER_MAJOR, VFIO_USER_MINOR);
	if (rc)
		vuc_close(c);
	return rc;
}

void vuc_close(struct vuc *c)
{
	if (c->sock >= 0)
		close(c->sock);
	c->sock = -1;
}

static uint8_t *local_find(struct vuc *c, uint64_t addr, uint64_t count)
{
	for (unsigned i = 0; i < c->nlocal; i++)
		if (addr >= c->local[i].iova &&
		    addr - c->local[i].iova + count <= c->local[i].size)
			return c->local[i].mem + (addr - c->local[i].iova);
	return NULL;
}

/* Answer a DMA_READ/WRITE from the server out of local memory. */
static void serve_dma(struct vuc *c, struct pdk_vfio_user_msg *m)
{
	bool write = m->hdr.command == VFIO_USER_DMA_WRITE;
	struct vfio_user_dma_rw rw;
	const void *data;
	uint8_t *mem;
	int rc = pdk_vfio_user_dma_rw_decode(m, write, VFIO_USER_DEF_MAX_DATA_XFER,
					     &rw, &data);

	if (m->hdr.command != VFIO_USER_DMA_READ && !write)
		rc = -EINVAL;
	mem = rc ? NULL : local_find(c, rw.addr, rw.count);
	if (rc == 0 && (mem == NULL || c->dma_reply_err))
		rc = mem ? -c->dma_reply_err : -EFAULT;
	c->dma_served++;
	if (rc) {
		pdk_vfio_user_send_error(c->sock, &m->hdr, -rc);
		return;
	}
	if (write) {
		memcpy(mem, data, rw.count);
		pdk_vfio_user_send_reply(c->sock, &m->hdr, &rw,
					 c->dma_write_reply_empty ? 0 : sizeof(rw), NULL, 0);
	} else {
		struct iovec iov[2] = {{&rw, sizeof(rw)}, {mem, rw.count}};
		struct vfio_user_header h = {.msg_id = m->hdr.msg_id,
					     .command = m->hdr.command,
					     .flags = VFIO_USER_F_TYPE_REPLY};

		pdk_vfio_user_sendv(c->sock, &h, iov, 2, NULL, 0);
	}
}

int vuc_callv(struct vuc *c, uint16_t cmd, const void *a, size_t alen,
	      const void *b, size_t blen, const int *fds, unsigned nfds,
	      struct pdk_vfio_user_msg *reply)
{
	struct vfio_user_header h = {.msg_id = c->next_id++, .command = cmd};
	struct iovec iov[2] = {{(void *)(uintptr_t)a, alen},
			       {(void *)(uintptr_t)b, blen}};
	struct pdk_vfio_user_msg m;
	int rc = pdk_vfio_user_sendv(c->sock, &h, iov, 2, fds, nfds);

	while (rc == 0) {
		rc = pdk_vfio_user_recv(c->sock, &m, (64u << 20) + 64, 8,
					VUC_TIMEOUT_MS);
		if (rc)
			break;
		if ((m.hdr.flags & VFIO_USER_F_TYPE_MASK) == VFIO_USER_F_TYPE_COMMAND) {
			serve_dma(c, &m);
			pdk_vfio_user_msg_release(&m);
			continue;
		}
		rc = pdk_vfio_user_reply_check(&m, h.msg_id, cmd);
		if (rc == 0 && reply)
			*reply = m;
		else
			pdk_vfio_user_msg_release(&m);
		return rc;
	}
	return rc;
}

int vuc_call(struct vuc *c, uint16_t cmd, const void *req, size_t len,
	     const int *fds, unsigned nfds, struct pdk_vfio_user_msg *reply)
{
	return vuc_callv(c, cmd, req, len, NULL, 0, fds, nfds, reply);
}

int vuc_version(struct vuc *c, uint16_t major, uint16_t minor)
{
	struct pdk_vfio_user_caps ours;
	struct pdk_vfio_user_msg m;
	uint8_t buf[512];
	uint16_t ma, mi;
	int n, rc;

	pdk_vfio_user_caps_init(&ours);
	ours.max_msg_fds = 8;
	n = pdk_vfio_user_version_encode(buf, sizeof(buf), major, minor, &ours);
	rc = vuc_call(c, VFIO_USER_VERSION, buf, (size_t)n, NULL, 0, &m);
	if (rc)
		return rc;
	rc = pdk_vfio_user_version_decode(&m, &ma, &mi, &c->server);
	if (rc == 0 && (ma != major || mi > minor))
		rc = -EPROTO;
	c->minor = mi;
	pdk_vfio_user_msg_release(&m);
	return rc;
}

int vuc_device_info(struct vuc *c, struct vfio_user_device_info *info)
{
	struct vfio_user_device_info req = {.argsz = sizeof(req)};
	struct pdk_vfio_user_msg m;
	int rc = vuc_call(c, VFIO_USER_DEVICE_GET_INFO, &req, sizeof(req), NULL, 0, &m);

	if (rc)
		return rc;
	rc = pdk_vfio_user_device_info_decode(&m, info);
	pdk_vfio_user_msg_release(&m);
	return rc;
}

int vuc_region_info(struct vuc *c, uint32_t index, struct pdk_vfio_user_region *r,
		    int *fd)
{
	uint32_t argsz = sizeof(struct vfio_user_region_info);

	*fd = -1;
	for (int tries = 0; tries < 3; tries++) {
		struct vfio_user_region_info req = {.argsz = argsz, .index = index};
		struct pdk_vfio_user_msg m;
		int rc = vuc_call(c, VFIO_USER_DEVICE_GET_REGION_INFO, &req,
				  sizeof(req), NULL, 0, &m);

		if (rc)
			return rc;
		rc = pdk_vfio_user_region_info_decode(&m, index, argsz, r);
		if (rc == 0 && r->info.argsz > argsz) {
			argsz = r->info.argsz; /* bigger buffer, ask again */
			pdk_vfio_user_msg_release(&m);
			continue;
		}
		if (rc == 0 && m.nfds)
			*fd = pdk_vfio_user_msg_take_fd(&m, 0);
		pdk_vfio_user_msg_release(&m);
		return rc;
	}
	return -EPROTO;
}

int vuc_irq_info(struct vuc *c, uint32_t index, struct vfio_user_irq_info *i)
{
	struct vfio_user_irq_info req = {.argsz = sizeof(req), .index = index};
	struct pdk_vfio_user_msg m;
	int rc = vuc_call(c, VFIO_USER_DEVICE_GET_IRQ_INFO, &req, sizeof(req), NULL,
			  0, &m);

	if (rc)
		return rc;
	rc = pdk_vfio_user_irq_info_decode(&m, index, i);
	pdk_vfio_user_msg_release(&m);
	return rc;
}

int vuc_set_irqs(struct vuc *c, uint32_t index, uint32_t flags, uint32_t start,
		 uint32_t count, const int *fds, unsigned nfds,
		 const uint8_t *bools)
{
	size_t blen = (flags & VFIO_IRQ_SET_DATA_BOOL) ? count : 0;
	struct vfio_user_irq_set s = {.argsz = (uint32_t)(sizeof(s) + blen),
				      .flags = flags, .index = index,
				      .start = start, .count = count};

	return vuc_callv(c, VFIO_USER_DEVICE_SET_IRQS, &s, sizeof(s), bools, blen,
			 fds, nfds, NULL);
}

int vuc_read(struct vuc *c, uint32_t region, uint64_t off, void *buf,
	     uint32_t len)
{
	struct vfio_user_region_rw rw = {.offset = off, .region = region, .count = len};
	struct pdk_vfio_user_msg m;
	const void *data;
	int rc = vuc_call(c, VFIO_USER_REGION_READ, &rw, sizeof(rw), NULL, 0, &m);

	if (rc)
		return rc;
	rc = pdk_vfio_user_region_rw_reply_decode(&m, false, &rw, &data);
	if (rc == 0)
		memcpy(buf, data, len);
	pdk_vfio_user_msg_release(&m);
	return rc;
}

int vuc_write(struct vuc *c, uint32_t region, uint64_t off, const void *buf,
	      uint32_t len)
{
	struct vfio_user_region_rw rw = {.offset = off, .region = region, .count = len};
	struct pdk_vfio_user_msg m;
	int rc = vuc_callv(c, VFIO_USER_REGION_WRITE, &rw, sizeof(rw), buf, len,
			   NULL, 0, &m);

	if (rc)
		return rc;
	rc = pdk_vfio_user_region_rw_reply_decode(&m, true, &rw, NULL);
	pdk_vfio_user_msg_release(&m);
	return rc;
}

uint32_t vuc_rd32(struct vuc *c, uint32_t region, uint64_t off)
{
	uint32_t v = 0xdeadbeef;

	return vuc_read(c, region, off, &v, sizeof(v)) ? 0xdeadbeef : v;
}

uint64_t vuc_rd64(struct vuc *c, uint32_t region, uint64_t off)
{
	uint64_t v = 0;

	return vuc_read(c, region, off, &v, sizeof(v)) ? ~0ull : v;
}

int vuc_wr32(struct vuc *c, uint32_t region, uint64_t off, uint32_t v)
{
	return vuc_write(c, region, off, &v, sizeof(v));
}

int vuc_wr64(struct vuc *c, uint32_t region, uint64_t off, uint64_t v)
{
	return vuc_write(c, region, off, &v, sizeof(v));
}

int vuc_dma_map(struct vuc *c, uint64_t iova, uint64_t size, int fd,
		uint64_t offset, uint32_t flags)
{
	struct vfio_user_dma_map m = {.argsz = sizeof(m), .flags = flags,
				      .offset = offset, .addr = iova, .size = size};

	return vuc_call(c, VFIO_USER_DMA_MAP, &m, sizeof(m), &fd, fd >= 0 ? 1 : 0,
			NULL);
}

int vuc_dma_map_local(struct vuc *c, uint64_t iova, void *mem, uint64_t size)
{
	int rc = vuc_dma_map(c, iova, size, -1, 0,
			     VFIO_USER_DMA_F_READ | VFIO_USER_DMA_F_WRITE);

	if (rc == 0 && c->nlocal < VUC_LOCAL_MAX) {
		c->local[c->nlocal].iova = iova;
		c->local[c->nlocal].size = size;
		c->local[c->nlocal].mem = mem;
		c->nlocal++;
	}
	return rc;
}

int vuc_dma_unmap(struct vuc *c, uint64_t iova, uint64_t size)
{
	struct vfio_user_dma_unmap u = {.argsz = sizeof(u), .addr = iova, .size = size};
	struct pdk_vfio_user_msg m;
	int rc = vuc_call(c, VFIO_USER_DMA_UNMAP, &u, sizeof(u), NULL, 0, &m);

	if (rc)
		return rc;
	rc = pdk_vfio_user_dma_unmap_reply_decode(&m, &u);
	pdk_vfio_user_msg_release(&m);
	return rc;
}

int vuc_reset(struct vuc *c)
{
	return vuc_call(c, VFIO_USER_DEVICE_RESET, NULL, 0, NULL, 0, NULL);
}

uint16_t vuc_cfg16(struct vuc *c, uint64_t off)
{
	uint16_t v = 0xffff;

	vuc_read(c, VFIO_PCI_CONFIG_REGION_INDEX, off, &v, sizeof(v));
	return v;
}

unsigned vuc_cfg_find_cap(struct vuc *c, uint8_t id)
{
	uint8_t pos = (uint8_t)vuc_cfg16(c, PCI_CAPABILITY_LIST);

	for (int ttl = 48; pos && ttl > 0; ttl--) {
		uint16_t hdr = vuc_cfg16(c, pos);

		if ((hdr & 0xff) == id)
			return pos;
		pos = (uint8_t)(hdr >> 8);
	}
	return 0;
}

int vuc_bus_master(struct vuc *c, bool on)
{
	uint16_t cmd = vuc_cfg16(c, PCI_COMMAND);

	cmd = on ? (cmd | PCI_COMMAND_MASTER | PCI_COMMAND_MEMORY) :
		   (cmd & ~PCI_COMMAND_MASTER);
	return vuc_write(c, VFIO_PCI_CONFIG_REGION_INDEX, PCI_COMMAND, &cmd,
			 sizeof(cmd));
}

void *vuc_map_region(const struct pdk_vfio_user_region *r, int fd)
{
	struct vfio_user_sparse_area whole = {0, r->info.size};
	const struct vfio_user_sparse_area *a = r->sparse ? r->areas : &whole;
	unsigned n = r->sparse ? r->nr_areas : 1;
	uint8_t *base;

	if (fd < 0 || !(r->info.flags & VFIO_REGION_INFO_FLAG_MMAP))
		return NULL;
	base = mmap(NULL, r->info.size, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (base == MAP_FAILED)
		return NULL;
	for (unsigned i = 0; i < n; i++) {
		void *p = mmap(base + a[i].offset, a[i].size, PROT_READ | PROT_WRITE,
			       MAP_SHARED | MAP_FIXED, fd,
			       (off_t)(r->info.offset + a[i].offset));

		if (p == MAP_FAILED) {
			munmap(base, r->info.size);
			return NULL;
		}
	}
	return base;
}

void vuc_unmap_region(const struct pdk_vfio_user_region *r, void *base)
{
	if (base)
		munmap(base, r->info.size);
}

void *vuc_map_bar(struct vuc *c, uint32_t index, struct pdk_vfio_user_region *r)
{
	void *base;
	int fd;

	if (vuc_region_info(c, index, r, &fd))
		return NULL;
	base = vuc_map_region(r, fd);
	if (fd >= 0)
		close(fd);
	return base;
}

int vuc_memfd(size_t size, void **mem)
{
	int fd = memfd_create("vuc-dma", MFD_CLOEXEC);

	if (fd < 0 || ftruncate(fd, (off_t)size))
		return -1;
	*mem = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (*mem == MAP_FAILED) {
		close(fd);
		return -1;
	}
	return fd;
}
