/* Tests of core/state_store.c: durability across reopen and process kill,
 * atomic counters, binary values, namespace isolation, identity xref. */
#include <errno.h>
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include <setjmp.h>
#include <cmocka.h>

#include <sqlite3.h>

#include "state_store.h"

struct fixture {
  char dir[256];
  char path[300];
};

static int setup(void **state) {
  struct fixture *f = calloc(1, sizeof *f);
  const char *tmp = getenv("TMPDIR");
  if (f == NULL) return -1;
  snprintf(f->dir, sizeof f->dir, "%s/dray-state-XXXXXX",
           tmp != NULL && tmp[0] != '\0' ? tmp : "/tmp");
  if (mkdtemp(f->dir) == NULL) {
    free(f);
    return -1;
  }
  snprintf(f->path, sizeof f->path, "%s/state.db", f->dir);
  *state = f;
  return 0;
}

static void remove_with_suffix(const char *path, const char *suffix) {
  char p[400];
  snprintf(p, sizeof p, "%s%s", path, suffix);
  unlink(p);
}

static int teardown(void **state) {
  struct fixture *f = *state;
  remove_with_suffix(f->path, "");
  remove_with_suffix(f->path, "-wal");
  remove_with_suffix(f->path, "-shm");
  rmdir(f->dir);
  free(f);
  return 0;
}

static dray__state *open_ok(const char *path) {
  char err[512];
  dray__state *s = dray__state_open(path, err, sizeof err);
  if (s == NULL) fail_msg("open %s: %s", path, err);
  return s;
}

static void assert_value(dray__state *s, const char *ns, const char *key,
                         const char *expected) {
  char *value = NULL;
  size_t len = 0;
  int rc = dray__state_get(s, ns, key, &value, &len);
  if (rc != 0) fail_msg("get %s/%s: rc %d (%s)", ns, key, rc,
                        dray__state_errmsg(s));
  assert_int_equal(len, strlen(expected));
  assert_string_equal(value, expected);
  free(value);
}

static void test_values_survive_close_and_reopen(void **state) {
  struct fixture *f = *state;
  dray__state *s = open_ok(f->path);
  int64_t n = 0;
  assert_int_equal(dray__state_put(s, "sap", "cursor", "2026-11-22T08:00Z", 17),
                   0);
  assert_int_equal(dray__state_next(s, "acme_edi", "isa13", 1, &n), 0);
  assert_int_equal(dray__state_next(s, "acme_edi", "isa13", 1, &n), 0);
  assert_int_equal(dray__state_xref_put(s, "sap", "0080001234", "ord_01J"), 0);
  dray__state_close(&s);
  assert_null(s);

  s = open_ok(f->path);
  assert_value(s, "sap", "cursor", "2026-11-22T08:00Z");
  assert_value(s, "acme_edi", "isa13", "2");
  assert_int_equal(dray__state_next(s, "acme_edi", "isa13", 1, &n), 0);
  assert_int_equal(n, 3);
  char *canonical = NULL;
  assert_int_equal(dray__state_xref_get(s, "sap", "0080001234", &canonical), 0);
  assert_string_equal(canonical, "ord_01J");
  free(canonical);
  dray__state_close(&s);
}

static void test_absent_key_is_reported_as_1_and_delete_removes(void **state) {
  struct fixture *f = *state;
  dray__state *s = open_ok(f->path);
  char *value = (char *)"sentinel";
  size_t len = 99;
  assert_int_equal(dray__state_get(s, "ups", "token", &value, &len), 1);
  assert_null(value);
  assert_int_equal(len, 0);

  assert_int_equal(dray__state_put(s, "ups", "token", "abc", 3), 0);
  assert_value(s, "ups", "token", "abc");
  assert_int_equal(dray__state_put(s, "ups", "token", "defg", 4), 0);
  assert_value(s, "ups", "token", "defg");
  assert_int_equal(dray__state_delete(s, "ups", "token"), 0);
  assert_int_equal(dray__state_get(s, "ups", "token", &value, &len), 1);
  /* Deleting what is not there is not an error. */
  assert_int_equal(dray__state_delete(s, "ups", "token"), 0);
  dray__state_close(&s);
}

