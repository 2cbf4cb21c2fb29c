/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fail each step of the vfio-user client backend in turn. A device served
 * by lib/emu's test device goes through what a driver does with it: open
 * (VERSION, DEVICE_GET_INFO, each DEVICE_GET_REGION_INFO with its region
 * fd, IRQ info, config space reads, DMA_MAP of EAL memory, request/error
 * IRQs), BAR mapping (mmap of the region fds), MSI-X setup (SET_IRQS) and a
 * DMA mapping of BAR0 itself (DMA_MAP with its region fd, peer-to-peer). The client talks to the server
 * through a proxy thread in this test that, for N = 1, 2, ..., spoils the
 * Nth reply from the server in one of three ways:
 *   error   an error reply (EIO) in its place,
 *   garble  the reply cut to half its payload and without its fds, or,
 *           when it has no payload, answering another command,
 *   hangup  both connections closed instead of the reply (server died);
 * and in a fourth pass, with the proxy passing everything, the Nth system
 * call lib/vfio makes through its syscall table fails (vfio_inject.h).
 * Each pass goes on until N is past the last reply (call) of the sequence.
 * After each run, failed or not, the device closed and the server stopped:
 * - a step that failed returned a negative errno and logged why; a run
 *   that carried on past a reply spoiled during the steps logged a warning
 *   (replies spoiled during the close are checked for leaks only);
 * - the process holds the same fds, file-backed mappings and threads as
 *   before, and lib/vfio's anonymous reservations are all unmapped.
 * Memory leaks are LeakSanitizer's to find (the ASan build).
 */
#include "emu_test.h"

#include <poll.h>
#include <pthread.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <pdk_eal.h>
#include <pdk_vfio.h>
#include <pdk_vfio_user.h>

#include "res_check.h"
#include "vfio_inject.h"

#define BAR_DMA_LEN (16u << 10) /* the test device's BAR0 */

/* ------------------------------------------------------ the proxy -- */

enum mode { M_ERROR, M_GARBLE, M_HANGUP, M_SYSCALL, M_COUNT };
static const char *const mode_name[M_COUNT] = {"error reply", "garbled reply",
					       "hang-up", "failed syscall"};

static struct proxy {
	int listen_fd;
	char path[128], upstream[128];
	enum mode mode;
	int fail_at;          /* spoil this reply (1-based); 0: none */
	int replies;
	bool fired;
	char what[64];        /* the reply spoiled */
	pthread_t thread;
} px;

static int px_connect(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%.100s", path);
	if (s >= 0 && connect(s, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		close(s);
		s = -1;
	}
	return s;
}

static int px_forward(int to, struct pdk_vfio_user_msg *m, size_t len,
		      const int *fds, unsigned nfds)
{
	struct iovec iov = {m->payload, len};

	return pdk_vfio_user_sendv(to, &m->hdr, &iov, 1, fds, nfds);
}

/* A reply from the server on its way to the client: false to hang up. */
static bool px_reply(int client, struct pdk_vfio_user_msg *m)
{
	if (++px.replies != px.fail_at)
		return px_forward(client, m, m->len, m->fds, m->nfds) == 0;
	px.fired = true;
	snprintf(px.what, sizeof(px.what), "%s reply #%d",
		 pdk_vfio_user_cmd_name(m->hdr.command), px.replies);
	switch (px.mode) {
	case M_ERROR:
		pdk_vfio_user_send_error(client, &m->hdr, EIO);
		return true;
	case M_GARBLE:
		if (m->len == 0)
			m->hdr.command ^= 0x3; /* the answer to another command */
		px_forward(client, m, m->len / 2, NULL, 0);
		return true;
	default:
		return false;
	}
}

static void *px_main(void *arg)
{
	struct pollfd p[2];
	int client, server;

	(void)arg;
	client = accept4(px.listen_fd, NULL, NULL, SOCK_CLOEXEC);
	if (client < 0)
		return NULL; /* the run failed before connecting */
	server = px_connect(px.upstream);
	p[0] = (struct pollfd){.fd = client, .events = POLLIN};
	p[1] = (struct pollfd){.fd = server, .events = POLLIN};
	while (server >= 0 && poll(p, 2, 30000) > 0) {
		struct pdk_vfio_user_msg m;
		int from = p[0].revents ? 0 : 1;
		bool go_on;

		if (pdk_vfio_user_recv(p[from].fd, &m, 4u << 20, PDK_VFIO_USER_FDS_MAX, 5000))
			break;
		if (from == 1 && (m.hdr.flags & VFIO_USER_F_TYPE_MASK) == VFIO_USER_F_TYPE_REPLY)
			go_on = px_reply(client, &m);
		else
			go_on = px_forward(p[!from].fd, &m, m.len, m.fds, m.nfds) == 0;
		pdk_vfio_user_msg_release(&m);
		if (!go_on)
			break;
	}
	close(client);
	if (server >= 0)
		close(server);
	return NULL;
}

static void px_start(enum mode mode, int fail_at)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};

	px.mode = mode;
	px.fail_at = mode == M_SYSCALL ? 0 : fail_at;
	px.replies = 0;
	px.fired = false;
	px.what[0] = '\0';
	snprintf(sa.sun_path, sizeof(sa.sun_path), "%.100s", px.path);
	unlink(px.path);
	px.listen_fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	assert_true(px.listen_fd >= 0);
	assert_int_equal(bind(px.listen_fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(px.listen_fd, 1), 0);
	assert_int_equal(pthread_create(&px.thread, NULL, px_main, NULL), 0);
}

