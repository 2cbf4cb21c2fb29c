/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The driver's split virtqueue (drivers/net/virtio/virtio_ring.h) against a
 * fake device side: buffers out and back, chains, completion out of order,
 * indexes wrapping past 65535, notification suppression with and without
 * EVENT_IDX, the event index arithmetic, and malformed used entries (id out
 * of range, not outstanding, duplicate, length beyond the buffer, used
 * index running ahead): each breaks the ring and is counted, and every
 * cookie comes back exactly once, over 100,000 malformed entries.
 */
#include "pdk_test.h"

#include <virtio_ring.h>

#define QSZ 64
#define NCOOKIE 4096

static uint8_t ring_mem[65536] __attribute__((aligned(64)));
static uint8_t priv_mem[65536];
static struct vq_ring r;

/* Every cookie is a slot here; `held` says whether the ring has it. */
static uint8_t cookies[NCOOKIE];
static int held[NCOOKIE];
static unsigned returned;

/* ---- the fake device: reads avail, writes used ---- */

struct fake_dev {
	uint16_t last_avail;
	uint16_t used_idx;
};

static struct fake_dev fd;

static uint16_t fake_avail_pending(void)
{
	return (uint16_t)(__atomic_load_n(&r.avail->idx, __ATOMIC_ACQUIRE) - fd.last_avail);
}

/* Pop the next chain head and the total length of its buffers. */
static uint16_t fake_pop(uint32_t *total)
{
	uint16_t head = r.avail->ring[fd.last_avail++ & r.mask], id = head;

	*total = 0;
	for (unsigned n = 0; n <= r.size; n++) {
		*total += r.desc[id].len;
		if (!(r.desc[id].flags & PDK_VIRTQ_DESC_F_NEXT))
			break;
		id = r.desc[id].next;
	}
	return head;
}

static void fake_push(uint32_t id, uint32_t len)
{
	struct pdk_virtq_used_elem *e = &r.used->ring[fd.used_idx & r.mask];

	e->id = id;
	e->len = len;
	fd.used_idx++;
	__atomic_store_n(&r.used->idx, fd.used_idx, __ATOMIC_RELEASE);
}

/* ---- helpers ---- */

static void ring_new(unsigned size, bool event_idx)
{
	struct vq_layout l;

	vq_ring_layout(size, &l);
	assert_true(l.bytes <= sizeof(ring_mem));
	assert_true(vq_ring_priv_bytes(size) <= sizeof(priv_mem));
	memset(ring_mem, 0xa5, sizeof(ring_mem)); /* init must clear it */
	assert_int_equal(vq_ring_init(&r, size, ring_mem, priv_mem, event_idx), 0);
	memset(&fd, 0, sizeof(fd));
	memset(held, 0, sizeof(held));
	returned = 0;
}

static int add_cookie(unsigned c, uint32_t len)
{
	int head = vq_add1(&r, &cookies[c], 0x100000 + c * 2048ull, len, true);

	if (head >= 0)
		held[c]++;
	return head;
}

/* Take what the ring gives back; each cookie must be one it held. */
static unsigned take_all(uint32_t *last_len)
{
	unsigned n = vq_used_count(&r), got = 0;

	for (unsigned i = 0; i < n; i++) {
		uint32_t len = 0;
		uint8_t *c = vq_get(&r, &len);

		if (c == NULL)
			break;
		assert_int_equal(held[c - cookies], 1);
		held[c - cookies]--;
		returned++;
		got++;
		if (last_len)
			*last_len = len;
	}
	return got;
}

static void drain_cb(void *cookie, void *arg)
{
	uint8_t *c = cookie;

	(void)arg;
	assert_int_equal(held[c - cookies], 1);
	held[c - cookies]--;
	returned++;
}

static void assert_none_held(void)
{
	for (unsigned i = 0; i < NCOOKIE; i++)
		assert_int_equal(held[i], 0);
}

/* ---- tests ---- */

