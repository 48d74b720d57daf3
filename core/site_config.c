/* site_config.c - reading and checking a site file (see site_config.h).
 *
 * The checks run to the end and collect every error, so one `dray check`
 * shows the operator all that is wrong. */
#include "site_config.h"

#include <errno.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "log.h"

void dray__diag_add(struct dray__diag *d, const char *file,
                    const struct dray__node *at, const char *fmt, ...) {
  char msg[1024], *line = NULL;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(msg, sizeof msg, fmt, ap);
  va_end(ap);
  if (asprintf(&line, "%s:%d:%d: %s", file, at ? at->line : 1,
               at ? at->col : 1, msg) < 0)
    return;
  if (d->count == d->cap) {
    size_t cap = d->cap ? d->cap * 2 : 8;
    char **v = realloc(d->lines, cap * sizeof *v);
    if (!v) {
      free(line);
      return;
    }
    d->lines = v;
    d->cap = cap;
  }
  d->lines[d->count++] = line;
}

void dray__diag_release(struct dray__diag *d) {
  for (size_t i = 0; i < d->count; i++) free(d->lines[i]);
  free(d->lines);
  memset(d, 0, sizeof *d);
}

int dray__glob_match(const char *p, const char *t) {
  const char *star = NULL, *mark = NULL;
  while (*t) {
    if (*p == '*') {
      star = p++;
      mark = t;
    } else if (*p == *t) {
      p++;
      t++;
    } else if (star) {
      p = star + 1;
      t = ++mark;
    } else {
      return 0;
    }
  }
  while (*p == '*') p++;
  return *p == '\0';
}

int dray__glob_intersect(const char *a, const char *b) {
  if (!*a && !*b) return 1;
  if (*a == '*') return dray__glob_intersect(a + 1, b) || (*b && dray__glob_intersect(a, b + 1));
  if (*b == '*') return dray__glob_intersect(a, b + 1) || (*a && dray__glob_intersect(a + 1, b));
  return *a && *b && *a == *b && dray__glob_intersect(a + 1, b + 1);
}

/* --- small readers that report into the diagnostics ---------------------- */

struct reader {
  const char *file;
  struct dray__diag *diag;
  char base_dir[PATH_MAX];
};

static int want_kind(struct reader *r, const struct dray__node *n,
                     enum dray__node_kind kind, const char *what) {
  static const char *const names[] = {"a scalar", "a list", "a mapping"};
  if (n->kind == kind) return 1;
  dray__diag_add(r->diag, r->file, n, "%s: expected %s, got a %s", what,
                 names[kind], dray__node_kind_name(n));
  return 0;
}

static char *read_string(struct reader *r, const struct dray__node *n,
                         const char *what) {
  if (!want_kind(r, n, DRAY_NODE_SCALAR, what)) return NULL;
  return strdup(n->value);
}

static int read_uint(struct reader *r, const struct dray__node *n,
                     const char *what, unsigned min, unsigned max,
                     unsigned *out) {
  if (!want_kind(r, n, DRAY_NODE_SCALAR, what)) return -1;
  char *end;
  errno = 0;
  unsigned long v = strtoul(n->value, &end, 10);
  if (errno || !*n->value || *end || n->value[0] == '-' || v < min || v > max) {
    dray__diag_add(r->diag, r->file, n,
                   "%s: expected an integer from %u to %u, got \"%s\"", what,
                   min, max, n->value);
    return -1;
  }
  *out = (unsigned)v;
  return 0;
}

/* Paths in the site file are relative to the file's folder. */
static char *read_path(struct reader *r, const struct dray__node *n,
                       const char *what) {
  char *s = read_string(r, n, what);
  if (!s || s[0] == '/') return s;
  char *abs = NULL;
  if (asprintf(&abs, "%s/%s", r->base_dir, s) < 0) abs = NULL;
  free(s);
  return abs;
}

