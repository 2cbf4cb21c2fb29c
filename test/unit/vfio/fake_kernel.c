/* SPDX-License-Identifier: BSD-3-Clause */
/* The fake VFIO kernel of the unit tests (see fake_kernel.h). */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fake_kernel.h"
#include "pdk_pci_spec.h"
#include "vfio_sys.h"

struct fake_kernel fk;
static char run_dir[PATH_MAX];
static const struct vfio_sys *real;

#define CFG_REGION_OFF(i) (((uint64_t)(i) + 1) << 24)

/* ------------------------------------------------------ config space -- */

static void put16(uint32_t off, uint16_t v)
{
	memcpy(&fk.config[off], &v, 2);
}

static void put32(uint32_t off, uint32_t v)
{
	memcpy(&fk.config[off], &v, 4);
}

static void default_config(void)
{
	memset(fk.config, 0, sizeof(fk.config));
	put16(PDK_PCI_VENDOR_ID, 0x1b36);
	put16(PDK_PCI_DEVICE_ID, 0x0010);
	put16(PDK_PCI_COMMAND, PDK_PCI_COMMAND_MEMORY);
	put16(PDK_PCI_STATUS, PDK_PCI_STATUS_CAP_LIST);
	put32(PDK_PCI_REVISION_ID, 0x01080202); /* class 010802, revision 2 */
	put16(PDK_PCI_SUBSYS_VENDOR_ID, 0x1af4);
	put16(PDK_PCI_SUBSYS_ID, 0x1100);
	fk.config[PDK_PCI_CAP_PTR] = 0x40;
	fk.config[0x40] = PDK_PCI_CAP_ID_PM;
	fk.config[0x41] = 0x50;
	fk.config[0x50] = PDK_PCI_CAP_ID_MSIX;
	fk.config[0x51] = 0x70;
	fk.config[0x70] = PDK_PCI_CAP_ID_EXP;
	fk.config[0x71] = 0x00;
	fk_set_msix(0, 0x2000, 0, 0x3000, 4);
	put32(0x100, PDK_PCI_EXT_CAP_ID_ERR | (2u << 16) | (0x150u << 20));
	put32(0x150, PDK_PCI_EXT_CAP_ID_DSN | (1u << 16));
}

void fk_set_msix(uint32_t table_bar, uint32_t table_off, uint32_t pba_bar, uint32_t pba_off,
		 uint32_t nvec)
{
	put16(0x50 + PDK_PCI_MSIX_FLAGS, (uint16_t)(nvec - 1));
	put32(0x50 + PDK_PCI_MSIX_TABLE, table_off | table_bar);
	put32(0x50 + PDK_PCI_MSIX_PBA, pba_off | pba_bar);
	fk.irqs[VFIO_PCI_MSIX_IRQ_INDEX].count = nvec;
}

void fk_no_msix(void)
{
	fk.config[0x41] = 0x70;
	fk.irqs[VFIO_PCI_MSIX_IRQ_INDEX].count = 0;
}

/* ----------------------------------------------------------- state -- */

static void set_region(uint32_t i, uint32_t flags, uint64_t size)
{
	fk.regions[i].flags = flags;
	fk.regions[i].size = size;
	fk.regions[i].offset = CFG_REGION_OFF(i);
}

static void set_irq(uint32_t i, uint32_t flags, uint32_t count)
{
	fk.irqs[i] = (struct vfio_irq_info){.argsz = sizeof(fk.irqs[i]), .flags = flags,
					    .index = i, .count = count};
}

