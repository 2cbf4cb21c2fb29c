/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The NVMe model's PCI face and controller registers: identity and BAR
 * layout, CAP/VS, read-only registers kept read-only, the enable /
 * disable / shutdown state machine and its timing, a bad enable turning
 * into CFS, resets from the vfio-user side, Bus Master gating, and knobs
 * refused with their names.
 */
#include "nvme_test.h"

#include <linux/pci_regs.h>

#define CFG VFIO_PCI_CONFIG_REGION_INDEX

static struct nt T;

static int setup(void **state)
{
	(void)state;
	nt_open(&T, emu_path("ctrl.sock"), "qdepth=256");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	nt_close(&T);
	return 0;
}

static uint32_t cfg32(uint64_t off)
{
	uint32_t v = 0;

	assert_int_equal(vuc_read(&T.c, CFG, off, &v, 4), 0);
	return v;
}

static void test_pci_identity(void **state)
{
	unsigned msix;
	struct pdk_vfio_user_region r;
	int fd;

	(void)state;
	assert_int_equal(cfg32(PCI_VENDOR_ID),
			 PDK_EMU_NVME_DEVICE << 16 | PDK_EMU_NVME_VENDOR);
	assert_int_equal(cfg32(PCI_CLASS_REVISION) >> 8, 0x010802);
	assert_int_equal(vuc_region_info(&T.c, 0, &r, &fd), 0);
	close(fd);
	assert_int_equal(r.info.size, 0x4000);
	assert_true(cfg32(PCI_BASE_ADDRESS_0) & PCI_BASE_ADDRESS_MEM_TYPE_64);
	/* MSI-X in BAR0 after the doorbell page, vectors from the knob */
	msix = vuc_cfg_find_cap(&T.c, PCI_CAP_ID_MSIX);
	assert_true(msix != 0);
	assert_int_equal((vuc_cfg16(&T.c, msix + PCI_MSIX_FLAGS) & PCI_MSIX_FLAGS_QSIZE) + 1,
			 NT_NVEC);
	assert_int_equal(cfg32(msix + PCI_MSIX_TABLE), PDK_EMU_NVME_MSIX_SHARED_OFF);
}

static void test_registers(void **state)
{
	uint64_t cap = nt_reg64(&T, PDK_NVME_REG_CAP);

	(void)state;
	assert_int_equal(PDK_NVME_CAP_MQES(cap), 255);
	assert_int_equal(PDK_NVME_CAP_CQR(cap), 1);
	assert_int_equal(PDK_NVME_CAP_DSTRD(cap), 0);
	assert_int_equal(PDK_NVME_CAP_CSS(cap) & PDK_NVME_CAP_CSS_NVM, 1);
	assert_int_equal(PDK_NVME_CAP_MPSMIN(cap), 0);
	assert_int_equal(PDK_NVME_CAP_MPSMAX(cap), 4);
	assert_true(PDK_NVME_CAP_TO(cap) >= 1);
	assert_int_equal(nt_reg32(&T, PDK_NVME_REG_VS), 0x00010400);
	assert_int_equal(nt_reg32(&T, PDK_NVME_REG_CSTS), 0);
	/* the host cannot change read-only registers, mapped or not */
	pdk_emu_wr64(T.bar, PDK_NVME_REG_CAP, 0);
	nt_wreg32(&T, PDK_NVME_REG_VS, 0x1234);
	nt_wreg32(&T, PDK_NVME_REG_CSTS, PDK_NVME_CSTS_RDY);
	emu_wait_reg(&T.c, 0, PDK_NVME_REG_VS, ~0u, 0x00010400);
	assert_int_equal(nt_reg64(&T, PDK_NVME_REG_CAP), cap);
	assert_int_equal(nt_reg32(&T, PDK_NVME_REG_CSTS), 0);
	assert_int_equal(vuc_wr32(&T.c, 0, PDK_NVME_REG_CSTS, 0xff), 0);
	assert_int_equal(vuc_rd32(&T.c, 0, PDK_NVME_REG_CSTS), 0);
}

static void identify_ok(void)
{
	void *d;

	assert_int_equal(nt_identify(&T, PDK_NVME_CNS_CTRLR, 0, &d), NT_OK);
}

