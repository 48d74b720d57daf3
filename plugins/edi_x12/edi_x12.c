/* edi_x12.c - the plugin: descriptor, configuration, and the glue between
 * the host and the codec (x12_decode.c, x12_encode.c), the file transport
 * (x12_file.c) and AS2 (as2_*.c).
 *
 * Kinds: SOURCE (polls inbound_dir, or receives AS2 over the host's HTTP
 * listener), DESTINATION (encodes routed canonical messages and writes or
 * sends them), CODEC (decode/encode for `dray convert` and other plugins).
 *
 * Durable state (host kv, per instance):
 *   "isa13/<qual>/<sender>/<ISA13>"   interchanges already accepted
 *   "<control_key>/<partner>/doc"   our control numbers (kv_next): one
 *                                   counter gives ISA13, GS06 and ST02
 */
#include <dray/dray.h>

#include <json-c/json.h>

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "as2.h"
#include "x12_decode.h"
#include "x12_encode.h"
#include "x12_file.h"

#include <dray-sdk/files.h>

#define PLUGIN_VERSION "0.1.0"

static const char *const transports[] = {"none", "file", "as2", NULL};
static const char *const ack_kinds[] = {"auto", "997", "999", "none", NULL};
static const char *const usages[] = {"P", "T", NULL};
static const char *const mdn_modes[] = {"sync", "async", "none", NULL};
static const char *const compress_orders[] = {"before_sign", "after_sign", NULL};
static const char *const mic_algs[] = {"sha256", "sha1", "sha384", "sha512",
                                       NULL};
static const char *const isa_versions[] = {"00401", "00501", NULL};
static const char *const ciphers[] = {"aes128", "aes192", "aes256", "des3",
                                      NULL};

