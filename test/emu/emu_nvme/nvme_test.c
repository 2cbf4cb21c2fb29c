/* SPDX-License-Identifier: BSD-3-Clause */
/* The tests' side of the NVMe wire; see nvme_test.h. */
#include "nvme_test.h"

#include <sys/eventfd.h>
#include <sys/mman.h>

void nt_connect(struct nt *t)
{
	const uint32_t rw = VFIO_USER_DMA_F_READ | VFIO_USER_DMA_F_WRITE;

	assert_int_equal(vuc_connect(&t->c, t->path), 0);
	assert_int_equal(vuc_bus_master(&t->c, true), 0);
	t->bar = vuc_map_bar(&t->c, 0, &t->r);
	assert_non_null(t->bar);
	assert_int_equal(vuc_dma_map(&t->c, NT_IOVA, NT_MEM, t->memfd, 0, rw), 0);
	assert_int_equal(vuc_set_irqs(&t->c, VFIO_PCI_MSIX_IRQ_INDEX,
				      VFIO_IRQ_SET_DATA_EVENTFD |
				      VFIO_IRQ_SET_ACTION_TRIGGER, 0, NT_NVEC,
				      t->efd, NT_NVEC, NULL), 0);
}

void nt_disconnect(struct nt *t)
{
	vuc_unmap_region(&t->r, t->bar);
	t->bar = NULL;
	vuc_close(&t->c);
}

void nt_attach(struct nt *t, const char *path)
{
	memset(t, 0, sizeof(*t));
	snprintf(t->path, sizeof(t->path), "%s", path);
	t->memfd = vuc_memfd(NT_MEM, (void **)&t->mem);
	assert_true(t->memfd >= 0);
	for (int i = 0; i < NT_NVEC; i++)
		t->efd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	nt_connect(t);
}

void nt_open(struct nt *t, const char *path, const char *knobs)
{
	char k[256];
	struct pdk_emu_dev *dev;

	snprintf(k, sizeof(k), "idle-us=50,vectors=%d%s%s", NT_NVEC,
		 knobs && knobs[0] ? "," : "", knobs ? knobs : "");
	dev = emu_start("nvme", path, k);
	nt_attach(t, path);
	t->dev = dev;
}

void nt_close(struct nt *t)
{
	if (t->bar)
		nt_disconnect(t);
	pdk_emu_dev_destroy(t->dev);
	munmap(t->mem, NT_MEM);
	close(t->memfd);
	for (int i = 0; i < NT_NVEC; i++)
		close(t->efd[i]);
	memset(t, 0, sizeof(*t));
}

uint64_t nt_alloc(struct nt *t, size_t size, void **p)
{
	size_t off = PDK_ALIGN_CEIL(t->used, (size_t)4096);

	assert_true(off + size <= NT_MEM);
	t->used = off + size;
	memset(t->mem + off, 0, size);
	if (p)
		*p = t->mem + off;
	return NT_IOVA + off;
}

uint32_t nt_reg32(struct nt *t, uint32_t off)
{
	return pdk_emu_rd32(t->bar, off);
}

uint64_t nt_reg64(struct nt *t, uint32_t off)
{
	return pdk_emu_rd64(t->bar, off);
}

void nt_wreg32(struct nt *t, uint32_t off, uint32_t v)
{
	pdk_emu_wr32(t->bar, off, v);
}

uint32_t nt_wait_csts(struct nt *t, uint32_t mask, uint32_t want)
{
	int64_t end = emu_test_ms() + NT_TIMEOUT_MS;
	uint32_t v;

	do {
		v = nt_reg32(t, PDK_NVME_REG_CSTS);
		if ((v & mask) == want)
			return v;
		emu_sleep_ms(1);
	} while (emu_test_ms() < end);
	fail_msg("CSTS stuck at 0x%x (mask 0x%x want 0x%x)", v, mask, want);
	return v;
}

