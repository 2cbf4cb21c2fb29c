/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * pdk-nvme-perf options, after the EAL options and "--", named as in
 * spdk_nvme_perf where it has them. Every error names the option, what was
 * wrong and the valid forms.
 */
#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "perf.h"

static const char *const workload_names[] = {
	[W_READ] = "read", [W_WRITE] = "write", [W_RANDREAD] = "randread",
	[W_RANDWRITE] = "randwrite", [W_RW] = "rw", [W_RANDRW] = "randrw",
};

const char *workload_name(enum workload w)
{
	return workload_names[w];
}

void params_usage(void)
{
	printf("usage: %s [EAL options] -- -q DEPTH -o BYTES -w WORKLOAD -t SECONDS [options]\n\n"
	       "EAL options (before \"--\"): -l lcores (one worker each, the main lcore too),\n"
	       "-a DEVICE for each controller (PCI address or vfio-user:/path), -m MiB ...\n\n"
	       "  -q, --queue-depth N   I/Os outstanding per namespace per lcore (default 32)\n"
	       "  -o, --io-size BYTES   size of each I/O, a multiple of the sector size (4096)\n"
	       "  -w, --workload W      read, write, randread, randwrite, rw or randrw\n"
	       "  -M, --rwmixread PCT   reads in %% for rw and randrw (default 50)\n"
	       "  -t, --time SECONDS    measured run time (default 10)\n"
	       "      --warmup SECONDS  run before measuring (default 0)\n"
	       "  -P, --qpairs N        queue pairs per namespace per lcore (1..%d, default 1)\n"
	       "  -L, --latency         latency percentiles (-LL: and the histogram)\n"
	       "      --verify          stamp each 512 bytes written with its offset/512 and a\n"
	       "                        seed (u64 LE each), check every read of a stamped block\n"
	       "                        and read everything written back at the end\n"
	       "      --seed N          the seed (default: random; printed as seed=0x...)\n"
	       "      --span BYTES      do I/O in the first BYTES of each namespace (k/m/g)\n"
	       "      --ns ID[,ID...]   only these namespace ids (default: every active one)\n"
	       "      --json            results as one JSON object (progress goes to stderr)\n"
	       "  -h, --help            this text\n", PROG, MAX_QPAIRS);
}

static int bad(const char *opt, const char *val, const char *forms)
{
	fprintf(stderr, "%s: option %s: '%s' is not valid; valid forms: %s\n", PROG, opt, val,
		forms);
	return -EINVAL;
}

/* A number with an optional k/m/g suffix (powers of two). */
static int parse_u64(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 0);
	if (errno || end == s || *s == '-')
		return -EINVAL;
	switch (*end) {
	case 'k': case 'K': v <<= 10; end++; break;
	case 'm': case 'M': v <<= 20; end++; break;
	case 'g': case 'G': v <<= 30; end++; break;
	default: break;
	}
	if (*end != '\0')
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_seconds(const char *s, double *out)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end != '\0' || !(v >= 0) || v > 1e6)
		return -EINVAL;
	*out = v;
	return 0;
}

static int parse_workload(const char *s, enum workload *w)
{
	for (size_t i = 0; i < PDK_DIM(workload_names); i++)
		if (strcmp(s, workload_names[i]) == 0) {
			*w = (enum workload)i;
			return 0;
		}
	return -EINVAL;
}

static int parse_nsids(struct params *p, const char *s)
{
	char *copy = strdup(s), *save = NULL;
	int rc = 0;

	for (char *t = strtok_r(copy, ",", &save); t && rc == 0; t = strtok_r(NULL, ",", &save)) {
		uint64_t v;

		if (parse_u64(t, &v) < 0 || v == 0 || v > UINT32_MAX || p->nr_nsids == MAX_NS)
			rc = -EINVAL;
		else
			p->nsids[p->nr_nsids++] = (uint32_t)v;
	}
	free(copy);
	return rc;
}

enum { O_WARMUP = 256, O_VERIFY, O_SEED, O_SPAN, O_NS, O_JSON };

