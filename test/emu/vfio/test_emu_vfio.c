/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/vfio's vfio-user client backend against lib/emu, exactly as a driver
 * uses a device: pdk_vfio_dev_open("vfio-user:<socket>") with EAL memory
 * (file-backed, shared by fd), BAR plans from the same policy code as the
 * kernel backend, mapped and slow register accesses, MSI-X, DMA through
 * the emulated IOMMU, faults, reset, the request event, the server's page
 * sizes and DMA map limit, a server that goes away, the PCI bus of
 * pdk_eal_init probing a vfio-user device, and pdk-devinfo on the socket.
 */
#include "emu_test.h"

#include <pthread.h>
#include <stdatomic.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <pdk_bus.h>
#include <pdk_eal.h>
#include <pdk_memory.h>
#include <pdk_pci.h>
#include <pdk_vfio.h>

#define K(x) ((x) * 1024ull)
#define EAL_ARGS "prog", "-l", "0", "--no-huge", "-m", "16"

extern struct pdk_bus vfio_pci_bus;

static struct pdk_emu_dev *srv;
static char name[256];

static int eal_up(char *allow)
{
	TEST_ARGV(plain, EAL_ARGS, "--no-pci");
	TEST_ARGV(with, EAL_ARGS, "--no-pci", "-a", allow);

	return allow ? pdk_eal_init(with_c, with) : pdk_eal_init(plain_c, plain);
}

static int group_setup(void **state)
{
	(void)state;
	pdk_log_set_level(NULL, getenv("EMU_TEST_DEBUG") ? PDK_LOG_DEBUG : PDK_LOG_WARNING);
	return eal_up(NULL) > 0 ? 0 : -1;
}

static int group_teardown(void **state)
{
	(void)state;
	pdk_eal_cleanup();
	emu_cleanup_dir();
	return 0;
}

/* A server with `knobs` and the device opened through lib/vfio. */
static struct pdk_vfio_dev *open_dev(const char *knobs, unsigned flags)
{
	struct pdk_vfio_dev *d;

	srv = emu_start("testdev", emu_path("vu.sock"), knobs);
	snprintf(name, sizeof(name), "vfio-user:%s", pdk_emu_dev_socket(srv));
	d = pdk_vfio_dev_open(name, flags);
	if (d == NULL)
		fail_msg("open %s (%s): %s", name, knobs, strerror(errno));
	return d;
}

/* The engine's STATUS once DONE (the doorbell may have gone through a
 * mapping: the device thread picks it up when it next polls). */
static uint32_t wait_done(struct pdk_vfio_bar *bar)
{
	int64_t end = emu_test_ms() + 5000;
	uint32_t st;

	while (!((st = pdk_vfio_bar_read32(bar, TESTDEV_REG_STATUS)) & TESTDEV_ST_DONE) &&
	       emu_test_ms() < end)
		emu_sleep_ms(1);
	return st;
}

static void close_dev(struct pdk_vfio_dev *d)
{
	pdk_vfio_dev_close(d);
	pdk_emu_dev_destroy(srv);
	srv = NULL;
}

static void test_open_info(void **state)
{
	struct pdk_vfio_dev *d = open_dev("vectors=6", PDK_VFIO_OPEN_NO_DMA);
	struct pdk_vfio_dev_info info;
	struct pdk_vfio_region r;
	struct pdk_vfio_irq_info irq;
	struct pdk_pci_msix_info msix;
	uint16_t vendor = 0;

	(void)state;
	assert_string_equal(pdk_vfio_dev_backend(d), "vfio-user");
	assert_string_equal(pdk_vfio_dev_name(d), name);
	assert_int_equal(pdk_vfio_dev_info(d, &info), 0);
	assert_int_equal(info.flags, PDK_VFIO_DEV_PCI | PDK_VFIO_DEV_RESET);
	assert_int_equal(info.num_regions, 9);
	assert_int_equal(info.num_irqs, 5);
	assert_int_equal(info.iommu_group, -1);
	assert_int_equal(pdk_vfio_dev_region(d, 0, &r), 0);
	assert_int_equal(r.size, K(16));
	assert_true(r.flags & PDK_VFIO_REGION_MSIX_MAPPABLE);
	assert_true(r.fd >= 0);
	assert_int_equal(pdk_vfio_dev_region(d, PDK_VFIO_PCI_CONFIG_REGION, &r), 0);
	assert_int_equal(r.size, 4096);
	assert_int_equal(r.fd, -1);
	assert_int_equal(pdk_vfio_dev_irq_info(d, PDK_VFIO_PCI_MSIX_IRQ, &irq), 0);
	assert_int_equal(irq.count, 6);
	assert_int_equal(pdk_pci_cfg_read16(pdk_vfio_dev_cfg(d), 0, &vendor), 0);
	assert_int_equal(vendor, TESTDEV_VENDOR);
	assert_int_equal(pdk_pci_msix_info(pdk_vfio_dev_cfg(d), &msix), 0);
	assert_int_equal(msix.table_bar, 0);
	assert_int_equal(msix.table_offset, 0x800);
	close_dev(d);
}

