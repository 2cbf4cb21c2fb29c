/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Client and server in one process (the device runs on its own thread):
 * VERSION, device/region/IRQ info, config space virtualisation, BAR memory
 * shared between mapped and slow-path accesses, MSI-X table protection,
 * slow-path side effects, resets.
 */
#include "emu_test.h"

#include <linux/pci_regs.h>
#include <sys/mman.h>

#define CFG VFIO_PCI_CONFIG_REGION_INDEX
/* the server hung up: the next call fails one way or the other */
#define assert_gone(rc) assert_true((rc) == -ECONNRESET || (rc) == -EPIPE)

static struct pdk_emu_dev *dev;
static struct vuc c;

static int setup(void **state)
{
	(void)state;
	return emu_open(&dev, &c, "basic.sock", "vectors=4");
}

static int teardown(void **state)
{
	(void)state;
	return emu_close(&dev, &c);
}

static void test_version(void **state)
{
	struct vuc c2;

	(void)state;
	assert_int_equal(c.minor, VFIO_USER_MINOR);
	assert_int_equal(c.server.max_msg_fds, 16);
	assert_int_equal(c.server.max_data_xfer_size, 1 << 20);
	assert_int_equal(c.server.pgsizes, 4096);
	assert_int_equal(c.server.max_dma_maps, 65535);
	/* a second VERSION on the same connection is refused, the rest works */
	assert_int_equal(vuc_version(&c, 0, 1), -EINVAL);
	assert_int_equal(vuc_rd32(&c, 0, TESTDEV_REG_ID), TESTDEV_MAGIC);
	/* a second client is told the device is busy */
	assert_int_equal(vuc_connect(&c2, pdk_emu_dev_socket(dev)), -EBUSY);
}

static void test_version_rules(void **state)
{
	struct vuc c2;
	uint32_t id = 0;

	(void)state;
	vuc_close(&c);
	/* minor is lowered to ours; an older minor is kept */
	assert_int_equal(vuc_connect_raw(&c2, pdk_emu_dev_socket(dev)), 0);
	assert_int_equal(vuc_version(&c2, 0, 7), 0);
	assert_int_equal(c2.minor, VFIO_USER_MINOR);
	vuc_close(&c2);
	assert_int_equal(vuc_connect_raw(&c2, pdk_emu_dev_socket(dev)), 0);
	assert_int_equal(vuc_version(&c2, 0, 0), 0);
	assert_int_equal(c2.minor, 0);
	vuc_close(&c2);
	/* another major: error, then hang-up */
	assert_int_equal(vuc_connect_raw(&c2, pdk_emu_dev_socket(dev)), 0);
	assert_int_equal(vuc_version(&c2, 1, 0), -ENOTSUP);
	assert_gone(vuc_read(&c2, 0, 0, &id, 4));
	vuc_close(&c2);
	/* anything before VERSION: error, then hang-up */
	assert_int_equal(vuc_connect_raw(&c2, pdk_emu_dev_socket(dev)), 0);
	assert_int_equal(vuc_read(&c2, 0, 0, &id, 4), -EINVAL);
	assert_gone(vuc_version(&c2, 0, 1));
	vuc_close(&c2);
	assert_int_equal(vuc_connect(&c, pdk_emu_dev_socket(dev)), 0);
}

