/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The emulated virtio-net device through the test client: identity and
 * capabilities, feature negotiation, the common configuration's selector
 * registers and checks, frames in loopback (one buffer, chains, merged
 * receive buffers), two devices back to back (with flow control, nothing
 * lost), the generator and sink, multiqueue through the control queue, and
 * knob errors.
 */
#include "vnet_test.h"

#include <linux/pci_regs.h>

#define CFG VFIO_PCI_CONFIG_REGION_INDEX

static struct pdk_emu_dev *dev, *dev2;
static struct vnc v, v2;

static int teardown(void **state)
{
	(void)state;
	vnc_close(&v);
	vnc_close(&v2);
	pdk_emu_dev_destroy(dev);
	pdk_emu_dev_destroy(dev2);
	dev = dev2 = NULL;
	return 0;
}

/* The vendor capabilities, by cfg_type: offset of each in config space. */
static void find_caps(struct vuc *c, unsigned at[6])
{
	uint8_t pos = (uint8_t)vuc_cfg16(c, PCI_CAPABILITY_LIST);

	memset(at, 0, 6 * sizeof(at[0]));
	for (int ttl = 48; pos && ttl > 0; ttl--) {
		uint16_t hdr = vuc_cfg16(c, pos);
		uint8_t type = 0xff;

		vuc_read(c, CFG, pos + 3u, &type, 1);
		if ((hdr & 0xff) == 0x09 && type < 6 && at[type] == 0)
			at[type] = pos;
		pos = (uint8_t)(hdr >> 8);
	}
}

static void test_identity(void **state)
{
	struct pdk_virtio_pci_notify_cap cap;
	unsigned at[6];
	struct vuc *c = &v.c;

	(void)state;
	dev = vnet_dev("id.sock", NULL);
	assert_int_equal(vnc_open(&v, pdk_emu_dev_socket(dev)), 0);
	assert_int_equal(vuc_cfg16(c, PCI_VENDOR_ID), 0x1af4);
	assert_int_equal(vuc_cfg16(c, PCI_DEVICE_ID), 0x1041);
	assert_int_equal(vuc_rd32(c, CFG, PCI_CLASS_REVISION), 0x02000001);
	find_caps(c, at);
	for (unsigned t = PDK_VIRTIO_PCI_CAP_COMMON_CFG; t <= PDK_VIRTIO_PCI_CAP_DEVICE_CFG; t++)
		assert_int_not_equal(at[t], 0);
	assert_int_equal(vuc_read(c, CFG, at[PDK_VIRTIO_PCI_CAP_NOTIFY_CFG], &cap,
				  sizeof(cap)), 0);
	assert_int_equal(cap.cap.cap_len, sizeof(cap));
	assert_int_equal(cap.cap.bar, VNET_EMU_BAR);
	assert_int_equal(cap.cap.offset, VNET_EMU_NOTIFY_OFF);
	assert_int_equal(cap.cap.length, 2 * VNET_EMU_NOTIFY_MULT);
	assert_int_equal(cap.notify_off_multiplier, VNET_EMU_NOTIFY_MULT);
	assert_int_equal(vuc_read(c, CFG, at[PDK_VIRTIO_PCI_CAP_COMMON_CFG], &cap, 16), 0);
	assert_int_equal(cap.cap.offset, VNET_EMU_COMMON_OFF);
	assert_int_equal(cap.cap.length, sizeof(struct pdk_virtio_pci_common_cfg));
	/* MSI-X: config + 2 queues; the common and ISR pages are not mappable */
	assert_int_equal(vuc_cfg16(c, vuc_cfg_find_cap(c, PCI_CAP_ID_MSIX) + PCI_MSIX_FLAGS) &
			 PCI_MSIX_FLAGS_QSIZE, 2);
	assert_true(v.reg.sparse);
	for (unsigned i = 0; i < v.reg.nr_areas; i++)
		assert_true(v.reg.areas[i].offset >= VNET_EMU_DEVCFG_OFF);
	/* device configuration: our MAC, link up, one pair */
	assert_int_equal(v.bar[VNET_EMU_DEVCFG_OFF] & 1, 0);
	assert_int_equal(vnc_link(&v), PDK_VIRTIO_NET_S_LINK_UP);
}

