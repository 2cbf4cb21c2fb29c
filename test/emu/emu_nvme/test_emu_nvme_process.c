/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The NVMe model served by pdk-emud in another process: knobs on the
 * command line, a fault by `fault=` and SIGUSR2, a client killed with
 * SIGKILL in the middle of I/O and a fresh one finding its flushed data,
 * and pdk-emud itself killed and restarted on the same backing file.
 */
#include "nvme_test.h"

#include <fcntl.h>
#include <sys/wait.h>

static struct nt T;
static char ready[128], sock_a[128], sock_b[128], img[128], ctl[128];

static int setup(void **state)
{
	(void)state;
	snprintf(ready, sizeof(ready), "%s", emu_path("ready"));
	snprintf(sock_a, sizeof(sock_a), "%s", emu_path("a.sock"));
	snprintf(sock_b, sizeof(sock_b), "%s", emu_path("b.sock"));
	snprintf(img, sizeof(img), "%s", emu_path("ns.img"));
	snprintf(ctl, sizeof(ctl), "%s", emu_path("ctl.sock"));
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	unlink(img);
	return 0;
}

static pid_t spawn(const char *knobs_a, const char *knobs_b)
{
	static char da[512], db[512];
	const char *args[] = {"--device", da, "--device", db, "--control", ctl, NULL};

	snprintf(da, sizeof(da), "nvme,socket=%s,idle-us=50,vectors=%d%s%s", sock_a,
		 NT_NVEC, knobs_a[0] ? "," : "", knobs_a);
	snprintf(db, sizeof(db), "nvme,socket=%s,idle-us=50,vectors=%d%s%s", sock_b,
		 NT_NVEC, knobs_b[0] ? "," : "", knobs_b);
	return emud_spawn(ready, args);
}

static const char *knobs_file(void)
{
	static char k[200];

	snprintf(k, sizeof(k), "file=%s,ns-size=1m", img);
	return k;
}

static uint16_t io(uint8_t opc, uint64_t slba, uint32_t nlb, uint64_t prp1)
{
	struct pdk_nvme_cmd cmd = nt_rw(opc, 1, slba, nlb, prp1, 0);

	return nt_cmd(&T, &T.io[1], &cmd, NULL);
}

static void up(const char *path)
{
	nt_attach(&T, path);
	nt_enable(&T);
	nt_qpair(&T, 1, 32, 1);
}

static void test_knobs_and_sigusr2(void **state)
{
	pid_t pid = spawn("fault=cfs,fault-after-ms=100000", "lba=4096,ns=2,serial=B");
	struct pdk_nvme_ns_data *ns;
	struct pdk_nvme_ctrlr_data *d;

	(void)state;
	up(sock_b);
	assert_int_equal(nt_identify(&T, PDK_NVME_CNS_NS, 2, (void **)&ns), NT_OK);
	assert_int_equal(ns->flbas & 0xf, 1);
	assert_int_equal(nt_identify(&T, PDK_NVME_CNS_CTRLR, 0, (void **)&d), NT_OK);
	assert_int_equal(d->sn[0], 'B');
	nt_close(&T);
	up(sock_a);
	assert_int_equal(io(PDK_NVME_OPC_FLUSH, 0, 1, 0), NT_OK);
	kill(pid, SIGUSR2);
	nt_wait_csts(&T, PDK_NVME_CSTS_CFS, PDK_NVME_CSTS_CFS);
	nt_disable(&T);
	nt_enable(&T);
	nt_close(&T);
	assert_int_equal(emud_stop(pid, SIGTERM), 0);
}

/* A child writes and flushes, then keeps writing until SIGKILL. */
static void child_io(void)
{
	uint8_t *buf;
	uint64_t iova;

	up(sock_a);
	iova = nt_alloc(&T, 4096, (void **)&buf);
	memset(buf, 0x5c, 4096);
	if (io(PDK_NVME_OPC_WRITE, 80, 8, iova) || io(PDK_NVME_OPC_FLUSH, 0, 1, 0))
		_exit(1);
	memset(buf, 0x77, 4096); /* not flushed: may or may not be there */
	for (uint64_t lba = 0;; lba = (lba + 8) % 80) {
		struct pdk_nvme_cmd cmd = nt_rw(PDK_NVME_OPC_WRITE, 1, lba, 8, iova, 0);

		nt_submit(&T, &T.io[1], &cmd);
		if (nt_reap(&T, &T.io[1], NULL, NT_TIMEOUT_MS))
			_exit(2);
	}
}

