/* fuzz_x12.c - libFuzzer target: tokenizer + validator + mappings + ack
 * generation over arbitrary bytes, strict and lenient, whole-buffer and
 * streamed in small windows (both must agree on the segment count); the
 * SSE2 split against the byte loop and the element fast path against the
 * generic walk (each pair must agree exactly).
 * Seeds: fuzz/seeds/ (committed) plus the ../shared fixtures copied into a
 * corpus folder outside the repository by fuzz/run.sh. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "x12_decode.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static int sink(void *ctx, const struct x12_out_msg *m) {
  (void)ctx;
  /* touch the body so a bad length is caught by ASan */
  volatile char c = m->body_len ? m->body[m->body_len - 1] : 0;
  (void)c;
  return 0;
}

static int ack(void *ctx, const struct x12_interchange_result *ic,
               const char *kind, const char *x12, size_t len, const char *body,
               long isa13) {
  (void)ctx; (void)ic; (void)kind; (void)body; (void)isa13;
  /* our own acks must always be valid X12 */
  struct x12_decode_options o = {0};
  struct x12_decode_report rep;
  o.emit = sink;
  o.ack_kind = X12_ACK_NONE;
  int r = x12_decode_buffer(x12, len, "ack", &o, &rep);
  if (r != 0 && rep.rejected_interchanges) abort();
  return 0;
}

static uint32_t count_segments(const char *buf, size_t len, unsigned flags,
                               size_t window) {
  struct x12_tokenizer t;
  static struct x12_segment seg;
  uint32_t n = 0;
  char *w = malloc(len + 1);
  size_t have = 0, pos = 0;
  int r = X12_TOK_END;
  x12_tok_init(&t, flags);
  for (;;) {
    size_t add = len - pos < window ? len - pos : window;
    memcpy(w + have, buf + pos, add);
    have += add;
    pos += add;
    x12_tok_feed(&t, w, have, pos == len);
    while ((r = x12_tok_next(&t, &seg)) == X12_TOK_SEGMENT) n++;
    if (r != X12_TOK_NEED_MORE) break;
    size_t used = x12_tok_consumed(&t);
    memmove(w, w + used, have - used);
    have -= used;
  }
  x12_tok_release(&t);
  free(w);
  return r == X12_TOK_ERROR ? n | 0x80000000u : n;
}

/* The SSE2 split and the byte loop give the same segments, positions,
 * flags and errors. */
static void compare_splits(const char *buf, size_t size, unsigned flags) {
  struct x12_tokenizer a, b;
  static struct x12_segment sa, sb;
  x12_tok_init(&a, flags);
  x12_tok_init(&b, flags | X12_TOK_BYTEWISE);
  x12_tok_feed(&a, buf, size, 1);
  x12_tok_feed(&b, buf, size, 1);
  for (;;) {
    int ra = x12_tok_next(&a, &sa), rb = x12_tok_next(&b, &sb);
    if (ra != rb) abort();
    if (ra != X12_TOK_SEGMENT) break;
    if (sa.count != sb.count || sa.flags != sb.flags ||
        sa.trailing_empty != sb.trailing_empty || sa.is_isa != sb.is_isa ||
        memcmp(&sa.pos, &sb.pos, sizeof(sa.pos)) != 0)
      abort();
    for (uint32_t i = 0; i < sa.count; i++)
      if (sa.el[i].len != sb.el[i].len ||
          memcmp(sa.el[i].ptr, sb.el[i].ptr, sa.el[i].len) != 0)
        abort();
  }
  if (a.error != b.error || strcmp(a.message, b.message) != 0 ||
      memcmp(&a.error_pos, &b.error_pos, sizeof(a.error_pos)) != 0 ||
      a.line != b.line || a.warnings != b.warnings)
    abort();
  x12_tok_release(&a);
  x12_tok_release(&b);
}

static uint64_t fnv(uint64_t h, const void *p, size_t n) {
  const unsigned char *c = p;
  for (size_t i = 0; i < n; i++) h = (h ^ c[i]) * 1099511628211ULL;
  return h;
}

