/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Config-space accessors and capability walks. Config space comes from the
 * device, so every value is untrusted: walks are bounded, pointers checked,
 * and an all-ones read means the device has gone away.
 */
#include <endian.h>
#include <errno.h>
#include <string.h>

#include "pdk_log.h"
#include "pdk_pci.h"

#define PCI_LOG "pci"

static int buf_read(void *ctx, void *buf, size_t len, uint32_t off)
{
	memcpy(buf, (const uint8_t *)ctx + off, len);
	return 0;
}

static int buf_write(void *ctx, const void *buf, size_t len, uint32_t off)
{
	memcpy((uint8_t *)ctx + off, buf, len);
	return 0;
}

void pdk_pci_cfg_init_buffer(struct pdk_pci_cfg *cfg, void *buf, uint32_t size)
{
	cfg->read = buf_read;
	cfg->write = buf_write;
	cfg->ctx = buf;
	cfg->size = size;
}

/* Natural alignment and inside the space; the callback never sees more. */
static int cfg_check(const struct pdk_pci_cfg *cfg, uint32_t off, size_t len)
{
	if (cfg == NULL || cfg->read == NULL || off % len != 0 || off >= cfg->size ||
	    cfg->size - off < len)
		return -EINVAL;
	return 0;
}

int pdk_pci_cfg_read8(const struct pdk_pci_cfg *cfg, uint32_t off, uint8_t *val)
{
	int rc = cfg_check(cfg, off, 1);

	return rc ? rc : cfg->read(cfg->ctx, val, 1, off);
}

int pdk_pci_cfg_read16(const struct pdk_pci_cfg *cfg, uint32_t off, uint16_t *val)
{
	uint16_t le;
	int rc = cfg_check(cfg, off, 2);

	if (rc == 0)
		rc = cfg->read(cfg->ctx, &le, 2, off);
	if (rc == 0)
		*val = le16toh(le);
	return rc;
}

int pdk_pci_cfg_read32(const struct pdk_pci_cfg *cfg, uint32_t off, uint32_t *val)
{
	uint32_t le;
	int rc = cfg_check(cfg, off, 4);

	if (rc == 0)
		rc = cfg->read(cfg->ctx, &le, 4, off);
	if (rc == 0)
		*val = le32toh(le);
	return rc;
}

static int cfg_write(const struct pdk_pci_cfg *cfg, uint32_t off, const void *le,
		     size_t len)
{
	int rc = cfg_check(cfg, off, len);

	if (rc)
		return rc;
	if (cfg->write == NULL)
		return -EROFS;
	return cfg->write(cfg->ctx, le, len, off);
}

int pdk_pci_cfg_write8(const struct pdk_pci_cfg *cfg, uint32_t off, uint8_t val)
{
	return cfg_write(cfg, off, &val, 1);
}

int pdk_pci_cfg_write16(const struct pdk_pci_cfg *cfg, uint32_t off, uint16_t val)
{
	uint16_t le = htole16(val);

	return cfg_write(cfg, off, &le, 2);
}

int pdk_pci_cfg_write32(const struct pdk_pci_cfg *cfg, uint32_t off, uint32_t val)
{
	uint32_t le = htole32(val);

	return cfg_write(cfg, off, &le, 4);
}

/* The first standard capability pointer, 0 when there is no list. */
static int std_cap_start(const struct pdk_pci_cfg *cfg, uint32_t *pos)
{
	uint16_t status;
	uint8_t ptr;
	int rc = pdk_pci_cfg_read16(cfg, PDK_PCI_STATUS, &status);

	if (rc)
		return rc;
	if (status == 0xffff)
		return -ENODEV;
	*pos = 0;
	if (!(status & PDK_PCI_STATUS_CAP_LIST))
		return 0;
	rc = pdk_pci_cfg_read8(cfg, PDK_PCI_CAP_PTR, &ptr);
	if (rc == 0)
		*pos = ptr & ~3u; /* low bits reserved: mask, as the spec says */
	return rc;
}

