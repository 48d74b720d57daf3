/* host.c - the host services table as the runtime implements it. One
 * table serves every instance; each call names its instance. Message,
 * buffer and batch members come from the SDK's shared implementation. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "http_listener.h"
#include "instance.h"
#include "log.h"
#include "metrics.h"
#include "msg_internal.h"
#include "runtime.h"
#include "state_store.h"

/* --- per-callback error state (thread-local: the host reads it on the
 * thread that made the callback, right after it returns) ---------------- */

static __thread char cb_error[2048];
static __thread int64_t cb_retry_after = -1;
static __thread char cb_reference[256];
static __thread int cb_in_doubt;

void dray__callback_begin(void) {
  cb_error[0] = '\0';
  cb_retry_after = -1;
  cb_reference[0] = '\0';
  cb_in_doubt = 0;
}
const char *dray__callback_error(void) { return cb_error; }
int64_t dray__callback_retry_after(void) { return cb_retry_after; }
const char *dray__callback_reference(void) { return cb_reference; }
int dray__callback_in_doubt(void) { return cb_in_doubt; }

static void h_set_effect_reference(dray_instance *inst, const char *ref) {
  (void)inst;
  snprintf(cb_reference, sizeof cb_reference, "%s", ref ? ref : "");
}

static void h_set_in_doubt(dray_instance *inst) {
  (void)inst;
  cb_in_doubt = 1;
}

static void h_set_error(dray_instance *inst, const char *fmt, ...) {
  (void)inst;
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(cb_error, sizeof cb_error, fmt, ap);
  va_end(ap);
}

static void h_set_retry_after(dray_instance *inst, int64_t ms) {
  (void)inst;
  cb_retry_after = ms;
}

/* --- logging ------------------------------------------------------------ */

static int h_log_enabled(dray_instance *inst, int level) {
  (void)inst;
  return level <= dray__log_level();
}

static void h_log(dray_instance *inst, int level, const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  dray__vlog(level, inst ? inst->name : NULL, fmt, ap);
  va_end(ap);
}

/* --- configuration -------------------------------------------------------- */

static const char *h_get_string(dray_instance *inst, const char *name) {
  return dray__config_get_string(inst->config, name);
}
static int64_t h_get_int(dray_instance *inst, const char *name, int64_t fb) {
  return dray__config_get_int(inst->config, name, fb);
}
static int h_get_bool(dray_instance *inst, const char *name, int fb) {
  return dray__config_get_bool(inst->config, name, fb);
}
static double h_get_double(dray_instance *inst, const char *name, double fb) {
  return dray__config_get_double(inst->config, name, fb);
}
static const char *h_get_json(dray_instance *inst, const char *name,
                              size_t *len) {
  return dray__config_get_json(inst->config, name, len);
}
static const char *h_get_secret(dray_instance *inst, const char *name) {
  return dray__config_get_secret(inst->config, name);
}
static const char *h_instance_name(dray_instance *inst) { return inst->name; }
static const char *h_data_dir(dray_instance *inst) { return inst->data_dir; }

/* --- messages ------------------------------------------------------------- */

static dray_msg *h_msg_new(dray_instance *inst, const char *type,
                           const char *json, size_t len) {
  dray_msg *msg = dray__msg_new(inst->source_uri, type, json, len);
  if (msg && inst->site) dray__msg_set_header(msg, "site", inst->site);
  return msg;
}

static dray_msg *h_msg_parse(dray_instance *inst, const char *json,
                             size_t len, char *err, size_t err_size) {
  (void)inst;
  return dray__msg_parse(json, len, err, err_size);
}

static dray_status h_emit(dray_instance *inst, dray_msg **msg_p) {
  if (!msg_p || !*msg_p) {
    h_set_error(inst, "emit: no message");
    return DRAY_REJECT;
  }
  if (!atomic_load(&inst->emit_open) || !inst->rt) {
    if (inst->rt && dray__runtime_stopping(inst->rt)) {
      h_set_error(inst, "emit: the runtime is shutting down");
      return DRAY_RETRY;
    }
    h_set_error(inst, "emit: only valid between start and stop");
    return DRAY_FATAL;
  }
  return dray__runtime_accept(inst->rt, inst, msg_p);
}

static dray_status h_emit_batch(dray_instance *inst, dray_msg **msgs, size_t count,
                                size_t *accepted) {
  size_t ignored;
  if (!accepted) accepted = &ignored;
  *accepted = 0;
  if (!msgs) return count ? DRAY_REJECT : DRAY_OK;
  for (size_t i = 0; i < count; i++)
    if (!msgs[i]) {
      h_set_error(inst, "emit_batch: message %zu is NULL", i);
      return DRAY_REJECT;
    }
  if (!atomic_load(&inst->emit_open) || !inst->rt) {
    dray_msg *none = msgs[0];
    return count ? h_emit(inst, &none) : DRAY_OK; /* same refusal as emit */
  }
  return dray__runtime_accept_batch(inst->rt, inst, msgs, count, accepted);
}

/* --- metrics and lifecycle ------------------------------------------------ */

