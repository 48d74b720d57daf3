/* mock_host.c - an in-memory host for plugin unit tests (see
 * dray-sdk/mock_host.h). Same messages and config checks as the runtime;
 * everything the plugin does is recorded for assertions. */
#include <dray-sdk/mock_host.h>

#include <ftw.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "msg_internal.h"
#include "params.h"

struct kv_entry {
  char *key;
  char *value;
  size_t len;
  struct kv_entry *next;
};

struct counter {
  char *name;
  uint64_t value;
  struct counter *next;
};

struct route {
  char *method;
  char *prefix;
  dray_http_handler handler;
  dray_http_auth auth;
  struct route *next;
};

/* The exchange handed to a plugin's HTTP handler by http_call. */
struct dray_http_exchange {
  const char *method, *path, *query;
  const char *const *headers;
  const void *body;
  size_t body_len;
  int status; /* 0 until answered */
  dray_buf response;
  dray_buf response_headers; /* "Name: value\n" lines */
};

struct dray_mock_host {
  struct dray_host table;
  char *name;
  char *source;
  char *data_dir;
  int own_data_dir;
  dray__config config;
  const struct dray_plugin *plugin;
  void *state;
  pthread_mutex_t lock;
  dray_msg **emitted;
  size_t emitted_count, emitted_cap;
  int emit_open;
  dray_status emit_status;
  int stop;
  int in_doubt;
  char reference[256];
  char error[1024];
  int64_t retry_after;
  dray_buf log;
  struct kv_entry *kv;
  struct counter *counters;
  struct route *routes;
  dray_buf last_body;
  dray_buf last_headers;
};

#define MH(inst) ((dray_mock_host *)(void *)(inst))

/* --- logging, errors ---------------------------------------------------- */

static int mh_log_enabled(dray_instance *inst, int level) {
  (void)inst;
  return level <= DRAY_LOG_DEBUG;
}

static void mh_log(dray_instance *inst, int level, const char *fmt, ...) {
  static const char *const names[] = {"error", "warn", "info", "debug"};
  dray_mock_host *mh = MH(inst);
  va_list ap;
  pthread_mutex_lock(&mh->lock);
  dray__buf_printf(&mh->log, "%s: ", level >= 0 && level <= 3 ? names[level] : "?");
  va_start(ap, fmt);
  dray__buf_vprintf(&mh->log, fmt, ap);
  va_end(ap);
  dray__buf_append(&mh->log, "\n", 1);
  pthread_mutex_unlock(&mh->lock);
}

static void mh_set_error(dray_instance *inst, const char *fmt, ...) {
  dray_mock_host *mh = MH(inst);
  va_list ap;
  va_start(ap, fmt);
  pthread_mutex_lock(&mh->lock);
  vsnprintf(mh->error, sizeof mh->error, fmt, ap);
  pthread_mutex_unlock(&mh->lock);
  va_end(ap);
}

static void mh_set_retry_after(dray_instance *inst, int64_t ms) {
  MH(inst)->retry_after = ms;
}

static void mh_set_effect_reference(dray_instance *inst, const char *ref) {
  snprintf(MH(inst)->reference, sizeof MH(inst)->reference, "%s", ref ? ref : "");
}

static void mh_set_in_doubt(dray_instance *inst) { MH(inst)->in_doubt = 1; }

/* --- config ------------------------------------------------------------- */

static const char *mh_get_string(dray_instance *inst, const char *name) {
  return dray__config_get_string(&MH(inst)->config, name);
}
static int64_t mh_get_int(dray_instance *inst, const char *name, int64_t fb) {
  return dray__config_get_int(&MH(inst)->config, name, fb);
}
static int mh_get_bool(dray_instance *inst, const char *name, int fb) {
  return dray__config_get_bool(&MH(inst)->config, name, fb);
}
static double mh_get_double(dray_instance *inst, const char *name, double fb) {
  return dray__config_get_double(&MH(inst)->config, name, fb);
}
static const char *mh_get_json(dray_instance *inst, const char *name,
                               size_t *len) {
  return dray__config_get_json(&MH(inst)->config, name, len);
}
static const char *mh_get_secret(dray_instance *inst, const char *name) {
  return dray__config_get_secret(&MH(inst)->config, name);
}
static const char *mh_instance_name(dray_instance *inst) {
  return MH(inst)->name;
}
static const char *mh_data_dir(dray_instance *inst) {
  return MH(inst)->data_dir;
}

