/* router.c - compiled routes (see router.h). */
#include "router.h"

#include <stdlib.h>
#include <string.h>

#include "log.h"

struct rule {
  char **types; /* NULL-terminated globs */
  size_t *dests;
  size_t dest_count;
  int memory;
};

struct dray__route_table {
  struct rule **rules; /* per source instance index */
  size_t *rule_count;
  size_t instance_count;
};

void dray__route_table_free(struct dray__route_table **tp) {
  struct dray__route_table *t = tp ? *tp : NULL;
  if (!t) return;
  *tp = NULL;
  for (size_t i = 0; t->rules && i < t->instance_count; i++) {
    for (size_t r = 0; r < t->rule_count[i]; r++) {
      for (char **g = t->rules[i][r].types; g && *g; g++) free(*g);
      free(t->rules[i][r].types);
      free(t->rules[i][r].dests);
    }
    free(t->rules[i]);
  }
  free(t->rules);
  free(t->rule_count);
  free(t);
}

static long find(char *const *names, size_t count, const char *name) {
  for (size_t i = 0; i < count; i++)
    if (strcmp(names[i], name) == 0) return (long)i;
  return -1;
}

struct dray__route_table *dray__route_table_build(const struct dray__site *site,
                                                  char *const *names, const int *can_receive,
                                                  size_t count) {
  struct dray__route_table *t = calloc(1, sizeof *t);
  if (!t) return NULL;
  t->instance_count = count;
  t->rules = calloc(count ? count : 1, sizeof *t->rules);
  t->rule_count = calloc(count ? count : 1, sizeof *t->rule_count);
  if (!t->rules || !t->rule_count) goto fail;
  for (size_t r = 0; r < site->route_count; r++) {
    const struct dray__route *route = &site->routes[r];
    for (size_t f = 0; route->from && route->from[f]; f++) {
      long src = find(names, count, route->from[f]);
      if (src < 0) {
        dray__warn("route at line %d: instance %s is not running (restart to add instances)",
                   route->line, route->from[f]);
        continue;
      }
      struct rule *v = realloc(t->rules[src], (t->rule_count[src] + 1) * sizeof *v);
      if (!v) goto fail;
      t->rules[src] = v;
      struct rule *rule = &v[t->rule_count[src]++];
      memset(rule, 0, sizeof *rule);
      rule->memory = route->memory;
      size_t nt = 0, nd = 0;
      while (route->types[nt]) nt++;
      while (route->to[nd]) nd++;
      rule->types = calloc(nt + 1, sizeof *rule->types);
      rule->dests = calloc(nd ? nd : 1, sizeof *rule->dests);
      if (!rule->types || !rule->dests) goto fail;
      for (size_t i = 0; i < nt; i++)
        if (!(rule->types[i] = strdup(route->types[i]))) goto fail;
      for (size_t i = 0; i < nd; i++) {
        long d = find(names, count, route->to[i]);
        if (d < 0 || !can_receive[d]) {
          dray__warn("route at line %d: destination %s is not running", route->line,
                     route->to[i]);
          continue;
        }
        rule->dests[rule->dest_count++] = (size_t)d;
      }
    }
  }
  return t;
fail:
  dray__route_table_free(&t);
  return NULL;
}

size_t dray__route_match(const struct dray__route_table *t, size_t from, const char *type,
                         size_t *dests, size_t max, int *durable) {
  size_t count = 0;
  *durable = 0;
  if (!t || from >= t->instance_count) return 0;
  for (size_t r = 0; r < t->rule_count[from]; r++) {
    const struct rule *rule = &t->rules[from][r];
    int match = 0;
    for (char **g = rule->types; *g && !match; g++) match = dray__glob_match(*g, type);
    if (!match) continue;
    if (!rule->memory && rule->dest_count) *durable = 1;
    for (size_t d = 0; d < rule->dest_count; d++) {
      int seen = 0;
      for (size_t k = 0; k < count && !seen; k++) seen = dests[k] == rule->dests[d];
      if (!seen && count < max) dests[count++] = rule->dests[d];
    }
  }
  return count;
}
