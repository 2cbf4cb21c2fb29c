/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Library-private: the system calls of lib/vfio, behind one table of
 * function pointers. Production uses the real calls; unit tests install a
 * fake kernel (vfio_sys_set) that answers the VFIO ioctls with synthetic and
 * malformed replies. Nothing else in lib/vfio calls these syscalls directly.
 */
#ifndef VFIO_SYS_H
#define VFIO_SYS_H

#include <fcntl.h>
#include <stdbool.h>
#include <stddef.h>
#include <sys/resource.h>
#include <sys/types.h>

#include "pdk_common.h"

struct vfio_sys {
	int (*open)(const char *path, int flags, mode_t mode);
	int (*close)(int fd);
	/* arg is a pointer, or an integer argument cast to a pointer */
	int (*ioctl)(int fd, unsigned long req, void *arg);
	void *(*mmap)(void *addr, size_t len, int prot, int flags, int fd, off_t off);
	int (*munmap)(void *addr, size_t len);
	ssize_t (*pread)(int fd, void *buf, size_t len, off_t off);
	ssize_t (*pwrite)(int fd, const void *buf, size_t len, off_t off);
	/* fcntl(fd, cmd, fl) with a struct flock: F_SETLK, F_GETLK */
	int (*fcntl_lock)(int fd, int cmd, struct flock *fl);
	int (*getrlimit)(int resource, struct rlimit *rl);
	/* True when the process may pin memory without limit (CAP_IPC_LOCK). */
	bool (*can_pin_unlimited)(void);
	/* Host page size (sysconf(_SC_PAGESIZE)); tests try 4 KiB and 64 KiB. */
	long (*page_size)(void);
};

/* The table in use. Never NULL. */
extern const struct vfio_sys *vfio_sys;

/* Install a table (NULL restores the real one). Tests only; call while no
 * device is open. */
void vfio_sys_set(const struct vfio_sys *sys);

/* The real table, so a fake can delegate the calls it does not fake. */
const struct vfio_sys *vfio_sys_real(void);

#endif /* VFIO_SYS_H */
