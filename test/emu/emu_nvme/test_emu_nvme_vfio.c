/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The NVMe model through lib/vfio's vfio-user backend, the way the NVMe
 * driver reaches it: pdk_vfio_dev_open("vfio-user:<socket>"), BAR plans,
 * EAL memory shared by fd, MSI-X eventfds. The same bring-up and I/O in
 * every BAR layout the framework offers (MSI-X table beside the doorbells
 * or in its own BAR; mappable whole, sparse, around it by hand, slow
 * path only; 64 KiB host pages that swallow the register BAR).
 */
#include "emu_test.h"

#include <pdk_eal.h>
#include <pdk_emu_nvme.h>
#include <pdk_memory.h>
#include <pdk_nvme_spec.h>
#include <pdk_pci.h>
#include <pdk_vfio.h>

#define EAL_ARGS "prog", "-l", "0", "--no-huge", "-m", "32"
#define QSZ 16

struct q {
	uint16_t qid;
	struct pdk_nvme_cmd *sq;
	struct pdk_nvme_cpl *cq;
	uint32_t tail, head;
	uint8_t phase;
};

struct drv {
	struct pdk_emu_dev *srv;
	struct pdk_vfio_dev *d;
	struct pdk_vfio_bar *bar;
	int fds[4];
	struct q aq, iq;
};

static int group_setup(void **state)
{
	TEST_ARGV(argv, EAL_ARGS, "--no-pci");

	(void)state;
	pdk_log_set_level(NULL, getenv("EMU_TEST_DEBUG") ? PDK_LOG_DEBUG : PDK_LOG_WARNING);
	return pdk_eal_init(argv_c, argv) > 0 ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	pdk_eal_cleanup();
	emu_cleanup_dir();
	return 0;
}

static void q_alloc(struct q *q, uint16_t qid)
{
	q->qid = qid;
	q->sq = pdk_malloc("test", 64 * QSZ, 4096);
	q->cq = pdk_malloc("test", 4096, 4096);
	assert_non_null(q->sq);
	assert_non_null(q->cq);
	memset(q->cq, 0, 4096);
	q->tail = q->head = 0;
	q->phase = 1;
}

static void q_free(struct q *q)
{
	pdk_free(q->sq);
	pdk_free(q->cq);
}

/* Submit, wait for the completion by its phase, ring the head: status. */
static uint16_t cmd(struct drv *v, struct q *q, struct pdk_nvme_cmd c)
{
	int64_t end = emu_test_ms() + 3000;
	struct pdk_nvme_cpl e;

	c.cid = (uint16_t)q->tail;
	q->sq[q->tail] = c;
	q->tail = (q->tail + 1) % QSZ;
	pdk_vfio_bar_write32(v->bar, pdk_nvme_sq_doorbell(q->qid, 0), q->tail);
	while ((__atomic_load_n(&q->cq[q->head].status, __ATOMIC_ACQUIRE) & 1) != q->phase)
		if (emu_test_ms() > end)
			fail_msg("no completion for opc 0x%x on queue %u", c.opc, q->qid);
	e = q->cq[q->head];
	assert_int_equal(e.cid, c.cid);
	if (++q->head == QSZ) {
		q->head = 0;
		q->phase ^= 1;
	}
	pdk_vfio_bar_write32(v->bar, pdk_nvme_cq_doorbell(q->qid, 0), q->head);
	return e.status & 0xfffe;
}

static void ctrl_up(struct drv *v)
{
	uint64_t cap = pdk_vfio_bar_read64(v->bar, PDK_NVME_REG_CAP);
	int64_t end = emu_test_ms() + 500 * PDK_NVME_CAP_TO(cap);

	assert_int_equal(pdk_vfio_bar_read32(v->bar, PDK_NVME_REG_VS), 0x10400);
	q_alloc(&v->aq, 0);
	pdk_vfio_bar_write32(v->bar, PDK_NVME_REG_AQA, PDK_NVME_AQA(QSZ, QSZ));
	pdk_vfio_bar_write64(v->bar, PDK_NVME_REG_ASQ, pdk_mem_virt2iova(v->aq.sq));
	pdk_vfio_bar_write64(v->bar, PDK_NVME_REG_ACQ, pdk_mem_virt2iova(v->aq.cq));
	pdk_vfio_bar_write32(v->bar, PDK_NVME_REG_CC, PDK_NVME_CC_EN |
			     6u << PDK_NVME_CC_IOSQES_SHIFT | 4u << PDK_NVME_CC_IOCQES_SHIFT);
	while (!(pdk_vfio_bar_read32(v->bar, PDK_NVME_REG_CSTS) & PDK_NVME_CSTS_RDY))
		if (emu_test_ms() > end)
			fail_msg("CSTS.RDY not set within CAP.TO");
	q_alloc(&v->iq, 1);
	assert_int_equal(cmd(v, &v->aq, (struct pdk_nvme_cmd){
		.opc = PDK_NVME_OPC_CREATE_IO_CQ, .prp1 = pdk_mem_virt2iova(v->iq.cq),
		.cdw10 = (QSZ - 1) << 16 | 1, .cdw11 = 3u << 16 | 3}), 0); /* IEN, vector 3 */
	assert_int_equal(cmd(v, &v->aq, (struct pdk_nvme_cmd){
		.opc = PDK_NVME_OPC_CREATE_IO_SQ, .prp1 = pdk_mem_virt2iova(v->iq.sq),
		.cdw10 = (QSZ - 1) << 16 | 1, .cdw11 = 1u << 16 | 1}), 0);
}

