/* SPDX-License-Identifier: BSD-3-Clause */
/* EAL option parsing: every option, good and malformed forms. */
#include "pdk_test.h"

#include "eal_private.h"

static struct eal_args args;
static char err[512];

static int parse(int argc, char **argv)
{
	return eal_parse_args(argc, argv, &args, err, sizeof(err));
}

#define PARSE_OK(...)                                                          \
	do {                                                                   \
		TEST_ARGV(av_, "prog", __VA_ARGS__);                           \
		int rc_ = parse(av__c, av_);                                   \
		if (rc_ < 0)                                                   \
			fail_msg("parse failed: %s", err);                     \
	} while (0)

/* a bad form fails with an error naming the option and its valid forms */
#define PARSE_BAD(needle, ...)                                                 \
	do {                                                                   \
		TEST_ARGV(av_, "prog", __VA_ARGS__);                           \
		assert_int_equal(parse(av__c, av_), -EINVAL);                  \
		assert_str_contains(err, needle);                              \
	} while (0)

static void test_lcores(void **state)
{
	(void)state;
	PARSE_OK("-l", "0-3,5");
	assert_int_equal(args.cfg.lcore_count, 5);
	assert_int_equal(args.cfg.lcore_cpu[0], 0);
	assert_int_equal(args.cfg.lcore_cpu[3], 3);
	assert_int_equal(args.cfg.lcore_cpu[4], -1);
	assert_int_equal(args.cfg.lcore_cpu[5], 5);
	assert_int_equal(args.cfg.main_lcore, 0);
	eal_args_release(&args);

	PARSE_OK("-l2");
	assert_int_equal(args.cfg.lcore_count, 1);
	assert_int_equal(args.cfg.main_lcore, 2);
	PARSE_OK("--lcores=1,0@1,4-5@0");
	assert_int_equal(args.cfg.lcore_count, 4);
	assert_int_equal(args.cfg.lcore_cpu[0], 1);
	assert_int_equal(args.cfg.lcore_cpu[1], 1);
	assert_int_equal(args.cfg.lcore_cpu[4], 0);
	assert_int_equal(args.cfg.lcore_cpu[5], 0);
	PARSE_OK("--lcores", "3", "--main-lcore", "3");
	assert_int_equal(args.cfg.main_lcore, 3);
	PARSE_OK("-l", "1-2", "--main-lcore=2");
	assert_int_equal(args.cfg.main_lcore, 2);

	PARSE_BAD("-l/--lcores: 'x' is not a list of lcores", "-l", "x");
	PARSE_BAD("valid forms: -l 0-3", "-l", "3-1");
	PARSE_BAD("-l/--lcores", "-l", "0,,1");
	PARSE_BAD("-l/--lcores", "-l", "0,");
	PARSE_BAD("-l/--lcores", "-l", ",0");
	PARSE_BAD("-l/--lcores", "-l", "0-");
	PARSE_BAD("-l/--lcores", "-l", "1,1");
	PARSE_BAD("-l/--lcores", "-l", "99999");
	PARSE_BAD("-l/--lcores", "-l", "0@x");
	PARSE_BAD("-l/--lcores", "-l", "-1");
	PARSE_BAD("-l/--lcores: '' is missing", "-l");
	PARSE_BAD("--main-lcore: 'a'", "--main-lcore", "a");
	PARSE_BAD("lcore 5 is not in the -l list", "-l", "0-1", "--main-lcore", "5");
}

