/* core/http_listener.c - the shared inbound HTTP(S) listener on
 * libmicrohttpd (see http_listener.h for the contract).
 *
 * Request life cycle inside MHD (one exchange per request):
 *   uri_log_cb        allocates the exchange and keeps the raw URI (MHD
 *                     splits the query into arguments; plugins verifying a
 *                     signature need the raw text)
 *   access_cb #1      headers parsed: route lookup; 404/405/413 are
 *                     answered here, before the body is read
 *   access_cb #2..n   body chunks, appended up to max_body_bytes
 *   access_cb last    body complete: the connection is suspended and the
 *                     exchange queued for a handler worker
 *   worker            auth hook, handler, default answer (stored), then
 *                     resumes the connection
 *   access_cb again   queues the stored answer
 *   completed_cb      frees the exchange (also on aborted connections)
 *
 * Why handler workers instead of MHD's own thread pool: a pool thread that
 * blocks in a handler stalls every other connection it accepted (with
 * epoll it accepts up to ten in a burst), so one slow emit would delay
 * unrelated clients. Here MHD's single polling thread only does I/O, and
 * `threads` workers run handlers, which may block as long as they like.
 */
#include "http_listener.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <time.h>

#include <microhttpd.h>

#define DEFAULT_MAX_BODY ((size_t)16 * 1024 * 1024)
#define DEFAULT_THREADS 4u
#define MAX_THREADS 256u
/* Idle keep-alive connections and stalled uploads are closed after
 * this long. */
#define CONNECTION_TIMEOUT_S 60u
#define MAX_TLS_FILE_BYTES ((long)1024 * 1024)
/* How long destroy lets answers already built reach slow clients. */
#define DRAIN_TIMEOUT_MS 2000

struct route {
  char *method; /* upper-case, or NULL for any */
  char *prefix;
  size_t prefix_len;
  dray_http_handler handler;
  dray_http_auth auth;
  void *plugin_state;
  char *owner;
};

struct dray__http {
  struct MHD_Daemon *daemon;
  char *listen; /* as configured, for error messages */
  struct sockaddr_storage addr;
  char *tls_cert_pem; /* file contents, NUL-terminated */
  char *tls_key_pem;  /* wiped before free */
  size_t max_body;
  unsigned threads;
  uint16_t bound_port;

  /* Routes are individually allocated and never freed before destroy, so
   * an exchange may keep a pointer to its route without holding the lock.
   */
  pthread_rwlock_t routes_lock;
  struct route **routes;
  size_t route_count;
  size_t route_cap;

  /* Handler workers and their queue of suspended exchanges. `inflight`
   * counts queued plus running exchanges; destroy waits for zero. */
  pthread_mutex_t inflight_lock;
  pthread_cond_t inflight_done; /* inflight reached 0 */
  pthread_cond_t job_ready;     /* queue non-empty or quit */
  dray_http_exchange *queue_head;
  dray_http_exchange *queue_tail;
  unsigned inflight;
  /* Exchanges handed to a worker whose answer is not yet fully sent;
   * destroy gives them a moment to go out. */
  unsigned unsent;
  int stopping; /* no new exchange is queued; queued ones get 503 */
  int quit;     /* workers exit once the queue is empty */
  pthread_t *workers;
  unsigned worker_count;

  /* Last message MHD logged: the detail of a failed start. */
  pthread_mutex_t log_lock;
  char mhd_log[256];
};

struct header {
  char *name;
  char *value;
};

struct dray_http_exchange {
  dray__http *h;
  struct MHD_Connection *conn;
  char *raw_uri;
  const char *query; /* into raw_uri, or "" */
  const char *method;
  const char *path;
  const struct route *route;

  int headers_seen;
  int answered_early; /* 404/405/413 queued at the headers call */
  int too_large;
  size_t discarded; /* bytes dropped after too_large */
  char *body;
  size_t body_len;
  size_t body_cap;

  struct header *resp_headers;
  size_t resp_header_count;
  int responded;             /* an answer is built (once per exchange) */
  struct MHD_Response *resp; /* built, not yet queued */
  unsigned resp_status;
  int handed_off;                /* went to a worker */
  dray_http_exchange *next_job;  /* worker queue link */
  char remote[INET6_ADDRSTRLEN];
};

