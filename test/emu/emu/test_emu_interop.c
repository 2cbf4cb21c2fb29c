/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pdk-emud (lib/emu) against other people's vfio-user clients: each test
 * sends what QEMU's client (hw/vfio-user) or libvfio-user's client
 * (samples/client.c) sends, payloads built byte for byte from the
 * specification's tables, and checks the reply the way that client
 * checks it. See doc/vfio-user.md, "Interoperability".
 */
#include "emu_test.h"

#include <sys/eventfd.h>
#include <sys/mman.h>

#define CFG VFIO_PCI_CONFIG_REGION_INDEX

/* What QEMU's vfio_user_validate_version() proposes: version 0.0. */
static const char qemu_caps[] =
	"{\"capabilities\": {\"migration\": {\"pgsize\": 4096, "
	"\"max_bitmap_size\": 268435456}, \"max_msg_fds\": 16, "
	"\"max_data_xfer_size\": 1048576, \"pgsizes\": 4096, "
	"\"max_dma_maps\": 65535, \"write_multiple\": true}}";
/* What libvfio-user's samples/client.c proposes: version 0.2. */
static const char lvu_caps[] =
	"{\"capabilities\":{\"max_msg_fds\":8,\"max_data_xfer_size\":1048576}}";

static struct pdk_emu_dev *dev;
static struct vuc c;

static int setup(void **state)
{
	(void)state;
	/* BAR0 with a sparse-mmap capability: region info needs 64 bytes */
	dev = emu_start("testdev", emu_path("interop.sock"), "msix-mmap=sparse,vectors=4");
	return vuc_connect_raw(&c, pdk_emu_dev_socket(dev));
}

static int teardown(void **state)
{
	(void)state;
	return emu_close(&dev, &c);
}

/* Send one command of `len` payload bytes; receive the reply into `m`. */
static void xchg(uint16_t cmd, uint32_t flags, const void *p, size_t len,
		 const int *fds, unsigned nfds, struct pdk_vfio_user_msg *m)
{
	uint16_t id = c.next_id++;

	assert_int_equal(pdk_vfio_user_send_cmd(c.sock, id, cmd, flags, p, len, fds,
						nfds), 0);
	assert_int_equal(pdk_vfio_user_recv(c.sock, m, 1 << 20, 8, 5000), 0);
	assert_int_equal(m->hdr.msg_id, id);
	assert_int_equal(m->hdr.command, cmd);
	assert_int_equal(m->hdr.flags & VFIO_USER_F_TYPE_MASK, VFIO_USER_F_TYPE_REPLY);
}

/* The errno of an error reply (0 when it is not one); releases `m`. */
static int reply_err(struct pdk_vfio_user_msg *m)
{
	int err = (m->hdr.flags & VFIO_USER_F_ERROR) ? (int)m->hdr.error_no : 0;

	if (err)
		assert_int_equal(m->len, 0); /* spec: an error reply is the header */
	pdk_vfio_user_msg_release(m);
	return err;
}

/* VERSION with `json` (NUL included); returns the reply's minor. */
static uint16_t version(uint16_t minor, const char *json, struct pdk_vfio_user_caps *caps)
{
	uint8_t buf[512];
	struct vfio_user_version v = {.major = 0, .minor = minor};
	struct pdk_vfio_user_msg m;
	size_t n = strlen(json) + 1;

	memcpy(buf, &v, sizeof(v));
	memcpy(buf + sizeof(v), json, n);
	xchg(VFIO_USER_VERSION, 0, buf, sizeof(v) + n, NULL, 0, &m);
	assert_false(m.hdr.flags & VFIO_USER_F_ERROR);
	assert_true(m.len > sizeof(v) + 1);
	memcpy(&v, m.payload, sizeof(v));
	assert_int_equal(v.major, 0);
	/* both clients check the JSON's terminating NUL */
	assert_int_equal(m.payload[m.len - 1], '\0');
	pdk_vfio_user_caps_init(caps);
	assert_int_equal(pdk_vfio_user_caps_parse((const char *)m.payload + sizeof(v),
						  m.len - sizeof(v) - 1, caps), 0);
	/* a capability we did not offer to honour must not be claimed */
	assert_null(memmem(m.payload, m.len, "write_multiple", 14));
	assert_null(memmem(m.payload, m.len, "twin_socket", 11));
	pdk_vfio_user_msg_release(&m);
	return v.minor;
}

