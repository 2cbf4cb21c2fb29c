/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * drivers/nvme against the emulated controller: initialisation and
 * identify, reads and writes of sizes that cross PRP-list and MDTS
 * boundaries from misaligned buffers, both LBA sizes, several queue pairs,
 * Write Zeroes and Flush, log pages, queue exhaustion, shadow doorbells on
 * and off, and a reset with I/O outstanding.
 */
#define NVME_TEST_BUF (4u << 20)
#include "nvme_emu_test.h"

static void init_identify(void **state)
{
	struct pdk_nvme_ctrlr_info in;
	struct pdk_nvme_ns *ns;

	(void)state;
	nvme_up("serial=PDKEMU7,ns=2,ns-size=8m,queues=4", NULL);
	assert_int_equal(pdk_nvme_ctrlr_info(ctrlr, &in), 0);
	assert_string_equal(in.sn, "PDKEMU7");
	assert_string_equal(in.mn, "PDK emulated NVMe controller");
	assert_string_equal(in.backend, "vfio-user");
	assert_int_equal(in.version, 0x10400);
	assert_int_equal(in.io_queues, 4);
	assert_int_equal(in.active_ns, 2);
	assert_int_equal(in.max_xfer, 128 * 1024); /* mdts=5 by default */
	assert_true(in.dbbuf);
	ns = pdk_nvme_ns_next(ctrlr, NULL);
	assert_int_equal(pdk_nvme_ns_id(ns), 1);
	assert_int_equal(pdk_nvme_ns_size(ns), 8u << 20);
	assert_int_equal(pdk_nvme_ns_sector_size(ns), 512);
	assert_int_equal(pdk_nvme_ns_id(pdk_nvme_ns_next(ctrlr, ns)), 2);
	assert_null(pdk_nvme_ns_next(ctrlr, pdk_nvme_ns_next(ctrlr, ns)));
	assert_ptr_equal(pdk_nvme_ctrlr_find(dev_name), ctrlr);
	assert_ptr_equal(pdk_nvme_ctrlr_attach(dev_name, NULL), ctrlr); /* the same one */
}

/* Write then read back every size at every buffer offset; the sizes cross
 * one and two pages (PRP2), need a PRP list, and cross MDTS (splits). */
static void sizes(uint32_t lba_size, const char *knobs)
{
	static const uint32_t bytes[] = {512,    4096,   4096 + 512, 8192,         12288,
					 65536,  131072, 131072 + 4096, 4u << 20};
	static const uint32_t offs[] = {0, 512, 4096 - 512, 4};
	struct pdk_nvme_qpair *qp;
	struct pdk_nvme_ns *ns;
	uint64_t lba = 0;

	nvme_up(knobs, NULL);
	ns = pdk_nvme_ns_next(ctrlr, NULL);
	assert_int_equal(pdk_nvme_ns_sector_size(ns), lba_size);
	qp = pdk_nvme_qpair_alloc(ctrlr, 255);
	assert_non_null(qp);
	for (size_t i = 0; i < PDK_DIM(bytes); i++)
		for (size_t k = 0; k < PDK_DIM(offs); k++) {
			uint32_t count = PDK_MAX(bytes[i] / lba_size, 1u), n = count * lba_size;

			/* more parts than a request may have: -EINVAL, tested in unit */
			if (count / pdk_nvme_ns_max_io_sectors(ns) >= 255)
				continue;

			pattern_fill(buf + offs[k], lba, n, lba_size, (uint32_t)(i * 16 + k));
			assert_int_equal(io_sync(ns, qp, true, buf + offs[k], lba, count), 0);
			memset(back + offs[(k + 1) % PDK_DIM(offs)], 0, n);
			assert_int_equal(io_sync(ns, qp, false, back + offs[(k + 1) % PDK_DIM(offs)],
						 lba, count), 0);
			if (!pattern_ok(back + offs[(k + 1) % PDK_DIM(offs)], lba, n, lba_size,
					(uint32_t)(i * 16 + k)))
				fail_msg("%u bytes at offset %u (LBA size %u): data differs", n,
					 offs[k], lba_size);
			lba += count;
		}
	req_all_once();
	pdk_nvme_qpair_free(qp);
}

static void sizes_512(void **state)
{
	(void)state;
	sizes(512, "ns-size=64m,lba=512");
}

static void sizes_4096(void **state)
{
	(void)state;
	sizes(4096, "ns-size=64m,lba=4096");
}

static void sizes_small_mdts(void **state)
{
	(void)state;
	sizes(512, "ns-size=64m,mdts=1"); /* 8 KiB per command: everything splits */
}

static void sizes_no_shadow(void **state)
{
	struct pdk_nvme_ctrlr_info in;

	(void)state;
	sizes(512, "ns-size=64m,shadow-db=0,mdts=0");
	pdk_nvme_ctrlr_info(ctrlr, &in);
	assert_false(in.dbbuf);
	assert_int_equal(in.max_xfer, 2u << 20);
}

