/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DMA domains: which memory a domain's devices can reach, at which IOVA.
 *
 * IOVA rules (DESIGN.md section 2): IOVAs come only from the IOMMU's valid
 * ranges. EAL memory keeps IOVA = VA when every segment fits them; when one
 * does not, each segment gets an IOVA allocated inside them
 * (pdk_mem_set_iova) before any device sees one. Contiguous memory is
 * mapped as one unit, units are unmapped as they were mapped, and the size
 * the unmap reports is checked. Pinning is compared to RLIMIT_MEMLOCK
 * first, and each failure of the map call is explained.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pdk_eal.h"
#include "pdk_eal_internal.h"
#include "vfio_private.h"
#include "vfio_sys.h"

/* A stretch of memory to map: contiguous in VA and IOVA. */
struct run {
	void *va;
	uint64_t iova;
	uint64_t len;
};

static int eal_mapped_domains; /* domains holding EAL memory at its IOVAs */

/* ------------------------------------------------------- IOVA space -- */

static uint64_t min_pgsize(const struct pdk_vfio_domain *dom)
{
	uint64_t pg = dom->info.pgsizes;

	return pg ? pg & -pg : (uint64_t)vfio_sys->page_size();
}

static bool in_ranges(const struct pdk_vfio_iommu_info *info, uint64_t iova, uint64_t len)
{
	uint64_t last = iova + len - 1;

	if (len == 0 || last < iova)
		return false;
	if (!info->ranges_known)
		return true;
	for (uint32_t i = 0; i < info->nr_ranges; i++)
		if (iova >= info->ranges[i].start && last <= info->ranges[i].end)
			return true;
	return false;
}

/* The end of a mapping (or pending run) overlapping [iova, iova+len), or 0. */
static uint64_t iova_conflict(const struct pdk_vfio_domain *dom, const struct run *pend,
			      unsigned npend, uint64_t iova, uint64_t len)
{
	for (unsigned i = 0; i < dom->nr_maps; i++) {
		const struct vfio_dma_entry *e = &dom->maps[i];

		if (iova < e->iova + e->len && e->iova < iova + len)
			return e->iova + e->len;
	}
	for (unsigned i = 0; i < npend; i++)
		if (iova < pend[i].iova + pend[i].len && pend[i].iova < iova + len)
			return pend[i].iova + pend[i].len;
	return 0;
}

/* First fit inside the valid ranges, `align`-aligned, never at IOVA 0
 * (many devices read 0 as "no address"). */
static int iova_alloc(const struct pdk_vfio_domain *dom, const struct run *pend,
		      unsigned npend, uint64_t len, uint64_t align, uint64_t *out)
{
	const struct pdk_vfio_iommu_info *info = &dom->info;
	struct pdk_vfio_iova_range all = {0, UINT64_MAX};
	uint32_t n = info->ranges_known ? info->nr_ranges : 1;

	for (uint32_t i = 0; i < n; i++) {
		const struct pdk_vfio_iova_range *r = info->ranges_known ? &info->ranges[i] : &all;
		uint64_t cand = PDK_ALIGN_CEIL(PDK_MAX(r->start, align), align);

		while (cand >= r->start && cand <= r->end && r->end - cand >= len - 1) {
			uint64_t end = iova_conflict(dom, pend, npend, cand, len);

			if (end == 0) {
				*out = cand;
				return 0;
			}
			if (end > UINT64_MAX - align)
				break;
			cand = PDK_ALIGN_CEIL(end, align);
		}
	}
	return -ENOSPC;
}

static uint64_t ranges_total(const struct pdk_vfio_iommu_info *info)
{
	uint64_t t = 0;

	for (uint32_t i = 0; i < info->nr_ranges; i++)
		t += info->ranges[i].end - info->ranges[i].start + 1;
	return t;
}

/* ---------------------------------------------------- map and unmap -- */

