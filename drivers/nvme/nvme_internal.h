/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * NVMe driver internals, shared by its files and by the unit tests and
 * fuzz targets (which link the static library and build queue pairs over
 * fake registers and fake queues).
 *
 * Threads. A queue pair belongs to one thread: its rings, trackers and
 * counters are touched by that thread only (counters are read elsewhere
 * through relaxed atomics). The admin queue and the controller's slow
 * state are under ctrlr->lock. What the I/O threads must see of the
 * controller is one atomic word, ctrlr->gen: a state in its low bits and a
 * counter above, which changes whenever queue pairs must stop touching the
 * device (a reset started), re-create their queues (a reset finished) or
 * fail everything (the controller is gone).
 */
#ifndef NVME_INTERNAL_H
#define NVME_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <pdk_eal.h>
#include <pdk_log.h>
#include <pdk_pci.h>
#include <pdk_vfio.h>

#include "pdk_nvme.h"

#define NVME_LOG "nvme"

/* Limits of this driver. */
#define NVME_MAX_XFER (2u << 20)       /* per command (one PRP list page) */
#define NVME_MAX_QUEUE_ENTRIES 4096u   /* leaves >= 4 generation bits in a cid */
#define NVME_ADMIN_ENTRIES 32u
#define NVME_MAX_AERS 4u
#define NVME_MAX_NS PDK_NVME_NS_LIST_MAX
#define NVME_MAX_RESET_ATTEMPTS 3
#define NVME_MAX_RECONNECTS 3
#define NVME_MAX_SPLIT 256             /* commands one request may become */
#define NVME_TIMEOUT_CHECK_MS 10
#define NVME_HEALTH_CHECK_MS 100
#define NVME_NIL 0xffffu

/* --------------------------------------------------------- counters -- */

/* One writer per counter (the owning thread, or the admin lock holder);
 * readers elsewhere load them relaxed. */
struct nvme_stats {
	_Atomic uint64_t submitted, completed, errors;
	_Atomic uint64_t dropped_unknown, dropped_stale, sq_head_invalid, phase_skipped;
	_Atomic uint64_t timeouts, aborts, retries, host_aborted;
	_Atomic uint64_t doorbells, doorbells_skipped;
};

static inline void nvme_stat_add(_Atomic uint64_t *c, uint64_t n)
{
	atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + n,
			      memory_order_relaxed);
}
#define NVME_STAT(qp, field) nvme_stat_add(&(qp)->stats.field, 1)

void nvme_stats_sum(struct pdk_nvme_stats *out, const struct nvme_stats *in);

/* ---------------------------------------------------------- trackers -- */

#define NVME_TR_NO_TIMEOUT 0x1 /* an Asynchronous Event Request */
#define NVME_TR_ABORT_SENT 0x2 /* timed out; Abort submitted */
#define NVME_TR_TIMED_OUT 0x4  /* timed out (counted and logged once) */

/* A request the driver split into several commands. */
struct nvme_request {
	pdk_nvme_cb cb;
	void *arg;
	uint32_t remaining;     /* commands not completed yet */
	bool failed;
	struct pdk_nvme_cpl cpl; /* the first failure, else the last */
	uint32_t next_free;
};

/*
 * One command slot. Its command id is (gen << slot_bits) | slot; gen moves
 * on each time the slot is taken, so a completion for an earlier use of
 * the slot (a duplicate, a late one) no longer matches.
 */
struct nvme_tracker {
	struct pdk_nvme_cmd cmd;  /* as submitted; again after a reset */
	pdk_nvme_cb cb;
	void *arg;
	struct nvme_request *req; /* when part of a split request */
	uint64_t deadline;        /* tsc; UINT64_MAX: none; 0: not started */
	uint64_t *prp_list;
	pdk_iova_t prp_iova;
	uint16_t gen;
	uint8_t active;
	uint8_t flags;            /* NVME_TR_* */
	uint8_t retries;
} __attribute__((aligned(64)));

