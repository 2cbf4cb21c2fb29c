/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Admin commands (NVMe 1.4, section 5). Everything here runs under
 * ctrlr->lock. A synchronous command polls the admin queue itself, so its
 * timeout, the Abort and the reset that may follow all happen while it
 * waits: it returns once its command completed, one way or the other.
 * Data moves through the controller's scratch page (DMA memory), so callers
 * pass ordinary memory.
 */
#include <errno.h>
#include <inttypes.h>
#include <string.h>
#include <time.h>

#include "nvme_internal.h"

int nvme_admin_submit(struct pdk_nvme_ctrlr *c, const struct pdk_nvme_cmd *cmd,
		      uint32_t flags, pdk_nvme_cb cb, void *arg)
{
	struct pdk_nvme_qpair *aq = c->adminq;
	struct nvme_tracker *tr;

	if (NVME_GEN_STATE(nvme_ctrlr_gen(c)) == NVME_CTRLR_FAILED)
		return -ENXIO;
	tr = nvme_tracker_get(aq);
	if (tr == NULL)
		return -EAGAIN;
	tr->cmd = *cmd;
	tr->cb = cb;
	tr->arg = arg;
	tr->req = NULL;
	tr->flags = (uint8_t)flags;
	tr->retries = 0;
	aq->requests++;
	nvme_qpair_submit(aq, tr, true);
	return 0;
}

struct sync_wait {
	bool done;
	struct pdk_nvme_cpl cpl;
};

static void sync_done(void *arg, const struct pdk_nvme_cpl *cpl)
{
	struct sync_wait *w = arg;

	w->cpl = *cpl;
	w->done = true;
}

static int status_errno(uint16_t st)
{
	if (PDK_NVME_CPL_SCT(st) == PDK_NVME_SCT_PATH &&
	    PDK_NVME_CPL_SC(st) == PDK_NVME_SC_HOST_PATHING_ERROR)
		return -ENXIO;
	if (PDK_NVME_CPL_SCT(st) == PDK_NVME_SCT_PATH &&
	    PDK_NVME_CPL_SC(st) == PDK_NVME_SC_ABORTED_BY_HOST)
		return -ETIMEDOUT;
	return PDK_NVME_CPL_SC(st) || PDK_NVME_CPL_SCT(st) ? -EIO : 0;
}

int nvme_admin_sync(struct pdk_nvme_ctrlr *c, struct pdk_nvme_cmd *cmd, void *buf,
		    uint32_t len, struct pdk_nvme_cpl *cpl)
{
	struct sync_wait w = {0};
	unsigned spins = 0;
	int rc;

	if (buf != NULL) { /* the scratch page: one memory page at most */
		if (len > c->lim.page_size)
			return -EINVAL;
		cmd->prp1 = pdk_mem_virt2iova(buf);
		cmd->prp2 = 0;
	}
	rc = nvme_admin_submit(c, cmd, 0, sync_done, &w);
	while (rc == 0 && !w.done) {
		nvme_admin_poll_locked(c); /* timeouts, abort, reset: all in here */
		if (!w.done && ++spins > 1000) {
			struct timespec ts = {0, 20 * 1000};

			nanosleep(&ts, NULL);
		}
	}
	if (rc < 0)
		return rc;
	if (cpl != NULL)
		*cpl = w.cpl;
	rc = status_errno(w.cpl.status);
	if (rc == -EIO)
		PDK_LOG(DEBUG, NVME_LOG, "%s: admin opcode 0x%02x failed: %s (status 0x%04x)",
			c->name, cmd->opc, pdk_nvme_status_str(w.cpl.status), w.cpl.status);
	return rc;
}

/* ------------------------------------------------------- identify etc -- */

int nvme_admin_identify(struct pdk_nvme_ctrlr *c, uint8_t cns, uint32_t nsid, void *out)
{
	struct pdk_nvme_cmd cmd = {.opc = PDK_NVME_OPC_IDENTIFY, .nsid = nsid, .cdw10 = cns};
	int rc;

	memset(c->scratch, 0, 4096);
	rc = nvme_admin_sync(c, &cmd, c->scratch, 4096, NULL);
	if (rc == 0)
		memcpy(out, c->scratch, 4096);
	return rc;
}

