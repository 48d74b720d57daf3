/* x12_decode.h - one X12 input, end to end: tokenize, validate, map the
 * accepted sets to canonical messages, build the acknowledgments.
 *
 * Independent of the host: the plugin glue (edi_x12.c), the bench and the
 * fuzzer supply callbacks. Messages of an interchange are held until its IEA
 * and handed on only when the interchange is accepted (a TA1-rejected
 * interchange yields no business messages); set-level rejections drop just
 * that set. Thread-safe as long as the callbacks are.
 */
#ifndef X12_DECODE_H
#define X12_DECODE_H

#include "x12_ack.h"
#include "x12_map.h"

struct x12_decode_options {
  unsigned tok_flags;   /* enum x12_tok_flags */
  const char *currency; /* default currency */
  const char *local_tz; /* see x12_map_env */
  int ack_kind;         /* enum x12_ack_kind */
  int ta1;              /* TA1 when requested or on interchange errors */
  const char *our_qual, *our_id; /* sender of our acks (NULL: ISA07/08) */
  int hold_until_iea;   /* nonzero: emit only after an accepted IEA */
  const char *expect_sender; /* non-NULL: ISA06 must match (else TA1 006) */
  void *ctx;
  /* ISA13 already seen for this sender? 1 yes, 0 no (not recorded). */
  int (*isa_seen)(void *ctx, const char *qual, const char *id,
                  const char *isa13);
  /* Records an accepted interchange's ISA13 (after its messages went out). */
  void (*isa_record)(void *ctx, const char *qual, const char *id,
                     const char *isa13);
  /* Next control number for an interchange we write ("doc"); used for
   * both ISA13 and GS06. */
  int (*next_control)(void *ctx, const char *which, long *out);
  /* Canonical message out; 0 or -1 to stop. */
  x12_emit_fn emit;
  /* An acknowledgment we built (TA1/997/999 interchange text). kind is
   * "997", "999", "TA1" or "997+TA1"...; body is its dray.ack.sent.v1 body.
   * Returns 0 or -1. */
  int (*ack)(void *ctx, const struct x12_interchange_result *ic,
             const char *kind, const char *x12, size_t x12_len,
             const char *body, long isa13);
  void (*count)(void *ctx, const char *counter);
  const char *ack_date8, *ack_time4; /* stamp of our acks */
};

struct x12_decode_report {
  uint32_t interchanges;
  uint32_t rejected_interchanges;
  uint32_t sets;
  uint32_t rejected_sets;
  uint32_t messages;
  uint32_t warnings;
  int stopped;           /* a callback returned -1 */
  char first_error[512]; /* "origin:line:col: what", "" if none */
};

/* Decodes buf. Returns 0 when everything was accepted, 1 when something
 * was rejected (see report), -1 on a callback/resource failure. */
int x12_decode_buffer(const char *buf, size_t len, const char *origin,
                      const struct x12_decode_options *o,
                      struct x12_decode_report *rep);

#endif
