/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * A device's life: creation from the device line, its thread, resets,
 * framework faults, and the calls other threads may make. The thread runs
 * the model's poll while it finds work and backs off when idle: a short
 * spin, then sleeps growing from 10 us to `idle-us` in ppoll() on the
 * socket and a wake eventfd, so idle devices cost nothing on a 2-core box.
 */
#include <errno.h>
#include <poll.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <time.h>
#include <unistd.h>

#include "emu_private.h"

#define SPIN_ITERS 256   /* idle polls before the first sleep */
#define SLEEP_MIN_US 10
#define CONN_BUDGET 16   /* messages handled per visit */
#define BUSY_CHECK 64    /* while busy, look at the socket every N polls */

int64_t emu_now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void emu_stat_add(struct pdk_emu_dev *dev, uint64_t *field, uint64_t n)
{
	(void)dev;
	__atomic_fetch_add(field, n, __ATOMIC_RELAXED);
}

bool emu_alive(const struct pdk_emu_dev *dev)
{
	return dev->state == EMU_ALIVE || dev->state == EMU_REMOVING;
}

/* Device reset as DEVICE_RESET or FLR do it: config, IRQs and DMA stay. */
void emu_reset_function(struct pdk_emu_dev *dev)
{
	emu_stat_add(dev, &dev->stats.resets, 1);
	emu_irqs_reset_pending(dev);
	if (!emu_alive(dev)) {
		emu_bars_fill(dev, 0xff); /* a dead device stays dead */
		return;
	}
	emu_bars_reset(dev);
	if (dev->model->reset)
		dev->model->reset(dev);
}

/* Power-on state: also config space, the client's eventfds and DMA. */
void emu_reset_full(struct pdk_emu_dev *dev)
{
	emu_cfg_reset(dev);
	if (dev->irqs.msix || dev->irqs.err_fd >= 0 || dev->irqs.req_fd >= 0)
		emu_irqs_clear(dev);
	emu_dma_clear(dev);
	emu_reset_function(dev);
}

void *pdk_emu_dev_priv(struct pdk_emu_dev *dev)
{
	return dev->priv;
}

void pdk_emu_dev_set_ids(struct pdk_emu_dev *dev,
			 const struct pdk_emu_pci_ids *ids)
{
	dev->ids = *ids;
	emu_cfg_ids(dev);
}

int pdk_emu_dev_add_cap(struct pdk_emu_dev *dev, uint8_t id, const void *body,
			size_t len)
{
	if (id == 0 || (len && body == NULL))
		return -EINVAL;
	return emu_cfg_add_cap(dev, id, body, len, false);
}

const char *pdk_emu_dev_socket(const struct pdk_emu_dev *dev)
{
	return dev->opts.socket;
}

const char *pdk_emu_dev_name(const struct pdk_emu_dev *dev)
{
	return dev->name;
}

static void go_dead(struct pdk_emu_dev *dev)
{
	if (!emu_alive(dev))
		return;
	dev->state = EMU_DEAD;
	emu_bars_fill(dev, 0xff);
	EMU_LOG(NOTICE, dev, "fault: the device died, every read returns all-ones");
}

static void finish_removal(struct pdk_emu_dev *dev)
{
	dev->state = EMU_REMOVED;
	emu_bars_fill(dev, 0xff);
	emu_conn_close(dev, "surprise removal");
	if (dev->listen_fd >= 0)
		close(dev->listen_fd);
	dev->listen_fd = -1;
	EMU_LOG(NOTICE, dev, "removed: new clients are refused");
}

static void start_removal(struct pdk_emu_dev *dev)
{
	if (dev->state == EMU_REMOVING || dev->state == EMU_REMOVED)
		return;
	if (dev->conn_fd < 0 || !dev->negotiated) {
		finish_removal(dev);
		return;
	}
	EMU_LOG(NOTICE, dev, "fault: surprise removal, request IRQ %s; %u ms grace",
		emu_irq_req_signal(dev) == 0 ? "signalled" : "not set up",
		dev->opts.remove_grace_ms);
	dev->state = EMU_REMOVING;
	dev->remove_deadline = emu_now_ms() + dev->opts.remove_grace_ms;
}

