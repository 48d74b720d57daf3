/* idoc_set.c - the in-memory form of decoded or built IDocs: documents with
 * their control record, segments in document order linked into a tree, and
 * field values; all strings live in one chunked arena owned by the set so a
 * decode allocates a handful of times, not once per field.
 */
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "idoc.h"

/* EDI_DC40, SAP's control record (524 characters). */
const struct idoc_dcdef idoc_dc40[DC_COUNT] = {
    {"TABNAM", 1, 10},    {"MANDT", 11, 3},     {"DOCNUM", 14, 16},
    {"DOCREL", 30, 4},    {"STATUS", 34, 2},    {"DIRECT", 36, 1},
    {"OUTMOD", 37, 1},    {"EXPRSS", 38, 1},    {"TEST", 39, 1},
    {"IDOCTYP", 40, 30},  {"CIMTYP", 70, 30},   {"MESTYP", 100, 30},
    {"MESCOD", 130, 3},   {"MESFCT", 133, 3},   {"STD", 136, 1},
    {"STDVRS", 137, 6},   {"STDMES", 143, 6},   {"SNDPOR", 149, 10},
    {"SNDPRT", 159, 2},   {"SNDPFC", 161, 2},   {"SNDPRN", 163, 10},
    {"SNDSAD", 173, 21},  {"SNDLAD", 194, 70},  {"RCVPOR", 264, 10},
    {"RCVPRT", 274, 2},   {"RCVPFC", 276, 2},   {"RCVPRN", 278, 10},
    {"RCVSAD", 288, 21},  {"RCVLAD", 309, 70},  {"CREDAT", 379, 8},
    {"CRETIM", 387, 6},   {"REFINT", 393, 14},  {"REFGRP", 407, 14},
    {"REFMES", 421, 14},  {"ARCKEY", 435, 70},  {"SERIAL", 505, 20}};

int idoc_dc_field(const char *name, size_t len) {
  for (int i = 0; i < DC_COUNT; i++)
    if (strlen(idoc_dc40[i].name) == len &&
        memcmp(idoc_dc40[i].name, name, len) == 0)
      return i;
  return -1;
}

idoc_set *idoc_set_new(void) {
  return calloc(1, sizeof(idoc_set));
}

void idoc_set_destroy(idoc_set **self_p) {
  if (!self_p || !*self_p) return;
  idoc_set *s = *self_p;
  free(s->docs);
  free(s->segs);
  free(s->values);
  struct idoc_chunk *c = s->arena;
  while (c) {
    struct idoc_chunk *n = c->next;
    free(c);
    c = n;
  }
  free(s);
  *self_p = NULL;
}

/* Large arrays and arena chunks: plain malloc. (They were 2 MiB aligned
 * and marked MADV_HUGEPAGE; with the kernel's usual defrag=madvise that
 * makes a page fault compact memory on the spot: a fresh set cost 20-30 %
 * more, erratically, than with ordinary pages.) */
static void *big_alloc(size_t size) { return malloc(size); }

static void *reserve(void *old, size_t used, size_t size) {
  if (old) return realloc(old, size);
  (void)used;
  return big_alloc(size);
}

int idoc_set_reserve(idoc_set *set, size_t segs, size_t values,
                     size_t bytes) {
  /* untouched capacity costs address space only, no page faults */
  if (segs > set->segs_cap) {
    void *n = reserve(set->segs, set->nsegs, segs * sizeof *set->segs);
    if (!n) return -1;
    set->segs = n;
    set->segs_cap = segs;
  }
  if (values > set->values_cap) {
    void *n = reserve(set->values, set->nvalues, values * sizeof *set->values);
    if (!n) return -1;
    set->values = n;
    set->values_cap = values;
  }
  if (bytes > set->chunk_hint) set->chunk_hint = bytes;
  return 0;
}

void idoc_set_reset(idoc_set *set) {
  /* keep the largest arena chunk, emptied; free the others */
  struct idoc_chunk *keep = NULL, *c = set->arena;
  while (c) {
    struct idoc_chunk *n = c->next;
    if (!keep || c->size > keep->size) {
      if (keep) free(keep);
      keep = c;
    } else {
      free(c);
    }
    c = n;
  }
  if (keep) {
    keep->used = 0;
    keep->next = NULL;
  }
  set->arena = keep;
  set->ndocs = set->nsegs = set->nvalues = 0;
  set->root = NULL;
  set->chunk_hint = 0;
}

