/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DMA through the emulated IOMMU and MSI-X, in one process: the testdev
 * copy engine moving client memory (a memfd shared with DMA_MAP) and
 * signalling an eventfd; faults (unmapped, read-only, own BAR, bus master
 * off) reported in STATUS, not crashes; masking; the DMA_MAP rules; fd-less
 * memory through DMA_READ/WRITE messages; resets and disconnects.
 */
#include "emu_test.h"

#include <linux/pci_regs.h>
#include <sys/eventfd.h>
#include <sys/mman.h>

#define IOVA 0x100000ull
#define MEM_SIZE (1u << 20)
#define NVEC 4

static struct pdk_emu_dev *dev;
static struct vuc c;
static uint8_t *mem;   /* client DMA memory, mapped at IOVA */
static int memfd;
static int efd[NVEC];

static int setup_dev(const char *knobs)
{
	dev = emu_start("testdev", emu_path("dma.sock"), knobs);
	if (vuc_connect(&c, pdk_emu_dev_socket(dev)) || vuc_bus_master(&c, true))
		return -1;
	memfd = vuc_memfd(MEM_SIZE, (void **)&mem);
	if (memfd < 0 || vuc_dma_map(&c, IOVA, MEM_SIZE, memfd, 0,
				     VFIO_USER_DMA_F_READ | VFIO_USER_DMA_F_WRITE))
		return -1;
	for (int i = 0; i < NVEC; i++)
		efd[i] = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	return vuc_set_irqs(&c, VFIO_PCI_MSIX_IRQ_INDEX,
			    VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
			    0, NVEC, efd, NVEC, NULL);
}

static int setup(void **state)
{
	(void)state;
	return setup_dev("vectors=4");
}

static int teardown(void **state)
{
	(void)state;
	vuc_close(&c);
	pdk_emu_dev_destroy(dev);
	munmap(mem, MEM_SIZE);
	close(memfd);
	for (int i = 0; i < NVEC; i++)
		close(efd[i]);
	return 0;
}

/* Program a copy and ring the doorbell through the slow path. */
static void start_copy(uint64_t src, uint64_t dst, uint32_t len, uint32_t vec)
{
	assert_int_equal(vuc_wr32(&c, 0, TESTDEV_REG_STATUS, 0), 0);
	assert_int_equal(vuc_wr64(&c, 0, TESTDEV_REG_DMA_SRC, src), 0);
	assert_int_equal(vuc_wr64(&c, 0, TESTDEV_REG_DMA_DST, dst), 0);
	assert_int_equal(vuc_wr32(&c, 0, TESTDEV_REG_DMA_LEN, len), 0);
	assert_int_equal(vuc_wr32(&c, 0, TESTDEV_REG_DMA_VEC, vec), 0);
	assert_int_equal(vuc_wr32(&c, 0, TESTDEV_REG_DOORBELL, 1), 0);
}

static uint32_t copy_status(uint64_t src, uint64_t dst, uint32_t len)
{
	start_copy(src, dst, len, ~0u);
	return emu_wait_reg(&c, 0, TESTDEV_REG_STATUS, TESTDEV_ST_DONE,
			    TESTDEV_ST_DONE);
}

static void fill(uint8_t *p, size_t n, uint8_t seed)
{
	for (size_t i = 0; i < n; i++)
		p[i] = (uint8_t)(seed + i * 13);
}

