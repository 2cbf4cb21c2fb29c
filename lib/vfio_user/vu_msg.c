/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Payload encoders and decoders. The payload buffer of a received message
 * is only byte-aligned as far as we know, so fixed parts are copied out
 * with memcpy before any field is read.
 */
#include <errno.h>
#include <string.h>

#include "pdk_vfio_user.h"

/* Reasonable ceilings for counts a peer reports. */
#define REGIONS_MAX 64
#define IRQS_MAX 64
#define IRQ_COUNT_MAX 65536

static bool wraps(uint64_t base, uint64_t len)
{
	return base + len < base;
}

/* The fixed part of a payload with no fds: at least `size` bytes. */
static int fixed_part(const struct pdk_vfio_user_msg *m, void *out, size_t size)
{
	if (m->nfds || m->fds_dropped)
		return -EBADF;
	if (m->len < size)
		return -EINVAL;
	memcpy(out, m->payload, size);
	return 0;
}

int pdk_vfio_user_version_encode(void *buf, size_t size, uint16_t major,
				 uint16_t minor,
				 const struct pdk_vfio_user_caps *c)
{
	struct vfio_user_version v = {.major = major, .minor = minor};
	int n;

	if (size < sizeof(v) + 1)
		return -ENOSPC;
	memcpy(buf, &v, sizeof(v));
	n = pdk_vfio_user_caps_write(c, (char *)buf + sizeof(v),
				     PDK_MIN(size - sizeof(v),
					     (size_t)PDK_VFIO_USER_JSON_MAX));
	if (n < 0)
		return n;
	return (int)sizeof(v) + n + 1; /* the NUL travels too */
}

int pdk_vfio_user_version_decode(const struct pdk_vfio_user_msg *m,
				 uint16_t *major, uint16_t *minor,
				 struct pdk_vfio_user_caps *c)
{
	struct vfio_user_version v;
	const char *json;
	size_t len;

	if (m->len < sizeof(v) || m->nfds || m->fds_dropped)
		return -EINVAL;
	memcpy(&v, m->payload, sizeof(v));
	pdk_vfio_user_caps_init(c);
	json = (const char *)m->payload + sizeof(v);
	len = m->len - sizeof(v);
	if (len > PDK_VFIO_USER_JSON_MAX)
		return -E2BIG;
	/* The JSON ends at its NUL; peers that omit it are tolerated. */
	const char *nul = memchr(json, '\0', len);
	if (nul)
		len = (size_t)(nul - json);
	if (len > 0 && pdk_vfio_user_caps_parse(json, len, c))
		return -EINVAL;
	*major = v.major;
	*minor = v.minor;
	return 0;
}

int pdk_vfio_user_dma_map_decode(const struct pdk_vfio_user_msg *m,
				 struct vfio_user_dma_map *out)
{
	if (m->fds_dropped || m->nfds > 1)
		return -EBADF;
	if (m->len != sizeof(*out))
		return -EINVAL;
	memcpy(out, m->payload, sizeof(*out));
	if (out->argsz != sizeof(*out) || out->size == 0 ||
	    (out->flags & ~(VFIO_USER_DMA_F_READ | VFIO_USER_DMA_F_WRITE)) ||
	    wraps(out->addr, out->size - 1))
		return -EINVAL;
	if (m->nfds == 0 && out->offset != 0)
		return -EINVAL; /* spec: offset is zero when not mappable */
	if (m->nfds == 1 && wraps(out->offset, out->size))
		return -EINVAL;
	return 0;
}

int pdk_vfio_user_dma_unmap_decode(const struct pdk_vfio_user_msg *m,
				   struct vfio_user_dma_unmap *out)
{
	if (m->nfds || m->fds_dropped)
		return -EBADF;
	if (m->len < sizeof(*out))
		return -EINVAL;
	memcpy(out, m->payload, sizeof(*out));
	/* a dirty bitmap request is longer: refuse it for what it is */
	if (out->flags == VFIO_USER_DMA_UNMAP_F_GET_DIRTY_BITMAP)
		return -ENOTSUP;
	if (m->len != sizeof(*out) || out->argsz < sizeof(*out))
		return -EINVAL;
	if (out->flags == VFIO_USER_DMA_UNMAP_F_ALL) /* QEMU, libvfio-user */
		return (out->addr || out->size) ? -EINVAL : 0;
	if (out->flags != 0 || out->size == 0 || wraps(out->addr, out->size - 1))
		return -EINVAL;
	return 0;
}