size_t idoc_set_footprint(const idoc_set *set) {
  size_t n = set->docs_cap * sizeof *set->docs +
             set->segs_cap * sizeof *set->segs +
             set->values_cap * sizeof *set->values;
  for (const struct idoc_chunk *c = set->arena; c; c = c->next)
    n += sizeof *c + c->size;
  return n;
}

const char *idoc_set_strdup(idoc_set *set, const char *s, size_t len) {
  struct idoc_chunk *c = set->arena;
  if (!c || c->size - c->used < len + 1) {
    size_t size = set->chunk_hint > 60000 ? set->chunk_hint : 60000;
    if (size < len + 1) size = len + 1;
    set->chunk_hint = 0; /* only the first chunk is sized by the hint */
    c = big_alloc(sizeof *c + size);
    if (!c) return NULL;
    c->size = size;
    c->used = 0;
    c->next = set->arena;
    set->arena = c;
  }
  char *p = c->data + c->used;
  if (len) memcpy(p, s, len);
  p[len] = 0;
  c->used += len + 1;
  return p;
}

#define GROW(arr, n, cap)                                        \
  do {                                                           \
    if ((n) == (cap)) {                                          \
      size_t ncap_ = (cap) ? (cap) * 2 : 64;                     \
      void *np_ = realloc((arr), ncap_ * sizeof *(arr));         \
      if (!np_) return -1;                                       \
      (arr) = np_;                                               \
      (cap) = ncap_;                                             \
    }                                                            \
  } while (0)

int idoc_set_add_doc(idoc_set *set, const struct idoc_type *type) {
  GROW(set->docs, set->ndocs, set->docs_cap);
  struct idoc_doc *d = &set->docs[set->ndocs];
  memset(d, 0, sizeof *d);
  d->type = type;
  d->first_top = d->last_top = -1;
  d->first_seg = (uint32_t)set->nsegs;
  return (int)set->ndocs++;
}

int idoc_set_add_seg(idoc_set *set, int doc, int parent, const char *type,
                     const struct idoc_segdef *def) {
  GROW(set->segs, set->nsegs, set->segs_cap);
  int idx = (int)set->nsegs;
  struct idoc_doc *d = &set->docs[doc];
  struct idoc_segment *s = &set->segs[idx];
  memset(s, 0, sizeof *s);
  s->def = def;
  s->type = def ? def->type : idoc_set_strdup(set, type, strlen(type));
  if (!s->type) return -1;
  s->parent = parent;
  s->first_child = s->last_child = s->next_sibling = -1;
  s->first_value = s->last_value = -1;
  s->segnum = d->nsegs + 1;
  if (parent >= 0) {
    struct idoc_segment *p = &set->segs[parent];
    if (p->last_child >= 0) set->segs[p->last_child].next_sibling = idx;
    else p->first_child = idx;
    p->last_child = idx;
  } else {
    if (d->last_top >= 0) set->segs[d->last_top].next_sibling = idx;
    else d->first_top = idx;
    d->last_top = idx;
  }
  d->nsegs++;
  set->nsegs++;
  return idx;
}


int idoc_seg_append(idoc_set *set, int seg, const char *name, const char *val,
                    size_t len) {
  const char *copy = idoc_set_strdup(set, val, len);
  if (!copy) return -1;
  return idoc_seg_append_owned(set, seg, name, copy, len);
}

int idoc_set_grow_values(idoc_set *set) {
  GROW(set->values, set->nvalues, set->values_cap);
  return 0;
}

int idoc_seg_set(idoc_set *set, int seg, const char *name, const char *val,
                 size_t len) {
  if (!val || !len) return 0;
  struct idoc_segment *s = &set->segs[seg];
  for (int i = s->first_value; i >= 0; i = set->values[i].v.next)
    if (!strcmp(set->values[i].name, name)) {
      const char *copy = idoc_set_strdup(set, val, len);
      if (!copy) return -1;
      set->values[i].v.p = copy;
      set->values[i].v.len = (uint32_t)len;
      return 0;
    }
  const char *nm = NULL;
  if (s->def) {
    int f = idoc_seg_field(s->def, name, strlen(name));
    if (f >= 0) nm = s->def->fields[f].name;
  }
  if (!nm) nm = idoc_set_strdup(set, name, strlen(name));
  if (!nm) return -1;
  return idoc_seg_append(set, seg, nm, val, len);
}

