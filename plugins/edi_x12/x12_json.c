/* x12_json.c - see x12_json.h. */
#include "x12_json.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

enum { XJ_NULL = 0, XJ_BOOL, XJ_INT, XJ_NUMBER, XJ_STRING, XJ_OBJECT, XJ_ARRAY };

struct xj_member {
  const char *key;
  xj *val;
  struct xj_member *next;
};

struct xj {
  int type;
  union {
    int b;
    long long i;
    struct {
      const char *s;
      size_t len;
    } str;
    struct {
      struct xj_member *head, *tail;
    } obj;
    struct {
      xj **items;
      size_t n, cap;
    } arr;
  } u;
};

/* ------------------------------------------------------------------ */
/* arena: a stack of chunks; the first one is kept between sets         */

struct chunk {
  struct chunk *prev;
  size_t cap, used;
  _Alignas(16) char data[];
};

enum { CHUNK_MIN = 64 * 1024 };

static _Thread_local struct chunk *tl_top;
static _Thread_local int tl_failed;

xj_mark_t xj_mark(void) {
  xj_mark_t m = {tl_top, tl_top ? tl_top->used : 0};
  tl_failed = 0;
  return m;
}

void xj_reset(xj_mark_t m) {
  while (tl_top && tl_top != (struct chunk *)m.chunk) {
    struct chunk *c = tl_top;
    if (!c->prev && !m.chunk && c->cap == CHUNK_MIN) {
      c->used = 0; /* keep the first, common-sized chunk for the next set */
      return;
    }
    tl_top = c->prev;
    free(c);
  }
  if (tl_top) tl_top->used = m.used;
}

int xj_failed(void) { return tl_failed; }

void xj_thread_release(void) {
  while (tl_top) {
    struct chunk *c = tl_top;
    tl_top = c->prev;
    free(c);
  }
}

static void *alloc(size_t n) {
  n = (n + 15) & ~(size_t)15;
  struct chunk *c = tl_top;
  if (!c || c->cap - c->used < n) {
    size_t cap = n > CHUNK_MIN ? n : CHUNK_MIN;
    if (c && c->cap >= CHUNK_MIN && cap < c->cap * 2 && c->cap < (1u << 22))
      cap = c->cap * 2; /* big sets: fewer, larger chunks */
    struct chunk *k = malloc(sizeof(*k) + cap);
    if (!k) {
      tl_failed = 1;
      return NULL;
    }
    k->prev = c;
    k->cap = cap;
    k->used = 0;
    tl_top = c = k;
  }
  void *p = c->data + c->used;
  c->used += n;
  return p;
}

static xj *node(int type) {
  xj *v = alloc(sizeof(*v));
  if (v) {
    memset(v, 0, sizeof(*v));
    v->type = type;
  }
  return v;
}

xj *xj_object(void) { return node(XJ_OBJECT); }
xj *xj_array(void) { return node(XJ_ARRAY); }

xj *xj_stringn(const char *s, size_t n) {
  xj *v = node(XJ_STRING);
  char *t = v ? alloc(n + 1) : NULL;
  if (!t) return NULL;
  memcpy(t, s, n);
  t[n] = '\0';
  v->u.str.s = t;
  v->u.str.len = n;
  return v;
}

xj *xj_string(const char *s) { return xj_stringn(s, strlen(s)); }

xj *xj_int(long long i) {
  xj *v = node(XJ_INT);
  if (v) v->u.i = i;
  return v;
}

xj *xj_number(const char *text) {
  xj *v = xj_string(text);
  if (v) v->type = XJ_NUMBER;
  return v;
}

xj *xj_bool(int b) {
  xj *v = node(XJ_BOOL);
  if (v) v->u.b = b != 0;
  return v;
}

static struct xj_member *find(const xj *o, const char *key) {
  for (struct xj_member *m = o->u.obj.head; m; m = m->next)
    if (m->key == key || (m->key[0] == key[0] && strcmp(m->key, key) == 0))
      return m; /* literals: mostly the same pointer or another first byte */
  return NULL;
}

void xj_set(xj *o, const char *key, xj *v) {
  if (!o || o->type != XJ_OBJECT) return;
  struct xj_member *m = find(o, key);
  if (m) {
    m->val = v; /* replaced in place: the key keeps its position */
    return;
  }
  m = alloc(sizeof(*m));
  if (!m) return;
  m->key = key;
  m->val = v;
  m->next = NULL;
  if (o->u.obj.tail)
    o->u.obj.tail->next = m;
  else
    o->u.obj.head = m;
  o->u.obj.tail = m;
}

void xj_set_copy(xj *o, const char *key, xj *v) {
  if (!o || o->type != XJ_OBJECT) return;
  if (find(o, key)) {
    xj_set(o, key, v);
    return;
  }
  size_t n = strlen(key);
  char *k = alloc(n + 1);
  if (!k) return;
  memcpy(k, key, n + 1);
  xj_set(o, k, v);
}

