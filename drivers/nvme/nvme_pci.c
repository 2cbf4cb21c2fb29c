/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The PCI driver: the bus (lib/vfio) calls probe for every allowed device
 * of class 01:08:02 (NVM Express), kernel or vfio-user, with the device
 * open, mapped and bus mastering. Device arguments tune the controller:
 *
 *   -a 0000:03:00.0,io_queues=8,io_timeout_ms=1000,dbbuf=0
 *
 * Also here: surprise removal. lib/vfio reports the request event on its
 * control thread; the controller becomes FAILED at once (lock-free), so
 * every request completes with an error at its queue pair's next poll and
 * submissions stop, and the application's remove callback is told.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nvme_internal.h"

/* ------------------------------------------------------ device args -- */

struct arg_def {
	const char *key;
	size_t off;   /* in struct pdk_nvme_ctrlr_opts */
	bool is_bool;
};

#define OPT(k) #k, offsetof(struct pdk_nvme_ctrlr_opts, k)
static const struct arg_def arg_defs[] = {
	{OPT(io_queues), false},        {OPT(io_queue_depth), false},
	{OPT(admin_timeout_ms), false}, {OPT(io_timeout_ms), false},
	{OPT(abort_timeout_ms), false}, {OPT(max_retries), false},
	{"dbbuf", offsetof(struct pdk_nvme_ctrlr_opts, no_dbbuf), true},
	{"shutdown", offsetof(struct pdk_nvme_ctrlr_opts, no_shutdown), true},
};

static int arg_set(struct pdk_nvme_ctrlr_opts *o, const char *dev, const char *key,
		   const char *val)
{
	for (size_t i = 0; i < PDK_DIM(arg_defs); i++) {
		const struct arg_def *d = &arg_defs[i];
		char *end;
		unsigned long v;

		if (strcmp(key, d->key) != 0)
			continue;
		v = strtoul(val, &end, 0);
		if (*val == '\0' || *end != '\0' || v > UINT32_MAX || (d->is_bool && v > 1)) {
			PDK_LOG(ERR, NVME_LOG, "%s: device argument %s=%s: want %s", dev, key, val,
				d->is_bool ? "0 or 1" : "a number");
			return -EINVAL;
		}
		if (d->is_bool) /* stored negated: the options say what to turn off */
			*(bool *)((char *)o + d->off) = v == 0;
		else
			*(uint32_t *)(void *)((char *)o + d->off) = (uint32_t)v;
		return 0;
	}
	PDK_LOG(ERR, NVME_LOG, "%s: unknown device argument '%s'; valid: io_queues, "
		"io_queue_depth, admin_timeout_ms, io_timeout_ms, abort_timeout_ms, max_retries, "
		"dbbuf=0|1, shutdown=0|1", dev, key);
	return -EINVAL;
}

static int args_parse(const char *dev, const char *args, struct pdk_nvme_ctrlr_opts *o)
{
	char *copy = strdup(args), *save = NULL;
	int rc = copy ? 0 : -ENOMEM;

	for (char *kv = copy ? strtok_r(copy, ",", &save) : NULL; kv && rc == 0;
	     kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');

		if (eq == NULL) {
			PDK_LOG(ERR, NVME_LOG, "%s: device argument '%s' is not key=value", dev, kv);
			rc = -EINVAL;
			break;
		}
		*eq = '\0';
		rc = arg_set(o, dev, kv, eq + 1);
	}
	free(copy);
	return rc;
}

/* The ",key=value" text given with -a for this device. */
static const char *dev_args(const char *name)
{
	for (int i = 0; i < pdk_eal_allow_count(); i++) {
		const char *n = pdk_eal_allow_name(i);
		size_t ln = strlen(n), lname = strlen(name);

		/* the bus normalises PCI addresses: "03:00.0" is "0000:03:00.0" */
		if (strcmp(n, name) == 0 ||
		    (lname > ln && strcmp(name + lname - ln, n) == 0 && name[lname - ln - 1] == ':'))
			return pdk_eal_allow_args(i);
	}
	return NULL;
}

/* -------------------------------------------------------- PCI driver -- */

static int nvme_probe(struct pdk_pci_device *pd)
{
	struct pdk_nvme_ctrlr_opts o;
	const char *args = dev_args(pd->name);
	struct pdk_nvme_ctrlr *c;
	int rc;

	pdk_nvme_ctrlr_opts_default(&o);
	if (args != NULL && (rc = args_parse(pd->name, args, &o)) < 0)
		return rc;
	c = nvme_ctrlr_create(pd->vdev, pd->name, &o);
	if (c == NULL)
		return -errno;
	pd->driver_data = c;
	return 0;
}

static void nvme_remove(struct pdk_pci_device *pd)
{
	if (pd->driver_data != NULL)
		nvme_ctrlr_destroy(pd->driver_data);
	pd->driver_data = NULL;
}

static const struct pdk_pci_id nvme_ids[] = {
	{PDK_PCI_CLASS(0x010802, 0xffffff)}, /* NVM Express */
	{0},
};

static const struct pdk_pci_driver nvme_driver = {
	.name = "nvme",
	.id_table = nvme_ids,
	.probe = nvme_probe,
	.remove = nvme_remove,
};
PDK_PCI_DRIVER_REGISTER(nvme_driver)

/* ------------------------------------------------- removal, AER (PCI) -- */

static void nvme_vfio_event(struct pdk_vfio_dev *dev, enum pdk_vfio_event ev, void *arg)
{
	struct pdk_nvme_ctrlr *c;

	(void)arg;
	nvme_list_lock(true); /* detach takes it too: c stays valid here */
	c = nvme_ctrlr_by_vdev_locked(dev);
	if (c != NULL && ev == PDK_VFIO_EVENT_REQUEST) {
		nvme_ctrlr_set_failed(c, "the device is being removed (the kernel or the "
				      "vfio-user server asked for it back)");
		if (c->remove_cb != NULL)
			c->remove_cb(c->remove_arg, c);
	} else if (c != NULL) {
		PDK_LOG(ERR, NVME_LOG, "%s: the device reported a PCI error (AER); the health "
			"check resets the controller if it reports a fatal status", c->name);
	}
	nvme_list_lock(false);
}

static pthread_mutex_t events_lock = PTHREAD_MUTEX_INITIALIZER;
static unsigned events_refs;

void nvme_events_ref(bool on)
{
	pthread_mutex_lock(&events_lock);
	if (on && events_refs++ == 0 && pdk_vfio_event_register(nvme_vfio_event, NULL) < 0)
		PDK_LOG(WARNING, NVME_LOG, "cannot watch for device removal: a removed "
			"controller is noticed by its all-ones registers only");
	if (!on && events_refs > 0 && --events_refs == 0)
		pdk_vfio_event_unregister(nvme_vfio_event, NULL);
	pthread_mutex_unlock(&events_lock);
}
