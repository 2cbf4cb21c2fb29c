/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Mbuf: pool creation, fresh-mbuf state and IOVAs, data pointer bounds
 * (prepend/append/adj/trim), reference counts, chains and their free, bulk
 * free, pool exhaustion, and concurrent alloc/free with shared references.
 */
#include <pthread.h>
#include <sched.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <cmocka.h>

#include <pdk_mbuf.h>
#include <pdk_test.h>

#define NB_MBUF 64
#define CACHE 8
#define ROOM PDK_MBUF_DEFAULT_BUF_SIZE

static int pool_setup(void **state)
{
	struct pdk_mempool *mp = pdk_pktmbuf_pool_create(
		"mb", NB_MBUF, CACHE, 16, ROOM, PDK_SOCKET_ANY);

	*state = mp;
	return mp == NULL ? -1 : 0;
}

static int pool_teardown(void **state)
{
	struct pdk_mempool *mp = *state;

	/* Every test gives back what it took. */
	pdk_mempool_cache_flush(mp);
	assert_int_equal(pdk_mempool_avail_count(mp), NB_MBUF);
	pdk_mempool_free(mp);
	return 0;
}

/* An mbuf the test needs; abort() tells the compiler it is never NULL. */
static struct pdk_mbuf *alloc(struct pdk_mempool *mp)
{
	struct pdk_mbuf *m = pdk_pktmbuf_alloc(mp);

	if (m == NULL) {
		print_error("pdk_pktmbuf_alloc failed: %s\n", strerror(errno));
		abort();
	}
	return m;
}

static void expect_ok(const struct pdk_mbuf *m)
{
	const char *why = NULL;

	if (pdk_mbuf_check(m, true, &why) != 0)
		fail_msg("mbuf check: %s", why);
}

static void test_fresh_mbuf(void **state)
{
	struct pdk_mempool *mp = *state;
	struct pdk_mbuf *m = alloc(mp);

	expect_ok(m);
	assert_ptr_equal(m->pool, mp);
	assert_int_equal(m->buf_len, ROOM);
	assert_int_equal(m->data_off, PDK_PKTMBUF_HEADROOM);
	assert_int_equal(m->data_len, 0);
	assert_int_equal(m->pkt_len, 0);
	assert_int_equal(m->nb_segs, 1);
	assert_null(m->next);
	assert_int_equal(m->port, PDK_MBUF_PORT_INVALID);
	assert_int_equal(pdk_mbuf_refcnt_read(m), 1);
	assert_int_equal(m->priv_size, 16);
	assert_ptr_equal(m->buf_addr, (char *)pdk_mbuf_to_priv(m) + 16);
	assert_int_equal(pdk_pktmbuf_data_room_size(mp), ROOM);
	assert_int_equal(pdk_pktmbuf_priv_size(mp), 16);
	/* The device address of the data is the EAL's IOVA of those bytes. */
	assert_int_equal(m->buf_iova, pdk_mem_virt2iova(m->buf_addr));
	assert_int_equal(pdk_pktmbuf_iova(m),
			 pdk_mem_virt2iova(pdk_pktmbuf_mtod(m, char *)));
	assert_int_equal(pdk_pktmbuf_iova_offset(m, 10),
			 pdk_mem_virt2iova(pdk_pktmbuf_mtod_offset(m, char *, 10)));
	assert_true(pdk_mem_iova_contig(m->buf_addr, m->buf_len));
	assert_int_equal((uintptr_t)m % PDK_CACHE_LINE, 0);

	/* Dirty fields come back clean on the next alloc. */
	m->port = 3;
	m->ol_flags = 0xff;
	m->packet_type = 7;
	m->data_off = 0;
	pdk_pktmbuf_free(m);
	m = alloc(mp);
	assert_int_equal(m->port, PDK_MBUF_PORT_INVALID);
	assert_int_equal(m->ol_flags, 0);
	assert_int_equal(m->packet_type, 0);
	assert_int_equal(m->data_off, PDK_PKTMBUF_HEADROOM);
	pdk_pktmbuf_free(m);
}

