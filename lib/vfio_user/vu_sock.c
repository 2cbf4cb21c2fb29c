/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Message framing on a UNIX stream socket. A message is a 16-byte header
 * and msg_size - 16 bytes of payload; fds travel as SCM_RIGHTS on its first
 * byte. The stream can deliver any message in pieces, so every read loops,
 * and every wait is bounded by the caller's timeout so a peer that stops
 * half-way cannot hang us.
 */
#include <errno.h>
#include <poll.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "pdk_vfio_user.h"

/* Control buffer big enough for the most fds Linux passes at once. */
#define CMSG_BUF_SIZE CMSG_SPACE(sizeof(int) * PDK_VFIO_USER_FDS_MAX)

static int64_t now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Wait until `sock` is readable or the deadline (-1: none) passes. */
static int wait_readable(int sock, int64_t deadline)
{
	struct pollfd pfd = {.fd = sock, .events = POLLIN};

	for (;;) {
		int left = -1, rc;

		if (deadline >= 0) {
			int64_t d = deadline - now_ms();

			left = d > 0 ? (int)PDK_MIN(d, (int64_t)INT32_MAX) : 0;
		}
		rc = poll(&pfd, 1, left);
		if (rc > 0)
			return 0; /* readable, hung up or error: recvmsg tells */
		if (rc == 0)
			return -ETIMEDOUT;
		if (errno != EINTR)
			return -errno;
	}
}

/* Keep the fds of every SCM_RIGHTS block, closing what does not fit. */
static void collect_fds(struct msghdr *mh, struct pdk_vfio_user_msg *msg,
			unsigned max_fds)
{
	for (struct cmsghdr *c = CMSG_FIRSTHDR(mh); c; c = CMSG_NXTHDR(mh, c)) {
		size_t n;
		const unsigned char *data;

		if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
			continue;
		n = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
		data = CMSG_DATA(c);
		for (size_t i = 0; i < n; i++) {
			int fd;

			memcpy(&fd, data + i * sizeof(int), sizeof(fd));
			if (msg->nfds < max_fds)
				msg->fds[msg->nfds++] = fd;
			else {
				close(fd);
				msg->fds_dropped = true;
			}
		}
	}
	if (mh->msg_flags & MSG_CTRUNC)
		msg->fds_dropped = true; /* the kernel discarded the rest */
}

/*
 * Read exactly `len` bytes into `buf`. Fds are accepted only with the
 * first byte of the message (`first`); any later ones are a protocol error.
 */
static int read_full(int sock, void *buf, size_t len, bool first,
		     struct pdk_vfio_user_msg *msg, unsigned max_fds,
		     int timeout_ms)
{
	union {
		char buf[CMSG_BUF_SIZE];
		struct cmsghdr align;
	} ctl;
	size_t got = 0;
	int64_t deadline = timeout_ms < 0 ? -1 : now_ms() + timeout_ms;

	while (got < len) {
		struct iovec iov = {.iov_base = (char *)buf + got,
				    .iov_len = len - got};
		struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1,
				    .msg_control = ctl.buf,
				    .msg_controllen = sizeof(ctl.buf)};
		ssize_t n = recvmsg(sock, &mh, MSG_CMSG_CLOEXEC | MSG_DONTWAIT);

		if (n < 0) {
			int rc = errno == EAGAIN ? wait_readable(sock, deadline) :
				 errno == EINTR ? 0 : -errno;

			if (rc)
				return rc;
			continue;
		}
		if (n == 0)
			return -ECONNRESET;
		if (mh.msg_controllen > 0) {
			bool allowed = first && got == 0;
			unsigned before = msg->nfds;

			collect_fds(&mh, msg, allowed ? max_fds : before);
			if (!allowed)
				return -EPROTO;
		}
		got += (size_t)n;
	}
	return 0;
}

