/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * BARs and regions. All BARs of a device live in one sealed memfd, each at
 * a 64 KiB-aligned offset, mapped once by the server; the client maps the
 * same pages from the fd sent with the region info, so register memory has
 * one copy and REGION_READ/WRITE touch the very bytes mapped accesses do.
 * The region offset the client must pass to mmap is each BAR's place in
 * the memfd, which is not the same for every BAR: clients have to use
 * the offset they were given, as with the kernel (seed 001).
 *
 * The MSI-X table is never backed by anything the client can program:
 * like vfio-pci, slow-path reads of it return all-ones and writes are
 * dropped; vectors are set with SET_IRQS.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "emu_private.h"

struct range {
	uint64_t start, end;
};

int pdk_emu_dev_add_bar(struct pdk_emu_dev *dev, unsigned bar, uint64_t size,
			unsigned flags)
{
	bool mem64 = flags & PDK_EMU_BAR_MEM64;

	if (bar >= EMU_NUM_BARS || !PDK_IS_POWER_OF_2(size) || size < 4096 ||
	    (mem64 && bar == EMU_NUM_BARS - 1) || dev->bars[bar].size ||
	    (bar > 0 && dev->bars[bar - 1].size &&
	     (dev->bars[bar - 1].flags & PDK_EMU_BAR_MEM64)) ||
	    (mem64 && dev->bars[bar + 1].size) || (!mem64 && size > (1ull << 31)))
		return -EINVAL;
	dev->bars[bar].size = size;
	dev->bars[bar].flags = flags;
	return 0;
}

int pdk_emu_dev_trap(struct pdk_emu_dev *dev, unsigned bar, uint64_t off,
		     uint64_t len)
{
	struct emu_bar *b;

	if (bar >= EMU_NUM_BARS)
		return -EINVAL;
	b = &dev->bars[bar];
	if (b->ntraps == EMU_TRAPS_MAX || len == 0 || off >= b->size ||
	    len > b->size - off)
		return -EINVAL;
	b->traps[b->ntraps].off = off;
	b->traps[b->ntraps].len = len;
	b->ntraps++;
	return 0;
}

int pdk_emu_dev_set_msix(struct pdk_emu_dev *dev, unsigned vectors,
			 unsigned shared_bar, uint64_t shared_off, unsigned own_bar)
{
	if (vectors == 0 || vectors > EMU_MSIX_MAX || shared_bar >= EMU_NUM_BARS ||
	    own_bar >= EMU_NUM_BARS || (shared_off & 7))
		return -EINVAL;
	dev->msix.vectors = dev->opts.vectors ? dev->opts.vectors : vectors;
	if (dev->opts.msix_layout == EMU_MSIX_SHARED) {
		dev->msix.bar = shared_bar;
		dev->msix.table_off = shared_off;
	} else {
		dev->msix.bar = own_bar;
		dev->msix.table_off = 0;
	}
	return 0;
}

void *pdk_emu_bar_mem(struct pdk_emu_dev *dev, unsigned bar)
{
	return bar < EMU_NUM_BARS ? dev->bars[bar].mem : NULL;
}

uint64_t pdk_emu_bar_size(const struct pdk_emu_dev *dev, unsigned bar)
{
	return bar < EMU_NUM_BARS ? dev->bars[bar].size : 0;
}

unsigned pdk_emu_msix_vectors(const struct pdk_emu_dev *dev)
{
	return dev->msix.vectors;
}

static uint64_t table_size(const struct emu_msix *x)
{
	return (uint64_t)x->vectors * 16;
}

static uint64_t pba_size(const struct emu_msix *x)
{
	return PDK_ALIGN_CEIL((uint64_t)x->vectors, 64u) / 8;
}

