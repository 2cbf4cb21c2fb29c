/* SPDX-License-Identifier: BSD-3-Clause */
/* Ring: single-thread semantics of every mode, size validation, registry. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <pdk_ring.h>
#include <pdk_test.h>

#define TAG(i) ((void *)(uintptr_t)(0x1000 + (i)))

struct mode {
	unsigned flags;
	unsigned count; /* capacity asked for */
};

static const struct mode modes[] = {
	{0, 16},
	{PDK_RING_F_SP_ENQ | PDK_RING_F_SC_DEQ, 16},
	{PDK_RING_F_SP_ENQ, 16},
	{PDK_RING_F_SC_DEQ, 16},
	{PDK_RING_F_EXACT_SZ, 13},
	{PDK_RING_F_EXACT_SZ | PDK_RING_F_SP_ENQ | PDK_RING_F_SC_DEQ, 13},
	{PDK_RING_F_EXACT_SZ, 16},
};

/* A ring in ordinary aligned memory: pdk_ring_init() needs no EAL. */
static struct pdk_ring *ring_new(unsigned count, unsigned flags)
{
	ssize_t size = pdk_ring_get_memsize(count, flags);
	struct pdk_ring *r;

	assert_true(size > 0);
	r = aligned_alloc(PDK_CACHE_LINE, (size_t)size);
	assert_non_null(r);
	assert_int_equal(pdk_ring_init(r, "t", count, flags), 0);
	return r;
}

static int mode_setup(void **state)
{
	const struct mode *m = *state;

	*state = ring_new(m->count, m->flags);
	return 0;
}

static int mode_teardown(void **state)
{
	free(*state);
	return 0;
}

static void test_fill_and_drain_one_by_one(void **state)
{
	struct pdk_ring *r = *state;
	unsigned cap = pdk_ring_capacity(r);
	void *obj;

	assert_true(pdk_ring_empty(r));
	assert_false(pdk_ring_full(r));
	assert_int_equal(pdk_ring_free_count(r), cap);
	for (unsigned i = 0; i < cap; i++) {
		assert_int_equal(pdk_ring_enqueue(r, TAG(i)), 0);
		assert_int_equal(pdk_ring_count(r), i + 1);
	}
	assert_true(pdk_ring_full(r));
	assert_int_equal(pdk_ring_free_count(r), 0);
	assert_int_equal(pdk_ring_enqueue(r, TAG(99)), -ENOBUFS);
	for (unsigned i = 0; i < cap; i++) {
		assert_int_equal(pdk_ring_dequeue(r, &obj), 0);
		assert_ptr_equal(obj, TAG(i)); /* FIFO */
	}
	assert_int_equal(pdk_ring_dequeue(r, &obj), -ENOENT);
	assert_true(pdk_ring_empty(r));
}

static void test_bulk_all_or_nothing(void **state)
{
	struct pdk_ring *r = *state;
	unsigned cap = pdk_ring_capacity(r), left = 12345;
	void *in[64], *out[64];

	for (unsigned i = 0; i < PDK_DIM(in); i++)
		in[i] = TAG(i);
	assert_int_equal(pdk_ring_enqueue_bulk(r, in, cap + 1, &left), 0);
	assert_int_equal(left, cap); /* nothing moved */
	assert_true(pdk_ring_empty(r));
	assert_int_equal(pdk_ring_enqueue_bulk(r, in, 5, &left), 5);
	assert_int_equal(left, cap - 5);
	assert_int_equal(pdk_ring_enqueue_bulk(r, in + 5, cap - 4, &left), 0);
	assert_int_equal(left, cap - 5);
	assert_int_equal(pdk_ring_count(r), 5);

	assert_int_equal(pdk_ring_dequeue_bulk(r, out, 6, &left), 0);
	assert_int_equal(left, 5);
	assert_int_equal(pdk_ring_dequeue_bulk(r, out, 5, &left), 5);
	assert_int_equal(left, 0);
	assert_memory_equal(out, in, 5 * sizeof(void *));
	assert_int_equal(pdk_ring_dequeue_bulk(r, out, 1, NULL), 0);
	assert_int_equal(pdk_ring_enqueue_bulk(r, in, 0, NULL), 0);
}

