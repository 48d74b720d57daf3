/* Tests of core/http_listener.c over real HTTP(S) on 127.0.0.1, with
 * libcurl as the client. */
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include <curl/curl.h>

#include "http_listener.h"

/* ---------------------------------------------------------------------- */
/* Client side                                                            */

struct reply {
  long status;
  char *body;
  size_t len;
  char headers[8192];
  size_t headers_len;
  CURLcode rc;
};

static size_t on_body(char *data, size_t size, size_t n, void *userp) {
  struct reply *r = userp;
  size_t len = size * n;
  char *grown = realloc(r->body, r->len + len + 1);
  if (grown == NULL) return 0;
  r->body = grown;
  memcpy(r->body + r->len, data, len);
  r->len += len;
  r->body[r->len] = '\0';
  return len;
}

static size_t on_header(char *data, size_t size, size_t n, void *userp) {
  struct reply *r = userp;
  size_t len = size * n;
  if (r->headers_len + len < sizeof r->headers) {
    memcpy(r->headers + r->headers_len, data, len);
    r->headers_len += len;
    r->headers[r->headers_len] = '\0';
  }
  return len;
}

/* Value of a response header (case-insensitive name) copied into out, or
 * NULL. */
static const char *reply_header(const struct reply *r, const char *name,
                                char *out, size_t out_size) {
  const char *line = r->headers;
  size_t name_len = strlen(name);
  while (line != NULL && *line != '\0') {
    if (strncasecmp(line, name, name_len) == 0 && line[name_len] == ':') {
      const char *v = line + name_len + 1;
      while (*v == ' ') v++;
      size_t vlen = strcspn(v, "\r\n");
      if (vlen >= out_size) vlen = out_size - 1;
      memcpy(out, v, vlen);
      out[vlen] = '\0';
      return out;
    }
    line = strchr(line, '\n');
    if (line != NULL) line++;
  }
  return NULL;
}

static void reply_free(struct reply *r) {
  free(r->body);
  r->body = NULL;
}

struct request {
  const char *method;
  const char *url;
  const void *body;
  size_t len;
  int chunked;
  const char *header; /* one extra request header line, or NULL */
  const char *cainfo;
};

struct chunk_src {
  const char *data;
  size_t len;
  size_t off;
};

static size_t on_read(char *buf, size_t size, size_t n, void *userp) {
  struct chunk_src *src = userp;
  size_t want = size * n;
  if (want > 700) want = 700; /* several chunks */
  if (want > src->len - src->off) want = src->len - src->off;
  memcpy(buf, src->data + src->off, want);
  src->off += want;
  return want;
}

static void perform(const struct request *rq, struct reply *r) {
  CURL *c = curl_easy_init();
  struct curl_slist *hdrs = NULL;
  struct chunk_src src = {rq->body, rq->len, 0};
  memset(r, 0, sizeof *r);
  assert_non_null(c);
  curl_easy_setopt(c, CURLOPT_URL, rq->url);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT, 20L);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, r);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, r);
  if (rq->chunked) {
    hdrs = curl_slist_append(hdrs, "Transfer-Encoding: chunked");
    curl_easy_setopt(c, CURLOPT_POST, 1L);
    curl_easy_setopt(c, CURLOPT_READFUNCTION, on_read);
    curl_easy_setopt(c, CURLOPT_READDATA, &src);
  } else if (rq->body != NULL) {
    curl_easy_setopt(c, CURLOPT_POSTFIELDS, rq->body);
    curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)rq->len);
  }
  if (rq->method != NULL && strcmp(rq->method, "HEAD") == 0)
    curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
  else if (rq->method != NULL)
    curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, rq->method);
  if (rq->header != NULL) hdrs = curl_slist_append(hdrs, rq->header);
  /* No 100-continue round trip: send bodies straight away. */
  hdrs = curl_slist_append(hdrs, "Expect:");
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdrs);
  if (rq->cainfo != NULL) {
    curl_easy_setopt(c, CURLOPT_CAINFO, rq->cainfo);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, 1L);
    curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, 2L);
  }
  r->rc = curl_easy_perform(c);
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
  curl_slist_free_all(hdrs);
  curl_easy_cleanup(c);
}

