/* SPDX-License-Identifier: BSD-3-Clause */
/* Buses: init scans then probes every registered bus; cleanup undoes. */
#include "pdk_test.h"

#include <pdk_bus.h>
#include <pdk_eal.h>

static int calls[2][3]; /* bus, {scan, probe, cleanup} */
static int order[8], nb_order;
static int probe_rc;

static int scan_a(void) { calls[0][0]++; order[nb_order++] = 1; return 0; }
static int probe_a(void) { calls[0][1]++; order[nb_order++] = 2; return 0; }
static void cleanup_a(void) { calls[0][2]++; order[nb_order++] = 3; }
static int scan_b(void) { calls[1][0]++; order[nb_order++] = 4; return 0; }
static int probe_b(void) { calls[1][1]++; order[nb_order++] = 5; return probe_rc; }
static void cleanup_b(void) { calls[1][2]++; order[nb_order++] = 6; }

static struct pdk_bus bus_a = {.name = "a", .scan = scan_a, .probe = probe_a,
			       .cleanup = cleanup_a};
static struct pdk_bus bus_b = {.name = "b", .scan = scan_b, .probe = probe_b,
			       .cleanup = cleanup_b};
PDK_BUS_REGISTER(bus_a)
PDK_BUS_REGISTER(bus_b)

static void test_bus_order(void **state)
{
	TEST_ARGV(av, "prog", "--no-huge", "-m", "8");
	const int expect[] = {1, 4, 2, 5, 6, 3};

	(void)state;
	pdk_bus_register(&bus_a); /* twice is harmless */
	assert_ptr_equal(pdk_bus_find("b"), &bus_b);
	assert_null(pdk_bus_find("c"));
	assert_int_equal(pdk_eal_init(av_c, av), 3);
	assert_int_equal(pdk_eal_cleanup(), 0);
	assert_int_equal(nb_order, 6);
	assert_memory_equal(order, expect, sizeof(expect));
}

static void test_probe_failure(void **state)
{
	TEST_ARGV(av, "prog", "--no-huge", "-m", "8");

	(void)state;
	memset(calls, 0, sizeof(calls));
	nb_order = 0;
	probe_rc = -ENODEV;
	test_log_capture(PDK_LOG_ERR);
	assert_int_equal(pdk_eal_init(av_c, av), -ENODEV);
	test_log_release();
	assert_str_contains(pdk_eal_last_error(), "bus b: probe failed");
	/* a failed init cleans up every bus it started */
	assert_int_equal(calls[0][2], 1);
	assert_int_equal(calls[1][2], 1);
	assert_int_equal(pdk_lcore_count(), 0);
	probe_rc = 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bus_order),
		cmocka_unit_test(test_probe_failure),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
