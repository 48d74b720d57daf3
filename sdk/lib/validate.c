/* validate.c - the canonical message validator (dray-sdk/validate.h).
 *
 * A compact interpreter for the JSON Schema (draft 2020-12) subset the
 * schemas in docs/schemas/ use. The schema files are embedded in the
 * library (schema_files.h) and compiled once, on first use, into a tree of
 * `struct snode`: keywords become fields, properties a hash table, $ref a
 * pointer, simple anchored patterns a byte-class program (regexec for the
 * rest), so validating costs one walk of the instance with no keyword
 * lookups and no allocation; the JSON path text is only built for an
 * error. The compiled tree is immutable after pthread_once and lives for
 * the process (about 1 ms to build, shared by every thread).
 *
 * Supported keywords: type (string or array; "integer" accepts only numbers
 * written without fraction or exponent, so money written as 12.0 fails),
 * required, properties, additionalProperties (bool or schema),
 * propertyNames, items, minItems, maxItems, enum, const, minLength,
 * maxLength (in characters), pattern (POSIX ERE, unanchored like JSON
 * Schema), minimum, maximum, exclusiveMinimum, exclusiveMaximum, format
 * ("date-time", "date": RFC 3339), $ref ("#/...", "file.json",
 * "file.json#/..."), allOf, anyOf, oneOf, not, if/then/else, boolean
 * schemas. Annotations ($schema, $id, $comment, $defs, title, description,
 * examples, default, deprecated) are ignored. Any other keyword fails the
 * schema compile, so a typo in a schema file cannot silently weaken it.
 *
 * Errors report the first failure as "<JSON path>: <reason>".
 */
#include "dray-sdk/validate.h"

#include "schema_files.h"

#include <json-c/json.h>
#include <pthread.h>
#include <regex.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- compiled schema ------------------------------------------------- */

enum {
  T_NULL = 1u << 0,
  T_BOOLEAN = 1u << 1,
  T_INTEGER = 1u << 2,
  T_NUMBER = 1u << 3, /* includes integers */
  T_STRING = 1u << 4,
  T_ARRAY = 1u << 5,
  T_OBJECT = 1u << 6,
};

enum { FMT_NONE, FMT_DATE_TIME, FMT_DATE };
enum { ADDL_ANY, ADDL_NONE, ADDL_SCHEMA };

struct snode;

struct sprop {
  const char *name; /* points into the schema's json-c tree */
  uint32_t hash;
  struct snode *node;
};

struct snode {
  int never;      /* the `false` schema */
  unsigned types; /* T_* mask; 0 = any type */
  struct sprop *props;
  size_t nprops;
  uint16_t *slots; /* open-addressing table: prop index + 1, 0 = empty */
  uint32_t slot_mask;
  const char **required;
  size_t nrequired;
  int addl_mode;
  struct snode *addl;
  struct snode *prop_names;
  struct snode *items;
  long min_items, max_items; /* -1: no bound */
  long min_len, max_len;     /* -1: no bound */
  regex_t *re;
  struct simple_re *simple; /* fast path for anchored class sequences */
  const char *pattern;
  int has_min, has_max, excl_min, excl_max;
  double min, max;
  int format;
  json_object *enum_vals; /* array, borrowed from the schema tree */
  json_object *const_val;
  int has_const;
  struct snode *ref;
  struct snode **all_of, **any_of, **one_of;
  size_t nall_of, nany_of, none_of;
  struct snode *not_;
  struct snode *if_, *then_, *else_;
};

/* A $ref waiting for its target, resolved after the compile pass. */
struct pending_ref {
  struct snode *node;
  size_t file;
  const char *ref;
};

/* A compiled schema object, so refs to the same target share one node. */
struct compiled {
  json_object *schema;
  struct snode *node;
};

struct canon_type {
  const char *type;   /* "dray.order.created.v1" */
  const char *schema; /* "order" */
  struct snode *body;
};

struct registry {
  json_object **roots; /* parsed schema files, index as dray__schema_files */
  struct snode **root_nodes;
  struct compiled *compiled;
  size_t ncompiled, compiled_cap;
  struct pending_ref *pending;
  size_t npending, pending_cap;
  struct canon_type *types;
  size_t ntypes;
  struct snode *envelope;
};

static pthread_once_t registry_once = PTHREAD_ONCE_INIT;
/* Owned by the process: built once, never freed (reachable, so leak
 * checkers stay quiet). NULL when the embedded schemas failed to compile,
 * with the reason in registry_error. */
static struct registry *registry;
static char registry_error[256];
/* A registry whose compile failed (a build defect, caught by the tests):
 * kept, not freed, because unwinding a half-linked node graph is not worth
 * its risk; every call then reports registry_error. */
static struct registry *registry_failed;

static void *xcalloc(size_t n, size_t size) {
  return calloc(n ? n : 1, size);
}

static int compile_fail(const char *file, const char *what, const char *key) {
  snprintf(registry_error, sizeof registry_error,
           "internal error: schema %s: %s%s%s", file, what, key ? " " : "",
           key ? key : "");
  return -1;
}

static int is_annotation(const char *key) {
  static const char *const names[] = {
      "$schema", "$id",     "$comment",   "$defs",     "title",
      "description", "examples", "default", "deprecated", "readOnly",
      "writeOnly"};
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
    if (strcmp(key, names[i]) == 0)
      return 1;
  return 0;
}

static int type_bit(const char *name, unsigned *bit) {
  static const struct {
    const char *name;
    unsigned bit;
  } map[] = {{"null", T_NULL},       {"boolean", T_BOOLEAN},
             {"integer", T_INTEGER}, {"number", T_NUMBER},
             {"string", T_STRING},   {"array", T_ARRAY},
             {"object", T_OBJECT}};
  for (size_t i = 0; i < sizeof map / sizeof map[0]; i++)
    if (strcmp(name, map[i].name) == 0) {
      *bit = map[i].bit;
      return 0;
    }
  return -1;
}

/* FNV-1a: property lookup hashes each instance key once instead of
 * comparing it against half the schema's names. */
static uint32_t name_hash(const char *s) {
  uint32_t h = 2166136261u;
  for (; *s; s++)
    h = (h ^ (unsigned char)*s) * 16777619u;
  return h;
}

static int build_prop_table(struct snode *n) {
  uint32_t size = 8;
  while (size < n->nprops * 2)
    size *= 2;
  if (n->nprops >= UINT16_MAX)
    return -1;
  n->slots = xcalloc(size, sizeof *n->slots);
  if (!n->slots)
    return -1;
  n->slot_mask = size - 1;
  for (size_t i = 0; i < n->nprops; i++) {
    uint32_t at = n->props[i].hash & n->slot_mask;
    while (n->slots[at])
      at = (at + 1) & n->slot_mask;
    n->slots[at] = (uint16_t)(i + 1);
  }
  return 0;
}

