/* SPDX-License-Identifier: BSD-3-Clause */
/* vfio-user wire format: JSON capabilities, framing with fds, decoders. */
#include "pdk_test.h"

#include <fcntl.h>
#include <sys/socket.h>
#include <sys/eventfd.h>

#include <pdk_vfio_user.h>

static int sp[2];

static int setup_pair(void **state)
{
	(void)state;
	return socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp);
}

static int teardown_pair(void **state)
{
	(void)state;
	close(sp[0]);
	close(sp[1]);
	return 0;
}

static int parse(const char *json, struct pdk_vfio_user_caps *c)
{
	pdk_vfio_user_caps_init(c);
	return pdk_vfio_user_caps_parse(json, strlen(json), c);
}

static void test_json_valid(void **state)
{
	struct pdk_vfio_user_caps c;
	char buf[256];

	(void)state;
	assert_int_equal(parse("{}", &c), 0);
	assert_int_equal(c.max_msg_fds, 1);
	assert_int_equal(c.max_data_xfer_size, 1048576);
	assert_int_equal(c.max_dma_maps, 65535);
	assert_int_equal(c.pgsizes, 4096);
	assert_int_equal(parse(" { \"capabilities\" : { \"max_msg_fds\" : 8 ,"
			       "\"migration\": {\"pgsize\": 4096, \"x\": [1, 2.5e3,"
			       " \"s\\u00e9\\n\", true, false, null, {}]},"
			       "\"twin_socket\": {\"supported\": false},"
			       "\"pgsizes\": 2101248, \"max_dma_maps\": 7,"
			       "\"max_data_xfer_size\": 65536}, \"other\": [] }\n",
			       &c), 0);
	assert_int_equal(c.max_msg_fds, 8);
	assert_int_equal(c.max_dma_maps, 7);
	assert_int_equal(c.pgsizes, 0x201000);
	assert_int_equal(c.max_data_xfer_size, 65536);
	/* writer output reads back */
	c.pgsizes = 0xfffffffffffff000ull;
	assert_true(pdk_vfio_user_caps_write(&c, buf, sizeof(buf)) > 0);
	struct pdk_vfio_user_caps d;
	assert_int_equal(parse(buf, &d), 0);
	assert_memory_equal(&c, &d, sizeof(c));
	assert_int_equal(pdk_vfio_user_caps_write(&c, buf, 10), -ENOSPC);
	/* without ranges the writer says nothing of them (other peers never see
	 * the extension) */
	assert_null(strstr(buf, "pdk_iova_ranges"));
}

/* The PDK extension "pdk_iova_ranges": the valid IOVA windows. */
static void test_json_iova_ranges(void **state)
{
	static const char *const bad[] = {
		"{\"capabilities\":{\"pdk_iova_ranges\":[]}}",
		"{\"capabilities\":{\"pdk_iova_ranges\":1}}",
		"{\"capabilities\":{\"pdk_iova_ranges\":[1,2]}}",
		"{\"capabilities\":{\"pdk_iova_ranges\":[[1]]}}",
		"{\"capabilities\":{\"pdk_iova_ranges\":[[1,2,3]]}}",
		"{\"capabilities\":{\"pdk_iova_ranges\":[[3,2]]}}",
		"{\"capabilities\":{\"pdk_iova_ranges\":[[0,9],[9,20]]}}",
		"{\"capabilities\":{\"pdk_iova_ranges\":[[10,19],[0,5]]}}",
		"{\"capabilities\":{\"pdk_iova_ranges\":[[0,-1]]}}",
		"{\"capabilities\":{\"pdk_iova_ranges\":[[0,\"9\"]]}}",
		("{\"capabilities\":{\"pdk_iova_ranges\":[[0,1],[2,3],[4,5],[6,7],[8,9],"
		 "[10,11],[12,13],[14,15],[16,17]]}}"),
	};
	struct pdk_vfio_user_caps c, d;
	char buf[1024];

	(void)state;
	assert_int_equal(parse("{\"capabilities\":{\"pdk_iova_ranges\":[[4096, 4276092927],"
			       "[4277141504,18446744073709551615]]}}", &c), 0);
	assert_int_equal(c.nr_iova_ranges, 2);
	assert_int_equal(c.iova_ranges[0].start, 4096);
	assert_int_equal(c.iova_ranges[0].end, 0xfedfffff);
	assert_int_equal(c.iova_ranges[1].start, 0xfef00000);
	assert_true(c.iova_ranges[1].end == UINT64_MAX);
	/* the writer's output reads back, eight windows included */
	for (unsigned i = 0; i < PDK_VFIO_USER_IOVA_RANGES_MAX; i++)
		c.iova_ranges[i] = (struct pdk_vfio_user_iova_range){
			(uint64_t)i << 60, ((uint64_t)i << 60) + 0xfffffffffffffffull};
	c.nr_iova_ranges = PDK_VFIO_USER_IOVA_RANGES_MAX;
	assert_true(pdk_vfio_user_caps_write(&c, buf, sizeof(buf)) > 0);
	pdk_vfio_user_caps_init(&d);
	assert_int_equal(pdk_vfio_user_caps_parse(buf, strlen(buf), &d), 0);
	assert_memory_equal(&c, &d, sizeof(c));
	assert_int_equal(pdk_vfio_user_caps_write(&c, buf, 200), -ENOSPC);
	c.nr_iova_ranges = PDK_VFIO_USER_IOVA_RANGES_MAX + 1;
	assert_int_equal(pdk_vfio_user_caps_write(&c, buf, sizeof(buf)), -EINVAL);
	for (size_t i = 0; i < PDK_DIM(bad); i++) {
		pdk_vfio_user_caps_init(&c);
		if (pdk_vfio_user_caps_parse(bad[i], strlen(bad[i]), &c) != -EINVAL)
			fail_msg("accepted: %s", bad[i]);
		assert_int_equal(c.nr_iova_ranges, 0);
	}
}

