/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Hugepage memory: allocation and NUMA placement on hugetlbfs, IOVA as PA
 * checked against /proc/self/pagemap, the shortage error, stale-file
 * cleanup with a locked and an unlocked file, --in-memory.
 * Needs root and free 2 MiB hugepages on a hugetlbfs mount; skips (77)
 * otherwise, saying which is missing.
 */
#include <dirent.h>
#include <fcntl.h>
#include <numaif.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>

#include "pdk_test.h"

#include <pdk_eal.h>

#include "eal_private.h"

#define PREFIX "pdkut"
static struct eal_huge_mount mnt;
static char path_buf[PATH_MAX + 64];

static const char *hpath(const char *name)
{
	snprintf(path_buf, sizeof(path_buf), "%s/%s", mnt.path, name);
	return path_buf;
}

static bool exists(const char *name)
{
	struct stat st;

	return stat(hpath(name), &st) == 0;
}

static int init_huge(const char *mem, const char *extra)
{
	char *av[12] = {"prog", "-l", "0-1", "-m", (char *)mem, "--file-prefix", PREFIX,
			"--log-level", "err"};
	int ac = 9;

	if (extra)
		av[ac++] = (char *)extra;
	av[ac] = NULL;
	return pdk_eal_init(ac, av);
}

/* Independent PA lookup: read the pagemap entry ourselves. */
static uint64_t pagemap_pa(const void *va)
{
	uint64_t e = 0;
	long pg = sysconf(_SC_PAGESIZE);
	int fd = open("/proc/self/pagemap", O_RDONLY);

	assert_true(fd >= 0);
	assert_int_equal(pread(fd, &e, 8, (off_t)((uintptr_t)va / (uintptr_t)pg * 8)), 8);
	close(fd);
	assert_true(e >> 63);
	return (e & ((1ULL << 55) - 1)) * (uint64_t)pg + (uintptr_t)va % (uintptr_t)pg;
}

static int check_seg(const struct pdk_memseg *seg, void *arg)
{
	void *pages[8];
	int status[8];
	int n = 0;

	(void)arg;
	assert_int_equal(seg->page_size, mnt.page_size);
	for (size_t off = 0; off < seg->len && n < 8; off += seg->page_size)
		pages[n++] = PDK_PTR_ADD(seg->va, off);
	assert_int_equal(move_pages(0, (unsigned long)n, pages, NULL, status, 0), 0);
	for (int i = 0; i < n; i++)
		assert_int_equal(status[i], seg->socket);
	return 0;
}

static void test_hugepage_alloc(void **state)
{
	const struct pdk_memzone *z;
	int node = -1;

	(void)state;
	assert_int_equal(init_huge("8", NULL), 8);
	assert_true(pdk_eal_has_hugepages());
	assert_true(exists(PREFIX "map_0"));
	assert_int_equal(pdk_memseg_walk(check_seg, NULL), 0);
	z = pdk_memzone_reserve("hz", 3 * PDK_MB, 0, PDK_MEMZONE_IOVA_CONTIG);
	assert_non_null(z);
	assert_int_equal(get_mempolicy(&node, NULL, 0, z->addr, MPOL_F_NODE | MPOL_F_ADDR), 0);
	assert_int_equal(node, 0);
	assert_int_equal(z->iova, (pdk_iova_t)(uintptr_t)z->addr);
	pdk_eal_cleanup();
	assert_false(exists(PREFIX "map_0")); /* cleanup removes our files */
}

static void test_iova_pa(void **state)
{
	const struct pdk_memzone *z;
	char *p;

	(void)state;
	assert_int_equal(init_huge("8", "--iova-mode=pa"), 9);
	assert_int_equal(pdk_eal_iova_mode(), PDK_IOVA_PA);
	z = pdk_memzone_reserve("pz", 64 * 1024, 0, PDK_MEMZONE_IOVA_CONTIG);
	assert_non_null(z);
	p = z->addr;
	for (size_t off = 0; off < z->len; off += 4096 + 17) {
		assert_int_equal(pdk_mem_virt2iova(p + off), pagemap_pa(p + off));
		assert_int_equal(pdk_mem_virt2phys(p + off), pagemap_pa(p + off));
	}
	assert_int_equal(z->iova, pagemap_pa(p));
	/* each 2 MiB page is one physical block */
	assert_true(pdk_mem_iova_contig(p, 4096));
	/* pages are laid out in ascending physical order, so physically
	 * adjacent pages can serve one allocation */
	{
		const struct pdk_memseg *seg = pdk_mem_virt2memseg(p);

		for (size_t off = seg->page_size; off < seg->len; off += seg->page_size) {
			char *a = (char *)seg->va + off - seg->page_size, *b = a + seg->page_size;

			assert_true(pagemap_pa(a) < pagemap_pa(b));
			assert_int_equal(pdk_mem_virt2iova(b), pagemap_pa(b));
		}
	}
	/* a zone without IOVA_CONTIG may span discontiguous pages */
	pdk_memzone_free(z);
	z = pdk_memzone_reserve("big", 6 * PDK_MB, 0, 0);
	assert_non_null(z);
	if (pdk_mem_iova_contig(z->addr, z->len))
		assert_int_equal(z->iova, pagemap_pa(z->addr));
	else
		assert_int_equal(z->iova, PDK_BAD_IOVA);
	pdk_eal_cleanup();
}

