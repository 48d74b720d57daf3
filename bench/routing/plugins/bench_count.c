/* bench_count.c - the `bench_count` plugin: a destination that counts and
 * checks what bench_gen emitted, for the routing benchmark.
 *
 * Each process() call checks the envelope attributes bench_gen stamps
 * (see bench_gen.c): `benchseq` must be exactly one more than the last one
 * seen for the same `partitionkey` (order kept per key, nothing lost or
 * duplicated), and the first message seen must carry `benchstart`, the
 * generator's clock reading just before its first emit. When `expected`
 * messages have arrived it writes result_file (key=value lines, written to
 * a temporary name and renamed, so a reader never sees half a file) with
 * the interval from the first emit to this last delivery. A check that
 * fails is logged at once and the result says status=failed with the first
 * error; the count goes on so the run still ends.
 *
 * process() is not flagged concurrent: the host serializes the calls, so
 * the state needs no lock even with several workers. */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <dray/dray.h>

static const struct dray_param params[] = {
    DRAY_PARAM_RANGE("expected", DRAY_PARAM_INT, DRAY_PARAM_REQUIRED, NULL, 1,
                     1e12, "Number of messages that completes the run"),
    DRAY_PARAM_INIT("result_file", DRAY_PARAM_PATH, DRAY_PARAM_REQUIRED, NULL,
                    "File the figures are written to when the run completes"),
    DRAY_PARAM_RANGE("body_bytes", DRAY_PARAM_INT, 0, "0", 0, 16777216.0,
                     "If not 0, every body must have exactly this length"),
    DRAY_PARAM_INIT("hold_file", DRAY_PARAM_PATH, 0, NULL,
                    "While this file exists, process() waits (a destination that "
                    "is down): a backlog builds up in the journal"),
};

/* Last benchseq seen per partition key: open addressing, linear probing. */
struct partition {
  char *key; /* NULL: free slot */
  int64_t last_seq;
};

struct bench_count {
  const struct dray_host *host;
  dray_instance *inst;
  const char *result_file, *hold_file;
  int64_t expected;
  int64_t body_bytes;
  int64_t count;
  int64_t start_ns;      /* the generator's first emit (from benchstart) */
  int64_t first_seen_ns; /* our first process() call */
  int64_t done_ns;       /* process() of message number `expected` */
  struct partition *parts;
  size_t part_cap, part_count;
  uint64_t errors;
  char first_error[512];
  int written; /* 0, or 1 once result_file holds the final figures */
};

static int count_create(const struct dray_host *host, dray_instance *inst,
                        void **state) {
  struct bench_count *c = calloc(1, sizeof *c);
  if (!c) return -1;
  c->host = host;
  c->inst = inst;
  c->expected = host->get_int(inst, "expected", 0);
  c->body_bytes = host->get_int(inst, "body_bytes", 0);
  c->result_file = host->get_string(inst, "result_file");
  c->hold_file = host->get_string(inst, "hold_file");
  c->part_cap = 64;
  c->parts = calloc(c->part_cap, sizeof *c->parts);
  if (!c->parts) {
    free(c);
    host->set_error(inst, "out of memory");
    return -1;
  }
  /* A result left by an earlier run must not pass for this one's. */
  if (remove(c->result_file) != 0 && errno != ENOENT) {
    host->set_error(inst, "result_file %s: %s", c->result_file,
                    strerror(errno));
    free(c->parts);
    free(c);
    return -1;
  }
  *state = c;
  return 0;
}

static uint64_t hash_key(const char *s) {
  uint64_t h = 1469598103934665603ull;
  for (; *s; s++) h = (h ^ (unsigned char)*s) * 1099511628211ull;
  return h;
}

/* The slot of `key`, inserted with last_seq -1 if new; NULL when out of
 * memory. */
static struct partition *partition_for(struct bench_count *c, const char *key) {
  if ((c->part_count + 1) * 2 > c->part_cap) {
    size_t cap = c->part_cap * 2;
    struct partition *v = calloc(cap, sizeof *v);
    if (!v) return NULL;
    for (size_t i = 0; i < c->part_cap; i++) {
      if (!c->parts[i].key) continue;
      size_t j = hash_key(c->parts[i].key) & (cap - 1);
      while (v[j].key) j = (j + 1) & (cap - 1);
      v[j] = c->parts[i];
    }
    free(c->parts);
    c->parts = v;
    c->part_cap = cap;
  }
  size_t j = hash_key(key) & (c->part_cap - 1);
  while (c->parts[j].key) {
    if (strcmp(c->parts[j].key, key) == 0) return &c->parts[j];
    j = (j + 1) & (c->part_cap - 1);
  }
  c->parts[j].key = strdup(key);
  if (!c->parts[j].key) return NULL;
  c->parts[j].last_seq = -1;
  c->part_count++;
  return &c->parts[j];
}

static void check_failed(struct bench_count *c, const char *fmt, ...)
    DRAY_PRINTF(2, 3);
static void check_failed(struct bench_count *c, const char *fmt, ...) {
  char why[512];
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(why, sizeof why, fmt, ap);
  va_end(ap);
  /* Loud but bounded: a broken order would otherwise log per message. */
  if (c->errors < 10)
    c->host->log(c->inst, DRAY_LOG_ERROR, "CHECK FAILED: %s", why);
  if (c->errors == 0) snprintf(c->first_error, sizeof c->first_error, "%s", why);
  c->errors++;
}

