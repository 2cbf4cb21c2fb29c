/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the controller tells about itself: Identify (5.15: controller,
 * namespace, active namespace list, namespace identification
 * descriptors) and Get Log Page (5.14: error information, SMART / health
 * with counters that move, firmware slots). The data is built in a 4 KiB
 * buffer and moved through the command's PRPs.
 */
#include <stdio.h>
#include <string.h>

#include "nvme_private.h"

#define LOG_MAX_BYTES (16u << 20) /* Get Log Page without an MDTS */

/* Identify strings are space padded, not NUL terminated. */
static void pad(char *dst, size_t n, const char *src)
{
	size_t len = strlen(src);

	memset(dst, ' ', n);
	memcpy(dst, src, PDK_MIN(len, n));
}

static void id_ctrl(const struct nvme_ctrl *c, struct pdk_nvme_ctrlr_data *d)
{
	d->vid = d->ssvid = PDK_EMU_NVME_VENDOR;
	pad(d->sn, sizeof(d->sn), c->cfg.serial);
	pad(d->mn, sizeof(d->mn), c->cfg.model);
	pad(d->fr, sizeof(d->fr), "1.0");
	d->rab = 6;
	d->mdts = (uint8_t)c->cfg.mdts; /* in units of CAP.MPSMIN (4 KiB) */
	d->cntlid = 1;
	d->ver = 0x00010400;
	d->cntrltype = 1; /* I/O controller */
	d->oacs = c->cfg.shadow_db ? PDK_NVME_OACS_DBBUF : 0;
	d->acl = NVME_ACL;
	d->aerl = NVME_AERL;
	d->frmw = 0x3; /* one slot, read-only */
	d->lpa = PDK_NVME_LPA_EXTENDED;
	d->elpe = NVME_ELPE;
	d->wctemp = NVME_WCTEMP;
	d->cctemp = NVME_CCTEMP;
	d->tnvmcap[0] = c->cfg.nns * c->cfg.ns_size;
	d->sqes = 0x66; /* 64-byte entries, required and max */
	d->cqes = 0x44;
	d->nn = c->cfg.nns;
	d->oncs = PDK_NVME_ONCS_WRITE_ZEROES;
	d->vwc = PDK_NVME_VWC_PRESENT | PDK_NVME_VWC_FLUSH_BROADCAST;
	snprintf(d->subnqn, sizeof(d->subnqn), "nqn.2019-08.org.pdk:emu:%s",
		 c->cfg.serial);
	d->psd[0].mp = 2500; /* 25 W, in 0.01 W */
}

/* A stable NGUID: the serial number folded in, then the NSID. */
static void nguid(const struct nvme_ctrl *c, uint32_t nsid, uint8_t out[16])
{
	uint64_t h = 0xcbf29ce484222325ull; /* FNV-1a */

	for (const char *p = c->cfg.serial; *p; p++)
		h = (h ^ (uint8_t)*p) * 0x100000001b3ull;
	memcpy(out, &h, 8);
	memcpy(out + 8, "PDK", 3);
	out[11] = 0;
	memcpy(out + 12, &nsid, 4);
}

/* Both LBA formats are listed; the `lba` knob picks the one in use. */
static void id_ns(const struct nvme_ctrl *c, uint32_t nsid,
		  struct pdk_nvme_ns_data *d)
{
	uint64_t nlba = c->ns[nsid - 1].nlba;

	d->nsze = d->ncap = d->nuse = nlba;
	d->nlbaf = 1;
	d->flbas = c->cfg.lbads == 12 ? 1 : 0;
	d->lbaf[0] = (struct pdk_nvme_lbaf){.lbads = 9, .rp = 2};
	d->lbaf[1] = (struct pdk_nvme_lbaf){.lbads = 12, .rp = 0};
	d->nvmcap[0] = c->cfg.ns_size;
	nguid(c, nsid, d->nguid);
	memcpy(d->eui64, d->nguid, 4);
	memcpy(d->eui64 + 4, &nsid, 4);
}

static bool nsid_ok(const struct nvme_ctrl *c, uint32_t nsid)
{
	return nsid >= 1 && nsid <= c->cfg.nns;
}

/* 5.15 Identify: CNS 00h, 01h, 02h, 03h. */
uint16_t nvme_identify(struct nvme_ctrl *c, const struct pdk_nvme_cmd *cmd)
{
	uint32_t nsid = cmd->nsid, *list = (uint32_t *)(void *)c->buf;
	unsigned n = 0;

	memset(c->buf, 0, 4096);
	switch (cmd->cdw10 & 0xff) {
	case PDK_NVME_CNS_CTRLR:
		id_ctrl(c, (struct pdk_nvme_ctrlr_data *)(void *)c->buf);
		break;
	case PDK_NVME_CNS_NS:
		if (!nsid_ok(c, nsid))
			return NVME_SC(PDK_NVME_SC_INVALID_NAMESPACE);
		id_ns(c, nsid, (struct pdk_nvme_ns_data *)(void *)c->buf);
		break;
	case PDK_NVME_CNS_ACTIVE_NS_LIST:
		if (nsid >= 0xfffffffeu)
			return NVME_SC(PDK_NVME_SC_INVALID_NAMESPACE);
		for (uint32_t id = nsid + 1; id <= c->cfg.nns; id++)
			list[n++] = id;
		break;
	case PDK_NVME_CNS_NS_ID_DESC_LIST:
		if (!nsid_ok(c, nsid))
			return NVME_SC(PDK_NVME_SC_INVALID_NAMESPACE);
		c->buf[0] = PDK_NVME_NIDT_NGUID;
		c->buf[1] = 16;
		nguid(c, nsid, c->buf + 4);
		break;
	default:
		return NVME_SC(PDK_NVME_SC_INVALID_FIELD);
	}
	return nvme_prp_xfer(c, cmd, c->buf, 4096, 4096, true);
}

