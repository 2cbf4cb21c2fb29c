/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Admin commands of the NVMe model, hand-built: Identify contents,
 * features, queue creation and deletion with every error status, Abort,
 * log pages with counters that move, Asynchronous Event Requests held
 * until an event, and Doorbell Buffer Config (shadow doorbells).
 */
#include "nvme_test.h"

static struct nt T;

#define KNOBS "serial=SN-TEST-1,model=Model X,ns=3,ns-size=1m,qdepth=64,queues=4"

static int setup(void **state)
{
	(void)state;
	nt_open(&T, emu_path("admin.sock"), KNOBS);
	nt_enable(&T);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	nt_close(&T);
	return 0;
}

static uint16_t admin(struct pdk_nvme_cmd cmd, uint32_t *cdw0)
{
	struct pdk_nvme_cpl e;
	uint16_t st = nt_cmd(&T, &T.admin, &cmd, &e);

	if (cdw0)
		*cdw0 = e.cdw0;
	return st;
}

static void test_identify_ctrl(void **state)
{
	struct pdk_nvme_ctrlr_data *d;

	(void)state;
	assert_int_equal(nt_identify(&T, PDK_NVME_CNS_CTRLR, 0, (void **)&d), NT_OK);
	assert_int_equal(d->vid, PDK_EMU_NVME_VENDOR);
	assert_memory_equal(d->sn, "SN-TEST-1           ", 20);
	assert_memory_equal(d->mn, "Model X ", 8);
	assert_memory_equal(d->fr, "1.0     ", 8);
	assert_int_equal(d->mdts, 5);
	assert_int_equal(d->ver, 0x10400);
	assert_int_equal(d->cntlid, 1);
	assert_true(d->oacs & PDK_NVME_OACS_DBBUF);
	assert_true(d->oncs & PDK_NVME_ONCS_WRITE_ZEROES);
	assert_int_equal(d->vwc, PDK_NVME_VWC_PRESENT | PDK_NVME_VWC_FLUSH_BROADCAST);
	assert_int_equal(d->nn, 3);
	assert_int_equal(d->sqes, 0x66);
	assert_int_equal(d->cqes, 0x44);
	assert_int_equal(d->aerl, 3);
	assert_int_equal(d->acl, 3);
	assert_int_equal(d->elpe, 63);
	assert_int_equal(d->tnvmcap[0], 3 << 20);
	assert_string_equal(d->subnqn, "nqn.2019-08.org.pdk:emu:SN-TEST-1");
}

static void test_identify_ns(void **state)
{
	struct pdk_nvme_ns_data *ns;
	uint32_t *list;
	uint8_t *desc, g1[16];

	(void)state;
	assert_int_equal(nt_identify(&T, PDK_NVME_CNS_NS, 2, (void **)&ns), NT_OK);
	assert_int_equal(ns->nsze, 2048);
	assert_int_equal(ns->ncap, 2048);
	assert_int_equal(ns->nlbaf, 1);
	assert_int_equal(ns->flbas & 0xf, 0);
	assert_int_equal(ns->lbaf[0].lbads, 9);
	assert_int_equal(ns->lbaf[1].lbads, 12);
	memcpy(g1, ns->nguid, 16);
	assert_int_equal(nt_identify(&T, PDK_NVME_CNS_NS_ID_DESC_LIST, 2,
				     (void **)&desc), NT_OK);
	assert_int_equal(desc[0], PDK_NVME_NIDT_NGUID);
	assert_int_equal(desc[1], 16);
	assert_memory_equal(desc + 4, g1, 16);
	assert_int_equal(desc[20], 0); /* the list ends */
	assert_int_equal(nt_identify(&T, PDK_NVME_CNS_ACTIVE_NS_LIST, 0,
				     (void **)&list), NT_OK);
	assert_int_equal(list[0], 1);
	assert_int_equal(list[2], 3);
	assert_int_equal(list[3], 0);
	assert_int_equal(nt_identify(&T, PDK_NVME_CNS_ACTIVE_NS_LIST, 2,
				     (void **)&list), NT_OK);
	assert_int_equal(list[0], 3);
	assert_int_equal(list[1], 0);
	assert_int_equal(nt_identify(&T, PDK_NVME_CNS_ACTIVE_NS_LIST, 0xfffffffe, NULL),
			 NT_SC(PDK_NVME_SC_INVALID_NAMESPACE));
	assert_int_equal(nt_identify(&T, PDK_NVME_CNS_NS, 4, NULL),
			 NT_SC(PDK_NVME_SC_INVALID_NAMESPACE));
	assert_int_equal(nt_identify(&T, PDK_NVME_CNS_NS, 0, NULL),
			 NT_SC(PDK_NVME_SC_INVALID_NAMESPACE));
	assert_int_equal(nt_identify(&T, 0x10, 0, NULL), NT_SC(PDK_NVME_SC_INVALID_FIELD));
}

