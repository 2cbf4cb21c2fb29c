/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * PCI configuration space layout: register offsets, bits and capability
 * structures. All fields are little-endian on the wire; read them through
 * the pdk_pci_cfg accessors, which convert.
 *
 * References: PCI Local Bus Specification 3.0 (PCI LB 3.0), PCI Express Base
 * Specification 4.0 (PCIe 4.0).
 */
#ifndef PDK_PCI_SPEC_H
#define PDK_PCI_SPEC_H

#include <assert.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Sizes of conventional and PCI Express configuration space. */
#define PDK_PCI_CFG_SIZE      256
#define PDK_PCI_CFG_EXP_SIZE  4096

/* Type 0 header registers (PCI LB 3.0 section 6.1, figure 6-1). */
#define PDK_PCI_VENDOR_ID        0x00
#define PDK_PCI_DEVICE_ID        0x02
#define PDK_PCI_COMMAND          0x04
#define PDK_PCI_STATUS           0x06
#define PDK_PCI_REVISION_ID      0x08
#define PDK_PCI_CLASS_PROG       0x09 /* programming interface, then sub, base */
#define PDK_PCI_HEADER_TYPE      0x0e
#define PDK_PCI_BAR0             0x10
#define PDK_PCI_SUBSYS_VENDOR_ID 0x2c
#define PDK_PCI_SUBSYS_ID        0x2e
#define PDK_PCI_CAP_PTR          0x34
#define PDK_PCI_INTERRUPT_LINE   0x3c

/* Command register bits (PCI LB 3.0 section 6.2.2). */
#define PDK_PCI_COMMAND_IO            0x0001
#define PDK_PCI_COMMAND_MEMORY        0x0002
#define PDK_PCI_COMMAND_MASTER        0x0004
#define PDK_PCI_COMMAND_INTX_DISABLE  0x0400

/* Status register bits (PCI LB 3.0 section 6.2.3). */
#define PDK_PCI_STATUS_CAP_LIST       0x0010

/* The standard capability list lives above the header and below 0x100; each
 * entry is [id:8][next:8]. Pointers have their low two bits reserved
 * (PCI LB 3.0 section 6.7: "software must mask these bits off"). */
#define PDK_PCI_STD_CAP_START   0x40
#define PDK_PCI_STD_CAP_MAX     48  /* (256 - 64) / 4: more is a loop */

/* Standard capability ids (PCI Code and ID Assignment spec, section 2). */
#define PDK_PCI_CAP_ID_PM       0x01
#define PDK_PCI_CAP_ID_AGP      0x02
#define PDK_PCI_CAP_ID_VPD      0x03
#define PDK_PCI_CAP_ID_SLOTID   0x04
#define PDK_PCI_CAP_ID_MSI      0x05
#define PDK_PCI_CAP_ID_PCIX     0x07
#define PDK_PCI_CAP_ID_HT       0x08
#define PDK_PCI_CAP_ID_VNDR     0x09
#define PDK_PCI_CAP_ID_DBG      0x0a
#define PDK_PCI_CAP_ID_SSVID    0x0d
#define PDK_PCI_CAP_ID_EXP      0x10
#define PDK_PCI_CAP_ID_MSIX     0x11
#define PDK_PCI_CAP_ID_SATA     0x12
#define PDK_PCI_CAP_ID_AF       0x13
#define PDK_PCI_CAP_ID_EA       0x14

/* Extended capabilities start at 0x100; each header is
 * [id:16][version:4][next:12] (PCIe 4.0 section 7.6.3). */
#define PDK_PCI_EXT_CAP_START   0x100
#define PDK_PCI_EXT_CAP_MAX     480 /* (4096 - 256) / 8: more is a loop */
#define PDK_PCI_EXT_CAP_ID(h)   ((uint16_t)((h) & 0xffff))
#define PDK_PCI_EXT_CAP_VER(h)  ((uint8_t)(((h) >> 16) & 0xf))
#define PDK_PCI_EXT_CAP_NEXT(h) ((uint16_t)(((h) >> 20) & 0xffc))

