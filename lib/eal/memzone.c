/* SPDX-License-Identifier: BSD-3-Clause */
/* Named zones of DMA memory, carved from the heap. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "eal_private.h"

#define MAX_MEMZONES 512

static struct {
	pthread_mutex_t lock;
	struct pdk_memzone zones[MAX_MEMZONES];
	bool used[MAX_MEMZONES];
} mz = {.lock = PTHREAD_MUTEX_INITIALIZER};

static int find(const char *name)
{
	for (int i = 0; i < MAX_MEMZONES; i++)
		if (mz.used[i] && strcmp(mz.zones[i].name, name) == 0)
			return i;
	return -1;
}

const struct pdk_memzone *pdk_memzone_reserve_aligned(const char *name, size_t len,
						      int socket, unsigned flags,
						      unsigned align)
{
	struct pdk_memzone *z = NULL;
	void *addr;
	int slot = -1;

	if (name == NULL || len == 0) {
		errno = EINVAL;
		return NULL;
	}
	if (strlen(name) >= PDK_MEMZONE_NAMESIZE) {
		errno = ENAMETOOLONG;
		return NULL;
	}
	pthread_mutex_lock(&mz.lock);
	if (find(name) >= 0) {
		errno = EEXIST;
		goto out;
	}
	for (int i = 0; i < MAX_MEMZONES && slot < 0; i++)
		if (!mz.used[i])
			slot = i;
	if (slot < 0) {
		PDK_LOG(ERR, EAL_LOG, "memzone %s: all %d zones in use", name, MAX_MEMZONES);
		errno = ENOSPC;
		goto out;
	}
	/* without IOVA_CONTIG the zone may cross a PA discontinuity */
	addr = eal_malloc(name, len, align, socket, flags & PDK_MEMZONE_IOVA_CONTIG);
	if (addr == NULL)
		goto out; /* errno set */
	memset(addr, 0, len);
	z = &mz.zones[slot];
	mz.used[slot] = true;
	snprintf(z->name, sizeof(z->name), "%s", name);
	z->addr = addr;
	z->len = len;
	z->iova = pdk_mem_iova_contig(addr, len) ? pdk_mem_virt2iova(addr) : PDK_BAD_IOVA;
	z->socket = pdk_mem_virt2memseg(addr)->socket;
	z->flags = flags;
out:
	pthread_mutex_unlock(&mz.lock);
	return z;
}

const struct pdk_memzone *pdk_memzone_reserve(const char *name, size_t len,
					      int socket, unsigned flags)
{
	return pdk_memzone_reserve_aligned(name, len, socket, flags, 0);
}

const struct pdk_memzone *pdk_memzone_lookup(const char *name)
{
	const struct pdk_memzone *z = NULL;
	int i;

	if (name == NULL)
		return NULL;
	pthread_mutex_lock(&mz.lock);
	i = find(name);
	if (i >= 0)
		z = &mz.zones[i];
	pthread_mutex_unlock(&mz.lock);
	return z;
}

int pdk_memzone_free(const struct pdk_memzone *z)
{
	ptrdiff_t i;

	if (z == NULL)
		return -EINVAL;
	i = z - mz.zones;
	if (i < 0 || i >= MAX_MEMZONES)
		return -EINVAL;
	pthread_mutex_lock(&mz.lock);
	if (!mz.used[i]) {
		pthread_mutex_unlock(&mz.lock);
		return -EINVAL;
	}
	pdk_free(mz.zones[i].addr);
	mz.used[i] = false;
	memset(&mz.zones[i], 0, sizeof(mz.zones[i]));
	pthread_mutex_unlock(&mz.lock);
	return 0;
}

void eal_memzones_reset(void)
{
	pthread_mutex_lock(&mz.lock);
	memset(mz.zones, 0, sizeof(mz.zones));
	memset(mz.used, 0, sizeof(mz.used));
	pthread_mutex_unlock(&mz.lock);
}
