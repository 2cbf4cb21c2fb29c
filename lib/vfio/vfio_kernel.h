/* SPDX-License-Identifier: BSD-3-Clause */
/* Library-private: the pieces of the kernel backend shared by its files. */
#ifndef VFIO_KERNEL_H
#define VFIO_KERNEL_H

#include "vfio_private.h"

/* Info ioctls: at most this many retries when argsz grows, and replies no
 * larger than this. */
#define VFIO_INFO_RETRIES 3
#define VFIO_INFO_MAX (64u * 1024)

/* The one container of the process: its fd and its DMA domain. */
struct kcontainer {
	int fd;                 /* -1 when closed */
	bool iommu_set;         /* VFIO_SET_IOMMU done (needs a group attached) */
	struct pdk_vfio_domain dom;
};
extern struct kcontainer kc;

/*
 * Run an info ioctl (argsz first, flags second): start with the fixed
 * struct copied from `tmpl`, and while the reply has `caps_flag` and asks
 * for a larger argsz, grow the buffer and ask again (at most
 * VFIO_INFO_RETRIES times). *out (malloc'd) holds the reply, *outlen its
 * valid length. Logs failures naming `what`. 0 or -errno.
 */
int vfio_kernel_info_query(int fd, unsigned long req, const void *tmpl, uint32_t fixed,
			   uint32_t caps_flag, void **out, uint32_t *outlen,
			   const char *what);

int vfio_kernel_dev_fd(const struct pdk_vfio_dev *dev);

/* vfio_kernel_dma.c */
int vfio_kernel_iommu_info(struct pdk_vfio_domain *dom, struct pdk_vfio_iommu_info *out);
int vfio_kernel_dma_map(struct pdk_vfio_domain *dom, const struct vfio_dma_req *req);
int vfio_kernel_dma_unmap(struct pdk_vfio_domain *dom, uint64_t iova, uint64_t len,
			  uint64_t *unmapped);

#endif /* VFIO_KERNEL_H */
