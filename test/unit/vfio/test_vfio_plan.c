/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The BAR mapping policy: the pure plan for every layout of DESIGN.md
 * section 2, then the same layouts through the fake kernel, checking the
 * plan of the opened device and the mmap calls it made.
 */
#include "pdk_test.h"

#include <sys/mman.h>

#include <pdk_vfio.h>

#include "fake_kernel.h"

#define K4 0x1000ULL
#define K64 0x10000ULL

struct exp {
	uint64_t off, len;
	enum pdk_vfio_why why;
};

#define EXP(...) ((const struct exp[]){__VA_ARGS__})
#define NEXP(...) (sizeof((const struct exp[]){__VA_ARGS__}) / sizeof(struct exp))

static void check_ranges(const char *what, const struct pdk_vfio_range *r, uint32_t n,
			 const struct exp *e, uint32_t ne)
{
	if (n != ne)
		fail_msg("%s: %u ranges, expected %u", what, n, ne);
	for (uint32_t i = 0; i < n; i++)
		if (r[i].offset != e[i].off || r[i].len != e[i].len || r[i].why != e[i].why)
			fail_msg("%s[%u]: 0x%llx+0x%llx (%s), expected 0x%llx+0x%llx (%s)", what, i,
				 (unsigned long long)r[i].offset, (unsigned long long)r[i].len,
				 pdk_vfio_why_str(r[i].why), (unsigned long long)e[i].off,
				 (unsigned long long)e[i].len, pdk_vfio_why_str(e[i].why));
}

#define CHECK_PLAN(p, pol, m_, nm, s_, ns)                                            \
	do {                                                                          \
		assert_string_equal(pdk_vfio_policy_str((p)->policy),                 \
				    pdk_vfio_policy_str(pol));                        \
		check_ranges("mapped", (p)->mapped, (p)->nr_mapped, m_, nm);          \
		check_ranges("slow", (p)->slow, (p)->nr_slow, s_, ns);                \
	} while (0)

static struct pdk_vfio_region bar(uint32_t index, uint64_t size, uint32_t flags)
{
	return (struct pdk_vfio_region){.index = index, .size = size, .flags = flags, .fd = -1};
}

#define MMAP_RW (PDK_VFIO_REGION_READ | PDK_VFIO_REGION_WRITE | PDK_VFIO_REGION_MMAP)

static struct pdk_pci_msix_info msix(uint32_t tbar, uint64_t toff, uint32_t pbar,
				     uint64_t poff, uint32_t nvec)
{
	return (struct pdk_pci_msix_info){.nr_vectors = nvec, .table_bar = tbar,
					  .table_offset = toff, .table_size = nvec * 16ULL,
					  .pba_bar = pbar, .pba_offset = poff,
					  .pba_size = (nvec + 63) / 64 * 8ULL};
}

/* --------------------------------------------------------- pure plans -- */

static void test_msix_mappable(void **state)
{
	struct pdk_vfio_region r = bar(0, 0x4000, MMAP_RW | PDK_VFIO_REGION_MSIX_MAPPABLE);
	struct pdk_pci_msix_info m = msix(0, 0x2000, 0, 0x3000, 4);
	struct pdk_vfio_plan p;

	(void)state;
	assert_int_equal(pdk_vfio_plan_bar(&r, &m, K64, &p), 0);
	CHECK_PLAN(&p, PDK_VFIO_POLICY_MSIX_MAPPABLE,
		   EXP({0, 0x4000, PDK_VFIO_WHY_MSIX_MAPPABLE}), 1, NULL, 0);
	/* the capability on a BAR without the table changes nothing */
	r.index = 2;
	assert_int_equal(pdk_vfio_plan_bar(&r, &m, K4, &p), 0);
	CHECK_PLAN(&p, PDK_VFIO_POLICY_WHOLE, EXP({0, 0x4000, PDK_VFIO_WHY_WHOLE}), 1, NULL, 0);
}

