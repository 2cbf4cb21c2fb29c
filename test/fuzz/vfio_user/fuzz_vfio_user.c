/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: every lib/vfio_user decoder on hostile payloads. Byte 0
 * picks the fd count (low 2 bits) and a flag for fds_dropped; the rest is
 * the payload, fed to each decoder in turn and to the JSON reader. Nothing
 * may crash or read out of bounds, and whatever a decoder accepts must
 * hold the invariants its callers rely on.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <pdk_vfio_user.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_region(const struct pdk_vfio_user_msg *m, uint32_t argsz)
{
	struct pdk_vfio_user_region r;

	if (pdk_vfio_user_region_info_decode(m, 0, argsz, &r) != 0)
		return;
	if (r.nr_areas > PDK_VFIO_USER_AREAS_MAX)
		abort();
	for (uint32_t i = 0; i < r.nr_areas; i++)
		if (r.areas[i].offset + r.areas[i].size > r.info.size ||
		    r.areas[i].size == 0)
			abort(); /* an accepted area must lie in the region */
}

static void decode_all(struct pdk_vfio_user_msg *m)
{
	union {
		struct vfio_user_dma_map map;
		struct vfio_user_dma_unmap unmap;
		struct vfio_user_irq_set set;
		struct vfio_user_region_rw rw;
		struct vfio_user_dma_rw drw;
		struct vfio_user_device_info di;
		struct vfio_user_irq_info ii;
		uint8_t raw[64];
	} o;
	struct pdk_vfio_user_caps caps;
	const uint8_t *bools;
	const void *d;
	uint16_t ma, mi;

	pdk_vfio_user_version_decode(m, &ma, &mi, &caps);
	pdk_vfio_user_dma_map_decode(m, &o.map);
	pdk_vfio_user_dma_unmap_decode(m, &o.unmap);
	pdk_vfio_user_info_req_decode(m, o.raw, 32);
	if (pdk_vfio_user_set_irqs_decode(m, &o.set, &bools) == 0 && bools &&
	    bools + o.set.count > m->payload + m->len)
		abort();
	for (int w = 0; w < 2; w++) {
		if (pdk_vfio_user_region_rw_decode(m, w, 1 << 20, &o.rw, &d) == 0 && w &&
		    (const uint8_t *)d + o.rw.count > m->payload + m->len)
			abort();
		pdk_vfio_user_dma_rw_decode(m, w, 1 << 20, &o.drw, &d);
		struct vfio_user_region_rw rq = {0, 0, 4};
		pdk_vfio_user_region_rw_reply_decode(m, w, &rq, &d);
		struct vfio_user_dma_rw dq = {0, 4};
		pdk_vfio_user_dma_rw_reply_decode(m, w, &dq, &d);
	}
	pdk_vfio_user_device_info_decode(m, &o.di);
	pdk_vfio_user_irq_info_decode(m, 2, &o.ii);
	check_region(m, 32);
	check_region(m, 4096);
	pdk_vfio_user_caps_init(&caps);
	pdk_vfio_user_caps_parse((const char *)m->payload, m->len, &caps);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct pdk_vfio_user_msg m = {0};

	if (size < 1)
		return 0;
	m.nfds = data[0] & 3;
	m.fds_dropped = data[0] & 4;
	for (unsigned i = 0; i < m.nfds; i++)
		m.fds[i] = -1; /* decoders never touch the fds themselves */
	m.len = size - 1;
	/* an exact-size copy so ASan sees any read past the end */
	m.payload = m.len ? malloc(m.len) : NULL;
	if (m.len && m.payload == NULL)
		return 0;
	if (m.len)
		memcpy(m.payload, data + 1, m.len);
	decode_all(&m);
	free(m.payload);
	return 0;
}
