/* x12_bench.c - throughput of the edi_x12 codec on one X12 file.
 *
 *   x12_bench tokenize FILE [ROUNDS]  streaming tokenize + envelope and
 *                                      element validation, 256 KiB window
 *   x12_bench decode FILE [ROUNDS]    tokenize + validate + map every set to
 *                                      its canonical JSON body
 * Prints one line "mode=... mb_s=... segments|messages=... peak_rss_kb=...";
 * the best of ROUNDS (default 3) runs. Built by bench/x12/run.sh. */
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "x12_decode.h"

static double now(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return ts.tv_sec + ts.tv_nsec / 1e9;
}

/* user + system CPU seconds of this process: under a loaded machine the
 * fair figure beside wall time */
static double cpu_now(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 + ru.ru_stime.tv_sec +
         ru.ru_stime.tv_usec / 1e6;
}

static long peak_rss_kb(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return ru.ru_maxrss;
}

/* Streams the file through tokenizer + validator with a fixed window. */
static int tokenize(const char *path, size_t *bytes, unsigned long *segments,
                    unsigned long *sets) {
  enum { WINDOW = 1 << 18 }; /* 256 KiB: stays in L2 */
  static char buf[WINDOW];
  int fd = open(path, O_RDONLY);
  if (fd < 0) return -1;
  struct x12_tokenizer t;
  struct x12_validator v;
  static struct x12_segment seg;
  x12_tok_init(&t, 0);
  x12_validator_init(&v, NULL, NULL, 0);
  size_t have = 0;
  int eof = 0, r = X12_TOK_END;
  *bytes = 0;
  *segments = 0;
  for (;;) {
    if (!eof) {
      ssize_t n = read(fd, buf + have, WINDOW - have);
      if (n < 0) return -1;
      if (n == 0) eof = 1;
      have += (size_t)n;
      *bytes += (size_t)n;
    }
    x12_tok_feed(&t, buf, have, eof);
    while ((r = x12_tok_next(&t, &seg)) == X12_TOK_SEGMENT) {
      (*segments)++;
      x12_validator_segment(&v, &seg, &t.delims);
    }
    if (r != X12_TOK_NEED_MORE) break;
    size_t used = x12_tok_consumed(&t);
    if (used == 0 && have == WINDOW) {
      fprintf(stderr, "segment longer than the window\n");
      return -1;
    }
    memmove(buf, buf + used, have - used);
    have -= used;
  }
  if (r == X12_TOK_ERROR) {
    fprintf(stderr, "%s\n", t.message);
    return -1;
  }
  /* sets are counted by the open interchange before finish closes it */
  *sets = v.ic && v.ic->ngroups ? v.ic->groups[0].nsets : 0;
  x12_validator_finish(&v);
  x12_validator_release(&v);
  x12_tok_release(&t);
  close(fd);
  return 0;
}

struct counter {
  unsigned long messages;
  unsigned long long json_bytes;
};

static int count_msg(void *ctx, const struct x12_out_msg *m) {
  struct counter *c = ctx;
  c->messages++;
  c->json_bytes += m->body_len;
  return 0;
}

static int decode(const char *path, size_t *bytes, struct counter *c) {
  int fd = open(path, O_RDONLY);
  struct stat st;
  if (fd < 0 || fstat(fd, &st) < 0) return -1;
  char *buf = malloc((size_t)st.st_size);
  size_t got = 0;
  while (got < (size_t)st.st_size) {
    ssize_t n = read(fd, buf + got, (size_t)st.st_size - got);
    if (n <= 0) break;
    got += (size_t)n;
  }
  close(fd);
  struct x12_decode_options o = {
      .currency = "USD", .local_tz = "UTC", .ack_kind = X12_ACK_NONE,
      .hold_until_iea = 0, .ctx = c, .emit = count_msg};
  struct x12_decode_report rep;
  int r = x12_decode_buffer(buf, got, path, &o, &rep);
  free(buf);
  *bytes = got;
  if (r != 0) fprintf(stderr, "decode: %s\n", rep.first_error);
  return r == 0 ? 0 : -1;
}

int main(int argc, char **argv) {
  if (argc < 3) {
    fprintf(stderr, "usage: x12_bench tokenize|decode FILE [ROUNDS]\n");
    return 2;
  }
  int rounds = argc > 3 ? atoi(argv[3]) : 3;
  double best = 1e30, best_cpu = 1e30;
  size_t bytes = 0;
  unsigned long segments = 0, sets = 0;
  (void)sets;
  struct counter c = {0, 0};
  for (int i = 0; i < rounds; i++) {
    double t0 = now(), c0 = cpu_now();
    if (!strcmp(argv[1], "tokenize")) {
      if (tokenize(argv[2], &bytes, &segments, &sets) < 0) return 1;
    } else {
      memset(&c, 0, sizeof(c));
      if (decode(argv[2], &bytes, &c) < 0) return 1;
    }
    double dt = now() - t0, dc = cpu_now() - c0;
    if (dt < best) best = dt;
    if (dc < best_cpu) best_cpu = dc;
  }
  if (!strcmp(argv[1], "tokenize"))
    printf("mode=tokenize+validate mb_s=%.1f cpu_mb_s=%.1f seconds=%.4f bytes=%zu segments=%lu peak_rss_kb=%ld\n",
           bytes / best / 1e6, bytes / best_cpu / 1e6, best, bytes, segments, peak_rss_kb());
  else
    printf("mode=decode mb_s=%.1f cpu_mb_s=%.1f seconds=%.4f bytes=%zu messages=%lu json_mb=%.1f peak_rss_kb=%ld\n",
           bytes / best / 1e6, bytes / best_cpu / 1e6, best, bytes, c.messages, c.json_bytes / 1e6, peak_rss_kb());
  return 0;
}
