/* message.c - canonical messages: CloudEvents 1.0 attributes kept beside a
 * JSON body, so the runtime routes on attributes without parsing bodies.
 *
 * Ownership: dray__msg_new/create/clone/parse return a message with one
 * reference owned by the caller; dray__msg_ref adds one (fan-out); each
 * reference is dropped with dray__msg_free. A message shared by several
 * references must not be modified. */
#include <json-c/json.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "msg_internal.h"

int dray__attr_name_valid(const char *name) {
  size_t n = 0;
  if (!name) return 0;
  for (; name[n]; n++) {
    char c = name[n];
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9'))) return 0;
  }
  return n >= 1 && n <= 20;
}

dray_msg *dray__msg_create(void) {
  dray_msg *msg = calloc(1, sizeof *msg);
  if (!msg) return NULL;
  msg->body = strdup("null");
  if (!msg->body) {
    free(msg);
    return NULL;
  }
  msg->body_len = 4;
  atomic_init(&msg->refs, 1);
  return msg;
}

dray_msg *dray__msg_ref(dray_msg *msg) {
  atomic_fetch_add_explicit(&msg->refs, 1, memory_order_relaxed);
  return msg;
}

/* Whether p lies in the message's own allocation (its first attributes,
 * the slack for later ones, and the body given to dray__msg_new): such
 * parts are not freed on their own. */
static int in_block(const dray_msg *msg, const char *p) {
  return msg->arena_lo && p >= msg->arena_lo && p < msg->arena_hi;
}

static void free_attr(const dray_msg *msg, char *name) {
  if (!in_block(msg, name)) free(name);
}

static void msg_destroy(dray_msg *msg) {
  for (size_t i = 0; i < msg->attr_count; i++) free_attr(msg, msg->attrs[i].name);
  if (!msg->attrs_inline) free(msg->attrs);
  if (!in_block(msg, msg->body)) free(msg->body);
  free(msg);
}

void dray__msg_free(dray_msg **msg_p) {
  if (!msg_p || !*msg_p) return;
  dray_msg *msg = *msg_p;
  *msg_p = NULL;
  if (atomic_fetch_sub_explicit(&msg->refs, 1, memory_order_acq_rel) != 1)
    return;
  msg_destroy(msg);
}

/* Messages whose last reference went in a delivery worker, waiting to be
 * freed by a thread that allocates them (a lock-free stack). */
static _Atomic(dray_msg *) freed_later;

void dray__msg_free_later(dray_msg **msg_p) {
  if (!msg_p || !*msg_p) return;
  dray_msg *msg = *msg_p;
  *msg_p = NULL;
  if (atomic_fetch_sub_explicit(&msg->refs, 1, memory_order_acq_rel) != 1)
    return;
  dray_msg *head = atomic_load_explicit(&freed_later, memory_order_relaxed);
  do {
    msg->next_freed = head;
  } while (!atomic_compare_exchange_weak_explicit(&freed_later, &head, msg,
                                                  memory_order_release, memory_order_relaxed));
}

void dray__msg_free_pending(void) {
  dray_msg *msg = atomic_exchange_explicit(&freed_later, NULL, memory_order_acquire);
  while (msg) {
    dray_msg *next = msg->next_freed;
    msg_destroy(msg);
    msg = next;
  }
}

const char *dray__msg_header(const dray_msg *msg, const char *name) {
  if (!msg || !name) return NULL;
  /* first byte first: most names differ there, and this runs for every
   * attribute the router, the lanes and the plugins look at */
  for (size_t i = 0; i < msg->attr_count; i++)
    if (msg->attrs[i].name[0] == name[0] && strcmp(msg->attrs[i].name, name) == 0)
      return msg->attrs[i].value;
  return NULL;
}

/* name and value in one block: taken from the slack of the message's own
 * allocation while it lasts (the attributes a source adds after msg_new),
 * else one allocation per attribute. */
