/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Mempool: argument checks, object layout and IOVAs, exhaustion, the
 * documented cache policy (checked against a model after every operation),
 * non-EAL threads bypassing caches, and concurrent get/put on two lcores
 * and on plain pthreads without any object handed out twice.
 */
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include <pdk_mempool.h>
#include <pdk_test.h>

#include "mempool_private.h"

#define ELT 100
#define CACHE 8

/* A pool that counts every get and put (the tests check the counters). */
static struct pdk_mempool *pool(const char *name, unsigned n, unsigned cache)
{
	struct pdk_mempool *mp = pdk_mempool_create(name, n, ELT, cache, 0, NULL,
						    NULL, PDK_SOCKET_ANY,
						    PDK_MEMPOOL_F_STATS);

	assert_non_null(mp);
	return mp;
}

static void expect_create_fails(const char *name, unsigned n, unsigned elt,
				unsigned cache, unsigned flags, int err)
{
	test_log_capture(PDK_LOG_ERR);
	errno = 0;
	assert_null(pdk_mempool_create(name, n, elt, cache, 0, NULL, NULL,
				       PDK_SOCKET_ANY, flags));
	assert_int_equal(errno, err);
	assert_log_contains("mempool: ");
	test_log_release();
}

static void test_create_checks(void **state)
{
	struct pdk_mempool *mp;

	(void)state;
	expect_create_fails("c", 0, ELT, 0, 0, EINVAL);
	expect_create_fails("c", 16, 0, 0, 0, EINVAL);
	expect_create_fails("c", 16, ELT, 17, 0, EINVAL);
	expect_create_fails("c", 4096, ELT, PDK_MEMPOOL_CACHE_MAX_SIZE + 1, 0,
			    EINVAL);
	expect_create_fails("c", 16, ELT, 0, 0x100, EINVAL);
	expect_create_fails(NULL, 16, ELT, 0, 0, EINVAL);
	expect_create_fails("0123456789012345678901234567890", 16, ELT, 0, 0,
			    ENAMETOOLONG);
	expect_create_fails("c", UINT32_MAX, ELT, 0, 0, EINVAL);

	mp = pool("dup", 16, 16);
	assert_ptr_equal(pdk_mempool_lookup("dup"), mp);
	expect_create_fails("dup", 16, ELT, 0, 0, EEXIST);
	pdk_mempool_free(mp);
	assert_null(pdk_mempool_lookup("dup"));
	assert_int_equal(errno, ENOENT);
	pdk_mempool_free(NULL);
}

struct seen {
	unsigned calls;
	uintptr_t last;
};

static void obj_init(struct pdk_mempool *mp, void *arg, void *obj,
		     unsigned idx)
{
	struct seen *s = arg;

	assert_int_equal(idx, s->calls);
	assert_true((uintptr_t)obj > s->last); /* memory order, no overlap */
	s->last = (uintptr_t)obj + mp->elt_size - 1;
	s->calls++;
	memset(obj, 0xa5, mp->elt_size);
}

static void check_obj(struct pdk_mempool *mp, void *arg, void *obj,
		      unsigned idx)
{
	struct seen *s = arg;

	(void)idx;
	assert_int_equal((uintptr_t)obj % PDK_CACHE_LINE, 0);
	assert_ptr_equal(pdk_mempool_from_obj(obj), mp);
	assert_true(pdk_mempool_virt2iova(obj) != PDK_BAD_IOVA);
	assert_int_equal(pdk_mempool_virt2iova(obj), pdk_mem_virt2iova(obj));
	assert_true(pdk_mem_iova_contig(obj, mp->elt_size));
	assert_int_equal(((unsigned char *)obj)[mp->elt_size - 1], 0xa5);
	s->calls++;
}