static void test_shortage(void **state)
{
	long avail = eal_free_hugepages(mnt.page_size, -1);
	char mem[32], expect[96];

	(void)state;
	snprintf(mem, sizeof(mem), "%" PRIu64, (uint64_t)(avail + 1) * (mnt.page_size >> 20));
	test_log_capture(PDK_LOG_ERR);
	assert_int_equal(init_huge(mem, NULL), -ENOMEM);
	test_log_release();
	snprintf(expect, sizeof(expect), "%ld free of %" PRIu64 " KiB, %ld needed", avail,
		 mnt.page_size >> 10, avail + 1);
	assert_str_contains(pdk_eal_last_error(), "not enough hugepages on NUMA node 0");
	assert_str_contains(pdk_eal_last_error(), expect);
	assert_str_contains(pdk_eal_last_error(), "nr_hugepages");
	assert_false(exists(PREFIX "map_0"));
}

static pid_t holder_pid;

/* A child that creates+locks `name` and waits to be killed. */
static pid_t hold_locked(const char *name)
{
	int pipefd[2];
	pid_t pid;
	char c;

	assert_int_equal(pipe(pipefd), 0);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		/* let go of the test's output so a runner never waits on us */
		int devnull = open("/dev/null", O_WRONLY);

		dup2(devnull, STDOUT_FILENO);
		dup2(devnull, STDERR_FILENO);
		prctl(PR_SET_PDEATHSIG, SIGKILL);
		struct flock fl = {.l_type = F_WRLCK, .l_whence = SEEK_SET};
		int fd = open(hpath(name), O_CREAT | O_RDWR, 0600);

		if (fd < 0 || fcntl(fd, F_SETLK, &fl) < 0)
			_exit(1);
		if (write(pipefd[1], "k", 1) != 1)
			_exit(1);
		pause();
		_exit(0);
	}
	close(pipefd[1]); /* so a child that failed gives EOF, not a hang */
	assert_int_equal(read(pipefd[0], &c, 1), 1);
	close(pipefd[0]);
	holder_pid = pid;
	return pid;
}

static void stop_child(pid_t pid)
{
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	holder_pid = 0;
}

static void test_stale_files(void **state)
{
	pid_t holder;
	int fd;

	(void)state;
	/* map_3: left by a crashed run (no lock); map_4: a live process holds it */
	fd = open(hpath(PREFIX "map_3"), O_CREAT | O_RDWR, 0600);
	assert_true(fd >= 0);
	close(fd);
	holder = hold_locked(PREFIX "map_4");
	assert_int_equal(init_huge("4", NULL), 8);
	assert_false(exists(PREFIX "map_3"));
	assert_true(exists(PREFIX "map_4"));
	pdk_eal_cleanup();
	stop_child(holder);
	unlink(hpath(PREFIX "map_4"));
}

static void test_prefix_busy(void **state)
{
	char expect[64];
	pid_t holder;

	(void)state;
	holder = hold_locked(PREFIX "map_0");
	test_log_capture(PDK_LOG_ERR);
	assert_int_equal(init_huge("4", NULL), -EBUSY);
	test_log_release();
	snprintf(expect, sizeof(expect), "in use by pid %d", (int)holder);
	assert_str_contains(pdk_eal_last_error(), expect);
	assert_str_contains(pdk_eal_last_error(), "--file-prefix");
	assert_true(exists(PREFIX "map_0")); /* a live run's file is never removed */
	stop_child(holder);
	/* once the holder died its file is stale and the next run starts */
	assert_int_equal(init_huge("4", NULL), 8);
	pdk_eal_cleanup();
	assert_false(exists(PREFIX "map_0"));
}

static void test_in_memory(void **state)
{
	(void)state;
	assert_int_equal(init_huge("4", "--in-memory"), 9);
	assert_true(pdk_eal_has_hugepages());
	assert_false(exists(PREFIX "map_0"));
	assert_non_null(pdk_malloc("x", 1 << 20, 0));
	pdk_eal_cleanup();
}

static void test_bad_huge_dir(void **state)
{
	(void)state;
	test_log_capture(PDK_LOG_ERR);
	{
		TEST_ARGV(av, "prog", "--huge-dir", "/tmp", "-m", "4");
		assert_int_equal(pdk_eal_init(av_c, av), -ENOENT);
	}
	test_log_release();
	assert_str_contains(pdk_eal_last_error(), "--huge-dir /tmp is not a hugetlbfs mount");
}

/* After each test: no EAL left running, no test files left behind. */
static int cleanup(void **state)
{
	(void)state;
	test_log_release();
	pdk_eal_cleanup();
	if (holder_pid > 0)
		stop_child(holder_pid);
	for (int i = 0; i < 8; i++) {
		char name[32];

		snprintf(name, sizeof(name), PREFIX "map_%d", i);
		unlink(hpath(name));
	}
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_teardown(test_hugepage_alloc, cleanup),
		cmocka_unit_test_teardown(test_iova_pa, cleanup),
		cmocka_unit_test_teardown(test_shortage, cleanup),
		cmocka_unit_test_teardown(test_stale_files, cleanup),
		cmocka_unit_test_teardown(test_prefix_busy, cleanup),
		cmocka_unit_test_teardown(test_in_memory, cleanup),
		cmocka_unit_test_teardown(test_bad_huge_dir, cleanup),
	};
	char err[256];
	long avail;

	if (!test_is_root()) {
		printf("SKIP: needs root (hugepages, /proc/self/pagemap)\n");
		return 77;
	}
	if (eal_find_huge_mount(NULL, 0, &mnt, err, sizeof(err)) < 0) {
		printf("SKIP: %s\n", err);
		return 77;
	}
	avail = eal_free_hugepages(mnt.page_size, -1);
	if (avail * (long)(mnt.page_size >> 20) < 16) {
		printf("SKIP: needs 16 MiB of free hugepages of %" PRIu64 " KiB (%ld free); "
		       "run pdk-hugepages --setup\n", mnt.page_size >> 10, avail);
		return 77;
	}
	return cmocka_run_group_tests(tests, NULL, NULL);
}