static void set_err(char *err, size_t err_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void set_err(char *err, size_t err_size, const char *fmt, ...) {
  va_list ap;
  if (err == NULL || err_size == 0) return;
  va_start(ap, fmt);
  vsnprintf(err, err_size, fmt, ap);
  va_end(ap);
}

/* ---------------------------------------------------------------------- */
/* Options                                                                */

/* "HOST:PORT" into a socket address. Host forms: IPv4 literal, "[v6]",
 * a name resolved once here, "*" or "" for the wildcard address. */
static int parse_listen(const char *listen, struct sockaddr_storage *out,
                        char *err, size_t err_size) {
  char host[256];
  const char *colon;
  const char *port_text;
  size_t host_len;
  char *end = NULL;
  int ret = -1;

  if (listen == NULL || listen[0] == '\0') {
    set_err(err, err_size, "http.listen: expected HOST:PORT, got nothing");
    return -1;
  }
  if (listen[0] == '[') {
    const char *close = strchr(listen, ']');
    if (close == NULL || close[1] != ':') {
      set_err(err, err_size,
              "http.listen: expected [IPV6]:PORT, got \"%s\"", listen);
      return -1;
    }
    host_len = (size_t)(close - listen - 1);
    if (host_len >= sizeof host) goto out_syntax;
    memcpy(host, listen + 1, host_len);
    port_text = close + 2;
  } else {
    colon = strrchr(listen, ':');
    if (colon == NULL || strchr(listen, ':') != colon) goto out_syntax;
    host_len = (size_t)(colon - listen);
    if (host_len >= sizeof host) goto out_syntax;
    memcpy(host, listen, host_len);
    port_text = colon + 1;
  }
  host[host_len] = '\0';

  if (port_text[0] < '0' || port_text[0] > '9') goto out_syntax;
  errno = 0;
  unsigned long port = strtoul(port_text, &end, 10);
  if (errno != 0 || *end != '\0' || port > 65535) {
    set_err(err, err_size,
            "http.listen: port \"%s\" in \"%s\" is not a number 0..65535",
            port_text, listen);
    return -1;
  }

  memset(out, 0, sizeof *out);
  if (host[0] == '\0' || strcmp(host, "*") == 0) {
    struct sockaddr_in *in4 = (struct sockaddr_in *)out;
    in4->sin_family = AF_INET;
    in4->sin_addr.s_addr = htonl(INADDR_ANY);
    in4->sin_port = htons((uint16_t)port);
    return 0;
  }

  struct addrinfo hints;
  struct addrinfo *res = NULL;
  memset(&hints, 0, sizeof hints);
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_NUMERICSERV;
  int gai = getaddrinfo(host, "0", &hints, &res);
  if (gai != 0 || res == NULL) {
    set_err(err, err_size, "http.listen: cannot resolve host \"%s\": %s",
            host, gai_strerror(gai));
    goto out_free;
  }
  memcpy(out, res->ai_addr, res->ai_addrlen);
  if (out->ss_family == AF_INET)
    ((struct sockaddr_in *)out)->sin_port = htons((uint16_t)port);
  else if (out->ss_family == AF_INET6)
    ((struct sockaddr_in6 *)out)->sin6_port = htons((uint16_t)port);
  else {
    set_err(err, err_size, "http.listen: \"%s\" is not an IP address", host);
    goto out_free;
  }
  ret = 0;
out_free:
  if (res != NULL) freeaddrinfo(res);
  return ret;

out_syntax:
  set_err(err, err_size, "http.listen: expected HOST:PORT, got \"%s\"",
          listen);
  return -1;
}

/* Whole file into a NUL-terminated buffer (MHD wants PEM text in memory).
 * Caller owns the result. */
static char *read_pem(const char *option, const char *path, char *err,
                      size_t err_size) {
  FILE *fp = fopen(path, "rb");
  char *text = NULL;
  long size;
  if (fp == NULL) {
    set_err(err, err_size, "%s: cannot open \"%s\": %s", option, path,
            strerror(errno));
    return NULL;
  }
  if (fseek(fp, 0, SEEK_END) != 0 || (size = ftell(fp)) < 0 ||
      fseek(fp, 0, SEEK_SET) != 0) {
    set_err(err, err_size, "%s: cannot read \"%s\": %s", option, path,
            strerror(errno));
    goto out_close;
  }
  if (size == 0 || size > MAX_TLS_FILE_BYTES) {
    set_err(err, err_size, "%s: \"%s\" is %s", option, path,
            size == 0 ? "empty" : "larger than 1 MiB: not a PEM file");
    goto out_close;
  }
  text = malloc((size_t)size + 1);
  if (text == NULL) {
    set_err(err, err_size, "%s: out of memory", option);
    goto out_close;
  }
  if (fread(text, 1, (size_t)size, fp) != (size_t)size) {
    set_err(err, err_size, "%s: short read on \"%s\"", option, path);
    free(text);
    text = NULL;
    goto out_close;
  }
  text[size] = '\0';
  if (strstr(text, "-----BEGIN ") == NULL) {
    set_err(err, err_size, "%s: \"%s\" is not a PEM file (no -----BEGIN)",
            option, path);
    free(text);
    text = NULL;
  }
out_close:
  fclose(fp);
  return text;
}

static void free_secret(char *text) {
  if (text == NULL) return;
  explicit_bzero(text, strlen(text));
  free(text);
}

dray__http *dray__http_new(const struct dray__http_options *opt, char *err,
                           size_t err_size) {
  dray__http *h = NULL;
  set_err(err, err_size, "%s", "");
  if (opt == NULL) {
    set_err(err, err_size, "http: no options");
    return NULL;
  }
  h = calloc(1, sizeof *h);
  if (h == NULL) {
    set_err(err, err_size, "http: out of memory");
    return NULL;
  }
  pthread_rwlock_init(&h->routes_lock, NULL);
  pthread_mutex_init(&h->inflight_lock, NULL);
  pthread_cond_init(&h->inflight_done, NULL);
  pthread_cond_init(&h->job_ready, NULL);
  pthread_mutex_init(&h->log_lock, NULL);
  h->max_body = opt->max_body_bytes > 0 ? opt->max_body_bytes
                                        : DEFAULT_MAX_BODY;
  h->threads = opt->threads > 0 ? opt->threads : DEFAULT_THREADS;
  if (h->threads > MAX_THREADS) {
    set_err(err, err_size, "http.threads: %u is more than %u", h->threads,
            MAX_THREADS);
    goto out_fail;
  }

  if (parse_listen(opt->listen, &h->addr, err, err_size) != 0) goto out_fail;
  h->listen = strdup(opt->listen);
  if (h->listen == NULL) {
    set_err(err, err_size, "http: out of memory");
    goto out_fail;
  }

  if ((opt->tls_cert_file == NULL) != (opt->tls_key_file == NULL)) {
    set_err(err, err_size,
            "http: %s is set but %s is not: HTTPS needs both the certificate "
            "and the key",
            opt->tls_cert_file != NULL ? "http.tls_cert_file"
                                       : "http.tls_key_file",
            opt->tls_cert_file != NULL ? "http.tls_key_file"
                                       : "http.tls_cert_file");
    goto out_fail;
  }
  if (opt->tls_cert_file != NULL) {
    if (MHD_is_feature_supported(MHD_FEATURE_TLS) != MHD_YES) {
      set_err(err, err_size,
              "http.tls_cert_file: HTTPS requested but this libmicrohttpd "
              "was built without TLS support (GnuTLS)");
      goto out_fail;
    }
    h->tls_cert_pem =
        read_pem("http.tls_cert_file", opt->tls_cert_file, err, err_size);
    if (h->tls_cert_pem == NULL) goto out_fail;
    h->tls_key_pem =
        read_pem("http.tls_key_file", opt->tls_key_file, err, err_size);
    if (h->tls_key_pem == NULL) goto out_fail;
  }
  return h;

out_fail:
  dray__http_destroy(&h);
  return NULL;
}

/* ---------------------------------------------------------------------- */
/* Routes                                                                 */

static int is_token_char(int c) {
  return c > 32 && c < 127 && strchr("()<>@,;:\\\"/[]?={}", c) == NULL;
}

/* Prefix matches at a segment boundary (see dray__http_route). */
static int prefix_matches(const struct route *r, const char *path) {
  if (strncmp(path, r->prefix, r->prefix_len) != 0) return 0;
  return r->prefix[r->prefix_len - 1] == '/' || path[r->prefix_len] == '\0' ||
         path[r->prefix_len] == '/';
}

static void route_free(struct route *r) {
  if (r == NULL) return;
  free(r->method);
  free(r->prefix);
  free(r->owner);
  free(r);
}

int dray__http_route(dray__http *h, const char *method,
                     const char *path_prefix, dray_http_handler handler,
                     dray_http_auth auth, void *plugin_state,
                     const char *owner_name, char *err, size_t err_size) {
  struct route *r = NULL;
  const char *owner = owner_name != NULL ? owner_name : "(unnamed)";
  int ret = -1;

  if (h == NULL || handler == NULL) {
    set_err(err, err_size, "http route for %s: no listener or no handler",
            owner);
    return -1;
  }
  if (path_prefix == NULL || path_prefix[0] != '/') {
    set_err(err, err_size,
            "http route for %s: path prefix \"%s\" must start with '/'", owner,
            path_prefix != NULL ? path_prefix : "(null)");
    return -1;
  }
  if (method != NULL) {
    if (method[0] == '\0') goto out_bad_method;
    for (const char *p = method; *p != '\0'; p++)
      if (!is_token_char((unsigned char)*p)) goto out_bad_method;
  }

  r = calloc(1, sizeof *r);
  if (r == NULL) goto out_oom;
  r->prefix = strdup(path_prefix);
  r->owner = strdup(owner);
  if (r->prefix == NULL || r->owner == NULL) goto out_oom;
  if (method != NULL) {
    r->method = strdup(method);
    if (r->method == NULL) goto out_oom;
    for (char *p = r->method; *p != '\0'; p++)
      *p = (char)toupper((unsigned char)*p);
  }
  r->prefix_len = strlen(path_prefix);
  r->handler = handler;
  r->auth = auth;
  r->plugin_state = plugin_state;

  pthread_rwlock_wrlock(&h->routes_lock);
  for (size_t i = 0; i < h->route_count; i++) {
    const struct route *o = h->routes[i];
    if (strcmp(o->prefix, r->prefix) != 0) continue;
    if (strcmp(o->owner, r->owner) != 0) {
      set_err(err, err_size,
              "http route for %s: path prefix \"%s\" is already taken by "
              "instance %s",
              owner, path_prefix, o->owner);
      goto out_unlock;
    }
    if ((o->method == NULL && r->method == NULL) ||
        (o->method != NULL && r->method != NULL &&
         strcmp(o->method, r->method) == 0)) {
      set_err(err, err_size,
              "http route for %s: %s %s is already registered", owner,
              r->method != NULL ? r->method : "(any method)", path_prefix);
      goto out_unlock;
    }
  }
  if (h->route_count == h->route_cap) {
    size_t cap = h->route_cap > 0 ? h->route_cap * 2 : 8;
    struct route **grown = realloc(h->routes, cap * sizeof *grown);
    if (grown == NULL) {
      set_err(err, err_size, "http route for %s: out of memory", owner);
      goto out_unlock;
    }
    h->routes = grown;
    h->route_cap = cap;
  }
  h->routes[h->route_count++] = r;
  r = NULL;
  ret = 0;
out_unlock:
  pthread_rwlock_unlock(&h->routes_lock);
  route_free(r);
  return ret;

out_bad_method:
  set_err(err, err_size, "http route for %s: \"%s\" is not an HTTP method",
          owner, method);
  return -1;
out_oom:
  set_err(err, err_size, "http route for %s: out of memory", owner);
  route_free(r);
  return -1;
}

/* Route for (method, path) or NULL. When the longest matching prefix has
 * no route for the method, *allow gets its methods (", "-joined, for the
 * 405 answer) and NULL is returned; *allow stays "" when nothing matches.
 */
static const struct route *route_find(dray__http *h, const char *method,
                                      const char *path, char *allow,
                                      size_t allow_size) {
  const struct route *exact = NULL;
  const struct route *any = NULL;
  size_t best = 0;

  allow[0] = '\0';
  pthread_rwlock_rdlock(&h->routes_lock);
  for (size_t i = 0; i < h->route_count; i++) {
    const struct route *r = h->routes[i];
    if (r->prefix_len < best || !prefix_matches(r, path)) continue;
    if (r->prefix_len > best) {
      best = r->prefix_len;
      exact = any = NULL;
      allow[0] = '\0';
    }
    if (r->method == NULL) {
      any = r;
    } else {
      /* HEAD is GET without the body (MHD drops it). */
      if (strcmp(r->method, method) == 0)
        exact = r;
      else if (exact == NULL && strcmp(method, "HEAD") == 0 &&
               strcmp(r->method, "GET") == 0)
        exact = r;
      size_t used = strlen(allow);
      snprintf(allow + used, allow_size - used, "%s%s", used > 0 ? ", " : "",
               r->method);
    }
  }
  pthread_rwlock_unlock(&h->routes_lock);
  if (exact != NULL) return exact;
  if (any != NULL) return any;
  return NULL;
}

/* ---------------------------------------------------------------------- */
/* Answers                                                                */

/* Builds the answer and keeps it in the exchange; it is queued on MHD's
 * thread (send_stored), since a worker may not queue on a connection. */
static int build_answer(dray_http_exchange *ex, int status,
                        const char *content_type, const void *body,
                        size_t len) {
  struct MHD_Response *resp = MHD_create_response_from_buffer(
      len, (void *)(len > 0 ? body : ""), MHD_RESPMEM_MUST_COPY);
  if (resp == NULL) return -1;
  for (size_t i = 0; i < ex->resp_header_count; i++) {
    if (MHD_add_response_header(resp, ex->resp_headers[i].name,
                                ex->resp_headers[i].value) != MHD_YES)
      goto out_destroy;
  }
  if (content_type != NULL &&
      MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE,
                              content_type) != MHD_YES)
    goto out_destroy;
  ex->resp = resp;
  ex->resp_status = (unsigned)status;
  ex->responded = 1;
  return 0;
out_destroy:
  MHD_destroy_response(resp);
  return -1;
}

