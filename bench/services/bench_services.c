/* bench/services/bench_services.c - throughput of the state store and the
 * HTTP listener, each printed as a ratio against a peer measured in the
 * same run on the same machine:
 *
 *   state store next()  vs  pwrite + fdatasync of the same bytes (the
 *                           durability floor: one sync per acknowledged
 *                           control number)
 *   state store get()   vs  the same SELECT on a bare sqlite3 connection
 *                           (cost of the mutex, checks and copy)
 *   HTTP listener       vs  a bare libmicrohttpd daemon answering inside
 *                           its access handler (cost of routing, body
 *                           accumulation and the handler-thread hand-off)
 *
 * Usage: bench_services [iterations]   (default 2000)
 */
#include <fcntl.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <microhttpd.h>
#include <sqlite3.h>

#include "http_listener.h"
#include "state_store.h"

static double now_s(void) {
  struct timespec ts;
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void die(const char *what, const char *detail) {
  fprintf(stderr, "bench_services: %s: %s\n", what, detail);
  exit(1);
}

/* ---------------------------------------------------------------------- */
/* State store                                                            */

static double bench_next(const char *path, int n) {
  char err[512];
  dray__state *s = dray__state_open(path, err, sizeof err);
  if (s == NULL) die("open", err);
  int64_t v = 0;
  double t0 = now_s();
  for (int i = 0; i < n; i++)
    if (dray__state_next(s, "bench", "ctl", 1, &v) != 0)
      die("next", dray__state_errmsg(s));
  double t = now_s() - t0;
  if (v != n) die("next", "counter does not match the iteration count");
  dray__state_close(&s);
  return n / t;
}

static double bench_fdatasync(const char *path, int n) {
  int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
  if (fd < 0) die("open peer file", path);
  char rec[32];
  double t0 = now_s();
  for (int i = 0; i < n; i++) {
    int len = snprintf(rec, sizeof rec, "%d\n", i);
    if (pwrite(fd, rec, (size_t)len, (off_t)i * 32) != len ||
        fdatasync(fd) != 0)
      die("peer write", path);
  }
  double t = now_s() - t0;
  close(fd);
  return n / t;
}

static double bench_get(const char *path, int n) {
  char err[512];
  dray__state *s = dray__state_open(path, err, sizeof err);
  if (s == NULL) die("open", err);
  if (dray__state_put(s, "bench", "cursor", "2026-11-22T08:00:00Z", 20) != 0)
    die("put", dray__state_errmsg(s));
  double t0 = now_s();
  for (int i = 0; i < n; i++) {
    char *value = NULL;
    size_t len = 0;
    if (dray__state_get(s, "bench", "cursor", &value, &len) != 0)
      die("get", dray__state_errmsg(s));
    free(value);
  }
  double t = now_s() - t0;
  dray__state_close(&s);
  return n / t;
}

static double bench_raw_select(const char *path, int n) {
  sqlite3 *db = NULL;
  sqlite3_stmt *st = NULL;
  /* Same connection flags as the store: the difference is our layer. */
  if (sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE | SQLITE_OPEN_NOMUTEX,
                      NULL) != SQLITE_OK)
    die("raw open", path);
  if (sqlite3_prepare_v2(db, "SELECT value FROM kv WHERE ns = ?1 AND key = ?2",
                         -1, &st, NULL) != SQLITE_OK)
    die("raw prepare", sqlite3_errmsg(db));
  double t0 = now_s();
  for (int i = 0; i < n; i++) {
    sqlite3_bind_text(st, 1, "bench", -1, SQLITE_STATIC);
    sqlite3_bind_text(st, 2, "cursor", -1, SQLITE_STATIC);
    if (sqlite3_step(st) != SQLITE_ROW) die("raw step", sqlite3_errmsg(db));
    (void)sqlite3_column_blob(st, 0);
    sqlite3_reset(st);
  }
  double t = now_s() - t0;
  sqlite3_finalize(st);
  sqlite3_close(db);
  return n / t;
}

