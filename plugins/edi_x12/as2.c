/* as2.c - the AS2 transport (RFC 4130): receive on the host's HTTP
 * listener, send with libcurl, S/MIME layers (as2_smime.c) and MDNs
 * (as2_mdn.c). See as2.h.
 *
 * Receive: AS2-To/AS2-From must name this partnership; Message-ID is
 * de-duplicated through the instance's kv state ("as2/mid/<id>"); layers
 * are peeled in any order (enveloped, compressed, signed); the MIC is taken
 * over the signed part (or, unsigned, the innermost decrypted or
 * uncompressed entity, or the payload: RFC 4130 7.3.1, RFC 5402); the
 * payload goes to edi_x12_receive_payload(); the MDN goes back in the HTTP
 * answer (sync) or as a new POST to Receipt-Delivery-Option (async), signed
 * when asked. Failures give the RFC dispositions: authentication-failed,
 * decryption-failed, decompression-failed, integrity-check-failed,
 * unexpected-processing-error. */
#include "as2.h"

#include <curl/curl.h>
#include <openssl/rand.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "as2_cms_zlib.h"
#include "as2_mdn.h"
#include "as2_mime.h"
#include "as2_smime.h"

struct as2 {
  const struct dray_host *host;
  dray_instance *inst;
  void *plugin_state;
  const char *from, *to, *url, *mdn_url;
  char path[256];
  X509 *cert, *partner;
  EVP_PKEY *key;
  int sign, encrypt, compress, require_signed;
  int compress_after_sign; /* as2_compress_order: after_sign */
  size_t max_uncompressed;  /* as2_max_uncompressed */
  const EVP_CIPHER *cipher;
  const EVP_MD *md;
  int mdn_mode; /* 0 sync, 1 async, 2 none */
  long timeout_ms;
};

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init(void) { curl_global_init(CURL_GLOBAL_DEFAULT); }

void as2_destroy(struct as2 **self_p) {
  if (!self_p || !*self_p) return;
  struct as2 *a = *self_p;
  X509_free(a->cert);
  X509_free(a->partner);
  EVP_PKEY_free(a->key);
  free(a);
  *self_p = NULL;
}

static dray_status handle(void *plugin_state, dray_http_exchange *ex);

/* The as2 state is reached from the plugin state through this accessor
 * (edi_x12.c). */
struct as2 *edi_x12_as2(void *plugin_state);