/* The listener's own answers: short text naming the reason. */
static int answer_text(dray_http_exchange *ex, int status, const char *text) {
  return build_answer(ex, status, "text/plain; charset=utf-8", text,
                      strlen(text));
}

/* Queues the stored answer; MHD's thread only. No answer (out of memory
 * while building one) closes the connection. */
static enum MHD_Result send_stored(dray_http_exchange *ex) {
  if (ex->resp == NULL) return MHD_NO;
  enum MHD_Result r = MHD_queue_response(ex->conn, ex->resp_status, ex->resp);
  MHD_destroy_response(ex->resp);
  ex->resp = NULL;
  return r;
}

static int has_resp_header(const dray_http_exchange *ex, const char *name) {
  for (size_t i = 0; i < ex->resp_header_count; i++)
    if (strcasecmp(ex->resp_headers[i].name, name) == 0) return 1;
  return 0;
}

/* ---------------------------------------------------------------------- */
/* MHD callbacks                                                          */

static void mhd_logger(void *cls, const char *fmt, va_list ap) {
  dray__http *h = cls;
  pthread_mutex_lock(&h->log_lock);
  vsnprintf(h->mhd_log, sizeof h->mhd_log, fmt, ap);
  /* MHD's lines end in a newline; the error text is embedded in ours. */
  size_t n = strlen(h->mhd_log);
  while (n > 0 && (h->mhd_log[n - 1] == '\n' || h->mhd_log[n - 1] == '\r'))
    h->mhd_log[--n] = '\0';
  pthread_mutex_unlock(&h->log_lock);
}

