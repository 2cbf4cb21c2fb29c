/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Admin commands (NVMe 1.4 section 5) other than Identify and Get Log Page
 * (nvme_info.c): queue management with the spec's status codes, features,
 * Abort, Asynchronous Event Requests and Doorbell Buffer Config. Each
 * returns a status (PDK_NVME_STATUS form) or NVME_HELD for a command whose
 * completion comes later (an AER).
 */
#include <errno.h>
#include <string.h>

#include "nvme_private.h"

static uint16_t queue_size_check(const struct nvme_ctrl *c, uint32_t cdw10)
{
	uint32_t size = (cdw10 >> 16) + 1;

	if (size < 2 || size > c->cfg.qdepth)
		return NVME_SC_CMD(PDK_NVME_SC_INVALID_QUEUE_SIZE);
	return 0;
}

/* PC = 1 (CAP.CQR), a page-aligned base, the entry size CC asks for. */
static uint16_t queue_mem_check(const struct nvme_ctrl *c, uint32_t cdw11,
				uint64_t base, unsigned es, unsigned want)
{
	if (!(cdw11 & PDK_NVME_QUEUE_PHYS_CONTIG) || base == 0 ||
	    (base & (c->page_size - 1)) || es != want)
		return NVME_SC(PDK_NVME_SC_INVALID_FIELD);
	return 0;
}

/* 5.3 Create I/O Completion Queue */
static uint16_t create_cq(struct nvme_ctrl *c, const struct pdk_nvme_cmd *cmd)
{
	uint16_t qid = (uint16_t)cmd->cdw10, vector = (uint16_t)(cmd->cdw11 >> 16);
	bool ien = cmd->cdw11 & PDK_NVME_CQ_IRQ_ENABLED;
	uint16_t st;

	if (qid == 0 || qid > c->feat.ncq || c->cq[qid])
		return NVME_SC_CMD(PDK_NVME_SC_INVALID_QUEUE_IDENTIFIER);
	st = queue_size_check(c, cmd->cdw10);
	if (st == 0)
		st = queue_mem_check(c, cmd->cdw11, cmd->prp1,
				     PDK_NVME_CC_IOCQES(c->cc), 4);
	if (st == 0 && ien && vector >= pdk_emu_msix_vectors(c->dev))
		st = NVME_SC_CMD(PDK_NVME_SC_INVALID_INTERRUPT_VECTOR);
	if (st == 0 && nvme_cq_add(c, qid, (cmd->cdw10 >> 16) + 1, cmd->prp1, ien,
				   vector))
		st = NVME_SC(PDK_NVME_SC_INTERNAL_ERROR);
	return st;
}

/* 5.4 Create I/O Submission Queue */
static uint16_t create_sq(struct nvme_ctrl *c, const struct pdk_nvme_cmd *cmd)
{
	uint16_t qid = (uint16_t)cmd->cdw10, cqid = (uint16_t)(cmd->cdw11 >> 16);
	uint16_t st;

	if (qid == 0 || qid > c->feat.nsq || c->sq[qid])
		return NVME_SC_CMD(PDK_NVME_SC_INVALID_QUEUE_IDENTIFIER);
	if (cqid == 0 || cqid > c->cfg.queues || c->cq[cqid] == NULL)
		return NVME_SC_CMD(PDK_NVME_SC_COMPLETION_QUEUE_INVALID);
	st = queue_size_check(c, cmd->cdw10);
	if (st == 0)
		st = queue_mem_check(c, cmd->cdw11, cmd->prp1,
				     PDK_NVME_CC_IOSQES(c->cc), 6);
	if (st == 0 && nvme_sq_add(c, qid, (cmd->cdw10 >> 16) + 1, cmd->prp1, cqid))
		st = NVME_SC(PDK_NVME_SC_INTERNAL_ERROR);
	return st;
}

/* 5.6 Delete I/O Submission Queue */
static uint16_t delete_sq(struct nvme_ctrl *c, const struct pdk_nvme_cmd *cmd)
{
	uint16_t qid = (uint16_t)cmd->cdw10;

	if (qid == 0 || qid > c->cfg.queues || c->sq[qid] == NULL)
		return NVME_SC_CMD(PDK_NVME_SC_INVALID_QUEUE_IDENTIFIER);
	nvme_sq_del(c, qid);
	return 0;
}