struct rng {
	uint64_t off, len;
	enum pdk_vfio_why why;
};

struct plan_case {
	const char *knobs;
	unsigned bar;
	enum pdk_vfio_policy policy;
	unsigned nm, ns;
	struct rng mapped[2], slow[2];
};

static const struct plan_case plans[] = {
	{"", 0, PDK_VFIO_POLICY_MSIX_MAPPABLE, 1, 0,
	 {{0, K(16), PDK_VFIO_WHY_MSIX_MAPPABLE}}, {{0}}},
	{"msix-mmap=sparse", 0, PDK_VFIO_POLICY_SPARSE, 1, 1,
	 {{K(4), K(12), PDK_VFIO_WHY_SPARSE_AREA}}, {{0, K(4), PDK_VFIO_WHY_NOT_SPARSE}}},
	{"msix-mmap=sparse,page-size=64k", 0, PDK_VFIO_POLICY_SLOW_ONLY, 0, 1,
	 {{0}}, {{0, K(16), PDK_VFIO_WHY_NO_MMAP}}},
	{"msix-mmap=sparse,page-size=64k,bar0-size=128k", 0, PDK_VFIO_POLICY_SPARSE, 1, 1,
	 {{K(64), K(64), PDK_VFIO_WHY_SPARSE_AREA}}, {{0, K(64), PDK_VFIO_WHY_NOT_SPARSE}}},
	{"msix-mmap=none", 0, PDK_VFIO_POLICY_AROUND_MSIX, 1, 1,
	 {{K(4), K(12), PDK_VFIO_WHY_OUTSIDE_MSIX}},
	 {{0, K(4), PDK_VFIO_WHY_MSIX_TABLE_PBA}}},
	{"msix-mmap=slow", 0, PDK_VFIO_POLICY_SLOW_ONLY, 0, 1,
	 {{0}}, {{0, K(16), PDK_VFIO_WHY_NO_MMAP}}},
	/* the server offers the table page as an area; the client refuses it */
	{"msix-mmap=whole,trap-db=1", 0, PDK_VFIO_POLICY_SPARSE, 1, 1,
	 {{K(8), K(8), PDK_VFIO_WHY_SPARSE_AREA}}, {{0, K(8), PDK_VFIO_WHY_BAD_AREA}}},
	{"msix=own", 0, PDK_VFIO_POLICY_WHOLE, 1, 0, {{0, K(16), PDK_VFIO_WHY_WHOLE}}, {{0}}},
	{"msix=own", 4, PDK_VFIO_POLICY_MSIX_MAPPABLE, 1, 0,
	 {{0, K(4), PDK_VFIO_WHY_MSIX_MAPPABLE}}, {{0}}},
	{"msix=own,msix-mmap=sparse", 4, PDK_VFIO_POLICY_SLOW_ONLY, 0, 1,
	 {{0}}, {{0, K(4), PDK_VFIO_WHY_NO_MMAP}}},
	{"msix=own,msix-mmap=none", 4, PDK_VFIO_POLICY_AROUND_MSIX, 0, 1,
	 {{0}}, {{0, K(4), PDK_VFIO_WHY_MSIX_TABLE_PBA}}},
	{"msix=own,trap-db=1", 0, PDK_VFIO_POLICY_SPARSE, 2, 1,
	 {{0, K(4), PDK_VFIO_WHY_SPARSE_AREA}, {K(8), K(8), PDK_VFIO_WHY_SPARSE_AREA}},
	 {{K(4), K(4), PDK_VFIO_WHY_NOT_SPARSE}}},
	{"msix=own,trap-db=1,page-size=64k", 0, PDK_VFIO_POLICY_SLOW_ONLY, 0, 1,
	 {{0}}, {{0, K(16), PDK_VFIO_WHY_NO_MMAP}}},
};