/* Room for element n of a doubling array. */
static int grow(void **arr, unsigned n, unsigned *cap, size_t elem)
{
	unsigned c = *cap ? *cap * 2 : 16;
	void *p;

	if (n < *cap)
		return 0;
	if ((p = realloc(*arr, c * elem)) == NULL)
		return -ENOMEM;
	*arr = p;
	*cap = c;
	return 0;
}

static uint64_t pinned_bytes(const struct pdk_vfio_domain *dom)
{
	uint64_t t = 0;

	for (unsigned i = 0; i < dom->nr_maps; i++)
		t += dom->maps[i].pinned ? dom->maps[i].len : 0;
	return t;
}

/* Pinning `more` bytes must fit RLIMIT_MEMLOCK unless we hold CAP_IPC_LOCK. */
static int check_memlock(const struct pdk_vfio_domain *dom, uint64_t more)
{
	struct rlimit rl;
	uint64_t need = pinned_bytes(dom) + more;

	if (!dom->be->pins_memory || vfio_sys->can_pin_unlimited() ||
	    vfio_sys->getrlimit(RLIMIT_MEMLOCK, &rl) < 0 || rl.rlim_cur == RLIM_INFINITY ||
	    need <= rl.rlim_cur)
		return 0;
	PDK_LOG(ERR, VFIO_LOG, "pinning DMA memory needs %" PRIu64 " bytes of locked memory "
		"(%" PRIu64 " KiB) but RLIMIT_MEMLOCK is %" PRIu64 " bytes: raise it with "
		"'ulimit -l %" PRIu64 "' (or 'ulimit -l unlimited'), a memlock line in "
		"/etc/security/limits.conf, or run as root", need, (need + 1023) / 1024,
		(uint64_t)rl.rlim_cur, (need + 1023) / 1024);
	return -ENOMEM;
}

static void explain_einval(const struct pdk_vfio_domain *dom, const struct run *r,
			   char *why, size_t len)
{
	uint64_t pg = min_pgsize(dom);

	if (r->iova + r->len - 1 < r->iova || (uintptr_t)r->va + r->len - 1 < (uintptr_t)r->va)
		snprintf(why, len, "the range wraps around the end of the address space");
	else if ((r->iova | (uintptr_t)r->va | r->len) & (pg - 1))
		snprintf(why, len, "VA, IOVA or length is not a multiple of the IOMMU page "
			 "size 0x%" PRIx64, pg);
	else if (!in_ranges(&dom->info, r->iova, r->len))
		snprintf(why, len, "the IOVA range is outside the IOMMU's valid IOVA ranges "
			 "(pdk-devinfo lists them)");
	else
		snprintf(why, len, "invalid: outside the valid IOVA ranges or misaligned, "
			 "by the kernel's reckoning");
}

/* One message per errno of the map call, saying which case it is. */
static void explain_map_error(const struct pdk_vfio_domain *dom, const struct run *r, int rc)
{
	char why[384];

	switch (-rc) {
	case EEXIST:
		snprintf(why, sizeof(why), "it overlaps an IOVA range that is already mapped");
		break;
	case ENOSPC:
		snprintf(why, sizeof(why), "the IOMMU's limit on DMA mappings is reached "
			 "(%u in this domain): %s, or use larger hugepages so fewer mappings "
			 "are needed", dom->nr_maps, dom->be->entry_limit_hint);
		break;
	case EINVAL:
		explain_einval(dom, r, why, sizeof(why));
		break;
	case EOVERFLOW:
		snprintf(why, sizeof(why), "the range wraps around the end of the address space");
		break;
	case ENOMEM:
		snprintf(why, sizeof(why), "out of locked memory: %" PRIu64 " bytes pinned and "
			 "%" PRIu64 " more exceed RLIMIT_MEMLOCK; raise it with 'ulimit -l "
			 "unlimited', a memlock line in /etc/security/limits.conf, or run as "
			 "root", pinned_bytes(dom), r->len);
		break;
	case EFAULT:
		snprintf(why, sizeof(why), "the VA range is not mapped in this process");
		break;
	default:
		snprintf(why, sizeof(why), "%s", strerror(-rc));
		break;
	}
	PDK_LOG(ERR, VFIO_LOG, "DMA map of VA %p IOVA 0x%" PRIx64 " length 0x%" PRIx64
		" failed (%s): %s", r->va, r->iova, r->len, strerror(-rc), why);
}