static void *uri_log_cb(void *cls, const char *uri,
                        struct MHD_Connection *conn) {
  dray_http_exchange *ex = calloc(1, sizeof *ex);
  if (ex == NULL) return NULL; /* access_cb refuses the request */
  ex->h = cls;
  ex->conn = conn;
  ex->raw_uri = strdup(uri != NULL ? uri : "");
  if (ex->raw_uri == NULL) {
    free(ex);
    return NULL;
  }
  /* Fragments are never sent by clients, but cut one off if present. */
  char *hash = strchr(ex->raw_uri, '#');
  if (hash != NULL) *hash = '\0';
  char *q = strchr(ex->raw_uri, '?');
  ex->query = q != NULL ? q + 1 : "";
  return ex;
}

static void exchange_free(dray_http_exchange *ex) {
  if (ex == NULL) return;
  for (size_t i = 0; i < ex->resp_header_count; i++) {
    free(ex->resp_headers[i].name);
    free(ex->resp_headers[i].value);
  }
  free(ex->resp_headers);
  if (ex->resp != NULL) MHD_destroy_response(ex->resp);
  free(ex->body);
  free(ex->raw_uri);
  free(ex);
}

static void completed_cb(void *cls, struct MHD_Connection *conn,
                         void **con_cls, enum MHD_RequestTerminationCode toe) {
  dray__http *h = cls;
  dray_http_exchange *ex = *con_cls;
  if (ex != NULL && ex->handed_off) {
    pthread_mutex_lock(&h->inflight_lock);
    if (--h->unsent == 0) pthread_cond_broadcast(&h->inflight_done);
    pthread_mutex_unlock(&h->inflight_lock);
  }
  exchange_free(ex);
  *con_cls = NULL;
}

