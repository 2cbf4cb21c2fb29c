/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Queue pairs against a fake device (nvme_fake.h): command ids and their
 * generations, completions that are unknown, duplicated, stale, out of
 * phase or claim an SQ head beyond the tail; the CQ doorbell once per
 * batch; shadow doorbells; requests split at the transfer limit;
 * queue-full; failing and resubmitting everything; a timeout that finds
 * the device gone. Every request completes exactly once.
 */
#include "pdk_test.h"

#include "nvme_fake.h"

static struct fake_ctrlr F;
static struct pdk_nvme_qpair QP;
static struct fake_dev D;
static struct pdk_nvme_ns NS;
static uint8_t *buf;

#define NREQ 4096
static unsigned calls[NREQ];
static uint16_t last_status[NREQ];

static void done(void *arg, const struct pdk_nvme_cpl *cpl)
{
	uintptr_t i = (uintptr_t)arg;

	calls[i]++;
	last_status[i] = cpl->status;
	assert_int_equal(cpl->status & 1, 0); /* the phase tag is not the caller's */
}

static void expect_once(unsigned from, unsigned to)
{
	for (unsigned i = from; i < to; i++)
		if (calls[i] != 1)
			fail_msg("request %u completed %u times", i, calls[i]);
}

static uint64_t stat(_Atomic uint64_t *c)
{
	return atomic_load(c);
}

static int setup(void **state)
{
	(void)state;
	fake_ctrlr_init(&F, 128 * 1024);
	memset(calls, 0, sizeof(calls));
	memset(last_status, 0, sizeof(last_status));
	if (fake_qpair(&F, &QP, 1, 32) < 0)
		return -1;
	QP.timeout_tsc = 0;
	fake_dev_init(&D, &QP);
	NS = (struct pdk_nvme_ns){.ctrlr = &F.c, .id = 1, .lba_shift = 9,
				  .max_lbas = (128 * 1024) >> 9, .nsze = 1 << 20};
	buf = pdk_zmalloc("test", 4 << 20, 4096);
	return buf ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	nvme_qpair_fini(&QP);
	pdk_free(buf);
	return 0;
}

static int read_n(unsigned i, uint64_t lba, uint32_t n)
{
	return pdk_nvme_ns_read(&NS, &QP, buf, lba, n, done, (void *)(uintptr_t)i, 0);
}

static void submit_and_complete(void **state)
{
	struct pdk_nvme_cmd cmd;

	(void)state;
	for (unsigned i = 0; i < 10; i++)
		assert_int_equal(read_n(i, i * 8, 8), 0);
	assert_int_equal(pdk_nvme_qpair_outstanding(&QP), 10);
	assert_int_equal(fake_reg32(&F, QP.sq_db), 10); /* SQ doorbell: the tail */
	assert_true(fake_fetch(&F, &D, &cmd));
	assert_int_equal(cmd.opc, PDK_NVME_OPC_READ);
	assert_int_equal(cmd.nsid, 1);
	assert_int_equal(cmd.cdw10, 0);
	assert_int_equal(cmd.cdw12, 7);
	assert_int_equal(cmd.prp1, (uintptr_t)buf);
	fake_post(&D, cmd.cid, 0);
	assert_int_equal(fake_complete_all(&F, &D, 0), 9);
	assert_int_equal(pdk_nvme_qpair_poll(&QP, 0), 10);
	expect_once(0, 10);
	assert_int_equal(pdk_nvme_qpair_outstanding(&QP), 0);
	/* the CQ head doorbell once for the batch */
	assert_int_equal(fake_reg32(&F, QP.cq_db), 10);
	assert_int_equal(stat(&QP.stats.doorbells), 10 + 1);
	assert_int_equal(stat(&QP.stats.completed), 10);
	assert_int_equal(pdk_nvme_qpair_poll(&QP, 0), 0);
}