void fk_reset(void)
{
	const uint32_t rw = VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE;

	memset(&fk, 0, sizeof(fk));
	fk.api_version = VFIO_API_VERSION;
	fk.type1v2 = true;
	fk.viable = true;
	fk.dev_flags = VFIO_DEVICE_FLAGS_PCI | VFIO_DEVICE_FLAGS_RESET;
	fk.num_regions = VFIO_PCI_NUM_REGIONS;
	fk.num_irqs = VFIO_PCI_NUM_IRQS;
	for (uint32_t i = 0; i < VFIO_PCI_NUM_REGIONS; i++)
		set_region(i, 0, 0);
	set_region(0, rw | VFIO_REGION_INFO_FLAG_MMAP, 0x4000);
	set_region(2, rw | VFIO_REGION_INFO_FLAG_MMAP, 0x2000);
	set_region(VFIO_PCI_CONFIG_REGION_INDEX, rw, 4096);
	set_irq(VFIO_PCI_INTX_IRQ_INDEX, VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE |
		VFIO_IRQ_INFO_AUTOMASKED, 1);
	set_irq(VFIO_PCI_MSI_IRQ_INDEX, VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE, 1);
	set_irq(VFIO_PCI_MSIX_IRQ_INDEX, VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_NORESIZE, 4);
	set_irq(VFIO_PCI_ERR_IRQ_INDEX, VFIO_IRQ_INFO_EVENTFD, 1);
	set_irq(VFIO_PCI_REQ_IRQ_INDEX, VFIO_IRQ_INFO_EVENTFD, 1);
	default_config();
	fk.pgsizes = 0x40201000; /* 4 KiB, 2 MiB, 1 GiB */
	fk.nr_ranges = 2;
	fk.ranges[0] = (struct vfio_iova_range){0, 0xfedfffff};
	fk.ranges[1] = (struct vfio_iova_range){0xfef00000, (1ULL << 48) - 1};
	fk.iova_cap_version = 1;
	fk.dma_avail = 65535;
	fk.memlock = (struct rlimit){RLIM_INFINITY, RLIM_INFINITY};
	fk.page_size = 4096;
	fk.container_fd = fk.group_fd = fk.dev_fd = -1;
	memset(fk.irq_fds, -1, sizeof(fk.irq_fds));
}

/* ------------------------------------------------------ capabilities -- */

static void cap_append(struct fk_region *r, uint16_t id, uint16_t ver, const void *body,
		       uint32_t len)
{
	const uint32_t fixed = sizeof(struct vfio_region_info);
	struct vfio_info_cap_header h = {.id = id, .version = ver};
	uint32_t at = r->caps_len;

	/* link the previous capability to this one (absolute offsets) */
	for (uint32_t off = 0, next; off < at; off = next - fixed) {
		struct vfio_info_cap_header *p = (void *)&r->caps[off];

		next = p->next;
		if (next == 0) {
			p->next = fixed + at;
			break;
		}
	}
	memcpy(&r->caps[at], &h, sizeof(h));
	if (len)
		memcpy(&r->caps[at + sizeof(h)], body, len);
	r->caps_len = (at + (uint32_t)sizeof(h) + len + 7) & ~7u;
}

void fk_cap_msix_mappable(struct fk_region *r)
{
	cap_append(r, VFIO_REGION_INFO_CAP_MSIX_MAPPABLE, 1, NULL, 0);
}

void fk_cap_sparse(struct fk_region *r, uint32_t n, const struct vfio_region_sparse_mmap_area *a)
{
	uint8_t body[8 + 16 * 16];

	memset(body, 0, sizeof(body));
	memcpy(body, &n, 4);
	memcpy(body + 8, a, n * sizeof(*a));
	cap_append(r, VFIO_REGION_INFO_CAP_SPARSE_MMAP, 1, body, 8 + n * 16);
}

void fk_cap_raw(struct fk_region *r, uint16_t id, uint16_t version, const void *body,
		uint32_t body_len)
{
	cap_append(r, id, version, body, body_len);
}

/* ----------------------------------------------------- info replies -- */

/* What the kernel does with an info ioctl: the whole reply when argsz is
 * big enough, else the fixed part with argsz raised and cap_offset 0. */
