/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: VFIO info replies (the kernel's, or a vfio-user server's)
 * and the BAR plans made from them. Input: [selector][page shift][MSI-X
 * table/PBA placement: 12 bytes][reply...]. A parsed region must give a plan
 * whose ranges are sorted, disjoint, cover the BAR, start mapped ranges on
 * a page, and never map a page of the MSI-X table unless the kernel said
 * MSIX_MAPPABLE; a parsed IOMMU reply must hold sorted, non-backwards
 * ranges. Errors must say why.
 */
#include <stdlib.h>
#include <string.h>

#include "vfio_private.h"
#include "../common/fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_ranges(const struct pdk_vfio_plan *p)
{
	const struct pdk_vfio_range *r[2] = {p->mapped, p->slow};
	uint32_t n[2] = {p->nr_mapped, p->nr_slow}, i[2] = {0, 0};
	uint64_t cur = 0;

	/* merge the two sorted lists: they must tile [0, size) exactly */
	while (i[0] < n[0] || i[1] < n[1]) {
		int k = i[1] >= n[1] || (i[0] < n[0] && r[0][i[0]].offset < r[1][i[1]].offset) ? 0 : 1;
		const struct pdk_vfio_range *x = &r[k][i[k]++];

		FUZZ_CHECK(x->offset == cur && x->len != 0);
		FUZZ_CHECK(k == 1 || x->offset % p->page_size == 0); /* MAP_FIXED */
		cur += x->len;
	}
	FUZZ_CHECK(p->policy == PDK_VFIO_POLICY_ABSENT || cur == p->size);
}

/* No mapped range may touch a page of the MSI-X table (rule 3). */
static void check_table(const struct pdk_vfio_plan *p, const struct pdk_pci_msix_info *m)
{
	uint64_t lo = PDK_ALIGN_FLOOR(m->table_offset, p->page_size);
	uint64_t hi = PDK_ALIGN_CEIL(m->table_offset + m->table_size, p->page_size);

	if (p->policy == PDK_VFIO_POLICY_MSIX_MAPPABLE || m->table_bar != p->bar)
		return;
	for (uint32_t i = 0; i < p->nr_mapped; i++)
		FUZZ_CHECK(p->mapped[i].offset >= hi || lo >= p->mapped[i].offset + p->mapped[i].len);
}

static void fuzz_region(const uint8_t *d, size_t size, uint64_t pg,
			const struct pdk_pci_msix_info *m)
{
	struct pdk_vfio_region r;
	struct pdk_vfio_plan p;
	char err[VFIO_ERR_MAX] = "";

	if (vfio_region_parse(d, (uint32_t)size, &r, err, sizeof(err)) < 0) {
		FUZZ_CHECK(err[0] != '\0'); /* every refusal says why */
		return;
	}
	r.index %= PDK_VFIO_PCI_BAR_COUNT;
	r.size &= (1ULL << 40) - 1; /* BARs above 1 TiB are not our concern here */
	FUZZ_CHECK(pdk_vfio_plan_bar(&r, m, pg, &p) == 0);
	check_ranges(&p);
	if (m)
		check_table(&p, m);
}

static void fuzz_iommu(const uint8_t *d, size_t size)
{
	struct pdk_vfio_iommu_info info;
	char err[VFIO_ERR_MAX] = "";

	if (vfio_iommu_parse(d, (uint32_t)size, &info, err, sizeof(err)) < 0) {
		FUZZ_CHECK(err[0] != '\0');
		return;
	}
	for (uint32_t i = 0; i < info.nr_ranges; i++)
		FUZZ_CHECK(info.ranges[i].start <= info.ranges[i].end &&
			   (i == 0 || info.ranges[i - 1].start <= info.ranges[i].start));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pdk_pci_msix_info m = {0};
	uint32_t t[3];
	uint64_t pg;
	uint8_t *copy;

	if (size < 14 || size > 65536)
		return 0;
	pdk_log_set_level(NULL, PDK_LOG_ERR); /* rejected areas are expected here */
	pg = 1ULL << (12 + data[1] % 5); /* 4 KiB .. 64 KiB */
	memcpy(t, data + 2, sizeof(t));
	m.table_bar = t[0] % 6;
	m.pba_bar = (t[0] >> 8) % 6;
	m.nr_vectors = ((t[0] >> 16) & 0x7ff) + 1;
	m.table_offset = t[1] & 0xfffffff8u;
	m.table_size = m.nr_vectors * 16ULL;
	m.pba_offset = t[2] & 0xfffffff8u;
	m.pba_size = (m.nr_vectors + 63) / 64 * 8ULL;
	/* the parsers get exactly the reply's bytes, so ASan sees overreads */
	copy = malloc(size - 14);
	if (copy == NULL)
		return 0;
	memcpy(copy, data + 14, size - 14);
	if (data[0] & 1)
		fuzz_iommu(copy, size - 14);
	else
		fuzz_region(copy, size - 14, pg, (data[0] & 2) ? NULL : &m);
	free(copy);
	return 0;
}
