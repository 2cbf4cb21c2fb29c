/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * EAL command-line options, DPDK style. Parsing is a pure function of argv
 * (no global state, no getopt) so it can be unit-tested and fuzzed; every
 * error names the option and shows its valid forms.
 */
#include <ctype.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eal_private.h"

enum opt_id {
	OPT_LCORES, OPT_MAIN_LCORE, OPT_ALLOW, OPT_BLOCK, OPT_VDEV, OPT_MEM,
	OPT_SOCKET_MEM, OPT_NO_HUGE, OPT_HUGE_DIR, OPT_FILE_PREFIX,
	OPT_IN_MEMORY, OPT_IOVA_MODE, OPT_LOG_LEVEL, OPT_NO_PCI, OPT_CHANNELS,
	OPT_HELP,
};

struct opt {
	char short_name;    /* 0 when none */
	const char *long_name;
	bool has_arg;
	enum opt_id id;
	const char *forms;  /* valid forms, shown with errors and in -h */
	const char *help;
};

static const struct opt opts[] = {
	{'l', "lcores", true, OPT_LCORES, "-l 0-3 | -l 0,2,4 | --lcores 0-1,4@2",
	 "lcores to run on (lcore@cpu pins lcore to another cpu)"},
	{0, "main-lcore", true, OPT_MAIN_LCORE, "--main-lcore 1",
	 "lcore that runs main() (default: first of -l)"},
	{'a', "allow", true, OPT_ALLOW,
	 "-a 0000:03:00.0 | -a 03:00.0,key=val | -a vfio-user:/run/pdk/nvme0.sock",
	 "use only these devices (repeatable)"},
	{'b', "block", true, OPT_BLOCK, "-b 0000:03:00.0 | -b 03:00.0",
	 "never use these PCI devices (repeatable)"},
	{0, "vdev", true, OPT_VDEV, "--vdev net_null0 | --vdev net_null1,size=128 | --vdev net_ring1,peer=net_ring0",
	 "create a virtual device (repeatable)"},
	{'m', "memory", true, OPT_MEM, "-m 256 | -m 512M | -m 1G",
	 "DMA memory to reserve, in MiB unless suffixed"},
	{0, "socket-mem", true, OPT_SOCKET_MEM, "--socket-mem 512,512 | --socket-mem 0,256",
	 "DMA memory per NUMA node, in MiB"},
	{0, "no-huge", false, OPT_NO_HUGE, "--no-huge",
	 "use ordinary memory (memfd) instead of hugepages"},
	{0, "huge-dir", true, OPT_HUGE_DIR, "--huge-dir /dev/hugepages",
	 "hugetlbfs mount to use"},
	{0, "file-prefix", true, OPT_FILE_PREFIX, "--file-prefix app1",
	 "prefix of hugepage file names (letters, digits, '-', '_')"},
	{0, "in-memory", false, OPT_IN_MEMORY, "--in-memory",
	 "keep no files on hugetlbfs (anonymous hugetlb memfd)"},
	{0, "iova-mode", true, OPT_IOVA_MODE, "--iova-mode auto | va | pa",
	 "how devices address memory (default auto = va)"},
	{0, "log-level", true, OPT_LOG_LEVEL,
	 "--log-level debug | --log-level 5 | --log-level vfio:debug | --log-level 'net_*:info'",
	 "global or per-component log level (repeatable)"},
	{0, "no-pci", false, OPT_NO_PCI, "--no-pci", "do not scan the PCI bus"},
	{'n', "channels", true, OPT_CHANNELS, "-n 4",
	 "memory channels (accepted for DPDK compatibility; unused)"},
	{'h', "help", false, OPT_HELP, "-h | --help", "show this help"},
};

static int fail(char *err, size_t errlen, const char *fmt, ...) PDK_FORMAT(3, 4);
static int fail(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
	return -EINVAL;
}

static int bad_value(char *err, size_t errlen, const struct opt *o,
		     const char *val, const char *why)
{
	if (o->short_name)
		return fail(err, errlen,
			    "option -%c/--%s: '%s' %s; valid forms: %s",
			    o->short_name, o->long_name, val, why, o->forms);
	return fail(err, errlen, "option --%s: '%s' %s; valid forms: %s",
		    o->long_name, val, why, o->forms);
}

/* Parse a decimal unsigned integer that fills the whole string. */
static int parse_uint(const char *s, uint64_t max, uint64_t *out)
{
	char *end;
	unsigned long long v;

	if (!isdigit((unsigned char)*s))
		return -EINVAL;
	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno != 0 || *end != '\0' || v > max)
		return -EINVAL;
	*out = v;
	return 0;
}