static struct snode *compile_node(struct registry *reg, size_t file,
                                  json_object *schema);

static int compile_list(struct registry *reg, size_t file, json_object *arr,
                        struct snode ***out, size_t *n, const char *key) {
  const char *fname = dray__schema_files[file].name;
  if (!json_object_is_type(arr, json_type_array) ||
      json_object_array_length(arr) == 0)
    return compile_fail(fname, "needs a non-empty array:", key);
  *n = json_object_array_length(arr);
  *out = xcalloc(*n, sizeof **out);
  if (!*out)
    return compile_fail(fname, "out of memory", NULL);
  for (size_t i = 0; i < *n; i++) {
    (*out)[i] = compile_node(reg, file, json_object_array_get_idx(arr, i));
    if (!(*out)[i])
      return -1;
  }
  return 0;
}

static int get_count(json_object *v, long *out) {
  if (!json_object_is_type(v, json_type_int) || json_object_get_int64(v) < 0)
    return -1;
  *out = (long)json_object_get_int64(v);
  return 0;
}

static int get_number(json_object *v, double *out) {
  if (!json_object_is_type(v, json_type_int) &&
      !json_object_is_type(v, json_type_double))
    return -1;
  *out = json_object_get_double(v);
  return 0;
}

static int add_pending(struct registry *reg, struct snode *node, size_t file,
                       const char *ref) {
  if (reg->npending == reg->pending_cap) {
    size_t cap = reg->pending_cap ? reg->pending_cap * 2 : 64;
    struct pending_ref *p = realloc(reg->pending, cap * sizeof *p);
    if (!p)
      return -1;
    reg->pending = p;
    reg->pending_cap = cap;
  }
  reg->pending[reg->npending++] = (struct pending_ref){node, file, ref};
  return 0;
}

static int remember(struct registry *reg, json_object *schema,
                    struct snode *node) {
  if (reg->ncompiled == reg->compiled_cap) {
    size_t cap = reg->compiled_cap ? reg->compiled_cap * 2 : 256;
    struct compiled *c = realloc(reg->compiled, cap * sizeof *c);
    if (!c)
      return -1;
    reg->compiled = c;
    reg->compiled_cap = cap;
  }
  reg->compiled[reg->ncompiled++] = (struct compiled){schema, node};
  return 0;
}

static struct snode *find_compiled(const struct registry *reg,
                                   json_object *schema) {
  for (size_t i = 0; i < reg->ncompiled; i++)
    if (reg->compiled[i].schema == schema)
      return reg->compiled[i].node;
  return NULL;
}

/* Most schema patterns are anchored sequences of character classes with
 * counts (^[A-Z]{3}$, ^[0-9a-f]{2}-[0-9a-f]{32}-...$). glibc's regexec
 * allocates on every call, so those are matched here instead; patterns
 * with groups or alternation stay with regexec. Bytes are matched as
 * bytes (the "C" locale meaning of a bracket expression). */
struct re_atom {
  unsigned char set[32]; /* bitmap of accepted bytes */
  unsigned min, max;     /* max UINT32_MAX: unbounded */
};

struct simple_re {
  size_t natoms;
  struct re_atom atoms[];
};

static void set_bit(unsigned char *set, unsigned char c) {
  set[c >> 3] |= (unsigned char)(1u << (c & 7));
}

static int has_bit(const unsigned char *set, unsigned char c) {
  return (set[c >> 3] >> (c & 7)) & 1;
}

/* Parses a count after an atom; returns chars consumed or -1. */
static int parse_quant(const char *p, unsigned *min, unsigned *max) {
  *min = *max = 1;
  if (*p == '?') { *min = 0; return 1; }
  if (*p == '*') { *min = 0; *max = UINT32_MAX; return 1; }
  if (*p == '+') { *max = UINT32_MAX; return 1; }
  if (*p != '{')
    return 0;
  const char *q = p + 1;
  char *end;
  if (*q < '0' || *q > '9')
    return -1;
  unsigned long lo = strtoul(q, &end, 10), hi = lo;
  if (*end == ',') {
    q = end + 1;
    if (*q == '}') {
      hi = UINT32_MAX;
      end = (char *)q;
    } else {
      if (*q < '0' || *q > '9')
        return -1;
      hi = strtoul(q, &end, 10);
    }
  }
  if (*end != '}' || lo > hi || hi > UINT32_MAX || lo > 10000)
    return -1;
  *min = (unsigned)lo;
  *max = (unsigned)hi;
  return (int)(end - p) + 1;
}

/* NULL when the pattern is outside the simple subset (or on ENOMEM: the
 * regex then does the work). Caller owns the result. */
static struct simple_re *simple_compile(const char *pat) {
  size_t len = strlen(pat);
  if (len < 2 || pat[0] != '^' || pat[len - 1] != '$' ||
      (len >= 3 && pat[len - 2] == '\\'))
    return NULL;
  struct simple_re *re = calloc(1, sizeof *re + len * sizeof re->atoms[0]);
  if (!re)
    return NULL;
  const char *p = pat + 1, *end = pat + len - 1;
  while (p < end) {
    struct re_atom *a = &re->atoms[re->natoms++];
    if (*p == '[') {
      p++;
      int negate = 0;
      if (*p == '^') { negate = 1; p++; }
      int first = 1;
      while (p < end && (*p != ']' || first)) {
        if (*p == '[' ) /* [:class:] and friends: leave to regexec */
          goto out_complex;
        unsigned char lo = (unsigned char)*p, hi = lo;
        if (p + 2 < end && p[1] == '-' && p[2] != ']') {
          hi = (unsigned char)p[2];
          p += 2;
        }
        if (lo > hi)
          goto out_complex;
        for (unsigned c = lo; c <= hi; c++)
          set_bit(a->set, (unsigned char)c);
        p++;
        first = 0;
      }
      if (p >= end)
        goto out_complex;
      p++; /* ']' */
      if (negate)
        for (size_t i = 0; i < sizeof a->set; i++)
          a->set[i] = (unsigned char)~a->set[i];
    } else if (*p == '\\' && p + 1 < end) {
      set_bit(a->set, (unsigned char)p[1]);
      p += 2;
    } else if (strchr("()|^$*+?{}.", *p)) {
      goto out_complex; /* '.' too: "any character" depends on locale */
    } else {
      set_bit(a->set, (unsigned char)*p);
      p++;
    }
    int q = parse_quant(p, &a->min, &a->max);
    if (q < 0)
      goto out_complex;
    p += q;
  }
  return re;
out_complex:
  free(re);
  return NULL;
}

