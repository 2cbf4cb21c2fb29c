/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * net_virtio: the PCI driver and its ethdev port. Probe checks the device
 * (modern interface, VERSION_1, how it reaches memory), reads the MAC and
 * the limits, and makes a port; start does the whole initialisation of
 * virtio 1.2, 3.1.1 (reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK,
 * queues, DRIVER_OK) and, with MQ, sets the number of queue pairs through
 * the control queue (5.1.6.5.5); stop resets the device and frees every
 * mbuf the rings held. So stop/start also repairs a queue broken by a
 * malformed used entry.
 *
 * Events arrive on lib/vfio's control thread: configuration changes
 * (MSI-X vector 0: link, DEVICE_NEEDS_RESET) and the request to give the
 * device back (surprise removal). They set port flags that the bursts
 * check, and are logged; link_update reads the link itself.
 */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <pdk_eal.h>
#include <pdk_log.h>

#include "virtio_ethdev.h"

/* What this driver can use (5.1.3, 6). */
#define VNET_WANT (PDK_VIRTIO_BIT(PDK_VIRTIO_F_VERSION_1) |                   \
		   PDK_VIRTIO_BIT(PDK_VIRTIO_F_ACCESS_PLATFORM) |             \
		   PDK_VIRTIO_BIT(PDK_VIRTIO_F_EVENT_IDX) |                   \
		   PDK_VIRTIO_BIT(PDK_VIRTIO_NET_F_MAC) |                     \
		   PDK_VIRTIO_BIT(PDK_VIRTIO_NET_F_STATUS) |                  \
		   PDK_VIRTIO_BIT(PDK_VIRTIO_NET_F_MRG_RXBUF) |               \
		   PDK_VIRTIO_BIT(PDK_VIRTIO_NET_F_MQ) |                      \
		   PDK_VIRTIO_BIT(PDK_VIRTIO_NET_F_CTRL_VQ))
#define CTRL_SIZE 16
#define TX_FLUSH_MS 100
#define VNET_FRAME_PLAIN (PDK_ETHER_HDR_LEN + PDK_ETHER_MTU) /* without MRG_RXBUF */
#define CTRL_TIMEOUT_MS 1000

static struct vnet_dev *devs; /* every attached device, for events */
static pthread_mutex_t devs_lock = PTHREAD_MUTEX_INITIALIZER;

static const struct pdk_eth_dev_ops vnet_ops;

/* ---- the control queue (MQ only) ---- */

static int ctrl_setup(struct vnet_dev *vd, int socket)
{
	uint16_t qi = (uint16_t)(2 * vd->max_pairs);
	uint16_t size = PDK_MIN((uint16_t)CTRL_SIZE, vpci_queue_max(&vd->t, qi));
	struct vnet_queue *q;
	int rc;

	if (vd->ctrl)
		return 0;
	if (!PDK_IS_POWER_OF_2(size) || size < 2) {
		PDK_LOG(ERR, VNET_LOG, "%s: the control queue %u has size %u", vd->name, qi,
			size);
		return -EIO;
	}
	q = calloc(1, sizeof(*q));
	if (q == NULL)
		return -ENOMEM;
	rc = vnet_queue_alloc(q, "ctl", vd->eth->port_id, 0, size, PDK_CACHE_LINE, socket);
	if (rc) {
		free(q);
		return rc;
	}
	q->vq_index = qi;
	vd->ctrl = q;
	vd->ctrl_buf = (uint8_t *)q->mz->addr + q->layout.bytes;
	vd->ctrl_iova = q->iova + q->layout.bytes;
	return 0;
}

static void ctrl_free(struct vnet_dev *vd)
{
	if (vd->ctrl == NULL)
		return;
	vnet_queue_free(vd->ctrl);
	free(vd->ctrl);
	vd->ctrl = NULL;
}

/* Wait for the device to answer the command in ctrl_buf. */
static int ctrl_wait(struct vnet_dev *vd)
{
	struct vq_ring *r = &vd->ctrl->r;
	uint32_t len;

	for (unsigned ms = 0; ms < CTRL_TIMEOUT_MS * 10; ms++) {
		if (vq_used_count(r))
			return vq_get(r, &len) == vd->ctrl_buf ? 0 : -EIO;
		if (r->broken)
			return -EIO;
		usleep(100);
	}
	return -ETIMEDOUT;
}

/* VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET: use `pairs` queue pairs. */
static int ctrl_mq(struct vnet_dev *vd, uint16_t pairs)
{
	struct vq_seg s[2] = {{vd->ctrl_iova, 4, false}, {vd->ctrl_iova + 4, 1, true}};
	uint8_t *b = vd->ctrl_buf;
	int rc;

	b[0] = PDK_VIRTIO_NET_CTRL_MQ;
	b[1] = PDK_VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET;
	b[2] = (uint8_t)pairs;
	b[3] = (uint8_t)(pairs >> 8);
	b[4] = 0xff;
	vq_add(&vd->ctrl->r, b, s, 2, 1);
	vq_publish(&vd->ctrl->r);
	if (vq_kick_needed(&vd->ctrl->r))
		vpci_notify(vd->ctrl->notify_bar, vd->ctrl->notify_off, vd->ctrl->vq_index);
	rc = ctrl_wait(vd);
	if (rc == 0 && __atomic_load_n(&b[4], __ATOMIC_ACQUIRE) != PDK_VIRTIO_NET_OK)
		rc = -EIO;
	if (rc)
		PDK_LOG(ERR, VNET_LOG, "%s: setting %u queue pairs failed: %s", vd->name, pairs,
			rc == -ETIMEDOUT ? "no answer on the control queue" :
			"the device refused or answered nonsense");
	return rc;
}

/* ---- start and stop ---- */

static int negotiate(struct vnet_dev *vd)
{
	uint64_t want = vd->offered & VNET_WANT;
	int rc = vpci_reset(&vd->t);

	if (rc)
		return rc;
	if (!(want & PDK_VIRTIO_BIT(PDK_VIRTIO_NET_F_MQ)) ||
	    !(want & PDK_VIRTIO_BIT(PDK_VIRTIO_NET_F_CTRL_VQ)))
		want &= ~(PDK_VIRTIO_BIT(PDK_VIRTIO_NET_F_MQ) |
			  PDK_VIRTIO_BIT(PDK_VIRTIO_NET_F_CTRL_VQ));
	vpci_status_add(&vd->t, PDK_VIRTIO_STATUS_ACKNOWLEDGE);
	vpci_status_add(&vd->t, PDK_VIRTIO_STATUS_DRIVER);
	rc = vpci_features_set(&vd->t, want);
	if (rc) {
		PDK_LOG(ERR, VNET_LOG, "%s: the device refused features 0x%" PRIx64 " (it "
			"offers 0x%" PRIx64 ")", vd->name, want, vd->offered);
		return rc;
	}
	vd->features = want;
	return 0;
}

static int queues_enable(struct vnet_dev *vd, struct pdk_eth_dev *dev)
{
	int rc = 0;

	for (uint16_t q = 0; q < dev->nb_rxq && rc == 0; q++) {
		struct vnet_rxq *rxq = dev->rxq[q];

		rxq->mrg = vnet_has(vd, PDK_VIRTIO_NET_F_MRG_RXBUF);
		rc = vnet_queue_enable(vd, &rxq->q);
	}
	for (uint16_t q = 0; q < dev->nb_txq && rc == 0; q++)
		rc = vnet_queue_enable(vd, &((struct vnet_txq *)dev->txq[q])->q);
	if (rc == 0 && vnet_has(vd, PDK_VIRTIO_NET_F_MQ)) {
		rc = ctrl_setup(vd, dev->socket);
		if (rc == 0)
			rc = vnet_queue_enable(vd, vd->ctrl);
	}
	for (uint16_t q = 0; q < dev->nb_rxq && rc == 0; q++)
		rc = vnet_rxq_fill(dev->rxq[q]);
	return rc;
}

/* The rings' mbufs back, the rings fresh: the device is reset first. */
static void queues_drain(struct vnet_dev *vd, struct pdk_eth_dev *dev)
{
	for (uint16_t q = 0; q < dev->nb_rxq; q++)
		if (dev->rxq[q])
			vnet_rxq_drain(dev->rxq[q]);
	for (uint16_t q = 0; q < dev->nb_txq; q++)
		if (dev->txq[q])
			vnet_txq_drain(dev->txq[q]);
	if (vd->ctrl)
		vq_ring_reset(&vd->ctrl->r);
}

