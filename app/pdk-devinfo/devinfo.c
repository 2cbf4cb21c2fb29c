/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pdk-devinfo: what PDK sees of one device, through the same interface
 * drivers use (so a vfio-user device will show the same way): regions and
 * their capabilities, the BAR mapping plan and why, config-space
 * capabilities, IRQs, the IOMMU (IOVA ranges, mappings left, page sizes),
 * the IOMMU group and its members, and slow BAR access counts.
 *
 * The device is opened without mapping DMA memory and no register is read
 * (reads can have side effects); only config space is.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#include <pdk_log.h>
#include <pdk_pci.h>

#include "devinfo.h"

#define MAX_CAPS 64
#define MAX_MEMBERS 32

struct cap {
	uint32_t off;
	uint16_t id;
	uint8_t version;
};

struct caps {
	struct cap c[MAX_CAPS];
	int n;
};

struct report {
	struct pdk_vfio_dev *dev;
	struct pdk_vfio_dev_info info;
	struct pdk_pci_device pci;       /* sysfs view (kernel devices) */
	bool have_sysfs;
	struct pdk_pci_id id;
	uint8_t revision;
	bool have_id;
	struct pdk_vfio_region regions[PDK_VFIO_PCI_CONFIG_REGION + 1];
	int nregions;
	struct pdk_vfio_plan plans[PDK_VFIO_PCI_BAR_COUNT];
	struct caps std, ext;
	bool has_msix;
	struct pdk_pci_msix_info msix;
	struct pdk_vfio_irq_info irqs[PDK_VFIO_PCI_NUM_IRQS];
	int nirqs;
	struct pdk_vfio_iommu_info iommu;
	bool have_iommu;
	struct pdk_pci_group_member members[MAX_MEMBERS];
	int nmembers;
	struct pdk_vfio_dev_stats stats;
};

static const char *const region_names[] = {"BAR0", "BAR1", "BAR2", "BAR3", "BAR4",
					   "BAR5", "ROM", "CONFIG"};
static const char *const irq_names[] = {"INTx", "MSI", "MSI-X", "ERR", "REQ"};

/* ------------------------------------------------------------ gather -- */

static int add_cap(const struct pdk_pci_cfg *cfg, uint16_t id, uint8_t version,
		   uint32_t off, void *arg)
{
	struct caps *c = arg;

	(void)cfg;
	if (c->n < MAX_CAPS)
		c->c[c->n++] = (struct cap){off, id, version};
	return 0;
}

static void gather_config(struct report *r)
{
	const struct pdk_pci_cfg *cfg = pdk_vfio_dev_cfg(r->dev);

	r->have_id = pdk_pci_id_read(cfg, &r->id, &r->revision) == 0;
	pdk_pci_cap_foreach(cfg, add_cap, &r->std);
	pdk_pci_ext_cap_foreach(cfg, add_cap, &r->ext);
	r->has_msix = pdk_pci_msix_info(cfg, &r->msix) == 0;
}

static void gather(struct report *r)
{
	pdk_vfio_dev_info(r->dev, &r->info);
	r->have_sysfs = strcmp(pdk_vfio_dev_backend(r->dev), "kernel") == 0 &&
			pdk_pci_device_read(pdk_vfio_dev_name(r->dev), &r->pci) == 0;
	for (uint32_t i = 0; i < PDK_DIM(r->regions); i++)
		if (pdk_vfio_dev_region(r->dev, i, &r->regions[i]) == 0)
			r->nregions = (int)i + 1;
	for (uint32_t i = 0; i < PDK_VFIO_PCI_BAR_COUNT; i++)
		pdk_vfio_dev_plan(r->dev, i, &r->plans[i]);
	gather_config(r);
	for (uint32_t i = 0; i < PDK_VFIO_PCI_NUM_IRQS; i++)
		if (pdk_vfio_dev_irq_info(r->dev, i, &r->irqs[i]) == 0)
			r->nirqs = (int)i + 1;
	r->have_iommu = pdk_vfio_domain_info(pdk_vfio_dev_domain(r->dev), &r->iommu) == 0;
	if (r->info.iommu_group >= 0)
		r->nmembers = PDK_MIN(pdk_pci_group_members(r->info.iommu_group, r->members,
							    MAX_MEMBERS), MAX_MEMBERS);
	pdk_vfio_dev_stats(r->dev, &r->stats);
}

/* ------------------------------------------------------------- words -- */

