/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The device line "TYPE,socket=PATH,key=value,..." and the model registry.
 * Every key must be a framework knob or one the model declared; a bad key
 * or value fails creation with a message naming it and what is valid.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sched.h>

#include "emu_private.h"

#define MODELS_MAX 16

static const struct pdk_emu_knob common_knobs[] = {
	{"socket", "PATH: UNIX socket to listen on (required)", NULL},
	{"msix", "shared|own: MSI-X table in the register BAR's page, or a BAR of its own", "shared"},
	{"msix-mmap", "whole|sparse|none|slow: what the MSI-X BAR advertises "
		      "(MSIX_MAPPABLE, sparse areas around the table, MMAP with no "
		      "capability like an old kernel, no MMAP)", "whole"},
	{"page-size", "4k|64k: emulated host page size for the areas computed", "4k"},
	{"vectors", "N: MSI-X vectors (1..2048)", NULL},
	{"pgsizes", "MASK: DMA page sizes offered in VERSION (4 KiB multiples)", "0x1000"},
	{"max-dma-maps", "N: DMA mappings allowed at once", "65535"},
	{"iova-ranges", "START-END[/START-END...]: the valid IOVA windows (END "
			"inclusive, at most 8, ascending), as an IOMMU with holes "
			"reports them; DMA_MAP outside them fails (default: any IOVA)", NULL},
	{"max-fds", "N: fds accepted in one message (1..253)", "16"},
	{"max-xfer", "N: largest REGION_READ/WRITE count (4k..64m)", "1m"},
	{"cpu", "N: pin the device thread to CPU N", NULL},
	{"idle-us", "N: longest idle sleep of the device thread; 0 = always spin", "1000"},
	{"allones-after-ms", "N: the device dies (all-ones) N ms after a client connects", NULL},
	{"remove-after-ms", "N: surprise removal N ms after a client connects", NULL},
	{"remove-grace-ms", "N: time the client gets to let go after the request IRQ", "1000"},
	{"fault", "NAME: model fault to inject (see fault-after-ms, SIGUSR2)", NULL},
	{"fault-after-ms", "N: inject `fault` N ms after a client connects", NULL},
	{NULL, NULL, NULL},
};

static const struct pdk_emu_model *models[MODELS_MAX] = {&emu_model_testdev,
							  &emu_model_nvme,
							  &emu_model_virtio_net};
static unsigned nb_models = 3;
static pthread_mutex_t models_lock = PTHREAD_MUTEX_INITIALIZER;

const struct pdk_emu_knob *pdk_emu_common_knobs(void)
{
	return common_knobs;
}

int emu_models_check(const struct pdk_emu_model *m)
{
	if (m == NULL || m->name == NULL || m->init == NULL || m->name[0] == '\0')
		return -EINVAL;
	for (const struct pdk_emu_knob *k = m->knobs; k && k->name; k++)
		for (const struct pdk_emu_knob *c = common_knobs; c->name; c++)
			if (strcmp(k->name, c->name) == 0)
				return -EINVAL; /* would shadow a framework knob */
	return 0;
}

int pdk_emu_model_register(const struct pdk_emu_model *m)
{
	int rc = emu_models_check(m);

	if (rc)
		return rc;
	pthread_mutex_lock(&models_lock);
	if (pdk_emu_model_find(m->name))
		rc = -EEXIST;
	else if (nb_models == MODELS_MAX)
		rc = -ENOSPC;
	else
		models[nb_models++] = m;
	pthread_mutex_unlock(&models_lock);
	return rc;
}

const struct pdk_emu_model *pdk_emu_model_find(const char *name)
{
	for (unsigned i = 0; i < nb_models && name; i++)
		if (strcmp(models[i]->name, name) == 0)
			return models[i];
	return NULL;
}

const struct pdk_emu_model *pdk_emu_model_next(const struct pdk_emu_model *m)
{
	if (m == NULL)
		return models[0];
	for (unsigned i = 0; i + 1 < nb_models; i++)
		if (models[i] == m)
			return models[i + 1];
	return NULL;
}

void pdk_emu_dev_error(struct pdk_emu_dev *dev, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(dev->error, sizeof(dev->error), fmt, ap);
	va_end(ap);
}

