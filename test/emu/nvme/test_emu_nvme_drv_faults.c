/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * drivers/nvme against every fault the emulated controller injects: no
 * crash, no request completed twice, every request completed, and every
 * write the driver acknowledged reads back intact after the resets.
 *
 *   - fatal status (CFS) at random points during 10,000 verified writes
 *   - resets from another thread during 30,000 verified writes
 *   - a stuck admin command: resolved by Abort, or by a reset, within 5 s
 *   - a stuck I/O command: aborted, or retried after a reset
 *   - malformed completions: unknown and duplicate ids, stale phase, SQ head
 *     beyond the tail, 50,000 of each: at least 100,000 dropped and counted
 *     (stale phases are never consumed, so never counted)
 *   - all-ones registers and surprise removal during I/O
 *   - a command whose PRP points at an IOVA nobody mapped
 */
#define NVME_TEST_BUF (4u << 20)
#include "nvme_emu_test.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>

#include "nvme_internal.h"

static struct pdk_nvme_ctrlr_opts fast_opts(void)
{
	struct pdk_nvme_ctrlr_opts o;

	pdk_nvme_ctrlr_opts_default(&o);
	o.io_timeout_ms = 300;
	o.abort_timeout_ms = 300;
	o.admin_timeout_ms = 1000;
	return o;
}

/* Keep up to `depth` requests in flight until `total` were submitted and
 * all completed. submit(i) submits request i (its id is i). */
static void pump(struct pdk_nvme_qpair *qp, uint32_t total, uint32_t depth,
		 int (*submit)(struct pdk_nvme_qpair *qp, uint32_t i))
{
	int64_t end = emu_test_ms() + 60000;

	while ((req_next < total || pdk_nvme_qpair_outstanding(qp) > 0) && emu_test_ms() < end) {
		while (req_next < total && pdk_nvme_qpair_outstanding(qp) < depth) {
			int rc = submit(qp, req_next);

			if (rc == -EAGAIN)
				break;
			if (rc < 0) { /* the controller failed for good */
				req_calls[req_next++] = 1;
				continue;
			}
			req_next++;
		}
		pdk_nvme_qpair_poll(qp, 0);
		pdk_nvme_ctrlr_poll_admin(ctrlr);
	}
	if (pdk_nvme_qpair_outstanding(qp) > 0)
		fail_msg("%u requests still outstanding after 60 s", pdk_nvme_qpair_outstanding(qp));
	req_all_once();
}

/* ------------------------------------------------- fatal status (CFS) -- */

static struct pdk_nvme_ns *g_ns;

#define WBUFS (NVME_TEST_BUF / 4096)

static int write_one(struct pdk_nvme_qpair *qp, uint32_t i)
{
	uint8_t *b = buf + (i % WBUFS) * 4096;

	/* the buffer is the data of a write until it completes, retries
	 * after resets included: wait for its previous user */
	if (i >= WBUFS && !req_calls[i - WBUFS])
		return -EAGAIN;

	/* a distinct block each: a failed write leaves no doubt about others */
	pattern_fill(b, (uint64_t)i * 8, 4096, 512, 0x5a);
	return pdk_nvme_ns_write(g_ns, qp, b, (uint64_t)i * 8, 8, req_done, (void *)(uintptr_t)i, 0);
}

static void cfs_during_writes(void **state)
{
	struct pdk_nvme_ctrlr_opts o = fast_opts();
	struct pdk_nvme_qpair *qp;
	struct pdk_nvme_stats st;
	uint32_t acked = 0;

	(void)state;
	nvme_up("ns-size=64m,cfs-random=2500,seed=11", &o);
	g_ns = pdk_nvme_ns_next(ctrlr, NULL);
	qp = pdk_nvme_qpair_alloc(ctrlr, 64);
	pump(qp, 10000, 64, write_one);
	pdk_nvme_ctrlr_stats(ctrlr, &st);
	print_message("CFS: %" PRIu64 " resets, %" PRIu64 " retries, %" PRIu64 " failed\n",
		      st.resets, st.retries, st.host_aborted);
	assert_true(st.resets >= 2);
	for (uint32_t i = 0; i < 10000; i++) {
		if (req_status[i] != 0)
			continue;
		acked++;
		assert_int_equal(io_sync(g_ns, qp, false, back, (uint64_t)i * 8, 8), 0);
		if (!pattern_ok(back, (uint64_t)i * 8, 4096, 512, 0x5a))
			fail_msg("acknowledged write %u (LBA %u) did not survive the resets", i, i * 8);
	}
	assert_true(acked >= 9900);
	pdk_nvme_qpair_free(qp);
}

