/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Devices through the fake kernel: open and close, every refusal with its
 * message (group not viable, wrong driver, no group, no VFIO, in use by
 * another pid), BAR accessors landing in the mapping or the slow path (and
 * counted only then), MSI-X vectors, reset, bus mastering, config space,
 * and the request/error events on the control thread.
 */
#include "pdk_test.h"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <sys/wait.h>

#include <pdk_vfio.h>

#include "fake_kernel.h"

static int setup(void **state)
{
	(void)state;
	fk_start();
	test_log_capture(PDK_LOG_INFO);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	test_log_release();
	fk_stop();
	return 0;
}

static void assert_all_closed(void)
{
	assert_int_equal(fk.dev_fd, -1);
	assert_int_equal(fk.group_fd, -1);
	assert_int_equal(fk.container_fd, -1);
}

static void expect_open_fails(int err, const char *msg)
{
	assert_null(pdk_vfio_dev_open(FK_BDF, 0));
	assert_int_equal(errno, err);
	assert_log_contains(msg);
	assert_all_closed();
}

/* ------------------------------------------------------- open, close -- */

static void test_open_close(void **state)
{
	struct pdk_vfio_dev_info info;
	struct pdk_vfio_region r;
	struct pdk_vfio_dev *d = pdk_vfio_dev_open("03:00.0", 0);

	(void)state;
	assert_non_null(d);
	assert_string_equal(pdk_vfio_dev_name(d), FK_BDF);
	assert_string_equal(pdk_vfio_dev_backend(d), "kernel");
	assert_int_equal(pdk_vfio_dev_info(d, &info), 0);
	assert_int_equal(info.flags, PDK_VFIO_DEV_PCI | PDK_VFIO_DEV_RESET);
	assert_int_equal(info.num_irqs, 5);
	assert_int_equal(info.iommu_group, FK_GROUP);
	assert_int_equal(info.page_size, 4096);
	assert_int_equal(pdk_vfio_dev_region(d, PDK_VFIO_PCI_CONFIG_REGION, &r), 0);
	assert_int_equal(r.size, 4096);
	assert_int_equal(pdk_vfio_dev_region(d, 8, &r), -EINVAL);
	assert_true(fk.iommu_set);
	/* a second open in the same process is refused, not shared */
	assert_null(pdk_vfio_dev_open(FK_BDF, 0));
	assert_int_equal(errno, EBUSY);
	assert_log_contains("0000:03:00.0 is already open in this process");
	pdk_vfio_dev_close(d);
	assert_all_closed();
	assert_false(fk.group_attached);
	pdk_vfio_dev_close(NULL);
}

static void test_config_space(void **state)
{
	struct pdk_vfio_dev *d = pdk_vfio_dev_open(FK_BDF, 0);
	const struct pdk_pci_cfg *cfg;
	struct pdk_pci_id id;

	(void)state;
	assert_non_null(d);
	cfg = pdk_vfio_dev_cfg(d);
	assert_int_equal(cfg->size, 4096);
	assert_int_equal(pdk_pci_id_read(cfg, &id, NULL), 0);
	assert_int_equal(id.class_id, 0x010802);
	assert_int_equal(pdk_pci_cap_find(cfg, PDK_PCI_CAP_ID_MSIX), 0x50);
	assert_int_equal(pdk_pci_ext_cap_find(cfg, PDK_PCI_EXT_CAP_ID_DSN), 0x150);
	pdk_vfio_dev_close(d);
}

static void test_bad_names(void **state)
{
	(void)state;
	assert_null(pdk_vfio_dev_open("eth0", 0));
	assert_int_equal(errno, EINVAL);
	assert_log_contains("'eth0' is neither a PCI address (0000:03:00.0) nor "
			    "vfio-user:<socket path>");
	assert_null(pdk_vfio_dev_open("vfio-user:/nonexistent/nvme0.sock", 0));
	assert_int_equal(errno, ENOENT);
	assert_log_contains("vfio-user:/nonexistent/nvme0.sock: cannot connect: No such file "
			    "or directory (no such socket: start the server");
	assert_null(pdk_vfio_dev_open("0000:09:00.0", 0));
	assert_int_equal(errno, ENODEV);
	assert_log_contains("no PCI device 0000:09:00.0");
}