/* "4096", "0x1000", "4k", "1m", "1g": a non-negative integer. */
static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	unsigned shift = 0;

	if (s == NULL || *s == '\0' || *s == '-' || *s == '+' || *s == ' ')
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s)
		return -EINVAL;
	if (*end == 'k' || *end == 'K')
		shift = 10;
	else if (*end == 'm' || *end == 'M')
		shift = 20;
	else if (*end == 'g' || *end == 'G')
		shift = 30;
	if (shift)
		end++;
	if (*end != '\0' || (shift && v > (UINT64_MAX >> shift)))
		return -EINVAL;
	*out = (uint64_t)v << shift;
	return 0;
}

static const struct pdk_emu_knob *find_knob(const struct pdk_emu_knob *t,
					    const char *name)
{
	for (; t && t->name; t++)
		if (strcmp(t->name, name) == 0)
			return t;
	return NULL;
}

/* "valid knobs: a, b, c" for the error message. */
static void list_knobs(const struct pdk_emu_model *m, char *buf, size_t len)
{
	size_t n = (size_t)snprintf(buf, len, "valid knobs:");
	const char *sep = " ";

	for (int pass = 0; pass < 2; pass++) {
		const struct pdk_emu_knob *k = pass ? m->knobs : common_knobs;

		for (; k && k->name && n < len; k++) {
			n += (size_t)snprintf(buf + n, len - n, "%s%s", sep, k->name);
			sep = ", ";
		}
	}
}

const char *pdk_emu_dev_knob(const struct pdk_emu_dev *dev, const char *name)
{
	const struct pdk_emu_knob *k;

	for (unsigned i = 0; i < dev->nkv; i++)
		if (strcmp(dev->kv[i].key, name) == 0)
			return dev->kv[i].val;
	k = find_knob(dev->model->knobs, name);
	if (k == NULL)
		k = find_knob(common_knobs, name);
	return k ? k->def : NULL;
}

int pdk_emu_dev_knob_u64(struct pdk_emu_dev *dev, const char *name,
			 uint64_t *out)
{
	const char *v = pdk_emu_dev_knob(dev, name);

	if (v == NULL)
		return -ENOENT;
	if (parse_u64(v, out)) {
		pdk_emu_dev_error(dev, "bad value '%s' for knob '%s': expected a "
			     "number (0x.., k/m/g suffixes)", v, name);
		return -EINVAL;
	}
	return 0;
}

int pdk_emu_dev_knob_range(struct pdk_emu_dev *dev, const char *name,
			   uint64_t lo, uint64_t hi, uint64_t *out)
{
	uint64_t v;
	int rc = pdk_emu_dev_knob_u64(dev, name, &v);

	if (rc == -ENOENT)
		return 0;
	if (rc == 0 && (v < lo || v > hi)) {
		pdk_emu_dev_error(dev, "bad value '%s' for knob '%s': expected "
			     "%llu..%llu", pdk_emu_dev_knob(dev, name), name,
			     (unsigned long long)lo, (unsigned long long)hi);
		rc = -EINVAL;
	}
	if (rc == 0)
		*out = v;
	return rc;
}

/* A knob taking one of `words` (NULL-terminated); index in `*out`. */
static int knob_enum(struct pdk_emu_dev *dev, const char *name,
		     const char *const *words, unsigned *out)
{
	const char *v = pdk_emu_dev_knob(dev, name);
	char list[128] = "";

	if (v == NULL)
		return 0;
	for (unsigned i = 0; words[i]; i++) {
		if (strcmp(v, words[i]) == 0) {
			*out = i;
			return 0;
		}
		snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s",
			 i ? "|" : "", words[i]);
	}
	pdk_emu_dev_error(dev, "bad value '%s' for knob '%s': expected %s", v,
		     name, list);
	return -EINVAL;
}

static int parse_layout_knobs(struct pdk_emu_dev *dev, struct emu_opts *o)
{
	static const char *const layouts[] = {"shared", "own", NULL};
	static const char *const mmaps[] = {"whole", "sparse", "none", "slow", NULL};
	static const char *const pages[] = {"4k", "64k", NULL};
	unsigned layout = o->msix_layout, mm = o->msix_mmap, page = 0;
	uint64_t v = 0;
	int rc = 0;

	rc |= knob_enum(dev, "msix", layouts, &layout);
	rc |= knob_enum(dev, "msix-mmap", mmaps, &mm);
	rc |= knob_enum(dev, "page-size", pages, &page);
	rc |= pdk_emu_dev_knob_range(dev, "vectors", 1, EMU_MSIX_MAX, &v);
	o->msix_layout = (enum emu_msix_layout)layout;
	o->msix_mmap = (enum emu_msix_mmap)mm;
	o->page_size = page ? 65536 : 4096;
	o->vectors = (unsigned)v;
	return rc ? -EINVAL : 0;
}

