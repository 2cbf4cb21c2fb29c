/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * CAP, Identify Controller and Identify Namespace as a hostile device
 * might fill them: every shift bounded, every impossible value refused
 * with a reason, strings made printable.
 */
#include "pdk_test.h"

#include "nvme_internal.h"

/* CAP of a sane controller: MQES 2047, CQR, TO 10 (5 s), DSTRD 0, NVM. */
#define CAP_OK ((uint64_t)2047 | 1ull << 16 | 10ull << 24 | 1ull << 37)

static char why[256];

static void cap_sane(void **state)
{
	struct nvme_ctrlr_limits l = {0};

	(void)state;
	assert_int_equal(nvme_cap_parse(CAP_OK, 4096, &l, why, sizeof(why)), 0);
	assert_int_equal(l.page_size, 4096);
	assert_int_equal(l.entries, 2048);
	assert_int_equal(l.ready_ms, 5000);
	assert_int_equal(l.dstrd, 0);
	/* MQES beyond the driver's limit is clamped; TO 0 still waits 500 ms */
	assert_int_equal(nvme_cap_parse((CAP_OK | 0xffff) & ~(0xffull << 24), 4096, &l, why,
					sizeof(why)), 0);
	assert_int_equal(l.entries, NVME_MAX_QUEUE_ENTRIES);
	assert_int_equal(l.ready_ms, 500);
	/* TO 255 is 127.5 s: allowed by the spec, bounded by 8 bits */
	assert_int_equal(nvme_cap_parse(CAP_OK | 0xffull << 24, 4096, &l, why, sizeof(why)), 0);
	assert_int_equal(l.ready_ms, 127500);
}

static void cap_hostile(void **state)
{
	struct nvme_ctrlr_limits l = {0};

	(void)state;
	assert_int_equal(nvme_cap_parse(UINT64_MAX, 4096, &l, why, sizeof(why)), -ENODEV);
	assert_str_contains(why, "gone");
	assert_int_equal(nvme_cap_parse(CAP_OK & ~0xffffull, 4096, &l, why, sizeof(why)),
			 -ENOTSUP);
	assert_str_contains(why, "MQES");
	assert_int_equal(nvme_cap_parse(CAP_OK & ~(1ull << 37), 4096, &l, why, sizeof(why)),
			 -ENOTSUP);
	assert_str_contains(why, "NVM command set");
	/* MPSMIN 64 KiB on a 4 KiB host; MPSMAX below MPSMIN */
	assert_int_equal(nvme_cap_parse(CAP_OK | 4ull << 48 | 4ull << 52, 4096, &l, why,
					sizeof(why)), -ENOTSUP);
	assert_str_contains(why, "larger than the host page");
	assert_int_equal(nvme_cap_parse(CAP_OK | 4ull << 48 | 4ull << 52, 65536, &l, why,
					sizeof(why)), 0);
	assert_int_equal(l.page_size, 65536);
	assert_int_equal(nvme_cap_parse(CAP_OK | 2ull << 48 | 1ull << 52, 65536, &l, why,
					sizeof(why)), -ENOTSUP);
	assert_str_contains(why, "MPSMAX");
}

static void cdata_mdts(void **state)
{
	struct nvme_ctrlr_limits l = {.mps_shift = 12, .page_size = 4096};
	struct pdk_nvme_ctrlr_data cd;

	(void)state;
	memset(&cd, 0, sizeof(cd));
	cd.sqes = 0x66;
	cd.cqes = 0x44;
	cd.mdts = 5; /* 128 KiB */
	assert_int_equal(nvme_cdata_parse(&cd, &l, why, sizeof(why)), 0);
	assert_int_equal(l.max_xfer, 128 * 1024);
	cd.mdts = 0; /* no limit: the driver's own, one PRP list */
	assert_int_equal(nvme_cdata_parse(&cd, &l, why, sizeof(why)), 0);
	assert_int_equal(l.max_xfer, NVME_MAX_XFER);
	for (unsigned m = 9; m < 256; m++) { /* every shift that overflows */
		cd.mdts = (uint8_t)m;
		assert_int_equal(nvme_cdata_parse(&cd, &l, why, sizeof(why)), 0);
		assert_int_equal(l.max_xfer, NVME_MAX_XFER);
	}
	/* with 64 KiB pages MDTS 1 is already 128 KiB */
	l.mps_shift = 16;
	cd.mdts = 1;
	assert_int_equal(nvme_cdata_parse(&cd, &l, why, sizeof(why)), 0);
	assert_int_equal(l.max_xfer, 128 * 1024);
	cd.aerl = 255;
	cd.acl = 255;
	assert_int_equal(nvme_cdata_parse(&cd, &l, why, sizeof(why)), 0);
	assert_int_equal(l.max_aers, NVME_MAX_AERS);
	assert_int_equal(l.max_aborts, 4);
}

static void cdata_entry_sizes(void **state)
{
	struct nvme_ctrlr_limits l = {.mps_shift = 12, .page_size = 4096};
	struct pdk_nvme_ctrlr_data cd;

	(void)state;
	memset(&cd, 0, sizeof(cd));
	assert_int_equal(nvme_cdata_parse(&cd, &l, why, sizeof(why)), 0); /* not reported */
	cd.sqes = 0x77; /* 128-byte entries only */
	cd.cqes = 0x44;
	assert_int_equal(nvme_cdata_parse(&cd, &l, why, sizeof(why)), -ENOTSUP);
	assert_str_contains(why, "SQES 0x77");
	cd.sqes = 0x66;
	cd.cqes = 0x33;
	assert_int_equal(nvme_cdata_parse(&cd, &l, why, sizeof(why)), -ENOTSUP);
	assert_str_contains(why, "CQES");
}

