/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Kernel backend, IOMMU side: VFIO_IOMMU_GET_INFO (page sizes, IOVA ranges,
 * DMA_AVAIL) and VFIO_IOMMU_MAP_DMA / UNMAP_DMA on the container. Errors
 * are returned raw; vfio_dma.c turns them into messages.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <linux/vfio.h>

#include "vfio_kernel.h"
#include "vfio_sys.h"

int vfio_kernel_iommu_info(struct pdk_vfio_domain *dom, struct pdk_vfio_iommu_info *out)
{
	struct vfio_iommu_type1_info tmpl = {0};
	char err[VFIO_ERR_MAX];
	uint32_t len;
	void *buf;
	int rc;

	(void)dom;
	if (kc.fd < 0 || !kc.iommu_set)
		return -ENODEV;
	rc = vfio_kernel_info_query(kc.fd, VFIO_IOMMU_GET_INFO, &tmpl, sizeof(tmpl),
				    VFIO_IOMMU_INFO_CAPS, &buf, &len, "VFIO_IOMMU_GET_INFO");
	if (rc < 0)
		return rc;
	rc = vfio_iommu_parse(buf, len, out, err, sizeof(err));
	free(buf);
	if (rc < 0)
		PDK_LOG(ERR, VFIO_LOG, "VFIO_IOMMU_GET_INFO: %s", err);
	return rc;
}

int vfio_kernel_dma_map(struct pdk_vfio_domain *dom, const struct vfio_dma_req *req)
{
	struct vfio_iommu_type1_dma_map m = {
		.argsz = sizeof(m),
		.flags = VFIO_DMA_MAP_FLAG_READ | VFIO_DMA_MAP_FLAG_WRITE,
		.vaddr = (uint64_t)(uintptr_t)req->va,
		.iova = req->iova,
		.size = req->len,
	};

	(void)dom;
	return vfio_sys->ioctl(kc.fd, VFIO_IOMMU_MAP_DMA, &m) < 0 ? -errno : 0;
}

int vfio_kernel_dma_unmap(struct pdk_vfio_domain *dom, uint64_t iova, uint64_t len,
			  uint64_t *unmapped)
{
	struct vfio_iommu_type1_dma_unmap u = {
		.argsz = sizeof(u),
		.iova = iova,
		.size = len,
	};

	(void)dom;
	*unmapped = 0;
	if (vfio_sys->ioctl(kc.fd, VFIO_IOMMU_UNMAP_DMA, &u) < 0)
		return -errno;
	*unmapped = u.size; /* the kernel reports what it really removed */
	return 0;
}
