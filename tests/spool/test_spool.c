/* Durable spool: format, recovery and API behaviour on real files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#include <cmocka.h>

#include <time.h>

#include "spool_test_util.h"

#define SPAN 300

static dray__spool *open_spool(const char *dir, uint64_t seg_bytes, int *events) {
  struct dray__spool_options o = {.dir = dir, .name = "journal", .segment_bytes = seg_bytes,
                                  .durable = 1, .on_event = quiet_events, .event_ctx = events};
  char err[512] = "";
  dray__spool *s = dray__spool_open(&o, err, sizeof err);
  if (!s)
    print_error("open failed: %s\n", err);
  return s;
}

static void scan_span(dray__spool *s, struct collected *c, uint32_t span) {
  memset(c, 0, sizeof *c);
  c->span = span;
  assert_int_equal(dray__spool_scan(s, 0, collect_cb, c), 0);
}

static void scan_all(dray__spool *s, struct collected *c) {
  memset(c, 0, sizeof *c);
  c->span = SPAN;
  assert_int_equal(dray__spool_scan(s, 0, collect_cb, c), 0);
}

static char *seg_file(const char *dir, uint64_t first) {
  char *p = malloc(1024);
  snprintf(p, 1024, "%s/journal-%020llu.seg", dir, (unsigned long long)first);
  return p;
}

static unsigned char *read_file(const char *path, size_t *n) {
  FILE *f = fopen(path, "rb");
  assert_non_null(f);
  fseek(f, 0, SEEK_END);
  long sz = ftell(f);
  fseek(f, 0, SEEK_SET);
  unsigned char *b = malloc((size_t)sz + 1);
  assert_int_equal(fread(b, 1, (size_t)sz, f), (size_t)sz);
  fclose(f);
  *n = (size_t)sz;
  return b;
}

static void write_file(const char *path, const unsigned char *b, size_t n) {
  FILE *f = fopen(path, "wb");
  assert_non_null(f);
  assert_int_equal(fwrite(b, 1, n, f), n);
  fclose(f);
}

/* ---- CRC32C ---- */

static void test_crc32c_matches_published_check_values(void **state) {
  (void)state;
  assert_int_equal(dray__crc32c(0, "123456789", 9), 0xE3069283u);
  assert_int_equal(dray__crc32c_sw(0, "123456789", 9), 0xE3069283u);
  unsigned char z[32] = {0}, ff[32], inc[32];
  memset(ff, 0xff, sizeof ff);
  for (int i = 0; i < 32; i++)
    inc[i] = (unsigned char)i;
  /* RFC 3720 appendix B.4 vectors. */
  assert_int_equal(dray__crc32c(0, z, 32), 0x8A9136AAu);
  assert_int_equal(dray__crc32c(0, ff, 32), 0x62A8AB43u);
  assert_int_equal(dray__crc32c(0, inc, 32), 0x46DD794Eu);
  assert_int_equal(dray__crc32c(0, "", 0), 0u);
}

static void test_crc32c_hardware_and_table_paths_agree_at_every_length_and_split(void **state) {
  (void)state;
  unsigned char buf[1100];
  for (size_t i = 0; i < sizeof buf; i++)
    buf[i] = (unsigned char)(i * 131 + 7);
  for (size_t n = 0; n < 300; n++) {
    for (size_t off = 0; off < 9; off++) {
      uint32_t a = dray__crc32c(0, buf + off, n), b = dray__crc32c_sw(0, buf + off, n);
      assert_int_equal(a, b);
      size_t cut = n / 3;
      assert_int_equal(dray__crc32c(dray__crc32c(0, buf + off, cut), buf + off + cut, n - cut), a);
    }
  }
}

/* ---- API ---- */

