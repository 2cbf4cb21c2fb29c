/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * Logging. Libraries never print: they call pdk_log() with a component name
 * ("eal", "vfio", "nvme", ...) and the values that matter. Messages go to
 * stderr with a timestamp, or to a sink the application installs.
 */
#ifndef PDK_LOG_H
#define PDK_LOG_H

#include <stdarg.h>
#include <stdbool.h>

#include <pdk_common.h>

#ifdef __cplusplus
extern "C" {
#endif

enum pdk_log_level {
	PDK_LOG_ERR = 1,
	PDK_LOG_WARNING = 2,
	PDK_LOG_NOTICE = 3,
	PDK_LOG_INFO = 4,
	PDK_LOG_DEBUG = 5,
};

/* A component name is at most this long (longer names are truncated). */
#define PDK_LOG_COMPONENT_MAX 32

/* Log one message at `level` for `component` (printf-style). */
PDK_API void pdk_log(int level, const char *component, const char *fmt, ...)
	PDK_FORMAT(3, 4);
PDK_API void pdk_vlog(int level, const char *component, const char *fmt,
		      va_list ap) PDK_FORMAT(3, 0);

/* Shorthand: PDK_LOG(ERR, "vfio", "bad thing %d", x). */
#define PDK_LOG(level, component, ...) \
	pdk_log(PDK_LOG_##level, component, __VA_ARGS__)

/* True when a message of `level` for `component` would be emitted. */
PDK_API bool pdk_log_enabled(int level, const char *component);

/*
 * Set the level for components matching `pattern` (an exact name, or a
 * prefix ending in '*'); NULL or "*" sets the global level. Later rules win.
 * Returns 0 or -EINVAL.
 */
PDK_API int pdk_log_set_level(const char *pattern, int level);
PDK_API int pdk_log_get_level(const char *component);

/* "err", "warning", "notice", "info", "debug" or 1..5; -EINVAL otherwise. */
PDK_API int pdk_log_parse_level(const char *s);
PDK_API const char *pdk_log_level_name(int level);

/*
 * Send messages to `fn` instead of stderr (NULL restores stderr). The sink
 * gets the message without timestamp or trailing newline.
 */
typedef void (*pdk_log_sink_t)(int level, const char *component,
			       const char *msg, void *arg);
PDK_API void pdk_log_set_sink(pdk_log_sink_t fn, void *arg);

/* Reset levels to the default (notice) and drop every rule. */
PDK_API void pdk_log_reset(void);

#ifdef __cplusplus
}
#endif
#endif /* PDK_LOG_H */
