/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Queue pairs: trackers and command ids, submission, doorbells (shadow or
 * not), completion processing against an untrusted device, and the bulk
 * operations recovery needs (fail everything, resubmit everything). The
 * admin queue is a queue pair too.
 *
 * Nothing here trusts the completion queue: an entry names a command by
 * its id, and the id must be one this queue has outstanding right now,
 * generation included; anything else is dropped and counted. The SQ head
 * the device reports is checked against what was submitted, and never
 * needed for correctness: a queue of N entries has at most N-1 trackers,
 * so the driver can never overwrite an entry the device has not fetched.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <pdk_memory.h>

#include "nvme_internal.h"

/* ------------------------------------------------------------ memory -- */

struct nvme_dma_ops nvme_dma = {pdk_zmalloc, pdk_free, pdk_mem_virt2iova};

static unsigned bits_for(uint32_t n)
{
	unsigned b = 1;

	while ((1u << b) < n)
		b++;
	return b;
}

static int qpair_alloc_rings(struct pdk_nvme_qpair *qp, uint32_t page)
{
	size_t sq_len = (size_t)qp->entries * sizeof(struct pdk_nvme_cmd);
	size_t cq_len = (size_t)qp->entries * sizeof(struct pdk_nvme_cpl);

	/* page aligned and, from pdk_malloc, IOVA-contiguous: PC=1 queues */
	qp->sq = nvme_dma.zalloc("nvme_sq", PDK_ALIGN_CEIL(sq_len, page), page);
	qp->cq = nvme_dma.zalloc("nvme_cq", PDK_ALIGN_CEIL(cq_len, page), page);
	if (qp->sq == NULL || qp->cq == NULL)
		return -ENOMEM;
	qp->sq_iova = nvme_dma.v2i(qp->sq);
	qp->cq_iova = nvme_dma.v2i(qp->cq);
	if (qp->sq_iova == PDK_BAD_IOVA || qp->cq_iova == PDK_BAD_IOVA)
		return -EFAULT;
	return 0;
}

/* One PRP list per tracker, each within one page: a power of two bytes,
 * aligned to its size. */
static int qpair_alloc_prp(struct pdk_nvme_qpair *qp, uint32_t page, uint32_t max_xfer)
{
	uint32_t need = max_xfer / page + 1, bytes;
	uint8_t *mem;

	qp->prp_list_max = PDK_MIN(need, page / 8);
	bytes = (uint32_t)pdk_align64pow2((uint64_t)qp->prp_list_max * 8);
	mem = nvme_dma.zalloc("nvme_prp", (size_t)bytes * qp->ntr, PDK_MAX(bytes, 64u));
	if (mem == NULL)
		return -ENOMEM;
	qp->prp_mem = mem;
	for (uint32_t i = 0; i < qp->ntr; i++) {
		qp->tr[i].prp_list = (uint64_t *)(void *)(mem + (size_t)i * bytes);
		qp->tr[i].prp_iova = nvme_dma.v2i(qp->tr[i].prp_list);
		if (qp->tr[i].prp_iova == PDK_BAD_IOVA)
			return -EFAULT;
	}
	return 0;
}

static int qpair_alloc_trackers(struct pdk_nvme_qpair *qp)
{
	uint32_t nreq = qp->ntr / 2 + 1;

	qp->slot_bits = (uint16_t)bits_for(qp->ntr);
	qp->slot_mask = (uint16_t)((1u << qp->slot_bits) - 1);
	qp->gen_mask = (uint16_t)((1u << (16 - qp->slot_bits)) - 1);
	qp->ring_mask = qp->slot_mask;
	qp->tr = nvme_dma.zalloc("nvme_tr", sizeof(*qp->tr) * qp->ntr, 64);
	qp->free_ring = calloc((size_t)qp->slot_mask + 1, sizeof(uint16_t));
	qp->scratch = calloc(qp->ntr, sizeof(uint16_t));
	qp->reqs = calloc(nreq, sizeof(*qp->reqs));
	if (qp->tr == NULL || qp->free_ring == NULL || qp->scratch == NULL || qp->reqs == NULL)
		return -ENOMEM;
	for (uint32_t i = 0; i < qp->ntr; i++)
		qp->free_ring[i] = (uint16_t)i;
	qp->free_head = 0;
	qp->free_count = qp->ntr;
	for (uint32_t i = 0; i < nreq; i++)
		qp->reqs[i].next_free = i + 1 < nreq ? i + 1 : NVME_NIL;
	qp->req_free = 0;
	return 0;
}

