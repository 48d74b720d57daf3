/* pipeline.c - per-destination lanes and their workers (see pipeline.h).
 *
 * What crosses the inproc socket is a pointer to a delivery: the message's
 * attributes already sit beside its body, so nothing is parsed or copied
 * on the way (an ipc transport will serialize). */
#include "pipeline.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <zmq.h>

#include "fault.h"
#include "instance.h"
#include "ledger.h"
#include "log.h"
#include "metrics.h"
#include "msg_internal.h"
#include "state_store.h"

struct lane {
  struct dray__pipeline *pl;
  unsigned index;
  void *push; /* used by accepting threads under push_lock */
  pthread_mutex_t push_lock;
  void *pull; /* owned by the worker thread once it runs */
  pthread_t worker;
  int worker_running;
  atomic_size_t inflight;
  char endpoint[128];
};

struct dray__pipeline {
  struct dray_instance *dest;
  struct lane *lanes;
  unsigned lane_count;
  unsigned capacity;
  struct dray__retry_policy retry;
  struct dray__breaker breaker;
  struct dray__pipeline_hooks hooks;
  atomic_int quit;
  atomic_size_t lost; /* memory-class messages left at shutdown */
};

/* --- deliveries ------------------------------------------------------------ */

void dray__delivery_done(struct dray__delivery *d) {
  if (atomic_fetch_sub(&d->remaining, 1) != 1) return;
  if (d->finished && !atomic_load(&d->abandoned)) d->finished(d, d->ctx);
  dray__msg_free_later(&d->msg); /* freed by an accepting thread (msg_internal.h) */
  free(d);
}

/* A destination that stopped before finishing: the delivery is freed with
 * the others, but its journal record must stay (replayed next start). */
void dray__delivery_done_abandoned(struct dray__delivery *d) {
  atomic_store(&d->abandoned, 1);
  dray__delivery_done(d);
}

static void delivery_leave(struct dray__delivery *d) { dray__delivery_done_abandoned(d); }

/* --- lanes ------------------------------------------------------------------ */

struct dray__breaker *dray__pipeline_breaker(struct dray__pipeline *pl) {
  return &pl->breaker;
}

static uint64_t fnv1a(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

unsigned dray__pipeline_lane_for(const struct dray__pipeline *pl, const dray_msg *msg) {
  if (pl->lane_count == 1) return 0;
  const char *key = dray__msg_header(msg, "partitionkey");
  if (!key) key = dray__msg_header(msg, "id");
  return (unsigned)(fnv1a(key ? key : "") % pl->lane_count);
}

int dray__pipeline_reserve(struct dray__pipeline *pl, unsigned lane) {
  atomic_size_t *n = &pl->lanes[lane].inflight;
  size_t cur = atomic_load(n);
  do {
    if (cur >= pl->capacity) return -1;
  } while (!atomic_compare_exchange_weak(n, &cur, cur + 1));
  return 0;
}

void dray__pipeline_reserve_force(struct dray__pipeline *pl, unsigned lane) {
  atomic_fetch_add(&pl->lanes[lane].inflight, 1);
}

void dray__pipeline_unreserve(struct dray__pipeline *pl, unsigned lane) {
  atomic_fetch_sub(&pl->lanes[lane].inflight, 1);
}

/* One ZeroMQ message carries up to DRAY__LANE_BUNDLE delivery pointers:
 * a batch wakes the worker once, not once per message. */
void dray__pipeline_push_many(struct dray__pipeline *pl, unsigned lane,
                              struct dray__delivery *const *ds, size_t n) {
  struct lane *l = &pl->lanes[lane];
  while (n) {
    size_t k = n < DRAY__LANE_BUNDLE ? n : DRAY__LANE_BUNDLE;
    pthread_mutex_lock(&l->push_lock);
    int rc;
    do {
      rc = zmq_send(l->push, ds, k * sizeof *ds, 0);
    } while (rc < 0 && zmq_errno() == EINTR);
    pthread_mutex_unlock(&l->push_lock);
    if (rc < 0) {
      /* Only a terminated context fails here, at shutdown. */
      for (size_t i = 0; i < k; i++) {
        dray__log(DRAY_LOG_ERROR, pl->dest->name, "pipeline send failed (%s) for message %s",
                  zmq_strerror(zmq_errno()), dray__msg_header(ds[i]->msg, "id"));
        atomic_fetch_sub(&l->inflight, 1);
        delivery_leave(ds[i]);
      }
    }
    ds += k;
    n -= k;
  }
}

void dray__pipeline_push(struct dray__pipeline *pl, unsigned lane, struct dray__delivery *d) {
  dray__pipeline_push_many(pl, lane, &d, 1);
}

size_t dray__pipeline_inflight(const struct dray__pipeline *pl) {
  size_t n = 0;
  for (unsigned i = 0; i < pl->lane_count; i++) n += atomic_load(&pl->lanes[i].inflight);
  return n;
}

/* --- time ------------------------------------------------------------------- */

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int64_t wall_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_REALTIME, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static uint64_t random64(void) {
  uint64_t r = 0;
  if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r) r = (uint64_t)now_ms() * 2654435761u;
  return r;
}

