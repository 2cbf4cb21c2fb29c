/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Queues: doorbells, fetching commands and posting completions.
 *
 * Every round the controller thread reads each SQ's tail doorbell (in BAR
 * memory, or in the host's shadow doorbell buffer after Doorbell Buffer
 * Config), fetches up to a budget of commands, runs them and posts their
 * completions straight into the host's CQ memory through a zero-copy view
 * of it. A completion that cannot be posted yet (its latency has not
 * passed, or the CQ is full) waits on its CQ's list: a full CQ is never
 * overwritten (4.6: the host frees entries by ringing the head doorbell).
 * Each SQ has a request per entry, so at most `size` commands of an SQ are
 * in flight; when they are all taken the SQ is not fetched from.
 *
 * Queue memory is reached through pointers from pdk_emu_dma_ptr(), looked
 * up again whenever the client's mappings change; memory without an fd
 * goes through pdk_emu_dma_read/write. A fetch or a post the IOMMU refuses
 * is a fatal controller error (CSTS.CFS), as no completion can report it.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "nvme_private.h"

#define ADMIN_BUDGET 16 /* commands per round */
#define IO_BUDGET 64
#define NO_GEN UINT64_MAX

int nvme_queues_alloc(struct nvme_ctrl *c)
{
	unsigned n = c->cfg.queues + 1;

	c->sq = calloc(n, sizeof(*c->sq));
	c->cq = calloc(n, sizeof(*c->cq));
	c->live = calloc(n, sizeof(*c->live));
	c->irq_list = calloc(n, sizeof(*c->irq_list));
	c->buf = aligned_alloc(4096, 4096);
	if (!c->sq || !c->cq || !c->live || !c->irq_list || !c->buf)
		return -ENOMEM;
	return 0;
}

static void sq_free(struct nvme_sq *sq)
{
	if (sq)
		free(sq->reqs);
	free(sq);
}

static void cq_free(struct nvme_cq *cq)
{
	free(cq);
}

/* Controller reset: every queue goes, every command in flight is dropped. */
void nvme_queues_reset(struct nvme_ctrl *c)
{
	for (unsigned i = 0; c->sq && i <= c->cfg.queues; i++) {
		sq_free(c->sq[i]);
		cq_free(c->cq[i]);
		c->sq[i] = NULL;
		c->cq[i] = NULL;
	}
	c->nlive = c->io_queues = c->nirq = 0;
	c->npending = 0;
	c->dbs = c->eis = 0;
	c->dbs_ptr = c->eis_ptr = NULL;
	c->naer = 0; /* AERs were requests of the admin SQ */
}

void nvme_queues_free(struct nvme_ctrl *c)
{
	nvme_queues_reset(c);
	free(c->sq);
	free(c->cq);
	free(c->live);
	free(c->irq_list);
	free(c->buf);
	c->sq = NULL;
	c->cq = NULL;
	c->live = c->irq_list = NULL;
	c->buf = NULL;
}

/* ---- shadow doorbells (5.7 Doorbell Buffer Config) ---- */

/* Zero-copy views of the two buffers, looked up again when mappings change. */
static void dbbuf_refresh(struct nvme_ctrl *c)
{
	uint64_t gen = pdk_emu_dma_gen(c->dev);

	if (c->db_gen == gen)
		return;
	c->dbs_ptr = pdk_emu_dma_ptr(c->dev, c->dbs, c->page_size, true);
	c->eis_ptr = pdk_emu_dma_ptr(c->dev, c->eis, c->page_size, true);
	c->db_gen = gen;
}

/* Slot `idx` (4 bytes each: SQ y at 2y, CQ y at 2y + 1) of a buffer. */
static bool shadow_read(struct nvme_ctrl *c, unsigned idx, uint32_t *v)
{
	dbbuf_refresh(c);
	if (c->dbs_ptr) {
		/* acquire: pairs with the host's write barrier before its store */
		*v = __atomic_load_n(&c->dbs_ptr[idx], __ATOMIC_ACQUIRE);
		return true;
	}
	return pdk_emu_dma_read(c->dev, c->dbs + 4ull * idx, v, 4) == 0;
}

static void shadow_write(struct nvme_ctrl *c, bool eventidx, unsigned idx,
			 uint32_t v)
{
	uint32_t *p;

	dbbuf_refresh(c);
	p = eventidx ? c->eis_ptr : c->dbs_ptr;
	if (p)
		__atomic_store_n(&p[idx], v, __ATOMIC_RELEASE);
	else
		pdk_emu_dma_write(c->dev, (eventidx ? c->eis : c->dbs) + 4ull * idx,
				  &v, 4);
}

