/* pipeline.h - one destination's delivery pipeline: N lanes, each a
 * ZeroMQ inproc PUSH/PULL pair with one worker thread that calls the
 * plugin's process() and handles the result.
 *
 * Messages with the same partitionkey always take the same lane, so they
 * reach the destination in the order they were accepted. A lane holds at
 * most `capacity` messages (its high-water mark); admission is decided
 * before anything is sent, so a fan-out is admitted to all its
 * destinations or to none, and a full lane turns into backpressure at the
 * source (emit returns DRAY_RETRY), never into a drop. */
#ifndef DRAY_CORE_PIPELINE_H
#define DRAY_CORE_PIPELINE_H

#include <stddef.h>
#include <stdint.h>

#include <dray/dray.h>

#include "breaker.h"
#include "retry.h"

struct dray__pipeline;
struct dray_instance;

/* Binds the lanes' PULL sockets and connects their PUSH sockets. Caller
 * owns; NULL with the reason in err. */
struct dray__pipeline *dray__pipeline_new(void *zctx,
                                          struct dray_instance *dest,
                                          unsigned lanes, unsigned capacity,
                                          const struct dray__retry_policy *retry,
                                          const struct dray__breaker_policy *breaker,
                                          char *err, size_t err_size);
/* Starts the worker threads. 0 or -1. */
int dray__pipeline_start(struct dray__pipeline *pl);
/* The lane a message goes to (hash of partitionkey, else of id). */
unsigned dray__pipeline_lane_for(const struct dray__pipeline *pl,
                                 const dray_msg *msg);
/* Admission: takes one slot on a lane; -1 when the lane is full. */
int dray__pipeline_reserve(struct dray__pipeline *pl, unsigned lane);
void dray__pipeline_unreserve(struct dray__pipeline *pl, unsigned lane);
/* The destination's breaker (for status and metrics). */
struct dray__breaker *dray__pipeline_breaker(struct dray__pipeline *pl);
/* Sends one reference of msg on a reserved lane; the pipeline owns it. */
void dray__pipeline_push(struct dray__pipeline *pl, unsigned lane,
                         dray_msg *msg);
/* Messages accepted and not yet finished, over all lanes. */
size_t dray__pipeline_inflight(const struct dray__pipeline *pl);
/* Asks the workers to finish: they stop after the message at hand (a
 * message waiting for a retry is abandoned and logged). Joins them and
 * logs every message left undelivered. */
void dray__pipeline_stop(struct dray__pipeline *pl);
void dray__pipeline_destroy(struct dray__pipeline **pl_p);

#endif