static void test_appended_records_come_back_in_order_by_scan_and_get(void **state) {
  (void)state;
  char *dir = make_tmpdir();
  dray__spool *s = open_spool(dir, 0, NULL);
  assert_non_null(s);
  uint64_t prev = 0;
  for (uint64_t id = 1; id <= 200; id++) {
    uint64_t seq;
    assert_int_equal(append_id(s, id, SPAN, &seq), 0);
    assert_true(seq > prev);
    prev = seq;
  }
  assert_int_equal(dray__spool_append(s, "", 0, NULL), 0); /* empty records are records too */
  struct collected c;
  scan_all(s, &c);
  assert_int_equal(c.n, 201);
  assert_int_equal(c.bad, 1); /* the empty one is not a payload */
  for (size_t i = 0; i < 200; i++)
    assert_int_equal(c.id[i], i + 1);
  void *d;
  uint32_t len;
  assert_int_equal(dray__spool_get(s, c.seq[41], &d, &len), 0);
  assert_true(payload_ok(d, len, SPAN, NULL));
  assert_int_equal(*(uint64_t *)d, 42);
  free(d);
  assert_int_equal(dray__spool_get(s, 999999, &d, &len), 1);
  assert_null(d);
  struct dray__spool_stats st;
  dray__spool_stats(s, &st);
  assert_int_equal(st.records, 201);
  assert_int_equal(st.next_seq, c.seq[200] + 1);
  collected_free(&c);
  dray__spool_close(&s);
  assert_null(s);
  rm_rf(dir);
  free(dir);
}

static void test_seq_keeps_rising_across_reopen(void **state) {
  (void)state;
  char *dir = make_tmpdir();
  uint64_t last = 0;
  for (int round = 0; round < 4; round++) {
    dray__spool *s = open_spool(dir, 8192, NULL);
    assert_non_null(s);
    for (int i = 0; i < 30; i++) {
      uint64_t seq;
      assert_int_equal(append_id(s, (uint64_t)(round * 100 + i), SPAN, &seq), 0);
      assert_true(seq > last);
      last = seq;
      /* Release everything, so whole segments go away and only the checkpoint and the active
       * segment remember where seq stands. */
      assert_int_equal(dray__spool_release(s, seq), 0);
    }
    dray__spool_close(&s);
  }
  rm_rf(dir);
  free(dir);
}

static void test_release_moves_low_water_and_unlinks_released_segments(void **state) {
  (void)state;
  char *dir = make_tmpdir();
  dray__spool *s = open_spool(dir, 4096, NULL);
  assert_non_null(s);
  uint64_t seqs[300];
  for (int i = 0; i < 300; i++)
    assert_int_equal(append_id(s, (uint64_t)i + 1, SPAN, &seqs[i]), 0);
  int segs_before = count_files(dir, ".seg");
  assert_true(segs_before > 10);
  /* Out of order: the second half first, then the first half except record 100. */
  for (int i = 150; i < 300; i++)
    assert_int_equal(dray__spool_release(s, seqs[i]), 0);
  struct dray__spool_stats st;
  dray__spool_stats(s, &st);
  assert_int_equal(st.low_water, seqs[0]);
  for (int i = 0; i < 150; i++)
    if (i != 100)
      assert_int_equal(dray__spool_release(s, seqs[i]), 0);
  assert_int_equal(dray__spool_release(s, seqs[5]), 0); /* twice is fine */
  assert_int_equal(dray__spool_release(s, st.next_seq + 10), -EINVAL);
  dray__spool_stats(s, &st);
  assert_int_equal(st.low_water, seqs[100]);
  assert_int_equal(st.records, 1);
  /* The background thread unlinks released sealed segments within a few ms. */
  int segs_after = segs_before;
  for (int t = 0; t < 200 && segs_after > 2; t++) {
    usleep(5000);
    segs_after = count_files(dir, ".seg");
  }
  assert_true(segs_after <= 2); /* the one holding record 100, and the active one */
  void *d;
  uint32_t len;
  assert_int_equal(dray__spool_get(s, seqs[7], &d, &len), 1);
  assert_int_equal(dray__spool_get(s, seqs[100], &d, &len), 0);
  free(d);
  dray__spool_close(&s);
  rm_rf(dir);
  free(dir);
}

