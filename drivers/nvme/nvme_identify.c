/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What the driver believes of CAP, Identify Controller and Identify
 * Namespace. Pure functions over data the device wrote: every shift is
 * bounded, every count clamped, and what cannot work is refused with a
 * reason the log can show (the unit tests and a fuzz target feed them
 * hostile values).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "nvme_internal.h"

#define WHY(...) (snprintf(why, whylen, __VA_ARGS__), -ENOTSUP)

int nvme_cap_parse(uint64_t cap, uint32_t host_page, struct nvme_ctrlr_limits *lim,
		   char *why, size_t whylen)
{
	uint32_t mqes = PDK_NVME_CAP_MQES(cap) + 1;

	if (cap == UINT64_MAX) {
		snprintf(why, whylen, "CAP reads all-ones: the device is gone");
		return -ENODEV;
	}
	if (!(PDK_NVME_CAP_CSS(cap) & PDK_NVME_CAP_CSS_NVM))
		return WHY("the controller lacks the NVM command set (CAP.CSS 0x%x)",
			   PDK_NVME_CAP_CSS(cap));
	if (mqes < 2)
		return WHY("CAP.MQES is 0: a queue of one entry cannot hold a command");
	if (PDK_NVME_CAP_MPSMAX(cap) < PDK_NVME_CAP_MPSMIN(cap))
		return WHY("CAP.MPSMAX (%u) is below CAP.MPSMIN (%u)", PDK_NVME_CAP_MPSMAX(cap),
			   PDK_NVME_CAP_MPSMIN(cap));
	lim->mps_shift = 12 + PDK_NVME_CAP_MPSMIN(cap);
	lim->page_size = 1u << lim->mps_shift;
	if (lim->page_size > host_page)
		return WHY("the controller's smallest memory page (%u KiB, CAP.MPSMIN) is larger "
			   "than the host page (%u KiB)", lim->page_size >> 10, host_page >> 10);
	lim->entries = PDK_MIN(mqes, NVME_MAX_QUEUE_ENTRIES);
	lim->dstrd = PDK_NVME_CAP_DSTRD(cap);
	lim->ready_ms = PDK_MAX(PDK_NVME_CAP_TO(cap), 1u) * 500;
	return 0;
}

/* MDTS is a power of two in units of the minimum memory page; 0 means no
 * limit. The driver's own limit (one PRP list page) applies anyway. */
static uint32_t max_xfer(uint8_t mdts, uint32_t mps_shift)
{
	uint32_t page = 1u << mps_shift;
	uint64_t prp_limit = (uint64_t)page * (page / 8);
	uint64_t lim = PDK_MIN((uint64_t)NVME_MAX_XFER, prp_limit);

	if (mdts == 0 || mps_shift + mdts >= 32)
		return (uint32_t)lim;
	return (uint32_t)PDK_MIN(lim, 1ull << (mps_shift + mdts));
}

/* Entry sizes: bits 3:0 the required size, 7:4 the largest (log2); 0
 * means the field is not reported (older controllers). */
static bool entry_size_ok(uint8_t es, unsigned want)
{
	return es == 0 || ((es & 0xfu) <= want && (es >> 4) >= want);
}

int nvme_cdata_parse(const struct pdk_nvme_ctrlr_data *cd, struct nvme_ctrlr_limits *lim,
		     char *why, size_t whylen)
{
	if (!entry_size_ok(cd->sqes, 6))
		return WHY("submission queue entries of 64 bytes are outside the controller's "
			   "range (SQES 0x%02x)", cd->sqes);
	if (!entry_size_ok(cd->cqes, 4))
		return WHY("completion queue entries of 16 bytes are outside the controller's "
			   "range (CQES 0x%02x)", cd->cqes);
	lim->max_xfer = max_xfer(cd->mdts, lim->mps_shift);
	lim->max_aers = PDK_MIN((uint32_t)cd->aerl + 1, NVME_MAX_AERS);
	lim->max_aborts = PDK_MIN((uint32_t)cd->acl + 1, 4u);
	lim->nn = cd->nn;
	return 0;
}

