/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The per-lcore loop. Each worker owns its namespace contexts and their
 * queue pairs: it keeps `depth` I/Os outstanding on each, polls, resubmits
 * from the completion callback, then drains, and with --verify reads back
 * its share of everything written. Only submit and poll calls that
 * completed something count as busy time (the driver's cycles per I/O);
 * polls that find nothing are idle waiting.
 */
#include <endian.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "perf.h"

enum phase { PH_RUN, PH_DRAIN, PH_VERIFY, PH_DONE };

static inline uint64_t rng_next(uint64_t *s)
{
	uint64_t x = *s;

	x ^= x << 13;
	x ^= x >> 7;
	x ^= x << 17;
	*s = x;
	return x;
}

/* ----------------------------------------------------------- stamps -- */

static inline uint64_t stamp_word0(uint64_t unit, uint64_t seed)
{
	uint64_t z = (unit ^ seed) + 0x9e3779b97f4a7c15ull;

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* One 512-byte unit: its offset/512 and the seed (u64 LE each), then a
 * pattern derived from both, so a misplaced or torn unit shows. */
static void unit_fill(uint64_t *w, uint64_t unit, uint64_t seed)
{
	uint64_t x = stamp_word0(unit, seed);

	w[0] = htole64(unit);
	w[1] = htole64(seed);
	for (unsigned i = 2; i < STAMP_UNIT / 8; i++) {
		x = x * 6364136223846793005ull + 1442695040888963407ull;
		w[i] = x;
	}
}

void stamp_fill(uint8_t *buf, uint64_t byte_off, uint32_t len, uint64_t seed)
{
	for (uint32_t o = 0; o < len; o += STAMP_UNIT)
		unit_fill((uint64_t *)(void *)(buf + o), (byte_off + o) / STAMP_UNIT, seed);
}

uint64_t stamp_check(const uint8_t *buf, uint64_t byte_off, uint32_t len, uint64_t seed)
{
	uint64_t want[STAMP_UNIT / 8];

	for (uint32_t o = 0; o < len; o += STAMP_UNIT) {
		unit_fill(want, (byte_off + o) / STAMP_UNIT, seed);
		if (memcmp(buf + o, want, STAMP_UNIT) != 0)
			return o + 1;
	}
	return 0;
}

/* ------------------------------------------------------ written bits -- */

static inline bool bit_get(const struct ns_entry *e, uint64_t lba)
{
	/* acquire: pairs with the release in bits_set, so a block marked
	 * written is read after its write completed */
	return (atomic_load_explicit(&e->written[lba / 64], memory_order_acquire) >>
		(lba % 64)) & 1;
}

static void bits_set(struct ns_entry *e, uint64_t lba, uint32_t n)
{
	for (uint32_t i = 0; i < n; i++)
		atomic_fetch_or_explicit(&e->written[(lba + i) / 64], 1ull << ((lba + i) % 64),
					 memory_order_release);
}

/* Which LBAs of a read must carry stamps: those written before it. */
static bool check_snapshot(struct task *t, uint32_t n)
{
	bool any = false;

	memset(t->check, 0, ((n + 63) / 64) * sizeof(uint64_t));
	for (uint32_t i = 0; i < n; i++)
		if (bit_get(t->ctx->ent, t->lba + i)) {
			t->check[i / 64] |= 1ull << (i % 64);
			any = true;
		}
	return any;
}

static void verify_read(struct ns_ctx *x, struct task *t)
{
	uint32_t sec = x->ent->sector;

	for (uint32_t i = 0; i < x->io_lbas; i++) {
		uint64_t bad;

		if (!((t->check[i / 64] >> (i % 64)) & 1))
			continue;
		x->verified++;
		bad = stamp_check(t->buf + (size_t)i * sec, (t->lba + i) * sec, sec,
				  g_perf.p.seed);
		if (bad == 0)
			continue;
		if (x->verify_errors++ < 5) {
			const uint8_t *u = t->buf + (size_t)i * sec + bad - 1;
			uint64_t got0, got1;

			memcpy(&got0, u, 8);
			memcpy(&got1, u + 8, 8);
			fprintf(stderr, "%s: verify error: %s LBA %" PRIu64 " (512-byte unit %"
				PRIu64 "): found offset/512 %" PRIu64 " seed 0x%" PRIx64 ", want %"
				PRIu64 " seed 0x%" PRIx64 "\n", PROG, x->label, t->lba + i,
				((t->lba + i) * sec + bad - 1) / STAMP_UNIT, le64toh(got0),
				le64toh(got1), ((t->lba + i) * sec + bad - 1) / STAMP_UNIT,
				g_perf.p.seed);
		}
	}
}

/* -------------------------------------------------------- submission -- */

static int task_submit(struct ns_ctx *x, struct task *t);

static void io_account(struct ns_ctx *x, struct task *t, uint64_t now, bool err)
{
	uint64_t lat = now - t->submit_tsc;

	atomic_store_explicit(&x->progress_ios,
			      atomic_load_explicit(&x->progress_ios, memory_order_relaxed) + 1,
			      memory_order_relaxed);
	if (!x->measuring || t->final_pass)
		return;
	x->st.ios++;
	x->st.bytes += g_perf.p.io_size;
	x->st.errors += err;
	x->st.lat_sum += lat;
	x->st.lat_min = PDK_MIN(x->st.lat_min, lat);
	x->st.lat_max = PDK_MAX(x->st.lat_max, lat);
	if (x->histo != NULL)
		histo_add(x->histo, lat);
}

static void io_error(struct ns_ctx *x, struct task *t, const struct pdk_nvme_cpl *cpl)
{
	uint64_t n = atomic_load_explicit(&x->progress_errors, memory_order_relaxed) + 1;

	atomic_store_explicit(&x->progress_errors, n, memory_order_relaxed);
	if (n <= 5)
		fprintf(stderr, "%s: %s: %s of LBA %" PRIu64 " failed: %s (status 0x%04x)\n", PROG,
			x->label, t->is_read ? "read" : "write", t->lba,
			pdk_nvme_status_str(cpl->status), cpl->status);
}

static void io_done(void *arg, const struct pdk_nvme_cpl *cpl)
{
	struct task *t = arg;
	struct ns_ctx *x = t->ctx;
	bool err = pdk_nvme_cpl_is_error(cpl);

	x->outstanding--;
	if (err)
		io_error(x, t, cpl);
	else if (!t->is_read && g_perf.p.verify)
		bits_set(x->ent, t->lba, x->io_lbas);
	else if (t->is_read && g_perf.p.verify)
		verify_read(x, t);
	io_account(x, t, pdk_rdtsc(), err);
	if (!x->stopping && !x->dead)
		task_submit(x, t);
	else
		x->pending[x->npending++] = t; /* parked: the final pass may use it */
}

/* The next LBA of the run, or of the final pass (UINT64_MAX: done). */
static uint64_t next_lba(struct ns_ctx *x, struct task *t)
{
	enum workload w = g_perf.p.workload;
	uint64_t unit;

	if (t->final_pass) { /* only chunks with something written */
		while (x->verify_next < x->verify_end) {
			unit = x->verify_next++;
			for (uint32_t i = 0; i < x->io_lbas; i++)
				if (bit_get(x->ent, unit * x->io_lbas + i))
					return unit * x->io_lbas;
		}
		return UINT64_MAX;
	}
	if (w == W_RANDREAD || w == W_RANDWRITE || w == W_RANDRW) {
		unit = rng_next(&x->rng) % x->io_units;
	} else {
		unit = x->seq_next;
		if (++x->seq_next == x->io_units)
			x->seq_next = 0;
	}
	return unit * x->io_lbas;
}

static void task_prepare(struct ns_ctx *x, struct task *t)
{
	const struct params *p = &g_perf.p;
	uint32_t sec = x->ent->sector;

	t->is_read = t->final_pass || (int)(rng_next(&x->rng) % 100) < p->read_pct;
	if (!p->verify)
		return;
	if (t->is_read) {
		check_snapshot(t, x->io_lbas);
	} else {
		stamp_fill(t->buf, t->lba * sec, p->io_size, p->seed);
		x->ent->wrote = true;
	}
}

/* 0, or -errno when the namespace cannot take I/O any more. */
static int task_submit(struct ns_ctx *x, struct task *t)
{
	struct pdk_nvme_qpair *qp = x->qp[x->next_qp++ % x->nqp];
	int rc;

	t->lba = next_lba(x, t);
	if (t->lba == UINT64_MAX) {
		x->pending[x->npending++] = t; /* the final pass is over */
		return 0;
	}
	task_prepare(x, t);
	t->submit_tsc = pdk_rdtsc();
	if (t->is_read)
		rc = pdk_nvme_ns_read(x->ent->ns, qp, t->buf, t->lba, x->io_lbas, io_done, t, 0);
	else
		rc = pdk_nvme_ns_write(x->ent->ns, qp, t->buf, t->lba, x->io_lbas, io_done, t, 0);
	if (rc == -EAGAIN) { /* full: resubmitted from the loop */
		if (t->final_pass)
			x->verify_next--;
		x->pending[x->npending++] = t;
		return 0;
	}
	if (rc < 0) {
		if (!x->dead)
			fprintf(stderr, "%s: %s: cannot submit: %s; this namespace stops\n", PROG,
				x->label, strerror(-rc));
		x->dead = true;
		x->pending[x->npending++] = t;
		return rc;
	}
	x->outstanding++;
	return 0;
}

/* Submit parked tasks (the queue was full, or a new phase starts). */
static void submit_pending(struct ns_ctx *x, bool final_pass)
{
	uint32_t n = x->npending;

	x->npending = 0;
	for (uint32_t i = 0; i < n && !x->dead; i++) {
		struct task *t = x->pending[i];

		t->final_pass = final_pass;
		task_submit(x, t);
	}
}

/* ----------------------------------------------------------- phases -- */

static void start_final_pass(struct ns_ctx *x)
{
	uint64_t per = x->io_units / x->stripes;

	x->verify_next = per * x->stripe;
	x->verify_end = x->stripe + 1 == x->stripes ? x->io_units : per * (x->stripe + 1);
	x->phase = PH_VERIFY;
	x->stopping = false;
	submit_pending(x, true);
}

/* RUN -> DRAIN (time is up) -> VERIFY (--verify) -> DONE */
static void phase_step(struct ns_ctx *x, bool time_up)
{
	if (x->phase == PH_RUN && !x->dead && x->npending && !x->stopping)
		submit_pending(x, false);
	if (x->phase == PH_RUN && (time_up || x->dead)) {
		x->stopping = true;
		x->measuring = false; /* the measured interval ends here */
		x->phase = PH_DRAIN;
	}
	if (x->phase == PH_DRAIN && x->outstanding == 0) {
		if (g_perf.p.verify && !x->dead)
			start_final_pass(x);
		else
			x->phase = PH_DONE;
	}
	if (x->phase == PH_VERIFY && x->npending && x->verify_next < x->verify_end)
		submit_pending(x, true);
	if (x->phase == PH_VERIFY && x->outstanding == 0 &&
	    (x->verify_next >= x->verify_end || x->dead))
		x->phase = PH_DONE;
}

/* Poll every queue pair of x; busy time only for polls that did work,
 * and not for a poll the thread was descheduled in (over 200 us: a poll
 * handles at most a queue's worth, a few us): that time is not ours. */
static void ctx_poll(struct worker *w, struct ns_ctx *x)
{
	for (uint32_t q = 0; q < x->nqp; q++) {
		uint64_t t0 = pdk_rdtsc(), dt;
		int n = pdk_nvme_qpair_poll(x->qp[q], 0);

		if (n > 0 && x->measuring) {
			dt = pdk_rdtsc() - t0;
			if (dt > g_perf.tsc_hz / 5000) {
				w->preempted++;
				continue;
			}
			w->busy_tsc += dt;
			w->busy_ios += (uint64_t)n;
		} else if (n == -ENXIO) {
			x->dead = true; /* the controller is gone; nothing left on it */
		}
	}
}

static void start_measuring(struct worker *w)
{
	for (uint32_t i = 0; i < w->nctx; i++) {
		struct ns_ctx *x = w->ctx[i];

		memset(&x->st, 0, sizeof(x->st));
		x->st.lat_min = UINT64_MAX;
		if (x->histo != NULL)
			memset(x->histo, 0, sizeof(*x->histo));
		x->measuring = true;
	}
	w->busy_tsc = w->busy_ios = w->preempted = 0;
	atomic_fetch_add(&g_perf.measuring_started, 1);
}

static struct worker *my_worker(void)
{
	for (uint32_t i = 0; i < g_perf.nworkers; i++)
		if (g_perf.workers[i].lcore == pdk_lcore_id())
			return &g_perf.workers[i];
	return NULL;
}

static void fill(struct worker *w)
{
	for (uint32_t i = 0; i < w->nctx; i++) {
		struct ns_ctx *x = w->ctx[i];
		uint64_t t0 = pdk_rdtsc();

		x->phase = PH_RUN;
		for (uint32_t k = 0; k < g_perf.p.depth && !x->dead; k++)
			task_submit(x, &x->tasks[k]);
		w->busy_tsc += pdk_rdtsc() - t0;
	}
}

int worker_main(void *arg)
{
	struct worker *w = my_worker();
	bool main_lcore = pdk_lcore_id() == pdk_lcore_main(), measuring = false, done = false;

	(void)arg;
	if (w == NULL)
		return 0;
	fill(w);
	while (!done) {
		uint64_t now = pdk_rdtsc();
		bool time_up = now >= g_perf.end_tsc || atomic_load(&g_perf.stop);

		if (!measuring && now >= g_perf.measure_tsc) {
			start_measuring(w);
			measuring = true;
		}
		done = true;
		for (uint32_t i = 0; i < w->nctx; i++) {
			struct ns_ctx *x = w->ctx[i];

			if (x->phase == PH_DONE)
				continue;
			ctx_poll(w, x);
			phase_step(x, time_up);
			done = done && x->phase == PH_DONE;
		}
		if (main_lcore)
			perf_control(now);
	}
	return 0;
}
