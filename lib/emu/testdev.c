/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * testdev: see pdk_emu_testdev.h for the register map. The copy engine
 * runs on the device thread: it polls the doorbell in BAR memory (so a
 * mapped write and a REGION_WRITE both start it), moves the bytes through
 * the emulated IOMMU with a bounce buffer, reports faults in STATUS the way
 * a device would, and signals the requested vector.
 */
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "emu_private.h"
#include "pdk_emu_testdev.h"

#define CHUNK (64 * 1024)

struct testdev {
	bool stuck; /* fault: doorbells are taken but never completed */
	uint64_t copy_max;
	uint8_t *bounce;
	uint32_t bar2_reads; /* the BAR2 counters; BAR memory mirrors them */
	uint32_t bar2_writes;
};

static const struct pdk_emu_knob testdev_knobs[] = {
	{"bar0-size", "N: BAR0 size, a power of two >= 16k", "16k"},
	{"copy-max", "N: largest DMA_LEN the engine accepts", "1m"},
	{"trap-db", "0|1: keep the doorbell page out of the mappable areas", "0"},
	{"stuck", "0|1: start with the engine stuck (fault 'stuck')", "0"},
	{NULL, NULL, NULL},
};

static int knob_bool(struct pdk_emu_dev *dev, const char *name, bool *out)
{
	uint64_t v;
	int rc = pdk_emu_dev_knob_u64(dev, name, &v);

	if (rc == 0 && v > 1) {
		pdk_emu_dev_error(dev, "bad value for knob '%s': expected 0 or 1", name);
		rc = -EINVAL;
	}
	if (rc == 0)
		*out = v;
	return rc;
}

static int testdev_knobs_read(struct pdk_emu_dev *dev, struct testdev *td,
			      uint64_t *bar0, bool *trap)
{
	int rc = pdk_emu_dev_knob_u64(dev, "bar0-size", bar0);

	if (rc == 0 && (!PDK_IS_POWER_OF_2(*bar0) || *bar0 < 16384 ||
			*bar0 > (1ull << 30))) {
		pdk_emu_dev_error(dev, "bad value for knob 'bar0-size': expected a "
			     "power of two in 16k..1g");
		rc = -EINVAL;
	}
	if (rc == 0)
		rc = pdk_emu_dev_knob_u64(dev, "copy-max", &td->copy_max);
	if (rc == 0 && (td->copy_max == 0 || td->copy_max > (1ull << 30))) {
		pdk_emu_dev_error(dev, "bad value for knob 'copy-max': expected 1..1g");
		rc = -EINVAL;
	}
	if (rc == 0)
		rc = knob_bool(dev, "trap-db", trap);
	if (rc == 0)
		rc = knob_bool(dev, "stuck", &td->stuck);
	return rc;
}

static int testdev_init(struct pdk_emu_dev *dev)
{
	static const struct pdk_emu_pci_ids ids = {
		.vendor = TESTDEV_VENDOR, .device = TESTDEV_DEVICE,
		.subsys_vendor = TESTDEV_VENDOR, .subsys = TESTDEV_DEVICE,
		.class_code = TESTDEV_CLASS, .revision = 1};
	struct testdev *td = pdk_emu_dev_priv(dev);
	uint64_t bar0;
	bool trap = false;
	int rc = testdev_knobs_read(dev, td, &bar0, &trap);

	if (rc)
		return rc;
	pdk_emu_dev_set_ids(dev, &ids);
	rc = pdk_emu_dev_add_bar(dev, 0, bar0, PDK_EMU_BAR_MEM64);
	if (rc == 0)
		rc = pdk_emu_dev_add_bar(dev, TESTDEV_BAR2, 4096, PDK_EMU_BAR_NO_MMAP);
	if (rc == 0 && trap)
		rc = pdk_emu_dev_trap(dev, 0, TESTDEV_REG_DOORBELL, 4096);
	if (rc == 0)
		rc = pdk_emu_dev_set_msix(dev, 4, 0, TESTDEV_MSIX_SHARED_OFF,
					  TESTDEV_MSIX_OWN_BAR);
	td->bounce = rc ? NULL : malloc(CHUNK);
	if (rc == 0 && td->bounce == NULL)
		rc = -ENOMEM;
	return rc;
}

static void testdev_fini(struct pdk_emu_dev *dev)
{
	struct testdev *td = pdk_emu_dev_priv(dev);

	free(td->bounce);
}

/*
 * Read-only registers live in memory a client can write: put them back
 * after a slow-path write (a mapped write sticks until then, which is
 * the price of registers in shared memory).
 */
static void publish_ro(struct pdk_emu_dev *dev)
{
	struct testdev *td = pdk_emu_dev_priv(dev);
	uint8_t *r = pdk_emu_bar_mem(dev, 0), *r2 = pdk_emu_bar_mem(dev, TESTDEV_BAR2);

	pdk_emu_wr32(r, TESTDEV_REG_ID, TESTDEV_MAGIC);
	pdk_emu_wr32(r, TESTDEV_REG_VECTORS, pdk_emu_msix_vectors(dev));
	pdk_emu_wr32(r2, TESTDEV_BAR2_READS, td->bar2_reads);
	pdk_emu_wr32(r2, TESTDEV_BAR2_WRITES, td->bar2_writes);
}

static void testdev_reset(struct pdk_emu_dev *dev)
{
	struct testdev *td = pdk_emu_dev_priv(dev);

	td->bar2_reads = td->bar2_writes = 0;
	publish_ro(dev);
	pdk_emu_wr32(pdk_emu_bar_mem(dev, 0), TESTDEV_REG_DMA_VEC, ~0u);
}