static void test_json_malformed(void **state)
{
	static const char *const bad[] = {
		"", " ", "[]", "{", "}", "{\"a\"}", "{\"a\":}", "{\"a\":1,}",
		"{,}", "{\"a\" 1}", "{\"a\":1}x", "{\"a\":01}", "{\"a\":-}",
		"{\"a\":1.}", "{\"a\":1e}", "{\"a\":tru}", "{\"a\":nul}",
		"{\"a\":\"x}", "{\"a\":\"\\x\"}", "{\"a\":\"\\u12g4\"}",
		"{\"a\":\"\x01\"}", "{\"a\":[1,]}", "{\"a\":[1 2]}", "{a:1}",
		"{\"capabilities\":1x}",
		"{\"capabilities\":{\"max_msg_fds\":-1}}",
		"{\"capabilities\":{\"max_msg_fds\":1.5}}",
		"{\"capabilities\":{\"max_msg_fds\":1e3}}",
		"{\"capabilities\":{\"max_msg_fds\":\"8\"}}",
		"{\"capabilities\":{\"max_msg_fds\":4294967296}}",
		"{\"capabilities\":{\"pgsizes\":0}}",
		"{\"capabilities\":{\"max_data_xfer_size\":0}}",
		"{\"capabilities\":{\"pgsizes\":18446744073709551616}}",
		"{\"capabilities\":[]}",
		"{\"a\":[[[[[[[[[[[[[[[[[[[[1]]]]]]]]]]]]]]]]]]]}",
	};
	struct pdk_vfio_user_caps c;

	(void)state;
	for (size_t i = 0; i < PDK_DIM(bad); i++) {
		pdk_vfio_user_caps_init(&c);
		c.max_msg_fds = 42;
		if (pdk_vfio_user_caps_parse(bad[i], strlen(bad[i]), &c) != -EINVAL)
			fail_msg("accepted: %s", bad[i]);
		assert_int_equal(c.max_msg_fds, 42); /* untouched on error */
	}
	/* the length bounds the read: a valid prefix is not enough */
	assert_int_equal(pdk_vfio_user_caps_parse("{}", 1, &c), -EINVAL);
	assert_int_equal(pdk_vfio_user_caps_parse(NULL, 0, &c), -EINVAL);
}

