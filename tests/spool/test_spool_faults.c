/* Durable spool under injected I/O faults (tests/spool/faulty_io.c): fsync EIO, ENOSPC, short
 * writes, power loss, and group commit across threads. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <pthread.h>
#include <time.h>

#include "faulty_io.h"
#include "spool_test_util.h"

#define SPAN 400

static dray__spool *open_with(const char *dir, const struct dray__io *io, uint64_t seg_bytes) {
  struct dray__spool_options o = {.dir = dir, .name = "journal", .segment_bytes = seg_bytes,
                                  .durable = 1, .io = io, .on_event = quiet_events};
  char err[512] = "";
  dray__spool *s = dray__spool_open(&o, err, sizeof err);
  if (!s)
    print_error("open failed: %s\n", err);
  return s;
}

static void scan_into(dray__spool *s, struct collected *c) {
  memset(c, 0, sizeof *c);
  c->span = SPAN;
  assert_int_equal(dray__spool_scan(s, 0, collect_cb, c), 0);
}

static void test_fdatasync_eio_fails_the_spool_and_is_never_retried(void **state) {
  (void)state;
  char *dir = make_tmpdir();
  struct faulty_io fio;
  faulty_io_init(&fio, dir);
  dray__spool *s = open_with(dir, &fio.io, 0);
  assert_non_null(s);
  uint64_t acked[10];
  for (int i = 0; i < 10; i++)
    assert_int_equal(append_id(s, (uint64_t)i, SPAN, &acked[i]), 0);
  fio.fdatasync_errno = EIO;
  fio.fdatasync_fail_after = fio.n_fdatasync; /* the very next sync fails */
  assert_int_equal(append_id(s, 100, SPAN, NULL), -EIO);
  /* Failed for good: later appends fail without touching the disk, even once the disk is fine. */
  fio.fdatasync_errno = 0;
  for (int i = 0; i < 5; i++)
    assert_int_equal(append_id(s, 101, SPAN, NULL), -EIO);
  struct dray__spool_stats st;
  dray__spool_stats(s, &st);
  assert_int_equal(st.failed, -EIO);
  assert_int_equal(dray__spool_release(s, acked[0]), 0);
  dray__spool_close(&s); /* no checkpoint write, no sync after the failure */
  assert_int_equal(fio.n_syncs_after_failure, 0);
  /* Restart recovers the durable state: every acknowledged record. */
  s = open_with(dir, NULL, 0);
  assert_non_null(s);
  struct collected c;
  scan_into(s, &c);
  assert_int_equal(c.bad, 0);
  for (int i = 0; i < 10; i++) {
    long k = collected_find(&c, acked[i]);
    assert_true(k >= 0);
    assert_int_equal(c.id[k], (uint64_t)i);
  }
  collected_free(&c);
  dray__spool_close(&s);
  faulty_io_free(&fio);
  rm_rf(dir);
  free(dir);
}

static void test_enospc_on_write_fails_the_append_and_the_spool(void **state) {
  (void)state;
  char *dir = make_tmpdir();
  struct faulty_io fio;
  faulty_io_init(&fio, dir);
  dray__spool *s = open_with(dir, &fio.io, 0);
  assert_int_equal(append_id(s, 1, SPAN, NULL), 0);
  fio.pwrite_errno = ENOSPC;
  fio.pwrite_fail_after = fio.n_pwrite;
  assert_int_equal(append_id(s, 2, SPAN, NULL), -ENOSPC);
  fio.pwrite_errno = 0;
  assert_int_equal(append_id(s, 3, SPAN, NULL), -ENOSPC);
  dray__spool_close(&s);
  s = open_with(dir, NULL, 0);
  struct dray__spool_stats st;
  dray__spool_stats(s, &st);
  assert_int_equal(st.records, 1);
  dray__spool_close(&s);
  faulty_io_free(&fio);
  rm_rf(dir);
  free(dir);
}

/* Running out of space when the next segment is preallocated happens before any record of the
 * group is written: that is backpressure, not a failure, and appends resume when space returns. */
