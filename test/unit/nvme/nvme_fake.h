/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A controller with no device: BAR0 is a byte array (so doorbell writes
 * land in memory the test reads), and a "device" that fetches commands
 * from a queue pair's SQ up to the doorbell value and posts completion
 * entries -- well-formed or not -- into its CQ. Used by the unit tests and
 * the completion fuzz target.
 */
#ifndef NVME_FAKE_H
#define NVME_FAKE_H

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvme_internal.h"

struct fake_ctrlr {
	struct pdk_nvme_ctrlr c;
	struct pdk_vfio_bar bar;
	uint8_t regs[0x2000] __attribute__((aligned(4096)));
};

static inline void fake_ctrlr_init(struct fake_ctrlr *f, uint32_t max_xfer)
{
	memset(f, 0, sizeof(*f));
	f->bar.addr = f->regs;
	f->bar.size = sizeof(f->regs);
	f->bar.whole = true;
	f->c.bar = &f->bar;
	f->c.lim.page_size = 4096;
	f->c.lim.mps_shift = 12;
	f->c.lim.max_xfer = max_xfer;
	f->c.lim.entries = NVME_MAX_QUEUE_ENTRIES;
	f->c.lim.max_aborts = 4;
	pdk_nvme_ctrlr_opts_default(&f->c.opts);
	f->c.check_tsc = UINT64_MAX / 4;
	f->c.write_zeroes = true;
	snprintf(f->c.name, sizeof(f->c.name), "fake");
	pthread_mutex_init(&f->c.lock, NULL);
}

static inline uint32_t fake_reg32(const struct fake_ctrlr *f, uint32_t off)
{
	uint32_t v;

	memcpy(&v, f->regs + off, 4);
	return v;
}

static inline void fake_set_reg32(struct fake_ctrlr *f, uint32_t off, uint32_t v)
{
	memcpy(f->regs + off, &v, 4);
}

/* The device's side of one queue pair. */
struct fake_dev {
	struct pdk_nvme_qpair *qp;
	uint16_t sq_head;
	uint16_t cq_tail;
	uint8_t phase;
};

static inline void fake_dev_init(struct fake_dev *d, struct pdk_nvme_qpair *qp)
{
	d->qp = qp;
	d->sq_head = 0;
	d->cq_tail = 0;
	d->phase = 1;
}

/* The SQ tail the device knows: the shadow doorbell when in use (the
 * event index is left at 0, so the driver still writes the register too
 * when it must), else the register. */
static inline uint16_t fake_sq_tail(const struct fake_ctrlr *f, const struct fake_dev *d)
{
	if (d->qp->shadow_sq != NULL)
		return (uint16_t)atomic_load(d->qp->shadow_sq);
	return (uint16_t)fake_reg32(f, d->qp->sq_db);
}

/* Fetch the next command the driver made visible; false when none. */
static inline bool fake_fetch(const struct fake_ctrlr *f, struct fake_dev *d,
			      struct pdk_nvme_cmd *cmd)
{
	memset(cmd, 0, sizeof(*cmd));
	if (d->sq_head == fake_sq_tail(f, d))
		return false;
	*cmd = d->qp->sq[d->sq_head];
	if (++d->sq_head == d->qp->entries)
		d->sq_head = 0;
	return true;
}

/* Post an entry as a device would (the phase tag written last). */
static inline void fake_post_raw(struct fake_dev *d, uint16_t cid, uint16_t sqid,
				 uint16_t sqhd, uint16_t status, uint8_t phase)
{
	struct pdk_nvme_cpl *e = &d->qp->cq[d->cq_tail];

	e->cdw0 = 0;
	e->sqhd = sqhd;
	e->sqid = sqid;
	e->cid = cid;
	__atomic_store_n(&e->status, (uint16_t)((status & ~1u) | phase), __ATOMIC_RELEASE);
	if (++d->cq_tail == d->qp->entries) {
		d->cq_tail = 0;
		d->phase ^= 1;
	}
}

static inline void fake_post(struct fake_dev *d, uint16_t cid, uint16_t status)
{
	fake_post_raw(d, cid, d->qp->id, d->sq_head, status, d->phase);
}

/* Complete everything submitted, in order, with `status`; returns how
 * many. */
static inline int fake_complete_all(const struct fake_ctrlr *f, struct fake_dev *d,
				    uint16_t status)
{
	struct pdk_nvme_cmd cmd;
	int n = 0;

	while (fake_fetch(f, d, &cmd)) {
		fake_post(d, cmd.cid, status);
		n++;
	}
	return n;
}

/* A connected I/O queue pair of the fake controller. */
static inline int fake_qpair(struct fake_ctrlr *f, struct pdk_nvme_qpair *qp, uint16_t qid,
			     uint32_t entries)
{
	int rc = nvme_qpair_init(qp, &f->c, qid, entries);

	if (rc == 0) {
		qp->gen = atomic_load(&f->c.gen);
		qp->state = NVME_QP_CONNECTED;
	}
	return rc;
}

#endif /* NVME_FAKE_H */