/* RDY follows EN only after ready-us, and back. */
static void test_enable_timing(void **state)
{
	int64_t t0;

	(void)state;
	nt_close(&T);
	nt_open(&T, emu_path("ctrl.sock"), "ready-us=30000");
	t0 = emu_test_ms();
	nt_enable(&T);
	assert_true(emu_test_ms() - t0 >= 25);
	identify_ok();
	t0 = emu_test_ms();
	nt_wreg32(&T, PDK_NVME_REG_CC, 0);
	emu_sleep_ms(5);
	assert_int_equal(nt_reg32(&T, PDK_NVME_REG_CSTS) & PDK_NVME_CSTS_RDY,
			 PDK_NVME_CSTS_RDY);
	nt_wait_csts(&T, PDK_NVME_CSTS_RDY, 0);
	assert_true(emu_test_ms() - t0 >= 25);
}

/* Disable and enable again: a fresh admin queue works, several times. */
static void test_enable_cycles(void **state)
{
	(void)state;
	for (int i = 0; i < 5; i++) {
		nt_enable(&T);
		identify_ok();
		identify_ok();
		nt_disable(&T);
	}
	assert_int_equal(nt_stats(&T).ctrl_resets, 5);
}

static void test_shutdown(void **state)
{
	struct pdk_nvme_cmd cmd = {.opc = PDK_NVME_OPC_IDENTIFY, .cdw10 = 1};
	uint32_t cc;

	(void)state;
	nt_enable(&T);
	cc = nt_reg32(&T, PDK_NVME_REG_CC);
	nt_wreg32(&T, PDK_NVME_REG_CC, cc | PDK_NVME_CC_SHN_NORMAL);
	nt_wait_csts(&T, PDK_NVME_CSTS_SHST_MASK, PDK_NVME_CSTS_SHST_DONE);
	assert_int_equal(nt_reg32(&T, PDK_NVME_REG_CSTS) & PDK_NVME_CSTS_RDY,
			 PDK_NVME_CSTS_RDY);
	/* after a shutdown nothing runs until a reset */
	cmd.prp1 = nt_alloc(&T, 4096, NULL);
	nt_submit(&T, &T.admin, &cmd);
	assert_int_equal(nt_reap(&T, &T.admin, NULL, 50), -ETIMEDOUT);
	nt_disable(&T);
	assert_int_equal(nt_reg32(&T, PDK_NVME_REG_CSTS), 0);
	nt_enable(&T);
	identify_ok();
	assert_int_equal(nt_stats(&T).shutdowns, 1);
}

/* Enable with settings the controller cannot take: CFS, until a reset. */
static void try_enable(uint32_t aqa, uint64_t asq, uint32_t cc_extra)
{
	nt_wreg32(&T, PDK_NVME_REG_AQA, aqa);
	pdk_emu_wr64(T.bar, PDK_NVME_REG_ASQ, asq);
	pdk_emu_wr64(T.bar, PDK_NVME_REG_ACQ, NT_IOVA + 0x10000);
	nt_wreg32(&T, PDK_NVME_REG_CC, PDK_NVME_CC_EN | cc_extra);
	nt_wait_csts(&T, PDK_NVME_CSTS_CFS, PDK_NVME_CSTS_CFS);
	assert_int_equal(nt_reg32(&T, PDK_NVME_REG_CSTS) & PDK_NVME_CSTS_RDY, 0);
	nt_wreg32(&T, PDK_NVME_REG_CC, 0);
	nt_wait_csts(&T, ~0u, 0);
}

static void test_enable_invalid(void **state)
{
	const uint32_t aqa = PDK_NVME_AQA(16, 16);

	(void)state;
	try_enable(aqa, NT_IOVA + 0x800, 0);                      /* misaligned ASQ */
	try_enable(aqa, 0, 0);                                    /* no ASQ */
	try_enable(0, NT_IOVA, 0);                                /* 1-entry queues */
	try_enable(aqa, NT_IOVA, 5u << PDK_NVME_CC_MPS_SHIFT);    /* 128 KiB pages */
	try_enable(aqa, NT_IOVA, 1u << PDK_NVME_CC_CSS_SHIFT);    /* command set */
	try_enable(aqa, NT_IOVA, 1u << PDK_NVME_CC_AMS_SHIFT);    /* arbitration */
	nt_enable(&T);
	identify_ok();
}

