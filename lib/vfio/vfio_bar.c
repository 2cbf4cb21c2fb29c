/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * BAR mappings and the slow half of the BAR accessors.
 *
 * Each BAR with something to map gets one PROT_NONE reservation of its
 * (page-rounded) size; the plan's mapped ranges are mapped over it with
 * MAP_FIXED, so the BAR has one base address and its holes fault instead of
 * reaching another mapping. Registers in the holes go through the backend's
 * region read/write.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <sys/mman.h>

#include "vfio_private.h"
#include "vfio_sys.h"

static int map_bar(struct pdk_vfio_dev *dev, struct vfio_bar_state *b)
{
	const struct pdk_vfio_region *r = &dev->regions[b->pub.index];
	const struct pdk_vfio_plan *p = &b->plan;
	size_t len = PDK_ALIGN_CEIL(p->size, dev->page_size);
	int prot = ((r->flags & PDK_VFIO_REGION_READ) ? PROT_READ : 0) |
		   ((r->flags & PDK_VFIO_REGION_WRITE) ? PROT_WRITE : 0);
	uint8_t *base;

	if (p->nr_mapped == 0 || b->reserve != NULL)
		return 0;
	base = vfio_sys->mmap(NULL, len, PROT_NONE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE,
			      -1, 0);
	if (base == MAP_FAILED) {
		int e = errno;

		PDK_LOG(ERR, VFIO_LOG, "%s: cannot reserve %zu bytes of address space for "
			"BAR %u: %s", dev->name, len, b->pub.index, strerror(e));
		return -e;
	}
	for (uint32_t i = 0; i < p->nr_mapped; i++) {
		const struct pdk_vfio_range *m = &p->mapped[i];
		size_t mlen = PDK_ALIGN_CEIL(m->len, dev->page_size);

		if (dev->be->region_mmap(dev, r, m->offset, mlen, prot, base + m->offset) ==
		    MAP_FAILED) {
			int e = errno;

			PDK_LOG(ERR, VFIO_LOG, "%s: mmap of BAR %u at 0x%" PRIx64 "+0x%zx "
				"(%s) failed: %s", dev->name, b->pub.index, m->offset, mlen,
				pdk_vfio_why_str(m->why), strerror(e));
			vfio_sys->munmap(base, len); /* takes the fixed maps with it */
			return -e;
		}
	}
	b->reserve = base;
	b->reserve_len = len;
	b->pub.addr = base;
	b->pub.whole = p->nr_slow == 0;
	return 0;
}

int pdk_vfio_dev_map_bars(struct pdk_vfio_dev *dev)
{
	int rc = 0;

	pthread_mutex_lock(&vfio_lock);
	for (int i = 0; i < PDK_VFIO_PCI_BAR_COUNT && rc == 0; i++)
		rc = map_bar(dev, &dev->bars[i]);
	if (rc < 0)
		vfio_bars_unmap(dev);
	pthread_mutex_unlock(&vfio_lock);
	return rc;
}

void vfio_bars_unmap(struct pdk_vfio_dev *dev)
{
	for (int i = 0; i < PDK_VFIO_PCI_BAR_COUNT; i++) {
		struct vfio_bar_state *b = &dev->bars[i];

		if (b->reserve)
			vfio_sys->munmap(b->reserve, b->reserve_len);
		b->reserve = NULL;
		b->reserve_len = 0;
		b->pub.addr = NULL;
		b->pub.whole = false;
	}
}

struct pdk_vfio_bar *pdk_vfio_dev_bar(struct pdk_vfio_dev *dev, unsigned index)
{
	if (index >= PDK_VFIO_PCI_BAR_COUNT || dev->bars[index].pub.size == 0) {
		errno = ENOENT;
		return NULL;
	}
	return &dev->bars[index].pub;
}

static const struct vfio_bar_state *bar_state(const struct pdk_vfio_bar *bar)
{
	return &bar->dev->bars[bar->index];
}