static int map_one(struct pdk_vfio_domain *dom, const struct run *r, bool eal, bool pinned)
{
	const struct pdk_memseg *seg = pdk_mem_virt2memseg(r->va);
	struct vfio_dma_req req = {.va = r->va, .iova = r->iova, .len = r->len, .fd = -1};
	int rc;

	if (grow((void **)&dom->maps, dom->nr_maps, &dom->cap_maps, sizeof(*dom->maps)) < 0)
		return -ENOMEM;
	if (seg && seg->fd >= 0) { /* vfio-user shares memory by file */
		req.fd = seg->fd;
		req.fd_offset = seg->fd_offset + PDK_PTR_DIFF(r->va, seg->va);
	}
	rc = dom->be->dma_map(dom, &req);
	if (rc < 0) {
		explain_map_error(dom, r, rc);
		return rc;
	}
	dom->maps[dom->nr_maps++] = (struct vfio_dma_entry){r->va, r->iova, r->len, eal, pinned};
	return 0;
}

/* Remove entry i, unmapping it in the unit it was mapped in. */
static int unmap_entry(struct pdk_vfio_domain *dom, unsigned i)
{
	struct vfio_dma_entry e = dom->maps[i];
	uint64_t done = 0;
	int rc = dom->be->dma_unmap(dom, e.iova, e.len, &done);

	if (rc < 0)
		PDK_LOG(ERR, VFIO_LOG, "DMA unmap of IOVA 0x%" PRIx64 " length 0x%" PRIx64
			" failed: %s", e.iova, e.len, strerror(-rc));
	else if (done != e.len)
		PDK_LOG(ERR, VFIO_LOG, "DMA unmap of IOVA 0x%" PRIx64 " length 0x%" PRIx64
			" removed 0x%" PRIx64 " bytes", e.iova, e.len, done);
	if (rc == 0 && done != e.len)
		rc = -EIO;
	memmove(&dom->maps[i], &dom->maps[i + 1], (dom->nr_maps - i - 1) * sizeof(e));
	dom->nr_maps--;
	return rc;
}

static void unmap_eal(struct pdk_vfio_domain *dom)
{
	for (unsigned i = dom->nr_maps; i-- > 0;)
		if (dom->maps[i].eal)
			unmap_entry(dom, i);
	if (dom->eal_mapped)
		eal_mapped_domains--;
	dom->eal_mapped = false;
}

/* ------------------------------------------------------ EAL memory -- */

struct runs {
	struct run *r;
	unsigned n, cap;
};

static int runs_add(struct runs *rs, void *va, uint64_t iova, uint64_t len)
{
	struct run *last = rs->n ? &rs->r[rs->n - 1] : NULL;

	if (last && PDK_PTR_ADD(last->va, last->len) == va && last->iova + last->len == iova) {
		last->len += len; /* contiguous in both: one unit */
		return 0;
	}
	if (grow((void **)&rs->r, rs->n, &rs->cap, sizeof(*rs->r)) < 0)
		return -ENOMEM;
	rs->r[rs->n++] = (struct run){va, iova, len};
	return 0;
}

/* A segment's runs: one when its IOVAs are contiguous (VA mode), else one
 * per stretch of physically contiguous pages. */
static int seg_runs(const struct pdk_memseg *seg, void *arg)
{
	struct runs *rs = arg;

	if (seg->iova != PDK_BAD_IOVA)
		return runs_add(rs, seg->va, seg->iova, seg->len);
	for (size_t off = 0; off < seg->len; off += seg->page_size) {
		void *va = PDK_PTR_ADD(seg->va, off);
		int rc = runs_add(rs, va, pdk_mem_virt2iova(va), seg->page_size);

		if (rc)
			return rc;
	}
	return 0;
}

