/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * What a process holds, for leak checks after a failure: its open fds (with
 * what each one is), its file-backed mappings (/proc/self/maps lines with an
 * inode: BARs, DMA memory files, memfds) and its threads. Take a snapshot
 * before, another after, and res_assert_same() names whatever is new.
 *
 * Anonymous mappings are left out on purpose: malloc arenas, cached thread
 * stacks and the sanitizers' shadow come and go with no leak. Memory is
 * LeakSanitizer's job (the ASan build); anonymous reservations a library
 * makes through a syscall shim are the shim's to count.
 */
#ifndef RES_CHECK_H
#define RES_CHECK_H

#include <dirent.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "pdk_test.h"

#define RES_TEXT_MAX (64 * 1024)

struct res_snapshot {
	char fds[RES_TEXT_MAX];  /* "fd -> target" lines, sorted by fd */
	char maps[RES_TEXT_MAX]; /* file-backed mapping lines */
	int threads;
};

static inline size_t res_append(char *buf, size_t used, const char *line)
{
	int n = snprintf(buf + used, RES_TEXT_MAX - used, "%s\n", line);

	return n < 0 ? used : PDK_MIN(used + (size_t)n, (size_t)RES_TEXT_MAX - 1);
}

static inline int res_count_dir(const char *path)
{
	DIR *d = opendir(path);
	struct dirent *de;
	int n = 0;

	if (d == NULL)
		return -1;
	while ((de = readdir(d)) != NULL)
		n += de->d_name[0] != '.';
	closedir(d);
	return n;
}

static inline void res_fds(char *buf)
{
	size_t used = 0;

	buf[0] = '\0';
	/* fd numbers rather than readdir: the directory's own fd is not listed */
	for (int fd = 0; fd < 4096; fd++) {
		char link[64], target[PATH_MAX] = "", line[PATH_MAX + 80];
		ssize_t n;

		snprintf(link, sizeof(link), "/proc/self/fd/%d", fd);
		n = readlink(link, target, sizeof(target) - 1);
		if (n < 0)
			continue;
		target[n] = '\0';
		snprintf(line, sizeof(line), "fd %d -> %s", fd, target);
		used = res_append(buf, used, line);
	}
}

static inline void res_maps(char *buf)
{
	FILE *f = fopen("/proc/self/maps", "re");
	char line[PATH_MAX + 128];
	size_t used = 0;

	buf[0] = '\0';
	if (f == NULL)
		fail_msg("cannot read /proc/self/maps");
	while (fgets(line, sizeof(line), f)) {
		unsigned long inode = 0;

		line[strcspn(line, "\n")] = '\0';
		/* start-end perms offset dev inode path */
		if (sscanf(line, "%*s %*s %*s %*s %lu", &inode) == 1 && inode != 0)
			used = res_append(buf, used, line);
	}
	fclose(f);
}

static inline void res_take(struct res_snapshot *s)
{
	res_fds(s->fds);
	res_maps(s->maps);
	s->threads = res_count_dir("/proc/self/task");
}

/* Lines of `a` missing from `b`, into out (for the failure message). */
static inline void res_missing(const char *a, const char *b, char *out, size_t len)
{
	size_t used = 0;

	out[0] = '\0';
	for (const char *p = a; *p && used + 1 < len;) {
		const char *e = strchr(p, '\n');
		size_t l = e ? (size_t)(e - p) : strlen(p);
		char line[PATH_MAX + 128];

		snprintf(line, sizeof(line), "%.*s", (int)l, p);
		if (strstr(b, line) == NULL)
			used += (size_t)snprintf(out + used, len - used, "  %s\n", line);
		p += l + (e != NULL);
	}
}

/*
 * Fail (naming `what` and every difference) unless the process holds now
 * exactly what it held in `before`.
 */
static inline void res_assert_same(const struct res_snapshot *before, const char *what)
{
	static struct res_snapshot now;
	static char extra[8192], gone[8192];

	res_take(&now);
	if (strcmp(before->fds, now.fds) != 0) {
		res_missing(now.fds, before->fds, extra, sizeof(extra));
		res_missing(before->fds, now.fds, gone, sizeof(gone));
		fail_msg("%s: open fds changed; new:\n%sclosed:\n%s", what, extra, gone);
	}
	if (strcmp(before->maps, now.maps) != 0) {
		res_missing(now.maps, before->maps, extra, sizeof(extra));
		res_missing(before->maps, now.maps, gone, sizeof(gone));
		fail_msg("%s: file-backed mappings changed; new:\n%sgone:\n%s", what, extra,
			 gone);
	}
	/* a joined thread can linger in /proc for a moment after its exit */
	for (int i = 0; i < 100 && now.threads > before->threads; i++) {
		usleep(10 * 1000);
		now.threads = res_count_dir("/proc/self/task");
	}
	if (before->threads != now.threads)
		fail_msg("%s: %d threads, %d before", what, now.threads, before->threads);
}

#endif /* RES_CHECK_H */
