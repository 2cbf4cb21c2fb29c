/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * I/O on the NVMe model with hand-built PRPs: PRP1 only, PRP1 + PRP2,
 * PRP lists (with an offset, scattered pages, chained list pages), every
 * PRP error, MDTS, LBA ranges, namespaces, both LBA sizes, Write Zeroes,
 * data surviving resets, a file-backed namespace durable after Flush,
 * DMA to an unmapped IOVA, MSI-X per CQ with masking, a full CQ, the
 * latency knob, and memory reached through DMA messages.
 */
#include "nvme_test.h"

#include <fcntl.h>
#include <sys/mman.h>

#define W PDK_NVME_OPC_WRITE
#define R PDK_NVME_OPC_READ

static struct nt T;
static uint8_t *buf; /* 1 MiB of data pages */
static uint64_t buf_iova;

static void start(const char *knobs)
{
	nt_open(&T, emu_path("io.sock"), knobs);
	nt_enable(&T);
	nt_qpair(&T, 1, 64, 1);
	buf_iova = nt_alloc(&T, 1 << 20, (void **)&buf);
}

static int setup(void **state)
{
	(void)state;
	start("ns=2,ns-size=4m");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	nt_close(&T);
	return 0;
}

static uint16_t io(uint8_t opc, uint32_t nsid, uint64_t slba, uint32_t nlb,
		   uint64_t prp1, uint64_t prp2)
{
	struct pdk_nvme_cmd cmd = nt_rw(opc, nsid, slba, nlb, prp1, prp2);

	return nt_cmd(&T, &T.io[1], &cmd, NULL);
}

/* Read nlb blocks into buf + off through a list of adjacent pages. */
static uint16_t read_linear(uint32_t nsid, uint64_t slba, uint32_t nlb, size_t off)
{
	static uint64_t *list;
	static uint64_t list_iova;
	uint64_t len = (uint64_t)nlb * 512, first = buf_iova + off;
	uint64_t next = PDK_ALIGN_FLOOR(first, 4096ull) + 4096;

	if (list == NULL || list_iova < NT_IOVA || list_iova >= NT_IOVA + T.used)
		list_iova = nt_alloc(&T, 4096, (void **)&list);
	for (unsigned i = 0; i < 512; i++)
		list[i] = next + i * 4096ull;
	if (len <= next - first)
		return io(R, nsid, slba, nlb, first, 0);
	if (len <= next - first + 4096)
		return io(R, nsid, slba, nlb, first, next);
	return io(R, nsid, slba, nlb, first, list_iova);
}

static void fill(uint8_t *p, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed * 31 + i * 7 + (i >> 9));
}

static void test_prp1_only(void **state)
{
	(void)state;
	fill(buf, 4096, 1);
	assert_int_equal(io(W, 1, 10, 1, buf_iova, 0), NT_OK);
	/* read it back into the middle of a page: still PRP1 only */
	assert_int_equal(io(R, 1, 10, 1, buf_iova + 0x10000 + 0x200, 0), NT_OK);
	assert_memory_equal(buf, buf + 0x10000 + 0x200, 512);
	/* a whole page */
	assert_int_equal(io(W, 1, 16, 8, buf_iova, 0), NT_OK);
	assert_int_equal(io(R, 1, 16, 8, buf_iova + 0x20000, 0), NT_OK);
	assert_memory_equal(buf, buf + 0x20000, 4096);
}

static void test_prp2(void **state)
{
	(void)state;
	/* two pages, not adjacent */
	fill(buf, 4096, 2);
	fill(buf + 0x5000, 4096, 3);
	assert_int_equal(io(W, 1, 100, 16, buf_iova, buf_iova + 0x5000), NT_OK);
	assert_int_equal(io(R, 1, 100, 8, buf_iova + 0x30000, 0), NT_OK);
	assert_memory_equal(buf, buf + 0x30000, 4096);
	assert_int_equal(io(R, 1, 108, 8, buf_iova + 0x30000, 0), NT_OK);
	assert_memory_equal(buf + 0x5000, buf + 0x30000, 4096);
	/* one page's worth from an offset: spills into PRP2's page */
	assert_int_equal(io(R, 1, 100, 8, buf_iova + 0x40800, buf_iova + 0x48000), NT_OK);
	assert_memory_equal(buf + 0x40800, buf, 0x800);
	assert_memory_equal(buf + 0x48000, buf + 0x800, 0x800);
}