static int collect_runs(struct runs *rs)
{
	memset(rs, 0, sizeof(*rs));
	return pdk_memseg_walk(seg_runs, rs);
}

struct seg_list {
	const struct pdk_memseg *s[PDK_MAX_NUMA_NODES * 4];
	unsigned n;
};

static int seg_collect(const struct pdk_memseg *seg, void *arg)
{
	struct seg_list *l = arg;

	if (l->n == PDK_DIM(l->s))
		return -E2BIG;
	l->s[l->n++] = seg;
	return 0;
}

static void log_no_room(const struct pdk_vfio_domain *dom, uint64_t need)
{
	PDK_LOG(ERR, VFIO_LOG, "the IOMMU's valid IOVA ranges (%u, %" PRIu64 " bytes in "
		"all) cannot hold the %" PRIu64 " bytes of DMA memory: ask for less with -m "
		"or --socket-mem", dom->info.nr_ranges, ranges_total(&dom->info), need);
}

/* Give every segment an IOVA inside the valid ranges. */
static int eal_assign_iovas(struct pdk_vfio_domain *dom)
{
	struct seg_list l = {.n = 0};
	struct run pend[PDK_DIM(l.s)];
	uint64_t total = 0;
	int rc = pdk_memseg_walk(seg_collect, &l);

	if (rc < 0)
		return rc;
	for (unsigned i = 0; i < l.n; i++) {
		total += l.s[i]->len;
		pend[i] = (struct run){l.s[i]->va, 0, l.s[i]->len};
		if (iova_alloc(dom, pend, i, l.s[i]->len, l.s[i]->page_size, &pend[i].iova) < 0) {
			log_no_room(dom, pdk_mem_total());
			return -ENOSPC;
		}
	}
	for (unsigned i = 0; i < l.n; i++)
		if ((rc = pdk_mem_set_iova(l.s[i], pend[i].iova)) < 0)
			return rc;
	PDK_LOG(NOTICE, VFIO_LOG, "DMA memory (%" PRIu64 " bytes) lies outside the IOMMU's "
		"valid IOVA ranges at IOVA = VA: using IOVAs allocated inside them", total);
	return 0;
}

static bool runs_fit(const struct pdk_vfio_domain *dom, const struct runs *rs)
{
	for (unsigned i = 0; i < rs->n; i++)
		if (!in_ranges(&dom->info, rs->r[i].iova, rs->r[i].len))
			return false;
	return true;
}

/* IOVA = VA (or PA) when it fits; otherwise allocate, if nobody has seen
 * the IOVAs yet. */
static int eal_place(struct pdk_vfio_domain *dom, struct runs *rs)
{
	int rc;

	if (runs_fit(dom, rs))
		return 0;
	if (pdk_eal_iova_mode() == PDK_IOVA_PA) {
		PDK_LOG(ERR, VFIO_LOG, "physical addresses of DMA memory fall outside the "
			"IOMMU's valid IOVA ranges: use --iova-mode va");
		return -EINVAL;
	}
	if (eal_mapped_domains > 0) {
		PDK_LOG(ERR, VFIO_LOG, "DMA memory is already in use at IOVAs outside this "
			"IOMMU's valid ranges (another device mapped it first): open the "
			"kernel devices first, or use them in separate processes");
		return -EINVAL;
	}
	if ((rc = eal_assign_iovas(dom)) < 0)
		return rc;
	free(rs->r);
	return collect_runs(rs);
}

