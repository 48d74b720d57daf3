/* idoc_port_http.c - SAP's XML-HTTP port, both ways.
 *
 * Inbound: SAP (port type "XML HTTP", an SM59 type-G destination) POSTs
 * IDoc-XML to Dray's shared HTTP listener under http_path. The handler
 * decodes, validates and emits every IDoc of the request and answers 200
 * only once every emit returned OK (the message is accepted by the
 * runtime); 400 with the error for a bad document; 503 + Retry-After on
 * backpressure, so SAP's port retries.
 *
 * Outbound: POST IDoc-XML to <sap_url>/sap/bc/idoc_xml?sap-client=NNN
 * (SICF service idoc_xml) with Basic auth over TLS. The core owns retries:
 * 5xx, 429, timeouts and connection errors give DRAY_RETRY with a
 * retry-after hint; any other 4xx gives DRAY_REJECT.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "sap_idoc_plugin.h"

static void b64(const char *in, size_t n, char *out) {
  static const char t[] =
      "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
  size_t k = 0;
  for (size_t i = 0; i < n; i += 3) {
    unsigned v = (unsigned char)in[i] << 16;
    if (i + 1 < n) v |= (unsigned char)in[i + 1] << 8;
    if (i + 2 < n) v |= (unsigned char)in[i + 2];
    out[k++] = t[(v >> 18) & 63];
    out[k++] = t[(v >> 12) & 63];
    out[k++] = i + 1 < n ? t[(v >> 6) & 63] : '=';
    out[k++] = i + 2 < n ? t[v & 63] : '=';
  }
  out[k] = 0;
}

/* Constant-time comparison: credentials must not leak by timing. */
static int same(const char *a, const char *b) {
  size_t la = strlen(a), lb = strlen(b);
  unsigned char d = (unsigned char)(la != lb);
  for (size_t i = 0; i < la && i < lb; i++) d |= (unsigned char)(a[i] ^ b[i]);
  return d == 0;
}

static int inbound_auth(void *state, dray_http_exchange *ex) {
  struct sap_idoc *s = state;
  if (!s->in_user) return 0;
  const char *h = s->host->http_header(ex, "Authorization");
  if (!h || strncasecmp(h, "Basic ", 6)) return 401;
  char plain[512], want[700];
  snprintf(plain, sizeof plain, "%s:%s", s->in_user,
           s->in_password ? s->in_password : "");
  b64(plain, strlen(plain), want);
  return same(h + 6, want) ? 0 : 401;
}

struct emit_ctx {
  struct sap_idoc *s;
  dray_status worst;
};

static int emit_now(void *ctx, dray_msg **msg) {
  struct emit_ctx *c = ctx;
  if (c->worst != DRAY_OK) return -1; /* stop after the first failure */
  dray_status st = c->s->host->emit(c->s->inst, msg);
  if (st != DRAY_OK) {
    c->worst = st;
    return -1;
  }
  return 0;
}

static dray_status inbound(void *state, dray_http_exchange *ex) {
  struct sap_idoc *s = state;
  const struct dray_host *h = s->host;
  const char *method = h->http_method(ex);
  if (strcmp(method, "POST")) {
    h->http_add_header(ex, "Allow", "POST");
    const char *m = "POST IDoc-XML here\n";
    h->http_respond(ex, 405, "text/plain", m, strlen(m));
    return DRAY_OK;
  }
  size_t len;
  const char *body = h->http_body(ex, &len);
  struct emit_ctx c = {s, DRAY_OK};
  char err[1024] = "";
  char origin[128];
  snprintf(origin, sizeof origin, "http:%s", h->http_remote_addr(ex));
  /* handlers run concurrently: each request takes its own set from the
   * instance's pool */
  dray_status st = sap_idoc_decode_doc(s, body ? body : "",
                                       body ? len : 0, origin, emit_now, &c,
                                       err, sizeof err);
  if (c.worst == DRAY_RETRY) {
    const char *m = "busy: retry later\n";
    h->http_add_header(ex, "Retry-After", "5");
    h->http_respond(ex, 503, "text/plain", m, strlen(m));
    return DRAY_OK;
  }
  if (c.worst != DRAY_OK) {
    const char *m = "cannot accept IDocs now\n";
    h->http_respond(ex, 500, "text/plain", m, strlen(m));
    return DRAY_OK;
  }
  if (st != DRAY_OK) {
    size_t l = strlen(err);
    if (l < sizeof err - 1) err[l++] = '\n';
    h->http_respond(ex, 400, "text/plain", err, l);
    return DRAY_OK;
  }
  const char *ok = "IDocs accepted\n";
  h->http_respond(ex, 200, "text/plain", ok, strlen(ok));
  return DRAY_OK;
}

