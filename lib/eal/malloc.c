/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DMA-safe allocator over EAL memory: one heap per segment (NUMA node),
 * first fit over an address-ordered list of elements, neighbours merged on
 * free. It serves control-path allocations (rings, pools, queues, zones);
 * the data path uses mempools, so a mutex per heap is enough.
 *
 * Every element starts with a cache-line header; user memory follows it.
 * A padding header right before the user pointer points back to the element
 * when alignment needed a gap.
 */
#include <errno.h>
#include <pthread.h>
#include <string.h>

#include "eal_private.h"
#include "pdk_eal_internal.h"

#define ELEM_MAGIC 0x504b4d45u /* "PKME" */
#define PAD_MAGIC 0x504b5044u  /* "PKPD" */
#define MIN_SPLIT (2 * PDK_CACHE_LINE)

struct heap;

struct elem {
	struct elem *prev;  /* address order */
	struct elem *next;
	struct heap *heap;
	size_t size;        /* whole element, header included */
	uint32_t magic;
	uint32_t busy;
	uint64_t reserved[2];
} PDK_CACHE_ALIGNED;

/* Sits right before an aligned user pointer when the element starts earlier. */
struct pad {
	struct elem *elem;
	uint32_t magic;
	uint32_t unused;
};

static_assert(sizeof(struct elem) == PDK_CACHE_LINE, "elem header is one cache line");

struct heap {
	pthread_mutex_t lock;
	int socket;
	struct elem *first;
	size_t total;
	size_t free;
};

static struct heap heaps[PDK_MAX_NUMA_NODES];
static unsigned nb_heaps;

int eal_heap_add(int socket, void *va, size_t len)
{
	struct heap *h;
	struct elem *e = va;

	if (nb_heaps == PDK_MAX_NUMA_NODES || len < MIN_SPLIT ||
	    (uintptr_t)va % PDK_CACHE_LINE)
		return -EINVAL;
	h = &heaps[nb_heaps++];
	pthread_mutex_init(&h->lock, NULL);
	h->socket = socket;
	h->total = h->free = len;
	memset(e, 0, sizeof(*e));
	e->heap = h;
	e->size = PDK_ALIGN_FLOOR(len, PDK_CACHE_LINE);
	e->magic = ELEM_MAGIC;
	h->first = e;
	return 0;
}

void eal_heaps_reset(void)
{
	for (unsigned i = 0; i < nb_heaps; i++)
		pthread_mutex_destroy(&heaps[i].lock);
	memset(heaps, 0, sizeof(heaps));
	nb_heaps = 0;
}

/* Split `e` so that it is exactly `size` bytes; the rest becomes free. */
static void split_after(struct elem *e, size_t size)
{
	struct elem *rest;

	if (e->size - size < MIN_SPLIT)
		return;
	rest = PDK_PTR_ADD(e, size);
	memset(rest, 0, sizeof(*rest));
	rest->magic = ELEM_MAGIC;
	rest->heap = e->heap;
	rest->size = e->size - size;
	rest->prev = e;
	rest->next = e->next;
	if (e->next)
		e->next->prev = rest;
	e->next = rest;
	e->size = size;
}

/* User pointer inside free element e for (size, align), or NULL if no fit. */
static void *fit(struct elem *e, size_t size, size_t align, bool contig)
{
	uintptr_t start = (uintptr_t)e + sizeof(struct elem);
	uintptr_t user = PDK_ALIGN_CEIL(start, align);
	uintptr_t end = (uintptr_t)e + e->size;

	if (user + size > end || user + size < user)
		return NULL;
	if (contig && !pdk_mem_iova_contig((void *)user, size))
		return NULL; /* PA mode: do not cross a physical discontinuity */
	return (void *)user;
}

static void *heap_alloc(struct heap *h, size_t size, size_t align, bool contig)
{
	void *user = NULL;
	struct elem *e;

	pthread_mutex_lock(&h->lock);
	for (e = h->first; e != NULL; e = e->next) {
		if (e->busy)
			continue;
		user = fit(e, size, align, contig);
		if (user != NULL)
			break;
	}
	if (e != NULL) {
		size_t used = PDK_ALIGN_CEIL(PDK_PTR_DIFF(user, e) + size, PDK_CACHE_LINE);

		split_after(e, used);
		e->busy = 1;
		h->free -= e->size;
		if (PDK_PTR_DIFF(user, e) > sizeof(struct elem)) {
			struct pad *p = (struct pad *)user - 1;

			p->elem = e;
			p->magic = PAD_MAGIC;
		}
	}
	pthread_mutex_unlock(&h->lock);
	return e ? user : NULL;
}

