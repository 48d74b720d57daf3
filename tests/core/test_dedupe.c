/* test_dedupe.c - ingress de-duplication on (source, id). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>

#include <cmocka.h>

#include "dedupe.h"

static void test_same_source_and_id_within_the_window_is_a_duplicate(void **s) {
  (void)s;
  struct dray__dedupe *d = dray__dedupe_new(1000, 100);
  assert_int_equal(dray__dedupe_seen(d, "dray://a/x", "1", 0), 0);
  assert_int_equal(dray__dedupe_seen(d, "dray://a/x", "1", 999), 1);
  assert_int_equal(dray__dedupe_seen(d, "dray://a/y", "1", 999), 0); /* other source */
  assert_int_equal(dray__dedupe_seen(d, "dray://a/x", "2", 999), 0);
  /* after the window it is new again */
  assert_int_equal(dray__dedupe_seen(d, "dray://a/x", "1", 1000), 0);
  dray__dedupe_destroy(&d);
}

static void test_capacity_evicts_the_oldest_and_lookups_stay_right(void **s) {
  (void)s;
  struct dray__dedupe *d = dray__dedupe_new(1000000, 1000);
  char id[32];
  for (int i = 0; i < 5000; i++) {
    snprintf(id, sizeof id, "%d", i);
    assert_int_equal(dray__dedupe_seen(d, "src", id, i), 0);
  }
  for (int i = 4000; i < 5000; i++) { /* the newest 1000 are remembered */
    snprintf(id, sizeof id, "%d", i);
    assert_int_equal(dray__dedupe_seen(d, "src", id, 5000), 1);
  }
  snprintf(id, sizeof id, "%d", 3999);
  assert_int_equal(dray__dedupe_seen(d, "src", id, 5000), 0);
  dray__dedupe_destroy(&d);
}

static void test_zero_window_disables_it(void **s) {
  (void)s;
  struct dray__dedupe *d = dray__dedupe_new(0, 10);
  assert_int_equal(dray__dedupe_seen(d, "s", "1", 0), 0);
  assert_int_equal(dray__dedupe_seen(d, "s", "1", 0), 0);
  dray__dedupe_destroy(&d);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_same_source_and_id_within_the_window_is_a_duplicate),
      cmocka_unit_test(test_capacity_evicts_the_oldest_and_lookups_stay_right),
      cmocka_unit_test(test_zero_window_disables_it),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