/* A scalar or a list of scalars, as a NULL-terminated array. */
static char **read_names(struct reader *r, const struct dray__node *n,
                         const char *what) {
  size_t count = n->kind == DRAY_NODE_SEQUENCE ? n->count : 1;
  char **v = calloc(count + 1, sizeof *v);
  if (!v) return NULL;
  if (n->kind == DRAY_NODE_MAPPING) {
    dray__diag_add(r->diag, r->file, n,
                   "%s: expected a name or a list of names, got a mapping",
                   what);
    free(v);
    return NULL;
  }
  for (size_t i = 0; i < count; i++) {
    const struct dray__node *item = n->kind == DRAY_NODE_SEQUENCE ? n->items[i] : n;
    if (!want_kind(r, item, DRAY_NODE_SCALAR, what)) continue;
    v[i] = strdup(item->value);
  }
  return v;
}

static void free_names(char **v) {
  for (size_t i = 0; v && v[i]; i++) free(v[i]);
  free(v);
}

static void check_keys(struct reader *r, const struct dray__node *map,
                       const char *where, const char *const *allowed) {
  for (size_t i = 0; i < map->count; i++) {
    int ok = 0;
    for (size_t j = 0; allowed[j] && !ok; j++)
      ok = strcmp(map->keys[i]->value, allowed[j]) == 0;
    if (!ok) {
      char list[512] = "";
      for (size_t j = 0; allowed[j]; j++) {
        strncat(list, j ? ", " : "", sizeof list - strlen(list) - 1);
        strncat(list, allowed[j], sizeof list - strlen(list) - 1);
      }
      dray__diag_add(r->diag, r->file, map->keys[i],
                     "unknown key \"%s\" in %s (expected one of: %s)",
                     map->keys[i]->value, where, list);
    }
  }
}

/* --- instances ----------------------------------------------------------- */

/* The plugin's config: every key checked against the plugin's declared
 * schema; secret values never appear in a message. */
static void read_plugin_config(struct reader *r,
                               struct dray__instance_config *ic,
                               const struct dray__node *cfg,
                               const struct dray__node *at) {
  const struct dray_plugin *d = ic->plugin->desc;
  dray__config_init(&ic->values, d);
  if (cfg && cfg->kind == DRAY_NODE_SCALAR && cfg->value[0] == '\0')
    cfg = NULL; /* "config:" with nothing after it */
  if (cfg && want_kind(r, cfg, DRAY_NODE_MAPPING, "config")) {
    for (size_t i = 0; i < cfg->count; i++) {
      const struct dray__node *key = cfg->keys[i], *val = cfg->items[i];
      const struct dray_param *p = dray__param_find(d, key->value);
      if (!p) {
        char list[512] = "";
        for (size_t j = 0; j < d->param_count; j++) {
          strncat(list, j ? ", " : "", sizeof list - strlen(list) - 1);
          strncat(list, d->params[j].name, sizeof list - strlen(list) - 1);
        }
        dray__diag_add(r->diag, r->file, key,
                       "instance %s: unknown key \"%s\" for plugin %s "
                       "(expected one of: %s)",
                       ic->name, key->value, d->name, list);
        continue;
      }
      char *text = NULL;
      if (p->type == DRAY_PARAM_LIST || p->type == DRAY_PARAM_OBJECT) {
        if (p->type == DRAY_PARAM_LIST && val->kind != DRAY_NODE_SEQUENCE) {
          dray__diag_add(r->diag, r->file, val,
                         "instance %s: %s: expected a list, got a %s",
                         ic->name, p->name, dray__node_kind_name(val));
          continue;
        }
        if (p->type == DRAY_PARAM_OBJECT && val->kind != DRAY_NODE_MAPPING) {
          dray__diag_add(r->diag, r->file, val,
                         "instance %s: %s: expected a mapping, got a %s",
                         ic->name, p->name, dray__node_kind_name(val));
          continue;
        }
        if (p->type == DRAY_PARAM_LIST) {
          /* a list of strings, whatever the scalars look like */
          struct dray__node copy = *val;
          for (size_t j = 0; j < val->count; j++)
            if (val->items[j]->kind != DRAY_NODE_SCALAR) {
              dray__diag_add(r->diag, r->file, val->items[j],
                             "instance %s: %s: list items must be scalars",
                             ic->name, p->name);
              goto next;
            }
          for (size_t j = 0; j < copy.count; j++) copy.items[j]->plain = 0;
        }
        text = dray__node_to_json(val);
      } else {
        if (val->kind != DRAY_NODE_SCALAR) {
          dray__diag_add(r->diag, r->file, val,
                         "instance %s: %s: expected a %s value, got a %s",
                         ic->name, p->name, dray__param_type_name(p->type),
                         dray__node_kind_name(val));
          continue;
        }
        if (p->type == DRAY_PARAM_PATH && val->value[0] &&
            val->value[0] != '/') {
          if (asprintf(&text, "%s/%s", r->base_dir, val->value) < 0)
            text = NULL;
        } else {
          text = strdup(val->value);
        }
      }
      if (!text) continue;
      char why[512];
      if (dray__param_check(p, text, why, sizeof why) != 0)
        dray__diag_add(r->diag, r->file, val, "instance %s: %s", ic->name,
                       why);
      else
        dray__config_set(&ic->values, p->name, text);
      memset(text, 0, strlen(text));
      free(text);
    next:;
    }
  }
  for (size_t j = 0; j < d->param_count; j++) {
    const struct dray_param *p = &d->params[j];
    if ((p->flags & DRAY_PARAM_REQUIRED) && !p->default_value &&
        !dray__node_get(cfg, p->name))
      dray__diag_add(r->diag, r->file, cfg ? cfg : at,
                     "instance %s: required key \"%s\" missing (plugin %s: "
                     "%s)",
                     ic->name, p->name, d->name,
                     p->description ? p->description : "");
  }
}

