/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The NVMe driver against lib/emu's emulated controller in this process
 * (its own device thread), attached by name through lib/vfio's vfio-user
 * client: EAL memory, one device per test, synchronous I/O helpers and a
 * per-request completion count (every request must complete exactly once).
 */
#ifndef NVME_EMU_TEST_H
#define NVME_EMU_TEST_H

#include "emu_test.h"

#include <pdk_eal.h>
#include <pdk_memory.h>
#include <pdk_nvme.h>

static struct pdk_emu_dev *dev;
static struct pdk_nvme_ctrlr *ctrlr;
static char dev_name[256];

/* lib/emu without the NVMe model (an older tree): the suite skips. */
static inline bool nvme_model_present(void)
{
	return pdk_emu_model_find("nvme") != NULL;
}

static inline int nvme_eal_up(void)
{
	TEST_ARGV(av, "prog", "-l", "0", "--no-huge", "-m", "256", "--no-pci");

	pdk_log_set_level(NULL, getenv("EMU_TEST_DEBUG") ? PDK_LOG_DEBUG : PDK_LOG_ERR);
	return pdk_eal_init(av_c, av) > 0 ? 0 : -1;
}

/* Start a controller with `knobs` and attach it with `opts` (NULL:
 * defaults). */
static inline struct pdk_nvme_ctrlr *nvme_up(const char *knobs,
					     const struct pdk_nvme_ctrlr_opts *opts)
{
	dev = emu_start("nvme", emu_path("nvme.sock"), knobs);
	snprintf(dev_name, sizeof(dev_name), "vfio-user:%s", pdk_emu_dev_socket(dev));
	ctrlr = pdk_nvme_ctrlr_attach(dev_name, opts);
	if (ctrlr == NULL)
		fail_msg("attach %s (%s): %s", dev_name, knobs, strerror(errno));
	return ctrlr;
}

static inline void nvme_down(void)
{
	pdk_nvme_ctrlr_detach(ctrlr);
	ctrlr = NULL;
	pdk_emu_dev_destroy(dev);
	dev = NULL;
}

/* ---- requests that count their completions ---- */

#define MAX_REQS 65536

static uint8_t req_calls[MAX_REQS];
static uint16_t req_status[MAX_REQS];
static uint32_t req_next;

static inline void req_reset(void)
{
	memset(req_calls, 0, sizeof(req_calls));
	memset(req_status, 0, sizeof(req_status));
	req_next = 0;
}

static inline void req_done(void *arg, const struct pdk_nvme_cpl *cpl)
{
	uintptr_t i = (uintptr_t)arg;

	if (i >= MAX_REQS || req_calls[i] != 0)
		fail_msg("request %lu completed twice", (unsigned long)i);
	req_calls[i]++;
	req_status[i] = cpl->status;
}

/* Every request so far completed exactly once. */
static inline void req_all_once(void)
{
	for (uint32_t i = 0; i < req_next; i++)
		if (req_calls[i] != 1)
			fail_msg("request %u completed %u times", i, req_calls[i]);
}

/* Poll (and run the admin queue) until `id` completed or `ms` passed. */
static inline bool req_wait(struct pdk_nvme_qpair *qp, uint32_t id, unsigned ms)
{
	int64_t end = emu_test_ms() + ms;

	while (!req_calls[id] && emu_test_ms() < end) {
		pdk_nvme_qpair_poll(qp, 0);
		pdk_nvme_ctrlr_poll_admin(ctrlr);
	}
	return req_calls[id] != 0;
}

/* Poll until nothing is outstanding on qp (or ms passed). */
static inline bool drain(struct pdk_nvme_qpair *qp, unsigned ms)
{
	int64_t end = emu_test_ms() + ms;

	while (pdk_nvme_qpair_outstanding(qp) > 0 && emu_test_ms() < end) {
		pdk_nvme_qpair_poll(qp, 0);
		pdk_nvme_ctrlr_poll_admin(ctrlr);
	}
	return pdk_nvme_qpair_outstanding(qp) == 0;
}

/* Synchronous read or write: the request's status, or a negative errno
 * from the submission. */
static inline int io_sync(struct pdk_nvme_ns *ns, struct pdk_nvme_qpair *qp, bool write,
			  void *buf, uint64_t lba, uint32_t count)
{
	uint32_t id = req_next++;
	int rc = write ? pdk_nvme_ns_write(ns, qp, buf, lba, count, req_done, (void *)(uintptr_t)id, 0)
		       : pdk_nvme_ns_read(ns, qp, buf, lba, count, req_done, (void *)(uintptr_t)id, 0);

	if (rc < 0) {
		req_calls[id] = 1; /* not accepted: nothing to wait for */
		return rc;
	}
	if (!req_wait(qp, id, 20000))
		fail_msg("request %u did not complete in 20 s", id);
	return req_status[id];
}

/* A recognisable pattern: every 8 bytes carry (lba, word, tag). */
static inline void pattern_fill(uint8_t *buf, uint64_t lba, uint32_t bytes, uint32_t sector,
				uint32_t tag)
{
	for (uint32_t o = 0; o < bytes; o += 8) {
		uint64_t v = ((lba + o / sector) << 24) ^ ((uint64_t)(o % sector) << 8) ^ tag;

		memcpy(buf + o, &v, 8);
	}
}

static inline bool pattern_ok(const uint8_t *buf, uint64_t lba, uint32_t bytes,
			      uint32_t sector, uint32_t tag)
{
	for (uint32_t o = 0; o < bytes; o += 8) {
		uint64_t v = ((lba + o / sector) << 24) ^ ((uint64_t)(o % sector) << 8) ^ tag, got;

		memcpy(&got, buf + o, 8);
		if (got != v)
			return false;
	}
	return true;
}

/* Two buffers of DMA memory per test, and the device torn down after it. */
#ifndef NVME_TEST_BUF
#define NVME_TEST_BUF (256u * 1024)
#endif
static uint8_t *buf, *back;

static inline int nvme_setup(void **state)
{
	(void)state;
	req_reset();
	buf = pdk_zmalloc("t", NVME_TEST_BUF + 8192, 4096);
	back = pdk_zmalloc("t", NVME_TEST_BUF + 8192, 4096);
	return buf && back ? 0 : -1;
}

static inline int nvme_teardown(void **state)
{
	(void)state;
	if (ctrlr != NULL)
		nvme_down();
	pdk_free(buf);
	pdk_free(back);
	return 0;
}

#define NVME_TEST(f) cmocka_unit_test_setup_teardown(f, nvme_setup, nvme_teardown)

static inline int nvme_test_main(const struct CMUnitTest *tests, size_t n, const char *name)
{
	int rc;

	if (!nvme_model_present()) {
		printf("SKIP: lib/emu has no NVMe model in this tree\n");
		return 77;
	}
	if (nvme_eal_up() < 0) {
		fprintf(stderr, "pdk_eal_init: %s\n", pdk_eal_last_error());
		return 1;
	}
	rc = _cmocka_run_group_tests(name, tests, n, NULL, NULL);
	pdk_eal_cleanup();
	emu_cleanup_dir();
	return rc;
}
#define NVME_TEST_MAIN(tests) nvme_test_main(tests, PDK_DIM(tests), __FILE__)

#endif /* NVME_EMU_TEST_H */