/* A DMA error as the STATUS bit a real engine would report. */
static uint32_t error_bit(int err)
{
	switch (err) {
	case -EFAULT:
		return TESTDEV_ST_ERR_FAULT;
	case -EACCES:
		return TESTDEV_ST_ERR_PERM;
	case -EXDEV:
		return TESTDEV_ST_ERR_BAR;
	case -EPERM:
		return TESTDEV_ST_ERR_BM;
	default:
		return TESTDEV_ST_ERR_GONE;
	}
}

/*
 * Copy len bytes src -> dst; 0 or a STATUS error bit (fault IOVA noted).
 * Zero-copy when both ranges are plainly mapped, else through the bounce
 * buffer (fd-less memory, faults).
 */
static uint32_t copy(struct pdk_emu_dev *dev, struct testdev *td, uint64_t src,
		     uint64_t dst, uint64_t len)
{
	uint8_t *r = pdk_emu_bar_mem(dev, 0);
	const void *s = pdk_emu_dma_ptr(dev, src, len, false);
	void *d = s ? pdk_emu_dma_ptr(dev, dst, len, true) : NULL;

	if (s && d) {
		memmove(d, s, len);
		return 0;
	}

	for (uint64_t done = 0; done < len; done += CHUNK) {
		size_t n = (size_t)PDK_MIN((uint64_t)CHUNK, len - done);
		int rc = pdk_emu_dma_read(dev, src + done, td->bounce, n);
		uint64_t at = src + done;

		if (rc == 0) {
			rc = pdk_emu_dma_write(dev, dst + done, td->bounce, n);
			at = dst + done;
		}
		if (rc) {
			pdk_emu_wr64(r, TESTDEV_REG_FAULT_IOVA,
				     rc == -EFAULT ? pdk_emu_dma_fault_iova(dev) : at);
			return error_bit(rc);
		}
	}
	return 0;
}

static int testdev_poll(struct pdk_emu_dev *dev)
{
	struct testdev *td = pdk_emu_dev_priv(dev);
	uint8_t *r = pdk_emu_bar_mem(dev, 0);
	uint32_t st, vec;
	uint64_t len;

	if (pdk_emu_xchg32(r, TESTDEV_REG_DOORBELL, 0) == 0)
		return 0;
	pdk_emu_wr32(r, TESTDEV_REG_STATUS, TESTDEV_ST_BUSY);
	if (td->stuck)
		return 1; /* taken, never completed */
	len = pdk_emu_rd32(r, TESTDEV_REG_DMA_LEN);
	if (len == 0 || len > td->copy_max)
		st = TESTDEV_ST_ERR_LEN;
	else
		st = copy(dev, td, pdk_emu_rd64(r, TESTDEV_REG_DMA_SRC),
			  pdk_emu_rd64(r, TESTDEV_REG_DMA_DST), len);
	pdk_emu_wr32(r, TESTDEV_REG_DONE_COUNT,
		     pdk_emu_rd32(r, TESTDEV_REG_DONE_COUNT) + 1);
	/* STATUS last: a driver that sees DONE sees the rest */
	pdk_emu_wr32(r, TESTDEV_REG_STATUS, TESTDEV_ST_DONE | st);
	vec = pdk_emu_rd32(r, TESTDEV_REG_DMA_VEC);
	if (vec != ~0u)
		pdk_emu_irq_raise(dev, vec);
	return 1;
}

/* A slow read of BAR2's first register counts itself (a side effect). */
static void testdev_bar_read(struct pdk_emu_dev *dev, unsigned bar, uint64_t off,
			     uint32_t len)
{
	struct testdev *td = pdk_emu_dev_priv(dev);

	if (bar == TESTDEV_BAR2 && off <= TESTDEV_BAR2_READS &&
	    off + len > TESTDEV_BAR2_READS) {
		td->bar2_reads++;
		publish_ro(dev);
	}
}

static void testdev_bar_write(struct pdk_emu_dev *dev, unsigned bar,
			      uint64_t off, uint32_t len)
{
	struct testdev *td = pdk_emu_dev_priv(dev);

	if (bar == TESTDEV_BAR2 && off <= TESTDEV_BAR2_ECHO &&
	    off + len > TESTDEV_BAR2_ECHO)
		td->bar2_writes++;
	publish_ro(dev);
	/* a trapped doorbell is acted upon before the write completes */
	if (bar == 0 && off <= TESTDEV_REG_DOORBELL && off + len > TESTDEV_REG_DOORBELL)
		testdev_poll(dev);
}

static int testdev_inject(struct pdk_emu_dev *dev, const char *fault)
{
	struct testdev *td = pdk_emu_dev_priv(dev);

	if (strcmp(fault, "stuck") == 0)
		td->stuck = true;
	else if (strcmp(fault, "unstuck") == 0)
		td->stuck = false;
	else if (strcmp(fault, "error-irq") == 0)
		return pdk_emu_irq_error(dev) == 0 ? 0 : -ENOENT;
	else
		return -EINVAL;
	return 0;
}

const struct pdk_emu_model emu_model_testdev = {
	.name = "testdev",
	.help = "test device: scratch registers, DMA copy engine, MSI-X "
		"(faults: stuck, unstuck, error-irq)",
	.knobs = testdev_knobs,
	.priv_size = sizeof(struct testdev),
	.init = testdev_init,
	.fini = testdev_fini,
	.reset = testdev_reset,
	.poll = testdev_poll,
	.bar_read = testdev_bar_read,
	.bar_write = testdev_bar_write,
	.inject = testdev_inject,
};
