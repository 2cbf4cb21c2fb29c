/* SPDX-License-Identifier: BSD-3-Clause */
/* A fake sysfs tree for the tests (see fake_sysfs.h). */
#include <errno.h>
#include <stdarg.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fake_sysfs.h"

static char sys_root[256];

static void write_attr(const char *dir, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void write_attr(const char *dir, const char *name, const char *fmt, ...)
{
	char path[1024];
	va_list ap;
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", dir, name);
	f = fopen(path, "w");
	if (f == NULL)
		abort();
	va_start(ap, fmt);
	vfprintf(f, fmt, ap);
	va_end(ap);
	fclose(f);
}

static void mkdirs(const char *path)
{
	char tmp[1024];

	snprintf(tmp, sizeof(tmp), "%s", path);
	for (char *p = tmp + 1; *p; p++)
		if (*p == '/') {
			*p = '\0';
			mkdir(tmp, 0755);
			*p = '/';
		}
	mkdir(tmp, 0755);
}

void fk_sysfs_create(void)
{
	fk_sysfs_destroy(); /* one tree at a time */
	snprintf(sys_root, sizeof(sys_root), "/tmp/pdk-fk-sys-XXXXXX");
	if (mkdtemp(sys_root) == NULL)
		abort();
	setenv("PDK_SYS_ROOT", sys_root, 1);
}

const char *fk_sysfs_root(void)
{
	return sys_root;
}

void fk_sysfs_add(const char *bdf, uint16_t vendor, uint16_t device, uint32_t cls,
		  const char *driver, int group)
{
	char dir[512], p[1024], t[1024];

	snprintf(dir, sizeof(dir), "%s/devices/pci0000:00/%.32s", sys_root, bdf);
	mkdirs(dir);
	snprintf(p, sizeof(p), "%s/bus/pci/devices", sys_root);
	mkdirs(p);
	snprintf(p, sizeof(p), "%s/bus/pci/devices/%s", sys_root, bdf);
	if (symlink(dir, p) < 0 && errno != EEXIST)
		abort();
	write_attr(dir, "vendor", "0x%04x\n", vendor);
	write_attr(dir, "device", "0x%04x\n", device);
	write_attr(dir, "subsystem_vendor", "0x%04x\n", 0x1af4);
	write_attr(dir, "subsystem_device", "0x%04x\n", 0x1100);
	write_attr(dir, "class", "0x%06x\n", cls);
	write_attr(dir, "revision", "0x%02x\n", 2);
	write_attr(dir, "numa_node", "%d\n", 0);
	snprintf(p, sizeof(p), "%s/driver", dir);
	unlink(p);
	if (driver) {
		snprintf(t, sizeof(t), "%s/bus/pci/drivers/%.64s", sys_root, driver);
		mkdirs(t);
		if (symlink(t, p) < 0)
			abort();
	}
	if (group >= 0) {
		snprintf(t, sizeof(t), "%s/kernel/iommu_groups/%d/devices", sys_root, group);
		mkdirs(t);
		snprintf(p, sizeof(p), "%.900s/%.32s", t, bdf);
		if (symlink(dir, p) < 0 && errno != EEXIST)
			abort();
		snprintf(t, sizeof(t), "%s/kernel/iommu_groups/%d", sys_root, group);
		snprintf(p, sizeof(p), "%s/iommu_group", dir);
		if (symlink(t, p) < 0 && errno != EEXIST)
			abort();
	}
}

void fk_sysfs_destroy(void)
{
	char cmd[300];

	if (sys_root[0] == '\0')
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", sys_root);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", sys_root);
	unsetenv("PDK_SYS_ROOT");
	sys_root[0] = '\0';
}

