/* test_util.h - helpers shared by the sap_idoc unit tests: building flat
 * records from the definitions, reading fixtures. */
#ifndef SAP_IDOC_TEST_UTIL_H
#define SAP_IDOC_TEST_UTIL_H

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idoc.h"

/* A flat file under construction. */
struct tflat {
  char *p;
  size_t len, cap;
};

static inline void tf_put(struct tflat *f, const char *s, size_t n) {
  if (f->cap - f->len < n + 1) {
    f->cap = (f->cap + n + 1) * 2;
    f->p = realloc(f->p, f->cap);
  }
  memcpy(f->p + f->len, s, n);
  f->len += n;
  f->p[f->len] = 0;
}

/* Writes `v` at 1-based character column `col` of a record being built in
 * `line` (chars counted, UTF-8 aware: the record is kept as a char array of
 * up to 4 bytes each). */
struct trec {
  char cell[1064][5];
  int n; /* characters used */
};

static inline void tr_clear(struct trec *r) {
  for (int i = 0; i < 1064; i++) strcpy(r->cell[i], " ");
  r->n = 0;
}

static inline void tr_put(struct trec *r, int col, const char *v) {
  int c = col - 1;
  for (size_t i = 0; v[i];) {
    size_t k = 1;
    unsigned char b = (unsigned char)v[i];
    if (b >= 0xF0) k = 4;
    else if (b >= 0xE0) k = 3;
    else if (b >= 0xC0) k = 2;
    memcpy(r->cell[c], v + i, k);
    r->cell[c][k] = 0;
    i += k;
    c++;
  }
  if (c > r->n) r->n = c;
}

/* Appends the record; width < 0: right-trimmed, else padded to width. */
static inline void tr_emit(struct trec *r, struct tflat *f, int width,
                           const char *eol) {
  int n = width < 0 ? r->n : width;
  for (int i = 0; i < n; i++) tf_put(f, r->cell[i], strlen(r->cell[i]));
  tf_put(f, eol, strlen(eol));
}

static inline void tr_dc40(struct tflat *f, const char *idoctyp,
                           const char *cimtyp, const char *mestyp,
                           const char *docnum, const char *eol) {
  struct trec r;
  tr_clear(&r);
  tr_put(&r, 1, "EDI_DC40");
  tr_put(&r, 11, "100");
  tr_put(&r, 14, docnum);
  tr_put(&r, 30, "750");
  tr_put(&r, 36, "2");
  tr_put(&r, 40, idoctyp);
  if (cimtyp) tr_put(&r, 70, cimtyp);
  tr_put(&r, 100, mestyp);
  tr_put(&r, 149, "SAPPRD");
  tr_put(&r, 159, "LS");
  tr_put(&r, 163, "PRDCLNT100");
  tr_put(&r, 264, "DRAY");
  tr_put(&r, 274, "LS");
  tr_put(&r, 278, "DRAY");
  tr_put(&r, 379, "20240514");
  tr_put(&r, 387, "083211");
  tr_emit(&r, f, 524, eol);
}

/* Starts a data record: name as written (E2...), numbers as given (NULL
 * leaves them blank). */
static inline void tr_dd40(struct trec *r, const char *segnam,
                           const char *docnum, const char *segnum,
                           const char *psgnum, const char *hlevel) {
  tr_clear(r);
  tr_put(r, 1, segnam);
  tr_put(r, 31, "100");
  if (docnum) tr_put(r, 34, docnum);
  if (segnum) tr_put(r, 50, segnum);
  if (psgnum) tr_put(r, 56, psgnum);
  if (hlevel) tr_put(r, 62, hlevel);
}

/* Puts field `name` of segment type `seg` at the column the definitions
 * give. */
static inline void tr_field(struct trec *r, const struct idoc_type *t,
                            const char *seg, const char *name,
                            const char *v) {
  const struct idoc_segdef *d = idoc_type_seg(t, seg, strlen(seg));
  if (!d) {
    fprintf(stderr, "test: no segment %s\n", seg);
    abort();
  }
  int fi = idoc_seg_field(d, name, strlen(name));
  if (fi < 0) {
    fprintf(stderr, "test: no field %s-%s\n", seg, name);
    abort();
  }
  tr_put(r, d->fields[fi].first, v);
}

static inline char *read_whole(const char *path, size_t *len) {
  FILE *f = fopen(path, "rb");
  if (!f) return NULL;
  fseek(f, 0, SEEK_END);
  long n = ftell(f);
  fseek(f, 0, SEEK_SET);
  char *p = malloc((size_t)n + 1);
  *len = fread(p, 1, (size_t)n, f);
  p[*len] = 0;
  fclose(f);
  return p;
}

#endif