struct as2 *as2_new(const struct dray_host *h, dray_instance *inst,
                    void *plugin_state, char *err, size_t size) {
  struct as2 *a = calloc(1, sizeof(*a));
  if (!a) {
    snprintf(err, size, "out of memory");
    return NULL;
  }
  pthread_once(&curl_once, curl_init);
  a->host = h;
  a->inst = inst;
  a->plugin_state = plugin_state;
  a->from = h->get_string(inst, "as2_from");
  a->to = h->get_string(inst, "as2_to");
  a->url = h->get_string(inst, "as2_url");
  a->mdn_url = h->get_string(inst, "as2_mdn_url");
  a->sign = h->get_bool(inst, "as2_sign", 1);
  a->encrypt = h->get_bool(inst, "as2_encrypt", 1);
  a->compress = h->get_bool(inst, "as2_compress", 0);
  const char *order = h->get_string(inst, "as2_compress_order");
  a->compress_after_sign = order && !strcmp(order, "after_sign");
  int64_t maxu = h->get_int(inst, "as2_max_uncompressed", (int64_t)AS2_CMS_ZLIB_DEFAULT_MAX);
  a->max_uncompressed = maxu > 0 && (uint64_t)maxu < SIZE_MAX ? (size_t)maxu
                                                             : AS2_CMS_ZLIB_DEFAULT_MAX;
  a->require_signed = h->get_bool(inst, "as2_require_signed", 1);
  a->timeout_ms = (long)h->get_int(inst, "as2_timeout_ms", 30000);
  const char *c = h->get_string(inst, "as2_cipher");
  a->cipher = !c || !strcmp(c, "aes256") ? EVP_aes_256_cbc()
              : !strcmp(c, "aes192")     ? EVP_aes_192_cbc()
              : !strcmp(c, "aes128")     ? EVP_aes_128_cbc()
                                         : EVP_des_ede3_cbc();
  a->md = as2_md(h->get_string(inst, "as2_mic_alg"));
  if (!a->md) a->md = EVP_sha256();
  const char *m = h->get_string(inst, "as2_mdn");
  a->mdn_mode = !m || !strcmp(m, "sync") ? 0 : !strcmp(m, "async") ? 1 : 2;
  if (!a->from || !a->to) {
    snprintf(err, size, "as2_from and as2_to are required");
    goto fail;
  }
  const char *cf = h->get_string(inst, "as2_cert_file");
  const char *kf = h->get_string(inst, "as2_key_file");
  const char *pf = h->get_string(inst, "as2_partner_cert_file");
  if (cf && !(a->cert = as2_load_cert(cf, err, size))) goto fail;
  if (kf && !(a->key = as2_load_key(kf, h->get_secret(inst, "as2_key_passphrase"),
                                    err, size)))
    goto fail;
  if (pf && !(a->partner = as2_load_cert(pf, err, size))) goto fail;
  if ((a->sign && (!a->cert || !a->key)) || (a->encrypt && !a->partner)) {
    snprintf(err, size, "as2_sign needs as2_cert_file and as2_key_file; "
                        "as2_encrypt needs as2_partner_cert_file");
    goto fail;
  }
  const char *p = h->get_string(inst, "as2_path");
  snprintf(a->path, sizeof(a->path), "%s", p ? p : "");
  if (!p) snprintf(a->path, sizeof(a->path), "/as2/%s", h->instance_name(inst));
  if (h->http_route(inst, "POST", a->path, handle, NULL) < 0) {
    snprintf(err, size, "cannot register POST %s on the host listener", a->path);
    goto fail;
  }
  return a;
fail:
  as2_destroy(&a);
  return NULL;
}

/* ------------------------------------------------------------------ */
/* receive                                                              */

static int same_name(const char *a, const char *b) {
  return a && b && strcmp(a, b) == 0; /* AS2 names are case-sensitive */
}

/* Strips <> around a Message-ID into out. */
static void bare_id(const char *id, char *out, size_t size) {
  while (*id == ' ' || *id == '<') id++;
  snprintf(out, size, "%s", id);
  size_t n = strlen(out);
  while (n && (out[n - 1] == '>' || out[n - 1] == ' ')) out[--n] = '\0';
}

/* micalg requested in Disposition-Notification-Options, or NULL. */
static const EVP_MD *requested_md(const char *opts) {
  const char *p = opts ? strcasestr(opts, "signed-receipt-micalg") : NULL;
  if (!p) return NULL;
  p = strchr(p, '=');
  if (!p) return NULL;
  char buf[128];
  snprintf(buf, sizeof(buf), "%s", p + 1);
  for (char *t = strtok(buf, ", ;"); t; t = strtok(NULL, ", ;")) {
    if (!strcasecmp(t, "optional") || !strcasecmp(t, "required")) continue;
    const EVP_MD *md = as2_md(t);
    if (md) return md;
  }
  return NULL;
}

struct peeled {
  char *payload; /* owned */
  size_t payload_len;
  char mic[160];
  int signed_msg, encrypted, compressed;
  char layers[80]; /* outermost first: "encrypted>compressed>signed" */
  const char *failure; /* disposition modifier or NULL */
  char reason[400];
};

static void add_layer(struct peeled *p, const char *name) {
  size_t n = strlen(p->layers);
  snprintf(p->layers + n, sizeof(p->layers) - n, "%s%s", n ? ">" : "", name);
}

