/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pdk-devinfo against the fake kernel: the table shows the plan and why,
 * capabilities, IRQs, IOMMU and group; the JSON parses and has the schema
 * (checked with python3's json module); errors come out with their fix,
 * in JSON too; usage errors exit 2.
 */
#include "pdk_test.h"

#include "devinfo.h"
#include "fake_kernel.h"

static char *text;
static size_t text_len;

static int setup(void **state)
{
	(void)state;
	fk_start();
	fk_sysfs_add("0000:03:00.1", 0x1b36, 0x0011, 0x020000, "vfio-pci", FK_GROUP);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	fk_stop();
	free(text);
	text = NULL;
	return 0;
}

/* Run devinfo_main on argv; stdout lands in `text`. */
static int run(int argc, char **argv)
{
	FILE *out, *err = fopen("/dev/null", "w");
	int rc;

	free(text);
	out = open_memstream(&text, &text_len);
	assert_non_null(out);
	rc = devinfo_main(argc, argv, out, err);
	fclose(out);
	fclose(err);
	return rc;
}

static void test_table(void **state)
{
	TEST_ARGV(av, "pdk-devinfo", FK_BDF);

	(void)state;
	fk_cap_msix_mappable(&fk.regions[2]); /* harmless: no table in BAR2 */
	assert_int_equal(run(av_c, av), 0);
	if (getenv("PDK_TEST_SHOW"))
		fputs(text, stderr);
	assert_str_contains(text, "Device 0000:03:00.0 (kernel backend)");
	assert_str_contains(text, "ids          1b36:0010  subsystem 1af4:1100  class 010802");
	assert_str_contains(text, "driver       vfio-pci  NUMA node 0");
	assert_str_contains(text, "BAR0   16 KiB     read write mmap");
	assert_str_contains(text, "BAR2   8 KiB      read write mmap  msix-mappable");
	assert_str_contains(text, "BAR0  around-msix  (slow accesses: 0 reads, 0 writes)");
	assert_str_contains(text, "mapped 0x00000000-0x00001fff  clear of the MSI-X table and "
			    "PBA pages");
	assert_str_contains(text, "slow   0x00002000-0x00003fff  page(s) holding the MSI-X "
			    "table and PBA");
	assert_str_contains(text, "BAR2  whole");
	assert_str_contains(text, "0x050  11  MSI-X (4 vectors, table BAR0+0x2000, PBA "
			    "BAR0+0x3000)");
	assert_str_contains(text, "0x100  0001  AER v2");
	assert_str_contains(text, "MSI-X     4  eventfd,noresize");
	assert_str_contains(text, "page sizes   4 KiB 2 MiB 1 GiB");
	assert_str_contains(text, "0x00000000fef00000-0x0000ffffffffffff");
	assert_str_contains(text, "DMA mappings left  65535");
	assert_str_contains(text, "IOMMU group 7\n  0000:03:00.0   vfio-pci         ok");
	/* inspecting maps no DMA memory */
	assert_int_equal(fk.map_calls, 0);
	assert_int_equal(fk.container_fd, -1);
}

static void write_tmp(char *path, const char *text_)
{
	int fd = mkstemp(path);

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text_, strlen(text_)), (ssize_t)strlen(text_));
	close(fd);
}

/* Load the JSON with python3 and run the assertions in `checks` on it
 * (bound to `d`). */
static void check_json_schema(const char *json, const char *checks)
{
	char jpath[] = "/tmp/pdk-devinfo-json-XXXXXX", ppath[] = "/tmp/pdk-devinfo-py-XXXXXX";
	char script[8192], cmd[128];
	int rc;

	write_tmp(jpath, json);
	snprintf(script, sizeof(script), "import json, sys\nd = json.load(open(sys.argv[1]))\n%s",
		 checks);
	write_tmp(ppath, script);
	snprintf(cmd, sizeof(cmd), "python3 %s %s >&2", ppath, jpath);
	rc = system(cmd);
	unlink(jpath);
	unlink(ppath);
	if (rc != 0)
		fail_msg("JSON check failed on:\n%s", json);
}

static void test_json(void **state)
{
	TEST_ARGV(av, "pdk-devinfo", "--json", FK_BDF);

	(void)state;
	assert_int_equal(run(av_c, av), 0);
	check_json_schema(text,
		"assert d['device'] == '0000:03:00.0' and d['backend'] == 'kernel'\n"
		"assert d['vendor'] == '1b36' and d['class'] == '010802'\n"
		"assert d['iommu_group'] == 7 and d['reset'] is True\n"
		"assert [r['name'] for r in d['regions']][:8] == ['BAR0','BAR1','BAR2','BAR3',"
		"'BAR4','BAR5','ROM','CONFIG']\n"
		"b0 = d['bars'][0]\n"
		"assert b0['policy'] == 'around-msix' and b0['size'] == 16384\n"
		"assert b0['mapped'] == [{'offset': 0, 'len': 8192, 'why': 'clear of the MSI-X "
		"table and PBA pages'}]\n"
		"assert b0['slow'][0]['offset'] == 8192 and b0['slow_reads'] == 0\n"
		"assert [c['name'] for c in d['capabilities']] == ['PM', 'MSI-X', 'PCIe']\n"
		"assert [(c['name'], c['version']) for c in d['ext_capabilities']] == "
		"[('AER', 2), ('DSN', 1)]\n"
		"assert d['msix'] == {'vectors': 4, 'table_bar': 0, 'table_offset': 8192, "
		"'pba_bar': 0, 'pba_offset': 12288}\n"
		"assert [i['count'] for i in d['irqs']] == [1, 1, 4, 1, 1]\n"
		"assert d['iommu']['page_sizes'] == [4096, 2097152, 1073741824]\n"
		"assert d['iommu']['iova_ranges'][0] == {'start': 0, 'end': 0xfedfffff}\n"
		"assert d['iommu']['dma_avail'] == 65535 and d['iommu']['mappings'] == 0\n"
		"assert d['group']['viable'] and len(d['group']['members']) == 2\n");
}

static void test_errors(void **state)
{
	TEST_ARGV(json, "pdk-devinfo", "--json", FK_BDF);
	TEST_ARGV(none, "pdk-devinfo");
	TEST_ARGV(two, "pdk-devinfo", FK_BDF, "0000:04:00.0");
	TEST_ARGV(help, "pdk-devinfo", "--help");

	(void)state;
	fk.viable = false;
	fk_sysfs_add("0000:03:00.1", 0x1b36, 0x0011, 0x020000, "e1000e", FK_GROUP);
	assert_int_equal(run(json_c, json), DEVINFO_EXIT_FAIL);
	check_json_schema(text,
		"assert d['device'] == '0000:03:00.0'\n"
		"assert 'pdk-devbind --bind vfio-pci --group 0000:03:00.0' in d['error']\n"
		"assert '0000:03:00.1 (bound to e1000e)' in d['error']\n");
	assert_int_equal(run(none_c, none), DEVINFO_EXIT_USAGE);
	assert_int_equal(run(two_c, two), DEVINFO_EXIT_USAGE);
	assert_int_equal(run(help_c, help), 0);
	assert_str_contains(text, "usage: pdk-devinfo [EAL options --] [--json] DEVICE");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_table, setup, teardown),
		cmocka_unit_test_setup_teardown(test_json, setup, teardown),
		cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