/* 4 KiB LBAs: the second format is the one in use; no shadow doorbells. */
static void test_identify_knobs(void **state)
{
	struct pdk_nvme_ns_data *ns;
	struct pdk_nvme_ctrlr_data *d;

	(void)state;
	nt_close(&T);
	nt_open(&T, emu_path("admin.sock"), "lba=4096,ns-size=8m,shadow-db=0,mdts=0");
	nt_enable(&T);
	assert_int_equal(nt_identify(&T, PDK_NVME_CNS_NS, 1, (void **)&ns), NT_OK);
	assert_int_equal(ns->nsze, 2048);
	assert_int_equal(ns->flbas & 0xf, 1);
	assert_int_equal(nt_identify(&T, PDK_NVME_CNS_CTRLR, 0, (void **)&d), NT_OK);
	assert_int_equal(d->oacs & PDK_NVME_OACS_DBBUF, 0);
	assert_int_equal(d->mdts, 0);
	assert_memory_equal(d->sn, "admin ", 6); /* from the socket's name */
	assert_int_equal(admin((struct pdk_nvme_cmd){.opc = PDK_NVME_OPC_DOORBELL_BUFFER_CONFIG,
						      .prp1 = NT_IOVA, .prp2 = NT_IOVA + 4096},
			       NULL),
			 NT_SC(PDK_NVME_SC_INVALID_OPCODE));
}

static void test_features(void **state)
{
	uint32_t v;

	(void)state;
	assert_int_equal(nt_get_feature(&T, PDK_NVME_FEAT_NUMBER_OF_QUEUES, 0, 0, &v), NT_OK);
	assert_int_equal(v, 3u << 16 | 3);
	assert_int_equal(nt_set_feature(&T, PDK_NVME_FEAT_NUMBER_OF_QUEUES, 0xffff, NULL),
			 NT_SC(PDK_NVME_SC_INVALID_FIELD));
	assert_int_equal(nt_set_feature(&T, PDK_NVME_FEAT_NUMBER_OF_QUEUES, 1u << 16 | 9, &v),
			 NT_OK);
	assert_int_equal(v, 1u << 16 | 3); /* 2 CQs asked, 10 SQs asked: 4 */
	nt_qpair(&T, 1, 16, 1);
	assert_int_equal(nt_set_feature(&T, PDK_NVME_FEAT_NUMBER_OF_QUEUES, 0, NULL),
			 NT_SC(PDK_NVME_SC_COMMAND_SEQUENCE_ERROR));
	/* values kept, defaults and capabilities on request */
	assert_int_equal(nt_set_feature(&T, PDK_NVME_FEAT_VOLATILE_WRITE_CACHE, 0, NULL), NT_OK);
	assert_int_equal(nt_get_feature(&T, PDK_NVME_FEAT_VOLATILE_WRITE_CACHE, 0, 0, &v), NT_OK);
	assert_int_equal(v, 0);
	assert_int_equal(nt_get_feature(&T, PDK_NVME_FEAT_VOLATILE_WRITE_CACHE, 1, 0, &v), NT_OK);
	assert_int_equal(v, 1);
	assert_int_equal(nt_get_feature(&T, PDK_NVME_FEAT_VOLATILE_WRITE_CACHE, 3, 0, &v), NT_OK);
	assert_int_equal(v, PDK_NVME_FEAT_CAP_CHANGEABLE);
	assert_int_equal(nt_set_feature(&T, PDK_NVME_FEAT_ARBITRATION, 0x03020107, NULL), NT_OK);
	assert_int_equal(nt_get_feature(&T, PDK_NVME_FEAT_ARBITRATION, 0, 0, &v), NT_OK);
	assert_int_equal(v, 0x03020107);
	assert_int_equal(nt_set_feature(&T, PDK_NVME_FEAT_INTERRUPT_COALESCING, 0x0a04, NULL), NT_OK);
	assert_int_equal(nt_set_feature(&T, PDK_NVME_FEAT_ASYNC_EVENT_CONFIG, 0x2, NULL), NT_OK);
	assert_int_equal(nt_get_feature(&T, PDK_NVME_FEAT_TEMPERATURE_THRESHOLD, 0, 0, &v), NT_OK);
	assert_int_equal(v, 343);
	assert_int_equal(nt_get_feature(&T, PDK_NVME_FEAT_TEMPERATURE_THRESHOLD, 0, 1u << 16, NULL),
			 NT_SC(PDK_NVME_SC_INVALID_FIELD));
	assert_int_equal(nt_set_feature(&T, PDK_NVME_FEAT_POWER_MANAGEMENT, 1, NULL),
			 NT_SC(PDK_NVME_SC_INVALID_FIELD));
	assert_int_equal(nt_set_feature(&T, PDK_NVME_FEAT_INTERRUPT_VECTOR_CONFIG, NT_NVEC, NULL),
			 NT_SC(PDK_NVME_SC_INVALID_FIELD));
	assert_int_equal(nt_set_feature(&T, PDK_NVME_FEAT_INTERRUPT_VECTOR_CONFIG, 1u << 16 | 2, NULL),
			 NT_OK);
	assert_int_equal(nt_set_feature(&T, 0x7f, 0, NULL), NT_SC(PDK_NVME_SC_INVALID_FIELD));
	assert_int_equal(nt_get_feature(&T, 0x7f, 0, 0, NULL), NT_SC(PDK_NVME_SC_INVALID_FIELD));
	assert_int_equal(admin((struct pdk_nvme_cmd){.opc = PDK_NVME_OPC_SET_FEATURES,
						      .cdw10 = 1u << 31 | PDK_NVME_FEAT_ARBITRATION},
			       NULL),
			 NT_CS(PDK_NVME_SC_FEATURE_NOT_SAVEABLE));
}