/* GET/POST helper: url built from the port and path. */
static void request(uint16_t port, const char *method, const char *path,
                    const void *body, size_t len, const char *header,
                    struct reply *r) {
  char url[512];
  snprintf(url, sizeof url, "http://127.0.0.1:%u%s", port, path);
  struct request rq = {method, url, body, len, 0, header, NULL};
  perform(&rq, r);
  if (r->rc != CURLE_OK)
    fail_msg("%s %s: curl: %s", method != NULL ? method : "GET", path,
             curl_easy_strerror(r->rc));
}

/* ---------------------------------------------------------------------- */
/* Server side: handlers standing in for plugins                          */

struct plugin {
  const char *name;
  atomic_int calls;
  atomic_int auth_calls;
  dray_status status; /* what no_answer returns */
  const char *retry_after;
  int sleep_ms;
  /* destroy-in-flight handshake */
  pthread_mutex_t lock;
  pthread_cond_t cond;
  int entered;
  atomic_int finished;
  atomic_int running;
  atomic_int max_running;
};

static void plugin_init(struct plugin *p, const char *name) {
  memset(p, 0, sizeof *p);
  p->name = name;
  pthread_mutex_init(&p->lock, NULL);
  pthread_cond_init(&p->cond, NULL);
}

static void plugin_fini(struct plugin *p) {
  pthread_mutex_destroy(&p->lock);
  pthread_cond_destroy(&p->cond);
}

static void sleep_ms(int ms) {
  struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
  nanosleep(&ts, NULL);
}

/* Answers with the request body and what it saw, as headers. */
static dray_status echo_handler(void *state, dray_http_exchange *ex) {
  struct plugin *p = state;
  size_t len = 0;
  const void *body = dray__http_ex_body(ex, &len);
  const char *ctype = dray__http_ex_header(ex, "content-type");
  const char *probe = dray__http_ex_header(ex, "X-PROBE");
  int now = atomic_fetch_add(&p->running, 1) + 1;
  int seen = atomic_load(&p->max_running);
  while (now > seen && !atomic_compare_exchange_weak(&p->max_running, &seen,
                                                     now)) {
  }
  atomic_fetch_add(&p->calls, 1);
  if (p->sleep_ms > 0) sleep_ms(p->sleep_ms);
  dray__http_ex_add_header(ex, "X-Owner", p->name);
  dray__http_ex_add_header(ex, "X-Method", dray__http_ex_method(ex));
  dray__http_ex_add_header(ex, "X-Path", dray__http_ex_path(ex));
  if (dray__http_ex_query(ex)[0] != '\0')
    dray__http_ex_add_header(ex, "X-Query", dray__http_ex_query(ex));
  else if (dray__http_ex_add_header(ex, "X-Query", "") != -1)
    return DRAY_FATAL; /* empty values are refused */
  /* Header injection and framing headers are refused. */
  if (dray__http_ex_add_header(ex, "X-Evil", "a\r\nSet-Cookie: x=1") != -1 ||
      dray__http_ex_add_header(ex, "Bad Name", "v") != -1 ||
      dray__http_ex_add_header(ex, "content-length", "1") != -1)
    return DRAY_FATAL;
  dray__http_ex_add_header(ex, "X-Remote", dray__http_ex_remote_addr(ex));
  if (probe != NULL) dray__http_ex_add_header(ex, "X-Probe-Seen", probe);
  atomic_fetch_sub(&p->running, 1);
  if (dray__http_ex_respond(ex, 200,
                            ctype != NULL ? ctype : "application/octet-stream",
                            body, len) != 0)
    return DRAY_FATAL;
  /* A second answer is refused. */
  if (dray__http_ex_respond(ex, 500, NULL, NULL, 0) != -1) return DRAY_FATAL;
  return DRAY_OK;
}

static dray_status no_answer_handler(void *state, dray_http_exchange *ex) {
  struct plugin *p = state;
  atomic_fetch_add(&p->calls, 1);
  if (p->retry_after != NULL)
    dray__http_ex_add_header(ex, "Retry-After", p->retry_after);
  return p->status;
}

static int bearer_auth(void *state, dray_http_exchange *ex) {
  struct plugin *p = state;
  const char *auth = dray__http_ex_header(ex, "authorization");
  atomic_fetch_add(&p->auth_calls, 1);
  if (auth == NULL || strcmp(auth, "Bearer good") != 0) return 401;
  return 0;
}

