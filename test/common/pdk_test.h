/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Helpers shared by the unit tests: EAL start-up with test-friendly options
 * and a log sink that keeps the last message, so a test can check that an
 * error says what is valid.
 */
#ifndef PDK_TEST_H
#define PDK_TEST_H

#include <stdio.h>
#include <string.h>

#include <pdk_eal.h>

#define PDK_TEST_SKIP 77

/*
 * Start EAL without hugepages on `lcores` ("0" or "0-1"). Returns what
 * pdk_eal_init() returned.
 */
static inline int pdk_test_eal_init(const char *lcores)
{
	char l[32];
	char *argv[] = {"pdk-test", "--no-huge", "-l", l, "-m", "64",
			"--log-level=warning", NULL};

	snprintf(l, sizeof(l), "%s", lcores);
	return pdk_eal_init((int)(sizeof(argv) / sizeof(argv[0])) - 1, argv);
}

#ifdef cmocka_unit_test
/*
 * main() of a test that needs EAL: start it on `lcores`, run the cmocka
 * group, stop EAL. Include <cmocka.h> first.
 */
#define pdk_test_run_with_eal(group, tests, lcores)                       \
	pdk_test_run_with_eal_(group, tests, sizeof(tests) / sizeof((tests)[0]), \
			       lcores)

static inline int pdk_test_run_with_eal_(const char *group,
					 const struct CMUnitTest *tests,
					 size_t n, const char *lcores)
{
	int rc;

	if (pdk_test_eal_init(lcores) < 0) {
		fprintf(stderr, "pdk_eal_init failed: %s\n", pdk_eal_last_error());
		return 1;
	}
	rc = _cmocka_run_group_tests(group, tests, n, NULL, NULL);
	pdk_eal_cleanup();
	return rc;
}
#endif

/* The last message logged (through pdk_test_log_capture()). */
struct pdk_test_log {
	int level;
	char component[PDK_LOG_COMPONENT_MAX];
	char msg[512];
};

static inline void pdk_test_log_sink(int level, const char *component,
				     const char *msg, void *arg)
{
	struct pdk_test_log *log = arg;

	log->level = level;
	snprintf(log->component, sizeof(log->component), "%s", component);
	snprintf(log->msg, sizeof(log->msg), "%s", msg);
}

/* Start capturing into `log` (cleared first); NULL restores stderr. */
static inline void pdk_test_log_capture(struct pdk_test_log *log)
{
	if (log != NULL)
		memset(log, 0, sizeof(*log));
	pdk_log_set_sink(log != NULL ? pdk_test_log_sink : NULL, log);
}

#endif /* PDK_TEST_H */
