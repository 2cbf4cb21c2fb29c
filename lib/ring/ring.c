/* SPDX-License-Identifier: BSD-3-Clause */
/* Ring creation, validation and the name registry; the fast path is inline. */
#include <errno.h>
#include <limits.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pdk_log.h>
#include <pdk_memory.h>

#include "pdk_ring.h"

#define LOG_COMP "ring"
#define POW2_MAX (1U << 30) /* largest power of two <= PDK_RING_SZ_MAX */

void pdk__ring_wait_tail(struct pdk_ring_headtail *ht, uint32_t old_head)
{
	unsigned spins = 0;

	/* acquire: as in pdk__ring_update_tail(), whose check failed. */
	while (atomic_load_explicit(&ht->tail, memory_order_acquire) !=
	       old_head) {
		if (++spins < PDK_RING_SPINS_BEFORE_YIELD) {
			pdk_pause();
		} else {
			sched_yield();
			spins = 0;
		}
	}
}

/* Rings from pdk_ring_create(), by name. */
struct reg_entry {
	struct reg_entry *next;
	struct pdk_ring *ring;
};

static struct {
	pthread_mutex_t lock;
	struct reg_entry *head;
} registry = {.lock = PTHREAD_MUTEX_INITIALIZER};

/* Slots for `count` elements, or 0 when the count/flags are invalid. */
static uint32_t ring_slots(unsigned count, unsigned flags)
{
	if (count == 0 || count > PDK_RING_SZ_MAX) {
		PDK_LOG(ERR, LOG_COMP,
			"ring count %u is invalid: valid counts are 1..%u "
			"(powers of two up to %u without PDK_RING_F_EXACT_SZ)",
			count, PDK_RING_SZ_MAX, POW2_MAX);
		return 0;
	}
	if (flags & PDK_RING_F_EXACT_SZ)
		return (uint32_t)pdk_align64pow2(count);
	if (!PDK_IS_POWER_OF_2(count)) {
		uint64_t up = pdk_align64pow2(count);
		char alt[32] = "";

		if (up <= POW2_MAX)
			snprintf(alt, sizeof(alt), " or %u", (unsigned)up);
		PDK_LOG(ERR, LOG_COMP,
			"ring count %u is not a power of two: use %u%s, or pass "
			"PDK_RING_F_EXACT_SZ for a ring of exactly %u",
			count, (unsigned)(up / 2), alt, count);
		return 0;
	}
	return count;
}

/* Header plus slots, checked for overflow (reachable on 32-bit size_t). */
static int ring_memsize(uint32_t slots, size_t *out)
{
	size_t bytes;

	if (__builtin_mul_overflow((size_t)slots, sizeof(void *), &bytes) ||
	    __builtin_add_overflow(bytes, sizeof(struct pdk_ring), out) ||
	    *out > (size_t)SSIZE_MAX - PDK_CACHE_LINE) {
		PDK_LOG(ERR, LOG_COMP,
			"ring of %u slots does not fit in memory: use fewer",
			slots);
		return -EINVAL;
	}
	*out = PDK_ALIGN_CEIL(*out, (size_t)PDK_CACHE_LINE);
	return 0;
}

ssize_t pdk_ring_get_memsize(unsigned count, unsigned flags)
{
	uint32_t slots = ring_slots(count, flags);
	size_t size;

	if (slots == 0 || ring_memsize(slots, &size) < 0)
		return -EINVAL;
	return (ssize_t)size;
}

static int check_name_flags(const char *name, unsigned flags)
{
	if (name == NULL || (flags & ~PDK_RING_F_ALL)) {
		PDK_LOG(ERR, LOG_COMP,
			"ring %s: name is NULL or flags 0x%x has bits outside "
			"PDK_RING_F_SP_ENQ|SC_DEQ|EXACT_SZ (0x%x)",
			name ? name : "(null)", flags, PDK_RING_F_ALL);
		return -EINVAL;
	}
	if (strlen(name) >= PDK_RING_NAMESIZE) {
		PDK_LOG(ERR, LOG_COMP, "ring name '%s' is longer than %d characters",
			name, PDK_RING_NAMESIZE - 1);
		return -ENAMETOOLONG;
	}
	return 0;
}

