/* SPDX-License-Identifier: BSD-3-Clause */
/* The driver registry and id-table matching. */
#include <errno.h>
#include <string.h>

#include "pdk_log.h"
#include "pdk_pci.h"

#define PCI_LOG "pci"

/* Pointers, so drivers can stay static const. Filled from constructors,
 * before main, on one thread. */
static const struct pdk_pci_driver *drivers[PDK_PCI_MAX_DRIVERS];
static int nb_drivers;

static bool id_field_match(uint16_t want, uint16_t have)
{
	return want == PDK_PCI_ANY_ID || want == have;
}

bool pdk_pci_id_match(const struct pdk_pci_id *line, const struct pdk_pci_id *id)
{
	return id_field_match(line->vendor_id, id->vendor_id) &&
	       id_field_match(line->device_id, id->device_id) &&
	       id_field_match(line->subsystem_vendor_id, id->subsystem_vendor_id) &&
	       id_field_match(line->subsystem_device_id, id->subsystem_device_id) &&
	       ((line->class_id ^ id->class_id) & line->class_mask) == 0;
}

int pdk_pci_driver_register(const struct pdk_pci_driver *drv)
{
	if (drv == NULL || drv->name == NULL || drv->id_table == NULL || drv->probe == NULL)
		return -EINVAL;
	for (int i = 0; i < nb_drivers; i++) {
		if (drivers[i] == drv)
			return 0;
		if (strcmp(drivers[i]->name, drv->name) == 0) {
			PDK_LOG(ERR, PCI_LOG, "two PCI drivers are named %s", drv->name);
			return -EEXIST;
		}
	}
	if (nb_drivers == PDK_PCI_MAX_DRIVERS) {
		PDK_LOG(ERR, PCI_LOG, "cannot register PCI driver %s: all %d slots are taken",
			drv->name, PDK_PCI_MAX_DRIVERS);
		return -ENOSPC;
	}
	drivers[nb_drivers++] = drv;
	return 0;
}

static bool table_matches(const struct pdk_pci_id *table, const struct pdk_pci_id *id)
{
	for (const struct pdk_pci_id *l = table; l->vendor_id != 0; l++)
		if (pdk_pci_id_match(l, id))
			return true;
	return false;
}

const struct pdk_pci_driver *pdk_pci_driver_find(const struct pdk_pci_device *dev)
{
	for (int i = 0; i < nb_drivers; i++)
		if (table_matches(drivers[i]->id_table, &dev->id))
			return drivers[i];
	return NULL;
}

const struct pdk_pci_driver *pdk_pci_driver_get(int i)
{
	return i >= 0 && i < nb_drivers ? drivers[i] : NULL;
}
