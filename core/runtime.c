/* runtime.c - `dray run` (see runtime.h).
 *
 * Threads: the main thread waits for signals; each polled source has a
 * poll thread; each destination lane has a worker; plugins may run their
 * own threads and call emit. Messages cross threads only through the
 * lanes' ZeroMQ sockets. */
#include "runtime.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <time.h>
#include <zmq.h>

#include "dedupe.h"
#include "fsutil.h"
#include "http_listener.h"
#include "instance.h"
#include "log.h"
#include "metrics.h"
#include "msg_internal.h"
#include "pipeline.h"
#include "state_store.h"
#include "status.h"

/* Routes compiled against the running instances: for each source
 * instance, its rules. Replaced whole on SIGHUP. */
struct rule {
  char **types; /* NULL-terminated globs */
  size_t *dests;
  size_t dest_count;
};

struct route_table {
  struct rule **rules; /* per source instance index */
  size_t *rule_count;
  size_t instance_count;
};

struct dray__runtime {
  struct dray__site *site;
  struct dray__site **old_sites; /* kept alive: instances borrow config */
  size_t old_site_count;
  struct dray__registry registry;
  void *zctx;
  struct dray_instance **instances;
  size_t instance_count;
  struct dray__http *http;
  struct dray__state *store;
  struct dray__dedupe *dedupe;
  pthread_rwlock_t route_lock;
  struct route_table *routes;
  atomic_int stopping;
};

struct dray__http *dray__runtime_http(struct dray__runtime *rt) {
  return rt->http;
}

size_t dray__runtime_instance_count(struct dray__runtime *rt) {
  return rt->instance_count;
}

struct dray_instance *dray__runtime_instance(struct dray__runtime *rt, size_t i) {
  return i < rt->instance_count ? rt->instances[i] : NULL;
}

const char *dray__runtime_site(struct dray__runtime *rt) { return rt->site->site; }

int dray__runtime_stopping(struct dray__runtime *rt) {
  return atomic_load(&rt->stopping);
}

/* --- route tables ----------------------------------------------------------- */

static void route_table_free(struct route_table *t) {
  if (!t) return;
  for (size_t i = 0; i < t->instance_count; i++) {
    for (size_t r = 0; r < t->rule_count[i]; r++) {
      for (char **g = t->rules[i][r].types; g && *g; g++) free(*g);
      free(t->rules[i][r].types);
      free(t->rules[i][r].dests);
    }
    free(t->rules[i]);
  }
  free(t->rules);
  free(t->rule_count);
  free(t);
}

static long find_instance(struct dray__runtime *rt, const char *name) {
  for (size_t i = 0; i < rt->instance_count; i++)
    if (strcmp(rt->instances[i]->name, name) == 0) return (long)i;
  return -1;
}

/* Routes naming instances that do not run (after a reload that added
 * some) are skipped with a warning: new instances need a restart. */
static struct route_table *route_table_build(struct dray__runtime *rt,
                                             const struct dray__site *site) {
  struct route_table *t = calloc(1, sizeof *t);
  if (!t) return NULL;
  t->instance_count = rt->instance_count;
  t->rules = calloc(rt->instance_count, sizeof *t->rules);
  t->rule_count = calloc(rt->instance_count, sizeof *t->rule_count);
  if (!t->rules || !t->rule_count) goto fail;
  for (size_t r = 0; r < site->route_count; r++) {
    const struct dray__route *route = &site->routes[r];
    for (size_t f = 0; route->from && route->from[f]; f++) {
      long src = find_instance(rt, route->from[f]);
      if (src < 0) {
        dray__warn("route at line %d: instance %s is not running (restart to add instances)",
                   route->line, route->from[f]);
        continue;
      }
      struct rule *v = realloc(t->rules[src], (t->rule_count[src] + 1) * sizeof *v);
      if (!v) goto fail;
      t->rules[src] = v;
      struct rule *rule = &v[t->rule_count[src]++];
      memset(rule, 0, sizeof *rule);
      size_t nt = 0, nd = 0;
      while (route->types[nt]) nt++;
      while (route->to[nd]) nd++;
      rule->types = calloc(nt + 1, sizeof *rule->types);
      rule->dests = calloc(nd ? nd : 1, sizeof *rule->dests);
      if (!rule->types || !rule->dests) goto fail;
      for (size_t i = 0; i < nt; i++) rule->types[i] = strdup(route->types[i]);
      for (size_t i = 0; i < nd; i++) {
        long d = find_instance(rt, route->to[i]);
        if (d < 0 || !rt->instances[d]->pipeline) {
          dray__warn("route at line %d: destination %s is not running",
                     route->line, route->to[i]);
          continue;
        }
        rule->dests[rule->dest_count++] = (size_t)d;
      }
    }
  }
  return t;
fail:
  route_table_free(t);
  return NULL;
}

