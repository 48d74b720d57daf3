/* yaml_tree.c - YAML to a positioned node tree (see yaml_tree.h). */
#include "yaml_tree.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "params.h"

static struct dray__node *node_new(enum dray__node_kind kind,
                                   const yaml_mark_t *mark) {
  struct dray__node *n = calloc(1, sizeof *n);
  if (!n) return NULL;
  n->kind = kind;
  n->line = (int)mark->line + 1;
  n->col = (int)mark->column + 1;
  return n;
}

void dray__node_free(struct dray__node **node_p) {
  if (!node_p || !*node_p) return;
  struct dray__node *n = *node_p;
  *node_p = NULL;
  for (size_t i = 0; i < n->count; i++) {
    dray__node_free(&n->items[i]);
    if (n->keys) dray__node_free(&n->keys[i]);
  }
  free(n->items);
  free(n->keys);
  if (n->value) {
    if (n->from_ref) memset(n->value, 0, strlen(n->value)); /* secrets */
    free(n->value);
  }
  free(n);
}

static int node_push(struct dray__node *parent, struct dray__node *key,
                     struct dray__node *item) {
  if (parent->count == parent->cap) {
    size_t cap = parent->cap ? parent->cap * 2 : 8;
    struct dray__node **items = realloc(parent->items, cap * sizeof *items);
    if (!items) return -1;
    parent->items = items;
    if (parent->kind == DRAY_NODE_MAPPING) {
      struct dray__node **keys = realloc(parent->keys, cap * sizeof *keys);
      if (!keys) return -1;
      parent->keys = keys;
    }
    parent->cap = cap;
  }
  if (parent->kind == DRAY_NODE_MAPPING) parent->keys[parent->count] = key;
  parent->items[parent->count++] = item;
  return 0;
}

/* Reads a whole file (for ${file:PATH}); trailing newlines dropped, as a
 * secret file usually ends with one. Caller owns the result. */
static char *read_ref_file(const char *path) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  char *data = NULL;
  size_t len = 0, cap = 0;
  char chunk[4096];
  size_t n;
  while ((n = fread(chunk, 1, sizeof chunk, f)) > 0) {
    if (len + n + 1 > cap) {
      cap = (len + n + 1) * 2;
      char *d = realloc(data, cap);
      if (!d) {
        free(data);
        fclose(f);
        return NULL;
      }
      data = d;
    }
    memcpy(data + len, chunk, n);
    len += n;
  }
  fclose(f);
  if (!data && !(data = calloc(1, 1))) return NULL;
  while (len && (data[len - 1] == '\n' || data[len - 1] == '\r')) len--;
  data[len] = '\0';
  return data;
}

/* Resolves ${env:NAME} and ${file:PATH} in place. 0, or -1 with a reason
 * (naming the reference, never its value) in why. */
static int resolve_refs(struct dray__node *n, char *why, size_t why_size) {
  const char *s = n->value;
  if (!strstr(s, "${")) return 0;
  size_t cap = strlen(s) + 1, len = 0;
  char *out = malloc(cap);
  if (!out) return -1;
  while (*s) {
    const char *start = strstr(s, "${");
    if (!start) start = s + strlen(s);
    size_t lit = (size_t)(start - s);
    char *value = NULL;
    const char *end = NULL;
    if (*start) {
      end = strchr(start, '}');
      if (!end) {
        snprintf(why, why_size, "unterminated reference \"${\"");
        goto fail;
      }
      char ref[256];
      snprintf(ref, sizeof ref, "%.*s", (int)(end - start - 2), start + 2);
      if (strncmp(ref, "env:", 4) == 0) {
        const char *v = getenv(ref + 4);
        if (!v) {
          snprintf(why, why_size, "environment variable %.200s is not set",
                   ref + 4);
          goto fail;
        }
        value = strdup(v);
      } else if (strncmp(ref, "file:", 5) == 0) {
        value = read_ref_file(ref + 5);
        if (!value) {
          snprintf(why, why_size, "cannot read %.200s: %s", ref + 5,
                   strerror(errno));
          goto fail;
        }
      } else {
        snprintf(why, why_size,
                 "unknown reference \"${%.200s}\" (use ${env:NAME} or "
                 "${file:PATH})",
                 ref);
        goto fail;
      }
      if (!value) goto fail;
      n->from_ref = 1;
    }
    size_t vlen = value ? strlen(value) : 0;
    if (len + lit + vlen + 1 > cap) {
      cap = (len + lit + vlen + 1) * 2;
      char *o = realloc(out, cap);
      if (!o) {
        free(value);
        goto fail;
      }
      out = o;
    }
    memcpy(out + len, s, lit);
    len += lit;
    if (value) {
      memcpy(out + len, value, vlen);
      len += vlen;
      memset(value, 0, vlen);
      free(value);
    }
    s = end ? end + 1 : start;
  }
  out[len] = '\0';
  free(n->value);
  n->value = out;
  n->plain = 0; /* a resolved reference is always a string */
  return 0;
fail:
  free(out);
  return -1;
}