/* Sleeps up to ms, waking early when the pipeline quits. Nonzero if it
 * quit. */
static int wait_or_quit(struct dray__pipeline *pl, int64_t ms) {
  int64_t until = now_ms() + ms;
  while (!atomic_load(&pl->quit)) {
    int64_t left = until - now_ms();
    if (left <= 0) return 0;
    struct timespec ts = {0, (left > 50 ? 50 : left) * 1000000};
    nanosleep(&ts, NULL);
  }
  return 1;
}

/* A message this destination could not finish before the process stops. */
static void leave_at_shutdown(struct dray__pipeline *pl, struct dray__delivery *d,
                              const char *why) {
  if (d->seq) {
    dray__log(DRAY_LOG_INFO, pl->dest->name,
              "message %s stays in the journal (%s); delivered after the next start",
              dray__msg_header(d->msg, "id"), why);
  } else {
    dray__log(DRAY_LOG_ERROR, pl->dest->name,
              "message %s (type %s) not delivered: %s (memory delivery class)",
              dray__msg_header(d->msg, "id"), dray__msg_header(d->msg, "type"), why);
    dray__metric_add(pl->dest->name, "lost_memory_class", 1);
    atomic_fetch_add(&pl->lost, 1);
  }
  delivery_leave(d);
}

/* --- retry state that survives a restart ------------------------------------- */

struct attempt_state {
  unsigned attempt;      /* failed attempts so far */
  int64_t first_failure; /* realtime ns of the first failure, 0 = none */
  int stored;            /* a row exists in the state store */
};

static void retry_key(const struct dray__delivery *d, char *key, size_t size) {
  /* backlog spools number their records on their own */
  snprintf(key, size, d->backlog ? "retry/backlog/%llu" : "retry/%llu",
           (unsigned long long)d->seq);
}

static void attempt_load(struct dray__pipeline *pl, const struct dray__delivery *d,
                         struct attempt_state *a) {
  memset(a, 0, sizeof *a);
  if (!d->seq || !d->replayed || !pl->dest->state_store) return;
  char key[64], *value = NULL;
  retry_key(d, key, sizeof key);
  if (dray__state_get(pl->dest->state_store, pl->dest->name, key, &value, NULL) == 0) {
    long long first = 0;
    if (sscanf(value, "%u %lld", &a->attempt, &first) == 2) {
      a->first_failure = first;
      a->stored = 1;
    }
    free(value);
  }
}

static void attempt_save(struct dray__pipeline *pl, const struct dray__delivery *d,
                         struct attempt_state *a) {
  if (!d->seq || !pl->dest->state_store) return;
  char key[64], value[64];
  retry_key(d, key, sizeof key);
  int n = snprintf(value, sizeof value, "%u %lld", a->attempt, (long long)a->first_failure);
  if (dray__state_put(pl->dest->state_store, pl->dest->name, key, value, (size_t)n) == 0)
    a->stored = 1;
}

static void attempt_clear(struct dray__pipeline *pl, const struct dray__delivery *d,
                          struct attempt_state *a) {
  if (!a->stored) return;
  char key[64];
  retry_key(d, key, sizeof key);
  dray__state_delete(pl->dest->state_store, pl->dest->name, key);
  a->stored = 0;
}

/* --- results ------------------------------------------------------------------ */

