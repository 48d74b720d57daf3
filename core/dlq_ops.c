/* dlq_ops.c - list, show, replay and purge dead letters (see dlq_ops.h). */
#include "dlq_ops.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "msg_internal.h"

struct matches {
  uint64_t *seqs;
  size_t count, cap;
  const struct dray__dlq_filter *filter;
  int bad;
};

static int collect(void *ctx, uint64_t seq, const void *data, uint32_t len) {
  struct matches *m = ctx;
  struct dray__dlq_entry e;
  char why[256];
  if (dray__dlq_decode(seq, data, len, &e, why, sizeof why) != 0) {
    m->bad++;
    return 0;
  }
  int match = dray__dlq_matches(&e, m->filter);
  dray__dlq_entry_release(&e);
  if (!match) return 0;
  if (m->count == m->cap) {
    size_t cap = m->cap ? m->cap * 2 : 64;
    uint64_t *v = realloc(m->seqs, cap * sizeof *v);
    if (!v) return 1;
    m->seqs = v;
    m->cap = cap;
  }
  m->seqs[m->count++] = seq;
  return 0;
}

static void print_entry(const struct dray__dlq_op *op, const struct dray__dlq_entry *e,
                        FILE *out) {
  if (op->json || op->action == DRAY_DLQ_SHOW) {
    struct json_object *o = json_object_new_object();
    json_object_object_add(o, "seq", json_object_new_int64((int64_t)e->seq));
    json_object_object_add(o, "context", json_object_get(e->context));
    dray_buf event;
    dray__buf_init(&event);
    if (dray__msg_serialize(e->msg, &event) == 0) {
      struct json_object *ev = json_tokener_parse(event.data);
      if (ev) json_object_object_add(o, "message", ev);
    }
    dray__buf_release(&event);
    int flags = JSON_C_TO_STRING_NOSLASHESCAPE |
                (op->action == DRAY_DLQ_SHOW && !op->json
                     ? JSON_C_TO_STRING_PRETTY | JSON_C_TO_STRING_SPACED
                     : JSON_C_TO_STRING_PLAIN);
    fprintf(out, "%s\n", json_object_to_json_string_ext(o, flags));
    json_object_put(o);
    return;
  }
  fprintf(out, "%-6llu %-24s %-14s %-16s %-30s %-26s %3s  %s\n", (unsigned long long)e->seq,
          dray__dlq_field(e, "last_failure"), dray__dlq_field(e, "instance"),
          dray__dlq_field(e, "error_class"), dray__dlq_field(e, "type"),
          dray__dlq_field(e, "id"), dray__dlq_field(e, "attempts"),
          dray__dlq_field(e, "error"));
}

/* Puts the message back into the ingress journal, addressed to the
 * instance that dead-lettered it, with its id and idempotency key: a
 * destination with financial effects sees the same key again and never
 * doubles the effect. */
static int replay_entry(dray__spool *journal, struct dray__dlq_entry *e,
                        dray__dlq_inject_fn inject, void *ctx, char *err, size_t err_size) {
  const char *instance = dray__dlq_field(e, "instance");
  const char *dests[1] = {instance};
  dray_buf rec;
  uint64_t seq;
  dray__buf_init(&rec);
  int rc = dray__journal_encode(&rec, instance, dests, 1, 0, e->msg) == 0
               ? dray__spool_append(journal, rec.data, (uint32_t)rec.len, &seq)
               : -ENOMEM;
  dray__buf_release(&rec);
  if (rc != 0) {
    snprintf(err, err_size, "journal append failed: %s", strerror(-rc));
    return -1;
  }
  if (inject) {
    struct dray__journal_record jr = {0};
    char *dest_list[2] = {strdup(instance), NULL};
    jr.source = strdup(instance);
    jr.dests = calloc(2, sizeof *jr.dests);
    if (jr.dests) {
      jr.dests[0] = dest_list[0];
      jr.dest_count = 1;
    } else {
      free(dest_list[0]);
    }
    jr.msg = dray__msg_ref(e->msg);
    rc = inject(ctx, seq, &jr);
    dray__journal_record_release(&jr);
  }
  return rc;
}

