/* dray/host.h - the services the host hands to a plugin at create().
 *
 * A plugin never links against core symbols: everything it needs from the
 * host comes through this table. The same table is built by the in-process
 * runtime, by `dray convert`, by the SDK's mock host for unit tests, and (in
 * a later version) by a child `dray-plugin-host` process that forwards the
 * calls over ZeroMQ ipc; so nothing here assumes a shared address space
 * beyond the table itself.
 *
 * Threading contract
 * ------------------
 * - Every function in this table may be called from any thread, including
 *   threads the plugin starts itself, for as long as the instance exists.
 * - emit() is valid between the plugin's start() returning OK and its stop()
 *   returning. Outside that window it returns DRAY_FATAL.
 * - set_error() and set_retry_after() record state for the calling thread's
 *   current callback; call them before returning the status they explain.
 * - Strings returned by getters stay valid until the instance is destroyed
 *   unless the comment says the caller owns them (then free with free()).
 *
 * Memory
 * ------
 * Anything the host hands over with "caller owns" is released with
 * host->free(); anything the plugin hands to the host (a dray_msg through
 * emit, a buffer through buf_*) was obtained from host functions. Plugins
 * may use malloc freely for their own state.
 *
 * ABI rule: add functions at the end only; struct_size = sizeof at build.
 * A plugin that uses a function added in a later minor version checks
 * DRAY_HOST_HAS(host, field) first.
 */
#ifndef DRAY_HOST_H
#define DRAY_HOST_H

#include <stdarg.h>

#include "abi.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Called by the host's HTTP listener for a request on a registered route.
 * The handler reads the request, does its work (typically emit()), and
 * answers with http_respond() before returning. An exchange that returns
 * without an answer gets 500 for OK/FATAL, 503 + Retry-After for RETRY and
 * 400 for REJECT. Runs on a listener thread; may run concurrently for
 * different requests (the per-instance serialization does not apply). */
typedef dray_status (*dray_http_handler)(void *plugin_state,
                                         dray_http_exchange *exchange);

/* Optional authentication hook, run before the handler. Returns 0 to let the
 * request through, or an HTTP status (401, 403) to refuse it; the host then
 * answers with that status and never calls the handler. */
typedef int (*dray_http_auth)(void *plugin_state, dray_http_exchange *exchange);

struct dray_host {
  uint32_t struct_size;
  uint16_t abi_major;
  uint16_t abi_minor;

  /* --- logging -------------------------------------------------------- */
  /* Nonzero if a line at `level` would be written for this instance. */
  int (*log_enabled)(dray_instance *inst, int level);
  /* Writes one line prefixed with the instance name. Never pass a secret. */
  void (*log)(dray_instance *inst, int level, const char *fmt, ...)
      DRAY_PRINTF(3, 4);

  /* --- memory --------------------------------------------------------- */
  void *(*alloc)(size_t size);
  void *(*realloc)(void *ptr, size_t size);
  void (*free)(void *ptr);

  /* --- configuration (validated against the plugin's schema) ---------- */
  /* Value or default of a STRING/ENUM/PATH parameter; NULL when unset.
   * Returns NULL for a SECRET parameter: use get_secret. */
  const char *(*get_string)(dray_instance *inst, const char *name);
  /* INT/BOOL/DOUBLE value or default; `fallback` when unset. */
  int64_t (*get_int)(dray_instance *inst, const char *name, int64_t fallback);
  int (*get_bool)(dray_instance *inst, const char *name, int fallback);
  double (*get_double)(dray_instance *inst, const char *name, double fallback);
  /* LIST/OBJECT value as JSON text (NUL-terminated, length in *len);
   * NULL when unset. Secrets inside an OBJECT are not masked: do not log. */
  const char *(*get_json)(dray_instance *inst, const char *name, size_t *len);
  /* Resolved value of a SECRET parameter (after ${env:} / ${file:}).
   * Valid until destroy; never log it. */
  const char *(*get_secret)(dray_instance *inst, const char *name);
  /* Instance name from the site config, and its data directory (created by
   * the host, private to the instance). */
  const char *(*instance_name)(dray_instance *inst);
  const char *(*data_dir)(dray_instance *inst);

