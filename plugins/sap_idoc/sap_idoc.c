/* sap_idoc.c - the sap_idoc plugin: descriptor, configuration and the
 * codec callbacks. Source (file port poll or HTTP XML port), destination
 * (process: canonical -> IDoc toward SAP) and codec (decode/encode used by
 * `dray convert`). The IDoc work itself lives in the idoc_*.c files. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sap_idoc_plugin.h"

static const char *const ports[] = {"file", "http", NULL};
static const char *const formats[] = {"flat", "xml", NULL};
static const char *const file_modes[] = {"per_idoc", "per_batch", NULL};
static const char *const code_pages[] = {"utf-8", "iso-8859-1", NULL};
static const char *const line_ends[] = {"lf", "crlf", NULL};

static const struct dray_param params[] = {
    DRAY_PARAM_ENUMS("port", 0, "file", ports,
                     "file: inbound/outbound directories; http: SAP's XML-HTTP port"),
    DRAY_PARAM_ENUMS("format", 0, "flat", formats,
                     "IDoc form written by the file port and encode (decode detects it)"),
    DRAY_PARAM_INIT("inbound_dir", DRAY_PARAM_PATH, 0, NULL,
                    "File port: directory SAP writes IDoc files into (makes a source)"),
    DRAY_PARAM_RANGE("stable_age_ms", DRAY_PARAM_INT, 0, "0", 0, 86400000,
                     "File port: only take inbound files unchanged for this long "
                     "(SAP's file port writes in place)"),
    DRAY_PARAM_INIT("outbound_dir", DRAY_PARAM_PATH, 0, NULL,
                    "File port: directory Dray writes IDoc files for SAP into"),
    DRAY_PARAM_ENUMS("file_mode", 0, "per_idoc", file_modes,
                     "File port outbound: one file per IDoc or one per batch"),
    DRAY_PARAM_INIT("definitions_dir", DRAY_PARAM_PATH, 0, NULL,
                    "Extra IDoc types: *.idef files or SAP WE60 parser exports (*.txt)"),
    DRAY_PARAM_ENUMS("code_page", 0, "utf-8", code_pages,
                     "Code page of flat files: record widths count its characters"),
    DRAY_PARAM_ENUMS("line_end", 0, "lf", line_ends, "Line end of written flat files"),
    DRAY_PARAM_INIT("strict_levels", DRAY_PARAM_BOOL, 0, "true",
                    "Reject flat records whose HLEVEL/PSGNUM contradict the definitions"),
    DRAY_PARAM_INIT("validate", DRAY_PARAM_BOOL, 0, "true",
                    "Check segments, occurrences and field lengths against the definitions"),
    DRAY_PARAM_INIT("timezone", DRAY_PARAM_STRING, 0, "Z",
                    "UTC offset of SAP's local dates and times, e.g. +01:00"),
    DRAY_PARAM_INIT("sap_client", DRAY_PARAM_STRING, 0, "100",
                    "SAP client (MANDT, sap-client=)"),
    DRAY_PARAM_INIT("sap_url", DRAY_PARAM_STRING, 0, NULL,
                    "HTTP port outbound: base URL of SAP, e.g. https://erp:44300"),
    DRAY_PARAM_INIT("username", DRAY_PARAM_STRING, 0, NULL,
                    "HTTP port outbound: SAP user (Basic auth)"),
    DRAY_PARAM_INIT("password", DRAY_PARAM_STRING, DRAY_PARAM_SECRET, NULL,
                    "HTTP port outbound: SAP password"),
    DRAY_PARAM_INIT("tls_verify", DRAY_PARAM_BOOL, 0, "true",
                    "Verify SAP's TLS certificate"),
    DRAY_PARAM_INIT("ca_file", DRAY_PARAM_PATH, 0, NULL,
                    "CA bundle for SAP's certificate"),
    DRAY_PARAM_RANGE("http_timeout_ms", DRAY_PARAM_INT, 0, "30000", 100, 600000,
                     "HTTP port outbound: request timeout"),
    DRAY_PARAM_INIT("http_path", DRAY_PARAM_STRING, 0, "/sap/idoc",
                    "HTTP port inbound: route prefix SAP posts IDoc-XML to"),
    DRAY_PARAM_INIT("inbound_username", DRAY_PARAM_STRING, 0, NULL,
                    "HTTP port inbound: user SAP must send (Basic auth)"),
    DRAY_PARAM_INIT("inbound_password", DRAY_PARAM_STRING, DRAY_PARAM_SECRET, NULL,
                    "HTTP port inbound: its password"),
    DRAY_PARAM_INIT("sender_port", DRAY_PARAM_STRING, 0, "DRAY",
                    "SNDPOR of IDocs Dray writes"),
    DRAY_PARAM_INIT("sender_partner_type", DRAY_PARAM_STRING, 0, "LS",
                    "SNDPRT of IDocs Dray writes"),
    DRAY_PARAM_INIT("sender_partner", DRAY_PARAM_STRING, 0, "DRAY",
                    "SNDPRN of IDocs Dray writes (SAP's partner profile, WE20)"),
    DRAY_PARAM_INIT("receiver_port", DRAY_PARAM_STRING, 0, "SAP",
                    "RCVPOR of IDocs Dray writes"),
    DRAY_PARAM_INIT("receiver_partner_type", DRAY_PARAM_STRING, 0, "LS",
                    "RCVPRT of IDocs Dray writes"),
    DRAY_PARAM_INIT("receiver_partner", DRAY_PARAM_STRING, 0, "SAP",
                    "RCVPRN of IDocs Dray writes (SAP's logical system)"),
    DRAY_PARAM_RANGE("batch_max", DRAY_PARAM_INT, 0, "1", 1, 10000,
                     "IDocs per POST / file toward SAP (1: no batching)"),
    DRAY_PARAM_RANGE("batch_interval_ms", DRAY_PARAM_INT, 0, "0", 0, 3600000,
                     "Send a partial batch after this long"),
    DRAY_PARAM_RANGE("rate_limit_per_s", DRAY_PARAM_DOUBLE, 0, "0", 0, 100000,
                     "Maximum POSTs / files per second toward SAP (0: unlimited)"),
};

/* ------------------------------------------------------------------ */