static void test_reopen_replays_exactly_the_records_from_the_low_water_mark_on(void **state) {
  (void)state;
  char *dir = make_tmpdir();
  dray__spool *s = open_spool(dir, 16384, NULL);
  assert_non_null(s);
  uint64_t seqs[400];
  for (int i = 0; i < 400; i++)
    assert_int_equal(append_id(s, (uint64_t)i + 1, SPAN, &seqs[i]), 0);
  /* All of the first 200, then every record above except every third one. */
  for (int i = 0; i < 400; i++)
    if (i < 200 || (i - 200) % 3 != 0)
      assert_int_equal(dray__spool_release(s, seqs[i]), 0);
  /* While running, a scan returns exactly the unreleased records. */
  struct collected c;
  scan_all(s, &c);
  assert_int_equal(c.bad, 0);
  size_t k = 0;
  for (int i = 200; i < 400; i++)
    if ((i - 200) % 3 == 0) {
      assert_true(k < c.n);
      assert_int_equal(c.seq[k], seqs[i]);
      assert_int_equal(c.id[k], (uint64_t)i + 1);
      k++;
    }
  assert_int_equal(c.n, k);
  collected_free(&c);
  dray__spool_close(&s); /* persists the low-water mark */
  s = open_spool(dir, 16384, NULL);
  assert_non_null(s);
  struct dray__spool_stats st;
  dray__spool_stats(s, &st);
  assert_int_equal(st.low_water, seqs[200]);
  /* After a restart, exactly the records at or above the persisted mark come back (releases
   * above the mark are not persisted one by one: at-least-once, deduplicated upstream). */
  scan_all(s, &c);
  assert_int_equal(c.bad, 0);
  assert_int_equal(c.n, 200);
  for (int i = 200; i < 400; i++) {
    assert_int_equal(c.seq[i - 200], seqs[i]);
    assert_int_equal(c.id[i - 200], (uint64_t)i + 1);
  }
  collected_free(&c);
  /* Scanning from a later seq skips the earlier ones. */
  struct collected c2 = {.span = SPAN};
  assert_int_equal(dray__spool_scan(s, seqs[300], collect_cb, &c2), 0);
  assert_int_equal(c2.n, 100);
  assert_int_equal(c2.seq[0], seqs[300]);
  collected_free(&c2);
  dray__spool_close(&s);
  rm_rf(dir);
  free(dir);
}

static int stop_after_three(void *ctx, uint64_t seq, const void *data, uint32_t len) {
  (void)seq, (void)data, (void)len;
  return ++*(int *)ctx == 3 ? 7 : 0;
}

static void test_scan_stops_when_the_callback_says_so(void **state) {
  (void)state;
  char *dir = make_tmpdir();
  dray__spool *s = open_spool(dir, 0, NULL);
  for (int i = 0; i < 10; i++)
    assert_int_equal(append_id(s, (uint64_t)i, SPAN, NULL), 0);
  int n = 0;
  assert_int_equal(dray__spool_scan(s, 0, stop_after_three, &n), 7);
  assert_int_equal(n, 3);
  dray__spool_close(&s);
  rm_rf(dir);
  free(dir);
}

static void test_record_over_max_size_is_refused_before_it_is_read(void **state) {
  (void)state;
  char *dir = make_tmpdir();
  struct dray__spool_options o = {.dir = dir, .name = "dlq", .max_record_bytes = 1024, .durable = 1};
  char err[256];
  dray__spool *s = dray__spool_open(&o, err, sizeof err);
  assert_non_null(s);
  char small[4] = "abc";
  /* len far beyond the 4-byte buffer: if the spool touched the data first, ASan would see it. */
  assert_int_equal(dray__spool_append(s, small, 1u << 30, NULL), -EMSGSIZE);
  assert_int_equal(dray__spool_append(s, small, 1025, NULL), -EMSGSIZE);
  unsigned char ok[1024] = {1};
  assert_int_equal(dray__spool_append(s, ok, 1024, NULL), 0);
  struct dray__spool_stats st;
  dray__spool_stats(s, &st);
  assert_int_equal(st.records, 1);
  assert_int_equal(st.failed, 0);
  dray__spool_close(&s);
  rm_rf(dir);
  free(dir);
}