static void device_quiet(struct vnet_dev *vd, struct pdk_eth_dev *dev)
{
	int rc;

	vd->running = false;
	rc = vpci_reset(&vd->t);
	if (rc && rc != -ENODEV)
		PDK_LOG(WARNING, VNET_LOG, "%s: reset failed (%s); freeing the rings anyway",
			vd->name, strerror(-rc));
	queues_drain(vd, dev);
	dev->link.link_status = PDK_ETH_LINK_DOWN;
}

static int vnet_link_update(struct pdk_eth_dev *dev);

static int vnet_start(struct pdk_eth_dev *dev)
{
	struct vnet_dev *vd = vnet_of(dev);
	int rc;

	if (atomic_load(&vd->flags) & VNET_F_GONE)
		return -ENODEV;
	atomic_fetch_and(&vd->flags, ~(uint32_t)VNET_F_NEEDS_RESET);
	rc = negotiate(vd);
	if (rc == 0 && vd->cfg_fd >= 0 && vpci_config_vector(&vd->t, 0))
		PDK_LOG(NOTICE, VNET_LOG, "%s: the device takes no configuration vector: "
			"link changes are seen only when asked", vd->name);
	if (rc == 0)
		rc = queues_enable(vd, dev);
	if (rc == 0) {
		vpci_status_add(&vd->t, PDK_VIRTIO_STATUS_DRIVER_OK);
		if (vpci_status(&vd->t) & PDK_VIRTIO_STATUS_NEEDS_RESET)
			rc = -EIO;
	}
	vd->nb_pairs = PDK_MAX(dev->nb_rxq, dev->nb_txq);
	if (rc == 0 && vnet_has(vd, PDK_VIRTIO_NET_F_MQ) && vd->nb_pairs > 1)
		rc = ctrl_mq(vd, vd->nb_pairs);
	if (rc) {
		PDK_LOG(ERR, VNET_LOG, "%s: start failed: %s (device status 0x%x)", vd->name,
			strerror(-rc), vpci_status(&vd->t));
		device_quiet(vd, dev);
		return rc;
	}
	for (uint16_t q = 0; q < dev->nb_rxq; q++) { /* the buffers are there */
		struct vnet_rxq *rxq = dev->rxq[q];

		vpci_notify(rxq->q.notify_bar, rxq->q.notify_off, rxq->q.vq_index);
	}
	vd->running = true;
	return vnet_link_update(dev);
}

/* Let the device send what it took (bounded): a reset would drop it, and
 * opackets counts what the driver accepted. */
static void tx_flush(struct vnet_dev *vd, struct pdk_eth_dev *dev)
{
	bool busy = true;

	if (atomic_load(&vd->flags))
		return; /* gone or broken: nothing will complete */
	for (unsigned t = 0; busy && t < TX_FLUSH_MS * 10; t++) {
		busy = false;
		for (uint16_t q = 0; q < dev->nb_txq; q++) {
			struct vnet_txq *txq = dev->txq[q];

			vnet_txq_reclaim(txq);
			busy |= txq->q.r.inflight && !txq->q.r.broken;
		}
		if (busy)
			usleep(100);
	}
}

static int vnet_stop(struct pdk_eth_dev *dev)
{
	tx_flush(vnet_of(dev), dev);
	device_quiet(vnet_of(dev), dev);
	return 0;
}

static void vnet_close(struct pdk_eth_dev *dev)
{
	struct vnet_dev *vd = vnet_of(dev);

	vpci_reset(&vd->t);
	ctrl_free(vd);
	vd->eth = NULL;
}

/* ---- link and events ---- */

/* DEVICE_NEEDS_RESET (or all-ones: gone): stop the bursts, say so once. */
static void check_status(struct vnet_dev *vd)
{
	uint8_t s = vpci_status(&vd->t);

	if (s == 0xff || !(s & PDK_VIRTIO_STATUS_NEEDS_RESET) ||
	    (atomic_fetch_or(&vd->flags, VNET_F_NEEDS_RESET) & VNET_F_NEEDS_RESET))
		return;
	atomic_fetch_add(&vd->needs_reset, 1);
	PDK_LOG(ERR, VNET_LOG, "%s: the device set DEVICE_NEEDS_RESET: the port's queues "
		"stop; stop and start the port to reset it", vd->name);
}