/* ---------------------------------------------------------- refusals -- */

static void test_group_not_viable(void **state)
{
	(void)state;
	fk.viable = false;
	fk_sysfs_add("0000:03:00.1", 0x8086, 0xa170, 0x040300, "snd_hda_intel", FK_GROUP);
	fk_sysfs_add("0000:03:00.2", 0x8086, 0xa171, 0x0c0500, NULL, FK_GROUP);
	fk_sysfs_add("0000:03:00.3", 0x8086, 0x10d3, 0x020000, "e1000e", FK_GROUP);
	fk_sysfs_add("0000:00:1c.0", 0x8086, 0xa110, 0x060400, "pcieport", FK_GROUP);
	expect_open_fails(EPERM, "IOMMU group 7 of 0000:03:00.0 is not viable: 0000:03:00.1 "
			  "(bound to snd_hda_intel), 0000:03:00.3 (bound to e1000e) must be "
			  "bound to vfio-pci or unbound; bind the whole group with: "
			  "pdk-devbind --bind vfio-pci --group 0000:03:00.0");
}

static void test_wrong_binding(void **state)
{
	(void)state;
	fk_sysfs_add(FK_BDF, 0x1b36, 0x0010, 0x010802, "nvme", FK_GROUP);
	expect_open_fails(ENODEV, "0000:03:00.0 is bound to nvme, not vfio-pci: pdk-devbind "
			  "--bind vfio-pci 0000:03:00.0");
	fk_sysfs_add(FK_BDF, 0x1b36, 0x0010, 0x010802, NULL, FK_GROUP);
	expect_open_fails(ENODEV, "0000:03:00.0 is not bound to any driver, not vfio-pci");
}

static void test_no_group(void **state)
{
	(void)state;
	fk_sysfs_add("0000:04:00.0", 0x1b36, 0x0010, 0x010802, "vfio-pci", -1);
	assert_null(pdk_vfio_dev_open("0000:04:00.0", 0));
	assert_int_equal(errno, ENODEV);
	assert_log_contains("0000:04:00.0 has no IOMMU group: turn the IOMMU on "
			    "(intel_iommu=on or amd_iommu=on on the kernel command line)");
}

static void test_container_refusals(void **state)
{
	(void)state;
	fk.api_version = 1;
	expect_open_fails(EPROTONOSUPPORT, "/dev/vfio/vfio speaks VFIO API version 1, PDK "
			  "speaks 0");
	fk.api_version = VFIO_API_VERSION;
	fk.type1v2 = false;
	expect_open_fails(ENOTSUP, "the kernel's VFIO offers no type1v2 IOMMU");
	fk.type1v2 = true;
	fk.group_open_errno = EBUSY;
	expect_open_fails(EBUSY, "IOMMU group 7 of 0000:03:00.0 is open in another process "
			  "(another PDK or DPDK program, or QEMU): stop it first");
	fk.group_open_errno = EACCES;
	expect_open_fails(EACCES, "cannot open /dev/vfio/7 for 0000:03:00.0: Permission "
			  "denied (run as root, or give your user the group's node)");
	fk.group_open_errno = 0;
	fk.set_iommu_errno = ENODEV;
	expect_open_fails(ENODEV, "VFIO_SET_IOMMU(type1v2) for group 7: No such device");
}