/* A header with a valid header CRC that claims a length over the limit: recovery must not trust
 * (or allocate) it; it is a torn tail. */
static void test_forged_huge_length_on_disk_is_cut_as_torn_tail(void **state) {
  (void)state;
  char *dir = make_tmpdir();
  struct dray__spool_options o = {.dir = dir, .name = "journal", .max_record_bytes = 4096,
                                  .durable = 1, .on_event = quiet_events};
  char err[256];
  dray__spool *s = dray__spool_open(&o, err, sizeof err);
  uint64_t seq;
  for (int i = 0; i < 5; i++)
    assert_int_equal(append_id(s, (uint64_t)i, SPAN, &seq), 0);
  dray__spool_close(&s);
  char *seg = seg_file(dir, 1);
  size_t n;
  unsigned char *b = read_file(seg, &n);
  size_t end = 0;
  for (int i = 0; i < 5; i++)
    end += 32 + payload_len((uint64_t)i, SPAN);
  uint32_t lens[2] = {0xFFFFFFF0u, 4000}; /* over the limit; within it but past the file end */
  for (int k = 0; k < 2; k++) {
    unsigned char h[32] = {0};
    uint32_t magic = 0x314A5244u, len = lens[k];
    uint64_t sq = 6;
    memcpy(h, &magic, 4);
    h[4] = 1;
    memcpy(h + 8, &len, 4);
    memcpy(h + 16, &sq, 8);
    uint32_t hc = dray__crc32c(0, h, 28);
    memcpy(h + 28, &hc, 4);
    memcpy(b + end, h, 32);
    write_file(seg, b, end + 64);
    s = dray__spool_open(&o, err, sizeof err);
    assert_non_null(s);
    struct dray__spool_stats st;
    dray__spool_stats(s, &st);
    assert_int_equal(st.records, 5);
    assert_int_equal(st.truncated_bytes, 64);
    assert_int_equal(st.next_seq, 6);
    dray__spool_close(&s);
  }
  free(b);
  free(seg);
  rm_rf(dir);
  free(dir);
}

/* ---- torn tails ---- */

static void test_torn_tail_at_every_byte_of_the_last_records_keeps_the_valid_prefix(void **state) {
  (void)state;
  char *dir = make_tmpdir();
  const int total = 12;
  dray__spool *s = open_spool(dir, 65536, NULL);
  uint64_t seq;
  size_t bounds[13] = {0}; /* bounds[i] = end offset of record i (1-based) */
  for (int i = 1; i <= total; i++) {
    assert_int_equal(append_id(s, (uint64_t)i, 150, &seq), 0);
    bounds[i] = bounds[i - 1] + 32 + payload_len((uint64_t)i, 150);
  }
  dray__spool_close(&s);
  char *seg = seg_file(dir, 1);
  size_t n;
  unsigned char *orig = read_file(seg, &n);
  assert_true(n >= bounds[total]);
  int events = 0;
  /* Every cut from the start of record total-2 to the end of the data. */
  for (size_t cut = bounds[total - 3]; cut <= bounds[total]; cut++) {
    write_file(seg, orig, cut);
    s = open_spool(dir, 65536, &events);
    assert_non_null(s);
    int keep = 0;
    while (keep < total && bounds[keep + 1] <= cut)
      keep++;
    struct collected c;
    scan_span(s, &c, 150);
    assert_int_equal(c.n, keep);
    assert_int_equal(c.bad, 0);
    for (int i = 0; i < keep; i++)
      assert_int_equal(c.id[i], (uint64_t)i + 1);
    struct dray__spool_stats st;
    dray__spool_stats(s, &st);
    if (st.truncated_bytes != cut - bounds[keep]) print_error("cut %zu keep %d trunc %llu\n", cut, keep, (unsigned long long)st.truncated_bytes);
    assert_int_equal(st.truncated_bytes, cut - bounds[keep]);
    assert_int_equal(st.next_seq, (uint64_t)keep + 1);
    /* New appends continue right after the valid prefix and survive a reopen. */
    assert_int_equal(append_id(s, 1000, 150, &seq), 0);
    assert_int_equal(seq, (uint64_t)keep + 1);
    dray__spool_close(&s);
    s = open_spool(dir, 65536, &events);
    collected_free(&c);
    scan_span(s, &c, 150);
    assert_int_equal(c.n, keep + 1);
    assert_int_equal(c.id[keep], 1000);
    assert_int_equal(c.bad, 0);
    collected_free(&c);
    dray__spool_close(&s);
  }
  free(orig);
  free(seg);
  rm_rf(dir);
  free(dir);
}

