/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Namespaces: discovery (active namespace list, Identify Namespace) and
 * the I/O commands (NVMe 1.4, section 6): Read, Write, Flush, Write
 * Zeroes. A request larger than one command may carry is split; it
 * completes once, when the last part does. Either every part is submitted
 * or none is (the queue pair must have room for all of them).
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pdk_memory.h>

#include "nvme_internal.h"

/* --------------------------------------------------------- discovery -- */

static uint32_t active_ids(struct pdk_nvme_ctrlr *c, uint32_t *ids)
{
	uint32_t *list = malloc(4096);
	uint32_t n = 0, nn = PDK_MIN(c->lim.nn, (uint32_t)NVME_MAX_NS);

	/* CNS 2 appeared in NVMe 1.1; before it, every id up to NN */
	if (list != NULL && c->vs >= 0x10100 &&
	    nvme_admin_identify(c, PDK_NVME_CNS_ACTIVE_NS_LIST, 0, list) == 0)
		n = nvme_ns_list_parse(list, PDK_NVME_NS_LIST_MAX, c->lim.nn, ids, NVME_MAX_NS);
	else
		for (n = 0; n < nn; n++)
			ids[n] = n + 1;
	free(list);
	return n;
}

static int ns_add(struct pdk_nvme_ctrlr *c, uint32_t nsid)
{
	struct pdk_nvme_ns *ns = &c->ns[c->num_ns];
	struct nvme_ns_geom g;
	char why[200];
	int rc;

	ns->data = malloc(sizeof(*ns->data));
	if (ns->data == NULL)
		return -ENOMEM;
	rc = nvme_admin_identify(c, PDK_NVME_CNS_NS, nsid, ns->data);
	if (rc == 0)
		rc = nvme_ns_parse(ns->data, c->lim.max_xfer, &g, why, sizeof(why));
	else
		snprintf(why, sizeof(why), "Identify Namespace failed: %s", strerror(-rc));
	if (rc < 0) {
		pdk_log(rc == -ENOENT ? PDK_LOG_DEBUG : PDK_LOG_WARNING, NVME_LOG,
			"%s: namespace %u skipped: %s", c->name, nsid, why);
		free(ns->data);
		ns->data = NULL;
		return rc == -ENXIO ? rc : 0;
	}
	ns->ctrlr = c;
	ns->id = nsid;
	ns->nsze = g.nsze;
	ns->lba_shift = g.lba_shift;
	ns->max_lbas = g.max_lbas;
	c->num_ns++;
	return 0;
}

int nvme_ctrlr_scan_ns(struct pdk_nvme_ctrlr *c)
{
	uint32_t *ids = calloc(NVME_MAX_NS, sizeof(*ids));
	uint32_t n;
	int rc = 0;

	if (ids == NULL)
		return -ENOMEM;
	n = active_ids(c, ids);
	c->ns = calloc(n ? n : 1, sizeof(*c->ns));
	if (c->ns == NULL)
		rc = -ENOMEM;
	for (uint32_t i = 0; i < n && rc == 0; i++)
		rc = ns_add(c, ids[i]);
	free(ids);
	return rc;
}

void nvme_ctrlr_free_ns(struct pdk_nvme_ctrlr *c)
{
	for (uint32_t i = 0; c->ns != NULL && i < c->num_ns; i++)
		free(c->ns[i].data);
	free(c->ns);
	c->ns = NULL;
	c->num_ns = 0;
}

/* ----------------------------------------------------------- getters -- */

struct pdk_nvme_ns *pdk_nvme_ns_next(const struct pdk_nvme_ctrlr *c,
				     const struct pdk_nvme_ns *prev)
{
	size_t i = prev == NULL ? 0 : (size_t)(prev - c->ns) + 1;

	return i < c->num_ns ? &c->ns[i] : NULL;
}

struct pdk_nvme_ns *pdk_nvme_ctrlr_ns(const struct pdk_nvme_ctrlr *c, uint32_t nsid)
{
	for (uint32_t i = 0; i < c->num_ns; i++)
		if (c->ns[i].id == nsid)
			return &c->ns[i];
	return NULL;
}

uint32_t pdk_nvme_ns_id(const struct pdk_nvme_ns *ns)
{
	return ns->id;
}

struct pdk_nvme_ctrlr *pdk_nvme_ns_ctrlr(const struct pdk_nvme_ns *ns)
{
	return ns->ctrlr;
}

uint64_t pdk_nvme_ns_num_sectors(const struct pdk_nvme_ns *ns)
{
	return ns->nsze;
}