static int simple_match_from(const struct simple_re *re, size_t i,
                             const unsigned char *s, size_t len) {
  if (i == re->natoms)
    return len == 0;
  const struct re_atom *a = &re->atoms[i];
  size_t n = 0;
  while (n < len && n < a->max && has_bit(a->set, s[n]))
    n++;
  if (n < a->min)
    return 0;
  if (i + 1 == re->natoms) /* last atom: it must consume the rest */
    return n == len;
  for (;; n--) { /* greedy, backtracking */
    if (simple_match_from(re, i + 1, s + n, len - n))
      return 1;
    if (n == a->min)
      return 0;
  }
}

static int pattern_matches(const struct snode *n, const char *s, size_t len) {
  if (strlen(s) != len) /* embedded NUL: never a match */
    return 0;
  if (n->simple)
    return simple_match_from(n->simple, 0, (const unsigned char *)s, len);
  return regexec(n->re, s, 0, NULL, 0) == 0;
}

static int compile_keyword(struct registry *reg, size_t file, struct snode *n,
                           const char *key, json_object *val) {
  const char *fname = dray__schema_files[file].name;

  if (is_annotation(key))
    return 0;
  if (strcmp(key, "type") == 0) {
    unsigned bit;
    if (json_object_is_type(val, json_type_string)) {
      if (type_bit(json_object_get_string(val), &bit) < 0)
        return compile_fail(fname, "unknown type", json_object_get_string(val));
      n->types |= bit;
      return 0;
    }
    if (!json_object_is_type(val, json_type_array))
      return compile_fail(fname, "bad type keyword", NULL);
    for (size_t i = 0; i < json_object_array_length(val); i++) {
      json_object *t = json_object_array_get_idx(val, i);
      if (!json_object_is_type(t, json_type_string) ||
          type_bit(json_object_get_string(t), &bit) < 0)
        return compile_fail(fname, "bad type list", NULL);
      n->types |= bit;
    }
    return 0;
  }
  if (strcmp(key, "properties") == 0) {
    if (!json_object_is_type(val, json_type_object))
      return compile_fail(fname, "properties is not an object", NULL);
    n->nprops = (size_t)json_object_object_length(val);
    n->props = xcalloc(n->nprops, sizeof *n->props);
    if (!n->props)
      return compile_fail(fname, "out of memory", NULL);
    size_t i = 0;
    json_object_object_foreach(val, pname, pschema) {
      n->props[i].name = pname;
      n->props[i].hash = name_hash(pname);
      n->props[i].node = compile_node(reg, file, pschema);
      if (!n->props[i].node)
        return -1;
      i++;
    }
    if (build_prop_table(n) < 0)
      return compile_fail(fname, "out of memory", NULL);
    return 0;
  }
  if (strcmp(key, "required") == 0) {
    if (!json_object_is_type(val, json_type_array))
      return compile_fail(fname, "required is not an array", NULL);
    n->nrequired = json_object_array_length(val);
    n->required = xcalloc(n->nrequired, sizeof *n->required);
    if (!n->required)
      return compile_fail(fname, "out of memory", NULL);
    for (size_t i = 0; i < n->nrequired; i++) {
      json_object *r = json_object_array_get_idx(val, i);
      if (!json_object_is_type(r, json_type_string))
        return compile_fail(fname, "required entry is not a string", NULL);
      n->required[i] = json_object_get_string(r);
    }
    return 0;
  }
  if (strcmp(key, "additionalProperties") == 0) {
    if (json_object_is_type(val, json_type_boolean)) {
      n->addl_mode = json_object_get_boolean(val) ? ADDL_ANY : ADDL_NONE;
      return 0;
    }
    n->addl_mode = ADDL_SCHEMA;
    n->addl = compile_node(reg, file, val);
    return n->addl ? 0 : -1;
  }
  if (strcmp(key, "propertyNames") == 0)
    return (n->prop_names = compile_node(reg, file, val)) ? 0 : -1;
  if (strcmp(key, "items") == 0)
    return (n->items = compile_node(reg, file, val)) ? 0 : -1;
  if (strcmp(key, "not") == 0)
    return (n->not_ = compile_node(reg, file, val)) ? 0 : -1;
  if (strcmp(key, "if") == 0)
    return (n->if_ = compile_node(reg, file, val)) ? 0 : -1;
  if (strcmp(key, "then") == 0)
    return (n->then_ = compile_node(reg, file, val)) ? 0 : -1;
  if (strcmp(key, "else") == 0)
    return (n->else_ = compile_node(reg, file, val)) ? 0 : -1;
  if (strcmp(key, "allOf") == 0)
    return compile_list(reg, file, val, &n->all_of, &n->nall_of, key);
  if (strcmp(key, "anyOf") == 0)
    return compile_list(reg, file, val, &n->any_of, &n->nany_of, key);
  if (strcmp(key, "oneOf") == 0)
    return compile_list(reg, file, val, &n->one_of, &n->none_of, key);
  if (strcmp(key, "minItems") == 0)
    return get_count(val, &n->min_items) < 0
               ? compile_fail(fname, "bad count:", key) : 0;
  if (strcmp(key, "maxItems") == 0)
    return get_count(val, &n->max_items) < 0
               ? compile_fail(fname, "bad count:", key) : 0;
  if (strcmp(key, "minLength") == 0)
    return get_count(val, &n->min_len) < 0
               ? compile_fail(fname, "bad count:", key) : 0;
  if (strcmp(key, "maxLength") == 0)
    return get_count(val, &n->max_len) < 0
               ? compile_fail(fname, "bad count:", key) : 0;
  if (strcmp(key, "minimum") == 0 || strcmp(key, "exclusiveMinimum") == 0) {
    if (get_number(val, &n->min) < 0)
      return compile_fail(fname, "bad number:", key);
    n->has_min = 1;
    n->excl_min = key[0] == 'e';
    return 0;
  }
  if (strcmp(key, "maximum") == 0 || strcmp(key, "exclusiveMaximum") == 0) {
    if (get_number(val, &n->max) < 0)
      return compile_fail(fname, "bad number:", key);
    n->has_max = 1;
    n->excl_max = key[0] == 'e';
    return 0;
  }
  if (strcmp(key, "pattern") == 0) {
    if (!json_object_is_type(val, json_type_string))
      return compile_fail(fname, "pattern is not a string", NULL);
    n->pattern = json_object_get_string(val);
    n->re = xcalloc(1, sizeof *n->re);
    if (!n->re)
      return compile_fail(fname, "out of memory", NULL);
    if (regcomp(n->re, n->pattern, REG_EXTENDED | REG_NOSUB) != 0) {
      free(n->re);
      n->re = NULL;
      return compile_fail(fname, "pattern does not compile as POSIX ERE:",
                          n->pattern);
    }
    n->simple = simple_compile(n->pattern);
    return 0;
  }
  if (strcmp(key, "format") == 0) {
    const char *f = json_object_get_string(val);
    if (f && strcmp(f, "date-time") == 0)
      n->format = FMT_DATE_TIME;
    else if (f && strcmp(f, "date") == 0)
      n->format = FMT_DATE;
    else
      return compile_fail(fname, "unsupported format", f);
    return 0;
  }
  if (strcmp(key, "enum") == 0) {
    if (!json_object_is_type(val, json_type_array) ||
        json_object_array_length(val) == 0)
      return compile_fail(fname, "enum needs a non-empty array", NULL);
    n->enum_vals = val;
    return 0;
  }
  if (strcmp(key, "const") == 0) {
    n->const_val = val;
    n->has_const = 1;
    return 0;
  }
  if (strcmp(key, "$ref") == 0) {
    if (!json_object_is_type(val, json_type_string))
      return compile_fail(fname, "$ref is not a string", NULL);
    if (add_pending(reg, n, file, json_object_get_string(val)) < 0)
      return compile_fail(fname, "out of memory", NULL);
    return 0;
  }
  return compile_fail(fname, "unsupported keyword", key);
}

