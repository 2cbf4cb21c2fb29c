/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lib/pci: config-space accessors and capability walks over a byte buffer
 * (well-formed, looping, truncated, all-ones), MSI-X info, id matching and
 * the driver registry, and the sysfs scan over a fake tree with -a/-b.
 */
#include "pdk_test.h"

#include <pdk_eal.h>
#include <pdk_pci.h>

#include "fake_sysfs.h"

static uint8_t cfgbuf[4096];
static struct pdk_pci_cfg cfg;

static void put16(uint32_t off, uint16_t v)
{
	cfgbuf[off] = (uint8_t)v;
	cfgbuf[off + 1] = (uint8_t)(v >> 8);
}

static void put32(uint32_t off, uint32_t v)
{
	put16(off, (uint16_t)v);
	put16(off + 2, (uint16_t)(v >> 16));
}

/* PM at 0x40 -> MSI-X at 0x50 -> PCIe at 0x70; AER at 0x100 -> id 0 at
 * 0x140 -> DSN at 0x180. */
static int cfg_setup(void **state)
{
	(void)state;
	memset(cfgbuf, 0, sizeof(cfgbuf));
	pdk_pci_cfg_init_buffer(&cfg, cfgbuf, sizeof(cfgbuf));
	put16(PDK_PCI_VENDOR_ID, 0x8086);
	put16(PDK_PCI_DEVICE_ID, 0x10d3);
	put16(PDK_PCI_STATUS, PDK_PCI_STATUS_CAP_LIST);
	put32(PDK_PCI_REVISION_ID, 0x02000003);
	put16(PDK_PCI_SUBSYS_VENDOR_ID, 0x8086);
	put16(PDK_PCI_SUBSYS_ID, 0xa01f);
	cfgbuf[PDK_PCI_CAP_PTR] = 0x40;
	put16(0x40, PDK_PCI_CAP_ID_PM | 0x50 << 8);
	put16(0x50, PDK_PCI_CAP_ID_MSIX | 0x70 << 8);
	put16(0x52, 4);                      /* 5 vectors */
	put32(0x54, 0x3000 | 3);             /* table in BAR3 at 0x3000 */
	put32(0x58, 0x2000 | 3);             /* PBA in BAR3 at 0x2000 */
	put16(0x70, PDK_PCI_CAP_ID_EXP);
	put32(0x100, PDK_PCI_EXT_CAP_ID_ERR | 1u << 16 | 0x140u << 20);
	put32(0x140, 0 | 0x180u << 20);      /* id 0: hidden, follow next */
	put32(0x180, PDK_PCI_EXT_CAP_ID_DSN | 1u << 16);
	return 0;
}

struct seen {
	uint16_t id[600];
	uint32_t off[600];
	int n;
};

static int record(const struct pdk_pci_cfg *c, uint16_t id, uint8_t ver, uint32_t off,
		  void *arg)
{
	struct seen *s = arg;

	(void)c;
	(void)ver;
	if (s->n < 600) {
		s->id[s->n] = id;
		s->off[s->n] = off;
	}
	s->n++;
	return 0;
}

static void test_accessors(void **state)
{
	uint8_t b;
	uint16_t w;
	uint32_t d;

	(void)state;
	assert_int_equal(pdk_pci_cfg_read16(&cfg, 0, &w), 0);
	assert_int_equal(w, 0x8086);
	assert_int_equal(pdk_pci_cfg_read32(&cfg, 0, &d), 0);
	assert_int_equal(d, 0x10d38086);
	assert_int_equal(pdk_pci_cfg_read8(&cfg, 1, &b), 0);
	assert_int_equal(b, 0x80);
	assert_int_equal(pdk_pci_cfg_read16(&cfg, 1, &w), -EINVAL);   /* misaligned */
	assert_int_equal(pdk_pci_cfg_read32(&cfg, 4094, &d), -EINVAL);
	assert_int_equal(pdk_pci_cfg_read32(&cfg, 4096, &d), -EINVAL);
	assert_int_equal(pdk_pci_cfg_write16(&cfg, PDK_PCI_COMMAND, 0x0406), 0);
	assert_int_equal(cfgbuf[4], 0x06);
	assert_int_equal(cfgbuf[5], 0x04);
	cfg.write = NULL;
	assert_int_equal(pdk_pci_cfg_write8(&cfg, 4, 0), -EROFS);
}

