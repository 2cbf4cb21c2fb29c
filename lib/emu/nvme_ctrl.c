/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The "nvme" device model: an NVMe 1.4 controller over PCIe (see
 * pdk_emu_nvme.h for the layout). This file holds the model's hooks, its
 * knobs and the controller registers. Registers live in mappable BAR
 * memory, so the controller thread polls CC on every round and acts on
 * edges: EN 0->1 brings the admin queues up, EN 1->0 resets the
 * controller, SHN shuts it down; CSTS follows after `ready-us`, as a real
 * controller takes its time. Read-only registers the client overwrote
 * through its mapping are put back on the next round.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "emu_private.h"
#include "nvme_private.h"

enum { TR_NONE, TR_READY, TR_OFF, TR_SHUTDOWN };

static const struct pdk_emu_knob nvme_knobs[] = {
	{"queues", "N: I/O queue pairs (1..511)", "16"},
	{"qdepth", "N: entries per queue, CAP.MQES + 1 (2..65536)", "1024"},
	{"ns", "N: namespaces (1..64)", "1"},
	{"ns-size", "N: bytes per namespace, a multiple of the LBA size", "256m"},
	{"lba", "512|4096: LBA size", "512"},
	{"file", "PATH: back the namespaces with a file (created if needed; "
		 "namespaces back to back); default: memory", NULL},
	{"mdts", "N: max data transfer 2^N x 4 KiB (1..12), 0 = no limit", "5"},
	{"latency-us", "N: least time from fetch to completion; 0 = at once", "0"},
	{"ready-us", "N: time CSTS takes to follow CC (0..5000000)", "100"},
	{"serial", "TEXT: serial number, up to 20 characters (default: the "
		   "socket's file name)", NULL},
	{"model", "TEXT: model number, up to 40 characters",
	 "PDK emulated NVMe controller"},
	{"shadow-db", "0|1: offer Doorbell Buffer Config (shadow doorbells)", "1"},
	{"cfs-at", "N: controller fatal status at the Nth command", NULL},
	{"cfs-random", "M: CFS at a random command in 1..M after each enable", NULL},
	{"seed", "N: seed for cfs-random", "1"},
	{"stuck-at", "N: the Nth command never completes", NULL},
	{"stuck-opc", "OPC: the next I/O command with this opcode never completes", NULL},
	{"stuck-admin-opc", "OPC: the same for an admin command", NULL},
	{"stuck-abort", "0|1: Abort releases a stuck command", "1"},
	{"cpl-unknown-cid", "N: after every Nth I/O completion, one with an "
			    "unknown command id", NULL},
	{"cpl-dup-cid", "N: every Nth I/O completion is posted twice", NULL},
	{"cpl-stale-phase", "N: after every Nth I/O completion, a stale-phase "
			    "copy in the next slot", NULL},
	{"cpl-bad-sqhd", "N: every Nth I/O completion has an SQ head beyond "
			 "the tail", NULL},
	{"allones-at", "N: the device dies (all-ones reads) at the Nth command", NULL},
	{"remove-at", "N: surprise removal at the Nth command", NULL},
	{NULL, NULL, NULL},
};

uint64_t nvme_now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

int nvme_knob_bool(struct pdk_emu_dev *dev, const char *name, bool *out)
{
	uint64_t v = *out;
	int rc = pdk_emu_dev_knob_range(dev, name, 0, 1, &v);

	*out = v;
	return rc;
}

/* Identify strings: printable ASCII that fits the field. */
static int knob_text(struct pdk_emu_dev *dev, const char *name, char *out,
		     size_t max)
{
	const char *v = pdk_emu_dev_knob(dev, name);

	if (v == NULL)
		return 0;
	for (const char *p = v; *p; p++)
		if (*p < 0x20 || *p > 0x7e)
			v = NULL;
	if (v == NULL || v[0] == '\0' || strlen(v) > max) {
		pdk_emu_dev_error(dev, "bad value for knob '%s': expected 1..%zu "
				  "printable ASCII characters", name, max);
		return -EINVAL;
	}
	snprintf(out, max + 1, "%s", v);
	return 0;
}