static void cid_generations(void **state)
{
	struct pdk_nvme_cmd a, b;

	(void)state;
	/* with 31 trackers, each slot comes back after the other 30: the id
	 * of a reused slot differs by its generation */
	assert_int_equal(QP.slot_bits, 5);
	for (unsigned round = 0; round < 40; round++) {
		assert_int_equal(read_n(round, 0, 1), 0);
		assert_true(fake_fetch(&F, &D, &a));
		fake_post(&D, a.cid, 0);
		assert_int_equal(pdk_nvme_qpair_poll(&QP, 0), 1);
		if (round == 0)
			b = a;
		if (round == 31) { /* slot 0 again */
			assert_int_equal(a.cid & 31, b.cid & 31);
			assert_int_not_equal(a.cid, b.cid);
		}
		assert_int_not_equal(a.cid, 0xffff);
	}
	expect_once(0, 40);
}

static void hostile_completions(void **state)
{
	struct pdk_nvme_cmd c0, c1, c2;

	(void)state;
	for (unsigned i = 0; i < 3; i++)
		assert_int_equal(read_n(i, 0, 1), 0);
	assert_true(fake_fetch(&F, &D, &c0));
	assert_true(fake_fetch(&F, &D, &c1));
	assert_true(fake_fetch(&F, &D, &c2));
	fake_post(&D, (uint16_t)(c0.cid | 31), 0);          /* slot 31: no such tracker */
	fake_post_raw(&D, c0.cid, 7, 3, 0, D.phase);        /* another queue's id */
	fake_post(&D, (uint16_t)(c0.cid ^ (1 << 5)), 0);    /* stale generation */
	fake_post(&D, 5, 0);                                /* a slot not outstanding */
	fake_post(&D, c0.cid, 0);                           /* the real one */
	fake_post(&D, c0.cid, 0);                           /* and again */
	fake_post_raw(&D, c1.cid, 1, 30, 0, D.phase);       /* SQ head beyond the tail */
	assert_int_equal(pdk_nvme_qpair_poll(&QP, 0), 2);
	assert_int_equal(stat(&QP.stats.dropped_unknown), 2);
	assert_int_equal(stat(&QP.stats.dropped_stale), 3);
	assert_int_equal(stat(&QP.stats.sq_head_invalid), 1);
	assert_int_equal(QP.sq_head, 3); /* from the good entry, not the bad one */
	/* a stale phase tag: not consumed, nothing happens */
	fake_post_raw(&D, c2.cid, 1, 3, 0, (uint8_t)(D.phase ^ 1));
	assert_int_equal(pdk_nvme_qpair_poll(&QP, 0), 0);
	D.cq_tail--; /* the device writes the slot properly this time */
	fake_post(&D, c2.cid, 0);
	assert_int_equal(pdk_nvme_qpair_poll(&QP, 0), 1);
	expect_once(0, 3);
}

static void phase_wraps(void **state)
{
	(void)state;
	/* 200 completions through a 32-entry CQ: the phase flips 6 times */
	for (unsigned i = 0; i < 200; i += 20) {
		for (unsigned j = 0; j < 20; j++)
			assert_int_equal(read_n(i + j, j, 1), 0);
		fake_complete_all(&F, &D, 0);
		assert_int_equal(pdk_nvme_qpair_poll(&QP, 0), 20);
	}
	expect_once(0, 200);
	assert_int_equal(stat(&QP.stats.dropped_stale) + stat(&QP.stats.dropped_unknown), 0);
}

static void queue_full(void **state)
{
	(void)state;
	for (unsigned i = 0; i < 31; i++)
		assert_int_equal(read_n(i, 0, 1), 0);
	assert_int_equal(read_n(31, 0, 1), -EAGAIN);
	/* a split request needs room for all its parts: nothing is taken */
	fake_complete_all(&F, &D, 0);
	assert_int_equal(pdk_nvme_qpair_poll(&QP, 5), 5);
	assert_int_equal(read_n(32, 0, 6 * 256), -EAGAIN);
	assert_int_equal(read_n(33, 0, 5 * 256), 0);
	fake_complete_all(&F, &D, 0);
	while (pdk_nvme_qpair_outstanding(&QP) > 0)
		pdk_nvme_qpair_poll(&QP, 0);
	expect_once(0, 31);
	expect_once(33, 34);
	assert_int_equal(calls[32], 0);
}