static void check_ranges(const char *what, const struct plan_case *c,
			 const struct pdk_vfio_range *got, unsigned n, const struct rng *want)
{
	for (unsigned i = 0; i < n; i++)
		if (got[i].offset != want[i].off || got[i].len != want[i].len ||
		    got[i].why != want[i].why)
			fail_msg("%s BAR%u %s %u: 0x%llx+0x%llx (%s)", c->knobs, c->bar, what, i,
				 (unsigned long long)got[i].offset,
				 (unsigned long long)got[i].len, pdk_vfio_why_str(got[i].why));
}

static bool in_plan(const struct pdk_vfio_plan *p, uint64_t off)
{
	for (unsigned i = 0; i < p->nr_mapped; i++)
		if (off >= p->mapped[i].offset && off + 4 <= p->mapped[i].offset + p->mapped[i].len)
			return true;
	return false;
}

/* Writes land in the server's register memory, mapped or slow per plan. */
static void check_accesses(struct pdk_vfio_dev *d, const struct pdk_vfio_plan *p)
{
	static const uint64_t regs[] = {TESTDEV_REG_SCRATCH, TESTDEV_REG_DOORBELL + 8,
					TESTDEV_SRAM_OFF + 8};
	struct pdk_vfio_bar *bar = pdk_vfio_dev_bar(d, 0);
	uint8_t *mem = pdk_emu_bar_mem(srv, 0);

	for (unsigned i = 0; i < PDK_DIM(regs); i++) {
		struct pdk_vfio_dev_stats a, b;
		uint32_t v = 0x77000000u | i;

		pdk_vfio_dev_stats(d, &a);
		pdk_vfio_bar_write32(bar, regs[i], v);
		assert_int_equal(pdk_vfio_bar_read32(bar, regs[i]), v);
		pdk_vfio_dev_stats(d, &b);
		assert_int_equal(pdk_emu_rd32(mem, regs[i]), v);
		assert_int_equal(b.slow_writes[0] - a.slow_writes[0], in_plan(p, regs[i]) ? 0 : 1);
		assert_int_equal(b.slow_reads[0] - a.slow_reads[0], in_plan(p, regs[i]) ? 0 : 1);
	}
	assert_int_equal(pdk_vfio_bar_read32(bar, TESTDEV_REG_ID), TESTDEV_MAGIC);
}

static void test_plans(void **state)
{
	(void)state;
	for (size_t i = 0; i < PDK_DIM(plans); i++) {
		const struct plan_case *c = &plans[i];
		struct pdk_vfio_dev *d = open_dev(c->knobs, PDK_VFIO_OPEN_NO_DMA);
		struct pdk_vfio_plan p;

		assert_int_equal(pdk_vfio_dev_plan(d, c->bar, &p), 0);
		if (p.policy != c->policy || p.nr_mapped != c->nm || p.nr_slow != c->ns)
			fail_msg("%s BAR%u: policy %s, %u mapped, %u slow", c->knobs, c->bar,
				 pdk_vfio_policy_str(p.policy), p.nr_mapped, p.nr_slow);
		check_ranges("mapped", c, p.mapped, p.nr_mapped, c->mapped);
		check_ranges("slow", c, p.slow, p.nr_slow, c->slow);
		assert_int_equal(pdk_vfio_dev_map_bars(d), 0);
		if (c->bar == 0)
			check_accesses(d, &p);
		close_dev(d);
	}
}

