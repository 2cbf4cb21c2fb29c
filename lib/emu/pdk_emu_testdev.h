/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * "testdev", the small device model that proves the emulation framework
 * end to end: scratch registers, a DMA copy engine started by a doorbell,
 * an MSI-X vector on completion, and a slow-path-only BAR with side
 * effects. Register map for drivers and tests.
 *
 * BAR0 (64-bit, `bar0-size`, default 16 KiB):
 *   page 0   control registers below; with msix=shared the MSI-X table
 *            sits at 0x800 of this page and the PBA right after it
 *   page 1   the doorbell (polled by the device thread)
 *   page 2+  SRAM: plain read/write memory
 * BAR2 (32-bit, 4 KiB, never mappable): registers with side effects.
 * BAR4: the MSI-X table and PBA with msix=own.
 */
#ifndef PDK_EMU_TESTDEV_H
#define PDK_EMU_TESTDEV_H

#include <stdint.h>

#define TESTDEV_VENDOR 0x1234
#define TESTDEV_DEVICE 0x7e57
#define TESTDEV_CLASS 0xff0000 /* unassigned class */
#define TESTDEV_MAGIC 0x7e57de01u

/* BAR0, page 0 */
#define TESTDEV_REG_ID 0x000         /* RO: TESTDEV_MAGIC */
#define TESTDEV_REG_VECTORS 0x004    /* RO: MSI-X vectors */
#define TESTDEV_REG_SCRATCH 0x010    /* RW: 4 x 64-bit scratch */
#define TESTDEV_SCRATCH_NUM 4
#define TESTDEV_REG_DMA_SRC 0x040    /* 64-bit source IOVA */
#define TESTDEV_REG_DMA_DST 0x048    /* 64-bit destination IOVA */
#define TESTDEV_REG_DMA_LEN 0x050    /* bytes (1..copy-max) */
#define TESTDEV_REG_DMA_VEC 0x054    /* vector on completion, ~0 = none */
#define TESTDEV_REG_STATUS 0x058     /* TESTDEV_ST_* of the last request */
#define TESTDEV_REG_DONE_COUNT 0x05c /* completed requests */
#define TESTDEV_REG_FAULT_IOVA 0x060 /* 64-bit: where the last fault hit */
#define TESTDEV_MSIX_SHARED_OFF 0x800
#define TESTDEV_MSIX_OWN_BAR 4

/* BAR0, page 1: write any non-zero value to start a copy. */
#define TESTDEV_REG_DOORBELL 0x1000
#define TESTDEV_SRAM_OFF 0x2000

/* STATUS bits */
#define TESTDEV_ST_BUSY (1u << 0)
#define TESTDEV_ST_DONE (1u << 1)
#define TESTDEV_ST_ERR_FAULT (1u << 8) /* IOVA not mapped: IOMMU fault */
#define TESTDEV_ST_ERR_PERM (1u << 9)  /* mapping lacks read/write permission */
#define TESTDEV_ST_ERR_BAR (1u << 10)  /* target was the device's own BAR */
#define TESTDEV_ST_ERR_BM (1u << 11)   /* bus master disabled */
#define TESTDEV_ST_ERR_LEN (1u << 12)  /* length 0 or over copy-max */
#define TESTDEV_ST_ERR_GONE (1u << 13) /* client gone mid-transfer */
#define TESTDEV_ST_ERR_MASK 0xff00u

/* BAR2 (slow path only) */
#define TESTDEV_BAR2 2
#define TESTDEV_BAR2_READS 0x0  /* RO: counts slow reads of itself */
#define TESTDEV_BAR2_ECHO 0x4   /* RW */
#define TESTDEV_BAR2_WRITES 0x8 /* RO: counts slow writes to ECHO */

#endif /* PDK_EMU_TESTDEV_H */