/* Stores a dead letter; returns nonzero once it is durable. */
static int dead_letter(struct dray__pipeline *pl, const dray_msg *msg, const char *error_class,
                       const char *why, const struct attempt_state *a) {
  struct dray_instance *dest = pl->dest;
  struct dray__dlq_context c = {
      .instance = dest->name, .plugin = dest->desc->name,
      .plugin_version = dest->desc->version ? dest->desc->version : "",
      .stage = "process", .error_class = error_class,
      .error = why && *why ? why : "(no reason given)", .attempts = a->attempt,
      .first_failure_ns = a->first_failure ? a->first_failure : wall_ns(),
      .last_failure_ns = wall_ns()};
  if (pl->hooks.dead_letter && pl->hooks.dead_letter(pl->hooks.ctx, dest, msg, &c) != 0)
    return 0;
  dray__metric_add(dest->name, "dead_lettered", 1);
  dray__log(DRAY_LOG_ERROR, dest->name,
            "dead letter: message %s (type %s, source %s, plugin %s %s) %s after %u "
            "attempt%s: %s",
            dray__msg_header(msg, "id"), dray__msg_header(msg, "type"),
            dray__msg_header(msg, "source"), c.plugin, c.plugin_version, error_class,
            a->attempt, a->attempt == 1 ? "" : "s", c.error);
  return 1;
}

static void breaker_note(struct dray__pipeline *pl, int changed) {
  if (changed < 0) return;
  const char *name = dray__breaker_state_name((enum dray__breaker_state)changed);
  dray__log(changed == DRAY_BREAKER_OPEN ? DRAY_LOG_WARN : DRAY_LOG_INFO, pl->dest->name,
            "circuit breaker %s", name);
  dray__metric_add(pl->dest->name,
                   changed == DRAY_BREAKER_OPEN ? "breaker_opened" : "breaker_closed", 1);
  dray__metric_set(pl->dest->name, "breaker_state", changed);
}

enum verdict { FINISHED, AGAIN, HOLD };

/* The one place where a destination's result is handled. */
static enum verdict handle_result(struct dray__pipeline *pl, const dray_msg *msg, dray_status st,
                                  struct attempt_state *a, int64_t *delay_ms) {
  struct dray_instance *dest = pl->dest;
  const char *why = dray__callback_error();
  int64_t hint = dray__callback_retry_after();
  enum dray__outcome outcome = DRAY_OUTCOME_FAILURE;
  if (st == DRAY_OK) outcome = DRAY_OUTCOME_SUCCESS;
  else if (st == DRAY_REJECT) outcome = DRAY_OUTCOME_NEUTRAL;
  else if (st == DRAY_RETRY && hint >= 0) outcome = DRAY_OUTCOME_NEUTRAL; /* throttled */
  breaker_note(pl, dray__breaker_record(&pl->breaker, now_ms(), outcome));
  if (st != DRAY_OK) {
    a->attempt++;
    if (!a->first_failure) a->first_failure = wall_ns();
  }
  switch (st) {
    case DRAY_OK:
      dray__metric_inc(dest->m_delivered, 1);
      return FINISHED;
    case DRAY_REJECT:
      dray__metric_add(dest->name, "rejected", 1);
      if (dead_letter(pl, msg, "rejected", why, a)) return FINISHED;
      *delay_ms = 1000;
      return AGAIN; /* the dead letter could not be stored yet */
    case DRAY_FATAL:
      if (!atomic_exchange(&dest->failed, 1))
        dray__log(DRAY_LOG_ERROR, dest->name,
                  "instance failed (FATAL on message %s): %s; no more calls, its queue is "
                  "held until restart",
                  dray__msg_header(msg, "id"), *why ? why : "(no reason)");
      dray__metric_add(dest->name, "fatal", 1);
      return HOLD;
    default:
      if (st != DRAY_RETRY)
        dray__log(DRAY_LOG_WARN, dest->name, "unknown status %d treated as RETRY", (int)st);
      dray__metric_add(dest->name, "retries", 1);
      *delay_ms = dray__retry_next_ms(&pl->retry, a->attempt - 1, a->first_failure / 1000000,
                                      wall_ns() / 1000000, hint, random64());
      if (*delay_ms < 0) {
        if (dead_letter(pl, msg, "max_age_exceeded", why, a)) return FINISHED;
        *delay_ms = 1000;
        return AGAIN;
      }
      dray__log(DRAY_LOG_WARN, dest->name, "message %s: attempt %u failed (%s), retry in %lld ms",
                dray__msg_header(msg, "id"), a->attempt, *why ? why : "transient",
                (long long)*delay_ms);
      return AGAIN;
  }
}