static void test_std_walk(void **state)
{
	struct seen s = {.n = 0};

	(void)state;
	assert_int_equal(pdk_pci_cap_foreach(&cfg, record, &s), 3);
	assert_int_equal(s.id[0], PDK_PCI_CAP_ID_PM);
	assert_int_equal(s.off[1], 0x50);
	assert_int_equal(s.id[2], PDK_PCI_CAP_ID_EXP);
	assert_int_equal(pdk_pci_cap_find(&cfg, PDK_PCI_CAP_ID_MSIX), 0x50);
	assert_int_equal(pdk_pci_cap_find(&cfg, PDK_PCI_CAP_ID_MSI), -ENOENT);
	/* the reserved low bits of a pointer are masked, as the spec says */
	cfgbuf[0x41] = 0x53;
	assert_int_equal(pdk_pci_cap_find(&cfg, PDK_PCI_CAP_ID_MSIX), 0x50);
	/* a pointer below 0x40 ends the list */
	cfgbuf[0x51] = 0x3c;
	assert_int_equal(pdk_pci_cap_foreach(&cfg, NULL, NULL), 2);
	/* no capability list bit: nothing */
	put16(PDK_PCI_STATUS, 0);
	assert_int_equal(pdk_pci_cap_foreach(&cfg, NULL, NULL), 0);
}

static void test_std_walk_loop_and_gone(void **state)
{
	(void)state;
	cfgbuf[0x71] = 0x40; /* PCIe points back to PM: a loop */
	assert_int_equal(pdk_pci_cap_foreach(&cfg, NULL, NULL), PDK_PCI_STD_CAP_MAX);
	assert_int_equal(pdk_pci_cap_find(&cfg, PDK_PCI_CAP_ID_MSI), -ENOENT);
	put16(0x70, 0xffff); /* an entry reads all-ones: the device is gone */
	assert_int_equal(pdk_pci_cap_foreach(&cfg, NULL, NULL), -ENODEV);
	memset(cfgbuf, 0xff, sizeof(cfgbuf));
	assert_int_equal(pdk_pci_cap_find(&cfg, PDK_PCI_CAP_ID_MSIX), -ENODEV);
	assert_int_equal(pdk_pci_ext_cap_find(&cfg, PDK_PCI_EXT_CAP_ID_ERR), -ENODEV);
	assert_int_equal(pdk_pci_id_read(&cfg, &(struct pdk_pci_id){0}, NULL), -ENODEV);
}

static void test_ext_walk(void **state)
{
	struct seen s = {.n = 0};

	(void)state;
	/* id 0 is followed, not reported, and does not end the list */
	assert_int_equal(pdk_pci_ext_cap_foreach(&cfg, record, &s), 2);
	assert_int_equal(s.id[0], PDK_PCI_EXT_CAP_ID_ERR);
	assert_int_equal(s.off[1], 0x180);
	assert_int_equal(pdk_pci_ext_cap_find(&cfg, PDK_PCI_EXT_CAP_ID_DSN), 0x180);
	assert_int_equal(pdk_pci_ext_cap_find(&cfg, PDK_PCI_EXT_CAP_ID_SRIOV), -ENOENT);
	/* a loop stops after 480 steps */
	put32(0x180, PDK_PCI_EXT_CAP_ID_DSN | 1u << 16 | 0x100u << 20);
	s.n = 0;
	assert_int_equal(pdk_pci_ext_cap_foreach(&cfg, record, &s), 320); /* 2 of 3 per lap */
	assert_int_equal(pdk_pci_ext_cap_find(&cfg, PDK_PCI_EXT_CAP_ID_SRIOV), -ENOENT);
	/* conventional config space has no extended list; nor does header 0 */
	cfg.size = 256;
	assert_int_equal(pdk_pci_ext_cap_foreach(&cfg, NULL, NULL), 0);
	cfg.size = 4096;
	put32(0x100, 0);
	assert_int_equal(pdk_pci_ext_cap_foreach(&cfg, NULL, NULL), 0);
	put32(0x100, 0xffffffff);
	assert_int_equal(pdk_pci_ext_cap_foreach(&cfg, NULL, NULL), -ENODEV);
	assert_string_equal(pdk_pci_ext_cap_name(PDK_PCI_EXT_CAP_ID_ERR), "AER");
	assert_string_equal(pdk_pci_cap_name(PDK_PCI_CAP_ID_MSIX), "MSI-X");
	assert_string_equal(pdk_pci_cap_name(0x7f), "?");
}

