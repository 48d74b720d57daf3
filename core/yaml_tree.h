/* yaml_tree.h - a YAML document as a small tree of nodes that remember
 * where they came from (line and column, 1-based), so every config error
 * can say FILE:LINE:COL. Built with libyaml's event parser. */
#ifndef DRAY_CORE_YAML_TREE_H
#define DRAY_CORE_YAML_TREE_H

#include <stddef.h>

enum dray__node_kind { DRAY_NODE_SCALAR, DRAY_NODE_SEQUENCE, DRAY_NODE_MAPPING };

struct dray__node {
  enum dray__node_kind kind;
  int line;
  int col;
  int plain;     /* scalar written without quotes (may be a number/bool) */
  char *value;   /* scalar text (after ${...} references are resolved) */
  int from_ref;  /* value came from ${env:} or ${file:} */
  /* SEQUENCE: items; MAPPING: keys[i] -> items[i] */
  struct dray__node **items;
  struct dray__node **keys;
  size_t count;
  size_t cap;
};

/* Parses `path`. On success returns the root (caller owns; free with
 * dray__node_free). On a syntax error returns NULL and writes
 * "PATH:LINE:COL: message" into err. References ${env:NAME} and
 * ${file:PATH} inside scalars are resolved; an unresolvable one is an
 * error at its scalar's position. Duplicate mapping keys are errors. */
struct dray__node *dray__yaml_load(const char *path, char *err,
                                   size_t err_size);
/* Same from memory; `name` is used in messages. */
struct dray__node *dray__yaml_load_string(const char *name, const char *text,
                                          size_t len, char *err,
                                          size_t err_size);
void dray__node_free(struct dray__node **node_p);
/* Mapping lookup; NULL if absent or `map` is not a mapping. */
struct dray__node *dray__node_get(const struct dray__node *map,
                                  const char *key);
/* "scalar", "list" or "mapping". */
const char *dray__node_kind_name(const struct dray__node *node);
/* JSON text for a node (scalars: plain numbers and booleans stay typed,
 * everything else is a string). Caller owns the result. */
char *dray__node_to_json(const struct dray__node *node);

#endif
