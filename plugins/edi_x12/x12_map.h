/* x12_map.h - mappings from validated X12 transaction sets to canonical
 * message bodies (dray.* types), documented field by field in README.md.
 *
 * One call per accepted set: the set's segments (collected by the
 * validator) are walked once and one or more canonical messages are handed
 * to an emit callback with their envelope headers (subject, partitionkey,
 * correlationid, idempotencykey). Nothing here talks to the host, so the
 * bench and the fuzzer drive it directly. Thread-safe (no shared state).
 */
#ifndef X12_MAP_H
#define X12_MAP_H

#include "x12_validate.h"

struct x12_map_env {
  const struct x12_interchange_result *ic;
  const struct x12_group_result *group;
  const struct x12_set_result *set;
  const char *currency; /* default when the document names none */
  const char *local_tz; /* for local times: "UTC", "+HH:MM", or a US zone
                           name like "America/Chicago" */
  /* Optional: counts events like "at7_unknown_status". */
  void (*count)(void *ctx, const char *counter);
  void *count_ctx;
};

struct x12_out_msg {
  const char *type; /* dray.<object>.<event>.v1 */
  const char *body; /* JSON text */
  size_t body_len;
  char subject[128];
  char partitionkey[64];
  char correlationid[64];
  char idempotencykey[192];
};

/* Receives each mapped message; returns 0 to continue or -1 to stop. The
 * body is only valid during the call. */
typedef int (*x12_emit_fn)(void *ctx, const struct x12_out_msg *msg);

/* Maps one set. Returns the number of messages emitted, 0 when the set
 * type is not mapped, -1 on failure (reason in err). */
int x12_map_set(const struct x12_map_env *env,
                const struct x12_set_segments *segs, x12_emit_fn emit,
                void *ctx, char *err, size_t err_size);

/* Maps the TA1 segments received in an interchange into
 * dray.ack.received.v1 messages. Returns the count or -1. */
int x12_map_ta1(const struct x12_map_env *env, x12_emit_fn emit, void *ctx,
                char *err, size_t err_size);

/* Builds the dray.ack.sent.v1 body for an acknowledgment we generated for
 * ic ("997", "999" or "TA1"); caller frees the result with free(). */
char *x12_map_ack_sent(const struct x12_interchange_result *ic,
                       const char *ack_kind, long isa13, const char *text);

/* Frees the calling thread's serialization buffer (kept between messages
 * for speed). Optional: call before a thread that mapped messages exits. */
void x12_map_thread_release(void);

/* Resolves an X12 date (CCYYMMDD/YYMMDD) and time (HHMM[SS]) with an X12
 * time code (may be NULL/""; LT = local) into RFC 3339 in out (>= 32
 * bytes), using local_tz for local times. Returns 0 or -1 (bad input). */
int x12_resolve_time(const char *date, const char *time, const char *code,
                     const char *local_tz, char *out, size_t size);

/* Parses a decimal string into integer minor units (2 decimals). Returns 0,
 * or -1 when it is not a number or has more than 2 significant decimals. */
int x12_decimal_minor(const char *s, long long *out);

#endif
