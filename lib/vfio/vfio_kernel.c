/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Kernel backend, device side: one container (/dev/vfio/vfio, type1v2 IOMMU)
 * shared by every device of the process, the IOMMU groups attached to it,
 * and one fd per device from VFIO_GROUP_GET_DEVICE_FD. Every syscall goes
 * through vfio_sys so the unit tests can play the kernel.
 *
 * Order matters to the kernel: a group must be viable and attached to the
 * container before VFIO_SET_IOMMU, and the IOMMU (and its info) exist only
 * after that.
 */
#include <errno.h>
#include <inttypes.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <linux/vfio.h>

#include "vfio_kernel.h"
#include "vfio_sys.h"

struct kgroup {
	int num;
	int fd;
	int refs;
	struct kgroup *next;
};

struct kdev {
	int fd;
	int lock_fd;
	struct kgroup *group;
};

struct kcontainer kc = {.fd = -1};
static struct kgroup *groups;

/* ------------------------------------------------------- ownership -- */

static const char *lock_dir(void)
{
	const char *d = getenv("PDK_RUN_DIR");

	if (d && d[0])
		return d;
	if ((mkdir("/run/pdk", 0755) == 0 || errno == EEXIST) && access("/run/pdk", W_OK) == 0)
		return "/run/pdk";
	return "/tmp"; /* not root (a group node given with pdk-devbind -u) */
}

/* One POSIX lock per device, held while it is open: the kernel drops it
 * when the process dies, and F_GETLK names the holder. */
static int lock_device(const char *bdf, int *lock_fd)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	char path[PATH_MAX];
	int fd;

	snprintf(path, sizeof(path), "%s/vfio-%s.lock", lock_dir(), bdf);
	fd = vfio_sys->open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
	if (fd < 0) {
		int e = errno;

		PDK_LOG(ERR, VFIO_LOG, "%s: cannot create lock file %s: %s (set PDK_RUN_DIR "
			"to a writable folder)", bdf, path, strerror(e));
		return -e;
	}
	if (vfio_sys->fcntl_lock(fd, F_SETLK, &fl) < 0) {
		struct flock who = {.l_type = F_WRLCK, .l_whence = SEEK_SET};

		if (vfio_sys->fcntl_lock(fd, F_GETLK, &who) < 0 || who.l_type == F_UNLCK)
			who.l_pid = 0;
		vfio_sys->close(fd);
		PDK_LOG(ERR, VFIO_LOG, "device %s is in use by pid %d (lock %s): stop that "
			"process or use another device", bdf, (int)who.l_pid, path);
		return -EBUSY;
	}
	*lock_fd = fd;
	return 0;
}

/* ------------------------------------------------------ info ioctls -- */

int vfio_kernel_info_query(int fd, unsigned long req, const void *tmpl, uint32_t fixed,
			   uint32_t caps_flag, void **out, uint32_t *outlen,
			   const char *what)
{
	uint32_t size = fixed, argsz, flags;
	uint8_t *buf = NULL;

	for (int attempt = 0; attempt <= VFIO_INFO_RETRIES; attempt++) {
		uint8_t *nb = realloc(buf, size);

		if (nb == NULL) {
			free(buf);
			return -ENOMEM;
		}
		buf = nb;
		memset(buf, 0, size);
		memcpy(buf, tmpl, fixed);
		memcpy(buf, &size, sizeof(size)); /* argsz comes first in every info */
		if (vfio_sys->ioctl(fd, req, buf) < 0) {
			int e = errno;

			PDK_LOG(ERR, VFIO_LOG, "%s: %s", what, strerror(e));
			free(buf);
			return -e;
		}
		memcpy(&argsz, buf, sizeof(argsz));
		memcpy(&flags, buf + 4, sizeof(flags));
		if (!(flags & caps_flag) || argsz <= size) {
			*out = buf;
			*outlen = PDK_MIN(argsz, size);
			return 0;
		}
		if (argsz > VFIO_INFO_MAX) {
			PDK_LOG(ERR, VFIO_LOG, "%s: the kernel asks for a %u-byte reply, more "
				"than the %u this build accepts", what, argsz, VFIO_INFO_MAX);
			free(buf);
			return -EPROTO;
		}
		size = argsz; /* capabilities did not fit: ask again, bigger */
	}
	PDK_LOG(ERR, VFIO_LOG, "%s: argsz still growing after %d retries", what,
		VFIO_INFO_RETRIES);
	free(buf);
	return -EPROTO;
}

