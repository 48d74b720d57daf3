/* feeder.h - one destination's backlog on disk.
 *
 * When a destination's lanes are full, a durable message for it is still
 * accepted: it is appended to the destination's own backlog spool
 * (DATA_DIR/backlog/<instance>/, the spool format of spool.h, one journal
 * record per message naming that destination), and the feeder hands the
 * records to the destination in order as its lanes make room. While the
 * backlog is on, every durable message for that destination joins it, so
 * none overtakes an earlier one of its partition. Each destination has its
 * own spool, feeder and release order: a destination that is down holds
 * up neither the others nor the ingress journal's release (a restart does
 * not send the others what they already had). Memory stays bounded by the
 * lanes whatever the backlog's size. */
#ifndef DRAY_CORE_FEEDER_H
#define DRAY_CORE_FEEDER_H

#include <stddef.h>
#include <stdint.h>

#include "journal.h"
#include "spool.h"

struct dray__feeder;

/* Backlog spools smaller than this are opened at once, larger ones by the
 * feeder's thread after the start. */
#define DRAY__FEEDER_OPEN_NOW_BYTES (64ull << 20)

struct dray__feeder_hooks {
  void *ctx;
  /* Hands one record of spool `from` to the destination, waiting for room
   * in its lane unless the runtime stops; the delivery releases it in
   * `from` when finished. 0, or -1 (it stays in the spool). */
  int (*deliver)(void *ctx, dray__spool *from, uint64_t seq, struct dray__journal_record *rec);
  /* Excludes every accept (the runtime's route lock for writing): no
   * message is then between its append and its announce. */
  void (*exclude_accepts)(void *ctx);
  void (*allow_accepts)(void *ctx);
  int (*stopping)(void *ctx);
};

/* A feeder for destination `dest` (borrowed name) whose backlog spool is
 * in `dir`, with `opt` (dir and name are set here). Its thread opens (and
 * recovers) the spool, so a large backlog does not delay the start; until
 * then dray__feeder_append answers -EBUSY. The backlog starts on unless the
 * spool is open and empty and there is no start-up replay to wait for
 * (`behind_replay`), and stays on until the spool is open, the replay done
 * (dray__feeder_go) and nothing is queued, so new messages queue behind
 * what is there. NULL with the reason in err. */
struct dray__feeder *dray__feeder_new(const char *dir, const char *dest,
                                      const struct dray__spool_options *opt, int behind_replay,
                                      const struct dray__feeder_hooks *hooks, char *err,
                                      size_t err_size);
/* Starts its thread: it opens the spool, then waits for dray__feeder_go
 * (after the start-up replay) to feed. 0 or -1. */
int dray__feeder_start(struct dray__feeder *f);
void dray__feeder_go(struct dray__feeder *f);
/* Nonzero while a backlog waits: new durable messages must queue. */
int dray__feeder_backlog(struct dray__feeder *f);
/* Appends records (journal records naming this destination) durably,
 * as dray__spool_append_many; -EBUSY while the spool is being opened. */
int dray__feeder_append(struct dray__feeder *f, const struct dray__spool_rec *recs, size_t n);
/* A record was appended: the backlog is on. Call it before the accept
 * lock is released. */
void dray__feeder_announce(struct dray__feeder *f);
/* The backlog spool once open (NULL before), for status. */
dray__spool *dray__feeder_spool(struct dray__feeder *f);
/* Stops and joins the thread; what is still queued stays on disk. */
void dray__feeder_stop(struct dray__feeder *f);
/* Stops, closes the spool and frees. */
void dray__feeder_destroy(struct dray__feeder **f_p);

#endif