static void h_counter_add(dray_instance *inst, const char *name,
                          uint64_t delta) {
  dray__metric_add(inst->name, name, delta);
}
static void h_gauge_set(dray_instance *inst, const char *name, double v) {
  dray__metric_set(inst->name, name, v);
}
static void h_histogram(dray_instance *inst, const char *name, double v) {
  dray__metric_observe(inst->name, name, v);
}
static int h_stop_requested(dray_instance *inst) {
  return atomic_load(&inst->stop_requested);
}

/* --- durable state ---------------------------------------------------------- */

static int no_store(dray_instance *inst) {
  h_set_error(inst, "state: no state store for this instance");
  return -1;
}

static int h_kv_get(dray_instance *inst, const char *key, char **value,
                    size_t *len) {
  if (!inst->state_store) return no_store(inst);
  return dray__state_get(inst->state_store, inst->name, key, value, len);
}
static int h_kv_put(dray_instance *inst, const char *key, const void *value,
                    size_t len) {
  if (!inst->state_store) return no_store(inst);
  return dray__state_put(inst->state_store, inst->name, key, value, len);
}
static int h_kv_delete(dray_instance *inst, const char *key) {
  if (!inst->state_store) return no_store(inst);
  return dray__state_delete(inst->state_store, inst->name, key);
}
static int h_kv_next(dray_instance *inst, const char *key, int64_t delta,
                     int64_t *out) {
  if (!inst->state_store) return no_store(inst);
  return dray__state_next(inst->state_store, inst->name, key, delta, out);
}
static int h_xref_put(dray_instance *inst, const char *system,
                      const char *local_id, const char *canonical_id) {
  if (!inst->state_store) return no_store(inst);
  return dray__state_xref_put(inst->state_store, system, local_id,
                              canonical_id);
}
static int h_xref_get(dray_instance *inst, const char *system,
                      const char *local_id, char **canonical_id) {
  if (!inst->state_store) return no_store(inst);
  return dray__state_xref_get(inst->state_store, system, local_id,
                              canonical_id);
}

/* --- HTTP ------------------------------------------------------------------- */

static int h_http_route(dray_instance *inst, const char *method,
                        const char *prefix, dray_http_handler handler,
                        dray_http_auth auth) {
  struct dray__http *http = inst->rt ? dray__runtime_http(inst->rt) : NULL;
  if (!http) {
    h_set_error(inst,
                "http_route %s: the site has no HTTP listener (add http: "
                "{listen: HOST:PORT} to the site file)",
                prefix);
    return -1;
  }
  if (!prefix || prefix[0] != '/' || !handler) {
    h_set_error(inst, "http_route: the prefix must start with '/'");
    return -1;
  }
  if (inst->in_create) {
    /* The plugin's state does not exist yet: register after create. */
    struct dray__pending_route *v =
        realloc(inst->pending_routes,
                (inst->pending_route_count + 1) * sizeof *v);
    if (!v) return -1;
    inst->pending_routes = v;
    struct dray__pending_route *r = &v[inst->pending_route_count++];
    r->method = method ? strdup(method) : NULL;
    r->prefix = strdup(prefix);
    r->handler = handler;
    r->auth = auth;
    return 0;
  }
  char err[512];
  if (dray__http_route(http, method, prefix, handler, auth, inst->state,
                       inst->name, err, sizeof err) != 0) {
    h_set_error(inst, "%s", err);
    return -1;
  }
  return 0;
}

static struct dray_host host_table;
static pthread_once_t host_once = PTHREAD_ONCE_INIT;

static void host_init(void) {
  struct dray_host *h = &host_table;
  dray__host_fill_common(h);
  h->log_enabled = h_log_enabled;
  h->log = h_log;
  h->get_string = h_get_string;
  h->get_int = h_get_int;
  h->get_bool = h_get_bool;
  h->get_double = h_get_double;
  h->get_json = h_get_json;
  h->get_secret = h_get_secret;
  h->instance_name = h_instance_name;
  h->data_dir = h_data_dir;
  h->msg_new = h_msg_new;
  h->msg_parse = h_msg_parse;
  h->emit = h_emit;
  h->set_error = h_set_error;
  h->set_retry_after = h_set_retry_after;
  h->counter_add = h_counter_add;
  h->gauge_set = h_gauge_set;
  h->histogram_observe = h_histogram;
  h->stop_requested = h_stop_requested;
  h->kv_get = h_kv_get;
  h->kv_put = h_kv_put;
  h->kv_delete = h_kv_delete;
  h->kv_next = h_kv_next;
  h->xref_put = h_xref_put;
  h->xref_get = h_xref_get;
  h->http_route = h_http_route;
  h->http_method = dray__http_ex_method;
  h->http_path = dray__http_ex_path;
  h->http_query = dray__http_ex_query;
  h->http_header = dray__http_ex_header;
  h->http_body = dray__http_ex_body;
  h->http_remote_addr = dray__http_ex_remote_addr;
  h->http_add_header = dray__http_ex_add_header;
  h->http_respond = dray__http_ex_respond;
  h->set_effect_reference = h_set_effect_reference;
  h->set_in_doubt = h_set_in_doubt;
  h->emit_batch = h_emit_batch;
}

const struct dray_host *dray__host_table(void) {
  pthread_once(&host_once, host_init);
  return &host_table;
}