int eal_parse_cpu_list(const char *s, bool *set, unsigned max)
{
	const char *p = s;
	int count = 0;

	if (*p == '\0')
		return -EINVAL;
	while (*p != '\0') {
		char *end;
		unsigned long lo, hi;

		if (!isdigit((unsigned char)*p))
			return -EINVAL;
		lo = strtoul(p, &end, 10);
		hi = lo;
		p = end;
		if (*p == '-') {
			p++;
			if (!isdigit((unsigned char)*p))
				return -EINVAL;
			hi = strtoul(p, &end, 10);
			p = end;
		}
		if (lo > hi || hi >= max)
			return -EINVAL;
		for (unsigned long i = lo; i <= hi; i++)
			if (!set[i]) {
				set[i] = true;
				count++;
			}
		if (*p == ',')
			p++;
		else if (*p != '\0')
			return -EINVAL;
		if (*p == '\0' && p[-1] == ',')
			return -EINVAL;
	}
	return count;
}

/* -l / --lcores: items "N", "N-M" or "N@CPU", comma separated. */
static int parse_lcores(const char *s, struct eal_config *cfg)
{
	char buf[1024];
	char *save, *item;

	if (strlen(s) >= sizeof(buf) || *s == '\0')
		return -EINVAL;
	strcpy(buf, s);
	for (unsigned i = 0; i < PDK_MAX_LCORES; i++)
		cfg->lcore_cpu[i] = -1;
	cfg->lcore_count = 0;
	for (item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		char *at = strchr(item, '@');
		bool set[PDK_MAX_LCORES] = {false};
		uint64_t cpu = 0;

		if (at != NULL) {
			*at = '\0';
			if (parse_uint(at + 1, 4095, &cpu) < 0)
				return -EINVAL;
		}
		if (eal_parse_cpu_list(item, set, PDK_MAX_LCORES) <= 0)
			return -EINVAL;
		for (unsigned i = 0; i < PDK_MAX_LCORES; i++) {
			if (!set[i])
				continue;
			if (cfg->lcore_cpu[i] != -1)
				return -EINVAL; /* lcore listed twice */
			cfg->lcore_cpu[i] = at ? (int)cpu : (int)i;
			cfg->lcore_count++;
		}
	}
	/* a trailing or doubled comma leaves an empty item strtok skips */
	if (s[strlen(s) - 1] == ',' || strstr(s, ",,") != NULL || s[0] == ',')
		return -EINVAL;
	return cfg->lcore_count > 0 ? 0 : -EINVAL;
}

int eal_parse_pci_addr(const char *s, char *out, size_t outlen)
{
	unsigned dom = 0, bus, dev, fn;
	int n = 0;

	if (sscanf(s, "%x:%x:%x.%x%n", &dom, &bus, &dev, &fn, &n) == 4 &&
	    s[n] == '\0') {
		/* full form: domain present */
	} else if (sscanf(s, "%x:%x.%x%n", &bus, &dev, &fn, &n) == 3 &&
		   s[n] == '\0') {
		dom = 0;
	} else {
		return -EINVAL;
	}
	for (const char *p = s; *p; p++)
		if (!isxdigit((unsigned char)*p) && *p != ':' && *p != '.')
			return -EINVAL;
	if (dom > 0xffff || bus > 0xff || dev > 0x1f || fn > 7)
		return -EINVAL;
	if (outlen < 13)
		return -ENOSPC;
	snprintf(out, outlen, "%04x:%02x:%02x.%x", dom, bus, dev, fn);
	return 0;
}

/* "NAME[,args]" where NAME is a PCI address or vfio-user:PATH (allow only) */
static int parse_dev(const char *s, bool allow_socket, struct eal_dev *d)
{
	const char *comma;
	char name[EAL_DEV_NAME_MAX];
	size_t len;

	if (strncmp(s, "vfio-user:", 10) == 0) {
		if (!allow_socket)
			return -EINVAL;
		comma = strchr(s + 10, ',');
		len = comma ? (size_t)(comma - s) : strlen(s);
		if (len <= 10 || len >= sizeof(d->name))
			return -EINVAL;
		memcpy(d->name, s, len);
		d->name[len] = '\0';
	} else {
		comma = strchr(s, ',');
		len = comma ? (size_t)(comma - s) : strlen(s);
		if (len >= sizeof(name))
			return -EINVAL;
		memcpy(name, s, len);
		name[len] = '\0';
		if (eal_parse_pci_addr(name, d->name, sizeof(d->name)) < 0)
			return -EINVAL;
	}
	d->args = NULL;
	if (comma != NULL) {
		if (comma[1] == '\0')
			return -EINVAL;
		d->args = strdup(comma + 1);
		if (d->args == NULL)
			return -ENOMEM;
	}
	return 0;
}

