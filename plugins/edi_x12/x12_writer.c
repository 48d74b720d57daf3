/* x12_writer.c - see x12_writer.h. */
#include "x12_writer.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void x12_default_delimiters(struct x12_delimiters *d) {
  memset(d, 0, sizeof(*d));
  d->element = '*';
  d->component = '>';
  d->repetition = '^';
  d->terminator[0] = '~';
  d->terminator_len = 1;
}

void x12w_init(struct x12_writer *w, const struct x12_delimiters *d,
               const char *after) {
  memset(w, 0, sizeof(*w));
  w->d = *d;
  w->after_terminator = after ? after : "";
}

void x12w_release(struct x12_writer *w) {
  free(w->data);
  memset(w, 0, sizeof(*w));
}

static int reserve(struct x12_writer *w, size_t more) {
  if (w->oom) return -1;
  if (w->len + more + 1 <= w->cap) return 0;
  size_t cap = w->cap ? w->cap : 1024;
  while (cap < w->len + more + 1) cap *= 2;
  char *p = realloc(w->data, cap);
  if (!p) {
    w->oom = 1;
    return -1;
  }
  w->data = p;
  w->cap = cap;
  return 0;
}

static void put(struct x12_writer *w, const char *s, size_t n) {
  if (reserve(w, n) < 0) return;
  memcpy(w->data + w->len, s, n);
  w->len += n;
  w->data[w->len] = '\0';
}

/* Delimiters and control characters never go into element data. */
static int is_delim(const struct x12_writer *w, unsigned char c) {
  return c < 0x20 || c == 0x7f || c == w->d.element || c == w->d.component ||
         (w->d.repetition && c == w->d.repetition) ||
         c == w->d.terminator[0] || c == '\r' || c == '\n';
}

void x12w_begin(struct x12_writer *w, const char *tag) {
  w->seg_start = w->len;
  put(w, tag, strlen(tag));
  w->last_nonempty = w->len;
}

/* Appends value with delimiters replaced by spaces. */
static void put_escaped(struct x12_writer *w, const char *value, size_t n) {
  if (!value || !n || reserve(w, n) < 0) return;
  for (size_t i = 0; i < n; i++)
    w->data[w->len + i] =
        is_delim(w, (unsigned char)value[i]) ? ' ' : value[i];
  w->len += n;
  w->data[w->len] = '\0';
  w->last_nonempty = w->len;
}

void x12w_eln(struct x12_writer *w, const char *value, size_t n) {
  char sep = (char)w->d.element;
  put(w, &sep, 1);
  put_escaped(w, value, n);
}

void x12w_el(struct x12_writer *w, const char *value) {
  x12w_eln(w, value, value ? strlen(value) : 0);
}

void x12w_elf(struct x12_writer *w, const char *fmt, ...) {
  char buf[256];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof(buf), fmt, ap);
  va_end(ap);
  if (n < 0) n = 0;
  if ((size_t)n >= sizeof(buf)) n = sizeof(buf) - 1;
  x12w_eln(w, buf, (size_t)n);
}

void x12w_comp(struct x12_writer *w, const char *value, int first) {
  if (first) {
    x12w_el(w, value);
    return;
  }
  char sep = (char)w->d.component;
  put(w, &sep, 1);
  w->last_nonempty = w->len;
  put_escaped(w, value, value ? strlen(value) : 0);
}

void x12w_end(struct x12_writer *w) {
  if (w->oom) return;
  w->len = w->last_nonempty; /* trim trailing empty elements */
  put(w, (const char *)w->d.terminator, w->d.terminator_len);
  put(w, w->after_terminator, strlen(w->after_terminator));
  w->set_segments++;
}

static void fixed(const struct x12_writer *w, char *out, const char *v,
                  size_t width, char pad) {
  size_t n = v ? strlen(v) : 0;
  if (n > width) n = width;
  for (size_t i = 0; i < n; i++)
    out[i] = is_delim(w, (unsigned char)v[i]) ? ' ' : v[i];
  memset(out + n, pad, width - n);
  out[width] = '\0';
}

void x12w_isa(struct x12_writer *w, const struct x12_isa_fields *f) {
  char f1[16], f2[16], f3[16], f4[16];
  char e = (char)w->d.element;
  char rep = f->version && strcmp(f->version, "00402") >= 0 &&
                     w->d.repetition
                 ? (char)w->d.repetition
                 : 'U';
  fixed(w, f1, f->sender_qual, 2, ' ');
  fixed(w, f2, f->sender_id, 15, ' ');
  fixed(w, f3, f->receiver_qual, 2, ' ');
  fixed(w, f4, f->receiver_id, 15, ' ');
  char isa[128];
  int n = snprintf(isa, sizeof(isa),
                   "ISA%c00%c          %c00%c          %c%s%c%s%c%s%c%s%c%.6s%c"
                   "%.4s%c%c%c%.5s%c%09ld%c%c%c%c%c%c",
                   e, e, e, e, e, f1, e, f2, e, f3, e, f4, e, f->date6, e,
                   f->time4, e, rep, e, f->version ? f->version : "00401", e,
                   f->control_number % 1000000000L, e,
                   f->ack_requested ? '1' : '0', e, f->usage ? f->usage : 'P',
                   e, (char)w->d.component);
  w->seg_start = w->len;
  put(w, isa, (size_t)n);
  w->last_nonempty = w->len;
  x12w_end(w);
}
