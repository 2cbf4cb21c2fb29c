/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: the NVMe model's command parsing. SQEs from the input are
 * put in the admin queue or an I/O queue of an "nvme" device (no socket,
 * no thread: the model's poll is called here). Queues and shadow
 * doorbells live in one DMA mapping at an IOVA no data looks like, data
 * in another (1 MiB). Input:
 *   byte 0   bit 0: create I/O queue pair 1 first; bit 1: shadow
 *            doorbells first; bits 2-5: malformed completions (unknown
 *            id, duplicate id, stale phase, SQ head past the tail)
 *   then     records of 65 bytes: a selector (bit 0: I/O queue 1,
 *            bit 7: ring and poll now) and a 64-byte SQE (cid replaced)
 * The data memory holds a PRP list at LIST_OFF pointing at the data
 * pages, so PRP2 = DIOVA + LIST_OFF reaches real list walking. Every CQE
 * posted is reaped and, while the input leaves the queues alone (no queue
 * or doorbell-buffer commands, no pointer into the queue memory, no
 * malformed completions), checked: a known SQ, a cid that was submitted,
 * none twice; and a controller still ready must complete one more admin
 * command.
 */
#include <fcntl.h>
#include <linux/pci_regs.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include <pdk_nvme_spec.h>

#include "emu_private.h"
#include "../common/fuzz_check.h"
#include "nvme_private.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define QIOVA 0x5a5a00000000ull /* queues */
#define QMEM 0x10000u
#define DIOVA 0x100000ull       /* data */
#define DMEM (1u << 20)
#define QSZ 16
#define ASQ_OFF 0x0000
#define ACQ_OFF 0x1000
#define IOSQ_OFF 0x2000
#define IOCQ_OFF 0x3000
#define DBS_OFF 0x4000
#define EIS_OFF 0x5000
#define LIST_OFF 0x0000
#define DATA_OFF 0x1000
#define REC 65
#define NCID 4096

struct q {
	uint16_t qid;
	uint32_t tail, head;
	uint8_t phase;
	bool live;
};

static struct pdk_emu_dev *dev;
static uint8_t *qmem, *dmem, *bar;
static struct q qs[2];
static uint8_t done[NCID]; /* completions seen per cid */
static uint16_t next_cid;
static bool strict; /* the queues are as the harness made them */
static bool shadow;

static uint8_t *dma_mem(uint64_t iova, uint32_t size)
{
	struct vfio_user_dma_map m = {.argsz = sizeof(m), .addr = iova, .size = size,
				      .flags = VFIO_USER_DMA_F_READ | VFIO_USER_DMA_F_WRITE};
	int fd = memfd_create("fuzz-nvme", MFD_CLOEXEC);
	uint8_t *p;

	if (fd < 0 || ftruncate(fd, size))
		abort();
	p = mmap(NULL, size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
	if (p == MAP_FAILED || emu_dma_map(dev, &m, fd)) /* takes the fd */
		abort();
	return p;
}

static void setup_once(void)
{
	char err[512];

	pdk_log_set_level(NULL, PDK_LOG_ERR);
	dev = pdk_emu_dev_create("nvme,socket=/nonexistent/fuzz-nvme.sock,queues=2,"
				 "qdepth=16,ns=2,ns-size=64k,mdts=2,ready-us=0",
				 err, sizeof(err));
	if (dev == NULL)
		abort();
	qmem = dma_mem(QIOVA, QMEM);
	dmem = dma_mem(DIOVA, DMEM);
	dev->cfg.hw[PCI_COMMAND] |= PCI_COMMAND_MASTER;
	bar = pdk_emu_bar_mem(dev, 0);
}

static void doorbell(unsigned idx, uint32_t v)
{
	pdk_emu_wr32(bar, PDK_NVME_REG_DBS + 4 * idx, v);
	if (shadow && idx >= 2)
		((uint32_t *)(void *)(qmem + DBS_OFF))[idx] = v;
}

static void poll_n(int n)
{
	for (int i = 0; i < n; i++)
		dev->model->poll(dev);
}

/* Take every posted CQE of queue q and check it. */
static void reap(struct q *q)
{
	struct pdk_nvme_cpl *cq = (struct pdk_nvme_cpl *)(void *)
		(qmem + (q->qid ? IOCQ_OFF : ACQ_OFF));

	for (int n = 0; n < 2 * QSZ && (cq[q->head].status & 1) == q->phase; n++) {
		const struct pdk_nvme_cpl *e = &cq[q->head];

		if (strict) {
			FUZZ_CHECK(e->sqid == q->qid);
			FUZZ_CHECK(e->cid < next_cid);
			FUZZ_CHECK(done[e->cid] == 0);
			done[e->cid]++;
		}
		if (++q->head == QSZ) {
			q->head = 0;
			q->phase ^= 1;
		}
		doorbell(2u * q->qid + 1, q->head);
	}
}

static bool in_queues(uint64_t p)
{
	return p >= QIOVA - 0x100000 && p < QIOVA + QMEM + 0x100000;
}

/* Commands that change the queues, or point into their memory. */
static void check_strict(const struct q *q, const struct pdk_nvme_cmd *c)
{
	static const uint8_t queue_ops[] = {
		PDK_NVME_OPC_DELETE_IO_SQ, PDK_NVME_OPC_CREATE_IO_SQ,
		PDK_NVME_OPC_DELETE_IO_CQ, PDK_NVME_OPC_CREATE_IO_CQ,
		PDK_NVME_OPC_DOORBELL_BUFFER_CONFIG};

	if (in_queues(c->prp1) || in_queues(c->prp2))
		strict = false;
	for (unsigned i = 0; q->qid == 0 && i < sizeof(queue_ops); i++)
		if (c->opc == queue_ops[i])
			strict = false;
}

static void submit(struct q *q, const struct pdk_nvme_cmd *in, bool ring)
{
	struct pdk_nvme_cmd *sq = (struct pdk_nvme_cmd *)(void *)
		(qmem + (q->qid ? IOSQ_OFF : ASQ_OFF));

	sq[q->tail] = *in;
	sq[q->tail].cid = next_cid++ % NCID;
	q->tail = (q->tail + 1) % QSZ;
	if (!ring)
		return;
	doorbell(2u * q->qid, q->tail);
	poll_n(2);
	reap(&qs[0]);
	if (qs[1].live)
		reap(&qs[1]);
}

static void enable(void)
{
	const uint32_t cc = PDK_NVME_CC_EN | 6u << PDK_NVME_CC_IOSQES_SHIFT |
			    4u << PDK_NVME_CC_IOCQES_SHIFT;
	struct nvme_ctrl *c = pdk_emu_dev_priv(dev);

	emu_reset_function(dev);
	memset(c->store, 0, c->store_size); /* each input from the same state */
	memset(qmem, 0, QMEM);
	memset(dmem, 0, DMEM);
	memset(qs, 0, sizeof(qs));
	memset(done, 0, sizeof(done));
	next_cid = 0;
	strict = true;
	shadow = false;
	qs[0].phase = qs[1].phase = 1;
	qs[1].qid = 1;
	pdk_emu_wr32(bar, PDK_NVME_REG_AQA, PDK_NVME_AQA(QSZ, QSZ));
	pdk_emu_wr64(bar, PDK_NVME_REG_ASQ, QIOVA + ASQ_OFF);
	pdk_emu_wr64(bar, PDK_NVME_REG_ACQ, QIOVA + ACQ_OFF);
	pdk_emu_wr32(bar, PDK_NVME_REG_CC, cc);
	poll_n(1);
	FUZZ_CHECK(pdk_emu_rd32(bar, PDK_NVME_REG_CSTS) == PDK_NVME_CSTS_RDY);
	for (unsigned i = 0; i < 255; i++) /* a PRP list over the data pages */
		((uint64_t *)(void *)(dmem + LIST_OFF))[i] = DIOVA + DATA_OFF + 4096ull * i;
}

/* The setup byte: queues, shadow doorbells, malformed completions. */
static void prepare(uint8_t flags)
{
	static const char *const faults[] = {"cpl-unknown-cid=2", "cpl-dup-cid=3",
					     "cpl-stale-phase=2", "cpl-bad-sqhd=2"};
	struct pdk_nvme_cmd c;

	if (flags & 1) {
		c = (struct pdk_nvme_cmd){.opc = PDK_NVME_OPC_CREATE_IO_CQ,
					  .prp1 = QIOVA + IOCQ_OFF,
					  .cdw10 = (QSZ - 1) << 16 | 1, .cdw11 = 3};
		submit(&qs[0], &c, true);
		c = (struct pdk_nvme_cmd){.opc = PDK_NVME_OPC_CREATE_IO_SQ,
					  .prp1 = QIOVA + IOSQ_OFF,
					  .cdw10 = (QSZ - 1) << 16 | 1, .cdw11 = 1u << 16 | 1};
		submit(&qs[0], &c, true);
		qs[1].live = true;
	}
	if (flags & 2) {
		c = (struct pdk_nvme_cmd){.opc = PDK_NVME_OPC_DOORBELL_BUFFER_CONFIG,
					  .prp1 = QIOVA + DBS_OFF, .prp2 = QIOVA + EIS_OFF};
		submit(&qs[0], &c, true);
		shadow = true;
	}
	pdk_emu_dev_inject(dev, "clear");
	for (unsigned i = 0; i < 4; i++) {
		if (flags & (4u << i)) {
			pdk_emu_dev_inject(dev, faults[i]);
			strict = false;
		}
	}
}

/* A live controller still answers. */
static void check_alive(void)
{
	uint32_t csts = pdk_emu_rd32(bar, PDK_NVME_REG_CSTS);
	struct pdk_nvme_cmd c = {.opc = PDK_NVME_OPC_GET_FEATURES,
				 .cdw10 = PDK_NVME_FEAT_ARBITRATION};
	uint16_t before = next_cid;

	if (csts != PDK_NVME_CSTS_RDY || !strict)
		return;
	poll_n(4);
	reap(&qs[0]);
	submit(&qs[0], &c, true);
	poll_n(4);
	reap(&qs[0]);
	FUZZ_CHECK(done[before % NCID] == 1);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 1 || size > 1 + 64 * REC)
		return 0;
	if (dev == NULL)
		setup_once();
	enable();
	prepare(data[0]);
	for (size_t off = 1; off + REC <= size; off += REC) {
		struct pdk_nvme_cmd c;
		struct q *q = (data[off] & 1) && qs[1].live ? &qs[1] : &qs[0];

		memcpy(&c, data + off + 1, sizeof(c));
		check_strict(q, &c);
		submit(q, &c, (data[off] & 0x80) || off + 2 * REC > size);
	}
	poll_n(8);
	reap(&qs[0]);
	if (qs[1].live)
		reap(&qs[1]);
	check_alive();
	return 0;
}