/* The serial number by default: the socket's file name, extension dropped. */
static void default_serial(struct pdk_emu_dev *dev, struct nvme_cfg *cfg)
{
	const char *sock = pdk_emu_dev_socket(dev), *base = strrchr(sock, '/');
	char *dot;

	snprintf(cfg->serial, sizeof(cfg->serial), "%s", base ? base + 1 : sock);
	dot = strchr(cfg->serial, '.');
	if (dot && dot != cfg->serial)
		*dot = '\0';
}

static int cfg_sizes(struct pdk_emu_dev *dev, struct nvme_cfg *cfg)
{
	uint64_t q = 16, depth = 1024, nns = 1, size = 256ull << 20, lba = 512;
	int rc = 0;

	rc |= pdk_emu_dev_knob_range(dev, "queues", 1, NVME_QUEUES_MAX, &q);
	rc |= pdk_emu_dev_knob_range(dev, "qdepth", 2, 65536, &depth);
	rc |= pdk_emu_dev_knob_range(dev, "ns", 1, 64, &nns);
	rc |= pdk_emu_dev_knob_range(dev, "ns-size", 4096, 1ull << 44, &size);
	rc |= pdk_emu_dev_knob_range(dev, "lba", 512, 4096, &lba);
	if (rc)
		return -EINVAL;
	if (lba != 512 && lba != 4096) {
		pdk_emu_dev_error(dev, "bad value for knob 'lba': expected 512 or 4096");
		return -EINVAL;
	}
	if (size % lba) {
		pdk_emu_dev_error(dev, "bad value for knob 'ns-size': not a multiple "
				  "of the LBA size (%llu)", (unsigned long long)lba);
		return -EINVAL;
	}
	cfg->queues = (unsigned)q;
	cfg->qdepth = (uint32_t)depth;
	cfg->nns = (unsigned)nns;
	cfg->ns_size = size;
	cfg->lbads = lba == 512 ? 9 : 12;
	return 0;
}

static int cfg_read(struct pdk_emu_dev *dev, struct nvme_cfg *cfg)
{
	uint64_t mdts = 5, lat = 0, ready = 100;
	int rc = cfg_sizes(dev, cfg);

	if (rc)
		return rc;
	rc |= pdk_emu_dev_knob_range(dev, "mdts", 0, 12, &mdts);
	rc |= pdk_emu_dev_knob_range(dev, "latency-us", 0, 10000000, &lat);
	rc |= pdk_emu_dev_knob_range(dev, "ready-us", 0, 5000000, &ready);
	cfg->shadow_db = true;
	rc |= nvme_knob_bool(dev, "shadow-db", &cfg->shadow_db);
	default_serial(dev, cfg);
	rc |= knob_text(dev, "serial", cfg->serial, sizeof(cfg->serial) - 1);
	rc |= knob_text(dev, "model", cfg->model, sizeof(cfg->model) - 1);
	cfg->file = pdk_emu_dev_knob(dev, "file");
	if (cfg->file && cfg->file[0] == '\0') {
		pdk_emu_dev_error(dev, "bad value for knob 'file': empty path");
		rc = -EINVAL;
	}
	cfg->mdts = (unsigned)mdts;
	cfg->latency_ns = lat * 1000;
	cfg->ready_ns = ready * 1000;
	return rc ? -EINVAL : 0;
}

/* CAP (3.1.1): contiguous queues, NVM command set, 4 KiB..64 KiB pages. */
static uint64_t cap_value(const struct nvme_cfg *cfg)
{
	uint64_t to = cfg->ready_ns / 500000000u + 2; /* 500 ms units, margin */

	return (uint64_t)(cfg->qdepth - 1) | PDK_NVME_CAP_CQR_BIT |
	       (PDK_MIN(to, 255u) << PDK_NVME_CAP_TO_SHIFT) |
	       ((uint64_t)PDK_NVME_CAP_CSS_NVM << PDK_NVME_CAP_CSS_SHIFT) |
	       ((uint64_t)NVME_MPSMAX << PDK_NVME_CAP_MPSMAX_SHIFT);
}