/* Resets from another thread while this one writes: the queue pair
 * re-creates its queues and resubmits, nothing is lost or doubled. */
static void *resetter(void *arg)
{
	(void)arg;
	for (int i = 0; i < 5; i++) {
		emu_sleep_ms(40);
		if (pdk_nvme_ctrlr_reset(ctrlr) != 0)
			return (void *)1;
	}
	return NULL;
}

static void resets_from_another_thread(void **state)
{
	struct pdk_nvme_ctrlr_opts o = fast_opts();
	struct pdk_nvme_qpair *qp;
	struct pdk_nvme_stats st;
	pthread_t th;
	void *ret;

	(void)state;
	o.max_retries = 8;
	nvme_up("ns-size=128m,latency-us=200", &o);
	g_ns = pdk_nvme_ns_next(ctrlr, NULL);
	qp = pdk_nvme_qpair_alloc(ctrlr, 64);
	assert_int_equal(pthread_create(&th, NULL, resetter, NULL), 0);
	pump(qp, 30000, 64, write_one);
	pthread_join(th, &ret);
	assert_null(ret);
	pdk_nvme_ctrlr_stats(ctrlr, &st);
	print_message("resets from another thread: %" PRIu64 " resets, %" PRIu64 " retries, %"
		      PRIu64 " timeouts, %" PRIu64 " failed\n", st.resets, st.retries, st.timeouts,
		      st.host_aborted);
	assert_true(st.resets >= 5); /* a slow run may time out and add one */
	assert_true(st.retries >= 64); /* the resets met writes in flight */
	for (uint32_t i = 0; i < 30000; i++) {
		assert_int_equal(req_status[i], 0); /* the retry budget covers 5 resets */
		assert_int_equal(io_sync(g_ns, qp, false, back, (uint64_t)i * 8, 8), 0);
		assert_true(pattern_ok(back, (uint64_t)i * 8, 4096, 512, 0x5a));
	}
	pdk_nvme_qpair_free(qp);
}

/* ---------------------------------------------------- stuck commands -- */

/* A Get Log Page that the controller never completes: resolved with
 * `want` within 5 s. */
static void stuck_log_page(const char *how, int want)
{
	struct pdk_nvme_smart_log smart;
	int64_t t0;
	int rc;

	assert_int_equal(pdk_emu_dev_inject(dev, "stuck-admin-opc=2"), 0);
	t0 = emu_test_ms();
	rc = pdk_nvme_ctrlr_smart_log(ctrlr, &smart);
	print_message("stuck Get Log Page, %s: %d after %" PRId64 " ms\n", how, rc,
		      emu_test_ms() - t0);
	assert_int_equal(rc, want);
	assert_true(emu_test_ms() - t0 < 5000);
}

static void stuck_admin(void **state)
{
	struct pdk_nvme_smart_log smart;
	struct pdk_nvme_qpair *qp;

	(void)state;
	nvme_up("ns-size=16m", NULL); /* default timeouts: 2 s admin, 1 s abort */
	/* the Abort releases it: the command ends with "aborted by request" */
	stuck_log_page("Abort works", -EIO);
	/* the Abort does not: the controller is reset */
	assert_int_equal(pdk_emu_dev_inject(dev, "stuck-abort=0"), 0);
	stuck_log_page("Abort ignored", -ETIMEDOUT);
	/* and the controller works */
	assert_int_equal(pdk_nvme_ctrlr_smart_log(ctrlr, &smart), 0);
	qp = pdk_nvme_qpair_alloc(ctrlr, 8);
	assert_non_null(qp);
	assert_int_equal(io_sync(pdk_nvme_ns_next(ctrlr, NULL), qp, false, back, 0, 8), 0);
	pdk_nvme_qpair_free(qp);
}