static void test_version_roundtrip(void **state)
{
	struct pdk_vfio_user_caps c, d;
	struct pdk_vfio_user_msg m = {0};
	uint8_t buf[512];
	uint16_t ma, mi;
	int n;

	(void)state;
	pdk_vfio_user_caps_init(&c);
	c.max_msg_fds = 16;
	n = pdk_vfio_user_version_encode(buf, sizeof(buf), 0, 1, &c);
	assert_true(n > 4);
	assert_int_equal(buf[n - 1], '\0');
	assert_int_equal(pdk_vfio_user_send_cmd(sp[0], 3, VFIO_USER_VERSION, 0,
						buf, (size_t)n, NULL, 0), 0);
	assert_int_equal(pdk_vfio_user_recv(sp[1], &m, 4096, 0, 1000), 0);
	assert_int_equal(m.hdr.msg_id, 3);
	assert_int_equal(m.hdr.command, VFIO_USER_VERSION);
	assert_int_equal(m.hdr.msg_size, 16 + n);
	assert_int_equal(pdk_vfio_user_version_decode(&m, &ma, &mi, &d), 0);
	assert_int_equal(ma, 0);
	assert_int_equal(mi, 1);
	assert_int_equal(d.max_msg_fds, 16);
	/* no JSON at all: defaults; broken JSON: refused */
	m.len = 4;
	assert_int_equal(pdk_vfio_user_version_decode(&m, &ma, &mi, &d), 0);
	assert_int_equal(d.max_msg_fds, 1);
	memcpy(m.payload + 4, "{\"a\":", 5);
	m.len = 9;
	assert_int_equal(pdk_vfio_user_version_decode(&m, &ma, &mi, &d), -EINVAL);
	m.len = 3;
	assert_int_equal(pdk_vfio_user_version_decode(&m, &ma, &mi, &d), -EINVAL);
	pdk_vfio_user_msg_release(&m);
}

/* Send raw bytes with optional fds in one sendmsg. */
static void raw_send(int s, const void *buf, size_t len, const int *fds,
		     unsigned nfds)
{
	char ctl[CMSG_SPACE(sizeof(int) * 8)] = {0};
	struct iovec iov = {.iov_base = (void *)(uintptr_t)buf, .iov_len = len};
	struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};

	if (nfds) {
		struct cmsghdr *c;

		mh.msg_control = ctl;
		mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
		c = CMSG_FIRSTHDR(&mh);
		c->cmsg_level = SOL_SOCKET;
		c->cmsg_type = SCM_RIGHTS;
		c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
		memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
	}
	assert_int_equal(sendmsg(s, &mh, 0), (ssize_t)len);
}

static int count_open_fds(void)
{
	int n = 0;

	for (int fd = 0; fd < 1024; fd++)
		if (fcntl(fd, F_GETFD) >= 0)
			n++;
	return n;
}

static void test_framing(void **state)
{
	struct vfio_user_header h = {.msg_id = 9, .command = 4, .msg_size = 20};
	struct pdk_vfio_user_msg m = {0};
	int efd[3], before;

	(void)state;
	for (int i = 0; i < 3; i++)
		efd[i] = eventfd(0, EFD_CLOEXEC);
	before = count_open_fds();
	/* a message in pieces, fds on the first byte */
	raw_send(sp[0], &h, 5, efd, 2);
	raw_send(sp[0], (char *)&h + 5, 11, NULL, 0);
	raw_send(sp[0], "abcd", 4, NULL, 0);
	assert_int_equal(pdk_vfio_user_recv(sp[1], &m, 64, 4, 1000), 0);
	assert_int_equal(m.len, 4);
	assert_memory_equal(m.payload, "abcd", 4);
	assert_int_equal(m.nfds, 2);
	assert_false(m.fds_dropped);
	int taken = pdk_vfio_user_msg_take_fd(&m, 1);
	assert_true(taken >= 0);
	assert_int_equal(pdk_vfio_user_msg_take_fd(&m, 2), -1);
	pdk_vfio_user_msg_release(&m);
	close(taken);
	assert_int_equal(count_open_fds(), before);

	/* too many fds: all closed, stream still in sync */
	raw_send(sp[0], &h, 16, efd, 3);
	raw_send(sp[0], "wxyz", 4, NULL, 0);
	assert_int_equal(pdk_vfio_user_recv(sp[1], &m, 64, 2, 1000), 0);
	assert_true(m.fds_dropped);
	assert_int_equal(m.nfds, 2);
	pdk_vfio_user_msg_release(&m);
	assert_int_equal(count_open_fds(), before);

	/* fds in the middle of a message: protocol error, nothing leaked */
	raw_send(sp[0], &h, 16, NULL, 0);
	raw_send(sp[0], "wxyz", 4, efd, 1);
	assert_int_equal(pdk_vfio_user_recv(sp[1], &m, 64, 2, 1000), -EPROTO);
	assert_int_equal(count_open_fds(), before);
	for (int i = 0; i < 3; i++)
		close(efd[i]);
}