static bool link_is_up(struct vnet_dev *vd)
{
	uint16_t st;

	if (!vnet_has(vd, PDK_VIRTIO_NET_F_STATUS))
		return true; /* 5.1.4: no STATUS, the link is assumed up */
	if (vpci_cfg_read(&vd->t, PDK_VIRTIO_NET_CFG_OFF(status), &st, sizeof(st)))
		return false;
	return st & PDK_VIRTIO_NET_S_LINK_UP;
}

static int vnet_link_update(struct pdk_eth_dev *dev)
{
	struct vnet_dev *vd = vnet_of(dev);
	bool up = vd->running && !(atomic_load(&vd->flags) & VNET_F_GONE) && link_is_up(vd);

	if (vd->running)
		check_status(vd);
	if (up != (dev->link.link_status == PDK_ETH_LINK_UP)) {
		vd->link_changes++;
		PDK_LOG(INFO, VNET_LOG, "%s: link %s", vd->name, up ? "up" : "down");
	}
	dev->link = (struct pdk_eth_link){.link_speed = PDK_ETH_SPEED_NUM_UNKNOWN,
					  .link_duplex = PDK_ETH_LINK_FULL_DUPLEX,
					  .link_status = up ? PDK_ETH_LINK_UP : PDK_ETH_LINK_DOWN};
	return 0;
}

/* MSI-X vector 0 fired (control thread): a configuration change. */
static void cfg_irq(int fd, void *arg)
{
	struct vnet_dev *vd = arg;
	uint64_t n;

	if (read(fd, &n, sizeof(n)) != (ssize_t)sizeof(n))
		return;
	atomic_fetch_add(&vd->cfg_irqs, 1);
	check_status(vd);
	PDK_LOG(INFO, VNET_LOG, "%s: configuration changed: link %s", vd->name,
		link_is_up(vd) ? "up" : "down");
}

/* The kernel or the server wants the device back (control thread). */
static void vfio_event(struct pdk_vfio_dev *vdev, enum pdk_vfio_event ev, void *arg)
{
	(void)arg;
	pthread_mutex_lock(&devs_lock);
	for (struct vnet_dev *vd = devs; vd; vd = vd->next) {
		if (vd->pdev->vdev != vdev)
			continue;
		if (ev == PDK_VFIO_EVENT_REQUEST) {
			atomic_fetch_or(&vd->flags, VNET_F_GONE);
			atomic_fetch_add(&vd->removed, 1);
		}
		PDK_LOG(ERR, VNET_LOG, "%s: %s: the port's queues stop; close the port to "
			"let the device go", vd->name, pdk_vfio_event_str(ev));
	}
	pthread_mutex_unlock(&devs_lock);
}

/* ---- ethdev ops ---- */

static void vnet_dev_info(struct pdk_eth_dev *dev, struct pdk_eth_dev_info *info)
{
	const struct vnet_dev *vd = vnet_of(dev);
	bool mrg = vd->offered & PDK_VIRTIO_BIT(PDK_VIRTIO_NET_F_MRG_RXBUF);

	info->max_rx_queues = info->max_tx_queues = vd->max_pairs;
	info->rx_desc_lim = (struct pdk_eth_desc_lim){
		vd->qsize_max, PDK_MIN((uint16_t)VNET_DESC_MIN, vd->qsize_max), 1};
	info->tx_desc_lim = info->rx_desc_lim;
	info->default_rxd = info->default_txd = vd->qsize_max;
	info->min_rx_bufsize = mrg ? 64 : VNET_FRAME_PLAIN;
	info->max_rx_pktlen = mrg ? VNET_MAX_PKTLEN : VNET_FRAME_PLAIN;
	info->speed_capa = PDK_ETH_SPEED_NUM_UNKNOWN;
}

/*
 * Without CTRL_RX (not negotiated) there is no filter to open: the
 * devices we know (QEMU, which starts promiscuous, and pdk-emud) deliver
 * every frame. Turning it off cannot be asked for.
 */
static int vnet_promiscuous_set(struct pdk_eth_dev *dev, bool on)
{
	(void)dev;
	return on ? 0 : -ENOTSUP;
}