static void q_init(struct nt *t, struct ntq *q, uint16_t qid, uint32_t size)
{
	memset(q, 0, sizeof(*q));
	q->qid = qid;
	q->size = size;
	q->phase = 1;
	q->sq_iova = nt_alloc(t, 64ull * size, (void **)&q->sq);
	q->cq_iova = nt_alloc(t, 16ull * size, (void **)&q->cq);
}

void nt_enable(struct nt *t)
{
	const uint32_t cc = PDK_NVME_CC_EN | 6u << PDK_NVME_CC_IOSQES_SHIFT |
			    4u << PDK_NVME_CC_IOCQES_SHIFT;

	q_init(t, &t->admin, 0, NT_ADMIN_SIZE);
	nt_wreg32(t, PDK_NVME_REG_AQA, PDK_NVME_AQA(NT_ADMIN_SIZE, NT_ADMIN_SIZE));
	pdk_emu_wr64(t->bar, PDK_NVME_REG_ASQ, t->admin.sq_iova);
	pdk_emu_wr64(t->bar, PDK_NVME_REG_ACQ, t->admin.cq_iova);
	nt_wreg32(t, PDK_NVME_REG_CC, cc);
	nt_wait_csts(t, PDK_NVME_CSTS_RDY, PDK_NVME_CSTS_RDY);
}

void nt_disable(struct nt *t)
{
	nt_wreg32(t, PDK_NVME_REG_CC, 0);
	nt_wait_csts(t, PDK_NVME_CSTS_RDY, 0);
}

uint16_t nt_queue_cmd(struct ntq *q, struct pdk_nvme_cmd *cmd)
{
	cmd->cid = q->next_cid++;
	q->sq[q->sq_tail] = *cmd;
	q->sq_tail = (q->sq_tail + 1) % q->size;
	return cmd->cid;
}

void nt_ring(struct nt *t, struct ntq *q)
{
	/* release: the entries before the doorbell */
	pdk_emu_wr32(t->bar, pdk_nvme_sq_doorbell(q->qid, 0), q->sq_tail);
}

uint16_t nt_submit(struct nt *t, struct ntq *q, struct pdk_nvme_cmd *cmd)
{
	uint16_t cid = nt_queue_cmd(q, cmd);

	nt_ring(t, q);
	return cid;
}

bool nt_cqe_ready(const struct ntq *q)
{
	const uint32_t *w = (const uint32_t *)(const void *)&q->cq[q->cq_head];

	/* acquire: the rest of the entry after its phase */
	return (__atomic_load_n(&w[3], __ATOMIC_ACQUIRE) >> 16 & 1) == q->phase;
}

int nt_reap(struct nt *t, struct ntq *q, struct pdk_nvme_cpl *cpl, int ms)
{
	int64_t end = emu_test_ms() + ms;

	for (unsigned spin = 0; !nt_cqe_ready(q); spin++) {
		if (emu_test_ms() > end)
			return -ETIMEDOUT;
		if (spin > 1000)
			usleep(20);
	}
	if (cpl)
		*cpl = q->cq[q->cq_head];
	if (++q->cq_head == q->size) {
		q->cq_head = 0;
		q->phase ^= 1;
	}
	pdk_emu_wr32(t->bar, pdk_nvme_cq_doorbell(q->qid, 0), q->cq_head);
	return 0;
}

uint16_t nt_cmd(struct nt *t, struct ntq *q, struct pdk_nvme_cmd *cmd,
		struct pdk_nvme_cpl *cpl)
{
	struct pdk_nvme_cpl e;
	uint16_t cid = nt_submit(t, q, cmd);

	if (nt_reap(t, q, &e, NT_TIMEOUT_MS))
		fail_msg("no completion for opc 0x%x cid %u on queue %u", cmd->opc,
			 cid, q->qid);
	assert_int_equal(e.cid, cid);
	assert_int_equal(e.sqid, q->qid);
	if (cpl)
		*cpl = e;
	return e.status & 0xfffe;
}

