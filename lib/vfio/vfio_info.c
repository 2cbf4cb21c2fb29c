/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * VFIO info replies and their capability chains, parsed as untrusted data
 * (the kernel's today, a vfio-user server's tomorrow: same layout).
 *
 * A chain starts at cap_offset and follows header.next until 0. Every
 * offset must lie past the fixed struct and inside the reply, with room for
 * the header and for the capability's own fields; the walk takes at most as
 * many steps as headers fit in the reply, so a cycle ends it. Each parsed
 * capability's version is checked; unknown versions are ignored (logged),
 * never guessed at.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include <linux/vfio.h>

#include "vfio_private.h"

/* The layouts we parse, as the uapi header defines them. */
static_assert(sizeof(struct vfio_info_cap_header) == 8, "vfio cap header");
static_assert(sizeof(struct vfio_region_info) == 32, "vfio_region_info");
static_assert(sizeof(struct vfio_region_info_cap_sparse_mmap) == 16, "sparse cap");
static_assert(sizeof(struct vfio_region_sparse_mmap_area) == 16, "sparse area");
static_assert(sizeof(struct vfio_region_info_cap_type) == 16, "type cap");
static_assert(sizeof(struct vfio_iommu_type1_info) == 24, "vfio_iommu_type1_info");
static_assert(sizeof(struct vfio_iommu_type1_info_cap_iova_range) == 16, "iova cap");
static_assert(sizeof(struct vfio_iova_range) == 16, "iova range");
static_assert(sizeof(struct vfio_iommu_type1_info_dma_avail) == 12, "dma avail cap");

static int fail(char *err, size_t errlen, const char *fmt, ...) PDK_FORMAT(3, 4);
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EPROTO;
}

int vfio_cap_walk(const void *buf, uint32_t len, uint32_t fixed, uint32_t first,
		  vfio_cap_fn fn, void *arg, char *err, size_t errlen)
{
	const size_t hdr = sizeof(struct vfio_info_cap_header);
	uint32_t off = first, steps = 0, max_steps;

	if (len < fixed)
		return fail(err, errlen, "reply of %u bytes is shorter than its fixed "
			    "%u-byte struct", len, fixed);
	max_steps = (uint32_t)((len - fixed) / hdr);
	while (off != 0) {
		struct vfio_info_cap_header h;
		int rc;

		if (off < fixed)
			return fail(err, errlen, "capability offset %u is inside the fixed "
				    "%u-byte struct", off, fixed);
		if (off >= len)
			return fail(err, errlen, "capability offset %u is past argsz %u",
				    off, len);
		if (len - off < hdr)
			return fail(err, errlen, "capability header at offset %u is cut "
				    "off by argsz %u", off, len);
		if (steps++ >= max_steps)
			return fail(err, errlen, "capability chain does not end after %u "
				    "steps (a cycle)", max_steps);
		memcpy(&h, (const uint8_t *)buf + off, hdr);
		rc = fn ? fn(buf, len, off, h.id, h.version, arg) : 0;
		if (rc)
			return rc;
		off = h.next;
	}
	return 0;
}

struct parse_ctx {
	void *out;
	const char *what;     /* "region" or "IOMMU": for messages */
	char *err;
	size_t errlen;
};

/* The capability at off has `need` bytes inside the reply. */
static int need(const struct parse_ctx *c, uint32_t len, uint32_t off, uint64_t need_len,
		uint16_t id)
{
	if ((uint64_t)len - off < need_len)
		return fail(c->err, c->errlen, "%s capability %u at offset %u needs %" PRIu64
			    " bytes but argsz %u leaves %u", c->what, id, off, need_len, len,
			    len - off);
	return 0;
}

static bool version_ok(const struct parse_ctx *c, uint16_t id, uint16_t version)
{
	if (version == 1)
		return true;
	PDK_LOG(NOTICE, VFIO_LOG, "%s capability %u has version %u, this build "
		"understands version 1: ignored", c->what, id, version);
	return false;
}

