/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: the driver's split virtqueue (drivers/net/virtio/
 * virtio_ring.h) against a device that writes whatever it likes into the
 * used ring. The input is a program: a ring size, then operations for the
 * driver (add a chain, publish and ask about a kick, take used entries,
 * drain after a reset) and for the device (a used entry with any id and
 * length, any used index, any avail_event and flags). Invariants after
 * every step: a cookie comes back only while outstanding and only once,
 * with a length within its chain; free and outstanding descriptors add
 * up to the queue size; a drain gives back everything still outstanding.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <virtio_ring.h>

#include "../common/fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define QMAX 256
#define TOKENS (QMAX + 8)

static uint8_t ring_mem[65536] __attribute__((aligned(64)));
static uint8_t priv_mem[65536] __attribute__((aligned(8)));
static struct vq_ring r;
static uint8_t held[TOKENS];    /* the ring has token i */
static uint32_t blen[TOKENS];   /* what its chain holds */
static uint16_t ndesc[TOKENS];
static uint16_t dev_used;       /* the device's used index */

struct input {
	const uint8_t *p;
	size_t left;
};

static uint32_t take(struct input *in, unsigned bytes)
{
	uint32_t v = 0;

	for (unsigned i = 0; i < bytes; i++) {
		v |= (uint32_t)(in->left ? *in->p : 0) << (8 * i);
		if (in->left) {
			in->p++;
			in->left--;
		}
	}
	return v;
}

static void check_books(void)
{
	unsigned descs = 0, chains = 0;

	for (unsigned t = 0; t < TOKENS; t++)
		if (held[t]) {
			descs += ndesc[t];
			chains++;
		}
	FUZZ_CHECK(chains == r.inflight);
	FUZZ_CHECK(descs + r.nb_free == r.size);
}

static void returned(void *cookie, uint32_t len, bool check_len)
{
	size_t t = (size_t)((uint8_t *)cookie - held);

	FUZZ_CHECK(t < TOKENS);
	FUZZ_CHECK(held[t] == 1); /* outstanding, and not given back before */
	FUZZ_CHECK(!check_len || len <= blen[t]);
	held[t] = 0;
}

static void drained(void *cookie, void *arg)
{
	(void)arg;
	returned(cookie, 0, false);
}

static void op_add(struct input *in)
{
	struct vq_seg s[4];
	unsigned n = 1 + take(in, 1) % 4, t;
	uint32_t total = 0;

	for (t = 0; t < TOKENS && held[t]; t++)
		;
	if (t == TOKENS)
		return;
	for (unsigned i = 0; i < n; i++) {
		s[i] = (struct vq_seg){0x1000u * (i + 1), take(in, 2), (take(in, 1) & 1) != 0};
		total += s[i].len;
	}
	if (vq_add(&r, &held[t], s, n, total) >= 0) {
		held[t] = 1;
		blen[t] = total;
		ndesc[t] = (uint16_t)n;
	}
}

static void op_device_used(struct input *in)
{
	struct pdk_virtq_used_elem *e = &r.used->ring[dev_used & r.mask];

	e->id = take(in, 2) | (take(in, 1) & 0x80 ? 0x10000u << (take(in, 1) % 16) : 0);
	e->len = take(in, 4);
	dev_used++;
	__atomic_store_n(&r.used->idx, dev_used, __ATOMIC_RELEASE);
}

static void op_take(void)
{
	uint16_t n = vq_used_count(&r);

	for (uint16_t i = 0; i < n; i++) {
		uint32_t len = 0;
		void *c = vq_get(&r, &len);

		if (c == NULL) {
			FUZZ_CHECK(r.broken);
			break;
		}
		returned(c, len, true);
	}
	FUZZ_CHECK(!r.broken || vq_used_count(&r) == 0);
}

static void op_drain(void)
{
	vq_ring_drain(&r, drained, NULL);
	for (unsigned t = 0; t < TOKENS; t++)
		FUZZ_CHECK(held[t] == 0);
	dev_used = 0;
	FUZZ_CHECK(!r.broken && r.nb_free == r.size);
}

static void step(struct input *in)
{
	switch (take(in, 1) % 7) {
	case 0:
		op_add(in);
		break;
	case 1:
		vq_publish(&r);
		vq_kick_needed(&r);
		break;
	case 2:
		op_device_used(in);
		break;
	case 3: /* any used index at all */
		dev_used = (uint16_t)take(in, 2);
		__atomic_store_n(&r.used->idx, dev_used, __ATOMIC_RELEASE);
		break;
	case 4:
		op_take();
		break;
	case 5:
		op_drain();
		break;
	default: /* the device's suppression fields */
		*pdk_virtq_avail_event(r.used, r.size) = (uint16_t)take(in, 2);
		r.used->flags = (uint16_t)take(in, 2);
		break;
	}
	check_books();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct input in = {data, size};
	unsigned qsize = 1u << (take(&in, 1) % 9); /* 1..256 */
	bool event_idx = take(&in, 1) & 1;

	memset(held, 0, sizeof(held));
	dev_used = 0;
	FUZZ_CHECK(vq_ring_init(&r, qsize, ring_mem, priv_mem, event_idx) == 0);
	for (unsigned steps = 0; in.left && steps < 4096; steps++)
		step(&in);
	op_drain();
	return 0;
}