int nvme_qpair_init(struct pdk_nvme_qpair *qp, struct pdk_nvme_ctrlr *ctrlr,
		    uint16_t qid, uint32_t entries)
{
	uint32_t page = ctrlr->lim.page_size;
	int rc;

	if (entries < 2 || entries > NVME_MAX_QUEUE_ENTRIES)
		return -EINVAL;
	memset(qp, 0, sizeof(*qp));
	qp->ctrlr = ctrlr;
	qp->bar = ctrlr->bar;
	qp->id = qid;
	qp->entries = (uint16_t)entries;
	qp->ntr = (uint16_t)(entries - 1);
	qp->is_admin = qid == 0;
	rc = qpair_alloc_trackers(qp);
	if (rc == 0)
		rc = qpair_alloc_rings(qp, page);
	if (rc == 0)
		rc = qpair_alloc_prp(qp, page, ctrlr->lim.max_xfer);
	if (rc < 0) {
		nvme_qpair_fini(qp);
		return rc;
	}
	nvme_qpair_reset_rings(qp);
	return 0;
}

void nvme_qpair_fini(struct pdk_nvme_qpair *qp)
{
	nvme_dma.free(qp->sq);
	nvme_dma.free(qp->cq);
	nvme_dma.free(qp->prp_mem);
	nvme_dma.free(qp->tr);
	free(qp->free_ring);
	free(qp->scratch);
	free(qp->reqs);
	qp->sq = NULL;
	qp->cq = NULL;
	qp->prp_mem = NULL;
	qp->tr = NULL;
	qp->free_ring = NULL;
	qp->scratch = NULL;
	qp->reqs = NULL;
}

void nvme_qpair_set_shadow(struct pdk_nvme_qpair *qp)
{
	struct pdk_nvme_ctrlr *c = qp->ctrlr;
	uint32_t stride = 1u << c->lim.dstrd; /* in 32-bit words */
	_Atomic uint32_t *db, *ei;

	qp->shadow_sq = qp->shadow_cq = qp->ei_sq = qp->ei_cq = NULL;
	if (!c->dbbuf_on || c->dbbuf == NULL)
		return;
	/* Doorbell Buffer Config: shadow doorbells in the first page, event
	 * indexes in the second, at the registers' offsets from 0x1000 */
	db = (_Atomic uint32_t *)(void *)c->dbbuf;
	ei = db + c->lim.page_size / 4;
	qp->shadow_sq = db + 2u * qp->id * stride;
	qp->shadow_cq = db + (2u * qp->id + 1) * stride;
	qp->ei_sq = ei + 2u * qp->id * stride;
	qp->ei_cq = ei + (2u * qp->id + 1) * stride;
	atomic_store_explicit(qp->shadow_sq, qp->sq_tail, memory_order_relaxed);
	atomic_store_explicit(qp->shadow_cq, qp->cq_head, memory_order_relaxed);
}

void nvme_qpair_reset_rings(struct pdk_nvme_qpair *qp)
{
	struct pdk_nvme_ctrlr *c = qp->ctrlr;

	memset(qp->cq, 0, (size_t)qp->entries * sizeof(*qp->cq));
	qp->sq_tail = qp->sq_head = qp->cq_head = 0;
	qp->phase = 1;
	qp->sq_db = pdk_nvme_sq_doorbell(qp->id, c->lim.dstrd);
	qp->cq_db = pdk_nvme_cq_doorbell(qp->id, c->lim.dstrd);
	nvme_qpair_set_shadow(qp);
}

/* ---------------------------------------------------------- trackers -- */

struct nvme_tracker *nvme_tracker_get(struct pdk_nvme_qpair *qp)
{
	uint16_t slot;

	if (pdk_unlikely(qp->free_count == 0))
		return NULL;
	slot = qp->free_ring[qp->free_head & qp->ring_mask];
	qp->free_head++;
	qp->free_count--;
	return &qp->tr[slot];
}

void nvme_tracker_put(struct pdk_nvme_qpair *qp, struct nvme_tracker *tr)
{
	qp->free_ring[(qp->free_head + qp->free_count) & qp->ring_mask] =
		nvme_tracker_slot(qp, tr);
	qp->free_count++;
}

/* The next command id of tr's slot: a new generation, never 0xffff (the
 * error log's "no command"). */
static uint16_t tracker_next_cid(struct pdk_nvme_qpair *qp, struct nvme_tracker *tr)
{
	uint16_t slot = nvme_tracker_slot(qp, tr);
	uint16_t cid;

	tr->gen = (uint16_t)((tr->gen + 1) & qp->gen_mask);
	cid = (uint16_t)((tr->gen << qp->slot_bits) | slot);
	if (cid == 0xffff) {
		tr->gen = 0;
		cid = slot;
	}
	return cid;
}