static void test_burst_as_many_as_possible(void **state)
{
	struct pdk_ring *r = *state;
	unsigned cap = pdk_ring_capacity(r), left;
	void *in[64], *out[64];

	for (unsigned i = 0; i < PDK_DIM(in); i++)
		in[i] = TAG(i);
	assert_int_equal(pdk_ring_enqueue_burst(r, in, 3, &left), 3);
	assert_int_equal(left, cap - 3);
	assert_int_equal(pdk_ring_enqueue_burst(r, in + 3, 40, &left), cap - 3);
	assert_int_equal(left, 0);
	assert_true(pdk_ring_full(r));
	assert_int_equal(pdk_ring_enqueue_burst(r, in, 1, &left), 0);

	assert_int_equal(pdk_ring_dequeue_burst(r, out, 2, &left), 2);
	assert_int_equal(left, cap - 2);
	assert_int_equal(pdk_ring_dequeue_burst(r, out + 2, 50, &left), cap - 2);
	assert_int_equal(left, 0);
	assert_memory_equal(out, in, cap * sizeof(void *));
	assert_int_equal(pdk_ring_dequeue_burst(r, out, 8, &left), 0);
}

/* Many laps of the slot array with odd-sized batches: order and counts
 * survive the index wrap at every offset. */
static void test_wrap_around(void **state)
{
	struct pdk_ring *r = *state;
	unsigned cap = pdk_ring_capacity(r);
	unsigned batch = cap / 2 + 1, next_in = 0, next_out = 0;
	void *buf[64];

	for (int lap = 0; lap < 1000; lap++) {
		for (unsigned i = 0; i < batch; i++)
			buf[i] = TAG(next_in + i);
		assert_int_equal(pdk_ring_enqueue_bulk(r, buf, batch, NULL), batch);
		next_in += batch;
		assert_int_equal(pdk_ring_count(r), batch);
		assert_int_equal(pdk_ring_dequeue_bulk(r, buf, batch, NULL), batch);
		for (unsigned i = 0; i < batch; i++)
			assert_ptr_equal(buf[i], TAG(next_out + i));
		next_out += batch;
	}
	assert_true(pdk_ring_empty(r));
}

/* Every batch size from every slot offset, through bulk and burst: the
 * copies move pointers two at a time and take a separate path across the
 * end of the slots, so each size's remainder and each split must keep the
 * order. */
static void test_every_size_at_every_offset(void **state)
{
	struct pdk_ring *r = *state;
	unsigned cap = pdk_ring_capacity(r), next_in = 0, next_out = 0;
	void *in[64], *out[64];

	for (unsigned n = 1; n <= cap; n++) {
		for (unsigned off = 0; off < r->size; off++) {
			bool burst = (n + off) % 2;

			for (unsigned i = 0; i < n; i++)
				in[i] = TAG(next_in + i);
			assert_int_equal(burst ? pdk_ring_enqueue_burst(r, in, n, NULL)
					       : pdk_ring_enqueue_bulk(r, in, n, NULL),
					 n);
			next_in += n;
			memset(out, 0, sizeof(out));
			assert_int_equal(burst ? pdk_ring_dequeue_burst(r, out, n, NULL)
					       : pdk_ring_dequeue_bulk(r, out, n, NULL),
					 n);
			for (unsigned i = 0; i < n; i++)
				assert_ptr_equal(out[i], TAG(next_out + i));
			assert_null(out[n]); /* nothing beyond n (n <= 16) */
			next_out += n;
			/* Shift the start by one slot for the next offset. */
			assert_int_equal(pdk_ring_enqueue(r, TAG(next_in)), 0);
			assert_int_equal(pdk_ring_dequeue(r, out), 0);
			assert_ptr_equal(out[0], TAG(next_in));
			next_in++;
			next_out++;
		}
	}
	assert_true(pdk_ring_empty(r));
}

/* Heads and tails are free-running 32-bit counters: crossing 2^32 keeps
 * counts and order. */
static void test_counter_wrap(void **state)
{
	struct pdk_ring *r = *state;
	unsigned cap = pdk_ring_capacity(r);
	uint32_t start = UINT32_MAX - 3;
	void *in[64], *out[64];

	atomic_store(&r->prod.head, start);
	atomic_store(&r->prod.tail, start);
	atomic_store(&r->cons.head, start);
	atomic_store(&r->cons.tail, start);
	for (unsigned i = 0; i < cap; i++)
		in[i] = TAG(i);
	assert_int_equal(pdk_ring_free_count(r), cap);
	assert_int_equal(pdk_ring_enqueue_bulk(r, in, cap, NULL), cap);
	assert_int_equal(pdk_ring_count(r), cap);
	assert_int_equal(pdk_ring_enqueue(r, TAG(0)), -ENOBUFS);
	assert_int_equal(pdk_ring_dequeue_burst(r, out, 64, NULL), cap);
	assert_memory_equal(out, in, cap * sizeof(void *));
	assert_true(pdk_ring_empty(r));
}