static const char *size_str(uint64_t v, char *buf, size_t len)
{
	static const char *const unit[] = {"B", "KiB", "MiB", "GiB", "TiB"};
	int u = 0;

	while (u < 4 && v >= 1024 && v % 1024 == 0) {
		v /= 1024;
		u++;
	}
	snprintf(buf, len, "%" PRIu64 " %s", v, unit[u]);
	return buf;
}

static const char *region_flags(const struct pdk_vfio_region *g, char *buf, size_t len)
{
	snprintf(buf, len, "%s%s%s", g->flags & PDK_VFIO_REGION_READ ? "read " : "",
		 g->flags & PDK_VFIO_REGION_WRITE ? "write " : "",
		 g->flags & PDK_VFIO_REGION_MMAP ? "mmap " : "");
	if (buf[0])
		buf[strlen(buf) - 1] = '\0';
	return buf;
}

/* Capability names of a region, comma-separated, as in the JSON list. */
static int region_caps(const struct pdk_vfio_region *g, const char *out[4])
{
	int n = 0;

	if (g->flags & PDK_VFIO_REGION_MSIX_MAPPABLE)
		out[n++] = "msix-mappable";
	if (g->flags & PDK_VFIO_REGION_SPARSE)
		out[n++] = "sparse-mmap";
	if (g->flags & PDK_VFIO_REGION_SPARSE_BAD)
		out[n++] = "sparse-mmap(unusable)";
	if (g->flags & PDK_VFIO_REGION_TYPE)
		out[n++] = "type";
	return n;
}

static int irq_flags(uint32_t f, const char *out[4])
{
	int n = 0;

	if (f & PDK_VFIO_IRQ_EVENTFD)
		out[n++] = "eventfd";
	if (f & PDK_VFIO_IRQ_MASKABLE)
		out[n++] = "maskable";
	if (f & PDK_VFIO_IRQ_AUTOMASKED)
		out[n++] = "automasked";
	if (f & PDK_VFIO_IRQ_NORESIZE)
		out[n++] = "noresize";
	return n;
}

static const char *cap_name(const struct cap *c, bool ext)
{
	return ext ? pdk_pci_ext_cap_name(c->id) : pdk_pci_cap_name((uint8_t)c->id);
}

/* ------------------------------------------------------------- table -- */

static void table_device(const struct report *r, FILE *out)
{
	fprintf(out, "Device %s (%s backend)\n", pdk_vfio_dev_name(r->dev),
		pdk_vfio_dev_backend(r->dev));
	if (r->have_id)
		fprintf(out, "  ids          %04x:%04x  subsystem %04x:%04x  class %06x  rev %02x\n",
			r->id.vendor_id, r->id.device_id, r->id.subsystem_vendor_id,
			r->id.subsystem_device_id, r->id.class_id, r->revision);
	if (r->have_sysfs)
		fprintf(out, "  driver       %s  NUMA node %d\n", r->pci.kdriver, r->pci.numa_node);
	fprintf(out, "  reset        %s\n", r->info.flags & PDK_VFIO_DEV_RESET ? "yes" : "no");
	fprintf(out, "  page size    %" PRIu64 " bytes (the BAR plans use it)\n",
		r->info.page_size);
}

static void table_regions(const struct report *r, FILE *out)
{
	char sz[32], fl[32], line[512];

	fprintf(out, "\nRegions\n  %-6s %-10s %-16s %s\n", "region", "size", "flags",
		"capabilities");
	for (int i = 0; i < r->nregions; i++) {
		const struct pdk_vfio_region *g = &r->regions[i];
		const char *caps[4];
		int n = region_caps(g, caps);
		size_t used;

		if (g->size == 0)
			continue;
		used = (size_t)snprintf(line, sizeof(line), "  %-6s %-10s %-16s", region_names[i],
					size_str(g->size, sz, sizeof(sz)),
					region_flags(g, fl, sizeof(fl)));
		for (int c = 0; c < n && used < sizeof(line); c++)
			used += (size_t)snprintf(line + used, sizeof(line) - used, "%s%s",
						 c ? ", " : " ", caps[c]);
		for (uint32_t a = 0; (g->flags & PDK_VFIO_REGION_SPARSE) && a < g->nr_areas &&
				     used < sizeof(line); a++)
			used += (size_t)snprintf(line + used, sizeof(line) - used,
						 " 0x%" PRIx64 "+0x%" PRIx64, g->areas[a].offset,
						 g->areas[a].size);
		while (used > 0 && line[used - 1] == ' ')
			line[--used] = '\0';
		fprintf(out, "%s\n", line);
	}
}

