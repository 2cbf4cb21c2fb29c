/* SPDX-License-Identifier: BSD-3-Clause */
/* pdk_eal_init / pdk_eal_cleanup and the accessors of the parsed options. */
#include <errno.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "eal_private.h"
#include "pdk_eal_internal.h"

struct eal_config eal_cfg;
static struct eal_args eal_args;
static atomic_int eal_state; /* 0 idle, 1 initialising/ready */
static char last_error[512];
static uint64_t tsc_hz;
static bool buses_up;

const char *pdk_eal_last_error(void)
{
	return last_error;
}

static void apply_log_rules(const struct eal_args *a)
{
	for (unsigned i = 0; i < a->nb_log_rules; i++)
		pdk_log_set_level(a->log_rules[i].pattern[0] ? a->log_rules[i].pattern : NULL,
				  a->log_rules[i].level);
}

/*
 * Ticks per second of pdk_rdtsc(), measured against CLOCK_MONOTONIC_RAW over
 * at least 20 ms. pdk_eal_init starts the measurement before it reserves
 * memory and finishes it after, so the wait overlaps the page faults.
 */
static struct {
	struct timespec t0;
	uint64_t c0;
} tsc_calib;

static void tsc_calib_start(void)
{
	clock_gettime(CLOCK_MONOTONIC_RAW, &tsc_calib.t0);
	tsc_calib.c0 = pdk_rdtsc();
}

static uint64_t tsc_calib_finish(void)
{
	const uint64_t min_ns = 20 * 1000 * 1000;
	struct timespec t1;
	uint64_t c1, ns;

	clock_gettime(CLOCK_MONOTONIC_RAW, &t1);
	ns = (uint64_t)(t1.tv_sec - tsc_calib.t0.tv_sec) * 1000000000ULL +
	     (uint64_t)(t1.tv_nsec - tsc_calib.t0.tv_nsec);
	if (ns < min_ns) {
		struct timespec sl = {.tv_nsec = (long)(min_ns - ns)};

		nanosleep(&sl, NULL);
		clock_gettime(CLOCK_MONOTONIC_RAW, &t1);
		ns = (uint64_t)(t1.tv_sec - tsc_calib.t0.tv_sec) * 1000000000ULL +
		     (uint64_t)(t1.tv_nsec - tsc_calib.t0.tv_nsec);
	}
	c1 = pdk_rdtsc();
	return ns ? (c1 - tsc_calib.c0) * 1000000000ULL / ns : 1;
}

uint64_t pdk_get_tsc_hz(void)
{
	if (tsc_hz == 0) {
		tsc_calib_start();
		tsc_hz = tsc_calib_finish();
	}
	return tsc_hz;
}

int pdk_eal_init(int argc, char **argv)
{
	int expected = 0, consumed, rc;

	last_error[0] = '\0';
	if (!atomic_compare_exchange_strong(&eal_state, &expected, 1)) {
		snprintf(last_error, sizeof(last_error),
			 "pdk_eal_init called twice; call pdk_eal_cleanup first");
		PDK_LOG(ERR, EAL_LOG, "%s", last_error);
		return -EALREADY;
	}
	if (argc < 1 || argv == NULL) {
		snprintf(last_error, sizeof(last_error), "pdk_eal_init: argv is empty");
		rc = -EINVAL;
		goto fail;
	}
	consumed = eal_parse_args(argc, argv, &eal_args, last_error, sizeof(last_error));
	if (consumed < 0) {
		rc = consumed;
		goto fail;
	}
	eal_cfg = eal_args.cfg;
	if (eal_cfg.help) {
		eal_args_release(&eal_args);
		atomic_store(&eal_state, 0);
		return -ECANCELED;
	}
	apply_log_rules(&eal_args);
	rc = eal_lcores_start(&eal_cfg, last_error, sizeof(last_error));
	if (rc < 0)
		goto fail_cleanup;
	if (tsc_hz == 0)
		tsc_calib_start();
	rc = eal_memory_init(&eal_cfg, last_error, sizeof(last_error));
	if (rc < 0)
		goto fail_cleanup;
	if (tsc_hz == 0)
		tsc_hz = tsc_calib_finish();
	buses_up = true;
	rc = eal_buses_probe(last_error, sizeof(last_error));
	if (rc < 0)
		goto fail_cleanup;
	if (consumed > 0)
		argv[consumed] = argv[0];
	PDK_LOG(INFO, EAL_LOG, "ready: %u lcore(s), main lcore %u, %zu MiB DMA memory",
		pdk_lcore_count(), pdk_lcore_main(), pdk_mem_total() >> 20);
	return consumed;

fail_cleanup:
	PDK_LOG(ERR, EAL_LOG, "%s", last_error);
	pdk_eal_cleanup();
	return rc;
fail:
	PDK_LOG(ERR, EAL_LOG, "%s", last_error);
	atomic_store(&eal_state, 0);
	return rc;
}

int pdk_eal_cleanup(void)
{
	if (atomic_load(&eal_state) == 0)
		return 0;
	if (buses_up)
		eal_buses_cleanup();
	buses_up = false;
	eal_lcores_stop();
	eal_memory_cleanup();
	eal_args_release(&eal_args);
	memset(&eal_cfg, 0, sizeof(eal_cfg));
	atomic_store(&eal_state, 0);
	return 0;
}

const char *pdk_eal_file_prefix(void)
{
	return eal_cfg.file_prefix[0] ? eal_cfg.file_prefix : EAL_DEFAULT_PREFIX;
}

static const struct eal_dev *find_dev(const struct eal_dev *list, unsigned n,
				      const char *name)
{
	char norm[EAL_DEV_NAME_MAX];

	if (strncmp(name, "vfio-user:", 10) != 0 &&
	    eal_parse_pci_addr(name, norm, sizeof(norm)) == 0)
		name = norm;
	for (unsigned i = 0; i < n; i++)
		if (strcmp(list[i].name, name) == 0)
			return &list[i];
	return NULL;
}

bool pdk_eal_dev_allowed(const char *name)
{
	if (name == NULL)
		return false;
	if (find_dev(eal_cfg.block, eal_cfg.nb_block, name))
		return false;
	if (eal_cfg.nb_allow == 0)
		return true;
	return find_dev(eal_cfg.allow, eal_cfg.nb_allow, name) != NULL;
}

const char *pdk_eal_dev_args(const char *name)
{
	const struct eal_dev *d = find_dev(eal_cfg.allow, eal_cfg.nb_allow, name);

	return d ? d->args : NULL;
}

int pdk_eal_allow_count(void)
{
	return (int)eal_cfg.nb_allow;
}

const char *pdk_eal_allow_name(int i)
{
	return i >= 0 && (unsigned)i < eal_cfg.nb_allow ? eal_cfg.allow[i].name : NULL;
}

const char *pdk_eal_allow_args(int i)
{
	return i >= 0 && (unsigned)i < eal_cfg.nb_allow ? eal_cfg.allow[i].args : NULL;
}

int pdk_eal_vdev_count(void)
{
	return (int)eal_cfg.nb_vdev;
}

const char *pdk_eal_vdev(int i)
{
	return i >= 0 && (unsigned)i < eal_cfg.nb_vdev ? eal_cfg.vdev[i] : NULL;
}

bool pdk_eal_no_pci(void)
{
	return eal_cfg.no_pci;
}

int pdk_pci_addr_parse(const char *s, char *out, size_t outlen)
{
	return eal_parse_pci_addr(s, out, outlen);
}
