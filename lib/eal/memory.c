/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * DMA memory: one file-backed segment per NUMA node, set up at init.
 *
 * Backing: a file on hugetlbfs named <prefix>map_<node> (default), a hugetlb
 * memfd (--in-memory) or a plain memfd (--no-huge). A file descriptor backs
 * every segment so that a vfio-user server can map the same memory. Files
 * on hugetlbfs carry a POSIX write lock for the life of the process, which
 * is how a later run tells a crashed run's files (unlocked: removed) from a
 * live one's (locked: left alone, and the prefix reported busy).
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <numa.h>
#include <numaif.h>
#include <setjmp.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "eal_private.h"
#include "pdk_eal_internal.h"

#ifndef MADV_POPULATE_WRITE
#define MADV_POPULATE_WRITE 23
#endif
#ifndef MFD_HUGE_SHIFT
#define MFD_HUGE_SHIFT 26
#endif

struct memseg_list {
	struct pdk_memseg seg;
	int fd;                 /* backing file (seg.fd is -1 when pages are
				   reordered and the file cannot be shared) */
	char path[PATH_MAX];    /* hugetlbfs file, "" for memfd */
	pdk_iova_t *page_iova;  /* PA mode: IOVA of each page */
	pdk_iova_t iova_base;   /* set by pdk_mem_set_iova */
	bool remapped;
};

static struct {
	struct memseg_list lists[PDK_MAX_NUMA_NODES];
	unsigned nb_lists;
	enum pdk_iova_mode mode;
	bool hugepages;
} mem;

enum pdk_iova_mode pdk_eal_iova_mode(void)
{
	return mem.mode;
}

bool pdk_eal_has_hugepages(void)
{
	return mem.hugepages;
}

static int err_out(char *err, size_t errlen, int rc, const char *fmt, ...)
	PDK_FORMAT(4, 5);
static int err_out(char *err, size_t errlen, int rc, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return rc;
}

/* Pid holding a conflicting POSIX lock on fd, 0 when none, <0 on error. */
static pid_t lock_holder(int fd)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};

	if (fcntl(fd, F_GETLK, &fl) < 0)
		return -errno;
	return fl.l_type == F_UNLCK ? 0 : fl.l_pid;
}

/*
 * Remove this prefix's hugepage files that no live process holds. Returns
 * 0, or -EBUSY with the holder's pid in *busy_pid when the file for one of
 * the nodes we need is held (another run uses the same prefix).
 */
static int clean_stale_files(const char *dir, const char *prefix,
			     const bool need[PDK_MAX_NUMA_NODES], pid_t *busy_pid)
{
	char stem[96], path[PATH_MAX];
	struct dirent *de;
	DIR *d = opendir(dir);
	int rc = 0;

	if (d == NULL)
		return -errno;
	snprintf(stem, sizeof(stem), "%smap_", prefix);
	while ((de = readdir(d)) != NULL) {
		unsigned node;
		char tail;
		pid_t pid;
		int fd;

		if (strncmp(de->d_name, stem, strlen(stem)) != 0 ||
		    sscanf(de->d_name + strlen(stem), "%u%c", &node, &tail) != 1)
			continue;
		snprintf(path, sizeof(path), "%s/%s", dir, de->d_name);
		fd = open(path, O_RDWR | O_CLOEXEC);
		if (fd < 0)
			continue;
		pid = lock_holder(fd);
		if (pid == 0) {
			PDK_LOG(INFO, EAL_LOG, "removing stale hugepage file %s", path);
			unlink(path);
		} else if (pid > 0 && node < PDK_MAX_NUMA_NODES && need[node]) {
			*busy_pid = pid;
			rc = -EBUSY;
		}
		close(fd);
	}
	closedir(d);
	return rc;
}

static unsigned mfd_huge_flags(uint64_t page_size)
{
	return MFD_HUGETLB | ((unsigned)__builtin_ctzll(page_size) << MFD_HUGE_SHIFT);
}

/* Open the backing file of node `node` and lock it; size it to len. */
static int open_backing(const struct eal_config *cfg, const char *dir,
			uint64_t page_size, int node, size_t len,
			struct memseg_list *l, char *err, size_t errlen)
{
	struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
	char name[96];
	int fd;

