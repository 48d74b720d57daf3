/* dray-sdk/mock_host.h - an in-memory host for a plugin's unit tests.
 *
 * Part of libdray-sdk (pkg-config dray-sdk), not of the ABI. It builds a
 * complete struct dray_host whose messages, buffers and batches are the same
 * implementation the real runtime uses; emitted messages, errors, retry
 * hints, counters, key-value state and HTTP routes are kept in memory so a
 * test can drive a plugin and assert what it did, without the runtime.
 *
 * Typical use:
 *   dray_mock_host *mh = dray_mock_host_new("acme_edi");
 *   dray_mock_host_set_config(mh, "partner_id", "ACME");
 *   void *state;
 *   assert(dray_mock_host_create(mh, &my_plugin, &state) == 0);
 *   dray_batch *out = dray_mock_batch_new();
 *   dray_status st = my_plugin.decode(state, doc, len, "t.edi", out);
 *   ... dray_mock_batch_count(out), dray_mock_batch_get(out, 0) ...
 *   dray_mock_batch_destroy(&out);
 *   my_plugin.destroy(state);
 *   dray_mock_host_destroy(&mh);
 *
 * Not thread-safe beyond what the real host promises: emit and counters
 * lock; everything else is for the test's thread.
 */
#ifndef DRAY_SDK_MOCK_HOST_H
#define DRAY_SDK_MOCK_HOST_H

#include <dray/dray.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef struct dray_mock_host dray_mock_host;

/* Caller owns the result; NULL on allocation failure. */
dray_mock_host *dray_mock_host_new(const char *instance_name);
void dray_mock_host_destroy(dray_mock_host **self_p);

const struct dray_host *dray_mock_host_table(dray_mock_host *self);
dray_instance *dray_mock_host_instance(dray_mock_host *self);

/* Sets a config value in its textual form ("42", "true", a path; JSON text
 * for LIST and OBJECT parameters). Values are checked against the plugin's
 * schema by dray_mock_host_create. */
int dray_mock_host_set_config(dray_mock_host *self, const char *name,
                              const char *value);
/* The instance's data directory (default: a fresh directory under
 * $TMPDIR, removed by destroy). */
int dray_mock_host_set_data_dir(dray_mock_host *self, const char *dir);

/* Validates the config against plugin->params (unknown keys, required,
 * types, ranges, enums) and calls plugin->create. Returns its result, or -1
 * with the reason in dray_mock_host_last_error on a config error. */
int dray_mock_host_create(dray_mock_host *self,
                          const struct dray_plugin *plugin, void **state);
/* Opens the emit window (as between start and stop). On by default after
 * create; tests of the window rules turn it off. */
void dray_mock_host_set_emit_open(dray_mock_host *self, int open);
/* The status emit returns from now on (default DRAY_OK). With anything
 * but DRAY_OK the message stays with the caller, as with the real host. */
void dray_mock_host_set_emit_status(dray_mock_host *self, dray_status st);

/* Messages emitted so far, in order; owned by the mock host. */
size_t dray_mock_host_emitted_count(dray_mock_host *self);
const dray_msg *dray_mock_host_emitted(dray_mock_host *self, size_t index);

/* Last text given to set_error ("" if none), and last retry-after hint
 * (-1 if none). dray_mock_host_clear_error resets both. */
const char *dray_mock_host_last_error(dray_mock_host *self);
int64_t dray_mock_host_last_retry_after(dray_mock_host *self);
void dray_mock_host_clear_error(dray_mock_host *self);
/* Since ABI 1.1: the reference given with set_effect_reference ("" if
 * none) and whether set_in_doubt was called; reset by clear_error. */
const char *dray_mock_host_effect_reference(dray_mock_host *self);
int dray_mock_host_in_doubt(dray_mock_host *self);
/* Every log line written, joined with '\n' (to assert that secrets do not
 * appear). */
const char *dray_mock_host_log_text(dray_mock_host *self);
/* Value of a counter added with counter_add (0 if never). */
uint64_t dray_mock_host_counter(dray_mock_host *self, const char *name);
/* Makes stop_requested() return nonzero. */
void dray_mock_host_request_stop(dray_mock_host *self);

/* Calls the handler registered with http_route for (method, path), as the
 * real listener would: auth hook first, then handler. `headers` is a
 * NULL-terminated list of "Name: value" strings (or NULL). On return
 * *status is the answer's status, and *body / *body_len the answer's body
 * (owned by the mock host until the next call). Returns 0, or -1 if no
 * route matched. */
int dray_mock_host_http_call(dray_mock_host *self, const char *method,
                             const char *path, const char *query,
                             const char *const *headers, const void *body,
                             size_t body_len, int *status, const char **body_out,
                             size_t *body_len_out);
/* Response header of the last http_call, or NULL. */
const char *dray_mock_host_http_response_header(dray_mock_host *self,
                                                const char *name);

/* Batches and buffers for decode() and encode(). */
dray_batch *dray_mock_batch_new(void);
size_t dray_mock_batch_count(const dray_batch *batch);
const dray_msg *dray_mock_batch_get(const dray_batch *batch, size_t index);
void dray_mock_batch_destroy(dray_batch **batch_p);

dray_buf *dray_mock_buf_new(void);
const char *dray_mock_buf_data(const dray_buf *buf, size_t *len);
void dray_mock_buf_reset(dray_buf *buf);
void dray_mock_buf_destroy(dray_buf **buf_p);

#ifdef __cplusplus
}
#endif
#endif