/* ---------------------------------------------------------------------- */
/* HTTP                                                                   */

static dray_status echo(void *state, dray_http_exchange *ex) {
  size_t len = 0;
  const void *body = dray__http_ex_body(ex, &len);
  dray__http_ex_respond(ex, 200, "application/json", body, len);
  return DRAY_OK;
}

/* The peer: answers in the access handler, body echoed, no routing. */
struct raw_req {
  char buf[4096];
  size_t len;
  int seen;
};

static enum MHD_Result raw_access(void *cls, struct MHD_Connection *conn,
                                  const char *url, const char *method,
                                  const char *version, const char *data,
                                  size_t *data_size, void **con_cls) {
  struct raw_req *rq = *con_cls;
  if (rq == NULL) {
    rq = calloc(1, sizeof *rq);
    if (rq == NULL) return MHD_NO;
    *con_cls = rq;
    return MHD_YES;
  }
  if (*data_size > 0) {
    size_t take = *data_size;
    if (take > sizeof rq->buf - rq->len) take = sizeof rq->buf - rq->len;
    memcpy(rq->buf + rq->len, data, take);
    rq->len += take;
    *data_size = 0;
    return MHD_YES;
  }
  struct MHD_Response *resp = MHD_create_response_from_buffer(
      rq->len, rq->buf, MHD_RESPMEM_MUST_COPY);
  MHD_add_response_header(resp, "Content-Type", "application/json");
  enum MHD_Result r = MHD_queue_response(conn, 200, resp);
  MHD_destroy_response(resp);
  return r;
}

static void raw_completed(void *cls, struct MHD_Connection *conn,
                          void **con_cls, enum MHD_RequestTerminationCode t) {
  free(*con_cls);
  *con_cls = NULL;
}

static size_t sink(char *p, size_t s, size_t n, void *u) {
  return s * n;
}

struct client_job {
  uint16_t port;
  int n;
  int failures;
};

static void *client_run(void *arg) {
  struct client_job *job = arg;
  char url[128];
  char body[1024];
  memset(body, 'x', sizeof body);
  body[0] = '{';
  snprintf(url, sizeof url, "http://127.0.0.1:%u/bench/echo", job->port);
  CURL *c = curl_easy_init();
  struct curl_slist *h = curl_slist_append(NULL, "Expect:");
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)sizeof body);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, sink);
  for (int i = 0; i < job->n; i++) { /* one kept-alive connection */
    long status = 0;
    if (curl_easy_perform(c) != CURLE_OK) job->failures++;
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
    if (status != 200) job->failures++;
  }
  curl_slist_free_all(h);
  curl_easy_cleanup(c);
  return NULL;
}

static double drive(uint16_t port, int clients, int n) {
  pthread_t threads[16];
  struct client_job jobs[16];
  double t0 = now_s();
  for (int i = 0; i < clients; i++) {
    jobs[i] = (struct client_job){port, n / clients, 0};
    pthread_create(&threads[i], NULL, client_run, &jobs[i]);
  }
  int failures = 0;
  for (int i = 0; i < clients; i++) {
    pthread_join(threads[i], NULL);
    failures += jobs[i].failures;
  }
  double t = now_s() - t0;
  if (failures > 0) die("http", "requests failed");
  return (n / clients * clients) / t;
}

static double bench_listener(int clients, int n) {
  char err[512];
  struct dray__http_options opt = {"127.0.0.1:0", NULL, NULL, 0, 4};
  dray__http *h = dray__http_new(&opt, err, sizeof err);
  if (h == NULL) die("http new", err);
  if (dray__http_route(h, "POST", "/bench", echo, NULL, NULL, "bench", err,
                       sizeof err) != 0 ||
      dray__http_start(h, err, sizeof err) != 0)
    die("http start", err);
  double rate = drive(dray__http_port(h), clients, n);
  dray__http_destroy(&h);
  return rate;
}