/* A digest of everything the validator recorded for an interchange. */
static void digest_ic(void *ctx, struct x12_interchange_result *ic) {
  uint64_t *h = ctx;
  *h = fnv(*h, ic->ta1_code, sizeof(ic->ta1_code));
  *h = fnv(*h, &ic->ta1_status, 1);
  *h = fnv(*h, ic->message, strlen(ic->message));
  *h = fnv(*h, &ic->error_pos, sizeof(ic->error_pos));
  *h = fnv(*h, &ic->warnings, sizeof(ic->warnings));
  for (uint32_t g = 0; g < ic->ngroups; g++) {
    const struct x12_group_result *gr = &ic->groups[g];
    *h = fnv(*h, gr->codes, gr->ncodes);
    *h = fnv(*h, &gr->status, 1);
    for (uint32_t k = 0; k < gr->nsets; k++) {
      const struct x12_set_result *st = &gr->sets[k];
      *h = fnv(*h, st->codes, st->ncodes);
      *h = fnv(*h, &st->status, 1);
      *h = fnv(*h, &st->dropped_errors, sizeof(st->dropped_errors));
      for (uint16_t e = 0; e < st->nerrors; e++) {
        const struct x12_segment_error *se = &st->errors[e];
        *h = fnv(*h, se->id, sizeof(se->id));
        *h = fnv(*h, &se->position, sizeof(se->position));
        *h = fnv(*h, &se->code, 1);
        *h = fnv(*h, &se->pos, sizeof(se->pos));
        *h = fnv(*h, se->message, strlen(se->message));
        for (uint16_t x = 0; x < se->nelements; x++) {
          const struct x12_element_error *ee = &se->elements[x];
          *h = fnv(*h, &ee->element, sizeof(ee->element));
          *h = fnv(*h, &ee->ref, sizeof(ee->ref));
          *h = fnv(*h, &ee->code, 1);
          *h = fnv(*h, ee->bad, strlen(ee->bad));
          *h = fnv(*h, &ee->pos, sizeof(ee->pos));
        }
      }
    }
  }
}

static uint64_t validate_digest(const char *buf, size_t size, unsigned vflags) {
  uint64_t h = 1469598103934665603ULL;
  struct x12_validator_ops ops = {NULL, NULL, digest_ic};
  struct x12_validator v;
  struct x12_tokenizer t;
  static struct x12_segment seg;
  x12_validator_init(&v, &ops, &h, vflags);
  x12_tok_init(&t, 0);
  x12_tok_feed(&t, buf, size, 1);
  int r;
  while ((r = x12_tok_next(&t, &seg)) == X12_TOK_SEGMENT)
    x12_validator_segment(&v, &seg, &t.delims);
  if (r == X12_TOK_ERROR) x12_validator_syntax_error(&v, &t);
  x12_validator_finish(&v);
  x12_validator_release(&v);
  x12_tok_release(&t);
  return h;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *buf = (const char *)data;
  for (unsigned flags = 0; flags <= X12_TOK_LENIENT; flags += X12_TOK_LENIENT) {
    struct x12_decode_options o = {
        .tok_flags = flags, .currency = "USD", .local_tz = "America/Chicago",
        .ack_kind = X12_ACK_AUTO, .ta1 = 1, .hold_until_iea = 1,
        .emit = sink, .ack = ack, .ack_date8 = "20240101", .ack_time4 = "0000"};
    struct x12_decode_report rep;
    x12_decode_buffer(buf, size, "fuzz", &o, &rep);
    compare_splits(buf, size, flags);
    /* the element fast path records exactly what the generic walk does */
    if (flags == 0 &&
        validate_digest(buf, size, 0) != validate_digest(buf, size, X12_VAL_GENERIC))
      abort();
    /* streamed windows give the same segments as the whole buffer */
    if (size < 4096 && flags == 0) {
      uint32_t whole = count_segments(buf, size, flags, size ? size : 1);
      uint32_t small = count_segments(buf, size, flags, 5);
      if (whole != small) abort();
    }
  }
  return 0;
}