static dray_status blocking_handler(void *state, dray_http_exchange *ex) {
  struct plugin *p = state;
  pthread_mutex_lock(&p->lock);
  p->entered = 1;
  pthread_cond_broadcast(&p->cond);
  pthread_mutex_unlock(&p->lock);
  sleep_ms(p->sleep_ms);
  atomic_store(&p->finished, 1);
  dray__http_ex_respond(ex, 200, "text/plain", "late", 4);
  return DRAY_OK;
}

static dray__http *listener_start(size_t max_body, unsigned threads) {
  char err[512];
  struct dray__http_options opt = {"127.0.0.1:0", NULL, NULL, max_body,
                                   threads};
  dray__http *h = dray__http_new(&opt, err, sizeof err);
  if (h == NULL) fail_msg("dray__http_new: %s", err);
  if (dray__http_start(h, err, sizeof err) != 0)
    fail_msg("dray__http_start: %s", err);
  assert_true(dray__http_port(h) > 0);
  return h;
}

static void add_route(dray__http *h, const char *method, const char *prefix,
                      dray_http_handler handler, dray_http_auth auth,
                      struct plugin *p) {
  char err[512];
  if (dray__http_route(h, method, prefix, handler, auth, p, p->name, err,
                       sizeof err) != 0)
    fail_msg("route %s: %s", prefix, err);
}

/* ---------------------------------------------------------------------- */
/* Tests                                                                  */

static void test_longest_prefix_wins_at_segment_boundaries(void **state) {
  struct plugin root, hooks, ups;
  plugin_init(&root, "root");
  plugin_init(&hooks, "hooks");
  plugin_init(&ups, "ups");
  dray__http *h = listener_start(0, 2);
  add_route(h, NULL, "/", echo_handler, NULL, &root);
  add_route(h, NULL, "/hooks", echo_handler, NULL, &hooks);
  /* Added after start: the listener sees it at once. */
  add_route(h, NULL, "/hooks/ups", echo_handler, NULL, &ups);
  uint16_t port = dray__http_port(h);
  char v[256];
  struct reply r;

  request(port, NULL, "/hooks/ups/track?id=1Z", NULL, 0, NULL, &r);
  assert_int_equal(r.status, 200);
  assert_string_equal(reply_header(&r, "X-Owner", v, sizeof v), "ups");
  assert_string_equal(reply_header(&r, "X-Path", v, sizeof v),
                      "/hooks/ups/track");
  reply_free(&r);

  request(port, NULL, "/hooks/fedex", NULL, 0, NULL, &r);
  assert_string_equal(reply_header(&r, "X-Owner", v, sizeof v), "hooks");
  reply_free(&r);
  request(port, NULL, "/hooks", NULL, 0, NULL, &r);
  assert_string_equal(reply_header(&r, "X-Owner", v, sizeof v), "hooks");
  reply_free(&r);
  /* "/hooksx" is not under "/hooks". */
  request(port, NULL, "/hooksx", NULL, 0, NULL, &r);
  assert_string_equal(reply_header(&r, "X-Owner", v, sizeof v), "root");
  reply_free(&r);

  dray__http_destroy(&h);
  assert_null(h);
  assert_int_equal(atomic_load(&ups.calls), 1);
  assert_int_equal(atomic_load(&hooks.calls), 2);
  assert_int_equal(atomic_load(&root.calls), 1);
  plugin_fini(&root);
  plugin_fini(&hooks);
  plugin_fini(&ups);
}

static void test_unknown_path_is_404_and_wrong_method_is_405(void **state) {
  struct plugin p;
  plugin_init(&p, "sap");
  dray__http *h = listener_start(0, 2);
  add_route(h, "post", "/sap/idoc", echo_handler, NULL, &p);
  add_route(h, "PUT", "/sap/idoc", echo_handler, NULL, &p);
  uint16_t port = dray__http_port(h);
  char v[256];
  struct reply r;

  request(port, NULL, "/nothing/here", NULL, 0, NULL, &r);
  assert_int_equal(r.status, 404);
  reply_free(&r);

  request(port, "GET", "/sap/idoc/ORDERS05", NULL, 0, NULL, &r);
  assert_int_equal(r.status, 405);
  assert_non_null(reply_header(&r, "Allow", v, sizeof v));
  assert_non_null(strstr(v, "POST"));
  assert_non_null(strstr(v, "PUT"));
  reply_free(&r);

  /* A 405 with a body: the body is not read into the handler. */
  request(port, "DELETE", "/sap/idoc", "x", 1, NULL, &r);
  assert_int_equal(r.status, 405);
  reply_free(&r);

  request(port, "POST", "/sap/idoc", "<IDOC/>", 7, NULL, &r);
  assert_int_equal(r.status, 200);
  assert_string_equal(reply_header(&r, "X-Method", v, sizeof v), "POST");
  reply_free(&r);

  /* HEAD is served by a GET route. */
  add_route(h, "GET", "/sap/status", echo_handler, NULL, &p);
  request(port, "HEAD", "/sap/status", NULL, 0, NULL, &r);
  assert_int_equal(r.status, 200);
  assert_string_equal(reply_header(&r, "X-Method", v, sizeof v), "HEAD");
  assert_int_equal(r.len, 0);
  reply_free(&r);

  dray__http_destroy(&h);
  assert_int_equal(atomic_load(&p.calls), 2);
  plugin_fini(&p);
}

