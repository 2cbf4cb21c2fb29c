/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pdk-nvme-identify [EAL options] [-- [--json]]
 *
 * For every NVMe controller the PCI bus attached (-a 0000:03:00.0, or
 * -a vfio-user:/path): controller data (ids, serial, model, firmware,
 * version, limits, optional features), health (SMART log) and each
 * namespace (size, capacity, LBA formats, ids). A table for people, or one
 * JSON object with --json.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <pdk_eal.h>
#include <pdk_nvme.h>

#include "app_eal.h"
#include "app_json.h"

#define PROG "pdk-nvme-identify"

static void usage(void)
{
	printf("usage: %s [EAL options] [-- --json]\n\n"
	       "Shows the controller and namespace data of each NVMe controller named with\n"
	       "-a (a PCI address bound to vfio-pci, or vfio-user:/path/to/socket).\n\n"
	       "  --json   one JSON object: {\"controllers\": [...]}\n"
	       "  -h       this text (EAL options: %s -h before \"--\")\n", PROG, PROG);
}

static const char *const oacs_names[] = {
	"security", "format", "firmware", "ns-management", "self-test", "directives",
	"nvme-mi", "virtualization", "doorbell-buffer", "lba-status",
};
static const char *const oncs_names[] = {
	"compare", "write-uncorrectable", "dataset-management", "write-zeroes",
	"save-features", "reservations", "timestamp", "verify",
};

static void bits_text(char *out, size_t len, unsigned v, const char *const *names, size_t n)
{
	size_t used = 0;

	out[0] = '\0';
	for (size_t i = 0; i < n && used < len; i++)
		if (v & (1u << i))
			used += (size_t)snprintf(out + used, len - used, "%s%s", used ? " " : "",
						 names[i]);
}

static void hex(char *out, const uint8_t *b, size_t n)
{
	for (size_t i = 0; i < n; i++)
		sprintf(out + 2 * i, "%02x", b[i]);
}

static void version_text(char *out, size_t len, uint32_t vs)
{
	snprintf(out, len, "%u.%u.%u", vs >> 16, (vs >> 8) & 0xff, vs & 0xff);
}

/* ------------------------------------------------------------- text -- */

static void ns_text(const struct pdk_nvme_ns *ns)
{
	const struct pdk_nvme_ns_data *d = pdk_nvme_ns_data(ns);
	char nguid[33], eui[17];
	unsigned in_use = PDK_NVME_FLBAS_INDEX(d->flbas);

	hex(nguid, d->nguid, sizeof(d->nguid));
	hex(eui, d->eui64, sizeof(d->eui64));
	printf("  namespace %u\n", pdk_nvme_ns_id(ns));
	printf("    size             %.2f MiB (%llu blocks of %u bytes)\n",
	       (double)pdk_nvme_ns_size(ns) / (1 << 20),
	       (unsigned long long)pdk_nvme_ns_num_sectors(ns), pdk_nvme_ns_sector_size(ns));
	printf("    capacity         %llu blocks, %llu in use\n", (unsigned long long)d->ncap,
	       (unsigned long long)d->nuse);
	for (unsigned i = 0; i <= d->nlbaf && i < 16; i++)
		printf("    LBA format %-2u    %u bytes + %u metadata%s\n", i,
		       1u << d->lbaf[i].lbads, d->lbaf[i].ms, i == in_use ? " (in use)" : "");
	printf("    max transfer     %u blocks per command\n", pdk_nvme_ns_max_io_sectors(ns));
	printf("    NGUID            %s\n    EUI64            %s\n", nguid, eui);
}

static void health_text(struct pdk_nvme_ctrlr *c)
{
	struct pdk_nvme_smart_log s;

	if (pdk_nvme_ctrlr_smart_log(c, &s) < 0) {
		printf("  health           (SMART log not available)\n");
		return;
	}
	printf("  health           critical warning 0x%02x, %d C, spare %u%%, used %u%%\n",
	       s.critical_warning, (int)s.temperature - 273, s.available_spare,
	       s.percentage_used);
	printf("                   %llu units read, %llu written (of 512000 bytes), %llu power-on "
	       "hours, %llu unsafe shutdowns, %llu media errors\n",
	       (unsigned long long)s.data_units_read[0], (unsigned long long)s.data_units_written[0],
	       (unsigned long long)s.power_on_hours[0], (unsigned long long)s.unsafe_shutdowns[0],
	       (unsigned long long)s.media_errors[0]);
}

