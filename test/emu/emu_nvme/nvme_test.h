/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The emulated NVMe controller seen from the wire: the tests play the
 * driver with the minimal vfio-user client, hand-build SQEs in DMA memory
 * (a memfd mapped at NT_IOVA), ring doorbells through the mapped BAR0 and
 * read CQEs by their phase tag. Nothing here comes from drivers/nvme.
 */
#ifndef NVME_TEST_H
#define NVME_TEST_H

#include "emu_test.h"

#include <pdk_emu_nvme.h>
#include <pdk_nvme_spec.h>

#define NT_IOVA 0x10000000ull
#define NT_MEM (32u << 20)
#define NT_NVEC 8
#define NT_QMAX 8
#define NT_ADMIN_SIZE 32
#define NT_TIMEOUT_MS 3000

struct ntq {
	uint16_t qid;
	uint32_t size;
	struct pdk_nvme_cmd *sq;
	struct pdk_nvme_cpl *cq;
	uint64_t sq_iova, cq_iova;
	uint32_t sq_tail, cq_head;
	uint8_t phase;
	uint16_t next_cid;
};

struct nt {
	struct pdk_emu_dev *dev; /* NULL: a device in another process */
	char path[128];
	struct vuc c;
	struct pdk_vfio_user_region r;
	uint8_t *bar;
	uint8_t *mem;
	int memfd;
	size_t used;
	struct ntq admin;
	struct ntq io[NT_QMAX + 1];
	int efd[NT_NVEC];
};

/*
 * Start an in-process "nvme" device on socket `path` (from emu_path(), in
 * the test's own file) with `knobs`, connect, map BAR0, map DMA memory.
 */
void nt_open(struct nt *t, const char *path, const char *knobs);
/* The same for a device served elsewhere (pdk-emud): connect to `path`. */
void nt_attach(struct nt *t, const char *path);
/* Connect a client to a running device (after nt_disconnect). */
void nt_connect(struct nt *t);
void nt_disconnect(struct nt *t);
void nt_close(struct nt *t);

/* Page-aligned DMA memory: its IOVA; *p gets the local pointer. */
uint64_t nt_alloc(struct nt *t, size_t size, void **p);
static inline uint64_t nt_iova(const struct nt *t, const void *p)
{
	return NT_IOVA + (uint64_t)((const uint8_t *)p - t->mem);
}

uint32_t nt_reg32(struct nt *t, uint32_t off);
uint64_t nt_reg64(struct nt *t, uint32_t off);
void nt_wreg32(struct nt *t, uint32_t off, uint32_t v);
/* Wait until CSTS & mask == want; the value, or fail the test. */
uint32_t nt_wait_csts(struct nt *t, uint32_t mask, uint32_t want);

/* AQA/ASQ/ACQ, CC.EN, wait for RDY (the admin queue is set up again). */
void nt_enable(struct nt *t);
/* CC.EN = 0, wait for RDY = 0. */
void nt_disable(struct nt *t);

/* Put `cmd` (its cid assigned) in the SQ and ring; returns the cid. */
uint16_t nt_submit(struct nt *t, struct ntq *q, struct pdk_nvme_cmd *cmd);
/* Write the SQE without ringing; nt_ring() rings the tail. */
uint16_t nt_queue_cmd(struct ntq *q, struct pdk_nvme_cmd *cmd);
void nt_ring(struct nt *t, struct ntq *q);
/* Take the next CQE within `ms`: 0, or -ETIMEDOUT. Rings the head doorbell. */
int nt_reap(struct nt *t, struct ntq *q, struct pdk_nvme_cpl *cpl, int ms);
/* Is there a CQE with the current phase at the head (without taking it)? */
bool nt_cqe_ready(const struct ntq *q);
/* Submit and wait: the status field (no phase bit); *cpl when not NULL. */
uint16_t nt_cmd(struct nt *t, struct ntq *q, struct pdk_nvme_cmd *cmd,
		struct pdk_nvme_cpl *cpl);

/* Create I/O CQ + SQ `qid` of `size` entries, CQ with IEN on `vector`. */
void nt_qpair(struct nt *t, uint16_t qid, uint32_t size, uint16_t vector);
/* Read/Write/Write Zeroes/Flush SQEs. */
struct pdk_nvme_cmd nt_rw(uint8_t opc, uint32_t nsid, uint64_t slba,
			  uint32_t nlb, uint64_t prp1, uint64_t prp2);
/* Identify into a fresh page: its status; *data points at it. */
uint16_t nt_identify(struct nt *t, uint8_t cns, uint32_t nsid, void **data);
uint16_t nt_set_feature(struct nt *t, uint8_t fid, uint32_t cdw11, uint32_t *cdw0);
uint16_t nt_get_feature(struct nt *t, uint8_t fid, unsigned sel, uint32_t cdw11,
			uint32_t *cdw0);
uint16_t nt_get_log(struct nt *t, uint8_t lid, uint32_t len, void **data);

/* Status word helpers: sct/sc as PDK_NVME_STATUS builds them. */
#define NT_OK 0
#define NT_SC(sc) PDK_NVME_STATUS(PDK_NVME_SCT_GENERIC, sc)
#define NT_CS(sc) PDK_NVME_STATUS(PDK_NVME_SCT_COMMAND_SPECIFIC, sc)

/* Counters of the device, for assertions. */
struct pdk_emu_nvme_stats nt_stats(struct nt *t);

/* Run the group with a quieter log (EMU_TEST_DEBUG=1 for everything). */
#define NT_MAIN(tests) EMU_TEST_MAIN(tests)

#endif /* NVME_TEST_H */