struct decode_ctx {
  struct sap_idoc *s;
  const idoc_set *set;
  const char *origin;
  sap_msg_sink sink;
  void *sink_ctx;
  int failed;
};

static int on_canonical(void *ctx, const char *type, json_object *body,
                        const struct idoc_headers *h, int doc) {
  struct decode_ctx *c = ctx;
  struct sap_idoc *s = c->s;
  size_t len;
  const char *json = json_object_to_json_string_length(
      body, JSON_C_TO_STRING_PLAIN | JSON_C_TO_STRING_NOSLASHESCAPE, &len);
  dray_msg *msg = s->host->msg_new(s->inst, type, json, len);
  json_object_put(body);
  if (!msg) {
    s->host->set_error(s->inst, "%s: IDoc %d: cannot create a %s message",
                       c->origin, doc + 1, type);
    return -1;
  }
  if (h->subject[0]) s->host->msg_set_header(msg, "subject", h->subject);
  if (h->partitionkey[0])
    s->host->msg_set_header(msg, "partitionkey", h->partitionkey);
  if (h->correlationid[0])
    s->host->msg_set_header(msg, "correlationid", h->correlationid);
  if (h->idempotencykey[0])
    s->host->msg_set_header(msg, "idempotencykey", h->idempotencykey);
  /* remember which IDoc produced the event: a partner's 997 for it comes
   * back as an ack of this event id, reported to SAP as SYSTAT01 */
  const char *docnum = idoc_doc_dc(c->set, doc, DC_DOCNUM);
  const char *id = s->host->msg_header(msg, "id");
  if (docnum[0] && id && s->host->kv_put) {
    char key[300], val[80];
    snprintf(key, sizeof key, "evt:%s", id);
    int n = snprintf(val, sizeof val, "%s %s", docnum,
                     idoc_doc_dc(c->set, doc, DC_MESTYP));
    s->host->kv_put(s->inst, key, val, (size_t)(n < (int)sizeof val ? n : (int)sizeof val - 1));
  }
  int rc = c->sink(c->sink_ctx, &msg);
  if (msg) s->host->msg_free(&msg);
  return rc;
}