static uint32_t csts_value(const struct nvme_ctrl *c)
{
	uint32_t v = (c->ready ? PDK_NVME_CSTS_RDY : 0) |
		     (c->fatal ? PDK_NVME_CSTS_CFS : 0);

	if (c->shst_done)
		v |= PDK_NVME_CSTS_SHST_DONE;
	else if (c->shutdown)
		v |= PDK_NVME_CSTS_SHST_OCCURRING;
	return v;
}

/* Put back what the host may not change (a mapped write sticks till now). */
static void regs_restore(struct nvme_ctrl *c)
{
	const uint32_t vs = 0x00010400; /* 1.4.0 */
	uint32_t csts = csts_value(c);

	if (pdk_emu_rd64(c->bar, PDK_NVME_REG_CAP) != c->cap)
		pdk_emu_wr64(c->bar, PDK_NVME_REG_CAP, c->cap);
	if (pdk_emu_rd32(c->bar, PDK_NVME_REG_VS) != vs)
		pdk_emu_wr32(c->bar, PDK_NVME_REG_VS, vs);
	if (pdk_emu_rd32(c->bar, PDK_NVME_REG_CSTS) != csts)
		pdk_emu_wr32(c->bar, PDK_NVME_REG_CSTS, csts);
	/* MSI-X only: INTMS/INTMC are not to be used; NSSR unsupported */
	for (uint32_t off = PDK_NVME_REG_INTMS; off <= PDK_NVME_REG_INTMC; off += 4)
		if (pdk_emu_rd32(c->bar, off) != 0)
			pdk_emu_wr32(c->bar, off, 0);
	if (pdk_emu_rd32(c->bar, PDK_NVME_REG_NSSR) != 0)
		pdk_emu_wr32(c->bar, PDK_NVME_REG_NSSR, 0);
}

void nvme_fatal(struct nvme_ctrl *c, const char *why)
{
	if (!c->fatal)
		NVME_LOG(WARNING, c, "controller fatal status: %s", why);
	c->fatal = true;
	regs_restore(c);
}

static void transition(struct nvme_ctrl *c, int tr)
{
	c->transition = tr;
	c->deadline = nvme_now_ns() + c->cfg.ready_ns;
}

/* The admin queues and settings CC.EN asks for; false: CFS (as QEMU does). */
static bool enable_check(struct nvme_ctrl *c, uint32_t aqa, uint64_t asq,
			 uint64_t acq)
{
	unsigned mps = PDK_NVME_CC_MPS(c->cc);
	uint64_t ps = 4096ull << mps;

	if (PDK_NVME_CC_CSS(c->cc) != 0 || PDK_NVME_CC_AMS(c->cc) != 0 ||
	    mps > NVME_MPSMAX)
		return false;
	if (PDK_NVME_AQA_ASQS(aqa) == 0 || PDK_NVME_AQA_ACQS(aqa) == 0)
		return false;
	return asq && acq && !(asq & (ps - 1)) && !(acq & (ps - 1));
}

static void ctrl_enable(struct nvme_ctrl *c)
{
	uint32_t aqa = pdk_emu_rd32(c->bar, PDK_NVME_REG_AQA);
	uint64_t asq = pdk_emu_rd64(c->bar, PDK_NVME_REG_ASQ);
	uint64_t acq = pdk_emu_rd64(c->bar, PDK_NVME_REG_ACQ);

	if (!enable_check(c, aqa, asq, acq)) {
		NVME_LOG(NOTICE, c, "enable refused: CC 0x%x AQA 0x%x ASQ 0x%llx "
			 "ACQ 0x%llx", c->cc, aqa, (unsigned long long)asq,
			 (unsigned long long)acq);
		nvme_fatal(c, "invalid admin queue or CC settings at enable");
		return;
	}
	c->page_size = 4096u << PDK_NVME_CC_MPS(c->cc);
	if (nvme_admin_queues(c, aqa, asq, acq)) {
		nvme_fatal(c, "no memory for the admin queues");
		return;
	}
	transition(c, TR_READY);
}

