/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The vfio-user client backend ("vfio-user:/path/to.sock"). Not written
 * yet: this placeholder keeps its place in the ops table so that naming such
 * a device fails with a clear message instead of being mistaken for a PCI
 * address. Its author implements struct vfio_backend_ops (vfio_private.h);
 * the common code already does the BAR plans, IOVAs, EAL memory (passed
 * with fd + offset for sharing), interrupts and events.
 */
#include <errno.h>

#include "vfio_private.h"

static int user_open(struct pdk_vfio_dev *dev, const char *name)
{
	(void)dev;
	PDK_LOG(ERR, VFIO_LOG, "%s: the vfio-user client backend is not part of this "
		"build yet; use a device bound to vfio-pci (a PCI address)", name);
	return -ENOTSUP;
}

const struct vfio_backend_ops vfio_user_ops = {
	.name = "vfio-user",
	.pins_memory = false, /* memory is shared by fd, the server maps it */
	.entry_limit_hint = "raise the vfio-user server's DMA region limit",
	.open = user_open,
};
