/* runtime.c - `dray run` (see runtime.h).
 *
 * Threads: the main thread waits for signals; each polled source has a
 * poll thread; each destination lane has a worker; plugins may run their
 * own threads and call emit. Messages cross threads only through the
 * lanes' ZeroMQ sockets. */
#include "runtime.h"

#include <dirent.h>
#include <errno.h>
#include <json-c/json.h>
#include <fcntl.h>
#include <sys/file.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>
#include <time.h>
#include <zmq.h>

#include "dedupe.h"
#include "feeder.h"
#include "dlq.h"
#include "dlq_ops.h"
#include "journal.h"
#include "router.h"
#include "spool.h"
#include "fault.h"
#include "fault_io.h"
#include <dray-sdk/files.h>
#include "http_listener.h"
#include "instance.h"
#include "log.h"
#include "metrics.h"
#include "msg_internal.h"
#include "pipeline.h"
#include "state_store.h"
#include "status.h"

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
  struct dray__route_table *routes;
  dray__spool *journal; /* accepted messages until every destination is done */
  dray__spool *dlq;     /* dead letters until replayed or purged */
  pthread_mutex_t dlq_lock;
  int lock_fd;          /* flock on DATA_DIR/dray.lock: one runtime per data_dir */
  atomic_int journal_failed; /* an fsync failed: stop acking, exit non-zero */
  /* Per destination (by instance index, NULL for pure sources): its
   * backlog in the journal (feeder.h). */
  struct dray__feeder **feeders;
  struct dray__spool_stats at_open; /* the journal before any source started */
  uint64_t spool_cap;               /* max_disk_bytes of the journal and each backlog */
  atomic_uint_least64_t backlog_queued; /* messages queued in backlogs since start */
  pthread_t replay_thread;
  int replay_thread_running;
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

void dray__runtime_journal_status(struct dray__runtime *rt, struct dray__journal_status *out) {
  struct dray__spool_stats st;
  dray__spool_stats(rt->journal, &st);
  out->records = st.records;
  out->bytes = st.bytes;
  out->queued_total = atomic_load(&rt->backlog_queued);
  out->backlog = 0;
  for (size_t i = 0; rt->feeders && i < rt->instance_count; i++) {
    if (!rt->feeders[i]) continue;
    out->backlog += dray__feeder_backlog(rt->feeders[i]);
    dray__spool_stats(dray__feeder_spool(rt->feeders[i]), &st);
    out->records += st.records;
    out->bytes += st.bytes;
  }
}

int dray__runtime_stopping(struct dray__runtime *rt) {
  return atomic_load(&rt->stopping);
}

/* --- route tables ----------------------------------------------------------- */

static struct dray__route_table *build_routes(struct dray__runtime *rt,
                                              const struct dray__site *site) {
  char **names = calloc(rt->instance_count + 1, sizeof *names);
  int *can_receive = calloc(rt->instance_count + 1, sizeof *can_receive);
  struct dray__route_table *t = NULL;
  if (names && can_receive) {
    for (size_t i = 0; i < rt->instance_count; i++) {
      names[i] = rt->instances[i]->name;
      can_receive[i] = rt->instances[i]->pipeline != NULL;
    }
    t = dray__route_table_build(site, names, can_receive, rt->instance_count);
  }
  free(names);
  free(can_receive);
  return t;
}

static long find_instance(struct dray__runtime *rt, const char *name) {
  for (size_t i = 0; i < rt->instance_count; i++)
    if (strcmp(rt->instances[i]->name, name) == 0) return (long)i;
  return -1;
}

/* --- deliveries, journal and dead letters ---------------------------------- */

/* Every destination is done with the message (delivered or dead-lettered):
 * its record is released (in the ingress journal or a backlog spool). */
static void delivery_finished(struct dray__delivery *d, void *ctx) {
  (void)ctx;
  DRAY_FAULT_POINT("runtime.before_release");
  if (d->seq && dray__spool_release(d->spool, d->seq) != 0)
    dray__error("journal release of record %llu failed", (unsigned long long)d->seq);
}

static int store_dead_letter(void *ctx, struct dray_instance *dest, const dray_msg *msg,
                             const struct dray__dlq_context *c) {
  struct dray__runtime *rt = ctx;
  dray_buf rec;
  uint64_t seq;
  dray__buf_init(&rec);
  int rc = dray__dlq_encode(&rec, msg, c) == 0
               ? dray__spool_append(rt->dlq, rec.data, (uint32_t)rec.len, &seq)
               : -ENOMEM;
  dray__buf_release(&rec);
  DRAY_FAULT_POINT("runtime.after_dead_letter");
  if (rc != 0) {
    dray__log(DRAY_LOG_ERROR, dest->name,
              "cannot store dead letter for message %s (%s); it stays in the journal, "
              "trying again",
              dray__msg_header(msg, "id"), strerror(-rc));
    return -1;
  }
  return 0;
}

/* --- accepting messages ------------------------------------------------------ */