static void reply(void *arg, const uint8_t *full, uint32_t len, uint32_t fixed,
		  uint32_t cap_off_pos, uint32_t need)
{
	uint32_t argsz;

	memcpy(&argsz, arg, 4);
	if (argsz < need) {
		uint32_t zero = 0;

		memcpy(arg, full, PDK_MIN(fixed, argsz));
		memcpy(arg, &need, 4);
		if (argsz >= cap_off_pos + 4)
			memcpy((uint8_t *)arg + cap_off_pos, &zero, 4);
		return;
	}
	memcpy(arg, full, len);
	memcpy(arg, &argsz, 4);
}

static int region_info(void *arg)
{
	struct vfio_region_info in;
	uint8_t buf[1024];
	struct fk_region *r;
	uint32_t len, need;

	memcpy(&in, arg, sizeof(in));
	fk.region_info_calls++;
	if (in.index >= fk.num_regions || in.index == VFIO_PCI_VGA_REGION_INDEX) {
		errno = EINVAL;
		return -1;
	}
	r = &fk.regions[in.index];
	if (r->raw_len) {
		memcpy(buf, r->raw, r->raw_len);
		len = r->raw_len;
	} else {
		struct vfio_region_info out = {.flags = r->flags, .index = in.index,
					       .size = r->size, .offset = r->offset};

		if (r->caps_len) {
			out.flags |= VFIO_REGION_INFO_FLAG_CAPS;
			out.cap_offset = sizeof(out);
		}
		memcpy(buf, &out, sizeof(out));
		memcpy(buf + sizeof(out), r->caps, r->caps_len);
		len = (uint32_t)sizeof(out) + r->caps_len;
	}
	need = len + fk.region_grow * (uint32_t)fk.region_info_calls;
	reply(arg, buf, len, sizeof(in), offsetof(struct vfio_region_info, cap_offset),
	      len > sizeof(in) ? need : 0);
	return 0;
}

static uint32_t iommu_caps(uint8_t *buf, uint32_t at)
{
	uint32_t start = at;
	struct vfio_info_cap_header *prev = NULL;

	if (fk.nr_ranges >= 0) {
		struct vfio_iommu_type1_info_cap_iova_range c = {
			.header = {.id = VFIO_IOMMU_TYPE1_INFO_CAP_IOVA_RANGE,
				   .version = fk.iova_cap_version},
			.nr_iovas = (uint32_t)fk.nr_ranges};

		memcpy(buf + at, &c, sizeof(c));
		memcpy(buf + at + sizeof(c), fk.ranges, (size_t)fk.nr_ranges * 16);
		prev = (void *)(buf + at);
		at += (uint32_t)sizeof(c) + (uint32_t)fk.nr_ranges * 16;
	}
	if (fk.dma_avail >= 0) {
		struct vfio_iommu_type1_info_dma_avail a = {
			.header = {.id = VFIO_IOMMU_TYPE1_INFO_DMA_AVAIL, .version = 1},
			.avail = (uint32_t)fk.dma_avail};

		if (prev)
			prev->next = at;
		memcpy(buf + at, &a, sizeof(a));
		at += 16;
	}
	return at - start;
}

static int iommu_info(void *arg)
{
	struct vfio_iommu_type1_info out = {.flags = VFIO_IOMMU_INFO_PGSIZES,
					    .iova_pgsizes = fk.pgsizes};
	uint8_t buf[2048] = {0};
	uint32_t caps = iommu_caps(buf, sizeof(out));

	if (!fk.iommu_set) {
		errno = EINVAL;
		return -1;
	}
	if (caps) {
		out.flags |= VFIO_IOMMU_INFO_CAPS;
		out.cap_offset = sizeof(out);
	}
	memcpy(buf, &out, sizeof(out));
	reply(arg, buf, (uint32_t)sizeof(out) + caps, sizeof(out),
	      offsetof(struct vfio_iommu_type1_info, cap_offset),
	      caps ? (uint32_t)sizeof(out) + caps : 0);
	return 0;
}