/* --- accepting messages ------------------------------------------------------ */

dray_status dray__runtime_accept(struct dray__runtime *rt,
                                 struct dray_instance *from,
                                 dray_msg **msg_p) {
  dray_msg *msg = *msg_p;
  char why[512];
  const struct dray_host *host = dray__host_table();
  if (dray__msg_check_envelope(msg, why, sizeof why) != 0) {
    host->set_error(from, "emit: invalid envelope: %s", why);
    dray__metric_add(from->name, "emit_rejected", 1);
    return DRAY_REJECT;
  }
  /* The same CloudEvent again (source + id) within the window: accepted
   * once. */
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  int64_t now_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
  if (dray__dedupe_contains(rt->dedupe, dray__msg_header(msg, "source"),
                            dray__msg_header(msg, "id"), now_ms)) {
    dray__metric_add(from->name, "duplicates", 1);
    dray__log(DRAY_LOG_DEBUG, from->name, "duplicate event %s from %s accepted once",
              dray__msg_header(msg, "id"), dray__msg_header(msg, "source"));
    dray__msg_free(msg_p);
    return DRAY_OK;
  }
  /* The idempotency key follows the message through every retry, restart
   * and replay. Plugins set it from business identity (sender, document
   * type, document number, version); otherwise the event's own identity. */
  if (!dray__msg_header(msg, "idempotencykey")) {
    char key[512];
    snprintf(key, sizeof key, "%s/%s", dray__msg_header(msg, "source"),
             dray__msg_header(msg, "id"));
    dray__msg_set_header(msg, "idempotencykey", key);
  }
  const char *type = dray__msg_header(msg, "type");
  size_t dests[64];
  unsigned lanes[64];
  size_t count = 0;

  pthread_rwlock_rdlock(&rt->route_lock);
  struct route_table *t = rt->routes;
  for (size_t r = 0; t && from->index < t->instance_count &&
                     r < t->rule_count[from->index];
       r++) {
    const struct rule *rule = &t->rules[from->index][r];
    int match = 0;
    for (char **g = rule->types; *g && !match; g++)
      match = dray__glob_match(*g, type);
    if (!match) continue;
    for (size_t d = 0; d < rule->dest_count; d++) {
      int seen = 0;
      for (size_t k = 0; k < count && !seen; k++) seen = dests[k] == rule->dests[d];
      if (!seen && count < 64) dests[count++] = rule->dests[d];
    }
  }
  if (count == 0) {
    pthread_rwlock_unlock(&rt->route_lock);
    dray__metric_add(from->name, "unrouted", 1);
    dray__log(DRAY_LOG_WARN, from->name,
              "message %s of type %s matches no route; not forwarded",
              dray__msg_header(msg, "id"), type);
    dray__msg_free(msg_p);
    return DRAY_OK;
  }
  /* Admission to every destination, or to none. */
  for (size_t k = 0; k < count; k++) {
    struct dray__pipeline *pl = rt->instances[dests[k]]->pipeline;
    lanes[k] = dray__pipeline_lane_for(pl, msg);
    if (dray__pipeline_reserve(pl, lanes[k]) != 0) {
      for (size_t j = 0; j < k; j++)
        dray__pipeline_unreserve(rt->instances[dests[j]]->pipeline, lanes[j]);
      pthread_rwlock_unlock(&rt->route_lock);
      host->set_error(from, "destination %s is full (backpressure)",
                      rt->instances[dests[k]]->name);
      dray__metric_add(from->name, "backpressure", 1);
      return DRAY_RETRY;
    }
  }
  for (size_t k = 0; k < count; k++)
    dray__pipeline_push(rt->instances[dests[k]]->pipeline, lanes[k],
                        dray__msg_ref(msg));
  pthread_rwlock_unlock(&rt->route_lock);
  dray__dedupe_add(rt->dedupe, dray__msg_header(msg, "source"),
                   dray__msg_header(msg, "id"), now_ms);
  dray__metric_add(from->name, "emitted", 1);
  dray__msg_free(msg_p); /* the emitter's reference */
  return DRAY_OK;
}