static int skip_ws(const char *d, size_t len) {
  size_t i = 0;
  if (len >= 3 && !memcmp(d, "\xEF\xBB\xBF", 3)) i = 3;
  while (i < len && (d[i] == ' ' || d[i] == '\n' || d[i] == '\r' || d[i] == '\t'))
    i++;
  return i < len && d[i] == '<';
}

idoc_set *sap_set_take(struct sap_idoc *s) {
  idoc_set *set = NULL;
  pthread_mutex_lock(&s->lock);
  if (s->npool) {
    set = s->pool[--s->npool];
    s->pool_bytes -= idoc_set_footprint(set);
  }
  pthread_mutex_unlock(&s->lock);
  return set ? set : idoc_set_new();
}

void sap_set_give(struct sap_idoc *s, idoc_set **set_p) {
  idoc_set *set = *set_p;
  *set_p = NULL;
  if (!set) return;
  idoc_set_reset(set); /* also frees all arena chunks but the largest */
  size_t bytes = idoc_set_footprint(set);
  pthread_mutex_lock(&s->lock);
  if (s->npool < SAP_SET_POOL && s->pool_bytes + bytes <= SAP_SET_POOL_BYTES) {
    s->pool[s->npool++] = set;
    s->pool_bytes += bytes;
    set = NULL;
  }
  pthread_mutex_unlock(&s->lock);
  idoc_set_destroy(&set);
}

void sap_set_pool_free(struct sap_idoc *s) {
  while (s->npool) idoc_set_destroy(&s->pool[--s->npool]);
  s->pool_bytes = 0;
}

dray_status sap_idoc_decode_doc(struct sap_idoc *s, const char *data,
                                size_t len, const char *origin,
                                sap_msg_sink sink, void *ctx, char *errbuf,
                                size_t errsize) {
  struct idoc_err err = {""};
  idoc_set *set = sap_set_take(s);
  if (!set) return DRAY_RETRY;
  dray_status st = DRAY_OK;
  int xml = skip_ws(data, len);
  int rc = xml ? idoc_xml_decode(s->reg, data, len, origin, set, &err)
               : idoc_flat_decode(s->reg, data, len, origin, &s->flat, set, &err);
  if (rc == 0 && s->validate) {
    /* an IDoc-XML type we have no definitions for is mapped unchecked */
    int all_known = 1;
    for (size_t d = 0; d < set->ndocs; d++)
      if (!set->docs[d].type) all_known = 0;
    if (all_known) rc = idoc_validate(set, origin, &err);
  }
  if (rc < 0) {
    s->host->set_error(s->inst, "%s", err.msg);
    if (errbuf) snprintf(errbuf, errsize, "%s", err.msg);
    s->host->counter_add(s->inst, "idocs_rejected", 1);
    sap_set_give(s, &set);
    return DRAY_REJECT;
  }
  struct decode_ctx c = {s, set, origin, sink, ctx, 0};
  char first[512] = "";
  for (size_t d = 0; d < set->ndocs; d++) {
    err.msg[0] = 0;
    rc = idoc_map_inbound(set, (int)d, &s->map, on_canonical, &c, &err);
    if (rc != 0) {
      if (!first[0])
        snprintf(first, sizeof first, "%s: %s", origin,
                 err.msg[0] ? err.msg : "cannot hand over the message");
      s->host->counter_add(s->inst, "idocs_rejected", 1);
      st = DRAY_REJECT;
    } else {
      s->host->counter_add(s->inst, "idocs_decoded", 1);
    }
  }
  if (st != DRAY_OK) {
    s->host->set_error(s->inst, "%s", first);
    if (errbuf) snprintf(errbuf, errsize, "%s", first);
  }
  sap_set_give(s, &set);
  return st;
}