static void test_body_query_headers_and_remote_address_reach_handler(
    void **state) {
  struct plugin p;
  plugin_init(&p, "echo");
  dray__http *h = listener_start(0, 2);
  add_route(h, NULL, "/echo", echo_handler, NULL, &p);
  uint16_t port = dray__http_port(h);
  char v[256];
  struct reply r;

  unsigned char blob[5000];
  for (size_t i = 0; i < sizeof blob; i++) blob[i] = (unsigned char)(i * 31);
  blob[0] = 0;
  blob[2500] = 0;
  request(port, "POST", "/echo/bin?sig=a%2Bb&x=1&x=2", blob, sizeof blob,
          "X-Probe: mixed-Case", &r);
  assert_int_equal(r.status, 200);
  assert_int_equal(r.len, sizeof blob);
  assert_memory_equal(r.body, blob, sizeof blob);
  /* Raw query, not MHD's decoded arguments. */
  assert_string_equal(reply_header(&r, "X-Query", v, sizeof v),
                      "sig=a%2Bb&x=1&x=2");
  assert_string_equal(reply_header(&r, "X-Probe-Seen", v, sizeof v),
                      "mixed-Case");
  assert_string_equal(reply_header(&r, "X-Remote", v, sizeof v), "127.0.0.1");
  reply_free(&r);

  /* No body, no query. */
  request(port, "GET", "/echo", NULL, 0, NULL, &r);
  assert_int_equal(r.status, 200);
  assert_int_equal(r.len, 0);
  assert_null(reply_header(&r, "X-Query", v, sizeof v));
  reply_free(&r);

  /* Chunked upload arrives whole. */
  char text[3000];
  for (size_t i = 0; i < sizeof text; i++) text[i] = (char)('a' + i % 26);
  char url[256];
  snprintf(url, sizeof url, "http://127.0.0.1:%u/echo/chunked", port);
  struct request rq = {"POST", url, text, sizeof text, 1, NULL, NULL};
  perform(&rq, &r);
  assert_int_equal(r.rc, CURLE_OK);
  assert_int_equal(r.status, 200);
  assert_int_equal(r.len, sizeof text);
  assert_memory_equal(r.body, text, sizeof text);
  reply_free(&r);

  dray__http_destroy(&h);
  plugin_fini(&p);
}

static void test_auth_refusal_answers_401_without_calling_handler(
    void **state) {
  struct plugin p;
  plugin_init(&p, "carrier");
  dray__http *h = listener_start(0, 2);
  add_route(h, "POST", "/webhook", echo_handler, bearer_auth, &p);
  uint16_t port = dray__http_port(h);
  struct reply r;

  request(port, "POST", "/webhook", "{}", 2, NULL, &r);
  assert_int_equal(r.status, 401);
  reply_free(&r);
  request(port, "POST", "/webhook", "{}", 2, "Authorization: Bearer bad", &r);
  assert_int_equal(r.status, 401);
  reply_free(&r);
  assert_int_equal(atomic_load(&p.calls), 0);
  assert_int_equal(atomic_load(&p.auth_calls), 2);

  request(port, "POST", "/webhook", "{}", 2, "Authorization: Bearer good", &r);
  assert_int_equal(r.status, 200);
  assert_string_equal(r.body, "{}");
  reply_free(&r);
  assert_int_equal(atomic_load(&p.calls), 1);

  dray__http_destroy(&h);
  plugin_fini(&p);
}