static void test_binary_value_with_nul_bytes_round_trips(void **state) {
  struct fixture *f = *state;
  dray__state *s = open_ok(f->path);
  unsigned char blob[300];
  for (size_t i = 0; i < sizeof blob; i++) blob[i] = (unsigned char)(i * 7);
  blob[0] = 0;
  blob[150] = 0;
  blob[299] = 0;
  assert_int_equal(dray__state_put(s, "billing", "snapshot", blob, sizeof blob),
                   0);
  dray__state_close(&s);

  s = open_ok(f->path);
  char *value = NULL;
  size_t len = 0;
  assert_int_equal(dray__state_get(s, "billing", "snapshot", &value, &len), 0);
  assert_int_equal(len, sizeof blob);
  assert_memory_equal(value, blob, sizeof blob);
  assert_int_equal(value[len], '\0'); /* terminated beyond len */
  free(value);

  /* An empty value is a value, not an absence. */
  assert_int_equal(dray__state_put(s, "billing", "empty", NULL, 0), 0);
  assert_int_equal(dray__state_get(s, "billing", "empty", &value, &len), 0);
  assert_int_equal(len, 0);
  assert_string_equal(value, "");
  free(value);
  dray__state_close(&s);
}

static void test_namespaces_are_isolated(void **state) {
  struct fixture *f = *state;
  dray__state *s = open_ok(f->path);
  int64_t n = 0;
  assert_int_equal(dray__state_put(s, "partner_a", "cursor", "A", 1), 0);
  assert_int_equal(dray__state_put(s, "partner_b", "cursor", "B", 1), 0);
  assert_int_equal(dray__state_next(s, "partner_a", "isa13", 5, &n), 0);
  assert_int_equal(dray__state_next(s, "partner_b", "isa13", 1, &n), 0);
  assert_int_equal(n, 1);
  assert_value(s, "partner_a", "cursor", "A");
  assert_value(s, "partner_b", "cursor", "B");
  assert_value(s, "partner_a", "isa13", "5");
  assert_int_equal(dray__state_delete(s, "partner_a", "cursor"), 0);
  assert_value(s, "partner_b", "cursor", "B");
  char *value = NULL;
  assert_int_equal(dray__state_get(s, "partner_c", "cursor", &value, NULL), 1);
  dray__state_close(&s);
}

#define NEXT_THREADS 2
#define NEXT_PER_THREAD 10000

struct next_worker {
  dray__state *s;
  int64_t got[NEXT_PER_THREAD];
  int failures;
};

static void *next_worker_run(void *arg) {
  struct next_worker *w = arg;
  for (int i = 0; i < NEXT_PER_THREAD; i++) {
    if (dray__state_next(w->s, "acme_edi", "gs06", 1, &w->got[i]) != 0)
      w->failures++;
  }
  return NULL;
}

static void test_next_is_atomic_under_two_threads(void **state) {
  struct fixture *f = *state;
  dray__state *s = open_ok(f->path);
  static struct next_worker workers[NEXT_THREADS];
  pthread_t threads[NEXT_THREADS];
  const int64_t total = (int64_t)NEXT_THREADS * NEXT_PER_THREAD;

  for (int t = 0; t < NEXT_THREADS; t++) {
    memset(&workers[t], 0, sizeof workers[t]);
    workers[t].s = s;
    assert_int_equal(
        pthread_create(&threads[t], NULL, next_worker_run, &workers[t]), 0);
  }
  for (int t = 0; t < NEXT_THREADS; t++) pthread_join(threads[t], NULL);

  /* Every value 1..total handed out exactly once: no gap, no duplicate. */
  unsigned char *seen = calloc((size_t)total + 1, 1);
  assert_non_null(seen);
  for (int t = 0; t < NEXT_THREADS; t++) {
    assert_int_equal(workers[t].failures, 0);
    int64_t prev = 0;
    for (int i = 0; i < NEXT_PER_THREAD; i++) {
      int64_t v = workers[t].got[i];
      assert_in_range(v, 1, total);
      assert_int_equal(seen[v], 0);
      seen[v] = 1;
      assert_true(v > prev); /* one thread sees its own values increase */
      prev = v;
    }
  }
  for (int64_t v = 1; v <= total; v++) assert_int_equal(seen[v], 1);
  free(seen);

  char expected[32];
  snprintf(expected, sizeof expected, "%" PRId64, total);
  assert_value(s, "acme_edi", "gs06", expected);
  dray__state_close(&s);
}

