/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The BAR mapping policy, as a pure function (DESIGN.md section 2; the
 * drawings are in doc/vfio.md). For a BAR that can be mmapped:
 *   1. it holds the MSI-X table and the kernel reports MSIX_MAPPABLE:
 *      map it whole (the kernel still virtualises the table for SET_IRQS);
 *   2. it reports sparse areas: map only those;
 *   3. it holds the MSI-X table (kernels before 4.16): map around the
 *      table and PBA, rounded out to the host page size;
 *   4. otherwise map it whole.
 * What is not mapped is reached by read/write on the device: the "slow"
 * ranges. Same input, same plan, on every backend.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>

#include "vfio_private.h"

static void add_range(struct pdk_vfio_range *r, uint32_t *n, uint64_t off, uint64_t len,
		      enum pdk_vfio_why why)
{
	if (len == 0 || *n >= PDK_VFIO_PLAN_MAX)
		return;
	r[(*n)++] = (struct pdk_vfio_range){.offset = off, .len = len, .why = why};
}

/* The gaps between sorted, disjoint ranges `in` over [0, size). */
static void fill_gaps(const struct pdk_vfio_range *in, uint32_t n, uint64_t size,
		      struct pdk_vfio_range *out, uint32_t *nout, enum pdk_vfio_why why)
{
	uint64_t cur = 0;

	for (uint32_t i = 0; i < n; i++) {
		add_range(out, nout, cur, in[i].offset - cur, why);
		cur = in[i].offset + in[i].len;
	}
	add_range(out, nout, cur, size - cur, why);
}

static int plan_whole(struct pdk_vfio_plan *p, enum pdk_vfio_policy policy,
		      enum pdk_vfio_why why)
{
	p->policy = policy;
	add_range(p->mapped, &p->nr_mapped, 0, p->size, why);
	return 0;
}

static int plan_slow(struct pdk_vfio_plan *p, enum pdk_vfio_policy policy,
		     enum pdk_vfio_why why)
{
	p->policy = policy;
	add_range(p->slow, &p->nr_slow, 0, p->size, why);
	return 0;
}

static void sort_areas(struct pdk_vfio_area *a, uint32_t n)
{
	for (uint32_t i = 1; i < n; i++) {
		struct pdk_vfio_area x = a[i];
		uint32_t j = i;

		for (; j > 0 && a[j - 1].offset > x.offset; j--)
			a[j] = a[j - 1];
		a[j] = x;
	}
}

/* An area we can map with MAP_FIXED inside the reservation without
 * covering anything outside it, nor a page of the MSI-X table (`tlo`-`thi`,
 * empty when the table is elsewhere): the kernel never offers such an
 * area, a vfio-user server might. */
static bool area_ok(const struct pdk_vfio_area *a, uint64_t size, uint64_t pg, uint64_t cur,
		    uint64_t tlo, uint64_t thi)
{
	return a->size > 0 && a->offset % pg == 0 && a->offset >= cur && a->offset < size &&
	       a->size <= size - a->offset &&
	       (a->size % pg == 0 || a->offset + a->size == size) &&
	       (a->offset >= thi || a->offset + a->size <= tlo);
}

static bool overlaps(uint64_t off, uint64_t len, const struct pdk_vfio_area *a)
{
	return off < a->offset + a->size && a->offset < off + len;
}