static void test_infos(void **state)
{
	struct vfio_user_device_info di;
	struct vfio_user_irq_info ii;
	struct pdk_vfio_user_region r;
	int fd;

	(void)state;
	assert_int_equal(vuc_device_info(&c, &di), 0);
	assert_int_equal(di.flags, VFIO_DEVICE_FLAGS_RESET | VFIO_DEVICE_FLAGS_PCI);
	assert_int_equal(di.num_regions, VFIO_PCI_NUM_REGIONS);
	assert_int_equal(di.num_irqs, VFIO_PCI_NUM_IRQS);

	assert_int_equal(vuc_irq_info(&c, VFIO_PCI_INTX_IRQ_INDEX, &ii), 0);
	assert_int_equal(ii.count, 0);
	assert_int_equal(vuc_irq_info(&c, VFIO_PCI_MSI_IRQ_INDEX, &ii), 0);
	assert_int_equal(ii.count, 0);
	assert_int_equal(vuc_irq_info(&c, VFIO_PCI_MSIX_IRQ_INDEX, &ii), 0);
	assert_int_equal(ii.count, 4);
	assert_int_equal(ii.flags, VFIO_IRQ_INFO_EVENTFD | VFIO_IRQ_INFO_MASKABLE);
	assert_int_equal(vuc_irq_info(&c, VFIO_PCI_ERR_IRQ_INDEX, &ii), 0);
	assert_int_equal(ii.count, 1);
	assert_int_equal(vuc_irq_info(&c, VFIO_PCI_REQ_IRQ_INDEX, &ii), 0);
	assert_int_equal(ii.count, 1);
	assert_int_equal(vuc_irq_info(&c, 5, &ii), -EINVAL);

	/* config: slow path only, 4 KiB with the PCIe capability */
	assert_int_equal(vuc_region_info(&c, CFG, &r, &fd), 0);
	assert_int_equal(r.info.size, 4096);
	assert_int_equal(r.info.flags, VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE);
	assert_int_equal(fd, -1);
	/* BAR1 is BAR0's upper half, ROM and VGA absent */
	for (uint32_t i = 1; i <= 8; i += (i == 1 ? 2 : 1)) {
		if (i == TESTDEV_BAR2 || i == CFG)
			continue;
		assert_int_equal(vuc_region_info(&c, i, &r, &fd), 0);
		assert_int_equal(r.info.size, 0);
		assert_int_equal(r.info.flags, 0);
	}
	/* BAR2 never mappable */
	assert_int_equal(vuc_region_info(&c, TESTDEV_BAR2, &r, &fd), 0);
	assert_int_equal(r.info.size, 4096);
	assert_int_equal(r.info.flags, VFIO_REGION_INFO_FLAG_READ | VFIO_REGION_INFO_FLAG_WRITE);
	assert_int_equal(vuc_region_info(&c, 9, &r, &fd), -EINVAL);
}

