/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lcores: the main thread plus one pinned worker thread per other lcore.
 * A worker sleeps on its condition variable until remote_launch hands it a
 * function; the launcher waits on the same variable for it to finish.
 */
#include <errno.h>
#include <numa.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "eal_private.h"

enum lcore_state { LCORE_WAIT, LCORE_RUNNING, LCORE_FINISHED };

struct lcore {
	bool enabled;
	int cpu;
	int socket;
	pthread_t thread;
	bool has_thread;
	pthread_mutex_t lock;
	pthread_cond_t cond;
	enum lcore_state state;
	bool stop;
	pdk_lcore_fn fn;
	void *arg;
	int ret;
};

_Thread_local unsigned pdk_lcore_id_tls = PDK_LCORE_ID_ANY;

static struct lcore lcores[PDK_MAX_LCORES];
static unsigned lcore_count;
static unsigned main_lcore;
/* The main thread's CPUs before init pinned it, restored by cleanup. */
static cpu_set_t orig_affinity;
static bool orig_saved;

unsigned pdk_lcore_count(void)
{
	return lcore_count;
}

unsigned pdk_lcore_main(void)
{
	return main_lcore;
}

bool pdk_lcore_is_enabled(unsigned lc)
{
	return lc < PDK_MAX_LCORES && lcores[lc].enabled;
}

int pdk_lcore_to_cpu(unsigned lc)
{
	return pdk_lcore_is_enabled(lc) ? lcores[lc].cpu : -1;
}

int pdk_lcore_to_socket(unsigned lc)
{
	return pdk_lcore_is_enabled(lc) ? lcores[lc].socket : -1;
}

int pdk_socket_id(void)
{
	int s = pdk_lcore_to_socket(pdk_lcore_id());

	return s < 0 ? 0 : s;
}

int pdk_socket_count(void)
{
	int n;

	if (numa_available() < 0)
		return 1;
	n = numa_max_node() + 1;
	return PDK_MIN(PDK_MAX(n, 1), PDK_MAX_NUMA_NODES);
}

unsigned pdk_lcore_next(unsigned i, bool skip_main)
{
	for (i = i + 1; i < PDK_MAX_LCORES; i++) {
		if (!lcores[i].enabled || (skip_main && i == main_lcore))
			continue;
		return i;
	}
	return PDK_MAX_LCORES;
}

static int cpu_socket(int cpu)
{
	int s;

	if (numa_available() < 0)
		return 0;
	s = numa_node_of_cpu(cpu);
	return s < 0 ? 0 : s;
}

static int pin(pthread_t t, int cpu)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return -pthread_setaffinity_np(t, sizeof(set), &set);
}

static void *worker_main(void *p)
{
	struct lcore *lc = p;

	pdk_lcore_id_tls = (unsigned)(lc - lcores);
	pthread_mutex_lock(&lc->lock);
	for (;;) {
		while (lc->state != LCORE_RUNNING && !lc->stop)
			pthread_cond_wait(&lc->cond, &lc->lock);
		if (lc->stop)
			break;
		pthread_mutex_unlock(&lc->lock);
		int ret = lc->fn(lc->arg);
		pthread_mutex_lock(&lc->lock);
		lc->ret = ret;
		lc->state = LCORE_FINISHED;
		pthread_cond_broadcast(&lc->cond);
	}
	pthread_mutex_unlock(&lc->lock);
	return NULL;
}

/* CPUs this process may run on, for the "cpu N is not available" error. */
static void describe_cpus(char *buf, size_t len)
{
	size_t off = 0;

	buf[0] = '\0';
	for (int c = 0; c < CPU_SETSIZE && off < len; c++)
		if (CPU_ISSET(c, &orig_affinity))
			off += (size_t)snprintf(buf + off, len - off, "%s%d", off ? "," : "", c);
}

static int check_cpu(int cpu, unsigned lc, char *err, size_t errlen)
{
	char cpus[256];

	if (cpu < 0 || cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, &orig_affinity)) {
		describe_cpus(cpus, sizeof(cpus));
		snprintf(err, errlen,
			 "lcore %u: cpu %d is not available to this process (available: %s); "
			 "pick lcores from that list with -l", lc, cpu, cpus);
		return -EINVAL;
	}
	return 0;
}

