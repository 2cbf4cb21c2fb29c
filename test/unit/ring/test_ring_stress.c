/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Ring stress: several producers and consumers on a small ring (so it is
 * often full, often empty, and wraps constantly) with random bulk and burst
 * sizes. Every element is tagged with its producer and sequence number;
 * the test checks that each element comes out exactly once, that each
 * consumer sees each producer's elements in increasing order, and that
 * bulk operations move all or nothing. Plain pthreads: no EAL needed.
 * Run under TSan in CI (meson test ring_stress in a -Db_sanitize=thread build).
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include <pdk_ring.h>
#include <pdk_test.h>

#define MAX_THREADS 4
#define BATCH_MAX 16
/* Elements per producer; PDK_STRESS_SCALE (a percentage) scales it.
 * TSan runs ~10x slower: fewer elements keep it to a few seconds. */
#ifdef __SANITIZE_THREAD__
#define PER_PRODUCER_DEFAULT 100000
#else
#define PER_PRODUCER_DEFAULT 1000000
#endif

#define MAKE_TAG(p, seq) ((void *)(((uintptr_t)(p) + 1) << 32 | (seq)))
#define TAG_PRODUCER(t) ((unsigned)((uintptr_t)(t) >> 32) - 1)
#define TAG_SEQ(t) ((uint32_t)(uintptr_t)(t))

struct stress {
	struct pdk_ring *ring;
	unsigned producers, consumers, per_producer;
	_Atomic uint8_t *seen;          /* [producer * per_producer + seq] */
	_Atomic uint64_t consumed;      /* elements dequeued so far */
	_Atomic unsigned bad_bulk;      /* bulk that moved neither 0 nor n */
	_Atomic unsigned bad_order;     /* a producer's seq went backwards */
	_Atomic unsigned bad_tag;       /* element that no producer made */
};

struct worker {
	struct stress *s;
	unsigned id;
	unsigned seed;
	pthread_t thread;
};

static unsigned batch(unsigned *seed, bool *bulk)
{
	unsigned r = (unsigned)rand_r(seed);

	*bulk = r & 1;
	return 1 + (r >> 1) % BATCH_MAX;
}

static void *producer(void *arg)
{
	struct worker *w = arg;
	struct stress *s = w->s;
	void *objs[BATCH_MAX];
	uint32_t seq = 0;

	while (seq < s->per_producer) {
		bool bulk;
		unsigned n = batch(&w->seed, &bulk); /* PDK_MIN evaluates twice */
		unsigned done;

		n = PDK_MIN(n, s->per_producer - seq);
		for (unsigned i = 0; i < n; i++)
			objs[i] = MAKE_TAG(w->id, seq + i);
		done = bulk ? pdk_ring_enqueue_bulk(s->ring, objs, n, NULL)
			    : pdk_ring_enqueue_burst(s->ring, objs, n, NULL);
		if (bulk && done != 0 && done != n)
			atomic_fetch_add(&s->bad_bulk, 1);
		seq += done;
		if (done == 0)
			sched_yield(); /* 2 cores, more threads: let a consumer run */
	}
	return NULL;
}

/* Record one element; last[] is this consumer's last seq per producer. */
static void consume_one(struct stress *s, void *obj, int64_t *last)
{
	unsigned p = TAG_PRODUCER(obj);
	uint32_t seq = TAG_SEQ(obj);

	if (p >= s->producers || seq >= s->per_producer) {
		atomic_fetch_add(&s->bad_tag, 1);
		return;
	}
	if ((int64_t)seq <= last[p])
		atomic_fetch_add(&s->bad_order, 1);
	last[p] = seq;
	atomic_fetch_add_explicit(&s->seen[(size_t)p * s->per_producer + seq], 1,
				  memory_order_relaxed);
}

