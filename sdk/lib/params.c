/* params.c - configuration values checked against a plugin's schema. */
#include "params.h"

#include <errno.h>
#include <json-c/json.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

void dray__config_init(dray__config *cfg, const struct dray_plugin *plugin) {
  cfg->plugin = plugin;
  cfg->values = NULL;
  cfg->count = 0;
  cfg->cap = 0;
}

void dray__config_release(dray__config *cfg) {
  for (size_t i = 0; i < cfg->count; i++) {
    free(cfg->values[i].name);
    if (cfg->values[i].text) {
      /* values may be secrets: do not leave them in freed memory */
      memset(cfg->values[i].text, 0, strlen(cfg->values[i].text));
      free(cfg->values[i].text);
    }
  }
  free(cfg->values);
  cfg->values = NULL;
  cfg->count = cfg->cap = 0;
}

int dray__config_set(dray__config *cfg, const char *name, const char *text) {
  char *copy = strdup(text ? text : "");
  if (!copy) return -1;
  for (size_t i = 0; i < cfg->count; i++) {
    if (strcmp(cfg->values[i].name, name) == 0) {
      free(cfg->values[i].text);
      cfg->values[i].text = copy;
      return 0;
    }
  }
  if (cfg->count == cfg->cap) {
    size_t cap = cfg->cap ? cfg->cap * 2 : 8;
    struct dray__config_value *v = realloc(cfg->values, cap * sizeof *v);
    if (!v) {
      free(copy);
      return -1;
    }
    cfg->values = v;
    cfg->cap = cap;
  }
  cfg->values[cfg->count].name = strdup(name);
  if (!cfg->values[cfg->count].name) {
    free(copy);
    return -1;
  }
  cfg->values[cfg->count].text = copy;
  cfg->count++;
  return 0;
}

const struct dray_param *dray__param_find(const struct dray_plugin *plugin,
                                          const char *name) {
  if (!plugin || !name) return NULL;
  for (size_t i = 0; i < plugin->param_count; i++)
    if (plugin->params[i].name && strcmp(plugin->params[i].name, name) == 0)
      return &plugin->params[i];
  return NULL;
}

const char *dray__param_type_name(uint32_t type) {
  switch (type) {
    case DRAY_PARAM_STRING: return "string";
    case DRAY_PARAM_INT: return "int";
    case DRAY_PARAM_BOOL: return "bool";
    case DRAY_PARAM_DOUBLE: return "double";
    case DRAY_PARAM_ENUM: return "enum";
    case DRAY_PARAM_PATH: return "path";
    case DRAY_PARAM_LIST: return "list";
    case DRAY_PARAM_OBJECT: return "object";
    default: return "unknown";
  }
}

int dray__parse_bool(const char *t) {
  static const char *const yes[] = {"true", "yes", "on", "1"};
  static const char *const no[] = {"false", "no", "off", "0"};
  if (!t) return -1;
  for (size_t i = 0; i < 4; i++) {
    if (strcasecmp(t, yes[i]) == 0) return 1;
    if (strcasecmp(t, no[i]) == 0) return 0;
  }
  return -1;
}

static int parse_int(const char *t, int64_t *out) {
  char *end;
  errno = 0;
  long long v = strtoll(t, &end, 10);
  if (errno || end == t || *end) return -1;
  *out = v;
  return 0;
}

static int parse_double(const char *t, double *out) {
  char *end;
  errno = 0;
  double v = strtod(t, &end);
  if (errno || end == t || *end || !isfinite(v)) return -1;
  *out = v;
  return 0;
}

static int check_json(const char *text, json_type want) {
  struct json_object *o = json_tokener_parse(text);
  int ok = o && json_object_is_type(o, want);
  if (ok && want == json_type_array) {
    for (size_t i = 0; i < json_object_array_length(o); i++)
      if (!json_object_is_type(json_object_array_get_idx(o, i),
                               json_type_string))
        ok = 0;
  }
  json_object_put(o);
  return ok ? 0 : -1;
}