static void test_sparse_one_area(void **state)
{
	struct pdk_vfio_region r = bar(0, 0x4000, MMAP_RW | PDK_VFIO_REGION_SPARSE);
	struct pdk_pci_msix_info m = msix(0, 0x2000, 0, 0x3000, 4);
	struct pdk_vfio_plan p;

	(void)state;
	r.nr_areas = 1;
	r.areas[0] = (struct pdk_vfio_area){0, 0x2000};
	assert_int_equal(pdk_vfio_plan_bar(&r, &m, K4, &p), 0);
	CHECK_PLAN(&p, PDK_VFIO_POLICY_SPARSE, EXP({0, 0x2000, PDK_VFIO_WHY_SPARSE_AREA}), 1,
		   EXP({0x2000, 0x2000, PDK_VFIO_WHY_NOT_SPARSE}), 1);
}

static void test_sparse_two_areas(void **state)
{
	struct pdk_vfio_region r = bar(1, 0x10000, MMAP_RW | PDK_VFIO_REGION_SPARSE);
	struct pdk_vfio_plan p;

	(void)state;
	r.nr_areas = 2; /* reported out of order: the plan sorts */
	r.areas[0] = (struct pdk_vfio_area){0x9000, 0x7000};
	r.areas[1] = (struct pdk_vfio_area){0, 0x8000};
	assert_int_equal(pdk_vfio_plan_bar(&r, NULL, K4, &p), 0);
	CHECK_PLAN(&p, PDK_VFIO_POLICY_SPARSE,
		   EXP({0, 0x8000, PDK_VFIO_WHY_SPARSE_AREA},
		       {0x9000, 0x7000, PDK_VFIO_WHY_SPARSE_AREA}), 2,
		   EXP({0x8000, 0x1000, PDK_VFIO_WHY_NOT_SPARSE}), 1);
}

static void test_sparse_bad_areas(void **state)
{
	struct pdk_vfio_region r = bar(0, 0x10000, MMAP_RW | PDK_VFIO_REGION_SPARSE);
	struct pdk_vfio_plan p;

	(void)state;
	r.nr_areas = 3;
	r.areas[0] = (struct pdk_vfio_area){0, 0x4000};
	r.areas[1] = (struct pdk_vfio_area){0x3000, 0x2000};  /* overlaps the first */
	r.areas[2] = (struct pdk_vfio_area){0x8800, 0x1000};  /* misaligned */
	test_log_capture(PDK_LOG_WARNING);
	assert_int_equal(pdk_vfio_plan_bar(&r, NULL, K4, &p), 0);
	test_log_release();
	CHECK_PLAN(&p, PDK_VFIO_POLICY_SPARSE, EXP({0, 0x4000, PDK_VFIO_WHY_SPARSE_AREA}), 1,
		   EXP({0x4000, 0xc000, PDK_VFIO_WHY_BAD_AREA}), 1);
	assert_log_contains("sparse area 0x3000+0x2000 is misaligned to the 0x1000 page, "
			    "empty, overlapping, over the MSI-X table or outside the "
			    "0x10000-byte BAR: not mapped");
	/* an area running past the BAR */
	r.nr_areas = 1;
	r.areas[0] = (struct pdk_vfio_area){0x8000, 0x10000};
	assert_int_equal(pdk_vfio_plan_bar(&r, NULL, K4, &p), 0);
	CHECK_PLAN(&p, PDK_VFIO_POLICY_SPARSE, NULL, 0,
		   EXP({0, 0x10000, PDK_VFIO_WHY_BAD_AREA}), 1);
}

/* A sparse area over the MSI-X table's page is not mapped, whoever
 * offered it (the kernel never does; a vfio-user server might). */
static void test_sparse_over_table(void **state)
{
	struct pdk_vfio_region r = bar(0, 0x4000, MMAP_RW | PDK_VFIO_REGION_SPARSE);
	struct pdk_pci_msix_info m = msix(0, 0x2000, 0, 0x3000, 4);
	struct pdk_vfio_plan p;

	(void)state;
	r.nr_areas = 2;
	r.areas[0] = (struct pdk_vfio_area){0, 0x1000};
	r.areas[1] = (struct pdk_vfio_area){0x1000, 0x3000};
	test_log_capture(PDK_LOG_WARNING);
	assert_int_equal(pdk_vfio_plan_bar(&r, &m, K4, &p), 0);
	test_log_release();
	CHECK_PLAN(&p, PDK_VFIO_POLICY_SPARSE, EXP({0, 0x1000, PDK_VFIO_WHY_SPARSE_AREA}), 1,
		   EXP({0x1000, 0x3000, PDK_VFIO_WHY_BAD_AREA}), 1);
	assert_log_contains("sparse area 0x1000+0x3000 is misaligned");
}