static void test_next_on_non_integer_value_fails_and_keeps_it(void **state) {
  struct fixture *f = *state;
  dray__state *s = open_ok(f->path);
  int64_t n = 42;
  assert_int_equal(dray__state_put(s, "x12", "ctl", "12a", 3), 0);
  assert_int_equal(dray__state_next(s, "x12", "ctl", 1, &n), -1);
  assert_int_equal(n, 42);
  assert_non_null(strstr(dray__state_errmsg(s), "x12/ctl"));
  assert_non_null(strstr(dray__state_errmsg(s), "not a decimal integer"));
  assert_value(s, "x12", "ctl", "12a");

  assert_int_equal(dray__state_put(s, "x12", "max", "9223372036854775807", 19),
                   0);
  assert_int_equal(dray__state_next(s, "x12", "max", 1, &n), -1);
  assert_non_null(strstr(dray__state_errmsg(s), "overflows"));
  assert_value(s, "x12", "max", "9223372036854775807");

  /* Negative deltas work (a counter may be walked back by an operator). */
  assert_int_equal(dray__state_next(s, "x12", "down", -3, &n), 0);
  assert_int_equal(n, -3);
  assert_value(s, "x12", "down", "-3");
  dray__state_close(&s);
}

static void test_xref_maps_local_ids_and_reports_unknown(void **state) {
  struct fixture *f = *state;
  dray__state *s = open_ok(f->path);
  char *canonical = (char *)"sentinel";
  assert_int_equal(dray__state_xref_get(s, "ups", "1Z999", &canonical), 1);
  assert_null(canonical);
  assert_int_equal(dray__state_xref_put(s, "ups", "1Z999", "shp_1"), 0);
  assert_int_equal(dray__state_xref_put(s, "fedex", "1Z999", "shp_2"), 0);
  assert_int_equal(dray__state_xref_get(s, "ups", "1Z999", &canonical), 0);
  assert_string_equal(canonical, "shp_1");
  free(canonical);
  assert_int_equal(dray__state_xref_get(s, "fedex", "1Z999", &canonical), 0);
  assert_string_equal(canonical, "shp_2");
  free(canonical);
  /* A later mapping of the same pair replaces the earlier one. */
  assert_int_equal(dray__state_xref_put(s, "ups", "1Z999", "shp_3"), 0);
  assert_int_equal(dray__state_xref_get(s, "ups", "1Z999", &canonical), 0);
  assert_string_equal(canonical, "shp_3");
  free(canonical);
  /* xref is site-wide, kv per instance: the two never meet. */
  char *value = NULL;
  assert_int_equal(dray__state_get(s, "ups", "1Z999", &value, NULL), 1);
  dray__state_close(&s);
}

static void test_bad_arguments_are_errors_not_crashes(void **state) {
  struct fixture *f = *state;
  dray__state *s = open_ok(f->path);
  char *value = NULL;
  int64_t n = 0;
  assert_int_equal(dray__state_put(s, "", "k", "v", 1), -1);
  assert_non_null(strstr(dray__state_errmsg(s), "namespace"));
  assert_int_equal(dray__state_get(s, "ns", NULL, &value, NULL), -1);
  assert_non_null(strstr(dray__state_errmsg(s), "key"));
  assert_int_equal(dray__state_next(s, "ns", "k", 1, NULL), -1);
  assert_int_equal(dray__state_xref_put(s, "sap", "1", ""), -1);
  assert_non_null(strstr(dray__state_errmsg(s), "canonical"));
  assert_int_equal(dray__state_get(NULL, "ns", "k", &value, NULL), -1);
  assert_int_equal(dray__state_next(s, "ns", "k", 1, &n), 0);
  assert_int_equal(n, 1);
  dray__state_close(&s);
  dray__state_close(&s); /* no-op on NULL */
}

static void test_open_of_non_database_file_names_the_path(void **state) {
  struct fixture *f = *state;
  FILE *fp = fopen(f->path, "w");
  assert_non_null(fp);
  for (int i = 0; i < 64; i++) fputs("this is not a database, ", fp);
  fclose(fp);
  char err[512] = "";
  dray__state *s = dray__state_open(f->path, err, sizeof err);
  assert_null(s);
  assert_non_null(strstr(err, f->path));
  assert_non_null(strstr(err, "not a database"));
}

static void test_open_refuses_newer_schema(void **state) {
  struct fixture *f = *state;
  dray__state *s = open_ok(f->path);
  dray__state_close(&s);
  sqlite3 *db = NULL;
  assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
  assert_int_equal(sqlite3_exec(db, "PRAGMA user_version = 99", NULL, NULL,
                                NULL),
                   SQLITE_OK);
  sqlite3_close(db);
  char err[512] = "";
  s = dray__state_open(f->path, err, sizeof err);
  assert_null(s);
  assert_non_null(strstr(err, "schema version 99"));
}

static void test_open_in_missing_directory_fails_clearly(void **state) {
  struct fixture *f = *state;
  char path[400];
  char err[512] = "";
  snprintf(path, sizeof path, "%s/no/such/dir/state.db", f->dir);
  assert_null(dray__state_open(path, err, sizeof err));
  assert_non_null(strstr(err, path));
}

