/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The PCI device list, filled from sysfs: /sys/bus/pci/devices/<BDF>/
 * {vendor,device,subsystem_vendor,subsystem_device,class,revision,numa_node}
 * and the driver and iommu_group links. The root is $PDK_SYS_ROOT when set,
 * so tests can point it at a fake tree.
 */
#include <dirent.h>
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "pdk_eal.h"
#include "pdk_eal_internal.h"
#include "pdk_log.h"
#include "pdk_pci.h"

#define PCI_LOG "pci"

static struct pdk_pci_device *dev_list;

const char *pdk_pci_sysfs_root(void)
{
	const char *r = getenv("PDK_SYS_ROOT");

	return r && r[0] ? r : "/sys";
}

/* One sysfs attribute as an unsigned number (hex with 0x, or decimal). */
static int read_num(const char *dir, const char *attr, long long *val)
{
	char path[PATH_MAX], text[64];
	FILE *f;
	int ok;

	snprintf(path, sizeof(path), "%s/%s", dir, attr);
	f = fopen(path, "re");
	if (f == NULL)
		return -errno;
	ok = fgets(text, sizeof(text), f) != NULL;
	fclose(f);
	if (!ok)
		return -EIO;
	errno = 0;
	*val = strtoll(text, NULL, 0);
	return errno ? -errno : 0;
}

/* Basename of the symlink dir/attr into buf ("" when absent). */
static int read_link_name(const char *dir, const char *attr, char *buf, size_t len)
{
	char path[PATH_MAX], target[PATH_MAX];
	const char *base;
	ssize_t n;

	snprintf(path, sizeof(path), "%s/%s", dir, attr);
	buf[0] = '\0';
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return errno == ENOENT ? 0 : -errno;
	target[n] = '\0';
	base = strrchr(target, '/');
	snprintf(buf, len, "%s", base ? base + 1 : target);
	return 0;
}

static void device_dir(const char *bdf, char *dir, size_t len)
{
	snprintf(dir, len, "%s/bus/pci/devices/%s", pdk_pci_sysfs_root(), bdf);
}

int pdk_pci_kdriver(const char *bdf, char *buf, size_t len)
{
	char dir[PATH_MAX];

	device_dir(bdf, dir, sizeof(dir));
	return read_link_name(dir, "driver", buf, len);
}

bool pdk_pci_kdriver_keeps_viable(const char *kdriver)
{
	return kdriver == NULL || kdriver[0] == '\0' || strstr(kdriver, "vfio") != NULL ||
	       strcmp(kdriver, "pci-stub") == 0 || strcmp(kdriver, "pcieport") == 0;
}

static int read_ids(const char *dir, struct pdk_pci_device *dev)
{
	static const char *const attrs[] = {"vendor", "device", "subsystem_vendor",
					    "subsystem_device", "class"};
	long long v[PDK_DIM(attrs)];

	for (size_t i = 0; i < PDK_DIM(attrs); i++) {
		int rc = read_num(dir, attrs[i], &v[i]);

		if (rc < 0) {
			PDK_LOG(WARNING, PCI_LOG, "%s: cannot read %s/%s: %s", dev->name, dir,
				attrs[i], strerror(-rc));
			return rc;
		}
	}
	dev->id.vendor_id = (uint16_t)v[0];
	dev->id.device_id = (uint16_t)v[1];
	dev->id.subsystem_vendor_id = (uint16_t)v[2];
	dev->id.subsystem_device_id = (uint16_t)v[3];
	dev->id.class_id = (uint32_t)v[4] & 0xffffff;
	return 0;
}

int pdk_pci_device_read(const char *bdf, struct pdk_pci_device *dev)
{
	char dir[PATH_MAX], group[32];
	unsigned dom, bus, slot, fn;
	long long v;
	struct stat st;
	int rc;

	memset(dev, 0, sizeof(*dev));
	if (pdk_pci_addr_parse(bdf, dev->name, sizeof(dev->name)) < 0)
		return -EINVAL;
	sscanf(dev->name, "%x:%x:%x.%x", &dom, &bus, &slot, &fn);
	dev->addr = (struct pdk_pci_addr){dom, (uint8_t)bus, (uint8_t)slot, (uint8_t)fn};
	device_dir(dev->name, dir, sizeof(dir));
	if (stat(dir, &st) < 0)
		return -ENODEV;
	if ((rc = read_ids(dir, dev)) < 0)
		return rc;
	dev->revision = read_num(dir, "revision", &v) == 0 ? (uint8_t)v : 0;
	dev->numa_node = read_num(dir, "numa_node", &v) == 0 && v >= 0 ? (int)v : -1;
	read_link_name(dir, "driver", dev->kdriver, sizeof(dev->kdriver));
	read_link_name(dir, "iommu_group", group, sizeof(group));
	dev->iommu_group = group[0] ? atoi(group) : -1;
	return 0;
}