long dray__dlq_run(dray__spool *dlq, dray__spool *journal, const struct dray__dlq_op *op,
                   dray__dlq_inject_fn inject, void *inject_ctx, FILE *out, FILE *progress,
                   char *err, size_t err_size) {
  struct matches m = {.filter = &op->filter};
  if (dray__spool_scan(dlq, 0, collect, &m) != 0) {
    snprintf(err, err_size, "cannot read the dead letters");
    free(m.seqs);
    return -1;
  }
  if (op->action == DRAY_DLQ_LIST && !op->json)
    fprintf(out, "%-6s %-24s %-14s %-16s %-30s %-26s %3s  %s\n", "SEQ", "LAST FAILURE",
            "INSTANCE", "CLASS", "TYPE", "ID", "TRY", "ERROR");
  long done = 0;
  time_t last_progress = time(NULL);
  for (size_t i = 0; i < m.count; i++) {
    void *data;
    uint32_t len;
    if (dray__spool_get(dlq, m.seqs[i], &data, &len) != 0) continue;
    struct dray__dlq_entry e;
    char why[256];
    int ok = dray__dlq_decode(m.seqs[i], data, len, &e, why, sizeof why) == 0;
    free(data);
    if (!ok) continue;
    int rc = 0;
    switch (op->action) {
      case DRAY_DLQ_LIST:
      case DRAY_DLQ_SHOW:
        print_entry(op, &e, out);
        break;
      case DRAY_DLQ_REPLAY:
        rc = replay_entry(journal, &e, inject, inject_ctx, err, err_size);
        if (rc == 0) rc = dray__spool_release(dlq, m.seqs[i]);
        if (rc == 0)
          fprintf(out, "replayed %llu: message %s to %s\n", (unsigned long long)m.seqs[i],
                  dray__dlq_field(&e, "id"), dray__dlq_field(&e, "instance"));
        break;
      case DRAY_DLQ_PURGE:
        rc = dray__spool_release(dlq, m.seqs[i]);
        if (rc == 0)
          fprintf(out, "purged %llu: message %s\n", (unsigned long long)m.seqs[i],
                  dray__dlq_field(&e, "id"));
        break;
    }
    dray__dlq_entry_release(&e);
    if (rc != 0) {
      if (!*err) snprintf(err, err_size, "dead letter %llu: failed", (unsigned long long)m.seqs[i]);
      free(m.seqs);
      return -1;
    }
    done++;
    if (progress && (op->action == DRAY_DLQ_REPLAY || op->action == DRAY_DLQ_PURGE) &&
        (time(NULL) != last_progress || (size_t)done == m.count)) {
      fprintf(progress, "%s %ld of %zu\n",
              op->action == DRAY_DLQ_REPLAY ? "replayed" : "purged", done, m.count);
      fflush(progress);
      last_progress = time(NULL);
    }
  }
  if (m.bad && progress)
    fprintf(progress, "warning: %d dead-letter records could not be read\n", m.bad);
  free(m.seqs);
  return done;
}

static void put_opt(struct json_object *o, const char *k, const char *v) {
  if (v) json_object_object_add(o, k, json_object_new_string(v));
}

static const char *const action_names[] = {"list", "show", "replay", "purge"};

struct json_object *dray__dlq_op_to_json(const struct dray__dlq_op *op) {
  struct json_object *o = json_object_new_object();
  json_object_object_add(o, "action", json_object_new_string(action_names[op->action]));
  json_object_object_add(o, "json", json_object_new_boolean(op->json));
  put_opt(o, "instance", op->filter.instance);
  put_opt(o, "type", op->filter.type_glob);
  put_opt(o, "error_class", op->filter.error_class);
  put_opt(o, "id", op->filter.id);
  put_opt(o, "since", op->filter.since);
  put_opt(o, "until", op->filter.until);
  json_object_object_add(o, "seq", json_object_new_int64((int64_t)op->filter.seq));
  return o;
}

static const char *get_opt(struct json_object *o, const char *k) {
  struct json_object *v;
  return json_object_object_get_ex(o, k, &v) ? json_object_get_string(v) : NULL;
}

int dray__dlq_op_from_json(struct json_object *o, struct dray__dlq_op *op) {
  memset(op, 0, sizeof *op);
  const char *action = get_opt(o, "action");
  int found = 0;
  for (int i = 0; action && i < 4; i++)
    if (strcmp(action, action_names[i]) == 0) {
      op->action = (enum dray__dlq_action)i;
      found = 1;
    }
  if (!found) return -1;
  struct json_object *v;
  op->json = json_object_object_get_ex(o, "json", &v) && json_object_get_boolean(v);
  op->filter.instance = get_opt(o, "instance");
  op->filter.type_glob = get_opt(o, "type");
  op->filter.error_class = get_opt(o, "error_class");
  op->filter.id = get_opt(o, "id");
  op->filter.since = get_opt(o, "since");
  op->filter.until = get_opt(o, "until");
  op->filter.seq = json_object_object_get_ex(o, "seq", &v) ? (uint64_t)json_object_get_int64(v) : 0;
  return 0;
}