static void test_objects_iova_init_priv(void **state)
{
	struct seen init = {0}, iter = {0};
	struct pdk_mempool *mp;
	uint64_t *priv;

	(void)state;
	mp = pdk_mempool_create("objs", 1000, 1500, 32, 200, obj_init, &init,
				PDK_SOCKET_ANY, 0);
	assert_non_null(mp);
	assert_int_equal(init.calls, 1000);
	assert_int_equal(pdk_mempool_obj_iter(mp, check_obj, &iter), 1000);
	assert_int_equal(iter.calls, 1000);
	assert_int_equal(pdk_mempool_avail_count(mp), 1000);
	assert_int_equal(pdk_mempool_in_use_count(mp), 0);
	priv = pdk_mempool_get_priv(mp);
	for (unsigned i = 0; i < 200 / 8; i++)
		assert_int_equal(priv[i], 0); /* zeroed, ours to write */
	memset(priv, 0xff, 200);
	assert_int_equal(pdk_mempool_avail_count(mp), 1000);
	pdk_mempool_free(mp);
}

/* Fake memory map: IOVAs jump at every 4 KiB boundary of `base`. */
static uintptr_t fake_base;

static bool fake_contig(const void *va, size_t len)
{
	uintptr_t off = (uintptr_t)va - fake_base;

	return off / 4096 == (off + len - 1) / 4096;
}

static void test_objects_never_straddle_iova_gaps(void **state)
{
	size_t elt = 1000, stride = 64 + 1024, len = 16 * 4096;
	char *mem = aligned_alloc(4096, len), *pos = mem, *h;
	unsigned placed = 0;

	(void)state;
	assert_non_null(mem);
	fake_base = (uintptr_t)mem;
	while ((h = mempool_obj_slot(pos, mem + len, elt, fake_contig))) {
		char *obj = h + 64;

		assert_true(fake_contig(obj, elt));
		assert_true(obj + elt <= mem + len);
		placed++;
		pos = h + stride;
	}
	/* floor(4096 / 1088) = 3 objects a page, the first page loses one to
	 * its header. */
	assert_true(placed >= 16 * 3 - 1);
	assert_null(mempool_obj_slot(mem, mem + 64 + 4097, 4097, fake_contig));
	free(mem);
}

static void test_exhaustion(void **state)
{
	unsigned caches[] = {0, CACHE};
	void *objs[64], *extra;

	(void)state;
	for (unsigned c = 0; c < PDK_DIM(caches); c++) {
		struct pdk_mempool *mp = pool("exh", 64, caches[c]);
		struct pdk_mempool_stats st;

		for (unsigned i = 0; i < 64; i++)
			assert_int_equal(pdk_mempool_get(mp, &objs[i]), 0);
		assert_int_equal(pdk_mempool_avail_count(mp), 0);
		assert_int_equal(pdk_mempool_in_use_count(mp), 64);
		assert_int_equal(pdk_mempool_get(mp, &extra), -ENOENT);
		assert_int_equal(pdk_mempool_get_bulk(mp, objs, 3), -ENOENT);
		pdk_mempool_stats_get(mp, pdk_lcore_id(), &st);
		assert_int_equal(st.get_ok, 64);
		assert_int_equal(st.get_fail, 2);
		assert_int_equal(st.get_fail_objs, 4);
		pdk_mempool_put_bulk(mp, objs, 64);
		assert_int_equal(pdk_mempool_avail_count(mp), 64);
		assert_int_equal(pdk_mempool_get_bulk(mp, objs, 64), 0); /* bypass */
		assert_int_equal(pdk_mempool_get_bulk(mp, &extra, 1), -ENOENT);
		pdk_mempool_put_bulk(mp, objs, 64);
		pdk_mempool_free(mp);
	}
}

/* The policy documented in pdk_mempool.h, as a model. */
struct model {
	unsigned n, len, ring;
};

static bool model_get(struct model *m, unsigned k)
{
	unsigned want;

	if (k == 0)
		return true;
	if (k > m->n) {
		if (m->ring < k)
			return false;
		m->ring -= k;
		return true;
	}
	if (k <= m->len) {
		m->len -= k;
		return true;
	}
	want = PDK_MIN(k + m->n / 2, m->n) - m->len;
	if (m->ring < want)
		want = k - m->len;
	if (m->ring < want)
		return false;
	m->ring -= want;
	m->len = m->len + want - k;
	return true;
}

static void model_put(struct model *m, unsigned k)
{
	if (k > m->n) {
		m->ring += k;
		return;
	}
	if (m->len + k > m->n) {
		unsigned keep = PDK_MAX(m->n / 2, k) - k;

		m->ring += m->len - keep;
		m->len = keep;
	}
	m->len += k;
}