/* Garbage (not zeros, not a torn write) in the middle of the active segment with valid records
 * after it: the tail is cut, but a copy is kept and counted, never silently dropped. */
static void test_corrupt_record_mid_active_segment_saves_the_cut_tail(void **state) {
  (void)state;
  char *dir = make_tmpdir();
  dray__spool *s = open_spool(dir, 65536, NULL);
  for (int i = 1; i <= 10; i++)
    assert_int_equal(append_id(s, (uint64_t)i, 100, NULL), 0);
  dray__spool_close(&s);
  char *seg = seg_file(dir, 1);
  size_t n;
  unsigned char *b = read_file(seg, &n);
  size_t off = 0;
  for (int i = 1; i <= 3; i++)
    off += 32 + payload_len((uint64_t)i, 100);
  b[off + 40] ^= 0x10; /* payload of record 4 */
  write_file(seg, b, n);
  int events = 0;
  s = open_spool(dir, 65536, &events);
  assert_non_null(s);
  struct dray__spool_stats st;
  dray__spool_stats(s, &st);
  assert_int_equal(st.records, 3);
  assert_int_equal(st.quarantined_segments, 1);
  assert_true(events >= 2);
  assert_int_equal(count_files(dir, ".tail.bad."), 1);
  dray__spool_close(&s);
  free(b);
  free(seg);
  rm_rf(dir);
  free(dir);
}

/* ---- bit flips in sealed segments ---- */

static void copy_dir_files(const char *from, const char *to) {
  DIR *d = opendir(from);
  for (struct dirent *e; (e = readdir(d));) {
    if (e->d_name[0] == '.')
      continue;
    char a[1024], b2[1024];
    snprintf(a, sizeof a, "%s/%s", from, e->d_name);
    snprintf(b2, sizeof b2, "%s/%s", to, e->d_name);
    size_t n;
    unsigned char *buf = read_file(a, &n);
    write_file(b2, buf, n);
    free(buf);
  }
  closedir(d);
}

static void test_every_sampled_bit_flip_in_a_sealed_segment_quarantines_it(void **state) {
  (void)state;
  char *golden = make_tmpdir_fast();
  dray__spool *s = open_spool(golden, 4096, NULL);
  uint64_t seqs[60];
  for (int i = 0; i < 60; i++)
    assert_int_equal(append_id(s, (uint64_t)i + 1, 200, &seqs[i]), 0);
  dray__spool_close(&s);
  char *seg = seg_file(golden, 1); /* the first, sealed segment */
  size_t n;
  unsigned char *orig = read_file(seg, &n);
  free(seg);
  assert_true(n > 64 && n <= 4096);
  /* How many records does the first segment hold? */
  uint32_t in_first = 0;
  for (size_t off = 0; off < n; in_first++)
    off += 32 + payload_len(in_first + 1, 200);
  /* Every bit of the first 64 bytes (two record headers and the start of a payload), then a
   * sampled bit in every 8..23 of the rest. */
  size_t nbits = n * 8;
  int flips = 0;
  char *work = make_tmpdir_fast();
  unsigned seed = 12345;
  for (size_t bit = 0; bit < nbits; bit += bit < 64 * 8 ? 1 : 8 + (size_t)(rand_r(&seed) % 16)) {
    rm_rf(work);
    mkdir(work, 0755);
    copy_dir_files(golden, work);
    char *wseg = seg_file(work, 1);
    unsigned char *b = malloc(n);
    memcpy(b, orig, n);
    b[bit / 8] ^= (unsigned char)(1u << (bit % 8));
    write_file(wseg, b, n);
    free(b);
    int events = 0;
    s = open_spool(work, 4096, &events);
    assert_non_null(s);
    struct dray__spool_stats st;
    dray__spool_stats(s, &st);
    if (st.quarantined_segments != 1)
      fail_msg("bit %zu of the sealed segment flipped but not quarantined", bit);
    assert_true(events >= 1);
    assert_int_equal(count_files(work, ".seg.bad."), 1);
    assert_int_equal(access(wseg, F_OK), -1);
    struct collected c;
    scan_span(s, &c, 200);
    /* Nothing from the quarantined range, everything else intact. */
    assert_int_equal(c.n, 60 - in_first);
    assert_int_equal(c.bad, 0);
    assert_int_equal(c.seq[0], seqs[in_first]);
    collected_free(&c);
    /* Appends go on. */
    assert_int_equal(append_id(s, 99, 200, NULL), 0);
    dray__spool_close(&s);
    free(wseg);
    flips++;
  }
  assert_true(flips >= 2000);
  free(orig);
  rm_rf(work);
  free(work);
  rm_rf(golden);
  free(golden);
}