/* 5.5 Delete I/O Completion Queue: not while an SQ still uses it. */
static uint16_t delete_cq(struct nvme_ctrl *c, const struct pdk_nvme_cmd *cmd)
{
	uint16_t qid = (uint16_t)cmd->cdw10;

	if (qid == 0 || qid > c->cfg.queues || c->cq[qid] == NULL)
		return NVME_SC_CMD(PDK_NVME_SC_INVALID_QUEUE_IDENTIFIER);
	if (c->cq[qid]->nsq)
		return NVME_SC_CMD(PDK_NVME_SC_INVALID_QUEUE_DELETION);
	nvme_cq_del(c, qid);
	return 0;
}

/* ---- features (5.21) ---- */

static void feat_defaults(const struct nvme_ctrl *c, struct nvme_feat *f)
{
	memset(f, 0, sizeof(*f));
	f->temp_over = NVME_WCTEMP;
	f->vwc = 1;
	f->nsq = f->ncq = (uint16_t)c->cfg.queues;
}

void nvme_features_reset(struct nvme_ctrl *c)
{
	feat_defaults(c, &c->feat);
	c->crit_warning = 0;
}

/* SMART temperature warning, and its event when the host asked for it. */
void nvme_temp_check(struct nvme_ctrl *c)
{
	if (c->temp < c->feat.temp_over && c->temp > c->feat.temp_under) {
		c->crit_warning &= (uint8_t)~PDK_NVME_SMART_WARN_TEMPERATURE;
		return;
	}
	c->crit_warning |= PDK_NVME_SMART_WARN_TEMPERATURE;
	if (c->feat.aec & PDK_NVME_AEC_SMART_TEMPERATURE)
		nvme_event(c, PDK_NVME_AER_TYPE_SMART, PDK_NVME_AER_INFO_TEMPERATURE,
			   PDK_NVME_LOG_SMART);
}

/* 5.21.1.4: composite temperature only; THSEL 0 over, 1 under. */
static uint16_t temp_select(uint32_t cdw11, unsigned *thsel)
{
	unsigned tmpsel = (cdw11 >> 16) & 0xf;

	*thsel = (cdw11 >> 20) & 0x3;
	if (tmpsel != 0 || *thsel > 1)
		return NVME_SC(PDK_NVME_SC_INVALID_FIELD);
	return 0;
}

/* 5.21.1.7: granted = asked, up to what the controller has; before any queue. */
static uint16_t set_nqueues(struct nvme_ctrl *c, uint32_t v)
{
	uint32_t nsqr = v & 0xffff, ncqr = v >> 16;

	if (nsqr == 0xffff || ncqr == 0xffff)
		return NVME_SC(PDK_NVME_SC_INVALID_FIELD);
	if (c->io_queues)
		return NVME_SC(PDK_NVME_SC_COMMAND_SEQUENCE_ERROR);
	c->feat.nsq = (uint16_t)PDK_MIN(nsqr + 1, c->cfg.queues);
	c->feat.ncq = (uint16_t)PDK_MIN(ncqr + 1, c->cfg.queues);
	return 0;
}

static uint16_t set_temp(struct nvme_ctrl *c, uint32_t v)
{
	unsigned thsel;
	uint16_t st = temp_select(v, &thsel);

	if (st)
		return st;
	if (thsel)
		c->feat.temp_under = (uint16_t)v;
	else
		c->feat.temp_over = (uint16_t)v;
	nvme_temp_check(c);
	return 0;
}

static uint16_t set_feature(struct nvme_ctrl *c, struct nvme_req *r,
			    const struct pdk_nvme_cmd *cmd)
{
	struct nvme_feat *f = &c->feat;
	uint32_t v = cmd->cdw11;
	uint16_t st = 0;

	if (cmd->cdw10 & (1u << 31)) /* SV: nothing is saveable */
		return NVME_SC_CMD(PDK_NVME_SC_FEATURE_NOT_SAVEABLE);
	switch (cmd->cdw10 & 0xff) {
	case PDK_NVME_FEAT_ARBITRATION:
		f->arbitration = v;
		break;
	case PDK_NVME_FEAT_POWER_MANAGEMENT:
		st = (v & 0x1f) ? NVME_SC(PDK_NVME_SC_INVALID_FIELD) : 0; /* NPSS 0 */
		f->power = st ? f->power : v;
		break;
	case PDK_NVME_FEAT_TEMPERATURE_THRESHOLD:
		return set_temp(c, v);
	case PDK_NVME_FEAT_ERROR_RECOVERY:
		f->err_recovery = v & 0xffff; /* no DULBE: no deallocation */
		break;
	case PDK_NVME_FEAT_VOLATILE_WRITE_CACHE:
		f->vwc = v & 1;
		break;
	case PDK_NVME_FEAT_NUMBER_OF_QUEUES:
		st = set_nqueues(c, v);
		r->cdw0 = (uint32_t)(f->ncq - 1) << 16 | (uint32_t)(f->nsq - 1);
		break;
	case PDK_NVME_FEAT_INTERRUPT_COALESCING:
		f->coalescing = v & 0xffff; /* accepted; every round fires */
		break;
	case PDK_NVME_FEAT_INTERRUPT_VECTOR_CONFIG:
		if ((v & 0xffff) >= pdk_emu_msix_vectors(c->dev))
			st = NVME_SC(PDK_NVME_SC_INVALID_FIELD);
		break;
	case PDK_NVME_FEAT_WRITE_ATOMICITY:
		f->write_atomic = v & 1;
		break;
	case PDK_NVME_FEAT_ASYNC_EVENT_CONFIG:
		f->aec = v & 0x1ff;
		break;
	default:
		st = NVME_SC(PDK_NVME_SC_INVALID_FIELD);
	}
	return st;
}