static struct pdk_nvme_cmd mk_cq(uint16_t qid, uint32_t size, uint64_t base,
				 uint32_t flags, uint16_t vec)
{
	return (struct pdk_nvme_cmd){.opc = PDK_NVME_OPC_CREATE_IO_CQ, .prp1 = base,
				     .cdw10 = (size - 1) << 16 | qid,
				     .cdw11 = (uint32_t)vec << 16 | flags};
}

static struct pdk_nvme_cmd mk_sq(uint16_t qid, uint32_t size, uint64_t base,
				 uint32_t flags, uint16_t cqid)
{
	return (struct pdk_nvme_cmd){.opc = PDK_NVME_OPC_CREATE_IO_SQ, .prp1 = base,
				     .cdw10 = (size - 1) << 16 | qid,
				     .cdw11 = (uint32_t)cqid << 16 | flags};
}

static struct pdk_nvme_cmd mk_del(uint8_t opc, uint16_t qid)
{
	return (struct pdk_nvme_cmd){.opc = opc, .cdw10 = qid};
}

struct admin_case {
	struct pdk_nvme_cmd cmd;
	uint16_t status;
};

/* Each command in turn, with the status it must get. */
static void run_cases(const struct admin_case *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		uint16_t st = admin(c[i].cmd, NULL);

		if (st != c[i].status)
			fail_msg("case %zu (opc 0x%x cdw10 0x%x cdw11 0x%x): status 0x%x, "
				 "want 0x%x", i, c[i].cmd.opc, c[i].cmd.cdw10, c[i].cmd.cdw11,
				 st, c[i].status);
	}
}

static void test_create_cq_errors(void **state)
{
	const uint32_t pc = PDK_NVME_QUEUE_PHYS_CONTIG, ien = PDK_NVME_CQ_IRQ_ENABLED;
	const uint16_t qid = NT_CS(PDK_NVME_SC_INVALID_QUEUE_IDENTIFIER),
		       size = NT_CS(PDK_NVME_SC_INVALID_QUEUE_SIZE),
		       field = NT_SC(PDK_NVME_SC_INVALID_FIELD);
	uint64_t m = nt_alloc(&T, 65536, NULL);
	const struct admin_case cases[] = {
		{mk_cq(0, 16, m, pc, 0), qid},
		{mk_cq(5, 16, m, pc, 0), qid}, /* queues=4 */
		{mk_cq(1, 1, m, pc, 0), size},
		{mk_cq(1, 65, m, pc, 0), size}, /* qdepth=64 */
		{mk_cq(1, 16, m, 0, 0), field},
		{mk_cq(1, 16, m + 256, pc, 0), field},
		{mk_cq(1, 16, 0, pc, 0), field},
		{mk_cq(1, 16, m, pc | ien, NT_NVEC), NT_CS(PDK_NVME_SC_INVALID_INTERRUPT_VECTOR)},
		/* no interrupts: the vector does not matter */
		{mk_cq(1, 64, m, pc, NT_NVEC), NT_OK},
		{mk_cq(1, 16, m, pc, 0), qid},
		{mk_cq(4, 2, m + 4096, pc | ien, NT_NVEC - 1), NT_OK},
	};

	(void)state;
	run_cases(cases, PDK_DIM(cases));
}