int nvme_admin_set_num_queues(struct pdk_nvme_ctrlr *c, uint32_t want, uint32_t *granted)
{
	struct pdk_nvme_cmd cmd = {.opc = PDK_NVME_OPC_SET_FEATURES,
				   .cdw10 = PDK_NVME_FEAT_NUMBER_OF_QUEUES,
				   .cdw11 = PDK_NVME_NUM_QUEUES(want, want)};
	struct pdk_nvme_cpl cpl;
	uint32_t nsq, ncq;
	int rc = nvme_admin_sync(c, &cmd, NULL, 0, &cpl);

	if (rc < 0)
		return rc;
	/* 0's based; a controller may grant more than asked, never use more */
	nsq = (cpl.cdw0 & 0xffff) + 1;
	ncq = (cpl.cdw0 >> 16) + 1;
	*granted = PDK_MIN(PDK_MIN(nsq, ncq), want);
	return 0;
}

int nvme_admin_create_queues(struct pdk_nvme_ctrlr *c, struct pdk_nvme_qpair *qp)
{
	uint32_t size_qid = ((uint32_t)(qp->entries - 1) << 16) | qp->id;
	struct pdk_nvme_cmd cq = {.opc = PDK_NVME_OPC_CREATE_IO_CQ, .prp1 = qp->cq_iova,
				  .cdw10 = size_qid, .cdw11 = PDK_NVME_QUEUE_PHYS_CONTIG};
	struct pdk_nvme_cmd sq = {.opc = PDK_NVME_OPC_CREATE_IO_SQ, .prp1 = qp->sq_iova,
				  .cdw10 = size_qid,
				  .cdw11 = ((uint32_t)qp->id << 16) | PDK_NVME_QUEUE_PHYS_CONTIG};
	struct pdk_nvme_cpl cpl = {0};
	int rc;

	/* polled: no interrupt (IEN 0) */
	rc = nvme_admin_sync(c, &cq, NULL, 0, &cpl);
	if (rc == 0) {
		rc = nvme_admin_sync(c, &sq, NULL, 0, &cpl);
		if (rc < 0) {
			struct pdk_nvme_cmd del = {.opc = PDK_NVME_OPC_DELETE_IO_CQ, .cdw10 = qp->id};

			nvme_admin_sync(c, &del, NULL, 0, NULL);
		}
	}
	if (rc < 0)
		PDK_LOG(ERR, NVME_LOG, "%s: cannot create I/O queue %u (%u entries): %s%s%s",
			c->name, qp->id, qp->entries, strerror(-rc), rc == -EIO ? ": " : "",
			rc == -EIO ? pdk_nvme_status_str(cpl.status) : "");
	return rc;
}

int nvme_admin_delete_queues(struct pdk_nvme_ctrlr *c, struct pdk_nvme_qpair *qp)
{
	struct pdk_nvme_cmd sq = {.opc = PDK_NVME_OPC_DELETE_IO_SQ, .cdw10 = qp->id};
	struct pdk_nvme_cmd cq = {.opc = PDK_NVME_OPC_DELETE_IO_CQ, .cdw10 = qp->id};
	int rc = nvme_admin_sync(c, &sq, NULL, 0, NULL);

	if (rc == 0)
		rc = nvme_admin_sync(c, &cq, NULL, 0, NULL);
	return rc;
}

int nvme_admin_dbbuf_config(struct pdk_nvme_ctrlr *c)
{
	uint32_t page = c->lim.page_size;
	struct pdk_nvme_cmd cmd = {.opc = PDK_NVME_OPC_DOORBELL_BUFFER_CONFIG,
				   .prp1 = c->dbbuf_iova, .prp2 = c->dbbuf_iova + page};

	memset(c->dbbuf, 0, 2 * (size_t)page);
	return nvme_admin_sync(c, &cmd, NULL, 0, NULL);
}

/* ------------------------------------------------------------- abort -- */

static void abort_done(void *arg, const struct pdk_nvme_cpl *cpl)
{
	struct pdk_nvme_ctrlr *c = arg;

	c->aborts--;
	/* dword 0 bit 0 set: the command was not aborted. Either way its own
	 * completion (or the abort deadline) decides what happens next. */
	PDK_LOG(INFO, NVME_LOG, "%s: Abort completed: %s, command %saborted", c->name,
		pdk_nvme_status_str(cpl->status), (cpl->cdw0 & 1) ? "not " : "");
}