/* --- financial effects: the idempotency ledger ------------------------------- */

static const char *effect_key(const dray_msg *msg) {
  const char *key = dray__msg_header(msg, "idempotencykey");
  return key ? key : dray__msg_header(msg, "id");
}

/* Before a call to a destination with financial effects: FINISHED when no
 * call is needed (committed already, or parked), AGAIN to wait *delay_ms
 * and ask again, HOLD... never; otherwise -1 to go ahead with the call. */
static int effect_before(struct dray__pipeline *pl, const dray_msg *msg,
                         struct attempt_state *a, int64_t *delay_ms) {
  struct dray_instance *dest = pl->dest;
  const char *key = effect_key(msg);
  enum dray__ledger_state state;
  char ref[256];
  if (dray__ledger_get(dest->state_store, dest->name, key, &state, ref, sizeof ref) != 0) {
    dray__log(DRAY_LOG_ERROR, dest->name, "ledger read failed: %s",
              dray__state_errmsg(dest->state_store));
    *delay_ms = dray__retry_backoff_ms(&pl->retry, a->attempt, random64());
    return AGAIN;
  }
  if (state == DRAY_LEDGER_COMMITTED) {
    dray__metric_add(dest->name, "effects_already_committed", 1);
    dray__log(DRAY_LOG_INFO, dest->name,
              "message %s: idempotency key %s already committed (reference %s): no-op",
              dray__msg_header(msg, "id"), key, *ref ? ref : "-");
    return FINISHED;
  }
  if (state != DRAY_LEDGER_IN_DOUBT) return -1;
  /* Outcome unknown: never call again blind. */
  if (!DRAY_PLUGIN_HAS(dest->desc, lookup)) {
    if (dead_letter(pl, msg, "in_doubt",
                    "outcome of an earlier attempt is unknown and the plugin has no lookup; "
                    "parked for an operator",
                    a))
      return FINISHED;
    *delay_ms = 1000;
    return AGAIN;
  }
  dray_buf found;
  dray__buf_init(&found);
  pthread_mutex_lock(&dest->process_lock);
  dray__callback_begin();
  dray_status st = dest->desc->lookup(dest->state, msg, &found);
  pthread_mutex_unlock(&dest->process_lock);
  int rc;
  if (st == DRAY_OK) {
    dray__ledger_set(dest->state_store, dest->name, key, DRAY_LEDGER_COMMITTED,
                     dray__buf_data(&found, NULL));
    dray__log(DRAY_LOG_INFO, dest->name, "reconciled in-doubt key %s: effect exists (%s)", key,
              dray__buf_data(&found, NULL));
    dray__metric_add(dest->name, "in_doubt_reconciled", 1);
    rc = FINISHED;
  } else if (st == DRAY_REJECT) {
    dray__ledger_set(dest->state_store, dest->name, key, DRAY_LEDGER_PENDING, NULL);
    dray__log(DRAY_LOG_INFO, dest->name, "reconciled in-doubt key %s: no effect, sending", key);
    dray__metric_add(dest->name, "in_doubt_reconciled", 1);
    rc = -1;
  } else {
    *delay_ms = dray__retry_backoff_ms(&pl->retry, a->attempt, random64());
    rc = AGAIN;
  }
  dray__buf_release(&found);
  return rc;
}

/* After a call: moves the ledger row on. */
static void effect_after(struct dray__pipeline *pl, const dray_msg *msg, dray_status st) {
  struct dray_instance *dest = pl->dest;
  const char *key = effect_key(msg);
  enum dray__ledger_state next;
  const char *ref = NULL;
  if (st == DRAY_OK) {
    next = DRAY_LEDGER_COMMITTED;
    ref = dray__callback_reference();
  } else if (st == DRAY_REJECT || (st == DRAY_RETRY && !dray__callback_in_doubt())) {
    next = DRAY_LEDGER_PENDING; /* known not to have happened */
  } else {
    next = DRAY_LEDGER_IN_DOUBT;
    dray__metric_add(dest->name, "effects_in_doubt", 1);
  }
  if (dray__ledger_set(dest->state_store, dest->name, key, next, ref) != 0)
    dray__log(DRAY_LOG_ERROR, dest->name, "ledger write failed for key %s: %s", key,
              dray__state_errmsg(dest->state_store));
}

