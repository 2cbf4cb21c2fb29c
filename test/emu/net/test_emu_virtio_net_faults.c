/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The emulated virtio-net device's notifications and faults: kicks it asks
 * for (EVENT_IDX and NO_NOTIFY), used-buffer interrupts (used_event and
 * NO_INTERRUPT, per-queue vectors), link down/up as a configuration change
 * (vector, ISR read to clear, generation), malformed rings from the driver
 * (DEVICE_NEEDS_RESET, never a crash, a reset recovers), malformed used
 * entries on request (the driver's ring breaks and counts them), and a
 * client that goes away mid-traffic.
 */
#include "vnet_test.h"

static struct pdk_emu_dev *dev;
static struct vnc v;
static int fds[3] = {-1, -1, -1};

static int teardown(void **state)
{
	(void)state;
	vnc_close(&v);
	pdk_emu_dev_destroy(dev);
	dev = NULL;
	for (unsigned i = 0; i < PDK_DIM(fds); i++) {
		if (fds[i] >= 0)
			close(fds[i]);
		fds[i] = -1;
	}
	return 0;
}

static uint16_t avail_event(struct vnc *c, unsigned qi)
{
	return __atomic_load_n(pdk_virtq_avail_event(c->q[qi]->r.used, c->q[qi]->size),
			       __ATOMIC_ACQUIRE);
}

static void test_kicks_event_idx(void **state)
{
	struct pdk_emu_virtio_net_stats st;
	uint8_t f[64];
	unsigned kicks = 0;

	(void)state;
	dev = vnet_dev("kick.sock", NULL);
	vnet_up(&v, dev, F_STD, 1);
	vnc_frame(f, sizeof(f), 0);
	for (unsigned i = 1; i <= 50; i++) {
		assert_int_equal(vnc_send(&v, TXQ(0), f, sizeof(f)), 0);
		/* the device went idle after the last one: it asks for the next */
		assert_true(vnc_kick(&v, TXQ(0)));
		kicks++;
		WAIT_FOR(vnc_reclaim(&v, TXQ(0)) == 1);
		WAIT_FOR(avail_event(&v, TXQ(0)) == i);
	}
	/* while it is idle and armed, a burst needs one kick, not 20 */
	for (unsigned i = 0; i < 20; i++) {
		assert_int_equal(vnc_send(&v, TXQ(0), f, sizeof(f)), 0);
		vq_publish(&v.q[TXQ(0)]->r);
	}
	assert_true(vnc_kick(&v, TXQ(0)));
	kicks++;
	assert_false(vnc_kick(&v, TXQ(0)));
	WAIT_FOR(vnet_st(dev).tx_frames == 70);
	vnet_stats(dev, &st);
	assert_int_equal(vq_counter(&v.q[TXQ(0)]->r.st.kicks), kicks);
	/* the device saw each kick (two may merge), receive queue's too */
	kicks += vq_counter(&v.q[RXQ(0)]->r.st.kicks);
	assert_true(st.kicks >= 1 && st.kicks <= kicks);
}

static void test_kicks_flags(void **state)
{
	uint8_t f[64];

	(void)state;
	dev = vnet_dev("kickf.sock", NULL);
	vnet_up(&v, dev, F_STD & ~F(PDK_VIRTIO_F_EVENT_IDX), 1);
	vnc_frame(f, sizeof(f), 0);
	for (unsigned i = 0; i < 20; i++) {
		assert_int_equal(vnc_send(&v, TXQ(0), f, sizeof(f)), 0);
		assert_true(vnc_kick(&v, TXQ(0)));
		WAIT_FOR(vnc_reclaim(&v, TXQ(0)) == 1);
		/* idle again: NO_NOTIFY cleared */
		WAIT_FOR(__atomic_load_n(&v.q[TXQ(0)]->r.used->flags, __ATOMIC_ACQUIRE) == 0);
	}
	WAIT_FOR(vnet_st(dev).tx_frames == 20);
}

/* Used-buffer interrupts on a receive queue with a vector. */
static void test_queue_irq(void **state)
{
	struct vnc_q *q;

	(void)state;
	dev = vnet_dev("irq.sock", NULL);
	assert_int_equal(vnc_open(&v, pdk_emu_dev_socket(dev)), 0);
	assert_int_equal(vnc_irqs(&v, fds, 3), 0);
	assert_int_equal(vnc_negotiate(&v, F_STD, false), 0);
	assert_int_equal(vnc_queue(&v, RXQ(0), QSIZE, 1), 0);
	assert_int_equal(vnc_queue(&v, TXQ(0), QSIZE, 2), 0);
	vnc_driver_ok(&v);
	vnc_rx_fill(&v, RXQ(0));
	q = v.q[RXQ(0)];
	/* used_event is 0xffff (we poll): no interrupt */
	vnet_roundtrip(&v, TXQ(0), &v, RXQ(0), 100, 1);
	assert_int_equal(emu_wait_event(fds[1], 50), 0);
	/* ask for one at the next entry */
	*pdk_virtq_used_event(q->r.avail, QSIZE) = q->r.used_last;
	vnet_roundtrip(&v, TXQ(0), &v, RXQ(0), 100, 2);
	assert_int_equal(emu_wait_event(fds[1], 2000), 1);
	/* an event already passed: none */
	vnet_roundtrip(&v, TXQ(0), &v, RXQ(0), 100, 3);
	assert_int_equal(emu_wait_event(fds[1], 50), 0);
	assert_int_equal(vnc_isr(&v) & PDK_VIRTIO_ISR_QUEUE, PDK_VIRTIO_ISR_QUEUE);
	assert_int_equal(vnc_isr(&v), 0);
	assert_true(vnet_st(dev).irqs >= 1);
	/* without EVENT_IDX: NO_INTERRUPT rules */
	vnc_close(&v);
	assert_int_equal(vnc_open(&v, pdk_emu_dev_socket(dev)), 0);
	assert_int_equal(vnc_irqs(&v, fds, 3), 0);
	assert_int_equal(vnc_negotiate(&v, F_STD & ~F(PDK_VIRTIO_F_EVENT_IDX), false), 0);
	assert_int_equal(vnc_queue(&v, RXQ(0), QSIZE, 1), 0);
	assert_int_equal(vnc_queue(&v, TXQ(0), QSIZE, 2), 0);
	vnc_driver_ok(&v);
	vnc_rx_fill(&v, RXQ(0));
	vnet_roundtrip(&v, TXQ(0), &v, RXQ(0), 100, 1);
	assert_int_equal(emu_wait_event(fds[1], 50), 0);
	v.q[RXQ(0)]->r.avail->flags = 0;
	vnet_roundtrip(&v, TXQ(0), &v, RXQ(0), 100, 2);
	assert_int_equal(emu_wait_event(fds[1], 2000), 1);
}

static uint8_t generation(struct vnc *c)
{
	return (uint8_t)VNC_RD(c, config_generation);
}

static void test_link(void **state)
{
	struct pdk_emu_virtio_net_stats st;
	uint8_t f[64], gen0;

	(void)state;
	dev = vnet_dev("link.sock", NULL);
	vnet_up(&v, dev, F_STD, 1);
	assert_int_equal(vnc_irqs(&v, fds, 1), 0);
	VNC_WR(&v, config_msix_vector, 0);
	assert_int_equal(VNC_RD(&v, config_msix_vector), 0);
	gen0 = generation(&v);
	assert_int_equal(vnc_link(&v), PDK_VIRTIO_NET_S_LINK_UP);
	assert_int_equal(pdk_emu_dev_inject(dev, "link-down"), 0);
	assert_int_equal(emu_wait_event(fds[0], 2000), 1);
	assert_int_equal(vnc_link(&v), 0);
	assert_int_equal(generation(&v), (uint8_t)(gen0 + 1));
	assert_int_equal(vnc_isr(&v), PDK_VIRTIO_ISR_CONFIG);
	assert_int_equal(vnc_isr(&v), 0); /* read to clear */
	/* link down: sent frames are dropped */
	vnc_frame(f, sizeof(f), 0);
	assert_int_equal(vnc_send(&v, TXQ(0), f, sizeof(f)), 0);
	vnc_kick(&v, TXQ(0));
	WAIT_FOR(vnet_st(dev).tx_dropped == 1);
	assert_int_equal(pdk_emu_dev_inject(dev, "link-down"), 0); /* no change */
	assert_int_equal(emu_wait_event(fds[0], 50), 0);
	assert_int_equal(pdk_emu_dev_inject(dev, "link-toggle"), 0);
	assert_int_equal(emu_wait_event(fds[0], 2000), 1);
	assert_int_equal(vnc_link(&v), PDK_VIRTIO_NET_S_LINK_UP);
	vnet_roundtrip(&v, TXQ(0), &v, RXQ(0), 64, 1);
	vnet_stats(dev, &st);
	assert_int_equal(st.link_changes, 2);
	assert_int_equal(st.config_irqs, 2);
	assert_int_equal(pdk_emu_dev_inject(dev, "link-sideways"), -EINVAL);
	vnc_close(&v);
	pdk_emu_dev_destroy(dev);
	/* link=down at power on */
	dev = vnet_dev("link2.sock", "link=down");
	vnet_up(&v, dev, F_STD, 1);
	assert_int_equal(vnc_link(&v), 0);
}

/* ---- malformed rings: DEVICE_NEEDS_RESET ---- */

enum ring_fault { RF_AVAIL_AHEAD, RF_HEAD_RANGE, RF_NEXT_RANGE, RF_LOOP, RF_INDIRECT,
		  RF_TX_WRITABLE, RF_RX_READABLE, RF_UNMAPPED_BUF, RF_COUNT };

static void ring_fault(enum ring_fault f)
{
	struct vnc_q *q = v.q[TXQ(0)];
	struct pdk_virtq_desc *d = q->r.desc;
	uint16_t *ring = q->r.avail->ring;
	uint8_t frame[64];

	vnc_frame(frame, sizeof(frame), 0);
	switch (f) {
	case RF_AVAIL_AHEAD:
		__atomic_store_n(&q->r.avail->idx, QSIZE + 1, __ATOMIC_RELEASE);
		break;
	case RF_HEAD_RANGE:
		ring[0] = QSIZE + 3;
		__atomic_store_n(&q->r.avail->idx, 1, __ATOMIC_RELEASE);
		break;
	case RF_NEXT_RANGE:
	case RF_LOOP:
	case RF_INDIRECT:
		d[0] = (struct pdk_virtq_desc){q->bufs_iova, 76, PDK_VIRTQ_DESC_F_NEXT,
					       f == RF_NEXT_RANGE ? QSIZE : 1};
		d[1] = (struct pdk_virtq_desc){q->bufs_iova, 16,
			f == RF_LOOP ? PDK_VIRTQ_DESC_F_NEXT : PDK_VIRTQ_DESC_F_INDIRECT, 0};
		ring[0] = 0;
		__atomic_store_n(&q->r.avail->idx, 1, __ATOMIC_RELEASE);
		break;
	case RF_TX_WRITABLE:
		d[0] = (struct pdk_virtq_desc){q->bufs_iova, 76, PDK_VIRTQ_DESC_F_WRITE, 0};
		ring[0] = 0;
		__atomic_store_n(&q->r.avail->idx, 1, __ATOMIC_RELEASE);
		break;
	case RF_RX_READABLE: {
		struct vnc_q *rq = v.q[RXQ(0)];

		rq->r.desc[rq->r.avail->ring[0]].flags = 0; /* posted, now readable */
		assert_int_equal(vnc_send(&v, TXQ(0), frame, sizeof(frame)), 0);
		vq_publish(&q->r);
		break;
	}
	case RF_UNMAPPED_BUF:
		d[0] = (struct pdk_virtq_desc){0x1000, 76, 0, 0}; /* not mapped */
		ring[0] = 0;
		__atomic_store_n(&q->r.avail->idx, 1, __ATOMIC_RELEASE);
		break;
	default:
		break;
	}
	*(volatile uint16_t *)(void *)(v.bar + VNET_EMU_NOTIFY_OFF + 4) = TXQ(0);
}

static void test_malformed_rings(void **state)
{
	int64_t resets = 0;

	(void)state;
	dev = vnet_dev("bad.sock", NULL);
	for (int f = 0; f < RF_COUNT; f++) {
		vnet_up(&v, dev, F_STD, 1);
		assert_int_equal(vnc_irqs(&v, fds, 1), 0);
		VNC_WR(&v, config_msix_vector, 0);
		ring_fault((enum ring_fault)f);
		WAIT_FOR((vnc_status(&v) & PDK_VIRTIO_STATUS_NEEDS_RESET) != 0);
		/* said with a configuration change, and only once */
		assert_int_equal(emu_wait_event(fds[0], 2000), 1);
		assert_int_equal(vnc_isr(&v) & PDK_VIRTIO_ISR_CONFIG, PDK_VIRTIO_ISR_CONFIG);
		assert_int_equal(vnet_st(dev).needs_reset, (uint64_t)f + 1);
		/* a reset, and the device works again */
		vnc_close(&v);
		close(fds[0]);
		fds[0] = -1;
		vnet_up(&v, dev, F_STD, 1);
		vnet_roundtrip(&v, TXQ(0), &v, RXQ(0), 64, (uint32_t)f);
		vnc_close(&v);
		resets++;
	}
	assert_int_equal(resets, RF_COUNT);
}

/* The ring itself outside the client's mapped memory. */
static void test_ring_unmapped(void **state)
{
	(void)state;
	dev = vnet_dev("unm.sock", NULL);
	assert_int_equal(vnc_open(&v, pdk_emu_dev_socket(dev)), 0);
	assert_int_equal(vnc_negotiate(&v, F_STD, false), 0);
	assert_int_equal(vnc_queue(&v, RXQ(0), QSIZE, PDK_VIRTIO_MSI_NO_VECTOR), 0);
	VNC_WR(&v, queue_select, TXQ(0));
	vnc_wr(&v, PDK_VIRTIO_COMMON_OFF(queue_desc) + 4, 4, 0x50); /* far away */
	VNC_WR(&v, queue_enable, 1);
	vnc_driver_ok(&v);
	*(volatile uint16_t *)(void *)(v.bar + VNET_EMU_NOTIFY_OFF + 4) = TXQ(0);
	WAIT_FOR((vnc_status(&v) & PDK_VIRTIO_STATUS_NEEDS_RESET) != 0);
	assert_true(vnet_st(dev).needs_reset == 1);
}

/* ---- malformed used entries for the driver ---- */

/* Run frames through loopback until one of the driver's rings breaks. */
static void traffic_until_broken(void)
{
	uint8_t f[64], in[2048];
	struct vq_ring *rx = &v.q[RXQ(0)]->r, *tx = &v.q[TXQ(0)]->r;

	vnc_frame(f, sizeof(f), 0);
	for (int i = 0; i < 2000 && !rx->broken && !tx->broken; i++) {
		if (vnc_send(&v, TXQ(0), f, sizeof(f)) == 0)
			vnc_kick(&v, TXQ(0));
		vnc_recv(&v, RXQ(0), in, sizeof(in), 20, NULL);
		vnc_reclaim(&v, TXQ(0));
	}
	assert_true(rx->broken || tx->broken);
}

/* A counter summed over both rings of pair 0. */
#define BAD(field) (vq_counter(&v.q[RXQ(0)]->r.st.field) + \
		    vq_counter(&v.q[TXQ(0)]->r.st.field))