static void test_enospc_when_preallocating_a_segment_is_backpressure_then_resumes(void **state) {
  (void)state;
  char *dir = make_tmpdir();
  struct faulty_io fio;
  faulty_io_init(&fio, dir);
  dray__spool *s = open_with(dir, &fio.io, 4096);
  uint64_t last = 0, seq;
  int i = 0;
  fio.fallocate_errno = ENOSPC;
  fio.fallocate_fail_after = 2; /* the first two segments get their space, the third does not */
  int rc;
  while ((rc = append_id(s, (uint64_t)i, SPAN, &seq)) == 0) {
    assert_true(seq == last + 1);
    last = seq;
    i++;
    assert_true(i < 1000);
  }
  assert_int_equal(rc, -EAGAIN);
  struct dray__spool_stats st;
  dray__spool_stats(s, &st);
  assert_int_equal(st.failed, 0);
  assert_int_equal(count_files(dir, ".seg"), 2); /* the half-made third file was removed */
  fio.fallocate_errno = 0;
  assert_int_equal(append_id(s, 5000, SPAN, &seq), 0);
  assert_int_equal(seq, last + 1); /* no seq was burnt by the refused append */
  dray__spool_close(&s);
  s = open_with(dir, NULL, 4096);
  struct collected c;
  scan_into(s, &c);
  assert_int_equal(c.n, (size_t)i + 1);
  assert_int_equal(c.bad, 0);
  assert_int_equal(c.id[i], 5000);
  collected_free(&c);
  dray__spool_close(&s);
  faulty_io_free(&fio);
  rm_rf(dir);
  free(dir);
}

static void test_short_writes_are_completed_and_records_read_back_intact(void **state) {
  (void)state;
  char *dir = make_tmpdir();
  struct faulty_io fio;
  faulty_io_init(&fio, dir);
  fio.short_write_max = 7;
  dray__spool *s = open_with(dir, &fio.io, 8192);
  for (int i = 0; i < 60; i++)
    assert_int_equal(append_id(s, (uint64_t)i, SPAN, NULL), 0);
  assert_true(fio.n_short > 60);
  dray__spool_close(&s);
  s = open_with(dir, NULL, 8192);
  struct collected c;
  scan_into(s, &c);
  assert_int_equal(c.n, 60);
  assert_int_equal(c.bad, 0);
  for (int i = 0; i < 60; i++)
    assert_int_equal(c.id[i], (uint64_t)i);
  collected_free(&c);
  dray__spool_close(&s);
  faulty_io_free(&fio);
  rm_rf(dir);
  free(dir);
}

/* ---- concurrent appenders ---- */

struct appender {
  dray__spool *s;
  struct faulty_io *fio;
  uint64_t first_id;
  int count;
  uint64_t *seqs;     /* acked seq per message, 0 if not acked */
  int acked;
  int not_durable_at_ack; /* acks whose record bytes were not in any synced image */
  int *stop; /* read and written with __atomic builtins */
};

static void *append_loop(void *arg) {
  struct appender *a = arg;
  for (int i = 0; i < a->count && !__atomic_load_n(a->stop, __ATOMIC_RELAXED); i++) {
    uint64_t id = a->first_id + (uint64_t)i, seq;
    uint32_t len = payload_len(id, SPAN);
    unsigned char *b = malloc(len);
    payload_fill(id, b, len);
    int rc = dray__spool_append(a->s, b, len, &seq);
    if (rc == 0) {
      a->seqs[i] = seq;
      a->acked++;
      /* The record's payload must already be in a synced file image when we are acked. */
      if (a->fio && !faulty_io_durable_contains(a->fio, b, len))
        a->not_durable_at_ack++;
    }
    free(b);
    if (rc != 0)
      break;
  }
  return NULL;
}

