/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Malformed messages in both directions. Client -> server: every broken
 * header, size, fd count, command, index, offset and count is answered
 * with an error (or, when the stream cannot be framed, a closed
 * connection) and the server keeps serving. Server -> client: a hostile
 * server's replies are rejected by the lib/vfio_user decoders the client
 * uses, with an error, not a crash.
 */
#include "emu_test.h"

#include <pthread.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>

#define CFG VFIO_PCI_CONFIG_REGION_INDEX

static struct pdk_emu_dev *dev;
static struct vuc c;

static int setup(void **state)
{
	(void)state;
	return emu_open(&dev, &c, "bad.sock", "max-fds=4,max-xfer=64k");
}

static int teardown(void **state)
{
	(void)state;
	return emu_close(&dev, &c);
}

/* The server still answers on this connection. */
static void assert_serving(struct vuc *v)
{
	assert_int_equal(vuc_rd32(v, 0, TESTDEV_REG_ID), TESTDEV_MAGIC);
}

/* The connection was closed by the server. */
static void assert_closed(struct vuc *v)
{
	struct pdk_vfio_user_msg m;

	assert_int_equal(pdk_vfio_user_recv(v->sock, &m, 1 << 20, 8, 5000), -ECONNRESET);
}

static void reconnect(void)
{
	vuc_close(&c);
	assert_int_equal(vuc_connect(&c, pdk_emu_dev_socket(dev)), 0);
	assert_serving(&c);
}

static void raw(int sock, const void *p, size_t n)
{
	assert_int_equal(send(sock, p, n, MSG_NOSIGNAL), (ssize_t)n);
}

static void test_framing(void **state)
{
	struct vfio_user_header h = {.msg_id = 1, .command = VFIO_USER_REGION_READ};
	struct pdk_vfio_user_msg m;

	(void)state;
	/* msg_size below the header: the stream cannot be framed */
	h.msg_size = 8;
	raw(c.sock, &h, sizeof(h));
	assert_closed(&c);
	reconnect();
	/* over the limit: an error reply naming it, then hang-up */
	h.msg_size = 16 + (64 << 10) + 65;
	raw(c.sock, &h, sizeof(h));
	assert_int_equal(pdk_vfio_user_recv(c.sock, &m, 64, 0, 5000), 0);
	assert_int_equal(pdk_vfio_user_reply_check(&m, 1, VFIO_USER_REGION_READ), -E2BIG);
	pdk_vfio_user_msg_release(&m);
	assert_closed(&c);
	reconnect();
	/* half a header, then the client leaves */
	raw(c.sock, &h, 7);
	reconnect();
	/* a payload that never comes: the server gives up on it */
	h.msg_size = 16 + 16;
	raw(c.sock, &h, sizeof(h));
	raw(c.sock, "12345678", 8);
	assert_closed(&c);
	reconnect();
}

static void test_fds(void **state)
{
	struct vfio_user_dma_map map = {.argsz = 32, .flags = 3, .addr = 0x10000,
					.size = 0x1000};
	int fds[8];

	(void)state;
	for (int i = 0; i < 8; i++)
		fds[i] = eventfd(0, EFD_CLOEXEC);
	/* more fds than max_msg_fds: all closed, refused, still serving */
	assert_int_equal(vuc_call(&c, VFIO_USER_DMA_MAP, &map, sizeof(map), fds, 8, NULL),
			 -EBADF);
	assert_serving(&c);
	/* fds where none belong */
	assert_int_equal(vuc_call(&c, VFIO_USER_DEVICE_RESET, NULL, 0, fds, 1, NULL),
			 -EINVAL);
	struct vfio_user_region_rw rw = {.offset = 0, .region = 0, .count = 4};
	assert_int_equal(vuc_call(&c, VFIO_USER_REGION_READ, &rw, sizeof(rw), fds, 2,
				  NULL), -EBADF);
	/* an eventfd that is not one */
	int p[2];
	assert_int_equal(pipe(p), 0);
	assert_int_equal(vuc_set_irqs(&c, VFIO_PCI_MSIX_IRQ_INDEX,
				      VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
				      0, 1, p, 1, NULL), -EINVAL);
	assert_serving(&c);
	close(p[0]);
	close(p[1]);
	for (int i = 0; i < 8; i++)
		close(fds[i]);
}