/* --------------------------------------------------------- queue pair -- */

enum nvme_qp_state {
	NVME_QP_CONNECTED = 0,  /* queues exist on the controller */
	NVME_QP_DISCONNECTED,   /* a reset destroyed them; re-create on poll */
	NVME_QP_FAILED,         /* for good: everything fails */
};

struct pdk_nvme_qpair {
	/* hot: submission and completion */
	struct pdk_nvme_cmd *sq;
	struct pdk_nvme_cpl *cq;
	struct nvme_tracker *tr;
	uint16_t *free_ring;     /* free slots, FIFO (reuse as late as possible) */
	uint32_t free_head, free_count, ring_mask;
	uint16_t sq_tail, sq_head, cq_head, entries;
	uint8_t phase, state;
	bool in_poll;
	uint16_t ntr;            /* trackers: entries - 1 */
	uint16_t slot_bits, slot_mask, gen_mask;
	uint32_t gen;            /* ctrlr->gen the queues were made in */
	struct pdk_nvme_ctrlr *ctrlr;
	const struct pdk_vfio_bar *bar;
	uint32_t sq_db, cq_db;   /* doorbell register offsets */
	_Atomic uint32_t *shadow_sq, *shadow_cq, *ei_sq, *ei_cq; /* NULL: none */
	bool is_admin;           /* admin queue: shadow and register both;
				    runs during resets */
	uint32_t requests;       /* accepted, not completed */
	uint64_t timeout_tsc, abort_tsc, next_check;
	uint16_t id;
	uint8_t reconnects;
	/* cold */
	struct nvme_request *reqs;
	uint32_t req_free;       /* NVME_NIL-terminated stack */
	uint16_t *scratch;       /* slot list for resubmission and failing */
	void *prp_mem;
	uint32_t prp_list_max;   /* entries per tracker's list */
	pdk_iova_t sq_iova, cq_iova;
	struct nvme_stats stats;
	struct pdk_nvme_qpair *next; /* the controller's list (under lock) */
};

/* Where queue pairs get their DMA memory: EAL memory, or plain memory in
 * fuzz targets (which then never let a device near it). */
struct nvme_dma_ops {
	void *(*zalloc)(const char *type, size_t size, unsigned align);
	void (*free)(void *p);
	pdk_iova_t (*v2i)(const void *va);
};
extern struct nvme_dma_ops nvme_dma;

/* Build a queue pair's memory and trackers (not its queues on the
 * controller). entries: 2..NVME_MAX_QUEUE_ENTRIES. 0 or -errno. */
int nvme_qpair_init(struct pdk_nvme_qpair *qp, struct pdk_nvme_ctrlr *ctrlr,
		    uint16_t qid, uint32_t entries);
void nvme_qpair_fini(struct pdk_nvme_qpair *qp);
/* Empty rings, phase 1, doorbell offsets and shadow pointers for qid. */
void nvme_qpair_reset_rings(struct pdk_nvme_qpair *qp);
/* Point at the shadow doorbells (when in use) and store the current
 * values there. */
void nvme_qpair_set_shadow(struct pdk_nvme_qpair *qp);

/* A free tracker, or NULL. */
struct nvme_tracker *nvme_tracker_get(struct pdk_nvme_qpair *qp);
void nvme_tracker_put(struct pdk_nvme_qpair *qp, struct nvme_tracker *tr);
/* Give tr its command id, stamp its deadline and, when the queues exist,
 * copy it into the SQ. ring: write the SQ doorbell now. */
void nvme_qpair_submit(struct pdk_nvme_qpair *qp, struct nvme_tracker *tr, bool ring);
void nvme_qpair_ring_sq(struct pdk_nvme_qpair *qp);
/* Process up to max completion entries (0: up to the queue size); returns
 * the requests completed. */
int nvme_qpair_process_cq(struct pdk_nvme_qpair *qp, uint32_t max);
/* Complete every active tracker with `status` (driver-made). Returns the
 * requests completed. */