static void test_in_memory_store_works_without_a_file(void **state) {
  char err[512] = "";
  dray__state *s = dray__state_open(":memory:", err, sizeof err);
  if (s == NULL) fail_msg("open :memory:: %s", err);
  int64_t n = 0;
  assert_int_equal(dray__state_next(s, "convert", "isa13", 1, &n), 0);
  assert_int_equal(dray__state_next(s, "convert", "isa13", 1, &n), 0);
  assert_int_equal(n, 2);
  assert_value(s, "convert", "isa13", "2");
  dray__state_close(&s);
}

/* A child increments a counter and writes a key per increment, reporting
 * each acknowledged value on a pipe; it is SIGKILLed mid-loop. The store
 * must open afterwards and hold everything the child was told is durable. */
static void test_killed_writer_keeps_every_acknowledged_value(void **state) {
  struct fixture *f = *state;
  int fds[2];
  assert_int_equal(pipe(fds), 0);
  pid_t pid = fork();
  assert_true(pid >= 0);
  if (pid == 0) {
    close(fds[0]);
    char err[512];
    dray__state *s = dray__state_open(f->path, err, sizeof err);
    if (s == NULL) _exit(2);
    for (;;) {
      int64_t n = 0;
      char key[32];
      if (dray__state_next(s, "crash", "ctl", 1, &n) != 0) _exit(3);
      snprintf(key, sizeof key, "doc%" PRId64, n);
      if (dray__state_put(s, "crash", key, key, strlen(key)) != 0) _exit(4);
      if (write(fds[1], &n, sizeof n) != (ssize_t)sizeof n) _exit(5);
    }
  }
  close(fds[1]);

  /* Let it get well into the loop, then kill it without warning. */
  int64_t last = 0;
  int64_t n = 0;
  while (last < 200 && read(fds[0], &n, sizeof n) == (ssize_t)sizeof n)
    last = n;
  assert_int_equal(kill(pid, SIGKILL), 0);
  int status = 0;
  assert_int_equal(waitpid(pid, &status, 0), pid);
  assert_true(WIFSIGNALED(status));
  /* Reports already in the pipe were acknowledged before the kill. */
  while (read(fds[0], &n, sizeof n) == (ssize_t)sizeof n) last = n;
  close(fds[0]);
  assert_true(last >= 200);

  dray__state *s = open_ok(f->path);
  char *value = NULL;
  size_t len = 0;
  int64_t stored = 0;
  assert_int_equal(dray__state_get(s, "crash", "ctl", &value, &len), 0);
  stored = strtoll(value, NULL, 10);
  free(value);
  /* The counter may be one past the last report (committed, not yet
   * reported), never behind it. */
  assert_true(stored >= last);
  assert_true(stored <= last + 1);
  for (int64_t i = 1; i <= last; i++) {
    char key[32];
    snprintf(key, sizeof key, "doc%" PRId64, i);
    assert_value(s, "crash", key, key);
  }
  /* The store keeps working after recovery. */
  assert_int_equal(dray__state_next(s, "crash", "ctl", 1, &n), 0);
  assert_int_equal(n, stored + 1);
  dray__state_close(&s);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test_setup_teardown(test_values_survive_close_and_reopen,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(
          test_absent_key_is_reported_as_1_and_delete_removes, setup,
          teardown),
      cmocka_unit_test_setup_teardown(
          test_binary_value_with_nul_bytes_round_trips, setup, teardown),
      cmocka_unit_test_setup_teardown(test_namespaces_are_isolated, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(test_next_is_atomic_under_two_threads,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(
          test_next_on_non_integer_value_fails_and_keeps_it, setup, teardown),
      cmocka_unit_test_setup_teardown(
          test_xref_maps_local_ids_and_reports_unknown, setup, teardown),
      cmocka_unit_test_setup_teardown(test_bad_arguments_are_errors_not_crashes,
                                      setup, teardown),
      cmocka_unit_test_setup_teardown(
          test_open_of_non_database_file_names_the_path, setup, teardown),
      cmocka_unit_test_setup_teardown(test_open_refuses_newer_schema, setup,
                                      teardown),
      cmocka_unit_test_setup_teardown(
          test_open_in_missing_directory_fails_clearly, setup, teardown),
      cmocka_unit_test(test_in_memory_store_works_without_a_file),
      cmocka_unit_test_setup_teardown(
          test_killed_writer_keeps_every_acknowledged_value, setup, teardown),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
