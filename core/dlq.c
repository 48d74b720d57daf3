/* dlq.c - dead-letter records and filters (see dlq.h). */
#include "dlq.h"

#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "site_config.h"

static void add_str(struct json_object *o, const char *k, const char *v) {
  json_object_object_add(o, k, json_object_new_string(v ? v : ""));
}

static void add_time(struct json_object *o, const char *k, int64_t ns) {
  char when[40];
  dray__rfc3339(ns, when, sizeof when);
  add_str(o, k, when);
}

int dray__dlq_encode(dray_buf *out, const dray_msg *msg, const struct dray__dlq_context *c) {
  struct json_object *o = json_object_new_object();
  struct timespec now;
  clock_gettime(CLOCK_REALTIME, &now);
  add_str(o, "instance", c->instance);
  add_str(o, "plugin", c->plugin);
  add_str(o, "plugin_version", c->plugin_version);
  add_str(o, "stage", c->stage);
  add_str(o, "error_class", c->error_class);
  add_str(o, "error", c->error);
  json_object_object_add(o, "attempts", json_object_new_int64(c->attempts));
  add_time(o, "first_failure", c->first_failure_ns);
  add_time(o, "last_failure", c->last_failure_ns);
  add_time(o, "dead_lettered_at", (int64_t)now.tv_sec * 1000000000 + now.tv_nsec);
  add_str(o, "id", dray__msg_header(msg, "id"));
  add_str(o, "type", dray__msg_header(msg, "type"));
  add_str(o, "source", dray__msg_header(msg, "source"));
  add_str(o, "idempotency_key", dray__msg_header(msg, "idempotencykey"));
  add_str(o, "correlation_id", dray__msg_header(msg, "correlationid"));
  const char *text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
  size_t n = strlen(text);
  unsigned char len[4] = {(unsigned char)n, (unsigned char)(n >> 8), (unsigned char)(n >> 16),
                          (unsigned char)(n >> 24)};
  int rc = dray__buf_append(out, "DRD1", 4) == 0 && dray__buf_append(out, len, 4) == 0 &&
                   dray__buf_append(out, text, n) == 0 && dray__msg_pack(msg, out) == 0
               ? 0 : -1;
  json_object_put(o);
  return rc;
}

int dray__dlq_decode(uint64_t seq, const void *data, size_t len, struct dray__dlq_entry *e,
                     char *err, size_t err_size) {
  const unsigned char *p = data;
  memset(e, 0, sizeof *e);
  e->seq = seq;
  if (len < 8 || memcmp(p, "DRD1", 4) != 0) {
    snprintf(err, err_size, "dead letter %llu: bad magic", (unsigned long long)seq);
    return -1;
  }
  size_t n = (size_t)p[4] | (size_t)p[5] << 8 | (size_t)p[6] << 16 | (size_t)p[7] << 24;
  if (n > len - 8) {
    snprintf(err, err_size, "dead letter %llu: truncated context", (unsigned long long)seq);
    return -1;
  }
  struct json_tokener *tok = json_tokener_new();
  e->context = json_tokener_parse_ex(tok, (const char *)p + 8, (int)n);
  json_tokener_free(tok);
  if (!e->context || !json_object_is_type(e->context, json_type_object)) {
    snprintf(err, err_size, "dead letter %llu: bad context", (unsigned long long)seq);
    dray__dlq_entry_release(e);
    return -1;
  }
  e->msg = dray__msg_unpack(p + 8 + n, len - 8 - n, err, err_size);
  if (!e->msg) {
    dray__dlq_entry_release(e);
    return -1;
  }
  return 0;
}

void dray__dlq_entry_release(struct dray__dlq_entry *e) {
  if (e->context) json_object_put(e->context);
  dray__msg_free(&e->msg);
  e->context = NULL;
}

const char *dray__dlq_field(const struct dray__dlq_entry *e, const char *name) {
  struct json_object *v;
  if (!e->context || !json_object_object_get_ex(e->context, name, &v)) return "";
  return json_object_get_string(v);
}

int dray__dlq_matches(const struct dray__dlq_entry *e, const struct dray__dlq_filter *f) {
  if (f->seq && e->seq != f->seq) return 0;
  if (f->instance && strcmp(dray__dlq_field(e, "instance"), f->instance) != 0) return 0;
  if (f->error_class && strcmp(dray__dlq_field(e, "error_class"), f->error_class) != 0) return 0;
  if (f->id && strcmp(dray__dlq_field(e, "id"), f->id) != 0) return 0;
  if (f->type_glob && !dray__glob_match(f->type_glob, dray__dlq_field(e, "type"))) return 0;
  /* RFC 3339 UTC with the same precision sorts as text */
  if (f->since && strcmp(dray__dlq_field(e, "last_failure"), f->since) < 0) return 0;
  if (f->until && strcmp(dray__dlq_field(e, "last_failure"), f->until) > 0) return 0;
  return 1;
}
