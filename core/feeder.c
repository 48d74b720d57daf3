/* feeder.c - one destination's backlog on disk (see
 * feeder.h). */
#include "feeder.h"

#include <dirent.h>
#include <errno.h>
#include <sys/stat.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "log.h"

struct dray__feeder {
  dray__spool *spool; /* this destination's backlog, once `ready` */
  atomic_int ready;   /* 1: spool open (set by the thread, after spool) */
  atomic_int go;      /* the start-up replay is done: feed */
  struct dray__spool_options opt;
  char *dir;
  const char *dest;
  struct dray__feeder_hooks hooks;
  uint64_t cursor; /* every record below it was fed or is not for us */
  atomic_int backlog;
  atomic_int quit;
  pthread_mutex_t mu;
  pthread_cond_t cv;
  pthread_t thread;
  int running;
  size_t fed; /* records handed over (whether a scan made progress) */
};

static int open_spool(struct dray__feeder *f, char *err, size_t err_size);
static uint64_t spool_bytes(const char *dir);

struct dray__feeder *dray__feeder_new(const char *dir, const char *dest,
                                      const struct dray__spool_options *opt, int behind_replay,
                                      const struct dray__feeder_hooks *hooks, char *err,
                                      size_t err_size) {
  struct dray__feeder *f = calloc(1, sizeof *f);
  if (!f) {
    snprintf(err, err_size, "out of memory");
    return NULL;
  }
  f->dir = strdup(dir);
  if (!f->dir) {
    free(f);
    snprintf(err, err_size, "out of memory");
    return NULL;
  }
  f->opt = *opt;
  f->opt.dir = f->dir;
  f->opt.name = "backlog";
  f->dest = dest;
  f->hooks = *hooks;
  /* on until the spool is open, the replay done and nothing queued */
  atomic_init(&f->backlog, 1);
  atomic_init(&f->ready, 0);
  atomic_init(&f->go, 0);
  atomic_init(&f->quit, 0);
  pthread_mutex_init(&f->mu, NULL);
  pthread_cond_init(&f->cv, NULL);
  /* A small backlog (the usual case) is opened now, so sources never wait
   * for it and a damaged one stops the start with its reason; a large one
   * is recovered by the feeder's thread while the runtime already runs. */
  if (spool_bytes(dir) < DRAY__FEEDER_OPEN_NOW_BYTES && open_spool(f, err, err_size) != 0) {
    pthread_mutex_destroy(&f->mu);
    pthread_cond_destroy(&f->cv);
    free(f->dir);
    free(f);
    return NULL;
  }
  if (atomic_load(&f->ready) && !behind_replay) {
    struct dray__spool_stats st;
    dray__spool_stats(f->spool, &st);
    atomic_store(&f->backlog, st.records > 0);
  }
  return f;
}

int dray__feeder_backlog(struct dray__feeder *f) { return atomic_load(&f->backlog); }

dray__spool *dray__feeder_spool(struct dray__feeder *f) {
  return atomic_load(&f->ready) ? f->spool : NULL;
}

int dray__feeder_append(struct dray__feeder *f, const struct dray__spool_rec *recs, size_t n) {
  if (!atomic_load(&f->ready)) return -EBUSY;
  return dray__spool_append_many(f->spool, recs, n, NULL);
}

void dray__feeder_go(struct dray__feeder *f) {
  atomic_store(&f->go, 1);
  pthread_mutex_lock(&f->mu);
  pthread_cond_signal(&f->cv);
  pthread_mutex_unlock(&f->mu);
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

/* Opens (recovers) the spool. 0, or -1 with the reason in err. */
static int open_spool(struct dray__feeder *f, char *err, size_t err_size) {
  dray__spool *sp = dray__spool_open(&f->opt, err, err_size);
  if (!sp) return -1;
  struct dray__spool_stats st;
  dray__spool_stats(sp, &st);
  f->spool = sp;
  f->cursor = st.low_water;
  atomic_store(&f->ready, 1);
  if (st.records)
    dray__info("%s: backlog of %llu messages on disk to deliver", f->dest,
               (unsigned long long)st.records);
  return 0;
}

/* Bytes of segment files in dir (0 if it does not exist). */
static uint64_t spool_bytes(const char *dir) {
  uint64_t total = 0;
  DIR *d = opendir(dir);
  if (!d) return 0;
  struct dirent *e;
  char path[4400];
  struct stat st;
  while ((e = readdir(d))) {
    size_t n = strlen(e->d_name);
    if (n < 4 || strcmp(e->d_name + n - 4, ".seg") != 0) continue;
    snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
    if (stat(path, &st) == 0) total += (uint64_t)st.st_size;
  }
  closedir(d);
  return total;
}

static void *feeder_main(void *arg) {
  struct dray__feeder *f = arg;
  char err[512];
  if (!atomic_load(&f->ready) && open_spool(f, err, sizeof err) != 0) {
    dray__error("%s: its backlog cannot be opened (%s): durable messages for it get "
                "backpressure until a restart",
                f->dest, err);
    return NULL;
  }
  while (!halted(f) && !atomic_load(&f->go)) wait_for_work(f, 50000000);
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
  if (f->spool) dray__spool_close(&f->spool);
  free(f->dir);
  pthread_mutex_destroy(&f->mu);
  pthread_cond_destroy(&f->cv);
  free(f);
  *f_p = NULL;
}