static void qemu_version(void)
{
	struct pdk_vfio_user_caps caps;

	/* QEMU: "incompatible server version" unless major 0, minor <= 0 */
	assert_int_equal(version(0, qemu_caps, &caps), 0);
	/* ... and its check_max_fds/max_xfer/pgsizes/max_dma limits */
	assert_in_range(caps.max_msg_fds, 1, 16);
	assert_in_range(caps.max_data_xfer_size, 1, 64 << 20);
	assert_int_equal(caps.pgsizes & 4095, 0);
	assert_in_range(caps.max_dma_maps, 1, 65535);
}

static void test_qemu_version(void **state)
{
	(void)state;
	qemu_version();
}

static void test_lvu_version(void **state)
{
	struct pdk_vfio_user_caps caps;

	(void)state;
	/* libvfio-user's client speaks 0.2: we answer with the 0.1 we know */
	assert_int_equal(version(2, lvu_caps, &caps), VFIO_USER_MINOR);
	assert_true(caps.max_msg_fds >= 1);
}

/*
 * QEMU asks for region info with argsz 32 (sizeof(struct vfio_region_info)),
 * accepts at most argsz bytes and one fd, and rejects FLAG_CAPS with a
 * cap_offset outside [32, argsz] before it even looks at argsz; then it
 * asks again with the argsz the reply named.
 */
static void test_qemu_region_info(void **state)
{
	struct vfio_user_region_info ri = {.argsz = 32, .index = 0}, out;
	struct pdk_vfio_user_msg m;

	(void)state;
	qemu_version();
	xchg(VFIO_USER_DEVICE_GET_REGION_INFO, 0, &ri, sizeof(ri), NULL, 0, &m);
	assert_false(m.hdr.flags & VFIO_USER_F_ERROR);
	assert_int_equal(m.len, 32);
	memcpy(&out, m.payload, sizeof(out));
	assert_int_equal(out.argsz, 64);
	assert_int_equal(out.index, 0);
	assert_true(out.flags & VFIO_REGION_INFO_FLAG_MMAP);
	assert_false((out.flags & VFIO_REGION_INFO_FLAG_CAPS) &&
		     (out.cap_offset < 32 || out.cap_offset > ri.argsz));
	assert_int_equal(m.nfds, 0);
	pdk_vfio_user_msg_release(&m);

	ri.argsz = out.argsz;
	xchg(VFIO_USER_DEVICE_GET_REGION_INFO, 0, &ri, sizeof(ri), NULL, 0, &m);
	assert_int_equal(m.len, 64);
	memcpy(&out, m.payload, sizeof(out));
	assert_true(out.flags & VFIO_REGION_INFO_FLAG_CAPS);
	assert_int_equal(out.cap_offset, 32);
	assert_int_equal(m.nfds, 1);
	pdk_vfio_user_msg_release(&m);
}

/*
 * libvfio-user's client: the first ask (argsz 32) receives no fd (it gives
 * recvmsg no room for one: an fd would truncate the message); the second
 * sends argsz bytes of payload, not 32.
 */
static void test_lvu_region_info(void **state)
{
	struct pdk_vfio_user_caps caps;
	uint8_t req[64] = {0};
	struct vfio_user_region_info ri = {.argsz = 32, .index = 0}, out;
	struct vfio_user_sparse_area a;
	struct pdk_vfio_user_msg m;

	(void)state;
	version(2, lvu_caps, &caps);
	memcpy(req, &ri, sizeof(ri));
	xchg(VFIO_USER_DEVICE_GET_REGION_INFO, 0, req, 32, NULL, 0, &m);
	assert_false(m.hdr.flags & VFIO_USER_F_ERROR);
	assert_int_equal(m.nfds, 0);
	memcpy(&out, m.payload, sizeof(out));
	pdk_vfio_user_msg_release(&m);
	assert_int_equal(out.argsz, sizeof(req));

	ri.argsz = out.argsz;
	memcpy(req, &ri, sizeof(ri));
	xchg(VFIO_USER_DEVICE_GET_REGION_INFO, 0, req, ri.argsz, NULL, 0, &m);
	assert_false(m.hdr.flags & VFIO_USER_F_ERROR);
	assert_int_equal(m.len, ri.argsz);
	assert_int_equal(m.nfds, 1);
	memcpy(&a, m.payload + 32 + 16, sizeof(a));
	assert_int_equal(a.offset, 4096);
	pdk_vfio_user_msg_release(&m);
}