/* The whole path a driver uses: mapped doorbell, DMA, MSI-X eventfd. */
static void test_copy_msix(void **state)
{
	struct pdk_vfio_user_region r;
	uint8_t *bar = vuc_map_bar(&c, 0, &r);

	(void)state;
	assert_non_null(bar);
	fill(mem, 0x4000, 1);
	pdk_emu_wr64(bar, TESTDEV_REG_DMA_SRC, IOVA);
	pdk_emu_wr64(bar, TESTDEV_REG_DMA_DST, IOVA + 0x80000);
	pdk_emu_wr32(bar, TESTDEV_REG_DMA_LEN, 0x4000);
	pdk_emu_wr32(bar, TESTDEV_REG_DMA_VEC, 1);
	pdk_emu_wr32(bar, TESTDEV_REG_DOORBELL, 1); /* release: after the rest */
	assert_int_equal(emu_wait_event(efd[1], 5000), 1);
	assert_int_equal(pdk_emu_rd32(bar, TESTDEV_REG_STATUS), TESTDEV_ST_DONE);
	assert_memory_equal(mem, mem + 0x80000, 0x4000);
	assert_int_equal(emu_wait_event(efd[0], 0), 0);
	/* again, large and unaligned, doorbell through the slow path */
	fill(mem + 3, 300000, 9);
	start_copy(IOVA + 3, IOVA + 0x80001, 300000, 2);
	assert_int_equal(emu_wait_event(efd[2], 5000), 1);
	assert_int_equal(vuc_rd32(&c, 0, TESTDEV_REG_STATUS), TESTDEV_ST_DONE);
	assert_memory_equal(mem + 3, mem + 0x80001, 300000);
	assert_int_equal(vuc_rd32(&c, 0, TESTDEV_REG_DONE_COUNT), 2);
	vuc_unmap_region(&r, bar);
}

static void test_faults(void **state)
{
	struct pdk_emu_stats st;
	uint8_t *ro;
	int rofd = vuc_memfd(0x10000, (void **)&ro);

	(void)state;
	/* unmapped source: an IOMMU fault, reported, with its address */
	assert_int_equal(copy_status(0x900000, IOVA, 64),
			 TESTDEV_ST_DONE | TESTDEV_ST_ERR_FAULT);
	assert_int_equal(vuc_rd64(&c, 0, TESTDEV_REG_FAULT_IOVA), 0x900000);
	/* running off the end of a mapping */
	assert_int_equal(copy_status(IOVA + MEM_SIZE - 32, IOVA, 64),
			 TESTDEV_ST_DONE | TESTDEV_ST_ERR_FAULT);
	assert_int_equal(vuc_rd64(&c, 0, TESTDEV_REG_FAULT_IOVA), IOVA + MEM_SIZE);
	/* a read-only mapping cannot be written */
	assert_int_equal(vuc_dma_map(&c, 0x200000000ull, 0x10000, rofd, 0,
				     VFIO_USER_DMA_F_READ), 0);
	assert_int_equal(copy_status(IOVA, 0x200000000ull, 64),
			 TESTDEV_ST_DONE | TESTDEV_ST_ERR_PERM);
	assert_int_equal(copy_status(0x200000000ull, IOVA, 64), TESTDEV_ST_DONE);
	/* zero length, too long */
	assert_int_equal(copy_status(IOVA, IOVA, 0), TESTDEV_ST_DONE | TESTDEV_ST_ERR_LEN);
	assert_int_equal(copy_status(IOVA, IOVA, (1u << 20) + 1),
			 TESTDEV_ST_DONE | TESTDEV_ST_ERR_LEN);
	/* the server still serves */
	assert_int_equal(vuc_rd32(&c, 0, TESTDEV_REG_ID), TESTDEV_MAGIC);
	pdk_emu_dev_stats(dev, &st);
	assert_true(st.dma_faults >= 3);
	munmap(ro, 0x10000);
	close(rofd);
}

/* The device's own BAR memory mapped for DMA: the device refuses it. */
static void test_dma_into_bar(void **state)
{
	struct pdk_vfio_user_region r;
	int fd;

	(void)state;
	assert_int_equal(vuc_region_info(&c, 0, &r, &fd), 0);
	assert_int_equal(vuc_dma_map(&c, 0x40000000, 0x4000, fd, r.info.offset,
				     VFIO_USER_DMA_F_READ | VFIO_USER_DMA_F_WRITE), 0);
	close(fd);
	fill(mem, 64, 3);
	assert_int_equal(copy_status(IOVA, 0x40000000 + TESTDEV_SRAM_OFF, 64),
			 TESTDEV_ST_DONE | TESTDEV_ST_ERR_BAR);
	assert_int_equal(vuc_rd32(&c, 0, TESTDEV_SRAM_OFF), 0);
	assert_int_equal(copy_status(0x40000000, IOVA, 64),
			 TESTDEV_ST_DONE | TESTDEV_ST_ERR_BAR);
}