static void test_bad_used_inject(void **state)
{
	static const struct {
		const char *fault;
		size_t counter;
	} faults[] = {
		{"used-id-range", offsetof(struct vq_ring_stats, bad_id)},
		{"used-len", offsetof(struct vq_ring_stats, bad_len)},
		{"used-id-stale", offsetof(struct vq_ring_stats, bad_stale)},
	};

	(void)state;
	dev = vnet_dev("bu.sock", NULL);
	for (unsigned i = 0; i < PDK_DIM(faults); i++) {
		uint64_t n = 0;

		vnet_up(&v, dev, F_STD, 1);
		assert_int_equal(pdk_emu_dev_inject(dev, faults[i].fault), 0);
		traffic_until_broken();
		for (unsigned q = 0; q < 2; q++)
			n += *(uint64_t *)(void *)((uint8_t *)&v.q[q]->r.st + faults[i].counter);
		assert_int_equal(n, 1);
		assert_int_equal(BAD(bad_id) + BAD(bad_len) + BAD(bad_stale) + BAD(bad_idx), 1);
		vnc_close(&v);
	}
	assert_int_equal(vnet_st(dev).bad_used, 3);
	assert_int_equal(pdk_emu_dev_inject(dev, "used-sideways"), -EINVAL);
}

/* bad-used=mix at a rate: every malformed entry breaks a ring, each is
 * counted once, and a reset brings the queues back every time. */