static void test_prepend_append_adj_trim_bounds(void **state)
{
	struct pdk_mbuf *m = alloc(*state);
	char *data, *p;

	/* append: up to the tailroom exactly. */
	assert_int_equal(pdk_pktmbuf_tailroom(m), ROOM - PDK_PKTMBUF_HEADROOM);
	data = pdk_pktmbuf_append(m, 100);
	assert_ptr_equal(data, pdk_pktmbuf_mtod(m, char *));
	memset(data, 'x', 100);
	assert_int_equal(m->data_len, 100);
	assert_int_equal(m->pkt_len, 100);
	assert_null(pdk_pktmbuf_append(m, pdk_pktmbuf_tailroom(m) + 1));
	assert_int_equal(m->data_len, 100);
	p = pdk_pktmbuf_append(m, pdk_pktmbuf_tailroom(m));
	assert_ptr_equal(p, data + 100);
	assert_int_equal(pdk_pktmbuf_tailroom(m), 0);
	assert_null(pdk_pktmbuf_append(m, 1));
	assert_int_equal(m->data_len, ROOM - PDK_PKTMBUF_HEADROOM);

	/* trim: up to data_len exactly. */
	assert_int_equal(pdk_pktmbuf_trim(m, m->data_len + 1), -EINVAL);
	assert_int_equal(pdk_pktmbuf_trim(m, m->data_len - 100), 0);
	assert_int_equal(m->data_len, 100);
	assert_int_equal(m->pkt_len, 100);

	/* prepend: up to the headroom exactly. */
	assert_null(pdk_pktmbuf_prepend(m, PDK_PKTMBUF_HEADROOM + 1));
	p = pdk_pktmbuf_prepend(m, 14);
	assert_ptr_equal(p, data - 14);
	assert_int_equal(m->pkt_len, 114);
	p = pdk_pktmbuf_prepend(m, PDK_PKTMBUF_HEADROOM - 14);
	assert_ptr_equal(p, m->buf_addr);
	assert_int_equal(pdk_pktmbuf_headroom(m), 0);
	assert_null(pdk_pktmbuf_prepend(m, 1));

	/* adj: up to data_len exactly. */
	assert_null(pdk_pktmbuf_adj(m, m->data_len + 1));
	p = pdk_pktmbuf_adj(m, PDK_PKTMBUF_HEADROOM);
	assert_ptr_equal(p, data);
	assert_int_equal(m->data_len, 100);
	assert_int_equal(m->pkt_len, 100);
	assert_non_null(pdk_pktmbuf_adj(m, 100));
	assert_int_equal(m->data_len, 0);
	assert_int_equal(m->pkt_len, 0);
	expect_ok(m);
	pdk_pktmbuf_free(m);
}

static void test_refcnt(void **state)
{
	struct pdk_mempool *mp = *state;
	struct pdk_mbuf *m = alloc(mp);
	unsigned before = pdk_mempool_avail_count(mp);

	assert_int_equal(pdk_mbuf_refcnt_update(m, 2), 3);
	assert_int_equal(pdk_mbuf_refcnt_read(m), 3);
	pdk_pktmbuf_free(m); /* 3 -> 2 */
	pdk_pktmbuf_free(m); /* 2 -> 1 */
	assert_int_equal(pdk_mbuf_refcnt_read(m), 1);
	assert_int_equal(pdk_mempool_avail_count(mp), before);
	pdk_pktmbuf_free(m); /* last reference: back to the pool */
	assert_int_equal(pdk_mempool_avail_count(mp), before + 1);
	assert_int_equal(pdk_mbuf_refcnt_read(m), 1); /* free mbufs keep 1 */
	pdk_pktmbuf_free(NULL);
}

/* A packet of `segs` segments of `len` bytes each. */
static struct pdk_mbuf *packet(struct pdk_mempool *mp, unsigned segs,
			       uint16_t len)
{
	struct pdk_mbuf *head = NULL;

	for (unsigned i = 0; i < segs; i++) {
		struct pdk_mbuf *m = alloc(mp);

		assert_non_null(pdk_pktmbuf_append(m, len));
		if (head == NULL)
			head = m;
		else
			assert_int_equal(pdk_pktmbuf_chain(head, m), 0);
	}
	return head;
}

static void test_chain_and_chained_free(void **state)
{
	struct pdk_mempool *mp = *state;
	unsigned before = pdk_mempool_avail_count(mp);
	struct pdk_mbuf *p = packet(mp, 5, 1000), *second;
	const char *why;

	assert_int_equal(p->nb_segs, 5);
	assert_int_equal(p->pkt_len, 5000);
	assert_false(pdk_pktmbuf_is_contiguous(p));
	expect_ok(p);
	assert_int_equal(pdk_mempool_avail_count(mp), before - 5);

	/* append/trim act on the last segment; pkt_len follows. */
	assert_non_null(pdk_pktmbuf_append(p, 10));
	assert_int_equal(pdk_pktmbuf_lastseg(p)->data_len, 1010);
	assert_int_equal(pdk_pktmbuf_trim(p, 1011), -EINVAL);
	assert_int_equal(pdk_pktmbuf_trim(p, 10), 0);
	assert_int_equal(p->pkt_len, 5000);

	/* A corrupted length is caught by the check. */
	p->pkt_len++;
	assert_int_equal(pdk_mbuf_check(p, true, &why), -EINVAL);
	assert_string_equal(why, "pkt_len is not the sum of data_len");
	p->pkt_len--;

	/* A segment still referenced elsewhere survives the packet's free. */
	second = p->next;
	pdk_mbuf_refcnt_update(second, 1);
	pdk_pktmbuf_free(p);
	assert_int_equal(pdk_mempool_avail_count(mp), before - 1);
	assert_int_equal(pdk_mbuf_refcnt_read(second), 1);
	pdk_pktmbuf_free_seg(second);
	assert_int_equal(pdk_mempool_avail_count(mp), before);

	/* Reused segments come back unchained. */
	p = alloc(mp);
	assert_null(p->next);
	assert_int_equal(p->nb_segs, 1);
	pdk_pktmbuf_free(p);
}

