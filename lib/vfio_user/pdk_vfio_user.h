/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vfio-user messages over a UNIX stream socket: framing, file descriptors,
 * the VERSION capabilities, and one decoder per payload that checks every
 * length, count, offset and fd count. Shared by the server (lib/emu) and the
 * client backend of lib/vfio; neither side trusts the other.
 *
 * Decoders return 0 or -EINVAL (malformed), -E2BIG (over a negotiated
 * limit), -EBADF (wrong number of fds), -EPROTO (a reply that does not match
 * its request). Error replies decode to the peer's errno.
 */
#ifndef PDK_VFIO_USER_H
#define PDK_VFIO_USER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#include <pdk_common.h>
#include <vfio_user_spec.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Linux never passes more than SCM_MAX_FD (253) fds in one message. */
#define PDK_VFIO_USER_FDS_MAX 253
/* Sparse areas we accept in one region (vfio-pci never needs more than 2). */
#define PDK_VFIO_USER_AREAS_MAX 16
/* A region info reply larger than this is refused. */
#define PDK_VFIO_USER_REGION_INFO_MAX 4096
/* VERSION JSON we send or accept, NUL included. */
#define PDK_VFIO_USER_JSON_MAX 4096

/* The capabilities of "VFIO_USER_VERSION" that PDK uses. */
#define PDK_VFIO_USER_IOVA_RANGES_MAX 8

/* A valid IOVA window, like the kernel's VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE. */
struct pdk_vfio_user_iova_range {
	uint64_t start;
	uint64_t end; /* inclusive */
};

struct pdk_vfio_user_caps {
	uint32_t max_msg_fds;        /* fds the sender can receive at once */
	uint32_t max_dma_maps;       /* DMA windows valid at the same time */
	uint64_t max_data_xfer_size; /* largest count of a read/write message */
	uint64_t pgsizes;            /* page sizes for DMA_MAP, or'ed */
	/*
	 * PDK extension "pdk_iova_ranges": [[start, end], ...], ascending and
	 * disjoint. 0 ranges (the default, and what other peers send): any
	 * IOVA. Written only when there are ranges, so peers that do not know
	 * it never see it.
	 */
	uint32_t nr_iova_ranges;
	struct pdk_vfio_user_iova_range iova_ranges[PDK_VFIO_USER_IOVA_RANGES_MAX];
};

/* Fill `c` with the defaults the specification gives absent capabilities. */
PDK_API void pdk_vfio_user_caps_init(struct pdk_vfio_user_caps *c);

/* Write `{"capabilities":{...}}`; returns its length or -ENOSPC. */
PDK_API int pdk_vfio_user_caps_write(const struct pdk_vfio_user_caps *c,
				     char *buf, size_t size);

/*
 * Parse version JSON of `len` bytes (no NUL needed) into `c`, which keeps
 * its values for capabilities not stated. Unknown members are skipped;
 * malformed JSON, nesting deeper than 16, a known capability that is not a
 * non-negative integer, zero pgsizes/max_data_xfer_size, or IOVA ranges
 * that are empty, more than PDK_VFIO_USER_IOVA_RANGES_MAX, not [start, end]
 * pairs with start <= end, or not ascending and disjoint give -EINVAL.
 */
PDK_API int pdk_vfio_user_caps_parse(const char *json, size_t len,
				     struct pdk_vfio_user_caps *c);

/* One received message. It owns its payload and the fds still >= 0. */
struct pdk_vfio_user_msg {
	struct vfio_user_header hdr;
	uint8_t *payload; /* msg_size - 16 bytes (NULL when empty) */
	size_t len;
	int fds[PDK_VFIO_USER_FDS_MAX];
	unsigned nfds;
	bool fds_dropped; /* the peer sent more fds than allowed: all closed */
};

/*
 * Receive one message. `max_payload` bounds msg_size - 16, `max_fds` the
 * fds kept; `timeout_ms` (< 0: forever) bounds every wait for more bytes.
 * Returns 0, or:
 *   -ECONNRESET  the peer closed (between messages or in the middle),
 *   -ETIMEDOUT   nothing (more) arrived in time,
 *   -EPROTO      msg_size < 16 or fds after the first byte: stream unusable,
 *   -EMSGSIZE    msg_size over the limit; msg->hdr is valid so the caller
 *                can send an error reply, but the stream is unusable,
 *   -errno       from the socket.
 * More fds than `max_fds` are all closed and set msg->fds_dropped; the
 * stream stays in sync. On error nothing is left to release.
 */
