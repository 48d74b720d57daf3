/* Durable spool benchmark: 1 KiB records, measured in one run on the same disk:
 *   (a) the raw group-commit rate: 256 x 1 KiB in one pwrite, then fdatasync, preallocated file;
 *   (b) dray__spool_append (durable) with 1, 4, 16 and 64 appender threads: msgs/s, ack p50/p99,
 *       and dray__spool_append_many with 256 records per call from 1 and 4 threads;
 *   (c) the memory class (durable = 0) with 1 and 4 threads;
 *   (d) restart-to-ready with a 1 GiB backlog (BENCH_RECOVERY_MIB, 0 to skip).
 * Usage: bench_journal [dir] [seconds per case] [group_max_delay_us]
 *        (defaults: ./bench-journal.tmp, 3 s, the spool default)
 * Prints one line per case and the ratio of each durable case to the raw rate; the last line
 * lines "raw=", "spool16=", "spool64=", "batch1=", "mem1=" are read by run.sh for the ratios. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "spool.h"

#define REC 1024

static uint32_t group_delay_us; /* 0: the spool's default */

static double now_s(void) {
  struct timespec t;
  clock_gettime(CLOCK_MONOTONIC, &t);
  return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void rm_dir_files(const char *dir) {
  char cmd[1200];
  snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
  if (system(cmd) != 0)
    fprintf(stderr, "cannot clean %s\n", dir);
}

/* (a) raw group commit */
static double raw_rate(const char *dir, double seconds) {
  char path[1024];
  snprintf(path, sizeof path, "%s/raw.dat", dir);
  int fd = open(path, O_RDWR | O_CREAT | O_TRUNC, 0644);
  if (fd < 0) {
    perror(path);
    exit(1);
  }
  const size_t group = 256 * REC;
  const off_t prealloc = 512ll << 20;
  if (posix_fallocate(fd, 0, prealloc) != 0)
    fprintf(stderr, "warning: fallocate failed\n");
  fsync(fd);
  unsigned char *buf = malloc(group);
  memset(buf, 'r', group);
  off_t off = 0;
  long msgs = 0;
  double t0 = now_s(), t;
  do {
    if (pwrite(fd, buf, group, off) != (ssize_t)group || fdatasync(fd) != 0) {
      perror("raw write");
      exit(1);
    }
    off += (off_t)group;
    if (off + (off_t)group > prealloc)
      off = 0;
    msgs += 256;
    t = now_s();
  } while (t - t0 < seconds);
  close(fd);
  unlink(path);
  free(buf);
  return (double)msgs / (t - t0);
}

struct worker {
  dray__spool *s;
  int batch; /* > 1: dray__spool_append_many with this many records per call */
  double deadline;
  long n;
  double *lat;
  long cap;
  int failed;
};

static void *append_main(void *arg) {
  struct worker *w = arg;
  if (w->batch > 1) {
    struct dray__spool_rec recs[256];
    uint64_t seqs[256];
    unsigned char *buf = malloc((size_t)w->batch * REC);
    memset(buf, 'b', (size_t)w->batch * REC);
    for (int i = 0; i < w->batch; i++)
      recs[i] = (struct dray__spool_rec){buf + (size_t)i * REC, REC};
    for (;;) {
      double t0 = now_s();
      if (t0 >= w->deadline)
        break;
      int rc = dray__spool_append_many(w->s, recs, (size_t)w->batch, seqs);
      double t1 = now_s();
      if (rc != 0) {
        w->failed = rc;
        break;
      }
      for (int i = 0; i < w->batch; i++)
        dray__spool_release(w->s, seqs[i]);
      if (w->n + w->batch > w->cap) {
        w->cap = w->cap ? w->cap * 2 : 65536;
        w->lat = realloc(w->lat, (size_t)w->cap * sizeof *w->lat);
      }
      for (int i = 0; i < w->batch; i++) /* every record of the call waited this long */
        w->lat[w->n++] = t1 - t0;
    }
    free(buf);
    return NULL;
  }
  unsigned char rec[REC];
  memset(rec, 'm', sizeof rec);
  for (;;) {
    double t0 = now_s();
    if (t0 >= w->deadline)
      break;
    memcpy(rec, &w->n, sizeof w->n);
    uint64_t seq;
    int rc = dray__spool_append(w->s, rec, REC, &seq);
    double t1 = now_s();
    if (rc != 0) {
      w->failed = rc;
      break;
    }
    /* Release at once: the benchmark measures the append path, not a growing backlog. */
    dray__spool_release(w->s, seq);
    if (w->n == w->cap) {
      w->cap = w->cap ? w->cap * 2 : 65536;
      w->lat = realloc(w->lat, (size_t)w->cap * sizeof *w->lat);
    }
    w->lat[w->n++] = t1 - t0;
  }
  return NULL;
}

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a, y = *(const double *)b;
  return x < y ? -1 : x > y;
}

