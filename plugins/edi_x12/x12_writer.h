/* x12_writer.h - builds X12 text: segments with configurable delimiters,
 * a fixed-width ISA, counts for SE. Used by the encoder and the ack
 * generator. Values are written as given; a delimiter inside a value is
 * replaced by a space (X12 has no escape), and trailing empty elements are
 * trimmed ("N1*ST*X**~" is written "N1*ST*X~").
 */
#ifndef X12_WRITER_H
#define X12_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "x12_tokenizer.h"

struct x12_writer {
  char *data; /* owned; NUL-terminated */
  size_t len;
  size_t cap;
  struct x12_delimiters d;
  const char *after_terminator; /* e.g. "\n" or "" */
  size_t seg_start;     /* offset of the open segment */
  size_t last_nonempty; /* end of the last non-empty element */
  uint32_t set_segments; /* segments since ST (ST counted) */
  int oom;
};

/* d: delimiters to write with; after: text after each terminator. */
void x12w_init(struct x12_writer *w, const struct x12_delimiters *d,
               const char *after);
void x12w_release(struct x12_writer *w);
void x12w_begin(struct x12_writer *w, const char *tag);
/* Next element (NULL or "" for empty). */
void x12w_el(struct x12_writer *w, const char *value);
void x12w_eln(struct x12_writer *w, const char *value, size_t len);
void x12w_elf(struct x12_writer *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
/* Appends a component to the current element (separator first unless it
 * is the element's first component). */
void x12w_comp(struct x12_writer *w, const char *value, int first);
void x12w_end(struct x12_writer *w);

/* Writes a fixed-width ISA. ids are padded/truncated to width. */
struct x12_isa_fields {
  const char *sender_qual, *sender_id, *receiver_qual, *receiver_id;
  const char *date6, *time4; /* YYMMDD, HHMM */
  const char *version;       /* "00401" / "00501" */
  long control_number;
  int ack_requested;
  char usage; /* P or T */
};
void x12w_isa(struct x12_writer *w, const struct x12_isa_fields *f);

/* Default delimiters: '*', '>', '~', repetition '^' (00501 only). */
void x12_default_delimiters(struct x12_delimiters *d);

#endif
