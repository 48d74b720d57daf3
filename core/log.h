/* log.h - the runtime's log: one line per event on stderr,
 * "2026-11-22T08:31:11.123Z level [instance] message". */
#ifndef DRAY_CORE_LOG_H
#define DRAY_CORE_LOG_H

#include <stdarg.h>

#include <dray/abi.h>

/* Lines above this level are dropped (default DRAY_LOG_INFO; DRAY_LOG env
 * or the site's log_level change it). */
void dray__log_set_level(int level);
int dray__log_level(void);
/* Parses "error", "warn", "info", "debug"; -1 if unknown. */
int dray__log_parse_level(const char *name);
/* `who` is an instance name or NULL for the core. Thread-safe. */
void dray__log(int level, const char *who, const char *fmt, ...)
    DRAY_PRINTF(3, 4);
void dray__vlog(int level, const char *who, const char *fmt, va_list ap);

#define dray__error(...) dray__log(DRAY_LOG_ERROR, NULL, __VA_ARGS__)
#define dray__warn(...) dray__log(DRAY_LOG_WARN, NULL, __VA_ARGS__)
#define dray__info(...) dray__log(DRAY_LOG_INFO, NULL, __VA_ARGS__)
#define dray__debug(...) dray__log(DRAY_LOG_DEBUG, NULL, __VA_ARGS__)

#endif
