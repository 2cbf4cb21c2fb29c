/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Interrupts as vfio-pci offers them: MSI-X vectors, the error IRQ and the
 * request IRQ, each an eventfd the client hands over with SET_IRQS. No
 * INTx and no MSI (their counts are 0). MSI-X vectors can be masked with
 * SET_IRQS ACTION_MASK/UNMASK; a vector raised while masked is pending in
 * the PBA and fires on unmask.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "emu_private.h"

int emu_irqs_init(struct pdk_emu_dev *dev)
{
	dev->irqs.err_fd = dev->irqs.req_fd = -1;
	if (dev->msix.vectors == 0)
		return 0;
	dev->irqs.msix = calloc(dev->msix.vectors, sizeof(*dev->irqs.msix));
	if (dev->irqs.msix == NULL)
		return -ENOMEM;
	for (unsigned i = 0; i < dev->msix.vectors; i++)
		dev->irqs.msix[i].fd = -1;
	return 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0)
		close(*fd);
	*fd = -1;
}

void emu_irqs_reset_pending(struct pdk_emu_dev *dev)
{
	for (unsigned i = 0; i < dev->msix.vectors; i++)
		dev->irqs.msix[i].pending = false;
}

/* The client is gone: its eventfds go, masks return to their reset state. */
void emu_irqs_clear(struct pdk_emu_dev *dev)
{
	for (unsigned i = 0; i < dev->msix.vectors; i++) {
		close_fd(&dev->irqs.msix[i].fd);
		dev->irqs.msix[i].masked = false;
		dev->irqs.msix[i].pending = false;
	}
	close_fd(&dev->irqs.err_fd);
	close_fd(&dev->irqs.req_fd);
}

void emu_irqs_free(struct pdk_emu_dev *dev)
{
	if (dev->irqs.msix)
		emu_irqs_clear(dev);
	else {
		close_fd(&dev->irqs.err_fd);
		close_fd(&dev->irqs.req_fd);
	}
	free(dev->irqs.msix);
	dev->irqs.msix = NULL;
}

int emu_irq_info(struct pdk_emu_dev *dev, uint32_t index,
		 struct vfio_user_irq_info *info)
{
	memset(info, 0, sizeof(*info));
	info->argsz = sizeof(*info);
	info->index = index;
	info->flags = VFIO_IRQ_INFO_EVENTFD;
	switch (index) {
	case VFIO_PCI_INTX_IRQ_INDEX:
		info->flags |= VFIO_IRQ_INFO_MASKABLE | VFIO_IRQ_INFO_AUTOMASKED;
		break; /* interrupt pin 0: no INTx */
	case VFIO_PCI_MSI_IRQ_INDEX:
		info->flags |= VFIO_IRQ_INFO_NORESIZE;
		break;
	case VFIO_PCI_MSIX_IRQ_INDEX:
		info->flags |= VFIO_IRQ_INFO_MASKABLE;
		info->count = dev->msix.vectors;
		break;
	case VFIO_PCI_ERR_IRQ_INDEX:
		info->count = dev->cfg.pcie_cap ? 1 : 0;
		break;
	case VFIO_PCI_REQ_IRQ_INDEX:
		info->count = 1;
		break;
	default:
		return -EINVAL;
	}
	return 0;
}

/* Only eventfds: a pipe handed over as an "eventfd" could block us. */
static bool is_eventfd(int fd)
{
	char path[64], target[64];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/self/fd/%d", fd);
	n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return false;
	target[n] = '\0';
	return strcmp(target, "anon_inode:[eventfd]") == 0;
}

static int signal_fd(struct pdk_emu_dev *dev, int fd)
{
	uint64_t one = 1;

	if (fd < 0) {
		emu_stat_add(dev, &dev->stats.irqs_lost, 1);
		return -ENOENT;
	}
	if (write(fd, &one, sizeof(one)) != (ssize_t)sizeof(one))
		return -errno;
	emu_stat_add(dev, &dev->stats.irqs, 1);
	return 0;
}

int pdk_emu_irq_raise(struct pdk_emu_dev *dev, unsigned vec)
{
	struct emu_vec *v;

	if (vec >= dev->msix.vectors)
		return -EINVAL;
	v = &dev->irqs.msix[vec];
	if (!pdk_emu_dev_bus_master(dev) || !emu_alive(dev)) {
		/* an MSI-X message is a memory write: no bus master, no IRQ */
		emu_stat_add(dev, &dev->stats.irqs_lost, 1);
		return -EPERM;
	}
	if (v->masked) {
		v->pending = true;
		emu_msix_pba_update(dev, vec, true);
		return 0;
	}
	return signal_fd(dev, v->fd);
}