int pdk_pci_cap_foreach(const struct pdk_pci_cfg *cfg, pdk_pci_cap_cb cb, void *arg)
{
	uint32_t pos;
	int n = 0, rc = std_cap_start(cfg, &pos);

	if (rc)
		return rc;
	for (int step = 0; pos >= PDK_PCI_STD_CAP_START; step++) {
		uint16_t ent;

		if (step == PDK_PCI_STD_CAP_MAX) {
			PDK_LOG(DEBUG, PCI_LOG, "capability list longer than %d entries "
				"(a loop?): stopped at 0x%x", PDK_PCI_STD_CAP_MAX, pos);
			break;
		}
		rc = pdk_pci_cfg_read16(cfg, pos, &ent);
		if (rc)
			return rc;
		if (ent == 0xffff)
			return -ENODEV;
		if ((ent & 0xff) == 0xff)
			break; /* not a capability: treat as the end, like Linux */
		n++;
		if (cb && (rc = cb(cfg, ent & 0xff, 0, pos, arg)) != 0)
			return rc;
		pos = (uint32_t)(ent >> 8) & ~3u;
	}
	return n;
}

int pdk_pci_ext_cap_foreach(const struct pdk_pci_cfg *cfg, pdk_pci_cap_cb cb, void *arg)
{
	uint32_t pos = PDK_PCI_EXT_CAP_START;
	int n = 0, rc;

	if (cfg == NULL || cfg->size < PDK_PCI_CFG_EXP_SIZE)
		return 0;
	for (int step = 0; pos >= PDK_PCI_EXT_CAP_START; step++) {
		uint32_t h;

		if (step == PDK_PCI_EXT_CAP_MAX) {
			PDK_LOG(DEBUG, PCI_LOG, "extended capability list longer than %d "
				"entries (a loop?): stopped at 0x%x", PDK_PCI_EXT_CAP_MAX, pos);
			break;
		}
		rc = pdk_pci_cfg_read32(cfg, pos, &h);
		if (rc)
			return rc;
		if (h == 0xffffffff)
			return -ENODEV;
		/* id 0 is a placeholder some devices use to hide a capability:
		 * skip it and follow next */
		if (PDK_PCI_EXT_CAP_ID(h) != 0) {
			n++;
			if (cb && (rc = cb(cfg, PDK_PCI_EXT_CAP_ID(h), PDK_PCI_EXT_CAP_VER(h),
					   pos, arg)) != 0)
				return rc;
		}
		pos = PDK_PCI_EXT_CAP_NEXT(h);
	}
	return n;
}

struct find_arg {
	uint16_t id;
	uint32_t off;
};

static int find_cb(const struct pdk_pci_cfg *cfg, uint16_t id, uint8_t version,
		   uint32_t off, void *arg)
{
	struct find_arg *f = arg;

	(void)cfg;
	(void)version;
	if (id != f->id)
		return 0;
	f->off = off;
	return 1;
}

int pdk_pci_cap_find(const struct pdk_pci_cfg *cfg, uint8_t id)
{
	struct find_arg f = {.id = id};
	int rc = pdk_pci_cap_foreach(cfg, find_cb, &f);

	return rc < 0 ? rc : (f.off ? (int)f.off : -ENOENT);
}

int pdk_pci_ext_cap_find(const struct pdk_pci_cfg *cfg, uint16_t id)
{
	struct find_arg f = {.id = id};
	int rc;

	if (id == 0)
		return -EINVAL;
	rc = pdk_pci_ext_cap_foreach(cfg, find_cb, &f);
	return rc < 0 ? rc : (f.off ? (int)f.off : -ENOENT);
}

int pdk_pci_msix_info(const struct pdk_pci_cfg *cfg, struct pdk_pci_msix_info *info)
{
	uint32_t table, pba;
	uint16_t ctrl;
	int pos = pdk_pci_cap_find(cfg, PDK_PCI_CAP_ID_MSIX);
	int rc;

	if (pos < 0)
		return pos;
	memset(info, 0, sizeof(*info));
	if ((rc = pdk_pci_cfg_read16(cfg, (uint32_t)pos + PDK_PCI_MSIX_FLAGS, &ctrl)) ||
	    (rc = pdk_pci_cfg_read32(cfg, (uint32_t)pos + PDK_PCI_MSIX_TABLE, &table)) ||
	    (rc = pdk_pci_cfg_read32(cfg, (uint32_t)pos + PDK_PCI_MSIX_PBA, &pba)))
		return rc;
	if (ctrl == 0xffff || table == 0xffffffff || pba == 0xffffffff)
		return -ENODEV;
	info->cap_off = (uint32_t)pos;
	info->nr_vectors = (ctrl & PDK_PCI_MSIX_FLAGS_QSIZE) + 1u;
	info->table_bar = table & PDK_PCI_MSIX_BIR_MASK;
	info->table_offset = table & PDK_PCI_MSIX_OFFSET_MASK;
	info->table_size = (uint64_t)info->nr_vectors * PDK_PCI_MSIX_ENTRY_SIZE;
	info->pba_bar = pba & PDK_PCI_MSIX_BIR_MASK;
	info->pba_offset = pba & PDK_PCI_MSIX_OFFSET_MASK;
	info->pba_size = (info->nr_vectors + 63u) / 64u * 8u;
	if (info->table_bar > 5 || info->pba_bar > 5)
		return -EINVAL; /* BIR 6 and 7 are reserved */
	return 0;
}