static void test_config_space(void **state)
{
	unsigned msix, exp;
	uint32_t v;

	(void)state;
	assert_int_equal(vuc_cfg16(&c, PCI_VENDOR_ID), TESTDEV_VENDOR);
	assert_int_equal(vuc_cfg16(&c, PCI_DEVICE_ID), TESTDEV_DEVICE);
	assert_true(vuc_cfg16(&c, PCI_STATUS) & PCI_STATUS_CAP_LIST);
	assert_int_not_equal(vuc_cfg_find_cap(&c, PCI_CAP_ID_PM), 0);
	exp = vuc_cfg_find_cap(&c, PCI_CAP_ID_EXP);
	msix = vuc_cfg_find_cap(&c, PCI_CAP_ID_MSIX);
	assert_int_not_equal(exp, 0);
	assert_int_not_equal(msix, 0);
	/* MSI-X: 4 vectors, table at 0x800 of BAR0, PBA after it */
	assert_int_equal(vuc_cfg16(&c, msix + PCI_MSIX_FLAGS) & PCI_MSIX_FLAGS_QSIZE, 3);
	assert_int_equal(vuc_rd32(&c, CFG, msix + PCI_MSIX_TABLE), 0x800 | 0);
	assert_int_equal(vuc_rd32(&c, CFG, msix + PCI_MSIX_PBA), 0x840 | 0);
	/* read-only: vendor id, MSI-X table size */
	assert_int_equal(vuc_wr32(&c, CFG, PCI_VENDOR_ID, 0x12345678), 0);
	assert_int_equal(vuc_cfg16(&c, PCI_VENDOR_ID), TESTDEV_VENDOR);
	v = 0xffff;
	assert_int_equal(vuc_write(&c, CFG, msix + PCI_MSIX_FLAGS, &v, 2), 0);
	assert_int_equal(vuc_cfg16(&c, msix + PCI_MSIX_FLAGS),
			 PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL | 3);
	/* BAR sizing: all-ones reads back the size mask and type bits */
	assert_int_equal(vuc_wr32(&c, CFG, PCI_BASE_ADDRESS_0, 0xffffffff), 0);
	assert_int_equal(vuc_rd32(&c, CFG, PCI_BASE_ADDRESS_0),
			 (uint32_t)~(16384 - 1) | PCI_BASE_ADDRESS_MEM_TYPE_64);
	assert_int_equal(vuc_wr32(&c, CFG, PCI_BASE_ADDRESS_1, 0xffffffff), 0);
	assert_int_equal(vuc_rd32(&c, CFG, PCI_BASE_ADDRESS_1), 0xffffffff);
	assert_int_equal(vuc_wr32(&c, CFG, PCI_BASE_ADDRESS_2, 0xffffffff), 0);
	assert_int_equal(vuc_rd32(&c, CFG, PCI_BASE_ADDRESS_2), (uint32_t)~4095);
	assert_int_equal(vuc_wr32(&c, CFG, PCI_BASE_ADDRESS_3, 0xffffffff), 0);
	assert_int_equal(vuc_rd32(&c, CFG, PCI_BASE_ADDRESS_3), 0);
	assert_int_equal(vuc_wr32(&c, CFG, PCI_ROM_ADDRESS, 0xffffffff), 0);
	assert_int_equal(vuc_rd32(&c, CFG, PCI_ROM_ADDRESS), 0);
	/* an address is kept (masked), byte writes too */
	assert_int_equal(vuc_wr32(&c, CFG, PCI_BASE_ADDRESS_0, 0xfebc1234), 0);
	assert_int_equal(vuc_rd32(&c, CFG, PCI_BASE_ADDRESS_0),
			 0xfebc0000 | PCI_BASE_ADDRESS_MEM_TYPE_64);
	/* bus master reaches the device; interrupt line is virtual */
	assert_false(pdk_emu_dev_bus_master(dev));
	assert_int_equal(vuc_bus_master(&c, true), 0);
	assert_true(vuc_cfg16(&c, PCI_COMMAND) & PCI_COMMAND_MASTER);
	assert_true(pdk_emu_dev_bus_master(dev));
	v = 0x0b;
	assert_int_equal(vuc_write(&c, CFG, PCI_INTERRUPT_LINE, &v, 1), 0);
	assert_int_equal(vuc_cfg16(&c, PCI_INTERRUPT_LINE) & 0xff, 0x0b);
	assert_int_equal(vuc_cfg16(&c, PCI_INTERRUPT_LINE) >> 8, 0); /* no pin */
	/* bounds */
	assert_int_equal(vuc_read(&c, CFG, 4094, &v, 4), -EINVAL);
	assert_int_equal(vuc_read(&c, CFG, 4096, &v, 1), -EINVAL);
	/* PCIe: FLR capable; Initiate FLR resets the device, reads as 0 */
	assert_true(vuc_rd32(&c, CFG, exp + PCI_EXP_DEVCAP) & PCI_EXP_DEVCAP_FLR);
	assert_int_equal(vuc_wr64(&c, 0, TESTDEV_REG_SCRATCH, 0x1122), 0);
	v = vuc_cfg16(&c, exp + PCI_EXP_DEVCTL) | PCI_EXP_DEVCTL_BCR_FLR;
	assert_int_equal(vuc_write(&c, CFG, exp + PCI_EXP_DEVCTL, &v, 2), 0);
	assert_int_equal(vuc_cfg16(&c, exp + PCI_EXP_DEVCTL) & PCI_EXP_DEVCTL_BCR_FLR, 0);
	assert_int_equal(vuc_rd64(&c, 0, TESTDEV_REG_SCRATCH), 0);
	assert_true(vuc_cfg16(&c, PCI_COMMAND) & PCI_COMMAND_MASTER); /* kept */
}

