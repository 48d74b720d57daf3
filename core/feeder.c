/* feeder.c - one destination's backlog on disk (see
 * feeder.h). */
#include "feeder.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

struct dray__feeder {
  dray__spool *spool; /* this destination's backlog */
  const char *dest;
  struct dray__feeder_hooks hooks;
  uint64_t cursor; /* every record below it was fed or is not for us */
  atomic_int backlog;
  atomic_int quit;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  pthread_t thread;
  int running;
  size_t fed, bad;
};

struct dray__feeder *dray__feeder_new(const char *dir, const char *dest,
                                      const struct dray__spool_options *opt, int backlog,
                                      const struct dray__feeder_hooks *hooks, char *err,
                                      size_t err_size) {
  struct dray__feeder *f = calloc(1, sizeof *f);
  if (!f) {
    snprintf(err, err_size, "out of memory");
    return NULL;
  }
  struct dray__spool_options o = *opt;
  o.dir = dir;
  o.name = "backlog";
  f->spool = dray__spool_open(&o, err, err_size);
  if (!f->spool) {
    free(f);
    return NULL;
  }
  struct dray__spool_stats st;
  dray__spool_stats(f->spool, &st);
  f->dest = dest;
  f->hooks = *hooks;
  f->cursor = st.low_water;
  atomic_init(&f->backlog, backlog || st.records > 0);
  atomic_init(&f->quit, 0);
  pthread_mutex_init(&f->mu, NULL);
  pthread_cond_init(&f->cv, NULL);
  return f;
}

int dray__feeder_backlog(struct dray__feeder *f) { return atomic_load(&f->backlog); }

dray__spool *dray__feeder_spool(struct dray__feeder *f) { return f->spool; }

int dray__feeder_append(struct dray__feeder *f, const struct dray__spool_rec *recs, size_t n) {
  return dray__spool_append_many(f->spool, recs, n, NULL);
}

void dray__feeder_announce(struct dray__feeder *f) {
  if (atomic_exchange(&f->backlog, 1)) return;
  pthread_mutex_lock(&f->mu);
  pthread_cond_signal(&f->cv);
  pthread_mutex_unlock(&f->mu);
}

static int halted(struct dray__feeder *f) {
  return atomic_load(&f->quit) || f->hooks.stopping(f->hooks.ctx);
}

static int feed_one(void *ctx, uint64_t seq, const void *data, uint32_t len) {
  struct dray__feeder *f = ctx;
  if (halted(f)) return 1;
  f->cursor = seq + 1;
  struct dray__journal_record rec;
  char why[256];
  if (dray__journal_decode(data, len, &rec, why, sizeof why) != 0) {
    /* CRC-valid but not ours: never silently skipped */
    dray__error("%s: backlog record %llu cannot be read (%s); left in the spool", f->dest,
                (unsigned long long)seq, why);
    f->bad++;
    return 0;
  }
  if (f->hooks.deliver(f->hooks.ctx, f->spool, seq, &rec) == 0) f->fed++;
  dray__journal_record_release(&rec);
  return 0;
}

/* Ends the backlog once every record appended so far has been seen. With
 * accepts excluded no message is between its append and its announce, so
 * nothing can be queued behind the cursor unseen. */
static int try_finish(struct dray__feeder *f) {
  struct dray__spool_stats st;
  int done = 0;
  f->hooks.exclude_accepts(f->hooks.ctx);
  dray__spool_stats(f->spool, &st);
  if (st.next_seq <= f->cursor) {
    atomic_store(&f->backlog, 0);
    done = 1;
  }
  f->hooks.allow_accepts(f->hooks.ctx);
  return done;
}

static void wait_for_work(struct dray__feeder *f, long ns) {
  struct timespec until;
  clock_gettime(CLOCK_REALTIME, &until);
  until.tv_nsec += ns;
  if (until.tv_nsec >= 1000000000) until.tv_sec++, until.tv_nsec -= 1000000000;
  pthread_mutex_lock(&f->mu);
  if (!halted(f)) pthread_cond_timedwait(&f->cv, &f->mu, &until);
  pthread_mutex_unlock(&f->mu);
}

static void *feeder_main(void *arg) {
  struct dray__feeder *f = arg;
  while (!halted(f)) {
    if (!atomic_load(&f->backlog)) {
      wait_for_work(f, 50000000);
      continue;
    }
    size_t fed_before = f->fed;
    struct dray__spool_stats st;
    dray__spool_stats(f->spool, &st);
    if (dray__spool_scan(f->spool, f->cursor, feed_one, f) < 0)
      dray__error("%s: backlog: a record could not be read; see above", f->dest);
    if (halted(f)) break;
    /* released records are not visited: all below the end seen before
     * the scan is done with */
    if (f->cursor < st.next_seq) f->cursor = st.next_seq;
    if (!try_finish(f) && f->fed == fed_before)
      wait_for_work(f, 1000000); /* appends in flight: not durable yet */
  }
  return NULL;
}

int dray__feeder_start(struct dray__feeder *f) {
  if (pthread_create(&f->thread, NULL, feeder_main, f) != 0) return -1;
  f->running = 1;
  return 0;
}

void dray__feeder_stop(struct dray__feeder *f) {
  if (!f) return;
  atomic_store(&f->quit, 1);
  pthread_mutex_lock(&f->mu);
  pthread_cond_signal(&f->cv);
  pthread_mutex_unlock(&f->mu);
  if (f->running) pthread_join(f->thread, NULL);
  f->running = 0;
}

void dray__feeder_destroy(struct dray__feeder **f_p) {
  struct dray__feeder *f = *f_p;
  if (!f) return;
  dray__feeder_stop(f);
  dray__spool_close(&f->spool);
  pthread_mutex_destroy(&f->mu);
  pthread_cond_destroy(&f->cv);
  free(f);
  *f_p = NULL;
}