/* Four queue pairs, 32 writes in flight on each, then read back. */
static void several_qpairs(void **state)
{
	struct pdk_nvme_qpair *qp[4];
	struct pdk_nvme_ns *ns;
	struct pdk_nvme_stats st;

	(void)state;
	nvme_up("ns-size=16m,queues=4", NULL);
	ns = pdk_nvme_ns_next(ctrlr, NULL);
	for (int q = 0; q < 4; q++)
		assert_non_null(qp[q] = pdk_nvme_qpair_alloc(ctrlr, 32));
	assert_null(pdk_nvme_qpair_alloc(ctrlr, 32)); /* only 4 granted */
	assert_int_equal(errno, ENOSPC);
	for (int i = 0; i < 128; i++) {
		uint8_t *b = buf + i * 4096;

		pattern_fill(b, (uint64_t)i * 8, 4096, 512, 7);
		assert_int_equal(pdk_nvme_ns_write(ns, qp[i % 4], b, (uint64_t)i * 8, 8, req_done,
						   (void *)(uintptr_t)req_next++, 0), 0);
	}
	for (int q = 0; q < 4; q++)
		assert_true(drain(qp[q], 5000));
	req_all_once();
	for (int i = 0; i < 128; i++) {
		assert_int_equal(io_sync(ns, qp[(i + 1) % 4], false, back, (uint64_t)i * 8, 8), 0);
		assert_true(pattern_ok(back, (uint64_t)i * 8, 4096, 512, 7));
	}
	pdk_nvme_qpair_stats(qp[0], &st);
	assert_int_equal(st.dropped_unknown + st.dropped_stale + st.sq_head_invalid, 0);
	for (int q = 0; q < 4; q++)
		pdk_nvme_qpair_free(qp[q]);
	assert_non_null(qp[0] = pdk_nvme_qpair_alloc(ctrlr, 32)); /* freed ones come back */
	pdk_nvme_qpair_free(qp[0]);
}

static void zeroes_flush_logs(void **state)
{
	struct pdk_nvme_smart_log smart;
	struct pdk_nvme_error_log err[4];
	struct pdk_nvme_qpair *qp;
	struct pdk_nvme_ns *ns;
	uint32_t id;

	(void)state;
	nvme_up("ns-size=16m", NULL);
	ns = pdk_nvme_ns_next(ctrlr, NULL);
	qp = pdk_nvme_qpair_alloc(ctrlr, 0);
	memset(buf, 0xab, 65536);
	assert_int_equal(io_sync(ns, qp, true, buf, 100, 128), 0);
	id = req_next++;
	assert_int_equal(pdk_nvme_ns_write_zeroes(ns, qp, 110, 20, req_done, (void *)(uintptr_t)id,
						  0), 0);
	assert_true(req_wait(qp, id, 5000));
	assert_int_equal(req_status[id], 0);
	id = req_next++;
	assert_int_equal(pdk_nvme_ns_flush(ns, qp, req_done, (void *)(uintptr_t)id), 0);
	assert_true(req_wait(qp, id, 5000));
	assert_int_equal(req_status[id], 0);
	assert_int_equal(io_sync(ns, qp, false, back, 100, 128), 0);
	for (uint32_t i = 0; i < 65536; i++)
		assert_int_equal(back[i], i >= 10 * 512 && i < 30 * 512 ? 0 : 0xab);
	assert_int_equal(pdk_nvme_ctrlr_smart_log(ctrlr, &smart), 0);
	assert_true(smart.host_write_commands[0] >= 1);
	assert_int_equal(pdk_nvme_ctrlr_error_log(ctrlr, err, 4), 0);
	/* beyond the namespace: refused before it reaches the device */
	assert_int_equal(io_sync(ns, qp, false, back, (16u << 20) / 512 - 4, 8), -EINVAL);
	req_all_once();
	pdk_nvme_qpair_free(qp);
}

/* A reset with 64 writes in flight: each completes once, and the data of
 * every write that succeeded reads back. */
static void reset_with_io(void **state)
{
	struct pdk_nvme_qpair *qp;
	struct pdk_nvme_ns *ns;
	struct pdk_nvme_stats st;

	(void)state;
	nvme_up("ns-size=16m,latency-us=2000", NULL);
	ns = pdk_nvme_ns_next(ctrlr, NULL);
	qp = pdk_nvme_qpair_alloc(ctrlr, 128);
	for (int i = 0; i < 64; i++) {
		pattern_fill(buf + i * 4096, (uint64_t)i * 8, 4096, 512, 9);
		assert_int_equal(pdk_nvme_ns_write(ns, qp, buf + i * 4096, (uint64_t)i * 8, 8,
						   req_done, (void *)(uintptr_t)req_next++, 0), 0);
	}
	assert_int_equal(pdk_nvme_ctrlr_reset(ctrlr), 0);
	assert_true(drain(qp, 10000));
	req_all_once();
	for (int i = 0; i < 64; i++) {
		if (req_status[i] != 0)
			continue; /* not acknowledged: either content is fine */
		assert_int_equal(io_sync(ns, qp, false, back, (uint64_t)i * 8, 8), 0);
		assert_true(pattern_ok(back, (uint64_t)i * 8, 4096, 512, 9));
	}
	assert_int_equal(pdk_nvme_ctrlr_stats(ctrlr, &st), 0);
	assert_int_equal(st.resets, 1);
	pdk_nvme_qpair_free(qp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		NVME_TEST(init_identify),
		NVME_TEST(sizes_512),
		NVME_TEST(sizes_4096),
		NVME_TEST(sizes_small_mdts),
		NVME_TEST(sizes_no_shadow),
		NVME_TEST(several_qpairs),
		NVME_TEST(zeroes_flush_logs),
		NVME_TEST(reset_with_io),
	};

	return NVME_TEST_MAIN(tests);
}