static const struct dray_param params[] = {
    DRAY_PARAM_ENUMS("transport", 0, "none", transports,
                     "how documents arrive and leave: none (codec only), file, as2"),
    DRAY_PARAM_INIT("inbound_dir", DRAY_PARAM_PATH, 0, NULL,
                    "file transport: folder polled for inbound interchanges"),
    DRAY_PARAM_INIT("outbound_dir", DRAY_PARAM_PATH, 0, NULL,
                    "file transport: folder receiving encoded documents and acks"),
    DRAY_PARAM_INIT("partner_id", DRAY_PARAM_STRING, 0, NULL,
                    "trading partner's interchange ID (ISA06 inbound, ISA08 outbound)"),
    DRAY_PARAM_INIT("partner_qualifier", DRAY_PARAM_STRING, 0, "ZZ",
                    "trading partner's ID qualifier (ISA05/ISA07)"),
    DRAY_PARAM_INIT("our_id", DRAY_PARAM_STRING, 0, NULL,
                    "our interchange ID (ISA06 outbound); default: the inbound ISA08"),
    DRAY_PARAM_INIT("our_qualifier", DRAY_PARAM_STRING, 0, "ZZ",
                    "our ID qualifier"),
    DRAY_PARAM_INIT("strict_isa", DRAY_PARAM_BOOL, 0, "true",
                    "refuse an ISA that is not fixed-width (TA1 022) instead of tokenizing it"),
    DRAY_PARAM_INIT("lenient", DRAY_PARAM_BOOL, 0, "false",
                    "accept hard-wrapped lines, TAB indentation and short ISAs with a warning"),
    DRAY_PARAM_INIT("element_separator", DRAY_PARAM_STRING, 0, "*",
                    "encoding: element separator (one character)"),
    DRAY_PARAM_INIT("component_separator", DRAY_PARAM_STRING, 0, ">",
                    "encoding: component separator (ISA16)"),
    DRAY_PARAM_INIT("segment_terminator", DRAY_PARAM_STRING, 0, "~",
                    "encoding: segment terminator (one character, \\n allowed)"),
    DRAY_PARAM_INIT("repetition_separator", DRAY_PARAM_STRING, 0, "^",
                    "encoding: repetition separator (ISA11 from 00402)"),
    DRAY_PARAM_INIT("segment_newline", DRAY_PARAM_BOOL, 0, "true",
                    "encoding: write a newline after each segment terminator"),
    DRAY_PARAM_ENUMS("isa_version", 0, "00401", isa_versions,
                     "encoding: ISA12 control version"),
    DRAY_PARAM_INIT("gs_version", DRAY_PARAM_STRING, 0, "004010",
                    "encoding: GS08 version/release"),
    DRAY_PARAM_ENUMS("usage_indicator", 0, "P", usages,
                     "encoding: ISA15 (P production, T test)"),
    DRAY_PARAM_INIT("request_ta1", DRAY_PARAM_BOOL, 0, "false",
                    "encoding: ISA14=1 (ask the partner for a TA1)"),
    DRAY_PARAM_ENUMS("ack", 0, "auto", ack_kinds,
                     "functional acks for inbound groups: auto (999 for 005010), 997, 999, none"),
    DRAY_PARAM_INIT("ta1", DRAY_PARAM_BOOL, 0, "true",
                    "send a TA1 when ISA14=1 or the interchange is rejected"),
    DRAY_PARAM_INIT("control_key", DRAY_PARAM_STRING, 0, "ctl",
                    "prefix of the durable control-number counters (per partner)"),
    DRAY_PARAM_INIT("local_time_zone", DRAY_PARAM_STRING, 0, "UTC",
                    "zone for X12 local times (LT or no time code): UTC, +HH:MM, America/Chicago ..."),
    DRAY_PARAM_INIT("currency", DRAY_PARAM_STRING, 0, "USD",
                    "currency when a document names none"),
    DRAY_PARAM_INIT("as2_from", DRAY_PARAM_STRING, 0, NULL,
                    "AS2: our AS2 name (AS2-From on send, AS2-To expected inbound)"),
    DRAY_PARAM_INIT("as2_to", DRAY_PARAM_STRING, 0, NULL,
                    "AS2: the partner's AS2 name"),
    DRAY_PARAM_INIT("as2_url", DRAY_PARAM_STRING, 0, NULL,
                    "AS2: partner URL to POST messages to"),
    DRAY_PARAM_INIT("as2_path", DRAY_PARAM_STRING, 0, NULL,
                    "AS2: receive path on the host listener (default /as2/<instance>)"),
    DRAY_PARAM_INIT("as2_cert_file", DRAY_PARAM_PATH, 0, NULL,
                    "AS2: our certificate (PEM), for signing and for decryption"),
    DRAY_PARAM_INIT("as2_key_file", DRAY_PARAM_PATH, 0, NULL,
                    "AS2: our private key (PEM)"),
    DRAY_PARAM_INIT("as2_key_passphrase", DRAY_PARAM_STRING, DRAY_PARAM_SECRET,
                    NULL, "AS2: passphrase of the private key"),
    DRAY_PARAM_INIT("as2_partner_cert_file", DRAY_PARAM_PATH, 0, NULL,
                    "AS2: partner certificate (PEM): verify and encrypt"),
    DRAY_PARAM_INIT("as2_sign", DRAY_PARAM_BOOL, 0, "true", "AS2: sign outbound messages"),
    DRAY_PARAM_INIT("as2_encrypt", DRAY_PARAM_BOOL, 0, "true", "AS2: encrypt outbound messages"),
    DRAY_PARAM_INIT("as2_compress", DRAY_PARAM_BOOL, 0, "false",
                    "AS2: compress outbound messages (CMS compressed-data, zlib)"),
    DRAY_PARAM_ENUMS("as2_compress_order", 0, "before_sign", compress_orders,
                     "AS2: compression inside the signature (before_sign) or outside it"),
    DRAY_PARAM_RANGE("as2_max_uncompressed", DRAY_PARAM_INT, 0, "67108864", 1024,
                     4294967296.0,
                     "AS2: largest inflated size accepted from a compressed message (bytes)"),
    DRAY_PARAM_ENUMS("as2_cipher", 0, "aes256", ciphers, "AS2: content encryption cipher"),
    DRAY_PARAM_ENUMS("as2_mic_alg", 0, "sha256", mic_algs, "AS2: signature and MIC digest"),
    DRAY_PARAM_ENUMS("as2_mdn", 0, "sync", mdn_modes,
                     "AS2: MDN we request on send: sync, async or none"),
    DRAY_PARAM_INIT("as2_mdn_url", DRAY_PARAM_STRING, 0, NULL,
                    "AS2: our URL for asynchronous MDNs (Receipt-Delivery-Option)"),
    DRAY_PARAM_INIT("as2_require_signed", DRAY_PARAM_BOOL, 0, "true",
                    "AS2: refuse unsigned inbound messages (authentication-failed)"),
    DRAY_PARAM_RANGE("as2_timeout_ms", DRAY_PARAM_INT, 0, "30000", 100, 600000,
                     "AS2: HTTP timeout when sending"),
};