static void *consumer(void *arg)
{
	struct worker *w = arg;
	struct stress *s = w->s;
	uint64_t total = (uint64_t)s->producers * s->per_producer;
	int64_t last[MAX_THREADS] = {-1, -1, -1, -1};
	void *objs[BATCH_MAX];

	while (atomic_load(&s->consumed) < total) {
		bool bulk;
		unsigned n = batch(&w->seed, &bulk);
		unsigned done = bulk ? pdk_ring_dequeue_bulk(s->ring, objs, n, NULL)
				     : pdk_ring_dequeue_burst(s->ring, objs, n, NULL);

		if (bulk && done != 0 && done != n)
			atomic_fetch_add(&s->bad_bulk, 1);
		for (unsigned i = 0; i < done; i++)
			consume_one(s, objs[i], last);
		atomic_fetch_add(&s->consumed, done);
		if (done == 0)
			sched_yield();
	}
	return NULL;
}

static void start(struct worker *w, struct stress *s, unsigned id,
		  void *(*fn)(void *))
{
	w->s = s;
	w->id = id;
	w->seed = 0x5eed0000u + id * 7919u + (fn == consumer ? 1000u : 0u);
	assert_int_equal(pthread_create(&w->thread, NULL, fn, w), 0);
}

/* A small ring: often full, often empty, wrapping all the time. */
static void run_stress(unsigned count, unsigned flags, unsigned producers,
		       unsigned consumers)
{
	struct worker prod[MAX_THREADS], cons[MAX_THREADS];
	struct stress s = {.producers = producers, .consumers = consumers};
	size_t elems;

	s.per_producer = test_stress_count(PER_PRODUCER_DEFAULT);
	elems = (size_t)producers * s.per_producer;
	s.ring = aligned_alloc(PDK_CACHE_LINE,
			       (size_t)pdk_ring_get_memsize(count, flags));
	assert_non_null(s.ring);
	assert_int_equal(pdk_ring_init(s.ring, "stress", count, flags), 0);
	s.seen = calloc(elems, sizeof(*s.seen));
	assert_non_null(s.seen);

	for (unsigned i = 0; i < consumers; i++)
		start(&cons[i], &s, i, consumer);
	for (unsigned i = 0; i < producers; i++)
		start(&prod[i], &s, i, producer);
	for (unsigned i = 0; i < producers; i++)
		pthread_join(prod[i].thread, NULL);
	for (unsigned i = 0; i < consumers; i++)
		pthread_join(cons[i].thread, NULL);

	assert_int_equal(atomic_load(&s.consumed), elems);
	assert_int_equal(atomic_load(&s.bad_bulk), 0);
	assert_int_equal(atomic_load(&s.bad_order), 0);
	assert_int_equal(atomic_load(&s.bad_tag), 0);
	for (size_t i = 0; i < elems; i++)
		if (atomic_load_explicit(&s.seen[i], memory_order_relaxed) != 1)
			fail_msg("element %zu (producer %zu seq %zu) seen %u times",
				 i, i / s.per_producer, i % s.per_producer,
				 (unsigned)s.seen[i]);
	assert_true(pdk_ring_empty(s.ring));
	free(s.seen);
	free(s.ring);
}

static void test_sp_sc(void **state)
{
	(void)state;
	run_stress(64, PDK_RING_F_SP_ENQ | PDK_RING_F_SC_DEQ, 1, 1);
}

static void test_mp_sc(void **state)
{
	(void)state;
	run_stress(64, PDK_RING_F_SC_DEQ, 3, 1);
}

static void test_sp_mc(void **state)
{
	(void)state;
	run_stress(64, PDK_RING_F_SP_ENQ, 1, 3);
}

static void test_mp_mc(void **state)
{
	(void)state;
	run_stress(64, 0, 3, 3);
}

static void test_mp_mc_exact(void **state)
{
	(void)state;
	run_stress(50, PDK_RING_F_EXACT_SZ, 2, 2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sp_sc),
		cmocka_unit_test(test_mp_sc),
		cmocka_unit_test(test_sp_mc),
		cmocka_unit_test(test_mp_mc),
		cmocka_unit_test(test_mp_mc_exact),
	};

	return cmocka_run_group_tests_name("ring_stress", tests, NULL, NULL);
}