static void test_commands(void **state)
{
	struct pdk_vfio_user_msg m;
	uint8_t junk[8] = {0};

	(void)state;
	assert_int_equal(vuc_call(&c, 99, NULL, 0, NULL, 0, NULL), -ENOSYS);
	assert_int_equal(vuc_call(&c, 14, NULL, 0, NULL, 0, NULL), -ENOSYS);
	assert_int_equal(vuc_call(&c, 0, NULL, 0, NULL, 0, NULL), -ENOSYS);
	assert_int_equal(vuc_call(&c, VFIO_USER_DEVICE_GET_REGION_IO_FDS, junk, 8,
				  NULL, 0, NULL), -ENOTSUP);
	assert_int_equal(vuc_call(&c, VFIO_USER_DEVICE_FEATURE, junk, 8, NULL, 0, NULL),
			 -ENOTSUP);
	assert_int_equal(vuc_call(&c, VFIO_USER_REGION_WRITE_MULTI, junk, 8, NULL, 0,
				  NULL), -ENOTSUP);
	assert_int_equal(vuc_call(&c, VFIO_USER_DMA_READ, junk, 8, NULL, 0, NULL),
			 -EINVAL);
	assert_int_equal(vuc_call(&c, VFIO_USER_DEVICE_RESET, junk, 1, NULL, 0, NULL),
			 -EINVAL);
	/* a stray "reply" from the client is dropped without an answer */
	struct vfio_user_header h = {.msg_id = 77, .command = VFIO_USER_REGION_READ,
				     .msg_size = 16, .flags = VFIO_USER_F_TYPE_REPLY};
	raw(c.sock, &h, sizeof(h));
	/* NO_REPLY: nothing comes back; the next reply is the next command's */
	uint64_t v = 5;
	struct vfio_user_region_rw w = {.offset = TESTDEV_REG_SCRATCH, .region = 0,
					.count = 8};
	struct iovec iov[2] = {{&w, sizeof(w)}, {&v, sizeof(v)}};
	struct vfio_user_header nr = {.msg_id = 500, .command = VFIO_USER_REGION_WRITE,
				      .flags = VFIO_USER_F_NO_REPLY};
	assert_int_equal(pdk_vfio_user_sendv(c.sock, &nr, iov, 2, NULL, 0), 0);
	nr.msg_id = 501; /* a failing NO_REPLY command is silent too */
	w.region = 9;
	assert_int_equal(pdk_vfio_user_sendv(c.sock, &nr, iov, 2, NULL, 0), 0);
	assert_int_equal(vuc_rd64(&c, 0, TESTDEV_REG_SCRATCH), 5);
	assert_int_equal(pdk_vfio_user_recv(c.sock, &m, 64, 0, 50), -ETIMEDOUT);
	assert_serving(&c);
}

static void test_region_access(void **state)
{
	struct vfio_user_region_rw rw = {.offset = 0, .region = 0, .count = 4};
	uint8_t big[70000];

	(void)state;
	assert_int_equal(vuc_read(&c, 9, 0, big, 4), -EINVAL);
	assert_int_equal(vuc_read(&c, 1, 0, big, 4), -EINVAL);   /* empty */
	assert_int_equal(vuc_read(&c, 6, 0, big, 4), -EINVAL);   /* no ROM */
	assert_int_equal(vuc_read(&c, 0, 16384, big, 1), -EINVAL);
	assert_int_equal(vuc_read(&c, 0, 16383, big, 2), -EINVAL);
	assert_int_equal(vuc_read(&c, 0, UINT64_MAX - 1, big, 4), -EINVAL);
	assert_int_equal(vuc_read(&c, CFG, 4096, big, 4), -EINVAL);
	assert_int_equal(vuc_read(&c, 0, 0, big, 0), -EINVAL);
	/* over max_data_xfer_size (64k here) */
	assert_int_equal(vuc_read(&c, 0, 0, big, 65537), -E2BIG);
	assert_int_equal(vuc_write(&c, 0, 0, big, 65537), -E2BIG);
	/* a write whose data is shorter or longer than its count */
	assert_int_equal(vuc_callv(&c, VFIO_USER_REGION_WRITE, &rw, sizeof(rw), big, 3,
				   NULL, 0, NULL), -EINVAL);
	assert_int_equal(vuc_callv(&c, VFIO_USER_REGION_WRITE, &rw, sizeof(rw), big, 5,
				   NULL, 0, NULL), -EINVAL);
	assert_int_equal(vuc_call(&c, VFIO_USER_REGION_READ, &rw, 12, NULL, 0, NULL),
			 -EINVAL);
	/* a big read at the limit works */
	assert_int_equal(vuc_read(&c, 0, 0, big, 16384), 0);
	assert_serving(&c);
}

