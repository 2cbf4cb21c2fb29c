/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * "virtio-net": the model (see pdk_emu_virtio_net.h for the layout). This
 * file declares the device (ids, BAR, traps, MSI-X, the four virtio
 * capabilities), reads the knobs, runs the queues from the device thread's
 * poll and takes faults: link up/down (a configuration change with its
 * interrupt), DEVICE_NEEDS_RESET, malformed used entries.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "virtio_net_private.h"

static const struct pdk_emu_knob vnet_knobs[] = {
	{"wire", "loopback|pair|gen: where sent frames go (gen: receive generated "
		 "frames, count and drop sent ones)", "loopback"},
	{"pair", "NAME: with wire=pair, the other device of the pair has the same NAME", NULL},
	{"mac", "XX:XX:XX:XX:XX:XX: the address (default: from the socket path)", NULL},
	{"queue-pairs", "N: receive/transmit queue pairs, 1..16 (>1 offers MQ and a "
			"control queue)", "1"},
	{"queue-size", "N: largest queue, a power of two 2..32768", "256"},
	{"features-off", "MASK: feature bits not to offer (0x100000000 = VERSION_1)", "0"},
	{"link", "up|down: link status at power on", "up"},
	{"gen-size", "N: wire=gen frame bytes, 14..65535", "64"},
	{"gen-pps", "N: wire=gen frames per second; 0 = as many as the driver takes", "0"},
	{"bad-used", "none|id-range|id-stale|len|mix: malformed used entries to write",
	 "none"},
	{"bad-used-every", "N: one used entry in N is malformed (with bad-used)", "1000"},
	{"bad-used-max", "N: at most N malformed entries; 0 = no limit", "0"},
	{NULL, NULL, NULL},
};

/* What the device offers before features-off (virtio 1.2, 5.1.3, 6). */
#define VNET_OFFER (PDK_VIRTIO_BIT(PDK_VIRTIO_F_VERSION_1) |                  \
		    PDK_VIRTIO_BIT(PDK_VIRTIO_F_ACCESS_PLATFORM) |            \
		    PDK_VIRTIO_BIT(PDK_VIRTIO_F_EVENT_IDX) |                  \
		    PDK_VIRTIO_BIT(PDK_VIRTIO_NET_F_MAC) |                    \
		    PDK_VIRTIO_BIT(PDK_VIRTIO_NET_F_STATUS) |                 \
		    PDK_VIRTIO_BIT(PDK_VIRTIO_NET_F_MRG_RXBUF))
#define VNET_OFFER_MQ (PDK_VIRTIO_BIT(PDK_VIRTIO_NET_F_MQ) |                 \
		       PDK_VIRTIO_BIT(PDK_VIRTIO_NET_F_CTRL_VQ))

void vnet_fail(struct vnet *vn, const char *fmt, ...)
{
	char why[256];
	va_list ap;

	if (vn->failed)
		return;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	VNET_LOG(NOTICE, vn, "DEVICE_NEEDS_RESET: %s", why);
	vn->failed = true;
	vnet_count(&vn->st.needs_reset, 1);
	vnet_ready_update(vn);
	vnet_config_changed(vn);
}

/* 4.1.5.3: configuration changed; tell the driver by the config vector
 * (only once it is running: before DRIVER_OK it reads what it needs). */
void vnet_config_changed(struct vnet *vn)
{
	vn->generation++;
	vn->isr |= PDK_VIRTIO_ISR_CONFIG;
	vnet_devcfg_publish(vn);
	vnet_regs_publish(vn);
	if (!(vn->status & PDK_VIRTIO_STATUS_DRIVER_OK) ||
	    vn->msix_config == PDK_VIRTIO_MSI_NO_VECTOR)
		return;
	if (pdk_emu_irq_raise(vn->dev, vn->msix_config) == 0)
		vnet_count(&vn->st.config_irqs, 1);
}