/* First call for a request: pick the route and refuse early what cannot
 * succeed, so a client with Expect: 100-continue never sends the body. */
static enum MHD_Result on_headers(dray_http_exchange *ex) {
  dray__http *h = ex->h;
  char allow[256];
  char text[160];

  ex->route = route_find(h, ex->method, ex->path, allow, sizeof allow);
  if (ex->route == NULL && allow[0] == '\0') {
    ex->answered_early = 1;
    answer_text(ex, MHD_HTTP_NOT_FOUND, "no route for this path\n");
    return send_stored(ex);
  }
  if (ex->route == NULL) {
    ex->answered_early = 1;
    if (dray__http_ex_add_header(ex, MHD_HTTP_HEADER_ALLOW, allow) != 0)
      return MHD_NO;
    snprintf(text, sizeof text, "method %.40s not allowed here; use %s\n",
             ex->method, allow);
    answer_text(ex, MHD_HTTP_METHOD_NOT_ALLOWED, text);
    return send_stored(ex);
  }
  const char *cl = MHD_lookup_connection_value(ex->conn, MHD_HEADER_KIND,
                                               MHD_HTTP_HEADER_CONTENT_LENGTH);
  if (cl != NULL) {
    char *end = NULL;
    errno = 0;
    unsigned long long n = strtoull(cl, &end, 10);
    if (errno == ERANGE || n > h->max_body) {
      ex->answered_early = 1;
      snprintf(text, sizeof text, "request body larger than %zu bytes\n",
               h->max_body);
      answer_text(ex, MHD_HTTP_CONTENT_TOO_LARGE, text);
      return send_stored(ex);
    }
  }
  return MHD_YES;
}

/* Returns -1 to drop the connection: out of memory, or a body without
 * Content-Length that goes on far past the limit (draining it forever to
 * answer 413 would let one client hold the connection). */
static int append_body(dray_http_exchange *ex, const char *data, size_t len) {
  size_t max = ex->h->max_body;
  if (ex->too_large) { /* keep draining, answer 413 at the end */
    ex->discarded += len;
    return ex->discarded > max ? -1 : 0;
  }
  if (len > max - ex->body_len) {
    ex->too_large = 1;
    free(ex->body);
    ex->body = NULL;
    ex->body_len = ex->body_cap = 0;
    return 0;
  }
  if (ex->body_len + len + 1 > ex->body_cap) {
    size_t cap = ex->body_cap > 0 ? ex->body_cap : 4096;
    while (cap < ex->body_len + len + 1) cap *= 2;
    if (cap > max + 1) cap = max + 1;
    char *grown = realloc(ex->body, cap);
    if (grown == NULL) return -1;
    ex->body = grown;
    ex->body_cap = cap;
  }
  memcpy(ex->body + ex->body_len, data, len);
  ex->body_len += len;
  ex->body[ex->body_len] = '\0';
  return 0;
}

