/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Controllers: attach (NVMe 1.4, 7.6.1 initialisation), start (also after
 * a reset), detach, the list of attached controllers, queue pairs, info
 * and statistics.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pdk_memory.h>

#include "nvme_internal.h"

static pthread_mutex_t list_lock = PTHREAD_MUTEX_INITIALIZER;
static struct pdk_nvme_ctrlr *ctrlr_list;

void pdk_nvme_ctrlr_opts_default(struct pdk_nvme_ctrlr_opts *o)
{
	*o = (struct pdk_nvme_ctrlr_opts){
		.io_queues = 64,
		.io_queue_depth = 255,
		.admin_timeout_ms = 2000,
		.io_timeout_ms = 5000,
		.abort_timeout_ms = 1000,
		.max_retries = 2,
	};
}

/* ------------------------------------------------------------- start -- */

static int identify_ctrlr(struct pdk_nvme_ctrlr *c)
{
	char why[200];
	int rc;

	c->cdata = malloc(sizeof(*c->cdata));
	if (c->cdata == NULL)
		return -ENOMEM;
	rc = nvme_admin_identify(c, PDK_NVME_CNS_CTRLR, 0, c->cdata);
	if (rc < 0) {
		PDK_LOG(ERR, NVME_LOG, "%s: Identify Controller failed: %s", c->name, strerror(-rc));
		return rc;
	}
	rc = nvme_cdata_parse(c->cdata, &c->lim, why, sizeof(why));
	if (rc < 0) {
		PDK_LOG(ERR, NVME_LOG, "%s: cannot use this controller: %s", c->name, why);
		return rc;
	}
	c->write_zeroes = c->cdata->oncs & PDK_NVME_ONCS_WRITE_ZEROES;
	return 0;
}

/* Queues whose doorbells lie inside BAR0, and whose shadow doorbells fit
 * in one page. */
static uint32_t queues_that_fit(const struct pdk_nvme_ctrlr *c, uint32_t n)
{
	while (n > 0 && pdk_nvme_cq_doorbell((uint16_t)n, c->lim.dstrd) + 4 > c->bar->size)
		n--;
	return n;
}

static int setup_queues(struct pdk_nvme_ctrlr *c)
{
	uint32_t want = PDK_MIN(c->opts.io_queues, 65535u), granted = 0;
	int rc = nvme_admin_set_num_queues(c, want, &granted);

	if (rc < 0) {
		PDK_LOG(ERR, NVME_LOG, "%s: Set Features (Number of Queues) failed: %s", c->name,
			strerror(-rc));
		return rc;
	}
	c->io_queues = queues_that_fit(c, granted);
	if (c->io_queues < granted)
		PDK_LOG(WARNING, NVME_LOG, "%s: %u I/O queues granted but BAR0 (%llu bytes) has "
			"doorbells for %u", c->name, granted,
			(unsigned long long)c->bar->size, c->io_queues);
	return 0;
}

/* Shadow doorbells (OACS bit 8): worth it on emulated controllers, where
 * a register write is a trap. */
static int setup_dbbuf(struct pdk_nvme_ctrlr *c)
{
	uint32_t page = c->lim.page_size;
	uint64_t need = (2ull * c->io_queues + 2) * (4ull << c->lim.dstrd);
	int rc;

	c->dbbuf_on = false;
	if (c->opts.no_dbbuf || !(c->cdata->oacs & PDK_NVME_OACS_DBBUF) || need > page)
		return 0;
	if (c->dbbuf == NULL) {
		c->dbbuf = pdk_zmalloc("nvme_dbbuf", 2 * (size_t)page, page);
		if (c->dbbuf == NULL)
			return -ENOMEM;
		c->dbbuf_iova = pdk_mem_virt2iova(c->dbbuf);
	}
	rc = nvme_admin_dbbuf_config(c);
	c->dbbuf_on = rc == 0;
	if (rc < 0 && rc != -ENXIO)
		PDK_LOG(NOTICE, NVME_LOG, "%s: Doorbell Buffer Config failed (%s): doorbell "
			"registers only", c->name, strerror(-rc));
	nvme_qpair_set_shadow(c->adminq); /* both ways from now on */
	return rc == -ENXIO ? rc : 0;
}