/* ---- logs ---- */

/* A failed command in the error log (5.14.1.1), newest entry last written. */
void nvme_error_record(struct nvme_ctrl *c, const struct nvme_req *r)
{
	struct pdk_nvme_error_log *e = &c->errlog[c->err_count % (NVME_ELPE + 1)];

	memset(e, 0, sizeof(*e));
	e->error_count = ++c->err_count;
	e->sqid = r->sq->qid;
	e->cid = r->cid;
	e->status = r->status; /* bits 15:1; bit 0 (phase) left clear */
	e->param_error_location = 0xffff;
}

/* Newest first, as many as there are. */
static uint32_t log_error(const struct nvme_ctrl *c, uint8_t *buf)
{
	const unsigned n = NVME_ELPE + 1;
	uint64_t have = PDK_MIN(c->err_count, (uint64_t)n);

	for (uint64_t i = 0; i < have; i++)
		memcpy(buf + i * 64, &c->errlog[(c->err_count - 1 - i) % n], 64);
	return n * 64;
}

/* 128-bit SMART counters: the low half is enough here. */
static uint32_t log_smart(const struct nvme_ctrl *c, struct pdk_nvme_smart_log *s)
{
	s->critical_warning = c->crit_warning;
	s->temperature = c->temp;
	s->available_spare = 100;
	s->available_spare_threshold = 10;
	/* data units: thousands of 512-byte units, rounded up */
	s->data_units_read[0] = (c->bytes_read / 512 + 999) / 1000;
	s->data_units_written[0] = (c->bytes_written / 512 + 999) / 1000;
	s->host_read_commands[0] = c->reads;
	s->host_write_commands[0] = c->writes;
	s->power_cycles[0] = c->power_cycles;
	s->power_on_hours[0] = (nvme_now_ns() - c->created_ns) / 3600000000000ull;
	s->unsafe_shutdowns[0] = c->unsafe_shutdowns;
	s->num_error_info_log_entries[0] = c->err_count;
	s->temp_sensor[0] = c->temp;
	return sizeof(*s);
}

static uint32_t log_fw(struct pdk_nvme_fw_log *f)
{
	f->afi = 1;
	pad(f->frs[0], sizeof(f->frs[0]), "1.0");
	return sizeof(*f);
}

/* The log into c->buf; its size, or 0 when there is no such log. */
static uint32_t log_build(struct nvme_ctrl *c, uint8_t lid)
{
	memset(c->buf, 0, 4096);
	switch (lid) {
	case PDK_NVME_LOG_ERROR:
		return log_error(c, c->buf);
	case PDK_NVME_LOG_SMART:
		return log_smart(c, (struct pdk_nvme_smart_log *)(void *)c->buf);
	case PDK_NVME_LOG_FIRMWARE_SLOT:
		return log_fw((struct pdk_nvme_fw_log *)(void *)c->buf);
	default:
		return 0;
	}
}

/*
 * 5.14 Get Log Page: NUMD dwords from offset LPO; bytes past the end of
 * the log read as zeroes. Reading a log without RAE unmasks its event.
 */
uint16_t nvme_get_log_page(struct nvme_ctrl *c, const struct pdk_nvme_cmd *cmd)
{
	uint8_t lid = cmd->cdw10 & 0xff;
	uint64_t numd = ((uint64_t)(cmd->cdw11 & 0xffff) << 16 | cmd->cdw10 >> 16) + 1;
	uint64_t off = cmd->cdw12 | (uint64_t)cmd->cdw13 << 32, len = numd * 4;
	uint32_t size;
	uint16_t st;

	if (lid == PDK_NVME_LOG_SMART && cmd->nsid && cmd->nsid != PDK_NVME_NSID_ALL)
		return NVME_SC(PDK_NVME_SC_INVALID_FIELD); /* LPA bit 0 clear */
	size = log_build(c, lid);
	if (size == 0)
		return NVME_SC_CMD(PDK_NVME_SC_INVALID_LOG_PAGE);
	if ((off & 3) || off > size ||
	    len > (c->mdts_bytes ? c->mdts_bytes : LOG_MAX_BYTES))
		return NVME_SC(PDK_NVME_SC_INVALID_FIELD);
	st = nvme_prp_xfer(c, cmd, c->buf + off, len, size - off, true);
	if (st == 0 && !(cmd->cdw10 & (1u << 15))) {
		if (lid == PDK_NVME_LOG_ERROR)
			c->event_masked &= (uint8_t)~(1u << PDK_NVME_AER_TYPE_ERROR);
		if (lid == PDK_NVME_LOG_SMART)
			c->event_masked &= (uint8_t)~(1u << PDK_NVME_AER_TYPE_SMART);
	}
	return st;
}