int nvme_qpair_fail_all(struct pdk_nvme_qpair *qp, uint16_t status);
/* After the queues were re-created: resubmit what was outstanding (within
 * the retry budget; the rest fails). Returns the requests completed. */
int nvme_qpair_resubmit_all(struct pdk_nvme_qpair *qp);
/* Complete one tracker with a driver-made status. */
int nvme_tracker_fail(struct pdk_nvme_qpair *qp, struct nvme_tracker *tr, uint16_t status);
/* Timeout scan (I/O and admin). */
void nvme_qpair_check_timeouts(struct pdk_nvme_qpair *qp, uint64_t now);

static inline uint16_t nvme_tracker_slot(const struct pdk_nvme_qpair *qp,
					 const struct nvme_tracker *tr)
{
	return (uint16_t)(tr - qp->tr);
}

/* --------------------------------------------------------------- PRPs -- */

typedef pdk_iova_t (*nvme_v2i_fn)(const void *va);

/*
 * Describe [buf, buf+len) with PRP1/PRP2 in `page`-sized memory pages:
 * PRP2 is the second page, or the list (filled in `list`, at most
 * list_max entries, at IOVA list_iova) when there are more. 0, -EINVAL
 * (not DMA memory, not dword aligned, an IOVA page offset that differs from
 * the VA's) or -E2BIG (more pages than the list holds).
 */
int nvme_prp_build(struct pdk_nvme_cmd *cmd, const void *buf, uint32_t len,
		   uint32_t page, uint64_t *list, pdk_iova_t list_iova,
		   uint32_t list_max, nvme_v2i_fn v2i);

/* ---------------------------------------------------------- identify -- */

/* What the driver takes from CAP and Identify Controller. */
struct nvme_ctrlr_limits {
	uint32_t page_size;   /* CC.MPS in bytes */
	uint32_t mps_shift;
	uint32_t max_xfer;    /* bytes per command */
	uint32_t entries;     /* largest queue (entries) */
	uint32_t dstrd;
	uint32_t ready_ms;
	uint32_t max_aers, max_aborts;
	uint32_t nn;
};

/* CAP checks (before enabling). 0 or -ENOTSUP with a reason in why. */
int nvme_cap_parse(uint64_t cap, uint32_t host_page, struct nvme_ctrlr_limits *lim,
		   char *why, size_t whylen);
/* Identify Controller checks; fills max_xfer and the limits. */
int nvme_cdata_parse(const struct pdk_nvme_ctrlr_data *cd, struct nvme_ctrlr_limits *lim,
		     char *why, size_t whylen);

struct nvme_ns_geom {
	uint64_t nsze;
	uint32_t lba_shift;
	uint32_t max_lbas;    /* per command */
};
/* Identify Namespace checks. 0, -ENOENT (inactive) or -ENOTSUP with a
 * reason. */
int nvme_ns_parse(const struct pdk_nvme_ns_data *nd, uint32_t max_xfer,
		  struct nvme_ns_geom *g, char *why, size_t whylen);
/* Active namespace list: ids that are ascending, nonzero and <= nn, up to
 * the first 0. Returns how many were copied to out. */
uint32_t nvme_ns_list_parse(const uint32_t *list, uint32_t n, uint32_t nn,
			    uint32_t *out, uint32_t max);
/* Copy an identify string (space padded, maybe not terminated, maybe not
 * ASCII) into a C string: trailing spaces trimmed, others shown as '?'. */
void nvme_str_clean(char *out, const char *in, size_t inlen);

/* -------------------------------------------------------- controller -- */

enum nvme_ctrlr_state {
	NVME_CTRLR_READY = 0,
	NVME_CTRLR_RESETTING = 1,
	NVME_CTRLR_FAILED = 2,
};
#define NVME_GEN_STATE(g) ((g) & 3u)
#define NVME_GEN_STEP 4u