int pdk_vfio_user_recv(int sock, struct pdk_vfio_user_msg *msg,
		       size_t max_payload, unsigned max_fds, int timeout_ms)
{
	int rc;

	memset(&msg->hdr, 0, sizeof(msg->hdr));
	msg->payload = NULL;
	msg->len = 0;
	msg->nfds = 0;
	msg->fds_dropped = false;
	max_fds = PDK_MIN(max_fds, (unsigned)PDK_VFIO_USER_FDS_MAX);

	rc = read_full(sock, &msg->hdr, sizeof(msg->hdr), true, msg, max_fds,
		       timeout_ms);
	if (rc)
		goto fail;
	if (msg->hdr.msg_size < sizeof(msg->hdr)) {
		rc = -EPROTO;
		goto fail;
	}
	msg->len = msg->hdr.msg_size - sizeof(msg->hdr);
	if (msg->len > max_payload) {
		rc = -EMSGSIZE;
		goto fail;
	}
	if (msg->len == 0)
		return 0;
	msg->payload = malloc(msg->len);
	if (msg->payload == NULL) {
		rc = -ENOMEM;
		goto fail;
	}
	rc = read_full(sock, msg->payload, msg->len, false, msg, max_fds,
		       timeout_ms);
	if (rc)
		goto fail;
	return 0;
fail:
	pdk_vfio_user_msg_release(msg);
	msg->len = 0;
	return rc;
}

void pdk_vfio_user_msg_release(struct pdk_vfio_user_msg *msg)
{
	for (unsigned i = 0; i < msg->nfds; i++)
		if (msg->fds[i] >= 0)
			close(msg->fds[i]);
	msg->nfds = 0;
	free(msg->payload);
	msg->payload = NULL;
}

int pdk_vfio_user_msg_take_fd(struct pdk_vfio_user_msg *msg, unsigned i)
{
	int fd;

	if (i >= msg->nfds)
		return -1;
	fd = msg->fds[i];
	msg->fds[i] = -1;
	return fd;
}

/* Drop `n` sent bytes from the front of the iovec array. */
static void iov_advance(struct iovec **iov, int *cnt, size_t n)
{
	while (*cnt > 0 && n >= (*iov)->iov_len) {
		n -= (*iov)->iov_len;
		(*iov)++;
		(*cnt)--;
	}
	if (*cnt > 0) {
		(*iov)->iov_base = (char *)(*iov)->iov_base + n;
		(*iov)->iov_len -= n;
	}
}

/* sendmsg until everything is out; fds go with the first chunk only. */
static int send_all(int sock, struct iovec *iov, int cnt, const int *fds,
		    unsigned nfds)
{
	union {
		char buf[CMSG_BUF_SIZE];
		struct cmsghdr align;
	} ctl;

	while (cnt > 0) {
		struct msghdr mh = {.msg_iov = iov, .msg_iovlen = (size_t)cnt};
		ssize_t n;

		if (nfds > 0) {
			struct cmsghdr *c;

			memset(ctl.buf, 0, sizeof(ctl.buf));
			mh.msg_control = ctl.buf;
			mh.msg_controllen = CMSG_SPACE(sizeof(int) * nfds);
			c = CMSG_FIRSTHDR(&mh);
			c->cmsg_level = SOL_SOCKET;
			c->cmsg_type = SCM_RIGHTS;
			c->cmsg_len = CMSG_LEN(sizeof(int) * nfds);
			memcpy(CMSG_DATA(c), fds, sizeof(int) * nfds);
		}
		n = sendmsg(sock, &mh, MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK ?
				       -ETIMEDOUT : -errno;
		}
		nfds = 0;
		iov_advance(&iov, &cnt, (size_t)n);
	}
	return 0;
}