/* ------------------------------------------------------- container -- */

static int container_open(void)
{
	int fd, ver, rc;

	if (kc.fd >= 0)
		return 0;
	fd = vfio_sys->open("/dev/vfio/vfio", O_RDWR | O_CLOEXEC, 0);
	if (fd < 0) {
		rc = -errno;
		PDK_LOG(ERR, VFIO_LOG, "cannot open /dev/vfio/vfio: %s (%s)", strerror(-rc),
			rc == -ENOENT ? "load VFIO: modprobe vfio-pci; pdk-doctor checks the "
					"setup" : "run as root");
		return rc;
	}
	ver = vfio_sys->ioctl(fd, VFIO_GET_API_VERSION, NULL);
	if (ver != VFIO_API_VERSION) {
		PDK_LOG(ERR, VFIO_LOG, "/dev/vfio/vfio speaks VFIO API version %d, PDK "
			"speaks %d", ver, VFIO_API_VERSION);
		vfio_sys->close(fd);
		return -EPROTONOSUPPORT;
	}
	if (vfio_sys->ioctl(fd, VFIO_CHECK_EXTENSION, (void *)(uintptr_t)VFIO_TYPE1v2_IOMMU) <= 0) {
		PDK_LOG(ERR, VFIO_LOG, "the kernel's VFIO offers no type1v2 IOMMU: enable "
			"the IOMMU (intel_iommu=on or amd_iommu=on on the kernel command "
			"line) and load vfio_iommu_type1; no-IOMMU mode is not supported");
		vfio_sys->close(fd);
		return -ENOTSUP;
	}
	kc.fd = fd;
	return 0;
}

static void kernel_domain_release(struct pdk_vfio_domain *dom)
{
	(void)dom;
	if (kc.fd >= 0)
		vfio_sys->close(kc.fd);
	kc.fd = -1;
	kc.iommu_set = false;
}

/* ---------------------------------------------------------- groups -- */

/* Name every member that makes the group non-viable, and the fix. */
static void log_not_viable(int num, const char *bdf)
{
	struct pdk_pci_group_member m[32];
	char list[1024] = "";
	size_t used = 0;
	int n = pdk_pci_group_members(num, m, (int)PDK_DIM(m));

	for (int i = 0; i < n && i < (int)PDK_DIM(m); i++) {
		if (pdk_pci_kdriver_keeps_viable(m[i].kdriver))
			continue;
		used += (size_t)snprintf(list + used, used < sizeof(list) ? sizeof(list) - used : 0,
					 "%s%s (bound to %s)", used ? ", " : "", m[i].name,
					 m[i].kdriver);
	}
	PDK_LOG(ERR, VFIO_LOG, "IOMMU group %d of %s is not viable: %s %s; bind the "
		"whole group with: pdk-devbind --bind vfio-pci --group %s", num, bdf,
		list[0] ? list : "a member is bound to a host driver",
		list[0] ? "must be bound to vfio-pci or unbound" : "", bdf);
}

static void log_group_open_error(int num, const char *bdf, const char *path, int e)
{
	char noiommu[64];
	struct stat sb;

	snprintf(noiommu, sizeof(noiommu), "/dev/vfio/noiommu-%d", num);
	if (e == EBUSY)
		PDK_LOG(ERR, VFIO_LOG, "IOMMU group %d of %s is open in another process "
			"(another PDK or DPDK program, or QEMU): stop it first", num, bdf);
	else if (e == ENOENT && stat(noiommu, &sb) == 0)
		PDK_LOG(ERR, VFIO_LOG, "IOMMU group %d of %s is a no-IOMMU group: PDK "
			"needs an IOMMU (intel_iommu=on or amd_iommu=on)", num, bdf);
	else
		PDK_LOG(ERR, VFIO_LOG, "cannot open %s for %s: %s (%s)", path, bdf,
			strerror(e), e == ENOENT ? "bind it: pdk-devbind --bind vfio-pci" :
			"run as root, or give your user the group's node");
}