static const char *const instance_keys[] = {
    "plugin", "config", "workers", "queue_capacity", "poll_interval_ms",
    "effects", "retry", "breaker", NULL};
static const char *const retry_keys[] = {"base_ms", "cap_ms", "max_age_ms", NULL};
static const char *const breaker_keys[] = {
    "consecutive_failures", "window", "window_min", "failure_ratio_pct",
    "open_ms", "open_max_ms", "half_open_probes", NULL};

static void read_ms(struct reader *r, const struct dray__node *map, const char *key,
                    unsigned max, int64_t *out) {
  const struct dray__node *v = dray__node_get(map, key);
  unsigned u;
  if (v && read_uint(r, v, key, 0, max, &u) == 0) *out = u;
}

static void read_count(struct reader *r, const struct dray__node *map, const char *key,
                       unsigned min, unsigned max, unsigned *out) {
  const struct dray__node *v = dray__node_get(map, key);
  if (v) read_uint(r, v, key, min, max, out);
}

static void read_policies(struct reader *r, struct dray__instance_config *ic,
                          const struct dray__node *n) {
  const struct dray__node *v;
  if ((v = dray__node_get(n, "retry")) && want_kind(r, v, DRAY_NODE_MAPPING, "retry")) {
    check_keys(r, v, "retry", retry_keys);
    read_ms(r, v, "base_ms", 3600000, &ic->retry.base_ms);
    read_ms(r, v, "cap_ms", 86400000, &ic->retry.cap_ms);
    read_ms(r, v, "max_age_ms", 2592000000u, &ic->retry.max_age_ms);
  }
  if ((v = dray__node_get(n, "breaker")) && want_kind(r, v, DRAY_NODE_MAPPING, "breaker")) {
    check_keys(r, v, "breaker", breaker_keys);
    read_count(r, v, "consecutive_failures", 1, 1000, &ic->breaker.consecutive_failures);
    read_count(r, v, "window", 1, 64, &ic->breaker.window);
    read_count(r, v, "window_min", 1, 64, &ic->breaker.window_min);
    read_count(r, v, "failure_ratio_pct", 1, 100, &ic->breaker.failure_ratio_pct);
    read_ms(r, v, "open_ms", 86400000, &ic->breaker.open_ms);
    read_ms(r, v, "open_max_ms", 86400000, &ic->breaker.open_max_ms);
    read_count(r, v, "half_open_probes", 1, 100, &ic->breaker.half_open_probes);
  }
}