/* --------------------------------------------------------- doorbells -- */

/* Shadow doorbells (Doorbell Buffer Config): the device wants a register
 * write only once the new value passes its event index (mod 2^16). */
static inline bool dbbuf_need_event(uint16_t ei, uint16_t val, uint16_t old)
{
	return (uint16_t)(val - ei - 1) < (uint16_t)(val - old);
}

static inline void qpair_ring(struct pdk_nvme_qpair *qp, _Atomic uint32_t *shadow,
			      _Atomic uint32_t *ei, uint32_t reg, uint16_t val)
{
	if (shadow != NULL) {
		uint16_t old = (uint16_t)atomic_load_explicit(shadow, memory_order_relaxed);

		/* release: the entries written before are visible to the
		 * device before the value that hands them over */
		atomic_store_explicit(shadow, val, memory_order_release);
		/* the new value must be visible before the event index is
		 * read; pairs with the device writing the event index and
		 * then reading the shadow value again */
		atomic_thread_fence(memory_order_seq_cst);
		if (!qp->is_admin &&
		    !dbbuf_need_event((uint16_t)atomic_load_explicit(ei, memory_order_relaxed),
				      val, old)) {
			NVME_STAT(qp, doorbells_skipped);
			return;
		}
	}
	NVME_STAT(qp, doorbells);
	pdk_vfio_bar_write32(qp->bar, reg, val); /* I/O write barrier inside */
}

void nvme_qpair_ring_sq(struct pdk_nvme_qpair *qp)
{
	/* a reset may have started since the caller looked: leave the
	 * device alone then (the queues are re-created and refilled) */
	if (pdk_unlikely(nvme_ctrlr_gen(qp->ctrlr) != qp->gen) && !qp->is_admin)
		return;
	qpair_ring(qp, qp->shadow_sq, qp->ei_sq, qp->sq_db, qp->sq_tail);
}

/* -------------------------------------------------------- submission -- */

void nvme_qpair_submit(struct pdk_nvme_qpair *qp, struct nvme_tracker *tr, bool ring)
{
	tr->cmd.cid = tracker_next_cid(qp, tr);
	tr->active = 1;
	tr->flags &= (uint8_t)~(NVME_TR_ABORT_SENT | NVME_TR_TIMED_OUT);
	/* 0: the next timeout scan (every 10 ms) starts the clock, so the
	 * fast path reads no time */
	tr->deadline = (tr->flags & NVME_TR_NO_TIMEOUT) || qp->timeout_tsc == 0 ? UINT64_MAX : 0;
	if (pdk_unlikely(qp->state != NVME_QP_CONNECTED))
		return; /* held until the queues are re-created */
	memcpy(&qp->sq[qp->sq_tail], &tr->cmd, sizeof(tr->cmd));
	if (++qp->sq_tail == qp->entries)
		qp->sq_tail = 0;
	NVME_STAT(qp, submitted);
	if (ring)
		nvme_qpair_ring_sq(qp);
}

/* -------------------------------------------------------- completion -- */

static void log_drop(struct pdk_nvme_qpair *qp, const char *what,
		     const struct pdk_nvme_cpl *c, uint64_t n)
{
	/* the first few, then every power of two: a hostile device must
	 * not flood the log */
	if (n > 8 && (n & (n - 1)) != 0)
		return;
	PDK_LOG(WARNING, NVME_LOG, "%s: queue %u: dropped completion (%s): cid 0x%04x "
		"sqid %u sqhd %u status 0x%04x (%" PRIu64 " so far)", qp->ctrlr->name, qp->id,
		what, c->cid, c->sqid, c->sqhd, c->status, n);
}

static void drop(struct pdk_nvme_qpair *qp, _Atomic uint64_t *counter, const char *what,
		 const struct pdk_nvme_cpl *c)
{
	nvme_stat_add(counter, 1);
	log_drop(qp, what, c, atomic_load_explicit(counter, memory_order_relaxed));
}

/* The device says it fetched up to sqhd: believe it only when that lies
 * between what it said before and what was submitted. */
static inline void sq_head_update(struct pdk_nvme_qpair *qp, const struct pdk_nvme_cpl *c)
{
	int used = (int)qp->sq_tail - (int)qp->sq_head;
	int adv = (int)c->sqhd - (int)qp->sq_head;

	if (used < 0)
		used += qp->entries;
	if (adv < 0)
		adv += qp->entries;
	if (pdk_unlikely(c->sqhd >= qp->entries || adv > used)) {
		drop(qp, &qp->stats.sq_head_invalid, "SQ head beyond the tail", c);
		return;
	}
	qp->sq_head = c->sqhd;
}