static void test_four_concurrent_appenders_are_acked_only_after_their_group_is_synced(void **state) {
  (void)state;
  char *dir = make_tmpdir();
  struct faulty_io fio;
  faulty_io_init(&fio, dir);
  dray__spool *s = open_with(dir, &fio.io, 32768);
  enum { T = 4, N = 250 };
  struct appender a[T];
  pthread_t th[T];
  int stop = 0;
  for (int t = 0; t < T; t++) {
    a[t] = (struct appender){.s = s, .fio = &fio, .first_id = (uint64_t)t * 100000, .count = N,
                             .seqs = calloc(N, sizeof(uint64_t)), .stop = &stop};
    pthread_create(&th[t], NULL, append_loop, &a[t]);
  }
  for (int t = 0; t < T; t++)
    pthread_join(th[t], NULL);
  long syncs = fio.n_fdatasync;
  dray__spool_close(&s);
  s = open_with(dir, NULL, 32768);
  struct collected c;
  scan_into(s, &c);
  assert_int_equal(c.n, T * N);
  assert_int_equal(c.bad, 0);
  for (size_t k = 0; k < c.n; k++)
    assert_int_equal(c.seq[k], k + 1); /* dense, no seq handed out twice */
  for (int t = 0; t < T; t++) {
    assert_int_equal(a[t].acked, N);
    assert_int_equal(a[t].not_durable_at_ack, 0);
    for (int i = 0; i < N; i++) {
      long k = collected_find(&c, a[t].seqs[i]);
      assert_true(k >= 0);
      assert_int_equal(c.id[k], a[t].first_id + (uint64_t)i);
    }
    free(a[t].seqs);
  }
  /* Group commit shared syncs between appenders. */
  print_message("      %d appends, %ld fdatasyncs\n", T * N, syncs);
  assert_true(syncs < T * N);
  collected_free(&c);
  dray__spool_close(&s);
  faulty_io_free(&fio);
  rm_rf(dir);
  free(dir);
}

/* ---- power loss ---- */

static void test_power_loss_at_random_moments_keeps_every_acknowledged_record(void **state) {
  (void)state;
  char *dir = make_tmpdir();
  unsigned seed = 4242;
  int cycles = 30;
  uint64_t next_id = 1;
  /* Everything acked in any cycle and not released must be there after every later cut. */
  size_t ob_cap = 1 << 16, ob_n = 0;
  uint64_t *ob_seq = malloc(ob_cap * sizeof *ob_seq), *ob_id = malloc(ob_cap * sizeof *ob_id);
  long total_tail_saved = 0;
  for (int cycle = 0; cycle < cycles; cycle++) {
    struct faulty_io fio;
    faulty_io_init(&fio, dir);
    dray__spool *s = open_with(dir, &fio.io, 16384);
    assert_non_null(s);
    /* Replay check against the obligations of earlier cycles. */
    struct collected c;
    scan_into(s, &c);
    assert_int_equal(c.bad, 0);
    for (size_t k = 0; k < ob_n; k++) {
      long at = collected_find(&c, ob_seq[k]);
      if (at < 0)
        fail_msg("cycle %d: acknowledged seq %llu lost", cycle, (unsigned long long)ob_seq[k]);
      assert_int_equal(c.id[at], ob_id[k]);
    }
    /* Consume half of what is there (release), keep the rest as obligations. */
    size_t keep = 0;
    for (size_t k = 0; k < ob_n; k++) {
      if (rand_r(&seed) % 2) {
        assert_int_equal(dray__spool_release(s, ob_seq[k]), 0);
      } else {
        ob_seq[keep] = ob_seq[k];
        ob_id[keep] = ob_id[k];
        keep++;
      }
    }
    ob_n = keep;
    collected_free(&c);
    enum { T = 3, N = 400 };
    struct appender a[T];
    pthread_t th[T];
    int stop = 0;
    for (int t = 0; t < T; t++) {
      a[t] = (struct appender){.s = s, .first_id = next_id, .count = N,
                               .seqs = calloc(N, sizeof(uint64_t)), .stop = &stop};
      next_id += N;
      pthread_create(&th[t], NULL, append_loop, &a[t]);
    }
    usleep(1000 + (useconds_t)(rand_r(&seed) % 30000));
    faulty_io_power_cut(&fio);
    __atomic_store_n(&stop, 1, __ATOMIC_RELAXED);
    for (int t = 0; t < T; t++)
      pthread_join(th[t], NULL);
    dray__spool_close(&s);
    faulty_io_restore(&fio, cycle % 2 ? (unsigned)cycle : 0); /* odd cycles tear the last write */
    faulty_io_free(&fio);
    for (int t = 0; t < T; t++) {
      for (int i = 0; i < N; i++)
        if (a[t].seqs[i]) {
          if (ob_n == ob_cap) {
            ob_cap *= 2;
            ob_seq = realloc(ob_seq, ob_cap * sizeof *ob_seq);
            ob_id = realloc(ob_id, ob_cap * sizeof *ob_id);
          }
          ob_seq[ob_n] = a[t].seqs[i];
          ob_id[ob_n] = a[t].first_id + (uint64_t)i;
          ob_n++;
        }
      free(a[t].seqs);
    }
    /* Keep obligations sorted by seq is not needed: lookups go through the scan. */
    total_tail_saved += count_files(dir, ".tail.bad.");
  }
  /* Final check with the plain POSIX seam. */
  dray__spool *s = open_with(dir, NULL, 16384);
  assert_non_null(s);
  struct collected c;
  scan_into(s, &c);
  assert_int_equal(c.bad, 0);
  for (size_t k = 0; k < ob_n; k++) {
    long at = collected_find(&c, ob_seq[k]);
    assert_true(at >= 0);
    assert_int_equal(c.id[at], ob_id[k]);
  }
  print_message("      %d power cuts, %zu records acknowledged and unreleased at the end\n", cycles,
                ob_n);
  (void)total_tail_saved;
  collected_free(&c);
  dray__spool_close(&s);
  free(ob_seq);
  free(ob_id);
  rm_rf(dir);
  free(dir);
}