static int group_open(int num, const char *bdf)
{
	struct vfio_group_status st = {.argsz = sizeof(st)};
	char path[64];
	int fd, e;

	snprintf(path, sizeof(path), "/dev/vfio/%d", num);
	fd = vfio_sys->open(path, O_RDWR | O_CLOEXEC, 0);
	if (fd < 0) {
		e = errno;
		log_group_open_error(num, bdf, path, e);
		return -e;
	}
	if (vfio_sys->ioctl(fd, VFIO_GROUP_GET_STATUS, &st) < 0) {
		e = errno;
		PDK_LOG(ERR, VFIO_LOG, "VFIO_GROUP_GET_STATUS on %s: %s", path, strerror(e));
		vfio_sys->close(fd);
		return -e;
	}
	if (!(st.flags & VFIO_GROUP_FLAGS_VIABLE)) {
		log_not_viable(num, bdf);
		vfio_sys->close(fd);
		return -EPERM;
	}
	return fd;
}

/* The first group attached makes the container's IOMMU: set it once. */
static int container_attach(struct kgroup *g)
{
	if (vfio_sys->ioctl(g->fd, VFIO_GROUP_SET_CONTAINER, &kc.fd) < 0) {
		int e = errno;

		PDK_LOG(ERR, VFIO_LOG, "cannot attach IOMMU group %d to the VFIO container: "
			"%s (its IOMMU is not compatible with the other groups')", g->num,
			strerror(e));
		return -e;
	}
	if (kc.iommu_set)
		return 0;
	if (vfio_sys->ioctl(kc.fd, VFIO_SET_IOMMU, (void *)(uintptr_t)VFIO_TYPE1v2_IOMMU) < 0) {
		int e = errno;

		PDK_LOG(ERR, VFIO_LOG, "VFIO_SET_IOMMU(type1v2) for group %d: %s", g->num,
			strerror(e));
		vfio_sys->ioctl(g->fd, VFIO_GROUP_UNSET_CONTAINER, NULL);
		return -e;
	}
	kc.iommu_set = true;
	return 0;
}

static struct kgroup *group_get(int num, const char *bdf, int *rc)
{
	struct kgroup *g;

	for (g = groups; g; g = g->next)
		if (g->num == num) {
			g->refs++;
			return g;
		}
	g = calloc(1, sizeof(*g));
	if (g == NULL) {
		*rc = -ENOMEM;
		return NULL;
	}
	g->num = num;
	g->refs = 1;
	g->fd = group_open(num, bdf);
	if (g->fd < 0) {
		*rc = g->fd;
		free(g);
		return NULL;
	}
	*rc = container_attach(g);
	if (*rc < 0) {
		vfio_sys->close(g->fd);
		free(g);
		return NULL;
	}
	g->next = groups;
	groups = g;
	return g;
}

static void group_put(struct kgroup *g)
{
	struct kgroup **p = &groups;

	if (--g->refs > 0)
		return;
	vfio_sys->ioctl(g->fd, VFIO_GROUP_UNSET_CONTAINER, NULL);
	vfio_sys->close(g->fd);
	while (*p != g)
		p = &(*p)->next;
	*p = g->next;
	free(g);
	if (groups == NULL)
		kc.iommu_set = false; /* the kernel dropped the IOMMU with the last group */
}

/* --------------------------------------------------------- devices -- */

static int check_binding(const char *bdf, struct pdk_pci_device *pd)
{
	if (pdk_pci_device_read(bdf, pd) < 0) {
		PDK_LOG(ERR, VFIO_LOG, "no PCI device %s (not in %s/bus/pci/devices)", bdf,
			pdk_pci_sysfs_root());
		return -ENODEV;
	}
	if (strstr(pd->kdriver, "vfio") == NULL) {
		PDK_LOG(ERR, VFIO_LOG, "%s is %s%s, not vfio-pci: pdk-devbind --bind vfio-pci %s",
			pd->name, pd->kdriver[0] ? "bound to " : "not bound to any driver",
			pd->kdriver, pd->name);
		return -ENODEV;
	}
	if (pd->iommu_group < 0) {
		PDK_LOG(ERR, VFIO_LOG, "%s has no IOMMU group: turn the IOMMU on "
			"(intel_iommu=on or amd_iommu=on on the kernel command line)", pd->name);
		return -ENODEV;
	}
	return 0;
}