static void read_instance(struct reader *r, struct dray__registry *reg,
                          struct dray__instance_config *ic,
                          const struct dray__node *key,
                          const struct dray__node *n) {
  ic->name = strdup(key->value);
  ic->workers = 1;
  ic->queue_capacity = 1024;
  ic->poll_interval_ms = 200;
  ic->effects = strdup("none");
  dray__retry_policy_default(&ic->retry);
  dray__breaker_policy_default(&ic->breaker);
  const char *c = key->value;
  int name_ok = *c != '\0';
  for (; *c; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_' ||
          *c == '-'))
      name_ok = 0;
  if (!name_ok)
    dray__diag_add(r->diag, r->file, key,
                   "instance name \"%s\" must be [a-z0-9_-]+", key->value);
  if (!want_kind(r, n, DRAY_NODE_MAPPING, "instance")) return;
  check_keys(r, n, "an instance", instance_keys);
  const struct dray__node *v;
  if ((v = dray__node_get(n, "workers")))
    read_uint(r, v, "workers", 1, 64, &ic->workers);
  if ((v = dray__node_get(n, "queue_capacity")))
    read_uint(r, v, "queue_capacity", 1, 10000000, &ic->queue_capacity);
  if ((v = dray__node_get(n, "poll_interval_ms")))
    read_uint(r, v, "poll_interval_ms", 1, 3600000, &ic->poll_interval_ms);
  read_policies(r, ic, n);
  if ((v = dray__node_get(n, "effects"))) {
    if (want_kind(r, v, DRAY_NODE_SCALAR, "effects")) {
      if (strcmp(v->value, "none") && strcmp(v->value, "financial"))
        dray__diag_add(r->diag, r->file, v,
                       "effects: expected none or financial, got \"%s\"",
                       v->value);
      free(ic->effects);
      ic->effects = strdup(v->value);
    }
  }
  const struct dray__node *plugin = dray__node_get(n, "plugin");
  if (!plugin) {
    dray__diag_add(r->diag, r->file, key,
                   "instance %s: required key \"plugin\" missing", ic->name);
    return;
  }
  if (!want_kind(r, plugin, DRAY_NODE_SCALAR, "plugin")) return;
  ic->plugin_name = strdup(plugin->value);
  ic->plugin = dray__registry_find(reg, plugin->value);
  if (!ic->plugin) {
    dray__diag_add(r->diag, r->file, plugin,
                   "instance %s: unknown plugin \"%s\" (not found on the "
                   "plugin path; `dray plugins` lists what is there)",
                   ic->name, plugin->value);
    return;
  }
  read_plugin_config(r, ic, dray__node_get(n, "config"), key);
}

/* --- routes ---------------------------------------------------------------- */

static const char *const route_keys[] = {"from", "types", "to", "delivery", NULL};

static int instance_index(const struct dray__site *s, const char *name) {
  for (size_t i = 0; i < s->instance_count; i++)
    if (s->instances[i].name && strcmp(s->instances[i].name, name) == 0)
      return (int)i;
  return -1;
}

