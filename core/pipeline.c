/* pipeline.c - per-destination lanes and their workers (see pipeline.h).
 *
 * What crosses the inproc socket is a pointer to a reference-counted
 * message: the attributes already sit beside the body, so nothing is
 * parsed or copied on the way (ipc transports will serialize). */
#include "pipeline.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <zmq.h>

#include "instance.h"
#include "ledger.h"
#include "log.h"
#include "metrics.h"
#include "msg_internal.h"

struct lane {
  struct dray__pipeline *pl;
  unsigned index;
  void *push; /* used by emitting threads under push_lock */
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
  atomic_int quit;
};

struct dray__breaker *dray__pipeline_breaker(struct dray__pipeline *pl) {
  return &pl->breaker;
}

static uint64_t fnv1a(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

unsigned dray__pipeline_lane_for(const struct dray__pipeline *pl,
                                 const dray_msg *msg) {
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

void dray__pipeline_unreserve(struct dray__pipeline *pl, unsigned lane) {
  atomic_fetch_sub(&pl->lanes[lane].inflight, 1);
}

void dray__pipeline_push(struct dray__pipeline *pl, unsigned lane,
                         dray_msg *msg) {
  struct lane *l = &pl->lanes[lane];
  pthread_mutex_lock(&l->push_lock);
  /* Blocking send: the reservation keeps the lane under its high-water
   * mark, so this does not wait in practice, and it never drops. */
  int rc;
  do {
    rc = zmq_send(l->push, &msg, sizeof msg, 0);
  } while (rc < 0 && zmq_errno() == EINTR);
  pthread_mutex_unlock(&l->push_lock);
  if (rc < 0) {
    /* Only a closed context fails here; the message stays ours. */
    dray__log(DRAY_LOG_ERROR, pl->dest->name,
              "pipeline send failed (%s); message %s not delivered",
              zmq_strerror(zmq_errno()), dray__msg_header(msg, "id"));
    dray__msg_free(&msg);
    atomic_fetch_sub(&l->inflight, 1);
  }
}

size_t dray__pipeline_inflight(const struct dray__pipeline *pl) {
  size_t n = 0;
  for (unsigned i = 0; i < pl->lane_count; i++)
    n += atomic_load(&pl->lanes[i].inflight);
  return n;
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static uint64_t random64(void) {
  uint64_t r = 0;
  if (getrandom(&r, sizeof r, 0) != (ssize_t)sizeof r) r = (uint64_t)now_ms() * 2654435761u;
  return r;
}

/* Sleeps up to ms, waking early when the pipeline quits. Returns nonzero
 * if it quit. */
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

static void log_undelivered(struct dray__pipeline *pl, const dray_msg *msg,
                            const char *why) {
  dray__log(DRAY_LOG_ERROR, pl->dest->name,
            "message %s (type %s) not delivered: %s", dray__msg_header(msg, "id"),
            dray__msg_header(msg, "type"), why);
  dray__metric_add(pl->dest->name, "undelivered", 1);
}

/* Where a message goes when no attempt can deliver it. Until the dead
 * letter spool exists this is a log line with the whole context. */
static void dead_letter(struct dray__pipeline *pl, const dray_msg *msg,
                        const char *error_class, const char *why, unsigned attempts) {
  dray__metric_add(pl->dest->name, "dead_lettered", 1);
  dray__log(DRAY_LOG_ERROR, pl->dest->name,
            "dead letter: message %s (type %s, source %s, plugin %s %s) %s after %u "
            "attempt%s: %s",
            dray__msg_header(msg, "id"), dray__msg_header(msg, "type"),
            dray__msg_header(msg, "source"), pl->dest->desc->name,
            pl->dest->desc->version ? pl->dest->desc->version : "?", error_class,
            attempts, attempts == 1 ? "" : "s", *why ? why : "(no reason given)");
}

static void breaker_note(struct dray__pipeline *pl, int changed) {
  if (changed < 0) return;
  const char *name = dray__breaker_state_name((enum dray__breaker_state)changed);
  dray__log(changed == DRAY_BREAKER_OPEN ? DRAY_LOG_WARN : DRAY_LOG_INFO, pl->dest->name,
            "circuit breaker %s", name);
  dray__metric_add(pl->dest->name, changed == DRAY_BREAKER_OPEN ? "breaker_opened"
                                                                : "breaker_closed", 1);
  dray__metric_set(pl->dest->name, "breaker_state", changed);
}

/* The one place where a destination's result is handled. Returns nonzero
 * when the message is finished (delivered or dead-lettered) and zero when
 * it must be tried again after *delay_ms (-1: hold until shutdown). */
static int handle_result(struct dray__pipeline *pl, const dray_msg *msg,
                         dray_status st, unsigned attempt, int64_t first_failure_ms,
                         int64_t *delay_ms) {
  struct dray_instance *dest = pl->dest;
  const char *why = dray__callback_error();
  int64_t hint = dray__callback_retry_after();
  int64_t now = now_ms();
  enum dray__outcome outcome = DRAY_OUTCOME_FAILURE;
  if (st == DRAY_OK) outcome = DRAY_OUTCOME_SUCCESS;
  else if (st == DRAY_REJECT) outcome = DRAY_OUTCOME_NEUTRAL;
  else if (st == DRAY_RETRY && hint >= 0) outcome = DRAY_OUTCOME_NEUTRAL; /* throttled */
  breaker_note(pl, dray__breaker_record(&pl->breaker, now, outcome));

  switch (st) {
    case DRAY_OK:
      dray__metric_add(dest->name, "delivered", 1);
      return 1;
    case DRAY_REJECT:
      dray__metric_add(dest->name, "rejected", 1);
      dead_letter(pl, msg, "rejected", why, attempt + 1);
      return 1;
    case DRAY_FATAL:
      if (!atomic_exchange(&dest->failed, 1))
        dray__log(DRAY_LOG_ERROR, dest->name,
                  "instance failed (FATAL on message %s): %s; no more calls, its queue "
                  "is held until restart",
                  dray__msg_header(msg, "id"), *why ? why : "(no reason)");
      dray__metric_add(dest->name, "fatal", 1);
      *delay_ms = -1;
      return 0;
    default:
      if (st != DRAY_RETRY)
        dray__log(DRAY_LOG_WARN, dest->name, "unknown status %d treated as RETRY", (int)st);
      dray__metric_add(dest->name, "retries", 1);
      *delay_ms = dray__retry_next_ms(&pl->retry, attempt, first_failure_ms, now, hint,
                                      random64());
      if (*delay_ms < 0) {
        dead_letter(pl, msg, "max_age_exceeded", why, attempt + 1);
        return 1;
      }
      dray__log(DRAY_LOG_WARN, dest->name,
                "message %s: attempt %u failed (%s), retry in %lld ms",
                dray__msg_header(msg, "id"), attempt + 1, *why ? why : "transient",
                (long long)*delay_ms);
      return 0;
  }
}

/* --- financial effects: the idempotency ledger ---------------------------- */

static const char *effect_key(const dray_msg *msg) {
  const char *key = dray__msg_header(msg, "idempotencykey");
  return key ? key : dray__msg_header(msg, "id");
}

/* Before an attempt at a destination with financial effects. Returns 1
 * when the message is finished without a call (committed already, or
 * parked), 0 to go ahead with the call, -1 to wait *delay_ms and ask
 * again. */
static int effect_before(struct dray__pipeline *pl, const dray_msg *msg, unsigned attempt,
                         int64_t *delay_ms) {
  struct dray_instance *dest = pl->dest;
  const char *key = effect_key(msg);
  enum dray__ledger_state state;
  char ref[256];
  if (dray__ledger_get(dest->state_store, dest->name, key, &state, ref, sizeof ref) != 0) {
    *delay_ms = dray__retry_backoff_ms(&pl->retry, attempt, random64());
    dray__log(DRAY_LOG_ERROR, dest->name, "ledger read failed: %s", dray__state_errmsg(dest->state_store));
    return -1;
  }
  if (state == DRAY_LEDGER_COMMITTED) {
    dray__metric_add(dest->name, "effects_already_committed", 1);
    dray__log(DRAY_LOG_INFO, dest->name,
              "message %s: idempotency key %s already committed (reference %s): no-op",
              dray__msg_header(msg, "id"), key, *ref ? ref : "-");
    return 1;
  }
  if (state != DRAY_LEDGER_IN_DOUBT) return 0;
  /* Outcome unknown: never call again blind. */
  if (!DRAY_PLUGIN_HAS(dest->desc, lookup)) {
    dead_letter(pl, msg, "in_doubt",
                "outcome of an earlier attempt is unknown and the plugin has no lookup; "
                "parked for an operator",
                attempt);
    return 1;
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
    rc = 1;
  } else if (st == DRAY_REJECT) {
    dray__ledger_set(dest->state_store, dest->name, key, DRAY_LEDGER_PENDING, NULL);
    dray__log(DRAY_LOG_INFO, dest->name, "reconciled in-doubt key %s: no effect, sending", key);
    dray__metric_add(dest->name, "in_doubt_reconciled", 1);
    rc = 0;
  } else {
    *delay_ms = dray__retry_backoff_ms(&pl->retry, attempt, random64());
    rc = -1;
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

static void deliver(struct dray__pipeline *pl, const dray_msg *msg) {
  struct dray_instance *dest = pl->dest;
  int serialize = !(dest->desc->flags & DRAY_PLUGIN_CONCURRENT);
  int64_t first_failure = 0;
  for (unsigned attempt = 0;; attempt++) {
    int64_t wait = 0;
    while (!atomic_load(&dest->failed) &&
           !dray__breaker_allow(&pl->breaker, now_ms(), &wait)) {
      /* open: no call reaches the destination */
      if (wait_or_quit(pl, wait)) {
        log_undelivered(pl, msg, "shutdown while the circuit breaker was open");
        return;
      }
    }
    if (atomic_load(&dest->failed)) {
      wait_or_quit(pl, INT32_MAX);
      log_undelivered(pl, msg, "destination failed; shutting down");
      return;
    }
    int64_t delay = 0;
    if (dest->financial && dest->state_store) {
      int pre = effect_before(pl, msg, attempt, &delay);
      if (pre == 1) return;
      if (pre < 0) {
        if (wait_or_quit(pl, delay)) {
          log_undelivered(pl, msg, "shutdown while reconciling an in-doubt effect");
          return;
        }
        continue;
      }
      if (dray__ledger_set(dest->state_store, dest->name, effect_key(msg),
                           DRAY_LEDGER_ATTEMPTING, NULL) != 0) {
        dray__log(DRAY_LOG_ERROR, dest->name, "ledger write failed: %s",
                  dray__state_errmsg(dest->state_store));
        if (wait_or_quit(pl, dray__retry_backoff_ms(&pl->retry, attempt, random64()))) return;
        continue;
      }
    }
    if (serialize) pthread_mutex_lock(&dest->process_lock);
    dray__callback_begin();
    dray_status st = dest->desc->process(dest->state, msg);
    if (serialize) pthread_mutex_unlock(&dest->process_lock);
    if (dest->financial && dest->state_store) effect_after(pl, msg, st);
    if (st != DRAY_OK && attempt == 0) first_failure = now_ms();
    if (handle_result(pl, msg, st, attempt, first_failure, &delay)) return;
    if (wait_or_quit(pl, delay < 0 ? INT32_MAX : delay)) {
      log_undelivered(pl, msg, "shutdown while waiting to retry (in-memory delivery)");
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
    dray_msg *msg = NULL;
    if (zmq_recv(l->pull, &msg, sizeof msg, ZMQ_DONTWAIT) != sizeof msg)
      continue;
    if (atomic_load(&pl->quit))
      log_undelivered(pl, msg, "shutdown before delivery (in-memory delivery)");
    else
      deliver(pl, msg);
    dray__msg_free(&msg);
    atomic_fetch_sub(&l->inflight, 1);
  }
  return NULL;
}

struct dray__pipeline *dray__pipeline_new(void *zctx,
                                          struct dray_instance *dest,
                                          unsigned lanes, unsigned capacity,
                                          const struct dray__retry_policy *retry,
                                          const struct dray__breaker_policy *breaker,
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
  dray__breaker_init(&pl->breaker, breaker);
  for (unsigned i = 0; i < lanes; i++) {
    struct lane *l = &pl->lanes[i];
    l->pl = pl;
    l->index = i;
    pthread_mutex_init(&l->push_lock, NULL);
    snprintf(l->endpoint, sizeof l->endpoint, "inproc://dray.%s.%u.%p",
             dest->name, i, (void *)pl);
    int hwm = (int)capacity;
    l->pull = zmq_socket(zctx, ZMQ_PULL);
    l->push = zmq_socket(zctx, ZMQ_PUSH);
    if (!l->pull || !l->push ||
        zmq_setsockopt(l->pull, ZMQ_RCVHWM, &hwm, sizeof hwm) != 0 ||
        zmq_setsockopt(l->push, ZMQ_SNDHWM, &hwm, sizeof hwm) != 0 ||
        zmq_bind(l->pull, l->endpoint) != 0 ||
        zmq_connect(l->push, l->endpoint) != 0) {
      snprintf(err, err_size, "instance %s: pipeline lane %u: %s", dest->name,
               i, zmq_strerror(zmq_errno()));
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

void dray__pipeline_stop(struct dray__pipeline *pl) {
  atomic_store(&pl->quit, 1);
  for (unsigned i = 0; i < pl->lane_count; i++) {
    struct lane *l = &pl->lanes[i];
    if (l->worker_running) pthread_join(l->worker, NULL);
    l->worker_running = 0;
    /* Messages still queued in the socket were accepted but never
     * delivered: say so for each one. */
    dray_msg *msg;
    while (l->pull &&
           zmq_recv(l->pull, &msg, sizeof msg, ZMQ_DONTWAIT) == sizeof msg) {
      log_undelivered(pl, msg, "shutdown before delivery (in-memory delivery)");
      dray__msg_free(&msg);
      atomic_fetch_sub(&l->inflight, 1);
    }
  }
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
