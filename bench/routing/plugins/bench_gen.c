/* bench_gen.c - the `bench_gen` plugin: a source that emits `count`
 * messages as fast as the runtime accepts them, for the routing benchmark.
 *
 * `threads` threads (default 1), started in start(), build each message
 * with host->msg_new
 * (a ~body_bytes JSON body, copied by the host, as a real source's would be)
 * and emits it; on DRAY_RETRY (backpressure) it keeps the message, pauses
 * briefly and tries again, so nothing is lost or duplicated.
 *
 * What the counter (bench_count) checks rides in envelope attributes, never
 * in the body, so no plugin parses JSON on the measured path:
 *   partitionkey  "p<k>", k = i % partitions: messages spread over keys
 *   benchseq      0, 1, 2, ... per partition key, in emit order
 *   benchstart    on the first message of each key only: the
 *                 host->monotonic_ns() taken just before the first message
 *                 was built. The runtime preserves order per key, so the
 *                 first message any destination sees carries it, and the
 *                 destination measures from the first emit to the last
 *                 delivery on one clock (both run in the same process).
 *
 * With several threads, thread t emits the messages i with i % threads ==
 * t, so each partition key belongs to one thread (partitions must be a
 * multiple of threads) and its order is still checked: like an HTTP source
 * answering concurrent requests, each sending its own keys.
 *
 * Optional `result_file`: written when the last thread ends, with what
 * was emitted and how often it met backpressure. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <dray/dray.h>

static const struct dray_param params[] = {
    DRAY_PARAM_RANGE("count", DRAY_PARAM_INT, DRAY_PARAM_REQUIRED, NULL, 1,
                     1e12, "Number of messages to emit"),
    DRAY_PARAM_RANGE("body_bytes", DRAY_PARAM_INT, 0, "1024", 64, 16777216.0,
                     "Size of each JSON body in bytes"),
    DRAY_PARAM_INIT("type", DRAY_PARAM_STRING, 0, "dray.bench.event.v1",
                    "Message type emitted"),
    DRAY_PARAM_RANGE("partitions", DRAY_PARAM_INT, 0, "16", 1, 1000000,
                     "Number of distinct partition keys (p0, p1, ...)"),
    DRAY_PARAM_RANGE("retry_pause_us", DRAY_PARAM_INT, 0, "50", 0, 1000000,
                     "Pause after a backpressure answer before emitting again"),
    DRAY_PARAM_RANGE("batch", DRAY_PARAM_INT, 0, "256", 1, 4096,
                     "Messages per emit_batch call (one group commit); 1 = emit each"),
    DRAY_PARAM_INIT("result_file", DRAY_PARAM_PATH, 0, NULL,
                    "Optional file to write the generator's own figures into"),
    DRAY_PARAM_RANGE("threads", DRAY_PARAM_INT, 0, "1", 1, 64,
                     "Emitting threads, each with its own partition keys"),
};

struct bench_gen;

/* One emitting thread. */
struct gen_thread {
  struct bench_gen *g;
  int64_t index;
  char *body; /* this thread's copy of the body template */
  int64_t *lat; /* duration of each accepted emit call */
  size_t lat_count, lat_cap;
  uint64_t retries;
  int64_t emitted;
  const char *status;
  pthread_t thread;
  int running;
};

struct bench_gen {
  const struct dray_host *host;
  dray_instance *inst;
  const char *type;
  const char *result_file;
  int64_t count;
  int64_t body_bytes;
  int64_t partitions;
  int64_t retry_pause_us;
  int64_t batch;
  int64_t threads;
  /* The body template: a fixed-width number slot followed by padding, so
   * building a message is one snprintf into the slot, not a new string. */
  char *body;
  size_t seq_slot; /* offset of the 20-digit number slot in body */
  int64_t *next_seq; /* per partition: the next benchseq to stamp (one thread each) */
  struct gen_thread *workers;
  int64_t t0;
  atomic_int finished; /* threads done; the last writes the result */
  atomic_int quit;
};