#define POOL_N 200

static void test_cache_policy_model(void **state)
{
	struct pdk_mempool *mp = pool("model", POOL_N, CACHE);
	struct model m = {.n = CACHE, .ring = POOL_N};
	void *held[POOL_N];
	unsigned nheld = 0, seed = 42, lcore = pdk_lcore_id();

	(void)state;
	for (int op = 0; op < 20000; op++) {
		unsigned k = 1 + (unsigned)rand_r(&seed) % (2 * CACHE + 2);

		if (rand_r(&seed) & 1) {
			bool ok = model_get(&m, k);

			assert_int_equal(pdk_mempool_get_bulk(mp, held + nheld, k),
					 ok ? 0 : -ENOENT);
			nheld += ok ? k : 0;
		} else {
			k = PDK_MIN(k, nheld);
			nheld -= k;
			model_put(&m, k);
			pdk_mempool_put_bulk(mp, held + nheld, k);
		}
		assert_int_equal(pdk_mempool_cache_count(mp, lcore), m.len);
		assert_true(m.len <= CACHE);
		assert_int_equal(pdk_ring_count(mp->ring), m.ring);
		assert_int_equal(pdk_mempool_avail_count(mp) + nheld, POOL_N);
	}
	pdk_mempool_put_bulk(mp, held, nheld);
	pdk_mempool_free(mp);
}

static void test_cache_hits_flush_and_bypass(void **state)
{
	struct pdk_mempool *mp = pool("hits", 64, CACHE);
	unsigned lcore = pdk_lcore_id();
	struct pdk_mempool_stats st;
	void *a, *b, *big[CACHE + 1];

	(void)state;
	assert_int_equal(pdk_mempool_get(mp, &a), 0); /* refill: N/2 stay */
	assert_int_equal(pdk_mempool_cache_count(mp, lcore), CACHE / 2);
	pdk_mempool_put(mp, a);
	assert_int_equal(pdk_mempool_get(mp, &b), 0);
	assert_ptr_equal(a, b); /* the object just put comes back first */
	pdk_mempool_stats_get(mp, lcore, &st);
	assert_int_equal(st.cache_refill, 1);
	assert_int_equal(st.cache_hit, 1);
	pdk_mempool_put(mp, b);

	/* Larger than the cache: straight to/from the ring. */
	assert_int_equal(pdk_mempool_get_bulk(mp, big, CACHE + 1), 0);
	assert_int_equal(pdk_mempool_cache_count(mp, lcore), CACHE / 2 + 1);
	pdk_mempool_put_bulk(mp, big, CACHE + 1);
	assert_int_equal(pdk_mempool_cache_count(mp, lcore), CACHE / 2 + 1);

	pdk_mempool_cache_flush(mp);
	assert_int_equal(pdk_mempool_cache_count(mp, lcore), 0);
	assert_int_equal(pdk_ring_count(mp->ring), 64);
	pdk_mempool_stats_total(mp, &st);
	assert_int_equal(st.cache_flush, 1);
	assert_int_equal(st.get_ok_objs, st.put_objs);
	pdk_mempool_stats_reset(mp);
	pdk_mempool_stats_total(mp, &st);
	assert_int_equal(st.get_ok + st.put + st.cache_hit, 0);
	assert_int_equal(pdk_mempool_stats_get(mp, PDK_MAX_LCORES, &st), -EINVAL);
	pdk_mempool_free(mp);
}

/* The cache looked up once and passed to each call behaves as the calls
 * that look it up; a non-EAL thread's has no cache. */
static void *default_cache_of_thread(void *arg)
{
	return pdk_mempool_default_cache(arg);
}

