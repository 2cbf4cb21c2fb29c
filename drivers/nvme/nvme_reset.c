/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Recovery: command timeouts, controller resets, a controller that is gone.
 *
 * A command past its deadline: read CSTS. All-ones: the device is gone,
 * every request fails. CFS: reset. Otherwise send an Abort; if the command
 * is still there when the abort deadline passes (or the Abort cannot be
 * sent), reset. A reset disables and re-enables the controller under the
 * admin lock, fails the admin commands, and moves ctrlr->gen on; each queue
 * pair, at its owner's next poll, re-creates its queues and resubmits what
 * it had outstanding (each command at most max_retries times, then it fails
 * with ABORTED_BY_HOST). Resets that keep failing make the controller
 * FAILED, which is final.
 *
 * I/O threads never wait for the admin lock on their fast path: they take
 * it only to re-create their queues after a reset, and otherwise try it
 * (an Abort, a reset) and come back at the next timeout check if busy.
 */
#include <errno.h>
#include <string.h>

#include "nvme_internal.h"

void nvme_ctrlr_set_state(struct pdk_nvme_ctrlr *c, enum nvme_ctrlr_state state)
{
	uint32_t g = atomic_load_explicit(&c->gen, memory_order_relaxed), n;

	do {
		if (NVME_GEN_STATE(g) == NVME_CTRLR_FAILED)
			return;
		n = ((g & ~3u) + NVME_GEN_STEP) | (uint32_t)state;
		/* release: pairs with the acquire in nvme_ctrlr_gen(), so a queue
		 * pair that sees READY also sees the re-initialised controller */
	} while (!atomic_compare_exchange_weak_explicit(&c->gen, &g, n, memory_order_release,
							memory_order_relaxed));
}

void nvme_ctrlr_set_failed(struct pdk_nvme_ctrlr *c, const char *why)
{
	if (NVME_GEN_STATE(nvme_ctrlr_gen(c)) == NVME_CTRLR_FAILED)
		return;
	PDK_LOG(ERR, NVME_LOG, "%s: controller failed: %s; every outstanding request "
		"completes with an error, detach it (and check the device or its server)",
		c->name, why);
	nvme_ctrlr_set_state(c, NVME_CTRLR_FAILED);
}

static int reset_attempt(struct pdk_nvme_ctrlr *c)
{
	int rc = nvme_ctrlr_disable(c);

	if (rc == 0)
		rc = nvme_ctrlr_start(c);
	return rc;
}

int nvme_ctrlr_reset_locked(struct pdk_nvme_ctrlr *c)
{
	int rc = -EIO;

	if (NVME_GEN_STATE(nvme_ctrlr_gen(c)) == NVME_CTRLR_FAILED)
		return -ENXIO;
	if (c->in_reset)
		return -EBUSY; /* a command of the reset itself timed out */
	c->in_reset = true;
	atomic_store_explicit(&c->reset_wanted, false, memory_order_relaxed);
	nvme_ctrlr_set_state(c, NVME_CTRLR_RESETTING);
	atomic_fetch_add_explicit(&c->resets, 1, memory_order_relaxed);
	PDK_LOG(NOTICE, NVME_LOG, "%s: resetting the controller", c->name);
	for (int i = 0; i < NVME_MAX_RESET_ATTEMPTS && rc != 0 && rc != -ENODEV; i++) {
		nvme_qpair_fail_all(c->adminq, NVME_ST_HOST_ABORTED);
		rc = reset_attempt(c);
	}
	c->in_reset = false;
	if (rc < 0) {
		nvme_ctrlr_set_failed(c, rc == -ENODEV ? "gone during a reset" :
						   "the controller does not come back from resets");
		nvme_qpair_fail_all(c->adminq, NVME_ST_GONE);
		return rc == -ENODEV ? -ENXIO : rc;
	}
	nvme_ctrlr_set_state(c, NVME_CTRLR_READY);
	c->adminq->gen = nvme_ctrlr_gen(c);
	PDK_LOG(NOTICE, NVME_LOG, "%s: reset done; queue pairs re-create their queues at their "
		"next poll", c->name);
	return 0;
}