static void test_framing_errors(void **state)
{
	struct vfio_user_header h = {.msg_id = 1, .command = 1};
	struct pdk_vfio_user_msg m = {0};

	(void)state;
	/* nothing arrives: timeout */
	assert_int_equal(pdk_vfio_user_recv(sp[1], &m, 64, 0, 20), -ETIMEDOUT);
	/* half a header, then nothing */
	raw_send(sp[0], &h, 8, NULL, 0);
	assert_int_equal(pdk_vfio_user_recv(sp[1], &m, 64, 0, 20), -ETIMEDOUT);
	teardown_pair(NULL);
	setup_pair(NULL);
	/* size below the header */
	h.msg_size = 15;
	raw_send(sp[0], &h, 16, NULL, 0);
	assert_int_equal(pdk_vfio_user_recv(sp[1], &m, 64, 0, 100), -EPROTO);
	/* size over the limit: the header is kept for the error reply */
	h.msg_size = 16 + 65;
	h.msg_id = 77;
	raw_send(sp[0], &h, 16, NULL, 0);
	assert_int_equal(pdk_vfio_user_recv(sp[1], &m, 64, 0, 100), -EMSGSIZE);
	assert_int_equal(m.hdr.msg_id, 77);
	/* the peer goes away mid-message and between messages */
	h.msg_size = 32;
	raw_send(sp[0], &h, 16, NULL, 0);
	close(sp[0]);
	assert_int_equal(pdk_vfio_user_recv(sp[1], &m, 64, 0, 100), -ECONNRESET);
	assert_int_equal(pdk_vfio_user_recv(sp[1], &m, 64, 0, 100), -ECONNRESET);
	/* and sending to a closed peer is an error, not SIGPIPE */
	assert_int_equal(pdk_vfio_user_send_cmd(sp[1], 1, 1, 0, NULL, 0, NULL, 0),
			 -EPIPE);
	sp[0] = open("/dev/null", O_RDONLY);
}

static void test_reply_check(void **state)
{
	struct vfio_user_header req = {.msg_id = 5, .command = 9};
	struct pdk_vfio_user_msg m = {0};

	(void)state;
	assert_int_equal(pdk_vfio_user_send_error(sp[0], &req, ENOENT), 0);
	assert_int_equal(pdk_vfio_user_recv(sp[1], &m, 64, 0, 100), 0);
	assert_int_equal(pdk_vfio_user_reply_check(&m, 5, 9), -ENOENT);
	assert_int_equal(pdk_vfio_user_reply_check(&m, 6, 9), -EPROTO);
	assert_int_equal(pdk_vfio_user_reply_check(&m, 5, 10), -EPROTO);
	m.hdr.error_no = 0;
	assert_int_equal(pdk_vfio_user_reply_check(&m, 5, 9), -EIO);
	m.hdr.flags = VFIO_USER_F_TYPE_COMMAND;
	assert_int_equal(pdk_vfio_user_reply_check(&m, 5, 9), -EPROTO);
	m.hdr.flags = VFIO_USER_F_TYPE_REPLY;
	assert_int_equal(pdk_vfio_user_reply_check(&m, 5, 9), 0);
	assert_string_equal(pdk_vfio_user_cmd_name(VFIO_USER_DMA_MAP), "DMA_MAP");
	assert_string_equal(pdk_vfio_user_cmd_name(14), "?");
	assert_string_equal(pdk_vfio_user_cmd_name(9999), "?");
	pdk_vfio_user_msg_release(&m);
}

/* A message struct pointing at `payload` (not owned). */
static struct pdk_vfio_user_msg fake(const void *payload, size_t len,
				     unsigned nfds)
{
	struct pdk_vfio_user_msg m = {0};

	m.payload = (uint8_t *)(uintptr_t)payload;
	m.len = len;
	m.nfds = nfds;
	for (unsigned i = 0; i < nfds; i++)
		m.fds[i] = 100 + (int)i;
	return m;
}