/* Place the table and PBA; with msix=own add their BAR. */
static int msix_place(struct pdk_emu_dev *dev)
{
	struct emu_msix *x = &dev->msix;
	uint64_t need;

	if (x->vectors == 0)
		return 0;
	x->pba_off = PDK_ALIGN_CEIL(x->table_off + table_size(x), 8u);
	if (dev->opts.msix_layout == EMU_MSIX_OWN) {
		need = pdk_align64pow2(x->pba_off + pba_size(x));
		if (pdk_emu_dev_add_bar(dev, x->bar, PDK_MAX(need, 4096u), 0)) {
			pdk_emu_dev_error(dev, "msix=own: BAR %u is taken", x->bar);
			return -EINVAL;
		}
		return 0;
	}
	if (x->pba_off + pba_size(x) > dev->bars[x->bar].size ||
	    x->pba_off + pba_size(x) > PDK_ALIGN_CEIL(x->table_off + 1, 4096u)) {
		pdk_emu_dev_error(dev, "vectors=%u: the MSI-X table does not fit in "
			     "BAR %u's register page; use msix=own or fewer "
			     "vectors", x->vectors, x->bar);
		return -EINVAL;
	}
	return 0;
}

static int memfd_setup(struct pdk_emu_dev *dev)
{
	const unsigned seals = F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL;
	uint64_t off = 0;
	void *mem;

	for (unsigned i = 0; i < EMU_NUM_BARS; i++) {
		if (dev->bars[i].size == 0)
			continue;
		dev->bars[i].fd_off = off;
		off += PDK_ALIGN_CEIL(dev->bars[i].size, (uint64_t)EMU_BAR_ALIGN);
	}
	if (off == 0)
		return 0;
	dev->memfd = memfd_create("pdk-emu-bars", MFD_CLOEXEC | MFD_ALLOW_SEALING);
	if (dev->memfd < 0)
		return -errno;
	/* sealed: a client cannot shrink the file under our mapping (SIGBUS) */
	if (ftruncate(dev->memfd, (off_t)off) || fcntl(dev->memfd, F_ADD_SEALS, seals))
		return -errno;
	mem = mmap(NULL, off, PROT_READ | PROT_WRITE, MAP_SHARED, dev->memfd, 0);
	if (mem == MAP_FAILED)
		return -errno;
	dev->memsize = off;
	for (unsigned i = 0; i < EMU_NUM_BARS; i++)
		if (dev->bars[i].size)
			dev->bars[i].mem = (uint8_t *)mem + dev->bars[i].fd_off;
	return 0;
}

int emu_bars_setup(struct pdk_emu_dev *dev)
{
	int rc = msix_place(dev);

	if (rc)
		return rc;
	rc = memfd_setup(dev);
	if (rc)
		pdk_emu_dev_error(dev, "BAR memory: memfd of %llu bytes: %s",
			     (unsigned long long)dev->memsize, strerror(-rc));
	return rc;
}

void emu_bars_free(struct pdk_emu_dev *dev)
{
	uint8_t *base = NULL;

	for (unsigned i = 0; i < EMU_NUM_BARS && !base; i++)
		if (dev->bars[i].mem)
			base = dev->bars[i].mem - dev->bars[i].fd_off;
	if (base)
		munmap(base, dev->memsize);
	if (dev->memfd >= 0)
		close(dev->memfd);
	dev->memfd = -1;
}

void emu_bars_fill(struct pdk_emu_dev *dev, uint8_t byte)
{
	for (unsigned i = 0; i < EMU_NUM_BARS; i++)
		if (dev->bars[i].mem)
			memset(dev->bars[i].mem, byte, dev->bars[i].size);
}

void emu_bars_reset(struct pdk_emu_dev *dev)
{
	const struct emu_msix *x = &dev->msix;

	emu_bars_fill(dev, 0);
	if (x->vectors)
		memset(dev->bars[x->bar].mem + x->table_off, 0xff, table_size(x));
}

