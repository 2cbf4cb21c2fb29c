/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * The virtio-net model's internals, shared by its files:
 *   virtio_net.c       the model: knobs, capabilities, reset, poll, faults
 *   virtio_net_regs.c  common configuration, ISR, status and features
 *   virtio_net_vq.c    the device side of a split virtqueue, validated
 *   virtio_net_io.c    transmit, receive, the control queue, gen/sink
 *   virtio_net_wire.c  frames between devices: channels and pairs
 * Everything runs on the device's thread except the counters (read by
 * pdk_emu_virtio_net_stats) and the channels (one producer thread, one
 * consumer thread).
 */
#ifndef VIRTIO_NET_PRIVATE_H
#define VIRTIO_NET_PRIVATE_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <pdk_virtio_spec.h>

#include "emu_private.h"
#include "pdk_emu_virtio_net.h"

#define VNET_LOG(level, vn, fmt, ...) \
	PDK_LOG(level, "emu", "%s: " fmt, pdk_emu_dev_name((vn)->dev), ##__VA_ARGS__)

#define VNET_VQ_MAX (2 * VNET_EMU_PAIRS_MAX + 1)
#define VNET_HDR_LEN ((uint32_t)sizeof(struct pdk_virtio_net_hdr))
#define VNET_FRAME_MAX 65535u  /* largest frame carried (no GSO) */
#define VNET_FRAME_MIN 14u     /* an Ethernet header */
#define VNET_BUDGET 64         /* chains per queue per poll */

enum vnet_wire { VNET_WIRE_LOOPBACK, VNET_WIRE_PAIR, VNET_WIRE_GEN };
enum vnet_bad { VNET_BAD_NONE, VNET_BAD_ID_RANGE, VNET_BAD_ID_STALE,
		VNET_BAD_LEN, VNET_BAD_MIX };

/* One buffer of a validated chain. */
struct vnet_seg {
	uint64_t iova;
	uint32_t len;
};

/* A descriptor chain taken from the available ring, checked. */
struct vnet_chain {
	uint16_t head;
	uint32_t nr;        /* readable buffers, then writable ones */
	uint32_t nw;
	uint64_t rlen;      /* bytes readable */
	uint64_t wlen;      /* bytes writable */
	struct vnet_seg *seg; /* nr + nw entries (the device's scratch) */
};

struct vnet_vq {
	/* as the driver programmed it */
	uint16_t size;
	uint16_t msix;
	bool enabled;
	uint64_t desc_iova, avail_iova, used_iova;
	/* the rings, valid while gen equals pdk_emu_dma_gen() */
	uint64_t gen;
	const struct pdk_virtq_desc *desc;
	struct pdk_virtq_avail *avail;
	struct pdk_virtq_used *used;
	/* device state */
	uint16_t last_avail; /* next available entry to take */
	uint16_t used_idx;   /* next used entry to write */
	uint16_t signalled;  /* used_idx when we last decided on an interrupt */
	bool armed;          /* asked the driver for a kick and idle since */
	bool dirty;          /* used entries pushed, index not published */
	uint32_t *hist;      /* ids of the last `size` used entries (faults) */
};

/* A frame on its way between devices. */
struct vnet_frame {
	uint32_t len;
	uint16_t pair;       /* the transmit queue pair it left by */
	const uint8_t *data;
};

struct vnet_chan;

struct vnet {
	struct pdk_emu_dev *dev;
	uint8_t *bar;                 /* BAR memory: the register image */
	/* knobs */
	enum vnet_wire wire;
	char pair_name[64];
	uint8_t mac[6];
	uint16_t max_pairs;
	uint16_t qsize_max;
	uint64_t offer;               /* features offered */
	uint32_t gen_size;
	uint64_t gen_pps;
	enum vnet_bad bad_kind;       /* bad-used knob */
	uint64_t bad_every, bad_max;
	/* device state */
	uint64_t drv_features;
	uint32_t dev_feat_sel, drv_feat_sel;
	uint8_t status;
	uint8_t generation;
	uint8_t isr;
	uint16_t msix_config;
	uint16_t queue_select;
	uint16_t active_pairs;        /* MQ_VQ_PAIRS_SET, 1 otherwise */
	bool link_up;
	bool failed;                  /* NEEDS_RESET set: queues stop */
	struct vnet_vq vq[VNET_VQ_MAX];
	struct vnet_seg *scratch;     /* 2 x qsize_max segments: two chains */
	uint8_t *seen;                /* qsize_max bytes (fault injection) */
	struct vnet_pend {            /* chains of one merged frame */
		uint16_t head;
		uint32_t cap, len;
	} *pend;                      /* qsize_max entries */
	uint8_t *frame;               /* one frame plus header (gen, ctrl) */
	/* wiring */
	struct vnet_chan *tx_chan;    /* we produce */
	struct vnet_chan *rx_chan;    /* we consume */
	int side;                     /* pair: 0 or 1 */
	uint64_t gen_seq;
	int64_t gen_last_ns;
	double gen_tokens;
	/* faults */
	uint64_t used_count;          /* used entries written (for bad-every) */
	unsigned bad_pending[VNET_BAD_MIX]; /* injected, not yet written */
	unsigned bad_next;            /* rotation for mix */
	uint64_t bad_done;
	/* counters: written here, read by other threads (relaxed) */
	struct pdk_emu_virtio_net_stats st;
};

void vnet_wire_set_ready(struct vnet *vn, bool ready);

static inline void vnet_count(uint64_t *c, uint64_t n)
{
	__atomic_fetch_add(c, n, __ATOMIC_RELAXED);
}

static inline bool vnet_driver_ok(const struct vnet *vn)
{
	return (vn->status & PDK_VIRTIO_STATUS_DRIVER_OK) && !vn->failed;
}

static inline bool vnet_has(const struct vnet *vn, unsigned feature)
{
	return vn->drv_features & PDK_VIRTIO_BIT(feature);
}

/* Tell the sender whether we take frames now: as soon as that changes,
 * so that a frame sent after DRIVER_OK or link up is not dropped. */
static inline void vnet_ready_update(struct vnet *vn)
{
	vnet_wire_set_ready(vn, vnet_driver_ok(vn) && vn->link_up);
}

static inline unsigned vnet_num_queues(const struct vnet *vn)
{
	return vn->max_pairs > 1 ? 2u * vn->max_pairs + 1 : 2u;
}

/* virtio_net.c */
void vnet_fail(struct vnet *vn, const char *fmt, ...) PDK_FORMAT(2, 3);
void vnet_config_changed(struct vnet *vn);
int vnet_ctrl_vq(const struct vnet *vn); /* -1 when there is none */

/* virtio_net_regs.c */
void vnet_regs_reset(struct vnet *vn);
void vnet_regs_publish(struct vnet *vn);
void vnet_devcfg_publish(struct vnet *vn);
void vnet_regs_read(struct vnet *vn, uint64_t off, uint32_t len);
void vnet_regs_write(struct vnet *vn, uint64_t off, uint32_t len);

/* virtio_net_vq.c */
void vnet_vq_reset(struct vnet_vq *q);
bool vnet_vq_ready(struct vnet *vn, struct vnet_vq *q);
uint16_t vnet_vq_pending(struct vnet *vn, struct vnet_vq *q);
int vnet_vq_pop(struct vnet *vn, struct vnet_vq *q, struct vnet_chain *c);
void vnet_vq_unpop(struct vnet_vq *q, unsigned n);
void vnet_vq_push(struct vnet *vn, struct vnet_vq *q, uint16_t head, uint64_t cap,
		  uint32_t len);
void vnet_vq_flush(struct vnet *vn, struct vnet_vq *q);
void vnet_vq_busy(struct vnet *vn, struct vnet_vq *q);
bool vnet_vq_idle(struct vnet *vn, struct vnet_vq *q);
unsigned vnet_vq_begin(struct vnet *vn, struct vnet_vq *q);
bool vnet_vq_kicked(struct vnet *vn, unsigned qi);
void vnet_notify_reset(struct vnet *vn);
int vnet_chain_read(struct vnet *vn, const struct vnet_chain *c, uint64_t skip,
		    void *buf, uint32_t len);
int vnet_chain_write(struct vnet *vn, const struct vnet_chain *c, uint64_t off,
		     const void *buf, uint32_t len);

/* virtio_net_io.c */
int vnet_tx(struct vnet *vn, unsigned pair);
int vnet_rx(struct vnet *vn);
int vnet_ctrl(struct vnet *vn);

/* virtio_net_wire.c */
int vnet_wire_attach(struct vnet *vn);
void vnet_wire_detach(struct vnet *vn);
void vnet_wire_reset(struct vnet *vn);
bool vnet_wire_peer_ready(const struct vnet *vn);
uint8_t *vnet_wire_reserve(struct vnet *vn, uint32_t len, uint16_t pair);
void vnet_wire_commit(struct vnet *vn);
bool vnet_wire_peek(struct vnet *vn, struct vnet_frame *f);
void vnet_wire_consume(struct vnet *vn);

#endif /* VIRTIO_NET_PRIVATE_H */