static void test_in_use_by_other_pid(void **state)
{
	char path[512];
	int ready[2], go[2];
	pid_t pid;
	char c;

	(void)state;
	snprintf(path, sizeof(path), "%s/vfio-%s.lock", fk_run_dir(), FK_BDF);
	assert_int_equal(pipe(ready), 0);
	assert_int_equal(pipe(go), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
		int fd = open(path, O_RDWR | O_CREAT, 0644);

		if (fd < 0 || fcntl(fd, F_SETLK, &fl) < 0 || write(ready[1], "r", 1) != 1 ||
		    read(go[0], &c, 1) != 1)
			_exit(1);
		_exit(0);
	}
	assert_int_equal(read(ready[0], &c, 1), 1);
	{
		char msg[1024];

		snprintf(msg, sizeof(msg), "device 0000:03:00.0 is in use by pid %d (lock %s): "
			 "stop that process or use another device", (int)pid, path);
		expect_open_fails(EBUSY, msg);
	}
	assert_int_equal(write(go[1], "g", 1), 1);
	waitpid(pid, NULL, 0);
	/* the holder died: the device is ours */
	pdk_vfio_dev_close(pdk_vfio_dev_open(FK_BDF, 0));
	assert_all_closed();
	close(ready[0]);
	close(ready[1]);
	close(go[0]);
	close(go[1]);
}

/* -------------------------------------------------------------- BARs -- */

static uint64_t slow(struct pdk_vfio_dev *d, int bar, bool reads)
{
	struct pdk_vfio_dev_stats st;

	assert_int_equal(pdk_vfio_dev_stats(d, &st), 0);
	return reads ? st.slow_reads[bar] : st.slow_writes[bar];
}

/* BAR0: registers mapped below 0x2000, MSI-X table and PBA pages (0x2000-
 * 0x3fff) on the slow path. BAR2: mapped whole. */
static void test_bar_accessors(void **state)
{
	struct pdk_vfio_dev *d = pdk_vfio_dev_open(FK_BDF, 0);
	struct pdk_vfio_bar *b0, *b2;

	(void)state;
	assert_non_null(d);
	assert_int_equal(pdk_vfio_dev_map_bars(d), 0);
	assert_int_equal(pdk_vfio_dev_map_bars(d), 0); /* idempotent */
	b0 = pdk_vfio_dev_bar(d, 0);
	b2 = pdk_vfio_dev_bar(d, 2);
	assert_false(b0->whole);
	assert_true(b2->whole);
	/* in the mapping: reaches the device, not counted */
	pdk_vfio_bar_write32(b0, 0x14, 0x00460001);
	assert_int_equal(fk_dev_read32(0, 0x14), 0x00460001);
	fk_dev_write32(0, 0x1c, 0x1);
	assert_int_equal(pdk_vfio_bar_read32(b0, 0x1c), 0x1);
	pdk_vfio_bar_write64(b0, 0x28, 0x1122334455667788ULL);
	assert_int_equal(fk_dev_read32(0, 0x2c), 0x11223344);
	assert_int_equal(slow(d, 0, true) + slow(d, 0, false), 0);
	/* in the PBA page: pread/pwrite, counted */
	fk_dev_write32(0, 0x3000, 0xa5a5a5a5);
	assert_int_equal(pdk_vfio_bar_read32(b0, 0x3000), 0xa5a5a5a5);
	assert_int_equal(pdk_vfio_bar_read16(b0, 0x3002), 0xa5a5);
	assert_int_equal(pdk_vfio_bar_read8(b0, 0x3001), 0xa5);
	assert_int_equal(slow(d, 0, true), 3);
	pdk_vfio_bar_write32(b0, 0x3ffc, 0x12345678);
	pdk_vfio_bar_write16(b0, 0x3ff8, 0xbeef);
	assert_int_equal(fk_dev_read32(0, 0x3ffc), 0x12345678);
	assert_int_equal(fk_dev_read32(0, 0x3ff8) & 0xffff, 0xbeef);
	assert_int_equal(slow(d, 0, false), 2);
	assert_int_equal(pdk_vfio_bar_read64(b0, 0x3ff8), 0x12345678ULL << 32 | 0xbeef);
	/* BAR2 is whole: the inline path, never counted */
	pdk_vfio_bar_write8(b2, 0x1fff, 0x5a);
	assert_int_equal(pdk_vfio_bar_read8(b2, 0x1fff), 0x5a);
	assert_int_equal(slow(d, 2, true) + slow(d, 2, false), 0);
	/* misaligned or outside the BAR: refused, reads all-ones */
	assert_int_equal(pdk_vfio_bar_read32(b0, 0x3002), 0xffffffff);
	assert_log_contains("0000:03:00.0: 4-byte read at 0x3002 of BAR 0 is misaligned or "
			    "outside its 0x4000 bytes");
	assert_int_equal(pdk_vfio_bar_read32(b2, 0x2000), 0xffffffff);
	assert_int_equal(slow(d, 0, true), 4);
	pdk_vfio_dev_close(d);
}

