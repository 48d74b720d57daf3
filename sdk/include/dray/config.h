/* dray/config.h - the declarative configuration schema of a plugin.
 *
 * A plugin lists its parameters; the host validates an instance's config
 * against that list before it calls create(): unknown keys, missing required
 * keys, wrong types, out-of-range numbers and values outside an enum are all
 * refused with FILE:LINE:COL errors. The plugin then reads validated values
 * through the typed getters of dray_host. A parameter flagged
 * DRAY_PARAM_SECRET is readable only through get_secret() and never appears
 * in a log line, an error message or a dump (`dray plugins --describe`
 * shows that it is secret, never a value).
 */
#ifndef DRAY_CONFIG_H
#define DRAY_CONFIG_H

#include "abi.h"

#ifdef __cplusplus
extern "C" {
#endif

enum dray_param_type {
  DRAY_PARAM_STRING = 1,
  DRAY_PARAM_INT = 2,    /* int64; min/max apply */
  DRAY_PARAM_BOOL = 3,
  DRAY_PARAM_DOUBLE = 4, /* min/max apply */
  DRAY_PARAM_ENUM = 5,   /* string restricted to enum_values */
  DRAY_PARAM_PATH = 6,   /* string naming a file or directory */
  DRAY_PARAM_LIST = 7,   /* list of strings; get_json returns a JSON array */
  DRAY_PARAM_OBJECT = 8  /* nested map; get_json returns a JSON object */
};

enum dray_param_flags {
  DRAY_PARAM_REQUIRED = 1u << 0,
  DRAY_PARAM_SECRET = 1u << 1,
  DRAY_PARAM_HAS_MIN = 1u << 2,
  DRAY_PARAM_HAS_MAX = 1u << 3
};

/* One configuration parameter.
 * ABI rule: add fields at the end only; struct_size = sizeof at build. */
struct dray_param {
  uint32_t struct_size;
  const char *name;          /* [a-z0-9_]+, unique in the plugin */
  uint32_t type;             /* enum dray_param_type */
  uint32_t flags;            /* enum dray_param_flags */
  const char *default_value; /* textual default or NULL; parsed by type */
  double min;                /* with DRAY_PARAM_HAS_MIN (INT, DOUBLE) */
  double max;                /* with DRAY_PARAM_HAS_MAX (INT, DOUBLE) */
  const char *const *enum_values; /* NULL-terminated, for DRAY_PARAM_ENUM */
  const char *description;   /* one line, shown by `dray plugins --describe` */
};

/* Helpers for building the table in a plugin. */
#define DRAY_PARAM_INIT(name_, type_, flags_, default_, description_)          \
  {sizeof(struct dray_param), (name_), (type_), (flags_), (default_), 0, 0,   \
   NULL, (description_)}
#define DRAY_PARAM_RANGE(name_, type_, flags_, default_, min_, max_, descr_)  \
  {sizeof(struct dray_param), (name_), (type_),                               \
   (flags_) | DRAY_PARAM_HAS_MIN | DRAY_PARAM_HAS_MAX, (default_), (min_),    \
   (max_), NULL, (descr_)}
#define DRAY_PARAM_ENUMS(name_, flags_, default_, values_, descr_)            \
  {sizeof(struct dray_param), (name_), DRAY_PARAM_ENUM, (flags_), (default_), \
   0, 0, (values_), (descr_)}

#ifdef __cplusplus
}
#endif
#endif
