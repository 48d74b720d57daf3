/* fuzz_x12.c - libFuzzer target: tokenizer + validator + mappings + ack
 * generation over arbitrary bytes, strict and lenient, whole-buffer and
 * streamed in small windows (both must agree on the segment count).
 * Seeds: fuzz/seeds/ (committed) plus the ../shared fixtures copied into a
 * corpus folder outside the repository by bench/x12/fuzz.sh. */
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

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
  const char *buf = (const char *)data;
  for (unsigned flags = 0; flags <= X12_TOK_LENIENT; flags += X12_TOK_LENIENT) {
    struct x12_decode_options o = {
        .tok_flags = flags, .currency = "USD", .local_tz = "America/Chicago",
        .ack_kind = X12_ACK_AUTO, .ta1 = 1, .hold_until_iea = 1,
        .emit = sink, .ack = ack, .ack_date8 = "20240101", .ack_time4 = "0000"};
    struct x12_decode_report rep;
    x12_decode_buffer(buf, size, "fuzz", &o, &rep);
    /* streamed windows give the same segments as the whole buffer */
    if (size < 4096 && flags == 0) {
      uint32_t whole = count_segments(buf, size, flags, size ? size : 1);
      uint32_t small = count_segments(buf, size, flags, 5);
      if (whole != small) abort();
    }
  }
  return 0;
}
