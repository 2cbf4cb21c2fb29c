/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The PCI bus in pdk_eal_init, over a fake sysfs and the fake kernel: a
 * matching device bound to vfio-pci is opened, mapped and probed; one bound
 * to a host driver is skipped with the pdk-devbind fix, or fails init when
 * named with -a; so do -a devices without a driver, failing probes and
 * vfio-user devices whose server is not there (the emu suite runs them
 * against pdk-emud). Cleanup removes and closes.
 */
#include "pdk_test.h"

#include <pdk_bus.h>
#include <pdk_eal.h>
#include <pdk_vfio.h>

#include "fake_kernel.h"

extern struct pdk_bus vfio_pci_bus;

static struct {
	int probes, removes;
	bool mapped, master, dma;
	int rc;
	struct pdk_pci_device *dev;
} t;

static int nvme_probe(struct pdk_pci_device *dev)
{
	uint16_t cmd = 0;

	t.probes++;
	t.dev = dev;
	t.mapped = pdk_vfio_dev_bar(dev->vdev, 0)->addr != NULL;
	pdk_pci_cfg_read16(pdk_vfio_dev_cfg(dev->vdev), PDK_PCI_COMMAND, &cmd);
	t.master = cmd & PDK_PCI_COMMAND_MASTER;
	t.dma = fk.nr_maps == 1;
	dev->driver_data = &t;
	return t.rc;
}

static void nvme_remove(struct pdk_pci_device *dev)
{
	assert_ptr_equal(dev->driver_data, &t);
	t.removes++;
}

static int net_probe(struct pdk_pci_device *dev)
{
	(void)dev;
	fail_msg("a device bound to e1000e must never reach a PDK driver");
	return -1;
}

static const struct pdk_pci_id nvme_ids[] = {{PDK_PCI_CLASS(0x010802, 0xffffff)}, {0}};
static const struct pdk_pci_id net_ids[] = {{PDK_PCI_DEVICE(0x8086, 0x10d3)}, {0}};
static struct pdk_pci_driver drv_nvme = {.name = "test-nvme", .id_table = nvme_ids,
					 .probe = nvme_probe, .remove = nvme_remove};
static const struct pdk_pci_driver drv_net = {.name = "test-net", .id_table = net_ids,
					      .probe = net_probe};
PDK_PCI_DRIVER_REGISTER(drv_nvme)
PDK_PCI_DRIVER_REGISTER(drv_net)

static int setup(void **state)
{
	(void)state;
	memset(&t, 0, sizeof(t));
	fk_start();
	fk_sysfs_add("0000:05:00.0", 0x8086, 0x10d3, 0x020000, "e1000e", 9);
	fk_sysfs_add("0000:06:00.0", 0x1234, 0x5678, 0xff0000, "vfio-pci", 10);
	test_log_capture(PDK_LOG_NOTICE);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	test_log_release();
	fk_stop();
	return 0;
}

#define EAL_ARGS "prog", "-l", "0", "--no-huge", "-m", "8"

static void test_probe_and_cleanup(void **state)
{
	TEST_ARGV(av, EAL_ARGS);

	(void)state;
	assert_ptr_equal(pdk_bus_find("pci"), &vfio_pci_bus);
	assert_true(pdk_eal_init(av_c, av) > 0);
	assert_int_equal(t.probes, 1);
	assert_string_equal(t.dev->name, FK_BDF);
	assert_non_null(t.dev->vdev);
	assert_ptr_equal(t.dev->driver, &drv_nvme);
	assert_true(t.mapped);
	assert_true(t.master);
	assert_true(t.dma);
	assert_int_equal(fk.reset_calls, 0); /* not asked for */
	assert_log_contains("skipping 0000:05:00.0: it is bound to e1000e, not vfio-pci; to "
			    "use it: pdk-devbind --bind vfio-pci 0000:05:00.0");
	pdk_eal_cleanup();
	assert_int_equal(t.removes, 1);
	assert_int_equal(fk.dev_fd, -1);
	assert_int_equal(fk.container_fd, -1);
	assert_int_equal(fk.nr_maps, 0);
	assert_null(pdk_pci_device_next(NULL));
}