int dray__param_check(const struct dray_param *p, const char *text,
                      char *err, size_t err_size) {
  int secret = (p->flags & DRAY_PARAM_SECRET) != 0;
  const char *shown = secret ? "(secret)" : text;
  double num = 0;
  int64_t iv;
  switch (p->type) {
    case DRAY_PARAM_STRING:
    case DRAY_PARAM_PATH:
      return 0;
    case DRAY_PARAM_INT:
      if (parse_int(text, &iv) != 0) {
        snprintf(err, err_size, "%s: expected an integer, got \"%s\"",
                 p->name, shown);
        return -1;
      }
      num = (double)iv;
      break;
    case DRAY_PARAM_DOUBLE:
      if (parse_double(text, &num) != 0) {
        snprintf(err, err_size, "%s: expected a number, got \"%s\"", p->name,
                 shown);
        return -1;
      }
      break;
    case DRAY_PARAM_BOOL:
      if (dray__parse_bool(text) < 0) {
        snprintf(err, err_size, "%s: expected true or false, got \"%s\"",
                 p->name, shown);
        return -1;
      }
      return 0;
    case DRAY_PARAM_ENUM:
      for (size_t i = 0; p->enum_values && p->enum_values[i]; i++)
        if (strcmp(p->enum_values[i], text) == 0) return 0;
      {
        int n = snprintf(err, err_size, "%s: \"%s\" is not one of", p->name,
                         shown);
        for (size_t i = 0; p->enum_values && p->enum_values[i]; i++)
          if (n >= 0 && (size_t)n < err_size)
            n += snprintf(err + n, err_size - (size_t)n, "%s%s",
                          i ? ", " : " ", p->enum_values[i]);
      }
      return -1;
    case DRAY_PARAM_LIST:
      if (check_json(text, json_type_array) != 0) {
        snprintf(err, err_size, "%s: expected a list of strings", p->name);
        return -1;
      }
      return 0;
    case DRAY_PARAM_OBJECT:
      if (check_json(text, json_type_object) != 0) {
        snprintf(err, err_size, "%s: expected a mapping", p->name);
        return -1;
      }
      return 0;
    default:
      snprintf(err, err_size, "%s: parameter has unknown type %u", p->name,
               p->type);
      return -1;
  }
  if ((p->flags & DRAY_PARAM_HAS_MIN) && num < p->min) {
    snprintf(err, err_size, "%s: %s is below the minimum %g", p->name, shown,
             p->min);
    return -1;
  }
  if ((p->flags & DRAY_PARAM_HAS_MAX) && num > p->max) {
    snprintf(err, err_size, "%s: %s is above the maximum %g", p->name, shown,
             p->max);
    return -1;
  }
  return 0;
}

int dray__config_check(const dray__config *cfg, char *err, size_t err_size) {
  for (size_t i = 0; i < cfg->count; i++) {
    const struct dray_param *p =
        dray__param_find(cfg->plugin, cfg->values[i].name);
    if (!p) {
      snprintf(err, err_size, "%s: unknown key for plugin %s",
               cfg->values[i].name, cfg->plugin->name);
      return -1;
    }
    if (dray__param_check(p, cfg->values[i].text, err, err_size) != 0)
      return -1;
  }
  for (size_t i = 0; i < cfg->plugin->param_count; i++) {
    const struct dray_param *p = &cfg->plugin->params[i];
    if (!(p->flags & DRAY_PARAM_REQUIRED) || p->default_value) continue;
    int found = 0;
    for (size_t j = 0; j < cfg->count && !found; j++)
      found = strcmp(cfg->values[j].name, p->name) == 0;
    if (!found) {
      snprintf(err, err_size, "%s: required key missing (plugin %s)", p->name,
               cfg->plugin->name);
      return -1;
    }
  }
  return 0;
}

static int name_valid(const char *name) {
  if (!name || !*name) return 0;
  for (const char *c = name; *c; c++)
    if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || *c == '_'))
      return 0;
  return 1;
}

