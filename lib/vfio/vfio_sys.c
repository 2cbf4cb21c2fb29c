/* SPDX-License-Identifier: BSD-3-Clause */
/* The real system calls behind the vfio_sys table. */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <unistd.h>

#include "vfio_sys.h"

static int sys_open(const char *path, int flags, mode_t mode)
{
	return open(path, flags, mode);
}

static int sys_ioctl(int fd, unsigned long req, void *arg)
{
	return ioctl(fd, req, arg);
}

static int sys_fcntl_lock(int fd, int cmd, struct flock *fl)
{
	return fcntl(fd, cmd, fl);
}

/* CAP_IPC_LOCK (bit 14) in the effective set: type1 then skips the
 * RLIMIT_MEMLOCK accounting. */
static bool sys_can_pin_unlimited(void)
{
	char line[256];
	unsigned long long caps = 0;
	FILE *f = fopen("/proc/self/status", "re");

	if (f == NULL)
		return geteuid() == 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", &caps) == 1)
			break;
	fclose(f);
	return (caps >> 14) & 1;
}

static int sys_getrlimit(int resource, struct rlimit *rl)
{
	return getrlimit((__rlimit_resource_t)resource, rl);
}

static long sys_page_size(void)
{
	return sysconf(_SC_PAGESIZE);
}

static const struct vfio_sys real_sys = {
	.open = sys_open,
	.close = close,
	.ioctl = sys_ioctl,
	.mmap = mmap,
	.munmap = munmap,
	.pread = pread,
	.pwrite = pwrite,
	.fcntl_lock = sys_fcntl_lock,
	.getrlimit = sys_getrlimit,
	.can_pin_unlimited = sys_can_pin_unlimited,
	.page_size = sys_page_size,
};

const struct vfio_sys *vfio_sys = &real_sys;

void vfio_sys_set(const struct vfio_sys *sys)
{
	vfio_sys = sys ? sys : &real_sys;
}

const struct vfio_sys *vfio_sys_real(void)
{
	return &real_sys;
}
