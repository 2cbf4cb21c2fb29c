/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Info ioctls: argsz growth (one re-query, then the limit of three),
 * malformed capability chains (cycle, offset past argsz, offset inside the
 * fixed struct, truncated header, a capability too big for the reply,
 * unknown versions) and the IOMMU info chain. Each case checks the exact
 * error, or the plan that follows from an ignored capability.
 */
#include "pdk_test.h"

#include <pdk_vfio.h>

#include "fake_kernel.h"

static int setup(void **state)
{
	(void)state;
	fk_start();
	test_log_capture(PDK_LOG_INFO);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	test_log_release();
	fk_stop();
	return 0;
}

/* Region 0's reply, byte for byte: fixed struct + `caps` at 32, `len`
 * bytes in all. */
static void raw_region0(uint32_t cap_offset, const void *caps, uint32_t caps_len, uint32_t len)
{
	struct fk_region *r = &fk.regions[0];
	struct vfio_region_info ri = {
		.argsz = len,
		.flags = r->flags | VFIO_REGION_INFO_FLAG_CAPS,
		.index = 0,
		.cap_offset = cap_offset,
		.size = r->size,
		.offset = r->offset,
	};

	memset(r->raw, 0, sizeof(r->raw));
	memcpy(r->raw, &ri, sizeof(ri));
	memcpy(r->raw + sizeof(ri), caps, caps_len);
	r->raw_len = len;
}

static struct vfio_info_cap_header hdr(uint16_t id, uint16_t ver, uint32_t next)
{
	return (struct vfio_info_cap_header){.id = id, .version = ver, .next = next};
}

/* Opening fails with -EPROTO and this message. */
static void expect_open_fails(const char *msg)
{
	assert_null(pdk_vfio_dev_open(FK_BDF, 0));
	assert_int_equal(errno, EPROTO);
	assert_log_contains(msg);
	/* and everything was released */
	assert_int_equal(fk.dev_fd, -1);
	assert_int_equal(fk.group_fd, -1);
	assert_int_equal(fk.container_fd, -1);
}

static void test_argsz_growth(void **state)
{
	struct pdk_vfio_region r;
	struct pdk_vfio_dev *d;

	(void)state;
	fk_cap_msix_mappable(&fk.regions[0]);
	d = pdk_vfio_dev_open(FK_BDF, 0);
	assert_non_null(d);
	/* 8 regions, and region 0 asked twice: its caps did not fit at first */
	assert_int_equal(fk.region_info_calls, 9);
	assert_int_equal(pdk_vfio_dev_region(d, 0, &r), 0);
	assert_true(r.flags & PDK_VFIO_REGION_MSIX_MAPPABLE);
	assert_int_equal(r.cap_ids, 1u << VFIO_REGION_INFO_CAP_MSIX_MAPPABLE);
	assert_int_equal(r.offset, fk.regions[0].offset); /* as reported, not computed */
	pdk_vfio_dev_close(d);
}

static void test_argsz_keeps_growing(void **state)
{
	(void)state;
	fk_cap_msix_mappable(&fk.regions[0]);
	fk.region_grow = 8;
	expect_open_fails("0000:03:00.0: region 0 info: argsz still growing after 3 retries");
	assert_int_equal(fk.region_info_calls, 4); /* the first ask + 3 retries */
}

static void test_argsz_too_big(void **state)
{
	(void)state;
	fk_cap_msix_mappable(&fk.regions[0]);
	fk.region_grow = 70000;
	expect_open_fails("0000:03:00.0: region 0 info: the kernel asks for a 70040-byte "
			  "reply, more than the 65536 this build accepts");
}

static void test_chain_cycle(void **state)
{
	struct vfio_info_cap_header h = hdr(VFIO_REGION_INFO_CAP_MSIX_MAPPABLE, 1, 32);

	(void)state;
	raw_region0(32, &h, sizeof(h), 48);
	expect_open_fails("0000:03:00.0: region 0 info: capability chain does not end after "
			  "2 steps (a cycle)");
}

static void test_chain_offset_past_argsz(void **state)
{
	struct vfio_info_cap_header h = hdr(VFIO_REGION_INFO_CAP_MSIX_MAPPABLE, 1, 0);

	(void)state;
	raw_region0(64, &h, sizeof(h), 40);
	expect_open_fails("region 0 info: capability offset 64 is past argsz 40");
}

static void test_chain_offset_inside_fixed(void **state)
{
	struct vfio_info_cap_header h[2] = {hdr(VFIO_REGION_INFO_CAP_MSIX_MAPPABLE, 1, 8)};

	(void)state;
	raw_region0(32, h, sizeof(h), 48); /* the first is fine, its next is not */
	expect_open_fails("region 0 info: capability offset 8 is inside the fixed 32-byte "
			  "struct");
}