/* ---- checkpoint slots ---- */

static void corrupt_slot(const char *dir, int slot) {
  char p[1024];
  snprintf(p, sizeof p, "%s/journal.ckpt", dir);
  size_t n;
  unsigned char *b = read_file(p, &n);
  assert_int_equal(n, 1024);
  b[slot * 512 + 17] ^= 0x5a;
  write_file(p, b, n);
  free(b);
}

static void test_one_corrupt_checkpoint_slot_falls_back_to_the_other(void **state) {
  (void)state;
  for (int slot = 0; slot < 2; slot++) {
    char *dir = make_tmpdir();
    dray__spool *s = open_spool(dir, 0, NULL);
    uint64_t seqs[20];
    for (int i = 0; i < 20; i++)
      assert_int_equal(append_id(s, (uint64_t)i, SPAN, &seqs[i]), 0);
    for (int i = 0; i < 10; i++)
      assert_int_equal(dray__spool_release(s, seqs[i]), 0);
    dray__spool_close(&s);
    corrupt_slot(dir, slot);
    int events = 0;
    s = open_spool(dir, 0, &events);
    assert_non_null(s);
    assert_true(events >= 1); /* the bad slot is reported */
    struct collected c;
    scan_all(s, &c);
    /* Whichever slot survived, every unreleased record is replayed. */
    for (int i = 10; i < 20; i++)
      assert_true(collected_find(&c, seqs[i]) >= 0);
    collected_free(&c);
    /* The next checkpoint write overwrites the stale slot; both are good again afterwards. */
    dray__spool_close(&s);
    s = open_spool(dir, 0, &events);
    assert_non_null(s);
    dray__spool_close(&s);
    rm_rf(dir);
    free(dir);
  }
}

static void test_both_checkpoint_slots_corrupt_refuses_to_open_with_a_clear_error(void **state) {
  (void)state;
  char *dir = make_tmpdir();
  dray__spool *s = open_spool(dir, 0, NULL);
  assert_int_equal(append_id(s, 1, SPAN, NULL), 0);
  dray__spool_close(&s);
  corrupt_slot(dir, 0);
  corrupt_slot(dir, 1);
  struct dray__spool_options o = {.dir = dir, .name = "journal", .durable = 1};
  char err[512] = "";
  assert_null(dray__spool_open(&o, err, sizeof err));
  assert_non_null(strstr(err, "both checkpoint slots"));
  assert_non_null(strstr(err, "journal.ckpt"));
  /* Nothing was deleted or renamed while refusing. */
  assert_int_equal(count_files(dir, ".seg"), 1);
  assert_int_equal(count_files(dir, ".bad"), 0);
  rm_rf(dir);
  free(dir);
}

