/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Client and server in two processes: pdk-emud serving two devices, DMA
 * with MSI-X across processes, SIGTERM removing the sockets, a server
 * killed mid-session giving the client a clean error, surprise removal
 * through the request IRQ (SIGUSR1), the all-ones fault, a model fault by
 * knob and SIGUSR2, and a bad knob refused with its name.
 */
#include "emu_test.h"

#include <sys/eventfd.h>
#include <sys/mman.h>

#define IOVA 0x10000000ull

static char ready[128], sock_a[128], sock_b[128];

static int setup(void **state)
{
	(void)state;
	snprintf(ready, sizeof(ready), "%s", emu_path("ready"));
	snprintf(sock_a, sizeof(sock_a), "%s", emu_path("a.sock"));
	snprintf(sock_b, sizeof(sock_b), "%s", emu_path("b.sock"));
	return 0;
}

static pid_t spawn2(const char *knobs_a, const char *knobs_b)
{
	static char da[512], db[512];
	const char *args[] = {"--device", da, "--device", db, NULL};

	snprintf(da, sizeof(da), "testdev,socket=%s%s%s", sock_a, knobs_a[0] ? "," : "",
		 knobs_a);
	snprintf(db, sizeof(db), "testdev,socket=%s%s%s", sock_b, knobs_b[0] ? "," : "",
		 knobs_b);
	return emud_spawn(ready, args);
}

/* A copy across processes, completion by MSI-X eventfd. */
static void dma_roundtrip(struct vuc *c)
{
	uint8_t *mem;
	int fd = vuc_memfd(1 << 20, (void **)&mem), e = eventfd(0, EFD_CLOEXEC);

	assert_int_equal(vuc_bus_master(c, true), 0);
	assert_int_equal(vuc_dma_map(c, IOVA, 1 << 20, fd, 0,
				     VFIO_USER_DMA_F_READ | VFIO_USER_DMA_F_WRITE), 0);
	assert_int_equal(vuc_set_irqs(c, VFIO_PCI_MSIX_IRQ_INDEX,
				      VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
				      3, 1, &e, 1, NULL), 0);
	for (int i = 0; i < 65536; i++)
		mem[i] = (uint8_t)(i ^ 0x5a);
	assert_int_equal(vuc_wr64(c, 0, TESTDEV_REG_DMA_SRC, IOVA), 0);
	assert_int_equal(vuc_wr64(c, 0, TESTDEV_REG_DMA_DST, IOVA + 0x80000), 0);
	assert_int_equal(vuc_wr32(c, 0, TESTDEV_REG_DMA_LEN, 65536), 0);
	assert_int_equal(vuc_wr32(c, 0, TESTDEV_REG_DMA_VEC, 3), 0);
	assert_int_equal(vuc_wr32(c, 0, TESTDEV_REG_DOORBELL, 1), 0);
	assert_int_equal(emu_wait_event(e, 5000), 1);
	assert_int_equal(vuc_rd32(c, 0, TESTDEV_REG_STATUS), TESTDEV_ST_DONE);
	assert_memory_equal(mem, mem + 0x80000, 65536);
	munmap(mem, 1 << 20);
	close(fd);
	close(e);
}

static void test_two_devices_sigterm(void **state)
{
	pid_t pid = spawn2("msix=own,vectors=8", "msix-mmap=sparse");
	struct pdk_vfio_user_region r;
	struct vuc a, b;
	char line[256];
	FILE *f;
	int fd;

	(void)state;
	/* the ready file lists the sockets */
	f = fopen(ready, "r");
	assert_non_null(f);
	assert_non_null(fgets(line, sizeof(line), f));
	assert_int_equal(strncmp(line, sock_a, strlen(sock_a)), 0);
	fclose(f);
	assert_int_equal(vuc_connect(&a, sock_a), 0);
	assert_int_equal(vuc_connect(&b, sock_b), 0);
	assert_int_equal(vuc_rd32(&a, 0, TESTDEV_REG_VECTORS), 8);
	assert_int_equal(vuc_region_info(&b, 0, &r, &fd), 0);
	assert_true(r.sparse);
	close(fd);
	dma_roundtrip(&a);
	vuc_close(&a);
	vuc_close(&b);
	assert_int_equal(emud_stop(pid, SIGTERM), 0);
	assert_int_equal(access(sock_a, F_OK), -1);
	assert_int_equal(access(sock_b, F_OK), -1);
	assert_int_equal(access(ready, F_OK), -1);
}

