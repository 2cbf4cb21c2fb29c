/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DMA through the fake kernel, with real EAL memory (--no-huge): EAL memory
 * mapped at open (IOVA = VA when it fits), IOVA ranges with holes and too
 * small, DMA_AVAIL running out, RLIMIT_MEMLOCK, each MAP_DMA errno, unmap
 * in the units mapped with the size checked, external buffers and
 * peer-to-peer BARs.
 */
#include "pdk_test.h"

#include <sys/mman.h>

#include <pdk_eal.h>
#include <pdk_vfio.h>

#include "fake_kernel.h"

#define MEM (8u << 20) /* -m 8 */

static int setup(void **state)
{
	(void)state;
	fk_start_with_eal();
	test_log_capture(PDK_LOG_INFO);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	test_log_release();
	fk_stop();
	pdk_eal_cleanup();
	return 0;
}

static const struct pdk_memseg *first_seg;

static int get_first(const struct pdk_memseg *seg, void *arg)
{
	(void)arg;
	first_seg = seg;
	return 1;
}

static const struct pdk_memseg *eal_seg(void)
{
	first_seg = NULL;
	pdk_memseg_walk(get_first, NULL);
	assert_non_null(first_seg);
	return first_seg;
}

static void expect_open_fails(int err, const char *msg)
{
	assert_null(pdk_vfio_dev_open(FK_BDF, 0));
	assert_int_equal(errno, err);
	assert_log_contains(msg);
	assert_int_equal(fk.nr_maps, 0); /* whatever was mapped is undone */
	assert_int_equal(fk.container_fd, -1);
}

static void *buffer(size_t len)
{
	void *p = mmap(NULL, len * 2, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);

	assert_true(p != MAP_FAILED);
	/* aligned to len, so the IOVA = VA choice is predictable */
	return (void *)PDK_ALIGN_CEIL((uintptr_t)p, len);
}

/* -------------------------------------------------------- EAL memory -- */

static void test_eal_memory_at_va(void **state)
{
	const struct pdk_memseg *seg = eal_seg();
	struct pdk_vfio_dma_mapping m[4];
	struct pdk_vfio_iommu_info info;
	struct pdk_vfio_dev *d = pdk_vfio_dev_open(FK_BDF, 0);

	(void)state;
	assert_non_null(d);
	/* one segment, contiguous: one mapping, at IOVA = VA */
	assert_int_equal(fk.nr_maps, 1);
	assert_int_equal(fk.maps[0].vaddr, (uintptr_t)seg->va);
	assert_int_equal(fk.maps[0].iova, (uintptr_t)seg->va);
	assert_int_equal(fk.maps[0].size, MEM);
	assert_int_equal(pdk_mem_virt2iova(seg->va), (uintptr_t)seg->va);
	assert_int_equal(pdk_vfio_domain_mappings(pdk_vfio_dev_domain(d), m, 4), 1);
	assert_true(m[0].eal);
	assert_int_equal(pdk_vfio_domain_info(pdk_vfio_dev_domain(d), &info), 0);
	assert_int_equal(info.nr_mappings, 1);
	assert_int_equal(info.mapped_bytes, MEM);
	assert_int_equal(info.dma_avail, 65534);
	test_log_capture(PDK_LOG_ERR);
	pdk_vfio_dev_close(d);
	/* unmapped in the unit it was mapped in, before the group left */
	assert_int_equal(fk.unmap_calls, 1);
	assert_int_equal(fk.nr_maps, 0);
	assert_int_equal(test_log_buf.count, 0);
}

static void test_no_dma_flag(void **state)
{
	struct pdk_vfio_dev *d = pdk_vfio_dev_open(FK_BDF, PDK_VFIO_OPEN_NO_DMA);

	(void)state;
	assert_non_null(d);
	assert_int_equal(fk.map_calls, 0);
	pdk_vfio_dev_close(d);
	assert_int_equal(fk.unmap_calls, 0);
}

static void test_iova_ranges_with_holes(void **state)
{
	const struct pdk_memseg *seg = eal_seg();
	struct pdk_vfio_dev *d;

	(void)state;
	/* a 1 MiB window, then 12 MiB: VA fits neither, the 8 MiB go second */
	fk.nr_ranges = 2;
	fk.ranges[0] = (struct vfio_iova_range){0x100000, 0x1fffff};
	fk.ranges[1] = (struct vfio_iova_range){0x400000, 0xffffff};
	d = pdk_vfio_dev_open(FK_BDF, 0);
	assert_non_null(d);
	assert_log_contains("DMA memory (8388608 bytes) lies outside the IOMMU's valid IOVA "
			    "ranges at IOVA = VA: using IOVAs allocated inside them");
	assert_int_equal(fk.nr_maps, 1);
	assert_int_equal(fk.maps[0].iova, 0x400000);
	assert_int_equal(pdk_mem_virt2iova(seg->va), 0x400000);
	assert_int_equal(pdk_mem_virt2iova(PDK_PTR_ADD(seg->va, 0x1234)), 0x401234);
	pdk_vfio_dev_close(d);
}

