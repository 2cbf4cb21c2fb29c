/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Every fault the NVMe model injects, seen on the wire: fatal status at a
 * command (fixed and seeded-random, again after each reset), stuck
 * commands (the Nth, by I/O or admin opcode), completions with an unknown
 * or a duplicate command id, a stale phase, an SQ head beyond the tail,
 * the device dying or being removed at a command; the knob forms, the
 * run-time forms (pdk_emu_dev_inject) and the counters.
 */
#include "nvme_test.h"

#include <sys/eventfd.h>

static struct nt T;

static void start(const char *knobs)
{
	nt_open(&T, emu_path("faults.sock"), knobs);
	nt_enable(&T);
	nt_qpair(&T, 1, 32, 1);
}

static int setup(void **state)
{
	(void)state;
	start("");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	nt_close(&T);
	return 0;
}

static struct pdk_nvme_cmd flush(void)
{
	return nt_rw(PDK_NVME_OPC_FLUSH, 1, 0, 1, 0, 0);
}

static uint16_t io_flush(void)
{
	struct pdk_nvme_cmd cmd = flush();

	return nt_cmd(&T, &T.io[1], &cmd, NULL);
}

static void inject(const char *f)
{
	assert_int_equal(pdk_emu_dev_inject(T.dev, f), 0);
}

/* A controller that went fatal: CFS set, the command never completes. */
static void expect_cfs(struct ntq *q)
{
	assert_int_equal(nt_reap(&T, q, NULL, 50), -ETIMEDOUT);
	nt_wait_csts(&T, PDK_NVME_CSTS_CFS, PDK_NVME_CSTS_CFS);
}

static void reset_and_requeue(void)
{
	nt_disable(&T);
	assert_int_equal(nt_reg32(&T, PDK_NVME_REG_CSTS) & PDK_NVME_CSTS_CFS, 0);
	nt_enable(&T);
	nt_qpair(&T, 1, 32, 1);
}

static void test_cfs_at(void **state)
{
	struct pdk_nvme_cmd cmd = flush();

	(void)state;
	inject("cfs-at=3");
	assert_int_equal(io_flush(), NT_OK);
	assert_int_equal(io_flush(), NT_OK);
	nt_submit(&T, &T.io[1], &cmd);
	expect_cfs(&T.io[1]);
	/* nothing runs on a fatal controller */
	nt_submit(&T, &T.io[1], &cmd);
	assert_int_equal(nt_reap(&T, &T.io[1], NULL, 30), -ETIMEDOUT);
	assert_int_equal(nt_stats(&T).inj_cfs, 1);
	reset_and_requeue();
	for (int i = 0; i < 10; i++)
		assert_int_equal(io_flush(), NT_OK);
	/* "cfs": now */
	inject("cfs");
	nt_wait_csts(&T, PDK_NVME_CSTS_CFS, PDK_NVME_CSTS_CFS);
	assert_int_equal(nt_stats(&T).inj_cfs, 2);
}

/* The knob counts from creation: the admin commands of bring-up count. */
static void test_cfs_knob(void **state)
{
	void *d;

	(void)state;
	nt_close(&T);
	nt_open(&T, emu_path("faults.sock"), "cfs-at=3");
	nt_enable(&T);
	assert_int_equal(nt_identify(&T, 1, 0, &d), NT_OK);
	assert_int_equal(nt_identify(&T, 1, 0, &d), NT_OK);
	struct pdk_nvme_cmd cmd = {.opc = PDK_NVME_OPC_IDENTIFY, .cdw10 = 1,
				   .prp1 = nt_alloc(&T, 4096, NULL)};
	nt_submit(&T, &T.admin, &cmd);
	expect_cfs(&T.admin);
}

/* Admin commands until CFS (at most `limit`), or fail. */
static unsigned run_until_cfs(unsigned limit)
{
	for (unsigned n = 1; n <= limit; n++) {
		struct pdk_nvme_cmd cmd = {.opc = PDK_NVME_OPC_GET_FEATURES,
					   .cdw10 = PDK_NVME_FEAT_ARBITRATION};

		nt_submit(&T, &T.admin, &cmd);
		if (nt_reap(&T, &T.admin, NULL, 100) == -ETIMEDOUT) {
			nt_wait_csts(&T, PDK_NVME_CSTS_CFS, PDK_NVME_CSTS_CFS);
			return n;
		}
	}
	fail_msg("no CFS within %u commands", limit);
	return 0;
}