static void test_sparse_unusable(void **state)
{
	struct pdk_vfio_region r = bar(0, 0x4000, MMAP_RW | PDK_VFIO_REGION_SPARSE_BAD);
	struct pdk_vfio_plan p;

	(void)state;
	assert_int_equal(pdk_vfio_plan_bar(&r, NULL, K4, &p), 0);
	CHECK_PLAN(&p, PDK_VFIO_POLICY_SPARSE, NULL, 0,
		   EXP({0, 0x4000, PDK_VFIO_WHY_SPARSE_UNUSABLE}), 1);
}

static void test_around_table_start(void **state)
{
	struct pdk_vfio_region r = bar(0, 0x4000, MMAP_RW);
	struct pdk_pci_msix_info m = msix(0, 0, 0, 0x800, 4);
	struct pdk_vfio_plan p;

	(void)state;
	assert_int_equal(pdk_vfio_plan_bar(&r, &m, K4, &p), 0);
	CHECK_PLAN(&p, PDK_VFIO_POLICY_AROUND_MSIX,
		   EXP({0x1000, 0x3000, PDK_VFIO_WHY_OUTSIDE_MSIX}), 1,
		   EXP({0, 0x1000, PDK_VFIO_WHY_MSIX_TABLE_PBA}), 1);
}

static void test_around_table_middle(void **state)
{
	struct pdk_vfio_region r = bar(0, 0x10000, MMAP_RW);
	struct pdk_pci_msix_info m = msix(0, 0x4000, 0, 0xf000, 64);
	struct pdk_vfio_plan p;

	(void)state;
	assert_int_equal(pdk_vfio_plan_bar(&r, &m, K4, &p), 0);
	CHECK_PLAN(&p, PDK_VFIO_POLICY_AROUND_MSIX,
		   EXP({0, 0x4000, PDK_VFIO_WHY_OUTSIDE_MSIX},
		       {0x5000, 0xa000, PDK_VFIO_WHY_OUTSIDE_MSIX}), 2,
		   EXP({0x4000, 0x1000, PDK_VFIO_WHY_MSIX_TABLE},
		       {0xf000, 0x1000, PDK_VFIO_WHY_MSIX_PBA}), 2);
}

static void test_around_table_end(void **state)
{
	struct pdk_vfio_region r = bar(0, 0x4000, MMAP_RW);
	struct pdk_pci_msix_info m = msix(0, 0x3000, 0, 0x3800, 4);
	struct pdk_vfio_plan p;

	(void)state;
	assert_int_equal(pdk_vfio_plan_bar(&r, &m, K4, &p), 0);
	CHECK_PLAN(&p, PDK_VFIO_POLICY_AROUND_MSIX,
		   EXP({0, 0x3000, PDK_VFIO_WHY_OUTSIDE_MSIX}), 1,
		   EXP({0x3000, 0x1000, PDK_VFIO_WHY_MSIX_TABLE_PBA}), 1);
}

/* Seed 004's SAS3008: BAR1 of 64 KiB with the table at 0xe000 and the PBA
 * at 0xf000. 4 KiB pages lose two pages; 64 KiB pages lose the whole BAR. */