int dray__params_schema_check(const struct dray_plugin *plugin, char *err,
                              size_t err_size) {
  if (plugin->param_count && !plugin->params) {
    snprintf(err, err_size, "param_count is %zu but params is NULL",
             plugin->param_count);
    return -1;
  }
  for (size_t i = 0; i < plugin->param_count; i++) {
    const struct dray_param *p = &plugin->params[i];
    if (p->struct_size < offsetof(struct dray_param, description) +
                             sizeof(p->description)) {
      snprintf(err, err_size, "parameter %zu: struct_size %u too small", i,
               p->struct_size);
      return -1;
    }
    if (!name_valid(p->name)) {
      snprintf(err, err_size, "parameter %zu: name \"%s\" is not [a-z0-9_]+",
               i, p->name ? p->name : "(null)");
      return -1;
    }
    if (p->type < DRAY_PARAM_STRING || p->type > DRAY_PARAM_OBJECT) {
      snprintf(err, err_size, "parameter %s: unknown type %u", p->name,
               p->type);
      return -1;
    }
    if (p->type == DRAY_PARAM_ENUM && (!p->enum_values || !p->enum_values[0])) {
      snprintf(err, err_size, "parameter %s: enum without values", p->name);
      return -1;
    }
    if ((p->flags & DRAY_PARAM_HAS_MIN) && (p->flags & DRAY_PARAM_HAS_MAX) &&
        p->min > p->max) {
      snprintf(err, err_size, "parameter %s: min %g above max %g", p->name,
               p->min, p->max);
      return -1;
    }
    for (size_t j = 0; j < i; j++) {
      if (plugin->params[j].name && strcmp(plugin->params[j].name, p->name) == 0) {
        snprintf(err, err_size, "parameter %s declared twice", p->name);
        return -1;
      }
    }
    if (p->default_value) {
      char why[256];
      if (dray__param_check(p, p->default_value, why, sizeof why) != 0) {
        snprintf(err, err_size, "parameter %s: default is invalid: %s",
                 p->name, why);
        return -1;
      }
    }
  }
  return 0;
}

static const char *lookup(const dray__config *cfg, const char *name,
                          const struct dray_param **param) {
  *param = dray__param_find(cfg->plugin, name);
  for (size_t i = 0; i < cfg->count; i++)
    if (strcmp(cfg->values[i].name, name) == 0) return cfg->values[i].text;
  return *param ? (*param)->default_value : NULL;
}

const char *dray__config_get_string(const dray__config *cfg, const char *name) {
  const struct dray_param *p;
  const char *t = lookup(cfg, name, &p);
  if (p && (p->flags & DRAY_PARAM_SECRET)) return NULL;
  return t;
}

int64_t dray__config_get_int(const dray__config *cfg, const char *name,
                             int64_t fallback) {
  const struct dray_param *p;
  const char *t = lookup(cfg, name, &p);
  int64_t v;
  if (!t) return fallback;
  if (parse_int(t, &v) == 0) return v;
  int b = dray__parse_bool(t);
  return b >= 0 ? b : fallback;
}

int dray__config_get_bool(const dray__config *cfg, const char *name,
                          int fallback) {
  const struct dray_param *p;
  int b = dray__parse_bool(lookup(cfg, name, &p));
  return b >= 0 ? b : fallback;
}

double dray__config_get_double(const dray__config *cfg, const char *name,
                               double fallback) {
  const struct dray_param *p;
  const char *t = lookup(cfg, name, &p);
  double v;
  return t && parse_double(t, &v) == 0 ? v : fallback;
}

const char *dray__config_get_json(const dray__config *cfg, const char *name,
                                  size_t *len) {
  const struct dray_param *p;
  const char *t = lookup(cfg, name, &p);
  if (len) *len = t ? strlen(t) : 0;
  return t;
}

const char *dray__config_get_secret(const dray__config *cfg,
                                    const char *name) {
  const struct dray_param *p;
  return lookup(cfg, name, &p);
}
