/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Every BAR layout and advertisement knob: the exact region info and
 * sparse areas each one produces (64 KiB rounding included), the MSI-X
 * capability pointing at the right place, and register accesses landing
 * where they should: through the mapping where an area covers them, else
 * through REGION_READ/WRITE, and in the same memory either way.
 */
#include "emu_test.h"

#include <linux/pci_regs.h>

#define MMAP VFIO_REGION_INFO_FLAG_MMAP
#define K(x) ((x) * 1024u)

struct area {
	uint64_t off, size;
};

struct bar_expect {
	unsigned bar;
	uint64_t size;
	bool mmap;
	bool msix_mappable;
	unsigned n; /* sparse areas; 0 with mmap = the whole BAR */
	struct area a[2];
};

struct layout_case {
	const char *knobs;
	unsigned msix_bar;
	uint32_t table_off;
	struct bar_expect b[2]; /* BAR0 and the MSI-X BAR (if it is another) */
};

static const struct layout_case cases[] = {
	/* table in BAR0's register page (0x800), 16 KiB BAR0 */
	{"msix-mmap=whole", 0, 0x800, {{0, K(16), true, true, 0, {{0}}}}},
	{"msix-mmap=whole,page-size=64k", 0, 0x800, {{0, K(16), true, true, 0, {{0}}}}},
	{"msix-mmap=sparse", 0, 0x800, {{0, K(16), true, false, 1, {{K(4), K(12)}}}}},
	{"msix-mmap=sparse,page-size=64k", 0, 0x800, {{0, K(16), false, false, 0, {{0}}}}},
	{"msix-mmap=sparse,bar0-size=128k", 0, 0x800,
	 {{0, K(128), true, false, 1, {{K(4), K(124)}}}}},
	{"msix-mmap=sparse,bar0-size=128k,page-size=64k", 0, 0x800,
	 {{0, K(128), true, false, 1, {{K(64), K(64)}}}}},
	{"msix-mmap=none", 0, 0x800, {{0, K(16), true, false, 0, {{0}}}}},
	{"msix-mmap=none,page-size=64k", 0, 0x800, {{0, K(16), true, false, 0, {{0}}}}},
	{"msix-mmap=slow", 0, 0x800, {{0, K(16), false, false, 0, {{0}}}}},
	/* a model trap (the doorbell page) as well */
	{"msix-mmap=sparse,trap-db=1", 0, 0x800,
	 {{0, K(16), true, false, 1, {{K(8), K(8)}}}}},
	{"msix-mmap=whole,trap-db=1", 0, 0x800, /* traps: areas, no MSIX_MAPPABLE */
	 {{0, K(16), true, false, 2, {{0, K(4)}, {K(8), K(8)}}}}},
	{"msix-mmap=whole,trap-db=1,page-size=64k", 0, 0x800,
	 {{0, K(16), false, false, 0, {{0}}}}},
	/* table and PBA in BAR4 of their own */
	{"msix=own", 4, 0,
	 {{0, K(16), true, false, 0, {{0}}}, {4, K(4), true, true, 0, {{0}}}}},
	{"msix=own,msix-mmap=sparse", 4, 0,
	 {{0, K(16), true, false, 0, {{0}}}, {4, K(4), false, false, 0, {{0}}}}},
	{"msix=own,msix-mmap=sparse,page-size=64k", 4, 0,
	 {{0, K(16), true, false, 0, {{0}}}, {4, K(4), false, false, 0, {{0}}}}},
	{"msix=own,msix-mmap=none", 4, 0,
	 {{0, K(16), true, false, 0, {{0}}}, {4, K(4), true, false, 0, {{0}}}}},
	{"msix=own,msix-mmap=slow", 4, 0,
	 {{0, K(16), true, false, 0, {{0}}}, {4, K(4), false, false, 0, {{0}}}}},
	{"msix=own,trap-db=1", 4, 0,
	 {{0, K(16), true, false, 2, {{0, K(4)}, {K(8), K(8)}}},
	  {4, K(4), true, true, 0, {{0}}}}},
	{"msix=own,trap-db=1,page-size=64k", 4, 0,
	 {{0, K(16), false, false, 0, {{0}}}, {4, K(4), true, true, 0, {{0}}}}},
	{"msix=own,vectors=300,bar0-size=64k", 4, 0,
	 {{0, K(64), true, false, 0, {{0}}}, {4, K(8), true, true, 0, {{0}}}}},
};

static void check_region(const struct layout_case *lc, const struct bar_expect *e,
			 const struct pdk_vfio_user_region *r, int fd)
{
	uint32_t want = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;

	if (e->mmap)
		want |= MMAP;
	if (e->msix_mappable || e->n)
		want |= VFIO_REGION_INFO_FLAG_CAPS;
	if (r->info.size != e->size || r->info.flags != want ||
	    r->msix_mappable != e->msix_mappable || r->sparse != (e->n > 0) ||
	    r->nr_areas != e->n || (fd >= 0) != e->mmap)
		fail_msg("%s BAR%u: size 0x%llx flags 0x%x msix_mappable %d sparse %d "
			 "areas %u fd %d", lc->knobs, e->bar,
			 (unsigned long long)r->info.size, r->info.flags,
			 r->msix_mappable, r->sparse, r->nr_areas, fd);
	for (unsigned i = 0; i < e->n; i++)
		if (r->areas[i].offset != e->a[i].off || r->areas[i].size != e->a[i].size)
			fail_msg("%s BAR%u area %u: 0x%llx+0x%llx", lc->knobs, e->bar, i,
				 (unsigned long long)r->areas[i].offset,
				 (unsigned long long)r->areas[i].size);
}

