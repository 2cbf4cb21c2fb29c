/* SPDX-License-Identifier: BSD-3-Clause */
/* Hugepage discovery: default size, hugetlbfs mounts, free pages per node. */
#include <errno.h>
#include <mntent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/vfs.h>
#include <linux/magic.h>

#include "eal_private.h"

/* Overridable for tests: where /proc and /sys are. */
static const char *proc_root(void)
{
	const char *r = getenv("PDK_PROC_ROOT");
	return r ? r : "/proc";
}

static const char *sys_root(void)
{
	const char *r = getenv("PDK_SYS_ROOT");
	return r ? r : "/sys";
}

uint64_t eal_default_hugepage_size(void)
{
	char path[PATH_MAX], line[256];
	uint64_t kb = 0;
	FILE *f;

	snprintf(path, sizeof(path), "%s/meminfo", proc_root());
	f = fopen(path, "re");
	if (f == NULL)
		return 0;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "Hugepagesize: %" SCNu64 " kB", &kb) == 1)
			break;
	fclose(f);
	return kb * 1024;
}

/* "pagesize=2M" / "pagesize=1G" / "pagesize=2048k" */
static uint64_t parse_pagesize_opt(const char *opts)
{
	const char *p = strstr(opts, "pagesize=");
	char *end;
	uint64_t v;

	if (p == NULL)
		return 0;
	v = strtoull(p + 9, &end, 10);
	switch (*end) {
	case 'G': case 'g': return v << 30;
	case 'M': case 'm': return v << 20;
	case 'K': case 'k': return v << 10;
	default: return v;
	}
}

int eal_find_huge_mount(const char *want_dir, uint64_t want_size,
			struct eal_huge_mount *out, char *err, size_t errlen)
{
	char path[PATH_MAX], real[PATH_MAX], other_fs[32] = "", any_huge[PATH_MAX] = "";
	uint64_t def = eal_default_hugepage_size();
	struct mntent ent, *m;
	char buf[4096];
	bool found = false;
	FILE *f;

	/* "/dev/hugepages/" or a symlink name the same mount */
	if (want_dir && want_dir[0] && realpath(want_dir, real) != NULL)
		want_dir = real;

	snprintf(path, sizeof(path), "%s/mounts", proc_root());
	f = setmntent(path, "re");
	if (f == NULL) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
		return -errno;
	}
	while ((m = getmntent_r(f, &ent, buf, sizeof(buf))) != NULL) {
		uint64_t size;

		if (strcmp(m->mnt_type, "hugetlbfs") != 0) {
			if (want_dir && strcmp(want_dir, m->mnt_dir) == 0)
				snprintf(other_fs, sizeof(other_fs), "%s", m->mnt_type);
			continue;
		}
		if (any_huge[0] == '\0' && strlen(m->mnt_dir) < sizeof(any_huge))
			strcpy(any_huge, m->mnt_dir);
		size = parse_pagesize_opt(m->mnt_opts);
		if (size == 0)
			size = def;
		if (want_dir && want_dir[0] && strcmp(want_dir, m->mnt_dir) != 0)
			continue;
		if (want_size && size != want_size)
			continue;
		if (strlen(m->mnt_dir) >= sizeof(out->path))
			continue;
		strcpy(out->path, m->mnt_dir);
		out->page_size = size;
		found = true;
		/* prefer the default page size when the caller has no preference */
		if (want_size || size == def)
			break;
	}
	endmntent(f);
	if (found)
		return 0;
	if (want_dir && want_dir[0] && other_fs[0])
		snprintf(err, errlen,
			 "--huge-dir %s is a %s mount, not hugetlbfs: give a hugetlbfs mount "
			 "(%s%s), or set one up with pdk-hugepages --setup", want_dir, other_fs,
			 any_huge[0] ? "mounted here: " : "none is mounted",
			 any_huge);
	else if (want_dir && want_dir[0])
		snprintf(err, errlen,
			 "--huge-dir %s is not a hugetlbfs mount%s%s%s; mount one with "
			 "'mkdir -p %s && mount -t hugetlbfs nodev %s' or use pdk-hugepages --setup",
			 want_dir, any_huge[0] ? " (one is mounted at " : "", any_huge,
			 any_huge[0] ? ")" : "", want_dir, want_dir);
	else
		snprintf(err, errlen,
			 "no hugetlbfs mount found; mount one with 'mkdir -p /dev/hugepages && "
			 "mount -t hugetlbfs nodev /dev/hugepages' (or pdk-hugepages --setup), "
			 "use --in-memory, or run with --no-huge");
	return -ENOENT;
}

static long read_long(const char *path)
{
	FILE *f = fopen(path, "re");
	long v = -1;

	if (f == NULL)
		return -1;
	if (fscanf(f, "%ld", &v) != 1)
		v = -1;
	fclose(f);
	return v;
}

long eal_free_hugepages(uint64_t page_size, int node)
{
	char path[PATH_MAX];

	if (node < 0)
		snprintf(path, sizeof(path),
			 "%s/kernel/mm/hugepages/hugepages-%" PRIu64 "kB/free_hugepages",
			 sys_root(), page_size >> 10);
	else
		snprintf(path, sizeof(path),
			 "%s/devices/system/node/node%d/hugepages/hugepages-%" PRIu64
			 "kB/free_hugepages",
			 sys_root(), node, page_size >> 10);
	return read_long(path);
}