static void test_chain_truncated_header(void **state)
{
	struct vfio_info_cap_header h = hdr(VFIO_REGION_INFO_CAP_MSIX_MAPPABLE, 1, 0);

	(void)state;
	raw_region0(32, &h, 4, 36);
	expect_open_fails("region 0 info: capability header at offset 32 is cut off by "
			  "argsz 36");
}

static void test_chain_cap_too_big(void **state)
{
	uint8_t caps[32] = {0};
	struct vfio_info_cap_header h = hdr(VFIO_REGION_INFO_CAP_SPARSE_MMAP, 1, 0);
	uint32_t nr = 4;

	(void)state;
	memcpy(caps, &h, sizeof(h));
	memcpy(caps + 8, &nr, 4); /* 4 areas claimed, room for 1 */
	raw_region0(32, caps, sizeof(caps), 64);
	expect_open_fails("region 0 info: region capability 1 at offset 32 needs 80 bytes "
			  "but argsz 64 leaves 32");
}

static void test_reply_for_other_region(void **state)
{
	struct vfio_info_cap_header h = hdr(VFIO_REGION_INFO_CAP_MSIX_MAPPABLE, 1, 0);

	(void)state;
	raw_region0(32, &h, sizeof(h), 40);
	fk.regions[0].raw[8] = 1; /* index */
	expect_open_fails("region 0 info: the reply is for region 1");
}

static void test_unknown_versions(void **state)
{
	const struct vfio_region_sparse_mmap_area a = {0, 0x1000};
	uint8_t body[24] = {1};
	struct pdk_vfio_plan p;
	struct pdk_vfio_dev *d;

	(void)state;
	/* an MSIX_MAPPABLE we cannot read is ignored: map around the table */
	fk_cap_raw(&fk.regions[0], VFIO_REGION_INFO_CAP_MSIX_MAPPABLE, 2, NULL, 0);
	/* a sparse capability we cannot read maps nothing */
	memcpy(body + 8, &a, sizeof(a));
	fk_cap_raw(&fk.regions[2], VFIO_REGION_INFO_CAP_SPARSE_MMAP, 2, body, sizeof(body));
	/* an unknown capability id is skipped */
	fk_cap_raw(&fk.regions[2], 99, 1, NULL, 0);
	d = pdk_vfio_dev_open(FK_BDF, 0);
	assert_non_null(d);
	assert_log_contains("region capability 3 has version 2, this build understands "
			    "version 1: ignored");
	assert_log_contains("region capability 1 has version 2, this build understands "
			    "version 1: ignored");
	assert_int_equal(pdk_vfio_dev_plan(d, 0, &p), 0);
	assert_int_equal(p.policy, PDK_VFIO_POLICY_AROUND_MSIX);
	assert_int_equal(pdk_vfio_dev_plan(d, 2, &p), 0);
	assert_int_equal(p.policy, PDK_VFIO_POLICY_SPARSE);
	assert_int_equal(p.nr_mapped, 0);
	assert_int_equal(p.slow[0].why, PDK_VFIO_WHY_SPARSE_UNUSABLE);
	pdk_vfio_dev_close(d);
}

static void test_iommu_info(void **state)
{
	struct pdk_vfio_iommu_info info;
	struct pdk_vfio_dev *d = pdk_vfio_dev_open(FK_BDF, 0);

	(void)state;
	assert_non_null(d);
	assert_int_equal(pdk_vfio_domain_info(pdk_vfio_dev_domain(d), &info), 0);
	assert_int_equal(info.pgsizes, 0x40201000);
	assert_true(info.ranges_known);
	assert_int_equal(info.nr_ranges, 2);
	assert_int_equal(info.ranges[0].end, 0xfedfffff);
	assert_int_equal(info.ranges[1].start, 0xfef00000);
	assert_int_equal(info.dma_avail, 65535);
	/* a version we do not know: the ranges are unknown, not guessed */
	fk.iova_cap_version = 2;
	fk.dma_avail = -1;
	assert_int_equal(pdk_vfio_domain_info(pdk_vfio_dev_domain(d), &info), 0);
	assert_false(info.ranges_known);
	assert_int_equal(info.dma_avail, -1);
	assert_log_contains("IOMMU capability 1 has version 2");
	pdk_vfio_dev_close(d);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_argsz_growth, setup, teardown),
		cmocka_unit_test_setup_teardown(test_argsz_keeps_growing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_argsz_too_big, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chain_cycle, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chain_offset_past_argsz, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chain_offset_inside_fixed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chain_truncated_header, setup, teardown),
		cmocka_unit_test_setup_teardown(test_chain_cap_too_big, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reply_for_other_region, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_versions, setup, teardown),
		cmocka_unit_test_setup_teardown(test_iommu_info, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