/* --- polled sources ----------------------------------------------------------- */

static void sleep_ms(unsigned ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
  nanosleep(&ts, NULL);
}

static void *poll_main(void *arg) {
  struct dray_instance *inst = arg;
  while (!atomic_load(&inst->stop_requested)) {
    int worked = 0;
    pthread_mutex_lock(&inst->call_lock);
    dray__callback_begin();
    dray_status st = inst->desc->poll(inst->state, &worked);
    pthread_mutex_unlock(&inst->call_lock);
    if (st == DRAY_FATAL) {
      atomic_store(&inst->failed, 1);
      dray__log(DRAY_LOG_ERROR, inst->name, "poll failed (FATAL): %s; source stopped",
                *dray__callback_error() ? dray__callback_error() : "(no reason)");
      break;
    }
    if (st != DRAY_OK && *dray__callback_error())
      dray__log(DRAY_LOG_WARN, inst->name, "poll: %s", dray__callback_error());
    if (!worked || st != DRAY_OK) {
      for (unsigned waited = 0; waited < inst->poll_interval_ms &&
                                !atomic_load(&inst->stop_requested);
           waited += 20)
        sleep_ms(20);
    }
  }
  return NULL;
}

/* --- start and stop ------------------------------------------------------------ */

static int runtime_open(struct dray__runtime *rt, char *err, size_t err_size) {
  struct dray__site *s = rt->site;
  char path[4096];
  if (dray__mkdirs(s->data_dir) != 0) {
    snprintf(err, err_size, "data_dir %s: %s", s->data_dir, strerror(errno));
    return -1;
  }
  snprintf(path, sizeof path, "%s/state.db", s->data_dir);
  rt->store = dray__state_open(path, err, err_size);
  if (!rt->store) return -1;
  if (s->http_listen) {
    struct dray__http_options opt = {
        .listen = s->http_listen, .tls_cert_file = s->http_tls_cert,
        .tls_key_file = s->http_tls_key, .max_body_bytes = s->http_max_body};
    rt->http = dray__http_new(&opt, err, err_size);
    if (!rt->http) return -1;
  }
  rt->dedupe = dray__dedupe_new(s->dedupe_window_ms, s->dedupe_capacity);
  if (!rt->dedupe) {
    snprintf(err, err_size, "out of memory (dedupe_capacity %u)", s->dedupe_capacity);
    return -1;
  }
  rt->zctx = zmq_ctx_new();
  if (!rt->zctx) {
    snprintf(err, err_size, "zmq_ctx_new: %s", zmq_strerror(zmq_errno()));
    return -1;
  }
  rt->instances = calloc(s->instance_count ? s->instance_count : 1,
                         sizeof *rt->instances);
  if (!rt->instances) return -1;
  for (size_t i = 0; i < s->instance_count; i++) {
    const struct dray__instance_config *ic = &s->instances[i];
    snprintf(path, sizeof path, "%s/instances/%s", s->data_dir, ic->name);
    struct dray_instance *inst = dray__instance_new(
        s->site, ic->name, ic->plugin->desc, &ic->values, path);
    if (!inst) return -1;
    inst->rt = rt;
    inst->index = i;
    inst->state_store = rt->store;
    inst->poll_interval_ms = ic->poll_interval_ms;
    inst->financial = strcmp(ic->effects, "financial") == 0;
    rt->instances[rt->instance_count++] = inst;
    /* Every destination-capable instance gets its lanes, so a reload can
     * route to it without a restart. */
    if (ic->plugin->desc->kinds & DRAY_KIND_DESTINATION) {
      inst->pipeline = dray__pipeline_new(rt->zctx, inst, ic->workers,
                                          ic->queue_capacity, &ic->retry,
                                          &ic->breaker, err, err_size);
      if (!inst->pipeline) return -1;
    }
    if (dray__instance_create(inst, err, err_size) != 0) return -1;
  }
  rt->routes = route_table_build(rt, s);
  if (!rt->routes) {
    snprintf(err, err_size, "out of memory building routes");
    return -1;
  }
  /* Destinations first, so nothing emitted finds a lane without a worker;
   * then every instance's start; then the listener; then the pollers. */
  for (size_t i = 0; i < rt->instance_count; i++)
    if (rt->instances[i]->pipeline &&
        dray__pipeline_start(rt->instances[i]->pipeline) != 0) {
      snprintf(err, err_size, "cannot start workers for %s", rt->instances[i]->name);
      return -1;
    }
  for (size_t i = 0; i < rt->instance_count; i++)
    if (dray__instance_start(rt->instances[i], err, err_size) != 0) return -1;
  if (rt->http && dray__http_start(rt->http, err, err_size) != 0) return -1;
  for (size_t i = 0; i < rt->instance_count; i++) {
    struct dray_instance *inst = rt->instances[i];
    if (!inst->desc->poll || !(inst->desc->kinds & DRAY_KIND_SOURCE)) continue;
    if (pthread_create(&inst->poll_thread, NULL, poll_main, inst) != 0) {
      snprintf(err, err_size, "cannot start the poll thread of %s", inst->name);
      return -1;
    }
    inst->poll_thread_running = 1;
  }
  return 0;
}