/* A doorbell value: from the shadow buffer or from BAR memory. */
static bool doorbell(struct nvme_ctrl *c, bool shadow, unsigned idx, uint32_t *v)
{
	if (!shadow) {
		*v = pdk_emu_rd32(c->bar, PDK_NVME_REG_DBS + 4u * idx);
		return true;
	}
	if (shadow_read(c, idx, v))
		return true;
	nvme_fatal(c, "shadow doorbell buffer not reachable");
	return false;
}

static void sq_tail_update(struct nvme_ctrl *c, struct nvme_sq *sq);
static void cq_head_update(struct nvme_ctrl *c, struct nvme_cq *cq);

/*
 * Doorbell Buffer Config for the I/O queues (the admin queue keeps its
 * MMIO doorbells, as Linux and QEMU have it). The shadow slots of queues
 * that exist get the values last rung, so the switch loses nothing.
 */
void nvme_dbbuf_set(struct nvme_ctrl *c, uint64_t dbs, uint64_t eis)
{
	for (unsigned q = 1; q <= c->cfg.queues; q++) {
		if (c->sq[q])
			sq_tail_update(c, c->sq[q]);
		if (c->cq[q])
			cq_head_update(c, c->cq[q]);
	}
	c->dbs = dbs;
	c->eis = eis;
	c->db_gen = NO_GEN;
	for (unsigned q = 1; q <= c->cfg.queues; q++) {
		if (c->sq[q]) {
			c->sq[q]->shadow = true;
			shadow_write(c, false, 2 * q, c->sq[q]->tail);
			shadow_write(c, true, 2 * q, c->sq[q]->tail);
		}
		if (c->cq[q]) {
			c->cq[q]->shadow = true;
			shadow_write(c, false, 2 * q + 1, c->cq[q]->head);
			shadow_write(c, true, 2 * q + 1, c->cq[q]->head);
		}
	}
}

/* A new queue under shadow doorbells starts from slots at zero. */
static bool shadow_start(struct nvme_ctrl *c, unsigned idx)
{
	if (!c->dbs || idx < 2)
		return false;
	shadow_write(c, false, idx, 0);
	shadow_write(c, true, idx, 0);
	return true;
}

/* ---- creating and deleting ---- */

int nvme_cq_add(struct nvme_ctrl *c, uint16_t qid, uint32_t size, uint64_t base,
		bool ien, uint16_t vector)
{
	struct nvme_cq *cq = calloc(1, sizeof(*cq));

	if (cq == NULL)
		return -ENOMEM;
	*cq = (struct nvme_cq){.qid = qid, .vector = vector, .ien = ien,
			       .phase = true, .size = size, .base = base,
			       .ring_gen = NO_GEN, .bad_db = UINT32_MAX};
	cq->shadow = shadow_start(c, 2u * qid + 1);
	c->cq[qid] = cq;
	if (qid)
		c->io_queues++;
	return 0;
}

int nvme_sq_add(struct nvme_ctrl *c, uint16_t qid, uint32_t size, uint64_t base,
		uint16_t cqid)
{
	struct nvme_sq *sq = calloc(1, sizeof(*sq));

	if (sq)
		sq->reqs = calloc(size, sizeof(*sq->reqs));
	if (sq == NULL || sq->reqs == NULL) {
		sq_free(sq);
		return -ENOMEM;
	}
	sq->qid = qid;
	sq->cqid = cqid;
	sq->size = size;
	sq->base = base;
	sq->ring_gen = NO_GEN;
	sq->bad_db = UINT32_MAX;
	for (uint32_t i = 0; i < size; i++) {
		sq->reqs[i].sq = sq;
		sq->reqs[i].next = i + 1 < size ? &sq->reqs[i + 1] : NULL;
	}
	sq->free = sq->reqs;
	sq->shadow = shadow_start(c, 2u * qid);
	c->sq[qid] = sq;
	c->cq[cqid]->nsq++;
	if (qid) {
		c->live[c->nlive++] = qid;
		c->io_queues++;
	}
	return 0;
}

/* The admin queue pair, from AQA/ASQ/ACQ at enable. */
int nvme_admin_queues(struct nvme_ctrl *c, uint32_t aqa, uint64_t asq,
		      uint64_t acq)
{
	int rc = nvme_cq_add(c, 0, PDK_NVME_AQA_ACQS(aqa) + 1, acq, true, 0);

	if (rc == 0)
		rc = nvme_sq_add(c, 0, PDK_NVME_AQA_ASQS(aqa) + 1, asq, 0);
	return rc;
}