static void expect_default_answer(dray_status st, const char *retry_after,
                                  long want_status, const char *want_retry) {
  struct plugin p;
  plugin_init(&p, "lazy");
  p.status = st;
  p.retry_after = retry_after;
  dray__http *h = listener_start(0, 1);
  add_route(h, NULL, "/lazy", no_answer_handler, NULL, &p);
  char v[64];
  struct reply r;
  request(dray__http_port(h), "POST", "/lazy", "{}", 2, NULL, &r);
  assert_int_equal(r.status, want_status);
  if (want_retry != NULL)
    assert_string_equal(reply_header(&r, "Retry-After", v, sizeof v),
                        want_retry);
  else
    assert_null(reply_header(&r, "Retry-After", v, sizeof v));
  reply_free(&r);
  dray__http_destroy(&h);
  assert_int_equal(atomic_load(&p.calls), 1);
  plugin_fini(&p);
}

static void test_handler_without_answer_gets_status_from_its_result(
    void **state) {
  expect_default_answer(DRAY_OK, NULL, 500, NULL);
  expect_default_answer(DRAY_FATAL, NULL, 500, NULL);
  expect_default_answer(DRAY_RETRY, NULL, 503, "1");
  expect_default_answer(DRAY_REJECT, NULL, 400, NULL);
  /* The handler's own hint is kept, not doubled. */
  expect_default_answer(DRAY_RETRY, "7", 503, "7");
  /* Unknown codes are RETRY (dray/abi.h). */
  expect_default_answer((dray_status)42, NULL, 503, "1");
}

static void test_body_over_limit_is_413_and_handler_not_called(void **state) {
  struct plugin p;
  plugin_init(&p, "small");
  dray__http *h = listener_start(1024, 2);
  add_route(h, NULL, "/in", echo_handler, NULL, &p);
  uint16_t port = dray__http_port(h);
  char big[4096];
  memset(big, 'x', sizeof big);
  struct reply r;

  request(port, "POST", "/in", big, 1024, NULL, &r);
  assert_int_equal(r.status, 200);
  assert_int_equal(r.len, 1024);
  reply_free(&r);

  request(port, "POST", "/in", big, 1025, NULL, &r);
  assert_int_equal(r.status, 413);
  reply_free(&r);

  /* Without Content-Length the limit is enforced while reading. */
  char url[256];
  snprintf(url, sizeof url, "http://127.0.0.1:%u/in", port);
  struct request rq = {"POST", url, big, 1500, 1, NULL, NULL};
  perform(&rq, &r);
  assert_int_equal(r.rc, CURLE_OK);
  assert_int_equal(r.status, 413);
  reply_free(&r);
  /* ... and one that goes on far past it is cut off, not drained. */
  rq.len = sizeof big;
  perform(&rq, &r);
  assert_int_not_equal(r.rc, CURLE_OK);
  reply_free(&r);

  dray__http_destroy(&h);
  assert_int_equal(atomic_load(&p.calls), 1);
  plugin_fini(&p);
}

#define PARALLEL_CLIENTS 8

struct client {
  uint16_t port;
  int id;
  struct reply r;
};

static void *client_run(void *arg) {
  struct client *c = arg;
  char url[256];
  char body[64];
  snprintf(url, sizeof url, "http://127.0.0.1:%u/slow/%d", c->port, c->id);
  int n = snprintf(body, sizeof body, "client %d", c->id);
  struct request rq = {"POST", url, body, (size_t)n, 0, NULL, NULL};
  perform(&rq, &c->r);
  return NULL;
}

static void test_parallel_clients_are_all_answered(void **state) {
  struct plugin p;
  plugin_init(&p, "slow");
  p.sleep_ms = 100;
  dray__http *h = listener_start(0, 4);
  add_route(h, "POST", "/slow", echo_handler, NULL, &p);
  struct client clients[PARALLEL_CLIENTS];
  pthread_t threads[PARALLEL_CLIENTS];
  for (int i = 0; i < PARALLEL_CLIENTS; i++) {
    clients[i].port = dray__http_port(h);
    clients[i].id = i;
    assert_int_equal(
        pthread_create(&threads[i], NULL, client_run, &clients[i]), 0);
  }
  for (int i = 0; i < PARALLEL_CLIENTS; i++) pthread_join(threads[i], NULL);
  for (int i = 0; i < PARALLEL_CLIENTS; i++) {
    char want[64];
    snprintf(want, sizeof want, "client %d", i);
    assert_int_equal(clients[i].r.rc, CURLE_OK);
    assert_int_equal(clients[i].r.status, 200);
    assert_string_equal(clients[i].r.body, want);
    reply_free(&clients[i].r);
  }
  assert_int_equal(atomic_load(&p.calls), PARALLEL_CLIENTS);
  /* The pool ran handlers side by side (4 threads, 8 blocked clients). */
  assert_true(atomic_load(&p.max_running) >= 2);
  dray__http_destroy(&h);
  plugin_fini(&p);
}