int eal_lcores_start(const struct eal_config *cfg, char *err, size_t errlen)
{
	int rc;

	memset(lcores, 0, sizeof(lcores));
	lcore_count = 0;
	main_lcore = cfg->main_lcore;
	if (pthread_getaffinity_np(pthread_self(), sizeof(orig_affinity), &orig_affinity))
		CPU_ZERO(&orig_affinity);
	orig_saved = true;
	for (unsigned i = 0; i < PDK_MAX_LCORES; i++) {
		int cpu = cfg->lcore_cpu[i];

		if (cpu == -1)
			continue;
		if (cpu == -2) /* no -l: the cpu we are on */
			cpu = sched_getcpu() < 0 ? 0 : sched_getcpu();
		rc = check_cpu(cpu, i, err, errlen);
		if (rc < 0)
			return rc;
		lcores[i].enabled = true;
		lcores[i].cpu = cpu;
		lcores[i].socket = cpu_socket(cpu);
		pthread_mutex_init(&lcores[i].lock, NULL);
		pthread_cond_init(&lcores[i].cond, NULL);
		lcore_count++;
	}
	pdk_lcore_id_tls = main_lcore;
	/* pin the main thread only when the user chose cpus */
	if (cfg->lcore_cpu[main_lcore] >= 0) {
		rc = pin(pthread_self(), lcores[main_lcore].cpu);
		if (rc < 0) {
			snprintf(err, errlen, "cannot pin the main lcore to cpu %d: %s",
				 lcores[main_lcore].cpu, strerror(-rc));
			return rc;
		}
	}
	for (unsigned i = 0; i < PDK_MAX_LCORES; i++) {
		char name[16];

		if (!lcores[i].enabled || i == main_lcore)
			continue;
		rc = -pthread_create(&lcores[i].thread, NULL, worker_main, &lcores[i]);
		if (rc == 0)
			rc = pin(lcores[i].thread, lcores[i].cpu);
		if (rc < 0) {
			snprintf(err, errlen, "cannot start lcore %u on cpu %d: %s", i,
				 lcores[i].cpu, strerror(-rc));
			return rc;
		}
		lcores[i].has_thread = true;
		snprintf(name, sizeof(name), "pdk-lcore-%u", i);
		pthread_setname_np(lcores[i].thread, name);
	}
	return 0;
}

void eal_lcores_stop(void)
{
	for (unsigned i = 0; i < PDK_MAX_LCORES; i++) {
		struct lcore *lc = &lcores[i];

		if (!lc->has_thread)
			continue;
		pthread_mutex_lock(&lc->lock);
		while (lc->state == LCORE_RUNNING) /* let a running job finish */
			pthread_cond_wait(&lc->cond, &lc->lock);
		lc->stop = true;
		pthread_cond_broadcast(&lc->cond);
		pthread_mutex_unlock(&lc->lock);
		pthread_join(lc->thread, NULL);
		lc->has_thread = false;
	}
	for (unsigned i = 0; i < PDK_MAX_LCORES; i++)
		if (lcores[i].enabled) {
			pthread_mutex_destroy(&lcores[i].lock);
			pthread_cond_destroy(&lcores[i].cond);
		}
	memset(lcores, 0, sizeof(lcores));
	lcore_count = 0;
	pdk_lcore_id_tls = PDK_LCORE_ID_ANY;
	if (orig_saved)
		pthread_setaffinity_np(pthread_self(), sizeof(orig_affinity), &orig_affinity);
	orig_saved = false;
}

int pdk_eal_remote_launch(pdk_lcore_fn fn, void *arg, unsigned id)
{
	struct lcore *lc;
	int rc = 0;

	if (!pdk_lcore_is_enabled(id) || id == main_lcore || fn == NULL)
		return -EINVAL;
	lc = &lcores[id];
	pthread_mutex_lock(&lc->lock);
	if (lc->state != LCORE_WAIT) {
		rc = -EBUSY;
	} else {
		lc->fn = fn;
		lc->arg = arg;
		lc->state = LCORE_RUNNING;
		pthread_cond_broadcast(&lc->cond);
	}
	pthread_mutex_unlock(&lc->lock);
	return rc;
}

int pdk_eal_wait_lcore(unsigned id)
{
	struct lcore *lc;
	int ret = 0;

	if (!pdk_lcore_is_enabled(id) || id == main_lcore)
		return 0;
	lc = &lcores[id];
	pthread_mutex_lock(&lc->lock);
	while (lc->state == LCORE_RUNNING)
		pthread_cond_wait(&lc->cond, &lc->lock);
	if (lc->state == LCORE_FINISHED) {
		ret = lc->ret;
		lc->state = LCORE_WAIT;
	}
	pthread_mutex_unlock(&lc->lock);
	return ret;
}

int pdk_eal_mp_remote_launch(pdk_lcore_fn fn, void *arg, bool skip_main)
{
	unsigned i;
	int ret;

	PDK_LCORE_FOREACH_WORKER(i) {
		ret = pdk_eal_remote_launch(fn, arg, i);
		if (ret < 0)
			return ret;
	}
	if (!skip_main) {
		ret = fn(arg);
		if (ret != 0)
			return ret;
	}
	return 0;
}

int pdk_eal_mp_wait_lcore(void)
{
	unsigned i;
	int first = 0;

	PDK_LCORE_FOREACH_WORKER(i) {
		int ret = pdk_eal_wait_lcore(i);

		if (ret != 0 && first == 0)
			first = ret;
	}
	return first;
}
