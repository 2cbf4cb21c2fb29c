/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The NVMe poll-mode driver.
 *
 * Controllers are attached by the PCI bus during pdk_eal_init() (every
 * NVMe device allowed with -a, kernel or vfio-user) or explicitly with
 * pdk_nvme_ctrlr_attach(). Each thread doing I/O allocates its own queue
 * pairs and polls them; nothing on the I/O path takes a lock.
 *
 *   struct pdk_nvme_ctrlr *c = pdk_nvme_ctrlr_next(NULL);
 *   struct pdk_nvme_ns *ns = pdk_nvme_ns_next(c, NULL);
 *   struct pdk_nvme_qpair *qp = pdk_nvme_qpair_alloc(c, 128);
 *   void *buf = pdk_zmalloc("io", 4096, 4096);
 *   pdk_nvme_ns_read(ns, qp, buf, 0, 4096 / pdk_nvme_ns_sector_size(ns),
 *                    done, arg, 0);
 *   while (!finished)
 *       pdk_nvme_qpair_poll(qp, 0);     // done() runs from here
 *   pdk_nvme_qpair_free(qp);
 *
 * Guarantees (doc/nvme.md): every request that was accepted (submit
 * returned 0) completes exactly once, through its callback, with a status
 * -- also when the device times out, resets, returns garbage or goes away.
 * A completion the driver did not expect (unknown command id, stale
 * generation, not outstanding) is dropped and counted, never delivered.
 */
#ifndef PDK_NVME_H
#define PDK_NVME_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pdk_common.h>
#include <pdk_nvme_spec.h>