static void test_features(void **state)
{
	(void)state;
	dev = vnet_dev("feat.sock", "mac=02:00:00:00:00:42");
	assert_int_equal(vnc_open(&v, pdk_emu_dev_socket(dev)), 0);
	assert_int_equal(vnc_negotiate(&v, ~0ull, false), 0);
	assert_int_equal(v.features, F_STD);
	assert_int_equal(v.bar[VNET_EMU_DEVCFG_OFF + 5], 0x42);
	/* refused: no VERSION_1, no ACCESS_PLATFORM, a bit not offered */
	assert_int_equal(vnc_negotiate(&v, F_STD & ~F(PDK_VIRTIO_F_VERSION_1), true), -EPROTO);
	assert_int_equal(vnc_negotiate(&v, F_STD & ~F(PDK_VIRTIO_F_ACCESS_PLATFORM), true),
			 -EPROTO);
	assert_int_equal(vnc_negotiate(&v, F_STD | F(PDK_VIRTIO_NET_F_MQ), true), -EPROTO);
	/* the minimum is fine */
	assert_int_equal(vnc_negotiate(&v, F(PDK_VIRTIO_F_VERSION_1) |
				       F(PDK_VIRTIO_F_ACCESS_PLATFORM), true), 0);
	/* DRIVER_OK without FEATURES_OK: the device needs a reset */
	VNC_WR(&v, device_status, 0);
	VNC_WR(&v, device_status, PDK_VIRTIO_STATUS_ACKNOWLEDGE | PDK_VIRTIO_STATUS_DRIVER |
				  PDK_VIRTIO_STATUS_DRIVER_OK);
	assert_true(vnc_status(&v) & PDK_VIRTIO_STATUS_NEEDS_RESET);
	VNC_WR(&v, device_status, 0);
	assert_int_equal(vnc_status(&v), 0);
	vnc_close(&v);
	pdk_emu_dev_destroy(dev);
	/* features-off, and MQ with more pairs */
	dev = vnet_dev("feat2.sock", "features-off=0x20008000,queue-pairs=3");
	assert_int_equal(vnc_open(&v, pdk_emu_dev_socket(dev)), 0);
	assert_int_equal(vnc_negotiate(&v, ~0ull, false), 0);
	assert_int_equal(v.features, (F_STD | F_MQ) & ~(F(PDK_VIRTIO_F_EVENT_IDX) |
							 F(PDK_VIRTIO_NET_F_MRG_RXBUF)));
	assert_int_equal(VNC_RD(&v, num_queues), 7);
}

static void test_queue_regs(void **state)
{
	(void)state;
	dev = vnet_dev("regs.sock", "queue-size=512");
	assert_int_equal(vnc_open(&v, pdk_emu_dev_socket(dev)), 0);
	assert_int_equal(vnc_negotiate(&v, F_STD, false), 0);
	assert_int_equal(VNC_RD(&v, num_queues), 2);
	VNC_WR(&v, queue_select, 1);
	assert_int_equal(VNC_RD(&v, queue_size), 512);
	assert_int_equal(VNC_RD(&v, queue_notify_off), 1);
	assert_int_equal(VNC_RD(&v, queue_msix_vector), PDK_VIRTIO_MSI_NO_VECTOR);
	VNC_WR(&v, queue_size, 64);
	VNC_WR(&v, queue_msix_vector, 2);
	assert_int_equal(VNC_RD(&v, queue_msix_vector), 2);
	VNC_WR(&v, queue_msix_vector, 3); /* only 3 vectors: refused */
	assert_int_equal(VNC_RD(&v, queue_msix_vector), PDK_VIRTIO_MSI_NO_VECTOR);
	VNC_WR(&v, queue_select, 0);
	assert_int_equal(VNC_RD(&v, queue_size), 512);
	VNC_WR(&v, queue_select, 1);
	assert_int_equal(VNC_RD(&v, queue_size), 64);
	VNC_WR(&v, queue_select, 7); /* no such queue: reads 0 */
	assert_int_equal(VNC_RD(&v, queue_size), 0);
	/* device feature select past 1 reads 0 */
	VNC_WR(&v, device_feature_select, 2);
	assert_int_equal(VNC_RD(&v, device_feature), 0);
	/* a queue size that is no power of two: needs reset at enable */
	VNC_WR(&v, queue_select, 0);
	VNC_WR(&v, queue_size, 100);
	VNC_WR(&v, queue_enable, 1);
	assert_int_equal(VNC_RD(&v, queue_enable), 0);
	assert_true(vnc_status(&v) & PDK_VIRTIO_STATUS_NEEDS_RESET);
	/* reset brings the maximum back */
	assert_int_equal(vnc_negotiate(&v, F_STD, false), 0);
	assert_int_equal(VNC_RD(&v, queue_size), 512);
	/* a misaligned descriptor table */
	vnc_wr(&v, PDK_VIRTIO_COMMON_OFF(queue_desc), 4, 0x40000008);
	VNC_WR(&v, queue_enable, 1);
	assert_true(vnc_status(&v) & PDK_VIRTIO_STATUS_NEEDS_RESET);
}

