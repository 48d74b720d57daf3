/* msg_path.c - the middle rung between bare ZeroMQ and `dray run`: the
 * runtime's message model without the router.
 *
 *   msg_path [COUNT [BODY_BYTES]]      (defaults 1000000 1024)
 *
 * Two figures, each for COUNT messages built as bench_gen builds them
 * (host->msg_new with a BODY_BYTES JSON body, then the partitionkey and
 * benchseq attributes) through the SDK's host table (the same message code
 * the runtime uses):
 *   build    one thread builds and frees each message: the cost of a
 *            message alone, malloc's same-thread fast path;
 *   handoff  one thread builds, passes the pointer over ZeroMQ inproc
 *            PUSH/PULL (HWM 1024, as a runtime lane), another reads the
 *            partitionkey attribute, checks the sequence and frees: what a
 *            lane costs when nothing else (route match, admission,
 *            metrics, process lock) is on the path.
 * Comparing them with bare_zmq (copying payloads) and with `dray run`
 * (run.sh) says which part of the path the time goes to.
 *
 * Prints one key=value line per figure; exits 1 if a check failed. */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <zmq.h>

#include <dray-sdk/mock_host.h>
#include <dray/dray.h>

struct path {
  const struct dray_host *host;
  dray_instance *inst;
  char *body;
  size_t body_bytes;
  uint64_t count;
  void *push, *pull;
  int64_t start_ns, done_ns;
  uint64_t errors;
};

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static double cpu_s(void) {
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
         (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

/* Message i as bench_gen builds it (16 partition keys). */
static dray_msg *build(struct path *p, uint64_t i) {
  char key[24], seq[24];
  dray_msg *msg = p->host->msg_new(p->inst, "dray.bench.event.v1", p->body,
                                   p->body_bytes);
  if (!msg) return NULL;
  snprintf(key, sizeof key, "p%" PRIu64, i % 16);
  snprintf(seq, sizeof seq, "%" PRIu64, i / 16);
  if (p->host->msg_set_header(msg, "partitionkey", key) != 0 ||
      p->host->msg_set_header(msg, "benchseq", seq) != 0)
    p->host->msg_free(&msg);
  return msg;
}

static void *producer_main(void *arg) {
  struct path *p = arg;
  p->start_ns = now_ns();
  for (uint64_t i = 0; i < p->count; i++) {
    dray_msg *msg = build(p, i);
    if (!msg || zmq_send(p->push, &msg, sizeof msg, 0) != sizeof msg) {
      fprintf(stderr, "msg_path: message %" PRIu64 " not sent\n", i);
      p->host->msg_free(&msg);
      p->errors++;
      /* The consumer times out on what never comes. */
      break;
    }
  }
  return NULL;
}

static void *consumer_main(void *arg) {
  struct path *p = arg;
  for (uint64_t i = 0; i < p->count; i++) {
    dray_msg *msg = NULL;
    if (zmq_recv(p->pull, &msg, sizeof msg, 0) != sizeof msg) {
      fprintf(stderr, "msg_path: receive %" PRIu64 ": %s\n", i,
              zmq_strerror(zmq_errno()));
      p->errors++;
      break;
    }
    const char *seq = p->host->msg_header(msg, "benchseq");
    if (!seq || strtoull(seq, NULL, 10) != i / 16) {
      if (p->errors++ == 0)
        fprintf(stderr, "msg_path: message %" PRIu64 ": benchseq %s\n", i,
                seq ? seq : "(none)");
    }
    p->host->msg_free(&msg);
  }
  p->done_ns = now_ns();
  return NULL;
}

static int run_build(struct path *p) {
  double cpu0 = cpu_s();
  int64_t t0 = now_ns();
  for (uint64_t i = 0; i < p->count; i++) {
    dray_msg *msg = build(p, i);
    if (!msg) return -1;
    p->host->msg_free(&msg);
  }
  double secs = (double)(now_ns() - t0) / 1e9;
  double cpu = cpu_s() - cpu0;
  printf("msg_path mode=build count=%" PRIu64 " body_bytes=%zu elapsed_s=%.3f "
         "msgs_per_s=%.0f cpu_ns_per_msg=%.0f\n",
         p->count, p->body_bytes, secs, (double)p->count / secs,
         cpu * 1e9 / (double)p->count);
  return 0;
}

static int run_handoff(struct path *p) {
  int rc = -1, hwm = 1024, timeout_ms = 10000;
  void *ctx = zmq_ctx_new();
  if (!ctx) return -1;
  p->pull = zmq_socket(ctx, ZMQ_PULL);
  p->push = zmq_socket(ctx, ZMQ_PUSH);
  if (!p->pull || !p->push ||
      zmq_setsockopt(p->pull, ZMQ_RCVHWM, &hwm, sizeof hwm) != 0 ||
      zmq_setsockopt(p->push, ZMQ_SNDHWM, &hwm, sizeof hwm) != 0 ||
      zmq_setsockopt(p->pull, ZMQ_RCVTIMEO, &timeout_ms, sizeof timeout_ms) != 0 ||
      zmq_bind(p->pull, "inproc://msg_path") != 0 ||
      zmq_connect(p->push, "inproc://msg_path") != 0) {
    fprintf(stderr, "msg_path: socket setup: %s\n", zmq_strerror(zmq_errno()));
    goto out;
  }
  double cpu0 = cpu_s();
  pthread_t producer, consumer;
  if (pthread_create(&consumer, NULL, consumer_main, p) != 0) goto out;
  if (pthread_create(&producer, NULL, producer_main, p) != 0) {
    fprintf(stderr, "msg_path: cannot start the producer thread\n");
    exit(1);
  }
  pthread_join(producer, NULL);
  pthread_join(consumer, NULL);
  double secs = (double)(p->done_ns - p->start_ns) / 1e9;
  double cpu = cpu_s() - cpu0;
  printf("msg_path mode=handoff count=%" PRIu64 " body_bytes=%zu errors=%" PRIu64
         " elapsed_s=%.3f msgs_per_s=%.0f cpu_ns_per_msg=%.0f\n",
         p->count, p->body_bytes, p->errors, secs, (double)p->count / secs,
         cpu * 1e9 / (double)p->count);
  rc = p->errors ? -1 : 0;
out:
  if (p->push) zmq_close(p->push);
  if (p->pull) zmq_close(p->pull);
  zmq_ctx_term(ctx);
  return rc;
}

int main(int argc, char **argv) {
  struct path p = {.count = 1000000, .body_bytes = 1024};
  char *end = NULL;
  if (argc > 3 ||
      (argc > 1 && ((p.count = strtoull(argv[1], &end, 10)) == 0 || *end)) ||
      (argc > 2 && ((p.body_bytes = strtoull(argv[2], &end, 10)) < 16 || *end))) {
    fprintf(stderr, "usage: msg_path [COUNT [BODY_BYTES]] (COUNT >= 1, BODY_BYTES >= 16)\n");
    return 2;
  }
  int code = 1;
  dray_mock_host *mock = dray_mock_host_new("gen");
  p.body = malloc(p.body_bytes + 1);
  if (!mock || !p.body) goto out;
  p.host = dray_mock_host_table(mock);
  p.inst = dray_mock_host_instance(mock);
  /* A valid JSON string body of exactly body_bytes. */
  memset(p.body, 'x', p.body_bytes);
  p.body[0] = '"';
  p.body[p.body_bytes - 1] = '"';
  p.body[p.body_bytes] = '\0';
  if (run_build(&p) != 0 || run_handoff(&p) != 0) goto out;
  code = 0;
out:
  free(p.body);
  dray_mock_host_destroy(&mock);
  return code;
}