struct result {
  double rate, p50_us, p99_us;
};

static struct result spool_rate(const char *dir, int threads, int durable, double seconds, int batch) {
  char sub[1024];
  snprintf(sub, sizeof sub, "%s/spool-%d-%d", dir, threads, durable);
  rm_dir_files(sub);
  struct dray__spool_options o = {.dir = sub, .name = "journal", .durable = durable,
                                  .group_max_delay_us = group_delay_us};
  char err[512];
  dray__spool *s = dray__spool_open(&o, err, sizeof err);
  if (!s) {
    fprintf(stderr, "spool open: %s\n", err);
    exit(1);
  }
  struct worker w[64];
  pthread_t th[64];
  double t0 = now_s();
  for (int i = 0; i < threads; i++) {
    w[i] = (struct worker){.s = s, .deadline = t0 + seconds, .batch = batch};
    pthread_create(&th[i], NULL, append_main, &w[i]);
  }
  long total = 0;
  for (int i = 0; i < threads; i++) {
    pthread_join(th[i], NULL);
    total += w[i].n;
    if (w[i].failed)
      fprintf(stderr, "append failed: %s\n", strerror(-w[i].failed));
  }
  double t1 = now_s();
  double *all = malloc((size_t)(total ? total : 1) * sizeof *all);
  long k = 0;
  for (int i = 0; i < threads; i++) {
    memcpy(all + k, w[i].lat, (size_t)w[i].n * sizeof *all);
    k += w[i].n;
    free(w[i].lat);
  }
  qsort(all, (size_t)total, sizeof *all, cmp_double);
  struct result r = {.rate = (double)total / (t1 - t0)};
  if (total) {
    r.p50_us = all[total / 2] * 1e6;
    r.p99_us = all[(long)((double)total * 0.99)] * 1e6;
  }
  free(all);
  dray__spool_close(&s);
  rm_dir_files(sub);
  return r;
}

static int count_cb(void *ctx, uint64_t seq, const void *data, uint32_t len) {
  (void)seq, (void)data, (void)len;
  ++*(long *)ctx;
  return 0;
}

/* (d) restart-to-ready: fill a spool with `mib` MiB of unreleased 1 KiB records, close it, and
 * time the reopen (recovery reads and CRC-checks every record) and a full replay scan. The files
 * were just written, so they are read from the page cache: this measures the CPU side. */
static void recovery_time(const char *dir, long mib) {
  char sub[1024];
  snprintf(sub, sizeof sub, "%s/recovery", dir);
  rm_dir_files(sub);
  struct dray__spool_options o = {.dir = sub, .name = "journal", .durable = 0};
  char err[512];
  dray__spool *s = dray__spool_open(&o, err, sizeof err);
  if (!s) {
    fprintf(stderr, "spool open: %s\n", err);
    exit(1);
  }
  unsigned char rec[REC];
  memset(rec, 'j', sizeof rec);
  long n = mib * 1024 * 1024 / (REC + 32);
  for (long i = 0; i < n; i++) {
    memcpy(rec, &i, sizeof i);
    if (dray__spool_append(s, rec, REC, NULL) != 0) {
      fprintf(stderr, "fill failed\n");
      exit(1);
    }
  }
  dray__spool_close(&s);
  o.durable = 1;
  double t0 = now_s();
  s = dray__spool_open(&o, err, sizeof err);
  double t1 = now_s();
  if (!s) {
    fprintf(stderr, "reopen: %s\n", err);
    exit(1);
  }
  long seen = 0;
  dray__spool_scan(s, 0, count_cb, &seen);
  double t2 = now_s();
  printf("(d) restart with %ld MiB (%ld records) unreleased: open+recovery %.2f s, replay scan %.2f s "
         "(page cache warm)\n", mib, seen, t1 - t0, t2 - t1);
  dray__spool_close(&s);
  rm_dir_files(sub);
}