/* Peels the S/MIME layers of (content_type, cte, body), in any order.
 * MIC (RFC 4130 7.3.1, RFC 5402 for compression): over the signed part,
 * headers and body, whatever it holds (compressed or not); unsigned but
 * decrypted or uncompressed: over the innermost MIME entity, headers
 * included; a bare payload: over the payload only. The MIC is taken when
 * the signature is found: later layers free the buffers it points into. */
static void peel(struct as2 *a, const char *content_type, const char *cte,
                 const char *body, size_t len, const EVP_MD *md,
                 struct peeled *out) {
  char ct[512], enc[64], smime[64];
  char *owned = NULL; /* current decrypted/uncompressed entity */
  const char *cur = body;
  size_t cur_len = len;
  /* the MIME entity whose body is cur; NULL at the top, where the headers
   * are HTTP's */
  const char *ent = NULL;
  size_t ent_len = 0;
  snprintf(ct, sizeof(ct), "%s", content_type ? content_type : "");
  snprintf(enc, sizeof(enc), "%s", cte ? cte : "");
  for (int layer = 0; layer < 6; layer++) {
    if (as2_type_is(ct, "application/pkcs7-mime") ||
        as2_type_is(ct, "application/x-pkcs7-mime")) {
      smime[0] = '\0';
      as2_param(ct, "smime-type", smime, sizeof(smime));
      size_t n;
      char *inner;
      if (!strcasecmp(smime, "compressed-data")) {
        inner = as2_uncompress(cur, cur_len, !strcasecmp(enc, "base64"), a->max_uncompressed,
                               &n, out->reason, sizeof(out->reason));
        if (!inner) {
          out->failure = "decompression-failed";
          break;
        }
        out->compressed = 1;
        add_layer(out, "compressed");
      } else {
        if (!a->key || !a->cert) {
          snprintf(out->reason, sizeof(out->reason), "encrypted message but no as2_key_file");
          out->failure = "decryption-failed";
          break;
        }
        inner = as2_decrypt(cur, cur_len, !strcasecmp(enc, "base64"), a->cert,
                            a->key, &n, out->reason, sizeof(out->reason));
        if (!inner) {
          out->failure = "decryption-failed";
          break;
        }
        out->encrypted = 1;
        add_layer(out, "encrypted");
      }
      free(owned);
      owned = inner;
      struct as2_entity e;
      if (as2_entity_split(owned, n, &e) < 0 ||
          as2_header(e.headers, e.headers_len, "Content-Type", ct, sizeof(ct)) < 0) {
        snprintf(out->reason, sizeof(out->reason), "%s content is not a MIME entity",
                 !strcasecmp(smime, "compressed-data") ? "uncompressed" : "decrypted");
        out->failure = "unexpected-processing-error";
        break;
      }
      enc[0] = '\0';
      as2_header(e.headers, e.headers_len, "Content-Transfer-Encoding", enc, sizeof(enc));
      ent = owned;
      ent_len = n;
      cur = e.body;
      cur_len = e.body_len;
      continue;
    }
    if (as2_type_is(ct, "multipart/signed")) {
      char boundary[256];
      const char *p0, *p1;
      size_t l0, l1;
      struct as2_entity sig, content;
      char scte[64] = "";
      if (as2_param(ct, "boundary", boundary, sizeof(boundary)) < 0 ||
          as2_multipart_part(cur, cur_len, boundary, 0, &p0, &l0) < 0 ||
          as2_multipart_part(cur, cur_len, boundary, 1, &p1, &l1) < 0 ||
          as2_entity_split(p1, l1, &sig) < 0 || as2_entity_split(p0, l0, &content) < 0) {
        snprintf(out->reason, sizeof(out->reason), "multipart/signed without content and signature parts");
        out->failure = "integrity-check-failed";
        break;
      }
      as2_header(sig.headers, sig.headers_len, "Content-Transfer-Encoding", scte, sizeof(scte));
      int r = as2_verify(p0, l0, sig.body, sig.body_len, !strcasecmp(scte, "base64"),
                         a->partner, 0, out->reason, sizeof(out->reason));
      if (r != AS2_VERIFY_OK) {
        out->failure = r == AS2_VERIFY_INTEGRITY ? "integrity-check-failed"
                                                 : "authentication-failed";
        break;
      }
      /* the signed part, headers and body (the outermost signature) */
      if (!out->signed_msg) as2_mic(p0, l0, md, out->mic, sizeof(out->mic));
      out->signed_msg = 1;
      add_layer(out, "signed");
      if (as2_header(content.headers, content.headers_len, "Content-Type", ct, sizeof(ct)) < 0)
        snprintf(ct, sizeof(ct), "text/plain");
      enc[0] = '\0';
      as2_header(content.headers, content.headers_len, "Content-Transfer-Encoding", enc,
                 sizeof(enc));
      ent = p0;
      ent_len = l0;
      cur = content.body;
      cur_len = content.body_len;
      continue;
    }
    /* the payload */
    if (!strcasecmp(enc, "base64")) {
      unsigned char *dec;
      size_t dl;
      if (as2_base64_decode(cur, cur_len, &dec, &dl) == 0) {
        out->payload = (char *)dec;
        out->payload_len = dl;
      }
    } else {
      out->payload = malloc(cur_len + 1);
      if (out->payload) {
        memcpy(out->payload, cur, cur_len);
        out->payload_len = cur_len;
      }
    }
    if (!out->signed_msg) {
      if (ent)
        as2_mic(ent, ent_len, md, out->mic, sizeof(out->mic));
      else if (out->payload)
        as2_mic(out->payload, out->payload_len, md, out->mic, sizeof(out->mic));
    }
    if (!out->signed_msg && a->require_signed) {
      snprintf(out->reason, sizeof(out->reason), "unsigned message refused (as2_require_signed)");
      out->failure = "insufficient-message-security";
    }
    break;
  }
  free(owned);
  if (!out->payload && !out->failure) {
    snprintf(out->reason, sizeof(out->reason), "no payload found");
    out->failure = "unexpected-processing-error";
  }
}