static void cfs_rounds(unsigned *at, unsigned n)
{
	inject("seed=7");
	inject("cfs-random=20");
	for (unsigned i = 0; i < n; i++) {
		at[i] = run_until_cfs(21);
		nt_disable(&T);
		nt_enable(&T); /* a new random point from here */
	}
}

/* Random points, re-armed after each enable, the same for the same seed. */
static void test_cfs_random(void **state)
{
	unsigned first[6], again[6];

	(void)state;
	cfs_rounds(first, 6);
	nt_close(&T);
	start("");
	cfs_rounds(again, 6);
	assert_memory_equal(first, again, sizeof(first));
	assert_int_equal(nt_stats(&T).inj_cfs, 6);
	/* not all at the same point */
	assert_true(first[0] != first[1] || first[1] != first[2] || first[2] != first[3]);
	inject("cfs-random=0");
	for (int i = 0; i < 40; i++)
		assert_int_equal(nt_identify(&T, 1, 0, NULL), NT_OK);
}

static void test_stuck(void **state)
{
	struct pdk_nvme_cmd cmd = flush(), rd;
	struct pdk_nvme_cpl e;
	uint16_t cid;
	void *d;

	(void)state;
	/* the 2nd command from now */
	inject("stuck-at=2");
	assert_int_equal(io_flush(), NT_OK);
	cid = nt_submit(&T, &T.io[1], &cmd);
	assert_int_equal(nt_reap(&T, &T.io[1], NULL, 50), -ETIMEDOUT);
	/* later commands complete; the stuck one does not */
	assert_int_equal(io_flush(), NT_OK);
	assert_int_equal(nt_stats(&T).inj_stuck, 1);
	/* by I/O opcode: a Read sticks, an admin Get Log Page (also 02h) does not */
	inject("stuck-opc=2");
	assert_int_equal(nt_get_log(&T, PDK_NVME_LOG_SMART, 512, NULL), NT_OK);
	rd = nt_rw(PDK_NVME_OPC_READ, 1, 0, 1, nt_alloc(&T, 4096, NULL), 0);
	nt_submit(&T, &T.io[1], &rd);
	assert_int_equal(nt_reap(&T, &T.io[1], NULL, 50), -ETIMEDOUT);
	rd.cid = 0;
	assert_int_equal(nt_cmd(&T, &T.io[1], &rd, &e), NT_OK); /* one-shot */
	/* by admin opcode: I/O goes on meanwhile */
	inject("stuck-admin-opc=6");
	cmd = (struct pdk_nvme_cmd){.opc = PDK_NVME_OPC_IDENTIFY, .cdw10 = 1,
				    .prp1 = nt_alloc(&T, 4096, NULL)};
	nt_submit(&T, &T.admin, &cmd);
	assert_int_equal(nt_reap(&T, &T.admin, NULL, 50), -ETIMEDOUT);
	assert_int_equal(io_flush(), NT_OK);
	assert_int_equal(nt_stats(&T).inj_stuck, 3);
	/* a reset ends them all, without completions */
	reset_and_requeue();
	assert_int_equal(nt_identify(&T, 1, 0, &d), NT_OK);
	assert_int_equal(io_flush(), NT_OK);
	(void)cid;
}

/* After each I/O completion: one with a cid the host has not got. */
static void test_unknown_cid(void **state)
{
	struct pdk_nvme_cpl e;
	uint16_t cids[8];

	(void)state;
	inject("cpl-unknown-cid=1");
	for (int round = 0; round < 20; round++) {
		for (int i = 0; i < 8; i++) {
			struct pdk_nvme_cmd cmd = flush();

			cids[i] = nt_queue_cmd(&T.io[1], &cmd);
		}
		nt_ring(&T, &T.io[1]);
		for (int i = 0; i < 8; i++) {
			assert_int_equal(nt_reap(&T, &T.io[1], &e, NT_TIMEOUT_MS), 0);
			assert_int_equal(e.cid, cids[i]);
			assert_int_equal(nt_reap(&T, &T.io[1], &e, NT_TIMEOUT_MS), 0);
			/* not one of this round's, in flight or done */
			for (int j = 0; j < 8; j++)
				assert_int_not_equal(e.cid, cids[j]);
		}
	}
	assert_int_equal(nt_stats(&T).inj_unknown_cid, 160);
	assert_int_equal(nt_stats(&T).completions, 160 + 2);
	/* admin completions are left alone */
	assert_int_equal(nt_identify(&T, 1, 0, NULL), NT_OK);
	assert_int_equal(nt_identify(&T, 1, 0, NULL), NT_OK);
}

