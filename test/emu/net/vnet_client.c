/* SPDX-License-Identifier: BSD-3-Clause */
/* The emu tests' small virtio-net driver; see vnet_client.h. */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <time.h>
#include <unistd.h>

#include "vnet_client.h"

#define BAR VNET_EMU_BAR

/* The control queue's index for the features accepted, -1 without. */
int vnc_ctrl_index(const struct vnc *v)
{
	unsigned pairs;

	if (!(v->accepted & PDK_VIRTIO_BIT(PDK_VIRTIO_NET_F_CTRL_VQ)))
		return -1;
	if (!(v->accepted & PDK_VIRTIO_BIT(PDK_VIRTIO_NET_F_MQ)))
		return 2;
	pairs = __atomic_load_n((uint16_t *)(void *)(v->bar + VNET_EMU_DEVCFG_OFF +
				PDK_VIRTIO_NET_CFG_OFF(max_virtqueue_pairs)), __ATOMIC_RELAXED);
	return (int)(2 * pairs);
}
#define HDR ((uint32_t)sizeof(struct pdk_virtio_net_hdr))

int vnc_open(struct vnc *v, const char *sock)
{
	void *mem;
	int rc;

	memset(v, 0, sizeof(*v));
	v->dma_fd = -1;
	rc = vuc_connect(&v->c, sock);
	if (rc)
		return rc;
	v->open = true;
	v->bar = vuc_map_bar(&v->c, BAR, &v->reg);
	v->dma_fd = vuc_memfd(VNC_DMA_SIZE, &mem);
	if (v->bar == NULL || v->dma_fd < 0)
		return -ENOMEM;
	v->dma = mem;
	rc = vuc_dma_map(&v->c, VNC_DMA_IOVA, VNC_DMA_SIZE, v->dma_fd, 0,
			 VFIO_USER_DMA_F_READ | VFIO_USER_DMA_F_WRITE);
	if (rc == 0)
		rc = vuc_bus_master(&v->c, true);
	return rc;
}

void vnc_close(struct vnc *v)
{
	if (!v->open)
		return;
	for (unsigned i = 0; i < VNC_VQ_MAX; i++)
		free(v->q[i]);
	vuc_unmap_region(&v->reg, v->bar);
	if (v->dma)
		munmap(v->dma, VNC_DMA_SIZE);
	if (v->dma_fd >= 0)
		close(v->dma_fd);
	vuc_close(&v->c);
	memset(v, 0, sizeof(*v));
}

uint32_t vnc_rd(struct vnc *v, size_t off, unsigned size)
{
	uint32_t x = 0;

	vuc_read(&v->c, BAR, VNET_EMU_COMMON_OFF + off, &x, size);
	return x;
}

void vnc_wr(struct vnc *v, size_t off, unsigned size, uint32_t val)
{
	vuc_write(&v->c, BAR, VNET_EMU_COMMON_OFF + off, &val, size);
}

uint8_t vnc_status(struct vnc *v)
{
	return (uint8_t)VNC_RD(v, device_status);
}

int vnc_negotiate(struct vnc *v, uint64_t want, bool exact)
{
	VNC_WR(v, device_status, 0);
	VNC_WR(v, device_status, PDK_VIRTIO_STATUS_ACKNOWLEDGE);
	VNC_WR(v, device_status, PDK_VIRTIO_STATUS_ACKNOWLEDGE | PDK_VIRTIO_STATUS_DRIVER);
	VNC_WR(v, device_feature_select, 0);
	v->features = VNC_RD(v, device_feature);
	VNC_WR(v, device_feature_select, 1);
	v->features |= (uint64_t)VNC_RD(v, device_feature) << 32;
	v->accepted = exact ? want : want & v->features;
	VNC_WR(v, driver_feature_select, 0);
	VNC_WR(v, driver_feature, (uint32_t)v->accepted);
	VNC_WR(v, driver_feature_select, 1);
	VNC_WR(v, driver_feature, (uint32_t)(v->accepted >> 32));
	VNC_WR(v, device_status, PDK_VIRTIO_STATUS_ACKNOWLEDGE | PDK_VIRTIO_STATUS_DRIVER |
				 PDK_VIRTIO_STATUS_FEATURES_OK);
	return vnc_status(v) & PDK_VIRTIO_STATUS_FEATURES_OK ? 0 : -EPROTO;
}

static void *dma_alloc(struct vnc *v, size_t len, uint64_t *iova)
{
	size_t off = PDK_ALIGN_CEIL(v->dma_used, (size_t)4096);

	if (off + len > VNC_DMA_SIZE)
		return NULL;
	v->dma_used = off + len;
	*iova = VNC_DMA_IOVA + off;
	return v->dma + off;
}