static void stuck_io(void **state)
{
	struct pdk_nvme_ctrlr_opts o = fast_opts();
	struct pdk_nvme_qpair *qp;
	struct pdk_nvme_ns *ns;
	struct pdk_nvme_stats st;
	int rc;

	(void)state;
	nvme_up("ns-size=16m", &o);
	ns = pdk_nvme_ns_next(ctrlr, NULL);
	qp = pdk_nvme_qpair_alloc(ctrlr, 8);
	assert_int_equal(pdk_emu_dev_inject(dev, "stuck-opc=2"), 0);
	rc = io_sync(ns, qp, false, back, 0, 8);
	assert_int_equal(PDK_NVME_CPL_SC(rc), PDK_NVME_SC_ABORTED_BY_REQUEST); /* aborted */
	assert_int_equal(pdk_emu_dev_inject(dev, "stuck-abort=0"), 0);
	assert_int_equal(pdk_emu_dev_inject(dev, "stuck-opc=2"), 0);
	assert_int_equal(io_sync(ns, qp, false, back, 0, 8), 0); /* reset, retried, fine */
	pdk_nvme_ctrlr_stats(ctrlr, &st);
	assert_int_equal(st.timeouts, 2);
	assert_int_equal(st.aborts, 2);
	assert_int_equal(st.resets, 1);
	req_all_once();
	pdk_nvme_qpair_free(qp);
}

/* ------------------------------------------------ malformed completions -- */

static int read_one(struct pdk_nvme_qpair *qp, uint32_t i)
{
	return pdk_nvme_ns_read(g_ns, qp, buf + (i % 64) * 4096, (uint64_t)(i % 4096) * 8, 8,
				req_done, (void *)(uintptr_t)i, 0);
}

static uint64_t malformed(const char *knob, uint32_t ios)
{
	struct pdk_nvme_qpair *qp;
	struct pdk_nvme_stats st;
	char knobs[64];

	req_reset();
	snprintf(knobs, sizeof(knobs), "ns-size=16m,%s=1", knob);
	nvme_up(knobs, NULL);
	g_ns = pdk_nvme_ns_next(ctrlr, NULL);
	qp = pdk_nvme_qpair_alloc(ctrlr, 32);
	pump(qp, ios, 32, read_one);
	for (uint32_t i = 0; i < ios; i++)
		if (req_status[i] != 0)
			fail_msg("%s: read %u failed: 0x%x", knob, i, req_status[i]);
	pdk_nvme_qpair_stats(qp, &st);
	print_message("%s: %u reads; dropped %" PRIu64 " unknown, %" PRIu64 " stale; SQ head "
		      "invalid %" PRIu64 "\n", knob, ios, st.dropped_unknown, st.dropped_stale,
		      st.sq_head_invalid);
	pdk_nvme_qpair_free(qp);
	nvme_down();
	return st.dropped_unknown + st.dropped_stale + st.sq_head_invalid;
}

static void malformed_completions(void **state)
{
	uint64_t n = 0;

	(void)state;
	n += malformed("cpl-unknown-cid", 50000);
	n += malformed("cpl-dup-cid", 50000);
	/* an SQ head beyond the tail when posted may be within it by the time
	 * the driver reads it (it submitted more): most are caught */
	n += malformed("cpl-bad-sqhd", 50000);
	print_message("%" PRIu64 " malformed completions dropped or ignored, and counted\n", n);
	assert_true(n >= 100000);
	/* stale-phase copies are never consumed: nothing to count, nothing
	 * completes wrongly */
	assert_int_equal(malformed("cpl-stale-phase", 50000), 0);
}

/* -------------------------------------------------------- device gone -- */

static atomic_int removed;

static void on_remove(void *arg, struct pdk_nvme_ctrlr *c)
{
	(void)arg;
	(void)c;
	atomic_store(&removed, 1);
}