/* Extended capability ids (PCI Code and ID Assignment spec, section 3). */
#define PDK_PCI_EXT_CAP_ID_ERR    0x0001 /* Advanced Error Reporting */
#define PDK_PCI_EXT_CAP_ID_VC     0x0002
#define PDK_PCI_EXT_CAP_ID_DSN    0x0003
#define PDK_PCI_EXT_CAP_ID_PWR    0x0004
#define PDK_PCI_EXT_CAP_ID_VNDR   0x000b
#define PDK_PCI_EXT_CAP_ID_ACS    0x000d
#define PDK_PCI_EXT_CAP_ID_ARI    0x000e
#define PDK_PCI_EXT_CAP_ID_ATS    0x000f
#define PDK_PCI_EXT_CAP_ID_SRIOV  0x0010
#define PDK_PCI_EXT_CAP_ID_LTR    0x0018
#define PDK_PCI_EXT_CAP_ID_SECPCI 0x0019
#define PDK_PCI_EXT_CAP_ID_PASID  0x001b
#define PDK_PCI_EXT_CAP_ID_DLF    0x0025
#define PDK_PCI_EXT_CAP_ID_PL_16GT 0x0026

/* MSI-X capability (PCI LB 3.0 section 6.8.2). */
#define PDK_PCI_MSIX_FLAGS        2      /* message control, 16 bits */
#define PDK_PCI_MSIX_FLAGS_QSIZE  0x07ff /* table size - 1 */
#define PDK_PCI_MSIX_FLAGS_MASKALL 0x4000
#define PDK_PCI_MSIX_FLAGS_ENABLE 0x8000
#define PDK_PCI_MSIX_TABLE        4      /* offset | BIR */
#define PDK_PCI_MSIX_PBA          8      /* offset | BIR */
#define PDK_PCI_MSIX_BIR_MASK     0x7
#define PDK_PCI_MSIX_OFFSET_MASK  0xfffffff8u
#define PDK_PCI_MSIX_ENTRY_SIZE   16

/* The type 0 configuration header, as laid out on the wire. */
struct pdk_pci_type0_header {
	uint16_t vendor_id;
	uint16_t device_id;
	uint16_t command;
	uint16_t status;
	uint8_t revision_id;
	uint8_t class_code[3]; /* prog-if, sub-class, base class */
	uint8_t cache_line_size;
	uint8_t latency_timer;
	uint8_t header_type;
	uint8_t bist;
	uint32_t bar[6];
	uint32_t cardbus_cis;
	uint16_t subsystem_vendor_id;
	uint16_t subsystem_id;
	uint32_t rom_bar;
	uint8_t cap_ptr;
	uint8_t reserved[7];
	uint8_t interrupt_line;
	uint8_t interrupt_pin;
	uint8_t min_gnt;
	uint8_t max_lat;
};
/* PCI LB 3.0 figure 6-1: the header is 64 bytes. */
static_assert(sizeof(struct pdk_pci_type0_header) == 64, "type 0 header");

/* The MSI-X capability structure (PCI LB 3.0 figure 6-10). */
struct pdk_pci_msix_cap {
	uint8_t cap_id;
	uint8_t next;
	uint16_t msg_ctrl;
	uint32_t table;     /* offset | BIR */
	uint32_t pba;       /* offset | BIR */
};
static_assert(sizeof(struct pdk_pci_msix_cap) == 12, "MSI-X capability");

/* One MSI-X table entry (PCI LB 3.0 figure 6-11). */
struct pdk_pci_msix_entry {
	uint32_t addr_lo;
	uint32_t addr_hi;
	uint32_t data;
	uint32_t vector_ctrl;
};
static_assert(sizeof(struct pdk_pci_msix_entry) == PDK_PCI_MSIX_ENTRY_SIZE,
	      "MSI-X table entry");

#ifdef __cplusplus
}
#endif
#endif /* PDK_PCI_SPEC_H */
