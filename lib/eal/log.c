/* SPDX-License-Identifier: BSD-3-Clause */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "pdk_log.h"

#define MAX_RULES 64
#define DEFAULT_LEVEL PDK_LOG_NOTICE

struct rule {
	char pattern[PDK_LOG_COMPONENT_MAX];
	bool prefix; /* pattern ended in '*' */
	int level;
};

static struct {
	pthread_mutex_t lock;
	int global;
	unsigned nb_rules;
	struct rule rules[MAX_RULES];
	pdk_log_sink_t sink;
	void *sink_arg;
} logs = {
	.lock = PTHREAD_MUTEX_INITIALIZER,
	.global = DEFAULT_LEVEL,
};

static const char *const level_names[] = {
	[PDK_LOG_ERR] = "err",       [PDK_LOG_WARNING] = "warning",
	[PDK_LOG_NOTICE] = "notice", [PDK_LOG_INFO] = "info",
	[PDK_LOG_DEBUG] = "debug",
};

const char *pdk_log_level_name(int level)
{
	if (level < PDK_LOG_ERR || level > PDK_LOG_DEBUG)
		return "?";
	return level_names[level];
}

int pdk_log_parse_level(const char *s)
{
	char *end;
	long v;

	if (s == NULL || *s == '\0')
		return -EINVAL;
	for (int l = PDK_LOG_ERR; l <= PDK_LOG_DEBUG; l++)
		if (strcasecmp(s, level_names[l]) == 0)
			return l;
	if (strcasecmp(s, "error") == 0)
		return PDK_LOG_ERR;
	if (strcasecmp(s, "warn") == 0)
		return PDK_LOG_WARNING;
	v = strtol(s, &end, 10);
	if (*end != '\0' || v < PDK_LOG_ERR || v > PDK_LOG_DEBUG)
		return -EINVAL;
	return (int)v;
}

static bool rule_matches(const struct rule *r, const char *component)
{
	if (r->prefix)
		return strncmp(component, r->pattern, strlen(r->pattern)) == 0;
	return strncmp(component, r->pattern, PDK_LOG_COMPONENT_MAX - 1) == 0;
}

/* Caller holds logs.lock. The last matching rule wins. */
static int level_of(const char *component)
{
	int level = logs.global;

	if (component == NULL)
		return level;
	for (unsigned i = 0; i < logs.nb_rules; i++)
		if (rule_matches(&logs.rules[i], component))
			level = logs.rules[i].level;
	return level;
}

int pdk_log_get_level(const char *component)
{
	int level;

	pthread_mutex_lock(&logs.lock);
	level = level_of(component);
	pthread_mutex_unlock(&logs.lock);
	return level;
}

bool pdk_log_enabled(int level, const char *component)
{
	return level <= pdk_log_get_level(component);
}

int pdk_log_set_level(const char *pattern, int level)
{
	struct rule *r;
	size_t len;

	if (level < PDK_LOG_ERR || level > PDK_LOG_DEBUG)
		return -EINVAL;
	pthread_mutex_lock(&logs.lock);
	if (pattern == NULL || strcmp(pattern, "*") == 0) {
		logs.global = level;
		logs.nb_rules = 0; /* a global level overrides earlier rules */
		pthread_mutex_unlock(&logs.lock);
		return 0;
	}
	len = strlen(pattern);
	if (len == 0 || len >= PDK_LOG_COMPONENT_MAX || logs.nb_rules == MAX_RULES) {
		pthread_mutex_unlock(&logs.lock);
		return -EINVAL;
	}
	r = &logs.rules[logs.nb_rules++];
	r->prefix = pattern[len - 1] == '*';
	memcpy(r->pattern, pattern, len + 1);
	if (r->prefix)
		r->pattern[len - 1] = '\0';
	r->level = level;
	pthread_mutex_unlock(&logs.lock);
	return 0;
}

void pdk_log_reset(void)
{
	pthread_mutex_lock(&logs.lock);
	logs.global = DEFAULT_LEVEL;
	logs.nb_rules = 0;
	pthread_mutex_unlock(&logs.lock);
}

void pdk_log_set_sink(pdk_log_sink_t fn, void *arg)
{
	pthread_mutex_lock(&logs.lock);
	logs.sink = fn;
	logs.sink_arg = arg;
	pthread_mutex_unlock(&logs.lock);
}

/* One write(2) per message so lines from several threads do not interleave. */
static void emit_stderr(int level, const char *component, const char *msg)
{
	char line[2048];
	struct timespec ts;
	struct tm tm;
	int n;

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	n = snprintf(line, sizeof(line), "%02d:%02d:%02d.%06ld %s %s: %s\n",
		     tm.tm_hour, tm.tm_min, tm.tm_sec, ts.tv_nsec / 1000,
		     pdk_log_level_name(level), component ? component : "-", msg);
	if (n < 0)
		return;
	if ((size_t)n >= sizeof(line)) {
		n = sizeof(line) - 1;
		line[n - 1] = '\n';
	}
	if (write(STDERR_FILENO, line, (size_t)n) < 0)
		return; /* nowhere left to report it */
}

void pdk_vlog(int level, const char *component, const char *fmt, va_list ap)
{
	char msg[1536];
	pdk_log_sink_t sink;
	void *arg;

	pthread_mutex_lock(&logs.lock);
	if (level > level_of(component)) {
		pthread_mutex_unlock(&logs.lock);
		return;
	}
	sink = logs.sink;
	arg = logs.sink_arg;
	pthread_mutex_unlock(&logs.lock);

	vsnprintf(msg, sizeof(msg), fmt, ap);
	if (sink != NULL)
		sink(level, component, msg, arg);
	else
		emit_stderr(level, component, msg);
}

void pdk_log(int level, const char *component, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	pdk_vlog(level, component, fmt, ap);
	va_end(ap);
}