struct edi_x12 {
  const struct dray_host *host;
  dray_instance *inst;
  int transport; /* 0 none, 1 file, 2 as2 */
  const char *inbound_dir, *outbound_dir;
  const char *partner_id, *partner_qual, *our_id, *our_qual;
  const char *control_key;
  const char *local_tz, *currency;
  const char *isa_version, *gs_version;
  char usage;
  int request_ta1;
  unsigned tok_flags;
  int ack_kind;
  int ta1;
  struct x12_delimiters delims;
  const char *after_segment;
  struct as2 *as2; /* NULL unless transport as2 */
};

/* --- host-backed callbacks for x12_decode ------------------------------ */

struct sink {
  struct edi_x12 *st;
  dray_batch *batch; /* decode(): add here; poll()/AS2: emit */
  int emit_failed;
  dray_status emit_status;
  /* acks built during the run, for the transport to deliver */
  char **acks;
  long *ack_numbers;
  size_t nacks;
};

static void isa_key(char *key, size_t size, const char *q, const char *id,
                    const char *n) {
  snprintf(key, size, "isa13/%s/%s/%s", q, id, n);
}

static int isa_seen(void *ctx, const char *q, const char *id, const char *n) {
  struct sink *s = ctx;
  char key[128], *value = NULL;
  isa_key(key, sizeof(key), q, id, n);
  int r = s->st->host->kv_get(s->st->inst, key, &value, NULL);
  free(value);
  return r == 0 ? 1 : 0;
}

static void isa_record(void *ctx, const char *q, const char *id,
                       const char *n) {
  struct sink *s = ctx;
  char key[128];
  isa_key(key, sizeof(key), q, id, n);
  s->st->host->kv_put(s->st->inst, key, "1", 1);
}

/* Per-partner control numbers: "<control_key>/<partner>/<which>". */
static int next_control(struct edi_x12 *st, const char *partner,
                        const char *which, long *out) {
  char key[160];
  int64_t v = 0;
  snprintf(key, sizeof(key), "%s/%s/%s", st->control_key,
           partner && *partner ? partner : "default", which);
  if (st->host->kv_next(st->inst, key, 1, &v) < 0) return -1;
  /* ISA13 is 9 digits, GS06 up to 9, ST02 4-9: wrap before overflow */
  *out = (long)((v - 1) % 999999999 + 1);
  return 0;
}

static int sink_next_control(void *ctx, const char *which, long *out) {
  struct sink *s = ctx;
  return next_control(s->st, s->st->partner_id, which, out);
}

static int deliver(struct sink *s, dray_msg **m) {
  const struct dray_host *h = s->st->host;
  if (s->batch) return h->batch_add(s->batch, m) == 0 ? 0 : -1;
  dray_status rc = DRAY_RETRY;
  for (int attempt = 0; attempt < 200; attempt++) {
    rc = h->emit(s->st->inst, m);
    if (rc != DRAY_RETRY || h->stop_requested(s->st->inst)) break;
    struct timespec ts = {0, 5 * 1000 * 1000};
    nanosleep(&ts, NULL);
  }
  if (rc != DRAY_OK) {
    s->emit_status = rc;
    h->msg_free(m);
    return -1;
  }
  return 0;
}