/* SIGINT works the same, with a client still connected. */
static void test_sigint_connected(void **state)
{
	pid_t pid = spawn2("", "");
	struct vuc a;

	(void)state;
	assert_int_equal(vuc_connect(&a, sock_a), 0);
	assert_int_equal(emud_stop(pid, SIGINT), 0);
	assert_int_equal(access(sock_a, F_OK), -1);
	assert_int_equal(vuc_rd32(&a, 0, 0), 0xdeadbeef);
	vuc_close(&a);
}

/* The server dies under the client: a clean error, mappings stay valid. */
static void test_server_killed(void **state)
{
	pid_t pid = spawn2("", "");
	struct pdk_vfio_user_region r;
	volatile uint32_t *bar;
	struct vuc a;
	uint32_t v;
	int rc;

	(void)state;
	assert_int_equal(vuc_connect(&a, sock_a), 0);
	bar = vuc_map_bar(&a, 0, &r);
	assert_non_null(bar);
	assert_int_equal(emud_stop(pid, SIGKILL), -SIGKILL);
	rc = vuc_read(&a, 0, 0, &v, 4);
	assert_true(rc == -ECONNRESET || rc == -EPIPE);
	rc = vuc_read(&a, 0, 0, &v, 4);
	assert_true(rc == -ECONNRESET || rc == -EPIPE);
	/* the memory outlives the server: no SIGBUS, the last values */
	assert_int_equal(bar[TESTDEV_REG_ID / 4], TESTDEV_MAGIC);
	vuc_unmap_region(&r, (void *)bar);
	vuc_close(&a);
	/* a stale socket file is cleaned up by the next server */
	assert_int_equal(access(sock_a, F_OK), 0);
	pid = spawn2("", "");
	assert_int_equal(vuc_connect(&a, sock_a), 0);
	vuc_close(&a);
	assert_int_equal(emud_stop(pid, SIGTERM), 0);
}

/* SIGUSR1: request IRQ, grace period, cut off, new clients refused. */
static void test_surprise_removal(void **state)
{
	pid_t pid = spawn2("remove-grace-ms=100", "");
	struct vuc a, a2;
	int req = eventfd(0, EFD_CLOEXEC);
	uint32_t v;
	int rc;

	(void)state;
	assert_int_equal(vuc_connect(&a, sock_a), 0);
	assert_int_equal(vuc_set_irqs(&a, VFIO_PCI_REQ_IRQ_INDEX,
				      VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
				      0, 1, &req, 1, NULL), 0);
	kill(pid, SIGUSR1);
	assert_int_equal(emu_wait_event(req, 5000), 1);
	/* during the grace period the device still answers */
	assert_int_equal(vuc_rd32(&a, 0, TESTDEV_REG_ID), TESTDEV_MAGIC);
	emu_sleep_ms(300);
	rc = vuc_read(&a, 0, 0, &v, 4);
	assert_true(rc == -ECONNRESET || rc == -EPIPE);
	vuc_close(&a);
	assert_int_equal(vuc_connect(&a2, sock_a), -ECONNREFUSED);
	/* a device without a client goes at once; the process keeps running */
	assert_int_equal(vuc_connect(&a2, sock_b), -ECONNREFUSED);
	assert_int_equal(emud_stop(pid, SIGTERM), 0);
	close(req);
}

/* all-ones: mapped and slow reads, config space, after the knob's delay. */
static void test_allones(void **state)
{
	pid_t pid = spawn2("allones-after-ms=50", "");
	struct pdk_vfio_user_region r;
	volatile uint32_t *bar;
	struct vuc a;

	(void)state;
	assert_int_equal(vuc_connect(&a, sock_a), 0);
	bar = vuc_map_bar(&a, 0, &r);
	assert_non_null(bar);
	assert_int_equal(bar[TESTDEV_REG_ID / 4], TESTDEV_MAGIC);
	emu_wait_reg(&a, 0, TESTDEV_REG_ID, ~0u, ~0u);
	assert_int_equal(bar[TESTDEV_REG_ID / 4], 0xffffffff);
	assert_int_equal(vuc_cfg16(&a, 0), 0xffff);
	/* writes are dropped, the socket still answers */
	assert_int_equal(vuc_wr32(&a, 0, TESTDEV_REG_SCRATCH, 1), 0);
	assert_int_equal(vuc_rd32(&a, 0, TESTDEV_REG_SCRATCH), 0xffffffff);
	vuc_unmap_region(&r, (void *)bar);
	vuc_close(&a);
	assert_int_equal(emud_stop(pid, SIGTERM), 0);
}

