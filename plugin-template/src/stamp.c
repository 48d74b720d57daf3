/* stamp.c - an example Dray connector: "stamp".
 *
 * Copy this folder to start your own plugin (README.md walks through it).
 *
 * What it does: every message routed to a `stamp` instance gets one
 * CloudEvents extension attribute added (`header`, e.g. "stampedby") and
 * is emitted again as a new event derived from it (new id, this instance
 * as source, causationid = the original's id), so a route can continue
 * from the instance:
 *
 *   routes:
 *     - { from: inbox, types: ["dray.order.*"], to: [stamp] }
 *     - { from: stamp, types: ["dray.order.*"], to: [outbox] }
 *
 * With `signing_key` set it also adds a SipHash-2-4 tag over the message
 * id, the stamp and the body (attribute `signature_header`), which shows how
 * a plugin uses a secret without ever logging it.
 *
 * It is all three kinds of plugin:
 *   destination  process() receives a routed message;
 *   source       it emits the stamped copy (emit is allowed between start()
 *                and stop(), and process() runs only in that window);
 *   codec        decode() stamps CloudEvents read as JSON Lines, encode()
 *                writes a stamped event, so `dray convert --plugin stamp`
 *                works offline.
 *
 * Only <dray/dray.h> is used: no core symbol, no third-party type. */
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <dray/dray.h>

/* Set by meson.build from plugin_name and project(version:). */
#ifndef PLUGIN_NAME
#define PLUGIN_NAME "stamp"
#endif
#ifndef PLUGIN_VERSION
#define PLUGIN_VERSION "0.0.0"
#endif

/* --- the config schema ------------------------------------------------------
 * The host validates an instance's `config:` against this table before it
 * calls create(): unknown keys, missing required keys, wrong types, numbers
 * out of range and values outside an enum are refused with FILE:LINE:COL
 * errors, so create() only checks what the table cannot express.
 * `dray plugins --describe stamp` prints it. */

static const char *const stamp_modes[] = {"fixed", "sequence", "time", NULL};

static const struct dray_param stamp_params[] = {
    /* required: no default, the site must say it */
    DRAY_PARAM_INIT("header", DRAY_PARAM_STRING, DRAY_PARAM_REQUIRED, NULL,
                    "CloudEvents attribute to add, [a-z0-9]{1,20}, e.g. stampedby"),
    /* optional without default: the plugin decides (here: the instance name) */
    DRAY_PARAM_INIT("value", DRAY_PARAM_STRING, 0, NULL,
                    "Text of the stamp (default: the instance name)"),
    /* enum with a default */
    DRAY_PARAM_ENUMS("mode", 0, "fixed", stamp_modes,
                     "fixed: the value; sequence: value-N with a durable counter; "
                     "time: value@RFC3339 time of stamping"),
    /* integer with a range and a default */
    DRAY_PARAM_RANGE("max_body_bytes", DRAY_PARAM_INT, 0, "1048576", 2,
                     16777216,
                     "Messages with a larger body are rejected (dead-lettered)"),
    /* a secret: only get_secret() returns it; never logged or shown */
    DRAY_PARAM_INIT("signing_key", DRAY_PARAM_STRING, DRAY_PARAM_SECRET, NULL,
                    "32 hex digits (128-bit SipHash key); when set, each message "
                    "is tagged. Use ${env:NAME} or ${file:PATH} in the site file"),
    DRAY_PARAM_INIT("signature_header", DRAY_PARAM_STRING, 0, "stampsig",
                    "Attribute that carries the tag when signing_key is set"),
};

enum stamp_mode { STAMP_FIXED, STAMP_SEQUENCE, STAMP_TIME };

/* Longest `value`: the stamp adds at most "-" + 19 digits or "@" + a
 * 24-character time, and must fit stamp_text's buffer. */
#define STAMP_VALUE_MAX 256