struct dray__node *dray__yaml_load_string(const char *name, const char *text,
                                          size_t len, char *err,
                                          size_t err_size) {
  yaml_parser_t parser;
  yaml_event_t event;
  struct dray__node *root = NULL;
  struct dray__node *stack[64];
  struct dray__node *pending_key[64];
  int depth = 0;
  int done = 0;

  if (!yaml_parser_initialize(&parser)) {
    snprintf(err, err_size, "%s: cannot initialize the YAML parser", name);
    return NULL;
  }
  yaml_parser_set_input_string(&parser, (const unsigned char *)text, len);
  while (!done) {
    if (!yaml_parser_parse(&parser, &event)) {
      snprintf(err, err_size, "%s:%zu:%zu: %s%s%s", name,
               parser.problem_mark.line + 1, parser.problem_mark.column + 1,
               parser.problem ? parser.problem : "syntax error",
               parser.context ? " " : "", parser.context ? parser.context : "");
      goto fail;
    }
    struct dray__node *node = NULL;
    switch (event.type) {
      case YAML_STREAM_END_EVENT:
      case YAML_DOCUMENT_END_EVENT:
        done = event.type == YAML_STREAM_END_EVENT || root != NULL;
        break;
      case YAML_ALIAS_EVENT:
        snprintf(err, err_size, "%s:%zu:%zu: YAML aliases are not supported",
                 name, event.start_mark.line + 1, event.start_mark.column + 1);
        yaml_event_delete(&event);
        goto fail;
      case YAML_SCALAR_EVENT: {
        node = node_new(DRAY_NODE_SCALAR, &event.start_mark);
        if (!node) goto oom;
        node->value = strndup((const char *)event.data.scalar.value,
                              event.data.scalar.length);
        if (!node->value) {
          dray__node_free(&node);
          goto oom;
        }
        node->plain = event.data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
        char why[512];
        if (resolve_refs(node, why, sizeof why) != 0) {
          snprintf(err, err_size, "%s:%d:%d: %s", name, node->line, node->col,
                   why);
          dray__node_free(&node);
          yaml_event_delete(&event);
          goto fail;
        }
        break;
      }
      case YAML_SEQUENCE_START_EVENT:
      case YAML_MAPPING_START_EVENT:
        node = node_new(event.type == YAML_SEQUENCE_START_EVENT
                            ? DRAY_NODE_SEQUENCE
                            : DRAY_NODE_MAPPING,
                        &event.start_mark);
        if (!node) goto oom;
        break;
      case YAML_SEQUENCE_END_EVENT:
      case YAML_MAPPING_END_EVENT:
        node = stack[--depth];
        break;
      default:
        break;
    }
    int opened = event.type == YAML_SEQUENCE_START_EVENT ||
                 event.type == YAML_MAPPING_START_EVENT;
    int closed = event.type == YAML_SEQUENCE_END_EVENT ||
                 event.type == YAML_MAPPING_END_EVENT;
    yaml_event_delete(&event);
    if (!node) continue;
    if (opened) {
      if (depth == 64) {
        snprintf(err, err_size, "%s:%d:%d: nesting deeper than 64 levels",
                 name, node->line, node->col);
        dray__node_free(&node);
        goto fail;
      }
      /* attach when closed; keep on the stack meanwhile */
      pending_key[depth] = NULL;
      stack[depth++] = node;
      continue;
    }
    (void)closed;
    /* A finished node (scalar or closed collection) attaches to its parent. */
    if (depth == 0) {
      root = node;
      continue;
    }
    struct dray__node *parent = stack[depth - 1];
    if (parent->kind == DRAY_NODE_SEQUENCE) {
      if (node_push(parent, NULL, node) != 0) {
        dray__node_free(&node);
        goto oom;
      }
    } else if (!pending_key[depth - 1]) {
      if (node->kind != DRAY_NODE_SCALAR) {
        snprintf(err, err_size, "%s:%d:%d: mapping keys must be scalars",
                 name, node->line, node->col);
        dray__node_free(&node);
        goto fail;
      }
      if (dray__node_get(parent, node->value)) {
        snprintf(err, err_size, "%s:%d:%d: duplicate key \"%s\"", name,
                 node->line, node->col, node->value);
        dray__node_free(&node);
        goto fail;
      }
      pending_key[depth - 1] = node;
    } else {
      if (node_push(parent, pending_key[depth - 1], node) != 0) {
        dray__node_free(&node);
        goto oom;
      }
      pending_key[depth - 1] = NULL;
    }
  }
  yaml_parser_delete(&parser);
  if (!root) {
    snprintf(err, err_size, "%s:1:1: the document is empty", name);
    return NULL;
  }
  return root;
oom:
  snprintf(err, err_size, "%s: out of memory", name);
fail:
  while (depth > 0) {
    depth--;
    dray__node_free(&pending_key[depth]);
    dray__node_free(&stack[depth]);
  }
  dray__node_free(&root);
  yaml_parser_delete(&parser);
  return NULL;
}

