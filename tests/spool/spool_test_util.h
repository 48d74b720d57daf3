/* Shared helpers for the spool tests: temp directories and payloads derived from a message id, so
 * any mix-up or corruption is detectable after a crash. */
#ifndef DRAY_TESTS_SPOOL_UTIL_H
#define DRAY_TESTS_SPOOL_UTIL_H

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crc32c.h"
#include "spool.h"

/* Payload for message id: 8 bytes id, then bytes from a xorshift stream seeded by id; length
 * 8 + (id * 2654435761 % span). */
static inline uint32_t payload_len(uint64_t id, uint32_t span) {
  return 8 + (uint32_t)((id * 2654435761u) % span);
}
static inline void payload_fill(uint64_t id, unsigned char *buf, uint32_t len) {
  memcpy(buf, &id, 8);
  uint64_t x = id * 0x9E3779B97F4A7C15ull + 1;
  for (uint32_t i = 8; i < len; i++) {
    x ^= x << 13;
    x ^= x >> 7;
    x ^= x << 17;
    buf[i] = (unsigned char)x;
  }
}
/* Is data a well-formed payload? Returns its id via *id. */
static inline int payload_ok(const void *data, uint32_t len, uint32_t span, uint64_t *id) {
  if (len < 8)
    return 0;
  uint64_t v;
  memcpy(&v, data, 8);
  if (len != payload_len(v, span))
    return 0;
  unsigned char *b = malloc(len);
  payload_fill(v, b, len);
  int ok = memcmp(b, data, len) == 0;
  free(b);
  if (id)
    *id = v;
  return ok;
}

static inline char *make_tmpdir(void) {
  const char *base = getenv("TMPDIR");
  char tmpl[512];
  snprintf(tmpl, sizeof tmpl, "%s/dray-spool-test-XXXXXX", base && *base ? base : "/tmp");
  char *d = mkdtemp(tmpl);
  return d ? strdup(d) : NULL;
}

/* For tests that check detection logic rather than durability and reopen the spool thousands of
 * times: a RAM-backed directory when there is one (fsync is free there). */
static inline char *make_tmpdir_fast(void) {
  if (access("/dev/shm", W_OK) == 0) {
    char tmpl[] = "/dev/shm/dray-spool-test-XXXXXX";
    char *d = mkdtemp(tmpl);
    if (d)
      return strdup(d);
  }
  return make_tmpdir();
}

static inline void rm_rf(const char *dir) {
  DIR *d = opendir(dir);
  if (!d)
    return;
  for (struct dirent *e; (e = readdir(d));) {
    if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
      continue;
    char p[1024];
    snprintf(p, sizeof p, "%s/%s", dir, e->d_name);
    struct stat st;
    if (lstat(p, &st) == 0 && S_ISDIR(st.st_mode))
      rm_rf(p);
    else
      unlink(p);
  }
  closedir(d);
  rmdir(dir);
}

/* Number of files in dir whose name contains needle. */
static inline int count_files(const char *dir, const char *needle) {
  DIR *d = opendir(dir);
  int n = 0;
  if (!d)
    return -1;
  for (struct dirent *e; (e = readdir(d));)
    if (strstr(e->d_name, needle))
      n++;
  closedir(d);
  return n;
}

/* Silences the spool's event lines but counts them. */
static inline void quiet_events(void *ctx, const char *line) {
  (void)line;
  if (ctx)
    (*(int *)ctx)++;
}

/* Appends payload(id) and returns the append's rc; *seq set on success. */
static inline int append_id(dray__spool *s, uint64_t id, uint32_t span, uint64_t *seq) {
  uint32_t len = payload_len(id, span);
  unsigned char *b = malloc(len);
  payload_fill(id, b, len);
  int rc = dray__spool_append(s, b, len, seq);
  free(b);
  return rc;
}

/* Collects a scan into arrays of seq and id; non-payload records are counted as bad. */
struct collected {
  uint64_t *seq, *id;
  size_t n, cap;
  size_t bad;
  uint32_t span;
};
static inline int collect_cb(void *ctx, uint64_t seq, const void *data, uint32_t len) {
  struct collected *c = ctx;
  uint64_t id = 0;
  if (!payload_ok(data, len, c->span, &id))
    c->bad++;
  if (c->n == c->cap) {
    c->cap = c->cap ? c->cap * 2 : 64;
    c->seq = realloc(c->seq, c->cap * sizeof *c->seq);
    c->id = realloc(c->id, c->cap * sizeof *c->id);
  }
  c->seq[c->n] = seq;
  c->id[c->n] = id;
  c->n++;
  return 0;
}
static inline void collected_free(struct collected *c) {
  free(c->seq);
  free(c->id);
  memset(c, 0, sizeof *c);
}
/* Index of seq in a collected scan, or -1 (scans are in seq order: binary search). */
static inline long collected_find(const struct collected *c, uint64_t seq) {
  long lo = 0, hi = (long)c->n - 1;
  while (lo <= hi) {
    long mid = (lo + hi) / 2;
    if (c->seq[mid] == seq)
      return mid;
    if (c->seq[mid] < seq)
      lo = mid + 1;
    else
      hi = mid - 1;
  }
  return -1;
}

#endif