static void test_dma_decoders(void **state)
{
	struct vfio_user_dma_map map = {.argsz = 32, .flags = 3, .offset = 0,
					.addr = 0x10000, .size = 0x1000}, o;
	struct vfio_user_dma_unmap un = {.argsz = 24, .addr = 1, .size = 2}, uo;
	struct pdk_vfio_user_msg m;

	(void)state;
	m = fake(&map, sizeof(map), 0);
	assert_int_equal(pdk_vfio_user_dma_map_decode(&m, &o), 0);
	m = fake(&map, sizeof(map), 2);
	assert_int_equal(pdk_vfio_user_dma_map_decode(&m, &o), -EBADF);
	m = fake(&map, sizeof(map) - 1, 1);
	assert_int_equal(pdk_vfio_user_dma_map_decode(&m, &o), -EINVAL);
	map.offset = 4096; /* an offset without an fd */
	m = fake(&map, sizeof(map), 0);
	assert_int_equal(pdk_vfio_user_dma_map_decode(&m, &o), -EINVAL);
	m = fake(&map, sizeof(map), 1);
	assert_int_equal(pdk_vfio_user_dma_map_decode(&m, &o), 0);
	map.flags = 4;
	assert_int_equal(pdk_vfio_user_dma_map_decode(&m, &o), -EINVAL);
	map.flags = 1;
	map.size = 0;
	assert_int_equal(pdk_vfio_user_dma_map_decode(&m, &o), -EINVAL);
	map.size = 0x2000;
	map.addr = UINT64_MAX - 0x1000;
	assert_int_equal(pdk_vfio_user_dma_map_decode(&m, &o), -EINVAL);
	map.addr = 0;
	map.argsz = 40;
	assert_int_equal(pdk_vfio_user_dma_map_decode(&m, &o), -EINVAL);

	m = fake(&un, sizeof(un), 0);
	assert_int_equal(pdk_vfio_user_dma_unmap_decode(&m, &uo), 0);
	/* QEMU's unmap_all: flag ALL with address and size 0, nothing else */
	un.flags = VFIO_USER_DMA_UNMAP_F_ALL;
	assert_int_equal(pdk_vfio_user_dma_unmap_decode(&m, &uo), -EINVAL);
	un.addr = un.size = 0;
	assert_int_equal(pdk_vfio_user_dma_unmap_decode(&m, &uo), 0);
	assert_int_equal(uo.flags, VFIO_USER_DMA_UNMAP_F_ALL);
	un.flags = 0;
	assert_int_equal(pdk_vfio_user_dma_unmap_decode(&m, &uo), -EINVAL);
	/* a dirty bitmap is not offered: said so, whatever its length */
	un.flags = VFIO_USER_DMA_UNMAP_F_GET_DIRTY_BITMAP;
	assert_int_equal(pdk_vfio_user_dma_unmap_decode(&m, &uo), -ENOTSUP);
	un.flags = 4;
	assert_int_equal(pdk_vfio_user_dma_unmap_decode(&m, &uo), -EINVAL);
	un.flags = 0;
	un.addr = 1;
	un.size = 2;
	un.argsz = 8;
	assert_int_equal(pdk_vfio_user_dma_unmap_decode(&m, &uo), -EINVAL);
	un.argsz = 24;
	m = fake(&un, sizeof(un), 1);
	assert_int_equal(pdk_vfio_user_dma_unmap_decode(&m, &uo), -EBADF);
	m = fake(&un, sizeof(un), 0);
	assert_int_equal(pdk_vfio_user_dma_unmap_reply_decode(&m, &un), 0);
	uo = un;
	uo.size = 3;
	assert_int_equal(pdk_vfio_user_dma_unmap_reply_decode(&m, &uo), -EPROTO);
}