static void test_create_sq_errors(void **state)
{
	const uint32_t pc = PDK_NVME_QUEUE_PHYS_CONTIG;
	const uint16_t qid = NT_CS(PDK_NVME_SC_INVALID_QUEUE_IDENTIFIER),
		       cq = NT_CS(PDK_NVME_SC_COMPLETION_QUEUE_INVALID),
		       size = NT_CS(PDK_NVME_SC_INVALID_QUEUE_SIZE),
		       field = NT_SC(PDK_NVME_SC_INVALID_FIELD);
	uint64_t m = nt_alloc(&T, 65536, NULL);
	const struct admin_case cases[] = {
		{mk_cq(2, 16, m, pc, 0), NT_OK},
		{mk_sq(0, 16, m + 4096, pc, 2), qid},
		{mk_sq(5, 16, m + 4096, pc, 2), qid},
		{mk_sq(1, 16, m + 4096, pc, 0), cq},
		{mk_sq(1, 16, m + 4096, pc, 3), cq},
		{mk_sq(1, 16, m + 4096, pc, 9), cq},
		{mk_sq(1, 1, m + 4096, pc, 2), size},
		{mk_sq(1, 65, m + 4096, pc, 2), size},
		{mk_sq(1, 16, m + 4096, 0, 2), field},
		{mk_sq(1, 16, m + 4096 + 64, pc, 2), field},
		{mk_sq(1, 16, m + 4096, pc, 2), NT_OK},
		{mk_sq(1, 16, m + 4096, pc, 2), qid},
		/* two SQs may share a CQ */
		{mk_sq(3, 64, m + 8192, pc, 2), NT_OK},
	};

	(void)state;
	run_cases(cases, PDK_DIM(cases));
}

static void test_delete_errors(void **state)
{
	const uint16_t qid = NT_CS(PDK_NVME_SC_INVALID_QUEUE_IDENTIFIER);
	const struct admin_case cases[] = {
		{mk_del(PDK_NVME_OPC_DELETE_IO_CQ, 1), NT_CS(PDK_NVME_SC_INVALID_QUEUE_DELETION)},
		{mk_del(PDK_NVME_OPC_DELETE_IO_CQ, 0), qid},
		{mk_del(PDK_NVME_OPC_DELETE_IO_SQ, 0), qid},
		{mk_del(PDK_NVME_OPC_DELETE_IO_SQ, 2), qid},
		{mk_del(PDK_NVME_OPC_DELETE_IO_CQ, 3), qid},
		{mk_del(PDK_NVME_OPC_DELETE_IO_SQ, 1000), qid},
		{mk_del(PDK_NVME_OPC_DELETE_IO_SQ, 1), NT_OK},
		{mk_del(PDK_NVME_OPC_DELETE_IO_SQ, 1), qid},
		{mk_del(PDK_NVME_OPC_DELETE_IO_CQ, 1), NT_OK},
	};

	(void)state;
	nt_qpair(&T, 1, 16, 1);
	run_cases(cases, PDK_DIM(cases));
	/* and again, from scratch */
	nt_qpair(&T, 1, 16, 1);
}

/* CC.IOSQES/IOCQES must say 64/16 bytes before I/O queues are made. */
static void test_entry_sizes(void **state)
{
	uint64_t m = nt_alloc(&T, 8192, NULL);
	const uint32_t pc = PDK_NVME_QUEUE_PHYS_CONTIG;

	(void)state;
	nt_wreg32(&T, PDK_NVME_REG_CC, PDK_NVME_CC_EN); /* no entry sizes */
	emu_sleep_ms(5);
	assert_int_equal(admin(mk_cq(1, 16, m, pc, 0), NULL), NT_SC(PDK_NVME_SC_INVALID_FIELD));
	nt_wreg32(&T, PDK_NVME_REG_CC, PDK_NVME_CC_EN | 4u << PDK_NVME_CC_IOCQES_SHIFT);
	emu_sleep_ms(5);
	assert_int_equal(admin(mk_cq(1, 16, m, pc, 0), NULL), NT_OK);
	assert_int_equal(admin(mk_sq(1, 16, m + 4096, pc, 1), NULL),
			 NT_SC(PDK_NVME_SC_INVALID_FIELD));
}