static void test_init(void **state)
{
	struct vq_layout l;

	(void)state;
	assert_int_equal(vq_ring_init(&r, 0, ring_mem, priv_mem, false), -EINVAL);
	assert_int_equal(vq_ring_init(&r, 48, ring_mem, priv_mem, false), -EINVAL);
	assert_int_equal(vq_ring_init(&r, 65536, ring_mem, priv_mem, false), -EINVAL);
	ring_new(QSZ, true);
	vq_ring_layout(QSZ, &l);
	assert_int_equal(l.avail_off, QSZ * 16);
	assert_int_equal(l.used_off % 64, 0);
	assert_true(l.used_off >= l.avail_off + 4 + 2 * QSZ + 2);
	assert_int_equal(r.nb_free, QSZ);
	assert_int_equal(r.avail->idx, 0);
	assert_int_equal(r.used->idx, 0);
	assert_int_equal(r.avail->flags, PDK_VIRTQ_AVAIL_F_NO_INTERRUPT);
	assert_int_equal(*pdk_virtq_used_event(r.avail, QSZ), 0xffff);
	assert_int_equal(vq_used_count(&r), 0);
}

static void test_out_and_back(void **state)
{
	uint32_t total, len = 0;

	(void)state;
	ring_new(QSZ, false);
	for (unsigned c = 0; c < QSZ; c++)
		assert_true(add_cookie(c, 1500) >= 0);
	assert_int_equal(add_cookie(QSZ, 1500), -ENOSPC);
	assert_int_equal(fake_avail_pending(), 0); /* not published yet */
	vq_publish(&r);
	assert_int_equal(fake_avail_pending(), QSZ);
	for (unsigned i = 0; i < QSZ; i++) {
		uint16_t head = fake_pop(&total);

		assert_int_equal(total, 1500);
		assert_int_equal(r.desc[head].flags, PDK_VIRTQ_DESC_F_WRITE);
		fake_push(head, 60 + i);
	}
	assert_int_equal(vq_used_count(&r), QSZ);
	assert_int_equal(take_all(&len), QSZ);
	assert_int_equal(len, 60 + QSZ - 1);
	assert_int_equal(r.nb_free, QSZ);
	assert_int_equal(r.inflight, 0);
	assert_false(r.broken);
	assert_none_held();
}

/* Tx-like chains of 3, completed in reverse order. */
static void test_chains_out_of_order(void **state)
{
	uint16_t heads[QSZ / 3];
	struct vq_seg s[3] = {{0x1000, 12, false}, {0x2000, 100, false},
			      {0x3000, 200, false}};
	unsigned n = 0;
	uint32_t total;

	(void)state;
	ring_new(QSZ, false);
	while (vq_add(&r, &cookies[n], s, 3, 312) >= 0)
		held[n++]++;
	assert_int_equal(n, QSZ / 3);
	assert_int_equal(r.nb_free, QSZ % 3);
	vq_publish(&r);
	for (unsigned i = 0; i < n; i++) {
		heads[i] = fake_pop(&total);
		assert_int_equal(total, 312);
	}
	for (unsigned i = n; i-- > 0;)
		fake_push(heads[i], 0);
	assert_int_equal(take_all(NULL), n);
	assert_int_equal(r.nb_free, QSZ);
	assert_none_held();
	/* a fresh batch reuses the freed descriptors */
	assert_true(vq_add(&r, &cookies[0], s, 3, 312) >= 0);
	held[0]++;
	vq_publish(&r);
	fake_push(fake_pop(&total), 0); /* the length is a constant here */
	assert_int_equal(take_all(NULL), 1);
}

/* 200,000 buffers through an 8-entry ring: every index wraps many times. */
static void test_wrap_around(void **state)
{
	uint32_t total, len;
	unsigned c = 0;

	(void)state;
	ring_new(8, true);
	for (unsigned round = 0; round < 200000 / 5; round++) {
		for (unsigned i = 0; i < 5; i++, c = (c + 1) % NCOOKIE)
			assert_true(add_cookie(c, 2048) >= 0);
		vq_publish(&r);
		while (fake_avail_pending()) {
			uint16_t head = fake_pop(&total);

			fake_push(head, total - 1);
		}
		assert_int_equal(take_all(&len), 5);
		assert_int_equal(len, 2047);
	}
	assert_int_equal(returned, 200000);
	assert_int_equal(r.used_last, (uint16_t)200000);
	assert_int_equal(r.avail->idx, (uint16_t)200000);
	assert_false(r.broken);
	assert_none_held();
}