/* Runs auth and handler on a worker and stores the answer (the handler's
 * or the default for its status). */
static void run_exchange(dray_http_exchange *ex) {
  const struct route *r = ex->route;
  char text[160];

  int refused = r->auth != NULL ? r->auth(r->plugin_state, ex) : 0;
  if (refused != 0) {
    /* A hook answering nonsense still refuses: 403. The hook's own answer,
     * if it built one, stands. */
    int status = refused >= 400 && refused <= 599 ? refused : 403;
    if (!ex->responded) {
      snprintf(text, sizeof text, "request refused (%d)\n", status);
      answer_text(ex, status, text);
    }
    return;
  }

  dray_status st = r->handler(r->plugin_state, ex);
  if (ex->responded) return;
  switch (st) {
    case DRAY_REJECT:
      answer_text(ex, MHD_HTTP_BAD_REQUEST, "request rejected\n");
      break;
    case DRAY_OK:
    case DRAY_FATAL:
      answer_text(ex, MHD_HTTP_INTERNAL_SERVER_ERROR,
                  "handler did not answer\n");
      break;
    case DRAY_RETRY:
    default: /* unknown codes count as RETRY (dray/abi.h) */
      if (!has_resp_header(ex, MHD_HTTP_HEADER_RETRY_AFTER))
        dray__http_ex_add_header(ex, MHD_HTTP_HEADER_RETRY_AFTER, "1");
      answer_text(ex, MHD_HTTP_SERVICE_UNAVAILABLE,
                  "temporarily unavailable, retry later\n");
      break;
  }
}

static void answer_stopping(dray_http_exchange *ex) {
  dray__http_ex_add_header(ex, MHD_HTTP_HEADER_RETRY_AFTER, "1");
  answer_text(ex, MHD_HTTP_SERVICE_UNAVAILABLE, "listener is stopping\n");
}

static void *worker_main(void *arg) {
  dray__http *h = arg;
  for (;;) {
    pthread_mutex_lock(&h->inflight_lock);
    while (h->queue_head == NULL && !h->quit)
      pthread_cond_wait(&h->job_ready, &h->inflight_lock);
    dray_http_exchange *ex = h->queue_head;
    if (ex == NULL) { /* quit with an empty queue */
      pthread_mutex_unlock(&h->inflight_lock);
      break;
    }
    h->queue_head = ex->next_job;
    if (h->queue_head == NULL) h->queue_tail = NULL;
    int stopping = h->stopping;
    pthread_mutex_unlock(&h->inflight_lock);

    if (stopping)
      answer_stopping(ex);
    else
      run_exchange(ex);
    /* From here on MHD may finish and free the exchange at any time. */
    MHD_resume_connection(ex->conn);

    pthread_mutex_lock(&h->inflight_lock);
    if (--h->inflight == 0) pthread_cond_broadcast(&h->inflight_done);
    pthread_mutex_unlock(&h->inflight_lock);
  }
  return NULL;
}

/* Body complete: hand the exchange to a worker, suspended until it has an
 * answer. MHD's thread. */
static enum MHD_Result on_complete(dray_http_exchange *ex) {
  dray__http *h = ex->h;
  char text[160];

  if (ex->too_large) {
    snprintf(text, sizeof text, "request body larger than %zu bytes\n",
             h->max_body);
    answer_text(ex, MHD_HTTP_CONTENT_TOO_LARGE, text);
    return send_stored(ex);
  }

  pthread_mutex_lock(&h->inflight_lock);
  if (h->stopping) {
    pthread_mutex_unlock(&h->inflight_lock);
    answer_stopping(ex);
    return send_stored(ex);
  }
  /* Suspend before a worker can see the exchange: a resume must never
   * precede its suspend. */
  MHD_suspend_connection(ex->conn);
  ex->handed_off = 1;
  ex->next_job = NULL;
  if (h->queue_tail != NULL)
    h->queue_tail->next_job = ex;
  else
    h->queue_head = ex;
  h->queue_tail = ex;
  h->inflight++;
  h->unsent++;
  pthread_cond_signal(&h->job_ready);
  pthread_mutex_unlock(&h->inflight_lock);
  return MHD_YES;
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *conn,
                                 const char *url, const char *method,
                                 const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **con_cls) {
  dray_http_exchange *ex = *con_cls;
  if (ex == NULL) return MHD_NO; /* out of memory in uri_log_cb: drop */

  if (!ex->headers_seen) {
    ex->headers_seen = 1;
    ex->method = method;
    ex->path = url;
    return on_headers(ex);
  }
  if (ex->answered_early) {
    *upload_data_size = 0; /* discard: the answer is already queued */
    return MHD_YES;
  }
  if (*upload_data_size > 0) {
    if (append_body(ex, upload_data, *upload_data_size) != 0) return MHD_NO;
    *upload_data_size = 0;
    return MHD_YES;
  }
  /* Called again after the worker resumed the connection. */
  if (ex->handed_off) return send_stored(ex);
  return on_complete(ex);
}