static void test_loopback(void **state)
{
	struct pdk_emu_virtio_net_stats st;
	uint64_t bytes = 0;

	(void)state;
	dev = vnet_dev("loop.sock", NULL);
	vnet_up(&v, dev, F_STD, 1);
	for (uint32_t i = 0; i < 300; i++) {
		uint32_t len = 60 + (i * 97) % (1514 - 60 + 1);

		vnet_roundtrip(&v, TXQ(0), &v, RXQ(0), len, i);
		bytes += len;
	}
	vnc_reclaim(&v, TXQ(0));
	vnet_stats(dev, &st);
	assert_int_equal(st.tx_frames, 300);
	assert_int_equal(st.rx_frames, 300);
	assert_int_equal(st.tx_bytes, bytes);
	assert_int_equal(st.rx_bytes, bytes);
	assert_int_equal(st.tx_dropped + st.rx_dropped, 0);
	assert_int_equal(st.needs_reset, 0);
}

/* Chains on transmit; big frames over several 2 KiB receive buffers. */
static void test_loopback_merged(void **state)
{
	static uint8_t out[9000], in[9000];
	struct pdk_emu_virtio_net_stats st;
	const uint32_t lens[] = {1514, 2036, 2037, 4000, 9000};
	unsigned nb;

	(void)state;
	dev = vnet_dev("mrg.sock", NULL);
	vnet_up(&v, dev, F_STD, 1);
	for (unsigned i = 0; i < PDK_DIM(lens); i++) {
		vnc_frame(out, lens[i], i);
		assert_int_equal(vnc_send_segs(&v, TXQ(0), out, lens[i], 1000), 0);
		vnc_kick(&v, TXQ(0));
		assert_int_equal(vnc_recv(&v, RXQ(0), in, sizeof(in), 2000, &nb), (int)lens[i]);
		assert_memory_equal(in, out, lens[i]);
		/* 2048-byte buffers hold the 12-byte header and 2036 bytes */
		assert_int_equal(nb, (lens[i] + 12 + VNC_BUF - 1) / VNC_BUF);
	}
	vnc_close(&v);
	/* without MRG_RXBUF a frame must fit one buffer: else dropped */
	vnet_up(&v, dev, F_STD & ~F(PDK_VIRTIO_NET_F_MRG_RXBUF), 1);
	vnc_frame(out, 4000, 1);
	assert_int_equal(vnc_send_segs(&v, TXQ(0), out, 4000, 4000), 0);
	vnc_kick(&v, TXQ(0));
	WAIT_FOR(vnet_st(dev).rx_dropped == 1);
	vnet_roundtrip(&v, TXQ(0), &v, RXQ(0), 2036, 5);
	vnet_stats(dev, &st);
	assert_int_equal(st.needs_reset, 0);
}