/* Sort holes by start (at most EMU_TRAPS_MAX + 1 of them). */
static void sort_ranges(struct range *r, unsigned n)
{
	for (unsigned i = 1; i < n; i++)
		for (unsigned j = i; j > 0 && r[j].start < r[j - 1].start; j--) {
			struct range t = r[j];

			r[j] = r[j - 1];
			r[j - 1] = t;
		}
}

/*
 * The mappable areas of a BAR: the BAR minus its holes, each hole rounded
 * out to the emulated host page size, as an old kernel computed them
 * (seed 000: with 64 KiB pages a hole can swallow registers).
 */
static unsigned bar_areas(const struct pdk_emu_dev *dev, unsigned bar,
			  bool hide_table, struct vfio_user_sparse_area *out)
{
	const struct emu_bar *b = &dev->bars[bar];
	const uint64_t pg = dev->opts.page_size;
	struct range holes[EMU_TRAPS_MAX + 1];
	unsigned nh = 0, n = 0;
	uint64_t cur = 0;

	for (unsigned i = 0; i < b->ntraps; i++)
		holes[nh++] = (struct range){b->traps[i].off,
					     b->traps[i].off + b->traps[i].len};
	if (hide_table)
		holes[nh++] = (struct range){dev->msix.table_off,
					     dev->msix.table_off + table_size(&dev->msix)};
	for (unsigned i = 0; i < nh; i++) {
		holes[i].start = PDK_ALIGN_FLOOR(holes[i].start, pg);
		holes[i].end = PDK_MIN(PDK_ALIGN_CEIL(holes[i].end, pg), b->size);
	}
	sort_ranges(holes, nh);
	for (unsigned i = 0; i < nh; i++) {
		if (holes[i].start > cur)
			out[n++] = (struct vfio_user_sparse_area){cur, holes[i].start - cur};
		cur = PDK_MAX(cur, holes[i].end);
	}
	if (cur < b->size)
		out[n++] = (struct vfio_user_sparse_area){cur, b->size - cur};
	return n;
}

/* FLAG_MMAP and its capabilities for one BAR, by the msix-mmap knob. */
static void bar_mmap_policy(const struct pdk_emu_dev *dev, unsigned bar,
			    struct pdk_vfio_user_region *r)
{
	const struct emu_bar *b = &dev->bars[bar];
	bool msix_bar = dev->msix.vectors && dev->msix.bar == bar;
	enum emu_msix_mmap mode = dev->opts.msix_mmap;
	unsigned n;

	if (b->flags & PDK_EMU_BAR_NO_MMAP || (msix_bar && mode == EMU_MMAP_SLOW))
		return;
	n = bar_areas(dev, bar, msix_bar && mode == EMU_MMAP_SPARSE, r->areas);
	if (n == 0)
		return; /* the holes swallowed the whole BAR */
	r->info.flags |= VFIO_REGION_INFO_FLAG_MMAP;
	r->info.offset = b->fd_off;
	/* a kernel never reports both: with traps, the areas say it all */
	r->msix_mappable = msix_bar && mode == EMU_MMAP_WHOLE && b->ntraps == 0;
	if (n > 1 || r->areas[0].offset != 0 || r->areas[0].size != b->size) {
		r->sparse = true;
		r->nr_areas = n;
	}
}

uint64_t emu_region_size(const struct pdk_emu_dev *dev, uint32_t index)
{
	if (index < EMU_NUM_BARS)
		return dev->bars[index].size;
	if (index == VFIO_PCI_CONFIG_REGION_INDEX)
		return dev->cfg.size;
	return 0;
}

int emu_region_info(struct pdk_emu_dev *dev, uint32_t index,
		    struct pdk_vfio_user_region *r)
{
	memset(r, 0, sizeof(*r));
	if (index >= VFIO_PCI_NUM_REGIONS)
		return -EINVAL;
	r->info.index = index;
	r->info.size = emu_region_size(dev, index);
	if (r->info.size)
		r->info.flags = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;
	if (index < EMU_NUM_BARS && r->info.size)
		bar_mmap_policy(dev, index, r);
	return 0;
}