int pdk_nvme_ctrlr_reset(struct pdk_nvme_ctrlr *c)
{
	int rc;

	pthread_mutex_lock(&c->lock);
	rc = nvme_ctrlr_reset_locked(c);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

void nvme_ctrlr_try_admin(struct pdk_nvme_ctrlr *c)
{
	if (pthread_mutex_trylock(&c->lock) != 0)
		return; /* whoever holds it does the admin work */
	nvme_admin_poll_locked(c);
	pthread_mutex_unlock(&c->lock);
}

void nvme_ctrlr_want_reset(struct pdk_nvme_ctrlr *c, const char *why)
{
	PDK_LOG(WARNING, NVME_LOG, "%s: %s: reset needed", c->name, why);
	atomic_store_explicit(&c->reset_wanted, true, memory_order_relaxed);
	nvme_ctrlr_try_admin(c); /* resets now if the admin lock is free */
}

/* ---------------------------------------------------------- timeouts -- */

/* A device that wrote the entry after the head but skipped the head (a
 * stale phase tag left there): drop the skipped slot so the rest is seen.
 * Checked only at timeout time, long after any write could be in flight. */
static bool cq_skip_stale(struct pdk_nvme_qpair *qp)
{
	uint16_t next = (uint16_t)(qp->cq_head + 1 == qp->entries ? 0 : qp->cq_head + 1);
	uint8_t next_phase = next == 0 ? qp->phase ^ 1u : qp->phase;
	uint16_t st0 = __atomic_load_n(&qp->cq[qp->cq_head].status, __ATOMIC_ACQUIRE);
	uint16_t st1 = __atomic_load_n(&qp->cq[next].status, __ATOMIC_ACQUIRE);

	if ((st0 & 1u) == qp->phase || (st1 & 1u) != next_phase)
		return false;
	NVME_STAT(qp, phase_skipped);
	PDK_LOG(WARNING, NVME_LOG, "%s: queue %u: completion slot %u was skipped by the device "
		"(stale phase tag): dropped", qp->ctrlr->name, qp->id, qp->cq_head);
	qp->cq_head = next;
	if (next == 0)
		qp->phase ^= 1u;
	return true;
}

/* Under lock for the admin queue; I/O queues try the lock. */
static int send_abort(struct pdk_nvme_qpair *qp, struct nvme_tracker *tr)
{
	struct pdk_nvme_ctrlr *c = qp->ctrlr;
	int rc;

	if (qp->is_admin)
		return tr->cmd.opc == PDK_NVME_OPC_ABORT ? -ENOSPC
							 : nvme_admin_abort(c, 0, tr->cmd.cid);
	if (pthread_mutex_trylock(&c->lock) != 0)
		return -EBUSY;
	rc = nvme_admin_abort(c, qp->id, tr->cmd.cid);
	pthread_mutex_unlock(&c->lock);
	return rc;
}

static void reset_for(struct pdk_nvme_qpair *qp, const char *why)
{
	if (qp->is_admin) { /* the lock is ours already */
		PDK_LOG(WARNING, NVME_LOG, "%s: %s: resetting", qp->ctrlr->name, why);
		nvme_ctrlr_reset_locked(qp->ctrlr);
	} else {
		nvme_ctrlr_want_reset(qp->ctrlr, why);
	}
}

void nvme_timeout(struct pdk_nvme_qpair *qp, struct nvme_tracker *tr, uint64_t now)
{
	struct pdk_nvme_ctrlr *c = qp->ctrlr;
	uint32_t csts;
	int rc;

	if (qp->is_admin && c->in_reset) { /* a reset's own command: no nesting */
		nvme_tracker_fail(qp, tr, NVME_ST_HOST_ABORTED);
		return;
	}
	if (tr->flags & NVME_TR_ABORT_SENT) {
		tr->deadline = UINT64_MAX; /* one reset per command is enough */
		reset_for(qp, "a command is still outstanding after its Abort");
		return;
	}
	if (!(tr->flags & NVME_TR_TIMED_OUT)) {
		tr->flags |= NVME_TR_TIMED_OUT;
		NVME_STAT(qp, timeouts);
		PDK_LOG(WARNING, NVME_LOG, "%s: queue %u: command 0x%04x (opcode 0x%02x) timed "
			"out", c->name, qp->id, tr->cmd.cid, tr->cmd.opc);
	}
	rc = nvme_ctrlr_health(c, &csts);
	if (rc == -ENODEV) {
		nvme_ctrlr_set_failed(c, "CSTS reads all-ones: the device is gone");
		return;
	}
	if (rc == -EIO) {
		reset_for(qp, "controller fatal status");
		return;
	}
	if (cq_skip_stale(qp))
		return; /* the next poll sees the entries behind it */
	rc = send_abort(qp, tr);
	if (rc == 0) {
		NVME_STAT(qp, aborts);
		tr->flags |= NVME_TR_ABORT_SENT;
		tr->deadline = now + c->abort_timeout_tsc;
	} else if (rc != -EBUSY) {
		reset_for(qp, "cannot send an Abort");
	}
}

/* ------------------------------------------------- queue pair resync -- */

static int qpair_fail(struct pdk_nvme_qpair *qp, uint16_t status)
{
	int n;

	qp->state = NVME_QP_FAILED;
	n = nvme_qpair_fail_all(qp, status);
	return n > 0 ? n : -ENXIO;
}

/* Re-create the queues in generation g; 0 when connected. */
static int qpair_recreate(struct pdk_nvme_qpair *qp, uint32_t g)
{
	struct pdk_nvme_ctrlr *c = qp->ctrlr;
	int rc;

	if (qp->id > c->io_queues) {
		PDK_LOG(ERR, NVME_LOG, "%s: after the reset the controller grants %u I/O queues: "
			"queue %u is lost", c->name, c->io_queues, qp->id);
		return -ENOSPC;
	}
	nvme_qpair_reset_rings(qp);
	rc = nvme_admin_create_queues(c, qp);
	if (rc == 0 && nvme_ctrlr_gen(c) != g)
		rc = -EAGAIN; /* reset again while creating */
	return rc;
}

static int qpair_reconnect(struct pdk_nvme_qpair *qp)
{
	struct pdk_nvme_ctrlr *c = qp->ctrlr;
	uint32_t g;
	int rc;

	pthread_mutex_lock(&c->lock);
	g = nvme_ctrlr_gen(c);
	if (NVME_GEN_STATE(g) != NVME_CTRLR_READY) {
		pthread_mutex_unlock(&c->lock);
		return 0;
	}
	rc = qpair_recreate(qp, g);
	pthread_mutex_unlock(&c->lock);
	if (rc == -ENOSPC || (rc < 0 && ++qp->reconnects >= NVME_MAX_RECONNECTS))
		return qpair_fail(qp, NVME_ST_HOST_ABORTED);
	if (rc < 0)
		return 0; /* next poll tries again */
	qp->gen = g;
	qp->state = NVME_QP_CONNECTED;
	qp->reconnects = 0;
	return nvme_qpair_resubmit_all(qp);
}

int nvme_qpair_resync(struct pdk_nvme_qpair *qp)
{
	uint32_t g = nvme_ctrlr_gen(qp->ctrlr);

	if (qp->state == NVME_QP_FAILED)
		return qp->requests ? qpair_fail(qp, NVME_ST_GONE) : -ENXIO;
	switch (NVME_GEN_STATE(g)) {
	case NVME_CTRLR_FAILED:
		return qpair_fail(qp, NVME_ST_GONE);
	case NVME_CTRLR_RESETTING:
		qp->state = NVME_QP_DISCONNECTED; /* hands off the device */
		return 0;
	default:
		qp->state = NVME_QP_DISCONNECTED;
		return qpair_reconnect(qp);
	}
}