/* ------------------------------------------------------ DMA mapping -- */

static bool fits(uint64_t iova, uint64_t size)
{
	if (fk.nr_ranges < 0)
		return true;
	for (int i = 0; i < fk.nr_ranges; i++)
		if (iova >= fk.ranges[i].start && iova + size - 1 <= fk.ranges[i].end)
			return true;
	return false;
}

static int fail(int e)
{
	errno = e;
	return -1;
}

static int map_dma(const struct vfio_iommu_type1_dma_map *m)
{
	fk.map_calls++;
	if (fk.map_errno) {
		int e = fk.map_errno;

		fk.map_errno = 0;
		return fail(e);
	}
	if (m->size == 0 || ((m->iova | m->vaddr | m->size) & 0xfff) ||
	    m->iova + m->size - 1 < m->iova || !fits(m->iova, m->size))
		return fail(EINVAL);
	for (int i = 0; i < fk.nr_maps; i++)
		if (m->iova < fk.maps[i].iova + fk.maps[i].size &&
		    fk.maps[i].iova < m->iova + m->size)
			return fail(EEXIST);
	if (fk.dma_avail == 0 || fk.nr_maps == FK_MAX_MAPS)
		return fail(ENOSPC);
	fk.maps[fk.nr_maps++] = (struct fk_map){m->vaddr, m->iova, m->size};
	if (fk.dma_avail > 0)
		fk.dma_avail--;
	return 0;
}

static int unmap_dma(struct vfio_iommu_type1_dma_unmap *u)
{
	fk.unmap_calls++;
	if (!fk.iommu_set)
		return fail(EINVAL); /* the IOMMU went with the last group */
	for (int i = 0; i < fk.nr_maps; i++)
		if (fk.maps[i].iova == u->iova && fk.maps[i].size == u->size) {
			fk.maps[i] = fk.maps[--fk.nr_maps];
			u->size -= fk.unmap_short;
			if (fk.dma_avail >= 0)
				fk.dma_avail++;
			return 0;
		}
	u->size = 0;
	return 0;
}

/* ----------------------------------------------------------- ioctls -- */

static int container_ioctl(unsigned long req, void *arg)
{
	switch (req) {
	case VFIO_GET_API_VERSION:
		return fk.api_version;
	case VFIO_CHECK_EXTENSION:
		return (uintptr_t)arg == VFIO_TYPE1v2_IOMMU && fk.type1v2;
	case VFIO_SET_IOMMU:
		if (fk.set_iommu_errno)
			return fail(fk.set_iommu_errno);
		if (!fk.group_attached || fk.iommu_set)
			return fail(EINVAL);
		fk.iommu_set = true;
		return 0;
	case VFIO_IOMMU_GET_INFO:
		return iommu_info(arg);
	case VFIO_IOMMU_MAP_DMA:
		return map_dma(arg);
	case VFIO_IOMMU_UNMAP_DMA:
		return unmap_dma(arg);
	}
	return fail(ENOTTY);
}

static int new_memfd(const char *name, off_t size)
{
	int fd = memfd_create(name, MFD_CLOEXEC);

	if (fd >= 0 && ftruncate(fd, size) < 0) {
		close(fd);
		return -1;
	}
	return fd;
}

static int open_device(const char *name)
{
	if (strcmp(name, FK_BDF) != 0 || !fk.group_attached || !fk.iommu_set)
		return fail(EINVAL);
	if (fk.dev_fd >= 0)
		return fail(EBUSY);
	fk.dev_fd = new_memfd("fk-dev", (off_t)CFG_REGION_OFF(VFIO_PCI_NUM_REGIONS));
	if (fk.dev_fd < 0)
		return -1;
	real->pwrite(fk.dev_fd, fk.config, sizeof(fk.config),
		     (off_t)fk.regions[VFIO_PCI_CONFIG_REGION_INDEX].offset);
	return fk.dev_fd;
}