static void test_need_event_math(void **state)
{
	(void)state;
	/* event in [old, new): notify */
	assert_true(pdk_virtq_need_event(5, 10, 5));
	assert_true(pdk_virtq_need_event(9, 10, 5));
	assert_false(pdk_virtq_need_event(10, 10, 5));
	assert_false(pdk_virtq_need_event(4, 10, 5));
	assert_false(pdk_virtq_need_event(5, 5, 5)); /* nothing new */
	/* across the 16-bit wrap */
	assert_true(pdk_virtq_need_event(0xfffe, 3, 0xfff0));
	assert_true(pdk_virtq_need_event(1, 3, 0xfff0));
	assert_false(pdk_virtq_need_event(3, 3, 0xfff0));
	assert_false(pdk_virtq_need_event(0xffef, 3, 0xfff0));
	/* a whole 65535-step window */
	assert_true(pdk_virtq_need_event(0x8000, 0x7fff, 0x8000));
}

static void publish_n(unsigned n, unsigned *c)
{
	for (unsigned i = 0; i < n; i++, (*c)++)
		assert_true(add_cookie(*c, 64) >= 0);
	vq_publish(&r);
}

static void test_kick_event_idx(void **state)
{
	uint16_t *avail_event;
	unsigned c = 0;

	(void)state;
	ring_new(QSZ, true);
	avail_event = pdk_virtq_avail_event(r.used, QSZ);
	assert_false(vq_kick_needed(&r)); /* nothing published */
	*avail_event = 0;                 /* device: tell me about entry 0 */
	publish_n(4, &c);
	assert_true(vq_kick_needed(&r));
	assert_false(vq_kick_needed(&r)); /* told already */
	publish_n(4, &c);                 /* event 0 is behind: device busy */
	assert_false(vq_kick_needed(&r));
	*avail_event = 10;                /* device went idle at 10 */
	publish_n(2, &c);                 /* 8..9: not yet */
	assert_false(vq_kick_needed(&r));
	publish_n(1, &c);                 /* 10 published */
	assert_true(vq_kick_needed(&r));
	assert_int_equal(vq_counter(&r.st.kicks), 2);
	assert_int_equal(vq_counter(&r.st.kicks_saved), 2);
}

static void test_kick_flags(void **state)
{
	unsigned c = 0;

	(void)state;
	ring_new(QSZ, false);
	*pdk_virtq_avail_event(r.used, QSZ) = 1000; /* ignored without EVENT_IDX */
	publish_n(1, &c);
	assert_true(vq_kick_needed(&r));
	r.used->flags = PDK_VIRTQ_USED_F_NO_NOTIFY;
	publish_n(1, &c);
	assert_false(vq_kick_needed(&r));
	r.used->flags = 0;
	assert_false(vq_kick_needed(&r)); /* nothing new since */
	publish_n(1, &c);
	assert_true(vq_kick_needed(&r));
}

/* Fill the ring, give `good` back properly, then one malformed entry. */
enum bad { BAD_ID, BAD_NEVER, BAD_DUP, BAD_LEN, BAD_IDX, BAD_NONHEAD, BAD_KINDS };

static void inject(enum bad kind, const uint16_t *heads, unsigned good)
{
	switch (kind) {
	case BAD_ID:
		fake_push(r.size + (good % 7) * 1000u, 10);
		break;
	case BAD_NEVER: /* a head the driver never gave: ring is full but one */
		fake_push(r.free_ids[0], 10);
		break;
	case BAD_DUP: /* the last one again */
		fake_push(good ? heads[good - 1] : 0xffffu, 10);
		break;
	case BAD_LEN:
		fake_push(heads[good], 2049);
		break;
	case BAD_IDX: /* announce more entries than outstanding */
		fd.used_idx = (uint16_t)(fd.used_idx + r.size + 1);
		__atomic_store_n(&r.used->idx, fd.used_idx, __ATOMIC_RELEASE);
		break;
	case BAD_NONHEAD: /* the second descriptor of a chain */
		fake_push(r.next[heads[good]], 10);
		break;
	default:
		break;
	}
}