static int sink_emit(void *ctx, const struct x12_out_msg *om) {
  struct sink *s = ctx;
  const struct dray_host *h = s->st->host;
  dray_msg *m = h->msg_new(s->st->inst, om->type, om->body, om->body_len);
  if (!m) return -1;
  if (om->subject[0]) h->msg_set_header(m, "subject", om->subject);
  if (om->partitionkey[0]) h->msg_set_header(m, "partitionkey", om->partitionkey);
  if (om->correlationid[0]) h->msg_set_header(m, "correlationid", om->correlationid);
  if (om->idempotencykey[0])
    h->msg_set_header(m, "idempotencykey", om->idempotencykey);
  if (deliver(s, &m) < 0) {
    if (m) h->msg_free(&m);
    s->emit_failed = 1;
    return -1;
  }
  return 0;
}

static int sink_ack(void *ctx, const struct x12_interchange_result *ic,
                    const char *kind, const char *x12, size_t len,
                    const char *body, long isa13) {
  struct sink *s = ctx;
  const struct dray_host *h = s->st->host;
  dray_msg *m = h->msg_new(s->st->inst, "dray.ack.sent.v1", body, strlen(body));
  if (!m) return -1;
  char v[192];
  snprintf(v, sizeof(v), "ack/%s-%s", kind, ic->isa13);
  h->msg_set_header(m, "subject", v);
  h->msg_set_header(m, "partitionkey", ic->isa13);
  h->msg_set_header(m, "correlationid", ic->isa13);
  snprintf(v, sizeof(v), "x12:%s:ack:%s", ic->isa06, ic->isa13);
  h->msg_set_header(m, "idempotencykey", v);
  if (deliver(s, &m) < 0) {
    if (m) h->msg_free(&m);
    return -1;
  }
  /* keep the text for the transport (file write / AS2 send) */
  char **a = realloc(s->acks, (s->nacks + 1) * sizeof(*a));
  if (!a) return -1;
  s->acks = a;
  long *n = realloc(s->ack_numbers, (s->nacks + 1) * sizeof(*n));
  if (!n) return -1;
  s->ack_numbers = n;
  s->acks[s->nacks] = strndup(x12, len);
  if (!s->acks[s->nacks]) return -1;
  s->ack_numbers[s->nacks++] = isa13;
  return 0;
}

static void sink_count(void *ctx, const char *name) {
  struct sink *s = ctx;
  s->st->host->counter_add(s->st->inst, name, 1);
}

static void sink_release(struct sink *s) {
  for (size_t i = 0; i < s->nacks; i++) free(s->acks[i]);
  free(s->acks);
  free(s->ack_numbers);
  s->acks = NULL;
  s->ack_numbers = NULL;
  s->nacks = 0;
}

static void now_stamp(const struct dray_host *h, char date8[9], char time4[5]) {
  time_t t = (time_t)(h->realtime_ns() / 1000000000LL);
  struct tm tm;
  gmtime_r(&t, &tm);
  strftime(date8, 9, "%Y%m%d", &tm);
  strftime(time4, 5, "%H%M", &tm);
}

/* Runs the decode pipeline over one document. Returns the x12_decode
 * result (0 all accepted, 1 something rejected, -1 failure). */