static void read_route(struct reader *r, struct dray__site *s,
                       struct dray__route *route, const struct dray__node *n) {
  route->line = n->line;
  if (!want_kind(r, n, DRAY_NODE_MAPPING, "route")) return;
  check_keys(r, n, "a route", route_keys);
  const struct dray__node *from = dray__node_get(n, "from");
  const struct dray__node *to = dray__node_get(n, "to");
  const struct dray__node *types = dray__node_get(n, "types");
  if (!from) dray__diag_add(r->diag, r->file, n, "route: required key \"from\" missing");
  if (!to) dray__diag_add(r->diag, r->file, n, "route: required key \"to\" missing");
  if (from) route->from = read_names(r, from, "from");
  if (to) route->to = read_names(r, to, "to");
  route->types = types ? read_names(r, types, "types") : NULL;
  const struct dray__node *delivery = dray__node_get(n, "delivery");
  if (delivery && want_kind(r, delivery, DRAY_NODE_SCALAR, "delivery")) {
    if (strcmp(delivery->value, "memory") == 0) route->memory = 1;
    else if (strcmp(delivery->value, "durable") != 0)
      dray__diag_add(r->diag, r->file, delivery,
                     "delivery: expected durable or memory, got \"%s\"", delivery->value);
  }
  if (!route->types && (route->types = calloc(2, sizeof(char *))))
    route->types[0] = strdup("*");
  for (int side = 0; side < 2; side++) {
    char **names = side ? route->to : route->from;
    const struct dray__node *at = side ? to : from;
    for (size_t i = 0; names && names[i]; i++) {
      const struct dray__node *item =
          at->kind == DRAY_NODE_SEQUENCE ? at->items[i] : at;
      int idx = instance_index(s, names[i]);
      if (idx < 0) {
        dray__diag_add(r->diag, r->file, item,
                       "route %s unknown instance \"%s\"",
                       side ? "to" : "from", names[i]);
        continue;
      }
      const struct dray__plugin *p = s->instances[idx].plugin;
      if (!p) continue;
      uint32_t need = side ? DRAY_KIND_DESTINATION : DRAY_KIND_SOURCE;
      if (!(p->desc->kinds & need))
        dray__diag_add(r->diag, r->file, item,
                       "route %s instance \"%s\": plugin %s is not a %s",
                       side ? "to" : "from", names[i], p->desc->name,
                       side ? "destination" : "source");
    }
  }
}

/* A routing cycle is a loop of routes around which one message type could
 * travel forever: every route on the loop accepts some common type. Loops
 * whose type globs cannot meet (orders out, invoices back) are normal. */
struct cycle_walk {
  const struct dray__site *site;
  int *on_path;
  const char **globs;
  size_t depth;
  int found;
  char text[1024];
};

static int globs_compatible(struct cycle_walk *w, const char *g) {
  for (size_t i = 0; i < w->depth; i++)
    if (!dray__glob_intersect(w->globs[i], g)) return 0;
  return 1;
}

static void walk(struct cycle_walk *w, int start, int node) {
  const struct dray__site *s = w->site;
  for (size_t ri = 0; ri < s->route_count && !w->found; ri++) {
    const struct dray__route *rt = &s->routes[ri];
    int from_here = 0;
    for (size_t i = 0; rt->from && rt->from[i]; i++)
      if (instance_index(s, rt->from[i]) == node) from_here = 1;
    if (!from_here || !rt->to) continue;
    for (size_t t = 0; rt->types && rt->types[t] && !w->found; t++) {
      if (!globs_compatible(w, rt->types[t])) continue;
      for (size_t i = 0; rt->to[i] && !w->found; i++) {
        int next = instance_index(s, rt->to[i]);
        if (next < 0) continue;
        if (next == start) {
          w->found = 1;
          snprintf(w->text, sizeof w->text,
                   "routing cycle: messages of type %s can return to "
                   "instance %s",
                   rt->types[t], s->instances[start].name);
          return;
        }
        if (w->on_path[next]) continue;
        w->on_path[next] = 1;
        w->globs[w->depth++] = rt->types[t];
        walk(w, start, next);
        w->depth--;
        w->on_path[next] = 0;
      }
    }
  }
}

