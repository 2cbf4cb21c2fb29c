/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Config space, virtualised the way vfio-pci does it (seed 003): two copies
 * of the registers and two masks per dword.
 *   hw    the device's own registers (COMMAND.Bus Master gates DMA),
 *   virt  what the vfio-pci layer shows instead (BAR addresses, the memory
 *         and I/O enables, MSI-X enable, interrupt line),
 *   vmask bits read from and written to `virt` rather than `hw`,
 *   wmask bits the client may write; writes to other bits are dropped.
 * BAR registers are masked on write, as hardware does, so sizing (write
 * all-ones, read back) needs nothing special on read. The masks are built
 * by code from the pci_regs.h names, not from a table of magic numbers.
 */
#include <errno.h>
#include <string.h>
#include <linux/pci_regs.h>

#include "emu_private.h"

#define CAP_PM_LEN PCI_PM_SIZEOF
#define CAP_MSIX_LEN PCI_CAP_MSIX_SIZEOF
#define CAP_EXP_LEN 0x3c /* version 2 endpoint, rounded to a dword */

static void put16(uint8_t *p, unsigned off, uint16_t v)
{
	p[off] = (uint8_t)v;
	p[off + 1] = (uint8_t)(v >> 8);
}

static void put32(uint8_t *p, unsigned off, uint32_t v)
{
	for (unsigned i = 0; i < 4; i++)
		p[off + i] = (uint8_t)(v >> (8 * i));
}

static uint32_t get32(const uint8_t *p, unsigned off)
{
	return (uint32_t)p[off] | (uint32_t)p[off + 1] << 8 |
	       (uint32_t)p[off + 2] << 16 | (uint32_t)p[off + 3] << 24;
}

/* Mark the `size`-byte field at `off` as virtualised / writable. */
static void perm(struct emu_cfg *c, unsigned off, unsigned size, uint32_t virt,
		 uint32_t write)
{
	uint32_t field = size == 4 ? 0xffffffffu : (1u << (8 * size)) - 1;
	unsigned sh = (off & 3) * 8;

	c->vmask[off / 4] |= (virt & field) << sh;
	c->wmask[off / 4] |= (write & field) << sh;
}

/* The identity registers, from dev->ids (pdk_emu_dev_set_ids). */
void emu_cfg_ids(struct pdk_emu_dev *dev)
{
	const struct pdk_emu_pci_ids *id = &dev->ids;
	uint8_t *hw = dev->cfg.hw;

	put16(hw, PCI_VENDOR_ID, id->vendor);
	put16(hw, PCI_DEVICE_ID, id->device);
	put32(hw, PCI_CLASS_REVISION, id->class_code << 8 | id->revision);
	put16(hw, PCI_SUBSYSTEM_VENDOR_ID, id->subsys_vendor);
	put16(hw, PCI_SUBSYSTEM_ID, id->subsys);
}

static void header_init(struct pdk_emu_dev *dev)
{
	struct emu_cfg *c = &dev->cfg;
	const uint16_t cmd_w = PCI_COMMAND_IO | PCI_COMMAND_MEMORY |
			       PCI_COMMAND_MASTER | PCI_COMMAND_PARITY |
			       PCI_COMMAND_SERR | PCI_COMMAND_INTX_DISABLE;
	const uint16_t cmd_v = PCI_COMMAND_IO | PCI_COMMAND_MEMORY |
			       PCI_COMMAND_INTX_DISABLE;

	emu_cfg_ids(dev);
	c->hw[PCI_HEADER_TYPE] = PCI_HEADER_TYPE_NORMAL;
	c->virt[PCI_INTERRUPT_LINE] = 0xff;
	/* the enables are the vfio layer's business, Bus Master the device's */
	perm(c, PCI_COMMAND, 2, cmd_v, cmd_w);
	perm(c, PCI_CACHE_LINE_SIZE, 1, 0xff, 0xff);
	perm(c, PCI_LATENCY_TIMER, 1, 0xff, 0xff);
	for (unsigned off = PCI_BASE_ADDRESS_0; off <= PCI_BASE_ADDRESS_5; off += 4)
		perm(c, off, 4, 0xffffffff, 0xffffffff);
	perm(c, PCI_ROM_ADDRESS, 4, 0xffffffff, 0xffffffff);
	perm(c, PCI_INTERRUPT_LINE, 1, 0xff, 0xff);
}