int pdk_vfio_user_sendv(int sock, struct vfio_user_header *hdr,
			const struct iovec *iov, int iovcnt, const int *fds,
			unsigned nfds)
{
	struct iovec v[8];
	size_t total = sizeof(*hdr);
	int cnt = 0;

	if (iovcnt < 0 || iovcnt > (int)PDK_DIM(v) - 1 ||
	    nfds > PDK_VFIO_USER_FDS_MAX)
		return -EINVAL;
	v[cnt++] = (struct iovec){.iov_base = hdr, .iov_len = sizeof(*hdr)};
	for (int i = 0; i < iovcnt; i++) {
		if (iov[i].iov_len == 0)
			continue;
		total += iov[i].iov_len;
		v[cnt++] = iov[i];
	}
	if (total > UINT32_MAX)
		return -EMSGSIZE;
	hdr->msg_size = (uint32_t)total;
	return send_all(sock, v, cnt, fds, nfds);
}

int pdk_vfio_user_send_cmd(int sock, uint16_t id, uint16_t cmd, uint32_t flags,
			   const void *payload, size_t len, const int *fds,
			   unsigned nfds)
{
	struct vfio_user_header hdr = {.msg_id = id, .command = cmd,
				       .flags = flags & ~VFIO_USER_F_TYPE_MASK};
	struct iovec iov = {.iov_base = (void *)(uintptr_t)payload,
			    .iov_len = payload ? len : 0};

	return pdk_vfio_user_sendv(sock, &hdr, &iov, 1, fds, nfds);
}

int pdk_vfio_user_send_reply(int sock, const struct vfio_user_header *req,
			     const void *payload, size_t len, const int *fds,
			     unsigned nfds)
{
	struct vfio_user_header hdr = {.msg_id = req->msg_id,
				       .command = req->command,
				       .flags = VFIO_USER_F_TYPE_REPLY};
	struct iovec iov = {.iov_base = (void *)(uintptr_t)payload,
			    .iov_len = payload ? len : 0};

	return pdk_vfio_user_sendv(sock, &hdr, &iov, 1, fds, nfds);
}

int pdk_vfio_user_send_error(int sock, const struct vfio_user_header *req,
			     int err)
{
	struct vfio_user_header hdr = {.msg_id = req->msg_id,
				       .command = req->command,
				       .flags = VFIO_USER_F_TYPE_REPLY |
						VFIO_USER_F_ERROR,
				       .error_no = (uint32_t)(err > 0 ? err : EIO)};

	return pdk_vfio_user_sendv(sock, &hdr, NULL, 0, NULL, 0);
}

const char *pdk_vfio_user_cmd_name(unsigned cmd)
{
	static const char *const names[] = {
		[VFIO_USER_VERSION] = "VERSION",
		[VFIO_USER_DMA_MAP] = "DMA_MAP",
		[VFIO_USER_DMA_UNMAP] = "DMA_UNMAP",
		[VFIO_USER_DEVICE_GET_INFO] = "DEVICE_GET_INFO",
		[VFIO_USER_DEVICE_GET_REGION_INFO] = "DEVICE_GET_REGION_INFO",
		[VFIO_USER_DEVICE_GET_REGION_IO_FDS] = "DEVICE_GET_REGION_IO_FDS",
		[VFIO_USER_DEVICE_GET_IRQ_INFO] = "DEVICE_GET_IRQ_INFO",
		[VFIO_USER_DEVICE_SET_IRQS] = "DEVICE_SET_IRQS",
		[VFIO_USER_REGION_READ] = "REGION_READ",
		[VFIO_USER_REGION_WRITE] = "REGION_WRITE",
		[VFIO_USER_DMA_READ] = "DMA_READ",
		[VFIO_USER_DMA_WRITE] = "DMA_WRITE",
		[VFIO_USER_DEVICE_RESET] = "DEVICE_RESET",
		[VFIO_USER_REGION_WRITE_MULTI] = "REGION_WRITE_MULTI",
		[VFIO_USER_DEVICE_FEATURE] = "DEVICE_FEATURE",
		[VFIO_USER_MIG_DATA_READ] = "MIG_DATA_READ",
		[VFIO_USER_MIG_DATA_WRITE] = "MIG_DATA_WRITE",
	};

	if (cmd >= PDK_DIM(names) || names[cmd] == NULL)
		return "?";
	return names[cmd];
}