/* One message between the checks and its hand-over to the lanes. */
struct prepared {
  dray_msg *msg;
  size_t dests[64];
  unsigned lanes[64]; /* for the destinations not queued */
  size_t count;       /* 0: finished already (duplicate or unrouted) */
  uint64_t queued;    /* bit k: dests[k] gets it through its backlog in the journal */
  int durable;
  uint64_t seq;       /* the journal record of the part handed to the lanes */
};

static int is_queued(const struct prepared *p, size_t k) { return (p->queued >> k) & 1; }

static size_t direct_count(const struct prepared *p) {
  return p->count - (size_t)__builtin_popcountll(p->queued);
}

static void unreserve(struct dray__runtime *rt, struct prepared *p) {
  for (size_t k = 0; k < p->count; k++)
    if (!is_queued(p, k))
      dray__pipeline_unreserve(rt->instances[p->dests[k]]->pipeline, p->lanes[k]);
}

static int64_t mono_now_ms(void) {
  struct timespec now;
  clock_gettime(CLOCK_MONOTONIC, &now);
  return (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
}

/* Checks, de-duplicates, keys, routes and admits one message (route_lock
 * held for reading). DRAY_OK with p->count destinations (0 when there is
 * nothing to deliver), each reserved on its lane or, for a durable message,
 * queued (bit in p->queued): it will wait in the journal for that
 * destination, because its lane is full, it has a backlog, or queue[dest]
 * says an earlier message of the batch waits there. Anything else refuses
 * the message with the error set. */
static dray_status prepare(struct dray__runtime *rt, struct dray_instance *from, dray_msg *msg,
                           const unsigned char *queue, struct prepared *p) {
  const struct dray_host *host = dray__host_table();
  char why[512];
  p->msg = msg; /* the destination arrays are filled as far as count says */
  p->count = 0;
  p->queued = 0;
  p->durable = 0;
  p->seq = 0;
  if (dray__msg_check_envelope(msg, why, sizeof why) != 0) {
    host->set_error(from, "emit: invalid envelope: %s", why);
    dray__metric_add(from->name, "emit_rejected", 1);
    return DRAY_REJECT;
  }
  /* The same CloudEvent again (source + id) within the window: accepted
   * once. */
  if (!msg->minted_id &&
      dray__dedupe_contains(rt->dedupe, dray__msg_header(msg, "source"),
                            dray__msg_header(msg, "id"), mono_now_ms())) {
    dray__metric_add(from->name, "duplicates", 1);
    dray__log(DRAY_LOG_DEBUG, from->name, "duplicate event %s from %s accepted once",
              dray__msg_header(msg, "id"), dray__msg_header(msg, "source"));
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
  p->count = dray__route_match(rt->routes, from->index, type, p->dests, 64, &p->durable);
  if (p->count == 0) {
    dray__metric_add(from->name, "unrouted", 1);
    dray__log(DRAY_LOG_WARN, from->name, "message %s of type %s matches no route; not forwarded",
              dray__msg_header(msg, "id"), type);
    return DRAY_OK;
  }
  for (size_t k = 0; k < p->count; k++) {
    size_t d = p->dests[k];
    struct dray__pipeline *pl = rt->instances[d]->pipeline;
    /* A durable message joins its destination's backlog while there is
     * one, so it cannot overtake an earlier message of its partition. */
    if (p->durable && (queue[d] || dray__feeder_backlog(rt->feeders[d]))) {
      p->queued |= 1ull << k;
      continue;
    }
    p->lanes[k] = dray__pipeline_lane_for(pl, msg);
    if (dray__pipeline_reserve(pl, p->lanes[k]) == 0) continue;
    if (p->durable) { /* waits in the journal: the disk cap is the limit */
      p->queued |= 1ull << k;
      continue;
    }
    /* the memory class: admission to every destination, or to none */
    {
      size_t full = p->dests[k];
      p->count = k;
      unreserve(rt, p);
      p->count = 0;
      host->set_error(from, "destination %s is full (backpressure)", rt->instances[full]->name);
      dray__metric_add(from->name, "backpressure", 1);
      return DRAY_RETRY;
    }
  }
  return DRAY_OK;
}

/* Records of a batch in one buffer, each about its body plus the
 * attributes: one allocation per batch, not one per message. */
struct records {
  dray_buf buf;
  struct dray__spool_rec *recs;
  size_t count;
};

static int records_init(struct records *r, size_t max, size_t bytes) {
  dray__buf_init(&r->buf);
  r->count = 0;
  r->recs = malloc((max ? max : 1) * sizeof *r->recs);
  return r->recs && dray__buf_reserve(&r->buf, bytes ? bytes : 1) == 0 ? 0 : -ENOMEM;
}

static int records_add(struct records *r, const char *source, const char *const *dests,
                       size_t dest_count, const dray_msg *msg) {
  size_t at = r->buf.len;
  if (dray__journal_encode(&r->buf, source, dests, dest_count, msg) != 0) return -ENOMEM;
  /* an offset until the buffer stops growing: see records_seal */
  r->recs[r->count++] = (struct dray__spool_rec){(const void *)at, (uint32_t)(r->buf.len - at)};
  return 0;
}

static void records_seal(struct records *r) {
  for (size_t k = 0; k < r->count; k++) r->recs[k].data = r->buf.data + (size_t)r->recs[k].data;
}

static void records_release(struct records *r) {
  dray__buf_release(&r->buf);
  free(r->recs);
}

/* The part of a message handed to the lanes, in the ingress journal. It
 * names its destinations only when some are queued instead, so a replay
 * does not route it to those again. */
static int add_direct(struct dray__runtime *rt, struct records *r, const char *source,
                      const struct prepared *p) {
  const char *names[64];
  size_t named = 0;
  for (size_t k = 0; p->queued && k < p->count; k++)
    if (!is_queued(p, k)) names[named++] = rt->instances[p->dests[k]]->name;
  return records_add(r, source, names, named, p->msg);
}

/* Appends the batch's queued messages to each destination's backlog
 * spool (queue[d] set), before anything goes into the journal: a failure
 * then refuses the batch with nothing handed to the lanes (records already
 * in another destination's backlog are delivered there, and again if the
 * source retries: at least once). */
static int append_backlogs(struct dray__runtime *rt, struct dray_instance *from,
                           struct prepared *ps, size_t n, const unsigned char *queue) {
  for (size_t d = 0; d < rt->instance_count; d++) {
    if (!queue[d]) continue;
    const char *name = rt->instances[d]->name;
    size_t max = 0, bytes = 0;
    for (size_t i = 0; i < n; i++)
      for (size_t k = 0; k < ps[i].count; k++)
        if (ps[i].dests[k] == d && is_queued(&ps[i], k)) {
          max++;
          bytes += ps[i].msg->body_len + 512;
        }
    struct records r;
    int rc = records_init(&r, max, bytes);
    for (size_t i = 0; i < n && rc == 0; i++)
      for (size_t k = 0; k < ps[i].count && rc == 0; k++)
        if (ps[i].dests[k] == d && is_queued(&ps[i], k))
          rc = records_add(&r, from->name, &name, 1, ps[i].msg);
    if (rc == 0) {
      records_seal(&r);
      rc = dray__feeder_append(rt->feeders[d], r.recs, r.count);
    }
    records_release(&r);
    if (rc != 0) return rc;
  }
  return 0;
}

/* Makes the records of the prepared messages durable: the backlogs' (see
 * append_backlogs), then the journal's in one group commit. On failure
 * every reservation is returned and the status says what the sources
 * hear. */
static dray_status journal_append(struct dray__runtime *rt, struct dray_instance *from,
                                  struct prepared *ps, size_t n, const unsigned char *queue) {
  const struct dray_host *host = dray__host_table();
  size_t total = 0, bytes = 0;
  for (size_t i = 0; i < n; i++)
    if (ps[i].count && ps[i].durable && direct_count(&ps[i])) {
      total++;
      bytes += ps[i].msg->body_len + 512;
    }
  uint64_t *seqs = malloc((total ? total : 1) * sizeof *seqs);
  struct records r;
  int rc = records_init(&r, total, bytes) == 0 && seqs ? 0 : -ENOMEM;
  if (rc == 0) rc = append_backlogs(rt, from, ps, n, queue);
  for (size_t i = 0; i < n && rc == 0; i++)
    if (ps[i].count && ps[i].durable && direct_count(&ps[i]))
      rc = add_direct(rt, &r, from->name, &ps[i]);
  records_seal(&r);
  if (rc == 0 && r.count) rc = dray__spool_append_many(rt->journal, r.recs, r.count, seqs);
  for (size_t i = 0, k = 0; i < n && rc == 0; i++)
    if (ps[i].count && ps[i].durable && direct_count(&ps[i])) ps[i].seq = seqs[k++];
  records_release(&r);
  free(seqs);
  if (rc == 0) return DRAY_OK;
  for (size_t i = 0; i < n; i++) unreserve(rt, &ps[i]);
  if (rc == -EAGAIN || rc == -ENOMEM) {
    host->set_error(from, "journal full (journal.max_disk_bytes): backpressure");
    dray__metric_add(from->name, "backpressure_journal_full", 1);
    return DRAY_RETRY;
  }
  if (rc == -EMSGSIZE) {
    host->set_error(from, "a message is larger than the journal's record limit");
    return DRAY_REJECT;
  }
  if (rc == -EBUSY) {
    host->set_error(from, "a destination's backlog is being opened after the start: "
                          "backpressure");
    dray__metric_add(from->name, "backpressure_backlog_opening", 1);
    return DRAY_RETRY;
  }
  if (!atomic_exchange(&rt->journal_failed, 1)) {
    dray__log(DRAY_LOG_ERROR, NULL,
              "journal write failed (%s): no more messages are acknowledged; stopping",
              strerror(-rc));
    kill(getpid(), SIGTERM);
  }
  host->set_error(from, "journal failed: %s", strerror(-rc));
  return DRAY_RETRY;
}

/* Deliveries on their way to the lanes of one accept call, gathered per
 * lane so a batch takes one lane message per lane (in order) instead of
 * one per message. */
struct bundles {
  size_t used, cap; /* cap: deliveries per bundle, at most DRAY__LANE_BUNDLE */
  struct {
    struct dray__pipeline *pl;
    unsigned lane;
    size_t n;
    struct dray__delivery **ds; /* cap slots in store */
  } b[8];
  struct dray__delivery *store[];
};

/* Sized for a batch of count: a single emit does not pay for 256 slots. */
static struct bundles *bundles_new(size_t count) {
  size_t cap = count < 1 ? 1 : count > DRAY__LANE_BUNDLE ? DRAY__LANE_BUNDLE : count;
  struct bundles *bs = malloc(sizeof *bs + 8 * cap * sizeof bs->store[0]);
  if (!bs) return NULL;
  bs->used = 0;
  bs->cap = cap;
  for (size_t i = 0; i < 8; i++) bs->b[i].ds = bs->store + i * cap;
  return bs;
}

static void bundles_flush(struct bundles *bs) {
  for (size_t i = 0; i < bs->used; i++)
    dray__pipeline_push_many(bs->b[i].pl, bs->b[i].lane, bs->b[i].ds, bs->b[i].n);
  bs->used = 0;
}

static void bundles_add(struct bundles *bs, struct dray__pipeline *pl, unsigned lane,
                        struct dray__delivery *d) {
  size_t i = 0;
  while (i < bs->used && (bs->b[i].pl != pl || bs->b[i].lane != lane)) i++;
  if (i == 8) {
    bundles_flush(bs);
    i = 0;
  }
  if (i == bs->used) {
    bs->b[i].pl = pl;
    bs->b[i].lane = lane;
    bs->b[i].n = 0;
    bs->used++;
  }
  bs->b[i].ds[bs->b[i].n++] = d;
  if (bs->b[i].n == bs->cap) {
    dray__pipeline_push_many(pl, lane, bs->b[i].ds, bs->b[i].n);
    bs->b[i].n = 0;
  }
}

/* Hands a prepared (and, if durable, journaled) message to the lanes not
 * queued for (via bs; the caller flushes); the queued destinations' feeders
 * deliver their copies from their backlogs. */
static void commit(struct dray__runtime *rt, struct dray_instance *from, struct prepared *p,
                   struct bundles *bs) {
  size_t direct = direct_count(p);
  if (p->count && !p->msg->minted_id)
    dray__dedupe_add(rt->dedupe, dray__msg_header(p->msg, "source"),
                     dray__msg_header(p->msg, "id"), mono_now_ms());
  if (p->count && p->queued) {
    dray__metric_add(from->name, "queued_in_backlog", 1);
    atomic_fetch_add(&rt->backlog_queued, 1);
  }
  if (direct) {
    DRAY_FAULT_POINT("runtime.after_journal_append");
    struct dray__delivery *d = calloc(1, sizeof *d);
    if (!d) { /* a durable record is delivered after a restart */
      dray__error("out of memory: message %s %s", dray__msg_header(p->msg, "id"),
                  p->seq ? "waits in the journal" : "lost");
      unreserve(rt, p);
      return;
    }
    d->msg = dray__msg_ref(p->msg);
    d->seq = p->seq;
    d->spool = rt->journal;
    d->finished = delivery_finished;
    d->ctx = rt;
    atomic_init(&d->remaining, (int)direct);
    for (size_t k = 0; k < p->count; k++)
      if (!is_queued(p, k)) bundles_add(bs, rt->instances[p->dests[k]]->pipeline, p->lanes[k], d);
  }
  dray__metric_inc(from->m_emitted, 1);
}

dray_status dray__runtime_accept_batch(struct dray__runtime *rt, struct dray_instance *from,
                                       dray_msg **msgs, size_t count, size_t *accepted) {
  struct prepared *ps = malloc((count ? count : 1) * sizeof *ps);
  struct bundles *bs = bundles_new(count);
  /* per destination: an earlier message of this batch was queued for it */
  unsigned char *queue = calloc(rt->instance_count + 1, 1);
  dray_status st = DRAY_OK;
  size_t n = 0;
  *accepted = 0;
  if (!ps || !bs || !queue) {
    free(ps);
    free(bs);
    free(queue);
    return DRAY_RETRY;
  }
  dray__msg_free_pending(); /* what the workers finished, freed where it was made */
  pthread_rwlock_rdlock(&rt->route_lock);
  /* Everything up to the first refusal goes in, in order: once a message
   * of the batch waits in the journal for a destination, the later ones
   * for it do too. */
  while (n < count && (st = prepare(rt, from, msgs[n], queue, &ps[n])) == DRAY_OK) {
    for (size_t k = 0; k < ps[n].count; k++)
      if (is_queued(&ps[n], k)) queue[ps[n].dests[k]] = 1;
    n++;
  }
  dray_status jst = journal_append(rt, from, ps, n, queue);
  if (jst == DRAY_OK) {
    for (size_t i = 0; i < n; i++) {
      commit(rt, from, &ps[i], bs);
      dray__msg_free(&msgs[i]); /* the emitter's reference */
    }
    bundles_flush(bs);
    *accepted = n;
    /* Before the read lock goes: a feeder ends its backlog only with
     * accepts excluded, after it has seen every record appended. */
    for (size_t d = 0; d < rt->instance_count; d++)
      if (queue[d]) dray__feeder_announce(rt->feeders[d]);
  } else {
    st = jst;
  }
  pthread_rwlock_unlock(&rt->route_lock);
  free(ps);
  free(bs);
  free(queue);
  return st;
}

dray_status dray__runtime_accept(struct dray__runtime *rt, struct dray_instance *from,
                                 dray_msg **msg_p) {
  size_t accepted;
  return dray__runtime_accept_batch(rt, from, msg_p, 1, &accepted);
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

static void spool_event(void *ctx, const char *line) {
  dray__log(DRAY_LOG_WARN, NULL, "%s: %s", (const char *)ctx, line);
}

/* The disk cap of the journal and of each destination's backlog spool:
 * as configured, else half of the space free on data_dir's file system at
 * start shared among them, so a long backlog (a destination down for
 * hours) turns into backpressure before the disk is full. */
static uint64_t spool_cap(const struct dray__site *s) {
  struct statvfs vfs;
  if (s->journal_max_bytes) return s->journal_max_bytes;
  if (statvfs(s->data_dir, &vfs) != 0) return 0;
  uint64_t cap = (uint64_t)vfs.f_bavail * vfs.f_frsize / 2 / (1 + s->instance_count);
  dray__info("journal: max_disk_bytes not set: %llu MiB each for the journal and every "
             "destination's backlog (half the free space of %s, shared)",
             (unsigned long long)(cap >> 20), s->data_dir);
  return cap;
}

static int open_spools(struct dray__runtime *rt, char *err, size_t err_size) {
  const struct dray__site *s = rt->site;
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/journal", s->data_dir);
  struct dray__spool_options jo = {
      .dir = dir, .name = "journal", .segment_bytes = s->journal_segment_bytes,
      .max_disk_bytes = rt->spool_cap = spool_cap(s), .group_max_records = s->journal_group_records,
      .group_max_delay_us = s->journal_group_delay_us, .durable = 1,
      .io = dray__io_for_journal(), .on_event = spool_event, .event_ctx = "journal"};
  rt->journal = dray__spool_open(&jo, err, err_size);
  if (!rt->journal) return -1;
  snprintf(dir, sizeof dir, "%s/dlq", s->data_dir);
  struct dray__spool_options dlo = {.dir = dir, .name = "dlq", .max_disk_bytes = s->dlq_max_bytes,
                                    .durable = 1, .on_event = spool_event, .event_ctx = "dlq"};
  rt->dlq = dray__spool_open(&dlo, err, err_size);
  return rt->dlq ? 0 : -1;
}

/* Hands record seq of `spool` (the ingress journal or a destination's
 * backlog) to its destinations: at start-up (what was not released before
 * a stop or a crash), from a backlog, and for dead-letter replays. Named
 * destinations win over the routes. */
static int redeliver(struct dray__runtime *rt, dray__spool *spool, uint64_t seq,
                     struct dray__journal_record *rec, int replayed) {
  size_t dests[64], count = 0;
  int durable;
  if (rec->dest_count) {
    for (size_t i = 0; i < rec->dest_count && count < 64; i++) {
      long d = find_instance(rt, rec->dests[i]);
      if (d >= 0 && rt->instances[d]->pipeline) dests[count++] = (size_t)d;
    }
  } else {
    long from = find_instance(rt, rec->source);
    pthread_rwlock_rdlock(&rt->route_lock);
    if (from >= 0)
      count = dray__route_match(rt->routes, (size_t)from,
                                dray__msg_header(rec->msg, "type"), dests, 64, &durable);
    pthread_rwlock_unlock(&rt->route_lock);
  }
  if (count == 0) {
    dray__warn("journal record %llu (message %s from %s) has no destination now; "
               "dead-lettered as unroutable",
               (unsigned long long)seq, dray__msg_header(rec->msg, "id"), rec->source);
    struct timespec now;
    clock_gettime(CLOCK_REALTIME, &now);
    int64_t ns = (int64_t)now.tv_sec * 1000000000 + now.tv_nsec;
    struct dray__dlq_context c = {.instance = rec->source, .plugin = "", .plugin_version = "",
                                  .stage = "replay", .error_class = "unroutable",
                                  .error = "no route matches after a restart or reload",
                                  .first_failure_ns = ns, .last_failure_ns = ns};
    struct dray_instance *src = rt->instance_count ? rt->instances[0] : NULL;
    if (!src || store_dead_letter(rt, src, rec->msg, &c) == 0) dray__spool_release(spool, seq);
    return 0;
  }
  struct dray__delivery *d = calloc(1, sizeof *d);
  if (!d) return -1;
  d->msg = dray__msg_ref(rec->msg);
  d->seq = seq;
  d->spool = spool;
  d->backlog = spool != rt->journal;
  d->replayed = replayed;
  d->finished = delivery_finished;
  d->ctx = rt;
  atomic_init(&d->remaining, (int)count);
  for (size_t k = 0; k < count; k++) {
    struct dray__pipeline *pl = rt->instances[dests[k]]->pipeline;
    unsigned lane = dray__pipeline_lane_for(pl, rec->msg);
    /* Replays respect the lanes' capacity: a large journal is fed in,
     * not loaded whole into memory. */
    while (replayed && dray__pipeline_reserve(pl, lane) != 0) {
      if (atomic_load(&rt->stopping)) {
        /* stays in the journal; the destinations not reached yet never
         * got it, the others finish their copy */
        for (size_t j = k; j < count; j++) dray__delivery_done_abandoned(d);
        return 0;
      }
      struct timespec ts = {0, 200000}; /* a worker frees a slot within a delivery */
      nanosleep(&ts, NULL);
    }
    if (!replayed) dray__pipeline_reserve_force(pl, lane);
    dray__pipeline_push(pl, lane, d);
  }
  return 0;
}

/* --- the journal: start-up replay and backlogs ----------------------------------
 *
 * At start-up one thread delivers every record left from before (not
 * released before the last stop or crash), in journal order, each as soon
 * as its lanes have room; meanwhile every destination's backlog is on, so
 * new durable messages queue in the journal behind the replay. Then each
 * destination's feeder (feeder.h) takes over its own backlog. */

struct replay_ctx {
  struct dray__runtime *rt;
  size_t count, bad;
};

static int replay_one(void *ctx, uint64_t seq, const void *data, uint32_t len) {
  struct replay_ctx *r = ctx;
  struct dray__journal_record rec;
  char why[256];
  if (atomic_load(&r->rt->stopping)) return 1;
  if (seq >= r->rt->at_open.next_seq) return 1; /* the feeders' part */
  if (dray__journal_decode(data, len, &rec, why, sizeof why) != 0) {
    /* CRC-valid but not ours: never silently skipped */
    dray__error("journal record %llu cannot be read (%s); left in the journal",
                (unsigned long long)seq, why);
    r->bad++;
    return 0;
  }
  if (redeliver(r->rt, r->rt->journal, seq, &rec, 1) == 0) r->count++;
  dray__journal_record_release(&rec);
  return 0;
}

static void *replay_main(void *arg) {
  struct dray__runtime *rt = arg;
  struct replay_ctx r = {.rt = rt};
  if (rt->at_open.records) {
    dray__info("journal: %llu records from before the start to deliver",
               (unsigned long long)rt->at_open.records);
    if (dray__spool_scan(rt->journal, rt->at_open.low_water, replay_one, &r) < 0)
      dray__error("journal replay: a record could not be read; see above");
  }
  if (r.count || r.bad)
    dray__info("journal: %zu messages not finished before the last stop are delivered again%s",
               r.count, r.bad ? " (some records unreadable: see above)" : "");
  for (size_t i = 0; i < rt->instance_count; i++)
    if (rt->feeders[i]) dray__feeder_go(rt->feeders[i]);
  return NULL;
}

static int feed_deliver(void *ctx, dray__spool *from, uint64_t seq,
                        struct dray__journal_record *rec) {
  return redeliver(ctx, from, seq, rec, 1);
}
static void exclude_accepts(void *ctx) {
  pthread_rwlock_wrlock(&((struct dray__runtime *)ctx)->route_lock);
}
static void allow_accepts(void *ctx) {
  pthread_rwlock_unlock(&((struct dray__runtime *)ctx)->route_lock);
}
static int feed_stopping(void *ctx) { return dray__runtime_stopping(ctx); }

/* One feeder per destination, before any source runs; their threads
 * start after the replay. */
static int feeders_new(struct dray__runtime *rt, char *err, size_t err_size) {
  const struct dray__site *s = rt->site;
  struct dray__feeder_hooks hooks = {.ctx = rt, .deliver = feed_deliver,
                                     .exclude_accepts = exclude_accepts,
                                     .allow_accepts = allow_accepts, .stopping = feed_stopping};
  /* the journal's settings; the cap is per spool */
  struct dray__spool_options o = {
      .segment_bytes = s->journal_segment_bytes, .max_disk_bytes = rt->spool_cap,
      .group_max_records = s->journal_group_records,
      .group_max_delay_us = s->journal_group_delay_us, .durable = 1,
      .io = dray__io_for_journal(), .on_event = spool_event, .event_ctx = "backlog"};
  rt->feeders = calloc(rt->instance_count + 1, sizeof *rt->feeders);
  if (!rt->feeders) return -1;
  for (size_t i = 0; i < rt->instance_count; i++) {
    if (!rt->instances[i]->pipeline) continue;
    char dir[4096], why[512];
    snprintf(dir, sizeof dir, "%s/backlog/%s", s->data_dir, rt->instances[i]->name);
    rt->feeders[i] = dray__feeder_new(dir, rt->instances[i]->name, &o, rt->at_open.records > 0,
                                      &hooks, why, sizeof why);
    if (!rt->feeders[i] || dray__feeder_start(rt->feeders[i]) != 0) {
      snprintf(err, err_size, "backlog of %s: %s", rt->instances[i]->name,
               rt->feeders[i] ? "cannot start its thread" : why);
      return -1;
    }
  }
  return 0;
}

/* A backlog left by a destination instance the site no longer has is
 * not delivered anywhere: said at start, never dropped silently. */
static void warn_orphan_backlogs(struct dray__runtime *rt) {
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/backlog", rt->site->data_dir);
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *e;
  while ((e = readdir(d))) {
    if (e->d_name[0] == '.') continue;
    long i = find_instance(rt, e->d_name);
    if (i < 0 || !rt->instances[i]->pipeline)
      dray__warn("%s/%s: the backlog of an instance this site no longer has as a destination; "
                 "whatever is still queued there waits until it is configured again "
                 "(remove the folder once it is not wanted)",
                 dir, e->d_name);
  }
  closedir(d);
}

static int replay_start(struct dray__runtime *rt, char *err, size_t err_size) {
  if (pthread_create(&rt->replay_thread, NULL, replay_main, rt) != 0) {
    snprintf(err, err_size, "cannot start the journal replay");
    return -1;
  }
  rt->replay_thread_running = 1;
  return 0;
}

static int runtime_open(struct dray__runtime *rt, char *err, size_t err_size) {
  struct dray__site *s = rt->site;
  char path[4096];
  if (dray_files_mkdirs(s->data_dir) != 0) {
    snprintf(err, err_size, "data_dir %s: %s", s->data_dir, strerror(errno));
    return -1;
  }
  snprintf(path, sizeof path, "%s/dray.lock", s->data_dir);
  rt->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0640);
  if (rt->lock_fd < 0 || flock(rt->lock_fd, LOCK_EX | LOCK_NB) != 0) {
    snprintf(err, err_size, "%s: %s", path,
             errno == EWOULDBLOCK ? "another dray runs on this data_dir" : strerror(errno));
    return -1;
  }
  if (open_spools(rt, err, err_size) != 0) return -1;
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
      struct dray__pipeline_hooks hooks = {.ctx = rt, .dead_letter = store_dead_letter};
      inst->pipeline = dray__pipeline_new(rt->zctx, inst, ic->workers,
                                          ic->queue_capacity, &ic->retry,
                                          &ic->breaker, &hooks, err, err_size);
      if (!inst->pipeline) return -1;
    }
    if (dray__instance_create(inst, err, err_size) != 0) return -1;
  }
  rt->routes = build_routes(rt, s);
  if (!rt->routes) {
    snprintf(err, err_size, "out of memory building routes");
    return -1;
  }
  /* Every instance starts before any worker calls process(), so no
   * destination sees a message before its start(); messages emitted from
   * a start() wait in the lanes. While the journal's leftovers from before
   * the start are fed in, new durable messages queue behind them in the
   * journal (backlog mode), so every partition keeps its order across the
   * restart; then the listener and the pollers. */
  dray__spool_stats(rt->journal, &rt->at_open);
  if (feeders_new(rt, err, err_size) != 0) return -1;
  warn_orphan_backlogs(rt);
  for (size_t i = 0; i < rt->instance_count; i++)
    if (dray__instance_start(rt->instances[i], err, err_size) != 0) return -1;
  for (size_t i = 0; i < rt->instance_count; i++)
    if (rt->instances[i]->pipeline &&
        dray__pipeline_start(rt->instances[i]->pipeline) != 0) {
      snprintf(err, err_size, "cannot start workers for %s", rt->instances[i]->name);
      return -1;
    }
  if (replay_start(rt, err, err_size) != 0) return -1;
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
 * What is left of journaled messages is delivered after the next start.
 * Returns the number of memory-class messages lost. */
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
  if (rt->replay_thread_running) pthread_join(rt->replay_thread, NULL);
  rt->replay_thread_running = 0;
  /* the feeders stop now; their spools close after the lanes, whose
   * deliveries release records in them */
  for (size_t i = 0; rt->feeders && i < rt->instance_count; i++)
    dray__feeder_stop(rt->feeders[i]);
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
    dray__warn("shutdown deadline reached with %zu messages in flight", pending);
  size_t lost = 0;
  for (size_t i = 0; i < rt->instance_count; i++)
    if (rt->instances[i]->pipeline) lost += dray__pipeline_stop(rt->instances[i]->pipeline);
  for (size_t i = 0; i < rt->instance_count; i++) {
    struct dray_instance *inst = rt->instances[i];
    dray__instance_stop(inst);
    struct dray__pipeline *pl = inst->pipeline;
    dray__instance_destroy(&rt->instances[i]);
    dray__pipeline_destroy(&pl);
  }
  dray__msg_free_pending();
  for (size_t i = 0; rt->feeders && i < rt->instance_count; i++)
    dray__feeder_destroy(&rt->feeders[i]);
  free(rt->feeders);
  rt->feeders = NULL;
  free(rt->instances);
  rt->instances = NULL;
  rt->instance_count = 0;
  dray__route_table_free(&rt->routes);
  if (rt->zctx) zmq_ctx_term(rt->zctx);
  dray__state_close(&rt->store);
  dray__dedupe_destroy(&rt->dedupe);
  dray__spool_close(&rt->journal);
  dray__spool_close(&rt->dlq);
  if (rt->lock_fd > 0) close(rt->lock_fd);
  rt->lock_fd = -1;
  return lost;
}