/* What child_io() wrote and flushed is there. */
static void check_flushed(void)
{
	uint8_t *buf;
	uint64_t iova;

	up(sock_a);
	iova = nt_alloc(&T, 4096, (void **)&buf);
	assert_int_equal(io(PDK_NVME_OPC_READ, 80, 8, iova), NT_OK);
	for (int i = 0; i < 4096; i++)
		assert_int_equal(buf[i], 0x5c);
	nt_close(&T);
}

static void test_client_killed(void **state)
{
	pid_t pid, child;
	int status;

	(void)state;
	pid = spawn(knobs_file(), "");
	child = fork();
	if (child == 0)
		child_io();
	emu_sleep_ms(300);
	kill(child, SIGKILL);
	assert_int_equal(waitpid(child, &status, 0), child);
	assert_true(WIFSIGNALED(status));
	/* a fresh client: the device is usable, flushed data is there */
	check_flushed();
	/* pdk-emud killed too: a new one on the same file has the data */
	assert_int_equal(emud_stop(pid, SIGKILL), -SIGKILL);
	pid = spawn(knobs_file(), "");
	check_flushed();
	assert_int_equal(emud_stop(pid, SIGTERM), 0);
}

/* Faults when the test chooses, and the counters, from another process. */
static void test_control_socket(void **state)
{
	pid_t pid = spawn("", "");
	struct pdk_nvme_cmd cmd = nt_rw(PDK_NVME_OPC_FLUSH, 1, 0, 1, 0, 0);
	struct pdk_nvme_cpl e, dup;
	char req[256], reply[4096];

	(void)state;
	assert_int_equal(emud_ctl(ctl, "list", reply, sizeof(reply)), 0);
	assert_non_null(strstr(reply, "\"index\":1,\"name\":\"nvme@b.sock\""));
	up(sock_a);
	snprintf(req, sizeof(req), "inject %s cpl-dup-cid=1", sock_a);
	assert_int_equal(emud_ctl(ctl, req, reply, sizeof(reply)), 0);
	assert_string_equal(reply, "ok");
	assert_int_equal(nt_cmd(&T, &T.io[1], &cmd, &e), NT_OK);
	assert_int_equal(nt_reap(&T, &T.io[1], &dup, NT_TIMEOUT_MS), 0);
	assert_int_equal(dup.cid, e.cid);
	assert_int_equal(emud_ctl(ctl, "stats 0", reply, sizeof(reply)), 0);
	assert_non_null(strstr(reply, "\"inj_dup_cid\":1,"));
	assert_non_null(strstr(reply, "{\"clients\":1,"));
	/* errors name what is wrong */
	assert_int_equal(emud_ctl(ctl, "inject 0 no-such-fault", reply, sizeof(reply)), -EINVAL);
	assert_non_null(strstr(reply, "error"));
	assert_int_equal(emud_ctl(ctl, "stats 7", reply, sizeof(reply)), -EINVAL);
	assert_non_null(strstr(reply, "no device '7'"));
	assert_int_equal(emud_ctl(ctl, "bogus", reply, sizeof(reply)), -EINVAL);
	/* framework faults too */
	assert_int_equal(emud_ctl(ctl, "fault nvme@a.sock allones", reply, sizeof(reply)), 0);
	emu_wait_reg(&T.c, 0, PDK_NVME_REG_CSTS, ~0u, ~0u);
	nt_close(&T);
	assert_int_equal(emud_stop(pid, SIGTERM), 0);
	assert_int_equal(access(ctl, F_OK), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_knobs_and_sigusr2, setup, teardown),
		cmocka_unit_test_setup_teardown(test_client_killed, setup, teardown),
		cmocka_unit_test_setup_teardown(test_control_socket, setup, teardown),
	};

	return NT_MAIN(tests);
}