static void test_pair(void **state)
{
	struct pdk_emu_virtio_net_stats a, b;

	(void)state;
	dev = vnet_dev("a.sock", "wire=pair,pair=ab");
	dev2 = vnet_dev("b.sock", "wire=pair,pair=ab");
	vnet_up(&v, dev, F_STD, 1);
	vnet_up(&v2, dev2, F_STD, 1);
	for (uint32_t i = 0; i < 100; i++) {
		vnet_roundtrip(&v, TXQ(0), &v2, RXQ(0), 64 + i, i);
		vnet_roundtrip(&v2, TXQ(0), &v, RXQ(0), 1514 - i, i);
	}
	vnet_stats(dev, &a);
	vnet_stats(dev2, &b);
	assert_int_equal(a.tx_frames, 100);
	assert_int_equal(b.rx_frames, 100);
	assert_int_equal(b.tx_frames, 100);
	assert_int_equal(a.rx_frames, 100);
	/* a third device cannot join */
	{
		char err[512];
		char spec[256];

		snprintf(spec, sizeof(spec), "virtio-net,socket=%s,wire=pair,pair=ab",
			 emu_path("c.sock"));
		assert_null(pdk_emu_dev_create(spec, err, sizeof(err)));
		assert_str_contains(err, "two devices use that pair");
	}
}

/*
 * A receiver that does not take frames for a while: the sender's frames
 * wait in the wire and its transmit queue, nothing is dropped, and all
 * of them arrive once the receiver runs.
 */
static void test_pair_flow_control(void **state)
{
	static uint8_t f[64], in[2048];
	struct pdk_emu_virtio_net_stats a, b;
	unsigned sent = 0, got = 0;
	int64_t end = emu_test_ms() + 10000;

	(void)state;
	dev = vnet_dev("fa.sock", "wire=pair,pair=fc");
	dev2 = vnet_dev("fb.sock", "wire=pair,pair=fc");
	vnet_up(&v, dev, F_STD, 1);
	vnet_up(&v2, dev2, F_STD, 1);
	/* 20,000 frames: far more than the receive ring's 256 */
	while (sent < 20000 && emu_test_ms() < end) {
		vnc_frame(f, sizeof(f), sent);
		if (vnc_send(&v, TXQ(0), f, sizeof(f)) == 0)
			sent++;
		else
			emu_sleep_ms(1);
		vnc_kick(&v, TXQ(0));
	}
	assert_int_equal(sent, 20000);
	while (got < sent && emu_test_ms() < end) {
		int n = vnc_recv(&v2, RXQ(0), in, sizeof(in), 1000, NULL);

		assert_int_equal(n, sizeof(f));
		vnc_frame(f, sizeof(f), got);
		assert_memory_equal(in, f, sizeof(f)); /* in order */
		got++;
	}
	assert_int_equal(got, sent);
	vnet_stats(dev, &a);
	vnet_stats(dev2, &b);
	assert_int_equal(a.tx_frames, sent);
	assert_int_equal(b.rx_frames, sent);
	assert_int_equal(a.tx_dropped + b.rx_dropped, 0);
}

static void test_gen(void **state)
{
	static uint8_t in[2048], f[128];
	struct pdk_emu_virtio_net_stats st;
	uint64_t seq, prev = 0;

	(void)state;
	dev = vnet_dev("gen.sock", "wire=gen,gen-size=128,mac=02:00:00:00:00:07");
	vnet_up(&v, dev, F_STD, 1);
	for (unsigned i = 0; i < 1000; i++) {
		assert_int_equal(vnc_recv(&v, RXQ(0), in, sizeof(in), 2000, NULL), 128);
		assert_int_equal(in[5], 0x07);              /* to us */
		assert_int_equal(in[12], 0x88);
		memcpy(&seq, in + 14, sizeof(seq));
		if (i)
			assert_int_equal(seq, prev + 1);
		prev = seq;
		assert_int_equal(in[127], 127);
	}
	/* the sink takes what we send */
	vnc_frame(f, sizeof(f), 1);
	for (unsigned i = 0; i < 100; i++) {
		assert_int_equal(vnc_send(&v, TXQ(0), f, sizeof(f)), 0);
		vnc_kick(&v, TXQ(0));
		WAIT_FOR(vnc_reclaim(&v, TXQ(0)) == 1);
	}
	vnet_stats(dev, &st);
	assert_int_equal(st.tx_frames, 100);
	assert_int_equal(st.tx_bytes, 100 * 128);
	assert_true(st.rx_frames >= 1000);
}

/* gen-pps: roughly that many per second; frames without a buffer are
 * dropped. Loose bounds: the machine is shared. */