static void check_cycles(struct reader *r, const struct dray__site *s,
                         const struct dray__node *routes_node) {
  if (!s->instance_count) return;
  int *on_path = calloc(s->instance_count, sizeof *on_path);
  const char **globs = calloc(s->instance_count + 1, sizeof *globs);
  if (!on_path || !globs) goto out;
  for (size_t i = 0; i < s->instance_count; i++) {
    struct cycle_walk w = {.site = s, .on_path = on_path, .globs = globs};
    on_path[i] = 1;
    walk(&w, (int)i, (int)i);
    on_path[i] = 0;
    if (w.found) {
      dray__diag_add(r->diag, r->file, routes_node, "%s", w.text);
      break; /* one report: every member of the loop would repeat it */
    }
  }
out:
  free(on_path);
  free(globs);
}

/* --- the site ------------------------------------------------------------- */

static const char *const top_keys[] = {
    "site", "data_dir", "plugin_path", "log_level", "shutdown_timeout_ms",
    "dedupe_window_ms", "dedupe_capacity", "journal", "dlq", "http", "instances", "routes",
    NULL};
static const char *const journal_keys[] = {"segment_bytes", "max_disk_bytes", "group_max_records",
                                           "group_max_delay_us", NULL};
static const char *const dlq_keys[] = {"max_disk_bytes", NULL};

/* Byte sizes accept a plain integer or a K/M/G suffix (powers of 1024). */
static void read_bytes(struct reader *r, const struct dray__node *map, const char *key,
                       uint64_t min, uint64_t *out) {
  const struct dray__node *v = dray__node_get(map, key);
  if (!v || !want_kind(r, v, DRAY_NODE_SCALAR, key)) return;
  char *end;
  errno = 0;
  unsigned long long n = strtoull(v->value, &end, 10);
  uint64_t mult = 1;
  if (*end == 'K' || *end == 'k') mult = 1024, end++;
  else if (*end == 'M' || *end == 'm') mult = 1024 * 1024, end++;
  else if (*end == 'G' || *end == 'g') mult = 1024ull * 1024 * 1024, end++;
  if (errno || end == v->value || *end || v->value[0] == '-' || n * mult < min) {
    dray__diag_add(r->diag, r->file, v, "%s: expected a size of at least %llu bytes (e.g. 64M), got \"%s\"",
                   key, (unsigned long long)min, v->value);
    return;
  }
  *out = n * mult;
}
static const char *const http_keys[] = {"listen", "tls_cert", "tls_key",
                                        "max_body_bytes", NULL};

static void read_http(struct reader *r, struct dray__site *s,
                      const struct dray__node *n) {
  if (!want_kind(r, n, DRAY_NODE_MAPPING, "http")) return;
  check_keys(r, n, "http", http_keys);
  const struct dray__node *v;
  if ((v = dray__node_get(n, "listen"))) s->http_listen = read_string(r, v, "http.listen");
  else dray__diag_add(r->diag, r->file, n, "http: required key \"listen\" missing");
  if ((v = dray__node_get(n, "tls_cert"))) s->http_tls_cert = read_path(r, v, "http.tls_cert");
  if ((v = dray__node_get(n, "tls_key"))) s->http_tls_key = read_path(r, v, "http.tls_key");
  if (!s->http_tls_cert != !s->http_tls_key)
    dray__diag_add(r->diag, r->file, n, "http: tls_cert and tls_key go together");
  unsigned mb = 16u << 20;
  if ((v = dray__node_get(n, "max_body_bytes")))
    read_uint(r, v, "http.max_body_bytes", 1, 1u << 30, &mb);
  s->http_max_body = mb;
}

static void scan_plugins(struct reader *r, struct dray__site *s,
                         struct dray__registry *reg,
                         const struct dray__node *pp) {
  size_t n = 0;
  if (pp) {
    if (pp->kind == DRAY_NODE_SCALAR) {
      s->plugin_path = calloc(2, sizeof(char *));
      if (s->plugin_path) s->plugin_path[n++] = read_path(r, pp, "plugin_path");
    } else if (want_kind(r, pp, DRAY_NODE_SEQUENCE, "plugin_path")) {
      s->plugin_path = calloc(pp->count + 1, sizeof(char *));
      for (size_t i = 0; s->plugin_path && i < pp->count; i++)
        if ((s->plugin_path[n] = read_path(r, pp->items[i], "plugin_path")))
          n++;
    }
  }
  for (size_t i = 0; s->plugin_path && s->plugin_path[i]; i++)
    dray__registry_scan_dir(reg, s->plugin_path[i]);
  char **defaults = dray__default_plugin_path();
  for (size_t i = 0; defaults && defaults[i]; i++) {
    dray__registry_scan_dir(reg, defaults[i]);
    free(defaults[i]);
  }
  free(defaults);
}