static int plan_sparse(struct pdk_vfio_plan *p, const struct pdk_vfio_region *r,
		       const struct pdk_pci_msix_info *m)
{
	struct pdk_vfio_area a[PDK_VFIO_MAX_SPARSE], bad[PDK_VFIO_MAX_SPARSE];
	uint32_t n = PDK_MIN(r->nr_areas, (uint32_t)PDK_VFIO_MAX_SPARSE), nbad = 0;
	uint64_t cur = 0, tlo = 0, thi = 0;

	p->policy = PDK_VFIO_POLICY_SPARSE;
	if (m && m->table_bar == p->bar) {
		tlo = PDK_ALIGN_FLOOR(m->table_offset, p->page_size);
		thi = PDK_ALIGN_CEIL(m->table_offset + m->table_size, p->page_size);
	}
	memcpy(a, r->areas, n * sizeof(a[0]));
	sort_areas(a, n);
	for (uint32_t i = 0; i < n; i++) {
		if (!area_ok(&a[i], p->size, p->page_size, cur, tlo, thi)) {
			PDK_LOG(WARNING, VFIO_LOG, "BAR %u: sparse area 0x%" PRIx64 "+0x%" PRIx64
				" is misaligned to the 0x%" PRIx64 " page, empty, overlapping, "
				"over the MSI-X table or outside the 0x%" PRIx64 "-byte BAR: not "
				"mapped", p->bar, a[i].offset, a[i].size, p->page_size, p->size);
			bad[nbad++] = a[i];
			continue;
		}
		add_range(p->mapped, &p->nr_mapped, a[i].offset, a[i].size,
			  PDK_VFIO_WHY_SPARSE_AREA);
		cur = a[i].offset + a[i].size;
	}
	fill_gaps(p->mapped, p->nr_mapped, p->size, p->slow, &p->nr_slow,
		  PDK_VFIO_WHY_NOT_SPARSE);
	for (uint32_t i = 0; i < p->nr_slow; i++)
		for (uint32_t j = 0; j < nbad; j++)
			if (overlaps(p->slow[i].offset, p->slow[i].len, &bad[j]))
				p->slow[i].why = PDK_VFIO_WHY_BAD_AREA;
	return 0;
}

/* [off, off+len) rounded out to pages and clipped to the BAR. */
static struct pdk_vfio_range page_hole(uint64_t off, uint64_t len, uint64_t pg,
				       uint64_t size, enum pdk_vfio_why why)
{
	uint64_t start = PDK_ALIGN_FLOOR(off, pg);
	uint64_t end = PDK_ALIGN_CEIL(off + len, pg);

	return (struct pdk_vfio_range){start, PDK_MIN(end, size) - start, why};
}

static int plan_around_msix(struct pdk_vfio_plan *p, const struct pdk_pci_msix_info *m)
{
	struct pdk_vfio_range h[2];
	uint32_t nh = 0;

	p->policy = PDK_VFIO_POLICY_AROUND_MSIX;
	if (m->table_offset >= p->size) {
		/* the capability contradicts the BAR: map nothing we cannot place */
		PDK_LOG(WARNING, VFIO_LOG, "BAR %u: MSI-X table at 0x%" PRIx64 " lies past "
			"the 0x%" PRIx64 "-byte BAR: not mapped", p->bar, m->table_offset,
			p->size);
		return plan_slow(p, PDK_VFIO_POLICY_AROUND_MSIX, PDK_VFIO_WHY_MSIX_TABLE);
	}
	h[nh++] = page_hole(m->table_offset, m->table_size, p->page_size, p->size,
			    PDK_VFIO_WHY_MSIX_TABLE);
	if (m->pba_bar == p->bar && m->pba_offset < p->size)
		h[nh++] = page_hole(m->pba_offset, m->pba_size, p->page_size, p->size,
				    PDK_VFIO_WHY_MSIX_PBA);
	if (nh == 2 && h[1].offset < h[0].offset) {
		struct pdk_vfio_range t = h[0];

		h[0] = h[1];
		h[1] = t;
	}
	if (nh == 2 && h[1].offset <= h[0].offset + h[0].len) {
		uint64_t end = PDK_MAX(h[0].offset + h[0].len, h[1].offset + h[1].len);

		h[0] = (struct pdk_vfio_range){h[0].offset, end - h[0].offset,
					       PDK_VFIO_WHY_MSIX_TABLE_PBA};
		nh = 1;
	}
	for (uint32_t i = 0; i < nh; i++)
		add_range(p->slow, &p->nr_slow, h[i].offset, h[i].len, h[i].why);
	fill_gaps(p->slow, p->nr_slow, p->size, p->mapped, &p->nr_mapped,
		  PDK_VFIO_WHY_OUTSIDE_MSIX);
	return 0;
}

