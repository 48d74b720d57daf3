/* x12_tokenizer.c - see x12_tokenizer.h. The hot path (strict, one-byte
 * terminator): one pass per segment that finds the terminator and splits
 * the elements, 16 bytes per step with SSE2 (a byte loop over a class table
 * elsewhere and for the last bytes of a window); spans into the caller's
 * buffer. X12_TOK_BYTEWISE (or -DX12_TOK_SCALAR at build time) keeps to
 * the byte loop; tests and the fuzzer compare both. */
#include "x12_tokenizer.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#if defined(__SSE2__) && !defined(X12_TOK_SCALAR)
#include <emmintrin.h>
#define X12_TOK_SSE2 1
#endif

/* Offsets of the 16 element separators of a fixed-width ISA. */
static const uint8_t isa_sep_pos[16] = {3,  6,  17, 20, 31, 34, 50, 53,
                                        69, 76, 81, 83, 89, 99, 101, 103};

#define ISA_FIXED_LEN 106 /* including a one-byte terminator */

void x12_tok_init(struct x12_tokenizer *t, unsigned flags) {
  memset(t, 0, sizeof(*t));
  t->flags = flags;
  t->line = 1;
}

void x12_tok_release(struct x12_tokenizer *t) {
  free(t->scratch);
  t->scratch = NULL;
  t->scratch_cap = 0;
}

void x12_tok_feed(struct x12_tokenizer *t, const char *buf, size_t len,
                  int final) {
  t->base += t->off;
  t->buf = buf;
  t->len = len;
  t->off = 0;
  t->final = final;
}

size_t x12_tok_consumed(const struct x12_tokenizer *t) { return t->off; }

const char *x12_tok_error_ta1(int error) {
  switch (error) {
  case X12_TOKE_ELEMENT_SEP: return "026";
  case X12_TOKE_COMPONENT_SEP: return "027";
  case X12_TOKE_TERMINATOR: return "004";
  case X12_TOKE_UNTERMINATED: return "023";
  case X12_TOKE_ISA_SHORT: return "022";
  case X12_TOKE_ISA_LAYOUT: return "022";
  case X12_TOKE_NO_ISA: return "022";
  default: return "024";
  }
}

static struct x12_pos here(const struct x12_tokenizer *t, size_t off) {
  struct x12_pos p;
  p.offset = t->base + off;
  p.line = t->line;
  p.column = (uint32_t)(p.offset - t->line_start + 1);
  p.segment_index = t->segment_index + 1;
  return p;
}

static int fail(struct x12_tokenizer *t, int code, size_t off, const char *fmt,
                ...) __attribute__((format(printf, 4, 5)));
static int fail(struct x12_tokenizer *t, int code, size_t off, const char *fmt,
                ...) {
  va_list ap;
  t->error = code;
  t->error_pos = here(t, off);
  va_start(ap, fmt);
  vsnprintf(t->message, sizeof(t->message), fmt, ap);
  va_end(ap);
  return X12_TOK_ERROR;
}

static void warn(struct x12_tokenizer *t, size_t off, const char *msg) {
  t->warnings++;
  t->warning_pos = here(t, off);
  snprintf(t->warning, sizeof(t->warning), "%s", msg);
}

static int is_alnum(unsigned char c) {
  return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') ||
         (c >= 'a' && c <= 'z');
}

static int is_blank(unsigned char c) {
  return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == 0 ||
         c == 0x1a;
}

/* Length of the UTF-8 sequence starting with byte c (1 for ASCII and for
 * bytes that cannot start a sequence). */
static size_t utf8_len(unsigned char c) {
  if (c >= 0xf0 && c < 0xf8) return 4;
  if (c >= 0xe0) return c < 0xf0 ? 3 : 1;
  if (c >= 0xc0) return 2;
  return 1;
}

static int grow_scratch(struct x12_tokenizer *t, size_t need) {
  if (need <= t->scratch_cap) return 0;
  size_t cap = t->scratch_cap ? t->scratch_cap : 4096;
  while (cap < need) cap *= 2;
  char *p = realloc(t->scratch, cap);
  if (!p) return -1;
  t->scratch = p;
  t->scratch_cap = cap;
  return 0;
}