static int check_dma_avail(struct pdk_vfio_domain *dom, unsigned need)
{
	struct pdk_vfio_iommu_info now;

	if (dom->be->iommu_info(dom, &now) < 0 || now.dma_avail < 0 ||
	    (uint64_t)now.dma_avail >= need)
		return 0;
	PDK_LOG(ERR, VFIO_LOG, "the IOMMU allows %" PRId64 " more DMA mappings but %u are "
		"needed: %s, or use larger hugepages so fewer mappings are needed",
		now.dma_avail, need, dom->be->entry_limit_hint);
	return -ENOSPC;
}

static int map_eal(struct pdk_vfio_domain *dom)
{
	struct runs rs;
	uint64_t total = 0;
	int rc = collect_runs(&rs);

	if (rc == 0)
		rc = eal_place(dom, &rs);
	for (unsigned i = 0; rc == 0 && i < rs.n; i++)
		total += rs.r[i].len;
	if (rc == 0 && rs.n > 0)
		rc = check_dma_avail(dom, rs.n);
	if (rc == 0)
		rc = check_memlock(dom, total);
	for (unsigned i = 0; rc == 0 && i < rs.n; i++)
		rc = map_one(dom, &rs.r[i], true, dom->be->pins_memory);
	free(rs.r);
	if (rc == 0 && rs.n == 0)
		return 0; /* no EAL memory yet: the next device of the domain maps it */
	if (rc == 0) {
		dom->eal_mapped = true;
		eal_mapped_domains++;
		PDK_LOG(INFO, VFIO_LOG, "DMA memory mapped: %" PRIu64 " bytes in %u mapping(s)",
			total, rs.n);
	} else {
		unmap_eal(dom);
	}
	return rc;
}

/* ---------------------------------------------- domain life and API -- */

int vfio_domain_attach(struct pdk_vfio_dev *dev)
{
	struct pdk_vfio_domain *dom = dev->domain;
	int rc;

	/* every time: a group joining the container can shrink the ranges */
	if ((rc = dom->be->iommu_info(dom, &dom->info)) < 0)
		return rc;
	dom->refs++;
	if (!(dev->open_flags & PDK_VFIO_OPEN_NO_DMA) && !dom->eal_mapped &&
	    (rc = map_eal(dom)) < 0) {
		dom->refs--;
		return rc;
	}
	return 0;
}

void vfio_domain_detach(struct pdk_vfio_dev *dev)
{
	struct pdk_vfio_domain *dom = dev->domain;

	if (--dom->refs > 0)
		return;
	/* last device: unmap while the IOMMU still exists */
	for (unsigned i = dom->nr_maps; i-- > 0;)
		unmap_entry(dom, i);
	unmap_eal(dom);
}

void vfio_domain_release(struct pdk_vfio_domain *dom)
{
	free(dom->maps);
	dom->maps = NULL;
	dom->nr_maps = dom->cap_maps = 0;
	memset(&dom->info, 0, sizeof(dom->info));
	dom->be->domain_release(dom);
}

int pdk_vfio_domain_info(struct pdk_vfio_domain *dom, struct pdk_vfio_iommu_info *info)
{
	int rc;

	pthread_mutex_lock(&vfio_lock);
	rc = dom->be->iommu_info(dom, info);
	if (rc == 0) {
		info->nr_mappings = dom->nr_maps;
		info->mapped_bytes = 0;
		for (unsigned i = 0; i < dom->nr_maps; i++)
			info->mapped_bytes += dom->maps[i].len;
	}
	pthread_mutex_unlock(&vfio_lock);
	return rc;
}

static int dma_map_check(const struct pdk_vfio_domain *dom, const void *va, size_t len)
{
	uint64_t pg = min_pgsize(dom);

	if (len == 0 || (uintptr_t)va + len - 1 < (uintptr_t)va) {
		PDK_LOG(ERR, VFIO_LOG, "DMA map of VA %p length 0x%zx: empty or wraps around",
			va, len);
		return -EINVAL;
	}
	if (((uintptr_t)va | len) & (pg - 1)) {
		PDK_LOG(ERR, VFIO_LOG, "DMA map of VA %p length 0x%zx: not a multiple of the "
			"IOMMU page size 0x%" PRIx64, va, len, pg);
		return -EINVAL;
	}
	for (unsigned i = 0; i < dom->nr_maps; i++)
		if (dom->maps[i].va == va && dom->maps[i].len == len) {
			PDK_LOG(ERR, VFIO_LOG, "VA %p length 0x%zx is already mapped for DMA "
				"at IOVA 0x%" PRIx64, va, len, dom->maps[i].iova);
			return -EEXIST;
		}
	return 0;
}