int nvme_ctrlr_start(struct pdk_nvme_ctrlr *c)
{
	struct pdk_nvme_cmd aec = {.opc = PDK_NVME_OPC_SET_FEATURES,
				   .cdw10 = PDK_NVME_FEAT_ASYNC_EVENT_CONFIG,
				   .cdw11 = 0xff | (1u << 8)}; /* SMART warnings, ns changes */
	int rc = nvme_ctrlr_enable(c);

	if (rc == 0 && c->cdata == NULL)
		rc = identify_ctrlr(c);
	if (rc == 0)
		rc = setup_queues(c);
	if (rc == 0)
		rc = setup_dbbuf(c);
	if (rc == 0 && c->ns == NULL)
		rc = nvme_ctrlr_scan_ns(c);
	if (rc < 0)
		return rc;
	nvme_admin_sync(c, &aec, NULL, 0, NULL); /* optional: events still arrive without */
	nvme_admin_post_aers(c);
	c->next_health = 0;
	return 0;
}

/* ------------------------------------------------------------ create -- */

static void opts_fix(struct pdk_nvme_ctrlr_opts *o, const struct pdk_nvme_ctrlr_opts *in)
{
	pdk_nvme_ctrlr_opts_default(o);
	if (in == NULL)
		return;
	*o = *in;
	/* an admin command must be able to time out: recovery depends on it */
	o->admin_timeout_ms = PDK_MAX(o->admin_timeout_ms, 100u);
	o->abort_timeout_ms = PDK_MAX(o->abort_timeout_ms, 100u);
	o->io_queues = PDK_MAX(o->io_queues, 1u);
}

static uint64_t read_cap(const struct pdk_vfio_bar *bar)
{
	uint64_t lo = pdk_vfio_bar_read32(bar, PDK_NVME_REG_CAP);
	uint64_t hi = pdk_vfio_bar_read32(bar, PDK_NVME_REG_CAP + 4);

	return lo | hi << 32;
}

/* Registers, limits, the admin queue and scratch memory. */
static int ctrlr_prepare(struct pdk_nvme_ctrlr *c)
{
	char why[200];
	int rc;

	c->bar = pdk_vfio_dev_bar(c->vdev, 0);
	if (c->bar == NULL || c->bar->size < PDK_NVME_REG_DBS + 8) {
		PDK_LOG(ERR, NVME_LOG, "%s: BAR0 is missing or too small for NVMe registers",
			c->name);
		return -ENODEV;
	}
	c->cap = read_cap(c->bar);
	c->vs = pdk_vfio_bar_read32(c->bar, PDK_NVME_REG_VS);
	rc = nvme_cap_parse(c->cap, (uint32_t)sysconf(_SC_PAGESIZE), &c->lim, why, sizeof(why));
	if (rc < 0) {
		PDK_LOG(ERR, NVME_LOG, "%s: cannot use this controller: %s", c->name, why);
		return rc;
	}
	c->lim.max_xfer = c->lim.page_size; /* admin data: one page; see Identify */
	c->admin_timeout_tsc = nvme_ms_to_tsc(c->opts.admin_timeout_ms);
	c->io_timeout_tsc = nvme_ms_to_tsc(c->opts.io_timeout_ms);
	c->abort_timeout_tsc = nvme_ms_to_tsc(c->opts.abort_timeout_ms);
	c->check_tsc = nvme_ms_to_tsc(NVME_TIMEOUT_CHECK_MS);
	c->adminq = calloc(1, sizeof(*c->adminq));
	c->scratch = pdk_zmalloc("nvme_scratch", 2 * (size_t)c->lim.page_size, c->lim.page_size);
	if (c->adminq == NULL || c->scratch == NULL)
		return -ENOMEM;
	c->scratch_iova = pdk_mem_virt2iova(c->scratch);
	rc = nvme_qpair_init(c->adminq, c, 0, NVME_ADMIN_ENTRIES);
	if (rc < 0) {
		free(c->adminq);
		c->adminq = NULL;
		return rc;
	}
	c->adminq->timeout_tsc = c->admin_timeout_tsc;
	return 0;
}