static int run_decode(struct edi_x12 *st, struct sink *s, const char *buf,
                      size_t len, const char *origin,
                      struct x12_decode_report *rep) {
  char d8[9], t4[5];
  now_stamp(st->host, d8, t4);
  struct x12_decode_options o = {
      .tok_flags = st->tok_flags,
      .currency = st->currency,
      .local_tz = st->local_tz,
      .ack_kind = st->ack_kind,
      .ta1 = st->ta1,
      .our_qual = st->our_id ? st->our_qual : NULL,
      .our_id = st->our_id,
      .hold_until_iea = 1,
      .expect_sender = st->partner_id,
      .ctx = s,
      .isa_seen = isa_seen,
      .isa_record = isa_record,
      .next_control = sink_next_control,
      .emit = sink_emit,
      .ack = sink_ack,
      .count = sink_count,
      .ack_date8 = d8,
      .ack_time4 = t4,
  };
  int r = x12_decode_buffer(buf, len, origin, &o, rep);
  st->host->counter_add(st->inst, "interchanges", rep->interchanges);
  st->host->counter_add(st->inst, "interchanges_rejected",
                        rep->rejected_interchanges);
  st->host->counter_add(st->inst, "sets", rep->sets);
  st->host->counter_add(st->inst, "sets_rejected", rep->rejected_sets);
  if (rep->warnings) {
    st->host->counter_add(st->inst, "lenient_warnings", rep->warnings);
    st->host->log(st->inst, DRAY_LOG_WARN,
                  "%s: %u lenient-mode warnings (short ISA, wrapped lines)",
                  origin ? origin : "input", rep->warnings);
  }
  return r;
}

/* --- lifecycle --------------------------------------------------------- */

static int one_char(const struct dray_host *h, dray_instance *inst,
                    const char *name, unsigned char *out) {
  const char *v = h->get_string(inst, name);
  if (!v) return 0;
  if (strcmp(v, "\\n") == 0) v = "\n";
  if (strlen(v) != 1) {
    h->set_error(inst, "%s: must be exactly one character, got \"%s\"", name, v);
    return -1;
  }
  *out = (unsigned char)v[0];
  return 0;
}

static void edi_destroy(void *state) {
  struct edi_x12 *st = state;
  if (!st) return;
  as2_destroy(&st->as2);
  free(st);
}

static int edi_create(const struct dray_host *host, dray_instance *inst,
                      void **state) {
  struct edi_x12 *st = calloc(1, sizeof(*st));
  if (!st) {
    host->set_error(inst, "out of memory");
    return -1;
  }
  st->host = host;
  st->inst = inst;
  const char *tr = host->get_string(inst, "transport");
  st->transport = !tr || !strcmp(tr, "none") ? 0 : !strcmp(tr, "file") ? 1 : 2;
  st->inbound_dir = host->get_string(inst, "inbound_dir");
  st->outbound_dir = host->get_string(inst, "outbound_dir");
  st->partner_id = host->get_string(inst, "partner_id");
  st->partner_qual = host->get_string(inst, "partner_qualifier");
  st->our_id = host->get_string(inst, "our_id");
  st->our_qual = host->get_string(inst, "our_qualifier");
  st->control_key = host->get_string(inst, "control_key");
  st->local_tz = host->get_string(inst, "local_time_zone");
  st->currency = host->get_string(inst, "currency");
  st->isa_version = host->get_string(inst, "isa_version");
  st->gs_version = host->get_string(inst, "gs_version");
  const char *u = host->get_string(inst, "usage_indicator");
  st->usage = u && u[0] == 'T' ? 'T' : 'P';
  st->request_ta1 = host->get_bool(inst, "request_ta1", 0);
  if (!st->control_key) st->control_key = "ctl";
  if (!st->partner_qual) st->partner_qual = "ZZ";
  if (!st->our_qual) st->our_qual = "ZZ";
  if (!st->isa_version) st->isa_version = "00401";
  if (!st->gs_version) st->gs_version = "004010";
  if (host->get_bool(inst, "lenient", 0) || !host->get_bool(inst, "strict_isa", 1))
    st->tok_flags |= X12_TOK_LENIENT;
  const char *ak = host->get_string(inst, "ack");
  st->ack_kind = !ak || !strcmp(ak, "auto") ? X12_ACK_AUTO
                 : !strcmp(ak, "997")       ? X12_ACK_997
                 : !strcmp(ak, "999")       ? X12_ACK_999
                                            : X12_ACK_NONE;
  st->ta1 = host->get_bool(inst, "ta1", 1);
  x12_default_delimiters(&st->delims);
  if (one_char(host, inst, "element_separator", &st->delims.element) < 0 ||
      one_char(host, inst, "component_separator", &st->delims.component) < 0 ||
      one_char(host, inst, "segment_terminator", &st->delims.terminator[0]) < 0 ||
      one_char(host, inst, "repetition_separator", &st->delims.repetition) < 0)
    goto fail;
  {
    const struct x12_delimiters *d = &st->delims;
    unsigned char all[4] = {d->element, d->component, d->terminator[0],
                            d->repetition};
    for (int i = 0; i < 4; i++)
      for (int j = i + 1; j < 4; j++)
        if (all[i] == all[j]) {
          host->set_error(inst, "delimiters: element, component, terminator and "
                                "repetition separators must all differ");
          goto fail;
        }
  }
  st->after_segment =
      host->get_bool(inst, "segment_newline", 1) && st->delims.terminator[0] != '\n'
          ? "\n"
          : "";
  if (st->transport == 1) {
    if (!st->inbound_dir && !st->outbound_dir) {
      host->set_error(inst, "transport file: set inbound_dir and/or outbound_dir");
      goto fail;
    }
    if (st->inbound_dir && dray_files_prepare_inbound(st->inbound_dir) < 0) {
      host->set_error(inst, "inbound_dir %s: %s", st->inbound_dir, strerror(errno));
      goto fail;
    }
    if (st->outbound_dir && dray_files_mkdirs(st->outbound_dir) < 0) {
      host->set_error(inst, "outbound_dir %s: %s", st->outbound_dir,
                      strerror(errno));
      goto fail;
    }
  } else if (st->transport == 2) {
    char err[512] = "";
    st->as2 = as2_new(host, inst, st, err, sizeof(err));
    if (!st->as2) {
      host->set_error(inst, "as2: %s", err);
      goto fail;
    }
  }
  *state = st;
  return 0;
fail:
  edi_destroy(st);
  return -1;
}

