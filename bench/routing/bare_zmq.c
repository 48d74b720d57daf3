/* bare_zmq.c - the peer of the routing benchmark: the same N messages of
 * body_bytes each, over bare ZeroMQ inproc PUSH/PULL between two threads,
 * with nothing else on the path.
 *
 *   bare_zmq [COUNT [BODY_BYTES [HWM]]]     (defaults 1000000 1024 1024)
 *
 * The sender copies the payload into every ZeroMQ message (zmq_send), as
 * the runtime's msg_new copies a source's body; the receiver takes each
 * message without copying and checks that its sequence number is the next
 * one, as bench_count does. The interval runs from just before the first
 * send to just after the last receive, one clock, same process. HWM
 * defaults to the runtime's default queue_capacity (1024).
 *
 * Prints one line of key=value figures; exits 1 if a check failed. */
#include <inttypes.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <zmq.h>

struct run {
  void *push, *pull;
  uint64_t count;
  size_t body_bytes;
  _Atomic int64_t start_ns; /* set by the sender before its first send */
  int64_t done_ns;          /* set by the receiver after its last receive */
  uint64_t errors;
  int send_failed;
};

static int64_t now_ns(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static void *sender_main(void *arg) {
  struct run *r = arg;
  char *payload = malloc(r->body_bytes);
  if (!payload) {
    r->send_failed = 1;
    return NULL;
  }
  for (size_t i = 0; i < r->body_bytes; i++) payload[i] = (char)('a' + i % 26);
  atomic_store(&r->start_ns, now_ns());
  for (uint64_t i = 0; i < r->count; i++) {
    memcpy(payload, &i, sizeof i);
    if (zmq_send(r->push, payload, r->body_bytes, 0) < 0) {
      fprintf(stderr, "bare_zmq: zmq_send: %s\n", zmq_strerror(zmq_errno()));
      r->send_failed = 1;
      break;
    }
  }
  free(payload);
  return NULL;
}

static void *receiver_main(void *arg) {
  struct run *r = arg;
  zmq_msg_t msg;
  zmq_msg_init(&msg);
  for (uint64_t i = 0; i < r->count; i++) {
    if (zmq_msg_recv(&msg, r->pull, 0) < 0) {
      fprintf(stderr, "bare_zmq: zmq_msg_recv: %s\n", zmq_strerror(zmq_errno()));
      r->errors++;
      break;
    }
    uint64_t seq = UINT64_MAX;
    if (zmq_msg_size(&msg) == r->body_bytes)
      memcpy(&seq, zmq_msg_data(&msg), sizeof seq);
    if (seq != i) {
      if (r->errors++ == 0)
        fprintf(stderr, "bare_zmq: message %" PRIu64 ": got sequence %" PRIu64
                        " (size %zu)\n", i, seq, zmq_msg_size(&msg));
    }
  }
  r->done_ns = now_ns();
  zmq_msg_close(&msg);
  return NULL;
}

static int parse_u64(const char *text, const char *what, uint64_t min,
                     uint64_t *out) {
  char *end = NULL;
  unsigned long long v = strtoull(text, &end, 10);
  if (!*text || *end || v < min) {
    fprintf(stderr, "bare_zmq: %s: expected an integer >= %" PRIu64 ", got \"%s\"\n",
            what, min, text);
    return -1;
  }
  *out = v;
  return 0;
}

int main(int argc, char **argv) {
  uint64_t count = 1000000, body = 1024, hwm = 1024;
  if (argc > 4 || (argc > 1 && parse_u64(argv[1], "COUNT", 1, &count)) ||
      (argc > 2 && parse_u64(argv[2], "BODY_BYTES", 8, &body)) ||
      (argc > 3 && parse_u64(argv[3], "HWM", 1, &hwm))) {
    fprintf(stderr, "usage: bare_zmq [COUNT [BODY_BYTES [HWM]]]\n");
    return 2;
  }
  int code = 1;
  struct run r = {.count = count, .body_bytes = (size_t)body};
  void *ctx = zmq_ctx_new();
  if (!ctx) goto out;
  int h = (int)hwm;
  int timeout_ms = 10000; /* a lost message fails the run, not hangs it */
  r.pull = zmq_socket(ctx, ZMQ_PULL);
  r.push = zmq_socket(ctx, ZMQ_PUSH);
  if (!r.pull || !r.push ||
      zmq_setsockopt(r.pull, ZMQ_RCVHWM, &h, sizeof h) != 0 ||
      zmq_setsockopt(r.push, ZMQ_SNDHWM, &h, sizeof h) != 0 ||
      zmq_setsockopt(r.pull, ZMQ_RCVTIMEO, &timeout_ms, sizeof timeout_ms) != 0 ||
      zmq_bind(r.pull, "inproc://bare_zmq") != 0 ||
      zmq_connect(r.push, "inproc://bare_zmq") != 0) {
    fprintf(stderr, "bare_zmq: socket setup: %s\n", zmq_strerror(zmq_errno()));
    goto out_sockets;
  }
  pthread_t sender, receiver;
  if (pthread_create(&receiver, NULL, receiver_main, &r) != 0) goto out_sockets;
  if (pthread_create(&sender, NULL, sender_main, &r) != 0) {
    /* The receiver waits for messages that will never come. */
    fprintf(stderr, "bare_zmq: cannot start the sender thread\n");
    exit(1);
  }
  pthread_join(sender, NULL);
  pthread_join(receiver, NULL);
  double secs = (double)(r.done_ns - atomic_load(&r.start_ns)) / 1e9;
  /* CPU time of both threads: on a loaded machine the cost per message
   * varies less than the rate. */
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  double cpu = (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
               (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
  printf("bare_zmq count=%" PRIu64 " body_bytes=%" PRIu64 " hwm=%" PRIu64
         " errors=%" PRIu64 " elapsed_s=%.3f msgs_per_s=%.0f cpu_s=%.3f"
         " cpu_ns_per_msg=%.0f\n",
         count, body, hwm, r.errors, secs, (double)count / secs, cpu,
         cpu * 1e9 / (double)count);
  code = r.errors || r.send_failed ? 1 : 0;
out_sockets:
  if (r.push) zmq_close(r.push);
  if (r.pull) zmq_close(r.pull);
  zmq_ctx_term(ctx);
out:
  return code;
}