static inline void request_done(struct pdk_nvme_qpair *qp, pdk_nvme_cb cb, void *arg,
				const struct pdk_nvme_cpl *c)
{
	qp->requests--;
	NVME_STAT(qp, completed);
	if (pdk_nvme_cpl_is_error(c))
		NVME_STAT(qp, errors);
	if (cb != NULL)
		cb(arg, c);
}

/* A part of a split request finished; the last part completes it. */
static int split_part_done(struct pdk_nvme_qpair *qp, struct nvme_request *req,
			   const struct pdk_nvme_cpl *c)
{
	struct pdk_nvme_cpl out;

	if (!req->failed) {
		req->cpl = *c;
		req->failed = pdk_nvme_cpl_is_error(c);
	}
	if (--req->remaining > 0)
		return 0;
	out = req->cpl;
	req->next_free = qp->req_free;
	qp->req_free = (uint32_t)(req - qp->reqs);
	request_done(qp, req->cb, req->arg, &out);
	return 1;
}

/* The tracker is free again before the callback runs, so the callback can
 * submit at once. */
static int tracker_complete(struct pdk_nvme_qpair *qp, struct nvme_tracker *tr,
			    const struct pdk_nvme_cpl *c)
{
	struct nvme_request *req = tr->req;
	pdk_nvme_cb cb = tr->cb;
	void *arg = tr->arg;

	tr->active = 0;
	nvme_tracker_put(qp, tr);
	if (req != NULL)
		return split_part_done(qp, req, c);
	request_done(qp, cb, arg, c);
	return 1;
}

int nvme_tracker_fail(struct pdk_nvme_qpair *qp, struct nvme_tracker *tr, uint16_t status)
{
	struct pdk_nvme_cpl c = nvme_cpl_make(qp, tr, status);

	NVME_STAT(qp, host_aborted);
	return tracker_complete(qp, tr, &c);
}

static inline int cpl_handle(struct pdk_nvme_qpair *qp, struct pdk_nvme_cpl *c)
{
	uint16_t slot = c->cid & qp->slot_mask;
	struct nvme_tracker *tr;

	if (pdk_unlikely(c->sqid != qp->id || slot >= qp->ntr)) {
		drop(qp, &qp->stats.dropped_unknown, "unknown command id", c);
		return 0;
	}
	tr = &qp->tr[slot];
	if (pdk_unlikely(!tr->active || tr->cmd.cid != c->cid)) {
		drop(qp, &qp->stats.dropped_stale, "not outstanding or stale generation", c);
		return 0;
	}
	sq_head_update(qp, c);
	c->status &= (uint16_t)~1u; /* the phase tag is the queue's business */
	return tracker_complete(qp, tr, c);
}

int nvme_qpair_process_cq(struct pdk_nvme_qpair *qp, uint32_t max)
{
	uint32_t seen = 0;
	int done = 0;

	if (max == 0 || max > qp->entries)
		max = qp->entries; /* a device that keeps posting cannot keep us here */
	while (seen < max) {
		struct pdk_nvme_cpl *e = &qp->cq[qp->cq_head];
		uint16_t st = __atomic_load_n(&e->status, __ATOMIC_RELAXED);
		struct pdk_nvme_cpl c;

		if ((st & 1u) != qp->phase)
			break;
		/* Read the rest of the entry only after its phase tag: pairs
		 * with the device writing the entry no later than the tag
		 * (one posted write; the emulator stores the tag last, with
		 * release). pdk_io_rmb orders it against DMA on weakly
		 * ordered CPUs. */
		atomic_thread_fence(memory_order_acquire);
		pdk_io_rmb();
		memcpy(&c, e, sizeof(c));
		c.status = st;
		if (++qp->cq_head == qp->entries) {
			qp->cq_head = 0;
			qp->phase ^= 1u;
		}
		seen++;
		done += cpl_handle(qp, &c);
	}
	if (seen > 0 && pdk_likely(nvme_ctrlr_gen(qp->ctrlr) == qp->gen || qp->is_admin))
		qpair_ring(qp, qp->shadow_cq, qp->ei_cq, qp->cq_db, qp->cq_head);
	return done;
}

/* ---------------------------------------------------- bulk (recovery) -- */

/* Slots active now: callbacks run while failing or resubmitting may submit
 * more, which must not be touched in the same pass. */
