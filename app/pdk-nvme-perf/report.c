/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The progress line and the final report: per namespace and lcore IOPS,
 * MiB/s, average/min/max latency, the total, the driver's cycles per I/O
 * per lcore, latency percentiles (-L) and histogram (-LL), the verify
 * result, the driver's counters and the controllers removed during the run
 * -- as a table or as one JSON object.
 */
#include <errno.h>
#include <inttypes.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "app_json.h"
#include "perf.h"

static const double pcts[] = {1, 10, 25, 50, 75, 90, 95, 98, 99, 99.5, 99.9, 99.99, 99.999};

static double us(const struct perf *pf, uint64_t tsc)
{
	return (double)tsc * 1e6 / (double)pf->tsc_hz;
}

static double measured_s(const struct perf *pf)
{
	uint64_t end = atomic_load(&pf->stop_tsc);

	if (end == 0 || end > pf->end_tsc)
		end = pf->end_tsc;
	if (end <= pf->measure_tsc)
		return 1e-9;
	return (double)(end - pf->measure_tsc) / (double)pf->tsc_hz;
}

void report_progress(struct perf *pf, double elapsed, uint64_t ios, uint64_t errors, double dt)
{
	FILE *f = pf->p.json ? stderr : stdout;
	double iops = dt > 0 ? (double)ios / dt : 0;

	fprintf(f, "[%6.1f s] %12.0f IOPS %10.2f MiB/s  errors %" PRIu64 "%s\n", elapsed, iops,
		iops * pf->p.io_size / (1 << 20), errors,
		pdk_rdtsc() < pf->measure_tsc ? "  (warm-up)" : "");
	fflush(f);
}

/* ------------------------------------------------------------ totals -- */

struct totals {
	struct io_stats st;
	uint64_t verified, verify_errors, io_errors;
};

static void totals_sum(const struct perf *pf, struct totals *t)
{
	memset(t, 0, sizeof(*t));
	t->st.lat_min = UINT64_MAX;
	for (uint32_t i = 0; i < pf->nctxs; i++) {
		const struct ns_ctx *x = pf->ctxs[i];

		t->st.ios += x->st.ios;
		t->st.bytes += x->st.bytes;
		t->st.lat_sum += x->st.lat_sum;
		t->st.lat_min = PDK_MIN(t->st.lat_min, x->st.lat_min);
		t->st.lat_max = PDK_MAX(t->st.lat_max, x->st.lat_max);
		t->verified += x->verified;
		t->verify_errors += x->verify_errors;
		t->io_errors += atomic_load(&x->progress_errors);
	}
}

static void row_text(const struct perf *pf, const char *name, int lcore, const struct io_stats *s)
{
	double sec = measured_s(pf);
	char lc[16] = "";

	if (lcore >= 0)
		snprintf(lc, sizeof(lc), "%d", lcore);
	printf("%-40s %5s %12.2f %10.2f %12.2f %10.2f %10.2f\n", name, lc, (double)s->ios / sec,
	       (double)s->bytes / sec / (1 << 20),
	       s->ios ? us(pf, s->lat_sum) / (double)s->ios : 0.0,
	       s->ios ? us(pf, s->lat_min) : 0.0, us(pf, s->lat_max));
}

/* -------------------------------------------------------------- text -- */

static void latency_text(const struct perf *pf, const struct ns_ctx *x)
{
	printf("\nLatency percentiles (us), %s on lcore %u:\n", x->label, x->lcore);
	for (size_t i = 0; i < PDK_DIM(pcts); i++)
		printf("  %9.3f%% : %12.3f\n", pcts[i], us(pf, histo_percentile(x->histo, pcts[i])));
	if (pf->p.latency < 2)
		return;
	printf("  histogram (us range: count):\n");
	for (unsigned b = 0; b + 1 < HISTO_BUCKETS; b++)
		if (x->histo->b[b])
			printf("  %12.3f - %12.3f : %" PRIu64 "\n", us(pf, histo_bucket_low(b)),
			       us(pf, histo_bucket_low(b + 1)), x->histo->b[b]);
}

static void driver_text(const struct perf *pf)
{
	struct pdk_nvme_ctrlr *c[MAX_NS];
	uint32_t n = perf_ctrlrs(pf, c);

	for (uint32_t i = 0; i < n; i++) {
		struct pdk_nvme_stats s;

		if (pdk_nvme_ctrlr_stats(c[i], &s) < 0)
			continue;
		printf("driver %s: submitted %" PRIu64 ", completed %" PRIu64 ", errors %" PRIu64
		       ", dropped %" PRIu64 " unknown + %" PRIu64 " stale, SQ head invalid %" PRIu64
		       ", timeouts %" PRIu64 ", aborts %" PRIu64 ", resets %" PRIu64 ", retries %"
		       PRIu64 ", doorbells %" PRIu64 " (+%" PRIu64 " avoided), slow BAR accesses %"
		       PRIu64 "\n", pdk_nvme_ctrlr_name(c[i]), s.submitted, s.completed,
		       s.errors, s.dropped_unknown, s.dropped_stale, s.sq_head_invalid, s.timeouts,
		       s.aborts, s.resets, s.retries, s.doorbells, s.doorbells_skipped,
		       s.slow_bar_accesses);
	}
}