static void test_dup_cid(void **state)
{
	struct pdk_nvme_cmd cmd;
	struct pdk_nvme_cpl e, dup;

	(void)state;
	inject("cpl-dup-cid=2");
	for (int i = 0; i < 10; i++) {
		cmd = flush();
		assert_int_equal(nt_cmd(&T, &T.io[1], &cmd, &e), NT_OK);
		if (i % 2 == 0)
			continue;
		assert_int_equal(nt_reap(&T, &T.io[1], &dup, NT_TIMEOUT_MS), 0);
		assert_int_equal(dup.cid, e.cid);
		assert_int_equal(dup.status, e.status);
	}
	assert_int_equal(nt_reap(&T, &T.io[1], NULL, 20), -ETIMEDOUT);
	assert_int_equal(nt_stats(&T).inj_dup_cid, 5);
}

/* The free slot after a completion holds a copy with the old phase. */
static void test_stale_phase(void **state)
{
	struct ntq *q = &T.io[1];
	struct pdk_nvme_cpl e, next;

	(void)state;
	inject("cpl-stale-phase=1");
	for (int i = 0; i < 70; i++) { /* more than two passes of the CQ */
		struct pdk_nvme_cmd cmd = flush();

		assert_int_equal(nt_cmd(&T, q, &cmd, &e), NT_OK);
		/* written right after the real one: wait for it */
		for (int ms = 0; ms < NT_TIMEOUT_MS; ms++) {
			next = *(volatile struct pdk_nvme_cpl *)&q->cq[q->cq_head];
			if (next.cid == e.cid)
				break;
			emu_sleep_ms(1);
		}
		assert_int_equal(next.cid, e.cid);
		assert_int_equal(next.status & 1, q->phase ^ 1);
		assert_false(nt_cqe_ready(q));
	}
	assert_int_equal(nt_stats(&T).inj_stale_phase, 70);
	inject("clear");
	assert_int_equal(io_flush(), NT_OK);
	assert_int_equal(nt_stats(&T).inj_stale_phase, 70);
}

/* An SQ head one past the host's tail. */
static void test_bad_sqhd(void **state)
{
	struct pdk_nvme_cpl e;

	(void)state;
	inject("cpl-bad-sqhd=1");
	for (int i = 0; i < 40; i++) {
		struct pdk_nvme_cmd cmd = flush();

		assert_int_equal(nt_cmd(&T, &T.io[1], &cmd, &e), NT_OK);
		assert_int_equal(e.sqhd, (T.io[1].sq_tail + 1) % 32);
	}
	inject("cpl-bad-sqhd=0");
	for (int i = 0; i < 3; i++) {
		struct pdk_nvme_cmd cmd = flush();

		assert_int_equal(nt_cmd(&T, &T.io[1], &cmd, &e), NT_OK);
		assert_int_equal(e.sqhd, T.io[1].sq_tail);
	}
	assert_int_equal(nt_stats(&T).inj_bad_sqhd, 40);
	/* one-shot form */
	inject("bad-sqhd");
	assert_int_equal(io_flush(), NT_OK);
	assert_int_equal(io_flush(), NT_OK);
	assert_int_equal(nt_stats(&T).inj_bad_sqhd, 41);
}

/*
 * All four at once, many times, as the driver's tests will see them: after
 * command i (from 1) a duplicate when 5 | i, then an unknown id when 3 | i.
 */
static void test_malformed_mix(void **state)
{
	struct pdk_emu_nvme_stats st;
	struct pdk_nvme_cpl e, d;

	(void)state;
	inject("cpl-unknown-cid=3");
	inject("cpl-dup-cid=5");
	inject("cpl-stale-phase=2");
	inject("cpl-bad-sqhd=7");
	for (unsigned i = 1; i <= 3000; i++) {
		struct pdk_nvme_cmd cmd = flush();

		assert_int_equal(nt_cmd(&T, &T.io[1], &cmd, &e), NT_OK);
		assert_true(i % 7 ? e.sqhd == T.io[1].sq_tail : e.sqhd != T.io[1].sq_tail);
		if (i % 5 == 0) {
			assert_int_equal(nt_reap(&T, &T.io[1], &d, NT_TIMEOUT_MS), 0);
			assert_int_equal(d.cid, e.cid);
		}
		if (i % 3 == 0) {
			assert_int_equal(nt_reap(&T, &T.io[1], &d, NT_TIMEOUT_MS), 0);
			assert_int_not_equal(d.cid, e.cid);
		}
	}
	assert_int_equal(nt_reap(&T, &T.io[1], NULL, 20), -ETIMEDOUT);
	st = nt_stats(&T);
	assert_int_equal(st.inj_unknown_cid, 1000);
	assert_int_equal(st.inj_dup_cid, 600);
	assert_int_equal(st.inj_stale_phase, 1500);
	assert_int_equal(st.inj_bad_sqhd, 428);
}