/*
 * Controller reset (3.7.2): queues deleted, commands dropped, state gone,
 * doorbells back to zero (they live in BAR memory).
 */
static void ctrl_reset(struct nvme_ctrl *c)
{
	if (c->ready && !c->shutdown)
		c->unsafe_shutdowns++;
	memset(c->bar + PDK_NVME_REG_DBS, 0, NVME_DB_STRIDE * (c->cfg.queues + 1u));
	nvme_queues_reset(c);
	nvme_events_reset(c);
	nvme_features_reset(c);
}

static void ctrl_disable(struct nvme_ctrl *c)
{
	nvme_count(&c->st.ctrl_resets);
	ctrl_reset(c);
	transition(c, TR_OFF);
}

static void ctrl_shutdown(struct nvme_ctrl *c)
{
	int rc;

	nvme_count(&c->st.shutdowns);
	c->shutdown = true;
	c->shst_done = false;
	rc = nvme_ns_sync(c);
	if (rc)
		NVME_LOG(ERR, c, "shutdown: syncing the backing file: %s",
			 strerror(-rc));
	transition(c, TR_SHUTDOWN);
}

static void transition_done(struct nvme_ctrl *c)
{
	switch (c->transition) {
	case TR_READY:
		c->ready = true;
		nvme_faults_enabled(c);
		break;
	case TR_OFF:
		c->ready = c->fatal = c->shutdown = c->shst_done = false;
		break;
	case TR_SHUTDOWN:
		c->shst_done = true;
		break;
	}
	c->transition = TR_NONE;
}

/* CC edges and CSTS transitions; > 0 while something is under way. */
static int regs_poll(struct nvme_ctrl *c)
{
	uint32_t cc = pdk_emu_rd32(c->bar, PDK_NVME_REG_CC), old = c->cc;
	int work = 0;

	if (cc != old) {
		c->cc = cc;
		if ((cc & PDK_NVME_CC_EN) && !(old & PDK_NVME_CC_EN))
			ctrl_enable(c);
		else if (!(cc & PDK_NVME_CC_EN) && (old & PDK_NVME_CC_EN))
			ctrl_disable(c);
		else if ((cc & PDK_NVME_CC_SHN_MASK) && !(old & PDK_NVME_CC_SHN_MASK))
			ctrl_shutdown(c);
		work = 1;
	}
	if (c->transition != TR_NONE) {
		if (nvme_now_ns() >= c->deadline)
			transition_done(c);
		work = 1;
	}
	regs_restore(c);
	return work;
}

static int nvme_poll(struct pdk_emu_dev *dev)
{
	struct nvme_ctrl *c = pdk_emu_dev_priv(dev);
	int work = regs_poll(c);

	if (c->ready && !c->fatal && !c->shutdown && c->transition == TR_NONE)
		work += nvme_queues_poll(c);
	return work;
}

static void nvme_bar_write(struct pdk_emu_dev *dev, unsigned bar, uint64_t off,
			   uint32_t len)
{
	(void)len;
	/* a register write through the slow path acts before it completes */
	if (bar == 0 && off < PDK_NVME_REG_DBS)
		regs_poll(pdk_emu_dev_priv(dev));
}

/* Power on, function reset or a client gone: a controller fresh from reset. */
static void nvme_reset(struct pdk_emu_dev *dev)
{
	struct nvme_ctrl *c = pdk_emu_dev_priv(dev);

	c->bar = pdk_emu_bar_mem(dev, 0);
	ctrl_reset(c);
	c->cc = 0;
	c->ready = c->fatal = c->shutdown = c->shst_done = false;
	c->transition = TR_NONE;
	c->power_cycles++;
	regs_restore(c);
}