/* --- one message ------------------------------------------------------------- */

/* One call to the plugin (with the ledger around it for financial
 * destinations). */
static enum verdict attempt_once(struct dray__pipeline *pl, const dray_msg *msg,
                                 struct attempt_state *a, int64_t *delay_ms) {
  struct dray_instance *dest = pl->dest;
  int financial = dest->financial && dest->state_store;
  if (financial) {
    int pre = effect_before(pl, msg, a, delay_ms);
    if (pre >= 0) return (enum verdict)pre;
    if (dray__ledger_set(dest->state_store, dest->name, effect_key(msg),
                         DRAY_LEDGER_ATTEMPTING, NULL) != 0) {
      dray__log(DRAY_LOG_ERROR, dest->name, "ledger write failed: %s",
                dray__state_errmsg(dest->state_store));
      *delay_ms = dray__retry_backoff_ms(&pl->retry, a->attempt, random64());
      return AGAIN;
    }
  }
  if (financial) DRAY_FAULT_POINT("ledger.after_attempting");
  int serialize = !(dest->desc->flags & DRAY_PLUGIN_CONCURRENT);
  if (serialize) pthread_mutex_lock(&dest->process_lock);
  dray__callback_begin();
  dray_status st = dest->desc->process(dest->state, msg);
  if (serialize) pthread_mutex_unlock(&dest->process_lock);
  if (financial) {
    DRAY_FAULT_POINT("ledger.after_effect");
    effect_after(pl, msg, st);
  }
  return handle_result(pl, msg, st, a, delay_ms);
}

static void deliver(struct dray__pipeline *pl, struct dray__delivery *d) {
  struct dray_instance *dest = pl->dest;
  struct attempt_state a;
  attempt_load(pl, d, &a);
  for (;;) {
    int64_t wait = 0;
    while (!atomic_load(&dest->failed) && !dray__breaker_allow(&pl->breaker, now_ms(), &wait)) {
      if (wait_or_quit(pl, wait)) {
        leave_at_shutdown(pl, d, "shutdown while the circuit breaker was open");
        return;
      }
    }
    if (atomic_load(&dest->failed)) {
      wait_or_quit(pl, INT32_MAX);
      leave_at_shutdown(pl, d, "destination failed");
      return;
    }
    int64_t delay = 0;
    enum verdict v = attempt_once(pl, d->msg, &a, &delay);
    if (v == FINISHED) {
      attempt_clear(pl, d, &a);
      dray__delivery_done(d);
      return;
    }
    if (v == AGAIN && a.attempt) attempt_save(pl, d, &a);
    if (wait_or_quit(pl, v == HOLD ? INT32_MAX : delay)) {
      leave_at_shutdown(pl, d, "shutdown while waiting to retry");
      return;
    }
  }
}

static void *worker_main(void *arg) {
  struct lane *l = arg;
  struct dray__pipeline *pl = l->pl;
  zmq_pollitem_t item = {l->pull, 0, ZMQ_POLLIN, 0};
  for (;;) {
    int n = zmq_poll(&item, 1, 100);
    if (n < 0 && zmq_errno() != EINTR) break;
    if (n <= 0) {
      if (atomic_load(&pl->quit)) break;
      continue;
    }
    /* drain what is queued before polling again: one wake-up serves many */
    struct dray__delivery *ds[DRAY__LANE_BUNDLE];
    int got;
    while ((got = zmq_recv(l->pull, ds, sizeof ds, ZMQ_DONTWAIT)) > 0) {
      for (size_t i = 0; i < (size_t)got / sizeof *ds; i++) {
        if (atomic_load(&pl->quit)) leave_at_shutdown(pl, ds[i], "shutdown before delivery");
        else deliver(pl, ds[i]);
        atomic_fetch_sub(&l->inflight, 1);
      }
    }
  }
  return NULL;
}

