/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The "vdev" bus: creates the --vdev devices through registered vdev
 * drivers at pdk_eal_init() and removes them at pdk_eal_cleanup(); and
 * the key=value option parser the drivers share.
 */
#include <ctype.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pdk_bus.h>
#include <pdk_eal.h>
#include <pdk_log.h>

#include "ethdev_private.h"
#include "pdk_vdev.h"

#define VDEV_LOG "vdev"

static struct pdk_vdev_driver *drivers;

/* Devices created, newest first (removed in that order). */
struct vdev {
	struct vdev *next;
	const struct pdk_vdev_driver *drv;
	char name[PDK_ETH_NAME_MAX];
};
static struct vdev *vdevs;

void pdk_vdev_driver_register(struct pdk_vdev_driver *drv)
{
	for (struct pdk_vdev_driver *d = drivers; d != NULL; d = d->next)
		if (d == drv)
			return;
	drv->next = drivers;
	drivers = drv;
}

/* The driver whose name is the longest prefix of `name`. */
static const struct pdk_vdev_driver *driver_for(const char *name)
{
	const struct pdk_vdev_driver *best = NULL;

	for (const struct pdk_vdev_driver *d = drivers; d != NULL; d = d->next)
		if (strncmp(name, d->name, strlen(d->name)) == 0 &&
		    (best == NULL || strlen(d->name) > strlen(best->name)))
			best = d;
	return best;
}

static void driver_names(char *buf, size_t size)
{
	size_t len = 0;
	int n;

	buf[0] = '\0';
	for (const struct pdk_vdev_driver *d = drivers; d != NULL && len < size;
	     d = d->next) {
		n = snprintf(buf + len, size - len, "%s%s", len ? ", " : "", d->name);
		if (n > 0)
			len += (size_t)n;
	}
	if (len == 0)
		snprintf(buf, size, "none (link the net_null/net_ring drivers)");
}

static struct vdev **vdev_slot(const char *name)
{
	struct vdev **p = &vdevs;

	while (*p != NULL && strcmp((*p)->name, name) != 0)
		p = &(*p)->next;
	return p;
}

/* Split "name,args" into name (bounded) and a pointer to the args. */
static int split_devargs(const char *devargs, char *name, const char **args)
{
	const char *comma = strchr(devargs, ',');
	size_t len = comma ? (size_t)(comma - devargs) : strlen(devargs);

	if (len == 0 || len >= PDK_ETH_NAME_MAX) {
		PDK_LOG(ERR, VDEV_LOG, "vdev '%s': the name must be 1-%d characters "
			"(e.g. net_null0)", devargs, PDK_ETH_NAME_MAX - 1);
		return -EINVAL;
	}
	memcpy(name, devargs, len);
	name[len] = '\0';
	*args = comma ? comma + 1 : "";
	return 0;
}

int pdk_vdev_create(const char *devargs)
{
	char name[PDK_ETH_NAME_MAX], known[256];
	const struct pdk_vdev_driver *drv;
	const char *args;
	struct vdev *v;
	int rc;

	if (devargs == NULL || (rc = split_devargs(devargs, name, &args)) < 0)
		return -EINVAL;
	if ((drv = driver_for(name)) == NULL) {
		driver_names(known, sizeof(known));
		PDK_LOG(ERR, VDEV_LOG, "no driver for vdev %s; vdev names start "
			"with a driver name: %s", name, known);
		return -ENOENT;
	}
	if (*vdev_slot(name) != NULL || pdk_eth_dev_find(name) != NULL) {
		PDK_LOG(ERR, VDEV_LOG, "vdev %s exists already; give each a "
			"different number (%s0, %s1, ...)", name, drv->name, drv->name);
		return -EEXIST;
	}
	if ((v = calloc(1, sizeof(*v))) == NULL)
		return -ENOMEM;
	if ((rc = drv->probe(name, args)) < 0) {
		free(v);
		return rc;
	}
	v->drv = drv;
	snprintf(v->name, sizeof(v->name), "%s", name);
	v->next = vdevs;
	vdevs = v;
	return 0;
}

int pdk_vdev_remove(const char *name)
{
	struct vdev **slot = name ? vdev_slot(name) : &vdevs;
	struct vdev *v = *slot;
	int rc, port;

	if (name == NULL || v == NULL) {
		PDK_LOG(ERR, VDEV_LOG, "no vdev called %s", name ? name : "(null)");
		return -ENOENT;
	}
	*slot = v->next;
	if (v->drv->remove) {
		rc = v->drv->remove(name);
	} else {
		port = pdk_eth_dev_lookup(name);
		/* Closed by the application already: nothing left to do. */
		rc = port < 0 ? 0 : pdk_eth_dev_close((uint16_t)port);
	}
	free(v);
	return rc;
}

static int vdev_probe_all(void)
{
	int rc;

	for (int i = 0; i < pdk_eal_vdev_count(); i++)
		if ((rc = pdk_vdev_create(pdk_eal_vdev(i))) < 0)
			return rc;
	return 0;
}

static void vdev_cleanup(void)
{
	while (vdevs != NULL)
		pdk_vdev_remove(vdevs->name);
}

static struct pdk_bus vdev_bus = {
	.name = "vdev",
	.probe = vdev_probe_all,
	.cleanup = vdev_cleanup,
};
PDK_BUS_REGISTER(vdev_bus)

int pdk_vdev_arg_uint(const char *value, unsigned long min, unsigned long max,
		      unsigned long *out)
{
	unsigned long v;
	char *end;

	if (value == NULL || !isdigit((unsigned char)value[0]))
		return -EINVAL;
	errno = 0;
	v = strtoul(value, &end, 10);
	if (errno != 0 || *end != '\0' || v < min || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

static const struct pdk_vdev_arg *find_arg(const struct pdk_vdev_arg *spec,
					   const char *key)
{
	for (; spec->key != NULL; spec++)
		if (strcmp(spec->key, key) == 0)
			return spec;
	return NULL;
}

/* One "key=value" item. */
static int parse_item(const char *dev, char *item,
		      const struct pdk_vdev_arg *spec, const char *usage,
		      void *ctx)
{
	char *eq = strchr(item, '=');
	const struct pdk_vdev_arg *a;

	if (eq == NULL) {
		PDK_LOG(ERR, VDEV_LOG, "%s: option '%s' has no value; options "
			"are key=value: %s", dev, item, usage);
		return -EINVAL;
	}
	*eq = '\0';
	if ((a = find_arg(spec, item)) == NULL) {
		PDK_LOG(ERR, VDEV_LOG, "%s: unknown option '%s'; valid options: %s",
			dev, item, usage);
		return -EINVAL;
	}
	if (a->parse(eq + 1, ctx) < 0) {
		PDK_LOG(ERR, VDEV_LOG, "%s: bad value '%s' for %s; valid options: %s",
			dev, eq + 1, item, usage);
		return -EINVAL;
	}
	return 0;
}

int pdk_vdev_args_parse(const char *dev, const char *args,
			const struct pdk_vdev_arg *spec, const char *usage,
			void *ctx)
{
	char *copy, *save = NULL, *item;
	int rc = 0;

	if (args == NULL || args[0] == '\0')
		return 0;
	if ((copy = strdup(args)) == NULL)
		return -ENOMEM;
	for (item = strtok_r(copy, ",", &save); item != NULL && rc == 0;
	     item = strtok_r(NULL, ",", &save))
		rc = parse_item(dev, item, spec, usage, ctx);
	free(copy);
	return rc;
}