static void test_irq_decoders(void **state)
{
	struct {
		struct vfio_user_irq_set s;
		uint8_t b[4];
	} req = {.s = {.argsz = 20, .index = 2, .start = 0, .count = 2,
		       .flags = VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER}};
	struct vfio_user_irq_set o;
	const uint8_t *bools;
	struct pdk_vfio_user_msg m;

	(void)state;
	m = fake(&req, 20, 2);
	assert_int_equal(pdk_vfio_user_set_irqs_decode(&m, &o, &bools), 0);
	m = fake(&req, 20, 0); /* de-assign */
	assert_int_equal(pdk_vfio_user_set_irqs_decode(&m, &o, &bools), 0);
	m = fake(&req, 20, 1);
	assert_int_equal(pdk_vfio_user_set_irqs_decode(&m, &o, &bools), -EBADF);
	req.s.flags = VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_MASK;
	m = fake(&req, 22, 0);
	assert_int_equal(pdk_vfio_user_set_irqs_decode(&m, &o, &bools), -EINVAL);
	req.s.argsz = 22;
	assert_int_equal(pdk_vfio_user_set_irqs_decode(&m, &o, &bools), 0);
	assert_ptr_equal(bools, (uint8_t *)&req + 20);
	m = fake(&req, 23, 0);
	assert_int_equal(pdk_vfio_user_set_irqs_decode(&m, &o, &bools), -EINVAL);
	req.s.argsz = 20;
	req.s.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_DATA_BOOL |
		      VFIO_IRQ_SET_ACTION_MASK;
	m = fake(&req, 20, 0);
	assert_int_equal(pdk_vfio_user_set_irqs_decode(&m, &o, &bools), -EINVAL);
	req.s.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_MASK |
		      VFIO_IRQ_SET_ACTION_UNMASK;
	assert_int_equal(pdk_vfio_user_set_irqs_decode(&m, &o, &bools), -EINVAL);
	req.s.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER | 0x100;
	assert_int_equal(pdk_vfio_user_set_irqs_decode(&m, &o, &bools), -EINVAL);
	req.s.flags = VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER;
	req.s.start = UINT32_MAX;
	assert_int_equal(pdk_vfio_user_set_irqs_decode(&m, &o, &bools), -EINVAL);
	req.s.start = 0;
	req.s.count = 0;
	assert_int_equal(pdk_vfio_user_set_irqs_decode(&m, &o, &bools), 0);
	req.s.start = 1;
	assert_int_equal(pdk_vfio_user_set_irqs_decode(&m, &o, &bools), -EINVAL);
	m = fake(&req, 19, 0);
	assert_int_equal(pdk_vfio_user_set_irqs_decode(&m, &o, &bools), -EINVAL);

	struct vfio_user_irq_info ii = {.argsz = 16, .index = 2, .count = 4}, io;
	m = fake(&ii, sizeof(ii), 0);
	assert_int_equal(pdk_vfio_user_irq_info_decode(&m, 2, &io), 0);
	assert_int_equal(pdk_vfio_user_irq_info_decode(&m, 1, &io), -EINVAL);
	ii.count = 1u << 30;
	assert_int_equal(pdk_vfio_user_irq_info_decode(&m, 2, &io), -EINVAL);
	m = fake(&ii, 12, 0);
	assert_int_equal(pdk_vfio_user_irq_info_decode(&m, 2, &io), -EINVAL);
	assert_int_equal(pdk_vfio_user_info_req_decode(&m, &io, sizeof(io)), -EINVAL);
	m = fake(&ii, 16, 0);
	assert_int_equal(pdk_vfio_user_info_req_decode(&m, &io, sizeof(io)), 0);
	/* libvfio-user's client sends argsz bytes: the tail is ignored */
	uint8_t longer[64] = {0};
	struct vfio_user_region_info rq = {.argsz = 64, .index = 2}, ro;
	memcpy(longer, &rq, sizeof(rq));
	m = fake(longer, sizeof(longer), 0);
	assert_int_equal(pdk_vfio_user_info_req_decode(&m, &ro, sizeof(ro)), 0);
	assert_int_equal(ro.index, 2);
	m = fake(&ii, 16, 0);
	ii.argsz = 8;
	assert_int_equal(pdk_vfio_user_info_req_decode(&m, &io, sizeof(io)), -EINVAL);
}

static void test_rw_decoders(void **state)
{
	struct {
		struct vfio_user_region_rw r;
		uint8_t data[8];
	} w = {.r = {.offset = 8, .region = 0, .count = 8}};
	struct vfio_user_region_rw o;
	struct vfio_user_dma_rw d = {.addr = 0x1000, .count = 8}, dout;
	const void *data;
	struct pdk_vfio_user_msg m;

	(void)state;
	m = fake(&w, sizeof(w), 0);
	assert_int_equal(pdk_vfio_user_region_rw_decode(&m, true, 64, &o, &data), 0);
	assert_ptr_equal(data, w.data);
	assert_int_equal(pdk_vfio_user_region_rw_decode(&m, true, 4, &o, &data), -E2BIG);
	assert_int_equal(pdk_vfio_user_region_rw_decode(&m, false, 64, &o, &data), -EINVAL);
	m = fake(&w, 16, 0);
	assert_int_equal(pdk_vfio_user_region_rw_decode(&m, false, 64, &o, &data), 0);
	assert_int_equal(pdk_vfio_user_region_rw_decode(&m, true, 64, &o, &data), -EINVAL);
	m = fake(&w, 16, 1);
	assert_int_equal(pdk_vfio_user_region_rw_decode(&m, false, 64, &o, &data), -EBADF);
	w.r.count = 0;
	m = fake(&w, 16, 0);
	assert_int_equal(pdk_vfio_user_region_rw_decode(&m, false, 64, &o, &data), -EINVAL);
	w.r.count = 8;
	w.r.offset = UINT64_MAX - 2;
	assert_int_equal(pdk_vfio_user_region_rw_decode(&m, false, 64, &o, &data), -EINVAL);
	/* replies must match the request */
	w.r.offset = 8;
	m = fake(&w, sizeof(w), 0);
	assert_int_equal(pdk_vfio_user_region_rw_reply_decode(&m, false, &w.r, &data), 0);
	assert_int_equal(pdk_vfio_user_region_rw_reply_decode(&m, true, &w.r, &data), -EINVAL);
	o = w.r;
	o.region = 1;
	assert_int_equal(pdk_vfio_user_region_rw_reply_decode(&m, false, &o, &data), -EPROTO);

	m = fake(&d, 16, 0);
	assert_int_equal(pdk_vfio_user_dma_rw_decode(&m, false, 64, &dout, &data), 0);
	assert_int_equal(pdk_vfio_user_dma_rw_decode(&m, true, 64, &dout, &data), -EINVAL);
	assert_int_equal(pdk_vfio_user_dma_rw_decode(&m, false, 4, &dout, &data), -E2BIG);
	assert_int_equal(pdk_vfio_user_dma_rw_reply_decode(&m, true, &d, NULL), 0);
	m = fake(&d, 12, 0);
	assert_int_equal(pdk_vfio_user_dma_rw_reply_decode(&m, true, &d, NULL), 0);
	/* QEMU's client answers DMA_WRITE with the header alone */
	m = fake(NULL, 0, 0);
	assert_int_equal(pdk_vfio_user_dma_rw_reply_decode(&m, true, &d, NULL), 0);
	assert_int_equal(pdk_vfio_user_dma_rw_reply_decode(&m, false, &d, NULL), -EINVAL);
	m = fake(&d, 8, 0);
	assert_int_equal(pdk_vfio_user_dma_rw_reply_decode(&m, true, &d, NULL), -EINVAL);
	assert_int_equal(pdk_vfio_user_dma_rw_reply_decode(&m, false, &d, NULL), -EINVAL);
}

