/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A minimal vfio-user client for the emu tests, written on lib/vfio_user.
 * It is deliberately plain (one request in flight, blocking) and serves
 * the server's DMA_READ/WRITE requests for fd-less mappings while it waits
 * for a reply. The real client backend lives in lib/vfio.
 */
#ifndef VU_CLIENT_H
#define VU_CLIENT_H

#include <stdbool.h>
#include <stdint.h>

#include <pdk_vfio_user.h>

#define VUC_TIMEOUT_MS 5000
#define VUC_LOCAL_MAX 8

struct vuc {
	int sock;
	uint16_t next_id;
	uint16_t minor;
	struct pdk_vfio_user_caps server;
	struct {
		uint64_t iova, size;
		uint8_t *mem;
	} local[VUC_LOCAL_MAX]; /* fd-less DMA memory we serve */
	unsigned nlocal;
	unsigned dma_served;
	int dma_reply_err; /* answer DMA_READ/WRITE with this errno when set */
	bool dma_write_reply_empty; /* answer DMA_WRITE with the header alone (QEMU) */
};

/* Connect (no VERSION): 0 or -errno. */
int vuc_connect_raw(struct vuc *c, const char *path);
/* Connect and negotiate VERSION. */
int vuc_connect(struct vuc *c, const char *path);
void vuc_close(struct vuc *c);

/*
 * Send a command and wait for its reply, serving server requests. Returns
 * pdk_vfio_user_reply_check()'s result; on 0 release `reply` (may be NULL).
 */
int vuc_call(struct vuc *c, uint16_t cmd, const void *req, size_t len,
	     const int *fds, unsigned nfds, struct pdk_vfio_user_msg *reply);
/* Like vuc_call with a two-part payload. */
int vuc_callv(struct vuc *c, uint16_t cmd, const void *a, size_t alen,
	      const void *b, size_t blen, const int *fds, unsigned nfds,
	      struct pdk_vfio_user_msg *reply);

int vuc_version(struct vuc *c, uint16_t major, uint16_t minor);
int vuc_device_info(struct vuc *c, struct vfio_user_device_info *info);
/* Region info (asks again when argsz grows); *fd gets the fd or -1. */
int vuc_region_info(struct vuc *c, uint32_t index,
		    struct pdk_vfio_user_region *r, int *fd);
int vuc_irq_info(struct vuc *c, uint32_t index, struct vfio_user_irq_info *i);
int vuc_set_irqs(struct vuc *c, uint32_t index, uint32_t flags, uint32_t start,
		 uint32_t count, const int *fds, unsigned nfds,
		 const uint8_t *bools);
int vuc_read(struct vuc *c, uint32_t region, uint64_t off, void *buf,
	     uint32_t len);
int vuc_write(struct vuc *c, uint32_t region, uint64_t off, const void *buf,
	      uint32_t len);
uint32_t vuc_rd32(struct vuc *c, uint32_t region, uint64_t off);
uint64_t vuc_rd64(struct vuc *c, uint32_t region, uint64_t off);
int vuc_wr32(struct vuc *c, uint32_t region, uint64_t off, uint32_t v);
int vuc_wr64(struct vuc *c, uint32_t region, uint64_t off, uint64_t v);
int vuc_dma_map(struct vuc *c, uint64_t iova, uint64_t size, int fd,
		uint64_t offset, uint32_t flags);
/* Map local memory without an fd: the server reaches it with messages. */
int vuc_dma_map_local(struct vuc *c, uint64_t iova, void *mem, uint64_t size);
int vuc_dma_unmap(struct vuc *c, uint64_t iova, uint64_t size);
int vuc_reset(struct vuc *c);

/* Config space helpers (region 7). */
uint16_t vuc_cfg16(struct vuc *c, uint64_t off);
/* Offset of capability `id` in config space, 0 if absent. */
unsigned vuc_cfg_find_cap(struct vuc *c, uint8_t id);
/* Set COMMAND.Bus Master (and memory enable). */
int vuc_bus_master(struct vuc *c, bool on);

/*
 * Map a region as a driver would: reserve its size PROT_NONE, map every
 * sparse area (or the whole region) over it from `fd` at info.offset.
 * Returns the base or NULL.
 */
void *vuc_map_region(const struct pdk_vfio_user_region *r, int fd);
void vuc_unmap_region(const struct pdk_vfio_user_region *r, void *base);
/* Region info then vuc_map_region (the fd is closed): the base or NULL. */
void *vuc_map_bar(struct vuc *c, uint32_t index, struct pdk_vfio_user_region *r);

/* A memfd of `size` bytes mapped at *mem; returns the fd. */
int vuc_memfd(size_t size, void **mem);

#endif /* VU_CLIENT_H */
