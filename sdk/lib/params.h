/* params.h - an instance's configuration values checked against the
 * plugin's declared schema, and the typed getters of the host table.
 * One implementation for the core and the mock host. Not installed. */
#ifndef DRAY_PARAMS_H
#define DRAY_PARAMS_H

#include <dray/dray.h>

struct dray__config_value {
  char *name;
  char *text; /* textual scalar, or JSON text for LIST and OBJECT */
};

/* Values of one instance. The plugin descriptor is borrowed. */
typedef struct dray__config {
  const struct dray_plugin *plugin;
  struct dray__config_value *values;
  size_t count;
  size_t cap;
} dray__config;

void dray__config_init(dray__config *cfg, const struct dray_plugin *plugin);
void dray__config_release(dray__config *cfg);
/* Stores a copy of `text` for `name` (replacing an earlier value). Does not
 * check: see dray__param_check. 0 or -1 (out of memory). */
int dray__config_set(dray__config *cfg, const char *name, const char *text);

const struct dray_param *dray__param_find(const struct dray_plugin *plugin,
                                          const char *name);
/* Checks one textual value against its parameter: type, range, enum.
 * 0, or -1 with a reason in err that never contains a secret's value. */
int dray__param_check(const struct dray_param *param, const char *text,
                      char *err, size_t err_size);
/* Checks every value (unknown names, types) and that every required
 * parameter has a value or a default. Stops at the first error. */
int dray__config_check(const dray__config *cfg, char *err, size_t err_size);
/* Checks that a plugin's schema is well formed (names, types, defaults
 * valid for their own parameter, enums present, no duplicates). */
int dray__params_schema_check(const struct dray_plugin *plugin, char *err,
                              size_t err_size);
/* Human-readable type name ("string", "int", ...). */
const char *dray__param_type_name(uint32_t type);

/* The getters behind the host table (value, else default). */
const char *dray__config_get_string(const dray__config *cfg, const char *name);
int64_t dray__config_get_int(const dray__config *cfg, const char *name,
                             int64_t fallback);
int dray__config_get_bool(const dray__config *cfg, const char *name,
                          int fallback);
double dray__config_get_double(const dray__config *cfg, const char *name,
                               double fallback);
const char *dray__config_get_json(const dray__config *cfg, const char *name,
                                  size_t *len);
const char *dray__config_get_secret(const dray__config *cfg,
                                    const char *name);
/* Parses a boolean word (true/false/yes/no/on/off/1/0); -1 if none. */
int dray__parse_bool(const char *text);

#endif