/* One instance. Read-only after create(), which is why the descriptor can
 * declare DRAY_PLUGIN_CONCURRENT: several workers may call process() at
 * once, and kv_next() and counter_add() are atomic in the host. If you add
 * mutable state, protect it or drop the flag. */
struct stamp {
  const struct dray_host *host;
  dray_instance *inst;
  /* Strings from the host's getters live until destroy: borrowed. */
  const char *header;
  const char *value;
  const char *signature_header;
  enum stamp_mode mode;
  int64_t max_body_bytes;
  int signing;
  uint8_t key[16]; /* decoded signing_key; wiped in destroy */
};

/* --- SipHash-2-4 (Aumasson & Bernstein), a keyed 64-bit PRF --------------- */

static uint64_t rotl64(uint64_t x, int b) {
  return (x << b) | (x >> (64 - b));
}

static uint64_t load_le64(const uint8_t *p) {
  uint64_t v = 0;
  for (int i = 7; i >= 0; i--) v = (v << 8) | p[i];
  return v;
}

#define SIPROUND(v0, v1, v2, v3)                                               \
  do {                                                                         \
    v0 += v1; v1 = rotl64(v1, 13); v1 ^= v0; v0 = rotl64(v0, 32);              \
    v2 += v3; v3 = rotl64(v3, 16); v3 ^= v2;                                   \
    v0 += v3; v3 = rotl64(v3, 21); v3 ^= v0;                                   \
    v2 += v1; v1 = rotl64(v1, 17); v1 ^= v2; v2 = rotl64(v2, 32);              \
  } while (0)

/* Incremental state so the tag covers several pieces without copying. */
struct siphash {
  uint64_t v0, v1, v2, v3;
  uint8_t tail[8];
  size_t tail_len;
  uint64_t total;
};

static void siphash_init(struct siphash *s, const uint8_t key[16]) {
  uint64_t k0 = load_le64(key), k1 = load_le64(key + 8);
  s->v0 = k0 ^ 0x736f6d6570736575ULL;
  s->v1 = k1 ^ 0x646f72616e646f6dULL;
  s->v2 = k0 ^ 0x6c7967656e657261ULL;
  s->v3 = k1 ^ 0x7465646279746573ULL;
  s->tail_len = 0;
  s->total = 0;
}

static void siphash_block(struct siphash *s, uint64_t m) {
  s->v3 ^= m;
  SIPROUND(s->v0, s->v1, s->v2, s->v3);
  SIPROUND(s->v0, s->v1, s->v2, s->v3);
  s->v0 ^= m;
}

static void siphash_update(struct siphash *s, const void *data, size_t len) {
  const uint8_t *p = data;
  s->total += len;
  while (len > 0) {
    s->tail[s->tail_len++] = *p++;
    len--;
    if (s->tail_len == 8) {
      siphash_block(s, load_le64(s->tail));
      s->tail_len = 0;
    }
  }
}

static uint64_t siphash_final(struct siphash *s) {
  uint64_t b = (s->total & 0xff) << 56;
  for (size_t i = 0; i < s->tail_len; i++) b |= (uint64_t)s->tail[i] << (8 * i);
  siphash_block(s, b);
  s->v2 ^= 0xff;
  for (int i = 0; i < 4; i++) SIPROUND(s->v0, s->v1, s->v2, s->v3);
  return s->v0 ^ s->v1 ^ s->v2 ^ s->v3;
}

/* --- helpers ---------------------------------------------------------------- */

/* Attribute names the runtime accepts: [a-z0-9]{1,20}. The core attributes
 * that routing and delivery rely on may not be overwritten. */
