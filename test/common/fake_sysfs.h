/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A fake sysfs tree for the tests: PCI devices under a temporary folder
 * that becomes $PDK_SYS_ROOT, with the attributes lib/pci reads and the
 * driver and iommu_group links.
 */
#ifndef FAKE_SYSFS_H
#define FAKE_SYSFS_H

#include <stdint.h>

/* Make an empty tree (removing the previous one) and point PDK_SYS_ROOT
 * at it. */
void fk_sysfs_create(void);
/* Add (or update) a device; driver NULL: unbound; group < 0: none. */
void fk_sysfs_add(const char *bdf, uint16_t vendor, uint16_t device, uint32_t cls,
		  const char *driver, int group);
/* Remove the tree and unset PDK_SYS_ROOT. */
void fk_sysfs_destroy(void);
const char *fk_sysfs_root(void);

#endif /* FAKE_SYSFS_H */