static void test_gen_rate(void **state)
{
	struct pdk_emu_virtio_net_stats st;

	(void)state;
	dev = vnet_dev("rate.sock", "wire=gen,gen-pps=2000");
	vnet_up(&v, dev, F_STD, 1);
	emu_sleep_ms(500);
	vnet_stats(dev, &st);
	/* 256 buffers taken, the rest dropped; about 1000 in all */
	assert_int_equal(st.rx_frames, QSIZE);
	assert_true(st.rx_frames + st.rx_dropped >= 300);
	assert_true(st.rx_frames + st.rx_dropped <= 3000);
}

/* Four pairs offered, three used: steering by the sender's pair. */
static void test_multiqueue(void **state)
{
	struct pdk_emu_virtio_net_stats st;

	(void)state;
	dev = vnet_dev("mq.sock", "queue-pairs=4,vectors=4");
	vnet_up(&v, dev, F_STD | F_MQ, 4);
	assert_int_equal(vnc_ctrl_index(&v), 8);
	assert_int_equal(VNC_RD(&v, num_queues), 9);
	assert_int_equal(vnc_ctrl_mq(&v, 3), PDK_VIRTIO_NET_OK);
	assert_int_equal(vnc_ctrl_mq(&v, 5), PDK_VIRTIO_NET_ERR);
	assert_int_equal(vnc_ctrl_mq(&v, 0), PDK_VIRTIO_NET_ERR);
	for (unsigned p = 0; p < 3; p++)
		for (unsigned i = 0; i < 20; i++)
			vnet_roundtrip(&v, TXQ(p), &v, RXQ(p), 100 + p, i);
	vnet_stats(dev, &st);
	assert_int_equal(st.ctrl_cmds, 3);
	assert_int_equal(st.rx_frames, 60);
	/* back to one pair */
	assert_int_equal(vnc_ctrl_mq(&v, 1), PDK_VIRTIO_NET_OK);
	vnet_roundtrip(&v, TXQ(0), &v, RXQ(0), 100, 1);
}

static void test_knob_errors(void **state)
{
	static const struct {
		const char *knobs, *msg;
	} bad[] = {
		{"wire=pair", "wire=pair needs pair=NAME"},
		{"wire=cable", "bad value 'cable' for knob 'wire'"},
		{"mac=01:00:00:00:00:01", "unicast"},
		{"mac=02:00:00", "expected a unicast"},
		{"queue-size=100", "a power of two"},
		{"queue-size=65536", "expected 2..32768"},
		{"queue-pairs=17", "expected 1..16"},
		{"gen-size=13", "expected 14..65535"},
		{"link=sideways", "bad value 'sideways' for knob 'link'"},
		{"bad-used=sometimes", "bad value 'sometimes' for knob 'bad-used'"},
		{"bad-used-every=0", "expected 1.."},
		{"queue-pairs=16,vectors=2048,msix=shared", "does not fit"},
	};
	char spec[256], err[1024];

	(void)state;
	for (unsigned i = 0; i < PDK_DIM(bad); i++) {
		snprintf(spec, sizeof(spec), "virtio-net,socket=%s,%s", emu_path("k.sock"),
			 bad[i].knobs);
		assert_null(pdk_emu_dev_create(spec, err, sizeof(err)));
		assert_str_contains(err, bad[i].msg);
	}
	/* the largest configuration is fine */
	dev = vnet_dev("big.sock", "queue-pairs=16,queue-size=32768,msix=own");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_identity, teardown),
		cmocka_unit_test_teardown(test_features, teardown),
		cmocka_unit_test_teardown(test_queue_regs, teardown),
		cmocka_unit_test_teardown(test_loopback, teardown),
		cmocka_unit_test_teardown(test_loopback_merged, teardown),
		cmocka_unit_test_teardown(test_pair, teardown),
		cmocka_unit_test_teardown(test_pair_flow_control, teardown),
		cmocka_unit_test_teardown(test_gen, teardown),
		cmocka_unit_test_teardown(test_gen_rate, teardown),
		cmocka_unit_test_teardown(test_multiqueue, teardown),
		cmocka_unit_test_teardown(test_knob_errors, teardown),
	};

	return EMU_TEST_MAIN(tests);
}