/* ---- rotation racing releases ---- */

struct churn {
  dray__spool *s;
  int n;
  int errors;
};

static void *churn_main(void *arg) {
  struct churn *c = arg;
  for (int i = 0; i < c->n; i++) {
    uint64_t seq;
    if (append_id(c->s, (uint64_t)i, SPAN, &seq) != 0 || dray__spool_release(c->s, seq) != 0)
      c->errors++;
  }
  return NULL;
}

/* Many appenders releasing each record as soon as it is acked, with tiny segments: a segment is
 * left behind by rotation while records written to it are not yet published. It must not be
 * taken for "all released" and unlinked (or freed) in that window. */
static void test_rotation_racing_immediate_releases_keeps_segments_consistent(void **state) {
  (void)state;
  char *dir = make_tmpdir_fast();
  dray__spool *s = open_with(dir, NULL, 4096);
  assert_non_null(s);
  enum { T = 12 };
  struct churn c[T];
  pthread_t th[T];
  for (int t = 0; t < T; t++) {
    c[t] = (struct churn){.s = s, .n = 400};
    pthread_create(&th[t], NULL, churn_main, &c[t]);
  }
  for (int t = 0; t < T; t++) {
    pthread_join(th[t], NULL);
    assert_int_equal(c[t].errors, 0);
  }
  struct dray__spool_stats st;
  dray__spool_stats(s, &st);
  assert_int_equal(st.records, 0);
  assert_int_equal(st.failed, 0);
  assert_int_equal(st.low_water, st.next_seq);
  int segs = count_files(dir, ".seg");
  for (int i = 0; i < 200 && segs > 1; i++) {
    usleep(5000);
    segs = count_files(dir, ".seg");
  }
  assert_int_equal(segs, 1); /* only the active one is left */
  dray__spool_close(&s);
  s = open_with(dir, NULL, 4096);
  assert_non_null(s);
  struct collected col;
  scan_into(s, &col);
  assert_int_equal(col.n, 0);
  collected_free(&col);
  dray__spool_close(&s);
  rm_rf(dir);
  free(dir);
}

int main(int argc, char **argv) {
  if (argc > 1)
    cmocka_set_test_filter(argv[1]);
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_fdatasync_eio_fails_the_spool_and_is_never_retried),
    cmocka_unit_test(test_enospc_on_write_fails_the_append_and_the_spool),
    cmocka_unit_test(test_enospc_when_preallocating_a_segment_is_backpressure_then_resumes),
    cmocka_unit_test(test_short_writes_are_completed_and_records_read_back_intact),
    cmocka_unit_test(test_four_concurrent_appenders_are_acked_only_after_their_group_is_synced),
    cmocka_unit_test(test_power_loss_at_random_moments_keeps_every_acknowledged_record),
    cmocka_unit_test(test_rotation_racing_immediate_releases_keeps_segments_consistent),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
