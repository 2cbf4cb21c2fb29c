/* SPDX-License-Identifier: BSD-3-Clause */
/* The list of buses, and scan/probe/cleanup over all of them. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "eal_private.h"
#include "pdk_bus.h"

static struct pdk_bus *buses;

void pdk_bus_register(struct pdk_bus *bus)
{
	struct pdk_bus **p = &buses;

	while (*p != NULL) {
		if (*p == bus)
			return;
		p = &(*p)->next;
	}
	bus->next = NULL;
	*p = bus; /* keep registration order */
}

struct pdk_bus *pdk_bus_find(const char *name)
{
	for (struct pdk_bus *b = buses; b != NULL; b = b->next)
		if (strcmp(b->name, name) == 0)
			return b;
	return NULL;
}

int eal_buses_probe(char *err, size_t errlen)
{
	int rc;

	for (struct pdk_bus *b = buses; b != NULL; b = b->next) {
		if (b->scan && (rc = b->scan()) < 0) {
			snprintf(err, errlen, "bus %s: scan failed: %s (see the messages above)",
				 b->name, strerror(-rc));
			return rc;
		}
	}
	for (struct pdk_bus *b = buses; b != NULL; b = b->next) {
		if (b->probe && (rc = b->probe()) < 0) {
			snprintf(err, errlen, "bus %s: probe failed: %s (see the messages above)",
				 b->name, strerror(-rc));
			return rc;
		}
	}
	return 0;
}

/* Reverse order: later buses may use devices of earlier ones. */
static void cleanup_from(struct pdk_bus *b)
{
	if (b == NULL)
		return;
	cleanup_from(b->next);
	if (b->cleanup)
		b->cleanup();
}

void eal_buses_cleanup(void)
{
	cleanup_from(buses);
}