/* Compiles one schema object (or boolean schema). NULL on failure with the
 * reason in registry_error. Nodes are owned by the registry. */
static struct snode *compile_node(struct registry *reg, size_t file,
                                  json_object *schema) {
  const char *fname = dray__schema_files[file].name;
  struct snode *n = find_compiled(reg, schema);
  if (n)
    return n;
  n = xcalloc(1, sizeof *n);
  if (!n) {
    compile_fail(fname, "out of memory", NULL);
    return NULL;
  }
  n->min_items = n->max_items = n->min_len = n->max_len = -1;
  if (remember(reg, schema, n) < 0) {
    free(n);
    compile_fail(fname, "out of memory", NULL);
    return NULL;
  }
  if (json_object_is_type(schema, json_type_boolean)) {
    n->never = !json_object_get_boolean(schema);
    return n;
  }
  if (!json_object_is_type(schema, json_type_object)) {
    compile_fail(fname, "a schema must be an object or a boolean", NULL);
    return NULL;
  }
  json_object_object_foreach(schema, key, val) {
    if (compile_keyword(reg, file, n, key, val) < 0)
      return NULL;
  }
  /* Compile every $defs entry too, so a typo in a definition nobody
   * references yet still fails the build's tests. */
  json_object *defs;
  if (json_object_object_get_ex(schema, "$defs", &defs)) {
    if (!json_object_is_type(defs, json_type_object)) {
      compile_fail(fname, "$defs is not an object", NULL);
      return NULL;
    }
    json_object_object_foreach(defs, dname, dschema) {
      (void)dname;
      if (!compile_node(reg, file, dschema))
        return NULL;
    }
  }
  return n;
}

static long find_file(const char *name, size_t len) {
  for (size_t i = 0; i < dray__schema_file_count; i++)
    if (strlen(dray__schema_files[i].name) == len &&
        memcmp(dray__schema_files[i].name, name, len) == 0)
      return (long)i;
  return -1;
}

/* Walks a JSON pointer ("/$defs/money", fragment without '#'). */
static json_object *resolve_pointer(json_object *root, const char *ptr) {
  json_object *cur = root;
  char token[128];
  while (*ptr) {
    if (*ptr != '/')
      return NULL;
    ptr++;
    size_t n = 0;
    while (*ptr && *ptr != '/') {
      char c = *ptr++;
      if (c == '~' && (*ptr == '0' || *ptr == '1'))
        c = *ptr++ == '0' ? '~' : '/';
      if (n + 1 >= sizeof token)
        return NULL;
      token[n++] = c;
    }
    token[n] = '\0';
    json_object *next;
    if (json_object_is_type(cur, json_type_object)) {
      if (!json_object_object_get_ex(cur, token, &next))
        return NULL;
    } else if (json_object_is_type(cur, json_type_array)) {
      char *end;
      long idx = strtol(token, &end, 10);
      if (*end || idx < 0 ||
          (size_t)idx >= json_object_array_length(cur))
        return NULL;
      next = json_object_array_get_idx(cur, (size_t)idx);
    } else {
      return NULL;
    }
    cur = next;
  }
  return cur;
}

static int resolve_refs(struct registry *reg) {
  /* Resolving may compile new targets, which may add pending refs: the
   * loop runs until the list stops growing. */
  for (size_t i = 0; i < reg->npending; i++) {
    struct pending_ref p = reg->pending[i];
    const char *fname = dray__schema_files[p.file].name;
    const char *hash = strchr(p.ref, '#');
    size_t target_file = p.file;
    if (hash != p.ref) {
      size_t len = hash ? (size_t)(hash - p.ref) : strlen(p.ref);
      long f = find_file(p.ref, len);
      if (f < 0)
        return compile_fail(fname, "$ref to an unknown file:", p.ref);
      target_file = (size_t)f;
    }
    json_object *target = reg->roots[target_file];
    if (hash && hash[1])
      target = resolve_pointer(target, hash + 1);
    if (!target)
      return compile_fail(fname, "$ref does not resolve:", p.ref);
    struct snode *node = compile_node(reg, target_file, target);
    if (!node)
      return -1;
    p.node->ref = node;
  }
  return 0;
}

static int cmp_type(const void *a, const void *b) {
  return strcmp(((const struct canon_type *)a)->type,
                ((const struct canon_type *)b)->type);
}

static struct snode *root_of(struct registry *reg, const char *schema) {
  char name[96];
  if (snprintf(name, sizeof name, "%s.json", schema) >= (int)sizeof name)
    return NULL;
  long f = find_file(name, strlen(name));
  return f < 0 ? NULL : reg->root_nodes[f];
}

static int load_types(struct registry *reg) {
  long f = find_file("types.json", strlen("types.json"));
  json_object *types;
  if (f < 0 || !json_object_object_get_ex(reg->roots[f], "types", &types) ||
      !json_object_is_type(types, json_type_object))
    return compile_fail("types.json", "missing or has no \"types\" object",
                        NULL);
  reg->ntypes = (size_t)json_object_object_length(types);
  reg->types = xcalloc(reg->ntypes, sizeof *reg->types);
  if (!reg->types)
    return compile_fail("types.json", "out of memory", NULL);
  size_t i = 0;
  json_object_object_foreach(types, tname, tschema) {
    const char *schema = json_object_get_string(tschema);
    struct snode *body = schema && json_object_is_type(tschema,
                                                       json_type_string)
                             ? root_of(reg, schema) : NULL;
    if (strncmp(tname, "dray.", 5) != 0 || !body)
      return compile_fail("types.json", "bad entry", tname);
    reg->types[i++] = (struct canon_type){tname, schema, body};
  }
  qsort(reg->types, reg->ntypes, sizeof *reg->types, cmp_type);
  return 0;
}