/* Encode a region, send it over the pair with an fd, decode it back. */
static int region_roundtrip(const struct pdk_vfio_user_region *r, uint32_t argsz,
			    struct pdk_vfio_user_region *out)
{
	uint8_t buf[1024];
	struct vfio_user_header req = {.msg_id = 1, .command = 5};
	struct pdk_vfio_user_msg m = {0};
	int fd = eventfd(0, EFD_CLOEXEC), n, rc;
	bool mmap = r->info.flags & VFIO_REGION_INFO_FLAG_MMAP;

	n = pdk_vfio_user_region_info_encode(buf, sizeof(buf), argsz, r);
	assert_true(n >= 32);
	assert_int_equal(pdk_vfio_user_send_reply(sp[0], &req, buf, (size_t)n,
						  &fd, mmap ? 1 : 0), 0);
	close(fd);
	assert_int_equal(pdk_vfio_user_recv(sp[1], &m, 4096, 4, 1000), 0);
	rc = pdk_vfio_user_region_info_decode(&m, r->info.index, argsz, out);
	pdk_vfio_user_msg_release(&m);
	return rc;
}

static void test_region_info(void **state)
{
	struct pdk_vfio_user_region r = {
		.info = {.index = 0, .size = 0x4000, .offset = 0x10000,
			 .flags = VFIO_REGION_INFO_FLAG_READ |
				  VFIO_REGION_INFO_FLAG_WRITE |
				  VFIO_REGION_INFO_FLAG_MMAP},
		.sparse = true, .nr_areas = 2, .msix_mappable = true,
		.areas = {{0x0, 0x1000}, {0x2000, 0x2000}}};
	struct pdk_vfio_user_region o;

	(void)state;
	/* too small: fixed part with the size needed, then the whole thing */
	assert_int_equal(region_roundtrip(&r, 32, &o), 0);
	assert_int_equal(o.info.argsz, 32 + 8 + 16 + 32);
	/* no FLAG_CAPS then: QEMU rejects it with cap_offset 0 */
	assert_false(o.info.flags & VFIO_REGION_INFO_FLAG_CAPS);
	assert_int_equal(o.info.cap_offset, 0);
	assert_false(o.sparse);
	assert_int_equal(region_roundtrip(&r, o.info.argsz, &o), 0);
	assert_true(o.sparse);
	assert_true(o.msix_mappable);
	assert_int_equal(o.nr_areas, 2);
	assert_int_equal(o.areas[1].offset, 0x2000);
	assert_int_equal(o.info.offset, 0x10000);
	/* an area outside the region */
	r.areas[1].size = 0x2001;
	assert_int_equal(region_roundtrip(&r, 256, &o), -EINVAL);
	r.areas[1].size = 0x2000;
	/* no caps at all */
	r.sparse = r.msix_mappable = false;
	assert_int_equal(region_roundtrip(&r, 256, &o), 0);
	assert_false(o.info.flags & VFIO_REGION_INFO_FLAG_CAPS);
	assert_int_equal(o.info.argsz, 32);
}