/* Overlap of [off, off+len) with [start, start+size), as offsets in it. */
static bool overlap(uint64_t off, uint32_t len, uint64_t start, uint64_t size,
		    uint64_t *from, uint64_t *to)
{
	*from = PDK_MAX(off, start);
	*to = PDK_MIN(off + len, start + size);
	return *from < *to;
}

static int check_access(const struct pdk_emu_dev *dev, uint32_t index,
			uint64_t off, uint32_t len)
{
	uint64_t size = emu_region_size(dev, index);

	if (size == 0 || off >= size || len > size - off)
		return -EINVAL;
	return 0;
}

int emu_region_read(struct pdk_emu_dev *dev, uint32_t index, uint64_t off,
		    void *buf, uint32_t len)
{
	const struct emu_msix *x = &dev->msix;
	uint64_t from, to;

	if (check_access(dev, index, off, len))
		return -EINVAL;
	if (index == VFIO_PCI_CONFIG_REGION_INDEX) {
		emu_cfg_read(dev, off, buf, len);
		return 0;
	}
	emu_stat_add(dev, &dev->stats.slow_reads, 1);
	if (!emu_alive(dev)) {
		memset(buf, 0xff, len);
		return 0;
	}
	if (dev->model->bar_read)
		dev->model->bar_read(dev, index, off, len);
	memcpy(buf, dev->bars[index].mem + off, len);
	if (x->vectors && x->bar == index &&
	    overlap(off, len, x->table_off, table_size(x), &from, &to))
		memset((uint8_t *)buf + (from - off), 0xff, to - from);
	return 0;
}

/* Copy [off, off+len) into BAR memory except what lies in [skip, skip_end). */
static void copy_except(uint8_t *mem, uint64_t off, const uint8_t *src,
			uint32_t len, uint64_t skip, uint64_t skip_end)
{
	uint64_t end = off + len;

	if (skip_end <= off || skip >= end) {
		memcpy(mem + off, src, len);
		return;
	}
	if (skip > off)
		memcpy(mem + off, src, skip - off);
	if (skip_end < end)
		memcpy(mem + skip_end, src + (skip_end - off), end - skip_end);
}

int emu_region_write(struct pdk_emu_dev *dev, uint32_t index, uint64_t off,
		     const void *buf, uint32_t len)
{
	const struct emu_msix *x = &dev->msix;
	uint64_t skip = 0, skip_end = 0;

	if (check_access(dev, index, off, len))
		return -EINVAL;
	if (index == VFIO_PCI_CONFIG_REGION_INDEX) {
		emu_cfg_write(dev, off, buf, len);
		return 0;
	}
	emu_stat_add(dev, &dev->stats.slow_writes, 1);
	if (!emu_alive(dev))
		return 0;
	if (x->vectors && x->bar == index) {
		/* table and PBA are adjacent: writes to either are dropped */
		skip = x->table_off;
		skip_end = x->pba_off + pba_size(x);
	}
	copy_except(dev->bars[index].mem, off, buf, len, skip, skip_end);
	if (dev->model->bar_write)
		dev->model->bar_write(dev, index, off, len);
	return 0;
}

/* Keep the PBA in BAR memory in step with the pending bits. */
void emu_msix_pba_update(struct pdk_emu_dev *dev, unsigned vec, bool pending)
{
	const struct emu_msix *x = &dev->msix;
	uint8_t *p = dev->bars[x->bar].mem + x->pba_off + vec / 8;
	uint8_t bit = (uint8_t)(1u << (vec % 8));

	if (pending)
		__atomic_fetch_or(p, bit, __ATOMIC_RELAXED);
	else
		__atomic_fetch_and(p, (uint8_t)~bit, __ATOMIC_RELAXED);
}