static int check_attribute_name(const char *name, char *why, size_t why_size) {
  static const char *const reserved[] = {"specversion", "id", "source", "type",
                                         "data", NULL};
  size_t n = strlen(name);
  if (n == 0 || n > 20) {
    snprintf(why, why_size, "must be 1 to 20 characters, got %zu", n);
    return -1;
  }
  for (const char *c = name; *c; c++) {
    unsigned char u = (unsigned char)*c;
    if ((u >= 'a' && u <= 'z') || (u >= '0' && u <= '9')) continue;
    if (u >= 0x20 && u < 0x7f)
      snprintf(why, why_size, "character '%c' at position %zu is not [a-z0-9]",
               u, (size_t)(c - name) + 1);
    else
      snprintf(why, why_size, "byte 0x%02x at position %zu is not [a-z0-9]",
               u, (size_t)(c - name) + 1);
    return -1;
  }
  for (size_t i = 0; reserved[i]; i++)
    if (strcmp(name, reserved[i]) == 0) {
      snprintf(why, why_size, "\"%s\" is a core CloudEvents attribute", name);
      return -1;
    }
  return 0;
}

static int hex_value(char c) {
  if (c >= '0' && c <= '9') return c - '0';
  if (c >= 'a' && c <= 'f') return c - 'a' + 10;
  if (c >= 'A' && c <= 'F') return c - 'A' + 10;
  return -1;
}

/* Decodes the secret. The error never quotes the secret, not even a
 * character of it: only its length or a position. */
static int decode_key(const char *text, uint8_t key[16], char *why,
                      size_t why_size) {
  size_t n = strlen(text);
  if (n != 32) {
    snprintf(why, why_size, "expected 32 hex digits, got %zu characters", n);
    return -1;
  }
  for (size_t i = 0; i < 16; i++) {
    int hi = hex_value(text[2 * i]), lo = hex_value(text[2 * i + 1]);
    if (hi < 0 || lo < 0) {
      snprintf(why, why_size, "not a hex digit at position %zu",
               2 * i + (hi < 0 ? 1 : 2));
      return -1;
    }
    key[i] = (uint8_t)(hi << 4 | lo);
  }
  return 0;
}

/* The stamp text for one message, into out. 0, or -1 with the error set
 * (the caller returns DRAY_RETRY: a failing state store is transient). */
static int stamp_text(struct stamp *sp, char *out, size_t out_size) {
  const struct dray_host *h = sp->host;
  switch (sp->mode) {
    case STAMP_SEQUENCE: {
      int64_t n;
      /* Durable and atomic: survives restarts, safe across workers. */
      if (h->kv_next(sp->inst, "sequence", 1, &n) != 0) {
        h->set_error(sp->inst, "state store: cannot advance the sequence");
        return -1;
      }
      snprintf(out, out_size, "%s-%" PRId64, sp->value, n);
      return 0;
    }
    case STAMP_TIME: {
      int64_t ns = h->realtime_ns();
      time_t secs = (time_t)(ns / 1000000000);
      struct tm tm;
      char when[32];
      gmtime_r(&secs, &tm);
      strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%S", &tm);
      snprintf(out, out_size, "%s@%s.%03dZ", sp->value, when,
               (int)(ns / 1000000 % 1000));
      return 0;
    }
    case STAMP_FIXED:
    default:
      snprintf(out, out_size, "%s", sp->value);
      return 0;
  }
}

/* Turns `copy` (a clone of `orig`) into a new event derived from orig:
 * a fresh id and this instance as its source, since the runtime takes
 * (source, id) as the event's identity and accepts an identity once: a
 * re-emitted clone would be dropped as a duplicate. The derivation stays
 * traceable: causationid is the original's id, correlationid (the
 * business thread) is kept or started from it. Everything else, including
 * partitionkey (ordering) and idempotencykey (the business effect), is
 * kept. 0 or -1. */