static int group_ioctl(unsigned long req, void *arg)
{
	struct vfio_group_status *st = arg;

	switch (req) {
	case VFIO_GROUP_GET_STATUS:
		st->flags = (fk.viable ? VFIO_GROUP_FLAGS_VIABLE : 0) |
			    (fk.group_attached ? VFIO_GROUP_FLAGS_CONTAINER_SET : 0);
		return 0;
	case VFIO_GROUP_SET_CONTAINER:
		if (*(int *)arg != fk.container_fd || fk.group_attached)
			return fail(EINVAL);
		fk.group_attached = true;
		return 0;
	case VFIO_GROUP_UNSET_CONTAINER:
		fk.group_attached = false;
		fk.iommu_set = false;
		return 0;
	case VFIO_GROUP_GET_DEVICE_FD:
		return open_device(arg);
	}
	return fail(ENOTTY);
}

static int irq_info(struct vfio_irq_info *info)
{
	if (info->index >= fk.num_irqs)
		return fail(EINVAL);
	info->flags = fk.irqs[info->index].flags;
	info->count = fk.irqs[info->index].count;
	return 0;
}

static int set_irqs(const struct vfio_irq_set *s)
{
	fk.set_irqs_calls++;
	if (s->index >= fk.num_irqs || (s->count > fk.irqs[s->index].count))
		return fail(EINVAL);
	fk.last_irq_index = s->index;
	fk.last_irq_flags = s->flags;
	fk.last_irq_count = s->count;
	for (uint32_t i = 0; i < 64; i++)
		fk.irq_fds[s->index][i] = -1;
	if (s->flags & VFIO_IRQ_SET_DATA_EVENTFD)
		for (uint32_t i = 0; i < s->count && i < 64; i++)
			memcpy(&fk.irq_fds[s->index][s->start + i], s->data + 4 * i, 4);
	return 0;
}

static int device_ioctl(unsigned long req, void *arg)
{
	struct vfio_device_info info = {.flags = fk.dev_flags, .num_regions = fk.num_regions,
					.num_irqs = fk.num_irqs};

	switch (req) {
	case VFIO_DEVICE_GET_INFO:
		memcpy(&info.argsz, arg, 4);
		memcpy(arg, &info, PDK_MIN(info.argsz, (uint32_t)sizeof(info)));
		return 0;
	case VFIO_DEVICE_GET_REGION_INFO:
		return region_info(arg);
	case VFIO_DEVICE_GET_IRQ_INFO:
		return irq_info(arg);
	case VFIO_DEVICE_SET_IRQS:
		return set_irqs(arg);
	case VFIO_DEVICE_RESET:
		fk.reset_calls++;
		return 0;
	}
	return fail(ENOTTY);
}

static int fk_ioctl(int fd, unsigned long req, void *arg)
{
	if (fd >= 0 && fd == fk.container_fd)
		return container_ioctl(req, arg);
	if (fd >= 0 && fd == fk.group_fd)
		return group_ioctl(req, arg);
	if (fd >= 0 && fd == fk.dev_fd)
		return device_ioctl(req, arg);
	return fail(ENOTTY);
}

/* ------------------------------------------------ files and memory -- */

static int fk_open(const char *path, int flags, mode_t mode)
{
	char group[32];

	snprintf(group, sizeof(group), "/dev/vfio/%d", FK_GROUP);
	if (strcmp(path, "/dev/vfio/vfio") == 0)
		return fk.container_fd = new_memfd("fk-container", 0);
	if (strcmp(path, group) == 0) {
		if (fk.group_open_errno)
			return fail(fk.group_open_errno);
		if (fk.group_fd >= 0)
			return fail(EBUSY);
		return fk.group_fd = new_memfd("fk-group", 0);
	}
	if (strncmp(path, "/dev/vfio/", 10) == 0)
		return fail(ENOENT);
	return real->open(path, flags, mode);
}