uint32_t pdk_nvme_ns_sector_size(const struct pdk_nvme_ns *ns)
{
	return 1u << ns->lba_shift;
}

uint64_t pdk_nvme_ns_size(const struct pdk_nvme_ns *ns)
{
	return ns->nsze << ns->lba_shift;
}

uint32_t pdk_nvme_ns_max_io_sectors(const struct pdk_nvme_ns *ns)
{
	return ns->max_lbas;
}

const struct pdk_nvme_ns_data *pdk_nvme_ns_data(const struct pdk_nvme_ns *ns)
{
	return ns->data;
}

/* ---------------------------------------------------------------- I/O -- */

/* The controller moved on (reset, failure) since the queues were made. */
static int io_check_slow(struct pdk_nvme_qpair *qp)
{
	uint32_t g = nvme_ctrlr_gen(qp->ctrlr);

	if (NVME_GEN_STATE(g) == NVME_CTRLR_FAILED)
		return -ENXIO;
	if (qp->state == NVME_QP_FAILED)
		return -EIO;
	if (g != qp->gen)
		qp->state = NVME_QP_DISCONNECTED; /* held for the next poll */
	return 0;
}

static inline int io_check(struct pdk_nvme_qpair *qp)
{
	if (pdk_likely(nvme_ctrlr_gen(qp->ctrlr) == qp->gen && qp->state == NVME_QP_CONNECTED))
		return 0;
	return io_check_slow(qp);
}

struct io_args {
	uint8_t opc;
	uint32_t cdw12_flags;
	uint8_t *buf;   /* NULL: no data */
	uint64_t lba;
	uint32_t count;
};

static inline int io_build(const struct pdk_nvme_ns *ns, const struct pdk_nvme_qpair *qp,
			   struct nvme_tracker *tr, const struct io_args *a)
{
	struct pdk_nvme_cmd *cmd = &tr->cmd;

	memset(cmd, 0, sizeof(*cmd));
	cmd->opc = a->opc;
	cmd->nsid = ns->id;
	cmd->cdw10 = (uint32_t)a->lba;
	cmd->cdw11 = (uint32_t)(a->lba >> 32);
	cmd->cdw12 = (a->count - 1) | a->cdw12_flags;
	if (a->buf == NULL)
		return 0;
	return nvme_prp_build(cmd, a->buf, a->count << ns->lba_shift, qp->ctrlr->lim.page_size,
			      tr->prp_list, tr->prp_iova, qp->prp_list_max, pdk_mem_virt2iova);
}

static inline void tracker_arm(struct nvme_tracker *tr, pdk_nvme_cb cb, void *arg,
			       struct nvme_request *req)
{
	tr->cb = cb;
	tr->arg = arg;
	tr->req = req;
	tr->flags = 0;
	tr->retries = 0;
}

static inline int io_one(struct pdk_nvme_ns *ns, struct pdk_nvme_qpair *qp,
			 const struct io_args *a, pdk_nvme_cb cb, void *arg)
{
	struct nvme_tracker *tr = nvme_tracker_get(qp);
	int rc;

	if (pdk_unlikely(tr == NULL))
		return -EAGAIN;
	rc = io_build(ns, qp, tr, a);
	if (pdk_unlikely(rc < 0)) {
		nvme_tracker_put(qp, tr);
		return rc == -E2BIG ? -EINVAL : rc;
	}
	tracker_arm(tr, cb, arg, NULL);
	qp->requests++;
	nvme_qpair_submit(qp, tr, true);
	return 0;
}

static void split_undo(struct pdk_nvme_qpair *qp, struct nvme_tracker **parts, uint32_t n,
		       struct nvme_request *req)
{
	for (uint32_t i = 0; i < n; i++)
		nvme_tracker_put(qp, parts[i]);
	req->next_free = qp->req_free;
	qp->req_free = (uint32_t)(req - qp->reqs);
}