static void write_result(struct bench_count *c, const char *status) {
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp", c->result_file);
  FILE *f = fopen(tmp, "w");
  if (!f) {
    c->host->log(c->inst, DRAY_LOG_ERROR, "result_file %s: %s", tmp,
                 strerror(errno));
    return;
  }
  int64_t elapsed = c->done_ns - c->start_ns;
  fprintf(f,
          "status=%s\ncount=%" PRId64 "\nexpected=%" PRId64
          "\npartitions=%zu\nerrors=%" PRIu64 "\nelapsed_ns=%" PRId64
          "\nfirst_delivery_lag_ns=%" PRId64 "\nmsgs_per_s=%.0f\n",
          status, c->count, c->expected, c->part_count, c->errors,
          c->done_ns ? elapsed : 0,
          c->first_seen_ns ? c->first_seen_ns - c->start_ns : 0,
          c->done_ns && elapsed > 0 ? (double)c->count * 1e9 / (double)elapsed
                                    : 0.0);
  if (c->errors) fprintf(f, "error=%s\n", c->first_error);
  if (fclose(f) != 0 || rename(tmp, c->result_file) != 0)
    c->host->log(c->inst, DRAY_LOG_ERROR, "result_file %s: %s",
                 c->result_file, strerror(errno));
}

static dray_status count_process(void *state, const dray_msg *msg) {
  struct bench_count *c = state;
  const struct dray_host *h = c->host;
  while (c->hold_file && access(c->hold_file, F_OK) == 0 && !h->stop_requested(c->inst)) {
    struct timespec pause = {0, 10000000};
    nanosleep(&pause, NULL);
  }
  int64_t now = h->monotonic_ns();
  c->count++;
  const char *key = h->msg_header(msg, "partitionkey");
  const char *seq_text = h->msg_header(msg, "benchseq");
  if (!key || !seq_text) {
    check_failed(c, "message %s has no %s attribute", h->msg_header(msg, "id"),
                 key ? "benchseq" : "partitionkey");
    goto counted;
  }
  char *end = NULL;
  errno = 0;
  long long seq = strtoll(seq_text, &end, 10);
  if (errno || end == seq_text || *end) {
    check_failed(c, "partition %s: benchseq \"%s\" is not an integer", key,
                 seq_text);
    goto counted;
  }
  if (c->count == 1) {
    c->first_seen_ns = now;
    const char *start = h->msg_header(msg, "benchstart");
    if (!start) {
      check_failed(c, "first message seen (partition %s, benchseq %lld) has "
                      "no benchstart: it is not the first of its partition",
                   key, seq);
      c->start_ns = now; /* keeps the figures finite; status says failed */
    } else {
      c->start_ns = strtoll(start, NULL, 10);
    }
  }
  if (c->body_bytes) {
    size_t len = 0;
    h->msg_body(msg, &len);
    if ((int64_t)len != c->body_bytes)
      check_failed(c, "partition %s, benchseq %lld: body of %zu bytes, "
                      "expected %" PRId64,
                   key, seq, len, c->body_bytes);
  }
  struct partition *p = partition_for(c, key);
  if (!p) {
    check_failed(c, "out of memory tracking partition %s", key);
    goto counted;
  }
  if (seq != p->last_seq + 1)
    check_failed(c, "partition %s: benchseq %lld after %lld (expected %lld): "
                    "order broken, or a message lost or duplicated",
                 key, seq, (long long)p->last_seq, (long long)p->last_seq + 1);
  if (seq > p->last_seq) p->last_seq = seq;
counted:
  if (c->count == c->expected) {
    c->done_ns = now;
    write_result(c, c->errors ? "failed" : "ok");
    c->written = 1;
    h->log(c->inst, DRAY_LOG_INFO, "%" PRId64 " messages in %.3f s: %.0f msgs/s%s",
           c->count, (double)(c->done_ns - c->start_ns) / 1e9,
           (double)c->count * 1e9 / (double)(c->done_ns - c->start_ns + 1),
           c->errors ? " (CHECKS FAILED)" : "");
  } else if (c->count == c->expected + 1) {
    check_failed(c, "more than the expected %" PRId64 " messages arrived",
                 c->expected);
  }
  return DRAY_OK;
}

static void count_destroy(void *state) {
  struct bench_count *c = state;
  if (!c) return;
  /* The final word: an unfinished run, or messages after the figures were
   * written, must not leave an "ok" file behind. */
  if (!c->written)
    write_result(c, "incomplete");
  else if (c->count != c->expected)
    write_result(c, "failed");
  for (size_t i = 0; i < c->part_cap; i++) free(c->parts[i].key);
  free(c->parts);
  free(c);
}

static const struct dray_plugin bench_count_desc = {
    .struct_size = sizeof(struct dray_plugin),
    .abi_major = DRAY_ABI_MAJOR,
    .abi_minor = DRAY_ABI_MINOR,
    .name = "bench_count",
    .version = "1.0.0",
    .description = "Benchmark destination: counts, checks per-key order, writes the figures",
    .kinds = DRAY_KIND_DESTINATION,
    .params = params,
    .param_count = sizeof params / sizeof params[0],
    .create = count_create,
    .destroy = count_destroy,
    .process = count_process,
};

DRAY_PLUGIN_DEFINE(bench_count_desc)