static void test_bus_master(void **state)
{
	struct pdk_emu_stats a, b;

	(void)state;
	assert_int_equal(vuc_bus_master(&c, false), 0);
	pdk_emu_dev_stats(dev, &a);
	start_copy(IOVA, IOVA + 4096, 64, 0);
	assert_int_equal(emu_wait_reg(&c, 0, TESTDEV_REG_STATUS, TESTDEV_ST_DONE,
				      TESTDEV_ST_DONE),
			 TESTDEV_ST_DONE | TESTDEV_ST_ERR_BM);
	/* no bus master, no MSI-X message either */
	assert_int_equal(emu_wait_event(efd[0], 20), 0);
	pdk_emu_dev_stats(dev, &b);
	assert_int_equal(b.irqs_lost, a.irqs_lost + 1);
	assert_int_equal(vuc_bus_master(&c, true), 0);
	start_copy(IOVA, IOVA + 4096, 64, 0);
	assert_int_equal(emu_wait_event(efd[0], 5000), 1);
}

static void test_mask_unmask(void **state)
{
	uint8_t one = 1;

	(void)state;
	assert_int_equal(vuc_set_irqs(&c, VFIO_PCI_MSIX_IRQ_INDEX,
				      VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_MASK,
				      2, 1, NULL, 0, NULL), 0);
	start_copy(IOVA, IOVA + 4096, 64, 2);
	emu_wait_reg(&c, 0, TESTDEV_REG_STATUS, TESTDEV_ST_DONE, TESTDEV_ST_DONE);
	assert_int_equal(emu_wait_event(efd[2], 20), 0);
	/* pending in the PBA (right after the 4-entry table at 0x800) */
	assert_int_equal(vuc_rd32(&c, 0, 0x840), 1u << 2);
	assert_int_equal(vuc_set_irqs(&c, VFIO_PCI_MSIX_IRQ_INDEX,
				      VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_UNMASK,
				      2, 1, NULL, 0, &one), 0);
	assert_int_equal(emu_wait_event(efd[2], 5000), 1);
	assert_int_equal(vuc_rd32(&c, 0, 0x840), 0);
	/* the client triggers vectors itself: bools pick which */
	uint8_t pick[2] = {1, 0};
	assert_int_equal(vuc_set_irqs(&c, VFIO_PCI_MSIX_IRQ_INDEX,
				      VFIO_IRQ_SET_DATA_BOOL | VFIO_IRQ_SET_ACTION_TRIGGER,
				      0, 2, NULL, 0, pick), 0);
	assert_int_equal(emu_wait_event(efd[0], 5000), 1);
	assert_int_equal(emu_wait_event(efd[1], 0), 0);
	/* de-assign vector 0, then a completion on it is lost */
	assert_int_equal(vuc_set_irqs(&c, VFIO_PCI_MSIX_IRQ_INDEX,
				      VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
				      0, 1, NULL, 0, NULL), 0);
	start_copy(IOVA, IOVA + 4096, 64, 0);
	emu_wait_reg(&c, 0, TESTDEV_REG_STATUS, TESTDEV_ST_DONE, TESTDEV_ST_DONE);
	assert_int_equal(emu_wait_event(efd[0], 20), 0);
	/* disable all: count 0 */
	assert_int_equal(vuc_set_irqs(&c, VFIO_PCI_MSIX_IRQ_INDEX,
				      VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER,
				      0, 0, NULL, 0, NULL), 0);
	start_copy(IOVA, IOVA + 4096, 64, 1);
	emu_wait_reg(&c, 0, TESTDEV_REG_STATUS, TESTDEV_ST_DONE, TESTDEV_ST_DONE);
	assert_int_equal(emu_wait_event(efd[1], 20), 0);
}