static void test_bad_commands(void **state)
{
	(void)state;
	assert_int_equal(admin((struct pdk_nvme_cmd){.opc = 0x7f}, NULL),
			 NT_SC(PDK_NVME_SC_INVALID_OPCODE));
	assert_int_equal(admin((struct pdk_nvme_cmd){.opc = PDK_NVME_OPC_IDENTIFY,
						      .flags = 0x40, .cdw10 = 1},
			       NULL),
			 NT_SC(PDK_NVME_SC_INVALID_FIELD));
	assert_int_equal(admin((struct pdk_nvme_cmd){.opc = PDK_NVME_OPC_IDENTIFY,
						      .flags = 0x01, .cdw10 = 1},
			       NULL),
			 NT_SC(PDK_NVME_SC_INVALID_FIELD));
	/* an identify to memory the client never mapped */
	assert_int_equal(admin((struct pdk_nvme_cmd){.opc = PDK_NVME_OPC_IDENTIFY,
						      .prp1 = 0x900000000ull, .cdw10 = 1},
			       NULL),
			 NT_SC(PDK_NVME_SC_DATA_TRANSFER_ERROR));
}

static void test_log_pages(void **state)
{
	struct pdk_nvme_error_log *el;
	struct pdk_nvme_smart_log *s;
	struct pdk_nvme_fw_log *fw;
	uint8_t *p, *buf;
	struct pdk_nvme_cmd w;
	uint16_t cid;

	(void)state;
	/* two failures, newest first */
	admin((struct pdk_nvme_cmd){.opc = 0x7e}, NULL);
	cid = T.admin.next_cid;
	admin((struct pdk_nvme_cmd){.opc = 0x7f}, NULL);
	assert_int_equal(nt_get_log(&T, PDK_NVME_LOG_ERROR, 4096, (void **)&el), NT_OK);
	assert_int_equal(el[0].error_count, 2);
	assert_int_equal(el[0].cid, cid);
	assert_int_equal(el[0].sqid, 0);
	assert_int_equal(el[0].status, NT_SC(PDK_NVME_SC_INVALID_OPCODE));
	assert_int_equal(el[1].error_count, 1);
	assert_int_equal(el[2].error_count, 0);
	/* SMART counters move with I/O */
	nt_qpair(&T, 1, 16, 1);
	nt_alloc(&T, 8192, (void **)&buf);
	w = nt_rw(PDK_NVME_OPC_WRITE, 1, 0, 16, nt_iova(&T, buf), nt_iova(&T, buf) + 4096);
	for (int i = 0; i < 3; i++)
		assert_int_equal(nt_cmd(&T, &T.io[1], &w, NULL), NT_OK);
	assert_int_equal(nt_get_log(&T, PDK_NVME_LOG_SMART, 8192, (void **)&p), NT_OK);
	s = (struct pdk_nvme_smart_log *)(void *)p;
	assert_int_equal(s->host_write_commands[0], 3);
	assert_int_equal(s->data_units_written[0], 1); /* 48 units of 512 B, rounded up */
	assert_int_equal(s->host_read_commands[0], 0);
	assert_int_equal(s->temperature, 303);
	assert_int_equal(s->available_spare, 100);
	assert_true(s->power_cycles[0] >= 1);
	assert_int_equal(s->num_error_info_log_entries[0], 2);
	for (int i = 512; i < 8192; i++) /* past the log: zeroes */
		assert_int_equal(p[i], 0);
	assert_int_equal(nt_get_log(&T, PDK_NVME_LOG_FIRMWARE_SLOT, 512, (void **)&fw), NT_OK);
	assert_int_equal(fw->afi, 1);
	assert_memory_equal(fw->frs[0], "1.0     ", 8);
	assert_int_equal(nt_get_log(&T, 0x07, 512, NULL), NT_CS(PDK_NVME_SC_INVALID_LOG_PAGE));
	/* offset past the end, unaligned; SMART per namespace */
	w = (struct pdk_nvme_cmd){.opc = PDK_NVME_OPC_GET_LOG_PAGE, .cdw10 = 2 | 127u << 16,
				  .cdw12 = 516, .prp1 = nt_iova(&T, buf)};
	assert_int_equal(admin(w, NULL), NT_SC(PDK_NVME_SC_INVALID_FIELD));
	w.cdw12 = 2;
	assert_int_equal(admin(w, NULL), NT_SC(PDK_NVME_SC_INVALID_FIELD));
	w.cdw12 = 256;
	assert_int_equal(admin(w, NULL), NT_OK);
	w.nsid = 1;
	assert_int_equal(admin(w, NULL), NT_SC(PDK_NVME_SC_INVALID_FIELD));
	/* more than MDTS (128 KiB) */
	w = (struct pdk_nvme_cmd){.opc = PDK_NVME_OPC_GET_LOG_PAGE,
				  .cdw10 = 2 | 0xffffu << 16, .cdw11 = 1,
				  .prp1 = nt_iova(&T, buf)};
	assert_int_equal(admin(w, NULL), NT_SC(PDK_NVME_SC_INVALID_FIELD));
}