/* Skips the CR/LF that follow a terminator (unless CR/LF is the terminator)
 * and, when lenient, blanks and TABs before the next tag. Tracks lines. */
static void skip_after_terminator(struct x12_tokenizer *t) {
  const unsigned char *b = (const unsigned char *)t->buf;
  unsigned char term = t->delims.terminator_len == 1 ? t->delims.terminator[0]
                                                     : 0;
  int lenient = (t->flags & X12_TOK_LENIENT) != 0;
  while (t->off < t->len) {
    unsigned char c = b[t->off];
    if (c == '\n' && term != '\n') {
      t->off++;
      t->line++;
      t->line_start = t->base + t->off;
    } else if (c == '\r' && term != '\r') {
      t->off++;
    } else if (lenient && (c == ' ' || c == '\t')) {
      t->off++;
    } else {
      break;
    }
  }
}

#define CLS_TERM 0x20 /* the (one-byte) segment terminator */

/* Byte classes for the split loop: bit 0 element separator, then the
 * X12_SEG_* bits. One table lookup per byte finds the separators and
 * everything the validator would otherwise scan for again. */
static void build_classes(struct x12_tokenizer *t) {
  memset(t->cls, 0, sizeof(t->cls));
  for (int c = 0; c < 0x20; c++) t->cls[c] = X12_SEG_CONTROL;
  t->cls[0x7f] = X12_SEG_CONTROL;
  t->cls['\r'] = t->cls['\n'] = X12_SEG_NEWLINE;
  t->cls[t->delims.component] = X12_SEG_COMPONENT;
  if (t->delims.repetition) t->cls[t->delims.repetition] = X12_SEG_REPETITION;
  t->cls[t->delims.element] = 1;
  if (t->delims.terminator_len == 1) t->cls[t->delims.terminator[0]] = CLS_TERM;
}

/* Splits segment bytes [s, s+n) into seg. When lenient, CR/LF inside the
 * segment are removed first (copied to scratch). Counts line breaks. */
static int split_segment(struct x12_tokenizer *t, const char *s, size_t n,
                         size_t seg_off, struct x12_segment *seg) {
  const uint8_t *cls = t->cls;
  const char *p = s;
  const char *end = s + n;
  int lenient = (t->flags & X12_TOK_LENIENT) != 0;
  unsigned flags = 0;
  uint32_t count = 0;
  const char *start = p;

  seg->copied = 0;
again:
  for (; p < end; p++) {
    uint8_t k = cls[(unsigned char)*p];
    if (k) {
      if (k & CLS_TERM) {
        flags |= X12_SEG_NEWLINE; /* only reached for a CR/LF terminator
                                     inside lenient copies: treat as data */
      } else if (k & 1) {
        if (count >= X12_MAX_ELEMENTS - 1)
          return fail(t, X12_TOKE_TOO_MANY_ELEMENTS, seg_off,
                      "segment has more than %d elements",
                      X12_MAX_ELEMENTS - 1);
        seg->el[count].ptr = start;
        seg->el[count].len = (uint32_t)(p - start);
        count++;
        start = p + 1;
      } else {
        flags |= k;
      }
    }
  }
  if ((flags & X12_SEG_NEWLINE) && lenient && !seg->copied) {
    /* 80-column hard wrapping: drop CR/LF and split the copy again */
    if (grow_scratch(t, n + 1) < 0)
      return fail(t, X12_TOKE_SEGMENT_TOO_LONG, seg_off, "out of memory");
    size_t k = 0;
    for (size_t i = 0; i < n; i++) {
      if (s[i] == '\n') {
        t->line++;
        t->line_start = t->base + (size_t)(s + i + 1 - t->buf);
      } else if (s[i] != '\r') {
        t->scratch[k++] = s[i];
      }
    }
    p = start = t->scratch;
    end = t->scratch + k;
    s = t->scratch;
    count = 0;
    flags = 0;
    seg->copied = 1;
    warn(t, seg_off, "line break inside a segment dropped (lenient)");
    goto again;
  }
  seg->raw.ptr = s;
  seg->raw.len = (uint32_t)(end - s);
  seg->el[count].ptr = start;
  seg->el[count].len = (uint32_t)(end - start);
  count++;
  seg->count = count;
  seg->flags = flags;
  seg->trailing_empty = count > 1 && seg->el[count - 1].len == 0;
  if (!lenient && (flags & X12_SEG_NEWLINE)) {
    /* Data, not layout, in strict mode; keep line numbers honest. */
    for (uint32_t i = 0; i < seg->raw.len; i++)
      if (seg->raw.ptr[i] == '\n') t->line++;
  }
  return 0;
}