int nvme_ns_parse(const struct pdk_nvme_ns_data *nd, uint32_t xfer, struct nvme_ns_geom *g,
		  char *why, size_t whylen)
{
	unsigned idx = PDK_NVME_FLBAS_INDEX(nd->flbas);
	struct pdk_nvme_lbaf fmt, *f = &fmt;

	if (nd->nsze == 0) {
		snprintf(why, whylen, "inactive (size 0)");
		return -ENOENT;
	}
	if (idx > nd->nlbaf)
		return WHY("LBA format %u is beyond the %u formats it lists", idx,
			   nd->nlbaf + 1u);
	memcpy(&fmt, (const uint8_t *)nd + offsetof(struct pdk_nvme_ns_data, lbaf) +
		     idx * sizeof(fmt), sizeof(fmt));
	if (f->lbads < 9 || f->lbads > 16)
		return WHY("LBA data size 2^%u bytes is not supported (LBADS must be 9..16, "
			   "512 B to 64 KiB)", f->lbads);
	if (f->ms != 0)
		return WHY("LBA format %u carries %u bytes of metadata per block, which this "
			   "driver does not support; format the namespace without metadata",
			   idx, f->ms);
	if (nd->nsze > (UINT64_MAX >> f->lbads))
		return WHY("size of %llu blocks overflows 64 bits of bytes",
			   (unsigned long long)nd->nsze);
	if (xfer >> f->lbads == 0)
		return WHY("a block (%u bytes) is larger than a transfer (%u bytes)",
			   1u << f->lbads, xfer);
	g->nsze = nd->nsze;
	g->lba_shift = f->lbads;
	g->max_lbas = PDK_MIN(xfer >> f->lbads, PDK_NVME_IO_NLB_MAX);
	return 0;
}

uint32_t nvme_ns_list_parse(const uint32_t *list, uint32_t n, uint32_t nn, uint32_t *out,
			    uint32_t max)
{
	uint32_t prev = 0, k = 0;

	for (uint32_t i = 0; i < n && k < max; i++) {
		uint32_t id = list[i];

		if (id == 0)
			break;
		/* ascending and within NN, as 5.15.2.4 says; skip the rest */
		if (id <= prev || id > nn || id == PDK_NVME_NSID_ALL)
			continue;
		out[k++] = id;
		prev = id;
	}
	return k;
}

void nvme_str_clean(char *out, const char *in, size_t inlen)
{
	size_t n = 0;

	for (size_t i = 0; i < inlen && in[i] != '\0'; i++) {
		unsigned char ch = (unsigned char)in[i];

		out[n++] = ch >= 0x20 && ch < 0x7f ? (char)ch : '?';
	}
	while (n > 0 && out[n - 1] == ' ')
		n--;
	out[n] = '\0';
}

/* ------------------------------------------------------------ status -- */

struct status_name {
	uint16_t sct, sc;
	const char *name;
};

static const struct status_name status_names[] = {
	{0, 0x00, "SUCCESS"},
	{0, 0x01, "INVALID OPCODE"},
	{0, 0x02, "INVALID FIELD"},
	{0, 0x03, "COMMAND ID CONFLICT"},
	{0, 0x04, "DATA TRANSFER ERROR"},
	{0, 0x05, "ABORTED - POWER LOSS"},
	{0, 0x06, "INTERNAL ERROR"},
	{0, 0x07, "ABORTED BY REQUEST"},
	{0, 0x08, "ABORTED - SQ DELETION"},
	{0, 0x0b, "INVALID NAMESPACE OR FORMAT"},
	{0, 0x13, "INVALID PRP OFFSET"},
	{0, 0x80, "LBA OUT OF RANGE"},
	{0, 0x81, "CAPACITY EXCEEDED"},
	{0, 0x82, "NAMESPACE NOT READY"},
	{1, 0x00, "COMPLETION QUEUE INVALID"},
	{1, 0x01, "INVALID QUEUE IDENTIFIER"},
	{1, 0x02, "INVALID QUEUE SIZE"},
	{1, 0x03, "ABORT COMMAND LIMIT EXCEEDED"},
	{1, 0x05, "ASYNC EVENT REQUEST LIMIT EXCEEDED"},
	{1, 0x08, "INVALID INTERRUPT VECTOR"},
	{1, 0x09, "INVALID LOG PAGE"},
	{1, 0x0c, "INVALID QUEUE DELETION"},
	{2, 0x80, "WRITE FAULT"},
	{2, 0x81, "UNRECOVERED READ ERROR"},
	{3, 0x00, "INTERNAL PATH ERROR"},
	{3, 0x60, "CONTROLLER PATHING ERROR"},
	{3, 0x70, "HOST PATHING ERROR (controller gone)"},
	{3, 0x71, "ABORTED BY HOST"},
};

const char *pdk_nvme_status_str(uint16_t status)
{
	uint16_t sct = (uint16_t)PDK_NVME_CPL_SCT(status), sc = (uint16_t)PDK_NVME_CPL_SC(status);

	for (size_t i = 0; i < PDK_DIM(status_names); i++)
		if (status_names[i].sct == sct && status_names[i].sc == sc)
			return status_names[i].name;
	return "?";
}