static uint32_t snapshot_active(struct pdk_nvme_qpair *qp)
{
	uint32_t n = 0;

	for (uint16_t i = 0; i < qp->ntr; i++)
		if (qp->tr[i].active)
			qp->scratch[n++] = i;
	return n;
}

int nvme_qpair_fail_all(struct pdk_nvme_qpair *qp, uint16_t status)
{
	uint32_t n = snapshot_active(qp);
	uint16_t cids[NVME_MAX_QUEUE_ENTRIES];
	int done = 0;

	for (uint32_t i = 0; i < n; i++)
		cids[i] = qp->tr[qp->scratch[i]].cmd.cid;
	for (uint32_t i = 0; i < n; i++) {
		struct nvme_tracker *tr = &qp->tr[qp->scratch[i]];

		/* a callback may have failed it already (a nested pass) */
		if (tr->active && tr->cmd.cid == cids[i])
			done += nvme_tracker_fail(qp, tr, status);
	}
	return done;
}

int nvme_qpair_resubmit_all(struct pdk_nvme_qpair *qp)
{
	uint32_t n = snapshot_active(qp);
	uint32_t max = qp->ctrlr->opts.max_retries;
	int done = 0;

	for (uint32_t i = 0; i < n; i++) {
		struct nvme_tracker *tr = &qp->tr[qp->scratch[i]];

		if (!tr->active)
			continue;
		if (tr->retries >= max) {
			done += nvme_tracker_fail(qp, tr, NVME_ST_HOST_ABORTED);
			continue;
		}
		tr->retries++;
		NVME_STAT(qp, retries);
		nvme_qpair_submit(qp, tr, false);
	}
	nvme_qpair_ring_sq(qp);
	return done;
}

void nvme_qpair_check_timeouts(struct pdk_nvme_qpair *qp, uint64_t now)
{
	uint32_t gen = qp->gen;

	for (uint16_t i = 0; i < qp->ntr; i++) {
		struct nvme_tracker *tr = &qp->tr[i];

		if (!tr->active || tr->deadline > now)
			continue;
		if (tr->deadline == 0) { /* submitted since the last scan */
			tr->deadline = now + qp->timeout_tsc;
			continue;
		}
		nvme_timeout(qp, tr, now);
		/* a reset or failure started: the slow path takes over */
		if (nvme_ctrlr_gen(qp->ctrlr) != gen || qp->state != NVME_QP_CONNECTED)
			return;
	}
}

/* ------------------------------------------------------------ public -- */

int pdk_nvme_qpair_poll(struct pdk_nvme_qpair *qp, uint32_t max)
{
	uint64_t now;
	int done;

	if (pdk_unlikely(qp->in_poll))
		return -EBUSY; /* called from one of its own callbacks */
	qp->in_poll = true;
	if (pdk_unlikely(nvme_ctrlr_gen(qp->ctrlr) != qp->gen ||
			 qp->state != NVME_QP_CONNECTED)) {
		done = nvme_qpair_resync(qp);
		qp->in_poll = false;
		return done;
	}
	done = nvme_qpair_process_cq(qp, max);
	if (qp->timeout_tsc != 0) {
		now = pdk_rdtsc();
		if (pdk_unlikely(now >= qp->next_check)) {
			qp->next_check = now + qp->ctrlr->check_tsc;
			nvme_qpair_check_timeouts(qp, now);
		}
	}
	qp->in_poll = false;
	return done;
}

uint32_t pdk_nvme_qpair_outstanding(const struct pdk_nvme_qpair *qp)
{
	return qp->requests;
}

uint32_t pdk_nvme_qpair_depth(const struct pdk_nvme_qpair *qp)
{
	return qp->ntr;
}

void nvme_stats_sum(struct pdk_nvme_stats *o, const struct nvme_stats *s)
{
#define SUM(f) o->f += atomic_load_explicit(&s->f, memory_order_relaxed)
	SUM(submitted);
	SUM(completed);
	SUM(errors);
	SUM(dropped_unknown);
	SUM(dropped_stale);
	SUM(sq_head_invalid);
	SUM(phase_skipped);
	SUM(timeouts);
	SUM(aborts);
	SUM(retries);
	SUM(host_aborted);
	SUM(doorbells);
	SUM(doorbells_skipped);
#undef SUM
}

int pdk_nvme_qpair_stats(const struct pdk_nvme_qpair *qp, struct pdk_nvme_stats *stats)
{
	if (qp == NULL || stats == NULL)
		return -EINVAL;
	memset(stats, 0, sizeof(*stats));
	nvme_stats_sum(stats, &qp->stats);
	return 0;
}
