/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ring and mempool micro-benchmark: cycles per element for
 *  - ring enqueue+dequeue on one lcore, SP/SC and MP/MC, bulk 1/8/32/128;
 *  - ring transfer from a worker lcore to the main lcore, same modes/bulks;
 *  - mempool get+put, with and without the per-lcore cache, bulk 1/32.
 * Each row runs many short rounds and reports the median round.
 *
 *   pdk-bench-ring-mempool [--quick] [--json] [EAL options]
 * Without EAL options: --no-huge -m 256 and lcores 0-1 (0 on one CPU).
 * Default ~10 s; --quick ~1 s.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pdk_eal.h>
#include <pdk_mempool.h>
#include <pdk_ring.h>

#include "bench_common.h"

#define MAX_BULK 128
#define MAX_ROUNDS 65536
#define RING_COUNT 4096
#define POOL_N 8192

struct opts {
	bool quick, json;
	double row_seconds; /* time budget of one row */
};

struct result {
	const char *name, *mode;
	unsigned bulk;
	double cycles; /* per element; < 0 when not run */
};

static struct result results[32];
static unsigned nb_results;
static void *objs_buf[MAX_BULK];

static void record(const char *name, const char *mode, unsigned bulk,
		   double cycles)
{
	if (nb_results < PDK_DIM(results))
		results[nb_results++] = (struct result){name, mode, bulk, cycles};
}

/* Rounds of `per_round` elements each until the row's budget is spent. */
typedef uint64_t (*round_fn)(void *ctx, unsigned elems);

static double run_rounds(const struct opts *o, round_fn fn, void *ctx,
			 unsigned per_round)
{
	static double v[MAX_ROUNDS];
	uint64_t budget = (uint64_t)(o->row_seconds * (double)pdk_get_tsc_hz());
	uint64_t start = pdk_rdtsc();
	unsigned n = 0;

	fn(ctx, per_round); /* warm up caches and branch predictors */
	while (n < MAX_ROUNDS && (n < 5 || pdk_rdtsc() - start < budget))
		v[n++] = (double)fn(ctx, per_round) / per_round;
	return bench_median(v, n);
}

struct ring_ctx {
	struct pdk_ring *r;
	unsigned bulk;
};

static uint64_t ring_round(void *arg, unsigned elems)
{
	struct ring_ctx *c = arg;
	uint64_t t0 = pdk_rdtsc();

	for (unsigned i = 0; i < elems; i += c->bulk) {
		pdk_ring_enqueue_bulk(c->r, objs_buf, c->bulk, NULL);
		pdk_ring_dequeue_bulk(c->r, objs_buf, c->bulk, NULL);
	}
	return pdk_rdtsc() - t0;
}

static struct pdk_ring *ring_for(unsigned flags)
{
	struct pdk_ring *r = pdk_ring_create("bench", RING_COUNT, pdk_socket_id(),
					     flags);

	if (r == NULL) {
		fprintf(stderr, "pdk_ring_create: %s\n", strerror(errno));
		exit(1);
	}
	return r;
}

static const struct {
	const char *name;
	unsigned flags;
} ring_modes[] = {
	{"SP/SC", PDK_RING_F_SP_ENQ | PDK_RING_F_SC_DEQ},
	{"MP/MC", 0},
};
static const unsigned bulks[] = {1, 8, 32, 128};

static void bench_ring_one_lcore(const struct opts *o)
{
	for (unsigned m = 0; m < PDK_DIM(ring_modes); m++) {
		struct ring_ctx c = {ring_for(ring_modes[m].flags), 0};

		for (unsigned b = 0; b < PDK_DIM(bulks); b++) {
			c.bulk = bulks[b];
			record("ring enq+deq, 1 lcore", ring_modes[m].name,
			       c.bulk, run_rounds(o, ring_round, &c, 128 * 64));
		}
		pdk_ring_free(c.r);
	}
}

/* Two lcores: the worker produces until told to stop. */
struct pair_ctx {
	struct pdk_ring *r;
	unsigned bulk;
	_Atomic bool stop;
};

static int pair_producer(void *arg)
{
	struct pair_ctx *p = arg;
	void *objs[MAX_BULK] = {0};

	while (!atomic_load_explicit(&p->stop, memory_order_relaxed))
		if (pdk_ring_enqueue_bulk(p->r, objs, p->bulk, NULL) == 0)
			pdk_pause();
	return 0;
}

static uint64_t pair_round(void *arg, unsigned elems)
{
	struct pair_ctx *p = arg;
	void *objs[MAX_BULK];
	uint64_t t0 = pdk_rdtsc();

	for (unsigned got = 0; got < elems;) {
		unsigned n = pdk_ring_dequeue_bulk(p->r, objs, p->bulk, NULL);

		if (n == 0)
			pdk_pause();
		got += n;
	}
	return pdk_rdtsc() - t0;
}

static void bench_ring_two_lcores(const struct opts *o)
{
	unsigned worker = pdk_lcore_next((unsigned)-1, true);

	for (unsigned m = 0; m < PDK_DIM(ring_modes); m++) {
		for (unsigned b = 0; b < PDK_DIM(bulks); b++) {
			struct pair_ctx p = {ring_for(ring_modes[m].flags), bulks[b],
					     false};
			double cycles = -1;

			if (worker < PDK_MAX_LCORES &&
			    pdk_eal_remote_launch(pair_producer, &p, worker) == 0) {
				cycles = run_rounds(o, pair_round, &p, 128 * 64);
				atomic_store(&p.stop, true);
				pdk_eal_wait_lcore(worker);
			}
			record("ring producer->consumer, 2 lcores",
			       ring_modes[m].name, bulks[b], cycles);
			pdk_ring_free(p.r);
		}
	}
}

