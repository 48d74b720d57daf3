/* x12_json.h - the small JSON tree the mappings build canonical bodies in.
 *
 * Nodes live in a per-thread arena: building a body costs a pointer bump
 * per node instead of a malloc (and a hash table per object) as with a
 * json-c tree, and everything is dropped at once when the mapping of a set
 * is done (xj_mark / xj_reset). Objects keep their members in insertion
 * order; setting a key that is already there replaces its value in place
 * (json-c's behaviour, which the documented bodies rely on). A node may
 * be shared by two parents (it is never freed on its own).
 *
 * Out of memory: constructors return NULL, adding to a NULL parent does
 * nothing, a NULL value serializes as null, and xj_failed() reports it
 * until the next xj_mark().
 *
 * Not thread-safe across threads for one tree; each thread has its arena.
 */
#ifndef X12_JSON_H
#define X12_JSON_H

#include <stddef.h>

typedef struct xj xj;

/* Where the arena stands; xj_reset(mark) frees everything built since. */
typedef struct {
  void *chunk;
  size_t used;
} xj_mark_t;

xj_mark_t xj_mark(void);
void xj_reset(xj_mark_t mark);
/* Nonzero if an allocation failed since the last xj_mark(). */
int xj_failed(void);
/* Frees the calling thread's arena (for threads that exit). */
void xj_thread_release(void);

xj *xj_object(void);
xj *xj_array(void);
/* A string value; s is copied (n bytes; xj_string: NUL-terminated). */
xj *xj_string(const char *s);
xj *xj_stringn(const char *s, size_t n);
xj *xj_int(long long v);
/* A number written exactly as text (already in JSON number syntax). */
xj *xj_number(const char *text);
xj *xj_bool(int v);

/* Sets o[key] = v. key must outlive the tree (a string literal). */
void xj_set(xj *o, const char *key, xj *v);
/* The same with key copied into the arena. */
void xj_set_copy(xj *o, const char *key, xj *v);
/* 1 and *out (when out is non-NULL) if o has key, else 0. */
int xj_get(const xj *o, const char *key, xj **out);

void xj_push(xj *a, xj *v);
size_t xj_len(const xj *a);
xj *xj_at(const xj *a, size_t i);

/* The text of a string value ("" for anything else). */
const char *xj_str(const xj *v);

/* A growable output buffer (owned by the caller: free(d)). */
struct xj_out {
  char *d;
  size_t len, cap;
  int oom;
};
/* Appends v to b, compact, members in insertion order; b->oom is set when
 * the buffer cannot grow. */
void xj_write(struct xj_out *b, const xj *v);

#endif