static void req_release(struct nvme_req *r)
{
	r->state = REQ_FREE;
	r->next = r->sq->free;
	r->sq->free = r;
}

static void post(struct nvme_ctrl *c, struct nvme_cq *cq, struct nvme_req *r);

/*
 * Completions of a deleted SQ still waiting on its CQ: posted now if there
 * is room, dropped otherwise (the host asked for the SQ to go).
 */
static void cq_flush_sq(struct nvme_ctrl *c, struct nvme_cq *cq,
			const struct nvme_sq *sq)
{
	struct nvme_req **pp = &cq->fifo, *last = NULL;

	while (*pp) {
		struct nvme_req *r = *pp;

		if (r->sq != sq) {
			last = r;
			pp = &r->next;
			continue;
		}
		*pp = r->next;
		c->npending--;
		if (nvme_cq_room(c, cq))
			post(c, cq, r);
		else
			req_release(r);
	}
	cq->fifo_tail = last;
}

/* Delete I/O SQ (5.6): its stuck commands end as aborted by the deletion. */
void nvme_sq_del(struct nvme_ctrl *c, uint16_t qid)
{
	struct nvme_sq *sq = c->sq[qid];
	struct nvme_cq *cq = c->cq[sq->cqid];

	for (uint32_t i = 0; i < sq->size; i++)
		if (sq->reqs[i].state == REQ_STUCK)
			nvme_complete(c, &sq->reqs[i],
				      NVME_SC(PDK_NVME_SC_ABORTED_SQ_DELETION));
	cq_flush_sq(c, cq, sq);
	for (unsigned i = 0; i < c->nlive; i++)
		if (c->live[i] == qid)
			c->live[i] = c->live[--c->nlive];
	cq->nsq--;
	c->io_queues--;
	c->sq[qid] = NULL;
	sq_free(sq);
}

void nvme_cq_del(struct nvme_ctrl *c, uint16_t qid)
{
	cq_free(c->cq[qid]);
	c->cq[qid] = NULL;
	c->io_queues--;
}

/* ---- posting completions ---- */

static struct pdk_nvme_cpl *cq_ring(struct nvme_ctrl *c, struct nvme_cq *cq)
{
	uint64_t gen = pdk_emu_dma_gen(c->dev);

	if (cq->ring_gen != gen) {
		cq->ring = pdk_emu_dma_ptr(c->dev, cq->base, 16ull * cq->size, true);
		cq->ring_gen = gen;
	}
	return cq->ring;
}

static uint32_t cq_used(const struct nvme_cq *cq)
{
	return (cq->tail + cq->size - cq->head) % cq->size;
}

/* An invalid doorbell value: ignored, counted once, an error event. */
static void bad_doorbell(struct nvme_ctrl *c, uint32_t *last, uint32_t v)
{
	if (*last == v)
		return;
	*last = v;
	nvme_count(&c->st.bad_doorbells);
	nvme_event(c, PDK_NVME_AER_TYPE_ERROR, PDK_NVME_AER_INFO_INVALID_DB_VALUE,
		   PDK_NVME_LOG_ERROR);
}

/* The host's CQ head: it may only release entries that were posted. */
static void cq_head_update(struct nvme_ctrl *c, struct nvme_cq *cq)
{
	uint32_t h;

	if (!doorbell(c, cq->shadow, 2u * cq->qid + 1, &h) || h == cq->head)
		return;
	if (h >= cq->size || (h + cq->size - cq->head) % cq->size > cq_used(cq)) {
		bad_doorbell(c, &cq->bad_db, h);
		return;
	}
	cq->head = h;
	if (cq->shadow)
		shadow_write(c, true, 2u * cq->qid + 1, h);
}

bool nvme_cq_room(struct nvme_ctrl *c, struct nvme_cq *cq)
{
	if (cq_used(cq) < cq->size - 1)
		return true;
	cq_head_update(c, cq);
	return cq_used(cq) < cq->size - 1;
}

/* Write entry `e` with phase tag `phase` in `slot`, status word last. */
void nvme_write_slot(struct nvme_ctrl *c, struct nvme_cq *cq, uint32_t slot,
		     const struct pdk_nvme_cpl *e, bool phase)
{
	struct pdk_nvme_cpl *ring = cq_ring(c, cq), t = *e;

	t.status = (uint16_t)((e->status & ~1u) | phase);
	if (ring == NULL) {
		if (pdk_emu_dma_write(c->dev, cq->base + 16ull * slot, &t, 16))
			nvme_fatal(c, "completion queue not reachable");
		return;
	}
	ring[slot].cdw0 = t.cdw0;
	ring[slot].rsvd = 0;
	ring[slot].sqhd = t.sqhd;
	ring[slot].sqid = t.sqid;
	/* release: a host that sees the phase sees the whole entry */
	pdk_emu_wr32(&ring[slot], 12, (uint32_t)t.cid | (uint32_t)t.status << 16);
}

