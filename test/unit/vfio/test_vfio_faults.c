/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Every system call of the kernel backend fails in turn. A device goes
 * through what a driver does with it: open (container, group, device fd,
 * region and IRQ info, config space, EAL memory mapped for DMA, request and
 * error IRQs), BAR mapping, MSI-X setup and a DMA mapping of a buffer. For
 * N = 1, 2, ... the Nth call lib/vfio makes through its syscall table fails
 * (the fake kernel answers the others), until the whole sequence runs with
 * no call left to fail. After each run, failed or not, and the close:
 * - a step that failed returned an error and logged why;
 * - the process holds the same fds, file-backed mappings and threads as
 *   before, lib/vfio's anonymous reservations are all unmapped, and the
 *   fake kernel has no container, group, device or DMA mapping left;
 * - a run that carried on past its failed call (the request IRQ is only
 *   a warning) said so, and never mapped the MSI-X table.
 * Memory leaks are LeakSanitizer's to find (the ASan build).
 */
#include "pdk_test.h"

#include <sys/mman.h>

#include <pdk_eal.h>
#include <pdk_vfio.h>

#include "fake_kernel.h"
#include "res_check.h"
#include "vfio_inject.h"
#include "vfio_sys.h"

/* ---------------------------------------------------- the sequence -- */

#define BUF_LEN (64u << 10)

/* The MSI-X table (BAR0 0x2000, one page) and PBA (0x3000) are never in a
 * device mapping: fk records each mmap of the device fd by region offset. */
static void assert_msix_unmapped(int n)
{
	const uint64_t bar0 = fk.regions[0].offset;

	for (int i = 0; i < fk.nr_mmaps; i++) {
		uint64_t lo = fk.mmaps[i].off, hi = lo + fk.mmaps[i].len;

		if (lo < bar0 + 0x4000 && hi > bar0 + 0x2000)
			fail_msg("failing call %d (%s): BAR0 0x%llx+0x%llx mapped over the "
				 "MSI-X table", n, inj.what, (unsigned long long)(lo - bar0),
				 (unsigned long long)(hi - lo));
	}
}

static void close_run(struct run *r)
{
	if (r->dma_mapped)
		assert_int_equal(pdk_vfio_dma_unmap(pdk_vfio_dev_domain(r->dev), r->buf, r->len), 0);
	pdk_vfio_dev_close(r->dev); /* closes MSI-X, BARs, the rest */
}

static void assert_all_released(int n, const struct res_snapshot *before)
{
	char what[160];

	snprintf(what, sizeof(what), "after failing call %d (%s)", n, inj.what);
	if (inj.nr_res)
		fail_msg("%s: %d address-space reservation(s) left mapped", what, inj.nr_res);
	if (fk.container_fd >= 0 || fk.group_fd >= 0 || fk.dev_fd >= 0 || fk.nr_maps)
		fail_msg("%s: the kernel still holds container %d, group %d, device %d, "
			 "%d DMA mapping(s)", what, fk.container_fd, fk.group_fd, fk.dev_fd,
			 fk.nr_maps);
	res_assert_same(before, what);
}

static void test_fail_each_call(void **state)
{
	static struct res_snapshot before;
	unsigned failed[ST_COUNT] = {0};
	void *buf = mmap(NULL, BUF_LEN, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS,
			 -1, 0);
	struct run r;
	int n;

	(void)state;
	assert_true(buf != MAP_FAILED);
	inj_install();
	/* once through first: what stays for the process's life (the lock
	 * folder, the log) is made before the snapshot */
	r = (struct run){.buf = buf, .len = BUF_LEN};
	assert_int_equal(run_steps(&r, FK_BDF), ST_DONE);
	close_run(&r);
	res_take(&before);
	for (n = 1;; n++) {
		enum step st;

		r = (struct run){.buf = buf, .len = BUF_LEN};
		fk.nr_mmaps = 0;
		test_log_capture(PDK_LOG_WARNING);
		inj_arm(n);
		st = run_steps(&r, FK_BDF);
		inj.armed = false;
		if (st != ST_DONE) {
			if (r.rc >= 0 || test_log_buf.count == 0)
				fail_msg("failing call %d (%s) broke %s with rc %d and %u log "
					 "messages: no clean error", n, inj.what, step_name[st],
					 r.rc, test_log_buf.count);
		} else {
			assert_msix_unmapped(n);
			/* an unknown RLIMIT_MEMLOCK leaves the check to the kernel */
			if (inj.fired && test_log_buf.count == 0 &&
			    strcmp(inj.what, "getrlimit") != 0)
				fail_msg("failing call %d (%s) went unreported", n, inj.what);
		}
		failed[st]++;
		close_run(&r);
		test_log_release();
		assert_all_released(n, &before);
		if (!inj.fired)
			break; /* fewer calls than n: every one has failed once */
	}
	print_message("%d system calls, each failed once: %u failed the open, %u the BAR "
		       "mapping, %u the MSI-X setup, %u the DMA mapping, %u were carried "
		       "past (warnings)\n", n - 1, failed[ST_OPEN], failed[ST_BARS],
		       failed[ST_MSIX], failed[ST_DMA], failed[ST_DONE] - 1);
	assert_true(failed[ST_OPEN] && failed[ST_BARS] && failed[ST_MSIX] && failed[ST_DMA]);
	vfio_sys_set(inj.below);
	munmap(buf, BUF_LEN);
}

static int setup(void **state)
{
	(void)state;
	fk_start_with_eal();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fk_stop();
	pdk_eal_cleanup();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_fail_each_call),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