/* DEVICE_RESET and a new client find a controller fresh from reset. */
static void test_function_reset(void **state)
{
	(void)state;
	nt_enable(&T);
	assert_int_equal(vuc_reset(&T.c), 0);
	assert_int_equal(nt_reg32(&T, PDK_NVME_REG_CSTS), 0);
	assert_int_equal(nt_reg32(&T, PDK_NVME_REG_CC), 0);
	nt_enable(&T);
	identify_ok();
	nt_disconnect(&T);
	nt_connect(&T);
	assert_int_equal(nt_reg32(&T, PDK_NVME_REG_CSTS), 0);
	nt_enable(&T);
	identify_ok();
}

/* Without Bus Master the controller reads no command; with it, it does. */
static void test_bus_master(void **state)
{
	struct pdk_nvme_cmd cmd = {.opc = PDK_NVME_OPC_IDENTIFY, .cdw10 = 1};
	struct pdk_nvme_cpl e;
	uint8_t *data;

	(void)state;
	nt_enable(&T);
	cmd.prp1 = nt_alloc(&T, 4096, (void **)&data);
	assert_int_equal(vuc_bus_master(&T.c, false), 0);
	nt_submit(&T, &T.admin, &cmd);
	assert_int_equal(nt_reap(&T, &T.admin, NULL, 50), -ETIMEDOUT);
	assert_int_equal(data[0], 0);
	assert_int_equal(vuc_bus_master(&T.c, true), 0);
	assert_int_equal(nt_reap(&T, &T.admin, &e, NT_TIMEOUT_MS), 0);
	assert_int_equal(e.status & 0xfffe, NT_OK);
	assert_int_equal(data[0], PDK_EMU_NVME_VENDOR & 0xff);
}

static void bad_knob(const char *knobs, const char *name)
{
	char spec[512], err[1024];
	struct pdk_emu_dev *d;

	snprintf(spec, sizeof(spec), "nvme,socket=%s,%s", emu_path("bad.sock"), knobs);
	d = pdk_emu_dev_create(spec, err, sizeof(err));
	if (d)
		pdk_emu_dev_destroy(d);
	assert_null(d);
	if (strstr(err, name) == NULL)
		fail_msg("'%s': error '%s' does not name '%s'", knobs, err, name);
}

static void test_knob_errors(void **state)
{
	(void)state;
	bad_knob("queues=0", "'queues'");
	bad_knob("queues=512", "'queues'");
	bad_knob("qdepth=1", "'qdepth'");
	bad_knob("qdepth=65537", "'qdepth'");
	bad_knob("ns=0", "'ns'");
	bad_knob("ns-size=1000", "'ns-size'");
	bad_knob("lba=1024", "'lba'");
	bad_knob("lba=4096,ns-size=6k", "'ns-size'");
	bad_knob("mdts=13", "'mdts'");
	bad_knob("latency-us=x", "'latency-us'");
	bad_knob("ready-us=6000000", "'ready-us'");
	bad_knob("serial=123456789012345678901", "'serial'");
	bad_knob("model=", "'model'");
	bad_knob("shadow-db=2", "'shadow-db'");
	bad_knob("file=/nonexistent/dir/ns.img", "'file'");
	bad_knob("cfs-at=-1", "'cfs-at'");
	bad_knob("stuck-opc=256", "'stuck-opc'");
	bad_knob("stuck-abort=3", "'stuck-abort'");
	bad_knob("cpl-dup-cid=1x", "'cpl-dup-cid'");
	bad_knob("queuez=1", "'queuez'");
	bad_knob("fault=cfs-at=1,fault=cfs", "'fault'");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_pci_identity, setup, teardown),
		cmocka_unit_test_setup_teardown(test_registers, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enable_timing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enable_cycles, setup, teardown),
		cmocka_unit_test_setup_teardown(test_shutdown, setup, teardown),
		cmocka_unit_test_setup_teardown(test_enable_invalid, setup, teardown),
		cmocka_unit_test_setup_teardown(test_function_reset, setup, teardown),
		cmocka_unit_test_setup_teardown(test_bus_master, setup, teardown),
		cmocka_unit_test(test_knob_errors),
	};

	return NT_MAIN(tests);
}