static void test_bad_used_rate(void **state)
{
	unsigned breaks = 0;
	uint64_t counted = 0;

	(void)state;
	dev = vnet_dev("bur.sock", "bad-used=mix,bad-used-every=7,bad-used-max=60");
	while (vnet_st(dev).bad_used < 60) {
		vnet_up(&v, dev, F_STD, 1);
		for (int i = 0; i < 200 && !v.q[RXQ(0)]->r.broken &&
				!v.q[TXQ(0)]->r.broken; i++) {
			uint8_t f[64], in[2048];

			vnc_frame(f, sizeof(f), (uint32_t)i);
			if (vnc_send(&v, TXQ(0), f, sizeof(f)) == 0)
				vnc_kick(&v, TXQ(0));
			vnc_recv(&v, RXQ(0), in, sizeof(in), 20, NULL);
			vnc_reclaim(&v, TXQ(0));
		}
		for (unsigned q = 0; q < 2; q++) {
			struct vq_ring_stats *s = &v.q[q]->r.st;

			counted += s->bad_id + s->bad_stale + s->bad_len + s->bad_idx;
		}
		breaks++;
		vnc_close(&v);
		assert_true(breaks < 200);
	}
	/* each malformed entry broke one ring, except those written after the
	 * ring broke (the device does not know): never more than written */
	assert_true(counted >= 1);
	assert_true(counted <= 60);
	assert_int_equal(vnet_st(dev).needs_reset, 0);
}