static int gen_create(const struct dray_host *host, dray_instance *inst,
                      void **state) {
  struct bench_gen *g = calloc(1, sizeof *g);
  if (!g) return -1;
  g->host = host;
  g->inst = inst;
  g->count = host->get_int(inst, "count", 0);
  g->body_bytes = host->get_int(inst, "body_bytes", 1024);
  g->partitions = host->get_int(inst, "partitions", 16);
  g->retry_pause_us = host->get_int(inst, "retry_pause_us", 50);
  g->type = host->get_string(inst, "type");
  g->result_file = host->get_string(inst, "result_file");
  atomic_init(&g->quit, 0);

  static const char head[] = "{\"n\":";
  static const char mid[] = ",\"pad\":\"";
  static const char tail[] = "\"}";
  /* head + 20 digits + mid + padding + tail == body_bytes */
  size_t fixed = sizeof head - 1 + 20 + sizeof mid - 1 + sizeof tail - 1;
  if ((size_t)g->body_bytes < fixed) {
    host->set_error(inst, "body_bytes: at least %zu bytes needed, got %" PRId64,
                    fixed, g->body_bytes);
    goto fail;
  }
  g->body = malloc((size_t)g->body_bytes + 1);
  g->batch = host->get_int(inst, "batch", 256);
  g->threads = host->get_int(inst, "threads", 1);
  if (g->partitions % g->threads != 0) {
    host->set_error(inst, "partitions (%" PRId64 ") must be a multiple of threads (%" PRId64 ")",
                    g->partitions, g->threads);
    goto fail;
  }
  g->next_seq = calloc((size_t)g->partitions, sizeof *g->next_seq);
  g->workers = calloc((size_t)g->threads, sizeof *g->workers);
  if (!g->body || !g->next_seq || !g->workers) {
    host->set_error(inst, "out of memory");
    goto fail;
  }
  char *p = g->body;
  memcpy(p, head, sizeof head - 1);
  p += sizeof head - 1;
  g->seq_slot = (size_t)(p - g->body);
  memset(p, '0', 20);
  p += 20;
  memcpy(p, mid, sizeof mid - 1);
  p += sizeof mid - 1;
  size_t pad = (size_t)g->body_bytes - fixed;
  for (size_t i = 0; i < pad; i++) p[i] = (char)('a' + i % 26);
  p += pad;
  memcpy(p, tail, sizeof tail); /* with the NUL */
  for (int64_t t = 0; t < g->threads; t++) {
    g->workers[t] = (struct gen_thread){.g = g, .index = t, .status = "ok"};
    g->workers[t].body = malloc((size_t)g->body_bytes + 1);
    if (!g->workers[t].body) {
      host->set_error(inst, "out of memory");
      goto fail;
    }
    memcpy(g->workers[t].body, g->body, (size_t)g->body_bytes + 1);
  }
  *state = g;
  return 0;
fail:
  for (int64_t t = 0; g->workers && t < g->threads; t++) free(g->workers[t].body);
  free(g->workers);
  free(g->body);
  free(g->next_seq);
  free(g);
  return -1;
}

static void pause_us(int64_t us) {
  if (us <= 0) return;
  struct timespec ts = {(time_t)(us / 1000000), (long)(us % 1000000) * 1000};
  nanosleep(&ts, NULL);
}

/* Builds message i. Returns NULL when the host refuses (out of memory). */
static dray_msg *build(struct bench_gen *g, char *body, int64_t i, int64_t t0) {
  const struct dray_host *h = g->host;
  char digits[24], key[24], seq[24], start[24];
  snprintf(digits, sizeof digits, "%020" PRId64, i);
  memcpy(body + g->seq_slot, digits, 20);
  dray_msg *msg = h->msg_new(g->inst, g->type, body, (size_t)g->body_bytes);
  if (!msg) return NULL;
  int64_t part = i % g->partitions;
  int64_t s = g->next_seq[part];
  snprintf(key, sizeof key, "p%" PRId64, part);
  snprintf(seq, sizeof seq, "%" PRId64, s);
  int rc = h->msg_set_header(msg, "partitionkey", key) |
           h->msg_set_header(msg, "benchseq", seq);
  if (s == 0) {
    snprintf(start, sizeof start, "%" PRId64, t0);
    rc |= h->msg_set_header(msg, "benchstart", start);
  }
  if (rc != 0) h->msg_free(&msg);
  return msg;
}