static void test_missing_checkpoint_with_segments_refuses_to_open(void **state) {
  (void)state;
  char *dir = make_tmpdir();
  dray__spool *s = open_spool(dir, 0, NULL);
  assert_int_equal(append_id(s, 1, SPAN, NULL), 0);
  dray__spool_close(&s);
  char p[1024];
  snprintf(p, sizeof p, "%s/journal.ckpt", dir);
  unlink(p);
  struct dray__spool_options o = {.dir = dir, .name = "journal", .durable = 1};
  char err[512] = "";
  assert_null(dray__spool_open(&o, err, sizeof err));
  assert_non_null(strstr(err, "missing"));
  rm_rf(dir);
  free(dir);
}

/* ---- disk cap ---- */

static void test_disk_cap_turns_into_backpressure_and_appends_resume_after_releases(void **state) {
  (void)state;
  char *dir = make_tmpdir();
  struct dray__spool_options o = {.dir = dir, .name = "journal", .max_disk_bytes = 32768,
                                  .durable = 1, .on_event = quiet_events};
  char err[256];
  dray__spool *s = dray__spool_open(&o, err, sizeof err);
  assert_non_null(s);
  unsigned char rec[1000];
  memset(rec, 'x', sizeof rec);
  uint64_t seqs[64];
  int n = 0, rc;
  while ((rc = dray__spool_append(s, rec, sizeof rec, &seqs[n])) == 0)
    n++;
  assert_int_equal(rc, -EAGAIN);
  assert_true(n >= 25 && n <= 32);
  struct dray__spool_stats st;
  dray__spool_stats(s, &st);
  assert_true(st.bytes <= 32768);
  assert_int_equal(st.failed, 0);
  assert_int_equal(st.records, (uint64_t)n); /* nothing was dropped to make room */
  for (int i = 0; i < n; i++)
    assert_int_equal(dray__spool_release(s, seqs[i]), 0);
  /* Space comes back once released segments are unlinked (background thread). */
  int resumed = 0;
  for (int t = 0; t < 400 && !resumed; t++) {
    rc = dray__spool_append(s, rec, sizeof rec, NULL);
    if (rc == 0)
      resumed = 1;
    else {
      assert_int_equal(rc, -EAGAIN);
      usleep(5000);
    }
  }
  assert_true(resumed);
  for (int i = 0; i < 20; i++)
    assert_int_equal(dray__spool_append(s, rec, sizeof rec, NULL), 0);
  dray__spool_close(&s);
  rm_rf(dir);
  free(dir);
}


/* ---- memory class ---- */

static void test_memory_class_records_are_readable_at_once_and_kept_across_close(void **state) {
  (void)state;
  char *dir = make_tmpdir();
  struct dray__spool_options o = {.dir = dir, .name = "positions", .durable = 0};
  char err[256];
  dray__spool *s = dray__spool_open(&o, err, sizeof err);
  assert_non_null(s);
  uint64_t seqs[2000];
  for (int i = 0; i < 2000; i++)
    assert_int_equal(append_id(s, (uint64_t)i, SPAN, &seqs[i]), 0);
  /* Acked from the write buffer, but a scan or get right away sees every record. */
  void *d;
  uint32_t len;
  assert_int_equal(dray__spool_get(s, seqs[1999], &d, &len), 0);
  assert_true(payload_ok(d, len, SPAN, NULL));
  free(d);
  struct collected c;
  scan_all(s, &c);
  assert_int_equal(c.n, 2000);
  assert_int_equal(c.bad, 0);
  collected_free(&c);
  for (int i = 2000; i < 2100; i++)
    assert_int_equal(append_id(s, (uint64_t)i, SPAN, NULL), 0);
  dray__spool_close(&s); /* writes what is still buffered */
  s = dray__spool_open(&o, err, sizeof err);
  assert_non_null(s);
  scan_all(s, &c);
  assert_int_equal(c.n, 2100);
  assert_int_equal(c.bad, 0);
  for (int i = 0; i < 2100; i++)
    assert_int_equal(c.id[i], (uint64_t)i);
  collected_free(&c);
  dray__spool_close(&s);
  rm_rf(dir);
  free(dir);
}