/* A model fault by knob, injected by SIGUSR2: the engine gets stuck. */
static void test_model_fault(void **state)
{
	pid_t pid = spawn2("fault=stuck,fault-after-ms=100000", "");
	struct vuc a;

	(void)state;
	assert_int_equal(vuc_connect(&a, sock_a), 0);
	assert_int_equal(vuc_bus_master(&a, true), 0);
	assert_int_equal(vuc_wr32(&a, 0, TESTDEV_REG_DMA_LEN, 0), 0);
	assert_int_equal(vuc_wr32(&a, 0, TESTDEV_REG_DOORBELL, 1), 0);
	assert_int_equal(vuc_rd32(&a, 0, TESTDEV_REG_STATUS),
			 TESTDEV_ST_DONE | TESTDEV_ST_ERR_LEN);
	kill(pid, SIGUSR2);
	emu_sleep_ms(100);
	assert_int_equal(vuc_wr32(&a, 0, TESTDEV_REG_DOORBELL, 1), 0);
	assert_int_equal(vuc_rd32(&a, 0, TESTDEV_REG_STATUS), TESTDEV_ST_BUSY);
	vuc_close(&a);
	assert_int_equal(emud_stop(pid, SIGTERM), 0);
}

/* Run pdk-emud with `args`, capture stderr, return its exit status. */
static int emud_fails(const char *args, char *out, size_t len)
{
	char cmd[1024];
	FILE *p;
	size_t n;

	snprintf(cmd, sizeof(cmd), "%s %s 2>&1", emud_binary(), args);
	p = popen(cmd, "r");
	assert_non_null(p);
	n = fread(out, 1, len - 1, p);
	out[n] = '\0';
	return WEXITSTATUS(pclose(p));
}

static void test_bad_knobs(void **state)
{
	char out[4096], args[512];

	(void)state;
	snprintf(args, sizeof(args), "--device testdev,socket=%s,vektors=4", sock_a);
	assert_int_equal(emud_fails(args, out, sizeof(out)), 2);
	assert_str_contains(out, "unknown knob 'vektors' for testdev; valid knobs: socket");
	assert_str_contains(out, "vectors");
	snprintf(args, sizeof(args), "--device testdev,socket=%s,page-size=16k", sock_a);
	assert_int_equal(emud_fails(args, out, sizeof(out)), 2);
	assert_str_contains(out, "knob 'page-size': expected 4k|64k");
	assert_int_equal(emud_fails("", out, sizeof(out)), 2);
	assert_str_contains(out, "no --device");
	assert_int_equal(emud_fails("--device frobnicator,socket=/tmp/x", out, sizeof(out)), 2);
	assert_str_contains(out, "known types: testdev");
	assert_int_equal(emud_fails("--help", out, sizeof(out)), 0);
	assert_str_contains(out, "testdev");
	assert_str_contains(out, "msix-mmap");
	assert_str_contains(out, "copy-max");
	assert_int_equal(access(sock_a, F_OK), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup(test_two_devices_sigterm, setup),
		cmocka_unit_test_setup(test_sigint_connected, setup),
		cmocka_unit_test_setup(test_server_killed, setup),
		cmocka_unit_test_setup(test_surprise_removal, setup),
		cmocka_unit_test_setup(test_allones, setup),
		cmocka_unit_test_setup(test_model_fault, setup),
		cmocka_unit_test_setup(test_bad_knobs, setup),
	};

	if (access(emud_binary(), X_OK)) {
		fprintf(stderr, "skip: %s not built\n", emud_binary());
		return 77;
	}
	signal(SIGPIPE, SIG_IGN);
	return EMU_TEST_MAIN(tests);
}