static void test_around_64k_pages(void **state)
{
	struct pdk_vfio_region r = bar(1, 0x10000, MMAP_RW);
	struct pdk_pci_msix_info m = msix(1, 0xe000, 1, 0xf000, 96);
	struct pdk_vfio_plan p;

	(void)state;
	assert_int_equal(pdk_vfio_plan_bar(&r, &m, K4, &p), 0);
	CHECK_PLAN(&p, PDK_VFIO_POLICY_AROUND_MSIX,
		   EXP({0, 0xe000, PDK_VFIO_WHY_OUTSIDE_MSIX}), 1,
		   EXP({0xe000, 0x2000, PDK_VFIO_WHY_MSIX_TABLE_PBA}), 1);
	assert_int_equal(pdk_vfio_plan_bar(&r, &m, K64, &p), 0);
	CHECK_PLAN(&p, PDK_VFIO_POLICY_AROUND_MSIX, NULL, 0,
		   EXP({0, 0x10000, PDK_VFIO_WHY_MSIX_TABLE_PBA}), 1);
	/* a 128 KiB BAR with the table in its second half keeps the first */
	r.size = 0x20000;
	m = msix(1, 0x1e000, 1, 0x1f000, 96);
	assert_int_equal(pdk_vfio_plan_bar(&r, &m, K64, &p), 0);
	CHECK_PLAN(&p, PDK_VFIO_POLICY_AROUND_MSIX,
		   EXP({0, 0x10000, PDK_VFIO_WHY_OUTSIDE_MSIX}), 1,
		   EXP({0x10000, 0x10000, PDK_VFIO_WHY_MSIX_TABLE_PBA}), 1);
	/* middle of a 256 KiB BAR, 64 KiB pages */
	r.size = 0x40000;
	m = msix(1, 0x20000, 3, 0, 16);
	assert_int_equal(pdk_vfio_plan_bar(&r, &m, K64, &p), 0);
	CHECK_PLAN(&p, PDK_VFIO_POLICY_AROUND_MSIX,
		   EXP({0, 0x20000, PDK_VFIO_WHY_OUTSIDE_MSIX},
		       {0x30000, 0x10000, PDK_VFIO_WHY_OUTSIDE_MSIX}), 2,
		   EXP({0x20000, 0x10000, PDK_VFIO_WHY_MSIX_TABLE}), 1);
}

static void test_table_covers_bar(void **state)
{
	struct pdk_vfio_region r = bar(4, 0x1000, MMAP_RW);
	struct pdk_pci_msix_info m = msix(4, 0, 5, 0, 256); /* 4 KiB of table */
	struct pdk_vfio_plan p;

	(void)state;
	assert_int_equal(pdk_vfio_plan_bar(&r, &m, K4, &p), 0);
	CHECK_PLAN(&p, PDK_VFIO_POLICY_AROUND_MSIX, NULL, 0,
		   EXP({0, 0x1000, PDK_VFIO_WHY_MSIX_TABLE}), 1);
	/* the PBA's own BAR is mapped whole (rule 4) */
	r.index = 5;
	assert_int_equal(pdk_vfio_plan_bar(&r, &m, K4, &p), 0);
	CHECK_PLAN(&p, PDK_VFIO_POLICY_WHOLE, EXP({0, 0x1000, PDK_VFIO_WHY_WHOLE}), 1, NULL, 0);
	/* a table the capability places past the BAR: nothing mapped */
	r.index = 4;
	m = msix(4, 0x2000, 4, 0x3000, 4);
	test_log_capture(PDK_LOG_WARNING);
	assert_int_equal(pdk_vfio_plan_bar(&r, &m, K4, &p), 0);
	test_log_release();
	CHECK_PLAN(&p, PDK_VFIO_POLICY_AROUND_MSIX, NULL, 0,
		   EXP({0, 0x1000, PDK_VFIO_WHY_MSIX_TABLE}), 1);
	assert_log_contains("BAR 4: MSI-X table at 0x2000 lies past the 0x1000-byte BAR");
}

static void test_no_mmap_and_whole(void **state)
{
	struct pdk_vfio_region r = bar(2, 0x2000, PDK_VFIO_REGION_READ | PDK_VFIO_REGION_WRITE);
	struct pdk_pci_msix_info m = msix(2, 0, 2, 0x800, 4);
	struct pdk_vfio_plan p;

	(void)state;
	assert_int_equal(pdk_vfio_plan_bar(&r, &m, K4, &p), 0);
	CHECK_PLAN(&p, PDK_VFIO_POLICY_SLOW_ONLY, NULL, 0,
		   EXP({0, 0x2000, PDK_VFIO_WHY_NO_MMAP}), 1);
	r.flags = MMAP_RW;
	assert_int_equal(pdk_vfio_plan_bar(&r, NULL, K4, &p), 0);
	CHECK_PLAN(&p, PDK_VFIO_POLICY_WHOLE, EXP({0, 0x2000, PDK_VFIO_WHY_WHOLE}), 1, NULL, 0);
	/* a BAR smaller than the page is still mapped whole */
	r.size = 0x100;
	assert_int_equal(pdk_vfio_plan_bar(&r, NULL, K64, &p), 0);
	CHECK_PLAN(&p, PDK_VFIO_POLICY_WHOLE, EXP({0, 0x100, PDK_VFIO_WHY_WHOLE}), 1, NULL, 0);
}