struct pdk_nvme_ns {
	struct pdk_nvme_ctrlr *ctrlr;
	uint32_t id;
	uint32_t lba_shift;
	uint32_t max_lbas;
	uint64_t nsze;
	struct pdk_nvme_ns_data *data;
};

struct pdk_nvme_ctrlr {
	/* read by I/O threads */
	_Atomic uint32_t gen;          /* state | counter (see top of file) */
	_Atomic bool reset_wanted;
	const struct pdk_vfio_bar *bar;
	struct nvme_ctrlr_limits lim;
	struct pdk_nvme_ctrlr_opts opts;
	uint64_t io_timeout_tsc, admin_timeout_tsc, abort_timeout_tsc, check_tsc;
	uint32_t *dbbuf;               /* shadow doorbells, then event indexes
					  one page later; NULL: none */
	bool dbbuf_on;
	bool write_zeroes;

	/* under lock */
	pthread_mutex_t lock;
	struct pdk_nvme_qpair *adminq;
	struct pdk_nvme_qpair *qpairs;
	uint8_t *qid_used;             /* [io_queues + 1] */
	uint32_t io_queues, io_queues_used;
	uint32_t aers, aborts;         /* outstanding */
	bool in_reset;
	uint32_t aer_pending[16];
	uint32_t nr_aer_pending;
	uint64_t next_health;
	_Atomic uint64_t resets;
	struct pdk_nvme_stats retired; /* of queue pairs already freed */
	void *scratch;                 /* one page of DMA memory for admin data */
	pdk_iova_t scratch_iova, dbbuf_iova;

	/* fixed after attach */
	char name[PDK_PCI_NAME_MAX];
	struct pdk_vfio_dev *vdev;
	bool own_vdev;
	uint64_t cap;
	uint32_t vs;
	struct pdk_nvme_ctrlr_data *cdata;
	struct pdk_nvme_ns *ns;        /* active, usable, ascending nsid */
	uint32_t num_ns;

	pdk_nvme_aer_cb aer_cb;
	void *aer_arg;
	pdk_nvme_remove_cb remove_cb;
	void *remove_arg;
	struct pdk_nvme_ctrlr *next;   /* global list */
};

static inline uint32_t nvme_ctrlr_gen(const struct pdk_nvme_ctrlr *c)
{
	/* pairs with the release in nvme_ctrlr_set_state(): what the state
	 * change published (re-created admin queue, granted queues) is seen */
	return atomic_load_explicit(&((struct pdk_nvme_ctrlr *)c)->gen, memory_order_acquire);
}

/* Move to `state` with a new counter (lock-free: the removal event uses
 * it). FAILED is final. */
void nvme_ctrlr_set_state(struct pdk_nvme_ctrlr *ctrlr, enum nvme_ctrlr_state state);
void nvme_ctrlr_set_failed(struct pdk_nvme_ctrlr *ctrlr, const char *why);

/* registers (nvme_regs.c) */
int nvme_ctrlr_disable(struct pdk_nvme_ctrlr *ctrlr);
int nvme_ctrlr_enable(struct pdk_nvme_ctrlr *ctrlr);
void nvme_ctrlr_shutdown(struct pdk_nvme_ctrlr *ctrlr);
/* CSTS, and what it says: 0 fine, -ENODEV all-ones, -EIO fatal status. */
int nvme_ctrlr_health(struct pdk_nvme_ctrlr *ctrlr, uint32_t *csts);

/* controller life (nvme_ctrlr.c) */
struct pdk_nvme_ctrlr *nvme_ctrlr_create(struct pdk_vfio_dev *vdev, const char *name,
					 const struct pdk_nvme_ctrlr_opts *opts);
void nvme_ctrlr_destroy(struct pdk_nvme_ctrlr *ctrlr);
/* Bring the controller up (attach and reset): enable, queues, features,
 * shadow doorbells, AERs. Under lock. */
int nvme_ctrlr_start(struct pdk_nvme_ctrlr *ctrlr);