static void report_text(const struct perf *pf, const struct totals *t)
{
	const struct params *p = &pf->p;

	printf("\n%s: %s, -M %d, -q %u, -o %u, -P %u, %.1f s measured (%.1f s warm-up), %u "
	       "lcore(s), seed=0x%016" PRIx64 "\n\n", PROG, workload_name(p->workload), p->read_pct,
	       p->depth, p->io_size, p->qpairs, measured_s(pf), p->warmup, pf->nworkers, p->seed);
	printf("%-40s %5s %12s %10s %12s %10s %10s\n", "Device", "lcore", "IOPS", "MiB/s",
	       "Average(us)", "min(us)", "max(us)");
	for (uint32_t i = 0; i < pf->nctxs; i++)
		row_text(pf, pf->ctxs[i]->label, (int)pf->ctxs[i]->lcore, &pf->ctxs[i]->st);
	row_text(pf, "Total", -1, &t->st);
	printf("\nDriver cycles per I/O (TSC %.2f GHz; submit and the polls that completed "
	       "I/O%s):\n", (double)pf->tsc_hz / 1e9, p->verify ? ", with --verify's stamping" : "");
	for (uint32_t i = 0; i < pf->nworkers; i++) {
		const struct worker *w = &pf->workers[i];

		printf("  lcore %u: %.0f cycles per I/O over %" PRIu64 " I/Os (%" PRIu64 " polls "
		       "left out: descheduled)\n", w->lcore,
		       w->busy_ios ? (double)w->busy_tsc / (double)w->busy_ios : 0.0, w->busy_ios,
		       w->preempted);
	}
	for (uint32_t i = 0; p->latency && i < pf->nctxs; i++)
		latency_text(pf, pf->ctxs[i]);
	if (p->verify)
		printf("\nverify: seed=0x%016" PRIx64 ", %" PRIu64 " blocks checked, %" PRIu64
		       " mismatches, %" PRIu64 " I/O errors\n", p->seed, t->verified,
		       t->verify_errors, t->io_errors);
	printf("\n");
	driver_text(pf);
}

/* -------------------------------------------------------------- JSON -- */

#define STAT_FIELD(f) {#f, offsetof(struct pdk_nvme_stats, f)}
static const struct {
	const char *name;
	size_t off;
} stat_fields[] = {
	STAT_FIELD(submitted),       STAT_FIELD(completed),       STAT_FIELD(errors),
	STAT_FIELD(dropped_unknown), STAT_FIELD(dropped_stale),   STAT_FIELD(sq_head_invalid),
	STAT_FIELD(phase_skipped),   STAT_FIELD(timeouts),        STAT_FIELD(aborts),
	STAT_FIELD(retries),         STAT_FIELD(host_aborted),    STAT_FIELD(resets),
	STAT_FIELD(doorbells),       STAT_FIELD(doorbells_skipped), STAT_FIELD(slow_bar_accesses),
};

static void stats_json(struct jw *w, const struct perf *pf, const struct io_stats *s)
{
	double sec = measured_s(pf);

	jw_u64(w, "ios", s->ios);
	jw_double(w, "iops", (double)s->ios / sec);
	jw_double(w, "mibps", (double)s->bytes / sec / (1 << 20));
	jw_double(w, "avg_us", s->ios ? us(pf, s->lat_sum) / (double)s->ios : 0.0);
	jw_double(w, "min_us", s->ios ? us(pf, s->lat_min) : 0.0);
	jw_double(w, "max_us", us(pf, s->lat_max));
}

static void ctx_json(struct jw *w, const struct perf *pf, const struct ns_ctx *x)
{
	char key[32];

	jw_open(w, NULL, '{');
	jw_str(w, "device", pdk_nvme_ctrlr_name(x->ent->ctrlr));
	jw_u64(w, "nsid", pdk_nvme_ns_id(x->ent->ns));
	jw_u64(w, "lcore", x->lcore);
	stats_json(w, pf, &x->st);
	jw_u64(w, "errors", atomic_load(&x->progress_errors));
	if (x->histo != NULL) {
		jw_open(w, "percentiles_us", '{');
		for (size_t i = 0; i < PDK_DIM(pcts); i++) {
			snprintf(key, sizeof(key), "%g", pcts[i]);
			jw_double(w, key, us(pf, histo_percentile(x->histo, pcts[i])));
		}
		jw_close(w, '}');
	}
	jw_close(w, '}');
}