static int derive_event(struct stamp *sp, const dray_msg *orig,
                        dray_msg *copy) {
  const struct dray_host *h = sp->host;
  /* msg_new is how a plugin gets a new id and its own source URI. */
  dray_msg *fresh = h->msg_new(sp->inst, h->msg_type(orig), "null", 4);
  if (!fresh) return -1;
  const char *orig_id = h->msg_header(orig, "id");
  int rc = h->msg_set_header(copy, "id", h->msg_header(fresh, "id"));
  if (rc == 0)
    rc = h->msg_set_header(copy, "source", h->msg_header(fresh, "source"));
  if (rc == 0 && orig_id) rc = h->msg_set_header(copy, "causationid", orig_id);
  if (rc == 0 && orig_id && !h->msg_header(orig, "correlationid"))
    rc = h->msg_set_header(copy, "correlationid", orig_id);
  h->msg_free(&fresh);
  return rc;
}

/* Makes the stamped copy of msg: a new event derived from it (see
 * derive_event) when `derive` is set, else the same event (encode renders
 * the message it was given). On DRAY_OK *out is a new message the caller
 * owns (emit it, add it to a batch, or msg_free it). Otherwise the error is
 * set and *out is NULL. */
static dray_status stamp_copy(struct stamp *sp, const dray_msg *msg,
                              int derive, dray_msg **out) {
  const struct dray_host *h = sp->host;
  char text[STAMP_VALUE_MAX + 64];
  size_t body_len = 0;
  const char *body = h->msg_body(msg, &body_len);
  *out = NULL;
  if ((int64_t)body_len > sp->max_body_bytes) {
    /* This message is bad for this instance and retrying will not change
     * it: REJECT sends it to the dead letters with this reason. */
    h->set_error(sp->inst, "message %s: body is %zu bytes, above max_body_bytes %" PRId64,
                 h->msg_header(msg, "id"), body_len, sp->max_body_bytes);
    h->counter_add(sp->inst, "rejected_too_large", 1);
    return DRAY_REJECT;
  }
  if (stamp_text(sp, text, sizeof text) != 0) return DRAY_RETRY;
  const char *failed_attr = NULL;
  dray_msg *copy = h->msg_clone(msg);
  if (!copy) goto out_of_memory;
  if (derive && derive_event(sp, msg, copy) != 0) {
    h->msg_free(&copy);
    goto out_of_memory;
  }
  if (h->msg_set_header(copy, sp->header, text) != 0) {
    failed_attr = sp->header;
    goto out_free_copy;
  }
  if (sp->signing) {
    struct siphash s;
    char tag[17];
    const char *id = h->msg_header(copy, "id");
    siphash_init(&s, sp->key);
    siphash_update(&s, id ? id : "", id ? strlen(id) + 1 : 1);
    siphash_update(&s, text, strlen(text) + 1);
    siphash_update(&s, body ? body : "", body ? body_len : 0);
    snprintf(tag, sizeof tag, "%016" PRIx64, siphash_final(&s));
    if (h->msg_set_header(copy, sp->signature_header, tag) != 0) {
      failed_attr = sp->signature_header;
      goto out_free_copy;
    }
  }
  *out = copy;
  return DRAY_OK;
out_free_copy:
  h->msg_free(&copy);
  /* The names were checked in create(); the host may still refuse a value
   * for an attribute it gives a meaning to (e.g. "time"). */
  h->set_error(sp->inst, "message %s: the host refused attribute %s",
               h->msg_header(msg, "id"), failed_attr);
  return DRAY_REJECT;
out_of_memory:
  h->set_error(sp->inst, "out of memory stamping message %s",
               h->msg_header(msg, "id"));
  return DRAY_RETRY;
}

/* --- lifecycle ---------------------------------------------------------------- */