static void test_info_requests(void **state)
{
	struct vfio_user_region_info ri = {.argsz = 16, .index = 0};
	struct vfio_user_irq_info ii = {.argsz = 16, .index = 2};
	struct vfio_user_device_info di = {.argsz = 8};

	(void)state;
	assert_int_equal(vuc_call(&c, VFIO_USER_DEVICE_GET_REGION_INFO, &ri, sizeof(ri),
				  NULL, 0, NULL), -EINVAL);
	ri.argsz = 32;
	assert_int_equal(vuc_call(&c, VFIO_USER_DEVICE_GET_REGION_INFO, &ri, 24, NULL,
				  0, NULL), -EINVAL);
	ri.index = 1000;
	assert_int_equal(vuc_call(&c, VFIO_USER_DEVICE_GET_REGION_INFO, &ri, sizeof(ri),
				  NULL, 0, NULL), -EINVAL);
	assert_int_equal(vuc_call(&c, VFIO_USER_DEVICE_GET_INFO, &di, sizeof(di), NULL,
				  0, NULL), -EINVAL);
	ii.index = 7;
	assert_int_equal(vuc_call(&c, VFIO_USER_DEVICE_GET_IRQ_INFO, &ii, sizeof(ii),
				  NULL, 0, NULL), -EINVAL);
	assert_int_equal(vuc_call(&c, VFIO_USER_DEVICE_GET_IRQ_INFO, &ii, 4, NULL, 0,
				  NULL), -EINVAL);
	assert_serving(&c);
}

static void test_set_irqs(void **state)
{
	const uint32_t trig_fd = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER;
	int e[2] = {eventfd(0, EFD_CLOEXEC), eventfd(0, EFD_CLOEXEC)};
	uint8_t b[4] = {1, 1, 1, 1};

	(void)state;
	/* beyond the vectors, no such index, INTx/MSI have none */
	assert_int_equal(vuc_set_irqs(&c, 2, trig_fd, 3, 2, e, 2, NULL), -EINVAL);
	assert_int_equal(vuc_set_irqs(&c, 2, trig_fd, 4, 1, e, 1, NULL), -EINVAL);
	assert_int_equal(vuc_set_irqs(&c, 5, trig_fd, 0, 1, e, 1, NULL), -EINVAL);
	assert_int_equal(vuc_set_irqs(&c, VFIO_PCI_INTX_IRQ_INDEX, trig_fd, 0, 1, e, 1,
				      NULL), -EINVAL);
	assert_int_equal(vuc_set_irqs(&c, VFIO_PCI_MSI_IRQ_INDEX, trig_fd, 0, 1, e, 1,
				      NULL), -EINVAL);
	/* fd count not matching count */
	assert_int_equal(vuc_set_irqs(&c, 2, trig_fd, 0, 2, e, 1, NULL), -EBADF);
	/* two data types, two actions, no action */
	assert_int_equal(vuc_set_irqs(&c, 2, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_DATA_BOOL |
				      VFIO_IRQ_SET_ACTION_MASK, 0, 1, NULL, 0, b), -EINVAL);
	assert_int_equal(vuc_set_irqs(&c, 2, VFIO_IRQ_SET_DATA_NONE |
				      VFIO_IRQ_SET_ACTION_MASK | VFIO_IRQ_SET_ACTION_UNMASK,
				      0, 1, NULL, 0, NULL), -EINVAL);
	assert_int_equal(vuc_set_irqs(&c, 2, VFIO_IRQ_SET_DATA_NONE, 0, 1, NULL, 0, NULL),
			 -EINVAL);
	/* mask with eventfds, mask the request IRQ, count 0 for masking */
	assert_int_equal(vuc_set_irqs(&c, 2, VFIO_IRQ_SET_DATA_EVENTFD |
				      VFIO_IRQ_SET_ACTION_MASK, 0, 1, e, 1, NULL), -EINVAL);
	assert_int_equal(vuc_set_irqs(&c, VFIO_PCI_REQ_IRQ_INDEX, VFIO_IRQ_SET_DATA_NONE |
				      VFIO_IRQ_SET_ACTION_MASK, 0, 1, NULL, 0, NULL), -EINVAL);
	assert_int_equal(vuc_set_irqs(&c, 2, VFIO_IRQ_SET_DATA_NONE |
				      VFIO_IRQ_SET_ACTION_MASK, 0, 0, NULL, 0, NULL), -EINVAL);
	/* argsz that lies about the payload */
	struct vfio_user_irq_set s = {.argsz = 40, .flags = trig_fd, .index = 2,
				      .start = 0, .count = 1};
	assert_int_equal(vuc_call(&c, VFIO_USER_DEVICE_SET_IRQS, &s, sizeof(s), e, 1,
				  NULL), -EINVAL);
	/* and a good one still works */
	assert_int_equal(vuc_set_irqs(&c, 2, trig_fd, 0, 2, e, 2, NULL), 0);
	assert_serving(&c);
	close(e[0]);
	close(e[1]);
}

