/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The control thread: one epoll loop shared by every device, for the fds
 * that carry control events (the request and error IRQs, a driver's link
 * interrupt). Data paths poll; this thread only waits.
 *
 * It starts with the first registration and stops with the last. Callbacks
 * run without the registry lock held, so they may call back into lib/vfio
 * (even close the device); unregistering an fd waits until its callback is
 * not running, unless the caller is that callback. Errors from epoll are
 * logged and retried with a growing pause, never fatal.
 */
#include <errno.h>
#include <stdbool.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "vfio_private.h"

#define CTL_MAX_FDS 256
#define CTL_BACKOFF_MIN_MS 10
#define CTL_BACKOFF_MAX_MS 1000

struct ctl_reg {
	int fd;
	void (*fn)(int fd, void *arg);
	void *arg;
};

static struct {
	pthread_mutex_t lock;
	pthread_cond_t done;       /* a callback finished, or the thread stopped */
	pthread_t thread;
	bool running;
	bool stop;
	int epfd;
	int wakefd;
	int inflight;              /* fd whose callback runs now, -1 */
	struct ctl_reg regs[CTL_MAX_FDS];
	int nregs;
} ctl = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.done = PTHREAD_COND_INITIALIZER,
	.epfd = -1,
	.wakefd = -1,
	.inflight = -1,
};

static void pause_ms(int ms)
{
	struct timespec ts = {.tv_sec = ms / 1000, .tv_nsec = (long)(ms % 1000) * 1000000};

	nanosleep(&ts, NULL);
}

static struct ctl_reg *find_reg(int fd)
{
	for (int i = 0; i < ctl.nregs; i++)
		if (ctl.regs[i].fd == fd)
			return &ctl.regs[i];
	return NULL;
}

/* Run the callback of one ready fd. Returns false when told to stop. */
static bool dispatch(const struct epoll_event *ev)
{
	struct ctl_reg r, *found;
	uint64_t v;

	if (ev->data.fd == ctl.wakefd) {
		if (read(ctl.wakefd, &v, sizeof(v)) < 0 && errno != EAGAIN)
			PDK_LOG(DEBUG, VFIO_LOG, "control thread: wake fd: %s", strerror(errno));
		pthread_mutex_lock(&ctl.lock);
		bool stop = ctl.stop;
		pthread_mutex_unlock(&ctl.lock);
		return !stop;
	}
	pthread_mutex_lock(&ctl.lock);
	found = find_reg(ev->data.fd);
	if (found && (ev->events & (EPOLLERR | EPOLLHUP)) && !(ev->events & EPOLLIN)) {
		/* a broken fd would wake us forever: stop watching it */
		PDK_LOG(WARNING, VFIO_LOG, "control thread: fd %d reports an error; no longer "
			"watched", found->fd);
		epoll_ctl(ctl.epfd, EPOLL_CTL_DEL, found->fd, NULL);
		found = NULL;
	}
	if (found) {
		r = *found;
		ctl.inflight = r.fd;
	}
	pthread_mutex_unlock(&ctl.lock);
	if (!found)
		return true;
	r.fn(r.fd, r.arg);
	pthread_mutex_lock(&ctl.lock);
	ctl.inflight = -1;
	pthread_cond_broadcast(&ctl.done);
	pthread_mutex_unlock(&ctl.lock);
	return true;
}

static void *ctl_main(void *arg)
{
	int backoff = 0;

	(void)arg;
	for (;;) {
		struct epoll_event ev;
		int n = epoll_wait(ctl.epfd, &ev, 1, -1);

		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			backoff = backoff ? PDK_MIN(backoff * 2, CTL_BACKOFF_MAX_MS)
					  : CTL_BACKOFF_MIN_MS;
			PDK_LOG(ERR, VFIO_LOG, "control thread: epoll_wait: %s; retrying in %d ms",
				strerror(errno), backoff);
			pause_ms(backoff);
			continue;
		}
		backoff = 0;
		if (n == 1 && !dispatch(&ev))
			break;
	}
	return NULL;
}

