/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Physical Region Page entries (NVMe 1.4, 4.3): PRP1 points at the first
 * byte (any dword-aligned offset in its page), every further entry at the
 * start of a memory page. Two pages fit in PRP1/PRP2; more need a list,
 * and PRP2 points at it. One list page per command is enough here: the
 * driver's transfer limit keeps every command within it.
 *
 * Each page is translated on its own, so this works whether the buffer's
 * IOVAs are contiguous (IOVA = VA, or one segment) or not (PA mode).
 */
#include <errno.h>

#include "nvme_internal.h"

/* IOVA of va, which must keep va's offset in its memory page: a PRP entry
 * only describes whole pages after the first. */
static int prp_entry(const void *va, uint32_t page, nvme_v2i_fn v2i, uint64_t *out)
{
	pdk_iova_t iova = v2i(va);

	if (iova == PDK_BAD_IOVA)
		return -EINVAL;
	if ((iova & (page - 1)) != ((uintptr_t)va & (page - 1)))
		return -EINVAL;
	*out = iova;
	return 0;
}

int nvme_prp_build(struct pdk_nvme_cmd *cmd, const void *buf, uint32_t len,
		   uint32_t page, uint64_t *list, pdk_iova_t list_iova,
		   uint32_t list_max, nvme_v2i_fn v2i)
{
	uintptr_t va = (uintptr_t)buf;
	uint32_t first, rest, n;
	uint64_t e;

	if (len == 0 || (va & 3) != 0 || !PDK_IS_POWER_OF_2(page))
		return -EINVAL;
	if (prp_entry(buf, page, v2i, &cmd->prp1) < 0)
		return -EINVAL;
	first = page - (uint32_t)(va & (page - 1));
	cmd->prp2 = 0;
	if (len <= first)
		return 0;
	rest = len - first;
	va += first;
	n = (rest + page - 1) / page;
	if (n == 1)
		return prp_entry((const void *)va, page, v2i, &cmd->prp2);
	if (n > list_max)
		return -E2BIG;
	for (uint32_t i = 0; i < n; i++) {
		if (prp_entry((const void *)(va + (uintptr_t)i * page), page, v2i, &e) < 0)
			return -EINVAL;
		list[i] = e; /* little-endian hosts only (see pdk_nvme_spec.h) */
	}
	cmd->prp2 = list_iova;
	return 0;
}