static void test_mapped_and_slow(void **state)
{
	struct pdk_vfio_user_region r;
	uint8_t *bar = vuc_map_bar(&c, 0, &r);
	uint8_t *srv = pdk_emu_bar_mem(dev, 0);
	uint8_t buf[64];

	(void)state;
	assert_non_null(bar);
	assert_true(r.info.flags & VFIO_REGION_INFO_FLAG_MMAP);
	assert_true(r.msix_mappable); /* default msix-mmap=whole */
	/* mapped view and server memory are the same bytes */
	assert_int_equal(pdk_emu_rd32(bar, TESTDEV_REG_ID), TESTDEV_MAGIC);
	pdk_emu_wr64(bar, TESTDEV_REG_SCRATCH, 0xabcdef0123456789ull);
	assert_int_equal(vuc_rd64(&c, 0, TESTDEV_REG_SCRATCH), 0xabcdef0123456789ull);
	assert_int_equal(pdk_emu_rd64(srv, TESTDEV_REG_SCRATCH), 0xabcdef0123456789ull);
	assert_int_equal(vuc_wr64(&c, 0, TESTDEV_REG_SCRATCH + 8, 42), 0);
	assert_int_equal(pdk_emu_rd64(bar, TESTDEV_REG_SCRATCH + 8), 42);
	/* a large slow-path transfer into SRAM, read back through the mapping */
	for (unsigned i = 0; i < sizeof(buf); i++)
		buf[i] = (uint8_t)(i * 7);
	assert_int_equal(vuc_write(&c, 0, TESTDEV_SRAM_OFF + 100, buf, sizeof(buf)), 0);
	assert_memory_equal(bar + TESTDEV_SRAM_OFF + 100, buf, sizeof(buf));
	/* region bounds */
	assert_int_equal(vuc_read(&c, 0, 16384 - 4, buf, 8), -EINVAL);
	assert_int_equal(vuc_read(&c, 1, 0, buf, 4), -EINVAL);
	/* read-only ID: a slow write does not stick */
	assert_int_equal(vuc_wr32(&c, 0, TESTDEV_REG_ID, 0), 0);
	assert_int_equal(vuc_rd32(&c, 0, TESTDEV_REG_ID), TESTDEV_MAGIC);
	/* the MSI-X table: all-ones to slow reads, writes dropped */
	assert_int_equal(vuc_wr32(&c, 0, TESTDEV_MSIX_SHARED_OFF, 0x1234), 0);
	assert_int_equal(vuc_rd32(&c, 0, TESTDEV_MSIX_SHARED_OFF), 0xffffffff);
	assert_int_equal(vuc_rd32(&c, 0, TESTDEV_MSIX_SHARED_OFF + 60), 0xffffffff);
	assert_int_equal(vuc_rd32(&c, 0, 0x840), 0); /* PBA: nothing pending */
	/* reset: registers back to their defaults, in the mapping too */
	assert_int_equal(vuc_reset(&c), 0);
	assert_int_equal(pdk_emu_rd64(bar, TESTDEV_REG_SCRATCH), 0);
	assert_int_equal(pdk_emu_rd32(bar, TESTDEV_REG_ID), TESTDEV_MAGIC);
	vuc_unmap_region(&r, bar);
}