/* QEMU's unmap_all: DMA_UNMAP {argsz 24, VFIO_DMA_UNMAP_FLAG_ALL, 0, 0}. */
static void test_qemu_unmap_all(void **state)
{
	struct vfio_user_dma_map map = {.argsz = 32, .flags = 3, .offset = 0,
					.addr = 0x100000, .size = 0x4000};
	struct vfio_user_dma_unmap un = {.argsz = 24, .flags = 2}, echo;
	void *mem;
	int fd = vuc_memfd(0x8000, &mem);
	struct pdk_vfio_user_msg m;

	(void)state;
	qemu_version();
	xchg(VFIO_USER_DMA_MAP, 0, &map, sizeof(map), &fd, 1, &m);
	assert_int_equal(reply_err(&m), 0);
	map.addr = 0x200000;
	map.offset = 0x4000;
	xchg(VFIO_USER_DMA_MAP, 0, &map, sizeof(map), &fd, 1, &m);
	assert_int_equal(reply_err(&m), 0);

	xchg(VFIO_USER_DMA_UNMAP, 0, &un, sizeof(un), NULL, 0, &m);
	assert_false(m.hdr.flags & VFIO_USER_F_ERROR);
	assert_int_equal(m.len, sizeof(echo));
	memcpy(&echo, m.payload, sizeof(echo));
	assert_int_equal(echo.flags, 2);
	pdk_vfio_user_msg_release(&m);
	/* both are gone: the same windows map again */
	xchg(VFIO_USER_DMA_MAP, 0, &map, sizeof(map), &fd, 1, &m);
	assert_int_equal(reply_err(&m), 0);
	map.addr = 0x100000;
	map.offset = 0;
	xchg(VFIO_USER_DMA_MAP, 0, &map, sizeof(map), &fd, 1, &m);
	assert_int_equal(reply_err(&m), 0);

	/* ALL with an address is malformed; a dirty bitmap is not offered */
	un.addr = 0x100000;
	xchg(VFIO_USER_DMA_UNMAP, 0, &un, sizeof(un), NULL, 0, &m);
	assert_int_equal(reply_err(&m), EINVAL);
	struct {
		struct vfio_user_dma_unmap u;
		uint64_t pgsize, size, bitmap;
	} dirty = {{.argsz = sizeof(dirty), .flags = 1, .addr = 0x100000,
		    .size = 0x4000}, 4096, 8, 0};
	xchg(VFIO_USER_DMA_UNMAP, 0, &dirty, sizeof(dirty), NULL, 0, &m);
	assert_int_equal(reply_err(&m), ENOTSUP);
	assert_int_equal(vuc_rd32(&c, 0, TESTDEV_REG_ID), TESTDEV_MAGIC);
	close(fd);
	munmap(mem, 0x8000);
}

/*
 * QEMU's SET_IRQS: eventfds in chunks of at most max_msg_fds, argsz 20
 * (the fds are not part of the payload), a run of -1 entries as a message
 * without fds, and {DATA_NONE | TRIGGER, start 0, count 0} to disable.
 */
static void test_qemu_set_irqs(void **state)
{
	const uint32_t trig_fd = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	struct vfio_user_irq_set s = {.argsz = 20, .flags = trig_fd,
				      .index = VFIO_PCI_MSIX_IRQ_INDEX, .start = 0,
				      .count = 2};
	int e[2] = {eventfd(0, EFD_CLOEXEC), eventfd(0, EFD_CLOEXEC)};
	struct pdk_vfio_user_msg m;

	(void)state;
	qemu_version();
	xchg(VFIO_USER_DEVICE_SET_IRQS, 0, &s, sizeof(s), e, 2, &m);
	assert_false(m.hdr.flags & VFIO_USER_F_ERROR);
	assert_int_equal(m.len, 0);
	pdk_vfio_user_msg_release(&m);
	s.start = 1;
	s.count = 1;
	xchg(VFIO_USER_DEVICE_SET_IRQS, 0, &s, sizeof(s), NULL, 0, &m);
	assert_int_equal(reply_err(&m), 0);
	s = (struct vfio_user_irq_set){.argsz = 20, .index = VFIO_PCI_MSIX_IRQ_INDEX,
		.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER};
	xchg(VFIO_USER_DEVICE_SET_IRQS, 0, &s, sizeof(s), NULL, 0, &m);
	assert_int_equal(reply_err(&m), 0);
	close(e[0]);
	close(e[1]);
}