#ifdef __cplusplus
extern "C" {
#endif

struct pdk_nvme_ctrlr;
struct pdk_nvme_ns;
struct pdk_nvme_qpair;

/* ------------------------------------------------------ completions -- */

/*
 * A request's completion. `cpl->status` is the NVMe status word (phase
 * tag cleared): 0 is success. A request split by the driver (larger than
 * the controller's transfer limit) completes once, when every part is done,
 * with the first failing part's entry (else the last part's).
 *
 * Statuses the driver makes itself (SCT 3, path related):
 *   ABORTED_BY_HOST   timed out and aborted, retries after resets used up,
 *                     or the queue pair was freed with it outstanding
 *   HOST_PATHING_ERROR (with DNR) the controller is gone or failed
 */
typedef void (*pdk_nvme_cb)(void *arg, const struct pdk_nvme_cpl *cpl);

static inline bool pdk_nvme_cpl_is_error(const struct pdk_nvme_cpl *cpl)
{
	return PDK_NVME_CPL_SC(cpl->status) != 0 || PDK_NVME_CPL_SCT(cpl->status) != 0;
}

/* "SUCCESS", "LBA OUT OF RANGE", "ABORTED BY HOST", ... ("?" if unknown). */
PDK_API const char *pdk_nvme_status_str(uint16_t status);

/* ------------------------------------------------------ controllers -- */

struct pdk_nvme_ctrlr_opts {
	uint32_t io_queues;        /* I/O queue pairs to ask for (64) */
	uint32_t io_queue_depth;   /* default depth of a queue pair (255) */
	uint32_t admin_timeout_ms; /* an admin command times out (2000) */
	uint32_t io_timeout_ms;    /* an I/O command times out (5000; 0 never) */
	uint32_t abort_timeout_ms; /* an aborted command still pending (1000) */
	uint32_t max_retries;      /* resubmissions of one command after
				      resets before it fails (2) */
	bool no_dbbuf;             /* do not use shadow doorbells */
	bool no_shutdown;          /* detach without a shutdown notification */
};

/* Fill *opts with the defaults above. */
PDK_API void pdk_nvme_ctrlr_opts_default(struct pdk_nvme_ctrlr_opts *opts);

/*
 * Attach the controller `name` (PCI address or "vfio-user:/path") through
 * lib/vfio: open, map, reset, enable, identify, ready for I/O. When the PCI
 * bus attached it already, that controller is returned (opts ignored).
 * NULL with errno set: ENODEV (not an NVMe controller, or gone), ETIMEDOUT
 * (not ready within CAP.TO), EIO (fatal status, admin command failed),
 * ENOTSUP (a limit the driver cannot meet), or what lib/vfio returned.
 * The reason and the fix are logged. opts may be NULL.
 */
PDK_API struct pdk_nvme_ctrlr *pdk_nvme_ctrlr_attach(const char *name,
						     const struct pdk_nvme_ctrlr_opts *opts);

/*
 * Detach: free the controller's remaining queue pairs (their owners must
 * have stopped; outstanding requests complete with ABORTED_BY_HOST), notify
 * shutdown, disable, and close the device if this API opened it. A
 * controller attached by the PCI bus is detached by pdk_eal_cleanup().
 */
PDK_API void pdk_nvme_ctrlr_detach(struct pdk_nvme_ctrlr *ctrlr);

/* Iterate attached controllers: pdk_nvme_ctrlr_next(NULL) is the first. */
PDK_API struct pdk_nvme_ctrlr *pdk_nvme_ctrlr_next(const struct pdk_nvme_ctrlr *prev);
/* The attached controller named `name` (PCI addresses normalised), or NULL. */
PDK_API struct pdk_nvme_ctrlr *pdk_nvme_ctrlr_find(const char *name);

PDK_API const char *pdk_nvme_ctrlr_name(const struct pdk_nvme_ctrlr *ctrlr);
/* Identify Controller data, as the controller returned it. */
PDK_API const struct pdk_nvme_ctrlr_data *pdk_nvme_ctrlr_data(const struct pdk_nvme_ctrlr *ctrlr);

/* What the driver made of the controller's registers and identify data. */
struct pdk_nvme_ctrlr_info {
	uint64_t cap;            /* CAP register */
	uint32_t version;        /* VS register: major << 16 | minor << 8 | ter */
	uint32_t page_size;      /* memory page size in use (CC.MPS) */
	uint32_t max_xfer;       /* bytes per command (MDTS, PRP list bound) */
	uint32_t max_queue_entries; /* CAP.MQES + 1 */
	uint32_t io_queues;      /* I/O queue pairs granted */
	uint32_t io_queues_used; /* allocated now */
	uint32_t doorbell_stride;/* bytes */
	uint32_t ready_timeout_ms; /* from CAP.TO */
	char sn[21], mn[41], fr[9]; /* from Identify, trimmed; anything not
				       printable ASCII shown as '?' */
	uint32_t num_ns;         /* namespace ids (NN) */
	uint32_t active_ns;      /* active namespaces the driver can use */
	bool dbbuf;              /* shadow doorbells in use */
	bool write_zeroes;       /* ONCS: Write Zeroes supported */
	bool volatile_write_cache;
	const char *backend;     /* "kernel" or "vfio-user" */
};
PDK_API int pdk_nvme_ctrlr_info(const struct pdk_nvme_ctrlr *ctrlr,
				struct pdk_nvme_ctrlr_info *info);

/* Number of namespace ids (NN from Identify Controller). */
PDK_API uint32_t pdk_nvme_ctrlr_num_ns(const struct pdk_nvme_ctrlr *ctrlr);

/*
 * Reset the controller now (disable, re-enable, re-create the admin queue,
 * queues are re-created by their owners' next poll and their outstanding
 * commands resubmitted). Any thread. 0, -ENXIO (gone), -EIO, -ETIMEDOUT.
 */
PDK_API int pdk_nvme_ctrlr_reset(struct pdk_nvme_ctrlr *ctrlr);

/*
 * Admin work: completions of admin commands (asynchronous events), the
 * admin command timeouts and the controller health check (fatal status,
 * device gone), resets that I/O threads asked for. Call it regularly (every
 * few ms) from one thread; I/O threads also call it when they need it.
 * Returns the number of admin completions, or -ENXIO once the controller is
 * gone.
 */
PDK_API int pdk_nvme_ctrlr_poll_admin(struct pdk_nvme_ctrlr *ctrlr);

/* True once the controller is gone (removed, all-ones reads) or failed for
 * good (resets kept failing): every request fails, submits return -ENXIO. */
PDK_API bool pdk_nvme_ctrlr_is_failed(const struct pdk_nvme_ctrlr *ctrlr);

/*
 * Get Log Page (synchronous, under the admin queue's lock): `len` bytes
 * (a multiple of 4, at most 4096) of log `lid` for namespace `nsid`
 * (PDK_NVME_NSID_ALL: the controller) into `buf` (any memory). 0, -EINVAL, -EIO
 * (error status; the status word in *status when not NULL), -ETIMEDOUT,
 * -ENXIO.
 */
PDK_API int pdk_nvme_ctrlr_get_log_page(struct pdk_nvme_ctrlr *ctrlr, uint8_t lid,
					uint32_t nsid, void *buf, uint32_t len,
					uint16_t *status);
/* The SMART / health log, and the first `n` entries of the error log. */
PDK_API int pdk_nvme_ctrlr_smart_log(struct pdk_nvme_ctrlr *ctrlr,
				     struct pdk_nvme_smart_log *log);
PDK_API int pdk_nvme_ctrlr_error_log(struct pdk_nvme_ctrlr *ctrlr,
				     struct pdk_nvme_error_log *log, uint32_t n);

/*
 * Asynchronous events: the driver keeps Asynchronous Event Requests
 * outstanding, reads the log page an event names (which re-arms it) and
 * calls cb(arg, dword 0 of the completion) from pdk_nvme_ctrlr_poll_admin().
 */
typedef void (*pdk_nvme_aer_cb)(void *arg, uint32_t cdw0);
PDK_API void pdk_nvme_ctrlr_set_aer_cb(struct pdk_nvme_ctrlr *ctrlr, pdk_nvme_aer_cb cb,
				       void *arg);

/*
 * Surprise removal (the kernel or vfio-user server asked for the device
 * back): from then on every request fails; cb runs on lib/vfio's control
 * thread, must not block, and should make the application stop using the
 * controller and detach it.
 */
typedef void (*pdk_nvme_remove_cb)(void *arg, struct pdk_nvme_ctrlr *ctrlr);
PDK_API void pdk_nvme_ctrlr_set_remove_cb(struct pdk_nvme_ctrlr *ctrlr,
					  pdk_nvme_remove_cb cb, void *arg);

/* ------------------------------------------------------- statistics -- */

struct pdk_nvme_stats {
	uint64_t submitted;       /* commands written to a submission queue */
	uint64_t completed;       /* completions delivered to callbacks */
	uint64_t errors;          /* ... of which with an error status */
	uint64_t dropped_unknown; /* completions with a command id out of range
				     or for another queue */
	uint64_t dropped_stale;   /* ... for a slot not outstanding or with a
				     stale generation (duplicates) */
	uint64_t sq_head_invalid; /* SQ head beyond the tail (ignored) */
	uint64_t phase_skipped;   /* stale-phase slots the device skipped */
	uint64_t timeouts;
	uint64_t aborts;          /* Abort commands sent */
	uint64_t retries;         /* commands resubmitted after a reset */
	uint64_t host_aborted;    /* commands the driver ended itself */
	uint64_t resets;          /* controller resets (controller stats) */
	uint64_t doorbells;       /* doorbell register writes */
	uint64_t doorbells_skipped; /* ... avoided by shadow doorbells */
	uint64_t slow_bar_accesses; /* register accesses through the backend's
				       read/write path (controller stats) */
};

/* Sum over every queue pair of the controller, freed ones included, and
 * the admin queue's drops, timeouts, aborts and doorbells (submitted,
 * completed, errors, retries and host_aborted count I/O only). Read while
 * they run: each counter is exact, the set is not a snapshot. */
PDK_API int pdk_nvme_ctrlr_stats(const struct pdk_nvme_ctrlr *ctrlr,
				 struct pdk_nvme_stats *stats);
PDK_API int pdk_nvme_qpair_stats(const struct pdk_nvme_qpair *qp,
				 struct pdk_nvme_stats *stats);

/* ------------------------------------------------------- namespaces -- */

/* Active namespaces the driver can use, in nsid order; NULL ends. */
PDK_API struct pdk_nvme_ns *pdk_nvme_ns_next(const struct pdk_nvme_ctrlr *ctrlr,
					     const struct pdk_nvme_ns *prev);
/* Namespace `nsid`, or NULL when it is not active or not usable. */
PDK_API struct pdk_nvme_ns *pdk_nvme_ctrlr_ns(const struct pdk_nvme_ctrlr *ctrlr,
					      uint32_t nsid);

PDK_API uint32_t pdk_nvme_ns_id(const struct pdk_nvme_ns *ns);
PDK_API struct pdk_nvme_ctrlr *pdk_nvme_ns_ctrlr(const struct pdk_nvme_ns *ns);
/* Logical blocks (NSZE), block size in bytes, and size in bytes. */
PDK_API uint64_t pdk_nvme_ns_num_sectors(const struct pdk_nvme_ns *ns);
PDK_API uint32_t pdk_nvme_ns_sector_size(const struct pdk_nvme_ns *ns);
PDK_API uint64_t pdk_nvme_ns_size(const struct pdk_nvme_ns *ns);
/* Largest transfer of one command, in blocks (bigger requests are split). */
PDK_API uint32_t pdk_nvme_ns_max_io_sectors(const struct pdk_nvme_ns *ns);
/* Identify Namespace data (NGUID, EUI64, capacity, formats). */
PDK_API const struct pdk_nvme_ns_data *pdk_nvme_ns_data(const struct pdk_nvme_ns *ns);

/* ------------------------------------------------------ queue pairs -- */

/*
 * A submission/completion queue pair with room for `depth` outstanding
 * commands (0: the controller's default; at most CAP.MQES and 4095). Owned
 * by the thread that uses it: submit, poll and free from that thread only.
 * NULL with errno: ENOSPC (every granted queue is in use), ENOMEM, ENXIO
 * (controller gone), EIO/ETIMEDOUT (the controller refused the queue).
 */
PDK_API struct pdk_nvme_qpair *pdk_nvme_qpair_alloc(struct pdk_nvme_ctrlr *ctrlr,
						    uint32_t depth);

/* Delete the queues and free. Outstanding requests complete first, with
 * ABORTED_BY_HOST. NULL is ignored. */
PDK_API void pdk_nvme_qpair_free(struct pdk_nvme_qpair *qp);

/*
 * Process up to `max` completions (0: as many as there are), calling each
 * finished request's callback; check timeouts; after a controller reset,
 * re-create the queues and resubmit. Returns the number of requests
 * completed, -ENXIO when the controller is gone and nothing was left, or
 * -EBUSY when called from one of this queue pair's callbacks.
 */
PDK_API int pdk_nvme_qpair_poll(struct pdk_nvme_qpair *qp, uint32_t max);

/* Requests accepted and not yet completed. */
PDK_API uint32_t pdk_nvme_qpair_outstanding(const struct pdk_nvme_qpair *qp);
/* Commands the queue pair can hold (its depth). */
PDK_API uint32_t pdk_nvme_qpair_depth(const struct pdk_nvme_qpair *qp);

/* --------------------------------------------------------------- I/O -- */

/* flags of the I/O calls */
#define PDK_NVME_IO_FLAG_FUA 0x1 /* force unit access (read and write) */

/*
 * Submit I/O. `buf` is DMA memory (pdk_malloc and friends), 4-byte
 * aligned, `count` blocks long; the request is split when it is larger than
 * pdk_nvme_ns_max_io_sectors(). cb(arg, cpl) runs exactly once from
 * pdk_nvme_qpair_poll() on the same queue pair.
 *
 * 0: accepted. -EAGAIN: the queue pair is full (poll and retry) -- nothing
 * was submitted. -EINVAL: bad buffer (not DMA memory, misaligned), count 0,
 * the range is beyond the namespace, or the request would be more commands
 * than the queue pair holds (or 256). -ENOTSUP: the controller lacks the
 * command. -ENXIO: the controller is gone. -EIO: the queue pair failed.
 */
PDK_API int pdk_nvme_ns_read(struct pdk_nvme_ns *ns, struct pdk_nvme_qpair *qp,
			     void *buf, uint64_t lba, uint32_t count,
			     pdk_nvme_cb cb, void *arg, uint32_t flags);
PDK_API int pdk_nvme_ns_write(struct pdk_nvme_ns *ns, struct pdk_nvme_qpair *qp,
			      const void *buf, uint64_t lba, uint32_t count,
			      pdk_nvme_cb cb, void *arg, uint32_t flags);
/* Make completed writes durable (a no-op on a controller without a
 * volatile write cache, but still a command). */
PDK_API int pdk_nvme_ns_flush(struct pdk_nvme_ns *ns, struct pdk_nvme_qpair *qp,
			      pdk_nvme_cb cb, void *arg);
/* Zero `count` blocks without a buffer (ONCS bit 3; else -ENOTSUP). */
PDK_API int pdk_nvme_ns_write_zeroes(struct pdk_nvme_ns *ns, struct pdk_nvme_qpair *qp,
				     uint64_t lba, uint32_t count,
				     pdk_nvme_cb cb, void *arg, uint32_t flags);

#ifdef __cplusplus
}
#endif
#endif /* PDK_NVME_H */