static struct elem *elem_of(void *ptr)
{
	struct pad *p = (struct pad *)ptr - 1;
	struct elem *e = (struct elem *)ptr - 1;

	if (p->magic == PAD_MAGIC)
		e = p->elem;
	if (e->magic != ELEM_MAGIC || !e->busy)
		return NULL;
	return e;
}

static void merge_next(struct elem *e)
{
	struct elem *n = e->next;

	if (n == NULL || n->busy || (char *)e + e->size != (char *)n)
		return;
	e->size += n->size;
	e->next = n->next;
	if (n->next)
		n->next->prev = e;
	n->magic = 0;
}

void pdk_free(void *ptr)
{
	struct elem *e;
	struct heap *h;

	if (ptr == NULL)
		return;
	e = elem_of(ptr);
	if (e == NULL) {
		PDK_LOG(ERR, EAL_LOG, "pdk_free(%p): not memory from pdk_malloc "
			"(or freed twice); ignored", ptr);
		return;
	}
	h = e->heap;
	pthread_mutex_lock(&h->lock);
	e->busy = 0;
	h->free += e->size;
	((struct pad *)ptr - 1)->magic = 0;
	merge_next(e);
	if (e->prev && !e->prev->busy)
		merge_next(e->prev);
	pthread_mutex_unlock(&h->lock);
}

static struct heap *heap_of_socket(int socket)
{
	for (unsigned i = 0; i < nb_heaps; i++)
		if (heaps[i].socket == socket)
			return &heaps[i];
	return NULL;
}

void *pdk_malloc_socket(const char *type, size_t size, unsigned align, int socket)
{
	return eal_malloc(type, size, align, socket, true);
}

void *eal_malloc(const char *type, size_t size, unsigned align, int socket,
		 bool contig)
{
	struct heap *h;
	void *p = NULL;

	(void)type;
	if (size == 0 || (align && !PDK_IS_POWER_OF_2(align)) || size > SIZE_MAX / 2) {
		errno = EINVAL;
		return NULL;
	}
	if (align < PDK_CACHE_LINE)
		align = PDK_CACHE_LINE;
	if (nb_heaps == 0) {
		errno = ENOMEM;
		return NULL;
	}
	if (socket == PDK_SOCKET_ANY) {
		/* the caller's node first, then any other */
		h = heap_of_socket(pdk_socket_id());
		if (h)
			p = heap_alloc(h, size, align, contig);
		for (unsigned i = 0; p == NULL && i < nb_heaps; i++)
			p = heap_alloc(&heaps[i], size, align, contig);
	} else if ((h = heap_of_socket(socket)) != NULL) {
		p = heap_alloc(h, size, align, contig);
	}
	if (p == NULL) {
		PDK_LOG(DEBUG, EAL_LOG, "pdk_malloc(%s, %zu) on socket %d: out of DMA "
			"memory (%zu bytes free); start with a larger -m",
			type ? type : "-", size, socket, pdk_mem_free());
		errno = ENOMEM;
	}
	return p;
}

void *pdk_zmalloc_socket(const char *type, size_t size, unsigned align, int socket)
{
	void *p = pdk_malloc_socket(type, size, align, socket);

	if (p)
		memset(p, 0, size);
	return p;
}

void *pdk_malloc(const char *type, size_t size, unsigned align)
{
	return pdk_malloc_socket(type, size, align, PDK_SOCKET_ANY);
}

void *pdk_zmalloc(const char *type, size_t size, unsigned align)
{
	return pdk_zmalloc_socket(type, size, align, PDK_SOCKET_ANY);
}

size_t pdk_mem_free(void)
{
	size_t total = 0;

	for (unsigned i = 0; i < nb_heaps; i++) {
		pthread_mutex_lock(&heaps[i].lock);
		total += heaps[i].free;
		pthread_mutex_unlock(&heaps[i].lock);
	}
	return total;
}
