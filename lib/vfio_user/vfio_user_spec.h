/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * vfio-user wire format: QEMU docs/interop/vfio-user.rst ("vfio-user Protocol
 * Specification"). Section names below are the specification's headings.
 *
 * Everything is in host byte order (spec: "Protocol Specification"). The
 * payloads that mirror VFIO ioctls reuse the flag and index values of
 * <linux/vfio.h>, as the specification says they do; the structures are
 * declared here, with their sizes checked, so the wire layout never depends
 * on the kernel headers of the build machine.
 */
#ifndef VFIO_USER_SPEC_H
#define VFIO_USER_SPEC_H

#include <assert.h>
#include <stdint.h>

#include <linux/vfio.h>

#ifdef __cplusplus
extern "C" {
#endif

/* "VFIO_USER_VERSION": the version this implementation speaks. */
#define VFIO_USER_MAJOR 0
#define VFIO_USER_MINOR 1

/* "Commands" table. */
enum vfio_user_command {
	VFIO_USER_VERSION = 1,
	VFIO_USER_DMA_MAP = 2,
	VFIO_USER_DMA_UNMAP = 3,
	VFIO_USER_DEVICE_GET_INFO = 4,
	VFIO_USER_DEVICE_GET_REGION_INFO = 5,
	VFIO_USER_DEVICE_GET_REGION_IO_FDS = 6,
	VFIO_USER_DEVICE_GET_IRQ_INFO = 7,
	VFIO_USER_DEVICE_SET_IRQS = 8,
	VFIO_USER_REGION_READ = 9,
	VFIO_USER_REGION_WRITE = 10,
	VFIO_USER_DMA_READ = 11,
	VFIO_USER_DMA_WRITE = 12,
	VFIO_USER_DEVICE_RESET = 13,
	VFIO_USER_REGION_WRITE_MULTI = 15,
	VFIO_USER_DEVICE_FEATURE = 16,
	VFIO_USER_MIG_DATA_READ = 17,
	VFIO_USER_MIG_DATA_WRITE = 18,
	VFIO_USER_MAX_COMMAND = 18,
};

/* "Header": flags bits 0-3 are the type, 4 No_reply, 5 Error. */
#define VFIO_USER_F_TYPE_MASK 0xfu
#define VFIO_USER_F_TYPE_COMMAND 0x0u
#define VFIO_USER_F_TYPE_REPLY 0x1u
#define VFIO_USER_F_NO_REPLY (1u << 4)
#define VFIO_USER_F_ERROR (1u << 5)

struct vfio_user_header {
	uint16_t msg_id;
	uint16_t command;
	uint32_t msg_size; /* whole message, header included */
	uint32_t flags;
	uint32_t error_no; /* errno in an error reply, reserved in commands */
};
static_assert(sizeof(struct vfio_user_header) == 16, "spec: Header is 16 bytes");

/* "VFIO_USER_VERSION" request and reply; JSON (NUL-terminated) follows. */
struct vfio_user_version {
	uint16_t major;
	uint16_t minor;
	/* char data[]: optional UTF-8 JSON, terminating NUL included */
};
static_assert(sizeof(struct vfio_user_version) == 4, "spec: version is 4 bytes + data");

/* Capability defaults when the peer does not state them ("Version"). */
#define VFIO_USER_DEF_MAX_MSG_FDS 1u
#define VFIO_USER_DEF_MAX_DATA_XFER (1024u * 1024u)
#define VFIO_USER_DEF_MAX_DMA_MAPS 65535u
#define VFIO_USER_DEF_PGSIZES 4096ull

/* "VFIO_USER_DMA_MAP" request; flags bit 0 readable, bit 1 writeable. */
#define VFIO_USER_DMA_F_READ (1u << 0)
#define VFIO_USER_DMA_F_WRITE (1u << 1)
struct vfio_user_dma_map {
	uint32_t argsz; /* size of this structure (32) */
	uint32_t flags;
	uint64_t offset; /* file offset in the fd sent with the message */
	uint64_t addr;   /* base DMA address (IOVA) */
	uint64_t size;
};
static_assert(sizeof(struct vfio_user_dma_map) == 32, "spec: DMA_MAP is 32 bytes");

/*
 * "VFIO_USER_DMA_UNMAP" request and reply (the reply echoes the entry).
 * The specification calls flags unused; QEMU sends the kernel's
 * VFIO_DMA_UNMAP_FLAG_ALL (address and size 0) and libvfio-user accepts it
 * and GET_DIRTY_BITMAP, so the values of <linux/vfio.h> are named here.
 */
#define VFIO_USER_DMA_UNMAP_F_GET_DIRTY_BITMAP (1u << 0)
#define VFIO_USER_DMA_UNMAP_F_ALL (1u << 1)
struct vfio_user_dma_unmap {
	uint32_t argsz; /* maximum reply payload size */
	uint32_t flags; /* 0 or VFIO_USER_DMA_UNMAP_F_* */
	uint64_t addr;
	uint64_t size;
};
static_assert(sizeof(struct vfio_user_dma_unmap) == 24, "spec: DMA_UNMAP is 24 bytes");

/* "VFIO_USER_DEVICE_GET_INFO"; flags are VFIO_DEVICE_FLAGS_{RESET,PCI}. */
struct vfio_user_device_info {
	uint32_t argsz;
	uint32_t flags;
	uint32_t num_regions;
	uint32_t num_irqs;
};
static_assert(sizeof(struct vfio_user_device_info) == 16, "spec: device info is 16 bytes");

/*
 * "VFIO_USER_DEVICE_GET_REGION_INFO" (struct vfio_region_info); flags are
 * VFIO_REGION_INFO_FLAG_*; capabilities follow at cap_offset.
 */
struct vfio_user_region_info {
	uint32_t argsz;
	uint32_t flags;
	uint32_t index;
	uint32_t cap_offset; /* from the start of this structure; 0 = none */
	uint64_t size;
	uint64_t offset; /* mmap offset in the fd sent with the reply */
};
static_assert(sizeof(struct vfio_user_region_info) == 32, "spec: region info is 32 bytes");

/* "VFIO cap header format" (struct vfio_info_cap_header). */
struct vfio_user_cap_header {
	uint16_t id;
	uint16_t version;
	uint32_t next; /* from the start of the region info; 0 = last */
};
static_assert(sizeof(struct vfio_user_cap_header) == 8, "spec: cap header is 8 bytes");

/* "VFIO region info cap sparse mmap" (VFIO_REGION_INFO_CAP_SPARSE_MMAP, v1). */
struct vfio_user_sparse_area {
	uint64_t offset; /* from the region's offset */
	uint64_t size;
};
static_assert(sizeof(struct vfio_user_sparse_area) == 16, "spec: sparse area is 16 bytes");

struct vfio_user_cap_sparse {
	struct vfio_user_cap_header header;
	uint32_t nr_areas;
	uint32_t reserved;
	/* struct vfio_user_sparse_area areas[nr_areas] */
};
static_assert(sizeof(struct vfio_user_cap_sparse) == 16, "spec: sparse cap is 8 + 8 bytes");

#define VFIO_USER_CAP_SPARSE_VERSION 1
/* <linux/vfio.h> VFIO_REGION_INFO_CAP_MSIX_MAPPABLE: header only, v1. */
#define VFIO_USER_CAP_MSIX_MAPPABLE_VERSION 1

/* "VFIO_USER_DEVICE_GET_IRQ_INFO" (struct vfio_irq_info). */
struct vfio_user_irq_info {
	uint32_t argsz;
	uint32_t flags; /* VFIO_IRQ_INFO_* */
	uint32_t index;
	uint32_t count;
};
static_assert(sizeof(struct vfio_user_irq_info) == 16, "spec: irq info is 16 bytes");

/* "VFIO_USER_DEVICE_SET_IRQS" (struct vfio_irq_set); bools follow for BOOL. */
struct vfio_user_irq_set {
	uint32_t argsz; /* request payload size, data included */
	uint32_t flags; /* one VFIO_IRQ_SET_DATA_* | one VFIO_IRQ_SET_ACTION_* */
	uint32_t index;
	uint32_t start;
	uint32_t count;
	/* uint8_t data[] */
};
static_assert(sizeof(struct vfio_user_irq_set) == 20, "spec: irq set is 20 bytes");

/* "VFIO_USER_REGION_READ" / "VFIO_USER_REGION_WRITE"; data follows. */
struct vfio_user_region_rw {
	uint64_t offset;
	uint32_t region;
	uint32_t count;
};
static_assert(sizeof(struct vfio_user_region_rw) == 16, "spec: region access is 16 bytes");

/* "VFIO_USER_DMA_READ" / "VFIO_USER_DMA_WRITE" requests; data follows. */
struct vfio_user_dma_rw {
	uint64_t addr;
	uint64_t count;
};
static_assert(sizeof(struct vfio_user_dma_rw) == 16, "spec: DMA access is 16 bytes");

/*
 * "VFIO_USER_DMA_WRITE" reply: the table gives count a size of 4, which
 * would make the reply 12 bytes; libvfio-user sends the 16-byte structure
 * above and QEMU's client the header alone. We send 16 and accept 0, 12
 * or 16 bytes (doc/vfio-user.md).
 */
#define VFIO_USER_DMA_WRITE_REPLY_MIN 12

#ifdef __cplusplus
}
#endif
#endif /* VFIO_USER_SPEC_H */