static void test_chain_overflow(void **state)
{
	struct pdk_mbuf *a = alloc(*state), *b = alloc(*state);

	a->nb_segs = UINT16_MAX; /* pretend */
	assert_int_equal(pdk_pktmbuf_chain(a, b), -EOVERFLOW);
	assert_null(a->next);
	a->nb_segs = 1;
	a->pkt_len = UINT32_MAX;
	b->pkt_len = 1;
	assert_int_equal(pdk_pktmbuf_chain(a, b), -EOVERFLOW);
	a->pkt_len = b->pkt_len = 0;
	pdk_pktmbuf_free(a);
	pdk_pktmbuf_free(b);
}

static void test_bulk_alloc_free_and_exhaustion(void **state)
{
	struct pdk_mempool *mp = *state;
	struct pdk_mbuf *all[NB_MBUF], *one, *pkts[3];

	assert_int_equal(pdk_pktmbuf_alloc_bulk(mp, all, NB_MBUF), 0);
	for (unsigned i = 0; i < NB_MBUF; i++)
		expect_ok(all[i]);
	errno = 0;
	assert_null(pdk_pktmbuf_alloc(mp));
	assert_int_equal(errno, ENOENT);
	assert_int_equal(pdk_pktmbuf_alloc_bulk(mp, &one, 1), -ENOENT);
	pdk_pktmbuf_free_bulk(all, NB_MBUF);
	assert_int_equal(pdk_mempool_avail_count(mp), NB_MBUF);

	/* free_bulk frees whole chains and skips NULL. */
	pkts[0] = packet(mp, 3, 10);
	pkts[1] = NULL;
	pkts[2] = packet(mp, 2, 10);
	assert_int_equal(pdk_mempool_avail_count(mp), NB_MBUF - 5);
	pdk_pktmbuf_free_bulk(pkts, 3);
	assert_int_equal(pdk_mempool_avail_count(mp), NB_MBUF);
}

static void test_pool_create_checks(void **state)
{
	(void)state;
	test_log_capture(PDK_LOG_ERR);
	errno = 0;
	assert_null(pdk_pktmbuf_pool_create("bad", 16, 0, 12, ROOM, 0));
	assert_int_equal(errno, EINVAL);
	assert_log_contains("mbuf: mbuf pool bad: priv_size 12 is not a multiple of 8");
	assert_null(pdk_pktmbuf_pool_create("bad", 0, 0, 0, ROOM, 0));
	assert_int_equal(errno, EINVAL);
	test_log_release();
}

/* Threads share packets by reference: each frees its own reference; the
 * last one recycles the mbuf. No mbuf may be lost or freed twice. */
struct share {
	struct pdk_mempool *mp;
	struct pdk_ring *handoff;
	_Atomic unsigned *errors;
	unsigned count;
};

static void *share_producer(void *arg)
{
	struct share *s = arg;

	for (unsigned i = 0; i < s->count; i++) {
		struct pdk_mbuf *m;

		while ((m = pdk_pktmbuf_alloc(s->mp)) == NULL)
			sched_yield();
		if (pdk_mbuf_refcnt_read(m) != 1)
			atomic_fetch_add(s->errors, 1);
		pdk_mbuf_refcnt_update(m, 1); /* one for us, one for the peer */
		*pdk_pktmbuf_append(m, 4) = (char)i;
		while (pdk_ring_enqueue(s->handoff, m) != 0)
			sched_yield();
		pdk_pktmbuf_free(m);
	}
	return NULL;
}

static void test_threads_share_references(void **state)
{
	struct pdk_mempool *mp = *state;
	_Atomic unsigned errors = 0;
	struct share s = {mp, NULL, &errors, 100000};
	pthread_t t;
	void *m;

	(void)state;
	s.handoff = pdk_ring_create("handoff", 16, PDK_SOCKET_ANY,
				    PDK_RING_F_SP_ENQ | PDK_RING_F_SC_DEQ);
	assert_non_null(s.handoff);
	assert_int_equal(pthread_create(&t, NULL, share_producer, &s), 0);
	for (unsigned i = 0; i < s.count; i++) {
		while (pdk_ring_dequeue(s.handoff, &m) != 0)
			sched_yield();
		if (*pdk_pktmbuf_mtod(((struct pdk_mbuf *)m), char *) != (char)i)
			atomic_fetch_add(&errors, 1);
		pdk_pktmbuf_free(m);
	}
	pthread_join(t, NULL);
	assert_int_equal(atomic_load(&errors), 0);
	pdk_ring_free(s.handoff);
}

#define POOL_TEST(f) cmocka_unit_test_setup_teardown(f, pool_setup, pool_teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
		POOL_TEST(test_fresh_mbuf),
		POOL_TEST(test_prepend_append_adj_trim_bounds),
		POOL_TEST(test_refcnt),
		POOL_TEST(test_chain_and_chained_free),
		POOL_TEST(test_chain_overflow),
		POOL_TEST(test_bulk_alloc_free_and_exhaustion),
		cmocka_unit_test(test_pool_create_checks),
		POOL_TEST(test_threads_share_references),
	};
	return test_run_group_with_eal("mbuf", tests, "0");
}