static void vnet_stats_add(struct pdk_eth_dev *dev, struct pdk_eth_stats *s)
{
	(void)dev;
	(void)s; /* every error is counted per queue already */
}

static const struct pdk_eth_dev_ops vnet_ops = {
	.dev_info = vnet_dev_info,
	.rx_queue_setup = vnet_rxq_setup,
	.tx_queue_setup = vnet_txq_setup,
	.rx_queue_release = vnet_rxq_release,
	.tx_queue_release = vnet_txq_release,
	.start = vnet_start,
	.stop = vnet_stop,
	.close = vnet_close,
	.link_update = vnet_link_update,
	.promiscuous_set = vnet_promiscuous_set,
	.stats_add = vnet_stats_add,
};

/* ---- extended counters ---- */

static void add_ring(const struct vq_ring *r, uint64_t *idx, uint64_t *id, uint64_t *stale,
		     uint64_t *len, struct pdk_eth_virtio_xstats *x)
{
	*idx += vq_counter(&r->st.bad_idx);
	*id += vq_counter(&r->st.bad_id);
	*stale += vq_counter(&r->st.bad_stale);
	*len += vq_counter(&r->st.bad_len);
	x->kicks += vq_counter(&r->st.kicks);
	x->kicks_saved += vq_counter(&r->st.kicks_saved);
	x->queues_broken += vq_ring_broken(r);
}

int pdk_eth_virtio_xstats_get(uint16_t port, struct pdk_eth_virtio_xstats *x)
{
	struct pdk_eth_dev *dev = pdk_eth_dev_get(port);
	const struct vnet_dev *vd;

	if (dev == NULL || x == NULL)
		return dev ? -EINVAL : -ENODEV;
	if (dev->ops != &vnet_ops)
		return -EINVAL;
	vd = vnet_of(dev);
	memset(x, 0, sizeof(*x));
	for (uint16_t q = 0; q < dev->nb_rxq; q++) {
		const struct vnet_rxq *rxq = dev->rxq[q];

		if (rxq == NULL)
			continue;
		add_ring(&rxq->q.r, &x->rx_bad_used_idx, &x->rx_bad_used_id,
			 &x->rx_bad_used_stale, &x->rx_bad_used_len, x);
		x->rx_bad_hdr += vq_counter(&rxq->bad_hdr);
		x->rx_short += vq_counter(&rxq->short_len);
	}
	for (uint16_t q = 0; q < dev->nb_txq; q++) {
		const struct vnet_txq *txq = dev->txq[q];

		if (txq == NULL)
			continue;
		add_ring(&txq->q.r, &x->tx_bad_used_idx, &x->tx_bad_used_id,
			 &x->tx_bad_used_stale, &x->tx_bad_used_len, x);
		x->tx_too_many_segs += vq_counter(&txq->too_many_segs);
	}
	x->config_irqs = atomic_load(&vd->cfg_irqs);
	x->needs_reset = atomic_load(&vd->needs_reset);
	x->removed = atomic_load(&vd->removed);
	x->link_changes = vd->link_changes;
	x->features = vd->features;
	x->queue_pairs = dev->started ? vd->nb_pairs : 0;
	x->max_queue_pairs = vd->max_pairs;
	return 0;
}

/* ---- the PCI driver ---- */

/* The device reaches memory by physical address unless it offers
 * ACCESS_PLATFORM (6: then through the IOMMU, by IOVA). A vfio-user
 * server always sees IOVAs; behind the kernel's IOMMU that holds only when
 * IOVAs are physical addresses. */
static int check_addressing(struct vnet_dev *vd)
{
	if (vd->offered & PDK_VIRTIO_BIT(PDK_VIRTIO_F_ACCESS_PLATFORM) ||
	    strcmp(pdk_vfio_dev_backend(vd->pdev->vdev), "kernel") != 0)
		return 0;
	vd->phys_addrs = true;
	if (pdk_eal_iova_mode() == PDK_IOVA_PA)
		return 0;
	PDK_LOG(ERR, VNET_LOG, "%s: the device does not offer VIRTIO_F_ACCESS_PLATFORM, so "
		"it reads memory by physical address and bypasses the IOMMU: run with "
		"--iova-mode pa, or give the device the IOMMU (QEMU: "
		"disable-legacy=on,iommu_platform=on)", vd->name);
	return -ENOTSUP;
}

