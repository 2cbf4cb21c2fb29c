/* SPDX-License-Identifier: BSD-3-Clause */
/* lib/emu internals: the device structure and the helpers between files. */
#ifndef EMU_PRIVATE_H
#define EMU_PRIVATE_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <pdk_log.h>
#include <pdk_vfio_user.h>

#include "pdk_emu.h"

#define EMU_LOG(level, dev, fmt, ...) \
	PDK_LOG(level, "emu", "%s: " fmt, (dev)->name, ##__VA_ARGS__)

#define EMU_NUM_BARS 6
#define EMU_TRAPS_MAX 4
#define EMU_KNOBS_MAX 32
#define EMU_CFG_SIZE 4096
#define EMU_MSIX_MAX 2048
#define EMU_PENDING_MAX 8   /* commands queued while waiting for a DMA reply */
#define EMU_BAR_ALIGN 65536 /* BARs sit at 64 KiB offsets in the memfd */

enum emu_msix_layout { EMU_MSIX_SHARED, EMU_MSIX_OWN };
enum emu_msix_mmap { EMU_MMAP_WHOLE, EMU_MMAP_SPARSE, EMU_MMAP_NONE, EMU_MMAP_SLOW };

/* Framework knobs after parsing. */
struct emu_opts {
	char socket[108];
	enum emu_msix_layout msix_layout;
	enum emu_msix_mmap msix_mmap;
	uint64_t page_size;   /* emulated host page size for computed areas */
	unsigned vectors;     /* 0: the model's default */
	uint64_t pgsizes;     /* VERSION pgsizes */
	uint32_t max_dma_maps;
	uint32_t nr_iova_ranges; /* 0: any IOVA */
	struct pdk_vfio_user_iova_range iova_ranges[PDK_VFIO_USER_IOVA_RANGES_MAX];
	uint32_t max_fds;
	uint64_t max_xfer;
	int cpu;              /* -1: not pinned */
	unsigned idle_us;     /* longest idle sleep; 0 = always spin */
	int64_t allones_after_ms; /* -1: off */
	int64_t remove_after_ms;
	unsigned remove_grace_ms;
	int64_t fault_after_ms;
	char fault[32];
};

struct emu_kv {
	char key[32];
	char val[128];
};

struct emu_bar {
	uint64_t size; /* 0: not implemented */
	unsigned flags;
	uint64_t fd_off; /* offset in the device memfd */
	uint8_t *mem;
	unsigned ntraps;
	struct {
		uint64_t off, len;
	} traps[EMU_TRAPS_MAX];
};

struct emu_msix {
	unsigned vectors;
	unsigned bar;
	uint64_t table_off;
	uint64_t pba_off;
	uint8_t cap; /* config offset of the capability, 0 when none */
};

struct emu_vec {
	int fd;
	bool masked;
	bool pending;
};

struct emu_irqs {
	struct emu_vec *msix; /* msix.vectors entries */
	int err_fd;
	int req_fd;
};

struct emu_dma_map {
	uint64_t iova;
	uint64_t size;
	uint64_t offset;
	uint32_t prot; /* VFIO_USER_DMA_F_* */
	int fd;        /* -1: reached through DMA_READ/WRITE messages */
	uint8_t *mem;  /* mmap of fd at offset */
	bool self;     /* fd is this device's BAR memory */
};

struct emu_dma {
	struct emu_dma_map *maps; /* sorted by iova, never overlapping */
	unsigned n;
	unsigned cap;
	uint64_t gen;
	uint64_t fault_iova;
};

struct emu_cfg {
	uint8_t hw[EMU_CFG_SIZE];   /* the device's own registers */
	uint8_t virt[EMU_CFG_SIZE]; /* what the vfio-pci layer shows */
	uint32_t vmask[EMU_CFG_SIZE / 4]; /* bits read from/written to virt */
	uint32_t wmask[EMU_CFG_SIZE / 4]; /* bits the client may write */
	uint8_t init_hw[EMU_CFG_SIZE];
	uint8_t init_virt[EMU_CFG_SIZE];
	unsigned size;     /* 256, or 4096 with the PCIe capability */
	uint8_t next_free; /* where the next capability goes */
	uint8_t last_cap;  /* to chain the next one */
	uint8_t pcie_cap;
};

enum emu_state {
	EMU_ALIVE,
	EMU_DEAD,     /* all-ones fault */
	EMU_REMOVING, /* request IRQ signalled, grace period running */
	EMU_REMOVED,  /* cut off, no new clients */
};

/* A command that arrived while we waited for a DMA_READ/WRITE reply. */
struct emu_pending {
	struct pdk_vfio_user_msg *q[EMU_PENDING_MAX];
	unsigned head;
	unsigned n;
};

struct pdk_emu_dev {
	const struct pdk_emu_model *model;
	void *priv;
	bool model_ready; /* init succeeded: fini is due */
	char name[48];
	char error[512];
	struct emu_opts opts;
	struct emu_kv kv[EMU_KNOBS_MAX];
	unsigned nkv;

	struct pdk_emu_pci_ids ids;
	struct emu_cfg cfg;
	struct emu_bar bars[EMU_NUM_BARS];
	int memfd;
	uint64_t memsize;
	struct emu_msix msix;
	struct emu_irqs irqs;
	struct emu_dma dma;

	/* connection (device thread only) */
	int listen_fd;
	bool socket_ours; /* we created the socket file: remove it at the end */
	int conn_fd;
	bool negotiated;
	struct pdk_vfio_user_caps peer;
	uint16_t next_id;
	struct emu_pending pending;
	enum emu_state state;
	int64_t connected_ms;   /* first negotiated client, for *-after-ms */
	int64_t remove_deadline;
	bool timed_allones, timed_remove, timed_fault;

	/* thread and requests from other threads */
	pthread_t thread;
	bool started;
	int wake_fd;
	atomic_bool stop;
	atomic_uint faults; /* bit per enum pdk_emu_fault */
	pthread_mutex_t lock; /* inject request and stats snapshot */
	pthread_cond_t cond;
	const char *inject_req;
	int inject_rc;
	bool inject_done;
	struct pdk_emu_stats stats;
};

/* emu_knobs.c */
int emu_parse_spec(struct pdk_emu_dev *dev, const char *spec);
int emu_models_check(const struct pdk_emu_model *m);

/* emu_cfg.c */
void emu_cfg_init(struct pdk_emu_dev *dev);
void emu_cfg_ids(struct pdk_emu_dev *dev);
int emu_cfg_add_cap(struct pdk_emu_dev *dev, uint8_t id, const void *body,
		    size_t len, bool pcie_ext);
void emu_cfg_finish(struct pdk_emu_dev *dev);
void emu_cfg_reset(struct pdk_emu_dev *dev);
void emu_cfg_read(struct pdk_emu_dev *dev, uint64_t off, void *buf, uint32_t len);
void emu_cfg_write(struct pdk_emu_dev *dev, uint64_t off, const void *buf,
		   uint32_t len);

/* emu_bar.c */
int emu_bars_setup(struct pdk_emu_dev *dev);
void emu_bars_free(struct pdk_emu_dev *dev);
void emu_bars_reset(struct pdk_emu_dev *dev);
void emu_bars_fill(struct pdk_emu_dev *dev, uint8_t byte);
int emu_region_info(struct pdk_emu_dev *dev, uint32_t index,
		    struct pdk_vfio_user_region *r);
void emu_msix_pba_update(struct pdk_emu_dev *dev, unsigned vec, bool pending);
uint64_t emu_region_size(const struct pdk_emu_dev *dev, uint32_t index);
int emu_region_read(struct pdk_emu_dev *dev, uint32_t index, uint64_t off,
		    void *buf, uint32_t len);
int emu_region_write(struct pdk_emu_dev *dev, uint32_t index, uint64_t off,
		     const void *buf, uint32_t len);

/* emu_dma.c */
int emu_dma_map(struct pdk_emu_dev *dev, const struct vfio_user_dma_map *m,
		int fd);
int emu_dma_unmap(struct pdk_emu_dev *dev, uint64_t iova, uint64_t size);
void emu_dma_clear(struct pdk_emu_dev *dev);

/* emu_irq.c */
int emu_irqs_init(struct pdk_emu_dev *dev);
void emu_irqs_clear(struct pdk_emu_dev *dev);
void emu_irqs_free(struct pdk_emu_dev *dev);
void emu_irqs_reset_pending(struct pdk_emu_dev *dev);
int emu_irq_info(struct pdk_emu_dev *dev, uint32_t index,
		 struct vfio_user_irq_info *info);
int emu_set_irqs(struct pdk_emu_dev *dev, struct pdk_vfio_user_msg *m,
		 const struct vfio_user_irq_set *s, const uint8_t *bools);
int emu_irq_req_signal(struct pdk_emu_dev *dev);

/* emu_server.c */
int emu_listen(struct pdk_emu_dev *dev);
void emu_accept(struct pdk_emu_dev *dev);
int emu_conn_service(struct pdk_emu_dev *dev, int budget);
void emu_conn_close(struct pdk_emu_dev *dev, const char *why);
int emu_request(struct pdk_emu_dev *dev, uint16_t cmd, const void *payload,
		size_t len, const void *data, size_t dlen,
		struct pdk_vfio_user_msg *reply);

/* emu_dev.c */
int64_t emu_now_ms(void);
void emu_reset_function(struct pdk_emu_dev *dev);
void emu_reset_full(struct pdk_emu_dev *dev);
void emu_stat_add(struct pdk_emu_dev *dev, uint64_t *field, uint64_t n);
bool emu_alive(const struct pdk_emu_dev *dev);

/* testdev.c */
extern const struct pdk_emu_model emu_model_testdev;

/* nvme_ctrl.c */
extern const struct pdk_emu_model emu_model_nvme;

/* virtio_net.c */
extern const struct pdk_emu_model emu_model_virtio_net;

#endif /* EMU_PRIVATE_H */
