/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The emulated NVMe controller, between its files:
 *   nvme_ctrl.c   the model: knobs, registers, enable/disable/shutdown
 *   nvme_queue.c  queues, doorbells (MMIO and shadow), fetch and post
 *   nvme_admin.c  admin commands, asynchronous events, logs
 *   nvme_io.c     PRPs, namespaces, Read/Write/Flush/Write Zeroes
 *   nvme_fault.c  fault injection and counters
 * Everything runs on the device thread (see pdk_emu.h): no locks.
 */
#ifndef NVME_PRIVATE_H
#define NVME_PRIVATE_H

#include <stdbool.h>
#include <stdint.h>

#include <pdk_log.h>
#include <pdk_nvme_spec.h>

#include "pdk_emu.h"
#include "pdk_emu_nvme.h"

#define NVME_LOG(level, c, fmt, ...) \
	PDK_LOG(level, "emu.nvme", "%s: " fmt, pdk_emu_dev_name((c)->dev), \
		##__VA_ARGS__)

#define NVME_BAR0_SIZE 0x4000
#define NVME_DB_STRIDE 8     /* DSTRD 0: an SQ tail and a CQ head per queue */
#define NVME_QUEUES_MAX 511  /* doorbells and shadow doorbells fit a 4 KiB page */
#define NVME_ADMIN_QMAX 4096 /* AQA sizes are 12 bits, 0's based */
#define NVME_AERL 3          /* 0's based: four AERs outstanding */
#define NVME_ACL 3           /* 0's based */
#define NVME_ELPE 63         /* 0's based: 64 error log entries */
#define NVME_EVENTS_MAX 8    /* events queued while no AER is outstanding */
#define NVME_MPSMAX 4        /* 64 KiB pages */
#define NVME_TEMP 303        /* kelvin */
#define NVME_WCTEMP 343
#define NVME_CCTEMP 358
#define NVME_HELD 0xffffu    /* exec result: the completion comes later */
#define NVME_SC(sc) PDK_NVME_STATUS(PDK_NVME_SCT_GENERIC, sc)
#define NVME_SC_CMD(sc) PDK_NVME_STATUS(PDK_NVME_SCT_COMMAND_SPECIFIC, sc)

enum nvme_req_state {
	REQ_FREE,
	REQ_PENDING, /* done; on its CQ's list until due and there is room */
	REQ_STUCK,   /* fault: never completes (Abort may release it) */
	REQ_AER,     /* an Asynchronous Event Request waiting for an event */
};

struct nvme_sq;

/* A command between fetch and the completion posted for it. */
struct nvme_req {
	struct nvme_req *next;
	struct nvme_sq *sq;
	uint64_t due_ns;
	uint32_t cdw0;
	uint16_t cid;
	uint16_t status; /* PDK_NVME_STATUS() form: phase bit clear */
	uint8_t state;
	uint8_t opc;
	bool waited; /* counted once as waiting for CQ space */
};

struct nvme_sq {
	uint16_t qid;
	uint16_t cqid;
	uint32_t size;
	uint32_t head; /* next entry to fetch */
	uint32_t tail; /* as the host last rang it */
	uint64_t base;
	const struct pdk_nvme_cmd *ring; /* zero-copy view; NULL: DMA reads */
	uint64_t ring_gen;
	struct nvme_req *reqs; /* `size` of them: the most in flight */
	struct nvme_req *free;
	uint32_t bad_db; /* last invalid doorbell value reported */
	bool shadow;     /* tail from the shadow doorbell buffer */
};

struct nvme_cq {
	uint16_t qid;
	uint16_t vector;
	bool ien;
	bool phase;   /* phase tag of the pass `tail` is in */
	bool irq_due; /* entries posted since the vector last fired */
	bool shadow;
	uint32_t size;
	uint32_t head; /* as the host last rang it */
	uint32_t tail;
	uint64_t base;
	struct pdk_nvme_cpl *ring; /* zero-copy view; NULL: DMA writes */
	uint64_t ring_gen;
	struct nvme_req *fifo; /* done, waiting for their time or for space */
	struct nvme_req *fifo_tail;
	unsigned nsq;    /* SQs bound to it */
	uint32_t bad_db; /* last invalid doorbell value reported */
};

struct nvme_ns {
	uint8_t *data;
	uint64_t nlba;
};

/* Knobs after validation. */
struct nvme_cfg {
	unsigned queues;     /* I/O queue pairs */
	uint32_t qdepth;     /* entries: MQES + 1 */
	unsigned nns;
	uint64_t ns_size;    /* bytes per namespace */
	unsigned lbads;      /* log2 of the LBA size */
	const char *file;    /* NULL: memory */
	unsigned mdts;       /* log2 pages of 4 KiB; 0 = no limit */
	uint64_t latency_ns;
	uint64_t ready_ns;   /* CSTS transitions take this long */
	char serial[21];
	char model[41];
	bool shadow_db;
};

/* A fault every Nth event, or once at the next one (every 0, left 1). */
struct nvme_rate {
	uint64_t every;
	uint64_t left;
};

struct nvme_faults {
	uint64_t cfs_at;      /* command number; 0 = off */
	uint64_t cfs_random;  /* M: re-armed after every enable */
	uint64_t stuck_at;
	int stuck_opc;        /* -1 = off */
	int stuck_admin_opc;
	bool stuck_abort;     /* Abort releases stuck commands */
	uint64_t allones_at;
	uint64_t remove_at;
	uint64_t rng;
	struct nvme_rate unknown_cid, dup_cid, stale_phase, bad_sqhd;
};

struct nvme_feat {
	uint32_t arbitration;
	uint32_t power;
	uint16_t temp_over;
	uint16_t temp_under;
	uint32_t err_recovery;
	uint32_t vwc;
	uint32_t coalescing;
	uint32_t write_atomic;
	uint32_t aec;
	uint16_t nsq; /* I/O queues granted by Number of Queues (1's based) */
	uint16_t ncq;
};

struct nvme_ctrl {
	struct pdk_emu_dev *dev;
	uint8_t *bar;
	struct nvme_cfg cfg;
	uint64_t cap;

	/* controller state */
	uint32_t cc;      /* CC as last acted upon */
	bool ready;       /* CSTS.RDY */
	bool fatal;       /* CSTS.CFS */
	bool shutdown;    /* CC.SHN seen: no more commands until a reset */
	bool shst_done;
	int transition;   /* NVME_TR_*, due at `deadline` */
	uint64_t deadline;
	uint64_t now;     /* ns, refreshed when timing matters */
	uint32_t page_size;
	uint64_t mdts_bytes; /* 0: no limit */

	/* queues */
	struct nvme_sq **sq; /* cfg.queues + 1 */
	struct nvme_cq **cq;
	uint16_t *live;      /* ids of the I/O SQs that exist */
	unsigned nlive;
	unsigned io_queues;  /* I/O SQs and CQs that exist */
	unsigned npending;   /* completions waiting on CQ lists */
	uint16_t *irq_list;  /* CQs with a vector to fire */
	unsigned nirq;
	uint64_t dbs, eis;   /* shadow doorbell and EventIdx buffers; 0 = off */
	uint32_t *dbs_ptr, *eis_ptr;
	uint64_t db_gen;

	struct nvme_feat feat;

	/* asynchronous events */
	struct nvme_req *aer[NVME_AERL + 1];
	unsigned naer;
	uint32_t events[NVME_EVENTS_MAX];
	unsigned nevents;
	uint8_t event_masked; /* bit per type: reported, log page not read */

	/* logs and health */
	struct pdk_nvme_error_log errlog[NVME_ELPE + 1];
	uint64_t err_count;
	uint16_t temp;
	uint8_t crit_warning;
	uint64_t bytes_read, bytes_written, reads, writes;
	uint64_t power_cycles, unsafe_shutdowns;
	uint64_t created_ns;

	/* namespaces */
	struct nvme_ns *ns;
	int fd;         /* backing file, -1 for memory */
	uint8_t *store; /* every namespace, back to back */
	uint64_t store_size;
	uint8_t *buf;   /* 4 KiB for identify data and log pages */

	/* faults and counters */
	struct nvme_faults flt;
	uint64_t ncmds; /* commands fetched, for the *-at faults */
	struct pdk_emu_nvme_stats st;
};

/* Single writer (the device thread), readers anywhere. */
static inline void nvme_count(uint64_t *field)
{
	__atomic_store_n(field, *field + 1, __ATOMIC_RELAXED);
}

uint64_t nvme_now_ns(void);

/* nvme_ctrl.c */
int nvme_knob_bool(struct pdk_emu_dev *dev, const char *name, bool *out);
void nvme_fatal(struct nvme_ctrl *c, const char *why);

/* nvme_queue.c */
int nvme_queues_alloc(struct nvme_ctrl *c);
void nvme_queues_free(struct nvme_ctrl *c);
void nvme_queues_reset(struct nvme_ctrl *c);
int nvme_admin_queues(struct nvme_ctrl *c, uint32_t aqa, uint64_t asq,
		      uint64_t acq);
int nvme_cq_add(struct nvme_ctrl *c, uint16_t qid, uint32_t size, uint64_t base,
		bool ien, uint16_t vector);
int nvme_sq_add(struct nvme_ctrl *c, uint16_t qid, uint32_t size, uint64_t base,
		uint16_t cqid);
void nvme_sq_del(struct nvme_ctrl *c, uint16_t qid);
void nvme_cq_del(struct nvme_ctrl *c, uint16_t qid);
void nvme_dbbuf_set(struct nvme_ctrl *c, uint64_t dbs, uint64_t eis);
int nvme_queues_poll(struct nvme_ctrl *c);
void nvme_complete(struct nvme_ctrl *c, struct nvme_req *r, uint16_t status);
bool nvme_cq_room(struct nvme_ctrl *c, struct nvme_cq *cq);
void nvme_post_raw(struct nvme_ctrl *c, struct nvme_cq *cq,
		   const struct pdk_nvme_cpl *e);
void nvme_write_slot(struct nvme_ctrl *c, struct nvme_cq *cq, uint32_t slot,
		     const struct pdk_nvme_cpl *e, bool phase);
struct nvme_req *nvme_req_find(struct nvme_ctrl *c, uint16_t sqid, uint16_t cid);
bool nvme_cid_outstanding(struct nvme_ctrl *c, struct nvme_sq *sq, uint16_t cid);

/* nvme_admin.c */
uint16_t nvme_admin_exec(struct nvme_ctrl *c, struct nvme_req *r,
			 const struct pdk_nvme_cmd *cmd);
void nvme_event(struct nvme_ctrl *c, uint8_t type, uint8_t info, uint8_t lid);
void nvme_events_reset(struct nvme_ctrl *c);
void nvme_features_reset(struct nvme_ctrl *c);
void nvme_temp_check(struct nvme_ctrl *c);

/* nvme_info.c */
uint16_t nvme_identify(struct nvme_ctrl *c, const struct pdk_nvme_cmd *cmd);
uint16_t nvme_get_log_page(struct nvme_ctrl *c, const struct pdk_nvme_cmd *cmd);
void nvme_error_record(struct nvme_ctrl *c, const struct nvme_req *r);

/* nvme_io.c */
int nvme_ns_open(struct nvme_ctrl *c);
void nvme_ns_close(struct nvme_ctrl *c);
int nvme_ns_sync(struct nvme_ctrl *c);
uint16_t nvme_io_exec(struct nvme_ctrl *c, const struct pdk_nvme_cmd *cmd);
uint16_t nvme_prp_xfer(struct nvme_ctrl *c, const struct pdk_nvme_cmd *cmd,
		       uint8_t *buf, uint64_t len, uint64_t have, bool to_host);

/* nvme_fault.c */
int nvme_faults_init(struct nvme_ctrl *c);
int nvme_inject(struct pdk_emu_dev *dev, const char *fault);
void nvme_faults_enabled(struct nvme_ctrl *c);
bool nvme_fault_fetch(struct nvme_ctrl *c, struct nvme_req *r,
		      const struct pdk_nvme_cmd *cmd);
void nvme_fault_cpl(struct nvme_ctrl *c, struct nvme_sq *sq,
		    struct pdk_nvme_cpl *e);
void nvme_fault_post(struct nvme_ctrl *c, struct nvme_cq *cq,
		     struct nvme_sq *sq, const struct pdk_nvme_cpl *e);

#endif /* NVME_PRIVATE_H */
