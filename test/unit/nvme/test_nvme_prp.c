/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * PRP entries for buffers of every shape: within a page, across one or two
 * page boundaries, needing a list up to its last entry and one past it,
 * misaligned, not DMA memory, and IOVAs that are not contiguous (PA mode).
 * The translation is a fake: no memory is touched.
 */
#include "pdk_test.h"

#include "nvme_internal.h"

#define PAGE 4096u
#define VA_BASE 0x10000000ull

/* IOVA = VA + 1 GiB, for addresses in [VA_BASE, VA_BASE + 64 MiB) */
static pdk_iova_t v2i_linear(const void *va)
{
	uintptr_t a = (uintptr_t)va;

	if (a < VA_BASE || a >= VA_BASE + (64u << 20))
		return PDK_BAD_IOVA;
	return a + (1ull << 30);
}

/* Each page somewhere else: page n of the range maps to page (n * 7919) */
static pdk_iova_t v2i_scattered(const void *va)
{
	uintptr_t a = (uintptr_t)va, n = (a - VA_BASE) / PAGE;

	if (a < VA_BASE || a >= VA_BASE + (64u << 20))
		return PDK_BAD_IOVA;
	return (1ull << 32) + ((n * 7919) % 65536) * PAGE + (a & (PAGE - 1));
}

/* Keeps the page but not the offset within it: not expressible */
static pdk_iova_t v2i_shifted(const void *va)
{
	return (uintptr_t)va + 512;
}

static uint64_t list[PAGE / 8];

static int build(uintptr_t va, uint32_t len, uint32_t list_max, nvme_v2i_fn f,
		 struct pdk_nvme_cmd *cmd)
{
	memset(cmd, 0, sizeof(*cmd));
	memset(list, 0, sizeof(list));
	return nvme_prp_build(cmd, (const void *)va, len, PAGE, list, 0xabc000, list_max, f);
}

static void within_one_page(void **state)
{
	struct pdk_nvme_cmd c;

	(void)state;
	assert_int_equal(build(VA_BASE, 4096, 512, v2i_linear, &c), 0);
	assert_int_equal(c.prp1, VA_BASE + (1ull << 30));
	assert_int_equal(c.prp2, 0);
	assert_int_equal(build(VA_BASE + 100 * 4, 512, 512, v2i_linear, &c), 0);
	assert_int_equal(c.prp1, VA_BASE + 400 + (1ull << 30));
	assert_int_equal(c.prp2, 0);
	/* ends exactly at the page end */
	assert_int_equal(build(VA_BASE + 3584, 512, 512, v2i_linear, &c), 0);
	assert_int_equal(c.prp2, 0);
}

static void two_pages(void **state)
{
	struct pdk_nvme_cmd c;

	(void)state;
	assert_int_equal(build(VA_BASE, 8192, 512, v2i_linear, &c), 0);
	assert_int_equal(c.prp2, VA_BASE + PAGE + (1ull << 30));
	/* 4 KiB at an offset crosses one boundary: PRP2 is the next page */
	assert_int_equal(build(VA_BASE + 512, 4096, 512, v2i_linear, &c), 0);
	assert_int_equal(c.prp1, VA_BASE + 512 + (1ull << 30));
	assert_int_equal(c.prp2, VA_BASE + PAGE + (1ull << 30));
	/* one byte past a page boundary (a dword, really) */
	assert_int_equal(build(VA_BASE + 4092, 8, 512, v2i_linear, &c), 0);
	assert_int_equal(c.prp2, VA_BASE + PAGE + (1ull << 30));
}

static void lists(void **state)
{
	struct pdk_nvme_cmd c;

	(void)state;
	/* three pages: PRP2 is the list with two entries */
	assert_int_equal(build(VA_BASE, 3 * PAGE, 512, v2i_linear, &c), 0);
	assert_int_equal(c.prp2, 0xabc000);
	assert_int_equal(list[0], VA_BASE + PAGE + (1ull << 30));
	assert_int_equal(list[1], VA_BASE + 2 * PAGE + (1ull << 30));
	assert_int_equal(list[2], 0);
	/* 128 KiB at an offset: 33 pages, 32 in the list */
	assert_int_equal(build(VA_BASE + 1024, 128 * 1024, 512, v2i_linear, &c), 0);
	for (int i = 0; i < 32; i++)
		assert_int_equal(list[i], VA_BASE + (uint64_t)(i + 1) * PAGE + (1ull << 30));
	assert_int_equal(list[32], 0);
	/* exactly as many entries as the list holds, then one more */
	assert_int_equal(build(VA_BASE, 9 * PAGE, 8, v2i_linear, &c), 0);
	assert_int_equal(build(VA_BASE + 4, 9 * PAGE, 8, v2i_linear, &c), -E2BIG);
	assert_int_equal(build(VA_BASE, 10 * PAGE, 8, v2i_linear, &c), -E2BIG);
	/* 2 MiB + an offset: the driver's largest command, 512 list entries */
	assert_int_equal(build(VA_BASE + 2048, 2u << 20, 512, v2i_linear, &c), 0);
	assert_int_equal(list[511], VA_BASE + 512ull * PAGE + (1ull << 30));
}

static void scattered_iovas(void **state)
{
	struct pdk_nvme_cmd c;

	(void)state;
	assert_int_equal(build(VA_BASE + 8 * PAGE + 64, 5 * PAGE, 512, v2i_scattered, &c), 0);
	assert_int_equal(c.prp1, v2i_scattered((void *)(VA_BASE + 8 * PAGE + 64)));
	for (int i = 0; i < 5; i++)
		assert_int_equal(list[i], v2i_scattered((void *)(VA_BASE + (9ull + i) * PAGE)));
}

static void refused(void **state)
{
	struct pdk_nvme_cmd c;

	(void)state;
	assert_int_equal(build(VA_BASE + 2, 512, 512, v2i_linear, &c), -EINVAL); /* dword */
	assert_int_equal(build(VA_BASE, 0, 512, v2i_linear, &c), -EINVAL);
	assert_int_equal(build(0x1000, 512, 512, v2i_linear, &c), -EINVAL); /* not DMA */
	/* the first page is DMA memory, the third is not */
	assert_int_equal(build(VA_BASE + (64u << 20) - 2 * PAGE, 3 * PAGE, 512, v2i_linear, &c),
			 -EINVAL);
	assert_int_equal(build(VA_BASE, 512, 512, v2i_shifted, &c), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(within_one_page), cmocka_unit_test(two_pages),
		cmocka_unit_test(lists),           cmocka_unit_test(scattered_iovas),
		cmocka_unit_test(refused),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