struct dray__site *dray__site_load(const char *path,
                                   struct dray__registry *reg,
                                   struct dray__diag *diag) {
  char err[1024];
  struct reader r = {.file = path, .diag = diag};
  struct dray__node *root = dray__yaml_load(path, err, sizeof err);
  if (!root) {
    /* err is already FILE:LINE:COL: message */
    char **v = realloc(diag->lines, (diag->count + 1) * sizeof *v);
    if (v) {
      diag->lines = v;
      diag->cap = diag->count + 1;
      if ((v[diag->count] = strdup(err))) diag->count++;
    }
    return NULL;
  }
  char dir_copy[PATH_MAX];
  snprintf(dir_copy, sizeof dir_copy, "%s", path);
  if (!realpath(dirname(dir_copy), r.base_dir))
    snprintf(r.base_dir, sizeof r.base_dir, ".");

  struct dray__site *s = calloc(1, sizeof *s);
  if (!s) goto out;
  s->path = strdup(path);
  s->log_level = DRAY_LOG_INFO;
  s->shutdown_timeout_ms = 10000;
  s->dedupe_window_ms = 600000;
  s->dedupe_capacity = 262144;
  if (!want_kind(&r, root, DRAY_NODE_MAPPING, "site file")) goto out;
  check_keys(&r, root, "the site file", top_keys);

  const struct dray__node *v;
  if ((v = dray__node_get(root, "site"))) s->site = read_string(&r, v, "site");
  else dray__diag_add(diag, path, root, "required key \"site\" missing");
  if ((v = dray__node_get(root, "data_dir"))) s->data_dir = read_path(&r, v, "data_dir");
  else dray__diag_add(diag, path, root, "required key \"data_dir\" missing");
  if ((v = dray__node_get(root, "log_level"))) {
    if (want_kind(&r, v, DRAY_NODE_SCALAR, "log_level") &&
        (s->log_level = dray__log_parse_level(v->value)) < 0)
      dray__diag_add(diag, path, v,
                     "log_level: expected error, warn, info or debug, got "
                     "\"%s\"",
                     v->value);
  }
  if ((v = dray__node_get(root, "shutdown_timeout_ms")))
    read_uint(&r, v, "shutdown_timeout_ms", 1, 3600000, &s->shutdown_timeout_ms);
  if ((v = dray__node_get(root, "dedupe_window_ms")))
    read_uint(&r, v, "dedupe_window_ms", 0, 604800000u, &s->dedupe_window_ms);
  if ((v = dray__node_get(root, "dedupe_capacity")))
    read_uint(&r, v, "dedupe_capacity", 1, 100000000, &s->dedupe_capacity);
  if ((v = dray__node_get(root, "journal")) && want_kind(&r, v, DRAY_NODE_MAPPING, "journal")) {
    check_keys(&r, v, "journal", journal_keys);
    read_bytes(&r, v, "segment_bytes", 4096, &s->journal_segment_bytes);
    read_bytes(&r, v, "max_disk_bytes", 1 << 20, &s->journal_max_bytes);
    const struct dray__node *g;
    if ((g = dray__node_get(v, "group_max_records")))
      read_uint(&r, g, "group_max_records", 1, 65536, &s->journal_group_records);
    if ((g = dray__node_get(v, "group_max_delay_us")))
      read_uint(&r, g, "group_max_delay_us", 0, 1000000, &s->journal_group_delay_us);
  }
  if ((v = dray__node_get(root, "dlq")) && want_kind(&r, v, DRAY_NODE_MAPPING, "dlq")) {
    check_keys(&r, v, "dlq", dlq_keys);
    read_bytes(&r, v, "max_disk_bytes", 1 << 20, &s->dlq_max_bytes);
  }
  if ((v = dray__node_get(root, "http"))) read_http(&r, s, v);
  scan_plugins(&r, s, reg, dray__node_get(root, "plugin_path"));

  const struct dray__node *insts = dray__node_get(root, "instances");
  if (!insts) {
    dray__diag_add(diag, path, root, "required key \"instances\" missing");
  } else if (want_kind(&r, insts, DRAY_NODE_MAPPING, "instances")) {
    s->instances = calloc(insts->count ? insts->count : 1, sizeof *s->instances);
    if (!s->instances) goto out;
    s->instance_count = insts->count;
    for (size_t i = 0; i < insts->count; i++)
      read_instance(&r, reg, &s->instances[i], insts->keys[i], insts->items[i]);
  }
  const struct dray__node *routes = dray__node_get(root, "routes");
  if (routes && want_kind(&r, routes, DRAY_NODE_SEQUENCE, "routes")) {
    s->routes = calloc(routes->count ? routes->count : 1, sizeof *s->routes);
    if (!s->routes) goto out;
    s->route_count = routes->count;
    for (size_t i = 0; i < routes->count; i++)
      read_route(&r, s, &s->routes[i], routes->items[i]);
    check_cycles(&r, s, routes);
  }
out:
  dray__node_free(&root);
  if (diag->count || !s) dray__site_free(&s);
  return s;
}

