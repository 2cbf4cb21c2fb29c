/* SPDX-License-Identifier: BSD-3-Clause */
/* Helpers for the emu suite: socket paths, in-process devices, pdk-emud. */
#ifndef EMU_TEST_H
#define EMU_TEST_H

#include "pdk_test.h"

#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>

#include <pdk_emu.h>
#include <pdk_emu_testdev.h>

#include "vu_client.h"

static char emu_dir[64];

/* A socket path in this test's private directory (made on first use). */
static inline const char *emu_path(const char *name)
{
	static char path[128];

	if (emu_dir[0] == '\0') {
		snprintf(emu_dir, sizeof(emu_dir), "/tmp/pdk-emu-test.XXXXXX");
		if (mkdtemp(emu_dir) == NULL)
			fail_msg("mkdtemp: %s", strerror(errno));
	}
	snprintf(path, sizeof(path), "%s/%s", emu_dir, name);
	return path;
}

static inline void emu_cleanup_dir(void)
{
	if (emu_dir[0])
		rmdir(emu_dir);
}

static inline int64_t emu_test_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static inline void emu_sleep_ms(unsigned ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

/* Create and start an in-process device: "TYPE,socket=<path>,<knobs>". */
static inline struct pdk_emu_dev *emu_start(const char *type, const char *sock,
					    const char *knobs)
{
	char spec[512], err[1024];
	struct pdk_emu_dev *dev;

	snprintf(spec, sizeof(spec), "%s,socket=%s%s%s", type, sock,
		 knobs && knobs[0] ? "," : "", knobs ? knobs : "");
	dev = pdk_emu_dev_create(spec, err, sizeof(err));
	if (dev == NULL)
		fail_msg("create %s: %s", spec, err);
	if (pdk_emu_dev_start(dev))
		fail_msg("start %s failed", spec);
	return dev;
}

/* A device and a connected client, for setup functions. */
static inline int emu_open(struct pdk_emu_dev **dev, struct vuc *c,
			   const char *sock, const char *knobs)
{
	*dev = emu_start("testdev", emu_path(sock), knobs);
	return vuc_connect(c, pdk_emu_dev_socket(*dev));
}

static inline int emu_close(struct pdk_emu_dev **dev, struct vuc *c)
{
	vuc_close(c);
	pdk_emu_dev_destroy(*dev);
	*dev = NULL;
	return 0;
}

/* Run a group of tests: quiet devices unless EMU_TEST_DEBUG is set. */
static inline int emu_test_main(const struct CMUnitTest *tests, size_t n,
				const char *name)
{
	int rc;

	pdk_log_set_level(NULL, getenv("EMU_TEST_DEBUG") ? PDK_LOG_DEBUG :
							  PDK_LOG_WARNING);
	rc = _cmocka_run_group_tests(name, tests, n, NULL, NULL);
	emu_cleanup_dir();
	return rc;
}
#define EMU_TEST_MAIN(tests) emu_test_main(tests, PDK_DIM(tests), __FILE__)

/* A listening socket at emu_path(name) for a hand-made server; its path
 * in `path` (at least 108 bytes). */
static inline int emu_listen_raw(const char *name, char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int s = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);

	snprintf(sa.sun_path, sizeof(sa.sun_path), "%.100s", emu_path(name));
	unlink(sa.sun_path);
	assert_int_equal(bind(s, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(s, 1), 0);
	memcpy(path, sa.sun_path, sizeof(sa.sun_path));
	return s;
}

/* Poll a 32-bit register (slow path) until (v & mask) == want. */
static inline uint32_t emu_wait_reg(struct vuc *c, uint32_t region, uint64_t off,
				    uint32_t mask, uint32_t want)
{
	int64_t end = emu_test_ms() + 5000;
	uint32_t v;

	do {
		v = vuc_rd32(c, region, off);
		if ((v & mask) == want)
			return v;
		emu_sleep_ms(1);
	} while (emu_test_ms() < end);
	fail_msg("register 0x%llx stuck at 0x%x (mask 0x%x want 0x%x)",
		 (unsigned long long)off, v, mask, want);
	return v;
}

/* Wait until an eventfd fires (1) or `ms` pass (0). */
static inline int emu_wait_event(int efd, int ms)
{
	struct pollfd p = {.fd = efd, .events = POLLIN};
	uint64_t v;

	if (poll(&p, 1, ms) != 1)
		return 0;
	return read(efd, &v, sizeof(v)) == sizeof(v) ? 1 : 0;
}

/* ---- pdk-emud in another process ---- */

static inline const char *emud_binary(void)
{
	static char path[512];
	const char *b = getenv("PDK_BUILD_DIR");

	snprintf(path, sizeof(path), "%s/app/pdk-emud/pdk-emud", b ? b : "build");
	return path;
}

/* Start pdk-emud with `args` (NULL-terminated) and wait for its ready file. */
static inline pid_t emud_spawn(const char *ready, const char *const *args)
{
	const char *argv[32];
	int n = 0, status;
	pid_t pid;
	struct stat st;

	argv[n++] = emud_binary();
	argv[n++] = "--ready-file";
	argv[n++] = ready;
	argv[n++] = "--log-level";
	argv[n++] = "notice";
	for (; *args && n < 30; args++)
		argv[n++] = *args;
	argv[n] = NULL;
	unlink(ready);
	pid = fork();
	if (pid == 0) {
		execv(argv[0], (char *const *)argv);
		_exit(127);
	}
	for (int i = 0; i < 500; i++) {
		if (stat(ready, &st) == 0)
			return pid;
		if (waitpid(pid, &status, WNOHANG) == pid)
			fail_msg("pdk-emud exited early (status 0x%x)", status);
		emu_sleep_ms(10);
	}
	kill(pid, SIGKILL);
	fail_msg("pdk-emud did not get ready");
	return -1;
}

/* Signal pdk-emud and reap it; returns its exit status (or -signal). */
static inline int emud_stop(pid_t pid, int sig)
{
	int status;

	kill(pid, sig);
	for (int i = 0; i < 500; i++) {
		if (waitpid(pid, &status, WNOHANG) == pid)
			return WIFEXITED(status) ? WEXITSTATUS(status) :
						   -WTERMSIG(status);
		emu_sleep_ms(10);
	}
	kill(pid, SIGKILL);
	waitpid(pid, &status, 0);
	fail_msg("pdk-emud did not stop on signal %d", sig);
	return -1;
}

/*
 * One request on pdk-emud's control socket (--control PATH): the reply
 * line (without its newline) in `reply`. 0 when it starts with "ok".
 */
static inline int emud_ctl(const char *path, const char *req, char *reply,
			   size_t len)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	size_t have = 0;
	ssize_t r;

	reply[0] = '\0';
	if (strlen(path) >= sizeof(sa.sun_path)) {
		if (fd >= 0)
			close(fd);
		return -ENAMETOOLONG;
	}
	memcpy(sa.sun_path, path, strlen(path) + 1);
	if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) ||
	    write(fd, req, strlen(req)) != (ssize_t)strlen(req) || write(fd, "\n", 1) != 1) {
		if (fd >= 0)
			close(fd);
		return -errno;
	}
	while (have + 1 < len && (r = read(fd, reply + have, len - 1 - have)) > 0) {
		have += (size_t)r;
		if (memchr(reply, '\n', have))
			break;
	}
	close(fd);
	reply[have] = '\0';
	if (have && reply[have - 1] == '\n')
		reply[have - 1] = '\0';
	return strncmp(reply, "ok", 2) ? -EINVAL : 0;
}

#endif /* EMU_TEST_H */