static void open_drv(struct drv *v, const char *knobs)
{
	char name[256];

	v->srv = emu_start("nvme", emu_path("vfio.sock"), knobs);
	snprintf(name, sizeof(name), "vfio-user:%s", pdk_emu_dev_socket(v->srv));
	v->d = pdk_vfio_dev_open(name, 0);
	if (v->d == NULL)
		fail_msg("open %s (%s): %s", name, knobs, strerror(errno));
	assert_int_equal(pdk_vfio_dev_map_bars(v->d), 0);
	assert_int_equal(pdk_vfio_dev_set_bus_master(v->d, true), 0);
	assert_int_equal(pdk_vfio_msix_enable(v->d, 4, v->fds), 0);
	v->bar = pdk_vfio_dev_bar(v->d, 0);
	assert_non_null(v->bar);
}

static void close_drv(struct drv *v)
{
	pdk_vfio_msix_disable(v->d);
	pdk_vfio_dev_close(v->d);
	pdk_emu_dev_destroy(v->srv);
	q_free(&v->aq);
	q_free(&v->iq);
}

/* 8 KiB written with PRP1 + PRP2 and read back; the CQ's vector fires. */
static void io_roundtrip(struct drv *v)
{
	uint8_t *a = pdk_malloc("test", 8192, 4096), *b = pdk_malloc("test", 8192, 4096);
	uint64_t ia = pdk_mem_virt2iova(a), ib = pdk_mem_virt2iova(b);

	for (int i = 0; i < 8192; i++)
		a[i] = (uint8_t)(i * 13 + 1);
	memset(b, 0, 8192);
	assert_int_equal(cmd(v, &v->iq, (struct pdk_nvme_cmd){
		.opc = PDK_NVME_OPC_WRITE, .nsid = 1, .prp1 = ia, .prp2 = ia + 4096,
		.cdw10 = 100, .cdw12 = 15}), 0);
	assert_int_equal(emu_wait_event(v->fds[3], 3000), 1);
	assert_int_equal(cmd(v, &v->iq, (struct pdk_nvme_cmd){
		.opc = PDK_NVME_OPC_READ, .nsid = 1, .prp1 = ib, .prp2 = ib + 4096,
		.cdw10 = 100, .cdw12 = 15}), 0);
	assert_memory_equal(a, b, 8192);
	pdk_free(a);
	pdk_free(b);
}

static void test_layouts(void **state)
{
	static const struct {
		const char *knobs;
		unsigned table_bar;
	} cases[] = {
		{"", 0},
		{"msix=own", PDK_EMU_NVME_MSIX_OWN_BAR},
		{"msix-mmap=sparse", 0},
		{"msix-mmap=none", 0},
		{"msix-mmap=slow", 0},
		{"page-size=64k,msix-mmap=sparse", 0},
		{"msix=own,msix-mmap=slow,page-size=64k", PDK_EMU_NVME_MSIX_OWN_BAR},
	};

	(void)state;
	for (size_t i = 0; i < PDK_DIM(cases); i++) {
		struct pdk_pci_msix_info mi;
		struct drv v = {0};

		open_drv(&v, cases[i].knobs);
		assert_int_equal(pdk_pci_msix_info(pdk_vfio_dev_cfg(v.d), &mi), 0);
		assert_int_equal(mi.table_bar, cases[i].table_bar);
		if (cases[i].table_bar == 0)
			assert_int_equal(mi.table_offset, PDK_EMU_NVME_MSIX_SHARED_OFF);
		ctrl_up(&v);
		io_roundtrip(&v);
		close_drv(&v);
	}
}

/* A device reset through lib/vfio: the controller comes up again. */
static void test_reset(void **state)
{
	struct drv v = {0};

	(void)state;
	open_drv(&v, "");
	ctrl_up(&v);
	assert_int_equal(pdk_vfio_dev_reset(v.d), 0);
	assert_int_equal(pdk_vfio_bar_read32(v.bar, PDK_NVME_REG_CSTS), 0);
	q_free(&v.aq);
	q_free(&v.iq);
	ctrl_up(&v);
	io_roundtrip(&v);
	close_drv(&v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_layouts),
		cmocka_unit_test(test_reset),
	};

	pdk_log_set_level(NULL, PDK_LOG_WARNING);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
