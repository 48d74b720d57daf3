/* test_journal.c - the journal's record payload: source, named
 * destinations, the message, and refusals of what is not a journal
 * record. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <cmocka.h>

#include "journal.h"

static dray_msg *order(void) {
  return dray__msg_new("dray://t/src", "dray.order.created.v1", "{\"order_no\":\"PO-1\"}", 19);
}

static void test_a_record_keeps_its_source_and_message(void **s) {
  (void)s;
  dray_msg *m = order();
  dray_buf b;
  dray__buf_init(&b);
  assert_int_equal(dray__journal_encode(&b, "erp_in", NULL, 0, m), 0);
  struct dray__journal_record rec;
  char err[128];
  assert_int_equal(dray__journal_decode(b.data, b.len, &rec, err, sizeof err), 0);
  assert_string_equal(rec.source, "erp_in");
  assert_int_equal(rec.dest_count, 0);
  assert_string_equal(dray__msg_header(rec.msg, "id"), dray__msg_header(m, "id"));
  assert_int_equal(rec.msg->body_len, 19);
  assert_memory_equal(rec.msg->body, "{\"order_no\":\"PO-1\"}", 19);
  dray__journal_record_release(&rec);
  dray__buf_release(&b);
  dray__msg_free(&m);
}

static void test_a_record_with_destinations_round_trips(void **s) {
  (void)s;
  dray_msg *m = order();
  dray_buf b;
  dray__buf_init(&b);
  const char *dests[] = {"tms", "billing"};
  assert_int_equal(dray__journal_encode(&b, "erp_in", dests, 2, m), 0);
  struct dray__journal_record rec;
  char err[128];
  assert_int_equal(dray__journal_decode(b.data, b.len, &rec, err, sizeof err), 0);
  assert_int_equal(rec.dest_count, 2);
  assert_string_equal(rec.dests[0], "tms");
  assert_string_equal(rec.dests[1], "billing");
  assert_null(rec.dests[2]);
  dray__journal_record_release(&rec);
  dray__buf_release(&b);
  dray__msg_free(&m);
}

static void test_foreign_or_cut_records_are_refused_with_a_reason(void **s) {
  (void)s;
  struct dray__journal_record rec;
  char err[128];
  assert_int_equal(dray__journal_decode("DLQ1xxxx", 8, &rec, err, sizeof err), -1);
  assert_string_equal(err, "journal record: bad magic");
  dray_msg *m = order();
  dray_buf b;
  dray__buf_init(&b);
  assert_int_equal(dray__journal_encode(&b, "erp_in", NULL, 0, m), 0);
  for (size_t cut = 4; cut < 12; cut++) {
    err[0] = 0;
    assert_int_equal(dray__journal_decode(b.data, cut, &rec, err, sizeof err), -1);
    assert_non_null(strstr(err, "journal record"));
  }
  dray__buf_release(&b);
  dray__msg_free(&m);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(test_a_record_keeps_its_source_and_message),
      cmocka_unit_test(test_a_record_with_destinations_round_trips),
      cmocka_unit_test(test_foreign_or_cut_records_are_refused_with_a_reason),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