static void split_at_mdts(void **state)
{
	struct pdk_nvme_cmd cmd[8];
	unsigned n = 0;

	(void)state;
	/* 1 MiB + 4 KiB from an offset: 9 commands of up to 128 KiB */
	assert_int_equal(pdk_nvme_ns_write(&NS, &QP, buf + 512, 100, 2056, done, (void *)0, 0),
			 0);
	assert_int_equal(pdk_nvme_qpair_outstanding(&QP), 1);
	assert_int_equal(fake_reg32(&F, QP.sq_db), 9); /* one doorbell for all of them */
	while (n < 8 && fake_fetch(&F, &D, &cmd[n]))
		n++;
	assert_int_equal(n, 8);
	for (unsigned i = 0; i < 8; i++) {
		uint64_t *list = QP.tr[cmd[i].cid & QP.slot_mask].prp_list;

		assert_int_equal(cmd[i].opc, PDK_NVME_OPC_WRITE);
		assert_int_equal(cmd[i].cdw10, 100 + i * 256);
		assert_int_equal(cmd[i].cdw12, 255);
		assert_int_equal(cmd[i].prp1, (uintptr_t)buf + 512 + i * 128 * 1024);
		/* 128 KiB from a 512-byte offset: 33 pages, 32 in the list */
		assert_int_equal(list[0], (uintptr_t)buf + 4096 + i * 128 * 1024);
		assert_int_equal(list[31], (uintptr_t)buf + 32 * 4096 + i * 128 * 1024);
	}
	/* complete out of order, one part with an error: one callback, the
	 * error reported */
	for (int i = 7; i >= 0; i--)
		fake_post(&D, cmd[i].cid, i == 3 ? PDK_NVME_STATUS(0, 0x80) : 0);
	assert_int_equal(pdk_nvme_qpair_poll(&QP, 0), 0);
	assert_int_equal(calls[0], 0);
	assert_true(fake_fetch(&F, &D, &cmd[0]));
	assert_int_equal(cmd[0].cdw12, 7); /* the tail: 8 blocks */
	fake_post(&D, cmd[0].cid, 0);
	assert_int_equal(pdk_nvme_qpair_poll(&QP, 0), 1);
	expect_once(0, 1);
	assert_int_equal(PDK_NVME_CPL_SC(last_status[0]), 0x80);
	assert_int_equal(stat(&QP.stats.errors), 1);
}

static void bad_requests(void **state)
{
	(void)state;
	assert_int_equal(read_n(0, 0, 0), -EINVAL);
	assert_int_equal(read_n(0, (1 << 20) - 1, 2), -EINVAL); /* past the end */
	assert_int_equal(read_n(0, UINT64_MAX, 1), -EINVAL);
	assert_int_equal(pdk_nvme_ns_read(&NS, &QP, buf + 2, 0, 1, done, NULL, 0), -EINVAL);
	assert_int_equal(pdk_nvme_ns_read(&NS, &QP, calls, 0, 1, done, NULL, 0), -EINVAL);
	assert_int_equal(pdk_nvme_qpair_outstanding(&QP), 0);
	assert_int_equal(QP.free_count, QP.ntr); /* every tracker given back */
}