static void gone_during_io(enum pdk_emu_fault f)
{
	struct pdk_nvme_ctrlr_opts o = fast_opts();
	struct pdk_nvme_qpair *qp;
	struct pdk_nvme_ns *ns;
	int64_t t0;

	atomic_store(&removed, 0);
	nvme_up("ns-size=16m,latency-us=20000,remove-grace-ms=2000", &o);
	pdk_nvme_ctrlr_set_remove_cb(ctrlr, on_remove, NULL);
	ns = pdk_nvme_ns_next(ctrlr, NULL);
	qp = pdk_nvme_qpair_alloc(ctrlr, 64);
	for (int i = 0; i < 64; i++)
		assert_int_equal(pdk_nvme_ns_read(ns, qp, buf + i * 4096, (uint64_t)i * 8, 8,
						  req_done, (void *)(uintptr_t)req_next++, 0), 0);
	t0 = emu_test_ms();
	assert_int_equal(pdk_emu_dev_fault(dev, f), 0);
	assert_true(drain(qp, 10000));
	req_all_once();
	assert_true(pdk_nvme_ctrlr_is_failed(ctrlr));
	for (uint32_t i = 0; i < req_next; i++)
		if (req_status[i] != 0)
			assert_int_equal(req_status[i], NVME_ST_GONE);
	assert_int_equal(pdk_nvme_qpair_poll(qp, 0), -ENXIO);
	assert_int_equal(pdk_nvme_ns_read(ns, qp, buf, 0, 8, req_done, NULL, 0), -ENXIO);
	print_message("gone after %" PRId64 " ms, removal callback %s\n", emu_test_ms() - t0,
		      atomic_load(&removed) ? "called" : "not called");
	if (f == PDK_EMU_FAULT_REMOVE)
		assert_int_equal(atomic_load(&removed), 1);
	pdk_nvme_qpair_free(qp);
	t0 = emu_test_ms();
	nvme_down();
	assert_true(emu_test_ms() - t0 < 3000); /* nothing hangs */
}

static void allones_during_io(void **state)
{
	(void)state;
	gone_during_io(PDK_EMU_FAULT_ALLONES);
}

static void removal_during_io(void **state)
{
	(void)state;
	gone_during_io(PDK_EMU_FAULT_REMOVE);
}

/* ----------------------------------------------------- DMA not mapped -- */

static void dma_unmapped(void **state)
{
	struct pdk_nvme_qpair *qp;
	struct nvme_tracker *tr;
	uint32_t id;

	(void)state;
	nvme_up("ns-size=16m", NULL);
	qp = pdk_nvme_qpair_alloc(ctrlr, 8);
	/* a read whose data pointer nobody mapped (internal API: the public
	 * one only takes DMA memory) */
	tr = nvme_tracker_get(qp);
	memset(&tr->cmd, 0, sizeof(tr->cmd));
	tr->cmd.opc = PDK_NVME_OPC_READ;
	tr->cmd.nsid = 1;
	tr->cmd.cdw12 = 7;
	tr->cmd.prp1 = 0x7f000000000ull;
	id = req_next++;
	tr->cb = req_done;
	tr->arg = (void *)(uintptr_t)id;
	tr->req = NULL;
	tr->flags = 0;
	tr->retries = 0;
	qp->requests++;
	nvme_qpair_submit(qp, tr, true);
	assert_true(req_wait(qp, id, 5000));
	assert_int_equal(PDK_NVME_CPL_SC(req_status[id]), PDK_NVME_SC_DATA_TRANSFER_ERROR);
	assert_false(pdk_nvme_ctrlr_is_failed(ctrlr));
	assert_int_equal(io_sync(pdk_nvme_ns_next(ctrlr, NULL), qp, false, back, 0, 8), 0);
	pdk_nvme_qpair_free(qp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		NVME_TEST(cfs_during_writes),
		NVME_TEST(resets_from_another_thread),
		NVME_TEST(stuck_admin),
		NVME_TEST(stuck_io),
		NVME_TEST(malformed_completions),
		NVME_TEST(allones_during_io),
		NVME_TEST(removal_during_io),
		NVME_TEST(dma_unmapped),
	};

	return NVME_TEST_MAIN(tests);
}