int pdk_vfio_user_info_req_decode(const struct pdk_vfio_user_msg *m, void *out,
				  size_t size)
{
	uint32_t argsz;

	if (m->nfds || m->fds_dropped)
		return -EBADF;
	/* libvfio-user's client sends argsz bytes: the tail is ignored */
	if (m->len < size || size < sizeof(argsz))
		return -EINVAL;
	memcpy(out, m->payload, size);
	memcpy(&argsz, m->payload, sizeof(argsz));
	return argsz < size ? -EINVAL : 0;
}

/* Exactly one bit of `v` set within `mask`, none outside it. */
static bool one_of(uint32_t v, uint32_t mask)
{
	uint32_t x = v & mask;

	return x && !(x & (x - 1));
}

int pdk_vfio_user_set_irqs_decode(const struct pdk_vfio_user_msg *m,
				  struct vfio_user_irq_set *out,
				  const uint8_t **bools)
{
	const uint32_t known = VFIO_IRQ_SET_DATA_TYPE_MASK |
			       VFIO_IRQ_SET_ACTION_TYPE_MASK;
	size_t want;

	if (m->fds_dropped)
		return -EBADF;
	if (m->len < sizeof(*out))
		return -EINVAL;
	memcpy(out, m->payload, sizeof(*out));
	if ((out->flags & ~known) ||
	    !one_of(out->flags, VFIO_IRQ_SET_DATA_TYPE_MASK) ||
	    !one_of(out->flags, VFIO_IRQ_SET_ACTION_TYPE_MASK) ||
	    wraps(out->start, out->count) ||
	    (uint64_t)out->start + out->count > UINT32_MAX)
		return -EINVAL;
	want = sizeof(*out);
	if (out->flags & VFIO_IRQ_SET_DATA_BOOL)
		want += out->count;
	if (m->len != want || out->argsz != want)
		return -EINVAL;
	if (out->flags & VFIO_IRQ_SET_DATA_EVENTFD) {
		if (m->nfds != 0 && m->nfds != out->count)
			return -EBADF;
	} else if (m->nfds) {
		return -EBADF;
	}
	if (out->count == 0 && (out->start != 0 ||
				!(out->flags & VFIO_IRQ_SET_DATA_NONE)))
		return -EINVAL; /* count 0 only means "disable all" */
	*bools = (out->flags & VFIO_IRQ_SET_DATA_BOOL) ?
			 m->payload + sizeof(*out) : NULL;
	return 0;
}

/* A read/write request: 0 < count <= max_xfer, no wrap, data for writes. */
static int rw_common(const struct pdk_vfio_user_msg *m, bool write,
		     uint64_t max_xfer, uint64_t base, uint64_t count,
		     const void **data)
{
	const size_t fixed = 16; /* both request layouts */

	if (count == 0 || wraps(base, count - 1))
		return -EINVAL;
	if (count > max_xfer)
		return -E2BIG;
	if (m->len != fixed + (write ? count : 0))
		return -EINVAL;
	*data = write ? m->payload + fixed : NULL;
	return 0;
}

int pdk_vfio_user_region_rw_decode(const struct pdk_vfio_user_msg *m,
				   bool write, uint64_t max_xfer,
				   struct vfio_user_region_rw *out,
				   const void **data)
{
	int rc = fixed_part(m, out, sizeof(*out));

	return rc ? rc : rw_common(m, write, max_xfer, out->offset, out->count, data);
}

int pdk_vfio_user_dma_rw_decode(const struct pdk_vfio_user_msg *m, bool write,
				uint64_t max_xfer, struct vfio_user_dma_rw *out,
				const void **data)
{
	int rc = fixed_part(m, out, sizeof(*out));

	return rc ? rc : rw_common(m, write, max_xfer, out->addr, out->count, data);
}

int pdk_vfio_user_reply_check(const struct pdk_vfio_user_msg *m, uint16_t id,
			      uint16_t cmd)
{
	if ((m->hdr.flags & VFIO_USER_F_TYPE_MASK) != VFIO_USER_F_TYPE_REPLY ||
	    m->hdr.msg_id != id || m->hdr.command != cmd)
		return -EPROTO;
	if (m->hdr.flags & VFIO_USER_F_ERROR) {
		int err = (int)m->hdr.error_no;

		return (err > 0 && err < 4096) ? -err : -EIO;
	}
	return 0;
}

/* Bytes of the capabilities a region info reply carries. */
static size_t region_caps_size(const struct pdk_vfio_user_region *r)
{
	size_t n = 0;

	if (r->msix_mappable)
		n += sizeof(struct vfio_user_cap_header);
	if (r->sparse)
		n += sizeof(struct vfio_user_cap_sparse) +
		     r->nr_areas * sizeof(struct vfio_user_sparse_area);
	return n;
}