int xj_get(const xj *o, const char *key, xj **out) {
  if (!o || o->type != XJ_OBJECT) return 0;
  struct xj_member *m = find(o, key);
  if (!m) return 0;
  if (out) *out = m->val;
  return 1;
}

void xj_push(xj *a, xj *v) {
  if (!a || a->type != XJ_ARRAY) return;
  if (a->u.arr.n == a->u.arr.cap) {
    size_t cap = a->u.arr.cap ? a->u.arr.cap * 2 : 4;
    xj **items = alloc(cap * sizeof(*items));
    if (!items) return;
    if (a->u.arr.n) memcpy(items, a->u.arr.items, a->u.arr.n * sizeof(*items));
    a->u.arr.items = items; /* the old block stays in the arena */
    a->u.arr.cap = cap;
  }
  a->u.arr.items[a->u.arr.n++] = v;
}

size_t xj_len(const xj *a) {
  return a && a->type == XJ_ARRAY ? a->u.arr.n : 0;
}

xj *xj_at(const xj *a, size_t i) {
  return a && a->type == XJ_ARRAY && i < a->u.arr.n ? a->u.arr.items[i] : NULL;
}

const char *xj_str(const xj *v) {
  return v && v->type == XJ_STRING ? v->u.str.s : "";
}

/* ------------------------------------------------------------------ */
/* serialization                                                        */

static int grow(struct xj_out *b, size_t n) {
  if (b->oom) return -1;
  size_t cap = b->cap ? b->cap : 8192;
  while (cap < b->len + n + 1) cap *= 2;
  char *d = realloc(b->d, cap);
  if (!d) {
    b->oom = 1;
    return -1;
  }
  b->d = d;
  b->cap = cap;
  return 0;
}

static inline void put(struct xj_out *b, const char *s, size_t n) {
  if (b->len + n + 1 > b->cap && grow(b, n) < 0) return;
  memcpy(b->d + b->len, s, n);
  b->len += n;
}

static inline void put1(struct xj_out *b, char c) {
  if (b->len + 2 > b->cap && grow(b, 1) < 0) return;
  b->d[b->len++] = c;
}

/* A JSON string: '"', '\\' and control characters escaped (\n \t \r by
 * name, others as \u00XX); everything else, UTF-8 included, as is. */
static void put_str(struct xj_out *b, const char *s, size_t n) {
  static const char hex[] = "0123456789abcdef";
  size_t start = 0;
  put1(b, '"');
  for (size_t i = 0; i < n; i++) {
    unsigned char c = (unsigned char)s[i];
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    put(b, s + start, i - start);
    char esc[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
    if (c == '"') put(b, "\\\"", 2);
    else if (c == '\\') put(b, "\\\\", 2);
    else if (c == '\n') put(b, "\\n", 2);
    else if (c == '\t') put(b, "\\t", 2);
    else if (c == '\r') put(b, "\\r", 2);
    else put(b, esc, 6);
    start = i + 1;
  }
  put(b, s + start, n - start);
  put1(b, '"');
}

static void put_int(struct xj_out *b, long long v) {
  char t[24];
  size_t k = sizeof(t);
  unsigned long long u = v < 0 ? 0ull - (unsigned long long)v
                               : (unsigned long long)v;
  do {
    t[--k] = (char)('0' + u % 10);
    u /= 10;
  } while (u);
  if (v < 0) t[--k] = '-';
  put(b, t + k, sizeof(t) - k);
}

void xj_write(struct xj_out *b, const xj *v) {
  if (!v) {
    put(b, "null", 4);
    return;
  }
  switch (v->type) {
  case XJ_BOOL:
    if (v->u.b) put(b, "true", 4);
    else put(b, "false", 5);
    break;
  case XJ_INT:
    put_int(b, v->u.i);
    break;
  case XJ_NUMBER:
    put(b, v->u.str.s, v->u.str.len);
    break;
  case XJ_STRING:
    put_str(b, v->u.str.s, v->u.str.len);
    break;
  case XJ_OBJECT:
    put1(b, '{');
    for (const struct xj_member *m = v->u.obj.head; m; m = m->next) {
      if (m != v->u.obj.head) put1(b, ',');
      put_str(b, m->key, strlen(m->key));
      put1(b, ':');
      xj_write(b, m->val);
    }
    put1(b, '}');
    break;
  case XJ_ARRAY:
    put1(b, '[');
    for (size_t i = 0; i < v->u.arr.n; i++) {
      if (i) put1(b, ',');
      xj_write(b, v->u.arr.items[i]);
    }
    put1(b, ']');
    break;
  default:
    put(b, "null", 4);
  }
  if (b->d) b->d[b->len] = '\0';
}