	snprintf(name, sizeof(name), "pdk-%s-%d", cfg->file_prefix, node);
	if (cfg->no_huge || cfg->in_memory) {
		unsigned flags = MFD_CLOEXEC;

		if (!cfg->no_huge)
			flags |= mfd_huge_flags(page_size);
		fd = memfd_create(name, flags);
		if (fd < 0)
			return err_out(err, errlen, -errno, "memfd_create(%s): %s", name,
				       strerror(errno));
	} else {
		snprintf(l->path, sizeof(l->path), "%s/%smap_%d", dir, cfg->file_prefix, node);
		fd = open(l->path, O_CREAT | O_RDWR | O_CLOEXEC, 0600);
		if (fd < 0)
			return err_out(err, errlen, -errno, "cannot create %s: %s (check "
				       "the permissions of %s)", l->path, strerror(errno), dir);
		if (fcntl(fd, F_SETLK, &fl) < 0) {
			int e = errno;
			pid_t pid = lock_holder(fd);

			close(fd);
			l->path[0] = '\0';
			return err_out(err, errlen, -EBUSY,
				       "hugepage file %smap_%d is in use by pid %d (%s); "
				       "give this run another --file-prefix",
				       cfg->file_prefix, node, (int)pid, strerror(e));
		}
	}
	if (ftruncate(fd, (off_t)len) < 0) {
		int e = errno;

		close(fd);
		return err_out(err, errlen, -e, "cannot size DMA memory file to %zu bytes: %s",
			       len, strerror(e));
	}
	l->seg.fd = fd;
	l->fd = fd;
	return 0;
}

static sigjmp_buf touch_jmp;
static void touch_sigbus(int sig)
{
	(void)sig;
	siglongjmp(touch_jmp, 1);
}

/* kernels before 5.14 (no MADV_POPULATE_WRITE): touch each page under a
 * SIGBUS guard */
static int touch_pages(void *va, size_t len, size_t page)
{
	struct sigaction sa = {.sa_handler = touch_sigbus}, old;
	int rc = 0;

	sigemptyset(&sa.sa_mask);
	sigaction(SIGBUS, &sa, &old);
	if (sigsetjmp(touch_jmp, 1) == 0) {
		for (size_t off = 0; off < len; off += page)
			*(volatile char *)PDK_PTR_ADD(va, off) = 0;
	} else {
		rc = -ENOMEM;
	}
	sigaction(SIGBUS, &old, NULL);
	return rc;
}

struct populate_part {
	void *va;
	size_t len;
	int rc;
};

static int populate_part(void *arg)
{
	struct populate_part *p = arg;

	p->rc = madvise(p->va, p->len, MADV_POPULATE_WRITE) == 0 ? 0 : -errno;
	return 0;
}

#define POPULATE_PARTS_MAX 16
#define POPULATE_PART_MIN (32u << 20)

/*
 * Fault every page in now; failure (no page on that node) is an error, not
 * a SIGBUS later in the data path. The kernel zeroes each page as it faults
 * it in, which is most of start-up with a large -m, so the worker lcores
 * (idle until the application launches them, each on its own CPU) fault
 * their share in parallel; placement follows the range's mbind policy
 * whichever CPU faults a page.
 */
static int populate(void *va, size_t len, size_t page)
{
	struct populate_part parts[POPULATE_PARTS_MAX];
	unsigned lcore[POPULATE_PARTS_MAX], n = 1, id;
	size_t chunk;
	int rc;

	PDK_LCORE_FOREACH_WORKER(id) {
		if (n == POPULATE_PARTS_MAX || (size_t)(n + 1) * POPULATE_PART_MIN > len)
			break;
		lcore[n++] = id;
	}
	chunk = PDK_ALIGN_CEIL(len / n, page);
	for (unsigned i = 0; i < n; i++) {
		size_t off = PDK_MIN((size_t)i * chunk, len);

		parts[i] = (struct populate_part){PDK_PTR_ADD(va, off),
						  PDK_MIN(chunk, len - off), 0};
	}
	for (unsigned i = 1; i < n; i++)
		if (parts[i].len == 0 ||
		    pdk_eal_remote_launch(populate_part, &parts[i], lcore[i]) < 0)
			lcore[i] = PDK_MAX_LCORES;
	populate_part(&parts[0]);
	for (unsigned i = 1; i < n; i++) {
		if (lcore[i] != PDK_MAX_LCORES)
			pdk_eal_wait_lcore(lcore[i]);
		else if (parts[i].len)
			populate_part(&parts[i]);
	}
	if (parts[0].rc == -EINVAL)
		return touch_pages(va, len, page);
	rc = 0;
	for (unsigned i = 0; i < n && rc == 0; i++)
		rc = parts[i].rc;
	return rc;
}