static void test_error_irq(void **state)
{
	int e = eventfd(0, EFD_CLOEXEC);

	(void)state;
	assert_int_equal(vuc_set_irqs(&c, VFIO_PCI_ERR_IRQ_INDEX,
				      VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
				      0, 1, &e, 1, NULL), 0);
	assert_int_equal(pdk_emu_dev_inject(dev, "error-irq"), 0);
	assert_int_equal(emu_wait_event(e, 5000), 1);
	assert_int_equal(pdk_emu_dev_inject(dev, "no-such-fault"), -EINVAL);
	close(e);
}

static void test_dma_map_rules(void **state)
{
	const uint32_t rw = VFIO_USER_DMA_F_READ | VFIO_USER_DMA_F_WRITE;
	uint8_t *small;
	int sfd = vuc_memfd(0x2000, (void **)&small), e = eventfd(0, EFD_CLOEXEC);

	(void)state;
	/* overlaps of every shape */
	assert_int_equal(vuc_dma_map(&c, IOVA, MEM_SIZE, memfd, 0, rw), -EEXIST);
	assert_int_equal(vuc_dma_map(&c, IOVA - 0x1000, 0x2000, memfd, 0, rw), -EEXIST);
	assert_int_equal(vuc_dma_map(&c, IOVA + MEM_SIZE - 0x1000, 0x2000, memfd, 0, rw),
			 -EEXIST);
	assert_int_equal(vuc_dma_map(&c, 0, 0x10000000, memfd, 0, rw), -EEXIST);
	assert_int_equal(vuc_dma_map(&c, IOVA + 0x1000, 0x1000, memfd, 0, rw), -EEXIST);
	/* adjacent is fine */
	assert_int_equal(vuc_dma_map(&c, IOVA - 0x2000, 0x2000, sfd, 0, rw), 0);
	/* alignment, file size, fd type */
	assert_int_equal(vuc_dma_map(&c, 0x300000001ull, 0x1000, sfd, 0, rw), -EINVAL);
	assert_int_equal(vuc_dma_map(&c, 0x300000000ull, 0x1800, sfd, 0, rw), -EINVAL);
	assert_int_equal(vuc_dma_map(&c, 0x300000000ull, 0x1000, sfd, 0x800, rw), -EINVAL);
	assert_int_equal(vuc_dma_map(&c, 0x300000000ull, 0x3000, sfd, 0, rw), -EINVAL);
	assert_int_equal(vuc_dma_map(&c, 0x300000000ull, 0x1000, sfd, 0x2000, rw), -EINVAL);
	assert_int_equal(vuc_dma_map(&c, 0x300000000ull, 0x1000, e, 0, rw), -EINVAL);
	/* unmap: exact matches only */
	assert_int_equal(vuc_dma_unmap(&c, 0x300000000ull, 0x1000), -ENOENT);
	assert_int_equal(vuc_dma_unmap(&c, IOVA, 0x1000), -ENOENT);
	assert_int_equal(vuc_dma_unmap(&c, IOVA + 0x1000, MEM_SIZE - 0x1000), -ENOENT);
	assert_int_equal(vuc_dma_unmap(&c, IOVA - 0x2000, 0x2000), 0);
	assert_int_equal(vuc_dma_unmap(&c, IOVA - 0x2000, 0x2000), -ENOENT);
	/* after unmap, DMA to it faults */
	assert_int_equal(vuc_dma_unmap(&c, IOVA, MEM_SIZE), 0);
	assert_int_equal(copy_status(IOVA, IOVA + 4096, 64),
			 TESTDEV_ST_DONE | TESTDEV_ST_ERR_FAULT);
	assert_int_equal(vuc_dma_map(&c, IOVA, MEM_SIZE, memfd, 0, rw), 0);
	assert_int_equal(copy_status(IOVA, IOVA + 4096, 64), TESTDEV_ST_DONE);
	munmap(small, 0x2000);
	close(sfd);
	close(e);
}