/* Checks the three delimiters are usable; returns 0 or an error code. */
static int check_delims(const struct x12_delimiters *d) {
  unsigned char term = d->terminator[0];
  if (is_alnum(d->element) || d->element == ' ') return X12_TOKE_ELEMENT_SEP;
  if (is_alnum(d->component) || d->component == ' ' ||
      d->component == d->element)
    return X12_TOKE_COMPONENT_SEP;
  if (d->terminator_len == 1 &&
      (is_alnum(term) || term == ' ' || term == d->element ||
       term == d->component))
    return X12_TOKE_TERMINATOR;
  return 0;
}

/* Reads an ISA at t->off: sets the delimiters and fills seg. */
static int read_isa(struct x12_tokenizer *t, struct x12_segment *seg) {
  const unsigned char *p = (const unsigned char *)t->buf + t->off;
  size_t avail = t->len - t->off;
  int lenient = (t->flags & X12_TOK_LENIENT) != 0;
  struct x12_delimiters d;
  size_t consumed; /* raw bytes of the ISA including its terminator */
  const char *isa_text;
  size_t isa_len; /* up to and including ISA16 */
  int fixed = 0;
  struct x12_pos start = here(t, t->off);

  memset(&d, 0, sizeof(d));
  if (avail < ISA_FIXED_LEN + 3 && !t->final) return X12_TOK_NEED_MORE;
  if (avail < 4)
    return fail(t, X12_TOKE_ISA_SHORT, t->off, "ISA ends after %zu bytes",
                avail);
  d.element = p[3];
  if (is_alnum(d.element) || is_blank(d.element))
    return fail(t, X12_TOKE_ELEMENT_SEP, t->off + 3,
                "ISA: invalid element separator 0x%02x at offset 3",
                d.element);
  if (avail >= ISA_FIXED_LEN) {
    fixed = 1;
    for (int i = 0; i < 16 && fixed; i++)
      if (p[isa_sep_pos[i]] != d.element) fixed = 0;
    for (int i = 0; i < 104 && fixed; i++)
      if ((p[i] == '\r' || p[i] == '\n')) fixed = 0;
  }
  if (fixed) {
    d.component = p[104];
    d.terminator_len = (uint8_t)utf8_len(p[105]);
    if (avail < 105 + (size_t)d.terminator_len)
      return fail(t, X12_TOKE_UNTERMINATED, t->off + 105,
                  "ISA: input ends inside the segment terminator");
    memcpy(d.terminator, p + 105, d.terminator_len);
    isa_text = (const char *)p;
    isa_len = 105;
    consumed = 105 + d.terminator_len;
  } else {
    if (!lenient) {
      size_t i;
      int seps = 0;
      for (i = 3; i < avail && seps < 16; i++)
        if (p[i] == d.element) seps++;
      if (seps < 16)
        return fail(t, X12_TOKE_ISA_SHORT, t->off,
                    "ISA has fewer than 16 elements (strict ISA)");
      return fail(t, X12_TOKE_ISA_LAYOUT, t->off,
                  "ISA is not fixed-width: separators not at offsets "
                  "3,6,...,103 (strict ISA; partner not marked lenient)");
    }
    /* Lenient: tokenize by the separator, dropping wrapped line breaks. */
    if (grow_scratch(t, 256) < 0)
      return fail(t, X12_TOKE_ISA_SHORT, t->off, "out of memory");
    size_t i = 0, k = 0;
    int seps = 0;
    for (i = 0; i < avail && seps < 16 && k < 200; i++) {
      if (p[i] == '\n') {
        t->line++;
        t->line_start = t->base + t->off + i + 1;
      }
      if (p[i] == '\r' || p[i] == '\n') continue;
      if (p[i] == d.element) seps++;
      t->scratch[k++] = (char)p[i];
    }
    while (i < avail && (p[i] == '\r' || p[i] == '\n')) {
      if (p[i] == '\n') {
        t->line++;
        t->line_start = t->base + t->off + i + 1;
      }
      i++;
    }
    if (seps < 16 || i + 1 >= avail)
      return fail(t, X12_TOKE_ISA_SHORT, t->off,
                  "ISA has fewer than 16 elements or ends early");
    d.component = p[i];
    t->scratch[k++] = (char)p[i];
    i++;
    d.terminator_len = (uint8_t)utf8_len(p[i]);
    if (i + d.terminator_len > avail)
      return fail(t, X12_TOKE_UNTERMINATED, t->off + i,
                  "ISA: input ends inside the segment terminator");
    memcpy(d.terminator, p + i, d.terminator_len);
    isa_text = t->scratch;
    isa_len = k;
    consumed = i + d.terminator_len;
    warn(t, t->off, "ISA is not fixed-width; tokenized by its separator "
                    "(lenient)");
  }
  int bad = check_delims(&d);
  if (bad)
    return fail(t, bad, t->off + (fixed ? (bad == X12_TOKE_TERMINATOR ? 105 : 104) : 0),
                "ISA: invalid %s",
                bad == X12_TOKE_TERMINATOR      ? "segment terminator"
                : bad == X12_TOKE_COMPONENT_SEP ? "component separator"
                                                : "element separator");
  t->delims = d;
  t->have_delims = 1;
  build_classes(t);
  seg->pos = start;
  if (split_segment(t, isa_text, isa_len, t->off, seg) < 0) return -1;
  if (seg->count != 17)
    return fail(t, X12_TOKE_ISA_SHORT, t->off,
                "ISA has %u elements, expected 16", seg->count - 1);
  /* Repetition separator: ISA11 when ISA12 >= 00402 and not alphanumeric
   * (partners on newer versions sometimes leave 'U' there). */
  struct x12_span v = seg->el[12], r = seg->el[11];
  if (v.len == 5 && memcmp(v.ptr, "00402", 5) >= 0 && r.len == 1 &&
      !is_alnum((unsigned char)r.ptr[0]) && r.ptr[0] != ' ' &&
      (unsigned char)r.ptr[0] != d.element &&
      (unsigned char)r.ptr[0] != d.component &&
      (unsigned char)r.ptr[0] != d.terminator[0]) {
    t->delims.repetition = (unsigned char)r.ptr[0];
    build_classes(t);
  }
  seg->is_isa = 1;
  t->segment_index++;
  t->off += consumed;
  if (d.terminator_len == 1 && d.terminator[0] == '\n') {
    t->line++;
    t->line_start = t->base + t->off;
  }
  skip_after_terminator(t);
  return X12_TOK_SEGMENT;
}