static int attr_block(dray_msg *msg, const char *name, const char *value, char **n, char **v) {
  size_t nl = strlen(name) + 1, vl = strlen(value) + 1;
  char *b;
  if (msg->slack && (size_t)(msg->slack_end - msg->slack) >= nl + vl) {
    b = msg->slack;
    msg->slack += nl + vl;
  } else if (!(b = malloc(nl + vl))) {
    return -1;
  }
  memcpy(b, name, nl);
  memcpy(b + nl, value, vl);
  *n = b;
  *v = b + nl;
  return 0;
}

/* Sets without the name rules: used for specversion by the library. */
static int set_attr(dray_msg *msg, const char *name, const char *value) {
  if (strcmp(name, "id") == 0) msg->minted_id = 0;
  for (size_t i = 0; i < msg->attr_count; i++) {
    if (msg->attrs[i].name[0] != name[0] || strcmp(msg->attrs[i].name, name) != 0) continue;
    if (!value) {
      free_attr(msg, msg->attrs[i].name);
      msg->attrs[i] = msg->attrs[--msg->attr_count];
      return 0;
    }
    char *n, *v;
    if (attr_block(msg, name, value, &n, &v) != 0) return -1;
    free_attr(msg, msg->attrs[i].name);
    msg->attrs[i].name = n;
    msg->attrs[i].value = v;
    return 0;
  }
  if (!value) return 0;
  if (msg->attr_count == msg->attr_cap) {
    size_t cap = msg->attr_cap ? msg->attr_cap * 2 : DRAY__MSG_INLINE_ATTRS;
    struct dray__attr *attrs;
    if (msg->attrs_inline) { /* leave the inline array for a heap one */
      attrs = malloc(cap * sizeof *attrs);
      if (attrs) memcpy(attrs, msg->attrs, msg->attr_count * sizeof *attrs);
    } else {
      attrs = realloc(msg->attrs, cap * sizeof *attrs);
    }
    if (!attrs) return -1;
    msg->attrs = attrs;
    msg->attrs_inline = 0;
    msg->attr_cap = cap;
  }
  char *n, *v;
  if (attr_block(msg, name, value, &n, &v) != 0) return -1;
  msg->attrs[msg->attr_count].name = n;
  msg->attrs[msg->attr_count].value = v;
  msg->attr_count++;
  return 0;
}

int dray__msg_set_header(dray_msg *msg, const char *name, const char *value) {
  if (!msg || !dray__attr_name_valid(name)) return -1;
  if (strcmp(name, "specversion") == 0 || strcmp(name, "data") == 0) return -1;
  return set_attr(msg, name, value);
}

const char *dray__msg_body(const dray_msg *msg, size_t *len) {
  if (len) *len = msg ? msg->body_len : 0;
  return msg ? msg->body : NULL;
}

int dray__msg_set_body(dray_msg *msg, const char *json, size_t len) {
  if (!msg || (!json && len)) return -1;
  if (!json || len == 0) {
    json = "null";
    len = 4;
  }
  char *copy = malloc(len + 1);
  if (!copy) return -1;
  memcpy(copy, json, len);
  copy[len] = '\0';
  if (!in_block(msg, msg->body)) free(msg->body);
  msg->body = copy;
  msg->body_len = len;
  return 0;
}

/* One allocation for the message, its attribute array, its first seven
 * attributes, room for a few more (partition key, idempotency key, ...)
 * and the body. The hot path of every source: one malloc, and one free in
 * the worker that delivers it, instead of one per part. */