static double bench_raw_mhd(int clients, int n) {
  struct MHD_Daemon *d = MHD_start_daemon(
      MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO, 0, NULL, NULL,
      raw_access, NULL, MHD_OPTION_NOTIFY_COMPLETED, raw_completed, NULL,
      MHD_OPTION_END);
  if (d == NULL) die("raw mhd", "cannot start");
  const union MHD_DaemonInfo *info =
      MHD_get_daemon_info(d, MHD_DAEMON_INFO_BIND_PORT);
  double rate = drive(info->port, clients, n);
  MHD_stop_daemon(d);
  return rate;
}

#define ROUNDS 5

static int cmp_double(const void *a, const void *b) {
  double x = *(const double *)a;
  double y = *(const double *)b;
  return x < y ? -1 : x > y;
}

static double median(double *v, int n) {
  qsort(v, (size_t)n, sizeof *v, cmp_double);
  return v[n / 2];
}

/* ROUNDS alternating runs of ours and the peer; prints medians and the
 * median of the per-round ratios (the machine is shared, so one round
 * can be disturbed). */
struct pair {
  double ours[ROUNDS];
  double peer[ROUNDS];
  double ratio[ROUNDS];
};

static void report(const char *label, const char *unit, const char *peer_name,
                   struct pair *p) {
  double r = median(p->ratio, ROUNDS);
  printf("%-24s %9.0f %s   %-20s %9.0f %s   ratio %.2f (median of %d)\n",
         label, median(p->ours, ROUNDS), unit, peer_name,
         median(p->peer, ROUNDS), unit, r, ROUNDS);
}

int main(int argc, char **argv) {
  int n = argc > 1 ? atoi(argv[1]) : 2000;
  if (n < 16) n = 16;
  const char *tmp = getenv("TMPDIR");
  char dir[256];
  char db[300];
  char peer[300];
  char side[320];
  struct pair p;
  snprintf(dir, sizeof dir, "%s/dray-bench-XXXXXX",
           tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
  if (mkdtemp(dir) == NULL) die("mkdtemp", dir);
  snprintf(db, sizeof db, "%s/state.db", dir);
  snprintf(peer, sizeof peer, "%s/peer.dat", dir);

  for (int i = 0; i < ROUNDS; i++) {
    unlink(db);
    snprintf(side, sizeof side, "%s-wal", db);
    unlink(side);
    snprintf(side, sizeof side, "%s-shm", db);
    unlink(side);
    p.ours[i] = bench_next(db, n / ROUNDS);
    p.peer[i] = bench_fdatasync(peer, n / ROUNDS);
    p.ratio[i] = p.ours[i] / p.peer[i];
  }
  report("state store next()", "ops/s", "pwrite+fdatasync", &p);

  bench_get(db, n); /* warms up; also stores the value both read */
  bench_raw_select(db, n);
  for (int i = 0; i < ROUNDS; i++) {
    p.ours[i] = bench_get(db, n * 20);
    p.peer[i] = bench_raw_select(db, n * 20);
    p.ratio[i] = p.ours[i] / p.peer[i];
  }
  report("state store get()", "ops/s", "bare sqlite SELECT", &p);

  curl_global_init(CURL_GLOBAL_ALL);
  for (int clients = 1; clients <= 4; clients *= 4) {
    char label[64];
    for (int i = 0; i < ROUNDS; i++) {
      p.ours[i] = bench_listener(clients, n);
      p.peer[i] = bench_raw_mhd(clients, n);
      p.ratio[i] = p.ours[i] / p.peer[i];
    }
    snprintf(label, sizeof label, "http listener %d client%s", clients,
             clients > 1 ? "s" : "");
    report(label, "req/s", "bare MHD", &p);
  }
  curl_global_cleanup();

  unlink(peer);
  unlink(db);
  snprintf(side, sizeof side, "%s-wal", db);
  unlink(side);
  snprintf(side, sizeof side, "%s-shm", db);
  unlink(side);
  rmdir(dir);
  return 0;
}