/* --- messages ----------------------------------------------------------- */

static dray_msg *mh_msg_new(dray_instance *inst, const char *type,
                            const char *json, size_t len) {
  return dray__msg_new(MH(inst)->source, type, json, len);
}

static dray_msg *mh_msg_parse(dray_instance *inst, const char *json,
                              size_t len, char *err, size_t err_size) {
  (void)inst;
  return dray__msg_parse(json, len, err, err_size);
}

static dray_status mh_emit(dray_instance *inst, dray_msg **msg_p) {
  dray_mock_host *mh = MH(inst);
  dray_status st;
  char why[256];
  if (!msg_p || !*msg_p) return DRAY_REJECT;
  pthread_mutex_lock(&mh->lock);
  if (!mh->emit_open) {
    st = DRAY_FATAL;
  } else if (dray__msg_check_envelope(*msg_p, why, sizeof why) != 0) {
    snprintf(mh->error, sizeof mh->error, "emit: %s", why);
    st = DRAY_REJECT;
  } else if ((st = mh->emit_status) == DRAY_OK) {
    if (mh->emitted_count == mh->emitted_cap) {
      size_t cap = mh->emitted_cap ? mh->emitted_cap * 2 : 16;
      dray_msg **m = realloc(mh->emitted, cap * sizeof *m);
      if (!m) {
        pthread_mutex_unlock(&mh->lock);
        return DRAY_RETRY;
      }
      mh->emitted = m;
      mh->emitted_cap = cap;
    }
    mh->emitted[mh->emitted_count++] = *msg_p;
    *msg_p = NULL;
  }
  pthread_mutex_unlock(&mh->lock);
  return st;
}

static dray_status mh_emit_batch(dray_instance *inst, dray_msg **msgs, size_t count,
                                 size_t *accepted) {
  size_t n = 0;
  dray_status st = DRAY_OK;
  while (n < count && (st = mh_emit(inst, &msgs[n])) == DRAY_OK) n++;
  if (accepted) *accepted = n;
  return st;
}

/* --- metrics, lifecycle ------------------------------------------------- */

static void mh_counter_add(dray_instance *inst, const char *name,
                           uint64_t delta) {
  dray_mock_host *mh = MH(inst);
  pthread_mutex_lock(&mh->lock);
  struct counter *c = mh->counters;
  while (c && strcmp(c->name, name) != 0) c = c->next;
  if (!c && (c = calloc(1, sizeof *c)) != NULL) {
    c->name = strdup(name);
    c->next = mh->counters;
    mh->counters = c;
  }
  if (c) c->value += delta;
  pthread_mutex_unlock(&mh->lock);
}

static void mh_gauge_set(dray_instance *inst, const char *name, double v) {
  (void)inst, (void)name, (void)v;
}

static void mh_histogram(dray_instance *inst, const char *name, double v) {
  (void)inst, (void)name, (void)v;
}

static int mh_stop_requested(dray_instance *inst) { return MH(inst)->stop; }

/* --- key-value state and cross-references (in memory) -------------------- */

static struct kv_entry **kv_find(dray_mock_host *mh, const char *key) {
  struct kv_entry **e = &mh->kv;
  while (*e && strcmp((*e)->key, key) != 0) e = &(*e)->next;
  return e;
}

static int kv_get_locked(dray_mock_host *mh, const char *key, char **value,
                         size_t *len) {
  struct kv_entry *e = *kv_find(mh, key);
  if (!e) return 1;
  *value = malloc(e->len + 1);
  if (!*value) return -1;
  memcpy(*value, e->value, e->len);
  (*value)[e->len] = '\0';
  if (len) *len = e->len;
  return 0;
}

