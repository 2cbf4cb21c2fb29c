/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: completion processing against a queue with commands
 * outstanding, driven by a hostile device. The input is a program: submit
 * (single and split requests), post raw entries (any id, queue, SQ head,
 * status, phase), post the id of an outstanding command or repeat the last
 * one, poll, fail everything, reset and resubmit. After each step every
 * request has completed at most once, the trackers add up, and at the end
 * everything left is failed: each request completes exactly once.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../unit/nvme/nvme_fake.h"
#include "../common/fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_REQ 4096

static struct fake_ctrlr F;
static struct pdk_nvme_qpair QP;
static struct fake_dev D;
static struct pdk_nvme_ns NS;
static uint8_t calls[MAX_REQ];
static uint32_t accepted;
static uint16_t last_cid;

static void *plain_zalloc(const char *type, size_t size, unsigned align)
{
	void *p = NULL;

	(void)type;
	if (posix_memalign(&p, align < sizeof(void *) ? sizeof(void *) : align, size) != 0)
		return NULL;
	memset(p, 0, size);
	return p;
}

static pdk_iova_t plain_v2i(const void *va)
{
	return (uintptr_t)va; /* no device ever sees it */
}

static void done(void *arg, const struct pdk_nvme_cpl *cpl)
{
	uintptr_t i = (uintptr_t)arg;

	(void)cpl;
	FUZZ_CHECK(i < accepted && calls[i] == 0);
	calls[i]++;
}

static void submit(uint8_t arg)
{
	int rc;

	if (accepted == MAX_REQ)
		return;
	/* Write Zeroes splits every 65536 blocks: 1..4 commands */
	if (arg & 1)
		rc = pdk_nvme_ns_write_zeroes(&NS, &QP, 0, 1 + (arg >> 1) % 4 * 65536u, done,
					      (void *)(uintptr_t)accepted, 0);
	else
		rc = pdk_nvme_ns_flush(&NS, &QP, done, (void *)(uintptr_t)accepted);
	FUZZ_CHECK(rc == 0 || rc == -EAGAIN || rc == -EIO || rc == -ENXIO);
	if (rc == 0)
		accepted++;
}

static void post_outstanding(uint8_t k)
{
	for (uint16_t n = 0; n < QP.ntr; n++) {
		struct nvme_tracker *tr = &QP.tr[(k + n) % QP.ntr];

		if (tr->active) {
			last_cid = tr->cmd.cid;
			fake_post(&D, last_cid, 0);
			return;
		}
	}
}

static void check(void)
{
	uint32_t active = 0, done_n = 0;

	for (uint16_t i = 0; i < QP.ntr; i++)
		active += QP.tr[i].active;
	FUZZ_CHECK(active + QP.free_count == QP.ntr);
	for (uint32_t i = 0; i < accepted; i++)
		done_n += calls[i];
	FUZZ_CHECK(QP.requests == accepted - done_n);
}

static void step(const uint8_t *p)
{
	switch (p[0] % 8) {
	case 0: submit(p[1]); break;
	case 1: fake_post_raw(&D, (uint16_t)(p[1] | p[2] << 8), p[3] & 3, p[4], p[5] << 1,
			      (uint8_t)(p[6] & 1)); break;
	case 2: post_outstanding(p[1]); break;
	case 3: fake_post(&D, last_cid, 0); break;
	case 4: pdk_nvme_qpair_poll(&QP, p[1] % 40); break;
	case 5: if (p[1] == 0x5a) nvme_qpair_fail_all(&QP, NVME_ST_HOST_ABORTED); break;
	case 6: if (p[1] == 0xa5) { nvme_qpair_reset_rings(&QP); fake_dev_init(&D, &QP);
				    nvme_qpair_resubmit_all(&QP); } break;
	default: fake_complete_all(&F, &D, (uint16_t)(p[1] == 0 ? 0x80 << 1 : 0)); break;
	}
	check();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static bool once;

	if (!once) {
		nvme_dma = (struct nvme_dma_ops){plain_zalloc, free, plain_v2i};
		pdk_log_set_level(NULL, PDK_LOG_ERR); /* drops are logged as warnings */
		once = true;
	}
	fake_ctrlr_init(&F, 128 * 1024);
	F.c.opts.max_retries = 1;
	FUZZ_CHECK(fake_qpair(&F, &QP, 1, 16 + (size ? data[0] % 48 : 0)) == 0);
	fake_dev_init(&D, &QP);
	NS = (struct pdk_nvme_ns){.ctrlr = &F.c, .id = 1, .lba_shift = 9, .max_lbas = 256,
				  .nsze = 1ull << 32};
	memset(calls, 0, sizeof(calls));
	accepted = 0;
	last_cid = 0;
	for (size_t off = 1; off + 7 <= size; off += 7)
		step(data + off);
	nvme_qpair_fail_all(&QP, NVME_ST_HOST_ABORTED);
	for (uint32_t i = 0; i < accepted; i++)
		FUZZ_CHECK(calls[i] == 1); /* exactly once, in the end */
	nvme_qpair_fini(&QP);
	return 0;
}
