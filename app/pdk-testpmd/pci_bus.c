/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The PCI bus (lib/vfio) registers itself from a constructor, and nothing
 * in a static link refers to its object: name it here so the linker keeps
 * it, and `-a 0000:00:03.0` or `-a vfio-user:/path` makes ports.
 */
#include <pdk_bus.h>

#include "testpmd.h"

extern struct pdk_bus vfio_pci_bus;

struct pdk_bus *const tp_pci_bus = &vfio_pci_bus;