struct inflight_client {
  uint16_t port;
  struct reply r;
};

static void *inflight_client_run(void *arg) {
  struct inflight_client *c = arg;
  char url[256];
  snprintf(url, sizeof url, "http://127.0.0.1:%u/block", c->port);
  struct request rq = {"GET", url, NULL, 0, 0, NULL, NULL};
  perform(&rq, &c->r);
  return NULL;
}

static void test_destroy_waits_for_in_flight_handler(void **state) {
  struct plugin p;
  plugin_init(&p, "block");
  p.sleep_ms = 400;
  dray__http *h = listener_start(0, 2);
  add_route(h, NULL, "/block", blocking_handler, NULL, &p);
  struct inflight_client c = {dray__http_port(h), {0}};
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, inflight_client_run, &c), 0);

  pthread_mutex_lock(&p.lock);
  while (!p.entered) pthread_cond_wait(&p.cond, &p.lock);
  pthread_mutex_unlock(&p.lock);
  assert_int_equal(atomic_load(&p.finished), 0);
  dray__http_destroy(&h);
  /* destroy returned only after the handler did. */
  assert_int_equal(atomic_load(&p.finished), 1);
  assert_null(h);

  pthread_join(t, NULL);
  /* The answer built before destroy still went out. */
  assert_int_equal(c.r.rc, CURLE_OK);
  assert_int_equal(c.r.status, 200);
  assert_string_equal(c.r.body, "late");
  reply_free(&c.r);
  plugin_fini(&p);
}

static int64_t now_ms(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void test_blocked_handler_does_not_stall_other_clients(void **state) {
  struct plugin slow, fast;
  plugin_init(&slow, "block");
  plugin_init(&fast, "fast");
  slow.sleep_ms = 3000;
  dray__http *h = listener_start(0, 2);
  add_route(h, NULL, "/block", blocking_handler, NULL, &slow);
  add_route(h, NULL, "/fast", echo_handler, NULL, &fast);
  struct inflight_client c = {dray__http_port(h), {0}};
  pthread_t t;
  assert_int_equal(pthread_create(&t, NULL, inflight_client_run, &c), 0);
  pthread_mutex_lock(&slow.lock);
  while (!slow.entered) pthread_cond_wait(&slow.cond, &slow.lock);
  pthread_mutex_unlock(&slow.lock);

  int64_t start = now_ms();
  struct reply r;
  for (int i = 0; i < 5; i++) {
    request(dray__http_port(h), "POST", "/fast", "ping", 4, NULL, &r);
    assert_int_equal(r.status, 200);
    reply_free(&r);
  }
  /* All answered while the other handler was still blocked. */
  assert_int_equal(atomic_load(&slow.finished), 0);
  assert_true(now_ms() - start < slow.sleep_ms);

  pthread_join(t, NULL);
  assert_int_equal(c.r.status, 200);
  reply_free(&c.r);
  dray__http_destroy(&h);
  plugin_fini(&slow);
  plugin_fini(&fast);
}

/* Some clients (scripts, netcat, proxies) shut their write side right
 * after the request: they must still get the answer. */
static void test_client_that_half_closes_still_gets_the_answer(void **state) {
  struct plugin p;
  plugin_init(&p, "nc");
  dray__http *h = listener_start(0, 2);
  add_route(h, "POST", "/in", echo_handler, NULL, &p);
  for (int round = 0; round < 20; round++) {
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    assert_true(fd >= 0);
    struct sockaddr_in sa;
    memset(&sa, 0, sizeof sa);
    sa.sin_family = AF_INET;
    sa.sin_port = htons(dray__http_port(h));
    sa.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof sa), 0);
    const char req[] =
        "POST /in HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nhello";
    assert_int_equal(send(fd, req, sizeof req - 1, MSG_NOSIGNAL),
                     (ssize_t)(sizeof req - 1));
    shutdown(fd, SHUT_WR);
    char answer[2048];
    size_t got = 0;
    ssize_t n;
    while (got < sizeof answer - 1 &&
           (n = recv(fd, answer + got, sizeof answer - 1 - got, 0)) > 0)
      got += (size_t)n;
    answer[got] = '\0';
    close(fd);
    if (strncmp(answer, "HTTP/1.1 200", 12) != 0)
      fail_msg("round %d: answer \"%.40s\"", round, answer);
    assert_non_null(strstr(answer, "\r\n\r\nhello"));
  }
  dray__http_destroy(&h);
  plugin_fini(&p);
}