/* A feature's value from `f` (current or default) into *cdw0. */
static uint16_t feature_value(const struct nvme_ctrl *c, const struct nvme_feat *f,
			      uint8_t fid, uint32_t cdw11, uint32_t *cdw0)
{
	unsigned thsel;

	switch (fid) {
	case PDK_NVME_FEAT_ARBITRATION: *cdw0 = f->arbitration; break;
	case PDK_NVME_FEAT_POWER_MANAGEMENT: *cdw0 = f->power; break;
	case PDK_NVME_FEAT_TEMPERATURE_THRESHOLD:
		if (temp_select(cdw11, &thsel))
			return NVME_SC(PDK_NVME_SC_INVALID_FIELD);
		*cdw0 = thsel ? f->temp_under : f->temp_over;
		break;
	case PDK_NVME_FEAT_ERROR_RECOVERY: *cdw0 = f->err_recovery; break;
	case PDK_NVME_FEAT_VOLATILE_WRITE_CACHE: *cdw0 = f->vwc; break;
	case PDK_NVME_FEAT_NUMBER_OF_QUEUES:
		*cdw0 = (uint32_t)(f->ncq - 1) << 16 | (uint32_t)(f->nsq - 1);
		break;
	case PDK_NVME_FEAT_INTERRUPT_COALESCING: *cdw0 = f->coalescing; break;
	case PDK_NVME_FEAT_INTERRUPT_VECTOR_CONFIG:
		if ((cdw11 & 0xffff) >= pdk_emu_msix_vectors(c->dev))
			return NVME_SC(PDK_NVME_SC_INVALID_FIELD);
		*cdw0 = cdw11 & 0xffff;
		break;
	case PDK_NVME_FEAT_WRITE_ATOMICITY: *cdw0 = f->write_atomic; break;
	case PDK_NVME_FEAT_ASYNC_EVENT_CONFIG: *cdw0 = f->aec; break;
	default:
		return NVME_SC(PDK_NVME_SC_INVALID_FIELD);
	}
	return 0;
}

static uint16_t get_feature(struct nvme_ctrl *c, struct nvme_req *r,
			    const struct pdk_nvme_cmd *cmd)
{
	uint8_t fid = cmd->cdw10 & 0xff;
	unsigned sel = (cmd->cdw10 >> 8) & 0x7;
	struct nvme_feat def;
	uint16_t st;

	switch (sel) {
	case PDK_NVME_FEAT_SEL_CURRENT:
		return feature_value(c, &c->feat, fid, cmd->cdw11, &r->cdw0);
	case PDK_NVME_FEAT_SEL_DEFAULT:
	case PDK_NVME_FEAT_SEL_SAVED: /* nothing saveable: the default */
		feat_defaults(c, &def);
		return feature_value(c, &def, fid, cmd->cdw11, &r->cdw0);
	case PDK_NVME_FEAT_SEL_SUPPORTED:
		st = feature_value(c, &c->feat, fid, cmd->cdw11, &r->cdw0);
		r->cdw0 = st ? 0 : PDK_NVME_FEAT_CAP_CHANGEABLE;
		return st;
	default:
		return NVME_SC(PDK_NVME_SC_INVALID_FIELD);
	}
}

/* ---- Abort (5.1) ---- */

