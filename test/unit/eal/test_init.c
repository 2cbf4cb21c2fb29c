/* SPDX-License-Identifier: BSD-3-Clause */
/* pdk_eal_init end to end with --no-huge: lcores, allocator, memzones. */
#include <numaif.h>
#include <sys/stat.h>

#include "pdk_test.h"

#include <dirent.h>

#include <pdk_eal.h>

#include "pdk_eal_internal.h"

static int init_nohuge(void)
{
	TEST_ARGV(av, "prog", "--no-huge", "-l", "0-1", "-m", "32",
		  "--log-level", "vfio:debug", "-a", "0000:03:00.0,queues=2",
		  "-a", "vfio-user:/tmp/x.sock", "--vdev", "net_null0",
		  "--", "app-arg");
	int n = pdk_eal_init(av_c, av);

	if (n >= 0) {
		assert_int_equal(n, 14);
		assert_string_equal(av[n], "prog"); /* argv[n] = program name */
		assert_string_equal(av[n + 1], "app-arg");
	}
	return n;
}

static int setup(void **state)
{
	(void)state;
	if (init_nohuge() < 0) {
		fprintf(stderr, "pdk_eal_init: %s\n", pdk_eal_last_error());
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	return pdk_eal_cleanup();
}

static int worker(void *arg)
{
	unsigned *seen = arg;

	seen[pdk_lcore_id()] = 1;
	return 40 + (int)pdk_lcore_id();
}

static void test_lcores(void **state)
{
	unsigned seen[PDK_MAX_LCORES] = {0};
	unsigned i, n = 0;

	(void)state;
	assert_int_equal(pdk_lcore_count(), 2);
	assert_int_equal(pdk_lcore_main(), 0);
	assert_int_equal(pdk_lcore_id(), 0);
	assert_int_equal(pdk_lcore_to_cpu(1), 1);
	assert_int_equal(pdk_lcore_to_socket(1), 0);
	assert_false(pdk_lcore_is_enabled(2));
	PDK_LCORE_FOREACH_WORKER(i) {
		assert_int_equal(pdk_eal_remote_launch(worker, seen, i), 0);
		n++;
	}
	assert_int_equal(n, 1);
	assert_int_equal(pdk_eal_wait_lcore(1), 41);
	assert_int_equal(seen[1], 1);
	assert_int_equal(pdk_eal_wait_lcore(1), 0); /* idle now */
	assert_int_equal(pdk_eal_remote_launch(worker, seen, 0), -EINVAL); /* main */
	assert_int_equal(pdk_eal_remote_launch(worker, seen, 7), -EINVAL);
	assert_int_equal(pdk_eal_mp_remote_launch(worker, seen, false), 40);
	assert_int_equal(pdk_eal_mp_wait_lcore(), 41);
	assert_int_equal(seen[0], 1);
}

static int slow_worker(void *arg)
{
	volatile int *go = arg;

	while (!*go)
		pdk_pause();
	return 0;
}

static void test_launch_busy(void **state)
{
	static volatile int go;

	(void)state;
	go = 0;
	assert_int_equal(pdk_eal_remote_launch(slow_worker, (void *)&go, 1), 0);
	assert_int_equal(pdk_eal_remote_launch(slow_worker, (void *)&go, 1), -EBUSY);
	go = 1;
	assert_int_equal(pdk_eal_wait_lcore(1), 0);
}

static void test_options_applied(void **state)
{
	(void)state;
	assert_int_equal(pdk_log_get_level("vfio"), PDK_LOG_DEBUG);
	assert_int_equal(pdk_log_get_level("eal"), PDK_LOG_NOTICE);
	assert_true(pdk_eal_dev_allowed("0000:03:00.0"));
	assert_true(pdk_eal_dev_allowed("03:00.0"));
	assert_true(pdk_eal_dev_allowed("vfio-user:/tmp/x.sock"));
	assert_false(pdk_eal_dev_allowed("0000:04:00.0"));
	assert_string_equal(pdk_eal_dev_args("3:0.0"), "queues=2");
	assert_int_equal(pdk_eal_allow_count(), 2);
	assert_string_equal(pdk_eal_allow_name(1), "vfio-user:/tmp/x.sock");
	assert_null(pdk_eal_allow_args(1));
	assert_int_equal(pdk_eal_vdev_count(), 1);
	assert_string_equal(pdk_eal_vdev(0), "net_null0");
	assert_null(pdk_eal_vdev(1));
	assert_false(pdk_eal_has_hugepages());
	assert_int_equal(pdk_eal_iova_mode(), PDK_IOVA_VA);
	assert_string_equal(pdk_eal_file_prefix(), "pdk");
	assert_true(pdk_get_tsc_hz() > 1000000);
}

static int seg_cb(const struct pdk_memseg *seg, void *arg)
{
	struct stat st;

	assert_int_equal(fstat(seg->fd, &st), 0);
	assert_true((size_t)st.st_size >= seg->len);
	assert_int_equal(seg->page_size, (size_t)sysconf(_SC_PAGESIZE));
	assert_int_equal(seg->iova, (pdk_iova_t)(uintptr_t)seg->va);
	(*(int *)arg)++;
	return 0;
}

static void test_memory(void **state)
{
	int segs = 0, node = -1;
	char *p, *q;
	int local;

	(void)state;
	assert_int_equal(pdk_mem_total(), 32 * PDK_MB);
	assert_int_equal(pdk_memseg_walk(seg_cb, &segs), 0);
	assert_int_equal(segs, 1);

	p = pdk_zmalloc("t", 10000, 4096);
	assert_non_null(p);
	assert_int_equal((uintptr_t)p % 4096, 0);
	for (int i = 0; i < 10000; i++)
		assert_int_equal(p[i], 0);
	assert_int_equal(pdk_mem_virt2iova(p + 5), (pdk_iova_t)(uintptr_t)(p + 5));
	assert_true(pdk_mem_iova_contig(p, 10000));
	assert_non_null(pdk_mem_virt2memseg(p));
	assert_int_equal(pdk_mem_virt2iova(&local), PDK_BAD_IOVA);
	assert_null(pdk_mem_virt2memseg(&local));

	/* NUMA: the page is bound to and resides on node 0 */
	assert_int_equal(get_mempolicy(&node, NULL, 0, p, MPOL_F_NODE | MPOL_F_ADDR), 0);
	assert_int_equal(node, 0);

	/* freed memory is reused; exhaustion is ENOMEM, not a crash */
	pdk_free(p);
	q = pdk_malloc("t", 10000, 4096);
	assert_ptr_equal(p, q);
	pdk_free(q);
	errno = 0;
	assert_null(pdk_malloc("big", 64 * PDK_MB, 0));
	assert_int_equal(errno, ENOMEM);
	assert_null(pdk_malloc("bad", 64, 3));
	assert_int_equal(errno, EINVAL);
	assert_null(pdk_malloc_socket("t", 64, 0, 5)); /* no memory on node 5 */
	assert_int_equal(pdk_mem_free(), pdk_mem_total());
}

static void test_malloc_fragmentation(void **state)
{
	void *ptrs[64];
	size_t before = pdk_mem_free();

	(void)state;
	for (int i = 0; i < 64; i++) {
		ptrs[i] = pdk_malloc("t", (size_t)(i + 1) * 977, (unsigned)(64u << (i % 6)));
		assert_non_null(ptrs[i]);
		assert_int_equal((uintptr_t)ptrs[i] % (64u << (i % 6)), 0);
		memset(ptrs[i], i, (size_t)(i + 1) * 977);
	}
	for (int i = 0; i < 64; i += 2)
		pdk_free(ptrs[i]);
	for (int i = 1; i < 64; i += 2) {
		const unsigned char *b = ptrs[i];

		/* neighbours' frees did not touch live blocks */
		for (size_t j = 0; j < (size_t)(i + 1) * 977; j++)
			assert_int_equal(b[j], i);
		pdk_free(ptrs[i]);
	}
	/* everything merged back into one free block */
	assert_int_equal(pdk_mem_free(), before);
	assert_non_null(ptrs[0] = pdk_malloc("t", 31 * PDK_MB, 0));
	pdk_free(ptrs[0]);
}

static void test_memzones(void **state)
{
	const struct pdk_memzone *a, *b;

	(void)state;
	a = pdk_memzone_reserve("zone-a", 100000, PDK_SOCKET_ANY, PDK_MEMZONE_IOVA_CONTIG);
	assert_non_null(a);
	assert_string_equal(a->name, "zone-a");
	assert_int_equal(a->len, 100000);
	assert_int_equal(a->iova, pdk_mem_virt2iova(a->addr));
	assert_int_equal(a->socket, 0);
	assert_ptr_equal(pdk_memzone_lookup("zone-a"), a);
	assert_null(pdk_memzone_lookup("zone-b"));
	errno = 0;
	assert_null(pdk_memzone_reserve("zone-a", 10, PDK_SOCKET_ANY, 0));
	assert_int_equal(errno, EEXIST);
	assert_null(pdk_memzone_reserve("a-name-that-is-far-too-long-for-a-zone", 10, -1, 0));
	assert_int_equal(errno, ENAMETOOLONG);
	b = pdk_memzone_reserve_aligned("zone-b", 10, 0, 0, 1 << 16);
	assert_non_null(b);
	assert_int_equal((uintptr_t)b->addr % (1 << 16), 0);
	assert_int_equal(pdk_memzone_free(a), 0);
	assert_int_equal(pdk_memzone_free(a), -EINVAL);
	assert_null(pdk_memzone_lookup("zone-a"));
	assert_int_equal(pdk_memzone_free(b), 0);
}

static void test_reinit(void **state)
{
	(void)state;
	/* second init is refused, cleanup + init works again */
	test_log_capture(PDK_LOG_ERR);
	{
		TEST_ARGV(av, "prog", "--no-huge");
		assert_int_equal(pdk_eal_init(av_c, av), -EALREADY);
	}
	test_log_release();
	assert_int_equal(pdk_eal_cleanup(), 0);
	assert_int_equal(pdk_lcore_count(), 0);
	assert_int_equal(init_nohuge(), 14);
}

static int count_fds(void)
{
	DIR *d = opendir("/proc/self/fd");
	int n = 0;

	assert_non_null(d);
	while (readdir(d))
		n++;
	closedir(d);
	return n;
}

static void test_errors(void **state)
{
	int fds_before;

	(void)state;
	assert_int_equal(pdk_eal_cleanup(), 0);
	fds_before = count_fds();
	test_log_capture(PDK_LOG_ERR);
	{
		TEST_ARGV(av, "prog", "-h");
		assert_int_equal(pdk_eal_init(av_c, av), -ECANCELED);
	}
	{
		TEST_ARGV(av, "prog", "--no-huge", "-l", "0,120");
		assert_int_equal(pdk_eal_init(av_c, av), -EINVAL);
		assert_log_contains("cpu 120 is not available to this process");
		assert_str_contains(pdk_eal_last_error(), "pick lcores from that list");
	}
	{
		TEST_ARGV(av, "prog", "--bogus");
		assert_int_equal(pdk_eal_init(av_c, av), -EINVAL);
		assert_log_contains("unknown EAL option '--bogus'");
	}
	{
		TEST_ARGV(av, "prog", "--no-huge", "--socket-mem", "0,0,0,0,0,0,0,16");
		assert_true(pdk_eal_init(av_c, av) < 0);
		assert_log_contains("NUMA node 7");
	}
	{
		TEST_ARGV(av, "prog", "--huge-dir", "/nonexistent/pdk-hugepages");
		assert_true(pdk_eal_init(av_c, av) < 0);
		assert_log_contains("--huge-dir /nonexistent/pdk-hugepages is not a hugetlbfs mount");
	}
	{
		/* a folder that is not hugetlbfs */
		TEST_ARGV(av, "prog", "--huge-dir", "/proc");
		assert_true(pdk_eal_init(av_c, av) < 0);
		assert_log_contains("--huge-dir /proc is a proc mount, not hugetlbfs");
	}
	test_log_release();
	/* the failures left nothing open: the same fds as before */
	assert_int_equal(count_fds(), fds_before);
	assert_int_equal(init_nohuge(), 14);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lcores),
		cmocka_unit_test(test_launch_busy),
		cmocka_unit_test(test_options_applied),
		cmocka_unit_test(test_memory),
		cmocka_unit_test(test_malloc_fragmentation),
		cmocka_unit_test(test_memzones),
		cmocka_unit_test(test_reinit),
		cmocka_unit_test(test_errors),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