/* No terminator before the end of the window: wait for more input, or end
 * cleanly when only blanks are left, or fail. */
static int end_of_window(struct x12_tokenizer *t, const char *s, size_t avail) {
  if (!t->final) return X12_TOK_NEED_MORE;
  size_t i;
  for (i = 0; i < avail && is_blank((unsigned char)s[i]); i++) {
  }
  if (i == avail) {
    t->off = t->len;
    return X12_TOK_END;
  }
  return fail(t, X12_TOKE_UNTERMINATED, t->off,
              "input ends inside a segment (no segment terminator)");
}

int x12_tok_next(struct x12_tokenizer *t, struct x12_segment *seg) {
  const char *b = t->buf;

  if (t->error) return X12_TOK_ERROR;
  if (!t->started) {
    if (t->len - t->off < 3 && !t->final) return X12_TOK_NEED_MORE;
    if (t->len - t->off >= 3 && memcmp(b + t->off, "\xEF\xBB\xBF", 3) == 0)
      t->off += 3;
    t->started = 1;
  }
  if (!t->have_delims) {
    /* Leading whitespace before the first ISA (bots lstrips it too). */
    while (t->off < t->len && is_blank((unsigned char)b[t->off])) {
      if (b[t->off] == '\n') {
        t->line++;
        t->line_start = t->base + t->off + 1;
      }
      t->off++;
    }
  }
  else if (t->off < t->len &&
           (b[t->off] == '\n' || b[t->off] == '\r' || b[t->off] == ' ' ||
            b[t->off] == '\t'))
    skip_after_terminator(t); /* the window may have ended right after one
                                 (only these bytes are ever skipped) */
  size_t avail = t->len - t->off;
  if (avail == 0) return t->final ? X12_TOK_END : X12_TOK_NEED_MORE;
  if (avail < 3 && !t->final) return X12_TOK_NEED_MORE;
  if (avail >= 3 && b[t->off] == 'I' && b[t->off + 1] == 'S' &&
      b[t->off + 2] == 'A')
    return read_isa(t, seg);
  if (!t->have_delims)
    return fail(t, X12_TOKE_NO_ISA, t->off,
                "input does not start with an ISA segment");

  const char *s = b + t->off;
  if (t->delims.terminator_len == 1 && !(t->flags & X12_TOK_LENIENT)) {
    /* The hot path: one pass finds the terminator, splits the elements
     * and notes which byte classes occur. */
    const uint8_t *cls = t->cls;
    const char *p = s, *lim = b + t->len, *start = s;
    uint32_t count = 0;
    unsigned flags = 0;
#ifdef X12_TOK_SSE2
    /* 16 bytes per step: three compares give bit masks of the element
     * separators, the terminator and the "special" bytes (component and
     * repetition separators, control characters); elements are cut at the
     * set bits of the first mask below the terminator, and the few special
     * bytes are classified through the same table as the scalar loop. */
    const __m128i ve = _mm_set1_epi8((char)t->delims.element);
    const __m128i vt = _mm_set1_epi8((char)t->delims.terminator[0]);
    const __m128i vc = _mm_set1_epi8((char)t->delims.component);
    const __m128i vr = _mm_set1_epi8(
        (char)(t->delims.repetition ? t->delims.repetition
                                    : t->delims.component));
    const __m128i v1f = _mm_set1_epi8(0x1f), v7f = _mm_set1_epi8(0x7f);
    while (lim - p >= 16 && !(t->flags & X12_TOK_BYTEWISE)) {
      __m128i x = _mm_loadu_si128((const __m128i *)(const void *)p);
      unsigned me = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, ve));
      unsigned mt = (unsigned)_mm_movemask_epi8(_mm_cmpeq_epi8(x, vt));
      __m128i sp = _mm_or_si128(
          _mm_or_si128(_mm_cmpeq_epi8(x, vc), _mm_cmpeq_epi8(x, vr)),
          _mm_or_si128(_mm_cmpeq_epi8(_mm_min_epu8(x, v1f), x),
                       _mm_cmpeq_epi8(x, v7f)));
      unsigned ms = (unsigned)_mm_movemask_epi8(sp);
      if (mt) {
        unsigned below = (mt & (0u - mt)) - 1; /* bits before the first */
        me &= below;
        ms &= below;
      }
      ms &= ~me;
      while (ms) {
        /* table classes: element separator and terminator bytes are
         * classed 1 and CLS_TERM there and add no flag */
        flags |= cls[(unsigned char)p[__builtin_ctz(ms)]] & ~(1u | CLS_TERM);
        ms &= ms - 1;
      }
      while (me) {
        const char *q = p + __builtin_ctz(me);
        if (count >= X12_MAX_ELEMENTS - 1)
          return fail(t, X12_TOKE_TOO_MANY_ELEMENTS, t->off,
                      "segment has more than %d elements",
                      X12_MAX_ELEMENTS - 1);
        seg->el[count].ptr = start;
        seg->el[count].len = (uint32_t)(q - start);
        count++;
        start = q + 1;
        me &= me - 1;
      }
      if (mt) {
        p += __builtin_ctz(mt);
        goto found;
      }
      p += 16;
    }