static int read_limits(struct vnet_dev *vd)
{
	uint16_t pairs = 1;

	if ((vd->offered & PDK_VIRTIO_BIT(PDK_VIRTIO_NET_F_MQ)) &&
	    (vd->offered & PDK_VIRTIO_BIT(PDK_VIRTIO_NET_F_CTRL_VQ)) &&
	    vpci_cfg_read(&vd->t, PDK_VIRTIO_NET_CFG_OFF(max_virtqueue_pairs), &pairs,
			  sizeof(pairs)) == 0)
		pairs = PDK_MAX((uint16_t)1, PDK_MIN(pairs, (uint16_t)PDK_ETH_MAX_QUEUES));
	vd->max_pairs = pairs;
	vd->qsize_max = vpci_queue_max(&vd->t, 0);
	if (vd->qsize_max & (vd->qsize_max - 1)) /* a power of two we can use */
		vd->qsize_max = (uint16_t)(pdk_align64pow2(vd->qsize_max) >> 1);
	if (vd->qsize_max < 2 || vpci_queue_max(&vd->t, 1) < vd->qsize_max) {
		PDK_LOG(ERR, VNET_LOG, "%s: queues 0 and 1 have sizes %u and %u: unusable",
			vd->name, vpci_queue_max(&vd->t, 0), vpci_queue_max(&vd->t, 1));
		return -EIO;
	}
	return 0;
}

/* Look at the device: modern, VERSION_1, addressing, limits. */
static int inspect(struct vnet_dev *vd)
{
	int rc = vpci_init(&vd->t, vd->pdev->vdev, vd->name);

	if (rc == 0)
		rc = vpci_reset(&vd->t);
	if (rc)
		return rc;
	vpci_status_add(&vd->t, PDK_VIRTIO_STATUS_ACKNOWLEDGE | PDK_VIRTIO_STATUS_DRIVER);
	vd->offered = vpci_features(&vd->t);
	if (!(vd->offered & PDK_VIRTIO_BIT(PDK_VIRTIO_F_VERSION_1))) {
		PDK_LOG(ERR, VNET_LOG, "%s: the device does not offer VIRTIO_F_VERSION_1 "
			"(features 0x%" PRIx64 "): legacy devices are not supported", vd->name,
			vd->offered);
		return -ENOTSUP;
	}
	rc = check_addressing(vd);
	if (rc == 0) /* queues are discovered after FEATURES_OK (3.1.1) */
		rc = negotiate(vd);
	if (rc == 0)
		rc = read_limits(vd);
	return rc;
}

static void mac_get(struct vnet_dev *vd, struct pdk_ether_addr *mac)
{
	uint32_t h = 2166136261u;

	if ((vd->offered & PDK_VIRTIO_BIT(PDK_VIRTIO_NET_F_MAC)) &&
	    vpci_cfg_read(&vd->t, PDK_VIRTIO_NET_CFG_OFF(mac), mac->addr_bytes, 6) == 0)
		return;
	for (const char *p = vd->name; *p; p++) /* local, from the device name */
		h = (h ^ (uint8_t)*p) * 16777619u;
	*mac = (struct pdk_ether_addr){{0x02, 'V', 'N', (uint8_t)(h >> 16), (uint8_t)(h >> 8),
					(uint8_t)h}};
}

/* MSI-X vector 0 for configuration changes, watched on the control
 * thread. Without it the driver still works: link_update reads. */
static void irq_setup(struct vnet_dev *vd)
{
	int rc = pdk_vfio_msix_enable(vd->pdev->vdev, 1, &vd->cfg_fd);

	if (rc == 0 && (rc = pdk_vfio_ctl_fd_register(vd->cfg_fd, cfg_irq, vd)) != 0)
		pdk_vfio_msix_disable(vd->pdev->vdev);
	if (rc) {
		vd->cfg_fd = -1;
		PDK_LOG(NOTICE, VNET_LOG, "%s: no configuration interrupt (%s)", vd->name,
			strerror(-rc));
	}
}

static void irq_teardown(struct vnet_dev *vd)
{
	if (vd->cfg_fd < 0)
		return;
	pdk_vfio_ctl_fd_unregister(vd->cfg_fd);
	pdk_vfio_msix_disable(vd->pdev->vdev);
	vd->cfg_fd = -1;
}