PDK_API int pdk_vfio_user_recv(int sock, struct pdk_vfio_user_msg *msg,
			       size_t max_payload, unsigned max_fds,
			       int timeout_ms);

/* Free the payload and close the fds nobody took. Safe to call twice. */
PDK_API void pdk_vfio_user_msg_release(struct pdk_vfio_user_msg *msg);

/* Take ownership of fd `i` (the message will not close it); -1 if none. */
PDK_API int pdk_vfio_user_msg_take_fd(struct pdk_vfio_user_msg *msg,
				      unsigned i);

/*
 * Send one message: `hdr` (msg_size is filled in) then the iovecs, with
 * `nfds` fds (at most PDK_VFIO_USER_FDS_MAX) on the first byte. Handles
 * partial writes and EINTR, never raises SIGPIPE. Returns 0, -EPIPE /
 * -ECONNRESET when the peer is gone, -ETIMEDOUT when the socket's send
 * timeout expired, -EMSGSIZE when the message does not fit in 32 bits.
 */
PDK_API int pdk_vfio_user_sendv(int sock, struct vfio_user_header *hdr,
				const struct iovec *iov, int iovcnt,
				const int *fds, unsigned nfds);

/* A command (fills flags with the command type unless NO_REPLY is set). */
PDK_API int pdk_vfio_user_send_cmd(int sock, uint16_t id, uint16_t cmd,
				   uint32_t flags, const void *payload,
				   size_t len, const int *fds, unsigned nfds);

/* A reply to `req` with a payload (may be empty) and fds. */
PDK_API int pdk_vfio_user_send_reply(int sock,
				     const struct vfio_user_header *req,
				     const void *payload, size_t len,
				     const int *fds, unsigned nfds);

/* An error reply to `req`: header only, Error flag, `err` (> 0). */
PDK_API int pdk_vfio_user_send_error(int sock,
				     const struct vfio_user_header *req,
				     int err);

/* Command name for logs ("DMA_MAP"), "?" when unknown. */
PDK_API const char *pdk_vfio_user_cmd_name(unsigned cmd);

/* ---- VERSION (both directions) ---- */

/* Encode major/minor and the JSON capabilities; returns the payload size. */
PDK_API int pdk_vfio_user_version_encode(void *buf, size_t size,
					 uint16_t major, uint16_t minor,
					 const struct pdk_vfio_user_caps *c);

/* Decode a VERSION payload; `c` starts from the specification defaults. */
PDK_API int pdk_vfio_user_version_decode(const struct pdk_vfio_user_msg *m,
					 uint16_t *major, uint16_t *minor,
					 struct pdk_vfio_user_caps *c);

/* ---- requests, decoded by the server ---- */

/* 32-byte payload, argsz 32, known flags, at most one fd, no wrap. */
PDK_API int pdk_vfio_user_dma_map_decode(const struct pdk_vfio_user_msg *m,
					 struct vfio_user_dma_map *out);
/*
 * 24-byte payload, argsz >= 24, no fds; flags 0 with size > 0 and no wrap,
 * or VFIO_USER_DMA_UNMAP_F_ALL with address and size 0 (unmap everything).
 * GET_DIRTY_BITMAP gives -ENOTSUP.
 */
PDK_API int pdk_vfio_user_dma_unmap_decode(const struct pdk_vfio_user_msg *m,
					   struct vfio_user_dma_unmap *out);
/* Fixed-size requests carrying argsz (GET_INFO, GET_REGION_INFO,
 * GET_IRQ_INFO): at least `size` bytes (a longer tail is ignored: the
 * libvfio-user client sends argsz bytes), argsz >= `size`, no fds. */
PDK_API int pdk_vfio_user_info_req_decode(const struct pdk_vfio_user_msg *m,
					  void *out, size_t size);
/*
 * SET_IRQS: one data type and one action, argsz equal to the payload,
 * BOOL data of `count` bytes, EVENTFD with `count` fds or none (de-assign),
 * no fds otherwise, start + count without wrap. `*bools` points into m.
 */
PDK_API int pdk_vfio_user_set_irqs_decode(const struct pdk_vfio_user_msg *m,
					  struct vfio_user_irq_set *out,
					  const uint8_t **bools);
