/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A syscall injector for lib/vfio's tests: installed over the table in use
 * (the fake kernel's, or the real one), it counts every call lib/vfio makes
 * through vfio_sys once armed and fails the fail_at-th with EIO (recording
 * which). close and munmap are never failed (undoing must work); anonymous
 * reservations are tracked so a test can see that all were unmapped.
 * Also the sequence of steps the fault tests take a device through.
 * Include after pdk_test.h; needs lib/vfio on the include path.
 */
#ifndef VFIO_INJECT_H
#define VFIO_INJECT_H

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <sys/mman.h>

#include <pdk_vfio.h>

#include "vfio_sys.h"

#define MAX_RESERVED 16

static struct {
	const struct vfio_sys *below;   /* the fake kernel's table */
	int calls;                      /* counted since arming */
	int fail_at;                    /* this call fails; 0: none */
	bool armed, fired;
	char what[64];                  /* the call that failed */
	struct { void *addr; size_t len; } res[MAX_RESERVED]; /* live reservations */
	int nr_res;
} inj;

static inline bool inj_fail(const char *what)
{
	if (!inj.armed || ++inj.calls != inj.fail_at)
		return false;
	inj.fired = true;
	snprintf(inj.what, sizeof(inj.what), "%s", what);
	errno = EIO;
	return true;
}

static inline int inj_open(const char *path, int flags, mode_t mode)
{
	return inj_fail("open") ? -1 : inj.below->open(path, flags, mode);
}

static inline int inj_ioctl(int fd, unsigned long req, void *arg)
{
	char what[32];

	snprintf(what, sizeof(what), "ioctl 0x%lx", req);
	return inj_fail(what) ? -1 : inj.below->ioctl(fd, req, arg);
}

static inline void *inj_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	void *p;

	if (inj_fail(flags & MAP_ANONYMOUS ? "mmap (reservation)" : "mmap"))
		return MAP_FAILED;
	p = inj.below->mmap(addr, len, prot, flags, fd, off);
	if (p != MAP_FAILED && (flags & MAP_ANONYMOUS)) {
		assert_true(inj.nr_res < MAX_RESERVED);
		inj.res[inj.nr_res].addr = p;
		inj.res[inj.nr_res++].len = len;
	}
	return p;
}

/* Undoing never fails here: close and munmap are not injected. */
static inline int inj_munmap(void *addr, size_t len)
{
	for (int i = 0; i < inj.nr_res; i++)
		if (inj.res[i].addr == addr && inj.res[i].len == len)
			inj.res[i] = inj.res[--inj.nr_res];
	return inj.below->munmap(addr, len);
}

static inline ssize_t inj_pread(int fd, void *buf, size_t len, off_t off)
{
	return inj_fail("pread") ? -1 : inj.below->pread(fd, buf, len, off);
}

static inline ssize_t inj_pwrite(int fd, const void *buf, size_t len, off_t off)
{
	return inj_fail("pwrite") ? -1 : inj.below->pwrite(fd, buf, len, off);
}

static inline int inj_fcntl_lock(int fd, int cmd, struct flock *fl)
{
	return inj_fail("fcntl lock") ? -1 : inj.below->fcntl_lock(fd, cmd, fl);
}

static inline int inj_getrlimit(int resource, struct rlimit *rl)
{
	return inj_fail("getrlimit") ? -1 : inj.below->getrlimit(resource, rl);
}

static struct vfio_sys inj_sys;

static inline void inj_install(void)
{
	inj.below = vfio_sys; /* the fake kernel, or the real table */
	inj_sys = *inj.below;
	inj_sys.open = inj_open;
	inj_sys.ioctl = inj_ioctl;
	inj_sys.mmap = inj_mmap;
	inj_sys.munmap = inj_munmap;
	inj_sys.pread = inj_pread;
	inj_sys.pwrite = inj_pwrite;
	inj_sys.fcntl_lock = inj_fcntl_lock;
	inj_sys.getrlimit = inj_getrlimit;
	vfio_sys_set(&inj_sys);
}

static inline void inj_arm(int fail_at)
{
	inj.calls = 0;
	inj.fail_at = fail_at;
	inj.fired = false;
	inj.what[0] = '\0';
	inj.armed = true;
}

/* ---------------------------------------------------- the sequence -- */

/* What a driver does with a device, step by step, for the fault tests. */
enum step { ST_OPEN, ST_BARS, ST_MSIX, ST_DMA, ST_DONE, ST_COUNT };
static const char *const step_name[ST_COUNT] = {"device open", "BAR mapping",
						 "MSI-X setup", "DMA mapping", "none"};

struct run {
	struct pdk_vfio_dev *dev;
	void *buf;       /* what the DMA step maps */
	size_t len;
	bool dma_mapped;
	bool in_steps;   /* the fault came before the close */
	int rc;          /* of the step that failed */
};

/* Open `name`, map its BARs, enable two MSI-X vectors, map r->buf (r->len
 * bytes; NULL: BAR0 itself) for DMA. Returns the step that failed. */
static inline enum step run_steps(struct run *r, const char *name)
{
	pdk_iova_t iova;
	int fds[2];

	r->dev = pdk_vfio_dev_open(name, 0);
	if (r->dev == NULL) {
		r->rc = -errno;
		return ST_OPEN;
	}
	if ((r->rc = pdk_vfio_dev_map_bars(r->dev)) < 0)
		return ST_BARS;
	if ((r->rc = pdk_vfio_msix_enable(r->dev, 2, fds)) < 0)
		return ST_MSIX;
	if (r->buf == NULL)
		r->buf = pdk_vfio_dev_bar(r->dev, 0)->addr;
	if ((r->rc = pdk_vfio_dma_map(pdk_vfio_dev_domain(r->dev), r->buf, r->len, &iova)) < 0)
		return ST_DMA;
	r->dma_mapped = true;
	return ST_DONE;
}

#endif /* VFIO_INJECT_H */