struct mem {
  char *data;
  size_t len;
};

static size_t collect_cb(char *p, size_t s, size_t n, void *ud) {
  struct mem *m = ud;
  char *d = realloc(m->data, m->len + s * n + 1);
  if (!d) return 0;
  memcpy(d + m->len, p, s * n);
  m->data = d;
  m->len += s * n;
  d[m->len] = '\0';
  return s * n;
}

/* POSTs an entity (its Content-Type header becomes the HTTP one). */
static int post_entity(struct as2 *a, const char *url, const char *entity,
                       size_t len, const char *message_id, const char *extra,
                       struct mem *resp, char *resp_ct, size_t ct_size,
                       long *status, char *err, size_t size) {
  struct as2_entity e;
  char ct[512], cte[64] = "", line[700];
  if (as2_entity_split(entity, len, &e) < 0 ||
      as2_header(e.headers, e.headers_len, "Content-Type", ct, sizeof(ct)) < 0) {
    snprintf(err, size, "internal: entity without Content-Type");
    return -1;
  }
  as2_header(e.headers, e.headers_len, "Content-Transfer-Encoding", cte, sizeof(cte));
  CURL *c = curl_easy_init();
  if (!c) return -1;
  struct curl_slist *hl = NULL;
  snprintf(line, sizeof(line), "Content-Type: %s", ct);
  hl = curl_slist_append(hl, line);
  if (cte[0]) {
    snprintf(line, sizeof(line), "Content-Transfer-Encoding: %s", cte);
    hl = curl_slist_append(hl, line);
  }
  hl = curl_slist_append(hl, "AS2-Version: 1.2");
  hl = curl_slist_append(hl, "MIME-Version: 1.0");
  snprintf(line, sizeof(line), "AS2-From: %s", a->from);
  hl = curl_slist_append(hl, line);
  snprintf(line, sizeof(line), "AS2-To: %s", a->to);
  hl = curl_slist_append(hl, line);
  snprintf(line, sizeof(line), "Message-ID: %s", message_id);
  hl = curl_slist_append(hl, line);
  hl = curl_slist_append(hl, "Expect:");
  for (const char *x = extra; x && *x;) {
    const char *nl = strchr(x, '\n');
    size_t n = nl ? (size_t)(nl - x) : strlen(x);
    snprintf(line, sizeof(line), "%.*s", (int)n, x);
    hl = curl_slist_append(hl, line);
    x = nl ? nl + 1 : x + n;
  }
  struct mem hdrs = {NULL, 0};
  curl_easy_setopt(c, CURLOPT_URL, url);
  curl_easy_setopt(c, CURLOPT_HTTPHEADER, hl);
  curl_easy_setopt(c, CURLOPT_POSTFIELDS, e.body);
  curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)e.body_len);
  curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect_cb);
  curl_easy_setopt(c, CURLOPT_WRITEDATA, resp);
  curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, collect_cb);
  curl_easy_setopt(c, CURLOPT_HEADERDATA, &hdrs);
  curl_easy_setopt(c, CURLOPT_TIMEOUT_MS, a->timeout_ms);
  curl_easy_setopt(c, CURLOPT_NOSIGNAL, 1L);
  CURLcode rc = curl_easy_perform(c);
  int r = 0;
  if (rc != CURLE_OK) {
    snprintf(err, size, "POST %s: %s", url, curl_easy_strerror(rc));
    r = -1;
  } else {
    curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, status);
    if (resp_ct && hdrs.data) {
      resp_ct[0] = '\0';
      /* header block of the (last) response */
      const char *blk = hdrs.data;
      as2_header(blk, hdrs.len, "Content-Type", resp_ct, ct_size);
    }
  }
  free(hdrs.data);
  curl_slist_free_all(hl);
  curl_easy_cleanup(c);
  return r;
}