/* --- codec --------------------------------------------------------------- */

static dray_status edi_decode(void *state, const void *input, size_t len,
                              const char *origin, dray_batch *out) {
  struct edi_x12 *st = state;
  struct sink s = {.st = st, .batch = out};
  struct x12_decode_report rep;
  int r = run_decode(st, &s, input, len, origin, &rep);
  sink_release(&s);
  if (r < 0) {
    st->host->set_error(st->inst, "%s",
                        rep.first_error[0] ? rep.first_error : "out of memory");
    return DRAY_FATAL;
  }
  if (r > 0) {
    st->host->set_error(st->inst, "%s", rep.first_error);
    return DRAY_REJECT;
  }
  return DRAY_OK;
}

/* Encodes msg into a new X12 interchange; caller frees *text. */
static dray_status encode_text(struct edi_x12 *st, const dray_msg *msg,
                               char **text, size_t *len, long *isa13_out) {
  const struct dray_host *h = st->host;
  const char *type = h->msg_type(msg);
  size_t blen;
  const char *body = h->msg_body(msg, &blen);
  if (type && !strcmp(type, "dray.ack.sent.v1")) {
    /* an acknowledgment we built: its document goes out as is */
    json_object *b = json_tokener_parse(body);
    json_object *doc = NULL;
    if (!b || !json_object_object_get_ex(b, "document", &doc) ||
        !json_object_is_type(doc, json_type_string)) {
      json_object_put(b);
      h->set_error(st->inst, "dray.ack.sent.v1: $.data.document missing");
      return DRAY_REJECT;
    }
    *text = strdup(json_object_get_string(doc));
    *len = *text ? strlen(*text) : 0;
    json_object_put(b);
    if (isa13_out) *isa13_out = 0;
    return *text ? DRAY_OK : DRAY_FATAL;
  }
  if (!x12_encode_set_for_type(type)) {
    h->set_error(st->inst, "type %s has no X12 mapping in edi_x12 (encodable: "
                           "invoice.finalized/received, shipment.tendered, "
                           "shipment.tender_response, order.created, "
                           "shipment.milestone)",
                 type ? type : "(none)");
    return DRAY_REJECT;
  }
  /* One durable counter per partner gives ISA13, GS06 and ST02 of a
   * document (each kv_next is a durable write; one document per
   * interchange keeps the three unique together). */
  long isa13, gs06, st02;
  const char *partner = st->partner_id ? st->partner_id : "default";
  if (next_control(st, partner, "doc", &isa13) < 0) {
    h->set_error(st->inst, "control numbers: state store failed");
    return DRAY_RETRY;
  }
  gs06 = st02 = isa13;
  char d8[9], t4[5];
  now_stamp(h, d8, t4);
  struct x12_encode_options o = {
      st->our_qual, st->our_id ? st->our_id : "DRAY", st->partner_qual,
      st->partner_id ? st->partner_id : "PARTNER", st->isa_version,
      st->gs_version, st->usage, st->request_ta1, isa13, gs06, st02, d8, t4};
  struct x12_writer w;
  x12w_init(&w, &st->delims, st->after_segment);
  char err[256];
  if (x12_encode(type, body, blen, &o, &w, err, sizeof(err)) < 0) {
    x12w_release(&w);
    h->set_error(st->inst, "%s", err);
    return DRAY_REJECT;
  }
  *text = w.data;
  *len = w.len;
  if (isa13_out) *isa13_out = isa13;
  return DRAY_OK;
}