static int run_inject(struct pdk_emu_dev *dev, const char *fault)
{
	int rc = dev->model->inject ? dev->model->inject(dev, fault) : -EINVAL;

	EMU_LOG(NOTICE, dev, "fault '%s' %s", fault, rc ? "unknown" : "injected");
	return rc;
}

/* A timed fault is due: once per device, counted from the first client. */
static bool due(const struct pdk_emu_dev *dev, int64_t after, bool *done,
		int64_t now)
{
	if (after < 0 || *done || dev->connected_ms == 0 ||
	    now < dev->connected_ms + after)
		return false;
	*done = true;
	return true;
}

/* A timer that can still fire (reading the clock costs on every round). */
static bool timers_armed(const struct pdk_emu_dev *dev)
{
	return dev->state == EMU_REMOVING ||
	       (dev->opts.allones_after_ms >= 0 && !dev->timed_allones) ||
	       (dev->opts.remove_after_ms >= 0 && !dev->timed_remove) ||
	       (dev->opts.fault_after_ms >= 0 && !dev->timed_fault);
}

/* Faults and injections from other threads, timers. */
static void tick(struct pdk_emu_dev *dev)
{
	/* a plain load first: the exchange would write the line every round */
	unsigned f = atomic_load_explicit(&dev->faults, memory_order_relaxed) ?
			     atomic_exchange(&dev->faults, 0) : 0;
	int64_t now = timers_armed(dev) ? emu_now_ms() : 0;

	if (f & (1u << PDK_EMU_FAULT_ALLONES) ||
	    due(dev, dev->opts.allones_after_ms, &dev->timed_allones, now))
		go_dead(dev);
	if (f & (1u << PDK_EMU_FAULT_REMOVE) ||
	    due(dev, dev->opts.remove_after_ms, &dev->timed_remove, now))
		start_removal(dev);
	if (due(dev, dev->opts.fault_after_ms, &dev->timed_fault, now) &&
	    dev->opts.fault[0])
		run_inject(dev, dev->opts.fault);
	if (dev->state == EMU_REMOVING &&
	    (now >= dev->remove_deadline || dev->conn_fd < 0))
		finish_removal(dev);
	if (__atomic_load_n(&dev->inject_req, __ATOMIC_ACQUIRE) == NULL)
		return; /* pairs with the release store in pdk_emu_dev_inject */
	pthread_mutex_lock(&dev->lock);
	if (dev->inject_req && !dev->inject_done) {
		dev->inject_rc = run_inject(dev, dev->inject_req);
		dev->inject_done = true;
		pthread_cond_broadcast(&dev->cond);
	}
	pthread_mutex_unlock(&dev->lock);
}

/* Milliseconds from `now` until the next timer, -1 for none. */
static int64_t timer_in(const struct pdk_emu_dev *dev, int64_t now)
{
	int64_t next = -1;
	const int64_t after[] = {dev->timed_allones ? -1 : dev->opts.allones_after_ms,
				 dev->timed_remove ? -1 : dev->opts.remove_after_ms,
				 dev->timed_fault ? -1 : dev->opts.fault_after_ms};

	if (dev->connected_ms)
		for (unsigned i = 0; i < PDK_DIM(after); i++)
			if (after[i] >= 0) {
				int64_t t = dev->connected_ms + after[i] - now;

				next = next < 0 ? t : PDK_MIN(next, t);
			}
	if (dev->state == EMU_REMOVING) {
		int64_t t = dev->remove_deadline - now;

		next = next < 0 ? t : PDK_MIN(next, t);
	}
	return next < 0 ? next : PDK_MAX(next, (int64_t)0);
}

/* Milliseconds until the next timer, -1 for none. */
static int64_t next_timer(const struct pdk_emu_dev *dev)
{
	/* idle rounds come often: no clock read when nothing can fire */
	return timers_armed(dev) ? timer_in(dev, emu_now_ms()) : -1;
}

/* How long to sleep after `idle` idle rounds, in us (-1: until woken). */
static int64_t idle_sleep_us(const struct pdk_emu_dev *dev, unsigned idle)
{
	int64_t us = -1, timer = next_timer(dev);
	bool polling = dev->conn_fd >= 0 && dev->negotiated && dev->model->poll &&
		       emu_alive(dev);

	if (polling) {
		if (idle < SPIN_ITERS || dev->opts.idle_us == 0)
			return 0;
		us = PDK_MIN((int64_t)dev->opts.idle_us,
			     (int64_t)SLEEP_MIN_US << PDK_MIN(idle - SPIN_ITERS, 16u));
	}
	if (timer >= 0)
		us = us < 0 ? timer * 1000 : PDK_MIN(us, timer * 1000);
	return us;
}