/* Build every part, then submit them all: all or nothing. */
static int io_split(struct pdk_nvme_ns *ns, struct pdk_nvme_qpair *qp, const struct io_args *a,
		    uint32_t per_cmd, pdk_nvme_cb cb, void *arg)
{
	uint32_t nparts = (uint32_t)(((uint64_t)a->count + per_cmd - 1) / per_cmd);
	struct nvme_tracker *parts[NVME_MAX_SPLIT];
	struct nvme_request *req;
	struct io_args p = *a;
	int rc;

	if (nparts > NVME_MAX_SPLIT || nparts > qp->ntr)
		return -EINVAL; /* could never be submitted whole */
	if (qp->free_count < nparts || qp->req_free == NVME_NIL)
		return -EAGAIN;
	req = &qp->reqs[qp->req_free];
	qp->req_free = req->next_free;
	*req = (struct nvme_request){.cb = cb, .arg = arg, .remaining = nparts};
	for (uint32_t i = 0; i < nparts; i++) {
		p.lba = a->lba + (uint64_t)i * per_cmd;
		p.count = PDK_MIN(per_cmd, a->count - i * per_cmd);
		p.buf = a->buf ? a->buf + ((size_t)i * per_cmd << ns->lba_shift) : NULL;
		parts[i] = nvme_tracker_get(qp);
		rc = io_build(ns, qp, parts[i], &p);
		if (rc < 0) {
			split_undo(qp, parts, i + 1, req);
			return rc == -E2BIG ? -EINVAL : rc;
		}
		tracker_arm(parts[i], NULL, NULL, req);
	}
	qp->requests++;
	for (uint32_t i = 0; i < nparts; i++)
		nvme_qpair_submit(qp, parts[i], i + 1 == nparts);
	return 0;
}

static int io_submit(struct pdk_nvme_ns *ns, struct pdk_nvme_qpair *qp, const struct io_args *a,
		     uint32_t per_cmd, pdk_nvme_cb cb, void *arg)
{
	int rc;

	if (pdk_unlikely(ns == NULL || qp == NULL || ns->ctrlr != qp->ctrlr))
		return -EINVAL;
	if (pdk_unlikely(a->count == 0 || a->count > ns->nsze || a->lba > ns->nsze - a->count))
		return -EINVAL;
	if (pdk_unlikely(a->buf != NULL && ((uintptr_t)a->buf & 3) != 0))
		return -EINVAL;
	rc = io_check(qp);
	if (pdk_unlikely(rc < 0))
		return rc;
	if (pdk_likely(a->count <= per_cmd))
		return io_one(ns, qp, a, cb, arg);
	return io_split(ns, qp, a, per_cmd, cb, arg);
}

static uint32_t fua(uint32_t flags)
{
	return (flags & PDK_NVME_IO_FLAG_FUA) ? PDK_NVME_IO_FUA : 0;
}

int pdk_nvme_ns_read(struct pdk_nvme_ns *ns, struct pdk_nvme_qpair *qp, void *buf,
		     uint64_t lba, uint32_t count, pdk_nvme_cb cb, void *arg, uint32_t flags)
{
	struct io_args a = {PDK_NVME_OPC_READ, fua(flags), buf, lba, count};

	if (buf == NULL)
		return -EINVAL;
	return io_submit(ns, qp, &a, ns->max_lbas, cb, arg);
}

int pdk_nvme_ns_write(struct pdk_nvme_ns *ns, struct pdk_nvme_qpair *qp, const void *buf,
		      uint64_t lba, uint32_t count, pdk_nvme_cb cb, void *arg, uint32_t flags)
{
	/* the device reads the buffer; the API keeps it const for callers */
	struct io_args a = {PDK_NVME_OPC_WRITE, fua(flags), (uint8_t *)(uintptr_t)buf, lba, count};

	if (buf == NULL)
		return -EINVAL;
	return io_submit(ns, qp, &a, ns->max_lbas, cb, arg);
}

int pdk_nvme_ns_write_zeroes(struct pdk_nvme_ns *ns, struct pdk_nvme_qpair *qp, uint64_t lba,
			     uint32_t count, pdk_nvme_cb cb, void *arg, uint32_t flags)
{
	struct io_args a = {PDK_NVME_OPC_WRITE_ZEROES, fua(flags), NULL, lba, count};

	if (ns == NULL || !ns->ctrlr->write_zeroes)
		return ns == NULL ? -EINVAL : -ENOTSUP;
	return io_submit(ns, qp, &a, PDK_NVME_IO_NLB_MAX, cb, arg);
}

int pdk_nvme_ns_flush(struct pdk_nvme_ns *ns, struct pdk_nvme_qpair *qp, pdk_nvme_cb cb,
		      void *arg)
{
	struct nvme_tracker *tr;
	int rc;

	if (ns == NULL || qp == NULL || ns->ctrlr != qp->ctrlr)
		return -EINVAL;
	rc = io_check(qp);
	if (rc < 0)
		return rc;
	tr = nvme_tracker_get(qp);
	if (tr == NULL)
		return -EAGAIN;
	memset(&tr->cmd, 0, sizeof(tr->cmd));
	tr->cmd.opc = PDK_NVME_OPC_FLUSH;
	tr->cmd.nsid = ns->id;
	tracker_arm(tr, cb, arg, NULL);
	qp->requests++;
	nvme_qpair_submit(qp, tr, true);
	return 0;
}