int pdk_pci_id_read(const struct pdk_pci_cfg *cfg, struct pdk_pci_id *id, uint8_t *revision)
{
	uint32_t rev_class;
	int rc;

	memset(id, 0, sizeof(*id));
	if ((rc = pdk_pci_cfg_read16(cfg, PDK_PCI_VENDOR_ID, &id->vendor_id)) ||
	    (rc = pdk_pci_cfg_read16(cfg, PDK_PCI_DEVICE_ID, &id->device_id)) ||
	    (rc = pdk_pci_cfg_read16(cfg, PDK_PCI_SUBSYS_VENDOR_ID, &id->subsystem_vendor_id)) ||
	    (rc = pdk_pci_cfg_read16(cfg, PDK_PCI_SUBSYS_ID, &id->subsystem_device_id)) ||
	    (rc = pdk_pci_cfg_read32(cfg, PDK_PCI_REVISION_ID, &rev_class)))
		return rc;
	if (id->vendor_id == 0xffff)
		return -ENODEV;
	id->class_id = rev_class >> 8;
	if (revision)
		*revision = (uint8_t)rev_class;
	return 0;
}

static const char *const std_names[] = {
	[PDK_PCI_CAP_ID_PM] = "PM", [PDK_PCI_CAP_ID_AGP] = "AGP",
	[PDK_PCI_CAP_ID_VPD] = "VPD", [PDK_PCI_CAP_ID_SLOTID] = "SlotID",
	[PDK_PCI_CAP_ID_MSI] = "MSI", [PDK_PCI_CAP_ID_PCIX] = "PCI-X",
	[PDK_PCI_CAP_ID_HT] = "HyperTransport", [PDK_PCI_CAP_ID_VNDR] = "Vendor",
	[PDK_PCI_CAP_ID_DBG] = "Debug", [PDK_PCI_CAP_ID_SSVID] = "SubsystemID",
	[PDK_PCI_CAP_ID_EXP] = "PCIe", [PDK_PCI_CAP_ID_MSIX] = "MSI-X",
	[PDK_PCI_CAP_ID_SATA] = "SATA", [PDK_PCI_CAP_ID_AF] = "AF",
	[PDK_PCI_CAP_ID_EA] = "EA",
};

static const char *const ext_names[] = {
	[PDK_PCI_EXT_CAP_ID_ERR] = "AER", [PDK_PCI_EXT_CAP_ID_VC] = "VC",
	[PDK_PCI_EXT_CAP_ID_DSN] = "DSN", [PDK_PCI_EXT_CAP_ID_PWR] = "Power",
	[PDK_PCI_EXT_CAP_ID_VNDR] = "Vendor", [PDK_PCI_EXT_CAP_ID_ACS] = "ACS",
	[PDK_PCI_EXT_CAP_ID_ARI] = "ARI", [PDK_PCI_EXT_CAP_ID_ATS] = "ATS",
	[PDK_PCI_EXT_CAP_ID_SRIOV] = "SR-IOV", [PDK_PCI_EXT_CAP_ID_LTR] = "LTR",
	[PDK_PCI_EXT_CAP_ID_SECPCI] = "SecondaryPCIe", [PDK_PCI_EXT_CAP_ID_PASID] = "PASID",
	[PDK_PCI_EXT_CAP_ID_DLF] = "DLF", [PDK_PCI_EXT_CAP_ID_PL_16GT] = "PL16GT",
};

const char *pdk_pci_cap_name(uint8_t id)
{
	return id < PDK_DIM(std_names) && std_names[id] ? std_names[id] : "?";
}

const char *pdk_pci_ext_cap_name(uint16_t id)
{
	return id < PDK_DIM(ext_names) && ext_names[id] ? ext_names[id] : "?";
}