static int device_info(struct pdk_vfio_dev *dev, int fd)
{
	struct vfio_device_info tmpl = {0}, info;
	char what[PDK_PCI_NAME_MAX + 32], err[VFIO_ERR_MAX];
	uint32_t len;
	void *buf;
	int rc;

	snprintf(what, sizeof(what), "%s: VFIO_DEVICE_GET_INFO", dev->name);
	rc = vfio_kernel_info_query(fd, VFIO_DEVICE_GET_INFO, &tmpl, sizeof(tmpl),
				    VFIO_DEVICE_FLAGS_CAPS, &buf, &len, what);
	if (rc < 0)
		return rc;
	memset(&info, 0, sizeof(info));
	memcpy(&info, buf, PDK_MIN((size_t)len, sizeof(info)));
	if ((info.flags & VFIO_DEVICE_FLAGS_CAPS) && len >= sizeof(info))
		rc = vfio_cap_walk(buf, len, sizeof(info), info.cap_offset, NULL, NULL, err,
				   sizeof(err));
	free(buf);
	if (rc < 0) {
		PDK_LOG(ERR, VFIO_LOG, "%s: %s", what, err);
		return rc;
	}
	if (!(info.flags & VFIO_DEVICE_FLAGS_PCI) ||
	    info.num_regions <= VFIO_PCI_CONFIG_REGION_INDEX) {
		PDK_LOG(ERR, VFIO_LOG, "%s: not a vfio-pci device (flags 0x%x, %u regions)",
			dev->name, info.flags, info.num_regions);
		return -ENODEV;
	}
	dev->info.flags = PDK_VFIO_DEV_PCI |
			  (info.flags & VFIO_DEVICE_FLAGS_RESET ? PDK_VFIO_DEV_RESET : 0);
	dev->info.num_regions = info.num_regions;
	dev->info.num_irqs = info.num_irqs;
	return 0;
}

static int kernel_open(struct pdk_vfio_dev *dev, const char *name)
{
	struct pdk_pci_device pd;
	struct kdev *kd = calloc(1, sizeof(*kd));
	int rc;

	if (kd == NULL)
		return -ENOMEM;
	kd->fd = kd->lock_fd = -1;
	if ((rc = check_binding(name, &pd)) < 0)
		goto fail_free;
	snprintf(dev->name, sizeof(dev->name), "%s", pd.name);
	if ((rc = lock_device(pd.name, &kd->lock_fd)) < 0)
		goto fail_free;
	if ((rc = container_open()) < 0)
		goto fail_unlock;
	if ((kd->group = group_get(pd.iommu_group, pd.name, &rc)) == NULL)
		goto fail_container;
	kd->fd = vfio_sys->ioctl(kd->group->fd, VFIO_GROUP_GET_DEVICE_FD, pd.name);
	if (kd->fd < 0) {
		rc = -errno;
		PDK_LOG(ERR, VFIO_LOG, "VFIO_GROUP_GET_DEVICE_FD(%s): %s", pd.name, strerror(-rc));
		goto fail_group;
	}
	dev->priv = kd;
	if ((rc = device_info(dev, kd->fd)) < 0)
		goto fail_fd;
	dev->info.iommu_group = pd.iommu_group;
	dev->page_size = (uint64_t)vfio_sys->page_size();
	dev->domain = &kc.dom;
	kc.dom.be = &vfio_kernel_ops;
	return 0;

fail_fd:
	vfio_sys->close(kd->fd);
	dev->priv = NULL;
fail_group:
	group_put(kd->group);
fail_container:
	if (groups == NULL && kc.dom.refs == 0)
		kernel_domain_release(&kc.dom);
fail_unlock:
	vfio_sys->close(kd->lock_fd);
fail_free:
	free(kd);
	return rc;
}

static void kernel_close(struct pdk_vfio_dev *dev)
{
	struct kdev *kd = dev->priv;

	if (kd == NULL)
		return;
	vfio_sys->close(kd->fd);
	group_put(kd->group);
	vfio_sys->close(kd->lock_fd); /* releases the ownership lock */
	free(kd);
	dev->priv = NULL;
}

int vfio_kernel_dev_fd(const struct pdk_vfio_dev *dev)
{
	const struct kdev *kd = dev->priv;

	return kd ? kd->fd : -1;
}

/* ----------------------------------------------------- device ioctls -- */

static int kernel_region_info(struct pdk_vfio_dev *dev, uint32_t index,
			      struct pdk_vfio_region *out)
{
	struct vfio_region_info tmpl = {.index = index};
	char what[PDK_PCI_NAME_MAX + 48], err[VFIO_ERR_MAX];
	int fd = vfio_kernel_dev_fd(dev);
	uint32_t len;
	void *buf;
	int rc;