static void test_dma_requests(void **state)
{
	struct vfio_user_dma_map map = {.argsz = 32, .flags = 3, .addr = 0x10000,
					.size = 0x1000};
	struct vfio_user_dma_unmap un = {.argsz = 24, .addr = 0x10000, .size = 0x1000};
	void *p;
	int fd = vuc_memfd(0x4000, &p);

	(void)state;
	/* argsz, flags, size 0, wrap, offset without an fd */
	map.argsz = 16;
	assert_int_equal(vuc_call(&c, VFIO_USER_DMA_MAP, &map, sizeof(map), &fd, 1, NULL),
			 -EINVAL);
	map.argsz = 32;
	map.flags = 8;
	assert_int_equal(vuc_call(&c, VFIO_USER_DMA_MAP, &map, sizeof(map), &fd, 1, NULL),
			 -EINVAL);
	map.flags = 3;
	map.size = 0;
	assert_int_equal(vuc_call(&c, VFIO_USER_DMA_MAP, &map, sizeof(map), &fd, 1, NULL),
			 -EINVAL);
	map.size = 0x2000;
	map.addr = UINT64_MAX - 0xfff;
	assert_int_equal(vuc_call(&c, VFIO_USER_DMA_MAP, &map, sizeof(map), &fd, 1, NULL),
			 -EINVAL);
	map.addr = 0x10000;
	map.offset = 0x1000;
	assert_int_equal(vuc_call(&c, VFIO_USER_DMA_MAP, &map, sizeof(map), NULL, 0, NULL),
			 -EINVAL);
	/* overlapping maps, unmap of what was not mapped, unmap flags */
	assert_int_equal(vuc_dma_map(&c, 0x10000, 0x4000, fd, 0, 3), 0);
	assert_int_equal(vuc_dma_map(&c, 0x12000, 0x2000, fd, 0, 3), -EEXIST);
	assert_int_equal(vuc_dma_unmap(&c, 0x20000, 0x1000), -ENOENT);
	un.flags = 1; /* a dirty bitmap */
	assert_int_equal(vuc_call(&c, VFIO_USER_DMA_UNMAP, &un, sizeof(un), NULL, 0, NULL),
			 -ENOTSUP);
	un.flags = 4;
	assert_int_equal(vuc_call(&c, VFIO_USER_DMA_UNMAP, &un, sizeof(un), NULL, 0, NULL),
			 -EINVAL);
	assert_int_equal(vuc_dma_unmap(&c, 0x10000, 0x4000), 0);
	assert_serving(&c);
	close(fd);
	munmap(p, 0x4000);
}

/* ---- a hostile server: the client's decoders must hold ---- */

enum evil_mode { EVIL_WRONG_ID, EVIL_WRONG_CMD, EVIL_SHORT, EVIL_CAP_LOOP,
		 EVIL_AREA_OUT, EVIL_FDS, EVIL_TINY_SIZE, EVIL_HANGUP, EVIL_READ_LONG,
		 EVIL_BAD_VERSION, EVIL_MODES };

struct evil {
	int lsock;
	enum evil_mode mode;
};