/* --- life cycle ----------------------------------------------------------------- */

struct dray__pipeline *dray__pipeline_new(void *zctx, struct dray_instance *dest,
                                          unsigned lanes, unsigned capacity,
                                          const struct dray__retry_policy *retry,
                                          const struct dray__breaker_policy *breaker,
                                          const struct dray__pipeline_hooks *hooks,
                                          char *err, size_t err_size) {
  struct dray__pipeline *pl = calloc(1, sizeof *pl);
  if (!pl || !(pl->lanes = calloc(lanes, sizeof *pl->lanes))) {
    free(pl);
    snprintf(err, err_size, "out of memory");
    return NULL;
  }
  pl->dest = dest;
  pl->lane_count = lanes;
  pl->capacity = capacity;
  if (retry) pl->retry = *retry;
  else dray__retry_policy_default(&pl->retry);
  if (hooks) pl->hooks = *hooks;
  dray__breaker_init(&pl->breaker, breaker);
  for (unsigned i = 0; i < lanes; i++) {
    struct lane *l = &pl->lanes[i];
    l->pl = pl;
    l->index = i;
    pthread_mutex_init(&l->push_lock, NULL);
    snprintf(l->endpoint, sizeof l->endpoint, "inproc://dray.%s.%u.%p", dest->name, i,
             (void *)pl);
    /* The lane's capacity is its high-water mark; admission counts keep
     * it from being reached, so sends never block or drop. Replays at
     * start-up may exceed it: no HWM then (0 = none). */
    int hwm = 0;
    l->pull = zmq_socket(zctx, ZMQ_PULL);
    l->push = zmq_socket(zctx, ZMQ_PUSH);
    if (!l->pull || !l->push || zmq_setsockopt(l->pull, ZMQ_RCVHWM, &hwm, sizeof hwm) != 0 ||
        zmq_setsockopt(l->push, ZMQ_SNDHWM, &hwm, sizeof hwm) != 0 ||
        zmq_bind(l->pull, l->endpoint) != 0 || zmq_connect(l->push, l->endpoint) != 0) {
      snprintf(err, err_size, "instance %s: pipeline lane %u: %s", dest->name, i,
               zmq_strerror(zmq_errno()));
      pl->lane_count = i + 1;
      dray__pipeline_destroy(&pl);
      return NULL;
    }
  }
  return pl;
}

int dray__pipeline_start(struct dray__pipeline *pl) {
  for (unsigned i = 0; i < pl->lane_count; i++) {
    struct lane *l = &pl->lanes[i];
    if (pthread_create(&l->worker, NULL, worker_main, l) != 0) return -1;
    l->worker_running = 1;
  }
  return 0;
}

size_t dray__pipeline_stop(struct dray__pipeline *pl) {
  atomic_store(&pl->quit, 1);
  for (unsigned i = 0; i < pl->lane_count; i++) {
    struct lane *l = &pl->lanes[i];
    if (l->worker_running) pthread_join(l->worker, NULL);
    l->worker_running = 0;
    struct dray__delivery *ds[DRAY__LANE_BUNDLE];
    int got;
    while (l->pull && (got = zmq_recv(l->pull, ds, sizeof ds, ZMQ_DONTWAIT)) > 0) {
      for (size_t k = 0; k < (size_t)got / sizeof *ds; k++) {
        leave_at_shutdown(pl, ds[k], "shutdown before delivery");
        atomic_fetch_sub(&l->inflight, 1);
      }
    }
  }
  return atomic_load(&pl->lost);
}

void dray__pipeline_destroy(struct dray__pipeline **pl_p) {
  if (!pl_p || !*pl_p) return;
  struct dray__pipeline *pl = *pl_p;
  *pl_p = NULL;
  dray__pipeline_stop(pl);
  int linger = 0;
  for (unsigned i = 0; i < pl->lane_count; i++) {
    struct lane *l = &pl->lanes[i];
    if (l->push) {
      zmq_setsockopt(l->push, ZMQ_LINGER, &linger, sizeof linger);
      zmq_close(l->push);
    }
    if (l->pull) zmq_close(l->pull);
    pthread_mutex_destroy(&l->push_lock);
  }
  dray__breaker_destroy(&pl->breaker);
  free(pl->lanes);
  free(pl);
}