static struct pdk_nvme_cmd aer_cmd(void)
{
	return (struct pdk_nvme_cmd){.opc = PDK_NVME_OPC_ASYNC_EVENT_REQUEST};
}

/* AERs wait for an event; the temperature threshold raises one. */
static void test_aer_temperature(void **state)
{
	struct pdk_nvme_cmd cmd = aer_cmd();
	struct pdk_nvme_cpl e;
	struct pdk_nvme_smart_log *s;
	uint16_t cid;

	(void)state;
	assert_int_equal(nt_set_feature(&T, PDK_NVME_FEAT_ASYNC_EVENT_CONFIG,
					PDK_NVME_AEC_SMART_TEMPERATURE, NULL), NT_OK);
	cid = nt_submit(&T, &T.admin, &cmd);
	assert_int_equal(nt_reap(&T, &T.admin, NULL, 50), -ETIMEDOUT);
	/* other commands go on meanwhile; this one crosses the threshold */
	assert_int_equal(nt_set_feature(&T, PDK_NVME_FEAT_ARBITRATION, 0, NULL), NT_OK);
	cmd = (struct pdk_nvme_cmd){.opc = PDK_NVME_OPC_SET_FEATURES,
				    .cdw10 = PDK_NVME_FEAT_TEMPERATURE_THRESHOLD,
				    .cdw11 = 300};
	nt_submit(&T, &T.admin, &cmd);
	/* the AER completes first, then the Set Features */
	assert_int_equal(nt_reap(&T, &T.admin, &e, NT_TIMEOUT_MS), 0);
	assert_int_equal(e.cid, cid);
	assert_int_equal(e.status & 0xfffe, NT_OK);
	assert_int_equal(e.cdw0, PDK_NVME_AER_CDW0(PDK_NVME_AER_TYPE_SMART,
						   PDK_NVME_AER_INFO_TEMPERATURE,
						   PDK_NVME_LOG_SMART));
	assert_int_equal(nt_reap(&T, &T.admin, &e, NT_TIMEOUT_MS), 0);
	assert_int_equal(e.cid, cmd.cid);
	assert_int_equal(nt_stats(&T).aer_events, 1);
	/* masked until the log page is read */
	cmd = aer_cmd();
	nt_submit(&T, &T.admin, &cmd);
	assert_int_equal(pdk_emu_dev_inject(T.dev, "temp=350"), 0);
	assert_int_equal(nt_reap(&T, &T.admin, NULL, 50), -ETIMEDOUT);
	assert_int_equal(nt_get_log(&T, PDK_NVME_LOG_SMART, 512, (void **)&s), NT_OK);
	assert_int_equal(s->critical_warning & PDK_NVME_SMART_WARN_TEMPERATURE,
			 PDK_NVME_SMART_WARN_TEMPERATURE);
	assert_int_equal(s->temperature, 350);
	assert_int_equal(pdk_emu_dev_inject(T.dev, "temp=351"), 0);
	assert_int_equal(nt_reap(&T, &T.admin, &e, NT_TIMEOUT_MS), 0);
	assert_int_equal(e.cdw0 & 0x7, PDK_NVME_AER_TYPE_SMART);
	/* back under the threshold: the warning clears */
	assert_int_equal(nt_set_feature(&T, PDK_NVME_FEAT_TEMPERATURE_THRESHOLD, 400, NULL),
			 NT_OK);
	assert_int_equal(nt_get_log(&T, PDK_NVME_LOG_SMART, 512, (void **)&s), NT_OK);
	assert_int_equal(s->critical_warning, 0);
}

