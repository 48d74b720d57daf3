/* test_breaker.c - the circuit breaker's promises (DESIGN.md §4). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>

#include <cmocka.h>

#include "breaker.h"

static void fail_n(struct dray__breaker *b, int64_t now, int n) {
  for (int i = 0; i < n; i++) {
    int64_t w;
    assert_true(dray__breaker_allow(b, now, &w));
    dray__breaker_record(b, now, DRAY_OUTCOME_FAILURE);
  }
}

static void test_breaker_opens_after_five_consecutive_failures(void **s) {
  (void)s;
  struct dray__breaker b;
  dray__breaker_init(&b, NULL);
  fail_n(&b, 0, 4);
  assert_int_equal(dray__breaker_state(&b), DRAY_BREAKER_CLOSED);
  int64_t w;
  assert_true(dray__breaker_allow(&b, 0, &w));
  assert_int_equal(dray__breaker_record(&b, 0, DRAY_OUTCOME_FAILURE), DRAY_BREAKER_OPEN);
  dray__breaker_destroy(&b);
}

static void test_no_calls_while_open_then_three_probes_close_it(void **s) {
  (void)s;
  struct dray__breaker b;
  dray__breaker_init(&b, NULL);
  fail_n(&b, 1000, 5);
  int64_t w = 0;
  for (int64_t t = 1000; t < 31000; t += 997) {
    assert_false(dray__breaker_allow(&b, t, &w));
    assert_int_equal(w, 31000 - t);
  }
  /* half-open: exactly three probes go through */
  assert_true(dray__breaker_allow(&b, 31000, &w));
  assert_true(dray__breaker_allow(&b, 31000, &w));
  assert_true(dray__breaker_allow(&b, 31000, &w));
  assert_false(dray__breaker_allow(&b, 31000, &w));
  assert_int_equal(dray__breaker_record(&b, 31001, DRAY_OUTCOME_SUCCESS), -1);
  assert_int_equal(dray__breaker_record(&b, 31002, DRAY_OUTCOME_SUCCESS), -1);
  assert_int_equal(dray__breaker_record(&b, 31003, DRAY_OUTCOME_SUCCESS), DRAY_BREAKER_CLOSED);
  assert_true(dray__breaker_allow(&b, 31004, &w));
  dray__breaker_destroy(&b);
}

static void test_failed_probe_reopens_for_twice_as_long_up_to_the_cap(void **s) {
  (void)s;
  struct dray__breaker b;
  dray__breaker_init(&b, NULL);
  fail_n(&b, 0, 5);
  int64_t now = 30000, expect_open = 60000, w;
  for (int round = 0; round < 6; round++) {
    assert_true(dray__breaker_allow(&b, now, &w));
    assert_int_equal(dray__breaker_record(&b, now, DRAY_OUTCOME_FAILURE), DRAY_BREAKER_OPEN);
    assert_false(dray__breaker_allow(&b, now + expect_open - 1, &w));
    now += expect_open;
    expect_open = expect_open * 2 > 300000 ? 300000 : expect_open * 2;
  }
  dray__breaker_destroy(&b);
}

static void test_half_of_the_last_twenty_calls_failing_opens_it(void **s) {
  (void)s;
  struct dray__breaker b;
  dray__breaker_init(&b, NULL);
  int64_t w;
  /* alternate: never 5 in a row, but 50 % of the window after 10 calls */
  for (int i = 0; i < 9; i++) {
    assert_true(dray__breaker_allow(&b, 0, &w));
    dray__breaker_record(&b, 0, i % 2 ? DRAY_OUTCOME_FAILURE : DRAY_OUTCOME_SUCCESS);
  }
  assert_int_equal(dray__breaker_state(&b), DRAY_BREAKER_CLOSED);
  assert_true(dray__breaker_allow(&b, 0, &w));
  assert_int_equal(dray__breaker_record(&b, 0, DRAY_OUTCOME_FAILURE), DRAY_BREAKER_OPEN);
  dray__breaker_destroy(&b);
}

static void test_rejects_and_throttling_do_not_trip_it(void **s) {
  (void)s;
  struct dray__breaker b;
  dray__breaker_init(&b, NULL);
  int64_t w;
  for (int i = 0; i < 100; i++) {
    assert_true(dray__breaker_allow(&b, i, &w));
    assert_int_equal(dray__breaker_record(&b, i, DRAY_OUTCOME_NEUTRAL), -1);
  }
  assert_int_equal(dray__breaker_state(&b), DRAY_BREAKER_CLOSED);
  dray__breaker_destroy(&b);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_breaker_opens_after_five_consecutive_failures),
      cmocka_unit_test(test_no_calls_while_open_then_three_probes_close_it),
      cmocka_unit_test(test_failed_probe_reopens_for_twice_as_long_up_to_the_cap),
      cmocka_unit_test(test_half_of_the_last_twenty_calls_failing_opens_it),
      cmocka_unit_test(test_rejects_and_throttling_do_not_trip_it),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