/* Post at the tail (the caller made sure there is room). */
void nvme_post_raw(struct nvme_ctrl *c, struct nvme_cq *cq,
		   const struct pdk_nvme_cpl *e)
{
	nvme_write_slot(c, cq, cq->tail, e, cq->phase);
	if (++cq->tail == cq->size) {
		cq->tail = 0;
		cq->phase = !cq->phase;
	}
	if (cq->ien && !cq->irq_due) {
		cq->irq_due = true;
		c->irq_list[c->nirq++] = cq->qid;
	}
}

static void post(struct nvme_ctrl *c, struct nvme_cq *cq, struct nvme_req *r)
{
	struct nvme_sq *sq = r->sq;
	struct pdk_nvme_cpl e = {.cdw0 = r->cdw0, .sqhd = (uint16_t)sq->head,
				 .sqid = sq->qid, .cid = r->cid, .status = r->status};

	if (sq->qid)
		nvme_fault_cpl(c, sq, &e);
	nvme_post_raw(c, cq, &e);
	nvme_count(&c->st.completions);
	req_release(r);
	if (sq->qid)
		nvme_fault_post(c, cq, sq, &e);
}

static void fifo_push(struct nvme_ctrl *c, struct nvme_cq *cq, struct nvme_req *r)
{
	r->next = NULL;
	if (cq->fifo_tail)
		cq->fifo_tail->next = r;
	else
		cq->fifo = r;
	cq->fifo_tail = r;
	c->npending++;
}

/*
 * A command is done: its completion goes on its CQ's list, posted when due
 * and there is room: at the end of its SQ's round (one burst of entries
 * for the host to find, not a cache line fought over per command), or
 * after the latency.
 */
void nvme_complete(struct nvme_ctrl *c, struct nvme_req *r, uint16_t status)
{
	struct nvme_cq *cq = c->cq[r->sq->cqid];

	r->status = status;
	r->state = REQ_PENDING;
	r->waited = false;
	if (status) {
		nvme_count(&c->st.errors);
		nvme_error_record(c, r);
		NVME_LOG(DEBUG, c, "SQ %u cid %u opc 0x%02x: status sct %u sc 0x%02x",
			 r->sq->qid, r->cid, r->opc, PDK_NVME_CPL_SCT(status),
			 PDK_NVME_CPL_SC(status));
	}
	r->due_ns = c->now + c->cfg.latency_ns;
	fifo_push(c, cq, r);
}

/* Post the completions that are due, while there is room. */
static int cq_drain(struct nvme_ctrl *c, struct nvme_cq *cq)
{
	int n = 0;

	while (cq->fifo && cq->fifo->due_ns <= c->now) {
		struct nvme_req *r = cq->fifo;

		if (!nvme_cq_room(c, cq)) {
			if (!r->waited)
				nvme_count(&c->st.cq_full);
			r->waited = true;
			break;
		}
		cq->fifo = r->next;
		if (cq->fifo == NULL)
			cq->fifo_tail = NULL;
		c->npending--;
		post(c, cq, r);
		n++;
	}
	return n;
}

/* ---- fetching ---- */

static const struct pdk_nvme_cmd *sq_ring(struct nvme_ctrl *c, struct nvme_sq *sq)
{
	uint64_t gen = pdk_emu_dma_gen(c->dev);

	if (sq->ring_gen != gen) {
		sq->ring = pdk_emu_dma_ptr(c->dev, sq->base, 64ull * sq->size, false);
		sq->ring_gen = gen;
	}
	return sq->ring;
}

static bool sq_entry(struct nvme_ctrl *c, struct nvme_sq *sq, uint32_t slot,
		     struct pdk_nvme_cmd *cmd)
{
	const struct pdk_nvme_cmd *ring = sq_ring(c, sq);

	if (ring) {
		memcpy(cmd, &ring[slot], sizeof(*cmd)); /* the host may rewrite it */
		return true;
	}
	if (pdk_emu_dma_read(c->dev, sq->base + 64ull * slot, cmd, sizeof(*cmd)) == 0)
		return true;
	nvme_fatal(c, "submission queue not reachable");
	return false;
}

