/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The wire between virtio-net devices. Each device has its own thread and
 * its own DMA table, so a frame cannot go straight from one client's
 * memory into another's: the sender copies it into a channel, the
 * receiver copies it out into its receive queue. A channel is a
 * single-producer single-consumer byte ring of records (length, queue
 * pair, data padded to 8 bytes); a record never wraps, a pad record fills
 * the end instead.
 *
 * loopback: one channel, the device both ends. pair: two devices named by
 * `pair=NAME` share two channels, one per direction; whichever is created
 * first takes side 0. gen: no channel.
 *
 * Flow control: a full channel holds the sender's transmit queue (frames
 * wait in the ring, like a NIC held by pause frames), so nothing is lost
 * while the receiver keeps up. A receiver that is not ready (no driver,
 * link down, needs reset) says so in `ready` and the sender drops.
 */
#include <errno.h>
#include <stdalign.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virtio_net_private.h"

#define CHAN_BYTES (4u << 20)
#define REC_PAD 0xffffffffu /* skip to the end of the buffer */

struct rec {
	uint32_t len;
	uint16_t pair;
	uint16_t unused;
};

struct vnet_chan {
	/* producer: bytes written; pairs with the consumer's acquire load */
	alignas(PDK_CACHE_LINE) _Atomic uint64_t head;
	/* consumer: bytes released; pairs with the producer's acquire load */
	alignas(PDK_CACHE_LINE) _Atomic uint64_t tail;
	/* the consumer takes frames (relaxed: a hint, stale records are
	 * dropped by the consumer anyway) */
	alignas(PDK_CACHE_LINE) atomic_bool ready;
	uint64_t pending;  /* producer only: head after the reservation */
	alignas(PDK_CACHE_LINE) uint8_t buf[CHAN_BYTES];
};

struct pair {
	char name[64];
	unsigned refs;
	bool taken[2];
	struct vnet_chan *chan[2]; /* chan[s]: side s sends */
	struct pair *next;
};

static pthread_mutex_t pairs_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pair *pairs;

static struct vnet_chan *chan_new(void)
{
	struct vnet_chan *c = aligned_alloc(PDK_CACHE_LINE, sizeof(*c));

	if (c == NULL)
		return NULL;
	atomic_init(&c->head, 0);
	atomic_init(&c->tail, 0);
	atomic_init(&c->ready, false);
	c->pending = 0;
	return c;
}

static struct pair *pair_find(const char *name)
{
	for (struct pair *p = pairs; p; p = p->next)
		if (strcmp(p->name, name) == 0)
			return p;
	return NULL;
}

static struct pair *pair_new(const char *name)
{
	struct pair *p = calloc(1, sizeof(*p));

	if (p == NULL)
		return NULL;
	snprintf(p->name, sizeof(p->name), "%s", name);
	p->chan[0] = chan_new();
	p->chan[1] = chan_new();
	if (p->chan[0] == NULL || p->chan[1] == NULL) {
		free(p->chan[0]);
		free(p->chan[1]);
		free(p);
		return NULL;
	}
	p->next = pairs;
	pairs = p;
	return p;
}

static int attach_pair(struct vnet *vn)
{
	struct pair *p;
	int rc = 0;

	pthread_mutex_lock(&pairs_lock);
	p = pair_find(vn->pair_name);
	if (p == NULL && (p = pair_new(vn->pair_name)) == NULL)
		rc = -ENOMEM;
	else if (p->taken[0] && p->taken[1])
		rc = -EEXIST;
	if (rc == 0) {
		vn->side = p->taken[0] ? 1 : 0;
		p->taken[vn->side] = true;
		p->refs++;
		vn->tx_chan = p->chan[vn->side];
		vn->rx_chan = p->chan[!vn->side];
	}
	pthread_mutex_unlock(&pairs_lock);
	if (rc == -EEXIST)
		pdk_emu_dev_error(vn->dev, "pair=%s: two devices use that pair already",
				  vn->pair_name);
	return rc;
}

int vnet_wire_attach(struct vnet *vn)
{
	if (vn->wire == VNET_WIRE_PAIR)
		return attach_pair(vn);
	if (vn->wire == VNET_WIRE_LOOPBACK) {
		vn->tx_chan = vn->rx_chan = chan_new();
		return vn->tx_chan ? 0 : -ENOMEM;
	}
	return 0;
}