static void test_slow_side_effects(void **state)
{
	struct pdk_emu_stats st;

	(void)state;
	assert_int_equal(vuc_rd32(&c, TESTDEV_BAR2, TESTDEV_BAR2_READS), 1);
	assert_int_equal(vuc_rd32(&c, TESTDEV_BAR2, TESTDEV_BAR2_READS), 2);
	assert_int_equal(vuc_wr32(&c, TESTDEV_BAR2, TESTDEV_BAR2_ECHO, 77), 0);
	assert_int_equal(vuc_rd32(&c, TESTDEV_BAR2, TESTDEV_BAR2_ECHO), 77);
	assert_int_equal(vuc_rd32(&c, TESTDEV_BAR2, TESTDEV_BAR2_WRITES), 1);
	/* counters are read-only */
	assert_int_equal(vuc_wr32(&c, TESTDEV_BAR2, TESTDEV_BAR2_WRITES, 99), 0);
	assert_int_equal(vuc_rd32(&c, TESTDEV_BAR2, TESTDEV_BAR2_WRITES), 1);
	pdk_emu_dev_stats(dev, &st);
	assert_true(st.slow_reads >= 4);
	assert_true(st.slow_writes >= 2);
	assert_int_equal(st.clients, 1);
}

/* A client that disconnects leaves a device fresh from power-on. */
static void test_disconnect_resets(void **state)
{
	(void)state;
	assert_int_equal(vuc_bus_master(&c, true), 0);
	assert_int_equal(vuc_wr64(&c, 0, TESTDEV_REG_SCRATCH, 5), 0);
	vuc_close(&c);
	assert_int_equal(vuc_connect(&c, pdk_emu_dev_socket(dev)), 0);
	assert_int_equal(vuc_rd64(&c, 0, TESTDEV_REG_SCRATCH), 0);
	assert_false(vuc_cfg16(&c, PCI_COMMAND) & PCI_COMMAND_MASTER);
}

static void test_knob_errors(void **state)
{
	static const struct {
		const char *spec, *msg;
	} bad[] = {
		{"testdev,socket=/tmp/x,bogus=1", "unknown knob 'bogus' for testdev; valid knobs: socket"},
		{"testdev,socket=/tmp/x,msix=maybe", "expected shared|own"},
		{"testdev,socket=/tmp/x,page-size=8k", "expected 4k|64k"},
		{"testdev,socket=/tmp/x,vectors=0", "knob 'vectors': expected 1..2048"},
		{"testdev,socket=/tmp/x,vectors=300", "use msix=own"},
		{"testdev,socket=/tmp/x,pgsizes=0x800", "pgsizes"},
		{"testdev,socket=/tmp/x,max-fds=300", "max-fds"},
		{"testdev,socket=/tmp/x,cpu=-1", "knob 'cpu'"},
		{"testdev,socket=/tmp/x,bar0-size=20000", "bar0-size"},
		{"testdev,socket=/tmp/x,stuck=2", "knob 'stuck'"},
		{"testdev,socket=/tmp/x,fault=x,fault=y", "given twice"},
		{"testdev,socket=/tmp/x,iova-ranges=0x1000", "knob 'iova-ranges'"},
		{"testdev,socket=/tmp/x,iova-ranges=0x2000-0x1fff", "knob 'iova-ranges'"},
		{"testdev,socket=/tmp/x,iova-ranges=0x1000-0x1ffe", "multiples of"},
		{"testdev,socket=/tmp/x,iova-ranges=0x8000-0x8fff/0x1000-0x1fff", "ascending"},
		{"testdev,socket=/tmp/x,iova-ranges=0-0xfff/0x1000-0x1fff/0x2000-0x2fff/"
		 "0x3000-0x3fff/0x4000-0x4fff/0x5000-0x5fff/0x6000-0x6fff/0x7000-0x7fff/"
		 "0x8000-0x8fff", "at most 8"},
		{"testdev,socket=/tmp/x,vectors", "expected key=value"},
		{"testdev,vectors=2", "knob 'socket' missing"},
		{"nvme9,socket=/tmp/x", "unknown device type 'nvme9'; known types: testdev"},
		{"", "unknown device type"},
	};
	char err[1024];

	(void)state;
	for (size_t i = 0; i < PDK_DIM(bad); i++) {
		errno = 0;
		assert_null(pdk_emu_dev_create(bad[i].spec, err, sizeof(err)));
		assert_int_equal(errno, EINVAL);
		assert_str_contains(err, bad[i].msg);
	}
	/* 64-bit vectors in their own BAR are fine */
	struct pdk_emu_dev *d = pdk_emu_dev_create(
		"testdev,socket=/tmp/x,msix=own,vectors=2048", err, sizeof(err));
	assert_non_null(d);
	assert_int_equal(pdk_emu_bar_size(d, TESTDEV_MSIX_OWN_BAR), 65536);
	pdk_emu_dev_destroy(d);
}

