/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Interrupts: MSI-X vectors through VFIO_DEVICE_SET_IRQS, one eventfd per
 * vector (all created before the call, so none is left unset), and the
 * request and error IRQs on the control thread, turned into application
 * events.
 */
#include <errno.h>
#include <linux/vfio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <unistd.h>

#include "vfio_private.h"

#define MAX_EVENT_CBS 8

static struct {
	pthread_mutex_t lock;
	struct {
		pdk_vfio_event_cb cb;
		void *arg;
	} cbs[MAX_EVENT_CBS];
	int n;
} events = {.lock = PTHREAD_MUTEX_INITIALIZER};

int pdk_vfio_dev_irq_info(const struct pdk_vfio_dev *dev, uint32_t index,
			  struct pdk_vfio_irq_info *out)
{
	if (index >= dev->info.num_irqs)
		return -EINVAL;
	return dev->be->irq_info((struct pdk_vfio_dev *)dev, index, out);
}

static void close_fds(const int32_t *fds, unsigned n)
{
	for (unsigned i = 0; i < n; i++)
		if (fds[i] >= 0)
			close(fds[i]);
}

int pdk_vfio_msix_enable(struct pdk_vfio_dev *dev, unsigned nvec, int *fds)
{
	struct pdk_vfio_irq_info info;
	int32_t *efd;
	int rc;

	if (dev->msix_fds)
		return -EBUSY;
	rc = pdk_vfio_dev_irq_info(dev, PDK_VFIO_PCI_MSIX_IRQ, &info);
	if (rc == 0 && (nvec == 0 || nvec > info.count))
		rc = -EINVAL;
	if (rc < 0) {
		PDK_LOG(ERR, VFIO_LOG, "%s: cannot enable %u MSI-X vectors: the device has %u",
			dev->name, nvec, rc == -EINVAL ? info.count : 0);
		return rc;
	}
	if ((efd = malloc(nvec * sizeof(*efd))) == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i < nvec; i++)
		efd[i] = -1;
	for (unsigned i = 0; i < nvec; i++)
		if ((efd[i] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
			rc = -errno;
			goto fail;
		}
	rc = dev->be->set_irqs(dev, PDK_VFIO_PCI_MSIX_IRQ,
			       VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER, 0, nvec,
			       efd);
	if (rc < 0)
		goto fail;
	dev->msix_fds = efd;
	dev->msix_nvec = nvec;
	for (unsigned i = 0; i < nvec; i++)
		fds[i] = efd[i];
	return 0;

fail:
	PDK_LOG(ERR, VFIO_LOG, "%s: enabling %u MSI-X vectors failed: %s", dev->name, nvec,
		strerror(-rc));
	close_fds(efd, nvec);
	free(efd);
	return rc;
}

int pdk_vfio_msix_disable(struct pdk_vfio_dev *dev)
{
	int rc;

	if (dev->msix_fds == NULL)
		return 0;
	rc = dev->be->set_irqs(dev, PDK_VFIO_PCI_MSIX_IRQ,
			       VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0, NULL);
	if (rc < 0)
		PDK_LOG(ERR, VFIO_LOG, "%s: disabling MSI-X failed: %s", dev->name, strerror(-rc));
	/* the kernel let go of the eventfds either way once the fd closes */
	close_fds(dev->msix_fds, dev->msix_nvec);
	free(dev->msix_fds);
	dev->msix_fds = NULL;
	dev->msix_nvec = 0;
	return rc;
}

/* ----------------------------------------------------- control events -- */

const char *pdk_vfio_event_str(enum pdk_vfio_event ev)
{
	return ev == PDK_VFIO_EVENT_REQUEST ? "request" :
	       ev == PDK_VFIO_EVENT_ERROR ? "error" : "?";
}

int pdk_vfio_event_register(pdk_vfio_event_cb cb, void *arg)
{
	int rc = 0;

	if (cb == NULL)
		return -EINVAL;
	pthread_mutex_lock(&events.lock);
	for (int i = 0; i < events.n; i++)
		if (events.cbs[i].cb == cb && events.cbs[i].arg == arg)
			rc = -EEXIST;
	if (rc == 0 && events.n == MAX_EVENT_CBS)
		rc = -ENOSPC;
	if (rc == 0) {
		events.cbs[events.n].cb = cb;
		events.cbs[events.n++].arg = arg;
	}
	pthread_mutex_unlock(&events.lock);
	return rc;
}

int pdk_vfio_event_unregister(pdk_vfio_event_cb cb, void *arg)
{
	int rc = -ENOENT;

	pthread_mutex_lock(&events.lock);
	for (int i = 0; i < events.n; i++)
		if (events.cbs[i].cb == cb && events.cbs[i].arg == arg) {
			events.cbs[i] = events.cbs[--events.n];
			rc = 0;
			break;
		}
	pthread_mutex_unlock(&events.lock);
	return rc;
}

/* On the control thread: a request or error eventfd fired. */
static void ctl_event(int fd, void *arg)
{
	const struct vfio_ctl_src *src = arg;
	struct pdk_vfio_dev *dev = src->dev;
	enum pdk_vfio_event ev = src->ev;
	uint64_t count;
	int n;

	if (read(fd, &count, sizeof(count)) != sizeof(count))
		return; /* spurious: nothing pending */
	if (ev == PDK_VFIO_EVENT_REQUEST)
		PDK_LOG(NOTICE, VFIO_LOG, "%s: the kernel asks for the device back (unbind or "
			"hot-unplug): close it", dev->name);
	else
		PDK_LOG(ERR, VFIO_LOG, "%s: the device reported an error (AER)", dev->name);
	pthread_mutex_lock(&events.lock);
	n = events.n;
	if (n == 0)
		PDK_LOG(WARNING, VFIO_LOG, "%s: no application callback for %s events "
			"(pdk_vfio_event_register)", dev->name, pdk_vfio_event_str(ev));
	for (int i = 0; i < n; i++) {
		pdk_vfio_event_cb cb = events.cbs[i].cb;
		void *cb_arg = events.cbs[i].arg;

		pthread_mutex_unlock(&events.lock); /* the callback may (un)register */
		cb(dev, ev, cb_arg);
		pthread_mutex_lock(&events.lock);
		n = PDK_MIN(n, events.n);
	}
	pthread_mutex_unlock(&events.lock);
}

/* Watch one of the device's control IRQs; missing ones are not an error. */
static void ctl_irq_setup(struct pdk_vfio_dev *dev, struct vfio_ctl_src *src)
{
	struct pdk_vfio_irq_info info;
	int32_t fd = -1;
	int rc;

	if (src->irq_index >= dev->info.num_irqs)
		return;
	rc = pdk_vfio_dev_irq_info(dev, src->irq_index, &info);
	if (rc == 0 && (info.count == 0 || !(info.flags & PDK_VFIO_IRQ_EVENTFD)))
		return;
	if (rc == 0 && (fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0)
		rc = -errno;
	if (rc == 0)
		rc = dev->be->set_irqs(dev, src->irq_index,
				       VFIO_IRQ_SET_DATA_EVENTFD | VFIO_IRQ_SET_ACTION_TRIGGER,
				       0, 1, &fd);
	if (rc == 0 && (rc = vfio_ctl_add(fd, ctl_event, src)) < 0)
		dev->be->set_irqs(dev, src->irq_index,
				  VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0, NULL);
	if (rc < 0) {
		PDK_LOG(WARNING, VFIO_LOG, "%s: %s events will not be reported: %s", dev->name,
			pdk_vfio_event_str(src->ev), strerror(-rc));
		if (fd >= 0)
			close(fd);
		return;
	}
	src->fd = fd;
}

void vfio_irq_ctl_setup(struct pdk_vfio_dev *dev)
{
	dev->ctl[0] = (struct vfio_ctl_src){dev, PDK_VFIO_EVENT_REQUEST,
					    PDK_VFIO_PCI_REQ_IRQ, -1};
	dev->ctl[1] = (struct vfio_ctl_src){dev, PDK_VFIO_EVENT_ERROR,
					    PDK_VFIO_PCI_ERR_IRQ, -1};
	for (int i = 0; i < 2; i++)
		ctl_irq_setup(dev, &dev->ctl[i]);
}

void vfio_irq_teardown(struct pdk_vfio_dev *dev)
{
	pdk_vfio_msix_disable(dev);
	for (int i = 0; i < 2; i++) {
		struct vfio_ctl_src *src = &dev->ctl[i];

		if (src->fd < 0)
			continue;
		vfio_ctl_del(src->fd); /* waits for a running callback */
		dev->be->set_irqs(dev, src->irq_index,
				  VFIO_IRQ_SET_DATA_NONE | VFIO_IRQ_SET_ACTION_TRIGGER, 0, 0, NULL);
		close(src->fd);
		src->fd = -1;
	}
}