/* "256" (MiB), "512M", "1G", "2048K" -> MiB */
static int parse_mem(const char *s, uint64_t *mb)
{
	char num[32];
	size_t len = strlen(s);
	uint64_t v, mul = 1;
	char suffix;

	if (len == 0 || len >= sizeof(num))
		return -EINVAL;
	memcpy(num, s, len + 1);
	suffix = (char)toupper((unsigned char)num[len - 1]);
	if (suffix == 'M' || suffix == 'G') {
		mul = suffix == 'G' ? 1024 : 1;
		num[len - 1] = '\0';
	}
	if (parse_uint(num, 1ULL << 30, &v) < 0 || v == 0)
		return -EINVAL;
	*mb = v * mul;
	return 0;
}

static int parse_socket_mem(const char *s, struct eal_config *cfg)
{
	char buf[256];
	char *save, *item;
	unsigned n = 0;
	uint64_t total = 0;

	if (strlen(s) >= sizeof(buf) || *s == '\0' || s[strlen(s) - 1] == ',' ||
	    strstr(s, ",,") || s[0] == ',')
		return -EINVAL;
	strcpy(buf, s);
	for (item = strtok_r(buf, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
		uint64_t v;

		if (n == PDK_MAX_NUMA_NODES || parse_uint(item, 1ULL << 30, &v) < 0)
			return -EINVAL;
		cfg->socket_mem_mb[n++] = v;
		total += v;
	}
	if (total == 0)
		return -EINVAL;
	cfg->socket_mem_set = true;
	return 0;
}

static int parse_log_level(const char *s, struct eal_args *a)
{
	const char *colon = strrchr(s, ':');
	struct eal_log_rule *r;
	int level;

	if (a->nb_log_rules == EAL_MAX_LOG_RULES)
		return -EINVAL;
	r = &a->log_rules[a->nb_log_rules];
	if (colon == NULL) {
		level = pdk_log_parse_level(s);
		r->pattern[0] = '\0';
	} else {
		size_t len = (size_t)(colon - s);

		if (len == 0 || len >= sizeof(r->pattern))
			return -EINVAL;
		for (size_t i = 0; i < len; i++)
			if (!isalnum((unsigned char)s[i]) && s[i] != '_' &&
			    s[i] != '-' && s[i] != '.' && !(s[i] == '*' && i == len - 1))
				return -EINVAL;
		memcpy(r->pattern, s, len);
		r->pattern[len] = '\0';
		level = pdk_log_parse_level(colon + 1);
	}
	if (level < 0)
		return -EINVAL;
	r->level = level;
	a->nb_log_rules++;
	return 0;
}

static bool valid_prefix(const char *s)
{
	if (*s == '\0' || strlen(s) >= sizeof(((struct eal_config *)0)->file_prefix))
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '-' && *s != '_')
			return false;
	return true;
}

static int apply_dev(const struct opt *o, const char *val, struct eal_args *a,
		     char *err, size_t errlen)
{
	struct eal_config *cfg = &a->cfg;
	bool allow = o->id == OPT_ALLOW;
	struct eal_dev *list = allow ? cfg->allow : cfg->block;
	unsigned *n = allow ? &cfg->nb_allow : &cfg->nb_block;
	int rc;

	if (*n == EAL_MAX_DEVS)
		return bad_value(err, errlen, o, val, "is one device too many (64 at most)");
	rc = parse_dev(val, allow, &list[*n]);
	if (rc == -ENOMEM)
		return fail(err, errlen, "out of memory parsing --%s", o->long_name);
	if (rc < 0)
		return bad_value(err, errlen, o, val, "is not a device address");
	(*n)++;
	if (cfg->nb_allow > 0 && cfg->nb_block > 0)
		return fail(err, errlen,
			    "options -a/--allow and -b/--block cannot be combined; "
			    "use only -a to list the devices to use");
	return 0;
}