int idoc_seg_setf(idoc_set *set, int seg, const char *name, const char *fmt,
                  ...) {
  char buf[1024];
  va_list ap;
  va_start(ap, fmt);
  int n = vsnprintf(buf, sizeof buf, fmt, ap);
  va_end(ap);
  if (n < 0) return -1;
  if ((size_t)n >= sizeof buf) n = sizeof buf - 1;
  return idoc_seg_set(set, seg, name, buf, (size_t)n);
}

int idoc_doc_set_dc(idoc_set *set, int doc, int field, const char *val) {
  size_t len = val ? strlen(val) : 0;
  if (!len) {
    set->docs[doc].dc[field].p = NULL;
    set->docs[doc].dc[field].len = 0;
    return 0;
  }
  const char *copy = idoc_set_strdup(set, val, len);
  if (!copy) return -1;
  set->docs[doc].dc[field].p = copy;
  set->docs[doc].dc[field].len = (uint32_t)len;
  return 0;
}

const struct idoc_str *idoc_seg_get(const idoc_set *set, int seg,
                                    const char *name) {
  if (seg < 0) return NULL;
  for (int i = set->segs[seg].first_value; i >= 0; i = set->values[i].v.next)
    if (!strcmp(set->values[i].name, name)) return &set->values[i].v;
  return NULL;
}

const char *idoc_seg_str(const idoc_set *set, int seg, const char *name) {
  const struct idoc_str *v = idoc_seg_get(set, seg, name);
  return v && v->p ? v->p : "";
}

const char *idoc_doc_dc(const idoc_set *set, int doc, int field) {
  const struct idoc_str *v = &set->docs[doc].dc[field];
  return v->p ? v->p : "";
}

int idoc_find_child(const idoc_set *set, int doc, int seg, const char *type,
                    int after) {
  int i;
  if (after >= 0)
    i = set->segs[after].next_sibling;
  else
    i = seg >= 0 ? set->segs[seg].first_child : set->docs[doc].first_top;
  for (; i >= 0; i = set->segs[i].next_sibling)
    if (!strcmp(set->segs[i].type, type)) return i;
  return -1;
}

size_t idoc_utf8_chars(const char *s, size_t len) {
  size_t n = 0;
  for (size_t i = 0; i < len; i++)
    if (((unsigned char)s[i] & 0xC0) != 0x80) n++;
  return n;
}

int idoc_buf_put(struct idoc_buf *b, const void *data, size_t len) {
  if (b->cap - b->len < len + 1) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap - b->len < len + 1) cap *= 2;
    char *n = realloc(b->p, cap);
    if (!n) return -1;
    b->p = n;
    b->cap = cap;
  }
  memcpy(b->p + b->len, data, len);
  b->len += len;
  b->p[b->len] = 0;
  return 0;
}

int idoc_buf_fill(struct idoc_buf *b, char c, size_t n) {
  if (b->cap - b->len < n + 1) {
    size_t cap = b->cap ? b->cap : 4096;
    while (cap - b->len < n + 1) cap *= 2;
    char *p = realloc(b->p, cap);
    if (!p) return -1;
    b->p = p;
    b->cap = cap;
  }
  memset(b->p + b->len, c, n);
  b->len += n;
  b->p[b->len] = 0;
  return 0;
}

/* Stable insertion sort of one sibling list by definition index. */
static int sort_list(idoc_set *set, int first, int *last_out) {
  int sorted = -1, tail = -1;
  for (int c = first; c >= 0;) {
    int next = set->segs[c].next_sibling;
    int key = set->segs[c].def ? set->segs[c].def->index : INT32_MAX;
    /* insert c after the last element with index <= key */
    int prev = -1, cur = sorted;
    while (cur >= 0) {
      int ck = set->segs[cur].def ? set->segs[cur].def->index : INT32_MAX;
      if (ck > key) break;
      prev = cur;
      cur = set->segs[cur].next_sibling;
    }
    set->segs[c].next_sibling = cur;
    if (prev < 0) sorted = c;
    else set->segs[prev].next_sibling = c;
    if (cur < 0) tail = c;
    c = next;
  }
  *last_out = tail;
  return sorted;
}

void idoc_set_sort(idoc_set *set) {
  for (size_t d = 0; d < set->ndocs; d++) {
    struct idoc_doc *doc = &set->docs[d];
    doc->first_top = sort_list(set, doc->first_top, &doc->last_top);
  }
  for (size_t i = 0; i < set->nsegs; i++) {
    struct idoc_segment *s = &set->segs[i];
    if (s->first_child >= 0)
      s->first_child = sort_list(set, s->first_child, &s->last_child);
  }
}