static void test_exact_capacity(void **state)
{
	(void)state;
	for (unsigned count = 1; count <= 40; count++) {
		struct pdk_ring *r = ring_new(count, PDK_RING_F_EXACT_SZ);
		void *buf[40] = {0};

		assert_int_equal(pdk_ring_capacity(r), count);
		assert_true(r->size >= count && PDK_IS_POWER_OF_2(r->size));
		assert_int_equal(pdk_ring_enqueue_burst(r, buf, 40, NULL), count);
		assert_true(pdk_ring_full(r));
		free(r);
	}
}

static void test_power_of_two_capacity_is_count(void **state)
{
	struct pdk_ring *r = ring_new(1024, 0);
	void *buf[1024] = {0};

	(void)state;
	assert_int_equal(pdk_ring_capacity(r), 1024);
	assert_int_equal(pdk_ring_enqueue_bulk(r, buf, 1024, NULL), 1024);
	assert_true(pdk_ring_full(r));
	free(r);
}

static void expect_rejected(unsigned count, unsigned flags, const char *says)
{
	alignas(PDK_CACHE_LINE) static char mem[4096];

	test_log_capture(PDK_LOG_ERR);
	assert_int_equal(pdk_ring_get_memsize(count, flags), -EINVAL);
	assert_log_contains("ring: ring count");
	assert_log_contains(says);
	assert_int_equal(pdk_ring_init((struct pdk_ring *)mem, "x", count, flags),
			 -EINVAL);
	test_log_release();
}

static void test_rejected_sizes(void **state)
{
	(void)state;
	expect_rejected(0, 0, "valid counts are 1..2147483647");
	expect_rejected(0, PDK_RING_F_EXACT_SZ, "valid counts are 1..2147483647");
	expect_rejected(3, 0, "use 2 or 4, or pass PDK_RING_F_EXACT_SZ");
	expect_rejected(1000, 0, "use 512 or 1024");
	expect_rejected(0x7fffffffU, 0, "not a power of two");
	expect_rejected(1U << 31, 0, "valid counts are 1..2147483647");
	expect_rejected(1U << 31, PDK_RING_F_EXACT_SZ, "1..2147483647");
	expect_rejected(UINT32_MAX, PDK_RING_F_EXACT_SZ, "1..2147483647");
}

static void test_accepted_sizes(void **state)
{
	size_t hdr = sizeof(struct pdk_ring);

	(void)state;
	assert_int_equal(pdk_ring_get_memsize(1, 0), hdr + 64);
	assert_int_equal(pdk_ring_get_memsize(1024, 0), hdr + 1024 * 8);
	assert_int_equal(pdk_ring_get_memsize(1U << 30, 0),
			 hdr + (1ULL << 30) * 8);
	assert_int_equal(pdk_ring_get_memsize(1000, PDK_RING_F_EXACT_SZ),
			 hdr + 1024 * 8);
	assert_int_equal(pdk_ring_get_memsize(0x7fffffffU, PDK_RING_F_EXACT_SZ),
			 hdr + (1ULL << 31) * 8);
	assert_int_equal(hdr % PDK_CACHE_LINE, 0);
	/* an empty line between prod, cons and the slots (128-byte pairs) */
	assert_int_equal(offsetof(struct pdk_ring, cons) -
				 offsetof(struct pdk_ring, prod),
			 2 * PDK_CACHE_LINE);
	assert_int_equal(offsetof(struct pdk_ring, slots) -
				 offsetof(struct pdk_ring, cons),
			 2 * PDK_CACHE_LINE);
}

