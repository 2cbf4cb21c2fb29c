/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The PCI bus of pdk_eal_init: scan sysfs (honouring -a/-b and --no-pci)
 * plus the vfio-user devices named with -a; for each device a registered
 * driver matches, open it through lib/vfio, map its BARs and DMA memory,
 * turn bus mastering on and call the driver's probe.
 *
 * A device named with -a that cannot be attached fails init with its
 * reason; other devices are skipped with a message.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "pdk_bus.h"
#include "pdk_eal.h"
#include "vfio_private.h"

static void add_vfio_user_devices(void)
{
	for (int i = 0; i < pdk_eal_allow_count(); i++) {
		const char *name = pdk_eal_allow_name(i);
		struct pdk_pci_device d = {.numa_node = -1, .iommu_group = -1,
					   .vfio_user = true, .listed = true};

		if (strncmp(name, "vfio-user:", 10) != 0 || pdk_pci_device_find(name))
			continue;
		snprintf(d.name, sizeof(d.name), "%s", name);
		if (pdk_pci_device_add(&d) == NULL)
			PDK_LOG(ERR, VFIO_LOG, "cannot add %s: %s", name, strerror(errno));
	}
}

static int pci_bus_scan(void)
{
	int rc = 0;

	if (!pdk_eal_no_pci())
		rc = pdk_pci_scan();
	add_vfio_user_devices();
	return rc < 0 ? rc : 0;
}

static void log_no_driver(const struct pdk_pci_device *pd)
{
	char names[256] = "";
	size_t used = 0;

	for (int i = 0; pdk_pci_driver_get(i); i++)
		used += (size_t)snprintf(names + used, used < sizeof(names) ? sizeof(names) - used : 0,
					 "%s%s", i ? ", " : "", pdk_pci_driver_get(i)->name);
	PDK_LOG(ERR, VFIO_LOG, "no PDK driver matches %s (vendor %04x device %04x class "
		"%06x); drivers in this program: %s", pd->name, pd->id.vendor_id,
		pd->id.device_id, pd->id.class_id, names[0] ? names : "none");
}

/* The driver for a kernel device, and whether it is bound where we can
 * open it. 0 with *drv NULL: not ours, skip quietly. */
static int pick_driver(const struct pdk_pci_device *pd, const struct pdk_pci_driver **drv)
{
	*drv = pdk_pci_driver_find(pd);
	if (*drv == NULL) {
		if (pd->listed)
			log_no_driver(pd);
		return pd->listed ? -ENODEV : 0;
	}
	if (strstr(pd->kdriver, "vfio") == NULL) {
		pdk_log(pd->listed ? PDK_LOG_ERR : PDK_LOG_NOTICE, VFIO_LOG,
			"%s %s: it is %s%s, not vfio-pci; to use it: pdk-devbind --bind "
			"vfio-pci %s", pd->listed ? "cannot use" : "skipping", pd->name,
			pd->kdriver[0] ? "bound to " : "not bound to any driver", pd->kdriver,
			pd->name);
		*drv = NULL;
		return pd->listed ? -ENODEV : 0;
	}
	return 0;
}

static void detach(struct pdk_pci_device *pd)
{
	if (pd->vdev && pd->driver)
		pdk_vfio_dev_set_bus_master(pd->vdev, false); /* stop DMA before unmapping */
	pdk_vfio_dev_close(pd->vdev);
	pd->vdev = NULL;
	pd->driver = NULL;
	pd->driver_data = NULL;
}

/* Open, map, enable, probe. */
static int attach(struct pdk_pci_device *pd, const struct pdk_pci_driver *drv)
{
	int rc = 0;

	if (drv->flags & PDK_PCI_DRV_RESET) {
		rc = pdk_vfio_dev_reset(pd->vdev);
		if (rc == -ENOTSUP)
			rc = 0; /* the device has no reset: go on without */
	}
	if (rc == 0)
		rc = pdk_vfio_dev_map_bars(pd->vdev);
	if (rc == 0 && !(drv->flags & PDK_PCI_DRV_NO_BUS_MASTER))
		rc = pdk_vfio_dev_set_bus_master(pd->vdev, true);
	if (rc == 0) {
		pd->driver = drv;
		rc = drv->probe(pd);
		if (rc < 0)
			PDK_LOG(ERR, VFIO_LOG, "driver %s failed to probe %s: %s", drv->name,
				pd->name, strerror(-rc));
	}
	if (rc < 0)
		detach(pd);
	return rc;
}

static int probe_one(struct pdk_pci_device *pd)
{
	const struct pdk_pci_driver *drv = NULL;
	int rc;

	if (!pd->vfio_user && ((rc = pick_driver(pd, &drv)) < 0 || drv == NULL))
		return rc;
	pd->vdev = pdk_vfio_dev_open(pd->name, 0);
	if (pd->vdev == NULL)
		return -errno; /* the reason is logged */
	if (pd->vfio_user) { /* no sysfs: the ids come from config space */
		rc = pdk_pci_id_read(pdk_vfio_dev_cfg(pd->vdev), &pd->id, &pd->revision);
		drv = rc == 0 ? pdk_pci_driver_find(pd) : NULL;
		if (drv == NULL) {
			if (rc == 0)
				log_no_driver(pd);
			detach(pd);
			return rc < 0 ? rc : -ENODEV;
		}
	}
	return attach(pd, drv);
}

static int pci_bus_probe(void)
{
	for (struct pdk_pci_device *pd = pdk_pci_device_next(NULL); pd;
	     pd = pdk_pci_device_next(pd)) {
		int rc = probe_one(pd);

		if (rc < 0 && pd->listed)
			return rc; /* the user asked for it: init fails */
		if (rc < 0)
			PDK_LOG(NOTICE, VFIO_LOG, "%s skipped: %s", pd->name, strerror(-rc));
	}
	return 0;
}

static void pci_bus_cleanup(void)
{
	for (struct pdk_pci_device *pd = pdk_pci_device_next(NULL); pd;
	     pd = pdk_pci_device_next(pd)) {
		if (pd->driver && pd->driver->remove)
			pd->driver->remove(pd);
		detach(pd);
	}
	pdk_pci_device_list_clear();
}

struct pdk_bus vfio_pci_bus = {
	.name = "pci",
	.scan = pci_bus_scan,
	.probe = pci_bus_probe,
	.cleanup = pci_bus_cleanup,
};
PDK_BUS_REGISTER(vfio_pci_bus)