/*
 * REGION_READ (write = false: 16 bytes) or REGION_WRITE (16 + count):
 * 0 < count <= max_xfer, offset + count without wrap, no fds.
 */
PDK_API int pdk_vfio_user_region_rw_decode(const struct pdk_vfio_user_msg *m,
					   bool write, uint64_t max_xfer,
					   struct vfio_user_region_rw *out,
					   const void **data);

/* ---- server-to-client requests, decoded by the client ---- */

/* DMA_READ (16 bytes) or DMA_WRITE (16 + count): 0 < count <= max_xfer. */
PDK_API int pdk_vfio_user_dma_rw_decode(const struct pdk_vfio_user_msg *m,
					bool write, uint64_t max_xfer,
					struct vfio_user_dma_rw *out,
					const void **data);

/* ---- replies ---- */

/*
 * Check that `m` answers the command `cmd` with id `id`: a reply type,
 * matching id and command. Returns 0, -EPROTO when it does not match, or
 * the peer's -errno for an error reply (-EIO when it gave none).
 */
PDK_API int pdk_vfio_user_reply_check(const struct pdk_vfio_user_msg *m,
				      uint16_t id, uint16_t cmd);

/* A parsed region info reply. */
struct pdk_vfio_user_region {
	struct vfio_user_region_info info;
	bool msix_mappable; /* VFIO_REGION_INFO_CAP_MSIX_MAPPABLE present */
	bool sparse;        /* VFIO_REGION_INFO_CAP_SPARSE_MMAP present */
	uint32_t nr_areas;
	struct vfio_user_sparse_area areas[PDK_VFIO_USER_AREAS_MAX];
};

/*
 * Encode a region info reply for a request that allowed `max_argsz`
 * bytes: the full reply with its capabilities when they fit, else the
 * fixed part with argsz telling the size needed, FLAG_CAPS clear and
 * cap_offset 0 (as libvfio-user does; the fd goes with the full reply).
 * `r->info.argsz`, `cap_offset` and FLAG_CAPS are computed here. Returns
 * the payload size or -ENOSPC when `size` is too small.
 */
PDK_API int pdk_vfio_user_region_info_encode(void *buf, size_t size,
					     uint32_t max_argsz,
					     const struct pdk_vfio_user_region *r);

/*
 * Decode a region info reply to a request for region `index` made with
 * `argsz`. When the reply needs more room, returns 0 with
 * out->info.argsz > argsz and no capabilities parsed: ask again. The
 * capability walk treats the data as untrusted (offsets inside the reply,
 * past the fixed part, bounded steps, known versions); sparse areas must
 * lie inside the region. An fd must come with FLAG_MMAP and only then.
 */
PDK_API int pdk_vfio_user_region_info_decode(const struct pdk_vfio_user_msg *m,
					     uint32_t index, uint32_t argsz,
					     struct pdk_vfio_user_region *out);

/* DEVICE_GET_INFO / GET_IRQ_INFO replies (16 bytes, sane counts). */
PDK_API int pdk_vfio_user_device_info_decode(const struct pdk_vfio_user_msg *m,
					     struct vfio_user_device_info *out);
PDK_API int pdk_vfio_user_irq_info_decode(const struct pdk_vfio_user_msg *m,
					  uint32_t index,
					  struct vfio_user_irq_info *out);

/* REGION_READ / REGION_WRITE reply matching the request `req`. */
PDK_API int pdk_vfio_user_region_rw_reply_decode(const struct pdk_vfio_user_msg *m,
						 bool write,
						 const struct vfio_user_region_rw *req,
						 const void **data);

/* DMA_READ / DMA_WRITE reply matching the request `req`. */
PDK_API int pdk_vfio_user_dma_rw_reply_decode(const struct pdk_vfio_user_msg *m,
					      bool write,
					      const struct vfio_user_dma_rw *req,
					      const void **data);

/* DMA_UNMAP reply: the entry echoed (at least 24 bytes, same addr/size). */
PDK_API int pdk_vfio_user_dma_unmap_reply_decode(const struct pdk_vfio_user_msg *m,
						 const struct vfio_user_dma_unmap *req);

#ifdef __cplusplus
}
#endif
#endif /* PDK_VFIO_USER_H */