int vnc_queue(struct vnc *v, unsigned qi, uint16_t size, uint16_t msix)
{
	struct vnc_q *q = calloc(1, sizeof(*q));
	struct vq_layout l;
	uint64_t iova;
	void *mem;

	vq_ring_layout(size, &l);
	mem = q ? dma_alloc(v, l.bytes, &iova) : NULL;
	if (mem == NULL || vq_ring_init(&q->r, size, mem, q->priv,
					v->accepted & PDK_VIRTIO_BIT(PDK_VIRTIO_F_EVENT_IDX))) {
		free(q);
		return -ENOMEM;
	}
	q->size = size;
	q->bufsz = qi % 2 == 0 && (int)qi != vnc_ctrl_index(v) ? VNC_BUF : VNC_TXBUF;
	q->bufs = dma_alloc(v, (size_t)size * q->bufsz, &q->bufs_iova);
	if (q->bufs == NULL) {
		free(q);
		return -ENOMEM;
	}
	for (unsigned i = 0; i < size; i++)
		q->free[q->nfree++] = (uint16_t)i;
	free(v->q[qi]);
	v->q[qi] = q;
	VNC_WR(v, queue_select, qi);
	VNC_WR(v, queue_size, size);
	VNC_WR(v, queue_msix_vector, msix);
	vnc_wr(v, PDK_VIRTIO_COMMON_OFF(queue_desc), 4, (uint32_t)iova);
	vnc_wr(v, PDK_VIRTIO_COMMON_OFF(queue_desc) + 4, 4, (uint32_t)(iova >> 32));
	vnc_wr(v, PDK_VIRTIO_COMMON_OFF(queue_driver), 4, (uint32_t)(iova + l.avail_off));
	vnc_wr(v, PDK_VIRTIO_COMMON_OFF(queue_driver) + 4, 4, (uint32_t)((iova + l.avail_off) >> 32));
	vnc_wr(v, PDK_VIRTIO_COMMON_OFF(queue_device), 4, (uint32_t)(iova + l.used_off));
	vnc_wr(v, PDK_VIRTIO_COMMON_OFF(queue_device) + 4, 4, (uint32_t)((iova + l.used_off) >> 32));
	VNC_WR(v, queue_enable, 1);
	return VNC_RD(v, queue_enable) == 1 ? 0 : -EIO;
}

void vnc_driver_ok(struct vnc *v)
{
	VNC_WR(v, device_status, vnc_status(v) | PDK_VIRTIO_STATUS_DRIVER_OK);
}

/* Buffer slot i of q: its address and IOVA. */
static uint8_t *slot(struct vnc_q *q, uintptr_t i, uint64_t *iova)
{
	if (iova)
		*iova = q->bufs_iova + i * q->bufsz;
	return q->bufs + i * q->bufsz;
}

bool vnc_kick(struct vnc *v, unsigned qi)
{
	struct vnc_q *q = v->q[qi];

	vq_publish(&q->r);
	if (!vq_kick_needed(&q->r))
		return false;
	/* 16-bit write of the queue index at its notify address */
	__atomic_store_n((uint16_t *)(void *)(v->bar + VNET_EMU_NOTIFY_OFF +
					      VNET_EMU_NOTIFY_MULT * qi),
			 (uint16_t)qi, __ATOMIC_RELEASE);
	return true;
}

void vnc_rx_fill(struct vnc *v, unsigned qi)
{
	struct vnc_q *q = v->q[qi];
	uint64_t iova;

	while (q->nfree) {
		uint16_t i = q->free[q->nfree - 1];

		slot(q, i, &iova);
		if (vq_add1(&q->r, (void *)(uintptr_t)(i + 1), iova, q->bufsz, true) < 0)
			break;
		q->nfree--;
	}
	vnc_kick(v, qi);
}

unsigned vnc_reclaim(struct vnc *v, unsigned qi)
{
	struct vnc_q *q = v->q[qi];
	unsigned n = vq_used_count(&q->r), got = 0;
	uint32_t len;

	for (; got < n; got++) {
		uintptr_t c = (uintptr_t)vq_get(&q->r, &len);

		if (c == 0)
			break;
		q->free[q->nfree++] = (uint16_t)(c - 1);
	}
	return got;
}

int vnc_send_segs(struct vnc *v, unsigned qi, const void *frame, uint32_t len,
		  uint32_t seg)
{
	struct vnc_q *q = v->q[qi];
	struct vq_seg s[64];
	unsigned n = 1;
	uint64_t iova;
	uint8_t *b;
	uint16_t i;

	if (q->nfree == 0)
		vnc_reclaim(v, qi);
	if (q->nfree == 0 || len + HDR > q->bufsz || (len + seg - 1) / seg + 1 > 64)
		return -ENOSPC;
	i = q->free[--q->nfree];
	b = slot(q, i, &iova);
	memset(b, 0, HDR);
	memcpy(b + HDR, frame, len);
	s[0] = (struct vq_seg){iova, HDR, false};
	for (uint32_t off = 0; off < len; off += seg)
		s[n++] = (struct vq_seg){iova + HDR + off, PDK_MIN(seg, len - off), false};
	if (vq_add(&q->r, (void *)(uintptr_t)(i + 1), s, n, HDR + len) < 0) {
		q->nfree++;
		return -ENOSPC;
	}
	return 0;
}