static int fk_close(int fd)
{
	if (fd >= 0 && fd == fk.container_fd)
		fk.container_fd = -1;
	if (fd >= 0 && fd == fk.group_fd)
		fk.group_fd = -1;
	if (fd >= 0 && fd == fk.dev_fd)
		fk.dev_fd = -1;
	return real->close(fd);
}

static void *fk_mmap(void *addr, size_t len, int prot, int flags, int fd, off_t off)
{
	if (fd >= 0 && fd == fk.dev_fd && fk.nr_mmaps < 64) {
		fk.mmaps[fk.nr_mmaps].off = (uint64_t)off;
		fk.mmaps[fk.nr_mmaps++].len = len;
	}
	return real->mmap(addr, len, prot, flags, fd, off);
}

/* Config writes land in the memfd; the kernel may drop some bits. */
static ssize_t fk_pwrite(int fd, const void *buf, size_t len, off_t off)
{
	uint64_t cmd = fk.regions[VFIO_PCI_CONFIG_REGION_INDEX].offset + PDK_PCI_COMMAND;
	uint16_t v;

	if (fd >= 0 && fd == fk.dev_fd && fk.master_ro && (uint64_t)off == cmd && len == 2) {
		memcpy(&v, buf, 2);
		v &= (uint16_t)~PDK_PCI_COMMAND_MASTER;
		return real->pwrite(fd, &v, 2, off);
	}
	return real->pwrite(fd, buf, len, off);
}

static int fk_getrlimit(int res, struct rlimit *rl)
{
	(void)res;
	*rl = fk.memlock;
	return 0;
}

static bool fk_can_pin_unlimited(void)
{
	return fk.can_pin_unlimited;
}

static long fk_page_size(void)
{
	return fk.page_size;
}

static struct vfio_sys fake_sys;

void fk_install(void)
{
	real = vfio_sys_real();
	fake_sys = *real;
	fake_sys.open = fk_open;
	fake_sys.close = fk_close;
	fake_sys.ioctl = fk_ioctl;
	fake_sys.mmap = fk_mmap;
	fake_sys.pwrite = fk_pwrite;
	fake_sys.getrlimit = fk_getrlimit;
	fake_sys.can_pin_unlimited = fk_can_pin_unlimited;
	fake_sys.page_size = fk_page_size;
	vfio_sys_set(&fake_sys);
	setenv("PDK_RUN_DIR", fk_run_dir(), 1);
}

void fk_uninstall(void)
{
	vfio_sys_set(NULL);
}

void fk_start(void)
{
	fk_reset();
	fk_sysfs_create();
	fk_sysfs_add(FK_BDF, 0x1b36, 0x0010, 0x010802, "vfio-pci", FK_GROUP);
	fk_install();
}

void fk_stop(void)
{
	fk_uninstall();
	fk_sysfs_destroy();
}

uint32_t fk_dev_read32(uint32_t index, uint64_t off)
{
	uint32_t v = 0;

	if (real->pread(fk.dev_fd, &v, 4, (off_t)(fk.regions[index].offset + off)) != 4)
		return 0xdeadbeef;
	return v;
}

void fk_dev_write32(uint32_t index, uint64_t off, uint32_t v)
{
	if (real->pwrite(fk.dev_fd, &v, 4, (off_t)(fk.regions[index].offset + off)) != 4)
		abort();
}

const char *fk_run_dir(void)
{
	if (run_dir[0] == '\0') {
		snprintf(run_dir, sizeof(run_dir), "/tmp/pdk-fk-run-XXXXXX");
		if (mkdtemp(run_dir) == NULL)
			abort();
	}
	return run_dir;
}

/* Remove the lock folder when the test program ends. */
static void __attribute__((destructor)) fk_cleanup(void)
{
	char cmd[PATH_MAX + 16];

	if (run_dir[0] == '\0')
		return;
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", run_dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", run_dir);
}