static void list_append(struct pdk_pci_device *dev)
{
	struct pdk_pci_device **p = &dev_list;

	while (*p)
		p = &(*p)->next;
	dev->next = NULL;
	*p = dev;
}

struct pdk_pci_device *pdk_pci_device_add(const struct pdk_pci_device *tmpl)
{
	struct pdk_pci_device *dev;

	if (tmpl == NULL || tmpl->name[0] == '\0') {
		errno = EINVAL;
		return NULL;
	}
	if (pdk_pci_device_find(tmpl->name)) {
		errno = EEXIST;
		return NULL;
	}
	dev = malloc(sizeof(*dev));
	if (dev == NULL)
		return NULL;
	*dev = *tmpl;
	list_append(dev);
	return dev;
}

static int skip_dots(const struct dirent *de)
{
	return de->d_name[0] != '.';
}

int pdk_pci_scan(void)
{
	char dir[PATH_MAX];
	struct dirent **names;
	int n, added = 0;

	snprintf(dir, sizeof(dir), "%s/bus/pci/devices", pdk_pci_sysfs_root());
	n = scandir(dir, &names, skip_dots, alphasort);
	if (n < 0) {
		PDK_LOG(INFO, PCI_LOG, "no PCI devices: cannot list %s: %s", dir,
			strerror(errno));
		return 0;
	}
	for (int i = 0; i < n; i++) {
		struct pdk_pci_device dev;
		const char *name = names[i]->d_name;

		if (pdk_eal_dev_allowed(name) && pdk_pci_device_find(name) == NULL &&
		    pdk_pci_device_read(name, &dev) == 0) {
			dev.listed = pdk_eal_allow_count() > 0;
			if (pdk_pci_device_add(&dev) != NULL)
				added++;
		}
		free(names[i]);
	}
	free(names);
	PDK_LOG(DEBUG, PCI_LOG, "scan of %s: %d device(s) allowed", dir, added);
	return added;
}

static const char *normalise(const char *name, char *buf, size_t len)
{
	if (strncmp(name, "vfio-user:", 10) != 0 && pdk_pci_addr_parse(name, buf, len) == 0)
		return buf;
	return name;
}

struct pdk_pci_device *pdk_pci_device_find(const char *name)
{
	char norm[PDK_PCI_NAME_MAX];

	if (name == NULL)
		return NULL;
	name = normalise(name, norm, sizeof(norm));
	for (struct pdk_pci_device *d = dev_list; d; d = d->next)
		if (strcmp(d->name, name) == 0)
			return d;
	return NULL;
}

struct pdk_pci_device *pdk_pci_device_next(const struct pdk_pci_device *prev)
{
	return prev ? prev->next : dev_list;
}

void pdk_pci_device_list_clear(void)
{
	while (dev_list) {
		struct pdk_pci_device *d = dev_list;

		dev_list = d->next;
		free(d);
	}
}

int pdk_pci_group_members(int group, struct pdk_pci_group_member *out, int max)
{
	char dir[PATH_MAX], mdir[PATH_MAX * 2];
	struct dirent **names;
	int n;

	if (group < 0)
		return -EINVAL;
	snprintf(dir, sizeof(dir), "%s/kernel/iommu_groups/%d/devices",
		 pdk_pci_sysfs_root(), group);
	n = scandir(dir, &names, skip_dots, alphasort);
	if (n < 0)
		return -errno;
	for (int i = 0; i < n; i++) {
		if (i < max) {
			snprintf(out[i].name, sizeof(out[i].name), "%.*s",
				 (int)sizeof(out[i].name) - 1, names[i]->d_name);
			snprintf(mdir, sizeof(mdir), "%s/%s", dir, names[i]->d_name);
			read_link_name(mdir, "driver", out[i].kdriver, sizeof(out[i].kdriver));
		}
		free(names[i]);
	}
	free(names);
	return n;
}
