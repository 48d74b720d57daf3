/* testkit.c - a plugin for the runtime's integration tests: a source
 * that emits numbered messages from its own thread, a destination whose
 * behaviour is configured (slow, transiently failing, rejecting), a codec
 * of one message per text line, and an HTTP route that emits.
 * Everything it sees is written to files the tests read. */
#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <dray/dray.h>

static const struct dray_param params[] = {
    DRAY_PARAM_RANGE("count", DRAY_PARAM_INT, 0, "0", 0, 100000000,
                     "Source: messages to emit from a thread after start"),
    DRAY_PARAM_RANGE("partitions", DRAY_PARAM_INT, 0, "1", 1, 1000,
                     "Source: number of partition keys, round robin"),
    DRAY_PARAM_INIT("type", DRAY_PARAM_STRING, 0, "dray.test.item.v1",
                    "Source: type of the emitted messages"),
    DRAY_PARAM_INIT("stats_file", DRAY_PARAM_PATH, 0, NULL,
                    "Source: written at stop: emitted and backpressure counts"),
    DRAY_PARAM_INIT("log_file", DRAY_PARAM_PATH, 0, NULL,
                    "Destination: one line per processed message: partitionkey seq type"),
    DRAY_PARAM_RANGE("delay_ms", DRAY_PARAM_INT, 0, "0", 0, 60000,
                     "Destination: sleep this long in each process()"),
    DRAY_PARAM_RANGE("retry_first", DRAY_PARAM_INT, 0, "0", 0, 1000,
                     "Destination: answer RETRY to the first N calls"),
    DRAY_PARAM_RANGE("retry_after_ms", DRAY_PARAM_INT, 0, "-1", -1, 600000,
                     "Destination: retry-after hint given with each RETRY"),
    DRAY_PARAM_INIT("reject_type", DRAY_PARAM_STRING, 0, NULL,
                    "Destination: REJECT messages of this type"),
    DRAY_PARAM_INIT("http_path", DRAY_PARAM_STRING, 0, NULL,
                    "Source: register POST http_path; each body is emitted"),
    DRAY_PARAM_INIT("token", DRAY_PARAM_STRING, DRAY_PARAM_SECRET, NULL,
                    "HTTP: required bearer token (secret)"),
    DRAY_PARAM_INIT("idempotency_prefix", DRAY_PARAM_STRING, 0, NULL,
                    "Source: set idempotencykey PREFIX<n> on message n"),
    DRAY_PARAM_INIT("effects_file", DRAY_PARAM_PATH, 0, NULL,
                    "Destination: the 'other system': one line per effect (idempotency key)"),
    DRAY_PARAM_RANGE("in_doubt_first", DRAY_PARAM_INT, 0, "0", 0, 1000,
                     "Destination: the first N calls take effect, then answer RETRY in doubt"),
    DRAY_PARAM_RANGE("batch", DRAY_PARAM_INT, 0, "1", 1, 4096,
                     "Source: messages per emit_batch call (1 = emit)"),
    DRAY_PARAM_INIT("oracle_dir", DRAY_PARAM_PATH, 0, NULL,
                    "Reliability oracle: the source records acknowledged emits (acked.log) "
                    "and resumes after them; the destination checks payloads and records "
                    "deliveries (delivered.log)"),
};

struct testkit {
  const struct dray_host *host;
  dray_instance *inst;
  int64_t count, partitions, delay_ms, retry_first, retry_after_ms, batch;
  const char *type, *stats_file, *log_file, *reject_type, *token;
  const char *idem_prefix, *effects_file, *oracle_dir;
  int acked_fd, delivered_fd;
  int64_t first;
  int64_t in_doubt_first;
  pthread_t thread;
  int thread_running;
  atomic_long emitted, backpressure, calls;
  FILE *log;
};

/* --- the reliability oracle ------------------------------------------------
 * Message n has id and idempotency key "oracle-<n>" and a body whose pad is
 * derived from n, so the destination can tell a damaged payload. The source
 * appends n to acked.log once emit said OK (write(2): survives kill -9)
 * and resumes after the highest; the destination appends "n ok" or
 * "n mismatch" to delivered.log. */

static void oracle_pad(int64_t n, char out[33]) {
  uint64_t h = (uint64_t)n * 0x9E3779B97F4A7C15ull;
  for (int i = 0; i < 32; i++) {
    h ^= h >> 29;
    h *= 0xBF58476D1CE4E5B9ull;
    out[i] = "0123456789abcdef"[h >> 60];
  }
  out[32] = '\0';
}