#endif
    for (; p < lim; p++) {
      uint8_t k = cls[(unsigned char)*p];
      if (!k) continue;
      if (k & CLS_TERM) break;
      if (k & 1) {
        if (count >= X12_MAX_ELEMENTS - 1)
          return fail(t, X12_TOKE_TOO_MANY_ELEMENTS, t->off,
                      "segment has more than %d elements",
                      X12_MAX_ELEMENTS - 1);
        seg->el[count].ptr = start;
        seg->el[count].len = (uint32_t)(p - start);
        count++;
        start = p + 1;
      } else {
        flags |= k;
      }
    }
    if (p == lim) return end_of_window(t, s, avail);
#ifdef X12_TOK_SSE2
  found:;
#endif
    size_t n = (size_t)(p - s);
    seg->pos = here(t, t->off);
    seg->is_isa = 0;
    seg->copied = 0;
    seg->raw.ptr = s;
    seg->raw.len = (uint32_t)n;
    seg->el[count].ptr = start;
    seg->el[count].len = (uint32_t)(p - start);
    seg->count = ++count;
    seg->flags = flags;
    seg->trailing_empty = count > 1 && seg->el[count - 1].len == 0;
    if (flags & X12_SEG_NEWLINE)
      for (size_t i = 0; i < n; i++)
        if (s[i] == '\n') t->line++;
    t->segment_index++;
    t->off += n + 1;
    if (t->delims.terminator[0] == '\n') {
      t->line++;
      t->line_start = t->base + t->off;
    }
    if (t->off < t->len && (b[t->off] == '\r' || b[t->off] == '\n'))
      skip_after_terminator(t);
    return X12_TOK_SEGMENT;
  }

  /* Find the terminator. */
  const char *e;
  if (t->delims.terminator_len == 1) {
    e = memchr(s, t->delims.terminator[0], avail);
  } else {
    const char *q = s, *lim = b + t->len;
    e = NULL;
    while (q < lim && (q = memchr(q, t->delims.terminator[0],
                                  (size_t)(lim - q))) != NULL) {
      if ((size_t)(lim - q) >= t->delims.terminator_len &&
          memcmp(q, t->delims.terminator, t->delims.terminator_len) == 0) {
        e = q;
        break;
      }
      q++;
    }
  }
  if (!e) return end_of_window(t, s, avail);
  size_t n = (size_t)(e - s);
  seg->pos = here(t, t->off);
  seg->is_isa = 0;
  if (split_segment(t, s, n, t->off, seg) < 0) return X12_TOK_ERROR;
  t->segment_index++;
  t->off += n + t->delims.terminator_len;
  if (t->delims.terminator_len == 1 && t->delims.terminator[0] == '\n') {
    t->line++;
    t->line_start = t->base + t->off;
  }
  skip_after_terminator(t);
  return X12_TOK_SEGMENT;
}