static void ctrlr_text(struct pdk_nvme_ctrlr *c)
{
	const struct pdk_nvme_ctrlr_data *d = pdk_nvme_ctrlr_data(c);
	struct pdk_nvme_ctrlr_info in;
	char ver[32], oacs[256], oncs[256];

	pdk_nvme_ctrlr_info(c, &in);
	version_text(ver, sizeof(ver), in.version);
	bits_text(oacs, sizeof(oacs), d->oacs, oacs_names, PDK_DIM(oacs_names));
	bits_text(oncs, sizeof(oncs), d->oncs, oncs_names, PDK_DIM(oncs_names));
	printf("NVMe controller %s (%s)\n", pdk_nvme_ctrlr_name(c), in.backend);
	printf("  vendor           %04x (subsystem %04x)\n", d->vid, d->ssvid);
	printf("  serial           %s\n  model            %s\n  firmware         %s\n",
	       in.sn, in.mn, in.fr);
	printf("  version          %s\n", ver);
	printf("  max transfer     %u KiB per command (MDTS %u)\n", in.max_xfer >> 10, d->mdts);
	printf("  queues           %u I/O queue pairs granted, up to %u entries each\n",
	       in.io_queues, in.max_queue_entries);
	printf("  page size        %u, doorbell stride %u, ready timeout %u ms\n",
	       in.page_size, in.doorbell_stride, in.ready_timeout_ms);
	printf("  OACS             0x%04x %s\n  ONCS             0x%04x %s\n", d->oacs, oacs,
	       d->oncs, oncs);
	printf("  write cache      %s\n  shadow doorbells %s\n",
	       in.volatile_write_cache ? "volatile cache present" : "none",
	       in.dbbuf ? "in use" : "not used");
	printf("  namespaces       %u active of %u\n", in.active_ns, in.num_ns);
	health_text(c);
	for (struct pdk_nvme_ns *ns = pdk_nvme_ns_next(c, NULL); ns; ns = pdk_nvme_ns_next(c, ns))
		ns_text(ns);
}

/* ------------------------------------------------------------- JSON -- */

static void ns_json(struct jw *w, const struct pdk_nvme_ns *ns)
{
	const struct pdk_nvme_ns_data *d = pdk_nvme_ns_data(ns);
	char nguid[33], eui[17];

	hex(nguid, d->nguid, sizeof(d->nguid));
	hex(eui, d->eui64, sizeof(d->eui64));
	jw_open(w, NULL, '{');
	jw_u64(w, "nsid", pdk_nvme_ns_id(ns));
	jw_u64(w, "size_bytes", pdk_nvme_ns_size(ns));
	jw_u64(w, "sectors", pdk_nvme_ns_num_sectors(ns));
	jw_u64(w, "sector_size", pdk_nvme_ns_sector_size(ns));
	jw_u64(w, "capacity", d->ncap);
	jw_u64(w, "utilization", d->nuse);
	jw_u64(w, "lba_format", PDK_NVME_FLBAS_INDEX(d->flbas));
	jw_open(w, "lba_formats", '[');
	for (unsigned i = 0; i <= d->nlbaf && i < 16; i++) {
		jw_open(w, NULL, '{');
		jw_u64(w, "data_size", 1u << d->lbaf[i].lbads);
		jw_u64(w, "metadata_size", d->lbaf[i].ms);
		jw_close(w, '}');
	}
	jw_close(w, ']');
	jw_u64(w, "max_io_sectors", pdk_nvme_ns_max_io_sectors(ns));
	jw_str(w, "nguid", nguid);
	jw_str(w, "eui64", eui);
	jw_close(w, '}');
}