/* 64 KiB through a PRP list of scattered pages, list at an offset. */
static void test_prp_list(void **state)
{
	uint64_t *list;
	uint64_t list_iova = nt_alloc(&T, 4096, (void **)&list);
	const unsigned pages = 16;

	(void)state;
	fill(buf, 65536, 4);
	/* PRP1 = page 0; the list holds pages 1..15, placed in reverse */
	for (unsigned i = 1; i < pages; i++) {
		memcpy(buf + 0x80000 + (pages - i) * 0x2000, buf + i * 4096, 4096);
		list[64 + i - 1] = buf_iova + 0x80000 + (pages - i) * 0x2000;
	}
	assert_int_equal(io(W, 1, 1000, 128, buf_iova, list_iova + 64 * 8), NT_OK);
	/* read back contiguous through a list of adjacent pages */
	for (unsigned i = 1; i < pages; i++)
		list[i - 1] = buf_iova + 0x40000 + i * 4096;
	assert_int_equal(io(R, 1, 1000, 128, buf_iova + 0x40000, list_iova), NT_OK);
	assert_memory_equal(buf, buf + 0x40000, 65536);
}

/* A list page with room for 4 entries: 3 data pages, then a pointer. */
static void test_prp_chain(void **state)
{
	uint64_t *l1, *l2;
	uint64_t l1_iova = nt_alloc(&T, 4096, (void **)&l1);
	uint64_t l2_iova = nt_alloc(&T, 4096, (void **)&l2);

	(void)state;
	fill(buf, 8 * 4096, 5);
	/* 8 pages from offset 0x400 of page 0: 7 more pages + a partial one */
	l1[508] = buf_iova + 1 * 4096;
	l1[509] = buf_iova + 2 * 4096;
	l1[510] = buf_iova + 3 * 4096;
	l1[511] = l2_iova + 8; /* the next list, at an offset */
	for (unsigned i = 0; i < 5; i++)
		l2[1 + i] = buf_iova + (4 + i) * 4096;
	assert_int_equal(io(W, 1, 2000, 64, buf_iova + 0x400, l1_iova + 508 * 8), NT_OK);
	assert_int_equal(read_linear(1, 2000, 64, 0x60000), NT_OK);
	assert_memory_equal(buf + 0x400, buf + 0x60000, 0x8000);
}

static void test_prp_errors(void **state)
{
	uint64_t *list;
	uint64_t list_iova = nt_alloc(&T, 4096, (void **)&list);
	const uint16_t bad = NT_SC(PDK_NVME_SC_INVALID_PRP_OFFSET);

	(void)state;
	assert_int_equal(io(R, 1, 0, 1, buf_iova + 2, 0), bad);
	assert_int_equal(io(R, 1, 0, 16, buf_iova, buf_iova + 0x1200), bad);
	list[0] = buf_iova + 0x1000;
	list[1] = buf_iova + 0x2100; /* data entries start at a page */
	assert_int_equal(io(R, 1, 0, 24, buf_iova, list_iova), bad);
	assert_int_equal(io(R, 1, 0, 24, buf_iova, list_iova + 4), bad);
	/* a list page holding only the pointer to the next one */
	list[511] = list_iova;
	assert_int_equal(io(R, 1, 0, 24, buf_iova, list_iova + 511 * 8), bad);
	/* nothing broke */
	list[1] = buf_iova + 0x2000;
	assert_int_equal(io(R, 1, 0, 24, buf_iova, list_iova), NT_OK);
}