void nt_qpair(struct nt *t, uint16_t qid, uint32_t size, uint16_t vector)
{
	struct ntq *q = &t->io[qid];
	struct pdk_nvme_cmd cmd;

	q_init(t, q, qid, size);
	cmd = (struct pdk_nvme_cmd){.opc = PDK_NVME_OPC_CREATE_IO_CQ,
				    .prp1 = q->cq_iova,
				    .cdw10 = (size - 1) << 16 | qid,
				    .cdw11 = (uint32_t)vector << 16 |
					     PDK_NVME_CQ_IRQ_ENABLED |
					     PDK_NVME_QUEUE_PHYS_CONTIG};
	assert_int_equal(nt_cmd(t, &t->admin, &cmd, NULL), NT_OK);
	cmd = (struct pdk_nvme_cmd){.opc = PDK_NVME_OPC_CREATE_IO_SQ,
				    .prp1 = q->sq_iova,
				    .cdw10 = (size - 1) << 16 | qid,
				    .cdw11 = (uint32_t)qid << 16 | PDK_NVME_QUEUE_PHYS_CONTIG};
	assert_int_equal(nt_cmd(t, &t->admin, &cmd, NULL), NT_OK);
}

struct pdk_nvme_cmd nt_rw(uint8_t opc, uint32_t nsid, uint64_t slba,
			  uint32_t nlb, uint64_t prp1, uint64_t prp2)
{
	return (struct pdk_nvme_cmd){.opc = opc, .nsid = nsid, .prp1 = prp1,
				     .prp2 = prp2, .cdw10 = (uint32_t)slba,
				     .cdw11 = (uint32_t)(slba >> 32),
				     .cdw12 = nlb - 1};
}

uint16_t nt_identify(struct nt *t, uint8_t cns, uint32_t nsid, void **data)
{
	struct pdk_nvme_cmd cmd = {.opc = PDK_NVME_OPC_IDENTIFY, .nsid = nsid,
				   .cdw10 = cns};

	cmd.prp1 = nt_alloc(t, 4096, data);
	return nt_cmd(t, &t->admin, &cmd, NULL);
}

uint16_t nt_set_feature(struct nt *t, uint8_t fid, uint32_t cdw11, uint32_t *cdw0)
{
	struct pdk_nvme_cmd cmd = {.opc = PDK_NVME_OPC_SET_FEATURES, .cdw10 = fid,
				   .cdw11 = cdw11};
	struct pdk_nvme_cpl e;
	uint16_t st = nt_cmd(t, &t->admin, &cmd, &e);

	if (cdw0)
		*cdw0 = e.cdw0;
	return st;
}

uint16_t nt_get_feature(struct nt *t, uint8_t fid, unsigned sel, uint32_t cdw11,
			uint32_t *cdw0)
{
	struct pdk_nvme_cmd cmd = {.opc = PDK_NVME_OPC_GET_FEATURES,
				   .cdw10 = fid | sel << 8, .cdw11 = cdw11};
	struct pdk_nvme_cpl e;
	uint16_t st = nt_cmd(t, &t->admin, &cmd, &e);

	if (cdw0)
		*cdw0 = e.cdw0;
	return st;
}

uint16_t nt_get_log(struct nt *t, uint8_t lid, uint32_t len, void **data)
{
	struct pdk_nvme_cmd cmd = {.opc = PDK_NVME_OPC_GET_LOG_PAGE,
				   .nsid = PDK_NVME_NSID_ALL,
				   .cdw10 = lid | (len / 4 - 1) << 16};
	uint8_t *p;

	cmd.prp1 = nt_alloc(t, 8192, (void **)&p);
	cmd.prp2 = cmd.prp1 + 4096;
	memset(p, 0xee, 8192);
	if (data)
		*data = p;
	return nt_cmd(t, &t->admin, &cmd, NULL);
}

struct pdk_emu_nvme_stats nt_stats(struct nt *t)
{
	struct pdk_emu_nvme_stats st;

	assert_int_equal(pdk_emu_nvme_stats(t->dev, &st), 0);
	return st;
}