/* Is [off, off+len) inside one mapped area per the region info? */
static bool mapped(const struct pdk_vfio_user_region *r, uint64_t off, uint64_t len)
{
	if (!(r->info.flags & MMAP))
		return false;
	if (!r->sparse)
		return true;
	for (unsigned i = 0; i < r->nr_areas; i++)
		if (off >= r->areas[i].offset &&
		    off + len <= r->areas[i].offset + r->areas[i].size)
			return true;
	return false;
}

/* Registers land in the one memory, by mapping where mapped, else slowly. */
static void check_accesses(struct pdk_emu_dev *dev, struct vuc *c,
			   const struct pdk_vfio_user_region *r, int fd)
{
	static const uint64_t regs[] = {TESTDEV_REG_SCRATCH, TESTDEV_REG_DOORBELL + 8,
					TESTDEV_SRAM_OFF + 8};
	uint8_t *bar = vuc_map_region(r, fd), *srv = pdk_emu_bar_mem(dev, 0);

	assert_true((bar != NULL) == ((r->info.flags & MMAP) != 0));
	for (unsigned i = 0; i < PDK_DIM(regs); i++) {
		uint32_t v = 0x5a000000u | i;

		if (mapped(r, regs[i], 4)) {
			pdk_emu_wr32(bar, regs[i], v);
			assert_int_equal(vuc_rd32(c, 0, regs[i]), v);
		} else {
			assert_int_equal(vuc_wr32(c, 0, regs[i], v), 0);
		}
		assert_int_equal(pdk_emu_rd32(srv, regs[i]), v);
		assert_int_equal(vuc_rd32(c, 0, regs[i]), v);
	}
	if (bar && mapped(r, TESTDEV_REG_ID, 4))
		assert_int_equal(pdk_emu_rd32(bar, TESTDEV_REG_ID), TESTDEV_MAGIC);
	vuc_unmap_region(r, bar);
}

static void check_msix_cap(struct vuc *c, const struct layout_case *lc)
{
	unsigned cap = vuc_cfg_find_cap(c, PCI_CAP_ID_MSIX);
	uint16_t qsize = vuc_cfg16(c, cap + PCI_MSIX_FLAGS) & PCI_MSIX_FLAGS_QSIZE;
	uint32_t table = vuc_rd32(c, VFIO_PCI_CONFIG_REGION_INDEX, cap + PCI_MSIX_TABLE);
	uint32_t pba = vuc_rd32(c, VFIO_PCI_CONFIG_REGION_INDEX, cap + PCI_MSIX_PBA);

	assert_int_not_equal(cap, 0);
	assert_int_equal(table, lc->table_off | lc->msix_bar);
	assert_int_equal(pba, (lc->table_off + (qsize + 1u) * 16) | lc->msix_bar);
}

static void run_case(const struct layout_case *lc)
{
	struct pdk_emu_dev *dev = emu_start("testdev", emu_path("layout.sock"), lc->knobs);
	struct pdk_vfio_user_region r;
	struct vuc c;
	int fd;

	assert_int_equal(vuc_connect(&c, pdk_emu_dev_socket(dev)), 0);
	for (unsigned i = 0; i < 2 && (i == 0 || lc->b[i].size); i++) {
		assert_int_equal(vuc_region_info(&c, lc->b[i].bar, &r, &fd), 0);
		check_region(lc, &lc->b[i], &r, fd);
		if (i == 0)
			check_accesses(dev, &c, &r, fd);
		if (fd >= 0)
			close(fd);
	}
	check_msix_cap(&c, lc);
	vuc_close(&c);
	pdk_emu_dev_destroy(dev);
}

static void test_layouts(void **state)
{
	(void)state;
	for (size_t i = 0; i < PDK_DIM(cases); i++)
		run_case(&cases[i]);
}

/* BARs sit at distinct memfd offsets: the client must use info.offset. */
static void test_region_offsets(void **state)
{
	struct pdk_emu_dev *dev = emu_start("testdev", emu_path("off.sock"), "msix=own");
	struct pdk_vfio_user_region r0, r4;
	uint8_t *b4;
	struct vuc c;
	int fd0, fd4;

	(void)state;
	assert_int_equal(vuc_connect(&c, pdk_emu_dev_socket(dev)), 0);
	assert_int_equal(vuc_region_info(&c, 0, &r0, &fd0), 0);
	assert_int_equal(vuc_region_info(&c, 4, &r4, &fd4), 0);
	assert_int_equal(r0.info.offset, 0);
	assert_int_equal(r4.info.offset, 0x20000); /* after BAR0 and BAR2 */
	b4 = vuc_map_region(&r4, fd4);
	assert_non_null(b4);
	/* past the PBA: plain memory shared with the server */
	b4[0x100] = 0x77;
	assert_int_equal(((uint8_t *)pdk_emu_bar_mem(dev, 4))[0x100], 0x77);
	/* the table, mapped or not, is all-ones and never programmable */
	assert_int_equal(pdk_emu_rd32(b4, 0), 0xffffffff);
	assert_int_equal(vuc_wr32(&c, 4, 0, 0), 0);
	assert_int_equal(vuc_rd32(&c, 4, 0), 0xffffffff);
	vuc_unmap_region(&r4, b4);
	close(fd0);
	close(fd4);
	vuc_close(&c);
	pdk_emu_dev_destroy(dev);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layouts),
		cmocka_unit_test(test_region_offsets),
	};

	return EMU_TEST_MAIN(tests);
}
