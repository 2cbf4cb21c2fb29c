/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The driver's own cost per I/O, without a device on another core: a
 * queue pair over the fake controller of the unit tests, 4 KiB reads in
 * batches of `depth`. Only the driver's calls are timed (submit, and the
 * poll that completes the batch with an empty callback); the fake device
 * that fetches commands and posts completions runs between them, untimed.
 * With and without shadow doorbells, with and without timeouts. The
 * median of 5 runs of each.
 *
 *   pdk-bench-nvme-qpair [--quick]
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pdk_eal.h>

#include "../../unit/nvme/nvme_fake.h"

static int test_eal_init_nohuge_bench(void)
{
	char *argv[] = {"bench", "--no-huge", "-m", "64", "--log-level=warning", NULL};

	return pdk_eal_init(5, argv);
}

static struct fake_ctrlr F;
static uint32_t dbbuf[2048] __attribute__((aligned(4096)));

static void nop(void *arg, const struct pdk_nvme_cpl *cpl)
{
	(void)arg;
	(void)cpl;
}

/* TSC cycles per I/O of one run. */
static double run(bool shadow, bool timeouts, uint32_t depth, uint64_t ios, void *buf)
{
	struct pdk_nvme_qpair qp;
	struct pdk_nvme_ns ns = {.ctrlr = &F.c, .id = 1, .lba_shift = 9, .max_lbas = 256,
				 .nsze = 1 << 20};
	struct fake_dev d;
	uint64_t spent = 0, done = 0;

	fake_ctrlr_init(&F, 128 * 1024);
	F.c.dbbuf = dbbuf;
	F.c.dbbuf_on = shadow;
	if (fake_qpair(&F, &qp, 1, depth + 1) < 0)
		exit(1);
	qp.timeout_tsc = timeouts ? pdk_get_tsc_hz() * 5 : 0;
	F.c.check_tsc = pdk_get_tsc_hz() / 100;
	fake_dev_init(&d, &qp);
	while (done < ios) {
		uint64_t t0 = pdk_rdtsc();

		for (uint32_t i = 0; i < depth; i++)
			pdk_nvme_ns_read(&ns, &qp, buf, (i * 8) & 0xffff, 8, nop, NULL, 0);
		spent += pdk_rdtsc() - t0;
		fake_complete_all(&F, &d, 0);
		atomic_store(qp.ei_sq ? qp.ei_sq : (_Atomic uint32_t *)dbbuf, qp.sq_tail);
		t0 = pdk_rdtsc();
		done += (uint64_t)pdk_nvme_qpair_poll(&qp, 0);
		spent += pdk_rdtsc() - t0;
	}
	nvme_qpair_fini(&qp);
	return (double)spent / (double)done;
}

static int cmp(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

int main(int argc, char **argv)
{
	bool quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
	uint64_t ios = quick ? 200000 : 2000000;
	void *buf;

	if (test_eal_init_nohuge_bench() < 0)
		return 1;
	buf = pdk_zmalloc("bench", 4096, 4096);
	printf("driver cycles per 4 KiB read (submit + poll, fake device untimed), TSC %.2f GHz\n",
	       (double)pdk_get_tsc_hz() / 1e9);
	for (int shadow = 0; shadow < 2; shadow++)
		for (int to = 0; to < 2; to++)
			for (uint32_t depth = 1; depth <= 32; depth *= 32) {
				double r[5];

				for (int k = 0; k < 5; k++)
					r[k] = run(shadow, to, depth, ios / 5, buf);
				qsort(r, 5, sizeof(r[0]), cmp);
				printf("  batch %2u, %-16s, %-11s: %6.0f cycles (min %.0f, max %.0f)\n",
				       depth, shadow ? "shadow doorbells" : "doorbell registers",
				       to ? "timeouts on" : "no timeouts", r[2], r[0], r[4]);
			}
	pdk_free(buf);
	pdk_eal_cleanup();
	return 0;
}