static void new_message_id(struct as2 *a, char *out, size_t size) {
  unsigned char r[12];
  RAND_bytes(r, sizeof(r));
  snprintf(out, size, "<dray-%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x%02x@%s>", r[0],
           r[1], r[2], r[3], r[4], r[5], r[6], r[7], r[8], r[9], r[10], r[11], a->from);
}

/* Emits the outcome of an MDN as dray.ack.received.v1 (transport). */
static void emit_mdn_ack(struct as2 *a, const struct as2_mdn *m, int mic_ok) {
  const struct dray_host *h = a->host;
  char body[1400], mid[256];
  bare_id(m->original_message_id, mid, sizeof(mid));
  snprintf(body, sizeof(body),
           "{\"ref_event_id\":\"as2:%s\",\"ref_type\":\"as2\",\"kind\":\"transport\","
           "\"protocol\":\"as2_mdn\",\"status\":\"%s\",\"partner\":\"%s\","
           "\"mdn\":{\"original_message_id\":\"%s\",\"disposition\":\"%s\",\"mic\":\"%s\","
           "\"signed\":%s}}",
           mid, m->processed && mic_ok ? "accepted" : "rejected", a->to, mid,
           m->disposition, m->mic, m->signed_mdn ? "true" : "false");
  for (char *c = body; *c; c++)
    if ((unsigned char)*c < 0x20) *c = ' ';
  dray_msg *msg = h->msg_new(a->inst, "dray.ack.received.v1", body, strlen(body));
  if (!msg) return;
  char subj[300];
  snprintf(subj, sizeof(subj), "ack/as2-%s", mid);
  h->msg_set_header(msg, "subject", subj);
  if (h->emit(a->inst, &msg) != DRAY_OK && msg) h->msg_free(&msg);
}