static void test_absent_and_invalid(void **state)
{
	struct pdk_vfio_region r = bar(3, 0, 0);
	struct pdk_vfio_plan p;

	(void)state;
	assert_int_equal(pdk_vfio_plan_bar(&r, NULL, K4, &p), 0);
	CHECK_PLAN(&p, PDK_VFIO_POLICY_ABSENT, NULL, 0, NULL, 0);
	r.size = 0x1000;
	assert_int_equal(pdk_vfio_plan_bar(&r, NULL, 3000, &p), -EINVAL);
	r.index = 7; /* config space is not a BAR */
	assert_int_equal(pdk_vfio_plan_bar(&r, NULL, K4, &p), -EINVAL);
	assert_string_equal(pdk_vfio_why_str(PDK_VFIO_WHY_MSIX_PBA),
			    "page(s) holding the MSI-X PBA");
}

/* ----------------------------------------------- through the fake kernel -- */

static int setup(void **state)
{
	(void)state;
	fk_start();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fk_stop();
	return 0;
}

/* Open, map, and check the plan of BAR `b` and the mmaps made for it. */
static struct pdk_vfio_dev *open_mapped(uint32_t b, struct pdk_vfio_plan *p)
{
	struct pdk_vfio_dev *d = pdk_vfio_dev_open(FK_BDF, 0);

	assert_non_null(d);
	assert_int_equal(pdk_vfio_dev_map_bars(d), 0);
	assert_int_equal(pdk_vfio_dev_plan(d, b, p), 0);
	return d;
}

/* The device mmaps of BAR b are exactly the plan's mapped ranges, page
 * rounded, at the region offset the kernel gave. */
static void check_mmaps(uint32_t b, const struct pdk_vfio_plan *p)
{
	int n = 0;

	for (int i = 0; i < fk.nr_mmaps; i++) {
		uint64_t off = fk.mmaps[i].off - fk.regions[b].offset;

		if (fk.mmaps[i].off < fk.regions[b].offset || off >= fk.regions[b].size)
			continue;
		assert_true((uint32_t)n < p->nr_mapped);
		assert_int_equal(off, p->mapped[n].offset);
		assert_int_equal(fk.mmaps[i].len, PDK_ALIGN_CEIL(p->mapped[n].len, p->page_size));
		n++;
	}
	assert_int_equal(n, p->nr_mapped);
}

static void test_shim_msix_mappable(void **state)
{
	struct pdk_vfio_plan p;
	struct pdk_vfio_dev *d;

	(void)state;
	fk_cap_msix_mappable(&fk.regions[0]);
	d = open_mapped(0, &p);
	CHECK_PLAN(&p, PDK_VFIO_POLICY_MSIX_MAPPABLE,
		   EXP({0, 0x4000, PDK_VFIO_WHY_MSIX_MAPPABLE}), 1, NULL, 0);
	check_mmaps(0, &p);
	assert_true(pdk_vfio_dev_bar(d, 0)->whole);
	pdk_vfio_dev_close(d);
}

static void test_shim_sparse(void **state)
{
	const struct vfio_region_sparse_mmap_area one[] = {{0, 0x2000}};
	const struct vfio_region_sparse_mmap_area two[] = {{0, 0x1000}, {0x3000, 0x1000}};
	struct pdk_vfio_plan p;
	struct pdk_vfio_dev *d;

	(void)state;
	fk_cap_sparse(&fk.regions[0], 1, one);
	fk_cap_sparse(&fk.regions[2], 2, two);
	fk.regions[2].size = 0x4000;
	d = open_mapped(0, &p);
	CHECK_PLAN(&p, PDK_VFIO_POLICY_SPARSE, EXP({0, 0x2000, PDK_VFIO_WHY_SPARSE_AREA}), 1,
		   EXP({0x2000, 0x2000, PDK_VFIO_WHY_NOT_SPARSE}), 1);
	check_mmaps(0, &p);
	assert_int_equal(pdk_vfio_dev_plan(d, 2, &p), 0);
	CHECK_PLAN(&p, PDK_VFIO_POLICY_SPARSE,
		   EXP({0, 0x1000, PDK_VFIO_WHY_SPARSE_AREA},
		       {0x3000, 0x1000, PDK_VFIO_WHY_SPARSE_AREA}), 2,
		   EXP({0x1000, 0x2000, PDK_VFIO_WHY_NOT_SPARSE}), 1);
	check_mmaps(2, &p);
	assert_false(pdk_vfio_dev_bar(d, 2)->whole);
	pdk_vfio_dev_close(d);
}

