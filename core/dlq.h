/* dlq.h - dead letters: messages no attempt could deliver, kept on disk
 * with the original bytes and the failure context until an operator
 * replays or purges them (`dray dlq`). The spool is the same durable
 * record format as the ingress journal (spool.h); a dead letter is
 * written and synced before the journal releases the message.
 *
 * Record: "DRD1", u32 context length, context JSON, then the packed
 * message. The context names: instance, plugin, plugin_version, stage,
 * error_class, error, attempts, first_failure, last_failure (RFC 3339),
 * idempotency_key, correlation_id, dead_lettered_at. */
#ifndef DRAY_CORE_DLQ_H
#define DRAY_CORE_DLQ_H

#include <stdint.h>

#include "msg_internal.h"
#include "spool.h"

struct json_object;

struct dray__dlq_context {
  const char *instance;
  const char *plugin;
  const char *plugin_version;
  const char *stage;       /* "process", "reconcile", "replay" */
  const char *error_class; /* rejected, max_age_exceeded, in_doubt, unroutable */
  const char *error;
  unsigned attempts;
  int64_t first_failure_ns; /* realtime */
  int64_t last_failure_ns;
};

/* Encodes one dead letter. 0 or -1. */
int dray__dlq_encode(dray_buf *out, const dray_msg *msg, const struct dray__dlq_context *ctx);

struct dray__dlq_entry {
  uint64_t seq;
  struct json_object *context; /* owned by the entry */
  dray_msg *msg;               /* owned by the entry */
};

/* Decodes a record. 0, or -1 with the reason in err. */
int dray__dlq_decode(uint64_t seq, const void *data, size_t len, struct dray__dlq_entry *e,
                     char *err, size_t err_size);
void dray__dlq_entry_release(struct dray__dlq_entry *e);

/* Which dead letters an operator means; NULL/0 fields match anything. */
struct dray__dlq_filter {
  const char *instance;
  const char *type_glob;
  const char *error_class;
  const char *id;        /* message id */
  const char *since;     /* RFC 3339, compared with last_failure */
  const char *until;
  uint64_t seq;          /* 0 = any */
};

int dray__dlq_matches(const struct dray__dlq_entry *e, const struct dray__dlq_filter *f);
/* A context field as text ("" when absent). */
const char *dray__dlq_field(const struct dray__dlq_entry *e, const char *name);

#endif