/*
 * IOVA = VA when that fits and is free, else the first free fit: aligned
 * like the VA (up to 1 GiB, so the IOMMU can use large pages), or failing
 * that to the IOMMU page only.
 */
static int choose_iova(const struct pdk_vfio_domain *dom, void *va, size_t len,
		       uint64_t *iova)
{
	uint64_t v = (uint64_t)(uintptr_t)va;
	uint64_t pg = min_pgsize(dom);
	uint64_t align = PDK_MAX(pg, PDK_MIN(v & -v, (uint64_t)PDK_GB));

	if (in_ranges(&dom->info, v, len) && iova_conflict(dom, NULL, 0, v, len) == 0) {
		*iova = v;
		return 0;
	}
	if (iova_alloc(dom, NULL, 0, len, align, iova) == 0 ||
	    (align > pg && iova_alloc(dom, NULL, 0, len, pg, iova) == 0))
		return 0;
	PDK_LOG(ERR, VFIO_LOG, "no free IOVA space for 0x%zx bytes inside the IOMMU's valid "
		"ranges (%u mappings already): unmap something first", len, dom->nr_maps);
	return -ENOSPC;
}

int pdk_vfio_dma_map(struct pdk_vfio_domain *dom, void *va, size_t len, pdk_iova_t *iova)
{
	struct run r = {.va = va, .len = len};
	bool pinned;
	int rc;

	if (dom == NULL || iova == NULL)
		return -EINVAL;
	pthread_mutex_lock(&vfio_lock);
	pinned = dom->be->pins_memory && !vfio_va_in_bar(va, len); /* BARs pin nothing */
	if ((rc = dma_map_check(dom, va, len)) == 0 && (rc = check_dma_avail(dom, 1)) == 0 &&
	    (rc = pinned ? check_memlock(dom, len) : 0) == 0 &&
	    (rc = choose_iova(dom, va, len, &r.iova)) == 0)
		rc = map_one(dom, &r, false, pinned);
	pthread_mutex_unlock(&vfio_lock);
	if (rc == 0)
		*iova = r.iova;
	return rc;
}

int pdk_vfio_dma_unmap(struct pdk_vfio_domain *dom, void *va, size_t len)
{
	int rc = -ENOENT;

	if (dom == NULL)
		return -EINVAL;
	pthread_mutex_lock(&vfio_lock);
	for (unsigned i = 0; i < dom->nr_maps; i++)
		if (!dom->maps[i].eal && dom->maps[i].va == va && dom->maps[i].len == len) {
			rc = unmap_entry(dom, i);
			break;
		}
	pthread_mutex_unlock(&vfio_lock);
	if (rc == -ENOENT)
		PDK_LOG(ERR, VFIO_LOG, "DMA unmap of VA %p length 0x%zx: no such mapping "
			"(unmap exactly what pdk_vfio_dma_map mapped)", va, len);
	return rc;
}

int pdk_vfio_domain_mappings(struct pdk_vfio_domain *dom, struct pdk_vfio_dma_mapping *out,
			     int max)
{
	int n;

	pthread_mutex_lock(&vfio_lock);
	n = (int)dom->nr_maps;
	for (int i = 0; i < n && i < max; i++)
		out[i] = (struct pdk_vfio_dma_mapping){dom->maps[i].va, dom->maps[i].iova,
						       dom->maps[i].len, dom->maps[i].eal};
	pthread_mutex_unlock(&vfio_lock);
	return n;
}