static void test_bar_slow_only(void **state)
{
	struct pdk_vfio_dev *d;
	struct pdk_vfio_bar *b2;

	(void)state;
	fk.regions[2].flags &= ~VFIO_REGION_INFO_FLAG_MMAP;
	d = pdk_vfio_dev_open(FK_BDF, 0);
	assert_non_null(d);
	assert_int_equal(pdk_vfio_dev_map_bars(d), 0);
	b2 = pdk_vfio_dev_bar(d, 2);
	assert_null(b2->addr);
	pdk_vfio_bar_write32(b2, 0x10, 0xcafe);
	assert_int_equal(pdk_vfio_bar_read32(b2, 0x10), 0xcafe);
	assert_int_equal(fk_dev_read32(2, 0x10), 0xcafe);
	assert_int_equal(slow(d, 2, true), 1);
	assert_int_equal(slow(d, 2, false), 1);
	pdk_vfio_dev_close(d);
}

static void test_region_rw(void **state)
{
	struct pdk_vfio_dev *d = pdk_vfio_dev_open(FK_BDF, 0);
	uint32_t v = 0;

	(void)state;
	assert_non_null(d);
	assert_int_equal(pdk_vfio_dev_region_read(d, PDK_VFIO_PCI_CONFIG_REGION, &v, 4, 0), 4);
	assert_int_equal(v, 0x00101b36);
	assert_int_equal(pdk_vfio_dev_region_read(d, 0, &v, 4, 0x4000), -EINVAL);
	assert_int_equal(pdk_vfio_dev_region_write(d, 9, &v, 4, 0), -EINVAL);
	pdk_vfio_dev_close(d);
}

/* ------------------------------------------------- IRQs, reset, master -- */

static void test_msix(void **state)
{
	struct pdk_vfio_irq_info info;
	struct pdk_vfio_dev *d = pdk_vfio_dev_open(FK_BDF, 0);
	int fds[4];
	uint64_t one = 1, got = 0;

	(void)state;
	assert_non_null(d);
	assert_int_equal(pdk_vfio_dev_irq_info(d, PDK_VFIO_PCI_MSIX_IRQ, &info), 0);
	assert_int_equal(info.count, 4);
	assert_true(info.flags & PDK_VFIO_IRQ_NORESIZE);
	assert_int_equal(pdk_vfio_msix_enable(d, 5, fds), -EINVAL);
	assert_log_contains("0000:03:00.0: cannot enable 5 MSI-X vectors: the device has 4");
	assert_int_equal(pdk_vfio_msix_enable(d, 4, fds), 0);
	assert_int_equal(fk.last_irq_index, VFIO_PCI_MSIX_IRQ_INDEX);
	assert_int_equal(fk.last_irq_flags, VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER);
	assert_int_equal(fk.last_irq_count, 4);
	for (int i = 0; i < 4; i++) /* one initialised eventfd per vector */
		assert_int_equal(fk.irq_fds[VFIO_PCI_MSIX_IRQ_INDEX][i], fds[i]);
	assert_int_not_equal(fds[0], fds[3]);
	assert_int_equal(write(fds[2], &one, 8), 8); /* "the device fires vector 2" */
	assert_int_equal(read(fds[2], &got, 8), 8);
	assert_int_equal(got, 1);
	assert_int_equal(pdk_vfio_msix_enable(d, 1, fds), -EBUSY);
	assert_int_equal(pdk_vfio_msix_disable(d), 0);
	assert_int_equal(fk.last_irq_flags, VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER);
	assert_int_equal(fk.last_irq_count, 0);
	assert_int_equal(pdk_vfio_msix_enable(d, 2, fds), 0);
	pdk_vfio_dev_close(d); /* disables them */
	assert_int_equal(fk.irq_fds[VFIO_PCI_MSIX_IRQ_INDEX][0], -1);
}