/* --- codec callbacks ------------------------------------------------ */

static int batch_sink(void *ctx, dray_msg **msg) {
  void **pair = ctx;
  const struct dray_host *host = pair[0];
  return host->batch_add(pair[1], msg) == 0 ? 0 : -1;
}

static dray_status sap_decode(void *state, const void *input, size_t len,
                              const char *origin, dray_batch *out) {
  struct sap_idoc *s = state;
  void *pair[2] = {(void *)s->host, out};
  return sap_idoc_decode_doc(s, input, len, origin ? origin : "input",
                             batch_sink, pair, NULL, 0);
}

/* The state keeps "evt:<event id>" -> "<DOCNUM> <MESTYP>". */
static int docnum_of_event(void *ctx, const char *event_id, char *docnum,
                           size_t dsize, char *mestyp, size_t msize) {
  struct sap_idoc *s = ctx;
  char key[300], *v = NULL;
  size_t len = 0;
  snprintf(key, sizeof key, "evt:%s", event_id);
  if (!s->host->kv_get || s->host->kv_get(s->inst, key, &v, &len) != 0 || !v)
    return -1;
  const char *sp = memchr(v, ' ', len);
  size_t dl = sp ? (size_t)(sp - v) : len;
  snprintf(docnum, dsize, "%.*s", (int)dl, v);
  snprintf(mestyp, msize, "%.*s", sp ? (int)(len - dl - 1) : 0, sp ? sp + 1 : "");
  free(v);
  return 0;
}

dray_status sap_idoc_build(struct sap_idoc *s, const dray_msg *msg,
                           idoc_set **set_out, int *skipped) {
  *skipped = 0;
  size_t blen;
  const char *type = s->host->msg_type(msg);
  const char *body = s->host->msg_body(msg, &blen);
  time_t now = (time_t)(s->host->realtime_ns() / 1000000000);
  struct tm tm;
  gmtime_r(&now, &tm);
  char credat[9], cretim[7], docnum[17] = "";
  strftime(credat, sizeof credat, "%Y%m%d", &tm);
  strftime(cretim, sizeof cretim, "%H%M%S", &tm);
  int64_t seq;
  /* Dray's own number for the IDoc (SAP assigns its DOCNUM on arrival) */
  if (s->host->kv_next && s->host->kv_next(s->inst, "docnum", 1, &seq) == 0)
    snprintf(docnum, sizeof docnum, "%016lld", (long long)seq);
  struct idoc_out_opts op = {s->mandt, s->sndpor, s->sndprt, s->sndprn,
                             s->rcvpor, s->rcvprt, s->rcvprn,
                             docnum[0] ? docnum : NULL, credat, cretim,
                             docnum_of_event, s};
  idoc_set *set = idoc_set_new();
  struct idoc_err err = {""};
  if (!set) return DRAY_RETRY;
  int rc = idoc_map_outbound(s->reg, type, body, blen, &op, set, &err);
  if (rc == 1) {
    *skipped = 1;
    s->host->set_error(s->inst, "%s", err.msg);
    idoc_set_destroy(&set);
    return DRAY_OK;
  }
  if (rc == 0) idoc_set_sort(set);
  if (rc == 0 && idoc_validate(set, "(built IDoc)", &err) < 0) rc = -1;
  if (rc < 0) {
    s->host->set_error(s->inst, "%s: %s", type, err.msg);
    idoc_set_destroy(&set);
    return DRAY_REJECT;
  }
  *set_out = set;
  return DRAY_OK;
}