int pdk_vfio_plan_bar(const struct pdk_vfio_region *r, const struct pdk_pci_msix_info *msix,
		      uint64_t page_size, struct pdk_vfio_plan *p)
{
	bool table_here;

	if (p == NULL)
		return -EINVAL;
	memset(p, 0, sizeof(*p));
	if (r == NULL || r->index >= PDK_VFIO_PCI_BAR_COUNT || !PDK_IS_POWER_OF_2(page_size))
		return -EINVAL;
	p->bar = r->index;
	p->size = r->size;
	p->page_size = page_size;
	if (r->size == 0)
		return 0; /* PDK_VFIO_POLICY_ABSENT */
	table_here = msix != NULL && msix->table_bar == r->index;
	if (!(r->flags & PDK_VFIO_REGION_MMAP))
		return plan_slow(p, PDK_VFIO_POLICY_SLOW_ONLY, PDK_VFIO_WHY_NO_MMAP);
	if (table_here && (r->flags & PDK_VFIO_REGION_MSIX_MAPPABLE))
		return plan_whole(p, PDK_VFIO_POLICY_MSIX_MAPPABLE, PDK_VFIO_WHY_MSIX_MAPPABLE);
	if (r->flags & PDK_VFIO_REGION_SPARSE_BAD)
		return plan_slow(p, PDK_VFIO_POLICY_SPARSE, PDK_VFIO_WHY_SPARSE_UNUSABLE);
	if (r->flags & PDK_VFIO_REGION_SPARSE)
		return plan_sparse(p, r, msix);
	if (table_here)
		return plan_around_msix(p, msix);
	return plan_whole(p, PDK_VFIO_POLICY_WHOLE, PDK_VFIO_WHY_WHOLE);
}

const char *pdk_vfio_policy_str(enum pdk_vfio_policy pol)
{
	static const char *const s[] = {
		[PDK_VFIO_POLICY_ABSENT] = "absent",
		[PDK_VFIO_POLICY_MSIX_MAPPABLE] = "msix-mappable",
		[PDK_VFIO_POLICY_SPARSE] = "sparse",
		[PDK_VFIO_POLICY_AROUND_MSIX] = "around-msix",
		[PDK_VFIO_POLICY_WHOLE] = "whole",
		[PDK_VFIO_POLICY_SLOW_ONLY] = "slow-only",
	};

	return (unsigned)pol < PDK_DIM(s) ? s[pol] : "?";
}

const char *pdk_vfio_why_str(enum pdk_vfio_why w)
{
	static const char *const s[] = {
		[PDK_VFIO_WHY_WHOLE] = "whole BAR, no MSI-X table in it",
		[PDK_VFIO_WHY_MSIX_MAPPABLE] = "whole BAR, the kernel allows mapping the "
					       "MSI-X table page (MSIX_MAPPABLE)",
		[PDK_VFIO_WHY_SPARSE_AREA] = "sparse mmap area",
		[PDK_VFIO_WHY_OUTSIDE_MSIX] = "clear of the MSI-X table and PBA pages",
		[PDK_VFIO_WHY_NO_MMAP] = "region cannot be mmapped",
		[PDK_VFIO_WHY_NOT_SPARSE] = "outside every sparse mmap area",
		[PDK_VFIO_WHY_BAD_AREA] = "sparse area rejected (misaligned, overlapping, "
					  "over the MSI-X table or outside the BAR)",
		[PDK_VFIO_WHY_SPARSE_UNUSABLE] = "sparse mmap capability not understood",
		[PDK_VFIO_WHY_MSIX_TABLE] = "page(s) holding the MSI-X table",
		[PDK_VFIO_WHY_MSIX_PBA] = "page(s) holding the MSI-X PBA",
		[PDK_VFIO_WHY_MSIX_TABLE_PBA] = "page(s) holding the MSI-X table and PBA",
	};

	return (unsigned)w < PDK_DIM(s) ? s[w] : "?";
}