/* Hand-built hostile region info replies. */
static void test_region_info_hostile(void **state)
{
	struct {
		struct vfio_user_region_info info;
		struct vfio_user_cap_header h[4];
		uint8_t pad[32];
	} p;
	struct pdk_vfio_user_region o;
	struct pdk_vfio_user_msg m;

	(void)state;
	memset(&p, 0, sizeof(p));
	p.info = (struct vfio_user_region_info){
		.argsz = sizeof(p), .index = 3, .size = 0x1000,
		.flags = VFIO_REGION_INFO_FLAG_CAPS, .cap_offset = 32};
	/* a cycle: 32 -> 40 -> 32 */
	p.h[0] = (struct vfio_user_cap_header){.id = 99, .version = 1, .next = 40};
	p.h[1] = (struct vfio_user_cap_header){.id = 98, .version = 1, .next = 32};
	m = fake(&p, sizeof(p), 0);
	assert_int_equal(pdk_vfio_user_region_info_decode(&m, 3, 4096, &o), -EINVAL);
	/* pointing into the fixed part, and past the end */
	p.h[1].next = 8;
	assert_int_equal(pdk_vfio_user_region_info_decode(&m, 3, 4096, &o), -EINVAL);
	p.h[1].next = sizeof(p) - 4;
	assert_int_equal(pdk_vfio_user_region_info_decode(&m, 3, 4096, &o), -EINVAL);
	/* unknown caps are skipped */
	p.h[1].next = 0;
	assert_int_equal(pdk_vfio_user_region_info_decode(&m, 3, 4096, &o), 0);
	/* MSIX_MAPPABLE with an unknown version */
	p.h[1].id = VFIO_REGION_INFO_CAP_MSIX_MAPPABLE;
	p.h[1].version = 2;
	assert_int_equal(pdk_vfio_user_region_info_decode(&m, 3, 4096, &o), -EINVAL);
	/* a sparse cap claiming more areas than the reply holds */
	p.h[1].id = VFIO_REGION_INFO_CAP_SPARSE_MMAP;
	p.h[1].version = 1;
	p.h[2].id = 200; /* nr_areas */
	assert_int_equal(pdk_vfio_user_region_info_decode(&m, 3, 4096, &o), -EINVAL);
	/* wrong index, fd without MMAP, reply bigger than its argsz */
	assert_int_equal(pdk_vfio_user_region_info_decode(&m, 4, 4096, &o), -EINVAL);
	p.h[2].id = 0;
	m = fake(&p, sizeof(p), 1);
	assert_int_equal(pdk_vfio_user_region_info_decode(&m, 3, 4096, &o), -EBADF);
	p.info.argsz = 40;
	m = fake(&p, sizeof(p), 0);
	assert_int_equal(pdk_vfio_user_region_info_decode(&m, 3, 4096, &o), -EINVAL);
	m = fake(&p, 20, 0);
	assert_int_equal(pdk_vfio_user_region_info_decode(&m, 3, 4096, &o), -EINVAL);

	struct vfio_user_device_info di = {.argsz = 16, .num_regions = 9, .num_irqs = 5}, dio;
	m = fake(&di, sizeof(di), 0);
	assert_int_equal(pdk_vfio_user_device_info_decode(&m, &dio), 0);
	di.num_regions = 100000;
	assert_int_equal(pdk_vfio_user_device_info_decode(&m, &dio), -EINVAL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_json_valid),
		cmocka_unit_test(test_json_malformed),
		cmocka_unit_test(test_json_iova_ranges),
		cmocka_unit_test_setup_teardown(test_version_roundtrip, setup_pair, teardown_pair),
		cmocka_unit_test_setup_teardown(test_framing, setup_pair, teardown_pair),
		cmocka_unit_test_setup_teardown(test_framing_errors, setup_pair, teardown_pair),
		cmocka_unit_test_setup_teardown(test_reply_check, setup_pair, teardown_pair),
		cmocka_unit_test(test_dma_decoders),
		cmocka_unit_test(test_irq_decoders),
		cmocka_unit_test(test_rw_decoders),
		cmocka_unit_test_setup_teardown(test_region_info, setup_pair, teardown_pair),
		cmocka_unit_test(test_region_info_hostile),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