int sap_idoc_serialize(struct sap_idoc *s, const idoc_set *set, int xml,
                       char **out, size_t *len) {
  struct idoc_err err = {""};
  int rc;
  if (xml) {
    rc = idoc_xml_encode(set, out, len, &err);
  } else {
    size_t cap = 0;
    *out = NULL;
    *len = 0;
    rc = idoc_flat_encode(set, &s->flat, out, len, &cap, &err);
    if (rc < 0) {
      free(*out);
      *out = NULL;
    }
  }
  if (rc < 0) s->host->set_error(s->inst, "%s", err.msg);
  return rc;
}

static dray_status sap_encode(void *state, const dray_msg *msg, dray_buf *out) {
  struct sap_idoc *s = state;
  idoc_set *set = NULL;
  int skipped;
  dray_status st = sap_idoc_build(s, msg, &set, &skipped);
  if (st != DRAY_OK) return st;
  if (skipped) return DRAY_REJECT; /* nothing to write; the error says why */
  char *data;
  size_t len;
  if (sap_idoc_serialize(s, set, s->format_xml, &data, &len) < 0) {
    idoc_set_destroy(&set);
    return DRAY_REJECT;
  }
  idoc_set_destroy(&set);
  int rc = s->host->buf_append(out, data, len);
  free(data);
  return rc == 0 ? DRAY_OK : DRAY_RETRY;
}

int64_t sap_idoc_rate_wait(struct sap_idoc *s) {
  if (s->rate_limit_per_s <= 0) return 0;
  pthread_mutex_lock(&s->lock);
  int64_t now = s->host->monotonic_ns();
  double burst = s->rate_limit_per_s < 1 ? 1 : s->rate_limit_per_s;
  if (s->tokens_at == 0) {
    s->tokens = burst;
  } else {
    s->tokens += (double)(now - s->tokens_at) / 1e9 * s->rate_limit_per_s;
    if (s->tokens > burst) s->tokens = burst;
  }
  s->tokens_at = now;
  int64_t wait = 0;
  if (s->tokens >= 1) s->tokens -= 1;
  else wait = (int64_t)((1 - s->tokens) / s->rate_limit_per_s * 1000) + 1;
  pthread_mutex_unlock(&s->lock);
  return wait;
}

/* Only state changes SAP has not seen yet are posted: a milestone whose
 * shipment/qualifier was already sent is skipped. */
static int already_posted(struct sap_idoc *s, const idoc_set *set) {
  if (!set->ndocs || strcmp(idoc_doc_dc(set, 0, DC_IDOCTYP), "SHPMNT05"))
    return 0;
  int t20 = idoc_find_child(set, 0, -1, "E1EDT20", -1);
  int t10 = idoc_find_child(set, 0, t20, "E1EDT10", -1);
  if (t20 < 0 || t10 < 0) return 0;
  char key[128], *v = NULL;
  size_t len;
  snprintf(key, sizeof key, "posted:%s:%s", idoc_seg_str(set, t20, "TKNUM"),
           idoc_seg_str(set, t10, "QUALF"));
  if (s->host->kv_get(s->inst, key, &v, &len) == 0) {
    free(v);
    return 1;
  }
  return 0;
}

static void mark_posted(struct sap_idoc *s, const idoc_set *set) {
  if (!set->ndocs || strcmp(idoc_doc_dc(set, 0, DC_IDOCTYP), "SHPMNT05"))
    return;
  int t20 = idoc_find_child(set, 0, -1, "E1EDT20", -1);
  int t10 = idoc_find_child(set, 0, t20, "E1EDT10", -1);
  if (t20 < 0 || t10 < 0) return;
  char key[128];
  snprintf(key, sizeof key, "posted:%s:%s", idoc_seg_str(set, t20, "TKNUM"),
           idoc_seg_str(set, t10, "QUALF"));
  s->host->kv_put(s->inst, key, "1", 1);
}