/* AERL + 1 outstanding at most; an invalid doorbell is an error event. */
static void test_aer_limit_and_doorbell(void **state)
{
	struct pdk_nvme_cmd cmd;
	struct pdk_nvme_cpl e;

	(void)state;
	for (int i = 0; i < 4; i++) {
		cmd = aer_cmd();
		nt_submit(&T, &T.admin, &cmd);
	}
	cmd = aer_cmd();
	assert_int_equal(nt_cmd(&T, &T.admin, &cmd, NULL),
			 NT_CS(PDK_NVME_SC_ASYNC_EVENT_LIMIT_EXCEEDED));
	nt_qpair(&T, 1, 16, 1);
	nt_wreg32(&T, pdk_nvme_sq_doorbell(1, 0), 16); /* tail == size */
	assert_int_equal(nt_reap(&T, &T.admin, &e, NT_TIMEOUT_MS), 0);
	assert_int_equal(e.cdw0, PDK_NVME_AER_CDW0(PDK_NVME_AER_TYPE_ERROR,
						   PDK_NVME_AER_INFO_INVALID_DB_VALUE,
						   PDK_NVME_LOG_ERROR));
	assert_int_equal(nt_stats(&T).bad_doorbells, 1);
	/* a CQ head beyond what was posted is refused too (masked event) */
	nt_wreg32(&T, pdk_nvme_sq_doorbell(1, 0), 0);
	nt_wreg32(&T, pdk_nvme_cq_doorbell(1, 0), 5);
	for (int ms = 0; ms < NT_TIMEOUT_MS && nt_stats(&T).bad_doorbells < 2; ms++)
		emu_sleep_ms(1);
	assert_int_equal(nt_stats(&T).bad_doorbells, 2);
	/* ignored: the queue still works */
	nt_wreg32(&T, pdk_nvme_cq_doorbell(1, 0), 0);
	cmd = nt_rw(PDK_NVME_OPC_FLUSH, 1, 0, 1, 0, 0);
	assert_int_equal(nt_cmd(&T, &T.io[1], &cmd, NULL), NT_OK);
}

/* Abort releases a stuck command; an unknown one is reported not aborted. */
static void test_abort(void **state)
{
	struct pdk_nvme_cmd cmd = nt_rw(PDK_NVME_OPC_FLUSH, 1, 0, 1, 0, 0);
	struct pdk_nvme_cpl e;
	uint32_t v;
	uint16_t cid;

	(void)state;
	nt_qpair(&T, 1, 16, 1);
	assert_int_equal(pdk_emu_dev_inject(T.dev, "stuck"), 0);
	cid = nt_submit(&T, &T.io[1], &cmd);
	assert_int_equal(nt_reap(&T, &T.io[1], NULL, 50), -ETIMEDOUT);
	assert_int_equal(admin((struct pdk_nvme_cmd){.opc = PDK_NVME_OPC_ABORT,
						      .cdw10 = (uint32_t)(cid + 1) << 16 | 1},
			       &v), NT_OK);
	assert_int_equal(v & 1, 1);
	assert_int_equal(admin((struct pdk_nvme_cmd){.opc = PDK_NVME_OPC_ABORT,
						      .cdw10 = (uint32_t)cid << 16 | 1},
			       &v), NT_OK);
	assert_int_equal(v & 1, 0);
	assert_int_equal(nt_reap(&T, &T.io[1], &e, NT_TIMEOUT_MS), 0);
	assert_int_equal(e.cid, cid);
	assert_int_equal(e.status & 0xfffe, NT_SC(PDK_NVME_SC_ABORTED_BY_REQUEST));
	/* with stuck-abort=0 the command stays stuck: only a reset ends it */
	assert_int_equal(pdk_emu_dev_inject(T.dev, "stuck-abort=0"), 0);
	assert_int_equal(pdk_emu_dev_inject(T.dev, "stuck"), 0);
	cid = nt_submit(&T, &T.io[1], &cmd);
	/* fetched (and stuck) before the Abort arrives */
	assert_int_equal(nt_reap(&T, &T.io[1], NULL, 50), -ETIMEDOUT);
	assert_int_equal(admin((struct pdk_nvme_cmd){.opc = PDK_NVME_OPC_ABORT,
						      .cdw10 = (uint32_t)cid << 16 | 1},
			       &v), NT_OK);
	assert_int_equal(v & 1, 1);
	/* deleting the SQ ends it as aborted by the deletion */
	assert_int_equal(admin(mk_del(PDK_NVME_OPC_DELETE_IO_SQ, 1), NULL), NT_OK);
	assert_int_equal(nt_reap(&T, &T.io[1], &e, NT_TIMEOUT_MS), 0);
	assert_int_equal(e.cid, cid);
	assert_int_equal(e.status & 0xfffe, NT_SC(PDK_NVME_SC_ABORTED_SQ_DELETION));
	assert_int_equal(nt_stats(&T).aborted, 1);
}

