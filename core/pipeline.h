/* pipeline.h - one destination's delivery pipeline: N lanes, each a
 * ZeroMQ inproc PUSH/PULL pair with one worker thread that calls the
 * plugin's process() and handles the result: retries with backoff, the
 * circuit breaker, the idempotency ledger of financial destinations, and
 * dead letters.
 *
 * Messages with the same partitionkey always take the same lane, so they
 * reach the destination in the order they were accepted. A lane holds at
 * most `capacity` messages (its high-water mark); admission is decided
 * before anything is sent, so a fan-out is admitted to all its
 * destinations or to none, and a full lane turns into backpressure at the
 * source (emit returns DRAY_RETRY), never into a drop. */
#ifndef DRAY_CORE_PIPELINE_H
#define DRAY_CORE_PIPELINE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <dray/dray.h>

#include "breaker.h"
#include "dlq.h"
#include "retry.h"

struct dray__pipeline;
struct dray_instance;

/* One accepted message on its way to its destinations; fan-out shares
 * it. `seq` is its journal record (0: memory class, not journaled). When
 * the last destination is finished with it (delivered or dead-lettered),
 * `finished` runs: the runtime releases the journal record. */
struct dray__spool;

struct dray__delivery {
  dray_msg *msg;
  uint64_t seq;
  struct dray__spool *spool; /* holds record seq: the ingress journal, or ... */
  int backlog;               /* ... 1: the destination's backlog spool */
  int replayed; /* from the journal after a restart: retry state may exist */
  atomic_int remaining;
  atomic_int abandoned; /* a destination never finished: keep the record */
  void (*finished)(struct dray__delivery *d, void *ctx);
  void *ctx;
};

/* Called by a worker for each destination that is done with d. */
void dray__delivery_done(struct dray__delivery *d);
/* For a destination that will never get d (shutdown during a replay): the
 * journal record is kept for the next start. */
void dray__delivery_done_abandoned(struct dray__delivery *d);

/* What the pipeline needs from the runtime. */
struct dray__pipeline_hooks {
  void *ctx;
  /* Writes a dead letter durably; 0, or -1 (the worker keeps the message
   * and tries again later: nothing is released before it is stored). */
  int (*dead_letter)(void *ctx, struct dray_instance *dest, const dray_msg *msg,
                     const struct dray__dlq_context *context);
};

/* Binds the lanes' PULL sockets and connects their PUSH sockets. Caller
 * owns; NULL with the reason in err. */
struct dray__pipeline *dray__pipeline_new(void *zctx, struct dray_instance *dest,
                                          unsigned lanes, unsigned capacity,
                                          const struct dray__retry_policy *retry,
                                          const struct dray__breaker_policy *breaker,
                                          const struct dray__pipeline_hooks *hooks,
                                          char *err, size_t err_size);
/* Starts the worker threads. 0 or -1. */
int dray__pipeline_start(struct dray__pipeline *pl);
/* The lane a message goes to (hash of partitionkey, else of id). */
unsigned dray__pipeline_lane_for(const struct dray__pipeline *pl, const dray_msg *msg);
/* Admission: takes one slot on a lane; -1 when the lane is full. */
int dray__pipeline_reserve(struct dray__pipeline *pl, unsigned lane);
/* Takes a slot even above capacity (journal replay at start-up). */
void dray__pipeline_reserve_force(struct dray__pipeline *pl, unsigned lane);
void dray__pipeline_unreserve(struct dray__pipeline *pl, unsigned lane);
/* Sends d on a reserved lane; the destination calls dray__delivery_done
 * once. */
void dray__pipeline_push(struct dray__pipeline *pl, unsigned lane, struct dray__delivery *d);
/* The same for n deliveries, in order, each with its reserved slot; sent
 * in bundles of at most DRAY__LANE_BUNDLE (one worker wake-up each). */
#define DRAY__LANE_BUNDLE 256
void dray__pipeline_push_many(struct dray__pipeline *pl, unsigned lane,
                              struct dray__delivery *const *ds, size_t n);
/* Messages accepted and not yet finished, over all lanes. */
size_t dray__pipeline_inflight(const struct dray__pipeline *pl);
/* The destination's breaker (status and metrics). */
struct dray__breaker *dray__pipeline_breaker(struct dray__pipeline *pl);
/* Asks the workers to finish: they stop after the message at hand (one
 * waiting for a retry is left). Joins them. Messages left are logged: a
 * journaled one is delivered again after the next start, a memory-class
 * one is lost (and counted). Returns the number of memory-class messages
 * lost. */
size_t dray__pipeline_stop(struct dray__pipeline *pl);
void dray__pipeline_destroy(struct dray__pipeline **pl_p);

#endif