/* A driver's whole path: EAL memory shared by fd, doorbell, DMA, MSI-X. */
static void test_dma_copy(void **state)
{
	struct pdk_vfio_dev *d = open_dev("", 0);
	struct pdk_vfio_bar *bar;
	struct pdk_vfio_iommu_info info;
	uint8_t *src = pdk_malloc("test", 65536, 4096), *dst = pdk_malloc("test", 65536, 4096);
	int fds[4];
	uint64_t v;

	(void)state;
	assert_non_null(src);
	assert_non_null(dst);
	assert_int_equal(pdk_vfio_domain_info(pdk_vfio_dev_domain(d), &info), 0);
	assert_int_equal(info.pgsizes, 4096);
	assert_false(info.ranges_known);
	assert_true(info.nr_mappings >= 1);
	assert_int_equal(info.dma_avail, 65535 - info.nr_mappings);
	assert_int_equal(pdk_vfio_dev_map_bars(d), 0);
	assert_int_equal(pdk_vfio_dev_set_bus_master(d, true), 0);
	assert_int_equal(pdk_vfio_msix_enable(d, 4, fds), 0);
	bar = pdk_vfio_dev_bar(d, 0);
	for (int i = 0; i < 65536; i++)
		src[i] = (uint8_t)(i * 31);
	pdk_vfio_bar_write64(bar, TESTDEV_REG_DMA_SRC, pdk_mem_virt2iova(src));
	pdk_vfio_bar_write64(bar, TESTDEV_REG_DMA_DST, pdk_mem_virt2iova(dst));
	pdk_vfio_bar_write32(bar, TESTDEV_REG_DMA_LEN, 65536);
	pdk_vfio_bar_write32(bar, TESTDEV_REG_DMA_VEC, 2);
	pdk_vfio_bar_write32(bar, TESTDEV_REG_DOORBELL, 1);
	assert_int_equal(emu_wait_event(fds[2], 5000), 1);
	assert_int_equal(pdk_vfio_bar_read32(bar, TESTDEV_REG_STATUS), TESTDEV_ST_DONE);
	assert_memory_equal(src, dst, 65536);
	/* an IOVA nobody mapped: the device reports an IOMMU fault */
	pdk_vfio_bar_write64(bar, TESTDEV_REG_DMA_SRC, 0xdead0000ull);
	pdk_vfio_bar_write32(bar, TESTDEV_REG_DOORBELL, 1);
	assert_int_equal(emu_wait_event(fds[2], 5000), 1);
	assert_int_equal(pdk_vfio_bar_read32(bar, TESTDEV_REG_STATUS),
			 TESTDEV_ST_DONE | TESTDEV_ST_ERR_FAULT);
	v = pdk_vfio_bar_read64(bar, TESTDEV_REG_FAULT_IOVA);
	assert_int_equal(v, 0xdead0000ull);
	assert_int_equal(pdk_vfio_msix_disable(d), 0);
	pdk_free(src);
	pdk_free(dst);
	close_dev(d);
}

/* The device's own BAR mapped for DMA (as peer-to-peer would be): refused
 * by the device, not a crash. */
static void test_dma_into_bar(void **state)
{
	struct pdk_vfio_dev *d = open_dev("", 0);
	struct pdk_vfio_domain *dom = pdk_vfio_dev_domain(d);
	struct pdk_vfio_bar *bar;
	uint8_t *src = pdk_malloc("test", 4096, 4096);
	pdk_iova_t iova;

	(void)state;
	assert_int_equal(pdk_vfio_dev_map_bars(d), 0);
	assert_int_equal(pdk_vfio_dev_set_bus_master(d, true), 0);
	bar = pdk_vfio_dev_bar(d, 0);
	assert_int_equal(pdk_vfio_dma_map(dom, bar->addr, K(16), &iova), 0);
	pdk_vfio_bar_write64(bar, TESTDEV_REG_DMA_SRC, pdk_mem_virt2iova(src));
	pdk_vfio_bar_write64(bar, TESTDEV_REG_DMA_DST, iova + TESTDEV_SRAM_OFF);
	pdk_vfio_bar_write32(bar, TESTDEV_REG_DMA_LEN, 64);
	pdk_vfio_bar_write32(bar, TESTDEV_REG_DOORBELL, 1);
	assert_int_equal(wait_done(bar), TESTDEV_ST_DONE | TESTDEV_ST_ERR_BAR);
	assert_int_equal(pdk_vfio_dma_unmap(dom, bar->addr, K(16)), 0);
	/* memory with no file behind it cannot be shared */
	static uint8_t plain[8192] __attribute__((aligned(4096)));
	test_log_capture(PDK_LOG_ERR);
	assert_int_equal(pdk_vfio_dma_map(dom, plain, 4096, &iova), -EBADF);
	test_log_release();
	assert_log_contains("has no backing file: vfio-user shares DMA memory by fd");
	pdk_free(src);
	close_dev(d);
}