static void registry_init(void) {
  struct registry *reg = xcalloc(1, sizeof *reg);
  if (!reg) {
    compile_fail("(all)", "out of memory", NULL);
    return;
  }
  reg->roots = xcalloc(dray__schema_file_count, sizeof *reg->roots);
  reg->root_nodes = xcalloc(dray__schema_file_count, sizeof *reg->root_nodes);
  if (!reg->roots || !reg->root_nodes) {
    compile_fail("(all)", "out of memory", NULL);
    goto out_keep;
  }
  for (size_t i = 0; i < dray__schema_file_count; i++) {
    reg->roots[i] = json_tokener_parse(dray__schema_files[i].text);
    if (!reg->roots[i]) {
      compile_fail(dray__schema_files[i].name, "is not valid JSON", NULL);
      goto out_keep;
    }
  }
  for (size_t i = 0; i < dray__schema_file_count; i++) {
    if (strcmp(dray__schema_files[i].name, "types.json") == 0)
      continue; /* a table, not a schema */
    reg->root_nodes[i] = compile_node(reg, i, reg->roots[i]);
    if (!reg->root_nodes[i])
      goto out_keep;
  }
  if (resolve_refs(reg) < 0 || load_types(reg) < 0)
    goto out_keep;
  reg->envelope = root_of(reg, "envelope");
  if (!reg->envelope) {
    compile_fail("envelope.json", "is missing", NULL);
    goto out_keep;
  }
  registry = reg;
  return;
out_keep:
  registry_failed = reg;
}

static struct registry *get_registry(void) {
  pthread_once(&registry_once, registry_init);
  return registry;
}

/* ---- validation ------------------------------------------------------ */

#define PATH_MAX_LEN 480
#define MAX_FRAMES 128
#define MAX_DEPTH 200

/* One step of the JSON path: an object key (borrowed from the instance or
 * the schema, valid during the call) or an array index. The path text is
 * only built when an error is reported, so valid messages cost nothing. */
struct frame {
  const char *key; /* NULL: array index */
  size_t index;
};

struct vctx {
  char *err;
  size_t err_size;
  int quiet;  /* evaluating an if/anyOf/oneOf/not branch: no message */
  int failed; /* first error already written */
  int depth;
  const char *base; /* "$" or "$.data" */
  size_t nframes;   /* may exceed MAX_FRAMES; the rest is elided */
  struct frame frames[MAX_FRAMES];
};

static int is_ident(const char *s) {
  if (!*s)
    return 0;
  for (; *s; s++)
    if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
          (*s >= '0' && *s <= '9') || *s == '_' || *s == '$'))
      return 0;
  return 1;
}

/* Writes base + frames as ".key", ["odd key"] and "[3]" into buf. */
static void format_path(const struct vctx *c, char *buf, size_t size) {
  size_t len = (size_t)snprintf(buf, size, "%s", c->base);
  size_t n = c->nframes < MAX_FRAMES ? c->nframes : MAX_FRAMES;
  for (size_t i = 0; i < n && len < size; i++) {
    const struct frame *f = &c->frames[i];
    int w;
    if (!f->key) {
      w = snprintf(buf + len, size - len, "[%zu]", f->index);
    } else if (is_ident(f->key)) {
      w = snprintf(buf + len, size - len, ".%s", f->key);
    } else {
      /* Control characters, quotes and backslashes become '?' so the
       * message stays one printable line. */
      char quoted[96];
      size_t j = 0;
      for (const char *k = f->key; *k && j + 4 < sizeof quoted; k++)
        quoted[j++] = ((unsigned char)*k < 0x20 || *k == '"' || *k == '\\')
                          ? '?' : *k;
      quoted[j] = '\0';
      w = snprintf(buf + len, size - len, "[\"%s\"]", quoted);
    }
    if (w < 0)
      break;
    len += (size_t)w;
  }
  if (c->nframes > MAX_FRAMES && len + 4 < size)
    memcpy(buf + len, "...", 4);
}

static int fail(struct vctx *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static int fail(struct vctx *c, const char *fmt, ...) {
  if (c->quiet || c->failed)
    return -1;
  c->failed = 1;
  if (!c->err || c->err_size == 0)
    return -1;
  char path[PATH_MAX_LEN];
  format_path(c, path, sizeof path);
  int n = snprintf(c->err, c->err_size, "%s: ", path);
  if (n >= 0 && (size_t)n < c->err_size) {
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->err + n, c->err_size - (size_t)n, fmt, ap);
    va_end(ap);
  }
  return -1;
}

static void path_push_key(struct vctx *c, const char *key) {
  if (c->nframes < MAX_FRAMES)
    c->frames[c->nframes] = (struct frame){key, 0};
  c->nframes++;
}

static void path_push_index(struct vctx *c, size_t idx) {
  if (c->nframes < MAX_FRAMES)
    c->frames[c->nframes] = (struct frame){NULL, idx};
  c->nframes++;
}

static void path_pop(struct vctx *c) { c->nframes--; }

static const char *type_name(json_object *v) {
  switch (json_object_get_type(v)) {
  case json_type_null: return "null";
  case json_type_boolean: return "boolean";
  case json_type_int: return "integer";
  case json_type_double: return "number";
  case json_type_string: return "string";
  case json_type_array: return "array";
  case json_type_object: return "object";
  }
  return "unknown";
}

/* A short printable rendering of a value for messages. */
static const char *show(json_object *v, char *buf, size_t size) {
  if (json_object_is_type(v, json_type_string)) {
    const char *s = json_object_get_string(v);
    size_t j = 0;
    buf[j++] = '"';
    for (size_t i = 0; s[i] && j + 6 < size; i++)
      buf[j++] = ((unsigned char)s[i] < 0x20 || s[i] == '"') ? '?' : s[i];
    if (strlen(s) + 6 > size && j + 4 < size) {
      memcpy(buf + j, "...", 3);
      j += 3;
    }
    buf[j++] = '"';
    buf[j] = '\0';
    return buf;
  }
  if (json_object_is_type(v, json_type_array) ||
      json_object_is_type(v, json_type_object))
    return type_name(v);
  snprintf(buf, size, "%s",
           json_object_to_json_string_ext(v, JSON_C_TO_STRING_PLAIN));
  return buf;
}