static void ns_fill(struct pdk_nvme_ns_data *nd, uint8_t lbads)
{
	memset(nd, 0, sizeof(*nd));
	nd->nsze = 1 << 20;
	nd->ncap = 1 << 20;
	nd->nlbaf = 1;
	nd->flbas = 1;
	nd->lbaf[0].lbads = 9;
	nd->lbaf[1].lbads = lbads;
}

static void ns_sizes(void **state)
{
	struct pdk_nvme_ns_data nd;
	struct nvme_ns_geom g;

	(void)state;
	for (unsigned s = 0; s < 256; s++) {
		int rc;

		ns_fill(&nd, (uint8_t)s);
		rc = nvme_ns_parse(&nd, 128 * 1024, &g, why, sizeof(why));
		if (s >= 9 && s <= 16) {
			assert_int_equal(rc, 0);
			assert_int_equal(g.lba_shift, s);
			assert_int_equal(g.max_lbas, PDK_MIN((128u * 1024) >> s, 65536u));
		} else {
			assert_int_equal(rc, -ENOTSUP);
			assert_str_contains(why, "LBADS must be 9..16");
		}
	}
	/* 64 KiB blocks with a 4 KiB transfer limit cannot move one block */
	ns_fill(&nd, 16);
	assert_int_equal(nvme_ns_parse(&nd, 4096, &g, why, sizeof(why)), -ENOTSUP);
	assert_str_contains(why, "larger than a transfer");
	/* 512-byte blocks, 2 MiB transfers: NLB is 16 bits, 4096 fits */
	ns_fill(&nd, 9);
	assert_int_equal(nvme_ns_parse(&nd, 2u << 20, &g, why, sizeof(why)), 0);
	assert_int_equal(g.max_lbas, 4096);
}

static void ns_hostile(void **state)
{
	struct pdk_nvme_ns_data nd;
	struct nvme_ns_geom g;

	(void)state;
	ns_fill(&nd, 12);
	nd.flbas = 5; /* format 5 of 2 */
	assert_int_equal(nvme_ns_parse(&nd, 1 << 20, &g, why, sizeof(why)), -ENOTSUP);
	assert_str_contains(why, "beyond the 2 formats");
	ns_fill(&nd, 12);
	nd.nlbaf = 255; /* more formats than exist: the index still stays in bounds */
	nd.flbas = 0x1f;
	assert_int_equal(nvme_ns_parse(&nd, 1 << 20, &g, why, sizeof(why)), -ENOTSUP);
	ns_fill(&nd, 12);
	nd.lbaf[1].ms = 8;
	assert_int_equal(nvme_ns_parse(&nd, 1 << 20, &g, why, sizeof(why)), -ENOTSUP);
	assert_str_contains(why, "metadata");
	ns_fill(&nd, 12);
	nd.nsze = UINT64_MAX;
	assert_int_equal(nvme_ns_parse(&nd, 1 << 20, &g, why, sizeof(why)), -ENOTSUP);
	assert_str_contains(why, "overflows");
	ns_fill(&nd, 12);
	nd.nsze = 0;
	assert_int_equal(nvme_ns_parse(&nd, 1 << 20, &g, why, sizeof(why)), -ENOENT);
}

static void ns_list(void **state)
{
	uint32_t in[12] = {1, 2, 2, 7, 5, 9, 0xffffffffu, 400, 8, 0, 11, 12};
	uint32_t out[16];

	(void)state;
	/* duplicates, descending ids, ids beyond NN (10) are skipped; 0 ends */
	assert_int_equal(nvme_ns_list_parse(in, 12, 10, out, 16), 4);
	assert_int_equal(out[0], 1);
	assert_int_equal(out[1], 2);
	assert_int_equal(out[2], 7);
	assert_int_equal(out[3], 9);
	assert_int_equal(nvme_ns_list_parse(in, 12, 10, out, 2), 2);
	assert_int_equal(nvme_ns_list_parse(in, 0, 10, out, 16), 0);
}

static void strings(void **state)
{
	char out[41];
	const char sn[20] = {'P', 'D', 'K', 'V', 'M', '0', '0', '0', '1', ' ', ' ', ' ',
			     ' ', ' ', ' ', ' ', ' ', ' ', ' ', ' '};
	const char bad[8] = {'a', '\n', (char)0xff, 'b', ' ', 'c', ' ', ' '};

	(void)state;
	nvme_str_clean(out, sn, sizeof(sn));
	assert_string_equal(out, "PDKVM0001");
	nvme_str_clean(out, bad, sizeof(bad));
	assert_string_equal(out, "a??b c");
	nvme_str_clean(out, "x\0yz", 4); /* stops at a NUL */
	assert_string_equal(out, "x");
}

static void status_names(void **state)
{
	(void)state;
	assert_string_equal(pdk_nvme_status_str(0), "SUCCESS");
	assert_string_equal(pdk_nvme_status_str(PDK_NVME_STATUS(0, 0x80) | 1), "LBA OUT OF RANGE");
	assert_string_equal(pdk_nvme_status_str(NVME_ST_HOST_ABORTED), "ABORTED BY HOST");
	assert_string_equal(pdk_nvme_status_str(PDK_NVME_STATUS(7, 0x42)), "?");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(cap_sane),    cmocka_unit_test(cap_hostile),
		cmocka_unit_test(cdata_mdts),  cmocka_unit_test(cdata_entry_sizes),
		cmocka_unit_test(ns_sizes),    cmocka_unit_test(ns_hostile),
		cmocka_unit_test(ns_list),     cmocka_unit_test(strings),
		cmocka_unit_test(status_names),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