static void test_reset_and_bus_master(void **state)
{
	struct pdk_vfio_dev *d = pdk_vfio_dev_open(FK_BDF, 0);
	uint16_t cmd;

	(void)state;
	assert_non_null(d);
	assert_int_equal(pdk_vfio_dev_reset(d), 0);
	assert_int_equal(fk.reset_calls, 1);
	assert_int_equal(pdk_vfio_dev_set_bus_master(d, true), 0);
	assert_int_equal(pdk_pci_cfg_read16(pdk_vfio_dev_cfg(d), PDK_PCI_COMMAND, &cmd), 0);
	assert_int_equal(cmd, PDK_PCI_COMMAND_MEMORY | PDK_PCI_COMMAND_MASTER);
	assert_int_equal(pdk_vfio_dev_set_bus_master(d, false), 0);
	assert_int_equal(fk_dev_read32(PDK_VFIO_PCI_CONFIG_REGION, 4) & 0xffff,
			 PDK_PCI_COMMAND_MEMORY);
	fk.master_ro = true;
	assert_int_equal(pdk_vfio_dev_set_bus_master(d, true), -EIO);
	assert_log_contains("0000:03:00.0: cannot turn bus mastering on: the COMMAND bit did "
			    "not stick");
	pdk_vfio_dev_close(d);
	fk.dev_flags &= ~VFIO_DEVICE_FLAGS_RESET;
	d = pdk_vfio_dev_open(FK_BDF, 0);
	assert_int_equal(pdk_vfio_dev_reset(d), -ENOTSUP);
	assert_int_equal(fk.reset_calls, 1);
	pdk_vfio_dev_close(d);
}

/* ------------------------------------------------------------ events -- */

static struct {
	atomic_int n;
	struct pdk_vfio_dev *dev;
	enum pdk_vfio_event ev;
} got;

static void on_event(struct pdk_vfio_dev *dev, enum pdk_vfio_event ev, void *arg)
{
	(void)arg;
	got.dev = dev;
	got.ev = ev;
	atomic_fetch_add(&got.n, 1);
}

static void wait_for(atomic_int *n, int want)
{
	for (int i = 0; i < 2000 && atomic_load(n) < want; i++)
		usleep(1000);
	assert_int_equal(atomic_load(n), want);
}

static atomic_int pipe_hits;

static void on_pipe(int fd, void *arg)
{
	char c;

	(void)arg;
	if (read(fd, &c, 1) == 1)
		atomic_fetch_add(&pipe_hits, 1);
}