static void types_text(unsigned types, char *buf, size_t size) {
  static const struct {
    unsigned bit;
    const char *name;
  } names[] = {{T_OBJECT, "object"},   {T_ARRAY, "array"},
               {T_STRING, "string"},   {T_INTEGER, "integer"},
               {T_NUMBER, "number"},   {T_BOOLEAN, "boolean"},
               {T_NULL, "null"}};
  size_t len = 0;
  buf[0] = '\0';
  for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
    if (!(types & names[i].bit))
      continue;
    int n = snprintf(buf + len, size - len, "%s%s", len ? " or " : "",
                     names[i].name);
    if (n < 0 || (size_t)n >= size - len)
      return;
    len += (size_t)n;
  }
}

static int type_ok(unsigned types, json_object *v) {
  switch (json_object_get_type(v)) {
  case json_type_null: return (types & T_NULL) != 0;
  case json_type_boolean: return (types & T_BOOLEAN) != 0;
  case json_type_int: return (types & (T_INTEGER | T_NUMBER)) != 0;
  case json_type_double: return (types & T_NUMBER) != 0;
  case json_type_string: return (types & T_STRING) != 0;
  case json_type_array: return (types & T_ARRAY) != 0;
  case json_type_object: return (types & T_OBJECT) != 0;
  }
  return 0;
}

static size_t utf8_chars(const char *s, size_t len) {
  size_t n = 0;
  for (size_t i = 0; i < len; i++)
    if (((unsigned char)s[i] & 0xC0) != 0x80)
      n++;
  return n;
}

static int digits(const char *s, int n, int *out) {
  int v = 0;
  for (int i = 0; i < n; i++) {
    if (s[i] < '0' || s[i] > '9')
      return -1;
    v = v * 10 + (s[i] - '0');
  }
  *out = v;
  return 0;
}