static void table_ranges(const char *what, const struct pdk_vfio_range *rg, uint32_t n,
			 FILE *out)
{
	for (uint32_t i = 0; i < n; i++)
		fprintf(out, "    %-6s 0x%08" PRIx64 "-0x%08" PRIx64 "  %s\n", what, rg[i].offset,
			rg[i].offset + rg[i].len - 1, pdk_vfio_why_str(rg[i].why));
}

static void table_plans(const struct report *r, FILE *out)
{
	fprintf(out, "\nBAR mapping plan (page size %" PRIu64 ")\n", r->info.page_size);
	for (int i = 0; i < PDK_VFIO_PCI_BAR_COUNT; i++) {
		const struct pdk_vfio_plan *p = &r->plans[i];

		if (p->policy == PDK_VFIO_POLICY_ABSENT)
			continue;
		fprintf(out, "  BAR%d  %s  (slow accesses: %" PRIu64 " reads, %" PRIu64
			" writes)\n", i, pdk_vfio_policy_str(p->policy), r->stats.slow_reads[i],
			r->stats.slow_writes[i]);
		table_ranges("mapped", p->mapped, p->nr_mapped, out);
		table_ranges("slow", p->slow, p->nr_slow, out);
	}
}

static void table_caps(const struct report *r, FILE *out)
{
	fprintf(out, "\nConfig capabilities\n");
	for (int i = 0; i < r->std.n; i++) {
		const struct cap *c = &r->std.c[i];

		fprintf(out, "  0x%03x  %02x  %s", c->off, c->id, cap_name(c, false));
		if (c->id == PDK_PCI_CAP_ID_MSIX && r->has_msix)
			fprintf(out, " (%u vectors, table BAR%u+0x%" PRIx64 ", PBA BAR%u+0x%" PRIx64 ")",
				r->msix.nr_vectors, r->msix.table_bar, r->msix.table_offset,
				r->msix.pba_bar, r->msix.pba_offset);
		fprintf(out, "\n");
	}
	for (int i = 0; i < r->ext.n; i++)
		fprintf(out, "  0x%03x  %04x  %s v%u\n", r->ext.c[i].off, r->ext.c[i].id,
			cap_name(&r->ext.c[i], true), r->ext.c[i].version);
}

static void table_irqs(const struct report *r, FILE *out)
{
	fprintf(out, "\nInterrupts\n");
	for (int i = 0; i < r->nirqs; i++) {
		const char *f[4];
		int n = irq_flags(r->irqs[i].flags, f);

		fprintf(out, "  %-6s %4u", irq_names[i], r->irqs[i].count);
		for (int k = 0; k < n; k++)
			fprintf(out, "%s%s", k ? "," : "  ", f[k]);
		fprintf(out, "\n");
	}
}

static void table_iommu(const struct report *r, FILE *out)
{
	char sz[32];

	fprintf(out, "\nIOMMU\n  page sizes  ");
	for (int b = 0; b < 64; b++)
		if (r->iommu.pgsizes & (1ULL << b))
			fprintf(out, " %s", size_str(1ULL << b, sz, sizeof(sz)));
	fprintf(out, "\n  IOVA ranges%s\n", r->iommu.ranges_known ? "" : "  not reported");
	for (uint32_t i = 0; i < r->iommu.nr_ranges; i++)
		fprintf(out, "    0x%016" PRIx64 "-0x%016" PRIx64 "\n", r->iommu.ranges[i].start,
			r->iommu.ranges[i].end);
	if (r->iommu.dma_avail >= 0)
		fprintf(out, "  DMA mappings left  %" PRId64 "\n", r->iommu.dma_avail);
	else
		fprintf(out, "  DMA mappings left  not reported\n");
	fprintf(out, "  our mappings       %u (%" PRIu64 " bytes)\n", r->iommu.nr_mappings,
		r->iommu.mapped_bytes);
}

static void table_group(const struct report *r, FILE *out)
{
	if (r->info.iommu_group < 0)
		return;
	fprintf(out, "\nIOMMU group %d\n", r->info.iommu_group);
	for (int i = 0; i < r->nmembers; i++)
		fprintf(out, "  %-14s %-16s %s\n", r->members[i].name,
			r->members[i].kdriver[0] ? r->members[i].kdriver : "(no driver)",
			pdk_pci_kdriver_keeps_viable(r->members[i].kdriver) ? "ok" :
			"blocks VFIO: pdk-devbind --bind vfio-pci --group");
}