static void test_devices(void **state)
{
	(void)state;
	PARSE_OK("-a", "0000:03:00.0", "-a", "04:00.1,queues=4",
		 "--allow=vfio-user:/run/pdk/nvme0.sock,mdts=5");
	assert_int_equal(args.cfg.nb_allow, 3);
	assert_string_equal(args.cfg.allow[0].name, "0000:03:00.0");
	assert_null(args.cfg.allow[0].args);
	assert_string_equal(args.cfg.allow[1].name, "0000:04:00.1");
	assert_string_equal(args.cfg.allow[1].args, "queues=4");
	assert_string_equal(args.cfg.allow[2].name, "vfio-user:/run/pdk/nvme0.sock");
	assert_string_equal(args.cfg.allow[2].args, "mdts=5");
	eal_args_release(&args);
	PARSE_OK("-b", "0000:00:1f.7", "--block", "a:1f.0");
	assert_int_equal(args.cfg.nb_block, 2);
	assert_string_equal(args.cfg.block[1].name, "0000:0a:1f.0");
	eal_args_release(&args);

	PARSE_BAD("-a/--allow: 'zz:00.0' is not a device address", "-a", "zz:00.0");
	PARSE_BAD("-a/--allow", "-a", "00:20.0");   /* device > 31 */
	PARSE_BAD("-a/--allow", "-a", "00:01.8");   /* function > 7 */
	PARSE_BAD("-a/--allow", "-a", "10000:00:01.0");
	PARSE_BAD("-a/--allow", "-a", "00:01.0,");
	PARSE_BAD("-a/--allow", "-a", "vfio-user:");
	PARSE_BAD("-b/--block: 'vfio-user:/x.sock'", "-b", "vfio-user:/x.sock");
	PARSE_BAD("cannot be combined", "-a", "00:01.0", "-b", "00:02.0");
}

static void test_vdev(void **state)
{
	(void)state;
	PARSE_OK("--vdev", "net_null0", "--vdev=net_ring0,nodeaction=r:0:create");
	assert_int_equal(args.cfg.nb_vdev, 2);
	assert_string_equal(args.cfg.vdev[1], "net_ring0,nodeaction=r:0:create");
	eal_args_release(&args);
	PARSE_BAD("--vdev: ',x' does not start with a driver name", "--vdev", ",x");
	PARSE_BAD("--vdev", "--vdev", "");
}

static void test_memory(void **state)
{
	(void)state;
	PARSE_OK("-m", "256");
	assert_int_equal(args.cfg.mem_mb, 256);
	PARSE_OK("-m512M");
	assert_int_equal(args.cfg.mem_mb, 512);
	PARSE_OK("--memory=2G");
	assert_int_equal(args.cfg.mem_mb, 2048);
	PARSE_OK("--socket-mem", "128,0,64");
	assert_true(args.cfg.socket_mem_set);
	assert_int_equal(args.cfg.socket_mem_mb[0], 128);
	assert_int_equal(args.cfg.socket_mem_mb[1], 0);
	assert_int_equal(args.cfg.socket_mem_mb[2], 64);

	PARSE_BAD("-m/--memory: '0' is not a memory size", "-m", "0");
	PARSE_BAD("valid forms: -m 256", "-m", "12X");
	PARSE_BAD("-m/--memory", "-m", "-5");
	PARSE_BAD("-m/--memory", "-m", "99999999999999999999");
	PARSE_BAD("--socket-mem: '0,0' is not a list", "--socket-mem", "0,0");
	PARSE_BAD("--socket-mem", "--socket-mem", "1,,2");
	PARSE_BAD("--socket-mem", "--socket-mem", "1,2,3,4,5,6,7,8,9");
	PARSE_BAD("-m and --socket-mem cannot be combined", "-m", "64", "--socket-mem", "64");
}

static void test_huge(void **state)
{
	(void)state;
	PARSE_OK("--no-huge");
	assert_true(args.cfg.no_huge);
	PARSE_OK("--huge-dir", "/mnt/huge", "--file-prefix", "app_1");
	assert_string_equal(args.cfg.huge_dir, "/mnt/huge");
	assert_string_equal(args.cfg.file_prefix, "app_1");
	PARSE_OK("--in-memory");
	assert_true(args.cfg.in_memory);
	PARSE_OK("--no-pci", "-n", "4");
	assert_true(args.cfg.no_pci);
	PARSE_OK("-l", "0");
	assert_string_equal(args.cfg.file_prefix, "pdk");

	PARSE_BAD("--huge-dir: 'rel/dir' is not an absolute path", "--huge-dir", "rel/dir");
	PARSE_BAD("--file-prefix: 'a/b' is not a valid prefix", "--file-prefix", "a/b");
	PARSE_BAD("--file-prefix", "--file-prefix", "");
	PARSE_BAD("--no-huge takes no value", "--no-huge=1");
	PARSE_BAD("--no-huge and --huge-dir cannot be combined", "--no-huge",
		  "--huge-dir", "/mnt");
	PARSE_BAD("--in-memory and --huge-dir", "--in-memory", "--huge-dir", "/mnt");
	PARSE_BAD("-n/--channels", "-n", "0");
}