static void test_dma_limits(void **state)
{
	const uint32_t rw = VFIO_USER_DMA_F_READ | VFIO_USER_DMA_F_WRITE;

	(void)state;
	teardown(NULL);
	assert_int_equal(setup_dev("max-dma-maps=2,pgsizes=0x210000"), 0);
	assert_int_equal(c.server.max_dma_maps, 2);
	assert_int_equal(c.server.pgsizes, 0x210000);
	/* the smallest page size (64 KiB) sets the alignment */
	assert_int_equal(vuc_dma_map(&c, 0x10000000, 0x1000, memfd, 0, rw), -EINVAL);
	assert_int_equal(vuc_dma_map(&c, 0x10001000, 0x10000, memfd, 0, rw), -EINVAL);
	/* the file offset only needs the host page (mmap's rule) */
	assert_int_equal(vuc_dma_map(&c, 0x10000000, 0x10000, memfd, 0x800, rw), -EINVAL);
	assert_int_equal(vuc_dma_map(&c, 0x10000000, 0x10000, memfd, 0x1000, rw), 0);
	/* two mappings at once, no more */
	assert_int_equal(vuc_dma_map(&c, 0x20000000, 0x10000, memfd, 0, rw), -ENOSPC);
	assert_int_equal(vuc_dma_unmap(&c, 0x10000000, 0x10000), 0);
	assert_int_equal(vuc_dma_map(&c, 0x20000000, 0x10000, memfd, 0, rw), 0);
}

/* An IOMMU with holes: the windows reach the client, DMA_MAP outside them
 * (or across a hole) fails with EINVAL as the kernel's does. */
static void test_dma_iova_ranges(void **state)
{
	const uint32_t rw = VFIO_USER_DMA_F_READ | VFIO_USER_DMA_F_WRITE;

	(void)state;
	teardown(NULL);
	assert_int_equal(setup_dev("iova-ranges=0x100000-0xfedfffff/0xfef00000-0x7fffffffff"), 0);
	assert_int_equal(c.server.nr_iova_ranges, 2);
	assert_true(c.server.iova_ranges[0].start == 0x100000);
	assert_true(c.server.iova_ranges[0].end == 0xfedfffff);
	assert_true(c.server.iova_ranges[1].start == 0xfef00000);
	assert_true(c.server.iova_ranges[1].end == 0x7fffffffff);
	assert_int_equal(vuc_dma_map(&c, 0, 0x1000, memfd, 0, rw), -EINVAL);
	assert_int_equal(vuc_dma_map(&c, 0xfee00000, 0x1000, memfd, 0, rw), -EINVAL);
	assert_int_equal(vuc_dma_map(&c, 0xfedff000, 0x2000, memfd, 0, rw), -EINVAL);
	assert_int_equal(vuc_dma_map(&c, 0x7ffffff000, 0x2000, memfd, 0, rw), -EINVAL);
	/* setup mapped IOVA (0x100000, inside) already; the edges of windows */
	assert_int_equal(vuc_dma_map(&c, 0xfedff000, 0x1000, memfd, 0, rw), 0);
	assert_int_equal(vuc_dma_map(&c, 0xfef00000, 0x1000, memfd, 0, rw), 0);
	assert_int_equal(vuc_dma_map(&c, 0x7ffffff000, 0x1000, memfd, 0x4000, rw), 0);
	/* the device works through the windows: copy into the last page */
	fill(mem, 4096, 9);
	assert_int_equal(copy_status(IOVA, 0x7ffffff000, 4096), TESTDEV_ST_DONE);
	assert_memory_equal(mem, mem + 0x4000, 4096);
	assert_int_equal(copy_status(IOVA + 8192, 0xfef00000, 64), TESTDEV_ST_DONE);
}