static void driver_json(struct jw *w, const struct perf *pf)
{
	struct pdk_nvme_ctrlr *c[MAX_NS];
	uint32_t n = perf_ctrlrs(pf, c);

	jw_open(w, "controllers", '[');
	for (uint32_t i = 0; i < n; i++) {
		struct pdk_nvme_stats s;

		if (pdk_nvme_ctrlr_stats(c[i], &s) < 0)
			continue;
		jw_open(w, NULL, '{');
		jw_str(w, "device", pdk_nvme_ctrlr_name(c[i]));
		for (size_t k = 0; k < PDK_DIM(stat_fields); k++)
			jw_u64(w, stat_fields[k].name,
			       *(const uint64_t *)(const void *)((const char *)&s +
								 stat_fields[k].off));
		jw_close(w, '}');
	}
	jw_close(w, ']');
}

/* The controllers asked back during the run (their names; [] for none). */
static void removed_json(struct jw *w, const struct perf *pf)
{
	struct pdk_nvme_ctrlr *c[MAX_NS];
	uint32_t n = perf_ctrlrs(pf, c);

	jw_open(w, "removed", '[');
	for (uint32_t i = 0; i < n; i++)
		if (perf_ctrlr_removed(pf, c[i]))
			jw_str(w, NULL, pdk_nvme_ctrlr_name(c[i]));
	jw_close(w, ']');
}

static void report_json(const struct perf *pf, const struct totals *t)
{
	const struct params *p = &pf->p;
	char seed[24];
	struct jw w;

	snprintf(seed, sizeof(seed), "0x%016" PRIx64, p->seed);
	jw_init(&w, stdout);
	jw_open(&w, NULL, '{');
	jw_str(&w, "workload", workload_name(p->workload));
	jw_u64(&w, "read_pct", (uint64_t)p->read_pct);
	jw_u64(&w, "queue_depth", p->depth);
	jw_u64(&w, "io_size", p->io_size);
	jw_u64(&w, "qpairs", p->qpairs);
	jw_double(&w, "seconds", measured_s(pf));
	jw_double(&w, "warmup", p->warmup);
	jw_u64(&w, "lcores", pf->nworkers);
	jw_str(&w, "seed", seed);
	jw_open(&w, "results", '[');
	for (uint32_t i = 0; i < pf->nctxs; i++)
		ctx_json(&w, pf, pf->ctxs[i]);
	jw_close(&w, ']');
	jw_open(&w, "total", '{');
	stats_json(&w, pf, &t->st);
	jw_u64(&w, "errors", t->io_errors);
	jw_close(&w, '}');
	jw_open(&w, "cores", '[');
	for (uint32_t i = 0; i < pf->nworkers; i++) {
		jw_open(&w, NULL, '{');
		jw_u64(&w, "lcore", pf->workers[i].lcore);
		jw_u64(&w, "ios", pf->workers[i].busy_ios);
		jw_u64(&w, "polls_descheduled", pf->workers[i].preempted);
		jw_double(&w, "cycles_per_io", pf->workers[i].busy_ios ?
			  (double)pf->workers[i].busy_tsc / (double)pf->workers[i].busy_ios : 0.0);
		jw_close(&w, '}');
	}
	jw_close(&w, ']');
	jw_open(&w, "verify", '{');
	jw_bool(&w, "enabled", p->verify);
	jw_u64(&w, "blocks_checked", t->verified);
	jw_u64(&w, "mismatches", t->verify_errors);
	jw_close(&w, '}');
	driver_json(&w, pf);
	removed_json(&w, pf);
	jw_close(&w, '}');
}

int report_final(struct perf *pf)
{
	uint32_t removed = atomic_load(&pf->removed);
	struct totals t;

	totals_sum(pf, &t);
	if (pf->p.json)
		report_json(pf, &t);
	else
		report_text(pf, &t);
	if (t.verify_errors || (t.io_errors && !removed)) {
		fprintf(stderr, "%s: %" PRIu64 " I/O errors, %" PRIu64 " verify mismatches "
			"(seed=0x%016" PRIx64 ")\n", PROG, t.io_errors, t.verify_errors, pf->p.seed);
		return -EIO;
	}
	if (removed) {
		fprintf(stderr, "%s: %u controller(s) removed during the run; %" PRIu64 " I/Os "
			"failed with them; the results cover the %.1f s measured before\n", PROG,
			removed, t.io_errors, measured_s(pf));
		return -ENXIO;
	}
	return 0;
}