static dray_status handle(void *plugin_state, dray_http_exchange *ex) {
  struct as2 *a = edi_x12_as2(plugin_state);
  const struct dray_host *h = a->host;
  const char *ct = h->http_header(ex, "Content-Type");
  const char *cte = h->http_header(ex, "Content-Transfer-Encoding");
  const char *from = h->http_header(ex, "AS2-From");
  const char *to = h->http_header(ex, "AS2-To");
  const char *mid_raw = h->http_header(ex, "Message-ID");
  const char *dnt = h->http_header(ex, "Disposition-Notification-To");
  const char *dno = h->http_header(ex, "Disposition-Notification-Options");
  const char *rdo = h->http_header(ex, "Receipt-Delivery-Option");
  size_t len = 0;
  const char *body = h->http_body(ex, &len);
  char ctv[512] = "", fromv[160] = "", tov[160] = "", mid[300] = "";
  if (ct) snprintf(ctv, sizeof(ctv), "%s", ct);
  /* quoted header values (seen from ph-OpenAS2) */
  if (ctv[0] == '"') {
    char tmp[600];
    snprintf(tmp, sizeof(tmp), "Content-Type: %s\r\n", ctv);
    as2_header(tmp, strlen(tmp), "Content-Type", ctv, sizeof(ctv));
  }
  if (from) bare_id(from, fromv, sizeof(fromv));
  if (to) bare_id(to, tov, sizeof(tov));
  if (fromv[0] == '"') memmove(fromv, fromv + 1, strlen(fromv));
  if (mid_raw) bare_id(mid_raw, mid, sizeof(mid));
  while (strlen(fromv) && fromv[strlen(fromv) - 1] == '"') fromv[strlen(fromv) - 1] = '\0';

  /* An asynchronous MDN for something we sent */
  if (as2_type_is(ctv, "multipart/report") ||
      (as2_type_is(ctv, "multipart/signed") && len < 65536 && memmem(body, len, "multipart/report", 16))) {
    struct as2_mdn m;
    char err[400];
    if (as2_mdn_parse(ctv, body, len, a->partner, 0, &m, err, sizeof(err)) < 0) {
      h->log(a->inst, DRAY_LOG_WARN, "as2: async MDN refused: %s", err);
      h->http_respond(ex, 400, "text/plain", err, strlen(err));
      return DRAY_REJECT;
    }
    emit_mdn_ack(a, &m, 1);
    h->http_respond(ex, 200, "text/plain", "", 0);
    return DRAY_OK;
  }

  struct peeled p;
  memset(&p, 0, sizeof(p));
  const EVP_MD *md = requested_md(dno);
  if (!md) md = EVP_sha1(); /* RFC 4130 default when none is asked */
  int duplicate = 0;
  if (!same_name(tov, a->from) || !same_name(fromv, a->to)) {
    snprintf(p.reason, sizeof(p.reason),
             "AS2-From \"%s\" / AS2-To \"%s\" do not match the partnership %s -> %s", fromv,
             tov, a->to, a->from);
    p.failure = "authentication-failed";
  } else if (!mid[0]) {
    snprintf(p.reason, sizeof(p.reason), "no Message-ID header");
    p.failure = "unexpected-processing-error";
  } else {
    char key[400], *v = NULL;
    snprintf(key, sizeof(key), "as2/mid/%s", mid);
    if (h->kv_get(a->inst, key, &v, NULL) == 0) duplicate = 1;
    free(v);
    peel(a, ctv, cte, body, len, md, &p);
    if (!p.failure && !duplicate) {
      char origin[340], err[512] = "";
      snprintf(origin, sizeof(origin), "as2:%s", mid);
      int r = edi_x12_receive_payload(a->plugin_state, p.payload, p.payload_len, origin,
                                      err, sizeof(err));
      if (r < 0) {
        snprintf(p.reason, sizeof(p.reason), "%s", err);
        p.failure = "unexpected-processing-error";
      } else {
        /* processed even when X12 validation rejected parts: that is the
         * 997/999's job, not the MDN's */
        h->kv_put(a->inst, key, "1", 1);
        if (r > 0) h->log(a->inst, DRAY_LOG_WARN, "as2 %s: %s", mid, err);
      }
    }
  }
  if (p.failure)
    h->log(a->inst, DRAY_LOG_WARN, "as2 message %s from %s: %s: %s", mid, fromv, p.failure,
           p.reason);
  else
    h->log(a->inst, DRAY_LOG_DEBUG, "as2 message %s from %s: layers %s, MIC %s", mid, fromv,
           p.layers[0] ? p.layers : "none", p.mic);
  h->counter_add(a->inst, p.failure ? "as2_failed" : "as2_received", 1);

  if (!dnt) { /* no MDN asked */
    h->http_respond(ex, p.failure ? 400 : 200, "text/plain", p.failure ? p.reason : "", p.failure ? strlen(p.reason) : 0);
    free(p.payload);
    return p.failure ? DRAY_REJECT : DRAY_OK;
  }
  char disposition[200], text[700];
  if (p.failure)
    snprintf(disposition, sizeof(disposition), "processed/error: %s", p.failure);
  else if (duplicate)
    snprintf(disposition, sizeof(disposition), "processed/warning: duplicate-document");
  else
    snprintf(disposition, sizeof(disposition), "processed");
  snprintf(text, sizeof(text), "The AS2 message %s was %s.%s%s", mid,
           p.failure ? "not processed" : "received and processed",
           p.failure ? " Reason: " : "", p.failure ? p.reason : "");
  char mid_angle[310];
  snprintf(mid_angle, sizeof(mid_angle), "<%s>", mid);
  struct as2_mdn_fields f = {"Dray edi_x12", a->from, mid_angle, disposition,
                             p.failure ? NULL : p.mic, text};
  int want_signed = dno && strcasestr(dno, "pkcs7-signature") && a->key && a->cert;
  size_t mlen = 0;
  char err[300];
  char *mdn = as2_mdn_build(&f, a->cert, want_signed ? a->key : NULL, md, &mlen, err,
                            sizeof(err));
  free(p.payload);
  if (!mdn) {
    h->http_respond(ex, 500, "text/plain", err, strlen(err));
    return DRAY_FATAL;
  }
  char mdn_id[200];
  new_message_id(a, mdn_id, sizeof(mdn_id));
  if (rdo && *rdo) { /* asynchronous MDN: answer now, then POST it */
    h->http_respond(ex, 200, "text/plain", "", 0);
    struct mem resp = {NULL, 0};
    long status = 0;
    char perr[300];
    if (post_entity(a, rdo, mdn, mlen, mdn_id, NULL, &resp, NULL, 0, &status, perr,
                    sizeof(perr)) < 0 ||
        status / 100 != 2)
      h->log(a->inst, DRAY_LOG_WARN, "as2: async MDN to %s failed: %s (HTTP %ld)", rdo,
             perr, status);
    free(resp.data);
  } else {
    struct as2_entity e;
    char mct[512] = "text/plain";
    if (as2_entity_split(mdn, mlen, &e) == 0)
      as2_header(e.headers, e.headers_len, "Content-Type", mct, sizeof(mct));
    h->http_add_header(ex, "AS2-Version", "1.2");
    h->http_add_header(ex, "AS2-From", a->from);
    h->http_add_header(ex, "AS2-To", fromv[0] ? fromv : a->to);
    h->http_add_header(ex, "Message-ID", mdn_id);
    h->http_add_header(ex, "MIME-Version", "1.0");
    h->http_respond(ex, 200, mct, e.body, e.body_len);
  }
  free(mdn);
  return DRAY_OK;
}