static dray_status sap_process(void *state, const dray_msg *msg) {
  struct sap_idoc *s = state;
  idoc_set *set = NULL;
  int skipped;
  dray_status st = sap_idoc_build(s, msg, &set, &skipped);
  if (st != DRAY_OK) return st;
  if (skipped || already_posted(s, set)) {
    s->host->counter_add(s->inst, "skipped_not_erp_relevant", 1);
    idoc_set_destroy(&set);
    return DRAY_OK;
  }
  char stem[64];
  snprintf(stem, sizeof stem, "%s_%s", idoc_doc_dc(set, 0, DC_MESTYP),
           idoc_doc_dc(set, 0, DC_DOCNUM));
  if (s->outbox) {
    st = sap_outbox_put(s->outbox, set, stem);
  } else {
    int64_t wait = sap_idoc_rate_wait(s);
    if (wait > 0) {
      s->host->set_error(s->inst, "rate limit toward SAP (%.3g/s)",
                         s->rate_limit_per_s);
      s->host->set_retry_after(s->inst, wait);
      idoc_set_destroy(&set);
      return DRAY_RETRY;
    }
    int xml = s->port_http || s->format_xml;
    char *data;
    size_t len;
    if (sap_idoc_serialize(s, set, xml, &data, &len) < 0) {
      idoc_set_destroy(&set);
      return DRAY_REJECT;
    }
    st = s->port_http ? sap_http_post(s, data, len)
                      : sap_file_write(s, data, len, stem);
    free(data);
  }
  if (st == DRAY_OK) {
    mark_posted(s, set);
    s->host->counter_add(s->inst, "idocs_sent", 1);
  }
  idoc_set_destroy(&set);
  return st;
}

static dray_status sap_poll(void *state, int *worked) {
  struct sap_idoc *s = state;
  *worked = 0;
  if (!s->inbound_dir || s->port_http) return DRAY_OK;
  return sap_file_poll(s, worked);
}

/* --- lifecycle ------------------------------------------------------ */

static void sap_destroy(void *state) {
  struct sap_idoc *s = state;
  if (!s) return;
  sap_outbox_destroy(&s->outbox);
  sap_file_cleanup(s);
  sap_set_pool_free(s);
  idoc_registry_destroy(&s->reg);
  pthread_mutex_destroy(&s->lock);
  free(s);
}

static const char *str(struct sap_idoc *s, const char *name) {
  return s->host->get_string(s->inst, name);
}