/* Bind the range to `node` before first touch, then check where it went. */
static int place_on_node(void *va, size_t len, size_t page, int node,
			 char *err, size_t errlen)
{
	unsigned long mask[PDK_MAX_NUMA_NODES / (8 * sizeof(long)) + 1] = {0};
	size_t n = len / page;
	void **pages;
	int *status;
	int rc = 0;

	mask[node / (8 * sizeof(long))] |= 1UL << (node % (8 * sizeof(long)));
	if (numa_available() >= 0 &&
	    mbind(va, len, MPOL_BIND, mask, PDK_MAX_NUMA_NODES + 1, 0) < 0)
		return err_out(err, errlen, -errno, "mbind to NUMA node %d failed: %s",
			       node, strerror(errno));
	rc = populate(va, len, page);
	if (rc < 0)
		return err_out(err, errlen, rc,
			       "could not fault in %zu pages of %zu KiB on NUMA node %d: %s; "
			       "free memory on that node or reserve more hugepages there",
			       n, page >> 10, node, strerror(-rc));
	if (numa_available() < 0)
		return 0;
	pages = calloc(n, sizeof(*pages));
	status = calloc(n, sizeof(*status));
	if (pages == NULL || status == NULL) {
		rc = err_out(err, errlen, -ENOMEM, "out of memory checking NUMA placement");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		pages[i] = PDK_PTR_ADD(va, i * page);
	if (move_pages(0, n, pages, NULL, status, 0) < 0) {
		rc = err_out(err, errlen, -errno, "move_pages (placement check): %s",
			     strerror(errno));
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		if (status[i] != node) {
			rc = err_out(err, errlen, -EFAULT,
				     "page %zu of DMA memory landed on NUMA node %d, not %d",
				     i, status[i], node);
			break;
		}
out:
	free(pages);
	free(status);
	return rc;
}

pdk_iova_t pdk_mem_virt2phys(const void *va)
{
	long page = sysconf(_SC_PAGESIZE);
	uint64_t entry, pfn;
	off_t off = (off_t)((uintptr_t)va / (uintptr_t)page * sizeof(entry));
	int fd = open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return PDK_BAD_IOVA;
	n = pread(fd, &entry, sizeof(entry), off);
	close(fd);
	if (n != sizeof(entry) || !(entry & (1ULL << 63)))
		return PDK_BAD_IOVA;  /* not present */
	pfn = entry & ((1ULL << 55) - 1);
	if (pfn == 0)
		return PDK_BAD_IOVA;  /* no CAP_SYS_ADMIN: the kernel hides PFNs */
	return pfn * (uint64_t)page + ((uintptr_t)va % (uintptr_t)page);
}

static int fill_pa_table(struct memseg_list *l, char *err, size_t errlen)
{
	size_t n = l->seg.len / l->seg.page_size;
	bool contig = true;

	l->page_iova = calloc(n, sizeof(*l->page_iova));
	if (l->page_iova == NULL)
		return err_out(err, errlen, -ENOMEM, "out of memory for the IOVA table");
	for (size_t i = 0; i < n; i++) {
		pdk_iova_t pa = pdk_mem_virt2phys(PDK_PTR_ADD(l->seg.va, i * l->seg.page_size));

		if (pa == PDK_BAD_IOVA)
			return err_out(err, errlen, -EPERM,
				       "--iova-mode pa: cannot read physical addresses from "
				       "/proc/self/pagemap (needs root/CAP_SYS_ADMIN); run as "
				       "root or use --iova-mode va");
		l->page_iova[i] = pa;
		if (i > 0 && pa != l->page_iova[i - 1] + l->seg.page_size)
			contig = false;
	}
	l->seg.iova = contig ? l->page_iova[0] : PDK_BAD_IOVA;
	return 0;
}

static const pdk_iova_t *sort_keys;
static int by_pa(const void *a, const void *b)
{
	pdk_iova_t x = sort_keys[*(const size_t *)a], y = sort_keys[*(const size_t *)b];

	return x < y ? -1 : x > y;
}

/*
 * PA mode: the kernel hands out hugepages in no useful physical order (a
 * fresh pool often descending), so an allocation could never span two
 * pages. Map the pages again in ascending physical order, as DPDK does, so
 * physically adjacent pages are virtually adjacent too. The file offsets
 * then no longer follow the addresses, so the segment is not offered for
 * sharing by fd (seg.fd = -1; vfio-user devices need IOVA = VA anyway).
 */
static int sort_by_pa(struct memseg_list *l, char *err, size_t errlen)
{
	size_t pg = l->seg.page_size, n = l->seg.len / pg, *order;
	pdk_iova_t *sorted;
	char *base = NULL;
	void *resv;
	int rc = 0;

	order = calloc(n, sizeof(*order));
	sorted = calloc(n, sizeof(*sorted));
	resv = mmap(NULL, l->seg.len + pg, PROT_NONE,
		    MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (order == NULL || sorted == NULL || resv == MAP_FAILED) {
		rc = err_out(err, errlen, -ENOMEM, "out of memory ordering pages by PA");
		goto out;
	}
	for (size_t i = 0; i < n; i++)
		order[i] = i;
	sort_keys = l->page_iova;
	qsort(order, n, sizeof(*order), by_pa);
	base = (char *)PDK_ALIGN_CEIL((uintptr_t)resv, pg);
	for (size_t r = 0; r < n; r++) {
		if (mmap(base + r * pg, pg, PROT_READ | PROT_WRITE,
			 MAP_SHARED | MAP_FIXED | MAP_POPULATE,
			 l->fd, (off_t)(order[r] * pg)) == MAP_FAILED) {
			rc = err_out(err, errlen, -errno, "cannot remap a hugepage: %s",
				     strerror(errno));
			munmap(resv, l->seg.len + pg);
			goto out;
		}
		sorted[r] = l->page_iova[order[r]];
	}
	/* drop the reservation's slack around the new mapping, then the old one */
	if (base > (char *)resv)
		munmap(resv, (size_t)(base - (char *)resv));
	munmap(base + l->seg.len, (size_t)((char *)resv + pg - base));
	munmap(l->seg.va, l->seg.len);
	l->seg.va = base;
	l->seg.fd = -1;
	memcpy(l->page_iova, sorted, n * sizeof(*sorted));
	l->seg.iova = l->page_iova[0];
	for (size_t i = 1; i < n; i++)
		if (l->page_iova[i] != l->page_iova[i - 1] + pg)
			l->seg.iova = PDK_BAD_IOVA;
out:
	free(order);
	free(sorted);
	return rc;
}

static int map_segment(const struct eal_config *cfg, const char *dir,
		       uint64_t page, int node, size_t len, char *err, size_t errlen)
{
	struct memseg_list *l = &mem.lists[mem.nb_lists];
	void *va;
	int rc;

	memset(l, 0, sizeof(*l));
	l->seg.fd = -1;
	l->fd = -1;
	rc = open_backing(cfg, dir, page, node, len, l, err, errlen);
	if (rc < 0)
		return rc;
	mem.nb_lists++; /* from here on cleanup releases it */
	va = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED, l->seg.fd, 0);
	if (va == MAP_FAILED)
		return err_out(err, errlen, -errno,
			       "cannot map %zu MiB of DMA memory: %s%s", len >> 20,
			       strerror(errno),
			       errno == ENOMEM ? " (not enough free hugepages; reserve more "
			       "with pdk-hugepages -r, or use --no-huge)" : "");
	l->seg.va = va;
	l->seg.len = len;
	l->seg.page_size = page;
	l->seg.socket = node;
	l->seg.fd_offset = 0;
	rc = place_on_node(va, len, page, node, err, errlen);
	if (rc < 0)
		return rc;
	if (mem.mode == PDK_IOVA_PA) {
		rc = fill_pa_table(l, err, errlen);
		if (rc == 0 && l->seg.iova == PDK_BAD_IOVA)
			rc = sort_by_pa(l, err, errlen);
		return rc;
	}
	l->seg.iova = (pdk_iova_t)(uintptr_t)va;
	return 0;
}

/* How much memory each node gets (bytes, rounded up to pages). */
static int plan_nodes(const struct eal_config *cfg, uint64_t page,
		      uint64_t bytes[PDK_MAX_NUMA_NODES], char *err, size_t errlen)
{
	int nodes = pdk_socket_count();
	unsigned users = 0;
	bool used[PDK_MAX_NUMA_NODES] = {false};
	uint64_t total;
	unsigned lc;

	memset(bytes, 0, sizeof(uint64_t) * PDK_MAX_NUMA_NODES);
	if (cfg->socket_mem_set) {
		for (int n = 0; n < PDK_MAX_NUMA_NODES; n++) {
			if (cfg->socket_mem_mb[n] && n >= nodes)
				return err_out(err, errlen, -EINVAL,
					       "--socket-mem asks for memory on NUMA node %d but "
					       "this machine has %d node(s)", n, nodes);
			bytes[n] = PDK_ALIGN_CEIL(cfg->socket_mem_mb[n] * PDK_MB, page);
		}
		return 0;
	}
	total = cfg->mem_mb ? cfg->mem_mb : (cfg->no_huge ? EAL_DEFAULT_NOHUGE_MEM_MB
							   : EAL_DEFAULT_MEM_MB);
	/* spread -m evenly over the nodes that have lcores */
	PDK_LCORE_FOREACH(lc) {
		int s = pdk_lcore_to_socket(lc);

		if (s >= 0 && s < PDK_MAX_NUMA_NODES && !used[s]) {
			used[s] = true;
			users++;
		}
	}
	if (users == 0) {
		used[0] = true;
		users = 1;
	}
	for (int n = 0; n < PDK_MAX_NUMA_NODES; n++)
		if (used[n])
			bytes[n] = PDK_ALIGN_CEIL(total * PDK_MB / users, page);
	return 0;
}

static int check_free_pages(const struct eal_config *cfg, uint64_t page,
			    const uint64_t bytes[PDK_MAX_NUMA_NODES], char *err,
			    size_t errlen)
{
	for (int n = 0; n < PDK_MAX_NUMA_NODES; n++) {
		long need, avail;

		if (bytes[n] == 0)
			continue;
		need = (long)(bytes[n] / page);
		avail = eal_free_hugepages(page, pdk_socket_count() > 1 ? n : -1);
		if (avail < 0)
			avail = eal_free_hugepages(page, n);
		if (avail >= 0 && avail < need)
			return err_out(err, errlen, -ENOMEM,
				       "not enough hugepages on NUMA node %d: %ld free of %" PRIu64
				       " KiB, %ld needed for %" PRIu64 " MiB; reserve more with "
				       "'echo %ld > /sys/devices/system/node/node%d/hugepages/"
				       "hugepages-%" PRIu64 "kB/nr_hugepages' (or pdk-hugepages -r "
				       "%" PRIu64 "M -n %d), ask for less with -m, or use --no-huge",
				       n, avail, page >> 10, need, bytes[n] >> 20, need, n,
				       page >> 10, bytes[n] >> 20, n);
	}
	(void)cfg;
	return 0;
}

int eal_memory_init(const struct eal_config *cfg, char *err, size_t errlen)
{
	struct eal_huge_mount mnt = {.path = "", .page_size = 0};
	uint64_t bytes[PDK_MAX_NUMA_NODES];
	bool need[PDK_MAX_NUMA_NODES];
	uint64_t page;
	int rc;

	mem.mode = cfg->iova_mode == PDK_IOVA_PA ? PDK_IOVA_PA : PDK_IOVA_VA;
	mem.hugepages = !cfg->no_huge;
	if (cfg->no_huge) {
		page = (uint64_t)sysconf(_SC_PAGESIZE);
	} else if (cfg->in_memory) {
		page = eal_default_hugepage_size();
		if (page == 0)
			return err_out(err, errlen, -ENOENT,
				       "this kernel reports no hugepage size; use --no-huge");
	} else {
		rc = eal_find_huge_mount(cfg->huge_dir, 0, &mnt, err, errlen);
		if (rc < 0)
			return rc;
		page = mnt.page_size;
	}
	rc = plan_nodes(cfg, page, bytes, err, errlen);
	if (rc < 0)
		return rc;
	if (!cfg->no_huge) {
		rc = check_free_pages(cfg, page, bytes, err, errlen);
		if (rc < 0)
			return rc;
	}
	if (mnt.path[0]) {
		pid_t pid = 0;

		for (int n = 0; n < PDK_MAX_NUMA_NODES; n++)
			need[n] = bytes[n] != 0;
		if (clean_stale_files(mnt.path, cfg->file_prefix, need, &pid) == -EBUSY)
			return err_out(err, errlen, -EBUSY,
				       "file prefix '%s' is in use by pid %d (its hugepage files "
				       "in %s are locked); give this run another --file-prefix",
				       cfg->file_prefix, (int)pid, mnt.path);
	}
	for (int n = 0; n < PDK_MAX_NUMA_NODES; n++) {
		if (bytes[n] == 0)
			continue;
		rc = map_segment(cfg, mnt.path, page, n, bytes[n], err, errlen);
		if (rc < 0)
			return rc;
		rc = eal_heap_add(n, mem.lists[mem.nb_lists - 1].seg.va, bytes[n]);
		if (rc < 0)
			return err_out(err, errlen, rc, "cannot set up the DMA heap");
	}
	PDK_LOG(INFO, EAL_LOG, "DMA memory: %u segment(s), %zu MiB, %s pages of %" PRIu64
		" KiB, IOVA as %s", mem.nb_lists, pdk_mem_total() >> 20,
		cfg->no_huge ? "ordinary" : "huge", page >> 10,
		mem.mode == PDK_IOVA_PA ? "PA" : "VA");
	return 0;
}

void eal_memory_cleanup(void)
{
	for (unsigned i = 0; i < mem.nb_lists; i++) {
		struct memseg_list *l = &mem.lists[i];

		if (l->seg.va)
			munmap(l->seg.va, l->seg.len);
		if (l->path[0])
			unlink(l->path); /* before close: the lock guards the name */
		if (l->fd >= 0)
			close(l->fd);
		free(l->page_iova);
	}
	memset(&mem, 0, sizeof(mem));
	eal_heaps_reset();
	eal_memzones_reset();
}

int pdk_memseg_walk(pdk_memseg_cb cb, void *arg)
{
	for (unsigned i = 0; i < mem.nb_lists; i++) {
		int rc = cb(&mem.lists[i].seg, arg);

		if (rc != 0)
			return rc;
	}
	return 0;
}

static struct memseg_list *find_list(const void *va)
{
	uintptr_t a = (uintptr_t)va;

	for (unsigned i = 0; i < mem.nb_lists; i++) {
		struct memseg_list *l = &mem.lists[i];

		if (a - (uintptr_t)l->seg.va < l->seg.len)
			return l;
	}
	return NULL;
}

const struct pdk_memseg *pdk_mem_virt2memseg(const void *va)
{
	struct memseg_list *l = find_list(va);

	return l ? &l->seg : NULL;
}

pdk_iova_t pdk_mem_virt2iova(const void *va)
{
	struct memseg_list *l = find_list(va);
	uintptr_t off;

	if (l == NULL)
		return PDK_BAD_IOVA;
	off = PDK_PTR_DIFF(va, l->seg.va);
	if (l->remapped)
		return l->iova_base + off;
	if (l->page_iova == NULL)
		return (pdk_iova_t)(uintptr_t)va;
	return l->page_iova[off / l->seg.page_size] + off % l->seg.page_size;
}

bool pdk_mem_iova_contig(const void *va, size_t len)
{
	struct memseg_list *l = find_list(va);
	uintptr_t first, last;

	if (l == NULL || len == 0 || PDK_PTR_DIFF(va, l->seg.va) + len > l->seg.len)
		return false;
	if (l->remapped || l->page_iova == NULL)
		return true;
	first = PDK_PTR_DIFF(va, l->seg.va) / l->seg.page_size;
	last = (PDK_PTR_DIFF(va, l->seg.va) + len - 1) / l->seg.page_size;
	for (uintptr_t p = first; p < last; p++)
		if (l->page_iova[p + 1] != l->page_iova[p] + l->seg.page_size)
			return false;
	return true;
}

int pdk_mem_set_iova(const struct pdk_memseg *seg, pdk_iova_t iova)
{
	struct memseg_list *l = find_list(seg->va);

	if (l == NULL || &l->seg != seg || iova % seg->page_size != 0)
		return -EINVAL;
	l->iova_base = iova;
	l->remapped = true;
	l->seg.iova = iova;
	return 0;
}

size_t pdk_mem_total(void)
{
	size_t total = 0;

	for (unsigned i = 0; i < mem.nb_lists; i++)
		total += mem.lists[i].seg.len;
	return total;
}
