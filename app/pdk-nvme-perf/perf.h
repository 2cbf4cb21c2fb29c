/* SPDX-License-Identifier: BSD-3-Clause */
/* pdk-nvme-perf: shared definitions (see main.c). */
#ifndef PERF_H
#define PERF_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <pdk_eal.h>
#include <pdk_nvme.h>

#define PROG "pdk-nvme-perf"
#define MAX_QPAIRS 16   /* per namespace per worker */
#define MAX_NS 64
#define HISTO_BUCKETS 1024
#define STAMP_UNIT 512  /* --verify stamps every 512 bytes */

enum workload { W_READ, W_WRITE, W_RANDREAD, W_RANDWRITE, W_RW, W_RANDRW };

struct params {
	uint32_t depth;       /* -q: outstanding I/Os per namespace per worker */
	uint32_t io_size;     /* -o bytes */
	enum workload workload;
	int read_pct;         /* -M */
	double seconds;       /* -t */
	double warmup;        /* --warmup */
	uint32_t qpairs;      /* -P per namespace per worker */
	int latency;          /* -L count: 1 percentiles, 2 and the histogram */
	bool verify;
	bool seed_given;
	uint64_t seed;
	bool json;
	uint64_t span;        /* --span bytes from LBA 0 (0: whole namespace) */
	uint32_t nsids[MAX_NS];
	uint32_t nr_nsids;    /* --ns filter (0: every active namespace) */
};

struct histo {
	uint64_t b[HISTO_BUCKETS];
};

/* Counters of a measured phase. */
struct io_stats {
	uint64_t ios, bytes, errors;
	uint64_t lat_sum, lat_min, lat_max; /* tsc */
};

/* One namespace's shared state (every worker using it). */
struct ns_entry {
	struct pdk_nvme_ns *ns;
	struct pdk_nvme_ctrlr *ctrlr;
	uint32_t sector;       /* bytes */
	uint64_t span_lbas;    /* I/O happens in [0, span_lbas) */
	_Atomic uint64_t *written; /* --verify: one bit per LBA written OK */
	uint32_t users;        /* ns_ctx on this namespace */
	bool wrote;
	_Atomic bool removed;  /* its controller was asked back (remove callback) */
};

struct ns_ctx;

struct task {
	struct ns_ctx *ctx;
	uint8_t *buf;
	uint64_t *check;       /* --verify: LBAs of a read that must match */
	uint64_t lba;
	uint64_t submit_tsc;
	bool is_read;
	bool final_pass;
};

/* One namespace on one worker. */
struct ns_ctx {
	struct ns_entry *ent;
	struct pdk_nvme_qpair *qp[MAX_QPAIRS];
	uint32_t nqp, next_qp;
	uint32_t io_lbas;      /* LBAs per I/O */
	uint64_t io_units;     /* I/O-sized slots in the span */
	uint64_t seq_next;
	uint64_t rng;
	int phase;             /* worker.c */
	uint32_t stripe, stripes; /* this ctx's share of the final verify pass */
	struct task *tasks;
	struct task **pending; /* could not be submitted (queue full) */
	uint32_t npending, outstanding;
	bool stopping, dead;
	bool measuring;
	uint64_t verify_next;  /* final pass position */
	uint64_t verify_end;
	struct io_stats st;
	struct histo *histo;
	_Atomic uint64_t progress_ios; /* all I/Os, for the progress line */
	_Atomic uint64_t progress_errors;
	uint64_t verified, verify_errors;
	unsigned lcore;
	char label[160];
};

struct worker {
	unsigned lcore;
	struct ns_ctx *ctx[MAX_NS];
	uint32_t nctx;
	uint64_t busy_tsc, busy_ios;  /* submit + poll work, measured phase */
	uint64_t preempted;           /* polls left out: descheduled in them */
	uint64_t rng;
};

struct perf {
	struct params p;
	struct ns_entry ns[MAX_NS];
	uint32_t nns;
	struct worker workers[PDK_MAX_LCORES];
	uint32_t nworkers;
	struct ns_ctx *ctxs[PDK_MAX_LCORES * 2];
	uint32_t nctxs;
	uint64_t tsc_hz;
	uint64_t start_tsc, measure_tsc, end_tsc;
	_Atomic bool stop;
	_Atomic uint64_t stop_tsc;    /* when a signal or a removal cut the run short */
	_Atomic uint32_t removed;     /* controllers asked back during the run */
	_Atomic uint32_t measuring_started;
};

extern struct perf g_perf;

/* params.c */
int params_parse(struct params *p, int argc, char **argv);
void params_usage(void);
const char *workload_name(enum workload w);

/* worker.c */
int worker_main(void *arg);
void stamp_fill(uint8_t *buf, uint64_t byte_off, uint32_t len, uint64_t seed);
/* 0, or the byte offset + 1 of the first 512-byte unit that differs. */
uint64_t stamp_check(const uint8_t *buf, uint64_t byte_off, uint32_t len, uint64_t seed);

/* main.c: progress line and admin polling, from the main lcore's loop */
void perf_control(uint64_t now);
/* The controllers under test, each once; returns how many. */
uint32_t perf_ctrlrs(const struct perf *pf, struct pdk_nvme_ctrlr **out);
/* True when the remove callback ran for controller c. */
bool perf_ctrlr_removed(const struct perf *pf, const struct pdk_nvme_ctrlr *c);

/* histo.c */
void histo_add(struct histo *h, uint64_t v);
void histo_merge(struct histo *dst, const struct histo *src);
uint64_t histo_percentile(const struct histo *h, double pct);
uint64_t histo_bucket_low(unsigned i);

/* report.c */
void report_progress(struct perf *pf, double elapsed, uint64_t ios, uint64_t errors,
		     double dt);
/* 0; -EIO when an I/O failed or a verify check did; -ENXIO when a controller
 * was removed during the run (its failed I/Os expected) and no check failed. */
int report_final(struct perf *pf);

#endif /* PERF_H */