static void test_prefix_of_another_owner_is_refused(void **state) {
  struct plugin a, b;
  plugin_init(&a, "ups");
  plugin_init(&b, "fedex");
  char err[512] = "";
  dray__http *h = listener_start(0, 1);
  add_route(h, "POST", "/carrier", echo_handler, NULL, &a);
  assert_int_equal(dray__http_route(h, "GET", "/carrier", echo_handler, NULL,
                                    &b, "fedex", err, sizeof err),
                   -1);
  assert_non_null(strstr(err, "/carrier"));
  assert_non_null(strstr(err, "ups"));
  /* Same owner, same method twice: refused; another method: fine. */
  assert_int_equal(dray__http_route(h, "post", "/carrier", echo_handler, NULL,
                                    &a, "ups", err, sizeof err),
                   -1);
  assert_non_null(strstr(err, "already registered"));
  assert_int_equal(dray__http_route(h, "GET", "/carrier", echo_handler, NULL,
                                    &a, "ups", err, sizeof err),
                   0);
  /* Longer prefix under it by another owner: fine. */
  assert_int_equal(dray__http_route(h, NULL, "/carrier/fedex", echo_handler,
                                    NULL, &b, "fedex", err, sizeof err),
                   0);
  assert_int_equal(dray__http_route(h, NULL, "carrier", echo_handler, NULL, &b,
                                    "fedex", err, sizeof err),
                   -1);
  assert_non_null(strstr(err, "must start with '/'"));
  assert_int_equal(dray__http_route(h, "GE T", "/x", echo_handler, NULL, &b,
                                    "fedex", err, sizeof err),
                   -1);
  dray__http_destroy(&h);
  plugin_fini(&a);
  plugin_fini(&b);
}

static void expect_new_error(const char *listen, const char *cert,
                             const char *key, const char *want) {
  char err[512] = "";
  struct dray__http_options opt = {listen, cert, key, 0, 0};
  dray__http *h = dray__http_new(&opt, err, sizeof err);
  if (h != NULL) {
    dray__http_destroy(&h);
    fail_msg("listen \"%s\" accepted, expected error with \"%s\"", listen,
             want);
  }
  if (strstr(err, want) == NULL)
    fail_msg("listen \"%s\": error \"%s\" lacks \"%s\"", listen, err, want);
}

static void test_bad_listen_options_are_named_in_errors(void **state) {
  expect_new_error("127.0.0.1", NULL, NULL, "http.listen: expected HOST:PORT");
  expect_new_error("", NULL, NULL, "http.listen: expected HOST:PORT");
  expect_new_error("127.0.0.1:http", NULL, NULL,
                   "http.listen: expected HOST:PORT");
  expect_new_error("127.0.0.1:65536", NULL, NULL, "0..65535");
  expect_new_error("::1:80", NULL, NULL, "http.listen: expected HOST:PORT");
  expect_new_error("[::1]80", NULL, NULL, "[IPV6]:PORT");
  expect_new_error("no-such-host.invalid:80", NULL, NULL, "cannot resolve");
  expect_new_error("127.0.0.1:0", "/nonexistent/cert.pem", NULL,
                   "http.tls_key_file is not");
  expect_new_error("127.0.0.1:0", "/nonexistent/cert.pem",
                   "/nonexistent/key.pem", "http.tls_cert_file: cannot open");
}

static void test_port_in_use_is_reported_with_the_address(void **state) {
  dray__http *first = listener_start(0, 1);
  char listen[64];
  char err[512] = "";
  snprintf(listen, sizeof listen, "127.0.0.1:%u", dray__http_port(first));
  struct dray__http_options opt = {listen, NULL, NULL, 0, 1};
  dray__http *second = dray__http_new(&opt, err, sizeof err);
  assert_non_null(second);
  assert_int_equal(dray__http_start(second, err, sizeof err), -1);
  assert_non_null(strstr(err, listen));
  dray__http_destroy(&second);
  dray__http_destroy(&first);
}