struct pool_ctx {
	struct pdk_mempool *mp;
	unsigned bulk;
};

static uint64_t pool_round(void *arg, unsigned elems)
{
	struct pool_ctx *c = arg;
	uint64_t t0 = pdk_rdtsc();

	for (unsigned i = 0; i < elems; i += c->bulk) {
		if (pdk_mempool_get_bulk(c->mp, objs_buf, c->bulk) == 0)
			pdk_mempool_put_bulk(c->mp, objs_buf, c->bulk);
	}
	return pdk_rdtsc() - t0;
}

static void bench_mempool(const struct opts *o)
{
	static const unsigned caches[] = {0, 256}, pool_bulks[] = {1, 32};

	for (unsigned c = 0; c < PDK_DIM(caches); c++) {
		struct pool_ctx ctx = {
			pdk_mempool_create("bench", POOL_N, 2048, caches[c], 0,
					   NULL, NULL, pdk_socket_id(), 0), 0};

		if (ctx.mp == NULL) {
			fprintf(stderr, "pdk_mempool_create: %s\n", strerror(errno));
			exit(1);
		}
		for (unsigned b = 0; b < PDK_DIM(pool_bulks); b++) {
			ctx.bulk = pool_bulks[b];
			record("mempool get+put", caches[c] ? "cache 256" : "no cache",
			       ctx.bulk, run_rounds(o, pool_round, &ctx, 32 * 64));
		}
		pdk_mempool_free(ctx.mp);
	}
}

static void print_table(void)
{
	double ns_per_cycle = 1e9 / (double)pdk_get_tsc_hz();

	printf("%-34s %-9s %5s %12s %9s\n", "benchmark", "mode", "bulk",
	       "cycles/elem", "ns/elem");
	for (unsigned i = 0; i < nb_results; i++) {
		const struct result *r = &results[i];

		if (r->cycles < 0)
			printf("%-34s %-9s %5u %12s %9s\n", r->name, r->mode,
			       r->bulk, "n/a", "(needs 2 lcores)");
		else
			printf("%-34s %-9s %5u %12.2f %9.2f\n", r->name, r->mode,
			       r->bulk, r->cycles, r->cycles * ns_per_cycle);
	}
}

static void print_json(const struct opts *o)
{
	printf("{\"benchmark\": \"ring_mempool\", \"quick\": %s, "
	       "\"tsc_hz\": %llu, \"lcores\": %u, \"results\": [",
	       o->quick ? "true" : "false",
	       (unsigned long long)pdk_get_tsc_hz(), pdk_lcore_count());
	for (unsigned i = 0; i < nb_results; i++) {
		const struct result *r = &results[i];

		printf("%s\n  {\"name\": \"%s\", \"mode\": \"%s\", \"bulk\": %u, "
		       "\"cycles_per_elem\": ", i ? "," : "", r->name, r->mode,
		       r->bulk);
		if (r->cycles < 0)
			printf("null}");
		else
			printf("%.3f}", r->cycles);
	}
	printf("\n]}\n");
}

static void usage(const char *prog)
{
	printf("usage: %s [--quick] [--json] [EAL options]\n"
	       "  --quick  about 1 s instead of about 10 s\n"
	       "  --json   one JSON object instead of a table\n"
	       "Without EAL options: --no-huge -m 256 -l 0-1 (-l 0 on one CPU).\n",
	       prog);
}

/* Take our options out of argv; EAL gets the rest, or defaults. */
static int parse_args(int argc, char **argv, struct opts *o, char **eal)
{
	int n = 0;

	eal[n++] = argv[0];
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--quick") == 0)
			o->quick = true;
		else if (strcmp(argv[i], "--json") == 0)
			o->json = true;
		else if (strcmp(argv[i], "--help") == 0)
			return -1;
		else if (strcmp(argv[i], "--") != 0)
			eal[n++] = argv[i];
	}
	if (n == 1) {
		static char *defaults[] = {"--no-huge", "-m", "256", "-l", "0-1",
					   "--log-level=warning"};

		if (sysconf(_SC_NPROCESSORS_ONLN) < 2)
			defaults[4] = "0";
		for (unsigned i = 0; i < PDK_DIM(defaults); i++)
			eal[n++] = defaults[i];
	}
	eal[n] = NULL;
	o->row_seconds = o->quick ? 0.04 : 0.5;
	return n;
}

int main(int argc, char **argv)
{
	struct opts o = {0};
	char **eal = calloc((size_t)argc + 8, sizeof(char *));
	int n = eal ? parse_args(argc, argv, &o, eal) : -1;

	if (n < 0) {
		usage(argv[0]);
		return eal ? 0 : 1;
	}
	n = pdk_eal_init(n, eal);
	if (n == -ECANCELED) { /* -h: EAL's options too */
		usage(argv[0]);
		printf("%s", pdk_eal_usage());
		return 0;
	}
	if (n < 0) {
		fprintf(stderr, "pdk_eal_init failed: %s\n", pdk_eal_last_error());
		return 1;
	}
	bench_ring_one_lcore(&o);
	bench_ring_two_lcores(&o);
	bench_mempool(&o);
	if (o.json)
		print_json(&o);
	else
		print_table();
	pdk_eal_cleanup();
	free(eal);
	return 0;
}