/* ---------------------------------------------------------------------- */
/* Start and stop                                                         */

/* Lets the workers drain the queue and joins them. */
static void stop_workers(dray__http *h) {
  pthread_mutex_lock(&h->inflight_lock);
  h->quit = 1;
  pthread_cond_broadcast(&h->job_ready);
  pthread_mutex_unlock(&h->inflight_lock);
  for (unsigned i = 0; i < h->worker_count; i++)
    pthread_join(h->workers[i], NULL);
  h->worker_count = 0;
  free(h->workers);
  h->workers = NULL;
}

int dray__http_start(dray__http *h, char *err, size_t err_size) {
  /* epoll (AUTO) rather than poll(): with libmicrohttpd 0.9.75's poll()
   * loop a client that sends a complete request and half-closes at once
   * gets no answer; the epoll loop answers it. (Its cost: a half-close
   * after an incomplete request holds the connection until the timeout.)
   */
  unsigned int flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_AUTO |
                       MHD_USE_ERROR_LOG | MHD_ALLOW_SUSPEND_RESUME;
  if (h == NULL) {
    set_err(err, err_size, "http: no listener");
    return -1;
  }
  if (h->daemon != NULL || h->workers != NULL) {
    set_err(err, err_size, "http.listen %s: listener already started",
            h->listen);
    return -1;
  }
  if (h->addr.ss_family == AF_INET6) flags |= MHD_USE_IPv6;
  if (h->tls_cert_pem != NULL) flags |= MHD_USE_TLS;

  struct MHD_OptionItem opts[10];
  size_t n = 0;
  opts[n++] = (struct MHD_OptionItem){MHD_OPTION_SOCK_ADDR, 0, &h->addr};
  opts[n++] = (struct MHD_OptionItem){MHD_OPTION_URI_LOG_CALLBACK,
                                      (intptr_t)uri_log_cb, h};
  opts[n++] = (struct MHD_OptionItem){MHD_OPTION_NOTIFY_COMPLETED,
                                      (intptr_t)completed_cb, h};
  opts[n++] = (struct MHD_OptionItem){MHD_OPTION_EXTERNAL_LOGGER,
                                      (intptr_t)mhd_logger, h};
  opts[n++] = (struct MHD_OptionItem){MHD_OPTION_CONNECTION_TIMEOUT,
                                      CONNECTION_TIMEOUT_S, NULL};
  if (h->tls_cert_pem != NULL) {
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_KEY, 0,
                                        h->tls_key_pem};
    opts[n++] = (struct MHD_OptionItem){MHD_OPTION_HTTPS_MEM_CERT, 0,
                                        h->tls_cert_pem};
  }
  opts[n] = (struct MHD_OptionItem){MHD_OPTION_END, 0, NULL};

  h->workers = calloc(h->threads, sizeof *h->workers);
  if (h->workers == NULL) {
    set_err(err, err_size, "http.listen %s: out of memory", h->listen);
    return -1;
  }
  for (h->worker_count = 0; h->worker_count < h->threads; h->worker_count++) {
    int rc = pthread_create(&h->workers[h->worker_count], NULL, worker_main, h);
    if (rc != 0) {
      set_err(err, err_size, "http.listen %s: cannot start handler thread: %s",
              h->listen, strerror(rc));
      stop_workers(h);
      return -1;
    }
  }

  h->mhd_log[0] = '\0';
  /* Port argument is ignored with MHD_OPTION_SOCK_ADDR. */
  h->daemon = MHD_start_daemon(flags, 0, NULL, NULL, access_cb, h,
                               MHD_OPTION_ARRAY, opts, MHD_OPTION_END);
  if (h->daemon == NULL) {
    pthread_mutex_lock(&h->log_lock);
    set_err(err, err_size, "http.listen %s: cannot start listener%s%s",
            h->listen, h->mhd_log[0] != '\0' ? ": " : "", h->mhd_log);
    pthread_mutex_unlock(&h->log_lock);
    stop_workers(h);
    return -1;
  }
  const union MHD_DaemonInfo *info =
      MHD_get_daemon_info(h->daemon, MHD_DAEMON_INFO_BIND_PORT);
  h->bound_port = info != NULL ? info->port : 0;
  return 0;
}

uint16_t dray__http_port(const dray__http *h) {
  return h != NULL ? h->bound_port : 0;
}

