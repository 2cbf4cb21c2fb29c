/* SPDX-License-Identifier: BSD-3-Clause */
/* Shared helpers of the virtio-net model tests. */
#ifndef VNET_TEST_H
#define VNET_TEST_H

#include "emu_test.h"

#include "vnet_client.h"

#define F(bit) PDK_VIRTIO_BIT(bit)
/* What the device offers with one queue pair. */
#define F_STD (F(PDK_VIRTIO_F_VERSION_1) | F(PDK_VIRTIO_F_ACCESS_PLATFORM) |   \
	       F(PDK_VIRTIO_F_EVENT_IDX) | F(PDK_VIRTIO_NET_F_MAC) |           \
	       F(PDK_VIRTIO_NET_F_STATUS) | F(PDK_VIRTIO_NET_F_MRG_RXBUF))
#define F_MQ (F(PDK_VIRTIO_NET_F_MQ) | F(PDK_VIRTIO_NET_F_CTRL_VQ))
#define QSIZE 256
#define RXQ(p) (2 * (p))
#define TXQ(p) (2 * (p) + 1)

static inline struct pdk_emu_dev *vnet_dev(const char *sock, const char *knobs)
{
	return emu_start("virtio-net", emu_path(sock), knobs);
}

static inline void vnet_stats(struct pdk_emu_dev *d, struct pdk_emu_virtio_net_stats *st)
{
	assert_int_equal(pdk_emu_virtio_net_stats(d, st), 0);
}

static inline struct pdk_emu_virtio_net_stats vnet_st(struct pdk_emu_dev *d)
{
	struct pdk_emu_virtio_net_stats st;

	vnet_stats(d, &st);
	return st;
}

/* Negotiate `want`, set up `pairs` queue pairs (and the control queue
 * with MQ), DRIVER_OK, receive buffers posted. */
static inline void vnet_up(struct vnc *v, struct pdk_emu_dev *d, uint64_t want,
			   unsigned pairs)
{
	assert_int_equal(vnc_open(v, pdk_emu_dev_socket(d)), 0);
	assert_int_equal(vnc_negotiate(v, want, false), 0);
	for (unsigned p = 0; p < pairs; p++) {
		assert_int_equal(vnc_queue(v, RXQ(p), QSIZE, PDK_VIRTIO_MSI_NO_VECTOR), 0);
		assert_int_equal(vnc_queue(v, TXQ(p), QSIZE, PDK_VIRTIO_MSI_NO_VECTOR), 0);
	}
	if (vnc_ctrl_index(v) >= 0)
		assert_int_equal(vnc_queue(v, (unsigned)vnc_ctrl_index(v), 16,
					   PDK_VIRTIO_MSI_NO_VECTOR), 0);
	vnc_driver_ok(v);
	assert_int_equal(vnc_status(v) & (PDK_VIRTIO_STATUS_DRIVER_OK |
					  PDK_VIRTIO_STATUS_NEEDS_RESET),
			 PDK_VIRTIO_STATUS_DRIVER_OK);
	for (unsigned p = 0; p < pairs; p++)
		vnc_rx_fill(v, RXQ(p));
}

/* Send a frame of len bytes and check it comes back intact on `to`. */
static inline void vnet_roundtrip(struct vnc *from, unsigned txq, struct vnc *to,
				  unsigned rxq, uint32_t len, uint32_t seed)
{
	static uint8_t out[65536], in[65536];
	unsigned nb = 0;

	vnc_frame(out, len, seed);
	assert_int_equal(vnc_send(from, txq, out, len), 0);
	vnc_kick(from, txq);
	assert_int_equal(vnc_recv(to, rxq, in, sizeof(in), 2000, &nb), (int)len);
	assert_memory_equal(in, out, len);
	assert_int_equal(nb, 1);
}

/* Wait (bounded) until cond holds. */
#define WAIT_FOR(cond)                                                        \
	do {                                                                  \
		int64_t end_ = emu_test_ms() + 3000;                          \
		bool ok_;                                                     \
		while (!(ok_ = (cond)) && emu_test_ms() < end_)               \
			emu_sleep_ms(1);                                      \
		if (!ok_)                                                     \
			fail_msg("timed out waiting for %s", #cond);          \
	} while (0)

#endif /* VNET_TEST_H */
