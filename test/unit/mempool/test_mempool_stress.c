/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Mempool stress: four EAL lcores (two per CPU on a two-core machine) and
 * two plain pthreads get and put on one small pool at once, in random bulk
 * sizes, each holding a random number of objects for a while, so the
 * per-lcore caches fill, flush and refill and the ring runs empty. Run
 * with a per-lcore cache and with none.
 *
 * Checked:
 *  - no object is handed out twice: every object carries an owner word,
 *    set with an atomic exchange that must find it free on each get and
 *    cleared with one that must find the getter on each put;
 *  - the object's memory is handed over with the object: each holder writes
 *    a plain (non-atomic) stamp and reads it back before the put, so TSan
 *    reports a race if the mempool or ring misses a release/acquire edge;
 *  - none is lost or made up: after the run (every cache flushed) a single
 *    get of the pool's size succeeds and returns each of the pool's objects
 *    exactly once, avail_count is the size, and the counters balance.
 * Run under TSan in CI (meson test mempool_stress in a -Db_sanitize=thread
 * build). PDK_STRESS_SCALE (a percentage) scales the iterations.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include <pdk_lcore.h>
#include <pdk_mempool.h>
#include <pdk_test.h>

#define POOL_SIZE 256
#define CACHE 32
#define BULK_MAX 48     /* above CACHE: some bulks bypass the cache */
#define HOLD_MAX 64     /* objects a worker holds at most */
#define LCORES 4        /* main + 3 workers */
#define PTHREADS 2      /* non-EAL threads: the shared, uncached slot */
#define WORKERS (LCORES + PTHREADS)
#ifdef __SANITIZE_THREAD__
#define ITER_DEFAULT 3000
#else
#define ITER_DEFAULT 50000
#endif

struct obj {
	_Atomic unsigned owner; /* 0 free, else worker id + 1 */
	uint64_t stamp;         /* plain: written by the holder only */
};

struct stress {
	struct pdk_mempool *mp;
	unsigned iterations;
	_Atomic unsigned twice;    /* a get found the object held */
	_Atomic unsigned foreign;  /* a put found another owner */
	_Atomic unsigned torn;     /* a stamp changed while held */
	_Atomic unsigned leftover; /* a cache still held objects after flush */
};

struct worker {
	struct stress *s;
	unsigned id;
	unsigned seed;
	uint64_t gets, puts;   /* objects */
	pthread_t thread;
};

static void put_some(struct worker *w, struct obj **held, unsigned *nheld,
		     unsigned n)
{
	struct stress *s = w->s;
	struct obj **from = &held[*nheld - n];

	for (unsigned i = 0; i < n; i++) {
		if (from[i]->stamp != ((uint64_t)w->id << 32 | (uintptr_t)from[i] >> 6))
			atomic_fetch_add(&s->torn, 1);
		if (atomic_exchange(&from[i]->owner, 0) != w->id + 1)
			atomic_fetch_add(&s->foreign, 1);
	}
	pdk_mempool_put_bulk(s->mp, (void *const *)from, n);
	*nheld -= n;
	w->puts += n;
}

static int work(void *arg)
{
	struct worker *w = arg;
	struct stress *s = w->s;
	struct obj *held[HOLD_MAX];
	unsigned nheld = 0;

	for (unsigned it = 0; it < s->iterations; it++) {
		unsigned r = (unsigned)rand_r(&w->seed);
		unsigned n = 1 + (r >> 1) % BULK_MAX;

		if ((r & 1) && nheld + n <= HOLD_MAX) {
			if (pdk_mempool_get_bulk(s->mp, (void **)&held[nheld], n) != 0)
				continue;
			for (unsigned i = nheld; i < nheld + n; i++) {
				if (atomic_exchange(&held[i]->owner, w->id + 1) != 0)
					atomic_fetch_add(&s->twice, 1);
				held[i]->stamp = (uint64_t)w->id << 32 | (uintptr_t)held[i] >> 6;
			}
			nheld += n;
			w->gets += n;
		} else if (nheld > 0) {
			put_some(w, held, &nheld, PDK_MIN(n, nheld));
		}
	}
	put_some(w, held, &nheld, nheld);
	pdk_mempool_cache_flush(s->mp);
	if (pdk_lcore_id() != PDK_LCORE_ID_ANY &&
	    pdk_mempool_cache_count(s->mp, pdk_lcore_id()) != 0)
		atomic_fetch_add(&s->leftover, 1);
	return 0;
}

static void *work_thread(void *arg)
{
	work(arg);
	return NULL;
}