static int msix_setup(struct pdk_emu_dev *dev, const struct nvme_cfg *cfg)
{
	const char *layout = pdk_emu_dev_knob(dev, "msix");
	/* with msix=shared the table and PBA share one page of BAR0 */
	unsigned max = layout && strcmp(layout, "own") == 0 ? 2048 : 254;

	return pdk_emu_dev_set_msix(dev, PDK_MIN(cfg->queues + 1, max), 0,
				    PDK_EMU_NVME_MSIX_SHARED_OFF,
				    PDK_EMU_NVME_MSIX_OWN_BAR);
}

static void nvme_fini(struct pdk_emu_dev *dev)
{
	struct nvme_ctrl *c = pdk_emu_dev_priv(dev);
	const struct pdk_emu_nvme_stats *s = &c->st;

	/* for tests in other processes that read pdk-emud's log */
	if (s->commands)
		NVME_LOG(NOTICE, c, "%llu commands, %llu errors, %llu DMA errors; "
			 "injected: cfs %llu, stuck %llu, unknown-cid %llu, dup-cid "
			 "%llu, stale-phase %llu, bad-sqhd %llu",
			 (unsigned long long)s->commands, (unsigned long long)s->errors,
			 (unsigned long long)s->dma_errors, (unsigned long long)s->inj_cfs,
			 (unsigned long long)s->inj_stuck,
			 (unsigned long long)s->inj_unknown_cid,
			 (unsigned long long)s->inj_dup_cid,
			 (unsigned long long)s->inj_stale_phase,
			 (unsigned long long)s->inj_bad_sqhd);

	nvme_queues_free(c);
	nvme_ns_close(c);
}

static int nvme_init(struct pdk_emu_dev *dev)
{
	static const struct pdk_emu_pci_ids ids = {
		.vendor = PDK_EMU_NVME_VENDOR, .device = PDK_EMU_NVME_DEVICE,
		.subsys_vendor = PDK_EMU_NVME_VENDOR,
		.subsys = PDK_EMU_NVME_DEVICE, .class_code = PDK_EMU_NVME_CLASS,
		.revision = 1};
	struct nvme_ctrl *c = pdk_emu_dev_priv(dev);
	int rc;

	c->dev = dev;
	c->fd = -1;
	c->temp = NVME_TEMP;
	c->created_ns = nvme_now_ns();
	rc = cfg_read(dev, &c->cfg);
	if (rc == 0)
		rc = nvme_faults_init(c);
	if (rc)
		return rc;
	c->cap = cap_value(&c->cfg);
	c->mdts_bytes = c->cfg.mdts ? 4096ull << c->cfg.mdts : 0;
	pdk_emu_dev_set_ids(dev, &ids);
	rc = pdk_emu_dev_add_bar(dev, 0, NVME_BAR0_SIZE, PDK_EMU_BAR_MEM64);
	if (rc == 0)
		rc = msix_setup(dev, &c->cfg);
	if (rc == 0)
		rc = nvme_queues_alloc(c);
	if (rc == 0)
		rc = nvme_ns_open(c);
	if (rc) /* the framework calls fini only after a successful init */
		nvme_fini(dev);
	return rc;
}

const struct pdk_emu_model emu_model_nvme = {
	.name = "nvme",
	.help = "NVMe 1.4 controller: namespaces in memory or a file, "
		"shadow doorbells, MSI-X per CQ, fault injection",
	.knobs = nvme_knobs,
	.priv_size = sizeof(struct nvme_ctrl),
	.init = nvme_init,
	.fini = nvme_fini,
	.reset = nvme_reset,
	.poll = nvme_poll,
	.bar_write = nvme_bar_write,
	.inject = nvme_inject,
};