	snprintf(what, sizeof(what), "%s: region %u info", dev->name, index);
	rc = vfio_kernel_info_query(fd, VFIO_DEVICE_GET_REGION_INFO, &tmpl, sizeof(tmpl),
				    VFIO_REGION_INFO_FLAG_CAPS, &buf, &len, what);
	if (rc < 0)
		return rc;
	rc = vfio_region_parse(buf, len, out, err, sizeof(err));
	free(buf);
	if (rc == 0 && out->index != index) {
		snprintf(err, sizeof(err), "the reply is for region %u", out->index);
		rc = -EPROTO;
	}
	if (rc < 0) {
		PDK_LOG(ERR, VFIO_LOG, "%s: %s", what, err);
		return rc;
	}
	out->fd = fd;
	return 0;
}

static ssize_t io_result(ssize_t n, size_t len)
{
	if (n < 0)
		return -errno;
	return (size_t)n == len ? n : -EIO;
}

static ssize_t kernel_region_read(struct pdk_vfio_dev *dev, const struct pdk_vfio_region *r,
				  void *buf, size_t len, uint64_t off)
{
	(void)dev;
	return io_result(vfio_sys->pread(r->fd, buf, len, (off_t)(r->offset + off)), len);
}

static ssize_t kernel_region_write(struct pdk_vfio_dev *dev, const struct pdk_vfio_region *r,
				   const void *buf, size_t len, uint64_t off)
{
	(void)dev;
	return io_result(vfio_sys->pwrite(r->fd, buf, len, (off_t)(r->offset + off)), len);
}

static void *kernel_region_mmap(struct pdk_vfio_dev *dev, const struct pdk_vfio_region *r,
				uint64_t off, size_t len, int prot, void *fixed)
{
	(void)dev;
	return vfio_sys->mmap(fixed, len, prot, MAP_SHARED | MAP_FIXED, r->fd,
			      (off_t)(r->offset + off));
}

static int kernel_irq_info(struct pdk_vfio_dev *dev, uint32_t index,
			   struct pdk_vfio_irq_info *out)
{
	struct vfio_irq_info info = {.argsz = sizeof(info), .index = index};

	if (vfio_sys->ioctl(vfio_kernel_dev_fd(dev), VFIO_DEVICE_GET_IRQ_INFO, &info) < 0)
		return -errno;
	out->index = index;
	out->count = info.count;
	out->flags = vfio_irq_flags(info.flags);
	return 0;
}

static int kernel_set_irqs(struct pdk_vfio_dev *dev, uint32_t index, uint32_t flags,
			   uint32_t start, uint32_t count, const int32_t *fds)
{
	size_t data = fds ? (size_t)count * sizeof(int32_t) : 0;
	struct vfio_irq_set *set = calloc(1, sizeof(*set) + data);
	int rc = 0;

	if (set == NULL)
		return -ENOMEM;
	set->argsz = (uint32_t)(sizeof(*set) + data);
	set->flags = flags;
	set->index = index;
	set->start = start;
	set->count = count;
	if (fds)
		memcpy(set->data, fds, data);
	if (vfio_sys->ioctl(vfio_kernel_dev_fd(dev), VFIO_DEVICE_SET_IRQS, set) < 0)
		rc = -errno;
	free(set);
	return rc;
}

static int kernel_reset(struct pdk_vfio_dev *dev)
{
	return vfio_sys->ioctl(vfio_kernel_dev_fd(dev), VFIO_DEVICE_RESET, NULL) < 0 ? -errno : 0;
}

const struct vfio_backend_ops vfio_kernel_ops = {
	.name = "kernel",
	.pins_memory = true,
	.entry_limit_hint = "raise vfio_iommu_type1's dma_entry_limit (modprobe "
			    "vfio_iommu_type1 dma_entry_limit=N, or write "
			    "/sys/module/vfio_iommu_type1/parameters/dma_entry_limit)",
	.open = kernel_open,
	.close = kernel_close,
	.region_info = kernel_region_info,
	.region_read = kernel_region_read,
	.region_write = kernel_region_write,
	.region_mmap = kernel_region_mmap,
	.irq_info = kernel_irq_info,
	.set_irqs = kernel_set_irqs,
	.reset = kernel_reset,
	.iommu_info = vfio_kernel_iommu_info,
	.dma_map = vfio_kernel_dma_map,
	.dma_unmap = vfio_kernel_dma_unmap,
	.domain_release = kernel_domain_release,
};
