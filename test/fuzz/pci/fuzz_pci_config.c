/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Fuzz target: config space from a device we do not trust. The input is
 * the first bytes of a 4 KiB config space (the rest zero); the walks must
 * end within their step limits, report only offsets inside the space, and
 * never read outside it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "pdk_pci.h"
#include "../common/fuzz_check.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

struct walk {
	bool ext;
	int n;
};

static int check_cap(const struct pdk_pci_cfg *cfg, uint16_t id, uint8_t version,
		     uint32_t off, void *arg)
{
	struct walk *w = arg;

	(void)version;
	/* a capability outside where it can be, or a hidden one */
	FUZZ_CHECK(off < cfg->size && off >= (w->ext ? 0x100u : 0x40u) && off % 4 == 0);
	FUZZ_CHECK(!w->ext || id != 0);
	w->n++;
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static uint8_t space[PDK_PCI_CFG_EXP_SIZE];
	struct walk std = {false, 0}, ext = {true, 0};
	struct pdk_pci_msix_info m;
	struct pdk_pci_cfg cfg;
	struct pdk_pci_id id;
	int rc;

	memset(space, 0, sizeof(space));
	memcpy(space, data, size < sizeof(space) ? size : sizeof(space));
	/* the first byte picks conventional or express config space */
	pdk_pci_cfg_init_buffer(&cfg, space, size && (data[0] & 1) ? PDK_PCI_CFG_SIZE
							      : PDK_PCI_CFG_EXP_SIZE);
	rc = pdk_pci_cap_foreach(&cfg, check_cap, &std);
	FUZZ_CHECK(rc <= PDK_PCI_STD_CAP_MAX && (rc < 0 || rc == std.n));
	rc = pdk_pci_ext_cap_foreach(&cfg, check_cap, &ext);
	FUZZ_CHECK(rc <= PDK_PCI_EXT_CAP_MAX && (rc < 0 || rc == ext.n));
	if (pdk_pci_msix_info(&cfg, &m) == 0)
		FUZZ_CHECK(m.table_bar <= 5 && m.pba_bar <= 5 && m.nr_vectors >= 1 &&
			   m.nr_vectors <= 2048);
	pdk_pci_id_read(&cfg, &id, NULL);
	pdk_pci_ext_cap_find(&cfg, PDK_PCI_EXT_CAP_ID_SRIOV);
	return 0;
}