/* Memory without an fd: the server reaches it with DMA_READ/WRITE. */
static void test_dma_messages(void **state)
{
	static uint8_t local[4 * 65536];

	(void)state;
	assert_int_equal(vuc_dma_map_local(&c, 0x800000000ull, local, sizeof(local)), 0);
	fill(local, 70000, 5);
	/* local -> local: both directions through messages */
	assert_int_equal(copy_status(0x800000000ull, 0x800000000ull + 0x20000, 70000),
			 TESTDEV_ST_DONE);
	assert_memory_equal(local, local + 0x20000, 70000);
	assert_true(c.dma_served >= 4);
	/* local -> mapped memfd */
	assert_int_equal(copy_status(0x800000000ull, IOVA, 70000), TESTDEV_ST_DONE);
	assert_memory_equal(local, mem, 70000);
	/* the client refuses: a fault, and the connection lives on */
	c.dma_reply_err = EFAULT;
	assert_int_equal(copy_status(0x800000000ull, IOVA, 64),
			 TESTDEV_ST_DONE | TESTDEV_ST_ERR_FAULT);
	c.dma_reply_err = 0;
	assert_int_equal(copy_status(0x800000000ull, IOVA, 64), TESTDEV_ST_DONE);
}

/* DEVICE_RESET keeps DMA and IRQs (config is restored, like vfio-pci). */
static void test_reset_keeps_setup(void **state)
{
	(void)state;
	assert_int_equal(vuc_wr64(&c, 0, TESTDEV_REG_SCRATCH, 99), 0);
	assert_int_equal(vuc_reset(&c), 0);
	assert_int_equal(vuc_rd64(&c, 0, TESTDEV_REG_SCRATCH), 0);
	assert_int_equal(vuc_rd32(&c, 0, TESTDEV_REG_DONE_COUNT), 0);
	start_copy(IOVA, IOVA + 4096, 64, 3);
	assert_int_equal(emu_wait_event(efd[3], 5000), 1);
	assert_int_equal(vuc_rd32(&c, 0, TESTDEV_REG_STATUS), TESTDEV_ST_DONE);
}

/* A new client does not inherit the old one's mappings or eventfds. */
static void test_disconnect_drops(void **state)
{
	(void)state;
	vuc_close(&c);
	assert_int_equal(vuc_connect(&c, pdk_emu_dev_socket(dev)), 0);
	assert_int_equal(vuc_bus_master(&c, true), 0);
	start_copy(IOVA, IOVA + 4096, 64, 0);
	assert_int_equal(emu_wait_reg(&c, 0, TESTDEV_REG_STATUS, TESTDEV_ST_DONE,
				      TESTDEV_ST_DONE),
			 TESTDEV_ST_DONE | TESTDEV_ST_ERR_FAULT);
	assert_int_equal(emu_wait_event(efd[0], 20), 0);
}

/* Model fault by knob and at run time: the engine takes doorbells only. */
static void test_stuck(void **state)
{
	(void)state;
	assert_int_equal(pdk_emu_dev_inject(dev, "stuck"), 0);
	start_copy(IOVA, IOVA + 4096, 64, 0);
	emu_wait_reg(&c, 0, TESTDEV_REG_STATUS, TESTDEV_ST_BUSY, TESTDEV_ST_BUSY);
	emu_sleep_ms(20);
	assert_int_equal(vuc_rd32(&c, 0, TESTDEV_REG_STATUS), TESTDEV_ST_BUSY);
	assert_int_equal(emu_wait_event(efd[0], 0), 0);
	assert_int_equal(pdk_emu_dev_inject(dev, "unstuck"), 0);
	start_copy(IOVA, IOVA + 4096, 64, 0);
	assert_int_equal(emu_wait_event(efd[0], 5000), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_copy_msix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_faults, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_into_bar, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bus_master, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mask_unmask, setup, teardown),
		cmocka_unit_test_setup_teardown(test_error_irq, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_map_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_limits, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_iova_ranges, setup, teardown),
		cmocka_unit_test_setup_teardown(test_dma_messages, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_keeps_setup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disconnect_drops, setup, teardown),
		cmocka_unit_test_setup_teardown(test_stuck, setup, teardown),
	};

	return EMU_TEST_MAIN(tests);
}