static int64_t mono_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* Drains within the deadline: sources stop first (their emits get
 * backpressure), then in-flight messages finish, then everything stops.
 * Returns the number of messages left undelivered. */
static size_t runtime_close(struct dray__runtime *rt) {
  atomic_store(&rt->stopping, 1);
  for (size_t i = 0; i < rt->instance_count; i++) {
    struct dray_instance *inst = rt->instances[i];
    atomic_store(&inst->emit_open, 0);
    if (inst->desc->kinds & DRAY_KIND_SOURCE)
      atomic_store(&inst->stop_requested, 1);
  }
  for (size_t i = 0; i < rt->instance_count; i++) {
    struct dray_instance *inst = rt->instances[i];
    if (inst->poll_thread_running) pthread_join(inst->poll_thread, NULL);
    inst->poll_thread_running = 0;
  }
  if (rt->http) dray__http_destroy(&rt->http);
  /* Pure sources stop now; instances that also receive stop after the
   * drain, since process() is valid only before stop(). */
  for (size_t i = 0; i < rt->instance_count; i++)
    if (!rt->instances[i]->pipeline) dray__instance_stop(rt->instances[i]);

  int64_t deadline = mono_ms() + (rt->site ? rt->site->shutdown_timeout_ms : 10000);
  size_t pending;
  do {
    pending = 0;
    for (size_t i = 0; i < rt->instance_count; i++)
      if (rt->instances[i]->pipeline)
        pending += dray__pipeline_inflight(rt->instances[i]->pipeline);
    if (pending) sleep_ms(10);
  } while (pending && mono_ms() < deadline);
  if (pending)
    dray__error("shutdown deadline reached with %zu messages in flight", pending);
  for (size_t i = 0; i < rt->instance_count; i++)
    if (rt->instances[i]->pipeline) dray__pipeline_stop(rt->instances[i]->pipeline);
  for (size_t i = 0; i < rt->instance_count; i++) {
    struct dray_instance *inst = rt->instances[i];
    dray__instance_stop(inst);
    struct dray__pipeline *pl = inst->pipeline;
    dray__instance_destroy(&rt->instances[i]);
    dray__pipeline_destroy(&pl);
  }
  free(rt->instances);
  rt->instances = NULL;
  rt->instance_count = 0;
  route_table_free(rt->routes);
  rt->routes = NULL;
  if (rt->zctx) zmq_ctx_term(rt->zctx);
  dray__state_close(&rt->store);
  dray__dedupe_destroy(&rt->dedupe);
  return pending;
}

/* --- reload ---------------------------------------------------------------------- */