static void test_init_rejects_bad_args(void **state)
{
	alignas(PDK_CACHE_LINE) static char mem[4096];
	struct pdk_ring *r = (struct pdk_ring *)(void *)mem;

	(void)state;
	test_log_capture(PDK_LOG_ERR); /* expected errors: keep them off stderr */
	assert_int_equal(pdk_ring_init((struct pdk_ring *)(void *)(mem + 8), "x", 8, 0),
			 -EINVAL);
	assert_int_equal(pdk_ring_init(NULL, "x", 8, 0), -EINVAL);
	assert_int_equal(pdk_ring_init(r, NULL, 8, 0), -EINVAL);
	assert_int_equal(pdk_ring_init(r, "x", 8, 0x80), -EINVAL);
	assert_int_equal(pdk_ring_init(r, "0123456789012345678901234567890123",
				       8, 0), -ENAMETOOLONG);
	assert_int_equal(pdk_ring_init(r, "0123456789012345678901234567890", 8,
				       0), 0); /* 31 characters fit */
	test_log_release();
}

/* pdk_ring_create() and the registry use EAL memory. */
static void test_create_lookup_free(void **state)
{
	struct pdk_ring *r, *r2;

	(void)state;
	r = pdk_ring_create("reg_a", 100, PDK_SOCKET_ANY,
			    PDK_RING_F_EXACT_SZ | PDK_RING_F_SP_ENQ);
	assert_non_null(r);
	assert_string_equal(pdk_ring_name(r), "reg_a");
	assert_int_equal(pdk_ring_capacity(r), 100);
	assert_true(r->prod.single);
	assert_false(r->cons.single);
	assert_ptr_equal(pdk_ring_lookup("reg_a"), r);

	test_log_capture(PDK_LOG_ERR);
	errno = 0;
	assert_null(pdk_ring_create("reg_a", 64, PDK_SOCKET_ANY, 0));
	assert_int_equal(errno, EEXIST);
	assert_log_contains("ring: ring name 'reg_a' is taken");
	assert_null(pdk_ring_create("reg_b", 100, PDK_SOCKET_ANY, 0));
	assert_int_equal(errno, EINVAL);
	assert_null(pdk_ring_create("0123456789012345678901234567890123", 64,
				    PDK_SOCKET_ANY, 0));
	assert_int_equal(errno, ENAMETOOLONG);
	test_log_release();

	r2 = pdk_ring_create("reg_b", 64, 0, 0);
	assert_non_null(r2);
	assert_ptr_equal(pdk_ring_lookup("reg_b"), r2);
	pdk_ring_free(r);
	assert_null(pdk_ring_lookup("reg_a"));
	assert_int_equal(errno, ENOENT);
	assert_ptr_equal(pdk_ring_lookup("reg_b"), r2);
	pdk_ring_free(r2);
	pdk_ring_free(NULL);

	r = ring_new(8, 0); /* pdk_ring_init(): never registered */
	assert_null(pdk_ring_lookup("t"));
	free(r);
}

/* The same tests for each mode, named "<test> <mode>". */
#define MODE_TEST(f, i, label) \
	{#f " " label, f, mode_setup, mode_teardown, (void *)&modes[i]}
#define MODE_TESTS(i, label)                                   \
	MODE_TEST(test_fill_and_drain_one_by_one, i, label),    \
	MODE_TEST(test_bulk_all_or_nothing, i, label),          \
	MODE_TEST(test_burst_as_many_as_possible, i, label),    \
	MODE_TEST(test_wrap_around, i, label),                  \
	MODE_TEST(test_every_size_at_every_offset, i, label),   \
	MODE_TEST(test_counter_wrap, i, label)

int main(void)
{
	const struct CMUnitTest tests[] = {
		MODE_TESTS(0, "MP/MC"), MODE_TESTS(1, "SP/SC"),
		MODE_TESTS(2, "SP/MC"), MODE_TESTS(3, "MP/SC"),
		MODE_TESTS(4, "MP/MC exact 13"), MODE_TESTS(5, "SP/SC exact 13"),
		MODE_TESTS(6, "MP/MC exact 16"),
		cmocka_unit_test(test_exact_capacity),
		cmocka_unit_test(test_power_of_two_capacity_is_count),
		cmocka_unit_test(test_rejected_sizes),
		cmocka_unit_test(test_accepted_sizes),
		cmocka_unit_test(test_init_rejects_bad_args),
		cmocka_unit_test(test_create_lookup_free),
	};
	static_assert(PDK_DIM(modes) == 7, "one MODE_TESTS() per mode");
	return test_run_group_with_eal("ring", tests, "0");
}