static void print_table(const struct report *r, FILE *out)
{
	table_device(r, out);
	table_regions(r, out);
	table_plans(r, out);
	table_caps(r, out);
	table_irqs(r, out);
	if (r->have_iommu)
		table_iommu(r, out);
	table_group(r, out);
}

/* -------------------------------------------------------------- JSON -- */

struct json {
	FILE *f;
	bool need_comma;
};

static void j_str_raw(FILE *f, const char *s)
{
	fputc('"', f);
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c == '"' || c == '\\')
			fprintf(f, "\\%c", c);
		else if (c < 0x20)
			fprintf(f, "\\u%04x", c);
		else
			fputc(c, f);
	}
	fputc('"', f);
}

static void j_key(struct json *j, const char *key)
{
	if (j->need_comma)
		fputc(',', j->f);
	if (key) {
		j_str_raw(j->f, key);
		fputc(':', j->f);
	}
	j->need_comma = true;
}

static void j_open(struct json *j, const char *key, char c)
{
	j_key(j, key);
	fputc(c, j->f);
	j->need_comma = false;
}

static void j_close(struct json *j, char c)
{
	fputc(c, j->f);
	j->need_comma = true;
}

static void j_str(struct json *j, const char *key, const char *v)
{
	j_key(j, key);
	j_str_raw(j->f, v);
}

static void j_u64(struct json *j, const char *key, uint64_t v)
{
	j_key(j, key);
	fprintf(j->f, "%" PRIu64, v);
}

static void j_i64(struct json *j, const char *key, int64_t v)
{
	j_key(j, key);
	fprintf(j->f, "%" PRId64, v);
}

static void j_bool(struct json *j, const char *key, bool v)
{
	j_key(j, key);
	fputs(v ? "true" : "false", j->f);
}

static void j_hex(struct json *j, const char *key, unsigned v, int width)
{
	char buf[16];

	snprintf(buf, sizeof(buf), "%0*x", width, v);
	j_str(j, key, buf);
}

static void j_list(struct json *j, const char *key, const char *const *items, int n)
{
	j_open(j, key, '[');
	for (int i = 0; i < n; i++)
		j_str(j, NULL, items[i]);
	j_close(j, ']');
}

static void json_device(const struct report *r, struct json *j)
{
	j_str(j, "device", pdk_vfio_dev_name(r->dev));
	j_str(j, "backend", pdk_vfio_dev_backend(r->dev));
	if (r->have_id) {
		j_hex(j, "vendor", r->id.vendor_id, 4);
		j_hex(j, "device_id", r->id.device_id, 4);
		j_hex(j, "subsystem_vendor", r->id.subsystem_vendor_id, 4);
		j_hex(j, "subsystem_device", r->id.subsystem_device_id, 4);
		j_hex(j, "class", r->id.class_id, 6);
		j_u64(j, "revision", r->revision);
	}
	j_str(j, "kernel_driver", r->have_sysfs ? r->pci.kdriver : "");
	j_i64(j, "numa_node", r->have_sysfs ? r->pci.numa_node : -1);
	j_i64(j, "iommu_group", r->info.iommu_group);
	j_bool(j, "reset", r->info.flags & PDK_VFIO_DEV_RESET);
	j_u64(j, "page_size", r->info.page_size);
}

static void json_regions(const struct report *r, struct json *j)
{
	j_open(j, "regions", '[');
	for (int i = 0; i < r->nregions; i++) {
		const struct pdk_vfio_region *g = &r->regions[i];
		const char *flags[3], *caps[4];
		int nf = 0, nc = region_caps(g, caps);

		if (g->flags & PDK_VFIO_REGION_READ)
			flags[nf++] = "read";
		if (g->flags & PDK_VFIO_REGION_WRITE)
			flags[nf++] = "write";
		if (g->flags & PDK_VFIO_REGION_MMAP)
			flags[nf++] = "mmap";
		j_open(j, NULL, '{');
		j_u64(j, "index", (uint64_t)i);
		j_str(j, "name", region_names[i]);
		j_u64(j, "size", g->size);
		j_u64(j, "offset", g->offset);
		j_list(j, "flags", flags, nf);
		j_list(j, "caps", caps, nc);
		j_open(j, "sparse_areas", '[');
		for (uint32_t a = 0; (g->flags & PDK_VFIO_REGION_SPARSE) && a < g->nr_areas; a++) {
			j_open(j, NULL, '{');
			j_u64(j, "offset", g->areas[a].offset);
			j_u64(j, "size", g->areas[a].size);
			j_close(j, '}');
		}
		j_close(j, ']');
		j_close(j, '}');
	}
	j_close(j, ']');
}