static void list_add(struct vnet_dev *vd)
{
	bool first;

	pthread_mutex_lock(&devs_lock);
	first = devs == NULL;
	vd->next = devs;
	devs = vd;
	pthread_mutex_unlock(&devs_lock);
	if (first && pdk_vfio_event_register(vfio_event, NULL) < 0)
		PDK_LOG(NOTICE, VNET_LOG, "%s: surprise removal will not be reported", vd->name);
}

static void list_del(struct vnet_dev *vd)
{
	bool last;

	pthread_mutex_lock(&devs_lock);
	for (struct vnet_dev **pp = &devs; *pp; pp = &(*pp)->next)
		if (*pp == vd) {
			*pp = vd->next;
			break;
		}
	last = devs == NULL;
	pthread_mutex_unlock(&devs_lock);
	if (last) /* outside devs_lock: a running callback may hold it */
		pdk_vfio_event_unregister(vfio_event, NULL);
}

static int make_port(struct vnet_dev *vd)
{
	struct pdk_eth_dev *dev = pdk_eth_dev_allocate(vd->name, VNET_DRV, &vnet_ops,
						       sizeof(struct vnet_port),
						       vd->pdev->numa_node);

	if (dev == NULL)
		return -errno;
	((struct vnet_port *)dev->priv)->vd = vd;
	vd->eth = dev;
	dev->rx_burst = vnet_rx_burst;
	dev->tx_burst = vnet_tx_burst;
	mac_get(vd, &dev->mac_addr);
	pdk_eth_dev_probing_finish(dev);
	PDK_LOG(INFO, VNET_LOG, "%s: port %u, features 0x%" PRIx64 ", %u queue pair(s) of "
		"up to %u descriptors%s", vd->name, dev->port_id, vd->offered, vd->max_pairs,
		vd->qsize_max, vd->phys_addrs ? ", physical addresses" : "");
	return 0;
}

static void port_name(struct vnet_dev *vd)
{
	static _Atomic unsigned counter;
	const char *name = vd->pdev->name;

	size_t len = strlen(name);

	if (len < sizeof(vd->name))
		memcpy(vd->name, name, len + 1);
	else /* a long socket path */
		snprintf(vd->name, sizeof(vd->name), "net_virtio%u", atomic_fetch_add(&counter, 1));
}

static void vd_free(struct vnet_dev *vd)
{
	irq_teardown(vd);
	free(vd);
}

static int vnet_probe(struct pdk_pci_device *pdev)
{
	struct vnet_dev *vd = calloc(1, sizeof(*vd));
	int rc;

	if (vd == NULL)
		return -ENOMEM;
	vd->pdev = pdev;
	vd->cfg_fd = -1;
	port_name(vd);
	rc = inspect(vd);
	if (rc == 0)
		rc = vpci_reset(&vd->t); /* quiet until the port starts */
	if (rc == 0) {
		irq_setup(vd);
		rc = make_port(vd);
	}
	if (rc) {
		vd_free(vd);
		return rc;
	}
	pdev->driver_data = vd;
	list_add(vd);
	return 0;
}

static void vnet_remove(struct pdk_pci_device *pdev)
{
	struct vnet_dev *vd = pdev->driver_data;

	if (vd == NULL)
		return;
	list_del(vd);
	if (vd->eth) /* the application did not close it */
		pdk_eth_dev_close(vd->eth->port_id);
	vd_free(vd);
	pdev->driver_data = NULL;
}

static const struct pdk_pci_id vnet_ids[] = {
	{PDK_PCI_DEVICE(PDK_VIRTIO_PCI_VENDOR, PDK_VIRTIO_PCI_DEVICE_NET_MODERN)},
	/* transitional: used through its modern capabilities (QEMU's default) */
	{PDK_PCI_DEVICE(PDK_VIRTIO_PCI_VENDOR, PDK_VIRTIO_PCI_DEVICE_NET_TRANSITIONAL)},
	{.vendor_id = 0},
};

static const struct pdk_pci_driver vnet_pci_driver = {
	.name = VNET_DRV,
	.id_table = vnet_ids,
	.probe = vnet_probe,
	.remove = vnet_remove,
};
PDK_PCI_DRIVER_REGISTER(vnet_pci_driver)