/* The host's SQ tail; an out of range value is ignored. */
static void sq_tail_update(struct nvme_ctrl *c, struct nvme_sq *sq)
{
	uint32_t t;

	if (!doorbell(c, sq->shadow, 2u * sq->qid, &t) || t == sq->tail)
		return;
	if (t >= sq->size) {
		bad_doorbell(c, &sq->bad_db, t);
		return;
	}
	sq->tail = t;
	if (sq->shadow)
		shadow_write(c, true, 2u * sq->qid, t);
}

static void exec(struct nvme_ctrl *c, struct nvme_sq *sq, struct nvme_req *r,
		 const struct pdk_nvme_cmd *cmd)
{
	uint16_t st;

	r->cid = cmd->cid;
	r->opc = cmd->opc;
	r->cdw0 = 0;
	c->ncmds++;
	nvme_count(&c->st.commands);
	if (nvme_fault_fetch(c, r, cmd))
		return; /* held by a fault */
	st = sq->qid ? nvme_io_exec(c, cmd) : nvme_admin_exec(c, r, cmd);
	if (st != NVME_HELD)
		nvme_complete(c, r, st);
}

/* Fetch and run up to `budget` commands of one SQ. */
static int sq_process(struct nvme_ctrl *c, struct nvme_sq *sq, int budget)
{
	struct nvme_cq *cq = c->cq[sq->cqid];
	int n = 0;

	sq_tail_update(c, sq);
	/* an idle round has time to look: a bad head is reported soon */
	if (sq->head == sq->tail)
		cq_head_update(c, cq);
	while (n < budget && sq->head != sq->tail && sq->free && !c->fatal) {
		struct pdk_nvme_cmd cmd;
		struct nvme_req *r;

		if (!sq_entry(c, sq, sq->head, &cmd))
			break;
		if (++sq->head == sq->size)
			sq->head = 0;
		r = sq->free;
		sq->free = r->next;
		exec(c, sq, r, &cmd);
		n++;
	}
	if (n && cq->fifo && c->cfg.latency_ns == 0)
		cq_drain(c, cq);
	return n;
}

/* One round: each SQ with its CQ, waiting completions, then the vectors. */
int nvme_queues_poll(struct nvme_ctrl *c)
{
	int work;

	/* no bus master: the controller cannot read a command */
	if (c->sq[0] == NULL || !pdk_emu_dev_bus_master(c->dev))
		return 0;
	if (c->cfg.latency_ns || c->npending)
		c->now = nvme_now_ns();
	work = sq_process(c, c->sq[0], ADMIN_BUDGET);
	for (unsigned i = 0; i < c->nlive && !c->fatal; i++)
		work += sq_process(c, c->sq[c->live[i]], IO_BUDGET);
	for (unsigned q = 0; c->npending && q <= c->cfg.queues && !c->fatal; q++)
		if (c->cq[q] && c->cq[q]->fifo)
			work += cq_drain(c, c->cq[q]);
	for (unsigned i = 0; i < c->nirq; i++) {
		struct nvme_cq *cq = c->cq[c->irq_list[i]];

		if (cq) {
			cq->irq_due = false;
			pdk_emu_irq_raise(c->dev, cq->vector);
		}
	}
	c->nirq = 0;
	/* completions waiting for their latency keep the thread awake */
	return work + (c->npending && c->cfg.latency_ns ? 1 : 0);
}

/* ---- lookups for Abort and the fault injector ---- */

struct nvme_req *nvme_req_find(struct nvme_ctrl *c, uint16_t sqid, uint16_t cid)
{
	struct nvme_sq *sq = sqid <= c->cfg.queues ? c->sq[sqid] : NULL;

	for (uint32_t i = 0; sq && i < sq->size; i++)
		if (sq->reqs[i].state == REQ_STUCK && sq->reqs[i].cid == cid)
			return &sq->reqs[i];
	return NULL;
}

/* Has the host a command `cid` in flight on `sq` (fetched or not yet)? */
bool nvme_cid_outstanding(struct nvme_ctrl *c, struct nvme_sq *sq, uint16_t cid)
{
	struct pdk_nvme_cmd cmd;

	for (uint32_t i = 0; i < sq->size; i++)
		if (sq->reqs[i].state != REQ_FREE && sq->reqs[i].cid == cid)
			return true;
	for (uint32_t s = sq->head; s != sq->tail; s = (s + 1) % sq->size)
		if (!sq_entry(c, sq, s, &cmd) || cmd.cid == cid)
			return true;
	return false;
}
