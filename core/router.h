/* router.h - routes compiled against the running instances: which
 * destinations a message of a given type from a given source goes to,
 * and whether it travels durably (journaled) or in memory. A table is
 * immutable once built; a SIGHUP reload builds a new one and swaps it. */
#ifndef DRAY_CORE_ROUTER_H
#define DRAY_CORE_ROUTER_H

#include <stddef.h>

#include "site_config.h"

struct dray__route_table;

/* Builds the table for `site` against the running instances, named by
 * `names` (index = instance index); `can_receive[i]` says whether
 * instance i has delivery lanes. Routes naming instances that do not run
 * are skipped with a warning. NULL on allocation failure. */
struct dray__route_table *dray__route_table_build(const struct dray__site *site,
                                                  char *const *names, const int *can_receive,
                                                  size_t instance_count);
void dray__route_table_free(struct dray__route_table **t);

/* Destinations of a message of `type` emitted by instance `from`, each
 * once, into dests (at most max). *durable is set when any matching
 * route is durable (the default). Returns the count. */
size_t dray__route_match(const struct dray__route_table *t, size_t from, const char *type,
                         size_t *dests, size_t max, int *durable);

#endif