int vnc_send(struct vnc *v, unsigned qi, const void *frame, uint32_t len)
{
	struct vnc_q *q = v->q[qi];
	uint64_t iova;
	uint8_t *b;
	uint16_t i;

	if (q->nfree == 0)
		vnc_reclaim(v, qi);
	if (q->nfree == 0 || len + HDR > q->bufsz)
		return -ENOSPC;
	i = q->free[--q->nfree];
	b = slot(q, i, &iova);
	memset(b, 0, HDR);
	memcpy(b + HDR, frame, len);
	if (vq_add1(&q->r, (void *)(uintptr_t)(i + 1), iova, HDR + len, false) < 0) {
		q->nfree++;
		return -ENOSPC;
	}
	return 0;
}

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* The next used buffer of q, waiting up to the deadline: its slot + 1,
 * 0 on timeout, -1 when the ring broke. */
static intptr_t next_used(struct vnc_q *q, uint32_t *len, int64_t deadline)
{
	while (vq_used_count(&q->r) == 0) {
		if (q->r.broken)
			return -1;
		if (now_ms() > deadline)
			return 0;
		usleep(50);
	}
	intptr_t c = (intptr_t)vq_get(&q->r, len);

	return c ? c : -1;
}

int vnc_recv(struct vnc *v, unsigned qi, void *buf, uint32_t max, int ms,
	     unsigned *nbufs)
{
	struct vnc_q *q = v->q[qi];
	int64_t deadline = now_ms() + ms;
	struct pdk_virtio_net_hdr hdr;
	uint32_t len, got = 0;
	unsigned n = 1;

	for (unsigned i = 0; i < n; i++) {
		intptr_t c = next_used(q, &len, deadline);
		const uint8_t *b;
		uint32_t skip = i ? 0 : HDR;

		if (c <= 0)
			return c < 0 ? -EIO : 0;
		b = slot(q, (uintptr_t)c - 1, NULL);
		if (i == 0) {
			memcpy(&hdr, b, HDR);
			n = hdr.num_buffers ? hdr.num_buffers : 1;
			if (nbufs)
				*nbufs = n;
		}
		if (len < skip || got + len - skip > max)
			return -EIO;
		memcpy((uint8_t *)buf + got, b + skip, len - skip);
		got += len - skip;
		q->free[q->nfree++] = (uint16_t)(c - 1);
	}
	vnc_rx_fill(v, qi);
	return (int)got;
}

int vnc_irqs(struct vnc *v, int *fds, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		fds[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return vuc_set_irqs(&v->c, VFIO_PCI_MSIX_IRQ_INDEX,
			    VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, 0, n,
			    fds, n, NULL);
}

uint8_t vnc_isr(struct vnc *v)
{
	uint8_t x = 0xee;

	vuc_read(&v->c, BAR, VNET_EMU_ISR_OFF, &x, 1);
	return x;
}

uint16_t vnc_link(struct vnc *v)
{
	return __atomic_load_n((uint16_t *)(void *)(v->bar + VNET_EMU_DEVCFG_OFF +
						    PDK_VIRTIO_NET_CFG_OFF(status)),
			       __ATOMIC_ACQUIRE);
}

void vnc_frame(uint8_t *f, uint32_t len, uint32_t seed)
{
	static const uint8_t hdr[14] = {0x02, 0, 0, 0, 0, 2, 0x02, 0, 0, 0, 0, 1, 0x88, 0xb5};

	memcpy(f, hdr, PDK_MIN(len, 14u));
	for (uint32_t i = 14; i < len; i++)
		f[i] = (uint8_t)(seed * 31 + i * 7);
}

int vnc_ctrl_mq(struct vnc *v, uint16_t pairs)
{
	int qi = vnc_ctrl_index(v);
	struct vnc_q *q = qi < 0 ? NULL : v->q[qi];
	uint8_t cmd[5] = {PDK_VIRTIO_NET_CTRL_MQ, PDK_VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET,
			  (uint8_t)pairs, (uint8_t)(pairs >> 8), 0xee};
	struct vq_seg s[2];
	uint64_t iova;
	uint32_t len;
	uint8_t *b;
	intptr_t c;

	if (q == NULL || q->nfree == 0)
		return -EIO;
	b = slot(q, q->free[q->nfree - 1], &iova);
	memcpy(b, cmd, sizeof(cmd));
	s[0] = (struct vq_seg){iova, 4, false};
	s[1] = (struct vq_seg){iova + 4, 1, true};
	if (vq_add(&q->r, (void *)(uintptr_t)(q->free[q->nfree - 1] + 1), s, 2, 1) < 0)
		return -EIO;
	q->nfree--;
	vnc_kick(v, (unsigned)qi);
	c = next_used(q, &len, now_ms() + 2000);
	if (c <= 0)
		return c == 0 ? -ETIMEDOUT : -EIO;
	q->free[q->nfree++] = (uint16_t)(c - 1);
	return len == 1 ? b[4] : -EIO;
}