int pdk_vfio_user_region_info_encode(void *buf, size_t size,
				     uint32_t max_argsz,
				     const struct pdk_vfio_user_region *r)
{
	struct vfio_user_region_info info = r->info;
	size_t caps = region_caps_size(r), need = sizeof(info) + caps;
	uint8_t *p = buf;
	size_t off = sizeof(info);

	if (r->nr_areas > PDK_VFIO_USER_AREAS_MAX || size < sizeof(info))
		return -ENOSPC;
	info.argsz = (uint32_t)need;
	info.cap_offset = 0;
	info.flags &= ~(uint32_t)VFIO_REGION_INFO_FLAG_CAPS;
	/*
	 * Too small: the fixed part, argsz telling the size needed, and no
	 * FLAG_CAPS, as libvfio-user does (the kernel sets it with cap_offset
	 * 0, which QEMU's vfio-user client rejects).
	 */
	if (caps == 0 || max_argsz < need) {
		memcpy(p, &info, sizeof(info));
		return (int)sizeof(info);
	}
	if (size < need)
		return -ENOSPC;
	info.flags |= VFIO_REGION_INFO_FLAG_CAPS;
	info.cap_offset = (uint32_t)off;
	if (r->msix_mappable) {
		struct vfio_user_cap_header h = {
			.id = VFIO_REGION_INFO_CAP_MSIX_MAPPABLE,
			.version = VFIO_USER_CAP_MSIX_MAPPABLE_VERSION};

		h.next = r->sparse ? (uint32_t)(off + sizeof(h)) : 0;
		memcpy(p + off, &h, sizeof(h));
		off += sizeof(h);
	}
	if (r->sparse) {
		struct vfio_user_cap_sparse s = {
			.header = {.id = VFIO_REGION_INFO_CAP_SPARSE_MMAP,
				   .version = VFIO_USER_CAP_SPARSE_VERSION},
			.nr_areas = r->nr_areas};

		memcpy(p + off, &s, sizeof(s));
		memcpy(p + off + sizeof(s), r->areas,
		       r->nr_areas * sizeof(r->areas[0]));
	}
	memcpy(p, &info, sizeof(info));
	return (int)need;
}

/* Parse one sparse capability at `off` (header already checked). */
static int parse_sparse(const uint8_t *p, size_t len, size_t off,
			struct pdk_vfio_user_region *out)
{
	struct vfio_user_cap_sparse s;

	if (out->sparse || len - off < sizeof(s))
		return -EINVAL;
	memcpy(&s, p + off, sizeof(s));
	if (s.header.version != VFIO_USER_CAP_SPARSE_VERSION ||
	    s.nr_areas > PDK_VFIO_USER_AREAS_MAX ||
	    s.nr_areas * sizeof(out->areas[0]) > len - off - sizeof(s))
		return -EINVAL;
	memcpy(out->areas, p + off + sizeof(s), s.nr_areas * sizeof(out->areas[0]));
	for (uint32_t i = 0; i < s.nr_areas; i++) {
		const struct vfio_user_sparse_area *a = &out->areas[i];

		if (a->size == 0 || wraps(a->offset, a->size) ||
		    a->offset + a->size > out->info.size)
			return -EINVAL;
	}
	out->sparse = true;
	out->nr_areas = s.nr_areas;
	return 0;
}

/*
 * Walk the capability chain inside the `len` bytes received: every offset
 * past the fixed part with room for a header, at most (len - fixed) /
 * header steps so a cycle ends. Unknown ids are skipped.
 */
static int walk_region_caps(const uint8_t *p, size_t len,
			    struct pdk_vfio_user_region *out)
{
	size_t fixed = sizeof(out->info);
	size_t steps = (len - fixed) / sizeof(struct vfio_user_cap_header);
	uint32_t off = out->info.cap_offset;

	while (off != 0) {
		struct vfio_user_cap_header h;

		if (steps-- == 0 || off < fixed || off >= len ||
		    len - off < sizeof(h))
			return -EINVAL;
		memcpy(&h, p + off, sizeof(h));
		if (h.id == VFIO_REGION_INFO_CAP_SPARSE_MMAP) {
			if (parse_sparse(p, len, off, out))
				return -EINVAL;
		} else if (h.id == VFIO_REGION_INFO_CAP_MSIX_MAPPABLE) {
			if (h.version != VFIO_USER_CAP_MSIX_MAPPABLE_VERSION)
				return -EINVAL;
			out->msix_mappable = true;
		}
		off = h.next;
	}
	return 0;
}

