/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The emulated IOMMU: a sorted table of what the client mapped, nothing
 * else. Memory that came with an fd is mmapped here (the fd is closed at
 * once, the mapping keeps the file); memory without one is reached with
 * DMA_READ/WRITE messages to the client. An access outside the table, or
 * without the permission, or into this device's own BARs, or with Bus
 * Master off, is a fault returned to the model, which reports it the way
 * its device would.
 */
#include <errno.h>
#include <inttypes.h>
#include <linux/pci_regs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "emu_private.h"

/* Index of the first mapping whose end lies above `iova`. */
static unsigned lower_bound(const struct emu_dma *d, uint64_t iova)
{
	unsigned lo = 0, hi = d->n;

	while (lo < hi) {
		unsigned mid = (lo + hi) / 2;
		const struct emu_dma_map *m = &d->maps[mid];

		if (iova - m->iova >= m->size && iova > m->iova)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct emu_dma_map *dma_find(struct emu_dma *d, uint64_t iova)
{
	unsigned i = lower_bound(d, iova);

	if (i < d->n && iova >= d->maps[i].iova &&
	    iova - d->maps[i].iova < d->maps[i].size)
		return &d->maps[i];
	return NULL;
}

static int dma_grow(struct emu_dma *d)
{
	unsigned cap = d->cap ? d->cap * 2 : 16;
	struct emu_dma_map *m;

	if (d->n < d->cap)
		return 0;
	m = realloc(d->maps, cap * sizeof(*m));
	if (m == NULL)
		return -ENOMEM;
	d->maps = m;
	d->cap = cap;
	return 0;
}

/* The fd must be a file holding [offset, offset+size); is it our BARs? */
static int check_fd(struct pdk_emu_dev *dev, int fd, uint64_t offset,
		    uint64_t size, bool *self)
{
	struct stat st, bars;

	if (fstat(fd, &st))
		return -errno;
	if (!S_ISREG(st.st_mode) || (uint64_t)st.st_size < offset + size)
		return -EINVAL; /* mapping past the end would SIGBUS us */
	*self = dev->memfd >= 0 && fstat(dev->memfd, &bars) == 0 &&
		bars.st_dev == st.st_dev && bars.st_ino == st.st_ino;
	return 0;
}

static int map_fd(struct pdk_emu_dev *dev, struct emu_dma_map *e, int fd)
{
	int prot = ((e->prot & VFIO_USER_DMA_F_READ) ? PROT_READ : 0) |
		   ((e->prot & VFIO_USER_DMA_F_WRITE) ? PROT_WRITE : 0);
	int rc = check_fd(dev, fd, e->offset, e->size, &e->self);
	void *p;

	if (rc)
		return rc;
	p = mmap(NULL, e->size, prot ? prot : PROT_NONE, MAP_SHARED, fd,
		 (off_t)e->offset);
	if (p == MAP_FAILED)
		return -errno;
	e->mem = p;
	return 0;
}

/* Inside one of the advertised IOVA ranges (all of them when none is). */
static bool in_iova_ranges(const struct emu_opts *o, uint64_t iova, uint64_t size)
{
	uint64_t last = iova + size - 1;

	if (o->nr_iova_ranges == 0)
		return true;
	for (uint32_t i = 0; i < o->nr_iova_ranges; i++)
		if (iova >= o->iova_ranges[i].start && last <= o->iova_ranges[i].end)
			return true;
	return false;
}

/*
 * IOVA and size aligned to the smallest page size offered (the IOMMU's
 * rule), the file offset to the host page (mmap's rule); inside the valid
 * IOVA ranges (EINVAL, as the kernel answers); no overlap; room.
 */
static int map_check(struct pdk_emu_dev *dev, const struct vfio_user_dma_map *m,
		     int fd, unsigned *pos)
{
	const struct emu_dma *d = &dev->dma;
	uint64_t pg = dev->opts.pgsizes & -dev->opts.pgsizes;
	uint64_t host = (uint64_t)sysconf(_SC_PAGESIZE);
	unsigned i;

	if (((m->addr | m->size) & (pg - 1)) || (fd >= 0 && (m->offset & (host - 1))) ||
	    !in_iova_ranges(&dev->opts, m->addr, m->size))
		return -EINVAL;
	if (d->n >= dev->opts.max_dma_maps)
		return -ENOSPC;
	i = lower_bound(d, m->addr);
	if (i < d->n && (d->maps[i].iova < m->addr ||
			 d->maps[i].iova - m->addr < m->size))
		return -EEXIST;
	*pos = i;
	return 0;
}

int emu_dma_map(struct pdk_emu_dev *dev, const struct vfio_user_dma_map *m,
		int fd)
{
	struct emu_dma *d = &dev->dma;
	struct emu_dma_map e = {.iova = m->addr, .size = m->size,
				.offset = m->offset, .prot = m->flags, .fd = fd};
	unsigned pos;
	int rc = map_check(dev, m, fd, &pos);

	if (rc == 0)
		rc = dma_grow(d);
	if (rc == 0 && fd >= 0)
		rc = map_fd(dev, &e, fd);
	if (fd >= 0)
		close(fd); /* the mapping keeps the file */
	if (rc)
		return rc;
	memmove(&d->maps[pos + 1], &d->maps[pos], (d->n - pos) * sizeof(e));
	d->maps[pos] = e;
	d->n++;
	d->gen++;
	emu_stat_add(dev, &dev->stats.dma_maps, 1);
	EMU_LOG(DEBUG, dev, "DMA map iova 0x%" PRIx64 " size 0x%" PRIx64 "%s%s",
		e.iova, e.size, fd >= 0 ? " (fd)" : " (messages)",
		e.self ? " (own BAR)" : "");
	return 0;
}

static void unmap_one(struct emu_dma_map *e)
{
	if (e->mem)
		munmap(e->mem, e->size);
	e->mem = NULL;
}

int emu_dma_unmap(struct pdk_emu_dev *dev, uint64_t iova, uint64_t size)
{
	struct emu_dma *d = &dev->dma;
	struct emu_dma_map *e = dma_find(d, iova);
	unsigned i;

	if (e == NULL || e->iova != iova || e->size != size)
		return -ENOENT; /* spec: must match a mapping exactly */
	unmap_one(e);
	i = (unsigned)(e - d->maps);
	memmove(e, e + 1, (d->n - i - 1) * sizeof(*e));
	d->n--;
	d->gen++;
	return 0;
}

void emu_dma_clear(struct pdk_emu_dev *dev)
{
	struct emu_dma *d = &dev->dma;

	for (unsigned i = 0; i < d->n; i++)
		unmap_one(&d->maps[i]);
	free(d->maps);
	d->maps = NULL;
	d->n = d->cap = 0;
	d->gen++;
}

uint64_t pdk_emu_dma_gen(const struct pdk_emu_dev *dev)
{
	return dev->dma.gen;
}

bool pdk_emu_dev_bus_master(const struct pdk_emu_dev *dev)
{
	return dev->cfg.hw[PCI_COMMAND] & PCI_COMMAND_MASTER;
}

uint64_t pdk_emu_dma_fault_iova(const struct pdk_emu_dev *dev)
{
	return dev->dma.fault_iova;
}

static int dma_fault(struct pdk_emu_dev *dev, uint64_t iova, size_t len,
		     bool write, int err)
{
	if (err == -EFAULT)
		dev->dma.fault_iova = iova;
	emu_stat_add(dev, &dev->stats.dma_faults, 1);
	EMU_LOG(INFO, dev, "DMA %s iova 0x%" PRIx64 " len %zu refused: %s",
		write ? "write" : "read", iova, len,
		err == -EFAULT ? "not mapped (IOMMU fault)" :
		err == -EACCES ? "mapping lacks the permission" :
		err == -EXDEV ? "target is the device's own BAR" :
		err == -EPERM ? "bus master disabled" :
		err == -ECONNRESET ? "client gone" : "device gone");
	return err;
}

/* The mapping holding `iova` if the device may access it, else -errno. */
static struct emu_dma_map *dma_check(struct pdk_emu_dev *dev, uint64_t iova,
				     bool write, int *err)
{
	struct emu_dma_map *e;

	*err = 0;
	if (!emu_alive(dev))
		*err = -ENODEV;
	else if (!pdk_emu_dev_bus_master(dev))
		*err = -EPERM;
	else if ((e = dma_find(&dev->dma, iova)) == NULL)
		*err = -EFAULT;
	else if (!(e->prot & (write ? VFIO_USER_DMA_F_WRITE : VFIO_USER_DMA_F_READ)))
		*err = -EACCES;
	else if (e->self)
		*err = -EXDEV;
	else
		return e;
	return NULL;
}

/* One chunk through DMA_READ/DMA_WRITE messages to the client. */
static int dma_msg(struct pdk_emu_dev *dev, bool write, uint64_t iova,
		   void *buf, size_t len)
{
	uint64_t max = PDK_MIN(dev->peer.max_data_xfer_size, dev->opts.max_xfer);

	while (len) {
		struct vfio_user_dma_rw req = {.addr = iova, .count = PDK_MIN(len, max)};
		struct pdk_vfio_user_msg reply;
		const void *data = NULL;
		int rc;

		/* a refusal by the client is a fault, a lost client is not */
		rc = emu_request(dev, write ? VFIO_USER_DMA_WRITE : VFIO_USER_DMA_READ,
				 &req, sizeof(req), write ? buf : NULL,
				 write ? req.count : 0, &reply);
		if (rc)
			return rc == -ECONNRESET ? rc : -EFAULT;
		rc = pdk_vfio_user_dma_rw_reply_decode(&reply, write, &req, &data);
		if (rc == 0 && !write)
			memcpy(buf, data, req.count);
		pdk_vfio_user_msg_release(&reply);
		if (rc)
			return -EFAULT;
		iova += req.count;
		buf = (uint8_t *)buf + req.count;
		len -= req.count;
	}
	return 0;
}

static int dma_access(struct pdk_emu_dev *dev, uint64_t iova, void *buf,
		      size_t len, bool write)
{
	while (len) {
		int err;
		struct emu_dma_map *e = dma_check(dev, iova, write, &err);
		uint64_t in = e ? iova - e->iova : 0;
		size_t n;

		if (e == NULL)
			return dma_fault(dev, iova, len, write, err);
		n = (size_t)PDK_MIN((uint64_t)len, e->size - in);
		if (e->mem == NULL) {
			err = dma_msg(dev, write, iova, buf, n);
			if (err)
				return dma_fault(dev, iova, n, write, err);
		} else if (write) {
			memcpy(e->mem + in, buf, n);
		} else {
			memcpy(buf, e->mem + in, n);
		}
		buf = (uint8_t *)buf + n;
		iova += n;
		len -= n;
		if (len && iova == 0)
			return dma_fault(dev, iova, len, write, -EFAULT);
	}
	return 0;
}

int pdk_emu_dma_read(struct pdk_emu_dev *dev, uint64_t iova, void *buf,
		     size_t len)
{
	return dma_access(dev, iova, buf, len, false);
}

int pdk_emu_dma_write(struct pdk_emu_dev *dev, uint64_t iova, const void *buf,
		      size_t len)
{
	return dma_access(dev, iova, (void *)(uintptr_t)buf, len, true);
}

void *pdk_emu_dma_ptr(struct pdk_emu_dev *dev, uint64_t iova, size_t len,
		      bool write)
{
	int err;
	struct emu_dma_map *e = dma_check(dev, iova, write, &err);

	if (e && (e->mem == NULL || len > e->size - (iova - e->iova)))
		err = -EFAULT; /* crosses a mapping's end, or no fd */
	if (err) {
		errno = -err; /* a lookup: the caller reports the fault, or falls back */
		return NULL;
	}
	return e->mem + (iova - e->iova);
}