static const struct option long_opts[] = {
	{"queue-depth", required_argument, NULL, 'q'}, {"io-size", required_argument, NULL, 'o'},
	{"workload", required_argument, NULL, 'w'},    {"rwmixread", required_argument, NULL, 'M'},
	{"time", required_argument, NULL, 't'},        {"warmup", required_argument, NULL, O_WARMUP},
	{"qpairs", required_argument, NULL, 'P'},      {"latency", no_argument, NULL, 'L'},
	{"verify", no_argument, NULL, O_VERIFY},       {"seed", required_argument, NULL, O_SEED},
	{"span", required_argument, NULL, O_SPAN},     {"ns", required_argument, NULL, O_NS},
	{"json", no_argument, NULL, O_JSON},           {"help", no_argument, NULL, 'h'},
	{NULL, 0, NULL, 0},
};

static int one_opt(struct params *p, int c, const char *arg)
{
	uint64_t v = 0;

	switch (c) {
	case 'q':
		if (parse_u64(arg, &v) < 0 || v < 1 || v > 65536)
			return bad("-q", arg, "-q 1..65536");
		p->depth = (uint32_t)v;
		return 0;
	case 'o':
		if (parse_u64(arg, &v) < 0 || v < 512 || v > (64u << 20) || v % 512)
			return bad("-o", arg, "-o BYTES, a multiple of 512 up to 64m (e.g. 4096, 128k)");
		p->io_size = (uint32_t)v;
		return 0;
	case 'w':
		if (parse_workload(arg, &p->workload) < 0)
			return bad("-w", arg, "read|write|randread|randwrite|rw|randrw");
		return 0;
	case 'M':
		if (parse_u64(arg, &v) < 0 || v > 100)
			return bad("-M", arg, "-M 0..100 (percent of reads)");
		p->read_pct = (int)v;
		return 0;
	case 't':
		return parse_seconds(arg, &p->seconds) < 0 || p->seconds <= 0
			       ? bad("-t", arg, "-t SECONDS (> 0, e.g. 10 or 0.5)") : 0;
	case O_WARMUP:
		return parse_seconds(arg, &p->warmup) < 0 ? bad("--warmup", arg, "--warmup SECONDS")
							  : 0;
	case 'P':
		if (parse_u64(arg, &v) < 0 || v < 1 || v > MAX_QPAIRS)
			return bad("-P", arg, "-P 1..16");
		p->qpairs = (uint32_t)v;
		return 0;
	case 'L':
		p->latency++;
		return 0;
	case O_VERIFY:
		p->verify = true;
		return 0;
	case O_SEED:
		if (parse_u64(arg, &p->seed) < 0)
			return bad("--seed", arg, "--seed N (decimal or 0x...)");
		p->seed_given = true;
		return 0;
	case O_SPAN:
		return parse_u64(arg, &p->span) < 0 || p->span == 0
			       ? bad("--span", arg, "--span BYTES (e.g. 64m, 1g)") : 0;
	case O_NS:
		return parse_nsids(p, arg) < 0 ? bad("--ns", arg, "--ns 1 or --ns 1,2") : 0;
	case O_JSON:
		p->json = true;
		return 0;
	default:
		return -EINVAL;
	}
}

int params_parse(struct params *p, int argc, char **argv)
{
	int c;

	*p = (struct params){.depth = 32, .io_size = 4096, .workload = W_RANDREAD,
			     .read_pct = -1, .seconds = 10, .qpairs = 1};
	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "q:o:w:M:t:P:Lh", long_opts, NULL)) != -1) {
		if (c == 'h') {
			params_usage();
			return 1;
		}
		if (c == '?') {
			fprintf(stderr, "%s: unknown option or missing value: '%s'; see %s -- -h\n",
				PROG, argv[optind - 1], PROG);
			return -EINVAL;
		}
		if (one_opt(p, c, optarg) < 0)
			return -EINVAL;
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'; options come after \"--\", devices "
			"go before it with -a\n", PROG, argv[optind]);
		return -EINVAL;
	}
	if (p->read_pct < 0)
		p->read_pct = p->workload == W_READ || p->workload == W_RANDREAD ? 100
			      : p->workload == W_WRITE || p->workload == W_RANDWRITE ? 0 : 50;
	else if (p->workload != W_RW && p->workload != W_RANDRW)
		fprintf(stderr, "%s: -M applies to rw and randrw only; ignored for %s\n", PROG,
			workload_name(p->workload));
	if (p->workload != W_RW && p->workload != W_RANDRW)
		p->read_pct = p->workload == W_READ || p->workload == W_RANDREAD ? 100 : 0;
	return 0;
}