/* mdts=5: 128 KiB, in 512-byte blocks 256; Write Zeroes has no limit. */
static void test_mdts_and_range(void **state)
{
	const uint16_t oor = NT_SC(PDK_NVME_SC_LBA_OUT_OF_RANGE);
	uint64_t *list;
	uint64_t list_iova = nt_alloc(&T, 4096, (void **)&list);

	(void)state;
	for (unsigned i = 0; i < 64; i++)
		list[i] = buf_iova + (i + 1) * 4096;
	assert_int_equal(io(R, 1, 0, 256, buf_iova, list_iova), NT_OK);
	assert_int_equal(io(R, 1, 0, 257, buf_iova, list_iova),
			 NT_SC(PDK_NVME_SC_INVALID_FIELD));
	assert_int_equal(io(PDK_NVME_OPC_WRITE_ZEROES, 1, 0, 8192, 0, 0), NT_OK);
	/* 4 MiB = 8192 blocks */
	assert_int_equal(io(R, 1, 8191, 1, buf_iova, 0), NT_OK);
	assert_int_equal(io(R, 1, 8192, 1, buf_iova, 0), oor);
	assert_int_equal(io(R, 1, 8190, 4, buf_iova, 0), oor);
	assert_int_equal(io(R, 1, UINT64_MAX, 2, buf_iova, 0), oor);
	assert_int_equal(io(W, 1, 1ull << 40, 1, buf_iova, 0), oor);
	assert_int_equal(io(PDK_NVME_OPC_WRITE_ZEROES, 1, 8000, 193, 0, 0), oor);
}

static void test_namespaces_and_opcodes(void **state)
{
	const uint16_t inv = NT_SC(PDK_NVME_SC_INVALID_NAMESPACE);
	struct pdk_nvme_cmd cmd;

	(void)state;
	memset(buf, 0x11, 512);
	memset(buf + 512, 0x22, 512);
	assert_int_equal(io(W, 1, 5, 1, buf_iova, 0), NT_OK);
	assert_int_equal(io(W, 2, 5, 1, buf_iova + 512, 0), NT_OK);
	assert_int_equal(io(R, 1, 5, 1, buf_iova + 4096, 0), NT_OK);
	assert_int_equal(io(R, 2, 5, 1, buf_iova + 8192, 0), NT_OK);
	assert_memory_equal(buf + 4096, buf, 512);
	assert_memory_equal(buf + 8192, buf + 512, 512);
	assert_int_equal(io(R, 0, 0, 1, buf_iova, 0), inv);
	assert_int_equal(io(R, 3, 0, 1, buf_iova, 0), inv);
	assert_int_equal(io(W, PDK_NVME_NSID_ALL, 0, 1, buf_iova, 0), inv);
	assert_int_equal(io(PDK_NVME_OPC_FLUSH, 3, 0, 1, 0, 0), inv);
	assert_int_equal(io(PDK_NVME_OPC_FLUSH, PDK_NVME_NSID_ALL, 0, 1, 0, 0), NT_OK);
	assert_int_equal(io(PDK_NVME_OPC_FLUSH, 2, 0, 1, 0, 0), NT_OK);
	assert_int_equal(io(0x7f, 1, 0, 1, 0, 0), NT_SC(PDK_NVME_SC_INVALID_OPCODE));
	assert_int_equal(io(PDK_NVME_OPC_DATASET_MANAGEMENT, 1, 0, 1, 0, 0),
			 NT_SC(PDK_NVME_SC_INVALID_OPCODE));
	cmd = nt_rw(R, 1, 0, 1, buf_iova, 0);
	cmd.flags = 0x40; /* SGLs */
	assert_int_equal(nt_cmd(&T, &T.io[1], &cmd, NULL), NT_SC(PDK_NVME_SC_INVALID_FIELD));
	assert_int_equal(nt_stats(&T).flushes, 2);
}

static void test_write_zeroes(void **state)
{
	(void)state;
	memset(buf, 0xab, 16 * 512);
	assert_int_equal(io(W, 1, 300, 16, buf_iova, buf_iova + 4096), NT_OK);
	assert_int_equal(io(PDK_NVME_OPC_WRITE_ZEROES, 1, 304, 4, 0, 0), NT_OK);
	assert_int_equal(io(R, 1, 300, 16, buf_iova + 0x10000, buf_iova + 0x11000), NT_OK);
	for (unsigned i = 0; i < 16 * 512; i++)
		assert_int_equal(buf[0x10000 + i], i / 512 >= 4 && i / 512 < 8 ? 0 : 0xab);
}