/* 5.1.2: the control queue follows the pairs, if CTRL_VQ was accepted. */
int vnet_ctrl_vq(const struct vnet *vn)
{
	if (!vnet_has(vn, PDK_VIRTIO_NET_F_CTRL_VQ))
		return -1;
	return vnet_has(vn, PDK_VIRTIO_NET_F_MQ) ? 2 * vn->max_pairs : 2;
}

/* ---- knobs ---- */

static int knob_word(struct pdk_emu_dev *dev, const char *name,
		     const char *const *words, unsigned *out)
{
	const char *v = pdk_emu_dev_knob(dev, name);

	for (unsigned i = 0; v && words[i]; i++)
		if (strcmp(v, words[i]) == 0) {
			*out = i;
			return 0;
		}
	pdk_emu_dev_error(dev, "bad value '%s' for knob '%s': see --help", v ? v : "",
			  name);
	return -EINVAL;
}

static int knob_mac(struct vnet *vn)
{
	const char *v = pdk_emu_dev_knob(vn->dev, "mac");
	const char *sock = pdk_emu_dev_socket(vn->dev);
	unsigned b[6];
	int n = 0;
	uint32_t h = 2166136261u;

	if (v == NULL) { /* 02:50:44:4b (local, "PDK") and a hash of the socket */
		for (const char *p = sock; *p; p++)
			h = (h ^ (uint8_t)*p) * 16777619u;
		memcpy(vn->mac, (uint8_t[]){0x02, 'P', 'D', 'K', (uint8_t)(h >> 8),
					    (uint8_t)h}, 6);
		return 0;
	}
	if (sscanf(v, "%2x:%2x:%2x:%2x:%2x:%2x%n", &b[0], &b[1], &b[2], &b[3], &b[4],
		   &b[5], &n) != 6 || v[n] != '\0' || (b[0] & 1)) {
		pdk_emu_dev_error(vn->dev, "bad value '%s' for knob 'mac': expected a "
				  "unicast XX:XX:XX:XX:XX:XX", v);
		return -EINVAL;
	}
	for (unsigned i = 0; i < 6; i++)
		vn->mac[i] = (uint8_t)b[i];
	return 0;
}

static int knobs_wire(struct vnet *vn)
{
	static const char *const wires[] = {"loopback", "pair", "gen", NULL};
	struct pdk_emu_dev *dev = vn->dev;
	const char *pair = pdk_emu_dev_knob(dev, "pair");
	unsigned w = 0;
	uint64_t size = 0, pps = 0;
	int rc = knob_word(dev, "wire", wires, &w);

	vn->wire = (enum vnet_wire)w;
	if (rc == 0 && vn->wire == VNET_WIRE_PAIR &&
	    (pair == NULL || pair[0] == '\0' || strlen(pair) >= sizeof(vn->pair_name))) {
		pdk_emu_dev_error(dev, "wire=pair needs pair=NAME (under %zu bytes), the "
				  "same on both devices", sizeof(vn->pair_name));
		rc = -EINVAL;
	}
	if (rc == 0 && vn->wire == VNET_WIRE_PAIR)
		snprintf(vn->pair_name, sizeof(vn->pair_name), "%s", pair);
	if (rc == 0)
		rc = pdk_emu_dev_knob_range(dev, "gen-size", VNET_FRAME_MIN, VNET_FRAME_MAX, &size);
	if (rc == 0)
		rc = pdk_emu_dev_knob_range(dev, "gen-pps", 0, 1000000000, &pps);
	vn->gen_size = (uint32_t)size;
	vn->gen_pps = pps;
	return rc;
}

