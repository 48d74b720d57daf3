/* test_retry.c - backoff bounds, hints, maximum age, and Retry-After
 * values as seconds, as HTTP-dates and as garbage. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>
#include <dray-sdk/retry_after.h>

#include "retry.h"

static void test_full_jitter_stays_under_the_doubling_ceiling_and_the_cap(void **s) {
  (void)s;
  struct dray__retry_policy p;
  dray__retry_policy_default(&p);
  int64_t max_seen[12] = {0};
  srand(7);
  for (int i = 0; i < 20000; i++) {
    uint64_t r = ((uint64_t)rand() << 32) ^ (uint64_t)rand();
    for (unsigned a = 0; a < 12; a++) {
      int64_t d = dray__retry_backoff_ms(&p, a, r);
      int64_t ceiling = 1000LL << a;
      if (ceiling > 300000) ceiling = 300000;
      assert_true(d >= 0 && d < ceiling);
      if (d > max_seen[a]) max_seen[a] = d;
    }
  }
  /* the whole range is used: jitter, not a fixed delay */
  assert_true(max_seen[0] > 900);
  assert_true(max_seen[11] > 270000);
}

static void test_hint_wins_and_maximum_age_dead_letters(void **s) {
  (void)s;
  struct dray__retry_policy p;
  dray__retry_policy_default(&p);
  assert_int_equal(dray__retry_next_ms(&p, 0, 0, 10, 1500, 12345), 1500);
  assert_int_equal(dray__retry_next_ms(&p, 0, 0, 10, 999999999, 1), 300000);
  int64_t day = 24LL * 3600 * 1000;
  assert_int_equal(dray__retry_next_ms(&p, 3, 0, day, -1, 1), -1);
  /* never sleeps past the maximum age */
  assert_int_equal(dray__retry_next_ms(&p, 30, 0, day - 10, 60000, 1), 10);
}

static void test_retry_after_seconds(void **s) {
  (void)s;
  assert_int_equal(dray_retry_after_ms("120", 0), 120000);
  assert_int_equal(dray_retry_after_ms(" 0 ", 0), 0);
  assert_int_equal(dray_retry_after_ms("86401", 0), -1); /* over a day: not trusted */
}

static void test_retry_after_http_dates(void **s) {
  (void)s;
  /* Sun, 06 Nov 1994 08:49:37 GMT = 784111777 */
  int64_t now = 784111777LL * 1000 - 30000;
  assert_int_equal(dray_retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT", now), 30000);
  assert_int_equal(dray_retry_after_ms("Sunday, 06-Nov-94 08:49:37 GMT", now), 30000);
  assert_int_equal(dray_retry_after_ms("Sun Nov  6 08:49:37 1994", now), 30000);
  assert_int_equal(dray_retry_after_ms("Sun, 06 Nov 1994 08:49:37 GMT", now + 60000), 0);
}

static void test_retry_after_garbage_is_refused(void **s) {
  (void)s;
  const char *bad[] = {"", "soon", "-5", "12abc", "1.5", "Sun, 06 Nov 1994", "0x10",
                       "Sun, 32 Nov 1994 08:49:37 GMT trailing", NULL};
  for (int i = 0; bad[i]; i++) assert_int_equal(dray_retry_after_ms(bad[i], 0), -1);
  assert_int_equal(dray_retry_after_ms(NULL, 0), -1);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_full_jitter_stays_under_the_doubling_ceiling_and_the_cap),
      cmocka_unit_test(test_hint_wins_and_maximum_age_dead_letters),
      cmocka_unit_test(test_retry_after_seconds),
      cmocka_unit_test(test_retry_after_http_dates),
      cmocka_unit_test(test_retry_after_garbage_is_refused),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