static void json_ranges(struct json *j, const char *key, const struct pdk_vfio_range *rg,
			uint32_t n)
{
	j_open(j, key, '[');
	for (uint32_t i = 0; i < n; i++) {
		j_open(j, NULL, '{');
		j_u64(j, "offset", rg[i].offset);
		j_u64(j, "len", rg[i].len);
		j_str(j, "why", pdk_vfio_why_str(rg[i].why));
		j_close(j, '}');
	}
	j_close(j, ']');
}

static void json_plans(const struct report *r, struct json *j)
{
	j_open(j, "bars", '[');
	for (int i = 0; i < PDK_VFIO_PCI_BAR_COUNT; i++) {
		const struct pdk_vfio_plan *p = &r->plans[i];

		if (p->policy == PDK_VFIO_POLICY_ABSENT)
			continue;
		j_open(j, NULL, '{');
		j_u64(j, "bar", (uint64_t)i);
		j_u64(j, "size", p->size);
		j_str(j, "policy", pdk_vfio_policy_str(p->policy));
		json_ranges(j, "mapped", p->mapped, p->nr_mapped);
		json_ranges(j, "slow", p->slow, p->nr_slow);
		j_u64(j, "slow_reads", r->stats.slow_reads[i]);
		j_u64(j, "slow_writes", r->stats.slow_writes[i]);
		j_close(j, '}');
	}
	j_close(j, ']');
}

static void json_caps(const struct report *r, struct json *j, const char *key, bool ext)
{
	const struct caps *c = ext ? &r->ext : &r->std;

	j_open(j, key, '[');
	for (int i = 0; i < c->n; i++) {
		j_open(j, NULL, '{');
		j_u64(j, "offset", c->c[i].off);
		j_u64(j, "id", c->c[i].id);
		if (ext)
			j_u64(j, "version", c->c[i].version);
		j_str(j, "name", cap_name(&c->c[i], ext));
		j_close(j, '}');
	}
	j_close(j, ']');
}

static void json_msix_irqs(const struct report *r, struct json *j)
{
	if (r->has_msix) {
		j_open(j, "msix", '{');
		j_u64(j, "vectors", r->msix.nr_vectors);
		j_u64(j, "table_bar", r->msix.table_bar);
		j_u64(j, "table_offset", r->msix.table_offset);
		j_u64(j, "pba_bar", r->msix.pba_bar);
		j_u64(j, "pba_offset", r->msix.pba_offset);
		j_close(j, '}');
	} else {
		j_key(j, "msix");
		fputs("null", j->f);
	}
	j_open(j, "irqs", '[');
	for (int i = 0; i < r->nirqs; i++) {
		const char *f[4];
		int n = irq_flags(r->irqs[i].flags, f);

		j_open(j, NULL, '{');
		j_u64(j, "index", (uint64_t)i);
		j_str(j, "name", irq_names[i]);
		j_u64(j, "count", r->irqs[i].count);
		j_list(j, "flags", f, n);
		j_close(j, '}');
	}
	j_close(j, ']');
}

static void json_iommu(const struct report *r, struct json *j)
{
	j_open(j, "iommu", '{');
	j_open(j, "page_sizes", '[');
	for (int b = 0; b < 64; b++)
		if (r->iommu.pgsizes & (1ULL << b))
			j_u64(j, NULL, 1ULL << b);
	j_close(j, ']');
	j_bool(j, "ranges_known", r->iommu.ranges_known);
	j_open(j, "iova_ranges", '[');
	for (uint32_t i = 0; i < r->iommu.nr_ranges; i++) {
		j_open(j, NULL, '{');
		j_u64(j, "start", r->iommu.ranges[i].start);
		j_u64(j, "end", r->iommu.ranges[i].end);
		j_close(j, '}');
	}
	j_close(j, ']');
	j_i64(j, "dma_avail", r->iommu.dma_avail);
	j_u64(j, "mappings", r->iommu.nr_mappings);
	j_u64(j, "mapped_bytes", r->iommu.mapped_bytes);
	j_close(j, '}');
}