  /* --- messages ------------------------------------------------------- */
  /* New message of `type` (dray.<object>.<event>.v<N>) with a JSON body.
   * The host fills specversion, id (ULID), source (the instance URI),
   * time and recordedtime. Body is copied. Caller owns the result until
   * it is emitted, added to a batch, or freed. NULL on bad arguments. */
  dray_msg *(*msg_new)(dray_instance *inst, const char *type,
                       const char *json, size_t json_len);
  /* Parses a CloudEvents 1.0 structured JSON event. On error returns NULL
   * and writes a message naming the JSON path into err (err_size bytes). */
  dray_msg *(*msg_parse)(dray_instance *inst, const char *event_json,
                         size_t len, char *err, size_t err_size);
  /* Copy of a message (new id kept: a copy is the same event). */
  dray_msg *(*msg_clone)(const dray_msg *msg);
  void (*msg_free)(dray_msg **msg_p);
  const char *(*msg_type)(const dray_msg *msg);
  /* Body (the CloudEvents `data`) as JSON; valid while msg lives. */
  const char *(*msg_body)(const dray_msg *msg, size_t *len);
  /* Replaces the body (copied). Returns 0 or -1. */
  int (*msg_set_body)(dray_msg *msg, const char *json, size_t len);
  /* Envelope attribute by CloudEvents name ("id", "subject",
   * "partitionkey", ...); NULL when absent. Valid until changed. */
  const char *(*msg_header)(const dray_msg *msg, const char *name);
  /* Sets (value != NULL) or removes an attribute. Names are [a-z0-9]{1,20};
   * "specversion" and "data" are refused. Returns 0 or -1. */
  int (*msg_set_header)(dray_msg *msg, const char *name, const char *value);
  /* Appends the whole CloudEvents structured JSON event to buf. */
  int (*msg_serialize)(const dray_msg *msg, dray_buf *buf);

  /* Hands a message to the runtime. On DRAY_OK the host owns it (*msg_p is
   * set to NULL) and it is accepted (queued; durably once the journal is
   * on). DRAY_RETRY means backpressure: the caller keeps the message and
   * tries again later. DRAY_REJECT: the message is invalid (error set);
   * DRAY_FATAL: the instance may not emit now. */
  dray_status (*emit)(dray_instance *inst, dray_msg **msg_p);

  /* --- codec output --------------------------------------------------- */
  /* Adds a decoded message to a batch; the batch owns it afterwards. */
  int (*batch_add)(dray_batch *batch, dray_msg **msg_p);
  /* Growable byte buffer used by encode() and msg_serialize(). */
  int (*buf_append)(dray_buf *buf, const void *data, size_t len);
  int (*buf_printf)(dray_buf *buf, const char *fmt, ...) DRAY_PRINTF(2, 3);
  const char *(*buf_data)(const dray_buf *buf, size_t *len);

  /* --- errors and hints ----------------------------------------------- */
  /* Explains the status the current callback is about to return. The text
   * should name what and where (file:line:col, segment/element, JSON path).
   * It ends up in logs and in the dead-letter context. */
  void (*set_error)(dray_instance *inst, const char *fmt, ...)
      DRAY_PRINTF(2, 3);
  /* With DRAY_RETRY: do not retry before `ms` milliseconds. */
  void (*set_retry_after)(dray_instance *inst, int64_t ms);

  /* --- metrics -------------------------------------------------------- */
  /* Names are [a-z0-9_]+; the host prefixes them with the instance. */
  void (*counter_add)(dray_instance *inst, const char *name, uint64_t delta);
  void (*gauge_set)(dray_instance *inst, const char *name, double value);
  void (*histogram_observe)(dray_instance *inst, const char *name,
                            double value);

  /* --- time and lifecycle --------------------------------------------- */
  int64_t (*monotonic_ns)(void);
  int64_t (*realtime_ns)(void);
  /* Nonzero once the host wants the instance to stop: plugin threads and
   * long loops check it. */
  int (*stop_requested)(dray_instance *inst);

