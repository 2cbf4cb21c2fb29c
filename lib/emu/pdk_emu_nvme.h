/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * "nvme", the emulated NVMe 1.4 controller (pdk-emud --device nvme,...).
 * The structures and constants are the spec's (pdk_nvme_spec.h); this
 * header says where the model puts things, and how tests reach its fault
 * injection and counters. doc/emulator.md lists every knob.
 *
 * BAR0 (64-bit, 16 KiB):
 *   page 0  controller registers (CAP, VS, CC, CSTS, AQA, ASQ, ACQ, ...)
 *   page 1  doorbells, DSTRD 0: SQ y tail at 0x1000 + 8y, CQ y head at +4
 *   page 2  the MSI-X table and PBA with msix=shared (BAR4 with msix=own)
 * Every page is mappable; the controller thread polls CC and the
 * doorbells, so register writes take effect within the device thread's
 * idle sleep (`idle-us`), at once on a busy controller.
 *
 * Faults (knobs of the same name, or pdk_emu_dev_inject(dev, "NAME=N") at
 * run time, or `fault=NAME=N` + SIGUSR2 in pdk-emud). N counts commands
 * fetched from any queue, from the moment the fault is set:
 *   cfs-at=N          CSTS.CFS at the Nth command (it never completes)
 *   cfs-random=M      CFS at a random command in 1..M, again after each
 *                     enable (seeded by `seed=S`)
 *   stuck-at=N        the Nth command never completes
 *   stuck-opc=OPC     the next I/O command with opcode OPC never completes
 *   stuck-admin-opc=OPC  the same for the admin queue
 *   stuck-abort=0|1   whether Abort releases a stuck command (default 1)
 *   cpl-unknown-cid=N after every Nth I/O completion, one with a command
 *                     id the host has not got outstanding
 *   cpl-dup-cid=N     every Nth I/O completion is posted twice
 *   cpl-stale-phase=N after every Nth I/O completion, a copy of it with
 *                     the previous pass's phase in the next free slot
 *   cpl-bad-sqhd=N    every Nth I/O completion reports an SQ head beyond
 *                     the tail
 *   allones-at=N      the device dies (all-ones reads) at the Nth command
 *   remove-at=N       surprise removal at the Nth command
 * Run-time only: "cfs" (now), "stuck" (the next command), "unknown-cid",
 * "dup-cid", "stale-phase", "bad-sqhd" (the next I/O completion),
 * "temp=K" (composite temperature in kelvin; crossing a threshold raises
 * a SMART event), "clear" (every fault off). N=0 turns one off.
 */
#ifndef PDK_EMU_NVME_H
#define PDK_EMU_NVME_H

#include <stdint.h>

#include <pdk_common.h>

#ifdef __cplusplus
extern "C" {
#endif

struct pdk_emu_dev;

#define PDK_EMU_NVME_VENDOR 0x1234
#define PDK_EMU_NVME_DEVICE 0x4e56
#define PDK_EMU_NVME_CLASS 0x010802 /* mass storage, NVM, NVMe I/O controller */
#define PDK_EMU_NVME_MSIX_SHARED_OFF 0x2000
#define PDK_EMU_NVME_MSIX_OWN_BAR 4

/* What the controller did and what was injected; counters only grow. */
struct pdk_emu_nvme_stats {
	uint64_t commands;     /* fetched from any SQ */
	uint64_t completions;  /* posted (malformed extras not included) */
	uint64_t errors;       /* completed with a status other than success */
	uint64_t dma_errors;   /* Data Transfer Error: DMA refused */
	uint64_t cq_full;      /* completions that waited for CQ space */
	uint64_t bad_doorbells; /* doorbell values ignored as invalid */
	uint64_t aer_events;   /* asynchronous events reported */
	uint64_t ctrl_resets;  /* CC.EN 1 -> 0 */
	uint64_t shutdowns;    /* CC.SHN */
	uint64_t flushes;      /* Flush commands (fdatasync with a file) */
	uint64_t aborted;      /* commands released by Abort */
	/* injected */
	uint64_t inj_cfs;
	uint64_t inj_stuck;
	uint64_t inj_unknown_cid;
	uint64_t inj_dup_cid;
	uint64_t inj_stale_phase;
	uint64_t inj_bad_sqhd;
	uint64_t inj_allones;
	uint64_t inj_remove;
};

/*
 * A snapshot of an nvme device's counters (any thread). 0, or -EINVAL when
 * `dev` is not an nvme device.
 */
PDK_API int pdk_emu_nvme_stats(struct pdk_emu_dev *dev,
			       struct pdk_emu_nvme_stats *st);

#ifdef __cplusplus
}
#endif
#endif /* PDK_EMU_NVME_H */