int main(int argc, char **argv) {
  const char *dir = argc > 1 ? argv[1] : "./bench-journal.tmp";
  double secs = argc > 2 ? atof(argv[2]) : 3.0;
  if (argc > 3)
    group_delay_us = (uint32_t)atoi(argv[3]); /* e.g. 1 to (almost) disable lingering */
  mkdir(dir, 0755);
  printf("durable spool benchmark: 1 KiB records, %.1f s per case, dir %s\n", secs, dir);
  /* The disk is shared and its speed drifts: raw is measured before and after the spool cases,
   * and the ratios use the mean. */
  double raw_before = raw_rate(dir, secs);
  double raw = raw_before;
  printf("(a) raw group commit (256 x 1 KiB pwrite + fdatasync, preallocated): %10.0f msgs/s\n",
         raw_before);
  int tcounts[] = {1, 4, 16, 64};
  double spool16 = 0, spool64 = 0, mem1 = 0;
  for (size_t i = 0; i < sizeof tcounts / sizeof tcounts[0]; i++) {
    struct result r = spool_rate(dir, tcounts[i], 1, secs, 1);
    printf("(b) spool durable, %2d appender threads: %10.0f msgs/s  ack p50 %7.0f us  p99 %7.0f us  "
           "= %5.1f%% of raw(1st)\n",
           tcounts[i], r.rate, r.p50_us, r.p99_us, 100.0 * r.rate / raw);
    if (tcounts[i] == 16)
      spool16 = r.rate;
    if (tcounts[i] == 64)
      spool64 = r.rate;
    fflush(stdout);
  }
  double batch1 = 0;
  int bcounts[] = {1, 4};
  for (size_t i = 0; i < sizeof bcounts / sizeof bcounts[0]; i++) {
    struct result r = spool_rate(dir, bcounts[i], 1, secs, 256);
    printf("(b) spool durable, %d thread(s) x append_many(256): %10.0f msgs/s  ack p50 %7.0f us  "
           "p99 %7.0f us  = %5.1f%% of raw(1st)\n",
           bcounts[i], r.rate, r.p50_us, r.p99_us, 100.0 * r.rate / raw);
    if (bcounts[i] == 1)
      batch1 = r.rate;
    fflush(stdout);
  }
  double raw_after = raw_rate(dir, secs);
  raw = (raw_before + raw_after) / 2;
  printf("(a) raw group commit again: %10.0f msgs/s; mean %.0f msgs/s is the reference for ratios\n",
         raw_after, raw);
  int mcounts[] = {1, 4};
  for (size_t i = 0; i < sizeof mcounts / sizeof mcounts[0]; i++) {
    struct result r = spool_rate(dir, mcounts[i], 0, secs, 1);
    printf("(c) spool memory class, %d thread(s):    %10.0f msgs/s  ack p50 %7.1f us  p99 %7.1f us\n",
           mcounts[i], r.rate, r.p50_us, r.p99_us);
    if (mcounts[i] == 1)
      mem1 = r.rate;
    fflush(stdout);
  }
  long mib = getenv("BENCH_RECOVERY_MIB") ? atol(getenv("BENCH_RECOVERY_MIB")) : 1024;
  if (mib > 0)
    recovery_time(dir, mib);
  printf("raw=%.0f\nspool16=%.0f\nspool64=%.0f\nbatch1=%.0f\nmem1=%.0f\n", raw, spool16, spool64,
         batch1, mem1);
  rmdir(dir);
  return 0;
}