struct dray__node *dray__yaml_load(const char *path, char *err,
                                   size_t err_size) {
  FILE *f = fopen(path, "rb");
  if (!f) {
    snprintf(err, err_size, "%s: cannot open: %s", path, strerror(errno));
    return NULL;
  }
  char *text = NULL;
  size_t len = 0;
  FILE *mem = open_memstream(&text, &len);
  char chunk[8192];
  size_t n;
  while (mem && (n = fread(chunk, 1, sizeof chunk, f)) > 0)
    fwrite(chunk, 1, n, mem);
  fclose(f);
  if (!mem || fclose(mem) != 0) {
    free(text);
    snprintf(err, err_size, "%s: out of memory", path);
    return NULL;
  }
  struct dray__node *root = dray__yaml_load_string(path, text, len, err,
                                                   err_size);
  free(text);
  return root;
}

struct dray__node *dray__node_get(const struct dray__node *map,
                                  const char *key) {
  if (!map || map->kind != DRAY_NODE_MAPPING) return NULL;
  for (size_t i = 0; i < map->count; i++)
    if (strcmp(map->keys[i]->value, key) == 0) return map->items[i];
  return NULL;
}

const char *dray__node_kind_name(const struct dray__node *node) {
  switch (node->kind) {
    case DRAY_NODE_SCALAR: return "scalar";
    case DRAY_NODE_SEQUENCE: return "list";
    default: return "mapping";
  }
}

static struct json_object *to_json(const struct dray__node *n) {
  if (n->kind == DRAY_NODE_SCALAR) {
    if (n->plain) {
      char *end;
      errno = 0;
      long long iv = strtoll(n->value, &end, 10);
      if (*n->value && !*end && !errno) return json_object_new_int64(iv);
      double dv = strtod(n->value, &end);
      if (*n->value && !*end && !errno) return json_object_new_double(dv);
      int b = dray__parse_bool(n->value);
      if (b >= 0 && strcmp(n->value, "0") && strcmp(n->value, "1"))
        return json_object_new_boolean(b);
      if (strcmp(n->value, "null") == 0 || strcmp(n->value, "~") == 0)
        return NULL;
    }
    return json_object_new_string(n->value);
  }
  if (n->kind == DRAY_NODE_SEQUENCE) {
    struct json_object *a = json_object_new_array();
    for (size_t i = 0; i < n->count; i++)
      json_object_array_add(a, to_json(n->items[i]));
    return a;
  }
  struct json_object *o = json_object_new_object();
  for (size_t i = 0; i < n->count; i++)
    json_object_object_add(o, n->keys[i]->value, to_json(n->items[i]));
  return o;
}

char *dray__node_to_json(const struct dray__node *node) {
  struct json_object *o = to_json(node);
  char *s = strdup(o ? json_object_to_json_string_ext(
                           o, JSON_C_TO_STRING_PLAIN |
                                  JSON_C_TO_STRING_NOSLASHESCAPE)
                     : "null");
  json_object_put(o);
  return s;
}