static void test_iova_mode(void **state)
{
	(void)state;
	PARSE_OK("--iova-mode", "va");
	assert_int_equal(args.cfg.iova_mode, PDK_IOVA_VA);
	PARSE_OK("--iova-mode=pa");
	assert_int_equal(args.cfg.iova_mode, PDK_IOVA_PA);
	PARSE_OK("--iova-mode", "auto");
	assert_int_equal(args.cfg.iova_mode, PDK_IOVA_DC);
	PARSE_BAD("--iova-mode: 'iommu' is not an IOVA mode; valid forms: --iova-mode auto",
		  "--iova-mode", "iommu");
	PARSE_BAD("--no-huge and --iova-mode pa", "--no-huge", "--iova-mode", "pa");
}

static void test_log_level(void **state)
{
	(void)state;
	PARSE_OK("--log-level", "debug", "--log-level=vfio:err", "--log-level", "net_*:4");
	assert_int_equal(args.nb_log_rules, 3);
	assert_string_equal(args.log_rules[0].pattern, "");
	assert_int_equal(args.log_rules[0].level, PDK_LOG_DEBUG);
	assert_string_equal(args.log_rules[1].pattern, "vfio");
	assert_int_equal(args.log_rules[1].level, PDK_LOG_ERR);
	assert_string_equal(args.log_rules[2].pattern, "net_*");
	assert_int_equal(args.log_rules[2].level, PDK_LOG_INFO);
	PARSE_BAD("--log-level: 'loud' is not a level", "--log-level", "loud");
	PARSE_BAD("--log-level", "--log-level", "vfio:");
	PARSE_BAD("--log-level", "--log-level", ":debug");
	PARSE_BAD("--log-level", "--log-level", "a*b:debug");
	PARSE_BAD("--log-level", "--log-level", "9");
}

static void test_structure(void **state)
{
	(void)state;
	/* stops at "--": argv[n] is the last EAL argument */
	{
		TEST_ARGV(av, "prog", "-l", "0", "--", "--app-opt");
		assert_int_equal(parse(av_c, av), 3);
	}
	/* stops at the first non-option */
	{
		TEST_ARGV(av, "prog", "--no-huge", "file.txt", "-l", "0");
		assert_int_equal(parse(av_c, av), 1);
	}
	{
		TEST_ARGV(av, "prog");
		assert_int_equal(parse(av_c, av), 0);
		assert_int_equal(args.cfg.lcore_count, 1); /* default: current cpu */
	}
	PARSE_OK("-h");
	assert_true(args.cfg.help);
	PARSE_BAD("unknown EAL option '--bogus'", "--bogus");
	PARSE_BAD("unknown EAL option '-z'", "-z", "1");
	PARSE_BAD("application options go after '--'", "--nb-cores=2");
}

static void test_helpers(void **state)
{
	char out[16];
	bool set[8] = {false};

	(void)state;
	assert_int_equal(eal_parse_pci_addr("0000:00:1f.7", out, sizeof(out)), 0);
	assert_string_equal(out, "0000:00:1f.7");
	assert_int_equal(eal_parse_pci_addr("ab:1.2", out, sizeof(out)), 0);
	assert_string_equal(out, "0000:ab:01.2");
	assert_int_equal(eal_parse_pci_addr("ab:1.2x", out, sizeof(out)), -EINVAL);
	assert_int_equal(eal_parse_pci_addr(" 0:1.2", out, sizeof(out)), -EINVAL);
	assert_int_equal(eal_parse_pci_addr("0:1.2", out, 4), -ENOSPC);
	assert_int_equal(eal_parse_cpu_list("1-3,7", set, 8), 4);
	assert_true(set[1] && set[2] && set[3] && set[7] && !set[0]);
	assert_int_equal(eal_parse_cpu_list("8", set, 8), -EINVAL);
	assert_non_null(strstr(pdk_eal_usage(), "--socket-mem"));
	assert_non_null(strstr(pdk_eal_usage(), "--iova-mode auto | va | pa"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_lcores),   cmocka_unit_test(test_devices),
		cmocka_unit_test(test_vdev),     cmocka_unit_test(test_memory),
		cmocka_unit_test(test_huge),     cmocka_unit_test(test_iova_mode),
		cmocka_unit_test(test_log_level), cmocka_unit_test(test_structure),
		cmocka_unit_test(test_helpers),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