static void test_reset(void **state)
{
	struct pdk_vfio_dev *d = open_dev("", PDK_VFIO_OPEN_NO_DMA);
	struct pdk_vfio_bar *bar;

	(void)state;
	assert_int_equal(pdk_vfio_dev_map_bars(d), 0);
	bar = pdk_vfio_dev_bar(d, 0);
	pdk_vfio_bar_write64(bar, TESTDEV_REG_SCRATCH, 1234);
	assert_int_equal(pdk_vfio_dev_reset(d), 0);
	assert_int_equal(pdk_vfio_bar_read64(bar, TESTDEV_REG_SCRATCH), 0);
	assert_int_equal(pdk_vfio_bar_read32(bar, TESTDEV_REG_ID), TESTDEV_MAGIC);
	close_dev(d);
}

static atomic_int requests;

static void on_event(struct pdk_vfio_dev *dev, enum pdk_vfio_event ev, void *arg)
{
	(void)dev;
	(void)arg;
	if (ev == PDK_VFIO_EVENT_REQUEST)
		atomic_fetch_add(&requests, 1);
}

/* Surprise removal: the request IRQ reaches the application as an event. */
static void test_request_event(void **state)
{
	struct pdk_vfio_dev *d = open_dev("remove-grace-ms=3000", PDK_VFIO_OPEN_NO_DMA);
	int64_t end = emu_test_ms() + 5000;

	(void)state;
	atomic_store(&requests, 0);
	assert_int_equal(pdk_vfio_event_register(on_event, NULL), 0);
	assert_int_equal(pdk_emu_dev_fault(srv, PDK_EMU_FAULT_REMOVE), 0);
	while (atomic_load(&requests) == 0 && emu_test_ms() < end)
		emu_sleep_ms(5);
	assert_int_equal(atomic_load(&requests), 1);
	assert_int_equal(pdk_vfio_event_unregister(on_event, NULL), 0);
	close_dev(d); /* the driver lets go within the grace period */
}

/* The server's page sizes and map limit are the domain's. */
static void test_pgsizes_and_limit(void **state)
{
	struct pdk_vfio_dev *d = open_dev("pgsizes=0x10000,max-dma-maps=2",
					  PDK_VFIO_OPEN_NO_DMA);
	struct pdk_vfio_domain *dom = pdk_vfio_dev_domain(d);
	struct pdk_vfio_iommu_info info;
	uint8_t *buf = pdk_malloc("test", K(256), 65536);
	pdk_iova_t iova[3];

	(void)state;
	assert_non_null(buf);
	assert_int_equal(pdk_vfio_domain_info(dom, &info), 0);
	assert_int_equal(info.pgsizes, 0x10000);
	assert_int_equal(info.dma_avail, 2);
	test_log_capture(PDK_LOG_ERR);
	assert_int_equal(pdk_vfio_dma_map(dom, buf + 4096, 4096, &iova[0]), -EINVAL);
	assert_log_contains("not a multiple of the IOMMU page size 0x10000");
	assert_int_equal(pdk_vfio_dma_map(dom, buf, K(64), &iova[0]), 0);
	assert_int_equal(pdk_vfio_dma_map(dom, buf + K(64), K(64), &iova[1]), 0);
	assert_int_equal(pdk_vfio_dma_map(dom, buf + K(128), K(64), &iova[2]), -ENOSPC);
	assert_log_contains("max-dma-maps=N");
	test_log_release();
	assert_int_equal(pdk_vfio_dma_unmap(dom, buf, K(64)), 0);
	assert_int_equal(pdk_vfio_dma_unmap(dom, buf + K(64), K(64)), 0);
	pdk_free(buf);
	close_dev(d);
}

