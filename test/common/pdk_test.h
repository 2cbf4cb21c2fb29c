/* SPDX-License-Identifier: BSD-3-Clause */
/* Helpers shared by the C tests (cmocka). */
#ifndef PDK_TEST_H
#define PDK_TEST_H

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <cmocka.h>

#include <pdk_eal.h>
#include <pdk_log.h>

/* Captured log text: every message of the current capture, one per line. */
struct test_log {
	char text[65536];
	size_t len;
	unsigned count;
};

static struct test_log test_log_buf;

static inline void test_log_sink(int level, const char *component,
				 const char *msg, void *arg)
{
	struct test_log *l = arg;
	int n;

	(void)level;
	if (l->len >= sizeof(l->text) - 1)
		return;
	n = snprintf(l->text + l->len, sizeof(l->text) - l->len, "%s: %s\n",
		     component ? component : "-", msg);
	if (n > 0)
		l->len = PDK_MIN(l->len + (size_t)n, sizeof(l->text) - 1);
	l->count++;
}

/* Start capturing log messages (at `level` and above) instead of printing. */
static inline void test_log_capture(int level)
{
	memset(&test_log_buf, 0, sizeof(test_log_buf));
	pdk_log_set_level(NULL, level);
	pdk_log_set_sink(test_log_sink, &test_log_buf);
}

static inline void test_log_release(void)
{
	pdk_log_set_sink(NULL, NULL);
	pdk_log_reset();
}

/* Assert that the captured log contains `needle`. */
#define assert_log_contains(needle)                                           \
	do {                                                                  \
		if (strstr(test_log_buf.text, (needle)) == NULL)              \
			fail_msg("log does not contain \"%s\"; log was:\n%s", \
				 (needle), test_log_buf.text);                \
	} while (0)

#define assert_str_contains(hay, needle)                                      \
	do {                                                                  \
		const char *h_ = (hay);                                       \
		if (h_ == NULL || strstr(h_, (needle)) == NULL)               \
			fail_msg("\"%s\" does not contain \"%s\"",            \
				 h_ ? h_ : "(null)", (needle));               \
	} while (0)

/* argv builder: TEST_ARGV(argv, "prog", "-l", "0") */
#define TEST_ARGV(name, ...)                                                  \
	char *name[] = {__VA_ARGS__, NULL};                                   \
	int name##_c = (int)(sizeof(name) / sizeof(name[0])) - 1

static inline int test_is_root(void)
{
	return geteuid() == 0;
}

/* A stress test's iteration count: `dflt` scaled by PDK_STRESS_SCALE (a
 * percentage, 1..10000; 100 when unset or out of range). */
static inline unsigned test_stress_count(unsigned dflt)
{
	const char *scale = getenv("PDK_STRESS_SCALE");
	unsigned long pct = scale ? strtoul(scale, NULL, 10) : 100;

	if (pct == 0 || pct > 10000)
		pct = 100;
	return (unsigned)((unsigned long long)dflt * pct / 100);
}

/*
 * Start EAL for a test without hugepages or files: --no-huge on `lcores`
 * ("0" or "0-1"), 64 MiB, warnings only. Returns what pdk_eal_init() did.
 */
static inline int test_eal_init_nohuge(const char *lcores)
{
	TEST_ARGV(argv, "pdk-test", "--no-huge", "-l", (char *)lcores, "-m", "64",
		  "--log-level=warning");

	return pdk_eal_init(argv_c, argv);
}

/* main() of a cmocka group that needs EAL (see test_eal_init_nohuge()). */
#define test_run_group_with_eal(group, tests, lcores)                         \
	test_run_group_with_eal_(group, tests,                                \
				 sizeof(tests) / sizeof((tests)[0]), lcores)

static inline int test_run_group_with_eal_(const char *group,
					   const struct CMUnitTest *tests,
					   size_t n, const char *lcores)
{
	int rc;

	if (test_eal_init_nohuge(lcores) < 0) {
		fprintf(stderr, "pdk_eal_init failed: %s\n", pdk_eal_last_error());
		return 1;
	}
	rc = _cmocka_run_group_tests(group, tests, n, NULL, NULL);
	pdk_eal_cleanup();
	return rc;
}

#endif /* PDK_TEST_H */