/* --- operator requests (dray dlq while the site runs) ---------------------- */

static int inject_replay(void *ctx, uint64_t seq, struct dray__journal_record *rec) {
  struct dray__runtime *rt = ctx;
  return redeliver(rt, rt->journal, seq, rec, 0);
}

/* Answers DATA_DIR/requests/ID.req: the output goes to ID.out as it is
 * produced, the exit status to ID.status last. */
static void serve_requests(struct dray__runtime *rt) {
  char dir[4096];
  snprintf(dir, sizeof dir, "%s/requests", rt->site->data_dir);
  DIR *d = opendir(dir);
  if (!d) return;
  struct dirent *e;
  while ((e = readdir(d))) {
    size_t n = strlen(e->d_name);
    if (n < 5 || strcmp(e->d_name + n - 4, ".req") != 0) continue;
    char req[4400], out_path[4400], status_path[4400], tmp[4500], err[512] = "";
    snprintf(req, sizeof req, "%s/%s", dir, e->d_name);
    snprintf(out_path, sizeof out_path, "%s/%.*s.out", dir, (int)(n - 4), e->d_name);
    snprintf(status_path, sizeof status_path, "%s/%.*s.status", dir, (int)(n - 4), e->d_name);
    struct json_object *o = json_object_from_file(req);
    unlink(req);
    struct dray__dlq_op op;
    long done = -1;
    FILE *out = fopen(out_path, "w");
    if (!o || dray__dlq_op_from_json(o, &op) != 0) {
      snprintf(err, sizeof err, "malformed request %s", e->d_name);
    } else if (out) {
      setvbuf(out, NULL, _IOLBF, 0);
      done = dray__dlq_run(rt->dlq, rt->journal, &op, inject_replay, rt, out, out, err,
                           sizeof err);
      dray__info("dlq %s request: %ld dead letters", json_object_get_string(
                     json_object_object_get(o, "action")), done);
    }
    if (out) fclose(out);
    json_object_put(o);
    struct json_object *st = json_object_new_object();
    json_object_object_add(st, "code", json_object_new_int(done < 0 ? 1 : 0));
    json_object_object_add(st, "error", json_object_new_string(err));
    snprintf(tmp, sizeof tmp, "%s.tmp", status_path);
    if (json_object_to_file(tmp, st) == 0) rename(tmp, status_path);
    json_object_put(st);
  }
  closedir(d);
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
  struct dray__route_table *t = build_routes(rt, next);
  if (!t) {
    dray__error("reload: out of memory");
    dray__site_free(&next);
    dray__registry_release(&reg);
    return;
  }
  pthread_rwlock_wrlock(&rt->route_lock);
  struct dray__route_table *old = rt->routes;
  rt->routes = t;
  pthread_rwlock_unlock(&rt->route_lock);
  dray__route_table_free(&old);
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
  rt.lock_fd = -1;
  /* Writers first: the feeder's short write lock (leaving backlog mode)
   * must not starve under a steady stream of accepts. */
  pthread_rwlockattr_t rwa;
  pthread_rwlockattr_init(&rwa);
  pthread_rwlockattr_setkind_np(&rwa, PTHREAD_RWLOCK_PREFER_WRITER_NONRECURSIVE_NP);
  pthread_rwlock_init(&rt.route_lock, &rwa);
  pthread_rwlockattr_destroy(&rwa);

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
  unsigned ticks = 0;
  snprintf(status_path, sizeof status_path, "%s/status.json", rt.site->data_dir);
  dray__status_write(&rt, status_path);
  for (;;) {
    struct timespec tick = {0, 200000000};
    if (++ticks % 5 == 0) dray__status_write(&rt, status_path);
    serve_requests(&rt);
    dray__msg_free_pending(); /* when the sources are quiet */
    int sig = sigtimedwait(&sigs, NULL, &tick);
    if (sig == SIGHUP) {
      runtime_reload(&rt, config_path);
    } else if (sig == SIGTERM || sig == SIGINT) {
      dray__info("signal %d: draining (deadline %u ms)", sig, rt.site->shutdown_timeout_ms);
      break;
    }
  }
out:;
  size_t lost = runtime_close(&rt);
  if (lost) code = 1;
  if (atomic_load(&rt.journal_failed)) {
    dray__error("exiting non-zero: the journal failed; restart to recover from it");
    code = 3;
  }
  dray__info("stopped%s", lost ? " with lost memory-class messages" : "");
  if (dray__log_level() >= DRAY_LOG_INFO) dray__metrics_dump(stderr);
  for (size_t i = 0; i < rt.old_site_count; i++) dray__site_free(&rt.old_sites[i]);
  free(rt.old_sites);
  dray__site_free(&rt.site);
  dray__registry_release(&rt.registry);
  pthread_rwlock_destroy(&rt.route_lock);

  return code;
}