static int parse_limit_knobs(struct pdk_emu_dev *dev, struct emu_opts *o)
{
	uint64_t maps = 0, fds = 0, idle = 0, cpu = UINT64_MAX;
	int rc = 0;

	rc |= pdk_emu_dev_knob_range(dev, "pgsizes", 4096, UINT64_MAX, &o->pgsizes);
	rc |= pdk_emu_dev_knob_range(dev, "max-dma-maps", 1, 1u << 20, &maps);
	rc |= pdk_emu_dev_knob_range(dev, "max-fds", 1, PDK_VFIO_USER_FDS_MAX, &fds);
	rc |= pdk_emu_dev_knob_range(dev, "max-xfer", 4096, 64ull << 20, &o->max_xfer);
	rc |= pdk_emu_dev_knob_range(dev, "cpu", 0, CPU_SETSIZE - 1, &cpu);
	rc |= pdk_emu_dev_knob_range(dev, "idle-us", 0, 1000000, &idle);
	if (rc == 0 && (o->pgsizes & 4095)) {
		pdk_emu_dev_error(dev, "bad value for knob 'pgsizes': page sizes "
			     "below 4 KiB cannot be mapped");
		rc = -EINVAL;
	}
	o->max_dma_maps = (uint32_t)maps;
	o->max_fds = (uint32_t)fds;
	o->idle_us = (unsigned)idle;
	o->cpu = cpu == UINT64_MAX ? -1 : (int)cpu;
	return rc ? -EINVAL : 0;
}

/* "START-END/START-END...": ascending, disjoint, page-aligned windows. */
static int parse_iova_ranges(struct pdk_emu_dev *dev, struct emu_opts *o)
{
	const char *v = pdk_emu_dev_knob(dev, "iova-ranges");
	char copy[sizeof(dev->kv[0].val)], *save = NULL, *item;
	uint64_t pg = o->pgsizes & -o->pgsizes;

	if (v == NULL)
		return 0;
	snprintf(copy, sizeof(copy), "%s", v);
	for (item = strtok_r(copy, "/", &save); item; item = strtok_r(NULL, "/", &save)) {
		char *dash = strchr(item, '-');
		struct pdk_vfio_user_iova_range r;

		if (o->nr_iova_ranges == PDK_VFIO_USER_IOVA_RANGES_MAX || dash == NULL)
			goto bad;
		*dash = '\0';
		if (parse_u64(item, &r.start) || parse_u64(dash + 1, &r.end) ||
		    r.start > r.end || (r.start & (pg - 1)) || ((r.end + 1) & (pg - 1)) ||
		    (o->nr_iova_ranges && r.start <= o->iova_ranges[o->nr_iova_ranges - 1].end))
			goto bad;
		o->iova_ranges[o->nr_iova_ranges++] = r;
	}
	if (o->nr_iova_ranges)
		return 0;
bad:
	pdk_emu_dev_error(dev, "bad value '%s' for knob 'iova-ranges': expected "
		     "START-END[/START-END...], at most %d windows, ascending and "
		     "disjoint, START and END+1 multiples of the smallest page size "
		     "(e.g. 0x100000-0xfedfffff/0xfef00000-0x7fffffffff)", v,
		     PDK_VFIO_USER_IOVA_RANGES_MAX);
	return -EINVAL;
}

static int parse_fault_knobs(struct pdk_emu_dev *dev, struct emu_opts *o)
{
	const uint64_t day = 86400000;
	uint64_t a = UINT64_MAX, r = UINT64_MAX, f = UINT64_MAX, g = 0;
	const char *fault = pdk_emu_dev_knob(dev, "fault");
	int rc = 0;

	rc |= pdk_emu_dev_knob_range(dev, "allones-after-ms", 0, day, &a);
	rc |= pdk_emu_dev_knob_range(dev, "remove-after-ms", 0, day, &r);
	rc |= pdk_emu_dev_knob_range(dev, "remove-grace-ms", 0, 60000, &g);
	rc |= pdk_emu_dev_knob_range(dev, "fault-after-ms", 0, day, &f);
	if (rc)
		return -EINVAL;
	o->allones_after_ms = a == UINT64_MAX ? -1 : (int64_t)a;
	o->remove_after_ms = r == UINT64_MAX ? -1 : (int64_t)r;
	o->fault_after_ms = f == UINT64_MAX ? -1 : (int64_t)f;
	o->remove_grace_ms = (unsigned)g;
	if (fault == NULL)
		return 0;
	if (dev->model->inject == NULL || strlen(fault) >= sizeof(o->fault)) {
		pdk_emu_dev_error(dev, "bad value '%s' for knob 'fault': %s", fault,
			     dev->model->inject ? "name too long" :
						  "this model has no faults");
		return -EINVAL;
	}
	snprintf(o->fault, sizeof(o->fault), "%s", fault);
	if (o->fault_after_ms < 0)
		o->fault_after_ms = 0;
	return 0;
}