int pdk_ring_init(struct pdk_ring *r, const char *name, unsigned count,
		  unsigned flags)
{
	uint32_t slots;
	int rc;

	if (r == NULL || ((uintptr_t)r & (PDK_CACHE_LINE - 1))) {
		PDK_LOG(ERR, LOG_COMP, "ring memory %p must be %d-byte aligned",
			(void *)r, PDK_CACHE_LINE);
		return -EINVAL;
	}
	rc = check_name_flags(name, flags);
	if (rc < 0)
		return rc;
	slots = ring_slots(count, flags);
	if (slots == 0)
		return -EINVAL;
	memset(r, 0, sizeof(*r));
	snprintf(r->name, sizeof(r->name), "%s", name);
	r->flags = flags;
	r->size = slots;
	r->mask = slots - 1;
	r->capacity = count;
	r->prod.single = flags & PDK_RING_F_SP_ENQ;
	r->cons.single = flags & PDK_RING_F_SC_DEQ;
	atomic_init(&r->prod.head, 0);
	atomic_init(&r->prod.tail, 0);
	atomic_init(&r->cons.head, 0);
	atomic_init(&r->cons.tail, 0);
	return 0;
}

/* Caller holds registry.lock. */
static struct reg_entry **registry_find(const char *name)
{
	struct reg_entry **e;

	for (e = &registry.head; *e != NULL; e = &(*e)->next)
		if (strcmp((*e)->ring->name, name) == 0)
			break;
	return e;
}

static int registry_add(struct pdk_ring *r)
{
	struct reg_entry *e = malloc(sizeof(*e));

	if (e == NULL)
		return -ENOMEM;
	pthread_mutex_lock(&registry.lock);
	if (*registry_find(r->name) != NULL) {
		pthread_mutex_unlock(&registry.lock);
		free(e);
		PDK_LOG(ERR, LOG_COMP, "ring name '%s' is taken: pick another "
			"or pdk_ring_free() the old one", r->name);
		return -EEXIST;
	}
	e->ring = r;
	e->next = registry.head;
	registry.head = e;
	pthread_mutex_unlock(&registry.lock);
	return 0;
}

static void registry_remove(struct pdk_ring *r)
{
	struct reg_entry **e, *gone = NULL;

	pthread_mutex_lock(&registry.lock);
	for (e = &registry.head; *e != NULL; e = &(*e)->next) {
		if ((*e)->ring == r) {
			gone = *e;
			*e = gone->next;
			break;
		}
	}
	pthread_mutex_unlock(&registry.lock);
	free(gone);
}

struct pdk_ring *pdk_ring_create(const char *name, unsigned count, int socket,
				 unsigned flags)
{
	struct pdk_ring *r;
	ssize_t size;
	int rc;

	size = pdk_ring_get_memsize(count, flags);
	if (size < 0) {
		rc = (int)size;
		goto fail;
	}
	r = pdk_zmalloc_socket("ring", (size_t)size, PDK_CACHE_LINE, socket);
	if (r == NULL) {
		rc = -errno;
		PDK_LOG(ERR, LOG_COMP, "ring %s: no memory for %zd bytes on "
			"socket %d: reserve more with -m/--socket-mem",
			name ? name : "(null)", size, socket);
		goto fail;
	}
	rc = pdk_ring_init(r, name, count, flags);
	if (rc < 0)
		goto free_ring;
	r->owned = true;
	rc = registry_add(r);
	if (rc < 0)
		goto free_ring;
	return r;

free_ring:
	pdk_free(r);
fail:
	errno = -rc;
	return NULL;
}

void pdk_ring_free(struct pdk_ring *r)
{
	if (r == NULL)
		return;
	registry_remove(r);
	if (r->owned)
		pdk_free(r);
}

struct pdk_ring *pdk_ring_lookup(const char *name)
{
	struct pdk_ring *r = NULL;
	struct reg_entry *e;

	if (name == NULL) {
		errno = EINVAL;
		return NULL;
	}
	pthread_mutex_lock(&registry.lock);
	e = *registry_find(name);
	if (e != NULL)
		r = e->ring;
	pthread_mutex_unlock(&registry.lock);
	if (r == NULL)
		errno = ENOENT;
	return r;
}