static void ctrlr_free(struct pdk_nvme_ctrlr *c)
{
	if (c->adminq != NULL) {
		nvme_qpair_fini(c->adminq);
		free(c->adminq);
	}
	nvme_ctrlr_free_ns(c);
	pdk_free(c->scratch);
	pdk_free(c->dbbuf);
	free(c->cdata);
	free(c->qid_used);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

/* Disable, then start as after a reset; no recovery while attaching: a
 * command that times out just fails. */
static int ctrlr_bring_up(struct pdk_nvme_ctrlr *c)
{
	int rc;

	pthread_mutex_lock(&c->lock);
	c->in_reset = true;
	rc = nvme_ctrlr_disable(c);
	if (rc == 0)
		rc = nvme_ctrlr_start(c);
	c->in_reset = false;
	pthread_mutex_unlock(&c->lock);
	if (rc == 0) {
		c->qid_used = calloc((size_t)c->io_queues + 1, 1);
		rc = c->qid_used ? 0 : -ENOMEM;
	}
	if (rc < 0 && rc != -ENODEV)
		nvme_ctrlr_disable(c); /* no DMA into what is freed next */
	return rc;
}

static void list_append(struct pdk_nvme_ctrlr *c)
{
	struct pdk_nvme_ctrlr **p;

	pthread_mutex_lock(&list_lock); /* at the end: iteration in attach order */
	for (p = &ctrlr_list; *p != NULL; p = &(*p)->next)
		;
	*p = c;
	pthread_mutex_unlock(&list_lock);
}

struct pdk_nvme_ctrlr *nvme_ctrlr_create(struct pdk_vfio_dev *vdev, const char *name,
					 const struct pdk_nvme_ctrlr_opts *opts)
{
	struct pdk_nvme_ctrlr *c = calloc(1, sizeof(*c));
	int rc;

	if (c == NULL)
		return NULL;
	pthread_mutex_init(&c->lock, NULL);
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->vdev = vdev;
	opts_fix(&c->opts, opts);
	rc = ctrlr_prepare(c);
	if (rc == 0)
		rc = ctrlr_bring_up(c);
	if (rc < 0) {
		ctrlr_free(c);
		errno = -rc;
		return NULL;
	}
	list_append(c);
	nvme_events_ref(true);
	PDK_LOG(INFO, NVME_LOG, "%s: attached: %u namespace(s), %u I/O queues, max transfer %u "
		"bytes%s", c->name, c->num_ns, c->io_queues, c->lim.max_xfer,
		c->dbbuf_on ? ", shadow doorbells" : "");
	return c;
}

/* ------------------------------------------------------------ detach -- */

static void list_remove(struct pdk_nvme_ctrlr *c)
{
	pthread_mutex_lock(&list_lock);
	for (struct pdk_nvme_ctrlr **p = &ctrlr_list; *p != NULL; p = &(*p)->next)
		if (*p == c) {
			*p = c->next;
			break;
		}
	pthread_mutex_unlock(&list_lock);
}

void nvme_ctrlr_destroy(struct pdk_nvme_ctrlr *c)
{
	list_remove(c); /* the removal event no longer finds it */
	nvme_events_ref(false);
	while (c->qpairs != NULL)
		pdk_nvme_qpair_free(c->qpairs);
	pthread_mutex_lock(&c->lock);
	if (NVME_GEN_STATE(nvme_ctrlr_gen(c)) != NVME_CTRLR_FAILED) {
		if (!c->opts.no_shutdown)
			nvme_ctrlr_shutdown(c);
		nvme_ctrlr_disable(c);
	}
	nvme_qpair_fail_all(c->adminq, NVME_ST_HOST_ABORTED);
	pthread_mutex_unlock(&c->lock);
	if (c->own_vdev) {
		if (NVME_GEN_STATE(nvme_ctrlr_gen(c)) != NVME_CTRLR_FAILED)
			pdk_vfio_dev_set_bus_master(c->vdev, false); /* a gone one: no use */
		pdk_vfio_dev_close(c->vdev);
	}
	PDK_LOG(INFO, NVME_LOG, "%s: detached", c->name);
	ctrlr_free(c);
}

void pdk_nvme_ctrlr_detach(struct pdk_nvme_ctrlr *c)
{
	if (c == NULL)
		return;
	if (!c->own_vdev) {
		PDK_LOG(DEBUG, NVME_LOG, "%s: attached by the PCI bus: detached at cleanup",
			c->name);
		return;
	}
	nvme_ctrlr_destroy(c);
}

/* ------------------------------------------------------------ attach -- */

/* "03:00.0" and "0000:03:00.0" name the same device. */
static void name_normalise(const char *in, char *out, size_t len)
{
	const char *colon = strchr(in, ':');

	if (strncmp(in, "vfio-user:", 10) != 0 && colon != NULL && strchr(colon + 1, ':') == NULL)
		snprintf(out, len, "0000:%s", in);
	else
		snprintf(out, len, "%s", in);
}

static bool is_nvme(struct pdk_vfio_dev *vdev, const char *name)
{
	struct pdk_pci_id id;

	if (pdk_pci_id_read(pdk_vfio_dev_cfg(vdev), &id, NULL) < 0)
		return false;
	if ((id.class_id & 0xffffff) != 0x010802) {
		PDK_LOG(ERR, NVME_LOG, "%s is not an NVMe controller (class %06x, want 010802)",
			name, id.class_id);
		return false;
	}
	return true;
}

struct pdk_nvme_ctrlr *pdk_nvme_ctrlr_attach(const char *name,
					     const struct pdk_nvme_ctrlr_opts *opts)
{
	struct pdk_nvme_ctrlr *c;
	struct pdk_vfio_dev *vdev;
	char norm[PDK_PCI_NAME_MAX];
	int rc;

	if (name == NULL) {
		errno = EINVAL;
		return NULL;
	}
	name_normalise(name, norm, sizeof(norm));
	c = pdk_nvme_ctrlr_find(norm);
	if (c != NULL)
		return c;
	vdev = pdk_vfio_dev_open(norm, 0);
	if (vdev == NULL)
		return NULL; /* lib/vfio said why */
	rc = is_nvme(vdev, norm) ? 0 : -ENODEV;
	if (rc == 0)
		rc = pdk_vfio_dev_map_bars(vdev);
	if (rc == 0)
		rc = pdk_vfio_dev_set_bus_master(vdev, true);
	c = rc == 0 ? nvme_ctrlr_create(vdev, norm, opts) : NULL;
	if (c == NULL) {
		rc = rc ? rc : -errno;
		pdk_vfio_dev_close(vdev);
		errno = -rc;
		return NULL;
	}
	c->own_vdev = true;
	return c;
}

struct pdk_nvme_ctrlr *pdk_nvme_ctrlr_next(const struct pdk_nvme_ctrlr *prev)
{
	struct pdk_nvme_ctrlr *c;

	pthread_mutex_lock(&list_lock);
	c = prev == NULL ? ctrlr_list : prev->next;
	pthread_mutex_unlock(&list_lock);
	return c;
}

struct pdk_nvme_ctrlr *pdk_nvme_ctrlr_find(const char *name)
{
	char norm[PDK_PCI_NAME_MAX];
	struct pdk_nvme_ctrlr *c;

	name_normalise(name, norm, sizeof(norm));
	pthread_mutex_lock(&list_lock);
	for (c = ctrlr_list; c != NULL; c = c->next)
		if (strcmp(c->name, norm) == 0)
			break;
	pthread_mutex_unlock(&list_lock);
	return c;
}

struct pdk_nvme_ctrlr *nvme_ctrlr_by_vdev_locked(const struct pdk_vfio_dev *vdev)
{
	for (struct pdk_nvme_ctrlr *c = ctrlr_list; c != NULL; c = c->next)
		if (c->vdev == vdev)
			return c;
	return NULL;
}

void nvme_list_lock(bool on)
{
	if (on)
		pthread_mutex_lock(&list_lock);
	else
		pthread_mutex_unlock(&list_lock);
}

/* ------------------------------------------------------- queue pairs -- */

static int qid_take(struct pdk_nvme_ctrlr *c)
{
	for (uint32_t q = 1; q <= c->io_queues; q++)
		if (!c->qid_used[q]) {
			c->qid_used[q] = 1;
			return (int)q;
		}
	return -ENOSPC;
}

static int qpair_open_locked(struct pdk_nvme_ctrlr *c, struct pdk_nvme_qpair *qp,
			     uint32_t entries)
{
	int qid, rc;

	if (NVME_GEN_STATE(nvme_ctrlr_gen(c)) == NVME_CTRLR_FAILED)
		return -ENXIO;
	qid = qid_take(c);
	if (qid < 0) {
		PDK_LOG(ERR, NVME_LOG, "%s: all %u I/O queues granted by the controller are in "
			"use: free a queue pair, or ask for more (io_queues)", c->name,
			c->io_queues);
		return qid;
	}
	rc = nvme_qpair_init(qp, c, (uint16_t)qid, entries);
	if (rc == 0) {
		qp->timeout_tsc = c->io_timeout_tsc;
		rc = nvme_admin_create_queues(c, qp);
		if (rc < 0)
			nvme_qpair_fini(qp);
	}
	if (rc < 0) {
		c->qid_used[qid] = 0;
		return rc;
	}
	qp->gen = nvme_ctrlr_gen(c);
	qp->next = c->qpairs;
	c->qpairs = qp;
	c->io_queues_used++;
	return 0;
}

struct pdk_nvme_qpair *pdk_nvme_qpair_alloc(struct pdk_nvme_ctrlr *c, uint32_t depth)
{
	struct pdk_nvme_qpair *qp;
	uint32_t entries;
	int rc;

	if (c == NULL) {
		errno = EINVAL;
		return NULL;
	}
	entries = (depth ? depth : c->opts.io_queue_depth) + 1;
	entries = PDK_MAX(PDK_MIN(entries, c->lim.entries), 2u);
	qp = calloc(1, sizeof(*qp));
	if (qp == NULL)
		return NULL;
	pthread_mutex_lock(&c->lock);
	rc = qpair_open_locked(c, qp, entries);
	pthread_mutex_unlock(&c->lock);
	if (rc < 0) {
		free(qp);
		errno = -rc;
		return NULL;
	}
	return qp;
}

static void qpair_unlink_locked(struct pdk_nvme_ctrlr *c, struct pdk_nvme_qpair *qp)
{
	for (struct pdk_nvme_qpair **p = &c->qpairs; *p != NULL; p = &(*p)->next)
		if (*p == qp) {
			*p = qp->next;
			break;
		}
	c->qid_used[qp->id] = 0;
	c->io_queues_used--;
	nvme_stats_sum(&c->retired, &qp->stats);
}

void pdk_nvme_qpair_free(struct pdk_nvme_qpair *qp)
{
	struct pdk_nvme_ctrlr *c;

	if (qp == NULL)
		return;
	c = qp->ctrlr;
	pthread_mutex_lock(&c->lock);
	/* the device stops using the rings before they are freed */
	if (qp->state == NVME_QP_CONNECTED && nvme_ctrlr_gen(c) == qp->gen)
		nvme_admin_delete_queues(c, qp);
	pthread_mutex_unlock(&c->lock);
	qp->state = NVME_QP_FAILED; /* callbacks below cannot submit here */
	nvme_qpair_fail_all(qp, NVME_ST_HOST_ABORTED);
	pthread_mutex_lock(&c->lock);
	qpair_unlink_locked(c, qp);
	pthread_mutex_unlock(&c->lock);
	nvme_qpair_fini(qp);
	free(qp);
}

/* ------------------------------------------------------ info, stats -- */

const char *pdk_nvme_ctrlr_name(const struct pdk_nvme_ctrlr *c)
{
	return c->name;
}

const struct pdk_nvme_ctrlr_data *pdk_nvme_ctrlr_data(const struct pdk_nvme_ctrlr *c)
{
	return c->cdata;
}

uint32_t pdk_nvme_ctrlr_num_ns(const struct pdk_nvme_ctrlr *c)
{
	return c->lim.nn;
}

bool pdk_nvme_ctrlr_is_failed(const struct pdk_nvme_ctrlr *c)
{
	return NVME_GEN_STATE(nvme_ctrlr_gen(c)) == NVME_CTRLR_FAILED;
}

int pdk_nvme_ctrlr_info(const struct pdk_nvme_ctrlr *c, struct pdk_nvme_ctrlr_info *info)
{
	const struct pdk_nvme_ctrlr_data *cd = c->cdata;

	if (info == NULL)
		return -EINVAL;
	*info = (struct pdk_nvme_ctrlr_info){
		.cap = c->cap,
		.version = c->vs,
		.page_size = c->lim.page_size,
		.max_xfer = c->lim.max_xfer,
		.max_queue_entries = PDK_NVME_CAP_MQES(c->cap) + 1,
		.io_queues = c->io_queues,
		.io_queues_used = c->io_queues_used,
		.doorbell_stride = 4u << c->lim.dstrd,
		.ready_timeout_ms = c->lim.ready_ms,
		.num_ns = c->lim.nn,
		.active_ns = c->num_ns,
		.dbbuf = c->dbbuf_on,
		.write_zeroes = c->write_zeroes,
		.volatile_write_cache = cd->vwc & PDK_NVME_VWC_PRESENT,
		.backend = pdk_vfio_dev_backend(c->vdev),
	};
	nvme_str_clean(info->sn, cd->sn, sizeof(cd->sn));
	nvme_str_clean(info->mn, cd->mn, sizeof(cd->mn));
	nvme_str_clean(info->fr, cd->fr, sizeof(cd->fr));
	return 0;
}

static uint64_t slow_accesses(struct pdk_vfio_dev *vdev)
{
	struct pdk_vfio_dev_stats st;
	uint64_t n = 0;

	if (pdk_vfio_dev_stats(vdev, &st) < 0)
		return 0;
	for (int i = 0; i < PDK_VFIO_PCI_BAR_COUNT; i++)
		n += st.slow_reads[i] + st.slow_writes[i];
	return n;
}

/* The admin queue's trouble (drops, timeouts, aborts) and doorbells count;
 * its commands are the driver's own and not I/O requests. */
static void admin_stats_add(struct pdk_nvme_stats *st, const struct nvme_stats *a)
{
	struct pdk_nvme_stats x = {0};

	nvme_stats_sum(&x, a);
	st->dropped_unknown += x.dropped_unknown;
	st->dropped_stale += x.dropped_stale;
	st->sq_head_invalid += x.sq_head_invalid;
	st->phase_skipped += x.phase_skipped;
	st->timeouts += x.timeouts;
	st->aborts += x.aborts;
	st->doorbells += x.doorbells;
	st->doorbells_skipped += x.doorbells_skipped;
}

int pdk_nvme_ctrlr_stats(const struct pdk_nvme_ctrlr *cc, struct pdk_nvme_stats *st)
{
	struct pdk_nvme_ctrlr *c = (struct pdk_nvme_ctrlr *)(uintptr_t)cc;

	if (c == NULL || st == NULL)
		return -EINVAL;
	pthread_mutex_lock(&c->lock);
	*st = c->retired;
	admin_stats_add(st, &c->adminq->stats);
	for (struct pdk_nvme_qpair *qp = c->qpairs; qp != NULL; qp = qp->next)
		nvme_stats_sum(st, &qp->stats);
	pthread_mutex_unlock(&c->lock);
	st->resets = atomic_load_explicit(&c->resets, memory_order_relaxed);
	st->slow_bar_accesses = slow_accesses(c->vdev);
	return 0;
}

void pdk_nvme_ctrlr_set_remove_cb(struct pdk_nvme_ctrlr *c, pdk_nvme_remove_cb cb, void *arg)
{
	nvme_list_lock(true); /* the removal event reads these under it */
	c->remove_cb = cb;
	c->remove_arg = arg;
	nvme_list_lock(false);
}