/* The server goes away: clean errors, all-ones reads, a clean close. */
static void test_server_gone(void **state)
{
	struct pdk_vfio_dev *d = open_dev("msix-mmap=sparse", PDK_VFIO_OPEN_NO_DMA);
	struct pdk_vfio_bar *bar;
	uint32_t v;

	(void)state;
	assert_int_equal(pdk_vfio_dev_map_bars(d), 0);
	bar = pdk_vfio_dev_bar(d, 0);
	pdk_emu_dev_destroy(srv);
	srv = NULL;
	test_log_capture(PDK_LOG_ERR);
	assert_int_equal(pdk_vfio_bar_read32(bar, TESTDEV_REG_ID), 0xffffffff);
	assert_log_contains("vfio-user server lost during REGION_READ");
	assert_int_equal(pdk_vfio_dev_region_read(d, 0, &v, 4, 0), -ENODEV);
	assert_int_equal(pdk_vfio_dev_reset(d), -ENODEV);
	/* the mapped doorbell page still holds memory: no SIGBUS */
	pdk_vfio_bar_write32(bar, TESTDEV_REG_DOORBELL, 1);
	test_log_release();
	pdk_vfio_dev_close(d);
	/* and a socket nobody listens on */
	assert_null(pdk_vfio_dev_open(name, 0));
	assert_true(errno == ENOENT || errno == ECONNREFUSED);
}

/* A second process (or device) cannot take a device that is in use. */
static void test_busy(void **state)
{
	struct pdk_vfio_dev *d = open_dev("", PDK_VFIO_OPEN_NO_DMA);
	struct vuc c;

	(void)state;
	assert_int_equal(vuc_connect(&c, pdk_emu_dev_socket(srv)), -EBUSY);
	assert_null(pdk_vfio_dev_open(name, 0)); /* same process: refused by lib/vfio */
	assert_int_equal(errno, EBUSY);
	close_dev(d);
}

/* ---- the PCI bus of pdk_eal_init, with a driver for testdev ---- */

static struct {
	int probes, removes;
	uint32_t id;
	bool master;
} drv_state;

static int td_probe(struct pdk_pci_device *pd)
{
	drv_state.probes++;
	drv_state.id = pdk_vfio_bar_read32(pdk_vfio_dev_bar(pd->vdev, 0), TESTDEV_REG_ID);
	drv_state.master = pdk_emu_dev_bus_master(srv);
	return 0;
}

static void td_remove(struct pdk_pci_device *pd)
{
	(void)pd;
	drv_state.removes++;
}

static const struct pdk_pci_id td_ids[] = {{PDK_PCI_DEVICE(TESTDEV_VENDOR, TESTDEV_DEVICE)},
					   {0}};
static const struct pdk_pci_driver td_driver = {.name = "testdev", .id_table = td_ids,
						.probe = td_probe, .remove = td_remove};
PDK_PCI_DRIVER_REGISTER(td_driver)

static void test_eal_bus(void **state)
{
	(void)state;
	assert_ptr_equal(pdk_bus_find("pci"), &vfio_pci_bus);
	srv = emu_start("testdev", emu_path("bus.sock"), "");
	snprintf(name, sizeof(name), "vfio-user:%s", pdk_emu_dev_socket(srv));
	pdk_eal_cleanup();
	memset(&drv_state, 0, sizeof(drv_state));
	assert_true(eal_up(name) > 0);
	assert_int_equal(drv_state.probes, 1);
	assert_int_equal(drv_state.id, TESTDEV_MAGIC);
	assert_true(drv_state.master);
	pdk_eal_cleanup();
	assert_int_equal(drv_state.removes, 1);
	assert_false(pdk_emu_dev_bus_master(srv)); /* the client left: reset */
	pdk_emu_dev_destroy(srv);
	srv = NULL;
	assert_true(eal_up(NULL) > 0);
}