static int kv_put_locked(dray_mock_host *mh, const char *key,
                         const void *value, size_t len) {
  struct kv_entry **slot = kv_find(mh, key);
  char *copy = malloc(len + 1);
  if (!copy) return -1;
  memcpy(copy, value, len);
  copy[len] = '\0';
  if (!*slot) {
    struct kv_entry *e = calloc(1, sizeof *e);
    if (!e || !(e->key = strdup(key))) {
      free(e);
      free(copy);
      return -1;
    }
    *slot = e;
  }
  free((*slot)->value);
  (*slot)->value = copy;
  (*slot)->len = len;
  return 0;
}

static int mh_kv_get(dray_instance *inst, const char *key, char **value,
                     size_t *len) {
  dray_mock_host *mh = MH(inst);
  pthread_mutex_lock(&mh->lock);
  int rc = kv_get_locked(mh, key, value, len);
  pthread_mutex_unlock(&mh->lock);
  return rc;
}

static int mh_kv_put(dray_instance *inst, const char *key, const void *value,
                     size_t len) {
  dray_mock_host *mh = MH(inst);
  pthread_mutex_lock(&mh->lock);
  int rc = kv_put_locked(mh, key, value, len);
  pthread_mutex_unlock(&mh->lock);
  return rc;
}

static int mh_kv_delete(dray_instance *inst, const char *key) {
  dray_mock_host *mh = MH(inst);
  pthread_mutex_lock(&mh->lock);
  struct kv_entry **slot = kv_find(mh, key);
  if (*slot) {
    struct kv_entry *e = *slot;
    *slot = e->next;
    free(e->key);
    free(e->value);
    free(e);
  }
  pthread_mutex_unlock(&mh->lock);
  return 0;
}

static int mh_kv_next(dray_instance *inst, const char *key, int64_t delta,
                      int64_t *out) {
  dray_mock_host *mh = MH(inst);
  char *value = NULL, text[32];
  int64_t current = 0;
  pthread_mutex_lock(&mh->lock);
  int rc = kv_get_locked(mh, key, &value, NULL);
  if (rc == 0) current = strtoll(value, NULL, 10);
  free(value);
  if (rc >= 0) {
    current += delta;
    snprintf(text, sizeof text, "%lld", (long long)current);
    rc = kv_put_locked(mh, key, text, strlen(text));
  }
  pthread_mutex_unlock(&mh->lock);
  if (rc == 0 && out) *out = current;
  return rc == 0 ? 0 : -1;
}

static int mh_xref_put(dray_instance *inst, const char *system,
                       const char *local_id, const char *canonical_id) {
  char key[1024];
  snprintf(key, sizeof key, "\x01xref\x01%s\x01%s", system, local_id);
  return mh_kv_put(inst, key, canonical_id, strlen(canonical_id));
}

static int mh_xref_get(dray_instance *inst, const char *system,
                       const char *local_id, char **canonical_id) {
  char key[1024];
  snprintf(key, sizeof key, "\x01xref\x01%s\x01%s", system, local_id);
  return mh_kv_get(inst, key, canonical_id, NULL);
}

/* --- HTTP --------------------------------------------------------------- */

static int mh_http_route(dray_instance *inst, const char *method,
                         const char *prefix, dray_http_handler handler,
                         dray_http_auth auth) {
  dray_mock_host *mh = MH(inst);
  for (struct route *r = mh->routes; r; r = r->next) {
    if (strcmp(r->prefix, prefix) == 0 &&
        ((!r->method && !method) ||
         (r->method && method && strcasecmp(r->method, method) == 0))) {
      snprintf(mh->error, sizeof mh->error, "http route %s already taken",
               prefix);
      return -1;
    }
  }
  struct route *r = calloc(1, sizeof *r);
  if (!r) return -1;
  r->method = method ? strdup(method) : NULL;
  r->prefix = strdup(prefix);
  r->handler = handler;
  r->auth = auth;
  r->next = mh->routes;
  mh->routes = r;
  return 0;
}

