/* schema_files.h - the JSON Schema files of docs/schemas/, embedded in
 * libdray-sdk at build time by sdk/schemas/embed_schemas.py.
 * Internal to the SDK library (the validator is the only reader). */
#ifndef DRAY_SCHEMA_FILES_H
#define DRAY_SCHEMA_FILES_H

#include <stddef.h>

struct dray__schema_file {
  const char *name; /* file name, e.g. "milestone.json" */
  const char *text; /* the JSON text, NUL-terminated, static */
  size_t len;       /* strlen(text) */
};

/* Sorted by name; static storage, never freed. */
extern const struct dray__schema_file dray__schema_files[];
extern const size_t dray__schema_file_count;

#endif