static void test_msix_and_ids(void **state)
{
	struct pdk_pci_msix_info m;
	struct pdk_pci_id id;
	uint8_t rev;

	(void)state;
	assert_int_equal(pdk_pci_msix_info(&cfg, &m), 0);
	assert_int_equal(m.cap_off, 0x50);
	assert_int_equal(m.nr_vectors, 5);
	assert_int_equal(m.table_bar, 3);
	assert_int_equal(m.table_offset, 0x3000);
	assert_int_equal(m.table_size, 80);
	assert_int_equal(m.pba_offset, 0x2000);
	assert_int_equal(m.pba_size, 8);
	put32(0x54, 0x3000 | 6); /* BIR 6 is reserved */
	assert_int_equal(pdk_pci_msix_info(&cfg, &m), -EINVAL);
	assert_int_equal(pdk_pci_id_read(&cfg, &id, &rev), 0);
	assert_int_equal(id.vendor_id, 0x8086);
	assert_int_equal(id.device_id, 0x10d3);
	assert_int_equal(id.subsystem_device_id, 0xa01f);
	assert_int_equal(id.class_id, 0x020000);
	assert_int_equal(rev, 3);
	cfgbuf[0x41] = 0x70; /* skip MSI-X */
	assert_int_equal(pdk_pci_msix_info(&cfg, &m), -ENOENT);
}

/* ------------------------------------------------------------ drivers -- */

static int probe_nop(struct pdk_pci_device *dev)
{
	(void)dev;
	return 0;
}

static const struct pdk_pci_id e1000_ids[] = {
	{PDK_PCI_DEVICE(0x8086, 0x10d3)},
	{0},
};
static const struct pdk_pci_id nvme_ids[] = {
	{PDK_PCI_CLASS(0x010802, 0xffffff)},
	{0},
};
static const struct pdk_pci_driver drv_e1000 = {.name = "e1000", .id_table = e1000_ids,
						.probe = probe_nop};
static const struct pdk_pci_driver drv_nvme = {.name = "nvme", .id_table = nvme_ids,
					       .probe = probe_nop};
PDK_PCI_DRIVER_REGISTER(drv_e1000)
PDK_PCI_DRIVER_REGISTER(drv_nvme)

static void test_match_and_registry(void **state)
{
	struct pdk_pci_device d = {.id = {0x8086, 0x10d3, 0x8086, 0xa01f, 0x020000, 0}};
	const struct pdk_pci_id sub = {0x8086, PDK_PCI_ANY_ID, 0x8086, 0xa01e, 0, 0};
	const struct pdk_pci_driver dup = {.name = "nvme", .id_table = nvme_ids,
					   .probe = probe_nop};

	(void)state;
	assert_ptr_equal(pdk_pci_driver_find(&d), &drv_e1000);
	assert_false(pdk_pci_id_match(&sub, &d.id)); /* subsystem differs */
	d.id = (struct pdk_pci_id){0x144d, 0xa808, 0x144d, 0xa801, 0x010802, 0};
	assert_ptr_equal(pdk_pci_driver_find(&d), &drv_nvme);
	d.id.class_id = 0x010601; /* AHCI: no driver */
	assert_null(pdk_pci_driver_find(&d));
	assert_int_equal(pdk_pci_driver_register(&drv_nvme), 0); /* again: harmless */
	test_log_capture(PDK_LOG_ERR);
	assert_int_equal(pdk_pci_driver_register(&dup), -EEXIST);
	test_log_release();
	assert_log_contains("two PCI drivers are named nvme");
	assert_int_equal(pdk_pci_driver_register(&(struct pdk_pci_driver){.name = "x"}),
			 -EINVAL);
	assert_ptr_equal(pdk_pci_driver_get(1), &drv_nvme);
	assert_null(pdk_pci_driver_get(2));
}

/* -------------------------------------------------------------- sysfs -- */

static int sys_setup(void **state)
{
	(void)state;
	fk_sysfs_create();
	fk_sysfs_add("0000:03:00.0", 0x1b36, 0x0010, 0x010802, "vfio-pci", 7);
	fk_sysfs_add("0000:00:1f.3", 0x8086, 0xa170, 0x040300, "snd_hda_intel", 7);
	fk_sysfs_add("0000:00:1f.4", 0x8086, 0xa123, 0x0c0500, NULL, 7);
	fk_sysfs_add("0000:05:00.0", 0x8086, 0x10d3, 0x020000, "e1000e", -1);
	return 0;
}

static int sys_teardown(void **state)
{
	(void)state;
	pdk_pci_device_list_clear();
	fk_sysfs_destroy();
	return 0;
}