int emu_cfg_add_cap(struct pdk_emu_dev *dev, uint8_t id, const void *body,
		    size_t len, bool pcie)
{
	struct emu_cfg *c = &dev->cfg;
	unsigned off = c->next_free;

	if (len > 0x100 - 2 || off + 2 + len > 0x100)
		return -ENOSPC;
	c->hw[off] = id;
	c->hw[off + PCI_CAP_LIST_NEXT] = 0;
	if (len)
		memcpy(&c->hw[off + 2], body, len);
	if (c->last_cap)
		c->hw[c->last_cap + PCI_CAP_LIST_NEXT] = (uint8_t)off;
	else
		c->hw[PCI_CAPABILITY_LIST] = (uint8_t)off;
	c->hw[PCI_STATUS] |= PCI_STATUS_CAP_LIST;
	c->last_cap = (uint8_t)off;
	c->next_free = (uint8_t)PDK_ALIGN_CEIL(off + 2 + len, 4u);
	if (pcie) {
		c->pcie_cap = (uint8_t)off;
		c->size = EMU_CFG_SIZE;
	}
	return (int)off;
}

static void pm_cap_add(struct pdk_emu_dev *dev)
{
	uint8_t body[CAP_PM_LEN - 2] = {0};
	int off;

	put16(body, PCI_PM_PMC - 2, 3); /* PM spec 1.2 */
	off = emu_cfg_add_cap(dev, PCI_CAP_ID_PM, body, sizeof(body), false);
	if (off > 0)
		perm(&dev->cfg, (unsigned)off + PCI_PM_CTRL, 2,
		     PCI_PM_CTRL_STATE_MASK, PCI_PM_CTRL_STATE_MASK);
}

static void exp_cap_add(struct pdk_emu_dev *dev)
{
	uint8_t body[CAP_EXP_LEN - 2] = {0};
	unsigned base;
	int off;

	put16(body, PCI_EXP_FLAGS - 2, 2 | PCI_EXP_TYPE_ENDPOINT << 4);
	put32(body, PCI_EXP_DEVCAP - 2, PCI_EXP_DEVCAP_FLR);
	put16(body, PCI_EXP_DEVCTL - 2, 0x2810); /* MRRS 512, RO, no-snoop */
	put32(body, PCI_EXP_LNKCAP - 2, 0x11);   /* 2.5 GT/s x1 */
	put16(body, PCI_EXP_LNKSTA - 2, 0x11);
	off = emu_cfg_add_cap(dev, PCI_CAP_ID_EXP, body, sizeof(body), true);
	if (off < 0)
		return;
	base = (unsigned)off;
	/* Device Control is the device's, except Initiate FLR (acted upon) */
	perm(&dev->cfg, base + PCI_EXP_DEVCTL, 2, PCI_EXP_DEVCTL_BCR_FLR, 0xffff);
	perm(&dev->cfg, base + PCI_EXP_LNKCTL, 2, 0, 0xffff);
	perm(&dev->cfg, base + PCI_EXP_DEVCTL2, 2, 0, 0xffff);
}

void emu_cfg_init(struct pdk_emu_dev *dev)
{
	memset(&dev->cfg, 0, sizeof(dev->cfg));
	dev->cfg.size = 256;
	dev->cfg.next_free = 0x40;
	header_init(dev);
	pm_cap_add(dev);
	exp_cap_add(dev);
}