int nvme_admin_abort(struct pdk_nvme_ctrlr *c, uint16_t sqid, uint16_t cid)
{
	struct pdk_nvme_cmd cmd = {.opc = PDK_NVME_OPC_ABORT,
				   .cdw10 = PDK_NVME_ABORT_CDW10(sqid, cid)};
	struct pdk_nvme_qpair *aq = c->adminq;
	int rc;

	if (c->aborts >= c->lim.max_aborts)
		return -ENOSPC; /* ACL reached: a reset will do it */
	rc = nvme_admin_submit(c, &cmd, 0, abort_done, c);
	if (rc < 0)
		return rc;
	c->aborts++;
	/* the Abort itself gets the short deadline: if it hangs too, reset */
	for (uint16_t i = 0; i < aq->ntr; i++)
		if (aq->tr[i].active && aq->tr[i].cmd.opc == PDK_NVME_OPC_ABORT &&
		    aq->tr[i].cmd.cdw10 == cmd.cdw10)
			aq->tr[i].deadline = pdk_rdtsc() + c->abort_timeout_tsc;
	return 0;
}

/* ------------------------------------------------ asynchronous events -- */

static void aer_log_done(void *arg, const struct pdk_nvme_cpl *cpl)
{
	struct pdk_nvme_ctrlr *c = arg;

	if (pdk_nvme_cpl_is_error(cpl))
		PDK_LOG(DEBUG, NVME_LOG, "%s: reading the event's log page failed: %s", c->name,
			pdk_nvme_status_str(cpl->status));
}

/* Reading the log page the event names re-arms that event type (5.2). */
static void aer_read_log(struct pdk_nvme_ctrlr *c, uint32_t cdw0)
{
	uint32_t ndw = 512 / 4;
	struct pdk_nvme_cmd cmd = {.opc = PDK_NVME_OPC_GET_LOG_PAGE, .nsid = PDK_NVME_NSID_ALL,
				   .cdw10 = PDK_NVME_LOG_CDW10(PDK_NVME_AER_LOG_PAGE(cdw0), ndw),
				   .cdw11 = PDK_NVME_LOG_CDW11(ndw)};

	cmd.prp1 = c->scratch_iova + c->lim.page_size; /* the second scratch page */
	nvme_admin_submit(c, &cmd, 0, aer_log_done, c);
}

static void aer_done(void *arg, const struct pdk_nvme_cpl *cpl)
{
	struct pdk_nvme_ctrlr *c = arg;

	c->aers--;
	if (pdk_nvme_cpl_is_error(cpl)) {
		/* ended by a reset (which posts new ones) or refused: stop */
		if (PDK_NVME_CPL_SCT(cpl->status) != PDK_NVME_SCT_PATH)
			PDK_LOG(INFO, NVME_LOG, "%s: Asynchronous Event Request failed: %s",
				c->name, pdk_nvme_status_str(cpl->status));
		return;
	}
	PDK_LOG(NOTICE, NVME_LOG, "%s: asynchronous event: type %u info 0x%02x log page 0x%02x",
		c->name, PDK_NVME_AER_TYPE(cpl->cdw0), PDK_NVME_AER_INFO(cpl->cdw0),
		PDK_NVME_AER_LOG_PAGE(cpl->cdw0));
	if (c->nr_aer_pending < PDK_DIM(c->aer_pending))
		c->aer_pending[c->nr_aer_pending++] = cpl->cdw0;
	aer_read_log(c, cpl->cdw0);
	nvme_admin_post_aers(c);
}

void nvme_admin_post_aers(struct pdk_nvme_ctrlr *c)
{
	struct pdk_nvme_cmd cmd = {.opc = PDK_NVME_OPC_ASYNC_EVENT_REQUEST};

	while (c->aers < c->lim.max_aers &&
	       nvme_admin_submit(c, &cmd, NVME_TR_NO_TIMEOUT, aer_done, c) == 0)
		c->aers++;
}

/* --------------------------------------------------------- log pages -- */