/* pdk-devinfo shows a vfio-user device's plan like a kernel device's. */
static void test_devinfo(void **state)
{
	char cmd[512], out[65536] = "", flat[65536];
	const char *b = getenv("PDK_BUILD_DIR");
	size_t n = 0, j = 0;
	FILE *p;

	(void)state;
	snprintf(cmd, sizeof(cmd), "%s/app/pdk-devinfo/pdk-devinfo", b ? b : "build");
	if (access(cmd, X_OK))
		skip(); /* not built */
	srv = emu_start("testdev", emu_path("info.sock"), "msix-mmap=none");
	snprintf(cmd, sizeof(cmd), "%s/app/pdk-devinfo/pdk-devinfo --json vfio-user:%s",
		 b ? b : "build", pdk_emu_dev_socket(srv));
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, sizeof(out) - 1, p);
	out[n] = '\0';
	assert_int_equal(pclose(p), 0);
	for (size_t i = 0; out[i]; i++)
		if (out[i] != ' ' && out[i] != '\n')
			flat[j++] = out[i];
	flat[j] = '\0';
	assert_str_contains(flat, "\"backend\":\"vfio-user\"");
	assert_str_contains(flat, "\"policy\":\"around-msix\"");
	assert_str_contains(flat, "\"policy\":\"slow-only\"");
	assert_str_contains(flat, "holdingtheMSI-XtableandPBA"); /* the why */
	pdk_emu_dev_destroy(srv);
	srv = NULL;
}

/* ---- a hostile server: lib/vfio's backend must fail cleanly ---- */

enum evil { EV_CAP_LOOP, EV_FD_NO_MMAP, EV_AREA_OUT, EV_WRONG_CMD, EV_HANGUP,
	    EV_HUGE, EV_READ_COUNT, EV_NOT_PCI, EV_MODES };

struct evil_srv {
	int lsock;
	enum evil mode;
};

static void evil_region(int s, const struct pdk_vfio_user_msg *m, enum evil mode)
{
	struct vfio_user_region_info req;
	struct {
		struct vfio_user_region_info info;
		struct vfio_user_cap_sparse sp;
		struct vfio_user_sparse_area a;
	} r = {.sp = {.header = {.id = VFIO_REGION_INFO_CAP_SPARSE_MMAP, .version = 1},
		      .nr_areas = 1},
	       .a = {0, 0x2000}};
	int fd = eventfd(0, EFD_CLOEXEC);

	memcpy(&req, m->payload, sizeof(req));
	r.info = (struct vfio_user_region_info){.argsz = 32, .index = req.index};
	if (req.index == 7)
		r.info.size = 256, r.info.flags = 3;
	if (req.index == 0 && mode == EV_CAP_LOOP) {
		r.info = (struct vfio_user_region_info){.argsz = sizeof(r), .index = 0,
			.size = 0x1000, .flags = 3 | 8, .cap_offset = 32};
		r.sp.header.next = 32;
	} else if (req.index == 0 && mode == EV_AREA_OUT) {
		r.info = (struct vfio_user_region_info){.argsz = sizeof(r), .index = 0,
			.size = 0x1000, .flags = 0xf, .cap_offset = 32};
	}
	pdk_vfio_user_send_reply(s, &m->hdr, &r, r.info.argsz, &fd,
				 (req.index == 0 && (mode == EV_FD_NO_MMAP ||
						     mode == EV_AREA_OUT)) ? 1 : 0);
	close(fd);
}