struct dray__site *dray__site_load_or_report(const char *path, struct dray__registry *reg) {
  struct dray__diag diag = {0};
  struct dray__site *site = dray__site_load(path, reg, &diag);
  for (size_t i = 0; i < diag.count; i++) fprintf(stderr, "%s\n", diag.lines[i]);
  dray__diag_release(&diag);
  return site;
}

void dray__site_free(struct dray__site **site_p) {
  if (!site_p || !*site_p) return;
  struct dray__site *s = *site_p;
  *site_p = NULL;
  for (size_t i = 0; i < s->instance_count; i++) {
    struct dray__instance_config *ic = &s->instances[i];
    free(ic->name);
    free(ic->plugin_name);
    free(ic->effects);
    dray__config_release(&ic->values);
  }
  for (size_t i = 0; i < s->route_count; i++) {
    free_names(s->routes[i].from);
    free_names(s->routes[i].types);
    free_names(s->routes[i].to);
  }
  free_names(s->plugin_path);
  free(s->instances);
  free(s->routes);
  free(s->path);
  free(s->site);
  free(s->data_dir);
  free(s->http_listen);
  free(s->http_tls_cert);
  free(s->http_tls_key);
  free(s);
}

int dray__plugin_config_read(const char *file, const char *instance_name,
                             const struct dray__plugin *plugin,
                             const struct dray__node *cfg,
                             struct dray__instance_config *out,
                             struct dray__diag *diag) {
  struct reader r = {.file = file, .diag = diag};
  char dir_copy[PATH_MAX];
  snprintf(dir_copy, sizeof dir_copy, "%s", file);
  if (!realpath(dirname(dir_copy), r.base_dir))
    snprintf(r.base_dir, sizeof r.base_dir, ".");
  size_t before = diag->count;
  memset(out, 0, sizeof *out);
  out->name = strdup(instance_name);
  out->plugin = plugin;
  read_plugin_config(&r, out, cfg, cfg);
  return diag->count == before ? 0 : -1;
}

const struct dray__instance_config *dray__site_instance(
    const struct dray__site *site, const char *name) {
  for (size_t i = 0; i < site->instance_count; i++)
    if (site->instances[i].name && strcmp(site->instances[i].name, name) == 0)
      return &site->instances[i];
  return NULL;
}