static int apply_mem(const struct opt *o, const char *val, struct eal_args *a,
		     char *err, size_t errlen)
{
	struct eal_config *cfg = &a->cfg;

	if (o->id == OPT_MEM) {
		if (parse_mem(val, &cfg->mem_mb) < 0)
			return bad_value(err, errlen, o, val, "is not a memory size");
	} else if (parse_socket_mem(val, cfg) < 0) {
		return bad_value(err, errlen, o, val, "is not a list of MiB per NUMA node");
	}
	if (cfg->mem_mb && cfg->socket_mem_set)
		return fail(err, errlen,
			    "options -m and --socket-mem cannot be combined; use one");
	return 0;
}

static int apply(const struct opt *o, const char *val, struct eal_args *a,
		 char *err, size_t errlen)
{
	struct eal_config *cfg = &a->cfg;
	uint64_t v;

	switch (o->id) {
	case OPT_LCORES:
		if (parse_lcores(val, cfg) < 0)
			return bad_value(err, errlen, o, val,
					 "is not a list of lcores (each at most once, below "
					 PDK_STRINGIFY(PDK_MAX_LCORES) ")");
		return 0;
	case OPT_MAIN_LCORE:
		if (parse_uint(val, PDK_MAX_LCORES - 1, &v) < 0)
			return bad_value(err, errlen, o, val, "is not an lcore id");
		cfg->main_lcore = (unsigned)v;
		cfg->main_lcore_set = true;
		return 0;
	case OPT_ALLOW:
	case OPT_BLOCK:
		return apply_dev(o, val, a, err, errlen);
	case OPT_VDEV:
		if (cfg->nb_vdev == EAL_MAX_VDEVS)
			return bad_value(err, errlen, o, val, "is one vdev too many");
		if (*val == '\0' || *val == ',' || !isalpha((unsigned char)*val))
			return bad_value(err, errlen, o, val, "does not start with a driver name");
		cfg->vdev[cfg->nb_vdev] = strdup(val);
		if (cfg->vdev[cfg->nb_vdev] == NULL)
			return fail(err, errlen, "out of memory parsing --vdev");
		cfg->nb_vdev++;
		return 0;
	case OPT_MEM:
	case OPT_SOCKET_MEM:
		return apply_mem(o, val, a, err, errlen);
	case OPT_NO_HUGE:
		cfg->no_huge = true;
		return 0;
	case OPT_HUGE_DIR:
		if (*val != '/' || strlen(val) >= sizeof(cfg->huge_dir))
			return bad_value(err, errlen, o, val, "is not an absolute path");
		strcpy(cfg->huge_dir, val);
		return 0;
	case OPT_FILE_PREFIX:
		if (!valid_prefix(val))
			return bad_value(err, errlen, o, val,
					 "is not a valid prefix (1-63 letters, digits, '-', '_')");
		strcpy(cfg->file_prefix, val);
		return 0;
	case OPT_IN_MEMORY:
		cfg->in_memory = true;
		return 0;
	case OPT_IOVA_MODE:
		if (strcmp(val, "auto") == 0)
			cfg->iova_mode = PDK_IOVA_DC;
		else if (strcmp(val, "va") == 0)
			cfg->iova_mode = PDK_IOVA_VA;
		else if (strcmp(val, "pa") == 0)
			cfg->iova_mode = PDK_IOVA_PA;
		else
			return bad_value(err, errlen, o, val, "is not an IOVA mode");
		return 0;
	case OPT_LOG_LEVEL:
		if (parse_log_level(val, a) < 0)
			return bad_value(err, errlen, o, val,
					 "is not a level (err, warning, notice, info, debug or 1-5)"
					 " optionally after 'component:'");
		return 0;
	case OPT_NO_PCI:
		cfg->no_pci = true;
		return 0;
	case OPT_CHANNELS:
		if (parse_uint(val, 32, &v) < 0 || v == 0)
			return bad_value(err, errlen, o, val, "is not a channel count (1-32)");
		return 0;
	case OPT_HELP:
		cfg->help = true;
		return 0;
	}
	return -EINVAL;
}

/* Find the option `arg` names; *inline_val gets "=value" or "-lVALUE". */
static const struct opt *lookup(const char *arg, const char **inline_val)
{
	*inline_val = NULL;
	if (arg[1] == '-') {
		const char *name = arg + 2;
		const char *eq = strchr(name, '=');
		size_t len = eq ? (size_t)(eq - name) : strlen(name);

		for (size_t i = 0; i < PDK_DIM(opts); i++)
			if (strlen(opts[i].long_name) == len &&
			    strncmp(opts[i].long_name, name, len) == 0) {
				if (eq)
					*inline_val = eq + 1;
				return &opts[i];
			}
		return NULL;
	}
	for (size_t i = 0; i < PDK_DIM(opts); i++)
		if (opts[i].short_name && opts[i].short_name == arg[1]) {
			if (arg[2] != '\0')
				*inline_val = arg + 2;
			return &opts[i];
		}
	return NULL;
}

