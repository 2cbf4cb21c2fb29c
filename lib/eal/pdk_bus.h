/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Buses: how pdk_eal_init finds devices and hands them to drivers. A bus
 * (PCI, vdev) registers itself from a constructor; at the end of init the
 * EAL calls every bus's scan, then every bus's probe; pdk_eal_cleanup calls
 * cleanup in reverse order.
 */
#ifndef PDK_BUS_H
#define PDK_BUS_H

#include <pdk_common.h>

#ifdef __cplusplus
extern "C" {
#endif

struct pdk_bus {
	const char *name;
	/* Find devices. Negative errno fails init. */
	int (*scan)(void);
	/* Attach drivers to the devices found. Negative errno fails init
	 * (e.g. a device named with -a could not be attached). */
	int (*probe)(void);
	/* Detach every driver and forget the devices. */
	void (*cleanup)(void);
	struct pdk_bus *next; /* owned by the EAL */
};

PDK_API void pdk_bus_register(struct pdk_bus *bus);
PDK_API struct pdk_bus *pdk_bus_find(const char *name);

#define PDK_BUS_REGISTER(bus)                                                 \
	static void __attribute__((constructor)) pdk_bus_reg_##bus(void)      \
	{                                                                     \
		pdk_bus_register(&(bus));                                     \
	}

#ifdef __cplusplus
}
#endif
#endif /* PDK_BUS_H */