/* 4 KiB LBAs: sizes, MDTS in blocks, a transfer over two pages. */
static void test_lba_4096(void **state)
{
	(void)state;
	nt_close(&T);
	start("lba=4096,ns-size=8m,mdts=3");
	fill(buf, 8192, 6);
	assert_int_equal(io(W, 1, 2047, 1, buf_iova, 0), NT_OK);
	assert_int_equal(io(W, 1, 7, 2, buf_iova, buf_iova + 4096), NT_OK);
	assert_int_equal(io(R, 1, 7, 2, buf_iova + 0x10000, buf_iova + 0x11000), NT_OK);
	assert_memory_equal(buf, buf + 0x10000, 8192);
	assert_int_equal(io(R, 1, 2048, 1, buf_iova, 0), NT_SC(PDK_NVME_SC_LBA_OUT_OF_RANGE));
	assert_int_equal(io(R, 1, 0, 9, buf_iova, 0), NT_SC(PDK_NVME_SC_INVALID_FIELD));
}

static void write_pattern(uint64_t lba, unsigned seed)
{
	fill(buf, 4096, seed);
	assert_int_equal(io(W, 1, lba, 8, buf_iova, 0), NT_OK);
}

static void check_pattern(uint64_t lba, unsigned seed)
{
	fill(buf + 0x8000, 4096, seed);
	assert_int_equal(io(R, 1, lba, 8, buf_iova, 0), NT_OK);
	assert_memory_equal(buf, buf + 0x8000, 4096);
}

/* Controller reset, function reset, a new client: the data stays. */
static void test_data_survives_resets(void **state)
{
	(void)state;
	write_pattern(64, 7);
	nt_disable(&T);
	nt_enable(&T);
	nt_qpair(&T, 1, 64, 1);
	check_pattern(64, 7);
	assert_int_equal(vuc_reset(&T.c), 0);
	nt_enable(&T);
	nt_qpair(&T, 1, 64, 1);
	check_pattern(64, 7);
	nt_disconnect(&T);
	nt_connect(&T);
	nt_enable(&T);
	nt_qpair(&T, 1, 64, 1);
	check_pattern(64, 7);
}

/* A file-backed namespace: durable after Flush, read by a new device. */
static void test_file_backed(void **state)
{
	char path[128], knobs[200], spec[400], err[512];
	uint8_t disk[4096], want[4096];
	int fd;

	(void)state;
	nt_close(&T);
	snprintf(path, sizeof(path), "%s", emu_path("ns.img"));
	unlink(path);
	snprintf(knobs, sizeof(knobs), "file=%s,ns=2,ns-size=1m", path);
	start(knobs);
	write_pattern(8, 9);
	fill(buf, 4096, 10);
	assert_int_equal(io(W, 2, 0, 8, buf_iova, 0), NT_OK);
	assert_int_equal(io(PDK_NVME_OPC_FLUSH, 1, 0, 1, 0, 0), NT_OK);
	/* one file in use by one device */
	snprintf(spec, sizeof(spec), "nvme,socket=%s,%s", emu_path("io2.sock"), knobs);
	assert_null(pdk_emu_dev_create(spec, err, sizeof(err)));
	assert_non_null(strstr(err, "'file'"));
	nt_close(&T);
	/* on disk: namespace 2 starts at 1 MiB */
	fd = open(path, O_RDONLY);
	assert_true(fd >= 0);
	assert_int_equal(pread(fd, disk, 4096, 8 * 512), 4096);
	fill(want, 4096, 9);
	assert_memory_equal(disk, want, 4096);
	assert_int_equal(pread(fd, disk, 4096, 1 << 20), 4096);
	fill(want, 4096, 10);
	assert_memory_equal(disk, want, 4096);
	close(fd);
	/* a new device on the same file */
	start(knobs);
	check_pattern(8, 9);
	assert_int_equal(io(R, 2, 0, 8, buf_iova, 0), NT_OK);
	assert_memory_equal(buf, want, 4096);
	nt_close(&T);
	unlink(path);
	start("");
}