/* Sleep in ppoll on the wake fd and the sockets; serve what woke us. */
static void wait_events(struct pdk_emu_dev *dev, unsigned idle)
{
	struct pollfd pfd[3] = {{.fd = dev->wake_fd, .events = POLLIN},
				{.fd = dev->listen_fd, .events = POLLIN},
				{.fd = dev->conn_fd, .events = POLLIN}};
	int64_t us = idle_sleep_us(dev, idle);
	struct timespec ts = {.tv_sec = us / 1000000, .tv_nsec = (us % 1000000) * 1000};
	uint64_t v;

	if (us == 0 && idle % BUSY_CHECK) {
		pdk_pause();
		return;
	}
	if (ppoll(pfd, 3, us < 0 ? NULL : &ts, NULL) <= 0)
		return;
	if (pfd[0].revents && read(dev->wake_fd, &v, sizeof(v)) < 0)
		v = 0;
	/* the old client's hang-up before a new client's connect */
	if (pfd[2].revents)
		emu_conn_service(dev, CONN_BUDGET);
	if (pfd[1].revents & POLLIN)
		emu_accept(dev);
}

static void *dev_thread(void *arg)
{
	struct pdk_emu_dev *dev = arg;
	unsigned idle = 0, busy = 0;
	char tname[16];

	snprintf(tname, sizeof(tname), "emu-%s", dev->model->name);
	pthread_setname_np(pthread_self(), tname);
	while (!atomic_load(&dev->stop)) {
		int work = 0;

		tick(dev);
		if (dev->pending.n) /* queued while we waited for a DMA reply */
			work = emu_conn_service(dev, CONN_BUDGET);
		if (dev->conn_fd >= 0 && dev->negotiated && emu_alive(dev) &&
		    dev->model->poll)
			work += dev->model->poll(dev);
		if (work > 0) {
			idle = 0;
			if (++busy % BUSY_CHECK == 0)
				emu_conn_service(dev, CONN_BUDGET);
			continue;
		}
		wait_events(dev, idle);
		if (idle < UINT32_MAX)
			idle++;
	}
	return NULL;
}

static void wake(struct pdk_emu_dev *dev)
{
	uint64_t one = 1;

	if (write(dev->wake_fd, &one, sizeof(one)) < 0)
		EMU_LOG(ERR, dev, "wake: %s", strerror(errno));
}

static struct pdk_emu_dev *dev_alloc(void)
{
	struct pdk_emu_dev *dev = calloc(1, sizeof(*dev));

	if (dev == NULL)
		return NULL;
	dev->memfd = dev->listen_fd = dev->conn_fd = -1;
	dev->irqs.err_fd = dev->irqs.req_fd = -1;
	dev->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	pthread_mutex_init(&dev->lock, NULL);
	pthread_cond_init(&dev->cond, NULL);
	return dev;
}

/* Everything after the device line is parsed: model, BARs, config, IRQs. */
static int dev_build(struct pdk_emu_dev *dev)
{
	const char *base = strrchr(dev->opts.socket, '/');
	int rc;

	snprintf(dev->name, sizeof(dev->name), "%.16s@%.28s", dev->model->name,
		 base ? base + 1 : dev->opts.socket);
	if (dev->wake_fd < 0)
		return -errno;
	dev->priv = calloc(1, dev->model->priv_size ? dev->model->priv_size : 1);
	if (dev->priv == NULL)
		return -ENOMEM;
	emu_cfg_init(dev);
	rc = dev->model->init(dev);
	if (rc)
		return rc;
	dev->model_ready = true;
	rc = emu_bars_setup(dev);
	if (rc == 0)
		rc = emu_irqs_init(dev);
	if (rc)
		return rc;
	emu_cfg_finish(dev);
	emu_reset_full(dev);
	return 0;
}

