/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pdk-nvme-perf: I/O load on NVMe namespaces, in the spirit of
 * spdk_nvme_perf.
 *
 *   pdk-nvme-perf -l 0-1 -a 0000:03:00.0 -- -q 32 -o 4096 -w randrw -M 70 -t 10 -L
 *
 * Every lcore is a worker (the main one too). Namespaces and workers are
 * paired round-robin: max(namespaces, workers) contexts, each with its own
 * queue pair(s) and `-q` I/Os outstanding. The main lcore also prints a
 * progress line every second and polls the controllers' admin queues.
 *
 * A controller asked back during the run (vfio-pci unbind or hot-unplug,
 * a vfio-user server removing it: the driver's remove callback) stops the
 * run as SIGINT does: its I/Os fail, the others drain, the report covers
 * the time before the request, every controller is detached -- which
 * releases the device and lets the unbind finish -- and the exit code is 3.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "app_eal.h"
#include "perf.h"

struct perf g_perf;

/* The run ends now (workers drain); the report covers the time until here. */
static void stop_now(void)
{
	uint64_t zero = 0;

	atomic_compare_exchange_strong(&g_perf.stop_tsc, &zero, pdk_rdtsc());
	atomic_store(&g_perf.stop, true);
}

static void on_signal(int sig)
{
	(void)sig;
	stop_now();
}

/* ----------------------------------------------------------- removal -- */

/* On lib/vfio's control thread, and must not block. The kernel repeats its
 * request every 10 s while the device is held: say it once. */
static void on_remove(void *arg, struct pdk_nvme_ctrlr *c)
{
	struct perf *pf = arg;
	bool first = false;

	for (uint32_t i = 0; i < pf->nns; i++)
		if (pf->ns[i].ctrlr == c && !atomic_exchange(&pf->ns[i].removed, true))
			first = true;
	if (!first)
		return;
	atomic_fetch_add(&pf->removed, 1);
	stop_now();
	fprintf(stderr, "%s: %s: removal requested (the device is being unbound or unplugged): "
		"stopping the run and releasing it\n", PROG, pdk_nvme_ctrlr_name(c));
}

bool perf_ctrlr_removed(const struct perf *pf, const struct pdk_nvme_ctrlr *c)
{
	for (uint32_t i = 0; i < pf->nns; i++)
		if (pf->ns[i].ctrlr == c && atomic_load(&pf->ns[i].removed))
			return true;
	return false;
}

static void watch_removal(struct perf *pf, bool on)
{
	struct pdk_nvme_ctrlr *c[MAX_NS];
	uint32_t n = perf_ctrlrs(pf, c);

	for (uint32_t i = 0; i < n; i++)
		pdk_nvme_ctrlr_set_remove_cb(c[i], on ? on_remove : NULL, on ? pf : NULL);
}

/* -------------------------------------------------------- namespaces -- */

static bool ns_wanted(const struct params *p, uint32_t nsid)
{
	for (uint32_t i = 0; i < p->nr_nsids; i++)
		if (p->nsids[i] == nsid)
			return true;
	return p->nr_nsids == 0;
}

static int ns_setup(struct perf *pf, struct ns_entry *e)
{
	const struct params *p = &pf->p;
	uint64_t span;

	e->sector = pdk_nvme_ns_sector_size(e->ns);
	span = p->span ? PDK_MIN(p->span, pdk_nvme_ns_size(e->ns)) : pdk_nvme_ns_size(e->ns);
	e->span_lbas = span / e->sector;
	if (p->io_size % e->sector) {
		fprintf(stderr, "%s: -o %u is not a multiple of the %u-byte blocks of %s namespace "
			"%u: use -o %u or a multiple of it\n", PROG, p->io_size, e->sector,
			pdk_nvme_ctrlr_name(e->ctrlr), pdk_nvme_ns_id(e->ns), e->sector);
		return -EINVAL;
	}
	if ((p->io_size / e->sector + pdk_nvme_ns_max_io_sectors(e->ns) - 1) /
	    pdk_nvme_ns_max_io_sectors(e->ns) > 256) {
		fprintf(stderr, "%s: -o %u takes more than 256 commands of %u bytes (the transfer "
			"limit of %s): use -o %u or less\n", PROG, p->io_size,
			pdk_nvme_ns_max_io_sectors(e->ns) * e->sector, pdk_nvme_ctrlr_name(e->ctrlr),
			256 * pdk_nvme_ns_max_io_sectors(e->ns) * e->sector);
		return -EINVAL;
	}
	if (e->span_lbas < p->io_size / e->sector) {
		fprintf(stderr, "%s: %s namespace %u: --span/size of %llu bytes is smaller than one "
			"I/O (-o %u)\n", PROG, pdk_nvme_ctrlr_name(e->ctrlr), pdk_nvme_ns_id(e->ns),
			(unsigned long long)span, p->io_size);
		return -EINVAL;
	}
	if (p->verify && e->span_lbas / 8 > (256u << 20)) {
		fprintf(stderr, "%s: --verify keeps one bit per block: %s namespace %u needs %llu "
			"MiB; limit the range with --span\n", PROG, pdk_nvme_ctrlr_name(e->ctrlr),
			pdk_nvme_ns_id(e->ns), (unsigned long long)(e->span_lbas >> 23));
		return -EINVAL;
	}
	if (p->verify) {
		e->written = calloc((e->span_lbas + 63) / 64, sizeof(uint64_t));
		if (e->written == NULL)
			return -ENOMEM;
	}
	return 0;
}

static int collect_namespaces(struct perf *pf)
{
	for (struct pdk_nvme_ctrlr *c = pdk_nvme_ctrlr_next(NULL); c; c = pdk_nvme_ctrlr_next(c))
		for (struct pdk_nvme_ns *ns = pdk_nvme_ns_next(c, NULL); ns;
		     ns = pdk_nvme_ns_next(c, ns)) {
			struct ns_entry *e = &pf->ns[pf->nns];

			if (!ns_wanted(&pf->p, pdk_nvme_ns_id(ns)) || pf->nns == MAX_NS)
				continue;
			e->ns = ns;
			e->ctrlr = c;
			if (ns_setup(pf, e) < 0)
				return -EINVAL;
			pf->nns++;
		}
	if (pf->nns > 0)
		return 0;
	if (pdk_nvme_ctrlr_next(NULL) == NULL)
		fprintf(stderr, "%s: no NVMe controller attached: name each with -a before \"--\" "
			"(a PCI address bound to vfio-pci, or vfio-user:/path.sock)\n", PROG);
	else
		fprintf(stderr, "%s: no usable namespace%s (pdk-nvme-identify shows them)\n", PROG,
			pf->p.nr_nsids ? " matches --ns" : "");
	return -ENODEV;
}

/* ----------------------------------------------------------- workers -- */

static int ctx_qpairs(struct ns_ctx *x, const struct params *p)
{
	uint32_t max_io = pdk_nvme_ns_max_io_sectors(x->ent->ns);
	uint32_t parts = (x->io_lbas + max_io - 1) / max_io;
	uint32_t per_qp = (p->depth + p->qpairs - 1) / p->qpairs;
	uint32_t depth = PDK_MIN(per_qp * parts, 4095u);

	for (x->nqp = 0; x->nqp < p->qpairs; x->nqp++) {
		x->qp[x->nqp] = pdk_nvme_qpair_alloc(x->ent->ctrlr, depth);
		if (x->qp[x->nqp] == NULL) {
			fprintf(stderr, "%s: %s: cannot allocate queue pair %u of depth %u: %s%s\n",
				PROG, x->label, x->nqp + 1, depth, strerror(errno),
				errno == ENOSPC ? " (use fewer lcores or -P, or ask for more queues "
						  "with -a DEVICE,io_queues=N)" : "");
			return -errno;
		}
	}
	return 0;
}

static int ctx_tasks(struct ns_ctx *x, const struct params *p)
{
	x->tasks = calloc(p->depth, sizeof(*x->tasks));
	x->pending = calloc(p->depth, sizeof(*x->pending));
	if (x->tasks == NULL || x->pending == NULL)
		return -ENOMEM;
	for (uint32_t k = 0; k < p->depth; k++) {
		struct task *t = &x->tasks[k];

		t->ctx = x;
		t->buf = pdk_zmalloc("perf_io", p->io_size, 4096);
		t->check = calloc((x->io_lbas + 63) / 64, sizeof(uint64_t));
		if (t->buf == NULL || t->check == NULL) {
			fprintf(stderr, "%s: cannot allocate %u I/O buffers of %u bytes in DMA memory: "
				"give the EAL more with -m (MiB)\n", PROG, p->depth, p->io_size);
			return -ENOMEM;
		}
	}
	if (p->latency) {
		x->histo = calloc(1, sizeof(*x->histo));
		if (x->histo == NULL)
			return -ENOMEM;
	}
	return 0;
}

static struct ns_ctx *ctx_new(struct perf *pf, struct ns_entry *e, struct worker *w)
{
	struct ns_ctx *x = calloc(1, sizeof(*x));

	if (x == NULL)
		return NULL;
	x->ent = e;
	x->lcore = w->lcore;
	x->io_lbas = pf->p.io_size / e->sector;
	x->io_units = e->span_lbas / x->io_lbas;
	x->stripe = e->users++;
	x->rng = 0x9e3779b97f4a7c15ull ^ ((uint64_t)pf->nctxs << 32) ^ pf->p.seed;
	if (x->rng == 0)
		x->rng = 1;
	x->st.lat_min = UINT64_MAX;
	snprintf(x->label, sizeof(x->label), "%s ns %u", pdk_nvme_ctrlr_name(e->ctrlr),
		 pdk_nvme_ns_id(e->ns));
	w->ctx[w->nctx++] = x;
	pf->ctxs[pf->nctxs++] = x;
	return x;
}

static int setup_workers(struct perf *pf)
{
	unsigned l;
	uint32_t n;

	PDK_LCORE_FOREACH(l)
		pf->workers[pf->nworkers++].lcore = l;
	n = PDK_MAX(pf->nns, pf->nworkers);
	for (uint32_t i = 0; i < n; i++) {
		struct worker *w = &pf->workers[i % pf->nworkers];

		if (w->nctx == MAX_NS || ctx_new(pf, &pf->ns[i % pf->nns], w) == NULL)
			return -ENOMEM;
	}
	for (uint32_t i = 0; i < pf->nctxs; i++) {
		struct ns_ctx *x = pf->ctxs[i];
		int rc;

		x->stripes = x->ent->users;
		rc = ctx_qpairs(x, &pf->p);
		if (rc == 0)
			rc = ctx_tasks(x, &pf->p);
		if (rc < 0)
			return rc;
	}
	return 0;
}

static void teardown(struct perf *pf)
{
	for (uint32_t i = 0; i < pf->nctxs; i++) {
		struct ns_ctx *x = pf->ctxs[i];

		for (uint32_t q = 0; q < x->nqp; q++)
			pdk_nvme_qpair_free(x->qp[q]);
		for (uint32_t k = 0; x->tasks && k < pf->p.depth; k++) {
			pdk_free(x->tasks[k].buf);
			free(x->tasks[k].check);
		}
		free(x->tasks);
		free(x->pending);
		free(x->histo);
		free(x);
	}
	for (uint32_t i = 0; i < pf->nns; i++)
		free((void *)pf->ns[i].written);
}

/* ----------------------------------------------------------- control -- */

uint32_t perf_ctrlrs(const struct perf *pf, struct pdk_nvme_ctrlr **out)
{
	uint32_t n = 0;

	for (uint32_t i = 0; i < pf->nns; i++) {
		uint32_t j = 0;

		while (j < n && out[j] != pf->ns[i].ctrlr)
			j++;
		if (j == n)
			out[n++] = pf->ns[i].ctrlr;
	}
	return n;
}

static void poll_admin_all(struct perf *pf)
{
	struct pdk_nvme_ctrlr *c[MAX_NS];
	uint32_t n = perf_ctrlrs(pf, c);

	for (uint32_t i = 0; i < n; i++)
		pdk_nvme_ctrlr_poll_admin(c[i]);
}

void perf_control(uint64_t now)
{
	static uint64_t next_admin, next_progress, last_ios, last_tsc;
	struct perf *pf = &g_perf;
	uint64_t ios = 0, errors = 0;

	if (now >= next_admin) {
		poll_admin_all(pf);
		next_admin = now + pf->tsc_hz / 100;
	}
	if (next_progress == 0) {
		next_progress = pf->start_tsc + pf->tsc_hz;
		last_tsc = pf->start_tsc;
	}
	if (now < next_progress || now >= pf->end_tsc || atomic_load(&pf->stop))
		return;
	for (uint32_t i = 0; i < pf->nctxs; i++) {
		ios += atomic_load_explicit(&pf->ctxs[i]->progress_ios, memory_order_relaxed);
		errors += atomic_load_explicit(&pf->ctxs[i]->progress_errors, memory_order_relaxed);
	}
	report_progress(pf, (double)(now - pf->start_tsc) / (double)pf->tsc_hz, ios - last_ios,
			errors, (double)(now - last_tsc) / (double)pf->tsc_hz);
	last_ios = ios;
	last_tsc = now;
	next_progress += pf->tsc_hz;
}

/* ------------------------------------------------------------- flush -- */

static void flush_done(void *arg, const struct pdk_nvme_cpl *cpl)
{
	*(int *)arg = pdk_nvme_cpl_is_error(cpl) ? 2 : 1;
}

/* Written data made durable (the first context of each namespace; its
 * worker is done, so this thread may use its queue pair). */
static void flush_written(struct perf *pf)
{
	for (uint32_t i = 0; i < pf->nctxs; i++) {
		struct ns_ctx *x = pf->ctxs[i];
		int state = 0;

		if (x->stripe != 0 || !x->ent->wrote || x->dead)
			continue;
		if (pdk_nvme_ns_flush(x->ent->ns, x->qp[0], flush_done, &state) < 0)
			continue;
		while (state == 0 && pdk_nvme_qpair_poll(x->qp[0], 0) >= 0)
			;
		if (state == 2)
			fprintf(stderr, "%s: %s: Flush failed\n", PROG, x->label);
	}
}

static int run(struct perf *pf)
{
	int rc;

	pf->tsc_hz = pdk_get_tsc_hz();
	pf->start_tsc = pdk_rdtsc();
	pf->measure_tsc = pf->start_tsc + (uint64_t)(pf->p.warmup * (double)pf->tsc_hz);
	pf->end_tsc = pf->measure_tsc + (uint64_t)(pf->p.seconds * (double)pf->tsc_hz);
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	rc = pdk_eal_mp_remote_launch(worker_main, NULL, false);
	if (rc == 0)
		rc = pdk_eal_mp_wait_lcore();
	else
		pdk_eal_mp_wait_lcore();
	flush_written(pf);
	return rc;
}

int main(int argc, char **argv)
{
	struct perf *pf = &g_perf;
	int n, rc;

	n = app_eal_start(PROG, argc, argv, &rc);
	if (n < 0)
		return rc;
	rc = params_parse(&pf->p, argc - n, argv + n);
	if (rc == 0 && !pf->p.seed_given && getrandom(&pf->p.seed, sizeof(pf->p.seed), 0) < 0)
		pf->p.seed = pdk_rdtsc();
	if (rc == 0)
		rc = collect_namespaces(pf);
	if (rc == 0) {
		watch_removal(pf, true);
		rc = setup_workers(pf);
	}
	if (rc == 0)
		rc = run(pf);
	if (rc == 0)
		rc = report_final(pf); /* -EIO: an I/O or a check failed; -ENXIO: removed */
	watch_removal(pf, false);
	teardown(pf);
	pdk_eal_cleanup(); /* detaches the controllers: a removed device is released */
	if (rc == 1) /* -h */
		return 0;
	if (rc == -ENXIO && atomic_load(&pf->removed))
		return 3;
	return rc == 0 ? 0 : rc == -EINVAL ? 2 : 1;
}