/* The mapping covers [off, off+size): use it, no syscall. */
static bool mapped(const struct pdk_vfio_bar *bar, uint64_t off, unsigned size)
{
	const struct pdk_vfio_plan *p = &bar_state(bar)->plan;

	if (bar->addr == NULL)
		return false;
	for (uint32_t i = 0; i < p->nr_mapped; i++)
		if (off >= p->mapped[i].offset && off - p->mapped[i].offset + size <= p->mapped[i].len)
			return true;
	return false;
}

static bool access_ok(const struct pdk_vfio_bar *bar, uint64_t off, unsigned size,
		      const char *what)
{
	if ((size == 1 || size == 2 || size == 4 || size == 8) && off % size == 0 &&
	    off < bar->size && bar->size - off >= size)
		return true;
	PDK_LOG(ERR, VFIO_LOG, "%s: %u-byte %s at 0x%" PRIx64 " of BAR %u is misaligned or "
		"outside its 0x%" PRIx64 " bytes", bar->dev->name, size, what, off, bar->index,
		bar->size);
	return false;
}

static uint64_t mmio_load(const uint8_t *p, unsigned size)
{
	uint64_t v;

	switch (size) {
	case 1: v = *(const volatile uint8_t *)p; break;
	case 2: v = le16toh(*(const volatile uint16_t *)(const void *)p); break;
	case 4: v = le32toh(*(const volatile uint32_t *)(const void *)p); break;
	default: v = le64toh(*(const volatile uint64_t *)(const void *)p); break;
	}
	pdk_io_rmb();
	return v;
}

static void mmio_store(uint8_t *p, unsigned size, uint64_t v)
{
	pdk_io_wmb();
	switch (size) {
	case 1: *(volatile uint8_t *)p = (uint8_t)v; break;
	case 2: *(volatile uint16_t *)(void *)p = htole16((uint16_t)v); break;
	case 4: *(volatile uint32_t *)(void *)p = htole32((uint32_t)v); break;
	default: *(volatile uint64_t *)(void *)p = htole64(v); break;
	}
}

uint64_t pdk_vfio_bar_read_slow(const struct pdk_vfio_bar *bar, uint64_t off, unsigned size)
{
	struct pdk_vfio_dev *dev = bar->dev;
	uint64_t le = 0;
	ssize_t n;

	if (!access_ok(bar, off, size, "read"))
		return ~0ULL;
	if (mapped(bar, off, size))
		return mmio_load(bar->addr + off, size);
	/* a plain event counter: relaxed, no ordering edge */
	atomic_fetch_add_explicit(&dev->slow_reads[bar->index], 1, memory_order_relaxed);
	n = dev->be->region_read(dev, &dev->regions[bar->index], &le, size, off);
	if (n < 0) {
		PDK_LOG(ERR, VFIO_LOG, "%s: read of BAR %u at 0x%" PRIx64 " failed: %s",
			dev->name, bar->index, off, strerror((int)-n));
		return ~0ULL;
	}
	return le64toh(le); /* the low `size` bytes were filled, in wire order */
}

void pdk_vfio_bar_write_slow(const struct pdk_vfio_bar *bar, uint64_t off, unsigned size,
			     uint64_t val)
{
	struct pdk_vfio_dev *dev = bar->dev;
	uint64_t le = htole64(val);
	ssize_t n;

	if (!access_ok(bar, off, size, "write"))
		return;
	if (mapped(bar, off, size)) {
		mmio_store(bar->addr + off, size, val);
		return;
	}
	atomic_fetch_add_explicit(&dev->slow_writes[bar->index], 1, memory_order_relaxed);
	pdk_io_wmb(); /* same ordering promise as a mapped write */
	n = dev->be->region_write(dev, &dev->regions[bar->index], &le, size, off);
	if (n < 0)
		PDK_LOG(ERR, VFIO_LOG, "%s: write of BAR %u at 0x%" PRIx64 " failed: %s",
			dev->name, bar->index, off, strerror((int)-n));
}