int pdk_emu_irq_error(struct pdk_emu_dev *dev)
{
	return signal_fd(dev, dev->irqs.err_fd);
}

int emu_irq_req_signal(struct pdk_emu_dev *dev)
{
	return signal_fd(dev, dev->irqs.req_fd);
}

/* Take the fds of an EVENTFD request for slots[0..count) (none: remove). */
static int assign_fds(struct pdk_vfio_user_msg *m, int **slots, uint32_t count)
{
	for (unsigned i = 0; i < m->nfds; i++)
		if (!is_eventfd(m->fds[i]))
			return -EINVAL;
	for (uint32_t i = 0; i < count; i++) {
		close_fd(slots[i]);
		*slots[i] = m->nfds ? pdk_vfio_user_msg_take_fd(m, i) : -1;
	}
	return 0;
}

static void msix_unmask(struct pdk_emu_dev *dev, unsigned vec)
{
	struct emu_vec *v = &dev->irqs.msix[vec];

	v->masked = false;
	if (v->pending) {
		v->pending = false;
		emu_msix_pba_update(dev, vec, false);
		signal_fd(dev, v->fd);
	}
}

/* MASK / UNMASK / TRIGGER with NONE or BOOL data on MSI-X vectors. */
static void msix_action(struct pdk_emu_dev *dev, uint32_t action, unsigned vec)
{
	struct emu_vec *v = &dev->irqs.msix[vec];

	if (action == VFIO_IRQ_SET_ACTION_MASK)
		v->masked = true;
	else if (action == VFIO_IRQ_SET_ACTION_UNMASK)
		msix_unmask(dev, vec);
	else
		pdk_emu_irq_raise(dev, vec);
}

static int set_msix(struct pdk_emu_dev *dev, struct pdk_vfio_user_msg *m,
		    const struct vfio_user_irq_set *s, const uint8_t *bools)
{
	uint32_t action = s->flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;
	int *slots[EMU_MSIX_MAX];

	if (s->flags & VFIO_IRQ_SET_DATA_EVENTFD) {
		if (action != VFIO_IRQ_SET_ACTION_TRIGGER)
			return -EINVAL; /* no mask/unmask notification fds */
		for (uint32_t i = 0; i < s->count; i++)
			slots[i] = &dev->irqs.msix[s->start + i].fd;
		return assign_fds(m, slots, s->count);
	}
	for (uint32_t i = 0; i < s->count; i++)
		if (bools == NULL || bools[i])
			msix_action(dev, action, s->start + i);
	return 0;
}

/* The error and request IRQs: one eventfd each, trigger only. */
static int set_single(struct pdk_emu_dev *dev, struct pdk_vfio_user_msg *m,
		      const struct vfio_user_irq_set *s, const uint8_t *bools,
		      int *fd)
{
	uint32_t action = s->flags & VFIO_IRQ_SET_ACTION_TYPE_MASK;

	if (action != VFIO_IRQ_SET_ACTION_TRIGGER)
		return -EINVAL;
	if (s->flags & VFIO_IRQ_SET_DATA_EVENTFD)
		return assign_fds(m, &fd, 1);
	if (bools == NULL || bools[0])
		signal_fd(dev, *fd);
	return 0;
}

/* Disable every interrupt of an index (count 0, DATA_NONE, TRIGGER). */
static int disable_all(struct pdk_emu_dev *dev, uint32_t index)
{
	if (index == VFIO_PCI_MSIX_IRQ_INDEX)
		for (unsigned i = 0; i < dev->msix.vectors; i++)
			close_fd(&dev->irqs.msix[i].fd);
	else if (index == VFIO_PCI_ERR_IRQ_INDEX)
		close_fd(&dev->irqs.err_fd);
	else if (index == VFIO_PCI_REQ_IRQ_INDEX)
		close_fd(&dev->irqs.req_fd);
	return 0;
}

int emu_set_irqs(struct pdk_emu_dev *dev, struct pdk_vfio_user_msg *m,
		 const struct vfio_user_irq_set *s, const uint8_t *bools)
{
	struct vfio_user_irq_info info;

	if (emu_irq_info(dev, s->index, &info))
		return -EINVAL;
	if (s->count == 0)
		return (s->flags & VFIO_IRQ_SET_ACTION_TRIGGER) ?
			       disable_all(dev, s->index) : -EINVAL;
	if (s->start >= info.count || s->count > info.count - s->start)
		return -EINVAL;
	if (s->index == VFIO_PCI_MSIX_IRQ_INDEX)
		return set_msix(dev, m, s, bools);
	return set_single(dev, m, s, bools,
			  s->index == VFIO_PCI_ERR_IRQ_INDEX ? &dev->irqs.err_fd :
							       &dev->irqs.req_fd);
}