static void health_json(struct jw *w, struct pdk_nvme_ctrlr *c)
{
	struct pdk_nvme_smart_log s;

	if (pdk_nvme_ctrlr_smart_log(c, &s) < 0)
		return;
	jw_open(w, "health", '{');
	jw_u64(w, "critical_warning", s.critical_warning);
	jw_u64(w, "temperature_kelvin", s.temperature);
	jw_u64(w, "available_spare", s.available_spare);
	jw_u64(w, "percentage_used", s.percentage_used);
	jw_u64(w, "data_units_read", s.data_units_read[0]);
	jw_u64(w, "data_units_written", s.data_units_written[0]);
	jw_u64(w, "power_on_hours", s.power_on_hours[0]);
	jw_u64(w, "unsafe_shutdowns", s.unsafe_shutdowns[0]);
	jw_u64(w, "media_errors", s.media_errors[0]);
	jw_close(w, '}');
}

static void ctrlr_json(struct jw *w, struct pdk_nvme_ctrlr *c)
{
	const struct pdk_nvme_ctrlr_data *d = pdk_nvme_ctrlr_data(c);
	struct pdk_nvme_ctrlr_info in;
	char ver[32];

	pdk_nvme_ctrlr_info(c, &in);
	version_text(ver, sizeof(ver), in.version);
	jw_open(w, NULL, '{');
	jw_str(w, "name", pdk_nvme_ctrlr_name(c));
	jw_str(w, "backend", in.backend);
	jw_u64(w, "vid", d->vid);
	jw_u64(w, "ssvid", d->ssvid);
	jw_str(w, "sn", in.sn);
	jw_str(w, "mn", in.mn);
	jw_str(w, "fr", in.fr);
	jw_str(w, "version", ver);
	jw_u64(w, "mdts", d->mdts);
	jw_u64(w, "max_xfer", in.max_xfer);
	jw_u64(w, "io_queues", in.io_queues);
	jw_u64(w, "max_queue_entries", in.max_queue_entries);
	jw_u64(w, "oacs", d->oacs);
	jw_u64(w, "oncs", d->oncs);
	jw_bool(w, "shadow_doorbells", in.dbbuf);
	jw_bool(w, "volatile_write_cache", in.volatile_write_cache);
	jw_u64(w, "nn", in.num_ns);
	health_json(w, c);
	jw_open(w, "namespaces", '[');
	for (struct pdk_nvme_ns *ns = pdk_nvme_ns_next(c, NULL); ns; ns = pdk_nvme_ns_next(c, ns))
		ns_json(w, ns);
	jw_close(w, ']');
	jw_close(w, '}');
}

/* ------------------------------------------------------------- main -- */

static int parse_args(int argc, char **argv, bool *json)
{
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--json") == 0) {
			*json = true;
		} else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
			usage();
			return 1;
		} else {
			fprintf(stderr, "%s: unknown option '%s'; valid: --json, -h\n", PROG, argv[i]);
			return -1;
		}
	}
	return 0;
}

static int report(bool json)
{
	struct jw w;

	if (pdk_nvme_ctrlr_next(NULL) == NULL) {
		fprintf(stderr, "%s: no NVMe controller attached: name one with -a (a PCI address "
			"bound to vfio-pci, e.g. -a 0000:03:00.0, or -a vfio-user:/path.sock)\n",
			PROG);
		return 1;
	}
	jw_init(&w, stdout);
	if (json) {
		jw_open(&w, NULL, '{');
		jw_open(&w, "controllers", '[');
	}
	for (struct pdk_nvme_ctrlr *c = pdk_nvme_ctrlr_next(NULL); c; c = pdk_nvme_ctrlr_next(c)) {
		if (json)
			ctrlr_json(&w, c);
		else
			ctrlr_text(c);
	}
	if (json) {
		jw_close(&w, ']');
		jw_close(&w, '}');
	}
	return 0;
}

int main(int argc, char **argv)
{
	bool json = false;
	int n, rc;

	n = app_eal_start(PROG, argc, argv, &rc);
	if (n < 0)
		return rc;
	rc = parse_args(argc - n, argv + n, &json);
	if (rc == 0)
		rc = report(json);
	else
		rc = rc < 0 ? 2 : 0; /* usage error, or -h */
	pdk_eal_cleanup();
	return rc;
}