static int sap_create(const struct dray_host *host, dray_instance *inst,
                      void **state) {
  struct sap_idoc *s = calloc(1, sizeof *s);
  if (!s) return -1;
  s->host = host;
  s->inst = inst;
  pthread_mutex_init(&s->lock, NULL);
  const char *v;
  s->port_http = (v = str(s, "port")) && !strcmp(v, "http");
  s->format_xml = (v = str(s, "format")) && !strcmp(v, "xml");
  s->per_batch = (v = str(s, "file_mode")) && !strcmp(v, "per_batch");
  s->flat.codepage = (v = str(s, "code_page")) && !strcmp(v, "iso-8859-1")
                         ? IDOC_CP_LATIN1 : IDOC_CP_UTF8;
  s->flat.crlf = (v = str(s, "line_end")) && !strcmp(v, "crlf");
  s->flat.strict_levels = host->get_bool(inst, "strict_levels", 1);
  s->validate = host->get_bool(inst, "validate", 1);
  v = str(s, "timezone");
  snprintf(s->tz, sizeof s->tz, "%s", v ? v : "Z");
  if (strcmp(s->tz, "Z") && !(strlen(s->tz) == 6 && (s->tz[0] == '+' || s->tz[0] == '-') &&
                              s->tz[3] == ':')) {
    host->set_error(inst, "timezone '%s': expected Z or an offset like +01:00",
                    s->tz);
    goto fail;
  }
  s->map.tz = s->tz;
  v = str(s, "sap_client");
  if (!v || strlen(v) != 3 || strspn(v, "0123456789") != 3) {
    host->set_error(inst, "sap_client '%s': expected 3 digits", v ? v : "");
    goto fail;
  }
  memcpy(s->mandt, v, 4);
  s->inbound_dir = str(s, "inbound_dir");
  s->stable_age_ms = host->get_int(inst, "stable_age_ms", 0);
  s->outbound_dir = str(s, "outbound_dir");
  s->sndpor = str(s, "sender_port");
  s->sndprt = str(s, "sender_partner_type");
  s->sndprn = str(s, "sender_partner");
  s->rcvpor = str(s, "receiver_port");
  s->rcvprt = str(s, "receiver_partner_type");
  s->rcvprn = str(s, "receiver_partner");
  s->sap_url = str(s, "sap_url");
  s->username = str(s, "username");
  s->password = host->get_secret(inst, "password");
  s->tls_verify = host->get_bool(inst, "tls_verify", 1);
  s->ca_file = str(s, "ca_file");
  s->http_timeout_ms = host->get_int(inst, "http_timeout_ms", 30000);
  s->http_path = str(s, "http_path");
  s->in_user = str(s, "inbound_username");
  s->in_password = host->get_secret(inst, "inbound_password");
  s->batch_max = host->get_int(inst, "batch_max", 1);
  s->batch_interval_ms = host->get_int(inst, "batch_interval_ms", 0);
  s->rate_limit_per_s = host->get_double(inst, "rate_limit_per_s", 0);

  struct idoc_err err = {""};
  s->reg = idoc_registry_new();
  if (!s->reg || idoc_registry_load_shipped(s->reg, &err) < 0) {
    host->set_error(inst, "shipped IDoc definitions: %s", err.msg);
    goto fail;
  }
  const char *defs = str(s, "definitions_dir");
  if (defs && idoc_registry_load_dir(s->reg, defs, &err) < 0) {
    host->set_error(inst, "definitions_dir: %s", err.msg);
    goto fail;
  }
  if (s->port_http) {
    if (sap_http_init(s) < 0) goto fail;
  } else if (sap_file_init(s) < 0) {
    goto fail;
  }
  if (s->batch_max > 1 || s->batch_interval_ms > 0) {
    s->outbox = sap_outbox_new(s);
    if (!s->outbox) goto fail;
  }
  *state = s;
  return 0;
fail:
  sap_destroy(s);
  return -1;
}

static int sap_start(void *state) {
  struct sap_idoc *s = state;
  return s->outbox ? sap_outbox_start(s->outbox) : 0;
}

static void sap_stop(void *state) {
  struct sap_idoc *s = state;
  if (s->outbox) sap_outbox_stop(s->outbox);
}

static const struct dray_plugin sap_idoc_plugin = {
    .struct_size = sizeof(struct dray_plugin),
    .abi_major = DRAY_ABI_MAJOR,
    .abi_minor = DRAY_ABI_MINOR,
    .name = "sap_idoc",
    .version = "0.1.0",
    .description = "SAP IDoc (flat and XML): ORDERS05, DELVRY07, SHPMNT05 in; "
                   "INVOIC02, shipment status, SYSTAT01 out; file and XML-HTTP ports",
    .kinds = DRAY_KIND_SOURCE | DRAY_KIND_DESTINATION | DRAY_KIND_CODEC,
    .flags = 0,
    .params = params,
    .param_count = sizeof params / sizeof *params,
    .create = sap_create,
    .destroy = sap_destroy,
    .start = sap_start,
    .stop = sap_stop,
    .poll = sap_poll,
    .process = sap_process,
    .decode = sap_decode,
    .encode = sap_encode,
};

DRAY_PLUGIN_DEFINE(sap_idoc_plugin)

/* For the unit tests, which link the plugin's objects statically. */
const struct dray_plugin *sap_idoc_descriptor(void);
const struct dray_plugin *sap_idoc_descriptor(void) { return &sap_idoc_plugin; }