static int parse_sparse(const struct parse_ctx *c, const uint8_t *buf, uint32_t len,
			uint32_t off, uint16_t version)
{
	struct pdk_vfio_region *r = c->out;
	struct vfio_region_info_cap_sparse_mmap cap;
	int rc = need(c, len, off, sizeof(cap), VFIO_REGION_INFO_CAP_SPARSE_MMAP);

	if (rc)
		return rc;
	if (r->flags & (PDK_VFIO_REGION_SPARSE | PDK_VFIO_REGION_SPARSE_BAD))
		return fail(c->err, c->errlen, "two sparse-mmap capabilities");
	if (!version_ok(c, VFIO_REGION_INFO_CAP_SPARSE_MMAP, version)) {
		r->flags |= PDK_VFIO_REGION_SPARSE_BAD; /* unknown layout: map nothing */
		return 0;
	}
	memcpy(&cap, buf + off, sizeof(cap));
	rc = need(c, len, off, sizeof(cap) + (uint64_t)cap.nr_areas * 16,
		  VFIO_REGION_INFO_CAP_SPARSE_MMAP);
	if (rc)
		return rc;
	if (cap.nr_areas > PDK_VFIO_MAX_SPARSE) {
		PDK_LOG(WARNING, VFIO_LOG, "region %u reports %u sparse mmap areas, more than "
			"the %d this build keeps: the region is used without mapping",
			r->index, cap.nr_areas, PDK_VFIO_MAX_SPARSE);
		r->flags |= PDK_VFIO_REGION_SPARSE_BAD;
		return 0;
	}
	r->flags |= PDK_VFIO_REGION_SPARSE;
	r->nr_areas = cap.nr_areas;
	memcpy(r->areas, buf + off + sizeof(cap), (size_t)cap.nr_areas * 16);
	return 0;
}

static int region_cap(const uint8_t *buf, uint32_t len, uint32_t off, uint16_t id,
		      uint16_t version, void *arg)
{
	const struct parse_ctx *c = arg;
	struct pdk_vfio_region *r = c->out;
	struct vfio_region_info_cap_type t;
	int rc;

	if (id < 32)
		r->cap_ids |= 1u << id;
	switch (id) {
	case VFIO_REGION_INFO_CAP_SPARSE_MMAP:
		return parse_sparse(c, buf, len, off, version);
	case VFIO_REGION_INFO_CAP_MSIX_MAPPABLE:
		if (version_ok(c, id, version))
			r->flags |= PDK_VFIO_REGION_MSIX_MAPPABLE;
		return 0;
	case VFIO_REGION_INFO_CAP_TYPE:
		if ((rc = need(c, len, off, sizeof(t), id)) != 0)
			return rc;
		if (version_ok(c, id, version)) {
			memcpy(&t, buf + off, sizeof(t));
			r->type = t.type;
			r->subtype = t.subtype;
			r->flags |= PDK_VFIO_REGION_TYPE;
		}
		return 0;
	default:
		return 0; /* not ours to interpret */
	}
}

int vfio_region_parse(const void *buf, uint32_t len, struct pdk_vfio_region *out,
		      char *err, size_t errlen)
{
	struct parse_ctx c = {.out = out, .what = "region", .err = err, .errlen = errlen};
	struct vfio_region_info info;

	if (len < sizeof(info))
		return fail(err, errlen, "region info reply of %u bytes is shorter than "
			    "%zu", len, sizeof(info));
	memcpy(&info, buf, sizeof(info));
	memset(out, 0, sizeof(*out));
	out->index = info.index;
	out->size = info.size;
	out->offset = info.offset;
	out->fd = -1;
	if (info.flags & VFIO_REGION_INFO_FLAG_READ)
		out->flags |= PDK_VFIO_REGION_READ;
	if (info.flags & VFIO_REGION_INFO_FLAG_WRITE)
		out->flags |= PDK_VFIO_REGION_WRITE;
	if (info.flags & VFIO_REGION_INFO_FLAG_MMAP)
		out->flags |= PDK_VFIO_REGION_MMAP;
	if (!(info.flags & VFIO_REGION_INFO_FLAG_CAPS))
		return 0;
	return vfio_cap_walk(buf, len, sizeof(info), info.cap_offset, region_cap, &c,
			     err, errlen);
}

static void sort_ranges(struct pdk_vfio_iommu_info *info)
{
	for (uint32_t i = 1; i < info->nr_ranges; i++) {
		struct pdk_vfio_iova_range r = info->ranges[i];
		uint32_t j = i;

		for (; j > 0 && info->ranges[j - 1].start > r.start; j--)
			info->ranges[j] = info->ranges[j - 1];
		info->ranges[j] = r;
	}
}