static int knobs_queues(struct vnet *vn)
{
	static const char *const links[] = {"down", "up", NULL};
	uint64_t pairs = 0, qsize = 0, off = 0;
	unsigned link = 1;
	int rc = pdk_emu_dev_knob_range(vn->dev, "queue-pairs", 1, VNET_EMU_PAIRS_MAX, &pairs);

	if (rc == 0)
		rc = pdk_emu_dev_knob_range(vn->dev, "queue-size", 2, PDK_VIRTQ_SIZE_MAX, &qsize);
	if (rc == 0 && !PDK_IS_POWER_OF_2(qsize)) {
		pdk_emu_dev_error(vn->dev, "bad value for knob 'queue-size': a power of two");
		rc = -EINVAL;
	}
	if (rc == 0)
		rc = pdk_emu_dev_knob_range(vn->dev, "features-off", 0, UINT64_MAX, &off);
	if (rc == 0)
		rc = knob_word(vn->dev, "link", links, &link);
	vn->max_pairs = (uint16_t)pairs;
	vn->qsize_max = (uint16_t)qsize;
	vn->offer = (VNET_OFFER | (pairs > 1 ? VNET_OFFER_MQ : 0)) & ~off;
	vn->link_up = link == 1;
	return rc;
}

static int knobs_faults(struct vnet *vn)
{
	static const char *const kinds[] = {"none", "id-range", "id-stale", "len", "mix",
					    NULL};
	unsigned k = 0;
	int rc = knob_word(vn->dev, "bad-used", kinds, &k);

	vn->bad_kind = (enum vnet_bad)k;
	if (rc == 0)
		rc = pdk_emu_dev_knob_range(vn->dev, "bad-used-every", 1, UINT32_MAX, &vn->bad_every);
	if (rc == 0)
		rc = pdk_emu_dev_knob_range(vn->dev, "bad-used-max", 0, UINT64_MAX, &vn->bad_max);
	return rc;
}

/* ---- the device ---- */

static int add_cap(struct pdk_emu_dev *dev, uint8_t type, uint32_t off, uint32_t len,
		   uint32_t mult)
{
	struct pdk_virtio_pci_notify_cap c = {
		.cap = {.cap_len = type == PDK_VIRTIO_PCI_CAP_NOTIFY_CFG ?
				   sizeof(struct pdk_virtio_pci_notify_cap) :
				   sizeof(struct pdk_virtio_pci_cap),
			.cfg_type = type, .bar = VNET_EMU_BAR, .offset = off, .length = len},
		.notify_off_multiplier = mult};
	int rc;

	/* the body follows the id and next bytes the framework writes */
	rc = pdk_emu_dev_add_cap(dev, 0x09, (const uint8_t *)&c + 2, c.cap.cap_len - 2u);
	return rc < 0 ? rc : 0;
}

static int declare(struct vnet *vn)
{
	static const struct pdk_emu_pci_ids ids = {
		.vendor = PDK_VIRTIO_PCI_VENDOR, .device = PDK_VIRTIO_PCI_DEVICE_NET_MODERN,
		.subsys_vendor = PDK_VIRTIO_PCI_VENDOR, .subsys = 0x1100,
		.class_code = 0x020000, .revision = 1};
	struct pdk_emu_dev *dev = vn->dev;
	unsigned nq = vnet_num_queues(vn);
	int rc;

	pdk_emu_dev_set_ids(dev, &ids);
	rc = pdk_emu_dev_add_bar(dev, VNET_EMU_BAR, VNET_EMU_BAR_SIZE, PDK_EMU_BAR_MEM64);
	if (rc == 0)
		rc = pdk_emu_dev_trap(dev, VNET_EMU_BAR, VNET_EMU_COMMON_OFF, 4096);
	if (rc == 0)
		rc = pdk_emu_dev_trap(dev, VNET_EMU_BAR, VNET_EMU_ISR_OFF, 4096);
	/* With traps the BAR is described by sparse areas, and a driver maps
	 * none over the MSI-X table: keep its page (msix=shared; unused with
	 * msix=own) out of them, so the notify and device pages map. */
	if (rc == 0)
		rc = pdk_emu_dev_trap(dev, VNET_EMU_BAR, VNET_EMU_MSIX_SHARED_OFF, 4096);
	if (rc == 0)
		rc = pdk_emu_dev_set_msix(dev, 1 + nq, VNET_EMU_BAR, VNET_EMU_MSIX_SHARED_OFF,
					  VNET_EMU_MSIX_OWN_BAR);
	if (rc == 0)
		rc = add_cap(dev, PDK_VIRTIO_PCI_CAP_COMMON_CFG, VNET_EMU_COMMON_OFF,
			     sizeof(struct pdk_virtio_pci_common_cfg), 0);
	if (rc == 0)
		rc = add_cap(dev, PDK_VIRTIO_PCI_CAP_NOTIFY_CFG, VNET_EMU_NOTIFY_OFF,
			     VNET_EMU_NOTIFY_MULT * nq, VNET_EMU_NOTIFY_MULT);
	if (rc == 0)
		rc = add_cap(dev, PDK_VIRTIO_PCI_CAP_ISR_CFG, VNET_EMU_ISR_OFF, 4, 0);
	if (rc == 0)
		rc = add_cap(dev, PDK_VIRTIO_PCI_CAP_DEVICE_CFG, VNET_EMU_DEVCFG_OFF,
			     sizeof(struct pdk_virtio_net_config), 0);
	return rc;
}