static void test_generic_get_put(void **state)
{
	struct pdk_mempool *mp = pool("generic", 64, CACHE);
	struct pdk_mempool_lcore *lc = pdk_mempool_default_cache(mp);
	void *objs[4], *other;
	pthread_t t;

	(void)state;
	assert_int_equal(lc->size, CACHE);
	assert_int_equal(pdk_mempool_generic_get(mp, objs, 4, lc), 0);
	assert_int_equal(pdk_mempool_cache_count(mp, pdk_lcore_id()),
			 CACHE / 2);
	pdk_mempool_generic_put(mp, objs, 4, lc);
	assert_int_equal(pdk_mempool_cache_count(mp, pdk_lcore_id()),
			 CACHE / 2 + 4);
	assert_int_equal(pdk_mempool_get(mp, &objs[0]), 0);
	assert_ptr_equal(objs[0], objs[3]); /* the newest first, either way */
	pdk_mempool_put(mp, objs[0]);
	assert_int_equal(pthread_create(&t, NULL, default_cache_of_thread, mp), 0);
	assert_int_equal(pthread_join(t, &other), 0);
	assert_ptr_not_equal(other, lc);
	assert_int_equal(((struct pdk_mempool_lcore *)other)->size, 0);
	pdk_mempool_free(mp);
}

/* A get from the cache returns the newest objects first: the reverse of
 * the order they were put, for every count (the pop moves two at a time). */
static void test_cache_returns_newest_first(void **state)
{
	struct pdk_mempool *mp = pool("newest", 64, CACHE);
	void *in[CACHE], *out[CACHE + 1];

	(void)state;
	for (unsigned k = 1; k <= CACHE; k++) {
		pdk_mempool_cache_flush(mp);
		assert_int_equal(pdk_mempool_get_bulk(mp, in, k), 0);
		pdk_mempool_cache_flush(mp);
		pdk_mempool_put_bulk(mp, in, k); /* the cache holds exactly these */
		assert_int_equal(pdk_mempool_cache_count(mp, pdk_lcore_id()), k);
		out[k] = NULL;
		assert_int_equal(pdk_mempool_get_bulk(mp, out, k), 0);
		for (unsigned i = 0; i < k; i++)
			assert_ptr_equal(out[i], in[k - 1 - i]);
		assert_null(out[k]); /* nothing written past k */
		pdk_mempool_put_bulk(mp, out, k);
	}
	pdk_mempool_free(mp);
}

/* Without PDK_MEMPOOL_F_STATS only the slow path counts: failures,
 * refills and flushes. */
static void test_stats_off_by_default(void **state)
{
	struct pdk_mempool *mp = pdk_mempool_create("nostats", 64, ELT, CACHE, 0,
						    NULL, NULL, PDK_SOCKET_ANY, 0);
	void *objs[64];
	struct pdk_mempool_stats st;

	(void)state;
	assert_non_null(mp);
	assert_int_equal(pdk_mempool_get_bulk(mp, objs, 64), 0); /* bypass */
	assert_int_equal(pdk_mempool_get(mp, objs), -ENOENT);
	pdk_mempool_put_bulk(mp, objs, 64);
	assert_int_equal(pdk_mempool_get_bulk(mp, objs, CACHE), 0); /* refill */
	assert_int_equal(pdk_mempool_get_bulk(mp, objs + CACHE, CACHE), 0);
	pdk_mempool_put_bulk(mp, objs, CACHE);         /* fits */
	pdk_mempool_put_bulk(mp, objs + CACHE, CACHE); /* flush first */
	assert_int_equal(pdk_mempool_get(mp, objs), 0); /* a hit */
	pdk_mempool_put(mp, objs[0]);
	pdk_mempool_stats_total(mp, &st);
	assert_int_equal(st.get_ok + st.get_ok_objs + st.put + st.put_objs +
				 st.cache_hit, 0);
	assert_int_equal(st.get_fail, 1);
	assert_int_equal(st.get_fail_objs, 1);
	assert_int_equal(st.cache_refill, 2);
	assert_int_equal(st.cache_flush, 1);
	pdk_mempool_free(mp);
}

/* Ownership flag in each object: a get that finds it set got an object
 * that someone else holds. */
struct churn {
	struct pdk_mempool *mp;
	unsigned iterations;
	unsigned seed;
	_Atomic unsigned *errors;
};

static int churn(void *arg)
{
	struct churn *c = arg;
	void *objs[2 * CACHE];
	unsigned self = pdk_lcore_id();

	for (unsigned i = 0; i < c->iterations; i++) {
		unsigned k = 1 + (unsigned)rand_r(&c->seed) % (2 * CACHE);

		if (pdk_mempool_get_bulk(c->mp, objs, k) != 0)
			continue;
		for (unsigned j = 0; j < k; j++)
			if (atomic_exchange((_Atomic int *)objs[j], 1) != 0)
				atomic_fetch_add(c->errors, 1);
		for (unsigned j = 0; j < k; j++)
			atomic_store((_Atomic int *)objs[j], 0);
		pdk_mempool_put_bulk(c->mp, objs, k);
		if (pdk_mempool_cache_count(c->mp, self) > c->mp->cache_size)
			atomic_fetch_add(c->errors, 1);
	}
	return 0;
}