static void clear_obj(struct pdk_mempool *mp, void *arg, void *o, unsigned idx)
{
	struct obj *obj = o;

	(void)mp, (void)arg, (void)idx;
	atomic_init(&obj->owner, 0);
	obj->stamp = 0;
}

static int cmp_ptr(const void *a, const void *b)
{
	uintptr_t x = *(const uintptr_t *)a, y = *(const uintptr_t *)b;

	return (x > y) - (x < y);
}

static void collect(struct pdk_mempool *mp, void *arg, void *obj, unsigned idx)
{
	(void)mp;
	((void **)arg)[idx] = obj;
}

/* Every object is back, once: one get of the whole pool returns exactly
 * the pool's objects (obj_iter), each free. */
static void assert_all_back(struct pdk_mempool *mp)
{
	static void *got[POOL_SIZE], *all[POOL_SIZE];

	assert_int_equal(pdk_mempool_avail_count(mp), POOL_SIZE);
	assert_int_equal(pdk_mempool_obj_iter(mp, collect, all), POOL_SIZE);
	assert_int_equal(pdk_mempool_get_bulk(mp, got, POOL_SIZE), 0);
	qsort(got, POOL_SIZE, sizeof(got[0]), cmp_ptr);
	qsort(all, POOL_SIZE, sizeof(all[0]), cmp_ptr);
	for (unsigned i = 0; i < POOL_SIZE; i++) {
		assert_ptr_equal(got[i], all[i]);
		assert_int_equal(atomic_load(&((struct obj *)got[i])->owner), 0);
	}
	pdk_mempool_put_bulk(mp, got, POOL_SIZE);
}

static void run(unsigned cache)
{
	struct stress s = {.iterations = test_stress_count(ITER_DEFAULT)};
	struct worker w[WORKERS];
	unsigned lcore = pdk_lcore_id();
	struct pdk_mempool_stats st;
	uint64_t gets = 0, puts = 0, lcore_gets = 0;

	s.mp = pdk_mempool_create(cache ? "stress_c" : "stress_nc", POOL_SIZE,
				  sizeof(struct obj), cache, 0, clear_obj, NULL,
				  PDK_SOCKET_ANY, PDK_MEMPOOL_F_STATS);
	assert_non_null(s.mp);
	for (unsigned i = 0; i < WORKERS; i++)
		w[i] = (struct worker){.s = &s, .id = i, .seed = 7 * i + cache + 1};
	/* lcores 1..3 by remote launch, the pthreads, then lcore 0 itself */
	for (unsigned i = 1; i < LCORES; i++) {
		lcore = pdk_lcore_next(lcore, true);
		assert_true(lcore < PDK_MAX_LCORES);
		assert_int_equal(pdk_eal_remote_launch(work, &w[i], lcore), 0);
	}
	for (unsigned i = LCORES; i < WORKERS; i++)
		assert_int_equal(pthread_create(&w[i].thread, NULL, work_thread, &w[i]),
				 0);
	work(&w[0]);
	pdk_eal_mp_wait_lcore();
	for (unsigned i = LCORES; i < WORKERS; i++)
		pthread_join(w[i].thread, NULL);

	assert_int_equal(atomic_load(&s.twice), 0);
	assert_int_equal(atomic_load(&s.foreign), 0);
	assert_int_equal(atomic_load(&s.torn), 0);
	assert_int_equal(atomic_load(&s.leftover), 0);
	for (unsigned i = 0; i < WORKERS; i++) {
		assert_int_equal(w[i].gets, w[i].puts);
		gets += w[i].gets;
		puts += w[i].puts;
		lcore_gets += i < LCORES ? w[i].gets : 0;
	}
	/* both kinds took part (one worker may starve for a short run: the
	 * others' caches and holdings can take the whole pool) */
	assert_true(lcore_gets > 0 && gets > lcore_gets);
	pdk_mempool_stats_total(s.mp, &st);
	assert_int_equal(st.get_ok_objs, gets);
	assert_int_equal(st.put_objs, puts);
	if (cache) /* the caches were used, and flushed and refilled */
		assert_true(st.cache_hit > 0 && st.cache_flush > 0 && st.cache_refill > 0);
	else
		assert_int_equal(st.cache_hit + st.cache_flush + st.cache_refill, 0);
	assert_all_back(s.mp);
	pdk_mempool_free(s.mp);
}

static void test_with_cache(void **state)
{
	(void)state;
	run(CACHE);
}

static void test_without_cache(void **state)
{
	(void)state;
	run(0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_with_cache),
		cmocka_unit_test(test_without_cache),
	};
	/* four lcores on two CPUs: this machine class has two cores */
	return test_run_group_with_eal("mempool_stress", tests, "0,1,2@0,3@1");
}