/* RFC 3339 full-date at s; returns 10 or -1. */
static int parse_full_date(const char *s, size_t len) {
  static const int mdays[] = {31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  int y, m, d;
  if (len < 10 || s[4] != '-' || s[7] != '-' || digits(s, 4, &y) < 0 ||
      digits(s + 5, 2, &m) < 0 || digits(s + 8, 2, &d) < 0)
    return -1;
  if (m < 1 || m > 12 || d < 1 || d > mdays[m - 1])
    return -1;
  if (m == 2 && d == 29 && !((y % 4 == 0 && y % 100 != 0) || y % 400 == 0))
    return -1;
  return 10;
}

/* RFC 3339 date-time: full-date "T" HH:MM:SS[.frac] ("Z" / +-HH:MM). */
static int is_date_time(const char *s, size_t len) {
  int h, mi, sec, oh, om;
  if (parse_full_date(s, len) < 0 || len < 20)
    return 0;
  if (s[10] != 'T' && s[10] != 't')
    return 0;
  const char *t = s + 11;
  if (digits(t, 2, &h) < 0 || t[2] != ':' || digits(t + 3, 2, &mi) < 0 ||
      t[5] != ':' || digits(t + 6, 2, &sec) < 0)
    return 0;
  if (h > 23 || mi > 59 || sec > 60)
    return 0;
  size_t i = 19;
  if (i < len && s[i] == '.') {
    size_t start = ++i;
    while (i < len && s[i] >= '0' && s[i] <= '9')
      i++;
    if (i == start)
      return 0;
  }
  if (i < len && (s[i] == 'Z' || s[i] == 'z'))
    return i + 1 == len;
  if (i + 6 != len || (s[i] != '+' && s[i] != '-') ||
      digits(s + i + 1, 2, &oh) < 0 || s[i + 3] != ':' ||
      digits(s + i + 4, 2, &om) < 0)
    return 0;
  return oh <= 23 && om <= 59;
}

static int validate(struct vctx *c, const struct snode *n, json_object *v);
static int matches(struct vctx *c, const struct snode *n, json_object *v);

static int enum_text(const struct snode *n, char *buf, size_t size) {
  size_t len = 0, count = json_object_array_length(n->enum_vals);
  buf[0] = '\0';
  for (size_t i = 0; i < count; i++) {
    char one[64];
    show(json_object_array_get_idx(n->enum_vals, i), one, sizeof one);
    int w = snprintf(buf + len, size - len, "%s%s", i ? ", " : "", one);
    if (w < 0 || (size_t)w >= size - len) {
      if (size > 4)
        memcpy(buf + size - 4, "...", 4);
      break;
    }
    len += (size_t)w;
  }
  return 0;
}

static int check_string(struct vctx *c, const struct snode *n,
                        json_object *v) {
  const char *s = json_object_get_string(v);
  size_t len = (size_t)json_object_get_string_len(v);
  char shown[72];

  if (n->min_len >= 0 || n->max_len >= 0) {
    size_t chars = utf8_chars(s, len);
    if (n->min_len >= 0 && chars < (size_t)n->min_len)
      return n->min_len == 1 ? fail(c, "must not be empty")
                             : fail(c, "shorter than %ld characters",
                                    n->min_len);
    if (n->max_len >= 0 && chars > (size_t)n->max_len)
      return fail(c, "longer than %ld characters", n->max_len);
  }
  if (n->re) {
    if (!pattern_matches(n, s, len))
      return fail(c, "%s does not match %s", show(v, shown, sizeof shown),
                  n->pattern);
  }
  if (n->format == FMT_DATE_TIME && !is_date_time(s, len))
    return fail(c, "%s is not an RFC 3339 date-time "
                "(e.g. 2026-03-02T14:05:00Z)", show(v, shown, sizeof shown));
  if (n->format == FMT_DATE && !(len == 10 && parse_full_date(s, len) == 10))
    return fail(c, "%s is not an RFC 3339 date (e.g. 2026-03-02)",
                show(v, shown, sizeof shown));
  return 0;
}

static int check_number(struct vctx *c, const struct snode *n,
                        json_object *v) {
  double d = json_object_get_double(v);
  char shown[72];
  if (n->has_min && (n->excl_min ? !(d > n->min) : !(d >= n->min)))
    return fail(c, "%s is below the %s %g", show(v, shown, sizeof shown),
                n->excl_min ? "exclusive minimum" : "minimum", n->min);
  if (n->has_max && (n->excl_max ? !(d < n->max) : !(d <= n->max)))
    return fail(c, "%s is above the %s %g", show(v, shown, sizeof shown),
                n->excl_max ? "exclusive maximum" : "maximum", n->max);
  return 0;
}

static const struct snode *find_prop(const struct snode *n, const char *key) {
  if (!n->nprops)
    return NULL;
  uint32_t h = name_hash(key);
  for (uint32_t at = h & n->slot_mask; n->slots[at];
       at = (at + 1) & n->slot_mask) {
    const struct sprop *p = &n->props[n->slots[at] - 1];
    if (p->hash == h && strcmp(p->name, key) == 0)
      return p->node;
  }
  return NULL;
}

/* propertyNames: names are strings, so a schema of only string keywords is
 * checked on the C string; anything else goes through a json-c string. */
static int check_name(struct vctx *c, const struct snode *pn,
                      const char *key) {
  int simple = !pn->ref && !pn->enum_vals && !pn->has_const &&
               !pn->nall_of && !pn->nany_of && !pn->none_of && !pn->not_ &&
               !pn->if_ && !pn->never && !pn->format &&
               (!pn->types || (pn->types & T_STRING));
  int rc;
  if (simple) {
    size_t chars = utf8_chars(key, strlen(key));
    rc = (pn->min_len >= 0 && chars < (size_t)pn->min_len) ||
                 (pn->max_len >= 0 && chars > (size_t)pn->max_len) ||
                 (pn->re && !pattern_matches(pn, key, strlen(key)))
             ? -1 : 0;
  } else {
    json_object *name = json_object_new_string(key);
    if (!name)
      return fail(c, "out of memory");
    rc = matches(c, pn, name);
    json_object_put(name);
  }
  if (rc == 0)
    return 0;
  if (pn->pattern)
    return fail(c, "property name does not match %s", pn->pattern);
  return fail(c, "property name not allowed");
}

static int check_object(struct vctx *c, const struct snode *n,
                        json_object *v) {
  for (size_t i = 0; i < n->nrequired; i++) {
    if (!json_object_object_get_ex(v, n->required[i], NULL)) {
      path_push_key(c, n->required[i]);
      fail(c, "required property missing");
      path_pop(c);
      return -1;
    }
  }
  if (!n->nprops && n->addl_mode == ADDL_ANY && !n->prop_names)
    return 0;
  json_object_object_foreach(v, key, val) {
    path_push_key(c, key);
    int rc = 0;
    if (n->prop_names && check_name(c, n->prop_names, key) < 0)
      rc = -1;
    if (rc == 0) {
      const struct snode *p = find_prop(n, key);
      if (p)
        rc = validate(c, p, val);
      else if (n->addl_mode == ADDL_NONE)
        rc = fail(c, "property not allowed here");
      else if (n->addl_mode == ADDL_SCHEMA)
        rc = validate(c, n->addl, val);
    }
    path_pop(c);
    if (rc < 0)
      return -1;
  }
  return 0;
}

static int check_array(struct vctx *c, const struct snode *n,
                       json_object *v) {
  size_t len = json_object_array_length(v);
  if (n->min_items >= 0 && len < (size_t)n->min_items)
    return fail(c, "needs at least %ld item%s", n->min_items,
                n->min_items == 1 ? "" : "s");
  if (n->max_items >= 0 && len > (size_t)n->max_items)
    return fail(c, "has more than %ld item%s", n->max_items,
                n->max_items == 1 ? "" : "s");
  if (!n->items)
    return 0;
  for (size_t i = 0; i < len; i++) {
    path_push_index(c, i);
    int rc = validate(c, n->items, json_object_array_get_idx(v, i));
    path_pop(c);
    if (rc < 0)
      return -1;
  }
  return 0;
}

/* Runs a branch without reporting; 0 when v matches. */
static int matches(struct vctx *c, const struct snode *n, json_object *v) {
  int saved_quiet = c->quiet, saved_failed = c->failed;
  c->quiet = 1;
  int rc = validate(c, n, v);
  c->quiet = saved_quiet;
  c->failed = saved_failed;
  return rc;
}

static int check_combinators(struct vctx *c, const struct snode *n,
                             json_object *v) {
  for (size_t i = 0; i < n->nall_of; i++)
    if (validate(c, n->all_of[i], v) < 0)
      return -1;
  if (n->nany_of) {
    size_t i;
    for (i = 0; i < n->nany_of; i++)
      if (matches(c, n->any_of[i], v) == 0)
        break;
    if (i == n->nany_of)
      return fail(c, "matches none of the allowed forms (anyOf)");
  }
  if (n->none_of) {
    size_t hits = 0;
    for (size_t i = 0; i < n->none_of; i++)
      if (matches(c, n->one_of[i], v) == 0)
        hits++;
    if (hits != 1)
      return fail(c, hits ? "matches more than one form (oneOf)"
                          : "matches none of the allowed forms (oneOf)");
  }
  if (n->not_ && matches(c, n->not_, v) == 0)
    return fail(c, "matches a form that is not allowed (not)");
  if (n->if_) {
    if (matches(c, n->if_, v) == 0) {
      if (n->then_ && validate(c, n->then_, v) < 0)
        return -1;
    } else if (n->else_ && validate(c, n->else_, v) < 0) {
      return -1;
    }
  }
  return 0;
}

/* Error reporters, kept out of validate() so its recursion frame stays
 * small; they only run on the failing path. */
__attribute__((noinline, cold)) static int fail_type(struct vctx *c,
                                                     const struct snode *n,
                                                     json_object *v) {
  char want[64], shown[72];
  types_text(n->types, want, sizeof want);
  if (json_object_is_type(v, json_type_double) ||
      json_object_is_type(v, json_type_int))
    return fail(c, "expected %s, got %s %s", want, type_name(v),
                show(v, shown, sizeof shown));
  return fail(c, "expected %s, got %s", want, type_name(v));
}

__attribute__((noinline, cold)) static int fail_const(struct vctx *c,
                                                      const struct snode *n,
                                                      json_object *v) {
  char want[72], shown[72];
  return fail(c, "must be %s, got %s", show(n->const_val, want, sizeof want),
              show(v, shown, sizeof shown));
}

__attribute__((noinline, cold)) static int fail_enum(struct vctx *c,
                                                     const struct snode *n,
                                                     json_object *v) {
  char allowed[320], shown[72];
  if (c->quiet || c->failed) /* skip the text in quiet branches */
    return -1;
  enum_text(n, allowed, sizeof allowed);
  return fail(c, "%s is not one of: %s", show(v, shown, sizeof shown),
              allowed);
}

static int in_enum(const struct snode *n, json_object *v) {
  size_t count = json_object_array_length(n->enum_vals);
  for (size_t i = 0; i < count; i++)
    if (json_object_equal(json_object_array_get_idx(n->enum_vals, i), v))
      return 1;
  return 0;
}

static int validate(struct vctx *c, const struct snode *n, json_object *v) {
  if (n->never)
    return fail(c, "not allowed here");
  if (++c->depth > MAX_DEPTH) {
    c->depth--;
    return fail(c, "nested too deeply");
  }
  int rc = -1;
  if (n->types && !type_ok(n->types, v)) {
    fail_type(c, n, v);
    goto out;
  }
  if (n->has_const && !json_object_equal(n->const_val, v)) {
    fail_const(c, n, v);
    goto out;
  }
  if (n->enum_vals && !in_enum(n, v)) {
    fail_enum(c, n, v);
    goto out;
  }
  switch (json_object_get_type(v)) {
  case json_type_string:
    if (check_string(c, n, v) < 0)
      goto out;
    break;
  case json_type_int:
  case json_type_double:
    if ((n->has_min || n->has_max) && check_number(c, n, v) < 0)
      goto out;
    break;
  case json_type_object:
    if (check_object(c, n, v) < 0)
      goto out;
    break;
  case json_type_array:
    if (check_array(c, n, v) < 0)
      goto out;
    break;
  default:
    break;
  }
  if (check_combinators(c, n, v) < 0)
    goto out;
  if (n->ref && validate(c, n->ref, v) < 0)
    goto out;
  rc = 0;
out:
  c->depth--;
  return rc;
}

/* ---- public API ------------------------------------------------------ */

static void set_err(char *err, size_t size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t size, const char *fmt, ...) {
  if (!err || size == 0)
    return;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(err, size, fmt, ap);
  va_end(ap);
}

static const struct canon_type *find_type(const struct registry *reg,
                                          const char *type) {
  struct canon_type key = {type, NULL, NULL};
  return bsearch(&key, reg->types, reg->ntypes, sizeof *reg->types,
                 cmp_type);
}

const char *dray_validate_schema_for_type(const char *type) {
  struct registry *reg = get_registry();
  if (!reg || !type)
    return NULL;
  const struct canon_type *t = find_type(reg, type);
  return t ? t->schema : NULL;
}

/* Parses a whole document; NULL with "<path>: invalid JSON ..." in err.
 * The caller owns the result (json_object_put). */
static json_object *parse_json(const char *json, size_t len, const char *path,
                               char *err, size_t err_size) {
  if (!json || len == 0) {
    set_err(err, err_size, "%s: empty input", path);
    return NULL;
  }
  if (len > INT32_MAX) {
    set_err(err, err_size, "%s: input too large", path);
    return NULL;
  }
  json_tokener *tok = json_tokener_new_ex(64);
  if (!tok) {
    set_err(err, err_size, "%s: out of memory", path);
    return NULL;
  }
  json_object *obj = json_tokener_parse_ex(tok, json, (int)len);
  enum json_tokener_error jerr = json_tokener_get_error(tok);
  size_t end = json_tokener_get_parse_end(tok);
  const char *why = NULL;
  if (!obj) {
    why = jerr == json_tokener_continue ? "unexpected end of input"
                                        : json_tokener_error_desc(jerr);
  } else {
    while (end < len && (json[end] == ' ' || json[end] == '\t' ||
                         json[end] == '\n' || json[end] == '\r'))
      end++;
    if (end < len)
      why = "unexpected data after the JSON value";
  }
  if (why) {
    size_t line = 1, col = 1;
    for (size_t i = 0; i < end && i < len; i++) {
      if (json[i] == '\n') {
        line++;
        col = 1;
      } else {
        col++;
      }
    }
    set_err(err, err_size, "%s: invalid JSON at line %zu, column %zu: %s",
            path, line, col, why);
    json_object_put(obj);
    obj = NULL;
  }
  json_tokener_free(tok);
  return obj;
}

static void ctx_init(struct vctx *c, const char *path, char *err,
                     size_t err_size) {
  memset(c, 0, sizeof *c);
  c->err = err;
  c->err_size = err_size;
  c->base = path;
}

static int is_canonical_namespace(const char *type) {
  return strncmp(type, "dray.", 5) == 0;
}

/* Validates a parsed body; `where` names the type's position for the
 * unknown-type message. */
static int validate_body_obj(struct registry *reg, const char *type,
                             json_object *body, const char *where, char *err,
                             size_t err_size) {
  const struct canon_type *t = find_type(reg, type);
  if (!t) {
    set_err(err, err_size,
            "%s: unknown canonical type \"%.100s\" (dray.* types are listed "
            "in docs/schemas/types.json)", where, type);
    return -1;
  }
  struct vctx c;
  ctx_init(&c, "$.data", err, err_size);
  return validate(&c, t->body, body);
}

int dray_validate_body(const char *type, const char *json, size_t len,
                       char *err, size_t err_size) {
  if (err && err_size)
    err[0] = '\0';
  if (!type) {
    set_err(err, err_size, "type: missing");
    return -1;
  }
  if (!is_canonical_namespace(type))
    return 0;
  struct registry *reg = get_registry();
  if (!reg) {
    set_err(err, err_size, "%s", registry_error);
    return -1;
  }
  if (!find_type(reg, type)) /* before parsing: the cheaper error first */
    return validate_body_obj(reg, type, NULL, "type", err, err_size);
  json_object *body = parse_json(json, len, "$.data", err, err_size);
  if (!body)
    return -1;
  int rc = validate_body_obj(reg, type, body, "type", err, err_size);
  json_object_put(body);
  return rc;
}

int dray_validate_event(const char *json, size_t len, char *err,
                        size_t err_size) {
  if (err && err_size)
    err[0] = '\0';
  struct registry *reg = get_registry();
  if (!reg) {
    set_err(err, err_size, "%s", registry_error);
    return -1;
  }
  json_object *event = parse_json(json, len, "$", err, err_size);
  if (!event)
    return -1;
  int rc = -1;
  struct vctx c;
  ctx_init(&c, "$", err, err_size);
  if (validate(&c, reg->envelope, event) < 0)
    goto out;
  /* The envelope schema guarantees an object with a string type. */
  const char *type = json_object_get_string(
      json_object_object_get(event, "type"));
  if (!is_canonical_namespace(type)) {
    rc = 0;
    goto out;
  }
  json_object *data;
  if (!find_type(reg, type)) {
    rc = validate_body_obj(reg, type, NULL, "$.type", err, err_size);
    goto out;
  }
  if (!json_object_object_get_ex(event, "data", &data)) {
    set_err(err, err_size,
            "$.data: required property missing (type %.100s carries a "
            "body)", type);
    goto out;
  }
  rc = validate_body_obj(reg, type, data, "$.type", err, err_size);
out:
  json_object_put(event);
  return rc;
}