static void test_socket_in_use(void **state)
{
	char err[1024], spec[256];
	struct pdk_emu_dev *d;
	FILE *f;

	(void)state;
	/* a live server's socket is not stolen */
	snprintf(spec, sizeof(spec), "testdev,socket=%s", pdk_emu_dev_socket(dev));
	d = pdk_emu_dev_create(spec, err, sizeof(err));
	assert_non_null(d);
	assert_int_equal(pdk_emu_dev_start(d), -EADDRINUSE);
	pdk_emu_dev_destroy(d);
	assert_int_equal(access(pdk_emu_dev_socket(dev), F_OK), 0);
	/* a regular file in the way is not removed */
	f = fopen(emu_path("file"), "w");
	fclose(f);
	snprintf(spec, sizeof(spec), "testdev,socket=%s", emu_path("file"));
	d = pdk_emu_dev_create(spec, err, sizeof(err));
	assert_int_equal(pdk_emu_dev_start(d), -EEXIST);
	pdk_emu_dev_destroy(d);
	assert_int_equal(access(emu_path("file"), F_OK), 0);
	unlink(emu_path("file"));
}

/* A model written against the ops table, as NVMe/virtio-net models are. */
struct cb_priv {
	int connects, disconnects, writes;
};

static const struct pdk_emu_knob cb_knobs[] = {
	{"double", "0|1: the trapped register doubles what is written", "1"},
	{NULL, NULL, NULL},
};

static int cb_init(struct pdk_emu_dev *d)
{
	static const struct pdk_emu_pci_ids ids = {.vendor = 0x1af4, .device = 0x1000,
						   .class_code = 0x020000};
	static const uint8_t vndr[6] = {8, 1, 2, 3, 4, 5}; /* cap length, data */
	int rc;

	pdk_emu_dev_set_ids(d, &ids);
	rc = pdk_emu_dev_add_bar(d, 2, 8192, PDK_EMU_BAR_PREFETCH);
	if (rc == 0)
		rc = pdk_emu_dev_trap(d, 2, 0x1000, 4);
	if (rc == 0)
		rc = pdk_emu_dev_add_cap(d, PCI_CAP_ID_VNDR, vndr, sizeof(vndr)) > 0 ? 0 : -1;
	return rc;
}

static void cb_write(struct pdk_emu_dev *d, unsigned bar, uint64_t off, uint32_t len)
{
	struct cb_priv *p = pdk_emu_dev_priv(d);
	uint8_t *m = pdk_emu_bar_mem(d, bar);
	uint64_t twice = 0;

	p->writes++;
	pdk_emu_dev_knob_u64(d, "double", &twice);
	if (off == 0x1000 && len == 4)
		pdk_emu_wr32(m, 0x1004, pdk_emu_rd32(m, 0x1000) * (twice ? 2 : 1));
}

static void cb_client(struct pdk_emu_dev *d, bool up)
{
	struct cb_priv *p = pdk_emu_dev_priv(d);

	if (up)
		p->connects++;
	else
		p->disconnects++;
}

static const struct pdk_emu_model cb_model = {
	.name = "cbdev", .help = "callback test model", .knobs = cb_knobs,
	.priv_size = sizeof(struct cb_priv), .init = cb_init,
	.bar_write = cb_write, .client = cb_client,
};