  /* --- durable key-value state (per instance; survives restarts) ------ */
  /* Caller owns *value (free with free()). Returns 0, 1 if absent, -1. */
  int (*kv_get)(dray_instance *inst, const char *key, char **value,
                size_t *len);
  int (*kv_put)(dray_instance *inst, const char *key, const void *value,
                size_t len);
  int (*kv_delete)(dray_instance *inst, const char *key);
  /* Atomically adds `delta` to an integer counter (0 if absent), stores it
   * durably and returns the new value in *out: control numbers. */
  int (*kv_next)(dray_instance *inst, const char *key, int64_t delta,
                 int64_t *out);

  /* --- identity cross-reference (site-wide) --------------------------- */
  /* Records that (system, local_id) is the canonical id `canonical_id`. */
  int (*xref_put)(dray_instance *inst, const char *system,
                  const char *local_id, const char *canonical_id);
  /* Caller owns *canonical_id. Returns 0, 1 if unknown, -1 on error. */
  int (*xref_get)(dray_instance *inst, const char *system,
                  const char *local_id, char **canonical_id);

  /* --- inbound HTTP on the host's shared listener --------------------- */
  /* Registers `handler` for requests whose path starts with path_prefix
   * and whose method matches (NULL: any). Valid during create() and
   * start(). Returns 0, or -1 if the listener is disabled or the prefix is
   * taken (error set). */
  int (*http_route)(dray_instance *inst, const char *method,
                    const char *path_prefix, dray_http_handler handler,
                    dray_http_auth auth);
  const char *(*http_method)(dray_http_exchange *ex);
  const char *(*http_path)(dray_http_exchange *ex);
  /* Raw query string without '?', or "". */
  const char *(*http_query)(dray_http_exchange *ex);
  /* Request header (case-insensitive name) or NULL. */
  const char *(*http_header)(dray_http_exchange *ex, const char *name);
  const void *(*http_body)(dray_http_exchange *ex, size_t *len);
  const char *(*http_remote_addr)(dray_http_exchange *ex);
  /* Adds a response header; call before http_respond. */
  int (*http_add_header)(dray_http_exchange *ex, const char *name,
                         const char *value);
  /* Sends the answer (body copied). Once per exchange. */
  int (*http_respond)(dray_http_exchange *ex, int status,
                      const char *content_type, const void *body, size_t len);

  /* --- buffers owned by the plugin ------------------------------------- */
  /* A new empty buffer (for msg_serialize, outbound requests); caller
   * owns it and releases it with buf_free. NULL when out of memory. */
  dray_buf *(*buf_new)(void);
  void (*buf_free)(dray_buf **buf_p);

  /* --- since ABI 1.1: effects on financial systems ----------------------
   * For instances marked `effects: financial` the host keeps a ledger per
   * idempotency key (pending -> attempting -> committed | in-doubt). */
  /* With DRAY_OK from process(): the other system's reference for the
   * effect (an invoice or ERP document number), kept in the ledger. */
  void (*set_effect_reference)(dray_instance *inst, const char *reference);
  /* With DRAY_RETRY from process(): the request may have taken effect
   * (timeout after sending). The host never retries such a message
   * blind: it reconciles with the plugin's lookup() first, or parks it
   * for an operator. */
  void (*set_in_doubt)(dray_instance *inst);

  /* --- since ABI 1.2 ---------------------------------------------------- */
  /* emit() for several messages at once: the runtime makes them durable
   * with one group commit, so a single-threaded source is not held to one
   * fdatasync per message. Messages are accepted in order up to the first
   * one that is refused: *accepted leading slots are then the host's (set
   * to NULL) and the status is the one emit() would give for
   * msgs[*accepted]; DRAY_OK means all were accepted. */
  dray_status (*emit_batch)(dray_instance *inst, dray_msg **msgs, size_t count,
                            size_t *accepted);
};

/* True if the host table has `field` (it was built with a minor version
 * that includes it). */
#define DRAY_HOST_HAS(host, field)                                            \
  ((host)->struct_size >=                                                      \
       offsetof(struct dray_host, field) + sizeof((host)->field) &&            \
   (host)->field != NULL)

#ifdef __cplusplus
}
#endif
#endif