static void msix_cap_add(struct pdk_emu_dev *dev)
{
	const struct emu_msix *x = &dev->msix;
	uint8_t body[CAP_MSIX_LEN - 2] = {0};
	int off;

	put16(body, PCI_MSIX_FLAGS - 2, (uint16_t)(x->vectors - 1));
	put32(body, PCI_MSIX_TABLE - 2, (uint32_t)x->table_off | x->bar);
	put32(body, PCI_MSIX_PBA - 2, (uint32_t)x->pba_off | x->bar);
	off = emu_cfg_add_cap(dev, PCI_CAP_ID_MSIX, body, sizeof(body), false);
	if (off < 0)
		return;
	dev->msix.cap = (uint8_t)off;
	/* vfio-pci enables MSI-X itself on SET_IRQS: the bits are virtual */
	perm(&dev->cfg, (unsigned)off + PCI_MSIX_FLAGS, 2,
	     PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL,
	     PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
}

/* What a BAR register reads as once masked: address bits and type. */
static uint32_t bar_reg(const struct pdk_emu_dev *dev, unsigned slot,
			uint32_t written)
{
	const struct emu_bar *b = &dev->bars[slot];
	uint64_t mask;

	if (slot > 0 && dev->bars[slot - 1].size &&
	    (dev->bars[slot - 1].flags & PDK_EMU_BAR_MEM64)) {
		mask = ~(dev->bars[slot - 1].size - 1);
		return written & (uint32_t)(mask >> 32);
	}
	if (b->size == 0)
		return 0;
	mask = ~(b->size - 1);
	return (written & (uint32_t)mask & ~0xfu) |
	       (b->flags & PDK_EMU_BAR_MEM64 ? PCI_BASE_ADDRESS_MEM_TYPE_64 : 0) |
	       (b->flags & PDK_EMU_BAR_PREFETCH ? PCI_BASE_ADDRESS_MEM_PREFETCH : 0);
}

static void bars_fixup(struct pdk_emu_dev *dev)
{
	struct emu_cfg *c = &dev->cfg;

	for (unsigned s = 0; s < EMU_NUM_BARS; s++) {
		unsigned off = PCI_BASE_ADDRESS_0 + 4 * s;

		put32(c->virt, off, bar_reg(dev, s, get32(c->virt, off)));
	}
	put32(c->virt, PCI_ROM_ADDRESS, 0); /* no expansion ROM */
}

/* After the model's init: MSI-X capability, BAR types, reset image. */
void emu_cfg_finish(struct pdk_emu_dev *dev)
{
	struct emu_cfg *c = &dev->cfg;

	if (dev->msix.vectors)
		msix_cap_add(dev);
	bars_fixup(dev);
	memcpy(c->init_hw, c->hw, sizeof(c->hw));
	memcpy(c->init_virt, c->virt, sizeof(c->virt));
}

void emu_cfg_reset(struct pdk_emu_dev *dev)
{
	memcpy(dev->cfg.hw, dev->cfg.init_hw, sizeof(dev->cfg.hw));
	memcpy(dev->cfg.virt, dev->cfg.init_virt, sizeof(dev->cfg.virt));
}

void emu_cfg_read(struct pdk_emu_dev *dev, uint64_t off, void *buf,
		  uint32_t len)
{
	const struct emu_cfg *c = &dev->cfg;
	uint8_t *out = buf;

	for (uint32_t i = 0; i < len; i++) {
		uint64_t o = off + i;
		uint8_t vm = (uint8_t)(c->vmask[o / 4] >> ((o & 3) * 8));

		out[i] = (uint8_t)((c->hw[o] & ~vm) | (c->virt[o] & vm));
	}
	if (!emu_alive(dev))
		memset(buf, 0xff, len); /* a device that is gone reads all-ones */
}

/* Side effects of a write that touched [off, off+len). */
static void after_write(struct pdk_emu_dev *dev, uint64_t off, uint32_t len,
			uint8_t old_cmd)
{
	struct emu_cfg *c = &dev->cfg;
	unsigned flr = c->pcie_cap + PCI_EXP_DEVCTL + 1; /* byte with FLR */

	if (off < PCI_ROM_ADDRESS + 4 && off + len > PCI_BASE_ADDRESS_0)
		bars_fixup(dev);
	if ((old_cmd ^ c->hw[PCI_COMMAND]) & PCI_COMMAND_MASTER)
		EMU_LOG(INFO, dev, "bus master %s",
			c->hw[PCI_COMMAND] & PCI_COMMAND_MASTER ? "on" : "off");
	if (c->pcie_cap && off <= flr && off + len > flr &&
	    (c->virt[flr] & (PCI_EXP_DEVCTL_BCR_FLR >> 8))) {
		c->virt[flr] &= (uint8_t)~(PCI_EXP_DEVCTL_BCR_FLR >> 8);
		EMU_LOG(INFO, dev, "function level reset");
		emu_reset_function(dev);
	}
}

void emu_cfg_write(struct pdk_emu_dev *dev, uint64_t off, const void *buf,
		   uint32_t len)
{
	struct emu_cfg *c = &dev->cfg;
	const uint8_t *in = buf;
	uint8_t old_cmd = c->hw[PCI_COMMAND];

	if (!emu_alive(dev))
		return;
	for (uint32_t i = 0; i < len; i++) {
		uint64_t o = off + i;
		unsigned sh = (o & 3) * 8;
		uint8_t vm = (uint8_t)(c->vmask[o / 4] >> sh);
		uint8_t wm = (uint8_t)(c->wmask[o / 4] >> sh);

		c->hw[o] = (uint8_t)((c->hw[o] & ~(wm & ~vm)) | (in[i] & wm & ~vm));
		c->virt[o] = (uint8_t)((c->virt[o] & ~(wm & vm)) | (in[i] & wm & vm));
	}
	after_write(dev, off, len, old_cmd);
}