static const char *mh_http_method(dray_http_exchange *ex) { return ex->method; }
static const char *mh_http_path(dray_http_exchange *ex) { return ex->path; }
static const char *mh_http_query(dray_http_exchange *ex) {
  return ex->query ? ex->query : "";
}

static const char *mh_http_header(dray_http_exchange *ex, const char *name) {
  size_t n = strlen(name);
  for (size_t i = 0; ex->headers && ex->headers[i]; i++) {
    const char *h = ex->headers[i];
    if (strncasecmp(h, name, n) == 0 && h[n] == ':') {
      h += n + 1;
      while (*h == ' ') h++;
      return h;
    }
  }
  return NULL;
}

static const void *mh_http_body(dray_http_exchange *ex, size_t *len) {
  if (len) *len = ex->body_len;
  return ex->body;
}

static const char *mh_http_remote(dray_http_exchange *ex) {
  (void)ex;
  return "127.0.0.1";
}

static int mh_http_add_header(dray_http_exchange *ex, const char *name,
                              const char *value) {
  return dray__buf_printf(&ex->response_headers, "%s: %s\n", name, value);
}

static int mh_http_respond(dray_http_exchange *ex, int status,
                           const char *content_type, const void *body,
                           size_t len) {
  if (ex->status) return -1;
  ex->status = status;
  if (content_type) mh_http_add_header(ex, "Content-Type", content_type);
  return dray__buf_append(&ex->response, body ? body : "", body ? len : 0);
}

/* --- public API ----------------------------------------------------------- */

dray_mock_host *dray_mock_host_new(const char *instance_name) {
  dray_mock_host *mh = calloc(1, sizeof *mh);
  if (!mh) return NULL;
  mh->name = strdup(instance_name ? instance_name : "test");
  if (!mh->name || asprintf(&mh->source, "dray://mock/%s", mh->name) < 0) {
    free(mh->name);
    free(mh);
    return NULL;
  }
  pthread_mutex_init(&mh->lock, NULL);
  dray__config_init(&mh->config, NULL);
  dray__buf_init(&mh->log);
  dray__buf_init(&mh->last_body);
  dray__buf_init(&mh->last_headers);
  mh->retry_after = -1;
  mh->emit_status = DRAY_OK;

  struct dray_host *h = &mh->table;
  dray__host_fill_common(h);
  h->log_enabled = mh_log_enabled;
  h->log = mh_log;
  h->get_string = mh_get_string;
  h->get_int = mh_get_int;
  h->get_bool = mh_get_bool;
  h->get_double = mh_get_double;
  h->get_json = mh_get_json;
  h->get_secret = mh_get_secret;
  h->instance_name = mh_instance_name;
  h->data_dir = mh_data_dir;
  h->msg_new = mh_msg_new;
  h->msg_parse = mh_msg_parse;
  h->emit = mh_emit;
  h->set_error = mh_set_error;
  h->set_retry_after = mh_set_retry_after;
  h->counter_add = mh_counter_add;
  h->gauge_set = mh_gauge_set;
  h->histogram_observe = mh_histogram;
  h->stop_requested = mh_stop_requested;
  h->kv_get = mh_kv_get;
  h->kv_put = mh_kv_put;
  h->kv_delete = mh_kv_delete;
  h->kv_next = mh_kv_next;
  h->xref_put = mh_xref_put;
  h->xref_get = mh_xref_get;
  h->http_route = mh_http_route;
  h->http_method = mh_http_method;
  h->http_path = mh_http_path;
  h->http_query = mh_http_query;
  h->http_header = mh_http_header;
  h->http_body = mh_http_body;
  h->http_remote_addr = mh_http_remote;
  h->http_add_header = mh_http_add_header;
  h->http_respond = mh_http_respond;
  h->set_effect_reference = mh_set_effect_reference;
  h->set_in_doubt = mh_set_in_doubt;
  h->emit_batch = mh_emit_batch;
  return mh;
}

static int rm_entry(const char *path, const struct stat *st, int flag,
                    struct FTW *ftw) {
  (void)st, (void)flag, (void)ftw;
  return remove(path);
}