void vnet_wire_detach(struct vnet *vn)
{
	struct pair **pp;

	if (vn->wire == VNET_WIRE_LOOPBACK) {
		free(vn->tx_chan);
	} else if (vn->wire == VNET_WIRE_PAIR && vn->tx_chan) {
		pthread_mutex_lock(&pairs_lock);
		for (pp = &pairs; *pp; pp = &(*pp)->next) {
			struct pair *p = *pp;

			if (p->chan[vn->side] != vn->tx_chan)
				continue;
			p->taken[vn->side] = false;
			if (--p->refs == 0) {
				*pp = p->next;
				free(p->chan[0]);
				free(p->chan[1]);
				free(p);
			}
			break;
		}
		pthread_mutex_unlock(&pairs_lock);
	}
	vn->tx_chan = vn->rx_chan = NULL;
}

static uint32_t rec_bytes(uint32_t len)
{
	return (uint32_t)sizeof(struct rec) + PDK_ALIGN_CEIL(len, 8u);
}

/* Consumer side of a reset: whatever waits for us is stale. */
void vnet_wire_reset(struct vnet *vn)
{
	struct vnet_chan *c = vn->rx_chan;

	if (c == NULL)
		return;
	atomic_store_explicit(&c->ready, false, memory_order_relaxed);
	atomic_store_explicit(&c->tail, atomic_load_explicit(&c->head, memory_order_acquire),
			      memory_order_release);
}

void vnet_wire_set_ready(struct vnet *vn, bool ready)
{
	if (vn->rx_chan)
		atomic_store_explicit(&vn->rx_chan->ready, ready, memory_order_relaxed);
}

bool vnet_wire_peer_ready(const struct vnet *vn)
{
	return vn->tx_chan &&
	       atomic_load_explicit(&vn->tx_chan->ready, memory_order_relaxed);
}

/*
 * Room for a frame of len bytes, or NULL when the channel is full (try
 * again later). Acquire on tail: the consumer finished reading the bytes
 * we are about to overwrite (pairs with its release in consume).
 */
uint8_t *vnet_wire_reserve(struct vnet *vn, uint32_t len, uint16_t pair)
{
	struct vnet_chan *c = vn->tx_chan;
	uint64_t head = atomic_load_explicit(&c->head, memory_order_relaxed);
	uint64_t tail = atomic_load_explicit(&c->tail, memory_order_acquire);
	uint32_t pos = (uint32_t)(head % CHAN_BYTES), need = rec_bytes(len);
	uint32_t pad = CHAN_BYTES - pos < need ? CHAN_BYTES - pos : 0;
	struct rec *r;

	if (need + pad > CHAN_BYTES - (head - tail))
		return NULL;
	if (pad) {
		((struct rec *)(void *)(c->buf + pos))->len = REC_PAD;
		pos = 0;
	}
	r = (struct rec *)(void *)(c->buf + pos);
	r->len = len;
	r->pair = pair;
	c->pending = head + pad + need;
	return (uint8_t *)(r + 1);
}

/* Publish the reserved frame. Release: its bytes before the new head. */
void vnet_wire_commit(struct vnet *vn)
{
	struct vnet_chan *c = vn->tx_chan;

	atomic_store_explicit(&c->head, c->pending, memory_order_release);
}

/* The oldest frame waiting for us, left in place. Acquire on head: the
 * frame's bytes are visible (pairs with the producer's release). */
bool vnet_wire_peek(struct vnet *vn, struct vnet_frame *f)
{
	struct vnet_chan *c = vn->rx_chan;
	uint64_t tail, head;
	const struct rec *r;

	if (c == NULL)
		return false;
	tail = atomic_load_explicit(&c->tail, memory_order_relaxed);
	head = atomic_load_explicit(&c->head, memory_order_acquire);
	if (tail == head)
		return false;
	r = (const struct rec *)(const void *)(c->buf + tail % CHAN_BYTES);
	if (r->len == REC_PAD) {
		tail += CHAN_BYTES - tail % CHAN_BYTES;
		atomic_store_explicit(&c->tail, tail, memory_order_release);
		if (tail == head)
			return false;
		r = (const struct rec *)(const void *)c->buf;
	}
	f->len = r->len;
	f->pair = r->pair;
	f->data = (const uint8_t *)(r + 1);
	return true;
}

/* Done with the frame peek() gave. Release: we no longer read its bytes
 * (pairs with the producer's acquire in reserve). */
void vnet_wire_consume(struct vnet *vn)
{
	struct vnet_chan *c = vn->rx_chan;
	uint64_t tail = atomic_load_explicit(&c->tail, memory_order_relaxed);
	const struct rec *r = (const struct rec *)(const void *)(c->buf + tail % CHAN_BYTES);

	atomic_store_explicit(&c->tail, tail + rec_bytes(r->len), memory_order_release);
}