static int alloc_state(struct vnet *vn)
{
	vn->scratch = calloc(2u * vn->qsize_max, sizeof(*vn->scratch));
	vn->seen = calloc(vn->qsize_max, 1);
	vn->pend = calloc(vn->qsize_max, sizeof(*vn->pend));
	vn->frame = calloc(1, VNET_FRAME_MAX);
	if (!vn->scratch || !vn->seen || !vn->pend || !vn->frame)
		return -ENOMEM;
	for (unsigned i = 0; i < vnet_num_queues(vn); i++)
		if ((vn->vq[i].hist = calloc(vn->qsize_max, sizeof(uint32_t))) == NULL)
			return -ENOMEM;
	return 0;
}

/* Generated frames: to our address, from 02:47:45:4e:00:01 ("GEN"),
 * EtherType 0x88b5 (local experimental), then the sequence number and a
 * counting pattern. */
static void gen_template(struct vnet *vn)
{
	static const uint8_t src[6] = {0x02, 'G', 'E', 'N', 0, 1};

	memcpy(vn->frame, vn->mac, 6);
	memcpy(vn->frame + 6, src, 6);
	vn->frame[12] = 0x88;
	vn->frame[13] = 0xb5;
	for (unsigned i = VNET_FRAME_MIN; i < VNET_FRAME_MAX; i++)
		vn->frame[i] = (uint8_t)i;
}

static void vnet_fini(struct pdk_emu_dev *dev)
{
	struct vnet *vn = pdk_emu_dev_priv(dev);

	vnet_wire_detach(vn);
	for (unsigned i = 0; i < VNET_VQ_MAX; i++)
		free(vn->vq[i].hist);
	free(vn->scratch);
	free(vn->seen);
	free(vn->pend);
	free(vn->frame);
}

static int vnet_init(struct pdk_emu_dev *dev)
{
	struct vnet *vn = pdk_emu_dev_priv(dev);
	int rc;

	vn->dev = dev;
	rc = knobs_wire(vn);
	if (rc == 0)
		rc = knobs_queues(vn);
	if (rc == 0)
		rc = knobs_faults(vn);
	if (rc == 0)
		rc = knob_mac(vn);
	if (rc == 0)
		rc = declare(vn);
	if (rc == 0)
		rc = alloc_state(vn);
	if (rc == 0)
		rc = vnet_wire_attach(vn);
	if (rc == 0)
		gen_template(vn);
	else
		vnet_fini(dev); /* the framework calls fini only after a good init */
	return rc;
}

/* Power on, FLR, VFIO reset, client gone (BAR memory already zeroed). */
static void vnet_reset(struct pdk_emu_dev *dev)
{
	struct vnet *vn = pdk_emu_dev_priv(dev);

	vn->bar = pdk_emu_bar_mem(dev, VNET_EMU_BAR);
	vnet_count(&vn->st.resets, 1);
	vnet_regs_reset(vn);
}

