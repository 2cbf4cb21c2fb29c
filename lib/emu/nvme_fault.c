/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fault injection for the NVMe model (the list is in pdk_emu_nvme.h) and
 * its counters. One table names every fault parameter, so the knobs at
 * creation and pdk_emu_dev_inject("name=N") at run time set them the same
 * way. The hooks run where a real controller would go wrong: on fetching
 * a command (fatal status, stuck commands, a dying or removed device) and
 * on posting a completion (malformed completions, I/O queues only, so a
 * driver can still bring the controller up).
 */
#include <errno.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "emu_private.h"
#include "nvme_private.h"

enum fkind {
	F_AT,     /* the Nth command from now; 0 = off */
	F_RANDOM, /* cfs-random */
	F_SEED,
	F_OPC,    /* an opcode, 0..255 */
	F_BOOL,
	F_RATE,   /* every Nth I/O completion; 0 = off */
};

struct fparam {
	const char *name;
	enum fkind kind;
	size_t off; /* in struct nvme_faults */
};

#define FP(n, k, f) {n, k, offsetof(struct nvme_faults, f)}
static const struct fparam params[] = {
	FP("seed", F_SEED, rng), /* before cfs-random, which uses it */
	FP("cfs-at", F_AT, cfs_at),
	FP("cfs-random", F_RANDOM, cfs_random),
	FP("stuck-at", F_AT, stuck_at),
	FP("stuck-opc", F_OPC, stuck_opc),
	FP("stuck-admin-opc", F_OPC, stuck_admin_opc),
	FP("stuck-abort", F_BOOL, stuck_abort),
	FP("cpl-unknown-cid", F_RATE, unknown_cid),
	FP("cpl-dup-cid", F_RATE, dup_cid),
	FP("cpl-stale-phase", F_RATE, stale_phase),
	FP("cpl-bad-sqhd", F_RATE, bad_sqhd),
	FP("allones-at", F_AT, allones_at),
	FP("remove-at", F_AT, remove_at),
};

static uint64_t rnd(struct nvme_faults *f)
{
	f->rng ^= f->rng << 13; /* xorshift64 */
	f->rng ^= f->rng >> 7;
	f->rng ^= f->rng << 17;
	return f->rng;
}

static void cfs_arm(struct nvme_ctrl *c)
{
	struct nvme_faults *f = &c->flt;

	if (f->cfs_random && f->cfs_at == 0)
		f->cfs_at = c->ncmds + 1 + rnd(f) % f->cfs_random;
}

static uint64_t fparam_max(enum fkind k)
{
	return k == F_OPC ? 255 : k == F_BOOL ? 1 : UINT64_MAX / 2;
}

static void fparam_set(struct nvme_ctrl *c, const struct fparam *p, uint64_t v)
{
	void *field = (char *)&c->flt + p->off;
	struct nvme_rate *rate = field;

	switch (p->kind) {
	case F_AT:
		*(uint64_t *)field = v ? c->ncmds + v : 0;
		break;
	case F_RANDOM:
		c->flt.cfs_random = v;
		c->flt.cfs_at = 0;
		cfs_arm(c);
		break;
	case F_SEED:
		c->flt.rng = v ? v : 1; /* xorshift never leaves 0 */
		break;
	case F_OPC:
		*(int *)field = (int)v;
		break;
	case F_BOOL:
		*(bool *)field = v;
		break;
	case F_RATE:
		rate->every = rate->left = v;
		break;
	}
}

static const struct fparam *fparam_find(const char *name, size_t len)
{
	for (size_t i = 0; i < PDK_DIM(params); i++)
		if (strlen(params[i].name) == len && !strncmp(params[i].name, name, len))
			return &params[i];
	return NULL;
}

int nvme_faults_init(struct nvme_ctrl *c)
{
	c->flt = (struct nvme_faults){.stuck_opc = -1, .stuck_admin_opc = -1,
				      .stuck_abort = true, .rng = 1};
	for (size_t i = 0; i < PDK_DIM(params); i++) {
		const struct fparam *p = &params[i];
		uint64_t v = UINT64_MAX;

		if (pdk_emu_dev_knob_range(c->dev, p->name, 0, fparam_max(p->kind), &v))
			return -EINVAL;
		if (v != UINT64_MAX)
			fparam_set(c, p, v);
	}
	return 0;
}

/* After every enable: a new random fatal point. */
void nvme_faults_enabled(struct nvme_ctrl *c)
{
	cfs_arm(c);
}

/* "name=N": 0 or -EINVAL. */
static int inject_param(struct nvme_ctrl *c, const char *s, const char *eq)
{
	const struct fparam *p = fparam_find(s, (size_t)(eq - s));
	char *end;
	unsigned long long v;

	if (p == NULL || eq[1] == '\0' || eq[1] == '-')
		return -EINVAL;
	errno = 0;
	v = strtoull(eq + 1, &end, 0);
	if (errno || *end || v > fparam_max(p->kind))
		return -EINVAL;
	fparam_set(c, p, v);
	return 0;
}

static int inject_temp(struct nvme_ctrl *c, const char *v)
{
	char *end;
	unsigned long k = strtoul(v, &end, 0);

	if (*v == '\0' || *end || k > 0xffff)
		return -EINVAL;
	c->temp = (uint16_t)k;
	nvme_temp_check(c);
	return 0;
}