static void px_stop(void)
{
	shutdown(px.listen_fd, SHUT_RDWR); /* wakes an accept still waiting */
	pthread_join(px.thread, NULL);
	close(px.listen_fd);
	unlink(px.path);
}

/* ---------------------------------------------------- the sequence -- */

static void close_run(struct run *r)
{
	/* the unmap may find the server gone: it is the close that must
	 * release everything either way */
	if (r->dma_mapped)
		pdk_vfio_dma_unmap(pdk_vfio_dev_domain(r->dev), r->buf, r->len);
	pdk_vfio_dev_close(r->dev);
}

/* One run: server, proxy, the sequence, close; the step that failed. */
static enum step one_run(enum mode mode, int n, struct run *r)
{
	struct pdk_emu_dev *srv = emu_start("testdev", emu_path("srv.sock"), "vectors=4");
	enum step st;

	snprintf(px.upstream, sizeof(px.upstream), "%s", pdk_emu_dev_socket(srv));
	char name[160];

	snprintf(name, sizeof(name), "vfio-user:%s", px.path);
	*r = (struct run){.len = BAR_DMA_LEN}; /* maps BAR0 (peer-to-peer) */
	px_start(mode, n);
	if (mode == M_SYSCALL)
		inj_arm(n);
	st = run_steps(r, name);
	r->in_steps = mode == M_SYSCALL ? inj.fired : px.fired;
	close_run(r);
	inj.armed = false;
	px_stop();
	pdk_emu_dev_destroy(srv);
	return st;
}

static void fail_each(enum mode mode)
{
	static struct res_snapshot before;
	unsigned failed[ST_COUNT] = {0};
	struct run r;
	int n;

	/* once through first: what stays for the process's life is made
	 * before the snapshot */
	assert_int_equal(one_run(mode, 0, &r), ST_DONE);
	res_take(&before);
	for (n = 1;; n++) {
		bool fired, said;
		const char *what;
		char where[160];
		enum step st;

		test_log_capture(PDK_LOG_WARNING);
		st = one_run(mode, n, &r);
		fired = mode == M_SYSCALL ? inj.fired : px.fired;
		what = mode == M_SYSCALL ? inj.what : px.what;
		snprintf(where, sizeof(where), "%s %d (%s)", mode_name[mode], n, what);
		/* the server logs into the same sink: look for lib/vfio's word */
		said = strstr(test_log_buf.text, "vfio: ") != NULL;
		if (st != ST_DONE && (r.rc >= 0 || !said))
			fail_msg("%s broke %s with rc %d and no word from lib/vfio: no clean "
				 "error; log:\n%s", where, step_name[st], r.rc, test_log_buf.text);
		/* an unknown RLIMIT_MEMLOCK leaves the check to the server */
		if (st == ST_DONE && r.in_steps && !said &&
		    strcmp(what, "getrlimit") != 0)
			fail_msg("%s went unreported; log:\n%s", where, test_log_buf.text);
		test_log_release();
		failed[st]++;
		if (inj.nr_res)
			fail_msg("after %s: %d address-space reservation(s) left mapped",
				 where, inj.nr_res);
		res_assert_same(&before, where);
		if (!fired)
			break; /* fewer replies (calls) than n: each was spoiled once */
	}
	print_message("%s: %d runs: %u failed the open, %u the BAR mapping, %u the MSI-X "
		       "setup, %u the DMA mapping, %u were carried past (warnings)\n",
		       mode_name[mode], n - 1, failed[ST_OPEN], failed[ST_BARS],
		       failed[ST_MSIX], failed[ST_DMA], failed[ST_DONE] - 1);
	/* each step's replies (calls) were reached and each could fail */
	if (mode != M_SYSCALL)
		assert_true(failed[ST_OPEN] > 0 && failed[ST_MSIX] > 0 && failed[ST_DMA] > 0);
	else /* the client's own syscalls: the BARs' mmaps */
		assert_true(failed[ST_BARS] > 0);
}

static void test_error_replies(void **state)
{
	(void)state;
	fail_each(M_ERROR);
}

static void test_garbled_replies(void **state)
{
	(void)state;
	fail_each(M_GARBLE);
}

static void test_hangups(void **state)
{
	(void)state;
	fail_each(M_HANGUP);
}

static void test_failed_syscalls(void **state)
{
	(void)state;
	fail_each(M_SYSCALL);
}

static int setup(void **state)
{
	TEST_ARGV(av, "prog", "-l", "0", "--no-huge", "-m", "16", "--no-pci",
		  "--log-level", "err");

	(void)state;
	if (pdk_eal_init(av_c, av) <= 0)
		return -1;
	snprintf(px.path, sizeof(px.path), "%s", emu_path("proxy.sock"));
	inj_install();
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	vfio_sys_set(NULL);
	pdk_eal_cleanup();
	unlink(emu_path("srv.sock"));
	emu_cleanup_dir();
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_error_replies),
		cmocka_unit_test(test_garbled_replies),
		cmocka_unit_test(test_hangups),
		cmocka_unit_test(test_failed_syscalls),
	};

	pdk_log_set_level(NULL, getenv("EMU_TEST_DEBUG") ? PDK_LOG_DEBUG : PDK_LOG_WARNING);
	return cmocka_run_group_tests(tests, setup, teardown);
}