#define MSG_SLACK 192
dray_msg *dray__msg_new(const char *source, const char *type,
                        const char *json, size_t json_len) {
  if (!source || !type || !*type) return NULL;
  char id[27], now[40];
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  dray__ulid_new(id);
  dray__rfc3339((int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec, now, sizeof now);
  const char *const pairs[7][2] = {
      {"specversion", "1.0"}, {"id", id}, {"source", source}, {"type", type},
      {"time", now}, {"recordedtime", now}, {"datacontenttype", "application/json"}};
  size_t strings = 0;
  for (int i = 0; i < 7; i++) strings += strlen(pairs[i][0]) + strlen(pairs[i][1]) + 2;
  if ((!json && json_len) || json_len > SIZE_MAX / 2) return NULL;
  if (!json || json_len == 0) {
    json = "null";
    json_len = 4;
  }
  size_t head = sizeof(dray_msg) + DRAY__MSG_INLINE_ATTRS * sizeof(struct dray__attr);
  char *block = malloc(head + strings + MSG_SLACK + json_len + 1);
  if (!block) return NULL;
  dray_msg *msg = (dray_msg *)(void *)block;
  memset(msg, 0, sizeof *msg);
  atomic_init(&msg->refs, 1);
  msg->attrs = (struct dray__attr *)(void *)(block + sizeof(dray_msg));
  msg->attrs_inline = 1;
  msg->attr_cap = DRAY__MSG_INLINE_ATTRS;
  char *p = block + head;
  msg->arena_lo = p;
  msg->arena_hi = p + strings + MSG_SLACK + json_len + 1;
  for (int i = 0; i < 7; i++) {
    size_t nl = strlen(pairs[i][0]) + 1, vl = strlen(pairs[i][1]) + 1;
    msg->attrs[i].name = memcpy(p, pairs[i][0], nl);
    msg->attrs[i].value = memcpy(p + nl, pairs[i][1], vl);
    p += nl + vl;
  }
  msg->attr_count = 7;
  msg->slack = p;
  msg->slack_end = p + MSG_SLACK;
  msg->body = memcpy(msg->slack_end, json, json_len);
  msg->body[json_len] = '\0';
  msg->body_len = json_len;
  msg->minted_id = 1;
  return msg;
}

dray_msg *dray__msg_clone(const dray_msg *msg) {
  if (!msg) return NULL;
  dray_msg *copy = dray__msg_create();
  if (!copy) return NULL;
  for (size_t i = 0; i < msg->attr_count; i++)
    if (set_attr(copy, msg->attrs[i].name, msg->attrs[i].value) != 0) goto fail;
  if (dray__msg_set_body(copy, msg->body, msg->body_len) != 0) goto fail;
  return copy;
fail:
  dray__msg_free(&copy);
  return NULL;
}

int dray__msg_serialize(const dray_msg *msg, dray_buf *buf) {
  if (dray__buf_append(buf, "{", 1) != 0) return -1;
  /* specversion first, as CloudEvents examples do; then the rest. */
  const char *sv = dray__msg_header(msg, "specversion");
  if (dray__buf_printf(buf, "\"specversion\":") != 0 ||
      dray__buf_json_string(buf, sv ? sv : "1.0") != 0)
    return -1;
  for (size_t i = 0; i < msg->attr_count; i++) {
    if (strcmp(msg->attrs[i].name, "specversion") == 0) continue;
    if (dray__buf_append(buf, ",", 1) != 0 ||
        dray__buf_json_string(buf, msg->attrs[i].name) != 0 ||
        dray__buf_append(buf, ":", 1) != 0 ||
        dray__buf_json_string(buf, msg->attrs[i].value) != 0)
      return -1;
  }
  if (dray__buf_append(buf, ",\"data\":", 8) != 0 ||
      dray__buf_append(buf, msg->body, msg->body_len) != 0 ||
      dray__buf_append(buf, "}", 1) != 0)
    return -1;
  return 0;
}

static const char *const required_attrs[] = {"specversion", "id", "source",
                                             "type"};

int dray__msg_check_envelope(const dray_msg *msg, char *err, size_t size) {
  for (size_t i = 0; i < sizeof required_attrs / sizeof *required_attrs; i++) {
    const char *v = dray__msg_header(msg, required_attrs[i]);
    if (!v || !*v) {
      snprintf(err, size, "$.%s: required attribute missing",
               required_attrs[i]);
      return -1;
    }
  }
  if (strcmp(dray__msg_header(msg, "specversion"), "1.0") != 0) {
    snprintf(err, size, "$.specversion: must be \"1.0\"");
    return -1;
  }
  return 0;
}

/* CloudEvents allows boolean, integer and string attribute values; they
 * travel as strings beside the body. */
static int attr_value_string(struct json_object *v, const char **out) {
  switch (json_object_get_type(v)) {
    case json_type_string:
    case json_type_int:
    case json_type_boolean:
      *out = json_object_get_string(v);
      return 0;
    default:
      return -1;
  }
}

dray_msg *dray__msg_parse(const char *json, size_t len, char *err,
                          size_t err_size) {
  struct json_tokener *tok = json_tokener_new();
  dray_msg *msg = NULL;
  if (!tok) {
    snprintf(err, err_size, "out of memory");
    return NULL;
  }
  struct json_object *root = json_tokener_parse_ex(tok, json, (int)len);
  enum json_tokener_error jerr = json_tokener_get_error(tok);
  if (!root || jerr != json_tokener_success) {
    snprintf(err, err_size, "invalid JSON at byte %zu: %s",
             json_tokener_get_parse_end(tok),
             jerr == json_tokener_continue ? "unexpected end of input"
                                           : json_tokener_error_desc(jerr));
    goto out;
  }
  if (json_tokener_get_parse_end(tok) < len) {
    size_t end = json_tokener_get_parse_end(tok);
    while (end < len && (json[end] == ' ' || json[end] == '\n' ||
                         json[end] == '\r' || json[end] == '\t'))
      end++;
    if (end < len) {
      snprintf(err, err_size, "invalid JSON at byte %zu: trailing data", end);
      goto out;
    }
  }
  if (!json_object_is_type(root, json_type_object)) {
    snprintf(err, err_size, "$: a CloudEvent must be a JSON object");
    goto out;
  }
  msg = dray__msg_create();
  if (!msg) {
    snprintf(err, err_size, "out of memory");
    goto out;
  }
  json_object_object_foreach(root, key, val) {
    if (strcmp(key, "data") == 0) {
      const char *text = json_object_to_json_string_ext(
          val, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE);
      if (dray__msg_set_body(msg, text, strlen(text)) != 0) goto oom;
      continue;
    }
    if (strcmp(key, "data_base64") == 0) {
      snprintf(err, err_size,
               "$.data_base64: binary data is not supported; use dataref");
      goto fail;
    }
    if (!dray__attr_name_valid(key)) {
      snprintf(err, err_size,
               "$.%s: attribute names are 1-20 characters of [a-z0-9]", key);
      goto fail;
    }
    const char *value;
    if (attr_value_string(val, &value) != 0) {
      snprintf(err, err_size, "$.%s: attribute value must be a string", key);
      goto fail;
    }
    if (set_attr(msg, key, value) != 0) goto oom;
  }
  if (dray__msg_check_envelope(msg, err, err_size) != 0) goto fail;
  goto out;
oom:
  snprintf(err, err_size, "out of memory");
fail:
  dray__msg_free(&msg);
out:
  if (root) json_object_put(root);
  json_tokener_free(tok);
  return msg;
}

static int put_u16(dray_buf *buf, size_t v) {
  unsigned char b[2] = {(unsigned char)(v & 0xff), (unsigned char)(v >> 8)};
  return v > 0xffff ? -1 : dray__buf_append(buf, b, 2);
}

static int put_u32(dray_buf *buf, size_t v) {
  unsigned char b[4] = {(unsigned char)(v & 0xff), (unsigned char)(v >> 8),
                        (unsigned char)(v >> 16), (unsigned char)(v >> 24)};
  return v > 0xffffffffu ? -1 : dray__buf_append(buf, b, 4);
}

int dray__msg_pack(const dray_msg *msg, dray_buf *buf) {
  if (dray__buf_append(buf, "DRM1", 4) != 0 || put_u16(buf, msg->attr_count) != 0)
    return -1;
  for (size_t i = 0; i < msg->attr_count; i++) {
    size_t n = strlen(msg->attrs[i].name), v = strlen(msg->attrs[i].value);
    if (put_u16(buf, n) != 0 || dray__buf_append(buf, msg->attrs[i].name, n) != 0 ||
        put_u32(buf, v) != 0 || dray__buf_append(buf, msg->attrs[i].value, v) != 0)
      return -1;
  }
  if (put_u32(buf, msg->body_len) != 0 ||
      dray__buf_append(buf, msg->body, msg->body_len) != 0)
    return -1;
  return 0;
}

/* A cursor over untrusted bytes: every read is bounds-checked. */
struct reader {
  const unsigned char *p;
  size_t left;
};

static int take(struct reader *r, size_t n, const unsigned char **out) {
  if (n > r->left) return -1;
  *out = r->p;
  r->p += n;
  r->left -= n;
  return 0;
}

static int get_u16(struct reader *r, size_t *v) {
  const unsigned char *b;
  if (take(r, 2, &b) != 0) return -1;
  *v = (size_t)b[0] | (size_t)b[1] << 8;
  return 0;
}

static int get_u32(struct reader *r, size_t *v) {
  const unsigned char *b;
  if (take(r, 4, &b) != 0) return -1;
  *v = (size_t)b[0] | (size_t)b[1] << 8 | (size_t)b[2] << 16 | (size_t)b[3] << 24;
  return 0;
}

/* One allocation, as dray__msg_new: the packed form bounds every string,
 * so the message, its attributes and its body fit in one block sized from
 * it (the journal replays and the backlog feeders unpack every message). */
dray_msg *dray__msg_unpack(const void *data, size_t len, char *err,
                           size_t err_size) {
  struct reader r = {data, len};
  const unsigned char *magic, *name, *value;
  size_t count, n, v;
  if (take(&r, 4, &magic) != 0 || memcmp(magic, "DRM1", 4) != 0) {
    snprintf(err, err_size, "packed message: bad magic");
    return NULL;
  }
  if (get_u16(&r, &count) != 0) {
    snprintf(err, err_size, "packed message: truncated at byte %zu", len - r.left);
    return NULL;
  }
  size_t cap = count > DRAY__MSG_INLINE_ATTRS ? count : DRAY__MSG_INLINE_ATTRS;
  size_t head = sizeof(dray_msg) + cap * sizeof(struct dray__attr);
  /* every name and value and the body come from the input, plus their
   * NULs, plus "null" for an empty body */
  size_t strings = len + 2 * count + 8;
  char *block = malloc(head + strings + MSG_SLACK);
  if (!block) {
    snprintf(err, err_size, "out of memory");
    return NULL;
  }
  dray_msg *msg = (dray_msg *)(void *)block;
  memset(msg, 0, sizeof *msg);
  atomic_init(&msg->refs, 1);
  msg->attrs = (struct dray__attr *)(void *)(block + sizeof(dray_msg));
  msg->attrs_inline = 1;
  msg->attr_cap = cap;
  char *p = block + head;
  msg->arena_lo = p;
  msg->arena_hi = p + strings + MSG_SLACK;
  for (size_t i = 0; i < count; i++) {
    if (get_u16(&r, &n) != 0 || take(&r, n, &name) != 0 ||
        get_u32(&r, &v) != 0 || take(&r, v, &value) != 0)
      goto truncated;
    char *k = memcpy(p, name, n);
    k[n] = '\0';
    char *val = memcpy(p + n + 1, value, v);
    val[v] = '\0';
    int bad = memchr(name, 0, n) || memchr(value, 0, v) || !dray__attr_name_valid(k) ||
              strcmp(k, "data") == 0 || dray__msg_header(msg, k) != NULL;
    if (bad) {
      snprintf(err, err_size, "packed message: attribute %zu is invalid", i);
      goto fail;
    }
    msg->attrs[msg->attr_count].name = k;
    msg->attrs[msg->attr_count].value = val;
    msg->attr_count++;
    p += n + v + 2;
  }
  if (get_u32(&r, &n) != 0 || take(&r, n, &value) != 0) goto truncated;
  if (n == 0) {
    value = (const unsigned char *)"null";
    n = 4;
  }
  msg->body = memcpy(p, value, n);
  msg->body[n] = '\0';
  msg->body_len = n;
  msg->slack = p + n + 1;
  msg->slack_end = (char *)msg->arena_hi;
  if (r.left != 0) {
    snprintf(err, err_size, "packed message: %zu trailing bytes", r.left);
    goto fail;
  }
  return msg;
truncated:
  snprintf(err, err_size, "packed message: truncated at byte %zu", len - r.left);
fail:
  msg->body = NULL; /* in the block: nothing of it is freed on its own */
  dray__msg_free(&msg);
  return NULL;
}