int pdk_nvme_ctrlr_get_log_page(struct pdk_nvme_ctrlr *c, uint8_t lid, uint32_t nsid,
				void *buf, uint32_t len, uint16_t *status)
{
	uint32_t ndw = len / 4;
	struct pdk_nvme_cmd cmd = {.opc = PDK_NVME_OPC_GET_LOG_PAGE, .nsid = nsid,
				   .cdw10 = PDK_NVME_LOG_CDW10(lid, ndw),
				   .cdw11 = PDK_NVME_LOG_CDW11(ndw)};
	struct pdk_nvme_cpl cpl = {0};
	int rc;

	if (c == NULL || buf == NULL || len == 0 || len % 4 || len > 4096)
		return -EINVAL;
	pthread_mutex_lock(&c->lock);
	memset(c->scratch, 0, len);
	rc = nvme_admin_sync(c, &cmd, c->scratch, len, &cpl);
	if (rc == 0)
		memcpy(buf, c->scratch, len);
	pthread_mutex_unlock(&c->lock);
	if (status != NULL)
		*status = cpl.status;
	return rc;
}

int pdk_nvme_ctrlr_smart_log(struct pdk_nvme_ctrlr *c, struct pdk_nvme_smart_log *log)
{
	return pdk_nvme_ctrlr_get_log_page(c, PDK_NVME_LOG_SMART, PDK_NVME_NSID_ALL, log,
					   sizeof(*log), NULL);
}

int pdk_nvme_ctrlr_error_log(struct pdk_nvme_ctrlr *c, struct pdk_nvme_error_log *log,
			     uint32_t n)
{
	if (n == 0 || n > 4096 / sizeof(*log))
		return -EINVAL;
	return pdk_nvme_ctrlr_get_log_page(c, PDK_NVME_LOG_ERROR, PDK_NVME_NSID_ALL, log,
					   n * (uint32_t)sizeof(*log), NULL);
}

/* -------------------------------------------------------- admin poll -- */

static void health_check(struct pdk_nvme_ctrlr *c)
{
	uint32_t csts;
	int rc = nvme_ctrlr_health(c, &csts);

	if (rc == -ENODEV)
		nvme_ctrlr_set_failed(c, "CSTS reads all-ones: the device is gone");
	else if (rc == -EIO) {
		PDK_LOG(ERR, NVME_LOG, "%s: controller fatal status (CSTS 0x%x): resetting",
			c->name, csts);
		nvme_ctrlr_reset_locked(c);
	}
}

int nvme_admin_poll_locked(struct pdk_nvme_ctrlr *c)
{
	struct pdk_nvme_qpair *aq = c->adminq;
	uint64_t now;
	int n;

	if (NVME_GEN_STATE(nvme_ctrlr_gen(c)) == NVME_CTRLR_FAILED)
		return nvme_qpair_fail_all(aq, NVME_ST_GONE);
	n = nvme_qpair_process_cq(aq, 0);
	now = pdk_rdtsc();
	if (!c->in_reset && atomic_load_explicit(&c->reset_wanted, memory_order_relaxed)) {
		nvme_ctrlr_reset_locked(c);
		return n;
	}
	if (!c->in_reset && now >= c->next_health) {
		c->next_health = now + nvme_ms_to_tsc(NVME_HEALTH_CHECK_MS);
		health_check(c);
	}
	if (now >= aq->next_check) {
		aq->next_check = now + c->check_tsc;
		nvme_qpair_check_timeouts(aq, now);
	}
	return n;
}

int pdk_nvme_ctrlr_poll_admin(struct pdk_nvme_ctrlr *c)
{
	uint32_t events[PDK_DIM(c->aer_pending)];
	pdk_nvme_aer_cb cb;
	uint32_t nev;
	void *arg;
	int n;

	pthread_mutex_lock(&c->lock);
	n = nvme_admin_poll_locked(c);
	nev = c->nr_aer_pending;
	memcpy(events, c->aer_pending, nev * sizeof(events[0]));
	c->nr_aer_pending = 0;
	cb = c->aer_cb;
	arg = c->aer_arg;
	pthread_mutex_unlock(&c->lock);
	/* outside the lock: the callback may issue admin commands */
	for (uint32_t i = 0; i < nev && cb != NULL; i++)
		cb(arg, events[i]);
	if (NVME_GEN_STATE(nvme_ctrlr_gen(c)) == NVME_CTRLR_FAILED && n == 0)
		return -ENXIO;
	return n;
}

void pdk_nvme_ctrlr_set_aer_cb(struct pdk_nvme_ctrlr *c, pdk_nvme_aer_cb cb, void *arg)
{
	pthread_mutex_lock(&c->lock);
	c->aer_cb = cb;
	c->aer_arg = arg;
	pthread_mutex_unlock(&c->lock);
}