int pdk_vfio_user_region_info_decode(const struct pdk_vfio_user_msg *m,
				     uint32_t index, uint32_t argsz,
				     struct pdk_vfio_user_region *out)
{
	bool mmap;

	memset(out, 0, sizeof(*out));
	if (m->fds_dropped || m->nfds > 1)
		return -EBADF;
	if (m->len < sizeof(out->info) || m->len > PDK_VFIO_USER_REGION_INFO_MAX)
		return -EINVAL;
	memcpy(&out->info, m->payload, sizeof(out->info));
	if (out->info.index != index || out->info.argsz < sizeof(out->info) ||
	    wraps(out->info.offset, out->info.size))
		return -EINVAL;
	if (out->info.argsz > argsz)
		return 0; /* too small a buffer: the caller asks again */
	mmap = out->info.flags & VFIO_REGION_INFO_FLAG_MMAP;
	if (m->nfds != (mmap ? 1u : 0u))
		return -EBADF;
	if (m->len > out->info.argsz)
		return -EINVAL;
	if (!(out->info.flags & VFIO_REGION_INFO_FLAG_CAPS) ||
	    out->info.cap_offset == 0)
		return 0;
	return walk_region_caps(m->payload, m->len, out);
}

int pdk_vfio_user_device_info_decode(const struct pdk_vfio_user_msg *m,
				     struct vfio_user_device_info *out)
{
	int rc = fixed_part(m, out, sizeof(*out));

	if (rc)
		return rc;
	if (out->argsz < sizeof(*out) || out->num_regions > REGIONS_MAX ||
	    out->num_irqs > IRQS_MAX)
		return -EINVAL;
	return 0;
}

int pdk_vfio_user_irq_info_decode(const struct pdk_vfio_user_msg *m,
				  uint32_t index, struct vfio_user_irq_info *out)
{
	int rc = fixed_part(m, out, sizeof(*out));

	if (rc)
		return rc;
	if (out->argsz < sizeof(*out) || out->index != index ||
	    out->count > IRQ_COUNT_MAX)
		return -EINVAL;
	return 0;
}

int pdk_vfio_user_region_rw_reply_decode(const struct pdk_vfio_user_msg *m,
					 bool write,
					 const struct vfio_user_region_rw *req,
					 const void **data)
{
	struct vfio_user_region_rw r;
	int rc = fixed_part(m, &r, sizeof(r));

	if (rc)
		return rc;
	if (r.offset != req->offset || r.region != req->region ||
	    r.count != req->count)
		return -EPROTO;
	if (m->len != sizeof(r) + (write ? 0 : r.count))
		return -EINVAL;
	if (data)
		*data = write ? NULL : m->payload + sizeof(r);
	return 0;
}

int pdk_vfio_user_dma_rw_reply_decode(const struct pdk_vfio_user_msg *m,
				      bool write,
				      const struct vfio_user_dma_rw *req,
				      const void **data)
{
	struct vfio_user_dma_rw r = {0};
	int rc;

	if (m->nfds || m->fds_dropped)
		return -EBADF;
	if (write) {
		uint32_t count32;

		/* QEMU answers with the header alone: nothing to match */
		if (m->len == 0)
			return 0;
		/* 12 bytes per the table, 16 as libvfio-user sends. */
		if (m->len != VFIO_USER_DMA_WRITE_REPLY_MIN && m->len != sizeof(r))
			return -EINVAL;
		memcpy(&r.addr, m->payload, sizeof(r.addr));
		memcpy(&count32, m->payload + 8, sizeof(count32));
		if (m->len == sizeof(r))
			memcpy(&r.count, m->payload + 8, sizeof(r.count));
		else
			r.count = count32;
		return (r.addr == req->addr && r.count == req->count) ? 0 : -EPROTO;
	}
	rc = fixed_part(m, &r, sizeof(r));
	if (rc)
		return rc;
	if (r.addr != req->addr || r.count != req->count)
		return -EPROTO;
	if (m->len != sizeof(r) + r.count)
		return -EINVAL;
	if (data)
		*data = m->payload + sizeof(r);
	return 0;
}

int pdk_vfio_user_dma_unmap_reply_decode(const struct pdk_vfio_user_msg *m,
					 const struct vfio_user_dma_unmap *req)
{
	struct vfio_user_dma_unmap r;
	int rc = fixed_part(m, &r, sizeof(r));

	if (rc)
		return rc;
	return (r.addr == req->addr && r.size == req->size) ? 0 : -EPROTO;
}
