/* core/state_store.h - durable per-instance key-value state and the
 * site-wide identity cross-reference, on one SQLite database.
 *
 * Backs the host table's kv_* and xref_* services (dray/host.h). Plugins keep
 * cursors, control numbers and billing state here; a value is acknowledged
 * (the call returns 0) only after SQLite committed it with synchronous=FULL
 * in WAL mode, so an acknowledged write survives a crash of the process and,
 * as far as the disk honours fsync, of the machine.
 *
 * Thread-safety: every function may be called from any thread on the same
 * handle; calls are serialized by one mutex around one connection. Error
 * text for a failed call is kept per calling thread (dray__state_errmsg).
 */
#ifndef DRAY_CORE_STATE_STORE_H
#define DRAY_CORE_STATE_STORE_H

#include <stddef.h>
#include <stdint.h>

typedef struct dray__state dray__state;

/* Opens the store at `path`, creating the file and its schema when absent
 * (WAL journal, synchronous=FULL, busy timeout, schema version kept in
 * PRAGMA user_version). Refuses a database written by a newer schema.
 * ":memory:" opens a private in-memory store (no durability; for one-shot
 * commands such as dray convert).
 * Caller owns the result (dray__state_close). Returns NULL with the reason,
 * naming the path, in err (err_size bytes; err may be NULL). */
dray__state *dray__state_open(const char *path, char *err, size_t err_size);

/* Finalizes the cached statements and closes the database; sets *self_p to
 * NULL. NULL or *self_p == NULL is a no-op. No call may be in progress. */
void dray__state_close(dray__state **self_p);

/* Value stored under (ns, key). ns is the instance name; keys of different
 * namespaces never meet. Returns 0 when found: the caller owns *value
 * (malloc'd, free with free()), which holds *len bytes followed by a NUL
 * byte so text values can be used as C strings; len may be NULL. Returns 1
 * when absent (*value set to NULL), -1 on error (dray__state_errmsg). */
int dray__state_get(dray__state *s, const char *ns, const char *key,
                    char **value, size_t *len);

/* Stores `len` bytes at `value` (binary-safe; copied) under (ns, key),
 * replacing any earlier value, and commits durably. Returns 0 or -1. */
int dray__state_put(dray__state *s, const char *ns, const char *key,
                    const void *value, size_t len);

/* Removes (ns, key). Removing an absent key succeeds. Returns 0 or -1. */
int dray__state_delete(dray__state *s, const char *ns, const char *key);

/* Atomically adds `delta` to the integer stored under (ns, key) (0 when
 * absent), commits the sum durably and returns it in *out: the source of
 * control numbers, so two callers never get the same value. The value is
 * kept as decimal text, so dray__state_get returns e.g. "42". Returns -1
 * (and changes nothing) if the stored value is not a decimal integer or the
 * sum would overflow int64. */
int dray__state_next(dray__state *s, const char *ns, const char *key,
                     int64_t delta, int64_t *out);

/* Records that `local_id` in `system` (e.g. "sap", "ups") is the canonical
 * id `canonical_id`, replacing an earlier mapping of the same pair. Site
 * wide: not namespaced by instance. Returns 0 or -1. */
int dray__state_xref_put(dray__state *s, const char *system,
                         const char *local_id, const char *canonical_id);

/* Canonical id of (system, local_id). Returns 0 when found (the caller owns
 * *canonical_id, free with free()), 1 when unknown (*canonical_id = NULL),
 * -1 on error. */
int dray__state_xref_get(dray__state *s, const char *system,
                         const char *local_id, char **canonical_id);

/* Text of the last error of a dray__state_* call on the calling thread
 * ("" if none). Valid until that thread's next failing call. `s` may be
 * NULL (e.g. after dray__state_open failed). */
const char *dray__state_errmsg(dray__state *s);

#endif