static int ctl_start(void)
{
	struct epoll_event ev = {.events = EPOLLIN};
	int rc;

	ctl.epfd = epoll_create1(EPOLL_CLOEXEC);
	ctl.wakefd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	ev.data.fd = ctl.wakefd;
	if (ctl.epfd < 0 || ctl.wakefd < 0 ||
	    epoll_ctl(ctl.epfd, EPOLL_CTL_ADD, ctl.wakefd, &ev) < 0) {
		rc = -errno;
		goto fail;
	}
	ctl.stop = false;
	rc = -pthread_create(&ctl.thread, NULL, ctl_main, NULL);
	if (rc == 0) {
		ctl.running = true;
		return 0;
	}
fail:
	PDK_LOG(ERR, VFIO_LOG, "cannot start the control thread: %s", strerror(-rc));
	if (ctl.wakefd >= 0)
		close(ctl.wakefd);
	if (ctl.epfd >= 0)
		close(ctl.epfd);
	ctl.epfd = ctl.wakefd = -1;
	return rc;
}

int vfio_ctl_add(int fd, void (*fn)(int fd, void *arg), void *arg)
{
	struct epoll_event ev = {.events = EPOLLIN, .data.fd = fd};
	int rc = 0;

	if (fd < 0 || fn == NULL)
		return -EINVAL;
	pthread_mutex_lock(&ctl.lock);
	while (ctl.running && ctl.stop) /* a stop in progress: let it finish */
		pthread_cond_wait(&ctl.done, &ctl.lock);
	if (find_reg(fd))
		rc = -EEXIST;
	else if (ctl.nregs == CTL_MAX_FDS)
		rc = -ENOSPC;
	else if (!ctl.running)
		rc = ctl_start();
	if (rc == 0 && epoll_ctl(ctl.epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
		rc = -errno;
	if (rc == 0)
		ctl.regs[ctl.nregs++] = (struct ctl_reg){fd, fn, arg};
	pthread_mutex_unlock(&ctl.lock);
	return rc;
}

/* Stop the thread when nothing is left to watch (not from the thread). */
static void ctl_stop_locked(void)
{
	uint64_t one = 1;
	pthread_t t = ctl.thread;

	ctl.stop = true;
	if (write(ctl.wakefd, &one, sizeof(one)) < 0)
		PDK_LOG(DEBUG, VFIO_LOG, "control thread: wake: %s", strerror(errno));
	pthread_mutex_unlock(&ctl.lock);
	pthread_join(t, NULL);
	pthread_mutex_lock(&ctl.lock);
	close(ctl.wakefd);
	close(ctl.epfd);
	ctl.epfd = ctl.wakefd = -1;
	ctl.running = false;
	pthread_cond_broadcast(&ctl.done);
}

int vfio_ctl_del(int fd)
{
	bool self;
	struct ctl_reg *r;

	pthread_mutex_lock(&ctl.lock);
	r = find_reg(fd);
	if (r == NULL) {
		pthread_mutex_unlock(&ctl.lock);
		return -ENOENT;
	}
	epoll_ctl(ctl.epfd, EPOLL_CTL_DEL, fd, NULL);
	*r = ctl.regs[--ctl.nregs];
	self = ctl.running && pthread_equal(pthread_self(), ctl.thread);
	while (!self && ctl.inflight == fd)
		pthread_cond_wait(&ctl.done, &ctl.lock);
	/* from inside a callback the thread stays, idle, until the next call */
	if (ctl.nregs == 0 && ctl.running && !self)
		ctl_stop_locked();
	pthread_mutex_unlock(&ctl.lock);
	return 0;
}

int pdk_vfio_ctl_fd_register(int fd, void (*fn)(int fd, void *arg), void *arg)
{
	return vfio_ctl_add(fd, fn, arg);
}

int pdk_vfio_ctl_fd_unregister(int fd)
{
	return vfio_ctl_del(fd);
}