/* Split "k=v" into the knob list, checking the key is known. */
static int add_kv(struct pdk_emu_dev *dev, char *item)
{
	char *eq = strchr(item, '=');
	char valid[512];

	if (eq == NULL || eq == item) {
		pdk_emu_dev_error(dev, "bad knob '%s': expected key=value", item);
		return -EINVAL;
	}
	*eq = '\0';
	if (!find_knob(common_knobs, item) && !find_knob(dev->model->knobs, item)) {
		list_knobs(dev->model, valid, sizeof(valid));
		pdk_emu_dev_error(dev, "unknown knob '%s' for %s; %s", item,
			     dev->model->name, valid);
		return -EINVAL;
	}
	for (unsigned i = 0; i < dev->nkv; i++) {
		if (strcmp(dev->kv[i].key, item) == 0) {
			pdk_emu_dev_error(dev, "knob '%s' given twice", item);
			return -EINVAL;
		}
	}
	if (dev->nkv == EMU_KNOBS_MAX || strlen(item) >= sizeof(dev->kv[0].key) ||
	    strlen(eq + 1) >= sizeof(dev->kv[0].val)) {
		pdk_emu_dev_error(dev, "knob '%s': too many knobs or too long", item);
		return -EINVAL;
	}
	snprintf(dev->kv[dev->nkv].key, sizeof(dev->kv[0].key), "%s", item);
	snprintf(dev->kv[dev->nkv].val, sizeof(dev->kv[0].val), "%s", eq + 1);
	dev->nkv++;
	return 0;
}

static int split_spec(struct pdk_emu_dev *dev, char *copy)
{
	char *save = NULL, *type = strtok_r(copy, ",", &save), *item;
	char names[256] = "";

	dev->model = pdk_emu_model_find(type);
	if (dev->model == NULL) {
		for (const struct pdk_emu_model *m = pdk_emu_model_next(NULL); m;
		     m = pdk_emu_model_next(m))
			snprintf(names + strlen(names), sizeof(names) - strlen(names),
				 "%s%s", names[0] ? ", " : "", m->name);
		pdk_emu_dev_error(dev, "unknown device type '%s'; known types: %s",
			     type ? type : "", names);
		return -EINVAL;
	}
	while ((item = strtok_r(NULL, ",", &save)) != NULL)
		if (add_kv(dev, item))
			return -EINVAL;
	return 0;
}

/* Fill dev->model, dev->kv and dev->opts from the device line. */
int emu_parse_spec(struct pdk_emu_dev *dev, const char *spec)
{
	struct emu_opts *o = &dev->opts;
	const char *sock;
	char *copy = strdup(spec ? spec : "");
	int rc;

	if (copy == NULL)
		return -ENOMEM;
	rc = split_spec(dev, copy);
	free(copy);
	if (rc)
		return rc;
	*o = (struct emu_opts){.msix_layout = EMU_MSIX_SHARED,
			       .msix_mmap = EMU_MMAP_WHOLE, .cpu = -1};
	if (parse_layout_knobs(dev, o) || parse_limit_knobs(dev, o) ||
	    parse_iova_ranges(dev, o) || parse_fault_knobs(dev, o))
		return -EINVAL;
	sock = pdk_emu_dev_knob(dev, "socket");
	if (sock == NULL || sock[0] == '\0' || strlen(sock) >= sizeof(o->socket)) {
		pdk_emu_dev_error(dev, "knob 'socket' %s: socket=PATH (under %zu bytes)",
			     sock ? "too long" : "missing", sizeof(o->socket));
		return -EINVAL;
	}
	snprintf(o->socket, sizeof(o->socket), "%s", sock);
	return 0;
}