static void test_device_read(void **state)
{
	struct pdk_pci_device d;

	(void)state;
	assert_int_equal(pdk_pci_device_read("03:00.0", &d), 0);
	assert_string_equal(d.name, "0000:03:00.0");
	assert_int_equal(d.addr.bus, 3);
	assert_int_equal(d.id.vendor_id, 0x1b36);
	assert_int_equal(d.id.subsystem_vendor_id, 0x1af4);
	assert_int_equal(d.id.class_id, 0x010802);
	assert_int_equal(d.revision, 2);
	assert_int_equal(d.numa_node, 0);
	assert_string_equal(d.kdriver, "vfio-pci");
	assert_int_equal(d.iommu_group, 7);
	assert_int_equal(pdk_pci_device_read("0000:05:00.0", &d), 0);
	assert_int_equal(d.iommu_group, -1);
	assert_int_equal(pdk_pci_device_read("0000:09:00.0", &d), -ENODEV);
	assert_int_equal(pdk_pci_device_read("nonsense", &d), -EINVAL);
	assert_true(pdk_pci_kdriver_keeps_viable(""));
	assert_true(pdk_pci_kdriver_keeps_viable("vfio-pci"));
	assert_true(pdk_pci_kdriver_keeps_viable("pcieport"));
	assert_false(pdk_pci_kdriver_keeps_viable("snd_hda_intel"));
}

static void test_group_members(void **state)
{
	struct pdk_pci_group_member m[2];

	(void)state;
	assert_int_equal(pdk_pci_group_members(7, m, 2), 3);
	assert_string_equal(m[0].name, "0000:00:1f.3");
	assert_string_equal(m[0].kdriver, "snd_hda_intel");
	assert_string_equal(m[1].kdriver, "");
	assert_int_equal(pdk_pci_group_members(8, m, 2), -ENOENT);
}

static void test_scan_allow_block(void **state)
{
	struct pdk_pci_device *d;

	(void)state;
	assert_int_equal(pdk_pci_scan(), 4); /* no EAL lists: everything */
	d = pdk_pci_device_find("00:1f.3");
	assert_non_null(d);
	assert_false(d->listed);
	assert_ptr_equal(pdk_pci_device_next(NULL)->name, pdk_pci_device_find("0000:00:1f.3")->name);
	assert_int_equal(pdk_pci_scan(), 0); /* no duplicates */
	pdk_pci_device_list_clear();
	assert_null(pdk_pci_device_next(NULL));
	{
		TEST_ARGV(av, "prog", "--no-huge", "-m", "8", "-a", "05:00.0", "-a",
			  "0000:03:00.0");
		assert_true(pdk_eal_init(av_c, av) > 0);
		assert_int_equal(pdk_pci_scan(), 2);
		assert_true(pdk_pci_device_find("0000:05:00.0")->listed);
		assert_null(pdk_pci_device_find("0000:00:1f.4"));
		pdk_eal_cleanup();
	}
	pdk_pci_device_list_clear();
	{
		TEST_ARGV(av, "prog", "--no-huge", "-m", "8", "-b", "0000:03:00.0");
		assert_true(pdk_eal_init(av_c, av) > 0);
		assert_int_equal(pdk_pci_scan(), 3);
		assert_null(pdk_pci_device_find("0000:03:00.0"));
		pdk_eal_cleanup();
	}
	/* vfio-user devices are added by the bus, by name */
	d = pdk_pci_device_add(&(struct pdk_pci_device){.name = "vfio-user:/tmp/x.sock"});
	assert_non_null(d);
	assert_ptr_equal(pdk_pci_device_find("vfio-user:/tmp/x.sock"), d);
	assert_null(pdk_pci_device_add(d));
	assert_int_equal(errno, EEXIST);
}

static void test_scan_no_sysfs(void **state)
{
	(void)state;
	setenv("PDK_SYS_ROOT", "/nonexistent-pdk", 1);
	assert_int_equal(pdk_pci_scan(), 0);
	setenv("PDK_SYS_ROOT", fk_sysfs_root(), 1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_accessors, cfg_setup),
		cmocka_unit_test_setup(test_std_walk, cfg_setup),
		cmocka_unit_test_setup(test_std_walk_loop_and_gone, cfg_setup),
		cmocka_unit_test_setup(test_ext_walk, cfg_setup),
		cmocka_unit_test_setup(test_msix_and_ids, cfg_setup),
		cmocka_unit_test(test_match_and_registry),
		cmocka_unit_test_setup_teardown(test_device_read, sys_setup, sys_teardown),
		cmocka_unit_test_setup_teardown(test_group_members, sys_setup, sys_teardown),
		cmocka_unit_test_setup_teardown(test_scan_allow_block, sys_setup, sys_teardown),
		cmocka_unit_test_setup_teardown(test_scan_no_sysfs, sys_setup, sys_teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