/* the list of attached controllers, and surprise removal (nvme_pci.c) */
void nvme_list_lock(bool on);
struct pdk_nvme_ctrlr *nvme_ctrlr_by_vdev_locked(const struct pdk_vfio_dev *vdev);
/* Count a controller in (on) or out: the vfio event callback is registered
 * while there is one. */
void nvme_events_ref(bool on);

/* recovery (nvme_reset.c) */
int nvme_ctrlr_reset_locked(struct pdk_nvme_ctrlr *ctrlr);
/* An I/O thread wants a reset: remember it, and do it now when the admin
 * lock is free. */
void nvme_ctrlr_want_reset(struct pdk_nvme_ctrlr *ctrlr, const char *why);
/* Admin work when the lock is free (I/O threads waiting on an abort). */
void nvme_ctrlr_try_admin(struct pdk_nvme_ctrlr *ctrlr);
/* Under lock: admin completions, timeouts, health, wanted resets. */
int nvme_admin_poll_locked(struct pdk_nvme_ctrlr *ctrlr);
/* Timed-out tracker: CSTS, then abort, then reset. */
void nvme_timeout(struct pdk_nvme_qpair *qp, struct nvme_tracker *tr, uint64_t now);
/* The queue pair's slow path when ctrlr->gen moved. */
int nvme_qpair_resync(struct pdk_nvme_qpair *qp);

/* admin commands (nvme_admin.c); *_sync under lock */
int nvme_admin_sync(struct pdk_nvme_ctrlr *ctrlr, struct pdk_nvme_cmd *cmd,
		    void *buf, uint32_t len, struct pdk_nvme_cpl *cpl);
int nvme_admin_identify(struct pdk_nvme_ctrlr *ctrlr, uint8_t cns, uint32_t nsid, void *out);
int nvme_admin_set_num_queues(struct pdk_nvme_ctrlr *ctrlr, uint32_t want, uint32_t *granted);
int nvme_admin_create_queues(struct pdk_nvme_ctrlr *ctrlr, struct pdk_nvme_qpair *qp);
int nvme_admin_delete_queues(struct pdk_nvme_ctrlr *ctrlr, struct pdk_nvme_qpair *qp);
int nvme_admin_dbbuf_config(struct pdk_nvme_ctrlr *ctrlr);
int nvme_admin_abort(struct pdk_nvme_ctrlr *ctrlr, uint16_t sqid, uint16_t cid);
void nvme_admin_post_aers(struct pdk_nvme_ctrlr *ctrlr);
/* Submit an admin command without waiting. */
int nvme_admin_submit(struct pdk_nvme_ctrlr *ctrlr, const struct pdk_nvme_cmd *cmd,
		      uint32_t flags, pdk_nvme_cb cb, void *arg);

/* namespaces (nvme_ns.c) */
int nvme_ctrlr_scan_ns(struct pdk_nvme_ctrlr *ctrlr);
void nvme_ctrlr_free_ns(struct pdk_nvme_ctrlr *ctrlr);

/* A driver-made completion entry. */
static inline struct pdk_nvme_cpl nvme_cpl_make(const struct pdk_nvme_qpair *qp,
						const struct nvme_tracker *tr,
						uint16_t status)
{
	struct pdk_nvme_cpl c = {.sqid = qp->id, .cid = tr->cmd.cid, .sqhd = qp->sq_head,
				 .status = status};
	return c;
}

#define NVME_ST_HOST_ABORTED PDK_NVME_STATUS(PDK_NVME_SCT_PATH, PDK_NVME_SC_ABORTED_BY_HOST)
#define NVME_ST_GONE                                                          \
	((uint16_t)(PDK_NVME_STATUS(PDK_NVME_SCT_PATH, PDK_NVME_SC_HOST_PATHING_ERROR) | \
		    PDK_NVME_STATUS_DNR))

static inline uint64_t nvme_ms_to_tsc(uint64_t ms)
{
	return ms * (pdk_get_tsc_hz() / 1000);
}

#endif /* NVME_INTERNAL_H */