static int cmp_i64(const void *a, const void *b) {
  int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
  return (x > y) - (x < y);
}

/* Ack latency: how long an accepted emit/emit_batch call took (for the
 * durable class, until the records were fdatasync'ed). */
static int64_t percentile(int64_t *v, size_t n, double p) {
  if (!n) return 0;
  size_t i = (size_t)(p * (double)(n - 1) + 0.5);
  return v[i < n ? i : n - 1];
}

static void write_result(struct bench_gen *g, const char *status,
                         int64_t emitted, uint64_t retries, int64_t t0,
                         int64_t t_last, int64_t *lat, size_t lat_count) {
  if (!g->result_file) return;
  char tmp[4096];
  snprintf(tmp, sizeof tmp, "%s.tmp", g->result_file);
  FILE *f = fopen(tmp, "w");
  if (!f) {
    g->host->log(g->inst, DRAY_LOG_ERROR, "result_file %s: %s", tmp,
                 strerror(errno));
    return;
  }
  fprintf(f,
          "status=%s\nemitted=%" PRId64 "\nbackpressure_retries=%" PRIu64
          "\nfirst_emit_ns=%" PRId64 "\nemit_elapsed_ns=%" PRId64 "\n",
          status, emitted, retries, t0, t_last - t0);
  if (lat_count) {
    qsort(lat, lat_count, sizeof *lat, cmp_i64);
    fprintf(f, "ack_p50_ns=%" PRId64 "\nack_p99_ns=%" PRId64 "\n",
            percentile(lat, lat_count, 0.50), percentile(lat, lat_count, 0.99));
  }
  if (fclose(f) != 0 || rename(tmp, g->result_file) != 0)
    g->host->log(g->inst, DRAY_LOG_ERROR, "result_file %s: %s",
                 g->result_file, strerror(errno));
}

/* The last thread to finish: every thread's figures in one result. */
static void report(struct bench_gen *g, int64_t t_last) {
  const struct dray_host *h = g->host;
  const char *status = "ok";
  int64_t emitted = 0;
  uint64_t retries = 0;
  size_t n = 0;
  for (int64_t t = 0; t < g->threads; t++) n += g->workers[t].lat_count;
  int64_t *lat = malloc((n ? n : 1) * sizeof *lat);
  n = 0;
  for (int64_t t = 0; t < g->threads; t++) {
    struct gen_thread *w = &g->workers[t];
    emitted += w->emitted;
    retries += w->retries;
    if (strcmp(w->status, "ok") != 0) status = w->status;
    if (lat && w->lat_count) memcpy(lat + n, w->lat, w->lat_count * sizeof *lat);
    n += w->lat_count;
  }
  write_result(g, status, emitted, retries, g->t0, t_last, lat, lat ? n : 0);
  free(lat);
  h->log(g->inst, DRAY_LOG_INFO,
         "%s: emitted %" PRId64 " of %" PRId64 " messages in %.3f s with %" PRId64
         " thread(s) (%" PRIu64 " backpressure retries)",
         status, emitted, g->count, (double)(t_last - g->t0) / 1e9, g->threads, retries);
}

