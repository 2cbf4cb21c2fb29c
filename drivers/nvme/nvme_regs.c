/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Controller registers: enable, disable, shutdown (NVMe 1.4, 3.1 and 7.6).
 * Every wait is bounded by CAP.TO (500 ms units) and watches CSTS for two
 * things besides the bit it waits for: all-ones (the device is gone: stop
 * at once) and, when enabling, CFS (the controller failed: stop at once).
 * 64-bit registers are accessed as two 32-bit halves, low first, as some
 * controllers only decode 32-bit accesses.
 */
#include <errno.h>
#include <time.h>

#include "nvme_internal.h"

static uint32_t rd32(const struct pdk_nvme_ctrlr *c, uint32_t off)
{
	return pdk_vfio_bar_read32(c->bar, off);
}

static void wr32(const struct pdk_nvme_ctrlr *c, uint32_t off, uint32_t v)
{
	pdk_vfio_bar_write32(c->bar, off, v);
}

static void wr64(const struct pdk_nvme_ctrlr *c, uint32_t off, uint64_t v)
{
	wr32(c, off, (uint32_t)v);
	wr32(c, off + 4, (uint32_t)(v >> 32));
}

static uint64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void nap(void)
{
	struct timespec ts = {0, 100 * 1000}; /* registers change in ms, not us */

	nanosleep(&ts, NULL);
}

int nvme_ctrlr_health(struct pdk_nvme_ctrlr *c, uint32_t *csts)
{
	uint32_t v = rd32(c, PDK_NVME_REG_CSTS);

	if (csts != NULL)
		*csts = v;
	if (v == UINT32_MAX)
		return -ENODEV;
	return (v & PDK_NVME_CSTS_CFS) ? -EIO : 0;
}

/* Wait for (CSTS & mask) == want for at most ms. */
static int wait_csts(struct pdk_nvme_ctrlr *c, uint32_t mask, uint32_t want, uint32_t ms,
		     const char *what, bool cfs_fails)
{
	uint64_t end = now_ms() + ms;
	uint32_t v;

	for (;;) {
		v = rd32(c, PDK_NVME_REG_CSTS);
		if (v == UINT32_MAX) {
			PDK_LOG(ERR, NVME_LOG, "%s: CSTS reads all-ones while waiting until %s: the "
				"device is gone (unplugged, or reset by someone else)", c->name, what);
			return -ENODEV;
		}
		if ((v & mask) == want)
			return 0;
		if (cfs_fails && (v & PDK_NVME_CSTS_CFS)) {
			PDK_LOG(ERR, NVME_LOG, "%s: controller fatal status (CSTS 0x%x) while "
				"waiting until %s", c->name, v, what);
			return -EIO;
		}
		if (now_ms() >= end) {
			PDK_LOG(ERR, NVME_LOG, "%s: not %s after %u ms (the time CAP.TO allows): "
				"CSTS 0x%x; the controller is hung, try a PCI reset or power cycle",
				c->name, what, ms, v);
			return -ETIMEDOUT;
		}
		nap();
	}
}

int nvme_ctrlr_disable(struct pdk_nvme_ctrlr *c)
{
	uint32_t cc = rd32(c, PDK_NVME_REG_CC);
	uint32_t csts = rd32(c, PDK_NVME_REG_CSTS);

	if (cc == UINT32_MAX || csts == UINT32_MAX) {
		PDK_LOG(ERR, NVME_LOG, "%s: registers read all-ones: the device is gone", c->name);
		return -ENODEV;
	}
	/* clearing EN before an enable finished is undefined (3.1.5): let it
	 * finish first (a failed controller will not, and that is fine) */
	if ((cc & PDK_NVME_CC_EN) && !(csts & PDK_NVME_CSTS_RDY) && !(csts & PDK_NVME_CSTS_CFS))
		wait_csts(c, PDK_NVME_CSTS_RDY, PDK_NVME_CSTS_RDY, c->lim.ready_ms,
			  "ready (before disabling)", true);
	if (!(cc & PDK_NVME_CC_EN) && !(csts & PDK_NVME_CSTS_RDY))
		return 0;
	wr32(c, PDK_NVME_REG_CC, cc & ~PDK_NVME_CC_EN);
	return wait_csts(c, PDK_NVME_CSTS_RDY, 0, c->lim.ready_ms, "disabled", false);
}

int nvme_ctrlr_enable(struct pdk_nvme_ctrlr *c)
{
	struct pdk_nvme_qpair *aq = c->adminq;
	uint32_t cc;

	nvme_qpair_reset_rings(aq);
	wr32(c, PDK_NVME_REG_AQA, PDK_NVME_AQA(aq->entries, aq->entries));
	wr64(c, PDK_NVME_REG_ASQ, aq->sq_iova);
	wr64(c, PDK_NVME_REG_ACQ, aq->cq_iova);
	cc = PDK_NVME_CC_EN | (0u << PDK_NVME_CC_CSS_SHIFT) |
	     ((c->lim.mps_shift - 12) << PDK_NVME_CC_MPS_SHIFT) |
	     (0u << PDK_NVME_CC_AMS_SHIFT) | (6u << PDK_NVME_CC_IOSQES_SHIFT) |
	     (4u << PDK_NVME_CC_IOCQES_SHIFT);
	wr32(c, PDK_NVME_REG_CC, cc);
	return wait_csts(c, PDK_NVME_CSTS_RDY, PDK_NVME_CSTS_RDY, c->lim.ready_ms, "ready", true);
}

void nvme_ctrlr_shutdown(struct pdk_nvme_ctrlr *c)
{
	uint32_t cc = rd32(c, PDK_NVME_REG_CC);
	uint32_t ms = 1000;

	if (cc == UINT32_MAX || !(cc & PDK_NVME_CC_EN))
		return;
	if (c->cdata != NULL) /* RTD3E: how long entering D3 may take, in us */
		ms = PDK_MIN(PDK_MAX(c->cdata->rtd3e / 1000, 1000u), 10000u);
	wr32(c, PDK_NVME_REG_CC, (cc & ~PDK_NVME_CC_SHN_MASK) | PDK_NVME_CC_SHN_NORMAL);
	if (wait_csts(c, PDK_NVME_CSTS_SHST_MASK, PDK_NVME_CSTS_SHST_DONE, ms,
		      "shut down", false) == 0)
		PDK_LOG(DEBUG, NVME_LOG, "%s: shutdown complete", c->name);
}