static void test_dma_unmapped(void **state)
{
	const uint16_t dte = NT_SC(PDK_NVME_SC_DATA_TRANSFER_ERROR);
	const uint64_t hole = 0x700000000ull;
	uint64_t *list;
	uint64_t list_iova = nt_alloc(&T, 4096, (void **)&list);

	(void)state;
	assert_int_equal(io(R, 1, 0, 1, hole, 0), dte);
	assert_int_equal(io(W, 1, 0, 1, hole, 0), dte);
	assert_int_equal(io(R, 1, 0, 16, buf_iova, hole), dte);
	assert_int_equal(io(R, 1, 0, 24, buf_iova, hole), dte); /* the list itself */
	list[0] = buf_iova + 4096;
	list[1] = hole;
	assert_int_equal(io(R, 1, 0, 24, buf_iova, list_iova), dte);
	/* past the end of the mapping */
	assert_int_equal(io(R, 1, 0, 16, NT_IOVA + NT_MEM - 4096, NT_IOVA + NT_MEM), dte);
	assert_int_equal(nt_stats(&T).dma_errors, 6);
	assert_int_equal(io(R, 1, 0, 1, buf_iova, 0), NT_OK);
}

/* Each CQ its vector; masking holds it, unmasking delivers it. */
static void test_msix_per_cq(void **state)
{
	struct pdk_nvme_cmd cmd;
	uint8_t one = 1;

	(void)state;
	nt_qpair(&T, 2, 16, 3);
	for (int i = 0; i < NT_NVEC; i++)
		emu_wait_event(T.efd[i], 0);
	cmd = nt_rw(PDK_NVME_OPC_FLUSH, 1, 0, 1, 0, 0);
	assert_int_equal(nt_cmd(&T, &T.io[2], &cmd, NULL), NT_OK);
	assert_int_equal(emu_wait_event(T.efd[3], NT_TIMEOUT_MS), 1);
	assert_int_equal(emu_wait_event(T.efd[1], 0), 0);
	assert_int_equal(io(PDK_NVME_OPC_FLUSH, 1, 0, 1, 0, 0), NT_OK);
	assert_int_equal(emu_wait_event(T.efd[1], NT_TIMEOUT_MS), 1);
	assert_int_equal(emu_wait_event(T.efd[3], 0), 0);
	/* the admin CQ fires vector 0 */
	assert_int_equal(nt_identify(&T, PDK_NVME_CNS_CTRLR, 0, NULL), NT_OK);
	assert_int_equal(emu_wait_event(T.efd[0], NT_TIMEOUT_MS), 1);
	assert_int_equal(vuc_set_irqs(&T.c, VFIO_PCI_MSIX_IRQ_INDEX,
				      VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_MASK,
				      3, 1, NULL, 0, NULL), 0);
	assert_int_equal(nt_cmd(&T, &T.io[2], &cmd, NULL), NT_OK);
	assert_int_equal(emu_wait_event(T.efd[3], 20), 0);
	assert_int_equal(vuc_set_irqs(&T.c, VFIO_PCI_MSIX_IRQ_INDEX,
				      VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_UNMASK,
				      3, 1, NULL, 0, &one), 0);
	assert_int_equal(emu_wait_event(T.efd[3], NT_TIMEOUT_MS), 1);
}