int sap_http_init(struct sap_idoc *s) {
  static int curl_ready;
  if (!__atomic_exchange_n(&curl_ready, 1, __ATOMIC_SEQ_CST))
    curl_global_init(CURL_GLOBAL_DEFAULT);
  if (s->sap_url && strncmp(s->sap_url, "https://", 8) &&
      strncmp(s->sap_url, "http://", 7)) {
    s->host->set_error(s->inst, "sap_url '%s': expected http(s)://host[:port]",
                       s->sap_url);
    return -1;
  }
  /* the inbound route needs the core's listener; a codec-only use
   * (`dray convert`) has none and needs none */
  if (s->http_path && s->host->http_route &&
      s->host->http_route(s->inst, NULL, s->http_path, inbound,
                          inbound_auth) < 0) {
    if (!s->sap_url) return -1;
    s->host->log(s->inst, DRAY_LOG_WARN,
                 "no inbound route %s: outbound only", s->http_path);
  }
  return 0;
}

struct resp {
  char body[512];
  size_t len;
  long retry_after_s;
};

static size_t on_body(char *p, size_t size, size_t n, void *ud) {
  struct resp *r = ud;
  size_t total = size * n, room = sizeof r->body - 1 - r->len;
  size_t k = total < room ? total : room;
  memcpy(r->body + r->len, p, k);
  r->len += k;
  r->body[r->len] = 0;
  return total;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud) {
  struct resp *r = ud;
  size_t total = size * n;
  if (total > 12 && !strncasecmp(p, "Retry-After:", 12))
    r->retry_after_s = strtol(p + 12, NULL, 10);
  return total;
}

dray_status sap_http_post(struct sap_idoc *s, const char *xml, size_t len) {
  const struct dray_host *h = s->host;
  if (!s->sap_url) {
    h->set_error(s->inst, "port http: no sap_url configured for outbound IDocs");
    return DRAY_FATAL;
  }
  char url[1024];
  size_t ul = strlen(s->sap_url);
  while (ul && s->sap_url[ul - 1] == '/') ul--;
  snprintf(url, sizeof url, "%.*s/sap/bc/idoc_xml?sap-client=%s", (int)ul,
           s->sap_url, s->mandt);
  CURL *c = curl_easy_init();
  if (!c) {
    h->set_error(s->inst, "libcurl: cannot start a request");
    return DRAY_RETRY;
  }
  struct resp r = {"", 0, -1};
  struct curl_slist *hdr = curl_slist_append(NULL, "Content-Type: text/xml; charset=utf-8");
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_POST, 1L);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, xml);
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)len);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, hdr);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, (long)s->http_timeout_ms);
  curl_easy_setopt(c, CURLOPT_CONNECTTIMEOUT_MS,
                   (long)(s->http_timeout_ms < 10000 ? s->http_timeout_ms : 10000));
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_body);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, &r);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_header);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &r);
  curl_easy_setopt(c, CURLOPT_PROTOCOLS_STR, "http,https");
  if (s->username) {
    curl_easy_setopt(c, CURLOPT_HTTPAUTH, (long)CURLAUTH_BASIC);
    curl_easy_setopt(c, CURLOPT_USERNAME, s->username);
    curl_easy_setopt(c, CURLOPT_PASSWORD, s->password ? s->password : "");
  }
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYPEER, s->tls_verify ? 1L : 0L);
  curl_easy_setopt(c, CURLOPT_SSL_VERIFYHOST, s->tls_verify ? 2L : 0L);
  if (s->ca_file) curl_easy_setopt(c, CURLOPT_CAINFO, s->ca_file);
  CURLcode cc = curl_easy_perform(c);
  long status = 0;
  curl_off_t sent = 0;
  curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &status);
  curl_easy_getinfo(c, CURLINFO_SIZE_UPLOAD_T, &sent);
  curl_slist_free_all(hdr);
  curl_easy_cleanup(c);
  /* never echo the URL's credentials: the URL holds none, only the client */
  if (cc != CURLE_OK) {
    h->set_error(s->inst, "POST %s: %s", url, curl_easy_strerror(cc));
    h->set_retry_after(s->inst, 5000);
    h->counter_add(s->inst, "http_errors", 1);
    /* the IDoc was sent and the answer lost: SAP may have created it. For
     * financial instances the host must not resend blind (ABI 1.1). */
    if (sent > 0 && DRAY_HOST_HAS(h, set_in_doubt)) h->set_in_doubt(s->inst);
    return DRAY_RETRY;
  }
  if (status >= 200 && status < 300) return DRAY_OK;
  while (r.len && (r.body[r.len - 1] == '\n' || r.body[r.len - 1] == '\r'))
    r.body[--r.len] = 0;
  h->set_error(s->inst, "POST %s: HTTP %ld%s%.200s", url, status,
               r.len ? ": " : "", r.body);
  h->counter_add(s->inst, "http_errors", 1);
  if (status == 429 || status >= 500 || status == 408) {
    h->set_retry_after(s->inst, r.retry_after_s >= 0 ? r.retry_after_s * 1000 : 5000);
    return DRAY_RETRY;
  }
  return DRAY_REJECT;
}