static void json_group(const struct report *r, struct json *j)
{
	bool viable = true;

	j_open(j, "group", '{');
	j_i64(j, "id", r->info.iommu_group);
	j_open(j, "members", '[');
	for (int i = 0; i < r->nmembers; i++) {
		bool ok = pdk_pci_kdriver_keeps_viable(r->members[i].kdriver);

		viable = viable && ok;
		j_open(j, NULL, '{');
		j_str(j, "device", r->members[i].name);
		j_str(j, "driver", r->members[i].kdriver);
		j_bool(j, "blocks", !ok);
		j_close(j, '}');
	}
	j_close(j, ']');
	j_bool(j, "viable", viable);
	j_close(j, '}');
}

static void print_json(const struct report *r, FILE *out)
{
	struct json j = {.f = out};

	j_open(&j, NULL, '{');
	json_device(r, &j);
	json_regions(r, &j);
	json_plans(r, &j);
	json_caps(r, &j, "capabilities", false);
	json_caps(r, &j, "ext_capabilities", true);
	json_msix_irqs(r, &j);
	if (r->have_iommu)
		json_iommu(r, &j);
	if (r->info.iommu_group >= 0)
		json_group(r, &j);
	j_close(&j, '}');
	fputc('\n', out);
}

int devinfo_print(struct pdk_vfio_dev *dev, bool json, FILE *out)
{
	struct report *r = calloc(1, sizeof(*r));

	if (r == NULL)
		return -ENOMEM;
	r->dev = dev;
	gather(r);
	if (json)
		print_json(r, out);
	else
		print_table(r, out);
	free(r);
	return 0;
}

/* -------------------------------------------------------------- main -- */

static char last_err[1024];

/* With --json, errors also go into the JSON (stdout); they still reach
 * stderr for people. */
static void err_sink(int level, const char *component, const char *msg, void *arg)
{
	(void)arg;
	if (level <= PDK_LOG_ERR)
		snprintf(last_err, sizeof(last_err), "%s", msg);
	fprintf(stderr, "%s: %s\n", component, msg);
}

static void usage(FILE *f)
{
	fprintf(f, "usage: pdk-devinfo [EAL options --] [--json] DEVICE\n"
		"  DEVICE  a PCI address bound to vfio-pci (0000:03:00.0), or\n"
		"          vfio-user:/path/to/socket\n"
		"  --json  one JSON object on stdout instead of the table\n"
		"Shows regions, the BAR mapping plan and why, config capabilities, IRQs,\n"
		"the IOMMU (IOVA ranges, DMA mappings left, page sizes) and the IOMMU\n"
		"group. Reads config space only; maps no DMA memory.\n");
}

static int parse_args(int argc, char **argv, bool *json, const char **name, FILE *err)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			*json = true;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			return -1;
		} else if (argv[i][0] == '-' || *name) {
			fprintf(err, "pdk-devinfo: unexpected argument '%s'\n", argv[i]);
			usage(err);
			return DEVINFO_EXIT_USAGE;
		} else {
			*name = argv[i];
		}
	}
	if (*name == NULL) {
		fprintf(err, "pdk-devinfo: which device? (pdk-devbind --status lists them)\n");
		usage(err);
		return DEVINFO_EXIT_USAGE;
	}
	return 0;
}

int devinfo_main(int argc, char **argv, FILE *out, FILE *err)
{
	const char *name = NULL;
	struct pdk_vfio_dev *dev;
	bool json = false;
	int rc = parse_args(argc, argv, &json, &name, err);

	if (rc < 0) {
		usage(out);
		return 0;
	}
	if (rc > 0)
		return rc;
	last_err[0] = '\0';
	if (json)
		pdk_log_set_sink(err_sink, NULL);
	dev = pdk_vfio_dev_open(name, PDK_VFIO_OPEN_NO_DMA);
	if (json)
		pdk_log_set_sink(NULL, NULL);
	if (dev == NULL) {
		int e = errno;

		if (json) {
			struct json j = {.f = out};

			j_open(&j, NULL, '{');
			j_str(&j, "device", name);
			j_str(&j, "error", last_err[0] ? last_err : strerror(e));
			j_close(&j, '}');
			fputc('\n', out);
		}
		fprintf(err, "pdk-devinfo: cannot open %s: %s (the reason is above)\n", name,
			strerror(e));
		return DEVINFO_EXIT_FAIL;
	}
	devinfo_print(dev, json, out);
	pdk_vfio_dev_close(dev);
	return 0;
}