/* Shadow doorbells: tails and heads in host memory, EventIdx updated. */
static void test_shadow_doorbells(void **state)
{
	struct pdk_nvme_cmd cmd;
	uint32_t *dbs, *eis;
	uint64_t dbs_iova = nt_alloc(&T, 4096, (void **)&dbs);
	uint64_t eis_iova = nt_alloc(&T, 4096, (void **)&eis);
	struct ntq *q;

	(void)state;
	cmd = (struct pdk_nvme_cmd){.opc = PDK_NVME_OPC_DOORBELL_BUFFER_CONFIG,
				    .prp1 = dbs_iova + 8, .prp2 = eis_iova};
	assert_int_equal(admin(cmd, NULL), NT_SC(PDK_NVME_SC_INVALID_FIELD));
	cmd.prp1 = 0;
	assert_int_equal(admin(cmd, NULL), NT_SC(PDK_NVME_SC_INVALID_FIELD));
	nt_qpair(&T, 1, 16, 1);
	cmd = nt_rw(PDK_NVME_OPC_FLUSH, 1, 0, 1, 0, 0);
	assert_int_equal(nt_cmd(&T, &T.io[1], &cmd, NULL), NT_OK);
	cmd = (struct pdk_nvme_cmd){.opc = PDK_NVME_OPC_DOORBELL_BUFFER_CONFIG,
				    .prp1 = dbs_iova, .prp2 = eis_iova};
	assert_int_equal(admin(cmd, NULL), NT_OK);
	/* an existing queue's values were carried over */
	assert_int_equal(dbs[2], 1);
	assert_int_equal(dbs[3], 1);
	assert_int_equal(eis[2], 1);
	nt_qpair(&T, 2, 16, 2);
	assert_int_equal(dbs[4], 0);
	/* I/O through the shadow tail only: the MMIO doorbell is not read */
	q = &T.io[2];
	for (int i = 0; i < 40; i++) {
		struct pdk_nvme_cpl e;

		cmd = nt_rw(PDK_NVME_OPC_FLUSH, 1, 0, 1, 0, 0);
		nt_queue_cmd(q, &cmd);
		__atomic_store_n(&dbs[4], q->sq_tail, __ATOMIC_RELEASE);
		assert_int_equal(nt_reap(&T, q, &e, NT_TIMEOUT_MS), 0);
		assert_int_equal(e.status & 0xfffe, NT_OK);
		__atomic_store_n(&dbs[5], q->cq_head, __ATOMIC_RELEASE);
	}
	assert_int_equal(eis[4], q->sq_tail);
	assert_int_equal(pdk_emu_rd32(T.bar, pdk_nvme_sq_doorbell(2, 0)), 0);
	/* the admin queue keeps its MMIO doorbell */
	assert_int_equal(nt_identify(&T, PDK_NVME_CNS_CTRLR, 0, NULL), NT_OK);
	/* a controller reset turns them off */
	nt_disable(&T);
	nt_enable(&T);
	nt_qpair(&T, 2, 16, 2);
	cmd = nt_rw(PDK_NVME_OPC_FLUSH, 1, 0, 1, 0, 0);
	assert_int_equal(nt_cmd(&T, &T.io[2], &cmd, NULL), NT_OK);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_identify_ctrl, setup, teardown),
		cmocka_unit_test_setup_teardown(test_identify_ns, setup, teardown),
		cmocka_unit_test_setup_teardown(test_identify_knobs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_features, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_cq_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_create_sq_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_delete_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_entry_sizes, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_commands, setup, teardown),
		cmocka_unit_test_setup_teardown(test_log_pages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_aer_temperature, setup, teardown),
		cmocka_unit_test_setup_teardown(test_aer_limit_and_doorbell, setup, teardown),
		cmocka_unit_test_setup_teardown(test_abort, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shadow_doorbells, setup, teardown),
	};

	return NT_MAIN(tests);
}
