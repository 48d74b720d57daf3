/* x12_test_util.h - builds X12 documents for the tests (so the suite does
 * not depend on ../shared) and runs the validator over them. */
#ifndef X12_TEST_UTIL_H
#define X12_TEST_UTIL_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <dray-sdk/validate.h>

#include "x12_ack.h"
#include "x12_decode.h"

/* A fixed-width ISA with '*', '>' and '~' (version 00401, ctl isa13). */
static inline void test_isa(char *out, size_t size, const char *isa13,
                            const char *version) {
  snprintf(out, size,
           "ISA*00*          *00*          *ZZ*SENDER         *ZZ*RECEIVER   "
           "    *240514*0832*%s*%s*%s*0*P*>~\n",
           strcmp(version, "00401") > 0 ? "^" : "U", version, isa13);
}

/* One interchange with one group holding one set of type st01 whose body
 * segments (without ST/SE, '~'-terminated, may hold newlines) are `body`.
 * Counts and control numbers are right. Caller frees. */
static inline char *test_doc(const char *isa13, const char *gs01,
                             const char *gs08, const char *st01,
                             const char *body) {
  size_t n = strlen(body) + 512;
  char *d = malloc(n);
  char isa[160];
  int segs = 2;
  for (const char *p = body; *p; p++)
    if (*p == '~') segs++;
  test_isa(isa, sizeof(isa), isa13,
           strncmp(gs08, "005", 3) == 0 ? "00501" : "00401");
  snprintf(d, n,
           "%sGS*%s*SENDER*RECEIVER*20240514*0832*77*X*%s~\nST*%s*0001~\n%s"
           "SE*%d*0001~\nGE*1*77~\nIEA*1*%s~\n",
           isa, gs01, gs08, st01, body, segs, isa13);
  return d;
}

/* Captures what the decode pipeline produced. */
struct capture {
  char *types[64];
  char *bodies[64];
  char *subjects[64];
  char *idem[64];
  int n;
  char *acks[8];
  int nacks;
  int counters;
  char schema_error[512]; /* first body that fails its canonical schema */
};

static inline int capture_emit(void *ctx, const struct x12_out_msg *m) {
  struct capture *c = ctx;
  char err[400];
  if (c->n >= 64) return -1;
  /* every mapped body must be valid against docs/schemas */
  if (!c->schema_error[0] &&
      dray_validate_body(m->type, m->body, m->body_len, err, sizeof(err)) != 0)
    snprintf(c->schema_error, sizeof(c->schema_error), "%s: %s", m->type, err);
  c->types[c->n] = strdup(m->type);
  c->bodies[c->n] = strndup(m->body, m->body_len);
  c->subjects[c->n] = strdup(m->subject);
  c->idem[c->n] = strdup(m->idempotencykey);
  c->n++;
  return 0;
}

static inline int capture_ack(void *ctx, const struct x12_interchange_result *ic,
                              const char *kind, const char *x12, size_t len,
                              const char *body, long isa13) {
  (void)ic; (void)kind; (void)body; (void)isa13;
  struct capture *c = ctx;
  if (c->nacks < 8) c->acks[c->nacks++] = strndup(x12, len);
  return 0;
}

static inline void capture_count(void *ctx, const char *name) {
  (void)name;
  ((struct capture *)ctx)->counters++;
}

static inline void capture_free(struct capture *c) {
  for (int i = 0; i < c->n; i++) {
    free(c->types[i]); free(c->bodies[i]); free(c->subjects[i]); free(c->idem[i]);
  }
  for (int i = 0; i < c->nacks; i++) free(c->acks[i]);
  memset(c, 0, sizeof(*c));
}

/* Decodes doc with acks (auto + TA1) into c; returns x12_decode_buffer's
 * result and fills rep. */
static inline int test_decode(const char *doc, size_t len, unsigned flags,
                              struct capture *c,
                              struct x12_decode_report *rep) {
  struct x12_decode_options o = {
      .tok_flags = flags, .currency = "USD", .local_tz = "America/Chicago",
      .ack_kind = X12_ACK_AUTO, .ta1 = 1, .hold_until_iea = 1, .ctx = c,
      .emit = capture_emit, .ack = capture_ack, .count = capture_count,
      .ack_date8 = "20240515", .ack_time4 = "1200"};
  int r = x12_decode_buffer(doc, len, "test.edi", &o, rep);
  if (c->schema_error[0]) fail_msg("schema: %s", c->schema_error);
  return r;
}

#endif