/* QEMU posts writes with No_reply: nothing comes back for them. */
static void test_qemu_posted_write(void **state)
{
	struct {
		struct vfio_user_region_rw rw;
		uint64_t v;
	} w = {{.offset = TESTDEV_REG_SCRATCH, .region = 0, .count = 8}, 0x1122334455667788};
	struct vfio_user_region_rw r = {.offset = TESTDEV_REG_SCRATCH, .region = 0, .count = 8};
	struct pdk_vfio_user_msg m;
	uint64_t v;

	(void)state;
	qemu_version();
	assert_int_equal(pdk_vfio_user_send_cmd(c.sock, c.next_id++, VFIO_USER_REGION_WRITE,
						VFIO_USER_F_NO_REPLY, &w, sizeof(w),
						NULL, 0), 0);
	/* the next message is the read's reply, and it sees the write */
	xchg(VFIO_USER_REGION_READ, 0, &r, sizeof(r), NULL, 0, &m);
	assert_int_equal(m.len, sizeof(r) + 8);
	memcpy(&v, m.payload + sizeof(r), 8);
	assert_int_equal(v, w.v);
	pdk_vfio_user_msg_release(&m);
}

/* Commands we do not implement get an error reply; the session goes on. */
static void test_unimplemented(void **state)
{
	uint8_t payload[16] = {0};
	struct pdk_vfio_user_msg m;

	(void)state;
	qemu_version();
	xchg(14, 0, payload, sizeof(payload), NULL, 0, &m); /* QEMU's old DIRTY_PAGES */
	assert_int_equal(reply_err(&m), ENOSYS);
	xchg(0x1234, 0, payload, sizeof(payload), NULL, 0, &m);
	assert_int_equal(reply_err(&m), ENOSYS);
	xchg(VFIO_USER_DEVICE_FEATURE, 0, payload, 8, NULL, 0, &m);
	assert_int_equal(reply_err(&m), ENOTSUP);
	xchg(VFIO_USER_DEVICE_GET_REGION_IO_FDS, 0, payload, sizeof(payload), NULL, 0, &m);
	assert_int_equal(reply_err(&m), ENOTSUP);
	/* a WRITE_MULTI posted with No_reply gets nothing back */
	assert_int_equal(pdk_vfio_user_send_cmd(c.sock, c.next_id++,
						VFIO_USER_REGION_WRITE_MULTI,
						VFIO_USER_F_NO_REPLY, payload, 8, NULL, 0), 0);
	assert_int_equal(vuc_rd32(&c, 0, TESTDEV_REG_ID), TESTDEV_MAGIC);
}

/*
 * QEMU answers the server's DMA_WRITE with the header alone
 * (hw/vfio-user/pci.c); the device must take that as success.
 */
static void test_qemu_dma_write_reply(void **state)
{
	static uint8_t local[0x10000];
	void *mem;
	int fd = vuc_memfd(0x10000, &mem);

	(void)state;
	assert_int_equal(vuc_version(&c, VFIO_USER_MAJOR, 0), 0);
	assert_int_equal(vuc_bus_master(&c, true), 0);
	assert_int_equal(vuc_dma_map(&c, 0x100000, 0x10000, fd, 0, 3), 0);
	assert_int_equal(vuc_dma_map_local(&c, 0x800000, local, sizeof(local)), 0);
	memset(mem, 0x5a, 0x1000);
	c.dma_write_reply_empty = true;
	assert_int_equal(vuc_wr32(&c, 0, TESTDEV_REG_STATUS, 0), 0);
	assert_int_equal(vuc_wr64(&c, 0, TESTDEV_REG_DMA_SRC, 0x100000), 0);
	assert_int_equal(vuc_wr64(&c, 0, TESTDEV_REG_DMA_DST, 0x800000), 0);
	assert_int_equal(vuc_wr32(&c, 0, TESTDEV_REG_DMA_LEN, 0x1000), 0);
	assert_int_equal(vuc_wr32(&c, 0, TESTDEV_REG_DMA_VEC, ~0u), 0);
	assert_int_equal(vuc_wr32(&c, 0, TESTDEV_REG_DOORBELL, 1), 0);
	assert_int_equal(emu_wait_reg(&c, 0, TESTDEV_REG_STATUS, TESTDEV_ST_DONE,
				      TESTDEV_ST_DONE), TESTDEV_ST_DONE);
	assert_true(c.dma_served >= 1);
	assert_memory_equal(local, mem, 0x1000);
	close(fd);
	munmap(mem, 0x10000);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_qemu_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lvu_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_qemu_region_info, setup, teardown),
		cmocka_unit_test_setup_teardown(test_lvu_region_info, setup, teardown),
		cmocka_unit_test_setup_teardown(test_qemu_unmap_all, setup, teardown),
		cmocka_unit_test_setup_teardown(test_qemu_set_irqs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_qemu_posted_write, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unimplemented, setup, teardown),
		cmocka_unit_test_setup_teardown(test_qemu_dma_write_reply, setup, teardown),
	};

	return EMU_TEST_MAIN(tests);
}