void dray__http_destroy(dray__http **self_p) {
  if (self_p == NULL || *self_p == NULL) return;
  dray__http *h = *self_p;

  /* New and still queued requests get 503 from here on; running handlers
   * finish first, and every suspended connection is resumed. */
  pthread_mutex_lock(&h->inflight_lock);
  h->stopping = 1;
  while (h->inflight > 0)
    pthread_cond_wait(&h->inflight_done, &h->inflight_lock);
  /* Answers are built; let them go out, but do not wait on a client that
   * does not read. */
  struct timespec deadline;
  clock_gettime(CLOCK_REALTIME, &deadline);
  deadline.tv_sec += DRAIN_TIMEOUT_MS / 1000;
  deadline.tv_nsec += (long)(DRAIN_TIMEOUT_MS % 1000) * 1000000L;
  if (deadline.tv_nsec >= 1000000000L) {
    deadline.tv_sec++;
    deadline.tv_nsec -= 1000000000L;
  }
  while (h->unsent > 0 && h->daemon != NULL &&
         pthread_cond_timedwait(&h->inflight_done, &h->inflight_lock,
                                &deadline) == 0) {
  }
  pthread_mutex_unlock(&h->inflight_lock);
  stop_workers(h);

  /* Joins MHD's thread and runs completed_cb for open connections. */
  if (h->daemon != NULL) MHD_stop_daemon(h->daemon);

  for (size_t i = 0; i < h->route_count; i++) route_free(h->routes[i]);
  free(h->routes);
  free(h->listen);
  free(h->tls_cert_pem);
  free_secret(h->tls_key_pem);
  pthread_mutex_destroy(&h->log_lock);
  pthread_cond_destroy(&h->job_ready);
  pthread_cond_destroy(&h->inflight_done);
  pthread_mutex_destroy(&h->inflight_lock);
  pthread_rwlock_destroy(&h->routes_lock);
  free(h);
  *self_p = NULL;
}

/* ---------------------------------------------------------------------- */
/* Exchange accessors                                                     */

const char *dray__http_ex_method(dray_http_exchange *ex) {
  return ex != NULL ? ex->method : NULL;
}

const char *dray__http_ex_path(dray_http_exchange *ex) {
  return ex != NULL ? ex->path : NULL;
}

const char *dray__http_ex_query(dray_http_exchange *ex) {
  return ex != NULL ? ex->query : "";
}

const char *dray__http_ex_header(dray_http_exchange *ex, const char *name) {
  if (ex == NULL || name == NULL) return NULL;
  /* MHD compares header names case-insensitively. */
  return MHD_lookup_connection_value(ex->conn, MHD_HEADER_KIND, name);
}

const void *dray__http_ex_body(dray_http_exchange *ex, size_t *len) {
  if (len != NULL) *len = ex != NULL ? ex->body_len : 0;
  if (ex == NULL || ex->body == NULL) return "";
  return ex->body;
}

const char *dray__http_ex_remote_addr(dray_http_exchange *ex) {
  if (ex == NULL) return NULL;
  if (ex->remote[0] == '\0') {
    const union MHD_ConnectionInfo *info =
        MHD_get_connection_info(ex->conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
    const struct sockaddr *sa = info != NULL ? info->client_addr : NULL;
    if (sa != NULL && sa->sa_family == AF_INET)
      inet_ntop(AF_INET, &((const struct sockaddr_in *)sa)->sin_addr,
                ex->remote, sizeof ex->remote);
    else if (sa != NULL && sa->sa_family == AF_INET6)
      inet_ntop(AF_INET6, &((const struct sockaddr_in6 *)sa)->sin6_addr,
                ex->remote, sizeof ex->remote);
    else
      snprintf(ex->remote, sizeof ex->remote, "unknown");
  }
  return ex->remote;
}

int dray__http_ex_add_header(dray_http_exchange *ex, const char *name,
                             const char *value) {
  if (ex == NULL || name == NULL || value == NULL || name[0] == '\0' ||
      ex->responded)
    return -1;
  for (const char *p = name; *p != '\0'; p++)
    if (!is_token_char((unsigned char)*p)) return -1;
  /* Framing is the listener's job: a plugin's value would contradict the
   * body it hands to respond. */
  if (strcasecmp(name, "Content-Length") == 0 ||
      strcasecmp(name, "Transfer-Encoding") == 0 ||
      strcasecmp(name, "Connection") == 0)
    return -1;
  /* libmicrohttpd refuses empty values; refusing here keeps respond from
   * failing later for it. */
  if (value[0] == '\0' || strpbrk(value, "\r\n") != NULL) return -1;
  struct header *grown = realloc(
      ex->resp_headers, (ex->resp_header_count + 1) * sizeof *grown);
  if (grown == NULL) return -1;
  ex->resp_headers = grown;
  struct header *hd = &ex->resp_headers[ex->resp_header_count];
  hd->name = strdup(name);
  hd->value = strdup(value);
  if (hd->name == NULL || hd->value == NULL) {
    free(hd->name);
    free(hd->value);
    return -1;
  }
  ex->resp_header_count++;
  return 0;
}

int dray__http_ex_respond(dray_http_exchange *ex, int status,
                          const char *content_type, const void *body,
                          size_t len) {
  if (ex == NULL || ex->responded || status < 100 || status > 599 ||
      (body == NULL && len > 0))
    return -1;
  if (content_type != NULL && strpbrk(content_type, "\r\n") != NULL) return -1;
  return build_answer(ex, status, content_type, body, len);
}