static void test_custom_model(void **state)
{
	static const struct pdk_emu_knob shadow[] = {{"socket", "", NULL}, {NULL, NULL, NULL}};
	const struct pdk_emu_model bad = {.name = "bad", .init = cb_init, .knobs = shadow};
	struct pdk_vfio_user_region r;
	struct vfio_user_irq_info ii;
	struct pdk_emu_dev *d;
	struct cb_priv *p;
	struct vuc v;
	int fd;

	(void)state;
	assert_int_equal(pdk_emu_model_register(&cb_model), 0);
	assert_int_equal(pdk_emu_model_register(&cb_model), -EEXIST);
	assert_int_equal(pdk_emu_model_register(&bad), -EINVAL);
	assert_ptr_equal(pdk_emu_model_find("cbdev"), &cb_model);
	d = emu_start("cbdev", emu_path("cb.sock"), "double=1");
	p = pdk_emu_dev_priv(d);
	assert_int_equal(vuc_connect(&v, pdk_emu_dev_socket(d)), 0);
	assert_int_equal(vuc_cfg16(&v, PCI_VENDOR_ID), 0x1af4);
	assert_int_not_equal(vuc_cfg_find_cap(&v, PCI_CAP_ID_VNDR), 0);
	assert_int_equal(vuc_cfg_find_cap(&v, PCI_CAP_ID_MSIX), 0);
	assert_int_equal(vuc_irq_info(&v, VFIO_PCI_MSIX_IRQ_INDEX, &ii), 0);
	assert_int_equal(ii.count, 0);
	/* the trapped page is not mappable; writing it runs the callback */
	assert_int_equal(vuc_region_info(&v, 2, &r, &fd), 0);
	assert_true(r.sparse);
	assert_int_equal(r.nr_areas, 1);
	assert_int_equal(r.areas[0].offset, 0);
	assert_int_equal(r.areas[0].size, 0x1000);
	close(fd);
	assert_int_equal(vuc_wr32(&v, 2, 0x1000, 21), 0);
	assert_int_equal(vuc_rd32(&v, 2, 0x1004), 42);
	assert_int_equal(p->writes, 1);
	vuc_close(&v);
	pdk_emu_dev_destroy(d); /* joins the thread: p's counters are settled */
	d = NULL;
}

/* The cpu knob pins the device thread; a CPU that does not exist fails. */
static void test_cpu_knob(void **state)
{
	char err[256];
	struct pdk_emu_dev *d = emu_start("testdev", emu_path("cpu.sock"), "cpu=0");
	struct vuc v;

	(void)state;
	assert_int_equal(vuc_connect(&v, pdk_emu_dev_socket(d)), 0);
	assert_int_equal(vuc_rd32(&v, 0, TESTDEV_REG_ID), TESTDEV_MAGIC);
	vuc_close(&v);
	pdk_emu_dev_destroy(d);
	snprintf(err, sizeof(err), "testdev,socket=%s,cpu=1000", emu_path("cpu.sock"));
	d = pdk_emu_dev_create(err, err, sizeof(err));
	assert_non_null(d);
	assert_int_not_equal(pdk_emu_dev_start(d), 0);
	pdk_emu_dev_destroy(d);
	assert_int_equal(access(emu_path("cpu.sock"), F_OK), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_version, setup, teardown),
		cmocka_unit_test_setup_teardown(test_version_rules, setup, teardown),
		cmocka_unit_test_setup_teardown(test_infos, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_space, setup, teardown),
		cmocka_unit_test_setup_teardown(test_mapped_and_slow, setup, teardown),
		cmocka_unit_test_setup_teardown(test_slow_side_effects, setup, teardown),
		cmocka_unit_test_setup_teardown(test_disconnect_resets, setup, teardown),
		cmocka_unit_test(test_knob_errors),
		cmocka_unit_test_setup_teardown(test_socket_in_use, setup, teardown),
		cmocka_unit_test(test_custom_model),
		cmocka_unit_test(test_cpu_knob),
	};

	return EMU_TEST_MAIN(tests);
}