/* A CQ with 3 free slots and 8 commands: 3 posted, the rest wait. */
static void test_cq_full(void **state)
{
	struct ntq *q = &T.io[3];
	struct pdk_nvme_cmd create;
	struct pdk_nvme_cpl e;

	(void)state;
	memset(q, 0, sizeof(*q));
	q->qid = 3;
	q->phase = 1;
	q->size = 16;
	q->sq_iova = nt_alloc(&T, 4096, (void **)&q->sq);
	q->cq_iova = nt_alloc(&T, 4096, (void **)&q->cq);
	create = (struct pdk_nvme_cmd){.opc = PDK_NVME_OPC_CREATE_IO_CQ, .prp1 = q->cq_iova,
				       .cdw10 = 3u << 16 | 3, .cdw11 = 1};
	assert_int_equal(nt_cmd(&T, &T.admin, &create, NULL), NT_OK);
	create = (struct pdk_nvme_cmd){.opc = PDK_NVME_OPC_CREATE_IO_SQ, .prp1 = q->sq_iova,
				       .cdw10 = 15u << 16 | 3, .cdw11 = 3u << 16 | 1};
	assert_int_equal(nt_cmd(&T, &T.admin, &create, NULL), NT_OK);
	for (int i = 0; i < 8; i++) {
		struct pdk_nvme_cmd cmd = nt_rw(PDK_NVME_OPC_FLUSH, 1, 0, 1, 0, 0);

		nt_queue_cmd(q, &cmd);
	}
	nt_ring(&T, q);
	emu_sleep_ms(30);
	/* 3 entries, the 4th slot untouched: a full CQ is never overwritten */
	assert_int_equal(q->cq[2].status & 1, 1);
	assert_int_equal(q->cq[3].status, 0);
	assert_true(nt_stats(&T).cq_full >= 1);
	q->size = 4; /* the CQ's size from here on */
	for (uint16_t i = 0; i < 8; i++) {
		assert_int_equal(nt_reap(&T, q, &e, NT_TIMEOUT_MS), 0);
		assert_int_equal(e.cid, i);
		assert_int_equal(e.sqhd, 8); /* all 8 fetched in one round */
	}
	assert_int_equal(nt_reap(&T, q, NULL, 20), -ETIMEDOUT);
}

static void test_latency(void **state)
{
	int64_t t0;

	(void)state;
	nt_close(&T);
	start("latency-us=20000");
	t0 = emu_test_ms();
	assert_int_equal(io(PDK_NVME_OPC_FLUSH, 1, 0, 1, 0, 0), NT_OK);
	assert_true(emu_test_ms() - t0 >= 19);
}

/* Data buffers the client serves with DMA_READ/WRITE replies (no fd). */
static void test_dma_messages(void **state)
{
	static uint8_t local[65536] __attribute__((aligned(4096)));
	const uint64_t iova = 0x800000000ull;
	struct pdk_nvme_cmd cmd;
	struct pdk_nvme_cpl e;
	uint64_t *list;
	uint64_t list_iova = nt_alloc(&T, 4096, (void **)&list);

	(void)state;
	assert_int_equal(vuc_dma_map_local(&T.c, iova, local, sizeof(local)), 0);
	fill(local, 16384, 11);
	for (int i = 0; i < 3; i++)
		list[i] = iova + (i + 1) * 4096ull;
	cmd = nt_rw(W, 1, 40, 32, iova, list_iova);
	nt_submit(&T, &T.io[1], &cmd);
	/* the client serves the device's requests while it waits on a call */
	for (int i = 0; i < 5000 && !nt_cqe_ready(&T.io[1]); i++)
		vuc_rd32(&T.c, 0, PDK_NVME_REG_CSTS);
	assert_int_equal(nt_reap(&T, &T.io[1], &e, NT_TIMEOUT_MS), 0);
	assert_int_equal(e.status & 0xfffe, NT_OK);
	assert_true(T.c.dma_served >= 1);
	assert_int_equal(read_linear(1, 40, 32, 0x10000), NT_OK);
	assert_memory_equal(buf + 0x10000, local, 16384);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_prp1_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prp2, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prp_list, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prp_chain, setup, teardown),
		cmocka_unit_test_setup_teardown(test_prp_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mdts_and_range, setup, teardown),
		cmocka_unit_test_setup_teardown(test_namespaces_and_opcodes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_write_zeroes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lba_4096, setup, teardown),
		cmocka_unit_test_setup_teardown(test_data_survives_resets, setup, teardown),
		cmocka_unit_test_setup_teardown(test_file_backed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_unmapped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_msix_per_cq, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cq_full, setup, teardown),
		cmocka_unit_test_setup_teardown(test_latency, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_messages, setup, teardown),
	};

	return NT_MAIN(tests);
}