/* Answer like a plain device, except where `mode` says otherwise. */
static bool evil_answer(int s, const struct pdk_vfio_user_msg *m, enum evil mode)
{
	struct vfio_user_device_info di = {16, 3, 9, 5};
	struct vfio_user_irq_info ii = {16, 1, 0, 0};
	uint8_t buf[512] = {0};
	struct pdk_vfio_user_caps caps;
	struct vfio_user_header h = m->hdr;
	int n;

	switch (m->hdr.command) {
	case VFIO_USER_VERSION:
		pdk_vfio_user_caps_init(&caps);
		n = pdk_vfio_user_version_encode(buf, sizeof(buf), 0, 1, &caps);
		pdk_vfio_user_send_reply(s, &m->hdr, buf, (size_t)n, NULL, 0);
		return true;
	case VFIO_USER_DEVICE_GET_INFO:
		if (mode == EV_NOT_PCI)
			di.flags = 1;
		pdk_vfio_user_send_reply(s, &m->hdr, &di, sizeof(di), NULL, 0);
		return true;
	case VFIO_USER_DEVICE_GET_REGION_INFO:
		if (mode == EV_WRONG_CMD) {
			h.command = VFIO_USER_DMA_MAP;
			pdk_vfio_user_send_reply(s, &h, NULL, 0, NULL, 0);
		} else if (mode == EV_HANGUP) {
			return false;
		} else if (mode == EV_HUGE) {
			h.flags = VFIO_USER_F_TYPE_REPLY;
			h.msg_size = 0x7fffffff;
			send(s, &h, sizeof(h), MSG_NOSIGNAL);
		} else {
			evil_region(s, m, mode);
		}
		return true;
	case VFIO_USER_REGION_READ:
		memcpy(buf, m->payload, 16);
		if (mode == EV_READ_COUNT)
			buf[12]++; /* a count that is not the one asked for */
		pdk_vfio_user_send_reply(s, &m->hdr, buf, 16 + buf[12] - (mode == EV_READ_COUNT),
					 NULL, 0);
		return true;
	case VFIO_USER_DEVICE_GET_IRQ_INFO:
		memcpy(&ii.index, m->payload + 8, 4);
		pdk_vfio_user_send_reply(s, &m->hdr, &ii, sizeof(ii), NULL, 0);
		return true;
	default:
		pdk_vfio_user_send_reply(s, &m->hdr, NULL, 0, NULL, 0);
		return true;
	}
}

static void *evil_thread(void *arg)
{
	struct evil_srv *e = arg;
	int s = accept(e->lsock, NULL, NULL);
	struct pdk_vfio_user_msg m;

	while (s >= 0 && pdk_vfio_user_recv(s, &m, 1 << 20, 8, 5000) == 0) {
		bool go_on = evil_answer(s, &m, e->mode);

		pdk_vfio_user_msg_release(&m);
		if (!go_on)
			break;
	}
	if (s >= 0)
		close(s);
	return NULL;
}

static void test_hostile_server(void **state)
{
	static const int want[EV_MODES] = {
		[EV_CAP_LOOP] = EINVAL, [EV_FD_NO_MMAP] = EBADF, [EV_AREA_OUT] = EINVAL,
		[EV_WRONG_CMD] = ENODEV, [EV_HANGUP] = ENODEV, [EV_HUGE] = ENODEV,
		[EV_READ_COUNT] = EPROTO, [EV_NOT_PCI] = ENODEV,
	};

	(void)state;
	for (int i = 0; i < EV_MODES; i++) {
		struct sockaddr_un sa = {.sun_family = AF_UNIX};
		struct evil_srv e = {.mode = (enum evil)i};
		struct pdk_vfio_dev *d;
		pthread_t t;

		e.lsock = emu_listen_raw("evil.sock", sa.sun_path);
		pthread_create(&t, NULL, evil_thread, &e);
		snprintf(name, sizeof(name), "vfio-user:%s", sa.sun_path);
		test_log_capture(PDK_LOG_ERR);
		d = pdk_vfio_dev_open(name, PDK_VFIO_OPEN_NO_DMA);
		/* a config read answered with the wrong count fails the open: the
		 * MSI-X capability cannot be looked for */
		if ((d == NULL ? errno : 0) != want[i])
			fail_msg("hostile mode %d: open gave %s", i, d ? "a device" : strerror(errno));
		test_log_release();
		pthread_join(t, NULL);
		close(e.lsock);
		unlink(sa.sun_path);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_open_info),
		cmocka_unit_test(test_plans),
		cmocka_unit_test(test_dma_copy),
		cmocka_unit_test(test_dma_into_bar),
		cmocka_unit_test(test_reset),
		cmocka_unit_test(test_request_event),
		cmocka_unit_test(test_pgsizes_and_limit),
		cmocka_unit_test(test_server_gone),
		cmocka_unit_test(test_busy),
		cmocka_unit_test(test_eal_bus),
		cmocka_unit_test(test_devinfo),
		cmocka_unit_test(test_hostile_server),
	};

	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