static int oracle_open(struct testkit *tk) {
  char path[4096];
  snprintf(path, sizeof path, "%s/acked.log", tk->oracle_dir);
  FILE *f = fopen(path, "r");
  long long n, max = -1;
  if (f) {
    while (fscanf(f, "%lld", &n) == 1)
      if (n > max) max = n;
    fclose(f);
  }
  tk->first = max + 1;
  tk->acked_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  snprintf(path, sizeof path, "%s/delivered.log", tk->oracle_dir);
  tk->delivered_fd = open(path, O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  return tk->acked_fd >= 0 && tk->delivered_fd >= 0 ? 0 : -1;
}

static void oracle_line(int fd, const char *fmt, long long n, const char *word) {
  char line[96];
  int len = snprintf(line, sizeof line, fmt, n, word);
  if (write(fd, line, (size_t)len) != len) abort(); /* the oracle must not lie */
}

static void oracle_check(struct testkit *tk, const dray_msg *msg) {
  size_t len;
  const char *body = tk->host->msg_body(msg, &len);
  long long n = -1;
  char pad[64] = "", want[33];
  if (sscanf(body, "{\"n\":%lld,\"pad\":\"%32[0-9a-f]\"}", &n, pad) != 2) {
    oracle_line(tk->delivered_fd, "%lld %s\n", -1, "mismatch");
    return;
  }
  oracle_pad(n, want);
  char id[48];
  snprintf(id, sizeof id, "oracle-%lld", n);
  const char *got_id = tk->host->msg_header(msg, "id");
  int ok = strcmp(pad, want) == 0 && got_id && strcmp(got_id, id) == 0;
  oracle_line(tk->delivered_fd, "%lld %s\n", n, ok ? "ok" : "mismatch");
}

static int tk_create(const struct dray_host *host, dray_instance *inst,
                     void **state) {
  struct testkit *tk = calloc(1, sizeof *tk);
  if (!tk) return -1;
  tk->host = host;
  tk->inst = inst;
  tk->count = host->get_int(inst, "count", 0);
  tk->partitions = host->get_int(inst, "partitions", 1);
  tk->batch = host->get_int(inst, "batch", 1);
  tk->delay_ms = host->get_int(inst, "delay_ms", 0);
  tk->retry_first = host->get_int(inst, "retry_first", 0);
  tk->retry_after_ms = host->get_int(inst, "retry_after_ms", -1);
  tk->type = host->get_string(inst, "type");
  tk->stats_file = host->get_string(inst, "stats_file");
  tk->log_file = host->get_string(inst, "log_file");
  tk->reject_type = host->get_string(inst, "reject_type");
  tk->token = host->get_secret(inst, "token");
  tk->idem_prefix = host->get_string(inst, "idempotency_prefix");
  tk->effects_file = host->get_string(inst, "effects_file");
  tk->in_doubt_first = host->get_int(inst, "in_doubt_first", 0);
  tk->oracle_dir = host->get_string(inst, "oracle_dir");
  tk->acked_fd = tk->delivered_fd = -1;
  if (tk->oracle_dir && oracle_open(tk) != 0) {
    host->set_error(inst, "oracle_dir %s: %s", tk->oracle_dir, strerror(errno));
    free(tk);
    return -1;
  }
  if (tk->log_file && !(tk->log = fopen(tk->log_file, "a"))) {
    host->set_error(inst, "cannot open %s: %s", tk->log_file, strerror(errno));
    free(tk);
    return -1;
  }
  *state = tk;
  return 0;
}

static void sleep_ms(int64_t ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
  nanosleep(&ts, NULL);
}

static dray_msg *make_message(struct testkit *tk, int64_t i) {
  const struct dray_host *h = tk->host;
  char body[128], key[32], seq[32];
  int n;
  if (tk->oracle_dir) {
    char pad[33];
    oracle_pad(i, pad);
    n = snprintf(body, sizeof body, "{\"n\":%lld,\"pad\":\"%s\"}", (long long)i, pad);
  } else {
    n = snprintf(body, sizeof body, "{\"n\":%lld}", (long long)i);
  }
  snprintf(key, sizeof key, "p%lld", (long long)(i % tk->partitions));
  snprintf(seq, sizeof seq, "%020lld", (long long)i);
  dray_msg *m = h->msg_new(tk->inst, tk->type, body, (size_t)n);
  if (!m) return NULL;
  h->msg_set_header(m, "partitionkey", key);
  h->msg_set_header(m, "sequence", seq);
  if (tk->oracle_dir) {
    char id[48];
    snprintf(id, sizeof id, "oracle-%lld", (long long)i);
    h->msg_set_header(m, "id", id);
    h->msg_set_header(m, "idempotencykey", id);
  }
  if (tk->idem_prefix) {
    char idem[160];
    snprintf(idem, sizeof idem, "%s%lld", tk->idem_prefix, (long long)i);
    h->msg_set_header(m, "idempotencykey", idem);
  }
  return m;
}

/* Emits messages [first, count) in batches of tk->batch, retrying what
 * meets backpressure, recording acknowledged ones for the oracle. */
static void *source_main(void *arg) {
  struct testkit *tk = arg;
  const struct dray_host *h = tk->host;
  dray_msg *msgs[4096];
  int64_t next = tk->first;
  while (next < tk->count && !h->stop_requested(tk->inst)) {
    size_t n = 0;
    while (n < (size_t)tk->batch && next + (int64_t)n < tk->count) {
      msgs[n] = make_message(tk, next + (int64_t)n);
      if (!msgs[n]) break;
      n++;
    }
    size_t done = 0;
    while (done < n) {
      size_t accepted = 0;
      dray_status st;
      if (tk->batch > 1) {
        st = h->emit_batch(tk->inst, msgs + done, n - done, &accepted);
      } else {
        st = h->emit(tk->inst, &msgs[done]);
        accepted = st == DRAY_OK;
      }
      for (size_t k = 0; k < accepted; k++) {
        atomic_fetch_add(&tk->emitted, 1);
        if (tk->oracle_dir)
          oracle_line(tk->acked_fd, "%lld%s\n", (long long)(next + (int64_t)(done + k)), "");
      }
      done += accepted;
      if (done == n) break;
      if (st != DRAY_RETRY || h->stop_requested(tk->inst)) {
        for (size_t k = done; k < n; k++) h->msg_free(&msgs[k]);
        return NULL;
      }
      atomic_fetch_add(&tk->backpressure, 1);
      sleep_ms(1);
    }
    next += (int64_t)n;
  }
  return NULL;
}

static int tk_start(void *state) {
  struct testkit *tk = state;
  if (tk->count <= 0) return 0;
  if (pthread_create(&tk->thread, NULL, source_main, tk) != 0) return -1;
  tk->thread_running = 1;
  return 0;
}

static void tk_stop(void *state) {
  struct testkit *tk = state;
  if (tk->thread_running) pthread_join(tk->thread, NULL);
  tk->thread_running = 0;
  if (tk->stats_file) {
    FILE *f = fopen(tk->stats_file, "w");
    if (f) {
      fprintf(f, "emitted %ld\nbackpressure %ld\n", atomic_load(&tk->emitted),
              atomic_load(&tk->backpressure));
      fclose(f);
    }
  }
}

static void tk_destroy(void *state) {
  struct testkit *tk = state;
  if (tk->log) fclose(tk->log);
  if (tk->acked_fd >= 0) close(tk->acked_fd);
  if (tk->delivered_fd >= 0) close(tk->delivered_fd);
  free(tk);
}

static dray_status tk_process(void *state, const dray_msg *msg) {
  struct testkit *tk = state;
  const struct dray_host *h = tk->host;
  long call = atomic_fetch_add(&tk->calls, 1);
  if (tk->delay_ms) sleep_ms(tk->delay_ms);
  if (call < tk->retry_first) {
    if (tk->retry_after_ms >= 0) h->set_retry_after(tk->inst, tk->retry_after_ms);
    h->set_error(tk->inst, "testkit: transient failure %ld", call + 1);
    return DRAY_RETRY;
  }
  if (tk->oracle_dir && !tk->effects_file) oracle_check(tk, msg);
  if (tk->effects_file) {
    if (tk->oracle_dir) oracle_check(tk, msg);
    /* the effect happens in the other system */
    const char *key = h->msg_header(msg, "idempotencykey");
    FILE *f = fopen(tk->effects_file, "a");
    if (!f) return DRAY_RETRY;
    fprintf(f, "%s\n", key ? key : "-");
    fclose(f);
    if (call < tk->in_doubt_first) {
      h->set_error(tk->inst, "testkit: timeout after sending %s", key ? key : "-");
      h->set_in_doubt(tk->inst);
      return DRAY_RETRY;
    }
    char ref[64];
    snprintf(ref, sizeof ref, "REF-%ld", call + 1);
    h->set_effect_reference(tk->inst, ref);
  }
  const char *type = h->msg_type(msg);
  if (tk->reject_type && strcmp(type, tk->reject_type) == 0) {
    h->set_error(tk->inst, "testkit: type %s is rejected here", type);
    return DRAY_REJECT;
  }
  if (tk->log) {
    const char *key = h->msg_header(msg, "partitionkey");
    const char *seq = h->msg_header(msg, "sequence");
    fprintf(tk->log, "%s %s %s %s\n", key ? key : "-", seq ? seq : "-", type,
            h->msg_header(msg, "id"));
    fflush(tk->log);
  }
  return DRAY_OK;
}

/* Codec: each non-empty line "TYPE JSON" is one message; a line without a
 * space is an error naming its line number. */
static dray_status tk_decode(void *state, const void *input, size_t len,
                             const char *origin, dray_batch *out) {
  struct testkit *tk = state;
  const struct dray_host *h = tk->host;
  const char *p = input, *end = p + len;
  size_t line = 0;
  while (p < end) {
    const char *eol = memchr(p, '\n', (size_t)(end - p));
    const char *stop = eol ? eol : end;
    line++;
    if (stop > p) {
      const char *sp = memchr(p, ' ', (size_t)(stop - p));
      if (!sp) {
        h->set_error(tk->inst, "%s:%zu: expected \"TYPE JSON\"", origin, line);
        return DRAY_REJECT;
      }
      char type[128];
      snprintf(type, sizeof type, "%.*s", (int)(sp - p), p);
      dray_msg *m = h->msg_new(tk->inst, type, sp + 1, (size_t)(stop - sp - 1));
      if (!m || h->batch_add(out, &m) != 0) return DRAY_RETRY;
    }
    p = eol ? eol + 1 : end;
  }
  return DRAY_OK;
}

static dray_status tk_encode(void *state, const dray_msg *msg, dray_buf *out) {
  struct testkit *tk = state;
  const struct dray_host *h = tk->host;
  size_t len;
  const char *body = h->msg_body(msg, &len);
  if (h->buf_printf(out, "%s ", h->msg_type(msg)) != 0 ||
      h->buf_append(out, body, len) != 0 || h->buf_append(out, "\n", 1) != 0)
    return DRAY_RETRY;
  return DRAY_OK;
}

#ifndef TESTKIT_NO_LOOKUP
/* Looks the key up in the other system (the effects file). */
static dray_status tk_lookup(void *state, const dray_msg *msg, dray_buf *reference) {
  struct testkit *tk = state;
  const char *key = tk->host->msg_header(msg, "idempotencykey");
  char line[256];
  FILE *f = tk->effects_file ? fopen(tk->effects_file, "r") : NULL;
  if (!f) return DRAY_REJECT;
  dray_status st = DRAY_REJECT;
  while (key && fgets(line, sizeof line, f)) {
    line[strcspn(line, "\n")] = '\0';
    if (strcmp(line, key) == 0) st = DRAY_OK;
  }
  fclose(f);
  if (st == DRAY_OK) tk->host->buf_printf(reference, "found:%s", key);
  return st;
}
#endif

static int tk_auth(void *state, dray_http_exchange *ex) {
  struct testkit *tk = state;
  if (!tk->token) return 0;
  const char *auth = tk->host->http_header(ex, "Authorization");
  if (!auth || strncmp(auth, "Bearer ", 7) != 0 || strcmp(auth + 7, tk->token) != 0)
    return 401;
  return 0;
}

/* Answers only after the runtime accepted the message. */
static dray_status tk_http(void *state, dray_http_exchange *ex) {
  struct testkit *tk = state;
  const struct dray_host *h = tk->host;
  size_t len;
  const void *body = h->http_body(ex, &len);
  dray_msg *m = h->msg_new(tk->inst, tk->type, body, len);
  dray_status st = m ? h->emit(tk->inst, &m) : DRAY_RETRY;
  h->msg_free(&m);
  if (st == DRAY_OK) h->http_respond(ex, 202, "text/plain", "accepted\n", 9);
  return st;
}

static int tk_create_with_http(const struct dray_host *host,
                               dray_instance *inst, void **state) {
  if (tk_create(host, inst, state) != 0) return -1;
  const char *path = host->get_string(inst, "http_path");
  if (path && host->http_route(inst, "POST", path, tk_http, tk_auth) != 0) {
    tk_destroy(*state);
    return -1;
  }
  return 0;
}

static const struct dray_plugin testkit_desc = {
    .struct_size = sizeof(struct dray_plugin),
    .abi_major = DRAY_ABI_MAJOR,
    .abi_minor = DRAY_ABI_MINOR,
#ifdef TESTKIT_NO_LOOKUP
    .name = "testkit_nolookup",
#else
    .name = "testkit",
    .lookup = tk_lookup,
#endif
    .version = "1.0.0",
    .description = "Test plugin: numbered source, configurable destination, line codec, HTTP",
    .kinds = DRAY_KIND_SOURCE | DRAY_KIND_DESTINATION | DRAY_KIND_CODEC,
    .params = params,
    .param_count = sizeof params / sizeof params[0],
    .create = tk_create_with_http,
    .destroy = tk_destroy,
    .start = tk_start,
    .stop = tk_stop,
    .process = tk_process,
    .decode = tk_decode,
    .encode = tk_encode,
};

DRAY_PLUGIN_DEFINE(testkit_desc)