/* ---- batches ---- */

static void test_append_many_makes_a_batch_durable_in_order_across_groups(void **state) {
  (void)state;
  char *dir = make_tmpdir();
  dray__spool *s = open_spool(dir, 65536, NULL);
  assert_non_null(s);
  enum { N = 700 }; /* more than one group (256) and several segments */
  struct dray__spool_rec *recs = calloc(N, sizeof *recs);
  unsigned char **bufs = calloc(N, sizeof *bufs);
  uint64_t *seqs = calloc(N, sizeof *seqs);
  for (int i = 0; i < N; i++) {
    recs[i].len = payload_len((uint64_t)i, SPAN);
    bufs[i] = malloc(recs[i].len);
    payload_fill((uint64_t)i, bufs[i], recs[i].len);
    recs[i].data = bufs[i];
  }
  uint64_t first;
  assert_int_equal(append_id(s, 99999, SPAN, &first), 0);
  assert_int_equal(dray__spool_append_many(s, recs, N, seqs), 0);
  for (int i = 0; i < N; i++)
    assert_int_equal(seqs[i], first + 1 + (uint64_t)i);
  /* A record over the limit refuses the whole batch before anything is written. */
  struct dray__spool_rec big[2] = {{"x", 1}, {"y", (16u << 20) + 1}};
  assert_int_equal(dray__spool_append_many(s, big, 2, NULL), -EMSGSIZE);
  assert_int_equal(dray__spool_append_many(s, NULL, 0, NULL), 0);
  dray__spool_close(&s);
  s = open_spool(dir, 65536, NULL);
  struct collected c;
  scan_all(s, &c);
  assert_int_equal(c.n, N + 1);
  assert_int_equal(c.bad, 0);
  for (int i = 0; i < N; i++)
    assert_int_equal(c.id[i + 1], (uint64_t)i);
  collected_free(&c);
  dray__spool_close(&s);
  for (int i = 0; i < N; i++)
    free(bufs[i]);
  free(bufs);
  free(recs);
  free(seqs);
  rm_rf(dir);
  free(dir);
}

int main(int argc, char **argv) {
  if (argc > 1)
    cmocka_set_test_filter(argv[1]);
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(test_crc32c_matches_published_check_values),
    cmocka_unit_test(test_crc32c_hardware_and_table_paths_agree_at_every_length_and_split),
    cmocka_unit_test(test_appended_records_come_back_in_order_by_scan_and_get),
    cmocka_unit_test(test_seq_keeps_rising_across_reopen),
    cmocka_unit_test(test_release_moves_low_water_and_unlinks_released_segments),
    cmocka_unit_test(test_reopen_replays_exactly_the_records_from_the_low_water_mark_on),
    cmocka_unit_test(test_scan_stops_when_the_callback_says_so),
    cmocka_unit_test(test_record_over_max_size_is_refused_before_it_is_read),
    cmocka_unit_test(test_forged_huge_length_on_disk_is_cut_as_torn_tail),
    cmocka_unit_test(test_torn_tail_at_every_byte_of_the_last_records_keeps_the_valid_prefix),
    cmocka_unit_test(test_corrupt_record_mid_active_segment_saves_the_cut_tail),
    cmocka_unit_test(test_every_sampled_bit_flip_in_a_sealed_segment_quarantines_it),
    cmocka_unit_test(test_one_corrupt_checkpoint_slot_falls_back_to_the_other),
    cmocka_unit_test(test_both_checkpoint_slots_corrupt_refuses_to_open_with_a_clear_error),
    cmocka_unit_test(test_missing_checkpoint_with_segments_refuses_to_open),
    cmocka_unit_test(test_disk_cap_turns_into_backpressure_and_appends_resume_after_releases),
    cmocka_unit_test(test_memory_class_records_are_readable_at_once_and_kept_across_close),
    cmocka_unit_test(test_append_many_makes_a_batch_durable_in_order_across_groups),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