static uint64_t bad_total(void)
{
	return vq_counter(&r.st.bad_id) + vq_counter(&r.st.bad_stale) +
	       vq_counter(&r.st.bad_len) + vq_counter(&r.st.bad_idx);
}

static void one_malformed(enum bad kind, unsigned good, unsigned *c)
{
	uint16_t heads[QSZ];
	struct vq_seg s[2] = {{0x1000, 1024, true}, {0x2000, 1024, true}};
	unsigned n = 0, given = returned;
	uint32_t total;
	uint64_t before = bad_total();

	/* chains of two so that a non-head id exists; one left free */
	while (r.nb_free > 2) {
		assert_true(vq_add(&r, &cookies[*c], s, 2, 2048) >= 0);
		held[*c]++;
		*c = (*c + 1) % NCOOKIE;
		n++;
	}
	vq_publish(&r);
	for (unsigned i = 0; i < n; i++)
		heads[i] = fake_pop(&total);
	good %= n;
	if (kind == BAD_DUP && good == 0)
		good = 1;
	for (unsigned i = 0; i < good; i++)
		fake_push(heads[i], 2048);
	inject(kind, heads, good);
	if (kind != BAD_IDX)
		assert_int_equal(take_all(NULL), good);
	else
		assert_int_equal(vq_used_count(&r), 0);
	assert_true(r.broken);
	assert_int_equal(bad_total(), before + 1);
	/* broken: nothing more comes out, even valid entries */
	fake_push(heads[n - 1], 10);
	assert_int_equal(vq_used_count(&r), 0);
	/* the device is reset, the rest drained: every cookie back once */
	assert_int_equal(vq_ring_drain(&r, drain_cb, NULL), n - (kind == BAD_IDX ? 0 : good));
	assert_int_equal(returned - given, n);
	assert_false(r.broken);
	assert_int_equal(r.nb_free, r.size);
	memset(&fd, 0, sizeof(fd));
}

static void test_malformed_each(void **state)
{
	unsigned c = 0;

	(void)state;
	ring_new(QSZ, true);
	one_malformed(BAD_ID, 3, &c);
	assert_int_equal(vq_counter(&r.st.bad_id), 1);
	one_malformed(BAD_NEVER, 0, &c);
	one_malformed(BAD_DUP, 5, &c);
	one_malformed(BAD_NONHEAD, 2, &c);
	assert_int_equal(vq_counter(&r.st.bad_stale), 3);
	one_malformed(BAD_LEN, 7, &c);
	assert_int_equal(vq_counter(&r.st.bad_len), 1);
	one_malformed(BAD_IDX, 4, &c);
	assert_int_equal(vq_counter(&r.st.bad_idx), 1);
	assert_none_held();
}

/* The figure: at least 100,000 malformed entries, all dropped and
 * counted, no cookie lost or returned twice (ASan/UBSan runs this too). */
static void test_malformed_100k(void **state)
{
	unsigned c = 0, n = 100000;
	uint32_t seed = 12345;

	(void)state;
	ring_new(16, true);
	for (unsigned i = 0; i < n; i++) {
		seed = seed * 1103515245u + 12345u;
		one_malformed((enum bad)((seed >> 16) % BAD_KINDS), seed >> 8, &c);
	}
	assert_int_equal(bad_total(), n);
	assert_none_held();
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_init),
		cmocka_unit_test(test_out_and_back),
		cmocka_unit_test(test_chains_out_of_order),
		cmocka_unit_test(test_wrap_around),
		cmocka_unit_test(test_need_event_math),
		cmocka_unit_test(test_kick_event_idx),
		cmocka_unit_test(test_kick_flags),
		cmocka_unit_test(test_malformed_each),
		cmocka_unit_test(test_malformed_100k),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
