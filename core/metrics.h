/* metrics.h - counters, gauges and histograms, named
 * "<instance>.<name>" (or "core.<name>"), kept in memory and dumped on
 * request (log at shutdown; the admin endpoint later). Thread-safe. */
#ifndef DRAY_CORE_METRICS_H
#define DRAY_CORE_METRICS_H

#include <stdint.h>
#include <stdio.h>

void dray__metric_add(const char *scope, const char *name, uint64_t delta);
void dray__metric_set(const char *scope, const char *name, double value);
void dray__metric_observe(const char *scope, const char *name, double value);
/* A counter's cell, for hot paths that count every message: look it up
 * once, then atomically add to it (dray__metric_inc). Stable until
 * dray__metrics_reset; NULL when out of memory. */
struct dray__metric_cell;
struct dray__metric_cell *dray__metric_cell(const char *scope, const char *name);
void dray__metric_inc(struct dray__metric_cell *cell, uint64_t delta);
/* Current value of a counter (0 if unknown). */
uint64_t dray__metric_counter(const char *scope, const char *name);
/* One line per metric: "name value" (histograms: count, sum, min, max). */
void dray__metrics_dump(FILE *out);
/* Calls fn for each metric whose name starts with "<scope>." with the
 * name after the scope and its value (counters and gauges). */
void dray__metrics_each(const char *scope,
                        void (*fn)(void *ctx, const char *name, double value),
                        void *ctx);
/* Forgets everything (tests). */
void dray__metrics_reset(void);

#endif