struct x12_pos x12_element_pos(const struct x12_segment *seg, uint32_t index) {
  struct x12_pos p = seg->pos;
  if (index < seg->count && seg->el[index].ptr >= seg->raw.ptr &&
      seg->el[index].ptr <= seg->raw.ptr + seg->raw.len) {
    uint32_t d = (uint32_t)(seg->el[index].ptr - seg->raw.ptr);
    p.offset += d;
    p.column += d;
  }
  return p;
}

struct x12_span x12_span_part(struct x12_span s, unsigned char sep,
                              uint32_t index) {
  struct x12_span r = {s.ptr, 0};
  uint32_t i = 0, start = 0;
  for (uint32_t k = 0; k <= s.len; k++) {
    if (k == s.len || (unsigned char)s.ptr[k] == sep) {
      if (i == index) {
        r.ptr = s.ptr + start;
        r.len = k - start;
        return r;
      }
      i++;
      start = k + 1;
    }
  }
  r.ptr = s.ptr + s.len;
  return r;
}

uint32_t x12_span_parts(struct x12_span s, unsigned char sep) {
  uint32_t n = 1;
  if (!sep) return 1;
  for (uint32_t k = 0; k < s.len; k++)
    if ((unsigned char)s.ptr[k] == sep) n++;
  return n;
}

int x12_span_eq(struct x12_span s, const char *str) {
  size_t n = strlen(str);
  return s.len == n && memcmp(s.ptr, str, n) == 0;
}

void x12_span_copy(struct x12_span s, char *out, size_t size) {
  uint32_t n = s.len;
  if (!size) return;
  while (n > 0 && s.ptr[n - 1] == ' ') n--;
  if (n >= size) n = (uint32_t)(size - 1);
  if (n) memcpy(out, s.ptr, n);
  out[n] = '\0';
}