static void *gen_main(void *arg) {
  struct gen_thread *w = arg;
  struct bench_gen *g = w->g;
  const struct dray_host *h = g->host;
  const int64_t step = g->threads, t0 = g->t0;
  int64_t i = w->index; /* this thread's messages: index, index + step, ... */
  dray_msg **batch = calloc((size_t)g->batch, sizeof *batch);
  w->lat_cap = (size_t)(g->count / step / g->batch + 2);
  w->lat = calloc(w->lat_cap, sizeof *w->lat);
  if (!w->lat) w->lat_cap = 0;
  if (!batch) w->status = "failed";
  while (batch && i < g->count) {
    size_t n = 0;
    while (n < (size_t)g->batch && i + (int64_t)n * step < g->count) {
      int64_t k = i + (int64_t)n * step;
      if (!(batch[n] = build(g, w->body, k, t0))) break;
      g->next_seq[k % g->partitions]++;
      n++;
    }
    if (n == 0) {
      h->log(g->inst, DRAY_LOG_ERROR, "cannot build message %" PRId64, i);
      w->status = "failed";
      break;
    }
    size_t done = 0;
    dray_status st = DRAY_OK;
    while (done < n) {
      size_t accepted = 0;
      int64_t call_t0 = h->monotonic_ns();
      if (g->batch > 1) {
        st = h->emit_batch(g->inst, batch + done, n - done, &accepted);
      } else {
        st = h->emit(g->inst, &batch[done]);
        accepted = st == DRAY_OK;
      }
      if (st == DRAY_OK && w->lat_count < w->lat_cap)
        w->lat[w->lat_count++] = h->monotonic_ns() - call_t0;
      done += accepted;
      if (done == n || st != DRAY_RETRY || atomic_load(&g->quit) ||
          h->stop_requested(g->inst))
        break;
      w->retries++;
      pause_us(g->retry_pause_us);
    }
    i += (int64_t)done * step;
    w->emitted += (int64_t)done;
    if (done < n) {
      /* RETRY here means we were asked to stop mid-way. */
      if (st != DRAY_RETRY)
        h->log(g->inst, DRAY_LOG_ERROR,
               "emit of message %" PRId64 " answered %d; generator stops", i, (int)st);
      w->status = st == DRAY_RETRY ? "stopped" : "failed";
      for (size_t k = done; k < n; k++) h->msg_free(&batch[k]);
      break;
    }
  }
  free(batch);
  if (atomic_fetch_add(&g->finished, 1) + 1 == g->threads) report(g, h->monotonic_ns());
  return NULL;
}

static int gen_start(void *state) {
  struct bench_gen *g = state;
  g->t0 = g->host->monotonic_ns();
  for (int64_t t = 0; t < g->threads; t++) {
    if (pthread_create(&g->workers[t].thread, NULL, gen_main, &g->workers[t]) != 0) {
      g->host->set_error(g->inst, "cannot start generator thread %" PRId64, t);
      return -1;
    }
    g->workers[t].running = 1;
  }
  return 0;
}

static void gen_stop(void *state) {
  struct bench_gen *g = state;
  atomic_store(&g->quit, 1);
  for (int64_t t = 0; t < g->threads; t++) {
    if (g->workers[t].running) pthread_join(g->workers[t].thread, NULL);
    g->workers[t].running = 0;
  }
}

static void gen_destroy(void *state) {
  struct bench_gen *g = state;
  if (!g) return;
  gen_stop(g);
  for (int64_t t = 0; t < g->threads; t++) {
    free(g->workers[t].body);
    free(g->workers[t].lat);
  }
  free(g->workers);
  free(g->body);
  free(g->next_seq);
  free(g);
}

static const struct dray_plugin bench_gen_desc = {
    .struct_size = sizeof(struct dray_plugin),
    .abi_major = DRAY_ABI_MAJOR,
    .abi_minor = DRAY_ABI_MINOR,
    .name = "bench_gen",
    .version = "1.0.0",
    .description = "Benchmark source: emits `count` sequenced messages from its own thread",
    .kinds = DRAY_KIND_SOURCE,
    .params = params,
    .param_count = sizeof params / sizeof params[0],
    .create = gen_create,
    .destroy = gen_destroy,
    .start = gen_start,
    .stop = gen_stop,
};

DRAY_PLUGIN_DEFINE(bench_gen_desc)