static int run_openssl(const char *dir) {
  const char *openssl = getenv("DRAY_OPENSSL");
  char cmd[1024];
  if (openssl == NULL || openssl[0] == '\0') openssl = "openssl";
  snprintf(cmd, sizeof cmd,
           "'%s' req -x509 -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 "
           "-addext subjectAltName=IP:127.0.0.1 -days 1 -keyout '%s/key.pem' "
           "-out '%s/cert.pem' >/dev/null 2>&1",
           openssl, dir, dir);
  return system(cmd);
}

static void test_https_with_self_signed_certificate(void **state) {
  const char *tmp = getenv("TMPDIR");
  char dir[256];
  char cert[300];
  char key[300];
  char err[512] = "";
  snprintf(dir, sizeof dir, "%s/dray-tls-XXXXXX",
           tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
  assert_non_null(mkdtemp(dir));
  snprintf(cert, sizeof cert, "%s/cert.pem", dir);
  snprintf(key, sizeof key, "%s/key.pem", dir);
  if (run_openssl(dir) != 0) {
    rmdir(dir);
    skip(); /* no openssl command: nothing to test TLS with */
  }

  struct plugin p;
  plugin_init(&p, "as2");
  struct dray__http_options opt = {"127.0.0.1:0", cert, key, 0, 2};
  dray__http *h = dray__http_new(&opt, err, sizeof err);
  if (h == NULL) fail_msg("new: %s", err);
  if (dray__http_start(h, err, sizeof err) != 0) fail_msg("start: %s", err);
  add_route(h, "POST", "/as2", echo_handler, NULL, &p);

  char url[256];
  snprintf(url, sizeof url, "https://127.0.0.1:%u/as2/in?mdn=sync",
           dray__http_port(h));
  struct request rq = {"POST", url, "EDI\0X12", 7, 0, NULL, cert};
  struct reply r;
  char v[64];
  perform(&rq, &r);
  if (r.rc != CURLE_OK) fail_msg("https: %s", curl_easy_strerror(r.rc));
  assert_int_equal(r.status, 200);
  assert_int_equal(r.len, 7);
  assert_memory_equal(r.body, "EDI\0X12", 7);
  assert_string_equal(reply_header(&r, "X-Query", v, sizeof v), "mdn=sync");
  reply_free(&r);

  /* A client that does not trust the certificate gets no answer. */
  struct request untrusted = {"POST", url, "x", 1, 0, NULL, NULL};
  perform(&untrusted, &r);
  assert_int_not_equal(r.rc, CURLE_OK);
  reply_free(&r);

  dray__http_destroy(&h);
  assert_int_equal(atomic_load(&p.calls), 1);
  plugin_fini(&p);

  /* A file that is not PEM is refused with its option name. */
  FILE *fp = fopen(cert, "w");
  assert_non_null(fp);
  fputs("not a certificate\n", fp);
  fclose(fp);
  expect_new_error("127.0.0.1:0", cert, key, "http.tls_cert_file");

  unlink(cert);
  unlink(key);
  rmdir(dir);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_longest_prefix_wins_at_segment_boundaries),
      cmocka_unit_test(test_unknown_path_is_404_and_wrong_method_is_405),
      cmocka_unit_test(
          test_body_query_headers_and_remote_address_reach_handler),
      cmocka_unit_test(test_auth_refusal_answers_401_without_calling_handler),
      cmocka_unit_test(test_handler_without_answer_gets_status_from_its_result),
      cmocka_unit_test(test_body_over_limit_is_413_and_handler_not_called),
      cmocka_unit_test(test_parallel_clients_are_all_answered),
      cmocka_unit_test(test_destroy_waits_for_in_flight_handler),
      cmocka_unit_test(test_blocked_handler_does_not_stall_other_clients),
      cmocka_unit_test(test_client_that_half_closes_still_gets_the_answer),
      cmocka_unit_test(test_prefix_of_another_owner_is_refused),
      cmocka_unit_test(test_bad_listen_options_are_named_in_errors),
      cmocka_unit_test(test_port_in_use_is_reported_with_the_address),
      cmocka_unit_test(test_https_with_self_signed_certificate),
  };
  curl_global_init(CURL_GLOBAL_ALL);
  int failed = cmocka_run_group_tests(tests, NULL, NULL);
  curl_global_cleanup();
  return failed;
}
