/* core/state_store.c - durable per-instance key-value state and identity
 * cross-reference on SQLite (see state_store.h for the contract).
 *
 * One connection, guarded by one mutex, with every statement prepared once
 * at open. The calls are short (one indexed row), so a single writer
 * serialized in-process costs less than a connection pool would, and it
 * makes dray__state_next trivially atomic within the process; BEGIN
 * IMMEDIATE additionally makes it atomic against another process that opens
 * the same file (the busy timeout then waits for the other writer).
 *
 * Durability: WAL with synchronous=FULL fsyncs the WAL on every commit, so a
 * call that returned 0 is on disk. A process killed at any point leaves a
 * WAL whose committed frames SQLite replays on the next open.
 */
#include "state_store.h"

#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sqlite3.h>

/* Schema version stored in PRAGMA user_version. Bump it and add a
 * migration step in migrate() when the tables change. */
#define STATE_SCHEMA_VERSION 1

/* How long a call waits for another process's write lock on the file. */
#define STATE_BUSY_TIMEOUT_MS 5000

enum stmt_id {
  STMT_BEGIN,
  STMT_COMMIT,
  STMT_ROLLBACK,
  STMT_KV_GET,
  STMT_KV_PUT,
  STMT_KV_DELETE,
  STMT_XREF_PUT,
  STMT_XREF_GET,
  STMT_COUNT
};

static const char *const stmt_sql[STMT_COUNT] = {
    [STMT_BEGIN] = "BEGIN IMMEDIATE",
    [STMT_COMMIT] = "COMMIT",
    [STMT_ROLLBACK] = "ROLLBACK",
    [STMT_KV_GET] = "SELECT value FROM kv WHERE ns = ?1 AND key = ?2",
    [STMT_KV_PUT] = "INSERT INTO kv(ns, key, value) VALUES (?1, ?2, ?3) "
                    "ON CONFLICT(ns, key) DO UPDATE SET value = excluded.value",
    [STMT_KV_DELETE] = "DELETE FROM kv WHERE ns = ?1 AND key = ?2",
    [STMT_XREF_PUT] =
        "INSERT INTO xref(system, local_id, canonical_id, updated_ms) "
        "VALUES (?1, ?2, ?3, CAST((julianday('now') - 2440587.5) * 86400000 "
        "AS INTEGER)) ON CONFLICT(system, local_id) DO UPDATE SET "
        "canonical_id = excluded.canonical_id, updated_ms = excluded.updated_ms",
    [STMT_XREF_GET] =
        "SELECT canonical_id FROM xref WHERE system = ?1 AND local_id = ?2",
};

/* Version 1: kv holds opaque values (BLOB, so NUL bytes survive); xref maps
 * a system's local id to the canonical id, with an index for the reverse
 * lookup a later version will offer. WITHOUT ROWID: the primary key is the
 * only access path. */
static const char schema_v1[] =
    "CREATE TABLE kv ("
    "  ns TEXT NOT NULL,"
    "  key TEXT NOT NULL,"
    "  value BLOB NOT NULL,"
    "  PRIMARY KEY (ns, key)"
    ") WITHOUT ROWID;"
    "CREATE TABLE xref ("
    "  system TEXT NOT NULL,"
    "  local_id TEXT NOT NULL,"
    "  canonical_id TEXT NOT NULL,"
    "  updated_ms INTEGER NOT NULL,"
    "  PRIMARY KEY (system, local_id)"
    ") WITHOUT ROWID;"
    "CREATE INDEX xref_by_canonical ON xref(canonical_id);"
    "PRAGMA user_version = 1;";

struct dray__state {
  sqlite3 *db;
  pthread_mutex_t lock; /* guards db and every cached statement */
  sqlite3_stmt *stmt[STMT_COUNT];
  char *path; /* for error messages */
};

/* Last error of a failed call, per thread: two plugin threads failing at
 * once each read their own text. */
static _Thread_local char tls_errmsg[512];