struct pdk_emu_dev *pdk_emu_dev_create(const char *spec, char *err,
				       size_t errlen)
{
	struct pdk_emu_dev *dev = dev_alloc();
	int rc;

	if (dev == NULL) {
		errno = ENOMEM;
		return NULL;
	}
	rc = emu_parse_spec(dev, spec);
	if (rc == 0)
		rc = dev_build(dev);
	if (rc == 0)
		return dev;
	if (err && errlen)
		snprintf(err, errlen, "%s", dev->error[0] ? dev->error : strerror(-rc));
	pdk_emu_dev_destroy(dev);
	errno = -rc;
	return NULL;
}

static int pin(struct pdk_emu_dev *dev, pthread_attr_t *attr)
{
	cpu_set_t set;

	if (dev->opts.cpu < 0)
		return 0;
	CPU_ZERO(&set);
	CPU_SET(dev->opts.cpu, &set);
	return -pthread_attr_setaffinity_np(attr, sizeof(set), &set);
}

int pdk_emu_dev_start(struct pdk_emu_dev *dev)
{
	pthread_attr_t attr;
	int rc;

	if (dev->started)
		return -EALREADY;
	rc = emu_listen(dev);
	if (rc)
		return rc;
	pthread_attr_init(&attr);
	rc = pin(dev, &attr);
	if (rc == 0)
		rc = -pthread_create(&dev->thread, &attr, dev_thread, dev);
	pthread_attr_destroy(&attr);
	if (rc) {
		pdk_emu_dev_error(dev, "device thread%s: %s",
			     dev->opts.cpu >= 0 ? " (cpu knob)" : "", strerror(-rc));
		EMU_LOG(ERR, dev, "%s", dev->error);
		close(dev->listen_fd);
		dev->listen_fd = -1;
		unlink(dev->opts.socket);
		dev->socket_ours = false;
		return rc;
	}
	dev->started = true;
	return 0;
}

void pdk_emu_dev_destroy(struct pdk_emu_dev *dev)
{
	if (dev == NULL)
		return;
	if (dev->started) {
		atomic_store(&dev->stop, true);
		wake(dev);
		pthread_join(dev->thread, NULL);
	}
	if (dev->conn_fd >= 0)
		emu_conn_close(dev, "server shutting down");
	if (dev->listen_fd >= 0)
		close(dev->listen_fd);
	if (dev->socket_ours)
		unlink(dev->opts.socket);
	if (dev->model_ready && dev->model->fini)
		dev->model->fini(dev);
	emu_irqs_free(dev);
	emu_dma_clear(dev);
	emu_bars_free(dev);
	if (dev->wake_fd >= 0)
		close(dev->wake_fd);
	pthread_mutex_destroy(&dev->lock);
	pthread_cond_destroy(&dev->cond);
	free(dev->priv);
	free(dev);
}

int pdk_emu_dev_fault(struct pdk_emu_dev *dev, enum pdk_emu_fault f)
{
	if (f != PDK_EMU_FAULT_ALLONES && f != PDK_EMU_FAULT_REMOVE)
		return -EINVAL;
	atomic_fetch_or(&dev->faults, 1u << f);
	wake(dev);
	return 0;
}

int pdk_emu_dev_inject(struct pdk_emu_dev *dev, const char *fault)
{
	int rc;

	if (fault == NULL)
		return -EINVAL;
	if (!dev->started)
		return run_inject(dev, fault);
	pthread_mutex_lock(&dev->lock);
	while (dev->inject_req)
		pthread_cond_wait(&dev->cond, &dev->lock);
	dev->inject_done = false;
	__atomic_store_n(&dev->inject_req, fault, __ATOMIC_RELEASE);
	wake(dev);
	while (!dev->inject_done)
		pthread_cond_wait(&dev->cond, &dev->lock);
	rc = dev->inject_rc;
	__atomic_store_n(&dev->inject_req, NULL, __ATOMIC_RELAXED);
	pthread_cond_broadcast(&dev->cond);
	pthread_mutex_unlock(&dev->lock);
	return rc;
}

void pdk_emu_dev_stats(struct pdk_emu_dev *dev, struct pdk_emu_stats *st)
{
	const uint64_t *src = (const uint64_t *)&dev->stats;
	uint64_t *dst = (uint64_t *)st;

	for (size_t i = 0; i < sizeof(*st) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
}