/* The client goes away mid-traffic; the next one finds a fresh device. */
static void test_client_gone(void **state)
{
	uint8_t f[64], in[2048];

	(void)state;
	dev = vnet_dev("gone.sock", "wire=gen");
	vnet_up(&v, dev, F_STD, 1);
	vnc_frame(f, sizeof(f), 0);
	for (unsigned i = 0; i < 100; i++)
		if (vnc_send(&v, TXQ(0), f, sizeof(f)) == 0)
			vnc_kick(&v, TXQ(0));
	vnc_close(&v); /* unmaps the memory under the device's feet */
	WAIT_FOR(vnet_st(dev).resets >= 2);
	vnet_up(&v, dev, F_STD, 1);
	assert_int_equal(VNC_RD(&v, queue_size), QSIZE);
	assert_int_equal(vnc_recv(&v, RXQ(0), in, sizeof(in), 2000, NULL), 64);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_kicks_event_idx, teardown),
		cmocka_unit_test_teardown(test_kicks_flags, teardown),
		cmocka_unit_test_teardown(test_queue_irq, teardown),
		cmocka_unit_test_teardown(test_link, teardown),
		cmocka_unit_test_teardown(test_malformed_rings, teardown),
		cmocka_unit_test_teardown(test_ring_unmapped, teardown),
		cmocka_unit_test_teardown(test_bad_used_inject, teardown),
		cmocka_unit_test_teardown(test_bad_used_rate, teardown),
		cmocka_unit_test_teardown(test_client_gone, teardown),
	};

	return EMU_TEST_MAIN(tests);
}