/* CDW0 bit 0: 0 = the command was aborted, 1 = it was not. */
static uint16_t abort_cmd(struct nvme_ctrl *c, struct nvme_req *r,
			  const struct pdk_nvme_cmd *cmd)
{
	struct nvme_req *t = nvme_req_find(c, (uint16_t)cmd->cdw10,
					   (uint16_t)(cmd->cdw10 >> 16));

	r->cdw0 = 1;
	if (t && c->flt.stuck_abort) {
		nvme_complete(c, t, NVME_SC(PDK_NVME_SC_ABORTED_BY_REQUEST));
		nvme_count(&c->st.aborted);
		r->cdw0 = 0;
	}
	return 0;
}

/* ---- asynchronous events (5.2) ---- */

static void events_deliver(struct nvme_ctrl *c)
{
	while (c->naer && c->nevents) {
		struct nvme_req *r = c->aer[0];

		r->cdw0 = c->events[0];
		memmove(&c->aer[0], &c->aer[1], --c->naer * sizeof(c->aer[0]));
		memmove(&c->events[0], &c->events[1], --c->nevents * sizeof(c->events[0]));
		nvme_count(&c->st.aer_events);
		nvme_complete(c, r, 0);
	}
}

/*
 * An event: reported once, then masked until the host reads its log page
 * (5.2.1); queued while no AER is outstanding.
 */
void nvme_event(struct nvme_ctrl *c, uint8_t type, uint8_t info, uint8_t lid)
{
	if (c->event_masked & (1u << type))
		return;
	c->event_masked |= (uint8_t)(1u << type);
	if (c->nevents < NVME_EVENTS_MAX)
		c->events[c->nevents++] = PDK_NVME_AER_CDW0(type, info, lid);
	NVME_LOG(INFO, c, "asynchronous event type %u info 0x%x log 0x%x", type,
		 info, lid);
	if (c->sq[0])
		events_deliver(c);
}

void nvme_events_reset(struct nvme_ctrl *c)
{
	c->naer = c->nevents = 0;
	c->event_masked = 0;
}

static uint16_t aer_cmd(struct nvme_ctrl *c, struct nvme_req *r)
{
	if (c->naer > NVME_AERL)
		return NVME_SC_CMD(PDK_NVME_SC_ASYNC_EVENT_LIMIT_EXCEEDED);
	r->state = REQ_AER;
	c->aer[c->naer++] = r;
	events_deliver(c);
	return NVME_HELD;
}

/* 5.7 Doorbell Buffer Config: two page-aligned buffers. */
static uint16_t dbbuf_cmd(struct nvme_ctrl *c, const struct pdk_nvme_cmd *cmd)
{
	if (!c->cfg.shadow_db)
		return NVME_SC(PDK_NVME_SC_INVALID_OPCODE);
	if (cmd->prp1 == 0 || cmd->prp2 == 0 ||
	    ((cmd->prp1 | cmd->prp2) & (c->page_size - 1)))
		return NVME_SC(PDK_NVME_SC_INVALID_FIELD);
	nvme_dbbuf_set(c, cmd->prp1, cmd->prp2);
	return 0;
}

uint16_t nvme_admin_exec(struct nvme_ctrl *c, struct nvme_req *r,
			 const struct pdk_nvme_cmd *cmd)
{
	/* no fused operations, and SGLs are not for admin commands */
	if (cmd->flags & (PDK_NVME_CMD_FUSE_MASK | PDK_NVME_CMD_PSDT_MASK))
		return NVME_SC(PDK_NVME_SC_INVALID_FIELD);
	switch (cmd->opc) {
	case PDK_NVME_OPC_DELETE_IO_SQ: return delete_sq(c, cmd);
	case PDK_NVME_OPC_CREATE_IO_SQ: return create_sq(c, cmd);
	case PDK_NVME_OPC_GET_LOG_PAGE: return nvme_get_log_page(c, cmd);
	case PDK_NVME_OPC_DELETE_IO_CQ: return delete_cq(c, cmd);
	case PDK_NVME_OPC_CREATE_IO_CQ: return create_cq(c, cmd);
	case PDK_NVME_OPC_IDENTIFY: return nvme_identify(c, cmd);
	case PDK_NVME_OPC_ABORT: return abort_cmd(c, r, cmd);
	case PDK_NVME_OPC_SET_FEATURES: return set_feature(c, r, cmd);
	case PDK_NVME_OPC_GET_FEATURES: return get_feature(c, r, cmd);
	case PDK_NVME_OPC_ASYNC_EVENT_REQUEST: return aer_cmd(c, r);
	case PDK_NVME_OPC_DOORBELL_BUFFER_CONFIG: return dbbuf_cmd(c, cmd);
	default: return NVME_SC(PDK_NVME_SC_INVALID_OPCODE);
	}
}