static void runtime_reload(struct dray__runtime *rt, const char *path) {
  struct dray__diag diag = {0};
  struct dray__registry reg;
  dray__registry_init(&reg);
  struct dray__site *next = dray__site_load(path, &reg, &diag);
  if (!next) {
    dray__error("reload of %s refused; the running routes stay:", path);
    for (size_t i = 0; i < diag.count; i++) dray__error("  %s", diag.lines[i]);
    dray__diag_release(&diag);
    dray__registry_release(&reg);
    return;
  }
  struct route_table *t = route_table_build(rt, next);
  if (!t) {
    dray__error("reload: out of memory");
    dray__site_free(&next);
    dray__registry_release(&reg);
    return;
  }
  pthread_rwlock_wrlock(&rt->route_lock);
  struct route_table *old = rt->routes;
  rt->routes = t;
  pthread_rwlock_unlock(&rt->route_lock);
  route_table_free(old);
  /* Instances keep reading the config of the site they were created
   * from; changed instance settings need a restart. */
  struct dray__site **v = realloc(rt->old_sites, (rt->old_site_count + 1) * sizeof *v);
  if (v) {
    rt->old_sites = v;
    v[rt->old_site_count++] = next;
  } else {
    dray__site_free(&next);
  }
  dray__registry_release(&reg);
  dray__info("reloaded routes from %s (%zu routes)", path, next ? next->route_count : 0);
}

/* --- entry ------------------------------------------------------------------------ */

int dray__run(const char *config_path) {
  struct dray__runtime rt;
  struct dray__diag diag = {0};
  char err[1024] = "";
  int code = 0;
  memset(&rt, 0, sizeof rt);
  pthread_rwlock_init(&rt.route_lock, NULL);
  dray__registry_init(&rt.registry);

  rt.site = dray__site_load(config_path, &rt.registry, &diag);
  if (!rt.site) {
    for (size_t i = 0; i < diag.count; i++) fprintf(stderr, "%s\n", diag.lines[i]);
    dray__diag_release(&diag);
    dray__registry_release(&rt.registry);
    return 2;
  }
  dray__log_set_level(getenv("DRAY_LOG") ? dray__log_parse_level(getenv("DRAY_LOG"))
                                         : rt.site->log_level);
  /* Signals are taken by this thread only: block them before any thread
   * starts so every thread inherits the mask. */
  sigset_t sigs;
  sigemptyset(&sigs);
  sigaddset(&sigs, SIGTERM);
  sigaddset(&sigs, SIGINT);
  sigaddset(&sigs, SIGHUP);
  sigaddset(&sigs, SIGPIPE);
  pthread_sigmask(SIG_BLOCK, &sigs, NULL);

  if (runtime_open(&rt, err, sizeof err) != 0) {
    dray__error("cannot start site %s: %s", rt.site->site, err);
    code = 1;
    goto out;
  }
  dray__info("site %s running: %zu instances, %zu routes (pid %d)", rt.site->site,
             rt.instance_count, rt.site->route_count, (int)getpid());
  if (rt.http)
    dray__info("http listener on port %u", (unsigned)dray__http_port(rt.http));
  char status_path[4096];
  snprintf(status_path, sizeof status_path, "%s/status.json", rt.site->data_dir);
  for (;;) {
    struct timespec tick = {1, 0};
    dray__status_write(&rt, status_path);
    int sig = sigtimedwait(&sigs, NULL, &tick);
    if (sig == SIGHUP) {
      runtime_reload(&rt, config_path);
    } else if (sig == SIGTERM || sig == SIGINT) {
      dray__info("signal %d: draining (deadline %u ms)", sig, rt.site->shutdown_timeout_ms);
      break;
    }
  }
out:;
  size_t left = runtime_close(&rt);
  if (left) code = 1;
  dray__info("stopped%s", left ? " with undelivered messages" : "");
  if (dray__log_level() >= DRAY_LOG_INFO) dray__metrics_dump(stderr);
  for (size_t i = 0; i < rt.old_site_count; i++) dray__site_free(&rt.old_sites[i]);
  free(rt.old_sites);
  dray__site_free(&rt.site);
  dray__registry_release(&rt.registry);
  pthread_rwlock_destroy(&rt.route_lock);
  return code;
}