void dray_mock_host_destroy(dray_mock_host **self_p) {
  if (!self_p || !*self_p) return;
  dray_mock_host *mh = *self_p;
  *self_p = NULL;
  for (size_t i = 0; i < mh->emitted_count; i++) dray__msg_free(&mh->emitted[i]);
  free(mh->emitted);
  while (mh->kv) {
    struct kv_entry *e = mh->kv;
    mh->kv = e->next;
    free(e->key);
    free(e->value);
    free(e);
  }
  while (mh->counters) {
    struct counter *c = mh->counters;
    mh->counters = c->next;
    free(c->name);
    free(c);
  }
  while (mh->routes) {
    struct route *r = mh->routes;
    mh->routes = r->next;
    free(r->method);
    free(r->prefix);
    free(r);
  }
  if (mh->own_data_dir && mh->data_dir)
    nftw(mh->data_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  free(mh->data_dir);
  dray__config_release(&mh->config);
  dray__buf_release(&mh->log);
  dray__buf_release(&mh->last_body);
  dray__buf_release(&mh->last_headers);
  pthread_mutex_destroy(&mh->lock);
  free(mh->source);
  free(mh->name);
  free(mh);
}

const struct dray_host *dray_mock_host_table(dray_mock_host *self) {
  return &self->table;
}

dray_instance *dray_mock_host_instance(dray_mock_host *self) {
  return (dray_instance *)(void *)self;
}

int dray_mock_host_set_config(dray_mock_host *self, const char *name,
                              const char *value) {
  return dray__config_set(&self->config, name, value);
}

int dray_mock_host_set_data_dir(dray_mock_host *self, const char *dir) {
  char *copy = strdup(dir);
  if (!copy) return -1;
  if (self->own_data_dir && self->data_dir)
    nftw(self->data_dir, rm_entry, 16, FTW_DEPTH | FTW_PHYS);
  free(self->data_dir);
  self->data_dir = copy;
  self->own_data_dir = 0;
  return 0;
}

int dray_mock_host_create(dray_mock_host *self,
                          const struct dray_plugin *plugin, void **state) {
  char why[512];
  self->config.plugin = plugin;
  if (dray__params_schema_check(plugin, why, sizeof why) != 0 ||
      dray__config_check(&self->config, why, sizeof why) != 0) {
    snprintf(self->error, sizeof self->error, "config: %s", why);
    return -1;
  }
  if (!self->data_dir) {
    const char *tmp = getenv("TMPDIR");
    char tmpl[4096];
    snprintf(tmpl, sizeof tmpl, "%s/dray-mock-XXXXXX", tmp ? tmp : "/tmp");
    if (!mkdtemp(tmpl) || !(self->data_dir = strdup(tmpl))) return -1;
    self->own_data_dir = 1;
  }
  self->plugin = plugin;
  self->emit_open = 1;
  int rc = plugin->create(&self->table, dray_mock_host_instance(self), state);
  if (rc == 0) self->state = *state;
  return rc;
}

void dray_mock_host_set_emit_open(dray_mock_host *self, int open) {
  self->emit_open = open;
}

void dray_mock_host_set_emit_status(dray_mock_host *self, dray_status st) {
  self->emit_status = st;
}

size_t dray_mock_host_emitted_count(dray_mock_host *self) {
  return self->emitted_count;
}

const dray_msg *dray_mock_host_emitted(dray_mock_host *self, size_t index) {
  return index < self->emitted_count ? self->emitted[index] : NULL;
}

const char *dray_mock_host_last_error(dray_mock_host *self) {
  return self->error;
}

int64_t dray_mock_host_last_retry_after(dray_mock_host *self) {
  return self->retry_after;
}

void dray_mock_host_clear_error(dray_mock_host *self) {
  self->error[0] = '\0';
  self->retry_after = -1;
  self->in_doubt = 0;
  self->reference[0] = '\0';
}

const char *dray_mock_host_effect_reference(dray_mock_host *self) {
  return self->reference;
}

int dray_mock_host_in_doubt(dray_mock_host *self) { return self->in_doubt; }

const char *dray_mock_host_log_text(dray_mock_host *self) {
  return dray__buf_data(&self->log, NULL);
}

uint64_t dray_mock_host_counter(dray_mock_host *self, const char *name) {
  for (struct counter *c = self->counters; c; c = c->next)
    if (strcmp(c->name, name) == 0) return c->value;
  return 0;
}

void dray_mock_host_request_stop(dray_mock_host *self) { self->stop = 1; }

int dray_mock_host_http_call(dray_mock_host *self, const char *method,
                             const char *path, const char *query,
                             const char *const *headers, const void *body,
                             size_t body_len, int *status,
                             const char **body_out, size_t *body_len_out) {
  struct route *best = NULL;
  size_t best_len = 0;
  for (struct route *r = self->routes; r; r = r->next) {
    size_t n = strlen(r->prefix);
    if (strncmp(path, r->prefix, n) != 0 || n < best_len) continue;
    if (r->method && strcasecmp(r->method, method) != 0) continue;
    best = r;
    best_len = n;
  }
  if (!best) return -1;
  struct dray_http_exchange ex = {.method = method, .path = path,
                                  .query = query, .headers = headers,
                                  .body = body, .body_len = body_len};
  dray__buf_init(&ex.response);
  dray__buf_init(&ex.response_headers);
  int refused = best->auth ? best->auth(self->state, &ex) : 0;
  if (refused) {
    if (!ex.status) mh_http_respond(&ex, refused, "text/plain", "refused\n", 8);
  } else {
    dray_status st = best->handler(self->state, &ex);
    if (!ex.status) {
      if (st == DRAY_RETRY) {
        mh_http_add_header(&ex, "Retry-After", "1");
        mh_http_respond(&ex, 503, "text/plain", "busy\n", 5);
      } else if (st == DRAY_REJECT) {
        mh_http_respond(&ex, 400, "text/plain", "rejected\n", 9);
      } else {
        mh_http_respond(&ex, 500, "text/plain", "no answer\n", 10);
      }
    }
  }
  dray__buf_release(&self->last_body);
  dray__buf_release(&self->last_headers);
  self->last_body = ex.response;
  self->last_headers = ex.response_headers;
  *status = ex.status;
  if (body_out) *body_out = dray__buf_data(&self->last_body, body_len_out);
  return 0;
}

const char *dray_mock_host_http_response_header(dray_mock_host *self,
                                                const char *name) {
  static __thread char value[1024];
  const char *h = dray__buf_data(&self->last_headers, NULL);
  size_t n = strlen(name);
  while (h && *h) {
    const char *eol = strchr(h, '\n');
    if (!eol) break;
    if (strncasecmp(h, name, n) == 0 && h[n] == ':') {
      const char *v = h + n + 1;
      while (*v == ' ') v++;
      snprintf(value, sizeof value, "%.*s", (int)(eol - v), v);
      return value;
    }
    h = eol + 1;
  }
  return NULL;
}

dray_batch *dray_mock_batch_new(void) {
  dray_batch *b = malloc(sizeof *b);
  if (b) dray__batch_init(b);
  return b;
}

size_t dray_mock_batch_count(const dray_batch *batch) { return batch->count; }

const dray_msg *dray_mock_batch_get(const dray_batch *batch, size_t index) {
  return index < batch->count ? batch->msgs[index] : NULL;
}

void dray_mock_batch_destroy(dray_batch **batch_p) {
  if (!batch_p || !*batch_p) return;
  dray__batch_release(*batch_p);
  free(*batch_p);
  *batch_p = NULL;
}

dray_buf *dray_mock_buf_new(void) {
  dray_buf *b = malloc(sizeof *b);
  if (b) dray__buf_init(b);
  return b;
}

const char *dray_mock_buf_data(const dray_buf *buf, size_t *len) {
  return dray__buf_data(buf, len);
}

void dray_mock_buf_reset(dray_buf *buf) { dray__buf_release(buf); }

void dray_mock_buf_destroy(dray_buf **buf_p) {
  if (!buf_p || !*buf_p) return;
  dray__buf_release(*buf_p);
  free(*buf_p);
  *buf_p = NULL;
}