/* One-shot faults: the next command, or the next I/O completion. */
static int inject_now(struct nvme_ctrl *c, const char *s)
{
	struct nvme_faults *f = &c->flt;
	struct nvme_rate *r = !strcmp(s, "unknown-cid") ? &f->unknown_cid :
			      !strcmp(s, "dup-cid") ? &f->dup_cid :
			      !strcmp(s, "stale-phase") ? &f->stale_phase :
			      !strcmp(s, "bad-sqhd") ? &f->bad_sqhd : NULL;

	if (r) {
		r->left = 1;
	} else if (!strcmp(s, "cfs")) {
		nvme_count(&c->st.inj_cfs);
		nvme_fatal(c, "injected");
	} else if (!strcmp(s, "stuck")) {
		f->stuck_at = c->ncmds + 1;
	} else if (!strcmp(s, "clear")) {
		c->flt = (struct nvme_faults){.stuck_opc = -1, .stuck_admin_opc = -1,
					      .stuck_abort = true, .rng = f->rng};
	} else {
		return -EINVAL;
	}
	return 0;
}

int nvme_inject(struct pdk_emu_dev *dev, const char *fault)
{
	struct nvme_ctrl *c = pdk_emu_dev_priv(dev);
	const char *eq = strchr(fault, '=');

	if (eq && !strncmp(fault, "temp=", 5))
		return inject_temp(c, eq + 1);
	return eq ? inject_param(c, fault, eq) : inject_now(c, fault);
}

/* ---- on fetch ---- */

static bool at(uint64_t *when, uint64_t n)
{
	if (*when != n)
		return false;
	*when = 0;
	return true;
}

static bool stuck_match(struct nvme_ctrl *c, const struct nvme_req *r)
{
	int *opc = r->sq->qid ? &c->flt.stuck_opc : &c->flt.stuck_admin_opc;

	if (at(&c->flt.stuck_at, c->ncmds))
		return true;
	if (*opc != r->opc)
		return false;
	*opc = -1;
	return true;
}

/* True when the command is taken by a fault and must not run. */
bool nvme_fault_fetch(struct nvme_ctrl *c, struct nvme_req *r,
		      const struct pdk_nvme_cmd *cmd)
{
	struct nvme_faults *f = &c->flt;

	(void)cmd;
	if (at(&f->allones_at, c->ncmds)) {
		nvme_count(&c->st.inj_allones);
		pdk_emu_dev_fault(c->dev, PDK_EMU_FAULT_ALLONES);
	}
	if (at(&f->remove_at, c->ncmds)) {
		nvme_count(&c->st.inj_remove);
		pdk_emu_dev_fault(c->dev, PDK_EMU_FAULT_REMOVE);
	}
	if (at(&f->cfs_at, c->ncmds)) {
		nvme_count(&c->st.inj_cfs);
		nvme_fatal(c, "injected at a command");
		r->state = REQ_STUCK; /* lost with the controller */
		return true;
	}
	if (!stuck_match(c, r))
		return false;
	nvme_count(&c->st.inj_stuck);
	NVME_LOG(INFO, c, "fault: command opc 0x%02x cid %u on SQ %u stuck", r->opc,
		 r->cid, r->sq->qid);
	r->state = REQ_STUCK;
	return true;
}

/* ---- on posting ---- */

static bool rate_due(struct nvme_rate *r)
{
	if (r->left == 0 || --r->left)
		return false;
	r->left = r->every;
	return true;
}

/* A command id the host has not got in flight on this SQ. */
static uint16_t unknown_cid(struct nvme_ctrl *c, struct nvme_sq *sq, uint16_t cid)
{
	uint16_t cand = cid ^ 0x8000;

	for (int i = 0; i < 64 && (cand == cid || nvme_cid_outstanding(c, sq, cand)); i++)
		cand = (uint16_t)(cand + 0x101);
	return cand;
}

/* Past the host's tail: the slot after it, or past the queue's end. */
static uint16_t bad_sqhd(const struct nvme_sq *sq)
{
	uint32_t next = (sq->tail + 1) % sq->size;

	if (next != sq->head || sq->size == 65536)
		return (uint16_t)next;
	return (uint16_t)sq->size;
}

/* Before an I/O completion is posted: a head beyond the tail. */
void nvme_fault_cpl(struct nvme_ctrl *c, struct nvme_sq *sq,
		    struct pdk_nvme_cpl *e)
{
	if (rate_due(&c->flt.bad_sqhd)) {
		e->sqhd = bad_sqhd(sq);
		nvme_count(&c->st.inj_bad_sqhd);
	}
}

/* After an I/O completion `e` was posted: extra, malformed entries. */
void nvme_fault_post(struct nvme_ctrl *c, struct nvme_cq *cq,
		     struct nvme_sq *sq, const struct pdk_nvme_cpl *e)
{
	struct nvme_faults *f = &c->flt;
	struct pdk_nvme_cpl t = *e;

	if (rate_due(&f->dup_cid) && nvme_cq_room(c, cq)) {
		nvme_post_raw(c, cq, e);
		nvme_count(&c->st.inj_dup_cid);
	}
	if (rate_due(&f->unknown_cid) && nvme_cq_room(c, cq)) {
		t.cid = unknown_cid(c, sq, e->cid);
		nvme_post_raw(c, cq, &t);
		nvme_count(&c->st.inj_unknown_cid);
	}
	/* the free slot at the tail holds an entry of the last pass: the
	 * host must not take it (4.6.2) */
	if (rate_due(&f->stale_phase)) {
		nvme_write_slot(c, cq, cq->tail, e, !cq->phase);
		nvme_count(&c->st.inj_stale_phase);
	}
}

int pdk_emu_nvme_stats(struct pdk_emu_dev *dev, struct pdk_emu_nvme_stats *st)
{
	const struct nvme_ctrl *c;
	const uint64_t *src;
	uint64_t *dst = (uint64_t *)st;

	if (dev == NULL || st == NULL || dev->model != &emu_model_nvme)
		return -EINVAL;
	c = pdk_emu_dev_priv(dev);
	src = (const uint64_t *)&c->st;
	for (size_t i = 0; i < sizeof(*st) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
	return 0;
}