static void test_iova_ranges_too_small(void **state)
{
	(void)state;
	fk.nr_ranges = 2;
	fk.ranges[0] = (struct vfio_iova_range){0x100000, 0x2fffff};
	fk.ranges[1] = (struct vfio_iova_range){0x400000, 0x9fffff};
	expect_open_fails(ENOSPC, "the IOMMU's valid IOVA ranges (2, 8388608 bytes in all) "
			  "cannot hold the 8388608 bytes of DMA memory: ask for less with -m "
			  "or --socket-mem");
}

static void test_dma_avail_runs_out(void **state)
{
	struct pdk_vfio_dev *d;
	pdk_iova_t iova;

	(void)state;
	fk.dma_avail = 0;
	expect_open_fails(ENOSPC, "the IOMMU allows 0 more DMA mappings but 1 are needed: "
			  "raise vfio_iommu_type1's dma_entry_limit (modprobe vfio_iommu_type1 "
			  "dma_entry_limit=N, or write /sys/module/vfio_iommu_type1/parameters/"
			  "dma_entry_limit), or use larger hugepages so fewer mappings are needed");
	fk.dma_avail = 1; /* EAL memory takes the last one */
	d = pdk_vfio_dev_open(FK_BDF, 0);
	assert_non_null(d);
	assert_int_equal(pdk_vfio_dma_map(pdk_vfio_dev_domain(d), buffer(0x10000), 0x10000,
					  &iova), -ENOSPC);
	assert_log_contains("the IOMMU allows 0 more DMA mappings but 1 are needed");
	pdk_vfio_dev_close(d);
}

static void test_memlock(void **state)
{
	struct pdk_vfio_dev *d;
	pdk_iova_t iova;

	(void)state;
	fk.memlock = (struct rlimit){4u << 20, 4u << 20};
	expect_open_fails(ENOMEM, "pinning DMA memory needs 8388608 bytes of locked memory "
			  "(8192 KiB) but RLIMIT_MEMLOCK is 4194304 bytes: raise it with "
			  "'ulimit -l 8192' (or 'ulimit -l unlimited'), a memlock line in "
			  "/etc/security/limits.conf, or run as root");
	fk.can_pin_unlimited = true; /* CAP_IPC_LOCK: no limit applies */
	d = pdk_vfio_dev_open(FK_BDF, 0);
	assert_non_null(d);
	pdk_vfio_dev_close(d);
	fk.can_pin_unlimited = false;
	fk.memlock = (struct rlimit){MEM + 0x10000, MEM + 0x10000};
	d = pdk_vfio_dev_open(FK_BDF, 0);
	assert_non_null(d);
	assert_int_equal(pdk_vfio_dma_map(pdk_vfio_dev_domain(d), buffer(0x20000), 0x20000,
					  &iova), -ENOMEM);
	assert_log_contains("needs 8519680 bytes of locked memory");
	/* a BAR pins nothing: peer-to-peer DMA is not limited */
	assert_int_equal(pdk_vfio_dev_map_bars(d), 0);
	assert_int_equal(pdk_vfio_dma_map(pdk_vfio_dev_domain(d), pdk_vfio_dev_bar(d, 2)->addr,
					  0x2000, &iova), 0);
	assert_int_equal(iova, (uintptr_t)pdk_vfio_dev_bar(d, 2)->addr);
	pdk_vfio_dev_close(d);
}

/* ----------------------------------------------------- MAP_DMA errors -- */

static void test_map_errnos(void **state)
{
	static const struct {
		int err;
		const char *msg;
	} cases[] = {
		{EEXIST, "(File exists): it overlaps an IOVA range that is already mapped"},
		{ENOSPC, "(No space left on device): the IOMMU's limit on DMA mappings is "
			 "reached (1 in this domain): raise vfio_iommu_type1's dma_entry_limit"},
		{EINVAL, "(Invalid argument): invalid: outside the valid IOVA ranges or "
			 "misaligned, by the kernel's reckoning"},
		{EOVERFLOW, "the range wraps around the end of the address space"},
		{ENOMEM, "(Cannot allocate memory): out of locked memory: 8388608 bytes pinned "
			 "and 65536 more exceed RLIMIT_MEMLOCK; raise it with 'ulimit -l "
			 "unlimited', a memlock line in /etc/security/limits.conf, or run as root"},
		{EFAULT, "(Bad address): the VA range is not mapped in this process"},
		{EPERM, "(Operation not permitted): Operation not permitted"},
	};
	struct pdk_vfio_dev *d = pdk_vfio_dev_open(FK_BDF, 0);
	void *buf = buffer(0x10000);
	pdk_iova_t iova;

	(void)state;
	assert_non_null(d);
	for (size_t i = 0; i < PDK_DIM(cases); i++) {
		char head[128];

		test_log_capture(PDK_LOG_ERR);
		fk.map_errno = cases[i].err;
		assert_int_equal(pdk_vfio_dma_map(pdk_vfio_dev_domain(d), buf, 0x10000, &iova),
				 -cases[i].err);
		snprintf(head, sizeof(head), "DMA map of VA %p IOVA 0x%llx length 0x10000 failed",
			 buf, (unsigned long long)(uintptr_t)buf);
		assert_log_contains(head);
		assert_log_contains(cases[i].msg);
	}
	/* what we can tell before asking the kernel */
	assert_int_equal(pdk_vfio_dma_map(pdk_vfio_dev_domain(d), PDK_PTR_ADD(buf, 0x800),
					  0x1000, &iova), -EINVAL);
	assert_log_contains("length 0x1000: not a multiple of the IOMMU page size 0x1000");
	assert_int_equal(pdk_vfio_dma_map(pdk_vfio_dev_domain(d), (void *)-0x1000ULL, 0x2000,
					  &iova), -EINVAL);
	assert_log_contains("length 0x2000: empty or wraps around");
	pdk_vfio_dev_close(d);
}