static dray_status edi_encode(void *state, const dray_msg *msg, dray_buf *out) {
  struct edi_x12 *st = state;
  char *text;
  size_t len;
  dray_status rc = encode_text(st, msg, &text, &len, NULL);
  if (rc != DRAY_OK) return rc;
  int r = st->host->buf_append(out, text, len);
  free(text);
  return r == 0 ? DRAY_OK : DRAY_FATAL;
}

/* --- destination ----------------------------------------------------------- */

static dray_status edi_process(void *state, const dray_msg *msg) {
  struct edi_x12 *st = state;
  char *text;
  size_t len;
  long isa13;
  dray_status rc = encode_text(st, msg, &text, &len, &isa13);
  if (rc != DRAY_OK) return rc;
  if (st->transport == 1 && st->outbound_dir) {
    char name[96];
    const char *set = x12_encode_set_for_type(st->host->msg_type(msg));
    snprintf(name, sizeof(name), "%s-%s-%09ld.x12", set ? set : "x12",
             st->partner_id ? st->partner_id : "partner", isa13);
    if (dray_files_write_atomic(st->outbound_dir, name, text, len, 1) < 0) {
      st->host->set_error(st->inst, "outbound_dir %s/%s: %s", st->outbound_dir,
                          name, strerror(errno));
      rc = DRAY_RETRY;
    }
  } else if (st->transport == 2) {
    char err[512] = "";
    int r = as2_send(st->as2, text, len, err, sizeof(err));
    if (r != 0) {
      st->host->set_error(st->inst, "as2 send: %s", err);
      rc = r > 0 ? DRAY_REJECT : DRAY_RETRY;
    }
  }
  free(text);
  return rc;
}

/* --- source: file transport -------------------------------------------------- */

/* Writes the acks of a run to outbound_dir. */
static void write_acks(struct edi_x12 *st, struct sink *s) {
  if (!st->outbound_dir) return;
  for (size_t i = 0; i < s->nacks; i++) {
    char name[96];
    snprintf(name, sizeof(name), "ack-%s-%09ld.x12",
             st->partner_id ? st->partner_id : "partner", s->ack_numbers[i]);
    if (dray_files_write_atomic(st->outbound_dir, name, s->acks[i],
                              strlen(s->acks[i]), 1) < 0)
      st->host->log(st->inst, DRAY_LOG_ERROR, "writing ack %s: %s", name,
                    strerror(errno));
  }
}