/* No capability: the table at the start, middle and end, 4 and 64 KiB. */
static void test_shim_around_msix(void **state)
{
	static const struct {
		uint32_t toff, poff;
		long page;
		struct exp mapped[2], slow[2];
		uint32_t nm, ns;
	} cases[] = {
		{0x0000, 0x0800, 0x1000, {{0x1000, 0xf000, PDK_VFIO_WHY_OUTSIDE_MSIX}},
		 {{0, 0x1000, PDK_VFIO_WHY_MSIX_TABLE_PBA}}, 1, 1},
		{0x8000, 0x8800, 0x1000, {{0, 0x8000, PDK_VFIO_WHY_OUTSIDE_MSIX},
					  {0x9000, 0x7000, PDK_VFIO_WHY_OUTSIDE_MSIX}},
		 {{0x8000, 0x1000, PDK_VFIO_WHY_MSIX_TABLE_PBA}}, 2, 1},
		{0xe000, 0xf000, 0x1000, {{0, 0xe000, PDK_VFIO_WHY_OUTSIDE_MSIX}},
		 {{0xe000, 0x2000, PDK_VFIO_WHY_MSIX_TABLE_PBA}}, 1, 1},
		{0x0000, 0x0800, 0x10000, {{0}}, {{0, 0x10000, PDK_VFIO_WHY_MSIX_TABLE_PBA}}, 0, 1},
	};

	(void)state;
	for (size_t i = 0; i < PDK_DIM(cases); i++) {
		struct pdk_vfio_plan p;
		struct pdk_vfio_dev *d;

		setup(NULL);
		fk.regions[0].size = 0x10000;
		fk.page_size = cases[i].page;
		fk_set_msix(0, cases[i].toff, 0, cases[i].poff, 4);
		d = open_mapped(0, &p);
		CHECK_PLAN(&p, PDK_VFIO_POLICY_AROUND_MSIX, cases[i].mapped, cases[i].nm,
			   cases[i].slow, cases[i].ns);
		check_mmaps(0, &p);
		pdk_vfio_dev_close(d);
		teardown(NULL);
	}
	setup(NULL);
}

static void test_shim_no_mmap(void **state)
{
	struct pdk_vfio_plan p;
	struct pdk_vfio_dev *d;

	(void)state;
	fk.regions[2].flags &= ~VFIO_REGION_INFO_FLAG_MMAP;
	d = open_mapped(2, &p);
	CHECK_PLAN(&p, PDK_VFIO_POLICY_SLOW_ONLY, NULL, 0,
		   EXP({0, 0x2000, PDK_VFIO_WHY_NO_MMAP}), 1);
	check_mmaps(2, &p);
	assert_null(pdk_vfio_dev_bar(d, 2)->addr);
	assert_null(pdk_vfio_dev_bar(d, 1));
	assert_int_equal(errno, ENOENT);
	pdk_vfio_dev_close(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_msix_mappable),
		cmocka_unit_test(test_sparse_one_area),
		cmocka_unit_test(test_sparse_two_areas),
		cmocka_unit_test(test_sparse_bad_areas),
		cmocka_unit_test(test_sparse_over_table),
		cmocka_unit_test(test_sparse_unusable),
		cmocka_unit_test(test_around_table_start),
		cmocka_unit_test(test_around_table_middle),
		cmocka_unit_test(test_around_table_end),
		cmocka_unit_test(test_around_64k_pages),
		cmocka_unit_test(test_table_covers_bar),
		cmocka_unit_test(test_no_mmap_and_whole),
		cmocka_unit_test(test_absent_and_invalid),
		cmocka_unit_test_setup_teardown(test_shim_msix_mappable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shim_sparse, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shim_around_msix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shim_no_mmap, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