/* ---------------------------------------------------- external memory -- */

static void test_external_buffers(void **state)
{
	struct pdk_vfio_dma_mapping m[4];
	struct pdk_vfio_domain *dom;
	struct pdk_vfio_dev *d;
	void *buf = buffer(0x10000);
	pdk_iova_t iova = 0;

	(void)state;
	fk.nr_ranges = 1;
	fk.ranges[0] = (struct vfio_iova_range){0x400000, 0xffffff};
	d = pdk_vfio_dev_open(FK_BDF, 0);
	assert_non_null(d);
	dom = pdk_vfio_dev_domain(d);
	/* VA does not fit: the first free IOVA after EAL memory */
	assert_int_equal(pdk_vfio_dma_map(dom, buf, 0x10000, &iova), 0);
	assert_int_equal(iova, 0xc00000);
	assert_int_equal(pdk_vfio_dma_map(dom, buf, 0x10000, &iova), -EEXIST);
	assert_log_contains("length 0x10000 is already mapped for DMA at IOVA 0xc00000");
	assert_int_equal(pdk_vfio_domain_mappings(dom, m, 4), 2);
	assert_false(m[1].eal);
	assert_int_equal(m[1].iova, 0xc00000);
	assert_int_equal(pdk_vfio_dma_unmap(dom, buf, 0x1000), -ENOENT);
	assert_log_contains("no such mapping (unmap exactly what pdk_vfio_dma_map mapped)");
	assert_int_equal(pdk_vfio_dma_unmap(dom, buf, 0x10000), 0);
	assert_int_equal(fk.nr_maps, 1);
	/* the space is free again */
	assert_int_equal(pdk_vfio_dma_map(dom, buf, 0x10000, &iova), 0);
	assert_int_equal(iova, 0xc00000);
	assert_int_equal(pdk_vfio_dma_unmap(dom, buf, 0x10000), 0);
	/* a VA aligned to 32 MiB: no 32 MiB-aligned IOVA is left in the range,
	 * so it gets a page-aligned one rather than ENOSPC */
	buf = buffer(32u << 20);
	assert_int_equal(pdk_vfio_dma_map(dom, buf, 0x10000, &iova), 0);
	assert_int_equal(iova, 0xc00000);
	pdk_vfio_dev_close(d); /* takes the external mapping with it */
	assert_int_equal(fk.nr_maps, 0);
}

static void test_external_at_va(void **state)
{
	struct pdk_vfio_dev *d = pdk_vfio_dev_open(FK_BDF, 0);
	void *buf = buffer(0x10000);
	pdk_iova_t iova;

	(void)state;
	assert_non_null(d);
	assert_int_equal(pdk_vfio_dma_map(pdk_vfio_dev_domain(d), buf, 0x10000, &iova), 0);
	assert_int_equal(iova, (uintptr_t)buf);
	assert_int_equal(fk.maps[1].vaddr, (uintptr_t)buf);
	pdk_vfio_dev_close(d);
}

static void test_unmap_size_checked(void **state)
{
	struct pdk_vfio_dev *d = pdk_vfio_dev_open(FK_BDF, 0);
	void *buf = buffer(0x10000);
	pdk_iova_t iova;

	(void)state;
	assert_non_null(d);
	assert_int_equal(pdk_vfio_dma_map(pdk_vfio_dev_domain(d), buf, 0x10000, &iova), 0);
	fk.unmap_short = 0x1000;
	assert_int_equal(pdk_vfio_dma_unmap(pdk_vfio_dev_domain(d), buf, 0x10000), -EIO);
	{
		char msg[160];

		snprintf(msg, sizeof(msg), "DMA unmap of IOVA 0x%llx length 0x10000 removed "
			 "0xf000 bytes", (unsigned long long)iova);
		assert_log_contains(msg);
	}
	fk.unmap_short = 0;
	pdk_vfio_dev_close(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_eal_memory_at_va, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_dma_flag, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iova_ranges_with_holes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iova_ranges_too_small, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_avail_runs_out, setup, teardown),
		cmocka_unit_test_setup_teardown(test_memlock, setup, teardown),
		cmocka_unit_test_setup_teardown(test_map_errnos, setup, teardown),
		cmocka_unit_test_setup_teardown(test_external_buffers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_external_at_va, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unmap_size_checked, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
