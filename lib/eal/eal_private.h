/* SPDX-License-Identifier: BSD-3-Clause */
/* Library-private EAL state: parsed options and the pieces of init. */
#ifndef EAL_PRIVATE_H
#define EAL_PRIVATE_H

#include <inttypes.h>
#include <limits.h>
#include <stdbool.h>
#include <stdint.h>

#include "pdk_eal.h"

#define EAL_LOG "eal"
#define EAL_MAX_DEVS 64
#define EAL_MAX_VDEVS 32
#define EAL_DEV_NAME_MAX 256
#define EAL_DEFAULT_PREFIX "pdk"
#define EAL_DEFAULT_MEM_MB 256
#define EAL_DEFAULT_NOHUGE_MEM_MB 64

struct eal_dev {
	char name[EAL_DEV_NAME_MAX]; /* normalised BDF or vfio-user:path */
	char *args;                  /* text after the first ',' or NULL */
};

struct eal_config {
	/* lcores: lcore id -> cpu (-1 when the lcore is not used) */
	int lcore_cpu[PDK_MAX_LCORES];
	unsigned lcore_count;
	unsigned main_lcore;
	bool main_lcore_set;

	struct eal_dev allow[EAL_MAX_DEVS];
	unsigned nb_allow;
	struct eal_dev block[EAL_MAX_DEVS];
	unsigned nb_block;
	char *vdev[EAL_MAX_VDEVS];
	unsigned nb_vdev;

	uint64_t mem_mb;                        /* -m, 0 = default */
	uint64_t socket_mem_mb[PDK_MAX_NUMA_NODES]; /* --socket-mem */
	bool socket_mem_set;
	bool no_huge;
	bool in_memory;
	bool no_pci;
	char huge_dir[PATH_MAX];
	char file_prefix[64];
	enum pdk_iova_mode iova_mode;           /* requested; DC = auto */
	bool help;
};

/* options.c: parse argv into cfg without side effects (log levels are
 * applied by the caller). Returns the number of arguments consumed or a
 * negative errno, with the reason in err (errlen bytes). */
struct eal_log_rule {
	char pattern[PDK_LOG_COMPONENT_MAX];
	int level;
};
#define EAL_MAX_LOG_RULES 32
struct eal_args {
	struct eal_config cfg;
	struct eal_log_rule log_rules[EAL_MAX_LOG_RULES];
	unsigned nb_log_rules;
};
int eal_parse_args(int argc, char **argv, struct eal_args *out, char *err,
		   size_t errlen);
void eal_args_release(struct eal_args *a);

/* Parse a list of lcores/cpus such as "0-3,5,7-8" into set[] (size max);
 * returns the count or -EINVAL. */
int eal_parse_cpu_list(const char *s, bool *set, unsigned max);

/* Normalise a PCI address ("3:00.0" or "0000:03:00.0") into out (13 bytes
 * "dddd:bb:dd.f"); -EINVAL when malformed. */
int eal_parse_pci_addr(const char *s, char *out, size_t outlen);

/* lcore.c */
int eal_lcores_start(const struct eal_config *cfg, char *err, size_t errlen);
void eal_lcores_stop(void);

/* memory.c */
int eal_memory_init(const struct eal_config *cfg, char *err, size_t errlen);
void eal_memory_cleanup(void);

/* malloc.c: one heap per memory segment. */
int eal_heap_add(int socket, void *va, size_t len);
/* Allocate; `contig` false allows a block across an IOVA discontinuity
 * (PA mode only; what memzones without PDK_MEMZONE_IOVA_CONTIG get). */
void *eal_malloc(const char *type, size_t size, unsigned align, int socket,
		 bool contig);
void eal_heaps_reset(void);

/* memzone.c */
void eal_memzones_reset(void);

/* hugepage.c: hugetlbfs discovery */
struct eal_huge_mount {
	char path[PATH_MAX];
	uint64_t page_size;
};
uint64_t eal_default_hugepage_size(void);
int eal_find_huge_mount(const char *want_dir, uint64_t want_size,
			struct eal_huge_mount *out, char *err, size_t errlen);
/* Free hugepages of `page_size` on NUMA node `node` (-1: whole machine). */
long eal_free_hugepages(uint64_t page_size, int node);

/* bus.c */
int eal_buses_probe(char *err, size_t errlen);
void eal_buses_cleanup(void);

/* Current config (valid after a successful parse in init). */
extern struct eal_config eal_cfg;

#endif /* EAL_PRIVATE_H */