static void test_request_and_error_events(void **state)
{
	struct pdk_vfio_dev *d;
	uint64_t one = 1;
	int p[2];

	(void)state;
	atomic_store(&got.n, 0);
	assert_int_equal(pdk_vfio_event_register(on_event, NULL), 0);
	assert_int_equal(pdk_vfio_event_register(on_event, NULL), -EEXIST);
	d = pdk_vfio_dev_open(FK_BDF, 0);
	assert_non_null(d);
	/* the kernel wants the device back (unbind): it signals the request IRQ */
	assert_true(fk.irq_fds[VFIO_PCI_REQ_IRQ_INDEX][0] >= 0);
	assert_int_equal(write(fk.irq_fds[VFIO_PCI_REQ_IRQ_INDEX][0], &one, 8), 8);
	wait_for(&got.n, 1);
	assert_ptr_equal(got.dev, d);
	assert_int_equal(got.ev, PDK_VFIO_EVENT_REQUEST);
	assert_int_equal(write(fk.irq_fds[VFIO_PCI_ERR_IRQ_INDEX][0], &one, 8), 8);
	wait_for(&got.n, 2);
	assert_int_equal(got.ev, PDK_VFIO_EVENT_ERROR);
	assert_string_equal(pdk_vfio_event_str(got.ev), "error");
	/* a driver's own fd on the same thread */
	assert_int_equal(pipe(p), 0);
	assert_int_equal(pdk_vfio_ctl_fd_register(p[0], on_pipe, NULL), 0);
	assert_int_equal(write(p[1], "x", 1), 1);
	wait_for(&pipe_hits, 1);
	assert_int_equal(pdk_vfio_ctl_fd_unregister(p[0]), 0);
	assert_int_equal(pdk_vfio_ctl_fd_unregister(p[0]), -ENOENT);
	close(p[0]);
	close(p[1]);
	pdk_vfio_dev_close(d);
	assert_int_equal(pdk_vfio_event_unregister(on_event, NULL), 0);
	assert_int_equal(pdk_vfio_event_unregister(on_event, NULL), -ENOENT);
	assert_log_contains("0000:03:00.0: the kernel asks for the device back (unbind or "
			    "hot-unplug): close it");
}

static atomic_bool warned;

/* The capture sink, plus a flag the main thread can wait on without
 * reading the log while the control thread writes it. */
static void flag_sink(int level, const char *component, const char *msg, void *arg)
{
	test_log_sink(level, component, msg, arg);
	if (strstr(msg, "no application callback"))
		atomic_store_explicit(&warned, true, memory_order_release);
}

static void test_event_without_callback(void **state)
{
	struct pdk_vfio_dev *d = pdk_vfio_dev_open(FK_BDF, 0);
	uint64_t one = 1;

	(void)state;
	assert_non_null(d);
	pdk_log_set_sink(flag_sink, &test_log_buf);
	assert_int_equal(write(fk.irq_fds[VFIO_PCI_REQ_IRQ_INDEX][0], &one, 8), 8);
	for (int i = 0; i < 2000 && !atomic_load_explicit(&warned, memory_order_acquire); i++)
		usleep(1000);
	pdk_vfio_dev_close(d);
	assert_log_contains("0000:03:00.0: no application callback for request events "
			    "(pdk_vfio_event_register)");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_open_close, setup, teardown),
		cmocka_unit_test_setup_teardown(test_config_space, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bad_names, setup, teardown),
		cmocka_unit_test_setup_teardown(test_group_not_viable, setup, teardown),
		cmocka_unit_test_setup_teardown(test_wrong_binding, setup, teardown),
		cmocka_unit_test_setup_teardown(test_no_group, setup, teardown),
		cmocka_unit_test_setup_teardown(test_container_refusals, setup, teardown),
		cmocka_unit_test_setup_teardown(test_in_use_by_other_pid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bar_accessors, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bar_slow_only, setup, teardown),
		cmocka_unit_test_setup_teardown(test_region_rw, setup, teardown),
		cmocka_unit_test_setup_teardown(test_msix, setup, teardown),
		cmocka_unit_test_setup_teardown(test_reset_and_bus_master, setup, teardown),
		cmocka_unit_test_setup_teardown(test_request_and_error_events, setup, teardown),
		cmocka_unit_test_setup_teardown(test_event_without_callback, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