static void test_reset_flag(void **state)
{
	TEST_ARGV(av, EAL_ARGS, "-a", "03:00.0");

	(void)state;
	drv_nvme.flags = PDK_PCI_DRV_RESET;
	assert_true(pdk_eal_init(av_c, av) > 0);
	drv_nvme.flags = 0;
	assert_int_equal(fk.reset_calls, 1);
	assert_int_equal(t.probes, 1);
	assert_true(t.dev->listed);
	pdk_eal_cleanup();
}

static void test_listed_wrong_driver_fails(void **state)
{
	TEST_ARGV(av, EAL_ARGS, "-a", "0000:05:00.0");

	(void)state;
	assert_int_equal(pdk_eal_init(av_c, av), -ENODEV);
	assert_log_contains("cannot use 0000:05:00.0: it is bound to e1000e, not vfio-pci; "
			    "to use it: pdk-devbind --bind vfio-pci 0000:05:00.0");
	assert_str_contains(pdk_eal_last_error(), "bus pci: probe failed");
	assert_int_equal(t.probes, 0);
}

static void test_listed_no_driver_fails(void **state)
{
	TEST_ARGV(av, EAL_ARGS, "-a", "0000:06:00.0");

	(void)state;
	assert_int_equal(pdk_eal_init(av_c, av), -ENODEV);
	assert_log_contains("no PDK driver matches 0000:06:00.0 (vendor 1234 device 5678 class "
			    "ff0000); drivers in this program: test-");
	assert_log_contains("test-nvme");
	assert_log_contains("test-net");
}

static void test_listed_probe_fails(void **state)
{
	TEST_ARGV(av, EAL_ARGS, "-a", "0000:03:00.0");

	(void)state;
	t.rc = -EIO;
	assert_int_equal(pdk_eal_init(av_c, av), -EIO);
	assert_log_contains("driver test-nvme failed to probe 0000:03:00.0: Input/output error");
	assert_int_equal(fk.container_fd, -1); /* closed again */
	assert_int_equal(t.removes, 0);
}

static void test_unlisted_failure_skipped(void **state)
{
	TEST_ARGV(av, EAL_ARGS);

	(void)state;
	fk.viable = false;
	assert_true(pdk_eal_init(av_c, av) > 0);
	assert_int_equal(t.probes, 0);
	assert_log_contains("IOMMU group 7 of 0000:03:00.0 is not viable");
	assert_log_contains("0000:03:00.0 skipped: Operation not permitted");
	pdk_eal_cleanup();
}

static void test_vfio_user_listed(void **state)
{
	TEST_ARGV(av, EAL_ARGS, "--no-pci", "-a", "vfio-user:/nonexistent/pdk-test.sock");

	(void)state;
	assert_int_equal(pdk_eal_init(av_c, av), -ENOENT);
	assert_log_contains("vfio-user:/nonexistent/pdk-test.sock: cannot connect: No such "
			    "file or directory (no such socket");
	assert_int_equal(t.probes, 0);
}

static void test_no_pci(void **state)
{
	TEST_ARGV(av, EAL_ARGS, "--no-pci");

	(void)state;
	assert_true(pdk_eal_init(av_c, av) > 0);
	assert_null(pdk_pci_device_next(NULL));
	assert_int_equal(t.probes, 0);
	pdk_eal_cleanup();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_probe_and_cleanup, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_flag, setup, teardown),
		cmocka_unit_test_setup_teardown(test_listed_wrong_driver_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_listed_no_driver_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_listed_probe_fails, setup, teardown),
		cmocka_unit_test_setup_teardown(test_unlisted_failure_skipped, setup, teardown),
		cmocka_unit_test_setup_teardown(test_vfio_user_listed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_pci, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