static void config_defaults(struct eal_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	for (unsigned i = 0; i < PDK_MAX_LCORES; i++)
		cfg->lcore_cpu[i] = -1;
	strcpy(cfg->file_prefix, EAL_DEFAULT_PREFIX);
}

static int check_config(struct eal_config *cfg, char *err, size_t errlen)
{
	if (cfg->lcore_count == 0) {
		cfg->lcore_cpu[0] = -2; /* "the cpu we are running on" */
		cfg->lcore_count = 1;
	}
	if (!cfg->main_lcore_set) {
		for (unsigned i = 0; i < PDK_MAX_LCORES; i++)
			if (cfg->lcore_cpu[i] != -1) {
				cfg->main_lcore = i;
				break;
			}
	} else if (cfg->lcore_cpu[cfg->main_lcore] == -1) {
		return fail(err, errlen,
			    "option --main-lcore: lcore %u is not in the -l list; "
			    "add it to -l or pick one of the listed lcores",
			    cfg->main_lcore);
	}
	if (cfg->no_huge && cfg->huge_dir[0])
		return fail(err, errlen,
			    "options --no-huge and --huge-dir cannot be combined; drop one");
	if (cfg->no_huge && cfg->iova_mode == PDK_IOVA_PA)
		return fail(err, errlen,
			    "options --no-huge and --iova-mode pa cannot be combined: the "
			    "kernel may move 4 KiB pages; use hugepages or --iova-mode va");
	if (cfg->in_memory && cfg->huge_dir[0])
		return fail(err, errlen,
			    "options --in-memory and --huge-dir cannot be combined; "
			    "--in-memory keeps no files on hugetlbfs");
	return 0;
}

int eal_parse_args(int argc, char **argv, struct eal_args *a, char *err,
		   size_t errlen)
{
	int i = 1;

	memset(a, 0, sizeof(*a));
	config_defaults(&a->cfg);
	err[0] = '\0';
	while (i < argc) {
		const char *arg = argv[i];
		const char *val;
		const struct opt *o;
		int rc;

		if (strcmp(arg, "--") == 0) {
			i++;
			break;
		}
		if (arg[0] != '-' || arg[1] == '\0')
			break;
		o = lookup(arg, &val);
		if (o == NULL) {
			fail(err, errlen,
			     "unknown EAL option '%s'; run with -h for the list "
			     "(application options go after '--')", arg);
			goto error;
		}
		i++;
		if (o->has_arg && val == NULL) {
			if (i >= argc) {
				bad_value(err, errlen, o, "", "is missing");
				goto error;
			}
			val = argv[i++];
		} else if (!o->has_arg && val != NULL) {
			fail(err, errlen, "option --%s takes no value (got '%s')",
			     o->long_name, val);
			goto error;
		}
		rc = apply(o, val, a, err, errlen);
		if (rc < 0)
			goto error;
	}
	if (check_config(&a->cfg, err, errlen) < 0)
		goto error;
	return i - 1;
error:
	eal_args_release(a);
	return -EINVAL;
}

void eal_args_release(struct eal_args *a)
{
	struct eal_config *cfg = &a->cfg;

	for (unsigned i = 0; i < cfg->nb_allow; i++)
		free(cfg->allow[i].args);
	for (unsigned i = 0; i < cfg->nb_block; i++)
		free(cfg->block[i].args);
	for (unsigned i = 0; i < cfg->nb_vdev; i++)
		free(cfg->vdev[i]);
	cfg->nb_allow = cfg->nb_block = cfg->nb_vdev = 0;
}

const char *pdk_eal_usage(void)
{
	static char text[4096];
	size_t off;

	if (text[0] != '\0')
		return text;
	off = (size_t)snprintf(text, sizeof(text), "EAL options:\n");
	for (size_t i = 0; i < PDK_DIM(opts) && off < sizeof(text); i++) {
		char names[48];

		if (opts[i].short_name)
			snprintf(names, sizeof(names), "-%c, --%s", opts[i].short_name,
				 opts[i].long_name);
		else
			snprintf(names, sizeof(names), "    --%s", opts[i].long_name);
		off += (size_t)snprintf(text + off, sizeof(text) - off,
					"  %-20s %s\n  %-20s   e.g. %s\n", names,
					opts[i].help, "", opts[i].forms);
	}
	return text;
}