static int stamp_create(const struct dray_host *host, dray_instance *inst,
                        void **state) {
  char why[128];
  struct stamp *sp = calloc(1, sizeof *sp);
  if (!sp) {
    host->set_error(inst, "out of memory");
    return -1;
  }
  sp->host = host;
  sp->inst = inst;
  sp->header = host->get_string(inst, "header");
  sp->value = host->get_string(inst, "value");
  if (!sp->value) sp->value = host->instance_name(inst);
  sp->signature_header = host->get_string(inst, "signature_header");
  sp->max_body_bytes = host->get_int(inst, "max_body_bytes", 1048576);
  const char *mode = host->get_string(inst, "mode");
  sp->mode = strcmp(mode, "sequence") == 0 ? STAMP_SEQUENCE
             : strcmp(mode, "time") == 0   ? STAMP_TIME
                                           : STAMP_FIXED;
  if (check_attribute_name(sp->header, why, sizeof why) != 0) {
    host->set_error(inst, "header \"%s\": %s", sp->header, why);
    goto fail;
  }
  if (strlen(sp->value) > STAMP_VALUE_MAX) {
    host->set_error(inst, "value: at most %d characters, got %zu",
                    STAMP_VALUE_MAX, strlen(sp->value));
    goto fail;
  }
  const char *secret = host->get_secret(inst, "signing_key");
  if (secret) {
    if (decode_key(secret, sp->key, why, sizeof why) != 0) {
      host->set_error(inst, "signing_key: %s", why);
      goto fail;
    }
    if (check_attribute_name(sp->signature_header, why, sizeof why) != 0) {
      host->set_error(inst, "signature_header \"%s\": %s",
                      sp->signature_header, why);
      goto fail;
    }
    if (strcmp(sp->signature_header, sp->header) == 0) {
      host->set_error(inst, "signature_header and header are both \"%s\"",
                      sp->header);
      goto fail;
    }
    sp->signing = 1;
  }
  *state = sp;
  return 0;
fail:
  memset(sp->key, 0, sizeof sp->key);
  free(sp);
  return -1;
}

static void stamp_destroy(void *state) {
  struct stamp *sp = state;
  if (!sp) return;
  memset(sp->key, 0, sizeof sp->key); /* do not leave key bytes in the heap */
  free(sp);
}

/* A source must have start() or poll(). stamp has no threads: start()
 * only reports what it will do (the secret is named, never shown). */
static int stamp_start(void *state) {
  struct stamp *sp = state;
  sp->host->log(sp->inst, DRAY_LOG_INFO,
                "stamping attribute %s (mode %s, value %s)%s", sp->header,
                sp->mode == STAMP_SEQUENCE ? "sequence"
                : sp->mode == STAMP_TIME   ? "time"
                                           : "fixed",
                sp->value, sp->signing ? ", signed with signing_key" : "");
  return 0;
}

/* --- destination: process() and re-emit ---------------------------------------- */

static dray_status stamp_process(void *state, const dray_msg *msg) {
  struct stamp *sp = state;
  const struct dray_host *h = sp->host;
  dray_msg *copy;
  dray_status st = stamp_copy(sp, msg, 1, &copy);
  if (st != DRAY_OK) return st;
  st = h->emit(sp->inst, &copy);
  switch (st) {
    case DRAY_OK: /* the host owns the copy now (copy == NULL) */
      h->counter_add(sp->inst, "stamped", 1);
      return DRAY_OK;
    case DRAY_RETRY:
      /* Backpressure downstream: our message stays with the host, which
       * calls process() again after a backoff. */
      h->msg_free(&copy);
      h->set_error(sp->inst, "downstream is full (backpressure)");
      return DRAY_RETRY;
    case DRAY_FATAL:
      /* Outside the emit window (a host that calls process() before
       * start() or after stop()): this message was not handled, so it is
       * not done; the instance itself is fine, hence RETRY, not FATAL.
       * While the runtime shuts down, emit already answers RETRY. */
      h->msg_free(&copy);
      h->set_error(sp->inst, "cannot emit now (instance stopping)");
      return DRAY_RETRY;
    case DRAY_REJECT:
    default:
      /* The host refused the stamped copy (its error is already set). */
      h->msg_free(&copy);
      return DRAY_REJECT;
  }
}