static void write_zeroes_and_flush(void **state)
{
	struct pdk_nvme_cmd c;

	(void)state;
	/* Write Zeroes has no data: split at the 16-bit block count only */
	assert_int_equal(pdk_nvme_ns_write_zeroes(&NS, &QP, 0, 65536 + 10, done, (void *)0,
						  PDK_NVME_IO_FLAG_FUA), 0);
	assert_int_equal(pdk_nvme_ns_flush(&NS, &QP, done, (void *)1), 0);
	assert_true(fake_fetch(&F, &D, &c));
	assert_int_equal(c.opc, PDK_NVME_OPC_WRITE_ZEROES);
	assert_int_equal(c.cdw12, 0xffff | PDK_NVME_IO_FUA);
	assert_int_equal(c.prp1, 0);
	fake_post(&D, c.cid, 0);
	assert_true(fake_fetch(&F, &D, &c));
	assert_int_equal(c.cdw10, 65536);
	assert_int_equal(c.cdw12, 9 | PDK_NVME_IO_FUA);
	fake_post(&D, c.cid, 0);
	assert_true(fake_fetch(&F, &D, &c));
	assert_int_equal(c.opc, PDK_NVME_OPC_FLUSH);
	fake_post(&D, c.cid, 0);
	assert_int_equal(pdk_nvme_qpair_poll(&QP, 0), 2);
	expect_once(0, 2);
	F.c.write_zeroes = false;
	assert_int_equal(pdk_nvme_ns_write_zeroes(&NS, &QP, 0, 1, done, NULL, 0), -ENOTSUP);
}

static void fail_everything(void **state)
{
	struct pdk_nvme_cmd c;

	(void)state;
	for (unsigned i = 0; i < 20; i++)
		assert_int_equal(read_n(i, 0, i == 19 ? 600 : 1), 0); /* the last one splits */
	assert_true(fake_fetch(&F, &D, &c));
	fake_post(&D, c.cid, 0);
	assert_int_equal(pdk_nvme_qpair_poll(&QP, 0), 1);
	assert_int_equal(nvme_qpair_fail_all(&QP, NVME_ST_HOST_ABORTED), 19);
	expect_once(0, 20);
	assert_int_equal(last_status[5], NVME_ST_HOST_ABORTED);
	/* the device answering late changes nothing */
	fake_complete_all(&F, &D, 0);
	assert_int_equal(pdk_nvme_qpair_poll(&QP, 0), 0);
	expect_once(0, 20);
	assert_int_equal(stat(&QP.stats.dropped_stale), 21);
}

static void resubmit_after_reset(void **state)
{
	struct pdk_nvme_cmd before[4], after[4];

	(void)state;
	F.c.opts.max_retries = 1;
	for (unsigned i = 0; i < 4; i++) {
		assert_int_equal(read_n(i, i, 1), 0);
		assert_true(fake_fetch(&F, &D, &before[i]));
	}
	/* the controller was reset: empty rings, everything again, new ids */
	nvme_qpair_reset_rings(&QP);
	fake_dev_init(&D, &QP);
	assert_int_equal(nvme_qpair_resubmit_all(&QP), 0);
	for (unsigned i = 0; i < 4; i++) {
		assert_true(fake_fetch(&F, &D, &after[i]));
		assert_int_equal(after[i].cdw10, before[i].cdw10);
		assert_int_not_equal(after[i].cid, before[i].cid);
	}
	fake_post(&D, before[0].cid, 0); /* from before the reset: stale */
	fake_post(&D, after[0].cid, 0);
	assert_int_equal(pdk_nvme_qpair_poll(&QP, 0), 1);
	/* a second reset: the retry budget (1) is spent, the rest fail */
	nvme_qpair_reset_rings(&QP);
	fake_dev_init(&D, &QP);
	assert_int_equal(nvme_qpair_resubmit_all(&QP), 3);
	expect_once(0, 4);
	assert_int_equal(last_status[0], 0);
	assert_int_equal(last_status[3], NVME_ST_HOST_ABORTED);
	assert_int_equal(stat(&QP.stats.retries), 4);
}

