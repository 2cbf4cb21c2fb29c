/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: what a hostile controller reports about itself. The input
 * is CAP (8 bytes), then Identify Controller, Identify Namespace and an
 * active namespace list (4 KiB each, zero-filled when short). Whatever the
 * bytes, the limits the driver derives must stay inside what it can use.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "nvme_internal.h"
#include "../common/fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct {
	uint64_t cap;
	struct pdk_nvme_ctrlr_data cd;
	struct pdk_nvme_ns_data nd;
	uint32_t list[PDK_NVME_NS_LIST_MAX];
} in;

static void check_ctrlr(struct nvme_ctrlr_limits *l)
{
	char why[256];

	if (nvme_cdata_parse(&in.cd, l, why, sizeof(why)) != 0)
		return;
	FUZZ_CHECK(l->max_xfer >= l->page_size && l->max_xfer <= NVME_MAX_XFER);
	FUZZ_CHECK((l->max_xfer & (l->max_xfer - 1)) == 0);
	FUZZ_CHECK(l->max_aers >= 1 && l->max_aers <= NVME_MAX_AERS);
	FUZZ_CHECK(l->max_aborts >= 1 && l->max_aborts <= 4);
}

static void check_ns(const struct nvme_ctrlr_limits *l)
{
	struct nvme_ns_geom g;
	char why[256];

	if (nvme_ns_parse(&in.nd, l->max_xfer, &g, why, sizeof(why)) != 0)
		return;
	FUZZ_CHECK(g.lba_shift >= 9 && g.lba_shift <= 16);
	FUZZ_CHECK(g.max_lbas >= 1 && g.max_lbas <= PDK_NVME_IO_NLB_MAX);
	FUZZ_CHECK(((uint64_t)g.max_lbas << g.lba_shift) <= l->max_xfer);
	FUZZ_CHECK(g.nsze > 0 && g.nsze <= (UINT64_MAX >> g.lba_shift));
}

static void check_list(uint32_t nn)
{
	static uint32_t out[PDK_NVME_NS_LIST_MAX];
	uint32_t n = nvme_ns_list_parse(in.list, PDK_NVME_NS_LIST_MAX, nn, out,
					PDK_NVME_NS_LIST_MAX);

	for (uint32_t i = 0; i < n; i++) {
		FUZZ_CHECK(out[i] >= 1 && out[i] <= nn);
		FUZZ_CHECK(i == 0 || out[i] > out[i - 1]);
	}
}

static void check_strings(void)
{
	char s[41];

	nvme_str_clean(s, in.cd.mn, sizeof(in.cd.mn));
	for (size_t i = 0; s[i]; i++)
		FUZZ_CHECK(s[i] >= 0x20 && s[i] < 0x7f);
	FUZZ_CHECK(strlen(s) <= sizeof(in.cd.mn));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct nvme_ctrlr_limits l;
	char why[256];

	memset(&in, 0, sizeof(in));
	memcpy(&in, data, size < sizeof(in) ? size : sizeof(in));
	memset(&l, 0, sizeof(l));
	if (nvme_cap_parse(in.cap, 4096, &l, why, sizeof(why)) == 0) {
		FUZZ_CHECK(l.page_size == 4096 && l.mps_shift == 12);
		FUZZ_CHECK(l.entries >= 2 && l.entries <= NVME_MAX_QUEUE_ENTRIES);
		FUZZ_CHECK(l.ready_ms >= 500 && l.ready_ms <= 255 * 500);
		FUZZ_CHECK(l.dstrd <= 15);
		check_ctrlr(&l);
		check_ns(&l);
	}
	check_list(in.cd.nn);
	check_strings();
	return 0;
}