/* --- codec: dray convert --------------------------------------------------------- */

/* Input: one CloudEvent, or JSON Lines of them. Each is stamped and added
 * to `out`. A bad line stops the decode with REJECT naming origin:line;
 * the messages before it stay in the batch (partial success). */
static dray_status stamp_decode(void *state, const void *input, size_t len,
                                const char *origin, dray_batch *out) {
  struct stamp *sp = state;
  const struct dray_host *h = sp->host;
  const char *p = input, *end = p + len;
  char why[256];
  size_t line_no = 0;
  dray_msg *whole = h->msg_parse(sp->inst, p, len, why, sizeof why);
  if (whole) p = end; /* the whole input is one (possibly pretty) event */
  while (whole || p < end) {
    dray_msg *msg = whole;
    whole = NULL;
    if (!msg) {
      const char *eol = memchr(p, '\n', (size_t)(end - p));
      size_t n = eol ? (size_t)(eol - p) : (size_t)(end - p);
      const char *line = p;
      p = eol ? eol + 1 : end;
      line_no++;
      while (n && strchr(" \t\r", line[n - 1])) n--;
      if (n == 0) continue;
      msg = h->msg_parse(sp->inst, line, n, why, sizeof why);
      if (!msg) {
        h->set_error(sp->inst, "%s:%zu: %s", origin ? origin : "input",
                     line_no, why);
        return DRAY_REJECT;
      }
    }
    dray_msg *stamped;
    dray_status st = stamp_copy(sp, msg, 1, &stamped);
    h->msg_free(&msg);
    if (st != DRAY_OK) return st;
    if (h->batch_add(out, &stamped) != 0) {
      h->msg_free(&stamped);
      h->set_error(sp->inst, "out of memory");
      return DRAY_RETRY;
    }
  }
  return DRAY_OK;
}

/* Output: the stamped event, one JSON object per line. */
static dray_status stamp_encode(void *state, const dray_msg *msg,
                                dray_buf *out) {
  struct stamp *sp = state;
  const struct dray_host *h = sp->host;
  dray_msg *stamped;
  dray_status st = stamp_copy(sp, msg, 0, &stamped);
  if (st != DRAY_OK) return st;
  int rc = h->msg_serialize(stamped, out);
  if (rc == 0) rc = h->buf_append(out, "\n", 1);
  h->msg_free(&stamped);
  if (rc != 0) {
    h->set_error(sp->inst, "out of memory");
    return DRAY_RETRY;
  }
  return DRAY_OK;
}

/* --- the descriptor ----------------------------------------------------------------
 * struct_size and the ABI version come from the headers this file was
 * compiled with; the host refuses a descriptor from another ABI major or a
 * newer minor. Fields you leave out are NULL/0. */
static const struct dray_plugin stamp_plugin = {
    .struct_size = sizeof(struct dray_plugin),
    .abi_major = DRAY_ABI_MAJOR,
    .abi_minor = DRAY_ABI_MINOR,
    .name = PLUGIN_NAME,       /* "stamp": [a-z0-9_]+, unique on the path */
    .version = PLUGIN_VERSION, /* the plugin's own version */
    .description = "Adds a configurable attribute (and optional SipHash tag) "
                   "to each message and re-emits it",
    .kinds = DRAY_KIND_SOURCE | DRAY_KIND_DESTINATION | DRAY_KIND_CODEC,
    .flags = DRAY_PLUGIN_CONCURRENT,
    .params = stamp_params,
    .param_count = sizeof stamp_params / sizeof stamp_params[0],
    .create = stamp_create,
    .destroy = stamp_destroy,
    .start = stamp_start,
    .process = stamp_process,
    .decode = stamp_decode,
    .encode = stamp_encode,
};

/* The one exported symbol: dray_plugin_entry. */
DRAY_PLUGIN_DEFINE(stamp_plugin)