static void evil_reply(int s, enum evil_mode mode, const struct pdk_vfio_user_msg *m)
{
	struct {
		struct vfio_user_region_info info;
		struct vfio_user_cap_sparse sp;
		struct vfio_user_sparse_area a;
	} ri = {.info = {.argsz = sizeof(ri), .index = 0, .size = 0x1000,
			 .flags = VFIO_REGION_INFO_FLAG_CAPS, .cap_offset = 32},
		.sp = {.header = {.id = VFIO_REGION_INFO_CAP_SPARSE_MMAP, .version = 1,
				  .next = 32}, .nr_areas = 1},
		.a = {0, 0x1000}};
	struct vfio_user_header h = m->hdr;
	int fds[3] = {eventfd(0, 0), eventfd(0, 0), eventfd(0, 0)};
	uint8_t buf[64] = {0};

	h.flags = VFIO_USER_F_TYPE_REPLY;
	switch (mode) {
	case EVIL_WRONG_ID:
		h.msg_id++;
		pdk_vfio_user_send_reply(s, &h, buf, 16, NULL, 0);
		break;
	case EVIL_WRONG_CMD:
		h.command = VFIO_USER_DMA_MAP;
		pdk_vfio_user_send_reply(s, &h, buf, 16, NULL, 0);
		break;
	case EVIL_SHORT:
		pdk_vfio_user_send_reply(s, &m->hdr, buf, 3, NULL, 0);
		break;
	case EVIL_CAP_LOOP:
		pdk_vfio_user_send_reply(s, &m->hdr, &ri, sizeof(ri), NULL, 0);
		break;
	case EVIL_AREA_OUT:
		ri.sp.header.next = 0;
		ri.a.size = 0x2000;
		pdk_vfio_user_send_reply(s, &m->hdr, &ri, sizeof(ri), NULL, 0);
		break;
	case EVIL_FDS: /* fds with a reply that takes none */
		pdk_vfio_user_send_reply(s, &m->hdr, &ri, 32, fds, 3);
		break;
	case EVIL_TINY_SIZE:
		h.msg_size = 4;
		send(s, &h, sizeof(h), MSG_NOSIGNAL);
		break;
	case EVIL_READ_LONG: /* more data than was asked for */
		memcpy(buf, m->payload, 16);
		pdk_vfio_user_send_reply(s, &m->hdr, buf, 16 + 8, NULL, 0);
		break;
	case EVIL_BAD_VERSION:
		memcpy(buf, "\0\0\1\0{\"capabilities\":{\"max_msg_fds\":-3}}", 40);
		pdk_vfio_user_send_reply(s, &m->hdr, buf, 40, NULL, 0);
		break;
	default: /* hang up mid-session */
		send(s, &h, 8, MSG_NOSIGNAL);
		break;
	}
	for (int i = 0; i < 3; i++)
		close(fds[i]);
}

static void *evil_server(void *arg)
{
	struct evil *e = arg;
	int s = accept(e->lsock, NULL, NULL);
	struct pdk_vfio_user_msg m;

	while (s >= 0 && pdk_vfio_user_recv(s, &m, 4096, 0, 5000) == 0) {
		evil_reply(s, e->mode, &m);
		pdk_vfio_user_msg_release(&m);
		if (e->mode == EVIL_HANGUP)
			break;
	}
	if (s >= 0)
		close(s);
	return NULL;
}

static int evil_call(enum evil_mode mode)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	struct evil e = {.mode = mode};
	struct pdk_vfio_user_region r;
	struct vuc v;
	pthread_t t;
	uint32_t x;
	int fd = -1, rc;

	e.lsock = emu_listen_raw("evil.sock", sa.sun_path);
	pthread_create(&t, NULL, evil_server, &e);
	assert_int_equal(vuc_connect_raw(&v, sa.sun_path), 0);
	if (mode == EVIL_BAD_VERSION)
		rc = vuc_version(&v, 0, 1);
	else if (mode == EVIL_READ_LONG)
		rc = vuc_read(&v, 0, 0, &x, 4);
	else
		rc = vuc_region_info(&v, 0, &r, &fd);
	assert_int_equal(fd, -1);
	vuc_close(&v);
	pthread_join(t, NULL);
	close(e.lsock);
	unlink(sa.sun_path);
	return rc;
}

static void test_hostile_server(void **state)
{
	static const int want[EVIL_MODES] = {
		[EVIL_WRONG_ID] = -EPROTO, [EVIL_WRONG_CMD] = -EPROTO,
		[EVIL_SHORT] = -EINVAL, [EVIL_CAP_LOOP] = -EINVAL,
		[EVIL_AREA_OUT] = -EINVAL, [EVIL_FDS] = -EBADF,
		[EVIL_TINY_SIZE] = -EPROTO, [EVIL_HANGUP] = -ECONNRESET,
		[EVIL_READ_LONG] = -EINVAL, [EVIL_BAD_VERSION] = -EINVAL,
	};

	(void)state;
	for (int i = 0; i < EVIL_MODES; i++) {
		int rc = evil_call((enum evil_mode)i);

		if (rc != want[i])
			fail_msg("hostile mode %d: got %d, want %d", i, rc, want[i]);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_framing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_fds, setup, teardown),
		cmocka_unit_test_setup_teardown(test_commands, setup, teardown),
		cmocka_unit_test_setup_teardown(test_region_access, setup, teardown),
		cmocka_unit_test_setup_teardown(test_info_requests, setup, teardown),
		cmocka_unit_test_setup_teardown(test_set_irqs, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_requests, setup, teardown),
		cmocka_unit_test(test_hostile_server),
	};

	return EMU_TEST_MAIN(tests);
}