/* Frames waiting for a driver that is not there are dropped. */
static void drop_waiting(struct vnet *vn)
{
	struct vnet_frame f;

	while (vnet_wire_peek(vn, &f)) {
		vnet_wire_consume(vn);
		vnet_count(&vn->st.rx_dropped, 1);
	}
}

static int vnet_poll(struct pdk_emu_dev *dev)
{
	struct vnet *vn = pdk_emu_dev_priv(dev);
	int work = 0;

	if (!vnet_driver_ok(vn)) {
		drop_waiting(vn);
		return 0;
	}
	for (unsigned qi = 0; qi < vnet_num_queues(vn); qi++)
		if (vn->vq[qi].enabled)
			vnet_vq_kicked(vn, qi);
	for (unsigned p = 0; p < vn->active_pairs && !vn->failed; p++)
		work += vnet_tx(vn, p);
	if (!vn->failed)
		work += vnet_rx(vn);
	if (!vn->failed)
		work += vnet_ctrl(vn);
	return work > 0;
}

static void vnet_bar_read(struct pdk_emu_dev *dev, unsigned bar, uint64_t off,
			  uint32_t len)
{
	if (bar == VNET_EMU_BAR)
		vnet_regs_read(pdk_emu_dev_priv(dev), off, len);
}

static void vnet_bar_write(struct pdk_emu_dev *dev, unsigned bar, uint64_t off,
			   uint32_t len)
{
	if (bar == VNET_EMU_BAR)
		vnet_regs_write(pdk_emu_dev_priv(dev), off, len);
}

static void set_link(struct vnet *vn, bool up)
{
	if (vn->link_up == up)
		return;
	vn->link_up = up;
	vnet_ready_update(vn);
	vnet_count(&vn->st.link_changes, 1);
	VNET_LOG(NOTICE, vn, "link %s", up ? "up" : "down");
	vnet_config_changed(vn);
}

static int vnet_inject(struct pdk_emu_dev *dev, const char *fault)
{
	static const char *const bad[] = {NULL, "used-id-range", "used-id-stale",
					  "used-len"};
	struct vnet *vn = pdk_emu_dev_priv(dev);

	if (strcmp(fault, "link-down") == 0 || strcmp(fault, "link-up") == 0)
		set_link(vn, fault[5] == 'u');
	else if (strcmp(fault, "link-toggle") == 0)
		set_link(vn, !vn->link_up);
	else if (strcmp(fault, "needs-reset") == 0)
		vnet_fail(vn, "fault injected");
	else {
		for (unsigned k = VNET_BAD_ID_RANGE; k < VNET_BAD_MIX; k++)
			if (strcmp(fault, bad[k]) == 0) {
				vn->bad_pending[k]++;
				return 0;
			}
		return -EINVAL;
	}
	return 0;
}

int pdk_emu_virtio_net_stats(struct pdk_emu_dev *dev,
			     struct pdk_emu_virtio_net_stats *st)
{
	const struct vnet *vn;
	const uint64_t *src;
	uint64_t *dst = (uint64_t *)st;

	if (dev == NULL || st == NULL || dev->model != &emu_model_virtio_net)
		return -EINVAL;
	vn = pdk_emu_dev_priv(dev);
	src = (const uint64_t *)&vn->st;
	for (size_t i = 0; i < sizeof(*st) / sizeof(uint64_t); i++)
		dst[i] = __atomic_load_n(&src[i], __ATOMIC_RELAXED);
	return 0;
}

const struct pdk_emu_model emu_model_virtio_net = {
	.name = "virtio-net",
	.help = "virtio 1.x network device, modern PCI, split queues; wired in "
		"loopback, in pairs or to a generator (faults: link-down, link-up, "
		"link-toggle, needs-reset, used-id-range, used-id-stale, used-len)",
	.knobs = vnet_knobs,
	.priv_size = sizeof(struct vnet),
	.init = vnet_init,
	.fini = vnet_fini,
	.reset = vnet_reset,
	.poll = vnet_poll,
	.bar_read = vnet_bar_read,
	.bar_write = vnet_bar_write,
	.inject = vnet_inject,
};