static void shadow_doorbells(void **state)
{
	static uint32_t dbbuf[2 * 1024] __attribute__((aligned(4096)));
	_Atomic uint32_t *ei;

	(void)state;
	F.c.dbbuf = dbbuf;
	F.c.dbbuf_on = true;
	nvme_qpair_reset_rings(&QP);
	ei = QP.ei_sq;
	assert_ptr_equal(QP.shadow_sq, (_Atomic uint32_t *)dbbuf + 2);
	assert_ptr_equal(ei, (_Atomic uint32_t *)dbbuf + 1024 + 2);
	/* event index 0: the device wants to hear when the tail passes 0 */
	assert_int_equal(read_n(0, 0, 1), 0);
	assert_int_equal(fake_reg32(&F, QP.sq_db), 1);
	/* it has not caught up: further tails are in the shadow only */
	assert_int_equal(read_n(1, 0, 1), 0);
	assert_int_equal(read_n(2, 0, 1), 0);
	assert_int_equal(fake_reg32(&F, QP.sq_db), 1);
	assert_int_equal(atomic_load(QP.shadow_sq), 3);
	assert_int_equal(stat(&QP.stats.doorbells_skipped), 2);
	/* the device asks again (event index 3, the tail it saw): the next write rings */
	atomic_store(ei, 3);
	assert_int_equal(read_n(3, 0, 1), 0);
	assert_int_equal(fake_reg32(&F, QP.sq_db), 4);
	fake_complete_all(&F, &D, 0);
	assert_int_equal(pdk_nvme_qpair_poll(&QP, 0), 4);
	assert_int_equal(atomic_load(QP.shadow_cq), 4);
	expect_once(0, 4);
	F.c.dbbuf_on = false;
	F.c.dbbuf = NULL;
}

static void timeout_device_gone(void **state)
{
	(void)state;
	QP.timeout_tsc = 1;
	F.c.check_tsc = 0;
	for (unsigned i = 0; i < 5; i++)
		assert_int_equal(read_n(i, 0, 1), 0);
	fake_set_reg32(&F, PDK_NVME_REG_CSTS, UINT32_MAX);
	test_log_capture(PDK_LOG_ERR);
	assert_int_equal(pdk_nvme_qpair_poll(&QP, 0), 0); /* starts the clocks */
	assert_false(pdk_nvme_ctrlr_is_failed(&F.c));
	assert_int_equal(pdk_nvme_qpair_poll(&QP, 0), 0); /* finds the timeout, and CSTS */
	assert_true(pdk_nvme_ctrlr_is_failed(&F.c));
	assert_log_contains("all-ones");
	test_log_release();
	assert_int_equal(pdk_nvme_qpair_poll(&QP, 0), 5);
	expect_once(0, 5);
	assert_int_equal(last_status[4], NVME_ST_GONE);
	assert_int_equal(pdk_nvme_qpair_poll(&QP, 0), -ENXIO);
	assert_int_equal(read_n(9, 0, 1), -ENXIO);
	assert_int_equal(stat(&QP.stats.timeouts), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(submit_and_complete, setup, teardown),
		cmocka_unit_test_setup_teardown(cid_generations, setup, teardown),
		cmocka_unit_test_setup_teardown(hostile_completions, setup, teardown),
		cmocka_unit_test_setup_teardown(phase_wraps, setup, teardown),
		cmocka_unit_test_setup_teardown(queue_full, setup, teardown),
		cmocka_unit_test_setup_teardown(split_at_mdts, setup, teardown),
		cmocka_unit_test_setup_teardown(bad_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(write_zeroes_and_flush, setup, teardown),
		cmocka_unit_test_setup_teardown(fail_everything, setup, teardown),
		cmocka_unit_test_setup_teardown(resubmit_after_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(shadow_doorbells, setup, teardown),
		cmocka_unit_test_setup_teardown(timeout_device_gone, setup, teardown),
	};

	return test_run_group_with_eal("nvme_qpair", tests, "0");
}