/* ------------------------------------------------------------------ */
/* send                                                                 */

int as2_send(struct as2 *a, const char *payload, size_t len, char *err,
             size_t size) {
  size_t n;
  char *entity = as2_entity_build("application/edi-x12", payload, len, &n), *next;
  size_t next_len;
  char mic[160] = "", mid[200];
  int rc = -1;
  if (!entity) return -1;
  /* compression sits inside the signature (as2_compress_order
   * before_sign, the default) or outside it (after_sign); with no
   * signature it is the innermost layer either way */
  int zip_first = a->compress && (!a->sign || !a->compress_after_sign);
  int zip_last = a->compress && !zip_first;
  /* MIC (RFC 4130 7.3.1, RFC 5402): over what is signed (compressed or
   * not); unsigned but encrypted or compressed: over the uncompressed
   * entity, headers included; neither: over the payload only */
  if (!a->sign)
    as2_mic(a->encrypt || a->compress ? entity : payload, a->encrypt || a->compress ? n : len,
            a->md, mic, sizeof(mic));
  if (zip_first) {
    next = as2_compress(entity, n, &next_len, err, size);
    if (!next) goto done_perm;
    free(entity);
    entity = next;
    n = next_len;
  }
  if (a->sign) {
    as2_mic(entity, n, a->md, mic, sizeof(mic));
    next = as2_sign(entity, n, a->cert, a->key, a->md, &next_len, err, size);
    if (!next) goto done_perm;
    free(entity);
    entity = next;
    n = next_len;
  }
  if (zip_last) {
    next = as2_compress(entity, n, &next_len, err, size);
    if (!next) goto done_perm;
    free(entity);
    entity = next;
    n = next_len;
  }
  if (a->encrypt) {
    next = as2_encrypt(entity, n, a->partner, a->cipher, &next_len, err, size);
    if (!next) goto done_perm;
    free(entity);
    entity = next;
    n = next_len;
  }
  new_message_id(a, mid, sizeof(mid));
  char extra[600] = "";
  if (a->mdn_mode != 2) {
    snprintf(extra, sizeof(extra),
             "Disposition-Notification-To: %s\nDisposition-Notification-Options: "
             "signed-receipt-protocol=optional, pkcs7-signature; signed-receipt-micalg=optional, %s",
             a->from, as2_micalg_name(a->md));
    if (a->mdn_mode == 1 && a->mdn_url)
      snprintf(extra + strlen(extra), sizeof(extra) - strlen(extra),
               "\nReceipt-Delivery-Option: %s", a->mdn_url);
  }
  if (!a->url) {
    snprintf(err, size, "as2_url is not set");
    goto done_perm;
  }
  struct mem resp = {NULL, 0};
  char rct[512] = "";
  long status = 0;
  if (post_entity(a, a->url, entity, n, mid, extra, &resp, rct, sizeof(rct), &status, err,
                  size) < 0) {
    free(resp.data);
    goto done; /* transient */
  }
  if (status >= 500 || status == 429) {
    snprintf(err, size, "POST %s: HTTP %ld", a->url, status);
    free(resp.data);
    goto done;
  }
  if (status / 100 != 2) {
    snprintf(err, size, "POST %s: HTTP %ld: %.200s", a->url, status, resp.data ? resp.data : "");
    free(resp.data);
    goto done_perm;
  }
  if (a->mdn_mode == 0) {
    struct as2_mdn m;
    if (as2_mdn_parse(rct, resp.data ? resp.data : "", resp.len, a->partner, 0, &m, err,
                      size) < 0) {
      free(resp.data);
      goto done_perm;
    }
    char want[256], got[256];
    bare_id(mid, want, sizeof(want));
    bare_id(m.original_message_id, got, sizeof(got));
    /* compare the base64 digests only (algorithm spellings differ) */
    size_t wl = strcspn(mic, ","), gl = strcspn(m.mic, ",");
    int mic_ok = wl == gl && !strncmp(mic, m.mic, wl);
    emit_mdn_ack(a, &m, mic_ok);
    if (strcmp(want, got) != 0) {
      snprintf(err, size, "MDN answers Message-ID %s, not %s", got, want);
      free(resp.data);
      goto done_perm;
    }
    if (!m.processed) {
      snprintf(err, size, "partner MDN: %s", m.disposition);
      free(resp.data);
      goto done_perm;
    }
    if (!mic_ok) {
      snprintf(err, size, "MDN MIC %s does not match ours %s", m.mic, mic);
      free(resp.data);
      goto done_perm;
    }
  }
  free(resp.data);
  rc = 0;
  goto done;
done_perm:
  rc = 1;
done:
  free(entity);
  return rc;
}
