/* x12_tokenizer.h - zero-copy streaming tokenizer for X12 interchanges.
 *
 * The tokenizer walks a caller-owned buffer and hands out one segment at a
 * time as spans (pointer + length) into that buffer; it never allocates per
 * segment. Delimiters are read from each ISA it meets (element separator at
 * offset 3, component separator at 104, segment terminator at 105, which may
 * be a multi-byte UTF-8 character; repetition separator from ISA11 when
 * ISA12 >= 00402 and ISA11 is not alphanumeric), so one input may hold
 * several interchanges with different delimiters.
 *
 * Streaming: feed a window of the input with x12_tok_feed(); when a segment
 * runs past the end of a non-final window, x12_tok_next() returns
 * X12_TOK_NEED_MORE; the caller keeps the bytes from x12_tok_consumed() on,
 * appends more input and feeds the new window. Spans stay valid until the
 * next feed.
 *
 * Lenient mode (per trading partner): a short or unpadded ISA is tokenized by
 * its element separator with a warning instead of being refused, CR/LF inside
 * segments (80-column hard wrapping) are dropped, and blanks/TABs before a
 * segment tag are skipped. Unwrapped segments are copied once into a scratch
 * buffer owned by the tokenizer (grown, never freed per segment).
 *
 * Not thread-safe: one tokenizer per input.
 */
#ifndef X12_TOKENIZER_H
#define X12_TOKENIZER_H

#include <stddef.h>
#include <stdint.h>

#define X12_MAX_ELEMENTS 128 /* including the tag at index 0 */

enum x12_tok_flags {
  X12_TOK_LENIENT = 1u << 0,
  /* Split with the byte loop only, never the SSE2 path (same results;
   * tests and the fuzzer compare the two). */
  X12_TOK_BYTEWISE = 1u << 1
};

enum x12_tok_result {
  X12_TOK_END = 0,       /* no more segments (only whitespace left) */
  X12_TOK_SEGMENT = 1,   /* *seg is filled */
  X12_TOK_NEED_MORE = 2, /* window ends inside a segment: feed more */
  X12_TOK_ERROR = -1     /* see x12_tokenizer.error / .message / .error_pos */
};

/* Syntax errors found by the tokenizer. The TA1 note code (I18) that
 * reports each is given by x12_tok_error_ta1(). */
enum x12_tok_error {
  X12_TOKE_NONE = 0,
  X12_TOKE_NO_ISA,          /* input does not start with ISA */
  X12_TOKE_ISA_LAYOUT,      /* separators not at the fixed ISA positions */
  X12_TOKE_ISA_SHORT,       /* ISA ends before its 16 elements */
  X12_TOKE_ELEMENT_SEP,     /* element separator unusable */
  X12_TOKE_COMPONENT_SEP,   /* component separator unusable */
  X12_TOKE_TERMINATOR,      /* segment terminator unusable */
  X12_TOKE_UNTERMINATED,    /* input ends inside a segment */
  X12_TOKE_TOO_MANY_ELEMENTS,
  X12_TOKE_SEGMENT_TOO_LONG
};

/* Byte classes found in a segment (x12_segment.flags). */
enum x12_seg_flags {
  X12_SEG_COMPONENT = 1u << 1,  /* a component separator */
  X12_SEG_REPETITION = 1u << 2, /* a repetition separator */
  X12_SEG_NEWLINE = 1u << 3,    /* CR or LF */
  X12_SEG_CONTROL = 1u << 4     /* another control character (< 0x20, 0x7f) */
};

struct x12_delimiters {
  unsigned char element;
  unsigned char component;
  unsigned char repetition; /* 0: none */
  unsigned char terminator[4];
  uint8_t terminator_len; /* 1..4 bytes (UTF-8) */
};

/* Where something is: absolute byte offset in the whole input (0-based),
 * line and column (1-based, column in bytes), segment index (1-based,
 * counted over the whole input). */
struct x12_pos {
  uint64_t offset;
  uint32_t line;
  uint32_t column;
  uint64_t segment_index;
};

struct x12_span {
  const char *ptr;
  uint32_t len;
};

/* One segment. el[0] is the tag; el[1..count-1] the elements. */
struct x12_segment {
  struct x12_span el[X12_MAX_ELEMENTS];
  uint32_t count;
  struct x12_pos pos;
  struct x12_span raw; /* the segment without its terminator */
  int is_isa;          /* an ISA: delimiters were (re)read from it */
  int trailing_empty;  /* ended with empty elements ("ZZ*1***~") */
  int copied;          /* spans point into the tokenizer's scratch (valid
                          until the next call), not into the input */
  unsigned flags;      /* X12_SEG_* bits: what the segment bytes contain */
};

struct x12_tokenizer {
  const char *buf;
  size_t len;
  size_t off;
  int final;
  uint64_t base; /* absolute offset of buf[0] */
  uint32_t line;
  uint64_t line_start; /* absolute offset of the current line's start */
  uint64_t segment_index;
  unsigned flags;
  int have_delims;
  int started; /* BOM / leading whitespace handled */
  struct x12_delimiters delims;
  uint8_t cls[256]; /* byte classes for the current delimiters */
  char *scratch; /* lenient unwrapping; owned */
  size_t scratch_cap;
  /* last error */
  int error;
  struct x12_pos error_pos;
  char message[256];
  /* warnings (lenient fallbacks); count and the last text */
  unsigned warnings;
  struct x12_pos warning_pos;
  char warning[256];
};

/* Prepares t for an input; flags is a set of enum x12_tok_flags. */
void x12_tok_init(struct x12_tokenizer *t, unsigned flags);
/* Frees the scratch buffer (the struct itself is the caller's). */
void x12_tok_release(struct x12_tokenizer *t);
/* Sets the current window: buf[0] is the first unconsumed byte of the
 * input. final: no more input after this window. */
void x12_tok_feed(struct x12_tokenizer *t, const char *buf, size_t len,
                  int final);
/* Bytes of the current window already consumed. */
size_t x12_tok_consumed(const struct x12_tokenizer *t);
/* Next segment; returns enum x12_tok_result. */
int x12_tok_next(struct x12_tokenizer *t, struct x12_segment *seg);

/* TA1 note code (I18) for a tokenizer error, e.g. "026". */
const char *x12_tok_error_ta1(int error);

/* Position of element `index` of seg (column adjusted), for messages. */
struct x12_pos x12_element_pos(const struct x12_segment *seg, uint32_t index);

/* Splits span s by separator sep: returns part `index` (0-based) or an
 * empty span when absent. */
struct x12_span x12_span_part(struct x12_span s, unsigned char sep,
                              uint32_t index);
/* Number of parts of s split by sep (1 for an empty span). */
uint32_t x12_span_parts(struct x12_span s, unsigned char sep);
/* Nonzero if span equals the NUL-terminated string. */
int x12_span_eq(struct x12_span s, const char *str);
/* Copies s into out (size bytes), trimmed of trailing blanks, NUL-ended. */
void x12_span_copy(struct x12_span s, char *out, size_t size);

#endif