static int parse_iova_ranges(const struct parse_ctx *c, const uint8_t *buf, uint32_t len,
			     uint32_t off)
{
	struct pdk_vfio_iommu_info *info = c->out;
	struct vfio_iommu_type1_info_cap_iova_range cap;
	int rc = need(c, len, off, sizeof(cap), VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE);

	if (rc)
		return rc;
	memcpy(&cap, buf + off, sizeof(cap));
	rc = need(c, len, off, sizeof(cap) + (uint64_t)cap.nr_iovas * 16,
		  VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE);
	if (rc)
		return rc;
	if (cap.nr_iovas > PDK_VFIO_MAX_IOVA_RANGES)
		PDK_LOG(INFO, VFIO_LOG, "the IOMMU reports %u IOVA ranges; using the first %d",
			cap.nr_iovas, PDK_VFIO_MAX_IOVA_RANGES);
	info->nr_ranges = 0;
	for (uint32_t i = 0; i < cap.nr_iovas && i < PDK_VFIO_MAX_IOVA_RANGES; i++) {
		struct vfio_iova_range r;

		memcpy(&r, buf + off + sizeof(cap) + (size_t)i * 16, sizeof(r));
		if (r.start > r.end)
			return fail(c->err, c->errlen, "IOVA range %u is backwards: "
				    "0x%" PRIx64 "-0x%" PRIx64, i, (uint64_t)r.start,
				    (uint64_t)r.end);
		info->ranges[info->nr_ranges++] = (struct pdk_vfio_iova_range){r.start, r.end};
	}
	info->ranges_known = true;
	sort_ranges(info);
	return 0;
}

static int iommu_cap(const uint8_t *buf, uint32_t len, uint32_t off, uint16_t id,
		     uint16_t version, void *arg)
{
	const struct parse_ctx *c = arg;
	struct pdk_vfio_iommu_info *info = c->out;
	struct vfio_iommu_type1_info_dma_avail avail;
	int rc;

	switch (id) {
	case VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE:
		return version_ok(c, id, version) ? parse_iova_ranges(c, buf, len, off) : 0;
	case VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL:
		if ((rc = need(c, len, off, sizeof(avail), id)) != 0)
			return rc;
		if (version_ok(c, id, version)) {
			memcpy(&avail, buf + off, sizeof(avail));
			info->dma_avail = avail.avail;
		}
		return 0;
	default:
		return 0;
	}
}

int vfio_iommu_parse(const void *buf, uint32_t len, struct pdk_vfio_iommu_info *out,
		     char *err, size_t errlen)
{
	struct parse_ctx c = {.out = out, .what = "IOMMU", .err = err, .errlen = errlen};
	struct vfio_iommu_type1_info info = {0};

	memset(out, 0, sizeof(*out));
	out->dma_avail = -1;
	/* kernels before the capability chain return only the first 16 bytes */
	if (len < offsetof(struct vfio_iommu_type1_info, cap_offset))
		return fail(err, errlen, "IOMMU info reply of %u bytes is too short", len);
	memcpy(&info, buf, PDK_MIN((size_t)len, sizeof(info)));
	if (info.flags & VFIO_IOMMU_INFO_PGSIZES)
		out->pgsizes = info.iova_pgsizes;
	if (!(info.flags & VFIO_IOMMU_INFO_CAPS) || len < sizeof(info))
		return 0;
	return vfio_cap_walk(buf, len, sizeof(info), info.cap_offset, iommu_cap, &c,
			     err, errlen);
}

uint32_t vfio_irq_flags(uint32_t f)
{
	return (f & VFIO_IRQ_INFO_EVENTFD ? PDK_VFIO_IRQ_EVENTFD : 0) |
	       (f & VFIO_IRQ_INFO_MASKABLE ? PDK_VFIO_IRQ_MASKABLE : 0) |
	       (f & VFIO_IRQ_INFO_AUTOMASKED ? PDK_VFIO_IRQ_AUTOMASKED : 0) |
	       (f & VFIO_IRQ_INFO_NORESIZE ? PDK_VFIO_IRQ_NORESIZE : 0);
}
