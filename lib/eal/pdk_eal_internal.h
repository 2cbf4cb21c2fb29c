/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Shared-internal EAL interfaces: used by other PDK libraries (vfio, pci),
 * not installed, not for applications.
 */
#ifndef PDK_EAL_INTERNAL_H
#define PDK_EAL_INTERNAL_H

#include <pdk_memory.h>

/*
 * Give a segment a new contiguous IOVA base (used by lib/vfio when the
 * segment's virtual addresses fall outside the IOMMU's valid IOVA ranges).
 * Must happen before any IOVA of that segment is handed to a device.
 */
PDK_API int pdk_mem_set_iova(const struct pdk_memseg *seg, pdk_iova_t iova);

/* Parse a PCI address ("0000:03:00.0" or "03:00.0") into canonical form. */
PDK_API int pdk_pci_addr_parse(const char *s, char *out, size_t outlen);

/* Options given with -a/-b for the device called `name` (NULL when none). */
PDK_API const char *pdk_eal_dev_args(const char *name);

#endif /* PDK_EAL_INTERNAL_H */