static void *churn_thread(void *arg)
{
	churn(arg);
	return NULL;
}

static void zero_flag(struct pdk_mempool *mp, void *arg, void *obj,
		      unsigned idx)
{
	(void)mp, (void)arg, (void)idx;
	atomic_init((_Atomic int *)obj, 0);
}

static struct pdk_mempool *churn_pool(const char *name)
{
	/* Small: the lcores compete for the last objects. */
	struct pdk_mempool *mp = pdk_mempool_create(name, 3 * CACHE, ELT, CACHE,
						    0, zero_flag, NULL,
						    PDK_SOCKET_ANY,
						    PDK_MEMPOOL_F_STATS);

	assert_non_null(mp);
	return mp;
}

static void test_two_lcores(void **state)
{
	struct pdk_mempool *mp = churn_pool("lcores");
	_Atomic unsigned errors = 0;
	struct churn main_c = {mp, 200000, 1, &errors};
	struct churn worker_c = {mp, 200000, 2, &errors};
	struct pdk_mempool_stats st;
	unsigned worker = pdk_lcore_next(pdk_lcore_id(), true);

	(void)state;
	assert_true(worker < PDK_MAX_LCORES);
	assert_int_equal(pdk_eal_remote_launch(churn, &worker_c, worker), 0);
	churn(&main_c);
	assert_int_equal(pdk_eal_wait_lcore(worker), 0);
	assert_int_equal(atomic_load(&errors), 0);
	assert_int_equal(pdk_mempool_avail_count(mp), 3 * CACHE);
	pdk_mempool_stats_get(mp, worker, &st);
	assert_true(st.get_ok > 0 && st.cache_hit > 0);
	pdk_mempool_stats_total(mp, &st);
	assert_int_equal(st.get_ok_objs, st.put_objs);
	pdk_mempool_free(mp);
}

static void test_pthreads_bypass_cache(void **state)
{
	struct pdk_mempool *mp = churn_pool("threads");
	_Atomic unsigned errors = 0;
	struct churn c[3];
	pthread_t t[3];
	struct pdk_mempool_stats any, total;

	(void)state;
	for (unsigned i = 0; i < 3; i++) {
		c[i] = (struct churn){mp, 50000, 10 + i, &errors};
		assert_int_equal(pthread_create(&t[i], NULL, churn_thread, &c[i]), 0);
	}
	for (unsigned i = 0; i < 3; i++)
		pthread_join(t[i], NULL);
	assert_int_equal(atomic_load(&errors), 0);
	assert_int_equal(pdk_ring_count(mp->ring), 3 * CACHE); /* no cache used */
	assert_int_equal(pdk_mempool_cache_count(mp, pdk_lcore_id()), 0);
	pdk_mempool_stats_get(mp, PDK_LCORE_ID_ANY, &any);
	pdk_mempool_stats_total(mp, &total);
	assert_true(any.get_ok > 0);
	assert_int_equal(any.get_ok + any.get_fail, 150000);
	assert_int_equal(any.cache_hit, 0);
	assert_memory_equal(&any, &total, sizeof(any));
	pdk_mempool_free(mp);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_create_checks),
		cmocka_unit_test(test_objects_iova_init_priv),
		cmocka_unit_test(test_objects_never_straddle_iova_gaps),
		cmocka_unit_test(test_exhaustion),
		cmocka_unit_test(test_cache_policy_model),
		cmocka_unit_test(test_cache_hits_flush_and_bypass),
		cmocka_unit_test(test_generic_get_put),
		cmocka_unit_test(test_cache_returns_newest_first),
		cmocka_unit_test(test_stats_off_by_default),
		cmocka_unit_test(test_two_lcores),
		cmocka_unit_test(test_pthreads_bypass_cache),
	};
	return test_run_group_with_eal("mempool", tests, "0-1");
}