static void set_err(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static void set_err(const char *fmt, ...) {
  va_list ap;
  va_start(ap, fmt);
  vsnprintf(tls_errmsg, sizeof tls_errmsg, fmt, ap);
  va_end(ap);
}

/* Records SQLite's reason for the failure of `what`; call with the lock
 * held so errmsg belongs to this call. */
static void set_db_err(dray__state *s, const char *what) {
  set_err("state store %s: %s: %s", s->path, what, sqlite3_errmsg(s->db));
}

static int check_name(const char *what, const char *value) {
  if (value == NULL || value[0] == '\0') {
    set_err("state store: %s must be a non-empty string", what);
    return -1;
  }
  return 0;
}

/* Runs a cached statement that returns no row. Lock held. */
static int exec_stmt(dray__state *s, enum stmt_id id, const char *what) {
  sqlite3_stmt *st = s->stmt[id];
  int rc = sqlite3_step(st);
  if (rc != SQLITE_DONE) set_db_err(s, what); /* before reset clears it */
  sqlite3_reset(st);
  return rc == SQLITE_DONE ? 0 : -1;
}

static int exec_sql(sqlite3 *db, const char *path, const char *sql,
                    char *err, size_t err_size) {
  char *msg = NULL;
  if (sqlite3_exec(db, sql, NULL, NULL, &msg) != SQLITE_OK) {
    if (err != NULL && err_size > 0)
      snprintf(err, err_size, "state store %s: %s", path,
               msg != NULL ? msg : sqlite3_errmsg(db));
    sqlite3_free(msg);
    return -1;
  }
  return 0;
}

/* Single-integer pragma query (user_version). */
static int pragma_int(sqlite3 *db, const char *sql, int *out) {
  sqlite3_stmt *st = NULL;
  int rc = sqlite3_prepare_v2(db, sql, -1, &st, NULL);
  if (rc == SQLITE_OK) {
    rc = sqlite3_step(st);
    if (rc == SQLITE_ROW) {
      *out = sqlite3_column_int(st, 0);
      rc = SQLITE_OK;
    }
  }
  sqlite3_finalize(st);
  return rc == SQLITE_OK ? 0 : -1;
}

/* Creates or upgrades the schema inside one write transaction, so two
 * processes opening a new file at once do not both create it. */
static int migrate(sqlite3 *db, const char *path, char *err, size_t err_size) {
  int version = 0;
  if (exec_sql(db, path, "BEGIN IMMEDIATE", err, err_size) != 0) return -1;
  if (pragma_int(db, "PRAGMA user_version", &version) != 0) {
    if (err != NULL && err_size > 0)
      snprintf(err, err_size, "state store %s: reading user_version: %s",
               path, sqlite3_errmsg(db));
    goto out_rollback;
  }
  if (version > STATE_SCHEMA_VERSION) {
    if (err != NULL && err_size > 0)
      snprintf(err, err_size,
               "state store %s: schema version %d is newer than this build "
               "understands (%d); refusing to open it",
               path, version, STATE_SCHEMA_VERSION);
    goto out_rollback;
  }
  if (version < 1 && exec_sql(db, path, schema_v1, err, err_size) != 0)
    goto out_rollback;
  if (exec_sql(db, path, "COMMIT", err, err_size) != 0) goto out_rollback;
  return 0;

out_rollback:
  sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
  return -1;
}

dray__state *dray__state_open(const char *path, char *err, size_t err_size) {
  dray__state *s = NULL;
  sqlite3 *db = NULL;
  int rc;

  if (err != NULL && err_size > 0) err[0] = '\0';
  if (path == NULL || path[0] == '\0') {
    if (err != NULL && err_size > 0)
      snprintf(err, err_size, "state store: empty path");
    return NULL;
  }
  /* NOMUTEX: our own mutex serializes every use of the connection. */
  rc = sqlite3_open_v2(path, &db,
                       SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE |
                           SQLITE_OPEN_NOMUTEX,
                       NULL);
  if (rc != SQLITE_OK) {
    if (err != NULL && err_size > 0)
      snprintf(err, err_size, "state store %s: cannot open: %s", path,
               db != NULL ? sqlite3_errmsg(db) : sqlite3_errstr(rc));
    goto out_close_db;
  }
  sqlite3_extended_result_codes(db, 1);
  sqlite3_busy_timeout(db, STATE_BUSY_TIMEOUT_MS);

  /* journal_mode answers with the mode in force: anything but "wal" (a
   * file system without shared memory support, say) is refused rather
   * than silently running with weaker guarantees. This is also the first
   * read of the file, so "not a database" surfaces here. */
  {
    sqlite3_stmt *st = NULL;
    const unsigned char *mode = NULL;
    rc = sqlite3_prepare_v2(db, "PRAGMA journal_mode = WAL", -1, &st, NULL);
    if (rc == SQLITE_OK && sqlite3_step(st) == SQLITE_ROW)
      mode = sqlite3_column_text(st, 0);
    /* ":memory:" (dray convert without --data-dir) is deliberately not
     * durable and answers "memory". */
    int in_memory = strcmp(path, ":memory:") == 0 && mode != NULL &&
                    strcmp((const char *)mode, "memory") == 0;
    if (!in_memory &&
        (mode == NULL || strcmp((const char *)mode, "wal") != 0)) {
      if (err != NULL && err_size > 0)
        snprintf(err, err_size,
                 "state store %s: cannot enable WAL journal mode: %s", path,
                 mode != NULL ? (const char *)mode : sqlite3_errmsg(db));
      sqlite3_finalize(st);
      goto out_close_db;
    }
    sqlite3_finalize(st);
  }
  if (exec_sql(db, path, "PRAGMA synchronous = FULL", err, err_size) != 0)
    goto out_close_db;
  if (migrate(db, path, err, err_size) != 0) goto out_close_db;

  s = calloc(1, sizeof *s);
  if (s == NULL) goto out_oom;
  s->path = strdup(path);
  if (s->path == NULL) goto out_oom;
  if (pthread_mutex_init(&s->lock, NULL) != 0) goto out_oom;
  s->db = db;
  for (int i = 0; i < STMT_COUNT; i++) {
    /* PERSISTENT: these live as long as the handle. */
    rc = sqlite3_prepare_v3(db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
                            &s->stmt[i], NULL);
    if (rc != SQLITE_OK) {
      if (err != NULL && err_size > 0)
        snprintf(err, err_size, "state store %s: preparing \"%s\": %s", path,
                 stmt_sql[i], sqlite3_errmsg(db));
      dray__state_close(&s);
      return NULL;
    }
  }
  return s;

out_oom:
  if (err != NULL && err_size > 0)
    snprintf(err, err_size, "state store %s: out of memory", path);
  if (s != NULL) free(s->path);
  free(s);
out_close_db:
  sqlite3_close_v2(db);
  return NULL;
}

void dray__state_close(dray__state **self_p) {
  if (self_p == NULL || *self_p == NULL) return;
  dray__state *s = *self_p;
  for (int i = 0; i < STMT_COUNT; i++) sqlite3_finalize(s->stmt[i]);
  /* Closing the last connection checkpoints the WAL into the database. */
  sqlite3_close_v2(s->db);
  pthread_mutex_destroy(&s->lock);
  free(s->path);
  free(s);
  *self_p = NULL;
}

/* Binds (a, b) as ?1, ?2 of a cached statement. Lock held. */
static int bind_pair(dray__state *s, sqlite3_stmt *st, const char *a,
                     const char *b) {
  if (sqlite3_bind_text(st, 1, a, -1, SQLITE_STATIC) != SQLITE_OK ||
      sqlite3_bind_text(st, 2, b, -1, SQLITE_STATIC) != SQLITE_OK) {
    set_db_err(s, "binding parameters");
    return -1;
  }
  return 0;
}

/* Copies a column into a new NUL-terminated buffer owned by the caller. */
static char *copy_column(sqlite3_stmt *st, int col, size_t *len) {
  const void *data = sqlite3_column_blob(st, col);
  size_t n = (size_t)sqlite3_column_bytes(st, col);
  char *copy = malloc(n + 1);
  if (copy == NULL) return NULL;
  if (n > 0) memcpy(copy, data, n);
  copy[n] = '\0';
  if (len != NULL) *len = n;
  return copy;
}

/* Looks up one row of a two-key SELECT and copies its first column. Lock
 * held. Returns 0 found, 1 absent, -1 error. */
static int lookup(dray__state *s, enum stmt_id id, const char *a,
                  const char *b, char **value, size_t *len, const char *what) {
  sqlite3_stmt *st = s->stmt[id];
  int ret = -1;
  if (bind_pair(s, st, a, b) != 0) goto out_reset;
  int rc = sqlite3_step(st);
  if (rc == SQLITE_DONE) {
    ret = 1;
  } else if (rc == SQLITE_ROW) {
    *value = copy_column(st, 0, len);
    if (*value == NULL)
      set_err("state store %s: %s: out of memory", s->path, what);
    else
      ret = 0;
  } else {
    set_db_err(s, what);
  }
out_reset:
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  return ret;
}

int dray__state_get(dray__state *s, const char *ns, const char *key,
                    char **value, size_t *len) {
  if (value != NULL) *value = NULL;
  if (len != NULL) *len = 0;
  if (s == NULL || value == NULL) {
    set_err("state store: get: NULL argument");
    return -1;
  }
  if (check_name("namespace", ns) != 0 || check_name("key", key) != 0)
    return -1;
  pthread_mutex_lock(&s->lock);
  int ret = lookup(s, STMT_KV_GET, ns, key, value, len, "get");
  pthread_mutex_unlock(&s->lock);
  return ret;
}

/* Upserts (ns, key) = value. Lock held. */
static int put_locked(dray__state *s, const char *ns, const char *key,
                      const void *value, size_t len) {
  sqlite3_stmt *st = s->stmt[STMT_KV_PUT];
  int ret = -1;
  if (bind_pair(s, st, ns, key) != 0) goto out_reset;
  /* A non-NULL pointer even for len 0: a NULL pointer would bind SQL NULL,
   * which the NOT NULL column refuses. */
  if (sqlite3_bind_blob64(st, 3, len > 0 ? value : (const void *)"",
                          (sqlite3_uint64)len, SQLITE_STATIC) != SQLITE_OK) {
    set_db_err(s, "put: binding value");
    goto out_reset;
  }
  if (sqlite3_step(st) != SQLITE_DONE) {
    set_db_err(s, "put");
    goto out_reset;
  }
  ret = 0;
out_reset:
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  return ret;
}

int dray__state_put(dray__state *s, const char *ns, const char *key,
                    const void *value, size_t len) {
  if (s == NULL || (value == NULL && len > 0)) {
    set_err("state store: put: NULL argument");
    return -1;
  }
  if (check_name("namespace", ns) != 0 || check_name("key", key) != 0)
    return -1;
  pthread_mutex_lock(&s->lock);
  int ret = put_locked(s, ns, key, value, len);
  pthread_mutex_unlock(&s->lock);
  return ret;
}

int dray__state_delete(dray__state *s, const char *ns, const char *key) {
  if (s == NULL) {
    set_err("state store: delete: NULL argument");
    return -1;
  }
  if (check_name("namespace", ns) != 0 || check_name("key", key) != 0)
    return -1;
  pthread_mutex_lock(&s->lock);
  sqlite3_stmt *st = s->stmt[STMT_KV_DELETE];
  int ret = bind_pair(s, st, ns, key);
  if (ret == 0) ret = exec_stmt(s, STMT_KV_DELETE, "delete");
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  pthread_mutex_unlock(&s->lock);
  return ret;
}

/* Strict decimal int64: optional '-', digits only, no blanks, no overflow.
 * The stored bytes are not NUL-terminated, hence the explicit length. */
static int parse_int64(const char *text, size_t len, int64_t *out) {
  char buf[32];
  char *end = NULL;
  if (len == 0 || len >= sizeof buf) return -1;
  memcpy(buf, text, len);
  buf[len] = '\0';
  if (!(buf[0] == '-' || (buf[0] >= '0' && buf[0] <= '9'))) return -1;
  errno = 0;
  long long v = strtoll(buf, &end, 10);
  if (errno != 0 || end != buf + len) return -1;
  *out = (int64_t)v;
  return 0;
}

int dray__state_next(dray__state *s, const char *ns, const char *key,
                     int64_t delta, int64_t *out) {
  char *old = NULL;
  size_t old_len = 0;
  int64_t value = 0;
  char text[32];
  int ret = -1;

  if (s == NULL || out == NULL) {
    set_err("state store: next: NULL argument");
    return -1;
  }
  if (check_name("namespace", ns) != 0 || check_name("key", key) != 0)
    return -1;

  pthread_mutex_lock(&s->lock);
  if (exec_stmt(s, STMT_BEGIN, "next: begin") != 0) goto out_unlock;
  int found = lookup(s, STMT_KV_GET, ns, key, &old, &old_len, "next: read");
  if (found < 0) goto out_rollback;
  if (found == 0 && parse_int64(old, old_len, &value) != 0) {
    set_err("state store %s: next: value of %s/%s is not a decimal integer",
            s->path, ns, key);
    goto out_rollback;
  }
  if ((delta > 0 && value > INT64_MAX - delta) ||
      (delta < 0 && value < INT64_MIN - delta)) {
    set_err("state store %s: next: %s/%s = %" PRId64 " + %" PRId64
            " overflows int64",
            s->path, ns, key, value, delta);
    goto out_rollback;
  }
  value += delta;
  int n = snprintf(text, sizeof text, "%" PRId64, value);
  if (put_locked(s, ns, key, text, (size_t)n) != 0) goto out_rollback;
  if (exec_stmt(s, STMT_COMMIT, "next: commit") != 0) goto out_rollback;
  *out = value;
  ret = 0;
  goto out_unlock;

out_rollback:
  /* Keeps the first error's text: a failing rollback says less. */
  sqlite3_step(s->stmt[STMT_ROLLBACK]);
  sqlite3_reset(s->stmt[STMT_ROLLBACK]);
out_unlock:
  pthread_mutex_unlock(&s->lock);
  free(old);
  return ret;
}

int dray__state_xref_put(dray__state *s, const char *system,
                         const char *local_id, const char *canonical_id) {
  if (s == NULL) {
    set_err("state store: xref_put: NULL argument");
    return -1;
  }
  if (check_name("xref system", system) != 0 ||
      check_name("xref local id", local_id) != 0 ||
      check_name("xref canonical id", canonical_id) != 0)
    return -1;
  pthread_mutex_lock(&s->lock);
  sqlite3_stmt *st = s->stmt[STMT_XREF_PUT];
  int ret = bind_pair(s, st, system, local_id);
  if (ret == 0 &&
      sqlite3_bind_text(st, 3, canonical_id, -1, SQLITE_STATIC) != SQLITE_OK) {
    set_db_err(s, "xref_put: binding canonical id");
    ret = -1;
  }
  if (ret == 0) ret = exec_stmt(s, STMT_XREF_PUT, "xref_put");
  sqlite3_reset(st);
  sqlite3_clear_bindings(st);
  pthread_mutex_unlock(&s->lock);
  return ret;
}

int dray__state_xref_get(dray__state *s, const char *system,
                         const char *local_id, char **canonical_id) {
  if (canonical_id != NULL) *canonical_id = NULL;
  if (s == NULL || canonical_id == NULL) {
    set_err("state store: xref_get: NULL argument");
    return -1;
  }
  if (check_name("xref system", system) != 0 ||
      check_name("xref local id", local_id) != 0)
    return -1;
  pthread_mutex_lock(&s->lock);
  int ret =
      lookup(s, STMT_XREF_GET, system, local_id, canonical_id, NULL, "xref_get");
  pthread_mutex_unlock(&s->lock);
  return ret;
}

const char *dray__state_errmsg(dray__state *s) {
  (void)s;
  return tls_errmsg;
}