static dray_status edi_poll(void *state, int *worked) {
  struct edi_x12 *st = state;
  *worked = 0;
  if (st->transport != 1 || !st->inbound_dir) return DRAY_OK;
  char *path = NULL, *name = NULL;
  int c = x12_file_claim(st->inbound_dir, &path, &name);
  if (c < 0) {
    st->host->set_error(st->inst, "inbound_dir %s: %s", st->inbound_dir,
                        strerror(errno));
    return DRAY_RETRY;
  }
  if (c == 0) return DRAY_OK;
  *worked = 1;
  char *data = NULL;
  size_t len = 0;
  dray_status rc = DRAY_OK;
  if (x12_file_read(path, &data, &len) < 0) {
    char reason[512];
    snprintf(reason, sizeof(reason), "%s: cannot read: %s", name, strerror(errno));
    dray_files_finish(st->inbound_dir, path, name, reason);
    goto out;
  }
  struct sink s = {.st = st, .batch = NULL};
  struct x12_decode_report rep;
  int r = run_decode(st, &s, data, len, name, &rep);
  if (r >= 0) write_acks(st, &s);
  if (r < 0 && s.emit_status == DRAY_RETRY) {
    /* backpressure: put the file back for the next poll */
    char back[4200];
    snprintf(back, sizeof(back), "%s/%s", st->inbound_dir, name);
    rename(path, back);
    rc = DRAY_RETRY;
  } else {
    dray_files_finish(st->inbound_dir, path, name,
                    r == 0 ? NULL : rep.first_error[0] ? rep.first_error
                                                       : "decode failed");
    if (r > 0)
      st->host->log(st->inst, DRAY_LOG_WARN, "%s", rep.first_error);
  }
  sink_release(&s);
out:
  free(data);
  free(path);
  free(name);
  return rc;
}

/* --- AS2 receive: called by as2.c with a decrypted payload ----------------- */

struct as2 *edi_x12_as2(void *plugin_state);
struct as2 *edi_x12_as2(void *plugin_state) {
  return ((struct edi_x12 *)plugin_state)->as2;
}

int edi_x12_receive_payload(void *state, const void *payload, size_t len,
                            const char *origin, char *err, size_t err_size) {
  struct edi_x12 *st = state;
  struct sink s = {.st = st, .batch = NULL};
  struct x12_decode_report rep;
  int r = run_decode(st, &s, payload, len, origin, &rep);
  if (r >= 0 && st->as2) {
    for (size_t i = 0; i < s.nacks; i++) {
      char e2[256];
      if (as2_send(st->as2, s.acks[i], strlen(s.acks[i]), e2, sizeof(e2)) != 0)
        st->host->log(st->inst, DRAY_LOG_WARN, "sending ack over AS2: %s", e2);
    }
  }
  sink_release(&s);
  if (r != 0) snprintf(err, err_size, "%s", rep.first_error);
  return r;
}

static const struct dray_plugin edi_x12_plugin = {
    .struct_size = sizeof(struct dray_plugin),
    .abi_major = DRAY_ABI_MAJOR,
    .abi_minor = DRAY_ABI_MINOR,
    .name = "edi_x12",
    .version = PLUGIN_VERSION,
    .description = "EDI X12: codec (850/855/856/204/990/214/210/810, TA1/997/999), "
                   "file and AS2 transports",
    .kinds = DRAY_KIND_SOURCE | DRAY_KIND_DESTINATION | DRAY_KIND_CODEC,
    .flags = 0,
    .params = params,
    .param_count = sizeof(params) / sizeof(params[0]),
    .create = edi_create,
    .destroy = edi_destroy,
    .start = NULL,
    .stop = NULL,
    .poll = edi_poll,
    .process = edi_process,
    .decode = edi_decode,
    .encode = edi_encode,
};

/* Exposed for the unit tests (they link the objects directly). */
const struct dray_plugin *edi_x12_descriptor(void);
const struct dray_plugin *edi_x12_descriptor(void) { return &edi_x12_plugin; }

DRAY_PLUGIN_DEFINE(edi_x12_plugin)