static void test_allones_at(void **state)
{
	struct pdk_nvme_cmd cmd = flush();

	(void)state;
	inject("allones-at=1");
	nt_submit(&T, &T.io[1], &cmd);
	emu_wait_reg(&T.c, 0, PDK_NVME_REG_CSTS, ~0u, ~0u);
	assert_int_equal(nt_reg32(&T, PDK_NVME_REG_VS), 0xffffffff);
	assert_int_equal(nt_stats(&T).inj_allones, 1);
}

static void test_remove_at(void **state)
{
	int req = eventfd(0, EFD_CLOEXEC);
	uint32_t v;
	int rc;

	(void)state;
	nt_close(&T);
	/* bring-up takes two commands: the third removes the device */
	start("remove-grace-ms=50,remove-at=3");
	assert_int_equal(vuc_set_irqs(&T.c, VFIO_PCI_REQ_IRQ_INDEX,
				      VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
				      0, 1, &req, 1, NULL), 0);
	/* the command that triggers it completes: the grace period runs */
	assert_int_equal(io_flush(), NT_OK);
	assert_int_equal(emu_wait_event(req, NT_TIMEOUT_MS), 1);
	emu_sleep_ms(200);
	rc = vuc_read(&T.c, 0, 0, &v, 4);
	assert_true(rc == -ECONNRESET || rc == -EPIPE);
	assert_int_equal(nt_stats(&T).inj_remove, 1);
	close(req);
}

static void test_inject_errors(void **state)
{
	(void)state;
	assert_int_equal(pdk_emu_dev_inject(T.dev, "no-such"), -EINVAL);
	assert_int_equal(pdk_emu_dev_inject(T.dev, "cfs-at=x"), -EINVAL);
	assert_int_equal(pdk_emu_dev_inject(T.dev, "cfs-at="), -EINVAL);
	assert_int_equal(pdk_emu_dev_inject(T.dev, "cfs-at=-1"), -EINVAL);
	assert_int_equal(pdk_emu_dev_inject(T.dev, "stuck-opc=256"), -EINVAL);
	assert_int_equal(pdk_emu_dev_inject(T.dev, "stuck-abort=2"), -EINVAL);
	assert_int_equal(pdk_emu_dev_inject(T.dev, "temp="), -EINVAL);
	assert_int_equal(pdk_emu_dev_inject(T.dev, "temp=70000"), -EINVAL);
	assert_int_equal(pdk_emu_dev_inject(T.dev, "=3"), -EINVAL);
	/* knobs set and "clear" unset */
	inject("stuck-at=1");
	inject("clear");
	assert_int_equal(io_flush(), NT_OK);
}

/* Rate knobs on the device line work like their run-time forms. */
static void test_knob_forms(void **state)
{
	struct pdk_nvme_cpl e, dup;

	(void)state;
	nt_close(&T);
	start("cpl-dup-cid=1,stuck-abort=0");
	for (int i = 0; i < 5; i++) {
		struct pdk_nvme_cmd cmd = flush();

		assert_int_equal(nt_cmd(&T, &T.io[1], &cmd, &e), NT_OK);
		assert_int_equal(nt_reap(&T, &T.io[1], &dup, NT_TIMEOUT_MS), 0);
		assert_int_equal(dup.cid, e.cid);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_cfs_at, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cfs_knob, setup, teardown),
		cmocka_unit_test_setup_teardown(test_cfs_random, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stuck, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unknown_cid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dup_cid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stale_phase, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_sqhd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_malformed_mix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_allones_at, setup, teardown),
		cmocka_unit_test_setup_teardown(test_remove_at, setup, teardown),
		cmocka_unit_test_setup_teardown(test_inject_errors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_knob_forms, setup, teardown),
	};

	return NT_MAIN(tests);
}
